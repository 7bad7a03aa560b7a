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

/// `[font]` in a config file, applied to the defaults.
fn font_file(text: &str) -> (font::FontSettings, Vec<FileError>) {
    let mut s = Settings::default();
    let errors = apply(Path::new("c.toml"), text, &mut s);
    (s.font, errors)
}

#[test]
fn every_font_key_parses() {
    let text = r#"
grid = "90x20"
[font]
normal = "Fira Code"
bold = ["Fira Code Bold", "DejaVu Sans Mono"]
italic = ["Victor Mono"]
bold_italic = "Victor Mono"
size = 13.5
features = ["-liga", "+ss01", "cv01=2", "calt"]
hinting = "slight"
edging = "subpixelantialias"
fallback = ["Symbols Nerd Font Mono", "Noto Color Emoji"]
"#;
    let mut s = Settings::default();
    let errors = apply(Path::new("c.toml"), text, &mut s);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.grid, Some(GridSize { cols: 90, rows: 20 }), "keys before the table still apply");
    let f = s.font;
    assert_eq!(f.normal, ["Fira Code"]);
    assert_eq!(f.bold, ["Fira Code Bold", "DejaVu Sans Mono"]);
    assert_eq!(
        (f.italic.as_slice(), f.bold_italic.as_slice()),
        (&["Victor Mono".to_owned()][..], &["Victor Mono".to_owned()][..])
    );
    assert_eq!(f.size, Some(13.5));
    let features: Vec<_> = f.features.all.iter().map(|x| (&x.tag, x.value)).collect();
    assert_eq!(features, [(b"liga", 0), (b"ss01", 1), (b"cv01", 2), (b"calt", 1)]);
    assert_eq!((f.hinting, f.edging), (font::Hinting::Slight, font::Edging::SubpixelAntialias));
    assert_eq!(f.fallback, ["Symbols Nerd Font Mono", "Noto Color Emoji"]);

    // A whole number is a size too; Neovide's per-family features; each
    // hinting and edging value.
    let (f, errors) = font_file("[font]\nsize = 20\nfeatures.MonoLisa = [\"+ss02\"]\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(f.size, Some(20.0));
    assert!(f.features.all.is_empty());
    let mono: Vec<_> = f.features.for_family("monolisa").collect();
    assert_eq!(mono, [font::FontFeature { tag: *b"ss02", value: 1 }]);
    assert_eq!(f.features.for_family("Fira Code").count(), 0);
    for (text, hinting) in
        [("full", font::Hinting::Full), ("normal", font::Hinting::Normal), ("none", font::Hinting::None)]
    {
        let (f, errors) = font_file(&format!("[font]\nhinting = \"{text}\""));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.hinting, hinting);
        assert_eq!(f.hinting.enabled(), hinting != font::Hinting::None);
    }
    for (text, edging) in [("antialias", font::Edging::Antialias), ("alias", font::Edging::Alias)] {
        assert_eq!(font_file(&format!("[font]\nedging = \"{text}\"")).0.edging, edging);
    }
    // The same through Settings::set, as a table.
    let mut s = Settings::default();
    let table: toml::Value = toml::from_str("size = 9\nnormal = \"X\"").unwrap();
    s.set("font", table).unwrap();
    assert_eq!((s.font.size, s.font.normal.as_slice()), (Some(9.0), &["X".to_owned()][..]));
}

