//! Box drawing (U+2500–U+257F), block elements (U+2580–U+259F) and the
//! solid powerline separators, drawn as geometry so that lines meet across
//! cells with no gaps or overlaps at any font size and linespace.
//!
//! A line character is four arms from the cell centre, each none, light,
//! heavy or double:
//!
//! ```text
//!        U
//!        │
//!   L ───┼─── R      every arm reaches the cell edge, and arms are
//!        │           centred on whole pixels, so neighbours line up
//!        D
//! ```

use super::rects::{Kind, Rect};

/// Arm weights (left, right, up, down) for U+2500..=U+257F as digits:
/// 0 none, 1 light, 2 heavy, 3 double; `a` = rounded corner, `-` = not
/// geometry (diagonals, drawn from the font).
const LINES: [&str; 128] = [
    "1100", "2200", "0011", "0022", "1100", "2200", "0011", "0022", // 2500
    "1100", "2200", "0011", "0022", "0101", "0201", "0102", "0202", // 2508
    "1001", "2001", "1002", "2002", "0110", "0210", "0120", "0220", // 2510
    "1010", "2010", "1020", "2020", "0111", "0211", "0121", "0112", // 2518
    "0122", "0221", "0212", "0222", "1011", "2011", "1021", "1012", // 2520
    "1022", "2021", "2012", "2022", "1101", "2101", "1201", "2201", // 2528
    "1102", "2102", "1202", "2202", "1110", "2110", "1210", "2210", // 2530
    "1120", "2120", "1220", "2220", "1111", "2111", "1211", "2211", // 2538
    "1121", "1112", "1122", "2121", "1221", "2112", "1212", "2221", // 2540
    "2212", "2122", "1222", "2222", "1100", "2200", "0011", "0022", // 2548
    "3300", "0033", "0301", "0103", "0303", "3001", "1003", "3003", // 2550
    "0310", "0130", "0330", "3010", "1030", "3030", "0311", "0133", // 2558
    "0333", "3011", "1033", "3033", "3301", "1103", "3303", "3310", // 2560
    "1130", "3330", "3311", "1133", "3333", "a", "a", "a", // 2568
    "a", "-", "-", "-", "1000", "0010", "0100", "0001", // 2570
    "2000", "0020", "0200", "0002", "1200", "0012", "2100", "0021", // 2578
];

/// True when `text` is drawn by [`push_rects`] rather than from a font.
pub fn is_geometry(text: &str) -> bool {
    let mut chars = text.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else { return false };
    match c as u32 {
        0x2500..=0x257f => LINES[(c as u32 - 0x2500) as usize] != "-",
        0x2580..=0x259f | 0xe0b0 | 0xe0b2 => true,
        _ => false,
    }
}

