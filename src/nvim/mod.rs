//! Starting or reaching nvim, attaching as a UI, and turning its redraw
//! stream into frames on a dedicated IO thread.

pub mod locate;
pub mod redraw;
pub mod ui;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use rmpv::{Value, ValueRef};

use crate::model::{Cursor, Frame};
use crate::rpc::transport::{self, BoxReader, BoxWriter, ConnectError};
use crate::rpc::{Dispatch, Recorder, RequestTable, RpcError, Session, SessionError};
pub use redraw::ExtTypes;
use ui::UiState;

/// The oldest nvim vireo works with.
pub const MIN_VERSION: (u64, u64) = (0, 10);

/// How to reach nvim.
#[derive(Debug, Clone)]
pub enum Target {
    /// Spawn `binary --embed args...`.
    Embed { binary: PathBuf, args: Vec<String> },
    /// Connect to `nvim --listen ADDR` (unix socket path or HOST:PORT).
    Server(String),
}

/// Everything needed to start a UI session.
pub struct StartOptions {
    pub target: Target,
    pub cols: usize,
    pub rows: usize,
    /// Copy every message nvim sends to this file (`--record`).
    pub record: Option<PathBuf>,
    /// Handlers for `rpcrequest()` calls from nvim.
    pub requests: RequestTable,
    /// Lua chunks run before attaching (before the user's config), each
    /// given vireo's channel id and then its own arguments as `...`.
    pub init_lua: Vec<LuaChunk>,
    /// Fill rows vacated by scrolling with this text (tests only).
    pub scroll_fill: Option<String>,
    /// Called on the IO thread after each frame is published and when the
    /// session ends, so a sleeping UI loop can wake (no polling).
    pub wake: Option<Wake>,
}

/// Lua for [`StartOptions::init_lua`].
#[derive(Debug, Clone, PartialEq)]
pub struct LuaChunk {
    pub code: String,
    /// Passed after the channel id.
    pub args: Vec<Value>,
}

impl LuaChunk {
    pub fn new(code: &str, args: Vec<Value>) -> LuaChunk {
        LuaChunk { code: code.to_owned(), args }
    }
}

/// See [`StartOptions::wake`].
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// `nvim_get_api_info`, the parts vireo uses.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiInfo {
    pub channel: i64,
    pub version: (u64, u64, u64),
    pub ext: ExtTypes,
}

/// Why the UI could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{what} failed: {source}")]
    Rpc { what: &'static str, source: RpcError },
    #[error("nvim_get_api_info returned something vireo cannot read: {0}")]
    BadApiInfo(String),
    #[error(
        "nvim {}.{}.{} is too old: vireo needs Neovim >= {}.{} (use --nvim PATH or $VIREO_NVIM to pick another); {}",
        .found.0, .found.1, .found.2, MIN_VERSION.0, MIN_VERSION.1, transport::GET_NEOVIM
    )]
    TooOld { found: (u64, u64, u64) },
    #[error("could not open the record file '{}': {source}", .path.display())]
    Record { path: PathBuf, source: std::io::Error },
    #[error("the IO thread could not start: {0}")]
    Thread(std::io::Error),
    #[error(
        "nvim did not answer within {0:?} of starting, so vireo gave up attaching \
         (is it Neovim >= 0.10, and not waiting at a prompt?)"
    )]
    Timeout(Duration),
    #[error("nvim went away during start-up: {0}")]
    Ended(String),
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The embedded nvim exited with this status.
    Exited(i32),
    /// The embedded nvim was killed by this signal (a crash or `kill`).
    Signaled(i32),
    /// The server closed the connection.
    ServerClosed,
    /// The window detached from a running nvim, which goes on.
    Detached,
    /// The connection broke or nvim sent garbage; nvim was stopped.
    Failed(String),
}

impl Exit {
    /// The process status vireo should exit with.
    pub fn status(&self) -> i32 {
        match self {
            Exit::Exited(code) => *code,
            Exit::Signaled(sig) => 128 + sig,
            Exit::ServerClosed | Exit::Detached => 0,
            Exit::Failed(_) => 1,
        }
    }

