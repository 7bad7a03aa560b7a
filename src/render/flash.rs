//! The bell's flash: a pure model with an injected clock (no GPU, no
//! `Instant::now`), so tests step time by hand.
//!
//! ```text
//!   frame ──► Flash::ring(bells, visual_bells, now, audible)
//!               a new visual_bell, or a new bell with `visual_bell` on:
//!               the flash starts over at `now`
//!                  │
//!                  ▼
//!   Flash::strength(now) ──► Some(0..=PEAK): tint the window toward the
//!                            foreground colour this much
//!                            None: over (no timer is left behind)
//! ```
//!
//! nvim sends `bell` and `visual_bell` as events; the model keeps running
//! counts in each frame, so a frame with a higher count than the last one
//! seen rang the bell since. The first frame seen only sets the counts: a
//! bell from before vireo drew anything is not shown late.

use std::time::{Duration, Instant};

/// How long a flash lasts.
pub const LENGTH: Duration = Duration::from_millis(150);

/// How far toward the foreground colour the window is tinted at the start.
pub const PEAK: f32 = 0.35;

/// The bell's flash over time.
#[derive(Debug, Default, Clone)]
pub struct Flash {
    /// The counts of the last frame seen: (bells, visual bells).
    seen: Option<(u64, u64)>,
    start: Option<Instant>,
}

impl Flash {
    /// Takes a frame's running bell counts at `now`; `audible` (the
    /// `visual_bell` knob) makes a plain bell flash too.
    pub fn ring(&mut self, bells: u64, visual_bells: u64, now: Instant, audible: bool) {
        let Some((old_bells, old_visual)) = self.seen.replace((bells, visual_bells)) else {
            return;
        };
        if visual_bells > old_visual || (audible && bells > old_bells) {
            self.start = Some(now);
        }
    }

    /// How strongly the window is tinted at `now`: `PEAK` as the bell
    /// rings, fading out linearly to nothing at `LENGTH`; `None` when no
    /// flash is on.
    pub fn strength(&self, now: Instant) -> Option<f32> {
        let t = now.checked_duration_since(self.start?)?;
        (t < LENGTH).then(|| PEAK * (1.0 - t.as_secs_f32() / LENGTH.as_secs_f32()))
    }

    /// When the flash ends; `None` when none is on at `now`.
    pub fn end(&self, now: Instant) -> Option<Instant> {
        self.strength(now)?;
        self.start.map(|start| start + LENGTH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_visual_bell_flashes_and_fades_out() {
        let start = Instant::now();
        let mut f = Flash::default();
        f.ring(0, 0, start, false);
        assert_eq!(f.strength(start), None, "nothing rang");
        f.ring(0, 1, ms(start, 10), false);
        assert_eq!(f.strength(ms(start, 10)), Some(PEAK), "at full strength as it rings");
        let half = f.strength(ms(start, 85)).expect("halfway");
        assert!((half - PEAK / 2.0).abs() < 1e-4, "halfway: half as strong: {half}");
        let late = f.strength(ms(start, 150)).expect("near the end");
        assert!(late < half && late > 0.0, "fading: {late}");
        assert_eq!(f.end(ms(start, 100)), Some(ms(start, 160)));
        assert_eq!(f.strength(ms(start, 160)), None, "over at its length");
        assert_eq!(f.end(ms(start, 160)), None, "no timer left");
        assert_eq!(f.strength(ms(start, 5000)), None);
    }

    #[test]
    fn a_plain_bell_flashes_only_with_the_knob() {
        let start = Instant::now();
        let mut f = Flash::default();
        f.ring(0, 0, start, false);
        f.ring(1, 0, ms(start, 10), false);
        assert_eq!(f.strength(ms(start, 10)), None, "knob off: nothing visible");
        f.ring(2, 0, ms(start, 20), true);
        assert_eq!(f.strength(ms(start, 20)), Some(PEAK), "knob on: a flash");
    }

    #[test]
    fn only_new_bells_flash_and_a_new_one_starts_over() {
        let start = Instant::now();
        let mut f = Flash::default();
        f.ring(3, 4, start, true);
        assert_eq!(f.strength(start), None, "bells before the first frame are not shown late");
        f.ring(3, 5, ms(start, 10), true);
        f.ring(3, 5, ms(start, 100), true);
        assert!(f.strength(ms(start, 100)).is_some_and(|s| s < PEAK), "the same count does not restart it");
        f.ring(3, 6, ms(start, 100), true);
        assert_eq!(f.strength(ms(start, 100)), Some(PEAK), "a new bell starts over");
        assert_eq!(f.end(ms(start, 100)), Some(ms(start, 250)));
    }
}
