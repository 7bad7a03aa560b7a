//! Which columns of a layer's texture row change when a grid row is drawn
//! over the one the texture row holds. A key typed changes a cell or two
//! and the ruler's few; on a CPU adapter every pixel a pass covers is
//! shaded on the CPU, so a layer draws its changed rows only inside the
//! columns this finds (a scissor), and the rest of each row keeps its
//! pixels, which are the ones drawing it whole would make again.
//!
//! What a texture row's pixels depend on, by column:
//! - a cell's background, decorations and box drawing: the cell, and for
//!   box drawing whether the next cell is a double-width continuation;
//! - glyphs: the glyphs of the pieces the row is shaped in (see `text`).
//!   A glyph can reach past its cell, and a piece is shaped as a unit (a
//!   ligature spans cells): so the glyphs of pieces that are not the very
//!   same shaped piece at the same place are compared, and a glyph drawn
//!   in one row and not in the other (its image, place and colour) counts
//!   where its image puts ink. Typing at the end of a word changes the
//!   word's piece but only the new glyph.
//!
//! Everything else a row is drawn with (highlights, colours, fonts,
//! opacity, a blended float's mixed colours) redraws whole rows when it
//! changes, before this is asked.

use std::sync::Arc;

use super::text::{DrawnGlyph, Piece, ShapedRow};
use crate::model::Row;

/// The columns of pixels `(x0, x1)` in which drawing `new`, shaped as
/// `new_text`, over a texture row that holds `old`, shaped as `old_text`,
/// changes pixels; `None` when it changes none. The first `cols` cells
/// are drawn, `cell_width` pixels each. `glyphs` adds the glyphs of a
/// piece drawn at an x to a list (see `ShapeCache::glyphs`); `scratch`
/// holds the two lists, kept between calls.
pub fn changed(
    (old, old_text): (&Row, &ShapedRow),
    (new, new_text): (&Row, &ShapedRow),
    cols: usize,
    cell_width: u32,
    scratch: &mut [Vec<DrawnGlyph>; 2],
    mut glyphs: impl FnMut(f32, &Piece, &mut Vec<DrawnGlyph>),
) -> Option<(u32, u32)> {
    let cw = i64::from(cell_width);
    let px = |col: usize| i64::try_from(col).unwrap_or(i64::MAX).saturating_mul(cw);
    let whole = (0, px(cols));
    let mut span: Option<(i64, i64)> = None;
    let mut add = |(a, b): (i64, i64)| span = Some(span.map_or((a, b), |(x0, x1)| (x0.min(a), x1.max(b))));
    if old.cells.len() != new.cells.len() {
        add(whole);
    } else {
        let cols = cols.min(new.cells.len());
        let differs = |c: &usize| old.cells[*c] != new.cells[*c];
        if let (Some(first), Some(last)) = ((0..cols).find(differs), (0..cols).rfind(differs)) {
            // The cell left of a changed one draws a wide box-drawing
            // character over it when it becomes a continuation.
            add((px(first.saturating_sub(1)), px(last + 1)));
        }
    }
    let [gone, came] = scratch;
    for (text, other, out) in [(old_text, new_text, &mut *gone), (new_text, old_text, &mut *came)] {
        out.clear();
        for (x, piece) in &text.pieces {
            if !holds(other, *x, piece) {
                glyphs(*x, piece, out);
            }
        }
        out.sort_unstable();
    }
    // The glyphs drawn in one row and not in the other (both sorted).
    let (mut i, mut j) = (0, 0);
    while i < gone.len() || j < came.len() {
        let ink = match (gone.get(i), came.get(j)) {
            (Some(a), Some(b)) if a == b => {
                (i, j) = (i + 1, j + 1);
                continue;
            }
            (Some(a), Some(b)) if a < b => {
                i += 1;
                a.ink
            }
            (Some(a), None) => {
                i += 1;
                a.ink
            }
            (_, Some(b)) => {
                j += 1;
                b.ink
            }
            (None, None) => break,
        };
        add((i64::from(ink.0), i64::from(ink.1)));
    }
    let (x0, x1) = span?;
    let clamp = |x: i64| u32::try_from(x.clamp(0, whole.1)).unwrap_or(u32::MAX);
    Some((clamp(x0), clamp(x1))).filter(|(x0, x1)| x1 > x0)
}

