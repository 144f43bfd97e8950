//! What a host does with a connection that carries no HTTP: it answers as nginx answers bytes it
//! cannot parse — `400 Bad Request` in plain text — and closes. That holds for a raw TCP stream
//! and for a second TLS handshake inside the host's own TLS (TLS originated twice), where the
//! client's inner handshake cannot read the answer (curl: `wrong version number`, exit 35; the
//! model's `Reached::NotTls`).
//!
//! Owns: `answer_not_http` and nginx's 400 on the wire. Leaves out: deciding that a stream
//! carries no HTTP (`sniff`, `connection`) and the page itself (`external::not_http`).

use egressbench_model::external::not_http;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// nginx's whole answer to bytes that are not HTTP (`external::not_http`, on the wire).
pub(super) fn bad_request() -> String {
    let r = not_http();
    let mut head = format!("HTTP/1.1 {} Bad Request\r\n", r.status);
    for (name, value) in &r.headers {
        head.push_str(&format!("{}: {value}\r\n", title_case(name)));
    }
    format!("{head}\r\n{}", r.body)
}

/// `content-type` → `Content-Type`, as nginx writes header names.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Answer bytes that are not HTTP with nginx's 400, close the host's side, and read whatever the
/// peer still sends until it closes (so that nothing unread turns the close into a reset).
pub(super) async fn answer_not_http<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    if io.write_all(bad_request().as_bytes()).await.is_ok() && io.flush().await.is_ok() {
        let _ = io.shutdown().await;
        let _ = tokio::io::copy(&mut io, &mut tokio::io::sink()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_request_is_nginx_plain_text() {
        let answer = bad_request();
        assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(answer.contains("\r\nContent-Length: 150\r\n"));
        assert!(answer.contains("\r\nServer: nginx\r\n"));
        assert!(answer.contains("\r\nConnection: close\r\n\r\n<html>"));
        assert!(answer.ends_with("<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"));
    }
}
