//! Named sessions (`--session`, `--sessions`, `--kill-session`), the
//! control socket and `--remote*`, against real nvim processes; the window
//! tests run under Xvfb.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::window::{Proc, Session, temp, wait_for};
use vireo::model::compose;

/// A private `$XDG_RUNTIME_DIR` for one test; its sessions are killed
/// (`--kill-session --force`) when it is dropped.
struct Runtime {
    dir: PathBuf,
}

impl Runtime {
    fn new(name: &str) -> Runtime {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp(&format!("{name}-runtime"));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Runtime { dir }
    }

    /// `vireo ARGS` with this runtime folder.
    fn vireo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
        cmd.args(args)
            .env("XDG_RUNTIME_DIR", &self.dir)
            .env("VIREO_NVIM", common::nvim_binary())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `vireo ARGS` to its end, within 30 s.
    fn run(&self, args: &[&str]) -> Output {
        let child = self.vireo(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        finish(child, &format!("vireo {args:?}"))
    }

    fn sessions(&self) -> String {
        let out = self.run(&["--sessions"]);
        assert!(out.status.success(), "--sessions: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn socket(&self, name: &str) -> PathBuf {
        self.dir.join("vireo/sessions").join(format!("{name}.sock"))
    }

    /// A window on session `name` (`--session NAME ARGS`), on a new display.
    fn window(&self, test: &str, name: &str, grid: &str, args: &[&str], env: &[(&str, &Path)]) -> Session {
        let mut all: Vec<OsString> = ["--grid", grid, "--session", name].map(Into::into).to_vec();
        all.extend(args.iter().map(Into::into));
        all.extend(["--nvim".into(), common::nvim_binary().into_os_string()]);
        all.extend(["--", "--clean", "-n"].map(Into::into));
        let mut env = env.to_vec();
        env.push(("XDG_RUNTIME_DIR", &self.dir));
        let s = Session::launch_with_env(test, &all, &env, false);
        wait_for("the session's first screen", Duration::from_secs(60), || s.frame());
        s
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let dir = self.dir.join("vireo/sessions");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if let Some(name) = entry.file_name().to_str().and_then(|n| n.strip_suffix(".sock")) {
                self.run(&["--kill-session", name, "--force"]);
            }
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// Waits for `child` to exit (30 s at most) and returns its output.
fn finish(mut child: std::process::Child, what: &str) -> Output {
    let status = wait_for(what, Duration::from_secs(30), || child.try_wait().unwrap());
    let mut out = Output { status, stdout: Vec::new(), stderr: Vec::new() };
    use std::io::Read;
    if let Some(mut o) = child.stdout.take() {
        o.read_to_end(&mut out.stdout).unwrap();
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_end(&mut out.stderr).unwrap();
    }
    out
}

/// The line of `--sessions` for session `name`, split in columns.
fn listed(table: &str, name: &str) -> Option<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|cols| cols.first().map(String::as_str) == Some(name))
}

/// Asks the window to close the way a window manager's close button does.
fn close_window(display: &str, window: &str) {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};
    let (conn, _) = x11rb::connect(Some(display)).expect("an X connection");
    let atom = |name: &[u8]| conn.intern_atom(false, name).unwrap().reply().unwrap().atom;
    let (protocols, delete) = (atom(b"WM_PROTOCOLS"), atom(b"WM_DELETE_WINDOW"));
    let window: u32 = window.parse().unwrap();
    let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
    conn.send_event(false, window, EventMask::NO_EVENT, event).unwrap();
    conn.flush().unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
}

/// Types `text` into the window (focused first), then waits for normal mode.
fn type_in(s: &Session, window: &str, keys: &[&str]) {
    s.xdotool(&["windowfocus", "--sync", window]);
    std::thread::sleep(Duration::from_millis(200));
    for k in keys {
        match k.strip_prefix("key:") {
            Some(key) => s.xdotool(&["key", "--window", window, key]),
            None => s.xdotool(&["type", "--window", window, "--delay", "15", k]),
        };
    }
}

/// Appends "changed" to row 0 (which reads `before`) through the window.
fn change_unsaved(s: &Session, before: &str) {
    s.wait_row(0, before);
    type_in(s, &s.window, &["key:A"]);
    wait_for("insert mode", Duration::from_secs(30), || s.frame().filter(|f| f.mode.name == "insert"));
    type_in(s, &s.window, &["changed", "key:Escape"]);
    s.wait_row(0, &format!("{before}changed"));
    wait_for("normal mode", Duration::from_secs(30), || s.frame().filter(|f| f.mode.name == "normal"));
}

/// Waits for the screen to satisfy `ok`; the panic shows the screen.
fn wait_screen(s: &Session, what: &str, mut ok: impl FnMut(&str) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = s.screen().unwrap_or_default();
        if ok(&text) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}; the screen:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A file in `rt`'s folder (removed with it).
fn write_file(rt: &Runtime, name: &str, text: &str) -> PathBuf {
    let file = rt.dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn detaching_leaves_the_unsaved_edit_in_the_session_and_reattaching_shows_it() {
    let rt = Runtime::new("detach");
    let file = write_file(&rt, "detach.txt", "original\n");
    let name = "detach";
    let mut s = rt.window("detach-1", name, "60x8", &[file.to_str().unwrap()], &[]);
    change_unsaved(&s, "original");

    // The default, prompt: nvim asks, and "d" detaches.
    close_window(&s.display, &s.window);
    wait_for("the detach question", Duration::from_secs(30), || {
        s.screen().filter(|t| t.contains("Detach from this session") && t.contains("(Q)uit"))
    });
    s.xdotool(&["type", "d"]);
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0), "{}", s.stderr());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "original\n", "nothing was written");

    let table = rt.sessions();
    let row = listed(&table, name).unwrap_or_else(|| panic!("no {name} in:\n{table}"));
    assert_eq!(row[2..4], ["0", "1"], "no UI attached, one modified buffer:\n{table}");
    drop(s);

    let s = rt.window("detach-2", name, "60x8", &[], &[]);
    s.wait_row(0, "originalchanged");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "original\n");
}

