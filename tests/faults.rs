//! Faults: what vireo does when nvim, the connection, the clipboard or the
//! display misbehave. Each ends in a clear message and a documented exit
//! status, and no unsaved work is lost.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::window::*;
use rmpv::Value;
use vireo::nvim::{self, Exit};
use vireo::rpc::Lane;

fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch(&format!("faults-{name}"));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Lua that sends vireo (channel `...`) a notification nested deeper than
/// any real message: vireo refuses it as malformed, as it would garbage.
const MALFORMED_LUA: &str = r#"
local chan = ...
local deep = {}
local at = deep
for _ = 1, 300 do
  at[1] = {}
  at = at[1]
end
vim.rpcnotify(chan, 'too_deep', deep)
"#;

/// nvim runs with swap files on (no `-n`): when its stream turns malformed,
/// vireo stops it with SIGTERM, nvim preserves the edit, and `nvim -r`
/// brings it back. (SIGKILL, as vireo used to send, loses it.)
#[test]
fn an_unsaved_edit_survives_a_protocol_error() {
    let dir = scratch("recover");
    let file = dir.join("notes.txt");
    std::fs::write(&file, "original\n").unwrap();
    let swap_dir = format!("set directory={}//", dir.display());
    let args = ["--clean", "--cmd", &swap_dir, file.to_str().unwrap()].map(str::to_owned).to_vec();
    let conn = nvim::start(common::options(40, 8, args)).expect("nvim starts");
    let mut latest = None;
    let frame = common::settled(&conn, &mut latest, Some("ccedited<Esc>"));
    assert_eq!(common::lines(&frame)[0], "edited");
    let lua = vec![MALFORMED_LUA.into(), Value::Array(vec![conn.api.channel.into()])];
    conn.session.notify(Lane::Query, "nvim_exec_lua", lua).unwrap();
    let exit = conn.exit.recv_timeout(Duration::from_secs(30)).expect("the session ends");
    let Exit::Failed(message) = &exit else { panic!("not a failure: {exit:?}") };
    assert!(message.contains("malformed"), "{message}");
    assert!(message.contains("SIGTERM") && message.contains("nvim -r"), "{message}");
    assert_eq!(exit.status(), 1);

    let recovered = dir.join("recovered.txt");
    let status = Command::new(common::nvim_binary())
        .args(["--headless", "--clean", "--cmd", &swap_dir, "-r"])
        .arg(&file)
        .arg(format!("+w! {}", recovered.display()))
        .arg("+qa!")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&recovered).unwrap(), "edited\n", "the edit was recovered");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "original\n", "the file itself is untouched");
    std::fs::remove_dir_all(dir).ok();
}

/// vireo's channel in the window's nvim, found through `socket`.
fn vireo_channel(socket: &Path) -> String {
    let expr = "luaeval(\"vim.iter(vim.api.nvim_list_chans()):find(function(c) \
                return c.client and c.client.name == 'vireo' end).id\")";
    let chan = remote_expr(socket, expr);
    assert!(chan.parse::<u64>().is_ok(), "vireo's channel: {chan:?}");
    chan
}

/// Plugins may `rpcnotify` vireo's channel at any rate; vireo keeps only a
/// bounded backlog. It used to queue every one for nobody: 200 000
/// notifications of 1 kB grew it by over 200 MB.
#[test]
fn a_notification_flood_does_not_grow_memory() {
    let (s, socket) = Session::start_listening("flood", "40x6");
    let chan = vireo_channel(&socket);
    let before = s.resident_kb();
    let flood = format!(
        "execute('lua local s = string.rep(\"x\", 1000) \
         for i = 1, 200000 do vim.rpcnotify({chan}, \"plugin_event\", s, i) end')"
    );
    remote_expr(&socket, &flood);
    // nvim has sent everything once it answers; vireo reads it at once.
    remote_expr(&socket, "execute('call setline(1, \"after the flood\")')");
    s.wait_row(0, "after the flood");
    std::thread::sleep(Duration::from_secs(3));
    let after = s.resident_kb();
    let grown_mb = after.saturating_sub(before) / 1024;
    assert!(grown_mb < 40, "vireo grew by {grown_mb} MB ({before} kB -> {after} kB)");
    std::fs::remove_file(socket).ok();
}

