//! Getting rendered frames onto the window.
//!
//! With a GPU, frames are drawn into the window's swapchain image and
//! presented (a wgpu surface). When the graphics adapter is the CPU itself
//! (Mesa's lavapipe on a machine without a GPU), presenting a swapchain
//! image costs more than drawing the frame: every present pushes the whole
//! window to the display server. There the shown frame lives only in the
//! shared-memory buffer the display reads (MIT-SHM on X11, wl_shm on
//! Wayland): vireo composes just the rows that changed, a round at a time
//! into a small scratch texture, reads them back into the buffer, and
//! marks just those rows damaged. `VIREO_PRESENT=surface` forces the
//! swapchain.

use std::num::NonZeroU32;
use std::sync::Arc;

use winit::window::Window;

#[cfg(target_os = "linux")]
mod x11;

use crate::model::Frame;
use crate::render::gpu::Gpu;
use crate::render::preview::Preview;
use crate::render::rows::Rows;
use crate::render::{Composed, CursorState, Keep, RenderStats, Renderer, Target, merge_bands, rounds};

/// Why a frame did not reach the window.
#[derive(Debug, thiserror::Error)]
pub enum PresentError {
    #[error("presenting through shared memory failed: {0}")]
    Shared(#[from] softbuffer::SoftBufferError),
    #[error("reading the frame back failed: {0}")]
    ReadBack(String),
    #[cfg(target_os = "linux")]
    #[error("presenting through X11 shared memory failed: {0}")]
    X11(#[from] x11::X11Error),
}

/// How frames reach the window.
pub enum Presenter {
    Swapchain { surface: wgpu::Surface<'static>, config: wgpu::SurfaceConfiguration },
    Shared(Shared),
}

/// What `Presenter::draw` did.
pub enum Drawn {
    Frame(RenderStats),
    /// The surface was resized or lost under us; draw again.
    Retry,
    /// Nothing could be drawn now (timeout, occluded window).
    Skipped,
}

/// Whether frames from `adapter` go through shared memory: a CPU adapter's
/// do, unless `VIREO_PRESENT` (`shared` or `surface`) says otherwise.
pub fn wants_shared(adapter: &wgpu::Adapter) -> bool {
    let cpu = adapter.get_info().device_type == wgpu::DeviceType::Cpu;
    forced_shared().unwrap_or(cpu)
}

/// What `VIREO_PRESENT` forces: `Some(true)` shared memory, `Some(false)`
/// the swapchain, `None` nothing.
fn forced_shared() -> Option<bool> {
    std::env::var("VIREO_PRESENT").ok().map(|f| f == "shared")
}

/// Whether the window is made with an alpha channel (for `opacity`).
/// Not where the swapchain is forced: Mesa's software Vulkan (22.3,
/// Debian 12's) presents nothing at all into an X11 window with an alpha
/// channel, so the window stayed black; the window is known before the
/// adapter is, so the forced swapchain gets an opaque window on any.
pub fn transparent_window() -> bool {
    forced_shared() != Some(false)
}

impl Presenter {
    /// Shared-memory presentation for `window`, with the texture format
    /// to render in.
    pub fn shared(window: &Arc<Window>) -> Result<(Presenter, wgpu::TextureFormat), PresentError> {
        let size = window.inner_size();
        let shared = Shared::new(window, size.width.max(1), size.height.max(1))?;
        log::info!("presenting through shared memory (the graphics adapter is the CPU)");
        Ok((Presenter::Shared(shared), SHARED_FORMAT))
    }

    /// The window's swapchain. Returns the texture format to render in.
    /// Without `vsync` the swapchain shows frames at once.
    pub fn swapchain(
        window: &Arc<Window>,
        surface: wgpu::Surface<'static>,
        gpu: &Gpu,
        vsync: bool,
    ) -> (Presenter, wgpu::TextureFormat) {
        let size = window.inner_size();
        let (width, height) = (size.width.max(1), size.height.max(1));
        let caps = surface.get_capabilities(&gpu.adapter);
        // Colours from nvim are sRGB values; a non-sRGB target keeps them as
        // they are (blending in sRGB space, as terminals do).
        let format = caps.formats.iter().copied().find(|f| !f.is_srgb()).unwrap_or(caps.formats[0]);
        let present_mode = [wgpu::PresentMode::Immediate, wgpu::PresentMode::Mailbox]
            .into_iter()
            .find(|mode| !vsync && caps.present_modes.contains(mode))
            .unwrap_or(wgpu::PresentMode::Fifo);
        // Frames are premultiplied: where the compositor takes that, the
        // `opacity` setting shows through.
        let alpha_mode = [wgpu::CompositeAlphaMode::PreMultiplied, wgpu::CompositeAlphaMode::Inherit]
            .into_iter()
            .find(|mode| caps.alpha_modes.contains(mode))
            .unwrap_or(caps.alpha_modes[0]);
        log::debug!("swapchain: {format:?}, {present_mode:?}, {alpha_mode:?}");
        // Windows are copied into the frame from their layers; a blurred
        // float reads what lies under it back out of it.
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::COPY_DST
            | (caps.usages & wgpu::TextureUsages::COPY_SRC);
        let config = wgpu::SurfaceConfiguration {
            usage,
            format,
            width,
            height,
            present_mode,
            desired_maximum_frame_latency: 1,
            alpha_mode,
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        surface.configure(&gpu.device, &config);
        (Presenter::Swapchain { surface, config }, format)
    }

    /// The drawable size in physical pixels.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Presenter::Swapchain { config, .. } => (config.width, config.height),
            Presenter::Shared(s) => s.kept.size,
        }
    }

    pub fn resize(&mut self, gpu: &Gpu, width: u32, height: u32) {
        let (width, height) = (width.max(1), height.max(1));
        match self {
            Presenter::Swapchain { surface, config } => {
                config.width = width;
                config.height = height;
                surface.configure(&gpu.device, config);
            }
            Presenter::Shared(s) => {
                if let Err(e) = s.resize(width, height) {
                    log::error!("resizing the shared-memory buffer failed: {e}");
                }
            }
        }
    }

    /// Renders `frame` and shows it; `before_present` runs just before
    /// the image is handed to the display.
    pub fn draw(
        &mut self,
        gpu: &Gpu,
        renderer: &mut Renderer,
        frame: &Frame,
        cursor: CursorState,
        before_present: impl FnOnce(),
    ) -> Result<Drawn, PresentError> {
        match self {
            Presenter::Swapchain { surface, config } => {
                let texture = match surface.get_current_texture() {
                    wgpu::CurrentSurfaceTexture::Success(t) => t,
                    wgpu::CurrentSurfaceTexture::Suboptimal(_)
                    | wgpu::CurrentSurfaceTexture::Outdated
                    | wgpu::CurrentSurfaceTexture::Lost => {
                        // Resized or lost under us: reconfigure and draw again.
                        surface.configure(&gpu.device, config);
                        return Ok(Drawn::Retry);
                    }
                    wgpu::CurrentSurfaceTexture::Timeout | wgpu::CurrentSurfaceTexture::Occluded => {
                        return Ok(Drawn::Skipped);
                    }
                    wgpu::CurrentSurfaceTexture::Validation => {
                        log::error!("the window surface is invalid; reconfiguring");
                        surface.configure(&gpu.device, config);
                        return Ok(Drawn::Skipped);
                    }
                };
                let stats = renderer.render(frame, &texture.texture, cursor);
                if crate::trace::enabled() {
                    // Known at a later poll of the device, after the present.
                    gpu.queue.on_submitted_work_done(|| crate::trace::mark(crate::trace::Stage::GpuDone));
                }
                before_present();
                gpu.queue.present(texture);
                crate::trace::mark(crate::trace::Stage::Presented);
                Ok(Drawn::Frame(stats))
            }
            Presenter::Shared(s) => s.draw(gpu, renderer, frame, cursor, before_present).map(Drawn::Frame),
        }
    }
}

/// Buffer ages beyond this are treated as new buffers.
const MAX_AGE: usize = 3;

/// The most bytes the scratch texture a frame's changed rows are composed
/// into holds, and the buffer they are read back through (at least one
/// row; see `Target::Rows`): 1 MiB, 270 rows of a 900 px wide window, so
/// a 900x600 frame changed all over is composed and read back in three
/// rounds, and a larger window costs no more.
const READBACK_BYTES: u32 = 1 << 20;

/// 0RGB in a little-endian u32 is B, G, R, X in memory.
pub const SHARED_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Bgra8Unorm;

/// Frames kept in a shared-memory buffer the display reads; the rows
/// that change are composed on the GPU and read back into it.
pub struct Shared {
    sink: Sink,
    kept: Kept,
    /// Small frames are drawn on the CPU instead of the GPU
    /// (`render::preview`); `VIREO_PREVIEW=off` turns that off.
    previews: bool,
}

/// The shared-memory buffer the display reads.
enum Sink {
    /// X11 with MIT-SHM: rows anywhere in the buffer, so a scroll renames
    /// them instead of moving them.
    #[cfg(target_os = "linux")]
    X11(Box<x11::X11Frames>),
    /// Wayland, and X servers that cannot share memory with vireo.
    Soft(softbuffer::Surface<Arc<Window>, Arc<Window>>),
}

/// What is kept between frames besides the buffer.
struct Kept {
    size: (u32, u32),
    /// The buffer composed rows are read back through.
    readback: rounds::ReadBuffer,
    /// The rows (top, bottom) changed by the last few frames, newest
    /// first: a buffer last shown N frames ago (Wayland keeps two) lacks
    /// the last N - 1 of them.
    recent: Vec<Vec<(u32, u32)>>,
    /// The buffers hold what they were last shown with: false at first
    /// and after a failed draw, when every row is drawn.
    exact: bool,
    /// Frames shown from their previews since the GPU last had commands:
    /// their writes to its buffers wait for a submission.
    unsubmitted: u32,
}

/// What [`Kept::fill`] (or `show_preview`) did: the frame's stats and the spans to show,
/// (x0, y0, x1, y1) (none: nothing changed on screen).
struct Filled {
    stats: RenderStats,
    spans: Vec<[u32; 4]>,
}

/// The display's buffer for one frame.
struct Canvas<'a> {
    pixels: &'a mut [u32],
    /// Where its rows are; in screen order where `None`.
    rows: Option<&'a mut Rows>,
}

/// A frame composed for a buffer, its commands not submitted yet.
struct Encoded {
    composed: Composed,
    /// The buffer holds the last frame: rows this frame moves are moved there.
    moving: bool,
    /// The buffers held what they were last shown with.
    exact: bool,
}

impl Shared {
    fn new(window: &Arc<Window>, width: u32, height: u32) -> Result<Shared, PresentError> {
        let sink = match x11_frames(window, width, height) {
            Some(frames) => frames,
            None => {
                let context = softbuffer::Context::new(window.clone())?;
                Sink::Soft(softbuffer::Surface::new(&context, window.clone())?)
            }
        };
        let kept = Kept::new((0, 0));
        let previews = std::env::var("VIREO_PREVIEW").map_or(true, |v| v != "off");
        let mut shared = Shared { sink, kept, previews };
        shared.resize(width, height)?;
        Ok(shared)
    }