/// Whether `text` has the very same shaped `piece` at `x` (pieces are
/// kept in order of their place).
fn holds(text: &ShapedRow, x: f32, piece: &Arc<Piece>) -> bool {
    text.pieces
        .binary_search_by(|(at, _)| at.total_cmp(&x))
        .is_ok_and(|i| Arc::ptr_eq(&text.pieces[i].1, piece))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;

    fn row(text: &str) -> Row {
        let cells = text
            .chars()
            .map(|c| match c {
                '_' => Cell { text: "".into(), hl: 0 },
                c => Cell { text: c.to_string().into(), hl: 0 },
            })
            .collect();
        Row { cells, wrap: false }
    }

    fn piece() -> Arc<Piece> {
        Arc::new(Piece::new(Vec::new()))
    }

    /// `changed` for rows `old` and `new` (as `row` reads them) shaped
    /// as given, cells 10 px wide.
    fn changed_px(
        (old, old_text): (&str, &ShapedRow),
        (new, new_text): (&str, &ShapedRow),
        cols: usize,
        glyphs: impl FnMut(f32, &Piece, &mut Vec<DrawnGlyph>),
    ) -> Option<(u32, u32)> {
        let mut scratch = Default::default();
        changed((&row(old), old_text), (&row(new), new_text), cols, 10, &mut scratch, glyphs)
    }

    /// Each piece's glyphs: one covering `width` pixels from its x.
    fn inked(width: i32) -> impl FnMut(f32, &Piece, &mut Vec<DrawnGlyph>) {
        move |x, _, out| out.push(DrawnGlyph::stand_in((x as i32, x as i32 + width), 0))
    }

    #[test]
    fn only_the_changed_cells_and_their_left_neighbour_change_without_new_glyphs() {
        let text = ShapedRow { pieces: vec![(0.0, piece())] };
        let span = changed_px(("abcdef", &text), ("abXdef", &text), 6, inked(60));
        assert_eq!(span, Some((10, 30)));
        let span = changed_px(("abcdef", &text), ("Xbcdef", &text), 6, inked(60));
        assert_eq!(span, Some((0, 10)));
        // Two changes far apart: everything between them too.
        let span = changed_px(("abcdef", &text), ("aXcdeY", &text), 6, inked(60));
        assert_eq!(span, Some((0, 60)));
        // A double-width cell's continuation changes its left neighbour.
        let span = changed_px(("ab--ef", &text), ("ab-_ef", &text), 6, inked(60));
        assert_eq!(span, Some((20, 40)));
    }

    #[test]
    fn a_piece_shaped_anew_counts_where_its_changed_glyphs_reach() {
        let (kept, old, new) = (piece(), piece(), piece());
        let before = ShapedRow { pieces: vec![(0.0, kept.clone()), (40.0, old.clone())] };
        let after = ShapedRow { pieces: vec![(0.0, kept.clone()), (40.0, new.clone())] };
        // The piece at 40 had two glyphs, the second reaching 5 px past its
        // cell; now its first glyph is the same and its second another.
        let mut looked_at = Vec::new();
        let glyphs = |x: f32, piece: &Piece, out: &mut Vec<DrawnGlyph>| {
            looked_at.push(x);
            let second = if std::ptr::eq(piece, &*old) { 1 } else { 2 };
            out.push(DrawnGlyph::stand_in((41, 49), 7));
            out.push(DrawnGlyph::stand_in((51, 65), second));
        };
        let span = changed_px(("ab  cd  ", &before), ("ab  cX  ", &after), 8, glyphs);
        assert_eq!(
            span,
            Some((40, 65)),
            "the changed cell and its left neighbour, and the glyphs that changed"
        );
        assert_eq!(looked_at, [40.0, 40.0], "the kept piece is not looked at");
        // A glyph that moved counts at both places.
        let moved = ShapedRow { pieces: vec![(10.0, kept.clone())] };
        let at_0 = ShapedRow { pieces: vec![(0.0, kept)] };
        let glyphs = |x: f32, _: &Piece, out: &mut Vec<DrawnGlyph>| {
            out.push(DrawnGlyph::stand_in((x as i32 + 1, x as i32 + 9), 3));
        };
        let span = changed_px((" a  ", &moved), ("a   ", &at_0), 4, glyphs);
        assert_eq!(span, Some((0, 20)));
    }

    #[test]
    fn nothing_changes_for_the_same_row_and_a_new_width_changes_all() {
        let text = ShapedRow { pieces: vec![(0.0, piece())] };
        assert_eq!(changed_px(("abc", &text), ("abc", &text), 3, inked(30)), None);
        let span = changed_px(("abc", &text), ("abcd", &text), 4, inked(30));
        assert_eq!(span, Some((0, 40)));
        // Ink past the row's ends is cut to the drawn columns.
        let shifted = ShapedRow { pieces: vec![(10.0, piece())] };
        let span = changed_px(("abc", &text), ("abc", &shifted), 3, |x, _, out| {
            out.push(DrawnGlyph::stand_in((x as i32 - 15, x as i32 + 40), 0))
        });
        assert_eq!(span, Some((0, 30)));
    }
}
