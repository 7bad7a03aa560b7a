//! Cursor particle effects (`cursor_vfx_mode`): a pure model with an
//! injected clock and its own seeded random numbers (no GPU, no
//! `Instant::now`, no global randomness), so tests and `--snapshot-at-ms`
//! see the same particles every time.
//!
//! ```text
//!   frame ──► Target::of ──► Vfx::retarget(target, now, knobs)
//!               moved to another cell, and the slide's rules allow it
//!               (never into the command line outside command-line mode)
//!                 │
//!                 ├─ trail modes (railgun, torpedo, pixiedust): particles
//!                 │  along the path, born as the cursor passes them
//!                 └─ highlight modes (sonicboom, ripple, wireframe): one
//!                    shape at the destination
//!                 ▼
//!   Vfx::sprites(now) ──► vfx::rects(sprites, colour) ──► overlay pass
//!   Vfx::end(now)     ──► the scheduler's Animation timer; None once the
//!                         last particle died: no timer left, no frames
//! ```
//!
//! Each particle's place is a closed form of its age, not the sum of the
//! frames drawn so far: its velocity turns at the curl's rate and decays,
//! v(t) = v0·e^((−k + iω)t) as a complex number, so its offset is
//! v0·(e^((−k + iω)t) − 1)/(−k + iω). A frame late or early shows the
//! same particle where it would have been anyway.

use std::f32::consts::TAU;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::cursor_motion::{MotionKnobs, Target, slide_length};
use super::font::CellMetrics;
use super::rects::{Kind, Rect, rgba};
use crate::model::Frame;

/// How fast a trail particle's speed decays, per second.
const DAMPING: f32 = 4.0;
/// A trail particle's first speed per unit of `cursor_vfx_particle_speed`,
/// in cell heights per second: at the default 10 a particle flies up to
/// two cell heights away in its life.
const SPEED_UNIT: f32 = 0.8;
/// Most particles one move spawns, and most alive at once: a jump across a
/// huge window stays a bounded amount of work per frame.
const MAX_PER_MOVE: usize = 512;
const MAX_ALIVE: usize = 2048;

/// One effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfxMode {
    /// A spiral of particles along the path.
    Railgun,
    /// Particles thrown back from the path, as a torpedo's wake.
    Torpedo,
    /// Glittering dust along the path, slowly falling.
    Pixiedust,
    /// A filled circle swelling from the destination.
    Sonicboom,
    /// A ring spreading from the destination.
    Ripple,
    /// The cursor's outline growing from the destination.
    Wireframe,
}

impl VfxMode {
    pub const ALL: [VfxMode; 6] = [
        VfxMode::Railgun,
        VfxMode::Torpedo,
        VfxMode::Pixiedust,
        VfxMode::Sonicboom,
        VfxMode::Ripple,
        VfxMode::Wireframe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            VfxMode::Railgun => "railgun",
            VfxMode::Torpedo => "torpedo",
            VfxMode::Pixiedust => "pixiedust",
            VfxMode::Sonicboom => "sonicboom",
            VfxMode::Ripple => "ripple",
            VfxMode::Wireframe => "wireframe",
        }
    }

    /// Whether it draws at the destination only (its life is
    /// `cursor_vfx_particle_highlight_lifetime`).
    pub fn highlight(self) -> bool {
        matches!(self, VfxMode::Sonicboom | VfxMode::Ripple | VfxMode::Wireframe)
    }
}

/// The `cursor_vfx_mode` knob: the effects on, in order; none by default.
/// Written as one name, a comma list (`"railgun,ripple"`, what a Vimscript
/// string holds) or a list (`["railgun", "ripple"]`, a Lua table); `""`
/// and `[]` turn them off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VfxModes(pub Vec<VfxMode>);

impl VfxModes {
    /// Parses a comma list of names.
    pub fn parse(text: &str) -> Result<VfxModes, String> {
        let mut modes = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            add(&mut modes, name)?;
        }
        Ok(VfxModes(modes))
    }
}

