//! Offscreen rendering through the same renderer as the window: PNG
//! snapshots and golden-image tests, with no display needed.

use std::path::Path;

use super::font::Fonts;
use super::gpu::{Gpu, GpuError};
use super::preview::Preview;
use super::rows::Rows;
use super::warm::FirstFrame;
use super::{Composed, CursorState, Keep, Pipelines, RenderStats, Renderer, Target, rounds};
use crate::model::Frame;

/// An RGBA8 image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Image {
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]]
    }

    pub fn write_png(&self, path: &Path) -> Result<(), PngError> {
        let file =
            std::fs::File::create(path).map_err(|e| PngError::Io { path: path.to_owned(), source: e })?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| PngError::Encode(e.to_string()))?;
        writer.write_image_data(&self.rgba).map_err(|e| PngError::Encode(e.to_string()))
    }

    pub fn read_png(path: &Path) -> Result<Image, PngError> {
        let file =
            std::fs::File::open(path).map_err(|e| PngError::Io { path: path.to_owned(), source: e })?;
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
        let mut reader = decoder.read_info().map_err(|e| PngError::Encode(e.to_string()))?;
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut buf).map_err(|e| PngError::Encode(e.to_string()))?;
        buf.truncate(info.buffer_size());
        if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
            return Err(PngError::Encode(format!("{}: not 8-bit RGBA", path.display())));
        }
        Ok(Image { width: info.width, height: info.height, rgba: buf })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error("{}: {source}", .path.display())]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("PNG: {0}")]
    Encode(String),
}

/// A renderer with no window.
pub struct Offscreen {
    gpu: Gpu,
    pub renderer: Renderer,
    /// The target `render_and_wait` reuses.
    kept: Option<wgpu::Texture>,
    /// `render_moved`'s buffer of the shown frame, its rows placed as
    /// the X11 presenter places them.
    placed: Option<(Rows, Vec<u32>)>,
    /// The rows `render_moved` composes at a time: few, so a frame takes
    /// several rounds.
    pub scratch_rows: u32,
    /// The buffer `render_moved` reads composed rows back through.
    readback: rounds::ReadBuffer,
    /// The last `render_moved` frame's preview (see `render::preview`,
    /// drawn where `renderer.previews` is on) and the image shown from it,
    /// the GPU's frame not drawn.
    pub previewed: Option<(Preview, Image)>,
}

const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// `Offscreen::scratch_rows` to begin with.
const SCRATCH_ROWS: u32 = 100;

impl Offscreen {
    pub fn new(fonts: Fonts) -> Result<Offscreen, GpuError> {
        let gpu = Gpu::new(Gpu::instance(), None)?;
        let renderer = Renderer::new(gpu.device.clone(), gpu.queue.clone(), FORMAT, fonts);
        Ok(Offscreen::with(gpu, renderer))
    }

    /// Like `new`, with the first frame's draws made ahead as a window on a
    /// CPU adapter does (`Pipelines::warmed`); a refused draw is an error.
    pub fn warmed(fonts: Fonts) -> Result<Offscreen, GpuError> {
        let gpu = Gpu::new(Gpu::instance(), None)?;
        let mut pipelines = Pipelines::new(&gpu.device, &gpu.queue, FORMAT);
        let drawing = pipelines.drawing();
        let first =
            FirstFrame { cache: &pipelines.cache, rects: &drawing.rects, composite: &drawing.composite };
        first.warm_up(&gpu.device, &gpu.queue, FORMAT).map_err(GpuError::Device)?;
        let renderer =
            Renderer::with_pipelines(gpu.device.clone(), gpu.queue.clone(), FORMAT, pipelines, fonts);
        Ok(Offscreen::with(gpu, renderer))
    }

    /// Pipelines made as a window on a CPU adapter makes them
    /// (`Pipelines::warmed`): the first frame's draws made ahead on a
    /// thread, and the pipelines only some frames draw with at their first
    /// use (`Renderer::made_at_first_use`).
    pub fn as_cpu_window(fonts: Fonts) -> Result<Offscreen, GpuError> {
        let gpu = Gpu::new(Gpu::instance(), None)?;
        let pipelines = Pipelines::warmed(&gpu.device, &gpu.queue, FORMAT);
        let renderer =
            Renderer::with_pipelines(gpu.device.clone(), gpu.queue.clone(), FORMAT, pipelines, fonts);
        Ok(Offscreen::with(gpu, renderer))
    }