    fn resize(&mut self, width: u32, height: u32) -> Result<(), PresentError> {
        if self.kept.size == (width, height) {
            return Ok(());
        }
        match &mut self.sink {
            #[cfg(target_os = "linux")]
            Sink::X11(frames) => frames.resize(width, height)?,
            Sink::Soft(surface) => {
                let nonzero = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
                surface.resize(nonzero(width), nonzero(height))?;
            }
        }
        self.kept = Kept::new((width, height));
        Ok(())
    }

    fn draw(
        &mut self,
        gpu: &Gpu,
        renderer: &mut Renderer,
        frame: &Frame,
        cursor: CursorState,
        before_present: impl FnOnce(),
    ) -> Result<RenderStats, PresentError> {
        match &mut self.sink {
            #[cfg(target_os = "linux")]
            Sink::X11(frames) => {
                renderer.previews = self.previews;
                let encoded = self.kept.encode(gpu, renderer, frame, cursor, frames.age());
                // A buffer that holds the last frame shows a small frame
                // drawn on the CPU instead of the GPU's; any buffer, a
                // whole one.
                if let Some(preview) = renderer.preview() {
                    let (pixels, rows) = frames.buffer()?;
                    let Filled { stats, spans } =
                        self.kept.show_preview(gpu, encoded, (pixels, rows), &preview);
                    before_present();
                    frames.present(&spans)?;
                    self.kept.shown();
                    return Ok(stats);
                }
                let (pixels, rows) = frames.buffer()?;
                let canvas = Canvas { pixels, rows: Some(rows) };
                let Filled { stats, spans } = self.kept.fill(gpu, renderer, encoded, canvas)?;
                if !spans.is_empty() {
                    before_present();
                    frames.present(&spans)?;
                    self.kept.shown();
                }
                Ok(stats)
            }
            Sink::Soft(surface) => {
                renderer.previews = false;
                let mut buffer = surface.buffer_mut()?;
                let encoded = self.kept.encode(gpu, renderer, frame, cursor, buffer.age());
                let canvas = Canvas { pixels: &mut buffer, rows: None };
                let Filled { stats, spans } = self.kept.fill(gpu, renderer, encoded, canvas)?;
                if !spans.is_empty() {
                    let damage: Vec<softbuffer::Rect> = spans
                        .iter()
                        .filter_map(|&[x0, y0, x1, y1]| {
                            Some(softbuffer::Rect {
                                x: x0,
                                y: y0,
                                width: NonZeroU32::new(x1 - x0)?,
                                height: NonZeroU32::new(y1 - y0)?,
                            })
                        })
                        .collect();
                    before_present();
                    buffer.present_with_damage(&damage)?;
                    self.kept.shown();
                }
                Ok(stats)
            }
        }
    }
}

/// Frames through vireo's own MIT-SHM connection, where `window` is an
/// X11 one and the server shares memory.
#[cfg(target_os = "linux")]
fn x11_frames(window: &Window, width: u32, height: u32) -> Option<Sink> {
    use winit::raw_window_handle::{HasWindowHandle, RawWindowHandle};
    let id = match window.window_handle().ok()?.as_raw() {
        RawWindowHandle::Xlib(h) => u32::try_from(h.window).ok()?,
        RawWindowHandle::Xcb(h) => h.window.get(),
        _ => return None,
    };
    x11::X11Frames::new(id, width, height)
        .inspect_err(|e| log::info!("frames through softbuffer: {e}"))
        .ok()
        .map(|frames| Sink::X11(Box::new(frames)))
}

#[cfg(not(target_os = "linux"))]
fn x11_frames(_: &Window, _: u32, _: u32) -> Option<Sink> {
    None
}

/// Frames shown from previews before the writes they made to the GPU's
/// buffers (glyph uploads, vertices, a scroll's placement) are submitted
/// with no commands: these stay in memory until a submission.
const MOST_UNSUBMITTED: u32 = 32;

impl Kept {
    fn new(size: (u32, u32)) -> Kept {
        Kept {
            size,
            readback: rounds::ReadBuffer::default(),
            recent: Vec::new(),
            exact: false,
            unsubmitted: 0,
        }
    }

