//! Telling HTTP from other plain bytes at the start of a stream (after any TLS): an HTTP/1 request
//! line, the HTTP/2 connection preface, or something else (a raw TCP stream).
//!
//! Owns: `Kind` and `classify`, which reads just enough more to decide. Leaves out: TLS (`hello`
//! has already told TLS from plain bytes) and serving what it finds (`http`, `stream`).

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The longest method token taken for the start of an HTTP/1 request line.
const MAX_METHOD: usize = 32;

/// What a stream's first bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An HTTP/1 request line (`METHOD SP …`).
    Http1,
    /// The HTTP/2 preface (prior knowledge, or after ALPN `h2`).
    Http2,
    /// Anything else, including a stream closed before its first byte.
    Raw,
}

/// Classify a stream that started with `prefix`, reading more from `stream` while undecided.
/// Returns the kind and every byte read so far, to be replayed.
pub(super) async fn classify<S: AsyncRead + Unpin>(
    mut prefix: Vec<u8>,
    stream: &mut S,
) -> io::Result<(Kind, Vec<u8>)> {
    let mut chunk = [0u8; 256];
    loop {
        if let Some(kind) = decide(&prefix) {
            return Ok((kind, prefix));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok((Kind::Raw, prefix));
        }
        prefix.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// The kind `bytes` start with, or `None` if more bytes are needed to tell.
fn decide(bytes: &[u8]) -> Option<Kind> {
    let shared = bytes.len().min(H2_PREFACE.len());
    if bytes.get(..shared) == H2_PREFACE.get(..shared) {
        return (bytes.len() >= H2_PREFACE.len()).then_some(Kind::Http2);
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b == b' ' {
            return Some(if i == 0 { Kind::Raw } else { Kind::Http1 });
        }
        if !is_tchar(b) || i >= MAX_METHOD {
            return Some(Kind::Raw);
        }
    }
    None
}

/// A token character of RFC 9110 §5.6.2 (what a method is made of).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_prefaces_and_other_bytes() {
        assert_eq!(decide(b"GET / HTTP/1.1\r\n"), Some(Kind::Http1));
        assert_eq!(decide(b"get "), Some(Kind::Http1));
        assert_eq!(decide(b"GET"), None);
        assert_eq!(decide(b""), None);
        assert_eq!(decide(b"PRI * HTTP/2.0\r\n"), None);
        assert_eq!(decide(H2_PREFACE), Some(Kind::Http2));
        assert_eq!(decide(b"PRI * HTTP/1.1\r\n"), Some(Kind::Http1));
        assert_eq!(decide(b"\x00\x01hello"), Some(Kind::Raw));
        assert_eq!(decide(b" GET"), Some(Kind::Raw));
        assert_eq!(decide(b"SSH-2.0-OpenSSH_9.6\r\n"), Some(Kind::Raw));
        assert_eq!(decide(&[b'A'; 40]), Some(Kind::Raw));
    }

    #[tokio::test]
    async fn classify_reads_until_it_can_tell() -> io::Result<()> {
        let mut rest: &[u8] = b"T /x HTTP/1.1\r\n";
        let (kind, bytes) = classify(b"GE".to_vec(), &mut rest).await?;
        assert_eq!(kind, Kind::Http1);
        assert_eq!(bytes, b"GET /x HTTP/1.1\r\n");
        let mut empty: &[u8] = b"";
        assert_eq!(
            classify(b"GET".to_vec(), &mut empty).await?,
            (Kind::Raw, b"GET".to_vec())
        );
        Ok(())
    }
}
