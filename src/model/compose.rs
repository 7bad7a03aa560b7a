//! Composes a frame's grids into one screen, the way nvim's own TUI does.
//!
//! ```text
//!   grid 1 (tabline, separators, status lines, command line)
//!     └─ window grids at their win_pos cells           zindex 0
//!         └─ floats, sorted by (zindex, compindex)     e.g. 50, pum 100
//!             └─ message grid at msg_set_pos row       200
//! ```
//!
//! A float's anchor point is relative to its anchor grid; the corner named
//! by `anchor` sits there, and the result is kept on screen and, below the
//! message grid's zindex, above the command line ([`keep_on_screen`]):
//!
//! ```text
//!   NW: (r, c) is the top-left       NE: (r, c) is the top-right
//!   SW: (r, c) is the bottom-left    SE: (r, c) is the bottom-right
//! ```

use compact_str::CompactString;

use super::{Anchor, Cell, Frame, GLOBAL_GRID, GridId, MESSAGE_ZINDEX, Placement};

/// The window handle nvim gives the popupmenu in `win_float_pos`.
const POPUPMENU_WIN: i64 = -1;

/// One grid's place on the screen. Coordinates can be negative or run past
/// the screen edge; drawing clips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub grid: GridId,
    pub row: i64,
    pub col: i64,
    /// The part of the grid shown, in cells.
    pub width: usize,
    pub height: usize,
    pub zindex: u64,
    pub compindex: u64,
    pub kind: LayerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    Global,
    Window,
    Float,
    Message,
}

/// The screen size: the global grid's.
pub fn screen_size(frame: &Frame) -> (usize, usize) {
    frame.grid(GLOBAL_GRID).map_or((0, 0), |g| (g.width, g.height))
}

/// Where a grid's top-left cell is on screen, following float anchors.
pub fn grid_origin(frame: &Frame, grid: GridId) -> Option<(i64, i64)> {
    origin(frame, grid, 0)
}

fn origin(frame: &Frame, grid: GridId, depth: usize) -> Option<(i64, i64)> {
    if grid == GLOBAL_GRID {
        return Some((0, 0));
    }
    // Floats anchored on floats: a cycle in bad input must not recurse forever.
    if depth > 16 {
        return None;
    }
    let window = frame.windows.get(&grid)?;
    let own = frame.grid(grid)?;
    match window.placement.as_ref()? {
        Placement::Normal { row, col, .. } => Some((coord(*row), coord(*col))),
        Placement::Message { row, .. } => Some((coord(*row), 0)),
        Placement::External => None,
        Placement::Float { anchor, anchor_grid, anchor_row, anchor_col, zindex, cmdline_rows, .. } => {
            let (base_row, base_col) = origin(frame, *anchor_grid, depth + 1)?;
            let (h, w) = (own.height as i64, own.width as i64);
            let south = matches!(anchor, Anchor::SW | Anchor::SE);
            let east = matches!(anchor, Anchor::NE | Anchor::SE);
            // nvim truncates the fractional position toward zero first.
            // Saturating: absurd positions from a broken stream clamp like
            // any other off-screen float.
            let row = base_row.saturating_add(*anchor_row as i64).saturating_sub(if south { h } else { 0 });
            let col = base_col.saturating_add(*anchor_col as i64).saturating_sub(if east { w } else { 0 });
            if window.win == Some(POPUPMENU_WIN) {
                // nvim lays the popupmenu out itself and composes it where
                // it says, unclamped.
                return Some((row, col));
            }
            Some(keep_on_screen(frame, (row, col), (h, w), *zindex, *cmdline_rows))
        }
    }
}

/// Where nvim's compositor moves a float that would leave the screen: up
/// and left until it fits, but never past the top-left corner, and above
/// the command line unless it is drawn over the message grid. The rows of
/// the command line are those when nvim placed the float.
///
/// ```text
///   ┌──────────────────────┐       ┌──────────────────────┐
///   │                      │       │          ┌───┐       │
///   │          ┌───┐       │  ──►  │          │   │       │
///   │ status   │   │       │       │ status   └───┘       │
///   │ :cmdline │   │       │       │ :cmdline             │
///   └──────────└───┘───────┘       └──────────────────────┘
/// ```
fn keep_on_screen(
    frame: &Frame,
    (row, col): (i64, i64),
    (h, w): (i64, i64),
    zindex: u64,
    cmdline_rows: usize,
) -> (i64, i64) {
    let (sw, sh) = screen_size(frame);
    let above = if zindex < MESSAGE_ZINDEX { coord(cmdline_rows) } else { 0 };
    let row = row.min(coord(sh) - h - above).max(0);
    let col = col.min(coord(sw) - w).max(0);
    (row, col)
}

