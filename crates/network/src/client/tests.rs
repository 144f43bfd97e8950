//! Tests of the built-in client and the real curl against small servers on the fabric: plain and
//! TLS hyper servers, raw servers that reset, answer in plain text, stall, or capture the bytes.
//! Leaves out: sidecars and external hosts (their own modules test the client through them).

use super::*;
use crate::fabric::{self, Clock, Fabric};
use crate::pki::{self, CertificateAuthority, LeafSpec};
use bytes::Bytes;
use egressbench_model::outcome::{ClientResult, ConnectionError, HttpResponse, HttpVersion};
use egressbench_model::request::{ClientRequest, Scheme};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const PLAIN_HOST: &str = "plain.example";
const TLS_HOST: &str = "secure.example";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn from() -> IpAddr {
    "10.244.1.7".parse().expect("ip")
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

/// A fabric, a public CA, the client's TLS config and the server's (for `TLS_HOST`).
struct Bench {
    fabric: Arc<Fabric>,
    ca: CertificateAuthority,
    client_tls: Arc<rustls::ClientConfig>,
    server_tls: Arc<rustls::ServerConfig>,
}

/// How long a stalling test server holds a connection: longer than any time limit a test sets.
const STALL: Duration = Duration::from_secs(30);

impl Bench {
    fn new() -> Bench {
        Bench::with_clock(Clock::default())
    }

    /// A bench whose fabric scales time by `clock`.
    fn with_clock(clock: Clock) -> Bench {
        let ca = CertificateAuthority::new("Public Test Root").expect("ca");
        let names = vec![TLS_HOST.to_string()];
        let leaf = ca.issue(&LeafSpec::server(&names)).expect("leaf");
        let server_tls = pki::public_server(&[(names, leaf)], &[b"h2", b"http/1.1"]).expect("srv");
        let client_tls = pki::public_client(&ca, &[b"h2", b"http/1.1"]).expect("client");
        Bench {
            fabric: Fabric::new(clock),
            ca,
            client_tls,
            server_tls,
        }
    }

    async fn send(&self, dial: Dial, request: &ClientRequest) -> ClientResult {
        send(&self.fabric, from(), dial, request, self.client_tls.clone()).await
    }

    async fn listen(&self, at: &str) -> (SocketAddr, TcpListener) {
        let at = addr(at);
        (at, self.fabric.listen(at).await.expect("listen"))
    }

    /// The public CA's root in a file, for `curl --cacert`.
    fn ca_file(&self, test: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "egressbench-client-test-{}-{test}.pem",
            std::process::id()
        ));
        std::fs::write(&path, self.ca.root_pem()).expect("write ca");
        path
    }
}

/// curl as it sends a plain GET: its User-Agent and Accept.
fn curl_get(scheme: Scheme, host: &str, port: u16, path: &str) -> ClientRequest {
    let mut r = ClientRequest::get(scheme, host, port, path);
    r.headers = vec![
        ("User-Agent".into(), "curl/8.5.0".into()),
        ("Accept".into(), "*/*".into()),
    ];
    r
}

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let ua = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let body = format!("{} {} ua={ua}", req.method(), req.uri().path());
    Ok(Response::builder()
        .status(201)
        .header("content-type", "text/plain")
        .header("x-test", "yes")
        .body(Full::new(Bytes::from(body)))
        .expect("response"))
}

/// Serve `hello` on every connection, in TLS when `tls` is given (HTTP/2 when ALPN says `h2`).
fn serve_hello(listener: TcpListener, tls: Option<Arc<rustls::ServerConfig>>) {
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    None => {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .auto_date_header(false)
                            .serve_connection(TokioIo::new(stream), service_fn(hello))
                            .await;
                    }
                    Some(config) => {
                        let Ok(stream) =
                            tokio_rustls::TlsAcceptor::from(config).accept(stream).await
                        else {
                            return;
                        };
                        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                .auto_date_header(false)
                                .serve_connection(TokioIo::new(stream), service_fn(hello))
                                .await;
                        } else {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .auto_date_header(false)
                                .serve_connection(TokioIo::new(stream), service_fn(hello))
                                .await;
                        }
                    }
                }
            });
        }
    });
}

