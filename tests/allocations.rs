//! Allocations on the hot path, counted: what the thread that applies
//! nvim's redraw events and builds frames allocates per frame must not grow
//! with the window. A counting global allocator counts each thread's own
//! allocations (lavapipe's queue thread is not counted; what wgpu and the
//! driver allocate while the frame is recorded and submitted is).
//!
//! The events are the ones nvim sends for a typed key (a `grid_line` of one
//! cell, the cursor, a flush) and for a `<C-e>` (a `grid_scroll` and the
//! new last row), on grids filled with words; they are built before the
//! counting starts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use vireo::model::{CellUpdate, Frame, HlAttr, Model, RedrawEvent};
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::Offscreen;
use vireo::render::text::{self, ShapeCache};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn counted() {
    // A thread being torn down has no counter left: not counted.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What `f` returns, and how many allocations this thread made in it.
fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

fn cells(text: &str, hl: u32) -> Vec<CellUpdate<'static>> {
    text.chars()
        .map(|ch| CellUpdate { text: Cow::Owned(ch.to_string()), hl: Some(hl), repeat: None })
        .collect()
}

/// Row `row` of a page of code-like words in three highlights, as wide as
/// the grid; `seed` picks where in the word list it starts.
fn words(cols: usize, seed: usize) -> Vec<CellUpdate<'static>> {
    const WORDS: [&str; 10] =
        ["fn", "let", "value", "=", "compute(", "x,", "y);", "// note", "return", "self.grid"];
    let mut out = Vec::new();
    let mut i = seed;
    while out.len() + 12 < cols {
        out.extend(cells(WORDS[i % WORDS.len()], (i % 3) as u32));
        out.extend(cells(" ", 0));
        i += 1;
    }
    out
}

fn model(cols: usize, rows: usize) -> Model {
    let mut m = Model::new();
    m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0xd0d0d0), bg: Some(0x1e1e2e), sp: None }).unwrap();
    for (id, fg) in [(1, 0x89b4fa), (2, 0xa6e3a1)] {
        m.apply(RedrawEvent::HlAttrDefine {
            id,
            attr: HlAttr { fg: Some(fg), bold: id == 1, ..Default::default() },
        })
        .unwrap();
    }
    m.apply(RedrawEvent::GridResize { grid: 1, width: cols, height: rows }).unwrap();
    for row in 0..rows {
        let cells = words(cols, row);
        m.apply(RedrawEvent::GridLine { grid: 1, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    m
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Allocations per frame, the median of 9: a typed key, then a scrolled
/// line, each applied to the model and drawn (and waited for).
fn per_frame(offscreen: &mut Offscreen, cols: usize, rows: usize) -> (u64, u64) {
    let cursor = CursorState { visible: true };
    let mut m = model(cols, rows);
    let first = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    offscreen.render_and_wait(&first, cursor).unwrap();
    let mut frame = |m: &mut Model, events: Vec<RedrawEvent<'static>>| -> u64 {
        let (frame, n): (Frame, u64) = count(|| {
            for event in events {
                m.apply(event).unwrap();
            }
            let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
            offscreen.render_and_wait(&frame, cursor).unwrap();
            frame
        });
        drop(frame);
        n
    };
    // A word typed at the end of row 5, one letter a frame: a new word
    // each key, as typing makes.
    let keys: Vec<u64> = (0..12)
        .map(|k| {
            let cells = cells(&"abcdefghijkl"[k..=k], 0);
            let typed = vec![
                RedrawEvent::GridLine { grid: 1, row: 5, col_start: cols - 12 + k, cells, wrap: false },
                RedrawEvent::GridCursorGoto { grid: 1, row: 5, col: cols - 11 + k },
            ];
            frame(&mut m, typed)
        })
        .collect();
    // <C-e>: the rows move up one and nvim sends the new last row: not
    // the row that left (that would be drawn as it was), but its words
    // shown before, as most of a source file's are.
    let scrolls: Vec<u64> = (0..12)
        .map(|k| {
            let scrolled = vec![
                RedrawEvent::GridScroll { grid: 1, top: 0, bot: rows, left: 0, right: cols, rows: 1 },
                RedrawEvent::GridLine {
                    grid: 1,
                    row: rows - 1,
                    col_start: 0,
                    cells: words(cols, k + 5),
                    wrap: false,
                },
            ];
            frame(&mut m, scrolled)
        })
        .collect();
    // The first few fill caches (the renderer's, wgpu's): not counted.
    (median(keys[3..].to_vec()), median(scrolls[3..].to_vec()))
}

#[test]
fn a_frame_allocates_no_more_in_a_large_window_than_in_a_small_one() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device (mesa-vulkan-drivers)");
    let (small_key, small_scroll) = per_frame(&mut offscreen, 100, 30);
    let (large_key, large_scroll) = per_frame(&mut offscreen, 300, 80);
    eprintln!("allocations per frame: typed key {small_key} at 100x30, {large_key} at 300x80");
    eprintln!("allocations per frame: scrolled line {small_scroll} at 100x30, {large_scroll} at 300x80");
    // A little slack for hash tables growing at other moments.
    let slack = |n: u64| n + n / 20;
    assert!(
        large_key <= slack(small_key),
        "a typed key: {small_key} allocations at 100x30, {large_key} at 300x80"
    );
    assert!(
        large_scroll <= slack(small_scroll),
        "a scrolled line: {small_scroll} allocations at 100x30, {large_scroll} at 300x80"
    );
}

#[test]
fn a_row_of_words_shaped_before_is_shaped_again_without_allocating_per_word() {
    let mut m = model(300, 1);
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let row = &frame.grid(1).unwrap().rows[0];
    let mut fonts = Fonts::bundled(1.0);
    let mut cache = ShapeCache::default();
    let first = text::shape_row_mixed(&mut fonts, &mut cache, row, &frame.hl, &frame.defaults, &[]);
    assert!(first.pieces.len() >= 40, "{} pieces", first.pieces.len());
    let (again, n) =
        count(|| text::shape_row_mixed(&mut fonts, &mut cache, row, &frame.hl, &frame.defaults, &[]));
    assert!(again.pieces.iter().zip(&first.pieces).all(|(a, b)| std::sync::Arc::ptr_eq(&a.1, &b.1)));
    // The row's list of pieces as it grows: one allocation, then a
    // doubling now and then.
    assert!(n <= 8, "{n} allocations for {} pieces shaped before", first.pieces.len());
}
