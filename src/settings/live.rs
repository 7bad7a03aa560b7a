//! Live settings: `g:vireo_<knob>` variables, set in init.lua, ginit.vim or
//! at any time with `:let`, over every other layer.
//!
//! ```text
//!   before nvim_ui_attach (before the user's config runs):
//!     g:vireo = 1, g:vireo_version, g:vireo_channel
//!     dictwatcheradd(g:, 'vireo_*' / 'neovide_*') ──► rpcnotify 'vireo_setting' name value
//!   VimEnter: ginit.vim / ginit.lua, then every g:vireo_* / g:neovide_* at
//!     once ──► rpcnotify 'vireo_settings' {name: value}
//! ```
//!
//! The notifications arrive in order with the redraws, so the first frame
//! already uses what init.lua set. [`Live`] keeps the layers below and the
//! variables apart: unsetting a variable brings back the value underneath.

use std::collections::BTreeMap;

use rmpv::Value;

use super::{KNOBS, SettingError, Settings};

/// The notification for one changed variable: `[name, value]` (value nil
/// when it was unset).
pub const SETTING: &str = "vireo_setting";
/// The notification with every variable at `VimEnter`: `[{name: value}]`.
pub const SETTINGS: &str = "vireo_settings";

/// Run before attaching with vireo's channel, version and the `:VireoConfig`
/// file as `...`.
pub const INIT_LUA: &str = r#"
local chan, version, config, template = ...
vim.g.vireo = 1
vim.g.vireo_version = version
vim.g.vireo_channel = chan
vim.cmd([[
" Every vireo window attached to this nvim hears of it (a session may have
" several, and a detached one's channel is gone).
function! VireoSettingChanged(dict, key, change) abort
  for c in nvim_list_chans()
    if get(get(c, 'client', {}), 'name', '') ==# 'vireo'
      call rpcnotify(c.id, 'vireo_setting', a:key, get(a:change, 'new', v:null))
    endif
  endfor
endfunction
call dictwatcheradd(g:, 'vireo_*', 'VireoSettingChanged')
call dictwatcheradd(g:, 'neovide_*', 'VireoSettingChanged')
]])
local group = vim.api.nvim_create_augroup('vireo_settings', {})
vim.api.nvim_create_autocmd('VimEnter', {
  group = group,
  once = true,
  callback = function()
    vim.cmd('runtime! ginit.vim ginit.lua')
    -- In Vimscript: a dictionary, even an empty one, travels as a map.
    vim.cmd([[call rpcnotify(g:vireo_channel, 'vireo_settings',
      \ filter(copy(g:), {name -> name =~# '^\(vireo\|neovide\)_'}))]])
  end,
})
-- `:set lines=` and `columns=` resize the window (nvim itself cannot grow
-- its grid past the window).
-- nvim may cap one before the other is set (`:set lines=50 columns=120`
-- fires twice): what one command asked for is kept until it has run.
local want = {}
vim.api.nvim_create_autocmd('OptionSet', {
  group = group,
  pattern = { 'lines', 'columns' },
  callback = function(ev)
    if next(want) == nil then
      vim.schedule(function() want = {} end)
    end
    want[ev.match] = tonumber(vim.v.option_new)
    -- pcall: in a session, the window that set this up may have detached.
    pcall(vim.rpcnotify, chan, 'vireo_resize', want.columns or vim.o.columns, want.lines or vim.o.lines)
  end,
})
vim.api.nvim_create_user_command('VireoConfig', function()
  if config == vim.NIL or config == '' then
    vim.notify('vireo: no config file (started with --no-config)', vim.log.levels.ERROR)
    return
  end
  if vim.fn.filereadable(config) == 0 then
    vim.fn.mkdir(vim.fn.fnamemodify(config, ':h'), 'p')
    vim.fn.writefile(vim.split(template, '\n', { plain = true }), config)
  end
  vim.cmd.edit(vim.fn.fnameescape(config))
end, { desc = "Edit vireo's config.toml" })
"#;

/// Run before attaching, with the 'background' to start with and whether
/// to follow the desktop's preference: sets 'background' before the
/// user's config runs (which may set it again) and defines
/// `VireoDesktopTheme(bg)`, which vireo calls when the desktop reports its
/// preference, and which changes 'background' only while it is still the
/// value vireo set.
pub const THEME_LUA: &str = r#"
local chan, background, follow = ...
vim.o.background = background
if not follow then return end
local function mine()
  local info = vim.api.nvim_get_option_info2('background', {})
  return info.last_set_sid, info.last_set_linenr
end
local sid, line = mine()
_G.VireoDesktopTheme = function(bg)
  local now_sid, now_line = mine()
  if now_sid == sid and now_line == line and vim.o.background ~= bg then
    vim.o.background = bg
    sid, line = mine()
  end
end
"#;

/// The notification `:set lines=`/`columns=` sends: `[columns, lines]`.
pub const RESIZE: &str = "vireo_resize";

/// The grid size asked for by a [`RESIZE`] notification, within vireo's
/// limits.
pub fn resize_request(method: &str, params: &[Value]) -> Option<(usize, usize)> {
    if method != RESIZE {
        return None;
    }
    let side = |v: Option<&Value>| {
        let n = usize::try_from(v?.as_u64()?).ok()?;
        Some(n.clamp(1, super::MAX_GRID_SIDE))
    };
    Some((side(params.first())?, side(params.get(1))?))
}

/// The knobs a `g:vireo_*` variable may change while vireo runs; the
/// others are read once at start (config file, environment, flags).
pub const LIVE_KNOBS: &[&str] = &[
    "fullscreen",
    "input_ime",
    "input_alt_is_meta",
    "ligatures",
    "scale_factor",
    "padding_top",
    "padding_bottom",
    "padding_left",
    "padding_right",
    "opacity",
    "normal_opacity",
    "floating_shadow",
    "floating_z_height",
    "light_angle_degrees",
    "light_radius",
    "floating_corner_radius",
    "floating_blur_amount_x",
    "floating_blur_amount_y",
    "confirm_quit",
    "detach_on_quit",
    "refresh_rate",
    "refresh_rate_idle",
    "idle",
    "cursor_animation_length",
    "cursor_short_animation_length",
    "cursor_trail_size",
    "cursor_antialiasing",
    "cursor_animate_in_insert_mode",
    "cursor_animate_command_line",
    "cursor_unfocused_outline_width",
    "cursor_smooth_blink",
    "cursor_vfx_mode",
    "cursor_vfx_opacity",
    "cursor_vfx_particle_lifetime",
    "cursor_vfx_particle_highlight_lifetime",
    "cursor_vfx_particle_density",
    "cursor_vfx_particle_speed",
    "cursor_vfx_particle_phase",
    "cursor_vfx_particle_curl",
    "visual_bell",
    "scroll_animation_length",
    "scroll_animation_far_lines",
    "position_animation_length",
    // Read when the window closes, to decide what to remember.
    "remember_window_size",
    "remember_window_position",
];

/// Neovide's names for vireo's knobs where they differ, as
/// `(neovide name, vireo knob)`. Same-named knobs need no entry.
const NEOVIDE_NAMES: &[(&str, &str)] = &[
    ("input_macos_option_key_is_meta", "input_alt_is_meta"),
    // Neovide's name for opacity before 0.14.
    ("transparency", "opacity"),
    // Inverted: g:neovide_no_idle = v:true keeps drawing.
    ("no_idle", "idle"),
];

/// The settings below the variables, and the variables set now.
#[derive(Debug, Clone)]
pub struct Live {
    base: Settings,
    /// `g:vireo_<knob>` values, by knob.
    vireo: BTreeMap<String, toml::Value>,
    /// `g:neovide_<knob>` values, by vireo's knob name.
    neovide: BTreeMap<String, toml::Value>,
    current: Settings,
}

impl Live {
    pub fn new(base: Settings) -> Live {
        Live { current: base.clone(), base, vireo: BTreeMap::new(), neovide: BTreeMap::new() }
    }

    /// Replaces the layers below the variables (the config file was
    /// saved); the variables stay over them.
    pub fn set_base(&mut self, base: Settings) -> Vec<String> {
        self.base = base;
        let mut problems = Vec::new();
        self.recompute(&mut problems);
        problems
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.current
    }

    /// Handles a notification from nvim; returns the problems to show (a
    /// refused value keeps the previous one). `false` in the first place
    /// when the notification is not a settings one.
    pub fn notification(&mut self, method: &str, params: &[Value]) -> Option<Vec<String>> {
        let mut problems = Vec::new();
        match (method, params) {
            (SETTING, [Value::String(name), value, ..]) => {
                let name = name.as_str().unwrap_or_default().to_owned();
                self.variable(&name, value, &mut problems);
            }
            // An empty Lua table travels as an empty array.
            (SETTINGS, [Value::Array(empty), ..]) if empty.is_empty() => {}
            (SETTINGS, [Value::Map(all), ..]) => {
                for (name, value) in all {
                    if let Some(name) = name.as_str() {
                        self.variable(name, value, &mut problems);
                    }
                }
            }
            (SETTING | SETTINGS, _) => problems.push(format!("a malformed '{method}' notification")),
            _ => return None,
        }
        Some(problems)
    }

    /// Records `g:<variable> = value` (nil: unset) if it is vireo's.
    fn variable(&mut self, variable: &str, value: &Value, problems: &mut Vec<String>) {
        let (knob, from_neovide) = match (variable.strip_prefix("vireo_"), variable.strip_prefix("neovide_"))
        {
            (Some(knob), _) => (knob.to_owned(), false),
            (_, Some(name)) => {
                let knob = NEOVIDE_NAMES.iter().find(|(n, _)| *n == name).map_or(name, |(_, k)| k);
                (knob.to_owned(), true)
            }
            _ => return,
        };
        let knob = super::knob_name(&knob).into_owned();
        if !LIVE_KNOBS.contains(&knob.as_str()) {
            // vireo's own variables and other names are not settings;
            // Neovide's that vireo has no knob for are left alone.
            let known = KNOBS.iter().any(|k| k.name == knob);
            if known && !from_neovide {
                problems.push(format!(
                    "g:{variable} cannot change while vireo runs: set {knob} in config.toml or on the command line"
                ));
            }
            return;
        }
        let layer = if from_neovide { &mut self.neovide } else { &mut self.vireo };
        let Some(value) = toml_value(value) else {
            layer.remove(&knob);
            self.recompute(problems);
            return;
        };
        let value = if from_neovide { neovide_value(&knob, value) } else { value };
        // Checked alone first, so a bad value names its variable and the
        // previous one stays.
        let value = vimscript_bool(&self.current, &knob, value);
        let mut probe = self.current.clone();
        match probe.set(&knob, value.clone()) {
            Ok(()) => {
                layer.insert(knob, value);
                self.recompute(problems);
            }
            Err(e) => problems.push(format!("g:{variable}: {}", describe(&e))),
        }
    }

    /// current = base, then Neovide's variables, then vireo's.
    fn recompute(&mut self, problems: &mut Vec<String>) {
        let mut next = self.base.clone();
        for (knob, value) in self.neovide.iter().chain(&self.vireo) {
            if let Err(e) = next.set(knob, value.clone()) {
                problems.push(describe(&e));
            }
        }
        self.current = next;
    }
}

/// Vimscript has no booleans: `let g:vireo_ligatures = 0` means false for
/// a knob that takes true or false.
fn vimscript_bool(current: &Settings, knob: &str, value: toml::Value) -> toml::Value {
    let toml::Value::Integer(n @ (0 | 1)) = value else { return value };
    let mut probe = current.clone();
    if probe.set(knob, toml::Value::Boolean(n == 1)).is_ok() { toml::Value::Boolean(n == 1) } else { value }
}

fn describe(e: &SettingError) -> String {
    e.to_string()
}

/// Neovide's `input_ime` is a boolean: on means vireo's "typing"; its
/// `no_idle` is vireo's `idle` turned around.
fn neovide_value(knob: &str, value: toml::Value) -> toml::Value {
    match (knob, &value) {
        ("input_ime", toml::Value::Boolean(on)) => {
            toml::Value::String(if *on { "typing" } else { "off" }.into())
        }
        ("idle", toml::Value::Boolean(no_idle)) => toml::Value::Boolean(!no_idle),
        ("idle", toml::Value::Integer(no_idle @ (0 | 1))) => toml::Value::Boolean(*no_idle == 0),
        _ => value,
    }
}

/// An nvim value as TOML; `None` for nil (an unset variable). nvim's
/// booleans may arrive as 0/1 from Vimscript (`let g:x = 1`): the knob's
/// own parsing turns those into `true`/`false` where it wants a boolean.
fn toml_value(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Nil => return None,
        Value::Boolean(b) => toml::Value::Boolean(*b),
        Value::Integer(i) => toml::Value::Integer(i.as_i64().unwrap_or(i64::MAX)),
        Value::F32(f) => toml::Value::Float(f64::from(*f)),
        Value::F64(f) => toml::Value::Float(*f),
        Value::String(s) => toml::Value::String(s.as_str().unwrap_or_default().to_owned()),
        Value::Binary(b) => toml::Value::String(String::from_utf8_lossy(b).into_owned()),
        Value::Array(items) => toml::Value::Array(items.iter().filter_map(toml_value).collect()),
        Value::Map(entries) => toml::Value::Table(
            entries.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), toml_value(v)?))).collect(),
        ),
        Value::Ext(..) => return None,
    })
}

/// `config.toml` with every knob commented out, its doc above it: what
/// `:VireoConfig` writes when there is no file yet.
pub fn template() -> String {
    let mut out = String::from(
        "# vireo's settings. Uncomment a line to change it; `vireo --help` and the\n\
         # README list every knob. Live knobs can also be set with `:let g:vireo_<name>`.\n\n",
    );
    for knob in KNOBS {
        let example = if knob.default.is_empty() { "\"\"" } else { knob.default };
        let unset = if knob.default.is_empty() { " (unset by default)" } else { "" };
        out.push_str(&format!("# {}{unset}\n# {} = {example}\n\n", knob.doc, knob.name));
    }
    out.push_str(
        "# The font. `guifont`, when set in nvim, goes over this table: the families\n\
         # and the size it names win. A table comes after every other key.\n# [font]\n\n",
    );
    for key in super::font::FONT_KEYS {
        out.push_str(&format!("# {}\n# {} = {}\n\n", key.doc, key.name, key.example));
    }
    out
}
