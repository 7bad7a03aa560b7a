//! Frame cost of the renderer, offscreen on whatever Vulkan device there is
//! (Mesa's lavapipe CPU rasteriser on CI): rendering plus waiting for the
//! GPU to finish, without reading pixels back.
//!
//! - `one_row/COLSxROWS`: one character typed (one row changes).
//! - `scroll_line/COLSxROWS`: one line scrolled (every row moves; only the
//!   new one is shaped).
//! - `full/COLSxROWS`: every row changes (a page scroll).
//! - `smooth_scroll/COLSxROWS`: one frame of a smooth scroll in a window:
//!   a line scrolls in (one row drawn) and the text's offset moves on.
//! - `cursor_slide/COLSxROWS`, `cursor_vfx/COLSxROWS`: one frame of the
//!   cursor's slide, without and with particle effects.
//! - `float_flat/100x30`, `float_depth/100x30`: one character typed under
//!   a blended float, drawn flat and with its shadow and blur;
//!   `float_depth_added/100x30`: the difference, timed alternately.
//!
//! - `shape/code_row`, `shape/status_line`: one row shaped (no drawing):
//!   a line of C highlighted token by token, and a status line; `_again`:
//!   the same with every piece of it shaped before (from the cache).
//!
//! Times are the wall clock's. `VIREO_BENCH_CLOCK=cpu` times the CPU the
//! whole process spends instead, every thread's: on a CPU adapter the
//! GPU's work is vireo's own CPU time, and the wall clock leaves out what
//! lavapipe's threads do while the caller is not waiting.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, criterion_group, criterion_main};
use vireo::model::{CellUpdate, Frame, Model, RedrawEvent};
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::Offscreen;
use vireo::render::text::{self, ShapeCache};
use vireo::render::vfx::{self, Vfx, VfxKnobs, VfxMode};

/// The clock the benchmarks read: the wall clock, or the process's CPU
/// time (`VIREO_BENCH_CLOCK=cpu`).
struct Clock {
    cpu: bool,
}

impl Clock {
    fn from_env() -> Clock {
        Clock { cpu: std::env::var("VIREO_BENCH_CLOCK").is_ok_and(|v| v == "cpu") }
    }

    fn now(&self) -> Duration {
        static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        if !self.cpu {
            return EPOCH.get_or_init(Instant::now).elapsed();
        }
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid timespec for the call to fill.
        let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } == 0;
        assert!(ok, "no process CPU clock");
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }
}

impl Measurement for Clock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.now()
    }

    fn end(&self, start: Duration) -> Duration {
        self.now().saturating_sub(start)
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds either way: printed as the wall clock's are.
        WallTime.formatter()
    }
}

/// Code-like text for row `row` of page `page`, with a few highlight ids.
fn row_cells(cols: usize, row: usize, page: usize) -> Vec<CellUpdate<'static>> {
    let words = ["fn", "let", "value", "=", "compute(", "x,", "y);", "// note", "return", "self.grid"];
    let mut text = String::new();
    let mut i = row * 7 + page * 3;
    while text.chars().count() < cols - 10 {
        text.push_str(words[i % words.len()]);
        text.push(' ');
        i += 1;
    }
    text.chars()
        .enumerate()
        .map(|(c, ch)| CellUpdate {
            text: Cow::Owned(ch.to_string()),
            hl: Some((c / 6 % 4) as u32),
            repeat: None,
        })
        .collect()
}

fn setup(cols: usize, rows: usize) -> Model {
    let mut m = Model::new();
    m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0xd0d0d0), bg: Some(0x1e1e2e), sp: None }).unwrap();
    for (id, fg) in [(1, 0x89b4fa), (2, 0xa6e3a1), (3, 0xf38ba8)] {
        let attr = vireo::model::HlAttr { fg: Some(fg), bold: id == 1, ..Default::default() };
        m.apply(RedrawEvent::HlAttrDefine { id, attr }).unwrap();
    }
    m.apply(RedrawEvent::GridResize { grid: 1, width: cols, height: rows }).unwrap();
    m
}

