//! Endpoint tests for httpbin, driven through `serve` as a host's listener would call it.

use super::*;
use crate::external::arrival::ArrivedRequest;
use serde_json::json;
use std::net::Ipv4Addr;

fn call_on(request: &ArrivedRequest, tls: bool) -> (HttpResponse, u64) {
    serve(&AppRequest {
        request,
        tls,
        port: if tls { 443 } else { 80 },
        peer: Ipv4Addr::new(192, 0, 2, 10),
        server_name: "httpbin.org",
        sni: None,
    })
}

fn call(method: &str, path: &str) -> HttpResponse {
    call_on(&ArrivedRequest::new(method, path, "httpbin.org"), false).0
}

fn body_json(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or(Value::Null)
}

fn curl(method: &str, path: &str) -> ArrivedRequest {
    ArrivedRequest::new(method, path, "httpbin.org")
        .with_header("user-agent", "curl/8.5.0")
        .with_header("accept", "*/*")
}

#[test]
fn anything_echoes_the_whole_request_in_httpbin_format() {
    let request = curl("GET", "/anything");
    let (response, delay) = call_on(&request, false);
    assert_eq!((response.status, delay), (200, 0));
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.body,
        "{\n  \"args\": {}, \n  \"data\": \"\", \n  \"files\": {}, \n  \"form\": {}, \n  \
         \"headers\": {\n    \"Accept\": \"*/*\", \n    \"Host\": \"httpbin.org\", \n    \
         \"User-Agent\": \"curl/8.5.0\"\n  }, \n  \"json\": null, \n  \"method\": \"GET\", \n  \
         \"origin\": \"192.0.2.10\", \n  \"url\": \"http://httpbin.org/anything\"\n}\n"
    );
    assert_eq!(
        response.header("content-length"),
        Some(response.body.len().to_string().as_str())
    );
    assert_eq!(response.header("server"), Some("gunicorn/19.9.0"));
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
}

#[test]
fn anything_with_a_rest_path_any_method_and_a_json_body() {
    let request = curl("patch", "/anything/a/b?x=1&x=2")
        .with_header("content-type", "application/json")
        .with_header("X-Envoy-Peer-Metadata-Id", "sidecar~10.0.0.5")
        .with_body("{\"k\": 1.0}");
    let v = body_json(&call_on(&request, true).0);
    assert_eq!(v["method"], "PATCH");
    assert_eq!(v["url"], "https://httpbin.org/anything/a/b?x=1&x=2");
    assert_eq!(v["args"], json!({"x": ["1", "2"]}));
    assert_eq!(v["data"], "{\"k\": 1.0}");
    assert_eq!(v["json"], json!({"k": 1.0}));
    assert_eq!(v["headers"]["X-Envoy-Peer-Metadata-Id"], "sidecar~10.0.0.5");
    assert_eq!(v["headers"]["Content-Type"], "application/json");
    assert_eq!(call("TRACE", "/anything/x").status, 200);
    assert_eq!(call("FOO", "/anything").status, 405);
    assert_eq!(call("GET", "/anything/").status, 404);
}

#[test]
fn url_scheme_follows_the_connection_not_the_incoming_header() {
    let spoofed = curl("GET", "/anything").with_header("X-Forwarded-Proto", "https");
    let v = body_json(&call_on(&spoofed, false).0);
    assert_eq!(v["url"], "http://httpbin.org/anything");
    let v = body_json(&call_on(&curl("GET", "/anything"), true).0);
    assert_eq!(v["url"], "https://httpbin.org/anything");
    let downgraded = curl("GET", "/get").with_header("x-forwarded-proto", "http");
    let v = body_json(&call_on(&downgraded, true).0);
    assert_eq!(v["url"], "https://httpbin.org/get");
    let v = body_json(&call_on(&curl("GET", "/get?show_env=1"), true).0);
    assert_eq!(v["headers"]["X-Forwarded-Proto"], "https");
    assert_eq!(v["headers"]["X-Forwarded-Port"], "443");
}

#[test]
fn get_prints_its_four_fields_and_only_takes_get() {
    let request = curl("GET", "/get?a=1").with_header("X-Forwarded-For", "10.0.0.5");
    let (response, _) = call_on(&request, false);
    let v = body_json(&response);
    let keys: Vec<&String> = v
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["args", "headers", "origin", "url"]);
    assert_eq!(v["args"], json!({"a": "1"}));
    assert_eq!(v["origin"], "10.0.0.5, 192.0.2.10");
    assert_eq!(v["headers"].get("X-Forwarded-For"), None);

    let r = call("POST", "/get");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert!(r.body.contains("405 Method Not Allowed"));
    assert_eq!(r.header("content-type"), Some("text/html"));
}

