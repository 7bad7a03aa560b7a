//! Watching `config.toml`: saving it applies the live knobs within a
//! moment, with no restart.
//!
//! The folder is watched, not the file: editors save by writing a new file
//! and renaming it over the old one, and the file may not exist yet. The
//! watcher thread sleeps in the kernel (inotify, FSEvents, ...) until
//! something in that folder changes: no polling.

use std::path::{Path, PathBuf};

use notify::{EventKind, RecursiveMode, Watcher};

/// Keeps the watch alive; dropping it stops watching.
pub struct ConfigWatch {
    _watcher: notify::RecommendedWatcher,
}

/// Calls `changed` (on the watcher's thread) whenever `file` is written,
/// created, replaced or removed. `None`, with a warning, where the folder
/// cannot be watched (the file is then read at start only).
pub fn watch(file: &Path, changed: impl Fn() + Send + 'static) -> Option<ConfigWatch> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let name: PathBuf = file.file_name()?.into();
    let handler = move |event: notify::Result<notify::Event>| match event {
        Ok(event) if concerns(&event, &name) => changed(),
        Ok(_) => {}
        Err(e) => log::warn!("watching the config file: {e}"),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            log::warn!("the config file will not be watched: {e}");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
        // Most often the folder does not exist: nothing to watch yet.
        log::info!("the config file will not be watched ({}): {e}", dir.display());
        return None;
    }
    Some(ConfigWatch { _watcher: watcher })
}

/// Whether `event` changed the file named `name` (reads do not count).
fn concerns(event: &notify::Event, name: &Path) -> bool {
    let kind = matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_));
    kind && event.paths.iter().any(|p| p.file_name() == Some(name.as_os_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn writing_and_replacing_the_file_are_seen_and_other_files_are_not() {
        let dir = std::env::temp_dir().join(format!("vireo-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.toml");
        let (tx, rx) = crossbeam_channel::unbounded();
        let _watch = watch(&file, move || tx.send(()).unwrap()).expect("the folder can be watched");
        let seen = || rx.recv_timeout(Duration::from_secs(5)).is_ok();
        let drain = || while rx.recv_timeout(Duration::from_millis(200)).is_ok() {};
        std::fs::write(dir.join("other.toml"), "x").unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "another file is not the config");
        std::fs::write(&file, "grid = \"80x24\"").unwrap();
        assert!(seen(), "a new file");
        drain();
        // An editor's save: a new file renamed over the old one.
        std::fs::write(dir.join(".config.toml.tmp"), "grid = \"90x24\"").unwrap();
        drain();
        std::fs::rename(dir.join(".config.toml.tmp"), &file).unwrap();
        assert!(seen(), "a file renamed over it");
        std::fs::remove_dir_all(dir).ok();
    }
}
