//! vireo's settings: one typed struct, every knob in it once with its
//! default, its doc line and the layers that may set it.
//!
//! ```text
//!   built-in default  <  VIREO_* environment  <  config.toml  <  command line
//!        (Default)         (env layer)            (file layer)     (cli layer)
//! ```
//!
//! Each layer writes into the same [`Settings`] through [`Settings::set`],
//! so a knob parses and checks its value one way whatever wrote it, and a
//! bad value names the knob and what it expected. Nothing else in vireo
//! reads raw variables.

pub mod file;
pub mod font;
pub mod live;
pub mod state;
pub mod watch;

use std::path::PathBuf;

use serde::Deserialize;

use crate::input::ImePolicy;
use crate::render::vfx::VfxModes;

/// Where a value came from; errors and `--help` say it in these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Env,
    File,
    Cli,
}

/// One knob as users see it: its name, what it means and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knob {
    /// The name in `config.toml`; `VIREO_<NAME>` in the environment.
    pub name: &'static str,
    pub doc: &'static str,
    /// The default as it is written in `config.toml` ("" when unset).
    pub default: &'static str,
}

/// Why a value was refused; the knob keeps its previous value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting '{0}'")]
    Unknown(String),
    #[error("'{name}' expects {expected}: {reason}")]
    BadValue { name: String, expected: &'static str, reason: String },
}

/// How Alt (Option) behaves: as Meta (`<M-x>`) or composing characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AltIsMeta {
    /// Both Alt keys are Meta.
    #[default]
    Both,
    /// Left Alt is Meta, right Alt composes (AltGr-like layouts).
    OnlyLeft,
    /// Right Alt is Meta, left Alt composes.
    OnlyRight,
    /// Alt composes the characters the layout gives it.
    None,
}

impl AltIsMeta {
    /// Whether an Alt press counts as Meta; winit on X11 does not tell the
    /// two Alt keys apart in modifiers, so the sided values count as Meta.
    pub fn any(self) -> bool {
        self != AltIsMeta::None
    }
}

/// A size in grid cells (`--grid 100x30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridSize {
    pub cols: usize,
    pub rows: usize,
}

/// A size in pixels (`--size 900x600`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelSize {
    pub width: u32,
    pub height: u32,
}

/// vireo's reverse-DNS application id: the desktop entry's and the
/// AppStream metainfo's name, the macOS bundle id, and the default X11
/// WM_CLASS and Wayland app id, so desktops match the window to its entry.
/// Every packaging file spells it the same (tests/packaging.rs).
pub const APP_ID: &str = "io.github.vireo.Vireo";

/// The largest grid side vireo accepts, in cells.
pub const MAX_GRID_SIDE: usize = 1000;
/// Windows narrower or lower than this are not a usable editor.
pub const MIN_PIXELS: u32 = 100;

/// Parses `COLSxROWS`.
pub fn parse_grid(s: &str) -> Result<GridSize, String> {
    let (c, r) = s.split_once(['x', 'X']).ok_or("expected COLSxROWS, e.g. 100x30")?;
    let cols: usize = c.trim().parse().map_err(|_| format!("bad column count '{c}'"))?;
    let rows: usize = r.trim().parse().map_err(|_| format!("bad row count '{r}'"))?;
    if !(1..=MAX_GRID_SIDE).contains(&cols) || !(1..=MAX_GRID_SIDE).contains(&rows) {
        return Err(format!("columns and rows must be between 1 and {MAX_GRID_SIDE}"));
    }
    Ok(GridSize { cols, rows })
}

/// Parses `WIDTHxHEIGHT` in pixels, refusing what is clearly a cell count
/// from vireo's old `--size COLSxROWS` (it would open a tiny window).
pub fn parse_pixels(s: &str) -> Result<PixelSize, String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or("expected WIDTHxHEIGHT in pixels, e.g. 900x600")?;
    let width: u32 = w.trim().parse().map_err(|_| format!("bad width '{w}'"))?;
    let height: u32 = h.trim().parse().map_err(|_| format!("bad height '{h}'"))?;
    if width < MIN_PIXELS || height < MIN_PIXELS {
        return Err(format!(
            "{width}x{height} pixels is too small for a window; --size is in pixels now: \
             for a size in cells use --grid {width}x{height}"
        ));
    }
    if width > 16384 || height > 16384 {
        return Err(format!("{width}x{height} pixels is larger than any screen"));
    }
    Ok(PixelSize { width, height })
}

