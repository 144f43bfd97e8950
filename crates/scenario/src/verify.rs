//! Checking expectations: what a step expected against what the target did, one `Check` per
//! comparison, each saying what was expected and what arrived.
//!
//! Owns: the comparison rules of the format (trimmed stdout, dotted JSON paths, the last access-log
//! entry). Leaves out: running steps (`runner`) and the expectation types (`expectation`).

use super::command::ProcessOutput;
use super::expectation::{
    AccessLogExpect, Expect, JsonExpect, ReceivedExpect, ReceivedItem, TextMatch,
};
use super::results::Check;
use egressbench_model::admin::MetricSeries;
use egressbench_model::outcome::{AccessLogEntry, ClientResult, Received};
use egressbench_model::request::{Origin, WorkloadRef};

/// What an exec step observed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExecObservation<'a> {
    /// Where the command ran: its pod's proxy is the default for access-log expectations (from
    /// the workstation, the first proxy the request reached).
    pub from: &'a Origin,
    pub output: &'a ProcessOutput,
    pub result: &'a ClientResult,
    /// Access-log entries written while serving the request, in hop order.
    pub logs: &'a [AccessLogEntry],
    /// What the destinations received during the step, in order.
    pub received: &'a [Received],
}

/// Check what a command printed, its exit code and how long it ran (exec and istioctl steps).
pub(crate) fn check_printed(expect: &Expect, out: &ProcessOutput) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(e) = &expect.stdout {
        // Documents print output without the trailing spaces a line may end in (istioctl's
        // tables do): each line is compared without them, and so is the end of the output.
        let (want, got) = (trim_lines(e), trim_lines(&out.stdout));
        checks.push(Check::new("stdout", q(&want), q(&got), want == got));
    }
    checks.extend(texts(
        "stdout",
        &expect.stdout_contains,
        &expect.stdout_not_contains,
        &out.stdout,
    ));
    checks.extend(texts(
        "stderr",
        &expect.stderr_contains,
        &expect.stderr_not_contains,
        &out.stderr,
    ));
    if let Some(d) = &expect.duration {
        let ms = out.elapsed_ms;
        checks.push(Check::new(
            "duration",
            d.to_string(),
            format!("{}.{:03} s", ms / 1000, ms % 1000),
            d.holds(ms),
        ));
    }
    if let Some(e) = expect.exit_code {
        checks.push(Check::new(
            "exit_code",
            e.to_string(),
            out.exit_code.to_string(),
            e == out.exit_code,
        ));
    }
    checks
}

/// Check an exec step's expectations.
pub(crate) fn check_exec(expect: &Expect, seen: &ExecObservation<'_>) -> Vec<Check> {
    let mut checks = check_printed(expect, seen.output);
    if let Some(e) = expect.status {
        let (actual, ok) = match seen.result {
            ClientResult::Response(r) => (r.status.to_string(), r.status == e),
            failed => (no_response(failed), false),
        };
        checks.push(Check::new("status", e.to_string(), actual, ok));
    }
    if let Some(e) = expect.connection {
        let (actual, ok) = match seen.result {
            ClientResult::Response(r) => (format!("an HTTP response ({})", r.status), false),
            ClientResult::ConnectionFailed { error, .. } => {
                (format!("connection {error}"), e.holds_for(error.clone()))
            }
        };
        checks.push(Check::new(
            "connection",
            format!("connection {}", e.name()),
            actual,
            ok,
        ));
    }
    match seen.result {
        ClientResult::Response(r) => {
            checks.extend(texts(
                "body",
                &expect.body_contains,
                &expect.body_not_contains,
                &r.body,
            ));
        }
        failed => {
            for e in &expect.body_contains {
                checks.push(Check::new(
                    "body_contains",
                    format!("text containing {}", q(e)),
                    no_response(failed),
                    false,
                ));
            }
            // No response has no body: it contains none of the texts.
            for e in &expect.body_not_contains {
                checks.push(Check::new(
                    "body_not_contains",
                    format!("text without {}", q(e)),
                    no_response(failed),
                    true,
                ));
            }
        }
    }
    for j in &expect.json {
        checks.push(check_json(j, seen.result));
    }
    if let Some(AccessLogExpect::Proxies(items)) = &expect.access_log {
        for item in items {
            let proxy = match (&item.proxy, seen.from.pod(), seen.logs.first()) {
                (Some(p), _, _) | (None, Some(p), _) => p.to_string(),
                (None, None, Some(first)) => first.proxy.clone(),
                (None, None, None) => "the first proxy on the way".to_string(),
            };
            let what = format!("access_log[{proxy}]");
            let check =
                |entry| check_entry(&what, entry, item.fields.iter(), "written during this step");
            // A command that made several requests (`-L`, a `;` list) leaves several entries:
            // the latest one matching every field holds, else the comparison is with the last.
            let mut written = seen.logs.iter().rev().filter(|e| e.proxy == proxy);
            let last = written.clone().next();
            let held =
                written.find_map(|e| Some(check(Some(e))).filter(|c| c.iter().all(|c| c.ok)));
            checks.extend(held.unwrap_or_else(|| check(last)));
        }
    }
    match &expect.received {
        None => {}
        Some(ReceivedExpect::Nothing) => checks.push(Check::new(
            "received",
            "nothing received by any destination".to_string(),
            describe_received(seen.received),
            seen.received.is_empty(),
        )),
        Some(ReceivedExpect::Records(items)) => {
            for (i, item) in items.iter().enumerate() {
                checks.push(check_received(i, item, seen.received));
            }
        }
    }
    if !expect.any_of.is_empty() {
        checks.push(any_of(&expect.any_of, seen));
    }
    checks
}

