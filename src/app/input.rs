//! The input processor: keys, mouse, wheel, links, IME, paste and dropped
//! files, turned into what nvim is sent and what the window shows.
//!
//! ```text
//!   winit event ──► app.rs (translates KeyEvent to KeyPress)
//!                      │
//!                      ▼
//!   InputProcessor (modifiers, pointer, wheel remainder, links)
//!                      │  ActionContext
//!                      ├──► input / notify ──► nvim (nvim_input, nvim_input_mouse, ...)
//!                      ├──► paste, open_url ──► clipboard thread, URL opener
//!                      └──► zoom, preedit, pointer icon and visibility ──► display
//! ```
//!
//! The processor owns no window and no connection: everything it needs
//! comes through [`ActionContext`], so its tests drive it with a fake one.

use std::sync::Arc;

use winit::event::{ElementState, Ime, MouseButton, MouseScrollDelta};
use winit::keyboard::{Key, ModifiersState};
use winit::window::CursorIcon;

use crate::input::links::Links;
use crate::input::mouse::{self, GridCell, LegacyWheel, WheelAccumulator};
use crate::model::{Frame, GridId, OptionValue};
use crate::render::Padding;
use crate::settings::Settings;

/// A key press, as the window reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPress {
    pub key: Key,
    /// The text the key types, with the modifiers held.
    pub text: Option<String>,
    /// On the numeric keypad.
    pub numpad: bool,
}

/// Where cells lie on the window, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellLayout {
    pub cell_width: u32,
    pub cell_height: u32,
    /// The grid starts `padding.left`, `padding.top` pixels in.
    pub padding: Padding,
}

/// A font-size change from the keyboard (Ctrl+=, Ctrl+-, Ctrl+0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zoom {
    By(f32),
    Reset,
}

/// What the input processor may read and do. The app implements it over
/// the window, the renderer and the nvim session; tests over a record.
pub trait ActionContext {
    /// The frame last taken from nvim.
    fn frame(&self) -> Option<&Frame>;
    /// The cell size and padding; `None` before the window exists.
    fn layout(&self) -> Option<CellLayout>;
    fn settings(&self) -> &Settings;
    /// Sends keys in nvim's notation (`nvim_input`).
    fn input(&mut self, keys: &str);
    /// Sends a notification on the input lane (`nvim_input_mouse`, ...).
    fn notify(&mut self, method: &'static str, args: Vec<rmpv::Value>);
    /// Streams the system clipboard into nvim.
    fn paste(&mut self);
    /// Opens a link that was Ctrl+clicked.
    fn open_url(&mut self, url: &str);
    fn zoom(&mut self, zoom: Zoom);
    /// Shows (or clears) the input method's composition at the cursor.
    fn set_preedit(&mut self, text: Option<String>);
    fn set_pointer_visible(&mut self, visible: bool);
    fn set_pointer_icon(&mut self, icon: CursorIcon);
}

/// A mouse button by the name `nvim_input_mouse` knows it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Button {
    Left,
    Right,
    Middle,
    X1,
    X2,
}

