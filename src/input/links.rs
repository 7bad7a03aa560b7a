//! Links: text whose highlight carries a `url` (nvim 0.10 and later set it
//! for extmarks made with `url = ...`, and for markdown links) opens in the
//! platform's opener with Ctrl+click, and the pointer is a hand over it
//! while Ctrl is held.
//!
//! ```text
//!   pointer cell ──► topmost visible grid there ──► cell's hl id ──► url
//!                    (floats and the message grid      (HlTable)
//!                     included, as composed)
//! ```
//!
//! The URL comes from the buffer, which may be anyone's file, and a link's
//! text need not show its target. So only web and mail links open
//! ([`SCHEMES`]); anything else is refused with a message in nvim. The URL
//! is one argument of the opener's process, never a shell's command line,
//! and the process runs on its own thread, which also reaps it: a slow
//! opener never blocks the window and none is left a zombie.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use winit::keyboard::ModifiersState;
use winit::window::CursorIcon;

use crate::model::compose::{self, LayerKind};
use crate::model::{Frame, Placement};

/// The URL schemes that open. `file:` is not among them: on macOS and
/// Windows the opener runs the programs and scripts that a file link
/// names.
pub const SCHEMES: &[&str] = &["http", "https", "ftp", "mailto"];

/// URLs longer than this are refused: no real link is, and the opener's
/// command line has limits of its own.
pub const MAX_URL_LEN: usize = 8192;

/// The URL of the text shown at screen cell (`row`, `col`): the topmost
/// visible grid there decides, floats included whether or not they take
/// the mouse (what is seen is what opens).
pub fn url_at(frame: &Frame, row: i64, col: i64) -> Option<Arc<str>> {
    let (width, height) = compose::screen_size(frame);
    if row < 0 || col < 0 || row >= height as i64 || col >= width as i64 {
        return None;
    }
    for layer in compose::layers(frame).iter().rev() {
        // A scrolled message area draws its separator over the row above it.
        if layer.kind == LayerKind::Message
            && row == layer.row - 1
            && let Some(Placement::Message { scrolled: true, sep_char, .. }) =
                frame.windows.get(&layer.grid).and_then(|w| w.placement.as_ref())
            && !sep_char.is_empty()
        {
            return None;
        }
        let inside = row >= layer.row
            && row < layer.row + layer.height as i64
            && col >= layer.col
            && col < layer.col + layer.width as i64;
        if !inside {
            continue;
        }
        let cells = &frame.grid(layer.grid)?.rows.get((row - layer.row) as usize)?.cells;
        let c = (col - layer.col) as usize;
        let mut cell = cells.get(c)?;
        // The right half of a double-width character belongs to its left.
        if cell.is_continuation() && c > 0 {
            cell = &cells[c - 1];
        }
        return frame.hl.get(cell.hl).url.clone();
    }
    None
}

/// Whether the modifiers held make a click open a link: Ctrl alone.
pub fn opens_links(mods: ModifiersState) -> bool {
    mods == ModifiersState::CONTROL
}

/// Why a URL is not opened. The messages leave the URL out: they are
/// shown in nvim, where one longer than the command line would stop at a
/// hit-enter prompt (the log has the URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the link is not a URL with a scheme such as https:")]
    NoScheme,
    #[error("{scheme}: links do not open, only {}", SCHEMES.join(", "))]
    Scheme { scheme: String },
    #[error("the link holds a space, a quote or a control character")]
    Characters,
    #[error("the link is longer than {MAX_URL_LEN} bytes")]
    TooLong,
}

/// Checks that `url` may be opened: an allowed scheme, no whitespace,
/// quotes or control characters (a real URL escapes them as `%20`...).
pub fn check(url: &str) -> Result<(), Refused> {
    if url.len() > MAX_URL_LEN {
        return Err(Refused::TooLong);
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"') {
        return Err(Refused::Characters);
    }
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    let Some(scheme) = scheme else { return Err(Refused::NoScheme) };
    if !SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(Refused::Scheme { scheme: scheme.to_ascii_lowercase() });
    }
    Ok(())
}

