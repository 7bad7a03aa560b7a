//! The CPU side of drawing a frame: where each layer goes in pixels and
//! the rects of rows, message separators and the cursor. Nothing here
//! touches the GPU, so it is tested and fuzzed without a device (`fuzz/`).
//!
//! The pixel arithmetic relies on the model's bounds (see `crate::model`):
//! every cell coordinate and size is at most `MAX_COORD` (10 000) and a
//! cell is at most a few hundred pixels (a 200-point `guifont` plus
//! `linespace`), so products stay far below `i64`, `u32` and even `f32`'s
//! exact range. It saturates anyway, so a broken bound draws off screen
//! instead of overflowing.

use compact_str::CompactString;

use super::boxdraw::{self, CellBox};
use super::composite::Placement;
use super::font::CellMetrics;
use super::rects::{self, Rect, push_merged, rgba};
use crate::model::compose::{self, Layer};
use crate::model::{CursorShape, Frame, GridId, MAX_COORD, Placement as WindowPlacement, Row, Underline};

/// `cells` cells of `size` pixels each, as a pixel coordinate.
fn px(cells: i64, size: u32) -> f32 {
    cells.saturating_mul(i64::from(size)) as f32
}

/// Where a layer's texture is drawn on the target, in pixels.
pub fn layer_placement(placed: &Layer, m: CellMetrics) -> Placement {
    debug_assert!(placed.width <= MAX_COORD && placed.height <= MAX_COORD, "{placed:?}");
    let size = |cells: usize, size: u32| u32::try_from(cells).unwrap_or(u32::MAX).saturating_mul(size) as f32;
    Placement::fixed(
        [px(placed.col, m.width), px(placed.row, m.height)],
        [size(placed.width, m.width), size(placed.height, m.height)],
    )
}

/// One texture copy: `size` pixels from `src` in a layer's texture to
/// `dst` on the screen image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    pub src: [u32; 2],
    pub dst: [u32; 2],
    pub size: [u32; 2],
}

impl Copy {
    /// The part of the copy that lands in `region` (x0, y0, x1, y1).
    pub fn clip(&self, [x0, y0, x1, y1]: [u32; 4]) -> Option<Copy> {
        let (left, right) = (self.dst[0].max(x0), (self.dst[0] + self.size[0]).min(x1));
        let (top, bottom) = (self.dst[1].max(y0), (self.dst[1] + self.size[1]).min(y1));
        (left < right && top < bottom).then(|| Copy {
            src: [self.src[0] + (left - self.dst[0]), self.src[1] + (top - self.dst[1])],
            dst: [left, top],
            size: [right - left, bottom - top],
        })
    }
}

/// What the composite shader draws for a layer placed by `p` (its texture
/// `texture` pixels) into the screen rect `region` (x0, y0, x1, y1) of a
/// `screen`-sized image, as plain texture copies: for layers drawn in place of what is
/// under them, where a copy costs a CPU rasteriser a fraction of a shaded
/// quad. The rows are read as the shader reads them (margins fixed, the
/// text through the ring at the scroll offset). `None` when side margins
/// stay while the text moves (a bordered float): copies cannot cut rows
/// into columns read from different rows, the shader can.
pub fn layer_copies(
    p: &Placement,
    texture: (u32, u32),
    [rx0, ry0, rx1, ry1]: [u32; 4],
    screen: (u32, u32),
) -> Option<Vec<Copy>> {
    let int = |v: f32| v.round() as i64;
    let [x0, y0] = p.pos.map(int);
    let [w, h] = p.size.map(int);
    let [tx0, ty0, tx1, ty1] = p.text.map(int);
    let [offset, ring, base, bottom] = p.scroll.map(int);
    if offset != 0 && (tx0 > 0 || tx1 < w) {
        return None;
    }
    let (tw, th) = (i64::from(texture.0), i64::from(texture.1));
    // Columns: the layer, the texture and the screen overlap.
    let left = x0.max(i64::from(rx0));
    let right = (x0 + w.min(tw)).min(i64::from(screen.0)).min(i64::from(rx1));
    // Layer rows in the region.
    let top = (i64::from(ry0) - y0).max(0);
    let end = (i64::from(ry1) - y0).min(h).min(i64::from(screen.1) - y0);
    let mut copies = Vec::new();
    if right <= left {
        return Some(copies);
    }
    let mut push = |local: i64, src: i64, rows: i64| {
        let (src, rows) = (src.max(0), rows.min(th - src.max(0)));
        if rows > 0 {
            copies.push(Copy {
                src: [(left - x0) as u32, src as u32],
                dst: [left as u32, (y0 + local) as u32],
                size: [(right - left) as u32, rows as u32],
            });
        }
    };
    let mut y = top;
    while y < end {
        if y < ty0 {
            let rows = ty0.min(end) - y;
            push(y, y, rows);
            y += rows;
        } else if y < ty1 && ring > 0 {
            let at = (y - ty0 + offset + base).rem_euclid(ring);
            let rows = (ring - at).min(ty1.min(end) - y);
            push(y, ty0 + at, rows);
            y += rows;
        } else {
            let rows = end - y;
            push(y, y - ty1 + bottom, rows);
            y += rows;
        }
    }
    Some(copies)
}

