//! The display: the window, the graphics device, the renderer and the
//! presenter, and the window's geometry (padding, cell size, the grid it
//! holds). Animation state belongs here too, next to what draws it.
//!
//! ```text
//!   window size ─┐                        ┌─► nvim_ui_try_resize (sent by app.rs)
//!   cell size  ──┼─► fit_grid ─► (cols, rows)
//!   padding ─────┘        ▲
//!                         └── grid_changed: nvim's grid moved on its own
//!
//!   frame ─► draw ─► Renderer ─► Presenter (swapchain or shared memory)
//!                     └─ cell size changed ─► resize_window_to (window follows)
//! ```
//!
//! Nothing here talks to nvim: methods that need nvim to change its grid
//! return the size to ask for, and the caller sends it.

use std::sync::Arc;
use std::time::Instant;

use winit::dpi::{LogicalSize, PhysicalSize};
use winit::event_loop::ActiveEventLoop;
use winit::window::{Icon, Window};

use super::AppError;
use super::input::{CellLayout, Zoom};
use crate::input::ImePolicy;
use crate::model::{Frame, GLOBAL_GRID};
use crate::present::{Drawn, Presenter};
use crate::render::cursor_motion::{CursorMotion, MotionKnobs, Target};
use crate::render::flash::Flash;
use crate::render::font::{CellMetrics, Fonts};
use crate::render::gpu::{Gpu, GpuError};
use crate::render::vfx::{self, Vfx, VfxKnobs};
use crate::render::{CursorState, Pipelines, Renderer};
use crate::settings::state::WindowState;
use crate::settings::{Settings, WindowFrame};

/// A grid size to ask nvim for (`nvim_ui_try_resize`).
pub type GridRequest = Option<(usize, usize)>;

/// How the first window is sized and placed.
#[derive(Debug, Clone, Copy)]
pub struct WindowStart {
    /// The grid nvim was started with.
    pub grid: (usize, usize),
    /// What was remembered from the last run.
    pub remembered: Option<WindowState>,
    /// grid, size or maximized was set: the remembered size is not used.
    pub explicit_size: bool,
}

/// The graphics device, and for shared-memory presentation the renderer,
/// made on a thread of their own while the display connection opens, nvim
/// starts and the window appears: on Mesa's lavapipe loading the driver,
/// opening the device and compiling the pipelines take longer than all of
/// those. Dropped unused (vireo gave up before its window opened), it
/// waits for the thread, so the process never exits with the driver half
/// loaded.
pub struct Preparing(Option<std::thread::JoinHandle<Result<Prepared, GpuError>>>);

struct Prepared {
    gpu: Gpu,
    /// Made for shared-memory presentation's format; `None` where frames
    /// go to a swapchain, whose format the window's surface tells.
    pipelines: Option<Pipelines>,
}

impl Preparing {
    pub fn start() -> std::io::Result<Preparing> {
        std::thread::Builder::new()
            .name("vireo-gpu".into())
            .spawn(|| {
                // Vulkan needs no display connection for the instance.
                let gpu = Gpu::new(Gpu::instance(), None)?;
                let pipelines = crate::present::wants_shared(&gpu.adapter)
                    .then(|| Pipelines::warmed(&gpu.device, &gpu.queue, crate::present::SHARED_FORMAT));
                Ok(Prepared { gpu, pipelines })
            })
            .map(|thread| Preparing(Some(thread)))
    }

    fn wait(mut self) -> Result<Prepared, GpuError> {
        let thread = self.0.take().expect("a thread until waited for");
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Drop for Preparing {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            thread.join().ok();
        }
    }
}

/// Everything that exists once the window does.
pub struct Display {
    pub window: Arc<Window>,
    presenter: Presenter,
    gpu: Gpu,
    pub renderer: Renderer,
    title: String,
    /// IME state last given to the window: allowed, and the cursor area.
    ime_allowed: Option<bool>,
    ime_area: Option<(f32, f32, f32, f32)>,
    /// The cursor area moved and winit's X11 backend has not applied it:
    /// nudged once the frame is drawn (see [`Display::update_ime`]).
    ime_nudge: bool,
    /// The grid size last asked of nvim and not yet seen.
    requested: Option<(usize, usize)>,
    /// The global grid's size in the frame last taken.
    grid_seen: Option<(usize, usize)>,
    /// Ctrl+=/- changed the font size since the last frame drawn.
    zoomed: bool,
    /// The cursor's slide from cell to cell.
    motion: CursorMotion,
    /// The bell's flash.
    flash: Flash,
    /// The cursor's particle effects.
    vfx: Vfx,
}