/// The process that opens `url`: `opener URL` when one is set (the
/// `url_opener` knob), else the platform's own.
pub fn opener_command(url: &str, opener: Option<&Path>) -> Command {
    let mut command = match opener {
        Some(program) => Command::new(program),
        None if cfg!(target_os = "macos") => Command::new("open"),
        None if cfg!(windows) => {
            // ShellExecute on the URL, with no cmd.exe in between.
            let mut c = Command::new("rundll32");
            c.arg("url.dll,FileProtocolHandler");
            c
        }
        None => Command::new("xdg-open"),
    };
    command.arg(url);
    for name in crate::own_env::variables() {
        command.env_remove(name);
    }
    command
}

/// Opens `url` in a detached process and returns at once. Refusals, an
/// opener that cannot start and one that fails are logged with the URL
/// and told to `report` (from the opener's thread for the last two).
pub fn open(url: &str, opener: Option<&Path>, report: impl FnOnce(String) + Send + 'static) {
    if let Err(refused) = check(url) {
        log::warn!("not opening {url:?}: {refused}");
        report(refused.to_string());
        return;
    }
    let mut command = opener_command(url, opener);
    command.stdin(Stdio::null()).stdout(Stdio::null());
    // Its own process group: Ctrl+C in the terminal vireo was started from
    // must not reach the browser.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let program = PathBuf::from(command.get_program());
    let url = url.to_owned();
    let spawned = std::thread::Builder::new().name("vireo-url-opener".into()).spawn(move || {
        log::info!("opening {url} with {}", program.display());
        // Waiting reaps the process; xdg-open can take as long as the
        // browser it starts, which only this thread waits for.
        match command.spawn().and_then(|mut child| child.wait()) {
            Ok(status) if status.success() => {}
            Ok(status) => {
                log::warn!("{} {url:?} failed ({status})", program.display());
                report(format!("{} failed ({status})", program.display()));
            }
            Err(e) => {
                log::warn!("could not run {} to open {url:?}: {e}", program.display());
                report(format!("could not run {}: {e}", program.display()));
            }
        }
    });
    if let Err(e) = spawned {
        log::error!("no thread to open a link: {e}");
    }
}

/// The `nvim_echo` arguments that show `message` as a warning, kept in
/// `:messages`.
pub fn echo_args(message: &str) -> Vec<rmpv::Value> {
    use rmpv::Value;
    let chunk = Value::Array(vec![format!("vireo: {message}").into(), "WarningMsg".into()]);
    vec![Value::Array(vec![chunk]), true.into(), Value::Map(vec![])]
}

/// What links do with the pointer between winit events.
#[derive(Debug, Default)]
pub struct Links {
    /// The pointer is a hand now.
    hand: bool,
    /// The left button went down on a link: its release is vireo's too.
    pressed: bool,
}

impl Links {
    /// The pointer shape to set when it changes: a hand while Ctrl alone
    /// is held over a link (`cell` is the screen cell under the pointer).
    pub fn pointer(
        &mut self,
        frame: Option<&Frame>,
        cell: Option<(i64, i64)>,
        mods: ModifiersState,
    ) -> Option<CursorIcon> {
        let hand =
            opens_links(mods) && frame.zip(cell).is_some_and(|(f, (row, col))| url_at(f, row, col).is_some());
        if hand == self.hand {
            return None;
        }
        self.hand = hand;
        Some(if hand { CursorIcon::Pointer } else { CursorIcon::Default })
    }

    /// A left press: the URL to open when it is a Ctrl+click on a link.
    /// Such a press and its release are not nvim's.
    pub fn press(
        &mut self,
        frame: Option<&Frame>,
        cell: (i64, i64),
        mods: ModifiersState,
    ) -> Option<Arc<str>> {
        let url = frame.filter(|_| opens_links(mods)).and_then(|f| url_at(f, cell.0, cell.1));
        self.pressed = url.is_some();
        url
    }

