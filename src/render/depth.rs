//! Floating windows with depth: a soft drop shadow, rounded corners and a
//! blur of what lies under a translucent float (the `floating_*`,
//! `light_*` knobs).
//!
//! ```text
//!   compose, per damaged region, per layer in z order:
//!     a float whose footprint the region crosses:
//!       1. blur   copy the screen region under it (its rect and the
//!                 kernel's reach, cut to the screen) ──► blur targets:
//!                 horizontal pass, scaling it down ──► vertical pass
//!       2. shadow the float's rounded rect, moved away from the light and
//!                 blurred, drawn outside the float only
//!       3. float  its layer over the blurred region (scaled back up),
//!                 inside its rounded rect (the plain composite when it is
//!                 square and not blurred)
//! ```
//!
//! A shadow and round corners are drawn pixel by pixel from the float's
//! rect alone, so a damaged band that crosses them draws its part of them
//! and needs nothing more. A blur reads the screen: a blurred float's
//! footprint (float ∪ shadow ∪ the blur's source) is composed whole, a
//! band that touches it widened to all of it, in the footprint's columns
//! only ([`compose_regions`]), so the blur never reads a half-composed
//! screen and a change under it recomposes the float too. Blur targets
//! are three textures: a copy of the largest region blurred, and two at
//! the blur's resolution (a quarter across and down at the default, see
//! [`blur_scale`]), shared by every float and frame and dropped when no
//! visible float is blurred. Nothing here animates: with nothing new from
//! nvim nothing is drawn.
//!
//! The geometry (shadow offset and softness, corner radius, regions) is
//! pure and tested without a device; the passes follow.

use std::cell::OnceCell;

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::font::CellMetrics;
use super::geometry::{self, Opacity};
use super::rects::{PREMULTIPLIED_OVER, PipelineParts, pipeline, texture_entry, uniform_entry};
use crate::model::Frame;
use crate::model::compose::{self, LayerKind};

/// How dark a shadow is where the float blocks all the light.
pub const SHADOW_ALPHA: f32 = 0.4;
/// The largest light angle the geometry takes (the `light_angle_degrees`
/// knob's bound): at 90° the shadow would fall infinitely far.
pub const MAX_LIGHT_ANGLE: f32 = 80.0;
/// The most blur taps on each side of a pixel (3 sigma of the largest
/// `floating_blur_amount_*`, 20).
pub const MAX_BLUR_TAPS: u32 = 60;

/// The float depth knobs, as the renderer draws them. The default is flat
/// (nothing drawn beyond what the float holds); the settings' defaults
/// ([`crate::settings::Settings::depth`]) turn shadow and blur on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Depth {
    /// Floats cast a shadow.
    pub shadow: bool,
    /// How high floats hover over the grid, in pixels.
    pub z_height: f32,
    /// The light's angle from the screen's normal, tilted toward the top
    /// of the screen, in degrees.
    pub light_angle_degrees: f32,
    /// The light's radius: a bigger light softens the shadow.
    pub light_radius: f32,
    /// Corner radius as a fraction of a line's height.
    pub corner_radius: f32,
    /// The blur's Gaussian deviation across and down, in pixels (0: none).
    pub blur: [f32; 2],
}

impl Depth {
    /// Floats drawn flat, as nvim's own compositor does.
    pub const FLAT: Depth = Depth {
        shadow: false,
        z_height: 0.0,
        light_angle_degrees: 0.0,
        light_radius: 0.0,
        corner_radius: 0.0,
        blur: [0.0, 0.0],
    };

    /// The shadow a float casts, `None` when off or when it lies flat.
    ///
    /// ```text
    ///        light  ╲ angle θ from the screen's normal, from the top
    ///                ╲
    ///   float ▀▀▀▀▀▀▀▀╲    z above the grid
    ///   grid  ░░░░░░░░░▓▓  shadow moved down z·tan θ, its edge blurred
    ///                      by light_radius · z / 10 (σ)
    /// ```
    pub fn shadow(&self) -> Option<Shadow> {
        let z = finite(self.z_height);
        if !self.shadow || z <= 0.0 {
            return None;
        }
        let angle = finite(self.light_angle_degrees).clamp(0.0, MAX_LIGHT_ANGLE).to_radians();
        let sigma = (finite(self.light_radius) * z / 10.0).max(0.5);
        Some(Shadow { offset: [0.0, z * angle.tan()], sigma, alpha: SHADOW_ALPHA })
    }

    /// The corner radius in pixels for a float of `size` pixels: the
    /// fraction of `line_height`, at most half the float's smaller side.
    pub fn corner_radius_px(&self, line_height: u32, size: [f32; 2]) -> f32 {
        let wanted = finite(self.corner_radius).max(0.0) * line_height as f32;
        wanted.min(size[0].min(size[1]).max(0.0) / 2.0)
    }

    /// Blur taps on each side of a pixel, across and down: three
    /// deviations, at most [`MAX_BLUR_TAPS`]; 0 where that direction is
    /// not blurred.
    pub fn blur_taps(&self) -> [u32; 2] {
        self.blur.map(|sigma| ((finite(sigma).max(0.0) * 3.0).ceil() as u32).min(MAX_BLUR_TAPS))
    }

    /// Whether this draws anything a flat float does not.
    fn any(&self) -> bool {
        self.shadow().is_some() || self.corner_radius > 0.0 || self.blur_taps() != [0, 0]
    }
}

