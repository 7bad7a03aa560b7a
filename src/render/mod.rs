//! The GPU renderer: draws frames with wgpu (our rect and composite
//! shaders) and glyphon (text).
//!
//! ```text
//!   Frame ──► one Layer per visible grid: a texture holding that grid's
//!             pixels. Only rows whose Arc<Row> changed are redrawn:
//!             backgrounds (replace), decorations + box drawing (over),
//!             then text, all clipped to the row.
//!        ──► composite: clear to the default background, draw each layer
//!             at its pixel position in z order, then message separators
//!             and the cursor.
//! ```
//!
//! A one-character edit therefore re-rasterises one row of one layer; the
//! rest is texture copies.

pub mod boxdraw;
mod composite;
pub mod font;
pub mod gpu;
pub mod offscreen;
pub mod rects;
pub mod text;

use std::collections::HashMap;
use std::sync::Arc;

use glyphon::{Cache, Resolution, SwashCache, TextArea, TextAtlas, TextBounds, TextRenderer, Viewport};
use wgpu::util::DeviceExt;

use crate::model::compose::{self, LayerKind};
use crate::model::{
    CursorShape, DefaultColors, Frame, GLOBAL_GRID, GridId, HlTable, OptionValue, Placement, Row, Underline,
};
use boxdraw::CellBox;
use composite::CompositePipeline;
use font::{CellMetrics, Fonts};
use rects::{Blend, Rect, RectPipeline, push_merged, rgba};
use text::ShapedRow;

/// What the caller decides about the cursor for this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorState {
    /// False while blinking off, busy, or unfocused-hidden.
    pub visible: bool,
}

/// Counters from one `render` call, for tests and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Rows re-rasterised across all layers.
    pub rows_drawn: usize,
    /// Of those, rows whose text had to be shaped again (the others moved,
    /// e.g. by a scroll, and kept their shaping).
    pub rows_shaped: usize,
    pub layers: usize,
    /// Bands of the kept screen image composed again, and their total
    /// height in pixels.
    pub bands: usize,
    pub composed_rows_px: u32,
    /// Bands of the target, `(top, bottom)` in pixels, that this frame
    /// changed: all of it for `render`, only what changed for `render_kept`.
    pub damage: Vec<(u32, u32)>,
}

/// Rows redrawn in one layer this frame, and what to draw for them.
struct LayerUpdate {
    grid: GridId,
    dirty: Vec<usize>,
    /// How many of the dirty rows were shaped anew.
    shaped: usize,
    replace: Vec<Rect>,
    over: Vec<Rect>,
}

/// Everything the kept screen image depends on besides layer contents: a
/// change here recomposes the whole image.
#[derive(Debug, Clone, PartialEq)]
struct ScreenLayout {
    size: (u32, u32),
    metrics: CellMetrics,
    layers: Vec<compose::Layer>,
    separators: Vec<Rect>,
    bg: u32,
}

/// The composed image (without the cursor), kept between frames.
struct KeptScreen {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    composite_globals: wgpu::BindGroup,
    rect_globals: wgpu::BindGroup,
    layout: ScreenLayout,
}

/// Screen pixel bands (y0, y1) covering the rows the updates redrew,
/// merged where they touch.
fn damaged_bands(
    visible: &[compose::Layer],
    updates: &[LayerUpdate],
    m: CellMetrics,
    height: u32,
) -> Vec<(u32, u32)> {
    let mut bands: Vec<(u32, u32)> = Vec::new();
    for update in updates {
        let Some(placed) = visible.iter().find(|l| l.grid == update.grid) else { continue };
        for &r in &update.dirty {
            if r >= placed.height {
                continue;
            }
            let y = placed.row + r as i64;
            let y0 = (y * m.height as i64).clamp(0, height as i64) as u32;
            let y1 = ((y + 1) * m.height as i64).clamp(0, height as i64) as u32;
            if y1 > y0 {
                bands.push((y0, y1));
            }
        }
    }
    merge_bands(bands)
}