    /// A message for the user when the exit was not a normal one.
    pub fn message(&self) -> Option<String> {
        match self {
            Exit::Exited(0) | Exit::ServerClosed | Exit::Detached => None,
            Exit::Exited(code) => Some(format!("nvim exited with status {code}")),
            Exit::Signaled(sig) => Some(format!("nvim was killed by signal {sig} ({})", signal_name(*sig))),
            Exit::Failed(why) => Some(format!("the connection to nvim failed: {why}")),
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "unknown signal",
    }
}

/// A notification other than `redraw`, forwarded to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub method: String,
    pub params: Vec<Value>,
}

/// How many non-redraw notifications wait for the app before newer ones
/// are dropped: plugins may `rpcnotify` vireo's channel at any rate, and
/// memory must not grow with what nobody has read yet.
pub const NOTIFICATION_BACKLOG: usize = 1024;

/// A running UI session: the RPC handle plus the streams the app consumes.
pub struct Connection {
    pub session: Session,
    pub api: ApiInfo,
    /// One frame per nvim `flush`.
    pub frames: Receiver<Frame>,
    /// Non-redraw notifications, in order; at most [`NOTIFICATION_BACKLOG`]
    /// wait here, later ones are dropped (and logged) until it drains.
    pub notifications: Receiver<Notification>,
    /// Receives exactly one value when the session is over.
    pub exit: Receiver<Exit>,
    /// Stops `--record` when taken (set to `None`).
    pub recorder: Option<Recorder>,
    io_thread: Option<std::thread::JoinHandle<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Connection {
    /// Stops recording: everything nvim sends from now on is not saved.
    pub fn stop_recording(&self) {
        if let Some(rec) = &self.recorder {
            let mut guard = rec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(mut out) = guard.take()
                && let Err(e) = out.flush()
            {
                log::error!("finishing the recording failed: {e}");
            }
        }
    }

    /// Shows `messages` in nvim as errors, each prefixed `vireo: `; they
    /// stay in `:messages`. For problems found before nvim could be told.
    pub fn echo_errors(&self, messages: &[String]) {
        if messages.is_empty() {
            return;
        }
        let text = messages.iter().map(|m| format!("vireo: {m}")).collect::<Vec<_>>().join("\n");
        let chunks = Value::Array(vec![Value::Array(vec![text.into(), "ErrorMsg".into()])]);
        let args = vec![chunks, true.into(), Value::Map(vec![])];
        if let Err(e) = self.session.notify(crate::rpc::Lane::Query, "nvim_echo", args) {
            log::warn!("could not show vireo's problems in nvim: {e}");
        }
    }

    /// Ends the session now: an embedded nvim is told to quit, its changes
    /// dropped, and killed if it has not within a second (only for tools
    /// such as snapshots that own the whole session).
    pub fn shutdown(mut self) {
        self.stop_recording();
        if let Some(tx) = self.shutdown.take() {
            // The IO thread may already be gone; that is the goal anyway.
            tx.send(()).ok();
        }
        if let Some(t) = self.io_thread.take()
            && t.join().is_err()
        {
            log::error!("the IO thread panicked");
        }
    }
}

use std::io::Write as _;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Spawns or connects to nvim on a new IO thread, checks its version and
/// attaches as a UI. Returns once attached; frames then flow.
pub fn start(opts: StartOptions) -> Result<Connection, StartError> {
    start_async(opts)?.wait()
}

/// A session that is starting: nvim is being spawned and attached on the
/// IO thread while the caller does other work (opening a window).
pub struct Starting {
    ready: Receiver<Result<(Session, ApiInfo), StartError>>,
    frames: Receiver<Frame>,
    notifications: Receiver<Notification>,
    exit: Receiver<Exit>,
    recorder: Option<Recorder>,
    io_thread: std::thread::JoinHandle<()>,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Starting {
    /// Waits until nvim is attached (or failed to start).
    pub fn wait(self) -> Result<Connection, StartError> {
        let (session, api) = match self.ready.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Ok(ready)) => ready,
            Ok(Err(e)) => {
                if self.io_thread.join().is_err() {
                    log::error!("the IO thread panicked");
                }
                return Err(e);
            }
            Err(_) => {
                self.stop();
                return Err(StartError::Timeout(STARTUP_TIMEOUT));
            }
        };
        Ok(Connection {
            session,
            api,
            frames: self.frames,
            notifications: self.notifications,
            exit: self.exit,
            recorder: self.recorder,
            io_thread: Some(self.io_thread),
            shutdown: Some(self.shutdown),
        })
    }

