//! Reading a proxy's admin interface in its pod, as the documents do: `kubectl exec POD -c
//! istio-proxy -- pilot-agent request GET clusters|stats…`, or `curl [-s] localhost:15000/…` from
//! any container of the pod (they share its loopback), optionally piped into filters, also as
//! `sh -c '…'`.
//!
//! Owns: `AdminRead` and recognising those commands after `kubectl exec … --`, with Istio's
//! Prometheus page on the agent's port (`localhost:15020/stats/prometheus`) and Envoy's
//! (`15090`, and `/stats/prometheus` on 15000); the other ports of the `istio-proxy` container on
//! loopback (15021's health, other paths of 15020) are named as not replayed. Leaves out: the
//! pages (`egressbench_model::admin`), the counters (each target's), and running the filters
//! (`pipeline`).

use super::error::CommandError;
use super::pipeline::Stage;
use super::shell::filter_stages;
use super::words::{Operator, Token, TokenKind};
use egressbench_model::admin::AdminPage;

/// The port Envoy's admin interface listens on in an Istio pod (on loopback).
pub const ADMIN_PORT: u16 = 15000;

/// The ports that serve the Prometheus page only: the agent's merged metrics, Envoy's own.
const PROMETHEUS_PORTS: [u16; 2] = [15020, 15090];

/// Which program asked for the page: they need different containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminClient {
    /// `pilot-agent request GET …`: only the `istio-proxy` container has it.
    PilotAgent,
    /// `curl localhost:15000/…`: any container of a pod with a sidecar reaches it.
    Curl,
}

/// A read of an admin page, through `filters`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminRead {
    pub page: AdminPage,
    pub client: AdminClient,
    /// The loopback port asked (`ADMIN_PORT` for `pilot-agent`).
    pub port: u16,
    pub filters: Vec<Stage>,
}

/// The admin read `tokens` (the command after `kubectl exec … --`) ask for; `None` for any
/// other command.
pub(crate) fn admin_read(line: &str, tokens: &[Token]) -> Option<Result<AdminRead, CommandError>> {
    let pipe = tokens
        .iter()
        .position(|t| t.kind == TokenKind::Op(Operator::Pipe));
    let head = &tokens[..pipe.unwrap_or(tokens.len())];
    let words: Vec<&str> = head.iter().map(Token::word).collect::<Option<_>>()?;
    // `sh -c '…'` around the whole read (its pipes inside the quotes).
    if let (["sh" | "bash", "-c", script], None) = (words.as_slice(), pipe) {
        let inner = match super::words::tokenize(script, None) {
            Ok(tokens) => tokens,
            Err(_) => return None,
        };
        return admin_read(script, &inner);
    }
    let (client, path, port) = match words.as_slice() {
        ["pilot-agent", rest @ ..] => (AdminClient::PilotAgent, pilot_agent_path(rest), ADMIN_PORT),
        ["curl", rest @ ..] => match curl_path(rest)? {
            Ok((path, port)) => (AdminClient::Curl, Ok(path), port),
            Err(e) => (AdminClient::Curl, Err(e), ADMIN_PORT),
        },
        _ => return None,
    };
    let page = match path.and_then(|p| {
        p.parse::<AdminPage>().map_err(|e| CommandError::Usage {
            program: "envoy admin",
            message: e.to_string(),
        })
    }) {
        Ok(page) => page,
        Err(e) => return Some(Err(e)),
    };
    let filters = match pipe {
        Some(i) => match filter_stages(line, &tokens[i + 1..]) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        },
        None => Vec::new(),
    };
    Some(Ok(AdminRead {
        page,
        client,
        port,
        filters,
    }))
}

/// The path of `pilot-agent request GET PATH`.
fn pilot_agent_path(args: &[&str]) -> Result<String, CommandError> {
    match args {
        ["request", method, path] if method.eq_ignore_ascii_case("GET") => Ok(path.to_string()),
        _ => Err(CommandError::Usage {
            program: "pilot-agent",
            message: format!(
                "`pilot-agent {}` is not replayed: write pilot-agent request GET clusters (or \
                 stats, stats?filter=REGEX, stats/prometheus)",
                args.join(" ")
            ),
        }),
    }
}

