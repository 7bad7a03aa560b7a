//! The order of floats of one zindex, as nvim's compositor keeps it when
//! nvim sends no `compindex` (before nvim 0.12).
//!
//! ```text
//!   a float placed, or shown again        → on top of its zindex
//!   a float that moves (win_float_pos)     → stays where it is
//!   a float given a lower zindex           → on top of the new zindex
//!   a float given a higher zindex          → at the bottom of the new one
//!   the cursor enters a float              → on top of its zindex
//! ```
//!
//! nvim also opens a float under the current window's float when that one
//! is on top; the stream does not say which window is current at that
//! moment, so that rule is not followed.

use std::sync::Arc;

use super::{GridId, Model, Placement, Window};

impl Model {
    /// The `compindex` for a `win_float_pos` of `grid` at `zindex`: nvim's
    /// when it sent one; else, for a float shown already, its own, or when
    /// its zindex changed, the top of its new zindex when lowered and the
    /// bottom when raised; else a new top.
    pub(super) fn float_compindex(&mut self, grid: GridId, zindex: u64, sent: Option<u64>) -> u64 {
        if let Some(compindex) = sent {
            return compindex;
        }
        let Some(Window {
            hidden: false,
            placement: Some(Placement::Float { zindex: old, compindex, .. }),
            ..
        }) = self.windows.get(&grid)
        else {
            return self.bump_compindex();
        };
        let (old, own) = (*old, *compindex);
        if zindex == old {
            own
        } else if zindex < old {
            self.bump_compindex()
        } else {
            self.shown_floats(grid, zindex).min().map_or(own, |lowest| lowest.saturating_sub(1))
        }
    }

    /// The compindex of each shown float at `zindex`, other than `grid`.
    fn shown_floats(&self, grid: GridId, zindex: u64) -> impl Iterator<Item = u64> + '_ {
        self.windows.iter().filter_map(move |(&id, w)| match w.placement {
            Some(Placement::Float { zindex: z, compindex, .. }) if id != grid && !w.hidden && z == zindex => {
                Some(compindex)
            }
            _ => None,
        })
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
        let covered = self.shown_floats(grid, zindex).any(|c| c > compindex);
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
        float_at(m, grid, col, 50);
    }

    fn float_at(m: &mut Model, grid: GridId, col: f64, zindex: u64) {
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
                zindex: Some(zindex),
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

    #[test]
    fn a_float_given_another_zindex_goes_to_the_near_end_of_its_new_zindex() {
        let mut m = Model::new();
        apply(&mut m, RedrawEvent::GridResize { grid: 1, width: 9, height: 3 });
        float_at(&mut m, 2, 0.0, 50);
        float_at(&mut m, 3, 0.0, 50);
        float_at(&mut m, 4, 0.0, 60);
        float_at(&mut m, 5, 0.0, 60);
        float_at(&mut m, 6, 0.0, 70);
        assert_eq!(order(&mut m), [2, 3, 4, 5, 6]);
        float_at(&mut m, 2, 0.0, 60);
        assert_eq!(order(&mut m), [3, 2, 4, 5, 6], "raised: the bottom of 60");
        float_at(&mut m, 6, 0.0, 50);
        assert_eq!(order(&mut m), [3, 6, 2, 4, 5], "lowered: the top of 50");
    }
}
