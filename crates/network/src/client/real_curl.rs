//! The real curl binary as the client: the same request the built-in client sends, made by
//! `curl` itself against a real loopback address, and its exit code read back as a `ClientResult`.
//!
//! Owns: finding curl (`find_curl`, `has_http2`), the command line that makes curl send the same
//! bytes as the built-in client (`-H` for every header, curl's own defaults removed when the
//! request leaves them out, no proxy, no `.curlrc`, no `Expect`), the per-call temp dir for `-D`/`-o`
//! and the body, and the exit-code mapping. Leaves out: raw TCP (`Scheme::Tcp` is not something
//! curl does: `CurlError::NotHttp`), unresolved names (the caller answers those without curl), and
//! choosing the address (the caller passes the sidecar's or host's real listener).

use super::app::Sent;
use crate::fabric::Clock;
use egressbench_model::outcome::{
    CertificateProblem, ClientResult, ConnectionError, HttpResponse, HttpVersion,
};
use egressbench_model::request::{ClientHttp, ClientRequest, Scheme};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why the real curl could not stand in for the client.
#[derive(Debug, thiserror::Error)]
pub enum CurlError {
    /// Only `http`/`https` requests are made with curl; `Scheme::Tcp` uses the built-in client.
    #[error("curl only sends HTTP and HTTPS requests, not raw TCP")]
    NotHttp,
    /// The temp dir, curl's files or the process itself failed.
    #[error("running curl: {0}")]
    Io(#[from] std::io::Error),
    /// An exit code with no `ClientResult` counterpart, or output that could not be read.
    #[error("curl exited with {code:?}: {stderr}")]
    Unexpected { code: Option<i32>, stderr: String },
}

/// The `curl` binary to use: `$EGRESSBENCH_CURL`, else `curl` on `PATH`, if it runs
/// (`curl --version` succeeds). An `$EGRESSBENCH_CURL` that does not run gives `None`.
pub fn find_curl() -> Option<PathBuf> {
    let curl = std::env::var_os("EGRESSBENCH_CURL")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("curl"), PathBuf::from);
    version(&curl).map(|_| curl)
}

fn version(curl: &Path) -> Option<String> {
    let out = std::process::Command::new(curl)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `curl` was built with HTTP/2 (`Features: ... HTTP2`): without it, HTTPS answers come
/// back in HTTP/1.1 where the built-in client negotiates `h2`.
pub fn has_http2(curl: &Path) -> bool {
    version(curl).is_some_and(|v| {
        v.lines()
            .filter(|l| l.starts_with("Features:"))
            .any(|l| l.split_whitespace().any(|f| f == "HTTP2"))
    })
}

/// A temp dir for one call, removed when dropped (or when a signal stops the run).
#[derive(Debug)]
struct Scratch(crate::owned::OwnedDir);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("egressbench-curl-{}-{n}", std::process::id()));
        // A leftover of an earlier process with the same pid.
        let _ = std::fs::remove_dir_all(&dir);
        crate::owned::OwnedDir::create(dir).map(Scratch)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// The host as it appears in a URL or `--connect-to` (IPv6 literals in brackets).
fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Headers curl adds on its own unless told otherwise: removed (`-H 'Name:'`) when the request
/// leaves them out, so that curl sends exactly the request's headers.
fn curl_defaults(request: &ClientRequest) -> Vec<&'static str> {
    let mut names = vec!["User-Agent", "Accept"];
    if request.body.is_some() {
        names.push("Content-Type");
    }
    names
}

/// What curl is told to trust and present, its files written into the scratch folder
/// (`write_tls_files`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TlsFiles {
    /// `--cacert` is the scenario's own anchors (`anchors.pem`), not the public CA.
    anchors: bool,
    /// `-k`.
    insecure: bool,
    /// `--cert client.pem --key client-key.pem`.
    client: bool,
}

