//! `Model::apply`, publishing (damage and sharing) and composition, driven by
//! typed events as the decoder produces them.

use std::borrow::Cow;

use super::compose::{LayerKind, compose, grid_origin, layers};
use super::*;

// ------------------------------------------------------------------ helpers

#[track_caller]
fn apply(m: &mut Model, event: RedrawEvent<'static>) {
    match m.apply(event) {
        Ok(None) => {}
        Ok(Some(_)) => panic!("only flush publishes a frame"),
        Err(e) => panic!("event refused: {e}"),
    }
}

#[track_caller]
fn flush(m: &mut Model) -> Frame {
    m.apply(RedrawEvent::Flush).expect("flush cannot fail").expect("flush publishes a frame")
}

#[track_caller]
fn resize(m: &mut Model, grid: GridId, width: usize, height: usize) {
    apply(m, RedrawEvent::GridResize { grid, width, height });
}

fn cells_of(texts: &[&str], hl: u32) -> Vec<CellUpdate<'static>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| CellUpdate {
            text: Cow::Owned((*t).to_owned()),
            hl: (i == 0).then_some(hl),
            repeat: None,
        })
        .collect()
}

/// Writes explicit cells (`""` for the right half of a wide character).
#[track_caller]
fn put_cells(m: &mut Model, grid: GridId, row: usize, col: usize, texts: &[&str]) {
    let cells = cells_of(texts, 0);
    apply(m, RedrawEvent::GridLine { grid, row, col_start: col, cells, wrap: false });
}

/// Writes `text` one character per cell with highlight `hl`.
#[track_caller]
fn put_hl(m: &mut Model, grid: GridId, row: usize, col: usize, text: &str, hl: u32) {
    let chars: Vec<String> = text.chars().map(String::from).collect();
    let texts: Vec<&str> = chars.iter().map(String::as_str).collect();
    let cells = cells_of(&texts, hl);
    apply(m, RedrawEvent::GridLine { grid, row, col_start: col, cells, wrap: false });
}

#[track_caller]
fn put(m: &mut Model, grid: GridId, row: usize, col: usize, text: &str) {
    put_hl(m, grid, row, col, text, 0);
}

/// Fills every row of a grid with one character.
#[track_caller]
fn fill(m: &mut Model, grid: GridId, ch: &str) {
    let (width, height) = {
        let g = m.grid(grid).expect("grid exists");
        (g.width(), g.height())
    };
    for row in 0..height {
        let cells =
            vec![CellUpdate { text: Cow::Owned(ch.to_owned()), hl: Some(0), repeat: Some(width as u64) }];
        apply(m, RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false });
    }
}

#[track_caller]
fn texts(frame: &Frame, grid: GridId) -> Vec<String> {
    let g = frame.grid(grid).unwrap_or_else(|| panic!("grid {grid} is not in the frame"));
    g.rows.iter().map(|r| r.text()).collect()
}

/// The composed screen, one string per row with trailing spaces trimmed.
fn screen(frame: &Frame) -> Vec<String> {
    let s = compose(frame);
    (0..s.height).map(|r| s.row_text(r)).collect()
}

#[track_caller]
fn damage(frame: &Frame, grid: GridId) -> GridDamage {
    frame.damage.get(&grid).unwrap_or_else(|| panic!("grid {grid} has no damage")).clone()
}

fn rows(rows: &[usize]) -> GridDamage {
    GridDamage { rows: rows.to_vec(), resized: false }
}

#[track_caller]
fn win_pos(m: &mut Model, grid: GridId, row: usize, col: usize, width: usize, height: usize) {
    let win = 1000 + grid as i64;
    apply(m, RedrawEvent::WinPos { grid, win, row, col, width, height });
}

#[derive(Clone, Copy)]
struct Float {
    anchor: Anchor,
    anchor_grid: GridId,
    row: f64,
    col: f64,
    zindex: Option<u64>,
    compindex: Option<u64>,
}

impl Float {
    fn nw(row: f64, col: f64) -> Self {
        Float { anchor: Anchor::NW, anchor_grid: GLOBAL_GRID, row, col, zindex: None, compindex: None }
    }
}

#[track_caller]
fn float(m: &mut Model, grid: GridId, f: Float) {
    apply(
        m,
        RedrawEvent::WinFloatPos {
            grid,
            win: 1000 + grid as i64,
            anchor: f.anchor,
            anchor_grid: f.anchor_grid,
            anchor_row: f.row,
            anchor_col: f.col,
            mouse_enabled: true,
            zindex: f.zindex,
            compindex: f.compindex,
        },
    );
}

#[track_caller]
fn msg_set_pos(m: &mut Model, grid: GridId, row: usize, scrolled: bool, sep_char: &'static str) {
    let sep_char = Cow::Borrowed(sep_char);
    apply(m, RedrawEvent::MsgSetPos { grid, row, scrolled, sep_char, zindex: None, compindex: None });
}

/// A model with a `width` x `height` global grid full of dots, flushed.
fn dotted(width: usize, height: usize) -> Model {
    let mut m = Model::new();
    resize(&mut m, GLOBAL_GRID, width, height);
    fill(&mut m, GLOBAL_GRID, ".");
    flush(&mut m);
    m
}

/// A `width` x `height` grid with each row filled with one character of `chars`.
fn grid_with(m: &mut Model, grid: GridId, width: usize, chars: &str) {
    let height = chars.chars().count();
    resize(m, grid, width, height);
    for (row, ch) in chars.chars().enumerate() {
        put(m, grid, row, 0, &ch.to_string().repeat(width));
    }
}

// ------------------------------------------------------------ grid events

#[test]
fn grid_resize_creates_then_resizes_keeping_contents() {
    let mut m = Model::new();
    resize(&mut m, 2, 4, 2);
    put(&mut m, 2, 0, 0, "abcd");
    put(&mut m, 2, 1, 0, "efgh");
    let f = flush(&mut m);
    assert_eq!(texts(&f, 2), ["abcd", "efgh"]);
    let g = f.grid(2).unwrap();
    assert_eq!((g.width, g.height), (4, 2));

    resize(&mut m, 2, 6, 3);
    let f = flush(&mut m);
    assert_eq!(texts(&f, 2), ["abcd  ", "efgh  ", "      "]);
    let g = f.grid(2).unwrap();
    assert_eq!((g.width, g.height), (6, 3));

    resize(&mut m, 2, 2, 1);
    let f = flush(&mut m);
    assert_eq!(texts(&f, 2), ["ab"]);
    resize(&mut m, 2, 0, 0);
    assert_eq!(texts(&flush(&mut m), 2), Vec::<String>::new());
}

