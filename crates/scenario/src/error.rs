//! Why a scenario file could not be loaded: located errors with a fix.
//!
//! Owns: `ScenarioError`, and turning the YAML reader's errors into it (position, the field path,
//! the message, and a `help:` line: the fix the format's own checks attached, or the closest
//! accepted word for a misspelled key). Leaves out: the checks themselves (`format`, `load`).

use super::de::HELP;
use egressbench_manifest::LoadError;
use egressbench_text::suggest::closest;
use egressbench_text::Diagnostic;
use std::fmt;

/// A scenario file that cannot be run: bad input, as opposed to a failed expectation.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario file: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{at}: {message}")]
    Invalid {
        at: At,
        message: String,
        help: Option<String>,
    },
    #[error("{source} (read for `{field}` of {file})")]
    Manifest {
        file: String,
        /// Which part of the scenario named the manifest, e.g. `steps[2].apply`.
        field: String,
        /// Boxed so that results carrying a `ScenarioError` stay small.
        source: Box<LoadError>,
    },
}

impl Diagnostic for ScenarioError {
    fn help(&self) -> Option<String> {
        match self {
            ScenarioError::Read { .. } => Some(
                "name an existing scenario file or a folder of *.yaml scenario files".to_string(),
            ),
            ScenarioError::Invalid { help, .. } => help.clone(),
            ScenarioError::Manifest { source, .. } => source.hint.clone().or_else(|| {
                Some("fix the manifest; `egressbench check FILE` checks it on its own".to_string())
            }),
        }
    }
}

/// Where in a file: `file:line:column`, or just `file` when the position is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub file: String,
    pub position: Option<(usize, usize)>,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// The YAML reader's error, located in `file`, with the message and its fix apart.
pub(crate) fn from_yaml(file: &str, err: &serde_yaml::Error) -> ScenarioError {
    let mut text = err.to_string();
    let position = err.location().map(|l| (l.line(), l.column()));
    if let Some((line, column)) = position {
        let suffix = format!(" at line {line} column {column}");
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_string();
        }
    }
    let (message, help) = match text.split_once(HELP) {
        Some((m, h)) => (m.to_string(), Some(h.to_string())),
        None => {
            let help = did_you_mean(&text);
            (text, help)
        }
    };
    ScenarioError::Invalid {
        at: At {
            file: file.to_string(),
            position,
        },
        message,
        help,
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and the same for variants): the
/// closest accepted word.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.find(p).map(|i| &message[i + p.len()..]))?;
    let (got, rest) = rest.split_once('`')?;
    let accepted: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    if accepted.is_empty() {
        return Some(format!("remove `{got}`: nothing else is accepted here"));
    }
    match closest(got, accepted.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None => Some(format!(
            "use one of {}",
            accepted
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_keys_get_the_closest_word() {
        let m = "steps[0].expect: unknown field `stdot`, expected one of `stdout`, `status`";
        assert_eq!(did_you_mean(m).as_deref(), Some("did you mean `stdout`?"));
        let m = "unknown variant `rest`, expected one of `reset`, `refused`, `timeout`";
        assert_eq!(did_you_mean(m).as_deref(), Some("did you mean `reset`?"));
        let m = "unknown field `colour`, expected `name` or `steps`";
        assert_eq!(
            did_you_mean(m).as_deref(),
            Some("use one of `name`, `steps`")
        );
        assert_eq!(did_you_mean("missing field `name`"), None);
    }

    #[test]
    fn yaml_errors_keep_position_path_and_help_apart() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Doc {
            name: String,
        }
        let err = serde_yaml::from_str::<Doc>("name: a\nnmae: b\n").unwrap_err();
        let ScenarioError::Invalid { at, message, help } = from_yaml("s.yaml", &err) else {
            panic!("expected an Invalid error");
        };
        assert_eq!(at.to_string(), "s.yaml:2:1");
        assert_eq!(message, "unknown field `nmae`, expected `name`");
        assert_eq!(help.as_deref(), Some("did you mean `name`?"));
    }
}
