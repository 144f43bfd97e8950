//! One AuthorizationPolicy rule as an Envoy RBAC `Policy`: `permissions` (one per `to`, each the
//! AND of its fields) and `principals` (one per `from`), with the `when` conditions joined to each,
//! as istiod's authz model builds them (istio/istio `pilot/pkg/security/authz/model`).
//!
//! Owns: the field-by-field translation and its TCP rule: a field that needs HTTP (hosts,
//! methods, paths, request principals, `request.*` conditions) cannot be rendered on a TCP chain,
//! which drops the whole rule from an ALLOW policy (it allows less) and drops just that field from
//! a DENY or AUDIT policy (it denies more). Principals are the URI SAN of the verified peer
//! certificate (`authenticated.principal_name`). Leaves out: naming and grouping rules into
//! filters (`rbac`). Not rendered: JWT (`requestPrincipals`, `request.auth.*` render as a
//! principal that never matches: no JWT filter runs), path templates, and
//! `experimental.envoy.filters.*` conditions (a rule using one is left out).

use super::matchers::{cidr, istio_header, istio_string, quote_meta};
use egressbench_model::xds::RbacAction;
use egressbench_resources::istio::authorization_policy::{Condition, Operation, Rule, Source};
use serde_json::{json, Value};

/// Why a value could not be rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// The field needs HTTP and the chain is TCP.
    HttpOnly,
    /// The value is not valid for its field (a port that is not a number, a bad CIDR).
    Invalid,
}

/// What is being generated: for which chain and which action, from which policy's namespace.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleContext<'a> {
    pub tcp: bool,
    pub action: RbacAction,
    /// The policy's namespace (the default namespace of `serviceAccounts` entries).
    pub namespace: &'a str,
}

/// A field that turns values into permissions or principals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Hosts,
    Methods,
    Paths,
    Ports,
    DestinationIp,
    Sni,
    Principals,
    RequestPrincipals,
    Namespaces,
    ServiceAccounts,
    TrustDomains,
    IpBlocks,
    RemoteIpBlocks,
    RequestHeader,
}

/// One field of a rule with its values (`values` any-of, `not_values` none-of).
#[derive(Debug, Clone)]
struct Term<'r> {
    field: Field,
    /// The header name for `request.headers[…]`.
    header: &'r str,
    values: &'r [String],
    not_values: &'r [String],
}

/// A principal that matches nothing (`not_id: any`).
fn never_principal() -> Value {
    json!({"not_id": {"any": true}})
}

/// The permission or principal for one value of a field.
fn generate(field: Field, header: &str, value: &str, cx: RuleContext<'_>) -> Result<Value, Skip> {
    let http_only = |v: Value| if cx.tcp { Err(Skip::HttpOnly) } else { Ok(v) };
    let port = || -> Result<Value, Skip> {
        value
            .trim()
            .parse::<u16>()
            .map(|p| json!({"destination_port": p}))
            .map_err(|_| Skip::Invalid)
    };
    let authenticated = |m: Value| json!({"authenticated": {"principal_name": m}});
    match field {
        Field::Hosts => http_only(json!({"header": istio_header(":authority", value, true)})),
        Field::Methods => http_only(json!({"header": istio_header(":method", value, false)})),
        Field::Paths => http_only(json!({"url_path": {"path": istio_string(value, "")}})),
        Field::Ports => port(),
        Field::DestinationIp => cidr(value)
            .map(|c| json!({"destination_ip": c}))
            .ok_or(Skip::Invalid),
        Field::Sni => Ok(json!({"requested_server_name": istio_string(value, "")})),
        Field::Principals => Ok(authenticated(istio_string(value, "spiffe://"))),
        Field::RequestPrincipals => http_only(never_principal()),
        Field::Namespaces => {
            let ns: Vec<String> = value.split('*').map(quote_meta).collect();
            let regex = format!(".*/ns/{}/.*", ns.join(".*"));
            Ok(authenticated(json!({"safe_regex": {"regex": regex}})))
        }
        Field::ServiceAccounts => {
            let (ns, sa) = value.split_once('/').unwrap_or((cx.namespace, value));
            let regex = format!(
                "spiffe://.+/ns/{}/(.+/|)sa/{}(/.+)?",
                quote_meta(ns),
                quote_meta(sa)
            );
            Ok(authenticated(json!({"safe_regex": {"regex": regex}})))
        }
        Field::TrustDomains => Ok(authenticated(if value == "*" {
            json!({"prefix": "spiffe://"})
        } else if let Some((before, after)) = value.split_once('*') {
            let regex = format!(
                "spiffe://{}[^/]*{}/.*",
                quote_meta(before),
                quote_meta(after)
            );
            json!({"safe_regex": {"regex": regex}})
        } else {
            json!({"prefix": format!("spiffe://{value}/")})
        })),
        Field::IpBlocks => cidr(value)
            .map(|c| json!({"direct_remote_ip": c}))
            .ok_or(Skip::Invalid),
        Field::RemoteIpBlocks => cidr(value)
            .map(|c| json!({"remote_ip": c}))
            .ok_or(Skip::Invalid),
        Field::RequestHeader => http_only(json!({"header": istio_header(header, value, false)})),
    }
}

