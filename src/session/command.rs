//! What `main` asks of sessions: the commands that need no window
//! (`--sessions`, `--kill-session`, `--remote*`), the target of
//! `--session NAME`, and a window's control socket.

use crate::cli::Cli;
use crate::nvim::Target;
use crate::rpc::RequestTable;
use crate::settings::Settings;

/// What a command line about sessions leaves to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Early {
    /// Done: exit with this status.
    Exit(u8),
    /// `--remote*` found no window: become one (in the background when
    /// `fork`), with the files.
    StartWindow { fork: bool },
}

/// Runs the commands that need no window; `None` for everything else.
/// `forked`: this is the vireo `--fork` started, which only opens the window.
pub fn early(cli: &Cli, forked: bool) -> Option<Early> {
    #[cfg(unix)]
    {
        use super::{named, remote};
        if forked {
            return None;
        }
        if cli.sessions {
            return Some(Early::Exit(named::command_list()));
        }
        if let Some(name) = &cli.kill_session {
            return Some(Early::Exit(named::command_kill(name, cli.force)));
        }
        let request = if let Some(keys) = &cli.remote_send {
            remote::Remote::Send(keys.clone())
        } else if let Some(expr) = &cli.remote_expr {
            remote::Remote::Expr(expr.clone())
        } else if cli.remote || cli.remote_wait {
            remote::Remote::Open { files: cli.files.clone(), wait: cli.remote_wait }
        } else {
            return None;
        };
        let cwd = match std::env::current_dir() {
            Ok(cwd) => cwd,
            Err(e) => {
                eprintln!("vireo: the working directory: {}", crate::util::io_reason(&e));
                return Some(Early::Exit(remote::status::FAILED));
            }
        };
        // Waiting, the window is this process: EDITOR semantics.
        Some(match remote::run(&request, cli.session.as_deref(), &cwd) {
            Some(code) => Early::Exit(code),
            None => Early::StartWindow { fork: cli.remote },
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (cli, forked);
        None
    }
}

/// `--session NAME`: the session's socket, its nvim started if need be,
/// and FILES opened in it (relative to the working directory).
#[cfg(unix)]
pub fn target(cli: &Cli, settings: &Settings) -> anyhow::Result<Option<Target>> {
    use anyhow::Context;

    use super::named;
    let Some(name) = cli.session.as_deref() else { return Ok(None) };
    let binary = settings.neovim_bin.clone().unwrap_or_else(crate::nvim::locate::default_binary);
    let (socket, started) = named::ensure(name, &binary, &cli.nvim_args)?;
    if !started && !cli.nvim_args.is_empty() {
        log::warn!("session '{name}' runs already: the nvim arguments after -- are not used");
    }
    let cwd = std::env::current_dir().context("the working directory")?;
    let files: Vec<_> = cli.files.iter().map(|f| cwd.join(f)).collect();
    named::open_files(name, &socket, &files)?;
    Ok(Some(Target::Server(socket.to_string_lossy().into_owned())))
}

#[cfg(not(unix))]
pub fn target(cli: &Cli, _: &Settings) -> anyhow::Result<Option<Target>> {
    match cli.session {
        Some(_) => anyhow::bail!("--session needs unix sockets, which this platform's vireo does not use"),
        None => Ok(None),
    }
}

/// A window's control socket (`--remote*` reach the window through it):
/// `requests` with the handler it needs, and a problem to show in nvim if
/// it could not start (the window works without it).
pub fn control(cli: &Cli, requests: RequestTable) -> (RequestTable, Option<String>) {
    #[cfg(unix)]
    return super::remote::serve(cli.session.clone(), requests);
    #[cfg(not(unix))]
    {
        let _ = cli;
        (requests, None)
    }
}

/// The window closed: removes its control socket and connection file.
pub fn control_done() {
    #[cfg(unix)]
    super::remote::stop();
}
