//! `hosts:` — the extra external hosts a scenario declares, read as data, and the one seam that
//! turns them into the target's outside world (`external::Internet`).
//!
//! Owns: the strict shape of a host entry, [`internet`], which adds them to the built-in hosts,
//! and [`add_web_sites`], which gives the public names a scenario uses and nobody declared a
//! generic web site.
//! Leaves out: how an external host answers (`external`).

use super::de::{checked_map, with_help};
use egressbench_model::external::{is_public_name, web_site, App, ExternalHost, Internet};
use egressbench_resources::{Kind, Resource};
use serde::{Deserialize, Deserializer, Serialize};

/// One external host: the names it answers to, its ports, and what it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostSpec {
    pub names: Vec<String>,
    pub ports: Vec<PortSpec>,
    pub answer: HostAnswer,
}

/// `{port: 443, tls: true}`: a port the host listens on, and whether it speaks TLS there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    pub port: u16,
    #[serde(default)]
    pub tls: bool,
}

/// What the host answers every request with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostAnswer {
    /// `respond: {status, body, content_type}`.
    Fixed {
        status: u16,
        body: String,
        content_type: String,
    },
    /// `httpbin: true`: answers as httpbin.org does (echoes the request).
    Httpbin,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    names: Vec<String>,
    ports: Vec<PortSpec>,
    #[serde(default)]
    respond: Option<RawRespond>,
    #[serde(default)]
    httpbin: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRespond {
    #[serde(default = "ok_status")]
    status: u16,
    #[serde(default)]
    body: String,
    #[serde(default = "text_plain")]
    content_type: String,
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
    let answer = match (raw.respond, raw.httpbin) {
        (Some(r), false) => HostAnswer::Fixed {
            status: r.status,
            body: r.body,
            content_type: r.content_type,
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
    let namespaces: std::collections::BTreeSet<String> = resources
        .into_iter()
        .flat_map(|r| {
            let own = (r.kind() == Kind::Namespace).then(|| r.meta.name.clone());
            own.into_iter().chain(r.meta.namespace.clone())
        })
        .collect();
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

fn external_host(h: &HostSpec) -> ExternalHost {
    let app = match &h.answer {
        HostAnswer::Httpbin => App::Httpbin,
        HostAnswer::Fixed {
            status,
            body,
            content_type,
        } => App::Fixed {
            status: *status,
            content_type: content_type.clone(),
            body: body.clone(),
        },
    };
    let (first, aliases) = h
        .names
        .split_first()
        .map_or(("", &[][..]), |(f, rest)| (f.as_str(), rest));
    let host = aliases
        .iter()
        .fold(ExternalHost::new(first, app), |host, a| host.alias(a));
    h.ports
        .iter()
        .fold(host, |host, p| host.listen(p.port, p.tls))
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
                tls: true
            }]
        );
        assert_eq!(
            hosts[0].answer,
            HostAnswer::Fixed {
                status: 200,
                body: "hello".into(),
                content_type: "text/plain".into()
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
        assert_eq!(
            host.app(),
            &App::Fixed {
                status: 201,
                content_type: "text/plain".into(),
                body: "hi".into()
            }
        );
        assert!(world.host("httpbin.org").is_some(), "built-in hosts stay");
        assert!(internet(&[]).host("api.example.com").is_none());
    }
}
