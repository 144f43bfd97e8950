//! What a document says it is, read before anything else: `apiVersion`, `kind`, and the
//! identity used in notes (`metadata.namespace`/`metadata.name`).
//!
//! Owns: the checks on those two keys (present, text, a kind egressbench models, a group/version
//! that kind is served under) and the decision to skip a kind. Leaves out: reading the rest of
//! the object (`object`).

use super::diag::Diag;
use super::field_path::FieldPath;
use super::locate::{self, Pos};
use egressbench_resources::Kind;
use egressbench_text::suggest;
use serde_yaml::Value;

/// What a document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum What {
    /// A kind egressbench models, at an accepted group/version.
    Known(Kind),
    /// kubectl's `List` of objects.
    List,
    /// Some other kind: skipped, with this note.
    Skipped(String),
}

/// The header of the object at `at` in document `text`, parsed as `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub api_version: String,
    pub what: What,
}

/// Read and check `apiVersion` and `kind` of the object `value` (at `at` in `text`).
pub(crate) fn read(text: &str, at: &FieldPath, value: &Value) -> Result<Header, Diag> {
    let object_pos = || locate::value_at(text, at).unwrap_or(Pos::new(1, 1));
    let Value::Mapping(map) = value else {
        return Err(Diag::new(
            object_pos(),
            format!(
                "expected a Kubernetes object (a mapping with `apiVersion`, `kind` and `metadata`), found {}",
                describe(value)
            ),
        ));
    };
    let text_field = |key: &str| -> Result<Option<String>, Diag> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                let pos = locate::value_at(text, &at.key(key)).unwrap_or_else(object_pos);
                Err(Diag::new(
                    pos,
                    format!("`{key}` must be text, found {}", describe(other)),
                ))
            }
        }
    };
    let api_version = text_field("apiVersion")?;
    let kind = text_field("kind")?;
    let (api_version, kind) = match (api_version, kind) {
        (Some(a), Some(k)) => (a, k),
        (a, k) => {
            let missing = match (&a, &k) {
                (None, None) => "`apiVersion` and `kind`",
                (None, Some(_)) => "`apiVersion`",
                _ => "`kind`",
            };
            let mut d = Diag::new(object_pos(), format!("document has no {missing}"));
            d.hint = Some(
                "every Kubernetes object starts with `apiVersion:` and `kind:`, e.g. \
                 `apiVersion: networking.istio.io/v1` and `kind: ServiceEntry`"
                    .into(),
            );
            return Err(d);
        }
    };
    let kind_pos = || locate::value_at(text, &at.key("kind")).unwrap_or_else(object_pos);
    let version_pos = || locate::value_at(text, &at.key("apiVersion")).unwrap_or_else(object_pos);

    if kind == "List" {
        return Ok(Header {
            api_version,
            what: What::List,
        });
    }
    let Some(known) = Kind::ALL.into_iter().find(|k| k.as_str() == kind) else {
        return unknown_kind(&api_version, &kind, value, kind_pos).map(|note| Header {
            api_version,
            what: What::Skipped(note),
        });
    };
    check_version(known, &api_version)
        .map_err(|(message, hint)| Diag::new(version_pos(), message).with_hint(Some(hint)))?;
    Ok(Header {
        api_version,
        what: What::Known(known),
    })
}

/// A kind egressbench does not model: a note, unless it looks like a misspelt one of its own.
fn unknown_kind(
    api_version: &str,
    kind: &str,
    value: &Value,
    kind_pos: impl Fn() -> Pos,
) -> Result<String, Diag> {
    let (group, _) = split_api_version(api_version);
    if let Some(k) = Kind::ALL
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(kind))
    {
        return Err(Diag::new(kind_pos(), format!("unknown kind `{kind}`"))
            .with_hint(Some(format!("kinds are case-sensitive: write `{k}`"))));
    }
    let names = Kind::ALL.map(Kind::as_str);
    if let Some(best) = suggest::closest(kind, names) {
        let same_group = Kind::ALL
            .into_iter()
            .any(|k| k.as_str() == best && k.groups().contains(&group));
        if same_group {
            return Err(Diag::new(
                kind_pos(),
                format!("unknown kind `{kind}` in `{api_version}`"),
            )
            .with_hint(Some(format!("did you mean `{best}`?"))));
        }
    }
    Ok(format!(
        "skipped {}: kind not modelled by egressbench",
        identity(kind, value)
    ))
}

/// `Kind/namespace/name` (or `Kind/name` without a namespace) from the raw object.
fn identity(kind: &str, value: &Value) -> String {
    let meta = value.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => format!("{kind}/{ns}/{name}"),
        (None, Some(name)) => format!("{kind}/{name}"),
        (_, None) => format!("{kind} (unnamed)"),
    }
}

