//! Shaping one grid row into glyph buffers that sit exactly on the cell grid.
//!
//! A row is shaped in pieces, the runs of cells between blank ones (a word,
//! mostly; cosmic-text never shapes across a space either), each a buffer
//! with a span per highlight run, so ligatures form inside a run (and never
//! across highlights). cosmic-text rounds monospace advances to the cell
//! width; afterwards every glyph is checked against the column it belongs
//! to. If any glyph is off (a fallback font with other advances, an odd
//! cluster), the piece is shaped again cell by cell, each cell placed at
//! exactly column × cell width, so nothing ever shifts the rest of the row.
//! Pieces are kept across frames (`ShapeCache`): a new row's words were
//! mostly shaped before. A run of digits (with `,` and `%`: a line number,
//! the ruler) is shaped a cell at a time when the font shapes those
//! characters the same alone as beside each other: scrolling or typing
//! makes a new number at every step, and its digits were all shaped before.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use glyphon::{Attrs, Buffer, CacheKey, Color, Metrics, Shaping, SwashCache};

use super::boxdraw;
use super::font::{CellMetrics, Fonts, style_index};
use super::geometry::Mixed;
use crate::model::{Cell, DefaultColors, HlTable, Row};

/// A shaped row: its pieces and the x offset (pixels) each is drawn at.
pub struct ShapedRow {
    pub pieces: Vec<(f32, Arc<Piece>)>,
}

impl ShapedRow {
    /// Every buffer of the row and the x offset (pixels) it is drawn at.
    pub fn buffers(&self) -> impl Iterator<Item = (f32, &Buffer)> {
        self.pieces.iter().flat_map(|(x, piece)| piece.buffers.iter().map(move |(dx, b)| (x + dx, b)))
    }
}

/// The text of a run of cells with no blank between them (a word, mostly),
/// shaped: its buffers and the x offset (pixels) of each from the run's
/// first cell.
pub struct Piece {
    pub buffers: Vec<(f32, Buffer)>,
    /// Its glyphs with ink as drawn at (0, 0), found the first time they
    /// are asked for (see [`ShapeCache::glyphs`]); `None` when a glyph
    /// sits between pixels, so that drawn elsewhere it could fall in
    /// another subpixel bin.
    at_origin: OnceLock<Option<Vec<DrawnGlyph>>>,
}

impl Piece {
    pub fn new(buffers: Vec<(f32, Buffer)>) -> Piece {
        Piece { buffers, at_origin: OnceLock::new() }
    }
}

/// What a piece is shaped from: its text, its highlight spans (each one's
/// end in the text, highlight, face and blended colour) and the columns
/// (from its first) of its double-width cells' right halves.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
struct PieceKey {
    text: String,
    spans: Vec<(usize, u32, Face, Option<u32>)>,
    continuations: Vec<usize>,
}

/// Pieces shaped before, by what they were shaped from: a row scrolled or
/// typed in shares most of its words with rows shaped before. Valid for
/// one set of fonts, highlights and default colours (the renderer clears
/// it when those change). Two generations bound it: when the newer holds
/// `PIECES` pieces it becomes the older and the older is dropped, and a
/// piece found in the older moves to the newer.
#[derive(Default)]
pub struct ShapeCache {
    newer: HashMap<PieceKey, Arc<Piece>>,
    older: HashMap<PieceKey, Arc<Piece>>,
    /// Per glyph drawn, where its image starts from its pen position and
    /// how wide it is, in pixels (see [`ShapeCache::ink`]).
    ink: HashMap<CacheKey, (i32, i32)>,
    /// The key and clusters of the piece being looked up, kept between
    /// rows: a piece shaped before is found without an allocation.
    scratch: (PieceKey, Vec<Cluster>),
    /// The key of one cell of a number shaped cell by cell, kept likewise.
    cell: PieceKey,
    /// Per style (bold, italic: [`style_index`]), whether its face shapes
    /// [`CONTEXT_FREE`]'s characters the same alone as in any pair, found
    /// the first time a number in that style is shaped.
    context_free: [Option<bool>; 4],
}

/// Characters shaped a cell at a time when a piece holds nothing else (a
/// line number, the ruler's `123,45` and `67%`), if the font lets them:
/// its contextual alternates may not (JetBrains Mono raises a `:` between
/// digits, so `:` is not here; a font may have digit ligatures).
const CONTEXT_FREE: &str = "0123456789,%";

