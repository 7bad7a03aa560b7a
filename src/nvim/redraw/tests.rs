//! The redraw decoder against hand-built msgpack values: every event, the
//! positional-argument rules (missing trailing arguments accepted, extra ones
//! ignored), handles, lossy text and batch-level error recovery.

use super::*;
use crate::model::GridId;
use rmpv::Value;

/// Deliberately not nvim's usual codes (0/1/2), to prove nothing is hard-coded.
const EXT: ExtTypes = ExtTypes { buffer: 5, window: 7, tabpage: 9 };

fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).expect("writing to a Vec cannot fail");
    out
}

/// Decodes msgpack bytes into a `ValueRef` that borrows from a leaked copy,
/// so the decoded events can outlive the helper (a few bytes per test).
fn parse(bytes: Vec<u8>) -> ValueRef<'static> {
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    rmpv::decode::read_value_ref(&mut &bytes[..]).expect("test input is valid msgpack")
}

#[track_caller]
fn items(bytes: Vec<u8>) -> Vec<ValueRef<'static>> {
    match parse(bytes) {
        ValueRef::Array(items) => items,
        other => panic!("expected an array, got {other}"),
    }
}

fn decode_with(
    name: &str,
    args: Vec<Value>,
    ext: Option<ExtTypes>,
) -> Result<Option<RedrawEvent<'static>>, DecodeError> {
    decode_event(name, &items(encode(&Value::Array(args))), ext)
}

/// Decodes one known, well-formed event tuple.
#[track_caller]
fn event(name: &str, args: Vec<Value>) -> RedrawEvent<'static> {
    match decode_with(name, args, Some(EXT)) {
        Ok(Some(event)) => event,
        Ok(None) => panic!("'{name}' decoded as an unknown event"),
        Err(e) => panic!("'{name}' failed to decode: {e}"),
    }
}

/// Decodes one malformed event tuple, which must be refused.
#[track_caller]
fn error(name: &str, args: Vec<Value>) -> DecodeError {
    match decode_with(name, args, Some(EXT)) {
        Err(e) => e,
        Ok(event) => panic!("'{name}' should not decode, got {event:?}"),
    }
}

/// Runs a `redraw` params list (a list of batches) through `Decoder::decode`.
fn decode_batches(batches: Vec<Value>, decoder: &mut Decoder) -> Vec<RedrawEvent<'static>> {
    let params = items(encode(&Value::Array(batches)));
    let mut out = Vec::new();
    decoder.decode(&params, |e| out.push(e));
    out
}

/// `[name, tuple, tuple, ...]`.
fn batch(name: &str, tuples: Vec<Vec<Value>>) -> Value {
    let mut items = vec![Value::from(name)];
    items.extend(tuples.into_iter().map(Value::Array));
    Value::Array(items)
}

fn window(code: i8, handle: i64) -> Value {
    Value::Ext(code, encode(&Value::from(handle)))
}

fn cell(text: &str, hl: Option<u32>, repeat: Option<u64>) -> Value {
    let mut parts = vec![Value::from(text)];
    parts.extend(hl.map(Value::from));
    parts.extend(repeat.map(Value::from));
    Value::Array(parts)
}

