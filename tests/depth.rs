//! Floats with depth: a bordered, blended float (`winblend` 30) over
//! syntax-highlighted text, recorded from a real nvim
//! (`tests/fixtures/files/float-depth.lua`, in
//! `tests/fixtures/golden/depth.msgpack`) and drawn offscreen with its
//! shadow, rounded corners and the blur of the text under it; each effect
//! checked against the same scene drawn without it.
//!
//! `VIREO_UPDATE_GOLDEN=1 cargo test --test depth` rewrites the PNG; look
//! at it before committing it. The scene was recorded with
//! `vireo --snapshot-text /dev/null --record tests/fixtures/golden/depth.msgpack
//! --grid 80x24 -- --clean -n -S tests/fixtures/files/float-depth.lua
//! tests/fixtures/files/sample.c`.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use vireo::model::compose::{self, LayerKind};
use vireo::model::{Cell, Frame};
use vireo::render::font::Fonts;
use vireo::render::offscreen::{Image, Offscreen};
use vireo::render::{CursorState, Depth, Padding};
use vireo::replay;

fn offscreen() -> &'static Mutex<Offscreen> {
    static OFFSCREEN: OnceLock<Mutex<Offscreen>> = OnceLock::new();
    OFFSCREEN.get_or_init(|| {
        Mutex::new(
            Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device (mesa-vulkan-drivers)"),
        )
    })
}

fn scene() -> Frame {
    let stream = std::fs::read("tests/fixtures/golden/depth.msgpack").expect("recorded scene");
    replay::final_frame(&stream).expect("replays").expect("has a frame")
}

/// Every effect on: the knobs' defaults and corners half a line round.
const ALL: Depth = Depth {
    shadow: true,
    z_height: 10.0,
    light_angle_degrees: 45.0,
    light_radius: 5.0,
    corner_radius: 0.5,
    blur: [2.0, 2.0],
};

/// `frame` drawn from scratch with `depth`.
fn render(frame: &Frame, depth: Depth) -> Image {
    let mut offscreen = offscreen().lock().unwrap();
    offscreen.renderer.depth = depth;
    offscreen.renderer.invalidate();
    offscreen.render(frame, CursorState { visible: false }).expect("renders").0
}

/// The float's rect in pixels (x0, y0, x1, y1).
fn float_rect(frame: &Frame) -> (u32, u32, u32, u32) {
    let m = offscreen().lock().unwrap().renderer.metrics();
    let float = compose::layers(frame).into_iter().find(|l| l.kind == LayerKind::Float).expect("a float");
    let (x, y) = (float.col as u32 * m.width, float.row as u32 * m.height);
    (x, y, x + float.width as u32 * m.width, y + float.height as u32 * m.height)
}

fn luma(p: [u8; 4]) -> f64 {
    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
}

