//! The cursor slides under Xvfb: a far move (`G` in a long buffer) shows
//! the cursor between where it was and where it goes, then settles
//! exactly on its cell, and the window then rests.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use vireo::render::offscreen::Image;

/// The first and last pixel rows where the cell-wide strip of column 0
/// (`x` in 1..cell_width - 1) is all bright: the cursor (or its smear), as
/// text never fills a cell's width and the background is dark.
fn cursor_rows(img: &Image, cell_width: u32) -> Option<(u32, u32)> {
    let bright = |x, y| {
        let p: [u8; 4] = img.pixel(x, y);
        p[..3].iter().map(|&c| u32::from(c)).sum::<u32>() > 3 * 150
    };
    let full = |y| (1..cell_width - 1).all(|x| bright(x, y));
    let first = (0..img.height).find(|&y| full(y))?;
    let last = (0..img.height).rev().find(|&y| full(y))?;
    Some((first, last))
}

/// `G` slides the cursor down the window: screenshots taken during the
/// slide show it between the first line and the last, and at the end it
/// covers exactly the last line's first cell.
#[test]
fn a_far_move_slides_the_cursor_and_settles_on_its_cell() {
    const COLS: u32 = 40;
    const ROWS: u32 = 12;
    let socket = temp("cursor-slide.sock");
    let args = listening_args(&socket, &["--grid", "40x12"]);
    let s = Session::launch("cursor-slide", &args, |_| None, false);
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
    // No status line (its bright background would read as a cursor), a
    // long buffer, and a slide long enough for screenshots to catch it at
    // the 5 frames a second an unfocused window animates at.
    remote_expr(
        &socket,
        "execute('set laststatus=0 noruler noshowmode | call setline(1, map(range(1, 300), \"\\\"line \\\" . v:val\")) | let g:vireo_cursor_animation_length = 2.0')",
    );
    s.wait_row(0, "line 1");
    // Let the settings and the system fonts land.
    std::thread::sleep(Duration::from_millis(1500));
    let before = window_shot(&s);
    let (cw, ch) = (before.width / COLS, before.height / ROWS);
    // The last text row: the command line is below it.
    let last = (ROWS - 2) * ch;
    assert_eq!(cursor_rows(&before, cw), Some((0, ch - 1)), "the cursor starts on line 1");

    remote_send(&socket, "G");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    while Instant::now() < deadline {
        seen.push(cursor_rows(&window_shot(&s), cw));
    }
    s.wait_row((ROWS - 2) as usize, "line 300");
    let (start, end) = ((0, ch - 1), (last, last + ch - 1));
    assert!(
        seen.iter().flatten().any(|&rows| rows != start && rows != end),
        "no screenshot showed the cursor between line 1 and the last row: {seen:?} (cells {cw}x{ch})"
    );
    // Settled: exactly the last text row's first cell.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(cursor_rows(&window_shot(&s), cw), Some(end), "settled on its cell");
}

/// With `cursor_smooth_blink` the cursor fades: screenshots over a few
/// blinks show it fully on, gone, and in between; and without the focus
/// (Xvfb has no window manager to give it) with
/// `cursor_unfocused_outline_width = 0` it stays a filled block.
#[test]
fn a_smooth_blink_fades_the_cursor_in_and_out() {
    let socket = temp("smooth-blink.sock");
    let args = listening_args(&socket, &["--grid", "20x5"]);
    let s = Session::launch("smooth-blink", &args, |_| None, false);
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
    remote_expr(
        &socket,
        "execute('set guicursor=a:block-blinkwait200-blinkoff600-blinkon300 | let g:vireo_cursor_smooth_blink = 1 | let g:vireo_cursor_unfocused_outline_width = 0')",
    );
    std::thread::sleep(Duration::from_millis(500));
    let first = window_shot(&s);
    let (cw, ch) = (first.width / 20, first.height / 5);
    // The cursor's cell is blank: its centre is the cursor's colour
    // (bright) when shown, the background's (a blank cell elsewhere) when
    // not, and in between while it fades; an on/off blink shows only the
    // two ends.
    let level = |img: &Image, x, y| {
        let p: [u8; 4] = img.pixel(x, y);
        p[..3].iter().map(|&c| u32::from(c)).sum::<u32>() / 3
    };
    let bg = level(&first, cw * 10 + cw / 2, ch + ch / 2);
    let mut levels = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        levels.push(level(&window_shot(&s), cw / 2, ch / 2));
    }
    let hi = *levels.iter().max().unwrap();
    assert!(hi > bg + 150, "the cursor is shown at times: {levels:?} (background {bg})");
    let between = levels.iter().filter(|&&l| l > bg + 30 && l < hi - 30).count();
    assert!(between > 0, "no screenshot caught the fade: {levels:?}");
}

/// nvim's `visual_bell` flashes the window: screenshots after an error
/// beep (`<Esc>` in normal mode) show a blank area tinted toward the
/// foreground colour, then the normal screen again, and the window then
/// rests. A plain `bell` shows nothing until `g:vireo_visual_bell` is set.
#[test]
fn the_visual_bell_flashes_the_window_and_a_plain_bell_only_with_the_knob() {
    let socket = temp("bell.sock");
    let args = listening_args(&socket, &["--grid", "20x5"]);
    let s = Session::launch("bell", &args, |_| None, false);
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
    remote_expr(&socket, "execute('set belloff= visualbell laststatus=0 noruler')");
    std::thread::sleep(Duration::from_millis(1000));
    let before = window_shot(&s);
    let (cw, ch) = (before.width / 20, before.height / 5);
    // A blank spot: the right half of the second row.
    let level = |img: &Image| {
        let p: [u8; 4] = img.pixel(cw * 15 + cw / 2, ch + ch / 2);
        p[..3].iter().map(|&c| u32::from(c)).sum::<u32>() / 3
    };
    let bg = level(&before);
    // The levels of screenshots taken for a second after `keys`.
    let sample = |keys: &str| {
        let bells = s.frame().map(|f| (f.bells, f.visual_bells));
        remote_send(&socket, keys);
        let mut levels = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            levels.push(level(&window_shot(&s)));
        }
        wait_for("the bell's frame", Duration::from_secs(10), || {
            s.frame().map(|f| (f.bells, f.visual_bells)).filter(|&b| Some(b) != bells)
        });
        levels
    };
    let flashed = sample("<Esc>");
    assert!(s.frame().unwrap().visual_bells >= 1, "nvim rang the visual bell");
    assert!(
        flashed.iter().any(|&l| l > bg + 30),
        "no screenshot caught the flash: {flashed:?} (background {bg})"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(level(&window_shot(&s)), bg, "the normal screen again after the flash");
    // At rest after a flash: no timer left.
    let ticks = s.cpu_ticks();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(s.cpu_ticks() - ticks, 0, "vireo used CPU in 5 s after the flash");

    remote_expr(&socket, "execute('set novisualbell')");
    std::thread::sleep(Duration::from_millis(500));
    let plain = sample("<Esc>");
    assert!(s.frame().unwrap().bells >= 1, "nvim rang the plain bell");
    assert!(
        plain.iter().all(|&l| l == bg),
        "a plain bell shows nothing by default: {plain:?} (background {bg})"
    );
    remote_expr(&socket, "execute('let g:vireo_visual_bell = v:true')");
    std::thread::sleep(Duration::from_millis(500));
    let knob = sample("<Esc>");
    assert!(knob.iter().any(|&l| l > bg + 30), "with g:vireo_visual_bell a plain bell flashes: {knob:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(level(&window_shot(&s)), bg, "and ends");
}