#[test]
fn grid_line_writes_cells_with_hl_carry_and_wrap() {
    let mut m = Model::new();
    resize(&mut m, 1, 6, 2);
    let cells = vec![
        CellUpdate { text: "a".into(), hl: Some(3), repeat: Some(2) },
        CellUpdate { text: "b".into(), hl: None, repeat: None },
        CellUpdate { text: " ".into(), hl: Some(4), repeat: Some(0) },
        CellUpdate { text: "c".into(), hl: None, repeat: None },
    ];
    apply(&mut m, RedrawEvent::GridLine { grid: 1, row: 1, col_start: 1, cells, wrap: true });
    let f = flush(&mut m);
    assert_eq!(texts(&f, 1), ["      ", " aabc "]);
    let row = &f.grid(1).unwrap().rows[1];
    let hls: Vec<u32> = row.cells.iter().map(|c| c.hl).collect();
    assert_eq!(hls, [0, 3, 3, 3, 4, 0]);
    assert!(row.wrap);
    assert!(!f.grid(1).unwrap().rows[0].wrap);
}

#[test]
fn grid_clear_blanks_and_grid_destroy_removes() {
    let mut m = Model::new();
    resize(&mut m, 1, 3, 2);
    grid_with(&mut m, 2, 3, "xy");
    win_pos(&mut m, 2, 0, 0, 3, 2);
    flush(&mut m);

    apply(&mut m, RedrawEvent::GridClear { grid: 2 });
    let f = flush(&mut m);
    assert_eq!(texts(&f, 2), ["   ", "   "]);
    assert!(f.destroyed.is_empty());

    apply(&mut m, RedrawEvent::GridDestroy { grid: 2 });
    assert!(m.grid(2).is_none());
    let f = flush(&mut m);
    assert!(f.grid(2).is_none());
    assert_eq!(f.destroyed, [2]);
    assert!(!f.windows.contains_key(&2), "destroying a grid forgets its window");
    assert!(!f.damage.contains_key(&2));
    // Reported once only.
    assert!(flush(&mut m).destroyed.is_empty());
}

#[test]
fn a_grid_destroyed_and_recreated_in_one_frame_is_new() {
    let mut m = Model::new();
    grid_with(&mut m, 2, 2, "ab");
    flush(&mut m);
    apply(&mut m, RedrawEvent::GridDestroy { grid: 2 });
    resize(&mut m, 2, 3, 1);
    let f = flush(&mut m);
    assert!(f.destroyed.is_empty());
    assert_eq!(texts(&f, 2), ["   "]);
    assert_eq!(damage(&f, 2), GridDamage { rows: vec![0], resized: true });
}

#[test]
fn grid_scroll_moves_rows_up_and_down() {
    let mut m = Model::new();
    // The sentinel proves which rows the scroll vacated.
    m.set_scroll_fill("#");
    grid_with(&mut m, 1, 2, "01234");
    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 1, bot: 4, left: 0, right: 2, rows: 1 });
    assert_eq!(texts(&flush(&mut m), 1), ["00", "22", "33", "##", "44"]);

    grid_with(&mut m, 1, 2, "01234");
    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 0, bot: 5, left: 0, right: 2, rows: -2 });
    assert_eq!(texts(&flush(&mut m), 1), ["##", "##", "00", "11", "22"]);

    // Scrolling by more than the region empties it.
    grid_with(&mut m, 1, 2, "01234");
    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 1, bot: 3, left: 0, right: 2, rows: 9 });
    assert_eq!(texts(&flush(&mut m), 1), ["00", "##", "##", "33", "44"]);
}

#[test]
fn grid_scroll_of_partial_columns_keeps_the_rest() {
    let mut m = Model::new();
    m.set_scroll_fill("#");
    grid_with(&mut m, 1, 4, "0123");
    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 0, bot: 4, left: 1, right: 3, rows: 2 });
    assert_eq!(texts(&flush(&mut m), 1), ["0220", "1331", "2##2", "3##3"]);

    grid_with(&mut m, 1, 4, "0123");
    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 1, bot: 4, left: 2, right: 4, rows: -1 });
    assert_eq!(texts(&flush(&mut m), 1), ["0000", "11##", "2211", "3322"]);
}

#[test]
fn scroll_fill_applies_to_grids_created_later() {
    let mut m = Model::new();
    m.set_scroll_fill("~");
    grid_with(&mut m, 3, 1, "ab");
    apply(&mut m, RedrawEvent::GridScroll { grid: 3, top: 0, bot: 2, left: 0, right: 1, rows: 1 });
    assert_eq!(texts(&flush(&mut m), 3), ["b", "~"]);
}

#[test]
fn cursor_goto_moves_the_cursor_between_grids() {
    let mut m = Model::new();
    assert_eq!(flush(&mut m).cursor, Cursor { grid: GLOBAL_GRID, row: 0, col: 0 });
    apply(&mut m, RedrawEvent::GridCursorGoto { grid: 2, row: 3, col: 4 });
    assert_eq!(flush(&mut m).cursor, Cursor { grid: 2, row: 3, col: 4 });
    apply(&mut m, RedrawEvent::GridCursorGoto { grid: 1, row: 0, col: 7 });
    assert_eq!(flush(&mut m).cursor, Cursor { grid: 1, row: 0, col: 7 });
}

// ------------------------------------------------------------- highlights

#[test]
fn default_colors_set_recolours_cells_that_use_the_default() {
    let mut m = Model::new();
    resize(&mut m, 1, 3, 1);
    let attr = HlAttr { bg: Some(0x202020), bold: true, ..HlAttr::default() };
    apply(&mut m, RedrawEvent::HlAttrDefine { id: 1, attr });
    put_hl(&mut m, 1, 0, 0, "abc", 1);
    apply(
        &mut m,
        RedrawEvent::DefaultColorsSet { fg: Some(0x111111), bg: Some(0x222222), sp: Some(0x333333) },
    );
    let f = flush(&mut m);
    assert_eq!(f.defaults, DefaultColors { fg: 0x111111, bg: 0x222222, sp: 0x333333 });
    let hl = f.grid(1).unwrap().rows[0].cells[0].hl;
    assert_eq!(f.hl.get(hl).resolve(&f.defaults).fg, 0x111111);

    // A later default_colors_set (`:set background=light`) recolours the
    // cells already on screen: the attribute stored "default", not a colour.
    apply(&mut m, RedrawEvent::DefaultColorsSet { fg: Some(0xeeeeee), bg: Some(0xfafafa), sp: None });
    let f = flush(&mut m);
    let resolved = f.hl.get(hl).resolve(&f.defaults);
    assert_eq!(resolved.fg, 0xeeeeee);
    assert_eq!(resolved.bg, 0x202020, "an explicit colour is kept");
    assert_eq!(resolved.sp, 0xeeeeee, "an unset special follows the foreground");
    assert_eq!(f.defaults.sp, DefaultColors::default().sp, "a missing default falls back to nvim's");
    // Id 0 is the default highlight.
    assert_eq!(f.hl.get(0).resolve(&f.defaults).bg, 0xfafafa);
}

