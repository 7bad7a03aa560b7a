//! Renderer behaviour measured in pixels, on frames built directly from
//! model events, and (for scrolling) on frames from a real nvim.

mod common;

use std::borrow::Cow;

use vireo::model::{CellUpdate, Frame, HlAttr, Model, RedrawEvent, Underline};
use vireo::render::font::Fonts;
use vireo::render::offscreen::{Image, Offscreen};
use vireo::render::{CursorState, Padding, SlideKnobs};

fn cell(text: &str, hl: Option<u32>) -> CellUpdate<'static> {
    CellUpdate { text: Cow::Owned(text.to_owned()), hl, repeat: None }
}

/// A model with one `cols`x`rows` grid and white-on-black colours.
fn model(cols: usize, rows: usize) -> Model {
    let mut m = Model::new();
    m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0xffffff), bg: Some(0x000000), sp: None }).unwrap();
    m.apply(RedrawEvent::GridResize { grid: 1, width: cols, height: rows }).unwrap();
    m
}

fn line(m: &mut Model, row: usize, cells: Vec<CellUpdate<'static>>) -> Frame {
    m.apply(RedrawEvent::GridLine { grid: 1, row, col_start: 0, cells, wrap: false }).unwrap();
    m.apply(RedrawEvent::Flush).unwrap().unwrap()
}

fn no_cursor() -> CursorState {
    CursorState { visible: false }
}

/// Columns of pixels in `x0..x1` that have any ink.
fn ink_columns(img: &Image, x0: u32, x1: u32) -> Vec<u32> {
    (x0..x1.min(img.width))
        .filter(|&x| (0..img.height).any(|y| img.pixel(x, y)[..3].iter().any(|&c| c > 60)))
        .collect()
}

#[test]
fn wide_and_emoji_glyphs_never_shift_the_rest_of_the_row() {
    let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    // x 日 b 😀 c, and the same row with spaces where the wide ones were.
    let wide = vec![
        cell("x", Some(0)),
        cell("日", None),
        cell("", None),
        cell("b", None),
        cell("😀", None),
        cell("", None),
        cell("c", None),
    ];
    let plain: Vec<_> = ["x", " ", " ", "b", " ", " ", "c"].iter().map(|t| cell(t, Some(0))).collect();
    let (wide_img, _) = offscreen.render(&line(&mut model(8, 1), 0, wide), no_cursor()).unwrap();
    let (plain_img, _) = offscreen.render(&line(&mut model(8, 1), 0, plain), no_cursor()).unwrap();
    let cw = offscreen.renderer.metrics().width;
    for (col, what) in [(3, "b"), (6, "c")] {
        let (x0, x1) = (col * cw, (col + 1) * cw);
        let a = ink_columns(&wide_img, x0, x1);
        let b = ink_columns(&plain_img, x0, x1);
        assert!(!b.is_empty(), "'{what}' drew nothing");
        assert_eq!(a, b, "'{what}' at column {col} moved: {a:?} vs {b:?}");
    }
    // The wide glyphs are drawn inside their two cells.
    for (col, what) in [(1, "日"), (4, "😀")] {
        let ink = ink_columns(&wide_img, col * cw, (col + 2) * cw);
        assert!(ink.len() as u32 > cw / 2, "'{what}' has too little ink: {ink:?}");
        assert!(ink_columns(&plain_img, col * cw, (col + 2) * cw).is_empty());
    }
}

/// A row is shaped in pieces between its blank cells: the blanks around
/// and between its words (on a wide window most of a row) cost no glyphs,
/// and the text stays on its cells.
#[test]
fn blanks_around_and_between_a_rows_words_are_not_shaped_and_move_nothing() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let texts = |t: &str| t.chars().map(|c| cell(&c.to_string(), Some(0))).collect::<Vec<_>>();
    let around = line(&mut model(20, 1), 0, texts("     a->b c         "));
    let row = &around.grid(1).unwrap().rows[0];
    let mut fonts = Fonts::bundled(1.0);
    let cw = fonts.metrics().width;
    let shaped = vireo::render::text::shape_row(&mut fonts, row, &around.hl, &around.defaults);
    let buffers: Vec<_> = shaped.buffers().collect();
    let [(x, a_to_b), (x_c, c)] = &buffers[..] else { panic!("{} buffers", buffers.len()) };
    assert_eq!((*x, *x_c), ((5 * cw) as f32, (10 * cw) as f32), "each drawn from its first glyph's cell");
    let glyphs = |b: &glyphon::Buffer| b.layout_runs().map(|run| run.glyphs.len()).sum::<usize>();
    assert!(glyphs(a_to_b) <= "a->b".len(), "{} glyphs for the 4 cells of a->b", glyphs(a_to_b));
    assert_eq!(glyphs(c), 1);

    // The same text after a glyph in column 0: shaped from there.
    let from_0 = line(&mut model(20, 1), 0, texts("|    a->b c         "));
    let (img_around, _) = offscreen.render(&around, no_cursor()).unwrap();
    let (img_from_0, _) = offscreen.render(&from_0, no_cursor()).unwrap();
    let ink = |img: &Image| ink_columns(img, cw, 20 * cw);
    assert!(!ink(&img_around).is_empty());
    assert_eq!(ink(&img_around), ink(&img_from_0), "the text moved");
}

/// nvim sends some rows again as they were (the command line's empty row
/// with each scrolled line): such a row is not drawn or composed again,
/// and one that did change still is.
#[test]
fn a_row_sent_again_unchanged_is_not_drawn_again() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(40, 4);
    for row in 0..4 {
        line(&mut m, row, vec![cell("text", Some(0))]);
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (before, _) = offscreen.render_kept(&frame, no_cursor()).unwrap();
    let frame = line(&mut m, 2, vec![cell("text", Some(0))]);
    let (after, again) = offscreen.render_kept(&frame, no_cursor()).unwrap();
    assert_eq!((again.rows_drawn, again.composed_rows_px), (0, 0));
    assert_eq!(after, before);
    let frame = line(&mut m, 2, vec![cell("T", Some(0))]);
    let (changed, stats) = offscreen.render_kept(&frame, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 1);
    assert_ne!(changed, before);
}

#[test]
fn a_one_character_change_redraws_one_row() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(40, 10);
    for row in 0..10 {
        line(&mut m, row, vec![cell("text", Some(0)), cell("!", None)]);
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (_, first) = offscreen.render_kept(&frame, no_cursor()).unwrap();
    assert_eq!(first.rows_drawn, 10);
    let frame = line(&mut m, 4, vec![cell("T", Some(0))]);
    let (img, second) = offscreen.render_kept(&frame, no_cursor()).unwrap();
    assert_eq!(second.rows_drawn, 1, "only the edited row is re-rasterised");
    let ch = offscreen.renderer.metrics().height;
    assert_eq!((second.bands, second.composed_rows_px), (1, ch), "and only its band is composed again");
    // And the untouched rows are still on screen.
    assert!(!ink_columns(&crop_row(&img, 0, ch), 0, img.width).is_empty());
    // Moving the cursor redraws no row at all, and composes only the
    // band it is drawn over.
    m.apply(RedrawEvent::GridCursorGoto { grid: 1, row: 7, col: 3 }).unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (_, third) = offscreen.render_kept(&frame, CursorState { visible: true }).unwrap();
    assert_eq!((third.rows_drawn, third.composed_rows_px), (0, ch));
    assert_eq!(third.damage, [(7 * ch, 8 * ch)]);
}

#[test]
fn default_colors_change_repaints_cells_with_default_colours() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(10, 2);
    let frame = line(&mut m, 0, vec![cell(" ", Some(0))]);
    let (dark, _) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(dark.pixel(2, 2), [0, 0, 0, 255]);
    m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0x000000), bg: Some(0xffffff), sp: None }).unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (light, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(light.pixel(2, 2), [255, 255, 255, 255]);
    assert_eq!(stats.rows_drawn, 2);
}

