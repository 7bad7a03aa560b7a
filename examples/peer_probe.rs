//! Measures a Neovim GUI from the outside, the same way whichever GUI it
//! is: tools/compare-peers.sh runs it on vireo and on nvim-qt in turn.
//!
//! ```text
//!   peer_probe start  CLASS KEYS -- GUI ARGS...
//!   peer_probe scroll CLASS SOCKET LINES HZ -- GUI ARGS...
//!   peer_probe repeat CLASS SOCKET LINES HZ -- GUI ARGS...
//! ```
//!
//! The probe starts the GUI (its own process group), waits for the first
//! top-level window whose WM_CLASS contains CLASS to be mapped, and
//! watches it with the DAMAGE extension: every drawing request the X
//! server executes on the window is reported, so nothing is polled and
//! the probe costs the GUI no CPU while it waits.
//!
//! - First frame: from just before the process is spawned to the damage
//!   after which the window's left strip shows at least ten separate rows
//!   of text (nvim's `~` lines): a cleared or half-drawn window does not
//!   count.
//! - Memory and idle CPU: `Rss` and `Anonymous` of /proc/PID/smaps_rollup
//!   after start-up (and the window's size in pixels), and the clock ticks (utime + stime) spent over 5 s of
//!   doing nothing.
//! - Keypress to pixel (insert mode): a key is injected with XTEST; the
//!   time until a damage report whose area's pixels differ from before the
//!   key (a redraw of the same pixels does not count).
//! - Scrolling: the window given the keyboard focus, LINES `<C-e>` sent
//!   as `nvim_input` notifications through nvim's SOCKET at HZ a second; the GUI's CPU time over the run (until
//!   its window is quiet for a second) divided by LINES, and how long after
//!   the last key its last drawing came.
//! - Scrolling by key repeat (`repeat`): the same, with `<C-e>` held down
//!   (XTEST) and repeated by the X server at HZ a second after a 250 ms
//!   delay, for as long as LINES repeats take; the lines scrolled are
//!   counted from nvim's top line (`line('w0')` through SOCKET), and the
//!   last drawing is timed from the key's release.
//!
//! Output: `key value` lines for the script to read. Needs an X server
//! with DAMAGE and XTEST in `DISPLAY` (Xvfb has both).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{ConnectionExt as _, ReportLevel};
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, EventMask, ImageFormat, InputFocus,
    KEY_PRESS_EVENT, KEY_RELEASE_EVENT, Rectangle, Window,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

type Error = Box<dyn std::error::Error>;

/// The GUI's process group, ended on drop (nvim with it).
struct Gui(Child);

impl Drop for Gui {
    fn drop(&mut self) {
        let group = -(self.0.id() as i32);
        // SAFETY: kill(2) on our own child's process group.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                // nvim may outlive its GUI for a moment.
                std::thread::sleep(Duration::from_millis(100));
                unsafe { libc::kill(group, libc::SIGKILL) };
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        self.0.wait().ok();
    }
}

/// The X connection and the window being watched.
struct Probe {
    conn: RustConnection,
    root: Window,
    window: Window,
    width: u16,
    height: u16,
}

/// Keycodes of a s d f g h j k l in X's default (US) map.
const KEYCODES: [u8; 9] = [38, 39, 40, 41, 42, 43, 44, 45, 46];
const KEY_I: u8 = 31;

