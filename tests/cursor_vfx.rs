//! Cursor particle effects (`cursor_vfx_mode`): snapshots mid-animation
//! with `vireo --snapshot-at-ms`, and the particle model fed by a real
//! nvim's cursor.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vireo::render::cursor_motion::{MotionKnobs, Target};
use vireo::render::font::Fonts;
use vireo::render::offscreen::Image;
use vireo::render::vfx::{Shape, Vfx, VfxKnobs, VfxMode};

fn temp(name: &str) -> std::path::PathBuf {
    common::scratch(&format!("vfx-{name}"))
}

/// A PNG snapshot of a 30x12 grid of 40 lines after `<C-End>` (one key: the
/// cursor goes from the first cell to the last character, row 9, column
/// 15), with `config` as config.toml,
/// `at` milliseconds into the animations the keys start. The cursor
/// jumps (`cursor_animation_length = 0`) and the text does not slide
/// (`scroll_animation_length = 0`), so only the effects differ.
fn shot(name: &str, config: &str, at: &str) -> Image {
    let (png, toml) = (temp(&format!("{name}-{at}.png")), temp(&format!("{name}.toml")));
    std::fs::write(&toml, format!("cursor_animation_length = 0\nscroll_animation_length = 0\n{config}"))
        .unwrap();
    let args = [
        "--config",
        toml.to_str().unwrap(),
        "--snapshot",
        png.to_str().unwrap(),
        "--grid",
        "30x12",
        "--keys",
        "<C-End>",
        "--snapshot-at-ms",
        at,
        "--",
        "--clean",
        "-n",
        "-c",
        "call setline(1, map(range(1, 40), '\"line \" . v:val . \" of forty\"'))",
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_vireo"))
        .args(args)
        .env("VIREO_NVIM", common::nvim_binary())
        .env("XDG_CONFIG_HOME", temp("xdg-config"))
        .env("XDG_STATE_HOME", temp("xdg-state"))
        .stdin(Stdio::null())
        .output()
        .expect("vireo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let image = Image::read_png(&png).unwrap();
    if std::env::var_os("VIREO_KEEP_PNG").is_some() {
        std::fs::copy(&png, format!("/tmp/vireo-vfx-{name}-{at}.png")).ok();
    }
    std::fs::remove_file(png).ok();
    std::fs::remove_file(toml).ok();
    image
}

/// The pixels where `a` and `b` differ, as (x, y).
fn differences(a: &Image, b: &Image) -> Vec<(u32, u32)> {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let mut out = Vec::new();
    for y in 0..a.height {
        for x in 0..a.width {
            if a.pixel(x, y) != b.pixel(x, y) {
                out.push((x, y));
            }
        }
    }
    out
}

#[test]
fn snapshots_mid_animation_show_railgun_particles_along_the_path_and_a_ripple_at_the_end() {
    let plain = shot("plain", "", "10000");
    let (cw, ch) = (plain.width / 30, plain.height / 12);
    // The cursor lands on row 9, column 15: its centre in pixels.
    let dest = ((15 * cw + cw / 2) as f32, (9 * ch + ch / 2) as f32);
    let after = |(x, y): (u32, u32)| (x as f32 - dest.0).hypot(y as f32 - dest.1);

    // The railgun 150 ms in: particles between the first row and the last,
    // spread along the diagonal path, none far from it.
    let railgun = "cursor_vfx_mode = \"railgun\"\n";
    let diff = differences(&shot("railgun", railgun, "150"), &plain);
    let rows: std::collections::BTreeSet<u32> =
        diff.iter().filter(|&&(_, y)| y >= ch && y < 9 * ch).map(|&(_, y)| y / ch).collect();
    assert!(rows.len() >= 7, "particles on the rows between: {rows:?} ({} pixels)", diff.len());
    let off_path = diff.iter().filter(|&&(x, y)| {
        // Distance from the line between the two cells' centres.
        let (ax, ay) = ((cw / 2) as f32, (ch / 2) as f32);
        let (dx, dy) = (dest.0 - ax, dest.1 - ay);
        let d = ((x as f32 - ax) * dy - (y as f32 - ay) * dx).abs() / dx.hypot(dy);
        d > 3.0 * ch as f32
    });
    assert_eq!(off_path.count(), 0, "no particle more than 3 cell heights from the path");

    // The ripple 100 ms in: a ring around the destination only.
    let ripple = "cursor_vfx_mode = \"ripple\"\n";
    let diff = differences(&shot("ripple", ripple, "100"), &plain);
    assert!(diff.len() > 20, "the ring shows: {} pixels", diff.len());
    let far = diff.iter().filter(|&&p| after(p) > 2.0 * ch as f32).count();
    assert_eq!(far, 0, "nothing farther than the ring's largest radius");
    // A ring, not a disc: the cursor's own cell (inside it) is untouched
    // apart from where the ring crosses.
    let inside = diff.iter().filter(|&&p| after(p) < ch as f32 * 0.4).count();
    assert_eq!(inside, 0, "the ring's middle is clear");

    // Both from a list; and the end of every effect is the plain frame.
    let both = "cursor_vfx_mode = [\"railgun\", \"ripple\"]\n";
    let diff = differences(&shot("both", both, "100"), &plain);
    let near = diff.iter().filter(|&&p| after(p) < 2.0 * ch as f32).count();
    let away = diff.iter().filter(|&&(_, y)| y < 6 * ch).count();
    assert!(near > 20 && away > 20, "ripple {near} and railgun {away} pixels");
    assert!(shot("both", both, "10000") == plain, "after the lifetime nothing is left");
}

#[test]
fn particles_follow_a_real_nvims_cursor_and_not_its_parking_on_the_command_line() {
    let conn = common::start(40, 12, &[], vireo::rpc::RequestTable::default());
    let m = Fonts::bundled(1.0).metrics();
    let mut latest = None;
    let knobs = VfxKnobs { modes: vec![VfxMode::Torpedo, VfxMode::Wireframe], ..VfxKnobs::default() };
    let motion = MotionKnobs::default();
    let mut vfx = Vfx::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let target = |keys: Option<&str>, latest: &mut Option<_>| {
        Target::of(&common::settled(&conn, latest, keys), m).expect("the cursor is on screen")
    };

    let fill = ":call setline(1, map(range(1, 100), '\"line \" . v:val'))<CR>";
    vfx.retarget(Some(target(Some(fill), &mut latest)), at(0), m, &knobs, &motion);
    assert!(vfx.is_idle(at(0)), "first sight: nothing");
    // A far move spawns the torpedo's wake and the wireframe.
    vfx.retarget(Some(target(Some("50%"), &mut latest)), at(100), m, &knobs, &motion);
    let sprites = vfx.sprites(at(150), knobs.opacity);
    assert!(sprites.iter().filter(|s| s.shape == Shape::Disc).count() > 10, "{sprites:?}");
    assert_eq!(sprites.iter().filter(|s| s.shape == Shape::Outline).count(), 1);
    // A message in normal mode leaves the cursor in the text: nothing new.
    let settled_at = vfx.end(at(150));
    vfx.retarget(Some(target(Some(":echo 'a message'<CR>"), &mut latest)), at(200), m, &knobs, &motion);
    assert_eq!(vfx.end(at(200)), settled_at, "no new particles");
    // After the lifetime: idle.
    assert!(vfx.is_idle(at(100 + 1400)));
    // Command-line mode: the cursor travels to the command line, with effects.
    vfx.retarget(Some(target(Some(":"), &mut latest)), at(2000), m, &knobs, &motion);
    assert!(!vfx.is_idle(at(2010)));
    // <Esc> back to the text: a jump, no effects.
    vfx.retarget(Some(target(Some("<Esc>"), &mut latest)), at(4000), m, &knobs, &motion);
    assert!(vfx.is_idle(at(4000)));
    conn.shutdown();
}
