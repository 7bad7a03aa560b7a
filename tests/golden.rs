//! Golden images: recorded nvim streams replayed and rendered offscreen on
//! the same renderer as the window (Mesa's software Vulkan in CI), compared
//! with reviewed PNGs in tests/golden/ within a small tolerance.
//!
//! `VIREO_UPDATE_GOLDEN=1 cargo test --test golden` rewrites the PNGs; look
//! at every one before committing it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use vireo::model::Frame;
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::{Image, Offscreen};
use vireo::replay;

/// One renderer for the whole file: device and font scan happen once.
fn offscreen() -> &'static Mutex<Offscreen> {
    static OFFSCREEN: OnceLock<Mutex<Offscreen>> = OnceLock::new();
    OFFSCREEN.get_or_init(|| {
        Mutex::new(
            Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device (mesa-vulkan-drivers)"),
        )
    })
}

fn final_frame(name: &str) -> Frame {
    let stream = std::fs::read(format!("tests/fixtures/golden/{name}.msgpack")).expect("recorded scene");
    replay::final_frame(&stream).expect("replays").expect("has a frame")
}

/// Pixels whose largest channel difference exceeds `THRESHOLD` count as
/// different; up to `MAX_DIFFERENT` of the image may differ (rasteriser
/// rounding between machines).
const THRESHOLD: u8 = 40;
const MAX_DIFFERENT: f64 = 0.002;

fn compare(actual: &Image, expected: &Image) -> Result<(), String> {
    if (actual.width, actual.height) != (expected.width, expected.height) {
        return Err(format!(
            "size {}x{} differs from the golden {}x{}",
            actual.width, actual.height, expected.width, expected.height
        ));
    }
    let different = actual
        .rgba
        .chunks(4)
        .zip(expected.rgba.chunks(4))
        .filter(|(a, e)| a.iter().zip(e.iter()).any(|(x, y)| x.abs_diff(*y) > THRESHOLD))
        .count();
    let total = (actual.width * actual.height) as f64;
    if different as f64 > total * MAX_DIFFERENT {
        return Err(format!("{different} of {total} pixels differ"));
    }
    Ok(())
}

fn check(name: &str) {
    check_frame(name, &final_frame(name), None);
}

/// Renders `frame` with the cursor sliding at `smear` (corners in pixels)
/// if given, and compares it with `tests/golden/{name}.png`.
fn check_frame(name: &str, frame: &Frame, smear: Option<[[f32; 2]; 4]>) {
    let image = {
        let mut offscreen = offscreen().lock().unwrap();
        offscreen.renderer.cursor_smear = smear;
        let rendered = offscreen.render(frame, CursorState { visible: true });
        offscreen.renderer.cursor_smear = None;
        rendered.expect("renders").0
    };
    compare_golden(name, &image);
}

/// Compares `image` with `tests/golden/{name}.png` (or writes it, with
/// `VIREO_UPDATE_GOLDEN`).
fn compare_golden(name: &str, image: &Image) {
    let golden = PathBuf::from(format!("tests/golden/{name}.png"));
    if std::env::var_os("VIREO_UPDATE_GOLDEN").is_some() {
        image.write_png(&golden).unwrap();
        return;
    }
    let expected =
        Image::read_png(&golden).unwrap_or_else(|e| panic!("{e} (VIREO_UPDATE_GOLDEN=1 creates it)"));
    if let Err(why) = compare(image, &expected) {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let actual = dir.join(format!("{name}.png"));
        image.write_png(&actual).unwrap();
        panic!("golden image '{name}': {why}; the rendering is at {}", actual.display());
    }
}

/// Colours, reverse, bold/italic, every underline style, strikethrough,
/// winblend, ligatures, box drawing, blocks, powerline.
#[test]
fn attributes() {
    check("attrs");
}

/// Splits of wide text, emoji, and bordered floats (rounded, single,
/// double) by z-index.
#[test]
fn floats_and_wide_text() {
    check("floats");
}

#[test]
fn cursor_block_in_normal_mode() {
    check("cursor-block");
}