fn add(modes: &mut Vec<VfxMode>, name: &str) -> Result<(), String> {
    let mode = VfxMode::ALL
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("unknown effect '{name}'"))?;
    if !modes.contains(&mode) {
        modes.push(mode);
    }
    Ok(())
}

impl<'de> Deserialize<'de> for VfxModes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            One(String),
            Many(Vec<String>),
        }
        let text = match Written::deserialize(d)? {
            Written::One(text) => text,
            Written::Many(names) => names.join(","),
        };
        VfxModes::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The knobs the effects follow (from the settings).
#[derive(Debug, Clone, PartialEq)]
pub struct VfxKnobs {
    pub modes: Vec<VfxMode>,
    /// 0..1 (the knob's 0..255 scaled).
    pub opacity: f32,
    /// Seconds a trail particle lives.
    pub lifetime: f32,
    /// Seconds a highlight (sonicboom, ripple, wireframe) lasts.
    pub highlight_lifetime: f32,
    /// Trail particles per cell of the path.
    pub density: f32,
    /// How fast trail particles fly off.
    pub speed: f32,
    /// Radians the railgun's spiral turns per cell of the path.
    pub phase: f32,
    /// How fast trail particles' paths bend, in turns per second.
    pub curl: f32,
}

impl Default for VfxKnobs {
    fn default() -> Self {
        VfxKnobs {
            modes: Vec::new(),
            opacity: 200.0 / 255.0,
            lifetime: 1.2,
            highlight_lifetime: 0.2,
            density: 7.0,
            speed: 10.0,
            phase: 1.5,
            curl: 1.0,
        }
    }
}

impl VfxKnobs {
    pub fn from_settings(s: &crate::settings::Settings) -> VfxKnobs {
        VfxKnobs {
            modes: s.cursor_vfx_mode.0.clone(),
            opacity: s.cursor_vfx_opacity.0 / 255.0,
            lifetime: s.cursor_vfx_particle_lifetime.0,
            highlight_lifetime: s.cursor_vfx_particle_highlight_lifetime.0,
            density: s.cursor_vfx_particle_density.0,
            speed: s.cursor_vfx_particle_speed.0,
            phase: s.cursor_vfx_particle_phase.0,
            curl: s.cursor_vfx_particle_curl.0,
        }
    }
}

/// What a sprite looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A filled circle filling its rect (trail particles, sonicboom).
    Disc,
    /// A circle's outline, `stroke` thick (ripple).
    Ring,
    /// A rectangle's outline, `stroke` thick (wireframe).
    Outline,
}

/// One thing to draw at some instant, in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sprite {
    pub shape: Shape,
    /// x, y, width, height.
    pub rect: [f32; 4],
    /// 0..1, times the cursor colour's.
    pub alpha: f32,
    /// Line thickness of rings and outlines, in pixels.
    pub stroke: f32,
}

