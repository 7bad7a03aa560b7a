//! Typed redraw events: what `nvim::redraw` decodes and `Model::apply` consumes.
//! Strings borrow from the message buffer where they are valid UTF-8.

use std::borrow::Cow;

use super::highlight::HlAttr;

/// A grid number as nvim sends it (1 is the global grid).
pub type GridId = u64;

/// One `[text, hl_id?, repeat?]` entry of `grid_line`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellUpdate<'a> {
    pub text: Cow<'a, str>,
    /// `None` = carry the previous cell's id (within one event).
    pub hl: Option<u32>,
    /// `None` = 1; `Some(0)` writes nothing but still sets the carried id.
    pub repeat: Option<u64>,
}

/// Which corner of a float sits at its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    #[default]
    NW,
    NE,
    SW,
    SE,
}

/// An `option_set` value.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Bool(bool),
    Int(i64),
    Str(String),
    Nil,
}

/// Cursor shape of a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorShape {
    Block,
    Horizontal,
    Vertical,
}

/// One entry of `mode_info_set`; absent keys stay `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModeInfo {
    pub cursor_shape: Option<CursorShape>,
    pub cell_percentage: Option<u32>,
    pub blinkwait: Option<u64>,
    pub blinkon: Option<u64>,
    pub blinkoff: Option<u64>,
    pub attr_id: Option<u32>,
    pub attr_id_lm: Option<u32>,
    pub short_name: String,
    pub name: String,
    pub mouse_shape: Option<i64>,
}

/// Every event of the global, line-grid and multigrid groups.
#[derive(Debug, Clone, PartialEq)]
pub enum RedrawEvent<'a> {
    SetTitle(Cow<'a, str>),
    SetIcon(Cow<'a, str>),
    ModeInfoSet {
        cursor_style_enabled: bool,
        modes: Vec<ModeInfo>,
    },
    OptionSet {
        name: Cow<'a, str>,
        value: OptionValue,
    },
    Chdir(Cow<'a, str>),
    ModeChange {
        mode: Cow<'a, str>,
        index: usize,
    },
    MouseOn,
    MouseOff,
    BusyStart,
    BusyStop,
    Suspend,
    UpdateMenu,
    Bell,
    VisualBell,
    Flush,
    ErrorExit(i64),
    GridResize {
        grid: GridId,
        width: usize,
        height: usize,
    },
    DefaultColorsSet {
        fg: Option<u32>,
        bg: Option<u32>,
        sp: Option<u32>,
    },
    HlAttrDefine {
        id: u32,
        attr: HlAttr,
    },
    HlGroupSet {
        name: Cow<'a, str>,
        id: u32,
    },
    GridLine {
        grid: GridId,
        row: usize,
        col_start: usize,
        cells: Vec<CellUpdate<'a>>,
        wrap: bool,
    },
    GridClear {
        grid: GridId,
    },
    GridDestroy {
        grid: GridId,
    },
    GridCursorGoto {
        grid: GridId,
        row: usize,
        col: usize,
    },
    GridScroll {
        grid: GridId,
        top: usize,
        bot: usize,
        left: usize,
        right: usize,
        rows: i64,
    },
    WinPos {
        grid: GridId,
        win: i64,
        row: usize,
        col: usize,
        width: usize,
        height: usize,
    },
    WinFloatPos {
        grid: GridId,
        win: i64,
        anchor: Anchor,
        anchor_grid: GridId,
        anchor_row: f64,
        anchor_col: f64,
        mouse_enabled: bool,
        zindex: Option<u64>,
        compindex: Option<u64>,
    },
    WinExternalPos {
        grid: GridId,
        win: i64,
    },
    WinHide {
        grid: GridId,
    },
    WinClose {
        grid: GridId,
    },
    MsgSetPos {
        grid: GridId,
        row: usize,
        scrolled: bool,
        sep_char: Cow<'a, str>,
        zindex: Option<u64>,
        compindex: Option<u64>,
    },
    WinViewport {
        grid: GridId,
        win: i64,
        topline: i64,
        botline: i64,
        curline: i64,
        curcol: i64,
        line_count: Option<i64>,
        scroll_delta: Option<i64>,
    },
    WinViewportMargins {
        grid: GridId,
        win: i64,
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
    WinExtmark {
        grid: GridId,
        win: i64,
        ns_id: i64,
        mark_id: i64,
        row: usize,
        col: usize,
    },
}