/// Pieces a generation of the cache holds: about 6 kB each (cosmic-text's
/// shaped and laid-out glyphs), so at most some 3 MB, less what rows on
/// screen hold anyway. Scrolling through source files, 53 to 63 % of
/// the words were held (of 65 to 73 % with no bound).
const PIECES: usize = 256;

/// One glyph as a layer draws it: everything its pixels depend on (the
/// row's default colour aside, the same for all), and where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DrawnGlyph {
    /// The columns of pixels its image covers, `(x0, x1)`.
    pub ink: (i32, i32),
    key: CacheKey,
    at: (i32, i32),
    color: Option<u32>,
}

#[cfg(test)]
impl DrawnGlyph {
    /// A glyph covering `ink`, told from others with the same ink by `id`.
    pub fn stand_in(ink: (i32, i32), id: u16) -> DrawnGlyph {
        let (key, _, _) = CacheKey::new(
            glyphon::fontdb::ID::dummy(),
            id,
            10.0,
            (0.0, 0.0),
            glyphon::Weight::NORMAL,
            glyphon::cosmic_text::CacheKeyFlags::empty(),
        );
        DrawnGlyph { ink, key, at: (ink.0, 0), color: None }
    }
}

/// Glyphs whose ink extent is kept (16 bytes each and the key): past this
/// the extents are forgotten and found again as glyphs are drawn.
const INK_GLYPHS: usize = 4096;

/// Glyph images kept in a `SwashCache` by [`glyph_image`]: past this
/// they are dropped and rasterised again as they are needed.
const IMAGES: usize = 4096;

/// `key`'s image, rasterised once and kept in `swash` (at most `IMAGES`
/// images, a few hundred bytes each), for the ink of glyphs and for
/// frames drawn on the CPU (`preview`).
pub fn glyph_image<'a>(
    swash: &'a mut SwashCache,
    system: &mut glyphon::FontSystem,
    key: CacheKey,
) -> Option<&'a glyphon::SwashImage> {
    if swash.image_cache.len() >= IMAGES && !swash.image_cache.contains_key(&key) {
        swash.image_cache.clear();
    }
    swash.get_image(system, key).as_ref()
}

/// Offsets below this are whole pixels exactly in an `f32`, and so are
/// sums of two of them.
const WHOLE_PIXELS: f32 = (1 << 22) as f32;

impl ShapeCache {
    pub fn clear(&mut self) {
        self.newer.clear();
        self.older.clear();
        self.ink.clear();
        self.context_free = [None; 4];
    }

    /// The glyphs of `piece` with ink, drawn at `(x, top)` as the layer
    /// draws it, added to `out`. A glyph may reach past its cell (an
    /// italic's overhang, a fallback font's wide glyph): each says where
    /// it really draws, from its image, rasterised once per glyph and size.
    /// A piece's glyphs are found once, at (0, 0), and moved to `(x, top)`
    /// when both are whole pixels and so are the glyphs' places (a piece
    /// on the grid): adding whole pixels changes no glyph's subpixel bin.
    pub fn glyphs(
        &mut self,
        fonts: &mut Fonts,
        swash: &mut SwashCache,
        (x, top): (f32, f32),
        piece: &Piece,
        out: &mut Vec<DrawnGlyph>,
    ) {
        let whole = |v: f32| v.fract() == 0.0 && v.abs() < WHOLE_PIXELS;
        if whole(x) && whole(top) {
            let at_origin = piece.at_origin.get_or_init(|| {
                let mut glyphs = Vec::new();
                self.find_glyphs(fonts, swash, (0.0, 0.0), piece, &mut glyphs).then_some(glyphs)
            });
            if let Some(glyphs) = at_origin {
                let (dx, dy) = (x as i32, top as i32);
                out.extend(glyphs.iter().map(|g| DrawnGlyph {
                    ink: (g.ink.0 + dx, g.ink.1 + dx),
                    at: (g.at.0 + dx, g.at.1 + dy),
                    ..*g
                }));
                return;
            }
        }
        self.find_glyphs(fonts, swash, (x, top), piece, out);
    }

