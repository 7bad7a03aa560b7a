//! The cursor's slide from cell to cell: a pure model with an injected
//! clock (no GPU, no `Instant::now`), so tests step time by hand.
//!
//! ```text
//!   frame ──► Target::of (the cursor's rect in pixels, its place, mode)
//!              │
//!              ▼
//!   CursorMotion::retarget(target, now, knobs)
//!     jump: first sight, animation off, same cell, a place it must not
//!           fly to (the command line outside command-line mode, back
//!           from it), its grid gone
//!     else: each corner springs from where it is drawn now to the new
//!           rect; leading corners fast, trailing ones `trail` slower
//!              │
//!              ▼
//!   CursorMotion::quad(now) ──► Some(four corners): draw the smear
//!                               None: settled, draw the cursor as usual
//! ```
//!
//! Each corner follows a critically damped spring, x(t) = (x0 + (v0 +
//! ω·x0)·t)·e^(−ωt) towards its target, with the spring's own remainder at
//! the corner's length faded out over it (× (t/T)²), so every corner lands
//! exactly on the cell at its length and the slide then ends: no timer is
//! left behind.

use std::time::{Duration, Instant};

use super::font::CellMetrics;
use crate::model::compose::{self, LayerKind};
use crate::model::{Frame, GLOBAL_GRID, GridId};

/// ω·T: how stiff the spring is for its length T. At half the length a
/// corner at rest has covered about 60 % of the way.
const STIFFNESS: f32 = 4.0;

/// Where on screen the cursor is: in the editor's windows, or on the
/// message grid / command line at the bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Editor,
    CommandLine,
}

/// Where the cursor must end up, from one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The cursor's shape rect in screen pixels: x, y, width, height.
    pub rect: [f32; 4],
    /// The cell: grid, row, column.
    pub cell: (GridId, usize, usize),
    pub place: Place,
    /// The mode is command-line mode ("cmdline_normal", …).
    pub cmdline: bool,
    /// The mode is insert or replace (typing).
    pub insert: bool,
    /// The cursor covers its cell (a block), hiding what is under it.
    pub block: bool,
}

impl Target {
    /// The cursor of `frame` at metrics `m`; `None` when it is not on
    /// screen (its grid is not placed, e.g. closed).
    pub fn of(frame: &Frame, m: CellMetrics) -> Option<Target> {
        let mut rects = Vec::new();
        super::geometry::cursor(frame, m, &mut rects);
        let rect = match rects.first() {
            Some(r) => [r.pos[0], r.pos[1], r.size[0], r.size[1]],
            // A cursor past its grid's cells still has a cell to go to.
            None => {
                let (x, y, w, h) = super::geometry::cursor_cell(frame, m)?;
                [x, y, w, h]
            }
        };
        let c = frame.cursor;
        let name = frame.mode.name.as_str();
        Some(Target {
            rect,
            cell: (c.grid, c.row, c.col),
            place: place(frame, c.grid),
            cmdline: name.starts_with("cmdline"),
            insert: name.starts_with("insert") || name.starts_with("replace"),
            block: rect[2] * 2.0 >= m.width as f32 && rect[3] * 2.0 >= m.height as f32,
        })
    }
}

/// The place of `grid`: the global grid (which under ext_multigrid holds
/// only the command line and messages) and the message grid are the
/// command line's.
fn place(frame: &Frame, grid: GridId) -> Place {
    if grid == GLOBAL_GRID {
        return Place::CommandLine;
    }
    let message = compose::layers(frame).iter().any(|l| l.grid == grid && l.kind == LayerKind::Message);
    if message { Place::CommandLine } else { Place::Editor }
}

/// The knobs the motion follows (from the settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionKnobs {
    /// Seconds; 0 turns the slide off.
    pub length: f32,
    /// Seconds, for a move of one cell while typing.
    pub short_length: f32,
    /// 0..1: how much the trailing corners lag.
    pub trail: f32,
    pub in_insert_mode: bool,
    pub command_line: bool,
}

impl Default for MotionKnobs {
    fn default() -> Self {
        MotionKnobs { length: 0.15, short_length: 0.04, trail: 0.8, in_insert_mode: true, command_line: true }
    }
}

