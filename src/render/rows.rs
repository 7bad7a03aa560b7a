//! The shown frame in a buffer whose rows need not be in screen order.
//!
//! A presenter that keeps the last frame in the buffer the display reads
//! moves the rows a scroll moved there (see `reuse`): with rows in screen
//! order that is a `memmove` of most of the window for every scrolled
//! line. Where the display takes each band of rows from anywhere in the
//! buffer (X11's `ShmPutImage` has a source rectangle), the rows can be
//! renamed instead of moved: [`Rows`] says which buffer row holds each
//! screen row, and a scroll changes the names, not the pixels.
//!
//! ```text
//!   screen row   buffer row           after <C-e> (one 3-row line)
//!    0 ..  3  ->   0 ..  3    line 1     0 .. 24 ->  3 .. 27   lines 2-9
//!    3 .. 27  ->   3 .. 27    lines 2-9 24 .. 27 ->  0 ..  3   line 10, drawn
//!   27 .. 30  ->  27 .. 30    status    27 .. 30 -> 27 .. 30   status
//! ```
//!
//! The line that left the screen gives its buffer rows to the line that
//! entered it. Only the columns a move leaves out (those right of the last
//! cell, another window beside it) are copied.

use super::reuse::{self, Move};

/// Which buffer row holds each screen row.
#[derive(Debug, Clone)]
pub struct Rows {
    /// Screen row -> buffer row: a permutation.
    at: Vec<u32>,
    /// `at` before this frame's moves.
    before: Vec<u32>,
    /// Buffer row -> the screen row holding it (`NOBODY`).
    holder: Vec<u32>,
    /// Screen rows that lost their buffer row to a moved one.
    homeless: Vec<u32>,
}

const NOBODY: u32 = u32::MAX;

impl Rows {
    /// `height` rows, each in its own place.
    pub fn new(height: u32) -> Rows {
        Rows { at: (0..height).collect(), before: Vec::new(), holder: Vec::new(), homeless: Vec::new() }
    }

    /// The buffer row holding screen row `y`.
    pub fn at(&self, y: u32) -> u32 {
        self.at[y as usize]
    }

