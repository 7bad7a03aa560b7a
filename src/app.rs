//! The desktop window: winit events in, frames out.
//!
//! ```text
//!   IO thread ── frame ──► crossbeam channel ──► wake (EventLoopProxy)
//!                                                   │
//!   main thread: winit loop (App, this file) ◄──────┘
//!     ├─ drain: takes every waiting frame, keeps the newest (damage and
//!     │         scroll deltas of the skipped ones folded in), settings, exit
//!     ├─ display.rs   window, GPU, renderer, presenter, padding, grid size
//!     ├─ input.rs     keys, mouse, wheel, links, IME, paste, drop → nvim,
//!     │               behind the ActionContext trait (Actions, below)
//!     └─ schedule.rs  one scheduler for every timer (blink, frame cap):
//!                     ControlFlow::Wait when none is due, else WaitUntil
//! ```
//!
//! `App` keeps start-up, the nvim connection, the frame last taken and the
//! settings, and routes winit's events to the parts above.

mod display;
mod input;
mod schedule;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use winit::application::ApplicationHandler;
use winit::event::{DeviceEvent, ElementState, KeyEvent, StartCause, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::window::{CursorIcon, WindowId};

use crate::input::clipboard::ClipboardWorker;
use crate::model::{Frame, GLOBAL_GRID};
use crate::nvim::{self, Connection, Exit, StartOptions};
use crate::render::CursorState;
use crate::render::font::{Fonts, scan_system_fonts};
use crate::render::gpu::GpuError;
use crate::rpc::{Lane, Session};
use crate::settings::Settings;
use display::{Display, GridRequest, Preparing, WindowStart};
use input::{ActionContext, CellLayout, InputProcessor, KeyPress, Zoom};
use schedule::{Blink, Pacer, Scheduler, Timer};

/// Events the IO thread and helpers send into the winit loop.
#[derive(Debug)]
pub enum UserEvent {
    /// A frame (or the session's end) is waiting in the channels.
    Wake,
    /// The system font scan finished.
    Fonts(Box<glyphon::fontdb::Database>),
    /// The config file was saved.
    ConfigChanged,
    /// `vireo --remote` opened files here: come to the front.
    Raise,
}

/// Why the window could not run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("could not open a window: {}", event_loop_reason(.0))]
    EventLoop(winit::error::EventLoopError),
    #[error(transparent)]
    Start(#[from] nvim::StartError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error("could not open a window: {0}")]
    Window(String),
    #[error("could not start a thread: {0}")]
    Thread(std::io::Error),
}

/// Reads the settings layers again (after the config file changed): the
/// settings under the `g:vireo_*` variables and the problems found.
pub type Reload = Box<dyn Fn() -> (Settings, Vec<String>)>;

/// Runs the window until nvim exits; returns how it ended.
pub fn run(
    mut opts: StartOptions,
    settings: Settings,
    problems: Vec<String>,
    config: Option<(std::path::PathBuf, Reload)>,
    on_attached: Option<Box<dyn FnOnce()>>,
    started: Instant,
) -> Result<Exit, AppError> {
    let state_path = crate::settings::state::path(|name| std::env::var(name).ok());
    let explicit = settings.grid.is_some() || settings.size.is_some() || settings.maximized;
    let remembered = state_path
        .as_deref()
        .filter(|_| settings.remember_window_size || settings.remember_window_position)
        .and_then(crate::settings::state::load);
    if let Some(state) = remembered.filter(|_| settings.remember_window_size && !explicit) {
        opts.cols = state.cols.clamp(1, crate::settings::MAX_GRID_SIDE);
        opts.rows = state.rows.clamp(1, crate::settings::MAX_GRID_SIDE);
    }
    if let (None, Some(px)) = (settings.grid, settings.size) {
        // A size in pixels: the grid that fits it at the bundled font's
        // cell size, which is what the first frame is drawn with.
        let mut fonts = Fonts::bundled(1.0);
        fonts.set_config(&settings.font);
        let m = fonts.metrics();
        opts.cols = (px.width / m.width).max(1) as usize;
        opts.rows = (px.height / m.height).max(1) as usize;
    }
    // What the user asked for is checked before any window exists, so a
    // missing nvim is reported as that, not as a window that flashed.
    match &opts.target {
        nvim::Target::Embed { binary, .. } => crate::rpc::transport::check_binary(binary),
        nvim::Target::Server(addr) => crate::rpc::transport::check_server(addr),
    }
    .map_err(nvim::StartError::from)?;
    // The graphics device and nvim are the longest steps to the first
    // frame: they start first, on threads of their own, and the display
    // connection (where Xlib's local input method reads the Compose table:
    // 25 to 40 ms), fonts and the window are made here meanwhile.
    let preparing = Preparing::start().map_err(AppError::Thread)?;
    let (cols, rows) = (opts.cols, opts.rows);
    // "+ and "* registers through the system clipboard, with no external tool.
    let clipboard = ClipboardWorker::start().map_err(AppError::Thread)?;
    opts.requests = crate::input::clipboard::handlers(std::mem::take(&mut opts.requests), clipboard.clone());
    opts.init_lua.push(nvim::LuaChunk::new(crate::input::clipboard::PROVIDER_LUA, vec![]));
    // Wakes before the event loop exists are dropped: the loop drains
    // everything waiting once nvim is attached (`resumed`).
    let wake_proxy: Arc<OnceLock<EventLoopProxy<UserEvent>>> = Arc::new(OnceLock::new());
    let wake_target = wake_proxy.clone();
    opts.wake = Some(Arc::new(move || {
        if let Some(proxy) = wake_target.get() {
            // The loop is gone only while exiting.
            proxy.send_event(UserEvent::Wake).ok();
        }
    }));
    let detachable = matches!(opts.target, nvim::Target::Server(_));
    // Where no display is named the event loop fails at once: nvim is not
    // started for nothing (its own complaints would follow vireo's).
    let (early, opts) = match display_named() {
        true => (Some(nvim::start_async(opts)?), None),
        false => (None, Some(opts)),
    };
    let event_loop = match EventLoop::<UserEvent>::with_user_event().build() {
        Ok(event_loop) => event_loop,
        Err(e) => {
            if let Some(starting) = early {
                starting.stop();
            }
            return Err(AppError::EventLoop(e));
        }
    };
    let proxy = event_loop.create_proxy();
    wake_proxy.set(proxy.clone()).ok();
    let starting = match (early, opts) {
        (Some(starting), _) => starting,
        (None, Some(opts)) => nvim::start_async(opts)?,
        (None, None) => unreachable!("nvim's options are kept until it starts"),
    };
    #[cfg(unix)]
    {
        let raise_proxy = proxy.clone();
        crate::session::remote::on_raise(move || {
            // The loop is gone only while exiting.
            raise_proxy.send_event(UserEvent::Raise).ok();
        });
    }
    let (config_watch, reload) = match config {
        Some((path, reload)) => {
            let proxy = proxy.clone();
            let watch = crate::settings::watch::watch(&path, move || {
                // The loop is gone only while exiting.
                proxy.send_event(UserEvent::ConfigChanged).ok();
            });
            (watch, Some(reload))
        }
        None => (None, None),
    };
    let mut app = App {
        starting: Some(starting),
        focus: None,
        focus_sent: None,
        detachable,
        on_attached,
        _config_watch: config_watch,
        reload,
        config_problems: Vec::new(),
        state_path,
        window_start: WindowStart { grid: (cols, rows), remembered, explicit_size: explicit },
        live: crate::settings::live::Live::new(settings.clone()),
        settings,
        problems,
        clipboard,
        conn: None,
        preparing: Some(preparing),
        started,
        first_frame_logged: false,
        fonts_proxy: proxy,
        font_scan: FontScan::NotBegun,
        display: None,
        latest: None,
        latest_drawn: false,
        drawn_cursor: None,
        exit: None,
        error: None,
        input: InputProcessor::default(),
        blink: Blink::default(),
        pacer: Pacer::default(),
        schedule: Scheduler::default(),
        #[cfg(unix)]
        xim_watchdog: None,
    };
    // Fonts the config names are looked for at once; others only when a
    // frame needs them (see `FontScan`).
    if app.settings.font.families().next().is_some() {
        app.scan_system_fonts()?;
    }
    event_loop.run_app(&mut app).map_err(AppError::EventLoop)?;
    if let Some(e) = app.error {
        return Err(e);
    }
    Ok(app.exit.unwrap_or(Exit::Failed("the window closed before nvim exited".into())))
}

/// The scan of the system's fonts, on a thread of its own. It costs several
/// milliseconds of CPU (hundreds with many CJK fonts), which on a busy
/// machine would come out of the first frame: it begins at start only when
/// the config names fonts, else as soon as a frame needs a font the bundled
/// ones lack (`guifont`, a character they have no glyph for), and at the
/// latest once the first frame is on screen. Until it is done the first
/// frame waits for it, up to [`FONT_WAIT`], when it needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FontScan {
    NotBegun,
    Running { since: Instant },
    Done,
}