impl Display {
    /// Opens the window and the graphics device.
    pub fn new(
        event_loop: &ActiveEventLoop,
        preparing: Preparing,
        s: &Settings,
        start: WindowStart,
        started: Instant,
    ) -> Result<Display, AppError> {
        let mut fonts = Fonts::bundled(s.scale_factor.0);
        fonts.ligatures = s.ligatures;
        fonts.set_config(&s.font);
        let m = fonts.metrics();
        let padding = s.padding();
        let (cols, rows) = start.grid;
        let remembered = start.remembered.filter(|_| s.remember_window_size && !start.explicit_size);
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
            .with_transparent(crate::present::transparent_window())
            .with_window_icon(load_icon());
        let monitors: Vec<_> = event_loop
            .available_monitors()
            .map(|m| (m.position().x, m.position().y, m.size().width, m.size().height))
            .collect();
        let place =
            start.remembered.filter(|_| s.remember_window_position).and_then(|st| st.position_on(&monitors));
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
        crate::trace::mark(crate::trace::Stage::WindowCreated);
        log::debug!("window created after {:?}", started.elapsed());
        let Prepared { gpu, pipelines } = preparing.wait()?;
        log::debug!("graphics device ready after {:?}", started.elapsed());
        let shared = pipelines.and_then(|pipelines| match Presenter::shared(&window) {
            Ok((presenter, format)) => Some((presenter, format, pipelines)),
            Err(e) => {
                log::warn!("{e}; using the swapchain");
                None
            }
        });
        let (gpu, presenter, format, pipelines) = match shared {
            Some((presenter, format, pipelines)) => (gpu, presenter, format, pipelines),
            None => {
                let surface = gpu
                    .instance
                    .create_surface(window.clone())
                    .map_err(|e| GpuError::Surface(e.to_string()))?;
                // The device was opened before the window existed: one
                // that cannot show on it gives way to one that can.
                let gpu = match gpu.adapter.is_surface_supported(&surface) {
                    true => gpu,
                    false => Gpu::new(gpu.instance.clone(), Some(&surface))?,
                };
                let (presenter, format) = Presenter::swapchain(&window, surface, &gpu, s.vsync);
                let pipelines = Pipelines::new(&gpu.device, &gpu.queue, format);
                (gpu, presenter, format, pipelines)
            }
        };
        let (device, queue) = (gpu.device.clone(), gpu.queue.clone());
        let mut renderer = Renderer::with_pipelines(device, queue, format, pipelines, fonts);
        renderer.padding = padding;
        renderer.opacity = s.opacity();
        renderer.depth = s.depth();
        let scale = window.scale_factor() as f32 * s.scale_factor.0;
        if scale != s.scale_factor.0 {
            renderer.fonts.set_scale(scale);
        }
        Ok(Display {
            window,
            presenter,
            gpu,
            renderer,
            title: String::new(),
            ime_allowed: None,
            ime_area: None,
            ime_nudge: false,
            requested: None,
            grid_seen: None,
            zoomed: false,
            motion: CursorMotion::default(),
            flash: Flash::default(),
            vfx: Vfx::default(),
        })
    }

    pub fn request_redraw(&self) {
        self.window.request_redraw();
    }

    /// The cell size and padding, for the input processor.
    pub fn layout(&self) -> CellLayout {
        let m = self.renderer.metrics();
        CellLayout { cell_width: m.width, cell_height: m.height, padding: self.renderer.padding }
    }

    /// Takes `frame`'s cursor into its slide and its particle effects at
    /// `now` and tells the renderer how to draw it for a frame drawn now:
    /// where (sliding or on its cell), hollow without the focus, `alpha`
    /// times as opaque, and the particles alive.
    pub fn prepare_cursor(&mut self, frame: &Frame, now: Instant, s: &Settings, focused: bool, alpha: f32) {
        let m = self.renderer.metrics();
        let target = Target::of(frame, m);
        let knobs = MotionKnobs::from_settings(s);
        self.motion.retarget(target, now, &knobs);
        self.renderer.cursor_smear = self.motion.quad(now);
        let effects = VfxKnobs::from_settings(s);
        self.vfx.retarget(target, now, m, &effects, &knobs);
        let sprites = self.vfx.sprites(now, effects.opacity);
        self.renderer.cursor_vfx = vfx::rects(&sprites, vfx::cursor_color(frame, m));
        self.renderer.cursor_antialiasing = s.cursor_antialiasing;
        let outline = s.cursor_unfocused_outline_width.0 * self.renderer.metrics().width as f32;
        self.renderer.cursor_outline = (!focused && outline > 0.0).then_some(outline);
        self.renderer.cursor_alpha = alpha;
    }

