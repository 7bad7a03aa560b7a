//! Bad input at scale, without a window: huge lines, huge buffers, many
//! highlight groups, a huge grid, long combining sequences and hostile
//! `guifont` values, each through a real nvim. Snapshots run the `vireo`
//! binary and sample its peak memory; the others run a session in this
//! process and render it offscreen.

mod common;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{lines, settled, start};
use vireo::model::{CellUpdate, Model, RedrawEvent, compose};
use vireo::render::CursorState;
use vireo::render::font::Fonts;
use vireo::render::offscreen::{Image, Offscreen};
use vireo::rpc::RequestTable;

fn temp(name: &str) -> PathBuf {
    common::scratch(&format!("scale-{name}"))
}

/// One run of the `vireo` binary.
struct Run {
    status: Option<i32>,
    stderr: String,
    /// Peak resident memory of the vireo process (not nvim's), in MiB.
    peak_mib: u64,
    took: Duration,
}

/// The 80x24 text screen after typing `keys` into nvim showing `file`,
/// and vireo's peak memory.
fn text_snapshot_80x24(out: &Path, keys: &str, file: &Path) -> (String, Run) {
    let args = ["--snapshot-text", out.to_str().unwrap(), "--grid", "80x24", "--keys", keys];
    let mut all: Vec<&str> = args.to_vec();
    all.extend([file.to_str().unwrap(), "--", "--clean", "-n"]);
    let run = vireo(&all, &[]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    (std::fs::read_to_string(out).unwrap(), run)
}

/// Runs `vireo ARGS` with `env`, sampling its peak resident memory
/// (`VmHWM`) until it exits.
fn vireo(args: &[&str], env: &[(&str, &Path)]) -> Run {
    // Tests run in parallel: each run its own file.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let err_file = temp(&format!("stderr-{n}.txt"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
    cmd.args(args)
        .env("VIREO_NVIM", common::nvim_binary())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_file).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("vireo runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        // The high-water mark only grows: the last reading before the exit
        // is the peak, short of whatever the last few milliseconds add.
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))
        {
            peak_kib = peak_kib.max(kib.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "vireo still running after 2 minutes");
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = std::fs::read_to_string(&err_file).unwrap_or_default();
    std::fs::remove_file(&err_file).ok();
    let run = Run { status: status.code(), stderr, peak_mib: peak_kib / 1024, took: started.elapsed() };
    let mut line = format!("{args:?}");
    line.truncate(200);
    eprintln!("vireo {line}: {:.1} s, peak {} MiB", run.took.as_secs_f64(), run.peak_mib);
    run
}

/// The bundled font's cell size at scale 1: what snapshots use when
/// `guifont` names nothing.
fn cell_size() -> (u32, u32) {
    let m = Fonts::bundled(1.0).metrics();
    (m.width, m.height)
}

/// Whether any pixel of the cell at `row`, `col` differs from the cell's
/// top-left pixel (the background): something was drawn in it.
fn has_ink(img: &Image, row: u32, col: u32, (cw, ch): (u32, u32)) -> bool {
    let bg = img.pixel(col * cw, row * ch);
    (row * ch..(row + 1) * ch).any(|y| (col * cw..(col + 1) * cw).any(|x| img.pixel(x, y) != bg))
}