fn main() {
    if let Err(e) = run() {
        eprintln!("peer_probe: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").ok_or("usage: peer_probe MODE ... -- GUI ARGS...")?;
    let (opts, gui) = (&args[..split], &args[split + 1..]);
    match opts {
        [mode, class, keys] if mode == "start" => start(class, keys.parse()?, gui),
        [mode, class, socket, lines, hz] if mode == "scroll" || mode == "repeat" => {
            let keys = if mode == "scroll" { Keys::Input } else { Keys::Repeat };
            scroll(class, socket, lines.parse()?, hz.parse()?, keys, gui)
        }
        _ => Err(
            "usage: peer_probe start CLASS KEYS -- GUI... | scroll|repeat CLASS SOCKET LINES HZ -- GUI..."
                .into(),
        ),
    }
}

fn start(class: &str, keys: usize, gui: &[String]) -> Result<(), Error> {
    let (probe, child, first) = launch(class, gui)?;
    println!("first_frame_ms {:.1}", first.as_secs_f64() * 1e3);
    println!("window_px {} {}", probe.width, probe.height);
    let pid = child.0.id();
    std::thread::sleep(Duration::from_secs(1));
    probe.drain();
    let before = cpu_ticks(pid)?;
    std::thread::sleep(Duration::from_secs(5));
    println!("idle_ticks {}", cpu_ticks(pid)? - before);
    let (rss, anon) = memory_kb(pid)?;
    println!("rss_kb {rss}");
    println!("anon_kb {anon}");
    probe.focus()?;
    probe.key(KEY_I)?;
    std::thread::sleep(Duration::from_millis(400));
    probe.drain();
    let mut samples = Vec::new();
    for k in 0..keys {
        let before = probe.image(full(&probe))?;
        let sent = Instant::now();
        probe.key(KEYCODES[k % KEYCODES.len()])?;
        match probe.changed(&before, sent + Duration::from_secs(2))? {
            Some(at) => samples.push(format!("{:.3}", (at - sent).as_secs_f64() * 1e3)),
            None => return Err(format!("key {k}: the window did not change within 2 s").into()),
        }
        // Let the frame settle before the next key.
        std::thread::sleep(Duration::from_millis(60));
        probe.drain();
    }
    println!("key_ms {}", samples.join(" "));
    drop(child);
    Ok(())
}

/// How a scroll's `<C-e>` keys reach nvim.
#[derive(Clone, Copy, PartialEq)]
enum Keys {
    /// `nvim_input` notifications through nvim's socket.
    Input,
    /// Held down, repeated by the X server.
    Repeat,
}

/// Keycodes of Control_L and e in X's default (US) map.
const KEY_CONTROL: u8 = 37;
const KEY_E: u8 = 26;
/// How long a held key waits before the X server repeats it.
const REPEAT_DELAY: Duration = Duration::from_millis(250);

fn scroll(class: &str, socket: &str, lines: usize, hz: u32, keys: Keys, gui: &[String]) -> Result<(), Error> {
    let (probe, child, first) = launch(class, gui)?;
    println!("first_frame_ms {:.1}", first.as_secs_f64() * 1e3);
    let pid = child.0.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match std::os::unix::net::UnixStream::connect(socket) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("{socket}: {e}").into()),
        }
    };
    // As for someone scrolling: the window has the keyboard focus (vireo
    // paces its animations at `refresh_rate_idle` without it).
    probe.focus()?;
    // Syntax, the number column and the file are drawn by now; start quiet.
    std::thread::sleep(Duration::from_millis(1500));
    probe.drain();
    let mut note = Vec::new();
    let msg =
        rmpv::Value::Array(vec![2.into(), "nvim_input".into(), vec![rmpv::Value::from("<C-e>")].into()]);
    rmpv::encode::write_value(&mut note, &msg)?;
    let period = Duration::from_secs(1) / hz;
    let top = if keys == Keys::Repeat {
        probe.set_repeat(period)?;
        top_line(&mut stream)?
    } else {
        0
    };
    let before = cpu_ticks(pid)?;
    let begun = Instant::now();
    let mut last_draw = None;
    let last_key = match keys {
        Keys::Input => {
            for i in 0..lines {
                stream.write_all(&note)?;
                let next = begun + period * (i as u32 + 1);
                while let Some(at) = probe.damage_until(next)? {
                    last_draw = Some(at);
                }
            }
            begun + period * (lines as u32 - 1)
        }
        Keys::Repeat => {
            probe.press(KEY_CONTROL, true)?;
            probe.press(KEY_E, true)?;
            // Released half a period after the last repeat is due.
            let release = begun + REPEAT_DELAY + period * (lines as u32 - 1) + period / 2;
            while let Some(at) = probe.damage_until(release)? {
                last_draw = Some(at);
            }
            probe.press(KEY_E, false)?;
            probe.press(KEY_CONTROL, false)?;
            Instant::now()
        }
    };
    // Until the window has been quiet for a second (at most 20 s more).
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let quiet = last_draw.map_or(Instant::now(), |at| at.max(last_key)) + Duration::from_secs(1);
        match probe.damage_until(quiet.min(give_up))? {
            Some(at) => last_draw = Some(at),
            None => break,
        }
    }
    let ticks = cpu_ticks(pid)? - before;
    let lines = match keys {
        Keys::Input => lines,
        Keys::Repeat => {
            let scrolled = top_line(&mut stream)?.saturating_sub(top);
            println!("lines_scrolled {scrolled}");
            scrolled.max(1)
        }
    };
    let tick_ms = 1e3 / clock_ticks_per_second();
    println!("cpu_ticks {ticks}");
    println!("cpu_ms_per_line {:.2}", ticks as f64 * tick_ms / lines as f64);
    let lag = last_draw.map_or(0.0, |at| at.saturating_duration_since(last_key).as_secs_f64() * 1e3);
    println!("last_frame_after_last_key_ms {lag:.1}");
    drop(child);
    Ok(())
}