/// The copies for a layer placed by `p` whose texture holds only the
/// layer rows `held` (ascending, `row_height` pixels each), stacked from
/// its top: each run of consecutive rows goes to its place on the screen.
pub fn held_copies(
    p: &Placement,
    held: &[usize],
    row_height: u32,
    texture_width: u32,
    region: [u32; 4],
    screen: (u32, u32),
) -> Vec<Copy> {
    let mut copies = Vec::new();
    let mut slot = 0u32;
    for run in held.chunk_by(|a, b| *b == a + 1) {
        let rows = u32::try_from(run.len()).unwrap_or(u32::MAX);
        let (y, h) = (run[0] as f32 * row_height as f32, rows.saturating_mul(row_height));
        let part =
            Placement::fixed([p.pos[0], p.pos[1] + y], [p.size[0], (h as f32).min(p.size[1] - y).max(0.0)]);
        let at = slot.saturating_mul(row_height);
        let run_copies = layer_copies(&part, (texture_width, h), region, screen).unwrap_or_default();
        copies.extend(run_copies.into_iter().map(|c| Copy { src: [c.src[0], c.src[1] + at], ..c }));
        slot = slot.saturating_add(rows);
    }
    copies
}

/// The texture size for a `cols` x `rows` grid, cut to `limit` (width,
/// height: the target's size within the device's limit), at least one
/// pixel on each side.
pub fn layer_texture_size(cols: usize, rows: usize, m: CellMetrics, limit: (u32, u32)) -> (u32, u32) {
    let side = |cells: usize, size: u32, max: u32| {
        u32::try_from(cells).unwrap_or(u32::MAX).saturating_mul(size).clamp(1, max.max(1))
    };
    (side(cols, m.width, limit.0), side(rows, m.height, limit.1))
}

/// Which rows of the bottom layer (the global grid, at the origin) are
/// wholly hidden: every cell of the row lies under a window or the message
/// grid, which replace what is under them. Floats never hide anything (a
/// `blend` float shows through). Compared in cells: every layer sits at a
/// cell position and covers whole cells.
///
/// ```text
///   row 0  tabline            shown
///   row 1  ┌─ win 2 ─┬ win 3 ┐ hidden
///   row 9  ├ status ─┴───────┤ shown (grid 1 draws the status lines)
///   row 10 └ message grid ───┘ hidden
/// ```
pub fn hidden_rows(visible: &[Layer]) -> Vec<bool> {
    let Some(base) = visible.first().filter(|l| l.kind == compose::LayerKind::Global) else {
        return Vec::new();
    };
    let width = i64::try_from(base.width).unwrap_or(i64::MAX);
    let mut cover: Vec<(i64, i64, i64, i64)> = visible[1..]
        .iter()
        .filter(|l| matches!(l.kind, compose::LayerKind::Window | compose::LayerKind::Message))
        .map(|l| {
            let len = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            (l.col, l.col.saturating_add(len(l.width)), l.row, l.row.saturating_add(len(l.height)))
        })
        .collect();
    cover.sort_unstable();
    (0..base.height)
        .map(|r| {
            let r = i64::try_from(r).unwrap_or(i64::MAX);
            // Sweep the spans over this row left to right.
            let mut reach = 0;
            for &(x0, x1, _, _) in cover.iter().filter(|&&(_, _, y0, y1)| y0 <= r && r < y1) {
                if x0 > reach {
                    break;
                }
                reach = reach.max(x1);
            }
            reach >= width
        })
        .collect()
}

