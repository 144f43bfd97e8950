//! AuthorizationPolicy evaluation at a proxy: CUSTOM (not modelled), then DENY (any matching rule
//! denies), then ALLOW (when any ALLOW policy applies, a request no rule matches is denied). AUDIT
//! and dry-run policies are evaluated and reported, never enforced.
//!
//! On a TCP chain there is no HTTP: following Istio's authz builder, an ALLOW rule that needs an
//! HTTP-only field (hosts, methods, paths, request principals, `request.*` conditions) never
//! matches, and a DENY rule is evaluated without those fields (so it denies more, never less).
//!
//! Owns: `evaluate` over a proxy's `RbacFilter`, each policy's verdict with the reason every rule
//! did or did not match (`PolicyVerdict`), and the outcome with Envoy's denial details
//! (`RbacOutcome`). Leaves out: which policies a proxy holds and their rule names (`xds::build`,
//! `xds::rbac`), what the proxy does on a denial (`machine`, with the reply from
//! `outcome::reply`), and the RBAC filters rendered for real Envoy (`egressbench-envoy`'s `rbac`
//! and `rbac_rules`).

use crate::topology::host::host_matches;
use crate::xds::{RbacAction, RbacFilter, RbacPolicy};
use egressbench_resources::istio::authorization_policy::{Condition, Operation, Rule, Source};
use serde::Serialize;

/// The request attributes RBAC sees at one proxy.
#[derive(Debug, Clone)]
pub(crate) struct RbacInput<'a> {
    /// Peer principal from the verified client certificate (`cluster.local/ns/x/sa/y`); `None` over
    /// plaintext.
    pub principal: Option<&'a str>,
    pub source_ip: &'a str,
    /// Destination port at this proxy.
    pub port: u16,
    pub sni: Option<&'a str>,
    /// `None` on a TCP chain.
    pub http: Option<HttpAttrs<'a>>,
}

#[derive(Debug, Clone)]
pub(crate) struct HttpAttrs<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub host: &'a str,
    pub headers: &'a [(String, String)],
}

/// One policy's verdict on the request, for the explanation.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyVerdict {
    pub policy: String,
    pub action: RbacAction,
    pub dry_run: bool,
    /// The matching rule's Envoy name, when one matched.
    pub matched_rule: Option<String>,
    /// Why each rule did or did not match.
    pub reasons: Vec<RuleReason>,
}

/// What one policy's evaluation found (`explain` words it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleReason {
    /// The policy has no rules, so it matches nothing.
    NoRules,
    /// `rules[index]` matched.
    Matched { index: usize },
    /// `rules[index]` did not match, because of `why`.
    NotMatched { index: usize, why: Mismatch },
    /// CUSTOM (ext_authz) policies are not modelled: skipped.
    CustomSkipped,
}