    /// Shows the `encoded` frame, drawn on the CPU (`preview`, with no
    /// GPU commands), in the buffer that holds the last frame (`pixels`,
    /// its rows placed by `rows`): the rows it moves are moved, the rest
    /// drawn from the preview. A whole frame (the buffer held nothing)
    /// is all preview.
    fn show_preview(
        &mut self,
        gpu: &Gpu,
        encoded: Encoded,
        (pixels, rows): (&mut [u32], &mut Rows),
        preview: &Preview,
    ) -> Filled {
        let Encoded { composed: Composed { stats, .. }, moving, .. } = encoded;
        debug_assert!(
            moving || stats.moves.is_empty(),
            "rows are moved only in a buffer that holds the last frame"
        );
        let width = self.size.0;
        let drawn_width = width.min(gpu.device.limits().max_texture_dimension_2d);
        rows.apply(&stats.moves, &stats.fresh, pixels, width as usize, drawn_width);
        preview.write_to(pixels, rows, width as usize);
        crate::trace::mark(crate::trace::Stage::Previewed);
        self.unsubmitted += 1;
        if self.unsubmitted >= MOST_UNSUBMITTED {
            gpu.queue.submit([]);
            // The last such submission's buffers are let go when done.
            gpu.device.poll(wgpu::PollType::Poll).ok();
            self.unsubmitted = 0;
        }
        self.remember(&stats);
        // What changed on screen: the rows moved and drawn, else only the
        // spans drawn (the damage also counts rows composed for the buffer).
        let spans = match stats.moves.is_empty() {
            true => preview.spans.clone(),
            false => stats.damage_spans.clone(),
        };
        Filled { stats, spans }
    }