/// How a particle moves and changes over its life.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Motion {
    /// A trail particle: from `origin` with `velocity` (pixels per second)
    /// turning at `turn` radians per second and decaying, plus a steady
    /// `drift`; a disc `size` across that shrinks as it ages.
    Flying { origin: [f32; 2], velocity: [f32; 2], turn: f32, drift: [f32; 2], size: f32 },
    /// A highlight growing from the cursor's rect `from`, `grow` pixels
    /// further out on each side at its end.
    Growing { from: [f32; 4], grow: f32 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Particle {
    mode: VfxMode,
    born: Instant,
    /// Seconds.
    life: f32,
    motion: Motion,
}

impl Particle {
    fn death(&self) -> Instant {
        self.born + Duration::from_secs_f32(self.life)
    }

    /// The sprite at `now`; `None` before its birth and from its death on.
    fn sprite(&self, now: Instant, opacity: f32) -> Option<Sprite> {
        let age = now.checked_duration_since(self.born)?.as_secs_f32();
        if age >= self.life {
            return None;
        }
        let x = age / self.life;
        let fade = 1.0 - x;
        match self.motion {
            Motion::Flying { origin, velocity, turn, drift, size } => {
                let off = flown(velocity, turn, age);
                let d = size * fade.sqrt();
                let c = [origin[0] + off[0] + drift[0] * age, origin[1] + off[1] + drift[1] * age];
                let rect = [c[0] - d / 2.0, c[1] - d / 2.0, d, d];
                Some(Sprite { shape: Shape::Disc, rect, alpha: opacity * fade, stroke: 0.0 })
            }
            Motion::Growing { from: [fx, fy, fw, fh], grow } => {
                // Fast at first, slowing to a stop.
                let eased = 1.0 - (1.0 - x) * (1.0 - x);
                let alpha = opacity * fade;
                let (cx, cy) = (fx + fw / 2.0, fy + fh / 2.0);
                let sprite = match self.mode {
                    VfxMode::Wireframe => {
                        let g = grow * eased;
                        let rect = [fx - g, fy - g, fw + 2.0 * g, fh + 2.0 * g];
                        Sprite { shape: Shape::Outline, rect, alpha, stroke: (fh / 10.0).max(1.0) }
                    }
                    mode => {
                        let r = grow * eased;
                        let rect = [cx - r, cy - r, 2.0 * r, 2.0 * r];
                        let shape = if mode == VfxMode::Ripple { Shape::Ring } else { Shape::Disc };
                        Sprite { shape, rect, alpha, stroke: (fh / 8.0).max(1.5) }
                    }
                };
                Some(sprite)
            }
        }
    }
}

/// The offset after `t` seconds of a particle that set off at `v`,
/// turning at `w` radians per second and slowing by [`DAMPING`]:
/// ∫₀ᵗ v·e^((−k + iω)s) ds.
fn flown(v: [f32; 2], w: f32, t: f32) -> [f32; 2] {
    let (a, b) = (-DAMPING, w);
    let e = (a * t).exp();
    // (e^(zt) − 1) / z with z = a + ib.
    let (nr, ni) = (e * (b * t).cos() - 1.0, e * (b * t).sin());
    let den = a * a + b * b;
    let (qr, qi) = ((nr * a + ni * b) / den, (ni * a - nr * b) / den);
    [v[0] * qr - v[1] * qi, v[0] * qi + v[1] * qr]
}

/// A small seeded generator (SplitMix64): the same moves give the same
/// particles on every run.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }
}

/// The particles alive, and where the cursor was.
#[derive(Debug, Clone)]
pub struct Vfx {
    last: Option<Target>,
    particles: Vec<Particle>,
    rng: Rng,
}

impl Default for Vfx {
    fn default() -> Self {
        Vfx { last: None, particles: Vec::new(), rng: Rng(0x005e_ed0f_7e1e) }
    }
}

impl Vfx {
    /// Takes the cursor of a new frame at `now`: a move to another cell
    /// spawns the effects on (none without a move, on first sight, or
    /// where the slide's rules make the cursor jump rather than travel:
    /// into the command line outside command-line mode and back).
    /// `motion` gives the slide's length, over which trail particles are
    /// born as the cursor passes.
    pub fn retarget(
        &mut self,
        target: Option<Target>,
        now: Instant,
        m: CellMetrics,
        knobs: &VfxKnobs,
        motion: &MotionKnobs,
    ) {
        self.step(now);
        if knobs.modes.is_empty() {
            // Turned off: what is alive goes at once.
            self.particles.clear();
        }
        let prev = std::mem::replace(&mut self.last, target);
        let (Some(prev), Some(next)) = (prev, target) else { return };
        if knobs.modes.is_empty() || prev.cell == next.cell {
            return;
        }
        // The place rules alone: with cursor_animation_length 0 the
        // effects still show, at once.
        let travels = MotionKnobs { length: 1.0, short_length: 1.0, ..*motion };
        if slide_length(&prev, &next, &travels).is_none() {
            return;
        }
        let travel = slide_length(&prev, &next, motion).unwrap_or(0.0);
        let cell = [m.width as f32, m.height as f32];
        self.spawn(prev.rect, next.rect, now, cell, travel, knobs);
    }

