//! When the event loop must wake by itself: one scheduler for every timer.
//!
//! ```text
//!   Blink ── next phase change ──┐
//!   Pacer ── frame put off ──────┼──► Scheduler ── earliest ──► ControlFlow::WaitUntil
//!   Animation ── next own frame ─┘        │
//!                                          └── none due ──► ControlFlow::Wait (zero idle work)
//! ```
//!
//! Each timer registers the next instant it needs (or clears itself) right
//! before the loop sleeps. When the loop wakes at that instant, the timers
//! due are taken and each says what to do; today every one of them asks
//! for a redraw. Nothing here reads a clock: `now` is always passed in, so
//! tests step time by hand.

use std::time::{Duration, Instant};

use crate::model::Frame;
use crate::settings::Settings;

/// A reason to wake the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// The cursor's blink phase changes.
    Blink,
    /// A frame put off by the frame-rate cap, or (`idle` off) the next one.
    Frame,
    /// The next frame of an animation (the cursor sliding, the bell flashing).
    Animation,
}

/// The instants the timers are due at; a handful at most, so a list.
#[derive(Debug, Default)]
pub struct Scheduler {
    due: Vec<(Timer, Instant)>,
}

impl Scheduler {
    /// Registers `timer` for `at`, replacing its previous instant; `None`
    /// clears it.
    pub fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.due.retain(|&(t, _)| t != timer);
        if let Some(at) = at {
            self.due.push((timer, at));
        }
    }

    /// The earliest instant registered: when the loop must wake. `None`
    /// when nothing is due, and the loop sleeps until an event.
    pub fn next(&self) -> Option<Instant> {
        self.due.iter().map(|&(_, at)| at).min()
    }

    /// Takes the timers due at or before `now`, earliest first; the others
    /// stay registered.
    pub fn take_due(&mut self, now: Instant) -> Vec<Timer> {
        let mut due: Vec<_> = self.due.iter().copied().filter(|&(_, at)| at <= now).collect();
        self.due.retain(|&(_, at)| at > now);
        due.sort_by_key(|&(timer, at)| (at, timer));
        due.into_iter().map(|(timer, _)| timer).collect()
    }
}

/// Keeps frames to the frame-rate cap. What nvim sends is drawn at most
/// `refresh_rate` times a second, focused or not (a burst, such as a
/// flooding `:terminal`, is drawn together): a frame asked for sooner is
/// put off, and drawn with whatever arrived meanwhile. Frames vireo draws
/// on its own (with `idle` off, and animations) come `refresh_rate` times
/// a second with the focus and `refresh_rate_idle` times without, and never
/// hold back what nvim sends: a key typed while the cursor slides shows at
/// once.
#[derive(Debug)]
pub struct Pacer {
    pub focused: bool,
    /// The display's refresh rate, where it reports one: `refresh_rate`
    /// when the user sets none (else 60).
    pub display_rate: Option<u32>,
    last_drawn: Option<Instant>,
    /// The last frame with something new from nvim.
    last_news: Option<Instant>,
    /// A frame put off until then.
    deferred: Option<Instant>,
}

impl Default for Pacer {
    fn default() -> Self {
        // Windows open focused; a window manager says otherwise if not.
        Pacer { focused: true, display_rate: None, last_drawn: None, last_news: None, deferred: None }
    }
}

impl Pacer {
    /// The shortest time between two frames: `own` ones (nothing new from
    /// nvim) slow down without the focus.
    fn interval(&self, s: &Settings, own: bool) -> Duration {
        let refresh = s.refresh_rate.map_or(self.display_rate.unwrap_or(60), |r| r.0);
        let rate = if self.focused || !own { refresh } else { s.refresh_rate_idle.0 };
        Duration::from_secs(1) / rate.max(1)
    }

    /// Whether a frame may be drawn `now`; if not, it is put off. One with
    /// `news` from nvim keeps its distance only from the last such frame.
    pub fn may_draw(&mut self, now: Instant, s: &Settings, news: bool) -> bool {
        let last = if news { self.last_news } else { self.last_drawn };
        match last.map(|at| at + self.interval(s, false)).filter(|&due| due > now) {
            Some(due) => {
                self.deferred = Some(due);
                false
            }
            None => {
                self.deferred = None;
                true
            }
        }
    }

    /// Puts the next frame off until `until`, or until it is asked for.
    pub fn put_off(&mut self, until: Instant) {
        self.deferred = Some(until);
    }

    pub fn drawn(&mut self, now: Instant, news: bool) {
        self.last_drawn = Some(now);
        if news {
            self.last_news = Some(now);
        }
    }

