//! The built-in curl: one request sent from a workload over a real socket, the way curl sends it,
//! and what curl would report.
//!
//! Owns: `Dial` (where the workload's kernel sends the connection), `send` (connect, TLS with SNI
//! and ALPN `h2`/`http/1.1`, HTTP/1.1 or HTTP/2 by hyper, or a raw TCP probe) and the mapping of
//! every failure onto the `ClientResult` the model gives for the same situation. Leaves out: which
//! address a destination dials (the caller decides, from the workload's sidecar and DNS), the
//! certificates (`sim::pki`), and the real curl binary (`real_curl`).
//!
//! Timeouts follow curl's two messages: a limit that runs out before the request is sent (connect,
//! TLS handshake) is a connection timeout, `during_tls` on HTTPS as the model reports an unanswered
//! connect; one that runs out after the request is sent is `during_tls: false`.

use crate::fabric::Fabric;
use crate::task::Scoped;
use bytes::Bytes;
use egressbench_model::outcome::{ClientResult, ConnectionError, HttpResponse, HttpVersion};
use egressbench_model::request::{ClientRequest, Scheme};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a `Scheme::Tcp` request writes: one line that no server can mistake for HTTP or TLS (its
/// first byte is neither a method character nor a TLS record type).
pub const TCP_PROBE: &[u8] = b"[egressbench tcp probe]\r\n";

/// How long (real time) a `Scheme::Tcp` probe waits for the peer to close, whatever `-m` says: a
/// guard against a hung run, not a semantic — every path of the model ends with a close or a
/// reset.
const TCP_CEILING: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the client's connection goes: what the workload's kernel would do with the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dial {
    /// A real loopback address (the workload's sidecar capture listener for that destination).
    Real(SocketAddr),
    /// A simulated address, reached through the fabric (no sidecar).
    Simulated(SocketAddr),
    /// The name did not resolve.
    Unresolved,
    /// An address nothing routes from where the client is (the cluster's own, from outside).
    Unroutable(SocketAddr),
}

fn failed(error: ConnectionError, during_tls: bool) -> ClientResult {
    ClientResult::ConnectionFailed { error, during_tls }
}

/// Send `request` from simulated source `from`, the way curl would, and report what curl would see.
///
/// `tls` is the client's TLS config (`pki::public_client(ca, &[b"h2", b"http/1.1"])`: curl offers
/// `h2` by ALPN over HTTPS); it is used only for `Scheme::Https`. `request.timeout_ms` (curl `-m`,
/// simulated milliseconds; 0 is no limit, as in curl) bounds the whole exchange.
pub async fn send(
    fabric: &Fabric,
    from: IpAddr,
    dial: Dial,
    request: &ClientRequest,
    tls: Arc<rustls::ClientConfig>,
) -> ClientResult {
    let sent = AtomicBool::new(false);
    let exchange = exchange(fabric, from, dial, request, tls, &sent);
    match request.timeout_ms.filter(|ms| *ms > 0) {
        None => exchange.await,
        Some(ms) => match tokio::time::timeout(fabric.clock().real(ms), exchange).await {
            Ok(result) => result,
            Err(_) => {
                // Before the request is sent — connecting, curl's TLS handshake, a proxy's
                // CONNECT — curl says "Connection timed out".
                let before_request = !sent.load(Ordering::SeqCst);
                failed(
                    ConnectionError::Timeout,
                    before_request && (request.scheme == Scheme::Https || request.proxy.is_some()),
                )
            }
        },
    }
}

async fn exchange(
    fabric: &Fabric,
    from: IpAddr,
    dial: Dial,
    request: &ClientRequest,
    tls: Arc<rustls::ClientConfig>,
    sent: &AtomicBool,
) -> ClientResult {
    let connected = match dial {
        Dial::Unresolved => return failed(ConnectionError::Unresolved, false),
        Dial::Real(addr) => fabric.connect_real(from, addr).await,
        Dial::Simulated(addr) => fabric.connect(from, addr).await,
        Dial::Unroutable(addr) => Err(fabric.unroutable(addr).await),
    };
    let stream = match connected {
        Ok(stream) => stream,
        // The connection curl opens first is the proxy's, in plain text.
        Err(e) if request.proxy.is_some() && e.kind() == io::ErrorKind::TimedOut => {
            return failed(ConnectionError::Timeout, true)
        }
        Err(e) if request.proxy.is_some() => return connect_failed(&e, Scheme::Http),
        Err(e) => return connect_failed(&e, request.scheme),
    };
    // A whole request to a forward proxy (no tunnel): the request line carries the absolute URL.
    if let Some(whole) = request
        .to_proxy()
        .filter(|_| request.proxy.as_ref().is_some_and(|p| !p.tunnel))
    {
        sent.store(true, Ordering::SeqCst);
        return http(stream, &whole, HttpVersion::Http11).await;
    }
    let stream = if request.proxy.is_some() {
        match tunnel(stream, request).await {
            Ok(stream) => stream,
            Err(result) => return result,
        }
    } else {
        stream
    };
    match request.scheme {
        Scheme::Tcp => {
            sent.store(true, Ordering::SeqCst);
            tcp_probe(stream).await
        }
        Scheme::Http => {
            sent.store(true, Ordering::SeqCst);
            let version = if request.http.h2c() {
                HttpVersion::Http2
            } else {
                HttpVersion::Http11
            };
            http(stream, request, version).await
        }
        Scheme::Https => {
            let tls = if !request.http.offers_h2() {
                // `curl --http1.1` offers only http/1.1 by ALPN.
                let mut only = (*tls).clone();
                only.alpn_protocols = vec![b"http/1.1".to_vec()];
                Arc::new(only)
            } else {
                tls
            };
            let stream = match handshake(stream, request, tls).await {
                Ok(stream) => stream,
                Err(result) => return result,
            };
            sent.store(true, Ordering::SeqCst);
            let version = match stream.get_ref().1.alpn_protocol() {
                Some(b"h2") => HttpVersion::Http2,
                _ => HttpVersion::Http11,
            };
            http(stream, request, version).await
        }
    }
}

/// The longest proxy answer head read (curl's own limit is larger; no proxy here sends more).
const MAX_PROXY_HEAD: usize = 16 * 1024;

/// Ask the forward proxy on `stream` for a tunnel to the request's host and port, as curl does
/// (`CONNECT host:port` with `Host`, `User-Agent` and `Proxy-Connection: Keep-Alive`), and read
/// its answer: a 2xx opens the tunnel; any other status is curl's "CONNECT tunnel failed"; a close
/// before an answer is "Proxy CONNECT aborted"; a reset is a reset.
async fn tunnel(mut stream: TcpStream, request: &ClientRequest) -> Result<TcpStream, ClientResult> {
    let target = format!("{}:{}", request.host, request.port);
    // curl sends its User-Agent (the request's) with the CONNECT too.
    let agent = request
        .header("User-Agent")
        .map(|ua| format!("User-Agent: {ua}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{agent}Proxy-Connection: \
         Keep-Alive\r\n\r\n"
    );
    let reset = || failed(ConnectionError::Reset, false);
    if stream.write_all(head.as_bytes()).await.is_err() {
        return Err(reset());
    }
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte, so that nothing after the head (the tunnel's first bytes) is consumed.
    while !answer.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(0) if answer.is_empty() => return Err(failed(ConnectionError::ProxyAborted, false)),
            Ok(0) | Err(_) => return Err(reset()),
            Ok(_) => answer.push(byte[0]),
        }
        if answer.len() > MAX_PROXY_HEAD {
            return Err(reset());
        }
    }
    let status = String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    if (200..300).contains(&status) {
        return Ok(stream);
    }
    // curl reads the refusal's body (as its Content-Length gives it) before closing, so that the
    // proxy sees a clean close rather than a reset over unread bytes.
    let length = String::from_utf8_lossy(&answer)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(MAX_PROXY_HEAD);
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body).await;
    let _ = stream.shutdown().await;
    Err(failed(ConnectionError::TunnelFailed(status), false))
}