    /// Spawns every effect in `knobs` for a move from the rect `from` to
    /// `to` (x, y, width, height in pixels) at `now`, with cells of `cell`
    /// pixels, the cursor taking `travel` seconds to get there.
    pub fn spawn(
        &mut self,
        from: [f32; 4],
        to: [f32; 4],
        now: Instant,
        cell: [f32; 2],
        travel: f32,
        knobs: &VfxKnobs,
    ) {
        let centre = |r: [f32; 4]| [r[0] + r[2] / 2.0, r[1] + r[3] / 2.0];
        let (a, b) = (centre(from), centre(to));
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        let dir = if len > 0.0 { [dx / len, dy / len] } else { [1.0, 0.0] };
        // The path's length in cells, counting a row as a row.
        let cells = (dx / cell[0]).hypot(dy / cell[1]);
        let ch = cell[1];
        let v0 = knobs.speed * SPEED_UNIT * ch;
        let turn = knobs.curl * TAU;
        for &mode in &knobs.modes {
            if mode.highlight() {
                let grow = match mode {
                    VfxMode::Wireframe => ch * 0.75,
                    _ => ch * 1.5,
                };
                self.particles.push(Particle {
                    mode,
                    born: now,
                    life: knobs.highlight_lifetime,
                    motion: Motion::Growing { from: to, grow },
                });
                continue;
            }
            // At least one for any density above 0, however short the move.
            let least = usize::from(knobs.density > 0.0);
            let count = ((knobs.density * cells).round() as usize).clamp(least, MAX_PER_MOVE);
            for i in 0..count {
                let f = (i as f32 + 0.5) / count as f32;
                let origin = [a[0] + dx * f, a[1] + dy * f];
                let born = now + Duration::from_secs_f32(travel * f * 0.5);
                let life = knobs.lifetime * self.rng.range(0.6, 1.0);
                let (velocity, turn, drift, size) = match mode {
                    VfxMode::Railgun => {
                        // Out from the path, turning with the distance
                        // along it: a spiral.
                        let angle = knobs.phase * cells * f;
                        let (s, c) = angle.sin_cos();
                        let perp = [-dir[1], dir[0]];
                        let v = [perp[0] * c - perp[1] * s, perp[0] * s + perp[1] * c];
                        let speed = v0 * self.rng.range(0.5, 1.0);
                        ([v[0] * speed, v[1] * speed], turn, [0.0; 2], ch * 0.2)
                    }
                    VfxMode::Torpedo => {
                        // Back along the path, spread a little, each
                        // curling one way or the other.
                        let angle = self.rng.range(-0.6, 0.6);
                        let (s, c) = angle.sin_cos();
                        let back = [-dir[0], -dir[1]];
                        let speed = v0 * self.rng.range(0.5, 1.0);
                        let v = [(back[0] * c - back[1] * s) * speed, (back[0] * s + back[1] * c) * speed];
                        let sign = if self.rng.range(0.0, 1.0) < 0.5 { -1.0 } else { 1.0 };
                        (v, turn * sign, [0.0; 2], ch * 0.25)
                    }
                    _ => {
                        // Pixiedust: any way, slowly, and falling.
                        let angle = self.rng.range(0.0, TAU);
                        let speed = v0 * self.rng.range(0.1, 0.4);
                        let v = [angle.cos() * speed, angle.sin() * speed];
                        (v, turn * 0.25, [0.0, ch * 0.6], ch * self.rng.range(0.1, 0.2))
                    }
                };
                let motion = Motion::Flying { origin, velocity, turn, drift, size };
                self.particles.push(Particle { mode, born, life, motion });
            }
        }
        if self.particles.len() > MAX_ALIVE {
            let extra = self.particles.len() - MAX_ALIVE;
            self.particles.drain(..extra);
        }
    }

