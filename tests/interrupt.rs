//! Stopping a run on real Envoy half-way: SIGTERM to `egressbench run --target envoy` and SIGINT
//! (Ctrl-C) to `egressbench table --target envoy` end it with 143 and 130 and leave no Envoy
//! process and no temporary folder behind; SIGKILL, which no handler sees, still leaves no
//! process (each Envoy's watch sees the run's pipe close).
//!
//! Each run gets a temporary folder of its own (`TMPDIR`): what is left of the run is what is
//! left in it, and every process whose command line names it. Without an envoy binary the tests
//! are skipped with a note, unless `EGRESSBENCH_REQUIRE_ENVOY` is set (CI sets it).

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::envoy_or_skip;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_egressbench");

/// A scenario that runs for several seconds on Envoy (its `/delay/5` takes 5 s of real time).
const LONG: &str = "scenarios/istio-egress-control-serviceentries-and-timeout.yaml";

/// The processes whose command line names `dir` (the Envoys of a run, and their watches).
fn processes_in(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(&needle) {
            found.push(format!("{name}: {text}"));
        }
    }
    found
}

/// Whether an Envoy of the run has served a request (written to its access log): its proxies are
/// up, well past reading their configs.
fn served(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|run| {
            std::fs::read_dir(run.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .any(|f| {
            f.path().extension().is_some_and(|e| e == "log")
                && f.metadata().is_ok_and(|m| m.len() > 0)
        })
}

/// Wait until `check` holds, up to `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// A fresh, empty temporary folder for one run.
fn run_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "egressbench-interrupt-{test}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the run's folder");
    dir
}

/// `egressbench ARGS` with its temporary files in `dir`, started.
fn start(args: &[&str], dir: &Path, envoy: &Path) -> Child {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", dir)
        .env("EGRESSBENCH_ENVOY", envoy)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("egressbench starts")
}

/// Send `signal` (`TERM`, `INT`, `KILL`) to `child`, and wait for it to end.
fn signal_and_wait(child: &mut Child, signal: &str) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal} {}", child.id());
    let mut status = None;
    assert!(
        wait_for(Duration::from_secs(30), || {
            status = child.try_wait().expect("waitable");
            status.is_some()
        }),
        "egressbench did not end within 30 s of SIG{signal}"
    );
    status.expect("ended")
}

/// One run at a time: runs started together race for Envoy's loopback ports.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Start `args`, wait until its Envoys serve, send `signal`; return the run's exit status and
/// folder.
fn interrupted(
    test: &str,
    args: &[&str],
    signal: &str,
) -> Option<(std::process::ExitStatus, PathBuf)> {
    let envoy = envoy_or_skip(test)?;
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = run_dir(test);
    let mut child = start(args, &dir, &envoy);
    let running = wait_for(Duration::from_secs(60), || {
        processes_in(&dir).len() >= 2 && served(&dir)
    });
    if !running {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no Envoy of the run served a request within 60 s");
    }
    let status = signal_and_wait(&mut child, signal);
    Some((status, dir))
}

/// Nothing of the run is left in `dir`, nor running from it, within 10 s.
fn nothing_left(dir: &Path, folders_too: bool) {
    assert!(
        wait_for(Duration::from_secs(10), || processes_in(dir).is_empty()),
        "processes left behind: {:#?}",
        processes_in(dir)
    );
    if folders_too {
        let left: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("the run's folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "temporary files left behind: {left:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigterm_ends_a_run_on_envoy_and_leaves_nothing_behind() {
    let Some((status, dir)) = interrupted("sigterm", &["run", "--target", "envoy", LONG], "TERM")
    else {
        return;
    };
    assert_eq!(status.code(), Some(143), "{status}");
    nothing_left(&dir, true);
}

#[test]
fn ctrl_c_ends_a_table_on_envoy_and_leaves_nothing_behind() {
    let Some((status, dir)) = interrupted(
        "sigint",
        &["table", "--target", "model", "--target", "envoy", LONG],
        "INT",
    ) else {
        return;
    };
    assert_eq!(status.code(), Some(130), "{status}");
    nothing_left(&dir, true);
}

#[test]
fn sigkill_leaves_no_envoy_running() {
    let Some((status, dir)) = interrupted("sigkill", &["run", "--target", "envoy", LONG], "KILL")
    else {
        return;
    };
    assert_eq!(status.code(), None, "ended by the signal: {status}");
    // The folder stays (nothing runs after SIGKILL to remove it); the processes do not.
    nothing_left(&dir, false);
}