impl MotionKnobs {
    pub fn from_settings(s: &crate::settings::Settings) -> MotionKnobs {
        MotionKnobs {
            length: s.cursor_animation_length.0,
            short_length: s.cursor_short_animation_length.0,
            trail: s.cursor_trail_size.0,
            in_insert_mode: s.cursor_animate_in_insert_mode,
            command_line: s.cursor_animate_command_line,
        }
    }
}

/// One corner's spring along one slide.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Corner {
    /// Offset from the target when the slide started, and velocity then
    /// (pixels, pixels per second).
    x0: [f32; 2],
    v0: [f32; 2],
    /// Seconds this corner takes.
    length: f32,
}

impl Corner {
    /// Offset from the target and velocity `t` seconds into the slide.
    fn at(&self, t: f32) -> ([f32; 2], [f32; 2]) {
        if t >= self.length || self.length <= 0.0 {
            return ([0.0; 2], [0.0; 2]);
        }
        let (len, w) = (self.length, STIFFNESS / self.length);
        let e = (-w * t).exp();
        let e_end = (-w * len).exp();
        let mut pos = [0.0; 2];
        let mut vel = [0.0; 2];
        for i in 0..2 {
            let (a, b) = (self.x0[i], self.v0[i] + w * self.x0[i]);
            let end = (a + b * len) * e_end;
            let fade = (t / len) * (t / len);
            pos[i] = (a + b * t) * e - end * fade;
            vel[i] = (b - w * (a + b * t)) * e - end * 2.0 * t / (len * len);
        }
        (pos, vel)
    }
}

/// A slide in progress.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slide {
    start: Instant,
    corners: [Corner; 4],
}

/// The cursor's drawn position over time.
#[derive(Debug, Default, Clone)]
pub struct CursorMotion {
    /// Where the cursor goes (or is).
    target: Option<Target>,
    slide: Option<Slide>,
}

/// The rect's corners, clockwise from the top left.
fn corners([x, y, w, h]: [f32; 4]) -> [[f32; 2]; 4] {
    [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]
}

impl CursorMotion {
    /// Takes the cursor of a new frame (`None`: not on screen) at `now`.
    /// A cursor that did not move leaves a slide in progress alone.
    pub fn retarget(&mut self, target: Option<Target>, now: Instant, knobs: &MotionKnobs) {
        let Some(next) = target else {
            // Its grid closed or it left the screen: nothing to slide.
            *self = CursorMotion::default();
            return;
        };
        let Some(prev) = self.target.filter(|p| p.rect != next.rect || p.cell != next.cell) else {
            // Unmoved (or first sight: it appears where it is).
            self.target = Some(next);
            return;
        };
        let length = slide_length(&prev, &next, knobs);
        let from = self.quad(now).unwrap_or_else(|| corners(prev.rect));
        let velocity = self.velocity(now);
        self.target = Some(next);
        self.slide = None;
        let Some(length) = length.filter(|&l| l > 0.0) else { return };
        let to = corners(next.rect);
        // The direction of travel, from centre to centre.
        let centre = |q: &[[f32; 2]; 4]| [(q[0][0] + q[2][0]) / 2.0, (q[0][1] + q[2][1]) / 2.0];
        let (c0, c1) = (centre(&from), centre(&to));
        let dir = [c1[0] - c0[0], c1[1] - c0[1]];
        // How far ahead each corner of the new rect is along that direction.
        let ahead: Vec<f32> = to.iter().map(|p| (p[0] - c1[0]) * dir[0] + (p[1] - c1[1]) * dir[1]).collect();
        let most = ahead.iter().fold(0.0f32, |m, a| m.max(a.abs()));
        let trail = knobs.trail.clamp(0.0, 1.0);
        let corners = std::array::from_fn(|i| {
            // 1 for the leading corners, -1 for the trailing ones.
            let lead = if most > 0.0 { ahead[i] / most } else { 0.0 };
            let share = 1.0 - trail * (1.0 + lead) / 2.0;
            Corner {
                x0: [from[i][0] - to[i][0], from[i][1] - to[i][1]],
                v0: velocity[i],
                length: length * share,
            }
        });
        self.slide = Some(Slide { start: now, corners });
    }