    /// When an animation's next frame is due: one interval of vireo's own
    /// frames after the last one drawn (`refresh_rate` with the focus,
    /// `refresh_rate_idle` without), or now when none was.
    pub fn own_frame(&self, now: Instant, s: &Settings) -> Instant {
        self.last_drawn.map_or(now, |at| at + self.interval(s, true))
    }

    /// When an animation's next frame is due, given `running`: whether an
    /// animation runs at an instant. It is asked about the clock the last
    /// frame was drawn for, not `now`: an animation still running then
    /// gets the frame that shows where it ends, even when a slow frame
    /// took the clock past its end (or the screen stays a pixel short).
    pub fn animation_frame(
        &self,
        now: Instant,
        s: &Settings,
        running: impl Fn(Instant) -> bool,
    ) -> Option<Instant> {
        running(self.last_drawn.unwrap_or(now)).then(|| self.own_frame(now, s))
    }

    /// When the next frame is due: one put off, or with `idle` off the
    /// next one at the cap; `None` when nothing is (the loop sleeps).
    pub fn next_frame(&self, now: Instant, s: &Settings) -> Option<Instant> {
        let busy = (!s.idle).then(|| self.last_drawn.map_or(now, |at| at + self.interval(s, true)));
        self.deferred.into_iter().chain(busy).min()
    }
}

/// Cursor blinking per 'guicursor': on for `blinkwait` after the cursor
/// moves or the mode changes, then `blinkoff`/`blinkon` alternately. Other
/// redraws (a `:terminal` printing, a clock in the status line) leave the
/// phase alone, or the cursor would never blink while they go on.
#[derive(Debug, Default)]
pub struct Blink {
    since: Option<Instant>,
    timing: Option<(Duration, Duration, Duration)>,
    /// The cursor position and mode the phase started with.
    anchor: Option<(crate::model::Cursor, usize)>,
}

impl Blink {
    /// Restarts the phase at `now` if `frame` moved the cursor, changed the
    /// mode or the mode's blink timing.
    pub fn update(&mut self, frame: &Frame, now: Instant) {
        let timing = frame.mode.current().and_then(|m| match (m.blinkwait, m.blinkon, m.blinkoff) {
            (Some(w), Some(on), Some(off)) if w > 0 && on > 0 && off > 0 => {
                Some((Duration::from_millis(w), Duration::from_millis(on), Duration::from_millis(off)))
            }
            _ => None,
        });
        let anchor = Some((frame.cursor, frame.mode.index));
        if anchor != self.anchor || timing != self.timing || self.since.is_none() {
            self.since = Some(now);
            self.timing = timing;
            self.anchor = anchor;
        }
    }

    /// With `cursor_smooth_blink`: how opaque the cursor is at `now` in an
    /// off period, which fades it out and back in (a cosine dip, 0 at its
    /// middle); `None` outside one, where it is fully shown.
    pub fn fade(&self, now: Instant) -> Option<f32> {
        let (Some(since), Some((wait, on, off))) = (self.since, self.timing) else { return None };
        let elapsed = now.duration_since(since).checked_sub(wait)?;
        let phase = Duration::from_nanos((elapsed.as_nanos() % (on + off).as_nanos()) as u64);
        let x = phase.as_secs_f32() / off.as_secs_f32();
        (phase < off).then(|| 0.5 + 0.5 * (std::f32::consts::TAU * x).cos())
    }