    /// [`ShapeCache::glyphs`] found glyph by glyph; true when every glyph
    /// sits on whole pixels (its subpixel bin and place then move with it).
    fn find_glyphs(
        &mut self,
        fonts: &mut Fonts,
        swash: &mut SwashCache,
        (x, top): (f32, f32),
        piece: &Piece,
        out: &mut Vec<DrawnGlyph>,
    ) -> bool {
        if self.ink.len() >= INK_GLYPHS {
            self.ink.clear();
        }
        let mut whole = true;
        for (dx, buffer) in &piece.buffers {
            for run in buffer.layout_runs() {
                for glyph in run.glyphs {
                    let physical = glyph.physical((x + dx, top), 1.0);
                    // Its place in the buffer, as `physical` adds it to the offset.
                    let own_x = glyph.x + glyph.font_size * glyph.x_offset;
                    let own_y = glyph.y - glyph.font_size * glyph.y_offset;
                    whole &= [own_x, own_y, x + dx, top]
                        .iter()
                        .all(|v| v.fract() == 0.0 && v.abs() < WHOLE_PIXELS);
                    let (left, width) = *self.ink.entry(physical.cache_key).or_insert_with(|| {
                        glyph_image(swash, &mut fonts.system, physical.cache_key)
                            .map_or((0, 0), |image| (image.placement.left, image.placement.width as i32))
                    });
                    if width > 0 {
                        out.push(DrawnGlyph {
                            ink: (physical.x + left, physical.x + left + width),
                            key: physical.cache_key,
                            at: (physical.x, run.line_y.round() as i32 + physical.y),
                            color: glyph.color_opt.map(|c| c.0),
                        });
                    }
                }
            }
        }
        whole
    }