impl Default for Depth {
    fn default() -> Self {
        Depth::FLAT
    }
}

fn finite(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

/// A float's shadow: where it falls and how soft it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shadow {
    /// From the float to its shadow, in pixels.
    pub offset: [f32; 2],
    /// The Gaussian deviation of its edge, in pixels.
    pub sigma: f32,
    pub alpha: f32,
}

impl Shadow {
    /// The shadow's rect before blurring, for a float at `rect`.
    pub fn caster(&self, rect: PxRect) -> PxRect {
        PxRect { x: rect.x + self.offset[0], y: rect.y + self.offset[1], ..rect }
    }

    /// Where the shadow draws anything: the caster and three deviations
    /// around it.
    pub fn reach(&self, rect: PxRect) -> PxRect {
        let edge = (3.0 * self.sigma).ceil();
        self.caster(rect).grow(edge, edge)
    }
}

/// A rectangle in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PxRect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl PxRect {
    fn grow(self, dx: f32, dy: f32) -> PxRect {
        PxRect { x: self.x - dx, y: self.y - dy, w: self.w + 2.0 * dx, h: self.h + 2.0 * dy }
    }

    fn union(self, o: PxRect) -> PxRect {
        let (x0, y0) = (self.x.min(o.x), self.y.min(o.y));
        let (x1, y1) = ((self.x + self.w).max(o.x + o.w), (self.y + self.h).max(o.y + o.h));
        PxRect { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
    }

    /// Whole pixels (x0, y0, x1, y1) it touches on a screen of `size`;
    /// `None` when none.
    fn pixels(self, (width, height): (u32, u32)) -> Option<[u32; 4]> {
        let cut = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
        let (x0, y0) = (cut(self.x.floor(), width), cut(self.y.floor(), height));
        let (x1, y1) = (cut((self.x + self.w).ceil(), width), cut((self.y + self.h).ceil(), height));
        (x1 > x0 && y1 > y0).then_some([x0, y0, x1, y1])
    }

    fn array(self) -> [f32; 4] {
        [self.x, self.y, self.w, self.h]
    }
}

/// The part of the screen a float's blur reads, and the kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlurRegion {
    /// The region (x0, y0, x1, y1): the float's rect and the kernel's
    /// reach around it, cut to the screen. The blur targets are this big.
    pub source: [u32; 4],
    /// The float's rect cut to the screen (x0, y0, x1, y1): what is
    /// written back.
    pub inside: [u32; 4],
    pub sigma: [f32; 2],
    /// Screen pixels per blurred pixel ([`blur_scale`]).
    pub scale: u32,
}

impl BlurRegion {
    /// The region's size in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.source[2] - self.source[0], self.source[3] - self.source[1])
    }

    /// The region's size at the blur's resolution.
    pub fn scaled_size(&self) -> (u32, u32) {
        let (w, h) = self.size();
        (w.div_ceil(self.scale), h.div_ceil(self.scale))
    }
}

/// The most weights a blur pass takes (taps each side, plus the centre).
pub const MAX_WEIGHTS: usize = 64;

/// Screen pixels per blurred pixel for blurs of deviations `sigma`: the
/// region is averaged down by blocks of `scale` x `scale` pixels and
/// scaled back up with bilinear filtering, which together blur by a
/// deviation of about `scale / 2` (a box of `scale`: `scale / √12`; the
/// tent of the filter: `scale / √6`); only the rest is left to the
/// Gaussian taps. The largest power of two up to 8 whose own blur is no
/// more than the smaller deviation; 1 (no scaling) under a pixel.
///
/// ```text
///   sigma    < 1   1..2   2..4   4 and more
///   scale      1      2      4      8       (2.0, the default: 4, and
///                                            no Gaussian taps at all)
/// ```
pub fn blur_scale(sigma: [f32; 2]) -> u32 {
    let least = finite(sigma[0]).min(finite(sigma[1]));
    [8, 4, 2].into_iter().find(|&s| least >= s as f32 / 2.0).unwrap_or(1)
}

/// The Gaussian left to do after scaling by `scale` for a blur of
/// deviation `sigma` screen pixels, in blurred pixels: the taps on each
/// side (three deviations, at most `MAX_WEIGHTS - 1`) and the weights
/// from the centre out, which sum to 1 over both sides.
pub fn blur_weights(sigma: f32, scale: u32) -> (u32, [f32; MAX_WEIGHTS]) {
    let sigma = finite(sigma).max(0.0);
    let own = if scale > 1 { scale as f32 / 2.0 } else { 0.0 };
    let sigma = (sigma * sigma - own * own).max(0.0).sqrt() / scale.max(1) as f32;
    let taps = ((3.0 * sigma).ceil() as u32).min(MAX_WEIGHTS as u32 - 1);
    let mut weights = [0.0; MAX_WEIGHTS];
    for (i, w) in weights.iter_mut().enumerate().take(taps as usize + 1) {
        *w = if sigma > 0.0 { (-((i * i) as f32) / (2.0 * sigma * sigma)).exp() } else { 1.0 };
    }
    let total: f32 = weights[0] + 2.0 * weights[1..].iter().sum::<f32>();
    weights.iter_mut().for_each(|w| *w /= total);
    (taps, weights)
}