    /// Composes `frame` for a buffer last shown `age` frames ago; the
    /// commands are not submitted yet.
    fn encode(
        &mut self,
        gpu: &Gpu,
        renderer: &mut Renderer,
        frame: &Frame,
        cursor: CursorState,
        age: u8,
    ) -> Encoded {
        // X allows windows up to 32767 pixels a side, more than a texture
        // may have: draw as much as a texture holds, from the top left.
        let max = gpu.device.limits().max_texture_dimension_2d;
        let size = (self.size.0.min(max), self.size.1.min(max));
        // A buffer last shown `age` frames ago lacks the changes of those
        // frames: they are composed again. A new one (age 0), or one that
        // may not hold what it was shown with, takes every row. One that
        // holds the last frame takes the rows this frame moves from where
        // it has them.
        let age = usize::from(age);
        let exact = std::mem::replace(&mut self.exact, false);
        let holds = exact && age >= 1 && age <= self.recent.len() + 1;
        let keep = match (holds, age) {
            (false, _) => Keep::Nothing,
            (true, 1) => Keep::Moving,
            (true, _) => Keep::LastFrame,
        };
        log::trace!("a buffer last shown {age} frames ago (0: new): {keep:?}");
        let extra = match keep {
            Keep::LastFrame => merge_bands(self.recent[..age - 1].iter().flatten().copied().collect()),
            _ => Vec::new(),
        };
        let rows = (READBACK_BYTES / stride(size.0)).clamp(1, size.1.max(1));
        let target = Target::Rows { size, rows, extra: &extra };
        let composed = renderer.compose(frame, target, cursor, keep);
        Encoded { composed, moving: keep == Keep::Moving, exact }
    }

