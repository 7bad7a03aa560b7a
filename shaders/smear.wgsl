// The moving cursor: one quadrilateral per instance, given by its four
// corners in pixels (clockwise from the top left), filled with
// anti-aliased edges. The corners of a sliding cursor lag one another, so
// the shape may be any simple quadrilateral, convex or not: coverage comes
// from the distance to the nearest edge, signed by an even-odd test.
// Colours arrive straight and leave premultiplied.

struct Globals {
    viewport_size: vec2<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;

struct Instance {
    @location(0) p01: vec4<f32>,
    @location(1) p23: vec4<f32>,
    @location(2) color: vec4<f32>,
    // x: 1 for anti-aliased edges, 0 for hard ones.
    @location(3) flags: vec4<f32>,
};

struct Varyings {
    @builtin(position) clip: vec4<f32>,
    @location(0) pixel: vec2<f32>,
    @location(1) @interpolate(flat) p01: vec4<f32>,
    @location(2) @interpolate(flat) p23: vec4<f32>,
    @location(3) @interpolate(flat) color: vec4<f32>,
    @location(4) @interpolate(flat) aa: f32,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, inst: Instance) -> Varyings {
    // The corners' bounding box, one pixel wider for the soft edge.
    let lo = min(min(inst.p01.xy, inst.p01.zw), min(inst.p23.xy, inst.p23.zw)) - vec2(1.0);
    let hi = max(max(inst.p01.xy, inst.p01.zw), max(inst.p23.xy, inst.p23.zw)) + vec2(1.0);
    var unit = array<vec2<f32>, 6>(
        vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
        vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0),
    );
    let pixel = lo + unit[vertex] * (hi - lo);
    var out: Varyings;
    out.clip = vec4(pixel.x / globals.viewport_size.x * 2.0 - 1.0, 1.0 - pixel.y / globals.viewport_size.y * 2.0, 0.0, 1.0);
    out.pixel = pixel;
    out.p01 = inst.p01;
    out.p23 = inst.p23;
    out.color = inst.color;
    out.aa = inst.flags.x;
    return out;
}

// Distance from p to the segment a-b.
fn segment_distance(p: vec2<f32>, a: vec2<f32>, b: vec2<f32>) -> f32 {
    let ab = b - a;
    let t = clamp(dot(p - a, ab) / max(dot(ab, ab), 1e-6), 0.0, 1.0);
    return distance(p, a + ab * t);
}

// Whether the ray from p to the right crosses the edge a-b.
fn crosses(p: vec2<f32>, a: vec2<f32>, b: vec2<f32>) -> bool {
    if (a.y > p.y) == (b.y > p.y) {
        return false;
    }
    let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
    return p.x < x;
}

@fragment
fn fs_main(v: Varyings) -> @location(0) vec4<f32> {
    let p = v.pixel;
    var corners = array<vec2<f32>, 4>(v.p01.xy, v.p01.zw, v.p23.xy, v.p23.zw);
    var d = 1e9;
    var inside = false;
    for (var i = 0u; i < 4u; i++) {
        let a = corners[i];
        let b = corners[(i + 1u) % 4u];
        d = min(d, segment_distance(p, a, b));
        if crosses(p, a, b) {
            inside = !inside;
        }
    }
    let signed = select(-d, d, inside);
    var coverage = select(0.0, 1.0, inside);
    if v.aa > 0.5 {
        coverage = clamp(signed + 0.5, 0.0, 1.0);
    }
    let a = v.color.a * coverage;
    return vec4(v.color.rgb * a, a);
}