    /// Screen row `y` of `pixels` (rows of `stride` pixels).
    pub fn row<'p>(&self, pixels: &'p [u32], stride: usize, y: u32) -> &'p [u32] {
        let start = self.at(y) as usize * stride;
        &pixels[start..start + stride]
    }

    /// Screen row `y` of `pixels`, to write.
    pub fn row_mut<'p>(&self, pixels: &'p mut [u32], stride: usize, y: u32) -> &'p mut [u32] {
        let start = self.at(y) as usize * stride;
        &mut pixels[start..start + stride]
    }

    /// Makes `moves` (in the last frame's pixels, rows of `stride`, the
    /// first `width` pixels of each drawn): what `reuse::apply` does in a
    /// buffer in screen order. `fresh` bands are drawn whole after this,
    /// so what their rows hold does not matter.
    ///
    /// A move wider than half the screen renames its rows and copies the
    /// columns it leaves out from where each row was; narrower ones copy
    /// their columns. Renaming is skipped (every move copies) where it
    /// would not be exact: a row kept as it was (or a narrow move's) that
    /// a move takes its pixels from, or a move taking its pixels from the
    /// rows of another in the same columns.
    pub fn apply(
        &mut self,
        moves: &[Move],
        fresh: &[(u32, u32)],
        pixels: &mut [u32],
        stride: usize,
        width: u32,
    ) {
        // Wider than half: no two share a row.
        let wide = |m: &Move| 2 * (m.cols.1 - m.cols.0) > width;
        if moves.iter().any(wide) && self.rename(moves, fresh, wide) {
            // The narrow moves first, where the rows were: the columns
            // a wide move leaves out (theirs among them) go with its rows.
            for m in reuse::in_place_order(moves).filter(|m| !wide(m)) {
                copy(m, &self.before, pixels, stride);
            }
            for m in moves.iter().filter(|m| wide(m)) {
                self.keep_left_out(m, pixels, stride, width);
            }
            self.house_homeless();
        } else {
            reuse::in_place_order(moves).for_each(|m| copy(m, &self.at, pixels, stride));
        }
    }

    /// The screen rows of `bands` in runs held by consecutive buffer rows,
    /// each as `(screen row, buffer row, rows)`.
    pub fn runs(&self, bands: &[(u32, u32)], mut each: impl FnMut(u32, u32, u32)) {
        for &(top, bottom) in bands {
            let mut y = top;
            while y < bottom {
                let start = y;
                y += 1;
                while y < bottom && self.at(y) == self.at(y - 1) + 1 {
                    y += 1;
                }
                each(start, self.at(start), y - start);
            }
        }
    }

    /// Renames the rows of the wide moves; false (nothing renamed) where
    /// that would not be exact.
    fn rename(&mut self, moves: &[Move], fresh: &[(u32, u32)], wide: impl Fn(&Move) -> bool) -> bool {
        let source = |m: &Move| (shift(m.rows.0, m.by), shift(m.rows.1, m.by));
        let overlap = |a: (u32, u32), b: (u32, u32)| a.0 < b.1 && b.0 < a.1;
        let crossed = moves.iter().any(|m| {
            moves.iter().any(|o| !std::ptr::eq(m, o) && overlap(m.cols, o.cols) && overlap(source(m), o.rows))
        });
        if crossed {
            return false;
        }
        self.before.clone_from(&self.at);
        for m in moves.iter().filter(|m| wide(m)) {
            for y in m.rows.0..m.rows.1 {
                self.at[y as usize] = self.before[shift(y, m.by) as usize];
            }
        }
        // A moved row holds its buffer row; a row not moved whose buffer
        // row a moved one took must be one drawn whole.
        let height = self.at.len();
        self.holder.clear();
        self.holder.resize(height, NOBODY);
        self.homeless.clear();
        let Rows { at, before, holder, homeless } = self;
        for y in (0..height).filter(|&y| at[y] != before[y]) {
            holder[at[y] as usize] = y as u32;
        }
        let mut exact = true;
        for y in (0..height).filter(|&y| at[y] == before[y]) {
            let held = &mut holder[at[y] as usize];
            if *held == NOBODY {
                *held = y as u32;
            } else {
                exact &= fresh.iter().any(|&(a, b)| a <= y as u32 && (y as u32) < b);
                homeless.push(y as u32);
            }
        }
        if !exact {
            self.at.clone_from(&self.before);
        }
        exact
    }

    /// The columns wide move `m` leaves out, taken from where each of its
    /// rows was. Each row is read before anything is written into it: a
    /// row's old buffer row is the new one of the row `m.by` above.
    fn keep_left_out(&self, m: &Move, pixels: &mut [u32], stride: usize, width: u32) {
        let width = width as usize;
        let (x0, x1) = (m.cols.0 as usize, (m.cols.1 as usize).min(width));
        let restore = |pixels: &mut [u32], y: u32| {
            let from = self.before[y as usize] as usize * stride;
            let to = self.at[y as usize] as usize * stride;
            pixels.copy_within(from..from + x0, to);
            pixels.copy_within(from + x1..from + width, to + x1);
        };
        if m.by > 0 {
            (m.rows.0..m.rows.1).rev().for_each(|y| restore(pixels, y));
        } else {
            (m.rows.0..m.rows.1).for_each(|y| restore(pixels, y));
        }
    }

    /// The rows that lost their buffer row get one nobody holds: as many
    /// are free as rows lost theirs.
    fn house_homeless(&mut self) {
        let mut free = 0;
        for &y in &self.homeless {
            while self.holder[free] != NOBODY {
                free += 1;
            }
            self.holder[free] = y;
            self.at[y as usize] = free as u32;
        }
    }
}

