//! Cursor particle effects under Xvfb: a far move with
//! `g:vireo_cursor_vfx_mode` set shows particles in the window while they
//! live, and once they are dead vireo draws nothing and uses no CPU.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use vireo::render::offscreen::Image;

/// Pixels brighter than the dark background in pixel rows `y0..y1`.
fn bright(img: &Image, y0: u32, y1: u32) -> usize {
    (y0..y1)
        .flat_map(|y| (0..img.width).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p: [u8; 4] = img.pixel(x, y);
            p[..3].iter().map(|&c| u32::from(c)).sum::<u32>() > 3 * 90
        })
        .count()
}

/// `G` in a buffer of blank lines, the cursor jumping (the slide off, so
/// only particles can light the rows between): screenshots during the
/// particles' life show bright pixels between the first line and the
/// last, none once they died, and vireo then uses no CPU for 5 s.
#[test]
fn particles_show_while_they_live_and_then_the_window_rests() {
    const COLS: u32 = 40;
    const ROWS: u32 = 12;
    let socket = temp("vfx.sock");
    let args = listening_args(&socket, &["--grid", "40x12"]);
    let s = Session::launch("vfx", &args, |_| None, false);
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
    // A comma list, as a Vimscript string holds it.
    remote_expr(
        &socket,
        "execute('set laststatus=0 noruler noshowmode | call setline(1, repeat([\"\"], 299) + [\"end\"]) | let g:vireo_cursor_animation_length = 0 | let g:vireo_cursor_vfx_mode = \"railgun,ripple\"')",
    );
    // Let the settings and the system fonts land.
    std::thread::sleep(Duration::from_millis(1500));
    let before = window_shot(&s);
    let ch = before.height / ROWS;
    let (between, last) = (ch..(ROWS - 2) * ch, (ROWS - 2) * ch);
    assert_eq!(bright(&before, between.start, between.end), 0, "blank lines between: {COLS} columns dark");

    remote_send(&socket, "G");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(1000);
    while Instant::now() < deadline {
        seen.push(bright(&window_shot(&s), between.start, between.end));
    }
    s.wait_row((ROWS - 2) as usize, "end");
    assert!(seen.iter().any(|&n| n > 10), "no screenshot showed particles on the rows between: {seen:?}");
    // cursor_vfx_particle_lifetime is 1.2 s: all dead by now.
    std::thread::sleep(Duration::from_millis(1000));
    let after = window_shot(&s);
    assert_eq!(bright(&after, between.start, between.end), 0, "the particles are gone");
    assert!(bright(&after, last, last + ch) > 0, "the cursor and `end` on the last text row");
    // At rest after the effects: no timer left.
    let ticks = s.cpu_ticks();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(s.cpu_ticks() - ticks, 0, "vireo used CPU in 5 s after the particles died");
}
