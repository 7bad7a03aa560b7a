//! The instanced rect pass: one draw call for every background, decoration,
//! cursor and box-drawing shape of a layer (see `shaders/rect.wgsl`).

use bytemuck::{Pod, Zeroable};
use std::sync::{Mutex, PoisonError};

use wgpu::util::DeviceExt;

use super::later::Later;

/// What the fragment shader draws inside a rect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    Solid = 0,
    Curl = 1,
    TriangleRight = 2,
    TriangleLeft = 3,
    ArcDownRight = 4,
    ArcDownLeft = 5,
    ArcUpLeft = 6,
    ArcUpRight = 7,
    /// A filled circle, as large as fits (cursor particles).
    Disc = 8,
    /// A circle's outline `param` pixels thick, as large as fits.
    Ring = 9,
}

/// One instance. Colour is straight RGBA in 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct Rect {
    pub pos: [f32; 2],
    pub size: [f32; 2],
    pub color: [f32; 4],
    pub kind: u32,
    pub param: f32,
}

impl Rect {
    pub fn solid(x: f32, y: f32, w: f32, h: f32, color: [f32; 4]) -> Self {
        Self::shaped(x, y, w, h, color, Kind::Solid, 0.0)
    }

    pub fn shaped(x: f32, y: f32, w: f32, h: f32, color: [f32; 4], kind: Kind, param: f32) -> Self {
        Rect { pos: [x, y], size: [w, h], color, kind: kind as u32, param }
    }
}

/// 0xRRGGBB plus alpha as shader colour.
pub fn rgba(rgb: u32, alpha: f32) -> [f32; 4] {
    let c = |shift: u32| ((rgb >> shift) & 0xff) as f32 / 255.0;
    [c(16), c(8), c(0), alpha]
}

/// Appends `rect`, merging it into the previous one when they continue each
/// other on the same row with the same colour (long background runs become
/// one instance).
pub fn push_merged(out: &mut Vec<Rect>, rect: Rect) {
    if let Some(last) = out.last_mut() {
        let continues = last.kind == Kind::Solid as u32
            && rect.kind == Kind::Solid as u32
            && last.color == rect.color
            && last.pos[1] == rect.pos[1]
            && last.size[1] == rect.size[1]
            && last.pos[0] + last.size[0] == rect.pos[0];
        if continues {
            last.size[0] += rect.size[0];
            return;
        }
    }
    out.push(rect);
}

/// Target-size uniform shared by both pipelines.
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub struct Globals {
    pub target: [f32; 2],
    pub _pad: [f32; 2],
}

/// Blending: `Replace` writes colour and alpha as they are (backgrounds
/// clear what was below them in the layer); `Over` composites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blend {
    Replace,
    Over,
}

/// Two pipelines per blend: solid rects (backgrounds, the cursor, lines:
/// nearly all of them) have a fragment stage of their own. A CPU
/// rasteriser runs every branch of a shader for every pixel, so drawing
/// them with the shapes' stage (a sine, distances) costs some 2 times
/// as much CPU per pixel. The shapes' pipelines are made at their first
/// use, or on a thread of their own once asked (`start_shapes`).
pub struct RectPipeline {
    solid: Pair,
    shapes: Mutex<Later<Pair>>,
    pub globals_layout: wgpu::BindGroupLayout,
}

/// One pipeline per blend.
struct Pair {
    replace: wgpu::RenderPipeline,
    over: wgpu::RenderPipeline,
}

impl Pair {
    fn get(&self, blend: Blend) -> &wgpu::RenderPipeline {
        match blend {
            Blend::Replace => &self.replace,
            Blend::Over => &self.over,
        }
    }
}

/// A premultiplied "over" blend.
pub const PREMULTIPLIED_OVER: wgpu::BlendState = wgpu::BlendState {
    color: wgpu::BlendComponent {
        src_factor: wgpu::BlendFactor::One,
        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
        operation: wgpu::BlendOperation::Add,
    },
    alpha: wgpu::BlendComponent {
        src_factor: wgpu::BlendFactor::One,
        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
        operation: wgpu::BlendOperation::Add,
    },
};

