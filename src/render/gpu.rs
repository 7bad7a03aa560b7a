//! The wgpu device: any adapter works, including Mesa's software Vulkan
//! (lavapipe) on machines with no GPU.

use std::path::{Path, PathBuf};

/// lavapipe's setting for its rasteriser threads.
const LP_THREADS: &str = "LP_NUM_THREADS";

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
    // SAFETY: the caller runs no other thread.
    unsafe { crate::own_env::set_unless_users(LP_THREADS, || Some("0")) };
}

/// The Vulkan loader's list of driver manifests to load: the name every
/// loader reads (newer ones also read it as `VK_DRIVER_FILES`).
const DRIVER_FILES: &str = "VK_ICD_FILENAMES";

/// The loader's variables with which a user chooses the drivers.
const USER_DRIVER_VARIABLES: [&str; 5] = [
    "VK_DRIVER_FILES",
    "VK_ICD_FILENAMES",
    "VK_ADD_DRIVER_FILES",
    "VK_LOADER_DRIVERS_SELECT",
    "VK_LOADER_DRIVERS_DISABLE",
];

/// Has the Vulkan loader load lavapipe alone on a machine with no GPU,
/// unless the user chose the drivers with one of `USER_DRIVER_VARIABLES`.
/// The loader otherwise loads every driver installed, and each looks for
/// its device (Debian's mesa-vulkan-drivers holds Intel's two and AMD's
/// beside lavapipe): on a machine without a GPU they find none, and
/// loading them costs 6 MB of resident memory (0.9 of it anonymous) and
/// about 10 ms before the device is ready.
///
/// # Safety
/// No other thread may be running: it sets an environment variable.
pub unsafe fn load_lavapipe_alone_without_a_gpu() {
    if USER_DRIVER_VARIABLES.iter().any(|name| std::env::var_os(name).is_some()) {
        return;
    }
    let manifest = || lavapipe_alone(Path::new("/dev"), &driver_manifest_folders(), std::env::consts::ARCH);
    // SAFETY: the caller runs no other thread.
    unsafe { crate::own_env::set_unless_users(DRIVER_FILES, manifest) };
}

/// lavapipe's driver manifest for `arch` in the first of `folders` that
/// holds one, when `dev` holds no device file through which a Vulkan
/// driver reaches a GPU (and `dev` can be read).
pub fn lavapipe_alone(dev: &Path, folders: &[PathBuf], arch: &str) -> Option<PathBuf> {
    if has_gpu_device_files(dev).unwrap_or(true) {
        return None;
    }
    let name = format!("lvp_icd.{arch}.json");
    folders.iter().map(|folder| folder.join(&name)).find(|path| path.is_file())
}

/// Whether `dev` holds a GPU's device file: a DRM node (`dri/`, Mesa's
/// and NVIDIA's drivers), NVIDIA's own nodes, WSL's `dxg`, or the nodes
/// of Arm's, Qualcomm's and Vivante's drivers.
fn has_gpu_device_files(dev: &Path) -> std::io::Result<bool> {
    const GPU_NODES: [&str; 6] = ["dri", "nvidia", "dxg", "mali", "kgsl", "galcore"];
    for entry in std::fs::read_dir(dev)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if GPU_NODES.iter().any(|node| name.starts_with(node)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Where the Vulkan loader looks for driver manifests on Linux and the
/// BSDs, in its order.
fn driver_manifest_folders() -> Vec<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let home = var("HOME").map(PathBuf::from);
    let config_home =
        var("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| Some(home.as_ref()?.join(".config")));
    let data_home =
        var("XDG_DATA_HOME").map(PathBuf::from).or_else(|| Some(home.as_ref()?.join(".local/share")));
    let config_dirs = var("XDG_CONFIG_DIRS").unwrap_or_else(|| "/etc/xdg".into());
    let data_dirs = var("XDG_DATA_DIRS").unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    config_home
        .into_iter()
        .chain(std::env::split_paths(&config_dirs))
        .chain([PathBuf::from("/etc")])
        .chain(data_home)
        .chain(std::env::split_paths(&data_dirs))
        .map(|folder| folder.join("vulkan/icd.d"))
        .collect()
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
        render_target(&self.device, label, width, height, format)
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

/// A texture frames are drawn into, copied into and read back from.
pub fn render_target(
    device: &wgpu::Device,
    label: &str,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder with `dev` entries and manifest folders.
    fn scratch(name: &str, dev: &[&str], manifests: &[&str]) -> (PathBuf, Vec<PathBuf>) {
        let root = std::env::temp_dir().join(format!("vireo-drivers-{}-{name}", std::process::id()));
        std::fs::remove_dir_all(&root).ok();
        let dev_dir = root.join("dev");
        std::fs::create_dir_all(&dev_dir).unwrap();
        for node in dev {
            std::fs::create_dir_all(dev_dir.join(node)).unwrap();
        }
        let folders = vec![root.join("first/vulkan/icd.d"), root.join("second/vulkan/icd.d")];
        for manifest in manifests {
            let path = root.join(manifest);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        (root, folders)
    }

    #[test]
    fn lavapipe_is_loaded_alone_only_where_no_gpu_device_file_exists() {
        let manifest = "second/vulkan/icd.d/lvp_icd.x86_64.json";
        let (root, folders) = scratch("none", &["null", "tty0", "shm"], &[manifest]);
        assert_eq!(lavapipe_alone(&root.join("dev"), &folders, "x86_64"), Some(root.join(manifest)));
        // Another architecture's manifest only, or none: the loader's choice.
        assert_eq!(lavapipe_alone(&root.join("dev"), &folders, "aarch64"), None);
        std::fs::remove_dir_all(root).ok();
        // The first folder's manifest wins, as it does in the loader.
        let (root, folders) =
            scratch("both", &["null"], &[manifest, "first/vulkan/icd.d/lvp_icd.x86_64.json"]);
        assert_eq!(
            lavapipe_alone(&root.join("dev"), &folders, "x86_64"),
            Some(root.join("first/vulkan/icd.d/lvp_icd.x86_64.json"))
        );
        for node in ["dri", "nvidia0", "nvidiactl", "dxg", "mali0", "kgsl-3d0", "galcore"] {
            let (root, folders) = scratch(node, &["null", node], &[manifest]);
            assert_eq!(lavapipe_alone(&root.join("dev"), &folders, "x86_64"), None, "/dev/{node}");
            std::fs::remove_dir_all(root).ok();
        }
        // A `dev` that cannot be read might hold a GPU.
        assert_eq!(lavapipe_alone(&root.join("missing"), &folders, "x86_64"), None);
        std::fs::remove_dir_all(root).ok();
    }
}
