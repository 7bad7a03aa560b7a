//! Smooth scrolling under Xvfb: `<C-e>` held (the X server's key repeat)
//! and the mouse wheel scroll a long buffer; screenshots taken meanwhile
//! show the text at pixel offsets between rows, and once it rests the
//! window shows exactly what a redraw without animation draws.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use vireo::render::offscreen::Image;

const COLS: u32 = 40;
const ROWS: u32 = 12;

/// The first pixel row with ink (text is bright, the background dark) in
/// columns 1 to 11 (the text; the cursor stays in column 0), above the
/// command line.
fn first_ink(img: &Image, ch: u32) -> Option<u32> {
    let cw = img.width / COLS;
    let bright = |x, y| img.pixel(x, y)[..3].iter().any(|&c: &u8| c > 120);
    (0..(ROWS - 1) * ch).find(|&y| (cw..12 * cw).any(|x| bright(x, y)))
}

/// Screenshots until `until` passes: the first ink row of each.
fn sample(s: &Session, ch: u32, until: Instant) -> Vec<Option<u32>> {
    let mut seen = Vec::new();
    while Instant::now() < until {
        seen.push(first_ink(&window_shot(s), ch));
    }
    seen
}

/// The window once it rests: the top line and the picture both unchanged
/// over more than the slide's length (a loaded machine may still be
/// working through repeated keys when the key is let go).
fn rested(s: &Session, socket: &std::path::Path) -> Image {
    let top = || remote_expr(socket, "line('w0')");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut shot, mut line) = (window_shot(s), top());
    loop {
        std::thread::sleep(Duration::from_millis(2300));
        let (next, next_line) = (window_shot(s), top());
        if next.rgba == shot.rgba && next_line == line {
            return next;
        }
        assert!(Instant::now() < deadline, "the window never came to rest");
        (shot, line) = (next, next_line);
    }
}

/// Waits for the window to rest, then checks it shows what a redraw with
/// the animation off draws: `:redraw!` makes nvim send every row again,
/// and vireo draws them from scratch. Rows the last frames drew on the CPU
/// (`render::preview`) may differ from the GPU's by the rounding of a
/// channel, so pixels may differ by 2 steps at most. Both pictures are
/// kept in the test's temporary folder when they differ.
fn assert_rests_on_the_still_screen(s: &Session, socket: &std::path::Path, what: &str) {
    let settled = rested(s, socket);
    remote_expr(socket, "execute('let g:vireo_scroll_animation_length = 0 | redraw!')");
    std::thread::sleep(Duration::from_millis(800));
    let still = window_shot(s);
    remote_expr(socket, "execute('let g:vireo_scroll_animation_length = 2.0')");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!((settled.width, settled.height), (still.width, still.height));
    let off = |x, y| {
        let (a, b) = (settled.pixel(x, y), still.pixel(x, y));
        (0..4).map(|i| a[i].abs_diff(b[i])).max().unwrap_or(0)
    };
    let differ = (0..settled.height).find(|&y| (0..settled.width).any(|x| off(x, y) > 2));
    if differ.is_some() {
        let (a, b) = (temp("scroll-rested.png"), temp("scroll-still.png"));
        settled.write_png(&a).expect("write the rested picture");
        still.write_png(&b).expect("write the still picture");
        eprintln!("{what}: rested {} and still {}", a.display(), b.display());
    }
    assert_eq!(differ, None, "{what}: the rested window differs from a still redraw at pixel row {differ:?}");
}

#[test]
fn held_ctrl_e_and_the_wheel_scroll_smoothly_and_rest_on_the_still_screen() {
    let socket = temp("scroll-slide.sock");
    let args = listening_args(&socket, &["--grid", "40x12"]);
    let s = Session::launch("scroll-slide", &args, |_| None, false);
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
    // No status line, a steady cursor, a long buffer, and a slide long
    // enough for screenshots to catch it between frames.
    remote_expr(
        &socket,
        "execute('set laststatus=0 noruler noshowmode mouse=a guicursor=a:block-blinkon0 | call setline(1, map(range(1, 500), \"\\\"line \\\" . v:val\")) | let g:vireo_scroll_animation_length = 2.0')",
    );
    s.wait_row(0, "line 1");
    std::thread::sleep(Duration::from_millis(1500));
    let before = window_shot(&s);
    let ch = before.height / ROWS;
    let rest = first_ink(&before, ch).expect("text on screen");
    let between = |seen: &[Option<u32>]| seen.iter().flatten().any(|&y| y % ch != rest % ch);

    // <C-e> held: the X server repeats it (the harness turns repeat off).
    let (x11, _) = x11rb::connect(Some(&s.display)).expect("the X server");
    set_auto_repeat(&x11, true);
    s.xdotool(&["windowfocus", "--sync", &s.window]);
    s.xdotool(&["keydown", "ctrl+e"]);
    let held = sample(&s, ch, Instant::now() + Duration::from_millis(1500));
    s.xdotool(&["keyup", "ctrl+e"]);
    set_auto_repeat(&x11, false);
    let after = sample(&s, ch, Instant::now() + Duration::from_millis(800));
    let top: usize = remote_expr(&socket, "line('w0')").trim().parse().expect("a line number");
    assert!(top > 3, "holding <C-e> scrolled several lines (top line {top})");
    let seen: Vec<_> = held.iter().chain(&after).copied().collect();
    assert!(
        between(&seen),
        "no screenshot showed the text between rows: {seen:?} (rows of {ch} px, at rest {rest})"
    );
    assert_rests_on_the_still_screen(&s, &socket, "after <C-e>");

    // The wheel: three clicks down, three lines each.
    let (x, y) = ((COLS / 2 * before.width / COLS).to_string(), (before.height / 2).to_string());
    s.xdotool(&["mousemove", "--window", &s.window, &x, &y]);
    let start: usize = remote_expr(&socket, "line('w0')").trim().parse().expect("a line number");
    s.xdotool(&["click", "--repeat", "3", "--delay", "80", "5"]);
    let seen = sample(&s, ch, Instant::now() + Duration::from_millis(1200));
    let end: usize = remote_expr(&socket, "line('w0')").trim().parse().expect("a line number");
    assert!(end > start, "the wheel scrolled ({start} -> {end})");
    assert!(between(&seen), "no screenshot showed the wheel's scroll between rows: {seen:?}");
    assert_rests_on_the_still_screen(&s, &socket, "after the wheel");
    // At rest nothing is left to wake for.
    let ticks = s.cpu_ticks();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(s.cpu_ticks() - ticks, 0, "vireo used CPU in 5 s after the scrolls");
}
