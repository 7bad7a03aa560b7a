//! The `+` and `*` registers without any external tool: vireo installs a
//! `g:clipboard` provider whose functions call back into vireo with
//! `rpcrequest`, and vireo answers from the system clipboard: arboard sets
//! it, and on X vireo's own reader (`selection.rs`) gets it.

use std::collections::HashMap;
use std::time::Duration;

use rmpv::Value;

use crate::rpc::RequestTable;

/// Lua run before attaching (gets vireo's channel id as `...`): sets the
/// provider. A user's config, which runs later, can still replace it.
pub const PROVIDER_LUA: &str = r#"
local chan = ...
-- A session's windows come and go: the window that set the provider while
-- it is there, else any other vireo window.
local function window()
  local other
  for _, c in ipairs(vim.api.nvim_list_chans()) do
    if c.client and c.client.name == 'vireo' then
      if c.id == chan then return chan end
      other = other or c.id
    end
  end
  return other or chan
end
local function copy(reg)
  return function(lines, regtype) vim.rpcrequest(window(), 'vireo_clipboard_set', reg, lines, regtype) end
end
local function paste(reg)
  return function() return vim.rpcrequest(window(), 'vireo_clipboard_get', reg) end
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
    /// Reads where there is an X display; `Some(None)` once connecting
    /// failed (arboard reads then).
    #[cfg(all(unix, not(target_os = "macos")))]
    x: Option<Option<super::selection::SelectionReader>>,
    /// Per register: arboard's window, seen owning the selection after
    /// vireo set it. While it still owns it, the text is [`Self::last`]:
    /// arboard serves a selection whole, which X refuses beyond its
    /// request size, so big yanks must not travel through X.
    #[cfg(all(unix, not(target_os = "macos")))]
    own: HashMap<String, u32>,
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
        #[cfg(all(unix, not(target_os = "macos")))]
        let before = self.x11().and_then(|x| x.owner(reg).ok().flatten());
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
        #[cfg(all(unix, not(target_os = "macos")))]
        if let Some(window) = self.arboards_window(reg, before) {
            self.own.insert(reg.to_owned(), window);
        }
        Ok(())
    }

    /// The window arboard just made `reg`'s owner: the owner once it
    /// differs from `before`, or one already known as arboard's. arboard
    /// takes the selection on its own connection, which X may serve after
    /// this one, so this looks again for up to 200 ms.
    #[cfg(all(unix, not(target_os = "macos")))]
    fn arboards_window(&mut self, reg: &str, before: Option<u32>) -> Option<u32> {
        let known = self.own.get(reg).copied();
        let x = self.x11()?;
        let deadline = std::time::Instant::now() + Duration::from_millis(200);
        loop {
            let owner = x.owner(reg).ok().flatten();
            if owner.is_some() && (owner != before || owner == known) {
                return owner;
            }
            if std::time::Instant::now() >= deadline {
                log::debug!("clipboard: arboard's window not seen owning {reg:?}");
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The X selection reader, connected on first use.
    #[cfg(all(unix, not(target_os = "macos")))]
    fn x11(&mut self) -> Option<&super::selection::SelectionReader> {
        if self.x.is_none() {
            let reader = super::selection::SelectionReader::connect(None);
            self.x = Some(reader.inspect_err(|e| log::info!("clipboard read through arboard: {e}")).ok());
        }
        self.x.as_ref().and_then(Option::as_ref)
    }

    /// The selection read through vireo's X reader: `None` where there is
    /// no X display.
    #[cfg(all(unix, not(target_os = "macos")))]
    fn get_x11(&mut self, reg: &str) -> Option<Result<String, String>> {
        let own = self.own.get(reg).copied();
        let last = self.last.get(reg).map(|(text, _)| text.clone());
        let x = self.x11()?;
        let read = || -> Result<String, super::selection::SelectionError> {
            if let (Some(own), Some(last)) = (own, last)
                && x.owner(reg)? == Some(own)
            {
                return Ok(last);
            }
            Ok(x.read_text(reg)?.unwrap_or_default())
        };
        let result = read();
        if let Err(super::selection::SelectionError::X(_)) = &result {
            self.x = None; // connect again next time
        }
        Some(result.map_err(|e| e.to_string()))
    }

    /// The clipboard as nvim wants it: lines and a register type.
    pub fn get(&mut self, reg: &str) -> Result<(Vec<String>, String), String> {
        #[cfg(all(unix, not(target_os = "macos")))]
        if let Some(text) = self.get_x11(reg) {
            return Ok(split(&text?, self.last.get(reg)));
        }
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

/// How long nvim waits for a clipboard answer before it gets an error.
/// Longer than the 4 s a selection owner may stay silent
/// ([`super::selection::SILENCE`]), so that case reports its clearer
/// message; a transfer still running after this is abandoned.
pub const CLIPBOARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Work for the clipboard thread.
type Job = Box<dyn FnOnce(&mut Clipboard) + Send>;

/// The clipboard thread: it owns the [`Clipboard`] and runs transfers one
/// at a time, so a slow or absent selection owner delays only clipboard
/// work, never the IO thread (redraws) or the window (input).
///
/// ```text
///   IO thread: rpcrequest ─► job ─┐                 ┌─► Responder (any thread)
///   window: Ctrl+Shift+V ─► job ──┴─► vireo-clipboard ─► nvim_paste
/// ```
#[derive(Clone)]
pub struct ClipboardWorker {
    jobs: crossbeam_channel::Sender<Job>,
}

impl ClipboardWorker {
    /// Starts the thread; it ends when the last worker handle is dropped.
    pub fn start() -> std::io::Result<ClipboardWorker> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        std::thread::Builder::new().name("vireo-clipboard".into()).spawn(move || {
            let mut clipboard = Clipboard::default();
            for job in queue {
                job(&mut clipboard);
            }
        })?;
        Ok(ClipboardWorker { jobs })
    }

    /// Queues `job`; false if the thread is gone (it only ends with vireo).
    pub fn submit(&self, job: impl FnOnce(&mut Clipboard) + Send + 'static) -> bool {
        self.jobs.send(Box::new(job)).is_ok()
    }
}

/// Adds the provider's request handlers to `table`; they answer from the
/// clipboard thread.
pub fn handlers(table: RequestTable, worker: ClipboardWorker) -> RequestTable {
    handlers_with_timeout(table, worker, CLIPBOARD_TIMEOUT)
}

fn handlers_with_timeout(table: RequestTable, worker: ClipboardWorker, timeout: Duration) -> RequestTable {
    let for_set = worker.clone();
    table
        .on_deferred("vireo_clipboard_set", timeout, move |args, responder| {
            let (reg, lines, regtype) = match args.as_slice() {
                [reg, Value::Array(lines), regtype, ..] => (
                    reg.as_str().unwrap_or("+").to_owned(),
                    lines.iter().map(|l| l.as_str().unwrap_or("").to_owned()).collect::<Vec<_>>(),
                    regtype.as_str().unwrap_or("v").to_owned(),
                ),
                _ => {
                    responder.answer(Err("vireo_clipboard_set(reg, lines, regtype)".into()));
                    return;
                }
            };
            // Dropped unanswered (thread gone), the responder answers an error.
            for_set.submit(move |c| {
                responder.answer(c.set(&reg, &lines, &regtype).map(|()| Value::Nil).map_err(Value::from));
            });
        })
        .on_deferred("vireo_clipboard_get", timeout, move |args, responder| {
            let reg = args.first().and_then(Value::as_str).unwrap_or("+").to_owned();
            worker.submit(move |c| {
                let got = c.get(&reg).map(|(lines, regtype)| {
                    Value::Array(vec![
                        Value::Array(lines.into_iter().map(Value::from).collect()),
                        regtype.into(),
                    ])
                });
                responder.answer(got.map_err(Value::from));
            });
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

    /// A selection owner that never answers holds up the clipboard thread
    /// only: nvim's other messages keep flowing and nvim gets an error.
    #[test]
    fn a_stuck_clipboard_never_stalls_the_session() {
        use crate::rpc::tests::{rt, start};
        let worker = ClipboardWorker::start().unwrap();
        let (release, stuck) = crossbeam_channel::bounded::<()>(0);
        // The transfer in progress: blocks the thread until released.
        assert!(worker.submit(move |_| stuck.recv().unwrap_or_default()));
        let table = handlers_with_timeout(RequestTable::default(), worker, Duration::from_millis(300));
        rt().block_on(async {
            let (_session, _task, mut peer, notes) = start(table);
            let get = Value::Array(vec!["+".into()]);
            peer.write(Value::Array(vec![0.into(), 5.into(), "vireo_clipboard_get".into(), get])).await;
            peer.write(Value::Array(vec![2.into(), "redraw".into(), Value::Array(vec![])])).await;
            let answer = peer.read().await;
            assert_eq!(notes.lock().unwrap().len(), 1, "the notification after the request was handled");
            let items = answer.as_array().unwrap();
            assert_eq!(items[1], Value::from(5));
            assert!(items[2].to_string().contains("no answer for 'vireo_clipboard_get'"), "{answer}");
        });
        release.send(()).ok();
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