#[test]
fn font_features_are_checked() {
    assert_eq!(font::parse_feature("+ss01"), Ok(font::FontFeature { tag: *b"ss01", value: 1 }));
    assert_eq!(font::parse_feature("-liga"), Ok(font::FontFeature { tag: *b"liga", value: 0 }));
    assert_eq!(font::parse_feature("cv05 = 3"), Ok(font::FontFeature { tag: *b"cv05", value: 3 }));
    for bad in ["+ligature", "", "-li", "cv01=x", "+ss0!"] {
        assert!(font::parse_feature(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn bad_font_values_say_where_and_what_was_expected_and_the_rest_still_applies() {
    let text = "[font]\nsize = \"big\"\nnormal = \"Good Mono\"\n  sise = 12\nfeatures = [\"+ligature\"]\nhinting = \"medium\"\nedging = 1\nbold = [\"A\", 2]\nfallback = \"Nerd\"\nitalic = 3\n";
    let (f, errors) = font_file(text);
    assert_eq!(f.normal, ["Good Mono"], "good keys apply");
    assert_eq!(f.fallback, ["Nerd"], "one name is a list of one");
    let want = |line: usize, column: usize, start: &str| {
        assert!(
            errors.iter().any(|e| e.line == line && e.column == column && e.message.starts_with(start)),
            "no {line}:{column} '{start}' in {errors:#?}"
        );
    };
    want(2, 1, "'font.size' expects a size in points");
    want(4, 3, "unknown key 'sise' in [font] (it takes normal, bold, italic, bold_italic, size, features");
    want(
        5,
        1,
        "'font.features' expects a list of features such as [\"-liga\", \"+ss01\"]: '+ligature' is not a feature",
    );
    want(6, 1, "'font.hinting' expects \"full\", \"normal\", \"slight\" or \"none\"");
    want(7, 1, "'font.edging' expects \"antialias\", \"subpixelantialias\" or \"alias\"");
    want(8, 1, "'font.bold' expects a family name or a list of names: found integer in the list");
    want(10, 1, "'font.italic' expects a family name or a list of names: found integer");
    assert_eq!(errors.len(), 7, "{errors:#?}");
    assert!(errors[0].to_string().starts_with("c.toml:"), "{}", errors[0]);
    let unchanged = font::FontSettings {
        normal: vec!["Good Mono".into()],
        fallback: vec!["Nerd".into()],
        ..Default::default()
    };
    assert_eq!(f, unchanged, "a refused value changes nothing");

    let (f, errors) = font_file("[font]\nsize = 0\n");
    assert!(errors[0].message.contains("0 is out of range"), "{errors:?}");
    assert_eq!(f.size, None);
    let (_, errors) = font_file("font = \"Fira Code\"\n");
    assert_eq!((errors[0].line, errors[0].column), (1, 1));
    assert!(errors[0].message.starts_with("'font' expects a table ([font])"), "{errors:?}");
}

#[test]
fn window_knobs_parse_and_refuse_values_out_of_range() {
    let mut s = Settings::default();
    let text = "padding_left = 40\nopacity = 0.8\nnormal_opacity = 1\nscale_factor = 1.5\n\
                refresh_rate = 144\nconfirm_quit = false\ntheme = \"light\"\nno-vsync = true\nno-idle = true\n";
    let errors = apply(Path::new("c.toml"), text, &mut s);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.padding().left, 40);
    assert_eq!((s.opacity, s.normal_opacity, s.scale_factor), (Fraction(0.8), Fraction(1.0), Factor(1.5)));
    assert_eq!(s.refresh_rate, Some(Rate(144)));
    assert!(!s.confirm_quit && !s.vsync && !s.idle);
    assert_eq!(s.theme, Theme::Light);
    let before = s.clone();
    for (knob, value, expected) in [
        (
            "opacity",
            toml::Value::Float(1.5),
            "'opacity' expects a number from 0 to 1: 1.5 is not between 0 and 1",
        ),
        ("opacity", toml::Value::Float(f64::NAN), "'opacity' expects a number from 0 to 1"),
        ("padding_top", toml::Value::Integer(-3), "'padding_top' expects a number of pixels (0 or more)"),
        ("scale_factor", toml::Value::Integer(0), "'scale_factor' expects a number from 0.1 to 10"),
        ("refresh_rate", toml::Value::Integer(0), "'refresh_rate' expects a number of frames per second"),
        ("theme", "blue".into(), "'theme' expects \"auto\", \"light\" or \"dark\""),
    ] {
        let err = s.set(knob, value).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{knob}: {err}");
    }
    assert_eq!(s, before, "refused values change nothing");
}

#[test]
fn opacity_applies_to_backgrounds_and_normal_opacity_on_top() {
    let mut s = Settings::default();
    assert_eq!(s.opacity(), crate::render::Opacity { normal: 1.0, other: 1.0 });
    s.set("opacity", toml::Value::Float(0.5)).unwrap();
    s.set("normal_opacity", toml::Value::Float(0.5)).unwrap();
    assert_eq!(s.opacity(), crate::render::Opacity { normal: 0.25, other: 0.5 });
}

#[test]
fn cursor_vfx_knobs_take_a_list_neovides_scale_and_the_short_spellings() {
    use crate::render::vfx::VfxMode;
    let defaults = Settings::default();
    assert!(defaults.cursor_vfx_mode.0.is_empty(), "off by default");
    assert_eq!(defaults.cursor_vfx_opacity, Alpha255(200.0));
    assert_eq!(defaults.cursor_vfx_particle_lifetime, Seconds(1.2));
    assert_eq!(defaults.cursor_vfx_particle_highlight_lifetime, Seconds(0.2));
    assert_eq!(
        [
            defaults.cursor_vfx_particle_density,
            defaults.cursor_vfx_particle_speed,
            defaults.cursor_vfx_particle_phase,
            defaults.cursor_vfx_particle_curl
        ],
        [Amount(7.0), Amount(10.0), Amount(1.5), Amount(1.0)]
    );
    let mut s = Settings::default();
    let text = "cursor_vfx_mode = [\"railgun\", \"ripple\"]\ncursor_vfx_opacity = 255\n\
                vfx_particle_lifetime = 0.5\nvfx_particle_density = 3\nvfx_opacity = 100.0\n";
    let errors = apply(Path::new("c.toml"), text, &mut s);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.cursor_vfx_mode.0, [VfxMode::Railgun, VfxMode::Ripple]);
    assert_eq!(s.cursor_vfx_opacity, Alpha255(100.0), "vfx_opacity is the same knob, set after");
    assert_eq!(s.cursor_vfx_particle_lifetime, Seconds(0.5));
    assert_eq!(s.cursor_vfx_particle_density, Amount(3.0));
    // A comma list from the environment; "" turns the effects off.
    let errors = s.apply_env(env(&[("VIREO_CURSOR_VFX_MODE", "torpedo,wireframe")]));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.cursor_vfx_mode.0, [VfxMode::Torpedo, VfxMode::Wireframe]);
    s.set("cursor_vfx_mode", "".into()).unwrap();
    assert!(s.cursor_vfx_mode.0.is_empty());
    let before = s.clone();
    for (knob, value, expected) in [
        ("cursor_vfx_mode", "laser".into(), "'cursor_vfx_mode' expects \"railgun\", \"torpedo\""),
        (
            "cursor_vfx_opacity",
            toml::Value::Float(256.0),
            "'cursor_vfx_opacity' expects a number from 0 to 255",
        ),
        (
            "vfx_particle_speed",
            toml::Value::Integer(-1),
            "'cursor_vfx_particle_speed' expects a number from 0 to 100",
        ),
        (
            "cursor_vfx_particle_lifetime",
            toml::Value::Integer(11),
            "'cursor_vfx_particle_lifetime' expects a number of seconds",
        ),
    ] {
        let err = s.set(knob, value).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{knob}: {err}");
    }
    assert_eq!(s, before, "refused values change nothing");
}

#[test]
fn scroll_and_position_knobs_parse_and_refuse_values_out_of_range() {
    let defaults = Settings::default();
    assert_eq!(defaults.scroll_animation_length, Seconds(0.3));
    assert_eq!(defaults.scroll_animation_far_lines, 1);
    assert_eq!(defaults.position_animation_length, Seconds(0.15));
    let mut s = Settings::default();
    let text =
        "scroll_animation_length = 0\nscroll_animation_far_lines = 4\nposition_animation_length = 0.5\n";
    let errors = apply(Path::new("c.toml"), text, &mut s);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (s.scroll_animation_length, s.scroll_animation_far_lines, s.position_animation_length),
        (Seconds(0.0), 4, Seconds(0.5))
    );
    for (knob, value, expected) in [
        (
            "scroll_animation_length",
            toml::Value::Float(-1.0),
            "'scroll_animation_length' expects a number of seconds",
        ),
        (
            "scroll_animation_far_lines",
            toml::Value::Integer(-2),
            "'scroll_animation_far_lines' expects a number of lines",
        ),
        (
            "position_animation_length",
            "fast".into(),
            "'position_animation_length' expects a number of seconds",
        ),
    ] {
        let err = s.set(knob, value).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{knob}: {err}");
    }
    let knobs = crate::render::SlideKnobs::from_settings(&s);
    assert_eq!((knobs.scroll_length, knobs.far_lines, knobs.position_length), (0.0, 4, 0.5));
}

