//! curl's `-w/--write-out` format: parsed when the command is read, rendered after the transfer.
//!
//! Owns: the format's pieces (text, `%{variable}`, `%header{name}`, `%{stdout}`/`%{stderr}`/
//! `%{onerror}`), curl's escapes (`\n`, `\r`, `\t`, `%%`; any other `\x` and stray `%x` print as
//! written) and each variable's value. Unknown variables are an error here, where curl would only
//! warn, so a typo cannot pass a scenario. Leaves out: when the write-out runs (`output`).

use super::error::CommandError;
use super::streams::{Emitted, Stream};
use egressbench_model::outcome::HttpResponse;
use egressbench_model::request::ClientRequest;

/// A parsed `-w` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOut {
    pub parts: Vec<WritePart>,
}

/// One piece of a `-w` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WritePart {
    Text(String),
    Var(WriteVar),
    /// `%header{name}`: the response header's value, nothing when absent.
    Header(String),
    /// `%{stdout}` / `%{stderr}`: where the rest of the output goes.
    SwitchTo(Stream),
    /// `%{onerror}`: the rest is written only when the transfer failed.
    OnError,
}

/// The `%{…}` variables the bench can give values to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteVar {
    /// `http_code` / `response_code`: three digits, `000` when no response came.
    HttpCode,
    /// `exitcode`: curl's exit code.
    ExitCode,
    /// `errormsg`: the error's text, empty on success.
    ErrorMsg,
    /// `url_effective`: the URL requested, normalized.
    UrlEffective,
    /// `url`: the URL as written on the command line.
    Url,
    /// `method`: the request method.
    Method,
    /// `scheme`: `HTTP` or `HTTPS`, uppercase as curl 8.5 prints it.
    Scheme,
    /// `content_type`: the response's Content-Type, empty when absent.
    ContentType,
    /// `size_download`: body bytes received.
    SizeDownload,
    /// `num_redirects`: redirects `-L` followed.
    NumRedirects,
    /// `http_version`: `1.1` or `2`, `0` when no response came.
    HttpVersion,
    /// `redirect_url`: the `Location` of a redirect that was not followed (no `-L`).
    RedirectUrl,
    /// `time_total`: the whole transfer, in seconds with six decimals.
    TimeTotal,
    /// `remote_ip`: the address connected to (empty when none was).
    RemoteIp,
    /// `remote_port`: its port.
    RemotePort,
    /// `ssl_verify_result`: 0, the certificate checked out (every server's certificate here is
    /// signed by a CA the client trusts; a failed handshake is a connection error instead).
    SslVerifyResult,
}

const VARIABLES: [(&str, WriteVar); 17] = [
    ("content_type", WriteVar::ContentType),
    ("errormsg", WriteVar::ErrorMsg),
    ("exitcode", WriteVar::ExitCode),
    ("http_code", WriteVar::HttpCode),
    ("http_version", WriteVar::HttpVersion),
    ("method", WriteVar::Method),
    ("num_redirects", WriteVar::NumRedirects),
    ("redirect_url", WriteVar::RedirectUrl),
    ("remote_ip", WriteVar::RemoteIp),
    ("remote_port", WriteVar::RemotePort),
    ("response_code", WriteVar::HttpCode),
    ("scheme", WriteVar::Scheme),
    ("size_download", WriteVar::SizeDownload),
    ("ssl_verify_result", WriteVar::SslVerifyResult),
    ("time_total", WriteVar::TimeTotal),
    ("url", WriteVar::Url),
    ("url_effective", WriteVar::UrlEffective),
];

/// For error messages: every variable name the bench accepts.
pub(crate) const SUPPORTED: &str =
    "content_type, errormsg, exitcode, http_code, http_version, method, num_redirects, \
     redirect_url, remote_ip, remote_port, response_code, scheme, size_download, \
     ssl_verify_result, time_total, url, url_effective, stdout, stderr, onerror, and \
     %header{NAME}";

/// What a transfer produced, for the variables to read.
#[derive(Debug, Clone, Copy)]
pub struct Transfer<'a> {
    pub request: &'a ClientRequest,
    /// The URL as written on the command line.
    pub url_as_written: &'a str,
    pub response: Option<&'a HttpResponse>,
    /// Body bytes received.
    pub downloaded: usize,
    pub exit_code: i32,
    /// The error text curl reports (without `curl: (N) `), if the transfer failed.
    pub error: Option<&'a str>,
    /// Redirects `-L` followed.
    pub redirects: usize,
    /// How long the transfer took, in simulated milliseconds.
    pub elapsed_ms: u64,
    /// The address connected to last.
    pub remote: Option<std::net::SocketAddr>,
}

