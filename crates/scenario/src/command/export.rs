//! `export NAME=VALUE` lines, as the documents set `SOURCE_POD` and friends before their commands.
//!
//! Owns: `Export` and its parser: `export NAME=VALUE` or `NAME=VALUE`, where VALUE is one word
//! (variables already set expand in it), or the pod lookup the documents write,
//! `$(kubectl get pod -l KEY=VALUE[,…] [-n NS] -o jsonpath={.items..metadata.name})` (also
//! `{.items[0].metadata.name}`, `-o=jsonpath=…`, `--selector`, `--namespace`,
//! `--field-selector=status.phase=Running`). Leaves out: finding the pods (the scenario loader,
//! which knows the Deployments applied so far).

use super::error::CommandError;
use super::vars::{is_name, Vars};
use super::words::tokenize;

/// A variable a step sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub value: ExportValue,
}

/// Where the value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportValue {
    /// A word, variables expanded.
    Text(String),
    /// The names of the pods matching a label selector (`kubectl get pod -l … -o jsonpath=…`):
    /// all of them separated by spaces (`{.items..metadata.name}`), or the first
    /// (`{.items[0].metadata.name}`).
    PodNames {
        namespace: Option<String>,
        selector: Vec<(String, String)>,
        first_only: bool,
    },
}

const POD_LOOKUP: &str =
    "$(kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name}), or a plain value";

fn usage(message: String) -> CommandError {
    CommandError::Usage {
        program: "export",
        message,
    }
}

/// Read `line` as an `export`, if it is one (`None`: the line does not assign a variable).
pub(crate) fn parse_export(line: &str, vars: &Vars) -> Option<Result<Export, CommandError>> {
    let text = line.trim();
    let rest = text.strip_prefix("export ").map_or(text, str::trim_start);
    let (name, value) = rest.split_once('=')?;
    if !is_name(name) {
        return text.starts_with("export ").then(|| {
            Err(usage(format!(
                "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
            )))
        });
    }
    Some(read_value(value.trim_end(), vars).map(|value| Export {
        name: name.to_string(),
        value,
    }))
}

