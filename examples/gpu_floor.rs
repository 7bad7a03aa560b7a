//! The least any wgpu renderer pays on this machine's graphics adapter, so
//! that vireo's figures can be told apart into "vireo's own work" and "the
//! adapter's floor" (issue 11: show why a target cannot be met).
//!
//!   cargo run --release --example gpu_floor [ROUNDS]
//!
//! One process, no window, no nvim, no fonts: the smallest program that
//! draws a cell and hands its pixels on, as vireo does on a CPU adapter
//! (shared-memory presentation reads the changed rows back). It prints
//! `key value` lines:
//!
//! - `device_ms`: `main` to a device (on lavapipe: loading the driver and
//!   LLVM, which every wgpu program pays before its first pixel).
//! - `first_pixels_ms`: `main` to the first drawn rows read back, with one
//!   flat-colour pipeline, the least a first frame can need.
//! - `anon_kib_device`, `anon_kib_first_frame`, `rss_kib_*`: anonymous
//!   (private) and resident memory after the device and after that first
//!   frame of 900x540 pixels.
//! - `cell_round_trip_ms p50 p90`: one cell drawn and its row (900x18 px)
//!   read back, ROUNDS times: what a keypress costs the adapter at least.
//! - `empty_submit_ms p50 p90`: an empty submission and its completion.
//! - `cell_in_passes_ms`: p50 of one cell drawn and its row read back as
//!   above, but with the cell drawn in 1, 2 and 3 render passes of one
//!   submission: what each further pass (a layer's texture) costs a frame.
//! - `scroll_frame_cpu_ms`: CPU time (all threads) per frame for a frame
//!   changed all over, as a scrolled window is: the window's rows moved by
//!   one (a texture copy), one new row drawn, the 900x540 px read back.

use std::time::{Duration, Instant};

const WIDTH: u32 = 900;
const HEIGHT: u32 = 540;
const CELL: (u32, u32) = (9, 18);
const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Bgra8Unorm;

const SHADER: &str = r"
struct Rect { @location(0) pos: vec4<f32> };
@vertex fn vs(@builtin(vertex_index) i: u32, r: Rect) -> @builtin(position) vec4<f32> {
    let corner = vec2<f32>(f32(i & 1u), f32(i >> 1u));
    return vec4<f32>(mix(r.pos.xy, r.pos.zw, corner), 0.0, 1.0);
}
@fragment fn fs() -> @location(0) vec4<f32> { return vec4<f32>(0.8, 0.7, 0.2, 1.0); }
";

fn main() {
    let start = Instant::now();
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);

    // A program that makes no indirect draws can do without wgpu's checks
    // of them, which compile compute pipelines when the device is made.
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.flags = wgpu::InstanceFlags::from_build_config() - wgpu::InstanceFlags::VALIDATION_INDIRECT_CALL;
    let instance = wgpu::Instance::new(desc.with_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .expect("no graphics adapter (bash tools/setup.sh installs lavapipe)");
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
        .expect("the graphics device could not be opened");
    println!("adapter {:?} {}", adapter.get_info().device_type, adapter.get_info().name);
    println!("device_ms {:.1}", ms(start.elapsed()));
    println!("anon_kib_device {}", memory_kib("Anonymous:"));
    println!("rss_kib_device {}", memory_kib("Rss:"));

    let floor = Floor::new(device, queue);
    floor.draw_rows(0, HEIGHT / CELL.1, true);
    floor.read_back(0, HEIGHT);
    println!("first_pixels_ms {:.1}", ms(start.elapsed()));
    println!("anon_kib_first_frame {}", memory_kib("Anonymous:"));
    println!("rss_kib_first_frame {}", memory_kib("Rss:"));

    let mut cell = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let t = Instant::now();
        let row = (i as u32 / 100) % (HEIGHT / CELL.1);
        floor.draw_cell(i as u32 % 100, row);
        floor.read_back(row * CELL.1, CELL.1);
        cell.push(ms(t.elapsed()));
    }
    println!("cell_round_trip_ms {}", quantiles(&mut cell));

    let mut empty = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        floor.queue.submit([]);
        floor.device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
        empty.push(ms(t.elapsed()));
    }
    println!("empty_submit_ms {}", quantiles(&mut empty));

    let mut passes = Vec::new();
    for count in 1..=3 {
        let mut times = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let t = Instant::now();
            let row = (i as u32 / 100) % (HEIGHT / CELL.1);
            floor.draw_cell_in_passes(i as u32 % 100, row, count);
            floor.read_back(row * CELL.1, CELL.1);
            times.push(ms(t.elapsed()));
        }
        passes.push(quantiles(&mut times).split(' ').next().unwrap_or_default().to_owned());
    }
    println!("cell_in_passes_ms {}", passes.join(" "));

    let cpu = cpu_time();
    for _ in 0..rounds {
        floor.scroll_frame();
        floor.read_back(0, HEIGHT);
    }
    println!("scroll_frame_cpu_ms {:.2}", ms(cpu_time() - cpu) / rounds as f64);
}