#[test]
fn cursor_vertical_bar_in_insert_mode() {
    check("cursor-vertical");
}

#[test]
fn cursor_underline_in_replace_mode() {
    check("cursor-horizontal");
}

#[test]
fn cursor_in_the_command_line() {
    check("cursor-cmdline");
}

#[test]
fn snapshot_size_is_exactly_cells_times_cell_size() {
    let frame = final_frame("floats");
    let mut offscreen = offscreen().lock().unwrap();
    let (image, _) = offscreen.render(&frame, CursorState { visible: true }).unwrap();
    let m = offscreen.renderer.metrics();
    assert_eq!((image.width, image.height), (80 * m.width, 24 * m.height));
}

/// The cursor halfway (75 ms of 150) through a slide from the start of the
/// line below to where the recorded scene left it, at the default knobs: the leading
/// corners have landed on the cell, the trailing ones lag behind, and the
/// smear between them has soft edges. The glyph under the cursor is not
/// drawn in the cursor's colours until the slide ends.
#[test]
fn cursor_smear_halfway_through_a_slide() {
    use std::time::{Duration, Instant};
    use vireo::render::cursor_motion::{CursorMotion, MotionKnobs, Target};
    let end = final_frame("cursor-block");
    let mut start = end.clone();
    // From the line below, at its start: a diagonal slide.
    start.cursor.row = 1;
    start.cursor.col = 0;
    let m = offscreen().lock().unwrap().renderer.metrics();
    let knobs = MotionKnobs::default();
    let t0 = Instant::now();
    let mut motion = CursorMotion::default();
    motion.retarget(Target::of(&start, m), t0, &knobs);
    motion.retarget(Target::of(&end, m), t0, &knobs);
    let halfway = motion.quad(t0 + Duration::from_millis(75));
    assert!(halfway.is_some(), "sliding at 50 %");
    check_frame("cursor-smear", &end, halfway);
    assert_eq!(motion.quad(t0 + Duration::from_millis(150)), None, "at 100 % the cursor rests on its cell");
    // Settled, it is the plain cursor of the recorded scene.
    check("cursor-block");
}

/// Cursor particle effects 100 ms into a move from the top left corner
/// down and across the attributes scene, with `cursor_vfx_mode = ["railgun",
/// "ripple"]` and the default knobs: the railgun's spiral of dots along
/// the path, the ripple's ring around the destination. The model's own
/// seeded randomness and injected clock make the frame the same on every
/// run.
#[test]
fn cursor_vfx_railgun_and_ripple_mid_animation() {
    use std::time::{Duration, Instant};
    use vireo::render::cursor_motion::{MotionKnobs, Target};
    use vireo::render::vfx::{self, Vfx, VfxKnobs, VfxMode};
    let start = final_frame("attrs");
    assert_eq!((start.cursor.row, start.cursor.col), (0, 0));
    // Down to a blank cell right of the text on the line of `~`.
    let mut end = start.clone();
    end.cursor.row = 18;
    end.cursor.col = 25;
    let knobs = VfxKnobs { modes: vec![VfxMode::Railgun, VfxMode::Ripple], ..VfxKnobs::default() };
    let image = {
        let mut offscreen = offscreen().lock().unwrap();
        let m = offscreen.renderer.metrics();
        let t0 = Instant::now();
        let mut effects = Vfx::default();
        effects.retarget(Target::of(&start, m), t0, m, &knobs, &MotionKnobs::default());
        effects.retarget(Target::of(&end, m), t0, m, &knobs, &MotionKnobs::default());
        let sprites = effects.sprites(t0 + Duration::from_millis(100), knobs.opacity);
        offscreen.renderer.cursor_vfx = vfx::rects(&sprites, vfx::cursor_color(&end, m));
        let rendered = offscreen.render(&end, CursorState { visible: true });
        offscreen.renderer.cursor_vfx.clear();
        rendered.expect("renders").0
    };
    compare_golden("cursor-vfx", &image);
}

