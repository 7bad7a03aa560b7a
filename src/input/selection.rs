//! Reads an X11 selection (the `+` and `*` registers) as text, with
//! patience for slow owners.
//!
//! A large selection crosses in pieces (ICCCM's INCR): the owner writes a
//! piece into a property of our window, we read and delete it, the owner
//! writes the next. arboard's reader gives the owner 10 ms per piece and,
//! when a piece is late, reports the clipboard as empty; on a busy machine a
//! 50 MB paste then did nothing at all, silently. Here the owner may go
//! quiet for [`SILENCE`] at any point before we give up, and giving up is
//! an error that says how far the transfer got.
//!
//! ```text
//!   vireo                              owner (another client)
//!   ConvertSelection(UTF8_STRING) ───►
//!                                 ◄─── property = INCR, SelectionNotify
//!   read + delete property ─────────►
//!                                 ◄─── property = piece 1 (PropertyNotify)
//!   read + delete property ─────────►  ... until a piece of zero length
//! ```
//!
//! Each read uses a window of its own, destroyed afterwards, so events of
//! an abandoned transfer cannot leak into the next one. Writing stays with
//! arboard, which serves the selection from its own thread.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt, CreateWindowAux, EventMask, GetPropertyReply, Property, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT, CURRENT_TIME, NONE};

/// The longest an owner may stay silent, before its first answer or
/// between two pieces: far longer than a busy machine delays a working
/// owner, short enough that a dead one is reported while the user waits.
pub const SILENCE: Duration = Duration::from_secs(4);

/// Why a selection could not be read; each message names the clipboard.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("no X display for the clipboard: {0}")]
    Connect(String),
    #[error("the clipboard's X connection failed: {0}")]
    X(String),
    #[error("the clipboard's owner did not answer within {} s", SILENCE.as_secs())]
    NoAnswer,
    /// Short enough for one line of an 80-column nvim after "vireo: paste: ".
    #[error("the clipboard's owner stopped sending after {got} bytes")]
    Stalled { got: usize },
}

crate::util::from_x11_errors!(SelectionError, SelectionError::X);

/// The text forms asked for, best first; the last is Latin-1.
const TARGETS: [&str; 3] = ["UTF8_STRING", "text/plain;charset=utf-8", "STRING"];

/// An X connection that reads selections.
pub struct SelectionReader {
    conn: RustConnection,
    root: Window,
    clipboard: Atom,
    incr: Atom,
    /// Our windows' property that the owner writes into.
    property: Atom,
    /// [`TARGETS`], interned.
    targets: [Atom; 3],
}

impl SelectionReader {
    /// Connects to `display` (`$DISPLAY` when `None`).
    pub fn connect(display: Option<&str>) -> Result<SelectionReader, SelectionError> {
        let (conn, screen) = x11rb::connect(display).map_err(|e| SelectionError::Connect(e.to_string()))?;
        let root = conn.setup().roots[screen].root;
        let atom = |name: &str| -> Result<Atom, SelectionError> {
            Ok(conn.intern_atom(false, name.as_bytes())?.reply()?.atom)
        };
        let clipboard = atom("CLIPBOARD")?;
        let incr = atom("INCR")?;
        let property = atom("_VIREO_SELECTION")?;
        let targets = [atom(TARGETS[0])?, atom(TARGETS[1])?, atom(TARGETS[2])?];
        Ok(SelectionReader { conn, root, clipboard, incr, property, targets })
    }

    /// PRIMARY for the `*` register, CLIPBOARD for any other.
    fn selection(&self, reg: &str) -> Atom {
        if reg == "*" { AtomEnum::PRIMARY.into() } else { self.clipboard }
    }

    /// The window that owns `reg`'s selection, if any.
    pub fn owner(&self, reg: &str) -> Result<Option<Window>, SelectionError> {
        let owner = self.conn.get_selection_owner(self.selection(reg))?.reply()?.owner;
        Ok((owner != NONE).then_some(owner))
    }