/// `group/version` → (group, version); the core group is `""`.
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// Is `kind` served at `api_version`? Otherwise the message and the accepted list as a hint.
fn check_version(kind: Kind, api_version: &str) -> Result<(), (String, String)> {
    let (group, version) = split_api_version(api_version);
    if kind.groups().contains(&group) && kind.versions().contains(&version) {
        return Ok(());
    }
    let accepted: Vec<String> = kind
        .groups()
        .iter()
        .flat_map(|g| {
            kind.versions().iter().map(move |v| match *g {
                "" => v.to_string(),
                g => format!("{g}/{v}"),
            })
        })
        .collect();
    let listed = accepted
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!("{kind} is not served as `{api_version}`; accepted: {listed}");
    let hint = match suggest::closest(api_version, accepted.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None if kind.groups().contains(&group) => {
            format!(
                "{kind} exists in `{group}` with versions {}",
                kind.versions().join(", ")
            )
        }
        None => format!(
            "{kind} belongs to the API group `{}`",
            kind.groups().first().copied().unwrap_or("")
        ),
    };
    Err((message, hint))
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header, Diag> {
        let value: Value = serde_yaml::from_str(text).unwrap_or(Value::Null);
        read(text, &FieldPath::root(), &value)
    }

    #[test]
    fn known_kinds_and_versions() {
        for (api, kind) in [
            ("networking.istio.io/v1alpha3", Kind::ServiceEntry),
            ("networking.istio.io/v1", Kind::Sidecar),
            ("security.istio.io/v1beta1", Kind::AuthorizationPolicy),
            (
                "istio.alibabacloud.com/v1beta1",
                Kind::AsmEgressTrafficPolicy,
            ),
            ("apps/v1", Kind::Deployment),
            ("v1", Kind::ConfigMap),
        ] {
            let h = header(&format!("apiVersion: {api}\nkind: {kind}\n"));
            assert_eq!(h.map(|h| h.what), Ok(What::Known(kind)), "{api} {kind}");
        }
    }

    #[test]
    fn wrong_version_names_the_accepted_ones() {
        let d = header("apiVersion: networking.istio.io/v2\nkind: ServiceEntry\n").unwrap_err();
        assert_eq!(d.pos, Pos::new(1, 13));
        assert_eq!(
            d.message,
            "ServiceEntry is not served as `networking.istio.io/v2`; accepted: \
             `networking.istio.io/v1`, `networking.istio.io/v1beta1`, `networking.istio.io/v1alpha3`"
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("did you mean `networking.istio.io/v1`?")
        );
        let d =
            header("apiVersion: networking.istio.io/v1\nkind: AuthorizationPolicy\n").unwrap_err();
        assert!(
            d.message.contains("`security.istio.io/v1`"),
            "{}",
            d.message
        );
    }

    #[test]
    fn missing_header_keys() {
        let d = header("# c\nmetadata: {name: x}\nkind: ServiceEntry\n").unwrap_err();
        assert_eq!(
            (d.pos, d.message.as_str()),
            (Pos::new(2, 1), "document has no `apiVersion`")
        );
        let d = header("apiVersion: v1\nmetadata: {name: x}\n").unwrap_err();
        assert_eq!(d.message, "document has no `kind`");
        let d = header("apiVersion: v1\nkind: [Service]\n").unwrap_err();
        assert_eq!(
            (d.pos, d.message.as_str()),
            (Pos::new(2, 7), "`kind` must be text, found a sequence")
        );
        let d = header("- a\n- b\n").unwrap_err();
        assert!(d.message.ends_with("found a sequence"), "{}", d.message);
    }

    #[test]
    fn other_kinds_are_noted() {
        let h = header(
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\n",
        );
        assert_eq!(
            h.map(|h| h.what),
            Ok(What::Skipped(
                "skipped PeerAuthentication/istio-system/default: kind not modelled by egressbench"
                    .into()
            ))
        );
        let h = header("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x.y}\n");
        assert!(
            matches!(h.map(|h| h.what), Ok(What::Skipped(n)) if n.contains("CustomResourceDefinition/x.y"))
        );
        assert_eq!(
            header("apiVersion: v1\nkind: List\nitems: []\n").map(|h| h.what),
            Ok(What::List)
        );
    }

    #[test]
    fn misspelt_kinds_are_errors() {
        let d = header("apiVersion: networking.istio.io/v1\nkind: ServiceEntri\n").unwrap_err();
        assert_eq!(d.pos, Pos::new(2, 7));
        assert_eq!(d.hint.as_deref(), Some("did you mean `ServiceEntry`?"));
        let d = header("apiVersion: networking.istio.io/v1\nkind: serviceentry\n").unwrap_err();
        assert_eq!(
            d.hint.as_deref(),
            Some("kinds are case-sensitive: write `ServiceEntry`")
        );
    }
}
