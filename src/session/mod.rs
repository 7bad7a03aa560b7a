//! Named, detachable sessions and vireo's control socket.
//!
//! ```text
//!   $XDG_RUNTIME_DIR/vireo/          0700, owned by the user (checked)
//!     sessions/NAME.sock             nvim --headless --listen, own process group
//!     control/PID.sock               each window's control socket (0600)
//!     control/PID.json               its connection file (0600): key, session
//!
//!   vireo --session NAME ──► named::ensure ──► window attaches as --server
//!   vireo --sessions / --kill-session ──► client.rs (own connection, deadlines)
//!   vireo --remote* ──► remote.rs ──► control.rs (HMAC-signed) ──► the window's
//!                                     control thread ──► nvim (query lane)
//! ```
//!
//! Tooling never shares a queue with the user's keys: the command-line tools
//! open their own connection to nvim, and the control thread uses the query
//! lane, which the writer drains after the input lane.

#[cfg(unix)]
pub mod client;
pub mod command;
#[cfg(unix)]
pub mod control;
#[cfg(unix)]
pub mod named;
#[cfg(unix)]
pub mod remote;

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What closing a window attached to a running nvim (`--session`,
/// `--server`) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DetachOnQuit {
    /// Quit nvim as a window of its own would (`confirm_quit` applies).
    AlwaysQuit,
    /// Leave nvim running with everything in it; only the window closes.
    AlwaysDetach,
    /// nvim asks "Detach or quit?".
    #[default]
    Prompt,
}

/// What the window does when asked to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseAction {
    /// Close the window now; nvim keeps running.
    Detach,
    /// Type these keys into nvim (it quits, or asks).
    Keys(String),
}

/// Decides what closing the window does. `detachable`: nvim is a server
/// that outlives the window; `channel`: the window's channel in nvim.
pub fn close_action(detachable: bool, how: DetachOnQuit, confirm_quit: bool, channel: i64) -> CloseAction {
    let quit = if confirm_quit { "confirm qa" } else { "qa" };
    match (detachable, how) {
        (false, _) | (true, DetachOnQuit::AlwaysQuit) => CloseAction::Keys(format!("<C-\\><C-n>:{quit}<CR>")),
        (true, DetachOnQuit::AlwaysDetach) => CloseAction::Detach,
        (true, DetachOnQuit::Prompt) => CloseAction::Keys(format!(
            "<C-\\><C-n>:lua require('vireo.session').close({channel}, '{quit}')<CR>"
        )),
    }
}

/// Run in nvim by every window of a session and by `--session` when it
/// creates one: the close prompt, `--remote-wait`'s bookkeeping and the
/// idle clock `--sessions` reads. Loaded once per nvim.
pub const SESSION_LUA: &str = r#"
if package.loaded['vireo.session'] then return end
local M = { last_key = vim.uv.hrtime(), waits = {} }
package.loaded['vireo.session'] = M
vim.on_key(function() M.last_key = vim.uv.hrtime() end, vim.api.nvim_create_namespace('vireo_session_idle'))

-- Closing a window of a session: detach it, or quit nvim the usual way.
function M.close(chan, quit)
  local answer = vim.fn.confirm('Detach from this session, or quit nvim?', '&Detach\n&Quit\n&Cancel', 1)
  if answer == 1 then
    pcall(vim.rpcnotify, chan, 'vireo_leaving')
    vim.fn.chanclose(chan)
  elseif answer == 2 then
    local ok, err = pcall(vim.cmd, quit)
    if not ok then vim.api.nvim_echo({ { tostring(err), 'ErrorMsg' } }, true, {}) end
  end
end

-- --remote: opens absolute paths; with `wait`, each in a tab page of its
-- own (so :wq closes that, never nvim), each buffer wiped when hidden, and
-- `done(id, status)` called once all are gone: 0 closed, 2 abandoned
-- (:VireoAbort, or closed with unsaved changes).
function M.open(files, wait, id, done)
  if #files == 0 then return end
  local bufs = {}
  for _, f in ipairs(files) do
    vim.cmd((wait and 'tabedit ' or 'drop ') .. vim.fn.fnameescape(f))
    table.insert(bufs, vim.api.nvim_get_current_buf())
  end
  if not wait then return end
  local left, status = #bufs, 0
  local group = vim.api.nvim_create_augroup('vireo_remote_wait_' .. id, {})
  for _, b in ipairs(bufs) do
    vim.bo[b].bufhidden = 'wipe'
    vim.b[b].vireo_remote_wait = id
    vim.api.nvim_create_autocmd('BufWipeout', { group = group, buffer = b, once = true, callback = function()
      if vim.bo[b].modified or vim.b[b].vireo_abort then status = 2 end
      left = left - 1
      if left == 0 then
        pcall(vim.api.nvim_del_augroup_by_id, group)
        done(id, status)
      end
    end })
  end
end

vim.api.nvim_create_user_command('VireoAbort', function()
  local b = vim.api.nvim_get_current_buf()
  if vim.b[b].vireo_remote_wait == nil then
    vim.api.nvim_echo({ { 'VireoAbort: this buffer is not waited for by vireo --remote-wait', 'ErrorMsg' } }, true, {})
    return
  end
  vim.b[b].vireo_abort = true
  vim.cmd('bwipeout! ' .. b)
end, { desc = 'Close a vireo --remote-wait buffer so the waiting command fails' })
"#;

