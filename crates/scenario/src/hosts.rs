//! `hosts:` — the extra external hosts a scenario declares, read as data, and the one seam that
//! turns them into the target's outside world (`external::Internet`).
//!
//! Owns: the strict shape of a host entry, [`internet`], which adds them to the built-in hosts,
//! and [`add_web_sites`], which gives the public names a scenario uses and nobody declared a
//! generic web site.
//! Leaves out: how an external host answers (`external`).

use super::de::{checked_map, with_help};
use egressbench_model::external::{
    is_public_name, web_site, Answer, App, ExternalHost, ExternalPort, Internet, Site,
};
use egressbench_resources::{Kind, Resource};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// One external host: the names it answers to, where it is, its ports, and what it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostSpec {
    pub names: Vec<String>,
    /// `address:` a fixed IPv4 address (else one derived from the first name).
    pub address: Option<Ipv4Addr>,
    pub ports: Vec<PortSpec>,
    pub answer: HostAnswer,
}

/// `{port: 443, tls: true, respond: {...}}`: a port the host listens on, whether it speaks TLS
/// there, and (for a site) what it answers on that port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    pub port: u16,
    #[serde(default)]
    pub tls: bool,
    /// `http2: false`: a TLS server that speaks HTTP/1.1 only (its ALPN offers `http/1.1`, so
    /// curl gets `HTTP/1.1` where it would get `HTTP/2`). TLS ports offer HTTP/2 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond: Option<AnswerSpec>,
}

/// What the host answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostAnswer {
    /// `respond:` (and `paths:`, and ports' own `respond:`): fixed answers.
    Site {
        answer: AnswerSpec,
        paths: Vec<PathSpec>,
    },
    /// `httpbin: true`: answers as httpbin.org does (echoes the request).
    Httpbin,
}

/// `{status: 301, body: "", content_type: text/plain, headers: {location: …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSpec {
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default = "text_plain")]
    pub content_type: String,
    /// Other response headers (sent in the order of their names).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// `{prefix: /old, respond: {...}}`: the answer for paths starting with `prefix` (the first
/// matching entry wins, before the port's and the host's answers).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    pub prefix: String,
    pub respond: AnswerSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    names: Vec<String>,
    #[serde(default)]
    address: Option<String>,
    ports: Vec<PortSpec>,
    #[serde(default)]
    respond: Option<AnswerSpec>,
    #[serde(default)]
    paths: Vec<PathSpec>,
    #[serde(default)]
    httpbin: bool,
}

fn ok_status() -> u16 {
    200
}

fn text_plain() -> String {
    "text/plain".to_string()
}

fn host(raw: RawHost) -> Result<HostSpec, String> {
    let first = match raw.names.first() {
        Some(n) if raw.names.iter().all(|n| !n.trim().is_empty()) => n.clone(),
        _ => {
            return Err(with_help(
                "`hosts[].names` is empty or has an empty name",
                "list the DNS names the host answers to, e.g. `names: [api.example.com]`",
            ))
        }
    };
    if raw.ports.is_empty() {
        return Err(with_help(
            format!("host `{first}` has no `ports`"),
            "list its ports, e.g. `ports: [{port: 443, tls: true}]`",
        ));
    }
    if let Some(p) = raw.ports.iter().find(|p| !p.tls && p.http2.is_some()) {
        return Err(with_help(
            format!(
                "host `{first}`: port {} has `http2` but no `tls: true`; `http2` says what the \
                 port's TLS offers by ALPN",
                p.port
            ),
            "add `tls: true`, or leave `http2` out on a plain-text port",
        ));
    }
    let address = match &raw.address {
        None => None,
        Some(a) => Some(a.parse::<Ipv4Addr>().map_err(|_| {
            with_help(
                format!("host `{first}`: `address: {a}` is not an IPv4 address"),
                "give one such as `address: 198.35.26.96`, or leave it out for a derived one",
            )
        })?),
    };
    for p in &raw.paths {
        if !p.prefix.starts_with('/') {
            return Err(with_help(
                format!(
                    "host `{first}`: the path prefix `{}` does not start with `/`",
                    p.prefix
                ),
                "write it as the request path starts, e.g. `prefix: /old`",
            ));
        }
    }
    let site_parts = !raw.paths.is_empty() || raw.ports.iter().any(|p| p.respond.is_some());
    let answer = match (raw.respond, raw.httpbin) {
        (_, true) if site_parts => {
            return Err(with_help(
                format!("host `{first}` has `httpbin: true` and fixed answers (`paths` or a port's `respond`)"),
                "httpbin answers every path itself: keep `httpbin: true` alone, or describe a site",
            ))
        }
        (Some(answer), false) => HostAnswer::Site {
            answer,
            paths: raw.paths,
        },
        (None, false) if site_parts => HostAnswer::Site {
            answer: AnswerSpec {
                status: 404,
                body: String::new(),
                content_type: text_plain(),
                headers: BTreeMap::new(),
            },
            paths: raw.paths,
        },
        (None, true) => HostAnswer::Httpbin,
        (Some(_), true) => {
            return Err(with_help(
                format!("host `{first}` has both `respond` and `httpbin: true`"),
                "keep one: a fixed `respond:` answer, or `httpbin: true` to echo requests",
            ))
        }
        (None, false) => {
            return Err(with_help(
                format!("host `{first}` says nothing about what it answers"),
                "add `respond: {status: 200, body: \"...\"}` or `httpbin: true`",
            ))
        }
    };
    Ok(HostSpec {
        names: raw
            .names
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect(),
        address,
        ports: raw.ports,
        answer,
    })
}

