//! `--remote`, `--remote-wait`, `--remote-send` and `--remote-expr`: the
//! command that sends them over the control socket, and what the window
//! does with them.
//!
//! ```text
//!   vireo --remote-wait F ──► control socket ──► window's control thread
//!                                                 │ nvim_exec_lua (query lane):
//!                                                 │ open F, bufhidden=wipe
//!       (blocks)                                  ▼
//!   exit 0 / 2 ◄── signed reply ◄── waits ◄── rpcrequest 'vireo_remote_done'
//!                                             (nvim, when F is wiped out)
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rmpv::Value as Mp;
use serde_json::{Value, json};

use super::control::{self, ConnectionFile, ControlError, Server};
use crate::rpc::{Lane, RequestTable, Session};

/// The request nvim makes when every buffer of one `--remote-wait` is gone.
pub const DONE: &str = "vireo_remote_done";
/// How long nvim gets to open files or evaluate an expression.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Exit statuses of `--remote-wait` (also in the README).
pub mod status {
    /// Every buffer was closed.
    pub const CLOSED: u8 = 0;
    /// No window could be reached, or it (or its nvim) ended first.
    pub const FAILED: u8 = 1;
    /// A buffer was abandoned: `:VireoAbort`, or closed with unsaved changes.
    pub const ABANDONED: u8 = 2;
}

/// What a `--remote*` command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    Open { files: Vec<PathBuf>, wait: bool },
    Send(String),
    Expr(String),
}

/// The window's side: its nvim session and window, once there.
struct Link {
    /// nvim's session and the window's channel, once attached.
    session: Mutex<Option<(Session, i64)>>,
    attached: std::sync::Condvar,
    raise: Mutex<Option<Box<dyn Fn() + Send>>>,
    server: Mutex<Option<Server>>,
    waits: Mutex<HashMap<u64, crossbeam_channel::Sender<u8>>>,
    next_wait: AtomicU64,
}

static LINK: OnceLock<Arc<Link>> = OnceLock::new();

fn link() -> &'static Arc<Link> {
    LINK.get_or_init(|| {
        Arc::new(Link {
            session: Mutex::new(None),
            attached: std::sync::Condvar::new(),
            raise: Mutex::new(None),
            server: Mutex::new(None),
            waits: Mutex::new(HashMap::new()),
            next_wait: AtomicU64::new(1),
        })
    })
}

/// Starts this window's control socket (a problem is returned, for the
/// user to see in nvim: the window works without it) and adds the handler
/// `--remote-wait` needs to `requests`.
pub fn serve(session: Option<String>, requests: RequestTable) -> (RequestTable, Option<String>) {
    let handler: control::Handler = Arc::new(|header, content| handle(&header.msg_type, content));
    let problem = match Server::start(session, handler) {
        Ok(server) => {
            *link().server.lock().unwrap_or_else(PoisonError::into_inner) = Some(server);
            None
        }
        Err(e) => Some(format!("no control socket, so `vireo --remote` cannot reach this window: {e}")),
    };
    let requests = requests.on(DONE, |params| {
        let id = params.first().and_then(Mp::as_u64).unwrap_or(0);
        let status =
            params.get(1).and_then(Mp::as_u64).and_then(|s| u8::try_from(s).ok()).unwrap_or(status::FAILED);
        let waiting = link().waits.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        if let Some(tx) = waiting {
            // The waiting command may have gone away meanwhile.
            tx.send(status).ok();
        }
        Ok(Mp::Nil)
    });
    (requests, problem)
}

/// The window closed: its control socket and connection file go.
pub fn stop() {
    link().server.lock().unwrap_or_else(PoisonError::into_inner).take();
}

/// The window is attached: requests can reach nvim from now on.
pub fn attached(session: &Session, channel: i64) {
    *link().session.lock().unwrap_or_else(PoisonError::into_inner) = Some((session.clone(), channel));
    link().attached.notify_all();
}

/// How long a request waits for a window that is still starting.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(30);

/// nvim's session, waiting for the attach if the window is starting.
fn session() -> Option<(Session, i64)> {
    let guard = link().session.lock().unwrap_or_else(PoisonError::into_inner);
    let (guard, _) = link()
        .attached
        .wait_timeout_while(guard, ATTACH_TIMEOUT, |s| s.is_none())
        .unwrap_or_else(PoisonError::into_inner);
    guard.clone()
}

/// How the control thread raises the window (through the event loop).
pub fn on_raise(raise: impl Fn() + Send + 'static) {
    *link().raise.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(raise));
}

/// The window got the focus: `--remote` without `--session` picks it.
pub fn focused() {
    if let Some(server) = link().server.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        server.touch();
    }
}

fn raise() {
    if let Some(raise) = link().raise.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        raise();
    }
}

const OPEN_LUA: &str = r#"
local files, wait, id, chan = ...
require('vireo.session').open(files, wait, id, function(i, status)
  pcall(vim.rpcrequest, chan, 'vireo_remote_done', i, status)
end)
"#;