    /// Pieces held.
    pub fn len(&self) -> usize {
        self.newer.len() + self.older.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get_or_shape(&mut self, key: &PieceKey, shape: impl FnOnce() -> Piece) -> Arc<Piece> {
        if let Some(piece) = self.newer.get(key) {
            return piece.clone();
        }
        let piece = self.older.remove(key).unwrap_or_else(|| Arc::new(shape()));
        if self.newer.len() >= PIECES {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(key.clone(), piece.clone());
        piece
    }
}

#[derive(Default)]
struct Cluster {
    byte: usize,
    col: usize,
    text_len: usize,
}

/// Shapes `row` for drawing, without a cache (see [`shape_row_mixed`]).
pub fn shape_row(fonts: &mut Fonts, row: &Row, hl: &HlTable, defaults: &DefaultColors) -> ShapedRow {
    shape_row_mixed(fonts, &mut ShapeCache::default(), row, hl, defaults, &[])
}

/// Shapes `row` for drawing, in pieces between blank cells (cosmic-text
/// never shapes across a space either): blank cells and box-drawing
/// characters (drawn as geometry) contribute no glyphs, and a piece shaped
/// before comes from `cache`. `mixed` gives a blended float's text colours
/// by column (see `geometry::mix_row`; empty for none).
pub fn shape_row_mixed(
    fonts: &mut Fonts,
    cache: &mut ShapeCache,
    row: &Row,
    hl: &HlTable,
    defaults: &DefaultColors,
    mixed: &[Option<Mixed>],
) -> ShapedRow {
    let fg_of = |col: usize| mixed.get(col).copied().flatten().map(|m| m.fg);
    let m = fonts.metrics();
    let inked = |cell: &Cell| {
        cell.is_continuation() || (!boxdraw::is_geometry(&cell.text) && !cell.text.trim().is_empty())
    };
    let cells = &row.cells;
    let mut pieces = Vec::new();
    let (mut key, mut clusters) = std::mem::take(&mut cache.scratch);
    let mut col = 0;
    while col < cells.len() {
        if !inked(&cells[col]) {
            col += 1;
            continue;
        }
        let first = col;
        while col < cells.len() && inked(&cells[col]) {
            col += 1;
        }
        key.text.clear();
        key.spans.clear();
        key.continuations.clear();
        clusters.clear();
        for (c, cell) in cells.iter().enumerate().take(col).skip(first) {
            if cell.is_continuation() {
                key.continuations.push(c - first);
                continue;
            }
            let face = face_of(row, c);
            let start = key.text.len();
            key.text.push_str(&cell.text);
            clusters.push(Cluster { byte: start, col: c - first, text_len: cell.text.len() });
            let fg = fg_of(c);
            match key.spans.last_mut() {
                Some((end, id, f, colour))
                    if *id == cell.hl && *f == face && face == Face::Normal && *colour == fg =>
                {
                    *end = key.text.len()
                }
                _ => key.spans.push((key.text.len(), cell.hl, face, fg)),
            }
        }
        if key.text.is_empty() {
            continue;
        }
        if let [(_, id, Face::Normal, fg)] = key.spans[..]
            && key.text.len() > 1
            && key.text.bytes().all(|b| CONTEXT_FREE.as_bytes().contains(&b))
            && cache.context_free(fonts, hl, defaults, id)
        {
            // One ASCII character a cell (a continuation or a longer
            // cell's text would have failed the test above).
            let mut cell = std::mem::take(&mut cache.cell);
            for (i, ch) in key.text.char_indices() {
                cell.text.clear();
                cell.text.push(ch);
                cell.spans.clear();
                cell.spans.push((1, id, Face::Normal, fg));
                let one = [Cluster { byte: 0, col: 0, text_len: 1 }];
                let piece = cache.get_or_shape(&cell, || shape_piece(fonts, &cell, &one, hl, defaults));
                pieces.push((((first + i) as u32 * m.width) as f32, piece));
            }
            cache.cell = cell;
            continue;
        }
        let piece = cache.get_or_shape(&key, || shape_piece(fonts, &key, &clusters, hl, defaults));
        pieces.push(((first as u32 * m.width) as f32, piece));
    }
    cache.scratch = (key, clusters);
    ShapedRow { pieces }
}

impl ShapeCache {
    /// Whether highlight `id`'s face shapes [`CONTEXT_FREE`]'s characters
    /// the same alone as beside each other (found once per style).
    fn context_free(&mut self, fonts: &mut Fonts, hl: &HlTable, defaults: &DefaultColors, id: u32) -> bool {
        let attr = hl.get(id);
        let slot = style_index(attr.bold, attr.italic);
        *self.context_free[slot].get_or_insert_with(|| shapes_alone(fonts, hl, defaults, id, CONTEXT_FREE))
    }
}

/// True when highlight `id`'s face gives each character of `chars` the
/// same single glyph (of the same font), on its own cell, alone and in every ordered pair:
/// then a run of them shaped a cell at a time is drawn as shaping it
/// whole would draw it (a contextual alternate or a ligature of three
/// that two of them do not start is not ruled out, and no font is known
/// to have one among digits).
fn shapes_alone(fonts: &mut Fonts, hl: &HlTable, defaults: &DefaultColors, id: u32, chars: &str) -> bool {
    let m = fonts.metrics();
    let mut shape = |text: &str| -> Vec<((glyphon::fontdb::ID, u16), f32)> {
        let mut buffer = new_buffer(m, m.height as f32);
        let attrs = attrs_of(fonts, hl, defaults, id, Face::Normal, None);
        buffer.set_text(text, &attrs, Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut fonts.system, false);
        buffer
            .layout_runs()
            .flat_map(|run| run.glyphs.iter().map(|g| ((g.font_id, g.glyph_id), g.x)))
            .collect()
    };
    let mut alone = Vec::new();
    for ch in chars.chars() {
        match shape(ch.encode_utf8(&mut [0; 4]))[..] {
            [(glyph, _)] => alone.push(glyph),
            _ => return false,
        }
    }
    let pairs: String = chars.chars().flat_map(|a| chars.chars().flat_map(move |b| [a, b])).collect();
    let expected = pairs.chars().map(|ch| alone[chars.chars().position(|c| c == ch).unwrap_or(0)]);
    let shaped = shape(&pairs);
    shaped.len() == pairs.chars().count()
        && shaped.iter().zip(expected).enumerate().all(|(col, (&(glyph, x), want))| {
            glyph == want && (x - (col as u32 * m.width) as f32).abs() < 0.5
        })
}

/// Shapes one piece as one buffer, or when a glyph of it is off its cell
/// (a fallback font with other advances, an odd cluster) cell by cell,
/// each at exactly its column × cell width.
fn shape_piece(
    fonts: &mut Fonts,
    key: &PieceKey,
    clusters: &[Cluster],
    hl: &HlTable,
    defaults: &DefaultColors,
) -> Piece {
    let m = fonts.metrics();
    let mut buffer = new_buffer(m, m.height as f32);
    {
        let fonts: &Fonts = fonts;
        let mut start = 0;
        let spans_attrs = key.spans.iter().map(|&(end, id, face, fg)| {
            let text = &key.text[start..end];
            start = end;
            (text, attrs_of(fonts, hl, defaults, id, face, fg))
        });
        // The first span's attributes as the line's own: cosmic-text keeps
        // a span (an allocation or two) only where they differ.
        let first = key.spans.first().map(|&(_, id, face, fg)| attrs_of(fonts, hl, defaults, id, face, fg));
        let line = first.unwrap_or_else(|| fonts.attrs(false, false));
        buffer.set_rich_text(spans_attrs, &line, Shaping::Advanced, None);
    }
    buffer.shape_until_scroll(&mut fonts.system, false);
    if on_grid(&buffer, clusters, m) {
        return Piece::new(vec![(0.0, buffer)]);
    }
    let mut buffers = Vec::new();
    for cluster in clusters {
        let piece = &key.text[cluster.byte..cluster.byte + cluster.text_len];
        // The span the cluster is in.
        let span = key.spans.iter().find(|s| s.0 > cluster.byte).copied();
        let Some((_, id, face, fg)) = span else { continue };
        let mut b = new_buffer(m, m.height as f32);
        let attrs = attrs_of(fonts, hl, defaults, id, face, fg);
        b.set_text(piece, &attrs, Shaping::Advanced, None);
        b.shape_until_scroll(&mut fonts.system, false);
        buffers.push(((cluster.col as u32 * m.width) as f32, b));
    }
    Piece::new(buffers)
}

/// An empty buffer for one row of cells `height` pixels tall
/// (`Buffer::new` would shape its empty text, an ellipsis included: a
/// cost per piece, and per frame for the cursor's glyph).
pub fn new_buffer(m: CellMetrics, height: f32) -> Buffer {
    let mut buffer = Buffer::new_empty(Metrics::new(m.font_px, height));
    buffer.set_monospace_width(Some(m.width as f32));
    buffer.set_size(None, Some(height));
    buffer
}

/// True when every glyph starts exactly where its cell does (the clusters'
/// columns are counted from the buffer's first).
fn on_grid(buffer: &Buffer, clusters: &[Cluster], m: CellMetrics) -> bool {
    let mut runs = buffer.layout_runs();
    let Some(run) = runs.next() else { return true };
    if runs.next().is_some() {
        return false;
    }
    run.glyphs.iter().all(|g| {
        let Ok(i) = clusters.binary_search_by_key(&g.start, |c| c.byte) else { return false };
        let expected = (clusters[i].col as u32 * m.width) as f32;
        (g.x - expected).abs() < 0.5
    })
}

/// Which font a cell's text wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Face {
    Normal,
    /// Double-width: `guifontwide` when set.
    Wide,
    Emoji,
}

fn face_of(row: &Row, col: usize) -> Face {
    let text = &row.cells[col].text;
    if super::font::is_emoji(text) {
        Face::Emoji
    } else if row.cells.get(col + 1).is_some_and(|c| c.is_continuation()) {
        Face::Wide
    } else {
        Face::Normal
    }
}

/// Text attributes of highlight `id`: face, weight, slant and colour (`fg`
/// in place of its own when given).
fn attrs_of<'f>(
    fonts: &'f Fonts,
    hl: &HlTable,
    defaults: &DefaultColors,
    id: u32,
    face: Face,
    fg: Option<u32>,
) -> Attrs<'f> {
    let attr = hl.get(id);
    let colors = attr.resolve(defaults);
    let base = match face {
        Face::Normal => fonts.attrs(attr.bold, attr.italic),
        Face::Wide => fonts.wide_attrs(attr.bold, attr.italic),
        Face::Emoji => fonts.emoji_attrs(false, false),
    };
    base.color(color(fg.unwrap_or(colors.fg)))
}

