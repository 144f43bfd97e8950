//! One curl in a command line, run: its request sent over a `Network`, redirects followed under
//! `-L`, and what curl prints for the whole transfer.
//!
//! Owns: `Network` (what a target offers a command: send one request, get its result, or
//! `Aborted` when the target cannot), `Curl` (the options and the first request) and the transfer
//! loop: each response `-L` follows makes the next request (`redirect`), up to `--max-redirs`
//! (curl's 50 by default; one more is exit 47, "Maximum (N) redirects followed"), within `-m` for
//! the whole transfer (exit 28 when the hops used it up). Leaves out:
//! the redirect rules (`redirect`) and the printout (`output`).

use super::curl::{CurlOptions, DEFAULT_MAX_REDIRECTS};
use super::output::{curl_output, Hop, Stopped};
use super::redirect::{next_request, Unfollowable};
use super::streams::Emitted;
use egressbench_model::outcome::ClientResult;
use egressbench_model::request::ClientRequest;

/// The target could not make a request (it keeps the reason); the command stops there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

/// What one request got, as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub result: ClientResult,
    /// How long it took, in simulated milliseconds.
    pub elapsed_ms: u64,
    /// The address and port the client connected to (`%{remote_ip}`, `%{remote_port}`).
    pub remote: Option<std::net::SocketAddr>,
}

impl Received {
    /// A result that took no time, from no known address.
    pub fn at_once(result: ClientResult) -> Received {
        Received {
            result,
            elapsed_ms: 0,
            remote: None,
        }
    }
}

/// Where a command's requests go: a target, as seen from the workload the command runs in.
pub trait Network {
    /// Send `request` and return what the client got.
    fn send(&mut self, request: &ClientRequest) -> Result<Received, Aborted>;
}

/// A curl on a command line: its options and the request it makes first.
#[derive(Debug, Clone, PartialEq)]
pub struct Curl {
    pub options: CurlOptions,
    pub request: ClientRequest,
}

impl Curl {
    /// Run the transfer on `net` and return what curl prints and its exit code.
    pub fn run(&self, net: &mut dyn Network) -> Result<Emitted, Aborted> {
        let o = &self.options;
        let limit = o.max_redirects.unwrap_or(DEFAULT_MAX_REDIRECTS);
        let mut hops: Vec<Hop> = Vec::new();
        let mut request = self.request.clone();
        let mut stopped: Option<Stopped> = None;
        let mut spent_ms: u64 = 0;
        loop {
            let Received {
                result,
                elapsed_ms,
                remote,
            } = net.send(&request)?;
            let next = match (&result, o.follow_redirects) {
                (ClientResult::Response(r), true) => next_request(o, &self.request, &request, r),
                _ => None,
            };
            // `-m` bounds the whole transfer: what the hops took comes off the next one's limit.
            spent_ms += elapsed_ms;
            let followed = hops.len();
            hops.push(Hop {
                request,
                result,
                elapsed_ms,
                remote,
            });
            match next {
                None => break,
                Some(Err(Unfollowable::BadLocation(code, message))) => {
                    stopped = Some((code, message));
                    break;
                }
                Some(Ok(_)) if followed >= limit as usize => {
                    stopped = Some((47, format!("Maximum ({limit}) redirects followed")));
                    break;
                }
                Some(Ok(mut next)) => {
                    if let Some(limit_ms) = o.max_time_ms {
                        let left = limit_ms.saturating_sub(spent_ms);
                        if left == 0 {
                            stopped = Some((
                                28,
                                format!("Operation timed out after {limit_ms} milliseconds"),
                            ));
                            break;
                        }
                        next.timeout_ms = Some(left);
                    }
                    request = next;
                }
            }
        }
        Ok(curl_output(o, &hops, stopped.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::headers::build_request;
    use crate::command::streams::Stream;
    use crate::command::words::split_words;
    use egressbench_model::outcome::HttpResponse;

    /// A network where every host redirects `/r/N` to `/r/N-1` and answers `/r/0` with 200.
    struct Redirects {
        sent: Vec<String>,
    }

    impl Network for Redirects {
        fn send(&mut self, request: &ClientRequest) -> Result<Received, Aborted> {
            self.sent
                .push(format!("{} {}", request.method, request.url()));
            let n: u32 = request
                .path
                .strip_prefix("/r/")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let response = if n == 0 {
                HttpResponse::new(200, "text/plain", "done\n")
            } else {
                let mut r = HttpResponse::new(302, "text/html", "moved");
                r.headers.push(("location".into(), format!("/r/{}", n - 1)));
                r
            };
            Ok(Received {
                result: ClientResult::Response(response),
                elapsed_ms: 250,
                remote: Some("203.0.113.7:80".parse().expect("an address")),
            })
        }
    }

    fn run(line: &str) -> (Emitted, Vec<String>) {
        let options = CurlOptions::parse(&split_words(line).unwrap()[1..]).unwrap();
        let request = build_request(&options).unwrap();
        let mut net = Redirects { sent: Vec::new() };
        let out = Curl { options, request }.run(&mut net).unwrap();
        (out, net.sent)
    }

    #[test]
    fn without_l_the_redirect_is_the_answer() {
        let (out, sent) = run("curl -s -w '%{http_code} %{redirect_url}' http://a.test/r/2");
        assert_eq!(sent.len(), 1);
        assert_eq!(out.text(Stream::Stdout), "moved302 http://a.test/r/1");
    }

    #[test]
    fn l_follows_to_the_end_and_prints_every_head() {
        let (out, sent) = run("curl -sL -D - -o /dev/null -w '%{http_code} %{num_redirects} %{url_effective} %{time_total}' http://a.test/r/2");
        assert_eq!(
            sent,
            [
                "GET http://a.test/r/2",
                "GET http://a.test/r/1",
                "GET http://a.test/r/0"
            ]
        );
        let stdout = out.text(Stream::Stdout);
        assert_eq!(
            stdout.matches("HTTP/1.1 302 Found\r\n").count(),
            2,
            "{stdout}"
        );
        assert!(stdout.contains("location: /r/0\r\n"), "{stdout}");
        assert!(
            stdout.ends_with("\r\n200 2 http://a.test/r/0 0.750000"),
            "{stdout}"
        );
        assert_eq!(out.elapsed_ms, 750, "three requests of 250 ms");
        assert!(
            !stdout.contains("moved"),
            "redirect bodies are skipped: {stdout}"
        );
        assert_eq!(out.exit_code, 0);
    }

    #[test]
    fn max_time_bounds_the_whole_transfer() {
        // Each hop takes 250 ms: the third would start after 500 ms of a 600 ms limit, with
        // 100 ms left, and the one after has none.
        let (out, sent) = run("curl -sSL -m 0.6 http://a.test/r/5");
        assert_eq!(sent.len(), 3);
        assert_eq!(out.exit_code, 28);
        assert!(
            out.text(Stream::Stderr).contains("timed out after 600"),
            "{:?}",
            out
        );
    }

    #[test]
    fn max_redirs_ends_with_exit_47() {
        let (out, sent) = run("curl -sSL --max-redirs 1 http://a.test/r/5");
        assert_eq!(sent.len(), 2);
        assert_eq!(out.exit_code, 47);
        assert_eq!(
            out.text(Stream::Stderr),
            "curl: (47) Maximum (1) redirects followed\n"
        );
        let (out, sent) = run("curl -sL http://a.test/r/60");
        assert_eq!((sent.len(), out.exit_code), (51, 47));
        let (out, _) = run("curl -sL --max-redirs 0 http://a.test/r/0");
        assert_eq!(out.exit_code, 0);
    }
}