/// Why a rule did not match the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// `source.<field>` needs a peer identity, and the connection is not mTLS.
    NeedsPeerIdentity { field: &'static str },
    /// `source.principals`: the peer is someone else.
    Principal { peer: String },
    /// `source.namespaces`: the peer is in another namespace.
    Namespace { peer_namespace: String },
    /// `source.requestPrincipals`: no JWT is modelled.
    RequestPrincipals,
    /// Another `source.<field>` (service accounts, IP blocks) did not match.
    Source { field: &'static str },
    /// `to.operation.ports`.
    Port { port: u16 },
    /// `to.operation.hosts`.
    Host { host: String },
    /// `to.operation.methods`.
    Method { method: String },
    /// `to.operation.paths`.
    Path { path: String },
    /// A `when` condition on `key`, whose value was `value` (`None`: absent).
    Condition { key: String, value: Option<String> },
    /// An ALLOW rule with HTTP-only fields on a TCP connection never matches.
    HttpOnlyOnTcp,
    /// None of the rule's `from` (or `to`) entries matched, each for its reason.
    NoneOf(Vec<Mismatch>),
}

/// The RBAC decision at one proxy.
#[derive(Debug, Clone, Serialize)]
pub struct RbacOutcome {
    pub allowed: bool,
    /// Envoy's `response_code_details` on denial:
    /// `rbac_access_denied_matched_policy[<rule>]` or `…[none]`.
    pub details: Option<String>,
    pub verdicts: Vec<PolicyVerdict>,
}

fn wildcard(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    pattern == value
}

fn principal_namespace(principal: &str) -> Option<&str> {
    let rest = principal.split("/ns/").nth(1)?;
    rest.split('/').next()
}

/// Does a field match? An empty positive list is "no constraint"; a `not` list excludes.
fn field(
    values: &[String],
    nots: &[String],
    actual: Option<&str>,
    m: &dyn Fn(&str, &str) -> bool,
) -> bool {
    let pos = values.is_empty() || actual.is_some_and(|a| values.iter().any(|v| m(v, a)));
    let neg = nots.is_empty() || !actual.is_some_and(|a| nots.iter().any(|v| m(v, a)));
    pos && neg
}

fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let (net, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let (Ok(net), Ok(ip), Ok(bits)) = (
        net.parse::<std::net::Ipv4Addr>(),
        ip.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(net) & mask) == (u32::from(ip) & mask)
}

fn source_matches(s: &Source, input: &RbacInput<'_>, http: bool) -> Result<(), Mismatch> {
    let ns = input.principal.and_then(principal_namespace);
    let sa = input.principal.map(|p| p.rsplit('/').next().unwrap_or(p));
    let checks: [(&str, bool); 5] = [
        (
            "principals",
            field(&s.principals, &s.not_principals, input.principal, &wildcard),
        ),
        (
            "namespaces",
            field(&s.namespaces, &s.not_namespaces, ns, &wildcard),
        ),
        (
            "serviceAccounts",
            field(
                &s.service_accounts,
                &s.not_service_accounts,
                sa.zip(ns).map(|(a, _)| a),
                &wildcard,
            ),
        ),
        (
            "ipBlocks",
            field(
                &s.ip_blocks,
                &s.not_ip_blocks,
                Some(input.source_ip),
                &cidr_contains,
            ) && field(
                &s.remote_ip_blocks,
                &s.not_remote_ip_blocks,
                Some(input.source_ip),
                &cidr_contains,
            ),
        ),
        (
            "requestPrincipals",
            !http || (s.request_principals.is_empty() && s.not_request_principals.is_empty()),
        ),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        None => Ok(()),
        Some((name, _)) => Err(match *name {
            "principals" | "namespaces" | "serviceAccounts" if input.principal.is_none() => {
                Mismatch::NeedsPeerIdentity { field: name }
            }
            "principals" => Mismatch::Principal {
                peer: input.principal.unwrap_or("-").to_string(),
            },
            "namespaces" => Mismatch::Namespace {
                peer_namespace: ns.unwrap_or("-").to_string(),
            },
            "requestPrincipals" => Mismatch::RequestPrincipals,
            other => Mismatch::Source { field: other },
        }),
    }
}

fn operation_matches(o: &Operation, input: &RbacInput<'_>) -> Result<(), Mismatch> {
    let port = input.port.to_string();
    if !field(&o.ports, &o.not_ports, Some(&port), &wildcard) {
        return Err(Mismatch::Port { port: input.port });
    }
    let Some(h) = &input.http else {
        return Ok(());
    };
    // `hosts` match the whole `:authority`, port included (istio/istio#44080): a Host header
    // `httpbin.org:8080` is not matched by `httpbin.org`.
    let host = h.host.to_ascii_lowercase();
    let host_m = |p: &str, v: &str| host_matches(p, v) || wildcard(&p.to_ascii_lowercase(), v);
    if !field(&o.hosts, &o.not_hosts, Some(&host), &host_m) {
        return Err(Mismatch::Host { host });
    }
    if !field(&o.methods, &o.not_methods, Some(h.method), &wildcard) {
        return Err(Mismatch::Method {
            method: h.method.to_string(),
        });
    }
    let path = h.path.split('?').next().unwrap_or(h.path);
    if !field(&o.paths, &o.not_paths, Some(path), &wildcard) {
        return Err(Mismatch::Path {
            path: path.to_string(),
        });
    }
    Ok(())
}

fn condition_value<'a>(c: &Condition, input: &'a RbacInput<'a>) -> Option<String> {
    let key = c.key.as_str();
    if let Some(name) = key
        .strip_prefix("request.headers[")
        .and_then(|k| k.strip_suffix(']'))
    {
        let h = input.http.as_ref()?;
        return h
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone());
    }
    match key {
        "source.ip" | "remote.ip" => Some(input.source_ip.to_string()),
        "source.namespace" => input
            .principal
            .and_then(principal_namespace)
            .map(str::to_string),
        "source.principal" => input.principal.map(str::to_string),
        "destination.port" => Some(input.port.to_string()),
        "connection.sni" => input.sni.map(str::to_string),
        _ => None,
    }
}

fn condition_matches(c: &Condition, input: &RbacInput<'_>) -> Result<(), Mismatch> {
    let v = condition_value(c, input);
    let m: &dyn Fn(&str, &str) -> bool = if c.key.ends_with(".ip") {
        &cidr_contains
    } else {
        &wildcard
    };
    if field(&c.values, &c.not_values, v.as_deref(), m) {
        Ok(())
    } else {
        Err(Mismatch::Condition {
            key: c.key.clone(),
            value: v,
        })
    }
}

