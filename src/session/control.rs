//! The control socket: how `vireo --remote*` reaches a running window.
//!
//! ```text
//!   control/PID.sock   0600, in a 0700 folder; the peer's uid is checked
//!                      (SO_PEERCRED) before a byte is read
//!   control/PID.json   0600: {socket, pid, session, key, signature_scheme}
//!
//!   frame    = u32 big-endian length, then JSON:
//!              {"header": "<JSON text>", "content": "<JSON text>", "signature": "<hex>"}
//!   header   = {msg_id, session, sender, date_ms, msg_type}
//!   signature = HMAC-SHA256(key, len(header) ‖ header ‖ len(content) ‖ content),
//!              over the texts as sent (u64 big-endian lengths: no part can
//!              borrow bytes from the other)
//! ```
//!
//! The key is 256 random bits made at start-up; only the user can read the
//! connection file that holds it. A message is acted on only when its
//! signature checks out (compared in constant time), its timestamp is
//! within [`MAX_SKEW`] of now, and neither its id nor its signature was
//! seen before (replays). Anything else is refused, logged, and answered
//! with `{"refused": why}` (unsigned: it carries nothing secret). Replies
//! are signed with the same key, and the client checks them the same way.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

/// The scheme named in connection files.
pub const SCHEME: &str = "hmac-sha256";
/// How far a message's timestamp may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(10);
/// The largest frame read (a list of files, keys to type).
const MAX_FRAME: usize = 1 << 20;
/// How long a peer may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

type HmacSha256 = Hmac<Sha256>;

/// The connection file beside a control socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionFile {
    pub socket: PathBuf,
    pub pid: u32,
    /// The window's session name, if it is attached to one.
    pub session: Option<String>,
    /// The key, as 64 hex digits.
    pub key: String,
    pub signature_scheme: String,
}

/// A message's header: signed together with its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub msg_id: String,
    /// The session the sender means (the window's pid as text).
    pub session: String,
    /// Who sent it (`vireo-remote-PID`, `vireo-window-PID`).
    pub sender: String,
    /// Milliseconds since the Unix epoch.
    pub date_ms: u64,
    pub msg_type: String,
}

/// A frame on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub header: String,
    pub content: String,
    #[serde(default)]
    pub signature: String,
}

/// Why a message was not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it has no signature")]
    MissingSignature,
    #[error("its signature does not match (a wrong key, or the message was changed)")]
    BadSignature,
    #[error("its timestamp is {0} ms away from now (at most {max} ms allowed)", max = MAX_SKEW.as_millis())]
    Stale(u64),
    #[error("it was seen before (a replay)")]
    Replay,
    #[error("it is not a control message: {0}")]
    Malformed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Dir(#[from] super::DirError),
    #[error("the control socket {}: {}", .0.display(), crate::util::io_reason(.1))]
    Io(PathBuf, std::io::Error),
    #[error("the connection file {}: {why}", .path.display())]
    BadFile { path: PathBuf, why: String },
    #[error("the window closed the connection without an answer")]
    Closed,
    #[error("the window refused the request: {0}")]
    Refused(String),
    #[error("the window's answer was refused: {0}")]
    BadReply(Refusal),
}

