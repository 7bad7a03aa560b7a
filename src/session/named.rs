//! Named sessions: a headless nvim per name, listening on
//! `sessions/NAME.sock`, started in its own process group so it outlives
//! every window (and a crashed or killed vireo).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rmpv::Value;

use super::client::{Client, ClientError};
use super::{DirError, SESSION_LUA};

/// How long `--sessions` waits for each nvim before saying "busy".
pub const LIST_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a new session's nvim gets to open its socket.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long requests to an attached session may take (opening files).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum NamedError {
    #[error(transparent)]
    Dir(#[from] DirError),
    #[error("'{0}' is not a session name: use letters, digits, '.', '_' and '-' (not first '.')")]
    BadName(String),
    #[error("could not start nvim '{}' for session '{name}': {}", .binary.display(), crate::util::io_reason(.source))]
    Spawn { name: String, binary: PathBuf, source: std::io::Error },
    #[error("the nvim of session '{name}' exited at start ({status})")]
    Died { name: String, status: String },
    #[error("the nvim of session '{name}' did not open {} within {START_TIMEOUT:?}", .socket.display())]
    NoSocket { name: String, socket: PathBuf },
    #[error("there is no session '{0}' (`vireo --sessions` lists them)")]
    NoSuchSession(String),
    #[error("session '{name}': {source}")]
    Rpc { name: String, source: ClientError },
    #[error("session '{name}' has unsaved changes in {}; save them, or use --force to discard them", .buffers.join(", "))]
    Modified { name: String, buffers: Vec<String> },
    #[error("session '{name}' did not quit: {why}")]
    DidNotQuit { name: String, why: String },
}

/// A session's name, checked: it becomes a file name.
pub fn check_name(name: &str) -> Result<(), NamedError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(()) } else { Err(NamedError::BadName(name.to_owned())) }
}

/// Where session `name`'s nvim listens.
pub fn socket_path(name: &str) -> Result<PathBuf, NamedError> {
    check_name(name)?;
    Ok(super::private_dir("sessions")?.join(format!("{name}.sock")))
}

/// What is at a session's socket.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    Alive,
    /// A socket file nobody listens on (its nvim died): removed.
    Stale,
    Missing,
}

fn probe(socket: &Path) -> Probe {
    match std::os::unix::net::UnixStream::connect(socket) {
        Ok(_) => Probe::Alive,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Probe::Missing,
        Err(_) => {
            match std::fs::remove_file(socket) {
                Ok(()) => log::info!("removed the stale socket {}", socket.display()),
                Err(e) => log::warn!("could not remove the stale socket {}: {e}", socket.display()),
            }
            Probe::Stale
        }
    }
}

/// Makes sure session `name` runs: starts `binary --headless --listen
/// SOCKET ARGS` in the caller's directory and environment if it does not.
/// Returns the socket and whether it was started now.
pub fn ensure(name: &str, binary: &Path, args: &[String]) -> Result<(PathBuf, bool), NamedError> {
    let socket = socket_path(name)?;
    if probe(&socket) == Probe::Alive {
        return Ok((socket, false));
    }
    let mut cmd = Command::new(binary);
    cmd.arg("--headless")
        .arg("--listen")
        .arg(&socket)
        .args(args)
        .env_remove("VIREO_FORKED")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for name in crate::own_env::variables() {
        cmd.env_remove(name);
    }
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid(2) is async-signal-safe; it gives nvim a session
        // and process group of its own, so neither the terminal's hangup
        // nor a signal to vireo's group reaches it.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    let spawn_error = |source| NamedError::Spawn { name: name.to_owned(), binary: binary.to_owned(), source };
    let mut child = cmd.spawn().map_err(spawn_error)?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(NamedError::Died { name: name.to_owned(), status: status.to_string() });
        }
        if let Ok(mut client) = Client::connect(&socket) {
            // The idle clock starts now, and the session's Lua is there
            // before any window attaches.
            if let Err(e) = client.lua(SESSION_LUA, vec![], CALL_TIMEOUT) {
                log::warn!("session '{name}': setting up its Lua failed: {e}");
            }
            break;
        }
        if Instant::now() > deadline {
            return Err(NamedError::NoSocket { name: name.to_owned(), socket });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Reaps nvim if it exits while this vireo runs (a blocked thread costs
    // nothing); if vireo exits first, init adopts it.
    std::thread::Builder::new()
        .name("vireo-session-reaper".into())
        .spawn(move || {
            child.wait().ok();
        })
        .ok();
    Ok((socket, true))
}

/// Opens `files` (absolute paths) in the session at `socket`.
pub fn open_files(name: &str, socket: &Path, files: &[PathBuf]) -> Result<(), NamedError> {
    if files.is_empty() {
        return Ok(());
    }
    let rpc = |source| NamedError::Rpc { name: name.to_owned(), source };
    let mut client = Client::connect(socket).map_err(|e| rpc(e.into()))?;
    client.lua(SESSION_LUA, vec![], CALL_TIMEOUT).map_err(rpc)?;
    let files: Vec<Value> = files.iter().map(|f| f.to_string_lossy().into_owned().into()).collect();
    let code = "require('vireo.session').open(...)";
    client.lua(code, vec![Value::Array(files), false.into()], CALL_TIMEOUT).map_err(rpc)?;
    Ok(())
}

/// One line of `--sessions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub pid: Option<u32>,
    pub cwd: Option<PathBuf>,
    /// `None`: nvim did not answer in time (busy).
    pub status: Option<Status>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub uis: u64,
    pub modified: Vec<String>,
    /// `None` where nvim does not keep vireo's idle clock.
    pub idle_secs: Option<u64>,
}