impl Button {
    fn from_winit(button: MouseButton) -> Option<Button> {
        Some(match button {
            MouseButton::Left => Button::Left,
            MouseButton::Right => Button::Right,
            MouseButton::Middle => Button::Middle,
            MouseButton::Back => Button::X1,
            MouseButton::Forward => Button::X2,
            MouseButton::Other(_) => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Button::Left => "left",
            Button::Right => "right",
            Button::Middle => "middle",
            Button::X1 => "x1",
            Button::X2 => "x2",
        }
    }
}

/// Input state between winit events.
#[derive(Debug, Default)]
pub struct InputProcessor {
    modifiers: ModifiersState,
    /// Pointer position in physical pixels.
    position: Option<(f64, f64)>,
    /// The button held and the grid its press went to (drags stay there).
    held: Option<(Button, GridId)>,
    /// Screen cell the pointer was last seen in, to send one drag or move
    /// per cell.
    last_cell: Option<(i64, i64)>,
    wheel: WheelAccumulator,
    legacy_wheel: LegacyWheel,
    /// Hidden while typing ('mousehide').
    hidden: bool,
    /// Ctrl+click on links, and the hand pointer over them.
    links: Links,
}

impl InputProcessor {
    pub fn key(&mut self, press: &KeyPress, ctx: &mut impl ActionContext) {
        let mousehide = ctx.frame().and_then(|f| f.option("mousehide")) == Some(&OptionValue::Bool(true));
        if mousehide && !self.hidden && mouse::hides_pointer(&press.key) {
            ctx.set_pointer_visible(false);
            self.hidden = true;
        }
        let mods = self.modifiers;
        let ctrl_only = mods.control_key() && !mods.alt_key();
        if ctrl_only && let Key::Character(c) = &press.key {
            let zoom = match c.as_str() {
                "=" | "+" => Some(Zoom::By(1.0)),
                "-" => Some(Zoom::By(-1.0)),
                "0" => Some(Zoom::Reset),
                _ => None,
            };
            if let Some(zoom) = zoom {
                ctx.zoom(zoom);
                return;
            }
        }
        if is_paste_shortcut(&press.key, mods) {
            ctx.paste();
            return;
        }
        let text = press.text.as_deref();
        log::debug!("key {:?} text {:?} mods {:?}", press.key, text, mods);
        if !ctx.settings().input_alt_is_meta.any()
            && let Some(composed) = crate::input::keys::alt_composed(text, mods)
        {
            ctx.input(&composed);
            return;
        }
        if let Some(keys) = crate::input::keys::to_nvim(&press.key, text, mods, press.numpad) {
            ctx.input(&keys);
        }
    }

    pub fn modifiers_changed(&mut self, mods: ModifiersState, ctx: &mut impl ActionContext) {
        self.modifiers = mods;
        self.update_pointer(ctx);
    }

    pub fn pointer_left(&mut self, ctx: &mut impl ActionContext) {
        self.position = None;
        self.update_pointer(ctx);
    }

    /// The screen cell under the pointer.
    fn pointer_cell(&self, ctx: &impl ActionContext) -> Option<(i64, i64)> {
        let (x, y) = self.position?;
        let CellLayout { cell_width, cell_height, padding } = ctx.layout()?;
        let (x, y) = (x - f64::from(padding.left), y - f64::from(padding.top));
        Some(((y / f64::from(cell_height)).floor() as i64, (x / f64::from(cell_width)).floor() as i64))
    }

    fn send_mouse(&self, button: &str, action: &str, cell: GridCell, ctx: &mut impl ActionContext) {
        let m = self.modifiers;
        let mods = mouse::modifier_string(m.shift_key(), m.control_key(), m.alt_key(), m.super_key());
        log::debug!("mouse {mods}{button} {action} at {cell:?}");
        let args = vec![
            button.into(),
            action.into(),
            mods.into(),
            cell.grid.into(),
            cell.row.max(0).into(),
            cell.col.max(0).into(),
        ];
        ctx.notify("nvim_input_mouse", args);
    }

    pub fn pointer_moved(&mut self, x: f64, y: f64, ctx: &mut impl ActionContext) {
        self.position = Some((x, y));
        if self.hidden {
            ctx.set_pointer_visible(true);
            self.hidden = false;
        }
        let Some(cell) = self.pointer_cell(ctx) else { return };
        if self.last_cell == Some(cell) {
            return;
        }
        self.last_cell = Some(cell);
        self.update_pointer(ctx);
        let Some(frame) = mouse_wanted(ctx) else { return };
        let (button, action, target) = match self.held {
            // A drag stays on the grid where its press went.
            Some((button, grid)) => (button.name(), "drag", mouse::relative_to(frame, grid, cell.0, cell.1)),
            // Plain moves only when asked for ('mousemoveevent').
            None => {
                let wanted = frame.option("mousemoveevent") == Some(&OptionValue::Bool(true));
                ("move", "", wanted.then(|| mouse::hit_test(frame, cell.0, cell.1)).flatten())
            }
        };
        if let Some(target) = target {
            self.send_mouse(button, action, target, ctx);
        }
    }

