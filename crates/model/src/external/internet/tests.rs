//! Tests for `Internet`: DNS, adding hosts, and every connection outcome of `serve`.

use super::*;
use crate::external::host::App;
use crate::request::{ClientRequest, Scheme};
use serde_json::Value;

fn get(authority: &str, path: &str) -> ArrivedRequest {
    ArrivedRequest::new("GET", path, authority)
}

fn url_field(served: &Served) -> String {
    let body = served.response().map_or("", |r| r.body.as_str());
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v["url"].as_str().unwrap_or_default().to_string()
}

#[test]
fn builtin_hosts_resolve_and_aliases_share_an_address() {
    let net = Internet::default();
    assert_eq!(net, Internet::builtin());
    assert_eq!(
        net.resolve("httpbin.org"),
        Some(Ipv4Addr::new(203, 0, 113, 10))
    );
    assert_eq!(
        net.resolve("WWW.HTTPBIN.ORG."),
        Some(Ipv4Addr::new(203, 0, 113, 10))
    );
    assert!(net.names_sharing_address("httpbin.org", "www.httpbin.org"));
    assert!(!net.names_sharing_address("httpbin.org", "www.google.com"));
    assert!(!net.names_sharing_address("httpbin.org", "nowhere.example"));
    assert_eq!(net.resolve("nowhere.example"), None);
    assert_eq!(net.resolve("192.0.2.1"), Some(Ipv4Addr::new(192, 0, 2, 1)));
    let names: Vec<&str> = net.hosts().map(ExternalHost::name).collect();
    assert_eq!(
        names,
        [
            "httpbin.org",
            "www.alibabacloud.com",
            "www.aliyun.com",
            "www.baidu.com",
            "edition.cnn.com",
            "www.google.com",
            "istio.io"
        ]
    );
    assert_eq!(
        net.host("Www.Httpbin.Org").map(ExternalHost::name),
        Some("httpbin.org")
    );
    assert_eq!(net.hosts_at(Ipv4Addr::new(203, 0, 113, 10)).count(), 1);
}

#[test]
fn every_builtin_host_answers_on_its_ports() {
    let net = Internet::builtin();
    for host in net.hosts() {
        for port in host.ports() {
            let name = host.name();
            let arrival = if port.tls {
                Arrival::https(port.port, Some(name), get(name, "/"))
            } else {
                Arrival::http(port.port, get(name, "/"))
            };
            // edition.cnn.com moves plain HTTP to HTTPS, as the real site does.
            let expected = if name == "edition.cnn.com" && !port.tls {
                301
            } else {
                200
            };
            assert_eq!(
                net.serve(name, &arrival).status(),
                Some(expected),
                "{name}:{}",
                port.port
            );
        }
    }
}

#[test]
fn alibabacloud_refuses_port_80() {
    let net = Internet::builtin();
    let arrival = Arrival::http(80, get("www.alibabacloud.com", "/"));
    assert_eq!(net.serve("www.alibabacloud.com", &arrival), Served::Refused);
    assert_eq!(
        net.serve("httpbin.org", &Arrival::tcp_stream(8080)),
        Served::Refused
    );
}

#[test]
fn unknown_names_and_empty_addresses() {
    let net = Internet::builtin();
    let arrival = Arrival::http(80, get("nowhere.example", "/"));
    assert_eq!(net.serve("nowhere.example", &arrival), Served::Unresolved);
    assert_eq!(net.serve("192.0.2.99", &arrival), Served::NoRoute);
    assert_eq!(
        Internet::empty().serve("httpbin.org", &arrival),
        Served::Unresolved
    );
}

#[test]
fn tls_to_a_plain_port_resets_and_plain_http_to_tls_gets_400() {
    let net = Internet::builtin();
    let tls_on_80 = Arrival::https(80, Some("httpbin.org"), get("httpbin.org", "/get"));
    assert_eq!(net.serve("httpbin.org", &tls_on_80), Served::Reset);
    assert_eq!(
        net.serve("httpbin.org", &Arrival::tls_stream(80, None)),
        Served::Reset
    );

    let plain_on_443 = Arrival::http(443, get("httpbin.org:443", "/get"));
    let served = net.serve("httpbin.org", &plain_on_443);
    assert_eq!(served, Served::now(plain_http_to_tls()));
    assert_eq!(served.status(), Some(400));
    assert!(served.response().is_some_and(|r| r
        .body
        .contains("The plain HTTP request was sent to HTTPS port")));
}

