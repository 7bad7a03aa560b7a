//! A small blocking msgpack-RPC client for vireo's own tooling
//! (`--sessions`, `--kill-session`, opening files in a session): its own
//! connection to nvim, with a deadline on every call, so a session whose
//! nvim is blocked answers "busy" instead of hanging the command.

use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rmpv::Value;

/// Why a call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{}", crate::util::io_reason(.0))]
    Io(#[from] std::io::Error),
    #[error("no answer within {0:?} (nvim is busy)")]
    Timeout(Duration),
    #[error("nvim closed the connection")]
    Closed,
    #[error("nvim error: {0}")]
    Nvim(String),
    #[error("nvim sent something that is not msgpack-RPC: {0}")]
    Garbled(String),
}

/// One connection to nvim's `--listen` socket.
pub struct Client {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
    next_id: u32,
}

impl Client {
    pub fn connect(path: &Path) -> std::io::Result<Client> {
        let stream = UnixStream::connect(path)?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Client { stream, reader, next_id: 1 })
    }

    /// The process id of the nvim at the other end (from the socket, so it
    /// is known even when nvim answers nothing).
    pub fn peer_pid(&self) -> Option<u32> {
        super::peer_credentials(&self.stream).ok().map(|c| c.pid)
    }

    /// Calls `method` and waits at most `timeout` for its answer. After a
    /// timeout the connection is out of step: drop it.
    pub fn call(&mut self, method: &str, args: Vec<Value>, timeout: Duration) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&Value::Array(vec![0.into(), id.into(), method.into(), Value::Array(args)]))?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout(timeout));
            }
            self.stream.set_read_timeout(Some(left))?;
            let message = match rmpv::decode::read_value(&mut self.reader) {
                Ok(v) => v,
                Err(rmpv::decode::Error::InvalidMarkerRead(e) | rmpv::decode::Error::InvalidDataRead(e)) => {
                    return Err(match e.kind() {
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                            ClientError::Timeout(timeout)
                        }
                        std::io::ErrorKind::UnexpectedEof => ClientError::Closed,
                        _ => ClientError::Io(e),
                    });
                }
                Err(e) => return Err(ClientError::Garbled(e.to_string())),
            };
            let Value::Array(items) = message else { return Err(ClientError::Garbled(message.to_string())) };
            // Notifications (2) and nvim's own requests (0) are not ours.
            if items.first().and_then(Value::as_u64) != Some(1)
                || items.get(1).and_then(Value::as_u64) != Some(u64::from(id))
            {
                continue;
            }
            return match (items.get(2), items.get(3)) {
                (Some(Value::Nil), Some(result)) => Ok(result.clone()),
                (Some(Value::Array(e)), _) if e.len() == 2 => {
                    Err(ClientError::Nvim(e[1].as_str().unwrap_or_default().to_owned()))
                }
                (Some(e), _) => Err(ClientError::Nvim(e.to_string())),
                (None, _) => Err(ClientError::Garbled(Value::Array(items).to_string())),
            };
        }
    }

    /// Sends a notification (no answer).
    pub fn notify(&mut self, method: &str, args: Vec<Value>) -> Result<(), ClientError> {
        self.send(&Value::Array(vec![2.into(), method.into(), Value::Array(args)]))
    }

    /// Lua `code` with `args` as `...`, answered within `timeout`.
    pub fn lua(&mut self, code: &str, args: Vec<Value>, timeout: Duration) -> Result<Value, ClientError> {
        self.call("nvim_exec_lua", vec![code.into(), Value::Array(args)], timeout)
    }

    /// Waits until nvim closes the connection (it quit), at most `timeout`.
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return false;
            }
            match rmpv::decode::read_value(&mut self.reader) {
                Ok(_) => {}
                Err(rmpv::decode::Error::InvalidMarkerRead(e)) => {
                    return e.kind() == std::io::ErrorKind::UnexpectedEof
                        || e.kind() == std::io::ErrorKind::ConnectionReset;
                }
                Err(_) => return false,
            }
        }
    }

    fn send(&mut self, message: &Value) -> Result<(), ClientError> {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, message).map_err(|e| ClientError::Garbled(e.to_string()))?;
        self.stream.write_all(&bytes)?;
        Ok(())
    }
}
