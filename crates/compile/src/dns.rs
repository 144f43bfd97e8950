//! ASM's DNS rule for egress destinations: every host of one `to` must resolve to the same
//! addresses ("multiple hosts must resolve to the same IP addresses"), because a stream (TLS, TCP)
//! carries no Host header and the gateway forwards it to one address for all of them.
//!
//! Owns: `check`, pure — a policy and a `Resolver` in, findings out. Leaves out: the names'
//! addresses (the scenario's world implements `Resolver`) and where the findings are shown (the
//! runner, `check`/`compile` commands).

use egressbench_resources::asm::AsmEgressTrafficPolicy;
use std::net::Ipv4Addr;

/// What a host name resolves to (a scenario's world of hosts, or a fixed table in tests).
pub trait Resolver {
    /// The address `name` resolves to, if any.
    fn resolve(&self, name: &str) -> Option<Ipv4Addr>;
}

/// A destination whose hosts do not resolve to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFinding {
    /// `egressRules[<i>].to[<j>]` (with the rule and destination names).
    pub at: String,
    /// Each host and what it resolves to (`None`: it does not resolve).
    pub hosts: Vec<(String, Option<Ipv4Addr>)>,
}

impl std::fmt::Display for DnsFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let each: Vec<String> = self
            .hosts
            .iter()
            .map(|(h, a)| match a {
                Some(a) => format!("{h} → {a}"),
                None => format!("{h} → (does not resolve)"),
            })
            .collect();
        write!(
            f,
            "{}: the hosts must resolve to the same addresses, but {}; split them into separate `to` entries",
            self.at,
            each.join(", ")
        )
    }
}

/// The destinations of `policy` whose hosts do not all resolve to one address under `dns`.
/// Wildcard hosts are left out (they resolve per name).
pub fn check(policy: &AsmEgressTrafficPolicy, dns: &impl Resolver) -> Vec<DnsFinding> {
    let mut out = Vec::new();
    for (i, rule) in policy.egress_rules.iter().enumerate() {
        for (j, to) in rule.to.iter().enumerate() {
            let hosts: Vec<(String, Option<Ipv4Addr>)> = to
                .hosts
                .iter()
                .filter(|h| !h.starts_with('*'))
                .map(|h| (h.clone(), dns.resolve(h)))
                .collect();
            let first = hosts.first().map(|(_, a)| *a);
            if hosts.len() > 1 && hosts.iter().any(|(_, a)| Some(*a) != first || a.is_none()) {
                out.push(DnsFinding {
                    at: format!(
                        "egressRules[{i}] ({}) to[{j}] ({})",
                        rule.name.as_deref().unwrap_or("-"),
                        to.name
                    ),
                    hosts,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// httpbin.org and www.httpbin.org share an address; www.baidu.com has another.
    struct Table;

    impl Resolver for Table {
        fn resolve(&self, name: &str) -> Option<Ipv4Addr> {
            match name {
                "httpbin.org" | "www.httpbin.org" => Some(Ipv4Addr::new(203, 0, 113, 10)),
                "www.baidu.com" => Some(Ipv4Addr::new(203, 0, 113, 30)),
                _ => None,
            }
        }
    }

    fn policy(hosts: &[&str]) -> AsmEgressTrafficPolicy {
        let yaml = format!(
            r#"
apiVersion: istio.alibabacloud.com/v1
kind: ASMEgressTrafficPolicy
metadata: {{name: p, namespace: istio-egress}}
spec:
  byEgressGateway: {{name: egressgateway-a}}
  egressRules:
  - name: r
    from: [{{namespace: mytest}}]
    to:
    - name: t
      hosts: [{}]
      port: {{number: 443, name: tls, protocol: TLS}}
"#,
            hosts.join(", ")
        );
        let loaded = egressbench_manifest::load_str(&yaml, "p.yaml").expect("policy loads");
        match &loaded.resources[0].body {
            egressbench_resources::Body::AsmEgressTrafficPolicy(p) => (**p).clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hosts_sharing_an_address_pass_and_others_are_reported() {
        let dns = Table;
        assert!(check(&policy(&["httpbin.org", "www.httpbin.org"]), &dns).is_empty());
        let found = check(&policy(&["httpbin.org", "www.baidu.com"]), &dns);
        assert_eq!(found.len(), 1);
        let text = found[0].to_string();
        assert!(text.contains("httpbin.org → 203.0.113.10"), "{text}");
        assert!(text.contains("www.baidu.com → 203.0.113.30"), "{text}");
        let found = check(&policy(&["httpbin.org", "nowhere.invalid"]), &dns);
        assert!(found[0].to_string().contains("does not resolve"));
        assert!(check(&policy(&["httpbin.org"]), &dns).is_empty());
    }
}
