// Draws one grid layer (an offscreen texture holding that grid's pixels) at
// a pixel position on the target. Layers hold premultiplied colour.

struct Globals {
    viewport_size: vec2<f32>,
};

struct Placement {
    // Top-left on the target and size, in pixels.
    pos: vec2<f32>,
    size: vec2<f32>,
    // The text's rect in the layer (x0, y0, x1, y1), between the margins.
    text: vec4<f32>,
    // Scroll offset, ring height, ring base, bottom margin's texture row.
    scroll: vec4<f32>,
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
    let p = floor(v.texel);
    let text = placement.text;
    var y = p.y;
    if (p.y >= text.y && p.y < text.w) {
        // The text rows live in a ring of texture rows; scrolling moves
        // them by the offset, the side margins (borders) stay.
        var row = p.y - text.y;
        if (p.x >= text.x && p.x < text.z) {
            row = row + placement.scroll.x;
        }
        let ring = placement.scroll.y;
        let turned = row + placement.scroll.z;
        y = text.y + turned - floor(turned / ring) * ring;
    } else if (p.y >= text.w) {
        y = p.y - text.w + placement.scroll.w;
    }
    return textureLoad(layer, vec2<i32>(i32(p.x), i32(y)), 0);
}