/// Move `m` made by copying its columns, as `reuse::apply` does, in
/// rows placed by `at`.
fn copy(m: &Move, at: &[u32], pixels: &mut [u32], stride: usize) {
    let (x0, x1) = (m.cols.0 as usize, m.cols.1 as usize);
    let copy_row = |pixels: &mut [u32], y: u32| {
        let from = at[shift(y, m.by) as usize] as usize * stride;
        let to = at[y as usize] as usize * stride;
        pixels.copy_within(from + x0..from + x1, to + x0);
    };
    if m.by > 0 {
        (m.rows.0..m.rows.1).for_each(|y| copy_row(pixels, y));
    } else {
        (m.rows.0..m.rows.1).rev().for_each(|y| copy_row(pixels, y));
    }
}

fn shift(y: u32, by: i32) -> u32 {
    (i64::from(y) + i64::from(by)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const W: usize = 10;

    /// A frame whose every pixel says where it was: row * 100 + column.
    fn frame(height: u32) -> Vec<u32> {
        (0..height * W as u32).map(|i| i / W as u32 * 100 + i % W as u32).collect()
    }

    /// The screen as `rows` shows `pixels`, fresh rows blanked.
    fn screen(rows: &Rows, pixels: &[u32], fresh: &[(u32, u32)]) -> Vec<u32> {
        let height = rows.at.len() as u32;
        (0..height)
            .flat_map(|y| {
                let blank = fresh.iter().any(|&(a, b)| a <= y && y < b);
                let start = rows.at(y) as usize * W;
                pixels[start..start + W].iter().map(move |&p| if blank { 0 } else { p })
            })
            .collect()
    }

    fn moved_in_order(height: u32, moves: &[Move], fresh: &[(u32, u32)]) -> Vec<u32> {
        let mut pixels = frame(height);
        reuse::apply(moves, &mut pixels, W);
        screen(&Rows::new(height), &pixels, fresh)
    }

    fn scroll(rows: (u32, u32), by: i32) -> Move {
        Move { cols: (0, 8), rows, by }
    }

    #[test]
    fn a_scrolled_line_renames_rows_and_copies_only_the_columns_left_out() {
        // Rows 0..27 scroll up by a 3-row line; 24..27 are drawn; 27..30 stay.
        let moves = [scroll((0, 24), 3)];
        let fresh = [(24, 27)];
        let mut rows = Rows::new(30);
        let mut pixels = frame(30);
        rows.apply(&moves, &fresh, &mut pixels, W, W as u32);
        assert_eq!(screen(&rows, &pixels, &fresh), moved_in_order(30, &moves, &fresh));
        // The scrolled rows kept their pixels where they were.
        assert_eq!((0..24).map(|y| rows.at(y)).collect::<Vec<_>>(), (3..27).collect::<Vec<_>>());
        assert_eq!((24..27).map(|y| rows.at(y)).collect::<Vec<_>>(), vec![0, 1, 2]);
        let mut runs = Vec::new();
        rows.runs(&[(0, 30)], |y, at, n| runs.push((y, at, n)));
        assert_eq!(runs, vec![(0, 3, 24), (24, 0, 3), (27, 27, 3)]);
    }

    #[test]
    fn a_row_kept_as_it_was_that_a_move_reads_is_copied_not_renamed() {
        // Row 24..27 stays (not fresh) and rows 21..24 take its pixels.
        let moves = [scroll((0, 24), 3)];
        let mut rows = Rows::new(30);
        let mut pixels = frame(30);
        rows.apply(&moves, &[], &mut pixels, W, W as u32);
        assert_eq!(screen(&rows, &pixels, &[]), moved_in_order(30, &moves, &[]));
        assert!((0..30).all(|y| rows.at(y) == y), "nothing renamed");
    }

    /// Moves as `reuse::plan` makes them: windows side by side or one
    /// above another, each scrolled by its own amount, the rows that
    /// entered drawn, and a window's moved rows maybe cut in two by rows
    /// drawn again (the cursor's).
    fn windows() -> impl Strategy<Value = (u32, Vec<Move>, Vec<(u32, u32)>)> {
        let window = (1u32..4, 2u32..12, 1u32..W as u32, -4i32..5, any::<Option<(u8, u8)>>());
        (prop::collection::vec(window, 1..4), any::<bool>()).prop_map(|(windows, beside)| {
            let mut moves = Vec::new();
            let mut fresh = Vec::new();
            let (mut top, mut left) = (0, 0);
            let mut height = 0;
            for (gap, rows, cols, by, cut) in windows {
                let (y0, y1) = (top + gap, top + gap + rows);
                let (x0, x1) = if beside { (left, (left + cols).min(W as u32)) } else { (0, cols) };
                height = height.max(y1 + gap);
                if beside {
                    left = x1;
                } else {
                    top = y1;
                }
                if x0 >= x1 || by == 0 || by.unsigned_abs() >= rows {
                    continue;
                }
                // Scrolled up: the bottom `by` rows are new; down: the top.
                let (kept, new) = if by > 0 {
                    ((y0, y1 - by as u32), (y1 - by as u32, y1))
                } else {
                    ((y0 + by.unsigned_abs(), y1), (y0, y0 + by.unsigned_abs()))
                };
                fresh.push(new);
                match cut.map(|(at, n)| (kept.0 + u32::from(at) % (kept.1 - kept.0), u32::from(n % 3) + 1)) {
                    Some((at, n)) if at > kept.0 && at + n < kept.1 => {
                        moves.push(Move { cols: (x0, x1), rows: (kept.0, at), by });
                        moves.push(Move { cols: (x0, x1), rows: (at + n, kept.1), by });
                        fresh.push((at, at + n));
                    }
                    _ => moves.push(Move { cols: (x0, x1), rows: kept, by }),
                }
            }
            fresh.sort_unstable();
            (height, moves, fresh)
        })
    }

    /// Each move's rows take what the frame held where they came from, all
    /// read before any is written.
    fn moved_at_once(moves: &[Move], pixels: &mut [u32]) {
        let old = pixels.to_vec();
        for m in moves {
            for y in m.rows.0..m.rows.1 {
                let from = (i64::from(y) + i64::from(m.by)) as usize * W;
                for x in m.cols.0 as usize..m.cols.1 as usize {
                    pixels[y as usize * W + x] = old[from + x];
                }
            }
        }
    }

    proptest! {
        #[test]
        fn frames_of_moves_show_what_moving_the_pixels_at_once_shows(
            frames in prop::collection::vec(windows(), 1..8)
        ) {
            let height = frames.iter().map(|f| f.0).max().unwrap();
            let mut rows = Rows::new(height);
            let mut pixels = frame(height);
            let mut expected = frame(height);
            for (stamp, (_, moves, fresh)) in frames.iter().enumerate() {
                rows.apply(moves, fresh, &mut pixels, W, W as u32);
                let mut in_order = expected.clone();
                reuse::apply(moves, &mut in_order, W);
                moved_at_once(moves, &mut expected);
                prop_assert_eq!(&in_order, &expected, "reuse::apply");
                // The fresh rows drawn, the same in both.
                for &(a, b) in fresh {
                    for y in a..b {
                        let new: Vec<u32> = (0..W as u32).map(|x| 1_000_000 * (stamp as u32 + 1) + y * 100 + x).collect();
                        rows.row_mut(&mut pixels, W, y).copy_from_slice(&new);
                        expected[y as usize * W..][..W].copy_from_slice(&new);
                    }
                }
                prop_assert_eq!(screen(&rows, &pixels, &[]), screen(&Rows::new(height), &expected, &[]));
                let mut held: Vec<u32> = rows.at.clone();
                held.sort_unstable();
                prop_assert_eq!(held, (0..height).collect::<Vec<_>>());
            }
        }
    }
}