#[test]
fn reverse_and_blend_colour_the_background() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(4, 1);
    let reverse = HlAttr { fg: Some(0x00ff00), reverse: true, ..Default::default() };
    m.apply(RedrawEvent::HlAttrDefine { id: 1, attr: reverse }).unwrap();
    let frame = line(&mut m, 0, vec![cell(" ", Some(1)), cell(" ", Some(0))]);
    let (img, _) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(img.pixel(1, 1), [0, 255, 0, 255], "reverse puts the foreground behind");
    let cw = offscreen.renderer.metrics().width;
    assert_eq!(img.pixel(cw + 1, 1), [0, 0, 0, 255]);
}

fn crop_row(img: &Image, row: u32, ch: u32) -> Image {
    let start = (row * ch * img.width * 4) as usize;
    let end = start + (ch * img.width * 4) as usize;
    Image { width: img.width, height: ch, rgba: img.rgba[start..end].to_vec() }
}

#[test]
fn ligatures_can_be_turned_off() {
    let row = || ["-", ">", " ", "!", "="].iter().map(|t| cell(t, Some(0))).collect::<Vec<_>>();
    let mut on = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let (with, _) = on.render(&line(&mut model(6, 1), 0, row()), no_cursor()).unwrap();
    let mut fonts = Fonts::bundled(1.0);
    fonts.ligatures = false;
    let mut off = Offscreen::new(fonts).expect("a Vulkan device");
    let (without, _) = off.render(&line(&mut model(6, 1), 0, row()), no_cursor()).unwrap();
    assert_eq!((with.width, with.height), (without.width, without.height));
    let differing = with.rgba.chunks(4).zip(without.rgba.chunks(4)).filter(|(a, b)| a != b).count();
    assert!(differing > 20, "-> and != look the same with and without ligatures ({differing} pixels differ)");
}

#[test]
fn ime_preedit_is_drawn_underlined_at_the_cursor_without_touching_the_grid() {
    let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    let mut m = model(12, 2);
    m.apply(RedrawEvent::GridCursorGoto { grid: 1, row: 1, col: 3 }).unwrap();
    let frame = line(&mut m, 0, vec![cell("x", Some(0))]);
    let metrics = offscreen.renderer.metrics();
    let (cw, ch) = (metrics.width, metrics.height);
    let (plain, _) = offscreen.render(&frame, no_cursor()).unwrap();
    offscreen.renderer.set_preedit(Some("日本".into()));
    let (composing, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 0, "the preedit is an overlay, not grid content");
    let row1 = |img: &Image| crop_row(img, 1, ch);
    assert!(ink_columns(&row1(&plain), 0, plain.width).is_empty());
    let ink = ink_columns(&row1(&composing), 0, composing.width);
    assert!(ink.first().is_some_and(|&x| x >= 3 * cw), "starts at the cursor: {ink:?}");
    assert!(ink.len() as u32 > 2 * cw, "both characters drawn: {}", ink.len());
    // The underline spans the composed text.
    let y = ch + (metrics.baseline + metrics.underline_offset) as u32;
    assert!((3 * cw + 1..5 * cw).all(|x| composing.pixel(x, y)[0] > 200), "underlined");
    offscreen.renderer.set_preedit(None);
    let (cleared, _) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(cleared, plain);
}

