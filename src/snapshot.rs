//! Headless runs: attach at a size, type keys, wait until nvim has settled,
//! and hand back the composed screen.

use std::time::{Duration, Instant};

use rmpv::Value;

use crate::model::Frame;
use crate::nvim::{Connection, Exit};
use crate::rpc::{Lane, RpcError};

/// Why no snapshot could be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("nvim exited before the snapshot was taken{}", .0.message().map(|m| format!(" ({m})")).unwrap_or_default())]
    Exited(Exit),
    #[error("nvim drew nothing within {0:?}")]
    NoFrame(Duration),
    #[error("sending keys failed: {0}")]
    Input(RpcError),
}

/// How long to wait.
#[derive(Debug, Clone, Copy)]
pub struct Settle {
    /// No frame for this long counts as quiet.
    pub quiet: Duration,
    /// Give up waiting for quiet after this long and take what is there.
    pub max_wait: Duration,
}

impl Default for Settle {
    fn default() -> Self {
        Settle { quiet: Duration::from_millis(400), max_wait: Duration::from_secs(10) }
    }
}

/// The screens a snapshot saw.
#[derive(Debug, Clone)]
pub struct Screens {
    /// The settled screen before the keys (the last one when no keys).
    pub before: Frame,
    /// The settled screen after them.
    pub last: Frame,
}

/// Waits for the start-up screen, sends `keys` (nvim notation) if any, waits
/// again, and returns the last frame.
pub fn run(conn: &Connection, keys: Option<&str>, settle: Settle) -> Result<Frame, SnapshotError> {
    run_screens(conn, keys, settle).map(|s| s.last)
}

/// Like [`run`], also keeping the screen from before the keys, where the
/// animations the keys start (a cursor slide) set out from.
pub fn run_screens(conn: &Connection, keys: Option<&str>, settle: Settle) -> Result<Screens, SnapshotError> {
    let mut latest = None;
    wait_settled(conn, &mut latest, settle)?;
    let before = latest.clone();
    // The screen after the keys carries what its windows scrolled since
    // `before` (the frames in between add theirs), not before that.
    if let Some(frame) = latest.as_mut() {
        for window in std::sync::Arc::make_mut(&mut frame.windows).values_mut() {
            if let Some(viewport) = window.viewport.as_mut() {
                viewport.scroll_delta = 0;
            }
        }
    }
    if let Some(keys) = keys {
        conn.session.input(keys).map_err(SnapshotError::Input)?;
        wait_settled(conn, &mut latest, settle)?;
    }
    match (before, latest) {
        (Some(before), Some(last)) => Ok(Screens { before, last }),
        _ => Err(SnapshotError::NoFrame(settle.max_wait)),
    }
}

/// Returns once nvim has drawn something and then gone quiet, and a probe
/// shows it has nothing left to do: either an ordinary request is answered
/// with no redraw in between, or nvim reports it is blocked at a prompt
/// (hit-enter, confirm), which ordinary requests wait behind.
pub fn wait_settled(
    conn: &Connection,
    latest: &mut Option<Frame>,
    settle: Settle,
) -> Result<(), SnapshotError> {
    let deadline = Instant::now() + settle.max_wait;
    loop {
        if !wait_quiet(conn, latest, settle.quiet, deadline)? {
            log::warn!("nvim kept redrawing for {:?}; taking the screen as it is", settle.max_wait);
            return Ok(());
        }
        if latest.is_none() {
            continue;
        }
        let seq = latest.as_ref().map(|f| f.seq);
        let quiet = Some(settle.quiet);
        let probe = conn.session.call_blocking_timeout(Lane::Query, "nvim_eval", vec!["1".into()], quiet);
        let idle = match probe {
            Ok(Some(_)) => true,
            Ok(None) => is_blocked(conn, settle.quiet),
            // nvim went away; the next wait reports how it exited.
            Err(_) => false,
        };
        drain(conn, latest)?;
        if idle && latest.as_ref().map(|f| f.seq) == seq {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Ok(());
        }
    }
}

/// True when nvim says it is waiting for the user at a prompt.
fn is_blocked(conn: &Connection, timeout: Duration) -> bool {
    let mode = conn.session.call_blocking_timeout(Lane::Input, "nvim_get_mode", vec![], Some(timeout));
    let Ok(Some(Value::Map(entries))) = mode else {
        return false;
    };
    entries.iter().any(|(k, v)| k.as_str() == Some("blocking") && v.as_bool() == Some(true))
}

/// Takes frames until none arrives for `quiet`. Returns false at the deadline.
fn wait_quiet(
    conn: &Connection,
    latest: &mut Option<Frame>,
    quiet: Duration,
    deadline: Instant,
) -> Result<bool, SnapshotError> {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        match conn.frames.recv_timeout(quiet.min(deadline - now)) {
            Ok(frame) => take(latest, frame),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if latest.is_some() || Instant::now() >= deadline {
                    return Ok(latest.is_some());
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Err(exited(conn)),
        }
    }
}

fn drain(conn: &Connection, latest: &mut Option<Frame>) -> Result<(), SnapshotError> {
    loop {
        match conn.frames.try_recv() {
            Ok(frame) => take(latest, frame),
            Err(crossbeam_channel::TryRecvError::Empty) => return Ok(()),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return Err(exited(conn)),
        }
    }
}

/// `frame` replaces `latest`, taking its damage and scrolls along.
fn take(latest: &mut Option<Frame>, mut frame: Frame) {
    if let Some(older) = latest.take() {
        frame.absorb_damage(&older);
    }
    *latest = Some(frame);
}

fn exited(conn: &Connection) -> SnapshotError {
    let exit = conn.exit.recv_timeout(Duration::from_secs(5));
    SnapshotError::Exited(exit.unwrap_or(Exit::Failed("no exit status".into())))
}