/// What one float draws besides itself this frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatDepth {
    /// The float's rect (its layer's placement).
    pub rect: PxRect,
    /// Its corner radius in pixels (0: square).
    pub radius: f32,
    pub shadow: Option<Shadow>,
    /// `None` unless the float is translucent (its background lets what
    /// lies under it show) and the knobs blur.
    pub blur: Option<BlurRegion>,
    /// The screen pixels (x0, y0, x1, y1) its footprint covers: the
    /// float, its shadow and the blur's source. `None` when off screen.
    pub footprint: Option<[u32; 4]>,
}

impl FloatDepth {
    /// The depth of a float at `rect` on a screen of `screen` pixels.
    pub fn new(depth: &Depth, rect: PxRect, translucent: bool, line_height: u32, screen: (u32, u32)) -> Self {
        let radius = depth.corner_radius_px(line_height, [rect.w, rect.h]);
        let shadow = depth.shadow();
        let taps = depth.blur_taps();
        let blur = if translucent && taps != [0, 0] {
            let scale = blur_scale(depth.blur);
            // The kernel's reach, and a block of the coarser grid.
            let reach = rect.grow((taps[0] + scale) as f32, (taps[1] + scale) as f32);
            match (reach.pixels(screen), rect.pixels(screen)) {
                (Some(source), Some(inside)) => Some(BlurRegion { source, inside, sigma: depth.blur, scale }),
                _ => None,
            }
        } else {
            None
        };
        let mut footprint = rect;
        if let Some(s) = &shadow {
            footprint = footprint.union(s.reach(rect));
        }
        if let Some(b) = &blur {
            let [x0, y0, x1, y1] = b.source.map(|v| v as f32);
            footprint = footprint.union(PxRect { x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
        }
        FloatDepth { rect, radius, shadow, blur, footprint: footprint.pixels(screen) }
    }

    /// Whether its footprint overlaps `region` (x0, y0, x1, y1).
    pub fn touches(&self, [x0, y0, x1, y1]: [u32; 4]) -> bool {
        self.footprint.is_some_and(|[a, b, c, d]| a < x1 && x0 < c && b < y1 && y0 < d)
    }
}

/// Whether a float's background lets what lies under it show: a `blend`
/// highlight in it, or backgrounds made translucent by `opacity`.
pub fn translucent(frame: &Frame, grid: crate::model::GridId, opacity: Opacity) -> bool {
    if opacity.normal < 1.0 || opacity.other < 1.0 {
        return true;
    }
    frame
        .grid(grid)
        .is_some_and(|g| g.rows.iter().any(|row| row.cells.iter().any(|c| frame.hl.get(c.hl).blend > 0)))
}

/// Each visible layer's depth for one frame (`None` for all but floats,
/// and for every layer when the knobs draw floats flat).
#[derive(Debug, Clone, Default)]
pub struct FloatPlan {
    floats: Vec<Option<FloatDepth>>,
}

impl FloatPlan {
    pub fn new(
        frame: &Frame,
        visible: &[compose::Layer],
        m: CellMetrics,
        screen: (u32, u32),
        depth: &Depth,
        opacity: Opacity,
    ) -> FloatPlan {
        if !depth.any() {
            return FloatPlan::default();
        }
        let floats = visible
            .iter()
            .map(|placed| {
                (placed.kind == LayerKind::Float).then(|| {
                    let p = geometry::layer_placement(placed, m);
                    let rect = PxRect { x: p.pos[0], y: p.pos[1], w: p.size[0], h: p.size[1] };
                    let see_through = depth.blur_taps() != [0, 0] && translucent(frame, placed.grid, opacity);
                    FloatDepth::new(depth, rect, see_through, m.height, screen)
                })
            })
            .collect();
        FloatPlan { floats }
    }

    /// The depth of visible layer `i`, if it is a float with any.
    pub fn get(&self, i: usize) -> Option<&FloatDepth> {
        self.floats.get(i)?.as_ref()
    }

    /// Whether any float is blurred this frame.
    pub fn blurs(&self) -> bool {
        self.floats.iter().flatten().any(|f| f.blur.is_some())
    }

    /// The damaged bands widened by the blurred floats' footprints they
    /// touch, and the regions to compose for them (see
    /// [`compose_regions`]).
    pub fn regions(&self, damaged: Vec<(u32, u32)>, width: u32) -> (Vec<(u32, u32)>, Vec<[u32; 4]>) {
        let footprints: Vec<[u32; 4]> = self.blurred_footprints().collect();
        compose_regions(damaged, &footprints, width)
    }

    /// The blurred floats' footprints on screen (x0, y0, x1, y1).
    pub fn blurred_footprints(&self) -> impl Iterator<Item = [u32; 4]> + '_ {
        self.floats.iter().flatten().filter(|f| f.blur.is_some()).filter_map(|f| f.footprint)
    }
}

/// What to compose for `damaged` bands of a screen `width` pixels wide
/// with float `footprints` (x0, y0, x1, y1): the bands widened to every
/// footprint they touch ([`widen_bands`]; the rows copied to the target),
/// and disjoint regions (x0, y0, x1, y1) to compose. Each footprint lies
/// wholly in one region, so a float's blur reads only what its region
/// composed below it; the damaged rows beside the footprints are composed
/// across the rest of the width, and the footprints' rows no wider than
/// the footprints.
///
/// ```text
///   ┌──────────────────────────┐
///   │        ┌──────────┐      │  the footprints' columns, all the
///   │ damaged│ footprint│row   │  widened band's rows: one region;
///   │        └──────────┘      │  the damaged row left and right of
///   └──────────────────────────┘  them: two more
/// ```
pub fn compose_regions(
    damaged: Vec<(u32, u32)>,
    footprints: &[[u32; 4]],
    width: u32,
) -> (Vec<(u32, u32)>, Vec<[u32; 4]>) {
    let rows: Vec<(u32, u32)> = footprints.iter().map(|f| (f[1], f[3])).collect();
    let damaged = geometry::merge_bands(damaged);
    let bands = widen_bands(damaged.clone(), &rows);
    let mut regions = Vec::new();
    for &(y0, y1) in &bands {
        let inside: Vec<&[u32; 4]> = footprints.iter().filter(|f| f[1] < y1 && y0 < f[3]).collect();
        let (Some(x0), Some(x1)) = (inside.iter().map(|f| f[0]).min(), inside.iter().map(|f| f[2]).max())
        else {
            regions.push([0, y0, width, y1]);
            continue;
        };
        regions.push([x0, y0, x1, y1]);
        for &(d0, d1) in damaged.iter().filter(|&&(d0, d1)| d0 < y1 && y0 < d1) {
            let (d0, d1) = (d0.max(y0), d1.min(y1));
            if x0 > 0 {
                regions.push([0, d0, x0, d1]);
            }
            if x1 < width {
                regions.push([x1, d0, width, d1]);
            }
        }
    }
    (bands, regions)
}

/// Merged `bands` grown by every footprint (y0, y1) that overlaps one,
/// until none overlaps a band only in part (a grown band may reach
/// another footprint).
pub fn widen_bands(bands: Vec<(u32, u32)>, footprints: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut bands = geometry::merge_bands(bands);
    loop {
        let touched: Vec<(u32, u32)> = footprints
            .iter()
            .copied()
            .filter(|&(a, b)| bands.iter().any(|&(y0, y1)| a < y1 && y0 < b && (a < y0 || b > y1)))
            .collect();
        if touched.is_empty() {
            return bands;
        }
        bands = geometry::merge_bands(bands.into_iter().chain(touched).collect());
    }
}

#[derive(Debug, Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct ShadowUniform {
    viewport: [f32; 4],
    quad: [f32; 4],
    hole: [f32; 4],
    caster: [f32; 4],
    float_rect: [f32; 4],
    params: [f32; 4],
}

