//! The `+` and `*` registers without any external tool: vireo installs a
//! `g:clipboard` provider whose functions call back into vireo with
//! `rpcrequest`, and vireo answers from the system clipboard (arboard).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rmpv::Value;

use crate::rpc::RequestTable;

/// Lua run before attaching (gets vireo's channel id as `...`): sets the
/// provider. A user's config, which runs later, can still replace it.
pub const PROVIDER_LUA: &str = r#"
local chan = ...
local function copy(reg)
  return function(lines, regtype) vim.rpcrequest(chan, 'vireo_clipboard_set', reg, lines, regtype) end
end
local function paste(reg)
  return function() return vim.rpcrequest(chan, 'vireo_clipboard_get', reg) end
end
vim.g.clipboard = {
  name = 'vireo',
  copy = { ['+'] = copy('+'), ['*'] = copy('*') },
  paste = { ['+'] = paste('+'), ['*'] = paste('*') },
  cache_enabled = 0,
}
"#;

/// The system clipboard plus what vireo last put there, so a linewise or
/// blockwise yank comes back with its register type.
#[derive(Default)]
pub struct Clipboard {
    system: Option<arboard::Clipboard>,
    /// Per register: the text vireo set and nvim's regtype for it.
    last: HashMap<String, (String, String)>,
}

impl Clipboard {
    fn system(&mut self) -> Result<&mut arboard::Clipboard, String> {
        if self.system.is_none() {
            self.system = Some(arboard::Clipboard::new().map_err(|e| format!("no clipboard: {e}"))?);
        }
        Ok(self.system.as_mut().expect("set above"))
    }

    /// `lines` joined with newlines (for a linewise yank nvim sends a
    /// trailing empty line, so the text ends with a newline).
    pub fn set(&mut self, reg: &str, lines: &[String], regtype: &str) -> Result<(), String> {
        let text = lines.join("\n");
        let system = self.system()?;
        let result = match reg {
            #[cfg(all(unix, not(target_os = "macos")))]
            "*" => {
                use arboard::SetExtLinux;
                system.set().clipboard(arboard::LinuxClipboardKind::Primary).text(text.clone())
            }
            _ => system.set_text(text.clone()),
        };
        result.map_err(|e| format!("setting the clipboard failed: {e}"))?;
        self.last.insert(reg.to_owned(), (text, regtype.to_owned()));
        Ok(())
    }

    /// The clipboard as nvim wants it: lines and a register type.
    pub fn get(&mut self, reg: &str) -> Result<(Vec<String>, String), String> {
        let system = self.system()?;
        let text = match reg {
            #[cfg(all(unix, not(target_os = "macos")))]
            "*" => {
                use arboard::GetExtLinux;
                system.get().clipboard(arboard::LinuxClipboardKind::Primary).text()
            }
            _ => system.get_text(),
        };
        let text = match text {
            Ok(t) => t,
            // An empty clipboard is not an error for the user.
            Err(arboard::Error::ContentNotAvailable) => String::new(),
            Err(e) => return Err(format!("reading the clipboard failed: {e}")),
        };
        Ok(split(&text, self.last.get(reg)))
    }
}

/// Text to (lines, regtype): the type vireo set when the text is still its
/// own, else linewise exactly when it ends with a newline.
fn split(text: &str, last: Option<&(String, String)>) -> (Vec<String>, String) {
    let text = text.replace("\r\n", "\n");
    let known = last.filter(|(t, _)| *t == text).map(|(_, ty)| ty.clone());
    let linewise = text.ends_with('\n');
    let body = if linewise { &text[..text.len() - 1] } else { &text[..] };
    let lines = body.split('\n').map(str::to_owned).collect();
    let regtype = known.unwrap_or_else(|| if linewise { "V".into() } else { "v".into() });
    (lines, regtype)
}

/// Adds the provider's request handlers to `table`.
pub fn handlers(table: RequestTable, clipboard: Arc<Mutex<Clipboard>>) -> RequestTable {
    let for_set = clipboard.clone();
    table
        .on("vireo_clipboard_set", move |args| {
            let (reg, lines, regtype) = match args.as_slice() {
                [reg, Value::Array(lines), regtype, ..] => (
                    reg.as_str().unwrap_or("+").to_owned(),
                    lines.iter().map(|l| l.as_str().unwrap_or("").to_owned()).collect::<Vec<_>>(),
                    regtype.as_str().unwrap_or("v").to_owned(),
                ),
                _ => return Err("vireo_clipboard_set(reg, lines, regtype)".into()),
            };
            let mut c = for_set.lock().unwrap_or_else(PoisonError::into_inner);
            c.set(&reg, &lines, &regtype).map(|()| Value::Nil).map_err(Value::from)
        })
        .on("vireo_clipboard_get", move |args| {
            let reg = args.first().and_then(Value::as_str).unwrap_or("+").to_owned();
            let mut c = clipboard.lock().unwrap_or_else(PoisonError::into_inner);
            let (lines, regtype) = c.get(&reg).map_err(Value::from)?;
            Ok(Value::Array(vec![Value::Array(lines.into_iter().map(Value::from).collect()), regtype.into()]))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_lines_and_register_type() {
        assert_eq!(split("a\nb", None), (vec!["a".into(), "b".into()], "v".into()));
        assert_eq!(split("a\nb\n", None), (vec!["a".into(), "b".into()], "V".into()));
        assert_eq!(split("a\r\nb\r\n", None), (vec!["a".into(), "b".into()], "V".into()));
        let own = ("ab\ncd".to_owned(), "b2".to_owned());
        assert_eq!(split("ab\ncd", Some(&own)).1, "b2");
        assert_eq!(split("other", Some(&own)).1, "v");
        assert_eq!(split("", None), (vec![String::new()], "v".into()));
    }
}

/// Splits `text` into `nvim_paste` calls: `(chunk, phase)` with phase -1
/// for a single call, else 1 (start), 2 (continue) ..., 3 (end). Chunks end
/// on character boundaries.
pub fn paste_chunks(text: &str, max: usize) -> Vec<(&str, i64)> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max.max(4));
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        chunks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let phase = match (i, n) {
                (_, 1) => -1,
                (0, _) => 1,
                (i, n) if i + 1 == n => 3,
                _ => 2,
            };
            (c, phase)
        })
        .collect()
}

#[cfg(test)]
mod paste_tests {
    use super::*;

    #[test]
    fn pastes_stream_in_phases_on_char_boundaries() {
        assert_eq!(paste_chunks("small", 100), vec![("small", -1)]);
        let text = "ab日cd";
        let chunks = paste_chunks(text, 4);
        assert_eq!(chunks.iter().map(|c| c.0).collect::<String>(), text);
        assert_eq!(chunks.first().unwrap().1, 1);
        assert_eq!(chunks.last().unwrap().1, 3);
        assert!(chunks[1..chunks.len() - 1].iter().all(|c| c.1 == 2));
        assert!(paste_chunks("", 10).is_empty());
    }
}
