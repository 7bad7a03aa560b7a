//! `g:vireo_*` settings against a real nvim: set by the user's config before
//! the first frame, changed and unset with `:let`/`:unlet`, Neovide's names
//! honoured, bad values refused by name, `ginit.vim` and `:VireoConfig`.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rmpv::Value;
use vireo::input::ImePolicy;
use vireo::nvim::{self, Connection, LuaChunk, StartOptions};
use vireo::settings::live::{INIT_LUA, Live, THEME_LUA};
use vireo::settings::{AltIsMeta, Settings};

fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch(&format!("live-{name}"));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// nvim with vireo's settings Lua, `init.lua` as the user's config and
/// `dir` first on 'runtimepath' (for ginit.vim).
fn start(dir: &std::path::Path, init: &str, config: &std::path::Path) -> Connection {
    start_with(dir, init, config, Vec::new())
}

/// `start` with more Lua run before the user's config.
fn start_with(
    dir: &std::path::Path,
    init: &str,
    config: &std::path::Path,
    more: Vec<LuaChunk>,
) -> Connection {
    let init_file = dir.join("init.lua");
    std::fs::write(&init_file, init).unwrap();
    let rtp = format!("set rtp^={}", dir.display());
    let args =
        ["-n", "-i", "NONE", "--cmd", &rtp, "-u", init_file.to_str().unwrap()].map(str::to_owned).to_vec();
    let settings_args =
        vec!["9.9.9".into(), config.to_str().unwrap().into(), "# template\n# ligatures = true".into()];
    let opts = StartOptions {
        init_lua: std::iter::once(LuaChunk::new(INIT_LUA, settings_args)).chain(more).collect(),
        ..common::options(60, 8, args)
    };
    nvim::start(opts).expect("nvim starts")
}

/// A request that must be answered within 30 s: a hang fails the test
/// instead of stalling the suite.
fn call(conn: &Connection, method: &str, args: Vec<Value>) -> Result<Value, vireo::rpc::RpcError> {
    let answer = conn.session.call_blocking_timeout(
        vireo::rpc::Lane::Query,
        method,
        args,
        Some(Duration::from_secs(30)),
    );
    Ok(answer?.unwrap_or_else(|| panic!("nvim did not answer {method} within 30 s; {}", nvim_state(conn))))
}

/// What nvim says of its state when a request goes unanswered:
/// `nvim_get_mode` is answered even while nvim waits at a prompt, when
/// it holds other requests back (`blocking`); then `q` ends such a
/// prompt, and `:messages` says what filled the screen.
fn nvim_state(conn: &Connection) -> String {
    let mode = conn.session.call_blocking_timeout(
        vireo::rpc::Lane::Query,
        "nvim_get_mode",
        vec![],
        Some(Duration::from_secs(5)),
    );
    let mode = match mode {
        Ok(Some(mode)) => format!("nvim_get_mode says {mode}"),
        Ok(None) => return "nor nvim_get_mode within 5 s".into(),
        Err(e) => return format!("nvim_get_mode failed: {e}"),
    };
    // At a prompt: `q` ends it, and then nvim says what it printed.
    conn.session.input("q").ok();
    let messages = conn.session.call_blocking_timeout(
        vireo::rpc::Lane::Query,
        "nvim_exec2",
        vec!["messages".into(), Value::Map(vec![("output".into(), true.into())])],
        Some(Duration::from_secs(5)),
    );
    format!("{mode}; after `q`, :messages says {messages:?}")
}

/// Feeds every waiting notification to `live`; returns the problems.
fn take(conn: &Connection, live: &mut Live) -> Vec<String> {
    let mut problems = Vec::new();
    while let Ok(note) = conn.notifications.try_recv() {
        problems.extend(live.notification(&note.method, &note.params).unwrap_or_default());
    }
    problems
}

/// nvim with `init` as init.lua, settled after start-up, and the live
/// settings its variables made (which must have no problems).
fn started_live(dir: &std::path::Path, init: &str) -> (Connection, Live) {
    let conn = start(dir, init, &dir.join("config.toml"));
    let mut latest = None;
    let frame = common::settled(&conn, &mut latest, None);
    // Settling ends at a prompt too; nothing here prints, so a prompt is
    // a fault, and the screen says what filled it.
    let mode = call(&conn, "nvim_get_mode", vec![]).unwrap();
    let blocking = mode
        .as_map()
        .into_iter()
        .flatten()
        .any(|(k, v)| k.as_str() == Some("blocking") && v == &Value::Boolean(true));
    assert!(
        !blocking,
        "nvim waits at a prompt after start-up ({mode}):\n{}",
        common::lines(&frame).join("\n")
    );
    let mut live = Live::new(Settings::default());
    let problems = take(&conn, &mut live);
    assert!(problems.is_empty(), "{problems:?}");
    (conn, live)
}