#[test]
fn sni_must_name_the_host() {
    let net = Internet::builtin();
    let wrong = Arrival::https(443, Some("www.google.com"), get("httpbin.org", "/get"));
    assert_eq!(net.serve("httpbin.org", &wrong), Served::Reset);
    let alias = Arrival::https(443, Some("www.httpbin.org"), get("www.httpbin.org", "/get"));
    assert_eq!(net.serve("httpbin.org", &alias).status(), Some(200));
    let none = Arrival::https(443, None, get("httpbin.org", "/get"));
    assert_eq!(net.serve("203.0.113.10", &none).status(), Some(200));
}

#[test]
fn streams_without_http_get_nginxs_bad_request() {
    let net = Internet::builtin();
    let bad_request = Served::now(not_http());
    assert_eq!(
        net.serve("httpbin.org", &Arrival::tcp_stream(80)),
        bad_request
    );
    let tls = Arrival::tls_stream(443, Some("httpbin.org"));
    assert_eq!(net.serve("httpbin.org", &tls), bad_request);
    assert_eq!(
        net.serve("httpbin.org", &Arrival::tcp_stream(443)),
        bad_request
    );
    let wrong_sni = Arrival::tls_stream(443, Some("other.example"));
    assert_eq!(net.serve("httpbin.org", &wrong_sni), Served::Reset);
}

#[test]
fn url_scheme_is_https_only_over_a_tls_hop() {
    let net = Internet::builtin();
    let spoofed = get("httpbin.org", "/anything").with_header("X-Forwarded-Proto", "https");
    let plain = net.serve("httpbin.org", &Arrival::http(80, spoofed));
    assert_eq!(url_field(&plain), "http://httpbin.org/anything");

    // TLS origination at a gateway: the request was plain HTTP to port 80 at the client, the last
    // hop is TLS to 443 with the original Host.
    let originated = Arrival::https(443, Some("httpbin.org"), get("httpbin.org", "/anything"));
    assert_eq!(
        url_field(&net.serve("httpbin.org", &originated)),
        "https://httpbin.org/anything"
    );

    let direct = Arrival::direct(&ClientRequest::get(
        Scheme::Https,
        "www.httpbin.org",
        443,
        "/get",
    ));
    assert_eq!(
        url_field(&net.serve("www.httpbin.org", &direct)),
        "https://www.httpbin.org/get"
    );
}

#[test]
fn origin_is_the_source_address() {
    let net = Internet::builtin();
    let arrival =
        Arrival::http(80, get("httpbin.org", "/ip")).from_source(Ipv4Addr::new(192, 0, 2, 44));
    let body = net
        .serve("httpbin.org", &arrival)
        .response()
        .map(|r| r.body.clone());
    assert_eq!(
        body.as_deref(),
        Some("{\n  \"origin\": \"192.0.2.44\"\n}\n")
    );
}

#[test]
fn delay_is_carried_on_the_served_response() {
    let net = Internet::builtin();
    let served = net.serve(
        "httpbin.org",
        &Arrival::http(80, get("httpbin.org", "/delay/2")),
    );
    assert!(matches!(served, Served::Response { delay_ms: 2000, .. }));
}

#[test]
fn add_replaces_hosts_by_any_shared_name() {
    let mut net = Internet::builtin();
    let old = net.resolve("httpbin.org");
    net.add(ExternalHost::new("WWW.httpbin.org", App::html_page("mirror")).listen(80, false));
    assert_eq!(
        net.hosts()
            .filter(|h| h.answers_to("www.httpbin.org"))
            .count(),
        1
    );
    assert_eq!(net.resolve("httpbin.org"), None);
    assert_eq!(net.resolve("www.httpbin.org"), old);
    let served = net.serve(
        "www.httpbin.org",
        &Arrival::http(80, get("www.httpbin.org", "/x")),
    );
    assert_eq!(served.response().map(|r| r.body.as_str()), Some("mirror"));
    assert_eq!(
        net.serve("www.httpbin.org", &Arrival::tcp_stream(443)),
        Served::Refused
    );
}

