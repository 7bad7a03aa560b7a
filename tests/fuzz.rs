//! Property tests: random, mutated and hostile input never panics the framing
//! scanner, the redraw decoder, the model, the compositor, the renderer
//! (offscreen, on the same code as the window) or an RPC session, and every
//! published frame keeps the bounds the model promises the renderer.
//! Inputs that the coverage-guided fuzzer (`tools/fuzz.sh`) found to crash
//! are replayed from tests/fixtures/fuzz-regressions/.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use rmpv::{Value, ValueRef};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use vireo::model::Frame;
use vireo::model::compose::compose;
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::Offscreen;
use vireo::replay::replay;
use vireo::rpc::framing::{FramingError, Scanner};
use vireo::rpc::{Dispatch, RequestTable, RpcError, Session, SessionError};

/// `cases` random cases a run, after the failures saved before: proptest
/// keeps them in `tests/fuzz.proptest-regressions` (commit the lines it
/// adds) and runs them first. Its default place, beside the source, needs
/// a `lib.rs` or `main.rs` among the test's folders, which `tests/` has
/// not.
fn config(cases: u32) -> ProptestConfig {
    let saved = proptest::test_runner::FileFailurePersistence::Direct("tests/fuzz.proptest-regressions");
    ProptestConfig { failure_persistence: Some(Box::new(saved)), ..ProptestConfig::with_cases(cases) }
}

fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).expect("writing to a Vec cannot fail");
    out
}

// ---------------------------------------------------------------- logging

/// Error lines logged by the renderer and wgpu. GPU validation errors are
/// logged rather than raised (a bad frame must not take the editor and its
/// unsaved work down), so this is how a test sees them.
static RENDER_ERRORS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Warnings the model logged on this thread (tests run in parallel):
    /// one per event it had to clamp.
    static MODEL_WARNINGS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

struct LogCounter;

impl log::Log for LogCounter {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        let target = record.target();
        if record.level() == log::Level::Error
            && (target.starts_with("vireo::render") || target.starts_with("wgpu"))
        {
            RENDER_ERRORS.fetch_add(1, Ordering::SeqCst);
            eprintln!("{target}: {}", record.args());
        }
        if record.level() == log::Level::Warn && target.starts_with("vireo::model") {
            MODEL_WARNINGS.set(MODEL_WARNINGS.get() + 1);
        }
    }

    fn flush(&self) {}
}

fn install_log_counter() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&LogCounter).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Warn);
    });
}

// ------------------------------------------------------------- invariants

/// What a replay produced; the replay itself must not panic.
struct Outcome {
    frames: usize,
    ok: bool,
}

/// Replays `bytes`, checking every frame and composing it.
fn replay_checked(bytes: &[u8]) -> Result<Outcome, TestCaseError> {
    let mut frames = 0;
    let mut seq = 0;
    let mut bad: Option<String> = None;
    let result = replay(bytes, |frame| {
        frames += 1;
        if bad.is_none() {
            bad = frame_problem(&frame, seq).err();
        }
        seq = frame.seq;
    });
    if let Some(problem) = bad {
        return Err(TestCaseError::fail(problem));
    }
    Ok(Outcome { frames, ok: result.is_ok() })
}

/// The fuzz target's input runner, shared so that saved crashes replay
/// exactly as the fuzzer ran them.
#[path = "../fuzz/harness.rs"]
mod harness;

/// Checks what the render side relies on, and that the frame composes.
fn frame_problem(frame: &Frame, previous_seq: u64) -> Result<(), String> {
    if frame.seq != previous_seq + 1 {
        return Err(format!("frame seq {} after {previous_seq}", frame.seq));
    }
    harness::frame_problem(frame)?;
    for (id, damage) in &frame.damage {
        let Some(grid) = frame.grid(*id) else {
            return Err(format!("damage for grid {id}, which is not in the frame"));
        };
        if damage.rows.iter().any(|&r| r >= grid.height) || !damage.rows.is_sorted() {
            return Err(format!("grid {id}: bad damage rows {:?}", damage.rows));
        }
    }
    let screen = compose(frame);
    if screen.cells.len() != screen.width * screen.height {
        return Err(format!("screen {}x{} has {} cells", screen.width, screen.height, screen.cells.len()));
    }
    Ok(())
}

// -------------------------------------------------------- generic values

/// Any msgpack value, nested a little, with lengths that cross the
/// fix/8/16-bit encodings.
fn any_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..20).prop_map(Value::from),
        any::<f32>().prop_map(Value::F32),
        any::<f64>().prop_map(Value::F64),
        ".{0,40}".prop_map(Value::from),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Value::Binary),
        (any::<i8>(), prop::collection::vec(any::<u8>(), 0..20)).prop_map(|(t, d)| Value::Ext(t, d)),
    ];
    leaf.prop_recursive(3, 48, 20, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::Map),
        ]
    })
    .boxed()
}

// ------------------------------------------------- redraw event generator

/// The shape of one event argument.
#[derive(Debug, Clone, Copy)]
enum Arg {
    Grid,
    Pos,
    Size,
    Int,
    Float,
    Bool,
    Text,
    Color,
    HlId,
    Cells,
    HlMap,
    ModeInfos,
    Window,
    Anchor,
    /// A zindex or compindex.
    Z,
    Any,
}