/// How long the first frame waits for the system fonts it needs; after
/// that it is drawn with what there is, and again when they come.
const FONT_WAIT: Duration = Duration::from_millis(250);

struct App {
    starting: Option<nvim::Starting>,
    /// The window's focus as winit last reported it, and as nvim was last
    /// told.
    focus: Option<bool>,
    focus_sent: Option<bool>,
    /// nvim is a server that outlives the window (`detach_on_quit`).
    detachable: bool,
    /// Called once nvim is attached and the window open (`--fork`).
    on_attached: Option<Box<dyn FnOnce()>>,
    /// Watches config.toml while the window is open.
    _config_watch: Option<crate::settings::watch::ConfigWatch>,
    reload: Option<Reload>,
    /// What the last reload of the config file found wrong.
    config_problems: Vec<String>,
    /// Where the window's size and place are remembered.
    state_path: Option<std::path::PathBuf>,
    /// How the window opens: the first grid, what was remembered.
    window_start: WindowStart,
    /// The layers below and the `g:vireo_*` variables.
    live: crate::settings::live::Live,
    /// The settings last applied to the window.
    settings: Settings,
    /// Settings that could not be applied, shown in nvim once it is attached.
    problems: Vec<String>,
    /// The clipboard thread, shared with the provider's request handlers.
    clipboard: ClipboardWorker,
    /// Set once nvim has attached (right after the window exists).
    conn: Option<Connection>,
    /// The graphics device on its way, until the window takes it.
    preparing: Option<Preparing>,
    started: Instant,
    first_frame_logged: bool,
    /// Brings the scanned system fonts to the loop.
    fonts_proxy: EventLoopProxy<UserEvent>,
    font_scan: FontScan,
    /// Set once the window exists.
    display: Option<Display>,
    latest: Option<Frame>,
    /// Whether `latest` has been drawn (its damage is spent).
    latest_drawn: bool,
    /// The cursor of the frame last drawn.
    drawn_cursor: Option<crate::model::Cursor>,
    exit: Option<Exit>,
    error: Option<AppError>,
    input: InputProcessor,
    blink: Blink,
    /// Keeps frames to the frame-rate cap.
    pacer: Pacer,
    /// When the loop must wake by itself.
    schedule: Scheduler,
    /// Keeps an input method that stops answering from freezing the window.
    #[cfg(unix)]
    xim_watchdog: Option<crate::input::xim::Watchdog>,
}

