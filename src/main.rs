//! The `vireo` command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

use vireo::model::compose;
use vireo::nvim::{self, StartOptions, Target};
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::Offscreen;
use vireo::rpc::RequestTable;
use vireo::snapshot::{self, Settle};

/// A GPU-rendered desktop GUI for Neovim.
#[derive(Debug, Parser)]
#[command(name = "vireo", version, about)]
struct Cli {
    /// Files to open.
    files: Vec<PathBuf>,

    /// Arguments passed to nvim as they are (after `--`).
    #[arg(last = true, value_name = "NVIM_ARGS")]
    nvim_args: Vec<String>,

    /// The nvim binary (default: $VIREO_NVIM, else `nvim` on PATH).
    #[arg(long, value_name = "PATH")]
    nvim: Option<PathBuf>,

    /// Connect to a running `nvim --listen ADDR` (unix socket or HOST:PORT)
    /// instead of starting one.
    #[arg(long, value_name = "ADDR", conflicts_with = "nvim")]
    server: Option<String>,

    /// Grid size in cells.
    #[arg(long, value_name = "COLSxROWS", default_value = "100x30", value_parser = parse_size)]
    size: (usize, usize),

    /// Write the composed screen as text to OUT and exit (no window).
    #[arg(long, value_name = "OUT")]
    snapshot_text: Option<PathBuf>,

    /// Render the screen offscreen to a PNG and exit (no window needed).
    #[arg(long, value_name = "OUT.png")]
    snapshot: Option<PathBuf>,

    /// Keys to type (Neovim notation, e.g. `ihello<Esc>`) before a snapshot.
    #[arg(long, value_name = "KEYS")]
    keys: Option<String>,

    /// Save every byte nvim sends to FILE (for bug reports and replay tests).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,

    /// Draw `->`, `!=` and friends as plain characters, never as ligatures.
    #[arg(long)]
    no_ligatures: bool,

    /// Alt (Option) types the characters the keyboard layout composes
    /// instead of acting as Meta (`<M-x>`).
    #[arg(long)]
    alt_composes: bool,

    /// Where the input method (IME) may be used.
    #[arg(long, value_enum, default_value_t = vireo::input::ImePolicy::Typing)]
    ime: vireo::input::ImePolicy,

    /// Snapshots: how long nvim must stay quiet to count as settled.
    #[arg(long, value_name = "MS", default_value_t = 400)]
    settle_ms: u64,
}

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (c, r) = s.split_once(['x', 'X']).ok_or("expected COLSxROWS, e.g. 100x30")?;
    let cols: usize = c.parse().map_err(|_| format!("bad column count '{c}'"))?;
    let rows: usize = r.parse().map_err(|_| format!("bad row count '{r}'"))?;
    if !(1..=1000).contains(&cols) || !(1..=1000).contains(&rows) {
        return Err("columns and rows must be between 1 and 1000".into());
    }
    Ok((cols, rows))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("VIREO_LOG", "warn"))
        .format_timestamp_millis()
        .init();
    let started = Instant::now();
    let cli = Cli::parse();
    match run(cli, started) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("vireo: {}", vireo::util::error_chain(e.as_ref()));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli, started: Instant) -> anyhow::Result<u8> {
    let target = match &cli.server {
        Some(addr) => {
            if !cli.files.is_empty() || !cli.nvim_args.is_empty() {
                bail!("files and nvim arguments cannot be passed with --server; open them from nvim");
            }
            Target::Server(addr.clone())
        }
        None => {
            let binary = cli
                .nvim
                .clone()
                .or_else(|| std::env::var_os("VIREO_NVIM").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("nvim"));
            let mut args = cli.nvim_args.clone();
            args.extend(cli.files.iter().map(|f| f.to_string_lossy().into_owned()));
            Target::Embed { binary, args }
        }
    };
    let (cols, rows) = cli.size;
    let opts = StartOptions {
        target,
        cols,
        rows,
        record: cli.record.clone(),
        requests: RequestTable::default(),
        init_lua: Vec::new(),
        scroll_fill: None,
        wake: None,
    };
    if cli.snapshot_text.is_none() && cli.snapshot.is_none() {
        let settings = vireo::app::Settings {
            ligatures: !cli.no_ligatures,
            alt_is_meta: !cli.alt_composes,
            ime: cli.ime,
        };
        let exit = vireo::app::run(opts, settings, started)?;
        if let Some(message) = exit.message() {
            eprintln!("vireo: {message}");
        }
        return Ok(u8::try_from(exit.status()).unwrap_or(1));
    }
    // Scan fonts while nvim starts: PNG snapshots wait for them anyway.
    let fonts = cli.snapshot.is_some().then(|| std::thread::spawn(|| Fonts::with_system_fonts(1.0)));
    let conn = nvim::start(opts).context("starting nvim")?;
    let settle = Settle { quiet: Duration::from_millis(cli.settle_ms), ..Settle::default() };
    let frame = match snapshot::run(&conn, cli.keys.as_deref(), settle) {
        Ok(frame) => frame,
        Err(e) => {
            if let snapshot::SnapshotError::Exited(exit) = &e {
                // nvim's own failure status is the most useful exit code.
                eprintln!("vireo: {e}");
                return Ok(u8::try_from(exit.status()).ok().filter(|&s| s != 0).unwrap_or(1));
            }
            return Err(e.into());
        }
    };
    conn.stop_recording();
    if let Some(out) = &cli.snapshot_text {
        let text = compose::compose(&frame).text();
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    }
    if let (Some(out), Some(fonts)) = (&cli.snapshot, fonts) {
        let mut fonts = fonts.join().map_err(|_| anyhow::anyhow!("the font scan panicked"))?;
        fonts.ligatures = !cli.no_ligatures;
        let mut offscreen = Offscreen::new(fonts).context("starting the renderer")?;
        let (image, _) = offscreen.render(&frame, CursorState { visible: true }).context("rendering")?;
        image.write_png(out)?;
    }
    conn.shutdown();
    Ok(0)
}