/// Run `each` on every accepted connection.
fn serve_raw<F, Fut>(listener: TcpListener, each: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(each(stream));
        }
    });
}

/// Read an HTTP/1.1 request head (and a `Content-Length` body) off `stream`.
async fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return got;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A server that captures each request's bytes and answers a fixed response.
fn serve_capture(listener: TcpListener) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let (tx, rx) = mpsc::unbounded_channel();
    serve_raw(listener, move |mut stream| {
        let tx = tx.clone();
        async move {
            let got = read_request(&mut stream).await;
            let _ = tx.send(got);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-raw: 1\r\n\r\nok")
                .await;
            let _ = stream.shutdown().await;
        }
    });
    rx
}

fn reset_at_once(listener: TcpListener) {
    serve_raw(listener, |stream| async move { fabric::reset(stream) });
}

/// Reset once the client's first bytes (request or ClientHello) arrived, as a proxy does when it
/// has read enough to refuse. (A reset on accept races the client's connect: real curl then
/// reports exit 7 now and then.)
fn reset_after_reading(listener: TcpListener) {
    serve_raw(listener, |mut stream| async move {
        let mut buf = [0u8; 16];
        let _ = stream.read(&mut buf).await;
        fabric::reset(stream);
    });
}

fn failed(error: ConnectionError, during_tls: bool) -> ClientResult {
    ClientResult::ConnectionFailed { error, during_tls }
}

fn response(result: &ClientResult) -> &HttpResponse {
    match result {
        ClientResult::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn the_send_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let b = Bench::new();
    let r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/");
    let f = send(
        &b.fabric,
        from(),
        Dial::Unresolved,
        &r,
        b.client_tls.clone(),
    );
    assert_send(&f);
}

#[test]
fn a_plain_get_returns_status_headers_and_body() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.10:80").await;
        serve_hello(l, None);
        let r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/get");
        let got = b.send(Dial::Simulated(at), &r).await;
        let resp = response(&got);
        assert_eq!(resp.version, HttpVersion::Http11);
        assert_eq!(resp.status, 201);
        assert_eq!(resp.body, "GET /get ua=curl/8.5.0");
        assert_eq!(
            resp.headers,
            vec![
                ("content-type".to_string(), "text/plain".to_string()),
                ("x-test".to_string(), "yes".to_string()),
                ("content-length".to_string(), "22".to_string()),
            ]
        );
    });
}

#[test]
fn a_get_through_a_real_address_reaches_the_same_server() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.10:80").await;
        serve_hello(l, None);
        let real = b.fabric.real_addr(at).expect("registered");
        let r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/real");
        let got = b.send(Dial::Real(real), &r).await;
        assert_eq!(response(&got).body, "GET /real ua=curl/8.5.0");
    });
}

#[test]
fn the_request_bytes_are_curls() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.10:8080").await;
        let mut captured = serve_capture(l);
        let mut r = curl_get(Scheme::Http, PLAIN_HOST, 8080, "/post?x=1");
        r.method = "POST".into();
        r.headers.push(("X-Request-Id".into(), "abc".into()));
        r.headers
            .push(("Content-Type".into(), "application/json".into()));
        r.body = Some("{\"a\":12}".into());
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(response(&got).body, "ok");
        let bytes = captured.recv().await.expect("captured");
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "POST /post?x=1 HTTP/1.1\r\nHost: plain.example:8080\r\nUser-Agent: curl/8.5.0\r\n\
             Accept: */*\r\nX-Request-Id: abc\r\nContent-Type: application/json\r\n\
             Content-Length: 8\r\n\r\n{\"a\":12}"
        );
    });
}