    /// Corner velocities at `now` (zero when settled).
    fn velocity(&self, now: Instant) -> [[f32; 2]; 4] {
        let Some(slide) = &self.slide else { return [[0.0; 2]; 4] };
        let t = now.saturating_duration_since(slide.start).as_secs_f32();
        std::array::from_fn(|i| slide.corners[i].at(t).1)
    }

    /// The cursor's four corners at `now` (clockwise from the top left) in
    /// screen pixels while it slides; `None` when it rests on its cell.
    pub fn quad(&self, now: Instant) -> Option<[[f32; 2]; 4]> {
        let slide = self.slide.as_ref()?;
        let t = now.saturating_duration_since(slide.start).as_secs_f32();
        if slide.corners.iter().all(|c| t >= c.length) {
            return None;
        }
        let to = corners(self.target?.rect);
        Some(std::array::from_fn(|i| {
            let (off, _) = slide.corners[i].at(t);
            [to[i][0] + off[0], to[i][1] + off[1]]
        }))
    }

    /// When the slide ends; `None` when none is in progress at `now`.
    pub fn end(&self, now: Instant) -> Option<Instant> {
        let slide = self.slide.as_ref().filter(|_| self.moving(now))?;
        let longest = slide.corners.iter().map(|c| c.length).fold(0.0, f32::max);
        // A microsecond late, so the slide is surely over when it wakes.
        Some(slide.start + Duration::from_secs_f32(longest) + Duration::from_micros(1))
    }

    /// Whether the cursor is sliding at `now`.
    pub fn moving(&self, now: Instant) -> bool {
        self.quad(now).is_some()
    }

    /// Forgets where the cursor was: the next target is shown at once (the
    /// cell size or the window's layout changed under it).
    pub fn reset(&mut self) {
        *self = CursorMotion::default();
    }
}