/// Is the field a permission (what is accessed) rather than a principal (who accesses)?
fn is_permission(field: Field) -> bool {
    matches!(
        field,
        Field::Hosts
            | Field::Methods
            | Field::Paths
            | Field::Ports
            | Field::DestinationIp
            | Field::Sni
    )
}

/// The Envoy set keys for permissions (`or_rules` / `and_rules` / `not_rule`) or principals
/// (`or_ids` / `and_ids` / `not_id`).
struct SetKeys {
    or: &'static str,
    and: &'static str,
    not: &'static str,
    inner: &'static str,
}

const PERMISSION: SetKeys = SetKeys {
    or: "or_rules",
    and: "and_rules",
    not: "not_rule",
    inner: "rules",
};
const PRINCIPAL: SetKeys = SetKeys {
    or: "or_ids",
    and: "and_ids",
    not: "not_id",
    inner: "ids",
};

/// The rendered parts of one term: any-of its values, and none-of its `not` values. `Err` when an
/// ALLOW rule cannot be rendered (so the rule is left out).
fn term(t: &Term<'_>, cx: RuleContext<'_>, keys: &SetKeys) -> Result<Vec<Value>, Skip> {
    let mut out = Vec::new();
    let any_of = |values: &[String]| -> Result<Option<Value>, Skip> {
        let mut or = Vec::new();
        for v in values {
            match generate(t.field, t.header, v, cx) {
                Ok(p) => or.push(p),
                // istiod: an error makes an ALLOW rule go away, and only drops the value from a
                // DENY or AUDIT rule.
                Err(e) if cx.action == RbacAction::Allow => return Err(e),
                Err(_) => {}
            }
        }
        Ok((!or.is_empty()).then(|| json!({ keys.or: { keys.inner: or } })))
    };
    if let Some(v) = any_of(t.values)? {
        out.push(v);
    }
    if let Some(v) = any_of(t.not_values)? {
        out.push(json!({ keys.not: v }));
    }
    Ok(out)
}

/// The AND of `terms` (`any: true` when nothing constrains).
fn and(terms: &[Term<'_>], cx: RuleContext<'_>, keys: &SetKeys) -> Result<Value, Skip> {
    let mut all = Vec::new();
    for t in terms {
        all.extend(term(t, cx, keys)?);
    }
    if all.is_empty() {
        all.push(json!({"any": true}));
    }
    Ok(json!({ keys.and: { keys.inner: all } }))
}

fn t<'r>(field: Field, values: &'r [String], not_values: &'r [String]) -> Term<'r> {
    Term {
        field,
        header: "",
        values,
        not_values,
    }
}

fn source_terms(s: &Source) -> Vec<Term<'_>> {
    vec![
        t(Field::Principals, &s.principals, &s.not_principals),
        t(
            Field::RequestPrincipals,
            &s.request_principals,
            &s.not_request_principals,
        ),
        t(
            Field::ServiceAccounts,
            &s.service_accounts,
            &s.not_service_accounts,
        ),
        t(Field::Namespaces, &s.namespaces, &s.not_namespaces),
        t(
            Field::RemoteIpBlocks,
            &s.remote_ip_blocks,
            &s.not_remote_ip_blocks,
        ),
        t(Field::IpBlocks, &s.ip_blocks, &s.not_ip_blocks),
    ]
}