#[test]
fn closing_with_always_detach_closes_only_the_window_and_always_quit_quits() {
    let rt = Runtime::new("always");
    let detach: &Path = Path::new("always_detach");
    let mut s = rt.window("always-1", "always", "60x8", &[], &[("VIREO_DETACH_ON_QUIT", detach)]);
    type_in(&s, &s.window, &["ikept", "key:Escape"]);
    s.wait_row(0, "kept");
    close_window(&s.display, &s.window);
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0), "{}", s.stderr());
    assert!(listed(&rt.sessions(), "always").is_some(), "the session runs on");
    assert_eq!(vireo_windows(&rt), Vec::<u32>::new(), "the window's control files went with it");
    drop(s);

    // always_quit with an unmodified session: nvim quits, the session ends.
    let quit: &Path = Path::new("always_quit");
    let mut s = rt.window("always-2", "always", "60x8", &[], &[("VIREO_DETACH_ON_QUIT", quit)]);
    s.wait_row(0, "kept");
    // Nothing unsaved, so quitting needs no answer.
    type_in(&s, &s.window, &[":enew!", "key:Return", ":bwipeout! 1", "key:Return"]);
    wait_screen(&s, "the edited buffer gone", |text| !text.contains("kept") && !text.contains("[+]"));
    close_window(&s.display, &s.window);
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0), "{}", s.stderr());
    wait_for("the session to end", Duration::from_secs(30), || {
        listed(&rt.sessions(), "always").is_none().then_some(())
    });
    assert!(!rt.socket("always").exists(), "nvim removed its socket");
}