impl RectPipeline {
    /// Rects drawn with bind groups of `globals_layout` (the target's size).
    pub fn new(
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
        globals_layout: wgpu::BindGroupLayout,
    ) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("rect.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/rect.wgsl").into()),
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("rect"),
            bind_group_layouts: &[Some(&globals_layout)],
            immediate_size: 0,
        });
        let solid = Pair::new(device, &shader, &layout, format, "fs_solid");
        let device = device.clone();
        let shapes = Later::pending(move || Pair::new(&device, &shader, &layout, format, "fs_main"));
        RectPipeline { solid, shapes: Mutex::new(shapes), globals_layout }
    }

    /// Whether the shapes' pipelines are made.
    pub fn shapes_made(&self) -> bool {
        self.shapes.lock().unwrap_or_else(PoisonError::into_inner).ready().is_some()
    }

    /// Begins making the shapes' pipelines, if not begun.
    pub fn start_shapes(&self) {
        self.shapes.lock().unwrap_or_else(PoisonError::into_inner).start();
    }

    /// Draws `rects` into the pass, in order; `globals` is a bind group
    /// for the pass's target size. The rects go in the frame's buffer
    /// (`frame`, written before the frame is submitted) when it has room,
    /// else in a buffer of their own.
    pub fn draw(
        &self,
        device: &wgpu::Device,
        frame: Option<&mut FrameRects>,
        pass: &mut wgpu::RenderPass<'_>,
        globals: &wgpu::BindGroup,
        rects: &[Rect],
        blend: Blend,
    ) {
        if rects.is_empty() {
            return;
        }
        if let Some(vertices) = frame.and_then(|f| f.place(rects)) {
            return self.record(pass, globals, rects, blend, vertices);
        }
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("rects"),
            contents: bytemuck::cast_slice(rects),
            usage: wgpu::BufferUsages::VERTEX,
        });
        self.record(pass, globals, rects, blend, buffer.slice(..));
    }

    /// The draws of `rects`, whose instances `vertices` holds.
    fn record(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        globals: &wgpu::BindGroup,
        rects: &[Rect],
        blend: Blend,
        vertices: wgpu::BufferSlice<'_>,
    ) {
        pass.set_bind_group(0, globals, &[]);
        pass.set_vertex_buffer(0, vertices);
        let solid = |r: &Rect| r.kind == Kind::Solid as u32;
        let mut start = 0;
        // Runs of solid rects and of shapes, each with its pipeline.
        for run in rects.chunk_by(|a, b| solid(a) == solid(b)) {
            if solid(&run[0]) {
                pass.set_pipeline(self.solid.get(blend));
            } else {
                let mut shapes = self.shapes.lock().unwrap_or_else(PoisonError::into_inner);
                pass.set_pipeline(shapes.get().get(blend));
            }
            let end = start + run.len() as u32;
            pass.draw(0..6, start..end);
            start = end;
        }
    }
}

/// The rects of one frame's draws in one vertex buffer, written once
/// ([`FrameRects::write`]) before the frame's commands are submitted. A
/// buffer made for each draw costs wgpu and the driver a buffer, memory
/// bound to it and their release once the frame is done, several times a
/// frame.
#[derive(Default)]
pub struct FrameRects {
    buffer: Option<wgpu::Buffer>,
    /// The instances placed in `buffer` this frame, in order.
    bytes: Vec<u8>,
    /// The bytes all of this frame's draws had: the buffer's size for the
    /// next frame when this one's was too small.
    wanted: u64,
}

/// The largest buffer `FrameRects` keeps (6553 rects). A frame with more
/// (a whole screen of colour runs) draws the rest from buffers of their
/// own, as every draw did before.
const FRAME_RECT_BYTES: u64 = 256 * 1024;

