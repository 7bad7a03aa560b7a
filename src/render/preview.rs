//! A small frame drawn on the CPU instead of the GPU.
//!
//! On a CPU adapter (lavapipe) a frame costs about a millisecond of CPU
//! and waits for the driver to record, run and finish its passes, though
//! only a few cells changed. Where a frame changes only a few cells of the
//! windows and the message grid, or scrolls them and shows a few rows
//! anew, and the cursor (no float over them, no window sliding, no tint,
//! particles or text being composed), and the caller keeps the last frame
//! (`Keep::Moving`), `Renderer::encode` draws the changed spans here, from
//! the same shaped rows, rects and glyph images the GPU draws from, and
//! records no GPU commands: the shared-memory presenter shows the spans
//! (the rows the frame moves renamed as before). The layers' rows the
//! frame drew are `behind`, drawn whole by the next frame the GPU draws,
//! before anything is composed from them; the target's bands it composed
//! are left stale, as a scroll's moved rows are, until a frame composes
//! them. A whole frame into a target that holds nothing yet (a window's
//! first frame, or its first at a new size) is drawn here too, the
//! padding with it; the layers it made are cleared by the first pass the
//! GPU draws into them, and the target's padding by the next frame the
//! GPU draws. The two ways differ at most by rounding (see
//! `tests/render.rs`).
//!
//! ```text
//!   encode: rows shaped, composition planned
//!     ├─ small, or whole into a new target: spans drawn here → shown;
//!     │    rows behind (their text not prepared for the GPU), bands stale
//!     └─ else: text prepared, rows behind drawn, frame recorded → GPU,
//!          read back, shown
//! ```

use glyphon::cosmic_text::SwashContent;
use glyphon::{Buffer, Color, SwashCache};

use super::geometry::{self, Copy, RowRects};
use super::rects::{Kind, Rect};
use super::rows::Rows;
use super::smear::Quad;
use super::{Renderer, text};
use crate::model::{Frame, GridId};

/// The most pixels a frame drawn on the CPU may have: a typed key's cells
/// and the ruler's, a moved cursor, a scrolled line's new row and the
/// cursor's rows (about 65 000 in a 900 px wide window); larger changes
/// go to the GPU. Drawing on the CPU costs about 3 µs a thousand pixels,
/// a frame through lavapipe about a millisecond however small.
const MOST_PIXELS: u64 = 160_000;

/// The most pixels a whole frame drawn on the CPU may have (a target that
/// holds nothing yet: a window's first frame, or its first at a new
/// size; 1920x1200 fits). For a first frame of 900x600 lavapipe took 13
/// to 20 ms from submission to done (its first draws, every texture
/// touched for the first time), after waiting for its queue; drawn here
/// it takes about 5 ms, 3 of them rasterising its 50 glyphs.
const MOST_WHOLE_PIXELS: u64 = 2_400_000;

/// What `encode` leaves for a frame that can be drawn on the CPU.
pub(super) struct Plan {
    /// The spans composed, on the screen (inside the padding).
    pub spans: Vec<[u32; 4]>,
    /// The padding's left and top.
    pub pad: (u32, u32),
    /// The screen's size (inside the padding).
    pub screen: (u32, u32),
    /// For a frame that moves rows, or a whole frame: the spans are rows
    /// shown anew, drawn across the target, this many pixels wide (the
    /// padding included).
    pub across: Option<u32>,
    /// For a whole frame: the target's height (the padding above and
    /// below the screen is drawn too).
    pub target_height: Option<u32>,
    /// What lies under the layers.
    pub bg: [f32; 4],
    /// The message grid's copies to the screen, and its separator (drawn
    /// over the windows and under it).
    pub messages: Vec<(GridId, Vec<Copy>)>,
    pub separators: Vec<Rect>,
    pub cursor_rects: Vec<Rect>,
    /// The sliding cursor, drawn instead of its rects and glyph.
    pub smear: Option<Quad>,
    pub cursor_glyph: Option<(Buffer, f32, f32, Color)>,
}

impl Plan {
    /// Whether spans of this size are drawn on the CPU.
    pub fn small(spans: &[[u32; 4]]) -> bool {
        let area: u64 = spans.iter().map(|s| u64::from(s[2] - s[0]) * u64::from(s[3] - s[1])).sum();
        area > 0 && area <= MOST_PIXELS
    }

    /// Whether a whole frame into a target of this size that holds
    /// nothing yet is drawn on the CPU.
    pub fn whole_fits((width, height): (u32, u32)) -> bool {
        let area = u64::from(width) * u64::from(height);
        area > 0 && area <= MOST_WHOLE_PIXELS
    }
}

