//! What a host does with a connection that carries no HTTP: a raw stream is read until the peer
//! closes; a second TLS handshake inside the host's own TLS (TLS originated twice) is answered as
//! nginx answers bytes that are not HTTP — `400 Bad Request` in plain text, inside the outer TLS —
//! which the client's inner handshake cannot read (curl: `wrong version number`, exit 35; the
//! model's `Reached::NotTls`).
//!
//! Owns: `drain` and `answer_tls_in_tls`, and nginx's 400 page. Leaves out: deciding that a
//! stream carries no HTTP (`sniff`, `connection`).

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// nginx's page for a request it cannot parse.
const BAD_REQUEST_BODY: &str = "<html>\r\n\
<head><title>400 Bad Request</title></head>\r\n\
<body>\r\n\
<center><h1>400 Bad Request</h1></center>\r\n\
<hr><center>nginx</center>\r\n\
</body>\r\n\
</html>\r\n";

/// nginx's whole answer to bytes that are not HTTP.
pub(super) fn bad_request() -> String {
    format!(
        "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{BAD_REQUEST_BODY}",
        BAD_REQUEST_BODY.len()
    )
}

/// Read until the peer closes (or the connection fails), then close normally.
pub(super) async fn drain<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
    let _ = tokio::io::copy(&mut io, &mut tokio::io::sink()).await;
    let _ = io.shutdown().await;
}

/// Answer a TLS ClientHello found inside the host's TLS with nginx's plain-text 400, close the
/// session, and read whatever the peer still sends until it closes.
pub(super) async fn answer_tls_in_tls<S: AsyncRead + AsyncWrite + Unpin>(mut io: S) {
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
        assert!(answer.ends_with("<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"));
    }
}
