//! Where each generated object came from: the labels and annotation every generated object
//! carries, and the object builder that attaches them.
//!
//! Owns `Source` (the part of the policy an object stands for), the label and annotation keys, and
//! reading the annotation back. Leaves out the objects' specs (`generate`, `routes`).

use crate::names;
use crate::plan::Plan;
use egressbench_resources::asm::EgressRule;
use egressbench_resources::{Body, ObjectMeta, Resource};

/// Label: the policy's name.
pub const POLICY_LABEL: &str = "asm.egressbench.io/policy";
/// Label: the rule's name (sanitized), or `rule-<i>` for an unnamed rule.
pub const RULE_LABEL: &str = "asm.egressbench.io/rule";
/// Annotation: `ASMEgressTrafficPolicy/<ns>/<name> <field path>`.
pub const GENERATED_FROM: &str = "asm.egressbench.io/generated-from";
/// Rule label of objects shared by several rules (the policy's `Gateway` and gateway
/// `DestinationRule`). It holds `_`, which no sanitized rule name does, so it names no rule.
pub const ALL_RULES: &str = "all_rules";

/// The API version of every generated kind.
const API_VERSION: &str = "networking.istio.io/v1";

/// The part of the policy a generated object stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `spec.egressRules[rule].to[to]`.
    To { rule: usize, to: usize },
    /// `spec.egressRules[rule].from[from]`.
    From { rule: usize, from: usize },
    /// `spec.egressRules[rule]`: several entries of one rule.
    Rule(usize),
    /// `spec.egressRules`: entries of several rules.
    Policy,
}

impl Source {
    pub(crate) fn path(self) -> String {
        match self {
            Source::To { rule, to } => format!("spec.egressRules[{rule}].to[{to}]"),
            Source::From { rule, from } => format!("spec.egressRules[{rule}].from[{from}]"),
            Source::Rule(rule) => format!("spec.egressRules[{rule}]"),
            Source::Policy => "spec.egressRules".to_string(),
        }
    }

    fn rule(self) -> Option<usize> {
        match self {
            Source::To { rule, .. } | Source::From { rule, .. } | Source::Rule(rule) => Some(rule),
            Source::Policy => None,
        }
    }

    /// The narrowest source covering both.
    pub(crate) fn merge(self, other: Source) -> Source {
        if self == other {
            return self;
        }
        match (self.rule(), other.rule()) {
            (Some(a), Some(b)) if a == b => Source::Rule(a),
            _ => Source::Policy,
        }
    }

    /// The narrowest source covering all of `sources` (`Policy` when there are none).
    pub(crate) fn merge_all(sources: impl IntoIterator<Item = Source>) -> Source {
        sources
            .into_iter()
            .reduce(Source::merge)
            .unwrap_or(Source::Policy)
    }
}

/// The rule label of rule `i`: its name made a valid label value, else `rule-<i>`.
pub(crate) fn rule_label(rules: &[EgressRule], i: usize) -> String {
    let name = rules
        .get(i)
        .and_then(|r| r.name.as_deref())
        .map(names::sanitize)
        .unwrap_or_default();
    if name.is_empty() {
        format!("rule-{i}")
    } else {
        names::fit(&name)
    }
}

/// A generated object named `name` in `namespace`, labelled and annotated with its source.
pub(crate) fn object(
    plan: &Plan<'_>,
    name: String,
    namespace: &str,
    source: Source,
    body: Body,
) -> Resource {
    let rule = match source.rule().and_then(|i| plan.rule_labels.get(i)) {
        Some(label) => label.clone(),
        None => ALL_RULES.to_string(),
    };
    let mut meta = ObjectMeta::named(name, namespace);
    meta.labels
        .insert(POLICY_LABEL.to_string(), plan.policy_label.clone());
    meta.labels.insert(RULE_LABEL.to_string(), rule);
    meta.annotations.insert(
        GENERATED_FROM.to_string(),
        format!("{} {}", plan.policy.id, source.path()),
    );
    Resource::new(API_VERSION, meta, body)
}

/// The `generated-from` annotation of `r`, when it has one.
pub(crate) fn generated_from(r: &Resource) -> Option<&str> {
    r.meta.annotations.get(GENERATED_FROM).map(String::as_str)
}

/// The field path part of the `generated-from` annotation (`spec.egressRules[0].to[0]`).
pub(crate) fn source_path(r: &Resource) -> Option<&str> {
    generated_from(r)
        .and_then(|a| a.split_once(' '))
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_resources::asm::EgressRule;

    #[test]
    fn sources_merge_to_the_narrowest_cover() {
        let a = Source::To { rule: 0, to: 0 };
        let b = Source::To { rule: 0, to: 1 };
        let c = Source::From { rule: 1, from: 0 };
        assert_eq!(a.merge(a), a);
        assert_eq!(a.merge(b), Source::Rule(0));
        assert_eq!(a.merge(c), Source::Policy);
        assert_eq!(Source::merge_all([a]), a);
        assert_eq!(Source::merge_all([a, b]), Source::Rule(0));
        assert_eq!(Source::merge_all([]), Source::Policy);
        assert_eq!(b.path(), "spec.egressRules[0].to[1]");
        assert_eq!(c.path(), "spec.egressRules[1].from[0]");
    }

    #[test]
    fn rule_labels_use_names_or_indexes() {
        let rules = vec![
            EgressRule {
                name: Some("To HTTPBin".into()),
                ..EgressRule::default()
            },
            EgressRule::default(),
        ];
        assert_eq!(rule_label(&rules, 0), "to-httpbin");
        assert_eq!(rule_label(&rules, 1), "rule-1");
        assert_ne!(names::sanitize(ALL_RULES), ALL_RULES);
    }
}
