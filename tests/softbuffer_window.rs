//! vireo's window where it presents through softbuffer's buffers, on the
//! two displays that take that path when the graphics adapter is the CPU:
//!
//! - Wayland (weston, headless, painting with pixman). weston paints from
//!   vireo's buffer itself and holds the one it shows until the next
//!   arrives, so each buffer comes back two frames old and the rows the
//!   frame before changed are composed into it again with the frame's own.
//! - X without shared memory (Xvfb without MIT-SHM, as a remote display).
//!   The one buffer comes back as it was shown, and a scroll's rows are
//!   moved inside it.
//!
//! After scrolls, splits, typed text and a blended float, the screen shows
//! what an offscreen render of the same state shows, and exactly what a
//! redraw from scratch shows; then, with nothing changing, vireo uses no
//! CPU.

mod common;

use common::window::{
    Proc, cpu_ticks, listening_args, one_at_a_time, remote_expr, remote_send, screenshot, temp, wait_for,
    xdotool, xvfb_with,
};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::{Image, Offscreen};
use vireo::replay;

/// The compositor's socket, inside the test's own runtime folder.
const SOCKET: &str = "wayland-vireo-test";

/// weston on its own runtime folder, without a panel (nothing on the
/// screen changes but vireo's window).
struct Weston {
    runtime: PathBuf,
    _proc: Proc,
}

impl Weston {
    fn start(name: &str) -> Weston {
        use std::os::unix::fs::PermissionsExt;
        let runtime = temp(&format!("{name}-runtime"));
        std::fs::create_dir_all(&runtime).unwrap();
        // Wayland wants its runtime folder private.
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        let config = runtime.join("weston.ini");
        std::fs::write(
            &config,
            "[core]\nidle-time=0\n[shell]\npanel-position=none\nbackground-color=0xff203040\n",
        )
        .unwrap();
        let log = std::fs::File::create(temp(&format!("{name}-weston.log"))).unwrap();
        let child = Command::new("weston")
            .args(["--backend=headless-backend.so", "--use-pixman", "--shell=desktop-shell.so"])
            .args(["--width=800", "--height=500", &format!("--socket={SOCKET}")])
            // Lets weston-screenshooter read the screen.
            .arg("--debug")
            .arg(format!("--config={}", config.display()))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("weston is needed for this test (bash tools/setup.sh installs it)");
        let proc = Proc(child);
        wait_for("weston's socket", Duration::from_secs(30), || runtime.join(SOCKET).exists().then_some(()));
        Weston { runtime, _proc: proc }
    }

    /// A client of this compositor.
    fn client(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("XDG_RUNTIME_DIR", &self.runtime).env("WAYLAND_DISPLAY", SOCKET).env_remove("DISPLAY");
        command
    }