#[test]
fn hl_attr_define_and_hl_group_set_are_published() {
    let mut m = Model::new();
    let attr = HlAttr { italic: true, underline: Underline::Curl, sp: Some(0xff0000), ..HlAttr::default() };
    apply(&mut m, RedrawEvent::HlAttrDefine { id: 5, attr: attr.clone() });
    apply(&mut m, RedrawEvent::HlGroupSet { name: "MsgSeparator".into(), id: 5 });
    let f = flush(&mut m);
    assert_eq!(f.hl.get(5), &attr);
    assert_eq!(f.hl.get(4), &HlAttr::default());
    assert_eq!(f.hl_groups.get("MsgSeparator"), Some(&5));
    // Redefining replaces.
    apply(&mut m, RedrawEvent::HlAttrDefine { id: 5, attr: HlAttr::default() });
    assert_eq!(flush(&mut m).hl.get(5), &HlAttr::default());
}

// ---------------------------------------------------------- global events

#[test]
fn global_events_update_the_frame() {
    let mut m = Model::new();
    apply(&mut m, RedrawEvent::SetTitle("a.rs - vireo".into()));
    apply(&mut m, RedrawEvent::SetIcon("a.rs".into()));
    apply(&mut m, RedrawEvent::Chdir("/src".into()));
    let modes = vec![
        ModeInfo { name: "normal".into(), cursor_shape: Some(CursorShape::Block), ..ModeInfo::default() },
        ModeInfo { name: "insert".into(), cursor_shape: Some(CursorShape::Vertical), ..ModeInfo::default() },
    ];
    apply(&mut m, RedrawEvent::ModeInfoSet { cursor_style_enabled: true, modes });
    apply(&mut m, RedrawEvent::ModeChange { mode: "insert".into(), index: 1 });
    apply(
        &mut m,
        RedrawEvent::OptionSet { name: "guifont".into(), value: OptionValue::Str("Mono:h11".into()) },
    );
    apply(&mut m, RedrawEvent::OptionSet { name: "linespace".into(), value: OptionValue::Int(2) });
    apply(&mut m, RedrawEvent::MouseOn);
    apply(&mut m, RedrawEvent::BusyStart);
    apply(&mut m, RedrawEvent::Bell);
    apply(&mut m, RedrawEvent::Bell);
    apply(&mut m, RedrawEvent::VisualBell);
    apply(&mut m, RedrawEvent::Suspend);
    apply(&mut m, RedrawEvent::UpdateMenu);
    let f = flush(&mut m);
    assert_eq!((&*f.title, &*f.icon, &*f.cwd), ("a.rs - vireo", "a.rs", "/src"));
    assert!(f.mode.cursor_style_enabled);
    assert_eq!(f.mode.name, "insert");
    assert_eq!(f.mode.current().and_then(|i| i.cursor_shape), Some(CursorShape::Vertical));
    assert_eq!(f.option("guifont"), Some(&OptionValue::Str("Mono:h11".into())));
    assert_eq!(f.option("linespace"), Some(&OptionValue::Int(2)));
    assert_eq!(f.option("nonexistent"), None);
    assert!(f.mouse_enabled && f.busy);
    assert_eq!((f.bells, f.visual_bells), (2, 1));
    assert_eq!(f.error_exit, None);

    apply(&mut m, RedrawEvent::ModeChange { mode: "more".into(), index: 9 });
    apply(&mut m, RedrawEvent::OptionSet { name: "linespace".into(), value: OptionValue::Int(0) });
    apply(&mut m, RedrawEvent::MouseOff);
    apply(&mut m, RedrawEvent::BusyStop);
    apply(&mut m, RedrawEvent::ErrorExit(3));
    let f = flush(&mut m);
    assert_eq!(f.mode.current(), None, "a mode index past the table has no style");
    assert_eq!(f.option("linespace"), Some(&OptionValue::Int(0)));
    assert!(!f.mouse_enabled && !f.busy);
    assert_eq!((f.bells, f.visual_bells), (2, 1), "counts are running totals");
    assert_eq!(f.error_exit, Some(3));
}

// ---------------------------------------------------- publishing and damage

#[test]
fn a_new_grid_is_published_as_resized() {
    let mut m = Model::new();
    resize(&mut m, 1, 3, 2);
    let f = flush(&mut m);
    assert_eq!(f.seq, 1);
    assert_eq!(damage(&f, 1), GridDamage { rows: vec![0, 1], resized: true });
}

#[test]
fn damage_lists_exactly_the_rows_written() {
    let mut m = Model::new();
    resize(&mut m, 1, 4, 6);
    flush(&mut m);

    put(&mut m, 1, 3, 0, "x");
    let f = flush(&mut m);
    assert_eq!(damage(&f, 1), rows(&[3]));

    put(&mut m, 1, 5, 1, "ab");
    put(&mut m, 1, 0, 0, "c");
    put(&mut m, 1, 5, 3, "d");
    assert_eq!(damage(&flush(&mut m), 1), rows(&[0, 5]));

    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 1, bot: 4, left: 0, right: 4, rows: 1 });
    assert_eq!(damage(&flush(&mut m), 1), rows(&[1, 2, 3]));

    apply(&mut m, RedrawEvent::GridScroll { grid: 1, top: 2, bot: 5, left: 1, right: 3, rows: -1 });
    assert_eq!(damage(&flush(&mut m), 1), rows(&[2, 3, 4]));

    apply(&mut m, RedrawEvent::GridClear { grid: 1 });
    assert_eq!(damage(&flush(&mut m), 1), rows(&[0, 1, 2, 3, 4, 5]));

    resize(&mut m, 1, 5, 2);
    assert_eq!(damage(&flush(&mut m), 1), GridDamage { rows: vec![0, 1], resized: true });

    // Nothing written: no damage entry at all.
    let f = flush(&mut m);
    assert!(f.damage.is_empty(), "{:?}", f.damage);
}

#[test]
fn damage_is_per_grid() {
    let mut m = Model::new();
    resize(&mut m, 1, 2, 2);
    resize(&mut m, 2, 2, 2);
    flush(&mut m);
    put(&mut m, 2, 1, 0, "z");
    let f = flush(&mut m);
    assert_eq!(f.damage.keys().copied().collect::<Vec<_>>(), [2]);
    assert_eq!(damage(&f, 2), rows(&[1]));
}

