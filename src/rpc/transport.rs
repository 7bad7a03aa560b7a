//! The byte streams a session runs over: an embedded child's stdio, or a
//! socket to a running `nvim --listen` server.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::process::{Child, Command};

pub type BoxReader = Pin<Box<dyn AsyncRead + Send>>;
pub type BoxWriter = Pin<Box<dyn AsyncWrite + Send>>;

/// How to get a Neovim vireo can use, for the messages about a missing or
/// too old one: distributions' own packages are often older than 0.10.
pub const GET_NEOVIM: &str = "get Neovim 0.10 or newer from https://github.com/neovim/neovim/releases \
     (Debian 12's and Ubuntu 22.04's own packages are older; Homebrew, winget and Flatpak have current ones)";

/// Why no connection to nvim could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "could not find the nvim binary '{}' (looked on PATH={path}); \
         {}, or point vireo at it with --nvim PATH or $VIREO_NVIM",
        .binary.display(), GET_NEOVIM
    )]
    NotFound { binary: PathBuf, path: String },
    #[error("could not start '{}': {}", .binary.display(), crate::util::io_reason(.source))]
    Spawn { binary: PathBuf, source: std::io::Error },
    #[error("could not connect to the nvim server at '{addr}': {}", crate::util::io_reason(.source))]
    Server { addr: String, source: std::io::Error },
}

/// An `nvim --embed` child process with its stdio.
pub struct Embedded {
    pub child: Child,
    pub reader: BoxReader,
    pub writer: BoxWriter,
}

/// Spawns `BINARY --embed ARGS...`. stderr is inherited so nvim's own
/// complaints reach the user's terminal.
pub fn spawn_embedded(binary: &Path, args: &[String]) -> Result<Embedded, ConnectError> {
    let mut command = Command::new(binary);
    for name in crate::own_env::variables() {
        command.env_remove(name);
    }
    let mut child = command
        .arg("--embed")
        .args(args)
        // The mark of a vireo started by `--fork`: not for a vireo that
        // nvim itself runs.
        .env_remove("VIREO_FORKED")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // Never SIGKILL on drop (a panicking IO thread drops it): nvim then
        // sees its input close and exits by itself, keeping unsaved work in
        // its swap files. Shutting down on purpose kills it explicitly.
        .kill_on_drop(false)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ConnectError::NotFound {
                binary: binary.to_owned(),
                path: std::env::var("PATH").unwrap_or_default(),
            },
            _ => ConnectError::Spawn { binary: binary.to_owned(), source },
        })?;
    let stdout = child.stdout.take().expect("stdout was configured as piped");
    let stdin = child.stdin.take().expect("stdin was configured as piped");
    Ok(Embedded { child, reader: Box::pin(stdout), writer: Box::pin(stdin) })
}

/// Checks, before anything else starts, that `binary` names a file that
/// exists: a bare name is looked up on PATH as spawning would. Lets vireo
/// report a missing nvim before it opens a window.
pub fn check_binary(binary: &Path) -> Result<(), ConnectError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = if binary.components().count() > 1 || binary.is_absolute() {
        binary.is_file()
    } else {
        std::env::split_paths(&path).any(|dir| dir.join(binary).is_file())
    };
    if found {
        return Ok(());
    }
    Err(ConnectError::NotFound { binary: binary.to_owned(), path: path.to_string_lossy().into_owned() })
}

/// Checks that a unix-socket address exists before vireo opens a window.
pub fn check_server(addr: &str) -> Result<(), ConnectError> {
    if is_tcp_address(addr) || Path::new(addr).exists() {
        return Ok(());
    }
    let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no such socket");
    Err(ConnectError::Server { addr: addr.to_owned(), source })
}

/// Connects to `nvim --listen ADDR`: `HOST:PORT` is TCP, anything else is a
/// unix socket path.
pub async fn connect(addr: &str) -> Result<(BoxReader, BoxWriter), ConnectError> {
    let err = |source| ConnectError::Server { addr: addr.to_owned(), source };
    if is_tcp_address(addr) {
        let stream = tokio::net::TcpStream::connect(addr).await.map_err(err)?;
        stream.set_nodelay(true).map_err(err)?;
        let (r, w) = stream.into_split();
        return Ok((Box::pin(r), Box::pin(w)));
    }
    #[cfg(unix)]
    {
        let stream = tokio::net::UnixStream::connect(addr).await.map_err(err)?;
        let (r, w) = stream.into_split();
        Ok((Box::pin(r), Box::pin(w)))
    }
    #[cfg(not(unix))]
    Err(err(std::io::Error::other("only HOST:PORT addresses are supported here")))
}

/// `host:port` with a numeric port and no path separator.
fn is_tcp_address(addr: &str) -> bool {
    match addr.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_tcp_from_unix_socket_paths() {
        assert!(is_tcp_address("127.0.0.1:6666"));
        assert!(is_tcp_address("localhost:7777"));
        assert!(is_tcp_address("[::1]:7777"));
        assert!(!is_tcp_address("/tmp/nvim.sock"));
        assert!(!is_tcp_address("./dir:1/sock"));
        assert!(!is_tcp_address("sock"));
    }

    #[test]
    fn a_binary_is_checked_on_path_before_starting() {
        assert!(check_binary(Path::new("sh")).is_ok());
        assert!(check_binary(Path::new("/bin/sh")).is_ok());
        let err = check_binary(Path::new("nvim-that-is-not-there")).unwrap_err().to_string();
        assert!(err.contains("'nvim-that-is-not-there'") && err.contains("PATH="), "{err}");
        assert!(check_binary(Path::new("./missing/nvim")).is_err());
        assert!(check_server("/nonexistent/nvim.sock").unwrap_err().to_string().contains("no such socket"));
        assert!(check_server("localhost:6666").is_ok());
    }

    #[test]
    fn missing_binary_names_what_was_tried() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _guard = rt.enter();
        let err = spawn_embedded(Path::new("/nonexistent/nvim-xyz"), &[]).err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/nvim-xyz"), "{msg}");
        assert!(msg.contains("--nvim"), "{msg}");
    }
}