pub fn color(rgb: u32) -> Color {
    Color::rgb((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::model::{CellUpdate, Frame, Model, RedrawEvent};

    /// A frame with `words` on row 0 of a 100-column grid, each word's cells
    /// in its highlight.
    fn frame(words: &[(&str, u32)]) -> Frame {
        let mut m = Model::new();
        m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0xd0d0d0), bg: Some(0x101010), sp: None }).unwrap();
        let attr = crate::model::HlAttr { fg: Some(0x89b4fa), ..Default::default() };
        m.apply(RedrawEvent::HlAttrDefine { id: 1, attr }).unwrap();
        m.apply(RedrawEvent::GridResize { grid: 1, width: 100, height: 1 }).unwrap();
        let cells = words
            .iter()
            .flat_map(|&(word, hl)| {
                word.chars().map(move |c| CellUpdate {
                    text: Cow::Owned(c.into()),
                    hl: Some(hl),
                    repeat: None,
                })
            })
            .collect();
        m.apply(RedrawEvent::GridLine { grid: 1, row: 0, col_start: 0, cells, wrap: false }).unwrap();
        m.apply(RedrawEvent::Flush).unwrap().unwrap()
    }

    fn shape(fonts: &mut Fonts, cache: &mut ShapeCache, f: &Frame) -> ShapedRow {
        shape_row_mixed(fonts, cache, &f.grid(1).unwrap().rows[0], &f.hl, &f.defaults, &[])
    }

    #[test]
    fn a_word_shaped_before_in_the_same_highlight_comes_from_the_cache() {
        let mut fonts = Fonts::bundled(1.0);
        let mut cache = ShapeCache::default();
        let first = frame(&[("let", 1), (" x = ", 0), ("let", 1), (" ", 0), ("let", 0)]);
        let row = shape(&mut fonts, &mut cache, &first);
        let cw = fonts.metrics().width as f32;
        let at: Vec<f32> = row.pieces.iter().map(|(x, _)| x / cw).collect();
        assert_eq!(at, [0.0, 4.0, 6.0, 8.0, 12.0], "a piece per word, at its first cell");
        let piece = |i: usize| &row.pieces[i].1;
        assert!(Arc::ptr_eq(piece(0), piece(3)), "the same word in the same highlight is shaped once");
        assert!(!Arc::ptr_eq(piece(0), piece(4)), "another highlight is another piece");
        assert_eq!(cache.len(), 4);
        // A later row: its known words come from the cache.
        let later = shape(&mut fonts, &mut cache, &frame(&[("x", 0), ("  ", 0), ("let", 1), (" y", 0)]));
        assert!(Arc::ptr_eq(&later.pieces[1].1, piece(0)));
        assert_eq!(cache.len(), 5, "y is new");
    }

    /// The glyphs `row` draws, as a layer draws them.
    fn drawn(fonts: &mut Fonts, cache: &mut ShapeCache, row: &ShapedRow) -> Vec<DrawnGlyph> {
        let mut swash = SwashCache::new();
        let mut out = Vec::new();
        for (x, piece) in &row.pieces {
            cache.glyphs(fonts, &mut swash, (*x, 0.0), piece, &mut out);
        }
        out
    }

    #[test]
    fn a_number_is_shaped_a_cell_at_a_time_and_draws_what_it_draws_shaped_whole() {
        let mut fonts = Fonts::bundled(1.0);
        let mut cache = ShapeCache::default();
        let words = [("  1234", 1), (" ", 0), ("int", 0), ("  ", 0), ("56,7", 0), ("  ", 0), ("89%", 0)];
        let row = shape(&mut fonts, &mut cache, &frame(&words));
        let cw = fonts.metrics().width as f32;
        let at: Vec<f32> = row.pieces.iter().map(|(x, _)| x / cw).collect();
        assert_eq!(at, [2.0, 3.0, 4.0, 5.0, 7.0, 12.0, 13.0, 14.0, 15.0, 18.0, 19.0, 20.0]);
        let cell_by_cell = drawn(&mut fonts, &mut cache, &row);
        // The same row with every piece shaped whole.
        let mut whole = ShapeCache { context_free: [Some(false); 4], ..ShapeCache::default() };
        let row_whole = shape(&mut fonts, &mut whole, &frame(&words));
        assert_eq!(row_whole.pieces.len(), 4);
        assert_eq!(cell_by_cell, drawn(&mut fonts, &mut whole, &row_whole));
        // The next line's number: every digit was shaped before.
        let held = cache.len();
        shape(&mut fonts, &mut cache, &frame(&[("  4321", 1), (" ", 0), ("int", 0), ("  ", 0), ("7,65", 0)]));
        assert_eq!(cache.len(), held, "nothing new to shape");
    }

    #[test]
    fn a_pieces_glyphs_found_once_are_the_glyphs_found_where_it_is_drawn() {
        let mut fonts = Fonts::bundled(1.0);
        let mut cache = ShapeCache::default();
        let mut swash = SwashCache::new();
        let words = [("fn", 1), (" ", 0), ("main()", 0), (" ", 0), ("->", 0), (" ", 0), ("i32", 1)];
        let row = shape(&mut fonts, &mut cache, &frame(&words));
        // The glyphs drawn at `place` equal those found one by one there;
        // true when they sit on whole pixels.
        let mut found = |fonts: &mut Fonts, cache: &mut ShapeCache, place: (f32, f32), piece: &Piece| {
            let (mut moved, mut one_by_one) = (Vec::new(), Vec::new());
            cache.glyphs(fonts, &mut swash, place, piece, &mut moved);
            let whole = cache.find_glyphs(fonts, &mut swash, place, piece, &mut one_by_one);
            assert!(!moved.is_empty());
            assert_eq!(moved, one_by_one, "at {place:?}");
            whole
        };
        for (x, piece) in &row.pieces {
            for place in [(*x, 0.0), (*x + 900.0, 17.0), (*x + 0.5, 3.0), (*x + 3.25, 40.0)] {
                let whole = found(&mut fonts, &mut cache, place, piece);
                assert_eq!(whole, place.0.fract() == 0.0, "at {place:?}");
            }
            assert!(
                piece.at_origin.get().is_some_and(|g| g.is_some()),
                "a piece on the grid keeps its glyphs"
            );
        }
        // Glyphs between pixels (no monospace width: advances of 0.6 em, at
        // 13.7 px 8.22 px).
        let m = fonts.metrics();
        let mut buffer = Buffer::new_empty(Metrics::new(13.7, m.height as f32));
        buffer.set_size(None, Some(m.height as f32));
        buffer.set_text("iwiwi", &fonts.attrs(false, false), Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut fonts.system, false);
        let between = Piece::new(vec![(0.0, buffer)]);
        assert!(!found(&mut fonts, &mut cache, (20.0, 17.0), &between));
        assert!(between.at_origin.get().is_some_and(|g| g.is_none()), "found where drawn, every time");
        assert!(!found(&mut fonts, &mut cache, (0.0, 0.0), &between));
    }

    #[test]
    fn characters_that_a_font_shapes_by_their_neighbours_are_shaped_whole() {
        let mut fonts = Fonts::bundled(1.0);
        let f = frame(&[("1", 0)]);
        assert!(shapes_alone(&mut fonts, &f.hl, &f.defaults, 0, CONTEXT_FREE));
        // JetBrains Mono raises a colon between digits (12:30).
        assert!(!shapes_alone(&mut fonts, &f.hl, &f.defaults, 0, "0123456789:"));
    }

    #[test]
    fn the_cache_keeps_at_most_two_generations_of_pieces() {
        let mut fonts = Fonts::bundled(1.0);
        let mut cache = ShapeCache::default();
        let words: Vec<String> = (0..3 * PIECES).map(|n| format!("w{n}")).collect();
        for batch in words.chunks(16) {
            let line: Vec<(&str, u32)> = batch.iter().flat_map(|w| [(w.as_str(), 0), (" ", 0)]).collect();
            shape(&mut fonts, &mut cache, &frame(&line));
            assert!(cache.len() <= 2 * PIECES, "{} pieces held", cache.len());
        }
        // The newest are still there, the oldest are gone.
        let key = |w: &str| PieceKey {
            text: w.to_owned(),
            spans: vec![(w.len(), 0, Face::Normal, None)],
            continuations: Vec::new(),
        };
        let held = |w: &str| cache.newer.contains_key(&key(w)) || cache.older.contains_key(&key(w));
        assert!(held(words.last().unwrap()));
        assert!(!held(&words[0]));
    }
}