#[test]
fn https_negotiates_h2() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.20:443").await;
        serve_hello(l, Some(b.server_tls.clone()));
        let r = curl_get(Scheme::Https, TLS_HOST, 443, "/secure");
        let got = b.send(Dial::Simulated(at), &r).await;
        let resp = response(&got);
        assert_eq!(resp.version, HttpVersion::Http2);
        assert_eq!(resp.status, 201);
        assert_eq!(resp.body, "GET /secure ua=curl/8.5.0");
        assert_eq!(resp.header("x-test"), Some("yes"));
    });
}

#[test]
fn https_without_h2_on_the_server_is_http11() {
    rt().block_on(async {
        let b = Bench::new();
        let ca = &b.ca;
        let names = vec![TLS_HOST.to_string()];
        let leaf = ca.issue(&LeafSpec::server(&names)).expect("leaf");
        let server = pki::public_server(&[(names, leaf)], &[b"http/1.1"]).expect("srv");
        let (at, l) = b.listen("203.0.113.20:443").await;
        serve_hello(l, Some(server));
        let r = curl_get(Scheme::Https, TLS_HOST, 443, "/one");
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(response(&got).version, HttpVersion::Http11);
        assert_eq!(response(&got).body, "GET /one ua=curl/8.5.0");
    });
}

#[test]
fn a_certificate_for_another_name_fails_the_handshake() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.20:443").await;
        serve_hello(l, Some(b.server_tls.clone()));
        let r = curl_get(Scheme::Https, "other.example", 443, "/");
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::Reset, true));
    });
}

#[test]
fn refused_unresolved_and_unroutable() {
    rt().block_on(async {
        let b = Bench::new();
        let f = Fabric::new(Clock::new(1000));
        let (_at, _l) = b.listen("203.0.113.10:80").await;
        let _l2 = f.listen(addr("203.0.113.10:80")).await.expect("listen");
        for scheme in [Scheme::Http, Scheme::Https, Scheme::Tcp] {
            let r = curl_get(scheme, PLAIN_HOST, 81, "/");
            let got = b.send(Dial::Simulated(addr("203.0.113.10:81")), &r).await;
            assert_eq!(got, failed(ConnectionError::Refused, false), "{scheme}");
            let got = b.send(Dial::Unresolved, &r).await;
            assert_eq!(got, failed(ConnectionError::Unresolved, false), "{scheme}");
            let got = send(
                &f,
                from(),
                Dial::Simulated(addr("198.51.100.1:80")),
                &r,
                b.client_tls.clone(),
            )
            .await;
            assert_eq!(
                got,
                failed(ConnectionError::Timeout, scheme == Scheme::Https),
                "{scheme}"
            );
        }
    });
}

#[test]
fn a_reset_is_a_reset_during_tls_only_for_https() {
    rt().block_on(async {
        let b = Bench::new();
        let (at_once, l) = b.listen("203.0.113.30:80").await;
        reset_at_once(l);
        let (after_reading, l) = b.listen("203.0.113.32:80").await;
        reset_after_reading(l);
        for at in [at_once, after_reading] {
            let r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/");
            let got = b.send(Dial::Simulated(at), &r).await;
            assert_eq!(got, failed(ConnectionError::Reset, false), "http to {at}");
            let r = curl_get(Scheme::Https, TLS_HOST, 80, "/");
            let got = b.send(Dial::Simulated(at), &r).await;
            assert_eq!(got, failed(ConnectionError::Reset, true), "https to {at}");
            let r = curl_get(Scheme::Tcp, PLAIN_HOST, 80, "/");
            let got = b.send(Dial::Simulated(at), &r).await;
            assert_eq!(got, failed(ConnectionError::Reset, false), "tcp to {at}");
        }
    });
}

