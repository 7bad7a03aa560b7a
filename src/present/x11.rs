//! Frames onto an X11 window through MIT-SHM, from a buffer whose rows
//! need not be in screen order (`render::rows`).
//!
//! softbuffer puts each damaged band from the same place in its buffer,
//! so a scroll there moves most of the window's pixels in memory. Here
//! each run of rows is put from wherever the buffer holds it, and a
//! scroll renames rows instead. softbuffer stays for Wayland and for X
//! servers that cannot share memory (a remote display).
//!
//! The frames go through a connection of vireo's own: the server reads
//! the buffer while vireo goes on, and a reply to a request sent after
//! the puts says it is done, before the buffer is written again.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, CreateGCAux, ImageFormat};
use x11rb::rust_connection::RustConnection;

use crate::render::rows::Rows;

/// Why frames cannot go, or stopped going, through shared memory.
#[derive(Debug, thiserror::Error)]
pub enum X11Error {
    #[error("no X connection: {0}")]
    Connect(String),
    #[error("the X server cannot share memory: {0}")]
    NoSharing(String),
    #[error("the X connection failed: {0}")]
    Connection(String),
    #[error("no shared memory for the frame: {0}")]
    Memory(#[from] std::io::Error),
}

crate::util::from_x11_errors!(X11Error, X11Error::Connection);

/// An X11 window shown from a shared-memory buffer.
pub struct X11Frames {
    conn: RustConnection,
    window: u32,
    gc: u32,
    depth: u8,
    segment: Option<Segment>,
    size: (u32, u32),
    /// Which buffer row holds each of the window's rows.
    rows: Rows,
    /// The request sent after the last puts: once it is answered, the
    /// server has read the buffer.
    pending: Option<u64>,
    /// The buffer holds the window's pixels (false at first and after a
    /// resize).
    presented: bool,
}

/// A buffer the X server reads: a memfd mapped here and attached there.
struct Segment {
    id: shm::Seg,
    pixels: NonNull<u32>,
    len: usize,
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `Segment::new` with this length
        // and nothing borrows it past `X11Frames`' borrows of it.
        unsafe { libc::munmap(self.pixels.as_ptr().cast(), self.len * 4) };
    }
}

impl X11Frames {
    /// Frames for X11 `window` of `width` x `height` pixels, where the X
    /// server can share memory with vireo (MIT-SHM 1.2, passing a file).
    pub fn new(window: u32, width: u32, height: u32) -> Result<X11Frames, X11Error> {
        let (conn, _) = x11rb::connect(None).map_err(|e| X11Error::Connect(e.to_string()))?;
        let version = conn
            .shm_query_version()
            .map_err(|e| X11Error::NoSharing(e.to_string()))?
            .reply()
            .map_err(|e| X11Error::NoSharing(e.to_string()))?;
        if (version.major_version, version.minor_version) < (1, 2) {
            return Err(X11Error::NoSharing(format!(
                "MIT-SHM {}.{}, passing a file needs 1.2",
                version.major_version, version.minor_version
            )));
        }
        let depth = conn.get_geometry(window)?.reply()?.depth;
        let gc = conn.generate_id()?;
        conn.create_gc(gc, window, &CreateGCAux::new().graphics_exposures(0))?.check()?;
        let mut frames = X11Frames {
            conn,
            window,
            gc,
            depth,
            segment: None,
            size: (0, 0),
            rows: Rows::new(0),
            pending: None,
            presented: false,
        };
        frames.resize(width, height)?;
        Ok(frames)
    }

    /// A buffer for `width` x `height` pixels; it holds nothing shown yet.
    pub fn resize(&mut self, width: u32, height: u32) -> Result<(), X11Error> {
        let (width, height) = (width.max(1), height.max(1));
        if self.size == (width, height) && self.segment.is_some() {
            return Ok(());
        }
        self.wait()?;
        if let Some(old) = self.segment.take() {
            self.conn.shm_detach(old.id)?;
        }
        self.segment = Some(Segment::new(&self.conn, width as usize * height as usize)?);
        self.size = (width, height);
        self.rows = Rows::new(height);
        self.presented = false;
        Ok(())
    }

