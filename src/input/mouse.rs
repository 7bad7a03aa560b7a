//! Pointer events to `nvim_input_mouse`, with multigrid hit-testing: the
//! grid under the pointer is the topmost visible one (floats by z-index,
//! skipping floats that nvim marks as not taking the mouse), and rows and
//! columns are relative to that grid.

use winit::keyboard::{Key, NamedKey};

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

/// Whether a key press hides the pointer under 'mousehide': any key but a
/// modifier alone, which types nothing (Ctrl is held to click a link).
pub fn hides_pointer(key: &Key) -> bool {
    !matches!(
        key,
        Key::Named(
            NamedKey::Control
                | NamedKey::Shift
                | NamedKey::Alt
                | NamedKey::AltGraph
                | NamedKey::Super
                | NamedKey::Meta
                | NamedKey::Hyper
                | NamedKey::CapsLock
                | NamedKey::NumLock
        )
    )
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

/// The `nvim_input_mouse` wheel actions for whole steps from a
/// [`WheelAccumulator`], each with how often to send it (at most 100).
/// winit's signs: positive y scrolls up, positive x scrolls left (the
/// content moves right, as X11's button 6 does).
pub fn wheel_actions(dx: i64, dy: i64) -> impl Iterator<Item = (&'static str, u64)> {
    [(dy, "up", "down"), (dx, "left", "right")].into_iter().filter(|&(steps, _, _)| steps != 0).map(
        |(steps, positive, negative)| {
            (if steps > 0 { positive } else { negative }, steps.unsigned_abs().min(100))
        },
    )
}

/// On X11, winit 0.30 reports a notch of a wheel without smooth scrolling
/// (xdotool, VNC and other remote desktops) twice: for the press of button
/// 4 to 7 and again for its release. The raw release of that button
/// arrives just before the second report and marks it to be dropped.
/// Wheels with smooth scrolling send no raw wheel buttons, so they are
/// never touched.
#[derive(Debug, Default, Clone, Copy)]
pub struct LegacyWheel {
    released: Option<u32>,
}

impl LegacyWheel {
    /// A raw (device) button event.
    pub fn raw_button(&mut self, button: u32, pressed: bool) {
        if (4..=7).contains(&button) && !pressed {
            self.released = Some(button);
        }
    }

    /// Whether a wheel report of (dx, dy) lines is the release of the
    /// button last released, to be dropped.
    pub fn is_release(&mut self, dx: f32, dy: f32) -> bool {
        let release = match self.released.take() {
            Some(4) => (0.0, 1.0),
            Some(5) => (0.0, -1.0),
            Some(6) => (1.0, 0.0),
            Some(7) => (-1.0, 0.0),
            _ => return false,
        };
        (dx, dy) == release
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
    fn modifiers_alone_leave_the_pointer_shown() {
        assert!(!hides_pointer(&Key::Named(NamedKey::Control)));
        assert!(!hides_pointer(&Key::Named(NamedKey::Shift)));
        assert!(hides_pointer(&Key::Named(NamedKey::Escape)));
        assert!(hides_pointer(&Key::Character("l".into())));
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

    #[test]
    fn wheel_steps_name_their_direction() {
        let all = |dx, dy| wheel_actions(dx, dy).collect::<Vec<_>>();
        assert_eq!(all(0, 2), [("up", 2)]);
        assert_eq!(all(0, -1), [("down", 1)]);
        // X11's button 6 (scroll left) is +1 in x.
        assert_eq!(all(1, 0), [("left", 1)]);
        assert_eq!(all(-3, 1), [("up", 1), ("right", 3)]);
        assert_eq!(all(0, 500), [("up", 100)]);
        assert!(all(0, 0).is_empty());
    }

    #[test]
    fn a_legacy_wheel_release_is_dropped_once() {
        let mut w = LegacyWheel::default();
        // Smooth scrolling: no raw buttons, nothing dropped.
        assert!(!w.is_release(0.0, 1.0));
        // Button 5: its press counts, the report after its raw release not.
        w.raw_button(5, true);
        assert!(!w.is_release(0.0, -1.0));
        w.raw_button(5, false);
        assert!(w.is_release(0.0, -1.0));
        assert!(!w.is_release(0.0, -1.0));
        // A release only drops a report of its own direction.
        w.raw_button(6, false);
        assert!(!w.is_release(0.0, 1.0));
        w.raw_button(7, false);
        assert!(w.is_release(-1.0, 0.0));
        // Other buttons mark nothing.
        w.raw_button(1, false);
        assert!(!w.is_release(0.0, 1.0));
    }
}