use Arg::*;

/// Every event the decoder knows, with how often to pick it and its
/// argument shapes, plus events it skips and names nvim never sends. The
/// weights favour the events that build grids and layers, so that streams
/// reach the compositor with something to compose.
const EVENTS: &[(&str, usize, &[Arg])] = &[
    ("grid_resize", 6, &[Grid, Size, Size]),
    ("grid_line", 6, &[Grid, Pos, Pos, Cells, Bool]),
    ("grid_clear", 1, &[Grid]),
    ("grid_destroy", 1, &[Grid]),
    ("grid_cursor_goto", 1, &[Grid, Pos, Pos]),
    ("grid_scroll", 3, &[Grid, Pos, Pos, Pos, Pos, Int, Int]),
    ("default_colors_set", 1, &[Color, Color, Color, Int, Int]),
    ("hl_attr_define", 2, &[HlId, HlMap, HlMap, Any]),
    ("hl_group_set", 1, &[Text, HlId]),
    ("set_title", 1, &[Text]),
    ("set_icon", 1, &[Text]),
    ("chdir", 1, &[Text]),
    ("mode_info_set", 1, &[Bool, ModeInfos]),
    ("mode_change", 1, &[Text, Pos]),
    ("option_set", 1, &[Text, Any]),
    ("mouse_on", 1, &[]),
    ("mouse_off", 1, &[]),
    ("busy_start", 1, &[]),
    ("busy_stop", 1, &[]),
    ("suspend", 1, &[]),
    ("update_menu", 1, &[]),
    ("bell", 1, &[]),
    ("visual_bell", 1, &[]),
    ("flush", 3, &[]),
    ("error_exit", 1, &[Int]),
    ("win_pos", 5, &[Grid, Window, Pos, Pos, Size, Size]),
    ("win_float_pos", 6, &[Grid, Window, Anchor, Grid, Float, Float, Bool, Z, Z]),
    ("win_external_pos", 1, &[Grid, Window]),
    ("win_hide", 1, &[Grid]),
    ("win_close", 1, &[Grid]),
    ("msg_set_pos", 3, &[Grid, Pos, Bool, Text, Z, Z]),
    ("win_viewport", 1, &[Grid, Window, Int, Int, Int, Int, Int, Int]),
    ("win_viewport_margins", 1, &[Grid, Window, Pos, Pos, Pos, Pos]),
    ("win_extmark", 1, &[Grid, Window, Int, Int, Pos, Pos]),
    ("msg_show", 1, &[Text, Any, Bool]),
    ("popupmenu_show", 1, &[Any, Pos, Pos, Pos, Grid]),
    ("restart", 1, &[Text, Any]),
    ("", 1, &[Any]),
    ("GRID_LINE", 1, &[Grid, Pos, Pos, Cells]),
];

/// [`EVENTS`] with each entry repeated by its weight.
fn weighted_events() -> Vec<(&'static str, &'static [Arg])> {
    EVENTS.iter().flat_map(|&(name, weight, args)| std::iter::repeat_n((name, args), weight)).collect()
}

fn int() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (-3i64..12).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1), Just(1 << 32)].prop_map(Value::from),
        1 => prop_oneof![Just(u64::MAX), Just(1u64 << 63)].prop_map(Value::from),
    ]
    .boxed()
}

fn arg(kind: Arg) -> BoxedStrategy<Value> {
    match kind {
        Grid => (1u64..=4).prop_map(Value::from).boxed(),
        Pos => prop_oneof![6 => (0u64..12).prop_map(Value::from), 1 => int()].boxed(),
        Size => prop_oneof![
            12 => (0u64..12).prop_map(Value::from),
            1 => prop_oneof![Just(9_999u64), Just(10_000), Just(10_001), Just(1 << 40)].prop_map(Value::from),
            1 => int(),
        ]
        .boxed(),
        Int => int(),
        Float => prop_oneof![
            4 => (-4.0f64..14.0).prop_map(Value::from),
            1 => any::<f64>().prop_map(Value::from),
            1 => prop_oneof![Just(1e300), Just(-1e300), Just(f64::NAN), Just(f64::INFINITY)].prop_map(Value::from),
            1 => int(),
        ]
        .boxed(),
        Bool => prop_oneof![4 => any::<bool>().prop_map(Value::from), 1 => (0i64..2).prop_map(Value::from)].boxed(),
        Text => prop_oneof![
            4 => "[a-z ─日]{0,4}".prop_map(Value::from),
            1 => prop::collection::vec(any::<u8>(), 0..6).prop_map(Value::Binary),
        ]
        .boxed(),
        Color => prop_oneof![4 => (0i64..0x100_0000).prop_map(Value::from), 1 => int()].boxed(),
        HlId => prop_oneof![6 => (0u64..8).prop_map(Value::from), 1 => int()].boxed(),
        Cells => prop::collection::vec(cell(), 0..10).prop_map(Value::Array).boxed(),
        HlMap => prop::collection::vec((hl_key(), hl_value()), 0..6)
            .prop_map(|kv| Value::Map(kv.into_iter().map(|(k, v)| (Value::from(k), v)).collect()))
            .boxed(),
        ModeInfos => prop::collection::vec(mode_info(), 0..4).prop_map(Value::Array).boxed(),
        Window => prop_oneof![
            2 => (1000i64..1004).prop_map(Value::from),
            1 => Just(Value::from(-1)),
            2 => (prop_oneof![Just(0i8), Just(1), Just(7), any::<i8>()], prop_oneof![(1000i64..1004), Just(-1)])
                .prop_map(|(code, handle)| Value::Ext(code, encode(&Value::from(handle)))),
            1 => (any::<i8>(), prop::collection::vec(any::<u8>(), 0..10)).prop_map(|(c, d)| Value::Ext(c, d)),
        ]
        .boxed(),
        Anchor => prop::sample::select(&["NW", "NE", "SW", "SE", "nw", ""][..]).prop_map(Value::from).boxed(),
        Z => prop_oneof![6 => (0u64..300).prop_map(Value::from), 1 => int()].boxed(),
        Any => any_value(),
    }
}

