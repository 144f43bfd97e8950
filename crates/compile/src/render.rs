//! Rendering compiled objects as YAML `kubectl apply -f -` takes: one document per object, each
//! headed by a comment naming the policy and rule it came from, the policy's warnings on top.
//!
//! Owns the text layout only. Leaves out the objects (`generate`, `routes`) and their manifest
//! form (`Resource::to_manifest`).

use crate::provenance::{generated_from, RULE_LABEL};
use crate::Compiled;
use egressbench_resources::Resource;

/// Multi-document YAML for `compiled`: warnings as leading comments, then `---`, a comment line
/// and the manifest of each object.
pub fn render_yaml(compiled: &Compiled) -> String {
    let mut out = String::new();
    for w in &compiled.warnings {
        out.push_str(&comment(&format!("warning: {w}")));
    }
    for r in &compiled.resources {
        out.push_str("---\n");
        if let Some(head) = heading(r) {
            out.push_str(&comment(&head));
        }
        out.push_str(&serde_yaml::to_string(&r.to_manifest()).unwrap_or_default());
    }
    out
}

/// `Kind ns/name: from ASMEgressTrafficPolicy/ns/P spec.egressRules[i].to[j], rule `r``.
fn heading(r: &Resource) -> Option<String> {
    let from = generated_from(r)?;
    let rule = r
        .meta
        .labels
        .get(RULE_LABEL)
        .map(|l| format!(", rule `{l}`"))
        .unwrap_or_default();
    Some(format!(
        "{} {}/{}: from {from}{rule}",
        r.kind(),
        r.namespace(),
        r.name()
    ))
}

/// `text` as one YAML comment line.
fn comment(text: &str) -> String {
    format!("# {}\n", text.replace(['\n', '\r'], " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{compile_policy, fixtures};
    use serde::Deserialize;

    #[test]
    fn every_document_reparses_with_a_heading() {
        let store = fixtures::cluster();
        let mut compiled = compile_policy(
            &store,
            &fixtures::policy(fixtures::V1, &fixtures::seed_upgrade()),
        )
        .unwrap();
        compiled.warnings.push("two\nlines".into());
        let text = render_yaml(&compiled);

        assert!(text.starts_with("# warning: "), "{text}");
        assert!(text.contains("# warning: two lines\n"));
        let docs: Vec<&str> = text.split("---\n").skip(1).collect();
        assert_eq!(docs.len(), compiled.resources.len());
        for (doc, r) in docs.iter().zip(&compiled.resources) {
            let first = doc.lines().next().unwrap_or_default();
            assert!(
                first.starts_with(&format!(
                    "# {} {}/{}: from ",
                    r.kind(),
                    r.namespace(),
                    r.name()
                )),
                "{first}"
            );
            assert!(first.contains("ASMEgressTrafficPolicy/istio-egress/egress-by-egressgateway"));
            assert!(first.contains("rule `rule-0`"), "{first}");
        }

        let mut parsed = 0;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = serde_yaml::Value::deserialize(doc).unwrap();
            for key in ["apiVersion", "kind", "metadata", "spec"] {
                assert!(v.get(key).is_some(), "{key} missing in {v:?}");
            }
            assert_eq!(v["apiVersion"].as_str(), Some("networking.istio.io/v1"));
            assert!(v["metadata"]["name"].as_str().is_some());
            assert!(v["metadata"]["namespace"].as_str().is_some());
            parsed += 1;
        }
        assert_eq!(parsed, compiled.resources.len());
    }
}