    pub fn button(&mut self, state: ElementState, button: MouseButton, ctx: &mut impl ActionContext) {
        let Some(button) = Button::from_winit(button) else { return };
        let Some(cell) = self.pointer_cell(ctx) else { return };
        if button == Button::Left && self.link_click(state, cell, ctx) {
            return;
        }
        match state {
            ElementState::Pressed => {
                let Some(hit) = mouse_wanted(ctx).and_then(|f| mouse::hit_test(f, cell.0, cell.1)) else {
                    return;
                };
                self.held = Some((button, hit.grid));
                self.last_cell = Some(cell);
                self.send_mouse(button.name(), "press", hit, ctx);
            }
            ElementState::Released => {
                let grid = self.held.take().map(|(_, g)| g);
                let target = mouse_wanted(ctx).and_then(|f| match grid {
                    Some(g) => mouse::relative_to(f, g, cell.0, cell.1),
                    None => mouse::hit_test(f, cell.0, cell.1),
                });
                if let Some(target) = target {
                    self.send_mouse(button.name(), "release", target, ctx);
                }
            }
        }
    }

    pub fn wheel(&mut self, delta: MouseScrollDelta, ctx: &mut impl ActionContext) {
        let Some(layout) = ctx.layout() else { return };
        let (dx, dy) = match delta {
            MouseScrollDelta::LineDelta(x, y) if self.legacy_wheel.is_release(x, y) => return,
            MouseScrollDelta::LineDelta(x, y) => self.wheel.add_lines(f64::from(x), f64::from(y)),
            MouseScrollDelta::PixelDelta(p) => {
                self.wheel.add_pixels(p.x, p.y, f64::from(layout.cell_width), f64::from(layout.cell_height))
            }
        };
        let Some(cell) = self.pointer_cell(ctx) else { return };
        let Some(hit) = mouse_wanted(ctx).and_then(|f| mouse::hit_test(f, cell.0, cell.1)) else { return };
        for (action, times) in mouse::wheel_actions(dx, dy) {
            for _ in 0..times {
                self.send_mouse("wheel", action, hit, ctx);
            }
        }
    }

    /// A raw (device) button event, X11's numbering.
    pub fn raw_button(&mut self, button: u32, pressed: bool) {
        self.legacy_wheel.raw_button(button, pressed);
    }

    /// Shows a hand while Ctrl alone is held over a link, else the arrow.
    /// Called on moves, modifier changes and new frames.
    pub fn update_pointer(&mut self, ctx: &mut impl ActionContext) {
        let cell = self.pointer_cell(ctx);
        if let Some(icon) = self.links.pointer(ctx.frame(), cell, self.modifiers) {
            ctx.set_pointer_icon(icon);
        }
    }

    /// A Ctrl+click on a link opens it; the press and its release are
    /// vireo's (true), not nvim's.
    fn link_click(&mut self, state: ElementState, cell: (i64, i64), ctx: &mut impl ActionContext) -> bool {
        if state == ElementState::Released {
            return self.links.release();
        }
        let url: Option<Arc<str>> = self.links.press(ctx.frame(), cell, self.modifiers);
        let Some(url) = url else { return false };
        ctx.open_url(&url);
        true
    }

    pub fn ime(&mut self, event: Ime, ctx: &mut impl ActionContext) {
        log::debug!("input method: {event:?}");
        match event {
            Ime::Preedit(text, _) => ctx.set_preedit(Some(text)),
            Ime::Commit(text) => {
                ctx.set_preedit(None);
                ctx.input(&text.replace('<', "<lt>"));
            }
            Ime::Enabled => {}
            Ime::Disabled => ctx.set_preedit(None),
        }
    }

    /// Opens a file dropped on the window with `:drop`.
    pub fn dropped_file(&mut self, path: &std::path::Path, ctx: &mut impl ActionContext) {
        // As a notification: a failure comes back as nvim_error_event and is logged.
        ctx.notify("nvim_exec_lua", crate::input::drop_file_args(path));
    }
}

/// The frame, when nvim wants the mouse ('mouse' is set for the current mode).
fn mouse_wanted(ctx: &impl ActionContext) -> Option<&Frame> {
    ctx.frame().filter(|f| f.mouse_enabled)
}

/// Ctrl+Shift+V, or Cmd+V on macOS.
fn is_paste_shortcut(key: &Key, mods: ModifiersState) -> bool {
    let Key::Character(c) = key else { return false };
    let v = c.eq_ignore_ascii_case("v");
    let ctrl_shift = mods.control_key() && mods.shift_key() && !mods.alt_key() && !mods.super_key();
    let cmd = cfg!(target_os = "macos") && mods.super_key() && !mods.control_key() && !mods.alt_key();
    v && (ctrl_shift || cmd)
}

#[cfg(test)]
mod tests;