/// A failed connect as curl reports it: refused (exit 7), timed out (exit 28, "Connection timed
/// out": `during_tls` on HTTPS, as the model reports an unroutable destination), anything else a
/// reset. A reset seen by `connect` itself means the peer accepted and reset at once (the kernel
/// completed the handshake; the RST came before the client used the socket): that is the reset the
/// model reports for a proxy that closes on accept, during TLS for HTTPS. (Real curl, racing the
/// same RST, reports exit 7 now and then.)
fn connect_failed(e: &io::Error, scheme: Scheme) -> ClientResult {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => failed(ConnectionError::Refused, false),
        io::ErrorKind::TimedOut => failed(ConnectionError::Timeout, scheme == Scheme::Https),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            failed(ConnectionError::Reset, scheme == Scheme::Https)
        }
        _ => failed(ConnectionError::Reset, false),
    }
}

/// The server name curl sends: the host, or no SNI for an IP literal (rustls sends none for an
/// `IpAddress` name).
fn server_name(host: &str) -> Option<ServerName<'static>> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    ServerName::try_from(bare.to_string()).ok()
}

/// Whether a failed handshake got something other than TLS back (OpenSSL's "wrong version
/// number"): rustls could not read the peer's bytes as TLS records.
fn peer_spoke_plaintext(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|tls| matches!(tls, rustls::Error::InvalidMessage(_)))
}