    fn with(gpu: Gpu, renderer: Renderer) -> Offscreen {
        Offscreen {
            gpu,
            renderer,
            kept: None,
            placed: None,
            scratch_rows: SCRATCH_ROWS,
            readback: Default::default(),
            previewed: None,
        }
    }

    /// Renders `frame` at exactly columns × cell width by rows × cell height
    /// plus the padding (an empty grid as one pixel; a side past the
    /// device's limit is cut).
    pub fn render(&mut self, frame: &Frame, cursor: CursorState) -> Result<(Image, RenderStats), GpuError> {
        let size = self.renderer.target_pixels(frame);
        let texture = self.target(size);
        let stats = self.renderer.render(frame, &texture, cursor);
        // Fonts may change with the frame's options: measure after syncing.
        let resized = self.renderer.target_pixels(frame);
        if resized != size {
            // guifont/linespace in this frame changed the cell size: again.
            let texture = self.target(resized);
            let stats = self.renderer.render(frame, &texture, cursor);
            return Ok((self.read_back(&texture)?, stats));
        }
        Ok((self.read_back(&texture)?, stats))
    }

    /// Like [`Offscreen::render`], into a target kept from the last call
    /// as a window's is: only what changed is drawn again.
    pub fn render_kept(
        &mut self,
        frame: &Frame,
        cursor: CursorState,
    ) -> Result<(Image, RenderStats), GpuError> {
        let stats = self.render_and_wait(frame, cursor)?;
        let image = self.read_back(self.kept.as_ref().expect("made by render_and_wait"))?;
        Ok((image, stats))
    }

    /// Like [`Offscreen::render_kept`], shown as a window on a CPU adapter
    /// shows frames (see `Target::Rows`, `Keep::Moving`): the shown frame
    /// is kept in a buffer whose rows are placed as the X11 presenter
    /// places them; the rows this frame moved are moved (or renamed)
    /// there, the rest composed in rounds of `scratch_rows` rows and read
    /// back, and `shown` gets the frame in screen order. A `shown` of
    /// another size starts again from a whole frame.
    pub fn render_moved(
        &mut self,
        frame: &Frame,
        cursor: CursorState,
        shown: &mut Image,
    ) -> Result<RenderStats, GpuError> {
        self.previewed = None;
        let size = self.target_size(self.renderer.target_pixels(frame));
        let (width, height) = (size.0 as usize, size.1 as usize);
        let holds = (shown.width, shown.height) == size
            && self.placed.as_ref().is_some_and(|(_, pixels)| pixels.len() == width * height);
        if !holds {
            // A whole frame, drawn on the CPU where the X11 presenter's would be.
            self.placed = Some((Rows::new(size.1), vec![0; width * height]));
            *shown = Image { width: size.0, height: size.1, rgba: Vec::new() };
        }
        let keep = if holds { Keep::Moving } else { Keep::Nothing };
        let target = Target::Rows { size, rows: self.scratch_rows, extra: &[] };
        let Composed { stats, rounds } = self.renderer.compose(frame, target, cursor, keep);
        let (rows, pixels) = self.placed.as_mut().expect("made above");
        rows.apply(&stats.moves, &stats.fresh, pixels, width, size.0);
        // As the X11 presenter shows a frame drawn on the CPU (no GPU
        // commands were recorded).
        if let Some(preview) = self.renderer.preview() {
            as_rgba(&preview).write_to(pixels, rows, width);
            shown.rgba = screen_order(rows, pixels, size);
            self.previewed = Some((preview, shown.clone()));
            return Ok(stats);
        }
        let from = (self.renderer.scratch(), &mut self.readback);
        let read = rounds::read_back(&self.gpu.device, &self.gpu.queue, rounds, from, |piece, r, src| {
            let placed = &mut rows.row_mut(pixels, width, piece.y + r)[piece.x0 as usize..piece.x1 as usize];
            for (out, p) in placed.iter_mut().zip(src.chunks_exact(4)) {
                let mut p = [p[0], p[1], p[2], p[3]];
                straight(&mut p);
                *out = u32::from_ne_bytes(p);
            }
        });
        read.map_err(GpuError::ReadBack)?;
        shown.rgba = screen_order(rows, pixels, size);
        Ok(stats)
    }