    /// Takes `frame`'s bells at `now` and tells the renderer how strongly
    /// to flash the window in a frame drawn now.
    pub fn prepare_flash(&mut self, frame: &Frame, now: Instant, s: &Settings) {
        self.flash.ring(frame.bells, frame.visual_bells, now, s.visual_bell);
        self.renderer.flash = self.flash.strength(now);
    }

    /// Tells the renderer to draw scrolls and window moves for a frame
    /// drawn at `now`, sliding as the settings say.
    pub fn prepare_slides(&mut self, now: Instant, s: &Settings) {
        self.renderer.slides = crate::render::SlideKnobs::from_settings(s);
        self.renderer.now = now;
    }

    /// When the last scroll or window slide ends; `None` when nothing
    /// slides at `now`.
    pub fn slide_end(&self, now: Instant) -> Option<Instant> {
        self.renderer.slide_end(now)
    }

    /// When the bell's flash ends; `None` when none is on at `now`.
    pub fn flash_end(&self, now: Instant) -> Option<Instant> {
        self.flash.end(now)
    }

    /// When the cursor's slide ends; `None` when it rests at `now`.
    pub fn cursor_slide_end(&self, now: Instant) -> Option<Instant> {
        self.motion.end(now)
    }

    /// When the cursor's last particle dies; `None` when none is left at
    /// `now`.
    pub fn cursor_vfx_end(&self, now: Instant) -> Option<Instant> {
        self.vfx.end(now)
    }

    /// Draws `frame` and presents it. Returns the cell size it was drawn
    /// over when it reached the window, for [`Display::follow_cell_size`].
    pub fn draw(&mut self, frame: &Frame, cursor: CursorState) -> Option<CellMetrics> {
        let before = self.renderer.metrics();
        let start = Instant::now();
        let window = &self.window;
        let mut present_start = start;
        let drawn = self.presenter.draw(&self.gpu, &mut self.renderer, frame, cursor, || {
            window.pre_present_notify();
            present_start = Instant::now();
        });
        self.nudge_ime();
        match drawn {
            Ok(Drawn::Frame(stats)) => {
                log::trace!(
                    "frame {} drawn in {:?}, presented in {:?}: {stats:?}",
                    frame.seq,
                    present_start - start,
                    present_start.elapsed()
                );
                Some(before)
            }
            Ok(Drawn::Retry) => {
                self.window.request_redraw();
                None
            }
            Ok(Drawn::Skipped) => None,
            Err(e) => {
                log::error!("{e}");
                None
            }
        }
    }

    /// After `frame` was drawn: when guifont or linespace changed the cell
    /// size from `before`, the window follows, so the grid keeps its size
    /// (a zoom keeps the window and the grid follows instead).
    pub fn follow_cell_size(&mut self, frame: &Frame, before: CellMetrics) -> GridRequest {
        let zoomed = std::mem::take(&mut self.zoomed);
        if self.renderer.metrics() == before {
            return None;
        }
        match frame.grid(GLOBAL_GRID).map(|g| (g.width, g.height)) {
            Some((cols, rows)) if !zoomed => self.resize_window_to(cols, rows, Some(frame)),
            _ => self.fit_grid(Some(frame)),
        }
    }

    /// The window was resized to `width`x`height` pixels.
    pub fn resized(&mut self, width: u32, height: u32, frame: Option<&Frame>) -> GridRequest {
        self.presenter.resize(&self.gpu, width, height);
        self.window.request_redraw();
        self.fit_grid(frame)
    }

    /// The screen's scale factor changed; `scale` includes the
    /// `scale_factor` setting.
    pub fn rescaled(&mut self, scale: f32, frame: Option<&Frame>) -> GridRequest {
        if self.renderer.fonts.set_scale(scale) {
            self.renderer.invalidate();
            self.window.request_redraw();
        }
        self.fit_grid(frame)
    }