/// A cell's pixel rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// Appends the rects for box character `c` in `cell`. `stroke` is the light
/// line thickness in pixels.
pub fn push_rects(out: &mut Vec<Rect>, c: char, cell: CellBox, stroke: f32, color: [f32; 4]) {
    let CellBox { x, y, w, h } = cell;
    let cp = c as u32;
    match cp {
        0x2500..=0x257f => lines(out, LINES[(cp - 0x2500) as usize], cp, x, y, w, h, stroke, color),
        0x2580..=0x259f => blocks(out, cp, x, y, w, h, color),
        0xe0b0 => out.push(Rect::shaped(x, y, w, h, color, Kind::TriangleRight, 0.0)),
        0xe0b2 => out.push(Rect::shaped(x, y, w, h, color, Kind::TriangleLeft, 0.0)),
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn lines(out: &mut Vec<Rect>, arms: &str, cp: u32, x: f32, y: f32, w: f32, h: f32, t: f32, color: [f32; 4]) {
    if arms == "a" {
        arc(out, cp, x, y, w, h, t, color);
        return;
    }
    let weight = |i: usize| arms.as_bytes()[i] - b'0';
    let (l, r, u, d) = (weight(0), weight(1), weight(2), weight(3));
    let (cx, cy) = centre(x, y, w, h, t);
    let thick = |wt: u8| if wt == 2 { (t * 2.0).max(t + 1.0) } else { t };
    // How far a horizontal arm must reach past the centre to cover the
    // vertical arms' full thickness (and the other way round).
    let v_half = [u, d].iter().map(|&wt| half_extent(wt, t, thick(wt))).fold(0.0, f32::max);
    let h_half = [l, r].iter().map(|&wt| half_extent(wt, t, thick(wt))).fold(0.0, f32::max);
    let corner = (l == 0) != (r == 0) && (u == 0) != (d == 0);
    // Direction of the perpendicular arm at a corner: +1 right/down, -1 left/up.
    let h_perp = if r != 0 { 1.0 } else { -1.0 };
    let v_perp = if d != 0 { 1.0 } else { -1.0 };
    // (weight, horizontal, direction: -1 toward left/up, +1 toward right/down)
    for (wt, horizontal, dir) in [(l, true, -1.0), (r, true, 1.0), (u, false, -1.0), (d, false, 1.0)] {
        if wt == 0 {
            continue;
        }
        let tk = thick(wt);
        let offsets: &[f32] = if wt == 3 { &[-t, t] } else { &[0.0] };
        let (axis, reach, perp) = if horizontal { (cx, v_half, v_perp) } else { (cy, h_half, h_perp) };
        for &off in offsets {
            // The arm's end near the centre. At a double corner each of the
            // two lines stops flush with the outer edge of its partner line:
            //   ╔══   outer lines meet at the outer corner,
            //   ║╔═   inner lines at the inner one.
            let near = if corner && wt == 3 {
                axis + dir * perp * off + if dir < 0.0 { t } else { 0.0 }
            } else {
                axis + t / 2.0 - dir * reach
            };
            let across = if wt == 2 { -(tk - t) / 2.0 } else { off };
            if horizontal {
                let ly = (cy + across).round();
                let (x0, x1) = if dir < 0.0 { (x, near) } else { (near, x + w) };
                out.push(Rect::solid(x0, ly, (x1 - x0).max(0.0), tk, color));
            } else {
                let lx = (cx + across).round();
                let (y0, y1) = if dir < 0.0 { (y, near) } else { (near, y + h) };
                out.push(Rect::solid(lx, y0, tk, (y1 - y0).max(0.0), color));
            }
        }
    }
}

/// A rounded corner: a quarter circle of radius r between the two arms'
/// centre lines, then straight stubs to the cell edges.
///
/// ```text
///   ╭ : centre of the circle at (line_x + r, line_y + r)
///        ┌──────── the horizontal stub runs from the circle to the right edge
///        │   the vertical stub runs from the circle to the bottom edge
/// ```
#[allow(clippy::too_many_arguments)]
fn arc(out: &mut Vec<Rect>, cp: u32, x: f32, y: f32, w: f32, h: f32, t: f32, color: [f32; 4]) {
    let (lx, ly) = centre(x, y, w, h, t);
    // Centre lines of the vertical and horizontal arms.
    let (vx, hy) = (lx + t / 2.0, ly + t / 2.0);
    let r = (w.min(h) / 2.0 - t / 2.0).max(1.0);
    let (right, down, kind) = match cp {
        0x256d => (true, true, Kind::ArcDownRight),
        0x256e => (false, true, Kind::ArcDownLeft),
        0x256f => (false, false, Kind::ArcUpLeft),
        _ => (true, false, Kind::ArcUpRight),
    };
    let cx = if right { vx + r } else { vx - r };
    let cy = if down { hy + r } else { hy - r };
    // The rect holds the quarter circle; the shader centres the arc on the
    // rect corner that faces the circle's centre.
    let side = r + t;
    let rx = if right { cx - side } else { cx };
    let ry = if down { cy - side } else { cy };
    out.push(Rect::shaped(rx, ry, side, side, color, kind, t));
    if down {
        out.push(Rect::solid(lx, cy, t, (y + h - cy).max(0.0), color));
    } else {
        out.push(Rect::solid(lx, y, t, (cy - y).max(0.0), color));
    }
    if right {
        out.push(Rect::solid(cx, ly, (x + w - cx).max(0.0), t, color));
    } else {
        out.push(Rect::solid(x, ly, (cx - x).max(0.0), t, color));
    }
}

/// Half the extent of an arm of weight `wt` across its direction.
fn half_extent(wt: u8, t: f32, thick: f32) -> f32 {
    match wt {
        0 => 0.0,
        3 => t * 1.5,
        _ => thick / 2.0,
    }
}

/// The top-left of a `t`-thick line through the cell centre, on whole pixels.
fn centre(x: f32, y: f32, w: f32, h: f32, t: f32) -> (f32, f32) {
    ((x + (w - t) / 2.0).floor(), (y + (h - t) / 2.0).floor())
}

fn blocks(out: &mut Vec<Rect>, cp: u32, x: f32, y: f32, w: f32, h: f32, color: [f32; 4]) {
    let eighth_h = |n: f32| (h * n / 8.0).round();
    let eighth_w = |n: f32| (w * n / 8.0).round();
    let (hw, hh) = ((w / 2.0).round(), (h / 2.0).round());
    let mut quad = |ul: bool, ur: bool, ll: bool, lr: bool| {
        for (on, qx, qy, qw, qh) in [
            (ul, x, y, hw, hh),
            (ur, x + hw, y, w - hw, hh),
            (ll, x, y + hh, hw, h - hh),
            (lr, x + hw, y + hh, w - hw, h - hh),
        ] {
            if on {
                out.push(Rect::solid(qx, qy, qw, qh, color));
            }
        }
    };
    match cp {
        0x2580 => quad(true, true, false, false),
        0x2581..=0x2588 => {
            let n = eighth_h((cp - 0x2580) as f32);
            out.push(Rect::solid(x, y + h - n, w, n, color));
        }
        0x2589..=0x258f => out.push(Rect::solid(x, y, eighth_w((0x2590 - cp) as f32), h, color)),
        0x2590 => quad(false, true, false, true),
        0x2591..=0x2593 => {
            let alpha = (cp - 0x2590) as f32 * 0.25;
            out.push(Rect::solid(x, y, w, h, [color[0], color[1], color[2], color[3] * alpha]));
        }
        0x2594 => out.push(Rect::solid(x, y, w, eighth_h(1.0), color)),
        0x2595 => {
            let n = eighth_w(1.0);
            out.push(Rect::solid(x + w - n, y, n, h, color));
        }
        0x2596 => quad(false, false, true, false),
        0x2597 => quad(false, false, false, true),
        0x2598 => quad(true, false, false, false),
        0x2599 => quad(true, false, true, true),
        0x259a => quad(true, false, false, true),
        0x259b => quad(true, true, true, false),
        0x259c => quad(true, true, false, true),
        0x259d => quad(false, true, false, false),
        0x259e => quad(false, true, true, false),
        _ => quad(false, true, true, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: [f32; 4] = [1.0; 4];

    /// Rasterises solid rects into a coverage grid of `w`x`h` pixels.
    fn raster(rects: &[Rect], w: usize, h: usize) -> Vec<bool> {
        let mut px = vec![false; w * h];
        for r in rects {
            for yy in (r.pos[1] as usize)..((r.pos[1] + r.size[1]) as usize).min(h) {
                for xx in (r.pos[0] as usize)..((r.pos[0] + r.size[0]) as usize).min(w) {
                    px[yy * w + xx] = true;
                }
            }
        }
        px
    }

    #[test]
    fn table_covers_the_block() {
        assert!(is_geometry("─") && is_geometry("╬") && is_geometry("█") && is_geometry("\u{e0b0}"));
        assert!(!is_geometry("╱") && !is_geometry("a") && !is_geometry("──"));
    }

    #[test]
    fn horizontal_lines_meet_across_cells_at_every_size() {
        for (w, h, t) in [(7.0, 15.0, 1.0), (9.0, 19.0, 1.0), (10.0, 22.0, 2.0), (17.0, 37.0, 3.0)] {
            let mut rects = Vec::new();
            for (i, c) in "─┬─┼╋━".chars().enumerate() {
                push_rects(&mut rects, c, CellBox { x: i as f32 * w, y: 0.0, w, h }, t, WHITE);
            }
            let (pw, ph) = ((6.0 * w) as usize, h as usize);
            let px = raster(&rects, pw, ph);
            // The light line's rows are covered across the whole run.
            let row = ((h - t) / 2.0).floor() as usize;
            assert!((0..pw).all(|x| px[row * pw + x]), "gap at size {w}x{h}");
        }
    }

    #[test]
    fn vertical_lines_meet_across_rows_with_linespace() {
        for h in [15.0, 16.0, 21.0, 24.0] {
            let (w, t) = (9.0, 1.0);
            let mut rects = Vec::new();
            for (i, c) in "│├┼│".chars().enumerate() {
                push_rects(&mut rects, c, CellBox { x: 0.0, y: i as f32 * h, w, h }, t, WHITE);
            }
            let (pw, ph) = (w as usize, (4.0 * h) as usize);
            let px = raster(&rects, pw, ph);
            let col = ((w - t) / 2.0).floor() as usize;
            assert!((0..ph).all(|y| px[y * pw + col]), "gap at height {h}");
        }
    }

    #[test]
    fn corners_reach_exactly_the_edges_they_name() {
        let (w, h, t) = (10.0, 20.0, 1.0);
        let mut rects = Vec::new();
        push_rects(&mut rects, '┌', CellBox { x: 0.0, y: 0.0, w, h }, t, WHITE);
        let px = raster(&rects, 10, 20);
        assert!(px[9 * 10 + 9], "reaches the right edge");
        assert!(px[19 * 10 + 4], "reaches the bottom edge");
        assert!(!px[9 * 10], "nothing on the left edge");
        assert!(!px[4], "nothing on the top edge");
    }

    #[test]
    fn blocks_fill_their_fraction() {
        let mut rects = Vec::new();
        push_rects(&mut rects, '▄', CellBox { x: 0.0, y: 0.0, w: 8.0, h: 16.0 }, 1.0, WHITE);
        let px = raster(&rects, 8, 16);
        assert_eq!(px.iter().filter(|&&p| p).count(), 64);
        assert!(px[15 * 8] && !px[7 * 8]);
    }
}
