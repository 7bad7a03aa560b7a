//! The command line, and how it and the other layers make [`Settings`].
//!
//! Every flag that sets a knob also reads `VIREO_<NAME>` (shown in
//! `--help`); such values rank below the config file, as the environment
//! does for every knob, and flags typed on the command line rank above it.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

use crate::input::ImePolicy;
use crate::settings::file::{self, FileError};
use crate::settings::{self, GridSize, PixelSize, Settings, WindowFrame};

/// A GPU-rendered desktop GUI for Neovim.
#[derive(Debug, Parser)]
#[command(name = "vireo", version, disable_version_flag = true, about, max_term_width = 100)]
pub struct Cli {
    /// Files to open.
    pub files: Vec<PathBuf>,

    /// Arguments passed to nvim as they are (after `--`).
    #[arg(last = true, value_name = "NVIM_ARGS")]
    pub nvim_args: Vec<String>,

    /// The nvim binary [default: nvim on PATH].
    #[arg(
        long,
        visible_alias = "neovim-bin",
        value_name = "PATH",
        env = "VIREO_NVIM",
        help_heading = "Process"
    )]
    pub nvim: Option<PathBuf>,

    /// Connect to a running `nvim --listen ADDR` (unix socket or HOST:PORT)
    /// instead of starting one.
    #[arg(long, value_name = "ADDR", help_heading = "Process")]
    pub server: Option<String>,

    /// Attach to session NAME, starting its nvim (headless, outliving the
    /// window) if it does not run; FILES open in it. See README: Sessions.
    #[arg(long, value_name = "NAME", help_heading = "Sessions")]
    pub session: Option<String>,

    /// List the running sessions and exit.
    #[arg(long, help_heading = "Sessions")]
    pub sessions: bool,

    /// Quit session NAME as `:confirm qa` would: refused while buffers
    /// are modified, unless --force.
    #[arg(long, value_name = "NAME", help_heading = "Sessions")]
    pub kill_session: Option<String>,

    /// With --kill-session: quit even with unsaved changes (they are lost).
    #[arg(long, requires = "kill_session", help_heading = "Sessions")]
    pub force: bool,

    /// Open FILES in the vireo window focused last (or --session NAME's),
    /// relative to this directory, and raise it; start one if none runs.
    #[arg(long, help_heading = "Sessions")]
    pub remote: bool,

    /// Like --remote, then wait until those buffers are closed: exit 0, or
    /// 2 if one was abandoned (:VireoAbort), 1 if the window ended first.
    /// For EDITOR and git's core.editor.
    #[arg(long, conflicts_with = "remote", help_heading = "Sessions")]
    pub remote_wait: bool,

    /// Type KEYS (nvim notation) into the vireo window focused last.
    #[arg(long, value_name = "KEYS", help_heading = "Sessions")]
    pub remote_send: Option<String>,

    /// Evaluate EXPR in the vireo window focused last's nvim and print it.
    #[arg(long, value_name = "EXPR", help_heading = "Sessions")]
    pub remote_expr: Option<String>,

    /// Return to the shell once nvim is attached, leaving the window open
    /// (a missing nvim or a bad flag is still reported here).
    #[arg(long, overrides_with = "no_fork", env = "VIREO_FORK", help_heading = "Process")]
    pub fork: bool,

    /// Stay in the foreground until nvim exits, and exit with its status
    /// (the default: `EDITOR=vireo` and `git commit` work).
    #[arg(long, overrides_with = "fork", help_heading = "Process")]
    pub no_fork: bool,

    /// Start in DIR (files and nvim's working directory are relative to it).
    #[arg(long, value_name = "DIR", env = "VIREO_CHDIR", help_heading = "Process")]
    pub chdir: Option<PathBuf>,

    /// Write vireo's log to FILE instead of stderr ($VIREO_LOG sets the level).
    #[arg(long, value_name = "FILE", env = "VIREO_LOG_FILE", help_heading = "Process")]
    pub log_file: Option<PathBuf>,

    /// Read settings from FILE [default: $XDG_CONFIG_HOME/vireo/config.toml].
    #[arg(long, value_name = "FILE", env = "VIREO_CONFIG", help_heading = "Process")]
    pub config: Option<PathBuf>,

    /// Read no config file (not even --config or $VIREO_CONFIG).
    #[arg(long, help_heading = "Process")]
    pub no_config: bool,

    /// Save every byte nvim sends to FILE (for bug reports and replay tests).
    #[arg(long, value_name = "FILE", help_heading = "Process")]
    pub record: Option<PathBuf>,

    /// Write the times of start-up stages and of each key's way to the
    /// screen to FILE (see the README's performance section).
    #[arg(long, value_name = "FILE", env = "VIREO_TRACE", help_heading = "Process")]
    pub trace: Option<PathBuf>,

    /// The window's size in cells [default: 100x30].
    #[arg(long, value_name = "COLSxROWS", env = "VIREO_GRID", value_parser = settings::parse_grid, help_heading = "Window")]
    pub grid: Option<GridSize>,

    /// The window's size in pixels (`--grid` wins when both are given).
    #[arg(long, value_name = "WxH", env = "VIREO_SIZE", value_parser = settings::parse_pixels, help_heading = "Window")]
    pub size: Option<PixelSize>,

    /// Start maximized.
    #[arg(long, env = "VIREO_MAXIMIZED", help_heading = "Window")]
    pub maximized: bool,

    /// Start in full screen.
    #[arg(long, env = "VIREO_FULLSCREEN", help_heading = "Window")]
    pub fullscreen: bool,

    /// Window decorations.
    #[arg(long, value_enum, value_name = "FRAME", env = "VIREO_FRAME", help_heading = "Window")]
    pub frame: Option<WindowFrame>,

    /// The X11 WM_CLASS (class and instance) of the window [default: io.github.vireo.Vireo].
    #[arg(long, value_name = "CLASS", env = "VIREO_X11_WM_CLASS", help_heading = "Window")]
    pub x11_wm_class: Option<String>,

    /// The Wayland app id of the window [default: io.github.vireo.Vireo].
    #[arg(long, value_name = "ID", env = "VIREO_WAYLAND_APP_ID", help_heading = "Window")]
    pub wayland_app_id: Option<String>,

    /// Where the input method (IME) may be used [default: typing].
    #[arg(long, value_enum, value_name = "WHERE", env = "VIREO_INPUT_IME", help_heading = "Input")]
    pub ime: Option<ImePolicy>,

    /// Alt (Option) types the characters the keyboard layout composes
    /// instead of acting as Meta (`<M-x>`); input_alt_is_meta = "none".
    #[arg(long, env = "VIREO_ALT_COMPOSES", help_heading = "Input")]
    pub alt_composes: bool,

    /// Draw `->`, `!=` and friends as plain characters, never as ligatures.
    #[arg(long, env = "VIREO_NO_LIGATURES", help_heading = "Rendering")]
    pub no_ligatures: bool,

    /// Show frames as soon as they are drawn instead of waiting for the
    /// display's refresh (swapchain presentation only).
    #[arg(long, env = "VIREO_NO_VSYNC", help_heading = "Rendering")]
    pub no_vsync: bool,

    /// Keep drawing frames at refresh_rate even when nothing changes.
    #[arg(long, env = "VIREO_NO_IDLE", help_heading = "Rendering")]
    pub no_idle: bool,

    /// nvim's 'background' at start [default: auto: the desktop's, else dark].
    #[arg(long, value_enum, value_name = "THEME", env = "VIREO_THEME", help_heading = "Rendering")]
    pub theme: Option<settings::Theme>,

    /// Write the composed screen as text to OUT and exit (no window).
    #[arg(long, value_name = "OUT", help_heading = "Headless")]
    pub snapshot_text: Option<PathBuf>,

    /// Render the screen offscreen to a PNG and exit (no window needed).
    #[arg(long, value_name = "OUT.png", help_heading = "Headless")]
    pub snapshot: Option<PathBuf>,

    /// Keys to type (Neovim notation, e.g. `ihello<Esc>`) before a snapshot.
    #[arg(long, value_name = "KEYS", help_heading = "Headless")]
    pub keys: Option<String>,

    /// Snapshots: how long nvim must stay quiet to count as settled.
    #[arg(long, value_name = "MS", default_value_t = 400, help_heading = "Headless")]
    pub settle_ms: u64,

    /// With --snapshot: draw the frame MS milliseconds into the animations
    /// the last keys started (the cursor slide, the bell's flash), on a
    /// stepped clock.
    #[arg(long, value_name = "MS", requires = "snapshot", help_heading = "Headless")]
    pub snapshot_at_ms: Option<u64>,

    /// Print a completion script for SHELL (bash, zsh, fish, ...) and exit.
    #[arg(long, value_name = "SHELL", help_heading = "Other")]
    pub print_completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) and exit.
    #[arg(long, help_heading = "Other")]
    pub print_man: bool,

    /// Print the version and the commit it was built from, and exit.
    #[arg(short = 'V', long, help_heading = "Other")]
    pub version: bool,

    /// With --version: also the target, the GPU backends built in and the
    /// nvim vireo would start, with its version (for bug reports).
    #[arg(long, requires = "version", help_heading = "Other")]
    pub verbose: bool,
}

