//! End-to-end tests of the `egressbench` binary: exit codes (0 passed, 1 failed, 2 bad input), the
//! human, JSON and JUnit reports of `run`, and `check`, `compile` and `explain` on the project's
//! fixtures. Scenario files are written into a fresh folder under the system temp dir.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_egressbench");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fresh, empty folder for one test, removed when the test ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch(test: &str) -> Scratch {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("egressbench-cli-{}-{n}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    Scratch(dir)
}

fn egressbench(args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A scenario on seed 000's workloads under REGISTRY_ONLY: nginx's plain HTTP to an unregistered
/// host gets a 502 from its sidecar. `expected` is the status the scenario claims.
fn blocked_nginx_scenario(expected: &str) -> String {
    let f = fixtures();
    format!(
        "name: nginx is blocked under REGISTRY_ONLY\n\
         source: {{document: tests}}\n\
         manifests:\n\
         \x20 - {mesh}\n\
         \x20 - {ns}\n\
         \x20 - {test}\n\
         steps:\n\
         \x20 - name: nginx tries www.httpbin.org\n\
         \x20   kubectl: kubectl -n default exec deployment/nginx -- curl -s -o /dev/null -w \"%{{http_code}}\\n\" http://www.httpbin.org\n\
         \x20   expect: {{stdout: \"{expected}\"}}\n\
         \x20 - logs: {{from: default/nginx, tail: 1}}\n",
        mesh = f.join("mesh/registry-only.yaml").display(),
        ns = f.join("000/namespaces.yaml").display(),
        test = f.join("000/test.yaml").display(),
    )
}

/// A folder with `pass.yaml`, `fail.yaml` and `malformed.yaml`.
fn three_scenarios(test: &str) -> Scratch {
    let dir = scratch(test);
    std::fs::write(dir.join("pass.yaml"), blocked_nginx_scenario("502")).unwrap();
    std::fs::write(dir.join("fail.yaml"), blocked_nginx_scenario("200")).unwrap();
    std::fs::write(
        dir.join("malformed.yaml"),
        "name: a typo\nsource: {document: tests}\nsteps:\n  - kubectl: kubectl apply -f x.yaml\n    expcet: {}\n",
    )
    .unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

#[test]
fn a_passing_scenario_exits_0() {
    let dir = three_scenarios("pass");
    let (code, out, err) = egressbench(&["run", path(&dir.join("pass.yaml"))]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("running 1 scenario on model"), "{out}");
    assert!(out.contains("scenario pass ... ok"), "{out}");
    assert!(
        out.contains("test result: ok. 1 passed; 0 failed; 0 bad input; 0 filtered out"),
        "{out}"
    );
}

#[test]
fn a_failing_scenario_exits_1_and_shows_expected_against_actual() {
    let dir = three_scenarios("fail");
    let (code, out, err) = egressbench(&["run", path(&dir.join("fail.yaml"))]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("scenario fail ... FAILED"), "{out}");
    assert!(
        out.contains("failed at step 1 (nginx tries www.httpbin.org): exec"),
        "{out}"
    );
    assert!(
        out.contains("  command: kubectl -n default exec deployment/nginx"),
        "{out}"
    );
    assert!(
        out.contains("stdout: expected \"200\", got \"502\""),
        "{out}"
    );
    // A failed expectation does not stop the run: the logs step after it ran.
    assert!(!out.contains("not run"), "{out}");
    assert!(
        out.contains("test result: FAILED. 0 passed; 1 failed; 0 bad input"),
        "{out}"
    );
}

#[test]
fn a_failure_on_the_sim_is_explained_by_the_model() {
    let dir = three_scenarios("sim-explained");
    let (code, out, err) = egressbench(&["run", "--target", "sim", path(&dir.join("fail.yaml"))]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "explanation (the model's decision for the same request in the same mesh state):"
        ),
        "{out}"
    );
    assert!(
        out.contains("route        80 → virtual host block_all"),
        "{out}"
    );
    let (_, json, _) = egressbench(&[
        "run",
        "--target",
        "sim",
        "--output",
        "json",
        path(&dir.join("fail.yaml")),
    ]);
    assert!(json.contains("\"explanation_by\": \"model\""), "{json}");
}

#[test]
fn a_failed_precondition_stops_the_run_and_says_so() {
    let dir = scratch("precondition");
    let text = blocked_nginx_scenario("200").replace(
        "    expect: {stdout:",
        "    precondition: true\n    expect: {stdout:",
    );
    assert!(text.contains("precondition: true"), "{text}");
    std::fs::write(dir.join("pre.yaml"), text).unwrap();
    let (code, out, err) = egressbench(&["run", path(&dir.join("pre.yaml"))]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("stopped at step 1 (nginx tries www.httpbin.org): 1 later step not run"),
        "{out}"
    );
}

#[test]
fn a_malformed_scenario_exits_2_with_its_location_and_a_help_line() {
    let dir = three_scenarios("malformed");
    let (code, out, err) = egressbench(&["run", path(&dir.join("malformed.yaml"))]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("scenario malformed ... BAD INPUT"), "{out}");
    assert!(
        out.contains("malformed.yaml:5:5: steps[0]: unknown field `expcet`"),
        "{out}"
    );
    assert!(out.contains("help: did you mean `expect`?"), "{out}");
}

#[test]
fn bad_input_outranks_failure_and_every_scenario_is_still_reported() {
    let dir = three_scenarios("all");
    let (code, out, err) = egressbench(&["run", path(&dir)]);
    assert_eq!(code, 2, "{out}{err}");
    let order: Vec<&str> = out.lines().filter(|l| l.starts_with("scenario ")).collect();
    assert_eq!(
        order,
        [
            "scenario fail ... FAILED",
            "scenario malformed ... BAD INPUT",
            "scenario pass ... ok"
        ]
    );
    assert!(out.contains("1 passed; 1 failed; 1 bad input"), "{out}");
}

#[test]
fn declared_hosts_logs_and_mesh_steps_work_end_to_end() {
    let f = fixtures();
    let scenario = |hosts: &str| {
        format!(
            "name: a declared host answers until the mesh locks down\n\
             source: {{document: tests}}\n\
             manifests: [{mesh}, {ns}, {test}]\n\
             {hosts}\
             steps:\n\
             \x20 - exec: {{from: mytest/sleep-a, command: \"curl -s -w ' %{{http_code}}' http://api.example.com/x\"}}\n\
             \x20   expect: {{stdout: hello from api 201, status: 201, access_log: {{fields: {{upstream_cluster: PassthroughCluster}}}}}}\n\
             \x20 - logs: {{from: mytest/sleep-a, tail: 1}}\n\
             \x20   expect: {{access_log: {{response_code: 201, authority: api.example.com}}}}\n\
             \x20 - mesh: {{outboundTrafficPolicy: REGISTRY_ONLY}}\n\
             \x20 - exec: {{from: mytest/sleep-a, command: \"curl -s -o /dev/null -w '%{{http_code}}' http://api.example.com/x\"}}\n\
             \x20   expect: {{stdout: \"502\"}}\n",
            mesh = f.join("mesh/allow-any.yaml").display(),
            ns = f.join("000/namespaces.yaml").display(),
            test = f.join("000/test.yaml").display(),
        )
    };
    let dir = scratch("hosts");
    let with = dir.join("with-host.yaml");
    let without = dir.join("without-host.yaml");
    let host = "hosts: [{names: [api.example.com], ports: [{port: 80}], respond: {status: 201, body: hello from api}}]\n";
    std::fs::write(&with, scenario(host)).unwrap();
    std::fs::write(&without, scenario("")).unwrap();
    let (code, out, err) = egressbench(&["run", path(&with)]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = egressbench(&["run", path(&without)]);
    assert_eq!(code, 1, "without the host the first step fails: {out}{err}");
    assert!(out.contains("failed at step 1: exec"), "{out}");
}

#[test]
fn the_filter_selects_by_file_name() {
    let dir = three_scenarios("filter");
    let (code, out, err) = egressbench(&["run", "--filter", "pas", path(&dir)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("1 passed; 0 failed; 0 bad input; 2 filtered out"),
        "{out}"
    );
}

#[test]
fn json_output_is_one_document_with_every_result() {
    let dir = three_scenarios("json");
    let (code, out, err) = egressbench(&["run", "--output", "json", path(&dir)]);
    assert_eq!(code, 2, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(doc["format"], "egressbench.run/v1");
    assert_eq!(doc["summary"]["passed"], 1);
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["summary"]["bad_input"], 1);
    let verdicts: Vec<(&str, &str)> = doc["scenarios"]
        .as_array()
        .expect("a list of scenarios")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or(""),
                s["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("fail", "failed"),
            ("malformed", "bad_input"),
            ("pass", "passed")
        ]
    );
    let failed_step = &doc["scenarios"][0]["steps"][0];
    assert_eq!(failed_step["checks"][0]["what"], "stdout");
    assert_eq!(failed_step["checks"][0]["ok"], false);
    assert_eq!(failed_step["output"]["stdout"], "502\n");
    assert!(
        err.contains("malformed.yaml:5:5"),
        "bad input is on stderr too: {err}"
    );
}

#[test]
fn junit_has_a_suite_per_target_and_a_case_per_scenario() {
    let dir = three_scenarios("junit");
    let xml = dir.join("report.xml");
    let (code, out, err) = egressbench(&["run", "--junit", path(&xml), path(&dir)]);
    assert_eq!(code, 2, "{out}{err}");
    let xml = std::fs::read_to_string(&xml).expect("the JUnit file is written");
    assert!(
        xml.contains("<testsuite name=\"model\" tests=\"3\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"pass\""), "{xml}");
    assert!(xml.contains("<testcase name=\"fail\""), "{xml}");
    assert!(
        xml.contains("message=\"step 1 (nginx tries www.httpbin.org): stdout: expected &quot;200&quot;, got &quot;502&quot;\""),
        "{xml}"
    );
    assert!(xml.contains("<error message=\""), "{xml}");
}

#[test]
fn targets_that_are_not_built_are_bad_input() {
    let (code, out, err) = egressbench(&["run", "--target", "live"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("error: target `live` is not available yet"),
        "{err}"
    );
    assert!(err.contains("help: use `--target model`"), "{err}");
}

#[test]
fn a_scenario_naming_a_missing_manifest_is_bad_input() {
    let dir = scratch("missing");
    let file = dir.join("missing.yaml");
    std::fs::write(
        &file,
        "name: x\nsource: {document: tests}\nmanifests: [../nowhere/mesh.yaml]\nsteps:\n  - logs: {from: default/nginx}\n",
    )
    .unwrap();
    let (code, out, err) = egressbench(&["run", "--output", "json", path(&file)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("missing.yaml:3:13: manifests[0]: `../nowhere/mesh.yaml` does not exist"),
        "{err}"
    );
    assert!(
        err.contains("help: paths in a scenario are relative to the scenario file's folder"),
        "{err}"
    );
}

#[test]
fn a_scenario_with_a_malformed_manifest_is_bad_input_located_in_the_manifest() {
    let dir = scratch("badmanifest");
    let file = dir.join("uses-bad.yaml");
    let manifest = fixtures().join("bad/misspelled-field.yaml");
    std::fs::write(
        &file,
        format!(
            "name: x\nsource: {{document: tests}}\nmanifests: [{}]\nsteps:\n  - logs: {{from: default/nginx}}\n",
            manifest.display()
        ),
    )
    .unwrap();
    let (code, out, err) = egressbench(&["run", "--output", "json", path(&file)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("misspelled-field.yaml:19:11: unknown field `workloadSelectr`"),
        "{err}"
    );
    assert!(err.contains("(read for `manifests[0]` of "), "{err}");
    assert!(
        err.contains("help: did you mean `workloadSelector`?"),
        "{err}"
    );
    let (code, out, _) = egressbench(&["run", path(&file)]);
    assert_eq!(code, 2);
    assert!(
        out.contains("misspelled-field.yaml:19:11: "),
        "the human report shows it too: {out}"
    );
}

#[test]
fn check_reports_malformed_manifests_at_file_line_column() {
    let bad = fixtures().join("bad");
    for (file, position) in [
        ("bad-indentation.yaml", ":24:4: "),
        ("misspelled-field.yaml", ":19:11: "),
        ("wrong-enum.yaml", ":33:17: "),
    ] {
        let f = bad.join(file);
        for command in ["check", "compile"] {
            let (code, out, err) = egressbench(&[command, path(&f)]);
            assert_eq!(code, 2, "{command} {file}: {out}{err}");
            assert!(
                err.contains(&format!("{file}{position}")),
                "{command} {file}: {err}"
            );
            assert!(err.contains("help: "), "{command} {file}: {err}");
            assert!(
                out.is_empty(),
                "{command} prints nothing on stdout on errors: {out}"
            );
        }
    }
}

fn seed_000_http() -> Vec<PathBuf> {
    let f = fixtures();
    [
        "mesh/registry-only.yaml",
        "000/namespaces.yaml",
        "000/egressgateway.yaml",
        "000/test.yaml",
        "000/egress-http.yaml",
    ]
    .iter()
    .map(|p| f.join(p))
    .collect()
}

#[test]
fn check_counts_resources_and_policies() {
    let files = seed_000_http();
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(|p| path(p)))
        .collect();
    let (code, out, err) = egressbench(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("ok: ") && out.trim_end().ends_with(" resources, 1 policy"),
        "{out}"
    );

    let printed = fixtures().join("000/egress-http-as-printed.yaml");
    let mut args = args.clone();
    args.pop();
    args.push(path(&printed));
    let (code, _, err) = egressbench(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no egress gateway `egressgateway`"), "{err}");
}

#[test]
fn compile_prints_yaml_that_loads_back() {
    let files = seed_000_http();
    let args: Vec<&str> = std::iter::once("compile")
        .chain(files.iter().map(|p| path(p)))
        .collect();
    let (code, out, err) = egressbench(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("kind: Gateway"), "{out}");
    let loaded = egressbench_manifest::load_str(&out, "compiled.yaml")
        .expect("the output loads as manifests");
    let kinds: Vec<String> = loaded
        .resources
        .iter()
        .map(|r| r.kind().to_string())
        .collect();
    for kind in [
        "Gateway",
        "DestinationRule",
        "ServiceEntry",
        "VirtualService",
        "Sidecar",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    assert!(
        !kinds.iter().any(|k| k == "ASMEgressTrafficPolicy"),
        "only generated objects are printed"
    );
}

#[test]
fn explain_shows_the_answer_the_output_and_the_explanation() {
    let files = seed_000_http();
    let mut args = vec!["explain", "--from", "default/nginx", "-f"];
    args.extend(files.iter().map(|p| path(p)));
    args.extend([
        "--",
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}\\n",
        "http://www.httpbin.org",
    ]);
    let (code, out, err) = egressbench(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("client got: 502\n"), "{out}");
    assert!(
        out.contains("command output (exit code 0):\n  stdout:\n    | 502\n"),
        "{out}"
    );
    assert!(
        out.contains("\nexplanation:\n  request   GET http://www.httpbin.org/ from default/nginx"),
        "{out}"
    );

    let mut json_args = args.clone();
    json_args.splice(1..1, ["--output", "json"]);
    let (code, out, err) = egressbench(&json_args);
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(doc["format"], "egressbench.explain/v1");
    assert_eq!(doc["output"]["stdout"], "502\n");
    assert_eq!(doc["explanation"]["from"], "default/nginx", "{doc}");
    assert_eq!(doc["client_result"]["response"]["status"], 502, "{doc}");
}

#[test]
fn explain_from_the_workstation_goes_through_the_load_balancer() {
    let files = [
        "fixtures/istio-docs/common/namespaces.yaml",
        "fixtures/istio-docs/ingress",
    ];
    // The load-balancer address is the bench's; a miss says where it is.
    let mut args = vec!["explain", "--from", "workstation", "-f"];
    args.extend(files);
    args.extend(["--", "curl", "-s", "-m", "2", "http://10.0.0.1/"]);
    let (code, out, err) = egressbench(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("from the workstation"), "{out}");
    let address = out
        .split("istio-ingressgateway.istio-system at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the load balancer is named: {out}"))
        .to_string();
    let url = format!("http://{address}/status/418");
    let mut args = vec!["explain", "--from", "workstation", "-f"];
    args.extend(files);
    args.extend([
        "--",
        "curl",
        "-s",
        "-HHost:httpbin.example.com",
        url.as_str(),
    ]);
    let (code, out, err) = egressbench(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("client got: 418"), "{out}");
    assert!(
        out.contains("hop 1 · gateway istio-system/istio-ingressgateway"),
        "{out}"
    );
    let (code, _, err) = egressbench(&[
        "explain", "--from", "outside", "-f", files[0], "--", "curl", "http://a",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("or `workstation`"), "{err}");
}

#[test]
fn explain_refuses_what_it_cannot_run() {
    let files = seed_000_http();
    let (code, _, err) = egressbench(&[
        "explain",
        "--from",
        "default/nobody",
        "-f",
        path(&files[2]),
        "--",
        "curl",
        "http://x",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: the model could not run the command"),
        "{err}"
    );
    let (code, _, err) = egressbench(&[
        "explain",
        "--from",
        "default/nginx",
        "-f",
        path(&files[2]),
        "--",
        "wget",
        "http://x",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot read the command `wget http://x`"),
        "{err}"
    );
}

#[test]
fn junit_reports_go_into_folders_created_on_demand() {
    let dir = std::env::temp_dir().join(format!("egressbench-junit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let report = dir.join("nested").join("junit.xml");
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_egressbench"))
        .current_dir(root)
        .args([
            "run",
            "scenarios/000-registry-only-baseline.yaml",
            "--junit",
        ])
        .arg(&report)
        .output()
        .expect("run egressbench");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&report).expect("report written");
    assert!(xml.contains("000-registry-only-baseline"), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_policy_whose_hosts_resolve_to_different_addresses_is_reported_on_both_targets() {
    let dir = scratch("dns");
    let policy = std::fs::read_to_string(fixtures().join("000/egress-tcp.yaml"))
        .expect("fixture")
        .replace(
            "            - www.alibabacloud.com\n",
            "            - www.alibabacloud.com\n            - www.baidu.com\n",
        );
    assert!(policy.contains("www.baidu.com"), "{policy}");
    std::fs::write(dir.join("policy.yaml"), policy).expect("write");
    let f = fixtures();
    let scenario = format!(
        "name: A policy whose hosts resolve to different addresses is reported.\n\
         source: {{document: test, section: dns}}\n\
         manifests: ['{}', '{}', '{}', '{}']\n\
         steps:\n  - name: Apply it.\n    kubectl: kubectl apply -f {}\n",
        f.join("mesh/registry-only.yaml").display(),
        f.join("000/namespaces.yaml").display(),
        f.join("000/egressgateway.yaml").display(),
        f.join("000/test.yaml").display(),
        dir.join("policy.yaml").display(),
    );
    std::fs::write(dir.join("s.yaml"), scenario).expect("write");
    for target in ["model", "sim"] {
        let (exit, out, err) = egressbench(&["run", "--target", target, path(&dir.join("s.yaml"))]);
        assert_eq!(exit, 0, "{out}{err}");
        assert!(
            out.contains("www.alibabacloud.com → 203.0.113.20, www.baidu.com → 203.0.113.30"),
            "{out}"
        );
    }
}

#[test]
fn envoy_and_curl_options_name_the_target_they_need_and_a_binary_that_runs() {
    let (exit, _, err) = egressbench(&["run", "--envoy", "/bin/true", "no-such-folder"]);
    assert_eq!(exit, 2, "{err}");
    assert!(err.contains("add `--target envoy`"), "{err}");
    let (exit, _, err) = egressbench(&[
        "run",
        "--target",
        "envoy",
        "--envoy",
        "/no/such/envoy",
        "no-such-folder",
    ]);
    assert_eq!(exit, 2, "{err}");
    assert!(
        err.contains("`/no/such/envoy --version` does not run"),
        "{err}"
    );
    let (exit, _, err) = egressbench(&["run", "--curl", "no-such-folder"]);
    assert_eq!(exit, 2, "{err}");
    assert!(
        err.contains("add `--target sim` or `--target envoy`"),
        "{err}"
    );
}
