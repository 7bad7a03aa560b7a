//! Windows that nvim draws and closes again before it says where they are.
//!
//! With 'inccommand' set to `split`, nvim previews `:substitute` in a window
//! it opens at the bottom, full width (`:botright`), draws, and closes again
//! before the flush, leaving the preview on screen until the next redraw.
//! Its terminal UI keeps showing it because there every split draws straight
//! into the global grid. A multigrid client instead gets a grid that is
//! created, drawn and destroyed without a `win_pos`, while the windows above
//! it were moved up to make room:
//!
//! ```text
//!   row  0 ┌ grid 2 (win_pos: 14 rows) ┐
//!          │                           │
//!       14 ├ status line (grid 1)      ┤
//!       15 ├ the preview: a grid that  ┤  ← never placed; destroyed
//!          │ gets no win_pos           │     before the flush
//!       22 ├ [Preview] status (grid 1) ┤
//!       23 └ command line              ┘
//! ```
//!
//! The model does what the terminal UI does: it copies such a grid into the
//! global grid, in the gap below the lowest window, so it stays visible until
//! the windows above grow back over it.

use std::borrow::Cow;

use super::{CellUpdate, GLOBAL_GRID, Grid, GridId, Model, Placement};

impl Model {
    /// Keeps what `grid` (created since the last flush and never placed,
    /// about to be destroyed) showed, where nvim's terminal UI shows it:
    /// only a full-width grid that fits between the lowest window's status
    /// line and the command line, as a `:botright` split does. Anything else
    /// (a float closed before it was placed) is not on nvim's screen either.
    pub(super) fn keep_orphan(&mut self, grid: GridId) {
        let (Some(orphan), Some(global)) = (self.grids.get(&grid), self.grids.get(&GLOBAL_GRID)) else {
            return;
        };
        if orphan.width() != global.width() || is_blank(orphan) {
            return;
        }
        let lowest = self
            .windows
            .values()
            .filter(|w| !w.hidden)
            .filter_map(|w| match w.placement {
                Some(Placement::Normal { row, height, .. }) => Some(row.saturating_add(height)),
                _ => None,
            })
            .max();
        // Below the lowest window's status line (or separator).
        let Some(top) = lowest.map(|bottom| bottom.saturating_add(1)) else {
            return;
        };
        let limit = self.cmdline_row.unwrap_or(global.height()).min(global.height());
        if top.saturating_add(orphan.height()) > limit {
            return;
        }
        let rows = orphan.rows().to_vec();
        let Some(global) = self.grids.get_mut(&GLOBAL_GRID) else {
            return;
        };
        for (r, row) in rows.iter().enumerate() {
            let cells: Vec<CellUpdate<'_>> = row
                .cells
                .iter()
                .map(|c| CellUpdate { text: Cow::Borrowed(c.text.as_str()), hl: Some(c.hl), repeat: None })
                .collect();
            // In range: checked against the global grid's size above.
            if let Err(e) = global.put_line(top + r, 0, &cells, row.wrap) {
                log::warn!("keeping closed grid {grid} on screen: {e}");
            }
        }
    }
}

fn is_blank(grid: &Grid) -> bool {
    grid.rows().iter().all(|row| row.cells.iter().all(|c| c.text == " "))
}

#[cfg(test)]
mod tests {
    use crate::model::compose::compose;
    use crate::model::{CellUpdate, GridId, Model, RedrawEvent};

    fn apply(m: &mut Model, e: RedrawEvent<'static>) {
        m.apply(e).unwrap();
    }

    fn line(m: &mut Model, grid: GridId, row: usize, text: &'static str) {
        let cells = text
            .chars()
            .map(|c| CellUpdate { text: c.to_string().into(), hl: Some(0), repeat: None })
            .collect();
        apply(m, RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false });
    }

    fn win_pos(m: &mut Model, grid: GridId, height: usize) {
        apply(m, RedrawEvent::WinPos { grid, win: 1000 + grid as i64, row: 0, col: 0, width: 6, height });
    }

    fn text(m: &mut Model) -> Vec<String> {
        let frame = m.publish();
        let screen = compose(&frame);
        (0..screen.height).map(|r| screen.row_text(r)).collect()
    }

    /// A 6x8 screen: one window of 6 rows, its status line, the command line.
    fn editor() -> Model {
        let mut m = Model::new();
        apply(&mut m, RedrawEvent::GridResize { grid: 1, width: 6, height: 8 });
        apply(&mut m, RedrawEvent::GridResize { grid: 2, width: 6, height: 6 });
        win_pos(&mut m, 2, 6);
        apply(
            &mut m,
            RedrawEvent::MsgSetPos {
                grid: 3,
                row: 7,
                scrolled: false,
                sep_char: " ".into(),
                zindex: None,
                compindex: None,
            },
        );
        for r in 0..6 {
            line(&mut m, 2, r, "text");
        }
        line(&mut m, 1, 6, "status");
        m.publish();
        m
    }

    /// What nvim sends for an 'inccommand' preview, in one flush.
    fn preview(m: &mut Model, grid: GridId, width: usize) {
        win_pos(m, 2, 2);
        apply(m, RedrawEvent::GridResize { grid: 2, width: 6, height: 2 });
        line(m, 1, 2, "upper");
        apply(m, RedrawEvent::GridResize { grid, width, height: 3 });
        line(m, grid, 0, "p1");
        line(m, grid, 1, "p2");
        line(m, grid, 2, "~");
        line(m, 1, 6, "[Prev]");
        apply(m, RedrawEvent::WinClose { grid });
        apply(m, RedrawEvent::GridDestroy { grid });
        win_pos(m, 2, 6);
    }

    #[test]
    fn a_split_closed_before_it_was_placed_stays_in_the_gap_below_the_windows() {
        let mut m = editor();
        preview(&mut m, 5, 6);
        assert_eq!(text(&mut m), ["text", "text", "upper", "p1", "p2", "~", "[Prev]", ""]);
        // The windows growing back cover it.
        apply(&mut m, RedrawEvent::GridResize { grid: 2, width: 6, height: 6 });
        for r in 0..6 {
            line(&mut m, 2, r, "again");
        }
        line(&mut m, 1, 6, "status");
        assert_eq!(text(&mut m), ["again", "again", "again", "again", "again", "again", "status", ""]);
    }

    #[test]
    fn grids_that_cannot_be_such_a_split_leave_nothing() {
        // Not full width: not a `:botright` split.
        let mut m = editor();
        preview(&mut m, 5, 5);
        assert_eq!(text(&mut m), ["text", "text", "upper", "", "", "", "[Prev]", ""]);

        // No gap: a float closed before it was placed.
        let mut m = editor();
        apply(&mut m, RedrawEvent::GridResize { grid: 4, width: 6, height: 2 });
        line(&mut m, 4, 0, "float");
        apply(&mut m, RedrawEvent::GridDestroy { grid: 4 });
        assert_eq!(text(&mut m), ["text", "text", "text", "text", "text", "text", "status", ""]);

        // Placed before it was closed: an ordinary window.
        let mut m = editor();
        apply(&mut m, RedrawEvent::GridResize { grid: 4, width: 6, height: 2 });
        win_pos(&mut m, 2, 2);
        line(&mut m, 4, 0, "split");
        apply(&mut m, RedrawEvent::WinPos { grid: 4, win: 1004, row: 3, col: 0, width: 6, height: 2 });
        apply(&mut m, RedrawEvent::GridDestroy { grid: 4 });
        win_pos(&mut m, 2, 6);
        assert_eq!(text(&mut m), ["text", "text", "text", "text", "text", "text", "status", ""]);
    }
}