/// The admin path and port of `curl [-s] [-S] localhost:15000/PATH` (or
/// `localhost:15020/stats/prometheus`); `None` when the URL is not on the pod's loopback (an
/// ordinary curl).
fn curl_path(args: &[&str]) -> Option<Result<(String, u16), CommandError>> {
    let (url, options): (Vec<&str>, Vec<&str>) = args.iter().partition(|a| !a.starts_with('-'));
    let [url] = url.as_slice() else {
        return None;
    };
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = authority.rsplit_once(':')?;
    if !matches!(host, "localhost" | "127.0.0.1") {
        return None;
    }
    let port: u16 = port.parse().ok()?;
    let usage = |message: String| {
        Some(Err(CommandError::Usage {
            program: "curl",
            message,
        }))
    };
    let prometheus = PROMETHEUS_PORTS.contains(&port) && path == "stats/prometheus";
    if port != ADMIN_PORT && !prometheus {
        if (15000..=15090).contains(&port) {
            return usage(format!(
                "`{url}`: port {port} of the istio-proxy container is not replayed but for \
                 Istio's metrics (localhost:15020/stats/prometheus, or 15090); Envoy's admin \
                 pages on {ADMIN_PORT} are (localhost:{ADMIN_PORT}/clusters, /stats)"
            ));
        }
        return None;
    }
    if let Some(o) = options.iter().find(|o| {
        !matches!(
            **o,
            "-s" | "-S" | "-sS" | "-Ss" | "--silent" | "--show-error"
        )
    }) {
        return usage(format!(
            "`{o}` is not replayed on the admin interface: write curl -s localhost:{port}/{path}"
        ));
    }
    Some(Ok((path.to_string(), port)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::words::tokenize;

    fn read(line: &str) -> Option<Result<AdminRead, CommandError>> {
        let tokens = tokenize(line, None).expect("tokenizes");
        admin_read(line, &tokens)
    }

    #[test]
    fn the_documents_forms_read_as_admin_pages() {
        let r = read(
            "pilot-agent request GET clusters | grep '^outbound|443||www.wikipedia.org.*cx_total:'",
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.page, AdminPage::Clusters);
        assert_eq!(r.client, AdminClient::PilotAgent);
        assert_eq!(r.filters.len(), 1);
        let r = read("curl -s localhost:15000/stats?usedonly")
            .unwrap()
            .unwrap();
        assert_eq!(r.client, AdminClient::Curl);
        assert!(matches!(
            r.page,
            AdminPage::Stats {
                used_only: true,
                ..
            }
        ));
        let r = read("curl http://127.0.0.1:15000/clusters")
            .unwrap()
            .unwrap();
        assert_eq!(r.page, AdminPage::Clusters);
    }

    #[test]
    fn other_commands_are_not_admin_reads() {
        assert!(read("curl -s http://httpbin.org/get").is_none());
        assert!(read("curl -s localhost:8080/").is_none());
        assert!(read("tail /var/log/squid/access.log").is_none());
    }

    #[test]
    fn istios_metrics_are_read_on_the_agents_port_and_envoys() {
        for line in [
            "curl -s localhost:15020/stats/prometheus | grep istio_requests_total",
            "curl -s http://127.0.0.1:15090/stats/prometheus",
            "pilot-agent request GET stats/prometheus",
        ] {
            let r = read(line).unwrap().unwrap();
            assert_eq!(r.page, AdminPage::Prometheus, "{line}");
        }
        assert_eq!(
            read("curl -s localhost:15020/stats/prometheus")
                .unwrap()
                .unwrap()
                .port,
            15020
        );
    }

    #[test]
    fn what_is_not_replayed_says_so() {
        let err = read("curl -s localhost:15020/healthz/ready")
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("15020/stats/prometheus"), "{err}");
        let err = read("pilot-agent request GET config_dump")
            .unwrap()
            .unwrap_err();
        assert!(
            err.to_string().contains("only `clusters`, `stats`"),
            "{err}"
        );
        let err = read("pilot-agent request POST logging")
            .unwrap()
            .unwrap_err();
        assert!(
            err.to_string().contains("pilot-agent request GET clusters"),
            "{err}"
        );
        let err = read("curl -v localhost:15000/stats").unwrap().unwrap_err();
        assert!(err.to_string().contains("`-v`"), "{err}");
    }
}
