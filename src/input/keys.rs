//! winit key events to Neovim key notation (`:help key-notation`).
//!
//! Printable text is sent as the keyboard layout produced it (Shift and
//! AltGr already applied) with no `S-`; `S-` is added only to named keys;
//! Ctrl, Alt (as Meta) and Super become `C-`, `M-` and `D-`.

use winit::keyboard::{Key, ModifiersState, NamedKey};

/// The notation for one key press, or `None` for keys nvim has no name for
/// (lone modifiers, media keys). `numpad` is true for keys on the keypad,
/// which nvim names separately (`<k1>`, `<kPlus>`, `<kEnter>` ...).
pub fn to_nvim(key: &Key, text: Option<&str>, mods: ModifiersState, numpad: bool) -> Option<String> {
    if numpad && let Some(name) = keypad_name(key) {
        return Some(wrap(name, mods, true));
    }
    match key {
        Key::Named(named) => {
            let name = named_key(*named)?;
            // Space arrives as a named key but types a character.
            if *named == NamedKey::Space && !mods.control_key() && !mods.alt_key() && !mods.super_key() {
                return Some(if mods.shift_key() { "<S-Space>".into() } else { " ".into() });
            }
            Some(wrap(name, mods, true))
        }
        Key::Character(ch) => {
            // With Ctrl or Alt the layout's text is often a control byte or
            // composed; the key's character is what nvim wants.
            let base = if mods.control_key() || mods.alt_key() || mods.super_key() {
                ch.as_str()
            } else {
                text.unwrap_or(ch.as_str())
            };
            // Keys whose symbol is a control character (Linefeed, ...).
            let named = match base {
                "\n" | "\r" => Some("CR"),
                "\t" => Some("Tab"),
                "\u{1b}" => Some("Esc"),
                "\u{8}" => Some("BS"),
                "\u{7f}" => Some("Del"),
                _ => None,
            };
            if let Some(name) = named {
                return Some(wrap(name, mods, true));
            }
            if base.is_empty() || base.chars().any(char::is_control) {
                return None;
            }
            if !mods.control_key() && !mods.alt_key() && !mods.super_key() {
                return Some(escape(base));
            }
            let mut chars = base.chars();
            let single = chars.next().filter(|_| chars.next().is_none())?;
            // The key's character; Ctrl+Shift+letter is the letter with S-.
            let name = match single {
                '<' => "lt".to_owned(),
                '\\' => "Bslash".to_owned(),
                '|' => "Bar".to_owned(),
                ' ' => "Space".to_owned(),
                c => c.to_string(),
            };
            // S- goes with Ctrl+letter only (<C-S-a>); Alt+Shift+x is <M-X>.
            let shift_letter = mods.control_key() && mods.shift_key() && single.is_alphabetic();
            let name = if shift_letter { name.to_lowercase() } else { name };
            Some(wrap(&name, mods, shift_letter))
        }
        Key::Unidentified(_) | Key::Dead(_) => None,
    }
}

/// For layouts where Alt (Option) composes characters: with Alt held and
/// no Ctrl or Super, the text the layout produced, sent as typed. `None`
/// when the key produced no printable text (then Alt acts as Meta).
pub fn alt_composed(text: Option<&str>, mods: ModifiersState) -> Option<String> {
    let text = text?;
    let plain_alt = mods.alt_key() && !mods.control_key() && !mods.super_key();
    (plain_alt && !text.is_empty() && !text.chars().any(char::is_control)).then(|| escape(text))
}

/// `<` starts key notation, so a literal one is `<lt>`.
fn escape(text: &str) -> String {
    text.replace('<', "<lt>")
}

fn wrap(name: &str, mods: ModifiersState, with_shift: bool) -> String {
    let mut out = String::from("<");
    if mods.control_key() {
        out.push_str("C-");
    }
    if with_shift && mods.shift_key() {
        out.push_str("S-");
    }
    if mods.alt_key() {
        out.push_str("M-");
    }
    if mods.super_key() {
        out.push_str("D-");
    }
    if out.len() == 1 && name.chars().count() == 1 {
        return name.to_owned();
    }
    out.push_str(name);
    out.push('>');
    out
}

