//! Grids of cells with copy-on-write rows and per-row damage.
//!
//! Rows are `Arc`s: a published frame shares every row with the model, and
//! the first write to a shared row copies just that row. Publishing therefore
//! costs in proportion to what changed.

use std::sync::Arc;

use compact_str::CompactString;

use super::event::CellUpdate;

/// One screen cell: a grapheme cluster (empty for the right half of a
/// double-width character) and a highlight id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: CompactString,
    pub hl: u32,
}

impl Cell {
    pub fn blank() -> Self {
        Cell { text: CompactString::const_new(" "), hl: 0 }
    }

    /// True for the right half of a double-width character.
    pub fn is_continuation(&self) -> bool {
        self.text.is_empty()
    }
}

/// One grid row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// The screen line continues on the next row (`grid_line`'s `wrap`).
    pub wrap: bool,
}

impl Row {
    fn blank(width: usize) -> Self {
        Row { cells: vec![Cell::blank(); width], wrap: false }
    }

    fn filled(width: usize, text: &str) -> Self {
        Row { cells: vec![Cell { text: text.into(), hl: 0 }; width], wrap: false }
    }

    /// The row's text with each double-width character once.
    pub fn text(&self) -> String {
        self.cells.iter().map(|c| c.text.as_str()).collect()
    }
}

/// Out-of-range coordinates in an event: the event is dropped, never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} out of range for a {width}x{height} grid")]
pub struct OutOfRange {
    pub what: &'static str,
    pub width: usize,
    pub height: usize,
}

/// A grid and the rows changed since the last publish.
#[derive(Debug, Clone)]
pub struct Grid {
    width: usize,
    height: usize,
    rows: Vec<Arc<Row>>,
    dirty: Vec<bool>,
    /// Set by resize/creation: the whole grid must be treated as new.
    resized: bool,
    /// Text that vacated scroll rows are filled with (tests use a sentinel
    /// to prove nvim refills them before the flush).
    scroll_fill: CompactString,
}

/// Grids larger than this in either dimension are refused as malformed.
pub const MAX_GRID_DIM: usize = 10_000;
/// Grids with more cells than this are refused too: both sides at
/// [`MAX_GRID_DIM`] would be 100 million cells (gigabytes) from one event.
/// Far above any real screen: an 8K display at a 4x8-pixel font is ~1M.
pub const MAX_GRID_CELLS: usize = 1 << 22;

