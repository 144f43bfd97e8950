//! A request as a value: what a client in a workload sends, before any proxy sees it.
//!
//! Owns: `ClientRequest` (scheme, authority, method, path, headers, body) and the workload it is sent
//! from. Leaves out: how a command line becomes one (`scenario::command`) and what the mesh does with
//! it (`decide`).

use serde::Serialize;
use std::fmt;

/// What the client speaks on the connection it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP/1.1.
    Http,
    /// TLS to the destination (SNI = host), HTTP inside.
    Https,
    /// Raw TCP bytes, no HTTP.
    Tcp,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::Tcp => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Tcp => "tcp",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workload a request is sent from: `namespace/name` of its Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkloadRef {
    pub namespace: String,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        WorkloadRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Parse `namespace/name` (or `namespace/deployment/name`).
    pub fn parse(s: &str) -> Option<WorkloadRef> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [ns, name] | [ns, "deployment" | "deploy" | "deployments", name]
                if !ns.is_empty() && !name.is_empty() =>
            {
                Some(WorkloadRef::new(*ns, *name))
            }
            _ => None,
        }
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One request a client makes: where to, in which protocol, and (for HTTP) what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRequest {
    pub scheme: Scheme,
    /// Host as the client names it (DNS name or IP), lowercase, no port.
    pub host: String,
    pub port: u16,
    /// HTTP method (`GET` when not HTTP).
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Extra request headers, in order, as the client sends them (no Host: that is `host[:port]`).
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Client-side limit on the whole exchange (`curl -m`), in milliseconds.
    pub timeout_ms: Option<u64>,
}

impl ClientRequest {
    /// A GET of `path` on `scheme://host:port`.
    pub fn get(scheme: Scheme, host: &str, port: u16, path: &str) -> Self {
        ClientRequest {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        }
    }

    /// The `Host` header value curl sends: the host, with the port when it is not the scheme's default.
    pub fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL as the client wrote it.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority(), self.path)
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_leaves_out_default_ports() {
        let r = ClientRequest::get(Scheme::Https, "www.httpbin.org", 443, "/get");
        assert_eq!(r.authority(), "www.httpbin.org");
        assert_eq!(r.url(), "https://www.httpbin.org/get");
        let r = ClientRequest::get(Scheme::Http, "httpbin.org", 8080, "/");
        assert_eq!(r.authority(), "httpbin.org:8080");
    }

    #[test]
    fn workload_refs_parse() {
        assert_eq!(
            WorkloadRef::parse("mytest/sleep-a"),
            Some(WorkloadRef::new("mytest", "sleep-a"))
        );
        assert_eq!(
            WorkloadRef::parse("mytest/deployment/sleep-a"),
            Some(WorkloadRef::new("mytest", "sleep-a"))
        );
        assert_eq!(WorkloadRef::parse("sleep-a"), None);
    }
}
