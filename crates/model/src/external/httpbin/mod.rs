//! httpbin.org, reimplemented from its public behaviour: routes, methods and the answers it sends.
//!
//! Owns: routing a request that reached httpbin (behind the balancer in `front`) to an endpoint, the
//! methods each endpoint takes, and the headers every answer carries (`server`, CORS; OPTIONS gets the
//! preflight set; HEAD gets the GET answer without its body).
//!
//! | Path                         | Methods                               | Answer                                      |
//! |------------------------------|---------------------------------------|---------------------------------------------|
//! | `/`                          | GET                                   | 200 HTML index                              |
//! | `/get`                       | GET                                   | `args headers origin url`                   |
//! | `/post` `/put` `/patch` `/delete` | that method only                 | `args data files form headers json origin url` |
//! | `/anything`, `/anything/{…}` | GET POST PUT DELETE PATCH TRACE       | the above plus `method`                     |
//! | `/headers`                   | GET                                   | `headers`                                   |
//! | `/ip`                        | GET                                   | `origin`                                    |
//! | `/user-agent`                | GET                                   | `user-agent` (null when absent)             |
//! | `/status/{code}`             | GET POST PUT DELETE PATCH TRACE       | that status (418: the teapot)               |
//! | `/delay/{n}`                 | GET POST PUT DELETE PATCH TRACE       | `args data files form headers origin url` after min(n, 10) s |
//!
//! HEAD is allowed wherever GET is and OPTIONS everywhere (200, empty, `allow`). Another method on a
//! known path answers 405 with `allow`; an unknown path answers 404. Paths are matched after
//! percent-decoding, with leading slashes collapsed; `/anything/` (empty rest) and trailing slashes on
//! the other paths are unknown. `/status/{code}` outside 100–999 answers 400 `Invalid status code`, as
//! does a code that is not a number. `/status/a,b` picks one code where httpbin picks at random: the one
//! with the greatest weight (`code:weight`, default 1), the first of equals. `/delay/{n}` that is not a
//! non-negative number answers 500, as httpbin's server errors do.
//! Leaves out: the fields' contents (`echo`), JSON text (`pyjson`), fixed pages (`pages`).

mod echo;
mod front;
mod multipart;
mod pages;
mod pyjson;
mod urlcode;

use super::app::AppRequest;
use crate::outcome::HttpResponse;
use echo::Field;
use front::Environ;
use serde_json::Value;

/// The longest `/delay/{n}` waits, in milliseconds.
pub const MAX_DELAY_MS: u64 = 10_000;

const ANY: &[&str] = &[
    "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
];
const GET: &[&str] = &["GET", "HEAD", "OPTIONS"];

/// Fields of the body-echoing endpoints (`/post`, `/put`, `/patch`, `/delete`).
const WITH_BODY: &[Field] = &[
    Field::Url,
    Field::Args,
    Field::Form,
    Field::Data,
    Field::Origin,
    Field::Headers,
    Field::Files,
    Field::Json,
];

/// Fields of `/delay/{n}`: the body-echoing ones without `json`.
const DELAY_FIELDS: &[Field] = &[
    Field::Url,
    Field::Args,
    Field::Form,
    Field::Data,
    Field::Origin,
    Field::Headers,
    Field::Files,
];

/// httpbin's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Index,
    Get,
    /// `/post`, `/put`, `/patch`, `/delete`: the one method in the path.
    Body(&'static str),
    Anything,
    Headers,
    Ip,
    UserAgent,
    Status(String),
    Delay(String),
}

impl Route {
    fn find(path: &str) -> Option<Route> {
        let route = match path {
            "/" => Route::Index,
            "/get" => Route::Get,
            "/post" => Route::Body("POST"),
            "/put" => Route::Body("PUT"),
            "/patch" => Route::Body("PATCH"),
            "/delete" => Route::Body("DELETE"),
            "/anything" => Route::Anything,
            "/headers" => Route::Headers,
            "/ip" => Route::Ip,
            "/user-agent" => Route::UserAgent,
            _ => {
                if let Some(rest) = path.strip_prefix("/anything/") {
                    return (!rest.is_empty() && !rest.starts_with('/')).then_some(Route::Anything);
                }
                let segment = |prefix| {
                    path.strip_prefix(prefix)
                        .filter(|s: &&str| !s.is_empty() && !s.contains('/'))
                        .map(str::to_string)
                };
                return segment("/status/")
                    .map(Route::Status)
                    .or_else(|| segment("/delay/").map(Route::Delay));
            }
        };
        Some(route)
    }