fn read_value(value: &str, vars: &Vars) -> Result<ExportValue, CommandError> {
    let inner = value
        .strip_prefix("\"$(")
        .and_then(|v| v.strip_suffix(")\""))
        .or_else(|| value.strip_prefix("$(").and_then(|v| v.strip_suffix(')')));
    if let Some(inner) = inner {
        return pod_lookup(inner, vars);
    }
    let words: Vec<String> = tokenize(value, Some(vars))?
        .into_iter()
        .map(|t| {
            t.word().map(str::to_string).ok_or_else(|| {
                usage(format!(
                    "the value `{value}` holds shell operators; quote it"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    match words.as_slice() {
        [] => Ok(ExportValue::Text(String::new())),
        [one] => Ok(ExportValue::Text(one.clone())),
        _ => Err(usage(format!(
            "the value `{value}` is several words; quote it, or write {POD_LOOKUP}"
        ))),
    }
}

/// `kubectl get pod -l SELECTOR [-n NS] -o jsonpath=EXPR`, the words inside `$(…)`.
fn pod_lookup(inner: &str, vars: &Vars) -> Result<ExportValue, CommandError> {
    let words: Vec<String> = tokenize(inner, Some(vars))?
        .into_iter()
        .map(|t| {
            t.word()
                .map(str::to_string)
                .ok_or_else(|| usage(format!("`$({inner})` must be one kubectl command")))
        })
        .collect::<Result<_, _>>()?;
    let unsupported = || {
        usage(format!(
            "`$({inner})` is not supported here; write {POD_LOOKUP}"
        ))
    };
    let Some(("kubectl", args)) = words.split_first().map(|(p, a)| (p.as_str(), a)) else {
        return Err(unsupported());
    };
    let mut namespace = None;
    let mut selector = None;
    let mut jsonpath = None;
    let mut positional = Vec::new();
    let mut rest = args.iter();
    while let Some(w) = rest.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| CommandError::MissingValue {
                    program: "kubectl",
                    flag: flag.to_string(),
                })
        };
        match flag {
            "-n" | "--namespace" => namespace = Some(value()?),
            "-l" | "--selector" => selector = Some(value()?),
            "-o" | "--output" => jsonpath = Some(value()?),
            "--field-selector" => {
                if value()? != "status.phase=Running" {
                    return Err(usage(
                        "only --field-selector=status.phase=Running is supported (every pod here runs)"
                            .into(),
                    ));
                }
            }
            f if f.starts_with("-ojsonpath=") => {
                jsonpath = f.strip_prefix("-o").map(str::to_string)
            }
            f if f.starts_with('-') => return Err(unsupported()),
            _ => positional.push(w.clone()),
        }
    }
    if !matches!(
        positional
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["get", "pod" | "pods" | "po"]
    ) {
        return Err(unsupported());
    }
    let selector = selector.ok_or_else(|| {
        usage(format!(
            "`$({inner})` needs a label selector (-l app=NAME) to find the pod"
        ))
    })?;
    let selector = super::kubectl::labels(&selector)?;
    let path = jsonpath
        .as_deref()
        .and_then(|o| o.strip_prefix("jsonpath="))
        .ok_or_else(|| {
            usage(format!(
                "`$({inner})` needs -o jsonpath={{.items..metadata.name}}"
            ))
        })?;
    let first_only = match path {
        "{.items..metadata.name}" | "{.items[*].metadata.name}" => false,
        "{.items[0].metadata.name}" => true,
        other => {
            return Err(usage(format!(
                "the jsonpath `{other}` is not supported; use {{.items..metadata.name}} or \
                 {{.items[0].metadata.name}}"
            )))
        }
    };
    Ok(ExportValue::PodNames {
        namespace,
        selector,
        first_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(line: &str) -> Export {
        parse_export(line, &Vars::default()).unwrap().unwrap()
    }

    fn err(line: &str) -> String {
        parse_export(line, &Vars::default())
            .unwrap()
            .unwrap_err()
            .to_string()
    }

    fn pods(ns: Option<&str>, sel: &[(&str, &str)], first_only: bool) -> ExportValue {
        ExportValue::PodNames {
            namespace: ns.map(str::to_string),
            selector: sel
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            first_only,
        }
    }

    #[test]
    fn the_documents_pod_lookups() {
        let e = export(
            "export SOURCE_POD=$(kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name})",
        );
        assert_eq!(e.name, "SOURCE_POD");
        assert_eq!(e.value, pods(None, &[("app", "sleep")], false));
        let e = export(
            r#"export GATEWAY_POD="$(kubectl get pod -n istio-system -l istio=egressgateway,app=istio-egressgateway -o jsonpath='{.items[0].metadata.name}')""#,
        );
        assert_eq!(
            e.value,
            pods(
                Some("istio-system"),
                &[("istio", "egressgateway"), ("app", "istio-egressgateway")],
                true
            )
        );
        let e = export("SOURCE_POD=$(kubectl get pods --namespace=foo --selector=app=curl --field-selector=status.phase=Running -o=jsonpath={.items[*].metadata.name})");
        assert_eq!(e.value, pods(Some("foo"), &[("app", "curl")], false));
    }

    #[test]
    fn plain_values_expand_variables() {
        let mut vars = Vars::default();
        vars.set("INGRESS_HOST", "10.96.0.50");
        let e = parse_export("export GATEWAY_URL=$INGRESS_HOST:80", &vars)
            .unwrap()
            .unwrap();
        assert_eq!(e.value, ExportValue::Text("10.96.0.50:80".into()));
        assert_eq!(export("A='x y'").value, ExportValue::Text("x y".into()));
    }

    #[test]
    fn other_lines_are_not_exports_and_bad_ones_say_why() {
        assert!(parse_export("kubectl apply -f a.yaml", &Vars::default()).is_none());
        assert!(parse_export("curl http://a?x=1", &Vars::default()).is_none());
        assert!(err("export 1A=x").contains("not a variable name"));
        assert!(err("export A=$(kubectl get svc x)").contains("not supported"));
        assert!(
            err("export A=$(kubectl get pod -o jsonpath={.items..metadata.name})")
                .contains("label selector")
        );
        assert!(
            err("export A=$(kubectl get pod -l app -o jsonpath={.items..metadata.name})")
                .contains("KEY=VALUE")
        );
        assert!(err("export A=$(kubectl get pod -l app=x -o name)").contains("jsonpath"));
        assert!(
            err("export A=$(kubectl get pod -l app=x -o jsonpath={.items[1].spec})")
                .contains("not supported")
        );
        assert!(err("export A=x y").contains("several words"));
        assert!(err("export A=$B").contains("`$B` is not set"));
    }
}