/// A frame's changed spans drawn on the CPU: each span of the target
/// (x0, y0, x1, y1) and its pixels, row by row, span after span, as
/// premultiplied ARGB (the shared-memory buffer's format).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Preview {
    pub spans: Vec<[u32; 4]>,
    pub pixels: Vec<u32>,
}

impl Preview {
    /// Writes the spans into `pixels`, rows `width` pixels long, placed
    /// by `rows`.
    pub fn write_to(&self, pixels: &mut [u32], rows: &Rows, width: usize) {
        let mut from = self.pixels.as_slice();
        for &[x0, y0, x1, y1] in &self.spans {
            let len = (x1 - x0) as usize;
            for y in y0..y1 {
                let (row, rest) = from.split_at(len);
                let at = rows.at(y) as usize * width + x0 as usize;
                pixels[at..at + len].copy_from_slice(row);
                from = rest;
            }
        }
    }
}

impl Renderer {
    /// The last encoded frame drawn on the CPU, where `encode` found it
    /// simple enough (see the module), `previews` is on and the target
    /// kept the last frame (`Keep::Moving`); `None` otherwise. Where it
    /// is `Some`, its commands were not recorded: the caller shows this.
    pub fn preview(&mut self) -> Option<Preview> {
        self.previewed.take()
    }

    /// `plan`'s spans drawn; `None` where something in them is not drawn
    /// on the CPU (a colour emoji, an undercurl, blended rows).
    pub(super) fn draw_preview(&mut self, frame: &Frame, plan: &Plan) -> Option<Preview> {
        let m = self.fonts.metrics();
        let ch = m.height.max(1);
        let default_color = text::color(frame.defaults.fg);
        let mut out = Preview::default();
        let mut rects = RowRects::default();
        let windows = self.last_shown.iter().map(|s| (s.grid, &s.copies[..]));
        let messages = plan.messages.iter().map(|(grid, copies)| (*grid, &copies[..]));
        let layers: Vec<(GridId, &[Copy])> = windows.chain(messages).collect();
        let (left, top) = (i64::from(plan.pad.0), i64::from(plan.pad.1));
        // The cursor and the separators are cut to the screen, as the
        // GPU's viewport cuts them.
        let whole = Area::new([0, 0], [plan.screen.0, plan.screen.1]);
        for &span in &plan.spans {
            let [x0, y0, x1, y1] = span;
            // A row shown anew holds nothing of the last frame: the
            // padding beside the screen is drawn too, and in a whole
            // frame the padding above and below it.
            let mut area = Area { x0: x0.into(), y0: y0.into(), x1: x1.into(), y1: y1.into() };
            if let Some(target_width) = plan.across {
                (area.x0, area.x1) = (-left, i64::from(target_width) - left);
            }
            if let Some(target_height) = plan.target_height {
                (area.y0, area.y1) = (-top, i64::from(target_height) - top);
            }
            let mut canvas = Canvas::new(area, plan.bg);
            for (n, &(grid, copies)) in layers.iter().enumerate() {
                if n == self.last_shown.len() {
                    canvas.rects(&plan.separators, (0, 0), whole, true)?;
                }
                let layer = self.layers.get(&grid)?;
                let size = (layer.texture.width(), layer.texture.height());
                let cols = size.0.div_ceil(m.width.max(1)) as usize;
                for copy in copies.iter().filter_map(|c| c.clip(span)) {
                    let shift = (
                        i64::from(copy.dst[0]) - i64::from(copy.src[0]),
                        i64::from(copy.dst[1]) - i64::from(copy.src[1]),
                    );
                    let first = copy.src[1] / ch;
                    let last = (copy.src[1] + copy.size[1] - 1) / ch;
                    for slot in first as usize..=last as usize {
                        let row = layer.drawn.get(slot)?.as_ref()?;
                        let shaped = layer.shaped.get(slot)?.as_ref()?;
                        if !layer.mixed.get(slot)?.is_empty() {
                            return None;
                        }
                        let top = slot as u32 * ch;
                        // The row's pixels on screen, inside the copy.
                        let band = Area::new(copy.dst, copy.size).cut(Area {
                            x0: i64::MIN,
                            y0: i64::from(top) + shift.1,
                            x1: i64::MAX,
                            y1: i64::from(top + ch) + shift.1,
                        });
                        rects.replace.clear();
                        rects.over.clear();
                        geometry::row_rects(frame, row, slot, cols, m, self.opacity, &mut rects);
                        canvas.rects(&rects.replace, shift, band, false)?;
                        canvas.rects(&rects.over, shift, band, true)?;
                        // As the layer's text is drawn: cut to its row.
                        let bounds = Area {
                            x0: 0,
                            y0: i64::from(top),
                            x1: i64::from(size.0),
                            y1: i64::from(top + ch),
                        };
                        for (x, buffer) in shaped.buffers() {
                            let at = (x, top as f32);
                            let glyphs = Glyphs { buffer, at, bounds, color: default_color };
                            canvas.text(&mut self.swash, &mut self.fonts.system, glyphs, shift, band)?;
                        }
                    }
                }
            }
            if layers.len() == self.last_shown.len() {
                canvas.rects(&plan.separators, (0, 0), whole, true)?;
            }
            canvas.rects(&plan.cursor_rects, (0, 0), whole, true)?;
            if let Some(quad) = &plan.smear {
                canvas.quad(quad);
            }
            if let Some((buffer, x, y, color)) = &plan.cursor_glyph {
                let bounds = Area {
                    x0: (*x as i64).max(0),
                    y0: (*y as i64).max(0),
                    x1: i64::from(plan.screen.0),
                    y1: (*y as i64).saturating_add(i64::from(ch)).min(i64::from(plan.screen.1)),
                };
                let glyphs = Glyphs { buffer, at: (*x, *y), bounds, color: *color };
                canvas.text(&mut self.swash, &mut self.fonts.system, glyphs, (0, 0), whole)?;
            }
            // On the target: moved by the padding.
            let on_target = |v: i64, by: i64| (v + by) as u32;
            let Area { x0, y0, x1, y1 } = canvas.area;
            out.spans.push([
                on_target(x0, left),
                on_target(y0, top),
                on_target(x1, left),
                on_target(y1, top),
            ]);
            match out.pixels.is_empty() {
                true => out.pixels = canvas.pixels,
                false => out.pixels.extend_from_slice(&canvas.pixels),
            }
        }
        Some(out)
    }
}