/// Mean brightness of the pixels in [x0, x1) x [y0, y1).
fn mean(image: &Image, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> f64 {
    let n = f64::from((x1 - x0) * (y1 - y0));
    (y0..y1).flat_map(|y| (x0..x1).map(move |x| (x, y))).map(|(x, y)| luma(image.pixel(x, y))).sum::<f64>()
        / n
}

/// How much neighbouring pixels differ across [x0, x1) x [y0, y1): sharp
/// text has hard edges, blurred text soft ones.
fn edges(image: &Image, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> f64 {
    (y0..y1)
        .flat_map(|y| (x0..x1 - 1).map(move |x| (x, y)))
        .map(|(x, y)| (luma(image.pixel(x, y)) - luma(image.pixel(x + 1, y))).abs())
        .sum()
}

fn same(a: &Image, b: &Image, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> bool {
    (y0..y1).all(|y| (x0..x1).all(|x| a.pixel(x, y) == b.pixel(x, y)))
}

/// The golden image: the float's shadow falls below it, its corners are
/// round, and the code under its blank rows shows through blurred.
#[test]
fn a_float_with_shadow_rounded_corners_and_blur_matches_its_golden_image() {
    let image = render(&scene(), ALL);
    let golden = PathBuf::from("tests/golden/float-depth.png");
    if std::env::var_os("VIREO_UPDATE_GOLDEN").is_some() {
        image.write_png(&golden).unwrap();
        return;
    }
    let expected =
        Image::read_png(&golden).unwrap_or_else(|e| panic!("{e} (VIREO_UPDATE_GOLDEN=1 creates it)"));
    assert_eq!((image.width, image.height), (expected.width, expected.height));
    // As tests/golden.rs: rasteriser rounding may move a few pixels.
    let different = image
        .rgba
        .chunks(4)
        .zip(expected.rgba.chunks(4))
        .filter(|(a, e)| a.iter().zip(e.iter()).any(|(x, y)| x.abs_diff(*y) > 40))
        .count();
    let total = f64::from(image.width * image.height);
    if different as f64 > total * 0.002 {
        let actual = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("float-depth.png");
        image.write_png(&actual).unwrap();
        panic!(
            "{different} of {total} pixels differ from the golden image; the rendering is at {}",
            actual.display()
        );
    }
}

/// Just below the float (the side away from the light) the text's
/// background is darker than in the same place drawn flat; just above it
/// only the soft edge's faint tail shows, and far from it nothing changed. `floating_shadow = false` takes the
/// shadow away: the strip below is exactly as drawn flat.
#[test]
fn the_shadow_darkens_the_side_away_from_the_light_and_the_knob_removes_it() {
    let frame = scene();
    let (x0, y0, x1, y1) = float_rect(&frame);
    let no_blur = Depth { blur: [0.0, 0.0], corner_radius: 0.0, ..ALL };
    let shadowed = render(&frame, no_blur);
    let flat = render(&frame, Depth::FLAT);
    let below = (x0 + 20, y1, x1 - 20, y1 + 6);
    let above = (x0 + 20, y0 - 4, x1 - 20, y0);
    let (dark, plain) = (mean(&shadowed, below), mean(&flat, below));
    assert!(dark < plain - 20.0, "below the float: {dark:.1} with the shadow, {plain:.1} without");
    let (lit, unlit) = (mean(&shadowed, above), mean(&flat, above));
    assert!(
        (unlit - lit).abs() < (plain - dark) / 10.0,
        "the light side is hardly touched: {lit:.2} with, {unlit:.2} without"
    );
    assert!(same(&shadowed, &flat, (0, y1 + 40, x1, y1 + 80)), "far from the float nothing changed");
    assert!(same(&shadowed, &flat, (x0, y0, x1, y1)), "inside the float the shadow does not show");
    let off = render(&frame, Depth { shadow: false, ..no_blur });
    assert!(same(&off, &flat, (0, 0, off.width, off.height)), "floating_shadow = false: no shadow at all");
}

/// Where the float is blank, the text under it shows through blurred: its
/// edges are much softer than the same text drawn sharp, and the blur stays
/// inside the float.
#[test]
fn the_text_under_a_blended_float_is_blurred_and_only_there() {
    let frame = scene();
    let (x0, y0, x1, y1) = float_rect(&frame);
    let m = offscreen().lock().unwrap().renderer.metrics();
    let blurred = render(&frame, Depth { shadow: false, ..ALL });
    let sharp = render(&frame, Depth { shadow: false, blur: [0.0, 0.0], ..ALL });
    // The float's blank rows (4 to 8 of its 10, inside the border).
    let under = (x0 + m.width, y0 + 4 * m.height, x1 - m.width, y0 + 9 * m.height);
    let (soft, hard) = (edges(&blurred, under), edges(&sharp, under));
    assert!(hard > 0.0 && soft < hard * 0.6, "edges under the float: {soft:.0} blurred, {hard:.0} sharp");
    let flat = render(&frame, Depth::FLAT);
    assert!(same(&sharp, &flat, under), "blur 0 draws the text as nvim's compositor does");
    assert!(same(&blurred, &flat, (0, 0, blurred.width, y0)), "nothing above the float is blurred");
    assert!(same(&blurred, &flat, (0, y1, blurred.width, blurred.height)), "nor anything below it");
}

/// A corner of a float with round corners shows what lies under it (the
/// text area's background); drawn square, the float covers it.
#[test]
fn round_corners_leave_the_floats_corner_pixels_to_what_lies_under_them() {
    let frame = scene();
    let (x0, y0, x1, y1) = float_rect(&frame);
    let depth = Depth { shadow: false, blur: [0.0, 0.0], ..ALL };
    let round = render(&frame, depth);
    let square = render(&frame, Depth::FLAT);
    let bg = frame.defaults.bg;
    let normal = [(bg >> 16) as u8, (bg >> 8) as u8, bg as u8, 255];
    for (x, y) in [(x0, y0), (x1 - 1, y0), (x0, y1 - 1), (x1 - 1, y1 - 1)] {
        assert_eq!(round.pixel(x, y), normal, "corner ({x}, {y}) rounded off");
        assert_ne!(square.pixel(x, y), normal, "corner ({x}, {y}) is the float's when square");
    }
    // The middle of each edge is the float's either way.
    let mid = ((x0 + x1) / 2, y0);
    assert_eq!(round.pixel(mid.0, mid.1), square.pixel(mid.0, mid.1));
}

/// A change under the shadow of a blurred float recomposes the whole float
/// (its blur reads what lies under it); without the blur, only the changed
/// row (the shadow and corners are drawn pixel by pixel). Either way the
/// frame drawn on the kept screen is exactly what drawing it from scratch
/// gives.
#[test]
fn a_change_under_the_shadow_draws_what_drawing_from_scratch_does() {
    let frame = scene();
    let (_, y0, _, y1) = float_rect(&frame);
    let m = offscreen().lock().unwrap().renderer.metrics();
    let changed = changed_under_shadow(&frame);

    for (depth, blurred) in [(ALL, true), (Depth { blur: [0.0, 0.0], ..ALL }, false)] {
        let kept = {
            let mut offscreen = offscreen().lock().unwrap();
            offscreen.renderer.depth = depth;
            offscreen.renderer.invalidate();
            offscreen.render_kept(&frame, CursorState { visible: false }).unwrap();
            let (image, stats) = offscreen.render_kept(&changed, CursorState { visible: false }).unwrap();
            assert_eq!(stats.rows_drawn, 1, "one row changed");
            if blurred {
                assert!(
                    stats.composed_rows_px >= y1 + m.height - y0,
                    "the float's whole footprint: {stats:?}"
                );
                assert!(stats.composed_rows_px < image.height, "not the whole screen: {stats:?}");
            } else {
                assert_eq!(stats.composed_rows_px, m.height, "the changed row alone: {stats:?}");
            }
            image
        };
        let fresh = render(&changed, depth);
        assert!(
            same(&kept, &fresh, (0, 0, kept.width, kept.height)),
            "blurred {blurred}: kept and fresh differ"
        );
    }
}

/// `frame` with the row of text just below the float changed (under its
/// shadow).
fn changed_under_shadow(frame: &Frame) -> Frame {
    let (_, _, _, y1) = float_rect(frame);
    let m = offscreen().lock().unwrap().renderer.metrics();
    // The row of text just below the float, in whichever grid shows it.
    let row = (y1 / m.height) as i64;
    let layer = compose::layers(frame)
        .into_iter()
        .rev()
        .find(|l| l.kind != LayerKind::Float && l.row <= row && row < l.row + l.height as i64)
        .expect("a grid under the float");
    let mut changed = frame.clone();
    let mut grid = (*changed.grids[&layer.grid]).clone();
    let r = (row - layer.row) as usize;
    let mut text = (*grid.rows[r]).clone();
    for cell in text.cells.iter_mut().take(40) {
        *cell = Cell { text: "#".into(), hl: cell.hl };
    }
    grid.rows[r] = Arc::new(text);
    changed.grids.insert(layer.grid, Arc::new(grid));
    changed
}

/// A window on a CPU adapter composes the rows it shows in rounds through
/// a scratch texture (`Offscreen::render_moved`). Rounds shorter than the
/// blurred float's footprint never cut it (its blur reads around the
/// float): the scratch grows to hold it, and the rows beside it in its
/// band are composed too. Frame by frame (the float, a change under its
/// shadow, back), with and without padding around the grid, what is shown
/// is what drawing from scratch gives.
#[test]
fn a_blurred_float_composed_in_short_rounds_shows_what_drawing_from_scratch_does() {
    let frame = scene();
    let changed = changed_under_shadow(&frame);
    let (_, y0, _, y1) = float_rect(&frame);
    let mut rounds = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    rounds.renderer.depth = ALL;
    rounds.scratch_rows = (y1 - y0) / 3;
    let mut shown = Image { width: 0, height: 0, rgba: Vec::new() };
    let padded = Padding { top: 7, bottom: 3, left: 5, right: 2 };
    for padding in [Padding::default(), padded] {
        rounds.renderer.padding = padding;
        for (step, frame) in [&frame, &changed, &frame].into_iter().enumerate() {
            rounds.render_moved(frame, CursorState { visible: false }, &mut shown).expect("renders");
            let fresh = render(frame, ALL);
            // Inside the padding.
            let (left, top) = (padding.left, padding.top);
            let differ = (0..fresh.height)
                .flat_map(|y| (0..fresh.width).map(move |x| (x, y)))
                .find(|&(x, y)| shown.pixel(x + left, y + top) != fresh.pixel(x, y));
            assert_eq!(differ, None, "{padding:?}, frame {step}: the first pixel shown unlike drawn");
        }
    }
    let scratch = rounds.renderer.scratch().expect("frames were composed in rounds");
    assert!(scratch.height() >= y1 - y0, "the scratch holds the float's footprint: {}", scratch.height());
}

/// The knobs reach `--snapshot` from the environment: the default draws a
/// shadow under the float, `VIREO_FLOATING_SHADOW=false` none.
#[test]
fn floating_shadow_false_removes_the_shadow_from_a_snapshot() {
    let dir = common::scratch("depth");
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot = |name: &str, vars: &[(&str, &str)]| {
        let out = dir.join(name);
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vireo"));
        cmd.env("VIREO_NVIM", common::nvim_binary())
            .env("XDG_CONFIG_HOME", &dir)
            .stdin(std::process::Stdio::null());
        cmd.envs(vars.iter().copied()).args(["--snapshot", out.to_str().unwrap(), "--grid", "80x24"]);
        cmd.args(["--", "--clean", "-n", "-S", "tests/fixtures/files/float-depth.lua"]);
        cmd.arg("tests/fixtures/files/sample.c");
        let status = cmd.status().unwrap();
        assert!(status.success(), "{name}: {status}");
        Image::read_png(&out).unwrap()
    };
    let with = snapshot("with.png", &[]);
    let without = snapshot("without.png", &[("VIREO_FLOATING_SHADOW", "false")]);
    let flat = snapshot(
        "flat.png",
        &[
            ("VIREO_FLOATING_SHADOW", "false"),
            ("VIREO_FLOATING_BLUR_AMOUNT_X", "0"),
            ("VIREO_FLOATING_BLUR_AMOUNT_Y", "0"),
        ],
    );
    let (x0, _, x1, y1) = float_rect(&scene());
    let below = (x0 + 20, y1, x1 - 20, y1 + 6);
    assert!(mean(&with, below) < mean(&without, below) - 20.0, "the default casts a shadow");
    assert!(same(&without, &flat, below), "floating_shadow = false: none");
    std::fs::remove_dir_all(dir).ok();
}

/// A window on a CPU adapter makes each depth pipeline at the first frame
/// that draws with it: none while no float has depth, the shadow's alone
/// with vireo's defaults (floats cast shadows, square and unblurred), the
/// blur's once a float is blurred, the round corners' once they are round.
/// Each frame is the one a renderer that made them all at start draws.
#[test]
fn depth_pipelines_are_made_at_their_first_use() {
    let frame = scene();
    let mut lazy = Offscreen::as_cpu_window(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    let shadow = Depth { corner_radius: 0.0, blur: [0.0, 0.0], ..ALL };
    let steps = [
        (Depth { shadow: false, ..shadow }, &[][..]),
        (shadow, &["shadow.wgsl"][..]),
        (ALL, &["shadow.wgsl", "blur.wgsl", "float_blurred.wgsl"][..]),
        (
            Depth { blur: [0.0, 0.0], ..ALL },
            &["shadow.wgsl", "blur.wgsl", "rounded.wgsl", "float_blurred.wgsl"][..],
        ),
    ];
    for (depth, made) in steps {
        lazy.renderer.depth = depth;
        lazy.renderer.invalidate();
        let (img, _) = lazy.render(&frame, CursorState { visible: false }).expect("renders");
        assert!(img.rgba == render(&frame, depth).rgba, "{depth:?}: not what all made at start draw");
        let depth_made: Vec<_> =
            lazy.renderer.made_at_first_use().into_iter().filter(|p| p.ends_with(".wgsl")).collect();
        assert_eq!(depth_made, made, "{depth:?}");
    }
}