/// Why vireo will not use its runtime directory.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("could not create {}: {}", .path.display(), crate::util::io_reason(.source))]
    Create { path: PathBuf, source: std::io::Error },
    #[error(
        "{} is not safe for vireo's sockets and keys: {why}; \
         vireo uses only a folder that belongs to you and that nobody else can open (chmod 700 it)",
        .path.display()
    )]
    Unsafe { path: PathBuf, why: String },
}

/// `$XDG_RUNTIME_DIR/vireo`, or `/tmp/vireo-UID` where that is unset.
pub fn base_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("vireo"),
        None => std::env::temp_dir().join(format!("vireo-{}", current_uid())),
    }
}

/// `base_dir()/SUB`, created 0700 where missing, and checked to belong to
/// this user and be closed to others (the parent too).
#[cfg(unix)]
pub fn private_dir(sub: &str) -> Result<PathBuf, DirError> {
    let base = base_dir();
    ensure_private(&base)?;
    let dir = base.join(sub);
    ensure_private(&dir)?;
    Ok(dir)
}

#[cfg(unix)]
fn ensure_private(path: &Path) -> Result<(), DirError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(DirError::Create { path: path.to_owned(), source }),
    }
    let unsafe_because = |why: String| DirError::Unsafe { path: path.to_owned(), why };
    let meta = std::fs::symlink_metadata(path).map_err(|e| unsafe_because(crate::util::io_reason(&e)))?;
    if !meta.is_dir() {
        return Err(unsafe_because("it is not a folder (a link or a file)".into()));
    }
    if meta.uid() != current_uid() {
        return Err(unsafe_because(format!(
            "it belongs to uid {}, not to you (uid {})",
            meta.uid(),
            current_uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_because(format!("others can open it (mode {mode:03o})")));
    }
    Ok(())
}

pub fn current_uid() -> u32 {
    #[cfg(unix)]
    // SAFETY: getuid(2) cannot fail and touches no memory.
    return unsafe { libc::getuid() };
    #[cfg(not(unix))]
    0
}

/// Who is at the other end of a unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub pid: u32,
    pub uid: u32,
}

/// The peer's process and user, as the kernel recorded them at connect
/// time (`SO_PEERCRED`): the peer cannot forge them.
#[cfg(target_os = "linux")]
pub fn peer_credentials(stream: &impl std::os::fd::AsRawFd) -> std::io::Result<Credentials> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, a ucred
    // of exactly that size that outlives the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Credentials { pid: u32::try_from(cred.pid).unwrap_or(0), uid: cred.uid })
}

/// The peer's user (`getpeereid`); its process is not known here.
#[cfg(all(unix, not(target_os = "linux")))]
pub fn peer_credentials(stream: &impl std::os::fd::AsRawFd) -> std::io::Result<Credentials> {
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: getpeereid writes two integers we own.
    if unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Credentials { pid: 0, uid })
}

/// Whether process `pid` exists.
#[cfg(unix)]
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    // EPERM: it exists, as another user's.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_a_session_window_follows_detach_on_quit() {
        assert_eq!(
            close_action(false, DetachOnQuit::AlwaysDetach, true, 3),
            CloseAction::Keys("<C-\\><C-n>:confirm qa<CR>".into())
        );
        assert_eq!(close_action(true, DetachOnQuit::AlwaysDetach, true, 3), CloseAction::Detach);
        assert_eq!(
            close_action(true, DetachOnQuit::AlwaysQuit, false, 3),
            CloseAction::Keys("<C-\\><C-n>:qa<CR>".into())
        );
        let CloseAction::Keys(keys) = close_action(true, DetachOnQuit::Prompt, true, 7) else { panic!() };
        assert!(keys.contains(".close(7, 'confirm qa')"), "{keys}");
    }

    #[test]
    fn detach_on_quit_is_a_knob_with_three_values_and_prompt_by_default() {
        use crate::settings::Settings;
        let mut s = Settings::default();
        assert_eq!(s.detach_on_quit, DetachOnQuit::Prompt);
        s.set("detach_on_quit", toml::Value::String("always_detach".into())).unwrap();
        assert_eq!(s.detach_on_quit, DetachOnQuit::AlwaysDetach);
        let err = s.set("detach_on_quit", toml::Value::String("sometimes".into())).unwrap_err().to_string();
        assert!(err.contains("\"always_quit\", \"always_detach\" or \"prompt\""), "{err}");
        assert_eq!(s.detach_on_quit, DetachOnQuit::AlwaysDetach, "a refused value keeps the previous one");
        assert!(
            crate::settings::live::LIVE_KNOBS.contains(&"detach_on_quit"),
            "g:vireo_detach_on_quit applies live"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_open_is_refused_and_says_why() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("vireo-private-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        ensure_private(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = ensure_private(&dir).unwrap_err().to_string();
        assert!(err.contains("others can open it (mode 755)") && err.contains("chmod 700"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