async fn handshake(
    stream: TcpStream,
    request: &ClientRequest,
    tls: Arc<rustls::ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ClientResult> {
    let Some(name) = server_name(&request.host) else {
        return Err(failed(ConnectionError::Reset, true));
    };
    tokio_rustls::TlsConnector::from(tls)
        .connect(name, stream)
        .await
        .map_err(|e| {
            let rejected = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .and_then(crate::own_tls::rejected_certificate);
            if let Some(problem) = rejected {
                failed(ConnectionError::Certificate(problem), true)
            } else if peer_spoke_plaintext(&e) {
                failed(ConnectionError::NotTls, true)
            } else {
                failed(ConnectionError::Reset, true)
            }
        })
}

/// `Scheme::Tcp`: write the probe and read until the peer closes, keeping the client's side open
/// as a request/response protocol does. A clean close is a "response" with status 0 (curl's
/// `%{http_code}` when no HTTP came back), carrying whatever bytes the peer sent; a reset is a
/// reset.
///
/// The client does not half-close after its line: on real Envoy, what a half-closing client gets
/// from a sidecar's HTTP port depends on timing (the TLS inspector resets a connection whose peer
/// closed before it decided; later, the connection manager closes, with or without its 400), so
/// no target could agree on it (see `tests/envoy_raw_tcp.rs`).
async fn tcp_probe(mut stream: TcpStream) -> ClientResult {
    let reset = || failed(ConnectionError::Reset, false);
    if stream.write_all(TCP_PROBE).await.is_err() {
        return reset();
    }
    let mut received = Vec::new();
    match tokio::time::timeout(TCP_CEILING, stream.read_to_end(&mut received)).await {
        Ok(Ok(_)) => ClientResult::Response(HttpResponse::new(
            0,
            "",
            String::from_utf8_lossy(&received).into_owned(),
        )),
        Ok(Err(_)) => reset(),
        Err(_) => failed(ConnectionError::Timeout, false),
    }
}

/// The request as curl writes it: `Host` first (HTTP/1.1; `:authority` from the absolute URI on
/// HTTP/2), then the request's headers in order, then `Content-Length` for a body.
fn build(request: &ClientRequest, version: HttpVersion) -> Option<Request<Full<Bytes>>> {
    let method = Method::from_bytes(request.method.as_bytes()).ok()?;
    let mut builder = Request::builder().method(method);
    builder = match version {
        HttpVersion::Http11 => builder
            .uri(request.path.as_str())
            .header("Host", request.authority()),
        HttpVersion::Http2 => builder.version(hyper::Version::HTTP_2).uri(format!(
            "https://{}{}",
            request.authority(),
            request.path
        )),
    };
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match &request.body {
        Some(body) => {
            if request.header("content-length").is_none() {
                builder = builder.header("Content-Length", body.len().to_string());
            }
            Bytes::from(body.clone())
        }
        None => Bytes::new(),
    };
    builder.body(Full::new(body)).ok()
}

/// Send the request on an established connection and read the whole response. Anything that
/// ends the exchange before a full response (a reset, an EOF, a protocol error) is a reset after
/// the request was sent (curl exit 52/56).
async fn http<T>(io: T, request: &ClientRequest, version: HttpVersion) -> ClientResult
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let reset = || failed(ConnectionError::Reset, false);
    let Some(req) = build(request, version) else {
        return reset();
    };
    let io = TokioIo::new(io);
    let (response, _conn) = match version {
        HttpVersion::Http11 => {
            let Ok((mut sender, conn)) = hyper::client::conn::http1::Builder::new()
                .title_case_headers(true)
                .handshake(io)
                .await
            else {
                return reset();
            };
            let conn = Scoped::spawn(conn);
            (sender.send_request(req).await, conn)
        }
        HttpVersion::Http2 => {
            let Ok((mut sender, conn)) =
                hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                    .handshake(io)
                    .await
            else {
                return reset();
            };
            let conn = Scoped::spawn(conn);
            (sender.send_request(req).await, conn)
        }
    };
    let Ok(response) = response else {
        return reset();
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let Ok(body) = response.into_body().collect().await else {
        return reset();
    };
    ClientResult::Response(HttpResponse {
        version,
        status,
        headers,
        body: String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    })
}
