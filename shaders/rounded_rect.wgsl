// Shared by the float depth shaders (prepended to each): the signed
// distance from a pixel to a rounded rectangle, and an error function for
// soft shadows.

// Distance in pixels from `p` to the edge of `rect` (x, y, width, height)
// with corners of `radius`: negative inside, positive outside.
fn rounded_rect_distance(p: vec2<f32>, rect: vec4<f32>, radius: f32) -> f32 {
    let half = rect.zw * 0.5;
    let r = clamp(radius, 0.0, min(half.x, half.y));
    let q = abs(p - (rect.xy + half)) - half + vec2(r);
    return length(max(q, vec2(0.0))) + min(max(q.x, q.y), 0.0) - r;
}

// How much of the pixel centred on `p` the rounded rectangle covers, with a
// one-pixel soft edge.
fn rounded_rect_coverage(p: vec2<f32>, rect: vec4<f32>, radius: f32) -> f32 {
    return clamp(0.5 - rounded_rect_distance(p, rect, radius), 0.0, 1.0);
}

// The error function, to within 1.5e-7 (Abramowitz and Stegun 7.1.26).
fn erf_approx(x: f32) -> f32 {
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
    return sign(x) * (1.0 - poly * exp(-a * a));
}

// Pixel position on a target of `size` to clip space.
fn to_clip(pixel: vec2<f32>, size: vec2<f32>) -> vec4<f32> {
    return vec4(pixel.x / size.x * 2.0 - 1.0, 1.0 - pixel.y / size.y * 2.0, 0.0, 1.0);
}

// Corner `vertex` (0..6, two triangles) of the rect (x, y, width, height).
fn quad_corner(vertex: u32, rect: vec4<f32>) -> vec2<f32> {
    var unit = array<vec2<f32>, 6>(
        vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
        vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0),
    );
    return rect.xy + unit[vertex] * rect.zw;
}