/// The band of target pixel rows (y0, y1) that row `r` of a placed layer
/// covers, cut to a target `height` pixels high; `None` when off it.
pub fn row_band(placed: &Layer, r: usize, m: CellMetrics, height: u32) -> Option<(u32, u32)> {
    if r >= placed.height {
        return None;
    }
    let y = placed.row.saturating_add(i64::try_from(r).ok()?);
    let edge = |y: i64| y.saturating_mul(i64::from(m.height)).clamp(0, i64::from(height)) as u32;
    let (y0, y1) = (edge(y), edge(y.saturating_add(1)));
    (y1 > y0).then_some((y0, y1))
}

/// The MsgSeparator row above a scrolled message grid, `width` pixels wide.
pub fn separator(frame: &Frame, grid: GridId, width: u32, m: CellMetrics, opacity: Opacity) -> Option<Rect> {
    let Some(WindowPlacement::Message { row, scrolled: true, .. }) =
        frame.windows.get(&grid).and_then(|w| w.placement.as_ref())
    else {
        return None;
    };
    let above = i64::try_from(row.checked_sub(1)?).ok()?;
    let hl = frame.hl_groups.get("MsgSeparator").copied().unwrap_or(0);
    let (color, _) = background(frame, hl, opacity);
    Some(Rect::solid(0.0, px(above, m.height), width as f32, m.height as f32, color))
}

/// The cursor's cell on the target in pixels (x, y, width, height), if its
/// grid is placed. The cell itself need not exist.
pub fn cursor_cell(frame: &Frame, m: CellMetrics) -> Option<(f32, f32, f32, f32)> {
    let (row, col) = compose::grid_origin(frame, frame.cursor.grid)?;
    let cell = |origin: i64, at: usize| origin.saturating_add(i64::try_from(at).unwrap_or(i64::MAX));
    let x = px(cell(col, frame.cursor.col), m.width);
    let y = px(cell(row, frame.cursor.row), m.height);
    Some((x, y, m.width as f32, m.height as f32))
}

/// The text a block cursor draws over itself, in the cursor's colours.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorGlyph {
    pub text: CompactString,
    /// The cell's highlight, for bold and italic.
    pub hl: u32,
    pub x: f32,
    pub y: f32,
    pub fg: u32,
}

/// Pushes the cursor's rect(s) (and box drawing in a block cursor); returns
/// the glyph a block cursor must draw on top, if any. Nothing when the
/// cursor's grid is not placed or the cursor is outside it.
pub fn cursor(frame: &Frame, m: CellMetrics, out: &mut Vec<Rect>) -> Option<CursorGlyph> {
    let cursor = frame.cursor;
    let (x, y, _, ch) = cursor_cell(frame, m)?;
    let grid = frame.grid(cursor.grid)?;
    let row = grid.rows.get(cursor.row)?;
    let cell = row.cells.get(cursor.col)?;
    let wide = row.cells.get(cursor.col + 1).is_some_and(|c| c.is_continuation());
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
    let cw = m.width as f32 * if wide { 2.0 } else { 1.0 };
    let pct = info.cell_percentage.unwrap_or(100).clamp(1, 100) as f32 / 100.0;
    let color = rgba(cursor_bg, 1.0);
    let shape = info.cursor_shape.unwrap_or(CursorShape::Block);
    match shape {
        CursorShape::Block => out.push(Rect::solid(x, y, cw, ch, color)),
        CursorShape::Vertical => out.push(Rect::solid(x, y, (cw * pct).round().max(1.0), ch, color)),
        CursorShape::Horizontal => {
            let h = (ch * pct).round().max(1.0);
            out.push(Rect::solid(x, y + ch - h, cw, h, color));
        }
    }
    let block = shape == CursorShape::Block;
    if !block || cell.text.trim().is_empty() || boxdraw::is_geometry(&cell.text) {
        if block && boxdraw::is_geometry(&cell.text) {
            let ch_char = cell.text.chars().next().unwrap_or(' ');
            let cell_box = CellBox { x, y, w: m.width as f32, h: ch };
            boxdraw::push_rects(out, ch_char, cell_box, m.stroke, rgba(cursor_fg, 1.0));
        }
        return None;
    }
    Some(CursorGlyph { text: cell.text.clone(), hl: cell.hl, x, y, fg: cursor_fg })
}

