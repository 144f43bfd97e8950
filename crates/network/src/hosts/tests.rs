//! Tests for `Hosts`: the built-in hosts served over real sockets answer what the model answers,
//! byte for byte, and fail connections the way the model says.

use super::*;
use crate::pki::public_client;
use crate::Clock;
use bytes::Bytes;
use egressbench_model::external::{
    plain_http_to_tls, Arrival, ArrivedRequest, Internet, Served, DEFAULT_PEER,
    PLAIN_HTTP_TO_TLS_BODY,
};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

type Error = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), Error>;

const HTTPBIN_443: &str = "203.0.113.10:443";
const HTTPBIN_80: &str = "203.0.113.10:80";

fn run(test: impl std::future::Future<Output = TestResult>) -> TestResult {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(test)
}

/// The built-in hosts on a fresh fabric (simulated time 1000× faster).
struct Bench {
    internet: Arc<Internet>,
    fabric: Arc<Fabric>,
    ca: CertificateAuthority,
    hosts: Hosts,
}

impl Bench {
    async fn start() -> Result<Bench, Error> {
        let internet = Arc::new(Internet::builtin());
        let fabric = Fabric::new(Clock::new(1000));
        let ca = CertificateAuthority::new("public-root")?;
        let hosts = Hosts::start(internet.clone(), fabric.clone(), &ca, Default::default()).await?;
        Ok(Bench {
            internet,
            fabric,
            ca,
            hosts,
        })
    }

    async fn connect(&self, at: &str) -> io::Result<TcpStream> {
        self.connect_from(IpAddr::V4(DEFAULT_PEER), at).await
    }

    async fn connect_from(&self, from: IpAddr, at: &str) -> io::Result<TcpStream> {
        let at: SocketAddr = at
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.fabric.connect(from, at).await
    }

    /// TLS to `at` with `sni`, offering `alpn`, trusting the public CA.
    async fn tls(
        &self,
        at: &str,
        sni: &str,
        alpn: &[&[u8]],
    ) -> Result<TlsStream<TcpStream>, Error> {
        let tcp = self.connect(at).await?;
        let connector = TlsConnector::from(public_client(&self.ca, alpn)?);
        Ok(connector
            .connect(ServerName::try_from(sni.to_string())?, tcp)
            .await?)
    }

    /// The model's answer: status, headers, body.
    fn model(&self, name: &str, arrival: &Arrival) -> Answer {
        match self.internet.serve(name, arrival) {
            Served::Response { response, .. } => Answer {
                version: Version::HTTP_11,
                status: response.status,
                headers: response.headers,
                body: response.body,
            },
            other => Answer {
                version: Version::HTTP_11,
                status: 0,
                headers: Vec::new(),
                body: format!("{other:?}"),
            },
        }
    }
}

/// An HTTP answer as a client read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    version: Version,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }

    /// The same answer, ignoring the HTTP version (the model's is what the client negotiated).
    fn content(&self) -> (u16, &[(String, String)], &str) {
        (self.status, &self.headers, &self.body)
    }
}

async fn answer_of(response: hyper::Response<hyper::body::Incoming>) -> Result<Answer, Error> {
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Answer {
        version: parts.version,
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into(),
                )
            })
            .collect(),
        body: String::from_utf8(body.to_vec())?,
    })
}

/// One HTTP/1.1 request on `io`, then close.
async fn http1<S>(io: S, request: Request<Full<Bytes>>) -> Result<Answer, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    let driver = tokio::spawn(connection);
    let answer = answer_of(sender.send_request(request).await?).await?;
    drop(sender);
    let _ = driver.await;
    Ok(answer)
}

/// One HTTP/2 request on `io`.
async fn http2<S>(io: S, request: Request<Full<Bytes>>) -> Result<Answer, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io)).await?;
    let driver = tokio::spawn(connection);
    let answer = answer_of(sender.send_request(request).await?).await;
    drop(sender);
    driver.abort();
    answer
}

/// A request as curl would write it, header names in curl's case.
fn curl(
    method: &str,
    uri: &str,
    host: Option<&str>,
    body: &str,
) -> Result<Request<Full<Bytes>>, Error> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(host) = host {
        builder = builder.header("Host", host);
    }
    builder = builder
        .header("User-Agent", "curl/8.5.0")
        .header("Accept", "*/*")
        .header("X-Custom_Name", "v1")
        .header("x-b3-TRACEID", "abc");
    if !body.is_empty() {
        builder = builder
            .header("Content-Type", "application/json")
            .header("Content-Length", body.len());
    }
    Ok(builder.body(Full::new(Bytes::from(body.to_string())))?)
}

