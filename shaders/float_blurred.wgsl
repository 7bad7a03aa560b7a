// Draws a translucent float's layer (premultiplied colour) over the blur
// of what lies under it, its corners rounded: inside the rounded
// rectangle the float over the blurred region (scaled up from the blur's
// resolution with bilinear filtering), its edge weighted by coverage, so
// the "over" blend leaves the sharp screen outside. Needs rounded_rect.wgsl
// before it.

struct Float {
    // xy: the viewport (the screen's size) in pixels; zw: where the
    // screen's top left is on the target.
    viewport: vec4<f32>,
    // Where the layer goes (x, y, width, height), in screen pixels.
    rect: vec4<f32>,
    // x: corner radius; y: scale (screen pixels per blurred pixel).
    params: vec4<f32>,
    // xy: the screen pixel the blurred region starts at; zw: its used
    // size in blurred pixels.
    region: vec4<f32>,
    // xy: the blurred texture's whole size.
    texture_size: vec4<f32>,
};

@group(0) @binding(0) var<uniform> float: Float;
@group(0) @binding(1) var layer: texture_2d<f32>;
@group(0) @binding(2) var blurred: texture_2d<f32>;
@group(0) @binding(3) var linear: sampler;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
    return to_clip(quad_corner(vertex, float.rect), float.viewport.xy);
}

@fragment
fn fs_main(@builtin(position) pixel: vec4<f32>) -> @location(0) vec4<f32> {
    let on_screen = pixel.xy - float.viewport.zw;
    let cover = rounded_rect_coverage(on_screen, float.rect, float.params.x);
    if cover <= 0.0 {
        discard;
    }
    let last = vec2<i32>(textureDimensions(layer)) - vec2(1);
    let texel = clamp(vec2<i32>(floor(on_screen - float.rect.xy)), vec2(0), last);
    let top = textureLoad(layer, texel, 0);
    let at = clamp((on_screen - float.region.xy) / float.params.y, vec2(0.5), float.region.zw - vec2(0.5));
    let under = textureSampleLevel(blurred, linear, at / float.texture_size.xy, 0.0);
    return (top + (1.0 - top.a) * under) * cover;
}
