// Draws a float's layer (premultiplied colour) at a whole-pixel position,
// its corners rounded: pixels outside the rounded rectangle are left out,
// those on its edge weighted by how much of them it covers. Needs
// rounded_rect.wgsl before it.

struct Rounded {
    // xy: the viewport (the screen's size) in pixels; zw: where the
    // screen's top left is on the target.
    viewport: vec4<f32>,
    // Where the layer goes (x, y, width, height), in screen pixels.
    rect: vec4<f32>,
    // x: corner radius.
    params: vec4<f32>,
};

@group(0) @binding(0) var<uniform> rounded: Rounded;
@group(0) @binding(1) var layer: texture_2d<f32>;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
    return to_clip(quad_corner(vertex, rounded.rect), rounded.viewport.xy);
}

@fragment
fn fs_main(@builtin(position) pixel: vec4<f32>) -> @location(0) vec4<f32> {
    let at = pixel.xy - rounded.viewport.zw;
    let cover = rounded_rect_coverage(at, rounded.rect, rounded.params.x);
    if cover <= 0.0 {
        discard;
    }
    let last = vec2<i32>(textureDimensions(layer)) - vec2(1);
    let texel = clamp(vec2<i32>(floor(at - rounded.rect.xy)), vec2(0), last);
    return textureLoad(layer, texel, 0) * cover;
}
