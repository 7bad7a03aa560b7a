//! The input processor driven through a fake [`ActionContext`] that
//! records what it is asked to do, as readable lines.

use winit::dpi::PhysicalPosition;
use winit::event::{ElementState, Ime, MouseButton, MouseScrollDelta};
use winit::keyboard::{Key, ModifiersState, NamedKey};
use winit::window::CursorIcon;

use super::{ActionContext, CellLayout, InputProcessor, KeyPress, Zoom};
use crate::model::{CellUpdate, Frame, HlAttr, Model, OptionValue, RedrawEvent};
use crate::render::Padding;
use crate::settings::Settings;

const URL: &str = "https://example.com/vireo";

/// Cells of 10x20 pixels, the grid 5 pixels in from the left and 7 down.
const LAYOUT: CellLayout =
    CellLayout { cell_width: 10, cell_height: 20, padding: Padding { top: 7, bottom: 3, left: 5, right: 2 } };

#[derive(Default)]
struct Fake {
    frame: Option<Frame>,
    layout: Option<CellLayout>,
    settings: Settings,
    /// Everything the processor did, one line each.
    done: Vec<String>,
}

impl Fake {
    fn new(frame: Frame) -> Fake {
        Fake { frame: Some(frame), layout: Some(LAYOUT), ..Fake::default() }
    }

    fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.done)
    }
}

impl ActionContext for Fake {
    fn frame(&self) -> Option<&Frame> {
        self.frame.as_ref()
    }