/// nvim's names for keypad keys (`:help keypad-0`).
fn keypad_name(key: &Key) -> Option<&'static str> {
    use NamedKey as N;
    Some(match key {
        Key::Character(c) => match c.as_str() {
            "0" => "k0",
            "1" => "k1",
            "2" => "k2",
            "3" => "k3",
            "4" => "k4",
            "5" => "k5",
            "6" => "k6",
            "7" => "k7",
            "8" => "k8",
            "9" => "k9",
            "+" => "kPlus",
            "-" => "kMinus",
            "*" => "kMultiply",
            "/" => "kDivide",
            "." => "kPoint",
            "," => "kComma",
            "=" => "kEqual",
            _ => return None,
        },
        Key::Named(named) => match named {
            N::Enter => "kEnter",
            N::ArrowUp => "kUp",
            N::ArrowDown => "kDown",
            N::ArrowLeft => "kLeft",
            N::ArrowRight => "kRight",
            N::Home => "kHome",
            N::End => "kEnd",
            N::PageUp => "kPageUp",
            N::PageDown => "kPageDown",
            N::Delete => "kDel",
            N::Clear => "kOrigin",
            _ => return None,
        },
        _ => return None,
    })
}

fn named_key(key: NamedKey) -> Option<&'static str> {
    use NamedKey as N;
    Some(match key {
        N::Escape => "Esc",
        N::Enter => "CR",
        N::Tab => "Tab",
        N::Backspace => "BS",
        N::Delete => "Del",
        N::Insert => "Insert",
        N::Home => "Home",
        N::End => "End",
        N::PageUp => "PageUp",
        N::PageDown => "PageDown",
        N::ArrowUp => "Up",
        N::ArrowDown => "Down",
        N::ArrowLeft => "Left",
        N::ArrowRight => "Right",
        N::Space => "Space",
        N::Help => "Help",
        N::Undo => "Undo",
        N::F1 => "F1",
        N::F2 => "F2",
        N::F3 => "F3",
        N::F4 => "F4",
        N::F5 => "F5",
        N::F6 => "F6",
        N::F7 => "F7",
        N::F8 => "F8",
        N::F9 => "F9",
        N::F10 => "F10",
        N::F11 => "F11",
        N::F12 => "F12",
        N::F13 => "F13",
        N::F14 => "F14",
        N::F15 => "F15",
        N::F16 => "F16",
        N::F17 => "F17",
        N::F18 => "F18",
        N::F19 => "F19",
        N::F20 => "F20",
        N::F21 => "F21",
        N::F22 => "F22",
        N::F23 => "F23",
        N::F24 => "F24",
        N::F25 => "F25",
        N::F26 => "F26",
        N::F27 => "F27",
        N::F28 => "F28",
        N::F29 => "F29",
        N::F30 => "F30",
        N::F31 => "F31",
        N::F32 => "F32",
        N::F33 => "F33",
        N::F34 => "F34",
        N::F35 => "F35",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use winit::keyboard::SmolStr;

    const NONE: ModifiersState = ModifiersState::empty();
    const S: ModifiersState = ModifiersState::SHIFT;
    const C: ModifiersState = ModifiersState::CONTROL;
    const A: ModifiersState = ModifiersState::ALT;
    const D: ModifiersState = ModifiersState::SUPER;

    fn ch(c: &str) -> Key {
        Key::Character(SmolStr::new(c))
    }

    fn named(n: NamedKey) -> Key {
        Key::Named(n)
    }

    /// (key, text the layout produced, modifiers, on the keypad, expected)
    type Case = (Key, Option<&'static str>, ModifiersState, bool, Option<&'static str>);

    fn cases() -> Vec<Case> {
        use NamedKey as N;
        let mut t = vec![
            // Printable text as the layout produced it: Shift and AltGr applied.
            (ch("a"), Some("a"), NONE, false, Some("a")),
            (ch("A"), Some("A"), S, false, Some("A")),
            (ch("z"), Some("z"), NONE, false, Some("z")),
            (ch("1"), Some("1"), NONE, false, Some("1")),
            (ch("!"), Some("!"), S, false, Some("!")),
            (ch("<"), Some("<"), S, false, Some("<lt>")),
            (ch(">"), Some(">"), S, false, Some(">")),
            (ch("|"), Some("|"), S, false, Some("|")),
            (ch("\\"), Some("\\"), NONE, false, Some("\\")),
            (ch("\""), Some("\""), S, false, Some("\"")),
            (ch("'"), Some("'"), NONE, false, Some("'")),
            (ch("["), Some("["), NONE, false, Some("[")),
            (ch("]"), Some("]"), NONE, false, Some("]")),
            (ch("{"), Some("{"), S, false, Some("{")),
            (ch("}"), Some("}"), S, false, Some("}")),
            (ch("~"), Some("~"), S, false, Some("~")),
            (ch("`"), Some("`"), NONE, false, Some("`")),
            (ch("é"), Some("é"), NONE, false, Some("é")),
            (ch("ß"), Some("ß"), NONE, false, Some("ß")),
            (ch("€"), Some("€"), NONE, false, Some("€")),
            (ch("@"), Some("@"), NONE, false, Some("@")),
            (ch("ñ"), Some("ñ"), NONE, false, Some("ñ")),
            (ch("日"), Some("日"), NONE, false, Some("日")),
            // Dead keys / compose: the composed text is what counts.
            (ch("´"), Some("é"), NONE, false, Some("é")),
            (ch("^"), Some("ê"), NONE, false, Some("ê")),
            // Ctrl with letters and symbols.
            (ch("w"), None, C, false, Some("<C-w>")),
            (ch("a"), None, C, false, Some("<C-a>")),
            (ch("X"), None, C | S, false, Some("<C-S-x>")),
            (ch("]"), None, C, false, Some("<C-]>")),
            (ch("["), None, C, false, Some("<C-[>")),
            (ch("^"), None, C, false, Some("<C-^>")),
            (ch("6"), None, C, false, Some("<C-6>")),
            (ch("<"), None, C, false, Some("<C-lt>")),
            (ch("\\"), None, C, false, Some("<C-Bslash>")),
            (ch("|"), None, C, false, Some("<C-Bar>")),
            (ch(" "), None, C, false, Some("<C-Space>")),
            // Alt as Meta, Super as D-.
            (ch("x"), None, A, false, Some("<M-x>")),
            (ch("X"), None, A | S, false, Some("<M-X>")),
            (ch("."), None, A, false, Some("<M-.>")),
            (ch("s"), None, D, false, Some("<D-s>")),
            (ch("v"), None, C | A, false, Some("<C-M-v>")),
            (ch("k"), None, C | A | D, false, Some("<C-M-D-k>")),
            // Named keys.
            (named(N::Escape), None, NONE, false, Some("<Esc>")),
            (named(N::Enter), Some("\r"), NONE, false, Some("<CR>")),
            (named(N::Enter), None, S, false, Some("<S-CR>")),
            (named(N::Enter), None, C, false, Some("<C-CR>")),
            (named(N::Tab), None, NONE, false, Some("<Tab>")),
            (named(N::Tab), None, S, false, Some("<S-Tab>")),
            (named(N::Backspace), None, NONE, false, Some("<BS>")),
            (named(N::Backspace), None, C, false, Some("<C-BS>")),
            (named(N::Delete), None, NONE, false, Some("<Del>")),
            (named(N::Insert), None, NONE, false, Some("<Insert>")),
            (named(N::Home), None, NONE, false, Some("<Home>")),
            (named(N::End), None, S, false, Some("<S-End>")),
            (named(N::PageUp), None, NONE, false, Some("<PageUp>")),
            (named(N::PageDown), None, C, false, Some("<C-PageDown>")),
            (named(N::ArrowUp), None, NONE, false, Some("<Up>")),
            (named(N::ArrowDown), None, S, false, Some("<S-Down>")),
            (named(N::ArrowLeft), None, C, false, Some("<C-Left>")),
            (named(N::ArrowRight), None, A, false, Some("<M-Right>")),
            (named(N::Space), Some(" "), NONE, false, Some(" ")),
            (named(N::Space), Some(" "), S, false, Some("<S-Space>")),
            (named(N::Space), None, C, false, Some("<C-Space>")),
            (named(N::Help), None, NONE, false, Some("<Help>")),
            (named(N::Undo), None, NONE, false, Some("<Undo>")),
            // Control characters some keyboards (and xdotool) produce.
            (ch("\n"), Some("\n"), NONE, false, Some("<CR>")),
            (ch("\r"), Some("\r"), NONE, false, Some("<CR>")),
            (ch("\t"), Some("\t"), NONE, false, Some("<Tab>")),
            (ch("\u{1b}"), None, NONE, false, Some("<Esc>")),
            (ch("\u{8}"), None, NONE, false, Some("<BS>")),
            (ch("\u{7f}"), None, C, false, Some("<C-Del>")),
            // Keypad.
            (ch("0"), Some("0"), NONE, true, Some("<k0>")),
            (ch("5"), Some("5"), NONE, true, Some("<k5>")),
            (ch("9"), Some("9"), NONE, true, Some("<k9>")),
            (ch("+"), Some("+"), NONE, true, Some("<kPlus>")),
            (ch("-"), Some("-"), NONE, true, Some("<kMinus>")),
            (ch("*"), Some("*"), NONE, true, Some("<kMultiply>")),
            (ch("/"), Some("/"), NONE, true, Some("<kDivide>")),
            (ch("."), Some("."), NONE, true, Some("<kPoint>")),
            (ch(","), Some(","), NONE, true, Some("<kComma>")),
            (ch("="), Some("="), NONE, true, Some("<kEqual>")),
            (named(N::Enter), Some("\r"), NONE, true, Some("<kEnter>")),
            (named(N::Enter), None, C, true, Some("<C-kEnter>")),
            (named(N::Home), None, NONE, true, Some("<kHome>")),
            (named(N::End), None, NONE, true, Some("<kEnd>")),
            (named(N::PageUp), None, NONE, true, Some("<kPageUp>")),
            (named(N::PageDown), None, NONE, true, Some("<kPageDown>")),
            (named(N::Delete), None, NONE, true, Some("<kDel>")),
            (named(N::Clear), None, NONE, true, Some("<kOrigin>")),
            (named(N::ArrowUp), None, NONE, true, Some("<kUp>")),
            (named(N::ArrowLeft), None, S, true, Some("<S-kLeft>")),
            (ch("3"), Some("3"), C, true, Some("<C-k3>")),
            // Keys nvim has no name for.
            (named(N::Shift), None, S, false, None),
            (named(N::Control), None, C, false, None),
            (named(N::Alt), None, A, false, None),
            (named(N::Super), None, D, false, None),
            (named(N::CapsLock), None, NONE, false, None),
            (named(N::AudioVolumeUp), None, NONE, false, None),
            (Key::Dead(Some('´')), None, NONE, false, None),
            (Key::Unidentified(winit::keyboard::NativeKey::Unidentified), None, NONE, false, None),
        ];
        let fkeys = [
            N::F1,
            N::F2,
            N::F3,
            N::F4,
            N::F5,
            N::F6,
            N::F7,
            N::F8,
            N::F9,
            N::F10,
            N::F11,
            N::F12,
            N::F13,
            N::F14,
            N::F15,
            N::F16,
            N::F17,
            N::F18,
            N::F19,
            N::F20,
            N::F21,
            N::F22,
            N::F23,
            N::F24,
            N::F25,
            N::F26,
            N::F27,
            N::F28,
            N::F29,
            N::F30,
            N::F31,
            N::F32,
            N::F33,
            N::F34,
            N::F35,
        ];
        let names = [
            "<F1>", "<F2>", "<F3>", "<F4>", "<F5>", "<F6>", "<F7>", "<F8>", "<F9>", "<F10>", "<F11>",
            "<F12>", "<F13>", "<F14>", "<F15>", "<F16>", "<F17>", "<F18>", "<F19>", "<F20>", "<F21>",
            "<F22>", "<F23>", "<F24>", "<F25>", "<F26>", "<F27>", "<F28>", "<F29>", "<F30>", "<F31>",
            "<F32>", "<F33>", "<F34>", "<F35>",
        ];
        t.extend(fkeys.into_iter().zip(names).map(|(k, n)| (named(k), None, NONE, false, Some(n))));
        t.push((named(N::F5), None, S, false, Some("<S-F5>")));
        t.push((named(N::F12), None, C | A, false, Some("<C-M-F12>")));
        t
    }

    #[test]
    fn alt_can_compose_instead_of_meta() {
        assert_eq!(alt_composed(Some("å"), A).as_deref(), Some("å"));
        assert_eq!(alt_composed(Some("<"), A).as_deref(), Some("<lt>"));
        assert_eq!(alt_composed(Some("å"), A | C), None);
        assert_eq!(alt_composed(Some("a"), NONE), None);
        assert_eq!(alt_composed(None, A), None);
        assert_eq!(alt_composed(Some("\u{1b}"), A), None);
    }

    #[test]
    fn every_key_case_maps_exactly() {
        let cases = cases();
        assert!(cases.len() >= 100, "{} cases", cases.len());
        let mut wrong = Vec::new();
        for (key, text, mods, numpad, expected) in &cases {
            let got = to_nvim(key, *text, *mods, *numpad);
            if got.as_deref() != *expected {
                wrong.push(format!(
                    "{key:?} text {text:?} mods {mods:?} numpad {numpad}: {got:?}, want {expected:?}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{} of {} wrong:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    }
}
