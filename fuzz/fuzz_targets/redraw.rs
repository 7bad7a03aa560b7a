//! Coverage-guided fuzzing of everything between nvim's bytes and the GPU:
//! framing, decoding, the model and the renderer's geometry (see
//! `fuzz/harness.rs`). Run with `tools/fuzz.sh`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