    /// Whether the cursor shows now, and when that next changes.
    pub fn state(&self, now: Instant) -> (bool, Option<Instant>) {
        let (Some(since), Some((wait, on, off))) = (self.since, self.timing) else { return (true, None) };
        let elapsed = now.duration_since(since);
        if elapsed < wait {
            return (true, Some(since + wait));
        }
        let period = on + off;
        let phase = Duration::from_nanos(((elapsed - wait).as_nanos() % period.as_nanos()) as u64);
        let cycle_start = now - phase;
        if phase < off { (false, Some(cycle_start + off)) } else { (true, Some(cycle_start + period)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_timer_wakes_the_loop_and_none_means_sleep() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut s = Scheduler::default();
        assert_eq!(s.next(), None, "nothing registered: no timer at all");
        s.set(Timer::Blink, Some(at(700)));
        s.set(Timer::Frame, Some(at(20)));
        assert_eq!(s.next(), Some(at(20)));
        // Registering again replaces; clearing removes.
        s.set(Timer::Frame, Some(at(900)));
        assert_eq!(s.next(), Some(at(700)));
        s.set(Timer::Blink, None);
        assert_eq!(s.next(), Some(at(900)));
        s.set(Timer::Frame, None);
        assert_eq!(s.next(), None);
    }

    #[test]
    fn only_the_timers_due_are_taken() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut s = Scheduler::default();
        s.set(Timer::Frame, Some(at(20)));
        s.set(Timer::Blink, Some(at(10)));
        assert_eq!(s.take_due(at(5)), []);
        s.set(Timer::Frame, Some(at(30)));
        s.set(Timer::Blink, Some(at(30)));
        assert_eq!(s.take_due(at(30)), [Timer::Blink, Timer::Frame], "at the same instant, in Timer order");
        assert_eq!(s.next(), None);
        s.set(Timer::Blink, Some(at(40)));
        s.set(Timer::Frame, Some(at(50)));
        assert_eq!(s.take_due(at(45)), [Timer::Blink]);
        assert_eq!(s.next(), Some(at(50)), "the frame stays registered");
    }

    #[test]
    fn an_animation_running_when_the_last_frame_was_drawn_gets_its_last_frame() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let s = Settings::default();
        let mut pacer = Pacer::default();
        // The slide ends at 300 ms.
        let running = |t: Instant| t < at(300);
        pacer.drawn(at(295), false);
        // The frame for 295 ms took until 400 ms: the slide has ended by
        // now, but the screen shows it 5 ms short, so one more frame.
        assert_eq!(pacer.animation_frame(at(400), &s, running), Some(pacer.own_frame(at(400), &s)));
        pacer.drawn(at(400), false);
        assert_eq!(pacer.animation_frame(at(401), &s, running), None, "drawn at rest: no timer left");
    }

