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
mod columns;
mod composite;
pub mod cursor_motion;
pub mod depth;
pub mod flash;
pub mod font;
pub mod geometry;
pub mod gpu;
mod later;
pub mod offscreen;
pub mod preview;
pub mod rects;
pub mod reuse;
pub mod ring;
pub mod rounds;
pub mod rows;
pub mod slide;
mod smear;
pub mod text;
pub mod vfx;
mod warm;

use later::Later;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use glyphon::{Cache, Resolution, SwashCache, TextArea, TextAtlas, TextBounds, TextRenderer, Viewport};
use wgpu::util::DeviceExt;

use crate::model::compose::{self, LayerKind};
use crate::model::{DefaultColors, Frame, GLOBAL_GRID, GridId, HlTable, OptionValue, Row};
use composite::CompositePipeline;
pub use depth::Depth;
use font::{CellMetrics, Fonts};
pub use geometry::Opacity;
pub(crate) use geometry::merge_bands;
use geometry::overlay_spot;
use rects::{Blend, Rect, RectPipeline, rgba};
use ring::RowMap;
use slide::Slide;
use text::ShapedRow;

/// What the caller decides about the cursor for this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorState {
    /// False while blinking off, busy, or unfocused-hidden.
    pub visible: bool,
}

/// Empty space around the grid, in pixels (the `padding_*` settings),
/// filled with the Normal background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Padding {
    pub top: u32,
    pub bottom: u32,
    pub left: u32,
    pub right: u32,
}

impl Padding {
    /// The padding cut to a target of `size`, leaving at least one pixel
    /// for the grid on each axis.
    pub fn fit(self, (width, height): (u32, u32)) -> Padding {
        let room_x = width.saturating_sub(1);
        let room_y = height.saturating_sub(1);
        let left = self.left.min(room_x);
        let top = self.top.min(room_y);
        Padding { left, top, right: self.right.min(room_x - left), bottom: self.bottom.min(room_y - top) }
    }

    /// What is left for the grid of a target of `size` (at least 1x1).
    pub fn inner(self, (width, height): (u32, u32)) -> (u32, u32) {
        let p = self.fit((width, height));
        ((width - p.left - p.right).max(1), (height - p.top - p.bottom).max(1))
    }

    /// A grid area of `size` with this padding around it.
    pub fn outer(self, (width, height): (u32, u32)) -> (u32, u32) {
        (
            width.saturating_add(self.left).saturating_add(self.right),
            height.saturating_add(self.top).saturating_add(self.bottom),
        )
    }

    /// The padding's four strips on a target of `size`, as rects.
    fn strips(self, (width, height): (u32, u32), color: [f32; 4]) -> Vec<Rect> {
        let (w, h) = (width as f32, height as f32);
        let (t, b, l, r) = (self.top as f32, self.bottom as f32, self.left as f32, self.right as f32);
        [
            Rect::solid(0.0, 0.0, w, t, color),
            Rect::solid(0.0, h - b, w, b, color),
            Rect::solid(0.0, t, l, h - t - b, color),
            Rect::solid(w - r, t, r, h - t - b, color),
        ]
        .into_iter()
        .filter(|rect| rect.size[0] > 0.0 && rect.size[1] > 0.0)
        .collect()
    }
}

/// The text under a block cursor: its buffer, where it is drawn (x, y on
/// the screen), its colour.
type CursorText = (glyphon::Buffer, f32, f32, glyphon::Color);

/// Where `Renderer::compose` draws a frame.
pub enum Target<'a> {
    /// A texture that holds the frame, kept between frames as `Keep` says.
    Kept(&'a wgpu::Texture),
    /// A frame of `size` pixels shown from a buffer of the caller's that
    /// keeps it (as `Keep` says): the rows it reads back are composed, a
    /// round at a time, into a scratch texture of `rows` rows (taller
    /// where a blurred float's footprint is), so no texture as large as
    /// the window holds the frame. `extra`: rows of the frame (top,
    /// bottom) the buffer lacks besides this frame's changes, composed
    /// too (a buffer shown some frames ago).
    Rows { size: (u32, u32), rows: u32, extra: &'a [(u32, u32)] },
}

/// A frame recorded by `Renderer::compose`, its commands not submitted.
pub struct Composed {
    pub stats: RenderStats,
    /// Submitted in order; the first holds the layers' drawing too. Into
    /// a scratch, each is read back before the next is submitted.
    pub rounds: Vec<Round>,
}

/// What one submission composes: `pieces` of the frame, into the scratch
/// (into a kept target, one piece, all of it).
pub struct Round {
    pub pieces: Vec<rounds::Piece>,
    pub encoder: wgpu::CommandEncoder,
}

/// What the target given to `Renderer::encode` holds (for
/// `Target::Rows`, the caller's buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing yet: the frame is drawn whole.
    Nothing,
    /// What the last call drew: only what changed is drawn again.
    LastFrame,
    /// Like `LastFrame`, for a caller that keeps its own copy of the last
    /// frame and moves in it the rows this frame moved (a scroll; see
    /// `RenderStats::moves`): those rows are left stale in a kept target,
    /// and drawn there by the next frame that is not `Moving`.
    Moving,
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
    /// Pixels of layer textures drawn again: the rows drawn again, inside
    /// the columns where they change (see `columns`).
    pub drawn_px: u64,
    /// Pixels in all the layers' textures after this frame (4 bytes each).
    pub layer_px: u64,
    /// With `Keep::Moving`: the parts of `damage` that hold what the
    /// last frame showed elsewhere (see `reuse`), left stale in the target.
    pub moves: Vec<reuse::Move>,
    /// The rows of `damage` drawn into the target: all of it, but for
    /// the rows `moves` accounts for.
    pub fresh: Vec<(u32, u32)>,
    /// `damage` and `fresh` as spans of the target (x0, y0, x1, y1): in
    /// a frame that moves no rows, each band cut to the columns composed
    /// in it (and bands where no pixel changed left out); else whole rows.
    pub damage_spans: Vec<[u32; 4]>,
    pub fresh_spans: Vec<[u32; 4]>,
    /// The rows of `damage` this frame changed itself: not those composed
    /// only because the buffer lacked them (`Target::Rows`' `extra`), nor
    /// rows stale in a kept target.
    pub changed: Vec<(u32, u32)>,
}

/// What a grid's layer must be this frame (see `Renderer::layer_shape`).
struct LayerShape {
    /// The grid's size in cells.
    cols: usize,
    rows: usize,
    /// The texture's size in pixels.
    size: (u32, u32),
    map: RowMap,
    held: Option<Vec<usize>>,
    /// Rows and columns of the grid the texture shows.
    shown: usize,
    visible_cols: usize,
    /// The texture holds every row of the grid.
    whole: bool,
}

/// Rows redrawn in one layer this frame, and what to draw for them.
struct LayerUpdate {
    grid: GridId,
    dirty: Vec<usize>,
    /// The texture rows the dirty rows are drawn in.
    slots: Vec<usize>,
    /// How many of the dirty rows were shaped anew.
    shaped: usize,
    /// The ring turned: every row of the layer moved on screen.
    turned: bool,
    /// A new texture: cleared to this colour first.
    clear: Option<[f32; 4]>,
    /// The part of the texture, `[x0, y0, x1, y1]` in pixels, where the
    /// dirty rows change pixels (see `columns`). `None`: they change none.
    changes: Option<[u32; 4]>,
    /// The part of the texture they are drawn in: `changes`, and the
    /// whole of the rows the texture lags on (`Layer::behind`).
    drawn: Option<[u32; 4]>,
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
    depth: Depth,
}

/// How the screen was last composed into the target, and the bind
/// groups for drawing it.
struct KeptScreen {
    composite_globals: wgpu::BindGroup,
    rect_globals: wgpu::BindGroup,
    layout: ScreenLayout,
    /// The whole target's size (the screen plus the padding) and its rect
    /// globals, for drawing the padding.
    target_size: (u32, u32),
    target_globals: wgpu::BindGroup,
}

/// How many rows the text of `map`'s window scrolled since it was drawn:
/// the turn its rows show (see `RowMap::find_turn`), else the one nvim
/// reported (`delta`, display lines) when its rows were all drawn anew
/// (`'relativenumber'` rewrites every row), a jump further than the text
/// is high turning only `far_lines`, so the slide shows a short move into
/// the destination. Rows that scrolled in are drawn either way.
fn turn_for(
    map: &RowMap,
    grid: &crate::model::GridFrame,
    drawn: &[Option<Arc<Row>>],
    delta: i64,
    far_lines: usize,
) -> i64 {
    if map.inner == 0 || map.ring == 0 {
        return 0;
    }
    if let Some(by) = map.find_turn(&grid.rows, drawn) {
        return by;
    }
    let inner = i64::try_from(map.inner).unwrap_or(i64::MAX);
    // Unsigned: a stream may report any delta, `i64::MIN` too.
    if delta.unsigned_abs() < inner.unsigned_abs() {
        delta
    } else {
        delta.signum() * i64::try_from(far_lines).unwrap_or(i64::MAX).min(inner)
    }
}

/// `layer` is of `shape`: it is kept, else made anew.
fn layer_fits(layer: &Layer, shape: &LayerShape) -> bool {
    let (a, b) = (&layer.map, &shape.map);
    layer.cols == shape.cols
        && layer.rows == shape.rows
        && layer.size == shape.size
        && (a.top, a.inner, a.bottom, a.ring) == (b.top, b.inner, b.bottom, b.ring)
        && layer.held == shape.held
}

/// Whether a layer texture holding the rows `old` (all `shown` rows when
/// `None`) can go on holding the rows `needed`: it holds them all, and not
/// more than twice as many.
fn still_holds(old: Option<&[usize]>, needed: &[usize], shown: usize) -> bool {
    let room = 2 * needed.len().max(1);
    match old {
        Some(old) => old.len() <= room && needed.iter().all(|r| old.binary_search(r).is_ok()),
        None => shown <= room,
    }
}

/// Where `layer` is drawn this frame: its place, moved by its slide, and
/// how its texture is read (the ring, the scroll offset). A window or
/// float that was on screen in the last frame and has a new place slides
/// there from where it was drawn.
fn place_layer(
    layer: &mut Layer,
    placed: &compose::Layer,
    frame: &Frame,
    m: CellMetrics,
    slides: SlideKnobs,
    now: Instant,
) -> composite::Placement {
    let mut placement = geometry::layer_placement(placed, m);
    let target = placement.pos;
    let slides_there = matches!(placed.kind, LayerKind::Window | LayerKind::Float);
    if let Some(old) = layer.placed_at.filter(|old| *old != target && slides_there) {
        for axis in 0..2 {
            layer.slide[axis].moved(target[axis] - old[axis], now, slides.position_length, 1e5);
        }
    }
    layer.placed_at = Some(target);
    placement.pos = [0, 1].map(|axis| target[axis] + layer.slide[axis].offset(now).round());
    let map = layer.map;
    if map.ring > map.inner || map.base != 0 || map.top > 0 || map.bottom > 0 {
        let (w, h) = (m.width as f32, m.height as f32);
        let margins = frame.windows.get(&placed.grid).map(|win| win.margins).unwrap_or_default();
        let right = placed.width.saturating_sub(margins.right).max(margins.left);
        placement.text =
            [margins.left as f32 * w, map.top as f32 * h, right as f32 * w, (map.top + map.inner) as f32 * h];
        placement.scroll = [
            -layer.scroll.offset(now).round(),
            (map.ring as f32 * h).max(1.0),
            map.base as f32 * h,
            (map.top + map.ring) as f32 * h,
        ];
    }
    placement
}