#[test]
fn added_hosts_get_distinct_automatic_addresses() {
    let mut net = Internet::empty();
    for i in 0..300 {
        net.add(ExternalHost::new(&format!("h{i}.example"), App::html_page("x")).listen(80, false));
    }
    let mut addresses: Vec<Ipv4Addr> = net.hosts().map(ExternalHost::address).collect();
    assert!(addresses.iter().all(|a| a.octets()[..3] == [198, 51, 100]));
    addresses.sort();
    addresses.dedup();
    assert_eq!(
        addresses.len(),
        254,
        "the range fills up, then addresses are shared"
    );
    assert_eq!(
        net.serve("h299.example", &Arrival::tcp_stream(80)).status(),
        Some(400)
    );
}

#[test]
fn hosts_sharing_an_address_are_picked_by_sni_or_host() {
    let shared = Ipv4Addr::new(203, 0, 113, 200);
    let net = Internet::empty()
        .with(
            ExternalHost::new("a.example", App::html_page("A"))
                .listen(80, false)
                .listen(443, true)
                .at(shared),
        )
        .with(
            ExternalHost::new("b.example", App::html_page("B"))
                .listen(80, false)
                .listen(443, true)
                .at(shared),
        );
    assert!(net.names_sharing_address("a.example", "b.example"));
    let body = |host: &str, arrival: &Arrival| {
        net.serve(host, arrival)
            .response()
            .map(|r| r.body.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        body(
            "a.example",
            &Arrival::https(443, Some("b.example"), get("b.example", "/"))
        ),
        "B"
    );
    assert_eq!(
        body("a.example", &Arrival::http(80, get("b.example:80", "/"))),
        "B"
    );
    assert_eq!(
        body("b.example", &Arrival::http(80, get("c.example", "/"))),
        "A"
    );
    assert_eq!(
        body("203.0.113.200", &Arrival::https(443, None, get("x", "/"))),
        "A"
    );
}

#[test]
fn authority_hosts() {
    assert_eq!(authority_host("a.com:8080"), "a.com");
    assert_eq!(authority_host("a.com"), "a.com");
    assert_eq!(authority_host("[::1]:80"), "[::1]");
    assert_eq!(authority_host("a.com:"), "a.com:");
}

#[test]
fn odd_requests_never_break_the_server() {
    let net = Internet::builtin();
    let paths = [
        "",
        "*",
        "%",
        "/%",
        "/%zz",
        "/%FF%FE",
        "/anything/%00\u{7f}",
        "/status/99999999999999999999",
        "/status/,",
        "/status/200:x",
        "/status/:",
        "/delay/1e308",
        "/delay/-0",
        "/delay/",
        "/??a=%",
        "/anything?&&=&=x&%FF=%FE",
        "/\u{1F600}",
        "/anything/\u{e9}?q=\u{e9}",
    ];
    let content_types = [
        "",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "application/json;",
        ";;=",
    ];
    for path in paths {
        for content_type in content_types {
            for method in ["GET", "", "HEAD", "options", "POST"] {
                let request = ArrivedRequest::new(method, path, "")
                    .with_header("Content-Type", content_type)
                    .with_header("", "")
                    .with_header("X-Forwarded-For", "")
                    .with_body("--\r\n\u{0}{\"a\": [");
                for arrival in [
                    Arrival::http(80, request.clone()),
                    Arrival::https(443, Some(""), request.clone()),
                    Arrival::https(443, None, request.clone()),
                ] {
                    let served = net.serve("httpbin.org", &arrival);
                    assert!(
                        matches!(served, Served::Response { .. } | Served::Reset),
                        "{path} {method}"
                    );
                }
            }
        }
    }
}