impl<'de> Deserialize<'de> for GridSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_grid(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for PixelSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_pixels(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Defines [`Settings`], its defaults, [`KNOBS`] and [`Settings::set`] from
/// one list, so a knob cannot have a field without a name or a doc.
macro_rules! knobs {
    ($( #[doc = $doc:literal] $field:ident : $ty:ty = $default:expr, $name:literal, $expected:literal, $shown:literal; )*) => {
        /// Every knob, with the value in force.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $( #[doc = $doc] pub $field: $ty, )*
            /// The `[font]` table (a table, not a knob: no `VIREO_*` or `g:` form).
            pub font: font::FontSettings,
        }

        impl Default for Settings {
            fn default() -> Self {
                Settings { $( $field: $default, )* font: font::FontSettings::default() }
            }
        }

        /// Every knob, in the order `--help` and the README list them.
        pub const KNOBS: &[Knob] = &[
            $( Knob { name: $name, doc: $doc.trim_ascii(), default: $shown }, )*
        ];

        impl Settings {
            fn set_knob(&mut self, name: &str, value: toml::Value) -> Result<(), SettingError> {
                match name {
                    $( $name => self.$field = parse(name, $expected, value)?, )*
                    _ => return Err(SettingError::Unknown(name.to_owned())),
                }
                Ok(())
            }
        }
    };
}

knobs! {
    /// The nvim binary to start (`--nvim`, `--neovim-bin`).
    neovim_bin: Option<PathBuf> = None, "neovim-bin", "a path", "";
    /// Detach from the terminal once nvim is attached (`--fork`; `--no-fork` is the default, so `EDITOR=vireo` works).
    fork: bool = false, "fork", "true or false", "false";
    /// Start nvim in this directory (`--chdir`).
    chdir: Option<PathBuf> = None, "chdir", "a path", "";
    /// Append vireo's log to this file instead of stderr (`--log-file`).
    log_file: Option<PathBuf> = None, "log-file", "a path", "";
    /// The program that opens links (Ctrl+click), given the URL as its only argument; unset, the platform's (`xdg-open`, macOS `open`, Windows' URL handler).
    url_opener: Option<PathBuf> = None, "url_opener", "a path", "";
    /// The window's first size in cells (`--grid`).
    grid: Option<GridSize> = None, "grid", "a size in cells such as \"100x30\"", "\"100x30\"";
    /// The window's first size in pixels (`--size`); `grid` wins over it.
    size: Option<PixelSize> = None, "size", "a size in pixels such as \"900x600\"", "";
    /// Start maximized (`--maximized`).
    maximized: bool = false, "maximized", "true or false", "false";
    /// Start in full screen (`--fullscreen`).
    fullscreen: bool = false, "fullscreen", "true or false", "false";
    /// Window decorations: "full" or "none" (`--frame`).
    frame: WindowFrame = WindowFrame::Full, "frame", "\"full\" or \"none\"", "\"full\"";
    /// The X11 WM_CLASS of the window (`--x11-wm-class`).
    x11_wm_class: String = APP_ID.into(), "x11-wm-class", "a string", "\"io.github.vireo.Vireo\"";
    /// The Wayland app id of the window (`--wayland-app-id`).
    wayland_app_id: String = APP_ID.into(), "wayland-app-id", "a string", "\"io.github.vireo.Vireo\"";
    /// Where the input method may be used: "typing", "always" or "off" (`--ime`).
    input_ime: ImePolicy = ImePolicy::Typing, "input_ime", "\"typing\", \"always\" or \"off\"", "\"typing\"";
    /// Which Alt keys act as Meta: "both", "only_left", "only_right" or "none" (`--alt-composes` is "none").
    input_alt_is_meta: AltIsMeta = AltIsMeta::Both, "input_alt_is_meta", "\"both\", \"only_left\", \"only_right\" or \"none\"", "\"both\"";
    /// Open the window at the size it had when vireo last closed (unless `grid`, `size` or `maximized` is set).
    remember_window_size: bool = true, "remember_window_size", "true or false", "true";
    /// Open the window where it was when vireo last closed, if that place is still on a screen.
    remember_window_position: bool = true, "remember_window_position", "true or false", "true";
    /// Form ligatures such as `->` and `!=` (`--no-ligatures` turns them off).
    ligatures: bool = true, "ligatures", "true or false", "true";
    /// Multiplies the font size (and so the cells) on top of the screen's own scale.
    scale_factor: Factor = Factor(1.0), "scale_factor", "a number from 0.1 to 10", "1.0";
    /// Empty space in pixels above the grid, filled with the Normal background.
    padding_top: u32 = 0, "padding_top", "a number of pixels (0 or more)", "0";
    /// Empty space in pixels below the grid.
    padding_bottom: u32 = 0, "padding_bottom", "a number of pixels (0 or more)", "0";
    /// Empty space in pixels left of the grid.
    padding_left: u32 = 0, "padding_left", "a number of pixels (0 or more)", "0";
    /// Empty space in pixels right of the grid.
    padding_right: u32 = 0, "padding_right", "a number of pixels (0 or more)", "0";
    /// How opaque every background is, from 0 (clear) to 1; text stays opaque. Needs a compositor (see the README).
    opacity: Fraction = Fraction(1.0), "opacity", "a number from 0 to 1", "1.0";
    /// How opaque the Normal background is, times `opacity`.
    normal_opacity: Fraction = Fraction(1.0), "normal_opacity", "a number from 0 to 1", "1.0";
    /// Floating windows cast a soft shadow on what lies under them.
    floating_shadow: bool = true, "floating_shadow", "true or false", "true";
    /// How high floating windows hover over the grid, in pixels: a higher float casts its shadow farther and softer (0: no shadow).
    floating_z_height: Pixels = Pixels(10.0), "floating_z_height", "a number of pixels from 0 to 100", "10.0";
    /// The light's angle from straight in front of the screen, tilted toward its top, in degrees: 0 puts shadows right under floats, larger angles cast them farther down.
    light_angle_degrees: Degrees = Degrees(45.0), "light_angle_degrees", "a number of degrees from 0 to 80", "45.0";
    /// The light's radius: a bigger light gives shadows softer edges.
    light_radius: Pixels = Pixels(5.0), "light_radius", "a number of pixels from 0 to 100", "5.0";
    /// Round floating windows' corners, the radius this fraction of a line's height (0: square).
    floating_corner_radius: Fraction = Fraction(0.0), "floating_corner_radius", "a number from 0 to 1", "0.0";
    /// Blur what shows through a translucent floating window (`winblend`, `opacity`) across by this many pixels (0: sharp).
    floating_blur_amount_x: BlurAmount = BlurAmount(2.0), "floating_blur_amount_x", "a number of pixels from 0 to 20", "2.0";
    /// Blur what shows through a translucent floating window down by this many pixels (0: sharp).
    floating_blur_amount_y: BlurAmount = BlurAmount(2.0), "floating_blur_amount_y", "a number of pixels from 0 to 20", "2.0";
    /// Closing the window asks nvim to quit with `:confirm qa` (a dialog for unsaved buffers); off, with `:qa`, which refuses and says which buffers are unsaved.
    confirm_quit: bool = true, "confirm_quit", "true or false", "true";
    /// Closing the window of a running nvim (`--session`, `--server`): "always_quit" quits it (as `confirm_quit` says), "always_detach" leaves it running with everything unsaved, "prompt" has nvim ask "Detach or quit?".
    detach_on_quit: crate::session::DetachOnQuit = crate::session::DetachOnQuit::Prompt, "detach_on_quit", "\"always_quit\", \"always_detach\" or \"prompt\"", "\"prompt\"";
    /// Most frames per second: what nvim sends (bursts are drawn together), and animations with the focus; unset, the display's refresh rate where it reports one, else 60.
    refresh_rate: Option<Rate> = None, "refresh_rate", "a number of frames per second from 1 to 1000", "";
    /// Most frames per second of animations (and `--no-idle`) while the window does not have the focus.
    refresh_rate_idle: Rate = Rate(5), "refresh_rate_idle", "a number of frames per second from 1 to 1000", "5";
    /// Wait for the display's refresh before showing a frame (`--no-vsync` turns it off; swapchain only).
    vsync: bool = true, "vsync", "true or false", "true";
    /// Draw only when something changed (`--no-idle` keeps drawing at `refresh_rate`).
    idle: bool = true, "idle", "true or false", "true";
    /// nvim's 'background' at start: "auto" follows the desktop where it says (dark where it does not), "light" or "dark".
    theme: Theme = Theme::Auto, "theme", "\"auto\", \"light\" or \"dark\"", "\"auto\"";
    /// Seconds the cursor takes to slide to a new cell (0: it jumps).
    cursor_animation_length: Seconds = Seconds(0.15), "cursor_animation_length", "a number of seconds from 0 to 10", "0.15";
    /// Seconds of the slide for a move of one cell while typing in insert mode.
    cursor_short_animation_length: Seconds = Seconds(0.04), "cursor_short_animation_length", "a number of seconds from 0 to 10", "0.04";
    /// How far the moving cursor's trailing corners lag behind its leading ones, from 0 (a sliding block) to 1 (a long smear).
    cursor_trail_size: Fraction = Fraction(0.8), "cursor_trail_size", "a number from 0 to 1", "0.8";
    /// Smooth the edges of the moving cursor.
    cursor_antialiasing: bool = true, "cursor_antialiasing", "true or false", "true";
    /// Slide the cursor in insert mode too.
    cursor_animate_in_insert_mode: bool = true, "cursor_animate_in_insert_mode", "true or false", "true";
    /// Slide the cursor within the command line in command-line mode.
    cursor_animate_command_line: bool = true, "cursor_animate_command_line", "true or false", "true";
    /// Without the focus a block cursor is drawn hollow, its outline this fraction of a cell's width thick (at least a pixel); 0 keeps it filled.
    cursor_unfocused_outline_width: Fraction = Fraction(0.125), "cursor_unfocused_outline_width", "a number from 0 to 1", "0.125";
    /// A blinking cursor fades out and back in instead of turning off and on.
    cursor_smooth_blink: bool = false, "cursor_smooth_blink", "true or false", "false";
    /// Particle effects when the cursor moves: "railgun", "torpedo" or "pixiedust" (trails along its path), "sonicboom", "ripple" or "wireframe" (at its destination), or several as a list (`["railgun", "ripple"]`, or `"railgun,ripple"`); "" turns them off.
    cursor_vfx_mode: VfxModes = VfxModes::default(), "cursor_vfx_mode", "\"railgun\", \"torpedo\", \"pixiedust\", \"sonicboom\", \"ripple\", \"wireframe\", a list of them or \"\"", "\"\"";
    /// How opaque the particles are, from 0 (clear) to 255.
    cursor_vfx_opacity: Alpha255 = Alpha255(200.0), "cursor_vfx_opacity", "a number from 0 to 255", "200.0";
    /// Seconds a trail particle (railgun, torpedo, pixiedust) lives.
    cursor_vfx_particle_lifetime: Seconds = Seconds(1.2), "cursor_vfx_particle_lifetime", "a number of seconds from 0 to 10", "1.2";
    /// Seconds a sonicboom, ripple or wireframe lasts.
    cursor_vfx_particle_highlight_lifetime: Seconds = Seconds(0.2), "cursor_vfx_particle_highlight_lifetime", "a number of seconds from 0 to 10", "0.2";
    /// Trail particles per cell the cursor travels.
    cursor_vfx_particle_density: Amount = Amount(7.0), "cursor_vfx_particle_density", "a number from 0 to 100", "7.0";
    /// How fast trail particles fly off (10: up to two cell heights over their life).
    cursor_vfx_particle_speed: Amount = Amount(10.0), "cursor_vfx_particle_speed", "a number from 0 to 100", "10.0";
    /// How far the railgun's spiral turns per cell of the path, in radians.
    cursor_vfx_particle_phase: Amount = Amount(1.5), "cursor_vfx_particle_phase", "a number from 0 to 100", "1.5";
    /// How fast trail particles' paths curl, in turns per second.
    cursor_vfx_particle_curl: Amount = Amount(1.0), "cursor_vfx_particle_curl", "a number from 0 to 100", "1.0";
    /// nvim's audible bell (`bell`) flashes the window too, as its `visual_bell` always does.
    visual_bell: bool = false, "visual_bell", "true or false", "false";
    /// How long a window's text slides to its new place when it scrolls, in seconds; 0 jumps.
    scroll_animation_length: Seconds = Seconds(0.3), "scroll_animation_length", "a number of seconds from 0 to 10", "0.3";
    /// A jump further than the window is high slides in only this many lines (0: no slide).
    scroll_animation_far_lines: u32 = 1, "scroll_animation_far_lines", "a number of lines (0 or more)", "1";
    /// How long a window slides to its new place when it moves (a split opens, a float moves), in seconds; 0 jumps.
    position_animation_length: Seconds = Seconds(0.15), "position_animation_length", "a number of seconds from 0 to 10", "0.15";
}

impl Settings {
    /// Sets the knob `name` from a TOML value (what the config file, the
    /// environment and nvim's variables are turned into). The config file
    /// also takes the command line's own names for the knobs they set.
    pub fn set(&mut self, name: &str, value: toml::Value) -> Result<(), SettingError> {
        match name {
            "font" => self.font.set_table(value),
            "nvim" => self.set_knob("neovim-bin", value),
            "ime" => self.set_knob("input_ime", value),
            "alt-composes" => {
                let composes: bool = parse(name, "true or false", value)?;
                self.input_alt_is_meta = if composes { AltIsMeta::None } else { AltIsMeta::Both };
                Ok(())
            }
            "no-ligatures" => {
                self.ligatures = !parse::<bool>(name, "true or false", value)?;
                Ok(())
            }
            "no-vsync" => {
                self.vsync = !parse::<bool>(name, "true or false", value)?;
                Ok(())
            }
            "no-idle" => {
                self.idle = !parse::<bool>(name, "true or false", value)?;
                Ok(())
            }
            // The issue's spellings of the particle knobs.
            _ if name.starts_with("vfx_") => self.set_knob(&knob_name(name), value),
            _ => self.set_knob(name, value),
        }
    }
}

/// The knob a name other than its own means: `vfx_opacity` and the other
/// `vfx_*` spellings are the `cursor_vfx_*` knobs.
pub fn knob_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.starts_with("vfx_") { format!("cursor_{name}").into() } else { name.into() }
}

impl Settings {
    /// The `padding_*` knobs.
    pub fn padding(&self) -> crate::render::Padding {
        crate::render::Padding {
            top: self.padding_top,
            bottom: self.padding_bottom,
            left: self.padding_left,
            right: self.padding_right,
        }
    }

    /// The `opacity` and `normal_opacity` knobs.
    pub fn opacity(&self) -> crate::render::Opacity {
        crate::render::Opacity::new(self.opacity.0, self.normal_opacity.0)
    }

    /// The `floating_*` and `light_*` knobs.
    pub fn depth(&self) -> crate::render::Depth {
        crate::render::Depth {
            shadow: self.floating_shadow,
            z_height: self.floating_z_height.0,
            light_angle_degrees: self.light_angle_degrees.0,
            light_radius: self.light_radius.0,
            corner_radius: self.floating_corner_radius.0,
            blur: [self.floating_blur_amount_x.0, self.floating_blur_amount_y.0],
        }
    }
}

/// Window decorations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum WindowFrame {
    /// The window manager's title bar and borders.
    #[default]
    Full,
    /// No decorations.
    None,
}

