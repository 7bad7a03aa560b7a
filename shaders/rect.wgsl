// Instanced rectangles: backgrounds, cursor, decorations and box drawing.
// One instance = one rect; `kind` selects what the fragment stage draws
// inside it. Colours arrive straight (not premultiplied) and leave
// premultiplied, for `src + dst * (1 - src.a)` blending.

struct Globals {
    // Target size in pixels.
    viewport_size: vec2<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;

struct Instance {
    @location(0) pos: vec2<f32>,
    @location(1) size: vec2<f32>,
    @location(2) color: vec4<f32>,
    @location(3) kind: u32,
    // Kind-specific: stroke thickness for curls and arcs.
    @location(4) param: f32,
};

struct Varyings {
    @builtin(position) clip: vec4<f32>,
    // Pixel offset inside the rect.
    @location(0) local: vec2<f32>,
    @location(1) size: vec2<f32>,
    // Flat: one colour a rect. (Interpolated, lavapipe of Mesa 22.3 drew
    // fs_solid into a BGRA target with red taken from blue.)
    @location(2) @interpolate(flat) color: vec4<f32>,
    @location(3) @interpolate(flat) kind: u32,
    @location(4) param: f32,
};

const KIND_SOLID: u32 = 0u;
const KIND_CURL: u32 = 1u;
// Powerline: solid triangles pointing right / left.
const KIND_TRIANGLE_RIGHT: u32 = 2u;
const KIND_TRIANGLE_LEFT: u32 = 3u;
// Rounded box corners (╭ ╮ ╰ ╯): a quarter circle of radius = half the cell,
// centred on the cell corner named by the kind.
const KIND_ARC_DOWN_RIGHT: u32 = 4u;
const KIND_ARC_DOWN_LEFT: u32 = 5u;
const KIND_ARC_UP_LEFT: u32 = 6u;
const KIND_ARC_UP_RIGHT: u32 = 7u;
// Cursor particles: a filled circle, and a circle's outline `param` thick,
// each as large as fits the rect.
const KIND_DISC: u32 = 8u;
const KIND_RING: u32 = 9u;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, inst: Instance) -> Varyings {
    // Two triangles covering the unit square.
    var corners = array<vec2<f32>, 6>(
        vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
        vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0),
    );
    let corner = corners[vertex];
    let pixel = inst.pos + corner * inst.size;
    let ndc = vec2(pixel.x / globals.viewport_size.x * 2.0 - 1.0, 1.0 - pixel.y / globals.viewport_size.y * 2.0);
    var out: Varyings;
    out.clip = vec4(ndc, 0.0, 1.0);
    out.local = corner * inst.size;
    out.size = inst.size;
    out.color = inst.color;
    out.kind = inst.kind;
    out.param = inst.param;
    return out;
}

fn arc_coverage(p: vec2<f32>, center: vec2<f32>, radius: f32, stroke: f32) -> f32 {
    let d = abs(distance(p, center) - radius);
    return clamp(stroke * 0.5 + 0.5 - d, 0.0, 1.0);
}

// Solid rects, nearly all of them, have a stage of their own: a CPU
// rasteriser runs every case of the switch below for every pixel.
@fragment
fn fs_solid(v: Varyings) -> @location(0) vec4<f32> {
    return vec4(v.color.rgb * v.color.a, v.color.a);
}

@fragment
fn fs_main(v: Varyings) -> @location(0) vec4<f32> {
    var coverage = 1.0;
    let p = v.local;
    let s = v.size;
    switch v.kind {
        case KIND_CURL: {
            // The amplitude keeps the stroke inside the rect.
            let stroke = v.param;
            let amplitude = (s.y - stroke) * 0.5;
            // One period per rect; curls are emitted one per cell, so the wave
            // continues seamlessly across a run of cells.
            let period = s.x;
            let y = s.y * 0.5 - amplitude * sin(p.x / period * 6.2831853);
            coverage = clamp(stroke * 0.5 + 0.5 - abs(p.y - y), 0.0, 1.0);
        }
        case KIND_TRIANGLE_RIGHT: {
            // Left edge full height, tip at the right middle.
            let half = s.y * 0.5 * (1.0 - p.x / s.x);
            coverage = clamp(half - abs(p.y - s.y * 0.5) + 0.5, 0.0, 1.0);
        }
        case KIND_TRIANGLE_LEFT: {
            let half = s.y * 0.5 * (p.x / s.x);
            coverage = clamp(half - abs(p.y - s.y * 0.5) + 0.5, 0.0, 1.0);
        }
        case KIND_ARC_DOWN_RIGHT: {
            coverage = arc_coverage(p, vec2(s.x, s.y), min(s.x, s.y) * 0.5, v.param);
        }
        case KIND_ARC_DOWN_LEFT: {
            coverage = arc_coverage(p, vec2(0.0, s.y), min(s.x, s.y) * 0.5, v.param);
        }
        case KIND_ARC_UP_LEFT: {
            coverage = arc_coverage(p, vec2(0.0, 0.0), min(s.x, s.y) * 0.5, v.param);
        }
        case KIND_ARC_UP_RIGHT: {
            coverage = arc_coverage(p, vec2(s.x, 0.0), min(s.x, s.y) * 0.5, v.param);
        }
        case KIND_DISC: {
            let r = min(s.x, s.y) * 0.5;
            coverage = clamp(r - distance(p, s * 0.5) + 0.5, 0.0, 1.0);
        }
        case KIND_RING: {
            let stroke = v.param;
            coverage = arc_coverage(p, s * 0.5, max(min(s.x, s.y) * 0.5 - stroke * 0.5, 0.0), stroke);
        }
        default: {}
    }
    let a = v.color.a * coverage;
    return vec4(v.color.rgb * a, a);
}