/// What the input processor acts on: nvim's session, the frame last taken,
/// the display and the clipboard.
struct Actions<'a> {
    conn: Option<&'a Connection>,
    frame: Option<&'a Frame>,
    display: Option<&'a mut Display>,
    settings: &'a Settings,
    clipboard: &'a ClipboardWorker,
}

impl ActionContext for Actions<'_> {
    fn frame(&self) -> Option<&Frame> {
        self.frame
    }

    fn layout(&self) -> Option<CellLayout> {
        self.display.as_ref().map(|d| d.layout())
    }

    fn settings(&self) -> &Settings {
        self.settings
    }

    fn input(&mut self, keys: &str) {
        if let Some(conn) = self.conn
            && let Err(e) = conn.session.input(keys)
        {
            log::warn!("input not sent: {e}");
        }
    }

    fn notify(&mut self, method: &'static str, args: Vec<rmpv::Value>) {
        if let Some(conn) = self.conn
            && let Err(e) = conn.session.notify(Lane::Input, method, args)
        {
            log::warn!("{method} not sent: {e}");
        }
    }

    fn paste(&mut self) {
        if let Some(conn) = self.conn {
            paste(self.clipboard, conn.session.clone());
        }
    }

    fn open_url(&mut self, url: &str) {
        let session = self.conn.map(|c| c.session.clone());
        crate::input::links::open(url, self.settings.url_opener.as_deref(), move |message| {
            if let Some(session) = session {
                tell_nvim(&session, &message);
            }
        });
    }

    fn zoom(&mut self, zoom: Zoom) {
        if let Some(display) = self.display.as_mut() {
            display.zoom(zoom);
        }
    }

    fn set_preedit(&mut self, text: Option<String>) {
        if let Some(display) = self.display.as_mut() {
            display.set_preedit(text);
        }
    }

    fn set_pointer_visible(&mut self, visible: bool) {
        if let Some(display) = &self.display {
            display.window.set_cursor_visible(visible);
        }
    }

    fn set_pointer_icon(&mut self, icon: CursorIcon) {
        if let Some(display) = &self.display {
            display.window.set_cursor(icon);
        }
    }
}

/// Shows `message` in nvim as a warning (kept in `:messages`).
fn tell_nvim(session: &Session, message: &str) {
    if let Err(e) = session.notify(Lane::Query, "nvim_echo", crate::input::links::echo_args(message)) {
        log::warn!("could not tell nvim: {e}");
    }
}

