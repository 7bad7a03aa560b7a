//! The editor state as redraw events describe it. Pure data: this module
//! imports nothing from the GPU, windowing or async crates, so it builds,
//! tests and benchmarks on its own.
//!
//! # What the render side may rely on
//!
//! Redraw events come from another process, and the renderer multiplies
//! and indexes with their coordinates. So the model keeps every number it
//! publishes within [`MAX_COORD`] (the largest grid side it accepts), and
//! every frame upholds:
//!
//! - each grid is at most `MAX_COORD` cells on each side and
//!   [`grid::MAX_GRID_CELLS`] cells in all, with `height` rows of `width`
//!   cells;
//! - the cursor's row and column are below `MAX_COORD`, and inside its grid
//!   when that grid existed at `grid_cursor_goto`;
//! - split positions and sizes (`win_pos`) and the message row
//!   (`msg_set_pos`) are at most `MAX_COORD`; float anchor positions are
//!   finite and within `±MAX_COORD`;
//! - viewports hold no negative line or column, `botline >= topline`, and
//!   `curline < line_count` when nvim sent a line count; viewport margins
//!   are at most `MAX_COORD`;
//! - a viewport's `scroll_delta` is what its window scrolled since the
//!   previous frame: every `win_viewport` in between added up (saturating),
//!   0 when none came. A frame that replaces undrawn ones takes theirs too
//!   ([`Frame::absorb_damage`]).
//!
//! An event that breaks these is clamped with a `log::warn!` naming the
//! event and its values, or, where no clamped value means anything (a grid
//! too big, a float at NaN), refused with a [`ModelError`].
//!
//! Positions are bounded, not checked against the screen: nvim's ordering is
//! loose (a `win_pos` can come before the `grid_resize` that makes room for
//! it), and composition clips whatever lies off screen.

pub mod compose;
mod damage;
pub mod event;
pub mod grid;
pub mod highlight;
mod orphan;
mod stacking;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

pub use event::{Anchor, CellUpdate, CursorShape, GridId, ModeInfo, OptionValue, RedrawEvent};
pub use grid::{Cell, Grid, OutOfRange, Row};
pub use highlight::{DefaultColors, HlAttr, HlTable, Underline};

/// The global grid.
pub const GLOBAL_GRID: GridId = 1;
/// The largest cell coordinate or size a frame holds: no grid is larger, so
/// anything beyond it is off every screen the model accepts.
pub const MAX_COORD: usize = grid::MAX_GRID_DIM;
/// nvim's z-index for the message grid when it does not send one.
const MESSAGE_ZINDEX: u64 = 200;

/// Where a window grid is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// A split at a cell position on the global grid (`win_pos`).
    Normal { row: usize, col: usize, width: usize, height: usize },
    /// A floating window (`win_float_pos`); positions are relative to
    /// `anchor_grid` and may be fractional.
    Float {
        anchor: Anchor,
        anchor_grid: GridId,
        anchor_row: f64,
        anchor_col: f64,
        mouse_enabled: bool,
        zindex: u64,
        compindex: u64,
        /// The command line's height (`cmdheight`) when nvim placed the
        /// float: nvim keeps floats below the message grid's zindex above
        /// those rows, and leaves them where they are when it changes.
        cmdline_rows: usize,
    },
    /// Shown as a separate top-level window (`win_external_pos`).
    External,
    /// The message grid, at `row` of the global grid, full width.
    Message { row: usize, scrolled: bool, sep_char: String, zindex: u64, compindex: u64 },
}

/// `win_viewport`: the buffer range a window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewport {
    pub topline: i64,
    pub botline: i64,
    pub curline: i64,
    pub curcol: i64,
    pub line_count: i64,
    /// Display lines scrolled since the previous frame: the sum of every
    /// `win_viewport`'s delta in between, 0 when none came.
    pub scroll_delta: i64,
}

