//! The `vireo` command as a user runs it.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn vireo(args: &[&str]) -> Output {
    vireo_env(args, &[])
}

/// vireo with `vars` set, never reading the user's own config.
fn vireo_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
    cmd.args(args).env("VIREO_NVIM", common::nvim_binary()).stdin(Stdio::null());
    cmd.env("XDG_CONFIG_HOME", temp("xdg-config")).env("XDG_STATE_HOME", temp("xdg-state"));
    cmd.envs(vars.iter().copied());
    cmd.output().expect("vireo runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp(name: &str) -> std::path::PathBuf {
    common::scratch(&format!("cli-{name}"))
}

#[test]
fn a_missing_nvim_names_the_binary_it_tried() {
    let out_file = temp("missing.txt");
    let out = vireo(&["--nvim", "/nonexistent/bin/nvim", "--snapshot-text", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("'/nonexistent/bin/nvim'"), "{err}");
    assert!(err.contains("--nvim PATH or $VIREO_NVIM"), "{err}");
    assert!(err.contains("get Neovim 0.10 or newer from https://github.com/neovim/neovim/releases"), "{err}");
    assert!(!out_file.exists());

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
    cmd.env("VIREO_NVIM", "/also/missing/nvim").args(["--snapshot-text", out_file.to_str().unwrap()]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("'/also/missing/nvim'"), "{}", stderr(&out));
}

#[test]
fn snapshot_text_writes_exactly_rows_lines() {
    let out_file = temp("rows.txt");
    let out = vireo(&[
        "--snapshot-text",
        out_file.to_str().unwrap(),
        "--grid",
        "50x7",
        "--keys",
        "ione<CR>two<Esc>",
        "--",
        "--clean",
        "-n",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert_eq!(&lines[..2], ["one", "two"]);
    assert!(lines.iter().all(|l| !l.ends_with(' ')), "trailing spaces are trimmed");
    std::fs::remove_file(out_file).ok();
}

#[test]
fn files_and_nvim_args_are_passed_through() {
    let out_file = temp("files.txt");
    let out = vireo(&[
        "--snapshot-text",
        out_file.to_str().unwrap(),
        "--grid",
        "60x10",
        "tests/fixtures/files/numbers.txt",
        "--",
        "--clean",
        "-n",
        "+5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.starts_with("line 1\nline 2\n"), "{text}");
    assert!(text.contains("tests/fixtures/files/numbers.txt"), "{text}");
    assert!(text.contains("5,1"), "+5 put the cursor on line 5: {text}");
    std::fs::remove_file(out_file).ok();
}

#[test]
fn nvim_failing_before_the_snapshot_gives_its_status() {
    let out_file = temp("cq.txt");
    let out = vireo(&["--snapshot-text", out_file.to_str().unwrap(), "--keys", ":cq 7<CR>", "--", "--clean"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("nvim exited with status 7"), "{}", stderr(&out));
}

#[test]
fn bad_options_are_refused_clearly() {
    let out = vireo(&["--grid", "0x5", "--snapshot-text", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("between 1 and 1000"), "{}", stderr(&out));
    let out = vireo(&["--grid", "80by24", "--snapshot-text", "/dev/null"]);
    assert!(stderr(&out).contains("COLSxROWS"), "{}", stderr(&out));
    let out = vireo(&["--snapshot", "/nonexistent/dir/x.png", "--grid", "20x5", "--", "--clean"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/nonexistent/dir/x.png"), "{}", stderr(&out));
    let out = vireo(&["--server", "/tmp/nope.sock", "file.txt", "--snapshot-text", "/dev/null"]);
    assert!(stderr(&out).contains("cannot be passed with --server"), "{}", stderr(&out));
}

/// A headless `nvim --listen ADDR`, stopped on drop.
struct Server(std::process::Child);

impl Server {
    fn start(addr: &str) -> Server {
        let child = Command::new(common::nvim_binary())
            .args(["--headless", "--clean", "-n", "--listen", addr])
            .stdin(Stdio::null())
            .spawn()
            .expect("nvim starts");
        Server(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The test is over either way; a failed kill means it already exited.
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn server_mode_attaches_over_a_unix_socket_and_tcp() {
    let sock = temp("server.sock");
    let _server = Server::start(sock.to_str().unwrap());
    wait_for("the socket", || Path::new(&sock).exists());
    let out_file = temp("server.txt");
    let out = vireo(&[
        "--server",
        sock.to_str().unwrap(),
        "--snapshot-text",
        out_file.to_str().unwrap(),
        "--grid",
        "40x8",
        "--keys",
        "iover a socket<Esc>",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(text.lines().next(), Some("over a socket"), "{text}");
    assert_eq!(text.lines().count(), 8);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let _tcp = Server::start(&addr);
    wait_for("the tcp port", || std::net::TcpStream::connect(&addr).is_ok());
    let out = vireo(&[
        "--server",
        &addr,
        "--snapshot-text",
        out_file.to_str().unwrap(),
        "--grid",
        "40x8",
        "--keys",
        "iover tcp<Esc>",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(text.lines().next(), Some("over tcp"), "{text}");
    std::fs::remove_file(out_file).ok();
}

#[test]
fn a_server_that_is_not_there_is_reported() {
    let out = vireo(&["--server", "127.0.0.1:1", "--snapshot-text", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not connect to the nvim server at '127.0.0.1:1'"),
        "{}",
        stderr(&out)
    );
}

/// vireo as a user starts it, without a display unless `display` is set.
fn vireo_without_display(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
    cmd.args(args).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env_remove("WAYLAND_SOCKET");
    cmd.env("VIREO_NVIM", common::nvim_binary()).stdin(Stdio::null());
    cmd.output().expect("vireo runs")
}

#[test]
fn no_display_is_said_once_in_the_users_terms() {
    let out = vireo_without_display(&["--", "--clean", "-n"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one message: {err}");
    assert!(err.starts_with("vireo: could not open a window: neither WAYLAND_DISPLAY"), "{err}");
    assert!(err.contains("--snapshot"), "a hint for headless use: {err}");
    assert!(!err.contains(".rs:") && !err.contains("registry"), "no source locations: {err}");
}

#[test]
fn a_missing_nvim_is_reported_before_any_window() {
    // Without a display: the nvim problem is what the user hears of.
    let out = vireo_without_display(&["--nvim", "/nonexistent/bin/nvim"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("could not find the nvim binary '/nonexistent/bin/nvim'"), "{err}");
    assert!(!err.contains("window"), "{err}");
    let out = vireo_without_display(&["--nvim", "nvim-not-on-any-path"]);
    assert!(stderr(&out).contains("'nvim-not-on-any-path' (looked on PATH="), "{}", stderr(&out));
}

#[test]
fn a_missing_server_is_said_once() {
    for mode in [&["--snapshot-text", "/dev/null"][..], &[]] {
        let mut args = vec!["--server", "/nonexistent/nvim.sock"];
        args.extend_from_slice(mode);
        let out = vireo_without_display(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert_eq!(err.matches("/nonexistent/nvim.sock").count(), 1, "{err}");
        assert!(err.contains("could not connect to the nvim server"), "{err}");
        assert!(!err.contains("os error"), "{err}");
    }
}

/// A program that takes vireo's messages and never answers: vireo gives up
/// with a message after its start-up timeout instead of hanging.
#[test]
fn an_nvim_that_never_answers_is_a_clear_error_not_a_hang() {
    let fake = temp("mute-nvim");
    std::fs::write(&fake, "#!/bin/sh\ncat >/dev/null\n").unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let started = Instant::now();
    let out = vireo(&["--nvim", fake.to_str().unwrap(), "--snapshot-text", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nvim did not answer within 20s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
    std::fs::remove_file(fake).ok();
}

#[test]
fn an_old_style_size_in_cells_points_to_grid() {
    let out = vireo(&["--size", "80x24", "--snapshot-text", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use --grid 80x24"), "{}", stderr(&out));
}

/// Rows of a text snapshot taken with `args` and `vars`.
fn snapshot_rows(args: &[&str], vars: &[(&str, &str)]) -> usize {
    let out_file = temp(&format!("rows-{}.txt", args.len() + vars.len()));
    let mut all = vec!["--snapshot-text", out_file.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--", "--clean", "-n"]);
    let out = vireo_env(&all, vars);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = std::fs::read_to_string(&out_file).unwrap().lines().count();
    std::fs::remove_file(out_file).ok();
    rows
}

#[test]
fn settings_layers_rank_env_then_file_then_command_line() {
    let config = temp("layers.toml");
    std::fs::write(&config, "grid = \"40x6\"\n").unwrap();
    let config = config.to_str().unwrap();
    assert_eq!(snapshot_rows(&[], &[("VIREO_GRID", "40x5")]), 5, "environment over the default");
    assert_eq!(snapshot_rows(&["--config", config], &[("VIREO_GRID", "40x5")]), 6, "file over environment");
    let cli = ["--config", config, "--grid", "40x7"];
    assert_eq!(snapshot_rows(&cli, &[("VIREO_GRID", "40x5")]), 7, "command line over file");
    assert_eq!(snapshot_rows(&[], &[("VIREO_CONFIG", config)]), 6, "$VIREO_CONFIG names the file");
    let skip = ["--no-config"];
    assert_eq!(snapshot_rows(&skip, &[("VIREO_CONFIG", config), ("VIREO_GRID", "40x5")]), 5, "--no-config");
    std::fs::remove_file(config).ok();
}

#[test]
fn config_file_problems_are_shown_in_nvim_and_the_rest_applies() {
    let config = temp("bad.toml");
    std::fs::write(&config, "grid = \"200x8\"\nfullscreen = \"yes\"\nno_such_knob = 1\n").unwrap();
    let out_file = temp("bad-config.txt");
    let out = vireo(&[
        "--config",
        config.to_str().unwrap(),
        "--snapshot-text",
        out_file.to_str().unwrap(),
        "--keys",
        ":messages<CR>",
        "--",
        "--clean",
        "-n",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let screen = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(screen.lines().count(), 8, "the good key applied: {screen}");
    let file = config.display().to_string();
    assert!(screen.contains(&format!("vireo: {file}:2:1: 'fullscreen' expects true or false")), "{screen}");
    assert!(screen.contains(&format!("vireo: {file}:3:1: unknown setting 'no_such_knob'")), "{screen}");
    std::fs::remove_file(config).ok();
    std::fs::remove_file(out_file).ok();
}

#[test]
fn the_man_page_and_completions_list_every_flag() {
    use clap::CommandFactory;
    let man = String::from_utf8(vireo(&["--print-man"]).stdout).unwrap();
    let bash = String::from_utf8(vireo(&["--print-completions", "bash"]).stdout).unwrap();
    let fish = String::from_utf8(vireo(&["--print-completions", "fish"]).stdout).unwrap();
    let zsh = String::from_utf8(vireo(&["--print-completions", "zsh"]).stdout).unwrap();
    assert!(man.starts_with(".ie") || man.contains(".TH vireo"), "{man}");
    for arg in vireo::cli::Cli::command().get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        // roff escapes the dashes.
        assert!(man.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))), "man page lacks --{long}");
        assert!(bash.contains(&format!("--{long}")), "bash completion lacks --{long}");
        assert!(zsh.contains(&format!("--{long}")), "zsh completion lacks --{long}");
        assert!(fish.contains(&format!("-l {long}")), "fish completion lacks --{long}");
    }
}

#[test]
fn fork_reports_a_missing_nvim_itself() {
    let out = vireo_without_display(&["--fork", "--nvim", "/nonexistent/bin/nvim"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches("could not find the nvim binary '/nonexistent/bin/nvim'").count(), 1, "{err}");
}

#[test]
fn version_names_the_commit_and_verbose_adds_the_backends_and_the_nvim() {
    let out = vireo(&["--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("vireo {}", env!("CARGO_PKG_VERSION"))), "{text}");
    // Tests build inside the git checkout, so the commit is known.
    let commit = first.split("(git ").nth(1).and_then(|rest| rest.strip_suffix(')')).unwrap_or_default();
    assert!(commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit()), "{text}");
    assert_eq!(String::from_utf8_lossy(&vireo(&["-V"]).stdout), text);

    let out = vireo(&["--version", "--verbose"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], first, "{text}");
    assert!(lines[1].starts_with("target: ") && lines[1].ends_with("(debug profile)"), "{text}");
    let backends: Vec<&str> =
        lines[2].strip_prefix("wgpu backends: ").unwrap_or_default().split(", ").collect();
    let native = if cfg!(target_os = "macos") {
        "metal"
    } else if cfg!(windows) {
        "dx12"
    } else {
        "vulkan"
    };
    assert!(backends.contains(&native), "{text}");
    assert!(lines[3].starts_with("nvim: /") && lines[3].ends_with(')'), "{text}");
    assert!(lines[3].contains(" (NVIM v0."), "{text}");
    let nvim = common::nvim_binary();
    assert!(!nvim.is_absolute() || lines[3].contains(&nvim.display().to_string()), "{text}");

    let out = vireo(&["--version", "--verbose", "--nvim", "/nonexistent/bin/nvim"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("nvim: /nonexistent/bin/nvim not found (get Neovim 0.10 or newer"), "{text}");

    let out = vireo(&["--verbose"]);
    assert_eq!(out.status.code(), Some(2), "--verbose alone is refused");
}

/// A PNG snapshot of `hello` in a 30x4 grid with `config` as config.toml.
fn snapshot_with(name: &str, config: &str) -> vireo::render::offscreen::Image {
    let (png, toml) = (temp(&format!("{name}.png")), temp(&format!("{name}.toml")));
    std::fs::write(&toml, config).unwrap();
    let args = ["--config", toml.to_str().unwrap(), "--snapshot", png.to_str().unwrap(), "--grid", "30x4"];
    let out = vireo(&[&args[..], &["--keys", "ihello<Esc>", "--", "--clean", "-n"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let image = vireo::render::offscreen::Image::read_png(&png).unwrap();
    std::fs::remove_file(png).ok();
    std::fs::remove_file(toml).ok();
    image
}

#[test]
fn padding_and_opacity_reach_the_snapshot() {
    let plain = snapshot_with("plain", "");
    let padded = snapshot_with("padded", "padding_left = 40\npadding_top = 10\npadding_right = 2\n");
    assert_eq!((padded.width, padded.height), (plain.width + 42, plain.height + 10));
    // Every pixel of the grid moved by exactly (40, 10)...
    for y in 0..plain.height {
        for x in 0..plain.width {
            assert_eq!(plain.pixel(x, y), padded.pixel(x + 40, y + 10), "at {x},{y}");
        }
    }
    // ...and the padding is the Normal background, opaque.
    let bg = plain.pixel(plain.width - 1, 0);
    assert_eq!(bg[3], 255);
    for (x, y) in [(0, 0), (39, 50), (20, padded.height - 1), (padded.width - 1, 5)] {
        assert_eq!(padded.pixel(x, y), bg, "padding at {x},{y}");
    }

    let clear = snapshot_with("opacity", "normal_opacity = 0.5\n");
    let alpha = |img: &vireo::render::offscreen::Image, x, y| img.pixel(x, y)[3];
    assert!((127..=128).contains(&alpha(&clear, plain.width - 1, 0)), "the Normal background is half clear");
    let near = |a: [u8; 4], b: [u8; 4]| (0..3).all(|i| a[i].abs_diff(b[i]) <= 1);
    assert!(near(clear.pixel(plain.width - 1, 0), bg), "in its own colour");
    // The status line (not the Normal background) stays opaque, and so
    // does text: some pixel of "hello" is fully opaque.
    // Rows: text, ~, status line, command line.
    let cell_h = plain.height / 4;
    let status = 2 * cell_h + cell_h / 2;
    assert_eq!(alpha(&clear, 5, status), 255, "status line");
    let glyph_opaque = (0..cell_h).any(|y| (10..50).any(|x| alpha(&clear, x, y) == 255));
    assert!(glyph_opaque, "text stays opaque over a clear background");
    let all = snapshot_with("all", "opacity = 0.5\n");
    assert!((127..=128).contains(&alpha(&all, 5, status)), "opacity clears every background");
}

/// A PNG snapshot after `G` in a 30x12 grid of 40 numbered lines, with
/// `extra` arguments before the `--`.
fn slide_snapshot(name: &str, extra: &[&str]) -> vireo::render::offscreen::Image {
    let png = temp(&format!("{name}.png"));
    let args = ["--snapshot", png.to_str().unwrap(), "--grid", "30x12", "--keys", "G"];
    let nvim = ["--", "--clean", "-n", "-c", "call setline(1, range(1, 40))"];
    let out = vireo(&[&args[..], extra, &nvim[..]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let image = vireo::render::offscreen::Image::read_png(&png).unwrap();
    if std::env::var_os("VIREO_KEEP_PNG").is_some() {
        std::fs::copy(&png, format!("/tmp/vireo-{name}.png")).ok();
    }
    std::fs::remove_file(png).ok();
    image
}

#[test]
fn snapshot_at_ms_captures_the_cursor_mid_slide() {
    let first = slide_snapshot("at-0", &["--snapshot-at-ms", "0"]);
    let middle = slide_snapshot("at-75", &["--snapshot-at-ms", "75"]);
    let last = slide_snapshot("at-10000", &["--snapshot-at-ms", "10000"]);
    let toml = temp("no-slide.toml");
    std::fs::write(&toml, "cursor_animation_length = 0\n").unwrap();
    let jumped = slide_snapshot("no-slide", &["--config", toml.to_str().unwrap()]);
    std::fs::remove_file(toml).ok();

    let (cw, ch) = (last.width / 30, last.height / 12);
    // The cursor ends on the last text row (9: the status line and the
    // command line are below), column 0; it set out from row 0.
    let cursor = last.pixel(1, 9 * ch + 1);
    let bg = last.pixel(last.width - 1, 0);
    assert_ne!(cursor, bg, "the cursor block shows at its cell");
    // Pixel rows of column 0 (cell rows `rows`) that are cursor-coloured
    // all across: a block, never a digit's stroke.
    let solid = |img: &vireo::render::offscreen::Image, rows: std::ops::Range<u32>| {
        (rows.start * ch..rows.end * ch).filter(|&y| (0..cw).all(|x| img.pixel(x, y) == cursor)).count()
            as u32
    };
    // The block's own text cuts through some of its rows.
    assert!(solid(&first, 0..1) >= 3, "t = 0: the cursor is still on its old cell");
    assert_eq!(solid(&first, 9..10), 0, "t = 0: not yet on the new one");
    assert_eq!(solid(&last, 0..1), 0, "the end: gone from the old cell");
    assert!(solid(&last, 9..10) >= 3, "the end: on the new cell");
    assert_eq!(solid(&first, 1..9), 0, "t = 0: nothing between");
    assert_eq!(solid(&last, 1..9), 0, "the end: nothing between");
    let between = solid(&middle, 1..9);
    assert!(between >= 2 * ch, "75 ms: the smear spans rows between: {between} pixel rows of {}", 8 * ch);
    assert!(between < 8 * ch, "75 ms: the trailing edge has left the old cell: {between}");
    assert!(last == jumped, "the end of the slide is the frame drawn without one");
}

#[test]
fn snapshot_at_ms_captures_the_bells_flash() {
    let shot = |ms: &str| {
        let png = temp(&format!("bell-{ms}.png"));
        let args = ["--snapshot", png.to_str().unwrap(), "--grid", "30x6", "--keys", "<Esc>"];
        let nvim = ["--", "--clean", "-n", "-c", "set belloff= visualbell"];
        let out = vireo(&[&args[..], &["--snapshot-at-ms", ms], &nvim[..]].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let image = vireo::render::offscreen::Image::read_png(&png).unwrap();
        std::fs::remove_file(png).ok();
        image
    };
    let (ringing, half, after) = (shot("0"), shot("75"), shot("10000"));
    // A blank spot, and how bright it is.
    let level = |img: &vireo::render::offscreen::Image| {
        let (cw, ch) = (img.width / 30, img.height / 6);
        let p = img.pixel(cw * 20, ch + ch / 2);
        p[..3].iter().map(|&c| u32::from(c)).sum::<u32>() / 3
    };
    let (a, b, c) = (level(&ringing), level(&half), level(&after));
    assert!(a > b && b > c, "the flash fades toward the normal screen: {a} {b} {c}");
}