/// An unfocused window's block cursor: its outline, `width` pixels thick
/// (at least one), in place of the filled block and its glyph. Other
/// shapes stay as they are.
pub fn hollow_cursor<G>(frame: &Frame, width: f32, out: &mut Vec<Rect>, glyph: &mut Option<G>) {
    let shape = frame.mode.current().and_then(|i| i.cursor_shape).unwrap_or(CursorShape::Block);
    let Some(block) = out.first().copied().filter(|_| shape == CursorShape::Block) else { return };
    let ([x, y], [w, h], color) = (block.pos, block.size, block.color);
    let t = width.round().max(1.0).min((w.min(h) / 2.0).max(1.0));
    out.clear();
    out.extend([
        Rect::solid(x, y, w, t, color),
        Rect::solid(x, y + h - t, w, t, color),
        Rect::solid(x, y + t, t, h - 2.0 * t, color),
        Rect::solid(x + w - t, y + t, t, h - 2.0 * t, color),
    ]);
    *glyph = None;
}

/// Makes the cursor's rects and glyph `alpha` times as opaque.
pub fn fade_cursor(alpha: f32, out: &mut [Rect], glyph_color: Option<&mut glyphon::Color>) {
    if alpha >= 1.0 {
        return;
    }
    let alpha = alpha.clamp(0.0, 1.0);
    out.iter_mut().for_each(|r| r.color[3] *= alpha);
    if let Some(c) = glyph_color {
        *c = glyphon::Color::rgba(c.r(), c.g(), c.b(), (f32::from(c.a()) * alpha).round() as u8);
    }
}

/// How opaque backgrounds are drawn (the `opacity` and `normal_opacity`
/// settings): text is always opaque.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Opacity {
    /// Backgrounds in the Normal (default) background colour.
    pub normal: f32,
    /// Every other background.
    pub other: f32,
}

impl Default for Opacity {
    fn default() -> Self {
        Opacity { normal: 1.0, other: 1.0 }
    }
}

impl Opacity {
    /// `normal_opacity` applies on top of `opacity`.
    pub fn new(opacity: f32, normal_opacity: f32) -> Opacity {
        let clamp = |a: f32| if a.is_finite() { a.clamp(0.0, 1.0) } else { 1.0 };
        Opacity { normal: clamp(opacity) * clamp(normal_opacity), other: clamp(opacity) }
    }

    /// The alpha of a background of colour `bg`.
    pub fn of(self, bg: u32, frame: &Frame) -> f32 {
        if bg == frame.defaults.bg { self.normal } else { self.other }
    }
}

/// Straight RGBA for a highlight's background, honouring `blend` and the
/// window's opacity.
pub fn background(frame: &Frame, hl: u32, opacity: Opacity) -> ([f32; 4], u32) {
    let attr = frame.hl.get(hl);
    let c = attr.resolve(&frame.defaults);
    let alpha = (1.0 - f32::from(attr.blend) / 100.0) * opacity.of(c.bg, frame);
    (rgba(c.bg, alpha), c.fg)
}

/// nvim's `rgb_blend`: `ratio` percent of `back` and the rest of `front`,
/// each channel rounded down.
pub fn rgb_blend(ratio: u8, back: u32, front: u32) -> u32 {
    let (a, b) = (u32::from(ratio.min(100)), 100 - u32::from(ratio.min(100)));
    let channel =
        |shift: u32| ((a * ((back >> shift) & 0xff) + b * ((front >> shift) & 0xff)) / 100) << shift;
    channel(16) | channel(8) | channel(0)
}

/// A blended float's cell with text, drawn as nvim's compositor draws it
/// (`hl_blend_attrs`): its background mixed with the background under it,
/// `blend` percent of that; its text mixed with the text colour under it,
/// half as much; and nothing of the text under it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mixed {
    pub bg: u32,
    pub fg: u32,
}

