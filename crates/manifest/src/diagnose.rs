//! From a typed read's failure to a `Diag`: what went wrong, at which field, on which line, and a
//! hint.
//!
//! Owns: reading serde's messages (unknown field, missing field, wrong type, bad word), naming
//! the field path, placing the error on the offending token (the key of an unknown field, the
//! value of a bad one) and choosing the hint. Leaves out: syntax errors (`syntax`) and walking
//! documents (`typed`, `locate`).

use super::diag::Diag;
use super::field_path::FieldPath;
use super::hints;
use super::locate::{self, Pos};
use egressbench_resources::Kind;
use egressbench_text::suggest;

/// What a typed read was about, for messages and hints.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ctx<'a> {
    /// The kind being read, when known (selects the hint table's entries).
    pub kind: Option<Kind>,
    /// The fields of that kind's `spec`, to spot spec fields written at the top level.
    pub spec_fields: &'a [&'static str],
    /// The place the text sits in, when it is not a document of its own (`data.mesh`).
    pub within: Option<&'a str>,
}

impl Ctx<'_> {
    /// A path as shown in messages: `spec.ports[0]`, `the top level`, `mode in data.mesh`.
    fn show(&self, path: &FieldPath) -> String {
        match (path.is_root(), self.within) {
            (true, None) => "the top level".into(),
            (true, Some(w)) => format!("the top level of {w}"),
            (false, None) => path.to_string(),
            (false, Some(w)) => format!("{path} in {w}"),
        }
    }
}

/// Explain `err`, raised while reading `text` with `path` the deepest field reached.
pub(crate) fn data_error(text: &str, path: &FieldPath, err: &serde_yaml::Error, ctx: &Ctx) -> Diag {
    let fallback = locate::error_pos(err).unwrap_or(Pos::new(1, 1));
    let message = bare_message(err, path);
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            return unknown_field(text, path, field, tail, ctx, fallback);
        }
    }
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let parent = if path.last_key() == Some(field) {
            path.parent()
        } else {
            path.clone()
        };
        let pos = locate::key_at(text, &parent, field, 1).unwrap_or(fallback);
        return Diag::new(
            pos,
            format!("duplicate key `{field}` in {}", ctx.show(&parent)),
        );
    }
    if message.starts_with("missing field `") {
        // Point at the mapping's own key (`spec:`), or at a list item's first key.
        let pos = match path.last_key() {
            Some(key) => locate::key_at(text, &path.parent(), key, 0),
            None => locate::value_at(text, path),
        };
        let message = format!("{message} at {}", ctx.show(path));
        return Diag::new(pos.unwrap_or(fallback), message);
    }
    // A value that is wrong: point at it, name its path.
    let pos = locate::value_at(text, path).unwrap_or(fallback);
    let (message, hint) = split_suggestion(&message);
    let hint = hint.or_else(|| type_hint(&message, path));
    Diag::new(pos, format!("{message} at {}", ctx.show(path))).with_hint(hint)
}

/// Help for the usual shape mistakes: a quoted number, one value where a list goes, a list
/// where a mapping goes.
fn type_hint(message: &str, path: &FieldPath) -> Option<String> {
    let field = path.last_key().unwrap_or("this field");
    let (found, expected) = message
        .strip_prefix("invalid type: ")?
        .split_once(", expected ")?;
    let quoted_number = found
        .strip_prefix("string \"")
        .and_then(|s| s.strip_suffix('"'))
        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()));
    let numeric = ["u16", "u32", "u64", "i32", "i64", "f64"].contains(&expected);
    if quoted_number && numeric {
        return Some("remove the quotes: a number is expected here".into());
    }
    if expected == "a sequence" && !found.starts_with("sequence") {
        return Some(format!(
            "`{field}` is a list: put each entry on its own `- ` line, or write `[a, b]`"
        ));
    }
    if expected == "a map" && found.starts_with("sequence") {
        return Some(format!(
            "`{field}` is a mapping of `key: value` pairs, not a list"
        ));
    }
    None
}