    fn layout(&self) -> Option<CellLayout> {
        self.layout
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn input(&mut self, keys: &str) {
        self.done.push(format!("input {keys}"));
    }

    fn notify(&mut self, method: &'static str, args: Vec<rmpv::Value>) {
        let args: Vec<String> = args
            .iter()
            .map(|a| match a {
                rmpv::Value::String(s) => format!("{:?}", s.as_str().unwrap_or_default()),
                other => other.to_string(),
            })
            .collect();
        self.done.push(format!("{method} {}", args.join(" ")));
    }

    fn paste(&mut self) {
        self.done.push("paste".into());
    }

    fn open_url(&mut self, url: &str) {
        self.done.push(format!("open {url}"));
    }

    fn zoom(&mut self, zoom: Zoom) {
        self.done.push(format!("zoom {zoom:?}"));
    }

    fn set_preedit(&mut self, text: Option<String>) {
        self.done.push(format!("preedit {text:?}"));
    }

    fn set_pointer_visible(&mut self, visible: bool) {
        self.done.push(format!("pointer visible {visible}"));
    }

    fn set_pointer_icon(&mut self, icon: CursorIcon) {
        self.done.push(format!("pointer {icon:?}"));
    }
}

fn apply(m: &mut Model, e: RedrawEvent<'static>) {
    m.apply(e).unwrap();
}

/// A 40x10 screen: a window (grid 2) over rows 0..9 whose first row says
/// `see LINK` with a link on columns 4..8; row 9 is the global grid's.
fn screen(mouse: bool, options: &[(&'static str, OptionValue)]) -> Frame {
    let mut m = Model::new();
    let link = HlAttr { url: Some(URL.into()), ..Default::default() };
    apply(&mut m, RedrawEvent::HlAttrDefine { id: 1, attr: link });
    apply(&mut m, RedrawEvent::GridResize { grid: 1, width: 40, height: 10 });
    apply(&mut m, RedrawEvent::GridResize { grid: 2, width: 40, height: 9 });
    apply(&mut m, RedrawEvent::WinPos { grid: 2, win: 1000, row: 0, col: 0, width: 40, height: 9 });
    let cells = [("s", 0), ("e", 0), ("e", 0), (" ", 0), ("L", 1), ("I", 1), ("N", 1), ("K", 1)]
        .into_iter()
        .map(|(text, hl)| CellUpdate { text: text.into(), hl: Some(hl), repeat: None })
        .collect();
    apply(&mut m, RedrawEvent::GridLine { grid: 2, row: 0, col_start: 0, cells, wrap: false });
    if mouse {
        apply(&mut m, RedrawEvent::MouseOn);
    }
    for (name, value) in options {
        apply(&mut m, RedrawEvent::OptionSet { name: (*name).into(), value: value.clone() });
    }
    m.apply(RedrawEvent::Flush).unwrap().expect("flush publishes a frame")
}

/// The pixel in the middle of screen cell (`row`, `col`).
fn pixel(row: i64, col: i64) -> (f64, f64) {
    let p = LAYOUT.padding;
    (
        f64::from(p.left) + (col as f64 + 0.5) * f64::from(LAYOUT.cell_width),
        f64::from(p.top) + (row as f64 + 0.5) * f64::from(LAYOUT.cell_height),
    )
}

fn char_key(c: &str) -> KeyPress {
    KeyPress { key: Key::Character(c.into()), text: Some(c.into()), numpad: false }
}

fn named_key(key: NamedKey) -> KeyPress {
    KeyPress { key: Key::Named(key), text: None, numpad: false }
}

#[test]
fn keys_become_nvim_input() {
    let mut ctx = Fake::new(screen(false, &[]));
    let mut input = InputProcessor::default();
    input.key(&char_key("a"), &mut ctx);
    input.key(&char_key("<"), &mut ctx);
    input.key(&named_key(NamedKey::Enter), &mut ctx);
    input.modifiers_changed(ModifiersState::CONTROL, &mut ctx);
    input.key(
        &KeyPress { key: Key::Character("w".into()), text: Some("\u{17}".into()), numpad: false },
        &mut ctx,
    );
    assert_eq!(ctx.take(), ["input a", "input <lt>", "input <CR>", "input <C-w>"]);
}

#[test]
fn zoom_and_paste_shortcuts_are_the_windows_not_nvims() {
    let mut ctx = Fake::new(screen(false, &[]));
    let mut input = InputProcessor::default();
    input.modifiers_changed(ModifiersState::CONTROL, &mut ctx);
    input.key(&char_key("="), &mut ctx);
    input.key(&char_key("-"), &mut ctx);
    input.key(&char_key("0"), &mut ctx);
    input.modifiers_changed(ModifiersState::CONTROL | ModifiersState::SHIFT, &mut ctx);
    input.key(&char_key("V"), &mut ctx);
    assert_eq!(ctx.take(), ["zoom By(1.0)", "zoom By(-1.0)", "zoom Reset", "paste"]);
}

#[test]
fn mouse_press_drag_and_release_go_to_the_grid_under_the_press() {
    let mut ctx = Fake::new(screen(true, &[]));
    let mut input = InputProcessor::default();
    let (x, y) = pixel(2, 3);
    input.pointer_moved(x, y, &mut ctx);
    input.button(ElementState::Pressed, MouseButton::Left, &mut ctx);
    // Another pixel of the same cell sends nothing; the next cell a drag.
    input.pointer_moved(x + 2.0, y + 2.0, &mut ctx);
    let (x, y) = pixel(2, 4);
    input.pointer_moved(x, y, &mut ctx);
    // Onto the global grid's last row: the drag stays relative to grid 2.
    let (x, y) = pixel(9, 6);
    input.pointer_moved(x, y, &mut ctx);
    input.button(ElementState::Released, MouseButton::Left, &mut ctx);
    input.modifiers_changed(ModifiersState::SHIFT, &mut ctx);
    input.button(ElementState::Pressed, MouseButton::Right, &mut ctx);
    assert_eq!(
        ctx.take(),
        [
            r#"nvim_input_mouse "left" "press" "" 2 2 3"#,
            r#"nvim_input_mouse "left" "drag" "" 2 2 4"#,
            r#"nvim_input_mouse "left" "drag" "" 2 9 6"#,
            r#"nvim_input_mouse "left" "release" "" 2 9 6"#,
            r#"nvim_input_mouse "right" "press" "S-" 1 9 6"#,
        ]
    );
}

#[test]
fn the_padding_is_not_part_of_the_grid() {
    let mut ctx = Fake::new(screen(true, &[]));
    let mut input = InputProcessor::default();
    // Inside the left padding, level with row 0: no cell at all.
    input.pointer_moved(2.0, pixel(0, 0).1, &mut ctx);
    input.button(ElementState::Pressed, MouseButton::Left, &mut ctx);
    // The first pixel past the padding is column 0, row 0.
    input.pointer_moved(5.0, 7.0, &mut ctx);
    input.button(ElementState::Pressed, MouseButton::Left, &mut ctx);
    assert_eq!(ctx.take(), [r#"nvim_input_mouse "left" "press" "" 2 0 0"#]);
}

#[test]
fn without_mouse_on_nvim_gets_no_mouse_events() {
    let mut ctx = Fake::new(screen(false, &[]));
    let mut input = InputProcessor::default();
    let (x, y) = pixel(1, 1);
    input.pointer_moved(x, y, &mut ctx);
    input.button(ElementState::Pressed, MouseButton::Left, &mut ctx);
    input.button(ElementState::Released, MouseButton::Left, &mut ctx);
    input.wheel(MouseScrollDelta::LineDelta(0.0, 1.0), &mut ctx);
    assert_eq!(ctx.take(), Vec::<String>::new());
}

#[test]
fn ctrl_click_on_a_link_opens_it_and_nvim_sees_no_click() {
    let mut ctx = Fake::new(screen(true, &[]));
    let mut input = InputProcessor::default();
    let (x, y) = pixel(0, 5);
    input.pointer_moved(x, y, &mut ctx);
    assert_eq!(ctx.take(), Vec::<String>::new(), "no hand without Ctrl");
    input.modifiers_changed(ModifiersState::CONTROL, &mut ctx);
    assert_eq!(ctx.take(), ["pointer Pointer"], "Ctrl over a link: a hand");
    input.button(ElementState::Pressed, MouseButton::Left, &mut ctx);
    input.button(ElementState::Released, MouseButton::Left, &mut ctx);
    assert_eq!(ctx.take(), [format!("open {URL}")]);
    // Off the link, the same Ctrl+click is nvim's.
    let (x, y) = pixel(0, 1);
    input.pointer_moved(x, y, &mut ctx);
    input.button(ElementState::Pressed, MouseButton::Left, &mut ctx);
    assert_eq!(ctx.take(), ["pointer Default", r#"nvim_input_mouse "left" "press" "C-" 2 0 1"#]);
}

#[test]
fn wheel_deltas_add_up_to_whole_lines() {
    let mut ctx = Fake::new(screen(true, &[]));
    let mut input = InputProcessor::default();
    let (x, y) = pixel(3, 3);
    input.pointer_moved(x, y, &mut ctx);
    // A trackpad: 5 pixels at a time, 20 pixels a line.
    let trackpad = MouseScrollDelta::PixelDelta(PhysicalPosition::new(0.0, 5.0));
    for _ in 0..3 {
        input.wheel(trackpad, &mut ctx);
    }
    assert_eq!(ctx.take(), Vec::<String>::new(), "three quarters of a line");
    input.wheel(trackpad, &mut ctx);
    assert_eq!(ctx.take(), [r#"nvim_input_mouse "wheel" "up" "" 2 3 3"#]);
    input.wheel(MouseScrollDelta::LineDelta(0.0, -2.0), &mut ctx);
    assert_eq!(ctx.take(), [r#"nvim_input_mouse "wheel" "down" "" 2 3 3"#; 2]);
}

#[test]
fn typing_hides_the_pointer_under_mousehide_and_moving_shows_it() {
    let mut ctx = Fake::new(screen(true, &[("mousehide", OptionValue::Bool(true))]));
    let mut input = InputProcessor::default();
    // A modifier alone types nothing and leaves the pointer (Ctrl+click).
    input.key(&named_key(NamedKey::Control), &mut ctx);
    assert_eq!(ctx.take(), Vec::<String>::new());
    input.key(&char_key("x"), &mut ctx);
    input.key(&char_key("y"), &mut ctx);
    assert_eq!(ctx.take(), ["pointer visible false", "input x", "input y"]);
    let (x, y) = pixel(4, 4);
    input.pointer_moved(x, y, &mut ctx);
    assert_eq!(ctx.take()[0], "pointer visible true");
    // Without 'mousehide' the pointer stays.
    let mut ctx = Fake::new(screen(true, &[("mousehide", OptionValue::Bool(false))]));
    input.key(&char_key("x"), &mut ctx);
    assert_eq!(ctx.take(), ["input x"]);
}

#[test]
fn the_input_method_composes_on_screen_and_commits_to_nvim() {
    let mut ctx = Fake::new(screen(false, &[]));
    let mut input = InputProcessor::default();
    input.ime(Ime::Preedit("に".into(), None), &mut ctx);
    input.ime(Ime::Commit("日<".into()), &mut ctx);
    input.ime(Ime::Disabled, &mut ctx);
    assert_eq!(ctx.take(), [r#"preedit Some("に")"#, "preedit None", "input 日<lt>", "preedit None"]);
}

#[test]
fn a_dropped_file_opens_with_drop() {
    let mut ctx = Fake::new(screen(false, &[]));
    let mut input = InputProcessor::default();
    input.dropped_file(std::path::Path::new("/tmp/a b.txt"), &mut ctx);
    let done = ctx.take();
    assert_eq!(done.len(), 1);
    assert!(done[0].starts_with("nvim_exec_lua \"vim.cmd('drop '"), "{done:?}");
    assert!(done[0].ends_with(r#"["/tmp/a b.txt"]"#), "{done:?}");
}