/// Screen rects (x0, y0, x1, y1) covering the rows the updates redrew,
/// each as wide as the columns where its layer's pixels changed (see
/// `LayerUpdate::changes`; none where they changed none).
fn damaged_spots(
    visible: &[compose::Layer],
    layers: &HashMap<GridId, Layer>,
    updates: &[LayerUpdate],
    m: CellMetrics,
    (width, height): (u32, u32),
) -> Vec<[u32; 4]> {
    let mut spots = Vec::new();
    for update in updates {
        let Some(placed) = visible.iter().find(|l| l.grid == update.grid) else { continue };
        let left = layers.get(&update.grid).map_or(0.0, |l| l.placed.pos[0]);
        let columns = update.changes.map(|[x0, _, x1, _]| geometry::columns_at(left, x0, x1, width));
        for &r in &update.dirty {
            if let Some((y0, y1)) = geometry::row_band(placed, r, m, height) {
                // Rows drawn with no pixel changed still count as damaged
                // rows (`damage`), with no columns.
                let (x0, x1) = columns.unwrap_or((0, 0));
                spots.push([x0, y0, x1, y1]);
            }
        }
    }
    spots
}

/// A grid's pixels, kept between frames.
struct Layer {
    cols: usize,
    rows: usize,
    /// The texture's size in pixels: the grid's, cut to the target, or
    /// for a scrolling window its rows in the ring (see `ring`).
    size: (u32, u32),
    texture: wgpu::Texture,
    /// Where it is drawn this frame.
    placed: composite::Placement,
    /// Which texture row holds which grid row.
    map: RowMap,
    /// The global grid's rows outside windows, when windows hide some of
    /// the others (see `geometry::hidden_rows`): the texture holds only
    /// these, stacked, and `map` counts them.
    held: Option<Vec<usize>>,
    view: wgpu::TextureView,
    globals: wgpu::BindGroup,
    viewport: Viewport,
    text: TextRenderer,
    /// Draws the rows `behind` (made the first time there are some).
    caught_up: Option<TextRenderer>,
    /// Per texture row, the row drawn there (`None`: must draw).
    drawn: Vec<Option<Arc<Row>>>,
    /// Per texture row, whether `drawn` was drawn on the CPU only (a
    /// frame shown from `preview`): the texture lags, and the next frame
    /// the GPU draws draws the row whole.
    behind: Vec<bool>,
    shaped: Vec<Option<ShapedRow>>,
    /// A blended float's rows: the mixed colours they were drawn with.
    mixed: Vec<Vec<Option<geometry::Mixed>>>,
    placement: wgpu::Buffer,
    composite: wgpu::BindGroup,
    /// Tells this layer's texture from the ones it replaced.
    id: u64,
    /// Not drawn into yet: the first pass clears it.
    fresh: bool,
    /// Drawn into only by frames drawn on the CPU since it was made: the
    /// first pass the GPU draws into it clears it to this colour first.
    unclear: Option<[f32; 4]>,
    /// The frame whose scroll this layer last took.
    seen: u64,
    /// The smooth scroll: how far the text is drawn from its place.
    scroll: Slide,
    /// A window's move: how far it is drawn from its place, x and y.
    slide: [Slide; 2],
    /// Where the window was placed in the last frame it was shown.
    placed_at: Option<[f32; 2]>,
    /// The scroll offset and position it was last composed at.
    composed: Option<(i32, [i32; 2])>,
}

impl Layer {
    /// The texture row grid row `r` is drawn in; `None` when not held.
    fn slot(&self, r: usize) -> Option<usize> {
        match &self.held {
            Some(held) => held.binary_search(&r).ok(),
            None => Some(self.map.slot(r)),
        }
    }
}

/// How long scrolls and window moves slide (see `slide`); all 0 (the
/// default, as for snapshots and golden images) draws them at once.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SlideKnobs {
    /// Seconds a scroll slides.
    pub scroll_length: f32,
    /// A jump further than the window slides in this many lines.
    pub far_lines: usize,
    /// Seconds a window's move slides.
    pub position_length: f32,
}

impl SlideKnobs {
    pub fn from_settings(s: &crate::settings::Settings) -> SlideKnobs {
        SlideKnobs {
            scroll_length: s.scroll_animation_length.0,
            far_lines: usize::try_from(s.scroll_animation_far_lines).unwrap_or(usize::MAX),
            position_length: s.position_animation_length.0,
        }
    }
}

pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    format: wgpu::TextureFormat,
    /// The device's largest texture side: layer textures are cut to it.
    max_texture_side: u32,
    pub fonts: Fonts,
    swash: SwashCache,
    pipelines: Pipelines,
    layers: HashMap<GridId, Layer>,
    /// Empty space around the grid.
    pub padding: Padding,
    /// How opaque backgrounds are.
    pub opacity: Opacity,
    /// Floats' shadow, rounded corners and background blur.
    pub depth: Depth,
    /// Pieces of rows shaped before (valid for `drawn_with` and the fonts).
    shapes: text::ShapeCache,
    /// The two lists of glyphs `columns::changed` compares, kept.
    changed_glyphs: [Vec<text::DrawnGlyph>; 2],
    /// The rects of the frame being encoded (see `rects::FrameRects`).
    frame_rects: rects::FrameRects,
    /// A kept target (see `Keep`) and its view, for the next frame to the
    /// same target (a view made per frame is a wgpu and driver object
    /// made and destroyed per frame).
    target_view: Option<(wgpu::Texture, wgpu::TextureView)>,
    /// The scratch texture frames are composed into in rounds (see
    /// `Target::Rows`), and its view.
    scratch: Option<(wgpu::Texture, wgpu::TextureView)>,
    /// What the layers were drawn with; a change redraws everything.
    drawn_with: Option<(Arc<HlTable>, DefaultColors, CellMetrics, bool, Opacity)>,
    /// How the kept screen was last placed on the target: its padding and
    /// colour; a change redraws the whole target.
    placed_with: Option<(Padding, [f32; 4])>,
    /// guifont, guifontwide, linespace as last applied.
    font_options: (String, String, i64),
    /// A `[font]` table waiting for the next frame, which applies it like
    /// a `guifont` change (so the window keeps its grid).
    font_config: Option<crate::settings::font::FontSettings>,
    screen: Option<KeptScreen>,
    /// IME composition text, drawn underlined at the cursor over the grid
    /// (nothing is sent to nvim until it is committed).
    preedit: Option<String>,
    /// The part of the screen (x0, y0, x1, y1) the cursor or preedit was
    /// last drawn over.
    overlay: Option<[u32; 4]>,
    /// The last frame's layers as `reuse` sees them: where each was copied
    /// and where something was drawn over them.
    last_shown: Vec<reuse::Shown>,
    last_covered: Vec<(u32, u32)>,
    /// Rows of the target not composed since they moved (see
    /// `Keep::Moving`).
    stale: Vec<(u32, u32)>,
    /// Layers made so far (see `Layer::id`).
    layer_ids: u64,
    /// Each visible layer's shape this frame, kept to be filled again
    /// (no allocation per frame).
    layer_shapes: Vec<Option<LayerShape>>,
    /// The sliding cursor's corners in screen pixels for the next frame
    /// (see `cursor_motion`); `None` draws the cursor on its cell.
    pub cursor_smear: Option<[[f32; 2]; 4]>,
    /// Anti-aliased edges for the sliding cursor.
    pub cursor_antialiasing: bool,
    /// Draw a block cursor hollow, its outline this many pixels thick
    /// (the window is unfocused).
    pub cursor_outline: Option<f32>,
    /// How opaque the cursor is (a smooth blink fades it).
    pub cursor_alpha: f32,
    /// The bell's flash: how far the window is tinted toward the
    /// foreground colour (see `flash`); `None` draws no tint.
    pub flash: Option<f32>,
    /// How scrolls and window moves slide.
    pub slides: SlideKnobs,
    /// The time the next frame is drawn for (the animation clock).
    pub now: Instant,
    /// The cursor's particle effects for the next frame, in screen pixels
    /// (see `vfx`), drawn over the cursor.
    pub cursor_vfx: Vec<Rect>,
    /// Whether small frames are also drawn on the CPU (see `preview`):
    /// for a presenter that can show them before the GPU's.
    pub previews: bool,
    /// The last encoded frame drawn on the CPU, where it was (see
    /// `preview`).
    previewed: Option<preview::Preview>,
    /// The target's padding was last drawn by a frame drawn on the CPU:
    /// the next frame the GPU draws draws it.
    unpadded: bool,
}

/// A renderer's GPU side before it has fonts: the pipelines (the slow part
/// to make on a CPU adapter, where each is compiled) and the glyph atlas,
/// for one device and texture format. Made on any thread.
pub struct Pipelines {
    cache: Cache,
    atlas: TextAtlas,
    cursor_text: TextRenderer,
    cursor_viewport: Viewport,
    /// The layouts the layers and the screen are made with: there at once.
    rect_globals: wgpu::BindGroupLayout,
    composite_globals: wgpu::BindGroupLayout,
    composite_layer: wgpu::BindGroupLayout,
    /// The rects' and the composite's pipelines: begun at once on a thread
    /// of their own, and waited for by the first frame the GPU draws (a
    /// first frame drawn on the CPU needs none).
    drawing: Later<Arc<Drawing>>,
    smear: Later<smear::SmearPipeline>,
    depth: Later<depth::DepthPipelines>,
}

/// The pipelines nearly every frame the GPU draws uses.
pub struct Drawing {
    pub rects: RectPipeline,
    pub composite: CompositePipeline,
}

impl Pipelines {
    /// Made on four threads: on a CPU adapter each pipeline is compiled
    /// (2 to 5 ms each with lavapipe), and nothing else is drawn meanwhile.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, format: wgpu::TextureFormat) -> Self {
        Pipelines::build(device, queue, format, false)
    }

    /// For a CPU adapter, whose first frame is drawn on the CPU: made once
    /// the text's pipeline is (a layer's text renderer is made with it).
    /// The rects' and the composite's go on on their own thread, then the
    /// first frame's draws are made once with them (see `warm`: lavapipe
    /// compiles a draw's code at its first use). The pipelines only some
    /// frames draw with (floats' shadows, blur and round corners, the
    /// cursor's smear, the rects' shapes) are each made at the first frame
    /// that draws with them, 2 to 5 ms once: on lavapipe they held about
    /// 5 MB of memory, which a session that never draws them never pays.
    pub fn warmed(device: &wgpu::Device, queue: &wgpu::Queue, format: wgpu::TextureFormat) -> Self {
        Pipelines::build(device, queue, format, true)
    }

    fn build(device: &wgpu::Device, queue: &wgpu::Queue, format: wgpu::TextureFormat, warm: bool) -> Self {
        let rect_globals = rects::globals_layout(device, "rect globals");
        let composite_globals = rects::globals_layout(device, "composite globals");
        let composite_layer = composite::layer_layout(device);
        let cache = Cache::new(device);
        // The rects' and the composite's compiled beside the text's (3 to
        // 4 ms each with lavapipe), then, with `warm`, the first frame's
        // draws made once.
        let mut drawing = {
            let (device, queue, cache) = (device.clone(), queue.clone(), cache.clone());
            let (rect_globals, composite_globals, composite_layer) =
                (rect_globals.clone(), composite_globals.clone(), composite_layer.clone());
            Later::pending(move || {
                yielding(|| {
                    let rects = RectPipeline::new(&device, format, rect_globals);
                    let composite =
                        CompositePipeline::new(&device, format, composite_globals, composite_layer);
                    if warm {
                        let first = warm::FirstFrame { cache: &cache, rects: &rects, composite: &composite };
                        if let Err(e) = first.warm_up(&device, &queue, format) {
                            log::warn!("drawing the first frame's draws ahead failed: {e}");
                        }
                    }
                    Arc::new(Drawing { rects, composite })
                })
            })
        };
        drawing.start();
        let mut atlas = TextAtlas::with_color_mode(device, queue, &cache, format, glyphon::ColorMode::Web);
        let cursor_text = TextRenderer::new(&mut atlas, device, wgpu::MultisampleState::default(), None);
        let cursor_viewport = Viewport::new(device, &cache);
        let (layout, device_later) = (rect_globals.clone(), device.clone());
        let mut smear = Later::pending(move || smear::SmearPipeline::new(&device_later, format, &layout));
        let device_later = device.clone();
        let mut depth = Later::pending(move || depth::DepthPipelines::new(&device_later, format, !warm));
        // Floats' depth, the cursor's smear and the rects' shapes: with
        // `warm`, each made at its first use, else now.
        if !warm {
            smear.start();
            depth.start();
            drawing.get().rects.start_shapes();
            smear.get();
            depth.get();
        }
        crate::trace::mark(crate::trace::Stage::PipelinesReady);
        Pipelines {
            cache,
            atlas,
            cursor_text,
            cursor_viewport,
            rect_globals,
            composite_globals,
            composite_layer,
            drawing,
            smear,
            depth,
        }
    }

    /// The rects' and the composite's pipelines, waited for if not made yet.
    fn drawing(&mut self) -> Arc<Drawing> {
        self.drawing.get().clone()
    }

    /// See `Renderer::made_at_first_use`.
    fn made_at_first_use(&mut self) -> Vec<&'static str> {
        let mut made: Vec<&'static str> = self.depth.ready().map(|d| d.made().collect()).unwrap_or_default();
        if self.smear.ready().is_some() {
            made.push("smear");
        }
        if self.drawing.ready().is_some_and(|d| d.rects.shapes_made()) {
            made.push("shapes");
        }
        made
    }
}