/// The records, one per line, or `nothing`.
fn describe_received(received: &[Received]) -> String {
    if received.is_empty() {
        return "nothing".to_string();
    }
    received
        .iter()
        .map(Received::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A field of `r` as `received:` compares it: `tls` as `true`/`false`, a missing SNI as `-`.
fn received_field(r: &Received, name: &str) -> String {
    match name {
        "host" => r.host.clone(),
        "port" => r.port.to_string(),
        "tls" => r.tls.to_string(),
        "sni" => r.sni.clone().unwrap_or_else(|| "-".into()),
        "method" => r.method.clone(),
        "url" => r.url.clone(),
        "peer" => r.peer.to_string(),
        "status" => r.status.to_string(),
        _ => String::new(),
    }
}

/// The first thing `item` finds wrong with `r`, if any.
fn received_mismatch(item: &ReceivedItem, r: &Received) -> Option<String> {
    for (name, want) in &item.fields {
        let got = received_field(r, name);
        if !want.matches(&got) {
            return Some(format!("{name} {} (expected {want})", q(&got)));
        }
    }
    for (name, want) in &item.headers {
        match r.header(name) {
            Some(got) if want.matches(got) => {}
            Some(got) => return Some(format!("header {name}: {} (expected {want})", q(got))),
            None => return Some(format!("no header {name}")),
        }
    }
    item.without_headers
        .iter()
        .find(|name| r.header(name).is_some())
        .map(|name| format!("header {name} present"))
}

/// One `received:` item: it holds when one record matches it in full.
fn check_received(index: usize, item: &ReceivedItem, received: &[Received]) -> Check {
    let mut want: Vec<String> = item
        .fields
        .iter()
        .map(|(k, m)| format!("{k} {m}"))
        .chain(item.headers.iter().map(|(k, m)| format!("header {k} {m}")))
        .chain(
            item.without_headers
                .iter()
                .map(|k| format!("no header {k}")),
        )
        .collect();
    want.sort();
    let expected = format!("a destination that received: {}", want.join(", "));
    let what = format!("received[{index}]");
    if received
        .iter()
        .any(|r| received_mismatch(item, r).is_none())
    {
        return Check::new(what, expected, "received".to_string(), true);
    }
    let actual = match received {
        [] => "nothing received by any destination".to_string(),
        _ => received
            .iter()
            .map(|r| {
                format!(
                    "{} — {}",
                    r.describe(),
                    received_mismatch(item, r).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    Check::new(what, expected, actual, false)
}

/// `any_of`: one check, passed when one alternative holds in full; when none does, it says how
/// each one failed (its first failed comparison).
fn any_of(alternatives: &[Expect], seen: &ExecObservation<'_>) -> Check {
    let mut failures = Vec::new();
    for (i, alt) in alternatives.iter().enumerate() {
        let checks = check_exec(alt, seen);
        match checks.iter().find(|c| !c.ok) {
            None => {
                return Check::new(
                    "any_of",
                    format!("one of {} alternatives", alternatives.len()),
                    format!("alternative {} ({}) held", i + 1, alt.keys().join(", ")),
                    true,
                )
            }
            Some(c) => failures.push(format!(
                "{}: {} expected {}, got {}",
                i + 1,
                c.what,
                c.expected,
                c.actual
            )),
        }
    }
    Check::new(
        "any_of",
        format!("one of {} alternatives", alternatives.len()),
        format!("none held ({})", failures.join("; ")),
        false,
    )
}

/// Check a logs step's expectations against the entries it showed (after `--tail`).
pub(crate) fn check_logs(expect: &Expect, shown: &[AccessLogEntry]) -> Vec<Check> {
    match &expect.access_log {
        Some(AccessLogExpect::Fields(fields)) => {
            check_entry("access_log", shown.last(), fields.iter(), "shown")
        }
        _ => Vec::new(),
    }
}

/// `metrics:` — each item against its proxy's series after the step (`series`: a proxy's series,
/// or why they cannot be read): the matching series of the family, summed, equal the expected
/// value (at least 1 when none is given).
pub(crate) fn check_metrics(
    expect: &Expect,
    series: impl Fn(&WorkloadRef) -> Result<Vec<MetricSeries>, String>,
) -> Vec<Check> {
    expect
        .metrics
        .iter()
        .map(|m| {
            let labels: Vec<String> = m
                .labels
                .iter()
                .map(|(n, v)| match v {
                    TextMatch::Equals(e) => format!("{n}={e:?}"),
                    other => format!("{n} {other}"),
                })
                .collect();
            let what = format!("metrics[{}].{}{{{}}}", m.proxy, m.name, labels.join(","));
            let expected = m
                .value
                .map_or_else(|| "at least 1".to_string(), |v| v.to_string());
            match series(&m.proxy) {
                Err(why) => Check::new(what, expected, why, false),
                Ok(all) => {
                    let matching: Vec<&MetricSeries> = all
                        .iter()
                        .filter(|s| s.family == m.name)
                        .filter(|s| {
                            m.labels
                                .iter()
                                .all(|(n, t)| s.label(n).is_some_and(|v| t.matches(v)))
                        })
                        .collect();
                    let total: u64 = matching.iter().map(|s| s.value).sum();
                    let ok = m.value.map_or(total >= 1, |v| total == v);
                    let actual = format!("{total} (in {} matching series)", matching.len());
                    Check::new(what, expected, actual, ok)
                }
            }
        })
        .collect()
}

/// Check an apply, delete or mesh step: it succeeds, or (with `error_contains`) fails saying so.
pub(crate) fn check_change(expect: &Expect, outcome: &Result<(), String>) -> Vec<Check> {
    let check = match (&expect.error_contains, outcome) {
        (None, Ok(())) => Check::new("succeeds", "success", "success", true),
        (None, Err(e)) => Check::new("succeeds", "success", format!("error: {e}"), false),
        (Some(want), Ok(())) => Check::new(
            "error",
            format!("an error containing {}", q(want)),
            "success",
            false,
        ),
        (Some(want), Err(e)) => Check::new(
            "error",
            format!("an error containing {}", q(want)),
            format!("error: {e}"),
            e.contains(want.as_str()),
        ),
    };
    vec![check]
}

fn check_entry<'a>(
    what: &str,
    entry: Option<&AccessLogEntry>,
    fields: impl Iterator<Item = (&'a String, &'a TextMatch)>,
    when: &str,
) -> Vec<Check> {
    let Some(entry) = entry else {
        return vec![Check::new(
            what,
            format!("an access-log entry {when}"),
            "no entry".to_string(),
            false,
        )];
    };
    fields
        .map(|(name, want)| {
            let got = entry.field(name).unwrap_or_default();
            Check::new(
                format!("{what}.{name}"),
                want.to_string(),
                q(&got),
                want.matches(&got),
            )
        })
        .collect()
}

fn check_json(j: &JsonExpect, result: &ClientResult) -> Check {
    let what = format!("json.{}", j.field);
    let expected = j.matcher.to_string();
    let body = match result {
        ClientResult::Response(r) => &r.body,
        failed => return Check::new(what, expected, no_response(failed), false),
    };
    let value: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            return Check::new(
                what,
                expected,
                format!("a body that is not JSON ({e})"),
                false,
            )
        }
    };
    match json_field(&value, &j.field) {
        Some(v) => {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let ok = j.matcher.matches(&text);
            Check::new(what, expected, q(&text), ok)
        }
        None => Check::new(
            what,
            expected,
            format!("no field `{}` in the body", j.field),
            false,
        ),
    }
}

/// A field by dotted path: `headers.Host`, `args.0` (a number picks an array element).
fn json_field<'v>(value: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(value, |v, seg| match v {
        serde_json::Value::Object(m) => m.get(seg),
        serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// `<what>_contains` for each of `wanted`, `<what>_not_contains` for each of `unwanted`.
fn texts(what: &str, wanted: &[String], unwanted: &[String], got: &str) -> Vec<Check> {
    let has = wanted.iter().map(|w| {
        Check::new(
            format!("{what}_contains"),
            format!("text containing {}", q(w)),
            q(got),
            got.contains(w.as_str()),
        )
    });
    let lacks = unwanted.iter().map(|u| {
        Check::new(
            format!("{what}_not_contains"),
            format!("text without {}", q(u)),
            q(got),
            !got.contains(u.as_str()),
        )
    });
    has.chain(lacks).collect()
}

fn no_response(result: &ClientResult) -> String {
    match result.connection_error() {
        Some(e) => format!("no response (connection {e})"),
        None => "no response".to_string(),
    }
}

/// `text` without trailing whitespace on any line, or at its end.
fn trim_lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

/// Text as reports quote it (escapes show newlines and trailing spaces).
fn q(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::outcome::{ConnectionError, HttpResponse};

    #[test]
    fn lists_and_negations_of_texts_check_each_text() {
        let from = Origin::Pod(WorkloadRef::new("default", "sleep"));
        let e = expect("{stdout_contains: [\"200\", OK], stdout_not_contains: [teapot, \"404\"], body_not_contains: RBAC}");
        let out = ProcessOutput {
            stdout: "200 OK 404".into(),
            ..Default::default()
        };
        let result = ClientResult::Response(HttpResponse::new(200, "text/plain", "fine"));
        let checks = check_exec(&e, &observe(&from, &out, &result, &[]));
        assert_eq!(checks.len(), 5);
        assert_eq!(failed(&checks), ["stdout_not_contains"]);
        let reset = ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls: false,
        };
        let checks = check_exec(
            &expect("{body_not_contains: RBAC}"),
            &observe(&from, &out, &reset, &[]),
        );
        assert!(failed(&checks).is_empty(), "no response has no body");
    }

    #[test]
    fn any_of_holds_when_one_alternative_holds_in_full() {
        let from = Origin::Pod(WorkloadRef::new("default", "sleep"));
        let e = expect("{any_of: [{status: 502}, {connection: reset}]}");
        let out = ProcessOutput::default();
        let reset = ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls: false,
        };
        let checks = check_exec(&e, &observe(&from, &out, &reset, &[]));
        assert_eq!(checks.len(), 1);
        assert!(checks[0].ok, "{:?}", checks[0]);
        assert!(checks[0].actual.contains("alternative 2 (connection)"));
        let ok = ClientResult::Response(HttpResponse::new(200, "text/plain", ""));
        let checks = check_exec(&e, &observe(&from, &out, &ok, &[]));
        assert_eq!(failed(&checks), ["any_of"]);
        assert!(
            checks[0].actual.contains("1: status expected 502, got 200"),
            "{}",
            checks[0].actual
        );
    }

    #[test]
    fn received_items_need_one_record_matching_in_full_and_none_needs_no_record() {
        let from = Origin::Pod(WorkloadRef::new("foo", "sleep"));
        let out = ProcessOutput::default();
        let ok = ClientResult::Response(HttpResponse::new(200, "text/plain", ""));
        let record = Received {
            host: "httpbin.foo".into(),
            port: 80,
            tls: false,
            sni: None,
            method: "GET".into(),
            url: "http://httpbin.foo:8000/ip".into(),
            headers: vec![(
                "X-Forwarded-Client-Cert".into(),
                "By=a;URI=spiffe://b".into(),
            )],
            peer: "127.0.0.6".parse().unwrap(),
            status: 200,
            upstream: None,
        };
        let seen = |received| ExecObservation {
            received,
            ..observe(&from, &out, &ok, &[])
        };
        let records = [record];
        let e = expect("{received: [{host: httpbin.foo, port: 80, tls: false, sni: '-', peer: 127.0.0.6, headers: {x-forwarded-client-cert: {contains: 'URI=spiffe://b'}}}]}");
        assert!(failed(&check_exec(&e, &seen(&records))).is_empty());
        let e =
            expect("{received: {host: httpbin.foo, without_headers: [X-Forwarded-Client-Cert]}}");
        let checks = check_exec(&e, &seen(&records));
        assert_eq!(failed(&checks), ["received[0]"]);
        assert!(
            checks[0]
                .actual
                .contains("header X-Forwarded-Client-Cert present"),
            "{}",
            checks[0].actual
        );
        let e = expect("{received: {url: {starts_with: 'https://'}}}");
        assert_eq!(failed(&check_exec(&e, &seen(&records))), ["received[0]"]);
        let e = expect("{received: none}");
        let checks = check_exec(&e, &seen(&records));
        assert_eq!(failed(&checks), ["received"]);
        assert!(checks[0].actual.contains("httpbin.foo:80 received GET"));
        assert!(failed(&check_exec(&e, &seen(&[]))).is_empty());
        let checks = check_exec(&expect("{received: {method: GET}}"), &seen(&[]));
        assert_eq!(checks[0].actual, "nothing received by any destination");
    }

    #[test]
    fn received_items_name_known_fields() {
        let err = serde_yaml::from_str::<Expect>("{received: [{hots: a}]}").unwrap_err();
        assert!(err.to_string().contains("did you mean `host`?"), "{err}");
        let err = serde_yaml::from_str::<Expect>("{received: [{}]}").unwrap_err();
        assert!(
            err.to_string().contains("names nothing to compare"),
            "{err}"
        );
        let err = serde_yaml::from_str::<Expect>("{received: nothing}").unwrap_err();
        assert!(err.to_string().contains("expected `none`"), "{err}");
    }

    fn expect(yaml: &str) -> Expect {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn failed(checks: &[Check]) -> Vec<&str> {
        checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.what.as_str())
            .collect()
    }

    fn series(family: &'static str, code: &str, value: u64) -> MetricSeries {
        MetricSeries {
            family,
            labels: vec![
                ("destination_service_name", "BlackHoleCluster".into()),
                ("response_code", code.into()),
            ],
            value,
        }
    }

    #[test]
    fn metrics_sum_the_matching_series_of_the_proxy() {
        let all = vec![
            series("istio_requests_total", "502", 2),
            series("istio_requests_total", "503", 1),
            series("istio_tcp_connections_opened_total", "", 4),
        ];
        let e = expect(
            "{metrics: [\
              {proxy: default/sleep, name: istio_requests_total, labels: {destination_service_name: BlackHoleCluster}, value: 3},\
              {proxy: default/sleep, name: istio_requests_total, labels: {response_code: {starts_with: '50'}}},\
              {proxy: default/sleep, name: istio_requests_total, labels: {response_code: '404'}, value: 0},\
              {proxy: default/sleep, name: istio_requests_total, labels: {response_code: '404'}}]}",
        );
        let checks = check_metrics(&e, |_| Ok(all.clone()));
        assert_eq!(
            failed(&checks),
            ["metrics[default/sleep].istio_requests_total{response_code=\"404\"}"]
        );
        let none = check_metrics(&e, |p| Err(format!("{p} has no proxy")));
        assert_eq!(none.len(), 4);
        assert!(none.iter().all(|c| !c.ok && c.actual.contains("no proxy")));
    }

    #[test]
    fn a_metric_must_be_one_the_bench_counts_with_its_labels() {
        let err = |yaml: &str| {
            serde_yaml::from_str::<Expect>(yaml)
                .unwrap_err()
                .to_string()
        };
        let e = err("{metrics: {proxy: default/sleep, name: istio_request_total}}");
        assert!(e.contains("did you mean `istio_requests_total`"), "{e}");
        let e = err("{metrics: {proxy: sleep, name: istio_requests_total}}");
        assert!(e.contains("namespace/name"), "{e}");
        let e = err(
            "{metrics: {proxy: a/b, name: istio_tcp_connections_opened_total, labels: {response_code: '200'}}}",
        );
        assert!(e.contains("has no label `response_code`"), "{e}");
    }

    fn entry(proxy: &str, cluster: &str) -> AccessLogEntry {
        let mut e = AccessLogEntry::blank(proxy);
        e.upstream_cluster = cluster.to_string();
        e.response_code = 502;
        e
    }

    fn observe<'a>(
        from: &'a Origin,
        output: &'a ProcessOutput,
        result: &'a ClientResult,
        logs: &'a [AccessLogEntry],
    ) -> ExecObservation<'a> {
        ExecObservation {
            from,
            output,
            result,
            logs,
            received: &[],
        }
    }

    #[test]
    fn stdout_is_compared_trimmed_and_other_output_by_containment() {
        let from = Origin::Pod(WorkloadRef::new("default", "nginx"));
        let out = ProcessOutput {
            stdout: "502\n".into(),
            stderr: "curl: (56) Recv failure".into(),
            exit_code: 56,
            elapsed_ms: 3149,
        };
        let res = ClientResult::Response(HttpResponse::new(502, "text/plain", ""));
        let e = expect("{stdout: \"502  \", stderr_contains: \"(56)\", exit_code: 56, stdout_contains: \"50\"}");
        assert_eq!(trim_lines("a   \nb\t\n\n"), "a\nb");
        let checks = check_exec(&e, &observe(&from, &out, &res, &[]));
        assert_eq!(checks.len(), 4);
        assert!(failed(&checks).is_empty(), "{checks:?}");
        let e = expect("{duration: {at_least: 3, at_most: 3.2}}");
        assert!(failed(&check_exec(&e, &observe(&from, &out, &res, &[]))).is_empty());
        let e = expect("{duration: {at_most: 3}}");
        let checks = check_exec(&e, &observe(&from, &out, &res, &[]));
        assert_eq!(failed(&checks), ["duration"]);
        assert_eq!(checks[0].actual, "3.149 s");
        assert_eq!(checks[0].expected, "at most 3.000 s");

        let e = expect("{stdout: \"200\", exit_code: 0, stderr_contains: \"(7)\"}");
        let checks = check_exec(&e, &observe(&from, &out, &res, &[]));
        assert_eq!(failed(&checks), ["stdout", "stderr_contains", "exit_code"]);
        assert_eq!(checks[0].expected, "\"200\"");
        assert_eq!(checks[0].actual, "\"502\"");
    }

    #[test]
    fn status_and_body_need_a_response() {
        let from = Origin::Pod(WorkloadRef::new("default", "nginx"));
        let out = ProcessOutput::default();
        let reset = ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls: false,
        };
        let e = expect("{status: 403, body_contains: RBAC, connection: reset}");
        let checks = check_exec(&e, &observe(&from, &out, &reset, &[]));
        assert_eq!(failed(&checks), ["status", "body_contains"]);
        assert_eq!(checks[0].actual, "no response (connection reset)");

        let denied =
            ClientResult::Response(HttpResponse::new(403, "text/plain", "RBAC: access denied"));
        let checks = check_exec(&e, &observe(&from, &out, &denied, &[]));
        assert_eq!(failed(&checks), ["connection"]);
        assert_eq!(checks[1].actual, "an HTTP response (403)");
        let e = expect("{connection: refused}");
        let checks = check_exec(&e, &observe(&from, &out, &reset, &[]));
        assert_eq!(failed(&checks), ["connection"]);
    }

    #[test]
    fn json_fields_are_found_by_dotted_path() {
        let from = Origin::Pod(WorkloadRef::new("mytest", "sleep-a"));
        let out = ProcessOutput::default();
        let body = r#"{"url": "https://httpbin.org/get", "headers": {"Host": "httpbin.org"}, "n": 3, "list": ["a", "b"]}"#;
        let res = ClientResult::Response(HttpResponse::new(200, "application/json", body));
        let e = expect(
            "json:\n  - {field: url, starts_with: \"https://\"}\n  - {field: headers.Host, equals: httpbin.org}\n  - {field: n, equals: 3}\n  - {field: list.1, equals: b}\n",
        );
        let checks = check_exec(&e, &observe(&from, &out, &res, &[]));
        assert!(failed(&checks).is_empty(), "{checks:?}");

        let e = expect(
            "json: [{field: url, starts_with: \"http://\"}, {field: headers.Missing, equals: x}]",
        );
        let checks = check_exec(&e, &observe(&from, &out, &res, &[]));
        assert_eq!(failed(&checks), ["json.url", "json.headers.Missing"]);
        assert_eq!(checks[1].actual, "no field `headers.Missing` in the body");

        let text = ClientResult::Response(HttpResponse::new(200, "text/html", "<html>"));
        let checks = check_exec(
            &expect("json: {field: url, contains: x}"),
            &observe(&from, &out, &text, &[]),
        );
        assert!(
            checks[0].actual.starts_with("a body that is not JSON"),
            "{checks:?}"
        );
    }

    #[test]
    fn access_log_reads_the_last_entry_of_the_named_proxy() {
        let from = Origin::Pod(WorkloadRef::new("default", "nginx"));
        let out = ProcessOutput::default();
        let res = ClientResult::Response(HttpResponse::new(502, "text/plain", ""));
        let logs = [
            entry("default/nginx", "outbound|80||old"),
            entry("istio-egress/gw", "outbound|80||httpbin.org"),
            entry("default/nginx", "BlackHoleCluster"),
        ];
        let e = expect("access_log: [{fields: {upstream_cluster: BlackHoleCluster, response_code: 502}}, {proxy: istio-egress/gw, fields: {upstream_cluster: \"outbound|80||httpbin.org\"}}]");
        let checks = check_exec(&e, &observe(&from, &out, &res, &logs));
        assert_eq!(checks.len(), 3);
        assert!(failed(&checks).is_empty(), "{checks:?}");
        assert_eq!(checks[0].what, "access_log[default/nginx].response_code");

        let e = expect("access_log: {proxy: istio-egress/other, fields: {response_code: 200}}");
        let checks = check_exec(&e, &observe(&from, &out, &res, &logs));
        assert_eq!(failed(&checks), ["access_log[istio-egress/other]"]);
    }

    #[test]
    fn logs_steps_check_the_last_entry_shown() {
        let e = expect("access_log: {upstream_cluster: BlackHoleCluster}");
        let shown = [
            entry("default/nginx", "PassthroughCluster"),
            entry("default/nginx", "BlackHoleCluster"),
        ];
        assert!(failed(&check_logs(&e, &shown)).is_empty());
        let checks = check_logs(&e, &shown[..1]);
        assert_eq!(failed(&checks), ["access_log.upstream_cluster"]);
        assert_eq!(checks[0].actual, "\"PassthroughCluster\"");
        assert_eq!(failed(&check_logs(&e, &[])), ["access_log"]);
    }

    #[test]
    fn changes_succeed_unless_an_error_is_expected() {
        let none = Expect::default();
        assert!(check_change(&none, &Ok(()))[0].ok);
        assert!(!check_change(&none, &Err("boom".into()))[0].ok);
        let e = expect("error_contains: no egress gateway");
        assert!(!check_change(&e, &Ok(()))[0].ok);
        assert!(check_change(&e, &Err("policy x: no egress gateway `gw`".into()))[0].ok);
        let other = check_change(&e, &Err("something else".into()));
        assert!(!other[0].ok);
        assert_eq!(other[0].actual, "error: something else");
    }
}
