//! Every scenario in `scenarios/` as a test, on every target that can run it: one trial per
//! scenario per target, named `<target>::<file stem>` (so `cargo test --test scenarios -- 000-`
//! filters as usual). A failing trial prints the same failure section as `egressbench run`; a file
//! that does not load is a failing trial, not a panic.
//!
//! Targets: `model` (the reference semantics), `sim` (the simulated mesh, built-in client),
//! `sim-curl` (the simulated mesh driven by the real `curl` binary) and `envoy` (one real Envoy
//! per proxy). Without a curl binary the `sim-curl` trials are ignored with a note saying why,
//! unless `EGRESSBENCH_REQUIRE_CURL` is set (CI sets it), in which case they fail; likewise the
//! `envoy` trials without an envoy binary and `EGRESSBENCH_REQUIRE_ENVOY`.

use egressbench::envoy::find_envoy;
use egressbench::report::human::render_failure;
use egressbench::scenario::{discover, run_file, BadInput, Verdict};
use egressbench::sim::client::find_curl;
use egressbench::sim::ClientKind;
use egressbench::target::{EnvoyTarget, ModelTarget, SimTarget, Target};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

/// Where a trial runs.
#[derive(Debug, Clone)]
enum On {
    Model,
    Sim(ClientKind),
    /// The real-curl trials, when there is no curl to run them with.
    NoCurl,
    Envoy,
    /// The Envoy trials, when there is no envoy binary to run them with.
    NoEnvoy,
}

impl On {
    fn name(&self) -> &'static str {
        match self {
            On::Model => "model",
            On::Sim(ClientKind::BuiltIn) => "sim",
            On::Sim(ClientKind::RealCurl(_)) | On::NoCurl => "sim-curl",
            On::Envoy | On::NoEnvoy => "envoy",
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let curl = match find_curl() {
        Some(path) => On::Sim(ClientKind::RealCurl(path)),
        None => {
            eprintln!(
                "note: no curl binary found, so the sim-curl trials are ignored \
                 (install curl, or set EGRESSBENCH_CURL to its path)"
            );
            On::NoCurl
        }
    };
    let envoy = match find_envoy() {
        Some(_) => On::Envoy,
        None => {
            eprintln!(
                "note: no envoy binary found, so the envoy trials are ignored \
                 (run scripts/install-envoy.sh, or set EGRESSBENCH_ENVOY to its path)"
            );
            On::NoEnvoy
        }
    };
    let targets = [On::Model, On::Sim(ClientKind::BuiltIn), curl, envoy];
    let trials = match discover(std::slice::from_ref(&folder)) {
        Ok(files) => files
            .into_iter()
            .flat_map(|file| targets.clone().map(|on| trial(on, file.clone())))
            .collect(),
        Err(e) => vec![Trial::test("scenarios", move || {
            Err(Failed::from(format!("{e}\nhelp: {}", e.help())))
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
    if matches!(on, On::NoCurl) {
        let required = std::env::var_os("EGRESSBENCH_REQUIRE_CURL").is_some();
        return Trial::test(name, move || {
            Err(Failed::from(
                "no curl binary: install curl (apt-get install curl) or set EGRESSBENCH_CURL",
            ))
        })
        .with_ignored_flag(!required);
    }
    if matches!(on, On::NoEnvoy) {
        let required = std::env::var_os("EGRESSBENCH_REQUIRE_ENVOY").is_some();
        return Trial::test(name, move || {
            Err(Failed::from(
                "no envoy binary: run scripts/install-envoy.sh or set EGRESSBENCH_ENVOY",
            ))
        })
        .with_ignored_flag(!required);
    }
    Trial::test(name, move || {
        let target = on.name();
        let report = run_file(&file, target, |internet| {
            Ok(match &on {
                On::Sim(client) => Box::new(
                    SimTarget::with_client(internet, client.clone()).map_err(|e| BadInput {
                        message: e.to_string(),
                        help: None,
                    })?,
                ) as Box<dyn Target>,
                On::Envoy => Box::new(EnvoyTarget::new(internet).map_err(|e| BadInput {
                    message: e.to_string(),
                    help: None,
                })?) as Box<dyn Target>,
                On::Model | On::NoCurl | On::NoEnvoy => Box::new(ModelTarget::new(internet)),
            })
        });
        match report.verdict {
            Verdict::Passed => Ok(()),
            Verdict::Failed | Verdict::BadInput => Err(Failed::from(render_failure(&report))),
        }
    })
}
