//! The `[font]` table as a user writes it: `vireo --snapshot` with a
//! config file, the PNG's cells measured and their pixels counted.
//!
//! tests/fixtures/fonts/VireoTestSymbols.ttf is installed for these runs
//! (in `$XDG_DATA_HOME/fonts`). Its glyphs are solid blocks, so a cell it
//! draws is nearly all lit, where an empty box or another font's drawing
//! of the same character is not.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use vireo::render::font::Fonts;
use vireo::render::offscreen::Image;

/// A folder of this test's own.
fn temp(name: &str) -> PathBuf {
    let dir = common::scratch(&format!("fonts-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `vireo --snapshot` of `file` at `cols`x`rows` with `config` as its
/// config file and the test font installed.
fn snapshot(name: &str, config: &str, file: &Path, cols: usize, rows: usize) -> Image {
    let dir = temp(name);
    let fonts = dir.join("data/fonts");
    std::fs::create_dir_all(&fonts).unwrap();
    std::fs::copy("tests/fixtures/fonts/VireoTestSymbols.ttf", fonts.join("VireoTestSymbols.ttf")).unwrap();
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let png = dir.join("shot.png");
    let out = Command::new(env!("CARGO_BIN_EXE_vireo"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(["--grid", &format!("{cols}x{rows}"), "--snapshot"])
        .arg(&png)
        .arg("--nvim")
        .arg(common::nvim_binary())
        .args(["--", "--clean", "-n"])
        .arg(file)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .stdin(Stdio::null())
        .output()
        .expect("vireo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("config.toml:"), "the config has no problems: {stderr}");
    let image = Image::read_png(&png).unwrap();
    std::fs::remove_dir_all(dir).ok();
    image
}

/// The share of pixels in cells `cols` of row 0 that differ from the
/// background (the top-left pixel of cell `blank`, which has no text).
fn lit(image: &Image, cols: std::ops::Range<u32>, blank: u32) -> f64 {
    let (w, h) = (image.width / COLS as u32, image.height / ROWS as u32);
    let background = image.pixel(blank * w, 0);
    let pixels: Vec<_> = (0..h).flat_map(|y| (cols.start * w..cols.end * w).map(move |x| (x, y))).collect();
    let lit = pixels.iter().filter(|&&(x, y)| image.pixel(x, y) != background).count();
    lit as f64 / pixels.len() as f64
}

const COLS: usize = 20;
const ROWS: usize = 3;

#[test]
fn a_font_size_in_the_config_changes_the_cell_size() {
    let file = temp("size").join("t.txt");
    std::fs::write(&file, "hello\n").unwrap();
    let small = snapshot("default", "", &file, COLS, ROWS);
    let big = snapshot("big", "[font]\nsize = 20\n", &file, COLS, ROWS);
    let mut fonts = Fonts::bundled(1.0);
    let m = fonts.metrics();
    assert_eq!((small.width, small.height), (COLS as u32 * m.width, ROWS as u32 * m.height));
    let mut table = vireo::settings::Settings::default();
    table.set("font", toml::from_str("size = 20").unwrap()).unwrap();
    fonts.set_config(&table.font);
    let m20 = fonts.metrics();
    assert!(m20.width > m.width && m20.height > m.height, "{m:?} {m20:?}");
    assert_eq!((big.width, big.height), (COLS as u32 * m20.width, ROWS as u32 * m20.height));
    std::fs::remove_file(file).ok();
}

/// U+F31B is a Nerd Font symbol that only the test font has; 中 is drawn
/// by the installed CJK fonts too (tools/setup.sh installs fonts-noto-cjk).
#[test]
fn the_fallback_list_draws_what_the_fonts_lack_before_installed_fonts() {
    let file = temp("fallback").join("t.txt");
    // Columns: b, U+F31B, c, 中 (two cells), d.
    std::fs::write(&file, "b\u{f31b}c\u{4e2d}d\n").unwrap();
    let listed = snapshot("listed", "[font]\nfallback = [\"Vireo Test Symbols\"]\n", &file, COLS, ROWS);
    let symbol = lit(&listed, 1..2, 10);
    let han = lit(&listed, 3..5, 10);
    assert!(symbol > 0.6, "the symbol is drawn by the fallback font: {symbol:.2} of its cell lit");
    assert!(han > 0.6, "中 is drawn by the fallback font before installed ones: {han:.2} lit");
    assert!(lit(&listed, 2..3, 10) < 0.5, "'c' stays in the main font");

    // Not listed: installed fonts still draw both, never an empty box, and
    // 中 comes from a CJK font, which leaves most of its cells dark.
    let installed = snapshot("installed", "", &file, COLS, ROWS);
    let symbol = lit(&installed, 1..2, 10);
    let han = lit(&installed, 3..5, 10);
    assert!(symbol > 0.6, "the installed font that has the symbol draws it: {symbol:.2} lit");
    assert!(han > 0.05 && han < 0.5, "中 from an installed CJK font: {han:.2} lit");
    std::fs::remove_file(file).ok();
}

/// `features` reach the shaper and `hinting = "none"` the rasteriser.
#[test]
fn features_and_hinting_change_the_drawn_text() {
    let file = temp("features").join("t.txt");
    std::fs::write(&file, "x -> != 0\n").unwrap();
    let default = snapshot("features-default", "", &file, COLS, ROWS);
    let no_calt = snapshot("features-calt", "[font]\nfeatures = [\"-calt\"]\n", &file, COLS, ROWS);
    let unhinted = snapshot("features-hinting", "[font]\nhinting = \"none\"\n", &file, COLS, ROWS);
    let w = default.width / COLS as u32;
    let row0 = |image: &Image, cols: std::ops::Range<u32>| -> Vec<[u8; 4]> {
        let h = image.height / ROWS as u32;
        (0..h).flat_map(|y| (cols.start * w..cols.end * w).map(move |x| image.pixel(x, y))).collect()
    };
    // JetBrains Mono draws `->` as one arrow through `calt`; without it, as
    // a hyphen and a greater-than sign. 'x' is the same in both.
    assert_ne!(row0(&default, 2..4), row0(&no_calt, 2..4), "-calt turns the arrow off");
    assert_eq!(row0(&default, 0..1), row0(&no_calt, 0..1));
    assert_ne!(row0(&default, 0..10), row0(&unhinted, 0..10), "unhinted outlines draw other pixels");
    std::fs::remove_file(file).ok();
}