fn update(text: &'static str, hl: Option<u32>, repeat: Option<u64>) -> CellUpdate<'static> {
    CellUpdate { text: Cow::Borrowed(text), hl, repeat }
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

/// The placeholder `"x\u{1}y"` in encoded output becomes `x`, the invalid
/// byte 0xff, `y`: rmpv cannot build a string value with invalid UTF-8.
fn encode_with_bad_utf8(v: &Value) -> Vec<u8> {
    let mut bytes = encode(v);
    let needle = [0xa3, b'x', 0x01, b'y'];
    let mut found = 0;
    for i in 0..bytes.len().saturating_sub(needle.len() - 1) {
        if bytes[i..i + needle.len()] == needle {
            bytes[i + 2] = 0xff;
            found += 1;
        }
    }
    assert!(found > 0, "the placeholder is missing from the test value");
    bytes
}

const BAD_UTF8: &str = "x\u{1}y";

// ---------------------------------------------------------------- grid_line

#[test]
fn grid_line_carries_hl_ids_and_keeps_repeat_including_zero() {
    let cells = vec![
        cell("h", Some(5), None),
        cell("e", None, None),
        cell("l", Some(6), Some(2)),
        cell(" ", Some(0), Some(0)),
        cell("o", None, None),
    ];
    let e = event("grid_line", vec![2.into(), 3.into(), 4.into(), Value::Array(cells), true.into()]);
    assert_eq!(
        e,
        RedrawEvent::GridLine {
            grid: 2,
            row: 3,
            col_start: 4,
            cells: vec![
                update("h", Some(5), None),
                update("e", None, None),
                update("l", Some(6), Some(2)),
                update(" ", Some(0), Some(0)),
                update("o", None, None),
            ],
            wrap: true,
        }
    );
}

#[test]
fn grid_line_wide_chars_are_followed_by_empty_cells() {
    let cells = vec![
        cell("日", Some(0), None),
        cell("", None, None),
        cell("本", None, None),
        cell("", None, None),
        cell("x", None, None),
    ];
    let RedrawEvent::GridLine { cells, .. } =
        event("grid_line", vec![1.into(), 0.into(), 0.into(), Value::Array(cells), false.into()])
    else {
        panic!("not a grid_line");
    };
    let texts: Vec<&str> = cells.iter().map(|c| &*c.text).collect();
    assert_eq!(texts, ["日", "", "本", "", "x"]);
    assert_eq!(cells[1].hl, None);
}

#[test]
fn grid_line_without_wrap_is_not_wrapped() {
    let e =
        event("grid_line", vec![1.into(), 0.into(), 0.into(), Value::Array(vec![cell("a", Some(1), None)])]);
    assert!(matches!(e, RedrawEvent::GridLine { wrap: false, .. }), "{e:?}");
}

#[test]
fn grid_line_refuses_bad_cells() {
    let line = |cells: Vec<Value>| vec![1.into(), 0.into(), 0.into(), Value::Array(cells)];
    // The first cell must name its highlight id: there is nothing to carry.
    let e = error("grid_line", line(vec![cell("a", None, None)]));
    assert!(e.reason.contains("first cell"), "{e}");
    let e = error("grid_line", line(vec![cell("a", Some(0), None), Value::from("b")]));
    assert!(e.reason.contains("cell 1 is not an array"), "{e}");
    let e = error("grid_line", line(vec![Value::Array(vec![Value::from(3)])]));
    assert!(e.reason.contains("no text"), "{e}");
    let e = error("grid_line", line(vec![Value::Array(vec!["a".into(), (-1).into()])]));
    assert!(e.reason.contains("bad number"), "{e}");
    let e = error("grid_line", line(vec![Value::Array(vec!["a".into(), (1u64 << 40).into()])]));
    assert!(e.reason.contains("too large"), "{e}");
    let e = error("grid_line", line(vec![Value::Array(vec!["a".into(), 0.into(), "2".into()])]));
    assert!(e.reason.contains("not an integer"), "{e}");
    let e = error("grid_line", vec![1.into(), 0.into(), 0.into(), "cells".into()]);
    assert!(e.reason.contains("argument 3 is not an array"), "{e}");
}

#[test]
fn invalid_utf8_text_is_decoded_lossily() {
    let cells = Value::Array(vec![cell(BAD_UTF8, Some(0), None)]);
    let bytes = encode_with_bad_utf8(&Value::Array(vec![1.into(), 0.into(), 0.into(), cells]));
    let e = decode_event("grid_line", &items(bytes), Some(EXT)).unwrap().unwrap();
    let RedrawEvent::GridLine { cells, .. } = e else { panic!("not a grid_line: {e:?}") };
    assert_eq!(cells[0].text, "x\u{fffd}y");

    let bytes = encode_with_bad_utf8(&Value::Array(vec![BAD_UTF8.into()]));
    let e = decode_event("set_title", &items(bytes), Some(EXT)).unwrap().unwrap();
    assert_eq!(e, RedrawEvent::SetTitle(Cow::Borrowed("x\u{fffd}y")));

    let bytes = encode_with_bad_utf8(&Value::Array(vec![BAD_UTF8.into(), 3.into()]));
    let e = decode_event("hl_group_set", &items(bytes), Some(EXT)).unwrap().unwrap();
    assert_eq!(e, RedrawEvent::HlGroupSet { name: Cow::Borrowed("x\u{fffd}y"), id: 3 });
}

#[test]
fn binary_strings_are_accepted_as_text() {
    let e = event("chdir", vec![Value::Binary(b"/tmp/\xffdir".to_vec())]);
    assert_eq!(e, RedrawEvent::Chdir(Cow::Borrowed("/tmp/\u{fffd}dir")));
}

// ------------------------------------------------------- other line-grid events

#[test]
fn line_grid_events_decode_by_position() {
    use RedrawEvent as E;
    assert_eq!(
        event("grid_cursor_goto", vec![2.into(), 5.into(), 7.into()]),
        E::GridCursorGoto { grid: 2, row: 5, col: 7 }
    );
    // The trailing `cols` argument is always 0 and ignored.
    assert_eq!(
        event("grid_scroll", vec![1.into(), 2.into(), 10.into(), 0.into(), 80.into(), (-3).into(), 0.into()]),
        E::GridScroll { grid: 1, top: 2, bot: 10, left: 0, right: 80, rows: -3 }
    );
    assert_eq!(
        event("grid_scroll", vec![1.into(), 0.into(), 5.into(), 1.into(), 3.into(), 2.into()]),
        E::GridScroll { grid: 1, top: 0, bot: 5, left: 1, right: 3, rows: 2 }
    );
    assert_eq!(event("grid_clear", vec![3.into()]), E::GridClear { grid: 3 });
    assert_eq!(event("grid_destroy", vec![4.into()]), E::GridDestroy { grid: 4 });
    assert_eq!(
        event("grid_resize", vec![1.into(), 80.into(), 24.into()]),
        E::GridResize { grid: 1, width: 80, height: 24 }
    );
    assert_eq!(event("flush", vec![]), E::Flush);
}

#[test]
fn default_colors_set_accepts_missing_and_unset_colours() {
    use RedrawEvent as E;
    assert_eq!(
        event(
            "default_colors_set",
            vec![0x112233.into(), 0x445566.into(), 0x778899.into(), 7.into(), 0.into()]
        ),
        E::DefaultColorsSet { fg: Some(0x112233), bg: Some(0x445566), sp: Some(0x778899) }
    );
    assert_eq!(
        event("default_colors_set", vec![0xabcdef.into()]),
        E::DefaultColorsSet { fg: Some(0xabcdef), bg: None, sp: None }
    );
    assert_eq!(event("default_colors_set", vec![]), E::DefaultColorsSet { fg: None, bg: None, sp: None });
    // -1 is how nvim says "no colour".
    assert_eq!(
        event("default_colors_set", vec![(-1).into(), (-1).into(), 0.into()]),
        E::DefaultColorsSet { fg: None, bg: None, sp: Some(0) }
    );
    error("default_colors_set", vec!["red".into()]);
}

#[test]
fn hl_attr_define_reads_every_attribute() {
    let rgb = map(vec![
        ("foreground", 0x010203.into()),
        ("background", 0x040506.into()),
        ("special", 0x070809.into()),
        ("reverse", true.into()),
        ("italic", true.into()),
        ("bold", true.into()),
        ("strikethrough", true.into()),
        ("underline", true.into()),
        ("altfont", true.into()),
        ("blend", 30.into()),
        ("url", "https://neovim.io".into()),
        ("standout", true.into()),
        ("nocombine", true.into()),
        ("fg_indexed", true.into()),
        ("a_future_key", Value::Array(vec![])),
    ]);
    let cterm = map(vec![("foreground", 3.into())]);
    let info = Value::Array(vec![map(vec![("kind", "ui".into())])]);
    let e = event("hl_attr_define", vec![12.into(), rgb, cterm, info]);
    let expected = HlAttr {
        fg: Some(0x010203),
        bg: Some(0x040506),
        sp: Some(0x070809),
        reverse: true,
        italic: true,
        bold: true,
        strikethrough: true,
        underline: Underline::Line,
        altfont: true,
        standout: true,
        nocombine: true,
        blend: 30,
        url: Some("https://neovim.io".into()),
    };
    assert_eq!(e, RedrawEvent::HlAttrDefine { id: 12, attr: expected });
}

#[test]
fn hl_attr_define_underline_styles() {
    let styles = [
        ("underline", Underline::Line),
        ("undercurl", Underline::Curl),
        ("underdouble", Underline::Double),
        ("underdotted", Underline::Dotted),
        ("underdashed", Underline::Dashed),
    ];
    for (key, style) in styles {
        let e = event("hl_attr_define", vec![1.into(), map(vec![(key, true.into())])]);
        let RedrawEvent::HlAttrDefine { attr, .. } = e else { panic!("{e:?}") };
        assert_eq!(attr, HlAttr { underline: style, ..HlAttr::default() }, "{key}");
    }
}

#[test]
fn hl_attr_define_missing_colours_stay_default() {
    let e = event("hl_attr_define", vec![4.into(), map(vec![("bold", true.into())])]);
    let RedrawEvent::HlAttrDefine { id: 4, attr } = e else { panic!("{e:?}") };
    assert_eq!((attr.fg, attr.bg, attr.sp), (None, None, None));
    assert!(attr.bold);
    assert!(!attr.italic && !attr.reverse);
    // False flags are the same as absent ones; blend is capped at 100.
    let e =
        event("hl_attr_define", vec![4.into(), map(vec![("italic", false.into()), ("blend", 250.into())])]);
    let RedrawEvent::HlAttrDefine { attr, .. } = e else { panic!("{e:?}") };
    assert_eq!(attr, HlAttr { blend: 100, ..HlAttr::default() });
}

#[test]
fn hl_attr_define_refuses_bad_shapes() {
    error("hl_attr_define", vec![1.into(), Value::Array(vec![])]);
    error("hl_attr_define", vec![1.into(), map(vec![("blend", "half".into())])]);
    let e = error("hl_attr_define", vec![(1u64 << 33).into(), map(vec![])]);
    assert!(e.reason.contains("too large"), "{e}");
    error("hl_attr_define", vec![(-1).into(), map(vec![])]);
}

#[test]
fn hl_group_set_names_an_id() {
    assert_eq!(
        event("hl_group_set", vec!["MsgSeparator".into(), 42.into()]),
        RedrawEvent::HlGroupSet { name: Cow::Borrowed("MsgSeparator"), id: 42 }
    );
    error("hl_group_set", vec![42.into(), "MsgSeparator".into()]);
}

// ------------------------------------------------------------- global events

#[test]
fn events_without_arguments() {
    use RedrawEvent as E;
    let cases = [
        ("mouse_on", E::MouseOn),
        ("mouse_off", E::MouseOff),
        ("busy_start", E::BusyStart),
        ("busy_stop", E::BusyStop),
        ("suspend", E::Suspend),
        ("update_menu", E::UpdateMenu),
        ("bell", E::Bell),
        ("visual_bell", E::VisualBell),
        ("flush", E::Flush),
    ];
    for (name, expected) in cases {
        assert_eq!(event(name, vec![]), expected.clone(), "{name}");
        // Arguments a newer nvim might add are ignored.
        assert_eq!(event(name, vec![1.into(), "x".into()]), expected, "{name} with extras");
    }
}

#[test]
fn text_events_and_error_exit() {
    use RedrawEvent as E;
    assert_eq!(event("set_title", vec!["vireo - a.rs".into()]), E::SetTitle(Cow::Borrowed("vireo - a.rs")));
    assert_eq!(event("set_icon", vec!["a.rs".into()]), E::SetIcon(Cow::Borrowed("a.rs")));
    assert_eq!(event("chdir", vec!["/home/u".into()]), E::Chdir(Cow::Borrowed("/home/u")));
    assert_eq!(event("error_exit", vec![(-2).into()]), E::ErrorExit(-2));
    assert_eq!(
        event("mode_change", vec!["insert".into(), 3.into()]),
        E::ModeChange { mode: Cow::Borrowed("insert"), index: 3 }
    );
    error("set_title", vec![5.into()]);
    error("error_exit", vec!["1".into()]);
    error("mode_change", vec!["insert".into(), (-1).into()]);
}

#[test]
fn mode_info_set_keeps_absent_keys_unset() {
    let normal = map(vec![
        ("cursor_shape", "block".into()),
        ("cell_percentage", 0.into()),
        ("blinkwait", 700.into()),
        ("blinkon", 400.into()),
        ("blinkoff", 250.into()),
        ("attr_id", 0.into()),
        ("attr_id_lm", 0.into()),
        ("short_name", "n".into()),
        ("name", "normal".into()),
        ("mouse_shape", 0.into()),
    ]);
    let insert = map(vec![
        ("cursor_shape", "vertical".into()),
        ("cell_percentage", 25.into()),
        ("short_name", "i".into()),
        ("name", "insert".into()),
    ]);
    let replace = map(vec![("cursor_shape", "horizontal".into()), ("cell_percentage", 180.into())]);
    // A mode with no cursor keys at all, and an unknown shape.
    let more = map(vec![("name", "more".into()), ("short_name", "m".into())]);
    let odd = map(vec![("cursor_shape", "triangle".into()), ("blinkon", "fast".into())]);
    let e = event("mode_info_set", vec![true.into(), Value::Array(vec![normal, insert, replace, more, odd])]);
    let RedrawEvent::ModeInfoSet { cursor_style_enabled, modes } = e else { panic!("{e:?}") };
    assert!(cursor_style_enabled);
    assert_eq!(modes.len(), 5);
    assert_eq!(
        modes[0],
        ModeInfo {
            cursor_shape: Some(CursorShape::Block),
            cell_percentage: Some(0),
            blinkwait: Some(700),
            blinkon: Some(400),
            blinkoff: Some(250),
            attr_id: Some(0),
            attr_id_lm: Some(0),
            short_name: "n".into(),
            name: "normal".into(),
            mouse_shape: Some(0),
        }
    );
    assert_eq!(
        modes[1],
        ModeInfo {
            cursor_shape: Some(CursorShape::Vertical),
            cell_percentage: Some(25),
            short_name: "i".into(),
            name: "insert".into(),
            ..ModeInfo::default()
        }
    );
    assert_eq!(modes[2].cursor_shape, Some(CursorShape::Horizontal));
    assert_eq!(modes[2].cell_percentage, Some(100), "percentages are capped");
    assert_eq!(modes[2].blinkon, None);
    assert_eq!(modes[3], ModeInfo { short_name: "m".into(), name: "more".into(), ..ModeInfo::default() });
    assert_eq!(modes[4], ModeInfo::default());

    error("mode_info_set", vec![true.into(), Value::Array(vec!["block".into()])]);
    error("mode_info_set", vec![true.into()]);
}

#[test]
fn option_set_values_of_each_type() {
    let value = |v: Value| match event("option_set", vec!["opt".into(), v]) {
        RedrawEvent::OptionSet { name, value } => {
            assert_eq!(name, "opt");
            value
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(value(true.into()), OptionValue::Bool(true));
    assert_eq!(value(false.into()), OptionValue::Bool(false));
    assert_eq!(value(3.into()), OptionValue::Int(3));
    assert_eq!(value((-7).into()), OptionValue::Int(-7));
    assert_eq!(value("Iosevka:h12".into()), OptionValue::Str("Iosevka:h12".into()));
    assert_eq!(value(Value::Nil), OptionValue::Nil);
    assert_eq!(value(Value::Array(vec![])), OptionValue::Nil);
    error("option_set", vec!["opt".into()]);
}

// ------------------------------------------------------------ multigrid events

#[test]
fn window_handles_are_ext_with_the_api_info_code() {
    let pos = |win: Value| vec![2.into(), win, 1.into(), 2.into(), 30.into(), 10.into()];
    let expected = |win| RedrawEvent::WinPos { grid: 2, win, row: 1, col: 2, width: 30, height: 10 };
    assert_eq!(event("win_pos", pos(window(EXT.window, 1000))), expected(1000));
    // The built-in popup menu's window is -1, a negative int in the payload.
    assert_eq!(event("win_pos", pos(window(EXT.window, -1))), expected(-1));
    assert_eq!(event("win_pos", pos(window(EXT.window, -70_000))), expected(-70_000));
    // Plain integers are accepted where a handle is expected.
    assert_eq!(event("win_pos", pos(1001.into())), expected(1001));
    assert_eq!(event("win_pos", pos((-1).into())), expected(-1));

    // A Buffer handle (or nvim's usual Window code 1) is not a Window here.
    let e = error("win_pos", pos(window(EXT.buffer, 1000)));
    assert!(e.reason.contains("EXT type 5"), "{e}");
    error("win_pos", pos(window(1, 1000)));
    // A payload that is not a msgpack integer.
    let e = error("win_pos", pos(Value::Ext(EXT.window, encode(&Value::from("w")))));
    assert!(e.reason.contains("bad handle payload"), "{e}");
    error("win_pos", pos(Value::Ext(EXT.window, vec![])));
    error("win_pos", pos("1000".into()));
}

#[test]
fn without_api_info_any_ext_code_is_a_handle() {
    let args = vec![2.into(), window(3, -1)];
    assert_eq!(
        decode_with("win_external_pos", args.clone(), None).unwrap(),
        Some(RedrawEvent::WinExternalPos { grid: 2, win: -1 })
    );
    assert!(decode_with("win_external_pos", args.clone(), Some(EXT)).is_err());

    let mut decoder = Decoder::new(None);
    let batches = vec![batch("win_external_pos", vec![args.clone()])];
    assert_eq!(decode_batches(batches.clone(), &mut decoder).len(), 1);
    decoder.set_ext_types(EXT);
    assert_eq!(decode_batches(batches, &mut decoder), []);
}

#[test]
fn decode_handle_reads_any_msgpack_integer() {
    assert_eq!(decode_handle(&encode(&Value::from(-1))), Some(-1));
    assert_eq!(decode_handle(&encode(&Value::from(5))), Some(5));
    assert_eq!(decode_handle(&encode(&Value::from(i64::MIN))), Some(i64::MIN));
    assert_eq!(decode_handle(&encode(&Value::from(u64::MAX))), None);
    assert_eq!(decode_handle(&encode(&Value::Nil)), None);
    assert_eq!(decode_handle(&[]), None);
    assert_eq!(decode_handle(&[0xcd, 0x01]), None, "truncated uint16");
    assert_eq!(decode_handle(&[0x91, 0x01]), None, "an array holding an integer");
    // Deep nesting in a payload is refused, not recursed into.
    let deep: Vec<u8> = std::iter::repeat_n(0x91, 100_000).chain([0x01]).collect();
    assert_eq!(decode_handle(&deep), None);
}

#[test]
fn win_float_pos_full_and_with_trailing_args_missing() {
    let w = window(EXT.window, 1001);
    let full = event(
        "win_float_pos",
        vec![
            4.into(),
            w.clone(),
            "SE".into(),
            2.into(),
            3.5.into(),
            10.into(),
            false.into(),
            100.into(),
            6.into(),
        ],
    );
    assert_eq!(
        full,
        RedrawEvent::WinFloatPos {
            grid: 4,
            win: 1001,
            anchor: Anchor::SE,
            anchor_grid: 2,
            anchor_row: 3.5,
            anchor_col: 10.0,
            mouse_enabled: false,
            zindex: Some(100),
            compindex: Some(6),
        }
    );
    let minimal =
        event("win_float_pos", vec![4.into(), w.clone(), "NW".into(), 1.into(), 0.25.into(), 1.75.into()]);
    assert_eq!(
        minimal,
        RedrawEvent::WinFloatPos {
            grid: 4,
            win: 1001,
            anchor: Anchor::NW,
            anchor_grid: 1,
            anchor_row: 0.25,
            anchor_col: 1.75,
            mouse_enabled: true,
            zindex: None,
            compindex: None,
        }
    );
    let no_zindex = event(
        "win_float_pos",
        vec![4.into(), w.clone(), "NW".into(), 1.into(), 0.into(), 0.into(), true.into()],
    );
    assert!(
        matches!(no_zindex, RedrawEvent::WinFloatPos { zindex: None, compindex: None, .. }),
        "{no_zindex:?}"
    );
    let f32_row = event("win_float_pos", vec![4.into(), w, "NW".into(), 1.into(), Value::F32(2.5), 0.into()]);
    assert!(matches!(f32_row, RedrawEvent::WinFloatPos { anchor_row: 2.5, .. }), "{f32_row:?}");
}

#[test]
fn win_float_pos_reads_every_anchor_and_refuses_others() {
    let anchors = [("NW", Anchor::NW), ("NE", Anchor::NE), ("SW", Anchor::SW), ("SE", Anchor::SE)];
    for (text, anchor) in anchors {
        let e =
            event("win_float_pos", vec![3.into(), 1000.into(), text.into(), 1.into(), 0.into(), 0.into()]);
        assert!(matches!(e, RedrawEvent::WinFloatPos { anchor: a, .. } if a == anchor), "{text}: {e:?}");
    }
    let e = error("win_float_pos", vec![3.into(), 1000.into(), "N".into(), 1.into(), 0.into(), 0.into()]);
    assert!(e.reason.contains("unknown anchor"), "{e}");
    let e =
        error("win_float_pos", vec![3.into(), 1000.into(), "NW".into(), 1.into(), f64::NAN.into(), 0.into()]);
    assert!(e.reason.contains("not a number"), "{e}");
    error("win_float_pos", vec![3.into(), 1000.into(), "NW".into(), 1.into(), 0.into(), "0".into()]);
}

#[test]
fn win_hide_close_external_and_extmark() {
    use RedrawEvent as E;
    assert_eq!(event("win_hide", vec![3.into()]), E::WinHide { grid: 3 });
    assert_eq!(event("win_close", vec![3.into()]), E::WinClose { grid: 3 });
    assert_eq!(
        event("win_external_pos", vec![3.into(), window(EXT.window, 1002)]),
        E::WinExternalPos { grid: 3, win: 1002 }
    );
    assert_eq!(
        event(
            "win_extmark",
            vec![3.into(), window(EXT.window, 1002), 4.into(), (-5).into(), 6.into(), 7.into()]
        ),
        E::WinExtmark { grid: 3, win: 1002, ns_id: 4, mark_id: -5, row: 6, col: 7 }
    );
}

#[test]
fn msg_set_pos_with_and_without_trailing_args() {
    assert_eq!(
        event("msg_set_pos", vec![5.into(), 20.into(), true.into(), "─".into(), 200.into(), 9.into()]),
        RedrawEvent::MsgSetPos {
            grid: 5,
            row: 20,
            scrolled: true,
            sep_char: Cow::Borrowed("─"),
            zindex: Some(200),
            compindex: Some(9),
        }
    );
    assert_eq!(
        event("msg_set_pos", vec![5.into(), 20.into(), false.into(), " ".into()]),
        RedrawEvent::MsgSetPos {
            grid: 5,
            row: 20,
            scrolled: false,
            sep_char: Cow::Borrowed(" "),
            zindex: None,
            compindex: None,
        }
    );
    assert!(matches!(
        event("msg_set_pos", vec![5.into(), 20.into(), true.into(), "-".into(), 201.into()]),
        RedrawEvent::MsgSetPos { zindex: Some(201), compindex: None, .. }
    ));
    // Older nvims send no separator; flags may come as 0/1.
    assert!(matches!(
        event("msg_set_pos", vec![5.into(), 20.into(), 1.into()]),
        RedrawEvent::MsgSetPos { scrolled: true, ref sep_char, .. } if sep_char.is_empty()
    ));
}

#[test]
fn win_viewport_with_and_without_trailing_args() {
    let w = window(EXT.window, 1000);
    assert_eq!(
        event(
            "win_viewport",
            vec![2.into(), w.clone(), 0.into(), 40.into(), 12.into(), 3.into(), 300.into(), (-2).into()]
        ),
        RedrawEvent::WinViewport {
            grid: 2,
            win: 1000,
            topline: 0,
            botline: 40,
            curline: 12,
            curcol: 3,
            line_count: Some(300),
            scroll_delta: Some(-2),
        }
    );
    assert_eq!(
        event("win_viewport", vec![2.into(), w.clone(), 0.into(), 40.into(), 12.into(), 3.into()]),
        RedrawEvent::WinViewport {
            grid: 2,
            win: 1000,
            topline: 0,
            botline: 40,
            curline: 12,
            curcol: 3,
            line_count: None,
            scroll_delta: None,
        }
    );
    assert!(matches!(
        event(
            "win_viewport",
            vec![2.into(), w.clone(), 0.into(), 40.into(), 12.into(), 3.into(), 300.into()]
        ),
        RedrawEvent::WinViewport { line_count: Some(300), scroll_delta: None, .. }
    ));
    error("win_viewport", vec![2.into(), w, 0.into(), 40.into(), 12.into()]);
}

#[test]
fn win_viewport_margins() {
    assert_eq!(
        event(
            "win_viewport_margins",
            vec![2.into(), window(EXT.window, 1000), 1.into(), 2.into(), 3.into(), 4.into()]
        ),
        RedrawEvent::WinViewportMargins { grid: 2, win: 1000, top: 1, bottom: 2, left: 3, right: 4 }
    );
}

// ------------------------------------------------------ positional-arg rules

#[test]
fn extra_trailing_args_are_ignored() {
    use RedrawEvent as E;
    let extra = || [Value::from("future"), Value::Map(vec![]), Value::Nil];
    let with_extra = |mut args: Vec<Value>| {
        args.extend(extra());
        args
    };
    assert_eq!(
        event("grid_resize", with_extra(vec![1.into(), 80.into(), 24.into()])),
        E::GridResize { grid: 1, width: 80, height: 24 }
    );
    assert_eq!(
        event(
            "grid_line",
            with_extra(vec![
                1.into(),
                0.into(),
                0.into(),
                Value::Array(vec![cell("a", Some(0), None)]),
                true.into()
            ])
        ),
        E::GridLine { grid: 1, row: 0, col_start: 0, cells: vec![update("a", Some(0), None)], wrap: true }
    );
    assert_eq!(
        event("hl_group_set", with_extra(vec!["Normal".into(), 1.into()])),
        E::HlGroupSet { name: Cow::Borrowed("Normal"), id: 1 }
    );
    assert_eq!(event("win_close", with_extra(vec![3.into()])), E::WinClose { grid: 3 });
    assert!(matches!(
        event(
            "win_float_pos",
            with_extra(vec![
                3.into(),
                1000.into(),
                "NW".into(),
                1.into(),
                0.into(),
                0.into(),
                true.into(),
                50.into(),
                2.into()
            ])
        ),
        E::WinFloatPos { zindex: Some(50), compindex: Some(2), .. }
    ));
    assert!(matches!(
        event(
            "win_viewport",
            with_extra(vec![
                2.into(),
                1000.into(),
                0.into(),
                1.into(),
                0.into(),
                0.into(),
                1.into(),
                0.into()
            ])
        ),
        E::WinViewport { line_count: Some(1), scroll_delta: Some(0), .. }
    ));
    assert!(matches!(
        event("default_colors_set", with_extra(vec![1.into(), 2.into(), 3.into(), 4.into(), 5.into()])),
        E::DefaultColorsSet { fg: Some(1), bg: Some(2), sp: Some(3) }
    ));
}

#[test]
fn wrongly_typed_or_missing_args_are_errors_naming_the_event() {
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        ("grid_resize", vec![1.into(), "80".into(), 24.into()], "argument 1 is not an integer"),
        ("grid_resize", vec![1.into(), 80.into()], "missing argument 2"),
        ("grid_resize", vec![1.into(), (-80).into(), 24.into()], "argument 1 is negative"),
        ("grid_resize", vec![1.into(), u64::MAX.into(), 24.into()], "argument 1 too large"),
        ("grid_clear", vec![Value::Nil], "argument 0 is not an integer"),
        ("grid_destroy", vec![], "missing argument 0"),
        ("grid_cursor_goto", vec![1.into(), 0.5.into(), 0.into()], "argument 1 is not an integer"),
        ("grid_scroll", vec![1.into(), 0.into(), 5.into(), 0.into(), 5.into(), true.into()], "argument 5"),
        ("win_hide", vec!["3".into()], "argument 0 is not an integer"),
        ("win_pos", vec![2.into(), 1000.into(), 0.into(), 0.into(), 10.into()], "missing argument 5"),
        ("msg_set_pos", vec![5.into(), 2.into(), "yes".into()], "argument 2 is not a boolean"),
        ("msg_set_pos", vec![5.into(), 2.into(), true.into(), 0.into()], "argument 3 is not a string"),
        (
            "win_viewport_margins",
            vec![2.into(), 1000.into(), 0.into(), 0.into(), 0.into(), (-1).into()],
            "negative",
        ),
        ("win_extmark", vec![2.into(), 1000.into(), 0.into(), 0.into(), 0.into()], "missing argument 5"),
        ("mode_change", vec!["n".into()], "missing argument 1"),
        ("set_icon", vec![], "missing argument 0"),
    ];
    for (name, args, reason) in cases {
        let shown = Value::Array(args.clone()).to_string();
        let e = error(name, args);
        assert_eq!(e.event, name);
        assert!(e.reason.contains(reason), "{name}: expected {reason:?} in {e}");
        // The error carries the offending tuple for the log.
        assert_eq!(e.value, shown, "{name}");
        assert!(e.to_string().starts_with(&format!("bad '{name}' event")), "{e}");
    }
}

#[test]
fn unknown_event_names_are_not_errors() {
    assert_eq!(decode_with("msg_show", vec![1.into()], Some(EXT)), Ok(None));
    assert_eq!(decode_with("", vec![], Some(EXT)), Ok(None));
    assert_eq!(decode_with("Flush", vec![], Some(EXT)), Ok(None), "names are case-sensitive");
}

// ----------------------------------------------------------------- batches

#[test]
fn one_batch_carries_many_tuples_in_order() {
    let line = |row: i64, text: &str| {
        vec![1.into(), row.into(), 0.into(), Value::Array(vec![cell(text, Some(0), None)])]
    };
    let events = decode_batches(
        vec![
            batch("grid_line", vec![line(0, "a"), line(1, "b"), line(2, "c")]),
            batch("flush", vec![vec![]]),
        ],
        &mut Decoder::new(Some(EXT)),
    );
    let rows: Vec<(usize, &str)> = events
        .iter()
        .filter_map(|e| match e {
            RedrawEvent::GridLine { row, cells, .. } => Some((*row, &*cells[0].text)),
            _ => None,
        })
        .collect();
    assert_eq!(rows, [(0, "a"), (1, "b"), (2, "c")]);
    assert_eq!(events.last(), Some(&RedrawEvent::Flush));
}

#[test]
fn unknown_events_are_skipped_and_later_events_still_decode() {
    let events = decode_batches(
        vec![
            batch("msg_show", vec![vec!["echo".into(), Value::Array(vec![])]]),
            batch("grid_clear", vec![vec![1.into()]]),
            batch("some_future_event", vec![vec![], vec![1.into()]]),
            batch("bell", vec![vec![]]),
        ],
        &mut Decoder::new(Some(EXT)),
    );
    assert_eq!(events, [RedrawEvent::GridClear { grid: 1 }, RedrawEvent::Bell]);
}

#[test]
fn bad_tuples_are_skipped_and_the_rest_of_the_batch_decodes() {
    let mut decoder = Decoder::new(Some(EXT));
    let events = decode_batches(
        vec![
            batch("grid_clear", vec![vec![1.into()], vec!["two".into()], vec![3.into()]]),
            // A tuple that is not an array, inside an otherwise fine batch.
            Value::Array(vec!["grid_destroy".into(), 4.into(), Value::Array(vec![5.into()])]),
            // Batches with no name, a non-string name, or that are not arrays.
            Value::Array(vec![]),
            Value::Array(vec![7.into(), Value::Array(vec![])]),
            Value::from("flush"),
            batch(
                "win_pos",
                vec![vec![2.into(), window(EXT.buffer, 1), 0.into(), 0.into(), 1.into(), 1.into()]],
            ),
            batch("win_hide", vec![vec![2.into()]]),
            batch("flush", vec![vec![]]),
        ],
        &mut decoder,
    );
    assert_eq!(
        events,
        [
            RedrawEvent::GridClear { grid: 1 },
            RedrawEvent::GridClear { grid: 3 },
            RedrawEvent::GridDestroy { grid: 5 },
            RedrawEvent::WinHide { grid: 2 },
            RedrawEvent::Flush,
        ]
    );
}

#[test]
fn clean_text_is_borrowed_and_grid_ids_are_wide() {
    // Text that needs no repair is borrowed, not copied.
    let e = event("set_title", vec!["plain".into()]);
    assert!(matches!(e, RedrawEvent::SetTitle(Cow::Borrowed("plain"))), "{e:?}");
    let grid: GridId = match event("grid_clear", vec![u64::from(u32::MAX).into()]) {
        RedrawEvent::GridClear { grid } => grid,
        other => panic!("{other:?}"),
    };
    assert_eq!(grid, u64::from(u32::MAX));
}