/// Sorts bands and joins those that touch or overlap.
pub(crate) fn merge_bands(mut bands: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    bands.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in bands {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// The rows of pixels the cursor (or preedit) covers: its rects and the
/// glyph drawn from `glyph_top`, one cell high. Glyphs may overhang their
/// cell, so whole rows are taken.
fn overlay_band(rects: &[Rect], glyph_top: Option<f32>, cell_height: u32, height: u32) -> Option<(u32, u32)> {
    let spans = rects
        .iter()
        .map(|r| (r.pos[1], r.pos[1] + r.size[1]))
        .chain(glyph_top.map(|y| (y, y + cell_height as f32)));
    let (top, bottom) = spans.fold((f32::MAX, f32::MIN), |(t, b), (y0, y1)| (t.min(y0), b.max(y1)));
    let y0 = (top.floor().max(0.0) as u32).min(height);
    let y1 = (bottom.ceil().max(0.0) as u32).min(height);
    (y1 > y0).then_some((y0, y1))
}

/// A grid's pixels, kept between frames.
struct Layer {
    cols: usize,
    rows: usize,
    view: wgpu::TextureView,
    globals: wgpu::BindGroup,
    viewport: Viewport,
    text: TextRenderer,
    /// The row each texture row was drawn from (`None`: must draw).
    drawn: Vec<Option<Arc<Row>>>,
    shaped: Vec<Option<ShapedRow>>,
    placement: wgpu::Buffer,
    composite: wgpu::BindGroup,
}

pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    format: wgpu::TextureFormat,
    pub fonts: Fonts,
    swash: SwashCache,
    cache: Cache,
    atlas: TextAtlas,
    rects: RectPipeline,
    composite: CompositePipeline,
    layers: HashMap<GridId, Layer>,
    cursor_text: TextRenderer,
    cursor_viewport: Viewport,
    /// What the layers were drawn with; a change redraws everything.
    drawn_with: Option<(Arc<HlTable>, DefaultColors, CellMetrics, bool)>,
    /// guifont, guifontwide, linespace as last applied.
    font_options: (String, String, i64),
    screen: Option<KeptScreen>,
    /// IME composition text, drawn underlined at the cursor over the grid
    /// (nothing is sent to nvim until it is committed).
    preedit: Option<String>,
    /// The band of the target the cursor or preedit was last drawn over.
    overlay: Option<(u32, u32)>,
}

/// Straight RGBA for a highlight's background, honouring `blend`.
fn background(frame: &Frame, hl: u32) -> ([f32; 4], u32) {
    let attr = frame.hl.get(hl);
    let c = attr.resolve(&frame.defaults);
    let alpha = 1.0 - f32::from(attr.blend) / 100.0;
    (rgba(c.bg, alpha), c.fg)
}

impl Renderer {
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, format: wgpu::TextureFormat, fonts: Fonts) -> Self {
        let cache = Cache::new(&device);
        let mut atlas = TextAtlas::with_color_mode(&device, &queue, &cache, format, glyphon::ColorMode::Web);
        let cursor_text = TextRenderer::new(&mut atlas, &device, wgpu::MultisampleState::default(), None);
        let cursor_viewport = Viewport::new(&device, &cache);
        Renderer {
            rects: RectPipeline::new(&device, format),
            composite: CompositePipeline::new(&device, format),
            device,
            queue,
            format,
            fonts,
            swash: SwashCache::new(),
            cache,
            atlas,
            layers: HashMap::new(),
            cursor_text,
            cursor_viewport,
            drawn_with: None,
            font_options: (String::new(), String::new(), 0),
            screen: None,
            preedit: None,
            overlay: None,
        }
    }

    /// Sets (or clears, with `None` or "") the IME preedit text.
    pub fn set_preedit(&mut self, text: Option<String>) {
        self.preedit = text.filter(|t| !t.is_empty());
    }

    /// The cursor's cell on the target in pixels (x, y, width, height),
    /// e.g. to place the IME candidate window.
    pub fn cursor_area(&self, frame: &Frame) -> Option<(f32, f32, f32, f32)> {
        let m = self.fonts.metrics();
        let (row, col) = compose::grid_origin(frame, frame.cursor.grid)?;
        let x = ((col + frame.cursor.col as i64) * m.width as i64) as f32;
        let y = ((row + frame.cursor.row as i64) * m.height as i64) as f32;
        Some((x, y, m.width as f32, m.height as f32))
    }

    pub fn format(&self) -> wgpu::TextureFormat {
        self.format
    }

    pub fn metrics(&self) -> CellMetrics {
        self.fonts.metrics()
    }

    /// Forgets every drawn row (fonts changed): the next frame redraws all.
    pub fn invalidate(&mut self) {
        self.layers.clear();
        self.drawn_with = None;
        self.screen = None;
    }

    /// Applies guifont, guifontwide and linespace from nvim's options.
    fn sync_font_options(&mut self, frame: &Frame) {
        let text = |name| match frame.option(name) {
            Some(OptionValue::Str(s)) => s.clone(),
            _ => String::new(),
        };
        let linespace = match frame.option("linespace") {
            Some(OptionValue::Int(n)) => *n,
            _ => 0,
        };
        let options = (text("guifont"), text("guifontwide"), linespace);
        if options == self.font_options {
            return;
        }
        if options.0 != self.font_options.0
            && let Err(e) = self.fonts.set_guifont(&options.0)
        {
            log::error!("guifont: {e}");
        }
        if options.1 != self.font_options.1
            && let Err(e) = self.fonts.set_guifontwide(&options.1)
        {
            log::error!("guifontwide: {e}");
        }
        self.fonts.set_linespace(linespace as i32);
        self.font_options = options;
    }

    /// Draws `frame` into `target`, which must allow `COPY_DST` and
    /// `RENDER_ATTACHMENT` and have the renderer's format.
    pub fn render(&mut self, frame: &Frame, target: &wgpu::Texture, cursor: CursorState) -> RenderStats {
        self.draw(frame, target, cursor, false)
    }

    /// Like `render`, into a target that still holds what the previous
    /// call drew: only the bands that changed are written, and
    /// `RenderStats::damage` names them.
    pub fn render_kept(&mut self, frame: &Frame, target: &wgpu::Texture, cursor: CursorState) -> RenderStats {
        self.draw(frame, target, cursor, true)
    }

    fn draw(
        &mut self,
        frame: &Frame,
        target: &wgpu::Texture,
        cursor: CursorState,
        kept: bool,
    ) -> RenderStats {
        let (width, height) = (target.width(), target.height());
        self.sync_font_options(frame);
        let m = self.fonts.metrics();
        let key = (frame.hl.clone(), frame.defaults, m, self.fonts.ligatures);
        let same = self.drawn_with.as_ref().is_some_and(|(hl, d, old_m, lig)| {
            Arc::ptr_eq(hl, &key.0) && *d == key.1 && *old_m == key.2 && *lig == key.3
        });
        if !same {
            if self.drawn_with.as_ref().is_some_and(|(_, _, old_m, lig)| *old_m != m || *lig != key.3) {
                self.layers.clear();
            }
            for layer in self.layers.values_mut() {
                layer.drawn.iter_mut().for_each(|d| *d = None);
                layer.shaped.iter_mut().for_each(|s| *s = None);
            }
            self.drawn_with = Some(key);
        }
        self.layers.retain(|id, _| frame.grids.contains_key(id));

        let visible = compose::layers(frame);
        let mut stats = RenderStats { layers: visible.len(), ..Default::default() };
        // Prepare every layer's text first: preparing can grow the atlas,
        // and every pass must see the final atlas.
        let mut updates = Vec::new();
        for placed in &visible {
            if let Some(update) = self.prepare_layer(frame, placed.grid) {
                stats.rows_drawn += update.dirty.len();
                stats.rows_shaped += update.shaped;
                updates.push(update);
            }
        }
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("frame") });
        for update in &updates {
            let layer = &self.layers[&update.grid];
            let mut pass = load_pass(&mut encoder, &layer.view, "layer rows");
            self.rects.draw(&self.device, &mut pass, &layer.globals, &update.replace, Blend::Replace);
            self.rects.draw(&self.device, &mut pass, &layer.globals, &update.over, Blend::Over);
            if let Err(e) = layer.text.render(&self.atlas, &layer.viewport, &mut pass) {
                log::error!("text rendering failed: {e}");
            }
        }

        let mut separators = Vec::new();
        for placed in &visible {
            let Some(layer) = self.layers.get(&placed.grid) else { continue };
            let placement = composite::Placement {
                pos: [(placed.col * m.width as i64) as f32, (placed.row * m.height as i64) as f32],
                size: [(placed.width as u32 * m.width) as f32, (placed.height as u32 * m.height) as f32],
            };
            self.queue.write_buffer(&layer.placement, 0, bytemuck::bytes_of(&placement));
            if placed.kind == LayerKind::Message {
                self.push_separator(frame, placed.grid, width, &mut separators);
            }
        }

        // Which horizontal bands of the kept screen image must be composed
        // again: everything when the layout changed, else the dirty rows.
        let layout = ScreenLayout {
            size: (width, height),
            metrics: m,
            layers: visible.clone(),
            separators,
            bg: frame.defaults.bg,
        };
        let full = self.screen.as_ref().is_none_or(|s| s.layout != layout);
        if self.screen.as_ref().is_none_or(|s| s.layout.size != (width, height)) {
            self.screen = Some(self.new_screen(width, height, &layout));
        }
        let bands = if full { vec![(0, height)] } else { damaged_bands(&visible, &updates, m, height) };
        let screen = self.screen.as_mut().expect("made above");
        screen.layout = layout;
        let globals = &screen.composite_globals;
        let rect_globals = &screen.rect_globals;
        if !bands.is_empty() {
            let mut pass = load_pass(&mut encoder, &screen.view, "compose damaged bands");
            let bg = [Rect::solid(0.0, 0.0, width as f32, height as f32, rgba(frame.defaults.bg, 1.0))];
            for &(y0, y1) in &bands {
                pass.set_scissor_rect(0, y0, width, y1 - y0);
                self.rects.draw(&self.device, &mut pass, rect_globals, &bg, Blend::Replace);
                for placed in &visible {
                    // Separators sit under the message grid but over the rest.
                    if placed.kind == LayerKind::Message {
                        self.rects.draw(
                            &self.device,
                            &mut pass,
                            rect_globals,
                            &screen.layout.separators,
                            Blend::Over,
                        );
                    }
                    if let Some(layer) = self.layers.get(&placed.grid) {
                        self.composite.draw(&mut pass, globals, &layer.composite);
                    }
                }
            }
        }
        let mut cursor_rects = Vec::new();
        let cursor_glyph = match self.preedit.clone() {
            Some(text) => self.push_preedit(frame, &text, &mut cursor_rects),
            None if cursor.visible && !frame.busy => self.push_cursor(frame, &mut cursor_rects),
            None => None,
        };
        let overlay = overlay_band(&cursor_rects, cursor_glyph.as_ref().map(|g| g.2), m.height, height);
        // The kept image to the target, then the cursor on top. A kept
        // target needs only the changed bands, and where the cursor was.
        let damage = if kept && !full {
            merge_bands(bands.iter().copied().chain(self.overlay).chain(overlay).collect())
        } else {
            vec![(0, height)]
        };
        self.overlay = overlay;
        let screen = self.screen.as_ref().expect("made above");
        for &(y0, y1) in &damage {
            let origin = wgpu::Origin3d { x: 0, y: y0, z: 0 };
            encoder.copy_texture_to_texture(
                wgpu::TexelCopyTextureInfo { origin, ..screen.texture.as_image_copy() },
                wgpu::TexelCopyTextureInfo { origin, ..target.as_image_copy() },
                wgpu::Extent3d { width, height: y1 - y0, depth_or_array_layers: 1 },
            );
        }
        if !cursor_rects.is_empty() {
            let view = target.create_view(&wgpu::TextureViewDescriptor::default());
            let mut pass = load_pass(&mut encoder, &view, "cursor");
            self.rects.draw(&self.device, &mut pass, &screen.rect_globals, &cursor_rects, Blend::Over);
            if let Some((buffer, x, y, color)) = &cursor_glyph {
                self.cursor_viewport.update(&self.queue, Resolution { width, height });
                let area = TextArea {
                    buffer,
                    left: *x,
                    top: *y,
                    scale: 1.0,
                    bounds: TextBounds {
                        left: *x as i32,
                        top: *y as i32,
                        right: width as i32,
                        bottom: (*y as i32) + m.height as i32,
                    },
                    default_color: *color,
                    custom_glyphs: &[],
                };
                let prepared = self.cursor_text.prepare(
                    &self.device,
                    &self.queue,
                    &mut self.fonts.system,
                    &mut self.atlas,
                    &self.cursor_viewport,
                    [area],
                    &mut self.swash,
                );
                match prepared {
                    Ok(()) => {
                        if let Err(e) = self.cursor_text.render(&self.atlas, &self.cursor_viewport, &mut pass)
                        {
                            log::error!("cursor text failed: {e}");
                        }
                    }
                    Err(e) => log::error!("cursor text failed: {e}"),
                }
            }
        }
        stats.bands = bands.len();
        stats.composed_rows_px = bands.iter().map(|(a, b)| b - a).sum();
        stats.damage = damage;
        self.queue.submit([encoder.finish()]);
        self.atlas.trim();
        stats
    }

    fn new_screen(&self, width: u32, height: u32, layout: &ScreenLayout) -> KeptScreen {
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("composed screen"),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        KeptScreen {
            view: texture.create_view(&wgpu::TextureViewDescriptor::default()),
            texture,
            composite_globals: rects::globals_bind_group(
                &self.device,
                &self.composite.globals_layout,
                width,
                height,
            ),
            rect_globals: rects::globals_bind_group(&self.device, &self.rects.globals_layout, width, height),
            layout: ScreenLayout { size: (width, height), ..layout.clone() },
        }
    }

    /// Brings one layer's texture up to date with the frame: returns the
    /// rects to draw for its dirty rows (text is prepared in its renderer).
    fn prepare_layer(&mut self, frame: &Frame, grid_id: GridId) -> Option<LayerUpdate> {
        let grid = frame.grid(grid_id)?;
        let m = self.fonts.metrics();
        let fits = self.layers.get(&grid_id).is_some_and(|l| l.cols == grid.width && l.rows == grid.height);
        if !fits {
            let layer = self.new_layer(grid.width, grid.height, m);
            self.layers.insert(grid_id, layer);
        }
        let layer = self.layers.get_mut(&grid_id)?;
        let dirty: Vec<usize> = (0..grid.height)
            .filter(|&r| !layer.drawn[r].as_ref().is_some_and(|d| Arc::ptr_eq(d, &grid.rows[r])))
            .collect();
        if dirty.is_empty() {
            return None;
        }
        let mut replace = Vec::new();
        let mut over = Vec::new();
        // When nvim scrolls, rows move as the same Arcs to new indices: their
        // shaped text is reused, so a scroll re-shapes only the new rows.
        let mut moved: HashMap<*const Row, ShapedRow> = HashMap::new();
        let mut shaped = 0;
        for &r in &dirty {
            if let (Some(old), Some(shaped)) = (&layer.drawn[r], layer.shaped[r].take()) {
                moved.insert(Arc::as_ptr(old), shaped);
            }
        }
        for &r in &dirty {
            let row = &grid.rows[r];
            row_rects(frame, row, r, m, &mut replace, &mut over);
            let reused = moved.remove(&Arc::as_ptr(row));
            if reused.is_none() {
                shaped += 1;
            }
            layer.shaped[r] = Some(
                reused.unwrap_or_else(|| text::shape_row(&mut self.fonts, row, &frame.hl, &frame.defaults)),
            );
            layer.drawn[r] = Some(row.clone());
        }
        let width_px = grid.width as u32 * m.width;
        let areas = dirty.iter().flat_map(|&r| {
            let top = (r as u32 * m.height) as f32;
            let bounds = TextBounds {
                left: 0,
                top: top as i32,
                right: width_px as i32,
                bottom: top as i32 + m.height as i32,
            };
            layer.shaped[r].as_ref().into_iter().flat_map(|s| s.buffers.iter()).map(move |(x, buffer)| {
                TextArea {
                    buffer,
                    left: *x,
                    top,
                    scale: 1.0,
                    bounds,
                    default_color: text::color(frame.defaults.fg),
                    custom_glyphs: &[],
                }
            })
        });
        layer.viewport.update(
            &self.queue,
            Resolution { width: width_px.max(1), height: (grid.height as u32 * m.height).max(1) },
        );
        if let Err(e) = layer.text.prepare(
            &self.device,
            &self.queue,
            &mut self.fonts.system,
            &mut self.atlas,
            &layer.viewport,
            areas,
            &mut self.swash,
        ) {
            log::error!("preparing text failed: {e}");
        }
        Some(LayerUpdate { grid: grid_id, dirty, shaped, replace, over })
    }

    fn new_layer(&mut self, cols: usize, rows: usize, m: CellMetrics) -> Layer {
        let (w, h) = ((cols as u32 * m.width).max(1), (rows as u32 * m.height).max(1));
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("grid layer"),
            size: wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let placement = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("layer placement"),
            contents: bytemuck::bytes_of(&composite::Placement { pos: [0.0; 2], size: [w as f32, h as f32] }),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let composite = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("layer"),
            layout: &self.composite.layer_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: placement.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&view) },
            ],
        });
        Layer {
            cols,
            rows,
            globals: rects::globals_bind_group(&self.device, &self.rects.globals_layout, w, h),
            view,
            viewport: Viewport::new(&self.device, &self.cache),
            text: TextRenderer::new(&mut self.atlas, &self.device, wgpu::MultisampleState::default(), None),
            drawn: vec![None; rows],
            shaped: (0..rows).map(|_| None).collect(),
            placement,
            composite,
        }
    }

    /// The row above a scrolled message area, filled with MsgSeparator.
    fn push_separator(&self, frame: &Frame, grid: GridId, width: u32, out: &mut Vec<Rect>) {
        let Some(Placement::Message { row, scrolled: true, .. }) =
            frame.windows.get(&grid).and_then(|w| w.placement.as_ref())
        else {
            return;
        };
        if *row == 0 {
            return;
        }
        let m = self.fonts.metrics();
        let hl = frame.hl_groups.get("MsgSeparator").copied().unwrap_or(0);
        let (color, _) = background(frame, hl);
        let y = ((*row - 1) as u32 * m.height) as f32;
        out.push(Rect::solid(0.0, y, width as f32, m.height as f32, color));
    }

    /// IME preedit at the cursor: the text on the default background,
    /// underlined, with a bar cursor after it.
    fn push_preedit(
        &mut self,
        frame: &Frame,
        text: &str,
        out: &mut Vec<Rect>,
    ) -> Option<(glyphon::Buffer, f32, f32, glyphon::Color)> {
        let m = self.fonts.metrics();
        let (x, y, _, ch) = self.cursor_area(frame)?;
        let fg = frame.defaults.fg;
        let mut buffer = glyphon::Buffer::new(&mut self.fonts.system, glyphon::Metrics::new(m.font_px, ch));
        buffer.set_monospace_width(Some(m.width as f32));
        buffer.set_size(None, Some(ch));
        let attrs = self.fonts.attrs(false, false).color(text::color(fg));
        buffer.set_text(text, &attrs, glyphon::Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.fonts.system, false);
        let width = buffer.layout_runs().map(|r| r.line_w).fold(0.0, f32::max).ceil().max(m.width as f32);
        out.push(Rect::solid(x, y, width, ch, rgba(frame.defaults.bg, 1.0)));
        out.push(Rect::solid(x, y + m.baseline + m.underline_offset, width, m.stroke, rgba(fg, 1.0)));
        out.push(Rect::solid(x + width, y, m.stroke.max(2.0), ch, rgba(fg, 1.0)));
        Some((buffer, x, y, text::color(fg)))
    }

    /// The cursor's rect(s); for a block cursor also the glyph to draw on it
    /// in the cursor's foreground.
    fn push_cursor(
        &mut self,
        frame: &Frame,
        out: &mut Vec<Rect>,
    ) -> Option<(glyphon::Buffer, f32, f32, glyphon::Color)> {
        let m = self.fonts.metrics();
        let cursor = frame.cursor;
        let (origin_row, origin_col) = compose::grid_origin(frame, cursor.grid)?;
        let grid = frame.grid(cursor.grid)?;
        let cell = grid.rows.get(cursor.row)?.cells.get(cursor.col)?.clone();
        let wide = grid.rows[cursor.row].cells.get(cursor.col + 1).is_some_and(|c| c.is_continuation());
        let info = frame.mode.current().cloned().unwrap_or_default();
        let cell_colors = frame.hl.get(cell.hl).resolve(&frame.defaults);
        // attr_id 0: the cell's colours swapped.
        let (cursor_bg, cursor_fg) = match info.attr_id.filter(|&id| id != 0) {
            Some(id) => {
                let attr = frame.hl.get(id);
                let c = attr.resolve(&frame.defaults);
                if attr.fg.is_none() && attr.bg.is_none() && !attr.reverse {
                    (cell_colors.fg, cell_colors.bg)
                } else {
                    (c.bg, c.fg)
                }
            }
            None => (cell_colors.fg, cell_colors.bg),
        };
        let x = ((origin_col + cursor.col as i64) * m.width as i64) as f32;
        let y = ((origin_row + cursor.row as i64) * m.height as i64) as f32;
        let cw = m.width as f32 * if wide { 2.0 } else { 1.0 };
        let ch = m.height as f32;
        let pct = info.cell_percentage.unwrap_or(100).clamp(1, 100) as f32 / 100.0;
        let color = rgba(cursor_bg, 1.0);
        match info.cursor_shape.unwrap_or(CursorShape::Block) {
            CursorShape::Block => out.push(Rect::solid(x, y, cw, ch, color)),
            CursorShape::Vertical => out.push(Rect::solid(x, y, (cw * pct).round().max(1.0), ch, color)),
            CursorShape::Horizontal => {
                let h = (ch * pct).round().max(1.0);
                out.push(Rect::solid(x, y + ch - h, cw, h, color));
            }
        }
        let block = info.cursor_shape.unwrap_or(CursorShape::Block) == CursorShape::Block;
        if !block || cell.text.trim().is_empty() || boxdraw::is_geometry(&cell.text) {
            if block && boxdraw::is_geometry(&cell.text) {
                let ch_char = cell.text.chars().next().unwrap_or(' ');
                boxdraw::push_rects(
                    out,
                    ch_char,
                    CellBox { x, y, w: m.width as f32, h: ch },
                    m.stroke,
                    rgba(cursor_fg, 1.0),
                );
            }
            return None;
        }
        let mut buffer = glyphon::Buffer::new(&mut self.fonts.system, glyphon::Metrics::new(m.font_px, ch));
        buffer.set_monospace_width(Some(m.width as f32));
        buffer.set_size(None, Some(ch));
        let attr = frame.hl.get(cell.hl);
        let attrs = self.fonts.attrs(attr.bold, attr.italic).color(text::color(cursor_fg));
        buffer.set_text(&cell.text, &attrs, glyphon::Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.fonts.system, false);
        Some((buffer, x, y, text::color(cursor_fg)))
    }
}