    /// Forgets the particles dead at `now`.
    pub fn step(&mut self, now: Instant) {
        self.particles.retain(|p| p.death() > now);
    }

    /// What to draw at `now`.
    pub fn sprites(&self, now: Instant, opacity: f32) -> Vec<Sprite> {
        self.particles.iter().filter_map(|p| p.sprite(now, opacity)).collect()
    }

    /// When the last particle dies; `None` when none is left at `now`
    /// (no frame is needed for the effects).
    pub fn end(&self, now: Instant) -> Option<Instant> {
        let last = self.particles.iter().map(Particle::death).max()?;
        // A microsecond late, so the last one is surely gone when it wakes.
        (last > now).then(|| last + Duration::from_micros(1))
    }

    /// Whether nothing is left to draw at `now`.
    pub fn is_idle(&self, now: Instant) -> bool {
        self.end(now).is_none()
    }
}

/// The cursor's colour in `frame` (its 'guicursor' highlight's
/// background), the particles' colour; the foreground where it has none.
pub fn cursor_color(frame: &Frame, m: CellMetrics) -> [f32; 4] {
    let mut rects = Vec::new();
    super::geometry::cursor(frame, m, &mut rects);
    rects.first().map_or_else(|| rgba(frame.defaults.fg, 1.0), |r| r.color)
}

