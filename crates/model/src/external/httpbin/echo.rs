//! The request-inspection fields httpbin prints: `url`, `args`, `form`, `data`, `origin`, `headers`,
//! `files`, `json`, `method`.
//!
//! Owns: computing each field from the application's view of the request, as httpbin does:
//! - `url`: scheme from `X-Forwarded-Proto` (which the balancer in `front` always sets from the
//!   connection, so it is `https` exactly when the host was reached over TLS), host from `Host` (`:80`
//!   dropped), path and query percent-decoded except for escapes of `% / ; ?` (path) and
//!   `% ; / ? : @ & = + , $ #` (query), leading slashes collapsed, `?` only when there is a query;
//! - `args` / `form`: decoded pairs, one value as a string, repeated keys as a list;
//! - `data`: the body, or `""` when it was parsed as a form; `json`: `data` parsed as JSON, else null;
//! - `files`: multipart parts with a filename, by field name;
//! - `origin`: `X-Forwarded-For` as the balancer left it (client-supplied entries, then the peer);
//! - `headers`: every header under its printed name, except the deployment's own forwarding headers
//!   (`X-Forwarded-*`, `X-Request-Id`, `Via`, …) unless the query has a `show_env` key.
//!
//! Leaves out: which endpoint prints which fields (`httpbin`) and JSON text (`pyjson`).

use super::front::Environ;
use super::multipart;
use super::urlcode::{decode_bytes, escape_at, parse_pairs, quote, semiflatten};
use serde_json::{Map, Value};

/// One field of httpbin's request dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Url,
    Args,
    Form,
    Data,
    Origin,
    Headers,
    Files,
    Json,
    Method,
}

/// Headers httpbin hides unless asked with `?show_env`: its hosting platform's own.
const ENV_HEADERS: [&str; 15] = [
    "X-Varnish",
    "X-Request-Start",
    "X-Heroku-Queue-Depth",
    "X-Real-Ip",
    "X-Forwarded-Proto",
    "X-Forwarded-Protocol",
    "X-Forwarded-Ssl",
    "X-Heroku-Queue-Wait-Time",
    "X-Forwarded-For",
    "X-Heroku-Dynos-In-Use",
    "X-Forwarded-Port",
    "X-Request-Id",
    "Via",
    "Total-Route-Time",
    "Connect-Time",
];

