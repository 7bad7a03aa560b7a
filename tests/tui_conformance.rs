//! `vireo --snapshot-text` must show exactly what nvim's own TUI shows for
//! the same session. The TUI runs in tmux; both get the same keys through
//! `nvim_input` after start-up has settled.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::assert_screen_eq;

const COLS: usize = 80;
const ROWS: usize = 24;

struct Scenario {
    name: String,
    keys: String,
    args: Vec<String>,
}

fn scenarios() -> Vec<Scenario> {
    let table = std::fs::read_to_string("tests/fixtures/scenarios.tsv").expect("scenario table");
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let name = f.next().unwrap().to_owned();
            let keys = f.next().unwrap_or("").to_owned();
            let args = f.next().unwrap_or("").split_whitespace().map(str::to_owned).collect();
            Scenario { name, keys, args }
        })
        .collect()
}

fn scenario(name: &str) -> Scenario {
    scenarios().into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no scenario {name}"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tmux server of our own with nvim's TUI in it.
struct Tui {
    server: String,
    socket: PathBuf,
    dir: PathBuf,
}

impl Tui {
    fn start(s: &Scenario) -> Tui {
        let dir = common::scratch(&format!("tui-{}", s.name));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("tmux.conf");
        std::fs::write(&conf, "set -g status off\nset -g escape-time 0\n").unwrap();
        let socket = dir.join("nvim.sock");
        let server = format!("vireo-{}-{}", s.name, std::process::id());
        let mut nvim = vec![
            common::nvim_binary().to_string_lossy().into_owned(),
            "--clean".into(),
            "-n".into(),
            "--listen".into(),
            socket.to_string_lossy().into_owned(),
        ];
        nvim.extend(s.args.iter().cloned());
        let cwd = std::env::current_dir().unwrap();
        let tmux = Command::new("tmux")
            .args(["-L", &server, "-f"])
            .arg(&conf)
            .args(["new-session", "-d", "-x", &COLS.to_string(), "-y", &ROWS.to_string(), "-c"])
            .arg(&cwd)
            .arg(shell_join(&nvim))
            .status();
        match tmux {
            Ok(st) if st.success() => {}
            other => panic!("tmux is needed for this test (apt-get install tmux): {other:?}"),
        }
        let tui = Tui { server, socket, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !tui.socket.exists() {
            assert!(Instant::now() < deadline, "nvim in tmux did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        tui
    }

    fn capture(&self) -> Vec<String> {
        let text = run(Command::new("tmux").args(["-L", &self.server, "capture-pane", "-p"]));
        let mut lines: Vec<String> = text.lines().map(|l| l.trim_end_matches(' ').to_owned()).collect();
        lines.resize(ROWS, String::new());
        lines
    }

    /// Waits until the pane has not changed for a while and nvim has
    /// nothing left to do: a request is answered (or, at a prompt, which
    /// requests wait behind, not answered within a few seconds) and the
    /// pane is still the same afterwards.
    fn settled(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = self.capture();
        let mut stable_since = Instant::now();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.capture();
            if now != last {
                last = now;
                stable_since = Instant::now();
            } else if stable_since.elapsed() > Duration::from_millis(800) {
                self.probe();
                let after = self.capture();
                if after == last {
                    break;
                }
                last = after;
                stable_since = Instant::now();
            }
        }
        last
    }

    /// Asks nvim for `1`, giving up after a few seconds.
    fn probe(&self) {
        let mut child = Command::new(common::nvim_binary())
            .arg("--server")
            .arg(&self.socket)
            .args(["--remote-expr", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nvim --remote-expr");
        let deadline = Instant::now() + Duration::from_secs(3);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().ok();
        child.wait().ok();
    }

    fn send(&self, keys: &str) {
        let nvim = common::nvim_binary();
        run(Command::new(nvim).arg("--server").arg(&self.socket).args(["--remote-send", keys]));
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        // Best effort: the server may already be gone.
        Command::new("tmux").args(["-L", &self.server, "kill-server"]).status().ok();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn shell_join(words: &[String]) -> String {
    words.iter().map(|w| format!("'{}'", w.replace('\'', r"'\''"))).collect::<Vec<_>>().join(" ")
}

/// `:terminal` names the shell's pid in the buffer name; pids differ.
fn normalize(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|l| match l.find("term://") {
            Some(at) => {
                let (head, tail) = l.split_at(at);
                let mut out = head.to_owned();
                let mut chars = tail.chars().peekable();
                let mut after_slashes = false;
                let mut prev = ' ';
                while let Some(c) = chars.next() {
                    if after_slashes && c.is_ascii_digit() {
                        while chars.peek().is_some_and(char::is_ascii_digit) {
                            chars.next();
                        }
                        out.push_str("PID");
                        after_slashes = false;
                        continue;
                    }
                    after_slashes = prev == '/' && c == '/';
                    out.push(c);
                    prev = c;
                }
                out
            }
            None => l,
        })
        .collect()
}

fn vireo_screen(s: &Scenario, dir: &Path) -> Vec<String> {
    let out = dir.join(format!("{}.txt", s.name));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
    cmd.arg("--snapshot-text").arg(&out).args(["--grid", &format!("{COLS}x{ROWS}")]);
    if !s.keys.is_empty() {
        cmd.args(["--keys", &s.keys]);
    }
    // vireo itself honours $VIREO_NVIM, which the child inherits.
    cmd.args(["--", "--clean", "-n"]).args(&s.args);
    run(&mut cmd);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'));
    text.lines().map(str::to_owned).collect()
}

fn check(name: &str) {
    let s = scenario(name);
    let tui = Tui::start(&s);
    tui.settled();
    if !s.keys.is_empty() {
        tui.send(&s.keys);
    }
    let expected = normalize(tui.settled());
    let actual = normalize(vireo_screen(&s, &tui.dir));
    assert_eq!(actual.len(), ROWS, "the snapshot has exactly ROWS lines");
    assert_screen_eq(&actual, &expected, &format!("scenario '{name}' vs nvim's TUI"));
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { check(stringify!($name)); })*

        #[test]
        fn every_scenario_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for s in scenarios() {
                assert!(tested.contains(&s.name.as_str()), "scenario {} has no test", s.name);
            }
        }
    };
}

conformance!(
    intro, insert, splits, help, scrolling, wrapped, float, popupmenu, messages, tabs, wide, terminal,
    cmdheight, visual, inccommand, at_edges, cmdheight0, anchored, oversized, stacking,
);
