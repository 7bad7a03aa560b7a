//! The session and model driven by a real nvim (>= 0.10).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{lines, settled, start, start_with};
use rmpv::Value;
use vireo::model::{GLOBAL_GRID, Placement, compose};
use vireo::nvim::{self, Exit, StartOptions};
use vireo::rpc::{RequestTable, RpcError};

#[test]
fn attach_shows_the_empty_buffer_at_the_requested_size() {
    let conn = start(80, 24, &[], RequestTable::default());
    let mut latest = None;
    let frame = settled(&conn, &mut latest, None);
    let grid = frame.grid(GLOBAL_GRID).unwrap();
    assert_eq!((grid.width, grid.height), (80, 24));
    let screen = lines(&frame);
    assert_eq!(screen.len(), 24);
    assert!(screen[1..20].iter().all(|l| l.starts_with('~')), "{screen:#?}");
    assert_eq!(frame.mode.name, "normal");
    assert!(conn.api.version >= (0, 10, 0));
    let cursor = frame.cursor;
    assert_eq!((cursor.row, cursor.col), (0, 0));
    assert_ne!(cursor.grid, GLOBAL_GRID, "multigrid puts the cursor on the window's grid");
    conn.shutdown();
}

#[test]
fn typing_reaches_the_buffer_and_the_screen() {
    let conn = start(80, 24, &[], RequestTable::default());
    let mut latest = None;
    settled(&conn, &mut latest, None);
    let frame = settled(&conn, &mut latest, Some("ihello <lt>world> a|b\\c<Esc>"));
    assert_eq!(lines(&frame)[0], "hello <world> a|b\\c");
    assert_eq!(frame.cursor.col, 18);
    let line = conn.session.call_blocking("nvim_get_current_line", vec![]).unwrap();
    assert_eq!(line, Value::from("hello <world> a|b\\c"));
    let frame = settled(&conn, &mut latest, Some("i"));
    assert_eq!(frame.mode.name, "insert");
    assert_eq!(frame.mode.current().unwrap().short_name, "i");
    conn.shutdown();
}

#[test]
fn splits_become_window_grids_at_their_positions() {
    let conn = start(80, 24, &[], RequestTable::default());
    let mut latest = None;
    settled(&conn, &mut latest, None);
    let frame = settled(&conn, &mut latest, Some(":vsplit<CR>:split<CR>"));
    let normal: Vec<_> = frame
        .windows
        .values()
        .filter(|w| !w.hidden && matches!(w.placement, Some(Placement::Normal { .. })))
        .collect();
    assert_eq!(normal.len(), 3, "{:#?}", frame.windows);
    let cols: Vec<usize> = normal
        .iter()
        .map(|w| match w.placement {
            Some(Placement::Normal { col, .. }) => col,
            _ => unreachable!(),
        })
        .collect();
    assert!(cols.contains(&0) && cols.iter().any(|&c| c > 30), "{cols:?}");
    // :only closes two windows; their grids go away.
    let frame = settled(&conn, &mut latest, Some(":only<CR>"));
    let visible = frame
        .windows
        .values()
        .filter(|w| !w.hidden && matches!(w.placement, Some(Placement::Normal { .. })))
        .count();
    assert_eq!(visible, 1, "{:#?}", frame.windows);
    conn.shutdown();
}

#[test]
fn a_bordered_float_is_composed_over_the_text() {
    let conn = start(60, 20, &[], RequestTable::default());
    let mut latest = None;
    settled(&conn, &mut latest, None);
    let call = |method: &str, args: Vec<Value>| conn.session.call_blocking(method, args).unwrap();
    let buf = call("nvim_create_buf", vec![false.into(), true.into()]);
    // Handles come back as EXT values with the api-info codes, and go back as they came.
    assert!(matches!(buf, Value::Ext(code, _) if code == conn.api.ext.buffer), "{buf:?}");
    let text = Value::Array(vec!["in float".into()]);
    call("nvim_buf_set_lines", vec![buf.clone(), 0.into(), (-1).into(), false.into(), text]);
    let config = Value::Map(vec![
        ("relative".into(), "editor".into()),
        ("row".into(), 2.into()),
        ("col".into(), 5.into()),
        ("width".into(), 12.into()),
        ("height".into(), 1.into()),
        ("border".into(), "single".into()),
    ]);
    let win = call("nvim_open_win", vec![buf, false.into(), config]);
    assert!(matches!(win, Value::Ext(code, _) if code == conn.api.ext.window), "{win:?}");
    let frame = settled(&conn, &mut latest, None);
    let screen = lines(&frame);
    assert!(screen[2][5..].starts_with("┌────────────┐"), "{screen:#?}");
    assert!(screen[3][5..].starts_with("│in float    │"), "{screen:#?}");
    assert!(screen[4][5..].starts_with("└────────────┘"), "{screen:#?}");
    let float =
        frame.windows.values().find(|w| matches!(w.placement, Some(Placement::Float { .. }))).unwrap();
    assert_eq!((float.margins.top, float.margins.left), (1, 1));
    conn.shutdown();
}

