//! Names of generated objects and label values: lowercase DNS-1123 labels of at most 63 characters.
//!
//! Owns sanitizing user-written names (`to.name`, rule names) and shortening long names with a
//! stable hash so that two different long names stay different. Leaves out which parts make up a
//! name (`generate`, `routes`) and checking that names are unique (`validate`).

/// The longest DNS-1123 label (and Kubernetes label value).
pub(crate) const MAX_LEN: usize = 63;

/// `s` lowercased, every run of characters outside `[a-z0-9]` turned into one `-`, and leading or
/// trailing `-` removed. May be empty when `s` has no letter or digit.
pub(crate) fn sanitize(s: &str) -> String {
    // Most names are already clean: check before rebuilding.
    let clean = !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if clean {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The object name made of `parts` joined with `-`, each part sanitized, fitted to 63 characters.
pub(crate) fn object_name(parts: &[&str]) -> String {
    let mut joined = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts.iter().map(|p| sanitize(p)).filter(|p| !p.is_empty()) {
        if !joined.is_empty() {
            joined.push('-');
        }
        joined.push_str(&part);
    }
    if joined.len() <= MAX_LEN {
        joined
    } else {
        fit(&joined)
    }
}

/// `name` when it is at most 63 characters; else its first characters, `-` and eight hex digits of
/// a hash of the whole name (so the result is deterministic and long names sharing a prefix differ).
pub(crate) fn fit(name: &str) -> String {
    if name.len() <= MAX_LEN {
        return name.to_string();
    }
    let hash = format!("{:08x}", egressbench_text::hash::fnv1a(name));
    let keep = MAX_LEN - hash.len() - 1;
    // `name` is ASCII (it went through `sanitize`), so any byte index is a char boundary; `get`
    // keeps this total for other input too.
    let head = name.get(..keep).unwrap_or(name).trim_end_matches('-');
    format!("{head}-{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_lowercases_and_collapses() {
        assert_eq!(sanitize("Httpbin_Service.HTTP"), "httpbin-service-http");
        assert_eq!(sanitize("--a--b--"), "a-b");
        assert_eq!(sanitize("___"), "");
        assert_eq!(sanitize("httpbin-service-http"), "httpbin-service-http");
    }

    #[test]
    fn object_names_join_parts() {
        assert_eq!(
            object_name(&["egress-by-gw", "Svc", "0"]),
            "egress-by-gw-svc-0"
        );
        assert_eq!(object_name(&["p", "", "x"]), "p-x");
    }

    #[test]
    fn long_names_are_fitted_and_stay_distinct() {
        let a = object_name(&[&"a".repeat(60), "first"]);
        let b = object_name(&[&"a".repeat(60), "second"]);
        assert_eq!(a.len(), MAX_LEN);
        assert_eq!(b.len(), MAX_LEN);
        assert_ne!(a, b);
        assert_eq!(a, object_name(&[&"a".repeat(60), "first"]));
        assert!(!a.starts_with('-') && !a.ends_with('-'));
    }
}