#[derive(Debug, Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct BlurUniform {
    viewport: [f32; 4],
    quad: [f32; 4],
    params: [f32; 4],
    source: [f32; 4],
    weights: [f32; 64],
}

#[derive(Debug, Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct BlurredFloatUniform {
    viewport: [f32; 4],
    rect: [f32; 4],
    params: [f32; 4],
    region: [f32; 4],
    texture_size: [f32; 4],
}

#[derive(Debug, Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct RoundedUniform {
    viewport: [f32; 4],
    rect: [f32; 4],
    params: [f32; 4],
}

/// The textures a blur goes through: a copy of the screen region at full
/// resolution, its blur across and then down at the blur's resolution.
struct BlurTargets {
    /// The copy's size, and the blurred textures' (at most the copy's).
    size: (u32, u32),
    scaled: (u32, u32),
    copy: wgpu::Texture,
    copy_view: wgpu::TextureView,
    across_view: wgpu::TextureView,
    down_view: wgpu::TextureView,
}

/// The shadow, blur and rounded-float passes, and the blur targets.
pub struct DepthPipelines {
    format: wgpu::TextureFormat,
    /// By `Kind`, each made at its first use, unless made all at once
    /// (`DepthPipelines::new`).
    pipelines: [OnceCell<wgpu::RenderPipeline>; 4],
    uniform_layout: wgpu::BindGroupLayout,
    /// A uniform and a texture fetched texel by texel.
    textured_layout: wgpu::BindGroupLayout,
    /// A uniform, a texture and a linear sampler.
    filtered_layout: wgpu::BindGroupLayout,
    /// A uniform, a texture fetched texel by texel, and one sampled.
    float_layout: wgpu::BindGroupLayout,
    linear: wgpu::Sampler,
    targets: Option<BlurTargets>,
}

/// The depth pipelines: floats' shadows (on by default), the blur's
/// passes, and floats drawn with round corners, blurred or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shadow,
    Blur,
    Rounded,
    BlurredFloat,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Shadow, Kind::Blur, Kind::Rounded, Kind::BlurredFloat];

    /// Its shader's name and source (after `rounded_rect.wgsl`'s).
    fn shader(self) -> (&'static str, &'static str) {
        match self {
            Kind::Shadow => ("shadow.wgsl", include_str!("../../shaders/shadow.wgsl")),
            Kind::Blur => ("blur.wgsl", include_str!("../../shaders/blur.wgsl")),
            Kind::Rounded => ("rounded.wgsl", include_str!("../../shaders/rounded.wgsl")),
            Kind::BlurredFloat => ("float_blurred.wgsl", include_str!("../../shaders/float_blurred.wgsl")),
        }
    }
}

fn shader(device: &wgpu::Device, label: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    })
}