#[test]
fn ui_try_resize_resizes_and_repaints() {
    let conn = start(80, 24, &[], RequestTable::default());
    let mut latest = None;
    settled(&conn, &mut latest, None);
    conn.session.call_blocking("nvim_ui_try_resize", vec![50.into(), 10.into()]).unwrap();
    let frame = settled(&conn, &mut latest, None);
    let grid = frame.grid(GLOBAL_GRID).unwrap();
    assert_eq!((grid.width, grid.height), (50, 10));
    let screen = lines(&frame);
    assert_eq!(screen.len(), 10);
    assert!(screen[8].starts_with("[No Name]"), "{screen:#?}");
    conn.shutdown();
}

#[test]
fn rpcrequest_from_nvim_is_answered_during_our_request() {
    let requests = RequestTable::default().on("vireo_test_add", |args| {
        let n = args.first().and_then(Value::as_i64).ok_or_else(|| Value::from("need a number"))?;
        Ok((n + 1).into())
    });
    let conn = start(40, 10, &[], requests);
    let chan = conn.api.channel;
    // Our request blocks inside nvim until nvim's own request to us returns.
    let lua = format!("return vim.rpcrequest({chan}, 'vireo_test_add', 42)");
    let answer = conn.session.call_blocking("nvim_exec_lua", vec![lua.into(), Value::Array(vec![])]).unwrap();
    assert_eq!(answer, Value::from(43));
    let lua = format!("local ok, err = pcall(vim.rpcrequest, {chan}, 'no_such_method') return {{ok, err}}");
    let answer = conn.session.call_blocking("nvim_exec_lua", vec![lua.into(), Value::Array(vec![])]).unwrap();
    let parts = answer.as_array().unwrap();
    assert_eq!(parts[0], Value::from(false));
    assert!(parts[1].to_string().contains("no handler for request 'no_such_method'"), "{answer}");
    conn.shutdown();
}

#[test]
fn nvim_errors_come_back_typed() {
    let conn = start(40, 10, &[], RequestTable::default());
    let err = conn.session.call_blocking("nvim_command", vec!["notacommand".into()]).unwrap_err();
    match err {
        RpcError::Nvim { message, .. } => assert!(message.contains("E492"), "{message}"),
        other => panic!("{other:?}"),
    }
    conn.shutdown();
}

#[test]
fn scrolling_refills_every_vacated_row_before_flush() {
    // Vacated rows start as a sentinel; nvim must overwrite them all.
    let sentinel = "\u{e000}";
    let file = common::scratch("scroll.txt");
    let text: String = (1..=300).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let conn = start_with(40, 12, &[file.to_str().unwrap()], RequestTable::default(), Some(sentinel));
    let mut latest = None;
    settled(&conn, &mut latest, None);
    let frame = settled(&conn, &mut latest, Some("<C-e><C-e><C-e><C-y>"));
    assert!(lines(&frame)[0].starts_with("line 3"), "{:#?}", lines(&frame));
    // Every frame, not just the last, must be free of the sentinel.
    let mut seen = 0;
    for keys in ["<C-d>", "<C-u>", "<C-f>", "<C-b>", "3<C-e>", "2<C-y>", "G", "gg"] {
        conn.session.input(keys).unwrap();
        while let Ok(frame) = conn.frames.recv_timeout(Duration::from_millis(300)) {
            seen += 1;
            let screen = compose::compose(&frame).text();
            assert!(!screen.contains(sentinel), "after {keys}, a scrolled row was not redrawn:\n{screen}");
        }
    }
    assert!(seen >= 8, "only {seen} frames");
    conn.shutdown();
    std::fs::remove_file(file).ok();
}

#[test]
fn nvim_exit_status_is_reported() {
    let conn = start(40, 10, &[], RequestTable::default());
    conn.session.input(":cq 5<CR>").unwrap();
    let exit = conn.exit.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(exit, Exit::Exited(5));
    assert_eq!(exit.status(), 5);
    assert_eq!(exit.message().unwrap(), "nvim exited with status 5");
}

