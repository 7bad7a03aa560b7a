//! A `:terminal` flooding output (`yes | head -n 200000`) in one window
//! while text is typed into another (issue 11): every key typed during the
//! flood reaches the screen, what vireo adds to it (from nvim's first
//! flush after the key reached it to the key's text on screen; vireo's
//! `--trace` says when each flush came) shows no backlog, and vireo's
//! memory stays bounded over the flood. nvim itself may take tens of
//! milliseconds to answer a key while its terminal takes in the flood: the
//! test prints both.
//!
//! The bound on vireo's share is a backlog's (250 ms: frames queued behind
//! the flood would take seconds), as this runs in a debug build on a
//! machine busy with other tests. The performance target, 50 ms, is
//! checked by `tools/flood-latency.sh`: a release build on a quiet machine,
//! the bound given as `VIREO_FLOOD_BOUND_MS`.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{ConnectionExt as _, ReportLevel};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, KEY_PRESS_EVENT, KEY_RELEASE_EVENT};
use x11rb::protocol::xtest::ConnectionExt as _;

const COLS: u32 = 80;
const ROWS: u32 = 24;
/// Keycodes of a s d f g h j k l in X's default (US) map.
const KEYCODES: [u8; 9] = [38, 39, 40, 41, 42, 43, 44, 45, 46];
const LETTERS: &str = "asdfghjkl";
/// Keys typed at most while the flood runs.
const MOST_KEYS: usize = 40;