#[test]
fn unchanged_grids_and_rows_are_shared_between_frames() {
    let mut m = Model::new();
    grid_with(&mut m, 1, 3, "abc");
    grid_with(&mut m, 2, 2, "xy");
    let f1 = flush(&mut m);
    put(&mut m, 1, 1, 0, "Z");
    let f2 = flush(&mut m);
    assert_eq!(f2.seq, f1.seq + 1);

    // Grid 2 did not change: the very same published grid.
    assert!(Arc::ptr_eq(&f1.grids[&2], &f2.grids[&2]));
    // Grid 1 changed in row 1 only: rows 0 and 2 are shared, row 1 is new.
    let (r1, r2) = (&f1.grids[&1].rows, &f2.grids[&1].rows);
    assert!(!Arc::ptr_eq(&f1.grids[&1], &f2.grids[&1]));
    assert!(Arc::ptr_eq(&r1[0], &r2[0]));
    assert!(!Arc::ptr_eq(&r1[1], &r2[1]));
    assert!(Arc::ptr_eq(&r1[2], &r2[2]));
    // The earlier frame is a snapshot: the write did not reach it.
    assert_eq!(texts(&f1, 1), ["aaa", "bbb", "ccc"]);
    assert_eq!(texts(&f2, 1), ["aaa", "Zbb", "ccc"]);

    // Nothing changed at all: everything shared, the tables too.
    let f3 = flush(&mut m);
    assert!(Arc::ptr_eq(&f2.grids[&1], &f3.grids[&1]));
    assert!(Arc::ptr_eq(&f2.windows, &f3.windows));
    assert!(Arc::ptr_eq(&f2.hl, &f3.hl));
    assert!(Arc::ptr_eq(&f2.options, &f3.options));
}

#[test]
fn a_frame_that_only_shows_a_typed_command_is_told_apart() {
    // Without ext_multigrid: the command line is the global grid's last row.
    let mut m = dotted(10, 5);
    apply(&mut m, RedrawEvent::ModeChange { mode: "normal".into(), index: 0 });
    apply(&mut m, RedrawEvent::GridCursorGoto { grid: GLOBAL_GRID, row: 1, col: 2 });
    let drawn = flush(&mut m).cursor;
    put(&mut m, GLOBAL_GRID, 4, 7, "^E");
    assert!(flush(&mut m).only_typed_command(drawn), "'showcmd' alone");
    put(&mut m, GLOBAL_GRID, 4, 7, "  ");
    put(&mut m, GLOBAL_GRID, 0, 0, "x");
    assert!(!flush(&mut m).only_typed_command(drawn), "the command's own change");
    put(&mut m, GLOBAL_GRID, 4, 7, "l");
    apply(&mut m, RedrawEvent::GridCursorGoto { grid: GLOBAL_GRID, row: 1, col: 3 });
    assert!(!flush(&mut m).only_typed_command(drawn), "the cursor moved");
    apply(&mut m, RedrawEvent::ModeChange { mode: "cmdline_normal".into(), index: 1 });
    put(&mut m, GLOBAL_GRID, 4, 0, ":");
    let f = flush(&mut m);
    assert!(!f.only_typed_command(f.cursor), "another mode");
    let f = flush(&mut m);
    assert!(!f.only_typed_command(f.cursor), "nothing changed");

    // With ext_multigrid: the message grid, whichever of its rows.
    let mut m = dotted(10, 5);
    apply(&mut m, RedrawEvent::ModeChange { mode: "normal".into(), index: 0 });
    grid_with(&mut m, 3, 10, "ab");
    msg_set_pos(&mut m, 3, 3, false, "");
    grid_with(&mut m, 2, 10, "cde");
    let drawn = flush(&mut m).cursor;
    put(&mut m, 3, 1, 7, "^E");
    assert!(flush(&mut m).only_typed_command(drawn));
    put(&mut m, 2, 0, 0, "x");
    assert!(!flush(&mut m).only_typed_command(drawn), "a window's grid");
    put(&mut m, GLOBAL_GRID, 0, 0, "x");
    assert!(!flush(&mut m).only_typed_command(drawn), "the global grid above the command line");
}

// ----------------------------------------------------------------- windows

#[test]
fn window_events_are_stored_in_the_frame() {
    let mut m = Model::new();
    resize(&mut m, 1, 20, 10);
    resize(&mut m, 2, 10, 5);
    win_pos(&mut m, 2, 1, 2, 10, 5);
    let f = flush(&mut m);
    assert_eq!(
        f.windows[&2],
        Window {
            win: Some(1002),
            placement: Some(Placement::Normal { row: 1, col: 2, width: 10, height: 5 }),
            hidden: false,
            viewport: None,
            margins: Margins::default(),
        }
    );

    apply(&mut m, RedrawEvent::WinHide { grid: 2 });
    let w = &flush(&mut m).windows[&2];
    assert!(w.hidden);
    assert!(matches!(w.placement, Some(Placement::Normal { .. })), "hiding keeps the placement");
    win_pos(&mut m, 2, 0, 0, 10, 5);
    assert!(!flush(&mut m).windows[&2].hidden, "placing again shows it");

    apply(&mut m, RedrawEvent::WinExternalPos { grid: 2, win: 1002 });
    assert_eq!(flush(&mut m).windows[&2].placement, Some(Placement::External));

    apply(&mut m, RedrawEvent::WinClose { grid: 2 });
    let f = flush(&mut m);
    assert!(!f.windows.contains_key(&2));
    assert!(f.grid(2).is_some(), "win_close leaves the grid to grid_destroy");
}

#[test]
fn floats_get_default_zindex_and_compindex_in_arrival_order() {
    let mut m = Model::new();
    float(&mut m, 3, Float::nw(1.5, 2.0));
    float(&mut m, 4, Float { zindex: Some(100), compindex: Some(40), ..Float::nw(0.0, 0.0) });
    float(&mut m, 5, Float { anchor: Anchor::SE, anchor_grid: 3, ..Float::nw(1.0, 1.0) });
    let f = flush(&mut m);
    assert_eq!(
        f.windows[&3].placement,
        Some(Placement::Float {
            anchor: Anchor::NW,
            anchor_grid: 1,
            anchor_row: 1.5,
            anchor_col: 2.0,
            mouse_enabled: true,
            zindex: 50,
            compindex: 1,
            cmdline_rows: 0,
        })
    );
    assert!(matches!(f.windows[&4].placement, Some(Placement::Float { zindex: 100, compindex: 40, .. })));
    assert!(matches!(
        f.windows[&5].placement,
        Some(Placement::Float { anchor: Anchor::SE, anchor_grid: 3, zindex: 50, compindex: 2, .. })
    ));
    assert_eq!(f.windows[&5].win, Some(1005));
}

#[test]
fn msg_set_pos_places_the_message_grid() {
    let mut m = Model::new();
    msg_set_pos(&mut m, 6, 20, true, "─");
    apply(&mut m, RedrawEvent::WinHide { grid: 6 });
    apply(
        &mut m,
        RedrawEvent::MsgSetPos {
            grid: 7,
            row: 3,
            scrolled: false,
            sep_char: "".into(),
            zindex: Some(250),
            compindex: Some(8),
        },
    );
    let f = flush(&mut m);
    assert_eq!(
        f.windows[&6].placement,
        Some(Placement::Message {
            row: 20, scrolled: true, sep_char: "─".into(), zindex: 200, compindex: 1
        })
    );
    assert!(f.windows[&6].hidden);
    msg_set_pos(&mut m, 6, 18, false, " ");
    let f = flush(&mut m);
    assert!(!f.windows[&6].hidden, "a new position shows it again");
    assert!(matches!(f.windows[&6].placement, Some(Placement::Message { row: 18, compindex: 2, .. })));
    assert!(matches!(f.windows[&7].placement, Some(Placement::Message { zindex: 250, compindex: 8, .. })));
}