impl<'de> Deserialize<'de> for HostSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a host `{names: [...], ports: [...], respond: {...}}`",
            host,
        )
    }
}

/// The outside world a scenario runs against: the built-in external hosts plus its own (a host of
/// the scenario replaces a built-in one that shares a name).
///
/// This is the one seam between the scenario format and `external`.
pub(crate) fn internet(hosts: &[HostSpec]) -> Internet {
    let mut internet = Internet::builtin();
    for h in hosts {
        internet.add(external_host(h));
    }
    internet
}

/// Give every public name in `names` that resolves nowhere yet a generic web site (`web_site`),
/// unless its last label is a namespace of `resources` (then it is a Kubernetes `name.namespace`).
pub fn add_web_sites<'a>(
    internet: &mut Internet,
    names: impl IntoIterator<Item = &'a str>,
    resources: impl IntoIterator<Item = &'a Resource>,
) {
    // The namespaces every cluster has count even when no manifest names them.
    let mut namespaces: std::collections::BTreeSet<String> = resources
        .into_iter()
        .flat_map(|r| {
            let own = (r.kind() == Kind::Namespace).then(|| r.meta.name.clone());
            own.into_iter().chain(r.meta.namespace.clone())
        })
        .collect();
    namespaces.extend(["default", "kube-system", "kube-public", "istio-system"].map(String::from));
    for name in names {
        let last = name.rsplit('.').next().unwrap_or_default();
        if is_public_name(name)
            && !namespaces.contains(&last.to_ascii_lowercase())
            && internet.resolve(name).is_none()
        {
            internet.add(web_site(name));
        }
    }
}

