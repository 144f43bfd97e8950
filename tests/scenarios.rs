//! Every scenario in `scenarios/` as a test, on every target that can run it: one trial per
//! scenario per target, named `<target>::<file stem>` (so `cargo test --test scenarios -- 000-`
//! filters as usual). A failing trial prints the same failure section as `egressbench run`; a file
//! that does not load is a failing trial, not a panic.

use egressbench::report::human::render_failure;
use egressbench::scenario::{discover, run_file, Verdict};
use egressbench::target::{ModelTarget, SimTarget, Target};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

/// The targets scenarios run on, by report name.
const TARGETS: [&str; 2] = ["model", "sim"];

fn main() {
    let args = Arguments::from_args();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let trials = match discover(std::slice::from_ref(&folder)) {
        Ok(files) => files
            .into_iter()
            .flat_map(|file| TARGETS.map(|target| trial(target, file.clone())))
            .collect(),
        Err(e) => vec![Trial::test("scenarios", move || {
            Err(Failed::from(format!("{e}\nhelp: {}", e.help())))
        })],
    };
    libtest_mimic::run(&args, trials).exit();
}

fn trial(target: &'static str, file: PathBuf) -> Trial {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Trial::test(format!("{target}::{stem}"), move || {
        let report = run_file(&file, target, |internet| {
            Ok(match target {
                "sim" => Box::new(SimTarget::new(internet).map_err(|e| {
                    egressbench::scenario::BadInput {
                        message: e.to_string(),
                        help: None,
                    }
                })?) as Box<dyn Target>,
                _ => Box::new(ModelTarget::new(internet)),
            })
        });
        match report.verdict {
            Verdict::Passed => Ok(()),
            Verdict::Failed | Verdict::BadInput => Err(Failed::from(render_failure(&report))),
        }
    })
}