impl Viewport {
    /// The viewport with every field in its range: no negative lines or
    /// columns, `botline >= topline`, `curline` below a known `line_count`.
    /// `scroll_delta` is signed by nature and kept as sent.
    fn bounded(self) -> Viewport {
        let line_count = self.line_count.max(0);
        let topline = self.topline.max(0);
        let mut curline = self.curline.max(0);
        if line_count > 0 {
            curline = curline.min(line_count - 1);
        }
        Viewport {
            topline,
            botline: self.botline.max(topline),
            curline,
            curcol: self.curcol.max(0),
            line_count,
            scroll_delta: self.scroll_delta,
        }
    }
}

/// `win_viewport_margins`: rows/columns of the grid outside the viewport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Margins {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

/// What is known about a window grid. Events can arrive before the grid
/// exists (win_viewport before grid_resize), so every field is optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    pub win: Option<i64>,
    pub placement: Option<Placement>,
    pub hidden: bool,
    pub viewport: Option<Viewport>,
    pub margins: Margins,
}

/// The cursor's grid and position on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub grid: GridId,
    pub row: usize,
    pub col: usize,
}

/// The current mode and the cursor styles of all modes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModeState {
    pub cursor_style_enabled: bool,
    pub infos: Arc<Vec<ModeInfo>>,
    pub name: String,
    pub index: usize,
}

impl ModeState {
    /// The style entry of the current mode, if nvim sent one.
    pub fn current(&self) -> Option<&ModeInfo> {
        self.infos.get(self.index)
    }
}

/// One grid as published: rows are shared with the model.
#[derive(Debug, Clone)]
pub struct GridFrame {
    pub width: usize,
    pub height: usize,
    pub rows: Vec<Arc<Row>>,
}

/// What changed in one grid since the previous frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GridDamage {
    /// Row indices that were written, sorted.
    pub rows: Vec<usize>,
    /// The grid was created or resized: treat every row as new.
    pub resized: bool,
}

/// An immutable snapshot of the editor at a `flush`, for the render side.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Increases by one per published frame.
    pub seq: u64,
    pub grids: BTreeMap<GridId, Arc<GridFrame>>,
    /// Per grid, what changed since frame `seq - 1`; absent = unchanged.
    pub damage: BTreeMap<GridId, GridDamage>,
    /// Grids destroyed since the previous frame.
    pub destroyed: Vec<GridId>,
    pub windows: Arc<BTreeMap<GridId, Window>>,
    pub hl: Arc<HlTable>,
    pub hl_groups: Arc<HashMap<String, u32>>,
    pub defaults: DefaultColors,
    pub cursor: Cursor,
    pub mode: ModeState,
    pub options: Arc<BTreeMap<String, OptionValue>>,
    pub title: Arc<str>,
    pub icon: Arc<str>,
    pub cwd: Arc<str>,
    pub busy: bool,
    pub mouse_enabled: bool,
    /// Running counts, so the render side can tell a new bell from an old one.
    pub bells: u64,
    pub visual_bells: u64,
    /// Set when nvim reported `error_exit` with this status.
    pub error_exit: Option<i64>,
    /// When the model published this frame, at nvim's flush.
    pub flushed_at: Instant,
}

impl Frame {
    pub fn grid(&self, id: GridId) -> Option<&GridFrame> {
        self.grids.get(&id).map(|g| &**g)
    }

    pub fn option(&self, name: &str) -> Option<&OptionValue> {
        self.options.get(name)
    }
}

/// An event that could not be applied; the model is unchanged by it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("{event} for grid {grid}, which does not exist")]
    UnknownGrid { event: &'static str, grid: GridId },
    #[error("grid {grid}: {source}")]
    OutOfRange { grid: GridId, source: OutOfRange },
    #[error("highlight id {0} is out of range")]
    BadHighlightId(u32),
    #[error("grid {grid} size {width}x{height} is out of range")]
    BadSize { grid: GridId, width: usize, height: usize },
    #[error("win_float_pos for grid {grid} at row {row}, col {col}, which is not a position")]
    BadFloatPosition { grid: GridId, row: f64, col: f64 },
}