/// The same request as the model's host receives it (names as the client wrote them).
fn arrived(method: &str, path: &str, authority: &str, body: &str) -> ArrivedRequest {
    let mut request = ArrivedRequest::new(method, path, authority)
        .with_header("User-Agent", "curl/8.5.0")
        .with_header("Accept", "*/*")
        .with_header("X-Custom_Name", "v1")
        .with_header("x-b3-TRACEID", "abc");
    if !body.is_empty() {
        request = request
            .with_header("Content-Type", "application/json")
            .with_header("Content-Length", &body.len().to_string())
            .with_body(body);
    }
    request
}

#[test]
fn https_anything_over_http1_is_the_models_answer_byte_for_byte() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let tls = bench
            .tls(HTTPBIN_443, "httpbin.org", &[b"http/1.1"])
            .await?;
        let got = http1(
            tls,
            curl("GET", "/anything?a=1&b=%20", Some("httpbin.org"), "")?,
        )
        .await?;
        let want = bench.model(
            "httpbin.org",
            &Arrival::https(
                443,
                Some("httpbin.org"),
                arrived("GET", "/anything?a=1&b=%20", "httpbin.org", ""),
            ),
        );
        assert_eq!(got.json()["url"], "https://httpbin.org/anything?a=1&b= ");
        assert_eq!(got.json()["headers"]["X-Custom-Name"], "v1");
        assert_eq!(got.json()["headers"]["X-B3-Traceid"], "abc");
        assert_eq!(got.content(), want.content());
        assert_eq!(got.version, Version::HTTP_11);

        let records = bench.hosts.take_records();
        assert_eq!(
            records,
            [HostRecord {
                host: "httpbin.org".into(),
                port: 443,
                tls: true,
                sni: Some("httpbin.org".into()),
                alpn: Some("http/1.1".into()),
                method: "GET".into(),
                url: "https://httpbin.org/anything?a=1&b=%20".into(),
                peer: IpAddr::V4(DEFAULT_PEER),
                status: 200,
                headers: records[0].headers.clone(),
                upstream: None,
            }]
        );
        // The headers as they arrived, Host left out.
        let received = records[0].received();
        assert_eq!(received.header("X-B3-TraceId"), Some("abc"));
        assert_eq!(received.header("host"), None);
        assert_eq!(
            records[0].describe(),
            "httpbin.org:443 received GET https://httpbin.org/anything?a=1&b=%20 over TLS \
             (SNI httpbin.org, ALPN http/1.1) from 192.0.2.10: 200"
        );
        assert!(bench.hosts.take_records().is_empty(), "take_records drains");
        Ok(())
    })
}

#[test]
fn https_over_http2_is_the_models_answer_and_alpn_is_recorded() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let tls = bench
            .tls(HTTPBIN_443, "www.httpbin.org", &[b"h2", b"http/1.1"])
            .await?;
        let body = "{\"k\": [1, 2]}";
        let got = http2(
            tls,
            curl("POST", "https://www.httpbin.org/anything", None, body)?,
        )
        .await?;
        let want = bench.model(
            "www.httpbin.org",
            &Arrival::https(
                443,
                Some("www.httpbin.org"),
                arrived("POST", "/anything", "www.httpbin.org", body),
            ),
        );
        assert_eq!(got.version, Version::HTTP_2);
        assert_eq!(got.json()["url"], "https://www.httpbin.org/anything");
        assert_eq!(got.json()["json"]["k"][1], 2);
        assert_eq!(got.content(), want.content());

        let records = bench.hosts.take_records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].alpn.as_deref(), Some("h2"));
        assert_eq!(records[0].host, "www.httpbin.org");
        assert_eq!(records[0].method, "POST");
        assert!(records[0].tls);
        Ok(())
    })
}