/// Runs `make` on this thread at a lower priority (Linux's nice value is
/// a thread's own): a pipeline compiled beside the rest gives way to the
/// main thread, which at start-up may be what the first frame waits for
/// (Xlib reading the Compose file where it keeps no cache).
fn yielding<T>(make: impl FnOnce() -> T) -> T {
    // SAFETY: a plain system call on the calling thread; raising its nice
    // value needs no privilege, and a refusal changes nothing.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
    make()
}

impl Renderer {
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, format: wgpu::TextureFormat, fonts: Fonts) -> Self {
        let pipelines = Pipelines::new(&device, &queue, format);
        Renderer::with_pipelines(device, queue, format, pipelines, fonts)
    }

    /// Which of the pipelines a CPU adapter makes at their first use
    /// (`Pipelines::warmed`) are made: the depth pipelines by their
    /// shaders' names, "smear" and "shapes".
    pub fn made_at_first_use(&mut self) -> Vec<&'static str> {
        self.pipelines.made_at_first_use()
    }

    /// A renderer from `pipelines` made for `device` and `format`.
    pub fn with_pipelines(
        device: wgpu::Device,
        queue: wgpu::Queue,
        format: wgpu::TextureFormat,
        pipelines: Pipelines,
        fonts: Fonts,
    ) -> Self {
        Renderer {
            pipelines,
            cursor_smear: None,
            cursor_antialiasing: true,
            cursor_outline: None,
            cursor_alpha: 1.0,
            flash: None,
            slides: SlideKnobs::default(),
            now: Instant::now(),
            cursor_vfx: Vec::new(),
            previews: false,
            previewed: None,
            unpadded: false,
            depth: Depth::default(),
            max_texture_side: device.limits().max_texture_dimension_2d,
            device,
            queue,
            format,
            fonts,
            swash: SwashCache::new(),
            layers: HashMap::new(),
            padding: Padding::default(),
            opacity: Opacity::default(),
            shapes: text::ShapeCache::default(),
            changed_glyphs: Default::default(),
            frame_rects: rects::FrameRects::default(),
            target_view: None,
            scratch: None,
            drawn_with: None,
            placed_with: None,
            font_options: (String::new(), String::new(), 0),
            font_config: None,
            screen: None,
            preedit: None,
            overlay: None,
            last_shown: Vec::new(),
            last_covered: Vec::new(),
            stale: Vec::new(),
            layer_ids: 0,
            layer_shapes: Vec::new(),
        }
    }

    /// Sets (or clears, with `None` or "") the IME preedit text.
    pub fn set_preedit(&mut self, text: Option<String>) {
        self.preedit = text.filter(|t| !t.is_empty());
    }

    /// The cursor's cell on the target in pixels (x, y, width, height),
    /// e.g. to place the IME candidate window.
    pub fn cursor_area(&self, frame: &Frame) -> Option<(f32, f32, f32, f32)> {
        let (x, y, w, h) = geometry::cursor_cell(frame, self.fonts.metrics())?;
        Some((x + self.padding.left as f32, y + self.padding.top as f32, w, h))
    }

    /// The target size that shows all of `frame`'s global grid with the
    /// padding around it.
    pub fn target_pixels(&self, frame: &Frame) -> (u32, u32) {
        self.padding.outer(frame_pixels(frame, self.metrics()))
    }

    /// When the last scroll or window slide ends; `None` when nothing
    /// slides at `now`.
    pub fn slide_end(&self, now: Instant) -> Option<Instant> {
        self.layers
            .values()
            .flat_map(|l| [&l.scroll, &l.slide[0], &l.slide[1]])
            .filter_map(|s| s.end(now))
            .max()
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
        self.shapes.clear();
        self.drawn_with = None;
        self.screen = None;
    }

    /// Applies guifont, guifontwide and linespace from nvim's options.
    /// Applies the `[font]` table from the next frame on.
    pub fn set_font_config(&mut self, config: crate::settings::font::FontSettings) {
        self.font_config = Some(config);
    }

    fn sync_font_options(&mut self, frame: &Frame) {
        if let Some(config) = self.font_config.take()
            && self.fonts.set_config(&config)
        {
            // Faces or features may change with the cells' size unchanged.
            self.invalidate();
        }
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
        // Faces may change with the cells' size unchanged.
        self.invalidate();
    }

    /// Draws `frame` into `target`, which must allow `COPY_DST` and
    /// `RENDER_ATTACHMENT` and have the renderer's format.
    pub fn render(&mut self, frame: &Frame, target: &wgpu::Texture, cursor: CursorState) -> RenderStats {
        self.on_gpu(frame, target, cursor, Keep::Nothing)
    }

    /// `encode` and submit, for a caller that shows no frame drawn on the
    /// CPU (see `preview`): the frame's commands are always recorded.
    fn on_gpu(
        &mut self,
        frame: &Frame,
        target: &wgpu::Texture,
        cursor: CursorState,
        keep: Keep,
    ) -> RenderStats {
        let previews = std::mem::replace(&mut self.previews, false);
        let (stats, commands) = self.encode(frame, target, cursor, keep);
        self.previews = previews;
        self.submit(commands.finish());
        stats
    }

    /// Like `render`, into a target that still holds what the previous
    /// call drew: only the bands that changed are written, and
    /// `RenderStats::damage` names them.
    pub fn render_kept(&mut self, frame: &Frame, target: &wgpu::Texture, cursor: CursorState) -> RenderStats {
        self.on_gpu(frame, target, cursor, Keep::LastFrame)
    }

    /// The scratch texture frames are composed into (see `Target::Rows`),
    /// once one is.
    pub fn scratch(&self) -> Option<&wgpu::Texture> {
        self.scratch.as_ref().map(|(texture, _)| texture)
    }

    fn submit(&self, commands: wgpu::CommandBuffer) {
        self.queue.submit([commands]);
        crate::trace::mark(crate::trace::Stage::FrameSubmitted);
    }

    /// Like `render_kept` (or `render`, as `keep` says) but not
    /// submitted: the caller adds its own commands (reading the frame back)
    /// and submits them together, one command buffer and one round of the
    /// GPU's queue.
    pub fn encode(
        &mut self,
        frame: &Frame,
        target: &wgpu::Texture,
        cursor: CursorState,
        keep: Keep,
    ) -> (RenderStats, wgpu::CommandEncoder) {
        let Composed { stats, mut rounds } = self.compose(frame, Target::Kept(target), cursor, keep);
        let round = rounds.pop().expect("a kept target is composed in one round");
        (stats, round.encoder)
    }

    /// Records `frame` into `target` (see `Target`), as `keep` says the
    /// target (or the buffer the rows go to) holds the last frame; the
    /// commands are not submitted.
    pub fn compose(
        &mut self,
        frame: &Frame,
        target: Target<'_>,
        cursor: CursorState,
        keep: Keep,
    ) -> Composed {
        let (target_size, scratch) = match target {
            Target::Kept(target) => ((target.width(), target.height()), false),
            Target::Rows { size, .. } => (size, true),
        };
        let pad = self.padding.fit(target_size);
        // The screen is the target inside the padding.
        let (width, height) = pad.inner(target_size);
        self.sync_font_options(frame);
        let m = self.fonts.metrics();
        let key = (frame.hl.clone(), frame.defaults, m, self.fonts.ligatures, self.opacity);
        let same = self.drawn_with.as_ref().is_some_and(|(hl, d, old_m, lig, opacity)| {
            Arc::ptr_eq(hl, &key.0) && *d == key.1 && *old_m == key.2 && *lig == key.3 && *opacity == key.4
        });
        if !same {
            if self.drawn_with.as_ref().is_some_and(|(_, _, old_m, lig, _)| *old_m != m || *lig != key.3) {
                self.layers.clear();
            }
            for layer in self.layers.values_mut() {
                layer.drawn.iter_mut().for_each(|d| *d = None);
                layer.shaped.iter_mut().for_each(|s| *s = None);
            }
            self.shapes.clear();
            self.drawn_with = Some(key);
        }
        self.layers.retain(|id, _| frame.grids.contains_key(id));

        let visible = compose::layers(frame);
        let mut stats = RenderStats { layers: visible.len(), ..Default::default() };
        // Rows of the global grid under windows are never seen: they are
        // drawn when they show again (their `drawn` stays stale or `None`).
        // While a window slides to a new place they may show.
        let starts_sliding = |p: &compose::Layer| {
            let moved = |l: &Layer| l.placed_at.is_some_and(|at| at != geometry::layer_placement(p, m).pos);
            self.slides.position_length > 0.0 && self.layers.get(&p.grid).is_some_and(moved)
        };
        let sliding = self.layers.values().any(|l| l.slide.iter().any(|s| s.end(self.now).is_some()))
            || visible.iter().any(starts_sliding);
        let hidden = if sliding { Vec::new() } else { geometry::hidden_rows(&visible) };
        let hidden_in =
            |placed: &compose::Layer| if placed.kind == LayerKind::Global { &hidden[..] } else { &[] };
        let mut shapes = std::mem::take(&mut self.layer_shapes);
        shapes.extend(
            visible.iter().map(|placed| self.layer_shape(frame, placed, (width, height), hidden_in(placed))),
        );
        // Layers made anew go before any new one is made (their place and
        // slide kept): the memory of their textures, free once the frames
        // that used them are done, can then hold the new textures rather
        // than fresh memory past them, which would stay in the process.
        let mut replaced = Vec::new();
        for (placed, shape) in visible.iter().zip(&shapes) {
            let fits = |l: &Layer| shape.as_ref().is_none_or(|shape| layer_fits(l, shape));
            if self.layers.get(&placed.grid).is_some_and(|l| !fits(l)) {
                let old = self.layers.remove(&placed.grid).expect("just found");
                replaced.push((placed.grid, old.placed_at, old.slide));
            }
        }
        // A layer's text is prepared for the GPU (its glyphs rasterised
        // into the atlas) as the layer is drawn, before the next layer's
        // texture is made: the order lavapipe lays their memory out in
        // (preparing every layer's after all the textures made anew took
        // `:only` 1.2 MB further). A frame that may be drawn on the CPU
        // (see `preview`: a target that holds nothing, or one that keeps
        // the last frame and no layer made anew) prepares nothing until
        // it is known to go to the GPU.
        let none_new = visible
            .iter()
            .zip(&shapes)
            .all(|(placed, shape)| shape.is_none() || self.layers.contains_key(&placed.grid));
        let maybe_cpu = self.previews
            && match keep {
                Keep::Nothing => preview::Plan::whole_fits(target_size),
                Keep::Moving => none_new,
                Keep::LastFrame => false,
            };
        let mut updates = Vec::new();
        for (placed, shape) in visible.iter().zip(shapes.drain(..)) {
            let Some(shape) = shape else { continue };
            let kept = replaced.iter().find(|r| r.0 == placed.grid).map(|&(_, at, slide)| (at, slide));
            if let Some(update) = self.prepare_layer(frame, placed, hidden_in(placed), shape, kept) {
                stats.rows_drawn += update.dirty.len();
                stats.rows_shaped += update.shaped;
                if !maybe_cpu {
                    self.prepare_text(frame, std::slice::from_ref(&update));
                }
                updates.push(update);
            }
        }
        self.layer_shapes = shapes;
        let mut separators = Vec::new();
        // Layers whose pixels moved on screen (a scroll, a slide), and
        // whether one moved its place (all of the screen is composed).
        let mut moved_bands = Vec::new();
        let mut moved_place = false;
        for (grid, layer) in self.layers.iter_mut() {
            if !visible.iter().any(|p| p.grid == *grid) {
                // Hidden: it shows again where it is then, without a slide.
                layer.placed_at = None;
                layer.composed = None;
                layer.slide.iter_mut().for_each(Slide::stop);
                layer.scroll.stop();
            }
        }
        for placed in &visible {
            let Some(layer) = self.layers.get_mut(&placed.grid) else { continue };
            let placement = place_layer(layer, placed, frame, m, self.slides, self.now);
            // Each write is a staging buffer of its own: only a move is written.
            if layer.placed != placement {
                self.queue.write_buffer(&layer.placement, 0, bytemuck::bytes_of(&placement));
                layer.placed = placement;
            }
            let composed = (placement.scroll[0] as i32, [placement.pos[0] as i32, placement.pos[1] as i32]);
            let was = layer.composed.replace(composed);
            let turned = updates.iter().any(|u| u.grid == placed.grid && u.turned);
            if was.is_some_and(|(_, pos)| pos != composed.1) {
                moved_place = true;
            } else if turned || was.is_some_and(|(offset, _)| offset != composed.0) {
                let (y, h) = (placement.pos[1].max(0.0) as u32, placement.size[1] as u32);
                moved_bands.push((y.min(height), y.saturating_add(h).min(height)));
            }
            if placed.kind == LayerKind::Message {
                separators.extend(geometry::separator(frame, placed.grid, width, m, self.opacity));
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
            depth: self.depth,
        };
        let full = moved_place || self.screen.as_ref().is_none_or(|s| s.layout != layout);
        let normal_bg = rgba(frame.defaults.bg, self.opacity.normal);
        if self
            .screen
            .as_ref()
            .is_none_or(|s| s.layout.size != (width, height) || s.target_size != target_size)
        {
            self.screen = Some(self.new_screen(target_size, (width, height), &layout));
        }
        let mut cursor_rects = Vec::new();
        let cursor_glyph = match self.preedit.clone() {
            Some(text) => self.push_preedit(frame, &text, &mut cursor_rects),
            None if cursor.visible && !frame.busy => self.push_cursor(frame, &mut cursor_rects),
            None => None,
        };
        // Hollow without the focus, faded by a smooth blink, and while it
        // slides drawn as its smear instead.
        let mut cursor_glyph = cursor_glyph;
        if self.preedit.is_none() {
            if let Some(width) = self.cursor_outline {
                geometry::hollow_cursor(frame, width, &mut cursor_rects, &mut cursor_glyph);
            }
            let glyph_color = cursor_glyph.as_mut().map(|g| &mut g.3);
            geometry::fade_cursor(self.cursor_alpha, &mut cursor_rects, glyph_color);
        }
        let smear_quad = self.cursor_smear.filter(|_| self.preedit.is_none()).and_then(|corners| {
            smear::take_cursor(corners, self.cursor_antialiasing, &mut cursor_rects, &mut cursor_glyph)
        });
        let smear_bounds: Vec<Rect> = smear_quad.iter().map(smear::Quad::bounds).collect();
        // The bell's flash tints the whole screen, over the cursor too.
        let tint = self
            .flash
            .filter(|&a| a > 0.0)
            .map(|a| Rect::solid(0.0, 0.0, width as f32, height as f32, rgba(frame.defaults.fg, a.min(1.0))));
        let overlay = match &tint {
            Some(_) => Some([0, 0, width, height]).filter(|_| width > 0 && height > 0),
            None => {
                let cursor = overlay_spot(
                    if smear_bounds.is_empty() { &cursor_rects } else { &smear_bounds },
                    cursor_glyph.as_ref().map(|g| (g.1, g.2)),
                    m,
                    (width, height),
                )
                // The text being composed runs on from the cursor.
                .map(|[x0, y0, x1, y1]| {
                    if self.preedit.is_some() { [0, y0, width, y1] } else { [x0, y0, x1, y1] }
                });
                // The particles' too, so the next frame restores them.
                let particles = overlay_spot(&self.cursor_vfx, None, m, (width, height));
                cursor
                    .into_iter()
                    .chain(particles)
                    .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
            }
        };
        // The target keeps what the last frame drew (see `Keep`): it is
        // composed again where something changed, where the cursor was and
        // where it goes. A new target, a new layout or new padding is
        // composed whole.
        let placed_with = Some((pad, normal_bg));
        // Rows the buffer lacks besides this frame's (see `Target::Rows`),
        // on the screen; any in the padding: all of it.
        let extra = match target {
            Target::Rows { extra, .. } => extra,
            Target::Kept(_) => &[],
        };
        let in_padding = extra.iter().any(|&(y0, y1)| y0 < pad.top || y1 > pad.top + height);
        let whole = keep == Keep::Nothing || full || self.placed_with != placed_with || in_padding;
        self.placed_with = placed_with;
        // The screen is composed in regions: the damaged bands, except
        // where they pass a blurred float's footprint (the float, its
        // shadow and what its blur reads), which is composed whole.
        let floats = depth::FloatPlan::new(frame, &visible, m, (width, height), &self.depth, self.opacity);
        if let Some(depth) = self.pipelines.depth.ready() {
            depth.keep_targets(floats.blurs());
        }
        // Rows with new pixels: rows drawn again, and where the cursor was
        // and is. Rows that only moved are damaged too.
        // Where in them: `spots`, (x0, y0, x1, y1).
        let mut spots = damaged_spots(&visible, &self.layers, &updates, m, (width, height));
        spots.extend(self.overlay.into_iter().chain(overlay));
        let changed = merge_bands(spots.iter().map(|s| (s[1], s[3])).collect());
        // Rows left stale in the target (see `Keep::Moving`) are drawn as
        // soon as a frame is not moving rows.
        let stale = match keep {
            _ if scratch => {
                let on_screen = |y: u32| y.saturating_sub(pad.top).min(height);
                extra.iter().map(|&(y0, y1)| (on_screen(y0), on_screen(y1))).filter(|(a, b)| b > a).collect()
            }
            Keep::Moving => Vec::new(),
            _ => std::mem::take(&mut self.stale),
        };
        // Rows that moved, and rows stale in the target (drawn now or
        // not), are composed across the width.
        let across = |&(y0, y1): &(u32, u32)| [0, y0, width, y1];
        spots.extend(moved_bands.iter().map(across));
        // On the screen they need not be: a frame drawn on the CPU draws
        // only the first `shown_spots`.
        let shown_spots = spots.len();
        spots.extend(stale.iter().chain(&self.stale).map(across));
        let moved = moved_bands.into_iter().filter(|(a, b)| b > a);
        let own = merge_bands(changed.iter().copied().chain(moved).collect());
        stats.changed = match whole {
            true => vec![(0, target_size.1)],
            false => own.iter().map(|&(y0, y1)| (y0 + pad.top, y1 + pad.top)).collect(),
        };
        let damaged = if whole {
            self.stale.clear();
            vec![(0, height)]
        } else {
            merge_bands(own.into_iter().chain(stale).collect())
        };
        self.overlay = overlay;
        // Into a scratch, every row read back is composed: beside a
        // blurred float, the rows its footprint widened a band by too.
        let regions_of = |damaged: Vec<(u32, u32)>| match floats.regions(damaged, width) {
            (bands, _) if scratch && floats.blurs() => floats.regions(bands, width),
            composed => composed,
        };
        let (bands, regions) = regions_of(damaged);
        // The global grid and the windows replace what is under them and
        // lie under every float and the message grid: they are copied in
        // (on a CPU rasteriser a copy costs a fraction of a shaded quad);
        // the rest (from visible layer `shaded` on) is drawn over them.
        let (shown, shaded) = self.copied_layers(&visible, &updates, (width, height));
        // Where something is drawn over the copied layers.
        let mut covered: Vec<(f32, f32)> = overlay.iter().map(|o| (o[1] as f32, o[3] as f32)).collect();
        for (i, placed) in visible.iter().enumerate().skip(shaded) {
            let footprint = match floats.get(i).and_then(|f| f.footprint) {
                Some([_, y0, _, y1]) => Some((y0 as f32, y1 as f32)),
                None => self
                    .layers
                    .get(&placed.grid)
                    .map(|l| (l.placed.pos[1], l.placed.pos[1] + l.placed.size[1])),
            };
            covered.extend(footprint);
        }
        covered.extend(layout.separators.iter().map(|r| (r.pos[1], r.pos[1] + r.size[1])));
        let covered = merge_bands(
            covered
                .into_iter()
                .map(|(y0, y1)| {
                    (y0.floor().clamp(0.0, height as f32) as u32, y1.ceil().clamp(0.0, height as f32) as u32)
                })
                .filter(|(a, b)| b > a)
                .collect(),
        );
        let reused = if whole || keep != Keep::Moving {
            reuse::Reuse::default()
        } else {
            let before = reuse::Screen { shown: &self.last_shown, covered: &self.last_covered };
            let now = reuse::Screen { shown: &shown, covered: &covered };
            reuse::plan(before, now, &changed, &bands, width)
        };
        // The rows moved are left as they are in the target: only the
        // rest is composed.
        let (bands, regions) = match reused.kept.is_empty() {
            true => (bands, regions),
            false => regions_of(reused.fresh(&bands)),
        };
        // A frame that moves no rows composes only the columns that
        // changed (a typed key: a few cells and the ruler's, not two whole
        // rows); not beside blurred floats, whose regions are their own.
        let narrow = !whole && reused.kept.is_empty() && !floats.blurs();
        // (Where a frame drawn on the CPU shows its change: the same,
        // for the spots on the screen.)
        let shown_regions = match narrow && self.previews {
            true => geometry::narrow_regions(regions.clone(), &spots[..shown_spots], width),
            false => Vec::new(),
        };
        let regions = if narrow { geometry::narrow_regions(regions, &spots, width) } else { regions };
        if keep == Keep::Moving && !scratch {
            let left = reuse::subtract(&self.stale, &bands);
            self.stale = merge_bands(left.into_iter().chain(reused.kept.iter().copied()).collect());
        }
        let copies: Vec<(GridId, geometry::Copy)> = shown
            .iter()
            .flat_map(|s| {
                let clipped =
                    regions.iter().flat_map(|&region| s.copies.iter().filter_map(move |c| c.clip(region)));
                clipped.map(|c| (s.grid, c))
            })
            .collect();
        self.last_shown = shown;
        self.last_covered = covered;
        // A frame that changes only a few cells of the windows, or scrolls
        // them and shows a few rows anew (nothing drawn over them but the
        // cursor, nothing sliding), is drawn on the CPU instead, for a
        // caller that keeps the last frame (see `preview`), which shows
        // it: the GPU's commands for it are not recorded. So is a whole
        // frame into a target that holds nothing yet (a window's first
        // frame, or its first at a new size), where the GPU would draw
        // every row of new layers.
        self.previewed = None;
        let scrolled = keep == Keep::Moving && !reused.kept.is_empty();
        let screen_spans: Vec<[u32; 4]> = match (narrow, scrolled) {
            _ if whole || floats.blurs() => Vec::new(),
            (true, _) => geometry::band_spans(&bands, &shown_regions),
            (false, true) => geometry::band_spans(&bands, &regions),
            (false, false) => Vec::new(),
        };
        let still = !sliding && self.layers.values().all(|l| l.scroll.end(self.now).is_none());
        let plain = tint.is_none() && self.cursor_vfx.is_empty() && self.preedit.is_none();
        let no_new_layer = updates.iter().all(|u| u.clear.is_none());
        let first = keep == Keep::Nothing;
        let cpu_spans = match keep {
            Keep::Moving if no_new_layer && preview::Plan::small(&screen_spans) => Some(screen_spans),
            Keep::Nothing if !floats.blurs() && preview::Plan::whole_fits(target_size) => {
                Some(vec![[0, 0, width, height]])
            }
            _ => None,
        };
        let mut cursor = (cursor_rects, smear_quad, cursor_glyph);
        if self.previews
            && still
            && plain
            && let Some(spans) = cpu_spans
        {
            // The message grid is copied too, its separator drawn under
            // it; where a float shows, the GPU draws the frame alone.
            let screen_rect = [0, 0, width, height];
            let mut messages = Vec::new();
            let mut over = Vec::new();
            for (i, placed) in visible.iter().enumerate().skip(shaded) {
                let Some(layer) = self.layers.get(&placed.grid) else { continue };
                let texture = (layer.texture.width(), layer.texture.height());
                let copies = match placed.kind {
                    LayerKind::Message => {
                        geometry::layer_copies(&layer.placed, texture, screen_rect, (width, height))
                    }
                    _ => None,
                };
                match copies {
                    Some(copies) => messages.push((placed.grid, copies)),
                    None => {
                        over.push(bounds(layer.placed.pos, layer.placed.size));
                        let footprint = floats.get(i).and_then(|f| f.footprint);
                        over.extend(
                            footprint.map(|[x0, y0, x1, y1]| [x0 as f32, y0 as f32, x1 as f32, y1 as f32]),
                        );
                    }
                }
            }
            let clear = spans.iter().all(|&span| !over.iter().any(|&b| overlaps(b, span)));
            if clear {
                let (cursor_rects, smear, cursor_glyph) = cursor;
                let plan = preview::Plan {
                    messages,
                    separators: layout.separators.clone(),
                    spans,
                    pad: (pad.left, pad.top),
                    screen: (width, height),
                    across: (scrolled || first).then_some(target_size.0),
                    target_height: first.then_some(target_size.1),
                    bg: normal_bg,
                    cursor_rects,
                    smear,
                    cursor_glyph,
                };
                self.previewed = self.draw_preview(frame, &plan);
                cursor = match self.previewed {
                    Some(_) => {
                        // The layers' rows drawn now are drawn on the GPU
                        // by the next frame it draws; the bands, composed
                        // by the next that composes them (as moved rows).
                        // A layer made now is cleared by the first pass
                        // the GPU draws into it; the target's padding, by
                        // the next frame the GPU draws.
                        for update in &updates {
                            let Some(layer) = self.layers.get_mut(&update.grid) else { continue };
                            update.slots.iter().for_each(|&slot| layer.behind[slot] = true);
                            layer.unclear = layer.unclear.or(update.clear);
                        }
                        if !scratch {
                            self.stale = merge_bands(self.stale.iter().chain(&bands).copied().collect());
                            self.unpadded |= first;
                        }
                        (Vec::new(), None, None)
                    }
                    None => (plan.cursor_rects, plan.smear, plan.cursor_glyph),
                };
            }
        }
        let (cursor_rects, smear_quad, cursor_glyph) = cursor;
        let on_gpu = self.previewed.is_none();
        // Prepared before any pass is recorded: preparing can grow the
        // atlas. A frame drawn on the CPU prepares nothing: the rows it
        // drew are prepared when the GPU catches up on them.
        let caught_up = match on_gpu {
            true => {
                if maybe_cpu {
                    self.prepare_text(frame, &updates);
                }
                self.prepare_caught_up(frame)
            }
            false => Vec::new(),
        };
        let cursor_text = on_gpu
            && cursor_glyph.as_ref().is_some_and(|glyph| self.prepare_cursor_text(glyph, (width, height)));
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("frame") });
        // Layers only frames drawn on the CPU drew into are cleared by the
        // first pass the GPU draws into them.
        let mut unclear: Vec<(GridId, [f32; 4])> = match on_gpu {
            true => self.layers.iter_mut().filter_map(|(&grid, l)| Some((grid, l.unclear.take()?))).collect(),
            false => Vec::new(),
        };
        let mut take_clear = |grid: GridId| {
            let at = unclear.iter().position(|&(g, _)| g == grid)?;
            Some(unclear.swap_remove(at).1)
        };
        // Waited for here if not made yet: a frame drawn on the CPU never is.
        let drawing = on_gpu.then(|| self.pipelines.drawing());
        for update in &updates {
            let layer = &self.layers[&update.grid];
            let Some([x0, y0, x1, y1]) = update.drawn else { continue };
            stats.drawn_px += u64::from(x1 - x0) * u64::from(y1 - y0);
            let Some(drawing) = &drawing else { continue };
            let mut pass = match update.clear.or_else(|| take_clear(update.grid)) {
                Some(color) => clear_pass(&mut encoder, &layer.view, color, "new layer"),
                None => load_pass(&mut encoder, &layer.view, "layer rows"),
            };
            // Only where the rows change: the rest keeps its pixels.
            pass.set_scissor_rect(x0, y0, x1 - x0, y1 - y0);
            for (rects, blend) in [(&update.replace, Blend::Replace), (&update.over, Blend::Over)] {
                let frame_rects = Some(&mut self.frame_rects);
                drawing.rects.draw(&self.device, frame_rects, &mut pass, &layer.globals, rects, blend);
            }
            if let Err(e) = layer.text.render(&self.pipelines.atlas, &layer.viewport, &mut pass) {
                log::error!("text rendering failed: {e}");
            }
        }
        // The rows frames drawn on the CPU drew are drawn before anything
        // is composed from them.
        for (grid, [x0, y0, x1, y1], rects) in &caught_up {
            let layer = &self.layers[grid];
            let (Some(text), Some(drawing)) = (&layer.caught_up, &drawing) else { continue };
            let mut pass = match take_clear(*grid) {
                Some(color) => clear_pass(&mut encoder, &layer.view, color, "layer drawn on the CPU"),
                None => load_pass(&mut encoder, &layer.view, "rows drawn on the CPU"),
            };
            pass.set_scissor_rect(*x0, *y0, x1 - x0, y1 - y0);
            for (rects, blend) in [(&rects.replace, Blend::Replace), (&rects.over, Blend::Over)] {
                let frame_rects = Some(&mut self.frame_rects);
                drawing.rects.draw(&self.device, frame_rects, &mut pass, &layer.globals, rects, blend);
            }
            if let Err(e) = text.render(&self.pipelines.atlas, &layer.viewport, &mut pass) {
                log::error!("text rendering failed: {e}");
            }
        }
        for (grid, color) in unclear {
            clear_pass(&mut encoder, &self.layers[&grid].view, color, "layer drawn on the CPU");
        }
        let screen = self.screen.as_mut().expect("made above");
        screen.layout = layout;
        let damage = if whole {
            vec![(0, target_size.1)]
        } else {
            bands.iter().map(|&(y0, y1)| (y0 + pad.top, y1 + pad.top)).collect()
        };
        let across = |&(y0, y1): &(u32, u32)| [0, y0, target_size.0, y1];
        let fresh_spans: Vec<[u32; 4]> = match narrow {
            true => geometry::band_spans(&bands, &regions)
                .into_iter()
                .map(|[x0, y0, x1, y1]| [x0 + pad.left, y0 + pad.top, x1 + pad.left, y1 + pad.top])
                .collect(),
            false => damage.iter().map(across).collect(),
        };
        // What is composed, in rounds into the target: a kept target
        // whole in one; a scratch the rows read back, as many as it holds
        // at a time, never cutting a blurred float's footprint (its blur
        // reads around it).
        let (into, rounds) = match target {
            Target::Kept(target) => {
                // A target that holds nothing (a swapchain's image, a first
                // frame) is not kept: its view is the frame's own.
                if keep == Keep::Nothing {
                    self.target_view = None;
                }
                let view = match &self.target_view {
                    Some((kept, view)) if kept == target => view.clone(),
                    _ => {
                        let view = target.create_view(&wgpu::TextureViewDescriptor::default());
                        if keep != Keep::Nothing {
                            self.target_view = Some((target.clone(), view.clone()));
                        }
                        view
                    }
                };
                let whole = rounds::Piece { x0: 0, x1: target_size.0, y: 0, rows: target_size.1, at: 0 };
                (Some((target.clone(), view)), if on_gpu { vec![vec![whole]] } else { Vec::new() })
            }
            // Nothing composed: no scratch needed.
            Target::Rows { .. } if !on_gpu => (None, Vec::new()),
            Target::Rows { rows, .. } => {
                let blurred: Vec<(u32, u32)> =
                    floats.blurred_footprints().map(|[_, y0, _, y1]| (y0 + pad.top, y1 + pad.top)).collect();
                let size = (target_size.0, rounds::scratch_rows(rows, &blurred));
                if self.scratch.as_ref().is_none_or(|(t, _)| (t.width(), t.height()) != size) {
                    self.scratch = None;
                    let texture = gpu::render_target(&self.device, "scratch", size.0, size.1, self.format);
                    let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
                    self.scratch = Some((texture, view));
                }
                (self.scratch.clone(), rounds::rounds(&fresh_spans, size.1, &blurred))
            }
        };
        // Screen coordinates are drawn inside the padding, `dy` rows down
        // the target from where they show.
        let inside = |pass: &mut wgpu::RenderPass<'_>, [x0, y0, x1, y1]: [u32; 4], dy: i64| {
            let top = i64::from(pad.top) + dy;
            pass.set_viewport(pad.left as f32, top as f32, width as f32, height as f32, 0.0, 1.0);
            let y = u32::try_from(i64::from(y0) + top).expect("a piece's rows lie in the target");
            pass.set_scissor_rect(x0 + pad.left, y, x1 - x0, y1 - y0);
        };
        let globals = &screen.composite_globals;
        let rect_globals = &screen.rect_globals;
        // The first layer covers the screen: no background under it.
        // (Rows it does not hold lie under windows.)
        let covered = visible.first().and_then(|p| self.layers.get(&p.grid)).is_some_and(|l| {
            shaded > 0
                && l.placed.pos == [0.0, 0.0]
                && l.texture.width() >= width
                && (l.held.is_some() || l.texture.height() >= height)
                && l.placed.size[0] >= width as f32
                && l.placed.size[1] >= height as f32
        });
        let moved_rows = reused.kept.iter().map(|&(y0, y1)| (y0 + pad.top, y1 + pad.top));
        let all_damage = merge_bands(damage.iter().copied().chain(moved_rows).collect());
        // Into a scratch, the padding beside every piece; else where the
        // target's padding is not drawn yet.
        let strips = match whole || self.unpadded || scratch {
            true => pad.strips(target_size, normal_bg),
            false => Vec::new(),
        };
        self.unpadded &= !on_gpu;
        let particles = !self.cursor_vfx.is_empty();
        let cursor_drawn = !cursor_rects.is_empty()
            || !strips.is_empty()
            || smear_quad.is_some()
            || tint.is_some()
            || particles
            || cursor_text;
        let mut frame_encoder = Some(encoder);
        let mut composed = Vec::new();
        for round in rounds {
            let (target, view) = into.as_ref().expect("rounds only where a target is");
            let mut encoder = frame_encoder.take().unwrap_or_else(|| {
                let label = Some("compose round");
                self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label })
            });
            // Each piece's part of the screen, and how far down the target
            // it is composed from where it shows.
            let pieces: Vec<([u32; 4], i64)> = round
                .iter()
                .map(|p| {
                    let x = |v: u32| v.saturating_sub(pad.left).min(width);
                    let y = |v: u32| v.saturating_sub(pad.top).min(height);
                    ([x(p.x0), y(p.y), x(p.x1), y(p.y + p.rows)], i64::from(p.at) - i64::from(p.y))
                })
                .collect();
            let in_pieces = |regions: &[[u32; 4]]| -> Vec<([u32; 4], i64)> {
                let cut = |&(clip, dy): &([u32; 4], i64)| {
                    regions.iter().filter_map(move |&r| geometry::intersect(r, clip)).map(move |r| (r, dy))
                };
                pieces.iter().flat_map(cut).collect()
            };
            let mut open: Option<wgpu::RenderPass<'static>> = None;
            if !bands.is_empty() {
                let regions = in_pieces(&regions);
                if !covered {
                    let mut pass = load_pass(&mut encoder, view, "background of damaged bands");
                    let bg = [Rect::solid(0.0, 0.0, width as f32, height as f32, normal_bg)];
                    for &(region, dy) in &regions {
                        inside(&mut pass, region, dy);
                        self.pipelines.drawing().rects.draw(
                            &self.device,
                            Some(&mut self.frame_rects),
                            &mut pass,
                            rect_globals,
                            &bg,
                            Blend::Replace,
                        );
                    }
                }
                for (grid, copy) in &copies {
                    for &(clip, dy) in &pieces {
                        let Some(copy) = copy.clip(clip) else { continue };
                        let y = i64::from(copy.dst[1] + pad.top) + dy;
                        let y = u32::try_from(y).expect("a piece's rows lie in the target");
                        encoder.copy_texture_to_texture(
                            wgpu::TexelCopyTextureInfo {
                                origin: wgpu::Origin3d { x: copy.src[0], y: copy.src[1], z: 0 },
                                ..self.layers[grid].texture.as_image_copy()
                            },
                            wgpu::TexelCopyTextureInfo {
                                origin: wgpu::Origin3d { x: copy.dst[0] + pad.left, y, z: 0 },
                                ..target.as_image_copy()
                            },
                            wgpu::Extent3d {
                                width: copy.size[0],
                                height: copy.size[1],
                                depth_or_array_layers: 1,
                            },
                        );
                    }
                }
                for &([x0, y0, x1, y1], dy) in &regions {
                    for (i, placed) in visible.iter().enumerate().skip(shaded) {
                        let float = floats.get(i).filter(|f| f.touches([x0, y0, x1, y1]));
                        let separators = if placed.kind == LayerKind::Message {
                            &screen.layout.separators[..]
                        } else {
                            &[]
                        };
                        let quad = self.layers.get(&placed.grid).map(|l| bounds(l.placed.pos, l.placed.size));
                        let draws_here = float.is_some()
                            || quad
                                .into_iter()
                                .chain(separators.iter().map(|r| bounds(r.pos, r.size)))
                                .any(|b| overlaps(b, [x0, y0, x1, y1]));
                        if !draws_here {
                            continue;
                        }
                        // One pass for all of the frame's shading, opened when
                        // something is shaded: on a CPU rasteriser each pass costs
                        // a round of its threads.
                        if open.is_none() {
                            open =
                                Some(load_pass(&mut encoder, view, "compose and cursor").forget_lifetime());
                        }
                        let mut pass = open.as_mut().expect("opened above");
                        inside(pass, [x0, y0, x1, y1], dy);
                        // Separators sit under the message grid but over the rest.
                        self.pipelines.drawing().rects.draw(
                            &self.device,
                            Some(&mut self.frame_rects),
                            pass,
                            rect_globals,
                            separators,
                            Blend::Over,
                        );
                        let Some(layer) = self.layers.get(&placed.grid) else { continue };
                        // A float with depth: the blur under it (its own passes),
                        // its shadow, then the float over the blur, its corners
                        // rounded.
                        // (The screen's top left on the target.)
                        let origin = (i64::from(pad.left), i64::from(pad.top) + dy);
                        let screen_at = ((width, height), [origin.0 as f32, origin.1 as f32]);
                        if let Some(float) = float {
                            if float.blur.is_some() {
                                open = None;
                                self.pipelines.depth.get().blur_under(
                                    &self.device,
                                    &mut encoder,
                                    target,
                                    origin,
                                    float,
                                );
                                pass = open.insert(
                                    load_pass(&mut encoder, view, "compose and cursor").forget_lifetime(),
                                );
                                inside(pass, [x0, y0, x1, y1], dy);
                            }
                            self.pipelines.depth.get().draw_shadow(&self.device, pass, screen_at, float);
                        }
                        match float.filter(|f| depth::DepthPipelines::draws(f)) {
                            Some(f) => {
                                let depth = self.pipelines.depth.get();
                                depth.draw_float(&self.device, pass, screen_at, &layer.view, f);
                            }
                            None => {
                                let blend = if placed.kind == LayerKind::Float {
                                    Blend::Over
                                } else {
                                    Blend::Replace
                                };
                                self.pipelines.drawing().composite.draw(
                                    pass,
                                    globals,
                                    &layer.composite,
                                    blend,
                                );
                            }
                        }
                    }
                }
            }
            if cursor_drawn {
                if open.is_none() {
                    open = Some(load_pass(&mut encoder, view, "compose and cursor").forget_lifetime());
                }
                let pass = open.as_mut().expect("opened above");
                let drawing = self.pipelines.drawing();
                let mut draw = |pass: &mut wgpu::RenderPass<'_>, globals, rects: &[Rect], blend| {
                    let frame_rects = Some(&mut self.frame_rects);
                    drawing.rects.draw(&self.device, frame_rects, pass, globals, rects, blend);
                };
                for piece in &round {
                    let dy = (i64::from(piece.at) - i64::from(piece.y)) as f32;
                    // The padding in target coordinates, the rest inside it.
                    pass.set_viewport(0.0, dy, target_size.0 as f32, target_size.1 as f32, 0.0, 1.0);
                    pass.set_scissor_rect(piece.x0, piece.at, piece.x1 - piece.x0, piece.rows);
                    draw(pass, &screen.target_globals, &strips, Blend::Replace);
                    // The cursor in screen coordinates, inside the padding.
                    let (left, top) = (pad.left as f32, pad.top as f32 + dy);
                    pass.set_viewport(left, top, width as f32, height as f32, 0.0, 1.0);
                    draw(pass, &screen.rect_globals, &cursor_rects, Blend::Over);
                    if let Some(quad) = &smear_quad {
                        self.pipelines.smear.get().draw(&self.device, pass, &screen.rect_globals, quad);
                    }
                    if cursor_text {
                        let pipelines = &self.pipelines;
                        let drawn =
                            pipelines.cursor_text.render(&pipelines.atlas, &pipelines.cursor_viewport, pass);
                        if let Err(e) = drawn {
                            log::error!("cursor text failed: {e}");
                        }
                    }
                    draw(pass, &screen.rect_globals, &self.cursor_vfx, Blend::Over);
                    if let Some(tint) = &tint {
                        draw(pass, &screen.rect_globals, std::slice::from_ref(tint), Blend::Over);
                    }
                }
            }
            drop(open);
            composed.push(Round { pieces: round, encoder });
        }
        if let Some(encoder) = frame_encoder {
            composed.push(Round { pieces: Vec::new(), encoder });
        }
        stats.bands = bands.len();
        stats.composed_rows_px = bands.iter().map(|(a, b)| b - a).sum();
        stats.fresh = damage.clone();
        stats.fresh_spans = fresh_spans;
        stats.moves = reused
            .moves
            .into_iter()
            .map(|mv| reuse::Move {
                cols: (mv.cols.0 + pad.left, mv.cols.1 + pad.left),
                rows: (mv.rows.0 + pad.top, mv.rows.1 + pad.top),
                by: mv.by,
            })
            .collect();
        stats.damage_spans = match narrow {
            // Nothing moved: the damage is what was composed.
            true => stats.fresh_spans.clone(),
            false => all_damage.iter().map(across).collect(),
        };
        stats.damage = all_damage;
        stats.layer_px = self.layers.values().map(|l| u64::from(l.size.0) * u64::from(l.size.1)).sum();
        // Before anything submits the encoder: the write goes first.
        self.frame_rects.write(&self.device, &self.queue);
        crate::trace::mark(crate::trace::Stage::FrameBuilt);
        self.pipelines.atlas.trim();
        Composed { stats, rounds: composed }
    }

    /// Prepares the glyph under a block cursor to be drawn on a screen of
    /// `width` by `height`; false if it cannot be.
    fn prepare_cursor_text(
        &mut self,
        (buffer, x, y, color): &CursorText,
        (width, height): (u32, u32),
    ) -> bool {
        let m = self.fonts.metrics();
        self.pipelines.cursor_viewport.update(&self.queue, Resolution { width, height });
        let area = TextArea {
            buffer,
            left: *x,
            top: *y,
            scale: 1.0,
            bounds: TextBounds {
                left: *x as i32,
                top: *y as i32,
                right: width as i32,
                // Saturating: a cursor far off screen has no text to show.
                bottom: (*y as i32).saturating_add(m.height as i32),
            },
            default_color: *color,
            custom_glyphs: &[],
        };
        let prepared = self.pipelines.cursor_text.prepare(
            &self.device,
            &self.queue,
            &mut self.fonts.system,
            &mut self.pipelines.atlas,
            &self.pipelines.cursor_viewport,
            [area],
            &mut self.swash,
        );
        prepared.inspect_err(|e| log::error!("cursor text failed: {e}")).is_ok()
    }

    /// The visible layers composed by copies (see `encode`), bottom first,
    /// with their copies to the whole `screen`; and how many of the visible
    /// layers they take (the rest are drawn over them).
    fn copied_layers(
        &self,
        visible: &[compose::Layer],
        updates: &[LayerUpdate],
        screen: (u32, u32),
    ) -> (Vec<reuse::Shown>, usize) {
        let row_height = self.fonts.metrics().height;
        let whole = [0, 0, screen.0, screen.1];
        let mut shown = Vec::new();
        let mut count = 0;
        for placed in visible {
            let Some(layer) = self.layers.get(&placed.grid) else {
                count += 1;
                continue;
            };
            if !matches!(placed.kind, LayerKind::Global | LayerKind::Window) {
                break;
            }
            let texture = (layer.texture.width(), layer.texture.height());
            let copies = match &layer.held {
                Some(held) => {
                    geometry::held_copies(&layer.placed, held, row_height, texture.0, whole, screen)
                }
                None => match geometry::layer_copies(&layer.placed, texture, whole, screen) {
                    Some(copies) => copies,
                    None => break,
                },
            };
            let slots = updates.iter().filter(|u| u.grid == placed.grid).flat_map(|u| &u.slots);
            let px = |slot: usize| u32::try_from(slot).unwrap_or(u32::MAX).saturating_mul(row_height);
            let redrawn = slots.map(|&slot| (px(slot), px(slot + 1))).collect();
            shown.push(reuse::Shown { grid: placed.grid, texture: layer.id, copies, redrawn });
            count += 1;
        }
        (shown, count)
    }

    fn new_screen(
        &self,
        target_size: (u32, u32),
        (width, height): (u32, u32),
        layout: &ScreenLayout,
    ) -> KeptScreen {
        KeptScreen {
            composite_globals: rects::globals_bind_group(
                &self.device,
                &self.pipelines.composite_globals,
                width,
                height,
            ),
            rect_globals: rects::globals_bind_group(
                &self.device,
                &self.pipelines.rect_globals,
                width,
                height,
            ),
            layout: ScreenLayout { size: (width, height), ..layout.clone() },
            target_size,
            target_globals: rects::globals_bind_group(
                &self.device,
                &self.pipelines.rect_globals,
                target_size.0,
                target_size.1,
            ),
        }
    }

    /// The texture one layer needs for the frame (`prepare_layer` brings
    /// it up to date). A layer's texture holds only what is on the `target` from the
    /// layer's origin: every origin is on screen or below/right of it
    /// (splits and the message grid sit at cell positions, floats are kept
    /// on screen), so pixels past the target's edge are never shown. A
    /// hostile grid of 10 000 columns costs no more memory than the window,
    /// and the message grid (as tall as the screen, one row of it shown)
    /// one row. A layer that moves so that more of it shows gets a new
    /// texture, all drawn. Rows marked in `hidden` are left as they are.
    ///
    /// A window (a split, not a float) shown whole keeps its text rows in a
    /// ring (see `ring`): when nvim scrolls it, the ring turns and only
    /// the rows that enter are drawn; with the smooth scroll on, a screen
    /// of rows that left is kept to slide over.
    fn layer_shape(
        &self,
        frame: &Frame,
        placed: &compose::Layer,
        target: (u32, u32),
        hidden: &[bool],
    ) -> Option<LayerShape> {
        let grid_id = placed.grid;
        let grid = frame.grid(grid_id)?;
        let m = self.fonts.metrics();
        let origin =
            |cells: i64, size: u32| u32::try_from(cells.max(0)).unwrap_or(u32::MAX).saturating_mul(size);
        let limit = (
            target.0.saturating_sub(origin(placed.col, m.width)).min(self.max_texture_side),
            target.1.saturating_sub(origin(placed.row, m.height)).min(self.max_texture_side),
        );
        let mut size = geometry::layer_texture_size(grid.width, grid.height, m, limit);
        // Rows and columns past the texture are never shown: not drawn
        // either, so a hostile grid costs what the window shows.
        let visible_rows = size.1.div_ceil(m.height.max(1)) as usize;
        let visible_cols = size.0.div_ceil(m.width.max(1)) as usize;
        let shown = grid.height.min(visible_rows);
        let window = frame.windows.get(&grid_id).filter(|w| w.viewport.is_some());
        let whole = u32::try_from(grid.height).ok().and_then(|h| h.checked_mul(m.height)) == Some(size.1);
        // Rows under windows are never seen: the texture holds the others
        // (a window over most of the screen leaves the global grid a row or
        // two). Rows that go under a window stay held while they are few:
        // a message growing over the screen makes no new texture.
        let is_hidden = |r: usize| hidden.get(r).copied().unwrap_or(false);
        let needed =
            (0..shown).any(is_hidden).then(|| (0..shown).filter(|&r| !is_hidden(r)).collect::<Vec<_>>());
        let held = match (needed, self.layers.get(&grid_id).map(|l| l.held.as_deref())) {
            (Some(needed), Some(old)) if still_holds(old, &needed, shown) => old.map(<[usize]>::to_vec),
            (needed, _) => needed,
        };
        let map = match window {
            // Floats are drawn as they are (their corners, shadow and blur
            // read their texture row for row): they scroll at once.
            Some(w) if whole && placed.kind == LayerKind::Window => {
                let text_rows = grid.height.saturating_sub(w.margins.top + w.margins.bottom);
                let room = (self.max_texture_side / m.height.max(1)) as usize;
                let keep = if self.slides.scroll_length > 0.0 { text_rows } else { 0 };
                let keep = keep.min(room.saturating_sub(grid.height));
                let map = RowMap::scrolling(grid.height, w.margins.top, w.margins.bottom, keep);
                size.1 = (map.slots() as u32).saturating_mul(m.height).max(1);
                map
            }
            _ => RowMap::fixed(held.as_ref().map_or(grid.height, Vec::len)),
        };
        if let Some(held) = &held {
            size.1 = u32::try_from(held.len()).unwrap_or(u32::MAX).saturating_mul(m.height).max(1);
        }
        Some(LayerShape { cols: grid.width, rows: grid.height, size, map, held, shown, visible_cols, whole })
    }

    /// Brings one layer's texture, of `shape`, up to date with the frame:
    /// returns the rects to draw for its dirty rows (text is prepared in
    /// its renderer), but for rows marked in `hidden`. A grid with no layer
    /// gets a new one, with `kept` the place and slide of the one it
    /// replaces.
    fn prepare_layer(
        &mut self,
        frame: &Frame,
        placed: &compose::Layer,
        hidden: &[bool],
        shape: LayerShape,
        kept: Option<(Option<[f32; 2]>, [Slide; 2])>,
    ) -> Option<LayerUpdate> {
        let grid_id = placed.grid;
        let grid = frame.grid(grid_id)?;
        let m = self.fonts.metrics();
        let window = frame.windows.get(&grid_id).filter(|w| w.viewport.is_some());
        let LayerShape { size, map, held, shown, visible_cols, whole, .. } = shape;
        let is_hidden = |r: usize| hidden.get(r).copied().unwrap_or(false);
        if !self.layers.contains_key(&grid_id) {
            let mut layer = self.new_layer(grid.width, grid.height, size, map, frame.seq);
            layer.held = held;
            // A window resized keeps its place and slide; its text is new.
            if let Some(kept) = kept {
                (layer.placed_at, layer.slide) = kept;
            }
            self.layers.insert(grid_id, layer);
        }
        let slides = self.slides;
        let now = self.now;
        let layer = self.layers.get_mut(&grid_id)?;
        // The model publishes `height` rows of `width` cells, at most
        // MAX_COORD on a side; the indexing below relies on it.
        debug_assert!(grid.rows.len() == grid.height);
        debug_assert!(layer.held.is_some() || layer.map.slots() >= grid.height);
        debug_assert!(grid.width <= crate::model::MAX_COORD && grid.height <= crate::model::MAX_COORD);
        // A scroll turns the ring. Each frame's scroll counts once (frames
        // skipped between two drawn ones have theirs added to the drawn one).
        let delta = match window.and_then(|w| w.viewport) {
            Some(v) if layer.seen != frame.seq => v.scroll_delta,
            _ => 0,
        };
        layer.seen = frame.seq;
        // A texture cut to the target holds only the rows on screen, row
        // for row, and one of held rows only those: neither turns.
        let turn = if whole && layer.held.is_none() {
            turn_for(&layer.map, grid, &layer.drawn, delta, slides.far_lines)
        } else {
            0
        };
        if turn != 0 {
            layer.map.turn(turn);
            if delta != 0 {
                let h = m.height as f32;
                let limit = layer.map.kept() as f32 * h;
                layer.scroll.moved(-(turn as f32) * h, now, slides.scroll_length, limit);
            }
        }
        // A blended float mixes with what lies under it, so its rows are
        // drawn again when that changes too.
        let blended = placed.kind == LayerKind::Float
            && grid.rows[..shown].iter().any(|row| row.cells.iter().any(|c| frame.hl.get(c.hl).blend > 0));
        let mixes: Vec<Vec<Option<geometry::Mixed>>> = if blended {
            let under = compose::compose_below(frame, grid_id);
            (0..shown)
                .map(|r| {
                    geometry::mix_row(frame, &grid.rows[r], |c| {
                        let y = usize::try_from(placed.row.checked_add(i64::try_from(r).ok()?)?).ok()?;
                        let x = usize::try_from(placed.col.checked_add(i64::try_from(c).ok()?)?).ok()?;
                        (y < under.height && x < under.width).then(|| {
                            let colors = frame.hl.get(under.cell(y, x).hl).resolve(&frame.defaults);
                            (colors.fg, colors.bg)
                        })
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let mix_of = |r: usize| mixes.get(r).map_or(&[][..], Vec::as_slice);
        // A row sent again as it was (nvim redraws the command line's empty
        // row with each scrolled line) is not drawn again.
        for (r, row) in grid.rows.iter().enumerate().take(shown) {
            let Some(slot) = layer.slot(r) else { continue };
            if layer.drawn[slot].as_ref().is_some_and(|d| !Arc::ptr_eq(d, row) && **d == **row) {
                layer.drawn[slot] = Some(row.clone());
            }
        }
        // Each dirty row and the texture row it is drawn in.
        let dirty: Vec<(usize, usize)> = (0..shown)
            .filter(|&r| !is_hidden(r))
            .filter_map(|r| Some((r, layer.slot(r)?)))
            .filter(|&(r, slot)| {
                !layer.drawn[slot].as_ref().is_some_and(|d| Arc::ptr_eq(d, &grid.rows[r]))
                    || layer.mixed[slot] != mix_of(r)
            })
            .collect();
        if dirty.is_empty() && turn == 0 {
            return None;
        }
        // What each dirty texture row holds, to draw only where it changes.
        let held_before: Vec<Option<(Arc<Row>, ShapedRow)>> = dirty
            .iter()
            .map(|&(r, slot)| {
                let unmixed = layer.mixed[slot].is_empty() && mix_of(r).is_empty();
                let row = layer.drawn[slot].clone().filter(|_| unmixed && !layer.fresh)?;
                Some((row, ShapedRow { pieces: layer.shaped[slot].as_ref()?.pieces.clone() }))
            })
            .collect();
        // Dirty rows the texture lags on are drawn whole; where the screen
        // changes is still found from what it shows.
        let behind: Vec<usize> =
            dirty.iter().map(|&(_, slot)| slot).filter(|&slot| layer.behind[slot]).collect();
        behind.iter().for_each(|&slot| layer.behind[slot] = false);
        let mut rects = geometry::RowRects::default();
        // Rows nvim moved without a turn (a fixed layer, a scroll of part
        // of the grid) keep their shaped text: only new rows are shaped.
        let mut moved: HashMap<*const Row, ShapedRow> = HashMap::new();
        let mut shaped = 0;
        for &(_, slot) in &dirty {
            // Text shaped in mixed colours is not reused elsewhere.
            if let (Some(old), Some(shaped), true) =
                (&layer.drawn[slot], layer.shaped[slot].take(), layer.mixed[slot].is_empty())
            {
                moved.insert(Arc::as_ptr(old), shaped);
            }
        }
        for &(r, slot) in &dirty {
            let row = &grid.rows[r];
            let mixed = mix_of(r);
            geometry::row_rects_mixed(frame, row, slot, visible_cols, m, self.opacity, mixed, &mut rects);
            let reused = moved.remove(&Arc::as_ptr(row)).filter(|_| mixed.is_empty());
            if reused.is_none() {
                shaped += 1;
            }
            layer.shaped[slot] = Some(reused.unwrap_or_else(|| {
                text::shape_row_mixed(
                    &mut self.fonts,
                    &mut self.shapes,
                    row,
                    &frame.hl,
                    &frame.defaults,
                    mixed,
                )
            }));
            layer.drawn[slot] = Some(row.clone());
            layer.mixed[slot] = mixed.to_vec();
        }
        let (width_px, height_px) = size;
        let mut changes: Option<[u32; 4]> = None;
        for (&(r, slot), before) in dirty.iter().zip(&held_before) {
            let top = slot as u32 * m.height;
            let columns = match (before, layer.shaped[slot].as_ref()) {
                (Some((row, text)), Some(now)) => columns::changed(
                    (row, text),
                    (&grid.rows[r], now),
                    visible_cols,
                    m.width,
                    &mut self.changed_glyphs,
                    |x, piece, out| {
                        self.shapes.glyphs(&mut self.fonts, &mut self.swash, (x, top as f32), piece, out)
                    },
                ),
                _ => Some((0, width_px)),
            };
            if let Some((x0, x1)) = columns {
                let [a, b, c, d] = changes.unwrap_or([x0, top, x1, top]);
                changes = Some([a.min(x0), b.min(top), c.max(x1), d.max(top + m.height)]);
            }
        }
        let cut = |part: Option<[u32; 4]>| {
            part.map(|[x0, y0, x1, y1]| [x0, y0, x1.min(width_px), y1.min(height_px)])
                .filter(|[x0, y0, x1, y1]| x1 > x0 && y1 > y0)
        };
        let drawn = behind.iter().fold(changes, |part, &slot| {
            let top = slot as u32 * m.height;
            let [_, y0, _, y1] = part.unwrap_or([0, top, 0, top]);
            Some([0, y0.min(top), width_px, y1.max(top + m.height)])
        });
        let (changes, drawn) = (cut(changes), cut(drawn));
        let clear = std::mem::take(&mut layer.fresh).then(|| rgba(frame.defaults.bg, self.opacity.normal));
        Some(LayerUpdate {
            grid: grid_id,
            slots: dirty.iter().map(|&(_, slot)| slot).collect(),
            dirty: dirty.into_iter().map(|(r, _)| r).collect(),
            shaped,
            turned: turn != 0,
            changes: if clear.is_some() { Some([0, 0, width_px, height_px]) } else { changes },
            drawn: if clear.is_some() { Some([0, 0, width_px, height_px]) } else { drawn },
            clear,
            replace: rects.replace,
            over: rects.over,
        })
    }

    /// The text of the rows `updates` draw, prepared for the GPU (their
    /// glyphs rasterised into the atlas), cut to the columns drawn: for a
    /// frame the GPU draws, before any pass is recorded (preparing can
    /// grow the atlas, and every pass must see the final atlas).
    fn prepare_text(&mut self, frame: &Frame, updates: &[LayerUpdate]) {
        let m = self.fonts.metrics();
        let color = text::color(frame.defaults.fg);
        for update in updates {
            let Some(layer) = self.layers.get_mut(&update.grid) else { continue };
            let (left, right) = update.drawn.map_or((0, 0), |[x0, _, x1, _]| (x0 as i32, x1 as i32));
            let slots = update.slots.iter().copied();
            let areas = row_text_areas(&layer.shaped, slots, m.height, (left, right), color);
            let (width, height) = layer.size;
            layer.viewport.update(&self.queue, Resolution { width, height });
            if let Err(e) = layer.text.prepare(
                &self.device,
                &self.queue,
                &mut self.fonts.system,
                &mut self.pipelines.atlas,
                &layer.viewport,
                areas,
                &mut self.swash,
            ) {
                log::error!("preparing text failed: {e}");
            }
        }
    }

    /// The rows of every layer that frames drawn on the CPU drew and the
    /// GPU did not (`Layer::behind`), prepared to be drawn whole: per
    /// layer, the part of its texture drawn (x0, y0, x1, y1) and the rows'
    /// rects. Their text goes through the layer's `caught_up` renderer,
    /// the layer's own holding this frame's rows.
    fn prepare_caught_up(&mut self, frame: &Frame) -> Vec<(GridId, [u32; 4], geometry::RowRects)> {
        let m = self.fonts.metrics();
        let mut out = Vec::new();
        for (&grid, layer) in self.layers.iter_mut() {
            if !layer.behind.contains(&true) {
                continue;
            }
            let slots: Vec<usize> = (0..layer.behind.len())
                .filter(|&s| layer.behind[s] && layer.drawn[s].is_some() && layer.shaped[s].is_some())
                .collect();
            layer.behind.iter_mut().for_each(|b| *b = false);
            let (Some(&first), Some(&last)) = (slots.first(), slots.last()) else { continue };
            let (width, height) = (layer.texture.width(), layer.texture.height());
            let cols = width.div_ceil(m.width.max(1)) as usize;
            let mut rects = geometry::RowRects::default();
            for &slot in &slots {
                let row = layer.drawn[slot].as_ref().expect("filtered above");
                geometry::row_rects_mixed(
                    frame,
                    row,
                    slot,
                    cols,
                    m,
                    self.opacity,
                    &layer.mixed[slot],
                    &mut rects,
                );
            }
            let color = text::color(frame.defaults.fg);
            let areas =
                row_text_areas(&layer.shaped, slots.iter().copied(), m.height, (0, width as i32), color);
            let atlas = &mut self.pipelines.atlas;
            let text = layer.caught_up.get_or_insert_with(|| {
                TextRenderer::new(atlas, &self.device, wgpu::MultisampleState::default(), None)
            });
            layer.viewport.update(&self.queue, Resolution { width, height });
            if let Err(e) = text.prepare(
                &self.device,
                &self.queue,
                &mut self.fonts.system,
                atlas,
                &layer.viewport,
                areas,
                &mut self.swash,
            ) {
                log::error!("preparing text failed: {e}");
            }
            let area = [0, first as u32 * m.height, width, ((last as u32 + 1) * m.height).min(height)];
            out.push((grid, area, rects));
        }
        out
    }

    fn new_layer(&mut self, cols: usize, rows: usize, (w, h): (u32, u32), map: RowMap, seen: u64) -> Layer {
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("grid layer"),
            size: wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let placement = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("layer placement"),
            contents: bytemuck::bytes_of(&composite::Placement::fixed([0.0; 2], [w as f32, h as f32])),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let composite = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("layer"),
            layout: &self.pipelines.composite_layer,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: placement.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(&view) },
            ],
        });
        Layer {
            cols,
            rows,
            size: (w, h),
            globals: rects::globals_bind_group(&self.device, &self.pipelines.rect_globals, w, h),
            view,
            viewport: Viewport::new(&self.device, &self.pipelines.cache),
            text: TextRenderer::new(
                &mut self.pipelines.atlas,
                &self.device,
                wgpu::MultisampleState::default(),
                None,
            ),
            caught_up: None,
            drawn: vec![None; map.slots()],
            behind: vec![false; map.slots()],
            shaped: (0..map.slots()).map(|_| None).collect(),
            mixed: vec![Vec::new(); map.slots()],
            map,
            held: None,
            placement,
            composite,
            id: {
                self.layer_ids += 1;
                self.layer_ids
            },
            fresh: true,
            unclear: None,
            texture,
            placed: composite::Placement::fixed([0.0; 2], [w as f32, h as f32]),
            seen,
            scroll: Slide::default(),
            slide: [Slide::default(); 2],
            placed_at: None,
            composed: None,
        }
    }

    /// IME preedit at the cursor: the text on the default background,
    /// underlined, with a bar cursor after it.
    fn push_preedit(&mut self, frame: &Frame, text: &str, out: &mut Vec<Rect>) -> Option<CursorText> {
        let m = self.fonts.metrics();
        let (x, y, _, ch) = self.cursor_area(frame)?;
        let fg = frame.defaults.fg;
        let mut buffer = text::new_buffer(m, ch);
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
    fn push_cursor(&mut self, frame: &Frame, out: &mut Vec<Rect>) -> Option<CursorText> {
        let m = self.fonts.metrics();
        let glyph = geometry::cursor(frame, m, out)?;
        let ch = m.height as f32;
        let mut buffer = text::new_buffer(m, ch);
        let attr = frame.hl.get(glyph.hl);
        let attrs = self.fonts.attrs(attr.bold, attr.italic).color(text::color(glyph.fg));
        buffer.set_text(&glyph.text, &attrs, glyphon::Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.fonts.system, false);
        Some((buffer, glyph.x, glyph.y, text::color(glyph.fg)))
    }
}

/// A pass that first clears `view` to `color`.
/// The text of a layer's texture rows `slots` (their shaped pieces), each
/// cut to its row and to the columns `left..right`.
fn row_text_areas<'a>(
    shaped: &'a [Option<ShapedRow>],
    slots: impl Iterator<Item = usize> + 'a,
    row_height: u32,
    (left, right): (i32, i32),
    color: glyphon::Color,
) -> impl Iterator<Item = TextArea<'a>> + 'a {
    slots.flat_map(move |slot| {
        let top = (slot as u32 * row_height) as f32;
        let bounds = TextBounds { left, top: top as i32, right, bottom: top as i32 + row_height as i32 };
        shaped[slot].as_ref().into_iter().flat_map(ShapedRow::buffers).map(move |(x, buffer)| TextArea {
            buffer,
            left: x,
            top,
            scale: 1.0,
            bounds,
            default_color: color,
            custom_glyphs: &[],
        })
    })
}