fn cell() -> impl Strategy<Value = Value> {
    let text = prop::sample::select(&["a", "日", "", " ", "xy", "─"][..]);
    let hl = prop::option::of(prop_oneof![6 => (0u64..8).prop_map(Value::from), 1 => int()]);
    let repeat = prop::option::of(prop_oneof![
        6 => (0u64..15).prop_map(Value::from),
        1 => prop_oneof![Just(u64::MAX), Just(1u64 << 40)].prop_map(Value::from),
        1 => int(),
    ]);
    (text, hl, repeat).prop_map(|(text, hl, repeat)| {
        let mut parts = vec![Value::from(text)];
        // A repeat count needs an hl id before it.
        match (hl, repeat) {
            (Some(hl), Some(repeat)) => parts.extend([hl, repeat]),
            (Some(hl), None) => parts.push(hl),
            (None, _) => {}
        }
        Value::Array(parts)
    })
}

fn hl_key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "foreground",
            "background",
            "special",
            "reverse",
            "italic",
            "bold",
            "strikethrough",
            "underline",
            "undercurl",
            "underdouble",
            "underdotted",
            "underdashed",
            "altfont",
            "blend",
            "url",
            "standout",
            "nocombine",
            "fg_indexed",
            "unknown",
        ][..],
    )
}

fn hl_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => Just(Value::from(true)),
        3 => (0i64..0x100_0000).prop_map(Value::from),
        1 => int(),
        1 => "[a-z:/.]{0,12}".prop_map(Value::from),
        1 => any_value(),
    ]
    .boxed()
}

fn mode_info() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(
        &[
            "cursor_shape",
            "cell_percentage",
            "blinkwait",
            "blinkon",
            "blinkoff",
            "attr_id",
            "attr_id_lm",
            "short_name",
            "name",
            "mouse_shape",
        ][..],
    );
    let value = prop_oneof![
        Just(Value::from("block")),
        Just(Value::from("vertical")),
        Just(Value::from("horizontal")),
        int(),
        any_value(),
    ];
    prop::collection::vec((key, value), 0..6)
        .prop_map(|kv| Value::Map(kv.into_iter().map(|(k, v)| (Value::from(k), v)).collect()))
}

/// One argument tuple of the given shape: usually right, sometimes with a
/// wrongly typed value, cut short, or with extra trailing arguments.
fn tuple(kinds: &'static [Arg]) -> BoxedStrategy<Value> {
    let args: Vec<BoxedStrategy<Value>> =
        kinds.iter().map(|&k| prop_oneof![24 => arg(k), 1 => any_value()].boxed()).collect();
    let extras = prop::collection::vec(any_value(), 1..3);
    (args, extras, 0u8..10, any::<Index>())
        .prop_map(|(mut args, extras, mode, cut)| {
            match mode {
                0 => args.truncate(cut.index(args.len() + 1)),
                1 => args.extend(extras),
                _ => {}
            }
            Value::Array(args)
        })
        .boxed()
}

/// `[name, tuple, ...]`; now and then a batch of the wrong shape.
fn batch() -> BoxedStrategy<Value> {
    let known = prop::sample::select(weighted_events()).prop_flat_map(|(name, kinds)| {
        let tuples = prop::collection::vec(prop_oneof![20 => tuple(kinds), 1 => any_value()], 1..4);
        tuples.prop_map(move |tuples| {
            let mut items = vec![Value::from(name)];
            items.extend(tuples);
            Value::Array(items)
        })
    });
    let garbage_name = ("[a-z_]{0,12}", prop::collection::vec(any_value(), 0..3))
        .prop_map(|(name, args)| Value::Array(vec![Value::from(name), Value::Array(args)]));
    prop_oneof![30 => known, 2 => garbage_name, 1 => any_value()].boxed()
}

fn flush_batch() -> Value {
    Value::Array(vec!["flush".into(), Value::Array(vec![])])
}

/// `[2, "redraw", [batch...]]`, usually ending in a flush.
fn redraw_message() -> impl Strategy<Value = Value> {
    (prop::collection::vec(batch(), 1..8), any::<bool>()).prop_map(|(mut batches, flush)| {
        if flush {
            batches.push(flush_batch());
        }
        Value::Array(vec![2.into(), "redraw".into(), Value::Array(batches)])
    })
}

