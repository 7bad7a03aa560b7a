//! Where the time goes: timestamps of start-up stages and of each key's
//! way to the screen, written to a file for `--trace FILE` (or
//! `VIREO_TRACE=FILE`).
//!
//! ```text
//!   any thread: trace::mark(Stage::X)
//!     off: one relaxed atomic load, nothing else
//!     on:  "<ms since main()> <stage>\n" appended to the file (one
//!          write each, so a killed vireo still leaves its trace)
//! ```
//!
//! Start-up, on three lanes that meet at the first frame:
//!
//! - nvim (IO thread): nvim-spawned, nvim-attached, flush (every redraw
//!   flush nvim sends; the first is the first screen);
//! - window (main thread): fonts-ready (the bundled font), window-created;
//! - graphics (its own thread): instance-ready (the driver loaded),
//!   adapter-ready, device-ready, pipelines-ready;
//!
//! then frame-received (the main thread took nvim's screen), draw-begun
//! (its frame begins), frame-built, previewed (a small frame drawn on the
//! CPU put in the window instead of the GPU's, see `render::preview`; no
//! frame-submitted or gpu-done follows), frame-submitted, gpu-done (the frame's
//! GPU work is finished: read back on the shared-memory path, reported by
//! a later poll on the swapchain), presented (every frame; the first is
//! the first frame visible). process-start is 0, when `main` began;
//! system-fonts is the end of the system-font scan (after the first frame,
//! unless it needs them). Per key: key (winit's key press), input-written
//! (the batch with `nvim_input` flushed to nvim), then the flush and frame
//! stages again.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// A point on the way from a process start or a key to the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    ProcessStart,
    NvimSpawned,
    InstanceReady,
    WindowCreated,
    AdapterReady,
    DeviceReady,
    PipelinesReady,
    FontsReady,
    NvimAttached,
    Flush,
    FrameReceived,
    DrawBegun,
    FrameBuilt,
    FrameSubmitted,
    GpuDone,
    Previewed,
    Presented,
    SystemFonts,
    Key,
    InputWritten,
}

impl Stage {
    /// The name written to the trace.
    pub fn name(self) -> &'static str {
        match self {
            Stage::ProcessStart => "process-start",
            Stage::NvimSpawned => "nvim-spawned",
            Stage::InstanceReady => "instance-ready",
            Stage::WindowCreated => "window-created",
            Stage::AdapterReady => "adapter-ready",
            Stage::DeviceReady => "device-ready",
            Stage::PipelinesReady => "pipelines-ready",
            Stage::FontsReady => "fonts-ready",
            Stage::NvimAttached => "nvim-attached",
            Stage::Flush => "flush",
            Stage::FrameReceived => "frame-received",
            Stage::DrawBegun => "draw-begun",
            Stage::FrameBuilt => "frame-built",
            Stage::FrameSubmitted => "frame-submitted",
            Stage::GpuDone => "gpu-done",
            Stage::Previewed => "previewed",
            Stage::Presented => "presented",
            Stage::SystemFonts => "system-fonts",
            Stage::Key => "key",
            Stage::InputWritten => "input-written",
        }
    }
}

static ON: AtomicBool = AtomicBool::new(false);
static TRACE: OnceLock<(Instant, Mutex<std::fs::File>)> = OnceLock::new();

/// Starts tracing into `path` (created or truncated), with times counted
/// from `started`; writes the process-start stage.
pub fn start(path: &std::path::Path, started: Instant) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    if TRACE.set((started, Mutex::new(file))).is_ok() {
        ON.store(true, Ordering::Relaxed);
        mark(Stage::ProcessStart);
    }
    Ok(())
}

/// Whether a trace is being written.
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Notes that `stage` was reached now (nothing when tracing is off).
#[inline]
pub fn mark(stage: Stage) {
    if ON.load(Ordering::Relaxed) {
        record(stage);
    }
}

#[cold]
fn record(stage: Stage) {
    let Some((started, file)) = TRACE.get() else { return };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let line = format!("{ms:.3} {}\n", stage.name());
    let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(e) = file.write_all(line.as_bytes()) {
        log::warn!("trace not written: {e}");
        ON.store(false, Ordering::Relaxed);
    }
}