#[test]
fn a_killed_vireo_leaves_the_session_as_it_was_for_the_next_window() {
    let rt = Runtime::new("sigkill");
    let file = write_file(&rt, "sigkill.txt", "one\ntwo\nthree\n");
    let s = rt.window("sigkill-1", "sigkill", "60x10", &[file.to_str().unwrap()], &[]);
    change_unsaved(&s, "one");
    // Two windows, the cursor on "three" in the lower one.
    type_in(&s, &s.window, &[":split", "key:Return", "key:j", "key:j", "key:0", "key:l"]);
    wait_screen(&s, "the split", |text| text.matches("sigkill.txt").count() == 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let before = loop {
        let frame = s.frame().unwrap();
        if (frame.cursor.row, frame.cursor.col) == (2, 1) {
            break frame;
        }
        let text = compose::compose(&frame).text();
        assert!(
            std::time::Instant::now() < deadline,
            "the cursor is at {:?}, not on 'three':\n{text}",
            frame.cursor
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // All but the command line, which a redraw clears.
    let above_cmdline = |f: &vireo::model::Frame| {
        let screen = compose::compose(f);
        (0..screen.height - 1).map(|r| screen.row_text(r)).collect::<Vec<_>>()
    };
    let before_rows = above_cmdline(&before);

    // SIGKILL: vireo gets no chance to say goodbye.
    let pid = s.vireo.0.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    wait_for("nvim to see the UI gone", Duration::from_secs(30), || {
        listed(&rt.sessions(), "sigkill").filter(|row| row[2] == "0")
    });
    drop(s);

    let s = rt.window("sigkill-2", "sigkill", "60x10", &[], &[]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let after = loop {
        let frame = s.frame().unwrap();
        if above_cmdline(&frame) == before_rows || std::time::Instant::now() > deadline {
            common::assert_screen_eq(&above_cmdline(&frame), &before_rows, "the screen after reattaching");
            break frame;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        (after.cursor.grid, after.cursor.row, after.cursor.col),
        (before.cursor.grid, before.cursor.row, before.cursor.col)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "one\ntwo\nthree\n");
}

#[test]
fn two_windows_on_one_session_see_each_others_edits() {
    let rt = Runtime::new("two");
    let s = rt.window("two-1", "two", "50x8", &[], &[]);
    // A second vireo on the same display and session, recording its stream.
    let record = temp("two-2.msgpack");
    let mut args: Vec<OsString> = ["--record".into(), record.clone().into_os_string()].to_vec();
    args.extend(["--grid", "50x8", "--session", "two"].map(OsString::from));
    let second = Proc(
        rt.vireo(&[])
            .args(&args)
            .env("DISPLAY", &s.display)
            .env("XDG_CONFIG_HOME", temp("two-2-config"))
            .env("XDG_STATE_HOME", temp("two-2-state"))
            .spawn()
            .unwrap(),
    );
    let window2 = wait_for("the second window", Duration::from_secs(60), || {
        let ids = s.xdotool(&["search", "--class", "vireo"]);
        ids.lines().find(|id| !id.is_empty() && *id != s.window).map(str::to_owned)
    });
    let row0 = |path: &Path| {
        let frame = vireo::replay::final_frame(&std::fs::read(path).ok()?).ok()??;
        Some(compose::compose(&frame).row_text(0))
    };
    type_in(&s, &s.window, &["ifrom one", "key:Escape"]);
    wait_for("the second window to show the first's edit", Duration::from_secs(30), || {
        (row0(&record).as_deref() == Some("from one")).then_some(())
    });
    type_in(&s, &window2, &["A and two", "key:Escape"]);
    s.wait_row(0, "from one and two");
    let table = rt.sessions();
    assert_eq!(listed(&table, "two").map(|r| r[2].clone()).as_deref(), Some("2"), "{table}");
    // Waiting in getchar(), the session still answers the listing.
    type_in(&s, &s.window, &[":call getchar()", "key:Return"]);
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let table = rt.sessions();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(listed(&table, "two").is_some_and(|row| row[1] != "?"), "{table}");
    type_in(&s, &s.window, &["x"]);
    s.wait_row(0, "from one and two");

    // The second window goes: the first's clipboard still works, though
    // the provider was set up by the second (the last to attach).
    drop(second);
    wait_for("one window left", Duration::from_secs(30), || {
        listed(&rt.sessions(), "two").filter(|row| row[2] == "1")
    });
    type_in(&s, &s.window, &["\"+yy"]);
    let copied = wait_for("the line on the clipboard", Duration::from_secs(30), || {
        let child = Command::new(common::nvim_binary())
            .arg("--server")
            .arg(rt.socket("two"))
            .args(["--remote-expr", "getreg('+')"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let text = String::from_utf8_lossy(&finish(child, "getreg('+')").stdout).into_owned();
        (!text.is_empty()).then_some(text)
    });
    assert_eq!(copied.trim_end(), "from one and two");
    std::fs::remove_file(&record).ok();
}

/// An nvim listening where session `name` would, started by the test (as
/// `--session` would, without a window).
fn bare_session(rt: &Runtime, name: &str, args: &[&str]) -> Proc {
    use std::os::unix::fs::DirBuilderExt;
    let sessions = rt.dir.join("vireo/sessions");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&sessions).unwrap();
    let socket = rt.socket(name);
    let child = Command::new(common::nvim_binary())
        .args(["--headless", "--clean", "-n", "--listen"])
        .arg(&socket)
        .args(args)
        .current_dir(&rt.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the session's socket", Duration::from_secs(30), || {
        std::os::unix::net::UnixStream::connect(&socket).ok()
    });
    // Keys sent before start-up ends are dropped with the typeahead.
    wait_for("nvim to finish starting", Duration::from_secs(30), || {
        let out = Command::new(common::nvim_binary())
            .arg("--server")
            .arg(&socket)
            .args(["--remote-expr", "v:vim_did_enter"])
            .output()
            .ok()?;
        (String::from_utf8_lossy(&out.stdout).trim() == "1").then_some(())
    });
    Proc(child)
}

/// `nvim --server SOCKET --remote-send KEYS`.
fn nvim_send(socket: &Path, keys: &str) {
    let out = Command::new(common::nvim_binary())
        .arg("--server")
        .arg(socket)
        .args(["--remote-send", keys])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_listing_answers_at_once_says_busy_for_blocked_sessions_and_cleans_stale_sockets() {
    let rt = Runtime::new("list");
    let idle = bare_session(&rt, "idle", &[]);
    nvim_send(&rt.socket("idle"), "ichanged<Esc>");
    let _looping = bare_session(&rt, "looping", &[]);
    nvim_send(&rt.socket("looping"), ":lua local t = os.time() while 120 > os.time() - t do end<CR>");
    let mut dead = bare_session(&rt, "dead", &[]);
    dead.0.kill().unwrap();
    dead.0.wait().unwrap();
    assert!(rt.socket("dead").exists(), "a killed nvim leaves its socket behind");

    let started = std::time::Instant::now();
    let out = rt.run(&["--sessions"]);
    let took = started.elapsed();
    let table = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(5), "a busy session took {took:?}");
    let row = listed(&table, "idle").unwrap_or_else(|| panic!("{table}"));
    assert_eq!(row[1], idle.0.id().to_string(), "{table}");
    assert_eq!(row[2..4], ["0", "1"], "{table}");
    assert_eq!(row[5], rt.dir.display().to_string(), "{table}");
    let row = listed(&table, "looping").unwrap_or_else(|| panic!("{table}"));
    assert_eq!(row[2..5], ["busy", "busy", "busy"], "{table}");
    assert!(listed(&table, "dead").is_none(), "{table}");
    assert!(stderr.contains("session 'dead' was gone"), "{stderr}");
    assert!(!rt.socket("dead").exists(), "the stale socket was removed");
    // The busy ones cannot be asked to quit: their nvim is stopped.
    for name in ["looping", "idle"] {
        assert!(rt.run(&["--kill-session", name, "--force"]).status.success(), "{name}");
    }
}

#[test]
fn kill_session_refuses_unsaved_changes_and_names_them_until_forced() {
    let rt = Runtime::new("kill");
    let file = write_file(&rt, "kill.txt", "text\n");
    let mut proc = bare_session(&rt, "edited", &[file.to_str().unwrap()]);
    nvim_send(&rt.socket("edited"), "Amore<Esc>");
    wait_for("the change", Duration::from_secs(30), || {
        listed(&rt.sessions(), "edited").filter(|row| row[3] == "1")
    });

    let out = rt.run(&["--kill-session", "edited"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unsaved changes in") && stderr.contains("kill.txt"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(proc.0.try_wait().unwrap().is_none(), "the session still runs");

    let out = rt.run(&["--kill-session", "edited", "--force"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for("nvim to exit", Duration::from_secs(10), || proc.0.try_wait().unwrap());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "text\n");
    assert!(!rt.socket("edited").exists());

    // Nothing unsaved: it quits without --force; a missing one is an error.
    let mut clean = bare_session(&rt, "clean", &[]);
    assert!(rt.run(&["--kill-session", "clean"]).status.success());
    wait_for("nvim to exit", Duration::from_secs(10), || clean.0.try_wait().unwrap());
    let out = rt.run(&["--kill-session", "clean"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no session 'clean'"));
}

mod control_socket {
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::{Value, json};
    use vireo::session::control::{self, Access, Header, Key, Server};

    use super::*;

    /// A control socket in a fresh folder of `mode`, whose handler counts
    /// the requests it acts on.
    fn server(
        name: &str,
        mode: u32,
        access: Access,
    ) -> (Result<Server, control::ControlError>, PathBuf, Arc<AtomicUsize>) {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp(&format!("control-{name}"));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let acted = Arc::new(AtomicUsize::new(0));
        let count = acted.clone();
        let handler: control::Handler = Arc::new(move |_, _| {
            count.fetch_add(1, Ordering::SeqCst);
            json!({ "status": 0 })
        });
        (Server::start_in(&dir, None, handler, access), dir, acted)
    }

    /// Sends one envelope and returns the answer frame.
    fn exchange(server: &Server, envelope: &control::Envelope) -> Value {
        let mut stream = UnixStream::connect(&server.file.socket).unwrap();
        control::write_frame(&mut stream, envelope).unwrap();
        control::read_frame(&mut stream).unwrap()
    }

    fn refused(answer: &Value) -> String {
        answer
            .get("refused")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("not refused: {answer}"))
            .to_owned()
    }

    #[test]
    fn the_socket_and_connection_file_are_private_and_hold_a_random_key() {
        use std::os::unix::fs::PermissionsExt;
        let (server, dir, _) = server("files", 0o700, Access::Private);
        let server = server.unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&server.file.socket), 0o600);
        let json = dir.join(format!("{}.json", std::process::id()));
        assert_eq!(mode(&json), 0o600);
        let file = control::read_connection_file(&json).unwrap();
        assert_eq!(file, server.file);
        assert_eq!(file.signature_scheme, "hmac-sha256");
        assert_eq!(file.key.len(), 64);
        assert!(Key::from_hex(&file.key).is_some());
        drop(server);
        assert!(!json.exists(), "the files go with the server");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn each_bad_message_is_refused_and_never_acted_on() {
        let (server, dir, acted) = server("refusals", 0o700, Access::Private);
        let server = server.unwrap();
        let key = Key::from_hex(&server.file.key).unwrap();
        let content = json!({ "keys": "ihi" });

        let wrong_key = control::seal(&Key::random().unwrap(), "s", "test", "send", &content);
        assert!(refused(&exchange(&server, &wrong_key)).contains("signature does not match"));

        let mut tampered = control::seal(&key, "s", "test", "send", &content);
        tampered.content = json!({ "keys": ":qa!<CR>" }).to_string();
        assert!(refused(&exchange(&server, &tampered)).contains("signature does not match"));

        let mut unsigned = control::seal(&key, "s", "test", "send", &content);
        unsigned.signature.clear();
        assert!(refused(&exchange(&server, &unsigned)).contains("no signature"));

        let mut old: Header =
            serde_json::from_str(&control::seal(&key, "s", "t", "send", &content).header).unwrap();
        old.date_ms -= 30_000;
        let stale = control::seal_header(&key, &old, &content);
        assert!(refused(&exchange(&server, &stale)).contains("timestamp"));
        assert_eq!(acted.load(Ordering::SeqCst), 0, "nothing refused was acted on");

        // A good one is acted on once and answered with a signed reply...
        let good = control::seal(&key, "s", "test", "send", &content);
        let answer = exchange(&server, &good);
        let reply: control::Envelope = serde_json::from_value(answer).unwrap();
        let (header, content) = control::Verifier::new(key.clone()).check(&reply, control::now_ms()).unwrap();
        assert_eq!((header.msg_type.as_str(), content), ("reply", json!({ "status": 0 })));
        assert_eq!(acted.load(Ordering::SeqCst), 1);
        // ...and refused when sent again.
        assert!(refused(&exchange(&server, &good)).contains("replay"));
        assert_eq!(acted.load(Ordering::SeqCst), 1);
        drop(server);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_folder_others_can_open_is_refused_and_says_why() {
        let (server, dir, _) = server("loose", 0o755, Access::Private);
        let err = server.err().expect("a 0755 folder is refused").to_string();
        assert!(err.contains("others can open it (mode 755)"), "{err}");
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "nothing was put there");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// An unprivileged user for the test (created if missing; needs root).
    fn other_user() -> &'static str {
        let name = "vireotest";
        let exists =
            Command::new("id").arg(name).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        if !exists.success() {
            let made = Command::new("useradd").args(["-M", "-s", "/usr/sbin/nologin", name]).status();
            assert!(made.is_ok_and(|s| s.success()), "this test needs root to create the user {name}");
        }
        name
    }

    #[test]
    fn a_connection_from_another_user_is_refused_before_anything_is_read() {
        use std::os::unix::fs::PermissionsExt;
        // The test-only placement: a folder and socket anyone can reach,
        // and a key the other user may read, so only the uid check is left.
        let (server, dir, acted) = server("other-uid", 0o755, Access::UidCheckOnly);
        let server = server.unwrap();
        let json = dir.join(format!("{}.json", std::process::id()));
        std::fs::set_permissions(&json, std::fs::Permissions::from_mode(0o644)).unwrap();
        let send = |runuser: Option<&str>| {
            let mut cmd = match runuser {
                Some(user) => {
                    let mut c = Command::new("runuser");
                    c.args(["-u", user, "--", env!("CARGO_BIN_EXE_vireo")]);
                    c
                }
                None => Command::new(env!("CARGO_BIN_EXE_vireo")),
            };
            let child = cmd
                .args(["--remote-send", "ihi"])
                .env("VIREO_TEST_CONTROL_DIR", &dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            finish(child, "vireo --remote-send")
        };
        let out = send(Some(other_user()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("closed the connection without an answer"), "{stderr}");
        assert_eq!(acted.load(Ordering::SeqCst), 0);
        // The same command as this user, with the same key, gets through.
        let out = send(None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(acted.load(Ordering::SeqCst), 1);
        drop(server);
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A vireo window with its own nvim (no session), whose control socket is
/// in `rt`; returns once its connection file is there.
fn plain_window(rt: &Runtime, test: &str, grid: &str) -> Session {
    plain_window_on(rt, test, grid, false)
}

/// [`plain_window`], with a window manager when `managed`.
fn plain_window_on(rt: &Runtime, test: &str, grid: &str, managed: bool) -> Session {
    let mut args: Vec<OsString> = ["--grid", grid, "--nvim"].map(Into::into).to_vec();
    args.push(common::nvim_binary().into_os_string());
    args.extend(["--", "--clean", "-n"].map(Into::into));
    let s = Session::launch_with_env(test, &args, &[("XDG_RUNTIME_DIR", &rt.dir)], managed);
    wait_for("the first screen", Duration::from_secs(60), || s.frame());
    let control = rt.dir.join("vireo/control");
    wait_for("the connection file", Duration::from_secs(30), || {
        let files = std::fs::read_dir(&control).ok()?;
        files.flatten().any(|e| e.path().extension().is_some_and(|x| x == "json")).then_some(())
    });
    s
}

impl Runtime {
    /// Runs `vireo ARGS` in `dir` to its end, within 30 s.
    fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        let child =
            self.vireo(args).current_dir(dir).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        finish(child, &format!("vireo {args:?}"))
    }
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

#[test]
fn remote_opens_a_path_relative_to_the_callers_folder_and_send_and_expr_reach_the_window() {
    let rt = Runtime::new("remote");
    let s = plain_window(&rt, "remote", "60x8");
    let elsewhere = temp("remote-elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("rel.txt"), "from elsewhere\n").unwrap();

    let out = rt.run_in(&elsewhere, &["--remote", "rel.txt"]);
    assert_eq!(stdout(&out), "");
    s.wait_row(0, "from elsewhere");
    let nvim_cwd = stdout(&rt.run(&["--remote-expr", "getcwd()"]));
    assert_ne!(Path::new(&nvim_cwd), elsewhere, "nvim itself is elsewhere");
    let opened = stdout(&rt.run(&["--remote-expr", "expand('%:p')"]));
    assert_eq!(Path::new(&opened), elsewhere.join("rel.txt"));

    assert_eq!(stdout(&rt.run(&["--remote-send", "A, typed remotely<Esc>"])), "");
    s.wait_row(0, "from elsewhere, typed remotely");
    assert_eq!(stdout(&rt.run(&["--remote-expr", "3 * 7"])), "21");
    assert_eq!(stdout(&rt.run(&["--remote-expr", "&modified"])), "1");

    // --remote-wait: a modified buffer thrown away is abandoned (2); a
    // window that ends first fails the wait (1).
    let waiting = || {
        rt.vireo(&["--remote-wait", "rel.txt"])
            .current_dir(&elsewhere)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let until_open = || {
        wait_for("the file in its own tab page", Duration::from_secs(30), || {
            (stdout(&rt.run(&["--remote-expr", "tabpagenr('$') . &bufhidden"])) == "2wipe").then_some(())
        })
    };
    rt.run(&["--remote-send", ":w<CR>"]);
    let wait = waiting();
    until_open();
    rt.run(&["--remote-send", "Amore<Esc>:bdelete!<CR>"]);
    assert_eq!(finish(wait, "--remote-wait").status.code(), Some(2));
    let wait = waiting();
    until_open();
    drop(s);
    let out = finish(wait, "--remote-wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("closed the connection"), "{out:?}");
    std::fs::remove_dir_all(&elsewhere).ok();
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(repo).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

#[test]
fn remote_wait_is_the_git_editor_for_a_commit_typed_in_the_window() {
    let rt = Runtime::new("git");
    let mut s = plain_window(&rt, "git", "72x14");
    let repo = temp("git-repo");
    std::fs::remove_dir_all(&repo).ok();
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["config", "user.name", "Vireo Test"]);
    git(&repo, &["config", "user.email", "test@vireo.invalid"]);
    std::fs::write(repo.join("a.txt"), "a\n").unwrap();
    git(&repo, &["add", "a.txt"]);
    let commit = || {
        Command::new("git")
            .args(["commit", "-q"])
            .current_dir(&repo)
            .env("GIT_EDITOR", format!("{} --remote-wait", env!("CARGO_BIN_EXE_vireo")))
            .env("XDG_RUNTIME_DIR", &rt.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    let mut git_commit = commit();
    wait_screen(&s, "git's message template", |t| {
        if let Ok(Some(status)) = git_commit.try_wait() {
            let mut err = String::new();
            std::io::Read::read_to_string(git_commit.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("git commit ended first ({status}): {err}");
        }
        t.contains("Please enter the commit message")
    });
    assert!(git_commit.try_wait().unwrap().is_none(), "git waits for the editor");
    type_in(&s, &s.window, &["iFix the frobnicator", "key:Escape"]);
    wait_screen(&s, "the message", |t| t.contains("Fix the frobnicator"));
    type_in(&s, &s.window, &[":wq", "key:Return"]);
    let out = finish(git_commit, "git commit");
    assert!(out.status.success(), "git commit: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(git(&repo, &["log", "-1", "--format=%s"]), "Fix the frobnicator");
    // Only the message's tab page closed: the window and its nvim go on.
    wait_screen(&s, "the first tab page again", |t| t.contains("[No Name]") && !t.contains("Please enter"));
    assert!(s.vireo.0.try_wait().unwrap().is_none());
    assert_eq!(stdout(&rt.run(&["--remote-expr", "bufexists('COMMIT_EDITMSG')"])), "0", "wiped");

    // :VireoAbort: git is told the editor failed, and commits nothing.
    std::fs::write(repo.join("b.txt"), "b\n").unwrap();
    git(&repo, &["add", "b.txt"]);
    let git_commit = commit();
    wait_screen(&s, "git's message template", |t| t.contains("Please enter the commit message"));
    type_in(&s, &s.window, &["iNever mind", "key:Escape", ":VireoAbort", "key:Return"]);
    let out = finish(git_commit, "git commit");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("problem with the editor"), "{out:?}");
    assert_eq!(git(&repo, &["log", "--format=%s"]), "Fix the frobnicator");
    std::fs::remove_dir_all(&repo).ok();
}

/// A terminal nvim (`nvim --remote-ui`) in tmux, attached to a session.
struct TerminalUi {
    server: String,
}

impl TerminalUi {
    fn attach(socket: &Path, cols: usize, rows: usize) -> TerminalUi {
        let server = format!("vireo-sessions-{}", std::process::id());
        let nvim = format!("{} --remote-ui --server {}", common::nvim_binary().display(), socket.display());
        let status = Command::new("tmux")
            .args(["-L", &server, "-f", "/dev/null", "new-session", "-d", "-x", &cols.to_string()])
            .args(["-y", &rows.to_string(), &nvim])
            .env("TERM", "xterm-256color")
            .status();
        assert!(status.is_ok_and(|s| s.success()), "tmux is needed for this test (apt-get install tmux)");
        TerminalUi { server }
    }

    fn rows(&self) -> Vec<String> {
        let out = Command::new("tmux").args(["-L", &self.server, "capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim_end().to_owned()).collect()
    }

    fn keys(&self, keys: &[&str]) {
        Command::new("tmux").args(["-L", &self.server, "send-keys"]).args(keys).status().unwrap();
    }
}

impl Drop for TerminalUi {
    fn drop(&mut self) {
        // Best effort: the server may be gone already.
        Command::new("tmux").args(["-L", &self.server, "kill-server"]).status().ok();
    }
}

#[test]
fn with_a_terminal_ui_on_the_session_the_window_draws_what_the_terminal_shows() {
    let rt = Runtime::new("tui");
    let s = rt.window("tui", "tui", "50x8", &[], &[]);
    type_in(&s, &s.window, &["ione", "key:Escape", ":vsplit", "key:Return"]);
    wait_screen(&s, "two windows side by side", |t| {
        t.lines().next().is_some_and(|l| l.matches("one").count() == 2)
    });
    // Smaller than the window: nvim's grid is the smallest UI's, and the
    // window pads the rest.
    let tui = TerminalUi::attach(&rt.socket("tui"), 40, 6);
    // Both show the same grid: all rows but the command line (whose last
    // message each UI may have seen or not).
    let window_rows = || {
        let screen = compose::compose(&s.frame().unwrap());
        (0..screen.height - 1).map(|r| screen.row_text(r).trim_end().to_owned()).collect::<Vec<_>>()
    };
    let same = |what: &str, want: &dyn Fn(&[String]) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (ours, theirs) = (window_rows(), tui.rows());
            let theirs = theirs[..theirs.len().min(ours.len())].to_vec();
            if (ours == theirs && want(&ours)) || std::time::Instant::now() > deadline {
                common::assert_screen_eq(&ours, &theirs, what);
                assert!(want(&ours), "{what}: {ours:#?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    same("after the terminal attached", &|rows| rows[0].matches("one").count() == 2 && rows.len() == 5);
    let grid = s.frame().unwrap().grids[&vireo::model::GLOBAL_GRID].clone();
    assert_eq!((grid.width, grid.height), (40, 6), "the smallest UI's size");
    // Typed in the terminal: the window follows.
    tui.keys(&["A", " two", "Escape"]);
    same("after typing in the terminal", &|rows| rows[0].matches("one two").count() == 2);
    // Typed in the window: the terminal follows.
    type_in(&s, &s.window, &["A three", "key:Escape"]);
    same("after typing in the window", &|rows| rows[0].matches("one two three").count() == 2);
}

#[test]
fn remote_with_no_window_running_starts_one_that_opens_the_file() {
    let rt = Runtime::new("remote-start");
    let (_xvfb, display) = common::window::xvfb();
    let dir = temp("remote-start-files");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("new.txt"), "started for this\n").unwrap();
    // The window it starts goes on with its stderr: a file, not a pipe
    // that would stay open.
    let log = temp("remote-start.log");
    let out = finish(
        rt.vireo(&["--remote", "new.txt", "--grid", "40x6", "--", "--clean", "-n"])
            .current_dir(&dir)
            .env("DISPLAY", &display)
            .env("XDG_CONFIG_HOME", temp("remote-start-config"))
            .env("XDG_STATE_HOME", temp("remote-start-state"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        "vireo --remote",
    );
    assert!(out.status.success(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    std::fs::remove_file(&log).ok();
    // It returned once the window was attached: the window answers.
    let opened = stdout(&rt.run(&["--remote-expr", "expand('%:p') . ' ' . getline(1)"]));
    assert_eq!(opened, format!("{} started for this", dir.join("new.txt").display()));
    let windows = vireo_windows(&rt);
    assert_eq!(windows.len(), 1, "{windows:?}");
    assert!(Command::new("kill").arg(windows[0].to_string()).status().unwrap().success());
    std::fs::remove_dir_all(&dir).ok();
}

/// The pids of the windows whose connection files are in `rt`.
fn vireo_windows(rt: &Runtime) -> Vec<u32> {
    let dir = rt.dir.join("vireo/control");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
        .collect()
}

#[test]
fn remote_brings_the_window_to_the_front() {
    let rt = Runtime::new("raise");
    let s = plain_window_on(&rt, "raise", "50x8", true);
    let active = || s.xdotool(&["getactivewindow"]);
    // openbox focuses a window mapped once it runs, but adopts one mapped
    // while it is still starting without focusing it: activate it here.
    s.xdotool(&["windowactivate", "--sync", &s.window]);
    wait_for("the window to be active", Duration::from_secs(30), || (active() == s.window).then_some(()));
    // Another window takes the focus.
    let other = Proc(
        Command::new("xmessage")
            .args(["-name", "other", "another window"])
            .env("DISPLAY", &s.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("xmessage is needed for this test (apt-get install x11-utils)"),
    );
    let other_id = wait_for("the other window", Duration::from_secs(30), || {
        let id = s.xdotool(&["search", "--name", "^another window$|^other$"]);
        id.lines().next().filter(|l| !l.is_empty()).map(str::to_owned)
    });
    s.xdotool(&["windowactivate", "--sync", &other_id]);
    wait_for("the other window to be active", Duration::from_secs(30), || {
        (active() != s.window).then_some(())
    });

    let file = write_file(&rt, "raised.txt", "raised\n");
    assert_eq!(stdout(&rt.run(&["--remote", file.to_str().unwrap()])), "");
    s.wait_row(0, "raised");
    wait_for("vireo to be the active window again", Duration::from_secs(30), || {
        (active() == s.window).then_some(())
    });
    drop(other);
}