#[test]
fn a_reset_after_the_request_is_not_during_tls() {
    rt().block_on(async {
        let b = Bench::new();
        let config = b.server_tls.clone();
        let (at, l) = b.listen("203.0.113.30:443").await;
        serve_raw(l, move |stream| {
            let config = config.clone();
            async move {
                let Ok(mut tls) = tokio_rustls::TlsAcceptor::from(config).accept(stream).await
                else {
                    return;
                };
                let mut buf = [0u8; 64];
                let _ = tls.read(&mut buf).await;
                let (tcp, _) = tls.into_inner();
                fabric::reset(tcp);
            }
        });
        let r = curl_get(Scheme::Https, TLS_HOST, 443, "/");
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::Reset, false));
    });
}

#[test]
fn a_close_without_an_answer_is_a_reset() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.31:80").await;
        serve_raw(l, |mut stream| async move {
            let _ = read_request(&mut stream).await;
            drop(stream);
        });
        let r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/");
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::Reset, false));
    });
}

fn answer_plaintext(listener: TcpListener) {
    serve_raw(listener, |mut stream| async move {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await;
        let _ = stream
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await;
        let _ = stream.shutdown().await;
    });
}

#[test]
fn plaintext_in_answer_to_a_client_hello_is_not_tls() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.40:443").await;
        answer_plaintext(l);
        let r = curl_get(Scheme::Https, TLS_HOST, 443, "/");
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::NotTls, true));
    });
}

#[test]
fn a_slow_answer_runs_out_the_time_limit() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.50:80").await;
        serve_raw(l, |mut stream| async move {
            let _ = read_request(&mut stream).await;
            tokio::time::sleep(STALL).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        let mut r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/delay/5");
        // 2 simulated seconds (scaled by the fabric's clock): before the 3 s answer either way.
        r.timeout_ms = Some(2000);
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::Timeout, false));
    });
}

#[test]
fn a_stalled_handshake_is_a_connection_timeout() {
    rt().block_on(async {
        // Real time: the client must have sent its ClientHello before the limit for the
        // timeout to count as during TLS, which a busy machine may not do in a scaled 20 ms.
        let b = Bench::with_clock(Clock::new(1));
        let (at, l) = b.listen("203.0.113.51:443").await;
        serve_raw(l, |stream| async move {
            tokio::time::sleep(STALL).await;
            drop(stream);
        });
        let mut r = curl_get(Scheme::Https, TLS_HOST, 443, "/");
        r.timeout_ms = Some(1000);
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::Timeout, true));
    });
}

#[test]
fn tcp_writes_a_probe_keeps_its_side_open_and_a_clean_close_is_status_0() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.60:9000").await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        serve_raw(l, move |mut stream| {
            let tx = tx.clone();
            async move {
                let mut got = vec![0u8; TCP_PROBE.len()];
                let read = stream.read_exact(&mut got).await.map(|_| got);
                // The client has not ended its side: a read now would wait, not see EOF.
                let mut more = [0u8; 1];
                let open = tokio::time::timeout(Duration::from_millis(50), stream.read(&mut more))
                    .await
                    .is_err();
                let _ = tx.send((read.ok(), open));
                let _ = stream.write_all(b"pong").await;
                let _ = stream.shutdown().await;
            }
        });
        let r = ClientRequest::get(Scheme::Tcp, PLAIN_HOST, 9000, "/");
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(
            got,
            ClientResult::Response(HttpResponse::new(0, "", "pong"))
        );
        let (line, open) = rx.recv().await.expect("the server saw the connection");
        assert_eq!(line.as_deref(), Some(TCP_PROBE));
        assert!(open, "the probe must not half-close its side");
    });
}

#[test]
fn tcp_against_a_server_that_never_closes_times_out() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.60:9001").await;
        serve_raw(l, |stream| async move {
            tokio::time::sleep(STALL).await;
            drop(stream);
        });
        let mut r = ClientRequest::get(Scheme::Tcp, PLAIN_HOST, 9001, "/");
        r.timeout_ms = Some(1000);
        let got = b.send(Dial::Simulated(at), &r).await;
        assert_eq!(got, failed(ConnectionError::Timeout, false));
    });
}