fn clear_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &'e wgpu::TextureView,
    [r, g, b, a]: [f32; 4],
    label: &str,
) -> wgpu::RenderPass<'e> {
    // Layers hold premultiplied colour.
    let c = |v: f32| f64::from(v * a);
    let color = wgpu::Color { r: c(r), g: c(g), b: c(b), a: f64::from(a) };
    begin_pass(encoder, view, wgpu::LoadOp::Clear(color), label)
}

/// A rect's corners (x0, y0, x1, y1) from its top left and size.
fn bounds(pos: [f32; 2], size: [f32; 2]) -> [f32; 4] {
    [pos[0], pos[1], pos[0] + size[0], pos[1] + size[1]]
}

/// Whether `rect` covers any pixel of `region` (x0, y0, x1, y1).
fn overlaps([a, b, c, d]: [f32; 4], [x0, y0, x1, y1]: [u32; 4]) -> bool {
    a < x1 as f32 && (x0 as f32) < c && b < y1 as f32 && (y0 as f32) < d
}

/// A pass that draws over what `view` already holds.
fn load_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &'e wgpu::TextureView,
    label: &str,
) -> wgpu::RenderPass<'e> {
    begin_pass(encoder, view, wgpu::LoadOp::Load, label)
}

fn begin_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    view: &'e wgpu::TextureView,
    load: wgpu::LoadOp<wgpu::Color>,
    label: &str,
) -> wgpu::RenderPass<'e> {
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations { load, store: wgpu::StoreOp::Store },
        })],
        ..Default::default()
    })
}

/// The global grid's size in pixels at the current metrics.
pub fn frame_pixels(frame: &Frame, m: CellMetrics) -> (u32, u32) {
    let (cols, rows) = frame.grid(GLOBAL_GRID).map_or((0, 0), |g| (g.width, g.height));
    let side = |cells: usize, size: u32| u32::try_from(cells).unwrap_or(u32::MAX).saturating_mul(size);
    (side(cols, m.width), side(rows, m.height))
}
