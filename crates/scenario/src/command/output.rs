//! What curl 8.5 prints, and the code it exits with, for one result.
//!
//! Owns: stdout (body, `-i`/`-I` head with CRLF line ends, nothing under `-o /dev/null`, then the
//! `-w` output), stderr (the `-v` trace, `curl: (N) message` unless `-s` without `-S`, `--retry`
//! warnings unless `-s`) and exit codes: 0; 6 host not resolved; 7 refused; 22 for
//! `-f`/`--fail-with-body` on a status ≥ 400; 28 timed out; 35 reset during the TLS handshake; 56
//! reset after it (or on plain HTTP).
//! Leaves out: the progress meter curl draws on stderr without `-s` (its figures are timings the
//! bench does not have), and what the pipeline does with the output (`pipeline`).

use super::curl::{CurlOptions, FailMode};
use super::streams::{Emitted, Stream};
use super::verbose;
use super::writeout::Transfer;
use egressbench_model::outcome::{
    CertificateProblem, ClientResult, ConnectionError, HttpResponse, HttpVersion, TlsFileProblem,
};

/// What curl adds after a certificate it did not accept.
const CERTIFICATE_ADVICE: &str = "More details here: https://curl.se/docs/sslcerts.html\n\n\
curl failed to verify the legitimacy of the server and therefore could not\n\
establish a secure connection to it. To learn more about this situation and\n\
how to fix it, please visit the web page mentioned above.";
use egressbench_model::request::{ClientRequest, Scheme};

/// curl's own connect limit when `--connect-timeout` is not given.
const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 300_000;

/// Statuses `--retry` tries again (curl's transient HTTP errors).
const RETRIED_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// One transfer's printout before the write-out, and what the write-out needs to know.
struct Attempt<'a> {
    emitted: Emitted,
    response: Option<&'a HttpResponse>,
    downloaded: usize,
    /// The failure, if any: exit code and curl's message.
    failure: Option<(i32, String)>,
    /// `%{errormsg}`: curl's error buffer, or its generic text for an error raised afterwards.
    errormsg: Option<String>,
}

/// One request of a transfer and what it got: several when `-L` followed redirects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hop {
    pub request: ClientRequest,
    pub result: ClientResult,
    pub elapsed_ms: u64,
    pub remote: Option<std::net::SocketAddr>,
}

/// Why a transfer ended on a redirect it did not follow (`-L`): curl's exit code and message.
pub(crate) type Stopped = (i32, String);

/// What curl prints and returns for a transfer: its `hops` (every one but the last a redirect
/// `-L` followed) and, when it gave up on the last one's redirect, why.
pub(crate) fn curl_output(o: &CurlOptions, hops: &[Hop], stopped: Option<&Stopped>) -> Emitted {
    let Some((last, followed)) = hops.split_last() else {
        return Emitted::default();
    };
    let mut once = Emitted::default();
    for hop in followed {
        if let ClientResult::Response(r) = &hop.result {
            append(&mut once, &redirected(o, &hop.request, r, true));
        }
    }
    let attempt = match (&last.result, stopped) {
        (ClientResult::Response(r), Some(stop)) => Attempt {
            emitted: redirected(o, &last.request, r, false),
            response: Some(r),
            downloaded: 0,
            failure: Some(stop.clone()),
            errormsg: Some(stop.1.clone()),
        },
        (ClientResult::Response(r), None) => response(o, &last.request, r),
        (ClientResult::ConnectionFailed { error, during_tls }, _) => {
            failure(o, &last.request, error.clone(), *during_tls)
        }
    };
    append(&mut once, &attempt.emitted);
    let exit_code = attempt.failure.as_ref().map_or(0, |(code, _)| *code);
    if let Some((code, message)) = &attempt.failure {
        if !o.silent || o.show_error {
            once.write(Stream::Stderr, format!("curl: ({code}) {message}\n"));
        }
    }
    let mut out = Emitted::default();
    let retries = retries(o, &last.result);
    for left in (0..=retries).rev() {
        append(&mut out, &once);
        if left > 0 && !o.silent {
            let what = match &last.result {
                ClientResult::Response(_) => "HTTP error",
                ClientResult::ConnectionFailed { .. } => "timeout",
            };
            let delay = (1u64 << (retries - left).min(10)).min(600);
            out.write(
                Stream::Stderr,
                format!(
                    "Warning: Problem : {what}. Will retry in {} seconds. {left} retries left.\n",
                    delay
                ),
            );
        }
    }
    if let Some(w) = &o.write_out {
        let transfer = Transfer {
            request: &last.request,
            url_as_written: &o.url,
            response: attempt.response,
            downloaded: attempt.downloaded,
            exit_code,
            error: attempt.errormsg.as_deref(),
            redirects: followed.len(),
            elapsed_ms: hops.iter().map(|h| h.elapsed_ms).sum(),
            remote: last.remote,
        };
        append(&mut out, &w.render(&transfer));
    }
    out.exit_code = exit_code;
    // Every try of `--retry` takes as long as the first (the bench's results repeat), and curl
    // waits 1, 2, 4… seconds between them.
    let once_ms: u64 = hops.iter().map(|h| h.elapsed_ms).sum();
    let waits_ms: u64 = (0..retries)
        .map(|i| (1u64 << i.min(10)).min(600) * 1000)
        .sum();
    out.elapsed_ms = once_ms * (u64::from(retries) + 1) + waits_ms;
    out
}