// --- The real curl gives the same results. ---

fn real_curl(test: &str) -> Option<PathBuf> {
    let curl = find_curl();
    if curl.is_none() {
        println!("skipping {test}: no curl ($EGRESSBENCH_CURL or curl on PATH)");
    }
    curl
}

/// The built-in client's and real curl's results for `request` sent to simulated `at`.
async fn both(
    b: &Bench,
    curl: &std::path::Path,
    at: SocketAddr,
    r: &ClientRequest,
    test: &str,
) -> (ClientResult, ClientResult) {
    let builtin = b.send(Dial::Simulated(at), r).await;
    let real = b.fabric.real_addr(at).unwrap_or_else(|| {
        // Nothing listens: a real port that refuses.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    });
    let ca = b.ca_file(test);
    let local = Some(b.fabric.alias(from()));
    let viacurl = send_with_curl(curl, real, local, r, &ca, None, b.fabric.clock())
        .await
        .expect("curl ran")
        .result;
    let _ = std::fs::remove_file(ca);
    (builtin, viacurl)
}

#[test]
fn real_curl_gets_what_the_builtin_client_gets() {
    let Some(curl) = real_curl("real_curl_gets_what_the_builtin_client_gets") else {
        return;
    };
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.10:80").await;
        serve_hello(l, None);
        let r = curl_get(Scheme::Http, PLAIN_HOST, 80, "/get");
        let (builtin, real) = both(&b, &curl, at, &r, "get").await;
        assert_eq!(response(&builtin).status, 201);
        assert_eq!(builtin, real);
    });
}

#[test]
fn real_curl_sends_the_same_bytes() {
    let Some(curl) = real_curl("real_curl_sends_the_same_bytes") else {
        return;
    };
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.10:8080").await;
        let mut captured = serve_capture(l);
        let mut get = curl_get(Scheme::Http, PLAIN_HOST, 8080, "/get");
        get.headers.push(("X-Empty".into(), String::new()));
        let mut post = curl_get(Scheme::Http, PLAIN_HOST, 8080, "/post");
        post.method = "POST".into();
        post.headers
            .push(("Content-Type".into(), "application/json".into()));
        post.body = Some("{\"a\":1}".into());
        let mut bare = ClientRequest::get(Scheme::Http, PLAIN_HOST, 8080, "/bare");
        bare.method = "DELETE".into();
        for r in [get, post, bare] {
            let (builtin, real) = both(&b, &curl, at, &r, "bytes").await;
            assert_eq!(builtin, real);
            let first = captured.recv().await.expect("builtin bytes");
            let second = captured.recv().await.expect("curl bytes");
            // hyper writes an empty header as `X-Empty: `, curl as `X-Empty:`.
            let builtin_bytes = String::from_utf8_lossy(&first).replace(": \r\n", ":\r\n");
            assert_eq!(
                builtin_bytes,
                String::from_utf8_lossy(&second),
                "{}",
                r.method
            );
        }
    });
}

#[test]
fn real_curl_negotiates_h2_like_the_builtin_client() {
    let Some(curl) = real_curl("real_curl_negotiates_h2_like_the_builtin_client") else {
        return;
    };
    if !has_http2(&curl) {
        println!("skipping: {} has no HTTP2 feature", curl.display());
        return;
    }
    rt().block_on(async {
        let b = Bench::new();
        let (at, l) = b.listen("203.0.113.20:443").await;
        serve_hello(l, Some(b.server_tls.clone()));
        let r = curl_get(Scheme::Https, TLS_HOST, 443, "/secure");
        let (builtin, real) = both(&b, &curl, at, &r, "h2").await;
        assert_eq!(response(&builtin).version, HttpVersion::Http2);
        assert_eq!(builtin, real);

        // A TLS server that offers only http/1.1.
        let names = vec![TLS_HOST.to_string()];
        let leaf = b.ca.issue(&LeafSpec::server(&names)).expect("leaf");
        let server = pki::public_server(&[(names, leaf)], &[b"http/1.1"]).expect("srv");
        let (at, l) = b.listen("203.0.113.21:443").await;
        serve_hello(l, Some(server));
        let (builtin, real) = both(&b, &curl, at, &r, "h1").await;
        assert_eq!(response(&builtin).version, HttpVersion::Http11);
        assert_eq!(builtin, real);
    });
}