    /// `reg`'s selection as text; `None` when nobody owns it or its owner
    /// has no text form of it (an image, say).
    pub fn read_text(&self, reg: &str) -> Result<Option<String>, SelectionError> {
        if self.owner(reg)?.is_none() {
            return Ok(None);
        }
        for (i, &target) in self.targets.iter().enumerate() {
            if let Some(bytes) = self.read(self.selection(reg), target)? {
                let latin1 = i == TARGETS.len() - 1;
                return Ok(Some(if latin1 {
                    bytes.iter().map(|&b| char::from(b)).collect()
                } else {
                    String::from_utf8(bytes)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                }));
            }
        }
        Ok(None)
    }

    /// The selection converted to `target`; `None` if the owner refuses.
    fn read(&self, selection: Atom, target: Atom) -> Result<Option<Vec<u8>>, SelectionError> {
        let window = ScratchWindow::create(&self.conn, self.root)?;
        let w = window.id;
        self.conn.convert_selection(w, selection, target, self.property, CURRENT_TIME)?;
        self.conn.flush()?;
        let deadline = Instant::now() + SILENCE;
        let answer = loop {
            match self.next_event(deadline)? {
                None => return Err(SelectionError::NoAnswer),
                Some(Event::SelectionNotify(e)) if e.requestor == w => break e,
                Some(_) => {}
            }
        };
        if answer.property == NONE {
            return Ok(None);
        }
        // Deleting what we read tells an INCR owner to send the first piece.
        let first = self.take_property(w)?;
        if first.type_ != self.incr {
            return Ok(Some(first.value));
        }
        let mut data = Vec::new();
        loop {
            let piece = self.next_piece(w, data.len())?;
            if piece.is_empty() {
                return Ok(Some(data));
            }
            data.extend_from_slice(&piece);
        }
    }

    /// The next piece of an INCR transfer to window `w` (empty: the end),
    /// `got` bytes into it.
    fn next_piece(&self, w: Window, got: usize) -> Result<Vec<u8>, SelectionError> {
        let deadline = Instant::now() + SILENCE;
        loop {
            match self.next_event(deadline)? {
                None => return Err(SelectionError::Stalled { got }),
                Some(Event::PropertyNotify(e))
                    if e.window == w && e.atom == self.property && e.state == Property::NEW_VALUE =>
                {
                    let piece = self.take_property(w)?;
                    // A notice whose property is already gone is no piece.
                    if piece.type_ != u32::from(AtomEnum::NONE) {
                        return Ok(piece.value);
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// Reads and deletes window `w`'s property, whole.
    fn take_property(&self, w: Window) -> Result<GetPropertyReply, SelectionError> {
        Ok(self.conn.get_property(true, w, self.property, AtomEnum::ANY, 0, u32::MAX / 4)?.reply()?)
    }

    /// The next event, or `None` once `deadline` passes with none.
    fn next_event(&self, deadline: Instant) -> Result<Option<Event>, SelectionError> {
        loop {
            if let Some(event) = self.conn.poll_for_event()? {
                return Ok(Some(event));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut fd =
                libc::pollfd { fd: self.conn.stream().as_raw_fd(), events: libc::POLLIN, revents: 0 };
            let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
            // SAFETY: one valid pollfd, owned by this frame, for the call's duration.
            unsafe { libc::poll(&mut fd, 1, ms) };
        }
    }
}

/// An unmapped window that receives one transfer, destroyed on drop.
struct ScratchWindow<'c> {
    conn: &'c RustConnection,
    id: Window,
}

impl<'c> ScratchWindow<'c> {
    fn create(conn: &'c RustConnection, root: Window) -> Result<ScratchWindow<'c>, SelectionError> {
        let id = conn.generate_id()?;
        let aux = CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            id,
            root,
            0,
            0,
            1,
            1,
            0,
            WindowClass::INPUT_OUTPUT,
            COPY_FROM_PARENT,
            &aux,
        )?;
        Ok(ScratchWindow { conn, id })
    }
}

impl Drop for ScratchWindow<'_> {
    fn drop(&mut self) {
        // Best effort: a broken connection has no windows left to free.
        if let Err(e) = self.conn.destroy_window(self.id).map(|_| ()).and_then(|()| self.conn.flush()) {
            log::debug!("clipboard window not destroyed: {e}");
        }
    }
}