    fn allowed(&self) -> Vec<&'static str> {
        match self {
            Route::Body(method) => {
                let mut methods = vec!["OPTIONS", method];
                methods.sort_unstable();
                methods
            }
            Route::Anything | Route::Status(_) | Route::Delay(_) => ANY.to_vec(),
            _ => GET.to_vec(),
        }
    }
}

/// httpbin's answer to one request, and how long it waits first.
pub(super) fn serve(req: &AppRequest<'_>) -> (HttpResponse, u64) {
    let env = front::environ(req);
    let (mut response, delay_ms) = route(&env);
    finish(&env, &mut response);
    (response, delay_ms)
}

fn route(env: &Environ) -> (HttpResponse, u64) {
    let decoded = urlcode::decode(&env.raw_path, false);
    let path = format!("/{}", decoded.trim_start_matches('/'));
    let Some(route) = Route::find(&path) else {
        return (pages::error(404, None), 0);
    };
    let allowed = route.allowed();
    let method = env.method.as_str();
    if !allowed.contains(&method) {
        return (pages::error(405, Some(&allowed.join(", "))), 0);
    }
    if method == "OPTIONS" {
        let allow = allowed.join(", ");
        let response = pages::response(
            200,
            Some("text/html; charset=utf-8"),
            "",
            &[("allow", &allow)],
        );
        return (response, 0);
    }
    let json = |value: Value| (json_response(&value), 0);
    match route {
        Route::Index => (pages::index(), 0),
        Route::Get => json(echo::dict(
            env,
            &[Field::Url, Field::Args, Field::Headers, Field::Origin],
        )),
        Route::Body(_) => json(echo::dict(env, WITH_BODY)),
        Route::Anything => {
            let mut fields = WITH_BODY.to_vec();
            fields.push(Field::Method);
            json(echo::dict(env, &fields))
        }
        Route::Headers => json(echo::dict(env, &[Field::Headers])),
        Route::Ip => json(object("origin", echo::origin(env))),
        Route::UserAgent => {
            let agent = echo::shown_header(env, "User-Agent").map_or(Value::Null, Value::String);
            json(object("user-agent", agent))
        }
        Route::Status(codes) => (status(&codes), 0),
        Route::Delay(seconds) => match delay_ms(&seconds) {
            Some(ms) => (json_response(&echo::dict(env, DELAY_FIELDS)), ms),
            None => (pages::error(500, None), 0),
        },
    }
}

fn object(key: &str, value: Value) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}

fn json_response(value: &Value) -> HttpResponse {
    pages::response(200, Some("application/json"), &pyjson::pretty(value), &[])
}

/// `/status/{codes}`: one code, or a comma-separated list of `code[:weight]`.
fn status(codes: &str) -> HttpResponse {
    let parse = |code: &str| {
        code.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=999).contains(c))
    };
    if !codes.contains(',') {
        return parse(codes).map_or_else(pages::invalid_status, pages::status);
    }
    let mut best: Option<(u16, f64)> = None;
    for choice in codes.split(',') {
        let (code, weight) = choice.split_once(':').unwrap_or((choice, "1"));
        let (Some(code), Ok(weight)) = (parse(code), weight.trim().parse::<f64>()) else {
            return pages::invalid_status();
        };
        if best.is_none_or(|(_, w)| weight > w) {
            best = Some((code, weight));
        }
    }
    best.map_or_else(pages::invalid_status, |(code, _)| pages::status(code))
}

/// `/delay/{n}`: seconds as a number, capped at 10, in milliseconds; `None` when httpbin would fail.
fn delay_ms(seconds: &str) -> Option<u64> {
    let seconds: f64 = seconds.trim().parse().ok()?;
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    // In 0..=10_000 after the cap, so the conversion is exact.
    let ms = (seconds.min(10.0) * 1000.0).round() as u64;
    Some(ms.min(MAX_DELAY_MS))
}

/// Headers on every answer, then HEAD's body removal.
fn finish(env: &Environ, response: &mut HttpResponse) {
    let origin = env.header("Origin").unwrap_or("*").to_string();
    let headers = &mut response.headers;
    headers.push(("server".into(), "gunicorn/19.9.0".into()));
    headers.push(("access-control-allow-origin".into(), origin));
    headers.push(("access-control-allow-credentials".into(), "true".into()));
    if env.method == "OPTIONS" {
        headers.push((
            "access-control-allow-methods".into(),
            "GET, POST, PUT, DELETE, PATCH, OPTIONS".into(),
        ));
        headers.push(("access-control-max-age".into(), "3600".into()));
        if let Some(requested) = env.header("Access-Control-Request-Headers") {
            headers.push(("access-control-allow-headers".into(), requested.to_string()));
        }
    }
    if env.method == "HEAD" {
        response.body.clear();
    }
}

#[cfg(test)]
mod tests;