/// `[name, [args...]]` from one strategy per argument.
fn fixed_batch(name: &'static str, args: Vec<BoxedStrategy<Value>>) -> BoxedStrategy<Value> {
    args.prop_map(move |args| Value::Array(vec![Value::from(name), Value::Array(args)])).boxed()
}

/// A well-formed start, so that random events that follow act on grids that
/// exist and are placed: the global grid, grids 2 to 4 with some text, each
/// a split, a float or the message grid (with arguments from the same
/// generators, extremes included), then a flush.
fn setup_message() -> impl Strategy<Value = Value> {
    let small = |lo: u64, hi: u64| (lo..hi).prop_map(Value::from).boxed();
    let mut batches = vec![
        fixed_batch("grid_resize", vec![Just(Value::from(1)).boxed(), small(1, 30), small(1, 12)]),
        fixed_batch("grid_line", vec![Just(Value::from(1)).boxed(), small(0, 12), small(0, 30), arg(Cells)]),
        fixed_batch("hl_group_set", vec![Just(Value::from("MsgSeparator")).boxed(), arg(HlId)]),
    ];
    for grid in 2u64..=4 {
        let id = || Just(Value::from(grid)).boxed();
        batches.push(fixed_batch("grid_resize", vec![id(), small(1, 12), small(1, 8)]));
        batches.push(fixed_batch("grid_line", vec![id(), small(0, 8), small(0, 12), arg(Cells), arg(Bool)]));
        batches.push(
            prop_oneof![
                fixed_batch("win_pos", vec![id(), arg(Window), arg(Pos), arg(Pos), arg(Size), arg(Size)]),
                fixed_batch(
                    "win_float_pos",
                    vec![
                        id(),
                        arg(Window),
                        arg(Anchor),
                        arg(Grid),
                        arg(Float),
                        arg(Float),
                        arg(Bool),
                        arg(Z),
                        arg(Z)
                    ]
                ),
                fixed_batch("msg_set_pos", vec![id(), arg(Pos), arg(Bool), arg(Text), arg(Z), arg(Z)]),
            ]
            .boxed(),
        );
    }
    batches.push(Just(flush_batch()).boxed());
    batches.prop_map(|batches| Value::Array(vec![2.into(), "redraw".into(), Value::Array(batches)]))
}

/// A `nvim_get_api_info` response naming Window's EXT code.
fn api_info_response(window: i8) -> Value {
    let ty = |id: i8| Value::Map(vec![("id".into(), id.into())]);
    let version =
        Value::Map(vec![("major".into(), 0.into()), ("minor".into(), 11.into()), ("patch".into(), 0.into())]);
    let types =
        Value::Map(vec![("Buffer".into(), ty(0)), ("Window".into(), ty(window)), ("Tabpage".into(), ty(2))]);
    let info =
        Value::Array(vec![1.into(), Value::Map(vec![("version".into(), version), ("types".into(), types)])]);
    Value::Array(vec![1.into(), 1.into(), Value::Nil, info])
}

/// A whole recorded stream: maybe the api info first, usually a well-formed
/// start, then random notifications.
fn redraw_stream() -> impl Strategy<Value = Vec<Value>> {
    let api = prop::option::of(prop_oneof![Just(1i8), Just(7), any::<i8>()]);
    let setup = prop::option::weighted(0.9, setup_message());
    (api, setup, prop::collection::vec(redraw_message(), 1..6)).prop_map(|(api, setup, messages)| {
        let mut stream: Vec<Value> = api.map(api_info_response).into_iter().collect();
        stream.extend(setup);
        stream.extend(messages);
        stream
    })
}

/// Flush tuples that the decoder will see: flush takes no arguments, so
/// every array tuple of a flush batch becomes a frame.
fn expected_frames(stream: &[Value]) -> usize {
    let batches = stream.iter().filter_map(|msg| match msg {
        Value::Array(items) if items.len() == 3 && items[1].as_str() == Some("redraw") => items[2].as_array(),
        _ => None,
    });
    batches
        .flatten()
        .filter_map(|batch| match batch.as_array()?.as_slice() {
            [name, tuples @ ..] if name.as_slice() == Some(b"flush") => {
                Some(tuples.iter().filter(|t| t.is_array()).count())
            }
            _ => None,
        })
        .sum()
}

// -------------------------------------------------------- replay properties

proptest! {
    #![proptest_config(config(256))]

    /// (a) Arbitrary bytes.
    #[test]
    fn random_bytes_never_panic_replay(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        replay_checked(&bytes)?;
    }

    /// (a) Arbitrary bytes after a valid redraw header, so they reach the decoder.
    #[test]
    fn random_redraw_params_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..512),
        batches in 0u8..16,
    ) {
        let mut bytes = vec![0x93, 0x02, 0xa6];
        bytes.extend(b"redraw");
        bytes.push(0x90 | batches);
        bytes.extend(tail);
        replay_checked(&bytes)?;
    }

    /// (c) Well-formed messages of plausible, wrong, missing and extra
    /// arguments: decoding, applying and composing never panic, and every
    /// flush publishes exactly one frame.
    #[test]
    fn generated_redraw_streams_never_panic(stream in redraw_stream()) {
        let bytes: Vec<u8> = stream.iter().flat_map(encode).collect();
        let outcome = replay_checked(&bytes)?;
        prop_assert!(outcome.ok, "a stream of complete messages replays");
        prop_assert_eq!(outcome.frames, expected_frames(&stream));
    }

    /// The same streams, with a few bytes overwritten and maybe cut short.
    #[test]
    fn mutated_redraw_streams_never_panic(
        stream in redraw_stream(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>()), 1..6),
        cut in prop::option::of(any::<Index>()),
    ) {
        let mut bytes: Vec<u8> = stream.iter().flat_map(encode).collect();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        replay_checked(&bytes)?;
    }
}