/// Starts the GUI and waits until its window shows nvim's text; returns
/// the time from just before the spawn.
fn launch(class: &str, gui: &[String]) -> Result<(Probe, Gui, Duration), Error> {
    let (conn, screen) = x11rb::connect(None)?;
    conn.damage_query_version(1, 1)?.reply()?;
    let root = conn.setup().roots[screen].root;
    let mask = ChangeWindowAttributesAux::new().event_mask(EventMask::SUBSTRUCTURE_NOTIFY);
    conn.change_window_attributes(root, &mask)?.check()?;
    let (program, args) = gui.split_first().ok_or("no GUI command")?;
    let spawned = Instant::now();
    let child = Gui(Command::new(program)
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?);
    let deadline = spawned + Duration::from_secs(20);
    let window = loop {
        match next_event(&conn, deadline)? {
            Some((Event::MapNotify(e), _)) if has_class(&conn, e.window, class)? => break e.window,
            Some(_) => {}
            None => return Err(format!("no window of class {class} within 20 s").into()),
        }
    };
    let damage = conn.generate_id()?;
    conn.damage_create(damage, window, ReportLevel::RAW_RECTANGLES)?.check()?;
    let mut probe = Probe { conn, root, window, width: 0, height: 0 };
    // Drawn before the damage object existed: seen by this first look.
    let mut at = Instant::now();
    loop {
        if probe.shows_text()? {
            return Ok((probe, child, at - spawned));
        }
        match probe.damage_until(deadline)? {
            Some(t) => {
                at = t;
                // One look per batch of reports.
                while let Some((_, _)) = probe.poll()? {}
            }
            None => return Err("nvim's text did not appear within 20 s".into()),
        }
    }
}

impl Probe {
    fn key(&self, code: u8) -> Result<(), Error> {
        self.press(code, true)?;
        self.press(code, false)
    }

    /// Presses (`down`) or releases the key `code`.
    fn press(&self, code: u8, down: bool) -> Result<(), Error> {
        let kind = if down { KEY_PRESS_EVENT } else { KEY_RELEASE_EVENT };
        self.conn.xtest_fake_input(kind, code, 0, self.root, 0, 0, 0)?;
        self.conn.flush()?;
        Ok(())
    }

