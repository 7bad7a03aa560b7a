//! The settings model: each layer, each knob's parsing, and the messages.

use std::path::Path;

use super::file::{FileError, apply};
use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn every_knob_has_a_name_a_doc_and_parses_its_default_layer_values() {
    let names: Vec<_> = KNOBS.iter().map(|k| k.name).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a knob name twice: {names:?}");
    assert!(KNOBS.iter().all(|k| !k.doc.is_empty()), "a knob without a doc");
    let mut s = Settings::default();
    s.set("grid", "80x24".into()).unwrap();
    assert_eq!(s.grid, Some(GridSize { cols: 80, rows: 24 }));
    s.set("input_ime", "always".into()).unwrap();
    assert_eq!(s.input_ime, ImePolicy::Always);
    s.set("input_alt_is_meta", "only_left".into()).unwrap();
    assert_eq!(s.input_alt_is_meta, AltIsMeta::OnlyLeft);
    s.set("frame", "none".into()).unwrap();
    assert_eq!(s.frame, WindowFrame::None);
    s.set("ligatures", false.into()).unwrap();
    assert!(!s.ligatures);
}

#[test]
fn a_bad_value_names_the_knob_and_what_it_expected_and_changes_nothing() {
    let mut s = Settings::default();
    let err = s.set("maximized", "yes".into()).unwrap_err();
    assert_eq!(err.to_string().split(':').next(), Some("'maximized' expects true or false"), "{err}");
    let err = s.set("input_ime", "sometimes".into()).unwrap_err().to_string();
    assert!(err.starts_with("'input_ime' expects \"typing\", \"always\" or \"off\""), "{err}");
    let err = s.set("grid", "0x5".into()).unwrap_err().to_string();
    assert!(err.contains("between 1 and 1000"), "{err}");
    assert_eq!(s, Settings::default());
    assert_eq!(s.set("paddin_top", 3.into()), Err(SettingError::Unknown("paddin_top".into())));
}

#[test]
fn an_old_style_cell_count_for_size_points_to_grid() {
    let err = parse_pixels("80x24").unwrap_err();
    assert!(err.contains("--grid 80x24"), "{err}");
    assert_eq!(parse_pixels("900x600"), Ok(PixelSize { width: 900, height: 600 }));
    assert!(parse_pixels("900").is_err());
}

#[test]
fn environment_values_keep_their_types() {
    assert_eq!(env_value("true"), toml::Value::Boolean(true));
    assert_eq!(env_value("12"), toml::Value::Integer(12));
    assert_eq!(env_value("typing"), toml::Value::String("typing".into()));
    assert_eq!(env_value("100x30"), toml::Value::String("100x30".into()));
    assert_eq!(env_name("input_ime"), "VIREO_INPUT_IME");
    assert_eq!(env_name("x11-wm-class"), "VIREO_X11_WM_CLASS");
}

#[test]
fn the_environment_sets_knobs_and_reports_bad_values() {
    let mut s = Settings::default();
    let errors = s.apply_env(env(&[("VIREO_GRID", "120x40"), ("VIREO_MAXIMIZED", "maybe")]));
    assert_eq!(s.grid, Some(GridSize { cols: 120, rows: 40 }));
    assert!(!s.maximized);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "VIREO_MAXIMIZED");
}

#[test]
fn the_file_beats_the_environment() {
    let mut s = Settings::default();
    s.apply_env(env(&[("VIREO_GRID", "120x40"), ("VIREO_INPUT_IME", "off")]));
    let errors = apply(Path::new("c.toml"), "grid = \"90x20\"\n", &mut s);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.grid, Some(GridSize { cols: 90, rows: 20 }), "the file wins");
    assert_eq!(s.input_ime, ImePolicy::Off, "what the file leaves alone stays");
}

#[test]
fn file_errors_say_where_and_the_rest_still_applies() {
    let text = "maximized = true\n# a comment\nfullscreen = \"yes\"\n  paddin_top = 3\nframe = \"none\"\n";
    let mut s = Settings::default();
    let errors = apply(Path::new("/home/u/.config/vireo/config.toml"), text, &mut s);
    assert!(s.maximized && s.frame == WindowFrame::None, "good keys apply");
    assert!(!s.fullscreen);
    fn want(line: usize, column: usize, start: &'static str) -> impl Fn(&FileError) -> bool {
        move |e| e.line == line && e.column == column && e.message.starts_with(start)
    }
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(want(3, 1, "'fullscreen' expects true or false")), "{errors:?}");
    assert!(errors.iter().any(want(4, 3, "unknown setting 'paddin_top'")), "{errors:?}");
    assert!(errors[0].to_string().starts_with("/home/u/.config/vireo/config.toml:"), "{}", errors[0]);
}

#[test]
fn a_syntax_error_is_one_message_with_its_place() {
    let mut s = Settings::default();
    let errors = apply(Path::new("c.toml"), "maximized = true\ngrid = [1,\n", &mut s);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.starts_with("not valid TOML"), "{errors:?}");
    assert!(errors[0].line >= 2, "{errors:?}");
    assert_eq!(s, Settings::default(), "a file that does not parse sets nothing");
}

#[test]
fn the_default_file_follows_the_platform_rules() {
    if cfg!(any(windows, target_os = "macos")) {
        return;
    }
    let p = file::default_path(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).unwrap();
    assert_eq!(p, Path::new("/x/vireo/config.toml"));
    let p = file::default_path(env(&[("HOME", "/h")])).unwrap();
    assert_eq!(p, Path::new("/h/.config/vireo/config.toml"));
}