/// A target of the window's size, a second one to move rows through, a
/// flat-colour pipeline and a read-back buffer.
struct Floor {
    device: wgpu::Device,
    queue: wgpu::Queue,
    target: wgpu::Texture,
    spare: wgpu::Texture,
    pipeline: wgpu::RenderPipeline,
    rects: wgpu::Buffer,
    readback: wgpu::Buffer,
}

/// Bytes per read-back row: wgpu wants rows 256-byte aligned.
const PADDED: u32 =
    (WIDTH * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;

impl Floor {
    fn new(device: wgpu::Device, queue: wgpu::Queue) -> Floor {
        let texture = |label| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d { width: WIDTH, height: HEIGHT, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: FORMAT,
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                    | wgpu::TextureUsages::COPY_SRC
                    | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("flat"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("flat"),
            layout: None,
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: 16,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &wgpu::vertex_attr_array![0 => Float32x4],
                })],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleStrip,
                ..Default::default()
            },
            depth_stencil: None,
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: FORMAT,
                    blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        let rects = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("rects"),
            size: 16 * u64::from(HEIGHT / CELL.1),
            usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size: u64::from(PADDED * HEIGHT),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        Floor { target: texture("target"), spare: texture("spare"), device, queue, pipeline, rects, readback }
    }

    /// Rows `first..first + count` each get a bar; `clear` clears first.
    fn draw_rows(&self, first: u32, count: u32, clear: bool) {
        let rects: Vec<[f32; 4]> = (first..first + count)
            .map(|row| ndc(0, row * CELL.1, WIDTH / 2, row * CELL.1 + CELL.1 / 2))
            .collect();
        self.draw(&self.target, &rects, clear, None);
    }

    fn draw_cell(&self, column: u32, row: u32) {
        let (x, y) = (column * CELL.0, row * CELL.1);
        self.draw(&self.target, &[ndc(x, y, x + CELL.0, y + CELL.1)], false, None);
    }

    /// A cell drawn `passes` times, each in a render pass of its own, in
    /// one submission.
    fn draw_cell_in_passes(&self, column: u32, row: u32, passes: u32) {
        let (x, y) = (column * CELL.0, row * CELL.1);
        self.queue.write_buffer(&self.rects, 0, bytes(&[ndc(x, y, x + CELL.0, y + CELL.1)]));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let view = self.target.create_view(&Default::default());
        for _ in 0..passes {
            self.record_pass(&mut encoder, &view, wgpu::LoadOp::Load, 1);
        }
        self.queue.submit([encoder.finish()]);
    }

    /// The window's rows moved up by one through the spare texture and a
    /// new last row drawn: what a scrolled window changes.
    fn scroll_frame(&self) {
        let moved = wgpu::Extent3d { width: WIDTH, height: HEIGHT - CELL.1, depth_or_array_layers: 1 };
        fn at(texture: &wgpu::Texture, y: u32) -> wgpu::TexelCopyTextureInfo<'_> {
            wgpu::TexelCopyTextureInfo {
                texture,
                mip_level: 0,
                origin: wgpu::Origin3d { x: 0, y, z: 0 },
                aspect: wgpu::TextureAspect::All,
            }
        }
        let copy = (at(&self.target, CELL.1), at(&self.spare, 0), moved);
        let last = HEIGHT / CELL.1 - 1;
        self.draw(&self.spare, &[ndc(0, last * CELL.1, WIDTH / 2, HEIGHT)], false, Some(copy));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_texture(at(&self.spare, 0), at(&self.target, 0), self.target.size());
        self.queue.submit([encoder.finish()]);
    }

    fn draw(
        &self,
        target: &wgpu::Texture,
        rects: &[[f32; 4]],
        clear: bool,
        copy_first: Option<(wgpu::TexelCopyTextureInfo<'_>, wgpu::TexelCopyTextureInfo<'_>, wgpu::Extent3d)>,
    ) {
        self.queue.write_buffer(&self.rects, 0, bytes(rects));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        if let Some((from, to, size)) = copy_first {
            encoder.copy_texture_to_texture(from, to, size);
        }
        let view = target.create_view(&Default::default());
        let load = if clear { wgpu::LoadOp::Clear(wgpu::Color::BLACK) } else { wgpu::LoadOp::Load };
        self.record_pass(&mut encoder, &view, load, rects.len() as u32);
        self.queue.submit([encoder.finish()]);
    }

    /// A render pass into `view` drawing the first `count` rects.
    fn record_pass(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        view: &wgpu::TextureView,
        load: wgpu::LoadOp<wgpu::Color>,
        count: u32,
    ) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations { load, store: wgpu::StoreOp::Store },
            })],
            ..Default::default()
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_vertex_buffer(0, self.rects.slice(..));
        pass.draw(0..4, 0..count);
    }

    /// Rows `y..y + height` of the target into the buffer, mapped and read.
    fn read_back(&self, y: u32, height: u32) {
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &self.target,
                mip_level: 0,
                origin: wgpu::Origin3d { x: 0, y, z: 0 },
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &self.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(PADDED),
                    rows_per_image: Some(height),
                },
            },
            wgpu::Extent3d { width: WIDTH, height, depth_or_array_layers: 1 },
        );
        self.queue.submit([encoder.finish()]);
        let slice = self.readback.slice(..u64::from(PADDED * height));
        slice.map_async(wgpu::MapMode::Read, |r| r.expect("map"));
        self.device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
        let sum = slice
            .get_mapped_range()
            .expect("mapped")
            .iter()
            .step_by(4096)
            .map(|&b| u32::from(b))
            .sum::<u32>();
        std::hint::black_box(sum);
        self.readback.unmap();
    }
}

/// Pixel corners to clip space.
fn ndc(x0: u32, y0: u32, x1: u32, y1: u32) -> [f32; 4] {
    let x = |px: u32| px as f32 / WIDTH as f32 * 2.0 - 1.0;
    let y = |px: u32| 1.0 - px as f32 / HEIGHT as f32 * 2.0;
    [x(x0), y(y0), x(x1), y(y1)]
}

fn bytes(rects: &[[f32; 4]]) -> &[u8] {
    // SAFETY: [f32; 4] has no padding and any bytes are valid u8.
    unsafe { std::slice::from_raw_parts(rects.as_ptr().cast(), std::mem::size_of_val(rects)) }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// "p50 p90" of `values`, in ms.
fn quantiles(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!("{:.3} {:.3}", at(0.5), at(0.9))
}

/// A `smaps_rollup` figure of this process (`Rss:`, `Anonymous:`), in KiB.
fn memory_kib(key: &str) -> u64 {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    rollup
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User and system time of the whole process, every thread.
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
