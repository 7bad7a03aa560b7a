//! Shaping one grid row into glyph buffers that sit exactly on the cell grid.
//!
//! A row is shaped as one buffer with a span per highlight run, so
//! ligatures form inside a run (and never across highlights). cosmic-text
//! rounds monospace advances to the cell width; afterwards every glyph is
//! checked against the column it belongs to. If any glyph is off (a
//! fallback font with other advances, an odd cluster), the row is shaped
//! again cell by cell, each cell placed at exactly column × cell width, so
//! nothing ever shifts the rest of the row.

use glyphon::{Attrs, Buffer, Color, Metrics, Shaping};

use super::boxdraw;
use super::font::{CellMetrics, Fonts};
use super::geometry::Mixed;
use crate::model::{Cell, DefaultColors, HlTable, Row};

/// A shaped row: buffers and the x offset (pixels) each is drawn at.
pub struct ShapedRow {
    pub buffers: Vec<(f32, Buffer)>,
}

struct Cluster {
    byte: usize,
    col: usize,
    text_len: usize,
}

/// Shapes `row` for drawing. Blank cells and box-drawing characters (drawn
/// as geometry) contribute no glyphs.
pub fn shape_row(fonts: &mut Fonts, row: &Row, hl: &HlTable, defaults: &DefaultColors) -> ShapedRow {
    shape_row_mixed(fonts, row, hl, defaults, &[])
}

/// Like [`shape_row`], with a blended float's `mixed` text colours by
/// column (see `geometry::mix_row`; empty for none).
pub fn shape_row_mixed(
    fonts: &mut Fonts,
    row: &Row,
    hl: &HlTable,
    defaults: &DefaultColors,
    mixed: &[Option<Mixed>],
) -> ShapedRow {
    let fg_of = |col: usize| mixed.get(col).copied().flatten().map(|m| m.fg);
    let m = fonts.metrics();
    let drawn = |cell: &Cell| {
        !cell.is_continuation() && !boxdraw::is_geometry(&cell.text) && !cell.text.trim().is_empty()
    };
    // Blank cells before the first glyph and after the last are not
    // shaped (on a wide window most of a row): the row is shaped from its
    // first glyph on and drawn that far in.
    let Some(first) = row.cells.iter().position(drawn) else {
        return ShapedRow { buffers: Vec::new() };
    };
    let last = row.cells.iter().rposition(drawn).unwrap_or(first);
    let mut text = String::with_capacity(last + 1 - first);
    let mut clusters: Vec<Cluster> = Vec::with_capacity(last + 1 - first);
    // (byte range, hl id, face, mixed colour) per span.
    let mut spans: Vec<(std::ops::Range<usize>, u32, Face, Option<u32>)> = Vec::new();
    for (col, cell) in row.cells.iter().enumerate().take(last + 1).skip(first) {
        if cell.is_continuation() {
            continue;
        }
        let piece: &str = if drawn(cell) { &cell.text } else { " " };
        let face = face_of(row, col);
        let start = text.len();
        text.push_str(piece);
        clusters.push(Cluster { byte: start, col, text_len: piece.len() });
        let fg = fg_of(col);
        match spans.last_mut() {
            Some((range, id, f, c)) if *id == cell.hl && *f == face && face == Face::Normal && *c == fg => {
                range.end = text.len()
            }
            _ => spans.push((start..text.len(), cell.hl, face, fg)),
        }
    }
    let mut buffer = new_buffer(fonts, m);
    {
        let fonts: &Fonts = fonts;
        let spans_attrs = spans
            .iter()
            .map(|(r, id, face, fg)| (&text[r.clone()], attrs_of(fonts, hl, defaults, *id, *face, *fg)));
        buffer.set_rich_text(spans_attrs, &fonts.attrs(false, false), Shaping::Advanced, None);
    }
    buffer.shape_until_scroll(&mut fonts.system, false);
    if on_grid(&buffer, &clusters, first, m) {
        return ShapedRow { buffers: vec![((first as u32 * m.width) as f32, buffer)] };
    }
    // Cell by cell: each glyph cluster at its own column.
    let mut buffers = Vec::new();
    for cluster in &clusters {
        let piece = &text[cluster.byte..cluster.byte + cluster.text_len];
        if piece == " " {
            continue;
        }
        let cell = &row.cells[cluster.col];
        let mut b = new_buffer(fonts, m);
        let face = face_of(row, cluster.col);
        let attrs = attrs_of(fonts, hl, defaults, cell.hl, face, fg_of(cluster.col));
        b.set_text(piece, &attrs, Shaping::Advanced, None);
        b.shape_until_scroll(&mut fonts.system, false);
        buffers.push(((cluster.col as u32 * m.width) as f32, b));
    }
    ShapedRow { buffers }
}

fn new_buffer(fonts: &mut Fonts, m: CellMetrics) -> Buffer {
    let mut buffer = Buffer::new(&mut fonts.system, Metrics::new(m.font_px, m.height as f32));
    buffer.set_monospace_width(Some(m.width as f32));
    buffer.set_size(None, Some(m.height as f32));
    buffer
}

/// True when every glyph starts exactly where its cell does, in a buffer
/// drawn from column `first`.
fn on_grid(buffer: &Buffer, clusters: &[Cluster], first: usize, m: CellMetrics) -> bool {
    let mut runs = buffer.layout_runs();
    let Some(run) = runs.next() else { return true };
    if runs.next().is_some() {
        return false;
    }
    run.glyphs.iter().all(|g| {
        let Ok(i) = clusters.binary_search_by_key(&g.start, |c| c.byte) else { return false };
        let expected = ((clusters[i].col - first) as u32 * m.width) as f32;
        (g.x - expected).abs() < 0.5
    })
}

/// Which font a cell's text wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