/// The whole UI state, fed with events in order; publishes a [`Frame`] at
/// each `flush`.
#[derive(Debug)]
pub struct Model {
    grids: BTreeMap<GridId, Grid>,
    published: BTreeMap<GridId, Arc<GridFrame>>,
    destroyed: Vec<GridId>,
    windows: Arc<BTreeMap<GridId, Window>>,
    hl: Arc<HlTable>,
    hl_groups: Arc<HashMap<String, u32>>,
    defaults: DefaultColors,
    cursor: Cursor,
    mode: ModeState,
    options: Arc<BTreeMap<String, OptionValue>>,
    title: Arc<str>,
    icon: Arc<str>,
    cwd: Arc<str>,
    busy: bool,
    mouse_enabled: bool,
    bells: u64,
    visual_bells: u64,
    error_exit: Option<i64>,
    seq: u64,
    /// Composition order for floats when nvim sends no compindex.
    next_compindex: u64,
    scroll_fill: Option<String>,
    /// The message grid's row when not scrolled: the command line's top.
    cmdline_row: Option<usize>,
    /// Floats placed since the last flush; they get the command line's
    /// height as it is at the flush, which nvim sends after them.
    floats_placed: Vec<GridId>,
    /// Grids created since the last flush and not placed yet.
    unplaced: std::collections::BTreeSet<GridId>,
    /// Grids that had a `win_viewport` since the last flush: their scroll
    /// deltas add up until it.
    scrolled: Vec<GridId>,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    pub fn new() -> Self {
        Model {
            grids: BTreeMap::new(),
            published: BTreeMap::new(),
            destroyed: Vec::new(),
            windows: Arc::default(),
            hl: Arc::default(),
            hl_groups: Arc::default(),
            defaults: DefaultColors::default(),
            cursor: Cursor { grid: GLOBAL_GRID, row: 0, col: 0 },
            mode: ModeState::default(),
            options: Arc::default(),
            title: Arc::from(""),
            icon: Arc::from(""),
            cwd: Arc::from(""),
            busy: false,
            mouse_enabled: false,
            bells: 0,
            visual_bells: 0,
            error_exit: None,
            seq: 0,
            next_compindex: 0,
            scroll_fill: None,
            cmdline_row: None,
            floats_placed: Vec::new(),
            unplaced: Default::default(),
            scrolled: Vec::new(),
        }
    }

    /// Fills rows vacated by `grid_scroll` with `text` instead of blanks.
    /// Tests use a sentinel to prove nvim refills every such row before a
    /// flush (nvim leaves their contents undefined).
    pub fn set_scroll_fill(&mut self, text: &str) {
        self.scroll_fill = Some(text.to_owned());
        for g in self.grids.values_mut() {
            g.set_scroll_fill(text);
        }
    }

    pub fn grid(&self, id: GridId) -> Option<&Grid> {
        self.grids.get(&id)
    }

