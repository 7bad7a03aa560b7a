//! Which rows of a frame are the last frame's rows, moved.
//!
//! When nvim scrolls a window, most of the window's pixels are the last
//! frame's, some rows up or down. A presenter that keeps the last frame
//! in the buffer the display reads (the shared-memory one, see `present`)
//! can move them there: one memory move, where reading them back from the
//! target costs a copy out of it and another into the buffer. This module
//! finds those rows from where each layer's texture rows were copied to
//! the screen in the last frame and in this one.

use super::geometry::Copy;
use crate::model::GridId;

/// Where one layer's texture was copied to the screen in one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub grid: GridId,
    /// Which texture it was: a new texture holds nothing of the old one.
    pub texture: u64,
    pub copies: Vec<Copy>,
    /// The texture's pixel rows drawn this frame, `(top, bottom)`.
    pub redrawn: Vec<(u32, u32)>,
}

/// Rows `rows` of columns `cols` of a frame hold what the last frame held
/// `by` rows lower (higher when negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub cols: (u32, u32),
    pub rows: (u32, u32),
    pub by: i32,
}

/// One frame as far as moving its rows goes.
#[derive(Debug, Clone, Copy)]
pub struct Screen<'a> {
    /// The layers composed by copies, bottom first.
    pub shown: &'a [Shown],
    /// Bands where something else was drawn over them (floats with their
    /// shadows, the message grid, the cursor), `(top, bottom)`.
    pub covered: &'a [(u32, u32)],
}

/// What of a frame's damage is the last frame's pixels.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reuse {
    /// The moves, none overlapping another's columns and rows.
    pub moves: Vec<Move>,
    /// The damaged rows the moves account for (with the rest of each row
    /// as it was): not to be read back.
    pub kept: Vec<(u32, u32)>,
}

impl Reuse {
    /// The rows of `damage` (merged bands) not kept.
    pub fn fresh(&self, damage: &[(u32, u32)]) -> Vec<(u32, u32)> {
        subtract(damage, &self.kept)
    }
}

/// The rows of `bands` outside `minus` (both merged bands).
pub fn subtract(bands: &[(u32, u32)], minus: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut left = Vec::new();
    for &(mut y, bottom) in bands {
        for &(m0, m1) in minus {
            if m1 <= y || bottom <= m0 {
                continue;
            }
            if m0 > y {
                left.push((y, m0));
            }
            y = y.max(m1);
        }
        if y < bottom {
            left.push((y, bottom));
        }
    }
    left
}

/// Which rows of `damage` (merged bands of a `width`-pixel-wide screen)
/// hold what `before` showed, moved or not; `changed` bands hold new
/// pixels (rows drawn again) whatever the layers say.
pub fn plan(before: Screen, now: Screen, changed: &[(u32, u32)], damage: &[(u32, u32)], width: u32) -> Reuse {
    let mut reuse = Reuse::default();
    let (mut filled, mut parts) = (Vec::new(), Vec::new());
    for &(top, bottom) in damage {
        for y in top..bottom {
            if within(changed, y) || within(now.covered, y) {
                continue;
            }
            if row_moves(before, now, y, width, &mut filled, &mut parts).is_none() {
                continue;
            }
            match reuse.kept.last_mut() {
                Some(band) if band.1 == y => band.1 = y + 1,
                _ => reuse.kept.push((y, y + 1)),
            }
            for &(cols, by) in &parts {
                let open =
                    reuse.moves.iter_mut().rev().find(|m| m.cols == cols && m.by == by && m.rows.1 == y);
                match open {
                    Some(m) => m.rows.1 = y + 1,
                    None => reuse.moves.push(Move { cols, rows: (y, y + 1), by }),
                }
            }
        }
    }
    reuse
}

/// How row `y` of `now` is made from `before`: into `moves`, the columns
/// that moved and by how much (the rest of the row stays). `None` when
/// some pixel of it is new: a texture row drawn again, one not shown
/// before, one that was under something else, or no layer there.
/// `filled` is room for the columns the layers cover.
fn row_moves(
    before: Screen,
    now: Screen,
    y: u32,
    width: u32,
    filled: &mut Vec<(u32, u32)>,
    moves: &mut Vec<((u32, u32), i32)>,
) -> Option<()> {
    filled.clear();
    moves.clear();
    for layer in now.shown {
        for copy in layer.copies.iter().filter(|c| (c.dst[1]..c.dst[1] + c.size[1]).contains(&y)) {
            let row = copy.src[1] + (y - copy.dst[1]);
            if within(&layer.redrawn, row) {
                return None;
            }
            let old = before.shown.iter().find(|b| b.grid == layer.grid && b.texture == layer.texture)?;
            let was = old.copies.iter().find_map(|o| {
                let same_columns =
                    (o.src[0], o.dst[0], o.size[0]) == (copy.src[0], copy.dst[0], copy.size[0]);
                (same_columns && (o.src[1]..o.src[1] + o.size[1]).contains(&row))
                    .then(|| o.dst[1] + (row - o.src[1]))
            })?;
            if within(before.covered, was) {
                return None;
            }
            let cols = (copy.dst[0], copy.dst[0] + copy.size[0]);
            filled.push(cols);
            if was != y {
                moves.push((cols, i32::try_from(i64::from(was) - i64::from(y)).ok()?));
            }
        }
    }
    // Pixels no layer was copied to show what is under the layers.
    filled.sort_unstable();
    let reach = filled.iter().try_fold(0, |reach, &(x0, x1)| (x0 <= reach).then_some(reach.max(x1)));
    (reach >= Some(width)).then_some(())
}