#[test]
fn win_viewport_before_grid_resize_is_kept() {
    let mut m = Model::new();
    apply(
        &mut m,
        RedrawEvent::WinViewport {
            grid: 4,
            win: 1004,
            topline: 10,
            botline: 30,
            curline: 12,
            curcol: 5,
            line_count: None,
            scroll_delta: Some(-3),
        },
    );
    apply(
        &mut m,
        RedrawEvent::WinViewportMargins { grid: 4, win: 1004, top: 1, bottom: 1, left: 2, right: 0 },
    );
    let f = flush(&mut m);
    assert!(f.grid(4).is_none());
    let w = &f.windows[&4];
    assert_eq!(w.win, Some(1004));
    assert_eq!(
        w.viewport,
        Some(Viewport { topline: 10, botline: 30, curline: 12, curcol: 5, line_count: 0, scroll_delta: -3 })
    );
    assert_eq!(w.margins, Margins { top: 1, bottom: 1, left: 2, right: 0 });
    assert_eq!(w.placement, None);

    // The grid and its placement arrive later; the viewport stays.
    resize(&mut m, 4, 10, 20);
    win_pos(&mut m, 4, 0, 0, 10, 20);
    let f = flush(&mut m);
    assert_eq!(f.windows[&4].viewport.map(|v| v.topline), Some(10));
    assert_eq!(f.windows[&4].margins.left, 2);
    assert!(f.windows[&4].placement.is_some());
}

// ------------------------------------------------------------- composition

#[test]
fn windows_are_drawn_at_their_win_pos() {
    let mut m = dotted(12, 4);
    grid_with(&mut m, 2, 4, "ab");
    win_pos(&mut m, 2, 1, 3, 4, 2);
    // A placement smaller than the grid shows only that part.
    grid_with(&mut m, 3, 4, "cd");
    win_pos(&mut m, 3, 2, 9, 2, 1);
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["............", "...aaaa.....", "...bbbb..cc.", "............"]);
    assert_eq!(grid_origin(&f, 2), Some((1, 3)));
    assert_eq!(grid_origin(&f, GLOBAL_GRID), Some((0, 0)));
    assert_eq!(grid_origin(&f, 9), None);
}

#[test]
fn floats_are_placed_by_each_anchor() {
    let cases = [
        (Anchor::NW, (3, 6), [".........", ".........", ".........", "......123", "......456"]),
        (Anchor::NE, (3, 3), [".........", ".........", ".........", "...123...", "...456..."]),
        (Anchor::SW, (1, 6), [".........", "......123", "......456", ".........", "........."]),
        (Anchor::SE, (1, 3), [".........", "...123...", "...456...", ".........", "........."]),
    ];
    for (anchor, origin, expected) in cases {
        let mut m = dotted(9, 5);
        resize(&mut m, 3, 3, 2);
        put(&mut m, 3, 0, 0, "123");
        put(&mut m, 3, 1, 0, "456");
        float(&mut m, 3, Float { anchor, ..Float::nw(3.0, 6.0) });
        let f = flush(&mut m);
        assert_eq!(grid_origin(&f, 3), Some(origin), "{anchor:?}");
        assert_eq!(screen(&f), expected, "{anchor:?}");
    }
}

#[test]
fn float_positions_are_relative_to_the_anchor_grid_and_truncated() {
    let mut m = dotted(20, 10);
    grid_with(&mut m, 2, 10, "wwwwww");
    win_pos(&mut m, 2, 2, 5, 10, 6);
    grid_with(&mut m, 3, 2, "f");
    float(&mut m, 3, Float { anchor_grid: 2, ..Float::nw(1.9, 2.99) });
    // A float anchored on a float.
    grid_with(&mut m, 4, 1, "g");
    float(&mut m, 4, Float { anchor_grid: 3, ..Float::nw(0.5, 1.5) });
    let f = flush(&mut m);
    assert_eq!(grid_origin(&f, 3), Some((3, 7)));
    assert_eq!(grid_origin(&f, 4), Some((3, 8)));
    assert_eq!(f.grid(3).map(|g| g.width), Some(2));
    assert_eq!(screen(&f)[3], ".....wwfgwwwwww.....");
    // Negative fractions truncate toward zero, then the float stays on screen.
    float(&mut m, 3, Float::nw(-0.5, -0.9));
    assert_eq!(grid_origin(&flush(&mut m), 3), Some((0, 0)));
}

#[test]
fn floats_are_kept_on_screen() {
    let mut m = dotted(12, 6);
    grid_with(&mut m, 2, 4, "ab");
    win_pos(&mut m, 2, 1, 1, 4, 2);
    grid_with(&mut m, 3, 3, "xy");
    let cases = [
        (Float::nw(100.0, 100.0), (4, 9)),
        (Float { anchor: Anchor::SE, ..Float::nw(0.0, 0.0) }, (0, 0)),
        (Float { anchor: Anchor::SW, ..Float::nw(1.0, 11.0) }, (0, 9)),
        (Float::nw(-5.0, 4.0), (0, 4)),
        // Absurd positions must clamp, not overflow.
        (Float { anchor_grid: 2, ..Float::nw(1e300, -1e300) }, (4, 0)),
        (Float { anchor: Anchor::SE, anchor_grid: 2, ..Float::nw(-1e300, 1e300) }, (0, 9)),
        (Float { anchor: Anchor::SW, ..Float::nw(f64::MIN, f64::MAX) }, (0, 9)),
    ];
    for (placement, origin) in cases {
        float(&mut m, 3, placement);
        let f = flush(&mut m);
        assert_eq!(grid_origin(&f, 3), Some(origin), "row {} col {}", placement.row, placement.col);
        let s = screen(&f);
        let (row, col) = (origin.0 as usize, origin.1 as usize);
        assert_eq!(&s[row][col..col + 3], "xxx");
    }
}

#[test]
fn higher_zindex_floats_are_drawn_on_top() {
    let mut m = dotted(8, 2);
    grid_with(&mut m, 3, 3, "A");
    grid_with(&mut m, 4, 3, "B");
    // Grid 3 comes first in grid order but has the higher zindex.
    float(&mut m, 3, Float { zindex: Some(60), ..Float::nw(0.0, 0.0) });
    float(&mut m, 4, Float { zindex: Some(50), ..Float::nw(0.0, 1.0) });
    assert_eq!(screen(&flush(&mut m))[0], "AAAB....");
    float(&mut m, 3, Float { zindex: Some(40), ..Float::nw(0.0, 0.0) });
    assert_eq!(screen(&flush(&mut m))[0], "ABBB....");
}

