//! Every scenario in `scenarios/` as a test, on every target that can run it: one trial per
//! scenario per target, named `<target>::<file stem>` (so `cargo test --test scenarios -- 000-`
//! filters as usual). A failing trial prints the same failure section as `egressbench run`; a file
//! that does not load is a failing trial, not a panic.
//!
//! Targets: `model` (the reference semantics), `sim` (the simulated mesh, built-in client),
//! `sim-curl` (the simulated mesh driven by the real `curl` binary), `envoy` (one real Envoy per
//! proxy) and `envoy-curl` (real Envoy driven by the real curl). Without a curl binary the
//! curl trials are ignored with a note saying why, unless `EGRESSBENCH_REQUIRE_CURL` is set (CI
//! sets it), in which case they fail; likewise the Envoy trials without an envoy binary and
//! `EGRESSBENCH_REQUIRE_ENVOY`.

use egressbench::report::human::render_failure;
use egressbench_envoy::find_envoy;
use egressbench_network::client::find_curl;
use egressbench_network::{ClientKind, Clock};
use egressbench_scenario::target::{ModelTarget, Target};
use egressbench_scenario::{discover, run_file, BadInput, Verdict};
use egressbench_text::Diagnostic as _;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

/// Where a trial runs.
#[derive(Debug, Clone)]
enum On {
    Model,
    Sim(ClientKind),
    Envoy(ClientKind),
    /// Trials whose binary is missing: ignored, or failed when `required` (an environment
    /// variable) is set.
    Missing {
        name: &'static str,
        why: &'static str,
        required: &'static str,
    },
}

impl On {
    fn name(&self) -> &'static str {
        match self {
            On::Model => "model",
            On::Sim(ClientKind::BuiltIn) => "sim",
            On::Sim(ClientKind::RealCurl(_)) => "sim-curl",
            On::Envoy(ClientKind::BuiltIn) => "envoy",
            On::Envoy(ClientKind::RealCurl(_)) => "envoy-curl",
            On::Missing { name, .. } => name,
        }
    }
}

const NO_CURL: &str = "no curl binary: install curl (apt-get install curl) or set EGRESSBENCH_CURL";
const NO_ENVOY: &str = "no envoy binary: run scripts/install-envoy.sh or set EGRESSBENCH_ENVOY";

fn main() {
    let args = Arguments::from_args();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let curl = find_curl();
    let envoy = find_envoy();
    if curl.is_none() {
        eprintln!("note: {NO_CURL}; the sim-curl and envoy-curl trials are ignored");
    }
    if envoy.is_none() {
        eprintln!("note: {NO_ENVOY}; the envoy and envoy-curl trials are ignored");
    }
    let missing = |name, why, required| On::Missing {
        name,
        why,
        required,
    };
    let no_curl = |name| missing(name, NO_CURL, "EGRESSBENCH_REQUIRE_CURL");
    let no_envoy = |name| missing(name, NO_ENVOY, "EGRESSBENCH_REQUIRE_ENVOY");
    let real_curl = curl.clone().map(ClientKind::RealCurl);
    let targets = [
        On::Model,
        On::Sim(ClientKind::BuiltIn),
        real_curl
            .clone()
            .map_or_else(|| no_curl("sim-curl"), On::Sim),
        match envoy {
            Some(_) => On::Envoy(ClientKind::BuiltIn),
            None => no_envoy("envoy"),
        },
        match (&envoy, real_curl) {
            (None, _) => no_envoy("envoy-curl"),
            (Some(_), None) => no_curl("envoy-curl"),
            (Some(_), Some(client)) => On::Envoy(client),
        },
    ];
    let trials = match discover(std::slice::from_ref(&folder)) {
        Ok(files) => files
            .into_iter()
            .flat_map(|file| targets.clone().map(|on| trial(on, file.clone())))
            .collect(),
        Err(e) => vec![Trial::test("scenarios", move || {
            Err(Failed::from(format!(
                "{e}\nhelp: {}",
                e.help().unwrap_or_default()
            )))
        })],
    };
    libtest_mimic::run(&args, trials).exit();
}

fn trial(on: On, file: PathBuf) -> Trial {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = format!("{}::{stem}", on.name());
    if let On::Missing { why, required, .. } = on {
        let required = std::env::var_os(required).is_some();
        return Trial::test(name, move || Err(Failed::from(why))).with_ignored_flag(!required);
    }
    Trial::test(name, move || {
        let target = on.name();
        let report = run_file(&file, target, |scenario| {
            let internet = scenario.internet();
            let clock = Clock::within_tolerance(scenario.duration_tolerance_ms());
            Ok(match &on {
                On::Sim(client) => Box::new(
                    egressbench_sim::target(internet, client.clone(), clock).map_err(|e| {
                        BadInput {
                            message: e.to_string(),
                            help: None,
                        }
                    })?,
                ) as Box<dyn Target>,
                On::Envoy(client) => Box::new(
                    egressbench_envoy::target(internet, None, client.clone()).map_err(|e| {
                        BadInput {
                            message: e.to_string(),
                            help: None,
                        }
                    })?,
                ) as Box<dyn Target>,
                On::Model | On::Missing { .. } => Box::new(ModelTarget::new(internet)),
            })
        });
        match report.verdict {
            Verdict::Passed => Ok(()),
            Verdict::Failed | Verdict::BadInput => Err(Failed::from(render_failure(&report))),
        }
    })
}