/// A redirect response `-L` followed (`next`) or gave up on: its head where `-i`/`-I`/`-D -`
/// print heads, its body never (curl skips it).
fn redirected(o: &CurlOptions, req: &ClientRequest, r: &HttpResponse, next: bool) -> Emitted {
    let mut e = Emitted::default();
    if o.verbose {
        verbose::connected(&mut e, req);
        verbose::request(&mut e, o, req, r.version);
        verbose::response_head(&mut e, r);
        verbose::info(&mut e, "Ignoring the response-body");
        verbose::left_intact(&mut e, req);
        if next {
            let location = r.header("location").unwrap_or_default();
            verbose::info(
                &mut e,
                &format!("Issue another request to this URL: '{location}'"),
            );
        }
    }
    if o.dump_header || ((o.head || o.include) && !o.discard_body) {
        e.write(Stream::Stdout, head(r));
    }
    e
}

/// The status line and headers as curl prints them (CRLF line ends, a blank line after).
fn head(r: &HttpResponse) -> String {
    super::status::head_lines(r)
        .into_iter()
        .chain([String::new()])
        .map(|l| l + "\r\n")
        .collect()
}

fn append(out: &mut Emitted, more: &Emitted) {
    for (stream, text) in &more.chunks {
        out.write(*stream, text);
    }
}

/// How many times `--retry` runs the transfer again: curl retries timeouts, unresolved hosts
/// (both reported as "timeout") and transient HTTP statuses; the bench's results are the same on
/// every try.
fn retries(o: &CurlOptions, result: &ClientResult) -> u32 {
    let retried = match result {
        ClientResult::Response(r) => RETRIED_STATUSES.contains(&r.status),
        ClientResult::ConnectionFailed { error, .. } => {
            matches!(
                error,
                ConnectionError::Timeout | ConnectionError::Unresolved
            )
        }
    };
    if retried {
        o.retry.unwrap_or(0)
    } else {
        0
    }
}

fn response<'a>(o: &CurlOptions, req: &ClientRequest, r: &'a HttpResponse) -> Attempt<'a> {
    let mut e = Emitted::default();
    if o.verbose {
        verbose::connected(&mut e, req);
        verbose::request(&mut e, o, req, r.version);
        verbose::response_head(&mut e, r);
    }
    if o.dump_header || ((o.head || o.include) && !o.discard_body) {
        e.write(Stream::Stdout, head(r));
    }
    let error_status = r.status >= 400;
    let message = format!("The requested URL returned error: {}", r.status);
    if error_status && o.fail == FailMode::Fail {
        if o.verbose {
            verbose::info(&mut e, &message);
            verbose::closing(&mut e);
        }
        return Attempt {
            emitted: e,
            response: Some(r),
            downloaded: 0,
            failure: Some((22, message.clone())),
            errormsg: Some(message),
        };
    }
    let body = if o.head { "" } else { r.body.as_str() };
    if o.verbose {
        verbose::data_in(&mut e, body.len());
    }
    if !o.discard_body {
        e.write(Stream::Stdout, body);
    }
    if o.verbose {
        verbose::left_intact(&mut e, req);
    }
    let fails = error_status && o.fail == FailMode::WithBody;
    Attempt {
        emitted: e,
        response: Some(r),
        downloaded: body.len(),
        failure: fails.then_some((22, message)),
        errormsg: fails.then(|| "HTTP response code said error".to_string()),
    }
}

