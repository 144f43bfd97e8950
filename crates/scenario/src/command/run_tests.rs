//! End-to-end tests of `parse_exec` + `run`: documented command lines, exact output and exit codes.

use super::*;
use egressbench_model::outcome::{ClientResult, ConnectionError, HttpResponse};
use egressbench_model::request::Scheme;

const ANYTHING: &str = "{\n  \"args\": {}, \n  \"method\": \"GET\", \n  \"url\": \"https://httpbin.org/anything\"\n}\n";

fn ok(body: &str) -> ClientResult {
    ClientResult::Response(HttpResponse::new(200, "application/json", body))
}

fn reset(during_tls: bool) -> ClientResult {
    ClientResult::ConnectionFailed {
        error: ConnectionError::Reset,
        during_tls,
    }
}

fn out(stdout: &str, stderr: &str, exit_code: i32) -> ProcessOutput {
    ProcessOutput {
        stdout: stdout.into(),
        stderr: stderr.into(),
        exit_code,
        elapsed_ms: 0,
    }
}

/// A network answering every request with the same result.
struct Always<'a>(&'a ClientResult);

impl Network for Always<'_> {
    fn send(&mut self, _: &ClientRequest) -> Result<Received, Aborted> {
        Ok(Received::at_once(self.0.clone()))
    }
}

/// What `cmd` prints when every request it makes gets `result`.
fn answered(cmd: &ExecCommand, result: &ClientResult) -> ProcessOutput {
    run(cmd, &mut Always(result)).unwrap()
}

fn exec(line: &str, result: &ClientResult) -> ProcessOutput {
    answered(&parse_exec(line, &Env::default()).unwrap(), result)
}

#[test]
fn seed_pipeline_prints_the_url_line() {
    let line = "curl -s http://httpbin.org/anything | grep url";
    assert_eq!(
        exec(line, &ok(ANYTHING)),
        out("  \"url\": \"https://httpbin.org/anything\"\n", "", 0)
    );
    assert_eq!(exec(line, &ok("{}\n")), out("", "", 1));
    assert_eq!(exec(line, &reset(false)), out("", "", 1));
}

#[test]
fn seed_pipeline_inside_sh_c() {
    let line = r#"sh -c "curl -s http://httpbin.org/anything | grep url""#;
    let cmd = parse_exec(line, &Env::default()).unwrap();
    assert_eq!(cmd.text, line);
    assert_eq!(*cmd.first_request().unwrap(), {
        let mut r = ClientRequest::get(Scheme::Http, "httpbin.org", 80, "/anything");
        r.headers = vec![
            ("User-Agent".into(), "curl/8.5.0".into()),
            ("Accept".into(), "*/*".into()),
        ];
        r
    });
    assert_eq!(
        answered(&cmd, &ok(ANYTHING)),
        out("  \"url\": \"https://httpbin.org/anything\"\n", "", 0)
    );
    assert_eq!(
        exec(
            "bash -c 'curl -s http://httpbin.org/anything | grep -c url'",
            &ok(ANYTHING)
        ),
        out("1\n", "", 0)
    );
}

#[test]
fn status_probe_lines() {
    let http = r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#;
    let https = r#"curl -s -o /dev/null -w "%{http_code}\n" https://www.httpbin.org"#;
    assert_eq!(exec(http, &ok("x")), out("200\n", "", 0));
    assert_eq!(exec(http, &reset(false)), out("000\n", "", 56));
    assert_eq!(exec(https, &reset(true)), out("000\n", "", 35));
    let cmd = parse_exec(https, &Env::default()).unwrap();
    assert_eq!(
        (
            cmd.first_request().unwrap().scheme,
            cmd.first_request().unwrap().port,
            cmd.first_request().unwrap().path.as_str()
        ),
        (Scheme::Https, 443, "/")
    );
}

