// A floating window's soft drop shadow: the float's rounded rectangle,
// moved away from the light and blurred by a Gaussian of deviation `sigma`
// (the blur of a straight edge is exact: 1 - Φ(distance / sigma); corners
// are close to it), in black at `alpha`. Nothing is drawn under the float
// itself, so a translucent float is not darkened. Leaves premultiplied
// colour for the "over" blend. Needs rounded_rect.wgsl before it.

struct Shadow {
    // xy: the viewport (the screen's size) in pixels; zw: where the
    // screen's top left is on the target.
    viewport: vec4<f32>,
    // Where anything is drawn: the caster and its soft edge.
    quad: vec4<f32>,
    // Inside this nothing is drawn (the float, less its corners): the
    // quad is drawn as the four strips around it, one per instance.
    hole: vec4<f32>,
    // The shadow's rectangle before blurring (x, y, width, height).
    caster: vec4<f32>,
    // The float's own rectangle, left unshaded.
    float_rect: vec4<f32>,
    // x: corner radius, y: sigma, z: alpha.
    params: vec4<f32>,
};

@group(0) @binding(0) var<uniform> shadow: Shadow;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, @builtin(instance_index) strip: u32) -> @builtin(position) vec4<f32> {
    let q = shadow.quad;
    let h = shadow.hole;
    let top = h.y;
    let bottom = h.y + h.w;
    var rect: vec4<f32>;
    switch strip {
        case 0u: { rect = vec4(q.x, q.y, q.z, top - q.y); }
        case 1u: { rect = vec4(q.x, bottom, q.z, q.y + q.w - bottom); }
        case 2u: { rect = vec4(q.x, top, h.x - q.x, h.w); }
        default: { rect = vec4(h.x + h.z, top, q.x + q.z - h.x - h.z, h.w); }
    }
    return to_clip(quad_corner(vertex, vec4(rect.xy, max(rect.zw, vec2(0.0)))), shadow.viewport.xy);
}

@fragment
fn fs_main(@builtin(position) pixel: vec4<f32>) -> @location(0) vec4<f32> {
    let radius = shadow.params.x;
    let sigma = max(shadow.params.y, 0.01);
    let at = pixel.xy - shadow.viewport.zw;
    let d = rounded_rect_distance(at, shadow.caster, radius);
    let lit = 0.5 * (1.0 - erf_approx(d / (sigma * 1.41421356)));
    let outside = 1.0 - rounded_rect_coverage(at, shadow.float_rect, radius);
    let a = shadow.params.z * lit * outside;
    return vec4(0.0, 0.0, 0.0, a);
}