/// `moves` (listed top first, as `plan` lists them) in an order in which
/// making them one after another in the same pixels reads every row before
/// a move writes it: those taking rows from below top first, those taking
/// rows from above bottom first. A scroll's move cut in two by the cursor's
/// rows reads, in its lower part, rows its upper part writes.
pub fn in_place_order(moves: &[Move]) -> impl Iterator<Item = &Move> {
    moves.iter().filter(|m| m.by > 0).chain(moves.iter().rev().filter(|m| m.by < 0))
}

fn within(bands: &[(u32, u32)], y: u32) -> bool {
    bands.iter().any(|&(a, b)| a <= y && y < b)
}

/// `moves` made in `pixels`, rows of `stride` pixels holding the last
/// frame: each takes the pixels from where the last frame had them.
pub fn apply(moves: &[Move], pixels: &mut [u32], stride: usize) {
    for m in in_place_order(moves) {
        let (x0, x1) = (m.cols.0 as usize, m.cols.1 as usize);
        let copy_row = |pixels: &mut [u32], y: u32| {
            let from = (i64::from(y) + i64::from(m.by)) as usize * stride;
            let to = y as usize * stride;
            pixels.copy_within(from + x0..from + x1, to + x0);
        };
        // Rows taken from below are copied top first, so none is
        // overwritten before it is read; from above, bottom first.
        if m.by > 0 {
            (m.rows.0..m.rows.1).for_each(|y| copy_row(pixels, y));
        } else {
            (m.rows.0..m.rows.1).rev().for_each(|y| copy_row(pixels, y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(src_y: u32, dst_y: u32, rows: u32, x: (u32, u32)) -> Copy {
        Copy { src: [0, src_y], dst: [x.0, dst_y], size: [x.1 - x.0, rows] }
    }

    fn shown(grid: GridId, copies: Vec<Copy>, redrawn: Vec<(u32, u32)>) -> Shown {
        Shown { grid, texture: grid, copies, redrawn }
    }

    /// A 10-row texture in a ring shown on rows 0..100 (10 px a row), the
    /// ring turned by one row: texture rows 10.. now show at the top.
    fn turned() -> (Vec<Shown>, Vec<Shown>) {
        let before = vec![shown(1, vec![copy(0, 0, 100, (0, 50))], vec![])];
        let now = vec![shown(1, vec![copy(10, 0, 90, (0, 50)), copy(0, 90, 10, (0, 50))], vec![(0, 10)])];
        (before, now)
    }

    #[test]
    fn a_turned_ring_moves_all_but_the_row_that_entered() {
        let (before, now) = turned();
        let b = Screen { shown: &before, covered: &[] };
        let n = Screen { shown: &now, covered: &[] };
        let reuse = plan(b, n, &[], &[(0, 100)], 50);
        assert_eq!(reuse.moves, [Move { cols: (0, 50), rows: (0, 90), by: 10 }]);
        assert_eq!(reuse.kept, [(0, 90)]);
    }

    #[test]
    fn rows_under_something_else_in_either_frame_are_not_moved() {
        let (before, now) = turned();
        // The old cursor on rows 40..50: new rows 30..40 took them.
        let b = Screen { shown: &before, covered: &[(40, 50)] };
        // A float on rows 60..70 now.
        let n = Screen { shown: &now, covered: &[(60, 70)] };
        let reuse = plan(b, n, &[(0, 5)], &[(0, 100)], 50);
        assert_eq!(reuse.kept, [(5, 30), (40, 60), (70, 90)]);
    }

    #[test]
    fn a_new_texture_or_columns_no_layer_covers_are_read_back() {
        let (before, mut now) = turned();
        let b = Screen { shown: &before, covered: &[] };
        let wider = plan(b, Screen { shown: &now, covered: &[] }, &[], &[(0, 100)], 60);
        assert_eq!(wider, Reuse::default());
        now[0].texture = 7;
        let new = plan(b, Screen { shown: &now, covered: &[] }, &[], &[(0, 100)], 50);
        assert_eq!(new, Reuse::default());
    }

    #[test]
    fn a_still_layer_beside_a_moving_one_keeps_its_pixels() {
        let (mut before, mut now) = turned();
        before.insert(0, shown(2, vec![copy(0, 0, 100, (0, 80))], vec![]));
        now.insert(0, shown(2, vec![copy(0, 0, 100, (0, 80))], vec![(20, 30)]));
        before.push(shown(3, vec![copy(0, 0, 100, (50, 80))], vec![]));
        now.push(shown(3, vec![copy(0, 0, 100, (50, 80))], vec![]));
        let b = Screen { shown: &before, covered: &[] };
        let n = Screen { shown: &now, covered: &[] };
        let reuse = plan(b, n, &[], &[(0, 100)], 80);
        // Layer 2's row 20..30 was drawn again (under the others here).
        assert_eq!(reuse.kept, [(0, 20), (30, 90)]);
        assert_eq!(
            reuse.moves,
            [Move { cols: (0, 50), rows: (0, 20), by: 10 }, Move { cols: (0, 50), rows: (30, 90), by: 10 }]
        );
    }

    #[test]
    fn moves_read_every_row_before_writing_over_it() {
        // 1 pixel wide, rows 0..6 hold 0..6.
        let last: Vec<u32> = (0..6).collect();
        let mut up = last.clone();
        apply(&[Move { cols: (0, 1), rows: (0, 4), by: 2 }], &mut up, 1);
        assert_eq!(up, [2, 3, 4, 5, 4, 5]);
        let mut down = last;
        apply(&[Move { cols: (0, 1), rows: (2, 6), by: -2 }], &mut down, 1);
        assert_eq!(down, [0, 1, 0, 1, 2, 3]);
    }
}
