//! The desktop window: winit events in, frames out.
//!
//! ```text
//!   IO thread ── frame ──► crossbeam channel ──► wake (EventLoopProxy)
//!                                                   │
//!   main thread: winit loop ◄───────────────────────┘
//!     ├─ takes the newest frame, renders it (wgpu), presents
//!     ├─ keys → nvim_input, resize → nvim_ui_try_resize
//!     └─ sleeps in ControlFlow::Wait; WaitUntil only while the cursor blinks
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use winit::application::ApplicationHandler;
use winit::dpi::{LogicalSize, PhysicalSize};
use winit::event::{
    DeviceEvent, ElementState, KeyEvent, MouseButton, MouseScrollDelta, StartCause, WindowEvent,
};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::keyboard::{Key, ModifiersState};
use winit::window::{Icon, Window, WindowId};

use crate::input::clipboard::ClipboardWorker;
use crate::input::mouse::{self, LegacyWheel, WheelAccumulator};
use crate::model::{Frame, GLOBAL_GRID, GridId, OptionValue};
use crate::nvim::{self, Connection, Exit, StartOptions};
use crate::present::{Drawn, Presenter};
use crate::render::font::{Fonts, scan_system_fonts};
use crate::render::gpu::{Gpu, GpuError};
use crate::render::{CursorState, Renderer};
use crate::rpc::Lane;
use crate::settings::{Settings, WindowFrame};

/// Events the IO thread and helpers send into the winit loop.
#[derive(Debug)]
pub enum UserEvent {
    /// A frame (or the session's end) is waiting in the channels.
    Wake,
    /// The system font scan finished.
    Fonts(Box<glyphon::fontdb::Database>),
    /// The config file was saved.
    ConfigChanged,
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
    let event_loop = EventLoop::<UserEvent>::with_user_event().build().map_err(AppError::EventLoop)?;
    let proxy = event_loop.create_proxy();
    let wake_proxy = proxy.clone();
    opts.wake = Some(Arc::new(move || {
        // The loop is gone only while exiting.
        wake_proxy.send_event(UserEvent::Wake).ok();
    }));
    let (cols, rows) = (opts.cols, opts.rows);
    // "+ and "* registers through the system clipboard, with no external tool.
    let clipboard = ClipboardWorker::start().map_err(AppError::Thread)?;
    opts.requests = crate::input::clipboard::handlers(std::mem::take(&mut opts.requests), clipboard.clone());
    opts.init_lua.push(nvim::LuaChunk::new(crate::input::clipboard::PROVIDER_LUA, vec![]));
    // nvim starts and attaches on the IO thread while the window and the
    // graphics device are created here.
    let starting = nvim::start_async(opts)?;
    // Scanning system fonts takes a while: the first frame uses the bundled
    // font and the rest arrive when ready.
    let fonts_proxy = proxy.clone();
    std::thread::Builder::new()
        .name("vireo-fonts".into())
        .spawn(move || {
            let db = scan_system_fonts();
            fonts_proxy.send_event(UserEvent::Fonts(Box::new(db))).ok();
        })
        .map_err(AppError::Thread)?;
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
    let instance = crate::render::gpu::Gpu::instance(Some(Box::new(event_loop.owned_display_handle())));
    let mut app = App {
        starting: Some(starting),
        on_attached,
        _config_watch: config_watch,
        reload,
        config_problems: Vec::new(),
        state_path,
        remembered,
        explicit_size: explicit,
        live: crate::settings::live::Live::new(settings.clone()),
        settings,
        problems,
        clipboard,
        conn: None,
        instance,
        started,
        first_frame_logged: false,
        initial_grid: (cols, rows),
        view: None,
        latest: None,
        latest_drawn: false,
        exit: None,
        error: None,
        modifiers: ModifiersState::empty(),
        blink: Blink::default(),
        title: String::new(),
        requested: None,
        grid_seen: None,
        zoomed: false,
        pacer: Pacer::default(),

        mouse: MouseState::default(),
        links: Default::default(),
        ime_allowed: None,
        ime_area: None,
        #[cfg(unix)]
        xim_watchdog: None,
    };
    event_loop.run_app(&mut app).map_err(AppError::EventLoop)?;
    if let Some(e) = app.error {
        return Err(e);
    }
    Ok(app.exit.unwrap_or(Exit::Failed("the window closed before nvim exited".into())))
}

/// Everything that exists once the window does.
struct View {
    window: Arc<Window>,
    presenter: Presenter,
    gpu: Gpu,
    renderer: Renderer,
}

struct App {
    starting: Option<nvim::Starting>,
    /// Called once nvim is attached and the window open (`--fork`).
    on_attached: Option<Box<dyn FnOnce()>>,
    /// Watches config.toml while the window is open.
    _config_watch: Option<crate::settings::watch::ConfigWatch>,
    reload: Option<Reload>,
    /// What the last reload of the config file found wrong.
    config_problems: Vec<String>,
    /// Where the window's size and place are remembered.
    state_path: Option<std::path::PathBuf>,
    /// What was remembered from the last run.
    remembered: Option<crate::settings::state::WindowState>,
    /// grid, size or maximized was set: the remembered size is not used.
    explicit_size: bool,
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
    instance: wgpu::Instance,
    started: Instant,
    first_frame_logged: bool,
    initial_grid: (usize, usize),
    view: Option<View>,
    latest: Option<Frame>,
    /// Whether `latest` has been drawn (its damage is spent).
    latest_drawn: bool,
    exit: Option<Exit>,
    error: Option<AppError>,
    modifiers: ModifiersState,
    blink: Blink,
    title: String,
    /// The grid size last asked of nvim and not yet seen.
    requested: Option<(usize, usize)>,
    /// The global grid's size in the frame last taken.
    grid_seen: Option<(usize, usize)>,
    /// Ctrl+=/- changed the font size since the last frame drawn.
    zoomed: bool,
    /// Keeps frames to the frame-rate cap.
    pacer: Pacer,

