//! `export NAME=VALUE` lines, as the documents set `SOURCE_POD` and friends before their commands.
//!
//! Owns: `Export` and its parser: `export NAME=VALUE` or `NAME=VALUE`, where VALUE is one word
//! read as the shell reads it (variables and the pod lookup `$(kubectl get pod …)` expanded, see
//! `words`). Leaves out: what the expansions give (`env`, `lookup`).

use super::env::{is_name, Env};
use super::error::CommandError;
use super::words::tokenize;

/// A variable a step sets, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub value: String,
}

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "export",
        message,
    }
}

/// Read `line` as an `export`, if it is one (`None`: the line does not assign a variable).
pub(crate) fn parse_export(line: &str, env: &Env) -> Option<Result<Export, CommandError>> {
    let text = line.trim();
    let exported = text.strip_prefix("export ").map(str::trim_start);
    let (name, value) = exported.unwrap_or(text).split_once('=')?;
    if !is_name(name) {
        return exported.is_some().then(|| {
            Err(usage(format!(
                "`{name}` is not a variable name (letters, digits and `_`, not starting with a \
                 digit)"
            )))
        });
    }
    Some(read_value(value.trim_end(), env).map(|value| Export {
        name: name.to_string(),
        value,
    }))
}

fn read_value(value: &str, env: &Env) -> Result<String, CommandError> {
    let tokens = tokenize(value, Some(env))?;
    let words: Vec<&str> = tokens.iter().filter_map(|t| t.word()).collect();
    if words.len() != tokens.len() {
        return Err(usage(format!(
            "the value `{value}` holds shell operators; quote it"
        )));
    }
    match words.as_slice() {
        [] => Ok(String::new()),
        [one] => Ok((*one).to_string()),
        _ => Err(usage(format!(
            "the value `{value}` is several words; quote it"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::request::WorkloadRef;
    use egressbench_resources::kube::pod_name;

    fn export(line: &str, env: &Env) -> Export {
        parse_export(line, env).unwrap().unwrap()
    }

    fn err(line: &str) -> String {
        parse_export(line, &Env::default())
            .unwrap()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn values_are_read_as_the_shell_reads_them() {
        let mut env = Env::default();
        env.set("INGRESS_HOST", "10.96.0.50");
        env.add_pod(
            WorkloadRef::new("default", "sleep"),
            vec![("app".into(), "sleep".into())],
            vec!["sleep".to_string()],
        );
        let e = export("export GATEWAY_URL=$INGRESS_HOST:80", &env);
        assert_eq!(
            (e.name.as_str(), e.value.as_str()),
            ("GATEWAY_URL", "10.96.0.50:80")
        );
        assert_eq!(export("A='x y'", &env).value, "x y");
        let e = export(
            "export SOURCE_POD=$(kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name})",
            &env,
        );
        assert_eq!(e.value, pod_name("default", "sleep"));
    }

    #[test]
    fn other_lines_are_not_exports_and_bad_ones_say_why() {
        assert!(parse_export("kubectl apply -f a.yaml", &Env::default()).is_none());
        assert!(parse_export("curl http://a?x=1", &Env::default()).is_none());
        assert!(err("export 1A=x").contains("not a variable name"));
        assert!(err("export A=x y").contains("several words"));
        assert!(err("export A=$B").contains("`$B` is not set"));
        assert!(err("export A=x|y").contains("operators"));
    }
}
