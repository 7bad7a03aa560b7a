//! Where a grid's rows sit in its layer texture, so that a scroll moves no
//! pixels: the rows between the window's margins (its text) live in a
//! ring of texture rows, and scrolling turns the ring. Only the rows that
//! enter are drawn, and the rows that left stay in the ring for a while:
//! the smooth scroll shows them as the text slides.
//!
//! ```text
//!   grid row               texture row
//!   0 .. top               0 .. top                  margins (winbar), fixed
//!   top + i  (i < inner)   top + (base + i) % ring   the text, a ring
//!   height - bottom ..     top + ring ..             margins (border), fixed
//! ```
//!
//! A ring as tall as the text (`ring == inner`) keeps nothing back but
//! still scrolls without drawing; `ring - inner` rows more are kept back.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowMap {
    /// Fixed rows above the text (winbar, a float's top border).
    pub top: usize,
    /// Rows of text, in the ring.
    pub inner: usize,
    /// Fixed rows below the text (a float's bottom border).
    pub bottom: usize,
    /// Texture rows of the ring, at least `inner`.
    pub ring: usize,
    /// The ring slot of the text's first row.
    pub base: usize,
}

impl RowMap {
    /// A grid of `height` rows drawn as it is, row for row.
    pub fn fixed(height: usize) -> RowMap {
        RowMap { top: 0, inner: height, bottom: 0, ring: height, base: 0 }
    }

    /// A grid of `height` rows with `top` and `bottom` margin rows and
    /// `keep` more rows of text kept in the ring.
    pub fn scrolling(height: usize, top: usize, bottom: usize, keep: usize) -> RowMap {
        let top = top.min(height);
        let bottom = bottom.min(height - top);
        let inner = height - top - bottom;
        RowMap { top, inner, bottom, ring: inner + if inner > 0 { keep } else { 0 }, base: 0 }
    }

    /// Texture rows in all.
    pub fn slots(&self) -> usize {
        self.top + self.ring + self.bottom
    }

    /// Rows of text kept back beyond those shown.
    pub fn kept(&self) -> usize {
        self.ring - self.inner
    }

    /// The texture row grid row `r` is drawn in.
    pub fn slot(&self, r: usize) -> usize {
        if r < self.top {
            r
        } else if r < self.top + self.inner {
            self.top + (self.base + r - self.top) % self.ring
        } else {
            self.top + self.ring + (r - self.top - self.inner)
        }
    }

    /// The text scrolled `by` rows (positive: it moved up, as `<C-e>`
    /// does): the ring turns so rows already drawn keep their pixels.
    pub fn turn(&mut self, by: i64) {
        if self.ring == 0 {
            return;
        }
        let ring = self.ring as i64;
        self.base = (self.base as i64 + by).rem_euclid(ring) as usize;
    }

    /// How far the text scrolled since it was drawn, found from the rows
    /// themselves: nvim moves rows on `grid_scroll` and the model keeps
    /// each one's `Arc`, so a text row found `k` slots from where it would
    /// be drawn now has moved `k` rows. The turn most rows agree on, when
    /// it is not 0 and at least a quarter of the rows agree; `None`
    /// otherwise (nothing moved, or everything was redrawn).
    pub fn find_turn(&self, rows: &[Arc<Row>], drawn: &[Option<Arc<Row>>]) -> Option<i64> {
        if self.inner == 0 || self.ring == 0 {
            return None;
        }
        let text = self.top..self.top + self.inner;
        let unmoved = text.clone().filter(|&r| same(drawn.get(self.slot(r)), &rows[r])).count();
        if unmoved == self.inner {
            return None;
        }
        let slots: HashMap<*const Row, usize> = (0..self.ring)
            .filter_map(|k| Some((Arc::as_ptr(drawn.get(self.top + k)?.as_ref()?), k)))
            .collect();
        let mut votes: HashMap<i64, usize> = HashMap::new();
        for (i, r) in text.enumerate() {
            let Some(&k) = slots.get(&Arc::as_ptr(&rows[r])) else { continue };
            // Where the row is against where it would be drawn now.
            let at = (self.base + i) % self.ring;
            let mut by = k as i64 - at as i64;
            let ring = self.ring as i64;
            by = by.rem_euclid(ring);
            if by > ring / 2 {
                by -= ring;
            }
            *votes.entry(by).or_default() += 1;
        }
        let (by, count) = votes.into_iter().max_by_key(|&(by, count)| (count, -by.abs()))?;
        (by != 0 && count > unmoved && count * 4 >= self.inner).then_some(by)
    }
}

fn same(drawn: Option<&Option<Arc<Row>>>, row: &Arc<Row>) -> bool {
    drawn.and_then(Option::as_ref).is_some_and(|d| Arc::ptr_eq(d, row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Arc<Row>> {
        (0..n).map(|_| Arc::new(Row { cells: Vec::new(), wrap: false })).collect()
    }

    /// What a layer drew for `grid` with `map`.
    fn drawn(map: &RowMap, grid: &[Arc<Row>]) -> Vec<Option<Arc<Row>>> {
        let mut drawn = vec![None; map.slots()];
        for (r, row) in grid.iter().enumerate() {
            drawn[map.slot(r)] = Some(row.clone());
        }
        drawn
    }

    #[test]
    fn margins_stay_and_the_text_turns() {
        let mut map = RowMap::scrolling(6, 1, 1, 4);
        assert_eq!((map.inner, map.ring, map.slots()), (4, 8, 10));
        assert_eq!((0..6).map(|r| map.slot(r)).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 9]);
        map.turn(3);
        assert_eq!((0..6).map(|r| map.slot(r)).collect::<Vec<_>>(), [0, 4, 5, 6, 7, 9]);
        map.turn(-5);
        assert_eq!((0..6).map(|r| map.slot(r)).collect::<Vec<_>>(), [0, 7, 8, 1, 2, 9]);
    }

    #[test]
    fn a_scroll_is_found_from_the_rows_that_moved() {
        let mut map = RowMap::scrolling(7, 1, 0, 6);
        let old = rows(7);
        let drawn_before = drawn(&map, &old);
        // <C-e> twice: rows 3.. of the text move up two, two new rows come
        // in at the bottom, the winbar stays.
        let mut new = old.clone();
        new[1..5].clone_from_slice(&old[3..7]);
        new[5] = Arc::new(Row { cells: Vec::new(), wrap: false });
        new[6] = Arc::new(Row { cells: Vec::new(), wrap: false });
        assert_eq!(map.find_turn(&new, &drawn_before), Some(2));
        map.turn(2);
        let kept =
            (0..7).filter(|&r| drawn_before[map.slot(r)].as_ref().is_some_and(|d| Arc::ptr_eq(d, &new[r])));
        assert_eq!(kept.count(), 5, "only the two new rows need drawing");
        // And back: <C-y> three.
        let drawn_now = drawn(&map, &new);
        let mut back = new.clone();
        for r in (4..7).rev() {
            back[r] = new[r - 3].clone();
        }
        for row in &mut back[1..4] {
            *row = Arc::new(Row { cells: Vec::new(), wrap: false });
        }
        assert_eq!(map.find_turn(&back, &drawn_now), Some(-3));
    }

    #[test]
    fn nothing_moved_or_everything_new_is_no_turn() {
        let map = RowMap::scrolling(5, 0, 0, 5);
        let grid = rows(5);
        let d = drawn(&map, &grid);
        assert_eq!(map.find_turn(&grid, &d), None);
        assert_eq!(map.find_turn(&rows(5), &d), None);
        assert_eq!(RowMap::fixed(0).find_turn(&[], &[]), None);
    }
}