#[test]
fn a_ten_megabyte_line_is_shown_to_its_end() {
    // 1 250 000 eight-byte words: "0000000 0000001 ... 1249999 ".
    let words = 1_250_000;
    let text: String = (0..words).map(|i| format!("{i:07} ")).collect();
    assert_eq!(text.len(), 10_000_000);
    let file = temp("long.txt");
    std::fs::write(&file, format!("{}\n", text.trim_end())).unwrap();
    let out = temp("long.txt.screen");
    let (screen, run) = text_snapshot_80x24(&out, "$", &file);
    let rows: Vec<&str> = screen.lines().collect();
    // The end of the line fills the window, ten words a row; the first row
    // starts with nvim's "<<<" for the part scrolled off.
    for (k, row) in rows[1..22].iter().enumerate() {
        let first = words - 210 + k * 10;
        let want: Vec<String> = (first..first + 10).map(|i| format!("{i:07}")).collect();
        assert_eq!(*row, want.join(" "), "row {}; the screen:\n{screen}", k + 1);
    }
    assert!(rows[0].starts_with("<<<"), "{screen}");
    assert!(rows[22].contains("1,9999999"), "the cursor is on the last byte: {screen}");
    assert!(run.peak_mib < 512, "vireo used {} MiB", run.peak_mib);

    // Without wrapping, drawn: the last words at the top left.
    let png = temp("long.png");
    let run = vireo(
        &[
            "--snapshot",
            png.to_str().unwrap(),
            "--snapshot-text",
            out.to_str().unwrap(),
            "--grid",
            "80x24",
            "--keys",
            ":set nowrap<CR>$",
            file.to_str().unwrap(),
            "--",
            "--clean",
            "-n",
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let screen = std::fs::read_to_string(&out).unwrap();
    let top = screen.lines().next().unwrap();
    assert!(top.ends_with(" 1249997 1249998 1249999"), "{screen}");
    let img = Image::read_png(&png).unwrap();
    let cell = cell_size();
    assert_eq!((img.width, img.height), (80 * cell.0, 24 * cell.1));
    for (col, c) in top.chars().enumerate() {
        assert_eq!(has_ink(&img, 0, col as u32, cell), c != ' ', "column {col} ({c:?}) of {top:?}");
    }
    assert!(run.peak_mib < 1024, "vireo used {} MiB", run.peak_mib);
    for f in [file, out, png] {
        std::fs::remove_file(f).ok();
    }
}

#[test]
fn a_million_line_buffer_scrolls_to_its_end() {
    let file = temp("million.txt");
    let text: String = (1..=1_000_000).map(|i| format!("{i}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let out = temp("million.screen");
    let (screen, run) = text_snapshot_80x24(&out, "G", &file);
    let rows: Vec<&str> = screen.lines().collect();
    let want: Vec<String> = (999_979..=1_000_000).map(|i| i.to_string()).collect();
    assert_eq!(rows[..22], want, "{screen}");
    assert!(rows[22].contains("1000000,1") && rows[22].ends_with("Bot"), "{screen}");
    assert!(run.peak_mib < 512, "vireo used {} MiB", run.peak_mib);
    std::fs::remove_file(file).ok();
    std::fs::remove_file(out).ok();
}

/// The background nvim is told to give highlight group `i`.
fn group_bg(i: u32) -> u32 {
    i.wrapping_mul(2654435761) >> 8
}

#[test]
fn ten_thousand_highlight_groups_are_defined_and_drawn() {
    // 50 rows of 200 cells, each cell in a group of its own.
    let (cols, rows) = (200u32, 50u32);
    let script = temp("groups.lua");
    std::fs::write(
        &script,
        format!(
            r#"
local cols, rows = {cols}, {rows}
for i = 1, cols * rows do
  local bg = math.floor((i * 2654435761) % 2^32 / 256)
  vim.api.nvim_set_hl(0, 'Scale' .. i, {{ fg = 0xffffff - bg, bg = bg, bold = i % 2 == 0, italic = i % 3 == 0 }})
end
local lines = {{}}
for r = 1, rows do
  local l = {{}}
  for c = 1, cols do l[c] = string.char(48 + (r + c) % 10) end
  lines[r] = table.concat(l)
end
vim.api.nvim_buf_set_lines(0, 0, -1, false, lines)
local ns = vim.api.nvim_create_namespace('scale')
for r = 0, rows - 1 do
  for c = 0, cols - 1 do
    vim.api.nvim_buf_set_extmark(0, ns, r, c, {{ end_col = c + 1, hl_group = 'Scale' .. (r * cols + c + 1) }})
  end
end
vim.o.laststatus = 0
vim.o.ruler = false
"#
        ),
    )
    .unwrap();
    let conn =
        start(cols as usize, rows as usize + 1, &["-S", script.to_str().unwrap()], RequestTable::default());
    let mut latest = None;
    let started = Instant::now();
    let frame = settled(&conn, &mut latest, None);
    eprintln!("10 000 groups defined and drawn by nvim in {:.1} s", started.elapsed().as_secs_f64());
    let screen = compose::compose(&frame);
    for r in 0..rows {
        let want: String = (0..cols).map(|c| char::from(b'0' + ((r + 1 + c + 1) % 10) as u8)).collect();
        assert_eq!(screen.row_text(r as usize), want, "row {r}");
    }
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let started = Instant::now();
    let (img, _) = offscreen.render(&frame, CursorState { visible: false }).unwrap();
    eprintln!("rendered {}x{} px in {:.1} s", img.width, img.height, started.elapsed().as_secs_f64());
    let m = offscreen.renderer.metrics();
    let mut ids = std::collections::HashSet::new();
    for r in 0..rows {
        for c in 0..cols {
            let group = r * cols + c + 1;
            let cell = screen.cell(r as usize, c as usize);
            ids.insert(cell.hl);
            let want = group_bg(group);
            assert_eq!(frame.hl.get(cell.hl).bg, Some(want), "cell {r},{c}: group {group}");
            let [red, green, blue, _] = img.pixel(c * m.width, r * m.height);
            let got = u32::from_be_bytes([0, red, green, blue]);
            assert_eq!(got, want, "cell {r},{c} drawn in {got:06x}, not group {group}'s {want:06x}");
        }
    }
    assert_eq!(ids.len(), (cols * rows) as usize, "every cell has its own highlight");
    conn.shutdown();
    std::fs::remove_file(script).ok();
}

/// Fills every row but the last of a 1000-column screen, each row its own.
const HUGE_LUA: &str = r#"
local lines = {}
for r = 1, 399 do
  lines[r] = string.format('%04d', r) .. string.rep(string.char(65 + r % 26), 996)
end
vim.api.nvim_buf_set_lines(0, 0, -1, false, lines)
vim.o.laststatus = 0
vim.o.ruler = false
"#;

fn huge_row(r: usize) -> String {
    let n = r + 1;
    format!("{n:04}{}", char::from(b'A' + (n % 26) as u8).to_string().repeat(996))
}

#[test]
fn a_grid_of_1000_by_400_cells_snapshots_as_text_and_renders() {
    let (cols, rows) = (1000usize, 400usize);
    let script = temp("huge.lua");
    std::fs::write(&script, HUGE_LUA).unwrap();
    let text_out = temp("huge.txt");
    let run = vireo(
        &[
            "--snapshot-text",
            text_out.to_str().unwrap(),
            "--grid",
            &format!("{cols}x{rows}"),
            "--",
            "--clean",
            "-n",
            "-S",
            script.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let screen = std::fs::read_to_string(&text_out).unwrap();
    let text_rows: Vec<&str> = screen.lines().collect();
    assert_eq!(text_rows.len(), rows);
    for (r, row) in text_rows[..rows - 1].iter().enumerate() {
        assert_eq!(*row, huge_row(r), "row {r}");
    }
    assert!(run.peak_mib < 512, "vireo used {} MiB", run.peak_mib);

    // Drawn: a 9000x8000-pixel image with the bundled font. (In this
    // process rather than through `--snapshot`: encoding a PNG that size
    // takes half a minute in a debug build.)
    let conn = start(cols, rows, &["-S", script.to_str().unwrap()], RequestTable::default());
    let mut latest = None;
    let frame = settled(&conn, &mut latest, None);
    assert_eq!(lines(&frame)[398], huge_row(398));
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let started = Instant::now();
    let (img, _) = offscreen.render(&frame, CursorState { visible: false }).unwrap();
    eprintln!("rendered {}x{} px in {:.1} s", img.width, img.height, started.elapsed().as_secs_f64());
    let cell = cell_size();
    assert_eq!((img.width, img.height), (cols as u32 * cell.0, rows as u32 * cell.1));
    // The far corners of the text were drawn.
    for (r, c) in [(0, 0), (0, 999), (398, 0), (398, 999), (200, 500)] {
        assert!(has_ink(&img, r, c, cell), "nothing drawn in cell {r},{c}");
    }
    conn.shutdown();
    for f in [script, text_out] {
        std::fs::remove_file(f).ok();
    }
}

#[test]
fn a_hundred_combining_marks_on_one_cell_stay_on_that_cell() {
    // Row 1: a + 100 acute accents, then b. Row 2: a + 100 marks of 79
    // kinds (none of the double-width ones), then b. Row 3: plain "ab" to compare with.
    let acute: String = std::iter::repeat_n('\u{301}', 100).collect();
    let mixed: String = (0..100).map(|i| char::from_u32(0x300 + i % 0x4f).unwrap()).collect();
    let lines_lua = format!("{{ 'a{acute}b', 'a{mixed}b', 'ab' }}");
    let script = temp("marks.lua");
    std::fs::write(&script, format!("vim.api.nvim_buf_set_lines(0, 0, -1, false, {lines_lua})\n")).unwrap();
    let conn = start(20, 6, &["-S", script.to_str().unwrap()], RequestTable::default());
    let mut latest = None;
    let frame = settled(&conn, &mut latest, None);
    let screen = compose::compose(&frame);
    let firsts = [format!("a{acute}"), format!("a{mixed}"), "a".to_owned()];
    for (row, first) in firsts.iter().enumerate() {
        // nvim keeps as many marks as fit in its cell and sends those.
        let cell = &screen.cell(row, 0).text;
        assert!(first.starts_with(cell.as_str()) && cell.starts_with('a'), "row {row}: {cell:?}");
        assert_eq!(screen.cell(row, 1).text, "b", "row {row}");
    }
    for row in 0..2 {
        let marks = screen.cell(row, 0).text.chars().count() - 1;
        eprintln!("row {row}: nvim sent {marks} of the 100 marks");
        assert!(marks >= 10, "row {row}: only {marks} marks");
    }

    let mut offscreen = Offscreen::new(Fonts::with_system_fonts(1.0)).expect("a Vulkan device");
    let (img, _) = offscreen.render(&frame, CursorState { visible: false }).unwrap();
    let m = offscreen.renderer.metrics();
    // The b after the marks is drawn exactly where the plain one is.
    let b = |row: u32| -> Vec<[u8; 4]> {
        let (x0, y0) = (m.width, row * m.height);
        (y0..y0 + m.height)
            .flat_map(|y| (x0..x0 + m.width).map(move |x| (x, y)))
            .map(|(x, y)| img.pixel(x, y))
            .collect()
    };
    assert_eq!(b(0), b(2), "the b after 100 acute accents moved");
    assert_eq!(b(1), b(2), "the b after 100 mixed marks moved");
    assert!(has_ink(&img, 0, 0, (m.width, m.height)), "the a with its marks was drawn");
    conn.shutdown();
    std::fs::remove_file(script).ok();
}

#[test]
fn cells_with_thousands_of_marks_from_the_stream_render_in_place() {
    // nvim keeps 32 bytes a cell, but the stream could send more: the
    // renderer takes whatever a cell holds.
    let cell = |text: String| CellUpdate { text: Cow::Owned(text), hl: Some(0), repeat: None };
    let mut m = Model::new();
    m.apply(RedrawEvent::DefaultColorsSet { fg: Some(0xffffff), bg: Some(0), sp: None }).unwrap();
    m.apply(RedrawEvent::GridResize { grid: 1, width: 4, height: 3 }).unwrap();
    for (row, marks) in [(0, 100), (1, 5000), (2, 0)] {
        let first = format!("a{}", "\u{301}\u{308}".repeat(marks / 2));
        let cells = vec![cell(first), cell("b".into())];
        m.apply(RedrawEvent::GridLine { grid: 1, row, col_start: 0, cells, wrap: false }).unwrap();
    }
    let frame = m.apply(RedrawEvent::Flush).unwrap().unwrap();
    let mut offscreen = Offscreen::new(Fonts::bundled(1.0)).expect("a Vulkan device");
    let started = Instant::now();
    let (img, _) = offscreen.render(&frame, CursorState { visible: false }).unwrap();
    eprintln!("5000 marks on a cell rendered in {:.2} s", started.elapsed().as_secs_f64());
    let metrics = offscreen.renderer.metrics();
    let (cw, ch) = (metrics.width, metrics.height);
    let b = |row: u32| -> Vec<[u8; 4]> {
        let pixels = (row * ch..(row + 1) * ch).flat_map(|y| (cw..2 * cw).map(move |x| (x, y)));
        pixels.map(|(x, y)| img.pixel(x, y)).collect()
    };
    assert!(b(2).iter().any(|p| p[0] > 100), "the plain b was drawn");
    assert_eq!(b(0), b(2), "the b after 100 marks moved");
    assert_eq!(b(1), b(2), "the b after 5000 marks moved");
}

/// Deterministic noise.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn replace_all(data: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= data.len() {
        if &data[i..i + from.len()] == from {
            data[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

const BUNDLED_REGULAR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/JetBrainsMono-Regular.ttf");

/// A bundled font file renamed to `family` (14 characters, as many as
/// "JetBrains Mono", so the name table keeps its layout).
fn renamed_font(path: &str, family: &str) -> Vec<u8> {
    let mut font = std::fs::read(path).unwrap();
    let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<u8>>();
    replace_all(&mut font, &utf16("JetBrains Mono"), &utf16(family));
    replace_all(&mut font, b"JetBrains Mono", family.as_bytes());
    font
}

/// The bundled regular font renamed to `family` (14 characters, as many as
/// "JetBrains Mono", so the name table keeps its layout) with its `table`
/// overwritten by noise: a file the font scan accepts, since it reads only
/// the names.
fn broken_font(family: &str, table: &[u8; 4]) -> Vec<u8> {
    let mut font = renamed_font(BUNDLED_REGULAR, family);
    let be32 = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap()) as usize;
    let tables = u16::from_be_bytes([font[4], font[5]]) as usize;
    let record = (0..tables).map(|i| 12 + 16 * i).find(|&r| &font[r..r + 4] == table).expect("the table");
    let (offset, len) = (be32(&font[record + 8..record + 12]), be32(&font[record + 12..record + 16]));
    font[offset..offset + len].copy_from_slice(&noise(offset as u64, len));
    font
}

/// A snapshot of `hello world` at 40x5 with `guifont` set to `guifont`,
/// with `home` as the home directory (fonts in `home/.local/share/fonts`).
fn font_snapshot(name: &str, guifont: &str, home: &Path) -> (Run, Image) {
    let png = temp(&format!("{name}.png"));
    let data = home.join(".local/share");
    let run = vireo(
        &[
            "--snapshot",
            png.to_str().unwrap(),
            "--grid",
            "40x5",
            "--keys",
            "ihello world<Esc>",
            "--",
            "--clean",
            "-n",
            "-c",
            &format!("set guifont={}", guifont.replace(' ', "\\ ")),
        ],
        &[("HOME", home), ("XDG_DATA_HOME", &data)],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let img = Image::read_png(&png).unwrap();
    std::fs::remove_file(png).ok();
    (run, img)
}

#[test]
fn corrupt_font_files_are_skipped_with_a_warning_and_text_still_drawn() {
    let home = temp("font-home");
    let fonts = home.join(".local/share/fonts");
    std::fs::create_dir_all(&fonts).unwrap();
    // Noise, a font cut short, and fonts with good names but broken
    // outlines, glyph index, units, advances or character map.
    std::fs::write(fonts.join("Corrupt.ttf"), noise(1, 20_000)).unwrap();
    let real = std::fs::read(BUNDLED_REGULAR).unwrap();
    std::fs::write(fonts.join("Truncated.ttf"), &real[..4096]).unwrap();
    let broken = [
        ("BrokenMonoGlyf", b"glyf"),
        ("BrokenMonoLoca", b"loca"),
        ("BrokenMonoHead", b"head"),
        ("BrokenMonoHmtx", b"hmtx"),
        ("BrokenMonoCmap", b"cmap"),
    ];
    for (family, table) in broken {
        std::fs::write(fonts.join(format!("{family}.ttf")), broken_font(family, table)).unwrap();
    }
    let names: Vec<&str> = broken.iter().map(|(f, _)| *f).chain(["Corrupt", "Truncated"]).collect();
    let (run, img) = font_snapshot("corrupt", &format!("{}:h14", names.join(",")), &home);
    // Drawn exactly as with the bundled font named.
    let clean = temp("font-home-clean");
    std::fs::create_dir_all(&clean).unwrap();
    let (_, want) = font_snapshot("bundled", "JetBrains Mono:h14", &clean);
    assert_eq!((img.width, img.height), (want.width, want.height), "the cell size");
    assert!(img == want, "the text is drawn differently from the bundled font's");
    for (family, _) in broken {
        let warning = format!(
            "guifont: the font '{family}' ({}) cannot be used",
            fonts.join(format!("{family}.ttf")).display()
        );
        assert!(run.stderr.contains(&warning), "no warning about {family}:\n{}", run.stderr);
    }
    let fallback = "is installed and usable; using JetBrains Mono";
    assert_eq!(run.stderr.matches(fallback).count(), 1, "said once:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // A sound family with only an italic face is used when guifont asks
    // for italics.
    let italic = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/JetBrainsMono-Italic.ttf");
    std::fs::write(fonts.join("ItalicOnlyMono.ttf"), renamed_font(italic, "ItalicOnlyMono")).unwrap();
    let (run, img) = font_snapshot("italic-only", "ItalicOnlyMono:h14:i", &home);
    assert!(!run.stderr.contains("ItalicOnlyMono"), "{}", run.stderr);
    let (_, want) = font_snapshot("bundled-italic", "JetBrains Mono:h14:i", &clean);
    assert!(img == want, "the italic-only family was not used");
    std::fs::remove_dir_all(home).ok();
    std::fs::remove_dir_all(clean).ok();
}

#[test]
fn a_guifont_naming_fifty_fonts_takes_the_first_installed_one() {
    let mut names: Vec<String> = (1..=48).map(|i| format!("Missing Font {i:02}")).collect();
    names.extend(["DejaVu Sans Mono".to_owned(), "JetBrains Mono".to_owned()]);
    let home = temp("font-home-fifty");
    std::fs::create_dir_all(&home).unwrap();
    let (run, img) = font_snapshot("fifty", &format!("{}:h13", names.join(",")), &home);
    assert!(!run.stderr.contains("guifont"), "{}", run.stderr);
    // Whichever of the last two is installed (the second is bundled).
    let (_, want) = font_snapshot("two", "DejaVu Sans Mono,JetBrains Mono:h13", &home);
    assert!(img == want, "drawn differently from the first installed font's");
    std::fs::remove_dir_all(home).ok();
}