/// How long the slide from `prev` to `next` takes, or `None` when the
/// cursor jumps there: the animation is off, only its shape changed, or
/// it goes where it must not fly (see [`CursorMotion::retarget`]).
pub fn slide_length(prev: &Target, next: &Target, knobs: &MotionKnobs) -> Option<f32> {
    if knobs.length <= 0.0 || prev.cell == next.cell {
        // Off, or only the shape changed (a mode change): no smear.
        return None;
    }
    match (prev.place, next.place) {
        // Into or within the command line, in command-line mode only:
        // nvim parks the cursor there for messages and `:redraw`.
        (_, Place::CommandLine) if !next.cmdline || !knobs.command_line => return None,
        // Back from the command line: straight to the text.
        (Place::CommandLine, Place::Editor) => return None,
        // In the editor while the mode says command line.
        (_, Place::Editor) if next.cmdline => return None,
        _ => {}
    }
    if next.insert && !knobs.in_insert_mode {
        return None;
    }
    let one_cell =
        prev.cell.0 == next.cell.0 && prev.cell.1 == next.cell.1 && prev.cell.2.abs_diff(next.cell.2) <= 1;
    if next.insert && prev.insert && one_cell {
        // A block sliding off the cell just typed into would hide the new
        // character in the key's first frame: it jumps.
        return (!prev.block).then_some(knobs.short_length);
    }
    Some(knobs.length)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The cursor on cell (`col`, `row`) of grid 2, cells of 10x20 px.
    pub(crate) fn target(col: usize, row: usize) -> Target {
        Target {
            rect: [col as f32 * 10.0, row as f32 * 20.0, 10.0, 20.0],
            cell: (2, row, col),
            place: Place::Editor,
            cmdline: false,
            insert: false,
            block: true,
        }
    }

    pub(crate) fn ms(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_move_slides_and_settles_exactly_on_the_cell() {
        let knobs = MotionKnobs::default();
        let start = Instant::now();
        let mut m = CursorMotion::default();
        m.retarget(Some(target(0, 0)), start, &knobs);
        assert_eq!(m.quad(start), None, "first sight: shown where it is");
        // Down 40 rows: 800 px.
        m.retarget(Some(target(0, 40)), start, &knobs);
        let q0 = m.quad(start).expect("sliding at t = 0");
        assert_eq!(q0, corners(target(0, 0).rect), "t = 0: still on the old cell");
        // Halfway (75 ms of 150): the leading (bottom) corners, 30 ms long,
        // have landed; the trailing (top) ones are on their way.
        let q = m.quad(ms(start, 75)).expect("sliding at 50 %");
        assert_eq!(q[2], [10.0, 820.0], "leading corner landed");
        assert_eq!(q[3], [0.0, 820.0]);
        let top = q[0][1];
        assert!(top > 300.0 && top < 650.0, "trailing corner in between: {top}");
        assert_eq!(q[0][1], q[1][1], "both trailing corners level");
        assert_eq!(q[0][0], 0.0, "a vertical move stays in its column");
        // Monotonic: the trailing edge only moves towards the target.
        let mut last = 0.0;
        for t in (0..150).step_by(5) {
            let y = m.quad(ms(start, t)).map_or(800.0, |q| q[0][1]);
            assert!(y >= last, "t = {t} ms: {y} < {last}");
            last = y;
        }
        // At 100 %: settled on the cell, no slide, no timer.
        assert_eq!(m.end(start), Some(start + Duration::from_secs_f32(0.15) + Duration::from_micros(1)));
        assert_eq!(m.quad(ms(start, 150)), None);
        assert_eq!(m.end(ms(start, 150)), None, "settled: no timer left");
        assert_eq!(m.target.unwrap().rect, target(0, 40).rect);
    }

    #[test]
    fn the_spring_lands_exactly_with_its_corner_length() {
        let c = Corner { x0: [-800.0, 30.0], v0: [500.0, 0.0], length: 0.15 };
        assert_eq!(c.at(0.0).0, [-800.0, 30.0]);
        let (near, _) = c.at(0.1499);
        assert!(near[0].abs() < 1.0 && near[1].abs() < 0.1, "{near:?}");
        assert_eq!(c.at(0.15).0, [0.0, 0.0]);
        // The velocity at the start is the one carried in.
        let (_, v) = c.at(0.0);
        assert!((v[0] - 500.0).abs() < 1e-3, "{v:?}");
    }

    #[test]
    fn a_new_target_mid_slide_starts_from_where_the_cursor_is_drawn() {
        let knobs = MotionKnobs::default();
        let start = Instant::now();
        let mut m = CursorMotion::default();
        m.retarget(Some(target(0, 0)), start, &knobs);
        m.retarget(Some(target(50, 0)), start, &knobs);
        let mid = m.quad(ms(start, 50)).unwrap();
        m.retarget(Some(target(50, 10)), ms(start, 50), &knobs);
        assert_eq!(m.quad(ms(start, 50)).unwrap(), mid, "no jump when the target changes");
        assert_eq!(m.quad(ms(start, 200)), None);
    }

    #[test]
    fn short_moves_while_typing_use_the_short_length() {
        let knobs = MotionKnobs::default();
        let start = Instant::now();
        let mut m = CursorMotion::default();
        // A bar cursor, as nvim's insert mode has by default.
        let typing = |col| Target { insert: true, block: false, ..target(col, 3) };
        m.retarget(Some(typing(4)), start, &knobs);
        m.retarget(Some(typing(5)), start, &knobs);
        assert_eq!(m.end(start), Some(start + Duration::from_secs_f32(0.04) + Duration::from_micros(1)));
        assert!(m.moving(ms(start, 20)));
        assert!(!m.moving(ms(start, 40)));
        // Two cells is not typing: the full length.
        m.retarget(Some(typing(7)), ms(start, 100), &knobs);
        assert_eq!(
            m.end(ms(start, 100)),
            Some(ms(start, 100) + Duration::from_secs_f32(0.15) + Duration::from_micros(1))
        );
        // Off in insert mode: it jumps.
        let off = MotionKnobs { in_insert_mode: false, ..knobs };
        m.retarget(Some(typing(20)), ms(start, 300), &off);
        assert!(!m.moving(ms(start, 300)));
        // A block typing one cell on jumps, so the character just typed
        // shows in the key's first frame; further moves still slide.
        let block = |col| Target { insert: true, ..target(col, 3) };
        m.retarget(Some(block(30)), ms(start, 500), &knobs);
        m.retarget(Some(block(31)), ms(start, 1000), &knobs);
        assert!(!m.moving(ms(start, 1000)));
        m.retarget(Some(block(35)), ms(start, 1500), &knobs);
        assert!(m.moving(ms(start, 1500)));
    }

    #[test]
    fn length_zero_and_shape_changes_jump() {
        let start = Instant::now();
        let mut m = CursorMotion::default();
        let off = MotionKnobs { length: 0.0, ..MotionKnobs::default() };
        m.retarget(Some(target(0, 0)), start, &off);
        m.retarget(Some(target(30, 9)), start, &off);
        assert_eq!(m.quad(start), None);
        // Same cell, new shape (normal → insert bar): no smear.
        let knobs = MotionKnobs::default();
        let bar = Target { rect: [300.0, 180.0, 2.0, 20.0], insert: true, ..target(30, 9) };
        m.retarget(Some(bar), start, &knobs);
        assert_eq!(m.quad(start), None);
    }

    #[test]
    fn never_flies_to_the_command_line_and_back() {
        let knobs = MotionKnobs::default();
        let start = Instant::now();
        let mut m = CursorMotion::default();
        let cmdline = |col, mode| Target {
            rect: [col as f32 * 10.0, 29.0 * 20.0, 10.0, 20.0],
            cell: (1, 29, col),
            place: Place::CommandLine,
            cmdline: mode,
            insert: false,
            block: true,
        };
        m.retarget(Some(target(5, 3)), start, &knobs);
        // nvim parks the cursor on the message line (a message, :redraw)
        // outside command-line mode: shown there at once...
        m.retarget(Some(cmdline(0, false)), start, &knobs);
        assert!(!m.moving(start));
        // ...and back at once.
        m.retarget(Some(target(5, 3)), ms(start, 10), &knobs);
        assert!(!m.moving(ms(start, 10)));
        // In command-line mode it slides into the command line and along it.
        m.retarget(Some(cmdline(1, true)), ms(start, 20), &knobs);
        assert!(m.moving(ms(start, 30)));
        m.retarget(Some(cmdline(9, true)), ms(start, 400), &knobs);
        assert!(m.moving(ms(start, 410)));
        // Unless cursor_animate_command_line is off.
        let no_cmdline = MotionKnobs { command_line: false, ..knobs };
        m.retarget(Some(cmdline(12, true)), ms(start, 800), &no_cmdline);
        assert!(!m.moving(ms(start, 800)));
        // Leaving the command line (<CR>) returns to the text at once.
        m.retarget(Some(target(5, 20)), ms(start, 900), &knobs);
        assert!(!m.moving(ms(start, 900)));
    }

    #[test]
    fn a_grid_closing_mid_slide_ends_it() {
        let knobs = MotionKnobs::default();
        let start = Instant::now();
        let mut m = CursorMotion::default();
        m.retarget(Some(target(0, 0)), start, &knobs);
        m.retarget(Some(target(40, 20)), start, &knobs);
        assert!(m.moving(ms(start, 10)));
        m.retarget(None, ms(start, 10), &knobs);
        assert_eq!(m.quad(ms(start, 10)), None);
        assert_eq!(m.end(ms(start, 10)), None);
        // Seen again: shown where it is, no slide from the closed grid.
        m.retarget(Some(target(3, 3)), ms(start, 20), &knobs);
        assert!(!m.moving(ms(start, 20)));
    }

    #[test]
    fn a_diagonal_move_leads_with_the_far_corner() {
        let knobs = MotionKnobs::default();
        let start = Instant::now();
        let mut m = CursorMotion::default();
        m.retarget(Some(target(0, 0)), start, &knobs);
        m.retarget(Some(target(40, 20)), start, &knobs);
        let slide = m.slide.unwrap();
        let lengths: Vec<f32> = slide.corners.iter().map(|c| c.length).collect();
        // Bottom right leads, top left trails, the other two in between.
        assert!(lengths[2] < lengths[1] && lengths[2] < lengths[3], "{lengths:?}");
        assert!(lengths[0] > lengths[1] && lengths[0] > lengths[3], "{lengths:?}");
        assert!((lengths[0] - 0.15).abs() < 1e-6);
    }
}
