//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use vireo::model::{Frame, compose};
use vireo::nvim::{self, Connection, StartOptions, Target};
use vireo::rpc::RequestTable;
use vireo::snapshot::{self, Settle};

/// The nvim under test: $VIREO_NVIM or `nvim` on PATH.
pub fn nvim_binary() -> PathBuf {
    std::env::var_os("VIREO_NVIM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("nvim"))
}

pub mod window;

/// `name` in this test process's scratch folder (not created). The folder
/// is removed when the process exits if no test failed; when one did it is
/// kept, and named on stderr, for the logs in it.
pub fn scratch(name: &str) -> PathBuf {
    scratch_folder().join(name)
}

/// Set by any panic: a test failed (or a thread of one panicked).
static PANICKED: AtomicBool = AtomicBool::new(false);

fn scratch_folder() -> &'static Path {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let folder = std::env::temp_dir().join(format!("vireo-tests-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("a scratch folder in the temp dir");
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            report(info);
        }));
        // SAFETY: the handler is a plain function; it runs once, at exit.
        unsafe { libc::atexit(remove_scratch_folder) };
        folder
    })
}

/// Registered by `scratch_folder` once the folder exists.
extern "C" fn remove_scratch_folder() {
    let folder = scratch_folder();
    if PANICKED.load(Ordering::SeqCst) {
        eprintln!("the tests' scratch files are kept in {}", folder.display());
    } else {
        std::fs::remove_dir_all(folder).ok();
    }
}

pub fn settle() -> Settle {
    Settle { quiet: Duration::from_millis(300), max_wait: Duration::from_secs(15) }
}

/// Starts `nvim --embed --clean -n ARGS` attached at `cols`x`rows`.
pub fn start(cols: usize, rows: usize, args: &[&str], requests: RequestTable) -> Connection {
    start_with(cols, rows, args, requests, None)
}

pub fn start_with(
    cols: usize,
    rows: usize,
    args: &[&str],
    requests: RequestTable,
    scroll_fill: Option<&str>,
) -> Connection {
    let mut all = vec!["--clean".to_owned(), "-n".to_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    let opts =
        StartOptions { requests, scroll_fill: scroll_fill.map(str::to_owned), ..options(cols, rows, all) };
    nvim::start(opts).expect("nvim starts")
}

/// Options for `nvim --embed ARGS` at `cols`x`rows`, with nothing else.
pub fn options(cols: usize, rows: usize, args: Vec<String>) -> StartOptions {
    StartOptions {
        target: Target::Embed { binary: nvim_binary(), args },
        cols,
        rows,
        record: None,
        requests: RequestTable::default(),
        init_lua: Vec::new(),
        scroll_fill: None,
        wake: None,
    }
}

/// Sends keys (if any) and returns the settled frame.
pub fn settled(conn: &Connection, latest: &mut Option<Frame>, keys: Option<&str>) -> Frame {
    if let Some(keys) = keys {
        conn.session.input(keys).expect("input is sent");
    }
    snapshot::wait_settled(conn, latest, settle()).expect("nvim settles");
    latest.clone().expect("nvim drew a frame")
}

/// The composed screen as lines.
pub fn lines(frame: &Frame) -> Vec<String> {
    let screen = compose::compose(frame);
    (0..screen.height).map(|r| screen.row_text(r)).collect()
}

/// Compares screens row by row and fails listing every differing row.
#[track_caller]
pub fn assert_screen_eq(actual: &[String], expected: &[String], what: &str) {
    let mut diffs = Vec::new();
    for i in 0..actual.len().max(expected.len()) {
        let (a, e) = (actual.get(i), expected.get(i));
        if a != e {
            diffs.push(format!(
                "  row {i:2}: expected {:?}\n          actual   {:?}",
                e.map_or("<missing>", |s| s),
                a.map_or("<missing>", |s| s)
            ));
        }
    }
    assert!(diffs.is_empty(), "{what}: {} rows differ:\n{}", diffs.len(), diffs.join("\n"));
}

/// `win_viewport` for window `win` on `grid`: `rows` lines from `topline`
/// of a 1000-line buffer, the cursor on the first, scrolled `delta` lines
/// since the last one.
pub fn viewport(
    grid: u64,
    win: i64,
    topline: i64,
    rows: i64,
    delta: i64,
) -> vireo::model::RedrawEvent<'static> {
    vireo::model::RedrawEvent::WinViewport {
        grid,
        win,
        topline,
        botline: topline + rows,
        curline: topline,
        curcol: 0,
        line_count: Some(1000),
        scroll_delta: Some(delta),
    }
}