    mouse: MouseState,
    /// Ctrl+click on links, and the hand pointer over them.
    links: crate::input::links::Links,
    /// IME state last given to the window: allowed, and the cursor area.
    ime_allowed: Option<bool>,
    ime_area: Option<(f32, f32, f32, f32)>,
    /// Keeps an input method that stops answering from freezing the window.
    #[cfg(unix)]
    xim_watchdog: Option<crate::input::xim::Watchdog>,
}

/// Pointer state between winit events.
#[derive(Debug, Default)]
struct MouseState {
    /// Pointer position in physical pixels.
    position: Option<(f64, f64)>,
    /// The button held and the grid its press went to (drags stay there).
    held: Option<(&'static str, GridId)>,
    /// Screen cell the pointer was last seen in, to send one drag or move
    /// per cell.
    last_cell: Option<(i64, i64)>,
    wheel: WheelAccumulator,
    legacy_wheel: LegacyWheel,
    /// Hidden while typing ('mousehide').
    hidden: bool,
}

/// Keeps frames to the frame-rate cap. What nvim sends is drawn at most
/// `refresh_rate` times a second, focused or not (a burst, such as a
/// flooding `:terminal`, is drawn together): a frame asked for sooner is
/// put off, and drawn with whatever arrived meanwhile. Frames vireo draws
/// on its own (with `idle` off, and animations) come `refresh_rate` times
/// a second with the focus and `refresh_rate_idle` times without.
#[derive(Debug)]
struct Pacer {
    focused: bool,
    last_drawn: Option<Instant>,
    /// A frame put off until then.
    deferred: Option<Instant>,
}

impl Default for Pacer {
    fn default() -> Self {
        // Windows open focused; a window manager says otherwise if not.
        Pacer { focused: true, last_drawn: None, deferred: None }
    }
}

impl Pacer {
    /// The shortest time between two frames: `own` ones (nothing new from
    /// nvim) slow down without the focus.
    fn interval(&self, s: &Settings, own: bool) -> Duration {
        let rate = if self.focused || !own { s.refresh_rate } else { s.refresh_rate_idle };
        Duration::from_secs(1) / rate.0.max(1)
    }

    /// Whether a frame may be drawn `now`; if not, it is put off.
    fn may_draw(&mut self, now: Instant, s: &Settings) -> bool {
        match self.last_drawn.map(|at| at + self.interval(s, false)).filter(|&due| due > now) {
            Some(due) => {
                self.deferred = Some(due);
                false
            }
            None => {
                self.deferred = None;
                true
            }
        }
    }

    fn drawn(&mut self, now: Instant) {
        self.last_drawn = Some(now);
    }

    /// When the next frame is due: one put off, or with `idle` off the
    /// next one at the cap; `None` when nothing is (the loop sleeps).
    fn next_frame(&self, now: Instant, s: &Settings) -> Option<Instant> {
        let busy = (!s.idle).then(|| self.last_drawn.map_or(now, |at| at + self.interval(s, true)));
        self.deferred.into_iter().chain(busy).min()
    }
}

/// Cursor blinking per 'guicursor': on for `blinkwait` after the cursor
/// moves or the mode changes, then `blinkoff`/`blinkon` alternately. Other
/// redraws (a `:terminal` printing, a clock in the status line) leave the
/// phase alone, or the cursor would never blink while they go on.
#[derive(Debug, Default)]
struct Blink {
    since: Option<Instant>,
    timing: Option<(Duration, Duration, Duration)>,
    /// The cursor position and mode the phase started with.
    anchor: Option<(crate::model::Cursor, usize)>,
}

impl Blink {
    /// Restarts the phase at `now` if `frame` moved the cursor, changed the
    /// mode or the mode's blink timing.
    fn update(&mut self, frame: &Frame, now: Instant) {
        let timing = frame.mode.current().and_then(|m| match (m.blinkwait, m.blinkon, m.blinkoff) {
            (Some(w), Some(on), Some(off)) if w > 0 && on > 0 && off > 0 => {
                Some((Duration::from_millis(w), Duration::from_millis(on), Duration::from_millis(off)))
            }
            _ => None,
        });
        let anchor = Some((frame.cursor, frame.mode.index));
        if anchor != self.anchor || timing != self.timing || self.since.is_none() {
            self.since = Some(now);
            self.timing = timing;
            self.anchor = anchor;
        }
    }