    /// The system font scan finished.
    pub fn install_system_fonts(
        &mut self,
        db: glyphon::fontdb::Database,
        frame: Option<&Frame>,
    ) -> GridRequest {
        self.renderer.fonts.install_system_fonts(db);
        self.renderer.invalidate();
        self.window.request_redraw();
        self.fit_grid(frame)
    }

    /// Ctrl+=, Ctrl+-, Ctrl+0: like a terminal's zoom, the window stays
    /// and the grid follows (once the frame is drawn at the new size).
    pub fn zoom(&mut self, zoom: Zoom) {
        match zoom {
            Zoom::By(delta) => self.renderer.fonts.zoom(delta),
            Zoom::Reset => self.renderer.fonts.reset_zoom(),
        }
        self.renderer.invalidate();
        self.window.request_redraw();
        self.zoomed = true;
    }

    pub fn set_preedit(&mut self, text: Option<String>) {
        self.renderer.set_preedit(text);
        self.window.request_redraw();
    }

    /// Sets the window's title to the frame's ("vireo" when it has none).
    pub fn set_title(&mut self, frame: &Frame) {
        let title = if frame.title.is_empty() { "vireo" } else { &frame.title };
        if title != self.title {
            self.title = title.to_owned();
            self.window.set_title(title);
        }
    }

    /// Makes the window follow the settings in force where they changed
    /// from `before`; returns the grid to ask for when the cells' room did.
    pub fn apply_settings(&mut self, s: &Settings, before: &Settings, frame: Option<&Frame>) -> GridRequest {
        if s.fullscreen != before.fullscreen {
            self.window.set_fullscreen(s.fullscreen.then_some(winit::window::Fullscreen::Borderless(None)));
        }
        if s.ligatures != before.ligatures {
            self.renderer.fonts.ligatures = s.ligatures;
            self.renderer.invalidate();
            self.window.request_redraw();
        }
        if s.font != before.font {
            // Applied with the next frame, as guifont is: the window then
            // follows the new cell size and the grid stays.
            self.renderer.set_font_config(s.font.clone());
            self.window.request_redraw();
        }
        if s.opacity() != before.opacity() {
            self.renderer.opacity = s.opacity();
            self.window.request_redraw();
        }
        if s.depth() != before.depth() {
            self.renderer.depth = s.depth();
            self.window.request_redraw();
        }
        if s.idle != before.idle {
            self.window.request_redraw();
        }
        // New padding or scale: the window stays and the grid follows.
        let (padding, scale) = (s.padding(), s.scale_factor);
        if padding == before.padding() && scale == before.scale_factor {
            return None;
        }
        self.renderer.padding = padding;
        if self.renderer.fonts.set_scale(self.window.scale_factor() as f32 * scale.0) {
            self.renderer.invalidate();
        }
        self.window.request_redraw();
        self.fit_grid(frame)
    }

    /// Resizes the window to hold `cols`x`rows` cells; a maximized or
    /// full-screen window keeps its size and the grid follows it instead.
    pub fn resize_window_to(&mut self, cols: usize, rows: usize, frame: Option<&Frame>) -> GridRequest {
        if self.window.is_maximized() || self.window.fullscreen().is_some() {
            return self.fit_grid(frame);
        }
        let m = self.renderer.metrics();
        let (width, height) = self.renderer.padding.outer((cols as u32 * m.width, rows as u32 * m.height));
        let size = PhysicalSize::new(width, height);
        log::debug!("window resized to hold {cols}x{rows} cells: {size:?}");
        // Applied at once on some platforms (no Resized event follows),
        // later on others (X11), where Resized does the rest.
        let now = self.window.request_inner_size(size)?;
        self.presenter.resize(&self.gpu, now.width, now.height);
        self.window.request_redraw();
        self.fit_grid(frame)
    }

    /// nvim's grid may change in ways the window did not ask for (a
    /// request overtaken by `:set lines=`, another UI's size): whenever it
    /// changes, a grid that does not fit the window is asked to again.
    pub fn grid_changed(&mut self, frame: Option<&Frame>) -> GridRequest {
        let grid = frame.and_then(|f| f.grid(GLOBAL_GRID)).map(|g| (g.width, g.height));
        if grid == self.grid_seen {
            return None;
        }
        self.grid_seen = grid;
        if grid.is_some() && grid == self.requested {
            // Answered: a later change is news, not this request's answer.
            self.requested = None;
        }
        self.fit_grid(frame)
    }