/// The object with the requested `fields` (httpbin's `get_dict`).
pub(super) fn dict(env: &Environ, fields: &[Field]) -> Value {
    let body = Body::of(env);
    let mut map = Map::new();
    for field in fields {
        let (key, value) = match field {
            Field::Url => ("url", Value::String(url(env))),
            Field::Args => ("args", semiflatten(&parse_pairs(&env.query))),
            Field::Form => ("form", semiflatten(&body.form)),
            Field::Data => ("data", Value::String(body.data.clone())),
            Field::Origin => ("origin", origin(env)),
            Field::Headers => ("headers", headers(env)),
            Field::Files => ("files", semiflatten(&body.files)),
            Field::Json => (
                "json",
                serde_json::from_str(&body.data).unwrap_or(Value::Null),
            ),
            Field::Method => ("method", Value::String(env.method.clone())),
        };
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

/// `origin`: the forwarded-for chain the balancer built.
pub(super) fn origin(env: &Environ) -> Value {
    Value::String(
        env.header("X-Forwarded-For")
            .unwrap_or_default()
            .to_string(),
    )
}

/// `headers`: shown headers by printed name.
pub(super) fn headers(env: &Environ) -> Value {
    let show_env = parse_pairs(&env.query).iter().any(|(k, _)| k == "show_env");
    let map = env
        .headers
        .iter()
        .filter(|(name, _)| show_env || !ENV_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    Value::Object(map)
}

/// A shown header's value, by case-insensitive name.
pub(super) fn shown_header(env: &Environ, name: &str) -> Option<String> {
    match headers(env) {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            k.eq_ignore_ascii_case(name)
                .then(|| v.as_str().map(str::to_string))
                .flatten()
        }),
        _ => None,
    }
}

/// The body as httpbin splits it.
struct Body {
    form: Vec<(String, String)>,
    files: Vec<(String, String)>,
    data: String,
}

impl Body {
    fn of(env: &Environ) -> Body {
        let (mime, params) = multipart::header_params(env.header("Content-Type").unwrap_or(""));
        match mime.as_str() {
            "application/x-www-form-urlencoded" => Body {
                form: parse_pairs(&env.body),
                files: Vec::new(),
                data: String::new(),
            },
            "multipart/form-data" => {
                let boundary = params
                    .iter()
                    .find(|(k, _)| k == "boundary")
                    .map_or("", |(_, v)| v.as_str());
                let parsed = multipart::parse(&env.body, boundary).unwrap_or_default();
                Body {
                    form: parsed.fields,
                    files: parsed.files,
                    data: String::new(),
                }
            }
            _ => Body {
                form: Vec::new(),
                files: Vec::new(),
                data: env.body.clone(),
            },
        }
    }
}

/// `url`: see the module doc.
pub(super) fn url(env: &Environ) -> String {
    let scheme = forwarded_scheme(env).unwrap_or("http");
    let host = env.header("Host").unwrap_or_default();
    let host = host.strip_suffix(":80").unwrap_or(host);
    let decoded = decode_bytes(&env.raw_path, false);
    let trimmed: &[u8] = {
        let start = decoded
            .iter()
            .position(|b| *b != b'/')
            .unwrap_or(decoded.len());
        decoded.get(start..).unwrap_or_default()
    };
    let path = iri_unquote(&quote(trimmed, b"/:"), b"%/;?");
    let mut out = format!("{scheme}://{host}/{path}");
    let query = iri_unquote(
        &quote(env.query.as_bytes(), b":&%=+$!*'(),"),
        b"%;/?:@&=+,$#",
    );
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    out
}

/// httpbin's scheme rule: `X-Forwarded-Proto`, else `X-Forwarded-Protocol`, else `https` when
/// `X-Forwarded-Ssl: on`.
fn forwarded_scheme(env: &Environ) -> Option<&str> {
    let non_empty = |name| env.header(name).filter(|v| !v.is_empty());
    non_empty("X-Forwarded-Proto")
        .or_else(|| non_empty("X-Forwarded-Protocol"))
        .or_else(|| (env.header("X-Forwarded-Ssl") == Some("on")).then_some("https"))
}

/// Decode `%XX` escapes except those of bytes in `keep`, then re-escape bytes that are not UTF-8.
fn iri_unquote(text: &str, keep: &[u8]) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match escape_at(bytes, i) {
            Some(value) if !keep.contains(&value) => {
                decoded.push(value);
                i += 3;
            }
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for chunk in decoded.utf8_chunks() {
        out.push_str(chunk.valid());
        out.push_str(&quote(chunk.invalid(), &[]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(path: &str, query: &str, headers: &[(&str, &str)], body: &str) -> Environ {
        Environ {
            method: "POST".into(),
            raw_path: path.into(),
            query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            body: body.into(),
        }
    }

    const BASE: [(&str, &str); 4] = [
        ("Host", "httpbin.org"),
        ("X-Forwarded-For", "192.0.2.10"),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Port", "80"),
    ];

    #[test]
    fn url_follows_forwarded_proto_and_decodes_like_werkzeug() {
        let e = env("/anything/a%20b/%C3%A9", "q=a%20b&r=%26+&s=%3F", &BASE, "");
        assert_eq!(
            url(&e),
            "http://httpbin.org/anything/a b/é?q=a b&r=%26+&s=%3F"
        );
        let mut headers = BASE.to_vec();
        headers[2] = ("X-Forwarded-Proto", "https");
        headers[0] = ("Host", "httpbin.org:80");
        let e = env("//get", "", &headers, "");
        assert_eq!(url(&e), "https://httpbin.org/get");
        let e = env("/x%3By%25z%FF", "", &BASE, "");
        assert_eq!(url(&e), "http://httpbin.org/x%3By%25z%FF");
    }

    #[test]
    fn scheme_fallbacks_when_no_proto() {
        let e = env("/", "", &[("Host", "h"), ("X-Forwarded-Ssl", "on")], "");
        assert_eq!(url(&e), "https://h/");
        let e = env(
            "/",
            "",
            &[("Host", "h"), ("X-Forwarded-Protocol", "https")],
            "",
        );
        assert_eq!(url(&e), "https://h/");
        let e = env("/", "", &[("Host", "h")], "");
        assert_eq!(url(&e), "http://h/");
    }

    #[test]
    fn headers_hide_forwarding_unless_show_env() {
        let mut h = BASE.to_vec();
        h.push(("X-Request-Id", "abc"));
        h.push(("User-Agent", "curl/8.5.0"));
        let shown = headers(&env("/", "", &h, ""));
        assert_eq!(
            shown,
            serde_json::json!({"Host": "httpbin.org", "User-Agent": "curl/8.5.0"})
        );
        let shown = headers(&env("/", "a=1&show_env", &h, ""));
        assert_eq!(shown.get("X-Forwarded-Proto"), Some(&Value::from("http")));
        assert_eq!(shown.get("X-Request-Id"), Some(&Value::from("abc")));
        assert_eq!(
            shown_header(&env("/", "", &h, ""), "user-agent").as_deref(),
            Some("curl/8.5.0")
        );
        assert_eq!(shown_header(&env("/", "", &h, ""), "x-request-id"), None);
    }

    #[test]
    fn body_fields_depend_on_content_type() {
        let mut h = BASE.to_vec();
        h.push(("Content-Type", "application/x-www-form-urlencoded"));
        let d = dict(
            &env("/", "", &h, "a=1&a=2&b=x+y"),
            &[Field::Form, Field::Data, Field::Json],
        );
        assert_eq!(
            d,
            serde_json::json!({"form": {"a": ["1", "2"], "b": "x y"}, "data": "", "json": null})
        );

        let mut h = BASE.to_vec();
        h.push(("Content-Type", "application/json"));
        let d = dict(
            &env("/", "", &h, "{\"k\": [1, 2.5]}"),
            &[Field::Form, Field::Data, Field::Json],
        );
        assert_eq!(
            d,
            serde_json::json!({"form": {}, "data": "{\"k\": [1, 2.5]}", "json": {"k": [1, 2.5]}})
        );

        let d = dict(
            &env("/", "", &BASE, "not json"),
            &[Field::Data, Field::Json, Field::Files],
        );
        assert_eq!(
            d,
            serde_json::json!({"data": "not json", "json": null, "files": {}})
        );

        let mut h = BASE.to_vec();
        h.push(("Content-Type", "multipart/form-data; boundary=B"));
        let body =
            "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nhi\r\n\
                    --B\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--B--\r\n";
        let d = dict(
            &env("/", "", &h, body),
            &[Field::Form, Field::Files, Field::Data],
        );
        assert_eq!(
            d,
            serde_json::json!({"form": {"k": "v"}, "files": {"f": "hi"}, "data": ""})
        );
    }

    #[test]
    fn origin_args_and_method() {
        let mut h = BASE.to_vec();
        h[1] = ("X-Forwarded-For", "10.0.0.5, 192.0.2.10");
        let d = dict(
            &env("/", "a=1&a=2&b", &h, ""),
            &[Field::Origin, Field::Args, Field::Method],
        );
        assert_eq!(
            d,
            serde_json::json!({"origin": "10.0.0.5, 192.0.2.10", "args": {"a": ["1", "2"], "b": ""}, "method": "POST"})
        );
    }
}
