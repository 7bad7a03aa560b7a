//! Bad input at scale and window faults in a real window under Xvfb: a
//! 50 MB paste, a storm of resizes, and a window of 1000x400 cells.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use vireo::model::GLOBAL_GRID;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConfigureWindowAux, ConnectionExt};
use x11rb::wrapper::ConnectionExt as _;

/// A process's resident memory now and at its peak (`VmRSS`, `VmHWM`), in MiB.
fn memory_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The window's inside size in pixels and its top-left corner on the screen.
fn geometry(display: &str, window: &str) -> ((u32, u32), (i16, i16)) {
    let (conn, screen) = x11rb::connect(Some(display)).expect("an X connection");
    let window: u32 = window.parse().unwrap();
    let geo = conn.get_geometry(window).unwrap().reply().unwrap();
    let root = conn.setup().roots[screen].root;
    let at = conn.translate_coordinates(window, root, 0, 0).unwrap().reply().unwrap();
    ((u32::from(geo.width), u32::from(geo.height)), (at.dst_x, at.dst_y))
}

/// The global grid's size in the window's recording.
fn grid_size(s: &Session) -> Option<(usize, usize)> {
    s.frame()?.grid(GLOBAL_GRID).map(|g| (g.width, g.height))
}

/// Asserts that vireo is still running (it would exit on a panic).
fn assert_alive(s: &mut Session, what: &str) {
    let status = s.vireo.0.try_wait().unwrap();
    assert!(status.is_none(), "vireo exited ({status:?}) {what}");
}