fn answer(a: &AnswerSpec) -> Answer {
    Answer {
        status: a.status,
        content_type: a.content_type.clone(),
        body: a.body.clone(),
        headers: a
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn external_host(h: &HostSpec) -> ExternalHost {
    let app = match &h.answer {
        HostAnswer::Httpbin => App::Httpbin,
        HostAnswer::Site { answer: a, paths } => App::Site(Box::new(Site {
            answer: answer(a),
            by_port: h
                .ports
                .iter()
                .filter_map(|p| p.respond.as_ref().map(|r| (p.port, answer(r))))
                .collect(),
            by_path: paths
                .iter()
                .map(|p| (p.prefix.clone(), answer(&p.respond)))
                .collect(),
        })),
    };
    let (first, aliases) = h
        .names
        .split_first()
        .map_or(("", &[][..]), |(f, rest)| (f.as_str(), rest));
    let host = aliases
        .iter()
        .fold(ExternalHost::new(first, app), |host, a| host.alias(a));
    let host = h.ports.iter().fold(host, |host, p| {
        host.listen_on(match (p.tls, p.http2) {
            (false, _) => ExternalPort::plain(p.port),
            (true, Some(false)) => ExternalPort::tls_http1(p.port),
            (true, _) => ExternalPort::tls(p.port),
        })
    });
    match h.address {
        Some(ip) => host.at(ip),
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Vec<HostSpec>, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn hosts_read_with_defaults() {
        let hosts = parse(
            "- names: [API.example.com]\n  ports: [{port: 443, tls: true}]\n  respond: {body: hello}\n\
             - names: [echo.example.com]\n  ports: [{port: 80}]\n  httpbin: true\n",
        )
        .unwrap();
        assert_eq!(hosts[0].names, ["api.example.com"]);
        assert_eq!(
            hosts[0].ports,
            [PortSpec {
                port: 443,
                tls: true,
                http2: None,
                respond: None,
            }]
        );
        assert_eq!(
            hosts[0].answer,
            HostAnswer::Site {
                answer: AnswerSpec {
                    status: 200,
                    body: "hello".into(),
                    content_type: "text/plain".into(),
                    headers: BTreeMap::new(),
                },
                paths: Vec::new(),
            }
        );
        assert_eq!(hosts[1].answer, HostAnswer::Httpbin);
        assert!(!hosts[1].ports[0].tls);
    }

    #[test]
    fn hosts_must_say_what_they_answer_once() {
        let err = parse("- names: [a.example]\n  ports: [{port: 80}]\n").unwrap_err();
        assert!(err.contains("says nothing about what it answers"), "{err}");
        let err =
            parse("- names: [a.example]\n  ports: [{port: 80}]\n  httpbin: true\n  respond: {}\n")
                .unwrap_err();
        assert!(err.contains("both `respond` and `httpbin: true`"), "{err}");
        let err = parse("- names: []\n  ports: [{port: 80}]\n  httpbin: true\n").unwrap_err();
        assert!(err.contains("`hosts[].names` is empty"), "{err}");
        let err =
            parse("- names: [a.example]\n  ports: [{port: 80, tsl: true}]\n  httpbin: true\n")
                .unwrap_err();
        assert!(err.contains("unknown field `tsl`"), "{err}");
    }

    #[test]
    fn sites_answer_by_path_and_port_at_a_fixed_address() {
        let hosts = parse(
            "- names: [wiki.test]\n  address: 198.35.26.96\n  ports: [{port: 80, respond: {status: 301, headers: {location: 'https://wiki.test/'}}}, {port: 443, tls: true}]\n  respond: {body: page}\n  paths: [{prefix: /health, respond: {status: 204}}]\n",
        )
        .unwrap();
        let world = internet(&hosts);
        assert_eq!(
            world.resolve("wiki.test"),
            Some(Ipv4Addr::new(198, 35, 26, 96))
        );
        let Some(App::Site(site)) = world.host("wiki.test").map(ExternalHost::app) else {
            panic!("a site");
        };
        assert_eq!(site.answer_for(80, "/").status, 301);
        assert_eq!(site.answer_for(443, "/").body, "page");
        assert_eq!(site.answer_for(80, "/health").status, 204);
        for (bad, says) in [
            ("- names: [a.test]\n  address: nowhere\n  ports: [{port: 80}]\n  httpbin: true\n", "not an IPv4 address"),
            ("- names: [a.test]\n  ports: [{port: 80}]\n  paths: [{prefix: x, respond: {}}]\n", "does not start with `/`"),
            ("- names: [a.test]\n  ports: [{port: 80}]\n  httpbin: true\n  paths: [{prefix: /x, respond: {}}]\n", "`httpbin: true` and fixed answers"),
            ("- names: [a.test]\n  ports: [{port: 80}]\n  respond: {stauts: 200}\n", "unknown field `stauts`"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn undeclared_public_names_get_a_web_site_and_the_rest_do_not() {
        let ns: Resource = egressbench_manifest::load_str(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
            "ns.yaml",
        )
        .map(|mut l| l.resources.remove(0))
        .unwrap();
        let mut world = internet(&[]);
        add_web_sites(
            &mut world,
            [
                "api.mycompany.com",
                "cart.shop",
                "nosuch.default",
                "x.example",
                "httpbin.org",
            ],
            [&ns],
        );
        assert!(world.host("api.mycompany.com").is_some());
        for not in ["cart.shop", "nosuch.default", "x.example"] {
            assert!(world.resolve(not).is_none(), "{not}");
        }
        assert_eq!(
            world.host("httpbin.org").map(ExternalHost::name),
            Some("httpbin.org")
        );
    }

    #[test]
    fn a_tls_port_offers_http2_unless_it_says_not() {
        let hosts = parse(
            "- names: [old.example.com]\n  ports: [{port: 443, tls: true, http2: false}, {port: 8443, tls: true}]\n  respond: {body: hi}\n",
        )
        .unwrap();
        let world = internet(&hosts);
        assert_eq!(
            world.listener("old.example.com", 443),
            Some(ExternalPort::tls_http1(443))
        );
        assert_eq!(
            world.listener("old.example.com", 8443),
            Some(ExternalPort::tls(8443))
        );
        let err = parse("- names: [a.example]\n  ports: [{port: 80, http2: true}]\n").unwrap_err();
        assert!(err.contains("`http2` but no `tls: true`"), "{err}");
    }

    #[test]
    fn declared_hosts_join_the_builtin_ones() {
        let hosts = parse(
            "- names: [api.example.com, api2.example.com]\n  ports: [{port: 443, tls: true}, {port: 8080}]\n  respond: {status: 201, body: hi}\n",
        )
        .unwrap();
        let world = internet(&hosts);
        let host = world
            .host("api2.example.com")
            .expect("the alias resolves to the declared host");
        assert_eq!(host.name(), "api.example.com");
        assert_eq!(host.port(443).map(|p| p.tls), Some(true));
        assert_eq!(host.port(8080).map(|p| p.tls), Some(false));
        assert_eq!(host.port(80), None);
        let App::Site(site) = host.app() else {
            panic!("a site: {:?}", host.app());
        };
        assert_eq!((site.answer.status, site.answer.body.as_str()), (201, "hi"));
        assert!(world.host("httpbin.org").is_some(), "built-in hosts stay");
        assert!(internet(&[]).host("api.example.com").is_none());
    }
}
