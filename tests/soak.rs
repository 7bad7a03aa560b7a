//! Soak: a real vireo window under Xvfb, driven through a real nvim for
//! `VIREO_SOAK_SECONDS` (default 60) with a seeded random mix of typed and
//! sent edits, splits, floats opening and closing, window resizes,
//! scrolling, `:terminal` floods, colour scheme changes and pastes.
//!
//! Always checked: vireo never panics or dies, no edit is lost (the driver
//! keeps a model of one buffer and compares it with nvim's), resident
//! memory stays within 3x its warm-up value, and at the end vireo's text
//! screen shows what nvim's state says (each window's lines at the place
//! nvim's layout puts it). With `VIREO_SOAK_STRICT=1` (tools/soak.sh) also:
//! after the warm-up (the first third) memory grows by at most 2 MB, and
//! no frame stalls for more than 250 ms.
//!
//! How a stall is measured: a probe thread changes 'titlestring' through
//! its own RPC connection about once a second. vireo's `--record` file gets
//! nvim's bytes the moment its IO thread reads them, and vireo's main loop
//! copies the title to the X window when it applies the frame, so the time
//! from the token appearing in the recording to the X window's
//! `_NET_WM_NAME` changing (seen as a PropertyNotify, no polling of vireo)
//! is how long a frame waited inside vireo. The time to draw and present
//! each frame comes from vireo's own trace log. Neither includes the time
//! nvim itself takes, which a busy nvim (a 5000-line paste) may need.
//!
//! `VIREO_SOAK_SEED` picks the sequence (default: a fixed seed in the short
//! form, the clock in the strict one; printed either way); `VIREO_SOAK_BIN`
//! runs another vireo binary than the one cargo built for the test.

mod common;

use common::window::*;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmpv::{Value, ValueRef};
use vireo::model::compose;
use vireo::render::font::Fonts;
use vireo::rpc::{Dispatch, Lane, RequestTable, Session as RpcSession, transport};

/// Generous: the driver runs on a busy 2-core machine.
const WAIT: Duration = Duration::from_secs(60);

/// The size vireo starts at and returns to before each memory checkpoint.
const HOME_SIZE: (u32, u32) = (80, 24);
/// Resizes stay in this range (cells); floats fit the smallest.
const MIN_SIZE: (u32, u32) = (60, 16);
const MAX_SIZE: (u32, u32) = (100, 34);

/// The buffer whose text the driver models, and the window that always
/// shows it (nvim's first).
const MODEL_BUF: i64 = 1;
const MODEL_WIN: i64 = 1000;

#[test]
fn a_soak_of_random_editing_loses_nothing_and_stays_bounded() {
    let seconds: u64 = std::env::var("VIREO_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let strict = std::env::var("VIREO_SOAK_STRICT").is_ok_and(|v| v == "1");
    let seed: u64 = std::env::var("VIREO_SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        if strict {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        } else {
            13
        }
    });
    eprintln!("soak: {seconds} s, seed {seed}, {}", if strict { "strict" } else { "short form" });

    let (s, socket) = start(strict);
    let log = s.log.clone().unwrap();
    let _tail = LogTailOnPanic(log.clone());
    let pid = s.vireo.0.id();
    let nvim = Rpc::connect(&socket);
    let cell = Fonts::bundled(1.0).metrics();
    let mut d = Driver {
        s: &s,
        nvim,
        rng: Rng::new(seed),
        model: vec![String::new()],
        cell: (cell.width, cell.height),
        barrier: 0,
        counts: Default::default(),
        mappings: Vec::new(),
    };
    d.setup();
    d.reach_the_peak();

    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = spawn_sampler(pid, stop.clone(), samples.clone());
    let probe = spawn_probe(&s, &socket, stop.clone());

    let start = Instant::now();
    let total = Duration::from_secs(seconds);
    let mut baseline = None;
    while start.elapsed() < total {
        if baseline.is_none() && start.elapsed() >= total / 3 {
            baseline = Some(d.checkpoint(pid, "after warm-up"));
        }
        d.step();
    }
    let baseline = baseline.unwrap_or_else(|| d.checkpoint(pid, "after warm-up"));

    d.finish_jobs();
    d.assert_nothing_lost();
    d.assert_screen_matches_nvim();
    let last = d.checkpoint(pid, "at the end");
    print_mapping_growth(&d.mappings[0], d.mappings.last().unwrap());

    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let probes = probe.join().unwrap();

    assert!(alive(pid), "vireo died during the soak");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("panicked"), "vireo panicked:\n{}", tail(&text, 40));

    eprintln!("soak: actions {:?}", d.counts);
    eprintln!("soak: resident memory every 10 s (s, VmRSS kB, RssAnon kB):");
    for m in samples.lock().unwrap().iter() {
        eprintln!("  {:5.0} {:8} {:8}", m.at, m.rss_kb, m.anon_kb);
    }
    eprintln!(
        "soak: checkpoints: warm-up VmRSS {} kB RssAnon {} kB; end VmRSS {} kB RssAnon {} kB; growth {} kB",
        baseline.rss_kb,
        baseline.anon_kb,
        last.rss_kb,
        last.anon_kb,
        last.rss_kb as i64 - baseline.rss_kb as i64
    );
    let render = render_times(&text);
    let worst_wait = probes.iter().map(|p| p.in_vireo).max().unwrap_or_default();
    let worst_render = render.iter().max().copied().unwrap_or_default();
    let worst_total = probes.iter().map(|p| p.total).max().unwrap_or_default();
    eprintln!(
        "soak: {} probes; worst wait inside vireo {:?}; worst draw+present {:?} over {} frames; worst probe round trip through nvim {:?}",
        probes.len(),
        worst_wait,
        worst_render,
        render.len(),
        worst_total
    );

    assert!(
        last.rss_kb < 3 * baseline.rss_kb,
        "resident memory went from {} kB after warm-up to {} kB",
        baseline.rss_kb,
        last.rss_kb
    );
    if strict {
        let growth = last.rss_kb as i64 - baseline.rss_kb as i64;
        assert!(growth <= 2048, "resident memory grew by {growth} kB after the warm-up");
        let limit = Duration::from_millis(250);
        assert!(!probes.is_empty(), "no stall probe completed");
        assert!(worst_wait <= limit, "a frame waited {worst_wait:?} inside vireo");
        // The slow frame's line (its stats) and the lines before it.
        let slow = || {
            let lines: Vec<&str> = text.lines().collect();
            let at = lines.iter().position(|l| render_times(l).first() == Some(&worst_render)).unwrap_or(0);
            lines[at.saturating_sub(20)..=at.min(lines.len().saturating_sub(1))].join("\n")
        };
        assert!(worst_render <= limit, "a frame took {worst_render:?} to draw and present:\n{}", slow());
    }
    std::fs::remove_file(&socket).ok();
}