#[test]
fn float_depth_knobs_default_to_neovides_and_refuse_values_out_of_range() {
    let defaults = crate::render::Depth {
        shadow: true,
        z_height: 10.0,
        light_angle_degrees: 45.0,
        light_radius: 5.0,
        corner_radius: 0.0,
        blur: [2.0, 2.0],
    };
    assert_eq!(Settings::default().depth(), defaults);
    let mut s = Settings::default();
    let text = "floating_shadow = false\nfloating_z_height = 20\nlight_angle_degrees = 30.5\nlight_radius = 0\n\
                floating_corner_radius = 0.5\nfloating_blur_amount_x = 0\nfloating_blur_amount_y = 4.5\n";
    let errors = apply(Path::new("c.toml"), text, &mut s);
    assert!(errors.is_empty(), "{errors:?}");
    let want = crate::render::Depth {
        shadow: false,
        z_height: 20.0,
        light_angle_degrees: 30.5,
        light_radius: 0.0,
        corner_radius: 0.5,
        blur: [0.0, 4.5],
    };
    assert_eq!(s.depth(), want);
    let before = s.clone();
    for (knob, value, expected) in [
        ("floating_z_height", -1.0, "'floating_z_height' expects a number of pixels from 0 to 100"),
        ("light_angle_degrees", 90.0, "'light_angle_degrees' expects a number of degrees from 0 to 80"),
        ("light_radius", 500.0, "'light_radius' expects a number of pixels from 0 to 100"),
        ("floating_corner_radius", 2.0, "'floating_corner_radius' expects a number from 0 to 1"),
        ("floating_blur_amount_x", 50.0, "'floating_blur_amount_x' expects a number of pixels from 0 to 20"),
        (
            "floating_blur_amount_y",
            f64::NAN,
            "'floating_blur_amount_y' expects a number of pixels from 0 to 20",
        ),
    ] {
        let err = s.set(knob, toml::Value::Float(value)).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{knob}: {err}");
    }
    assert_eq!(
        s.set("floating_shadow", "yes".into()).unwrap_err().to_string().split(':').next(),
        Some("'floating_shadow' expects true or false")
    );
    assert_eq!(s, before, "refused values change nothing");
}