/// A 256-bit key.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl Key {
    /// 32 bytes from the kernel's random source.
    pub fn random() -> std::io::Result<Key> {
        let mut bytes = [0; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Key(bytes))
    }

    pub fn from_hex(hex: &str) -> Option<Key> {
        let bytes = from_hex(hex)?;
        Some(Key(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    fn mac(&self, header: &str, content: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for part in [header, content] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The hex signature of a header and content.
    pub fn sign(&self, header: &str, content: &str) -> String {
        to_hex(&self.mac(header, content).finalize().into_bytes())
    }

    /// Whether `signature` is theirs, compared in constant time.
    fn verify(&self, header: &str, content: &str, signature: &str) -> bool {
        from_hex(signature).is_some_and(|sig| self.mac(header, content).verify_slice(&sig).is_ok())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// 128 random bits as hex; the time and a counter where the random source
/// cannot be read (ids need only be unique, the key is what is secret).
fn message_id() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut bytes = [0; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        bytes[..8].copy_from_slice(&now_ms().to_be_bytes());
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[8..].copy_from_slice(&(u64::from(std::process::id()) << 32 | n).to_be_bytes());
    }
    to_hex(&bytes)
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Makes a signed envelope of `msg_type` with `content`.
pub fn seal(key: &Key, session: &str, sender: &str, msg_type: &str, content: &Value) -> Envelope {
    let header = Header {
        msg_id: message_id(),
        session: session.to_owned(),
        sender: sender.to_owned(),
        date_ms: now_ms(),
        msg_type: msg_type.to_owned(),
    };
    seal_header(key, &header, content)
}

/// Signs a given header (tests make stale and replayed ones with it).
pub fn seal_header(key: &Key, header: &Header, content: &Value) -> Envelope {
    let header = serde_json::to_string(header).expect("a header serializes");
    let content = content.to_string();
    let signature = key.sign(&header, &content);
    Envelope { header, content, signature }
}

/// Checks messages: signature, time, replays. One per key and direction.
pub struct Verifier {
    key: Key,
    /// Message ids and signatures seen, with their timestamps; pruned once
    /// older than the skew window (they would be refused as stale anyway).
    seen: HashMap<String, u64>,
}

impl Verifier {
    pub fn new(key: Key) -> Verifier {
        Verifier { key, seen: HashMap::new() }
    }

    /// The header and content of `envelope` if it may be acted on.
    pub fn check(&mut self, envelope: &Envelope, now_ms: u64) -> Result<(Header, Value), Refusal> {
        if envelope.signature.is_empty() {
            return Err(Refusal::MissingSignature);
        }
        if !self.key.verify(&envelope.header, &envelope.content, &envelope.signature) {
            return Err(Refusal::BadSignature);
        }
        let header: Header =
            serde_json::from_str(&envelope.header).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let content: Value =
            serde_json::from_str(&envelope.content).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let skew = now_ms.abs_diff(header.date_ms);
        if u128::from(skew) > MAX_SKEW.as_millis() {
            return Err(Refusal::Stale(skew));
        }
        let window = MAX_SKEW.as_millis() as u64;
        self.seen.retain(|_, &mut at| now_ms.abs_diff(at) <= 2 * window);
        let id = format!("id:{}", header.msg_id);
        let sig = format!("sig:{}", envelope.signature.to_ascii_lowercase());
        if self.seen.contains_key(&id) || self.seen.contains_key(&sig) {
            return Err(Refusal::Replay);
        }
        self.seen.insert(id, header.date_ms);
        self.seen.insert(sig, header.date_ms);
        Ok((header, content))
    }
}

pub fn write_frame(stream: &mut impl Write, envelope: &Envelope) -> std::io::Result<()> {
    let body = serde_json::to_vec(envelope).map_err(std::io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(std::io::Error::other)?;
    stream.write_all(&len.to_be_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

/// Reads one frame: an envelope, or a refusal's `{"refused": why}`.
pub fn read_frame(stream: &mut impl Read) -> std::io::Result<Value> {
    let mut len = [0; 4];
    stream.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!("a frame of {len} bytes (at most {MAX_FRAME})")));
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}

/// Who may connect to the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// In a checked 0700 folder, the socket 0600.
    Private,
    /// Tests only (`VIREO_TEST_CONTROL_DIR`): any user can connect, so the
    /// uid check alone is what turns others away.
    UidCheckOnly,
}

/// What the server does with a checked request: its answer's content.
pub type Handler = Arc<dyn Fn(&Header, Value) -> Value + Send + Sync>;

/// A listening control socket; its files are removed on drop.
pub struct Server {
    pub file: ConnectionFile,
    file_path: PathBuf,
}

impl Server {
    /// Listens in `control/` under vireo's runtime folder.
    pub fn start(session: Option<String>, handler: Handler) -> Result<Server, ControlError> {
        match std::env::var_os("VIREO_TEST_CONTROL_DIR") {
            Some(dir) => Server::start_in(Path::new(&dir), session, handler, Access::UidCheckOnly),
            None => Server::start_in(&super::private_dir("control")?, session, handler, Access::Private),
        }
    }

    /// Listens in `dir` (checked to be private unless `access` says not).
    pub fn start_in(
        dir: &Path,
        session: Option<String>,
        handler: Handler,
        access: Access,
    ) -> Result<Server, ControlError> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if access == Access::Private {
            super::ensure_private(dir)?;
        }
        let pid = std::process::id();
        let socket = dir.join(format!("{pid}.sock"));
        let file_path = dir.join(format!("{pid}.json"));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |e| ControlError::Io(path, e)
        };
        let key = Key::random().map_err(io(&file_path))?;
        // A socket left by a process that had this pid before.
        std::fs::remove_file(&socket).ok();
        let listener = UnixListener::bind(&socket).map_err(io(&socket))?;
        let mode = if access == Access::Private { 0o600 } else { 0o666 };
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(mode)).map_err(io(&socket))?;
        let file = ConnectionFile {
            socket: socket.clone(),
            pid,
            session,
            key: key.to_hex(),
            signature_scheme: SCHEME.into(),
        };
        std::fs::remove_file(&file_path).ok();
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file_path)
            .map_err(io(&file_path))?;
        let text = serde_json::to_string_pretty(&file).expect("a connection file serializes");
        out.write_all(text.as_bytes()).map_err(io(&file_path))?;
        let verifier = Arc::new(Mutex::new(Verifier::new(key.clone())));
        std::thread::Builder::new()
            .name("vireo-control".into())
            .spawn(move || serve(listener, key, verifier, handler))
            .map_err(io(&socket))?;
        Ok(Server { file, file_path })
    }

    /// Marks this window as the one used last (`--remote` picks the newest).
    pub fn touch(&self) {
        let now = std::fs::FileTimes::new().set_modified(SystemTime::now());
        if let Err(e) =
            std::fs::File::options().write(true).open(&self.file_path).and_then(|f| f.set_times(now))
        {
            log::warn!("could not mark the control file as used: {e}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        std::fs::remove_file(&self.file.socket).ok();
        std::fs::remove_file(&self.file_path).ok();
    }
}

fn serve(listener: UnixListener, key: Key, verifier: Arc<Mutex<Verifier>>, handler: Handler) {
    let uid = super::current_uid();
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                log::warn!("control socket: accept failed: {e}");
                continue;
            }
        };
        // Before reading anything: only this user may talk to the window.
        match super::peer_credentials(&stream) {
            Ok(peer) if peer.uid == uid => {}
            Ok(peer) => {
                log::warn!("control socket: refused a connection from uid {} (pid {})", peer.uid, peer.pid);
                continue;
            }
            Err(e) => {
                log::warn!("control socket: refused a connection whose user is unknown: {e}");
                continue;
            }
        }
        let (key, verifier, handler) = (key.clone(), verifier.clone(), handler.clone());
        // Each connection on its own thread: `--remote-wait` holds its
        // connection until the buffers are closed.
        let spawned = std::thread::Builder::new()
            .name("vireo-control-conn".into())
            .spawn(move || connection(stream, &key, &verifier, &handler));
        if let Err(e) = spawned {
            log::warn!("control socket: no thread for a connection: {e}");
        }
    }
}