#[test]
fn equal_zindex_floats_are_ordered_by_compindex() {
    let mut m = dotted(8, 2);
    grid_with(&mut m, 3, 3, "A");
    grid_with(&mut m, 4, 3, "B");
    float(&mut m, 3, Float { zindex: Some(50), compindex: Some(2), ..Float::nw(0.0, 0.0) });
    float(&mut m, 4, Float { zindex: Some(50), compindex: Some(1), ..Float::nw(0.0, 1.0) });
    assert_eq!(screen(&flush(&mut m))[0], "AAAB....");
    float(&mut m, 3, Float { zindex: Some(50), compindex: Some(0), ..Float::nw(0.0, 0.0) });
    assert_eq!(screen(&flush(&mut m))[0], "ABBB....");

    // Without compindex, a float placed later goes on top.
    let mut m = dotted(8, 2);
    grid_with(&mut m, 3, 3, "A");
    grid_with(&mut m, 4, 3, "B");
    float(&mut m, 4, Float::nw(0.0, 1.0));
    float(&mut m, 3, Float::nw(0.0, 0.0));
    assert_eq!(screen(&flush(&mut m))[0], "AAAB....");
}

#[test]
fn layers_go_global_windows_floats_then_messages() {
    let mut m = dotted(10, 6);
    grid_with(&mut m, 2, 10, "ww");
    win_pos(&mut m, 2, 0, 0, 10, 2);
    grid_with(&mut m, 3, 2, "p");
    float(&mut m, 3, Float { zindex: Some(100), ..Float::nw(0.0, 0.0) });
    grid_with(&mut m, 4, 10, "m");
    msg_set_pos(&mut m, 4, 5, false, "");
    grid_with(&mut m, 5, 2, "f");
    float(&mut m, 5, Float::nw(0.0, 0.0));
    let f = flush(&mut m);
    let order: Vec<(GridId, LayerKind)> = layers(&f).iter().map(|l| (l.grid, l.kind)).collect();
    assert_eq!(
        order,
        [
            (1, LayerKind::Global),
            (2, LayerKind::Window),
            (5, LayerKind::Float),
            (3, LayerKind::Float),
            (4, LayerKind::Message),
        ]
    );
}

#[test]
fn hidden_closed_and_external_windows_are_not_drawn() {
    let mut m = dotted(6, 3);
    grid_with(&mut m, 2, 2, "a");
    win_pos(&mut m, 2, 0, 0, 2, 1);
    grid_with(&mut m, 3, 2, "b");
    float(&mut m, 3, Float::nw(1.0, 0.0));
    grid_with(&mut m, 4, 2, "c");
    win_pos(&mut m, 4, 2, 0, 2, 1);
    assert_eq!(screen(&flush(&mut m)), ["aa....", "bb....", "cc...."]);

    apply(&mut m, RedrawEvent::WinHide { grid: 2 });
    apply(&mut m, RedrawEvent::WinClose { grid: 3 });
    apply(&mut m, RedrawEvent::WinExternalPos { grid: 4, win: 1004 });
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["......", "......", "......"]);
    assert_eq!(layers(&f).len(), 1);
    // A grid with no placement yet is not drawn either.
    grid_with(&mut m, 5, 2, "d");
    assert_eq!(layers(&flush(&mut m)).len(), 1);
}

#[test]
fn message_grid_is_drawn_at_its_row_with_a_separator_when_scrolled() {
    let mut m = dotted(6, 6);
    apply(&mut m, RedrawEvent::HlGroupSet { name: "MsgSeparator".into(), id: 9 });
    grid_with(&mut m, 4, 6, "mn");
    msg_set_pos(&mut m, 4, 3, false, "─");
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["......", "......", "......", "mmmmmm", "nnnnnn", "......"]);

    msg_set_pos(&mut m, 4, 3, true, "─");
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["......", "......", "──────", "mmmmmm", "nnnnnn", "......"]);
    let s = compose(&f);
    assert!((0..6).all(|c| s.cell(2, c).hl == 9), "the separator uses MsgSeparator");

    // The message grid covers floats below zindex 200. (With one command
    // line row, nvim places this float on row 4, not above three rows.)
    msg_set_pos(&mut m, 4, 5, false, "=");
    grid_with(&mut m, 5, 6, "f");
    float(&mut m, 5, Float::nw(4.0, 0.0));
    msg_set_pos(&mut m, 4, 4, true, "=");
    assert_eq!(screen(&flush(&mut m)), ["......", "......", "......", "======", "mmmmmm", "nnnnnn"]);

    // At row 0 there is no row above for a separator.
    msg_set_pos(&mut m, 4, 0, true, "=");
    assert_eq!(screen(&flush(&mut m))[..3], ["mmmmmm", "nnnnnn", "......"]);
}

#[test]
fn a_float_over_half_a_wide_char_blanks_the_other_half() {
    let wide_line = |m: &mut Model| put_cells(m, GLOBAL_GRID, 0, 0, &["a", "日", "", "b", "本", "", "c"]);
    let mut m = Model::new();
    resize(&mut m, GLOBAL_GRID, 7, 1);
    wide_line(&mut m);
    assert_eq!(screen(&flush(&mut m)), ["a日b本c"]);

    grid_with(&mut m, 2, 1, "X");
    // Over the right half of 日: its left half goes too.
    float(&mut m, 2, Float::nw(0.0, 2.0));
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["a Xb本c"]);
    assert!(!compose(&f).cells.iter().any(|c| c.text == "日"));
    // Over the left half of 本: its right half goes too.
    float(&mut m, 2, Float::nw(0.0, 4.0));
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["a日bX c"]);
    let s = compose(&f);
    assert!(!s.cell(0, 5).is_continuation(), "no orphaned right half");
}

#[test]
fn a_window_cut_by_the_screen_edge_drops_its_half_wide_char() {
    let mut m = dotted(6, 1);
    resize(&mut m, 2, 3, 1);
    put_cells(&mut m, 2, 0, 0, &["x", "日", ""]);
    win_pos(&mut m, 2, 0, 4, 3, 1);
    let f = flush(&mut m);
    assert_eq!(screen(&f), ["....x"]);
    assert!(!compose(&f).cells.iter().any(|c| c.is_continuation()));
}

#[test]
fn windows_far_off_screen_are_clipped_without_overflow() {
    let mut m = dotted(4, 2);
    grid_with(&mut m, 2, 3, "ab");
    let far = i64::MAX as usize;
    win_pos(&mut m, 2, far, far, 3, 2);
    grid_with(&mut m, 3, 2, "f");
    float(&mut m, 3, Float { anchor_grid: 2, ..Float::nw(5.0, 5.0) });
    let f = flush(&mut m);
    assert_eq!(grid_origin(&f, 3), Some((1, 2)));
    assert_eq!(screen(&f), ["....", "..ff"]);
    win_pos(&mut m, 2, 1, far, 3, 2);
    assert_eq!(screen(&flush(&mut m)), ["....", "..ff"]);
    win_pos(&mut m, 2, far, 1, 3, 2);
    assert_eq!(screen(&flush(&mut m)), ["....", "..ff"]);
}