/// vireo in a fresh Xvfb with nvim listening on a socket, its stderr in a
/// log file (trace level for the main loop in the strict run, for the
/// per-frame draw times).
fn start(strict: bool) -> (Session, PathBuf) {
    let turn = one_at_a_time();
    let (xvfb, display) = xvfb();
    let record = temp("soak.msgpack");
    let log = temp("soak.log");
    let socket = temp("soak.sock");
    // tools/soak.sh points this at an optimised build: stalls are about the
    // product, not the debug build the test harness uses.
    let binary = std::env::var_os("VIREO_SOAK_BIN").map(PathBuf::from);
    let binary = binary.unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_vireo")));
    let vireo = Command::new(binary)
        .args(["--grid", &format!("{}x{}", HOME_SIZE.0, HOME_SIZE.1), "--record"])
        .arg(&record)
        .arg("--nvim")
        .arg(common::nvim_binary())
        .args(["--", "--clean", "-n", "--listen"])
        .arg(&socket)
        .env("DISPLAY", &display)
        .env("XMODIFIERS", "")
        .env("VIREO_LOG", if strict { "warn,vireo::app=trace" } else { "warn" })
        .stderr(Stdio::from(File::create(&log).unwrap()))
        .stdin(Stdio::null())
        .spawn()
        .expect("vireo starts");
    let vireo = Proc(vireo);
    let window = wait_for("the vireo window", WAIT, || {
        let id = xdotool(&display, &["search", "--class", "vireo"]);
        id.lines().next().filter(|l| !l.is_empty()).map(str::to_owned)
    });
    let s = Session {
        name: "soak".to_owned(),
        display,
        window,
        record,
        vireo,
        _im: None,
        _wm: None,
        log: Some(log),
        _xvfb: xvfb,
        _turn: turn,
    };
    wait_for("nvim's socket", WAIT, || socket.exists().then_some(()));
    wait_for("nvim's first screen", WAIT, || s.frame());
    (s, socket)
}

/// True while the process runs (a zombie has exited).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| !s.contains("State:\tZ"))
}

/// Prints the end of vireo's log when the test fails, before the session
/// removes it.
struct LogTailOnPanic(PathBuf);

impl Drop for LogTailOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("vireo's log ends:\n{}", tail(&text, 40));
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// xorshift64*: a small seeded generator, so a seed replays a sequence.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }

    /// Lower-case words and spaces: what xdotool types the same on any layout.
    fn words(&mut self, max_len: u64) -> String {
        const WORDS: &[&str] =
            &["soak", "vireo", "grid", "cell", "line", "float", "split", "paste", "redraw", "nvim"];
        let len = self.range(1, max_len) as usize;
        let mut out = String::new();
        while out.len() < len {
            if !out.is_empty() {
                out.push(' ');
            }
            let word = self.pick::<&str>(WORDS);
            out.push_str(word);
            if self.range(0, 2) == 0 {
                out.push_str(&self.range(0, 999).to_string());
            }
        }
        out.truncate(len);
        out.trim_end().to_owned()
    }
}

/// A msgpack-RPC client on nvim's socket, its IO on a thread of its own.
struct Rpc(RpcSession);