/// nvim's 'background' at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// The desktop's preference where the platform reports one, else dark.
    #[default]
    Auto,
    Light,
    Dark,
}

/// Defines newtypes for numbers a knob takes within bounds, each refusing
/// a value outside them by saying so.
macro_rules! bounded {
    ($( #[doc = $doc:literal] $name:ident($ty:ty) in $lo:literal ..= $hi:literal; )*) => {$(
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name(pub $ty);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                within(d, $lo, $hi).map($name)
            }
        }
    )*};
}

bounded! {
    /// A number from 0 to 1 (`opacity`).
    Fraction(f32) in 0.0..=1.0;
    /// A factor from 0.1 to 10 (`scale_factor`).
    Factor(f32) in 0.1..=10.0;
    /// A duration in seconds, 0 to 10 (`cursor_animation_length`).
    Seconds(f32) in 0.0..=10.0;
    /// Frames per second, 1 to 1000 (`refresh_rate`).
    Rate(u32) in 1..=1000;
    /// An opacity on a 0 to 255 scale (`cursor_vfx_opacity`, as Neovide's).
    Alpha255(f32) in 0.0..=255.0;
    /// A number from 0 to 100 (`cursor_vfx_particle_density`).
    Amount(f32) in 0.0..=100.0;
    /// A length in pixels, 0 to 100 (`floating_z_height`, `light_radius`).
    Pixels(f32) in 0.0..=100.0;
    /// An angle in degrees, 0 to 80 (`light_angle_degrees`).
    Degrees(f32) in 0.0..=80.0;
    /// A blur's deviation in pixels, 0 to 20 (`floating_blur_amount_*`).
    BlurAmount(f32) in 0.0..=20.0;
}