    /// Submits the `encoded` frame and fills the rows it composed into
    /// `canvas`, after moving there the rows it moved.
    fn fill(
        &mut self,
        gpu: &Gpu,
        renderer: &Renderer,
        encoded: Encoded,
        canvas: Canvas,
    ) -> Result<Filled, PresentError> {
        let Encoded { composed: Composed { stats, rounds }, moving, exact } = encoded;
        let Canvas { pixels, mut rows } = canvas;
        self.unsubmitted = 0;
        // A frame that changes nothing is not shown: buffers do not age.
        if !stats.damage_spans.is_empty() {
            self.remember(&stats);
        }
        let width = self.size.0;
        let max = gpu.device.limits().max_texture_dimension_2d;
        let drawn_width = width.min(max);
        // The rows that moved are moved in the buffer (renamed, where it
        // places its rows); the rest is read back.
        if moving {
            if !stats.moves.is_empty() {
                log::trace!("{} runs of rows moved in the buffer", stats.moves.len());
            }
            match rows.as_deref_mut() {
                Some(rows) => rows.apply(&stats.moves, &stats.fresh, pixels, width as usize, drawn_width),
                None => crate::render::reuse::apply(&stats.moves, pixels, width as usize),
            }
        }
        let place = |y: u32| rows.as_deref().map_or(y, |rows| rows.at(y));
        let from = (renderer.scratch(), &mut self.readback);
        let read = rounds::read_back(&gpu.device, &gpu.queue, rounds, from, |piece, r, src| {
            let dst = &mut pixels[(place(piece.y + r) * width) as usize + piece.x0 as usize..];
            copy_row(src, &mut dst[..src.len() / 4]);
        });
        read.map_err(PresentError::ReadBack)?;
        if stats.damage_spans.is_empty() {
            // Nothing to show: the buffers hold what they did.
            self.exact = exact;
        }
        crate::trace::mark(crate::trace::Stage::GpuDone);
        let spans = stats.damage_spans.clone();
        Ok(Filled { stats, spans })
    }

    /// Remembers the rows the frame `stats`, shown, changed, for buffers
    /// shown before it.
    fn remember(&mut self, stats: &RenderStats) {
        self.recent.insert(0, stats.changed.clone());
        self.recent.truncate(MAX_AGE);
    }

    /// The frame filled in reached the display.
    fn shown(&mut self) {
        self.exact = true;
        crate::trace::mark(crate::trace::Stage::Presented);
    }
}

/// The bytes between rows of a read-back buffer for rows `width` pixels
/// wide.
fn stride(width: u32) -> u32 {
    (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT
}

/// BGRA bytes to ARGB pixels (premultiplied). A window with an alpha
/// channel (a 32-bit visual, as vireo asks for) takes the top byte as
/// alpha, so `opacity` shows through; other windows ignore it.
fn copy_row(src: &[u8], dst: &mut [u32]) {
    for (px, out) in src.chunks_exact(4).zip(dst) {
        *out = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_argb_pixels() {
        let src = [0x10, 0x20, 0x30, 0xff, 0x01, 0x02, 0x03, 0x80];
        let mut dst = [0u32; 2];
        copy_row(&src, &mut dst);
        assert_eq!(dst, [0xff30_2010, 0x8003_0201]);
    }
}
