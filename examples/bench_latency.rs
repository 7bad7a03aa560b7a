//! Keypress-to-pixel latency of the real window under Xvfb.
//!
//! A key is injected as an X event (XTest), and the cell where its
//! character will appear is read back (GetImage) until its pixels change:
//! the time in between is what a user waits. Insert mode, 100x30.
//!
//!   cargo build --release && cargo run --release --example bench_latency [KEYS]
//!
//! KEYS defaults to 60 (at most 2,500: 90 a row, 28 rows). Needs Xvfb and
//! nvim (bash tools/setup.sh). `VIREO_PRESENT=surface` measures the
//! swapchain instead of shared-memory presentation on a CPU adapter;
//! `VIREO_BIN=PATH` measures another vireo binary (to compare two builds).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, KEY_PRESS_EVENT, KEY_RELEASE_EVENT};
use x11rb::protocol::xtest::ConnectionExt as _;

/// Stopped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        Command::new("kill").arg(self.0.id().to_string()).status().ok();
        self.0.wait().ok();
    }
}

/// Keycodes of a s d f g h j k l in X's default (US) map.
const KEYCODES: [u8; 9] = [38, 39, 40, 41, 42, 43, 44, 45, 46];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(60).min(2500);
    let root = env!("CARGO_MANIFEST_DIR");
    // VIREO_BIN=PATH measures another build (an A/B of two commits).
    let vireo = std::env::var("VIREO_BIN").unwrap_or_else(|_| format!("{root}/target/release/vireo"));
    let nvim = std::env::var("VIREO_NVIM").unwrap_or_else(|_| "nvim".into());
    let display = format!(":{}", 600 + std::process::id() % 300);
    let _xvfb = Proc(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"])
            .stderr(Stdio::null())
            .spawn()?,
    );
    let conn = wait(Duration::from_secs(10), || x11rb::connect(Some(&display)).ok())?.0;
    let _app = Proc(
        Command::new(&vireo)
            .args(["--nvim", &nvim, "--grid", "100x30", "--", "--clean", "-n"])
            .env("DISPLAY", &display)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{vireo}: {e} (cargo build --release first)"))?,
    );
    let window: u32 = wait(Duration::from_secs(20), || {
        let out = Command::new("xdotool")
            .args(["search", "--class", "vireo"])
            .env("DISPLAY", &display)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).lines().next()?.trim().parse().ok()
    })?;
    let m = vireo::render::font::Fonts::bundled(1.0).metrics();
    let (cw, ch) = (m.width as i16, m.height as i16);
    let press = |code: u8| -> Result<(), Box<dyn std::error::Error>> {
        conn.xtest_fake_input(KEY_PRESS_EVENT, code, 0, window, 0, 0, 0)?;
        conn.xtest_fake_input(KEY_RELEASE_EVENT, code, 0, window, 0, 0, 0)?;
        conn.flush()?;
        Ok(())
    };
    let cell = |col: i16, row: i16| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let reply = conn
            .get_image(ImageFormat::Z_PIXMAP, window, col * cw, row * ch, cw as u16, ch as u16, !0)?
            .reply()?;
        Ok(reply.data)
    };
    Command::new("xdotool").args(["windowfocus", &window.to_string()]).env("DISPLAY", &display).status()?;
    std::thread::sleep(Duration::from_millis(1500));
    press(31)?; // i: insert mode
    std::thread::sleep(Duration::from_millis(500));
    let mut samples = Vec::with_capacity(keys);
    for k in 0..keys {
        let (col, row) = ((k % 90) as i16, (k / 90) as i16);
        if k > 0 && col == 0 {
            press(36)?; // Return: a fresh line keeps the test cells blank
            std::thread::sleep(Duration::from_millis(200));
        }
        let before = cell(col, row)?;
        let start = Instant::now();
        press(KEYCODES[k % KEYCODES.len()])?;
        loop {
            if cell(col, row)? != before {
                samples.push(start.elapsed().as_secs_f64() * 1e3);
                break;
            }
            if start.elapsed() > Duration::from_secs(2) {
                return Err(format!("key {k}: no change on screen within 2 s").into());
            }
        }
        // Let the frame settle before the next key.
        std::thread::sleep(Duration::from_millis(60));
    }
    samples.sort_by(f64::total_cmp);
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "keypress to pixel over {} keys: median {:.2} ms, p90 {:.2} ms, min {:.2} ms, max {:.2} ms",
        samples.len(),
        pick(0.5),
        pick(0.9),
        samples[0],
        samples[samples.len() - 1]
    );
    Ok(())
}

fn wait<T>(timeout: Duration, mut poll: impl FnMut() -> Option<T>) -> Result<T, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = poll() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err("timed out starting up".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