    /// Gives up on the session, attached or not: an embedded nvim is told
    /// to quit (and killed if it does not), then the IO thread is joined.
    pub fn stop(self) {
        self.shutdown.send(()).ok();
        if self.io_thread.join().is_err() {
            log::error!("the IO thread panicked");
        }
    }
}

/// Like [`start`], without waiting for the attach.
pub fn start_async(opts: StartOptions) -> Result<Starting, StartError> {
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
    let (frames_tx, frames_rx) = crossbeam_channel::unbounded();
    let (notes_tx, notes_rx) = crossbeam_channel::bounded(NOTIFICATION_BACKLOG);
    let (exit_tx, exit_rx) = crossbeam_channel::bounded(1);
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel();
    let recorder: Option<Recorder> = match &opts.record {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|source| StartError::Record { path: path.clone(), source })?;
            let out: Box<dyn std::io::Write + Send> = Box::new(std::io::BufWriter::new(file));
            Some(Arc::new(std::sync::Mutex::new(Some(out))))
        }
        None => None,
    };
    let io_recorder = recorder.clone();
    let io_thread = std::thread::Builder::new()
        .name("vireo-io".into())
        .spawn(move || {
            // Declared first, dropped last: the UI wakes to find the
            // channels closed even if this thread panics.
            let _wake_on_exit = WakeOnExit(opts.wake.clone());
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    ready_tx.send(Err(StartError::Thread(e))).ok();
                    return;
                }
            };
            let channels = IoChannels {
                wake: opts.wake.clone(),
                frames: frames_tx,
                notes: notes_tx,
                exit: exit_tx,
                ready: ready_tx,
            };
            rt.block_on(io_main(opts, io_recorder, channels, shutdown_rx));
        })
        .map_err(StartError::Thread)?;
    Ok(Starting {
        ready: ready_rx,
        frames: frames_rx,
        notifications: notes_rx,
        exit: exit_rx,
        recorder,
        io_thread,
        shutdown: shutdown_tx,
    })
}

/// Wakes the UI when the IO thread ends, however it ends.
struct WakeOnExit(Option<Wake>);

impl Drop for WakeOnExit {
    fn drop(&mut self) {
        if let Some(wake) = &self.0 {
            wake();
        }
    }
}

struct IoChannels {
    wake: Option<Wake>,
    frames: Sender<Frame>,
    notes: Sender<Notification>,
    exit: Sender<Exit>,
    ready: Sender<Result<(Session, ApiInfo), StartError>>,
}

/// Routes nvim's notifications: redraw into the model, the rest onward.
struct Sink {
    wake: Option<Wake>,
    ui: UiState,
    ext: Arc<OnceLock<ExtTypes>>,
    frames: Sender<Frame>,
    notes: Sender<Notification>,
    /// Notifications dropped since the backlog was last below its bound.
    dropped: u64,
    /// nvim said it is quitting ([`LEAVING`]).
    leaving: Arc<AtomicBool>,
    /// The cursor of the frame last published.
    published_cursor: Option<Cursor>,
    /// A held frame's wake is owed (see [`COMMAND_HOLD`]): the next
    /// frame's wake pays it, or else a timer does.
    wake_owed: Arc<AtomicBool>,
}

/// How long a frame that shows only a typed command ('showcmd') waits for
/// the command's own flush, which nvim sends 0.03 to 0.3 ms after it. The
/// IO thread publishes it at once but wakes the window only with the next
/// frame, or when the hold is over: in normal mode a key then costs the
/// window one wake-up instead of two, and the two flushes are drawn as one
/// frame, so the second is not put off by the frame-rate cap after a frame
/// drawn for the first. The window holds such a frame as well, until the
/// same instant, when something else woke it.
pub const COMMAND_HOLD: Duration = Duration::from_millis(2);