/// `[2, "redraw", [[[...nil...]]]]` with `depth` extra levels.
fn deeply_nested_redraw(depth: usize) -> Vec<u8> {
    let mut bytes = vec![0x93, 0x02, 0xa6];
    bytes.extend(b"redraw");
    bytes.extend(std::iter::repeat_n(0x91, depth));
    bytes.push(0xc0);
    bytes
}

/// Deep nesting is refused as undecodable, never recursed into until the
/// stack runs out (which aborts the process, uncatchably).
#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    for depth in [3, 20] {
        assert!(replay_checked(&deeply_nested_redraw(depth)).expect("consistent").ok, "depth {depth}");
    }
    for depth in [100, 500, 1000, 100_000] {
        let outcome = replay_checked(&deeply_nested_redraw(depth)).expect("consistent");
        assert!(!outcome.ok, "depth {depth} should be refused");
    }
    // Nesting inside an otherwise fine event, and inside a window handle.
    let mut bytes = vec![0x93, 0x02, 0xa6];
    bytes.extend(b"redraw");
    bytes.extend([0x91, 0x92, 0xa7]);
    bytes.extend(b"win_pos");
    // An EXT payload is opaque to the message's depth limit: the handle
    // decoder needs its own.
    let payload_depth: u32 = 100_000;
    bytes.extend([0x96, 0x02, 0xc9]);
    bytes.extend((payload_depth + 1).to_be_bytes());
    bytes.push(0x07);
    bytes.extend(std::iter::repeat_n(0x91, payload_depth as usize));
    bytes.push(0x01);
    bytes.extend([0x00, 0x00, 0x01, 0x01]);
    assert!(replay_checked(&bytes).expect("consistent").ok);
}

fn fixture_streams() -> Vec<Vec<u8>> {
    let dir = Path::new("tests/fixtures/replay");
    let mut streams: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("the replay fixtures exist")
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("stream.msgpack")).ok())
        .collect();
    streams.sort();
    assert!(!streams.is_empty(), "no fixture streams in {}", dir.display());
    streams
}

/// The unmutated recordings replay cleanly, so the mutations below start
/// from streams that reach deep into the model (and the decoder's limits
/// and the model's bounds fit real nvim output: nothing is clamped).
#[test]
fn recordings_replay_cleanly() {
    install_log_counter();
    for stream in fixture_streams() {
        let outcome = replay_checked(&stream).expect("frames stay consistent");
        assert!(outcome.ok);
        assert!(outcome.frames > 0);
    }
    assert_eq!(MODEL_WARNINGS.get(), 0, "the model clamped events of real nvim output");
}

proptest! {
    #![proptest_config(config(64))]

    /// Real recordings with a few bytes overwritten.
    #[test]
    fn mutated_recordings_never_panic(
        pick in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>()), 1..8),
    ) {
        let streams = fixture_streams();
        let mut bytes = streams[pick.index(streams.len())].clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        replay_checked(&bytes)?;
    }
}

// ------------------------------------------------------ offscreen rendering

/// One renderer for the whole file: opening a device and loading fonts is
/// slow.
fn offscreen() -> std::sync::MutexGuard<'static, Offscreen> {
    static OFFSCREEN: OnceLock<Mutex<Offscreen>> = OnceLock::new();
    let offscreen = OFFSCREEN.get_or_init(|| {
        install_log_counter();
        Mutex::new(Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device (mesa-vulkan-drivers)"))
    });
    // A failed case poisons the lock; the renderer is still usable.
    offscreen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Frames rendered per case: the last ones of the stream, where most has
/// happened.
const RENDERED_FRAMES: usize = 4;

/// Replays `bytes` and renders its last frames offscreen, with the cursor
/// shown on every other frame and maybe an IME preedit at the cursor: no
/// panic, no GPU error. Returns how many frames were rendered.
fn render_checked(bytes: &[u8], preedit: bool) -> Result<usize, TestCaseError> {
    let mut frames = Vec::new();
    // A mutated stream may stop with a replay error: the frames before it
    // still render.
    replay(bytes, |frame| frames.push(frame)).ok();
    let skip = frames.len().saturating_sub(RENDERED_FRAMES);
    let mut offscreen = offscreen();
    // Each case starts from a clean renderer, so that a failure reproduces
    // (and shrinks) on its own.
    offscreen.renderer.invalidate();
    offscreen.renderer.set_preedit(preedit.then(|| "日本".to_owned()));
    let errors_before = RENDER_ERRORS.load(Ordering::SeqCst);
    for (i, frame) in frames.iter().enumerate().skip(skip) {
        let cursor = CursorState { visible: i % 2 == 0 };
        offscreen.render_and_wait(frame, cursor).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    prop_assert_eq!(RENDER_ERRORS.load(Ordering::SeqCst), errors_before, "the renderer logged errors");
    Ok(frames.len() - skip)
}

/// A redraw message setting the cell size: the largest `guifont` with the
/// largest `linespace`, the smallest of both, or the defaults.
fn cell_size_message() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![(":h200", 200), (":h1", -50), ("", 0)]).prop_map(|(font, linespace)| {
        let batch = Value::Array(vec![
            "option_set".into(),
            Value::Array(vec!["guifont".into(), font.into()]),
            Value::Array(vec!["linespace".into(), linespace.into()]),
        ]);
        Value::Array(vec![2.into(), "redraw".into(), Value::Array(vec![batch])])
    })
}