/// The rect instances that draw `sprites` in `color` (its alpha scaled
/// by each sprite's).
pub fn rects(sprites: &[Sprite], color: [f32; 4]) -> Vec<Rect> {
    let mut out = Vec::with_capacity(sprites.len());
    for s in sprites {
        let c = [color[0], color[1], color[2], color[3] * s.alpha.clamp(0.0, 1.0)];
        let [x, y, w, h] = s.rect;
        match s.shape {
            Shape::Disc => out.push(Rect::shaped(x, y, w, h, c, Kind::Disc, 0.0)),
            Shape::Ring => out.push(Rect::shaped(x, y, w, h, c, Kind::Ring, s.stroke)),
            Shape::Outline => {
                let t = s.stroke.min(w / 2.0).min(h / 2.0);
                out.push(Rect::solid(x, y, w, t, c));
                out.push(Rect::solid(x, y + h - t, w, t, c));
                out.push(Rect::solid(x, y + t, t, h - 2.0 * t, c));
                out.push(Rect::solid(x + w - t, y + t, t, h - 2.0 * t, c));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::cursor_motion::Place;

    const M: CellMetrics = CellMetrics {
        width: 10,
        height: 20,
        font_px: 16.0,
        baseline: 16.0,
        underline_offset: 2.0,
        stroke: 1.0,
    };

    use crate::render::cursor_motion::tests::{ms, target};

    fn knobs(modes: &[VfxMode]) -> VfxKnobs {
        VfxKnobs { modes: modes.to_vec(), ..VfxKnobs::default() }
    }

    /// A move from (0, 0) to (`col`, `row`) at `start` with `modes`.
    fn moved(modes: &[VfxMode], col: usize, row: usize, start: Instant) -> Vfx {
        let (k, motion) = (knobs(modes), MotionKnobs::default());
        let mut vfx = Vfx::default();
        vfx.retarget(Some(target(0, 0)), start, M, &k, &motion);
        vfx.retarget(Some(target(col, row)), start, M, &k, &motion);
        vfx
    }

    #[test]
    fn a_move_spawns_particles_that_age_and_die_by_the_lifetime() {
        let start = Instant::now();
        let vfx = moved(&[VfxMode::Railgun], 0, 10, start);
        // 10 rows at 7 particles a cell.
        assert_eq!(vfx.particles.len(), 70);
        let early = vfx.sprites(ms(start, 100), 1.0);
        assert!(!early.is_empty(), "particles show during the move");
        let late = vfx.sprites(ms(start, 900), 1.0);
        assert!(!late.is_empty() && late.len() <= 70);
        // They fade and shrink as they age.
        let mean = |s: &[Sprite]| s.iter().map(|s| s.alpha).sum::<f32>() / s.len() as f32;
        assert!(mean(&late) < mean(&early), "{} !< {}", mean(&late), mean(&early));
        assert!(late.iter().all(|s| s.rect[2] < 4.0), "shrunk below their first size of 4 px");
        // Born by half the slide (0.075 s), dead by the lifetime after it.
        let end = vfx.end(start).expect("particles alive");
        assert!(end <= start + Duration::from_secs_f32(0.075 + 1.2) + Duration::from_micros(2), "{end:?}");
        assert!(vfx.sprites(ms(start, 1276), 1.0).is_empty());
        assert_eq!(vfx.end(ms(start, 1276)), None);
    }

    #[test]
    fn no_particles_without_motion() {
        let start = Instant::now();
        let all = knobs(&VfxMode::ALL);
        let motion = MotionKnobs::default();
        let mut vfx = Vfx::default();
        vfx.retarget(Some(target(3, 3)), start, M, &all, &motion);
        assert!(vfx.is_idle(start), "first sight: no move");
        vfx.retarget(Some(target(3, 3)), ms(start, 10), M, &all, &motion);
        assert!(vfx.is_idle(ms(start, 10)), "the same cell");
        // Only the shape changed (normal to insert: a bar on the same cell).
        let bar = Target { rect: [30.0, 60.0, 2.0, 20.0], insert: true, ..target(3, 3) };
        vfx.retarget(Some(bar), ms(start, 20), M, &all, &motion);
        assert!(vfx.is_idle(ms(start, 20)), "a shape change");
        // Off: a move spawns nothing.
        vfx.retarget(Some(target(9, 9)), ms(start, 30), M, &knobs(&[]), &motion);
        assert!(vfx.is_idle(ms(start, 30)), "cursor_vfx_mode empty");
    }

    #[test]
    fn nothing_flies_to_the_command_line_when_nvim_only_parks_the_cursor_there() {
        let start = Instant::now();
        let k = knobs(&[VfxMode::Railgun, VfxMode::Ripple]);
        let motion = MotionKnobs::default();
        let parked = Target {
            rect: [0.0, 580.0, 10.0, 20.0],
            cell: (1, 29, 0),
            place: Place::CommandLine,
            cmdline: false,
            insert: false,
            block: true,
        };
        let mut vfx = Vfx::default();
        vfx.retarget(Some(target(5, 3)), start, M, &k, &motion);
        vfx.retarget(Some(parked), start, M, &k, &motion);
        assert!(vfx.is_idle(start), "a message parks the cursor on the command line");
        vfx.retarget(Some(target(5, 3)), start, M, &k, &motion);
        assert!(vfx.is_idle(start), "and back");
        // With the slide off, the effects still show for a move in the text.
        let off = MotionKnobs { length: 0.0, ..motion };
        vfx.retarget(Some(target(5, 9)), start, M, &k, &off);
        assert!(!vfx.is_idle(start));
        assert!(vfx.sprites(start, 1.0).len() > 1, "all born at once without a slide");
    }

    #[test]
    fn each_mode_draws_its_shape() {
        let start = Instant::now();
        let at = ms(start, 100);
        let shapes = |mode| {
            let vfx = moved(&[mode], 8, 4, start);
            let sprites = vfx.sprites(at, 1.0);
            assert!(!sprites.is_empty(), "{mode:?} drew nothing");
            sprites
        };
        let dest = [80.0, 80.0, 10.0, 20.0];
        let dest_centre = [85.0, 90.0];
        for mode in [VfxMode::Railgun, VfxMode::Torpedo, VfxMode::Pixiedust] {
            let s = shapes(mode);
            assert!(s.len() > 1, "{mode:?}: particles along the path");
            assert!(s.iter().all(|s| s.shape == Shape::Disc && s.rect[2] == s.rect[3]), "{mode:?}");
        }
        for (mode, shape) in [(VfxMode::Sonicboom, Shape::Disc), (VfxMode::Ripple, Shape::Ring)] {
            let s = shapes(mode);
            assert_eq!(s.len(), 1, "{mode:?}: one shape");
            let [x, y, w, h] = s[0].rect;
            assert_eq!(s[0].shape, shape);
            assert_eq!(w, h, "{mode:?}: round");
            assert!(w > 20.0, "{mode:?}: grown past the cell at half its life: {w}");
            assert!(
                (x + w / 2.0 - dest_centre[0]).abs() < 1e-3 && (y + h / 2.0 - dest_centre[1]).abs() < 1e-3
            );
        }
        let s = shapes(VfxMode::Wireframe);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].shape, Shape::Outline);
        let [x, y, w, h] = s[0].rect;
        assert!(
            x < dest[0] && y < dest[1] && x + w > 90.0 && y + h > 100.0,
            "outside the cell: {:?}",
            s[0].rect
        );
        assert!((w - h - (dest[2] - dest[3])).abs() < 1e-3, "the cursor's proportions, grown evenly");
        // Highlights last cursor_vfx_particle_highlight_lifetime (0.2 s).
        let vfx = moved(&[VfxMode::Ripple], 8, 4, start);
        assert!(vfx.sprites(ms(start, 199), 1.0).len() == 1);
        assert!(vfx.is_idle(ms(start, 201)));
    }

    #[test]
    fn railgun_particles_spiral_out_from_the_path() {
        let start = Instant::now();
        // Straight right along row 0: the path is y = 10.
        let vfx = moved(&[VfxMode::Railgun], 20, 0, start);
        let sprites = vfx.sprites(ms(start, 300), 1.0);
        let centre_y = |s: &Sprite| s.rect[1] + s.rect[3] / 2.0;
        let above = sprites.iter().filter(|s| centre_y(s) < 9.0).count();
        let below = sprites.iter().filter(|s| centre_y(s) > 11.0).count();
        assert!(above > 10 && below > 10, "both sides of the path: {above} above, {below} below");
    }

    #[test]
    fn a_list_of_modes_spawns_each() {
        let start = Instant::now();
        let vfx = moved(&[VfxMode::Railgun, VfxMode::Ripple], 0, 10, start);
        let sprites = vfx.sprites(ms(start, 100), 1.0);
        assert_eq!(sprites.iter().filter(|s| s.shape == Shape::Ring).count(), 1, "the ripple");
        assert!(sprites.iter().filter(|s| s.shape == Shape::Disc).count() > 10, "the railgun's particles");
        // The ripple ends first; the railgun's particles live on.
        let later = vfx.sprites(ms(start, 400), 1.0);
        assert!(later.iter().all(|s| s.shape == Shape::Disc) && !later.is_empty());
    }

    #[test]
    fn idle_after_the_lifetime_and_free_of_timers() {
        let start = Instant::now();
        let mut vfx = moved(&[VfxMode::Torpedo, VfxMode::Wireframe], 30, 5, start);
        let mut t = 0;
        // Frames at 60 Hz until the effects ask for none.
        while let Some(end) = vfx.end(ms(start, t)) {
            assert!(end > ms(start, t));
            vfx.step(ms(start, t));
            t += 16;
            assert!(t < 2000, "still animating after 2 s");
        }
        assert!(t >= 1200 * 6 / 10, "lived at least the shortest lifetime: {t} ms");
        assert!(vfx.is_idle(ms(start, t)));
        assert!(vfx.sprites(ms(start, t), 1.0).is_empty());
        vfx.step(ms(start, t));
        assert_eq!(vfx.particles.len(), 0, "forgotten once dead");
    }

    #[test]
    fn the_same_moves_give_the_same_particles() {
        let start = Instant::now();
        let modes = [VfxMode::Torpedo, VfxMode::Pixiedust];
        let a = moved(&modes, 12, 7, start).sprites(ms(start, 250), 1.0);
        let b = moved(&modes, 12, 7, start).sprites(ms(start, 250), 1.0);
        assert_eq!(a, b);
        // And a particle's place depends on its age only, not on frames.
        let mut stepped = moved(&modes, 12, 7, start);
        for t in (0..250).step_by(7) {
            stepped.step(ms(start, t));
        }
        assert_eq!(stepped.sprites(ms(start, 250), 1.0), a);
    }

    #[test]
    fn the_flight_is_the_integral_of_the_velocity() {
        let (v, w) = ([30.0, -12.0], 4.0);
        let mut pos = [0.0f32; 2];
        let dt = 1e-4;
        let mut t = 0.0f32;
        while t < 0.5 {
            let e = (-DAMPING * t).exp();
            let (s, c) = (w * t).sin_cos();
            pos[0] += (v[0] * c - v[1] * s) * e * dt;
            pos[1] += (v[0] * s + v[1] * c) * e * dt;
            t += dt;
        }
        let closed = flown(v, w, t);
        assert!((closed[0] - pos[0]).abs() < 0.05 && (closed[1] - pos[1]).abs() < 0.05, "{closed:?} {pos:?}");
    }

    #[test]
    fn modes_parse_from_a_name_a_comma_list_or_a_list() {
        let parse = |v: toml::Value| VfxModes::deserialize(v).map(|m| m.0).map_err(|e| e.to_string());
        assert_eq!(parse("railgun".into()), Ok(vec![VfxMode::Railgun]));
        assert_eq!(parse("railgun, Ripple".into()), Ok(vec![VfxMode::Railgun, VfxMode::Ripple]));
        let list = toml::Value::Array(vec!["torpedo".into(), "wireframe".into()]);
        assert_eq!(parse(list), Ok(vec![VfxMode::Torpedo, VfxMode::Wireframe]));
        assert_eq!(parse("".into()), Ok(vec![]));
        assert_eq!(parse(toml::Value::Array(vec![])), Ok(vec![]));
        assert!(parse("laser".into()).unwrap_err().contains("unknown effect 'laser'"));
        assert!(parse(toml::Value::Integer(3)).is_err());
    }

    #[test]
    fn sprites_become_rect_instances_in_the_cursor_colour() {
        let color = [1.0, 0.5, 0.25, 1.0];
        let sprites = [
            Sprite { shape: Shape::Disc, rect: [1.0, 2.0, 3.0, 3.0], alpha: 0.5, stroke: 0.0 },
            Sprite { shape: Shape::Ring, rect: [0.0, 0.0, 40.0, 40.0], alpha: 1.0, stroke: 2.5 },
            Sprite { shape: Shape::Outline, rect: [10.0, 10.0, 30.0, 40.0], alpha: 1.0, stroke: 2.0 },
        ];
        let r = rects(&sprites, color);
        assert_eq!(r.len(), 6);
        assert_eq!(r[0].kind, Kind::Disc as u32);
        assert_eq!(r[0].color, [1.0, 0.5, 0.25, 0.5]);
        assert_eq!((r[1].kind, r[1].param), (Kind::Ring as u32, 2.5));
        // The outline's four sides cover its border once.
        let area: f32 = r[2..].iter().map(|r| r.size[0] * r.size[1]).sum();
        assert_eq!(area, 30.0 * 40.0 - 26.0 * 36.0);
    }
}