/// Every running session, by name; stale sockets are removed on the way
/// (their names are returned second).
pub fn list() -> Result<(Vec<Listed>, Vec<String>), NamedError> {
    let dir = super::private_dir("sessions")?;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".sock").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let (mut listed, mut stale) = (Vec::new(), Vec::new());
    for name in names {
        let socket = dir.join(format!("{name}.sock"));
        let Ok(mut client) = Client::connect(&socket) else {
            if probe(&socket) != Probe::Alive {
                stale.push(name);
            }
            continue;
        };
        let pid = client.peer_pid();
        let cwd = pid.and_then(|p| std::fs::read_link(format!("/proc/{p}/cwd")).ok());
        listed.push(Listed { name, pid, cwd, status: status(&mut client, LIST_TIMEOUT) });
    }
    Ok((listed, stale))
}

/// Asks nvim what `--sessions` shows; `None` when it is busy: it does not
/// answer within `timeout`, or it waits for input (`getchar()`, a prompt),
/// where only `nvim_get_mode` is answered.
fn status(client: &mut Client, timeout: Duration) -> Option<Status> {
    let mode = client.call("nvim_get_mode", vec![], timeout).ok()?;
    let blocking = mode
        .as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("blocking")))
        .and_then(|(_, v)| v.as_bool());
    if blocking != Some(false) {
        return None;
    }
    let v = client.lua(STATUS_LUA, vec![], timeout).ok()?;
    let field = |key: &str| v.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v.clone());
    let modified = field("modified")
        .and_then(|m| m.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()))
        .unwrap_or_default();
    Some(Status {
        uis: field("uis").and_then(|v| v.as_u64()).unwrap_or(0),
        modified,
        idle_secs: field("idle").and_then(|v| v.as_u64()),
    })
}

/// What `--sessions` shows: attached UIs, modified buffers (names), idle
/// seconds (known where vireo's session Lua keeps the clock).
const STATUS_LUA: &str = r#"
local modified = {}
for _, b in ipairs(vim.api.nvim_list_bufs()) do
  if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].modified then
    local name = vim.api.nvim_buf_get_name(b)
    table.insert(modified, name == '' and '[No Name]' or vim.fn.fnamemodify(name, ':~:.'))
  end