/// Answers one checked request.
fn handle(msg_type: &str, content: Value) -> Value {
    let Some((session, channel)) = session() else {
        return json!({ "error": "the window did not attach to nvim in time" });
    };
    let text = |key: &str| content.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    match msg_type {
        "open" => {
            let wait = content.get("wait").and_then(Value::as_bool).unwrap_or(false);
            let files: Vec<Mp> = content
                .get("files")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(Mp::from).collect())
                .unwrap_or_default();
            let id = link().next_wait.fetch_add(1, Ordering::Relaxed);
            let (tx, rx) = crossbeam_channel::bounded(1);
            if wait {
                link().waits.lock().unwrap_or_else(PoisonError::into_inner).insert(id, tx);
            }
            let args = vec![
                OPEN_LUA.into(),
                Mp::Array(vec![Mp::Array(files), wait.into(), id.into(), channel.into()]),
            ];
            let opened =
                session.call_blocking_timeout(Lane::Query, "nvim_exec_lua", args, Some(CALL_TIMEOUT));
            raise();
            match opened {
                Ok(Some(_)) if wait => match rx.recv() {
                    Ok(status) => json!({ "status": status }),
                    Err(_) => json!({ "error": "the window stopped waiting" }),
                },
                Ok(Some(_)) => json!({ "status": 0 }),
                Ok(None) => json!({ "error": "nvim is busy: it did not open the files within 10 s" }),
                Err(e) => json!({ "error": e.to_string() }),
            }
        }
        "send" => match session.input(&text("keys")) {
            Ok(()) => json!({ "status": 0 }),
            Err(e) => json!({ "error": e.to_string() }),
        },
        "expr" => {
            let args = vec![text("expr").into()];
            match session.call_blocking_timeout(Lane::Query, "nvim_eval", args, Some(CALL_TIMEOUT)) {
                Ok(Some(v)) => json!({ "status": 0, "value": display(&v) }),
                Ok(None) => json!({ "error": "nvim is busy: no answer within 10 s" }),
                Err(e) => json!({ "error": e.to_string() }),
            }
        }
        other => json!({ "error": format!("unknown request '{other}'") }),
    }
}

/// A value as `--remote-expr` prints it: strings as they are.
fn display(v: &Mp) -> String {
    match v {
        Mp::String(s) => {
            s.as_str().map_or_else(|| String::from_utf8_lossy(s.as_bytes()).into_owned(), str::to_owned)
        }
        Mp::Nil => "v:null".into(),
        Mp::Boolean(b) => format!("v:{b}"),
        other => other.to_string(),
    }
}

/// Where connection files are: `VIREO_TEST_CONTROL_DIR` (tests), else
/// vireo's private `control/` folder.
fn control_dir() -> Result<PathBuf, super::DirError> {
    match std::env::var_os("VIREO_TEST_CONTROL_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => super::private_dir("control"),
    }
}

/// The windows that can be reached, the most recently focused first (of
/// session `name` only, if given). Files of windows that are gone are
/// removed on the way.
pub fn windows(session: Option<&str>) -> Result<Vec<ConnectionFile>, super::DirError> {
    let dir = control_dir()?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let file = match control::read_connection_file(&path) {
            Ok(f) => f,
            Err(e) => {
                log::warn!("{e}");
                continue;
            }
        };
        if !super::alive(file.pid) {
            std::fs::remove_file(&file.socket).ok();
            std::fs::remove_file(&path).ok();
            continue;
        }
        if session.is_some_and(|name| file.session.as_deref() != Some(name)) {
            continue;
        }
        let used = entry.metadata().and_then(|m| m.modified()).ok();
        found.push((used, file));
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    Ok(found.into_iter().map(|(_, f)| f).collect())
}

/// Runs a `--remote*` command; `None` when no window runs and one should
/// be started instead (only for opening files).
pub fn run(remote: &Remote, session: Option<&str>, cwd: &Path) -> Option<u8> {
    let windows = match windows(session) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("vireo: {e}");
            return Some(status::FAILED);
        }
    };
    let (msg_type, content) = match remote {
        Remote::Open { files, wait } => {
            // The caller's directory, not nvim's.
            let files: Vec<String> =
                files.iter().map(|f| cwd.join(f).to_string_lossy().into_owned()).collect();
            ("open", json!({ "files": files, "wait": wait }))
        }
        Remote::Send(keys) => ("send", json!({ "keys": keys })),
        Remote::Expr(expr) => ("expr", json!({ "expr": expr })),
    };
    for window in &windows {
        let answer = match control::request(window, msg_type, &content) {
            Ok(a) => a,
            // Gone between the listing and now: the next one.
            Err(ControlError::Io(_, e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Err(e) => {
                eprintln!("vireo: {e}");
                return Some(status::FAILED);
            }
        };
        if let Some(error) = answer.get("error").and_then(Value::as_str) {
            eprintln!("vireo: {error}");
            return Some(status::FAILED);
        }
        if let Some(value) = answer.get("value").and_then(Value::as_str) {
            println!("{value}");
        }
        let code = answer.get("status").and_then(Value::as_u64).unwrap_or(u64::from(status::FAILED));
        return Some(u8::try_from(code).unwrap_or(status::FAILED));
    }
    if matches!(remote, Remote::Open { .. }) {
        return None;
    }
    match session {
        Some(name) => eprintln!("vireo: no vireo window is attached to session '{name}'"),
        None => eprintln!("vireo: no vireo window is running"),
    }
    Some(status::FAILED)
}
