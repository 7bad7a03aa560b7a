//! Pointer events to `nvim_input_mouse`, with multigrid hit-testing: the
//! grid under the pointer is the topmost visible one (floats by z-index,
//! skipping floats that nvim marks as not taking the mouse), and rows and
//! columns are relative to that grid.

use crate::model::compose::{self, LayerKind};
use crate::model::{Frame, GridId, Placement};

/// A cell under the pointer: the grid and the position inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridCell {
    pub grid: GridId,
    pub row: i64,
    pub col: i64,
}

/// The grid cell at screen cell (`row`, `col`).
pub fn hit_test(frame: &Frame, row: i64, col: i64) -> Option<GridCell> {
    let layers = compose::layers(frame);
    layers.iter().rev().find_map(|l| {
        let inside =
            row >= l.row && row < l.row + l.height as i64 && col >= l.col && col < l.col + l.width as i64;
        if !inside {
            return None;
        }
        if l.kind == LayerKind::Float {
            let takes_mouse = matches!(
                frame.windows.get(&l.grid).and_then(|w| w.placement.as_ref()),
                Some(Placement::Float { mouse_enabled: true, .. })
            );
            if !takes_mouse {
                return None;
            }
        }
        Some(GridCell { grid: l.grid, row: row - l.row, col: col - l.col })
    })
}

/// The same screen position relative to `grid` (for drags that leave the
/// grid they started on); clamped at the grid's top-left.
pub fn relative_to(frame: &Frame, grid: GridId, row: i64, col: i64) -> Option<GridCell> {
    let (r0, c0) = compose::grid_origin(frame, grid)?;
    Some(GridCell { grid, row: (row - r0).max(0), col: (col - c0).max(0) })
}

/// Modifier prefix for `nvim_input_mouse`, e.g. `"C-S-"`.
pub fn modifier_string(shift: bool, ctrl: bool, alt: bool, logo: bool) -> String {
    let mut out = String::new();
    for (on, m) in [(shift, "S-"), (ctrl, "C-"), (alt, "A-"), (logo, "D-")] {
        if on {
            out.push_str(m);
        }
    }
    out
}

/// Turns wheel deltas into whole steps, keeping the remainder, so that a
/// trackpad's many small pixel deltas add up to lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct WheelAccumulator {
    x: f64,
    y: f64,
}

impl WheelAccumulator {
    /// Adds a delta in lines (positive y = content moves down = wheel up)
    /// and returns whole steps (x, y) to send now.
    pub fn add_lines(&mut self, dx: f64, dy: f64) -> (i64, i64) {
        self.x += dx;
        self.y += dy;
        let (sx, sy) = (self.x.trunc(), self.y.trunc());
        self.x -= sx;
        self.y -= sy;
        (sx as i64, sy as i64)
    }

    /// Adds a delta in pixels, given the cell size.
    pub fn add_pixels(&mut self, dx: f64, dy: f64, cell_w: f64, cell_h: f64) -> (i64, i64) {
        self.add_lines(dx / cell_w.max(1.0), dy / cell_h.max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Anchor, Model, RedrawEvent};

    fn frame_with_float(mouse_enabled: bool) -> Frame {
        let mut m = Model::new();
        let ev = |m: &mut Model, e| {
            m.apply(e).unwrap();
        };
        ev(&mut m, RedrawEvent::GridResize { grid: 1, width: 40, height: 10 });
        ev(&mut m, RedrawEvent::GridResize { grid: 2, width: 40, height: 9 });
        ev(&mut m, RedrawEvent::WinPos { grid: 2, win: 1000, row: 0, col: 0, width: 40, height: 9 });
        ev(&mut m, RedrawEvent::GridResize { grid: 4, width: 10, height: 3 });
        ev(
            &mut m,
            RedrawEvent::WinFloatPos {
                grid: 4,
                win: 1001,
                anchor: Anchor::NW,
                anchor_grid: 1,
                anchor_row: 2.0,
                anchor_col: 5.0,
                mouse_enabled,
                zindex: Some(50),
                compindex: None,
            },
        );
        m.apply(RedrawEvent::Flush).unwrap().unwrap()
    }

    #[test]
    fn floats_win_over_windows_unless_they_refuse_the_mouse() {
        let f = frame_with_float(true);
        assert_eq!(hit_test(&f, 3, 7), Some(GridCell { grid: 4, row: 1, col: 2 }));
        assert_eq!(hit_test(&f, 0, 0), Some(GridCell { grid: 2, row: 0, col: 0 }));
        // The status/command line rows belong to the global grid.
        assert_eq!(hit_test(&f, 9, 3), Some(GridCell { grid: 1, row: 9, col: 3 }));
        let f = frame_with_float(false);
        assert_eq!(hit_test(&f, 3, 7), Some(GridCell { grid: 2, row: 3, col: 7 }));
        assert_eq!(hit_test(&f, 50, 0), None);
    }

    #[test]
    fn drags_stay_relative_to_their_grid() {
        let f = frame_with_float(true);
        assert_eq!(relative_to(&f, 4, 8, 20), Some(GridCell { grid: 4, row: 6, col: 15 }));
        assert_eq!(relative_to(&f, 4, 0, 0), Some(GridCell { grid: 4, row: 0, col: 0 }));
    }

    #[test]
    fn wheel_pixels_accumulate_into_lines() {
        let mut w = WheelAccumulator::default();
        assert_eq!(w.add_pixels(0.0, 7.0, 9.0, 20.0), (0, 0));
        assert_eq!(w.add_pixels(0.0, 7.0, 9.0, 20.0), (0, 0));
        assert_eq!(w.add_pixels(0.0, 7.0, 9.0, 20.0), (0, 1));
        assert_eq!(w.add_pixels(-18.0, -41.0, 9.0, 20.0), (-2, -2));
        assert_eq!(modifier_string(true, true, false, false), "S-C-");
    }
}