/// A cell position as a signed screen coordinate; positions past `i64::MAX`
/// are off screen either way.
fn coord(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Visible grids bottom to top.
pub fn layers(frame: &Frame) -> Vec<Layer> {
    let mut out = Vec::new();
    if let Some(g) = frame.grid(GLOBAL_GRID) {
        out.push(Layer {
            grid: GLOBAL_GRID,
            row: 0,
            col: 0,
            width: g.width,
            height: g.height,
            zindex: 0,
            compindex: 0,
            kind: LayerKind::Global,
        });
    }
    for (&id, window) in frame.windows.iter() {
        if window.hidden || id == GLOBAL_GRID {
            continue;
        }
        let (Some(grid), Some(placement)) = (frame.grid(id), window.placement.as_ref()) else {
            continue;
        };
        let Some((row, col)) = grid_origin(frame, id) else {
            continue;
        };
        let (width, height, zindex, compindex, kind) = match placement {
            Placement::Normal { width, height, .. } => {
                (grid.width.min(*width), grid.height.min(*height), 0, 0, LayerKind::Window)
            }
            Placement::Float { zindex, compindex, .. } => {
                (grid.width, grid.height, *zindex, *compindex, LayerKind::Float)
            }
            Placement::Message { zindex, compindex, .. } => {
                (grid.width, grid.height, *zindex, *compindex, LayerKind::Message)
            }
            Placement::External => continue,
        };
        out.push(Layer { grid: id, row, col, width, height, zindex, compindex, kind });
    }
    // Stable: the global grid stays first, splits keep grid order.
    out.sort_by_key(|l| (l.kind != LayerKind::Global, l.zindex, l.compindex));
    out
}

/// A composed screen of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub width: usize,
    pub height: usize,
    pub cells: Vec<Cell>,
}

impl Screen {
    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        &self.cells[row * self.width + col]
    }

    /// One row's text: each double-width character once, trailing spaces
    /// trimmed.
    pub fn row_text(&self, row: usize) -> String {
        let cells = &self.cells[row * self.width..(row + 1) * self.width];
        let text: String = cells.iter().map(|c| c.text.as_str()).collect();
        text.trim_end_matches(' ').to_owned()
    }

    /// Exactly `height` lines, each ending in a newline.
    pub fn text(&self) -> String {
        (0..self.height).map(|r| self.row_text(r) + "\n").collect()
    }
}

/// Composes the frame into one screen.
pub fn compose(frame: &Frame) -> Screen {
    compose_layers(frame, layers(frame))
}

/// Composes only the layers under `grid`'s (all of them when it is not
/// placed): what a blended float (`'winblend'`) mixes with.
pub fn compose_below(frame: &Frame, grid: GridId) -> Screen {
    compose_layers(frame, layers(frame).into_iter().take_while(|l| l.grid != grid).collect())
}

fn compose_layers(frame: &Frame, layers: Vec<Layer>) -> Screen {
    let (width, height) = screen_size(frame);
    let mut screen = Screen { width, height, cells: vec![Cell::blank(); width * height] };
    for layer in layers {
        if let Some(Placement::Message { row, scrolled: true, sep_char, .. }) =
            frame.windows.get(&layer.grid).and_then(|w| w.placement.as_ref())
        {
            draw_separator(frame, &mut screen, *row, sep_char);
        }
        blit(frame, &mut screen, &layer);
    }
    screen
}

/// The row above a scrolled message area, as nvim's TUI draws it.
fn draw_separator(frame: &Frame, screen: &mut Screen, msg_row: usize, sep_char: &str) {
    if msg_row == 0 || msg_row > screen.height || sep_char.is_empty() {
        return;
    }
    let hl = frame.hl_groups.get("MsgSeparator").copied().unwrap_or(0);
    let start = (msg_row - 1) * screen.width;
    let text = CompactString::from(sep_char);
    for cell in &mut screen.cells[start..start + screen.width] {
        *cell = Cell { text: text.clone(), hl };
    }
}