/// The mixed colours of a float row's cells with text and a `blend`, by
/// column, from `under` (a column's foreground and background under the
/// float; `None` off screen). Blank cells are `None`: their background is
/// drawn `blend` percent clear, so what lies under them, text included,
/// shows through in exactly nvim's colours. Empty when no cell mixes.
pub fn mix_row(frame: &Frame, row: &Row, under: impl Fn(usize) -> Option<(u32, u32)>) -> Vec<Option<Mixed>> {
    let mixed: Vec<Option<Mixed>> = row
        .cells
        .iter()
        .enumerate()
        .map(|(col, cell)| {
            let attr = frame.hl.get(cell.hl);
            if attr.blend == 0 || cell.text == " " {
                return None;
            }
            let (fg, bg) = under(col)?;
            let c = attr.resolve(&frame.defaults);
            Some(Mixed { bg: rgb_blend(attr.blend, bg, c.bg), fg: rgb_blend(attr.blend / 2, fg, c.fg) })
        })
        .collect();
    if mixed.iter().all(Option::is_none) { Vec::new() } else { mixed }
}

/// Sorts bands and joins those that touch or overlap.
pub fn merge_bands(mut bands: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
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

/// The pixels the cursor (or preedit) covers, (x0, y0, x1, y1) on a
/// screen `width` x `height`: its rects and the glyph drawn at `glyph`
/// (left, top), one cell high. Glyphs may overhang their cell, so whole
/// rows are taken, and around a glyph a cell on its left and two on its
/// right (a wide character's second cell, and its overhang).
pub fn overlay_spot(
    rects: &[Rect],
    glyph: Option<(f32, f32)>,
    m: CellMetrics,
    (width, height): (u32, u32),
) -> Option<[u32; 4]> {
    let (w, h) = (m.width as f32, m.height as f32);
    let spans = rects
        .iter()
        .map(|r| [r.pos[0], r.pos[1], r.pos[0] + r.size[0], r.pos[1] + r.size[1]])
        .chain(glyph.map(|(x, y)| [x - w, y, x + 3.0 * w, y + h]));
    let [left, top, right, bottom] = spans
        .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |[l, t, r, b], s| {
            [l.min(s[0]), t.min(s[1]), r.max(s[2]), b.max(s[3])]
        });
    let y0 = (top.floor().max(0.0) as u32).min(height);
    let y1 = (bottom.ceil().max(0.0) as u32).min(height);
    // A pixel more each side: rects' edges are blended.
    let x0 = ((left.floor() - 1.0).max(0.0) as u32).min(width);
    let x1 = ((right.ceil() + 1.0).max(0.0) as u32).min(width);
    (y1 > y0 && x1 > x0).then_some([x0, y0, x1, y1])
}

/// Screen columns `[x0, x1)` of a layer placed at `left` whose texture
/// changed in its columns `x0..x1`, a pixel more each side, on a screen
/// `width` wide.
pub fn columns_at(left: f32, x0: u32, x1: u32, width: u32) -> (u32, u32) {
    let at = |v: f32| (v.max(0.0) as u32).min(width);
    (at(left.floor() + x0 as f32 - 1.0), at(left.ceil() + x1 as f32 + 1.0))
}

/// Regions to compose (x0, y0, x1, y1) on a screen `width` wide, those
/// across the whole width cut to the columns where `spots` (the pixels
/// that changed, x0, y0, x1, y1) in their rows lie, and dropped where
/// none changed. Regions narrower than the screen (beside a blurred
/// float) stay as they are.
pub fn narrow_regions(regions: Vec<[u32; 4]>, spots: &[[u32; 4]], width: u32) -> Vec<[u32; 4]> {
    regions
        .into_iter()
        .filter_map(|[x0, y0, x1, y1]| {
            if x0 > 0 || x1 < width {
                return Some([x0, y0, x1, y1]);
            }
            let inside = spots.iter().filter(|s| s[1] < y1 && y0 < s[3] && s[0] < s[2]);
            let (left, right) = inside.fold((width, 0), |(l, r), s| (l.min(s[0]), r.max(s[2])));
            (left < right).then_some([left, y0, right.min(width), y1])
        })
        .collect()
}

/// The part of rect `a` (x0, y0, x1, y1) inside rect `b`, if any.
pub fn intersect(a: [u32; 4], b: [u32; 4]) -> Option<[u32; 4]> {
    let r = [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])];
    (r[0] < r[2] && r[1] < r[3]).then_some(r)
}

