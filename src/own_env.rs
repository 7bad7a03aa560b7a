//! Variables vireo sets in its own environment at start-up, for libraries
//! that read them there (lavapipe, the Vulkan loader, Xlib), and takes out
//! of its children's environment (nvim, a link opener), which get the
//! environment vireo was started with. A variable the user set is never
//! changed.

use std::ffi::OsStr;
use std::sync::Mutex;

/// The variables set by [`set_unless_users`].
static SET: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Sets `name` to `value` unless the user set `name`; `value` is made
/// only when it is needed, and `None` sets nothing. True if it was set.
///
/// # Safety
/// No other thread may be running: it sets an environment variable.
pub unsafe fn set_unless_users<V: AsRef<OsStr>>(
    name: &'static str,
    value: impl FnOnce() -> Option<V>,
) -> bool {
    if std::env::var_os(name).is_some() {
        return false;
    }
    let Some(value) = value() else { return false };
    // SAFETY: the caller runs no other thread.
    unsafe { std::env::set_var(name, value) };
    SET.lock().unwrap_or_else(|e| e.into_inner()).push(name);
    true
}

/// The variables vireo set itself, to take out of a child's environment.
pub fn variables() -> Vec<&'static str> {
    SET.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
