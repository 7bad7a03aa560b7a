//! msgpack-RPC over any async byte stream.
//!
//! ```text
//!   callers (any thread)                    IO thread (tokio)
//!   ───────────────────                     ─────────────────
//!   Session::input(..)  ──► input lane ──┐
//!   Session::call(..)   ──► query lane ──┴─► writer task ──► nvim
//!          ▲                                                  │
//!          └── oneshot by id ◄── reader task ◄────────────────┘
//!                                   ├─ notifications → sink, in order
//!                                   └─ nvim's requests → handler table,
//!                                      answered on the input lane at once
//! ```
//!
//! The writer drains the input lane first, so a keystroke never queues behind
//! a large or slow query. Nothing on the reader ever waits for a response.

pub mod framing;
pub mod transport;

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmpv::{Value, ValueRef};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use framing::{FramingError, Scanner};

/// An error answered to one of our requests, or the reason it got no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RpcError {
    /// nvim's `[type, message]` error (type 0 = exception, 1 = validation).
    #[error("nvim error: {message}")]
    Nvim { kind: i64, message: String },
    /// nvim answered with an error object of some other shape.
    #[error("nvim error: {0}")]
    Other(String),
    /// The session ended before the response arrived.
    #[error("the connection to nvim is closed")]
    Closed,
}

impl RpcError {
    fn from_error_value(v: Value) -> Self {
        if let Value::Array(items) = &v
            && let [Value::Integer(kind), Value::String(msg)] = items.as_slice()
        {
            return RpcError::Nvim {
                kind: kind.as_i64().unwrap_or(-1),
                message: msg.to_string().trim_matches('"').to_owned(),
            };
        }
        RpcError::Other(v.to_string())
    }
}

/// Why the session ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("reading from nvim failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("nvim sent bytes that are not msgpack: {0}")]
    Framing(#[from] FramingError),
    #[error("nvim sent a malformed message ({reason}): {value}")]
    Malformed { reason: &'static str, value: String },
    #[error("the stream from nvim ended in the middle of a message ({0} bytes left over)")]
    Truncated(usize),
}

/// Which writer queue a message travels in; see the module diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Keystrokes, mouse, resizes, answers to nvim: never wait behind queries.
    Input,
    /// Everything else.
    Query,
}