fn connection(mut stream: UnixStream, key: &Key, verifier: &Mutex<Verifier>, handler: &Handler) {
    stream.set_read_timeout(Some(READ_TIMEOUT)).ok();
    let frame = match read_frame(&mut stream) {
        Ok(f) => f,
        Err(e) => {
            log::warn!("control socket: refused a request it could not read: {e}");
            return;
        }
    };
    let checked =
        serde_json::from_value::<Envelope>(frame).map_err(|e| Refusal::Malformed(e.to_string())).and_then(
            |envelope| verifier.lock().unwrap_or_else(PoisonError::into_inner).check(&envelope, now_ms()),
        );
    let (header, content) = match checked {
        Ok(ok) => ok,
        Err(why) => {
            log::warn!("control socket: refused a message: {why}");
            let refusal = serde_json::json!({ "refused": why.to_string() });
            if let Err(e) = stream.write_all(&frame_bytes(&refusal)) {
                log::debug!("control socket: the refused peer is gone: {e}");
            }
            return;
        }
    };
    log::info!("control socket: {} from {}", header.msg_type, header.sender);
    let answer = handler(&header, content);
    let reply = seal(key, &header.session, &format!("vireo-window-{}", std::process::id()), "reply", &answer);
    if let Err(e) = write_frame(&mut stream, &reply) {
        log::warn!("control socket: the answer to {} was not delivered: {e}", header.msg_type);
    }
}

fn frame_bytes(value: &Value) -> Vec<u8> {
    let body = value.to_string().into_bytes();
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend(body);
    out
}