    /// 1 where the buffer holds the last frame presented, else 0 (as
    /// softbuffer's buffer age).
    pub fn age(&self) -> u8 {
        u8::from(self.presented)
    }

    /// The buffer's pixels (rows of the window's width, placed by the
    /// rows), once the server has read the last frame from them.
    pub fn buffer(&mut self) -> Result<(&mut [u32], &mut Rows), X11Error> {
        self.wait()?;
        let segment = self.segment.as_ref().expect("made by new and resize");
        // SAFETY: the mapping holds `len` pixels, lives as long as the
        // segment, and the server no longer reads it (`wait`); the
        // borrow of `self` keeps it from being replaced meanwhile.
        let pixels = unsafe { std::slice::from_raw_parts_mut(segment.pixels.as_ptr(), segment.len) };
        Ok((pixels, &mut self.rows))
    }

    /// Shows `spans` (x0, y0, x1, y1) of the window, from wherever the
    /// buffer holds their rows.
    pub fn present(&mut self, spans: &[[u32; 4]]) -> Result<(), X11Error> {
        let segment = self.segment.as_ref().expect("made by new and resize").id;
        // X draws windows of at most 32767 pixels a side.
        let side = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
        let (total_width, total_height) = (side(self.size.0), side(self.size.1));
        let mut sent = Ok(());
        for &[x0, y0, x1, y1] in spans {
            self.rows.runs(&[(y0, y1)], |y, at, rows| {
                if sent.is_ok() {
                    sent = self
                        .conn
                        .shm_put_image(
                            self.window,
                            self.gc,
                            total_width,
                            total_height,
                            side(x0),
                            side(at),
                            side(x1 - x0),
                            side(rows),
                            side(x0) as i16,
                            side(y) as i16,
                            self.depth,
                            ImageFormat::Z_PIXMAP.into(),
                            false,
                            segment,
                            0,
                        )
                        .map(drop);
                }
            });
        }
        sent?;
        let cookie = self.conn.get_input_focus()?;
        self.pending = Some(cookie.sequence_number());
        // Its reply is waited for in `wait`, not dropped with the cookie.
        std::mem::forget(cookie);
        self.conn.flush()?;
        self.presented = true;
        Ok(())
    }

    /// Until the server has read the last frame's puts. Errors the server
    /// sent meanwhile (the window gone under us) are logged and dropped.
    fn wait(&mut self) -> Result<(), X11Error> {
        if let Some(sequence) = self.pending.take() {
            self.conn.wait_for_reply_or_error(sequence)?;
        }
        while let Some(event) = self.conn.poll_for_event()? {
            log::debug!("X, frames' connection: {event:?}");
        }
        Ok(())
    }
}

impl Drop for X11Frames {
    fn drop(&mut self) {
        if let Some(segment) = self.segment.take() {
            // The server drops its mapping when the connection closes.
            self.wait().ok();
            self.conn.shm_detach(segment.id).ok();
            self.conn.flush().ok();
        }
    }
}

impl Segment {
    fn new(conn: &RustConnection, len: usize) -> Result<Segment, X11Error> {
        let id = conn.generate_id()?;
        // SAFETY: a plain system call; the name is a C string.
        let fd = unsafe { libc::memfd_create(c"vireo-frame".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.set_len(len as u64 * 4)?;
        // SAFETY: maps the file just sized to `len` pixels; the mapping
        // is unmapped by `Segment`'s drop.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len * 4,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().into());
        }
        let pixels = NonNull::new(map.cast::<u32>()).expect("mmap does not return null on success");
        let segment = Segment { id, pixels, len };
        // The server maps the file for reading; the fd here closes with
        // `file`, the mapping stays.
        conn.shm_attach_fd(segment.id, OwnedFd::from(file), true)?
            .check()
            .map_err(|e| X11Error::NoSharing(e.to_string()))?;
        Ok(segment)
    }
}