/// A rectangle of pixels, x0..x1 by y0..y1 (empty when either is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Area {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Area {
    fn new(pos: [u32; 2], size: [u32; 2]) -> Area {
        let (x0, y0) = (i64::from(pos[0]), i64::from(pos[1]));
        Area { x0, y0, x1: x0 + i64::from(size[0]), y1: y0 + i64::from(size[1]) }
    }

    /// The pixels whose centres `rect` covers, as a rasteriser fills the
    /// two triangles of its quad.
    fn covered(rect: &Rect) -> Area {
        let first = |v: f32| (v - 0.5).ceil() as i64;
        Area {
            x0: first(rect.pos[0]),
            y0: first(rect.pos[1]),
            x1: first(rect.pos[0] + rect.size[0]),
            y1: first(rect.pos[1] + rect.size[1]),
        }
    }

    fn cut(self, other: Area) -> Area {
        Area {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
    }

    fn shifted(self, (dx, dy): (i64, i64)) -> Area {
        Area { x0: self.x0 + dx, y0: self.y0 + dy, x1: self.x1 + dx, y1: self.y1 + dy }
    }
}

/// One buffer's glyphs as glyphon draws them: its layout at `at`, cut
/// to `bounds`, glyphs without a colour of their own in `color`.
struct Glyphs<'a> {
    buffer: &'a Buffer,
    at: (f32, f32),
    bounds: Area,
    color: Color,
}

/// One span's pixels, premultiplied, as 0xAARRGGBB.
struct Canvas {
    area: Area,
    pixels: Vec<u32>,
}

impl Canvas {
    fn new(area: Area, bg: [f32; 4]) -> Canvas {
        let count = (area.x1 - area.x0) as usize * (area.y1 - area.y0) as usize;
        Canvas { area, pixels: vec![argb(premultiplied(bg)); count] }
    }

    /// Each pixel of `area` (cut to the canvas) given to `paint`.
    fn each(&mut self, area: Area, mut paint: impl FnMut(&mut u32, i64, i64)) {
        let cut = area.cut(self.area);
        if cut.x0 >= cut.x1 {
            return;
        }
        let width = (self.area.x1 - self.area.x0) as usize;
        for y in cut.y0..cut.y1 {
            let start = (y - self.area.y0) as usize * width + (cut.x0 - self.area.x0) as usize;
            let row = &mut self.pixels[start..start + (cut.x1 - cut.x0) as usize];
            for (px, x) in row.iter_mut().zip(cut.x0..) {
                paint(px, x, y);
            }
        }
    }

