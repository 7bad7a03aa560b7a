//! The first frame's draws, once, into a small target, before the first
//! frame: a CPU rasteriser (lavapipe) compiles the code for a pipeline's
//! draw state at its first draw (about 12 ms of the first frame at 100x30),
//! and this work is then done on the driver's queue thread while vireo
//! shapes the first screen, instead of after it. The submission is not
//! waited for.

use glyphon::{
    Attrs, Buffer, Cache, Metrics, Resolution, Shaping, SwashCache, TextArea, TextAtlas, TextBounds,
    TextRenderer, Viewport,
};

use super::begin_pass;
use super::composite::CompositePipeline;
use super::rects::{self, Blend, Rect, RectPipeline};

/// Pixels a side of the throwaway targets.
const SIDE: u32 = 16;

/// The pipelines a first frame draws with.
pub struct FirstFrame<'a> {
    pub cache: &'a Cache,
    pub rects: &'a RectPipeline,
    pub composite: &'a CompositePipeline,
}

impl FirstFrame<'_> {
    /// Draws with the pipelines (rects, text, the composite, the cursor) in
    /// the first frame's draw states, formats and bindings. Nothing of it
    /// stays: the glyph goes to an atlas of its own. An error (the device
    /// refused a draw) is the caller's to report: nothing depends on the
    /// warm-up.
    pub fn warm_up(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        format: wgpu::TextureFormat,
    ) -> Result<(), String> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let drawn = self.draw(device, queue, format);
        let refused = pollster::block_on(scope.pop());
        drawn.and(refused.map_or(Ok(()), |e| Err(e.to_string())))
    }

    fn draw(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        format: wgpu::TextureFormat,
    ) -> Result<(), String> {
        let FirstFrame { cache, rects, composite } = *self;
        let texture = |label, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d { width: SIDE, height: SIDE, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT | usage,
                view_formats: &[],
            })
        };
        let layer = texture("warm-up layer", wgpu::TextureUsages::TEXTURE_BINDING);
        let target = texture("warm-up target", wgpu::TextureUsages::empty());
        let layer_view = layer.create_view(&wgpu::TextureViewDescriptor::default());
        let target_view = target.create_view(&wgpu::TextureViewDescriptor::default());

        let mut fonts = super::font::regular_only();
        let mut swash = SwashCache::new();
        let mut atlas = TextAtlas::with_color_mode(device, queue, cache, format, glyphon::ColorMode::Web);
        let mut text = TextRenderer::new(&mut atlas, device, wgpu::MultisampleState::default(), None);
        let mut viewport = Viewport::new(device, cache);
        viewport.update(queue, Resolution { width: SIDE, height: SIDE });
        let mut buffer = Buffer::new(&mut fonts, Metrics::new(12.0, 14.0));
        buffer.set_text("a", &Attrs::new(), Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut fonts, false);
        let area = TextArea {
            buffer: &buffer,
            left: 0.0,
            top: 0.0,
            scale: 1.0,
            bounds: TextBounds { left: 0, top: 0, right: SIDE as i32, bottom: SIDE as i32 },
            default_color: glyphon::Color::rgb(255, 255, 255),
            custom_glyphs: &[],
        };
        text.prepare(device, queue, &mut fonts, &mut atlas, &viewport, [area], &mut swash)
            .map_err(|e| e.to_string())?;

        let globals = rects::globals_bind_group(device, &rects.globals_layout, SIDE, SIDE);
        let composite_globals = rects::globals_bind_group(device, &composite.globals_layout, SIDE, SIDE);
        let placement = super::composite::Placement::fixed([0.0; 2], [SIDE as f32; 2]);
        let placement = wgpu::util::DeviceExt::create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("warm-up placement"),
                contents: bytemuck::bytes_of(&placement),
                usage: wgpu::BufferUsages::UNIFORM,
            },
        );
        let layer_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("warm-up layer"),
            layout: &composite.layer_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: placement.as_entire_binding() },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&layer_view),
                },
            ],
        });
        let rect = [Rect::solid(0.0, 0.0, SIDE as f32, SIDE as f32, [0.1, 0.1, 0.1, 1.0])];

        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("warm-up") });
        {
            // A layer's rows: backgrounds, then text over them.
            let mut pass = begin_pass(
                &mut encoder,
                &layer_view,
                wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                "warm-up layer",
            );
            rects.draw(device, None, &mut pass, &globals, &rect, Blend::Replace);
            rects.draw(device, None, &mut pass, &globals, &rect, Blend::Over);
            text.render(&atlas, &viewport, &mut pass).map_err(|e| e.to_string())?;
        }
        {
            // The screen: a layer composed in, the cursor over it.
            let mut pass = begin_pass(&mut encoder, &target_view, wgpu::LoadOp::Load, "warm-up compose");
            pass.set_scissor_rect(0, 0, SIDE, SIDE);
            composite.draw(&mut pass, &composite_globals, &layer_group, Blend::Replace);
            composite.draw(&mut pass, &composite_globals, &layer_group, Blend::Over);
            rects.draw(device, None, &mut pass, &globals, &rect, Blend::Over);
        }
        queue.submit([encoder.finish()]);
        Ok(())
    }
}
