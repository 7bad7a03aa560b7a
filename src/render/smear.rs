//! The moving cursor's pass: one anti-aliased quadrilateral (the smear
//! between where the cursor was and where it goes), drawn over the screen
//! in the overlay pass (see `shaders/smear.wgsl`).

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::rects::{self, PREMULTIPLIED_OVER, PipelineParts, Rect};

/// One quadrilateral: corners clockwise from the top left, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct Quad {
    pub corners: [[f32; 2]; 4],
    /// Straight RGBA.
    pub color: [f32; 4],
    /// x: 1 for anti-aliased edges.
    pub flags: [f32; 4],
}

impl Quad {
    pub fn new(corners: [[f32; 2]; 4], color: [f32; 4], antialiased: bool) -> Quad {
        Quad { corners, color, flags: [if antialiased { 1.0 } else { 0.0 }, 0.0, 0.0, 0.0] }
    }

    /// The rect around the corners and the soft edge, for damage.
    pub fn bounds(&self) -> Rect {
        let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
        for p in self.corners {
            for i in 0..2 {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        Rect::solid(lo[0] - 1.0, lo[1] - 1.0, hi[0] - lo[0] + 2.0, hi[1] - lo[1] + 2.0, self.color)
    }
}

pub struct SmearPipeline {
    pipeline: wgpu::RenderPipeline,
}

impl SmearPipeline {
    /// `globals_layout` is the rect pipeline's: the same target-size
    /// bind group serves both.
    pub fn new(
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
        globals_layout: &wgpu::BindGroupLayout,
    ) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("smear.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/smear.wgsl").into()),
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("smear"),
            bind_group_layouts: &[Some(globals_layout)],
            immediate_size: 0,
        });
        let attributes =
            wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32x4];
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<Quad>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &attributes,
        })];
        let pipeline = rects::pipeline(
            device,
            PipelineParts {
                label: "smear",
                shader: &shader,
                fragment: "fs_main",
                layout: &layout,
                buffers: &buffers,
                format,
                blend: Some(PREMULTIPLIED_OVER),
            },
        );
        SmearPipeline { pipeline }
    }

    pub fn draw(
        &self,
        device: &wgpu::Device,
        pass: &mut wgpu::RenderPass<'_>,
        globals: &wgpu::BindGroup,
        quad: &Quad,
    ) {
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("smear"),
            contents: bytemuck::bytes_of(quad),
            usage: wgpu::BufferUsages::VERTEX,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, globals, &[]);
        pass.set_vertex_buffer(0, buffer.slice(..));
        pass.draw(0..6, 0..1);
    }
}

/// During a slide the cursor is the smear alone: its rects and glyph give
/// way to one quad in the cursor's colour. The glyph is left out rather
/// than drawn at the destination: until the block arrives, the cell there
/// still shows its own text in its own colours, and the cursor's glyph
/// colour (usually the background's) would punch a hole in it.
pub fn take_cursor<G>(
    corners: [[f32; 2]; 4],
    antialiased: bool,
    rects: &mut Vec<Rect>,
    glyph: &mut Option<G>,
) -> Option<Quad> {
    let color = rects.first()?.color;
    rects.clear();
    *glyph = None;
    Some(Quad::new(corners, color, antialiased))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quad_layout_matches_the_shader() {
        assert_eq!(std::mem::size_of::<Quad>(), 64);
    }

    #[test]
    fn bounds_cover_every_corner_and_the_soft_edge() {
        let q = Quad::new([[10.0, 5.0], [20.0, 40.0], [18.0, 90.0], [2.0, 60.0]], [1.0; 4], true);
        let b = q.bounds();
        assert_eq!((b.pos, b.size), ([1.0, 4.0], [20.0, 87.0]));
    }
}