impl WriteOut {
    /// Parse a `-w` argument.
    pub fn parse(format: &str) -> Result<WriteOut, CommandError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = format;
        while let Some(c) = rest.chars().next() {
            if c == '%' && rest.len() > 1 {
                let (part, used) = percent(rest, format)?;
                match part {
                    Some(p) => {
                        flush(&mut text, &mut parts);
                        parts.push(p);
                    }
                    None => text.push_str(&literal_percent(&rest[..used])),
                }
                rest = &rest[used..];
            } else if c == '\\' && rest.len() > 1 {
                let next = rest[1..].chars().next().unwrap_or_default();
                match next {
                    'n' => text.push('\n'),
                    'r' => text.push('\r'),
                    't' => text.push('\t'),
                    other => {
                        text.push('\\');
                        text.push(other);
                    }
                }
                rest = &rest[1 + next.len_utf8()..];
            } else {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        flush(&mut text, &mut parts);
        Ok(WriteOut { parts })
    }

    /// The write-out's output for one transfer.
    pub fn render(&self, t: &Transfer<'_>) -> Emitted {
        let mut out = Emitted::default();
        let mut stream = Stream::Stdout;
        for part in &self.parts {
            match part {
                WritePart::Text(s) => out.write(stream, s),
                WritePart::Var(v) => out.write(stream, value(*v, t)),
                WritePart::Header(name) => {
                    let v = t.response.and_then(|r| r.header(name)).unwrap_or_default();
                    out.write(stream, v);
                }
                WritePart::SwitchTo(s) => stream = *s,
                WritePart::OnError if t.exit_code == 0 => break,
                WritePart::OnError => {}
            }
        }
        out
    }
}

fn flush(text: &mut String, parts: &mut Vec<WritePart>) {
    if !text.is_empty() {
        parts.push(WritePart::Text(std::mem::take(text)));
    }
}

/// `%%` prints one `%`; a `%{` or `%header{` without its `}` and any other `%x` print as written.
fn literal_percent(s: &str) -> String {
    if s == "%%" {
        "%".into()
    } else {
        s.into()
    }
}

/// Read the `%…` sequence at the start of `rest`: the part it makes (None: literal text) and the
/// bytes it used.
fn percent(rest: &str, format: &str) -> Result<(Option<WritePart>, usize), CommandError> {
    let after = &rest[1..];
    if after.starts_with('%') {
        return Ok((None, 2));
    }
    if let Some(inner) = after.strip_prefix('{') {
        let Some(close) = inner.find('}') else {
            return Ok((None, 2));
        };
        let name = &inner[..close];
        let used = 2 + close + 1;
        let part = match name.to_ascii_lowercase().as_str() {
            "stdout" => WritePart::SwitchTo(Stream::Stdout),
            "stderr" => WritePart::SwitchTo(Stream::Stderr),
            "onerror" => WritePart::OnError,
            lower => match VARIABLES.iter().find(|(n, _)| *n == lower) {
                Some((_, v)) => WritePart::Var(*v),
                None => {
                    return Err(CommandError::WriteOutVariable {
                        format: format.to_string(),
                        name: name.to_string(),
                        supported: SUPPORTED,
                    })
                }
            },
        };
        return Ok((Some(part), used));
    }
    if let Some(inner) = after.strip_prefix("header{") {
        return Ok(match inner.find('}') {
            Some(close) => (
                Some(WritePart::Header(inner[..close].to_string())),
                8 + close + 1,
            ),
            None => (None, 8),
        });
    }
    if after.starts_with("output{") {
        return Err(CommandError::Usage {
            program: "curl",
            message: format!(
                "-w format `{format}` uses %output{{…}}, which writes a file the bench cannot \
                 show; print to stdout or use %{{stderr}}"
            ),
        });
    }
    let next = after.chars().next().map_or(0, char::len_utf8);
    Ok((None, 1 + next))
}

fn value(v: WriteVar, t: &Transfer<'_>) -> String {
    match v {
        WriteVar::HttpCode => format!("{:03}", t.response.map_or(0, |r| r.status)),
        WriteVar::ExitCode => t.exit_code.to_string(),
        WriteVar::ErrorMsg => t.error.unwrap_or_default().to_string(),
        WriteVar::UrlEffective => t.request.url(),
        WriteVar::Url => t.url_as_written.to_string(),
        WriteVar::Method => t.request.method.clone(),
        WriteVar::Scheme => t.request.scheme.as_str().to_ascii_uppercase(),
        WriteVar::ContentType => t
            .response
            .and_then(|r| r.header("content-type"))
            .unwrap_or_default()
            .to_string(),
        WriteVar::SizeDownload => t.downloaded.to_string(),
        WriteVar::NumRedirects => t.redirects.to_string(),
        WriteVar::HttpVersion => match t.response.map(|r| r.version) {
            None => "0".into(),
            Some(egressbench_model::outcome::HttpVersion::Http11) => "1.1".into(),
            Some(egressbench_model::outcome::HttpVersion::Http2) => "2".into(),
        },
        WriteVar::TimeTotal => format!("{}.{:03}000", t.elapsed_ms / 1000, t.elapsed_ms % 1000),
        WriteVar::RemoteIp => t.remote.map(|a| a.ip().to_string()).unwrap_or_default(),
        WriteVar::RemotePort => t.remote.map_or(0, |a| a.port()).to_string(),
        WriteVar::SslVerifyResult => "0".into(),
        WriteVar::RedirectUrl => t
            .response
            .filter(|r| (300..400).contains(&r.status))
            .and_then(|r| r.header("location"))
            .map(|l| super::redirect::absolute_url(t.request, l))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::request::Scheme;

    fn request() -> ClientRequest {
        ClientRequest::get(Scheme::Https, "www.httpbin.org", 443, "/get")
    }

    fn render(format: &str, response: Option<&HttpResponse>, exit_code: i32) -> Emitted {
        let req = request();
        let t = Transfer {
            request: &req,
            url_as_written: "https://WWW.httpbin.org/get",
            response,
            downloaded: response.map_or(0, |r| r.body.len()),
            exit_code,
            error: (exit_code != 0).then_some("Recv failure: Connection reset by peer"),
            redirects: 0,
            elapsed_ms: 3149,
            remote: Some("203.0.113.10:443".parse().unwrap()),
        };
        WriteOut::parse(format).unwrap().render(&t)
    }

    fn stdout(format: &str, response: Option<&HttpResponse>, exit_code: i32) -> String {
        render(format, response, exit_code).text(Stream::Stdout)
    }

    #[test]
    fn http_code_has_three_digits() {
        let ok = HttpResponse::new(200, "text/plain", "hi");
        assert_eq!(stdout(r"%{http_code}\n", Some(&ok), 0), "200\n");
        assert_eq!(stdout(r"%{http_code}\n", None, 56), "000\n");
        assert_eq!(stdout("%{response_code}", None, 56), "000");
    }

    #[test]
    fn variables_give_the_transfer_facts() {
        let ok = HttpResponse::new(404, "application/json", "{}");
        assert_eq!(
            stdout(
                r"%{method} %{scheme} %{url_effective} %{url} %{exitcode} %{content_type} %{size_download}\t%header{Content-Length}",
                Some(&ok),
                0
            ),
            "GET HTTPS https://www.httpbin.org/get https://WWW.httpbin.org/get 0 application/json 2\t2"
        );
        assert_eq!(stdout("[%{errormsg}]", Some(&ok), 0), "[]");
        assert_eq!(
            stdout("%{errormsg} %{exitcode}", None, 56),
            "Recv failure: Connection reset by peer 56"
        );
    }

    #[test]
    fn timing_and_peer_variables() {
        let ok = HttpResponse::new(200, "text/plain", "hi");
        assert_eq!(
            stdout(
                "%{time_total} %{remote_ip} %{remote_port} %{ssl_verify_result} %{http_version}",
                Some(&ok),
                0
            ),
            "3.149000 203.0.113.10 443 0 1.1"
        );
    }

    #[test]
    fn variable_names_ignore_case() {
        assert_eq!(stdout("%{HTTP_CODE}", None, 7), "000");
    }

    #[test]
    fn escapes_and_literals_print_like_curl() {
        assert_eq!(stdout(r"a\tb\r\n\x\\", None, 0), "a\tb\r\n\\x\\\\");
        assert_eq!(stdout("100%% %d %{oops", None, 0), "100% %d %{oops");
        assert_eq!(stdout("end%", None, 0), "end%");
        assert_eq!(stdout(r"end\", None, 0), "end\\");
        assert_eq!(stdout("%header{x", None, 0), "%header{x");
        assert_eq!(stdout("%header{x-missing}.", None, 0), ".");
    }

    #[test]
    fn stream_switches_and_onerror() {
        let e = render(r"%{http_code}%{stderr}oops\n%{stdout}!", None, 7);
        assert_eq!(e.text(Stream::Stdout), "000!");
        assert_eq!(e.text(Stream::Stderr), "oops\n");
        assert_eq!(stdout("a%{onerror}b", None, 0), "a");
        assert_eq!(stdout("a%{onerror}b", None, 7), "ab");
    }

    #[test]
    fn unknown_variables_are_errors() {
        let err = WriteOut::parse(r"%{http_cod}\n").unwrap_err().to_string();
        assert!(err.contains("`%{http_cod}`"), "{err}");
        assert!(err.contains("http_code"), "{err}");
        let err = WriteOut::parse("%{time_connect}").unwrap_err().to_string();
        assert!(
            err.contains("time_connect") && err.contains("time_total"),
            "{err}"
        );
        let err = WriteOut::parse("%output{/tmp/x}").unwrap_err().to_string();
        assert!(err.contains("%output"), "{err}");
    }
}