fn uses_http_only(rule: &Rule) -> bool {
    rule.to.iter().any(|t| {
        let o = &t.operation;
        !(o.hosts.is_empty()
            && o.not_hosts.is_empty()
            && o.methods.is_empty()
            && o.not_methods.is_empty()
            && o.paths.is_empty()
            && o.not_paths.is_empty())
    }) || rule.from.iter().any(|f| {
        !(f.source.request_principals.is_empty() && f.source.not_request_principals.is_empty())
    }) || rule.when.iter().any(|c| c.key.starts_with("request."))
}

/// Does one rule match? `Err` says why not.
fn rule_matches(rule: &Rule, input: &RbacInput<'_>, action: RbacAction) -> Result<(), Mismatch> {
    let tcp = input.http.is_none();
    if tcp && action == RbacAction::Allow && uses_http_only(rule) {
        return Err(Mismatch::HttpOnlyOnTcp);
    }
    // On TCP, a DENY rule drops its HTTP-only fields: the source and ports still have to match.
    if !rule.from.is_empty() {
        let errs: Vec<Mismatch> = rule
            .from
            .iter()
            .filter_map(|f| source_matches(&f.source, input, !tcp).err())
            .collect();
        if errs.len() == rule.from.len() {
            return Err(one_or_all(errs));
        }
    }
    if !rule.to.is_empty() {
        let errs: Vec<Mismatch> = rule
            .to
            .iter()
            .filter_map(|t| operation_matches(&t.operation, input).err())
            .collect();
        if errs.len() == rule.to.len() {
            return Err(one_or_all(errs));
        }
    }
    for c in &rule.when {
        if tcp && c.key.starts_with("request.") {
            continue;
        }
        condition_matches(c, input)?;
    }
    Ok(())
}

/// The one reason, or all of them.
fn one_or_all(mut errs: Vec<Mismatch>) -> Mismatch {
    if errs.len() == 1 {
        errs.remove(0)
    } else {
        Mismatch::NoneOf(errs)
    }
}

fn verdict(p: &RbacPolicy, input: &RbacInput<'_>) -> PolicyVerdict {
    let mut reasons = Vec::new();
    let mut matched_rule = None;
    match &p.rules {
        None => reasons.push(RuleReason::NoRules),
        Some(rules) => {
            for (i, r) in rules.iter().enumerate() {
                match rule_matches(r, input, p.action) {
                    Ok(()) => {
                        reasons.push(RuleReason::Matched { index: i });
                        matched_rule = Some(p.rule_name(i));
                        break;
                    }
                    Err(why) => reasons.push(RuleReason::NotMatched { index: i, why }),
                }
            }
        }
    }
    PolicyVerdict {
        policy: p.policy.to_string(),
        action: p.action,
        dry_run: p.dry_run,
        matched_rule,
        reasons,
    }
}

