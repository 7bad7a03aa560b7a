//! Draws grid layers onto the target at pixel positions (see
//! `shaders/composite.wgsl`). Moving a window later (smooth scrolling,
//! animation) only changes its placement, never its text.

use bytemuck::{Pod, Zeroable};

use super::rects::{Blend, PREMULTIPLIED_OVER, PipelineParts, pipeline, texture_entry, uniform_entry};

/// Where a layer is drawn, in target pixels.
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct Placement {
    pub pos: [f32; 2],
    pub size: [f32; 2],
    /// The text's rect in the layer (x0, y0, x1, y1), between the margins:
    /// its rows are read through the ring (see `ring::RowMap`), moved by
    /// the scroll offset. Outside it, rows are read as they are.
    pub text: [f32; 4],
    /// The scroll offset (texture row = layer row + offset), the ring's
    /// height, the ring's first row (`base`), all in pixels, and the
    /// texture row of the bottom margin.
    pub scroll: [f32; 4],
}

impl Placement {
    /// A layer at `pos`, `size` pixels, read row for row.
    pub fn fixed(pos: [f32; 2], size: [f32; 2]) -> Placement {
        Placement {
            pos,
            size,
            text: [0.0, 0.0, size[0], size[1]],
            scroll: [0.0, size[1].max(1.0), 0.0, size[1]],
        }
    }
}

pub struct CompositePipeline {
    over: wgpu::RenderPipeline,
    replace: wgpu::RenderPipeline,
    pub globals_layout: wgpu::BindGroupLayout,
    pub layer_layout: wgpu::BindGroupLayout,
}

impl CompositePipeline {
    /// Layers composed with bind groups of `globals_layout` (the target's
    /// size) and `layer_layout` ([`layer_layout`]).
    pub fn new(
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
        globals_layout: wgpu::BindGroupLayout,
        layer_layout: wgpu::BindGroupLayout,
    ) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("composite.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/composite.wgsl").into()),
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("composite"),
            bind_group_layouts: &[Some(&globals_layout), Some(&layer_layout)],
            immediate_size: 0,
        });
        let make = |blend, label| {
            pipeline(
                device,
                PipelineParts {
                    label,
                    shader: &shader,
                    fragment: "fs_main",
                    layout: &layout,
                    buffers: &[],
                    format,
                    blend,
                },
            )
        };
        CompositePipeline {
            over: make(Some(PREMULTIPLIED_OVER), "composite over"),
            replace: make(None, "composite replace"),
            globals_layout,
            layer_layout,
        }
    }

    /// Draws a layer over what is there (`Blend::Over`: floats, which may
    /// be blended), or in its place (`Blend::Replace`: grids that own
    /// their area, so a translucent background does not pile up on the
    /// one under it).
    pub fn draw(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        globals: &wgpu::BindGroup,
        layer: &wgpu::BindGroup,
        blend: Blend,
    ) {
        pass.set_pipeline(match blend {
            Blend::Over => &self.over,
            Blend::Replace => &self.replace,
        });
        pass.set_bind_group(0, globals, &[]);
        pass.set_bind_group(1, layer, &[]);
        pass.draw(0..6, 0..1);
    }
}

/// A layer's bind group layout: its placement and its texture.
pub fn layer_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("composite layer"),
        entries: &[uniform_entry(), texture_entry(false)],
    })
}