// ------------------------------------------------------------------- errors

/// Publishes and checks that nothing changed since `before`.
#[track_caller]
fn assert_unchanged(m: &mut Model, before: &Frame) {
    let after = flush(m);
    assert!(after.damage.is_empty(), "damage after a refused event: {:?}", after.damage);
    assert_eq!(after.grids.keys().collect::<Vec<_>>(), before.grids.keys().collect::<Vec<_>>());
    for (id, grid) in &before.grids {
        assert!(Arc::ptr_eq(grid, &after.grids[id]), "grid {id} was republished");
    }
    assert_eq!(after.hl, before.hl);
    assert_eq!(after.windows, before.windows);
}

#[test]
fn events_for_unknown_grids_are_refused() {
    let mut m = Model::new();
    grid_with(&mut m, 1, 3, "ab");
    let before = flush(&mut m);
    let line =
        RedrawEvent::GridLine { grid: 9, row: 0, col_start: 0, cells: cells_of(&["x"], 0), wrap: false };
    assert_eq!(m.apply(line).err(), Some(ModelError::UnknownGrid { event: "grid_line", grid: 9 }));
    assert_eq!(
        m.apply(RedrawEvent::GridClear { grid: 9 }).err(),
        Some(ModelError::UnknownGrid { event: "grid_clear", grid: 9 })
    );
    let scroll = RedrawEvent::GridScroll { grid: 9, top: 0, bot: 1, left: 0, right: 1, rows: 1 };
    assert_eq!(m.apply(scroll).err(), Some(ModelError::UnknownGrid { event: "grid_scroll", grid: 9 }));
    assert!(m.grid(9).is_none());
    assert_unchanged(&mut m, &before);
}

#[test]
fn out_of_range_lines_and_scrolls_are_refused() {
    let mut m = Model::new();
    grid_with(&mut m, 1, 3, "ab");
    let before = flush(&mut m);
    let line = |row, col_start| RedrawEvent::GridLine {
        grid: 1,
        row,
        col_start,
        cells: cells_of(&["x"], 0),
        wrap: true,
    };
    let err = m.apply(line(2, 0)).expect_err("row 2 of 2 is out of range");
    assert!(
        matches!(err, ModelError::OutOfRange { grid: 1, source: OutOfRange { width: 3, height: 2, .. } }),
        "{err}"
    );
    assert!(m.apply(line(usize::MAX, 0)).is_err());
    assert!(m.apply(line(0, 4)).is_err());
    assert!(m.apply(line(0, usize::MAX)).is_err());
    let scroll = |top, bot, left, right| RedrawEvent::GridScroll { grid: 1, top, bot, left, right, rows: 1 };
    for (top, bot, left, right) in [(0, 3, 0, 3), (1, 1, 0, 3), (2, 1, 0, 3), (0, 2, 0, 4), (0, 2, 2, 2)] {
        let e = m.apply(scroll(top, bot, left, right)).err();
        assert!(
            matches!(e, Some(ModelError::OutOfRange { grid: 1, .. })),
            "{top} {bot} {left} {right}: {e:?}"
        );
    }
    assert_unchanged(&mut m, &before);
    assert_eq!(texts(&before, 1), ["aaa", "bbb"]);
}

#[test]
fn huge_grid_sizes_are_refused() {
    let mut m = Model::new();
    grid_with(&mut m, 1, 3, "ab");
    let before = flush(&mut m);
    let too_big = grid::MAX_GRID_DIM + 1;
    for (grid, width, height) in [
        (1, too_big, 2),
        (1, 3, too_big),
        (2, usize::MAX, usize::MAX),
        // Each side is allowed alone, but not 100 million cells at once.
        (2, grid::MAX_GRID_DIM, grid::MAX_GRID_DIM),
    ] {
        assert_eq!(
            m.apply(RedrawEvent::GridResize { grid, width, height }).err(),
            Some(ModelError::BadSize { grid, width, height })
        );
    }
    assert!(m.grid(2).is_none());
    assert_unchanged(&mut m, &before);
    // The largest sizes still allowed work.
    resize(&mut m, 2, grid::MAX_GRID_DIM, 1);
    resize(&mut m, 3, 1, grid::MAX_GRID_DIM);
}

#[test]
fn huge_highlight_ids_are_refused() {
    let mut m = Model::new();
    apply(&mut m, RedrawEvent::HlAttrDefine { id: 2, attr: HlAttr { bold: true, ..HlAttr::default() } });
    let before = flush(&mut m);
    for id in [HlTable::MAX_ID + 1, u32::MAX] {
        let attr = HlAttr { italic: true, ..HlAttr::default() };
        assert_eq!(
            m.apply(RedrawEvent::HlAttrDefine { id, attr }).err(),
            Some(ModelError::BadHighlightId(id))
        );
    }
    assert_unchanged(&mut m, &before);
    let f = flush(&mut m);
    assert_eq!(f.hl.len(), 3);
    assert!(f.hl.get(2).bold);
    assert_eq!(f.hl.get(u32::MAX), &HlAttr::default());
}

#[test]
fn a_refused_event_does_not_stop_later_ones() {
    let mut m = Model::new();
    resize(&mut m, 1, 2, 1);
    assert!(m.apply(RedrawEvent::GridClear { grid: 3 }).is_err());
    put(&mut m, 1, 0, 0, "ok");
    assert_eq!(texts(&flush(&mut m), 1), ["ok"]);
}

// ------------------------------------------------- hostile coordinates

/// Collects the warnings logged on this thread while `f` runs (tests run on
/// many threads at once; each sees only its own).
fn warnings_of(f: impl FnOnce()) -> Vec<String> {
    use std::cell::RefCell;

    thread_local! {
        static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    }
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::Level::Warn
        }
        fn log(&self, record: &log::Record<'_>) {
            if record.level() == log::Level::Warn {
                CAPTURED.with_borrow_mut(|c| {
                    if let Some(c) = c {
                        c.push(record.args().to_string());
                    }
                });
            }
        }
        fn flush(&self) {}
    }
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in the model's tests");
        log::set_max_level(log::LevelFilter::Warn);
    });
    CAPTURED.set(Some(Vec::new()));
    f();
    CAPTURED.take().unwrap_or_default()
}

#[track_caller]
fn assert_one_warning(warnings: &[String], needles: &[&str]) {
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for needle in needles {
        assert!(warnings[0].contains(needle), "{needle:?} missing from {:?}", warnings[0]);
    }
}