/// Receives nvim's notifications, in order, on the IO thread.
pub trait NotificationSink: Send + 'static {
    fn notification(&mut self, method: &str, params: &[ValueRef<'_>]);
}

impl<F: FnMut(&str, &[ValueRef<'_>]) + Send + 'static> NotificationSink for F {
    fn notification(&mut self, method: &str, params: &[ValueRef<'_>]) {
        self(method, params)
    }
}

/// A handler for one request method from nvim. It runs on the IO thread
/// while nvim is blocked waiting, so it must return quickly.
pub type RequestHandler = Box<dyn FnMut(Vec<Value>) -> Result<Value, Value> + Send>;

/// A handler that answers later, from any thread, through its [`Responder`]:
/// for work that may block (clipboard transfers), which must never stall
/// the IO thread and with it every redraw.
pub type DeferredHandler = Box<dyn FnMut(Vec<Value>, Responder) + Send>;

enum Handler {
    Now(RequestHandler),
    Later { handler: DeferredHandler, timeout: Duration },
}

/// Request handlers by method name. Unknown methods are answered with an error.
#[derive(Default)]
pub struct RequestTable {
    handlers: HashMap<String, Handler>,
}

impl RequestTable {
    pub fn on(
        mut self,
        method: &str,
        handler: impl FnMut(Vec<Value>) -> Result<Value, Value> + Send + 'static,
    ) -> Self {
        self.handlers.insert(method.to_owned(), Handler::Now(Box::new(handler)));
        self
    }

    /// Registers a handler that answers through a [`Responder`]. nvim gets
    /// an error if no answer comes within `timeout` (it is blocked until it
    /// hears back), or if the handler drops the responder unanswered.
    pub fn on_deferred(
        mut self,
        method: &str,
        timeout: Duration,
        handler: impl FnMut(Vec<Value>, Responder) + Send + 'static,
    ) -> Self {
        self.handlers.insert(method.to_owned(), Handler::Later { handler: Box::new(handler), timeout });
        self
    }

    /// Answers one request now, or hands it to a deferred handler.
    fn dispatch(&mut self, method: &str, params: Vec<Value>, responder: Responder) {
        match self.handlers.get_mut(method) {
            Some(Handler::Now(handler)) => {
                responder.answer(handler(params));
            }
            Some(Handler::Later { handler, timeout }) => {
                responder.answer_after(*timeout);
                handler(params, responder);
            }
            None => {
                let message = format!("vireo has no handler for request '{method}'");
                responder.answer(Err(error_value(message)));
            }
        }
    }
}

/// nvim's error shape: `[0 (exception), message]`.
fn error_value(message: String) -> Value {
    Value::Array(vec![0.into(), message.into()])
}

/// The one answer to one request from nvim. Clones share it: the first
/// answer wins and later ones are ignored; if every clone is dropped
/// unanswered, nvim gets an error rather than silence.
#[derive(Clone)]
pub struct Responder {
    inner: Arc<ResponderInner>,
}

struct ResponderInner {
    id: u64,
    method: String,
    session: Session,
    answered: AtomicBool,
}

impl Responder {
    fn new(id: u64, method: &str, session: &Session) -> Responder {
        let inner = ResponderInner {
            id,
            method: method.to_owned(),
            session: session.clone(),
            answered: AtomicBool::new(false),
        };
        Responder { inner: Arc::new(inner) }
    }

    /// Sends the answer unless one was sent already; returns whether it was.
    pub fn answer(&self, result: Result<Value, Value>) -> bool {
        self.inner.answer(result)
    }

    /// Answers with an error after `timeout` unless answered before. Needs
    /// a tokio runtime (the IO thread's); without one there is no timer.
    fn answer_after(&self, timeout: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            log::warn!("no timer for request '{}': no runtime", self.inner.method);
            return;
        };
        // Weak: a responder dropped early answers at once (see Drop).
        let inner = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            tokio::time::sleep(timeout).await;
            let Some(inner) = inner.upgrade() else { return };
            let message = format!("vireo got no answer for '{}' within {timeout:?}", inner.method);
            if inner.answer(Err(error_value(message.clone()))) {
                log::warn!("{message}");
            }
        });
    }
}

impl ResponderInner {
    fn answer(&self, result: Result<Value, Value>) -> bool {
        if self.answered.swap(true, Ordering::AcqRel) {
            return false;
        }
        let (error, result) = match result {
            Ok(result) => (Value::Nil, result),
            Err(error) => (error, Value::Nil),
        };
        let response = Value::Array(vec![1.into(), self.id.into(), error, result]);
        // A closed writer means nvim is gone; the reader sees EOF next.
        self.session.send(Lane::Input, &response).ok();
        true
    }
}

impl Drop for ResponderInner {
    fn drop(&mut self) {
        let message = format!("vireo dropped the request '{}' without an answer", self.method);
        if self.answer(Err(error_value(message.clone()))) {
            log::error!("{message}");
        }
    }
}

/// Where one response goes: an async caller or a blocked thread.
enum Reply {
    Async(oneshot::Sender<Result<Value, RpcError>>),
    Blocking(crossbeam_channel::Sender<Result<Value, RpcError>>),
}

impl Reply {
    fn deliver(self, result: Result<Value, RpcError>) {
        // The caller may have stopped waiting (a timeout); that is fine.
        match self {
            Reply::Async(tx) => {
                tx.send(result).ok();
            }
            Reply::Blocking(tx) => {
                tx.send(result).ok();
            }
        }
    }
}

type Pending = HashMap<u32, Reply>;

/// The callers' side of a session; cheap to clone and usable from any thread.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    next_id: AtomicU32,
    /// `None` once the session has ended: new calls fail at once.
    pending: Mutex<Option<Pending>>,
    input: mpsc::UnboundedSender<Vec<u8>>,
    query: mpsc::UnboundedSender<Vec<u8>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// Where a copy of every message read from nvim goes (`--record`), whole
/// messages only, so a recording never ends in the middle of one.
pub type Recorder = Arc<Mutex<Option<Box<dyn Write + Send>>>>;

/// What the IO task needs besides the streams.
pub struct Dispatch<S> {
    pub sink: S,
    pub requests: RequestTable,
    pub recorder: Option<Recorder>,
}

impl Session {
    /// Starts the reader and writer on the current tokio runtime. The returned
    /// future completes when the stream ends: `Ok` at a clean end of stream.
    pub fn start<R, W, S>(
        reader: R,
        writer: W,
        dispatch: Dispatch<S>,
    ) -> (Session, tokio::task::JoinHandle<Result<(), SessionError>>)
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
        S: NotificationSink,
    {
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        let (query_tx, query_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            next_id: AtomicU32::new(1),
            pending: Mutex::new(Some(HashMap::new())),
            input: input_tx,
            query: query_tx,
        });
        let session = Session { inner };
        tokio::spawn(write_loop(writer, input_rx, query_rx));
        let reader_session = session.clone();
        let task = tokio::spawn(async move {
            let result = read_loop(reader, dispatch, &reader_session).await;
            reader_session.close();
            result
        });
        (session, task)
    }

    /// Sends a request and waits for its response, without blocking a thread.
    pub async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, RpcError> {
        self.call_in(Lane::Query, method, args).await
    }

    /// Like [`Session::call`], travelling in the given lane.
    pub async fn call_in(&self, lane: Lane, method: &str, args: Vec<Value>) -> Result<Value, RpcError> {
        let (tx, rx) = oneshot::channel();
        self.send_request(lane, method, args, Reply::Async(tx))?;
        rx.await.unwrap_or(Err(RpcError::Closed))
    }

    /// For threads outside the runtime (render, input): blocks this thread
    /// until the response arrives. Never call it from the IO thread.
    pub fn call_blocking(&self, method: &str, args: Vec<Value>) -> Result<Value, RpcError> {
        self.call_blocking_timeout(Lane::Query, method, args, None)?.ok_or(RpcError::Closed)
    }

    /// Like [`Session::call_blocking`], giving up after `timeout`: `Ok(None)`
    /// means no answer yet (nvim may be blocked at a prompt). A late answer
    /// is dropped.
    pub fn call_blocking_timeout(
        &self,
        lane: Lane,
        method: &str,
        args: Vec<Value>,
        timeout: Option<std::time::Duration>,
    ) -> Result<Option<Value>, RpcError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send_request(lane, method, args, Reply::Blocking(tx))?;
        let outcome = match timeout {
            Some(t) => match rx.recv_timeout(t) {
                Ok(r) => r,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => return Ok(None),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(RpcError::Closed),
            },
            None => rx.recv().unwrap_or(Err(RpcError::Closed)),
        };
        outcome.map(Some)
    }

    /// Sends a notification (no response; nvim reports failures as
    /// `nvim_error_event`).
    pub fn notify(&self, lane: Lane, method: &str, args: Vec<Value>) -> Result<(), RpcError> {
        let msg = Value::Array(vec![2.into(), method.into(), Value::Array(args)]);
        self.send(lane, &msg)
    }

    /// Sends keys in Neovim notation (`nvim_input`) in the input lane.
    pub fn input(&self, keys: &str) -> Result<(), RpcError> {
        self.notify(Lane::Input, "nvim_input", vec![keys.into()])
    }

    /// True once the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.lock_pending().is_none()
    }

    fn send_request(&self, lane: Lane, method: &str, args: Vec<Value>, reply: Reply) -> Result<(), RpcError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        match self.lock_pending().as_mut() {
            Some(pending) => pending.insert(id, reply),
            None => return Err(RpcError::Closed),
        };
        let msg = Value::Array(vec![0.into(), id.into(), method.into(), Value::Array(args)]);
        if let Err(e) = self.send(lane, &msg) {
            if let Some(p) = self.lock_pending().as_mut() {
                p.remove(&id);
            }
            return Err(e);
        }
        Ok(())
    }

    fn send(&self, lane: Lane, msg: &Value) -> Result<(), RpcError> {
        let mut bytes = Vec::with_capacity(64);
        rmpv::encode::write_value(&mut bytes, msg).expect("writing to a Vec cannot fail");
        let queue = match lane {
            Lane::Input => &self.inner.input,
            Lane::Query => &self.inner.query,
        };
        queue.send(bytes).map_err(|_| RpcError::Closed)
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends the session for callers: every pending request fails with `Closed`.
    fn close(&self) {
        if let Some(pending) = self.lock_pending().take() {
            for (_, reply) in pending {
                reply.deliver(Err(RpcError::Closed));
            }
        }
    }

    fn resolve(&self, id: u32, result: Result<Value, RpcError>) {
        let reply = self.lock_pending().as_mut().and_then(|p| p.remove(&id));
        match reply {
            Some(reply) => reply.deliver(result),
            None => log::warn!("response for unknown request id {id} ignored"),
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    writer: W,
    mut input: mpsc::UnboundedReceiver<Vec<u8>>,
    mut query: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let mut writer = tokio::io::BufWriter::new(writer);
    loop {
        let msg = tokio::select! {
            biased;
            Some(m) = input.recv() => m,
            Some(m) = query.recv() => m,
            else => break,
        };
        if let Err(e) = writer.write_all(&msg).await {
            log::debug!("writing to nvim failed: {e}");
            break;
        }
        // Batch whatever else is already queued, input first, then flush once.
        while let Ok(m) = input.try_recv().or_else(|_| query.try_recv()) {
            if writer.write_all(&m).await.is_err() {
                return;
            }
        }
        if let Err(e) = writer.flush().await {
            log::debug!("flushing to nvim failed: {e}");
            break;
        }
        crate::trace::mark(crate::trace::Stage::InputWritten);
    }
}

async fn read_loop<R, S>(
    mut reader: R,
    mut dispatch: Dispatch<S>,
    session: &Session,
) -> Result<(), SessionError>
where
    R: AsyncRead + Unpin,
    S: NotificationSink,
{
    const READ_CHUNK: usize = 64 * 1024;
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut scanner = Scanner::default();
    loop {
        let mut start = 0;
        while let Some(len) = scanner.next_message(&buf[start..])? {
            if let Some(rec) = &dispatch.recorder {
                record(rec, &buf[start..start + len]);
            }
            dispatch_message(&buf[start..start + len], &mut dispatch, session)?;
            start += len;
        }
        buf.drain(..start);
        buf.reserve(READ_CHUNK);
        let n = match reader.read_buf(&mut buf).await {
            Ok(n) => n,
            // The peer closed its end with bytes of ours unread (a server
            // killed, or quitting while a request was on its way): a Unix
            // or TCP socket then reports a reset where a pipe reports its
            // end. Either way nothing more will come.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return if buf.is_empty() { Ok(()) } else { Err(SessionError::Truncated(buf.len())) };
        }
    }
}

fn record(recorder: &Recorder, bytes: &[u8]) {
    let mut guard = recorder.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(out) = guard.as_mut() {
        // Flushed per message, so a recording can be read while it grows.
        if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
            log::error!("recording stopped: {e}");
            *guard = None;
        }
    }
}

/// Decodes one complete message and routes it.
pub(crate) fn dispatch_message<S: NotificationSink>(
    bytes: &[u8],
    dispatch: &mut Dispatch<S>,
    session: &Session,
) -> Result<(), SessionError> {
    let malformed =
        |reason, value: &dyn fmt::Debug| SessionError::Malformed { reason, value: truncate_debug(value) };
    let value = decode_message(bytes).map_err(|e| malformed("undecodable", &e))?;
    let ValueRef::Array(items) = &value else {
        return Err(malformed("not an array", &value));
    };
    match items.as_slice() {
        [ValueRef::Integer(t), id, method, params] if t.as_u64() == Some(0) => {
            let (Some(id), Some(params)) = (as_msgid(id), params_of(params)) else {
                return Err(malformed("bad request", &value));
            };
            let method = lossy(method).ok_or_else(|| malformed("bad request method", &value))?;
            let params: Vec<Value> = params.iter().map(ValueRef::to_owned).collect();
            let responder = Responder::new(id.into(), &method, session);
            dispatch.requests.dispatch(&method, params, responder);
        }
        [ValueRef::Integer(t), id, error, result] if t.as_u64() == Some(1) => {
            let id = as_msgid(id).ok_or_else(|| malformed("bad response id", &value))?;
            let outcome = match error {
                ValueRef::Nil => Ok(result.to_owned()),
                e => Err(RpcError::from_error_value(e.to_owned())),
            };
            session.resolve(id, outcome);
        }
        [ValueRef::Integer(t), method, params] if t.as_u64() == Some(2) => {
            let method = lossy(method).ok_or_else(|| malformed("bad notification", &value))?;
            let params = params_of(params).ok_or_else(|| malformed("bad notification", &value))?;
            dispatch.sink.notification(&method, params);
        }
        _ => return Err(malformed("unknown message type", &value)),
    }
    Ok(())
}

fn as_msgid(v: &ValueRef<'_>) -> Option<u32> {
    match v {
        ValueRef::Integer(i) => i.as_u64().and_then(|i| u32::try_from(i).ok()),
        _ => None,
    }
}

fn params_of<'a, 'v>(v: &'v ValueRef<'a>) -> Option<&'v [ValueRef<'a>]> {
    match v {
        ValueRef::Array(items) => Some(items),
        _ => None,
    }
}

