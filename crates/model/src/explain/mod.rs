//! Explanations for people and machines: every hop of a decision (proxy, listener, chain, route,
//! cluster), the resource and rule that matched, the identities presented and verified, the RBAC
//! verdicts, the end, the client's answer, and for a blocked request what would allow it.
//!
//! Owns: rendering a `decide::Trace` (with its `answer::Exchange`) as text or JSON. Leaves out:
//! deciding (`decide`) and scenario reports (`report`).

mod notes;
mod verdict;

pub use verdict::{answer_words, decision, reason, Decision};

use crate::answer::Exchange;
use crate::decide::{Hop, HopMode, Trace};
use crate::outcome::{AccessLogEntry, ClientResult};
use serde::Serialize;
use std::fmt::Write;

/// Everything `explain` shows, as one serializable value.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub request: String,
    pub from: String,
    pub identity: String,
    pub decision: Decision,
    pub answer: String,
    pub reason: String,
    pub would_allow: Vec<String>,
    pub hops: Vec<Hop>,
    pub access_log: Vec<AccessLogEntry>,
    pub result: ClientResult,
    /// Sent from the sidecar's own container, so no proxy captured it.
    pub from_proxy_container: bool,
    /// Sent from the workstation, outside the cluster.
    pub from_workstation: bool,
}

/// Build the explanation of an exchange that carries a trace.
pub fn explanation(exchange: &Exchange) -> Option<Explanation> {
    let trace: &Trace = exchange.trace.as_ref()?;
    Some(Explanation {
        request: match &trace.request.proxy {
            Some(p) if !p.tunnel => format!(
                "{} {} through forward proxy {p} (the whole request, for the proxy to make)",
                trace.request.method,
                trace.request.url(),
            ),
            Some(p) => format!(
                "{} {} through forward proxy {p} (CONNECT {}:{})",
                trace.request.method,
                trace.request.url(),
                trace.request.host,
                trace.request.port
            ),
            None => format!("{} {}", trace.request.method, trace.request.url()),
        },
        from: trace.from.to_string(),
        identity: trace.from_identity.to_string(),
        decision: decision(trace),
        answer: answer_words(&exchange.result),
        reason: reason(trace),
        would_allow: trace.remedies.clone(),
        hops: trace.hops.clone(),
        access_log: exchange.logs.clone(),
        result: exchange.result.clone(),
        from_proxy_container: trace.request.from_proxy_container,
        from_workstation: trace.from.pod().is_none(),
    })
}

fn line(out: &mut String, label: &str, value: impl AsRef<str>) {
    let _ = writeln!(out, "    {label:<13}{}", value.as_ref());
}

fn render_hop(out: &mut String, i: usize, h: &Hop) {
    let kind = match h.kind {
        crate::xds::ProxyKind::Sidecar => "sidecar",
        crate::xds::ProxyKind::Gateway => "gateway",
    };
    let _ = writeln!(
        out,
        "  hop {} · {kind} {} ({})",
        i + 1,
        h.proxy,
        h.direction
    );
    line(
        out,
        "listener",
        match &h.filter_chain {
            Some(c) => format!("{} · filter chain {c}", h.listener),
            None => h.listener.to_string(),
        },
    );
    if let Some(tls) = &h.downstream_tls {
        line(
            out,
            "tls in",
            format!(
                "{tls} terminated; peer identity {}",
                h.peer_identity.as_deref().unwrap_or("none")
            ),
        );
    }
    if let Some(sni) = &h.sni {
        line(out, "sni", sni);
    }
    if let (HopMode::Http, Some(r)) = (h.mode, &h.request) {
        line(
            out,
            "http",
            format!("{} {} (Host {})", r.method, r.path, r.authority),
        );
    }
    if let Some(rc) = &h.route_config {
        line(
            out,
            "route",
            format!(
                "{rc} → virtual host {} → route {}",
                h.virtual_host.as_deref().unwrap_or("(none)"),
                h.route.as_deref().unwrap_or("(none)")
            ),
        );
    }
    for (j, m) in h.matched.iter().enumerate() {
        line(out, if j == 0 { "matched" } else { "" }, m.to_string());
    }
    if let Some(rbac) = &h.rbac {
        line(
            out,
            "rbac",
            if rbac.allowed {
                "allowed".to_string()
            } else {
                format!("DENIED: {}", rbac.details.as_deref().unwrap_or("-"))
            },
        );
        for v in &rbac.verdicts {
            line(
                out,
                "",
                format!(
                    "{:?} {}{}: {}",
                    v.action,
                    v.policy,
                    if v.dry_run { " (dry-run)" } else { "" },
                    v.reasons
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
        }
    }
    if let Some(c) = &h.cluster {
        line(
            out,
            "cluster",
            match &h.upstream_host {
                Some(u) => format!("{c} → {u}"),
                None => c.to_string(),
            },
        );
    }
    if let Some(t) = &h.upstream_tls {
        line(
            out,
            "tls out",
            format!(
                "{}{} sni {}{}",
                t.mode,
                if t.auto { " (auto mTLS)" } else { "" },
                t.sni.as_deref().unwrap_or("-"),
                h.presented_identity
                    .as_deref()
                    .map(|p| format!(", presenting {p}"))
                    .unwrap_or_default()
            ),
        );
    }
    for n in &h.notes {
        line(out, "note", n.to_string());
    }
}

/// The explanation as text.
pub fn render_human(e: &Explanation) -> String {
    let mut out = String::new();
    match e.identity.as_str() {
        "" => writeln!(out, "request   {} from {}", e.request, e.from),
        identity => writeln!(out, "request   {} from {} ({identity})", e.request, e.from),
    }
    .unwrap_or_default();
    if e.hops.is_empty() {
        let why = if e.from_workstation {
            "sent from outside the cluster, where only a load-balancer address leads in; a \
             gateway that ends the client's handshake handles no request"
        } else if e.from_proxy_container {
            "sent from the istio-proxy container, whose traffic (UID 1337) iptables does not \
             redirect to the sidecar"
        } else {
            "the workload has no sidecar"
        };
        let _ = writeln!(out, "  (no proxy on the way: {why})");
    }
    for (i, h) in e.hops.iter().enumerate() {
        render_hop(&mut out, i, h);
    }
    let _ = writeln!(out, "decision  {:?}: {}", e.decision, e.answer);
    let _ = writeln!(out, "reason    {}", e.reason);
    if !e.would_allow.is_empty() {
        let _ = writeln!(out, "would allow it:");
        for r in &e.would_allow {
            let _ = writeln!(out, "  - {r}");
        }
    }
    if !e.access_log.is_empty() {
        let _ = writeln!(out, "access log:");
        for l in &e.access_log {
            let _ = writeln!(out, "  {}", l.to_json_line());
        }
    }
    out
}

/// The explanation of an exchange as text, or `None` when the target gave no trace.
pub fn render_exchange(exchange: &Exchange) -> Option<String> {
    explanation(exchange).map(|e| render_human(&e))
}