fn blit(frame: &Frame, screen: &mut Screen, layer: &Layer) {
    let Some(grid) = frame.grid(layer.grid) else {
        return;
    };
    let sw = screen.width as i64;
    // Visible columns of the layer, in screen coordinates.
    let x0 = layer.col.max(0);
    let x1 = layer.col.saturating_add(coord(layer.width)).min(sw);
    if x0 >= x1 {
        return;
    }
    for r in 0..layer.height {
        let y = layer.row.saturating_add(coord(r));
        if y < 0 || y >= screen.height as i64 {
            continue;
        }
        let Some(row) = grid.rows.get(r) else {
            continue;
        };
        let line = &mut screen.cells[y as usize * screen.width..(y as usize + 1) * screen.width];
        // A double-width character below that the layer's edges cut in half
        // loses its other half too, as in nvim's TUI.
        let (x0u, x1u) = (x0 as usize, x1 as usize);
        if line[x0u].is_continuation() && x0u > 0 {
            line[x0u - 1] = Cell::blank();
        }
        if x1u < line.len() && line[x1u].is_continuation() {
            line[x1u] = Cell::blank();
        }
        for (x, out) in line.iter_mut().enumerate().take(x1u).skip(x0u) {
            let c = (x as i64 - layer.col) as usize;
            *out = row.cells.get(c).cloned().unwrap_or_else(Cell::blank);
        }
        // And the layer's own wide characters cut by the screen edge.
        if line[x0u].is_continuation() {
            line[x0u] = Cell::blank();
        }
        let last = x1u - 1;
        let source_next = (x1 - layer.col) as usize;
        if !line[last].is_continuation() && row.cells.get(source_next).is_some_and(Cell::is_continuation) {
            line[last] = Cell::blank();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::grid_origin;
    use crate::model::{Anchor, CellUpdate, GridId, Model, RedrawEvent};

    fn apply(m: &mut Model, e: RedrawEvent<'static>) {
        m.apply(e).unwrap();
    }

    /// A 10x8 screen of dots whose message grid (grid 2) is at `msg_row`.
    fn screen(msg_row: usize) -> Model {
        let mut m = Model::new();
        apply(&mut m, RedrawEvent::GridResize { grid: 1, width: 10, height: 8 });
        for row in 0..8 {
            let cells = vec![CellUpdate { text: ".".into(), hl: Some(0), repeat: Some(10) }];
            apply(&mut m, RedrawEvent::GridLine { grid: 1, row, col_start: 0, cells, wrap: false });
        }
        apply(&mut m, RedrawEvent::GridResize { grid: 2, width: 10, height: 8 });
        msg(&mut m, msg_row, false);
        m.publish();
        m
    }

    fn msg(m: &mut Model, row: usize, scrolled: bool) {
        let sep_char = Cow::Borrowed("-");
        apply(m, RedrawEvent::MsgSetPos { grid: 2, row, scrolled, sep_char, zindex: None, compindex: None });
    }

    /// A 3x2 float (grid `grid`) at `row`, `col` of the screen.
    fn float(m: &mut Model, grid: GridId, win: i64, (row, col): (f64, f64), zindex: u64) {
        apply(m, RedrawEvent::GridResize { grid, width: 3, height: 2 });
        apply(
            m,
            RedrawEvent::WinFloatPos {
                grid,
                win,
                anchor: Anchor::NW,
                anchor_grid: 1,
                anchor_row: row,
                anchor_col: col,
                mouse_enabled: true,
                zindex: Some(zindex),
                compindex: None,
            },
        );
    }

    fn origin(m: &mut Model, grid: GridId) -> Option<(i64, i64)> {
        grid_origin(&m.publish(), grid)
    }

    #[test]
    fn floats_under_the_message_grid_end_above_the_command_line() {
        // Two command line rows: the lowest a 2-row float may start is 4.
        let mut m = screen(6);
        float(&mut m, 3, 1003, (7.0, 20.0), 50);
        assert_eq!(origin(&mut m, 3), Some((4, 7)));
        // Over the message grid, only the screen's edge counts.
        float(&mut m, 4, 1004, (7.0, 0.0), 200);
        assert_eq!(origin(&mut m, 4), Some((6, 0)));
        // A float taller than the space left starts at the top.
        float(&mut m, 3, 1003, (7.0, 0.0), 50);
        apply(&mut m, RedrawEvent::GridResize { grid: 3, width: 3, height: 7 });
        assert_eq!(origin(&mut m, 3), Some((0, 0)));
    }

    #[test]
    fn a_float_keeps_the_command_line_height_nvim_placed_it_with() {
        let mut m = screen(7);
        float(&mut m, 3, 1003, (7.0, 0.0), 50);
        assert_eq!(origin(&mut m, 3), Some((5, 0)));
        // The command line grows: nvim does not move the float.
        msg(&mut m, 4, false);
        assert_eq!(origin(&mut m, 3), Some((5, 0)));
        // Scrolled messages do not change the command line's height.
        msg(&mut m, 1, true);
        float(&mut m, 3, 1003, (7.0, 0.0), 50);
        assert_eq!(origin(&mut m, 3), Some((2, 0)));
        // nvim sends the message grid's new row after the floats it placed
        // with it, in the same flush.
        float(&mut m, 3, 1003, (7.0, 0.0), 50);
        msg(&mut m, 7, false);
        assert_eq!(origin(&mut m, 3), Some((5, 0)));
    }

    #[test]
    fn the_popupmenu_is_composed_where_nvim_lays_it_out() {
        // nvim's own layout keeps it on screen; a float would move to (5, 7).
        let mut m = screen(7);
        float(&mut m, 3, -1, (7.0, 8.0), 100);
        assert_eq!(origin(&mut m, 3), Some((7, 8)));
    }
}