#[test]
fn plain_http_matches_the_model_on_many_requests() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let source_v4: std::net::Ipv4Addr = "192.0.2.77".parse()?;
        let source = IpAddr::V4(source_v4);
        let cases = [
            ("203.0.113.10:80", "httpbin.org", "GET", "/anything", ""),
            ("203.0.113.10:80", "httpbin.org", "GET", "/headers", ""),
            ("203.0.113.10:80", "httpbin.org", "GET", "/ip", ""),
            (
                "203.0.113.10:80",
                "www.httpbin.org",
                "GET",
                "/status/418",
                "",
            ),
            ("203.0.113.10:80", "httpbin.org", "PUT", "/get", ""),
            (
                "203.0.113.10:80",
                "httpbin.org",
                "POST",
                "/post",
                "{\"a\": 1}",
            ),
            ("203.0.113.10:80", "httpbin.org", "GET", "/delay/1", ""),
            ("203.0.113.10:80", "httpbin.org", "HEAD", "/get", ""),
            ("203.0.113.10:80", "httpbin.org", "OPTIONS", "/anything", ""),
            ("203.0.113.10:80", "unknown.example", "GET", "/get", ""),
            ("203.0.113.30:80", "www.baidu.com", "GET", "/", ""),
            ("203.0.113.30:80", "www.baidu.com", "HEAD", "/", ""),
        ];
        for (at, host, method, path, body) in cases {
            let tcp = bench.connect_from(source, at).await?;
            let got = http1(tcp, curl(method, path, Some(host), body)?).await?;
            let name = at.split(':').next().unwrap_or_default();
            let want = bench.model(
                name,
                &Arrival::http(80, arrived(method, path, host, body)).from_source(source_v4),
            );
            assert_eq!(
                got.content(),
                want.content(),
                "{method} http://{host}{path}"
            );
        }
        let records = bench.hosts.take_records();
        assert_eq!(records.len(), cases.len());
        assert!(records
            .iter()
            .all(|r| !r.tls && r.peer == source && r.sni.is_none()));
        assert_eq!(records[0].url, "http://httpbin.org/anything");
        assert_eq!(records[3].status, 418);
        assert_eq!(records[9].host, "unknown.example");
        assert_eq!(
            records[0].describe(),
            "httpbin.org:80 received GET http://httpbin.org/anything in plain text from 192.0.2.77: 200"
        );

        let tcp = bench.connect(HTTPBIN_80).await?;
        let got = http1(tcp, curl("GET", "/anything", Some("httpbin.org"), "")?).await?;
        assert_eq!(got.json()["url"], "http://httpbin.org/anything");
        assert_eq!(got.json()["origin"], "192.0.2.10");
        Ok(())
    })
}

#[test]
fn a_port_nobody_listens_on_is_refused() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let refused = bench
            .connect("203.0.113.20:80")
            .await
            .err()
            .map(|e| e.kind());
        assert_eq!(refused, Some(io::ErrorKind::ConnectionRefused));
        assert!(bench.connect("203.0.113.20:443").await.is_ok());
        Ok(())
    })
}

#[test]
fn tls_to_a_plain_port_is_reset() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let err = bench
            .tls(HTTPBIN_80, "httpbin.org", &[b"http/1.1"])
            .await
            .err()
            .and_then(|e| e.downcast::<io::Error>().ok().map(|e| e.kind()));
        assert_eq!(err, Some(io::ErrorKind::ConnectionReset));
        let records = bench.hosts.take_records();
        assert_eq!(records.len(), 1);
        assert!(records[0].is_reset() && !records[0].tls);
        assert_eq!(records[0].sni.as_deref(), Some("httpbin.org"));
        assert_eq!(
            records[0].describe(),
            "httpbin.org:80 reset the connection from 192.0.2.10 after a TLS ClientHello (SNI httpbin.org)"
        );
        Ok(())
    })
}

#[test]
fn an_sni_the_host_does_not_serve_fails_the_handshake() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let outcome = bench.tls(HTTPBIN_443, "www.google.com", &[]).await;
        assert!(outcome.is_err(), "handshake must fail");
        let records = bench.hosts.take_records();
        assert_eq!(records.len(), 1);
        assert!(records[0].is_reset());
        assert_eq!(records[0].sni.as_deref(), Some("www.google.com"));
        // The model agrees: an SNI the host does not serve is a reset.
        assert_eq!(
            bench.internet.serve(
                "httpbin.org",
                &Arrival::tls_stream(443, Some("www.google.com"))
            ),
            Served::Reset
        );
        // …and the right name at the same address still works.
        assert!(bench.tls(HTTPBIN_443, "httpbin.org", &[]).await.is_ok());
        Ok(())
    })
}