fn operation_terms(o: &Operation) -> Vec<Term<'_>> {
    vec![
        t(Field::Hosts, &o.hosts, &o.not_hosts),
        t(Field::Methods, &o.methods, &o.not_methods),
        t(Field::Paths, &o.paths, &o.not_paths),
        t(Field::Ports, &o.ports, &o.not_ports),
    ]
}

/// The term of a `when` condition; `None` for a key istiod does not know or egressbench does not
/// render (the rule is then left out, as istiod leaves out a rule it cannot build).
fn condition_term(c: &Condition) -> Option<Term<'_>> {
    let key = c.key.as_str();
    let field = match key {
        "destination.ip" => Field::DestinationIp,
        "destination.port" => Field::Ports,
        "connection.sni" => Field::Sni,
        "source.ip" => Field::IpBlocks,
        "remote.ip" => Field::RemoteIpBlocks,
        "source.namespace" => Field::Namespaces,
        "source.principal" => Field::Principals,
        "source.serviceAccount" => Field::ServiceAccounts,
        "source.trustDomain" => Field::TrustDomains,
        "request.auth.principal" | "request.auth.audiences" | "request.auth.presenter" => {
            Field::RequestPrincipals
        }
        _ if key.starts_with("request.auth.claims[") => Field::RequestPrincipals,
        _ => {
            let header = key
                .strip_prefix("request.headers[")
                .and_then(|k| k.strip_suffix(']'))?;
            return Some(Term {
                field: Field::RequestHeader,
                header,
                values: &c.values,
                not_values: &c.not_values,
            });
        }
    };
    Some(t(field, &c.values, &c.not_values))
}

/// The RBAC `Policy` for one rule; `None` when the rule is left out (an ALLOW rule needing HTTP on
/// a TCP chain, an invalid value in an ALLOW rule, an unknown `when` key).
pub(crate) fn policy(rule: &Rule, cx: RuleContext<'_>) -> Option<Value> {
    let mut base_permission = Vec::new();
    let mut base_principal = Vec::new();
    for c in &rule.when {
        let term = condition_term(c)?;
        if is_permission(term.field) {
            base_permission.push(term);
        } else {
            base_principal.push(term);
        }
    }
    let principals: Vec<Value> = if rule.from.is_empty() {
        vec![and(&base_principal, cx, &PRINCIPAL).ok()?]
    } else {
        rule.from
            .iter()
            .map(|f| {
                let mut terms = source_terms(&f.source);
                terms.extend(base_principal.iter().cloned());
                and(&terms, cx, &PRINCIPAL)
            })
            .collect::<Result<_, _>>()
            .ok()?
    };
    let permissions: Vec<Value> = if rule.to.is_empty() {
        vec![and(&base_permission, cx, &PERMISSION).ok()?]
    } else {
        rule.to
            .iter()
            .map(|to| {
                let mut terms = operation_terms(&to.operation);
                terms.extend(base_permission.iter().cloned());
                and(&terms, cx, &PERMISSION)
            })
            .collect::<Result<_, _>>()
            .ok()?
    };
    Some(json!({"permissions": permissions, "principals": principals}))
}

/// istiod's policy for an AuthorizationPolicy without rules: it matches nothing (an ALLOW policy
/// without rules allows nothing; a DENY one denies nothing).
pub(crate) fn match_never() -> Value {
    json!({
        "permissions": [{"not_rule": {"any": true}}],
        "principals": [never_principal()],
    })
}