    /// Renders into a kept target and waits for the GPU, without reading
    /// the image back: what a window pays per frame, for benchmarks.
    pub fn render_and_wait(&mut self, frame: &Frame, cursor: CursorState) -> Result<RenderStats, GpuError> {
        let size = self.target_size(self.renderer.target_pixels(frame));
        let fits = self.kept.as_ref().is_some_and(|t| (t.width(), t.height()) == size);
        let stats = if fits {
            // Still holding the last frame, as a window's target does.
            self.renderer.render_kept(frame, self.kept.as_ref().expect("fits"), cursor)
        } else {
            self.renderer.render(frame, self.kept.insert(self.target(size)), cursor)
        };
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::ReadBack(e.to_string()))?;
        Ok(stats)
    }

    /// The graphics memory the device's allocator uses now: in each of its
    /// blocks, the end of the highest allocation, summed over the blocks;
    /// `None` where the backend gives no report. On a CPU adapter a block's
    /// memory once used stays in the process, so the highest of these over
    /// a run is what its frames cost.
    pub fn memory_used_to(&self) -> Option<u64> {
        let wgpu::AllocatorReport { allocations, blocks, .. } =
            self.gpu.device.generate_allocator_report()?;
        let highest = |range: std::ops::Range<usize>| -> u64 {
            allocations[range].iter().map(|a| a.offset + a.size).max().unwrap_or(0)
        };
        Some(blocks.into_iter().map(|b| highest(b.allocations)).sum())
    }

    /// `(width, height)` made a valid texture size: each side at least one
    /// pixel (a texture cannot be empty) and at most the device's limit.
    fn target_size(&self, (width, height): (u32, u32)) -> (u32, u32) {
        let max = self.gpu.device.limits().max_texture_dimension_2d;
        (width.clamp(1, max), height.clamp(1, max))
    }

    fn target(&self, size: (u32, u32)) -> wgpu::Texture {
        let (width, height) = self.target_size(size);
        self.gpu.render_target("offscreen target", width, height, FORMAT)
    }

    fn read_back(&self, texture: &wgpu::Texture) -> Result<Image, GpuError> {
        let (width, height) = (texture.width(), texture.height());
        let device = &self.gpu.device;
        let padded =
            (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size: u64::from(padded * height),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("read back") });
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded),
                    rows_per_image: Some(height),
                },
            },
            wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        );
        self.gpu.queue.submit([encoder.finish()]);
        let slice = buffer.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            // The receiver waits below; it cannot be gone.
            tx.send(r).ok();
        });
        device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::ReadBack(e.to_string()))?;
        rx.recv()
            .map_err(|e| GpuError::ReadBack(e.to_string()))?
            .map_err(|e| GpuError::ReadBack(e.to_string()))?;
        let data = slice.get_mapped_range().map_err(|e| GpuError::ReadBack(e.to_string()))?;
        let mut rgba = Vec::with_capacity((width * height * 4) as usize);
        for row in data.chunks(padded as usize).take(height as usize) {
            rgba.extend_from_slice(&row[..(width * 4) as usize]);
        }
        rgba.chunks_exact_mut(4).for_each(straight);
        drop(data);
        buffer.unmap();
        Ok(Image { width, height, rgba })
    }
}

/// A pixel of the renderer's (premultiplied alpha) as images (and PNGs)
/// have it: straight.
fn straight(px: &mut [u8]) {
    if px[3] != 255 {
        let a = u16::from(px[3]);
        for c in &mut px[..3] {
            *c = (u16::from(*c) * 255 + a / 2).checked_div(a).map_or(0, |v| v.min(255) as u8);
        }
    }
}

/// The pixels of a buffer whose rows `rows` places, `size` pixels, as an
/// image's bytes in screen order.
fn screen_order(rows: &Rows, pixels: &[u32], (width, height): (u32, u32)) -> Vec<u8> {
    (0..height)
        .flat_map(|y| rows.row(pixels, width as usize, y).iter().flat_map(|p| p.to_ne_bytes()))
        .collect()
}

/// A preview's pixels (0xAARRGGBB) as this buffer's R, G, B, A bytes.
fn as_rgba(preview: &Preview) -> Preview {
    let swap = |p: u32| u32::from_ne_bytes([(p >> 16) as u8, (p >> 8) as u8, p as u8, (p >> 24) as u8]);
    Preview { spans: preview.spans.clone(), pixels: preview.pixels.iter().map(|&p| swap(p)).collect() }
}
