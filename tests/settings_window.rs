//! Settings that need a real window: the remembered window size, and a
//! state folder vireo cannot write.

mod common;

use std::path::Path;
use std::time::Duration;

use common::window::*;

/// The window's inner size in pixels, as X reports it.
fn geometry(s: &Session) -> (u32, u32) {
    let out = s.xdotool(&["getwindowgeometry", &s.window]);
    let size = out.lines().find_map(|l| l.trim().strip_prefix("Geometry: ")).expect("a geometry");
    let (w, h) = size.split_once('x').unwrap();
    (w.parse().unwrap(), h.parse().unwrap())
}

fn grid(s: &Session) -> Option<(usize, usize)> {
    s.frame()?.grid(vireo::model::GLOBAL_GRID).map(|g| (g.width, g.height))
}

/// Quits nvim and waits for vireo to exit 0.
fn quit(s: &mut Session, socket: &Path) {
    remote_send(socket, "<C-\\><C-n>:qa!<CR>");
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0), "{}", s.stderr());
}

fn start(name: &str, socket: &Path, extra: &[&str]) -> Session {
    let s = Session::launch(name, &listening_args(socket, extra), |_| None, true);
    wait_for("nvim's first screen", Duration::from_secs(60), || grid(&s));
    s
}

#[test]
fn the_window_opens_at_the_size_it_had_when_it_closed() {
    let socket = temp("remember.sock");
    let mut s = start("remember", &socket, &["--grid", "50x10"]);
    s.xdotool(&["windowsize", &s.window, "700", "330"]);
    wait_for("the grid to follow the new size", Duration::from_secs(30), || {
        grid(&s).filter(|&g| g != (50, 10))
    });
    let resized = (geometry(&s), grid(&s).unwrap());
    quit(&mut s, &socket);
    drop(s);
    let state = std::fs::read_to_string(temp("remember-state").join("vireo/window.toml")).unwrap();
    assert!(state.contains("width = 700") && state.contains("height = 330"), "{state}");

    // Same state folder (same name), no size given: the remembered one.
    let mut s = start("remember", &socket, &[]);
    wait_for("the remembered grid", Duration::from_secs(30), || (grid(&s) == Some(resized.1)).then_some(()));
    assert_eq!(geometry(&s), resized.0);
    quit(&mut s, &socket);
    drop(s);

    // A size given on the command line wins.
    let mut s = start("remember", &socket, &["--grid", "40x8"]);
    wait_for("the given grid", Duration::from_secs(30), || (grid(&s) == Some((40, 8))).then_some(()));
    assert_ne!(geometry(&s), resized.0);
    quit(&mut s, &socket);
    std::fs::remove_dir_all(temp("remember-state")).ok();
}