/// nvim killed while it is drawing: vireo says so and exits 128 + 9.
#[test]
fn nvim_killed_mid_frame_is_reported_with_status_137() {
    let args: Vec<OsString> = ["--grid", "60x10", "--nvim"]
        .map(Into::into)
        .into_iter()
        .chain([common::nvim_binary().into()])
        // Keep nvim drawing: a terminal that prints without pause.
        .chain(["--", "--clean", "-n", "+terminal yes"].map(Into::into))
        .collect();
    let mut s = Session::launch("sigkill", &args, |_| None, true);
    wait_for("the terminal's output", Duration::from_secs(60), || {
        s.screen().filter(|screen| screen.matches("y\n").count() > 3)
    });
    let nvim_pid = nvim_child_of(s.vireo.0.id()).expect("vireo's nvim");
    Command::new("kill").args(["-KILL", &nvim_pid.to_string()]).status().unwrap();
    let code = s.wait_exit(Duration::from_secs(30));
    assert_eq!(code, Some(137), "{}", s.stderr());
    let stderr = s.stderr();
    assert!(stderr.contains("nvim was killed by signal 9 (SIGKILL)"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The first child process of `pid` (vireo's nvim), whichever of its
/// threads started it.
fn nvim_child_of(pid: u32) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks.flatten().find_map(|task| {
        let children = std::fs::read_to_string(task.path().join("children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    })
}

/// A headless `nvim --listen` for `--server` tests; killed on drop.
fn server(socket: &Path) -> Proc {
    let child = Command::new(common::nvim_binary())
        .args(["--headless", "--clean", "-n", "--listen"])
        .arg(socket)
        .stdin(Stdio::null())
        .spawn()
        .expect("nvim starts");
    wait_for("the server's socket", Duration::from_secs(30), || socket.exists().then_some(()));
    Proc(child)
}

/// A server that vanishes mid-session is an error (exit 1, said once);
/// a server that quits is a normal end (exit 0).
#[test]
fn a_server_that_vanishes_is_reported_and_one_that_quits_is_not() {
    let dir = scratch("server");
    for how in ["vanishes", "quits"] {
        let socket = dir.join(format!("{how}.sock"));
        let nvim = server(&socket);
        let args = ["--grid".into(), "40x6".into(), "--server".into(), socket.clone().into_os_string()];
        let mut s = Session::launch(&format!("server-{how}"), &args, |_| None, true);
        wait_for("the server's screen", Duration::from_secs(60), || s.frame());
        match how {
            "vanishes" => {
                Command::new("kill").args(["-KILL", &nvim.0.id().to_string()]).status().unwrap();
                assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(1), "{}", s.stderr());
                let stderr = s.stderr();
                assert_eq!(stderr.matches("closed the connection without quitting").count(), 1, "{stderr}");
                assert!(stderr.contains(socket.to_str().unwrap()), "{stderr}");
            }
            _ => {
                remote_send(&socket, "<C-\\><C-n>:qa!<CR>");
                assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0), "{}", s.stderr());
                let stderr = s.stderr();
                assert!(!stderr.lines().any(|l| l.starts_with("vireo: ")), "{stderr}");
            }
        }
        drop(nvim);
    }
    std::fs::remove_dir_all(dir).ok();
}

/// An X client takes the CLIPBOARD selection and never answers requests
/// for it: nvim still gets an answer (an error), and the window keeps
/// working meanwhile and afterwards.
#[test]
fn a_clipboard_owner_that_never_answers_stalls_nothing() {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, WindowClass};
    let (s, socket) = Session::start_listening("mute-clipboard", "40x6");
    let (x, screen) = x11rb::connect(Some(&s.display)).expect("X connection");
    let root = x.setup().roots[screen].root;
    let owner = x.generate_id().unwrap();
    x.create_window(0, owner, root, 0, 0, 1, 1, 0, WindowClass::INPUT_ONLY, 0, &CreateWindowAux::new())
        .unwrap();
    let clipboard = x.intern_atom(false, b"CLIPBOARD").unwrap().reply().unwrap().atom;
    x.set_selection_owner(owner, clipboard, x11rb::CURRENT_TIME).unwrap();
    x.flush().unwrap();
    // The owner reads no events from here on: every request goes unanswered.
    // nvim's clipboard provider gets an error that says why, in bounded time.
    let chan = vireo_channel(&socket);
    let asked = Instant::now();
    let expr = format!("luaeval(\"select(2, pcall(vim.rpcrequest, {chan}, 'vireo_clipboard_get', '+'))\")");
    let error = remote_expr(&socket, &expr);
    assert!(
        error.contains("the clipboard's owner did not answer within 4 s"),
        "nvim was told why: {error:?}"
    );
    assert!(asked.elapsed() < Duration::from_secs(30), "nvim waited {:?}", asked.elapsed());
    // The window still takes keys and draws.
    // --sync: a key typed before the focus arrives goes nowhere.
    s.xdotool(&["windowfocus", "--sync", &s.window]);
    s.xdotool(&["type", "--delay", "15", "iworks"]);
    s.wait_row(0, "works");
    drop(x);
    std::fs::remove_file(socket).ok();
}
