//! `vireo --version`: which vireo this is, and with `--verbose` what a bug
//! report needs besides (how it was built, which GPU backends it can use,
//! which nvim it would start).

use std::path::Path;

/// The commit vireo was built from: `git rev-parse` at build time, or
/// `$VIREO_GIT_COMMIT` when building from a source tarball (build.rs).
pub const GIT_COMMIT: Option<&str> = option_env!("VIREO_GIT_COMMIT");

/// One line: `vireo 0.1.0 (git 4f185fc1a2b3)`.
pub fn short() -> String {
    match GIT_COMMIT {
        Some(commit) => format!("vireo {} (git {commit})", env!("CARGO_PKG_VERSION")),
        None => format!("vireo {}", env!("CARGO_PKG_VERSION")),
    }
}

/// The wgpu backends compiled into this binary, as wgpu names them.
pub fn backends() -> Vec<String> {
    let enabled = wgpu::Instance::enabled_backend_features();
    enabled.iter_names().map(|(name, _)| name.to_lowercase()).collect()
}

/// The short line, then the target and profile, the wgpu backends and the
/// nvim that `nvim` (the configured binary) finds on `path`, with its
/// version.
pub fn verbose(nvim: &Path, path: &std::ffi::OsStr) -> String {
    let found = match crate::nvim::locate::which(nvim, path) {
        None => format!("{} not found ({})", nvim.display(), crate::rpc::transport::GET_NEOVIM),
        Some(full) => match crate::nvim::locate::version_line(&full) {
            Ok(version) => format!("{} ({version})", full.display()),
            Err(why) => format!("{} ({why})", full.display()),
        },
    };
    // The target triple and the Cargo profile come from build.rs.
    format!(
        "{}\ntarget: {} ({} profile)\nwgpu backends: {}\nnvim: {found}\n",
        short(),
        env!("VIREO_TARGET"),
        env!("VIREO_PROFILE"),
        backends().join(", "),
    )
}