    /// Whether the cursor shows now, and when that next changes.
    fn state(&self, now: Instant) -> (bool, Option<Instant>) {
        let (Some(since), Some((wait, on, off))) = (self.since, self.timing) else { return (true, None) };
        let elapsed = now.duration_since(since);
        if elapsed < wait {
            return (true, Some(since + wait));
        }
        let period = on + off;
        let phase = Duration::from_nanos(((elapsed - wait).as_nanos() % period.as_nanos()) as u64);
        let cycle_start = now - phase;
        if phase < off { (false, Some(cycle_start + off)) } else { (true, Some(cycle_start + period)) }
    }
}

impl App {
    fn create_view(&mut self, event_loop: &ActiveEventLoop) -> Result<View, AppError> {
        let mut fonts = Fonts::bundled(self.settings.scale_factor.0);
        fonts.ligatures = self.settings.ligatures;
        fonts.set_config(&self.settings.font);
        let m = fonts.metrics();
        let padding = self.settings.padding();
        let (cols, rows) = self.initial_grid;
        let s = &self.settings;
        let remembered = self.remembered.filter(|_| s.remember_window_size && !self.explicit_size);
        let size: winit::dpi::Size = match (s.grid, s.size, remembered) {
            (None, Some(px), _) => PhysicalSize::new(px.width, px.height).into(),
            (None, None, Some(state)) => PhysicalSize::new(state.width, state.height).into(),
            // Logical pixels: on a HiDPI screen the window scales with the font.
            _ => {
                let (width, height) = padding.outer((cols as u32 * m.width, rows as u32 * m.height));
                LogicalSize::new(width, height).into()
            }
        };
        let maximized = s.maximized || remembered.is_some_and(|state| state.maximized);
        let mut attrs = Window::default_attributes()
            .with_title("vireo")
            .with_inner_size(size)
            .with_maximized(maximized)
            .with_fullscreen(s.fullscreen.then_some(winit::window::Fullscreen::Borderless(None)))
            .with_decorations(s.frame == WindowFrame::Full)
            // Lets `opacity` show the desktop through where a compositor
            // supports it; opaque frames look the same either way.
            .with_transparent(true)
            .with_window_icon(load_icon());
        let monitors: Vec<_> = event_loop
            .available_monitors()
            .map(|m| (m.position().x, m.position().y, m.size().width, m.size().height))
            .collect();
        let place =
            self.remembered.filter(|_| s.remember_window_position).and_then(|st| st.position_on(&monitors));
        if let Some((x, y)) = place {
            attrs = attrs.with_position(winit::dpi::PhysicalPosition::new(x, y));
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        let attrs = {
            use winit::platform::wayland::{ActiveEventLoopExtWayland, WindowAttributesExtWayland};
            use winit::platform::x11::WindowAttributesExtX11;
            // Both set the same name in winit: the last call wins, so make
            // only the one for the display in use.
            if event_loop.is_wayland() {
                WindowAttributesExtWayland::with_name(attrs, &s.wayland_app_id, "vireo")
            } else {
                WindowAttributesExtX11::with_name(attrs, &s.x11_wm_class, &s.x11_wm_class)
            }
        };
        let window = Arc::new(event_loop.create_window(attrs).map_err(|e| AppError::Window(e.to_string()))?);
        let surface =
            self.instance.create_surface(window.clone()).map_err(|e| GpuError::Surface(e.to_string()))?;
        log::debug!("window created after {:?}", self.started.elapsed());
        let gpu = Gpu::new(self.instance.clone(), Some(&surface))?;
        log::debug!("graphics device ready after {:?}", self.started.elapsed());
        let (presenter, format) = Presenter::new(&window, surface, &gpu, s.vsync);
        let mut renderer = Renderer::new(gpu.device.clone(), gpu.queue.clone(), format, fonts);
        renderer.padding = padding;
        renderer.opacity = s.opacity();
        let scale = window.scale_factor() as f32 * s.scale_factor.0;
        if scale != s.scale_factor.0 {
            renderer.fonts.set_scale(scale);
        }
        Ok(View { window, presenter, gpu, renderer })
    }

    /// Takes every waiting frame, keeping the newest; notes a session end.
    /// Settings nvim sent come first: they were sent before those frames.
    fn drain(&mut self, event_loop: &ActiveEventLoop) {
        self.take_settings();
        let Some(conn) = &self.conn else { return };
        let mut got = false;
        while let Ok(mut frame) = conn.frames.try_recv() {
            // A frame replaced before it was drawn passes its damage on.
            if let Some(skipped) = self.latest.take().filter(|_| !self.latest_drawn) {
                frame.absorb_damage(&skipped);
            }
            self.latest = Some(frame);
            self.latest_drawn = false;
            got = true;
        }
        if got {
            log::trace!("frame received after {:?}", self.started.elapsed());
            if let Some(frame) = &self.latest {
                self.blink.update(frame, Instant::now());
                let title = if frame.title.is_empty() { "vireo" } else { &frame.title };
                if title != self.title {
                    self.title = title.to_owned();
                    if let Some(view) = &self.view {
                        view.window.set_title(title);
                    }
                }
            }
            if let Some(view) = &self.view {
                view.window.request_redraw();
            }
            self.grid_changed();
            self.update_ime();
            self.update_link_pointer();
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

    /// Saves the window's size and place for the next start, as the
    /// remember_window_* knobs say; a failure is only a warning.
    fn remember_window(&self) {
        let s = &self.settings;
        let (Some(view), Some(path)) = (&self.view, &self.state_path) else { return };
        if !(s.remember_window_size || s.remember_window_position) {
            return;
        }
        if view.window.fullscreen().is_some() {
            // The monitor's size, not one to open a framed window at: what
            // was remembered before stays.
            log::debug!("window state not saved: the window is in full screen");
            return;
        }
        let size = view.window.inner_size();
        let grid = self.latest.as_ref().and_then(|f| f.grid(GLOBAL_GRID)).map(|g| (g.width, g.height));
        let Some((cols, rows)) = grid else { return };
        let position = view.window.outer_position().ok();
        let state = crate::settings::state::WindowState {
            width: size.width,
            height: size.height,
            cols,
            rows,
            x: position.map(|p| p.x),
            y: position.map(|p| p.y),
            maximized: view.window.is_maximized(),
        };
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
        if let Some((cols, rows)) = resize {
            self.resize_window_to(cols, rows);
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

    /// Makes the window follow the settings in force where they changed.
    fn apply_settings(&mut self) {
        let next = self.live.settings().clone();
        if next == self.settings {
            return;
        }
        let before = std::mem::replace(&mut self.settings, next);
        log::debug!("settings changed: {:?}", self.settings);
        if let Some(view) = self.view.as_mut() {
            let s = &self.settings;
            if s.fullscreen != before.fullscreen {
                view.window
                    .set_fullscreen(s.fullscreen.then_some(winit::window::Fullscreen::Borderless(None)));
            }
            if s.ligatures != before.ligatures {
                view.renderer.fonts.ligatures = s.ligatures;
                view.renderer.invalidate();
                view.window.request_redraw();
            }
            if s.font != before.font {
                // Applied with the next frame, as guifont is: the window
                // then follows the new cell size and the grid stays.
                view.renderer.set_font_config(s.font.clone());
                view.window.request_redraw();
            }
            if s.opacity() != before.opacity() {
                view.renderer.opacity = s.opacity();
                view.window.request_redraw();
            }
        }
        // New padding or scale: the window stays and the grid follows.
        let (padding, scale) = (self.settings.padding(), self.settings.scale_factor);
        if let Some(view) = self.view.as_mut()
            && (padding != before.padding() || scale != before.scale_factor)
        {
            view.renderer.padding = padding;
            if view.renderer.fonts.set_scale(view.window.scale_factor() as f32 * scale.0) {
                view.renderer.invalidate();
            }
            view.window.request_redraw();
            self.fit_grid();
        }
        if self.settings.idle != before.idle
            && let Some(view) = &self.view
        {
            view.window.request_redraw();
        }
        if self.settings.input_ime != before.input_ime {
            self.update_ime();
        }
    }

    fn render(&mut self) {
        let now = Instant::now();
        if !self.pacer.may_draw(now, &self.settings) {
            return;
        }
        let Some(view) = self.view.as_mut() else { return };
        let Some(frame) = &self.latest else { return };
        let (visible, _) = self.blink.state(Instant::now());
        let before = view.renderer.metrics();
        let start = Instant::now();
        let window = &view.window;
        let mut present_start = start;
        let drawn =
            view.presenter.draw(&view.gpu, &mut view.renderer, frame, CursorState { visible }, || {
                window.pre_present_notify();
                present_start = Instant::now();
            });
        match drawn {
            Ok(Drawn::Frame(stats)) => {
                self.latest_drawn = true;
                self.pacer.drawn(now);
                log::trace!(
                    "frame {} drawn in {:?}, presented in {:?}: {stats:?}",
                    frame.seq,
                    present_start - start,
                    present_start.elapsed()
                );
            }
            Ok(Drawn::Retry) => {
                view.window.request_redraw();
                return;
            }
            Ok(Drawn::Skipped) => return,
            Err(e) => {
                log::error!("{e}");
                return;
            }
        }
        if !self.first_frame_logged && frame.grid(GLOBAL_GRID).is_some() {
            self.first_frame_logged = true;
            log::info!(
                "first frame presented {:.1} ms after start",
                self.started.elapsed().as_secs_f64() * 1e3
            );
            if std::env::var_os("VIREO_REPORT_FIRST_FRAME").is_some() {
                println!("first-frame-ms {:.3}", self.started.elapsed().as_secs_f64() * 1e3);
            }
        }
        let zoomed = std::mem::take(&mut self.zoomed);
        if view.renderer.metrics() != before {
            // guifont or linespace changed the cell size: the window
            // follows, so the grid keeps its size (a zoom keeps the window).
            let grid = frame.grid(GLOBAL_GRID).map(|g| (g.width, g.height));
            match grid {
                Some((cols, rows)) if !zoomed => self.resize_window_to(cols, rows),
                _ => self.fit_grid(),
            }
        }
    }

    /// Resizes the window to hold `cols`x`rows` cells; a maximized or
    /// full-screen window keeps its size and the grid follows it instead.
    fn resize_window_to(&mut self, cols: usize, rows: usize) {
        let Some(view) = self.view.as_mut() else { return };
        if view.window.is_maximized() || view.window.fullscreen().is_some() {
            self.fit_grid();
            return;
        }
        let m = view.renderer.metrics();
        let (width, height) = view.renderer.padding.outer((cols as u32 * m.width, rows as u32 * m.height));
        let size = PhysicalSize::new(width, height);
        log::debug!("window resized to hold {cols}x{rows} cells: {size:?}");
        // Applied at once on some platforms (no Resized event follows),
        // later on others (X11), where Resized does the rest.
        if let Some(now) = view.window.request_inner_size(size) {
            view.presenter.resize(&view.gpu, now.width, now.height);
            view.window.request_redraw();
            self.fit_grid();
        }
    }

    /// nvim's grid may change in ways the window did not ask for (a
    /// request overtaken by `:set lines=`, another UI's size): whenever it
    /// changes, a grid that does not fit the window is asked to again.
    fn grid_changed(&mut self) {
        let grid = self.latest.as_ref().and_then(|f| f.grid(GLOBAL_GRID)).map(|g| (g.width, g.height));
        if grid == self.grid_seen {
            return;
        }
        self.grid_seen = grid;
        if grid.is_some() && grid == self.requested {
            // Answered: a later change is news, not this request's answer.
            self.requested = None;
        }
        self.fit_grid();
    }

    /// Asks nvim for the grid that fits the window at the current cell size.
    fn fit_grid(&mut self) {
        let Some(view) = &self.view else { return };
        let m = view.renderer.metrics();
        let (width, height) = view.renderer.padding.inner(view.presenter.size());
        let cols = (width / m.width).max(1) as usize;
        let rows = (height / m.height).max(1) as usize;
        let current = self.latest.as_ref().and_then(|f| f.grid(GLOBAL_GRID)).map(|g| (g.width, g.height));
        if current == Some((cols, rows)) || self.requested == Some((cols, rows)) {
            return;
        }
        let Some(conn) = &self.conn else { return };
        self.requested = Some((cols, rows));
        let args = vec![(cols as u64).into(), (rows as u64).into()];
        if let Err(e) = conn.session.notify(Lane::Input, "nvim_ui_try_resize", args) {
            log::warn!("resize not sent: {e}");
        }
    }

    fn key(&mut self, event: &KeyEvent) {
        if event.state != ElementState::Pressed {
            return;
        }
        let mousehide = self.latest.as_ref().and_then(|f| f.option("mousehide").cloned());
        if mousehide == Some(OptionValue::Bool(true))
            && !self.mouse.hidden
            && mouse::hides_pointer(&event.logical_key)
            && let Some(view) = &self.view
        {
            view.window.set_cursor_visible(false);
            self.mouse.hidden = true;
        }
        let ctrl_only = self.modifiers.control_key() && !self.modifiers.alt_key();
        if ctrl_only && let Key::Character(c) = &event.logical_key {
            let zoom = match c.as_str() {
                "=" | "+" => Some(Some(1.0)),
                "-" => Some(Some(-1.0)),
                "0" => Some(None),
                _ => None,
            };
            if let (Some(zoom), Some(view)) = (zoom, self.view.as_mut()) {
                match zoom {
                    Some(delta) => view.renderer.fonts.zoom(delta),
                    None => view.renderer.fonts.reset_zoom(),
                }
                view.renderer.invalidate();
                view.window.request_redraw();
                // Like a terminal's zoom: the window stays, the grid follows.
                self.zoomed = true;
                return;
            }
        }
        if is_paste_shortcut(&event.logical_key, self.modifiers) {
            self.paste();
            return;
        }
        let text = event.text.as_deref();
        log::debug!("key {:?} text {:?} mods {:?}", event.logical_key, text, self.modifiers);
        if !self.settings.input_alt_is_meta.any()
            && let Some(composed) = crate::input::keys::alt_composed(text, self.modifiers)
        {
            if let Some(conn) = &self.conn
                && let Err(e) = conn.session.input(&composed)
            {
                log::warn!("input not sent: {e}");
            }
            return;
        }
        let numpad = event.location == winit::keyboard::KeyLocation::Numpad;
        if let Some(keys) = crate::input::keys::to_nvim(&event.logical_key, text, self.modifiers, numpad)
            && let Some(conn) = &self.conn
            && let Err(e) = conn.session.input(&keys)
        {
            log::warn!("input not sent: {e}");
        }
    }
}

impl App {
    /// The screen cell under the pointer.
    fn pointer_cell(&self) -> Option<(i64, i64)> {
        let (x, y) = self.mouse.position?;
        let renderer = &self.view.as_ref()?.renderer;
        let (m, pad) = (renderer.metrics(), renderer.padding);
        let (x, y) = (x - f64::from(pad.left), y - f64::from(pad.top));
        Some(((y / f64::from(m.height)).floor() as i64, (x / f64::from(m.width)).floor() as i64))
    }

    fn send_mouse(&self, button: &str, action: &str, cell: mouse::GridCell) {
        let Some(conn) = &self.conn else { return };
        let m = self.modifiers;
        let mods = mouse::modifier_string(m.shift_key(), m.control_key(), m.alt_key(), m.super_key());
        log::debug!("mouse {mods}{button} {action} at {cell:?}");
        let args = vec![
            button.into(),
            action.into(),
            mods.into(),
            cell.grid.into(),
            cell.row.max(0).into(),
            cell.col.max(0).into(),
        ];
        if let Err(e) = conn.session.notify(Lane::Input, "nvim_input_mouse", args) {
            log::warn!("mouse event not sent: {e}");
        }
    }

    /// Turns the input method on in typing modes (per the setting) and keeps
    /// its candidate window at the cursor.
    fn update_ime(&mut self) {
        let (Some(view), Some(frame)) = (&self.view, &self.latest) else { return };
        let allowed = crate::input::ime_wanted(&frame.mode.name, self.settings.input_ime);
        let changed = self.ime_allowed != Some(allowed);
        if changed {
            view.window.set_ime_allowed(allowed);
            self.ime_allowed = Some(allowed);
            if !allowed {
                // A composition cannot outlive the input method.
                if let Some(view) = self.view.as_mut() {
                    view.renderer.set_preedit(None);
                }
            }
        }
        let Some(view) = &self.view else { return };
        let area = view.renderer.cursor_area(frame);
        let moved = allowed && area != self.ime_area;
        if moved {
            if let Some((x, y, w, h)) = area {
                let position = winit::dpi::PhysicalPosition::new(x as f64, y as f64);
                view.window.set_ime_cursor_area(position, winit::dpi::PhysicalSize::new(w as f64, h as f64));
            }
            self.ime_area = area;
        }
        if changed || moved {
            // winit's X11 backend applies input-method requests only when
            // the next X event arrives: without one, the key that follows
            // `i` would reach the old (off) input context and bypass the
            // input method. Setting the title again makes the server send
            // us a PropertyNotify at once.
            if is_x11(&view.window) {
                view.window.set_title(&self.title);
            }
        }
    }

    fn ime(&mut self, event: winit::event::Ime) {
        use winit::event::Ime;
        log::debug!("input method: {event:?}");
        match event {
            Ime::Preedit(text, _) => {
                if let Some(view) = self.view.as_mut() {
                    view.renderer.set_preedit(Some(text));
                    view.window.request_redraw();
                }
            }
            Ime::Commit(text) => {
                if let Some(view) = self.view.as_mut() {
                    view.renderer.set_preedit(None);
                    view.window.request_redraw();
                }
                if let Some(conn) = &self.conn
                    && let Err(e) = conn.session.input(&text.replace('<', "<lt>"))
                {
                    log::warn!("IME text not sent: {e}");
                }
            }
            Ime::Enabled => {}
            Ime::Disabled => {
                if let Some(view) = self.view.as_mut() {
                    view.renderer.set_preedit(None);
                    view.window.request_redraw();
                }
            }
        }
    }

    /// Streams the clipboard into nvim with `nvim_paste`, in phases, so a
    /// paste of any size arrives whole and undoes as one change. The
    /// transfer runs on the clipboard thread: a slow owner never freezes
    /// the window.
    fn paste(&self) {
        let Some(conn) = &self.conn else { return };
        let session = conn.session.clone();
        let queued = self.clipboard.submit(move |clipboard| {
            let (lines, regtype) = match clipboard.get("+") {
                Ok(v) => v,
                Err(e) => {
                    log::warn!("paste: {e}");
                    return;
                }
            };
            let mut text = lines.join("\n");
            if regtype == "V" {
                text.push('\n');
            }
            const CHUNK: usize = 256 * 1024;
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

    /// Opens a file dropped on the window with `:drop`.
    fn open_dropped(&self, path: &std::path::Path) {
        let Some(conn) = &self.conn else { return };
        let args = crate::input::drop_file_args(path);
        // As a notification: a failure comes back as nvim_error_event and is logged.
        if let Err(e) = conn.session.notify(Lane::Input, "nvim_exec_lua", args) {
            log::warn!("dropped file not opened: {e}");
        }
    }

    /// nvim wants the mouse ('mouse' is set for the current mode).
    fn mouse_wanted(&self) -> Option<&Frame> {
        self.latest.as_ref().filter(|f| f.mouse_enabled)
    }

    fn mouse_moved(&mut self, x: f64, y: f64) {
        self.mouse.position = Some((x, y));
        if self.mouse.hidden {
            if let Some(view) = &self.view {
                view.window.set_cursor_visible(true);
            }
            self.mouse.hidden = false;
        }
        let Some(cell) = self.pointer_cell() else { return };
        if self.mouse.last_cell == Some(cell) {
            return;
        }
        self.mouse.last_cell = Some(cell);
        self.update_link_pointer();
        let Some(frame) = self.mouse_wanted() else { return };
        match self.mouse.held {
            // A drag stays on the grid where its press went.
            Some((button, grid)) => {
                if let Some(target) = mouse::relative_to(frame, grid, cell.0, cell.1) {
                    self.send_mouse(button, "drag", target);
                }
            }
            // Plain moves only when asked for ('mousemoveevent').
            None => {
                let wanted = frame.option("mousemoveevent") == Some(&OptionValue::Bool(true));
                if wanted && let Some(target) = mouse::hit_test(frame, cell.0, cell.1) {
                    self.send_mouse("move", "", target);
                }
            }
        }
    }

    fn mouse_button(&mut self, state: ElementState, button: MouseButton) {
        let name = match button {
            MouseButton::Left => "left",
            MouseButton::Right => "right",
            MouseButton::Middle => "middle",
            MouseButton::Back => "x1",
            MouseButton::Forward => "x2",
            MouseButton::Other(_) => return,
        };
        let Some(cell) = self.pointer_cell() else { return };
        if button == MouseButton::Left && self.link_click(state, cell) {
            return;
        }
        match state {
            ElementState::Pressed => {
                let Some(hit) = self.mouse_wanted().and_then(|f| mouse::hit_test(f, cell.0, cell.1)) else {
                    return;
                };
                self.mouse.held = Some((name, hit.grid));
                self.mouse.last_cell = Some(cell);
                self.send_mouse(name, "press", hit);
            }
            ElementState::Released => {
                let grid = self.mouse.held.take().map(|(_, g)| g);
                let target = self.mouse_wanted().and_then(|f| match grid {
                    Some(g) => mouse::relative_to(f, g, cell.0, cell.1),
                    None => mouse::hit_test(f, cell.0, cell.1),
                });
                if let Some(target) = target {
                    self.send_mouse(name, "release", target);
                }
            }
        }
    }

    fn mouse_wheel(&mut self, delta: MouseScrollDelta) {
        let Some(m) = self.view.as_ref().map(|v| v.renderer.metrics()) else { return };
        let (dx, dy) = match delta {
            MouseScrollDelta::LineDelta(x, y) if self.mouse.legacy_wheel.is_release(x, y) => return,
            MouseScrollDelta::LineDelta(x, y) => self.mouse.wheel.add_lines(f64::from(x), f64::from(y)),
            MouseScrollDelta::PixelDelta(p) => {
                self.mouse.wheel.add_pixels(p.x, p.y, f64::from(m.width), f64::from(m.height))
            }
        };
        let Some(cell) = self.pointer_cell() else { return };
        let Some(hit) = self.mouse_wanted().and_then(|f| mouse::hit_test(f, cell.0, cell.1)) else { return };
        for (action, times) in mouse::wheel_actions(dx, dy) {
            for _ in 0..times {
                self.send_mouse("wheel", action, hit);
            }
        }
    }

    /// Shows a hand while Ctrl alone is held over a link, else the arrow.
    fn update_link_pointer(&mut self) {
        let cell = self.pointer_cell();
        if let Some(icon) = self.links.pointer(self.latest.as_ref(), cell, self.modifiers)
            && let Some(view) = &self.view
        {
            view.window.set_cursor(icon);
        }
    }

    /// A Ctrl+click on a link opens it; the press and its release are
    /// vireo's (true), not nvim's.
    fn link_click(&mut self, state: ElementState, cell: (i64, i64)) -> bool {
        if state == ElementState::Released {
            return self.links.release();
        }
        let Some(url) = self.links.press(self.latest.as_ref(), cell, self.modifiers) else { return false };
        let session = self.conn.as_ref().map(|c| c.session.clone());
        crate::input::links::open(&url, self.settings.url_opener.as_deref(), move |message| {
            if let Some(session) = session
                && let Err(e) =
                    session.notify(Lane::Query, "nvim_echo", crate::input::links::echo_args(&message))
            {
                log::warn!("could not tell nvim: {e}");
            }
        });
        true
    }
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

/// The X11 window id (the input-method watchdog's target), on X11.
#[cfg(unix)]
fn x11_window_id(window: &Window) -> Option<u32> {
    use winit::raw_window_handle::{HasWindowHandle, RawWindowHandle};
    match window.window_handle().ok()?.as_raw() {
        RawWindowHandle::Xlib(h) => u32::try_from(h.window).ok(),
        RawWindowHandle::Xcb(h) => Some(h.window.get()),
        _ => None,
    }
}

fn is_x11(window: &Window) -> bool {
    use winit::raw_window_handle::{HasWindowHandle, RawWindowHandle};
    window
        .window_handle()
        .is_ok_and(|h| matches!(h.as_raw(), RawWindowHandle::Xlib(_) | RawWindowHandle::Xcb(_)))
}

/// Ctrl+Shift+V, or Cmd+V on macOS.
fn is_paste_shortcut(key: &Key, mods: ModifiersState) -> bool {
    let Key::Character(c) = key else { return false };
    let v = c.eq_ignore_ascii_case("v");
    let ctrl_shift = mods.control_key() && mods.shift_key() && !mods.alt_key() && !mods.super_key();
    let cmd = cfg!(target_os = "macos") && mods.super_key() && !mods.control_key() && !mods.alt_key();
    v && (ctrl_shift || cmd)
}

fn load_icon() -> Option<Icon> {
    let bytes: &[u8] = include_bytes!("../assets/vireo.png");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Icon::from_rgba(buf, info.width, info.height).ok()
}

impl App {
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

    /// When the loop must wake next: the cursor's next blink, a frame put
    /// off by the frame-rate cap, or with `idle` off the next frame. None
    /// when nothing is due: the loop sleeps until an event.
    fn next_wake(&self, now: Instant) -> Option<Instant> {
        let (_, blink) = self.blink.state(now);
        [blink, self.pacer.next_frame(now, &self.settings)].into_iter().flatten().min()
    }
}

impl ApplicationHandler<UserEvent> for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.view.is_some() {
            return;
        }
        match self.create_view(event_loop) {
            Ok(view) => {
                #[cfg(unix)]
                {
                    self.xim_watchdog =
                        x11_window_id(&view.window).and_then(crate::input::xim::Watchdog::start);
                }
                self.view = Some(view);
                log::debug!("renderer ready after {:?}", self.started.elapsed());
                match self.starting.take().map(nvim::Starting::wait) {
                    Some(Ok(conn)) => {
                        conn.echo_errors(&std::mem::take(&mut self.problems));
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
                if let Some(theme) = self.view.as_ref().and_then(|v| v.window.theme()) {
                    self.desktop_theme(theme);
                }
                self.fit_grid();
                self.drain(event_loop);
                if let Some(view) = &self.view {
                    view.window.request_redraw();
                }
            }
            Err(e) => {
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
        if let StartCause::ResumeTimeReached { .. } = cause {
            // A blink phase ended, a capped frame is due, or (--no-idle)
            // the next frame.
            if let Some(view) = &self.view {
                view.window.request_redraw();
            }
        }
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: UserEvent) {
        match event {
            UserEvent::Wake => self.drain(event_loop),
            UserEvent::ConfigChanged => self.reload_config(),
            UserEvent::Fonts(db) => {
                if let Some(view) = self.view.as_mut() {
                    view.renderer.fonts.install_system_fonts(*db);
                    view.renderer.invalidate();
                    view.window.request_redraw();
                }
                self.fit_grid();
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::RedrawRequested => self.render(),
            WindowEvent::Resized(size) => {
                if let Some(view) = self.view.as_mut() {
                    view.presenter.resize(&view.gpu, size.width, size.height);
                    view.window.request_redraw();
                }
                self.fit_grid();
            }
            WindowEvent::ScaleFactorChanged { scale_factor, .. } => {
                let scale = scale_factor as f32 * self.settings.scale_factor.0;
                if let Some(view) = self.view.as_mut()
                    && view.renderer.fonts.set_scale(scale)
                {
                    view.renderer.invalidate();
                    view.window.request_redraw();
                }
                self.fit_grid();
            }
            WindowEvent::CloseRequested => {
                // Quit the way :confirm qa does: unsaved buffers make nvim
                // ask, and vireo exits only when nvim does. Without
                // confirm_quit, :qa refuses and names the unsaved buffer.
                let quit = if self.settings.confirm_quit { "confirm qa" } else { "qa" };
                log::info!("close requested: asking nvim to quit (:{quit})");
                let keys = format!("<C-\\><C-n>:{quit}<CR>");
                let asked = self.conn.as_ref().map(|c| c.session.input(&keys));
                if let Some(Err(e)) = asked {
                    log::error!("could not ask nvim to quit ({e}); closing");
                    event_loop.exit();
                }
            }
            WindowEvent::DroppedFile(path) => self.open_dropped(&path),
            WindowEvent::ThemeChanged(theme) => self.desktop_theme(theme),
            WindowEvent::Ime(ime) => self.ime(ime),
            WindowEvent::ModifiersChanged(mods) => {
                self.modifiers = mods.state();
                self.update_link_pointer();
            }
            WindowEvent::CursorMoved { position, .. } => self.mouse_moved(position.x, position.y),
            WindowEvent::CursorLeft { .. } => {
                self.mouse.position = None;
                self.update_link_pointer();
            }
            WindowEvent::MouseInput { state, button, .. } => self.mouse_button(state, button),
            WindowEvent::MouseWheel { delta, .. } => self.mouse_wheel(delta),
            WindowEvent::KeyboardInput { event, .. } => self.key(&event),
            WindowEvent::Focused(focused) => {
                log::debug!("focused: {focused}");
                self.pacer.focused = focused;
                let args = vec![focused.into()];
                let sent =
                    self.conn.as_ref().map(|c| c.session.notify(Lane::Input, "nvim_ui_set_focus", args));
                if let Some(Err(e)) = sent {
                    log::warn!("focus change not sent: {e}");
                }
            }
            _ => {}
        }
    }

    fn device_event(&mut self, _: &ActiveEventLoop, _: winit::event::DeviceId, event: DeviceEvent) {
        // Raw button numbers are X11's; other platforms number them otherwise.
        if let DeviceEvent::Button { button, state } = event
            && self.view.as_ref().is_some_and(|v| is_x11(&v.window))
        {
            self.mouse.legacy_wheel.raw_button(button, state == ElementState::Pressed);
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
        let next = self.next_wake(Instant::now());
        event_loop.set_control_flow(match next {
            Some(at) => ControlFlow::WaitUntil(at),
            None => ControlFlow::Wait,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_to_the_refresh_rate_and_idle_costs_nothing() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut s = Settings { refresh_rate: crate::settings::Rate(50), ..Settings::default() };
        let mut pacer = Pacer::default();
        assert!(pacer.may_draw(start, &s), "the first frame is drawn at once");
        pacer.drawn(start);
        assert_eq!(pacer.next_frame(at(1), &s), None, "nothing due: the loop sleeps");
        assert!(!pacer.may_draw(at(5), &s), "20 ms apart at 50 Hz");
        assert_eq!(pacer.next_frame(at(5), &s), Some(at(20)), "the put-off frame is due then");
        assert!(pacer.may_draw(at(20), &s));
        pacer.drawn(at(20));
        assert_eq!(pacer.next_frame(at(21), &s), None);
        // Without the focus nvim's frames keep coming at refresh_rate.
        pacer.focused = false;
        assert!(!pacer.may_draw(at(30), &s));
        assert_eq!(pacer.next_frame(at(30), &s), Some(at(40)));
        assert!(pacer.may_draw(at(40), &s));
        pacer.drawn(at(40));
        // --no-idle: a frame at every interval even with nothing new, at
        // refresh_rate_idle (default 5 a second) without the focus...
        s.idle = false;
        assert_eq!(pacer.next_frame(at(41), &s), Some(at(240)));
        // ...and refresh_rate with it.
        pacer.focused = true;
        assert_eq!(pacer.next_frame(at(41), &s), Some(at(60)));
    }

    #[test]
    fn blink_follows_guicursor_timing() {
        let mut blink = Blink::default();
        let start = Instant::now();
        blink.since = Some(start);
        blink.timing =
            Some((Duration::from_millis(700), Duration::from_millis(400), Duration::from_millis(250)));
        assert_eq!(
            blink.state(start + Duration::from_millis(100)),
            (true, Some(start + Duration::from_millis(700)))
        );
        let (on, next) = blink.state(start + Duration::from_millis(800));
        assert!(!on);
        assert_eq!(next, Some(start + Duration::from_millis(950)));
        let (on, next) = blink.state(start + Duration::from_millis(1000));
        assert!(on);
        assert_eq!(next, Some(start + Duration::from_millis(1350)));
        // No blinking: always on and no timer at all (zero idle work).
        assert_eq!(Blink::default().state(start), (true, None));
    }

    /// A frame with the cursor at `col` in mode `mode`, blinking per
    /// `blinkwait700-blinkoff400-blinkon250`.
    fn blinking_frame(col: usize, mode: usize) -> Frame {
        use crate::model::{Model, RedrawEvent};
        let info = crate::model::ModeInfo {
            blinkwait: Some(700),
            blinkon: Some(250),
            blinkoff: Some(400),
            ..Default::default()
        };
        let mut model = Model::new();
        let events = [
            RedrawEvent::GridResize { grid: 1, width: 10, height: 2 },
            RedrawEvent::ModeInfoSet { cursor_style_enabled: true, modes: vec![info.clone(), info] },
            RedrawEvent::ModeChange { mode: "normal".into(), index: mode },
            RedrawEvent::GridCursorGoto { grid: 1, row: 0, col },
        ];
        for event in events {
            model.apply(event).unwrap();
        }
        model.apply(RedrawEvent::Flush).unwrap().expect("flush publishes a frame")
    }

    #[test]
    fn blink_restarts_only_when_the_cursor_moves_or_the_mode_changes() {
        let mut blink = Blink::default();
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        blink.update(&blinking_frame(3, 0), start);
        // A redraw that leaves cursor and mode alone (terminal output) keeps
        // the phase: at 800 ms the cursor is in its first off period.
        blink.update(&blinking_frame(3, 0), at(600));
        assert!(!blink.state(at(800)).0, "the cursor blinks off on schedule");
        // Moving restarts the wait: on for 700 ms from the move.
        blink.update(&blinking_frame(4, 0), at(800));
        assert_eq!(blink.state(at(900)), (true, Some(at(1500))));
        // So does a mode change at the same position.
        blink.update(&blinking_frame(4, 1), at(1600));
        assert_eq!(blink.state(at(1700)), (true, Some(at(2300))));
    }
}