    /// Solid rects moved by `shift`, inside `clip`, replacing what is
    /// under them or over it. `None` for any other kind of rect.
    fn rects(&mut self, rects: &[Rect], shift: (i64, i64), clip: Area, over: bool) -> Option<()> {
        for rect in rects {
            if rect.kind != Kind::Solid as u32 {
                return None;
            }
            let area = Area::covered(rect);
            let color = premultiplied(rect.color);
            let src = argb(color);
            let area = area.shifted(shift).cut(clip);
            match over && rect.color[3] < 1.0 {
                false => self.each(area, |px, _, _| *px = src),
                true => self.each(area, |px, _, _| *px = over_premultiplied(color, *px)),
            }
        }
        Some(())
    }

    /// The sliding cursor's quadrilateral over what is there, its
    /// coverage found as `shaders/smear.wgsl` finds it: the distance from
    /// each pixel's centre to the nearest edge, signed by an even-odd test.
    fn quad(&mut self, quad: &Quad) {
        let area = Area::covered(&quad.bounds());
        let corners = quad.corners;
        let antialiased = quad.flags[0] > 0.5;
        let [r, g, b, alpha] = quad.color;
        self.each(area, |px, x, y| {
            let p = [x as f32 + 0.5, y as f32 + 0.5];
            let (mut distance, mut inside) = (f32::MAX, false);
            for i in 0..4 {
                let (a, b) = (corners[i], corners[(i + 1) % 4]);
                distance = distance.min(segment_distance(p, a, b));
                if (a[1] > p[1]) != (b[1] > p[1])
                    && p[0] < a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0])
                {
                    inside = !inside;
                }
            }
            let coverage = match (antialiased, inside) {
                (true, true) => (distance + 0.5).clamp(0.0, 1.0),
                (true, false) => (0.5 - distance).clamp(0.0, 1.0),
                (false, inside) => f32::from(u8::from(inside)),
            };
            let a = alpha * coverage;
            if a > 0.0 {
                *px = over_premultiplied([r * a, g * a, b * a, a], *px);
            }
        });
    }

    /// `glyphs` moved by `shift`, inside `clip`, blended over what is
    /// there as glyphon's text pipeline blends them. `None` for a glyph
    /// image other than a coverage mask (colour emoji wait for the GPU).
    fn text(
        &mut self,
        swash: &mut SwashCache,
        fonts: &mut glyphon::FontSystem,
        glyphs: Glyphs,
        shift: (i64, i64),
        clip: Area,
    ) -> Option<()> {
        let Glyphs { buffer, at, bounds, color } = glyphs;
        // The columns drawn, where the glyphs are laid out.
        let (from, to) =
            (clip.x0.max(bounds.x0 + shift.0) - shift.0, clip.x1.min(bounds.x1 + shift.0) - shift.0);
        for run in buffer.layout_runs() {
            let line_top = (at.1 + run.line_top) as i64;
            if line_top > bounds.y1 || line_top + (run.line_height as i64) < bounds.y0 {
                continue;
            }
            for glyph in run.glyphs {
                let physical = glyph.physical(at, 1.0);
                // Glyphs far from the pixels drawn are not looked at (a
                // glyph's ink reaches at most about its size past it).
                let (x, reach) = (i64::from(physical.x), (glyph.font_size * 2.0) as i64);
                if x + (glyph.w as i64) + reach < from || x - reach > to {
                    continue;
                }
                let Some(image) = text::glyph_image(swash, fonts, physical.cache_key) else { continue };
                if image.placement.width == 0 || image.placement.height == 0 {
                    continue;
                }
                if image.content != SwashContent::Mask {
                    return None;
                }
                let (w, h) = (i64::from(image.placement.width), i64::from(image.placement.height));
                let x = x + i64::from(image.placement.left);
                let y = i64::from(run.line_y.round() as i32 + physical.y) - i64::from(image.placement.top);
                let place = Area { x0: x, y0: y, x1: x + w, y1: y + h };
                let c = glyph.color_opt.unwrap_or(color);
                let data = &image.data;
                self.each(place.cut(bounds).shifted(shift).cut(clip), |px, sx, sy| {
                    let (gx, gy) = (sx - shift.0 - x, sy - shift.1 - y);
                    let coverage = u32::from(data[(gy * w + gx) as usize]);
                    if coverage > 0 {
                        *px = over_straight(c, *px, coverage);
                    }
                });
            }
        }
        Some(())
    }
}

fn premultiplied([r, g, b, a]: [f32; 4]) -> [f32; 4] {
    [r * a, g * a, b * a, a]
}

