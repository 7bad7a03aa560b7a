//! One fuzz input, end to end on the CPU: the bytes are a recorded nvim
//! stream (`--record`), so they go through framing, decoding and the model,
//! and every published frame through composition and the renderer's
//! geometry (layer placements, row rects, separators, cursor, damage
//! bands) at a typical and at the largest cell size. Nothing may panic, and
//! every frame must keep the bounds the model promises the renderer.
//!
//! Shared by the cargo-fuzz target (`fuzz/fuzz_targets/redraw.rs`) and by
//! the regression test that replays saved crashes (`tests/fuzz.rs`).

use vireo::model::compose::{self, LayerKind};
use vireo::model::{Frame, MAX_COORD, Placement};
use vireo::render::font::CellMetrics;
use vireo::render::geometry;
use vireo::render::rects::Rect;

/// A common cell size, and the largest `guifont` allows (200 points) with
/// the largest `linespace` (200).
const METRICS: [CellMetrics; 2] = [
    CellMetrics { width: 9, height: 19, font_px: 15.0, baseline: 14.0, underline_offset: 2.0, stroke: 1.0 },
    CellMetrics {
        width: 161,
        height: 531,
        font_px: 267.0,
        baseline: 450.0,
        underline_offset: 30.0,
        stroke: 13.0,
    },
];

/// The largest texture side of the devices vireo runs on (lavapipe's).
const MAX_TEXTURE_SIDE: u32 = 16_384;

/// Replays `data` and checks every frame; panics on a broken invariant.
pub fn run(data: &[u8]) {
    // Most inputs are malformed somewhere: replay stops there, which is
    // fine. Only a panic (or a broken frame, below) is a finding.
    vireo::replay::replay(data, |frame| {
        if let Err(problem) = frame_problem(&frame) {
            panic!("frame {}: {problem}", frame.seq);
        }
        for m in METRICS {
            geometry_of(&frame, m);
        }
    })
    .ok();
}

/// What the model promises the renderer about every frame (see the
/// `vireo::model` docs).
pub fn frame_problem(frame: &Frame) -> Result<(), String> {
    for (id, grid) in &frame.grids {
        if grid.width > MAX_COORD || grid.height > MAX_COORD {
            return Err(format!("grid {id} is {}x{}", grid.width, grid.height));
        }
        if grid.rows.len() != grid.height {
            return Err(format!("grid {id}: {} rows, height {}", grid.rows.len(), grid.height));
        }
        if let Some(row) = grid.rows.iter().position(|r| r.cells.len() != grid.width) {
            return Err(format!("grid {id}: row {row} is not {} cells wide", grid.width));
        }
    }
    let cursor = frame.cursor;
    if cursor.row >= MAX_COORD || cursor.col >= MAX_COORD {
        return Err(format!("cursor at {},{}", cursor.row, cursor.col));
    }
    for (id, window) in frame.windows.iter() {
        let fine = match &window.placement {
            Some(Placement::Normal { row, col, width, height }) => {
                [row, col, width, height].iter().all(|&&n| n <= MAX_COORD)
            }
            Some(Placement::Float { anchor_row, anchor_col, .. }) => {
                [anchor_row, anchor_col].iter().all(|n| n.is_finite() && n.abs() <= MAX_COORD as f64)
            }
            Some(Placement::Message { row, .. }) => *row <= MAX_COORD,
            Some(Placement::External) | None => true,
        };
        if !fine {
            return Err(format!("grid {id} placed at {:?}", window.placement));
        }
        let margins = &window.margins;
        if [margins.top, margins.bottom, margins.left, margins.right].iter().any(|&n| n > MAX_COORD) {
            return Err(format!("grid {id} has margins {margins:?}"));
        }
        if let Some(v) = window.viewport {
            let lines_fine = v.topline >= 0 && v.botline >= v.topline && v.curline >= 0 && v.curcol >= 0;
            if !lines_fine || v.line_count < 0 || (v.line_count > 0 && v.curline >= v.line_count) {
                return Err(format!("grid {id} has viewport {v:?}"));
            }
        }
    }
    Ok(())
}

/// Everything the renderer computes on the CPU for `frame` at cell size
/// `m`, each result checked to be a finite pixel value.
fn geometry_of(frame: &Frame, m: CellMetrics) {
    let (width, height) = vireo::render::frame_pixels(frame, m);
    let (width, height) = (width.clamp(1, MAX_TEXTURE_SIDE), height.clamp(1, MAX_TEXTURE_SIDE));
    let mut rects = Vec::new();
    let mut bands = Vec::new();
    for placed in compose::layers(frame) {
        let placement = geometry::layer_placement(&placed, m);
        assert_finite(&placement.pos, &placement.size, "layer placement");
        let Some(grid) = frame.grid(placed.grid) else { continue };
        let (w, h) = geometry::layer_texture_size(grid.width, grid.height, m, (width, height));
        assert!((1..=width).contains(&w) && (1..=height).contains(&h), "layer {w}x{h} on {width}x{height}");
        let mut out = geometry::RowRects::default();
        for (r, row) in grid.rows.iter().enumerate() {
            geometry::row_rects(frame, row, r, grid.width, m, Default::default(), &mut out);
            bands.extend(geometry::row_band(&placed, r, m, height));
        }
        rects.extend(out.replace.into_iter().chain(out.over));
        if placed.kind == LayerKind::Message {
            rects.extend(geometry::separator(frame, placed.grid, width, m, Default::default()));
        }
    }
    for band in geometry::merge_bands(bands) {
        assert!(band.0 < band.1 && band.1 <= height, "band {band:?} of {height}");
    }
    let mut cursor = Vec::new();
    let glyph = geometry::cursor(frame, m, &mut cursor);
    if let Some((x, y, w, h)) = geometry::cursor_cell(frame, m) {
        assert_finite(&[x, y], &[w, h], "cursor cell");
    }
    if let Some([x0, y0, x1, y1]) =
        geometry::overlay_spot(&cursor, glyph.map(|g| (g.x, g.y)), m, (width, height))
    {
        assert!(x0 < x1 && x1 <= width, "overlay columns {x0}..{x1} of {width}");
        assert!(y0 < y1 && y1 <= height, "overlay rows {y0}..{y1} of {height}");
    }
    for rect in rects.iter().chain(&cursor) {
        assert_rect(rect);
    }
    // The text screen the tests compare against composes too.
    let screen = compose::compose(frame);
    assert_eq!(screen.cells.len(), screen.width * screen.height);
}

fn assert_rect(rect: &Rect) {
    assert_finite(&rect.pos, &rect.size, "rect");
    assert!(rect.size.iter().all(|&s| s >= 0.0), "negative size: {rect:?}");
}

fn assert_finite(pos: &[f32; 2], size: &[f32; 2], what: &str) {
    assert!(pos.iter().chain(size).all(|v| v.is_finite()), "{what} at {pos:?} size {size:?}");
}
