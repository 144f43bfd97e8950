//! The virtual-host lookup of a route configuration, as Envoy builds it when config loads: exact
//! domains in a hash map, `*.suffix` and `prefix*` wildcards ordered longest first, then `*`.
//!
//! Owns: `DomainIndex`, built once from the virtual hosts' domains (the first virtual host that
//! claims a domain keeps it) and asked for the virtual host of an authority, case-insensitively.
//! Leaves out: the domains each virtual host gets (`sidecar`, `gateway`), the route configuration
//! that holds the index (`RouteConfiguration` in `xds`), and the route chosen inside the virtual
//! host (`decide::step`, `decide::matchers`).

#[derive(Debug, Clone, Default)]
pub(crate) struct DomainIndex {
    exact: egressbench_text::index::NameMap<String, usize>,
    /// (suffix without the `*`, virtual host), longest suffix first.
    suffixes: Vec<(String, usize)>,
    /// (prefix without the `*`, virtual host), longest prefix first.
    prefixes: Vec<(String, usize)>,
    star: Option<usize>,
}

impl DomainIndex {
    /// Index the domains of virtual hosts (in order: the first virtual host claiming a domain wins).
    pub(crate) fn build<'a>(vhosts: impl Iterator<Item = &'a [String]>) -> DomainIndex {
        let mut ix = DomainIndex::default();
        for (i, domains) in vhosts.enumerate() {
            for d in domains {
                let d = d.to_ascii_lowercase();
                if d == "*" {
                    ix.star.get_or_insert(i);
                } else if let Some(suffix) = d.strip_prefix('*') {
                    ix.suffixes.push((suffix.to_string(), i));
                } else if let Some(prefix) = d.strip_suffix('*') {
                    ix.prefixes.push((prefix.to_string(), i));
                } else {
                    ix.exact.entry(d).or_insert(i);
                }
            }
        }
        ix.suffixes.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        ix.prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        ix
    }

    /// The virtual host for an authority (`Host` header), Envoy's way.
    pub(crate) fn select(&self, authority: &str) -> Option<usize> {
        let lowered;
        let a = if authority.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = authority.to_ascii_lowercase();
            lowered.as_str()
        } else {
            authority
        };
        if let Some(&i) = self.exact.get(a) {
            return Some(i);
        }
        self.suffixes
            .iter()
            .find(|(s, _)| a.len() > s.len() && a.ends_with(s.as_str()))
            .or_else(|| {
                self.prefixes
                    .iter()
                    .find(|(p, _)| a.starts_with(p.as_str()))
            })
            .map(|(_, i)| *i)
            .or(self.star)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_longest_wildcard_then_star() {
        let d = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let hosts = [
            d(&["*"]),
            d(&["*.org"]),
            d(&["*.httpbin.org"]),
            d(&["www.httpbin.org"]),
        ];
        let ix = DomainIndex::build(hosts.iter().map(|v| v.as_slice()));
        assert_eq!(ix.select("WWW.httpbin.org"), Some(3));
        assert_eq!(ix.select("api.httpbin.org"), Some(2));
        assert_eq!(ix.select("example.org"), Some(1));
        assert_eq!(ix.select("example.com"), Some(0));
    }
}