/// Writes the completion script for `shell`, generated from the flags.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Cli::command(), "vireo", out);
}

/// Writes the man page, generated from the flags.
pub fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// The settings every layer made, and what went wrong on the way (vireo
/// starts anyway; the app shows these in nvim).
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    /// The config file read, if any.
    pub config: Option<PathBuf>,
    pub problems: Vec<String>,
}

impl Cli {
    /// Parses the process's arguments, exiting with clap's message (status
    /// 2) on a bad flag; also returns where each value came from.
    pub fn parse_with_sources() -> (Cli, ArgMatches) {
        let matches = Cli::command().get_matches();
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        (cli, matches)
    }

    /// Flags that make no sense together, typed on one command line.
    pub fn conflict(&self, matches: &ArgMatches) -> Option<&'static str> {
        let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        if self.server.is_some() && typed("nvim") {
            return Some("--server connects to a running nvim: --nvim cannot be used with it");
        }
        (self.server.is_some() && self.session.is_some())
            .then_some("--server and --session both name the nvim to attach to: give one")
    }

    /// Whether this run is headless (a snapshot): those ignore the config
    /// file unless `--config` names one.
    pub fn headless(&self) -> bool {
        self.snapshot.is_some() || self.snapshot_text.is_some()
    }

    /// Builds the settings: defaults, then the environment, the config file
    /// and the command line, each over the one before.
    pub fn settings(&self, matches: &ArgMatches, var: &dyn Fn(&str) -> Option<String>) -> Loaded {
        let mut settings = Settings::default();
        let mut problems: Vec<String> =
            settings.apply_env(var).into_iter().map(|(env, e)| format!("${env}: {e}")).collect();
        // Flags given through their environment variable: the env layer.
        self.apply_flags(matches, &mut settings, |source| source == ValueSource::EnvVariable);
        let config = match (&self.config, self.no_config) {
            (_, true) => None,
            (Some(path), false) => Some(path.clone()),
            (None, false) if self.headless() => None,
            (None, false) => file::default_path(var),
        };
        if let Some(path) = &config {
            problems.extend(file::load(path, &mut settings).iter().map(FileError::to_string));
        }
        // Typed on the command line: over the file.
        self.apply_flags(matches, &mut settings, |source| source == ValueSource::CommandLine);
        Loaded { settings, config, problems }
    }

    /// Copies the flags whose value came from a source `from` accepts.
    fn apply_flags(&self, matches: &ArgMatches, s: &mut Settings, from: impl Fn(ValueSource) -> bool) {
        let given = |id: &str| matches.value_source(id).is_some_and(&from);
        if given("nvim") {
            s.neovim_bin = self.nvim.clone();
        }
        if given("fork") && self.fork {
            s.fork = true;
        }
        if given("no_fork") && self.no_fork {
            s.fork = false;
        }
        if given("chdir") {
            s.chdir = self.chdir.clone();
        }
        if given("log_file") {
            s.log_file = self.log_file.clone();
        }
        if given("grid") {
            s.grid = self.grid;
        }
        if given("size") {
            s.size = self.size;
        }
        if given("maximized") {
            s.maximized = self.maximized;
        }
        if given("fullscreen") {
            s.fullscreen = self.fullscreen;
        }
        if let Some(frame) = self.frame.filter(|_| given("frame")) {
            s.frame = frame;
        }
        if let Some(class) = self.x11_wm_class.clone().filter(|_| given("x11_wm_class")) {
            s.x11_wm_class = class;
        }
        if let Some(id) = self.wayland_app_id.clone().filter(|_| given("wayland_app_id")) {
            s.wayland_app_id = id;
        }
        if let Some(ime) = self.ime.filter(|_| given("ime")) {
            s.input_ime = ime;
        }
        if given("alt_composes") && self.alt_composes {
            s.input_alt_is_meta = settings::AltIsMeta::None;
        }
        if given("no_ligatures") && self.no_ligatures {
            s.ligatures = false;
        }
        if given("no_vsync") && self.no_vsync {
            s.vsync = false;
        }
        if given("no_idle") && self.no_idle {
            s.idle = false;
        }
        if let Some(theme) = self.theme.filter(|_| given("theme")) {
            s.theme = theme;
        }
    }
}