impl Grid {
    pub fn new(width: usize, height: usize) -> Self {
        let mut g = Grid {
            width: 0,
            height: 0,
            rows: Vec::new(),
            dirty: Vec::new(),
            resized: true,
            scroll_fill: CompactString::const_new(" "),
        };
        g.resize(width, height);
        g
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn rows(&self) -> &[Arc<Row>] {
        &self.rows
    }

    pub fn row(&self, row: usize) -> Option<&Row> {
        self.rows.get(row).map(|r| &**r)
    }

    pub fn set_scroll_fill(&mut self, text: &str) {
        self.scroll_fill = text.into();
    }

    /// Resizes, keeping the top-left contents.
    pub fn resize(&mut self, width: usize, height: usize) {
        let (width, height) = (width.min(MAX_GRID_DIM), height.min(MAX_GRID_DIM));
        if width != self.width {
            for row in &mut self.rows {
                Arc::make_mut(row).cells.resize(width, Cell::blank());
            }
        }
        self.rows.resize_with(height, || Arc::new(Row::blank(width)));
        self.width = width;
        self.height = height;
        self.dirty = vec![true; height];
        self.resized = true;
    }

    pub fn clear(&mut self) {
        let blank = Arc::new(Row::blank(self.width));
        self.rows.iter_mut().for_each(|r| *r = blank.clone());
        self.dirty.iter_mut().for_each(|d| *d = true);
    }

    /// Applies one `grid_line`. Writes past the right edge are cut off.
    pub fn put_line(
        &mut self,
        row: usize,
        col_start: usize,
        cells: &[CellUpdate<'_>],
        wrap: bool,
    ) -> Result<(), OutOfRange> {
        if row >= self.height || col_start > self.width {
            return Err(self.out_of_range("grid_line position"));
        }
        let width = self.width;
        let target = Arc::make_mut(&mut self.rows[row]);
        target.wrap = wrap;
        let mut col = col_start;
        let mut hl = 0;
        for update in cells {
            if let Some(id) = update.hl {
                hl = id;
            }
            let repeat = update.repeat.unwrap_or(1) as usize;
            let end = col.saturating_add(repeat).min(width);
            if col < end {
                let cell = Cell { text: CompactString::from(&*update.text), hl };
                target.cells[col..end].fill(cell);
            }
            col = end;
        }
        self.dirty[row] = true;
        Ok(())
    }

    /// `grid_scroll`: moves the region's contents up (`rows > 0`) or down.
    /// The rows it vacates are left to nvim, which redraws them next.
    pub fn scroll(
        &mut self,
        top: usize,
        bot: usize,
        left: usize,
        right: usize,
        rows: i64,
    ) -> Result<(), OutOfRange> {
        if top >= bot || bot > self.height || left >= right || right > self.width {
            return Err(self.out_of_range("grid_scroll region"));
        }
        let height = bot - top;
        let shift = rows.unsigned_abs().min(height as u64) as usize;
        let region = &mut self.rows[top..bot];
        let fill = Row::filled(right - left, &self.scroll_fill);
        if left == 0 && right == self.width {
            // Whole rows move: shuffle the Arcs, copy nothing.
            let fill = Arc::new(Row { cells: fill.cells, wrap: false });
            if rows > 0 {
                region.rotate_left(shift);
                region[height - shift..].iter_mut().for_each(|r| *r = fill.clone());
            } else {
                region.rotate_right(shift);
                region[..shift].iter_mut().for_each(|r| *r = fill.clone());
            }
        } else {
            let order: Vec<usize> =
                if rows > 0 { (0..height).collect() } else { (0..height).rev().collect() };
            for i in order {
                let src = if rows > 0 { i.checked_add(shift) } else { i.checked_sub(shift) };
                let cells = match src.filter(|&s| s < height) {
                    Some(s) => region[s].cells[left..right].to_vec(),
                    None => fill.cells.clone(),
                };
                Arc::make_mut(&mut region[i]).cells[left..right].clone_from_slice(&cells);
            }
        }
        self.dirty[top..bot].iter_mut().for_each(|d| *d = true);
        Ok(())
    }

    /// Rows changed since the last call, and whether the grid was resized.
    pub fn take_damage(&mut self) -> (Vec<usize>, bool) {
        let rows =
            self.dirty.iter_mut().enumerate().filter_map(|(i, d)| std::mem::take(d).then_some(i)).collect();
        (rows, std::mem::take(&mut self.resized))
    }

    pub fn has_damage(&self) -> bool {
        self.resized || self.dirty.iter().any(|&d| d)
    }

    fn out_of_range(&self, what: &'static str) -> OutOfRange {
        OutOfRange { what, width: self.width, height: self.height }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn cell(text: &str, hl: Option<u32>, repeat: Option<u64>) -> CellUpdate<'static> {
        CellUpdate { text: Cow::Owned(text.to_owned()), hl, repeat }
    }

    fn texts(g: &Grid) -> Vec<String> {
        g.rows().iter().map(|r| r.text()).collect()
    }

    #[test]
    fn cell_stays_small() {
        assert!(std::mem::size_of::<Cell>() <= 32, "{}", std::mem::size_of::<Cell>());
    }

    #[test]
    fn hl_carries_over_and_repeat_zero_writes_nothing() {
        let mut g = Grid::new(8, 1);
        let cells = [
            cell("h", Some(3), None),
            cell("e", None, None),
            cell("l", Some(0), Some(2)),
            cell("o", None, None),
            cell(" ", Some(5), Some(0)),
            cell("!", None, None),
        ];
        g.put_line(0, 0, &cells, false).unwrap();
        assert_eq!(texts(&g), ["hello!  "]);
        let hls: Vec<u32> = g.row(0).unwrap().cells.iter().map(|c| c.hl).collect();
        assert_eq!(hls, [3, 3, 0, 0, 0, 5, 0, 0]);
    }

    #[test]
    fn partial_lines_keep_unsent_columns_and_wide_cells() {
        let mut g = Grid::new(6, 1);
        g.put_line(0, 0, &[cell("a", Some(0), Some(6))], false).unwrap();
        g.put_line(0, 1, &[cell("日", Some(0), None), cell("", None, None), cell("x", None, None)], true)
            .unwrap();
        let row = g.row(0).unwrap();
        assert_eq!(row.text(), "a日xaa");
        assert!(row.cells[2].is_continuation());
        assert!(row.wrap);
    }

    #[test]
    fn writes_past_the_edge_are_cut_and_bad_rows_refused() {
        let mut g = Grid::new(3, 2);
        g.put_line(1, 2, &[cell("z", Some(0), Some(1000))], false).unwrap();
        assert_eq!(texts(&g), ["   ", "  z"]);
        assert!(g.put_line(2, 0, &[cell("z", Some(0), None)], false).is_err());
        assert!(g.put_line(0, 4, &[cell("z", Some(0), None)], false).is_err());
    }

    fn numbered(width: usize, height: usize) -> Grid {
        let mut g = Grid::new(width, height);
        for r in 0..height {
            let t = char::from(b'0' + r as u8).to_string();
            g.put_line(r, 0, &[cell(&t, Some(0), Some(width as u64))], false).unwrap();
        }
        g.take_damage();
        g
    }

    #[test]
    fn scroll_up_and_down_full_width() {
        let mut g = numbered(2, 5);
        g.set_scroll_fill("#");
        g.scroll(1, 4, 0, 2, 1).unwrap();
        assert_eq!(texts(&g), ["00", "22", "33", "##", "44"]);
        assert_eq!(g.take_damage(), (vec![1, 2, 3], false));
        let mut g = numbered(2, 5);
        g.set_scroll_fill("#");
        g.scroll(0, 5, 0, 2, -2).unwrap();
        assert_eq!(texts(&g), ["##", "##", "00", "11", "22"]);
    }

    #[test]
    fn scroll_partial_columns() {
        let mut g = numbered(4, 4);
        g.set_scroll_fill("#");
        g.scroll(0, 4, 1, 3, 1).unwrap();
        assert_eq!(texts(&g), ["0110", "1221", "2332", "3##3"]);
        let mut g = numbered(4, 4);
        g.set_scroll_fill("#");
        g.scroll(0, 4, 1, 3, -3).unwrap();
        assert_eq!(texts(&g), ["0##0", "1##1", "2##2", "3003"]);
    }

    #[test]
    fn bad_scroll_regions_are_refused() {
        let mut g = numbered(4, 4);
        assert!(g.scroll(0, 5, 0, 4, 1).is_err());
        assert!(g.scroll(2, 2, 0, 4, 1).is_err());
        assert!(g.scroll(0, 4, 3, 9, 1).is_err());
        // Shifting further than the region is clamped, not a panic.
        g.scroll(0, 4, 0, 4, i64::MIN).unwrap();
    }

    #[test]
    fn resize_keeps_contents_and_marks_everything() {
        let mut g = numbered(2, 3);
        g.resize(3, 2);
        assert_eq!(texts(&g), ["00 ", "11 "]);
        assert_eq!(g.take_damage(), (vec![0, 1], true));
        g.clear();
        assert_eq!(texts(&g), ["   ", "   "]);
    }

    #[test]
    fn writes_to_a_shared_row_copy_only_that_row() {
        let mut g = numbered(3, 3);
        let before: Vec<Arc<Row>> = g.rows().to_vec();
        g.put_line(1, 0, &[cell("x", Some(0), None)], false).unwrap();
        assert!(Arc::ptr_eq(&before[0], &g.rows()[0]));
        assert!(!Arc::ptr_eq(&before[1], &g.rows()[1]));
        assert_eq!(before[1].text(), "111");
        assert_eq!(g.take_damage(), (vec![1], false));
    }
}
