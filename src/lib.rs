//! vireo: a GPU-rendered desktop GUI for Neovim.
//!
//! - [`rpc`]: msgpack-RPC session over any byte stream.
//! - [`nvim`]: spawning/connecting, attaching, redraw decoding.
//! - [`model`]: the pure editor state and the compositor.
//! - [`snapshot`]: headless runs that write the composed screen.
//! - [`replay`]: recorded streams through decoder and model.
//! - [`render`]: wgpu drawing; [`present`]: frames onto the window.
//! - [`trace`]: timestamps of start-up and of keys on their way to the screen.

pub mod app;
pub mod cli;
pub mod input;
pub mod model;
pub mod nvim;
pub mod own_env;
pub mod present;
pub mod render;
pub mod replay;
pub mod rpc;
pub mod session;
pub mod settings;
pub mod snapshot;
pub mod trace;
pub mod util;
pub mod version;