proptest! {
    // Rendering on a software GPU is slow: few cases, each a whole stream.
    #![proptest_config(config(24))]

    /// Generated streams (hostile sizes and positions included) render
    /// offscreen without a panic or a GPU error.
    #[test]
    fn generated_redraw_streams_render_offscreen(
        cell_size in cell_size_message(),
        stream in redraw_stream(),
        preedit in any::<bool>(),
    ) {
        let bytes: Vec<u8> = std::iter::once(&cell_size).chain(&stream).flat_map(encode).collect();
        render_checked(&bytes, preedit)?;
    }

    /// Real recordings with a few bytes overwritten render the same way.
    #[test]
    fn mutated_recordings_render_offscreen(
        pick in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>()), 1..8),
        preedit in any::<bool>(),
    ) {
        let streams = fixture_streams();
        let mut bytes = streams[pick.index(streams.len())].clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        render_checked(&bytes, preedit)?;
    }
}

/// A `redraw` notification of `(name, args)` batches of one tuple each.
fn redraw(batches: &[(&str, Vec<Value>)]) -> Value {
    let batches = batches
        .iter()
        .map(|(name, args)| Value::Array(vec![(*name).into(), Value::Array(args.clone())]))
        .collect();
    Value::Array(vec![2.into(), "redraw".into(), Value::Array(batches)])
}

/// Sizes and positions at the edge of what the model accepts: a float of
/// 10 000 columns (wider than any GPU texture at any cell size), a split
/// 10 000 rows tall far off screen, the message grid and the cursor past
/// every edge. They render without a GPU error, at the default and the
/// largest cell size.
#[test]
fn grids_and_positions_at_the_limits_render_offscreen() {
    let max = vireo::model::MAX_COORD as u64;
    // The largest integer the decoder takes.
    let huge = i64::MAX as u64;
    let line = |grid: u64| {
        let cells = vec![Value::Array(vec!["x".into(), 0.into(), Value::from(max)])];
        ("grid_line", vec![grid.into(), 0.into(), 0.into(), Value::Array(cells), false.into()])
    };
    let float = vec![
        2.into(),
        1002.into(),
        "NW".into(),
        1.into(),
        1e300.into(),
        (-1e300).into(),
        true.into(),
        50.into(),
        1.into(),
    ];
    for (font, linespace) in [("", 0), (":h200", 200)] {
        let stream = [
            redraw(&[
                ("option_set", vec!["guifont".into(), font.into()]),
                ("option_set", vec!["linespace".into(), linespace.into()]),
                ("grid_resize", vec![1.into(), 30.into(), 8.into()]),
                ("grid_resize", vec![2.into(), max.into(), 2.into()]),
                ("grid_resize", vec![3.into(), 3.into(), max.into()]),
                ("grid_resize", vec![4.into(), max.into(), 1.into()]),
                line(1),
                line(2),
                line(3),
                line(4),
                ("win_float_pos", float.clone()),
                ("win_pos", vec![3.into(), 1003.into(), huge.into(), 5.into(), huge.into(), huge.into()]),
                ("msg_set_pos", vec![4.into(), 7.into(), true.into(), "-".into()]),
                ("grid_cursor_goto", vec![2.into(), huge.into(), huge.into()]),
                ("flush", vec![]),
            ]),
            redraw(&[
                ("msg_set_pos", vec![4.into(), huge.into(), true.into(), "-".into()]),
                ("win_pos", vec![3.into(), 1003.into(), 0.into(), 0.into(), 3.into(), max.into()]),
                ("grid_cursor_goto", vec![3.into(), huge.into(), 1.into()]),
                ("flush", vec![]),
            ]),
        ];
        let bytes: Vec<u8> = stream.iter().flat_map(encode).collect();
        install_log_counter();
        let warnings_before = MODEL_WARNINGS.get();
        let outcome = replay_checked(&bytes).expect("frames keep their bounds");
        assert_eq!(outcome.frames, 2);
        // The float, the split, the message grid, and the cursor twice.
        assert_eq!(MODEL_WARNINGS.get() - warnings_before, 5, "one warning per clamped event");
        for preedit in [false, true] {
            assert_eq!(render_checked(&bytes, preedit).expect("renders cleanly"), 2, "{font}");
        }
    }
}