/// Evaluate the RBAC filter on a request.
pub(crate) fn evaluate(filter: &RbacFilter, input: &RbacInput<'_>) -> RbacOutcome {
    let verdicts: Vec<PolicyVerdict> = filter
        .policies
        .iter()
        .map(|p| {
            let mut v = verdict(p, input);
            if p.action == RbacAction::Custom {
                v.reasons.push(RuleReason::CustomSkipped);
                v.matched_rule = None;
            }
            v
        })
        .collect();
    let enforced = |a: RbacAction| verdicts.iter().filter(move |v| v.action == a && !v.dry_run);
    if let Some(deny) = enforced(RbacAction::Deny).find(|v| v.matched_rule.is_some()) {
        return RbacOutcome {
            allowed: false,
            details: Some(format!(
                "rbac_access_denied_matched_policy[{}]",
                deny.matched_rule.clone().unwrap_or_default()
            )),
            verdicts,
        };
    }
    let mut allows = enforced(RbacAction::Allow).peekable();
    if allows.peek().is_some() && !allows.any(|v| v.matched_rule.is_some()) {
        return RbacOutcome {
            allowed: false,
            details: Some("rbac_access_denied_matched_policy[none]".into()),
            verdicts,
        };
    }
    RbacOutcome {
        allowed: true,
        details: None,
        verdicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xds::Provenance;
    use egressbench_resources::istio::authorization_policy::{RuleFrom, RuleTo};
    use egressbench_resources::{Kind, ResourceId};

    fn policy(action: RbacAction, rules: Option<Vec<Rule>>) -> RbacPolicy {
        let id = ResourceId::new(Kind::AuthorizationPolicy, "istio-system", "p");
        RbacPolicy {
            policy: id.clone(),
            action,
            dry_run: false,
            rules,
            provenance: Provenance::new(id, ""),
        }
    }

    fn deny_post_from_mytest() -> Rule {
        Rule {
            from: vec![RuleFrom {
                source: Source {
                    namespaces: vec!["mytest".into()],
                    ..Source::default()
                },
            }],
            to: vec![RuleTo {
                operation: Operation {
                    methods: vec!["POST".into()],
                    hosts: vec!["httpbin.org".into()],
                    ..Operation::default()
                },
            }],
            when: Vec::new(),
        }
    }

    fn input<'a>(principal: Option<&'a str>, method: &'a str, tcp: bool) -> RbacInput<'a> {
        RbacInput {
            principal,
            source_ip: "10.244.0.2",
            port: 80,
            sni: Some("httpbin.org"),
            http: (!tcp).then_some(HttpAttrs {
                method,
                path: "/post",
                host: "httpbin.org",
                headers: &[],
            }),
        }
    }

    #[test]
    fn deny_matches_post_from_the_namespace_only() {
        let f = RbacFilter {
            policies: vec![policy(
                RbacAction::Deny,
                Some(vec![deny_post_from_mytest()]),
            )],
        };
        let post = evaluate(
            &f,
            &input(Some("cluster.local/ns/mytest/sa/sleep-a"), "POST", false),
        );
        assert!(!post.allowed);
        assert_eq!(
            post.details.as_deref(),
            Some("rbac_access_denied_matched_policy[ns[istio-system]-policy[p]-rule[0]]")
        );
        assert!(
            evaluate(
                &f,
                &input(Some("cluster.local/ns/mytest/sa/sleep-a"), "GET", false)
            )
            .allowed
        );
        assert!(
            evaluate(
                &f,
                &input(Some("cluster.local/ns/other/sa/x"), "POST", false)
            )
            .allowed
        );
        // Over plaintext the namespace is unknown: the DENY rule cannot match.
        assert!(evaluate(&f, &input(None, "POST", false)).allowed);
    }

    #[test]
    fn allow_without_match_denies_and_tcp_ignores_http_allow_rules() {
        let f = RbacFilter {
            policies: vec![policy(
                RbacAction::Allow,
                Some(vec![deny_post_from_mytest()]),
            )],
        };
        let get = evaluate(
            &f,
            &input(Some("cluster.local/ns/mytest/sa/a"), "GET", false),
        );
        assert_eq!(
            get.details.as_deref(),
            Some("rbac_access_denied_matched_policy[none]")
        );
        let tcp = evaluate(&f, &input(Some("cluster.local/ns/mytest/sa/a"), "", true));
        assert!(!tcp.allowed);
        let empty = RbacFilter {
            policies: vec![policy(RbacAction::Allow, None)],
        };
        assert!(!evaluate(&empty, &input(None, "GET", false)).allowed);
    }

    #[test]
    fn deny_on_tcp_drops_http_fields_and_denies_more() {
        let f = RbacFilter {
            policies: vec![policy(
                RbacAction::Deny,
                Some(vec![deny_post_from_mytest()]),
            )],
        };
        let tcp = evaluate(&f, &input(Some("cluster.local/ns/mytest/sa/a"), "", true));
        assert!(!tcp.allowed);
    }

    #[test]
    fn hosts_match_the_whole_authority_port_included() {
        let rule = Rule {
            to: vec![RuleTo {
                operation: Operation {
                    hosts: vec!["httpbin.org".into()],
                    ..Operation::default()
                },
            }],
            ..Rule::default()
        };
        let f = RbacFilter {
            policies: vec![policy(RbacAction::Deny, Some(vec![rule]))],
        };
        let with_host = |host: &'static str| RbacInput {
            principal: None,
            source_ip: "10.244.0.2",
            port: 80,
            sni: None,
            http: Some(HttpAttrs {
                method: "GET",
                path: "/",
                host,
                headers: &[],
            }),
        };
        assert!(!evaluate(&f, &with_host("HTTPBIN.org")).allowed);
        assert!(evaluate(&f, &with_host("httpbin.org:8080")).allowed);
    }

    #[test]
    fn cidrs() {
        assert!(cidr_contains("10.244.0.0/16", "10.244.3.4"));
        assert!(!cidr_contains("10.244.0.0/16", "10.245.0.1"));
        assert!(cidr_contains("1.2.3.4", "1.2.3.4"));
    }
}
