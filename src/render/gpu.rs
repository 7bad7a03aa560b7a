//! The wgpu device: any adapter works, including Mesa's software Vulkan
//! (lavapipe) on machines with no GPU.

use std::sync::atomic::{AtomicBool, Ordering};

/// lavapipe's setting for its rasteriser threads.
const LP_THREADS: &str = "LP_NUM_THREADS";

/// Whether vireo set `LP_THREADS` itself.
static LP_THREADS_SET: AtomicBool = AtomicBool::new(false);

/// Has lavapipe (Vulkan on the CPU) rasterise on its queue thread, unless
/// the user set `LP_NUM_THREADS`. By default lavapipe hands each render
/// pass to rasteriser threads of its own and waits for them; a window's
/// frames are a few rows each, and waking those threads costs more than
/// the drawing: scrolling takes about a quarter less CPU without them, a
/// key reaches the screen about 0.3 ms sooner, and a first frame drawn
/// whole comes a few milliseconds later. Other drivers ignore it.
///
/// # Safety
/// No other thread may be running: it sets an environment variable.
pub unsafe fn rasterise_on_the_queue_thread() {
    if std::env::var_os(LP_THREADS).is_none() {
        // SAFETY: the caller runs no other thread.
        unsafe { std::env::set_var(LP_THREADS, "0") };
        LP_THREADS_SET.store(true, Ordering::Relaxed);
    }
}

/// The variables vireo set in its own environment for the driver: taken
/// out of its children's (nvim, a link opener), which get the environment
/// vireo was started with.
pub fn own_variables() -> &'static [&'static str] {
    if LP_THREADS_SET.load(Ordering::Relaxed) { &[LP_THREADS] } else { &[] }
}

/// Why no GPU device could be had.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no graphics adapter found ({0}); on a machine without a GPU install Mesa's Vulkan driver (mesa-vulkan-drivers)"
    )]
    NoAdapter(String),
    #[error("the graphics device could not be opened: {0}")]
    Device(String),
    #[error("the window surface could not be created: {0}")]
    Surface(String),
    #[error("reading the rendered image back failed: {0}")]
    ReadBack(String),
}

pub struct Gpu {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

impl Gpu {
    /// A texture the renderer can draw into and frames can be copied out of
    /// (and, for kept frames, into).
    pub fn render_target(
        &self,
        label: &str,
        width: u32,
        height: u32,
        format: wgpu::TextureFormat,
    ) -> wgpu::Texture {
        self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::COPY_SRC
                | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        })
    }

    /// Opens a device; with `surface`, one that can present to it.
    pub fn new(instance: wgpu::Instance, surface: Option<&wgpu::Surface<'_>>) -> Result<Gpu, GpuError> {
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::LowPower,
            force_fallback_adapter: false,
            compatible_surface: surface,
            apply_limit_buckets: false,
        }))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        crate::trace::mark(crate::trace::Stage::AdapterReady);
        log::info!("graphics adapter: {:?}", adapter.get_info());
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("vireo"),
            // The adapter's own texture and buffer sizes: a big window or
            // snapshot (1000x400 cells is 9000x8000 pixels) needs buffers
            // beyond the 256 MiB of the portable defaults to read frames
            // back.
            required_limits: wgpu::Limits {
                max_buffer_size: adapter.limits().max_buffer_size,
                ..wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits())
            },
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(e.to_string()))?;
        // A bad frame must not take the editor (and unsaved work) down.
        device.on_uncaptured_error(std::sync::Arc::new(|e| log::error!("GPU error: {e}")));
        crate::trace::mark(crate::trace::Stage::DeviceReady);
        Ok(Gpu { instance, adapter, device, queue })
    }

    /// An instance for offscreen work and windows alike: the Vulkan, Metal
    /// and DX12 backends take no display connection, so it can be made
    /// before there is one. `WGPU_BACKEND` etc. override the backends.
    pub fn instance() -> wgpu::Instance {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        // Vulkan/Metal/DX12; Mesa's lavapipe is a Vulkan driver, so machines
        // without a GPU need no GL fallback.
        desc.backends = wgpu::Backends::PRIMARY;
        desc.flags = instance_flags();
        let instance = wgpu::Instance::new(desc.with_env());
        crate::trace::mark(crate::trace::Stage::InstanceReady);
        instance
    }
}

/// wgpu's flags for the build, without the checks of indirect draws and
/// dispatches: vireo makes none, and the checks cost every start-up a
/// device's compute pipelines (on lavapipe about 8 ms compiled by LLVM
/// and 4 MiB resident). `WGPU_VALIDATION_INDIRECT_CALL=1` turns them back
/// on, and the other `WGPU_*` flags apply as before.
pub fn instance_flags() -> wgpu::InstanceFlags {
    wgpu::InstanceFlags::from_build_config() - wgpu::InstanceFlags::VALIDATION_INDIRECT_CALL
}