/// Rendering work follows what the window shows, not what nvim sends: a
/// float 10 000 rows tall and 10 000 columns wide over a 10x4 screen draws
/// only the 4 rows the screen has room for.
#[test]
fn a_grid_larger_than_the_window_draws_only_what_is_shown() {
    use vireo::model::{Anchor, CellUpdate, MAX_COORD, Model, RedrawEvent};

    let mut model = Model::new();
    let mut apply = |event| model.apply(event).expect("a valid event");
    let text = |t: &'static str| CellUpdate { text: t.into(), hl: Some(0), repeat: None };
    apply(RedrawEvent::GridResize { grid: 1, width: 10, height: 4 });
    apply(RedrawEvent::GridResize { grid: 2, width: 400, height: MAX_COORD });
    for (grid, row) in [(1, 0), (2, 0), (2, MAX_COORD - 1)] {
        apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells: vec![text("x")], wrap: false });
    }
    apply(RedrawEvent::WinFloatPos {
        grid: 2,
        win: 1002,
        anchor: Anchor::NW,
        anchor_grid: 1,
        anchor_row: 0.0,
        anchor_col: 0.0,
        mouse_enabled: true,
        zindex: None,
        compindex: None,
    });
    let frame = apply(RedrawEvent::Flush).expect("a flush publishes a frame");
    let mut offscreen = offscreen();
    offscreen.renderer.invalidate();
    offscreen.renderer.set_preedit(None);
    let errors_before = RENDER_ERRORS.load(Ordering::SeqCst);
    let stats = offscreen.render_and_wait(&frame, CursorState { visible: true }).expect("renders");
    assert_eq!(RENDER_ERRORS.load(Ordering::SeqCst), errors_before, "the renderer logged errors");
    assert_eq!((stats.layers, stats.rows_drawn), (2, 4 + 4));
}

/// Every input the coverage-guided fuzzer found to crash or to break a
/// frame's bounds, run as the fuzzer ran it, then rendered offscreen.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = Path::new("tests/fixtures/fuzz-regressions");
    assert!(dir.join("README.md").is_file(), "{} explains the folder", dir.display());
    let mut inputs: Vec<_> = std::fs::read_dir(dir)
        .expect("the regression folder exists")
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.file_name().is_some_and(|name| name != "README.md"))
        .collect();
    inputs.sort();
    for path in inputs {
        let bytes = std::fs::read(&path).expect("a readable regression input");
        harness::run(&bytes);
        replay_checked(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        render_checked(&bytes, true).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

// --------------------------------------------------------- framing scanner

/// Message ends found in the whole buffer at once, and how scanning stopped.
fn boundaries_whole(bytes: &[u8]) -> (Vec<usize>, Option<FramingError>) {
    boundaries_chunked(bytes, &[])
}

/// The same, with the bytes arriving in pieces ending at `cuts`, the way the
/// session's reader sees them.
fn boundaries_chunked(bytes: &[u8], cuts: &[usize]) -> (Vec<usize>, Option<FramingError>) {
    let mut scanner = Scanner::default();
    let mut ends = Vec::new();
    let mut start = 0;
    for &available in cuts.iter().chain([&bytes.len()]) {
        loop {
            match scanner.next_message(&bytes[start..available]) {
                Ok(Some(len)) => {
                    assert!(len > 0, "an empty message would never advance");
                    start += len;
                    ends.push(start);
                }
                Ok(None) => break,
                Err(e) => return (ends, Some(e)),
            }
        }
    }
    (ends, None)
}

fn scanner_input() -> impl Strategy<Value = Vec<u8>> {
    let values = prop::collection::vec(any_value(), 0..6)
        .prop_map(|values| values.iter().flat_map(encode).collect::<Vec<u8>>());
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..1024),
        values.clone(),
        // Valid messages, then garbage.
        (values, prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(mut v, tail)| {
            v.extend(tail);
            v
        }),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// (b) Splitting the input anywhere finds the same messages.
    #[test]
    fn chunked_scanning_matches_whole_buffer_scanning(
        bytes in scanner_input(),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(boundaries_chunked(&bytes, &cuts), boundaries_whole(&bytes));
        // Byte at a time, the worst case for resuming.
        let every: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(boundaries_chunked(&bytes, &every), boundaries_whole(&bytes));
    }

    /// Concatenated encoded values are found exactly at their boundaries.
    #[test]
    fn scanner_finds_exact_value_boundaries(values in prop::collection::vec(any_value(), 1..6)) {
        let encoded: Vec<Vec<u8>> = values.iter().map(encode).collect();
        let ends: Vec<usize> = encoded
            .iter()
            .scan(0, |end, e| {
                *end += e.len();
                Some(*end)
            })
            .collect();
        let bytes = encoded.concat();
        prop_assert_eq!(boundaries_whole(&bytes), (ends, None));
        // Every proper prefix of the last message is incomplete, not an error.
        let last_start = bytes.len() - encoded.last().map_or(0, Vec::len);
        let (found, err) = boundaries_whole(&bytes[..bytes.len() - 1]);
        prop_assert_eq!(err, None);
        prop_assert_eq!(found.last().copied().unwrap_or(0), last_start);
    }
}

// ------------------------------------------------------------ RPC session

/// Bytes a broken peer might send: garbage, or real messages (never a
/// response to request 1) followed by garbage.
fn peer_bytes() -> impl Strategy<Value = Vec<u8>> {
    let message = prop_oneof![
        // nvim calling us: answered with an error, no handler.
        (2u32..1000, "[a-z_]{1,8}", prop::collection::vec(any_value(), 0..3))
            .prop_map(|(id, m, p)| { Value::Array(vec![0.into(), id.into(), m.into(), Value::Array(p)]) }),
        // Responses to requests we never made.
        (2u32..1000, any_value(), any_value()).prop_map(|(id, e, r)| Value::Array(vec![
            1.into(),
            id.into(),
            e,
            r
        ])),
        ("[a-z_]{1,8}", prop::collection::vec(any_value(), 0..3)).prop_map(|(m, p)| Value::Array(vec![
            2.into(),
            m.into(),
            Value::Array(p)
        ])),
        any_value(),
    ];
    let messages = prop::collection::vec(message, 0..6)
        .prop_map(|values| values.iter().flat_map(encode).collect::<Vec<u8>>());
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        (messages, prop::collection::vec(any::<u8>(), 0..256)).prop_map(|(mut m, tail)| {
            m.extend(tail);
            m
        }),
    ]
    // Below the pipe's capacity, so the peer's write never waits on a
    // reader that has already given up.
    .prop_filter("fits the pipe", |b| b.len() < PIPE_CAPACITY)
}