/// Streams the clipboard into nvim with `nvim_paste`, in phases, so a
/// paste of any size arrives whole and undoes as one change. The transfer
/// runs on the clipboard thread: a slow owner never freezes the window,
/// and one that stops sending is reported in nvim, nothing half pasted.
fn paste(clipboard: &ClipboardWorker, session: Session) {
    let queued = clipboard.submit(move |clipboard| {
        let (lines, regtype) = match clipboard.get("+") {
            Ok(v) => v,
            Err(e) => {
                log::warn!("paste: {e}");
                tell_nvim(&session, &format!("paste: {e}"));
                return;
            }
        };
        let mut text = lines.join("\n");
        if regtype == "V" {
            text.push('\n');
        }
        // In insert mode nvim's work per nvim_paste grows with all that was
        // pasted before it, so a paste costs about n²/CHUNK: a 50 MB paste
        // took 80 s of nvim's time in 256 KiB pieces, 10.6 s in 4 MiB
        // ones. Bigger pieces gain less and hold keys back longer while
        // nvim takes each one.
        const CHUNK: usize = 4 * 1024 * 1024;
        for (chunk, phase) in crate::input::clipboard::paste_chunks(&text, CHUNK) {
            let args = vec![chunk.into(), false.into(), phase.into()];
            // Failures come back as nvim_error_event and are logged.
            if let Err(e) = session.notify(Lane::Input, "nvim_paste", args) {
                log::warn!("paste not sent: {e}");
                return;
            }
        }
    });
    if !queued {
        log::error!("paste: the clipboard thread is gone");
    }
}

