// One direction of a separable Gaussian blur of what lies under a float,
// at `scale` times less resolution than the screen (see `blur_scale` in
// src/render/depth.rs). Across: reads a copy of the screen region around
// the float; each tap averages the scale x scale block under it (filtered
// fetches of 2x2 texels each), so this pass also scales the region down.
// Down: reads the across pass's output at its own resolution. Weights come
// precomputed (symmetric: weights[|i|]); positions are clamped to the
// region, so the screen's edge does not bleed in black. Needs
// rounded_rect.wgsl before it.

struct Blur {
    // xy: the viewport (the target's size) in pixels.
    viewport: vec4<f32>,
    // The area drawn, in target pixels.
    quad: vec4<f32>,
    // xy: the direction (1, 0) or (0, 1); z: scale (source pixels per
    // target pixel); w: taps each side.
    params: vec4<f32>,
    // xy: the used part of the source, in its pixels; zw: the whole
    // source texture's size.
    source: vec4<f32>,
    weights: array<vec4<f32>, 16>,
};

@group(0) @binding(0) var<uniform> blur: Blur;
@group(0) @binding(1) var source: texture_2d<f32>;
@group(0) @binding(2) var linear: sampler;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
    return to_clip(quad_corner(vertex, blur.quad), blur.viewport.xy);
}

fn weight(i: i32) -> f32 {
    let k = abs(i);
    return blur.weights[k / 4][k % 4];
}

@fragment
fn fs_main(@builtin(position) pixel: vec4<f32>) -> @location(0) vec4<f32> {
    let scale = blur.params.z;
    let dir = blur.params.xy;
    let taps = i32(blur.params.w);
    let lo = vec2(scale * 0.5);
    let hi = blur.source.xy - lo;
    // The centre of the source block under this pixel.
    let centre = pixel.xy * scale;
    // Fetches per side of a block: each averages 2x2 texels.
    let n = max(i32(scale) / 2, 1);
    let first = select(vec2(0.0), vec2(1.0 - scale * 0.5), scale >= 2.0);
    var sum = vec4(0.0);
    for (var i = -taps; i <= taps; i++) {
        let tap = centre + dir * (f32(i) * scale);
        var block = vec4(0.0);
        for (var j = 0; j < n; j++) {
            for (var k = 0; k < n; k++) {
                let at = clamp(tap + first + 2.0 * vec2(f32(j), f32(k)), lo, hi);
                block += textureSampleLevel(source, linear, at / blur.source.zw, 0.0);
            }
        }
        sum += weight(i) * block / f32(n * n);
    }
    return sum;
}