end
local s = package.loaded['vireo.session']
local idle = s and math.floor((vim.uv.hrtime() - s.last_key) / 1e9) or vim.NIL
return { uis = #vim.api.nvim_list_uis(), modified = modified, idle = idle }
"#;

/// `--sessions`' table.
pub fn format_list(listed: &[Listed]) -> String {
    let mut rows = vec![["NAME", "PID", "UIS", "MODIFIED", "IDLE", "CWD"].map(str::to_owned)];
    for l in listed {
        let pid = l.pid.map_or("?".into(), |p| p.to_string());
        let cwd = l.cwd.as_ref().map_or("?".into(), |c| c.display().to_string());
        let (uis, modified, idle) = match &l.status {
            Some(s) => {
                (s.uis.to_string(), s.modified.len().to_string(), s.idle_secs.map_or("?".into(), idle_text))
            }
            None => ("busy".into(), "busy".into(), "busy".into()),
        };
        rows.push([l.name.clone(), pid, uis, modified, idle, cwd]);
    }
    let widths: Vec<usize> =
        (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn idle_text(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d", secs / 86400),
    }
}

/// `--kill-session NAME`: quits the session's nvim the way `:confirm qa`
/// would, refusing while buffers are modified unless `force`.
pub fn kill(name: &str, force: bool) -> Result<(), NamedError> {
    let socket = socket_path(name)?;
    if probe(&socket) != Probe::Alive {
        return Err(NamedError::NoSuchSession(name.to_owned()));
    }
    let rpc = |source| NamedError::Rpc { name: name.to_owned(), source };
    let mut client = Client::connect(&socket).map_err(|e| rpc(e.into()))?;
    let pid = client.peer_pid();
    if force {
        client.notify("nvim_command", vec!["qa!".into()]).map_err(rpc)?;
        if !client.wait_closed(Duration::from_secs(5)) {
            // Busy or stuck: SIGTERM, which preserves the swap files, then
            // SIGKILL for an nvim too busy to handle it.
            let Some(pid) = pid.and_then(|p| libc::pid_t::try_from(p).ok()) else {
                return Err(NamedError::DidNotQuit {
                    name: name.to_owned(),
                    why: "`:qa!` had no effect".into(),
                });
            };
            for signal in [libc::SIGTERM, libc::SIGKILL] {
                // SAFETY: kill(2) takes plain integers.
                unsafe { libc::kill(pid, signal) };
                let deadline = Instant::now() + Duration::from_secs(5);
                while super::alive(pid as u32) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if !super::alive(pid as u32) {
                    break;
                }
            }
            // Killed, nvim leaves its socket behind.
            if probe(&socket) == Probe::Stale {
                log::info!("session '{name}': its nvim was stopped with a signal");
            }
        }
    } else {
        let Some(status) = status(&mut client, CALL_TIMEOUT) else {
            return Err(NamedError::DidNotQuit {
                name: name.to_owned(),
                why: "its nvim is busy (waiting for input or running a command); --force stops it".into(),
            });
        };
        if !status.modified.is_empty() {
            return Err(NamedError::Modified { name: name.to_owned(), buffers: status.modified });
        }
        // nvim answers only when `:qa` fails (a running job): quitting, it
        // closes the connection instead.
        match client.call("nvim_command", vec!["qa".into()], CALL_TIMEOUT) {
            Ok(_) => {}
            Err(ClientError::Nvim(why)) => return Err(NamedError::DidNotQuit { name: name.to_owned(), why }),
            Err(ClientError::Closed) => {}
            Err(e) => return Err(rpc(e)),
        }
    }
    // nvim removes its socket as it exits.
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid.is_some_and(super::alive) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if probe(&socket) == Probe::Alive {
        return Err(NamedError::DidNotQuit { name: name.to_owned(), why: "it is still running".into() });
    }
    Ok(())
}

/// `vireo --sessions`: prints the table; the exit status.
pub fn command_list() -> u8 {
    match list() {
        Ok((listed, stale)) => {
            for name in stale {
                eprintln!("vireo: session '{name}' was gone (its nvim had exited): removed its socket");
            }
            if listed.is_empty() {
                println!("no sessions");
            } else {
                print!("{}", format_list(&listed));
            }
            0
        }
        Err(e) => {
            eprintln!("vireo: {e}");
            1
        }
    }
}

/// `vireo --kill-session NAME [--force]`: the exit status.
pub fn command_kill(name: &str, force: bool) -> u8 {
    match kill(name, force) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("vireo: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_become_file_names_safely() {
        for good in ["work", "a.b_c-1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "..", "sp ace", "x\0"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_listing_says_busy_for_a_session_that_did_not_answer() {
        let listed = [
            Listed {
                name: "work".into(),
                pid: Some(42),
                cwd: Some("/src".into()),
                status: Some(Status { uis: 2, modified: vec!["a".into()], idle_secs: Some(125) }),
            },
            Listed { name: "stuck".into(), pid: Some(7), cwd: None, status: None },
        ];
        let text = format_list(&listed);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME   PID  UIS   MODIFIED  IDLE  CWD");
        assert_eq!(lines[1], "work   42   2     1         2m    /src");
        assert_eq!(lines[2], "stuck  7    busy  busy      busy  ?");
    }
}
