//! Recorded nvim streams replayed through decoder and model, with no nvim:
//! the composed screen must equal the golden text recorded with them.

mod common;

use std::path::Path;

use common::assert_screen_eq;
use vireo::model::compose;
use vireo::replay;

fn check(name: &str) {
    let dir = Path::new("tests/fixtures/replay").join(name);
    let stream = std::fs::read(dir.join("stream.msgpack")).expect("fixture stream");
    let golden = std::fs::read_to_string(dir.join("screen.txt")).expect("golden screen");
    let mut frames = 0;
    let mut last = None;
    let ui = replay::replay(&stream, |f| {
        frames += 1;
        last = Some(f);
    })
    .expect("the recording replays");
    assert_eq!(ui.errors(), 0, "{name}: events were dropped");
    assert!(frames > 0, "{name}: no flush in the recording");
    let screen = compose::compose(&last.unwrap());
    let actual: Vec<String> = (0..screen.height).map(|r| screen.row_text(r)).collect();
    let expected: Vec<String> = golden.lines().map(str::to_owned).collect();
    assert_screen_eq(&actual, &expected, &format!("replay of '{name}'"));
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { check(stringify!($name)); })*

        #[test]
        fn every_fixture_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for entry in std::fs::read_dir("tests/fixtures/replay").unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                assert!(tested.contains(&name.as_str()), "fixture {name} has no test");
            }
        }
    };
}

replay_tests!(
    intro, insert, splits, help, scrolling, wrapped, float, popupmenu, messages, tabs, wide, terminal,
    cmdheight, visual, inccommand, at_edges, cmdheight0, anchored, oversized, stacking,
);

#[test]
fn benchmark_streams_replay_cleanly() {
    for name in ["scroll-200x60", "pages-200x60"] {
        let stream = std::fs::read(format!("benches/data/{name}.msgpack")).unwrap();
        let mut frames = 0;
        let ui = replay::replay(&stream, |_| frames += 1).unwrap();
        assert_eq!(ui.errors(), 0, "{name}");
        assert!(frames >= 60, "{name}: {frames} frames");
        let grid = ui.model().grid(1).unwrap();
        assert_eq!((grid.width(), grid.height()), (200, 60));
    }
}

#[test]
fn a_cut_recording_replays_up_to_the_cut() {
    let stream = std::fs::read("tests/fixtures/replay/help/stream.msgpack").unwrap();
    for cut in [1, stream.len() / 3, stream.len() / 2, stream.len() - 1] {
        // A partial trailing message is ignored, never an error or a panic.
        replay::replay(&stream[..cut], |_| {}).expect("a prefix replays");
    }
}