    /// Covers the screen with another window for a moment, which weston
    /// then takes away: it paints vireo's window again from the whole of
    /// its buffer, not only from the parts vireo said had changed, so rows
    /// left stale in the buffer show. Returns the covered screen.
    fn cover(&self) -> Image {
        // Larger than the screen with its frame: placed over all of it.
        let cover = Proc(
            self.client("weston-fullscreen")
                .args(["-w", "1000", "-h", "700"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("weston-fullscreen comes with weston"),
        );
        std::thread::sleep(Duration::from_secs(1));
        let covered = self.screenshot();
        drop(cover);
        std::thread::sleep(Duration::from_secs(1));
        covered
    }

    /// The whole screen, through weston-screenshooter (which writes a PNG
    /// into its working folder).
    fn screenshot(&self) -> Image {
        let dir = self.runtime.join("shots");
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = self
            .client("weston-screenshooter")
            .current_dir(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("weston-screenshooter comes with weston");
        let status = wait_for("weston-screenshooter", Duration::from_secs(30), || child.try_wait().unwrap());
        assert!(status.success(), "weston-screenshooter failed: {status}");
        let shot = std::fs::read_dir(&dir).unwrap().next().expect("a screenshot").unwrap().path();
        Image::read_png(&shot).unwrap()
    }
}

/// Where vireo's window opens.
enum Display {
    Wayland(Weston),
    /// An X server without MIT-SHM.
    X {
        _server: Proc,
        display: String,
    },
}

impl Display {
    /// A client of this display (and of no other).
    fn client(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        match self {
            Display::Wayland(weston) => weston.client(program),
            Display::X { display, .. } => {
                let mut command = Command::new(program);
                command.env("DISPLAY", display).env_remove("WAYLAND_DISPLAY");
                command
            }
        }
    }

    /// The screen as shown, and on Wayland the screen while covered (see
    /// [`Weston::cover`]). An X server keeps the window's pixels itself and
    /// shows them as they were sent.
    fn shot(&self) -> (Image, Option<Image>) {
        match self {
            Display::Wayland(weston) => {
                let covered = weston.cover();
                (weston.screenshot(), Some(covered))
            }
            Display::X { display, .. } => (screenshot(display, "root"), None),
        }
    }

    /// Gives vireo's window the focus, as weston does on its own (an
    /// unfocused window draws its cursor hollow).
    fn focus(&self) {
        if let Display::X { display, .. } = self {
            let window = wait_for("vireo's window", Duration::from_secs(60), || {
                let id = xdotool(display, &["search", "--class", "vireo"]);
                id.lines().next().filter(|l| !l.is_empty()).map(str::to_owned)
            });
            xdotool(display, &["windowfocus", "--sync", &window]);
        }
    }
}

/// How far two pixels' channels may differ: the window and the offscreen
/// render draw with the same GPU code, and differ by rounding at most.
const TOLERANCE: u8 = 2;

/// The largest difference between two pixels' channels.
fn off(a: [u8; 4], b: [u8; 4]) -> u8 {
    (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap_or(0)
}

/// Where `grid` sits on `screen`: the place where its inked pixels (up to
/// 400 of them, spread over it) match, fewest pixels differing overall.
fn locate(screen: &Image, grid: &Image, bg: [u8; 3]) -> Option<(u32, u32)> {
    let inked: Vec<(u32, u32)> = (0..grid.height)
        .flat_map(|y| (0..grid.width).map(move |x| (x, y)))
        .filter(|&(x, y)| grid.pixel(x, y)[..3] != bg)
        .collect();
    let step = (inked.len() / 400).max(1);
    let samples: Vec<(u32, u32)> = inked.iter().step_by(step).copied().collect();
    let (w, h) = (screen.width.checked_sub(grid.width)?, screen.height.checked_sub(grid.height)?);
    (0..=h)
        .flat_map(|dy| (0..=w).map(move |dx| (dx, dy)))
        .filter(|&(dx, dy)| {
            samples.iter().all(|&(x, y)| off(screen.pixel(dx + x, dy + y), grid.pixel(x, y)) <= TOLERANCE)
        })
        .min_by_key(|&(dx, dy)| differing(screen, grid, (dx, dy)))
}

/// How many of `grid`'s pixels differ (by more than [`TOLERANCE`] in a
/// channel) from the screen's with the grid at `at`.
fn differing(screen: &Image, grid: &Image, at: (u32, u32)) -> usize {
    (0..grid.height)
        .flat_map(|y| (0..grid.width).map(move |x| (x, y)))
        .filter(|&(x, y)| off(screen.pixel(at.0 + x, at.1 + y), grid.pixel(x, y)) > TOLERANCE)
        .count()
}

/// Waits until the recording has not grown for a second, then a second
/// more for the window to show its last frame.
fn quiet(record: &Path) {
    let size = || std::fs::metadata(record).map(|m| m.len()).unwrap_or(0);
    let mut last = (size(), Instant::now());
    wait_for("the screen to stop changing", Duration::from_secs(60), || {
        std::thread::sleep(Duration::from_millis(100));
        let now = size();
        if now != last.0 {
            last = (now, Instant::now());
        }
        (last.1.elapsed() > Duration::from_secs(1)).then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
}

/// Keeps the pictures in the test's scratch folder and says where.
fn keep(test: &str, what: &str, pictures: &[(&str, &Image)]) -> String {
    let names: Vec<String> = pictures
        .iter()
        .map(|(name, img)| {
            let path = temp(&format!("{test}-{name}.png"));
            img.write_png(&path).expect("write the picture");
            path.display().to_string()
        })
        .collect();
    format!("{what}; see {}", names.join(" and "))
}

/// Runs the frames on `display` and checks the screen after them, named
/// `name` in the scratch folder; returns vireo's log of the buffers it was
/// handed (`vireo::present` at trace level).
fn the_screen_shows_the_frames(name: &str, display: Display) -> String {
    let socket = temp(&format!("{name}.sock"));
    let record = temp(&format!("{name}.msgpack"));
    let log = temp(&format!("{name}.log"));
    let mut args = listening_args(&socket, &["--grid", "60x16"]);
    args.extend(["-c", "set number cursorline", "tests/fixtures/files/sample.c"].map(Into::into));
    let vireo = Proc(
        display
            .client(env!("CARGO_BIN_EXE_vireo"))
            .arg("--record")
            .arg(&record)
            .args(&args)
            .env("XDG_CONFIG_HOME", temp(&format!("{name}-config")))
            .env("XDG_STATE_HOME", temp(&format!("{name}-state")))
            .env("NVIM_LOG_FILE", temp(&format!("{name}-nvim.log")))
            .env("VIREO_LOG", "warn,vireo::present=trace")
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("vireo starts"),
    );
    wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
    display.focus();
    // Frames one after another, each drawn into the buffer that comes
    // back: rows moved by scrolls, rows changed under a float and in
    // both halves of a split.
    let float = "lua local w = vim.api.nvim_open_win(vim.api.nvim_create_buf(false, true), false, \
                 {relative='editor', row=4, col=20, width=30, height=6, border='rounded', focusable=false}); \
                 vim.wo[w].winblend = 30";
    let steps = [
        "10<C-e>",
        "jjjj",
        ":vsplit<CR>",
        "<C-w>w",
        "20<C-e>",
        "ix<Esc>",
        "3<C-y>",
        &format!(":{float}<CR>"),
        "5<C-e>",
        "jj",
        "<C-w>w",
        "8<C-e>",
        ":split<CR>",
        "4<C-y>",
        "Ayz<Esc>",
    ];
    for keys in steps {
        remote_send(&socket, keys);
        std::thread::sleep(Duration::from_millis(150));
    }
    // nvim has taken every key once it answers.
    assert_eq!(remote_expr(&socket, "winnr('$')"), "4", "three windows and the float");
    quiet(&record);
    let (shown, covered) = display.shot();

    let frame = replay::final_frame(&std::fs::read(&record).unwrap()).unwrap().expect("a frame");
    let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    // The window's floats have their default depth: a shadow, the blur.
    offscreen.renderer.depth = vireo::settings::Settings::default().depth();
    let (grid, _) = offscreen.render(&frame, CursorState { visible: true }).unwrap();
    let bg = frame.defaults.bg;
    let bg = [(bg >> 16) as u8, (bg >> 8) as u8, bg as u8];
    let Some(at) = locate(&shown, &grid, bg) else {
        panic!(
            "{}",
            keep(name, "nvim's screen is nowhere on the screen", &[("shown", &shown), ("offscreen", &grid)])
        );
    };
    if let Some(covered) = covered {
        let what = "the window was not covered";
        assert_eq!(locate(&covered, &grid, bg), None, "{}", keep(name, what, &[("covered", &covered)]));
    }
    let (different, total) = (differing(&shown, &grid, at), (grid.width * grid.height) as usize);
    assert_eq!(
        different,
        0,
        "{}",
        keep(
            name,
            &format!("{different} of {total} pixels differ from an offscreen render"),
            &[("shown", &shown), ("offscreen", &grid)]
        )
    );

    // Every row sent again and drawn from scratch: nothing may differ.
    remote_expr(&socket, "execute('redraw!')");
    quiet(&record);
    let (redrawn, _) = display.shot();
    assert_eq!((shown.width, shown.height), (redrawn.width, redrawn.height));
    let row = (0..shown.height)
        .find(|&y| (0..shown.width).any(|x| off(shown.pixel(x, y), redrawn.pixel(x, y)) > TOLERANCE));
    assert_eq!(
        row,
        None,
        "{}",
        keep(
            name,
            "the screen differs from a redraw from scratch",
            &[("shown", &shown), ("redrawn", &redrawn)]
        )
    );
    // Nothing changes: nothing is drawn, nothing polls.
    let ticks = cpu_ticks(&vireo);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(cpu_ticks(&vireo) - ticks, 0, "vireo used CPU in 5 s with nothing changing");
    remote_send(&socket, "<Esc>:qa!<CR>");
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn on_wayland_buffers_two_frames_old_get_the_rows_they_missed() {
    let _turn = one_at_a_time();
    let log = the_screen_shows_the_frames("wayland", Display::Wayland(Weston::start("wayland")));
    assert!(log.contains("a buffer last shown 2 frames ago (0: new): LastFrame"), "{log}");
}

#[test]
fn on_x_without_shared_memory_a_scrolls_rows_move_in_the_buffer() {
    let _turn = one_at_a_time();
    let (server, display) = xvfb_with(&["-extension", "MIT-SHM"]);
    let log = the_screen_shows_the_frames("x-no-shm", Display::X { _server: server, display });
    assert!(log.contains("frames through softbuffer: the X server cannot share memory"), "{log}");
    assert!(log.contains("a buffer last shown 1 frames ago (0: new): Moving"), "{log}");
    assert!(log.contains("runs of rows moved in the buffer"), "{log}");
}