#[test]
fn a_scroll_draws_only_the_new_row() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(30, 10);
    for row in 0..10 {
        line(&mut m, row, vec![cell(&format!("{row}"), Some(0)), cell("-> text", None)]);
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (_, first) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(first.rows_shaped, 10);
    // <C-e>: everything moves up a row and nvim fills the last one.
    m.apply(RedrawEvent::GridScroll { grid: 1, top: 0, bot: 10, left: 0, right: 30, rows: 1 }).unwrap();
    let frame = line(&mut m, 9, vec![cell("new", Some(0))]);
    let (scrolled, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!((stats.rows_drawn, stats.rows_shaped), (1, 1), "the layer's rows turn; the new one is drawn");
    // And the moved rows are drawn where they now are: same as a fresh render.
    let mut fresh = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let (expected, _) = fresh.render(&frame, no_cursor()).unwrap();
    assert_eq!(scrolled, expected);
}

/// The message grid is as tall as the screen with one row of it shown:
/// only the rows on screen are drawn (its texture holds no more), and
/// when messages push it up, the rows that come into view.
#[test]
fn a_message_grid_costs_only_its_rows_on_screen() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(40, 10);
    m.apply(RedrawEvent::GridResize { grid: 3, width: 40, height: 10 }).unwrap();
    for row in 0..10 {
        let cells = vec![cell(&format!("message {row}"), Some(0))];
        m.apply(RedrawEvent::GridLine { grid: 3, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    let at = |row| RedrawEvent::MsgSetPos {
        grid: 3,
        row,
        scrolled: false,
        sep_char: Cow::Borrowed(""),
        zindex: None,
        compindex: None,
    };
    m.apply(at(9)).unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (img, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 9 + 1, "the global grid's rows above it and the message grid's first");
    let ch = offscreen.renderer.metrics().height;
    assert!(!ink_columns(&crop_row(&img, 9, ch), 0, img.width).is_empty(), "its first row is on screen");
    m.apply(at(7)).unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (img, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 3, "three of its rows show now");
    // Grid 1 keeps its texture of the nine rows it showed: two of them
    // went under the message grid, too few to make a new one.
    let rows_px = |rows: u32| u64::from(img.width) * u64::from(rows * ch);
    assert_eq!(stats.layer_px, rows_px(9 + 3));
    for row in 7..10 {
        assert!(!ink_columns(&crop_row(&img, row, ch), 0, img.width).is_empty(), "row {row} is drawn");
    }
}

/// The screen nvim's compositor makes of `frame`, as cells, drawn as one
/// global grid: the same pixels drawn with no window over anything.
fn flattened(frame: &Frame) -> Image {
    let screen = vireo::model::compose::compose(frame);
    let mut m = model(screen.width, screen.height);
    for attr in 1..=2 {
        m.apply(RedrawEvent::HlAttrDefine { id: attr, attr: frame.hl.get(attr).clone() }).unwrap();
    }
    for row in 0..screen.height {
        let cells =
            (0..screen.width).map(|c| screen.cell(row, c)).map(|c| cell(&c.text, Some(c.hl))).collect();
        line(&mut m, row, cells);
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let mut plain = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    plain.render(&frame, no_cursor()).unwrap().0
}

/// Fails where `a` and `b` differ, leaving both in the temp dir
/// (`vireo-a.png`, `vireo-b.png`).
fn assert_same(a: &Image, b: &Image, what: &str) {
    assert_eq!((a.width, a.height), (b.width, b.height), "{what}");
    let differ = (0..a.height).find(|&y| (0..a.width).any(|x| a.pixel(x, y) != b.pixel(x, y)));
    if differ.is_some() {
        let dir = std::env::temp_dir();
        a.write_png(&dir.join("vireo-a.png")).expect("writes");
        b.write_png(&dir.join("vireo-b.png")).expect("writes");
    }
    assert_eq!(differ, None, "{what}: the first pixel row that differs");
}

/// Keys that open a bordered float over the editor at `row`, `col`,
/// `width` x `height` cells, not entering it.
fn open_float(row: u32, col: u32, width: u32, height: u32) -> String {
    format!(
        ":lua vim.api.nvim_open_win(vim.api.nvim_create_buf(false, true), false, \
         {{relative='editor', row={row}, col={col}, width={width}, height={height}, border='single'}})<CR>"
    )
}

/// nvim at `cols` x `rows`, and two renderers of its frames: the first
/// shows them as a window on a CPU adapter does (`Offscreen::render_moved`,
/// into the image returned), the second draws them to compare with.
fn shown_beside_drawn(cols: usize, rows: usize) -> (vireo::nvim::Connection, Offscreen, Offscreen, Image) {
    let conn = common::start(cols, rows, &[], vireo::rpc::RequestTable::default());
    let shown = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let drawn = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    (conn, shown, drawn, Image { width: 0, height: 0, rgba: Vec::new() })
}

/// Two stacked windows hide the global grid's rows under them: those rows
/// are not rasterised, and the screen is still the one nvim composes.
/// When a window closes, the rows it hid are drawn, as they are by then.
///
/// ```text
///   row 0     tabline      grid 1
///   rows 1-4  window       grid 2
///   row 5     status line  grid 1
///   rows 6-8  window       grid 4
///   row 9     command line grid 1
/// ```
#[test]
fn rows_hidden_under_windows_are_drawn_only_when_they_show() {
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(40, 10);
    let attr = |fg, bg| HlAttr { fg: Some(fg), bg: Some(bg), ..Default::default() };
    m.apply(RedrawEvent::HlAttrDefine { id: 1, attr: attr(0xffff00, 0x202060) }).unwrap();
    m.apply(RedrawEvent::HlAttrDefine { id: 2, attr: attr(0x00ffff, 0x602020) }).unwrap();
    for row in 0..10 {
        line(&mut m, row, vec![cell(&format!("global row {row}"), Some(0))]);
    }
    for (grid, win, row, height, hl) in [(2, 1000, 1, 4, 1), (4, 1001, 6, 3, 2)] {
        m.apply(RedrawEvent::GridResize { grid, width: 40, height }).unwrap();
        for r in 0..height {
            let cells = vec![
                cell(&format!("window {grid} line {r}"), Some(hl)),
                cell(" ", Some(hl)),
                cell(" ", Some(hl)),
            ];
            m.apply(RedrawEvent::GridLine { grid, row: r, col_start: 0, cells, wrap: false }).unwrap();
        }
        m.apply(RedrawEvent::WinPos { grid, win, row, col: 0, width: 40, height }).unwrap();
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (img, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 3 + 4 + 3, "rows 0, 5 and 9 of grid 1, and the windows'");
    assert_same(&img, &flattened(&frame), "two windows");
    let ch = offscreen.renderer.metrics().height;
    let rows_px = |rows: u32| u64::from(img.width) * u64::from(rows * ch);
    assert_eq!(stats.layer_px, rows_px(3 + 4 + 3), "grid 1's texture holds only its three rows on screen");

    // A hidden row changes: nothing to draw yet.
    let frame = line(&mut m, 7, vec![cell("changed under window 4", Some(0))]);
    let (_, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 0);

    m.apply(RedrawEvent::WinClose { grid: 4 }).unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let (img, stats) = offscreen.render(&frame, no_cursor()).unwrap();
    // Grid 1's texture is made anew for the rows it shows now.
    assert_eq!(stats.rows_drawn, 3 + 3, "rows 0, 5 and 9 again, and the rows window 4 hid");
    // Grid 4's texture stays until nvim destroys the grid.
    assert_eq!(stats.layer_px, rows_px(6 + 4 + 3));
    let expected = flattened(&frame);
    assert_same(&img, &expected, "window 4 closed");
    assert!(!ink_columns(&crop_row(&img, 7, ch), 0, img.width).is_empty(), "row 7 shows its new text");
}

/// A window split in two: the halves' textures take the memory the whole
/// window's texture held, and after 12 splits `:only`'s screen-sized
/// texture takes theirs. The graphics memory in use reaches no further
/// than before (memory of lavapipe's once used stays in the process).
/// Before, each new texture was made while the one it replaced still held
/// its memory: at 100x30 `:split` reached 1.1 MB further, and the splits
/// 6.65 MB against 6.14 now. Letting go of each old layer only just
/// before making its own new one failed too: at `:split` by the global
/// grid's new layer (0.15 MB), made while the window's old texture still
/// held its place, and at `:only` by 1.2 MB.
#[test]
fn new_window_textures_take_the_memory_of_the_ones_they_replace() {
    let conn = common::start(100, 30, &[], vireo::rpc::RequestTable::default());
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut latest = None;
    let mut step = |keys: &str| {
        let frame = common::settled(&conn, &mut latest, Some(keys));
        offscreen.render_and_wait(&frame, no_cursor()).expect("renders");
        offscreen.memory_used_to().expect("lavapipe's allocator reports its blocks")
    };
    let whole = step(":call setline(1, map(range(1, 200), 'printf(\"%d: some text\", v:val)'))<CR>");
    let split = step(":split<CR>");
    assert!(split <= whole, "the split used memory up to {split} bytes, the whole window up to {whole}");
    let splits = [":split<CR>"; 5].into_iter().chain([":vsplit<CR>"; 6]).map(&mut step).fold(split, u64::max);
    let only = step(":only<CR>");
    assert!(only <= splits, "`:only` used memory up to {only} bytes, the splits up to {splits}");
    conn.shutdown();
}

/// nvim's `rgb_blend`, written out here from its definition: `ratio`
/// percent of `back`, the rest of `front`, each channel rounded down.
fn nvim_blend(ratio: u32, back: u32, front: u32) -> u32 {
    let ch = |shift: u32| {
        ((ratio * ((back >> shift) & 0xff) + (100 - ratio) * ((front >> shift) & 0xff)) / 100) << shift
    };
    ch(16) | ch(8) | ch(0)
}

/// A float with `winblend` 50 (its highlight's `blend`) over green `M`s on
/// navy draws exactly what nvim's compositor (`hl_blend_attrs`) makes of
/// those cells, drawn without a float: where the float's cell is blank,
/// the M under it in its colour and background each mixed 50 % with the
/// float's background; where the float has text, that text in its colour
/// mixed 25 % with the M's, on the float's background mixed 50 % with the
/// M's, and nothing of the M.
#[test]
fn winblend_mixes_colours_as_nvims_compositor_does() {
    use vireo::model::{Anchor, GLOBAL_GRID};
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let (under_fg, under_bg, float_fg, float_bg) = (0x00ff00, 0x000080, 0xff0000, 0x404040);
    let define = |m: &mut Model, id: u32, fg: u32, bg: u32, blend: u8| {
        let attr = HlAttr { fg: Some(fg), bg: Some(bg), blend, ..Default::default() };
        m.apply(RedrawEvent::HlAttrDefine { id, attr }).unwrap();
    };
    let row = |text: &str, hls: &[u32]| -> Vec<CellUpdate<'static>> {
        text.chars().zip(hls).map(|(c, &hl)| cell(&c.to_string(), Some(hl))).collect()
    };

    let mut m = model(10, 1);
    define(&mut m, 1, under_fg, under_bg, 0);
    define(&mut m, 2, float_fg, float_bg, 50);
    // For later: cyan text (a new highlight would draw everything again).
    define(&mut m, 5, 0x00ffff, under_bg, 0);
    line(&mut m, 0, row("MMMMMMMMMM", &[1; 10]));
    m.apply(RedrawEvent::GridResize { grid: 2, width: 4, height: 1 }).unwrap();
    let cells = row("x x ", &[2; 4]);
    m.apply(RedrawEvent::GridLine { grid: 2, row: 0, col_start: 0, cells, wrap: false }).unwrap();
    m.apply(RedrawEvent::WinFloatPos {
        grid: 2,
        win: 1002,
        anchor: Anchor::NW,
        anchor_grid: GLOBAL_GRID,
        anchor_row: 0.0,
        anchor_col: 3.0,
        mouse_enabled: true,
        zindex: Some(50),
        compindex: None,
    })
    .unwrap();
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();

    // What nvim's compositor sends a terminal for the same screen, `under`
    // being the text under the float.
    let mut plain = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut nvim = |under: char, under_fg: u32| {
        let mut n = model(10, 1);
        define(&mut n, 1, under_fg, under_bg, 0);
        let mixed_bg = nvim_blend(50, under_bg, float_bg);
        define(&mut n, 3, nvim_blend(25, under_fg, float_fg), mixed_bg, 0);
        define(&mut n, 4, nvim_blend(50, under_fg, float_bg), mixed_bg, 0);
        let text: String =
            [under, under, under, 'x', under, 'x', under, under, under, under].iter().collect();
        let frame = line(&mut n, 0, row(&text, &[1, 1, 1, 3, 4, 3, 4, 1, 1, 1]));
        plain.render(&frame, no_cursor()).unwrap().0
    };
    let cw = offscreen.renderer.metrics().width;
    let same = |blended: &Image, expected: &Image| {
        assert_eq!((blended.width, blended.height), (expected.width, expected.height));
        for y in 0..blended.height {
            for x in 0..blended.width {
                let (a, b) = (blended.pixel(x, y), expected.pixel(x, y));
                let diff = (0..4).map(|i| a[i].abs_diff(b[i])).max().unwrap();
                assert!(diff <= 2, "column {} at {x},{y}: {a:?}, nvim's colours give {b:?}", x / cw);
            }
        }
    };
    let (blended, _) = offscreen.render(&frame, no_cursor()).unwrap();
    same(&blended, &nvim('M', under_fg));
    // The text under the float changes colour, the float does not: its
    // cells mix with the new colours.
    let frame = line(&mut m, 0, row("WWWWWWWWWW", &[5; 10]));
    let (blended, _) = offscreen.render(&frame, no_cursor()).unwrap();
    same(&blended, &nvim('W', 0x00ffff));
}

/// A window with a winbar scrolls two lines (`2<C-e>`): its text rows sit
/// in a ring, so only the two new rows are drawn. With the smooth scroll
/// on, the frame at the start of the slide shows the text where it was,
/// half way it is between (at a pixel offset that is not a whole row), and
/// at the end it is exactly the screen drawn without animation. The
/// winbar never moves.
#[test]
fn a_window_scrolls_smoothly_drawing_only_the_rows_that_enter() {
    use std::time::{Duration, Instant};
    use vireo::render::SlideKnobs;
    let (grid, win, rows) = (2, 1000, 8);
    let mut m = model(30, rows);
    m.apply(RedrawEvent::GridResize { grid, width: 30, height: rows }).unwrap();
    let text_line = |m: &mut Model, row: usize, text: &str| {
        let cells = vec![cell(text, Some(0))];
        m.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    };
    text_line(&mut m, 0, "WINBAR");
    for row in 1..rows {
        text_line(&mut m, row, &format!("buffer line {row}"));
    }
    m.apply(RedrawEvent::WinPos { grid, win, row: 0, col: 0, width: 30, height: rows }).unwrap();
    m.apply(RedrawEvent::WinViewportMargins { grid, win, top: 1, bottom: 0, left: 0, right: 0 }).unwrap();
    let viewport = |topline: i64, delta: i64| common::viewport(grid, win, topline, 7, delta);
    m.apply(viewport(0, 0)).unwrap();
    let before = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    // 2<C-e>: nvim scrolls the rows under the winbar and draws two new ones.
    m.apply(RedrawEvent::GridScroll { grid, top: 1, bot: rows, left: 0, right: 30, rows: 2 }).unwrap();
    for row in rows - 2..rows {
        text_line(&mut m, row, &format!("buffer line {}", row + 2));
    }
    m.apply(viewport(2, 2)).unwrap();
    let after = m.apply(RedrawEvent::Flush).unwrap().unwrap();

    let mut still = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let (still_before, _) = still.render(&before, no_cursor()).unwrap();
    let (still_after, stats) = still.render(&after, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 2, "without animation too, only the rows that entered");
    assert_same(&still_after, &flattened(&after), "the scrolled window");

    let mut smooth = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    smooth.renderer.slides = SlideKnobs { scroll_length: 0.3, far_lines: 1, position_length: 0.0 };
    let t0 = Instant::now();
    smooth.renderer.now = t0;
    smooth.render(&before, no_cursor()).unwrap();
    let (start, stats) = smooth.render(&after, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 2);
    assert_same(&start, &still_before, "the slide starts where the text was");
    assert!(smooth.renderer.slide_end(t0).is_some());
    smooth.renderer.now = t0 + Duration::from_millis(60);
    let (mid, stats) = smooth.render(&after, no_cursor()).unwrap();
    assert_eq!(stats.rows_drawn, 0, "a slide frame draws no rows");
    let ch = smooth.renderer.metrics().height;
    assert_same(&crop_row(&mid, 0, ch), &crop_row(&still_after, 0, ch), "the winbar stays");
    // The text is between its two places: its rows match neither screen,
    // and the first ink row under the winbar is not on a row boundary.
    let first_ink = |img: &Image| {
        (ch..img.height).find(|&y| (0..img.width).any(|x| img.pixel(x, y)[..3].iter().any(|&c| c > 60)))
    };
    let (a, b, c) = (first_ink(&still_before), first_ink(&mid), first_ink(&still_after));
    assert!(a != b && b != c, "mid-slide ink starts at {b:?}, before {a:?}, after {c:?}");
    assert_ne!(mid, still_before);
    assert_ne!(mid, still_after);
    smooth.renderer.now = t0 + Duration::from_millis(301);
    assert_eq!(smooth.renderer.slide_end(smooth.renderer.now), None, "nothing left to wake for");
    let (end, _) = smooth.render(&after, no_cursor()).unwrap();
    assert_same(&end, &still_after, "the slide ends on the screen drawn without animation");
}

/// A window that moves (a split opening above it) slides from where it
/// was to its new place over `position_animation_length`, and the rows of
/// the global grid it uncovers on the way are drawn; at the end the screen
/// is the one drawn without animation.
#[test]
fn a_moved_window_slides_to_its_new_place() {
    use std::time::{Duration, Instant};
    use vireo::render::SlideKnobs;
    let (grid, win) = (2, 1000);
    let mut m = model(30, 10);
    for row in 0..10 {
        line(&mut m, row, vec![cell(&format!("global row {row}"), Some(0))]);
    }
    m.apply(RedrawEvent::GridResize { grid, width: 30, height: 3 }).unwrap();
    for row in 0..3 {
        let cells = vec![cell(&format!("window row {row}"), Some(0))];
        m.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    m.apply(RedrawEvent::WinPos { grid, win, row: 1, col: 0, width: 30, height: 3 }).unwrap();
    let before = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    m.apply(RedrawEvent::WinPos { grid, win, row: 5, col: 0, width: 30, height: 3 }).unwrap();
    let after = m.apply(RedrawEvent::Flush).unwrap().unwrap();

    let mut still = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let (still_before, _) = still.render(&before, no_cursor()).unwrap();
    let (still_after, _) = still.render(&after, no_cursor()).unwrap();
    assert_same(&still_after, &flattened(&after), "moved without animation");

    let mut moving = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    moving.renderer.slides = SlideKnobs { scroll_length: 0.0, far_lines: 1, position_length: 0.15 };
    let t0 = Instant::now();
    moving.renderer.now = t0;
    moving.render(&before, no_cursor()).unwrap();
    let (start, _) = moving.render(&after, no_cursor()).unwrap();
    assert_same(&start, &still_before, "the slide starts where the window was");
    moving.renderer.now = t0 + Duration::from_millis(40);
    let (mid, _) = moving.render(&after, no_cursor()).unwrap();
    let ch = moving.renderer.metrics().height;
    // The window's first row ("window row 0") is now between rows 1 and 5.
    let window_top = (0..mid.height).find(|&y| mid.pixel(0, y) != still_after.pixel(0, y) || y >= 5 * ch);
    assert!(mid != still_before && mid != still_after, "drawn between its places");
    assert!(window_top.is_some_and(|y| y > ch && y < 5 * ch), "first difference at {window_top:?}");
    moving.renderer.now = t0 + Duration::from_millis(151);
    assert_eq!(moving.renderer.slide_end(moving.renderer.now), None);
    let (end, _) = moving.render(&after, no_cursor()).unwrap();
    assert_same(&end, &still_after, "it lands on the screen drawn without animation");
}

/// A window with `rows` rows of "line N" from topline `top`,
/// scrolled by `delta` since the last frame (every row drawn anew, as nvim
/// does for a jump).
fn window_at(m: &mut Model, rows: usize, top: usize, delta: i64) -> Frame {
    let (grid, win) = (2, 1000);
    for row in 0..rows {
        let cells = vec![cell(&format!("line {}", top + row), Some(0))];
        m.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    m.apply(RedrawEvent::WinPos { grid, win, row: 0, col: 0, width: 30, height: rows }).unwrap();
    m.apply(common::viewport(grid, win, top as i64, rows as i64, delta)).unwrap();
    m.apply(RedrawEvent::Flush).unwrap().unwrap()
}

/// `G` in a long buffer: a jump further than the window is high slides in
/// only `scroll_animation_far_lines` (1) line: the first frame shows the
/// destination one row lower than its place, and the slide ends on it.
/// A window resized in the middle of a slide ends it at once.
#[test]
fn a_far_jump_slides_one_line_and_a_resize_ends_a_slide() {
    use std::time::{Duration, Instant};
    use vireo::render::SlideKnobs;
    let rows = 8;
    let mut m = model(30, rows + 1);
    m.apply(RedrawEvent::GridResize { grid: 2, width: 30, height: rows }).unwrap();
    let before = window_at(&mut m, rows, 0, 0);
    let after = window_at(&mut m, rows, 500, 500);
    let mut still = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    still.render(&before, no_cursor()).unwrap();
    let (still_after, _) = still.render(&after, no_cursor()).unwrap();

    let mut smooth = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    smooth.renderer.slides = SlideKnobs { scroll_length: 0.3, far_lines: 1, position_length: 0.0 };
    let t0 = Instant::now();
    smooth.renderer.now = t0;
    smooth.render(&before, no_cursor()).unwrap();
    let (start, _) = smooth.render(&after, no_cursor()).unwrap();
    let ch = smooth.renderer.metrics().height;
    for row in 1..rows as u32 {
        assert_same(&crop_row(&start, row, ch), &crop_row(&still_after, row - 1, ch), "one row lower");
    }
    smooth.renderer.now = t0 + Duration::from_millis(301);
    let (end, _) = smooth.render(&after, no_cursor()).unwrap();
    assert_same(&end, &still_after, "the jump lands on its place");

    // A scroll starts a slide; the window is resized before it ends.
    smooth.renderer.now = t0 + Duration::from_millis(400);
    let scrolled = window_at(&mut m, rows, 503, 3);
    smooth.render(&scrolled, no_cursor()).unwrap();
    assert!(smooth.renderer.slide_end(smooth.renderer.now).is_some(), "sliding");
    m.apply(RedrawEvent::GridResize { grid: 2, width: 30, height: rows - 2 }).unwrap();
    let resized = window_at(&mut m, rows - 2, 503, 0);
    let (img, _) = smooth.render(&resized, no_cursor()).unwrap();
    assert_eq!(smooth.renderer.slide_end(smooth.renderer.now), None, "the resize ended the slide");
    let mut fresh = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    assert_same(&img, &fresh.render(&resized, no_cursor()).unwrap().0, "drawn in place");
}

/// A window on a CPU adapter makes the pipelines only some frames draw
/// with at the first frame that draws with them, so a session that never
/// draws them never holds them (about 5 MB with lavapipe; floats' depth in
/// `tests/depth.rs`): plain text makes none, an undercurl the rects'
/// shapes, the cursor's smear its own. Each frame is the one a renderer
/// that made them all at start draws.
#[test]
fn the_shapes_and_the_smear_are_made_at_their_first_use() {
    let mut lazy = Offscreen::as_cpu_window(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut eager = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(30, 4);
    let curl = HlAttr { underline: Underline::Curl, sp: Some(0xff4040), ..Default::default() };
    m.apply(RedrawEvent::HlAttrDefine { id: 1, attr: curl }).unwrap();
    let cursor = CursorState { visible: true };
    let mut drawn = |frame: &Frame, smear: Option<[[f32; 2]; 4]>, what: &str| {
        lazy.renderer.cursor_smear = smear;
        eager.renderer.cursor_smear = smear;
        let (a, _) = lazy.render(frame, cursor).unwrap();
        let (b, _) = eager.render(frame, cursor).unwrap();
        assert_same(&a, &b, what);
        lazy.renderer.made_at_first_use()
    };
    let plain = line(&mut m, 0, vec![cell("fn main() {}", Some(0))]);
    assert_eq!(drawn(&plain, None, "plain text"), Vec::<&str>::new());
    let curled = line(&mut m, 1, vec![cell("    mian();", Some(1))]);
    assert_eq!(drawn(&curled, None, "an undercurl"), ["shapes"]);
    m.apply(RedrawEvent::GridCursorGoto { grid: 1, row: 1, col: 4 }).unwrap();
    let moved = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let smear = [[2.0, 20.0], [40.0, 18.0], [40.0, 36.0], [4.0, 38.0]];
    assert_eq!(drawn(&moved, Some(smear), "the cursor's smear"), ["smear", "shapes"]);
}

/// A window on a CPU adapter draws the first frame's draws once before its
/// first frame (the driver compiles their code then, beside the shaping of
/// the first screen): the device takes them without an error, and they
/// leave nothing behind: the same frames come out, text, message grid and
/// cursor, as from a renderer that never made them.
#[test]
fn the_first_frames_draws_made_ahead_change_nothing() {
    let mut warmed = Offscreen::warmed(Fonts::bundled(1.0)).expect("the warm-up draws are taken");
    let mut plain = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let mut m = model(30, 6);
    let red = HlAttr { bg: Some(0xaa2222), ..Default::default() };
    m.apply(RedrawEvent::HlAttrDefine { id: 1, attr: red }).unwrap();
    m.apply(RedrawEvent::GridResize { grid: 3, width: 30, height: 6 }).unwrap();
    m.apply(RedrawEvent::GridLine {
        grid: 3,
        row: 0,
        col_start: 0,
        cells: vec![cell("-- INSERT --", Some(0))],
        wrap: false,
    })
    .unwrap();
    let at = RedrawEvent::MsgSetPos {
        grid: 3,
        row: 5,
        scrolled: false,
        sep_char: Cow::Borrowed(""),
        zindex: None,
        compindex: None,
    };
    m.apply(at).unwrap();
    line(&mut m, 0, vec![cell("fn main() {", Some(0)), cell("a", Some(1))]);
    m.apply(RedrawEvent::GridCursorGoto { grid: 1, row: 0, col: 3 }).unwrap();
    let first = line(&mut m, 1, vec![cell("    let x = 1;", Some(0))]);
    let cursor = CursorState { visible: true };
    let (a, _) = warmed.render(&first, cursor).unwrap();
    let (b, _) = plain.render(&first, cursor).unwrap();
    assert_same(&a, &b, "the first frame");
    m.apply(RedrawEvent::GridCursorGoto { grid: 1, row: 1, col: 5 }).unwrap();
    let typed = line(&mut m, 1, vec![cell("    lett x = 1;", Some(0))]);
    let (a, _) = warmed.render(&typed, cursor).unwrap();
    let (b, _) = plain.render(&typed, cursor).unwrap();
    assert_same(&a, &b, "a frame after it");
}

/// A window on a CPU adapter moves the rows a scroll moved in its own copy
/// of the last frame and reads back only the rest (`Keep::Moving`).
/// Through scrolls in splits, beside and under floats, with a winbar, the
/// cursor moving and the smooth scroll sliding, what it shows must be what
/// a renderer that composes every changed row shows.
#[test]
fn rows_moved_in_the_shown_frame_show_what_composing_them_shows() {
    let (conn, mut moving, mut composing, mut shown) = shown_beside_drawn(60, 16);
    let mut latest = None;
    let cursor = CursorState { visible: true };
    let float = open_float(4, 30, 20, 4);
    let steps = [
        ":call setline(1, map(range(1, 400), 'printf(\"%d: line\", v:val)'))<CR>:set number cursorline<CR>",
        "<C-e>",
        "3<C-e>",
        "<C-y>",
        "jj<C-e>",
        "<C-d>",
        ":vsplit<CR>",
        "<C-e>",
        "<C-w>w4<C-e>",
        ":setlocal winbar=%f<CR>",
        "<C-e>",
        "2<C-y>",
        &float,
        "<C-e>",
        ":split<CR>",
        "<C-e>",
        "<C-w>j<C-e>",
        "G",
        "<C-y>",
    ];
    let mut moved = 0;
    // Once drawn at once, then with the scroll sliding (frames at steps
    // through its length) and padding around the grid.
    let padding = Padding { top: 7, bottom: 3, left: 5, right: 2 };
    for (length, padding) in [(0.0, Padding::default()), (0.2, padding)] {
        let knobs = SlideKnobs { scroll_length: length, ..SlideKnobs::default() };
        for renderer in [&mut moving.renderer, &mut composing.renderer] {
            renderer.slides = knobs;
            renderer.padding = padding;
        }
        for keys in steps {
            let frame = common::settled(&conn, &mut latest, Some(keys));
            let start = std::time::Instant::now();
            let frames = if length > 0.0 { 5 } else { 1 };
            for n in 0..frames {
                let now = start + std::time::Duration::from_millis(50 * n);
                moving.renderer.now = now;
                composing.renderer.now = now;
                let stats = moving.render_moved(&frame, cursor, &mut shown).expect("renders");
                let (expected, _) = composing.render_kept(&frame, cursor).expect("renders");
                moved += stats.moves.iter().map(|m| m.rows.1 - m.rows.0).sum::<u32>();
                assert_same(&shown, &expected, &format!("after {keys:?}, slide {length} ({stats:?})"));
            }
        }
        // Back to the top, with one window.
        common::settled(&conn, &mut latest, Some(":only<CR>gg"));
    }
    let ch = moving.renderer.metrics().height;
    assert!(moved > 20 * ch, "only {moved} pixel rows were moved");
    conn.shutdown();
}

/// A scroll's moved rows cut in two by the cursor's: with the smooth
/// scroll sliding and the cursor gliding after it, the cursor's rows are
/// drawn again and the window's rows above and below them are moved, the
/// lower part taking rows the upper part is given. Made one after another
/// in the shown image, the upper part once overwrote what the lower part
/// reads (a line's glyphs left a few pixel rows under the cursor). Every
/// frame of `<C-y>` steps in a split of wrapped lines, moved, is what
/// drawing it whole shows.
#[test]
fn moved_rows_the_cursor_cuts_in_two_show_what_drawing_the_frame_whole_shows() {
    use vireo::render::cursor_motion::{CursorMotion, MotionKnobs, Target};
    let (conn, mut moving, mut whole, mut shown) = shown_beside_drawn(60, 16);
    let mut latest = None;
    let cursor = CursorState { visible: true };
    let mut motion = CursorMotion::default();
    let knobs = MotionKnobs::default();
    for renderer in [&mut moving.renderer, &mut whole.renderer] {
        renderer.slides = SlideKnobs { scroll_length: 0.3, ..SlideKnobs::default() };
        // An unfocused window's outlined cursor.
        renderer.cursor_outline = Some(1.0);
    }
    let mut steps = vec![
        ":call setline(1, map(range(1, 400), 'printf(\"%d the quick brown fox jumps over the lazy dog\", v:val)'))<CR>:set number<CR>30<C-e>",
        ":vsplit<CR>12<C-e><C-w>l",
    ];
    steps.extend(std::iter::repeat_n("<C-y>", 9));
    let m = moving.renderer.metrics();
    let mut clock = std::time::Instant::now();
    let mut moved = 0;
    for keys in steps {
        let frame = common::settled(&conn, &mut latest, Some(keys));
        // Two frames 40 ms apart, the next key 70 ms after the second.
        for step in [0, 40, 70] {
            clock += std::time::Duration::from_millis(step);
            if step == 70 {
                continue;
            }
            motion.retarget(Target::of(&frame, m), clock, &knobs);
            for renderer in [&mut moving.renderer, &mut whole.renderer] {
                renderer.now = clock;
                renderer.cursor_smear = motion.quad(clock);
            }
            let stats = moving.render_moved(&frame, cursor, &mut shown).expect("renders");
            let (expected, _) = whole.render(&frame, cursor).expect("renders");
            moved += stats.moves.len();
            assert_same(&shown, &expected, &format!("after {keys:?} ({stats:?})"));
        }
    }
    assert!(moved > 9, "only {moved} moves");
    conn.shutdown();
}

/// A frame that moves no rows is composed, read back and shown only in
/// the columns that changed in its rows (`RenderStats::fresh_spans`): a
/// typed key's few cells and the ruler's, where the cursor was and is.
/// Typing and moving in insert, normal and visual mode (italics, wide
/// characters, `cursorcolumn`, a float, a preedit-free cursor glyph), with
/// and without padding, every frame shown so is what drawing the frame
/// whole shows; and most frames were narrower than the screen.
#[test]
fn frames_shown_only_where_their_columns_changed_show_what_drawing_them_whole_shows() {
    let (conn, mut moving, mut whole, mut shown) = shown_beside_drawn(60, 12);
    let mut latest = None;
    let float = open_float(3, 20, 24, 3);
    let steps = [
        ":set ruler showcmd<CR>:syntax match Comment '//.*'<CR>:hi Comment gui=italic guifg=#80a0ff<CR>",
        ":call setline(1, ['fn main() {', '    let x = 1;', '}'])<CR>",
        "jA",
        " // typed",
        "f",
        "ff",
        " 漢字",
        "<BS>",
        "<Esc>",
        "0",
        "w",
        "$",
        "k",
        "<C-v>j",
        "l",
        "<Esc>",
        ":set cursorcolumn<CR>",
        "j",
        "h",
        &float,
        "o under the float",
        "<Esc>",
        ":set nocursorcolumn cursorline<CR>",
        "k",
        "3x",
    ];
    let mut narrow = 0;
    let padding = Padding { top: 7, bottom: 3, left: 5, right: 2 };
    for padding in [Padding::default(), padding] {
        pad_both([&mut moving, &mut whole], padding);
        for keys in steps {
            let (stats, expected) =
                shown_and_whole(&conn, &mut latest, keys, [&mut moving, &mut whole], &mut shown);
            narrow += stats.fresh_spans.iter().filter(|s| s[2] - s[0] < expected.width).count();
            assert_same(&shown, &expected, &format!("after {keys:?} ({stats:?})"));
        }
        // Out of insert mode, one window, the buffer as typed at first.
        common::settled(&conn, &mut latest, Some("<Esc>:only<CR>:%d<CR>"));
    }
    assert!(narrow > 20, "only {narrow} spans narrower than the screen");
    conn.shutdown();
}

/// A layer draws a changed row only inside the columns where its pixels
/// change (see `render::columns`): the cells that changed, and where the
/// glyphs that changed put ink (a ligature formed by the next character
/// typed, an italic's overhang, a wide glyph). Each frame of a row edited
/// as nvim edits it, drawn on the kept layers, is pixel for pixel the
/// frame drawn from scratch; and a character typed draws a few cells.
#[test]
fn rows_drawn_only_where_they_change_show_what_drawing_them_whole_shows() {
    let mut kept = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    let mut whole = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    let mut m = model(40, 3);
    let attrs = [
        HlAttr { italic: true, ..Default::default() },
        HlAttr {
            bold: true,
            fg: Some(0x40c0ff),
            underline: vireo::model::Underline::Curl,
            ..Default::default()
        },
        HlAttr { bg: Some(0x603020), fg: Some(0xffe080), ..Default::default() },
    ];
    for (id, attr) in (1..).zip(attrs) {
        m.apply(RedrawEvent::HlAttrDefine { id, attr }).unwrap();
    }
    for row in [0, 2] {
        line(&mut m, row, "fixed rows".chars().map(|c| cell(&c.to_string(), Some(0))).collect());
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    kept.render_kept(&frame, no_cursor()).unwrap();
    let (cw, ch) = (kept.renderer.metrics().width, kept.renderer.metrics().height);

    let at = |m: &mut Model, col: usize, cells: Vec<CellUpdate<'static>>| {
        m.apply(RedrawEvent::GridLine { grid: 1, row: 1, col_start: col, cells, wrap: false }).unwrap();
        m.apply(RedrawEvent::Flush).unwrap().unwrap()
    };
    let cells =
        |text: &str, hl: u32| text.chars().map(|c| cell(&c.to_string(), Some(hl))).collect::<Vec<_>>();
    let mut steps: Vec<(String, Frame, bool)> = Vec::new();
    // Typed one character at a time, as insert mode sends them: `->` and
    // `!=` become ligatures when their second character comes.
    for (col, c) in "let x = a->b != c;".chars().enumerate() {
        steps.push((format!("typed {c:?}"), at(&mut m, col, cells(&c.to_string(), 0)), true));
    }
    for (i, c) in "ffly".chars().enumerate() {
        steps.push((format!("italic {c:?}"), at(&mut m, 24 + i, cells(&c.to_string(), 1)), false));
    }
    let more: Vec<(&str, usize, Vec<CellUpdate<'static>>)> = vec![
        // Inserted in the middle: the rest of the line is sent again, moved.
        ("inserted", 4, cells("yy x = a->b != c;  ", 0)),
        ("emoji", 30, vec![cell("😀", Some(0)), cell("", None), cell("日", None), cell("", None)]),
        ("wide to narrow", 30, cells("ab", 0)),
        ("highlight in a word", 9, cells("a", 2)),
        // The italic f's overhang reached into the next cell, unchanged.
        ("italic changed", 24, cells("x", 1)),
        ("background in a word", 25, cells("fl", 3)),
        ("italic overhang removed", 27, cells(" ", 0)),
        ("box drawing", 35, vec![cell("─", Some(0)), cell("━", None), cell("", None), cell("│", None)]),
        // Only the next cell changes, to a continuation: the box drawing
        // character left of it is drawn over two cells.
        ("box drawing made wide", 39, vec![cell("", Some(0))]),
        ("deleted", 0, cells("          ", 0)),
    ];
    for (what, col, update) in more {
        steps.push((what.to_owned(), at(&mut m, col, update), false));
    }
    for (what, frame, typed) in steps {
        let (drawn, stats) = kept.render_kept(&frame, no_cursor()).unwrap();
        whole.renderer.invalidate();
        let (fresh, _) = whole.render(&frame, no_cursor()).unwrap();
        assert_same(&drawn, &fresh, &what);
        if typed {
            assert!(
                stats.drawn_px <= u64::from(4 * cw * ch),
                "{what}: {} pixels drawn, more than 4 cells' worth",
                stats.drawn_px
            );
        }
    }
}

/// Typed keys' small frames drawn on the CPU (`Renderer::preview`) and
/// shown as the X11 presenter shows them, instead of the GPU's frame, show
/// what drawing the frame whole on the GPU shows, to the rounding of a
/// channel, all over the window: insert-mode typing with ligatures,
/// italics, bold and underlined text, wide characters, "-- INSERT --"
/// coming and going, the cursor moving in normal mode with `cursorline`,
/// the ruler, the sliding cursor's smear. A change under a float is left
/// to the GPU, which then draws the rows the CPU drew before it.
#[test]
fn small_frames_drawn_on_the_cpu_show_what_the_gpu_draws() {
    let (conn, mut moving, mut whole, mut shown) = shown_beside_drawn(60, 12);
    moving.renderer.previews = true;
    let mut latest = None;
    let cursor = CursorState { visible: true };
    let setup = ":call setline(1, ['int main(void) {', '    return a != b && c -> d; // a note', '}', \
                 'plain 日本語 text and more'])<CR>:set ft=c number cursorline<CR>\
                 :hi Comment gui=italic<CR>:hi Type gui=bold,underline<CR>gg";
    common::settled(&conn, &mut latest, Some(setup));
    let frame = common::settled(&conn, &mut latest, None);
    moving.render_moved(&frame, cursor, &mut shown).expect("renders");
    let steps = [
        "A", " ", "x", "y", " ", "-", ">", " ", "日", "!", "=", "<Esc>", "j", "w", "w", "e", "l", "x", "u",
        "2j", "i", "é", "<Esc>", "k", "$", "0",
    ];
    let (mut previews, mut worst) = (0, 0);
    for (n, keys) in steps.into_iter().enumerate() {
        let frame = common::settled(&conn, &mut latest, Some(keys));
        // Every other frame with the cursor sliding in from the left and
        // above, a quadrilateral with slanted, anti-aliased edges.
        let area = moving.renderer.cursor_area(&frame);
        let smear = area
            .filter(|_| n % 2 == 1)
            .map(|(x, y, w, h)| [[x - 31.3, y - 9.6], [x + w, y], [x + w, y + h], [x - 27.8, y + h - 12.2]]);
        for renderer in [&mut moving.renderer, &mut whole.renderer] {
            renderer.cursor_smear = smear;
            renderer.cursor_antialiasing = n % 4 == 1;
        }
        moving.render_moved(&frame, cursor, &mut shown).expect("renders");
        previews += usize::from(moving.previewed.is_some());
        // A character typed after another drawn on the CPU: a few cells
        // drawn, not the row the GPU lags on.
        if let (2..=10, Some((preview, _))) = (n, &moving.previewed) {
            let m = moving.renderer.metrics();
            let cells = preview.pixels.len() as u32 / (m.width * m.height);
            assert!(cells <= 12, "typing {keys:?} drew {cells} cells: {:?}", preview.spans);
        }
        let (expected, _) = whole.render(&frame, cursor).expect("renders");
        worst = worst.max(assert_close(&shown, &expected, &format!("after {keys:?}")));
    }
    assert!(previews >= steps.len() - 2, "only {previews} of {} keys' frames were previewed", steps.len());
    eprintln!("{previews} previews, the largest difference {worst}");
    // Typing under a float: its frames go to the GPU, which draws the
    // rows the frames before drew on the CPU only.
    for renderer in [&mut moving.renderer, &mut whole.renderer] {
        renderer.cursor_smear = None;
    }
    common::settled(&conn, &mut latest, Some(&open_float(0, 4, 30, 3)));
    let frame = common::settled(&conn, &mut latest, Some("ggA"));
    moving.render_moved(&frame, cursor, &mut shown).expect("renders");
    for keys in ["q", "r"] {
        let frame = common::settled(&conn, &mut latest, Some(keys));
        moving.render_moved(&frame, cursor, &mut shown).expect("renders");
        assert!(moving.previewed.is_none(), "typed under the float");
        let (expected, _) = whole.render(&frame, cursor).expect("renders");
        assert_close(&shown, &expected, &format!("after {keys:?} under the float"));
    }
    conn.shutdown();
}

/// Scrolled lines drawn on the CPU: a frame that moves the window's rows
/// and shows a few anew (a line scrolled in, the cursor's rows, the
/// ruler) is shown from its preview, the moved rows renamed, and the GPU
/// draws nothing. Frames the GPU draws later (a float opened over the
/// scrolled window and closed, a page scrolled, `cursorline` turned off)
/// draw the rows the CPU drew before them. With and without padding,
/// every frame shown is what drawing it whole shows, to the rounding of a
/// channel; and most one-line scrolls were drawn on the CPU.
#[test]
fn scrolled_lines_drawn_on_the_cpu_show_what_the_gpu_draws() {
    let (conn, mut moving, mut whole, mut shown) = shown_beside_drawn(60, 16);
    moving.renderer.previews = true;
    let mut latest = None;
    let cursor = CursorState { visible: true };
    let lines = ":call setline(1, map(range(1, 400), 'printf(\"%d: fn x() -> y != z; // line\", v:val)'))<CR>\
                 :set ft=rust number cursorline ruler<CR>";
    let close_floats = ":lua for _, w in ipairs(vim.api.nvim_list_wins()) do \
                        if vim.api.nvim_win_get_config(w).relative ~= '' then vim.api.nvim_win_close(w, true) end end<CR>";
    let float = open_float(4, 30, 20, 4);
    let steps = [
        lines,
        "<C-e>",
        "<C-e>",
        "j",
        "<C-e>",
        "<C-e>",
        &float,
        "<C-e>",
        close_floats,
        "<C-e>",
        "<C-e>",
        "<C-d>",
        "<C-e>",
        ":set nocursorline<CR>",
        "<C-e>",
        "<C-y>",
        "k",
        "<C-e>",
    ];
    let padding = Padding { top: 7, bottom: 3, left: 5, right: 2 };
    let (mut scrolled, mut worst) = (0, 0);
    for padding in [Padding::default(), padding] {
        pad_both([&mut moving, &mut whole], padding);
        for keys in steps {
            let (stats, expected) =
                shown_and_whole(&conn, &mut latest, keys, [&mut moving, &mut whole], &mut shown);
            scrolled += usize::from(moving.previewed.is_some() && !stats.moves.is_empty());
            let what = format!("after {keys:?}, padding {padding:?} ({stats:?})");
            worst = worst.max(assert_close(&shown, &expected, &what));
        }
        // The target, composed again where those frames left it stale, is
        // the screen (as a window's next frame after a failed put reads
        // all of it back).
        let frame = common::settled(&conn, &mut latest, None);
        let (target, _) = moving.render_kept(&frame, cursor).expect("renders");
        let (expected, _) = whole.render(&frame, cursor).expect("renders");
        assert_close(&target, &expected, &format!("the whole target, padding {padding:?}"));
        common::settled(&conn, &mut latest, Some("gg"));
    }
    eprintln!("{scrolled} scrolled frames drawn on the CPU, the largest difference {worst}");
    assert!(scrolled >= 12, "only {scrolled} scrolled frames were drawn on the CPU");
    conn.shutdown();
}

/// A whole frame into a target that holds nothing (a window's first
/// frame, and its first at a new size) is drawn on the CPU, padding and
/// all, where lavapipe would compile its draws and touch every texture
/// first. It shows what drawing it on the GPU shows, to 2 steps of a
/// channel; the GPU draws nothing for it, and the frames it draws later
/// (a float opened, the window's text cleared, a page scrolled) clear and
/// draw the layers the CPU drew first, and the target's padding: every
/// frame shown, and at the end the whole target, is the screen.
#[test]
fn first_frames_drawn_on_the_cpu_show_what_the_gpu_draws() {
    let (conn, mut moving, mut whole, mut shown) = shown_beside_drawn(60, 12);
    moving.renderer.previews = true;
    pad_both([&mut moving, &mut whole], Padding { top: 3, bottom: 6, left: 7, right: 2 });
    let mut latest = None;
    let cursor = CursorState { visible: true };
    let setup = ":call setline(1, map(range(1, 200), 'printf(\"%d: int x = y -> z; // é 日本\", v:val)'))<CR>\
                 :set ft=c number cursorline<CR>:hi Comment gui=italic<CR>";
    common::settled(&conn, &mut latest, Some(setup));
    let steps = [
        ("", true),
        ("A!", true),
        (&open_float(2, 10, 20, 3) as &str, false),
        ("<Esc>:only<CR>:enew<CR>", false),
        ("<C-o>", false),
        ("<C-f>", false),
        (":set lines=9 columns=50<CR>", true),
        ("<C-f>", false),
    ];
    for (keys, on_cpu) in steps {
        let keys = if keys.is_empty() { None } else { Some(keys) };
        let frame = common::settled(&conn, &mut latest, keys);
        let stats = moving.render_moved(&frame, cursor, &mut shown).expect("renders");
        let (expected, _) = whole.render(&frame, cursor).expect("renders");
        assert_close(&shown, &expected, &format!("after {keys:?} ({stats:?})"));
        // The first frame and the first at a new size (and a typed key's).
        if on_cpu {
            assert!(moving.previewed.is_some(), "after {keys:?}: drawn on the GPU");
        }
    }
    let frame = common::settled(&conn, &mut latest, None);
    let (target, _) = moving.render_kept(&frame, cursor).expect("renders");
    let (expected, _) = whole.render(&frame, cursor).expect("renders");
    assert_close(&target, &expected, "the whole target");
    conn.shutdown();
}

/// `keys` sent to nvim, and its settled frame with a visible cursor shown
/// by the first renderer as a window shows it (into `shown`) and drawn
/// whole by the second: the first's stats, the second's image.
fn shown_and_whole(
    conn: &vireo::nvim::Connection,
    latest: &mut Option<Frame>,
    keys: &str,
    [moving, whole]: [&mut Offscreen; 2],
    shown: &mut Image,
) -> (vireo::render::RenderStats, Image) {
    let cursor = CursorState { visible: true };
    let frame = common::settled(conn, latest, Some(keys));
    let stats = moving.render_moved(&frame, cursor, shown).expect("renders");
    let (expected, _) = whole.render(&frame, cursor).expect("renders");
    (stats, expected)
}

/// Both renderers draw with `padding`.
fn pad_both(offscreens: [&mut Offscreen; 2], padding: Padding) {
    offscreens.into_iter().for_each(|o| o.renderer.padding = padding);
}

/// `a` is `b` to 2 steps of a channel in every pixel; the largest
/// difference.
fn assert_close(a: &Image, b: &Image, what: &str) -> u8 {
    assert_eq!((a.width, a.height), (b.width, b.height), "{what}");
    let mut worst = 0;
    for y in 0..a.height {
        for x in 0..a.width {
            let (p, q) = (a.pixel(x, y), b.pixel(x, y));
            let off = (0..4).map(|i| p[i].abs_diff(q[i])).max().unwrap_or(0);
            if off > 2 {
                let dir = std::env::temp_dir();
                a.write_png(&dir.join("vireo-a.png")).expect("writes");
                b.write_png(&dir.join("vireo-b.png")).expect("writes");
            }
            assert!(off <= 2, "{what}: pixel ({x}, {y}) shown {p:?}, drawn whole {q:?}");
            worst = worst.max(off);
        }
    }
    worst
}

/// A stream may report any scroll delta: the extremes, with every row
/// drawn anew (no turn found from the rows), neither panic nor show
/// anything but the grid (a generated stream once sent `i64::MIN`).
#[test]
fn extreme_scroll_deltas_show_the_grid() {
    let (grid, win, rows) = (2, 1000, 8);
    let mut m = model(30, rows);
    m.apply(RedrawEvent::GridResize { grid, width: 30, height: rows }).unwrap();
    m.apply(RedrawEvent::WinPos { grid, win, row: 0, col: 0, width: 30, height: rows }).unwrap();
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    offscreen.renderer.slides = SlideKnobs { scroll_length: 0.3, far_lines: 1, position_length: 0.0 };
    for (i, delta) in [0, i64::MIN, i64::MAX, i64::MIN + 1].into_iter().enumerate() {
        for row in 0..rows {
            let cells = vec![cell(&format!("line {row} of frame {i}"), Some(0))];
            m.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
        }
        m.apply(common::viewport(grid, win, 0, 7, delta)).unwrap();
        let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
        offscreen.render(&frame, no_cursor()).unwrap();
    }
}