/// What a depth pass binds besides its uniform.
enum Binding<'a> {
    None,
    /// Fetched texel by texel.
    Texels(&'a wgpu::TextureView),
    /// Sampled with linear filtering.
    Filtered(&'a wgpu::TextureView),
    /// The first fetched texel by texel, the second sampled.
    Both(&'a wgpu::TextureView, &'a wgpu::TextureView),
}

fn sampler_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
        count: None,
    }
}

impl DepthPipelines {
    /// The pipelines' layouts; the pipelines themselves now if `all`, else
    /// each at its first use.
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat, all: bool) -> Self {
        let layout = |label, entries: &[wgpu::BindGroupLayoutEntry]| {
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(label), entries })
        };
        let uniform_layout = layout("depth uniform", &[uniform_entry()]);
        let textured_layout = layout("depth textured", &[uniform_entry(), texture_entry(false)]);
        let filtered_layout =
            layout("depth filtered", &[uniform_entry(), texture_entry(true), sampler_entry(2)]);
        let sampled = wgpu::BindGroupLayoutEntry { binding: 2, ..texture_entry(true) };
        let float_layout =
            layout("depth float", &[uniform_entry(), texture_entry(false), sampled, sampler_entry(3)]);
        let made = DepthPipelines {
            format,
            pipelines: Default::default(),
            linear: device.create_sampler(&wgpu::SamplerDescriptor {
                label: Some("blur"),
                mag_filter: wgpu::FilterMode::Linear,
                min_filter: wgpu::FilterMode::Linear,
                ..Default::default()
            }),
            uniform_layout,
            textured_layout,
            filtered_layout,
            float_layout,
            targets: None,
        };
        if all {
            for kind in Kind::ALL {
                made.pipeline(device, kind);
            }
        }
        made
    }

    /// The pipeline of `kind`, made now if not made yet: on a CPU adapter
    /// each is compiled (about 2 ms with lavapipe, the four 6 to 8 ms) and
    /// holds about 0.6 MB, so a session that shows no float, or floats
    /// with shadows alone (the defaults), does not pay for the rest.
    fn pipeline(&self, device: &wgpu::Device, kind: Kind) -> &wgpu::RenderPipeline {
        self.pipelines[kind as usize].get_or_init(|| {
            let (label, own) = kind.shader();
            let (layout, blend) = match kind {
                Kind::Shadow => (&self.uniform_layout, Some(PREMULTIPLIED_OVER)),
                Kind::Blur => (&self.filtered_layout, None),
                Kind::Rounded => (&self.textured_layout, Some(PREMULTIPLIED_OVER)),
                Kind::BlurredFloat => (&self.float_layout, Some(PREMULTIPLIED_OVER)),
            };
            let source = format!("{}\n{own}", include_str!("../../shaders/rounded_rect.wgsl"));
            let module = shader(device, label, &source);
            let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            });
            let parts = PipelineParts {
                label,
                shader: &module,
                fragment: "fs_main",
                layout: &layout,
                buffers: &[],
                format: self.format,
                blend,
            };
            pipeline(device, parts)
        })
    }

    /// The names of the pipelines made so far.
    pub fn made(&self) -> impl Iterator<Item = &'static str> + '_ {
        Kind::ALL
            .into_iter()
            .filter(|&kind| self.pipelines[kind as usize].get().is_some())
            .map(|kind| kind.shader().0)
    }

    fn bind(&self, device: &wgpu::Device, uniform: &[u8], binding: Binding<'_>) -> wgpu::BindGroup {
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("depth uniform"),
            contents: uniform,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() }];
        let layout = match binding {
            Binding::None => &self.uniform_layout,
            Binding::Texels(view) => {
                entries.push(wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(view),
                });
                &self.textured_layout
            }
            Binding::Filtered(view) => {
                entries.push(wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(view),
                });
                entries.push(wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Sampler(&self.linear),
                });
                &self.filtered_layout
            }
            Binding::Both(texels, filtered) => {
                entries.extend([
                    wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(texels) },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(filtered),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::Sampler(&self.linear),
                    },
                ]);
                &self.float_layout
            }
        };
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("depth"),
            layout,
            entries: &entries,
        })
    }

    /// Draws `float`'s shadow (if any) into `pass`, whose viewport is a
    /// screen of `screen` pixels at `origin` on the target: the four
    /// strips around the float.
    pub fn draw_shadow(
        &self,
        device: &wgpu::Device,
        pass: &mut wgpu::RenderPass<'_>,
        (screen, origin): ((u32, u32), [f32; 2]),
        float: &FloatDepth,
    ) {
        let Some(shadow) = &float.shadow else { return };
        let uniform = ShadowUniform {
            viewport: [screen.0 as f32, screen.1 as f32, origin[0], origin[1]],
            quad: shadow.reach(float.rect).array(),
            hole: float.rect.grow(-float.radius, -float.radius).array(),
            caster: shadow.caster(float.rect).array(),
            float_rect: float.rect.array(),
            params: [float.radius, shadow.sigma, shadow.alpha, 0.0],
        };
        let group = self.bind(device, bytemuck::bytes_of(&uniform), Binding::None);
        pass.set_pipeline(self.pipeline(device, Kind::Shadow));
        pass.set_bind_group(0, &group, &[]);
        pass.draw(0..6, 0..4);
    }

    /// Blurs what `screen` holds under `float` (if it blurs; the screen's
    /// origin at `at` in the texture, inside the padding) into the blur
    /// targets: records a copy and two passes into `encoder`, so no pass
    /// on `screen` may be open. [`DepthPipelines::draw_float`] then draws
    /// the float over the result.
    pub fn blur_under(
        &mut self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        screen: &wgpu::Texture,
        (at_x, at_y): (i64, i64),
        float: &FloatDepth,
    ) {
        let Some(blur) = &float.blur else { return };
        let (w, h) = blur.size();
        let (sw, sh) = blur.scaled_size();
        self.fit_targets(device, (w, h), (sw, sh));
        let targets = self.targets.as_ref().expect("made above");
        let [sx, sy, _, _] = blur.source;
        let at =
            |v: u32, by: i64| u32::try_from(i64::from(v) + by).expect("the blur's source lies in the target");
        encoder.copy_texture_to_texture(
            wgpu::TexelCopyTextureInfo {
                origin: wgpu::Origin3d { x: at(sx, at_x), y: at(sy, at_y), z: 0 },
                ..screen.as_image_copy()
            },
            targets.copy.as_image_copy(),
            wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
        );
        let (tw, th) = (targets.size.0 as f32, targets.size.1 as f32);
        let (bw, bh) = (targets.scaled.0 as f32, targets.scaled.1 as f32);
        // Across, reading the copy (and scaling it down), then down.
        let passes = [
            (
                0,
                [1.0, 0.0],
                blur.scale as f32,
                [w as f32, h as f32, tw, th],
                &targets.copy_view,
                &targets.across_view,
            ),
            (1, [0.0, 1.0], 1.0, [sw as f32, sh as f32, bw, bh], &targets.across_view, &targets.down_view),
        ];
        for (axis, dir, step, source, from, to) in passes {
            let (taps, weights) = blur_weights(blur.sigma[axis], blur.scale);
            let uniform = BlurUniform {
                viewport: [bw, bh, 0.0, 0.0],
                quad: [0.0, 0.0, sw as f32, sh as f32],
                params: [dir[0], dir[1], step, taps as f32],
                source,
                weights,
            };
            let group = self.bind(device, bytemuck::bytes_of(&uniform), Binding::Filtered(from));
            // Every pixel used is drawn: nothing to load.
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("blur"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: to,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations { load: wgpu::LoadOp::Load, store: wgpu::StoreOp::Store },
                })],
                ..Default::default()
            });
            pass.set_pipeline(self.pipeline(device, Kind::Blur));
            pass.set_bind_group(0, &group, &[]);
            pass.draw(0..6, 0..1);
        }
    }

    /// Whether [`DepthPipelines::draw_float`] draws `float` (its corners
    /// are round or it is blurred); the plain composite draws the others.
    pub fn draws(float: &FloatDepth) -> bool {
        float.radius > 0.0 || float.blur.is_some()
    }

    /// Draws a float's layer (`layer`, placed at `float.rect`) with its
    /// corners rounded, over what [`DepthPipelines::blur_under`] blurred
    /// for it if it is blurred, into `pass` whose viewport is a screen of
    /// `screen` pixels at `origin` on the target.
    pub fn draw_float(
        &self,
        device: &wgpu::Device,
        pass: &mut wgpu::RenderPass<'_>,
        (screen, origin): ((u32, u32), [f32; 2]),
        layer: &wgpu::TextureView,
        float: &FloatDepth,
    ) {
        let viewport = [screen.0 as f32, screen.1 as f32, origin[0], origin[1]];
        let group = match (&float.blur, &self.targets) {
            (Some(blur), Some(targets)) => {
                let (sw, sh) = blur.scaled_size();
                let uniform = BlurredFloatUniform {
                    viewport,
                    rect: float.rect.array(),
                    params: [float.radius, blur.scale as f32, 0.0, 0.0],
                    region: [blur.source[0] as f32, blur.source[1] as f32, sw as f32, sh as f32],
                    texture_size: [targets.scaled.0 as f32, targets.scaled.1 as f32, 0.0, 0.0],
                };
                pass.set_pipeline(self.pipeline(device, Kind::BlurredFloat));
                self.bind(device, bytemuck::bytes_of(&uniform), Binding::Both(layer, &targets.down_view))
            }
            _ => {
                let uniform = RoundedUniform {
                    viewport,
                    rect: float.rect.array(),
                    params: [float.radius, 0.0, 0.0, 0.0],
                };
                pass.set_pipeline(self.pipeline(device, Kind::Rounded));
                self.bind(device, bytemuck::bytes_of(&uniform), Binding::Texels(layer))
            }
        };
        pass.set_bind_group(0, &group, &[]);
        pass.draw(0..6, 0..1);
    }

    /// Keeps the blur targets while a visible float is blurred; frees
    /// them otherwise.
    pub fn keep_targets(&mut self, needed: bool) {
        if !needed {
            self.targets = None;
        }
    }

    /// Blur targets of at least `size` (the copy) and `scaled` (the
    /// blurred ones); grown in steps of 64 pixels so a float that grows by
    /// a cell does not make new ones each frame.
    fn fit_targets(&mut self, device: &wgpu::Device, size: (u32, u32), scaled: (u32, u32)) {
        let fits = |t: &BlurTargets| {
            t.size.0 >= size.0 && t.size.1 >= size.1 && t.scaled.0 >= scaled.0 && t.scaled.1 >= scaled.1
        };
        if self.targets.as_ref().is_some_and(fits) {
            return;
        }
        let limit = device.limits().max_texture_dimension_2d;
        // The old targets go first: their memory can hold the new ones.
        let (old, old_scaled) = self.targets.take().map_or(((0, 0), (0, 0)), |t| (t.size, t.scaled));
        let grow = |want: u32, had: u32| want.max(had).next_multiple_of(64).min(limit);
        let size = (grow(size.0, old.0), grow(size.1, old.1));
        let scaled = (grow(scaled.0, old_scaled.0), grow(scaled.1, old_scaled.1));
        let texture = |label, (width, height): (u32, u32), usage| {
            let texture = device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: self.format,
                usage: usage | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            });
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            (texture, view)
        };
        let (copy, copy_view) = texture("blur source", size, wgpu::TextureUsages::COPY_DST);
        let (_, across_view) = texture("blur across", scaled, wgpu::TextureUsages::RENDER_ATTACHMENT);
        let (_, down_view) = texture("blur down", scaled, wgpu::TextureUsages::RENDER_ATTACHMENT);
        self.targets = Some(BlurTargets { size, scaled, copy, copy_view, across_view, down_view });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knobs() -> Depth {
        Depth {
            shadow: true,
            z_height: 10.0,
            light_angle_degrees: 45.0,
            light_radius: 5.0,
            corner_radius: 0.0,
            blur: [2.0, 2.0],
        }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn the_shadow_falls_away_from_the_light_by_the_floats_height() {
        let s = knobs().shadow().expect("a shadow");
        assert!(close(s.offset[0], 0.0) && close(s.offset[1], 10.0), "45°: as far down as it is high: {s:?}");
        assert!(close(s.sigma, 5.0), "{s:?}");
        let high = Depth { z_height: 20.0, ..knobs() }.shadow().unwrap();
        assert!(
            close(high.offset[1], 20.0) && close(high.sigma, 10.0),
            "twice as high: twice as far and soft"
        );
        let steep = Depth { light_angle_degrees: 60.0, ..knobs() }.shadow().unwrap();
        assert!(close(steep.offset[1], 10.0 * 3f32.sqrt()), "{steep:?}");
        let overhead = Depth { light_angle_degrees: 0.0, ..knobs() }.shadow().unwrap();
        assert!(close(overhead.offset[1], 0.0), "a light straight ahead casts it right under the float");
        let grazing = Depth { light_angle_degrees: 90.0, ..knobs() }.shadow().unwrap();
        assert!(close(grazing.offset[1], 10.0 * 80f32.to_radians().tan()), "the angle is cut to 80°");
        let point = Depth { light_radius: 0.0, ..knobs() }.shadow().unwrap();
        assert!(close(point.sigma, 0.5), "a point light still gives a half-pixel edge");
        assert_eq!(Depth { shadow: false, ..knobs() }.shadow(), None);
        assert_eq!(Depth { z_height: 0.0, ..knobs() }.shadow(), None, "a float on the grid casts none");
        assert_eq!(Depth { z_height: f32::NAN, ..knobs() }.shadow(), None);
    }

    #[test]
    fn the_shadow_reaches_three_deviations_past_its_moved_rect() {
        let s = knobs().shadow().unwrap();
        let rect = PxRect { x: 100.0, y: 50.0, w: 80.0, h: 40.0 };
        assert_eq!(s.caster(rect), PxRect { x: 100.0, y: 60.0, w: 80.0, h: 40.0 });
        assert_eq!(s.reach(rect), PxRect { x: 85.0, y: 45.0, w: 110.0, h: 70.0 });
    }

    #[test]
    fn the_corner_radius_is_a_fraction_of_a_line_at_most_half_the_smaller_side() {
        let d = Depth { corner_radius: 0.5, ..knobs() };
        assert_eq!(d.corner_radius_px(20, [200.0, 100.0]), 10.0);
        assert_eq!(Depth { corner_radius: 1.0, ..knobs() }.corner_radius_px(20, [200.0, 30.0]), 15.0);
        assert_eq!(Depth { corner_radius: 8.0, ..knobs() }.corner_radius_px(20, [200.0, 100.0]), 50.0);
        assert_eq!(Depth { corner_radius: -1.0, ..knobs() }.corner_radius_px(20, [200.0, 100.0]), 0.0);
        assert_eq!(Depth { corner_radius: f32::INFINITY, ..knobs() }.corner_radius_px(20, [9.0, 9.0]), 0.0);
        assert_eq!(knobs().corner_radius_px(20, [200.0, 100.0]), 0.0, "square by default");
    }

    #[test]
    fn blur_taps_cover_three_deviations_within_a_cap() {
        assert_eq!(knobs().blur_taps(), [6, 6]);
        assert_eq!(Depth { blur: [0.0, 1.5], ..knobs() }.blur_taps(), [0, 5]);
        assert_eq!(Depth { blur: [1000.0, f32::NAN], ..knobs() }.blur_taps(), [MAX_BLUR_TAPS, 0]);
    }

    #[test]
    fn the_blur_reads_only_the_float_and_its_reach_cut_to_the_screen() {
        let rect = PxRect { x: 100.0, y: 50.0, w: 80.0, h: 40.0 };
        let f = FloatDepth::new(&knobs(), rect, true, 20, (800, 600));
        let blur = f.blur.expect("a translucent float is blurred");
        // Three deviations (6) and a block of the coarser grid (4).
        assert_eq!(blur.source, [90, 40, 190, 100]);
        assert_eq!(blur.inside, [100, 50, 180, 90]);
        let size = blur.size();
        assert_eq!(size, (100, 60), "the targets are the float's size and the kernel's, not the screen's");
        assert_eq!((blur.scale, blur.scaled_size()), (4, (25, 15)));
        // The footprint: from the blur's top to the shadow's soft bottom.
        assert_eq!(f.footprint, Some([85, 40, 195, 115]));
        // At the screen's corner the region is cut.
        let corner =
            FloatDepth::new(&knobs(), PxRect { x: 0.0, y: 0.0, w: 80.0, h: 40.0 }, true, 20, (800, 600));
        assert_eq!(corner.blur.unwrap().source, [0, 0, 90, 50]);
        // A blur under a pixel in one direction keeps full resolution.
        let fine = FloatDepth::new(&Depth { blur: [0.0, 2.0], ..knobs() }, rect, true, 20, (800, 600));
        assert_eq!(fine.blur.map(|b| (b.scale, b.source)), Some((1, [99, 43, 181, 97])));
        // Opaque floats hide what is under them: nothing to blur.
        assert_eq!(FloatDepth::new(&knobs(), rect, false, 20, (800, 600)).blur, None);
        let off = FloatDepth::new(&knobs(), PxRect { x: 900.0, ..rect }, true, 20, (800, 600));
        assert_eq!(off.blur, None, "off screen: nothing to blur");
    }

    #[test]
    fn blur_weights_are_a_normalised_gaussian_at_the_blurs_resolution() {
        assert_eq!(
            [0.5, 1.0, 1.5, 2.0, 3.9, 4.0, 20.0].map(|s| blur_scale([s, 20.0])),
            [1, 2, 2, 4, 4, 8, 8]
        );
        assert_eq!(blur_scale([20.0, 0.0]), 1, "the smaller deviation decides");
        // At the default, scaling down by 4 and back up is the whole blur.
        assert_eq!(
            blur_weights(2.0, 4),
            (0, {
                let mut w = [0.0; MAX_WEIGHTS];
                w[0] = 1.0;
                w
            })
        );
        // sqrt(20² - 4²) / 8 = 2.45 blurred pixels: 8 taps.
        let (taps, w) = blur_weights(20.0, 8);
        assert_eq!(taps, 8);
        let total = w[0] + 2.0 * w[1..].iter().sum::<f32>();
        assert!(close(total, 1.0), "{total}");
        assert!(w.windows(2).take(8).all(|p| p[0] > p[1]) && w[8] > 0.0 && w[9] == 0.0, "{w:?}");
        let sigma = (400.0f32 - 16.0).sqrt() / 8.0;
        assert!(close(w[1] / w[0], (-0.5 / (sigma * sigma)).exp()), "a Gaussian of that deviation");
        assert_eq!(blur_weights(2.0, 1).0, 6, "unscaled: three deviations");
        assert_eq!(blur_weights(1000.0, 1).0, MAX_WEIGHTS as u32 - 1);
        let (taps, w) = blur_weights(0.0, 1);
        assert_eq!((taps, w[0], w[1]), (0, 1.0, 0.0), "no blur: the pixel itself");
    }

    #[test]
    fn bands_touching_a_footprint_grow_to_all_of_it() {
        // One row under a float's shadow changed: the float is recomposed whole.
        assert_eq!(widen_bands(vec![(100, 120)], &[(44, 115)]), [(44, 120)]);
        // A band elsewhere stays as it is.
        assert_eq!(widen_bands(vec![(200, 220)], &[(44, 115)]), [(200, 220)]);
        // Growing into a second footprint takes that one too.
        assert_eq!(widen_bands(vec![(0, 10), (50, 60)], &[(40, 100), (90, 150)]), [(0, 10), (40, 150)]);
        // Touching bands merge.
        assert_eq!(widen_bands(vec![(0, 10), (10, 20)], &[]), [(0, 20)]);
    }

    #[test]
    fn a_damaged_row_under_a_float_composes_its_footprint_and_the_row_beside_it() {
        let footprint = [85, 42, 195, 115];
        let (bands, regions) = compose_regions(vec![(100, 120)], &[footprint], 800);
        assert_eq!(bands, [(42, 120)], "copied: the widened rows");
        assert_eq!(regions, [[85, 42, 195, 120], [0, 100, 85, 120], [195, 100, 800, 120]]);
        // Elsewhere: the damaged band, the whole width.
        assert_eq!(compose_regions(vec![(200, 220)], &[footprint], 800).1, [[0, 200, 800, 220]]);
        // Two footprints in one band: one region spans both.
        let (_, regions) = compose_regions(vec![(50, 60)], &[footprint, [300, 100, 400, 150]], 800);
        assert_eq!(regions, [[85, 42, 400, 150], [0, 50, 85, 60], [400, 50, 800, 60]]);
        // A footprint at the left edge leaves one region beside it.
        let (_, regions) = compose_regions(vec![(0, 600)], &[[0, 0, 100, 50]], 800);
        assert_eq!(regions, [[0, 0, 100, 600], [100, 0, 800, 600]]);
    }

    #[test]
    fn flat_knobs_plan_nothing() {
        assert!(!Depth::FLAT.any());
        assert!(Depth { corner_radius: 0.25, ..Depth::FLAT }.any());
        assert!(knobs().any());
    }
}