fn unknown_field(
    text: &str,
    path: &FieldPath,
    field: &str,
    tail: &str,
    ctx: &Ctx,
    fallback: Pos,
) -> Diag {
    let parent = if path.last_key() == Some(field) {
        path.parent()
    } else {
        path.clone()
    };
    let accepted: Vec<&str> = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty())
        .collect();
    let expected = match accepted.as_slice() {
        [] => String::new(),
        [one] => format!(", expected `{one}`"),
        many => format!(
            ", expected one of {}",
            many.iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let pos = locate::key_at(text, &parent, field, 0).unwrap_or(fallback);
    let message = format!("unknown field `{field}` at {}{expected}", ctx.show(&parent));
    let table = ctx
        .kind
        .and_then(|k| hints::unsupported_field(k, &parent.relative_to_object(), field));
    let hint = table.map(str::to_string).or_else(|| {
        suggest::closest(field, accepted.iter().copied())
            .map(|best| format!("did you mean `{best}`?"))
            .or_else(|| misplaced_spec_field(&parent, field, ctx))
    });
    Diag::new(pos, message).with_hint(hint)
}

/// A top-level field that is one of the spec's: the user forgot to indent it under `spec:`.
fn misplaced_spec_field(parent: &FieldPath, field: &str, ctx: &Ctx) -> Option<String> {
    let at_object_root = parent.relative_to_object().is_root();
    (at_object_root && ctx.within.is_none() && ctx.spec_fields.contains(&field))
        .then(|| format!("`{field}` is a field of `spec`; indent it under `spec:`"))
}

/// serde's message without the parser's position and path decorations.
fn bare_message(err: &serde_yaml::Error, path: &FieldPath) -> String {
    let text = err.to_string();
    let text = match err.location() {
        Some(l) => text
            .strip_suffix(&format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    };
    // The parser prefixes the path it had reached, which is a prefix of `path`.
    let mut prefix = path.clone();
    while !prefix.is_root() {
        if let Some(rest) = text.strip_prefix(&format!("{prefix}: ")) {
            return rest.to_string();
        }
        prefix = prefix.parent();
    }
    text
}

/// Move a trailing "(did you mean `X`?)" from a message to the hint.
fn split_suggestion(message: &str) -> (String, Option<String>) {
    match message.rsplit_once(" (did you mean ") {
        Some((head, tail)) if tail.ends_with(')') => (
            head.to_string(),
            Some(format!("did you mean {}", &tail[..tail.len() - 1])),
        ),
        _ => (message.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_resources::asm::AsmEgressTrafficPolicy;
    use serde::de::DeserializeSeed;
    use std::marker::PhantomData;

    /// Read `text` as `T` under tracking and explain the failure.
    fn explain<T: serde::de::DeserializeOwned>(text: &str, ctx: &Ctx) -> Diag {
        let mut track = serde_path_to_error::Track::new();
        let de = serde_path_to_error::Deserializer::new(
            serde_yaml::Deserializer::from_str(text),
            &mut track,
        );
        match PhantomData::<T>.deserialize(de) {
            Ok(_) => panic!("expected an error"),
            Err(e) => data_error(text, &FieldPath::from_tracked(&track.path()), &e, ctx),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        spec: egressbench_resources::istio::ServiceEntry,
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let text = "spec:\n  hosts: [a]\n  ports:\n  - number: eighty\n";
        let d = explain::<Doc>(text, &Ctx::default());
        assert_eq!(d.pos, Pos::new(4, 13));
        assert_eq!(
            d.message,
            "invalid type: string \"eighty\", expected u16 at spec.ports[0].number"
        );
    }

    #[test]
    fn bad_word_points_at_the_value_and_suggests() {
        let text =
            "spec:\n  hosts: [a]\n  ports:\n  - number: 80\n    name: http\n    protocol:   HTTQ\n";
        let d = explain::<Doc>(text, &Ctx::default());
        assert_eq!(d.pos, Pos::new(6, 17));
        assert!(
            d.message
                .starts_with("unknown protocol `HTTQ`, expected one of `HTTP`, `HTTPS`"),
            "{}",
            d.message
        );
        assert!(
            d.message.ends_with("at spec.ports[0].protocol"),
            "{}",
            d.message
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean `HTTP`?"));
    }

    #[test]
    fn unknown_field_points_at_the_key() {
        let text = "\
byEgressGateway:
  name: egw
egressRules:
- name: r
  from:
  - namespace: demo
    workloadSelectr:
      app: sleep
";
        let ctx = Ctx {
            kind: Some(Kind::AsmEgressTrafficPolicy),
            ..Ctx::default()
        };
        let d = explain::<AsmEgressTrafficPolicy>(text, &ctx);
        assert_eq!(d.pos, Pos::new(7, 5));
        assert_eq!(
            d.message,
            "unknown field `workloadSelectr` at egressRules[0].from[0], expected one of `namespace`, `workloadSelector`"
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean `workloadSelector`?"));
    }

    #[test]
    fn hint_table_wins_over_typos() {
        let text = "\
spec:
  byEgressGateway:
    name: egw
  egressRules:
  - from: [{namespace: demo}]
    to:
    - hosts: [httpbin.org]
      port: {number: 443, protocol: HTTPS}
      tls: {mode: MUTUAL}
";
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Asm {
            spec: AsmEgressTrafficPolicy,
        }
        let ctx = Ctx {
            kind: Some(Kind::AsmEgressTrafficPolicy),
            ..Ctx::default()
        };
        let d = explain::<Asm>(text, &ctx);
        assert_eq!(d.pos, Pos::new(9, 7));
        assert!(
            d.hint
                .as_deref()
                .unwrap_or("")
                .contains("cannot originate mTLS"),
            "{d:?}"
        );
    }

    #[test]
    fn spec_fields_at_the_top_level() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Top {
            kind: String,
            spec: Option<egressbench_resources::istio::ServiceEntry>,
        }
        let ctx = Ctx {
            kind: Some(Kind::ServiceEntry),
            spec_fields: &["hosts", "ports"],
            within: None,
        };
        let d = explain::<Top>("kind: ServiceEntry\nhosts: [a]\n", &ctx);
        assert_eq!(d.pos, Pos::new(2, 1));
        assert_eq!(
            d.message,
            "unknown field `hosts` at the top level, expected `kind` or `spec`"
                .replace("`kind` or `spec`", "one of `kind`, `spec`")
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("`hosts` is a field of `spec`; indent it under `spec:`")
        );
    }

    #[test]
    fn missing_field_names_the_mapping() {
        let text = "spec:\n  hosts: [a]\n  ports:\n  - name: http\n";
        let d = explain::<Doc>(text, &Ctx::default());
        assert_eq!(d.pos, Pos::new(4, 5));
        assert_eq!(d.message, "missing field `number` at spec.ports[0]");
        let d = explain::<AsmDoc>("spec:\n  egressRules: []\n", &Ctx::default());
        assert_eq!(d.pos, Pos::new(1, 1));
        assert_eq!(d.message, "missing field `byEgressGateway` at spec");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct AsmDoc {
        spec: AsmEgressTrafficPolicy,
    }

    #[test]
    fn shape_mistakes_get_hints() {
        let d = explain::<Doc>("spec:\n  hosts: a.com\n", &Ctx::default());
        assert_eq!(d.pos, Pos::new(2, 10));
        assert_eq!(
            d.hint.as_deref(),
            Some("`hosts` is a list: put each entry on its own `- ` line, or write `[a, b]`")
        );
        let d = explain::<Doc>("spec:\n  ports:\n  - number: \"80\"\n", &Ctx::default());
        assert_eq!(
            d.message,
            "invalid type: string \"80\", expected u16 at spec.ports[0].number"
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("remove the quotes: a number is expected here")
        );
    }
}