/// Write the PEM files `credentials` need into `scratch`, made by `materials`.
async fn write_tls_files(
    scratch: &Scratch,
    materials: &crate::materials::Materials,
    credentials: &egressbench_model::request::ClientCredentials,
) -> Result<TlsFiles, CurlError> {
    use egressbench_model::request::Trust;
    let pki = |e: crate::pki::PkiError| CurlError::Io(std::io::Error::other(e.to_string()));
    let mut files = TlsFiles {
        anchors: false,
        insecure: false,
        client: false,
    };
    match &credentials.trust {
        Trust::System => {}
        Trust::Anything => files.insecure = true,
        Trust::Anchors(anchors) => {
            let mut pem = String::new();
            for a in anchors {
                pem.push_str(&materials.certificate(a).map_err(pki)?.pem);
            }
            tokio::fs::write(scratch.file("anchors.pem"), pem).await?;
            files.anchors = true;
        }
    }
    if let Some(cert) = &credentials.certificate {
        let made = materials.certificate(cert).map_err(pki)?;
        let (_, key) = materials.key(&cert.key).map_err(pki)?;
        tokio::fs::write(scratch.file("client.pem"), made.pem).await?;
        tokio::fs::write(scratch.file("client-key.pem"), key).await?;
        files.client = true;
    }
    Ok(files)
}

/// curl's arguments for `request`, connecting to `connect_to`, writing into `scratch`.
fn arguments(
    request: &ClientRequest,
    connect_to: SocketAddr,
    local: Option<std::net::Ipv4Addr>,
    ca_pem_file: &Path,
    tls: TlsFiles,
    clock: Clock,
    scratch: &Scratch,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut arg = |a: &str| args.push(a.into());
    // -q must come first: no ~/.curlrc.
    arg("-q");
    arg("-sS");
    match request.http {
        ClientHttp::Negotiate => {}
        ClientHttp::Http11Only => arg("--http1.1"),
        ClientHttp::H2PriorKnowledge => arg("--http2-prior-knowledge"),
    }
    if let Some(local) = local {
        // The workload's own source address (its loopback alias), as the built-in client binds.
        arg("--interface");
        arg(&local.to_string());
    }
    let target = url_host(&connect_to.ip().to_string());
    if request.proxy.is_some() {
        // curl's connection is the proxy's; the proxy resolves and reaches the URL's host, through
        // a tunnel (https://, or -p), else by making the whole request itself.
        arg("--proxy");
        arg(&format!("http://{target}:{}", connect_to.port()));
        if request.proxy.as_ref().is_some_and(|p| p.tunnel) {
            arg("--proxytunnel");
        }
    } else {
        arg("--noproxy");
        arg("*");
        arg("--connect-to");
        arg(&format!(
            "{}:{}:{target}:{}",
            url_host(&request.host),
            request.port,
            connect_to.port()
        ));
    }
    if request.method.eq_ignore_ascii_case("HEAD") {
        // `-X HEAD` would make curl wait for the body the headers announce.
        arg("-I");
    } else {
        arg("-X");
        arg(&request.method);
    }
    if let Some(host) = &request.host_header {
        arg("-H");
        arg(&format!("Host: {host}"));
    }
    for (name, value) in &request.headers {
        if value.is_empty() {
            arg("-H");
            arg(&format!("{name};"));
        } else {
            arg("-H");
            arg(&format!("{name}: {value}"));
        }
    }
    for name in curl_defaults(request) {
        if request.header(name).is_none() {
            arg("-H");
            arg(&format!("{name}:"));
        }
    }
    if request.body.is_some() {
        // curl adds `Expect: 100-continue` for large bodies; the built-in client does not.
        arg("-H");
        arg("Expect:");
    }
    if let Some(ms) = request.timeout_ms.filter(|ms| *ms > 0) {
        let secs = clock.real(ms).as_secs_f64().max(0.001);
        arg("-m");
        arg(&format!("{secs:.3}"));
    }
    arg("-w");
    arg("%{http_code} %{http_version} %{time_total}");
    args.push("--cacert".into());
    if tls.anchors {
        args.push(scratch.file("anchors.pem").into());
    } else {
        args.push(ca_pem_file.into());
    }
    if tls.insecure {
        args.push("-k".into());
    }
    if tls.client {
        args.push("--cert".into());
        args.push(scratch.file("client.pem").into());
        args.push("--key".into());
        args.push(scratch.file("client-key.pem").into());
    }
    args.push("-D".into());
    args.push(scratch.file("headers").into());
    args.push("-o".into());
    args.push(scratch.file("body").into());
    if request.body.is_some() {
        let mut data = std::ffi::OsString::from("@");
        data.push(scratch.file("request-body"));
        args.push("--data-binary".into());
        args.push(data);
    }
    args.push("--".into());
    args.push(
        format!(
            "{}://{}:{}{}",
            request.scheme,
            url_host(&request.host),
            request.port,
            request.path
        )
        .into(),
    );
    args
}

