//! A real vireo window under Xvfb, driven with xdotool and read back
//! through its `--record` stream, for the window, fault and soak tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vireo::model::compose;
use vireo::render::offscreen::Image;
use vireo::replay;

/// A child process stopped on drop: SIGTERM (so Xvfb removes its lock
/// files), then SIGKILL if it lingers.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // It may have exited already; either way it is gone afterwards.
        Command::new("kill").arg(self.0.id().to_string()).stderr(Stdio::null()).status().ok();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.0.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// One X session at a time: several at once on a small machine make
/// timing-sensitive steps (a 5 MB clipboard transfer) flaky.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An Xvfb server on a display number nobody uses.
pub fn xvfb() -> (Proc, String) {
    xvfb_with(&[])
}

/// [`xvfb`] with `args` added to the server's command line.
pub fn xvfb_with(args: &[&str]) -> (Proc, String) {
    // Tests in this file run in parallel: each call takes its own numbers.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for _ in 0..50 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let num = 40 + (std::process::id() as usize * 7 + n) % 400;
        if Path::new(&format!("/tmp/.X11-unix/X{num}")).exists()
            || Path::new(&format!("/tmp/.X{num}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{num}");
        let child = Command::new("Xvfb")
            // -noreset: no server reset when the last client (our readiness
            // probe) disconnects, which would refuse clients for a moment.
            .args([&display, "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed for this test (apt-get install xvfb)");
        let mut proc = Proc(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut up = false;
        while Instant::now() < deadline {
            if proc.0.try_wait().ok().flatten().is_some() {
                break; // Lost a race for this display; try the next one.
            }
            // The socket appears before the server accepts clients: wait
            // for a real connection.
            if Path::new(&format!("/tmp/.X11-unix/X{num}")).exists()
                && let Ok((conn, _)) = x11rb::connect(Some(&display))
            {
                // Another test run may have taken the number at the same
                // moment: the server answering must be ours.
                if !owns_lock(num, proc.0.id()) {
                    break;
                }
                // xdotool presses and releases each key in turn, but on a
                // loaded machine the gap can pass the server's repeat delay
                // and type a key twice: the tests want exactly what they type.
                set_auto_repeat(&conn, false);
                up = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if up {
            return (proc, display);
        }
    }
    panic!("no free X display number");
}

/// Whether X server `pid` holds display `num`'s lock file (which holds the
/// server's process id).
fn owns_lock(num: usize, pid: u32) -> bool {
    let lock = std::fs::read_to_string(format!("/tmp/.X{num}-lock")).unwrap_or_default();
    lock.trim().parse() == Ok(pid)
}

/// Turns the X server's key auto-repeat on or off.
pub fn set_auto_repeat(conn: &impl x11rb::connection::Connection, on: bool) {
    use x11rb::protocol::xproto::{AutoRepeatMode, ChangeKeyboardControlAux, ConnectionExt};
    let mode = if on { AutoRepeatMode::ON } else { AutoRepeatMode::OFF };
    let aux = ChangeKeyboardControlAux::new().auto_repeat_mode(mode);
    conn.change_keyboard_control(&aux).expect("keyboard control").check().expect("auto-repeat set");
    conn.flush().ok();
}

/// Openbox managing `display`'s windows, returned once it does (it has
/// named itself on the root window, `_NET_SUPPORTING_WM_CHECK`). It reads
/// the system's `rc.xml`, never the user's.
pub fn openbox(display: &str) -> Proc {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{AtomEnum, ConnectionExt};
    // A folder that cannot exist (it would be under a file): openbox reads
    // no user config and leaves no log behind.
    let nowhere = "/dev/null/vireo";
    let child = Command::new("openbox")
        .arg("--sm-disable")
        .env("DISPLAY", display)
        .env("XDG_CONFIG_HOME", nowhere)
        .env("XDG_CACHE_HOME", nowhere)
        .env("XDG_DATA_HOME", nowhere)
        .stdout(Stdio::null())
        // It complains of those folders and of a menu file it does not need.
        .stderr(Stdio::null())
        .spawn()
        .expect("openbox is needed for this test (apt-get install openbox)");
    let mut proc = Proc(child);
    let (conn, screen) = x11rb::connect(Some(display)).expect("the X server");
    let root = conn.setup().roots[screen].root;
    let check = conn.intern_atom(false, b"_NET_SUPPORTING_WM_CHECK").unwrap().reply().unwrap().atom;
    wait_for("openbox to manage the display", Duration::from_secs(30), || {
        assert!(proc.0.try_wait().ok().flatten().is_none(), "openbox exited at start");
        let reply = conn.get_property(false, root, check, AtomEnum::WINDOW, 0, 1).ok()?.reply().ok()?;
        reply.value32()?.next().filter(|&w| w != 0)
    });
    proc
}

pub fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool").args(args).env("DISPLAY", display).output().expect("xdotool is needed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn wait_for<T>(what: &str, timeout: Duration, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = poll() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// vireo's arguments for a window on nvim listening at `socket`, with
/// `extra` flags first (no --grid unless `extra` has one).
pub fn listening_args(socket: &std::path::Path, extra: &[&str]) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = extra.iter().map(Into::into).collect();
    args.extend(["--nvim".into(), super::nvim_binary().into()]);
    args.extend(["--", "--clean", "-n", "--listen"].map(Into::into));
    args.push(socket.into());
    args
}

pub fn temp(name: &str) -> PathBuf {
    super::scratch(&format!("e2e-{name}"))
}

/// vireo in a fresh Xvfb, recording its stream so the test can read the
/// screen state back.
pub struct Session {
    pub name: String,
    pub display: String,
    pub window: String,
    pub record: PathBuf,
    pub vireo: Proc,
    /// An input method, stopped after vireo and before the X server.
    pub _im: Option<Proc>,
    /// A window manager ([`openbox`]), stopped after vireo and before the
    /// X server.
    pub _wm: Option<Proc>,
    /// With an input method, vireo's debug log, which says when the
    /// window turns the input method on.
    pub log: Option<PathBuf>,
    pub _xvfb: Proc,
    // Last, so it is released after both processes are gone.
    pub _turn: std::sync::MutexGuard<'static, ()>,
}

impl Session {
    pub fn start(name: &str, size: &str, nvim_args: &[&str]) -> Session {
        Session::start_with(name, size, nvim_args, |_| None)
    }

    /// Like [`Session::start`]; `im` may start an input method on the
    /// display first and return it with its `XMODIFIERS` value.
    pub fn start_with(
        name: &str,
        size: &str,
        nvim_args: &[&str],
        im: impl FnOnce(&str) -> Option<(Proc, String)>,
    ) -> Session {
        let mut args: Vec<std::ffi::OsString> = vec!["--grid".into(), size.into(), "--nvim".into()];
        args.push(super::nvim_binary().into());
        args.extend(["--", "--clean", "-n"].map(Into::into));
        args.extend(nvim_args.iter().map(Into::into));
        Session::launch(name, &args, im, false)
    }

    /// vireo with `args` (plus `--record`) on a fresh display. vireo's
    /// stderr goes to [`Session::log`] when there is an input method (with
    /// the window's debug log) or `capture` is set, else to the test's.
    pub fn launch(
        name: &str,
        args: &[std::ffi::OsString],
        im: impl FnOnce(&str) -> Option<(Proc, String)>,
        capture: bool,
    ) -> Session {
        Session::launch_on(name, args, im, capture, false, &[])
    }

    /// Like [`Session::launch`] with `capture`, with `env` set for vireo;
    /// `managed`: with a window manager, as [`Session::launch_managed`].
    pub fn launch_with_env(
        name: &str,
        args: &[std::ffi::OsString],
        env: &[(&str, &Path)],
        managed: bool,
    ) -> Session {
        Session::launch_on(name, args, |_| None, true, managed, env)
    }

    /// Like [`Session::launch`] with `capture`, on a display that
    /// [`openbox`] manages: for maximize, full screen, frames and window
    /// positions, which X leaves to a window manager.
    pub fn launch_managed(name: &str, args: &[std::ffi::OsString]) -> Session {
        Session::launch_on(name, args, |_| None, true, true, &[])
    }

    fn launch_on(
        name: &str,
        args: &[std::ffi::OsString],
        im: impl FnOnce(&str) -> Option<(Proc, String)>,
        capture: bool,
        managed: bool,
        env: &[(&str, &Path)],
    ) -> Session {
        let turn = one_at_a_time();
        let (xvfb, display) = xvfb();
        let wm = managed.then(|| openbox(&display));
        let (im, modifiers) = im(&display).unzip();
        let record = temp(&format!("{name}.msgpack"));
        let log = (modifiers.is_some() || capture).then(|| temp(&format!("{name}.log")));
        let stderr = match &log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::inherit(),
        };
        let vireo = Command::new(env!("CARGO_BIN_EXE_vireo"))
            .arg("--record")
            .arg(&record)
            .args(args)
            .env("DISPLAY", &display)
            // Never the user's own config or remembered window state.
            .env("XDG_CONFIG_HOME", temp(&format!("{name}-config")))
            .env("XDG_STATE_HOME", temp(&format!("{name}-state")))
            // nvim's own log, which it would put in the working folder
            // when its state folder cannot be written.
            .env("NVIM_LOG_FILE", temp(&format!("{name}-nvim.log")))
            .env("XMODIFIERS", modifiers.clone().unwrap_or_default())
            .env("VIREO_LOG", if modifiers.is_some() { "warn,vireo::app=debug" } else { "warn" })
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stderr(stderr)
            .stdin(Stdio::null())
            .spawn()
            .expect("vireo starts");
        let vireo = Proc(vireo);
        let window = wait_for("the vireo window", Duration::from_secs(60), || {
            let id = xdotool(&display, &["search", "--class", "vireo"]);
            id.lines().next().filter(|l| !l.is_empty()).map(str::to_owned)
        });
        Session {
            name: name.to_owned(),
            display,
            window,
            record,
            vireo,
            _im: im,
            _wm: wm,
            log,
            _xvfb: xvfb,
            _turn: turn,
        }
    }

    /// What vireo wrote to stderr so far (with a captured log).
    pub fn stderr(&self) -> String {
        self.log.as_ref().and_then(|l| std::fs::read_to_string(l).ok()).unwrap_or_default()
    }

    /// Waits for vireo to exit; its exit code (None if killed by a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let status = wait_for("vireo to exit", timeout, || self.vireo.0.try_wait().ok().flatten());
        status.code()
    }

    /// vireo's CPU time so far, in clock ticks ([`cpu_ticks`]).
    pub fn cpu_ticks(&self) -> u64 {
        cpu_ticks(&self.vireo)
    }

    /// vireo's resident memory in kB (`VmRSS`).
    pub fn resident_kb(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.vireo.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("vireo is running")
    }

    /// Like [`Session::start`], with nvim also listening on a socket the
    /// test can drive with `--remote-expr`; returns once nvim has drawn.
    pub fn start_listening(name: &str, size: &str) -> (Session, PathBuf) {
        Session::start_listening_with(name, size, |_| None)
    }

    pub fn start_listening_with(
        name: &str,
        size: &str,
        im: impl FnOnce(&str) -> Option<(Proc, String)>,
    ) -> (Session, PathBuf) {
        let socket = temp(&format!("{name}.sock"));
        let s = Session::start_with(name, size, &["--listen", socket.to_str().unwrap()], im);
        wait_for("nvim's socket", Duration::from_secs(60), || socket.exists().then_some(()));
        wait_for("nvim's first screen", Duration::from_secs(60), || s.frame());
        (s, socket)
    }

    /// Waits for `row` of the screen to read `want`; the panic shows the screen.
    pub fn wait_row(&self, row: usize, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.row(row).as_deref() != Some(want) {
            let screen = self.screen().unwrap_or_default();
            assert!(Instant::now() < deadline, "row {row} never read {want:?}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn frame(&self) -> Option<vireo::model::Frame> {
        replay::final_frame(&std::fs::read(&self.record).ok()?).ok()?
    }

    pub fn screen(&self) -> Option<String> {
        Some(compose::compose(&self.frame()?).text())
    }

    pub fn row(&self, row: usize) -> Option<String> {
        Some(compose::compose(&self.frame()?).row_text(row))
    }

    pub fn xdotool(&self, args: &[&str]) -> String {
        xdotool(&self.display, args)
    }

    /// Sets a boolean UI option in nvim through `socket` and returns once
    /// vireo has been told (nvim's `option_set` has reached the window).
    pub fn set_bool_option(&self, socket: &Path, name: &str, on: bool) {
        remote_expr(socket, &format!("execute('set {}{name}')", if on { "" } else { "no" }));
        let want = vireo::model::OptionValue::Bool(on);
        wait_for(&format!("vireo to hear of '{name}'"), Duration::from_secs(30), || {
            self.frame().filter(|f| f.option(name) == Some(&want))
        });
        // The recording is written as bytes arrive, a moment before the
        // window applies them.
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        std::fs::remove_file(&self.record).ok();
        // The window state vireo remembered (a later session of the same
        // name and process may still read it: only the config goes).
        std::fs::remove_dir_all(temp(&format!("{}-config", self.name))).ok();
        if let Some(log) = &self.log {
            std::fs::remove_file(log).ok();
        }
    }
}

/// A running process's CPU time so far, in clock ticks (user + system,
/// /proc/PID/stat).
pub fn cpu_ticks(process: &Proc) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", process.0.id())).expect("the process runs");
    // Fields after the command's closing parenthesis: state is the
    // first, utime and stime the 12th and 13th.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// `xclip` on the test's display.
pub fn xclip(display: &str, args: &[&str], input: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("xclip")
        .args(args)
        .env("DISPLAY", display)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        // Writing, xclip forks a server that keeps running: it must not
        // hold our pipe open.
        .stdout(if input.is_some() { Stdio::null() } else { Stdio::piped() })
        .spawn()
        .expect("xclip is needed for this test (apt-get install xclip)");
    if let Some(text) = input {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Puts `text` on the CLIPBOARD selection as another program: returns once
/// that program owns it (xclip takes the selection in a child it forks, a
/// moment after the parent returns).
pub fn set_x_clipboard(display: &str, text: &str) {
    xclip(display, &["-selection", "clipboard", "-i"], Some(text));
    wait_for("xclip to own the clipboard", Duration::from_secs(30), || {
        (xclip(display, &["-selection", "clipboard", "-o"], None) == text).then_some(())
    });
}

/// Evaluates `expr` in the window's nvim through its --listen socket.
/// Runs `nvim --server SOCKET ARGS`, failing the test after 30 s instead of
/// hanging: an nvim at a prompt ("Press ENTER") answers no request.
fn nvim_client(socket: &Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(super::nvim_binary())
        .arg("--server")
        .arg(socket)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nvim runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("nvim runs").is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("nvim --server {} {args:?} got no answer within 30 s", socket.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("nvim runs")
}

/// The value of `expr` in the nvim listening on `socket`.
pub fn remote_expr(socket: &Path, expr: &str) -> String {
    String::from_utf8_lossy(&nvim_client(socket, &["--remote-expr", expr]).stdout).into_owned()
}

/// Types `keys` (Neovim notation) into the nvim listening on `socket`.
pub fn remote_send(socket: &Path, keys: &str) {
    nvim_client(socket, &["--remote-send", keys]);
}

pub fn window_shot(s: &Session) -> Image {
    screenshot(&s.display, &s.window)
}

/// A screenshot of X window `window` (an id, or "root") on `display`.
pub fn screenshot(display: &str, window: &str) -> Image {
    let shot = temp("shot.png");
    let status = Command::new("import")
        .args(["-window", window])
        .arg(format!("PNG32:{}", shot.display()))
        .env("DISPLAY", display)
        .status()
        .expect("imagemagick's import is needed");
    assert!(status.success());
    let img = Image::read_png(&shot).unwrap();
    std::fs::remove_file(&shot).ok();
    img
}