#[test]
fn body_methods_take_only_their_own_method() {
    for (path, method) in [
        ("/post", "POST"),
        ("/put", "PUT"),
        ("/patch", "PATCH"),
        ("/delete", "DELETE"),
    ] {
        let request = curl(method, path)
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body("a=1&b=two+words");
        let v = body_json(&call_on(&request, false).0);
        let keys: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["args", "data", "files", "form", "headers", "json", "origin", "url"],
            "{path}"
        );
        assert_eq!(v["form"], json!({"a": "1", "b": "two words"}));
        assert_eq!(v["data"], "");
        let wrong = if method == "POST" { "GET" } else { "POST" };
        let r = call(wrong, path);
        assert_eq!(r.status, 405, "{wrong} {path}");
        let mut allow = ["OPTIONS", method];
        allow.sort_unstable();
        assert_eq!(r.header("allow"), Some(allow.join(", ").as_str()));
    }
}

#[test]
fn headers_ip_and_user_agent() {
    let v = body_json(&call_on(&curl("GET", "/headers"), false).0);
    assert_eq!(
        v,
        json!({"headers": {"Accept": "*/*", "Host": "httpbin.org", "User-Agent": "curl/8.5.0"}})
    );
    assert_eq!(
        body_json(&call("GET", "/ip")),
        json!({"origin": "192.0.2.10"})
    );
    assert_eq!(
        body_json(&call_on(&curl("GET", "/user-agent"), false).0),
        json!({"user-agent": "curl/8.5.0"})
    );
    assert_eq!(
        body_json(&call("GET", "/user-agent")),
        json!({"user-agent": null})
    );
    assert_eq!(call("DELETE", "/ip").status, 405);
}

#[test]
fn status_codes() {
    let r = call("GET", "/status/418");
    assert_eq!(r.status, 418);
    assert_eq!(r.body, pages::TEAPOT);
    assert_eq!(
        r.header("x-more-info"),
        Some("http://tools.ietf.org/html/rfc2324")
    );
    let r = call("POST", "/status/503");
    assert_eq!((r.status, r.body.as_str()), (503, ""));
    assert_eq!(call("GET", "/status/200").status, 200);
    assert_eq!(call("GET", "/status/404").status, 404);
    assert_eq!(call("GET", "/status/200,404:3,500:3").status, 404);
    let r = call("GET", "/status/abc");
    assert_eq!((r.status, r.body.as_str()), (400, "Invalid status code"));
    assert_eq!(call("GET", "/status/200,x").status, 400);
    assert_eq!(call("GET", "/status/42").status, 400);
    assert_eq!(call("GET", "/status/").status, 404);
    assert_eq!(call("GET", "/status/200/x").status, 404);
}

#[test]
fn delays_are_reported_and_capped() {
    let (r, ms) = call_on(&curl("GET", "/delay/3"), false);
    assert_eq!((r.status, ms), (200, 3000));
    let v = body_json(&r);
    let keys: Vec<&String> = v
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["args", "data", "files", "form", "headers", "origin", "url"]
    );
    assert_eq!(call_on(&curl("GET", "/delay/0.25"), false).1, 250);
    assert_eq!(call_on(&curl("POST", "/delay/60"), false).1, MAX_DELAY_MS);
    assert_eq!(call_on(&curl("GET", "/delay/inf"), false).1, MAX_DELAY_MS);
    for bad in ["/delay/-1", "/delay/soon", "/delay/NaN"] {
        let (r, ms) = call_on(&curl("GET", bad), false);
        assert_eq!((r.status, ms), (500, 0), "{bad}");
    }
}

#[test]
fn index_not_found_and_path_matching() {
    let r = call("GET", "/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(call("POST", "/").status, 405);
    let r = call("GET", "/nope");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("<h1>Not Found</h1>"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(call("GET", "/get/").status, 404);
    assert_eq!(call("GET", "//get").status, 200);
    assert_eq!(call("GET", "/%67et").status, 200);
    assert_eq!(call("GET", "/anything%2Fx").status, 200);
}

#[test]
fn head_and_options() {
    let get = call("GET", "/get");
    let head = call("HEAD", "/get");
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert_eq!(call("HEAD", "/post").status, 405);

    let request = ArrivedRequest::new("OPTIONS", "/post", "httpbin.org")
        .with_header("Origin", "https://app.example")
        .with_header("Access-Control-Request-Headers", "x-a");
    let (r, _) = call_on(&request, false);
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(r.header("allow"), Some("OPTIONS, POST"));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, POST, PUT, DELETE, PATCH, OPTIONS")
    );
    assert_eq!(r.header("access-control-max-age"), Some("3600"));
    assert_eq!(r.header("access-control-allow-headers"), Some("x-a"));
}

#[test]
fn routes_and_their_methods() {
    assert_eq!(
        Route::find("/status/500"),
        Some(Route::Status("500".into()))
    );
    assert_eq!(Route::find("/delay/1"), Some(Route::Delay("1".into())));
    assert_eq!(Route::find("/anything//x"), None);
    assert_eq!(Route::find("/delete"), Some(Route::Body("DELETE")));
    assert_eq!(Route::Body("PUT").allowed(), ["OPTIONS", "PUT"]);
    assert_eq!(Route::Anything.allowed(), ANY);
    assert_eq!(Route::Ip.allowed(), GET);
}
