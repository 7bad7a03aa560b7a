//! Which nvim binary vireo starts when none is named (`--nvim`,
//! `$VIREO_NVIM`, `neovim_bin`), and what `vireo --version --verbose` says
//! about it.
//!
//! On Linux and Windows that is `nvim` on PATH. An app started from the
//! macOS Finder or Dock gets launchd's PATH (`/usr/bin:/bin:/usr/sbin:/sbin`)
//! rather than the one the user's shell builds, so a Homebrew nvim is not on
//! it: there vireo also asks the login shell for its PATH and looks in the
//! usual Homebrew and MacPorts folders.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where package managers put nvim on macOS: Homebrew on Apple silicon and
/// on Intel, MacPorts, then the Nix profile.
pub const MACOS_DIRS: &[&str] =
    &["/opt/homebrew/bin", "/usr/local/bin", "/opt/local/bin", "/nix/var/nix/profiles/default/bin"];

/// The nvim to start when the user named none: `nvim`, found on PATH at
/// start (vireo spawns it by name), or on macOS a full path found as the
/// module says; `nvim` again if nothing has it, so the error names it.
pub fn default_binary() -> PathBuf {
    let name = Path::new("nvim");
    if cfg!(target_os = "macos") && which(name, &std::env::var_os("PATH").unwrap_or_default()).is_none() {
        let mut dirs: Vec<PathBuf> =
            login_shell_path().map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
        dirs.extend(MACOS_DIRS.iter().map(PathBuf::from));
        if let Some(found) = first_in(name, &dirs) {
            return found;
        }
    }
    name.to_owned()
}

/// Where `binary` is: itself when it has a folder part, else the first
/// folder in `path` (a PATH value) that holds a file of that name.
pub fn which(binary: &Path, path: &std::ffi::OsStr) -> Option<PathBuf> {
    if binary.components().count() > 1 || binary.is_absolute() {
        return binary.is_file().then(|| binary.to_owned());
    }
    first_in(binary, &std::env::split_paths(path).collect::<Vec<_>>())
}

fn first_in(name: &Path, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// The PATH the user's login shell sets up (`$SHELL -l -c 'echo $PATH'`),
/// or `None` when there is no `$SHELL` or it fails.
pub fn login_shell_path() -> Option<OsString> {
    shell_path(&std::env::var_os("SHELL")?)
}

/// The PATH `shell` sets up as a login shell.
fn shell_path(shell: &std::ffi::OsStr) -> Option<OsString> {
    let out = std::process::Command::new(shell)
        .args(["-l", "-c", "printf %s \"$PATH\""])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let path = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !path.trim().is_empty()).then(|| path.trim().into())
}

/// What `binary --version` says on its first line ("NVIM v0.11.4"), or why
/// it said nothing.
pub fn version_line(binary: &Path) -> Result<String, String> {
    let out = std::process::Command::new(binary)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| crate::util::io_reason(&e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next() {
        Some(line) if out.status.success() => Ok(line.trim().to_owned()),
        _ => Err(format!("`--version` failed ({})", out.status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_looks_through_path_in_order_and_takes_paths_as_they_are() {
        let path = std::env::join_paths(["/nonexistent-vireo-dir", "/bin", "/usr/bin"]).unwrap();
        assert_eq!(which(Path::new("sh"), &path), Some(PathBuf::from("/bin/sh")));
        assert_eq!(which(Path::new("/bin/sh"), &path), Some(PathBuf::from("/bin/sh")));
        assert_eq!(which(Path::new("no-such-binary-for-vireo"), &path), None);
        assert_eq!(which(Path::new("./missing/nvim"), &path), None);
    }

    #[test]
    fn a_login_shell_reports_its_path_and_a_missing_shell_none() {
        let path = shell_path("/bin/sh".as_ref()).expect("sh -l reports a PATH");
        assert!(std::env::split_paths(&path).any(|dir| dir.is_absolute()), "{path:?}");
        assert_eq!(shell_path("/nonexistent/shell".as_ref()), None);
    }

    #[test]
    fn the_version_line_is_nvims_first_line_and_a_failure_says_so() {
        let nvim = std::env::var_os("VIREO_NVIM").map_or_else(|| PathBuf::from("nvim"), PathBuf::from);
        let line = version_line(&nvim).expect("nvim --version");
        assert!(line.starts_with("NVIM v"), "{line}");
        assert!(version_line(Path::new("/nonexistent/nvim")).is_err());
        assert!(version_line(Path::new("false")).unwrap_err().contains("failed"));
    }
}