impl Rpc {
    fn connect(socket: &Path) -> Rpc {
        let addr = socket.to_str().unwrap().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let (r, w) = transport::connect(&addr).await.expect("nvim's socket accepts");
                let sink = |_: &str, _: &[ValueRef<'_>]| {};
                let (session, task) = RpcSession::start(
                    r,
                    w,
                    Dispatch { sink, requests: RequestTable::default(), recorder: None },
                );
                tx.send(session).unwrap();
                task.await.ok();
            });
        });
        Rpc(rx.recv().expect("the RPC thread starts"))
    }

    fn try_call(&self, method: &str, args: Vec<Value>) -> Result<Value, String> {
        match self.0.call_blocking_timeout(Lane::Query, method, args, Some(WAIT)) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => panic!("nvim did not answer {method} in {WAIT:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    fn call(&self, method: &str, args: Vec<Value>) -> Value {
        self.try_call(method, args).unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Runs Lua in nvim; `...` are `args`.
    fn lua(&self, code: &str, args: Vec<Value>) -> Value {
        self.call("nvim_exec_lua", vec![code.into(), Value::Array(args)])
    }

    fn try_lua(&self, code: &str, args: Vec<Value>) -> Result<Value, String> {
        self.try_call("nvim_exec_lua", vec![code.into(), Value::Array(args)])
    }

    fn input(&self, keys: &str) {
        self.call("nvim_input", vec![keys.into()]);
    }

    fn lines(&self, buf: i64) -> Vec<String> {
        let v = self.call("nvim_buf_get_lines", vec![buf.into(), 0.into(), (-1).into(), false.into()]);
        strings(&v)
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|l| l.as_str().unwrap_or("").to_owned()).collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[derive(Debug, Default)]
struct Counts {
    typed: u32,
    sent: u32,
    pasted: u32,
    splits: u32,
    floats: u32,
    resizes: u32,
    scrolls: u32,
    terminals: u32,
    colorschemes: u32,
    prompts_dismissed: u32,
}

struct Driver<'a> {
    s: &'a Session,
    nvim: Rpc,
    rng: Rng,
    /// What the model buffer must hold.
    model: Vec<String>,
    /// One cell in window pixels.
    cell: (u32, u32),
    barrier: u64,
    counts: Counts,
    /// At each checkpoint, vireo's anonymous memory per mapping.
    mappings: Vec<Mappings>,
}

impl Driver<'_> {
    fn setup(&mut self) {
        self.nvim.lua(
            "vim.o.wrap = false; vim.o.title = true; vim.o.more = false; vim.o.swapfile = false\n\
             vim.o.shortmess = vim.o.shortmess .. 'I'",
            vec![],
        );
        self.s.xdotool(&["windowfocus", "--sync", &self.s.window]);
    }

    /// Starts the warm-up at the largest state the random mix can reach:
    /// the biggest window, full of splits and floats, a terminal flood, the
    /// largest paste and every colour scheme. Memory that only the first
    /// visit to a size allocates (buffers that grow to a high-water mark)
    /// is then in the warm-up, and growth measured after it is growth.
    fn reach_the_peak(&mut self) {
        self.resize_to(MAX_SIZE.0, MAX_SIZE.1);
        while self.split_windows().len() < 6 {
            let before = self.split_windows().len();
            self.nvim.try_lua("vim.api.nvim_set_current_win(1000); vim.cmd(...)", vec!["vsplit".into()]).ok();
            if self.split_windows().len() == before {
                break;
            }
        }
        while self.float_windows().len() < 4 {
            self.float();
        }
        self.nvim
            .try_lua(
                "vim.api.nvim_set_current_win(1000); vim.cmd('botright 6split | terminal seq 1 30000')",
                vec![],
            )
            .ok();
        self.paste_lines(3000);
        for name in strings(&self.nvim.lua("return vim.fn.getcompletion('', 'color')", vec![])) {
            self.nvim.lua("vim.cmd.colorscheme(...)", vec![name.into()]);
        }
        self.settle();
    }

    /// One random action, then back to a settled normal mode.
    fn step(&mut self) {
        match self.rng.range(0, 99) {
            0..=17 => self.type_edit(),
            18..=33 => self.send_edit(),
            34..=41 => self.paste(),
            42..=51 => self.split(),
            52..=63 => self.float(),
            64..=71 => self.resize(),
            72..=85 => self.scroll(),
            86..=91 => self.terminal(),
            _ => self.colorscheme(),
        }
        self.settle();
    }

    /// Keys typed into the window (through X, vireo and nvim_input).
    fn type_edit(&mut self) {
        self.counts.typed += 1;
        self.focus_model();
        let text = self.rng.words(50);
        self.s.xdotool(&["type", "--delay", "12", &format!("Go{text}")]);
        self.s.xdotool(&["key", "Escape"]);
        self.model.push(text);
        self.wait_model("typed text");
    }

    /// Keys sent with nvim_input: new lines, appends and deletions.
    fn send_edit(&mut self) {
        self.counts.sent += 1;
        self.focus_model();
        match self.rng.range(0, 3) {
            0 if self.model.len() > 1 => {
                self.nvim.input("Gdd");
                self.model.pop();
            }
            1 => {
                let text = self.rng.words(30);
                self.nvim.input(&format!("G$a {text}<Esc>"));
                let last = self.model.last_mut().unwrap();
                last.push(' ');
                last.push_str(&text);
            }
            2 if self.model.len() > 600 => {
                // Keep the buffer from growing without end.
                let n = self.model.len() / 2;
                self.nvim.input(&format!("gg{n}dd"));
                self.model.drain(..n);
            }
            _ => {
                let text = self.rng.words(70);
                self.nvim.input(&format!("Go{text}<Esc>"));
                self.model.push(text);
            }
        }
        self.wait_model("keys sent with nvim_input");
    }

    /// nvim_paste of 1 to 3000 lines after the end of the model buffer.
    fn paste(&mut self) {
        self.counts.pasted += 1;
        let n = if self.rng.range(0, 9) == 0 { self.rng.range(500, 3000) } else { self.rng.range(1, 40) };
        self.paste_lines(n);
    }

    fn paste_lines(&mut self, n: u64) {
        let lines: Vec<String> = (0..n).map(|_| self.rng.words(90)).collect();
        self.nvim.lua(
            "local n = vim.api.nvim_buf_line_count(1)\n\
             local last = vim.api.nvim_buf_get_lines(1, n - 1, n, false)[1]\n\
             vim.api.nvim_set_current_win(1000)\n\
             vim.api.nvim_win_set_cursor(1000, { n, math.max(#last - 1, 0) })",
            vec![],
        );
        let text = format!("\n{}", lines.join("\n"));
        self.nvim.call("nvim_paste", vec![text.into(), false.into(), (-1).into()]);
        self.model.extend(lines);
        self.wait_model("a paste");
    }

    fn split(&mut self) {
        self.counts.splits += 1;
        let wins = self.split_windows();
        if wins.len() >= 6 || (wins.len() > 1 && self.rng.range(0, 2) == 0) {
            let closable: Vec<i64> = wins.into_iter().filter(|&w| w != MODEL_WIN).collect();
            let w = *self.rng.pick(&closable);
            self.nvim.try_call("nvim_win_close", vec![w.into(), true.into()]).ok();
            return;
        }
        let at = *self.rng.pick(&wins);
        let cmd = *self.rng.pick(&["split", "vsplit", "new", "vnew", "botright split", "topleft vnew"]);
        let lines: Vec<Value> = (0..self.rng.range(0, 60)).map(|_| self.rng.words(120).into()).collect();
        // E36 (no room) is fine: the layout just stays.
        self.nvim
            .try_lua(
                "local at, cmd, lines = ...\n\
                 vim.api.nvim_set_current_win(at)\n\
                 vim.cmd(cmd)\n\
                 if cmd:find('new') then\n\
                   vim.bo.bufhidden = 'wipe'\n\
                   vim.api.nvim_buf_set_lines(0, 0, -1, false, lines)\n\
                 end",
                vec![at.into(), cmd.into(), Value::Array(lines)],
            )
            .ok();
    }

    fn float(&mut self) {
        self.counts.floats += 1;
        let floats = self.float_windows();
        if floats.len() >= 4 || (!floats.is_empty() && self.rng.range(0, 2) == 0) {
            let w = *self.rng.pick(&floats);
            self.nvim.lua(
                "local w = ...\n\
                 local b = vim.api.nvim_win_get_buf(w)\n\
                 vim.api.nvim_win_close(w, true)\n\
                 if vim.api.nvim_buf_is_valid(b) then vim.api.nvim_buf_delete(b, { force = true }) end",
                vec![w.into()],
            );
            return;
        }
        // Inside the smallest editor (above its status and command lines),
        // so later resizes never push a float about.
        let border = *self.rng.pick(&["none", "single", "rounded", "double"]);
        let edge = if border == "none" { 0 } else { 2 };
        let height = self.rng.range(1, 6);
        let width = self.rng.range(5, 30);
        let row = self.rng.range(0, (MIN_SIZE.1 as u64 - 2) - height - edge);
        let col = self.rng.range(0, MIN_SIZE.0 as u64 - width - edge);
        let minimal = self.rng.range(0, 1) == 0;
        let lines: Vec<Value> = (0..self.rng.range(1, 12)).map(|_| self.rng.words(40).into()).collect();
        self.nvim.lua(
            "local lines, row, col, width, height, border, minimal = ...\n\
             local b = vim.api.nvim_create_buf(false, true)\n\
             vim.api.nvim_buf_set_lines(b, 0, -1, false, lines)\n\
             local cfg = { relative = 'editor', row = row, col = col, width = width, height = height, border = border }\n\
             if minimal then cfg.style = 'minimal' end\n\
             vim.api.nvim_open_win(b, false, cfg)",
            vec![
                Value::Array(lines),
                row.into(),
                col.into(),
                width.into(),
                height.into(),
                border.into(),
                minimal.into(),
            ],
        );
    }

    /// Resizes the X window and waits for nvim's grid to follow.
    fn resize(&mut self) {
        self.counts.resizes += 1;
        let cols = self.rng.range(MIN_SIZE.0 as u64, MAX_SIZE.0 as u64) as u32;
        let rows = self.rng.range(MIN_SIZE.1 as u64, MAX_SIZE.1 as u64) as u32;
        self.resize_to(cols, rows);
    }

    fn resize_to(&mut self, cols: u32, rows: u32) {
        let (w, h) = (cols * self.cell.0, rows * self.cell.1);
        self.s.xdotool(&["windowsize", &self.s.window, &w.to_string(), &h.to_string()]);
        let want = vec![cols as i64, rows as i64];
        wait_for(&format!("nvim's grid to become {cols}x{rows}"), WAIT, || {
            let got = self.nvim.lua("return { vim.o.columns, vim.o.lines }", vec![]);
            let got: Vec<i64> = got.as_array().unwrap().iter().map(int).collect();
            (got == want).then_some(())
        });
    }

    /// Scrolls a window with keys or the wheel.
    fn scroll(&mut self) {
        self.counts.scrolls += 1;
        let wins = self.split_windows();
        let w = *self.rng.pick(&wins);
        let how = self.rng.range(0, 5);
        if how >= 4 && w != MODEL_WIN {
            // The wheel, over a window the driver never types into: a
            // wheel event that arrived during typing would move the cursor.
            let pos = self.nvim.call("nvim_win_get_position", vec![w.into()]);
            let (row, col) =
                (int(&pos.as_array().unwrap()[0]) as u32, int(&pos.as_array().unwrap()[1]) as u32);
            let (x, y) = (col * self.cell.0 + self.cell.0 / 2, row * self.cell.1 + self.cell.1 / 2);
            let button = if how == 4 { "5" } else { "4" };
            let times = self.rng.range(1, 5).to_string();
            self.s.xdotool(&["mousemove", "--window", &self.s.window, &x.to_string(), &y.to_string()]);
            self.s.xdotool(&["click", "--repeat", &times, "--delay", "20", button]);
            self.barrier();
            return;
        }
        let keys = *self.rng.pick(&["<C-e>", "5<C-e>", "<C-y>", "G", "gg", "<C-d>", "<C-u>"]);
        self.nvim.lua("vim.api.nvim_set_current_win(...)", vec![w.into()]);
        self.nvim.input(keys);
    }

    /// A terminal in a new split that prints thousands of lines, or prints
    /// for a few seconds while other actions go on.
    fn terminal(&mut self) {
        self.counts.terminals += 1;
        let terms = self.terminal_buffers();
        if terms.len() >= 2 {
            // Wipe the oldest, with its windows.
            self.nvim.lua("vim.api.nvim_buf_delete(..., { force = true })", vec![terms[0].into()]);
        }
        let cmd = if self.rng.range(0, 1) == 0 {
            format!("seq 1 {}", self.rng.range(2000, 30000))
        } else {
            format!(
                "i=0; while [ $i -lt {} ]; do echo soak flood $i; i=$((i+1)); sleep 0.01; done",
                self.rng.range(100, 400)
            )
        };
        self.nvim
            .try_lua(
                "vim.api.nvim_set_current_win(1000)\n\
                 vim.cmd('botright 6split')\n\
                 vim.cmd.terminal(...)",
                vec![cmd.into()],
            )
            .ok();
    }

    fn colorscheme(&mut self) {
        self.counts.colorschemes += 1;
        let names = strings(&self.nvim.lua("return vim.fn.getcompletion('', 'color')", vec![]));
        let name = self.rng.pick(&names).clone();
        self.nvim.lua("vim.cmd.colorscheme(...)", vec![name.into()]);
    }

    fn focus_model(&mut self) {
        self.nvim.lua("vim.api.nvim_set_current_win(1000)", vec![]);
    }

    /// Types a `:let` through the window and waits for nvim to run it: every
    /// event vireo got before it (wheel clicks) has then reached nvim.
    fn barrier(&mut self) {
        self.barrier += 1;
        let n = self.barrier;
        self.s.xdotool(&["type", "--delay", "12", &format!(":let g:soak_barrier = {n}\n")]);
        wait_for("typed keys to reach nvim", WAIT, || {
            let v = self.nvim.lua("return vim.g.soak_barrier", vec![]);
            (v.as_u64() == Some(n)).then_some(())
        });
    }

    /// Waits for normal mode with nothing pending, dismissing prompts.
    fn settle(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self.nvim.call("nvim_get_mode", vec![]);
            let field =
                |k: &str| m.as_map().unwrap().iter().find(|(key, _)| key.as_str() == Some(k)).map(|(_, v)| v);
            let mode = field("mode").and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let blocking = field("blocking").and_then(|v| v.as_bool()).unwrap_or(false);
            // "nt": normal mode in a terminal window.
            if (mode == "n" || mode == "nt") && !blocking {
                return;
            }
            assert!(Instant::now() < deadline, "nvim stayed in mode {mode:?} (blocking: {blocking})");
            if mode.starts_with('r') {
                // A hit-enter or more prompt from a message.
                self.counts.prompts_dismissed += 1;
                self.nvim.input("<CR>");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[track_caller]
    fn wait_model(&self, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = self.nvim.lines(MODEL_BUF);
            if got == self.model {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "after {what} the buffer differs from the driver's model:\n{}",
                    diff(&self.model, &got)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_nothing_lost(&self) {
        self.wait_model("the soak");
    }

    /// Non-floating windows of the current tab page.
    fn split_windows(&self) -> Vec<i64> {
        let v = self.nvim.lua(
            "local out = {}\n\
             for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do\n\
               if vim.api.nvim_win_get_config(w).relative == '' then table.insert(out, w) end\n\
             end\n\
             return out",
            vec![],
        );
        v.as_array().unwrap().iter().map(int).collect()
    }

    fn float_windows(&self) -> Vec<i64> {
        let v = self.nvim.lua(
            "local out = {}\n\
             for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do\n\
               if vim.api.nvim_win_get_config(w).relative ~= '' then table.insert(out, w) end\n\
             end\n\
             return out",
            vec![],
        );
        v.as_array().unwrap().iter().map(int).collect()
    }

    fn terminal_buffers(&self) -> Vec<i64> {
        let v = self.nvim.lua(
            "local out = {}\n\
             for _, b in ipairs(vim.api.nvim_list_bufs()) do\n\
               if vim.bo[b].buftype == 'terminal' then table.insert(out, b) end\n\
             end\n\
             return out",
            vec![],
        );
        v.as_array().unwrap().iter().map(int).collect()
    }

    /// Lets every terminal job finish (stopping any still running after a
    /// minute), so the screen can settle.
    fn finish_jobs(&mut self) {
        let running = "local n = 0\n\
                       for _, b in ipairs(vim.api.nvim_list_bufs()) do\n\
                         local ch = vim.bo[b].channel\n\
                         if vim.bo[b].buftype == 'terminal' and ch > 0 and vim.fn.jobwait({ ch }, 0)[1] == -1 then n = n + 1 end\n\
                       end\n\
                       return n";
        let deadline = Instant::now() + WAIT;
        while int(&self.nvim.lua(running, vec![])) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        self.nvim.lua(
            "for _, b in ipairs(vim.api.nvim_list_bufs()) do\n\
               if vim.bo[b].buftype == 'terminal' then vim.fn.jobstop(vim.bo[b].channel) end\n\
             end",
            vec![],
        );
        self.settle();
    }

    /// vireo's composed text screen against nvim's own account of what
    /// each window shows and where.
    fn assert_screen_matches_nvim(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            // The same nvim state twice around the screen read: a
            // terminal still scrolling would change it in between.
            let before = self.nvim_view();
            let screen = self.s.frame().map(|f| compose::compose(&f));
            let after = self.nvim_view();
            let problems = match &screen {
                Some(screen) if before == after => compare_screen(screen, &before),
                Some(_) => vec!["nvim's state changed while the screen was read".to_owned()],
                None => vec!["no frame recorded".to_owned()],
            };
            if problems.is_empty() {
                eprintln!("soak: the final screen matches nvim's {} windows", before.wins.len());
                return;
            }
            if Instant::now() > deadline {
                let text = screen.map(|s| s.text()).unwrap_or_default();
                panic!(
                    "vireo's screen does not show nvim's state:\n{}\nscreen:\n{text}",
                    problems.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn nvim_view(&self) -> NvimView {
        let v = self.nvim.lua(
            "local wins = {}\n\
             for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do\n\
               local info = vim.fn.getwininfo(w)[1]\n\
               local cfg = vim.api.nvim_win_get_config(w)\n\
               local pos = vim.api.nvim_win_get_position(w)\n\
               local buf = vim.api.nvim_win_get_buf(w)\n\
               local top, left = 0, 0\n\
               if cfg.relative ~= '' and type(cfg.border) == 'table' then\n\
                 if cfg.border[2] ~= '' then top = 1 end\n\
                 if cfg.border[8] ~= '' then left = 1 end\n\
               end\n\
               local eob = vim.wo[w].fillchars:match('eob:([^,]*)') or '~'\n\
               local lines = vim.api.nvim_buf_get_lines(buf, info.topline - 1, info.topline - 1 + info.height, false)\n\
               table.insert(wins, {\n\
                 w, pos[1], pos[2], info.height, info.width, top, left, info.textoff, info.leftcol,\n\
                 cfg.relative ~= '' and 1 or 0, cfg.zindex or 0, eob, lines,\n\
               })\n\
             end\n\
             return { vim.o.columns, vim.o.lines, wins }",
            vec![],
        );
        let top = v.as_array().unwrap();
        let wins = top[2]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let f = w.as_array().unwrap();
                let n = |i: usize| int(&f[i]) as usize;
                WinView {
                    id: int(&f[0]),
                    row: n(1),
                    col: n(2),
                    height: n(3),
                    width: n(4),
                    top: n(5),
                    left: n(6),
                    textoff: n(7),
                    leftcol: n(8),
                    floating: n(9) == 1,
                    zindex: int(&f[10]),
                    eob: f[11].as_str().unwrap_or("~").to_owned(),
                    lines: strings(&f[12]),
                }
            })
            .collect();
        NvimView { cols: int(&top[0]) as usize, rows: int(&top[1]) as usize, wins }
    }

    /// Brings vireo to the same state (home size, one window, default
    /// colours, no terminals or floats), lets it settle and samples memory.
    fn checkpoint(&mut self, pid: u32, what: &str) -> Memory {
        self.finish_jobs();
        self.nvim.lua(
            "vim.api.nvim_set_current_win(1000)\n\
             for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do\n\
               if w ~= 1000 then vim.api.nvim_win_close(w, true) end\n\
             end\n\
             for _, b in ipairs(vim.api.nvim_list_bufs()) do\n\
               if b ~= 1 then vim.api.nvim_buf_delete(b, { force = true }) end\n\
             end\n\
             vim.cmd.colorscheme('default')\n\
             vim.cmd('normal! gg')",
            vec![],
        );
        self.resize_to(HOME_SIZE.0, HOME_SIZE.1);
        self.settle();
        // Let the last frames be drawn and any lazily freed memory go.
        std::thread::sleep(Duration::from_secs(3));
        let m = (0..3)
            .map(|_| {
                std::thread::sleep(Duration::from_secs(1));
                memory(pid, 0.0)
            })
            .min_by_key(|m| m.rss_kb)
            .unwrap();
        eprintln!("soak: memory {what}: VmRSS {} kB, RssAnon {} kB", m.rss_kb, m.anon_kb);
        self.mappings.push(mappings(pid));
        m
    }
}

#[derive(Debug, PartialEq)]
struct NvimView {
    cols: usize,
    rows: usize,
    wins: Vec<WinView>,
}

/// One window as nvim's API describes it: outer position, text area size,
/// border offsets, and the buffer lines from its top line (`line('w0')`).
#[derive(Debug, PartialEq)]
struct WinView {
    id: i64,
    row: usize,
    col: usize,
    height: usize,
    width: usize,
    top: usize,
    left: usize,
    textoff: usize,
    leftcol: usize,
    floating: bool,
    zindex: i64,
    eob: String,
    lines: Vec<String>,
}

impl WinView {
    /// The cells the window covers, border included.
    fn covers(&self, row: usize, col: usize) -> bool {
        let (h, w) = (self.height + 2 * self.top, self.width + 2 * self.left);
        (self.row..self.row + h).contains(&row) && (self.col..self.col + w).contains(&col)
    }

    /// The character nvim says is at (`r`, `c`) of the text area.
    fn expected(&self, r: usize, c: usize) -> char {
        if c < self.textoff {
            return ' ';
        }
        match self.lines.get(r) {
            Some(line) => line.chars().nth(self.leftcol + c - self.textoff).unwrap_or(' '),
            None if c == self.textoff => self.eob.chars().next().unwrap_or(' '),
            None => ' ',
        }
    }
}

/// Every cell of every window's text area that vireo shows differently
/// from nvim's state, skipping cells a float covers.
fn compare_screen(screen: &compose::Screen, view: &NvimView) -> Vec<String> {
    let mut problems = Vec::new();
    if (screen.width, screen.height) != (view.cols, view.rows) {
        problems.push(format!(
            "vireo's screen is {}x{}, nvim's {}x{}",
            screen.width, screen.height, view.cols, view.rows
        ));
        return problems;
    }
    for win in &view.wins {
        let hidden = |row: usize, col: usize| {
            view.wins.iter().any(|o| {
                o.id != win.id
                    && o.floating
                    && (!win.floating || o.zindex >= win.zindex)
                    && o.covers(row, col)
            })
        };
        for r in 0..win.height {
            let row = win.row + win.top + r;
            let (mut want, mut got) = (String::new(), String::new());
            let mut differs = false;
            for c in 0..win.width {
                let col = win.col + win.left + c;
                if row >= screen.height || col >= screen.width {
                    differs = true;
                    continue;
                }
                if hidden(row, col) {
                    want.push('·');
                    got.push('·');
                    continue;
                }
                let e = win.expected(r, c);
                let cell = &screen.cells[row * screen.width + col];
                let g = cell.text.chars().next().unwrap_or(' ');
                want.push(e);
                got.push(g);
                differs |= e != g;
            }
            if differs {
                problems.push(format!(
                    "window {} row {r} (screen row {row}):\n  nvim  {:?}\n  vireo {:?}",
                    win.id,
                    want.trim_end(),
                    got.trim_end()
                ));
            }
        }
    }
    problems
}

fn diff(want: &[String], got: &[String]) -> String {
    let mut out = format!("model {} lines, buffer {} lines\n", want.len(), got.len());
    for i in 0..want.len().max(got.len()) {
        if want.get(i) != got.get(i) {
            out += &format!("  line {}: model {:?}, buffer {:?}\n", i + 1, want.get(i), got.get(i));
            if out.len() > 2000 {
                break;
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Memory {
    at: f64,
    rss_kb: u64,
    anon_kb: u64,
}

fn memory(pid: u32, at: f64) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Memory { at, rss_kb: field("VmRSS:"), anon_kb: field("RssAnon:") }
}

/// Anonymous kB per mapping of a process, by its start address (a heap
/// keeps its start as it grows), with the mapping's size in kB and its
/// file ("" for none).
type Mappings = std::collections::BTreeMap<String, (u64, String, u64)>;

fn mappings(pid: u32) -> Mappings {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut out = Mappings::new();
    let mut range = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-')
            && let (Ok(lo), Ok(hi)) = (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16))
        {
            let file = fields.nth(4).unwrap_or("").to_owned();
            range = Some((format!("{lo:x}"), (hi - lo) / 1024, file));
        } else if first == "Anonymous:"
            && let Some((name, size, file)) = range.take()
        {
            let kb = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            if kb > 0 {
                out.insert(name, (size, file, kb));
            }
        }
    }
    out
}

/// Prints the mappings whose anonymous memory changed most between two
/// checkpoints. On lavapipe one of them is its memory block (a 64 MiB
/// malloc), whose pages stay resident once a texture has used them.
fn print_mapping_growth(before: &Mappings, after: &Mappings) {
    let mut changes: Vec<(i64, &str, u64, &str)> = before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|name| {
            let (size, file, _) = after.get(name).or(before.get(name)).expect("in one of them");
            let then = before.get(name).map_or(0, |m| m.2);
            let now = after.get(name).map_or(0, |m| m.2);
            (now as i64 - then as i64, name.as_str(), *size, file.as_str())
        })
        .filter(|c| c.0 != 0)
        .collect();
    changes.sort_by_key(|c| std::cmp::Reverse(c.0.abs()));
    eprintln!("soak: anonymous memory after the warm-up, the mappings that changed most:");
    for (delta, name, size, file) in changes.iter().take(5) {
        let file = if file.is_empty() { "anonymous" } else { file };
        eprintln!("  {delta:+7} kB  at {name} ({size} kB, {file})");
    }
}

/// Samples vireo's resident memory every 10 s until told to stop.
fn spawn_sampler(
    pid: u32,
    stop: Arc<AtomicBool>,
    out: Arc<Mutex<Vec<Memory>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut next = Duration::ZERO;
        while !stop.load(Ordering::Relaxed) {
            if start.elapsed() >= next {
                let m = memory(pid, start.elapsed().as_secs_f64());
                eprintln!("soak: {:5.0} s: VmRSS {} kB, RssAnon {} kB", m.at, m.rss_kb, m.anon_kb);
                out.lock().unwrap().push(m);
                next += Duration::from_secs(10);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

struct Probe {
    /// From the title reaching vireo's IO thread to its main loop applying it.
    in_vireo: Duration,
    /// From the RPC call to the title on the X window.
    total: Duration,
}

/// Changes the title about once a second and times its way through vireo
/// (see the module docs).
fn spawn_probe(s: &Session, socket: &Path, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<Probe>> {
    use x11rb::connection::Connection;
    use x11rb::protocol::Event;
    use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConnectionExt, EventMask};

    let nvim = Rpc::connect(socket);
    let display = s.display.clone();
    let window: u32 = s.window.parse().expect("a window id");
    let record = s.record.clone();
    std::thread::spawn(move || {
        let (conn, _) = x11rb::connect(Some(&display)).expect("the X server");
        let atom = |name: &str| conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom;
        let (net_wm_name, utf8) = (atom("_NET_WM_NAME"), atom("UTF8_STRING"));
        let aux = ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        conn.change_window_attributes(window, &aux).unwrap().check().unwrap();
        let title = || -> Vec<u8> {
            conn.get_property(false, window, net_wm_name, utf8, 0, 1024)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| r.value)
                .unwrap_or_default()
        };
        let mut file = File::open(&record).expect("the recording");
        let mut offset = 0u64;
        let mut probes = Vec::new();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1000));
            n += 1;
            let token = format!("vireo soak probe {n}");
            // Skip what the recording already holds.
            offset = file.seek(SeekFrom::End(0)).unwrap_or(offset);
            while conn.poll_for_event().ok().flatten().is_some() {}
            let t0 = Instant::now();
            let sent = nvim.try_call(
                "nvim_set_option_value",
                vec!["titlestring".into(), token.clone().into(), Value::Map(vec![])],
            );
            if sent.is_err() {
                break;
            }
            let (mut t1, mut t2) = (None, None);
            let mut window_bytes: Vec<u8> = Vec::new();
            let deadline = t0 + Duration::from_secs(30);
            while (t1.is_none() || t2.is_none()) && Instant::now() < deadline {
                if t1.is_none() {
                    let mut fresh = Vec::new();
                    if file.seek(SeekFrom::Start(offset)).is_ok() && file.read_to_end(&mut fresh).is_ok() {
                        offset += fresh.len() as u64;
                        // Keep a token's length of overlap between reads.
                        window_bytes.extend_from_slice(&fresh);
                        if contains(&window_bytes, token.as_bytes()) {
                            t1 = Some(Instant::now());
                        } else {
                            let keep = window_bytes.len().saturating_sub(token.len());
                            window_bytes.drain(..keep);
                        }
                    }
                }
                while let Ok(Some(event)) = conn.poll_for_event() {
                    if let Event::PropertyNotify(e) = event
                        && e.atom == net_wm_name
                        && t2.is_none()
                        && title() == token.as_bytes()
                    {
                        t2 = Some(Instant::now());
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            match (t1, t2) {
                (Some(t1), Some(t2)) => {
                    probes.push(Probe { in_vireo: t2.saturating_duration_since(t1), total: t2 - t0 })
                }
                _ if stop.load(Ordering::Relaxed) => {}
                _ => probes.push(Probe { in_vireo: Duration::from_secs(30), total: Duration::from_secs(30) }),
            }
        }
        probes
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Draw + present time of each frame from vireo's trace log
/// ("frame N drawn in 1.2ms, presented in 300µs: ...").
fn render_times(log: &str) -> Vec<Duration> {
    log.lines()
        .filter_map(|l| {
            let rest = l.split(" drawn in ").nth(1)?;
            let (drawn, rest) = rest.split_once(", presented in ")?;
            let presented = rest.split(':').next()?;
            Some(parse_duration(drawn)? + parse_duration(presented)?)
        })
        .collect()
}

/// Parses Rust's `Debug` form of a `Duration`.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}