impl FrameRects {
    /// Where `rects` lie in this frame's buffer, or `None` when it has no
    /// room for them.
    fn place(&mut self, rects: &[Rect]) -> Option<wgpu::BufferSlice<'_>> {
        let data: &[u8] = bytemuck::cast_slice(rects);
        self.wanted += data.len() as u64;
        let start = self.bytes.len() as u64;
        let end = start + data.len() as u64;
        let buffer = self.buffer.as_ref().filter(|b| end <= b.size())?;
        self.bytes.extend_from_slice(data);
        Some(buffer.slice(start..end))
    }

    /// Writes the frame's rects into the buffer, before the commands that
    /// draw them are submitted (the write comes first in the queue), and
    /// makes a larger buffer for the next frame when this one lacked room.
    pub fn write(&mut self, device: &wgpu::Device, queue: &wgpu::Queue) {
        if let Some(buffer) = self.buffer.as_ref().filter(|_| !self.bytes.is_empty()) {
            queue.write_buffer(buffer, 0, &self.bytes);
        }
        self.bytes.clear();
        let wanted = std::mem::take(&mut self.wanted).min(FRAME_RECT_BYTES);
        if self.buffer.as_ref().map_or(0, wgpu::Buffer::size) < wanted {
            self.buffer = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("frame rects"),
                size: wanted.next_power_of_two().clamp(4096, FRAME_RECT_BYTES),
                usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
    }
}

impl Pair {
    fn new(
        device: &wgpu::Device,
        shader: &wgpu::ShaderModule,
        layout: &wgpu::PipelineLayout,
        format: wgpu::TextureFormat,
        fragment: &str,
    ) -> Pair {
        let attributes = wgpu::vertex_attr_array![0 => Float32x2, 1 => Float32x2, 2 => Float32x4, 3 => Uint32, 4 => Float32];
        let buffers = [Some(wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<Rect>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &attributes,
        })];
        let make = |blend, label| {
            pipeline(
                device,
                PipelineParts { label, shader, fragment, layout, buffers: &buffers, format, blend },
            )
        };
        Pair { replace: make(None, "rect replace"), over: make(Some(PREMULTIPLIED_OVER), "rect over") }
    }
}

/// What differs between vireo's render pipelines.
pub struct PipelineParts<'a> {
    pub label: &'a str,
    /// A module with `vs_main` and the fragment stage `fragment`.
    pub shader: &'a wgpu::ShaderModule,
    pub fragment: &'a str,
    pub layout: &'a wgpu::PipelineLayout,
    pub buffers: &'a [Option<wgpu::VertexBufferLayout<'a>>],
    pub format: wgpu::TextureFormat,
    pub blend: Option<wgpu::BlendState>,
}

/// A triangle-list pipeline drawing into one colour target.
pub fn pipeline(device: &wgpu::Device, parts: PipelineParts<'_>) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(parts.label),
        layout: Some(parts.layout),
        vertex: wgpu::VertexState {
            module: parts.shader,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: parts.buffers,
        },
        fragment: Some(wgpu::FragmentState {
            module: parts.shader,
            entry_point: Some(parts.fragment),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: parts.format,
                blend: parts.blend,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    })
}

pub fn globals_layout(device: &wgpu::Device, label: &str) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &[uniform_entry()],
    })
}

/// A uniform buffer at binding 0, for both stages.
pub fn uniform_entry() -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// A 2D texture at binding 1, for the fragment stage.
pub fn texture_entry(filterable: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: 1,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

/// A uniform buffer + bind group holding a target size.
pub fn globals_bind_group(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    width: u32,
    height: u32,
) -> wgpu::BindGroup {
    let globals = Globals { target: [width as f32, height as f32], _pad: [0.0; 2] };
    let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("globals"),
        contents: bytemuck::bytes_of(&globals),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("globals"),
        layout,
        entries: &[wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_colour_runs_merge_into_one_instance() {
        let mut out = Vec::new();
        let red = rgba(0xff0000, 1.0);
        for col in 0..10 {
            push_merged(&mut out, Rect::solid(col as f32 * 8.0, 16.0, 8.0, 16.0, red));
        }
        push_merged(&mut out, Rect::solid(80.0, 16.0, 8.0, 16.0, rgba(0x00ff00, 1.0)));
        push_merged(&mut out, Rect::solid(88.0, 32.0, 8.0, 16.0, rgba(0x00ff00, 1.0)));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].size, [80.0, 16.0]);
    }

    #[test]
    fn rect_layout_matches_the_shader() {
        assert_eq!(std::mem::size_of::<Rect>(), 40);
    }
}