#[test]
fn cursor_goto_outside_its_grid_is_clamped_to_the_grid() {
    let mut m = Model::new();
    resize(&mut m, 2, 10, 5);
    let w = warnings_of(|| apply(&mut m, RedrawEvent::GridCursorGoto { grid: 2, row: 7, col: usize::MAX }));
    assert_one_warning(&w, &["grid_cursor_goto", "7", &usize::MAX.to_string(), "grid 2"]);
    assert_eq!(flush(&mut m).cursor, Cursor { grid: 2, row: 4, col: 9 });
    // A grid not created yet: only the bound applies.
    let w = warnings_of(|| apply(&mut m, RedrawEvent::GridCursorGoto { grid: 3, row: usize::MAX, col: 8 }));
    assert_one_warning(&w, &["grid_cursor_goto", "grid 3"]);
    assert_eq!(flush(&mut m).cursor, Cursor { grid: 3, row: MAX_COORD - 1, col: 8 });
    // An empty grid has no cell at all: the top-left corner.
    resize(&mut m, 4, 0, 0);
    apply(&mut m, RedrawEvent::GridCursorGoto { grid: 4, row: 1, col: 1 });
    assert_eq!(flush(&mut m).cursor, Cursor { grid: 4, row: 0, col: 0 });
    // Inside the grid: kept, and nothing logged.
    let w = warnings_of(|| apply(&mut m, RedrawEvent::GridCursorGoto { grid: 2, row: 4, col: 9 }));
    assert_eq!(w, Vec::<String>::new());
    assert_eq!(flush(&mut m).cursor, Cursor { grid: 2, row: 4, col: 9 });
}

#[test]
fn win_pos_beyond_any_screen_is_clamped() {
    let mut m = dotted(4, 2);
    grid_with(&mut m, 2, 3, "ab");
    let w = warnings_of(|| win_pos(&mut m, 2, usize::MAX, 1 << 40, 0, usize::MAX));
    assert_one_warning(&w, &["win_pos", "grid 2", &usize::MAX.to_string()]);
    let f = flush(&mut m);
    let expected = Placement::Normal { row: MAX_COORD, col: MAX_COORD, width: 0, height: MAX_COORD };
    assert_eq!(f.windows[&2].placement, Some(expected));
    assert_eq!(screen(&f), ["....", "...."]);
    // An ordinary position is kept as sent, without a warning.
    let w = warnings_of(|| win_pos(&mut m, 2, 1, 1, 3, 2));
    assert_eq!(w, Vec::<String>::new());
    assert_eq!(screen(&flush(&mut m)), ["....", ".aaa"]);
}

#[test]
fn win_float_pos_far_away_is_clamped_and_not_a_number_is_refused() {
    let mut m = dotted(4, 2);
    grid_with(&mut m, 2, 2, "f");
    let w = warnings_of(|| float(&mut m, 2, Float::nw(1e300, -1e300)));
    assert_one_warning(&w, &["win_float_pos", "grid 2"]);
    let f = flush(&mut m);
    let Some(Placement::Float { anchor_row, anchor_col, .. }) = f.windows[&2].placement else {
        panic!("not a float: {:?}", f.windows[&2].placement);
    };
    assert_eq!((anchor_row, anchor_col), (MAX_COORD as f64, -(MAX_COORD as f64)));
    // Kept on screen like any far float: bottom-left.
    assert_eq!(screen(&f), ["....", "ff.."]);

    float(&mut m, 2, Float::nw(0.0, 1.0));
    let before = flush(&mut m);
    for (row, col) in [(f64::NAN, 0.0), (0.0, f64::INFINITY), (f64::NEG_INFINITY, f64::NAN)] {
        let event = RedrawEvent::WinFloatPos {
            grid: 2,
            win: 1002,
            anchor: Anchor::NW,
            anchor_grid: GLOBAL_GRID,
            anchor_row: row,
            anchor_col: col,
            mouse_enabled: true,
            zindex: None,
            compindex: None,
        };
        let err = m.apply(event).expect_err("not a position");
        assert!(matches!(err, ModelError::BadFloatPosition { grid: 2, .. }), "{err}");
    }
    assert_unchanged(&mut m, &before);
    assert_eq!(screen(&before), [".ff.", "...."]);
}

#[test]
fn msg_set_pos_beyond_any_screen_is_clamped() {
    let mut m = dotted(4, 3);
    grid_with(&mut m, 3, 4, "m");
    let w = warnings_of(|| msg_set_pos(&mut m, 3, usize::MAX, true, "-"));
    assert_one_warning(&w, &["msg_set_pos", "grid 3", &usize::MAX.to_string()]);
    let f = flush(&mut m);
    assert!(
        matches!(f.windows[&3].placement, Some(Placement::Message { row: MAX_COORD, .. })),
        "{:?}",
        f.windows[&3].placement
    );
    // Off screen, separator included.
    assert_eq!(screen(&f), ["....", "....", "...."]);
    let w = warnings_of(|| msg_set_pos(&mut m, 3, 2, true, "-"));
    assert_eq!(w, Vec::<String>::new());
    assert_eq!(screen(&flush(&mut m)), ["....", "----", "mmmm"]);
}

#[test]
fn win_viewport_out_of_range_is_clamped() {
    let mut m = Model::new();
    let viewport = |topline, botline, curline, curcol, line_count| RedrawEvent::WinViewport {
        grid: 2,
        win: 1002,
        topline,
        botline,
        curline,
        curcol,
        line_count,
        scroll_delta: Some(-7),
    };
    let w = warnings_of(|| apply(&mut m, viewport(-5, -9, i64::MAX, i64::MIN, Some(100))));
    assert_one_warning(&w, &["win_viewport", "grid 2", "-5", &i64::MIN.to_string()]);
    assert_eq!(
        flush(&mut m).windows[&2].viewport,
        Some(Viewport { topline: 0, botline: 0, curline: 99, curcol: 0, line_count: 100, scroll_delta: -7 })
    );
    // A negative line count, and a cursor line past it.
    apply(&mut m, viewport(3, 2, -1, 4, Some(-2)));
    assert_eq!(
        flush(&mut m).windows[&2].viewport,
        Some(Viewport { topline: 3, botline: 3, curline: 0, curcol: 4, line_count: 0, scroll_delta: -7 })
    );
    // Without a line count, curline has no upper bound to check.
    let w = warnings_of(|| apply(&mut m, viewport(10, 30, 500, 5, None)));
    assert_eq!(w, Vec::<String>::new());
    assert_eq!(flush(&mut m).windows[&2].viewport.map(|v| v.curline), Some(500));
}

#[test]
fn win_viewport_margins_beyond_any_grid_are_clamped() {
    let mut m = Model::new();
    let margins = RedrawEvent::WinViewportMargins {
        grid: 2,
        win: 1002,
        top: usize::MAX,
        bottom: 1,
        left: MAX_COORD + 1,
        right: 0,
    };
    let w = warnings_of(|| apply(&mut m, margins));
    assert_one_warning(&w, &["win_viewport_margins", "grid 2"]);
    assert_eq!(
        flush(&mut m).windows[&2].margins,
        Margins { top: MAX_COORD, bottom: 1, left: MAX_COORD, right: 0 }
    );
}
