// Draws one grid layer (an offscreen texture holding that grid's pixels) at
// a pixel position on the target. Layers hold premultiplied colour.

struct Globals {
    viewport_size: vec2<f32>,
};

struct Placement {
    // Top-left on the target and size, in pixels.
    pos: vec2<f32>,
    size: vec2<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;
@group(1) @binding(0) var<uniform> placement: Placement;
@group(1) @binding(1) var layer: texture_2d<f32>;

struct Varyings {
    @builtin(position) clip: vec4<f32>,
    @location(0) texel: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> Varyings {
    var corners = array<vec2<f32>, 6>(
        vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
        vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0),
    );
    let corner = corners[vertex];
    let pixel = placement.pos + corner * placement.size;
    var out: Varyings;
    out.clip = vec4(pixel.x / globals.viewport_size.x * 2.0 - 1.0, 1.0 - pixel.y / globals.viewport_size.y * 2.0, 0.0, 1.0);
    out.texel = corner * placement.size;
    return out;
}

@fragment
fn fs_main(v: Varyings) -> @location(0) vec4<f32> {
    // Whole-pixel placement: fetch texels 1:1, no filtering, so text stays crisp.
    return textureLoad(layer, vec2<i32>(floor(v.texel)), 0);
}
