//! Window settings that only a window manager carries out: maximize, full
//! screen, frames and positions, and the remembered maximized state and
//! position. Each test runs openbox on its own Xvfb display.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, MapState};
use x11rb::rust_connection::RustConnection;

use common::window::*;

/// Xvfb's screen (`tests/common/window.rs`).
const SCREEN: (i32, i32) = (1024, 768);

/// Where the window is, as the window manager left it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placement {
    /// The inner window's top-left corner on the screen.
    x: i32,
    y: i32,
    width: i32,
    height: i32,
    /// The frame around it: left, right, top, bottom (`_NET_FRAME_EXTENTS`).
    frame: [i32; 4],
    /// `_NET_WM_STATE`, without the prefix: `MAXIMIZED_VERT`, `FULLSCREEN`...
    states: Vec<String>,
}

impl Placement {
    /// The outer window (frame included): x, y, width, height.
    fn outer(&self) -> (i32, i32, i32, i32) {
        let [left, right, top, bottom] = self.frame;
        (self.x - left, self.y - top, self.width + left + right, self.height + top + bottom)
    }

    fn has(&self, state: &str) -> bool {
        self.states.iter().any(|s| s == state)
    }

    fn maximized(&self) -> bool {
        self.has("MAXIMIZED_VERT") && self.has("MAXIMIZED_HORZ")
    }

    /// The frame fills the screen (openbox's work area: there is no panel).
    fn fills_screen(&self) -> bool {
        self.outer() == (0, 0, SCREEN.0, SCREEN.1)
    }

    /// The window itself covers the screen, with no frame.
    fn covers_screen(&self) -> bool {
        (self.x, self.y, self.width, self.height) == (0, 0, SCREEN.0, SCREEN.1) && self.frame == [0; 4]
    }
}

/// A vireo window on a display openbox manages, and nvim's socket.
struct Managed {
    s: Session,
    socket: PathBuf,
    conn: RustConnection,
    root: u32,
    window: u32,
}

impl Managed {
    /// Starts vireo with `extra` flags; returns once openbox has framed the
    /// window and nvim has drawn.
    fn start(name: &str, extra: &[&str]) -> Managed {
        let socket = temp(&format!("{name}.sock"));
        let s = Session::launch_managed(name, &listening_args(&socket, extra));
        let (conn, screen) = x11rb::connect(Some(&s.display)).expect("the X server");
        let root = conn.setup().roots[screen].root;
        let window = s.window.parse().expect("a window id");
        let m = Managed { s, socket, conn, root, window };
        wait_for("nvim's socket", Duration::from_secs(60), || m.socket.exists().then_some(()));
        wait_for("nvim's first screen", Duration::from_secs(60), || m.s.frame());
        m.wait("openbox to show the window", |_| true);
        m
    }

    fn atom(&self, name: &str) -> u32 {
        self.conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom
    }

    fn atom_name(&self, atom: u32) -> String {
        String::from_utf8_lossy(&self.conn.get_atom_name(atom).unwrap().reply().unwrap().name).into_owned()
    }

    /// The window's placement; None until it is mapped and framed.
    fn placement(&self) -> Option<Placement> {
        let attrs = self.conn.get_window_attributes(self.window).ok()?.reply().ok()?;
        if attrs.map_state != MapState::VIEWABLE {
            return None;
        }
        let extents = self
            .conn
            .get_property(false, self.window, self.atom("_NET_FRAME_EXTENTS"), AtomEnum::CARDINAL, 0, 4)
            .ok()?
            .reply()
            .ok()?;
        let frame: Vec<i32> = extents.value32()?.map(|v| v as i32).collect();
        let frame: [i32; 4] = frame.try_into().ok()?;
        let size = self.conn.get_geometry(self.window).ok()?.reply().ok()?;
        let at = self.conn.translate_coordinates(self.window, self.root, 0, 0).ok()?.reply().ok()?;
        let states = self
            .conn
            .get_property(false, self.window, self.atom("_NET_WM_STATE"), AtomEnum::ATOM, 0, 32)
            .ok()?
            .reply()
            .ok()?;
        let states = states.value32().into_iter().flatten().map(|a| self.atom_name(a)).collect::<Vec<_>>();
        let states = states.iter().map(|s| s.trim_start_matches("_NET_WM_STATE_").to_owned()).collect();
        Some(Placement {
            x: at.dst_x.into(),
            y: at.dst_y.into(),
            width: size.width.into(),
            height: size.height.into(),
            frame,
            states,
        })
    }

