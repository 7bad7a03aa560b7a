//! Damage and scrolling across frames that are never drawn.
//!
//! The window draws only the newest frame waiting when it wakes; each
//! frame's damage says what changed since the one published just before it,
//! and each window's `scroll_delta` how far it scrolled since then. Folding
//! the skipped frames' damage and deltas into the drawn one keeps them
//! relative to the frame last drawn, so nothing that changed or scrolled in
//! between is missed.

use std::sync::Arc;

use super::{Cursor, Frame, GLOBAL_GRID, GridDamage, GridId, Placement, Window};

impl Frame {
    /// Whether all this frame changes since the frame last drawn, whose
    /// cursor was `drawn`, is the command line (the message grid, or the
    /// global grid's last row without `ext_multigrid`), in normal mode with
    /// the cursor where it was: what nvim shows of a typed command
    /// ('showcmd') and flushes just before it runs the command.
    pub fn only_typed_command(&self, drawn: Cursor) -> bool {
        let last = self.grid(GLOBAL_GRID).and_then(|g| g.height.checked_sub(1));
        let message = |id: &GridId| {
            self.windows.get(id).is_some_and(|w| matches!(w.placement, Some(Placement::Message { .. })))
        };
        let command_line = |(id, d): (&GridId, &GridDamage)| {
            !d.resized && (message(id) || (*id == GLOBAL_GRID && d.rows.iter().all(|&r| Some(r) == last)))
        };
        self.mode.name == "normal"
            && self.cursor == drawn
            && self.destroyed.is_empty()
            && !self.damage.is_empty()
            && self.damage.iter().all(command_line)
            && self.windows.values().all(|w| w.viewport.is_none_or(|v| v.scroll_delta == 0))
    }

    /// Folds in the damage and the scroll deltas of `older`, published
    /// before this frame and never drawn. Grids that no longer exist are
    /// left out; rows are kept only where they still exist, deltas only for
    /// windows that still have a viewport.
    pub fn absorb_damage(&mut self, older: &Frame) {
        let scrolled = |w: &Window| w.viewport.map_or(0, |v| v.scroll_delta);
        let carried = |grid: &GridId| self.windows.get(grid).is_some_and(|w| w.viewport.is_some());
        if older.windows.iter().any(|(grid, w)| scrolled(w) != 0 && carried(grid)) {
            let windows = Arc::make_mut(&mut self.windows);
            for (grid, old) in older.windows.iter() {
                if let Some(v) = windows.get_mut(grid).and_then(|w| w.viewport.as_mut()) {
                    v.scroll_delta = v.scroll_delta.saturating_add(scrolled(old));
                }
            }
        }
        for (id, old) in &older.damage {
            let Some(grid) = self.grids.get(id) else { continue };
            let mine = self.damage.entry(*id).or_default();
            mine.resized |= old.resized;
            mine.rows.extend(old.rows.iter().copied().filter(|&r| r < grid.height));
            mine.rows.sort_unstable();
            mine.rows.dedup();
        }
        for id in &older.destroyed {
            if !self.destroyed.contains(id) && !self.grids.contains_key(id) {
                self.destroyed.push(*id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{CellUpdate, GridDamage, Model, RedrawEvent};

    fn write(model: &mut Model, grid: u64, row: usize) {
        let cells = vec![CellUpdate { text: "x".into(), hl: Some(0), repeat: None }];
        model.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    }

    fn flush(model: &mut Model) -> crate::model::Frame {
        model.apply(RedrawEvent::Flush).unwrap().expect("flush publishes")
    }

    #[test]
    fn skipped_frames_hand_their_damage_to_the_drawn_one() {
        let mut m = Model::new();
        m.apply(RedrawEvent::GridResize { grid: 1, width: 5, height: 6 }).unwrap();
        m.apply(RedrawEvent::GridResize { grid: 2, width: 5, height: 2 }).unwrap();
        flush(&mut m);
        write(&mut m, 1, 4);
        write(&mut m, 2, 1);
        let first = flush(&mut m);
        write(&mut m, 1, 1);
        m.apply(RedrawEvent::GridDestroy { grid: 2 }).unwrap();
        let second = flush(&mut m);
        write(&mut m, 1, 2);
        let mut newest = flush(&mut m);
        // Only the newest is drawn: it carries everything since the last draw.
        newest.absorb_damage(&second);
        newest.absorb_damage(&first);
        assert_eq!(newest.damage.get(&1), Some(&GridDamage { rows: vec![1, 2, 4], resized: false }));
        assert!(!newest.damage.contains_key(&2), "a destroyed grid has no damage");
        assert_eq!(newest.destroyed, vec![2]);
    }

    fn viewport(model: &mut Model, grid: u64, topline: i64, scroll_delta: i64) {
        model
            .apply(RedrawEvent::WinViewport {
                grid,
                win: 1000 + grid as i64,
                topline,
                botline: topline + 5,
                curline: topline,
                curcol: 0,
                line_count: Some(100),
                scroll_delta: Some(scroll_delta),
            })
            .unwrap();
    }

    fn delta(frame: &crate::model::Frame, grid: u64) -> Option<i64> {
        frame.windows.get(&grid)?.viewport.map(|v| v.scroll_delta)
    }

    #[test]
    fn scroll_deltas_add_up_within_a_flush_and_reset_after_it() {
        let mut m = Model::new();
        m.apply(RedrawEvent::GridResize { grid: 2, width: 5, height: 6 }).unwrap();
        // <C-e> three times before nvim flushes, then the cursor moves.
        for top in 1..=3 {
            viewport(&mut m, 2, top, 1);
        }
        viewport(&mut m, 2, 3, 0);
        assert_eq!(delta(&flush(&mut m), 2), Some(3));
        // A flush with no win_viewport: nothing scrolled since that frame.
        write(&mut m, 2, 0);
        let frame = flush(&mut m);
        assert_eq!(delta(&frame, 2), Some(0));
        assert_eq!(frame.windows[&2].viewport.map(|v| v.topline), Some(3), "the rest of it stays");
    }

    #[test]
    fn skipped_frames_hand_their_scroll_deltas_to_the_drawn_one() {
        let mut m = Model::new();
        for grid in [2, 3, 4] {
            m.apply(RedrawEvent::GridResize { grid, width: 5, height: 6 }).unwrap();
        }
        flush(&mut m);
        viewport(&mut m, 2, 2, 2);
        viewport(&mut m, 3, 40, 37);
        viewport(&mut m, 4, 1, 1);
        let first = flush(&mut m);
        viewport(&mut m, 2, 1, -1);
        write(&mut m, 3, 0);
        m.apply(RedrawEvent::WinClose { grid: 4 }).unwrap();
        let mut second = flush(&mut m);
        viewport(&mut m, 2, 5, 4);
        let mut newest = flush(&mut m);
        // As the window drains them: each frame replaced before it was
        // drawn folds into the one replacing it.
        second.absorb_damage(&first);
        newest.absorb_damage(&second);
        assert_eq!(delta(&newest, 2), Some(2 - 1 + 4), "grid 2 scrolled in all three");
        assert_eq!(delta(&newest, 3), Some(37), "grid 3 only in the first");
        assert_eq!(delta(&newest, 4), None, "a closed window has nothing to scroll");
        assert_eq!(delta(&first, 2), Some(2), "the skipped frames keep their own deltas");
    }
}
