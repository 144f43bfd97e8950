//! What the integration tests that need Envoy share: finding the binary, or saying why the test
//! is skipped (failing instead when `EGRESSBENCH_REQUIRE_ENVOY` is set, as CI sets it).

use std::path::PathBuf;

/// A note on the terminal, past the test harness's output capture (which only takes `print!` and
/// `eprint!`), so that a skip is seen in a passing run.
pub(crate) fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "note: {text}");
}

/// The envoy binary, or `None` after saying why `test` is skipped (panics instead when
/// `EGRESSBENCH_REQUIRE_ENVOY` is set).
pub(crate) fn envoy_or_skip(test: &str) -> Option<PathBuf> {
    match egressbench_envoy::find_envoy() {
        Some(path) => Some(path),
        None if std::env::var_os("EGRESSBENCH_REQUIRE_ENVOY").is_some() => panic!(
            "EGRESSBENCH_REQUIRE_ENVOY is set but no envoy binary was found: run \
             scripts/install-envoy.sh or set EGRESSBENCH_ENVOY"
        ),
        None => {
            note(&format!(
                "{test} skipped: no envoy binary (run scripts/install-envoy.sh, or set \
                 EGRESSBENCH_ENVOY to its path)"
            ));
            None
        }
    }
}