    /// Makes the X server repeat a held key every `interval`, after
    /// [`REPEAT_DELAY`].
    fn set_repeat(&self, interval: Duration) -> Result<(), Error> {
        use x11rb::protocol::xkb::{self, ConnectionExt as _};
        use x11rb::protocol::xproto::{AutoRepeatMode, ChangeKeyboardControlAux};
        let on = ChangeKeyboardControlAux::new().auto_repeat_mode(AutoRepeatMode::ON);
        self.conn.change_keyboard_control(&on)?.check()?;
        self.conn.xkb_use_extension(1, 0)?.reply()?;
        let ms = |d: Duration| u16::try_from(d.as_millis()).unwrap_or(u16::MAX);
        let none = x11rb::protocol::xproto::ModMask::from(0u16);
        #[rustfmt::skip]
        self.conn.xkb_set_controls(
            xkb::ID::USE_CORE_KBD.into(),
            none, none, none, none,
            0u16.into(), 0u16.into(), 0u16.into(), 0u16.into(),
            0, 0, 0u16.into(),
            xkb::BoolCtrl::REPEAT_KEYS, xkb::BoolCtrl::REPEAT_KEYS,
            xkb::Control::from(xkb::BoolCtrl::REPEAT_KEYS.bits()),
            ms(REPEAT_DELAY), ms(interval),
            0, 0, 0, 0, 0, 0, 0, 0,
            0u32.into(), 0u32.into(), 0u16.into(), 0u16.into(),
            &[0; 32],
        )?
        .check()?;
        Ok(())
    }

    fn focus(&self) -> Result<(), Error> {
        self.conn.set_input_focus(InputFocus::PARENT, self.window, x11rb::CURRENT_TIME)?.check()?;
        Ok(())
    }