    /// The grid that fits the window at the current cell size, when it is
    /// neither `frame`'s nor already asked for.
    pub fn fit_grid(&mut self, frame: Option<&Frame>) -> GridRequest {
        let m = self.renderer.metrics();
        let (width, height) = self.renderer.padding.inner(self.presenter.size());
        let cols = (width / m.width).max(1) as usize;
        let rows = (height / m.height).max(1) as usize;
        let current = frame.and_then(|f| f.grid(GLOBAL_GRID)).map(|g| (g.width, g.height));
        if current == Some((cols, rows)) || self.requested == Some((cols, rows)) {
            return None;
        }
        self.requested = Some((cols, rows));
        Some((cols, rows))
    }

    /// Turns the input method on in typing modes (per `policy`) and keeps
    /// its candidate window at the cursor.
    pub fn update_ime(&mut self, frame: &Frame, policy: ImePolicy) {
        let allowed = crate::input::ime_wanted(&frame.mode.name, policy);
        let changed = self.ime_allowed != Some(allowed);
        if changed {
            self.window.set_ime_allowed(allowed);
            self.ime_allowed = Some(allowed);
            if !allowed {
                // A composition cannot outlive the input method.
                self.renderer.set_preedit(None);
            }
        }
        let area = self.renderer.cursor_area(frame);
        let moved = allowed && area != self.ime_area;
        if moved {
            if let Some((x, y, w, h)) = area {
                let position = winit::dpi::PhysicalPosition::new(x as f64, y as f64);
                self.window.set_ime_cursor_area(position, winit::dpi::PhysicalSize::new(w as f64, h as f64));
            }
            self.ime_area = area;
        }
        if !self.is_x11() {
            return;
        }
        // winit's X11 backend applies input-method requests only when the
        // next X event arrives: without one, the key that follows `i`
        // would reach the old (off) input context and bypass the input
        // method, and the candidate window would open where the cursor
        // was. Setting the title again makes the server send us a
        // PropertyNotify. A mode change is nudged at once; a cursor that
        // moved (every typed key) after the frame is drawn, so that the
        // request and the event it brings stay off the key's way to the
        // screen.
        if changed {
            self.window.set_title(&self.title);
            self.ime_nudge = false;
        } else if moved {
            self.ime_nudge = true;
        }
    }

    /// Applies an input-method request [`Display::update_ime`] left for
    /// after the frame.
    fn nudge_ime(&mut self) {
        if std::mem::take(&mut self.ime_nudge) {
            self.window.set_title(&self.title);
        }
    }

    /// The window's size and place to remember for the next start, as the
    /// remember_window_* knobs say; `None` in full screen or without a grid.
    pub fn window_state(&self, frame: Option<&Frame>) -> Option<WindowState> {
        if self.window.fullscreen().is_some() {
            // The monitor's size, not one to open a framed window at: what
            // was remembered before stays.
            log::debug!("window state not saved: the window is in full screen");
            return None;
        }
        let size = self.window.inner_size();
        let (cols, rows) = frame.and_then(|f| f.grid(GLOBAL_GRID)).map(|g| (g.width, g.height))?;
        let position = self.window.outer_position().ok();
        Some(WindowState {
            width: size.width,
            height: size.height,
            cols,
            rows,
            x: position.map(|p| p.x),
            y: position.map(|p| p.y),
            maximized: self.window.is_maximized(),
        })
    }

    pub fn is_x11(&self) -> bool {
        use winit::raw_window_handle::{HasWindowHandle, RawWindowHandle};
        self.window
            .window_handle()
            .is_ok_and(|h| matches!(h.as_raw(), RawWindowHandle::Xlib(_) | RawWindowHandle::Xcb(_)))
    }

    /// The X11 window id (the input-method watchdog's target), on X11.
    #[cfg(unix)]
    pub fn x11_window_id(&self) -> Option<u32> {
        use winit::raw_window_handle::{HasWindowHandle, RawWindowHandle};
        match self.window.window_handle().ok()?.as_raw() {
            RawWindowHandle::Xlib(h) => u32::try_from(h.window).ok(),
            RawWindowHandle::Xcb(h) => Some(h.window.get()),
            _ => None,
        }
    }
}

fn load_icon() -> Option<Icon> {
    let bytes: &[u8] = include_bytes!("../../assets/vireo.png");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Icon::from_rgba(buf, info.width, info.height).ok()
}