/// rmpv's depth budget for one message (each array or map level costs two).
/// nvim's messages need about 16; rmpv's default of 1024 recurses deeper
/// than a 2 MiB thread stack holds in debug builds, so a hostile message
/// could abort the process instead of being refused.
pub const MAX_DEPTH: usize = 128;

/// Decodes one complete message, refusing nesting beyond [`MAX_DEPTH`].
pub fn decode_message(bytes: &[u8]) -> Result<ValueRef<'_>, rmpv::decode::Error> {
    rmpv::decode::read_value_ref_with_max_depth(&mut &bytes[..], MAX_DEPTH)
}

/// A msgpack string (or binary) as text, replacing invalid UTF-8.
pub fn lossy<'a>(v: &ValueRef<'a>) -> Option<std::borrow::Cow<'a, str>> {
    match v {
        ValueRef::String(s) => Some(match s.into_str() {
            Some(text) => std::borrow::Cow::Borrowed(text),
            None => std::borrow::Cow::Owned(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        }),
        ValueRef::Binary(b) => Some(String::from_utf8_lossy(b)),
        _ => None,
    }
}

fn truncate_debug(v: &dyn fmt::Debug) -> String {
    crate::util::shorten(format!("{v:?}"), 200)
}

#[cfg(test)]
pub(crate) mod tests;