    /// Applies one event. Returns the new frame at `flush`.
    pub fn apply(&mut self, event: RedrawEvent<'_>) -> Result<Option<Frame>, ModelError> {
        use RedrawEvent as E;
        match event {
            E::Flush => return Ok(Some(self.publish())),
            E::SetTitle(t) => self.title = Arc::from(&*t),
            E::SetIcon(t) => self.icon = Arc::from(&*t),
            E::Chdir(p) => self.cwd = Arc::from(&*p),
            E::ModeInfoSet { cursor_style_enabled, modes } => {
                self.mode.cursor_style_enabled = cursor_style_enabled;
                self.mode.infos = Arc::new(modes);
            }
            E::ModeChange { mode, index } => {
                self.mode.name = mode.into_owned();
                self.mode.index = index;
            }
            E::OptionSet { name, value } => {
                Arc::make_mut(&mut self.options).insert(name.into_owned(), value);
            }
            E::MouseOn => self.mouse_enabled = true,
            E::MouseOff => self.mouse_enabled = false,
            E::BusyStart => self.busy = true,
            E::BusyStop => self.busy = false,
            E::Bell => self.bells += 1,
            E::VisualBell => self.visual_bells += 1,
            E::Suspend | E::UpdateMenu => {}
            E::ErrorExit(status) => self.error_exit = Some(status),
            E::DefaultColorsSet { fg, bg, sp } => {
                let d = DefaultColors::default();
                self.defaults =
                    DefaultColors { fg: fg.unwrap_or(d.fg), bg: bg.unwrap_or(d.bg), sp: sp.unwrap_or(d.sp) };
            }
            E::HlAttrDefine { id, attr } => {
                if !Arc::make_mut(&mut self.hl).define(id, attr) {
                    return Err(ModelError::BadHighlightId(id));
                }
            }
            E::HlGroupSet { name, id } => {
                Arc::make_mut(&mut self.hl_groups).insert(name.into_owned(), id);
            }
            E::GridResize { grid, width, height } => {
                if width > grid::MAX_GRID_DIM
                    || height > grid::MAX_GRID_DIM
                    || width * height > grid::MAX_GRID_CELLS
                {
                    return Err(ModelError::BadSize { grid, width, height });
                }
                match self.grids.get_mut(&grid) {
                    Some(g) => g.resize(width, height),
                    None => {
                        let mut g = Grid::new(width, height);
                        if let Some(fill) = &self.scroll_fill {
                            g.set_scroll_fill(fill);
                        }
                        self.grids.insert(grid, g);
                        self.destroyed.retain(|&d| d != grid);
                        self.unplaced.insert(grid);
                    }
                }
            }
            E::GridClear { grid } => self.grid_mut("grid_clear", grid)?.clear(),
            E::GridDestroy { grid } => {
                if self.unplaced.remove(&grid) {
                    self.keep_orphan(grid);
                }
                self.grids.remove(&grid);
                Arc::make_mut(&mut self.windows).remove(&grid);
                self.destroyed.push(grid);
            }
            E::GridLine { grid, row, col_start, cells, wrap } => self
                .grid_mut("grid_line", grid)?
                .put_line(row, col_start, &cells, wrap)
                .map_err(|source| ModelError::OutOfRange { grid, source })?,
            E::GridScroll { grid, top, bot, left, right, rows } => self
                .grid_mut("grid_scroll", grid)?
                .scroll(top, bot, left, right, rows)
                .map_err(|source| ModelError::OutOfRange { grid, source })?,
            E::GridCursorGoto { grid, row, col } => self.cursor_goto(grid, row, col),
            E::WinPos { grid, win, row, col, width, height } => {
                let [r, c, w, h] = [row, col, width, height].map(|n| n.min(MAX_COORD));
                if [r, c, w, h] != [row, col, width, height] {
                    log::warn!(
                        "win_pos for grid {grid} at {row},{col} size {width}x{height}: clamped to {r},{c} size {w}x{h}"
                    );
                }
                self.place(grid, win, Placement::Normal { row: r, col: c, width: w, height: h })
            }
            E::WinFloatPos {
                grid,
                win,
                anchor,
                anchor_grid,
                anchor_row,
                anchor_col,
                mouse_enabled,
                zindex,
                compindex,
            } => {
                if !anchor_row.is_finite() || !anchor_col.is_finite() {
                    return Err(ModelError::BadFloatPosition { grid, row: anchor_row, col: anchor_col });
                }
                let limit = MAX_COORD as f64;
                let (row, col) = (anchor_row.clamp(-limit, limit), anchor_col.clamp(-limit, limit));
                if (row, col) != (anchor_row, anchor_col) {
                    log::warn!(
                        "win_float_pos for grid {grid} at {anchor_row},{anchor_col}: clamped to {row},{col}"
                    );
                }
                let (anchor_row, anchor_col) = (row, col);
                let zindex = zindex.unwrap_or(50);
                let compindex = self.float_compindex(grid, zindex, compindex);
                let placement = Placement::Float {
                    anchor,
                    anchor_grid,
                    anchor_row,
                    anchor_col,
                    mouse_enabled,
                    zindex,
                    compindex,
                    cmdline_rows: 0,
                };
                self.floats_placed.push(grid);
                self.place(grid, win, placement)
            }
            E::WinExternalPos { grid, win } => self.place(grid, win, Placement::External),
            E::MsgSetPos { grid, row, scrolled, sep_char, zindex, compindex } => {
                if row > MAX_COORD {
                    log::warn!("msg_set_pos for grid {grid} at row {row}: clamped to {MAX_COORD}");
                }
                let row = row.min(MAX_COORD);
                if !scrolled {
                    self.cmdline_row = Some(row);
                }
                self.unplaced.remove(&grid);
                let compindex = compindex.unwrap_or_else(|| self.bump_compindex());
                let placement = Placement::Message {
                    row,
                    scrolled,
                    sep_char: sep_char.into_owned(),
                    zindex: zindex.unwrap_or(MESSAGE_ZINDEX),
                    compindex,
                };
                let w = self.window_mut(grid);
                w.placement = Some(placement);
                w.hidden = false;
            }
            E::WinHide { grid } => self.window_mut(grid).hidden = true,
            E::WinClose { grid } => {
                Arc::make_mut(&mut self.windows).remove(&grid);
            }
            E::WinViewport { grid, win, topline, botline, curline, curcol, line_count, scroll_delta } => {
                let sent = Viewport {
                    topline,
                    botline,
                    curline,
                    curcol,
                    line_count: line_count.unwrap_or(0),
                    scroll_delta: scroll_delta.unwrap_or(0),
                };
                let viewport = sent.bounded();
                if viewport != sent {
                    log::warn!(
                        "win_viewport for grid {grid}: topline {topline} botline {botline} curline {curline} \
                         curcol {curcol} line_count {} clamped to {viewport:?}",
                        sent.line_count
                    );
                }
                // Several in one flush (a scroll, then the cursor moved):
                // the frame carries all they scrolled together.
                let earlier = if self.scrolled.contains(&grid) {
                    self.windows.get(&grid).and_then(|w| w.viewport).map_or(0, |v| v.scroll_delta)
                } else {
                    self.scrolled.push(grid);
                    0
                };
                let w = self.window_mut(grid);
                w.win = Some(win);
                w.viewport = Some(Viewport {
                    scroll_delta: viewport.scroll_delta.saturating_add(earlier),
                    ..viewport
                });
            }
            E::WinViewportMargins { grid, win, top, bottom, left, right } => {
                let [t, b, l, r] = [top, bottom, left, right].map(|n| n.min(MAX_COORD));
                if [t, b, l, r] != [top, bottom, left, right] {
                    log::warn!(
                        "win_viewport_margins for grid {grid}: {top} {bottom} {left} {right} clamped to {t} {b} {l} {r}"
                    );
                }
                let w = self.window_mut(grid);
                w.win = Some(win);
                w.margins = Margins { top: t, bottom: b, left: l, right: r };
            }
            E::WinExtmark { .. } => {}
        }
        Ok(None)
    }