/// nvim serving at a socket of the test's own, after `setup` (keys typed
/// with the screen then settled; nvim then waiting at a prompt or not, as
/// `at_prompt` says), shut down: the socket must be gone. Each `setup`
/// leaves a change unsaved, which `:qall!` must not stop at.
/// Killed, nvim would leave its socket, and in $XDG_RUNTIME_DIR a later
/// nvim given the same PID would start with no server.
fn shut_down_after(name: &str, setup: &str, at_prompt: bool) {
    let dir = common::scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("nvim.sock");
    let conn = start(40, 10, &["--listen", socket.to_str().unwrap()], RequestTable::default());
    let servername = conn.session.call_blocking("nvim_get_vvar", vec!["servername".into()]).unwrap();
    assert_eq!(servername.as_str(), socket.to_str());
    settled(&conn, &mut None, Some(setup));
    let mode = conn.session.call_blocking("nvim_get_mode", vec![]).unwrap();
    let blocking = mode.as_map().unwrap().iter().find(|(k, _)| k.as_str() == Some("blocking"));
    assert_eq!(blocking.and_then(|(_, v)| v.as_bool()), Some(at_prompt), "{mode}");
    assert!(socket.exists());
    conn.shutdown();
    assert!(!socket.exists(), "{socket:?} is left behind after {setup:?}");
}

#[test]
fn a_shut_down_nvim_leaves_no_server_socket_behind() {
    shut_down_after("shutdown", "ichanged<Esc>", false);
}

#[test]
fn a_shut_down_nvim_waiting_at_a_prompt_leaves_no_server_socket_behind() {
    // Eleven lines of message on a ten-row screen: nvim waits at its
    // more-prompt, and holds requests back until a key ends it.
    shut_down_after("shutdown-prompt", "ichanged<Esc>:echo join(range(11), \"\\n\")<CR>", true);
}

#[test]
fn a_killed_nvim_is_reported_as_a_crash() {
    let conn = start(40, 10, &[], RequestTable::default());
    let pid = conn
        .session
        .call_blocking("nvim_call_function", vec!["getpid".into(), Value::Array(vec![])])
        .unwrap();
    let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let exit = conn.exit.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(exit, Exit::Signaled(9));
    assert_eq!(exit.status(), 137);
    assert!(exit.message().unwrap().contains("SIGKILL"));
}

#[test]
fn dropped_files_open_whatever_their_names() {
    let dir = common::scratch("drop");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a file with spaces % # 'quotes' [x].txt");
    std::fs::write(&path, "dropped content\n").unwrap();
    let conn = start(60, 10, &[], RequestTable::default());
    conn.session.call_blocking("nvim_exec_lua", vireo::input::drop_file_args(&path)).unwrap();
    let name = conn.session.call_blocking("nvim_buf_get_name", vec![0.into()]).unwrap();
    assert_eq!(name.as_str(), Some(path.to_str().unwrap()));
    let line = conn.session.call_blocking("nvim_get_current_line", vec![]).unwrap();
    assert_eq!(line, Value::from("dropped content"));
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

/// A frame that shows only a typed command ('showcmd', here a count with
/// nothing after it yet) is published at once, but the window is woken
/// only by the command's own flush or when the hold is over: with no flush
/// after it, the wake comes `COMMAND_HOLD` after the frame, not never.
/// Insert mode holds nothing: each frame wakes the window as it comes.
#[test]
fn a_typed_command_alone_wakes_the_window_when_the_hold_ends() {
    let (tx, wakes) = crossbeam_channel::unbounded();
    let opts = StartOptions {
        wake: Some(Arc::new(move || {
            tx.send(Instant::now()).ok();
        })),
        ..common::options(40, 8, vec!["--clean".into(), "-n".into()])
    };
    let conn = nvim::start(opts).expect("nvim starts");
    let mut latest = None;
    settled(&conn, &mut latest, None);
    wakes.try_iter().count();

    conn.session.input("2").unwrap();
    let woken = wakes.recv_timeout(Duration::from_secs(10)).expect("the window is woken");
    let frames: Vec<_> = conn.frames.try_iter().collect();
    let [frame] = &frames[..] else { panic!("one flush for the count, not {}", frames.len()) };
    assert!(lines(frame)[7].contains('2'), "the count shows: {:?}", lines(frame));
    let held = woken - frame.flushed_at;
    assert!(held >= nvim::COMMAND_HOLD, "woken {held:?} after the flush");

    // The count's own flush never came: insert mode's frames wake at once.
    settled(&conn, &mut latest, Some("<Esc>"));
    wakes.try_iter().count();
    let frame = settled(&conn, &mut latest, Some("iabc"));
    assert_eq!(lines(&frame)[0], "abc");
    let woken: Vec<_> = wakes.try_iter().collect();
    assert!(!woken.is_empty() && woken.iter().all(|w| *w < frame.flushed_at + nvim::COMMAND_HOLD));
    conn.shutdown();
}
