//! The `vireo` command.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use vireo::cli::{Cli, Loaded};
use vireo::model::compose;
use vireo::nvim::{self, StartOptions, Target};
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::Offscreen;
use vireo::rpc::RequestTable;
use vireo::session::command::Early;
use vireo::settings::{self, GridSize};
use vireo::snapshot::{self, Settle};

fn main() -> ExitCode {
    let started = Instant::now();
    let (cli, matches) = Cli::parse_with_sources();
    if let Some(shell) = cli.print_completions {
        vireo::cli::write_completions(shell, &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    if cli.print_man {
        return match vireo::cli::write_man(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("vireo: writing the man page: {}", vireo::util::io_reason(&e));
                ExitCode::from(1)
            }
        };
    }
    if let Some(conflict) = cli.conflict(&matches) {
        eprintln!("vireo: {conflict}");
        return ExitCode::from(2);
    }
    if cli.snapshot.is_none() && cli.snapshot_text.is_none() {
        // SAFETY: no other thread has started yet.
        unsafe { vireo::render::gpu::rasterise_on_the_queue_thread() };
        // SAFETY: as above.
        #[cfg(all(unix, not(target_os = "macos")))]
        unsafe {
            vireo::input::xim::cache_the_compose_table()
        };
    }
    // SAFETY: no other thread has started yet.
    unsafe { vireo::render::gpu::load_lavapipe_alone_without_a_gpu() };
    let var = |name: &str| std::env::var(name).ok();
    let loaded = cli.settings(&matches, &var);
    if cli.version {
        let text = if cli.verbose {
            let nvim = loaded.settings.neovim_bin.clone().unwrap_or_else(nvim::locate::default_binary);
            vireo::version::verbose(&nvim, &std::env::var_os("PATH").unwrap_or_default())
        } else {
            format!("{}\n", vireo::version::short())
        };
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    let forked = std::env::var_os(FORKED).is_some();
    let loaded = match vireo::session::command::early(&cli, forked) {
        Some(Early::Exit(code)) => return ExitCode::from(code),
        // --remote* found no window to open the files in: this vireo
        // becomes one, in the background for --remote.
        Some(Early::StartWindow { fork }) => {
            Loaded { settings: settings::Settings { fork, ..loaded.settings }, ..loaded }
        }
        None => loaded,
    };
    if loaded.settings.fork && !cli.headless() && !forked {
        return fork();
    }
    if let Err(e) = init_logging(loaded.settings.log_file.as_deref()) {
        eprintln!("vireo: {e:#}");
        return ExitCode::from(1);
    }
    for problem in &loaded.problems {
        log::warn!("{problem}");
    }
    if let Some(path) = &cli.trace
        && let Err(e) = vireo::trace::start(path, started)
    {
        log::warn!("--trace {}: {}", path.display(), vireo::util::io_reason(&e));
    }
    match run(cli, matches, loaded, started) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("vireo: {}", vireo::util::error_chain(e.as_ref()));
            ExitCode::from(1)
        }
    }
}

/// Set in the environment of the vireo that `--fork` starts.
const FORKED: &str = "VIREO_FORKED";
/// What that vireo prints on its standard output once nvim is attached.
const ATTACHED: &str = "vireo: attached";

/// `--fork`: runs vireo again as a detached process (its own session, no
/// terminal input) and returns once it has attached to nvim, or with its
/// status and its own message if it failed before that.
fn fork() -> ExitCode {
    use std::io::BufRead;
    let started = std::env::current_exe().and_then(|exe| {
        let mut cmd = std::process::Command::new(exe);
        for name in vireo::own_env::variables() {
            cmd.env_remove(name);
        }
        cmd.args(std::env::args_os().skip(1))
            .env(FORKED, "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: setsid(2) is async-signal-safe and touches nothing of
            // the parent's; it only makes the child a session leader, so
            // closing the terminal does not take the window with it.
            unsafe {
                cmd.pre_exec(|| {
                    libc::setsid();
                    Ok(())
                });
            }
        }
        cmd.spawn()
    });
    let mut child = match started {
        Ok(child) => child,
        Err(e) => {
            eprintln!("vireo: could not start a detached vireo: {}", vireo::util::io_reason(&e));
            return ExitCode::from(1);
        }
    };
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        // End of file without the line: it ended before attaching.
        std::io::BufReader::new(out).read_line(&mut line).ok();
    }
    if line.trim_end() == ATTACHED {
        return ExitCode::SUCCESS;
    }
    match child.wait() {
        Ok(status) => {
            ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).filter(|&c| c != 0).unwrap_or(1))
        }
        Err(e) => {
            eprintln!("vireo: the detached vireo was lost: {}", vireo::util::io_reason(&e));
            ExitCode::from(1)
        }
    }
}