#[test]
fn head_through_grep() {
    assert_eq!(
        exec(
            r#"curl -sSI https://www.google.com | grep "HTTP/""#,
            &ok("")
        ),
        out("HTTP/1.1 200 OK\r\n", "", 0)
    );
    assert_eq!(
        exec(r#"curl -sSI https://www.google.com | grep "HTTP/""#, &reset(true)),
        out(
            "",
            "curl: (35) OpenSSL SSL_connect: Connection reset by peer in connection to www.google.com:443 \n",
            1
        )
    );
}

#[test]
fn verbose_merged_into_the_pipe() {
    assert_eq!(
        exec(
            r#"curl -sv http://httpbin.org/get 2>&1 | grep "^< HTTP""#,
            &ok("{}")
        ),
        out("< HTTP/1.1 200 OK\r\n", "", 0)
    );
    let o = exec("curl -v http://httpbin.org/get >/dev/null", &ok("{}"));
    assert_eq!((o.stdout.as_str(), o.exit_code), ("", 0));
    assert!(o.stderr.contains("> GET /get HTTP/1.1\r\n"), "{}", o.stderr);
    assert_eq!(
        exec("curl -sS http://a 2>&1 >/dev/null | wc -l", &reset(false)),
        out("1\n", "", 0)
    );
    assert_eq!(
        exec("curl -sS http://a 2>/dev/null", &reset(false)),
        out("", "", 56)
    );
}

#[test]
fn post_with_headers_and_data() {
    let cmd = parse_exec(
        r#"curl -X POST -H "x: y" -d '{}' http://httpbin.org/post"#,
        &Env::default(),
    )
    .unwrap();
    assert_eq!(cmd.first_request().unwrap().method, "POST");
    assert_eq!(cmd.first_request().unwrap().body.as_deref(), Some("{}"));
    assert_eq!(cmd.first_request().unwrap().header("x"), Some("y"));
    assert_eq!(
        cmd.first_request().unwrap().header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        answered(&cmd, &ok("{\"ok\":1}\n")),
        out("{\"ok\":1}\n", "", 0)
    );
}

#[test]
fn max_time_and_timeouts() {
    let cmd = parse_exec("curl -m 5 http://httpbin.org/delay/10", &Env::default()).unwrap();
    assert_eq!(cmd.first_request().unwrap().timeout_ms, Some(5000));
    let timeout = ClientResult::ConnectionFailed {
        error: ConnectionError::Timeout,
        during_tls: false,
    };
    assert_eq!(
        answered(&cmd, &timeout),
        out(
            "",
            "curl: (28) Operation timed out after 5000 milliseconds with 0 bytes received\n",
            28
        )
    );
}

#[test]
fn a_list_prints_each_commands_output_in_order() {
    let cmd = parse_exec(
        "curl -s http://a/; curl -sS http://b/ | grep -c x && curl -s http://c/",
        &Env::default(),
    )
    .unwrap();
    assert_eq!(cmd.requests().len(), 3);
    assert_eq!(answered(&cmd, &ok("x\n")), out("x\n1\nx\n", "", 0));
    assert_eq!(
        answered(&cmd, &reset(false)),
        out(
            "0\n",
            "curl: (56) Recv failure: Connection reset by peer\n",
            1
        )
    );
}

#[test]
fn text_filters_after_curl() {
    let body = ok("a\nb\nc\n");
    assert_eq!(
        exec("curl -s http://a | head -n 1", &body),
        out("a\n", "", 0)
    );
    assert_eq!(
        exec("curl -s http://a | head -2", &body),
        out("a\nb\n", "", 0)
    );
    assert_eq!(
        exec("curl -s http://a | tail -n 1", &body),
        out("c\n", "", 0)
    );
    assert_eq!(exec("curl -s http://a | wc -l", &body), out("3\n", "", 0));
    assert_eq!(
        exec("curl -s http://a | grep -v b | tail -1", &body),
        out("c\n", "", 0)
    );
    assert_eq!(
        exec(
            r#"curl -s http://httpbin.org/anything | grep url | cut -d '"' -f4"#,
            &ok(ANYTHING)
        ),
        out("https://httpbin.org/anything\n", "", 0)
    );
    assert_eq!(exec("curl -s http://a | grep -q b", &body), out("", "", 0));
}

#[test]
fn refused_and_exit_of_the_last_stage() {
    let refused = ClientResult::ConnectionFailed {
        error: ConnectionError::Refused,
        during_tls: false,
    };
    assert_eq!(
        exec("curl http://10.0.0.1:8080/ | wc -c", &refused),
        out(
            "0\n",
            "curl: (7) Failed to connect to 10.0.0.1 port 8080 after 0 ms: Couldn't connect to server\n",
            0
        )
    );
}

#[test]
fn parse_errors_name_the_problem() {
    let e = parse_exec("echo a; sleep 1", &Env::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("sends no request"), "{e}");
    let e = parse_exec("curl --compressed http://a", &Env::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown curl option `--compressed`"), "{e}");
    let e = parse_exec("curl -s http://a | jq .url", &Env::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`jq`"), "{e}");
    let e = parse_exec(r#"curl -w "%{http_cod}" http://a"#, &Env::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("http_cod"), "{e}");
    let e = parse_exec("ftp://a", &Env::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("at the start"), "{e}");
}