/// A smooth scroll (`3<C-e>` in a window with a winbar, which stays) at 0,
/// 50 % and 100 % of its length, side by side: the text where it was,
/// between rows, and at its place.
/// Built from model events on a stepped clock.
#[test]
fn smooth_scroll_at_its_start_middle_and_end() {
    use std::borrow::Cow;
    use std::time::{Duration, Instant};
    use vireo::model::{CellUpdate, HlAttr, Model, RedrawEvent};
    use vireo::render::SlideKnobs;
    let (cols, rows, grid, win) = (36, 10, 2, 1000);
    let cell =
        |text: &str, hl: u32| CellUpdate { text: Cow::Owned(text.to_owned()), hl: Some(hl), repeat: None };
    let mut m = Model::new();
    m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0xd0d0d0), bg: Some(0x1e1e2e), sp: None }).unwrap();
    let attr = |fg: u32, bg: Option<u32>| HlAttr { fg: Some(fg), bg, ..Default::default() };
    for (id, a) in [(1, attr(0x89b4fa, Some(0x313244))), (2, attr(0xa6e3a1, None)), (3, attr(0xf9e2af, None))]
    {
        m.apply(RedrawEvent::HlAttrDefine { id, attr: a }).unwrap();
    }
    m.apply(RedrawEvent::GridResize { grid: 1, width: cols, height: rows }).unwrap();
    m.apply(RedrawEvent::GridResize { grid, width: cols, height: rows - 1 }).unwrap();
    let put = |m: &mut Model, row: usize, cells: Vec<CellUpdate<'static>>| {
        m.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    };
    let cells = |text: &str, hl: u32| text.chars().map(|c| cell(&c.to_string(), hl)).collect::<Vec<_>>();
    let text =
        |n: usize| [cells(&format!("{n:>3} "), 3), cells(&format!("let line_{n} = {};", n * 7), 2)].concat();
    put(&mut m, 0, cells(&format!("{:<1$}", " winbar: src/main.rs", cols), 1));
    for row in 1..rows - 1 {
        put(&mut m, row, text(row));
    }
    m.apply(RedrawEvent::WinPos { grid, win, row: 0, col: 0, width: cols, height: rows - 1 }).unwrap();
    m.apply(RedrawEvent::WinViewportMargins { grid, win, top: 1, bottom: 0, left: 0, right: 0 }).unwrap();
    let viewport = |topline: i64, delta: i64| common::viewport(grid, win, topline, 8, delta);
    m.apply(viewport(0, 0)).unwrap();
    let before = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    m.apply(RedrawEvent::GridScroll { grid, top: 1, bot: rows - 1, left: 0, right: cols, rows: 3 }).unwrap();
    for row in rows - 4..rows - 1 {
        put(&mut m, row, text(row + 3));
    }
    m.apply(viewport(3, 3)).unwrap();
    let after = m.apply(RedrawEvent::Flush).unwrap().unwrap();

    let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    offscreen.renderer.slides = SlideKnobs { scroll_length: 0.3, far_lines: 1, position_length: 0.0 };
    let t0 = Instant::now();
    offscreen.renderer.now = t0;
    let hidden = CursorState { visible: false };
    offscreen.render(&before, hidden).unwrap();
    let mut frames = Vec::new();
    for ms in [0, 150, 300] {
        offscreen.renderer.now = t0 + Duration::from_millis(ms);
        frames.push(offscreen.render(&after, hidden).unwrap().0);
    }
    // Side by side, 4 px apart.
    let (w, h) = (frames[0].width, frames[0].height);
    let width = 3 * w + 8;
    let mut rgba = vec![0x80; (width * h * 4) as usize];
    for (i, f) in frames.iter().enumerate() {
        let x0 = i as u32 * (w + 4);
        for y in 0..h {
            let src = &f.rgba[(y * w * 4) as usize..][..(w * 4) as usize];
            rgba[((y * width + x0) * 4) as usize..][..(w * 4) as usize].copy_from_slice(src);
        }
    }
    compare_golden("smooth-scroll", &Image { width, height: h, rgba });
}