    fn image(&self, r: Rectangle) -> Result<Vec<u8>, Error> {
        let reply = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.window, r.x, r.y, r.width, r.height, !0)?
            .reply()?;
        Ok(reply.data)
    }

    /// Whether the left strip of the window shows ten or more separate rows
    /// of something other than the background (the commonest colour).
    fn shows_text(&mut self) -> Result<bool, Error> {
        let geometry = self.conn.get_geometry(self.window)?.reply()?;
        (self.width, self.height) = (geometry.width, geometry.height);
        let strip = Rectangle { x: 0, y: 0, width: self.width.min(40), height: self.height };
        let data = self.image(strip)?;
        let pixels: Vec<u32> =
            data.chunks_exact(4).map(|p| u32::from_le_bytes([p[0], p[1], p[2], 0])).collect();
        let mut counts = std::collections::HashMap::new();
        for &p in &pixels {
            *counts.entry(p).or_insert(0usize) += 1;
        }
        let Some((&background, _)) = counts.iter().max_by_key(|(_, n)| **n) else { return Ok(false) };
        let w = usize::from(strip.width);
        let inked: Vec<bool> =
            pixels.chunks_exact(w).map(|row| row.iter().any(|&p| p != background)).collect();
        let bands = inked
            .iter()
            .zip(std::iter::once(&false).chain(&inked))
            .filter(|(now, before)| **now && !**before)
            .count();
        Ok(bands >= 10)
    }

    /// Waits for a damage report whose area's pixels differ from `before`
    /// (the whole window's image); returns when that report arrived.
    fn changed(&self, before: &[u8], deadline: Instant) -> Result<Option<Instant>, Error> {
        let stride = usize::from(self.width) * 4;
        while let Some((area, at)) = self.damage_area_until(deadline)? {
            let now = self.image(area)?;
            let row = usize::from(area.width) * 4;
            let differs = now.chunks_exact(row).enumerate().any(|(y, line)| {
                let start = (usize::from(area.y as u16) + y) * stride + usize::from(area.x as u16) * 4;
                before.get(start..start + row).is_none_or(|old| old != line)
            });
            if differs {
                return Ok(Some(at));
            }
        }
        Ok(None)
    }

    /// The next damage report's area (clipped to the window), and when it
    /// came; `None` at the deadline.
    fn damage_area_until(&self, deadline: Instant) -> Result<Option<(Rectangle, Instant)>, Error> {
        loop {
            match next_event(&self.conn, deadline)? {
                Some((Event::DamageNotify(e), at)) => {
                    let a = e.area;
                    let (x, y) = (a.x.max(0) as u16, a.y.max(0) as u16);
                    let width = a.width.min(self.width.saturating_sub(x));
                    let height = a.height.min(self.height.saturating_sub(y));
                    if width > 0 && height > 0 {
                        return Ok(Some((Rectangle { x: x as i16, y: y as i16, width, height }, at)));
                    }
                }
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    fn damage_until(&self, deadline: Instant) -> Result<Option<Instant>, Error> {
        loop {
            match next_event(&self.conn, deadline)? {
                Some((Event::DamageNotify(_), at)) => return Ok(Some(at)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    fn poll(&self) -> Result<Option<(Event, Instant)>, Error> {
        Ok(self.conn.poll_for_event()?.map(|e| (e, Instant::now())))
    }

    /// Forgets the events waiting.
    fn drain(&self) {
        while let Ok(Some(_)) = self.poll() {}
    }
}

/// A full-window rectangle.
fn full(p: &Probe) -> Rectangle {
    Rectangle { x: 0, y: 0, width: p.width, height: p.height }
}

/// The next X event and when it was read; `None` at the deadline.
fn next_event(conn: &RustConnection, deadline: Instant) -> Result<Option<(Event, Instant)>, Error> {
    loop {
        if let Some(e) = conn.poll_for_event()? {
            return Ok(Some((e, Instant::now())));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let mut fd = libc::pollfd { fd: conn.stream().as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, for the time given.
        unsafe { libc::poll(&mut fd, 1, ms) };
    }
}

fn has_class(conn: &RustConnection, window: Window, class: &str) -> Result<bool, Error> {
    let reply = conn.get_property(false, window, AtomEnum::WM_CLASS, AtomEnum::STRING, 0, 256)?.reply()?;
    Ok(String::from_utf8_lossy(&reply.value).to_lowercase().contains(&class.to_lowercase()))
}

/// The buffer line at the top of nvim's current window, asked through
/// nvim's socket. Notifications broadcast to every channel (nvim-qt's
/// `Gui` events) are passed over.
fn top_line(stream: &mut std::os::unix::net::UnixStream) -> Result<usize, Error> {
    let request = rmpv::Value::Array(vec![
        0.into(),
        1.into(),
        "nvim_eval".into(),
        vec![rmpv::Value::from("line('w0')")].into(),
    ]);
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &request)?;
    stream.write_all(&bytes)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    loop {
        let reply = rmpv::decode::read_value(stream)?;
        let answer = match reply.as_array().map(Vec::as_slice) {
            Some([kind, ..]) if kind.as_u64() == Some(2) => continue,
            Some([_, _, error, line]) if error.is_nil() => line.as_u64().map(|l| l as usize),
            _ => None,
        };
        return answer.ok_or_else(|| format!("nvim_eval(\"line('w0')\") answered {reply}").into());
    }
}

/// utime + stime of the whole process (every thread), in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which may hold spaces: state is the
    // third field, utime the 14th, stime the 15th.
    let rest = &stat[stat.rfind(')').ok_or("odd /proc stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// Rss and Anonymous of /proc/PID/smaps_rollup, in KiB.
fn memory_kb(pid: u32) -> Result<(u64, u64), Error> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    let field = |name: &str| -> Option<u64> {
        text.lines().find_map(|l| l.strip_prefix(name)?.split_whitespace().next()?.parse().ok())
    };
    Ok((field("Rss:").ok_or("no Rss")?, field("Anonymous:").ok_or("no Anonymous")?))
}