/// Backgrounds (into `replace`) and decorations and box drawing (into
/// `over`) for grid row `r`.
fn row_rects(
    frame: &Frame,
    row: &Row,
    r: usize,
    m: CellMetrics,
    replace: &mut Vec<Rect>,
    over: &mut Vec<Rect>,
) {
    let (cw, ch) = (m.width as f32, m.height as f32);
    let y = r as f32 * ch;
    for (col, cell) in row.cells.iter().enumerate() {
        let x = col as f32 * cw;
        let (bg, _) = background(frame, cell.hl);
        push_merged(replace, Rect::solid(x, y, cw, ch, bg));
        let attr = frame.hl.get(cell.hl);
        let colors = attr.resolve(&frame.defaults);
        let sp = rgba(attr.sp.unwrap_or(colors.fg), 1.0);
        let t = m.stroke;
        let uy = (y + m.baseline + m.underline_offset).min(y + ch - t);
        match attr.underline {
            Underline::None => {}
            Underline::Line => push_merged(over, Rect::solid(x, uy, cw, t, sp)),
            Underline::Double => {
                // Two lines a stroke apart, moved up if they would leave the cell.
                let top = uy.min(y + ch - 3.0 * t);
                over.push(Rect::solid(x, top, cw, t, sp));
                over.push(Rect::solid(x, top + 2.0 * t, cw, t, sp));
            }
            Underline::Curl => {
                let h = (t * 3.0).max(3.0);
                let top = (uy - h / 2.0).min(y + ch - h);
                over.push(Rect::shaped(x, top, cw, h, sp, rects::Kind::Curl, t));
            }
            Underline::Dotted => {
                // Dots on a pitch of 2 strokes, aligned to absolute x.
                let mut dx = (x / (2.0 * t)).ceil() * 2.0 * t;
                while dx < x + cw {
                    over.push(Rect::solid(dx, uy, t.min(x + cw - dx), t, sp));
                    dx += 2.0 * t;
                }
            }
            Underline::Dashed => {
                let (dash, pitch) = (3.0 * t, 5.0 * t);
                let mut dx = (x / pitch).floor() * pitch;
                while dx < x + cw {
                    let (a, b) = (dx.max(x), (dx + dash).min(x + cw));
                    if b > a {
                        over.push(Rect::solid(a, uy, b - a, t, sp));
                    }
                    dx += pitch;
                }
            }
        }
        if attr.strikethrough {
            let sy = (y + m.baseline - m.font_px * 0.3).round();
            push_merged(over, Rect::solid(x, sy, cw, t, rgba(colors.fg, 1.0)));
        }
        if boxdraw::is_geometry(&cell.text) {
            let c = cell.text.chars().next().unwrap_or(' ');
            let wide = row.cells.get(col + 1).is_some_and(|n| n.is_continuation());
            let w = if wide { cw * 2.0 } else { cw };
            boxdraw::push_rects(over, c, CellBox { x, y, w, h: ch }, m.stroke, rgba(colors.fg, 1.0));
        }
    }
}

/// A pass that draws over what `view` already holds.
fn load_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &'e wgpu::TextureView,
    label: &str,
) -> wgpu::RenderPass<'e> {
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations { load: wgpu::LoadOp::Load, store: wgpu::StoreOp::Store },
        })],
        ..Default::default()
    })
}

/// The global grid's size in pixels at the current metrics.
pub fn frame_pixels(frame: &Frame, m: CellMetrics) -> (u32, u32) {
    let (cols, rows) = frame.grid(GLOBAL_GRID).map_or((0, 0), |g| (g.width, g.height));
    (cols as u32 * m.width, rows as u32 * m.height)
}