    /// Waits until the placement passes `test`, and for it to stay so
    /// (a window manager may move a window in several steps); the panic
    /// shows the last placement seen.
    fn wait(&self, what: &str, test: impl Fn(&Placement) -> bool) -> Placement {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = self.placement();
            if let Some(now) = now.as_ref().filter(|p| test(p)) {
                std::thread::sleep(Duration::from_millis(100));
                if self.placement().as_ref() == Some(now) {
                    return now.clone();
                }
            }
            if Instant::now() > deadline {
                let x = |tool: &str, args: &[&str]| {
                    let out =
                        std::process::Command::new(tool).args(args).env("DISPLAY", &self.s.display).output();
                    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
                };
                let id = self.window.to_string();
                panic!(
                    "timed out waiting for {what}; the window: {now:?}\n{}\n{}\n{}\n{}",
                    x("xwininfo", &["-id", &id]),
                    x("xprop", &["-id", &id]),
                    x("xwininfo", &["-root", "-tree"]),
                    self.s.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// nvim's own grid size, `&columns` x `&lines`.
    fn nvim_grid(&self) -> Option<(i32, i32)> {
        let out = remote_expr(&self.socket, "&columns . 'x' . &lines");
        let (cols, rows) = out.trim().split_once('x')?;
        Some((cols.parse().ok()?, rows.parse().ok()?))
    }

    /// Waits for nvim's grid to be the most cells `placement`'s window
    /// holds; returns that grid.
    fn wait_grid_fits(&self, placement: &Placement) -> (i32, i32) {
        let m = vireo::render::font::Fonts::bundled(1.0).metrics();
        let want = (placement.width / m.width as i32, placement.height / m.height as i32);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = self.nvim_grid();
            if now == Some(want) {
                return want;
            }
            assert!(
                Instant::now() < deadline,
                "nvim's grid is {now:?}, not the {want:?} cells of {placement:?}\n{}",
                self.s.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn let_var(&self, assignment: &str) {
        remote_expr(&self.socket, &format!("execute('let {assignment}')"));
    }

    /// Quits nvim and waits for vireo to exit 0 (saving its state).
    fn quit(mut self) {
        remote_send(&self.socket, "<C-\\><C-n>:qa!<CR>");
        assert_eq!(self.s.wait_exit(Duration::from_secs(30)), Some(0), "{}", self.s.stderr());
    }
}

/// The state file of the sessions named `name`.
fn state_file(name: &str) -> PathBuf {
    temp(&format!("{name}-state")).join("vireo/window.toml")
}

fn forget(name: &str) {
    std::fs::remove_dir_all(temp(&format!("{name}-state"))).ok();
}

#[test]
fn maximized_fills_the_screen_and_nvim_grid_grows_to_match() {
    forget("maximized");
    let w = Managed::start("maximized", &["--grid", "40x10", "--maximized"]);
    let big = w.wait("the window to fill the screen", |p| p.maximized() && p.fills_screen());
    let grid = w.wait_grid_fits(&big);
    assert!(grid.0 > 40 && grid.1 > 10, "the grid grew: {grid:?}");
    w.quit();
    forget("maximized");
}

#[test]
fn fullscreen_covers_the_screen_and_the_variable_toggles_it() {
    forget("fullscreen");
    let w = Managed::start("fullscreen", &["--grid", "40x10", "--fullscreen"]);
    let full = w.wait("full screen", |p| p.has("FULLSCREEN") && p.covers_screen());
    w.wait_grid_fits(&full);

    w.let_var("g:vireo_fullscreen = v:false");
    let windowed =
        w.wait("a framed window again", |p| !p.has("FULLSCREEN") && p.frame[2] > 0 && p.width < SCREEN.0);
    w.wait_grid_fits(&windowed);
    assert_eq!(w.nvim_grid(), Some((40, 10)), "the window went back to its size: {windowed:?}");

    w.let_var("g:vireo_fullscreen = v:true");
    let full = w.wait("full screen again", |p| p.has("FULLSCREEN") && p.covers_screen());
    w.wait_grid_fits(&full);
    w.quit();
    forget("fullscreen");
}

/// The window is at `at`, give or take its frame: a window manager may put
/// the frame or the window itself at a point asked for.
fn near(p: &Placement, at: (i32, i32)) -> bool {
    let [left, _, top, _] = p.frame;
    (p.x - at.0).abs() <= left && (p.y - at.1).abs() <= top
}

#[test]
fn the_window_opens_where_it_was_when_it_closed() {
    forget("position");
    let w = Managed::start("position", &["--grid", "40x10"]);
    let first = w.wait("the window", |_| true);
    assert!(first.frame[2] > 0, "openbox frames the window: {first:?}");
    w.s.xdotool(&["windowmove", &w.s.window, "150", "170"]);
    let moved = w.wait("the window to move", |p| near(p, (150, 170)));
    w.quit();
    let state = std::fs::read_to_string(state_file("position")).unwrap();
    assert!(state.contains("maximized = false"), "{state}");

    let w = Managed::start("position", &[]);
    let again = w.wait("the window", |_| true);
    assert!(near(&again, (moved.x, moved.y)), "at {again:?}, was at {moved:?}\n{state}");
    assert_eq!((again.width, again.height), (moved.width, moved.height), "the size too");
    w.quit();
    forget("position");
}

#[test]
fn a_maximized_window_opens_maximized() {
    forget("remax");
    let w = Managed::start("remax", &["--maximized"]);
    w.wait("the window to fill the screen", |p| p.maximized() && p.fills_screen());
    w.quit();
    let state = std::fs::read_to_string(state_file("remax")).unwrap();
    assert!(state.contains("maximized = true"), "{state}");

    let w = Managed::start("remax", &[]);
    let big = w.wait("the window to fill the screen", |p| p.maximized() && p.fills_screen());
    w.wait_grid_fits(&big);
    w.quit();
    forget("remax");
}

/// Full screen is not a size to open a window at: the window that closed in
/// full screen opens at the size it had before.
#[test]
fn a_window_closed_in_full_screen_opens_at_its_size_before() {
    forget("full-exit");
    let w = Managed::start("full-exit", &["--grid", "40x10"]);
    let before = w.wait("the window", |_| true);
    w.quit();
    let w = Managed::start("full-exit", &[]);
    w.let_var("g:vireo_fullscreen = v:true");
    w.wait("full screen", |p| p.has("FULLSCREEN") && p.covers_screen());
    w.quit();

    let w = Managed::start("full-exit", &[]);
    let after = w.wait("the window", |_| true);
    assert!(!after.has("FULLSCREEN"), "{after:?}");
    assert_eq!((after.width, after.height), (before.width, before.height), "{after:?}");
    assert_eq!(w.nvim_grid(), Some((40, 10)));
    w.quit();
    forget("full-exit");
}

/// Writes the state file of the sessions named `name`.
fn remember(name: &str, state: &str) {
    let file = state_file(name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, state).unwrap();
}

#[test]
fn a_grid_given_wins_over_a_remembered_maximized_window() {
    forget("grid-wins");
    remember(
        "grid-wins",
        "width = 1024\nheight = 749\ncols = 113\nrows = 37\nx = 0\ny = 0\nmaximized = true\n",
    );
    let w = Managed::start("grid-wins", &["--grid", "40x10"]);
    let m = vireo::render::font::Fonts::bundled(1.0).metrics();
    let p = w.wait("the window", |_| true);
    assert!(!p.maximized(), "{p:?}");
    assert_eq!((p.width, p.height), (40 * m.width as i32, 10 * m.height as i32), "{p:?}");
    assert_eq!(w.nvim_grid(), Some((40, 10)));
    w.quit();
    forget("grid-wins");
}

#[test]
fn a_position_off_every_monitor_opens_on_the_screen() {
    forget("offscreen");
    remember(
        "offscreen",
        "width = 360\nheight = 200\ncols = 40\nrows = 10\nx = 3000\ny = 2000\nmaximized = false\n",
    );
    let w = Managed::start("offscreen", &[]);
    let p = w.wait("the window", |_| true);
    let (x, y, width, height) = p.outer();
    assert!(x >= 0 && y >= 0 && x + width <= SCREEN.0 && y + height <= SCREEN.1, "on the screen: {p:?}");
    assert_eq!((p.width, p.height), (360, 200), "the remembered size is still used");
    w.quit();
    forget("offscreen");
}

#[test]
fn frame_none_has_no_decorations() {
    forget("frameless");
    let w = Managed::start("frameless", &["--grid", "40x10", "--frame", "none"]);
    let p = w.wait("the window", |_| true);
    assert_eq!(p.frame, [0; 4], "no frame: {p:?}");
    assert_eq!(p.outer(), (p.x, p.y, p.width, p.height));
    w.quit();
    forget("frameless");
}
