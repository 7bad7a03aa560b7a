//! Sliding offsets for smooth scrolling and window moves: a pure model
//! with an injected clock (no GPU, no `Instant::now`), so tests step time
//! by hand.
//!
//! ```text
//!   the text moved by `by` pixels ──► Slide::moved(by, now, length)
//!                                        offset −by more than now, then
//!                                        springs back to 0 over `length`
//!   Slide::offset(now) ──► where to draw, relative to the final place
//!   Slide::end(now)    ──► when it rests; None: at rest (no timer left)
//! ```
//!
//! The offset follows a critically damped spring, x(t) = (x0 + (v0 +
//! ω·x0)·t)·e^(−ωt), with the spring's own remainder at the length faded
//! out over it (× (t/T)²), so it lands exactly on 0 at `length` and ends.
//! A move in the middle of a slide starts from where it is drawn, with its
//! speed, so holding a key glides instead of stuttering.

use std::time::{Duration, Instant};

/// ω·T: how stiff the spring is for its length T (as the cursor's).
const STIFFNESS: f32 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Spring {
    from: f32,
    velocity: f32,
    start: Instant,
    length: f32,
}

impl Spring {
    /// Offset and velocity `now`.
    fn at(&self, now: Instant) -> (f32, f32) {
        let length = self.length;
        let t = now.saturating_duration_since(self.start).as_secs_f32().min(length);
        let omega = STIFFNESS / length;
        let b = self.velocity + omega * self.from;
        let spring = |t: f32| (self.from + b * t) * (-omega * t).exp();
        let rest = spring(length);
        let x = spring(t) - rest * (t / length).powi(2);
        let v = (self.velocity - omega * b * t) * (-omega * t).exp() - rest * 2.0 * t / (length * length);
        (x, v)
    }

    fn end(&self) -> Instant {
        self.start + Duration::from_secs_f32(self.length)
    }
}

/// One axis of a sliding layer: how far it is drawn from its place.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Slide {
    spring: Option<Spring>,
}

impl Slide {
    /// What is drawn moved `by` pixels at `now` (the text scrolled up by
    /// three rows: `by` = −3 rows): it is first drawn where it was, then
    /// slides to its new place over `length` seconds, from where an
    /// earlier slide has got to. The offset is kept within `±limit`
    /// (nothing is kept to show beyond it). A length of 0 jumps.
    pub fn moved(&mut self, by: f32, now: Instant, length: f32, limit: f32) {
        let (x, v) = self.spring.filter(|s| now < s.end()).map_or((0.0, 0.0), |s| s.at(now));
        let from = (x - by).clamp(-limit, limit);
        self.spring =
            (length > 0.0 && from.abs() >= 0.5).then_some(Spring { from, velocity: v, start: now, length });
    }

    /// How far from its place to draw it at `now`, in pixels.
    pub fn offset(&self, now: Instant) -> f32 {
        self.spring.filter(|s| now < s.end()).map_or(0.0, |s| s.at(now).0)
    }

    /// When the slide ends; `None` when it rests at `now`.
    pub fn end(&self, now: Instant) -> Option<Instant> {
        self.spring.map(|s| s.end()).filter(|&end| now < end)
    }

    /// Stops at once, on the final place.
    pub fn stop(&mut self) {
        self.spring = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_move_starts_where_it_was_and_lands_exactly_on_its_place() {
        let start = Instant::now();
        let mut slide = Slide::default();
        slide.moved(-60.0, start, 0.3, 1000.0);
        assert_eq!(slide.offset(start), 60.0, "drawn where it was");
        let mid = slide.offset(ms(start, 150));
        assert!(mid > 0.0 && mid < 30.0, "half way in time, most of the way there: {mid}");
        let mut last = 60.0;
        for t in (0..=300).step_by(10) {
            let x = slide.offset(ms(start, t));
            assert!(x <= last + 1e-3 && x >= -1e-3, "never turns back or overshoots: {x} after {last}");
            last = x;
        }
        assert_eq!(slide.offset(ms(start, 301)), 0.0);
        let end = slide.end(ms(start, 299)).expect("still sliding");
        assert!(end.duration_since(ms(start, 300)) < Duration::from_millis(1), "{end:?}");
        assert_eq!(slide.end(ms(start, 301)), None, "no timer left behind");
    }

    #[test]
    fn moves_mid_slide_add_up_from_where_it_is_drawn() {
        let start = Instant::now();
        let mut slide = Slide::default();
        slide.moved(-20.0, start, 0.3, 1000.0);
        let at = slide.offset(ms(start, 50));
        slide.moved(-20.0, ms(start, 50), 0.3, 1000.0);
        assert!((slide.offset(ms(start, 50)) - (at + 20.0)).abs() < 1e-3);
        let end = slide.end(ms(start, 50)).expect("sliding");
        assert!(
            end.duration_since(ms(start, 350)) < Duration::from_millis(1),
            "the length counts from the last move"
        );
    }

    #[test]
    fn the_offset_stays_within_what_is_kept_and_zero_length_jumps() {
        let start = Instant::now();
        let mut slide = Slide::default();
        slide.moved(-5000.0, start, 0.3, 400.0);
        assert_eq!(slide.offset(start), 400.0);
        slide.moved(50.0, start, 0.0, 400.0);
        assert_eq!(slide.offset(start), 0.0);
        assert_eq!(slide.end(start), None);
        slide.moved(-30.0, start, 0.3, 400.0);
        slide.stop();
        assert_eq!(slide.end(start), None);
    }
}