/// The next damage report on `conn` whose rows meet `rows` (pixels, top
/// and bottom), and when it came; `None` at the deadline.
fn damage_in(conn: &impl Connection, rows: (i32, i32), deadline: Instant) -> Option<Instant> {
    loop {
        while let Some(event) = conn.poll_for_event().expect("the X server") {
            if let Event::DamageNotify(e) = event {
                let (y0, y1) = (i32::from(e.area.y), i32::from(e.area.y) + i32::from(e.area.height));
                if y0 < rows.1 && y1 > rows.0 {
                    return Some(Instant::now());
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        std::thread::sleep(left.min(Duration::from_micros(500)));
    }
}

/// The times (ms after vireo's start) of the `stage` lines of a trace.
fn marks(trace: &str, stage: &str) -> Vec<f64> {
    trace
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, name)| *name == stage)
        .filter_map(|(ms, _)| ms.parse().ok())
        .collect()
}

#[test]
fn keys_typed_during_a_terminal_flood_reach_the_screen_and_memory_stays_bounded() {
    let socket = temp("flood.sock");
    let trace_path = temp("flood.trace");
    let grid = format!("{COLS}x{ROWS}");
    let args = listening_args(&socket, &["--grid", &grid, "--trace", trace_path.to_str().unwrap()]);
    let s = Session::launch("flood", &args, |_| None, false);
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
    // A steady insert-mode bar (a block would hide the letter typed under
    // it until the cursor slides off); the typing window below, in insert
    // mode, and the flood's window above.
    remote_expr(
        &socket,
        "execute('set guicursor=n-v-c:block,i-ci-ve:ver25,a:blinkon0 laststatus=2 | split | wincmd j | startinsert')",
    );
    let text_row: u32 = remote_expr(&socket, "win_screenpos(0)[0]").trim().parse().expect("a row");
    std::thread::sleep(Duration::from_millis(1000));
    let start_kb = s.resident_kb();

    let (x11, _) = x11rb::connect(Some(&s.display)).expect("the X server");
    let window: u32 = s.window.parse().expect("a window id");
    let geometry = x11.get_geometry(window).unwrap().reply().unwrap();
    let (cw, ch) = (u32::from(geometry.width) / COLS, u32::from(geometry.height) / ROWS);
    // The pixel rows of the bottom window's first line, where the keys land.
    let y0 = (text_row - 1) * ch;
    let rows = (y0 as i32, (y0 + ch) as i32);
    let cell = |col: u32| {
        let image = x11
            .get_image(ImageFormat::Z_PIXMAP, window, (col * cw) as i16, y0 as i16, cw as u16, ch as u16, !0)
            .unwrap()
            .reply()
            .unwrap();
        image.data
    };
    x11.damage_query_version(1, 1).unwrap().reply().unwrap();
    let damage = x11.generate_id().unwrap();
    x11.damage_create(damage, window, ReportLevel::RAW_RECTANGLES).unwrap().check().unwrap();
    s.xdotool(&["windowfocus", "--sync", &s.window]);

    // The flood, in the top window; the bottom one keeps the focus.
    remote_expr(&socket, "win_execute(win_getid(1), 'terminal yes | head -n 200000')");
    let job = remote_expr(&socket, "getbufvar(winbufnr(1), 'terminal_job_id')");
    let flooding = || remote_expr(&socket, &format!("jobwait([{}], 0)[0]", job.trim())).trim() == "-1";

    let mut lags = Vec::new();
    let mut peak_kb = start_kb;
    let mut typed = String::new();
    while flooding() && typed.len() < MOST_KEYS {
        let k = typed.len();
        let col = k as u32;
        let before = cell(col);
        while x11.poll_for_event().unwrap().is_some() {}
        let sent = Instant::now();
        let code = KEYCODES[k % KEYCODES.len()];
        x11.xtest_fake_input(KEY_PRESS_EVENT, code, 0, x11rb::NONE, 0, 0, 0).unwrap();
        x11.xtest_fake_input(KEY_RELEASE_EVENT, code, 0, x11rb::NONE, 0, 0, 0).unwrap();
        x11.flush().unwrap();
        typed.push(LETTERS.as_bytes()[k % LETTERS.len()] as char);
        let deadline = sent + Duration::from_secs(5);
        let shown = loop {
            let at = damage_in(&x11, rows, deadline)
                .unwrap_or_else(|| panic!("key {k} did not reach the screen within 5 s"));
            if cell(col) != before {
                break at;
            }
        };
        lags.push((sent, shown));
        peak_kb = peak_kb.max(s.resident_kb());
    }
    // Every key was sent after `flooding` said the flood ran.
    let during = lags.len();
    wait_for("the flood to end", Duration::from_secs(120), || {
        peak_kb = peak_kb.max(s.resident_kb());
        (!flooding()).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    peak_kb = peak_kb.max(s.resident_kb());
    let line = remote_expr(&socket, "getline(1)");
    assert_eq!(line.trim(), typed, "every key typed reached nvim");

    // Each key's way, on vireo's clock: the key event, `nvim_input`
    // written, nvim's first flush after that, and the text on screen
    // (the screen's time moved by the key's offset between the clocks).
    let trace = std::fs::read_to_string(&trace_path).expect("vireo's trace");
    std::fs::remove_file(&trace_path).ok();
    let (keys, written, flushes) =
        (marks(&trace, "key"), marks(&trace, "input-written"), marks(&trace, "flush"));
    assert_eq!(keys.len(), lags.len(), "one key event a key typed:\n{trace}");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut report = Vec::new();
    for (&(sent, shown), &key) in lags.iter().zip(&keys) {
        let input = written.iter().copied().find(|&t| t >= key).expect("nvim_input written after the key");
        let on_screen = key + ms(shown - sent);
        // nvim's answer may come in a moment before the writing thread
        // marks its write: then it is the last flush before the screen.
        let flush = flushes
            .iter()
            .copied()
            .find(|&t| t >= input && t <= on_screen)
            .or_else(|| flushes.iter().copied().rfind(|&t| t >= key && t <= on_screen))
            .expect("a flush after the key, before its text was on screen");
        report.push((ms(shown - sent), flush - key, on_screen - flush));
    }
    let fmt = |f: fn(&(f64, f64, f64)) -> f64| {
        report.iter().map(|r| format!("{:.1}", f(r))).collect::<Vec<_>>().join(" ")
    };
    eprintln!(
        "flood: {} keys, {during} typed while it ran; key to screen (ms): {}; of which nvim, key to its \
         next flush: {}; vireo, that flush to the screen: {}; resident {start_kb} kB before, {peak_kb} kB \
         at most",
        typed.len(),
        fmt(|r| r.0),
        fmt(|r| r.1),
        fmt(|r| r.2),
    );
    assert!(
        during >= 3,
        "only {during} keys were typed while the flood ran: nothing was measured under load"
    );
    let bound: f64 = std::env::var("VIREO_FLOOD_BOUND_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(250.0);
    let slowest = report.iter().map(|r| r.2).fold(0.0, f64::max);
    eprintln!("flood: vireo's share at most {slowest:.1} ms (bound {bound} ms)");
    assert!(
        slowest <= bound,
        "a key's text took {slowest:.1} ms from nvim's flush to the screen: {report:?}"
    );
    let growth_mb = peak_kb.saturating_sub(start_kb) / 1024;
    assert!(growth_mb < 50, "resident memory grew by {growth_mb} MB over the flood");
}