/// Per band (y0, y1), the columns its `regions` cover: (x0, y0, x1, y1),
/// none for a band with no region.
pub fn band_spans(bands: &[(u32, u32)], regions: &[[u32; 4]]) -> Vec<[u32; 4]> {
    bands
        .iter()
        .filter_map(|&(y0, y1)| {
            let inside = regions.iter().filter(|r| r[1] < y1 && y0 < r[3]);
            let (left, right) = inside.fold((u32::MAX, 0), |(l, r), g| (l.min(g[0]), r.max(g[2])));
            (left < right).then_some([left, y0, right, y1])
        })
        .collect()
}

/// The rects of grid rows: backgrounds, drawn in place of what the layer
/// held, and decorations, drawn over the backgrounds.
#[derive(Debug, Default)]
pub struct RowRects {
    pub replace: Vec<Rect>,
    pub over: Vec<Rect>,
}

/// Backgrounds (into `out.replace`) and decorations and box drawing (into
/// `out.over`) for the first `cols` cells of grid row `r`.
pub fn row_rects(
    frame: &Frame,
    row: &Row,
    r: usize,
    cols: usize,
    m: CellMetrics,
    opacity: Opacity,
    out: &mut RowRects,
) {
    row_rects_mixed(frame, row, r, cols, m, opacity, &[], out);
}

