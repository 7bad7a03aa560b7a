//! A guard against an X input method that stops answering.
//!
//! Some X input method (XIM) requests are synchronous: creating,
//! destroying and focusing an input context wait inside Xlib, on the
//! window's thread, for the input method's reply. vireo turns the input
//! method on and off with nvim's mode, so such requests come with every
//! `i` and `<Esc>`. An input method that dies or hangs at that moment
//! would freeze the window for good: Xlib waits in `XIfEvent`, with no
//! timeout, for a reply that never comes (the fcitx5 window test stops the
//! input method, switches modes, then kills it).
//!
//! ```text
//!   window thread   enter() ── one event-loop iteration ── leave()
//!                      │ (condvar)
//!   watchdog        sleeps; STUCK after an enter() with no leave():
//!                   logs, and sends the window an _XIM_PROTOCOL message
//! ```
//!
//! Xlib's wait takes any `_XIM_PROTOCOL` client message as the input
//! method's reply. The watchdog's names a property that does not exist,
//! so Xlib's read of the reply fails, the request returns an error and the
//! loop runs on; once the dead input method's window is gone, winit falls
//! back to Xlib's local input method. Sent while the loop is merely busy
//! (a slow frame), the message reaches winit, which ignores client
//! messages it does not know.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};

/// Xlib's variable for the folder of its compiled compose tables.
const COMPOSE_CACHE: &str = "XCOMPOSECACHE";

/// Has Xlib keep its compiled compose table in vireo's cache folder
/// (`$XDG_CACHE_HOME/vireo/compose`), unless the user named a folder.
/// Without an input method server, Xlib's local input method, which
/// winit opens with the event loop, reads the locale's Compose file
/// (half a megabyte) at every start: 12 to 16 ms on the main thread, and
/// twice that beside the graphics device and nvim starting. With the
/// folder it compiles the table once and then maps it (0.2 ms). Xlib
/// keeps no such cache for root. Only Xlib reads the variable.
///
/// # Safety
/// No other thread may be running: it sets an environment variable.
#[cfg(not(target_os = "macos"))]
pub unsafe fn cache_the_compose_table() {
    let var = |name: &str| std::env::var_os(name).map(std::path::PathBuf::from).filter(|p| p.is_absolute());
    let folder = || {
        let cache = var("XDG_CACHE_HOME").or_else(|| Some(var("HOME")?.join(".cache")))?;
        let folder = cache.join("vireo").join("compose");
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&folder).ok()?;
        Some(folder)
    };
    // SAFETY: the caller runs no other thread.
    unsafe { crate::own_env::set_unless_users(COMPOSE_CACHE, folder) };
}

/// How long one loop iteration may wait before the watchdog steps in: far
/// longer than a working input method takes to answer, even on a loaded
/// machine, and short enough that a user sees a hiccup, not a hang.
pub const STUCK: Duration = Duration::from_secs(5);

/// Watches the window thread while it runs an iteration of the event loop.
pub struct Watchdog {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// When the running iteration started (or the last nudge was sent).
    busy_since: Option<Instant>,
    stop: bool,
}

impl Watchdog {
    /// Starts watching X11 `window`; `None` where no input method server is
    /// in use (Xlib's local one answers at once) or `$DISPLAY` cannot be
    /// reached for the watchdog's own connection.
    pub fn start(window: u32) -> Option<Watchdog> {
        if !uses_input_method_server(std::env::var("XMODIFIERS").ok().as_deref()) {
            return None;
        }
        let (conn, _) = x11rb::connect(None)
            .inspect_err(|e| log::warn!("input-method watchdog not started: {e}"))
            .ok()?;
        let atom = |name: &str| Some(conn.intern_atom(false, name.as_bytes()).ok()?.reply().ok()?.atom);
        let message = ClientMessageEvent::new(
            32,
            window,
            atom("_XIM_PROTOCOL")?,
            [0, atom("_VIREO_XIM_WAKE")?, 0, 0, 0],
        );
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() });
        let watched = shared.clone();
        std::thread::Builder::new()
            .name("xim-watchdog".into())
            .spawn(move || {
                watch(&watched, STUCK, || {
                    conn.send_event(false, window, EventMask::NO_EVENT, message).ok();
                    conn.flush().ok();
                })
            })
            .inspect_err(|e| log::warn!("input-method watchdog not started: {e}"))
            .ok()?;
        Some(Watchdog { shared })
    }

    /// An event-loop iteration starts.
    pub fn enter(&self) {
        self.shared.lock().busy_since = Some(Instant::now());
        self.shared.wake.notify_one();
    }

    /// The iteration ended: the loop goes to sleep.
    pub fn leave(&self) {
        self.shared.lock().busy_since = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sleeps while the loop sleeps (no work while idle); calls `nudge` each
/// time an iteration has run for `stuck`.
fn watch(shared: &Shared, stuck: Duration, nudge: impl Fn()) {
    let mut state = shared.lock();
    loop {
        if state.stop {
            return;
        }
        let Some(since) = state.busy_since else {
            state = shared.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        let now = Instant::now();
        if now < since + stuck {
            state = shared
                .wake
                .wait_timeout(state, since + stuck - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        // Each request the dead input method leaves waiting needs a nudge.
        state.busy_since = Some(now);
        drop(state);
        log::error!(
            "the window has waited {stuck:?} for the input method (XMODIFIERS={}); \
             it is not answering, so vireo stops waiting for it",
            std::env::var("XMODIFIERS").unwrap_or_default()
        );
        nudge();
        state = shared.lock();
    }
}

/// Whether `XMODIFIERS` names an input method server (`@im=fcitx`); none,
/// an empty name, `none` and `local` mean Xlib's own, which never waits.
fn uses_input_method_server(xmodifiers: Option<&str>) -> bool {
    let name = xmodifiers.and_then(|m| m.split('@').find_map(|part| part.strip_prefix("im=")));
    matches!(name, Some(n) if !n.is_empty() && n != "none" && n != "local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_input_method_server_is_watched() {
        assert!(uses_input_method_server(Some("@im=fcitx")));
        assert!(uses_input_method_server(Some("@im=ibus")));
        for m in [None, Some(""), Some("@im="), Some("@im=none"), Some("@im=local")] {
            assert!(!uses_input_method_server(m), "{m:?}");
        }
    }

    #[test]
    fn a_stuck_iteration_is_nudged_and_an_idle_loop_never() {
        let stuck = Duration::from_millis(200);
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() });
        let nudges = Arc::new(Mutex::new(0));
        let (watched, counted) = (shared.clone(), nudges.clone());
        let thread = std::thread::spawn(move || watch(&watched, stuck, || *counted.lock().unwrap() += 1));
        let dog = Watchdog { shared };
        // Quick iterations, then an idle loop: nothing to do.
        for _ in 0..100 {
            dog.enter();
            dog.leave();
        }
        std::thread::sleep(stuck * 3);
        assert_eq!(*nudges.lock().unwrap(), 0);
        // An iteration that does not end is nudged, again and again.
        dog.enter();
        let deadline = Instant::now() + Duration::from_secs(30);
        while *nudges.lock().unwrap() < 2 {
            assert!(Instant::now() < deadline, "no second nudge");
            std::thread::sleep(Duration::from_millis(20));
        }
        dog.leave();
        drop(dog);
        thread.join().unwrap();
    }
}