/// Run the real curl for `request`, connecting to `connect_to` (a real loopback address) with
/// `--connect-to host:port:ADDR:PORT`, trusting `ca_pem_file` (the public CA) with `--cacert`, and
/// map its result to the `ClientResult` the built-in client gives for the same situation.
/// `request.timeout_ms` is passed as `-m`, scaled by `clock` to real seconds; the time taken is
/// curl's own `time_total` (starting and ending the process is not part of the request), scaled
/// back to simulated milliseconds.
///
/// Only HTTP and HTTPS: `Scheme::Tcp` is `Err(CurlError::NotHttp)`.
pub async fn send_with_curl(
    curl: &Path,
    connect_to: SocketAddr,
    local: Option<std::net::Ipv4Addr>,
    request: &ClientRequest,
    ca_pem_file: &Path,
    own: Option<(
        &crate::materials::Materials,
        &egressbench_model::request::ClientCredentials,
    )>,
    clock: Clock,
) -> Result<Sent, CurlError> {
    if request.scheme == Scheme::Tcp {
        return Err(CurlError::NotHttp);
    }
    let scratch = Scratch::new()?;
    let tls = match own {
        Some((materials, credentials)) => write_tls_files(&scratch, materials, credentials).await?,
        None => TlsFiles {
            anchors: false,
            insecure: false,
            client: false,
        },
    };
    let started = std::time::Instant::now();
    if let Some(body) = &request.body {
        tokio::fs::write(scratch.file("request-body"), body).await?;
    }
    let out = tokio::process::Command::new(curl)
        .args(arguments(
            request,
            connect_to,
            local,
            ca_pem_file,
            tls,
            clock,
            &scratch,
        ))
        .stdin(Stdio::null())
        // Only the proxy the request names: none from the environment.
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .kill_on_drop(true)
        .output()
        .await?;
    let ran_for = started.elapsed();
    let written = String::from_utf8_lossy(&out.stdout).into_owned();
    let took = time_total(&written).unwrap_or(ran_for);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let failed = |error, during_tls| Ok(ClientResult::ConnectionFailed { error, during_tls });
    let https = request.scheme == Scheme::Https;
    let result = match out.status.code() {
        Some(0) => {
            let headers = tokio::fs::read(scratch.file("headers"))
                .await
                .unwrap_or_default();
            // curl creates no output file when no body arrived.
            let body = if request.method.eq_ignore_ascii_case("HEAD") {
                Vec::new()
            } else {
                tokio::fs::read(scratch.file("body"))
                    .await
                    .unwrap_or_default()
            };
            response(&written, &String::from_utf8_lossy(&headers), &body).ok_or(
                CurlError::Unexpected {
                    code: Some(0),
                    stderr: format!("unreadable output {written:?}: {stderr}"),
                },
            )
        }
        Some(5 | 6) => failed(ConnectionError::Unresolved, false),
        Some(56) if stderr.contains("Proxy CONNECT aborted") => {
            failed(ConnectionError::ProxyAborted, false)
        }
        Some(56) if stderr.contains("CONNECT tunnel failed, response") => {
            let status = stderr
                .rsplit("response ")
                .next()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            failed(ConnectionError::TunnelFailed(status), false)
        }
        Some(7) => failed(ConnectionError::Refused, false),
        // "Connection timed out after N ms" (connect or TLS handshake) vs "Operation timed out".
        Some(28) => failed(
            ConnectionError::Timeout,
            (https || request.proxy.is_some()) && stderr.contains("Connection timed out"),
        ),
        Some(35) if not_tls(&stderr) => failed(ConnectionError::NotTls, true),
        // The issuer's signature checked with another CA's key of the same name: the crypto
        // library fails ("rsa routines::…", "EVP lib" for ECDSA keys, LibreSSL's "block type").
        Some(35)
            if stderr.contains("rsa routines")
                || stderr.contains("EVP lib")
                || stderr.contains("block type is not 01") =>
        {
            failed(
                ConnectionError::Certificate(CertificateProblem::SignatureFailure),
                true,
            )
        }
        // 60: OpenSSL did not accept the server's certificate.
        Some(60) if stderr.contains("unable to get local issuer certificate") => failed(
            ConnectionError::Certificate(CertificateProblem::UnknownIssuer),
            true,
        ),
        Some(60)
            if stderr.contains("self-signed certificate")
                || stderr.contains("self signed certificate") =>
        {
            failed(
                ConnectionError::Certificate(CertificateProblem::SelfSigned),
                true,
            )
        }
        Some(60)
            if stderr.contains("does not match target host name")
                || stderr.contains("does not match target hostname") =>
        {
            // "certificate subject name 'CN' does not match target host name 'HOST'" (newer
            // curl: "target hostname")
            let common_name = stderr
                .split("certificate subject name '")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                .unwrap_or_default()
                .to_string();
            failed(
                ConnectionError::Certificate(CertificateProblem::NameMismatch { common_name }),
                true,
            )
        }
        // 35: the handshake failed; 60: the server's certificate did not verify (the built-in
        // client's rustls reports both as a failed handshake).
        Some(35 | 60) => failed(ConnectionError::Reset, true),
        // 52: empty reply; 56: receive failure; 55: send failure; 16/92: HTTP/2 framing or a
        // reset stream; 18: the body was cut short.
        Some(16 | 18 | 52 | 55 | 56 | 92) => failed(ConnectionError::Reset, false),
        code => Err(CurlError::Unexpected { code, stderr }),
    };
    result.map(|result| Sent {
        result,
        elapsed_ms: clock.simulated(took),
    })
}

/// curl's `%{time_total}`, the last word of the write-out, in seconds (`0.512034`).
pub(super) fn time_total(written: &str) -> Option<std::time::Duration> {
    let secs: f64 = written.split_whitespace().nth(2)?.parse().ok()?;
    std::time::Duration::try_from_secs_f64(secs).ok()
}

/// OpenSSL's ways of saying the peer did not answer in TLS.
fn not_tls(stderr: &str) -> bool {
    [
        "wrong version number",
        "packet length too long",
        "record layer failure",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

/// The response from `-w '%{http_code} %{http_version} %{time_total}'`, the `-D` file (its last header block:
/// earlier ones are `1xx` answers) and the `-o` file.
fn response(written: &str, headers: &str, body: &[u8]) -> Option<ClientResult> {
    let mut words = written.split_whitespace();
    let status: u16 = words.next()?.parse().ok()?;
    let version = match words.next()? {
        "2" => HttpVersion::Http2,
        _ => HttpVersion::Http11,
    };
    let block = headers
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or("");
    let headers = block
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_string()))
        })
        .collect();
    Some(ClientResult::Response(HttpResponse {
        version,
        status,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }))
}