#[test]
fn a_fifty_megabyte_paste_arrives_whole_and_the_window_keeps_answering() {
    let (mut s, socket) = Session::start_listening("paste50", "80x12");
    let lines = 760_000;
    let text: String = (0..lines)
        .map(|i| format!("{i:07} <tag> | \\ pasted line with some text, long enough to add up {}\n", i % 97))
        .collect();
    assert!(text.len() > 50_000_000, "{}", text.len());
    let expected = temp("paste50-expected.txt");
    std::fs::write(&expected, &text).unwrap();
    set_x_clipboard(&s.display, &text);
    s.xdotool(&["windowfocus", "--sync", &s.window]);
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    s.xdotool(&["key", "i", "ctrl+shift+v"]);
    // The clipboard transfer first, then nvim's lines grow chunk by chunk.
    wait_for("the paste to start", Duration::from_secs(120), || {
        (remote_expr(&socket, "line('$')") != "1").then_some(())
    });
    let transferred = started.elapsed();
    let want = (lines + 1).to_string();
    wait_for("the pasted lines", Duration::from_secs(300), || {
        (remote_expr(&socket, "line('$')") == want).then_some(())
    });
    let pasted = started.elapsed();
    let ours = remote_expr(&socket, r#"sha256(join(getline(1, '$'), "\n"))"#);
    let theirs =
        remote_expr(&socket, &format!(r#"sha256(join(readfile('{}', 'b'), "\n"))"#, expected.display()));
    assert_eq!(ours.len(), 64);
    assert_eq!(ours, theirs, "the buffer differs from what was pasted");

    // Still answering: a key typed now reaches the screen.
    let started = Instant::now();
    s.xdotool(&["key", "Escape", "o"]);
    s.xdotool(&["type", "--delay", "15", "typed after the paste"]);
    s.xdotool(&["key", "Escape"]);
    wait_for("the typed line on screen", Duration::from_secs(60), || {
        s.screen().filter(|t| t.lines().any(|l| l == "typed after the paste"))
    });
    let (rss, peak) = memory_mib(s.vireo.0.id());
    eprintln!(
        "50 MB paste: nvim's buffer grew after {:.1} s, whole after {:.1} s; a typed line shown {:.1} s \
         later; vireo {rss} MiB resident, peak {peak} MiB",
        transferred.as_secs_f64(),
        pasted.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_alive(&mut s, "after the paste");
    assert!(peak < 2048, "vireo's memory peaked at {peak} MiB");
    std::fs::remove_file(expected).ok();
    std::fs::remove_file(socket).ok();
}

#[test]
fn two_hundred_resizes_in_two_seconds_end_in_a_grid_that_fits() {
    let (cols, rows) = (80, 24);
    let mut s = Session::start("resizes", &format!("{cols}x{rows}"), &[]);
    wait_for("nvim's first screen", Duration::from_secs(60), || grid_size(&s).filter(|&g| g == (cols, rows)));
    // The window opens at exactly the grid's size: that gives the cell.
    let ((width, height), _) = geometry(&s.display, &s.window);
    let (cw, ch) = (width / cols as u32, height / rows as u32);
    assert_eq!((width % cols as u32, height % rows as u32), (0, 0), "{width}x{height}");

    let (conn, _) = x11rb::connect(Some(&s.display)).expect("an X connection");
    let window: u32 = s.window.parse().unwrap();
    let started = Instant::now();
    let mut last = (0, 0);
    for i in 0..200u32 {
        // Sizes all over the place, a few below one cell.
        last = (3 + (i * 7919) % 1000, 2 + (i * 104_729) % 740);
        let aux = ConfigureWindowAux::new().width(last.0).height(last.1);
        conn.configure_window(window, &aux).unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    conn.sync().unwrap();
    let storm = started.elapsed();
    assert_eq!(geometry(&s.display, &s.window).0, last);
    let want = (((last.0 / cw).max(1)) as usize, ((last.1 / ch).max(1)) as usize);
    wait_for("the grid to fit the last size", Duration::from_secs(60), || {
        grid_size(&s).filter(|&g| g == want)
    });
    // And it stays so: no late resize from the storm undoes it.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(grid_size(&s), Some(want));
    assert_alive(&mut s, "during the resizes");
    eprintln!(
        "200 resizes sent in {:.1} s; settled at {}x{} cells for {}x{} px ({cw}x{ch} px cells)",
        storm.as_secs_f64(),
        want.0,
        want.1,
        last.0,
        last.1
    );

    // The window still works at the new size.
    s.xdotool(&["windowfocus", "--sync", &s.window]);
    std::thread::sleep(Duration::from_millis(300));
    s.xdotool(&["type", "--delay", "15", "iafter the storm"]);
    s.xdotool(&["key", "Escape"]);
    s.wait_row(0, "after the storm");
}

/// Line 1 of the buffer says the size nvim gives its windows, kept up to
/// date; line 2 is 1000 columns wide.
const SIZE_LUA: &str = r#"
local function show() vim.fn.setline(1, 'size ' .. vim.o.columns .. 'x' .. vim.o.lines) end
vim.api.nvim_create_autocmd('VimResized', { callback = show })
show()
vim.fn.setline(2, string.rep('wide ', 200))
"#;

/// A window showing [`SIZE_LUA`] at 80x20 cells, its top-left corner on
/// the screen and its cell size.
fn size_window(name: &str) -> (Session, (i16, i16), (u32, u32)) {
    let script = temp(&format!("{name}.lua"));
    std::fs::write(&script, SIZE_LUA).unwrap();
    let (cols, rows) = (80, 20);
    let s = Session::start(name, &format!("{cols}x{rows}"), &["-S", script.to_str().unwrap()]);
    s.wait_row(0, "size 80x20");
    std::fs::remove_file(script).ok();
    let ((width, height), at) = geometry(&s.display, &s.window);
    (s, at, (width / cols, height / rows))
}

fn resize(s: &Session, width: u32, height: u32) {
    let (conn, _) = x11rb::connect(Some(&s.display)).expect("an X connection");
    let window: u32 = s.window.parse().unwrap();
    conn.configure_window(window, &ConfigureWindowAux::new().width(width).height(height)).unwrap();
    conn.sync().unwrap();
}

/// Waits until the part of the window on the screen shows `text` in its
/// first row: ink in exactly the cells of `text` that are not blank, up
/// to column 20.
fn wait_shown(s: &Session, at: (i16, i16), (cw, ch): (u32, u32), text: &str) {
    let want: Vec<bool> = format!("{text:20}").chars().take(20).map(|c| c != ' ').collect();
    let shows = || {
        let img = screenshot(&s.display, "root");
        let ink = |col: u32| {
            let (x0, y0) = (at.0 as u32 + col * cw, at.1 as u32);
            let bg = img.pixel(x0, y0);
            (y0..y0 + ch).any(|y| (x0..x0 + cw).any(|x| img.pixel(x, y) != bg))
        };
        (0..20).map(ink).collect::<Vec<bool>>() == want
    };
    wait_for(&format!("the window to show {text:?}"), Duration::from_secs(60), || shows().then_some(()));
}

#[test]
fn a_window_resized_to_1000_by_400_cells_draws_the_whole_grid() {
    let (mut s, at, (cw, ch)) = size_window("huge");
    let started = Instant::now();
    resize(&s, 1000 * cw, 400 * ch);
    wait_for("a 1000x400 grid", Duration::from_secs(60), || grid_size(&s).filter(|&g| g == (1000, 400)));
    s.wait_row(0, "size 1000x400");
    let wide = "wide ".repeat(200);
    s.wait_row(1, wide.trim_end());
    let resized = started.elapsed();
    // The window shows it (the part on the 1024x768 screen).
    wait_shown(&s, at, (cw, ch), "size 1000x400");
    let drawn = started.elapsed();
    assert_alive(&mut s, "at 1000x400 cells");
    let (rss, peak) = memory_mib(s.vireo.0.id());
    eprintln!(
        "resized to {}x{} px (1000x400 cells): nvim's grid after {:.1} s, on screen after {:.1} s; vireo \
         {rss} MiB resident, peak {peak} MiB",
        1000 * cw,
        400 * ch,
        resized.as_secs_f64(),
        drawn.as_secs_f64()
    );
}

#[test]
fn a_window_taller_than_a_texture_draws_what_fits() {
    // X allows 32767 pixels a side; graphics devices draw 8192 or 16384.
    let (mut s, at, (cw, ch)) = size_window("tall");
    resize(&s, 80 * cw, 30_000);
    // nvim gives at most 1000 lines: still more than a texture holds.
    let (_, rows) = wait_for("a taller grid", Duration::from_secs(60), || grid_size(&s).filter(|g| g.1 > 20));
    assert!(rows as u32 * ch > 16_384, "{rows} rows of {ch} pixels");
    let text = format!("size 80x{rows}");
    s.wait_row(0, &text);
    wait_shown(&s, at, (cw, ch), &text);
    assert_alive(&mut s, "in a window 30000 pixels tall");
    // And back.
    resize(&s, 80 * cw, 20 * ch);
    wait_shown(&s, at, (cw, ch), "size 80x20");
}
