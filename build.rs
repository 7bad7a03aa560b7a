//! Build facts `vireo --version` reports (src/version.rs), and on Windows
//! targets the exe's icon and version resource.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=VIREO_GIT_COMMIT");
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    println!("cargo::rustc-env=VIREO_TARGET={}", env("TARGET"));
    // OUT_DIR is TARGET_DIR/[TRIPLE/]PROFILE/build/vireo-HASH/out: the
    // folder three up names the profile (release, dist, debug for dev).
    let out = env("OUT_DIR");
    let profile = Path::new(&out).ancestors().nth(3).and_then(|p| p.file_name()).and_then(|p| p.to_str());
    println!("cargo::rustc-env=VIREO_PROFILE={}", profile.unwrap_or("unknown"));
    let commit = std::env::var("VIREO_GIT_COMMIT").ok().filter(|c| !c.is_empty()).or_else(git_commit);
    if let Some(commit) = commit {
        println!("cargo::rustc-env=VIREO_GIT_COMMIT={commit}");
    }
    // The target's OS, not the build machine's: cfg!(windows) here would
    // name the machine running this script.
    if env("CARGO_CFG_TARGET_OS") == "windows" {
        windows_resource();
    }
}

/// The commit HEAD names, when building inside a git checkout; reruns this
/// script when HEAD or the branch it is on moves.
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let git_dir = git(&["rev-parse", "--absolute-git-dir"])?;
    let common = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]).unwrap_or(git_dir.clone());
    println!("cargo::rerun-if-changed={git_dir}/HEAD");
    if let Ok(head) = std::fs::read_to_string(Path::new(&git_dir).join("HEAD"))
        && let Some(branch) = head.trim().strip_prefix("ref: ")
    {
        println!("cargo::rerun-if-changed={common}/{branch}");
        println!("cargo::rerun-if-changed={common}/packed-refs");
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}

/// Embeds packaging/windows/vireo.ico and a version resource in vireo.exe.
/// The resource compiler runs on Windows build machines only (the release
/// pipeline's); a cross build from elsewhere gets an exe without them.
#[cfg(windows)]
fn windows_resource() {
    let icon = "packaging/windows/vireo.ico";
    println!("cargo::rerun-if-changed={icon}");
    if !Path::new(icon).exists() {
        println!("cargo::warning={icon} is missing (tools/icons.sh OUT makes it): the exe has no icon");
        return;
    }
    let mut res = winresource::WindowsResource::new();
    res.set_icon(icon).set("FileDescription", "vireo, a GUI for Neovim").set("ProductName", "vireo");
    if let Err(e) = res.compile() {
        println!("cargo::warning=the Windows resource was not embedded: {e}");
    }
}

#[cfg(not(windows))]
fn windows_resource() {
    println!(
        "cargo::warning=building for Windows elsewhere than on Windows: vireo.exe gets no icon or version resource"
    );
}