fn failure<'a>(
    o: &CurlOptions,
    req: &ClientRequest,
    error: ConnectionError,
    during_tls: bool,
) -> Attempt<'a> {
    let mut e = Emitted::default();
    // Through a forward proxy, the connection curl opens is the proxy's.
    let (host, port) = req
        .proxy
        .as_ref()
        .map_or((req.host.as_str(), req.port), |p| (p.host.as_str(), p.port));
    let (code, message) = match (error, during_tls) {
        (ConnectionError::Unresolved, _) => match &req.proxy {
            Some(p) => (5, format!("Could not resolve proxy: {}", p.host)),
            None => (6, format!("Could not resolve host: {}", req.host)),
        },
        (ConnectionError::Refused, _) => {
            if o.verbose {
                verbose::trying(&mut e, req);
            }
            (
                7,
                format!(
                    "Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
                ),
            )
        }
        (ConnectionError::ProxyAborted, _) => (56, "Proxy CONNECT aborted".to_string()),
        (ConnectionError::Certificate(problem), _) => {
            if o.verbose {
                verbose::connected(&mut e, req);
            }
            // OpenSSL's RSA check of the issuer's signature with another key fails in the crypto
            // library, which curl reports as a failed handshake (35); the message depends on the
            // keys ("data too large for modulus" or a padding error).
            if problem == CertificateProblem::SignatureFailure {
                (
                    35,
                    "OpenSSL/3.0.13: error:02000084:rsa routines::data too large for modulus"
                        .to_string(),
                )
            } else {
                let message = match problem {
                    CertificateProblem::UnknownIssuer => {
                        "SSL certificate problem: unable to get local issuer certificate"
                            .to_string()
                    }
                    CertificateProblem::SelfSigned => {
                        "SSL certificate problem: self-signed certificate".to_string()
                    }
                    CertificateProblem::SignatureFailure => String::new(),
                    // The certificate has no alternative names: curl compares the subject's CN.
                    CertificateProblem::NameMismatch { common_name } => format!(
                        "SSL: certificate subject name '{common_name}' does not match target host \
                     name '{}'",
                        req.host
                    ),
                };
                (60, format!("{message}\n{CERTIFICATE_ADVICE}"))
            }
        }
        (ConnectionError::TlsFile(file), _) => {
            let path = |p: &Option<String>| p.clone().unwrap_or_default();
            match file {
                TlsFileProblem::CaFile => (
                    77,
                    format!("error setting certificate file: {}", path(&req.tls.ca_file)),
                ),
                TlsFileProblem::CertFile => (
                    58,
                    format!(
                        "could not load PEM client certificate from {}, OpenSSL error \
                         error:80000002:system library::No such file or directory, (no key \
                         found, wrong pass phrase, or wrong file format?)",
                        path(&req.tls.cert_file)
                    ),
                ),
                TlsFileProblem::KeyFile => (
                    58,
                    format!(
                        "unable to set private key file: '{}' type PEM",
                        req.tls.key_file.clone().unwrap_or(path(&req.tls.cert_file))
                    ),
                ),
            }
        }
        (ConnectionError::TunnelFailed(status), _) => {
            (56, format!("CONNECT tunnel failed, response {status}"))
        }
        (ConnectionError::NotTls, _) => {
            if o.verbose {
                verbose::connected(&mut e, req);
            }
            (
                35,
                "OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number".to_string(),
            )
        }
        (ConnectionError::Reset, true) => {
            if o.verbose {
                verbose::connected(&mut e, req);
            }
            (
                35,
                format!(
                    "OpenSSL SSL_connect: Connection reset by peer in connection to {}:{} ",
                    req.host, req.port
                ),
            )
        }
        (ConnectionError::Reset, false) => {
            if o.verbose {
                verbose::connected(&mut e, req);
                verbose::request(&mut e, o, req, spoken(req));
            }
            let message = match req.scheme {
                // A reset through a proxy is most often the proxy's, before the tunnel.
                Scheme::Https if req.proxy.is_none() => {
                    "OpenSSL SSL_read: Connection reset by peer, errno 104"
                }
                Scheme::Https | Scheme::Http | Scheme::Tcp => {
                    "Recv failure: Connection reset by peer"
                }
            };
            (56, message.to_string())
        }
        (ConnectionError::Timeout, true) => {
            if o.verbose {
                verbose::connected(&mut e, req);
            }
            let limit = [o.max_time_ms, o.connect_timeout_ms]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS);
            (
                28,
                format!("Connection timed out after {limit} milliseconds"),
            )
        }
        (ConnectionError::Timeout, false) => {
            if o.verbose {
                verbose::connected(&mut e, req);
                verbose::request(&mut e, o, req, spoken(req));
            }
            let limit = o.max_time_ms.unwrap_or(0);
            (
                28,
                format!("Operation timed out after {limit} milliseconds with 0 bytes received"),
            )
        }
    };
    if o.verbose {
        verbose::info(&mut e, &message);
        verbose::closing(&mut e);
    }
    Attempt {
        emitted: e,
        response: None,
        downloaded: 0,
        failure: Some((code, message.clone())),
        errormsg: Some(message),
    }
}