/// Like [`row_rects`] for a blended float's row, with its cells' `mixed`
/// colours (see [`mix_row`]; empty for none).
#[allow(clippy::too_many_arguments)]
pub fn row_rects_mixed(
    frame: &Frame,
    row: &Row,
    r: usize,
    cols: usize,
    m: CellMetrics,
    opacity: Opacity,
    mixed: &[Option<Mixed>],
    out: &mut RowRects,
) {
    let (cw, ch) = (m.width as f32, m.height as f32);
    let y = r as f32 * ch;
    for (col, cell) in row.cells.iter().enumerate().take(cols) {
        let x = col as f32 * cw;
        let attr = frame.hl.get(cell.hl);
        let mut colors = attr.resolve(&frame.defaults);
        let bg = match mixed.get(col).copied().flatten() {
            Some(mix) => {
                let alpha = opacity.of(colors.bg, frame);
                colors.fg = mix.fg;
                rgba(mix.bg, alpha)
            }
            None => background(frame, cell.hl, opacity).0,
        };
        push_merged(&mut out.replace, Rect::solid(x, y, cw, ch, bg));
        let sp = rgba(attr.sp.unwrap_or(colors.fg), 1.0);
        let t = m.stroke;
        let uy = (y + m.baseline + m.underline_offset).min(y + ch - t);
        match attr.underline {
            Underline::None => {}
            Underline::Line => push_merged(&mut out.over, Rect::solid(x, uy, cw, t, sp)),
            Underline::Double => {
                // Two lines a stroke apart, moved up if they would leave the cell.
                let top = uy.min(y + ch - 3.0 * t);
                out.over.push(Rect::solid(x, top, cw, t, sp));
                out.over.push(Rect::solid(x, top + 2.0 * t, cw, t, sp));
            }
            Underline::Curl => {
                let h = (t * 3.0).max(3.0);
                let top = (uy - h / 2.0).min(y + ch - h);
                out.over.push(Rect::shaped(x, top, cw, h, sp, rects::Kind::Curl, t));
            }
            Underline::Dotted => {
                // Dots on a pitch of 2 strokes, aligned to absolute x.
                let mut dx = (x / (2.0 * t)).ceil() * 2.0 * t;
                while dx < x + cw {
                    out.over.push(Rect::solid(dx, uy, t.min(x + cw - dx), t, sp));
                    dx += 2.0 * t;
                }
            }
            Underline::Dashed => {
                let (dash, pitch) = (3.0 * t, 5.0 * t);
                let mut dx = (x / pitch).floor() * pitch;
                while dx < x + cw {
                    let (a, b) = (dx.max(x), (dx + dash).min(x + cw));
                    if b > a {
                        out.over.push(Rect::solid(a, uy, b - a, t, sp));
                    }
                    dx += pitch;
                }
            }
        }
        if attr.strikethrough {
            let sy = (y + m.baseline - m.font_px * 0.3).round();
            push_merged(&mut out.over, Rect::solid(x, sy, cw, t, rgba(colors.fg, 1.0)));
        }
        if boxdraw::is_geometry(&cell.text) {
            let c = cell.text.chars().next().unwrap_or(' ');
            let wide = row.cells.get(col + 1).is_some_and(|n| n.is_continuation());
            let w = if wide { cw * 2.0 } else { cw };
            boxdraw::push_rects(&mut out.over, c, CellBox { x, y, w, h: ch }, m.stroke, rgba(colors.fg, 1.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, RedrawEvent};

    /// Side-by-side windows hide a row only where they meet with no
    /// separator column between them; a float hides nothing.
    #[test]
    fn hidden_rows_are_those_wholly_under_windows_or_messages() {
        use compose::LayerKind::{Float, Global, Message, Window};
        let layer = |kind, row, col, width, height| Layer {
            grid: 1,
            row,
            col,
            width,
            height,
            zindex: 0,
            compindex: 0,
            kind,
        };
        let visible = [
            layer(Global, 0, 0, 10, 6),
            // Rows 0-1: two halves meeting at column 5.
            layer(Window, 0, 0, 5, 2),
            layer(Window, 0, 5, 5, 2),
            // Rows 2-3: a separator column (4) between them.
            layer(Window, 2, 0, 4, 2),
            layer(Window, 2, 5, 5, 2),
            // Row 4: a float the whole width.
            layer(Float, 4, 0, 10, 1),
            // Row 5 on: the message grid, taller than the screen.
            layer(Message, 5, 0, 10, 6),
        ];
        assert_eq!(hidden_rows(&visible), [true, true, false, false, false, true]);
        // Without the global grid there is nothing to hide.
        assert!(hidden_rows(&visible[1..]).is_empty());
    }

    #[test]
    fn held_rows_are_copied_from_their_slots_to_their_places() {
        // A 10-row layer (20 px rows) at y 40 holding rows 0, 7 and 8:
        // texture rows 0, 1 and 2.
        let p = Placement::fixed([5.0, 40.0], [100.0, 200.0]);
        let all = held_copies(&p, &[0, 7, 8], 20, 100, [0, 0, 200, 400], (200, 400));
        assert_eq!(
            all,
            [
                Copy { src: [0, 0], dst: [5, 40], size: [100, 20] },
                Copy { src: [0, 20], dst: [5, 180], size: [100, 40] },
            ]
        );
        // A band over row 8 alone, and one over hidden rows only.
        let band = held_copies(&p, &[0, 7, 8], 20, 100, [0, 205, 200, 215], (200, 400));
        assert_eq!(band, [Copy { src: [0, 45], dst: [5, 205], size: [100, 10] }]);
        assert!(held_copies(&p, &[0, 7, 8], 20, 100, [0, 70, 200, 170], (200, 400)).is_empty());
        // Cut at the screen's bottom edge.
        let cut = held_copies(&p, &[0, 7, 8], 20, 100, [0, 0, 200, 190], (200, 190));
        assert_eq!(cut.last(), Some(&Copy { src: [0, 20], dst: [5, 180], size: [100, 10] }));
    }

    #[test]
    fn layer_copies_read_rows_as_the_composite_shader_does() {
        // A window at row 2 (20 px rows) with a winbar, 3 text rows in a
        // ring of 6 turned by 4, the text 30 px down from its place.
        let p = Placement {
            pos: [0.0, 40.0],
            size: [100.0, 80.0],
            text: [0.0, 20.0, 100.0, 80.0],
            scroll: [-30.0, 120.0, 80.0, 140.0],
        };
        let copies = layer_copies(&p, (100, 140), [0, 0, 100, 200], (100, 200)).expect("no side margins");
        let rows: Vec<_> = copies.iter().map(|c| (c.dst[1], c.src[1], c.size[1])).collect();
        // Winbar in place; then text row -30 px: ring row (−30 + 80) = 50
        // on to the ring's end (70 px), then from the ring's start.
        assert_eq!(rows, [(40, 0, 20), (60, 70, 60)]);
        // What the shader reads for each screen row, computed row by row.
        let shader = |sy: i64| {
            let y = sy - 40;
            if y < 20 { y } else { 20 + (y - 20 - 30 + 80).rem_euclid(120) }
        };
        for c in &copies {
            for r in 0..c.size[1] {
                assert_eq!(i64::from(c.src[1] + r), shader(i64::from(c.dst[1] + r)));
            }
        }
        // A band cuts the copies; off-screen parts are left out.
        let band = layer_copies(&p, (100, 140), [0, 70, 100, 90], (100, 200)).unwrap();
        assert_eq!(band.iter().map(|c| (c.dst[1], c.size[1])).collect::<Vec<_>>(), [(70, 20)]);
        let off = Placement { pos: [-30.0, -10.0], ..Placement::fixed([0.0; 2], [100.0, 80.0]) };
        let c = layer_copies(&off, (100, 80), [0, 0, 60, 200], (60, 200)).unwrap();
        assert_eq!(c, [Copy { src: [30, 10], dst: [0, 0], size: [60, 70] }]);
        // Side margins that stay while the text moves: the shader's job.
        let bordered = Placement { text: [10.0, 20.0, 90.0, 80.0], ..p };
        let cut = layer_copies(&p, (100, 140), [30, 40, 50, 60], (100, 200)).unwrap();
        assert_eq!(cut, [Copy { src: [30, 0], dst: [30, 40], size: [20, 20] }], "a region cuts columns too");
        assert_eq!(layer_copies(&bordered, (100, 140), [0, 0, 100, 200], (100, 200)), None);
    }

    #[test]
    fn an_unfocused_block_cursor_is_its_outline() {
        let mut model = Model::new();
        model.apply(RedrawEvent::GridResize { grid: 1, width: 10, height: 2 }).unwrap();
        let frame = model.apply(RedrawEvent::Flush).unwrap().expect("a frame");
        let white = rgba(0xffffff, 1.0);
        let mut out = vec![Rect::solid(20.0, 40.0, 10.0, 20.0, white)];
        let mut glyph = Some("x");
        hollow_cursor(&frame, 1.25, &mut out, &mut glyph);
        assert_eq!(glyph, None, "no glyph inside the outline");
        let sides: Vec<_> = out.iter().map(|r| (r.pos, r.size)).collect();
        assert_eq!(
            sides,
            [
                ([20.0, 40.0], [10.0, 1.0]),
                ([20.0, 59.0], [10.0, 1.0]),
                ([20.0, 41.0], [1.0, 18.0]),
                ([29.0, 41.0], [1.0, 18.0]),
            ]
        );
    }

    /// Whole-width regions are cut to the columns the spots in their rows
    /// cover, and dropped where none; regions beside a blurred float stay;
    /// each band then spans the columns of its regions.
    #[test]
    fn regions_are_cut_to_the_columns_that_changed_in_their_rows() {
        let spots = [[40, 0, 48, 20], [300, 10, 330, 20], [0, 100, 0, 120], [500, 200, 520, 220]];
        let regions = vec![[0, 0, 600, 20], [0, 100, 600, 120], [0, 200, 200, 220], [200, 200, 600, 240]];
        let narrowed = narrow_regions(regions, &spots, 600);
        // Rows 100..120 were drawn with no pixel changed: not composed.
        assert_eq!(narrowed, [[40, 0, 330, 20], [0, 200, 200, 220], [200, 200, 600, 240]]);
        let bands = [(0, 20), (100, 120), (200, 240)];
        assert_eq!(band_spans(&bands, &narrowed), [[40, 0, 330, 20], [0, 200, 600, 240]]);
    }

    /// The cursor's spot holds its rects and, around its glyph, a cell to
    /// the left and two to the right, a pixel more each side, within the
    /// screen.
    #[test]
    fn the_cursor_spot_holds_its_rects_and_its_glyph_overhang() {
        let m = CellMetrics {
            width: 10,
            height: 20,
            font_px: 16.0,
            baseline: 15.0,
            underline_offset: 2.0,
            stroke: 1.0,
        };
        let bar = [Rect::solid(50.0, 20.0, 2.0, 20.0, [1.0; 4])];
        assert_eq!(overlay_spot(&bar, None, m, (300, 200)), Some([49, 20, 53, 40]));
        assert_eq!(overlay_spot(&bar, Some((50.0, 20.0)), m, (300, 200)), Some([39, 20, 81, 40]));
        assert_eq!(overlay_spot(&bar, Some((0.0, 20.0)), m, (300, 200)), Some([0, 20, 53, 40]));
        assert_eq!(overlay_spot(&[], Some((290.0, 180.0)), m, (300, 200)), Some([279, 180, 300, 200]));
        assert_eq!(overlay_spot(&[], None, m, (300, 200)), None);
        assert_eq!(columns_at(30.0, 10, 20, 300), (39, 51));
        assert_eq!(columns_at(0.0, 0, 300, 300), (0, 300));
    }
}