/// Deserializes a `T` within `lo..=hi`.
fn within<'de, D, T>(d: D, lo: T, hi: T) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + PartialOrd + std::fmt::Display,
{
    let v = T::deserialize(d)?;
    if v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!("{v} is not between {lo} and {hi}")))
    }
}

/// Deserializes one knob's value, saying what was expected when it fails.
fn parse<T: for<'de> Deserialize<'de>>(
    name: &str,
    expected: &'static str,
    value: toml::Value,
) -> Result<T, SettingError> {
    T::deserialize(value).map_err(|e| SettingError::BadValue {
        name: name.to_owned(),
        expected,
        reason: e.message().trim().to_owned(),
    })
}

impl<'de> Deserialize<'de> for ImePolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        <ImePolicy as clap::ValueEnum>::from_str(&s, true).map_err(serde::de::Error::custom)
    }
}

/// The text of an environment variable as a TOML value: `true`, `12`,
/// `0.5` and `["a", "b"]` keep their types, anything else is a string.
pub fn env_value(text: &str) -> toml::Value {
    #[derive(Deserialize)]
    struct One {
        v: toml::Value,
    }
    match toml::from_str::<One>(&format!("v = {text}")) {
        Ok(one) => one.v,
        Err(_) => toml::Value::String(text.to_owned()),
    }
}