impl crate::rpc::NotificationSink for Sink {
    fn notification(&mut self, method: &str, params: &[ValueRef<'_>]) {
        if method == "redraw" {
            if let Some(ext) = self.ext.get() {
                self.ui.set_ext_types(*ext);
            }
            let (frames, wake, owed) = (&self.frames, &self.wake, &self.wake_owed);
            let published = &mut self.published_cursor;
            self.ui.handle_redraw(params, |frame| {
                crate::trace::mark(crate::trace::Stage::Flush);
                let held = published.is_some_and(|c| frame.only_typed_command(c));
                *published = Some(frame.cursor);
                // The receiver is gone only while shutting down.
                frames.send(frame).ok();
                let Some(wake) = wake else { return };
                if !held {
                    owed.store(false, Ordering::Release);
                    wake();
                } else if !owed.swap(true, Ordering::AcqRel) {
                    let (owed, wake) = (owed.clone(), wake.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(COMMAND_HOLD).await;
                        if owed.swap(false, Ordering::AcqRel) {
                            wake();
                        }
                    });
                }
            });
            return;
        }
        if method == "nvim_error_event" {
            log::error!("nvim reported an error for a notification vireo sent: {params:?}");
            return;
        }
        if method == LEAVING {
            self.leaving.store(true, Ordering::Release);
            return;
        }
        let note = Notification {
            method: method.to_owned(),
            params: params.iter().map(ValueRef::to_owned).collect(),
        };
        match self.notes.try_send(note) {
            Ok(()) => {
                self.dropped = 0;
                // Settings apply without waiting for the next redraw; other
                // notifications (a plugin's flood) must not wake the UI.
                let ours = method.starts_with(crate::settings::live::SETTING)
                    || method == crate::settings::live::RESIZE;
                if ours && let Some(wake) = &self.wake {
                    wake();
                }
            }
            Err(crossbeam_channel::TrySendError::Full(note)) => {
                if self.dropped == 0 {
                    log::warn!(
                        "dropping notifications from nvim ('{}'): {NOTIFICATION_BACKLOG} are waiting unread",
                        note.method
                    );
                }
                self.dropped += 1;
            }
            // The receiver is gone only while shutting down.
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The notification nvim sends from `VimLeavePre`: a server that closes the
/// connection after it is quitting; one that closes without it was lost.
const LEAVING: &str = "vireo_leaving";

/// Run before attaching, with vireo's channel as `...`.
const LEAVING_LUA: &str = r#"
local chan = ...
vim.api.nvim_create_autocmd('VimLeavePre', {
  group = vim.api.nvim_create_augroup('vireo_leaving', {}),
  callback = function() pcall(vim.rpcnotify, chan, 'vireo_leaving') end,
})
"#;

async fn io_main(
    opts: StartOptions,
    recorder: Option<Recorder>,
    ch: IoChannels,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let (reader, writer, mut child): (BoxReader, BoxWriter, _) = match &opts.target {
        Target::Embed { binary, args } => match transport::spawn_embedded(binary, args) {
            Ok(e) => {
                crate::trace::mark(crate::trace::Stage::NvimSpawned);
                (e.reader, e.writer, Some(e.child))
            }
            Err(e) => {
                ch.ready.send(Err(e.into())).ok();
                return;
            }
        },
        Target::Server(addr) => match transport::connect(addr).await {
            Ok((r, w)) => (r, w, None),
            Err(e) => {
                ch.ready.send(Err(e.into())).ok();
                return;
            }
        },
    };
    let ext = Arc::new(OnceLock::new());
    let mut ui = UiState::new(None);
    if let Some(fill) = &opts.scroll_fill {
        ui.model_mut().set_scroll_fill(fill);
    }
    let leaving = Arc::new(AtomicBool::new(false));
    let sink = Sink {
        wake: ch.wake.clone(),
        ui,
        ext: ext.clone(),
        frames: ch.frames,
        notes: ch.notes,
        dropped: 0,
        leaving: leaving.clone(),
        published_cursor: None,
        wake_owed: Arc::new(AtomicBool::new(false)),
    };
    let dispatch = Dispatch { sink, requests: opts.requests, recorder };
    let (session, task) = Session::start(reader, writer, dispatch);

    let attach = async {
        // A running nvim sends a multigrid UI that attaches to it neither
        // the position nor the contents of the windows it drew before
        // (their grids are valid, for the UIs it had; nvim 0.11): such a
        // window would stay empty. Without multigrid nvim composes the
        // screen and sends a new UI all of it.
        let multigrid = matches!(opts.target, Target::Embed { .. });
        let api = attach(&session, opts.cols, opts.rows, multigrid, &ext, &opts.init_lua).await?;
        Ok::<_, StartError>(api)
    };
    let mut task = task;
    let mut shutdown = shutdown;
    let result = tokio::select! {
        r = attach => r,
        ended = &mut task => Err(StartError::Ended(match ended {
            Ok(Ok(())) => "it closed the connection".into(),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        })),
        _ = &mut shutdown => {
            // The window could not be made while nvim was starting.
            if let Some(child) = child.as_mut() {
                quit_or_kill(&session, child).await;
            }
            task.abort();
            return;
        }
    };
    match result {
        Ok(api) => {
            crate::trace::mark(crate::trace::Stage::NvimAttached);
            ch.ready.send(Ok((session.clone(), api))).ok();
        }
        Err(e) => {
            ch.ready.send(Err(e)).ok();
            return;
        }
    }
    let ended = tokio::select! {
        r = &mut task => r,
        _ = shutdown => {
            // Only tools that own the whole session shut it down.
            if let Some(child) = child.as_mut() {
                quit_or_kill(&session, child).await;
            }
            task.abort();
            return;
        }
    };
    let exit = match (ended, child.as_mut()) {
        (Ok(Ok(())), Some(child)) => match child.wait().await {
            Ok(status) => exit_of(status),
            Err(e) => Exit::Failed(format!("could not read nvim's exit status: {e}")),
        },
        (Ok(Ok(())), None) if leaving.load(Ordering::Acquire) => Exit::ServerClosed,
        (Ok(Ok(())), None) => Exit::Failed(format!(
            "the nvim server at {} closed the connection without quitting (it may have crashed or been killed)",
            server_address(&opts.target)
        )),
        (Ok(Err(e)), Some(child)) => {
            log::error!("{e}");
            Exit::Failed(format!("{}; {}", session_error_text(&e), preserve_and_stop(child).await))
        }
        (Ok(Err(e)), None) => {
            log::error!("{e}");
            let addr = server_address(&opts.target);
            Exit::Failed(format!(
                "{}; nvim itself is still running with your buffers: reattach with `vireo --server {addr}`",
                session_error_text(&e)
            ))
        }
        (Err(e), _) => Exit::Failed(format!("the reader stopped: {e}")),
    };
    ch.exit.send(exit).ok();
    if let Some(wake) = &ch.wake {
        wake();
    }
}

fn session_error_text(e: &SessionError) -> String {
    e.to_string()
}

fn server_address(target: &Target) -> &str {
    match target {
        Target::Server(addr) => addr,
        Target::Embed { .. } => "(embedded)",
    }
}

/// How long an embedded nvim told to quit by [`Connection::shutdown`] gets
/// before it is killed.
const QUIT_TIMEOUT: Duration = Duration::from_secs(1);

/// Ends an embedded nvim now, its changes dropped: told to `:qall!`, it
/// removes its server socket from `$XDG_RUNTIME_DIR` and its swap files
/// as it exits; killed, it would leave them, and a later nvim given the
/// same PID would start with no server (`v:servername` empty). nvim holds
/// the command back while it waits at a prompt (hit-enter, more, a
/// confirmation), which an `<Esc>` typed after it ends. One that has not
/// quit within [`QUIT_TIMEOUT`] is killed.
async fn quit_or_kill(session: &Session, child: &mut tokio::process::Child) {
    let asked = session.notify(crate::rpc::Lane::Query, "nvim_command", vec!["qall!".into()]);
    // nvim may be gone already, having quit at once.
    session.input("<Esc>").ok();
    if asked.is_err() || tokio::time::timeout(QUIT_TIMEOUT, child.wait()).await.is_err() {
        child.start_kill().ok();
    }
}

/// How long nvim gets to write its swap files after SIGTERM.
const PRESERVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Stops an embedded nvim whose stream vireo can no longer read, without
/// losing work: SIGTERM makes nvim sync every swap file before it exits
/// (SIGKILL would lose what is not yet in them). Says what happened.
async fn preserve_and_stop(child: &mut tokio::process::Child) -> String {
    let recover = "recover unsaved changes with `nvim -r FILE` (`nvim -r` alone lists the swap files)";
    if !terminate(child) {
        return format!("nvim could not be told to stop; {recover}");
    }
    match tokio::time::timeout(PRESERVE_TIMEOUT, child.wait()).await {
        Ok(Ok(_)) => {
            format!("vireo stopped nvim with SIGTERM, which preserves buffers in swap files: {recover}")
        }
        Ok(Err(e)) => format!("nvim was sent SIGTERM (its exit status is unknown: {e}); {recover}"),
        Err(_) => {
            // Still running after the grace period: something is badly
            // wrong; leaving it would orphan it, its swap files stay.
            child.start_kill().ok();
            format!("nvim did not stop within {PRESERVE_TIMEOUT:?} of SIGTERM and was killed; {recover}")
        }
    }
}

/// Sends SIGTERM; false if the process is already gone or cannot be signalled.
#[cfg(unix)]
fn terminate(child: &tokio::process::Child) -> bool {
    let Some(pid) = child.id().and_then(|id| libc::pid_t::try_from(id).ok()) else { return false };
    // SAFETY: kill(2) takes plain integers; `pid` is our own child, not yet
    // reaped (tokio reaps it only in `wait`), so the number is still its.
    unsafe { libc::kill(pid, libc::SIGTERM) == 0 }
}

#[cfg(not(unix))]
fn terminate(child: &mut tokio::process::Child) -> bool {
    child.start_kill().is_ok()
}

#[cfg(unix)]
fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Exited(code),
        (None, Some(sig)) => Exit::Signaled(sig),
        (None, None) => Exit::Failed("nvim ended with an unknown status".into()),
    }
}

#[cfg(not(unix))]
fn exit_of(status: std::process::ExitStatus) -> Exit {
    Exit::Exited(status.code().unwrap_or(1))
}

/// Reads api info, checks the version, announces vireo and attaches.
async fn attach(
    session: &Session,
    cols: usize,
    rows: usize,
    multigrid: bool,
    ext: &OnceLock<ExtTypes>,
    init_lua: &[LuaChunk],
) -> Result<ApiInfo, StartError> {
    let rpc = |what| move |source| StartError::Rpc { what, source };
    let info = session.call("nvim_get_api_info", vec![]).await.map_err(rpc("nvim_get_api_info"))?;
    let api = parse_api_info(&info)?;
    if (api.version.0, api.version.1) < MIN_VERSION {
        return Err(StartError::TooOld { found: api.version });
    }
    ext.set(api.ext).ok();
    let version =
        Value::Map(vec![("major".into(), 0.into()), ("minor".into(), 1.into()), ("patch".into(), 0.into())]);
    let attributes = Value::Map(vec![("website".into(), "https://github.com/vireo-editor/vireo".into())]);
    let client = vec!["vireo".into(), version, "ui".into(), Value::Map(vec![]), attributes];
    session.call("nvim_set_client_info", client).await.map_err(rpc("nvim_set_client_info"))?;
    // In the query lane like the calls around them, so they run before the
    // attach, without waiting for answers: start-up stays one round trip
    // per call above (errors come back as nvim_error_event and are logged).
    let leaving = LuaChunk::new(LEAVING_LUA, vec![]);
    for lua in std::iter::once(&leaving).chain(init_lua) {
        let mut args = vec![api.channel.into()];
        args.extend(lua.args.iter().cloned());
        let call = vec![lua.code.as_str().into(), Value::Array(args)];
        session
            .notify(crate::rpc::Lane::Query, "nvim_exec_lua", call)
            .map_err(rpc("vireo's start-up Lua"))?;
    }
    let ui_opts = Value::Map(vec![
        ("rgb".into(), true.into()),
        ("ext_linegrid".into(), true.into()),
        ("ext_multigrid".into(), multigrid.into()),
    ]);
    let args = vec![(cols as u64).into(), (rows as u64).into(), ui_opts];
    session.call("nvim_ui_attach", args).await.map_err(rpc("nvim_ui_attach"))?;
    Ok(api)
}

/// Reads `[channel, {version: {...}, types: {Buffer: {id}, ...}}]`.
pub fn parse_api_info(v: &Value) -> Result<ApiInfo, StartError> {
    let bad = || StartError::BadApiInfo(crate::util::short_value(v));
    let items = v.as_array().ok_or_else(bad)?;
    let channel = items.first().and_then(Value::as_i64).ok_or_else(bad)?;
    let meta = items.get(1).ok_or_else(bad)?;
    let field = |map: &Value, key: &str| -> Option<Value> {
        map.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v.clone())
    };
    let version = field(meta, "version").ok_or_else(bad)?;
    let num = |k| field(&version, k).and_then(|v| v.as_u64()).ok_or_else(bad);
    let types = field(meta, "types").ok_or_else(bad)?;
    let code = |name: &str| -> Result<i8, StartError> {
        let id =
            field(&types, name).and_then(|t| field(&t, "id")).and_then(|v| v.as_i64()).ok_or_else(bad)?;
        i8::try_from(id).map_err(|_| bad())
    };
    Ok(ApiInfo {
        channel,
        version: (num("major")?, num("minor")?, num("patch")?),
        ext: ExtTypes { buffer: code("Buffer")?, window: code("Window")?, tabpage: code("Tabpage")? },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::framing::Scanner;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn api_info(major: u64, minor: u64, window_code: i64) -> Value {
        let version = Value::Map(vec![
            ("major".into(), major.into()),
            ("minor".into(), minor.into()),
            ("patch".into(), 2.into()),
        ]);
        let ty = |id: i64| Value::Map(vec![("id".into(), id.into())]);
        let types = Value::Map(vec![
            ("Buffer".into(), ty(0)),
            ("Window".into(), ty(window_code)),
            ("Tabpage".into(), ty(2)),
        ]);
        Value::Array(vec![3.into(), Value::Map(vec![("version".into(), version), ("types".into(), types)])])
    }

    /// Attaches against a scripted peer that answers every request with `info`.
    fn attach_against(info: Value) -> Result<ApiInfo, StartError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (ours, mut theirs) = tokio::io::duplex(1 << 16);
            let (r, w) = tokio::io::split(ours);
            let sink = |_: &str, _: &[ValueRef<'_>]| {};
            let (session, _task) =
                Session::start(r, w, Dispatch { sink, requests: RequestTable::default(), recorder: None });
            tokio::spawn(async move {
                let (mut buf, mut scanner) = (Vec::new(), Scanner::default());
                loop {
                    while let Some(len) = scanner.next_message(&buf).unwrap() {
                        let req = rmpv::decode::read_value(&mut &buf[..len]).unwrap();
                        buf.drain(..len);
                        let items = req.as_array().unwrap();
                        if items[0].as_u64() != Some(0) {
                            continue; // A notification: no answer.
                        }
                        let id = items[1].clone();
                        let reply = Value::Array(vec![1.into(), id, Value::Nil, info.clone()]);
                        let mut bytes = Vec::new();
                        rmpv::encode::write_value(&mut bytes, &reply).unwrap();
                        theirs.write_all(&bytes).await.unwrap();
                    }
                    if theirs.read_buf(&mut buf).await.unwrap() == 0 {
                        return;
                    }
                }
            });
            let ext = OnceLock::new();
            attach(&session, 80, 24, true, &ext, &[]).await
        })
    }

    #[test]
    fn an_old_nvim_is_refused_with_a_clear_message() {
        let err = attach_against(api_info(0, 7, 1)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("nvim 0.7.2 is too old"), "{msg}");
        assert!(msg.contains(">= 0.10"), "{msg}");
        assert!(msg.contains("neovim/releases"), "{msg}");
    }

    #[test]
    fn ext_codes_come_from_api_info() {
        let api = attach_against(api_info(0, 11, 9)).unwrap();
        assert_eq!(api.version, (0, 11, 2));
        assert_eq!(api.ext, ExtTypes { buffer: 0, window: 9, tabpage: 2 });
        assert_eq!(api.channel, 3);
    }

    #[test]
    fn unreadable_api_info_is_an_error_not_a_panic() {
        for bad in
            [Value::Nil, Value::Array(vec![1.into()]), Value::Array(vec![1.into(), Value::Map(vec![])])]
        {
            assert!(matches!(parse_api_info(&bad), Err(StartError::BadApiInfo(_))), "{bad}");
        }
    }
}