/// Reads a connection file.
pub fn read_connection_file(path: &Path) -> Result<ConnectionFile, ControlError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ControlError::BadFile { path: path.to_owned(), why: e.to_string() })?;
    let file: ConnectionFile = serde_json::from_str(&text)
        .map_err(|e| ControlError::BadFile { path: path.to_owned(), why: e.to_string() })?;
    if file.signature_scheme != SCHEME {
        let why = format!("signature scheme '{}' (vireo knows '{SCHEME}')", file.signature_scheme);
        return Err(ControlError::BadFile { path: path.to_owned(), why });
    }
    Ok(file)
}

/// Sends one request to the window of `file` and waits for its answer
/// (as long as it takes: `--remote-wait`).
pub fn request(file: &ConnectionFile, msg_type: &str, content: &Value) -> Result<Value, ControlError> {
    let key = Key::from_hex(&file.key).ok_or_else(|| ControlError::BadFile {
        path: file.socket.clone(),
        why: "the key is not 64 hex digits".into(),
    })?;
    let io = |e| ControlError::Io(file.socket.clone(), e);
    let mut stream = UnixStream::connect(&file.socket).map_err(io)?;
    let sender = format!("vireo-remote-{}", std::process::id());
    // A refused peer sees the connection closed: before it wrote (a broken
    // pipe) or after.
    let closed = |e: std::io::Error| match e.kind() {
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => ControlError::Closed,
        _ => io(e),
    };
    write_frame(&mut stream, &seal(&key, &file.pid.to_string(), &sender, msg_type, content))
        .map_err(closed)?;
    let frame = read_frame(&mut stream).map_err(closed)?;
    if let Some(why) = frame.get("refused").and_then(Value::as_str) {
        return Err(ControlError::Refused(why.to_owned()));
    }
    let envelope: Envelope = serde_json::from_value(frame)
        .map_err(|e| ControlError::BadReply(Refusal::Malformed(e.to_string())))?;
    let (_, content) = Verifier::new(key).check(&envelope, now_ms()).map_err(ControlError::BadReply)?;
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key([byte; 32])
    }

    #[test]
    fn a_signed_message_passes_once() {
        let k = key(1);
        let env = seal(&k, "s", "me", "open", &serde_json::json!({"files": ["/a"]}));
        let mut v = Verifier::new(k);
        let (header, content) = v.check(&env, now_ms()).unwrap();
        assert_eq!(header.msg_type, "open");
        assert_eq!(content["files"][0], "/a");
        assert_eq!(v.check(&env, now_ms()), Err(Refusal::Replay));
    }

    #[test]
    fn every_kind_of_bad_message_is_refused() {
        let k = key(1);
        let mut v = Verifier::new(k.clone());
        let good = seal(&k, "s", "me", "send", &serde_json::json!({"keys": "ihi"}));

        let wrong_key = seal(&key(2), "s", "me", "send", &serde_json::json!({"keys": "ihi"}));
        assert_eq!(v.check(&wrong_key, now_ms()), Err(Refusal::BadSignature));

        let mut tampered = good.clone();
        tampered.content = tampered.content.replace("ihi", ":qa!");
        assert_eq!(v.check(&tampered, now_ms()), Err(Refusal::BadSignature));

        // Moving bytes from the header into the content changes the signature.
        let mut shifted = good.clone();
        shifted.content = format!("{}{}", &shifted.header[shifted.header.len() - 1..], shifted.content);
        shifted.header.pop();
        assert_eq!(v.check(&shifted, now_ms()), Err(Refusal::BadSignature));

        let mut unsigned = good.clone();
        unsigned.signature.clear();
        assert_eq!(v.check(&unsigned, now_ms()), Err(Refusal::MissingSignature));

        let mut header: Header = serde_json::from_str(&good.header).unwrap();
        header.date_ms -= 60_000;
        let stale = seal_header(&k, &header, &serde_json::json!({}));
        assert!(matches!(v.check(&stale, now_ms()), Err(Refusal::Stale(skew)) if skew >= 60_000));

        assert!(v.check(&good, now_ms()).is_ok());
        // The same id with new content and a fresh signature: still a replay.
        let header: Header = serde_json::from_str(&good.header).unwrap();
        let again = seal_header(&k, &header, &serde_json::json!({"keys": "other"}));
        assert_eq!(v.check(&again, now_ms()), Err(Refusal::Replay));
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let k = Key::random().unwrap();
        assert_eq!(Key::from_hex(&k.to_hex()).unwrap().0, k.0);
        assert!(Key::from_hex("zz").is_none());
        assert!(Key::from_hex(&"ab".repeat(31)).is_none());
    }
}