impl App {
    /// Runs `f` with the input processor and what it acts on.
    fn with_input(&mut self, f: impl FnOnce(&mut InputProcessor, &mut Actions<'_>)) {
        let mut actions = Actions {
            conn: self.conn.as_ref(),
            frame: self.latest.as_ref(),
            display: self.display.as_mut(),
            settings: &self.settings,
            clipboard: &self.clipboard,
        };
        f(&mut self.input, &mut actions);
    }

    /// Takes every waiting frame, keeping the newest; notes a session end.
    /// Settings nvim sent come first: they were sent before those frames.
    fn drain(&mut self, event_loop: &ActiveEventLoop) {
        self.take_settings();
        let Some(conn) = &self.conn else { return };
        let mut got = false;
        while let Ok(mut frame) = conn.frames.try_recv() {
            // A frame replaced before it was drawn passes its damage and
            // its windows' scroll deltas on.
            if let Some(skipped) = self.latest.take().filter(|_| !self.latest_drawn) {
                frame.absorb_damage(&skipped);
            }
            self.latest = Some(frame);
            self.latest_drawn = false;
            got = true;
        }
        if got {
            crate::trace::mark(crate::trace::Stage::FrameReceived);
            if self.font_scan == FontScan::NotBegun && self.frame_needs_system_fonts() {
                self.start_font_scan();
            }
            if let Some(frame) = &self.latest {
                self.blink.update(frame, Instant::now());
                if let Some(display) = self.display.as_mut() {
                    display.set_title(frame);
                }
            }
            if let Some(display) = self.display.as_mut() {
                display.request_redraw();
                let request = display.grid_changed(self.latest.as_ref());
                self.ask_grid(request);
            }
            self.update_ime();
            self.with_input(|input, ctx| input.update_pointer(ctx));
        }
        let Some(conn) = self.conn.as_ref().filter(|_| self.exit.is_none()) else { return };
        let exit = match conn.exit.try_recv() {
            Ok(exit) => exit,
            Err(crossbeam_channel::TryRecvError::Empty) => return,
            // Only a crashed IO thread drops the sender without a word.
            Err(crossbeam_channel::TryRecvError::Disconnected) => Exit::Failed(
                "vireo's IO thread stopped; nvim exits by itself and keeps its swap files".into(),
            ),
        };
        self.exit = Some(exit);
        event_loop.exit();
    }

    /// Asks nvim for the grid the display wants, if it wants one.
    fn ask_grid(&self, request: GridRequest) {
        let (Some((cols, rows)), Some(conn)) = (request, &self.conn) else { return };
        let args = vec![(cols as u64).into(), (rows as u64).into()];
        if let Err(e) = conn.session.notify(Lane::Input, "nvim_ui_try_resize", args) {
            log::warn!("resize not sent: {e}");
        }
    }

    /// Begins the system-font scan, unless it has begun.
    fn scan_system_fonts(&mut self) -> Result<(), AppError> {
        if self.font_scan != FontScan::NotBegun {
            return Ok(());
        }
        let proxy = self.fonts_proxy.clone();
        std::thread::Builder::new()
            .name("vireo-fonts".into())
            .spawn(move || {
                let db = scan_system_fonts();
                // The loop is gone only while exiting.
                proxy.send_event(UserEvent::Fonts(Box::new(db))).ok();
            })
            .map_err(AppError::Thread)?;
        self.font_scan = FontScan::Running { since: Instant::now() };
        Ok(())
    }

    /// Like `scan_system_fonts`, from the loop: without the thread the
    /// bundled fonts stay.
    fn start_font_scan(&mut self) {
        if let Err(e) = self.scan_system_fonts() {
            log::warn!("the system fonts were not scanned: {e}");
        }
    }

    /// Whether the latest frame needs fonts the bundled ones lack: a
    /// family `guifont`, `guifontwide` or the config names, or a character
    /// on screen the bundled face has no glyph for.
    fn frame_needs_system_fonts(&mut self) -> bool {
        let (Some(display), Some(frame)) = (self.display.as_mut(), &self.latest) else { return false };
        let option = |name| match frame.option(name) {
            Some(crate::model::OptionValue::Str(s)) => crate::render::font::parse_guifont(s).ok(),
            _ => None,
        };
        let families: Vec<String> = [option("guifont"), option("guifontwide")]
            .into_iter()
            .flatten()
            .flat_map(|spec| spec.families)
            .chain(self.settings.font.families().cloned())
            .collect();
        let text = frame.grids.values().flat_map(|g| &g.rows).flat_map(|r| &r.cells).map(|c| c.text.as_str());
        display.renderer.fonts.needs_system_fonts(&families, text)
    }

    /// Whether the first frame waits for the system fonts (see `FontScan`);
    /// it is then put off until they come, or until [`FONT_WAIT`] is over.
    fn waits_for_fonts(&mut self, now: Instant) -> bool {
        let FontScan::Running { since } = self.font_scan else { return false };
        let until = since + FONT_WAIT;
        if self.first_frame_logged || now >= until || !self.frame_needs_system_fonts() {
            return false;
        }
        self.pacer.put_off(until);
        true
    }

    /// Whether the frame waits for the command it shows being typed (see
    /// [`nvim::COMMAND_HOLD`]); it is then put off until the hold is over.
    fn waits_for_command(&mut self, now: Instant) -> bool {
        let (Some(frame), Some(drawn)) = (&self.latest, self.drawn_cursor) else {
            return false;
        };
        let until = frame.flushed_at + nvim::COMMAND_HOLD;
        if now >= until || !frame.only_typed_command(drawn) {
            return false;
        }
        self.pacer.put_off(until);
        true
    }

    /// Asks nvim for the grid that fits the window at the current cell size.
    fn fit_grid(&mut self) {
        let Some(display) = self.display.as_mut() else { return };
        let request = display.fit_grid(self.latest.as_ref());
        self.ask_grid(request);
    }

    fn update_ime(&mut self) {
        if let (Some(display), Some(frame)) = (self.display.as_mut(), &self.latest) {
            display.update_ime(frame, self.settings.input_ime);
        }
    }

    /// Saves the window's size and place for the next start, as the
    /// remember_window_* knobs say; a failure is only a warning.
    fn remember_window(&self) {
        let s = &self.settings;
        let (Some(display), Some(path)) = (&self.display, &self.state_path) else { return };
        if !(s.remember_window_size || s.remember_window_position) {
            return;
        }
        let Some(state) = display.window_state(self.latest.as_ref()) else { return };
        match crate::settings::state::save(path, &state) {
            Ok(()) => log::debug!("window state saved: {state:?}"),
            Err(e) => log::warn!("{e}"),
        }
    }

    /// Applies the `g:vireo_*` changes nvim sent; problems go back to nvim.
    fn take_settings(&mut self) {
        let Some(conn) = &self.conn else { return };
        let mut problems = Vec::new();
        let mut resize = None;
        while let Ok(note) = conn.notifications.try_recv() {
            if let Some(found) = self.live.notification(&note.method, &note.params) {
                problems.extend(found);
            } else if let Some((cols, rows)) =
                crate::settings::live::resize_request(&note.method, &note.params)
            {
                resize = Some((cols, rows));
            } else {
                log::debug!("notification '{}' ignored", note.method);
            }
        }
        conn.echo_errors(&problems);
        if let (Some((cols, rows)), Some(display)) = (resize, self.display.as_mut()) {
            let request = display.resize_window_to(cols, rows, self.latest.as_ref());
            self.ask_grid(request);
        }
        self.apply_settings();
    }

    /// The config file changed: reads the layers again under the variables.
    fn reload_config(&mut self) {
        let Some(reload) = &self.reload else { return };
        let (base, mut problems) = reload();
        problems.extend(self.live.set_base(base));
        // A save fires several file events: say each set of problems once.
        if problems != self.config_problems {
            if let Some(conn) = &self.conn {
                conn.echo_errors(&problems);
            }
            self.config_problems = problems;
        }
        self.apply_settings();
    }

    /// Tells nvim the window's focus where it changed since nvim was last
    /// told (`FocusGained`, `FocusLost`).
    fn send_focus(&mut self) {
        let (Some(focused), Some(conn)) = (self.focus, &self.conn) else { return };
        if self.focus_sent == Some(focused) {
            return;
        }
        match conn.session.notify(Lane::Input, "nvim_ui_set_focus", vec![focused.into()]) {
            Ok(()) => self.focus_sent = Some(focused),
            Err(e) => log::warn!("focus change not sent: {e}"),
        }
    }

    /// Makes the window follow the settings in force where they changed.
    fn apply_settings(&mut self) {
        let next = self.live.settings().clone();
        if next == self.settings {
            return;
        }
        let before = std::mem::replace(&mut self.settings, next);
        log::debug!("settings changed: {:?}", self.settings);
        if let Some(display) = self.display.as_mut() {
            let request = display.apply_settings(&self.settings, &before, self.latest.as_ref());
            self.ask_grid(request);
        }
        if self.settings.input_ime != before.input_ime {
            self.update_ime();
        }
    }

    fn render(&mut self) {
        let now = Instant::now();
        // Something new from nvim, or a frame vireo draws on its own.
        let news = !self.latest_drawn;
        if !self.pacer.may_draw(now, &self.settings, news) {
            return;
        }
        if self.waits_for_fonts(now) || (news && self.waits_for_command(now)) {
            return;
        }
        let (Some(display), Some(frame)) = (self.display.as_mut(), &self.latest) else { return };
        crate::trace::mark(crate::trace::Stage::DrawBegun);
        let (on, _) = self.blink.state(now);
        // A smooth blink fades the cursor instead of hiding it.
        let smooth = self.settings.cursor_smooth_blink;
        let visible = on || smooth;
        let alpha = if smooth { self.blink.fade(now).unwrap_or(1.0) } else { 1.0 };
        display.prepare_cursor(frame, now, &self.settings, self.pacer.focused, alpha);
        display.prepare_flash(frame, now, &self.settings);
        display.prepare_slides(now, &self.settings);
        let Some(before) = display.draw(frame, CursorState { visible }) else { return };
        self.latest_drawn = true;
        self.drawn_cursor = Some(frame.cursor);
        self.pacer.drawn(now, news);
        let first = !self.first_frame_logged && frame.grid(GLOBAL_GRID).is_some();
        if first {
            self.first_frame_logged = true;
            log::info!(
                "first frame presented {:.1} ms after start",
                self.started.elapsed().as_secs_f64() * 1e3
            );
            if std::env::var_os("VIREO_REPORT_FIRST_FRAME").is_some() {
                println!("first-frame-ms {:.3}", self.started.elapsed().as_secs_f64() * 1e3);
            }
            return_freed_memory();
        }
        let request = display.follow_cell_size(frame, before);
        self.ask_grid(request);
        if first {
            self.start_font_scan();
        }
    }

    /// The desktop reported its light or dark preference: with `theme =
    /// "auto"`, 'background' follows unless the user's config set it.
    fn desktop_theme(&self, theme: winit::window::Theme) {
        if self.settings.theme != crate::settings::Theme::Auto {
            return;
        }
        let Some(conn) = &self.conn else { return };
        let background = match theme {
            winit::window::Theme::Light => "light",
            winit::window::Theme::Dark => "dark",
        };
        log::debug!("the desktop prefers a {background} background");
        let code = "if VireoDesktopTheme then VireoDesktopTheme(...) end";
        let args = vec![code.into(), vec![rmpv::Value::from(background)].into()];
        if let Err(e) = conn.session.notify(Lane::Input, "nvim_exec_lua", args) {
            log::warn!("theme not sent: {e}");
        }
    }

    /// Registers each timer's next instant: the cursor's next blink, a
    /// frame put off by the frame-rate cap, or with `idle` off the next
    /// frame, and an animation's next frame. Returns when the loop must wake; None when nothing is due.
    fn next_wake(&mut self, now: Instant) -> Option<Instant> {
        // A smooth blink's fade wants frames like an animation.
        let fade = self.pacer.animation_frame(now, &self.settings, |t| self.blink.fade(t).is_some());
        let fading = self.settings.cursor_smooth_blink && fade.is_some();
        let blink = if fading { fade } else { self.blink.state(now).1 };
        self.schedule.set(Timer::Blink, blink);
        self.schedule.set(Timer::Frame, self.pacer.next_frame(now, &self.settings));
        // While the cursor or a window's text slides, the cursor's
        // particles live or the bell flashes, frames at the pacer's own
        // rate; at rest no timer at all.
        let animation = self.display.as_ref().and_then(|d| {
            self.pacer.animation_frame(now, &self.settings, |t| {
                d.cursor_slide_end(t).or(d.flash_end(t)).or(d.cursor_vfx_end(t)).or(d.slide_end(t)).is_some()
            })
        });
        self.schedule.set(Timer::Animation, animation);
        self.schedule.next()
    }
}

/// Whether the environment names a display for winit to connect to (on
/// macOS and Windows there is always one).
fn display_named() -> bool {
    !cfg!(all(unix, not(target_os = "macos")))
        || ["WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY"]
            .iter()
            .any(|name| std::env::var_os(name).is_some())
}

/// winit's message without the source location it puts in front of OS
/// errors ("os error at FILE:LINE: "), plus a hint when there is no display.
fn event_loop_reason(e: &winit::error::EventLoopError) -> String {
    let text = e.to_string();
    let reason = match text.strip_prefix("os error at ").and_then(|rest| rest.split_once(": ")) {
        Some((_location, reason)) => reason.trim_end_matches('.').to_owned(),
        None => text,
    };
    if reason.contains("DISPLAY") {
        return format!(
            "{reason} (vireo needs an X11 or Wayland session; without one, --snapshot and --snapshot-text work)"
        );
    }
    reason
}

/// The input processor's view of a key event.
fn key_press(event: &KeyEvent) -> KeyPress {
    KeyPress {
        key: event.logical_key.clone(),
        text: event.text.as_ref().map(|t| t.to_string()),
        numpad: event.location == winit::keyboard::KeyLocation::Numpad,
    }
}

impl ApplicationHandler<UserEvent> for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        let Some(preparing) = self.preparing.take() else { return };
        let display = Display::new(event_loop, preparing, &self.settings, self.window_start, self.started);
        match display {
            Ok(display) => {
                #[cfg(unix)]
                {
                    self.xim_watchdog = display.x11_window_id().and_then(crate::input::xim::Watchdog::start);
                }
                // The display's refresh rate, where it reports one (not Xvfb).
                let monitor = display.window.current_monitor();
                self.pacer.display_rate =
                    monitor.and_then(|m| m.refresh_rate_millihertz()).map(|mhz| mhz.div_ceil(1000));
                self.display = Some(display);
                log::debug!("renderer ready after {:?}", self.started.elapsed());
                match self.starting.take().map(nvim::Starting::wait) {
                    Some(Ok(conn)) => {
                        conn.echo_errors(&std::mem::take(&mut self.problems));
                        #[cfg(unix)]
                        crate::session::remote::attached(&conn.session, conn.api.channel);
                        self.conn = Some(conn);
                        if let Some(attached) = self.on_attached.take() {
                            attached();
                        }
                    }
                    Some(Err(e)) => {
                        self.error = Some(e.into());
                        event_loop.exit();
                        return;
                    }
                    None => {}
                }
                log::debug!("nvim attached after {:?}", self.started.elapsed());
                if let Some(theme) = self.display.as_ref().and_then(|d| d.window.theme()) {
                    self.desktop_theme(theme);
                }
                self.fit_grid();
                self.drain(event_loop);
                if let Some(display) = &self.display {
                    display.request_redraw();
                }
            }
            Err(e) => {
                if let Some(starting) = self.starting.take() {
                    starting.stop();
                }
                self.error = Some(e);
                event_loop.exit();
            }
        }
    }

    fn new_events(&mut self, _event_loop: &ActiveEventLoop, cause: StartCause) {
        #[cfg(unix)]
        if let Some(watchdog) = &self.xim_watchdog {
            watchdog.enter();
        }
        if let StartCause::ResumeTimeReached { requested_resume, .. } = cause {
            // Every timer due wants a frame: a blink phase ended, a capped
            // frame is due, or (--no-idle) the next frame.
            let due = self.schedule.take_due(requested_resume);
            log::trace!("timers due: {due:?}");
            if let Some(display) = &self.display {
                display.request_redraw();
            }
        }
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: UserEvent) {
        match event {
            UserEvent::Wake => self.drain(event_loop),
            UserEvent::ConfigChanged => self.reload_config(),
            UserEvent::Raise => {
                if let Some(display) = &self.display {
                    display.window.focus_window();
                }
            }
            UserEvent::Fonts(db) => {
                self.font_scan = FontScan::Done;
                if let Some(display) = self.display.as_mut() {
                    let request = display.install_system_fonts(*db, self.latest.as_ref());
                    self.ask_grid(request);
                }
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::RedrawRequested => self.render(),
            WindowEvent::Resized(size) => {
                if let Some(display) = self.display.as_mut() {
                    let request = display.resized(size.width, size.height, self.latest.as_ref());
                    self.ask_grid(request);
                }
            }
            WindowEvent::ScaleFactorChanged { scale_factor, .. } => {
                let scale = scale_factor as f32 * self.settings.scale_factor.0;
                if let Some(display) = self.display.as_mut() {
                    let request = display.rescaled(scale, self.latest.as_ref());
                    self.ask_grid(request);
                }
            }
            WindowEvent::CloseRequested => {
                // Quit the way :confirm qa does: unsaved buffers make nvim
                // ask, and vireo exits only when nvim does. Without
                // confirm_quit, :qa refuses and names the unsaved buffer.
                // A session's window may detach instead (detach_on_quit).
                let s = &self.settings;
                let channel = self.conn.as_ref().map_or(0, |c| c.api.channel);
                let keys = match crate::session::close_action(
                    self.detachable,
                    s.detach_on_quit,
                    s.confirm_quit,
                    channel,
                ) {
                    crate::session::CloseAction::Detach => {
                        log::info!("close requested: detaching from nvim, which keeps running");
                        self.exit = Some(Exit::Detached);
                        event_loop.exit();
                        return;
                    }
                    crate::session::CloseAction::Keys(keys) => keys,
                };
                log::info!("close requested: typing {keys} into nvim");
                let asked = self.conn.as_ref().map(|c| c.session.input(&keys));
                if let Some(Err(e)) = asked {
                    log::error!("could not ask nvim to quit ({e}); closing");
                    event_loop.exit();
                }
            }
            WindowEvent::DroppedFile(path) => self.with_input(|input, ctx| input.dropped_file(&path, ctx)),
            WindowEvent::ThemeChanged(theme) => self.desktop_theme(theme),
            WindowEvent::Ime(ime) => self.with_input(|input, ctx| input.ime(ime, ctx)),
            WindowEvent::ModifiersChanged(mods) => {
                self.with_input(|input, ctx| input.modifiers_changed(mods.state(), ctx));
            }
            WindowEvent::CursorMoved { position, .. } => {
                self.with_input(|input, ctx| input.pointer_moved(position.x, position.y, ctx));
            }
            WindowEvent::CursorLeft { .. } => self.with_input(|input, ctx| input.pointer_left(ctx)),
            WindowEvent::MouseInput { state, button, .. } => {
                self.with_input(|input, ctx| input.button(state, button, ctx));
            }
            WindowEvent::MouseWheel { delta, .. } => self.with_input(|input, ctx| input.wheel(delta, ctx)),
            // A synthetic press is a key that was already down when the
            // focus arrived (winit reports those on focus-in): it was typed
            // elsewhere, or it arrives as a real press too (X11 under load:
            // an `i` would reach nvim twice).
            WindowEvent::KeyboardInput { event, is_synthetic: false, .. }
                if event.state == ElementState::Pressed =>
            {
                crate::trace::mark(crate::trace::Stage::Key);
                let press = key_press(&event);
                self.with_input(|input, ctx| input.key(&press, ctx));
            }
            WindowEvent::Focused(focused) => {
                log::debug!("focused: {focused}");
                #[cfg(unix)]
                if focused {
                    crate::session::remote::focused();
                }
                self.pacer.focused = focused;
                // The cursor is hollow without the focus.
                if let Some(display) = &self.display {
                    display.request_redraw();
                }
                // Told to nvim once the events at hand are handled: X may
                // report a focus change as out-and-back-in within a
                // millisecond, which nvim would see as FocusLost too.
                self.focus = Some(focused);
            }
            _ => {}
        }
    }

    fn device_event(&mut self, _: &ActiveEventLoop, _: winit::event::DeviceId, event: DeviceEvent) {
        // Raw button numbers are X11's; other platforms number them otherwise.
        if let DeviceEvent::Button { button, state } = event
            && self.display.as_ref().is_some_and(Display::is_x11)
        {
            self.input.raw_button(button, state == ElementState::Pressed);
        }
    }

    fn exiting(&mut self, _event_loop: &ActiveEventLoop) {
        self.remember_window();
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        #[cfg(unix)]
        if let Some(watchdog) = &self.xim_watchdog {
            watchdog.leave();
        }
        self.send_focus();
        let next = self.next_wake(Instant::now());
        event_loop.set_control_flow(match next {
            Some(at) => ControlFlow::WaitUntil(at),
            None => ControlFlow::Wait,
        });
    }
}

/// Hands the memory freed during start-up back to the system: the
/// driver's compilation of the first frame's code (LLVM, on a CPU adapter)
/// and start-up's other scratch leave free pages in glibc's per-thread
/// arenas, which it keeps otherwise (about 1.5 MB at 100x30 on lavapipe).
/// Called once, after the first frame is on screen.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only gives free pages of glibc's heaps back.
    unsafe {
        libc::malloc_trim(0);
    }
}
