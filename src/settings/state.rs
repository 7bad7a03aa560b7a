//! The remembered window: size (in pixels and cells), position and
//! maximized state in `$XDG_STATE_HOME/vireo/window.toml`, written
//! atomically when vireo closes and read at the next start. A window that
//! closes in full screen leaves the file as it was: the monitor's size is
//! not one to open a framed window at.
//!
//! Nothing here may stop vireo: a state file that cannot be read or written
//! is a warning, and a position on a monitor that is gone is not used.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowState {
    /// Inner size in physical pixels.
    pub width: u32,
    pub height: u32,
    /// The grid nvim had.
    pub cols: usize,
    pub rows: usize,
    /// Outer position in physical pixels, where the platform reports one.
    pub x: Option<i32>,
    pub y: Option<i32>,
    pub maximized: bool,
}

/// A monitor's area in physical pixels: `(x, y, width, height)`.
pub type MonitorArea = (i32, i32, u32, u32);

/// How much of the window's title area must lie on a monitor for the
/// remembered position to be used.
const VISIBLE: i32 = 64;

impl WindowState {
    /// The remembered position, if enough of the window's top edge lies on
    /// one of `monitors` to grab it; a monitor that is gone (or a state
    /// from a larger desktop) never puts the window off screen.
    pub fn position_on(&self, monitors: &[MonitorArea]) -> Option<(i32, i32)> {
        let (x, y) = (self.x?, self.y?);
        let top_visible = monitors.iter().any(|&(mx, my, mw, mh)| {
            let (right, bottom) = (mx.saturating_add(mw as i32), my.saturating_add(mh as i32));
            let overlap = x.saturating_add(self.width as i32).min(right) - x.max(mx);
            overlap >= VISIBLE && y >= my && y.saturating_add(VISIBLE) <= bottom
        });
        top_visible.then_some((x, y))
    }
}

/// `window.toml` in `$XDG_STATE_HOME/vireo` (else `~/.local/state/vireo`;
/// the platform's local data folder on macOS and Windows).
pub fn path(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    Some(super::user_dir(&var, "XDG_STATE_HOME", ".local/state", "LOCALAPPDATA")?.join("window.toml"))
}

/// Reads the state; a missing file is `None` quietly, an unreadable or
/// malformed one `None` with a warning.
pub fn load(path: &Path) -> Option<WindowState> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            log::warn!("the window state {} cannot be read: {}", path.display(), crate::util::io_reason(&e));
            return None;
        }
    };
    match toml::from_str(&text) {
        Ok(state) => Some(state),
        Err(e) => {
            log::warn!(
                "the window state {} is not valid and is ignored: {}",
                path.display(),
                e.message().trim()
            );
            None
        }
    }
}

/// Why the state was not saved.
#[derive(Debug, thiserror::Error)]
#[error("the window state was not saved to {}: {reason}", .path.display())]
pub struct SaveError {
    pub path: PathBuf,
    pub reason: String,
}

/// Writes the state atomically: a temporary file beside it, synced, then
/// renamed over it, so a crash or a full disk leaves the old file whole.
pub fn save(path: &Path, state: &WindowState) -> Result<(), SaveError> {
    let fail = |reason: String| SaveError { path: path.to_owned(), reason };
    let text = toml::to_string(state).map_err(|e| fail(e.to_string()))?;
    let dir = path.parent().ok_or_else(|| fail("no folder".into()))?;
    std::fs::create_dir_all(dir).map_err(|e| fail(crate::util::io_reason(&e)))?;
    let temp = dir.join(format!(".window.toml.{}", std::process::id()));
    let written = (|| {
        use std::io::Write;
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        // Whatever was left of the temporary file is of no use.
        std::fs::remove_file(&temp).ok();
        return Err(fail(crate::util::io_reason(&e)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(x: i32, y: i32) -> WindowState {
        WindowState { width: 800, height: 600, cols: 88, rows: 30, x: Some(x), y: Some(y), maximized: false }
    }

    #[test]
    fn a_position_is_used_only_where_a_monitor_shows_the_title_area() {
        let one = [(0, 0, 1920, 1080)];
        assert_eq!(state(100, 50).position_on(&one), Some((100, 50)));
        // The second monitor is gone: the window would be off screen.
        assert_eq!(state(2500, 100).position_on(&one), None);
        let two = [(0, 0, 1920, 1080), (1920, 0, 1280, 1024)];
        assert_eq!(state(2500, 100).position_on(&two), Some((2500, 100)));
        // Only a sliver on screen, or the title bar above the top: not used.
        assert_eq!(state(-780, 100).position_on(&one), None);
        assert_eq!(state(100, -40).position_on(&one), None);
        assert_eq!(state(100, 1050).position_on(&one), None);
        let unplaced = WindowState { x: None, ..state(0, 0) };
        assert_eq!(unplaced.position_on(&one), None);
    }

    #[test]
    fn the_state_round_trips_and_a_bad_file_is_ignored() {
        let dir = std::env::temp_dir().join(format!("vireo-state-{}", std::process::id()));
        let file = dir.join("vireo").join("window.toml");
        save(&file, &state(10, 20)).unwrap();
        assert_eq!(load(&file), Some(state(10, 20)));
        let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
        std::fs::write(&file, "width = \"wide\"").unwrap();
        assert_eq!(load(&file), None);
        // A folder where the file should be: an error, nothing panics.
        let blocked = dir.join("blocked");
        std::fs::write(&blocked, "a file, not a folder").unwrap();
        let err = save(&blocked.join("vireo").join("window.toml"), &state(0, 0)).unwrap_err();
        assert!(err.to_string().contains("was not saved"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}