    /// A left release: whether it ends a press that opened a link.
    pub fn release(&mut self) -> bool {
        std::mem::take(&mut self.pressed)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::model::{Anchor, CellUpdate, HlAttr, Model, RedrawEvent};

    const URL: &str = "https://example.com/a?b=c#d";

    fn apply(m: &mut Model, e: RedrawEvent<'static>) {
        m.apply(e).unwrap();
    }

    fn line(m: &mut Model, grid: u64, row: usize, col_start: usize, cells: &[(&'static str, u32)]) {
        let cells = cells
            .iter()
            .map(|&(text, hl)| CellUpdate { text: text.into(), hl: Some(hl), repeat: None })
            .collect();
        apply(m, RedrawEvent::GridLine { grid, row, col_start, cells, wrap: false });
    }

    /// A 20x6 screen: a split (grid 2) showing `see LINK` with the link on
    /// columns 4..8 (hl 1), a wide character with a link at 10..12 (hl 2),
    /// and a 4x2 float (grid 3, hl 0) over columns 6..10 of rows 2..4.
    fn model() -> Model {
        let mut m = Model::new();
        let url = |u: &str| HlAttr {
            url: Some(u.into()),
            underline: crate::model::Underline::Line,
            ..Default::default()
        };
        apply(&mut m, RedrawEvent::HlAttrDefine { id: 1, attr: url(URL) });
        apply(&mut m, RedrawEvent::HlAttrDefine { id: 2, attr: url("mailto:a@b.c") });
        apply(&mut m, RedrawEvent::GridResize { grid: 1, width: 20, height: 6 });
        apply(&mut m, RedrawEvent::GridResize { grid: 2, width: 20, height: 5 });
        apply(&mut m, RedrawEvent::WinPos { grid: 2, win: 1000, row: 0, col: 0, width: 20, height: 5 });
        for row in 0..4 {
            line(
                &mut m,
                2,
                row,
                0,
                &[("s", 0), ("e", 0), ("e", 0), (" ", 0), ("L", 1), ("I", 1), ("N", 1), ("K", 1)],
            );
            line(&mut m, 2, row, 10, &[("界", 2), ("", 2)]);
        }
        m
    }

    fn with_float(m: &mut Model, mouse_enabled: bool) -> Frame {
        apply(m, RedrawEvent::GridResize { grid: 3, width: 4, height: 2 });
        apply(
            m,
            RedrawEvent::WinFloatPos {
                grid: 3,
                win: 1001,
                anchor: Anchor::NW,
                anchor_grid: 1,
                anchor_row: 2.0,
                anchor_col: 6.0,
                mouse_enabled,
                zindex: Some(50),
                compindex: None,
            },
        );
        m.publish()
    }

    #[test]
    fn the_url_under_a_cell_is_its_highlights() {
        let f = model().publish();
        assert_eq!(url_at(&f, 0, 4).as_deref(), Some(URL));
        assert_eq!(url_at(&f, 3, 7).as_deref(), Some(URL));
        assert_eq!(url_at(&f, 0, 3), None);
        assert_eq!(url_at(&f, 0, 8), None);
        // Both halves of a double-width character.
        assert_eq!(url_at(&f, 1, 10).as_deref(), Some("mailto:a@b.c"));
        assert_eq!(url_at(&f, 1, 11).as_deref(), Some("mailto:a@b.c"));
        // Off the screen (the window can be larger than the grid).
        assert_eq!(url_at(&f, 0, 20), None);
        assert_eq!(url_at(&f, 6, 4), None);
        assert_eq!(url_at(&f, -1, 4), None);
    }

    #[test]
    fn a_float_hides_the_links_below_it_even_when_it_refuses_the_mouse() {
        for mouse_enabled in [true, false] {
            let f = with_float(&mut model(), mouse_enabled);
            // Row 2, columns 6..10 are the float's (no url); 4 and 5 are still the link.
            assert_eq!(url_at(&f, 2, 6), None, "mouse_enabled {mouse_enabled}");
            assert_eq!(url_at(&f, 3, 7), None);
            assert_eq!(url_at(&f, 2, 5).as_deref(), Some(URL));
            assert_eq!(url_at(&f, 4, 7), None);
            assert_eq!(url_at(&f, 1, 7).as_deref(), Some(URL));
        }
        // A link inside the float opens.
        let mut m = model();
        with_float(&mut m, true);
        line(&mut m, 3, 1, 2, &[("x", 2)]);
        let f = m.publish();
        assert_eq!(url_at(&f, 3, 8).as_deref(), Some("mailto:a@b.c"));
        assert_eq!(url_at(&f, 3, 7), None);
    }

    #[test]
    fn the_separator_of_scrolled_messages_covers_the_row_above() {
        let mut m = model();
        apply(&mut m, RedrawEvent::GridResize { grid: 4, width: 20, height: 2 });
        let msg = |m: &mut Model, scrolled| {
            let sep_char = Cow::Borrowed("-");
            apply(
                m,
                RedrawEvent::MsgSetPos { grid: 4, row: 4, scrolled, sep_char, zindex: None, compindex: None },
            );
        };
        msg(&mut m, false);
        assert_eq!(url_at(&m.publish(), 3, 5).as_deref(), Some(URL));
        msg(&mut m, true);
        assert_eq!(url_at(&m.publish(), 3, 5), None);
    }

    #[test]
    fn the_pointer_is_a_hand_only_while_ctrl_alone_is_held_over_a_link() {
        let f = model().publish();
        let mut links = Links::default();
        let ctrl = ModifiersState::CONTROL;
        assert_eq!(links.pointer(Some(&f), Some((0, 4)), ModifiersState::empty()), None);
        assert_eq!(links.pointer(Some(&f), Some((0, 4)), ctrl), Some(CursorIcon::Pointer));
        // Unchanged: nothing to set.
        assert_eq!(links.pointer(Some(&f), Some((0, 5)), ctrl), None);
        assert_eq!(links.pointer(Some(&f), Some((0, 1)), ctrl), Some(CursorIcon::Default));
        assert_eq!(links.pointer(Some(&f), Some((0, 6)), ctrl), Some(CursorIcon::Pointer));
        assert_eq!(
            links.pointer(Some(&f), Some((0, 6)), ctrl | ModifiersState::SHIFT),
            Some(CursorIcon::Default)
        );
        assert_eq!(links.pointer(Some(&f), Some((0, 6)), ctrl), Some(CursorIcon::Pointer));
        // Ctrl released, the pointer gone, or no frame: back to the arrow.
        assert_eq!(links.pointer(Some(&f), Some((0, 6)), ModifiersState::empty()), Some(CursorIcon::Default));
        links.pointer(Some(&f), Some((0, 6)), ctrl);
        assert_eq!(links.pointer(Some(&f), None, ctrl), Some(CursorIcon::Default));
        links.pointer(Some(&f), Some((0, 6)), ctrl);
        assert_eq!(links.pointer(None, Some((0, 6)), ctrl), Some(CursorIcon::Default));
        // A new frame that puts a float over the link.
        links.pointer(Some(&f), Some((2, 7)), ctrl);
        let f = with_float(&mut model(), false);
        assert_eq!(links.pointer(Some(&f), Some((2, 7)), ctrl), Some(CursorIcon::Default));
    }

    #[test]
    fn a_ctrl_click_on_a_link_and_its_release_are_vireos() {
        let f = model().publish();
        let mut links = Links::default();
        assert_eq!(links.press(Some(&f), (0, 4), ModifiersState::empty()), None);
        assert!(!links.release());
        assert_eq!(links.press(Some(&f), (0, 2), ModifiersState::CONTROL), None);
        assert!(!links.release());
        assert_eq!(links.press(Some(&f), (0, 4), ModifiersState::CONTROL).as_deref(), Some(URL));
        assert!(links.release());
        assert!(!links.release(), "one release per press");
    }

    #[test]
    fn only_web_and_mail_links_open() {
        for url in [URL, "http://a", "HTTPS://A.B", "mailto:me@example.com", "ftp://x/y", "https://x/%20y"] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
        for (url, scheme) in [
            ("file:///usr/bin/xterm", "file"),
            ("javascript:alert(1)", "javascript"),
            ("Smb://host/share", "smb"),
            ("vscode://x", "vscode"),
        ] {
            assert_eq!(check(url), Err(Refused::Scheme { scheme: scheme.into() }));
        }
        for url in ["./notes.md", "-e", "", ":x", "1http://x"] {
            assert_eq!(check(url), Err(Refused::NoScheme), "{url}");
        }
        for url in ["https://x/a b", "ht tp://x", "https://x/\"", "https://x/\n", "https://x/\u{7f}"] {
            assert_eq!(check(url), Err(Refused::Characters), "{url:?}");
        }
        let long = format!("https://x/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check(&long), Err(Refused::TooLong));
        let message = check("file:///etc/passwd").unwrap_err().to_string();
        assert_eq!(message, "file: links do not open, only http, https, ftp, mailto");
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vireo-links-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn wait_for<T>(mut poll: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(v) = poll() {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[cfg(unix)]
    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("opener.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[cfg(unix)]
    #[test]
    fn the_opener_gets_the_url_as_one_argument_and_failures_are_reported() {
        let dir = temp_dir("opener");
        let out = dir.join("args");
        let opener =
            script(&dir, &format!("printf '%s\\n' \"$#\" \"$1\" > {}.tmp && mv {0}.tmp {0}", out.display()));
        // Characters a shell would act on reach the opener as they are.
        let url = "https://example.com/$(touch${IFS}pwned);`id`&x=1|y";
        let (tx, rx) = std::sync::mpsc::channel();
        open(url, Some(&opener), move |m| tx.send(m).unwrap());
        let args = wait_for(|| std::fs::read_to_string(&out).ok());
        assert_eq!(args, format!("1\n{url}\n"));
        // A refused URL never runs the opener.
        std::fs::remove_file(&out).unwrap();
        let (tx, rx2) = std::sync::mpsc::channel();
        open("file:///bin/sh", Some(&opener), move |m| tx.send(m).unwrap());
        assert_eq!(rx2.recv().unwrap(), "file: links do not open, only http, https, ftp, mailto");
        // An opener that fails, and one that does not exist.
        let failing = script(&dir, "exit 3");
        let (tx, rx3) = std::sync::mpsc::channel();
        open(URL, Some(&failing), move |m| tx.send(m).unwrap());
        let message = rx3.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(message.contains("failed") && message.contains('3'), "{message}");
        let (tx, rx4) = std::sync::mpsc::channel();
        open(URL, Some(&dir.join("missing")), move |m| tx.send(m).unwrap());
        let message = rx4.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(message.starts_with("could not run"), "{message}");
        assert!(!out.exists());
        // The first opener succeeded: nothing was reported.
        assert!(rx.try_recv().is_err());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn vireo_url_opener_names_the_opener() {
        let mut s = crate::settings::Settings::default();
        let errors = s.apply_env(|name| (name == "VIREO_URL_OPENER").then(|| "/opt/open-it".to_owned()));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.url_opener.as_deref(), Some(Path::new("/opt/open-it")));
    }

    #[test]
    fn the_platform_opener_takes_the_url_as_its_last_argument() {
        let command = opener_command(URL, None);
        assert_eq!(command.get_args().last().and_then(|a| a.to_str()), Some(URL));
        #[cfg(all(unix, not(target_os = "macos")))]
        assert_eq!(command.get_program(), "xdg-open");
        let command = opener_command(URL, Some(Path::new("/opt/open-it")));
        assert_eq!(command.get_program(), "/opt/open-it");
        assert_eq!(command.get_args().collect::<Vec<_>>(), [URL]);
    }
}