#[test]
fn an_unwritable_state_folder_is_a_warning_not_a_failure() {
    // The state "folder" is a file: nothing can be created under it.
    let blocked = temp("blocked-state");
    std::fs::write(&blocked, "not a folder").unwrap();
    let socket = temp("blocked.sock");
    let mut s = start("blocked", &socket, &["--grid", "40x6"]);
    remote_send(&socket, "iworks<Esc>");
    s.wait_row(0, "works");
    quit(&mut s, &socket);
    let stderr = s.stderr();
    assert!(stderr.contains("the window state was not saved"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_file(blocked).ok();
}

/// The pixels of the first `cells` cells of row 0 in a window shot.
fn first_cells(s: &Session, cells: u32) -> Vec<[u8; 4]> {
    let m = vireo::render::font::Fonts::bundled(1.0).metrics();
    let img = window_shot(s);
    (0..m.height)
        .flat_map(|y| (0..cells * m.width).map(move |x| (x, y)))
        .map(|(x, y)| img.pixel(x, y))
        .collect()
}

/// Whether two pixels are alike: within 2 steps of a channel. A frame
/// drawn on the CPU (a typed key's) and the same frame drawn on the GPU
/// (a knob's change draws every row) differ by a channel's rounding at
/// the edges of glyphs.
fn alike(a: &[u8; 4], b: &[u8; 4]) -> bool {
    a.iter().zip(b).all(|(a, b)| a.abs_diff(*b) <= 2)
}

/// Waits until the first cells look like `want` (or, with `same = false`,
/// unlike it); returns what they look like then.
fn wait_cells(s: &Session, what: &str, want: &[[u8; 4]], same: bool) -> Vec<[u8; 4]> {
    let mut last = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let now = first_cells(s, 2);
        let looks = now.len() == want.len() && now.iter().zip(want).all(|(a, b)| alike(a, b));
        if looks == same {
            return now;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(50));
    }
    let differ = last.iter().zip(want).filter(|(a, b)| !alike(a, b)).count();
    panic!("timed out waiting for {what}: {differ} of {} pixels differ", want.len());
}

/// Saving config.toml changes a live knob in the running window; a
/// `g:vireo_*` variable goes over the file, and unsetting it gives the
/// file's value back.
#[test]
fn saving_the_config_file_and_setting_variables_change_the_running_window() {
    let dir = temp("live-config");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    // The cursor jumps: two equal shots of a sliding cursor's frames
    // would pass for the drawn arrow.
    let still = "cursor_animation_length = 0\n";
    std::fs::write(&config, format!("{still}ligatures = true\n")).unwrap();
    let socket = temp("live-config.sock");
    let s = start("live-config", &socket, &["--grid", "30x5", "--config", config.to_str().unwrap()]);
    remote_send(&socket, "i->");
    s.wait_row(0, "->");
    // The recording shows the text a moment before the window does.
    // Both cells inked, the second right of where the insert cursor's bar
    // would be (the frame with "-" alone has the cursor there), and the
    // same a while later: the window may still show an older frame.
    let cell = vireo::render::font::Fonts::bundled(1.0).metrics().width as usize;
    let ligature = wait_for("the arrow drawn", Duration::from_secs(20), || {
        let a = first_cells(&s, 2);
        std::thread::sleep(Duration::from_millis(300));
        let b = first_cells(&s, 2);
        let inked = |cols: std::ops::Range<usize>| {
            a.iter().enumerate().any(|(i, p)| cols.contains(&(i % (2 * cell))) && *p != a[0])
        };
        (a == b && inked(0..cell) && inked(cell + cell / 2..2 * cell)).then_some(a)
    });
    // An editor's save: a new file renamed over the old one.
    std::fs::write(dir.join(".config.toml.new"), format!("{still}ligatures = false\n")).unwrap();
    std::fs::rename(dir.join(".config.toml.new"), &config).unwrap();
    let plain = wait_cells(&s, "the file's change to reach the window", &ligature, false);
    // Through the socket, so the mode (and the cursor's shape) stays.
    remote_expr(&socket, "execute('let g:vireo_ligatures = v:true')");
    wait_cells(&s, "the variable to win over the file", &ligature, true);
    remote_expr(&socket, "execute('unlet g:vireo_ligatures')");
    wait_cells(&s, "the file's value back", &plain, true);
    std::fs::remove_dir_all(dir).ok();
}

/// `guifont` keeps the grid (the window follows the cell size), and
/// `:set lines= columns=` resize the window to the grid nvim chose.
#[test]
fn guifont_keeps_the_grid_and_lines_and_columns_resize_the_window() {
    let socket = temp("follow.sock");
    let mut s = start("follow", &socket, &["--grid", "40x8"]);
    let m = vireo::render::font::Fonts::bundled(1.0).metrics();
    let first = || (geometry(&s) == (40 * m.width, 8 * m.height)).then_some(());
    wait_for("the first size", Duration::from_secs(30), first);
    remote_expr(&socket, "execute('set lines=10 columns=50')");
    wait_for("the window to hold 50x10 cells", Duration::from_secs(30), || {
        (geometry(&s) == (50 * m.width, 10 * m.height)).then_some(())
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while grid(&s) != Some((50, 10)) {
        let now = (grid(&s), geometry(&s));
        assert!(std::time::Instant::now() < deadline, "nvim's grid did not follow: {now:?}\n{}", s.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    // A larger font: more pixels, the same 50x10 cells.
    remote_expr(&socket, "execute('set guifont=JetBrains\\ Mono:h16')");
    let bigger = wait_for("the window to grow with the font", Duration::from_secs(30), || {
        let g = geometry(&s);
        (g.0 > 50 * m.width && g.1 > 10 * m.height).then_some(g)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(grid(&s), Some((50, 10)), "the grid kept its size ({bigger:?})");
    assert_eq!(geometry(&s), bigger, "and the window stays put");
    quit(&mut s, &socket);
}

/// `--fork` returns to the shell once nvim is attached; the window stays.
#[test]
fn fork_returns_at_once_and_leaves_the_window_open() {
    let _turn = one_at_a_time();
    let (_xvfb, display) = xvfb();
    let socket = temp("fork.sock");
    let started = std::time::Instant::now();
    // A file, not a pipe: the detached vireo keeps the parent's stderr open,
    // and reading a pipe to its end would wait for that vireo to exit.
    let err_file = temp("fork.err");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_vireo"))
        .args(["--fork", "--grid", "40x6", "--nvim"])
        .arg(common::nvim_binary())
        .args(["--", "--clean", "-n", "--listen"])
        .arg(&socket)
        .env("DISPLAY", &display)
        .env("XDG_CONFIG_HOME", temp("fork-config"))
        .env("XDG_STATE_HOME", temp("fork-state"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .status()
        .expect("vireo runs");
    assert!(status.success(), "{}", std::fs::read_to_string(&err_file).unwrap_or_default());
    assert!(started.elapsed() < Duration::from_secs(30));
    // By the time it returned, nvim was attached: the socket is there.
    assert!(socket.exists(), "nvim is running");
    let window = xdotool(&display, &["search", "--class", "vireo"]);
    assert!(!window.trim().is_empty(), "the window is open");
    remote_send(&socket, "<C-\\><C-n>:qa!<CR>");
    wait_for("the detached vireo to exit", Duration::from_secs(30), || {
        xdotool(&display, &["search", "--class", "vireo"]).trim().is_empty().then_some(())
    });
    std::fs::remove_file(err_file).ok();
}

/// Saving a `[font] size` in the watched config file resizes the cells of
/// the running window; the window follows them, so the grid stays.
#[test]
fn saving_a_font_size_in_the_config_resizes_the_cells_and_keeps_the_grid() {
    let dir = temp("font-config");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "[font]\nsize = 11\n").unwrap();
    let socket = temp("font-config.sock");
    let mut s = start("font-config", &socket, &["--grid", "30x5", "--config", config.to_str().unwrap()]);
    let mut fonts = vireo::render::font::Fonts::bundled(1.0);
    let m = fonts.metrics();
    wait_for("the first size", Duration::from_secs(30), || {
        (geometry(&s) == (30 * m.width, 5 * m.height) && grid(&s) == Some((30, 5))).then_some(())
    });
    let mut bigger = vireo::settings::Settings::default();
    bigger.set("font", toml::from_str("size = 20").unwrap()).unwrap();
    fonts.set_config(&bigger.font);
    let m20 = fonts.metrics();
    // An editor's save: a new file renamed over the old one.
    std::fs::write(dir.join(".config.toml.new"), "[font]\nsize = 20\n").unwrap();
    let saved = std::time::Instant::now();
    std::fs::rename(dir.join(".config.toml.new"), &config).unwrap();
    wait_for("the window to hold 30x5 cells of the new size", Duration::from_secs(20), || {
        (geometry(&s) == (30 * m20.width, 5 * m20.height)).then_some(())
    });
    eprintln!("[font] size applied {:?} after the save", saved.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(grid(&s), Some((30, 5)), "the grid kept its size");
    assert_eq!(geometry(&s), (30 * m20.width, 5 * m20.height), "and the window stays put");
    quit(&mut s, &socket);
    std::fs::remove_dir_all(dir).ok();
}

/// The first column of row 0 (within the first `span` pixels) whose pixels
/// differ from the top-left corner's: where the first glyph starts.
fn first_ink(s: &Session, span: u32) -> Option<u32> {
    let m = vireo::render::font::Fonts::bundled(1.0).metrics();
    let img = window_shot(s);
    let bg = img.pixel(img.width - 1, 0);
    (0..span.min(img.width)).find(|&x| (0..2 * m.height).any(|y| img.pixel(x, y) != bg))
}

/// `g:vireo_padding_left = 40` moves the text 40 pixels right in the
/// running window; the window stays and the grid loses the columns.
#[test]
fn padding_set_in_nvim_moves_the_text_in_the_window() {
    let socket = temp("padding.sock");
    let s = start("padding", &socket, &["--grid", "30x5"]);
    remote_send(&socket, "iXX<Esc>");
    s.wait_row(0, "XX");
    let before = wait_for("the text drawn", Duration::from_secs(20), || first_ink(&s, 200));
    let size = geometry(&s);
    remote_expr(&socket, "execute('let g:vireo_padding_left = 40 | let g:vireo_padding_top = 6')");
    wait_for("the text 40 px to the right", Duration::from_secs(20), || {
        (first_ink(&s, 200) == Some(before + 40)).then_some(())
    });
    wait_for("the grid to lose the padding's columns", Duration::from_secs(20), || {
        grid(&s).filter(|&(cols, _)| cols < 30)
    });
    assert_eq!(geometry(&s), size, "the window keeps its size");
    remote_expr(&socket, "execute('unlet g:vireo_padding_left')");
    wait_for("the text back", Duration::from_secs(20), || (first_ink(&s, 200) == Some(before)).then_some(()));
}

/// `opacity` shows what is under the window where a compositor blends
/// windows (xcompmgr here): a background pixel is the mix of nvim's
/// background and the desktop's; `g:vireo_opacity = 1` makes it opaque.
#[test]
fn opacity_lets_the_desktop_show_through_a_compositor() {
    let dir = temp("opacity");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "opacity = 0.5\n").unwrap();
    let socket = temp("opacity.sock");
    let args = listening_args(&socket, &["--grid", "30x5", "--config", config.to_str().unwrap()]);
    let compositor = |display: &str| {
        let child = std::process::Command::new("xcompmgr")
            .env("DISPLAY", display)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("xcompmgr is needed for this test (apt-get install xcompmgr)");
        Some((Proc(child), String::new()))
    };
    let s = Session::launch("opacity", &args, compositor, true);
    let frame = wait_for("nvim's first screen", Duration::from_secs(60), || {
        s.frame().filter(|f| grid(&s).is_some() && f.defaults.bg != 0)
    });
    let bg = frame.defaults.bg;
    let bg = [(bg >> 16) as u8, (bg >> 8) as u8, bg as u8];
    let (w, h) = geometry(&s);
    // Inside the window, in row 1's empty background; outside, the desktop.
    let pixels = || {
        let root = screenshot(&s.display, "root");
        (root.pixel(w - 5, 25), root.pixel(w + 50, h + 50))
    };
    let near = |a: [u8; 4], b: [u8; 3]| (0..3).all(|i| a[i].abs_diff(b[i]) <= 3);
    let (inside, desktop) = wait_for("the window blended over the desktop", Duration::from_secs(20), || {
        let (inside, desktop) = pixels();
        let mix = [0, 1, 2].map(|i| ((u16::from(bg[i]) + u16::from(desktop[i])) / 2) as u8);
        near(inside, mix).then_some((inside, desktop))
    });
    assert_ne!(inside[..3], bg, "the desktop shows through");
    assert_ne!(desktop[..3], bg);
    remote_expr(&socket, "execute('let g:vireo_opacity = 1.0')");
    wait_for("the window opaque", Duration::from_secs(20), || near(pixels().0, bg).then_some(()));
    std::fs::remove_dir_all(dir).ok();
}