/// In the vireo `--fork` started: tells the waiting parent that nvim is
/// attached, then lets go of the pipe (the parent exits).
fn tell_parent() {
    use std::io::Write;
    let mut out = std::io::stdout();
    if writeln!(out, "{ATTACHED}").and_then(|()| out.flush()).is_err() {
        log::warn!("the parent of --fork is gone");
    }
    #[cfg(unix)]
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 on two open descriptors: stdout now goes to
        // /dev/null, so a later print cannot fail on the closed pipe.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}

/// Sets `g:vireo*`, watches `g:vireo_*` and defines `:VireoConfig`.
fn settings_lua(cli: &Cli, config: Option<&std::path::Path>) -> nvim::LuaChunk {
    let config = match (config, cli.no_config) {
        (_, true) => None,
        (Some(path), false) => Some(path.to_owned()),
        (None, false) => settings::file::default_path(|name| std::env::var(name).ok()),
    };
    let config = config.map_or(rmpv::Value::Nil, |p| p.to_string_lossy().into_owned().into());
    let args = vec![env!("CARGO_PKG_VERSION").into(), config, settings::live::template().into()];
    nvim::LuaChunk::new(settings::live::INIT_LUA, args)
}

/// Sets 'background' per the theme knob before the user's config runs; a
/// running server's session keeps its own unless the knob names one.
fn theme_lua(settings: &settings::Settings, target: &nvim::Target) -> Option<nvim::LuaChunk> {
    use settings::Theme;
    let (background, follow) = match (settings.theme, target) {
        (Theme::Light, _) => ("light", false),
        (Theme::Dark, _) => ("dark", false),
        // Until the desktop says otherwise (winit reports no preference on X11).
        (Theme::Auto, nvim::Target::Embed { .. }) => ("dark", true),
        (Theme::Auto, nvim::Target::Server(_)) => return None,
    };
    Some(nvim::LuaChunk::new(settings::live::THEME_LUA, vec![background.into(), follow.into()]))
}

/// `VIREO_LOG` sets the level (default: warnings); `--log-file` the place.
fn init_logging(file: Option<&std::path::Path>) -> anyhow::Result<()> {
    let mut logger = env_logger::Builder::from_env(env_logger::Env::new().filter_or("VIREO_LOG", "warn"));
    logger.format_timestamp_millis();
    if let Some(path) = file {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the log file {}", path.display()))?;
        logger.target(env_logger::Target::Pipe(Box::new(out)));
    }
    logger.init();
    Ok(())
}

fn run(cli: Cli, matches: clap::ArgMatches, loaded: Loaded, started: Instant) -> anyhow::Result<u8> {
    let settings = loaded.settings;
    if let Some(dir) = &settings.chdir {
        std::env::set_current_dir(dir).with_context(|| format!("--chdir {}", dir.display()))?;
    }
    let target = match (vireo::session::command::target(&cli, &settings)?, &cli.server) {
        (Some(target), _) => target,
        (None, Some(addr)) => {
            if !cli.files.is_empty() || !cli.nvim_args.is_empty() {
                bail!("files and nvim arguments cannot be passed with --server; open them from nvim");
            }
            Target::Server(addr.clone())
        }
        (None, None) => {
            let binary = settings.neovim_bin.clone().unwrap_or_else(nvim::locate::default_binary);
            let mut args = cli.nvim_args.clone();
            args.extend(cli.files.iter().map(|f| f.to_string_lossy().into_owned()));
            Target::Embed { binary, args }
        }
    };
    let grid = settings.grid.unwrap_or(GridSize { cols: 100, rows: 30 });
    let (cols, rows) = (grid.cols, grid.rows);
    // The close prompt of sessions, --remote-wait's bookkeeping.
    let session_lua = nvim::LuaChunk::new(vireo::session::SESSION_LUA, vec![]);
    let init_lua = std::iter::once(settings_lua(&cli, loaded.config.as_deref()))
        .chain(theme_lua(&settings, &target))
        .chain(std::iter::once(session_lua))
        .collect();
    let windowed = cli.snapshot_text.is_none() && cli.snapshot.is_none();
    let (requests, control_problem) = match windowed {
        true => vireo::session::command::control(&cli, RequestTable::default()),
        false => (RequestTable::default(), None),
    };
    let problems: Vec<String> = loaded.problems.into_iter().chain(control_problem).collect();
    let opts = StartOptions {
        target,
        cols,
        rows,
        record: cli.record.clone(),
        requests,
        init_lua,
        scroll_fill: None,
        wake: None,
    };
    if windowed {
        let config = loaded.config.clone().map(|path| {
            let reload: vireo::app::Reload = Box::new(move || {
                let again = cli.settings(&matches, &|name: &str| std::env::var(name).ok());
                (again.settings, again.problems)
            });
            (path, reload)
        });
        let on_attached =
            std::env::var_os(FORKED).is_some().then(|| Box::new(tell_parent) as Box<dyn FnOnce()>);
        let exit = vireo::app::run(opts, settings, problems, config, on_attached, started);
        vireo::session::command::control_done();
        let exit = exit?;
        if let Some(message) = exit.message() {
            eprintln!("vireo: {message}");
        }
        return Ok(u8::try_from(exit.status()).unwrap_or(1));
    }
    // Scan fonts while nvim starts: PNG snapshots wait for them anyway.
    let fonts = cli.snapshot.is_some().then(|| std::thread::spawn(|| Fonts::with_system_fonts(1.0)));
    let conn = nvim::start(opts).context("starting nvim")?;
    conn.echo_errors(&problems);
    let settle = Settle { quiet: Duration::from_millis(cli.settle_ms), ..Settle::default() };
    let screens = match snapshot::run_screens(&conn, cli.keys.as_deref(), settle) {
        Ok(screens) => screens,
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
    let frame = &screens.last;
    if let Some(out) = &cli.snapshot_text {
        let text = compose::compose(frame).text();
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    }
    if let (Some(out), Some(fonts)) = (&cli.snapshot, fonts) {
        let mut fonts = fonts.join().map_err(|_| anyhow::anyhow!("the font scan panicked"))?;
        fonts.ligatures = settings.ligatures;
        fonts.set_config(&settings.font);
        fonts.set_scale(settings.scale_factor.0);
        let mut offscreen = Offscreen::new(fonts).context("starting the renderer")?;
        offscreen.renderer.padding = settings.padding();
        offscreen.renderer.opacity = settings.opacity();
        offscreen.renderer.depth = settings.depth();
        if let Some(ms) = cli.snapshot_at_ms {
            animate_at(&mut offscreen, &screens, &settings, Duration::from_millis(ms))?;
        }
        let (image, _) = offscreen.render(frame, CursorState { visible: true }).context("rendering")?;
        image.write_png(out)?;
    }
    conn.shutdown();
    Ok(0)
}

/// `--snapshot-at-ms`: sets `renderer` up to draw the last screen `at` into
/// the animations that the change from the screen before the keys starts,
/// on a stepped clock: the cursor's slide from its old cell with its
/// particle effects, the windows' scrolls and moves (both screens are
/// drawn, so the layers hold what the slides show), and the bell's flash
/// when the keys rang it.
fn animate_at(
    offscreen: &mut Offscreen,
    screens: &snapshot::Screens,
    s: &settings::Settings,
    at: Duration,
) -> anyhow::Result<()> {
    use vireo::render::cursor_motion::{CursorMotion, MotionKnobs, Target};
    use vireo::render::vfx::{self, Vfx, VfxKnobs};
    let start = Instant::now();
    let hidden = CursorState { visible: false };
    offscreen.renderer.slides = vireo::render::SlideKnobs::from_settings(s);
    offscreen.renderer.now = start;
    offscreen.render(&screens.before, hidden).context("rendering")?;
    offscreen.render(&screens.last, hidden).context("rendering")?;
    offscreen.renderer.now = start + at;
    let renderer = &mut offscreen.renderer;
    let m = renderer.metrics();
    let knobs = MotionKnobs::from_settings(s);
    let mut motion = CursorMotion::default();
    motion.retarget(Target::of(&screens.before, m), start, &knobs);
    motion.retarget(Target::of(&screens.last, m), start, &knobs);
    renderer.cursor_smear = motion.quad(start + at);
    renderer.cursor_antialiasing = s.cursor_antialiasing;
    let effects = VfxKnobs::from_settings(s);
    let mut particles = Vfx::default();
    particles.retarget(Target::of(&screens.before, m), start, m, &effects, &knobs);
    particles.retarget(Target::of(&screens.last, m), start, m, &effects, &knobs);
    let sprites = particles.sprites(start + at, effects.opacity);
    renderer.cursor_vfx = vfx::rects(&sprites, vfx::cursor_color(&screens.last, m));
    let mut flash = vireo::render::flash::Flash::default();
    let (before, last) = (&screens.before, &screens.last);
    flash.ring(before.bells, before.visual_bells, start, s.visual_bell);
    flash.ring(last.bells, last.visual_bells, start, s.visual_bell);
    renderer.flash = flash.strength(start + at);
    Ok(())
}
