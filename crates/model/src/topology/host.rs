//! Host names as Istio matches them: exact names and `*.suffix` wildcards, case-insensitively.
//!
//! Owns: `host_matches`, `hosts_overlap` and `split_namespaced` (the `namespace/host` entries of
//! Sidecar egress and Gateway servers). Leaves out: Envoy's virtual-host domain lookup, which
//! also has `prefix*` wildcards (`xds::domains`), and the matching built on these names
//! (`decide::matchers` for SNI, `decide::authorize` for RBAC hosts).

/// Does `pattern` (exact, `*`, or `*.suffix`) match the concrete host `host`?
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let h = host.to_ascii_lowercase();
    if p == "*" {
        return true;
    }
    match p.strip_prefix('*') {
        Some(suffix) => h.ends_with(suffix) && h.len() > suffix.len(),
        None => p == h,
    }
}

/// Do two host patterns overlap (some concrete host matches both)?
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    host_matches(a, b) || host_matches(b, a)
}

/// Split `namespace/host` (Sidecar egress, Gateway server hosts); a bare host means `*/host`.
pub fn split_namespaced(entry: &str) -> (&str, &str) {
    match entry.split_once('/') {
        Some((ns, host)) => (ns, host),
        None => ("*", entry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_subdomains_only() {
        assert!(host_matches("*.httpbin.org", "www.httpbin.org"));
        assert!(!host_matches("*.httpbin.org", "httpbin.org"));
        assert!(host_matches("HTTPBIN.org", "httpbin.org"));
        assert!(host_matches("*", "anything"));
        assert!(hosts_overlap("www.httpbin.org", "*.httpbin.org"));
        assert_eq!(split_namespaced("istio-egress/*"), ("istio-egress", "*"));
        assert_eq!(split_namespaced("httpbin.org"), ("*", "httpbin.org"));
    }
}