    /// `grid_cursor_goto`, kept inside the cursor's grid (or, for a grid not
    /// created yet, below [`MAX_COORD`]).
    fn cursor_goto(&mut self, grid: GridId, row: usize, col: usize) {
        let (rows, cols) = self.grids.get(&grid).map_or((MAX_COORD, MAX_COORD), |g| (g.height(), g.width()));
        let cursor =
            Cursor { grid, row: row.min(rows.saturating_sub(1)), col: col.min(cols.saturating_sub(1)) };
        if (cursor.row, cursor.col) != (row, col) {
            log::warn!(
                "grid_cursor_goto {row},{col} is outside grid {grid} ({cols}x{rows}): clamped to {},{}",
                cursor.row,
                cursor.col
            );
        }
        self.cursor = cursor;
        self.raise_float(grid);
    }

    fn grid_mut(&mut self, event: &'static str, grid: GridId) -> Result<&mut Grid, ModelError> {
        self.grids.get_mut(&grid).ok_or(ModelError::UnknownGrid { event, grid })
    }

    fn window_mut(&mut self, grid: GridId) -> &mut Window {
        Arc::make_mut(&mut self.windows).entry(grid).or_default()
    }

    fn place(&mut self, grid: GridId, win: i64, placement: Placement) {
        self.unplaced.remove(&grid);
        let w = self.window_mut(grid);
        w.win = Some(win);
        w.placement = Some(placement);
        w.hidden = false;
    }