const PIPE_CAPACITY: usize = 64 * 1024;
const DEADLINE: Duration = Duration::from_secs(10);

/// One session against a peer that sends `garbage` and hangs up.
async fn session_against_garbage(garbage: Vec<u8>) -> Result<(), TestCaseError> {
    let (ours, theirs) = tokio::io::duplex(PIPE_CAPACITY);
    let (reader, writer) = tokio::io::split(ours);
    let sink = |_method: &str, _params: &[ValueRef<'_>]| {};
    let dispatch = Dispatch { sink, requests: RequestTable::default(), recorder: None };
    let (session, task) = Session::start(reader, writer, dispatch);

    let caller = session.clone();
    let call = tokio::spawn(async move { caller.call("nvim_get_mode", vec![]).await });
    let (mut peer_reader, mut peer_writer) = tokio::io::split(theirs);
    // Once the request reaches the peer, the call is surely pending.
    let mut first = [0u8; 1];
    let read = tokio::time::timeout(DEADLINE, peer_reader.read_exact(&mut first)).await;
    prop_assert!(matches!(read, Ok(Ok(1))), "the request was not sent: {:?}", read);
    prop_assert_eq!(first[0], 0x94, "a request is a 4-element array");

    // The session may stop reading at the first bad byte; then the rest
    // cannot be written, which is fine.
    peer_writer.write_all(&garbage).await.ok();
    drop(peer_writer);
    drop(peer_reader);

    match tokio::time::timeout(DEADLINE, task).await {
        Err(_) => return Err(TestCaseError::fail("the session did not end after the peer hung up")),
        Ok(Err(join)) => return Err(TestCaseError::fail(format!("the session task failed: {join}"))),
        // Ok at a clean end of stream, or any error for the garbage.
        Ok(Ok(_)) => {}
    }
    let answer = tokio::time::timeout(DEADLINE, call).await;
    match answer {
        Ok(Ok(result)) => prop_assert_eq!(result, Err(RpcError::Closed)),
        other => return Err(TestCaseError::fail(format!("the pending call did not resolve: {other:?}"))),
    }
    prop_assert!(session.is_closed());
    prop_assert_eq!(session.call("nvim_get_mode", vec![]).await, Err(RpcError::Closed));
    prop_assert_eq!(
        session.call_blocking_timeout(vireo::rpc::Lane::Input, "x", vec![], Some(Duration::ZERO)),
        Err(RpcError::Closed)
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    /// (d) A peer that sends garbage and hangs up ends the session; the
    /// pending call fails with `Closed` and later calls fail at once.
    #[test]
    fn session_ends_cleanly_after_garbage(garbage in peer_bytes()) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        rt.block_on(session_against_garbage(garbage))?;
    }
}

#[test]
fn session_ends_when_the_peer_hangs_up_without_sending() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    rt.block_on(session_against_garbage(Vec::new())).expect("the session ends cleanly");
}

/// A deeply nested message from the peer is refused as malformed; the
/// session ends instead of the process aborting on a stack overflow.
#[test]
fn session_refuses_deep_nesting() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    rt.block_on(async {
        let (ours, mut theirs) = tokio::io::duplex(PIPE_CAPACITY);
        let (reader, writer) = tokio::io::split(ours);
        let sink = |_method: &str, _params: &[ValueRef<'_>]| {};
        let dispatch = Dispatch { sink, requests: RequestTable::default(), recorder: None };
        let (_session, task) = Session::start(reader, writer, dispatch);
        // Written concurrently: more than the pipe holds, so the session reads as we write.
        let peer = async move {
            theirs.write_all(&deeply_nested_redraw(100_000)).await.expect("the session reads it all");
            theirs
        };
        let (theirs, ended) = tokio::join!(peer, tokio::time::timeout(DEADLINE, task));
        let result = ended.expect("the session ends while the peer is still connected").expect("no panic");
        assert!(matches!(result, Err(SessionError::Malformed { reason: "undecodable", .. })), "{result:?}");
        drop(theirs);
    });
}