#[test]
fn real_curl_fails_like_the_builtin_client() {
    let Some(curl) = real_curl("real_curl_fails_like_the_builtin_client") else {
        return;
    };
    rt().block_on(async {
        let b = Bench::new();
        // Time limits in real time (halved): a stalled handshake counts as during TLS only once
        // the client has sent its ClientHello, which a busy machine may not do in a scaled 40 ms.
        let slow_clock = Bench::with_clock(Clock::new(2));
        let (reset, l) = b.listen("203.0.113.30:443").await;
        reset_after_reading(l);
        let (plain, l) = b.listen("203.0.113.40:443").await;
        answer_plaintext(l);
        let (slow, l) = slow_clock.listen("203.0.113.50:80").await;
        serve_raw(l, |mut stream| async move {
            let _ = read_request(&mut stream).await;
            tokio::time::sleep(STALL).await;
            drop(stream);
        });
        let (stalled, l) = slow_clock.listen("203.0.113.51:443").await;
        serve_raw(l, |stream| async move {
            tokio::time::sleep(STALL).await;
            drop(stream);
        });
        let mut stalled_tls = curl_get(Scheme::Https, TLS_HOST, 443, "/");
        stalled_tls.timeout_ms = Some(2000);
        let (closed, l) = b.listen("203.0.113.31:80").await;
        serve_raw(l, |mut stream| async move {
            let _ = read_request(&mut stream).await;
            drop(stream);
        });
        let refused = addr("203.0.113.30:444");
        let mut timed = curl_get(Scheme::Http, PLAIN_HOST, 80, "/delay/5");
        timed.timeout_ms = Some(2000);
        let cases = [
            (
                &b,
                refused,
                curl_get(Scheme::Http, PLAIN_HOST, 80, "/"),
                failed(ConnectionError::Refused, false),
            ),
            (
                &b,
                refused,
                curl_get(Scheme::Https, TLS_HOST, 443, "/"),
                failed(ConnectionError::Refused, false),
            ),
            (
                &b,
                reset,
                curl_get(Scheme::Http, PLAIN_HOST, 443, "/"),
                failed(ConnectionError::Reset, false),
            ),
            (
                &b,
                reset,
                curl_get(Scheme::Https, TLS_HOST, 443, "/"),
                failed(ConnectionError::Reset, true),
            ),
            (
                &b,
                plain,
                curl_get(Scheme::Https, TLS_HOST, 443, "/"),
                failed(ConnectionError::NotTls, true),
            ),
            (
                &b,
                closed,
                curl_get(Scheme::Http, PLAIN_HOST, 80, "/"),
                failed(ConnectionError::Reset, false),
            ),
            (
                &slow_clock,
                slow,
                timed,
                failed(ConnectionError::Timeout, false),
            ),
            (
                &slow_clock,
                stalled,
                stalled_tls,
                failed(ConnectionError::Timeout, true),
            ),
        ];
        for (bench, at, r, want) in cases {
            let (builtin, real) = both(bench, &curl, at, &r, "fail").await;
            assert_eq!(builtin, want, "built-in {} to {at}", r.url());
            assert_eq!(real, want, "curl {} to {at}", r.url());
        }
    });
}

