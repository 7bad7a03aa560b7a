//! Finds message boundaries in a msgpack byte stream without decoding it.
//!
//! The scanner walks markers iteratively (no recursion, so hostile nesting
//! cannot overflow the stack) and never allocates for a claimed length: a
//! header that announces 4 GiB simply means "incomplete" until the bytes
//! really arrive, and the caller's size cap turns that into an error.
//! It is resumable, so a large message that arrives in many reads is scanned
//! once in total rather than once per read.

/// The first byte of a msgpack value that no encoder may emit.
const RESERVED_MARKER: u8 = 0xc1;

/// Why a byte stream cannot be msgpack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("reserved msgpack marker 0xc1 at byte {offset} of the message")]
    ReservedMarker { offset: usize },
    #[error("message larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
}

/// Resumable scan state for the message at the front of a buffer.
#[derive(Debug, Default, Clone)]
pub struct Scanner {
    /// Bytes of the current message already walked.
    pos: usize,
    /// Values still to be read before the message is complete (0 = not started).
    pending: u64,
}

impl Scanner {
    /// Largest message accepted; beyond this the peer is treated as broken.
    pub const MAX_MESSAGE: usize = 512 * 1024 * 1024;

    /// Returns the length of the complete message at the front of `buf`, or
    /// `None` when more bytes are needed. After `Some`, the scanner is reset
    /// for the next message (the caller drops those bytes from `buf`).
    pub fn next_message(&mut self, buf: &[u8]) -> Result<Option<usize>, FramingError> {
        if self.pending == 0 {
            self.pos = 0;
            self.pending = 1;
        }
        while self.pending > 0 {
            let Some(&marker) = buf.get(self.pos) else {
                return self.incomplete(buf.len());
            };
            let Some((header, body, children)) = value_shape(marker, &buf[self.pos..]) else {
                return self.incomplete(buf.len());
            };
            if marker == RESERVED_MARKER {
                return Err(FramingError::ReservedMarker { offset: self.pos });
            }
            let end = self.pos as u64 + header as u64 + body;
            if end > Self::MAX_MESSAGE as u64 {
                return Err(FramingError::TooLarge { limit: Self::MAX_MESSAGE });
            }
            if end > buf.len() as u64 {
                return self.incomplete(buf.len());
            }
            self.pos = end as usize;
            self.pending = self.pending - 1 + children;
        }
        let len = self.pos;
        self.pos = 0;
        Ok(Some(len))
    }

    fn incomplete(&self, buffered: usize) -> Result<Option<usize>, FramingError> {
        if buffered > Self::MAX_MESSAGE {
            return Err(FramingError::TooLarge { limit: Self::MAX_MESSAGE });
        }
        Ok(None)
    }
}

/// For the value starting at `bytes[0]`: (header length, body length, child
/// value count). `None` when the header itself is not complete yet.
fn value_shape(marker: u8, bytes: &[u8]) -> Option<(usize, u64, u64)> {
    // Reads a big-endian length of `n` bytes that follows the marker.
    let len = |n: usize| -> Option<u64> {
        let raw = bytes.get(1..1 + n)?;
        Some(raw.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    };
    Some(match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 | RESERVED_MARKER => (1, 0, 0),
        0x80..=0x8f => (1, 0, 2 * u64::from(marker & 0x0f)),
        0x90..=0x9f => (1, 0, u64::from(marker & 0x0f)),
        0xa0..=0xbf => (1, u64::from(marker & 0x1f), 0),
        0xc4 | 0xd9 => (2, len(1)?, 0),
        0xc5 | 0xda => (3, len(2)?, 0),
        0xc6 | 0xdb => (5, len(4)?, 0),
        0xc7 => (3, len(1)?, 0),
        0xc8 => (4, len(2)?, 0),
        0xc9 => (6, len(4)?, 0),
        0xca | 0xce | 0xd2 => (5, 0, 0),
        0xcb | 0xcf | 0xd3 => (9, 0, 0),
        0xcc | 0xd0 => (2, 0, 0),
        0xcd | 0xd1 => (3, 0, 0),
        0xd4 => (3, 0, 0),
        0xd5 => (4, 0, 0),
        0xd6 => (6, 0, 0),
        0xd7 => (10, 0, 0),
        0xd8 => (18, 0, 0),
        0xdc => (3, 0, len(2)?),
        0xdd => (5, 0, len(4)?),
        0xde => (3, 0, 2 * len(2)?),
        0xdf => (5, 0, 2 * len(4)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmpv::Value;

    fn encode(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).expect("writing to a Vec cannot fail");
        out
    }

    #[test]
    fn finds_exact_boundaries_of_consecutive_messages() {
        let a = Value::Array(vec![2.into(), "redraw".into(), Value::Array(vec![Value::Nil])]);
        let b = Value::Map(vec![("k".into(), Value::Binary(vec![1; 300]))]);
        let mut buf = encode(&a);
        let a_len = buf.len();
        buf.extend(encode(&b));
        let mut s = Scanner::default();
        assert_eq!(s.next_message(&buf), Ok(Some(a_len)));
        assert_eq!(s.next_message(&buf[a_len..]), Ok(Some(buf.len() - a_len)));
    }

    #[test]
    fn every_prefix_is_incomplete_and_resumes() {
        let v = Value::Array(vec![
            1.into(),
            Value::from(-70000i64),
            Value::F64(1.5),
            Value::Ext(3, vec![0xff]),
            "x".repeat(40_000).into(),
        ]);
        let bytes = encode(&v);
        let mut s = Scanner::default();
        for n in 0..bytes.len() {
            assert_eq!(s.next_message(&bytes[..n]), Ok(None), "prefix {n}");
        }
        assert_eq!(s.next_message(&bytes), Ok(Some(bytes.len())));
    }

    #[test]
    fn reserved_marker_is_an_error() {
        let mut s = Scanner::default();
        assert_eq!(s.next_message(&[0x92, 0x01, 0xc1]), Err(FramingError::ReservedMarker { offset: 2 }));
    }

    #[test]
    fn huge_claimed_lengths_do_not_allocate_and_are_capped() {
        let mut s = Scanner::default();
        assert_eq!(
            s.next_message(&[0xdb, 0xff, 0xff, 0xff, 0xff]),
            Err(FramingError::TooLarge { limit: Scanner::MAX_MESSAGE })
        );
        let mut s = Scanner::default();
        // An array claiming 4 billion elements is just incomplete.
        assert_eq!(s.next_message(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]), Ok(None));
    }
}