    #[test]
    fn frames_keep_to_the_refresh_rate_and_idle_costs_nothing() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut s = Settings { refresh_rate: Some(crate::settings::Rate(50)), ..Settings::default() };
        let mut pacer = Pacer::default();
        assert!(pacer.may_draw(start, &s, true), "the first frame is drawn at once");
        pacer.drawn(start, true);
        assert_eq!(pacer.next_frame(at(1), &s), None, "nothing due: the loop sleeps");
        assert!(!pacer.may_draw(at(5), &s, true), "20 ms apart at 50 Hz");
        assert_eq!(pacer.next_frame(at(5), &s), Some(at(20)), "the put-off frame is due then");
        assert!(pacer.may_draw(at(20), &s, true));
        pacer.drawn(at(20), true);
        assert_eq!(pacer.next_frame(at(21), &s), None);
        // Without the focus nvim's frames keep coming at refresh_rate.
        pacer.focused = false;
        assert!(!pacer.may_draw(at(30), &s, true));
        assert_eq!(pacer.next_frame(at(30), &s), Some(at(40)));
        assert!(pacer.may_draw(at(40), &s, true));
        pacer.drawn(at(40), true);
        // --no-idle: a frame at every interval even with nothing new, at
        // refresh_rate_idle (default 5 a second) without the focus...
        s.idle = false;
        assert_eq!(pacer.next_frame(at(41), &s), Some(at(240)));
        // ...and refresh_rate with it.
        pacer.focused = true;
        assert_eq!(pacer.next_frame(at(41), &s), Some(at(60)));
    }

    #[test]
    fn animation_frames_come_at_the_own_frame_rate() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let s = Settings { refresh_rate: Some(crate::settings::Rate(50)), ..Settings::default() };
        let mut pacer = Pacer::default();
        assert_eq!(pacer.own_frame(start, &s), start, "nothing drawn yet: at once");
        pacer.drawn(start, true);
        assert_eq!(pacer.own_frame(at(1), &s), at(20), "refresh_rate with the focus");
        pacer.focused = false;
        assert_eq!(pacer.own_frame(at(1), &s), at(200), "refresh_rate_idle (5) without");
    }

    #[test]
    fn animation_frames_never_hold_back_what_nvim_sent() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let s = Settings { refresh_rate: Some(crate::settings::Rate(50)), ..Settings::default() };
        let mut pacer = Pacer::default();
        // A key's frame at 0, then the cursor's slide at 20 and 40.
        pacer.drawn(start, true);
        for t in [20, 40] {
            assert!(pacer.may_draw(at(t), &s, false));
            pacer.drawn(at(t), false);
        }
        assert!(!pacer.may_draw(at(45), &s, false), "the slide keeps to the cap");
        assert!(pacer.may_draw(at(45), &s, true), "the next key's frame is drawn at once");
        pacer.drawn(at(45), true);
        assert!(!pacer.may_draw(at(50), &s, true), "nvim's frames still keep to the cap");
    }

    #[test]
    fn without_a_refresh_rate_the_displays_is_the_cap() {
        let start = Instant::now();
        let at = |us| start + Duration::from_micros(us);
        let mut pacer = Pacer { display_rate: Some(144), ..Pacer::default() };
        let s = Settings::default();
        pacer.drawn(start, true);
        assert!(!pacer.may_draw(at(6_000), &s, true), "144 Hz: 6.9 ms apart");
        assert!(pacer.may_draw(at(7_000), &s, true));
        // No rate reported (Xvfb): 60.
        pacer.display_rate = None;
        pacer.drawn(at(7_000), true);
        assert!(!pacer.may_draw(at(20_000), &s, true));
        assert!(pacer.may_draw(at(23_700), &s, true));
    }

    #[test]
    fn blink_follows_guicursor_timing() {
        let mut blink = Blink::default();
        let start = Instant::now();
        blink.since = Some(start);
        blink.timing =
            Some((Duration::from_millis(700), Duration::from_millis(400), Duration::from_millis(250)));
        assert_eq!(
            blink.state(start + Duration::from_millis(100)),
            (true, Some(start + Duration::from_millis(700)))
        );
        let (on, next) = blink.state(start + Duration::from_millis(800));
        assert!(!on);
        assert_eq!(next, Some(start + Duration::from_millis(950)));
        let (on, next) = blink.state(start + Duration::from_millis(1000));
        assert!(on);
        assert_eq!(next, Some(start + Duration::from_millis(1350)));
        // No blinking: always on and no timer at all (zero idle work).
        assert_eq!(Blink::default().state(start), (true, None));
    }

    #[test]
    fn a_smooth_blink_fades_out_and_back_in_over_the_off_period() {
        let mut blink = Blink::default();
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        blink.since = Some(start);
        blink.timing =
            Some((Duration::from_millis(700), Duration::from_millis(400), Duration::from_millis(200)));
        assert_eq!(blink.fade(at(100)), None, "shown while waiting");
        assert_eq!(blink.fade(at(700)), Some(1.0), "the off period starts fully shown");
        let quarter = blink.fade(at(750)).unwrap();
        assert!((quarter - 0.5).abs() < 1e-3, "{quarter}");
        assert!(blink.fade(at(800)).unwrap() < 1e-6, "gone halfway through");
        assert!(blink.fade(at(899)).unwrap() > 0.99);
        assert_eq!(blink.fade(at(900)), None, "the on period: shown");
        assert!(blink.fade(at(1000)).is_none());
        assert!(blink.fade(at(1400)).unwrap() < 1e-6, "the next off period's middle");
    }

    /// A frame with the cursor at `col` in mode `mode`, blinking per
    /// `blinkwait700-blinkoff400-blinkon250`.
    fn blinking_frame(col: usize, mode: usize) -> Frame {
        use crate::model::{Model, RedrawEvent};
        let info = crate::model::ModeInfo {
            blinkwait: Some(700),
            blinkon: Some(250),
            blinkoff: Some(400),
            ..Default::default()
        };
        let mut model = Model::new();
        let events = [
            RedrawEvent::GridResize { grid: 1, width: 10, height: 2 },
            RedrawEvent::ModeInfoSet { cursor_style_enabled: true, modes: vec![info.clone(), info] },
            RedrawEvent::ModeChange { mode: "normal".into(), index: mode },
            RedrawEvent::GridCursorGoto { grid: 1, row: 0, col },
        ];
        for event in events {
            model.apply(event).unwrap();
        }
        model.apply(RedrawEvent::Flush).unwrap().expect("flush publishes a frame")
    }

    #[test]
    fn blink_restarts_only_when_the_cursor_moves_or_the_mode_changes() {
        let mut blink = Blink::default();
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        blink.update(&blinking_frame(3, 0), start);
        // A redraw that leaves cursor and mode alone (terminal output) keeps
        // the phase: at 800 ms the cursor is in its first off period.
        blink.update(&blinking_frame(3, 0), at(600));
        assert!(!blink.state(at(800)).0, "the cursor blinks off on schedule");
        // Moving restarts the wait: on for 700 ms from the move.
        blink.update(&blinking_frame(4, 0), at(800));
        assert_eq!(blink.state(at(900)), (true, Some(at(1500))));
        // So does a mode change at the same position.
        blink.update(&blinking_frame(4, 1), at(1600));
        assert_eq!(blink.state(at(1700)), (true, Some(at(2300))));
    }
}