    /// The command line's height now: the screen's rows below the message
    /// grid's unscrolled row.
    fn cmdline_rows(&self) -> usize {
        let screen = self.grids.get(&GLOBAL_GRID).map_or(0, Grid::height);
        self.cmdline_row.map_or(0, |row| screen.saturating_sub(row))
    }

    fn settle_floats(&mut self) {
        let rows = self.cmdline_rows();
        for grid in std::mem::take(&mut self.floats_placed) {
            if let Some(Window { placement: Some(Placement::Float { cmdline_rows, .. }), .. }) =
                Arc::make_mut(&mut self.windows).get_mut(&grid)
            {
                *cmdline_rows = rows;
            }
        }
    }

    /// A window that did not scroll since the last flush has a delta of 0
    /// in this frame, not the one it had in the previous frame.
    fn settle_scroll(&mut self) {
        let scrolled = std::mem::take(&mut self.scrolled);
        let stale = |(grid, w): (&GridId, &Window)| {
            w.viewport.is_some_and(|v| v.scroll_delta != 0) && !scrolled.contains(grid)
        };
        if !self.windows.iter().any(stale) {
            return;
        }
        for (grid, w) in Arc::make_mut(&mut self.windows) {
            if let Some(v) = w.viewport.as_mut().filter(|_| !scrolled.contains(grid)) {
                v.scroll_delta = 0;
            }
        }
    }

    fn bump_compindex(&mut self) -> u64 {
        self.next_compindex += 1;
        self.next_compindex
    }

    /// Builds the frame for the current state. Unchanged grids reuse the
    /// previous frame's `Arc`; changed ones share their unchanged rows.
    pub fn publish(&mut self) -> Frame {
        let mut damage = BTreeMap::new();
        for (&id, grid) in &mut self.grids {
            let known = self.published.contains_key(&id);
            if known && !grid.has_damage() {
                continue;
            }
            let (rows, resized) = grid.take_damage();
            damage.insert(id, GridDamage { rows, resized: resized || !known });
            let frame = GridFrame { width: grid.width(), height: grid.height(), rows: grid.rows().to_vec() };
            self.published.insert(id, Arc::new(frame));
        }
        let grids = &self.grids;
        self.published.retain(|id, _| grids.contains_key(id));
        self.settle_floats();
        self.settle_scroll();
        self.unplaced.clear();
        self.seq += 1;
        Frame {
            seq: self.seq,
            grids: self.published.clone(),
            damage,
            destroyed: std::mem::take(&mut self.destroyed),
            windows: self.windows.clone(),
            hl: self.hl.clone(),
            hl_groups: self.hl_groups.clone(),
            defaults: self.defaults,
            cursor: self.cursor,
            mode: self.mode.clone(),
            options: self.options.clone(),
            title: self.title.clone(),
            icon: self.icon.clone(),
            cwd: self.cwd.clone(),
            busy: self.busy,
            mouse_enabled: self.mouse_enabled,
            bells: self.bells,
            visual_bells: self.visual_bells,
            error_exit: self.error_exit,
            flushed_at: Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests;