/// vireo's folder of one kind under the user's home: `$XDG_<kind>` (else
/// `~/<fallback>`) on Linux and the BSDs, `%<windows>%` on Windows,
/// `~/Library/Application Support` on macOS; then `vireo`.
pub fn user_dir(
    var: &dyn Fn(&str) -> Option<String>,
    xdg: &str,
    fallback: &str,
    windows: &str,
) -> Option<PathBuf> {
    let dir = if cfg!(windows) {
        PathBuf::from(var(windows)?)
    } else if cfg!(target_os = "macos") {
        PathBuf::from(var("HOME")?).join("Library/Application Support")
    } else {
        match var(xdg).filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(var("HOME")?).join(fallback),
        }
    };
    Some(dir.join("vireo"))
}

/// The environment variable that sets knob `name`: `VIREO_` and the name in
/// upper case with `-` as `_` (`input_ime` → `VIREO_INPUT_IME`).
pub fn env_name(name: &str) -> String {
    format!("VIREO_{}", name.to_ascii_uppercase().replace('-', "_"))
}

impl Settings {
    /// Applies every `VIREO_<KNOB>` variable that `var` knows; returns the
    /// refusals (the knob keeps its value).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Vec<(String, SettingError)> {
        let mut errors = Vec::new();
        for knob in KNOBS {
            let env = env_name(knob.name);
            if let Some(text) = var(&env)
                && let Err(e) = self.set(knob.name, env_value(&text))
            {
                errors.push((env, e));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests;
