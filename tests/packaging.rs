//! The packaging files agree with vireo and with each other: one
//! application id everywhere, every packaged file listed for both the .deb
//! and the .rpm. (tools/package.sh builds and validates the packages
//! themselves; tools/package-test.sh installs and runs them.)

mod common;

use std::path::Path;

use common::window::Session;
use vireo::settings::{APP_ID, KNOBS, Settings};

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The value of `key=` in a desktop entry.
fn desktop_key<'a>(entry: &'a str, key: &str) -> Option<&'a str> {
    entry.lines().find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn the_window_defaults_to_the_application_id_the_desktop_entry_names() {
    let settings = Settings::default();
    assert_eq!(settings.x11_wm_class, APP_ID);
    assert_eq!(settings.wayland_app_id, APP_ID);
    for name in ["x11-wm-class", "wayland-app-id"] {
        let knob = KNOBS.iter().find(|k| k.name == name).expect(name);
        assert_eq!(knob.default, format!("\"{APP_ID}\""), "{name}");
    }
    let entry = read(&format!("packaging/{APP_ID}.desktop"));
    assert_eq!(desktop_key(&entry, "StartupWMClass"), Some(APP_ID));
    assert_eq!(desktop_key(&entry, "Icon"), Some(APP_ID));
    assert_eq!(desktop_key(&entry, "Exec"), Some("vireo %F"));
}

#[test]
fn the_desktop_entry_offers_to_open_files_in_the_running_window() {
    let entry = read(&format!("packaging/{APP_ID}.desktop"));
    let actions = desktop_key(&entry, "Actions").expect("an Actions= key");
    assert!(actions.split(';').any(|a| a == "open-in-running"), "{actions}");
    let (_, group) = entry.split_once("\n[Desktop Action open-in-running]\n").expect("the action's group");
    assert_eq!(desktop_key(group, "Name"), Some("Open in running vireo"));
    assert_eq!(desktop_key(group, "Exec"), Some("vireo --remote %F"));
    // The main entry's own keys come before any action group.
    assert_eq!(desktop_key(&entry, "Exec"), Some("vireo %F"));
    if let Ok(out) = std::process::Command::new("desktop-file-validate")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("packaging/{APP_ID}.desktop")))
        .output()
    {
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && said.trim().is_empty(), "desktop-file-validate: {said}");
    }
}

#[test]
fn the_window_is_of_the_class_the_desktop_entry_names() {
    let s = Session::start("app-id", "40x8", &[]);
    // xdotool searches by regular expression; match the whole name.
    let exact = format!("^{}$", APP_ID.replace('.', "\\."));
    for what in ["--class", "--classname"] {
        let found = s.xdotool(&["search", what, &exact]);
        assert!(
            found.lines().any(|id| id.trim() == s.window),
            "{what} {exact}: {found:?}, window {}",
            s.window
        );
    }
    drop(s);

    // --x11-wm-class names both halves of WM_CLASS on X11.
    let args: Vec<std::ffi::OsString> = ["--x11-wm-class", "vireo-custom", "--grid", "40x8", "--nvim"]
        .into_iter()
        .map(Into::into)
        .chain([common::nvim_binary().into_os_string()])
        .chain(["--", "--clean", "-n"].map(Into::into))
        .collect();
    let s = Session::launch("wm-class", &args, |_| None, false);
    for what in ["--class", "--classname"] {
        let found = s.xdotool(&["search", what, "^vireo-custom$"]);
        assert!(found.lines().any(|id| id.trim() == s.window), "{what}: {found:?}, window {}", s.window);
    }
}

#[test]
fn the_metainfo_macos_bundle_and_scripts_use_the_same_id() {
    let metainfo = read(&format!("packaging/{APP_ID}.metainfo.xml"));
    assert!(metainfo.contains(&format!("<id>{APP_ID}</id>")));
    assert!(metainfo.contains(&format!("<launchable type=\"desktop-id\">{APP_ID}.desktop</launchable>")));
    // A new version needs a release entry in both.
    assert!(metainfo.contains(&format!("<release version=\"{}\"", env!("CARGO_PKG_VERSION"))));
    let changelog = read("packaging/changelog.Debian");
    assert!(changelog.starts_with(&format!("vireo ({}-1) ", env!("CARGO_PKG_VERSION"))), "{changelog}");
    let plist = read("packaging/macos/Info.plist");
    assert!(plist.contains(&format!("<key>CFBundleIdentifier</key>\n  <string>{APP_ID}</string>")));
    for script in ["tools/icons.sh", "tools/package.sh"] {
        // The scripts read APP_ID from the source, in this form.
        assert!(read(script).contains(r#"s/^pub const APP_ID: &str = "\(.*\)";$/\1/p"#), "{script}");
    }
    assert!(read("src/settings/mod.rs").contains(&format!("pub const APP_ID: &str = \"{APP_ID}\";")));
    assert!(read("packaging/linux/install.sh").contains(&format!("app_id={APP_ID}\n")));
}

#[test]
fn the_deb_and_the_rpm_list_the_same_files() {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml parses");
    let metadata = &manifest["package"]["metadata"];
    let deb: Vec<(String, String)> = metadata["deb"]["assets"]
        .as_array()
        .expect("deb assets")
        .iter()
        .map(|a| {
            let (source, dest) = (a[0].as_str().unwrap(), a[1].as_str().unwrap());
            // A folder destination keeps the source's file name.
            let name = Path::new(source).file_name().unwrap().to_str().unwrap();
            let dest = if dest.ends_with('/') { format!("/{dest}{name}") } else { format!("/{dest}") };
            (source.to_owned(), dest.replace("/zsh/vendor-completions/", "/zsh/site-functions/"))
        })
        .collect();
    let rpm: Vec<(String, String)> = metadata["generate-rpm"]["assets"]
        .as_array()
        .expect("rpm assets")
        .iter()
        .map(|a| (a["source"].as_str().unwrap().to_owned(), a["dest"].as_str().unwrap().to_owned()))
        // The .deb's licence is its copyright file (cargo-deb's license-file).
        .filter(|(_, dest)| !dest.starts_with("/usr/share/licenses/"))
        .collect();
    assert_eq!(deb, rpm);
    let dests: Vec<&str> = deb.iter().map(|(_, d)| d.as_str()).collect();
    for size in [16, 32, 48, 64, 128, 256, 512] {
        let icon = format!("/usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png");
        assert!(dests.contains(&icon.as_str()), "{icon}");
    }
    for dest in [
        "/usr/bin/vireo",
        &format!("/usr/share/applications/{APP_ID}.desktop"),
        &format!("/usr/share/metainfo/{APP_ID}.metainfo.xml"),
        &format!("/usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg"),
        "/usr/share/man/man1/vireo.1.gz",
        "/usr/share/bash-completion/completions/vireo",
        "/usr/share/zsh/site-functions/_vireo",
        "/usr/share/fish/vendor_completions.d/vireo.fish",
    ] {
        assert!(dests.contains(&dest), "{dest}");
    }
}