/// Runs `command` and waits until `done` holds for the live settings.
fn change(
    conn: &Connection,
    live: &mut Live,
    command: &str,
    done: impl Fn(&Settings, &[String]) -> bool,
) -> Vec<String> {
    call(conn, "nvim_command", vec![command.into()]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut problems = Vec::new();
    loop {
        problems.extend(take(conn, live));
        if done(live.settings(), &problems) {
            return problems;
        }
        assert!(
            Instant::now() < deadline,
            "{command}: settings now {:?}, problems {problems:?}",
            live.settings()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_users_config_sets_knobs_before_the_first_frame_and_let_changes_them() {
    let dir = scratch("config");
    std::fs::write(dir.join("ginit.vim"), "let g:vireo_ligatures = 0\n").unwrap();
    let init = "vim.g.vireo_input_ime = 'always'\n\
                vim.g.neovide_input_macos_option_key_is_meta = 'only_left'\n\
                vim.g.vireo_seen_version = vim.g.vireo_version\n";
    let (conn, mut live) = started_live(&dir, init);
    let s = live.settings();
    assert_eq!(s.input_ime, ImePolicy::Always, "init.lua's value, there by the first frame");
    assert_eq!(s.input_alt_is_meta, AltIsMeta::OnlyLeft, "g:neovide_* honoured");
    assert!(!s.ligatures, "ginit.vim ran, its 0 read as false");
    let var = |name: &str| call(&conn, "nvim_get_var", vec![name.into()]).unwrap();
    assert_eq!(var("vireo"), Value::from(1));
    assert_eq!(var("vireo_seen_version"), Value::from("9.9.9"), "set before the user's config ran");
    assert_eq!(var("vireo_channel"), Value::from(conn.api.channel));

    // vireo's name wins over Neovide's; unsetting it brings Neovide's back.
    change(&conn, &mut live, "let g:vireo_input_alt_is_meta = 'none'", |s, _| {
        s.input_alt_is_meta == AltIsMeta::None
    });
    change(&conn, &mut live, "unlet g:vireo_input_alt_is_meta", |s, _| {
        s.input_alt_is_meta == AltIsMeta::OnlyLeft
    });
    // Unset altogether: the layers below again.
    change(&conn, &mut live, "unlet g:vireo_input_ime", |s, _| s.input_ime == ImePolicy::Typing);
    // A wrong value names the variable and leaves the knob alone.
    let problems = change(&conn, &mut live, "let g:vireo_input_ime = 'sometimes'", |_, p| !p.is_empty());
    assert!(problems[0].starts_with("g:vireo_input_ime: 'input_ime' expects"), "{problems:?}");
    assert_eq!(live.settings().input_ime, ImePolicy::Typing);
    // A knob that only applies at start says where to set it.
    let problems = change(&conn, &mut live, "let g:vireo_grid = '10x10'", |_, p| !p.is_empty());
    assert!(problems[0].contains("cannot change while vireo runs"), "{problems:?}");
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn vireo_config_opens_the_file_creating_it_from_the_template() {
    let dir = scratch("vireoconfig");
    let config = dir.join("sub").join("config.toml");
    let conn = start(&dir, "", &config);
    let mut latest = None;
    common::settled(&conn, &mut latest, None);
    call(&conn, "nvim_command", vec!["VireoConfig".into()]).unwrap();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# template\n# ligatures = true\n");
    let name = call(&conn, "nvim_eval", vec!["expand('%:p')".into()]).unwrap();
    assert_eq!(name.as_str(), config.to_str());
    // An existing file is opened as it is.
    std::fs::write(&config, "grid = \"80x24\"\n").unwrap();
    call(&conn, "nvim_command", vec!["edit! | VireoConfig".into()]).unwrap();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "grid = \"80x24\"\n");
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_template_documents_every_knob_and_parses_as_the_defaults() {
    let template = vireo::settings::live::template();
    for knob in vireo::settings::KNOBS {
        assert!(template.contains(&format!("# {} = ", knob.name)), "{} missing", knob.name);
    }
    // The [font] table comes last, as TOML wants.
    let (knobs, font) = template.split_once("# [font]\n").expect("a [font] section");
    // Uncommenting every line that has a default gives the default settings.
    let uncommented: String = knobs
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains(" = ") && !l.ends_with("= \"\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut s = Settings::default();
    let errors = vireo::settings::file::apply(std::path::Path::new("t.toml"), &uncommented, &mut s);
    assert!(errors.is_empty(), "{errors:?}\n{uncommented}");
    let expected =
        Settings { grid: Some(vireo::settings::GridSize { cols: 100, rows: 30 }), ..Settings::default() };
    assert_eq!(s, expected);
    // Every [font] key is there, and its example parses.
    for key in vireo::settings::font::FONT_KEYS {
        assert!(font.contains(&format!("\n# {} = ", key.name)), "font.{} missing", key.name);
    }
    let examples: String = font
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains(" = "))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = format!("[font]\n{examples}");
    let errors = vireo::settings::file::apply(std::path::Path::new("t.toml"), &text, &mut s);
    assert!(errors.is_empty(), "{errors:?}\n{examples}");
    assert_eq!(s.font.size, Some(11.0));
}

#[test]
fn neovides_names_for_window_knobs_are_honoured() {
    let dir = scratch("neovide-window");
    let init = "vim.g.neovide_padding_left = 40\n\
                vim.g.neovide_transparency = 0.5\n\
                vim.g.neovide_no_idle = true\n\
                vim.g.neovide_refresh_rate_idle = 10\n";
    let (conn, mut live) = started_live(&dir, init);
    let s = live.settings();
    assert_eq!(s.padding_left, 40);
    assert_eq!(s.opacity.0, 0.5, "g:neovide_transparency, opacity's old name");
    assert!(!s.idle, "g:neovide_no_idle is idle turned around");
    assert_eq!(s.refresh_rate_idle.0, 10);
    // vireo's own name wins, and a bad value keeps the one in force.
    change(&conn, &mut live, "let g:vireo_padding_left = 8", |s, _| s.padding_left == 8);
    let problems = change(&conn, &mut live, "let g:vireo_opacity = 2", |_, p| !p.is_empty());
    assert!(
        problems[0].starts_with("g:vireo_opacity: 'opacity' expects a number from 0 to 1"),
        "{problems:?}"
    );
    assert_eq!(live.settings().opacity.0, 0.5);
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

/// The float depth knobs are live under both names: Neovide's port as
/// they are, vireo's win, and an out-of-range value is refused by name.
#[test]
fn float_depth_knobs_are_live_under_vireos_and_neovides_names() {
    let dir = scratch("depth");
    let init = "vim.g.neovide_floating_shadow = false\n\
                vim.g.neovide_floating_corner_radius = 0.25\n\
                vim.g.neovide_light_angle_degrees = 30\n\
                vim.g.neovide_floating_blur_amount_x = 0\n";
    let (conn, mut live) = started_live(&dir, init);
    let d = live.settings().depth();
    assert!(!d.shadow, "g:neovide_floating_shadow");
    assert_eq!((d.corner_radius, d.light_angle_degrees, d.blur), (0.25, 30.0, [0.0, 2.0]));
    change(&conn, &mut live, "let g:vireo_floating_shadow = 1", |s, _| s.floating_shadow);
    change(&conn, &mut live, "let g:vireo_floating_z_height = 4", |s, _| s.depth().z_height == 4.0);
    change(&conn, &mut live, "let g:vireo_floating_blur_amount_y = 0.5", |s, _| s.depth().blur[1] == 0.5);
    let problems = change(&conn, &mut live, "let g:vireo_light_radius = -2", |_, p| !p.is_empty());
    assert!(
        problems[0]
            .starts_with("g:vireo_light_radius: 'light_radius' expects a number of pixels from 0 to 100"),
        "{problems:?}"
    );
    assert_eq!(live.settings().depth().light_radius, 5.0);
    change(&conn, &mut live, "unlet g:vireo_floating_shadow", |s, _| !s.floating_shadow);
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

fn background(conn: &Connection) -> Value {
    call(conn, "nvim_get_option_value", vec!["background".into(), Value::Map(vec![])]).unwrap()
}

fn desktop_prefers(conn: &Connection, bg: &str) {
    let code = "if VireoDesktopTheme then VireoDesktopTheme(...) end";
    call(conn, "nvim_exec_lua", vec![code.into(), vec![Value::from(bg)].into()]).unwrap();
}

#[test]
fn the_theme_sets_background_before_the_config_which_may_set_it_again() {
    let dir = scratch("theme");
    let theme = |bg: &str, follow: bool| LuaChunk::new(THEME_LUA, vec![bg.into(), follow.into()]);
    // theme = "light": nvim starts light.
    let conn = start_with(&dir, "", &dir.join("config.toml"), vec![theme("light", false)]);
    assert_eq!(background(&conn), Value::from("light"));
    conn.shutdown();
    // theme = "auto": dark until the desktop says light, then light.
    let conn = start_with(&dir, "", &dir.join("config.toml"), vec![theme("dark", true)]);
    assert_eq!(background(&conn), Value::from("dark"));
    desktop_prefers(&conn, "light");
    assert_eq!(background(&conn), Value::from("light"), "the desktop's preference followed");
    desktop_prefers(&conn, "dark");
    assert_eq!(background(&conn), Value::from("dark"), "and its later changes");
    // The user sets it: the desktop no longer decides.
    call(&conn, "nvim_command", vec!["set background=light".into()]).unwrap();
    desktop_prefers(&conn, "dark");
    assert_eq!(background(&conn), Value::from("light"), "the user's choice stays");
    conn.shutdown();
    // The user's config sets it: it wins over the theme and the desktop.
    let conn =
        start_with(&dir, "vim.o.background = 'light'\n", &dir.join("config.toml"), vec![theme("dark", true)]);
    assert_eq!(background(&conn), Value::from("light"), "init.lua ran after the theme");
    desktop_prefers(&conn, "dark");
    assert_eq!(background(&conn), Value::from("light"));
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn cursor_vfx_knobs_take_lua_lists_vimscript_comma_lists_and_neovides_names() {
    use vireo::render::vfx::VfxMode;
    let dir = scratch("vfx");
    let init = "vim.g.vireo_cursor_vfx_mode = { 'railgun', 'ripple' }\n\
                vim.g.neovide_cursor_vfx_mode = 'torpedo'\n\
                vim.g.neovide_cursor_vfx_opacity = 150.0\n\
                vim.g.neovide_cursor_vfx_particle_curl = 0.5\n\
                vim.g.vireo_vfx_particle_lifetime = 0.5\n";
    let (conn, mut live) = started_live(&dir, init);
    let s = live.settings();
    assert_eq!(s.cursor_vfx_mode.0, [VfxMode::Railgun, VfxMode::Ripple], "a Lua list; vireo's name wins");
    assert_eq!(s.cursor_vfx_opacity.0, 150.0, "Neovide's name and 0-255 scale");
    assert_eq!(s.cursor_vfx_particle_curl.0, 0.5);
    assert_eq!(s.cursor_vfx_particle_lifetime.0, 0.5, "the short spelling g:vireo_vfx_*");
    change(&conn, &mut live, "let g:vireo_cursor_vfx_mode = 'pixiedust,wireframe'", |s, _| {
        s.cursor_vfx_mode.0 == [VfxMode::Pixiedust, VfxMode::Wireframe]
    });
    change(&conn, &mut live, "unlet g:vireo_cursor_vfx_mode", |s, _| {
        s.cursor_vfx_mode.0 == [VfxMode::Torpedo]
    });
    change(&conn, &mut live, "let g:vireo_cursor_vfx_mode = ''", |s, _| s.cursor_vfx_mode.0.is_empty());
    let problems = change(&conn, &mut live, "let g:vireo_cursor_vfx_mode = 'laser'", |_, p| !p.is_empty());
    assert!(problems[0].starts_with("g:vireo_cursor_vfx_mode: 'cursor_vfx_mode' expects"), "{problems:?}");
    assert!(problems[0].contains("unknown effect 'laser'"), "{problems:?}");
    assert!(live.settings().cursor_vfx_mode.0.is_empty(), "the refused value changes nothing");
    conn.shutdown();
    std::fs::remove_dir_all(dir).ok();
}
