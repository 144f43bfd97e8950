//! curl's `-v` trace on stderr, line by line, in curl 8.5's shapes.
//!
//! Owns: `* ` info lines, `> ` request lines and `< ` response lines (header lines keep their CRLF,
//! as curl passes the raw header bytes through), and the `} [N bytes data]` / `{ [N bytes data]`
//! markers curl writes when its stdout is not a terminal. The bench does not know addresses, so
//! the host name stands where curl prints the IP (`Connected to httpbin.org (httpbin.org) port
//! 80`) unless `--resolve`/`--connect-to` named the address or host to connect to, and TLS
//! handshake lines are not traced. Leaves out: deciding which lines an exchange
//! produces (`output`).

use super::curl::CurlOptions;
use super::headers::request_headers;
use super::status::head_lines;
use super::streams::{Emitted, Stream};
use egressbench_model::outcome::{HttpResponse, HttpVersion};
use egressbench_model::request::ClientRequest;

/// A `* ` info line.
pub(crate) fn info(e: &mut Emitted, text: &str) {
    e.write(Stream::Stderr, format!("* {text}\n"));
}

/// The lines of a TCP connect that succeeded.
pub(crate) fn connected(e: &mut Emitted, req: &ClientRequest) {
    trying(e, req);
    info(
        e,
        &format!(
            "Connected to {} ({}) port {}",
            req.host,
            req.dial_host(),
            req.dial_port()
        ),
    );
}

/// The line of a connect attempt.
pub(crate) fn trying(e: &mut Emitted, req: &ClientRequest) {
    e.write(
        Stream::Stderr,
        format!("*   Trying {}:{}...\n", req.dial_host(), req.dial_port()),
    );
}

/// The request as sent: request line (in the version the exchange used), Host, the other
/// headers, the blank line, the body marker.
pub(crate) fn request(e: &mut Emitted, o: &CurlOptions, req: &ClientRequest, version: HttpVersion) {
    let mut lines = vec![
        format!("{} {} {}", req.method, req.path, version.as_str()),
        format!("Host: {}", req.authority()),
    ];
    lines.extend(
        request_headers(o, true)
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}")),
    );
    lines.push(String::new());
    for line in lines {
        e.write(Stream::Stderr, format!("> {line}\r\n"));
    }
    if let Some(body) = req.body.as_deref().filter(|b| !b.is_empty()) {
        e.write(Stream::Stderr, format!("}} [{} bytes data]\n", body.len()));
    }
}

/// The response head as received.
pub(crate) fn response_head(e: &mut Emitted, r: &HttpResponse) {
    for line in head_lines(r).into_iter().chain([String::new()]) {
        e.write(Stream::Stderr, format!("< {line}\r\n"));
    }
}

/// The marker for body bytes received.
pub(crate) fn data_in(e: &mut Emitted, bytes: usize) {
    if bytes > 0 {
        e.write(Stream::Stderr, format!("{{ [{bytes} bytes data]\n"));
    }
}

/// The last line of a transfer that kept its connection.
pub(crate) fn left_intact(e: &mut Emitted, req: &ClientRequest) {
    info(
        e,
        &format!("Connection #0 to host {} left intact", req.host),
    );
}

/// The last line of a transfer that closed its connection.
pub(crate) fn closing(e: &mut Emitted) {
    info(e, "Closing connection");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::headers::build_request;
    use crate::command::words::split_words;

    fn options(line: &str) -> CurlOptions {
        CurlOptions::parse(&split_words(line).unwrap()[1..]).unwrap()
    }

    #[test]
    fn request_lines_end_in_crlf_and_carry_content_length() {
        let o = options(r#"curl -v -H "x: y" -d '{}' http://httpbin.org:8000/post"#);
        let req = build_request(&o).unwrap();
        let mut e = Emitted::default();
        request(&mut e, &o, &req, HttpVersion::Http11);
        assert_eq!(
            e.text(Stream::Stderr),
            "> POST /post HTTP/1.1\r\n\
             > Host: httpbin.org:8000\r\n\
             > User-Agent: curl/8.5.0\r\n\
             > Accept: */*\r\n\
             > x: y\r\n\
             > Content-Length: 2\r\n\
             > Content-Type: application/x-www-form-urlencoded\r\n\
             > \r\n\
             } [2 bytes data]\n"
        );
    }

    #[test]
    fn response_and_info_lines() {
        let mut e = Emitted::default();
        let req = ClientRequest::get(egressbench_model::request::Scheme::Http, "a", 80, "/");
        connected(&mut e, &req);
        response_head(&mut e, &HttpResponse::new(200, "text/plain", "hi"));
        data_in(&mut e, 2);
        data_in(&mut e, 0);
        left_intact(&mut e, &req);
        assert_eq!(
            e.text(Stream::Stderr),
            "*   Trying a:80...\n\
             * Connected to a (a) port 80\n\
             < HTTP/1.1 200 OK\r\n\
             < content-type: text/plain\r\n\
             < content-length: 2\r\n\
             < \r\n\
             { [2 bytes data]\n\
             * Connection #0 to host a left intact\n"
        );
    }
}