fn page(m: &mut Model, rows: usize, cols: usize, page: usize) -> Frame {
    for row in 0..rows {
        let cells = row_cells(cols, row, page);
        m.apply(RedrawEvent::GridLine { grid: 1, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    m.apply(RedrawEvent::Flush).unwrap().unwrap()
}

fn frames(c: &mut Criterion<Clock>) {
    let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    let cursor = CursorState { visible: true };
    for (cols, rows) in [(100, 30), (200, 60)] {
        let mut m = setup(cols, rows);
        let base = page(&mut m, rows, cols, 0);
        offscreen.render_and_wait(&base, cursor).unwrap();
        // One character typed on row 5, alternating so each frame differs.
        let typed: Vec<Frame> = ["a", "b"]
            .iter()
            .map(|t| {
                let cells = vec![CellUpdate { text: Cow::Borrowed(*t), hl: Some(0), repeat: None }];
                m.apply(RedrawEvent::GridLine { grid: 1, row: 5, col_start: 10, cells, wrap: false })
                    .unwrap();
                m.apply(RedrawEvent::GridCursorGoto { grid: 1, row: 5, col: 11 }).unwrap();
                m.apply(RedrawEvent::Flush).unwrap().unwrap()
            })
            .collect();
        let mut i = 0;
        c.bench_function(&format!("one_row/{cols}x{rows}"), |b| {
            b.iter(|| {
                let stats = offscreen.render_and_wait(black_box(&typed[i % 2]), cursor).unwrap();
                assert_eq!(stats.rows_drawn, 1);
                i += 1;
            })
        });
        // One line scrolled (<C-e>): every row moves, nvim sends the new last
        // row. Its line number ('number') makes it differ from the row that
        // left, which would be drawn as it was.
        let mut scroll_line = |m: &mut Model, next: usize| {
            let scroll =
                RedrawEvent::GridScroll { grid: 1, top: 0, bot: rows, left: 0, right: cols, rows: 1 };
            m.apply(scroll).unwrap();
            let number = format!("{next:>5} ");
            let cells = number
                .chars()
                .map(|ch| CellUpdate { text: Cow::Owned(ch.to_string()), hl: Some(3), repeat: None })
                .chain(row_cells(cols - 6, next % 50, next))
                .collect();
            m.apply(RedrawEvent::GridLine { grid: 1, row: rows - 1, col_start: 0, cells, wrap: false })
                .unwrap();
            let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
            offscreen.render_and_wait(black_box(&frame), cursor).unwrap()
        };
        // Settle: the frame drawn last may not be the model's latest.
        scroll_line(&mut m, 0);
        let mut next = 1;
        c.bench_function(&format!("scroll_line/{cols}x{rows}"), |b| {
            b.iter(|| {
                assert_eq!(scroll_line(&mut m, next).rows_shaped, 1);
                next += 1;
            })
        });
        // One frame of a cursor slide: nothing else changed, the smear
        // moves down the screen (only the bands it left and covers are
        // copied from the kept screen again).
        let still = page(&mut m, rows, cols, 0);
        offscreen.render_and_wait(&still, cursor).unwrap();
        let (cw, ch) =
            (offscreen.renderer.metrics().width as f32, offscreen.renderer.metrics().height as f32);
        let mut t = 0;
        c.bench_function(&format!("cursor_slide/{cols}x{rows}"), |b| {
            b.iter(|| {
                let y = (t % (rows - 4)) as f32 * ch;
                offscreen.renderer.cursor_smear =
                    Some([[cw, y], [2.0 * cw, y], [2.0 * cw, y + 4.0 * ch], [cw, y + 4.0 * ch]]);
                let stats = offscreen.render_and_wait(black_box(&still), cursor).unwrap();
                assert_eq!(stats.rows_drawn, 0);
                t += 1;
            })
        });
        // One frame of a cursor animation with particle effects on
        // (railgun and ripple, the default knobs): a slide down and across
        // the screen plus the model's particles at that instant, cycling
        // through their whole life at 60 frames a second.
        let knobs = VfxKnobs { modes: vec![VfxMode::Railgun, VfxMode::Ripple], ..VfxKnobs::default() };
        let (from, to) = ([cw, 0.0, cw, ch], [cols as f32 / 2.0 * cw, (rows - 4) as f32 * ch, cw, ch]);
        let t0 = Instant::now();
        let mut vfx = Vfx::default();
        vfx.spawn(from, to, t0, [cw, ch], 0.15, &knobs);
        let color = [0.9, 0.9, 0.9, 1.0];
        let mut frame = 0u32;
        c.bench_function(&format!("cursor_vfx/{cols}x{rows}"), |b| {
            b.iter(|| {
                let now = t0 + Duration::from_millis(u64::from(frame % 80) * 16);
                if frame % 80 == 0 {
                    vfx = Vfx::default();
                    vfx.spawn(from, to, now, [cw, ch], 0.15, &knobs);
                }
                let y = (frame % 20) as f32 * ch * (rows - 4) as f32 / 20.0;
                offscreen.renderer.cursor_smear =
                    Some([[cw, y], [2.0 * cw, y], [2.0 * cw, y + 4.0 * ch], [cw, y + 4.0 * ch]]);
                vfx.step(now);
                let sprites = vfx.sprites(now, knobs.opacity);
                offscreen.renderer.cursor_vfx = vfx::rects(&sprites, color);
                let stats = offscreen.render_and_wait(black_box(&still), cursor).unwrap();
                assert_eq!(stats.rows_drawn, 0);
                frame += 1;
            })
        });
        offscreen.renderer.cursor_vfx.clear();
        offscreen.renderer.cursor_smear = None;
        smooth_scroll(c, &mut offscreen, cols, rows);
        let pages: Vec<Frame> = (1..=2).map(|p| page(&mut m, rows, cols, p)).collect();
        let mut i = 0;
        c.bench_function(&format!("full/{cols}x{rows}"), |b| {
            b.iter(|| {
                let stats = offscreen.render_and_wait(black_box(&pages[i % 2]), cursor).unwrap();
                assert_eq!(stats.rows_drawn, rows);
                i += 1;
            })
        });
    }
}

/// One frame of a smooth scroll in a window (grid 2, the whole screen
/// but the command line): a line scrolled in (one new row drawn, the ring
/// turns) and the slide's offset moved on, 16 ms later.
fn smooth_scroll(c: &mut Criterion<Clock>, offscreen: &mut Offscreen, cols: usize, rows: usize) {
    let mut m = setup(cols, rows);
    let (grid, win, height) = (2, 1000, rows - 1);
    m.apply(RedrawEvent::GridResize { grid, width: cols, height }).unwrap();
    for row in 0..height {
        let cells = row_cells(cols, row, 0);
        m.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    m.apply(RedrawEvent::WinPos { grid, win, row: 0, col: 0, width: cols, height }).unwrap();
    let viewport = |topline: usize, delta: i64| RedrawEvent::WinViewport {
        grid,
        win,
        topline: topline as i64,
        botline: (topline + height) as i64,
        curline: topline as i64,
        curcol: 0,
        line_count: Some(100_000),
        scroll_delta: Some(delta),
    };
    m.apply(viewport(0, 0)).unwrap();
    let first = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    offscreen.renderer.slides =
        vireo::render::SlideKnobs { scroll_length: 0.3, far_lines: 1, position_length: 0.15 };
    let mut now = Instant::now();
    offscreen.renderer.now = now;
    let cursor = CursorState { visible: true };
    offscreen.render_and_wait(&first, cursor).unwrap();
    let mut next = 1;
    c.bench_function(&format!("smooth_scroll/{cols}x{rows}"), |b| {
        b.iter(|| {
            let scroll = RedrawEvent::GridScroll { grid, top: 0, bot: height, left: 0, right: cols, rows: 1 };
            m.apply(scroll).unwrap();
            // Numbered as with 'number': no two rows alike. A row the
            // window's ring of rows already holds (one scrolled past a
            // moment ago, the same text) is not drawn again.
            let mut cells = row_cells(cols, next % 50, next);
            for (cell, digit) in cells.iter_mut().zip(format!("{next:>7} ").chars()) {
                cell.text = Cow::Owned(digit.to_string());
            }
            m.apply(RedrawEvent::GridLine { grid, row: height - 1, col_start: 0, cells, wrap: false })
                .unwrap();
            m.apply(viewport(next, 1)).unwrap();
            let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
            now += Duration::from_millis(16);
            offscreen.renderer.now = now;
            let stats = offscreen.render_and_wait(black_box(&frame), cursor).unwrap();
            assert_eq!(stats.rows_drawn, 1, "only the row that scrolled in");
            next += 1;
        })
    });
    offscreen.renderer.slides = vireo::render::SlideKnobs::default();
}

/// A float with a `winblend` background over 100x30 cells of text, its
/// rows 40 columns wide: 10 cells of text, the rest blank (the text under
/// it shows through).
fn float_scene() -> (Model, Frame) {
    let (cols, rows) = (100, 30);
    let mut m = setup(cols, rows);
    page(&mut m, rows, cols, 0);
    let attr = vireo::model::HlAttr { bg: Some(0x313244), blend: 30, ..Default::default() };
    m.apply(RedrawEvent::HlAttrDefine { id: 4, attr }).unwrap();
    m.apply(RedrawEvent::GridResize { grid: 2, width: 40, height: 12 }).unwrap();
    for row in 0..12 {
        let mut cells = vec![CellUpdate { text: Cow::Borrowed(" "), hl: Some(4), repeat: Some(40) }];
        if row < 2 {
            cells.insert(0, CellUpdate { text: Cow::Borrowed("x"), hl: Some(4), repeat: Some(10) });
            cells[1].repeat = Some(30);
        }
        m.apply(RedrawEvent::GridLine { grid: 2, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    m.apply(RedrawEvent::WinFloatPos {
        grid: 2,
        win: 1000,
        anchor: vireo::model::Anchor::NW,
        anchor_grid: 1,
        anchor_row: 8.0,
        anchor_col: 30.0,
        mouse_enabled: true,
        zindex: Some(50),
        compindex: Some(1),
    })
    .unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    (m, frame)
}

/// One character typed under a blended float at 100x30, drawn flat
/// (`float_flat`) and with its shadow and blur (`float_depth`, the knobs'
/// defaults): the second recomposes the float's whole footprint and blurs
/// what is under it, the first only the typed row. `float_depth_added`
/// times the two frames alternately, on two renderers, and reports the
/// difference: what the shadow and blur add per frame, with the machine's
/// other load falling on both alike.
fn floats(c: &mut Criterion<Clock>) {
    let cursor = CursorState { visible: true };
    let (mut m, base) = float_scene();
    let typed: Vec<Frame> = ["a", "b"]
        .iter()
        .map(|t| {
            let cells = vec![CellUpdate { text: Cow::Borrowed(*t), hl: Some(0), repeat: None }];
            m.apply(RedrawEvent::GridLine { grid: 1, row: 12, col_start: 40, cells, wrap: false }).unwrap();
            m.apply(RedrawEvent::Flush).unwrap().unwrap()
        })
        .collect();
    let renderer = |depth| {
        let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
        offscreen.renderer.depth = depth;
        offscreen.render_and_wait(&base, cursor).unwrap();
        offscreen
    };
    let depth = vireo::settings::Settings::default().depth();
    let mut flat = renderer(vireo::render::Depth::FLAT);
    let mut deep = renderer(depth);
    for (name, offscreen) in [("float_flat", &mut flat), ("float_depth", &mut deep)] {
        let mut i = 0;
        c.bench_function(&format!("{name}/100x30"), |b| {
            b.iter(|| {
                let stats = offscreen.render_and_wait(black_box(&typed[i % 2]), cursor).unwrap();
                assert_eq!(stats.rows_drawn, 1);
                i += 1;
            })
        });
    }
    let mut i = 0;
    c.bench_function("float_depth_added/100x30", |b| {
        let clock = Clock::from_env();
        b.iter_custom(|iters| {
            let (mut with, mut without) = (Duration::ZERO, Duration::ZERO);
            for _ in 0..iters {
                let frame = &typed[i % 2];
                let start = clock.now();
                flat.render_and_wait(black_box(frame), cursor).unwrap();
                let middle = clock.now();
                deep.render_and_wait(black_box(frame), cursor).unwrap();
                without += middle - start;
                with += clock.now() - middle;
                i += 1;
            }
            with.saturating_sub(without)
        })
    });
}

/// Shaping alone: a new row's text on the main thread.
fn shaping(c: &mut Criterion<Clock>) {
    let cols = 100;
    let mut m = setup(cols, 2);
    // Tokens of a C line and their highlight ids (0 is the default).
    let code: [(&str, u32); 18] = [
        ("        ", 0),
        ("if", 1),
        (" (", 0),
        ("table", 0),
        ("[k] ", 0),
        (">", 3),
        (" ", 0),
        ("0x5", 2),
        (") ", 0),
        ("total", 0),
        (" ", 0),
        ("+=", 3),
        (" ", 0),
        ("table", 0),
        ("[k] ", 0),
        ("*", 3),
        (" ", 0),
        ("3;  /* sum */", 2),
    ];
    let cells = |tokens: &[(&str, u32)]| -> Vec<CellUpdate<'static>> {
        tokens
            .iter()
            .flat_map(|&(t, hl)| {
                t.chars().map(move |ch| CellUpdate {
                    text: Cow::Owned(ch.to_string()),
                    hl: Some(hl),
                    repeat: None,
                })
            })
            .collect()
    };
    let status = format!("{:<82}{:<16}0%", "src/scroll.c [+]", "1234,17");
    let lines = [cells(&code), cells(&[(status.as_str(), 1)])];
    for (row, cells) in lines.into_iter().enumerate() {
        m.apply(RedrawEvent::GridLine { grid: 1, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let grid = frame.grid(1).unwrap();
    let mut fonts = Fonts::with_system_fonts(1.0);
    let mut cache = ShapeCache::default();
    for (name, row) in [("code_row", 0), ("status_line", 1)] {
        c.bench_function(&format!("shape/{name}"), |b| {
            b.iter(|| {
                let shaped = text::shape_row(&mut fonts, &grid.rows[row], &frame.hl, &frame.defaults);
                assert!(shaped.buffers().next().is_some());
                black_box(shaped)
            })
        });
        // Every piece shaped before: what the cache leaves.
        c.bench_function(&format!("shape/{name}_again"), |b| {
            b.iter(|| {
                let (hl, defaults) = (&frame.hl, &frame.defaults);
                let shaped =
                    text::shape_row_mixed(&mut fonts, &mut cache, &grid.rows[row], hl, defaults, &[]);
                black_box(shaped)
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(Clock::from_env()).sample_size(30);
    targets = shaping, frames, floats
}
criterion_main!(benches);