/// The HTTP version a request was sent in, before any answer said otherwise: HTTP/2 from the
/// first byte with `--http2-prior-knowledge` in plain text, else HTTP/1.1 (over TLS, ALPN decides;
/// the trace prints HTTP/1.1 when no answer came).
fn spoken(req: &ClientRequest) -> HttpVersion {
    if req.scheme == Scheme::Http && req.http.h2c() {
        HttpVersion::Http2
    } else {
        HttpVersion::Http11
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::headers::build_request;
    use crate::command::words::split_words;

    /// What `line` (a bare curl command) prints for `result`: (stdout, stderr, exit code).
    fn printed(line: &str, result: &ClientResult) -> (String, String, i32) {
        let o = CurlOptions::parse(&split_words(line).unwrap()[1..]).unwrap();
        let req = build_request(&o).unwrap();
        let hop = Hop {
            request: req,
            result: result.clone(),
            elapsed_ms: 0,
            remote: None,
        };
        let e = curl_output(&o, &[hop], None);
        (e.text(Stream::Stdout), e.text(Stream::Stderr), e.exit_code)
    }

    fn response(status: u16, body: &str) -> ClientResult {
        ClientResult::Response(HttpResponse::new(status, "text/plain", body))
    }

    fn failed(error: ConnectionError, during_tls: bool) -> ClientResult {
        ClientResult::ConnectionFailed { error, during_tls }
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    const PROBE: &str = r#"curl -s -o /dev/null -w "%{http_code}\n""#;

    #[test]
    fn failures_through_a_proxy_name_the_proxy_or_its_answer() {
        let failed = |error| ClientResult::ConnectionFailed {
            error,
            during_tls: false,
        };
        let line = "curl -sS -x 10.244.3.7:3128 https://en.wikipedia.org/";
        for (error, code, message) in [
            (
                ConnectionError::TunnelFailed(403),
                56,
                "curl: (56) CONNECT tunnel failed, response 403\n",
            ),
            (
                ConnectionError::ProxyAborted,
                56,
                "curl: (56) Proxy CONNECT aborted\n",
            ),
            (
                ConnectionError::Refused,
                7,
                "curl: (7) Failed to connect to 10.244.3.7 port 3128 after 0 ms: Couldn't \
                 connect to server\n",
            ),
            (
                ConnectionError::Reset,
                56,
                "curl: (56) Recv failure: Connection reset by peer\n",
            ),
        ] {
            let (stdout, stderr, exit) = printed(line, &failed(error));
            assert_eq!(
                (stdout.as_str(), stderr.as_str(), exit),
                ("", message, code)
            );
        }
        let (_, stderr, exit) = printed(
            "curl -sS -x squid.corp:3128 https://a.example/",
            &failed(ConnectionError::Unresolved),
        );
        assert_eq!(
            (stderr.as_str(), exit),
            ("curl: (5) Could not resolve proxy: squid.corp\n", 5)
        );
    }

    #[test]
    fn status_probe_prints_the_code() {
        let line = format!("{PROBE} http://www.httpbin.org");
        assert_eq!(printed(&line, &response(200, "hi")), (s("200\n"), s(""), 0));
        assert_eq!(printed(&line, &response(502, "")), (s("502\n"), s(""), 0));
    }

    #[test]
    fn status_probe_on_a_reset_prints_000() {
        let line = format!("{PROBE} http://www.httpbin.org");
        assert_eq!(
            printed(&line, &failed(ConnectionError::Reset, false)),
            (s("000\n"), s(""), 56)
        );
        let line = format!("{PROBE} https://www.httpbin.org");
        assert_eq!(
            printed(&line, &failed(ConnectionError::Reset, true)),
            (s("000\n"), s(""), 35)
        );
    }

    #[test]
    fn body_goes_to_stdout() {
        assert_eq!(
            printed("curl -s http://httpbin.org/get", &response(200, "{}\n")),
            (s("{}\n"), s(""), 0)
        );
        assert_eq!(
            printed("curl -o - http://a", &response(404, "nope")),
            (s("nope"), s(""), 0)
        );
    }

    #[test]
    fn reset_messages_unless_silent() {
        let reset = failed(ConnectionError::Reset, false);
        let msg = "curl: (56) Recv failure: Connection reset by peer\n";
        assert_eq!(printed("curl http://a", &reset), (s(""), s(msg), 56));
        assert_eq!(printed("curl -sS http://a", &reset), (s(""), s(msg), 56));
        assert_eq!(printed("curl -s http://a", &reset), (s(""), s(""), 56));
        assert_eq!(
            printed("curl -sS https://www.httpbin.org", &failed(ConnectionError::Reset, true)),
            (
                s(""),
                s("curl: (35) OpenSSL SSL_connect: Connection reset by peer in connection to www.httpbin.org:443 \n"),
                35
            )
        );
        assert_eq!(
            printed("curl -S -s https://a", &reset),
            (
                s(""),
                s("curl: (56) OpenSSL SSL_read: Connection reset by peer, errno 104\n"),
                56
            )
        );
    }

    #[test]
    fn refused_unresolved_and_timeouts() {
        assert_eq!(
            printed("curl http://httpbin.org:8080/", &failed(ConnectionError::Refused, false)),
            (
                s(""),
                s("curl: (7) Failed to connect to httpbin.org port 8080 after 0 ms: Couldn't connect to server\n"),
                7
            )
        );
        assert_eq!(
            printed(
                "curl -sS http://nowhere.example",
                &failed(ConnectionError::Unresolved, false)
            ),
            (
                s(""),
                s("curl: (6) Could not resolve host: nowhere.example\n"),
                6
            )
        );
        assert_eq!(
            printed("curl -sS -m 5 http://a", &failed(ConnectionError::Timeout, false)),
            (
                s(""),
                s("curl: (28) Operation timed out after 5000 milliseconds with 0 bytes received\n"),
                28
            )
        );
        assert_eq!(
            printed(
                "curl -sS -m 5 --connect-timeout 2 https://a",
                &failed(ConnectionError::Timeout, true)
            ),
            (
                s(""),
                s("curl: (28) Connection timed out after 2000 milliseconds\n"),
                28
            )
        );
        let line = format!("{PROBE} -m 0.5 http://a");
        assert_eq!(
            printed(&line, &failed(ConnectionError::Timeout, false)),
            (s("000\n"), s(""), 28)
        );
    }

    #[test]
    fn head_prints_status_and_headers_only() {
        assert_eq!(
            printed(
                "curl -sSI https://www.google.com",
                &response(200, "ignored")
            ),
            (
                s("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 7\r\n\r\n"),
                s(""),
                0
            )
        );
        assert_eq!(
            printed("curl -sI -o /dev/null http://a", &response(200, "x")),
            (s(""), s(""), 0)
        );
    }

    #[test]
    fn dump_header_prints_the_head_even_when_the_body_is_dropped() {
        let (out, _, code) = printed(
            "curl -s -o /dev/null -D - http://a",
            &response(403, "RBAC: access denied"),
        );
        assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out:?}");
        assert!(out.ends_with("\r\n\r\n"), "{out:?}");
        assert!(!out.contains("RBAC: access denied"), "{out:?}");
        assert_eq!(code, 0);
        let (out, _, _) = printed("curl -s -D - http://a", &response(200, "hello"));
        assert!(out.ends_with("\r\n\r\nhello"), "{out:?}");
    }

    #[test]
    fn include_prints_head_then_body() {
        assert_eq!(
            printed("curl -si http://a", &response(403, "RBAC: access denied")),
            (
                s("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 19\r\n\r\nRBAC: access denied"),
                s(""),
                0
            )
        );
    }

    #[test]
    fn fail_exits_22_without_the_body() {
        let denied = response(403, "RBAC: access denied");
        let msg = "curl: (22) The requested URL returned error: 403\n";
        assert_eq!(printed("curl -sf http://a", &denied), (s(""), s(""), 22));
        assert_eq!(printed("curl -fsS http://a", &denied), (s(""), s(msg), 22));
        assert_eq!(printed("curl -f http://a", &denied), (s(""), s(msg), 22));
        assert_eq!(
            printed(
                r#"curl -sf -w "%{http_code} %{exitcode}\n" http://a"#,
                &denied
            ),
            (s("403 22\n"), s(""), 22)
        );
        assert_eq!(
            printed("curl -sfi http://a", &denied),
            (
                s("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 19\r\n\r\n"),
                s(""),
                22
            )
        );
        assert_eq!(
            printed("curl -sf http://a", &response(302, "")),
            (s(""), s(""), 0)
        );
    }

    #[test]
    fn fail_with_body_prints_it() {
        assert_eq!(
            printed(
                "curl -sS --fail-with-body http://a",
                &response(503, "no healthy upstream")
            ),
            (
                s("no healthy upstream"),
                s("curl: (22) The requested URL returned error: 503\n"),
                22
            )
        );
        assert_eq!(
            printed(
                r#"curl -s --fail-with-body -w "%{errormsg}" http://a"#,
                &response(500, "")
            ),
            (s("HTTP response code said error"), s(""), 22)
        );
    }

    #[test]
    fn verbose_traces_the_exchange() {
        let (out, err, code) = printed("curl -sv http://httpbin.org/get", &response(200, "ok"));
        assert_eq!((out.as_str(), code), ("ok", 0));
        assert_eq!(
            err,
            "*   Trying httpbin.org:80...\n\
             * Connected to httpbin.org (httpbin.org) port 80\n\
             > GET /get HTTP/1.1\r\n\
             > Host: httpbin.org\r\n\
             > User-Agent: curl/8.5.0\r\n\
             > Accept: */*\r\n\
             > \r\n\
             < HTTP/1.1 200 OK\r\n\
             < content-type: text/plain\r\n\
             < content-length: 2\r\n\
             < \r\n\
             { [2 bytes data]\n\
             * Connection #0 to host httpbin.org left intact\n"
        );
    }

    #[test]
    fn verbose_on_failures() {
        let (_, err, _) = printed("curl -v http://a", &failed(ConnectionError::Reset, false));
        assert!(
            err.starts_with(
                "*   Trying a:80...\n* Connected to a (a) port 80\n> GET / HTTP/1.1\r\n"
            ),
            "{err}"
        );
        assert!(
            err.ends_with(
                "> \r\n* Recv failure: Connection reset by peer\n* Closing connection\n\
                 curl: (56) Recv failure: Connection reset by peer\n"
            ),
            "{err}"
        );
        let (_, err, _) = printed(
            "curl -sv http://a",
            &failed(ConnectionError::Refused, false),
        );
        assert_eq!(
            err,
            "*   Trying a:80...\n\
             * Failed to connect to a port 80 after 0 ms: Couldn't connect to server\n\
             * Closing connection\n"
        );
        let (_, err, _) = printed("curl -svf http://a", &response(403, "x"));
        assert!(
            err.ends_with("< \r\n* The requested URL returned error: 403\n* Closing connection\n"),
            "{err}"
        );
    }

    #[test]
    fn retry_repeats_transient_failures() {
        let (out, err, code) = printed(r#"curl -S --retry 2 http://a"#, &response(503, "busy\n"));
        assert_eq!(out, "busy\nbusy\nbusy\n");
        assert_eq!(
            err,
            "Warning: Problem : HTTP error. Will retry in 1 seconds. 2 retries left.\n\
             Warning: Problem : HTTP error. Will retry in 2 seconds. 1 retries left.\n"
        );
        assert_eq!(code, 0);
        let (_, err, code) = printed(
            "curl -sS --retry 1 -m 1 http://a",
            &failed(ConnectionError::Timeout, false),
        );
        assert_eq!(
            err,
            "curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received\n\
             curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received\n"
        );
        assert_eq!(code, 28);
        let reset = failed(ConnectionError::Reset, false);
        assert_eq!(
            printed("curl -s --retry 3 http://a", &reset),
            (s(""), s(""), 56)
        );
        assert_eq!(
            printed(
                r#"curl -s --retry 3 -w "%{http_code}" http://a"#,
                &response(200, "")
            ),
            (s("200"), s(""), 0)
        );
    }

    #[test]
    fn write_out_variables_after_the_body() {
        assert_eq!(
            printed(
                r#"curl -s -X POST -d a=1 -w "\n%{method} %{scheme} %{url_effective} %{size_download}\n" http://httpbin.org/post"#,
                &response(200, "{}")
            ),
            (s("{}\nPOST HTTP http://httpbin.org/post 2\n"), s(""), 0)
        );
        assert_eq!(
            printed(
                r#"curl -sI -w "%{size_download}" http://a"#,
                &response(200, "abc")
            )
            .0,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\n0"
        );
    }
}