#[test]
fn plain_http_to_a_tls_port_gets_nginx_400() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let tcp = bench.connect(HTTPBIN_443).await?;
        let got = http1(tcp, curl("GET", "/get", Some("httpbin.org:443"), "")?).await?;
        assert_eq!(got.status, 400);
        assert_eq!(got.body, PLAIN_HTTP_TO_TLS_BODY);
        let want = plain_http_to_tls();
        assert_eq!(got.headers, want.headers);
        let records = bench.hosts.take_records();
        assert_eq!(records.len(), 1);
        assert!(!records[0].tls);
        assert_eq!(records[0].status, 400);
        assert_eq!(records[0].url, "http://httpbin.org:443/get");
        Ok(())
    })
}

#[test]
fn a_raw_stream_gets_nginxs_400_and_a_close_while_the_client_still_sends() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let mut tcp = bench.connect(HTTPBIN_80).await?;
        tcp.write_all(b"\x00\x01 not http\r\n").await?;
        // The client keeps its side open: the host answers and closes on its own.
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).await?;
        let rest = String::from_utf8_lossy(&rest);
        assert!(rest.starts_with("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n"));
        assert!(rest.ends_with(egressbench_model::external::BAD_REQUEST_BODY));
        let records = bench.hosts.take_records();
        assert_eq!(records.len(), 1);
        assert_eq!(
            (
                records[0].method.as_str(),
                records[0].url.as_str(),
                records[0].status
            ),
            ("-", "tcp://203.0.113.10:80", 400)
        );
        assert!(!records[0].is_reset());
        Ok(())
    })
}

#[test]
fn tls_inside_tls_is_answered_in_plain_text() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let outer = bench.tls(HTTPBIN_443, "httpbin.org", &[]).await?;
        let inner = TlsConnector::from(public_client(&bench.ca, &[])?)
            .connect(ServerName::try_from("httpbin.org")?, outer)
            .await;
        let kind = inner.err().map(|e| e.kind());
        assert_eq!(
            kind,
            Some(io::ErrorKind::InvalidData),
            "plain text where TLS was expected"
        );

        // What the inner handshake read: nginx's 400, in plain text inside the outer TLS.
        let mut outer = bench.tls(HTTPBIN_443, "httpbin.org", &[]).await?;
        let hello = client_hello_bytes(&bench.ca).await?;
        outer.write_all(&hello).await?;
        let mut text = String::new();
        outer.read_to_string(&mut text).await?;
        assert_eq!(text, stream::bad_request());

        let records = bench.hosts.take_records();
        assert_eq!(records.len(), 2);
        assert!(records
            .iter()
            .all(|r| r.tls && r.method == "-" && r.status == 400));
        assert_eq!(records[0].url, "tls://httpbin.org:443");
        Ok(())
    })
}

/// The bytes of a ClientHello for httpbin.org.
async fn client_hello_bytes(ca: &CertificateAuthority) -> Result<Vec<u8>, Error> {
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    let connector = TlsConnector::from(public_client(ca, &[])?);
    let name = ServerName::try_from("httpbin.org")?;
    let handshake = tokio::spawn(async move { connector.connect(name, client).await.is_ok() });
    let (_, bytes) = crate::hello::inspect(&mut server).await?;
    drop(server);
    handshake.await?;
    Ok(bytes)
}

#[test]
fn dropping_hosts_closes_the_listeners() -> TestResult {
    run(async {
        let bench = Bench::start().await?;
        let at: SocketAddr = HTTPBIN_80.parse()?;
        let real = bench.fabric.real_addr(at).ok_or("registered")?;
        assert!(bench.hosts.listening().any(|a| a == at));
        let Bench { fabric, hosts, .. } = bench;
        drop(hosts);
        assert_eq!(fabric.real_addr(at), None, "unregistered from the fabric");
        assert!(fabric.connect(IpAddr::V4(DEFAULT_PEER), at).await.is_err());
        // The real listener is closed once the aborted accept loop is dropped.
        let mut closed = false;
        for _ in 0..100 {
            if TcpStream::connect(real).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(closed, "the real listener still accepts");
        Ok(())
    })
}