#[test]
fn real_curl_does_not_do_raw_tcp() {
    let Some(curl) = real_curl("real_curl_does_not_do_raw_tcp") else {
        return;
    };
    rt().block_on(async {
        let r = ClientRequest::get(Scheme::Tcp, PLAIN_HOST, 9000, "/");
        let got = send_with_curl(
            &curl,
            addr("127.0.0.1:9"),
            None,
            &r,
            std::path::Path::new("/nonexistent"),
            None,
            Clock::default(),
        )
        .await;
        assert!(matches!(got, Err(CurlError::NotHttp)), "{got:?}");
    });
}

/// A raw proxy that reads one request head, then answers `answer` (an empty one: it closes), and
/// returns what it read.
async fn raw_proxy(listener: TcpListener, answer: &'static [u8]) -> String {
    let (mut s, _) = listener.accept().await.expect("accept");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.expect("read") == 0 {
            break;
        }
        head.push(byte[0]);
    }
    if !answer.is_empty() {
        s.write_all(answer).await.expect("write");
        // Wait for the client's close before closing, so that the close is the client's.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn via(proxy: SocketAddr, scheme: Scheme, host: &str, port: u16) -> ClientRequest {
    let mut r = ClientRequest::get(scheme, host, port, "/");
    r.proxy = Some(egressbench_model::request::ForwardProxy {
        host: proxy.ip().to_string(),
        port: proxy.port(),
        tunnel: true,
    });
    r
}

#[test]
fn a_proxy_that_refuses_the_connect_fails_the_tunnel_with_its_status() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, listener) = b.listen("10.244.9.9:3128").await;
        let server = tokio::spawn(raw_proxy(
            listener,
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
        ));
        let got = b
            .send(Dial::Simulated(at), &via(at, Scheme::Https, TLS_HOST, 443))
            .await;
        assert_eq!(got, failed(ConnectionError::TunnelFailed(403), false));
        let head = server.await.expect("server");
        assert!(
            head.starts_with(&format!(
                "CONNECT {TLS_HOST}:443 HTTP/1.1\r\nHost: {TLS_HOST}:443\r\n"
            )),
            "{head}"
        );
        assert!(head.contains("Proxy-Connection: Keep-Alive\r\n"), "{head}");
    });
}

#[test]
fn a_proxy_that_closes_without_answering_aborts_the_connect() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, listener) = b.listen("10.244.9.9:3128").await;
        let server = tokio::spawn(raw_proxy(listener, b""));
        let got = b
            .send(Dial::Simulated(at), &via(at, Scheme::Https, TLS_HOST, 443))
            .await;
        assert_eq!(got, failed(ConnectionError::ProxyAborted, false));
        server.await.expect("server");
    });
}

#[test]
fn an_open_tunnel_carries_the_request_to_the_destination() {
    rt().block_on(async {
        let b = Bench::new();
        let (at, listener) = b.listen("10.244.9.9:3128").await;
        // The proxy answers 200 and then is the destination itself: plain HTTP through the tunnel.
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut byte).await.expect("read");
                head.push(byte[0]);
            }
            s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .expect("write");
            let io = TokioIo::new(s);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service_fn(hello))
                .await;
        });
        let got = b
            .send(Dial::Simulated(at), &via(at, Scheme::Http, PLAIN_HOST, 80))
            .await;
        // `hello` answers 201 with the method and path it got.
        let ClientResult::Response(r) = got else {
            panic!("a response expected: {got:?}");
        };
        assert_eq!((r.status, r.body.as_str()), (201, "GET / ua=-"));
        server.abort();
    });
}

#[test]
fn the_time_a_real_curl_took_is_its_own_time_total() {
    use super::real_curl::time_total;
    let ms = |w: &str| time_total(w).map(|d| d.as_millis());
    assert_eq!(ms("200 2 0.512034"), Some(512));
    assert_eq!(ms("000 0 0.000312"), Some(0));
    assert_eq!(ms("200 1.1"), None);
    assert_eq!(ms("200 1.1 soon"), None);
    assert_eq!(ms("200 1.1 -1"), None);
}
