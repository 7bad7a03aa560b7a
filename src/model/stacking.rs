//! The order of floats of one zindex, as nvim's compositor keeps it when
//! nvim sends no `compindex` (before nvim 0.12).
//!
//! ```text
//!   a float placed, or shown again        → on top of its zindex
//!   a float that moves (win_float_pos)     → stays where it is
//!   the cursor enters a float              → on top of its zindex
//! ```
//!
//! nvim also opens a float under the current window's float when that one
//! is on top; the stream does not say which window is current at that
//! moment, so that rule is not followed.

use std::sync::Arc;

use super::{GridId, Model, Placement, Window};

impl Model {
    /// The `compindex` for a `win_float_pos` of `grid`: nvim's when it sent
    /// one, else the float's own if it is shown already, else a new top.
    pub(super) fn float_compindex(&mut self, grid: GridId, sent: Option<u64>) -> u64 {
        if let Some(compindex) = sent {
            return compindex;
        }
        match self.windows.get(&grid) {
            Some(Window { hidden: false, placement: Some(Placement::Float { compindex, .. }), .. }) => {
                *compindex
            }
            _ => self.bump_compindex(),
        }
    }

    /// Brings the float `grid` that the cursor entered to the top of its
    /// zindex, unless it is there already.
    pub(super) fn raise_float(&mut self, grid: GridId) {
        let Some(Window {
            hidden: false, placement: Some(Placement::Float { zindex, compindex, .. }), ..
        }) = self.windows.get(&grid)
        else {
            return;
        };
        let (zindex, compindex) = (*zindex, *compindex);
        let covered = self.windows.iter().any(|(&id, w)| {
            id != grid
                && !w.hidden
                && matches!(w.placement, Some(Placement::Float { zindex: z, compindex: c, .. })
                    if z == zindex && c > compindex)
        });
        if !covered {
            return;
        }
        let top = self.bump_compindex();
        if let Some(Window { placement: Some(Placement::Float { compindex, .. }), .. }) =
            Arc::make_mut(&mut self.windows).get_mut(&grid)
        {
            *compindex = top;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::compose::layers;
    use crate::model::{Anchor, GridId, Model, RedrawEvent};

    fn apply(m: &mut Model, e: RedrawEvent<'static>) {
        m.apply(e).unwrap();
    }

    fn float(m: &mut Model, grid: GridId, col: f64) {
        apply(m, RedrawEvent::GridResize { grid, width: 2, height: 1 });
        apply(
            m,
            RedrawEvent::WinFloatPos {
                grid,
                win: 1000 + grid as i64,
                anchor: Anchor::NW,
                anchor_grid: 1,
                anchor_row: 0.0,
                anchor_col: col,
                mouse_enabled: true,
                zindex: Some(50),
                compindex: None,
            },
        );
    }

    /// The floats bottom to top.
    fn order(m: &mut Model) -> Vec<GridId> {
        layers(&m.publish()).iter().map(|l| l.grid).filter(|&g| g != 1).collect()
    }

    #[test]
    fn floats_keep_their_place_when_they_move_and_rise_when_entered() {
        let mut m = Model::new();
        apply(&mut m, RedrawEvent::GridResize { grid: 1, width: 9, height: 3 });
        float(&mut m, 2, 0.0);
        float(&mut m, 3, 1.0);
        float(&mut m, 4, 2.0);
        assert_eq!(order(&mut m), [2, 3, 4]);
        float(&mut m, 2, 3.0);
        assert_eq!(order(&mut m), [2, 3, 4], "moving keeps the place");
        apply(&mut m, RedrawEvent::GridCursorGoto { grid: 3, row: 0, col: 0 });
        assert_eq!(order(&mut m), [2, 4, 3], "the cursor's float rises");
        apply(&mut m, RedrawEvent::WinHide { grid: 2 });
        float(&mut m, 2, 3.0);
        assert_eq!(order(&mut m), [4, 3, 2], "shown again, on top");
    }
}