/// The distance from `p` to the segment from `a` to `b`.
fn segment_distance(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let ap = [p[0] - a[0], p[1] - a[1]];
    let t = ((ap[0] * ab[0] + ap[1] * ab[1]) / (ab[0] * ab[0] + ab[1] * ab[1]).max(1e-6)).clamp(0.0, 1.0);
    let (dx, dy) = (p[0] - (a[0] + ab[0] * t), p[1] - (a[1] + ab[1] * t));
    (dx * dx + dy * dy).sqrt()
}

/// A pixel as the shared-memory buffer holds it: 0xAARRGGBB.
fn argb([r, g, b, a]: [f32; 4]) -> u32 {
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u32;
    byte(a) << 24 | byte(r) << 16 | byte(g) << 8 | byte(b)
}

/// `x * y / 255`, rounded, for bytes.
fn mul(x: u32, y: u32) -> u32 {
    (x * y + 127) / 255
}

/// Premultiplied `src` over `dst`.
fn over_premultiplied(src: [f32; 4], dst: u32) -> u32 {
    let channel = |i: usize, shift: u32| src[i] + ((dst >> shift) & 0xff) as f32 / 255.0 * (1.0 - src[3]);
    argb([channel(0, 16), channel(1, 8), channel(2, 0), channel(3, 24)])
}

/// Glyph colour `c` (straight) at `coverage` (0..=255) of its alpha over
/// `dst`: its colour by that alpha, the alpha added.
fn over_straight(c: Color, dst: u32, coverage: u32) -> u32 {
    let a = mul(u32::from(c.a()), coverage);
    let keep = 255 - a;
    let mix =
        |src: u8, shift: u32| ((u32::from(src) * a + ((dst >> shift) & 0xff) * keep + 127) / 255) << shift;
    let alpha = (a + mul(dst >> 24, keep)).min(255);
    alpha << 24 | mix(c.r(), 16) | mix(c.g(), 8) | mix(c.b(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rects_fill_the_pixels_whose_centres_they_cover() {
        let mut canvas = Canvas::new(Area { x0: 0, y0: 0, x1: 4, y1: 2 }, [0.0, 0.0, 0.0, 1.0]);
        let white = [1.0, 1.0, 1.0, 1.0];
        // 1.4..2.6 covers the centres 1.5 and 2.5; the second row only.
        let rect = Rect::solid(1.4, 1.0, 1.2, 5.0, white);
        let whole = Area { x0: i64::MIN, y0: i64::MIN, x1: i64::MAX, y1: i64::MAX };
        canvas.rects(&[rect], (0, 0), whole, false).expect("solid");
        let (k, w) = (0xff00_0000, 0xffff_ffff);
        assert_eq!(canvas.pixels, vec![k, k, k, k, k, w, w, k]);
        // Half-transparent red over it, moved one pixel left and one
        // down, cut to x < 2.
        let red = Rect::solid(1.0, 0.0, 2.0, 1.0, [1.0, 0.0, 0.0, 0.5]);
        let clip = Area { x1: 2, ..whole };
        canvas.rects(&[red], (-1, 1), clip, true).expect("solid");
        assert_eq!(canvas.pixels, vec![k, k, k, k, 0xff80_0000, 0xffff_8080, w, k]);
        // Other kinds of rect are left to the GPU.
        let curl = Rect::shaped(0.0, 0.0, 4.0, 2.0, white, Kind::Curl, 1.0);
        assert_eq!(canvas.rects(&[curl], (0, 0), whole, true), None);
    }

    #[test]
    fn glyph_coverage_blends_its_colour_over_the_pixel() {
        let white = Color::rgb(255, 255, 255);
        assert_eq!(over_straight(white, 0xff00_0000, 0), 0xff00_0000);
        assert_eq!(over_straight(white, 0xff00_0000, 255), 0xffff_ffff);
        assert_eq!(over_straight(white, 0xff00_0000, 128), 0xff80_8080);
        // Half of a half-transparent colour.
        assert_eq!(over_straight(Color::rgba(255, 0, 0, 128), 0xff00_00ff, 255), 0xff80_007f);
    }

    #[test]
    fn only_small_changes_are_drawn_on_the_cpu() {
        assert!(Plan::small(&[[0, 0, 18, 20], [0, 580, 900, 600]]));
        // A scrolled line's rows at 900 px: the new row, the cursor's, the ruler's.
        assert!(Plan::small(&[[0, 0, 900, 40], [0, 540, 900, 580]]));
        assert!(!Plan::small(&[[0, 0, 900, 200]]));
        assert!(!Plan::small(&[]));
    }
}
