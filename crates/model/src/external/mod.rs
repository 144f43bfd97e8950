//! The world outside the mesh, as a pure description: which hosts exist, what their names resolve
//! to, which ports they listen on with or without TLS, and what they answer.
//!
//! Owns: `Internet` (hosts, fake DNS, `serve`), `ExternalHost` / `ExternalPort` / `App`, `Arrival`
//! (what reaches a host on one connection) and `Served` (what the host does with it), and the
//! applications themselves: a reimplementation of httpbin.org, Istio's echo server (which `pods`
//! runs in the cluster's pods, served by this same machinery) and fixed pages. Everything here is a
//! value computed from values — no sockets, clocks or randomness (`/delay/{n}` is reported as
//! `delay_ms`, not slept) — so that a simulated mesh can later serve the same descriptions over real
//! sockets. Leaves out: how a request travels through proxies to get here (`decide`) and how the host's
//! answer becomes what the client sees (`answer`).
//!
//! Built-in hosts (`Internet::builtin()`, also `Default`):
//!
//! | Names                              | Address        | Ports             | Answers                                  |
//! |------------------------------------|----------------|-------------------|------------------------------------------|
//! | `httpbin.org`, `www.httpbin.org`   | 203.0.113.10   | 80, 443 (TLS)     | httpbin (see `App::Httpbin`)             |
//! | `www.alibabacloud.com`             | 203.0.113.20   | 443 (TLS) only    | 200 HTML page; port 80 is refused        |
//! | `www.aliyun.com`                   | 203.0.113.21   | 80, 443 (TLS)     | 200 HTML page                            |
//! | `www.baidu.com`                    | 203.0.113.30   | 80, 443 (TLS)     | 200 HTML page                            |
//! | `edition.cnn.com`                  | 203.0.113.40   | 80, 443 (TLS)     | 80: 301 to https://; 443: 200 HTML page  |
//! | `www.google.com`                   | 203.0.113.50   | 80, 443 (TLS)     | 200 HTML page                            |
//! | `istio.io`                         | 203.0.113.60   | 80, 443 (TLS)     | 200 HTML page                            |
//!
//! Any other public name a scenario or a command names can be given a generic web site
//! (`web_site`: 200 on 80 and on 443 over TLS, at an address derived from the name), so that users'
//! own hosts work without declaring them; `is_public_name` says which names are public (not the
//! reserved `.example`, `.test`, `.invalid`, `.localhost`, `.local`, `.internal` names, not a
//! Kubernetes name).
//!
//! Connection outcomes (`Internet::serve`): an unknown name is `Unresolved`; an address literal with
//! no host is `NoRoute`; a port nobody listens on is `Refused`; TLS to a plain port, or an SNI the
//! server does not serve, is `Reset`; plain HTTP to a TLS port is nginx's `400 The plain HTTP request
//! was sent to HTTPS port`; a stream with no HTTP in it (in plain text or inside the host's TLS) gets
//! nginx's `400 Bad Request` and is closed, as a web server does with bytes it cannot parse.
//!
//! httpbin's `url` field says `https://` only when the connection that reached the host was TLS: the
//! load balancer in front of httpbin.org overwrites `X-Forwarded-Proto` (see `httpbin/front.rs`).

mod app;
mod arrival;
mod builtin;
mod echo;
pub mod forward;
mod host;
mod httpbin;
mod internet;
mod served;
pub mod tls;

pub use arrival::{Arrival, ArrivedRequest, TlsHello, DEFAULT_PEER};
pub use builtin::{is_public_name, web_site};
pub use echo::EchoServer;
pub use forward::ForwardProxyServer;
pub use host::{normalize_name, Answer, App, ExternalHost, ExternalPort, Site};
pub use httpbin::MAX_DELAY_MS;
pub use internet::Internet;
pub use served::{not_http, plain_http_to_tls, Served, BAD_REQUEST_BODY, PLAIN_HTTP_TO_TLS_BODY};
