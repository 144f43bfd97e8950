//! Where curl opens its connection: `--resolve` and `--connect-to`, read and applied as curl 8 does.
//!
//! Owns: `Resolve` (`HOST:PORT:ADDRESS`, `*` for any host, several addresses of which curl tries
//! the first), `ConnectTo` (`HOST1:PORT1:HOST2:PORT2`, an empty field meaning any host or port on
//! the left and the same one on the right) and `dial_for`: the first `--connect-to` that matches the
//! URL's host and port picks the host and port to connect to, then the first `--resolve` that
//! matches those pins the address. Leaves out: reading the rest of curl's flags (`curl`) and the
//! request (`headers`).

use egressbench_model::request::Dial;

/// One `--resolve HOST:PORT:ADDRESS[,ADDRESS…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    /// `None` for `*` (any host).
    host: Option<String>,
    port: u16,
    address: String,
}

/// One `--connect-to HOST1:PORT1:HOST2:PORT2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    from_host: Option<String>,
    from_port: Option<u16>,
    to_host: Option<String>,
    to_port: Option<u16>,
}

fn port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("`{text}` is not a port number (1-65535)"))
}

fn optional_port(text: &str) -> Result<Option<u16>, String> {
    if text.is_empty() {
        Ok(None)
    } else {
        port(text).map(Some)
    }
}

fn optional_host(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_ascii_lowercase())
}

impl Resolve {
    /// Read `HOST:PORT:ADDRESS`; the error says what is wrong.
    pub fn parse(value: &str) -> Result<Resolve, String> {
        const FORM: &str = "HOST:PORT:ADDRESS, for example httpbin.org:80:10.0.0.1";
        if value.starts_with(['+', '-']) {
            return Err(format!(
                "{FORM}; the +HOST and -HOST forms (lazy and removed entries) are not supported"
            ));
        }
        let mut parts = value.splitn(3, ':');
        let (Some(host), Some(p), Some(addresses)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(FORM.into());
        };
        if host.is_empty() {
            return Err(format!("{FORM}: the host is empty"));
        }
        let first = addresses.split(',').next().unwrap_or_default().trim();
        if first.is_empty() {
            return Err(format!("{FORM}: the address is empty"));
        }
        if first.starts_with('[') || first.contains(':') {
            return Err("IPv6 addresses are not supported; use an IPv4 address".into());
        }
        if first.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(format!(
                "{FORM}: `{first}` is not an IPv4 address (curl wants an address, not a name)"
            ));
        }
        Ok(Resolve {
            host: (host != "*").then(|| host.to_ascii_lowercase()),
            port: port(p).map_err(|e| format!("{FORM}: {e}"))?,
            address: first.to_string(),
        })
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.as_deref().is_none_or(|h| h == host)
    }
}

impl ConnectTo {
    /// Read `HOST1:PORT1:HOST2:PORT2`; the error says what is wrong.
    pub fn parse(value: &str) -> Result<ConnectTo, String> {
        const FORM: &str =
            "HOST1:PORT1:HOST2:PORT2 (empty fields allowed), for example httpbin.org:80:egress.local:8080";
        if value.contains('[') {
            return Err("IPv6 addresses are not supported; use an IPv4 address or a name".into());
        }
        let parts: Vec<&str> = value.split(':').collect();
        let [h1, p1, h2, p2] = parts.as_slice() else {
            return Err(FORM.into());
        };
        let bad = |e: String| format!("{FORM}: {e}");
        Ok(ConnectTo {
            from_host: optional_host(h1),
            from_port: optional_port(p1).map_err(bad)?,
            to_host: optional_host(h2),
            to_port: optional_port(p2).map_err(bad)?,
        })
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.from_host.as_deref().is_none_or(|h| h == host)
            && self.from_port.is_none_or(|p| p == port)
    }
}

/// Where a request to `host:port` connects, when `--connect-to` or `--resolve` move it: `None`
/// when it goes where the URL says.
pub(crate) fn dial_for(
    resolve: &[Resolve],
    connect_to: &[ConnectTo],
    host: &str,
    port: u16,
) -> Option<Dial> {
    let host = host.to_ascii_lowercase();
    let moved = connect_to.iter().find(|c| c.matches(&host, port));
    let (to_host, to_port) = match moved {
        Some(c) => (
            c.to_host.clone().unwrap_or_else(|| host.clone()),
            c.to_port.unwrap_or(port),
        ),
        None => (host.clone(), port),
    };
    let dial_host = resolve
        .iter()
        .find(|r| r.matches(&to_host, to_port))
        .map_or(to_host, |r| r.address.clone());
    (dial_host != host || to_port != port).then_some(Dial {
        host: dial_host,
        port: to_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(list: &[&str]) -> Vec<Resolve> {
        list.iter().map(|r| Resolve::parse(r).unwrap()).collect()
    }

    fn connect(list: &[&str]) -> Vec<ConnectTo> {
        list.iter().map(|c| ConnectTo::parse(c).unwrap()).collect()
    }

    fn dial(host: &str, port: u16) -> Option<Dial> {
        Some(Dial {
            host: host.into(),
            port,
        })
    }

    #[test]
    fn resolve_pins_the_address_of_a_matching_host_and_port_only() {
        let r = resolve(&["httpbin.example.com:80:10.96.0.20"]);
        assert_eq!(
            dial_for(&r, &[], "HTTPBIN.example.com", 80),
            dial("10.96.0.20", 80)
        );
        assert_eq!(dial_for(&r, &[], "httpbin.example.com", 443), None);
        assert_eq!(dial_for(&r, &[], "other.example.com", 80), None);
        let any = resolve(&["*:443:10.0.0.1,10.0.0.2"]);
        assert_eq!(dial_for(&any, &[], "a.test", 443), dial("10.0.0.1", 443));
    }

    #[test]
    fn connect_to_moves_host_and_port_and_resolve_applies_after_it() {
        let c = connect(&["httpbin.org:80:egress.test:8080", "::gw.test:"]);
        assert_eq!(
            dial_for(&[], &c, "httpbin.org", 80),
            dial("egress.test", 8080)
        );
        assert_eq!(dial_for(&[], &c, "x.test", 443), dial("gw.test", 443));
        let r = resolve(&["egress.test:8080:10.0.0.9"]);
        assert_eq!(dial_for(&r, &c, "httpbin.org", 80), dial("10.0.0.9", 8080));
        let same = connect(&["a.test:80::"]);
        assert_eq!(dial_for(&[], &same, "a.test", 80), None);
    }

    #[test]
    fn malformed_entries_say_what_is_wrong() {
        for (bad, says) in [
            ("a:80", "HOST:PORT:ADDRESS"),
            (":80:10.0.0.1", "host is empty"),
            ("a:http:10.0.0.1", "not a port"),
            ("a:80:", "address is empty"),
            ("a:80:gateway.local", "not an IPv4 address"),
            ("a:80:[::1]", "IPv6"),
            ("+a:80:10.0.0.1", "lazy"),
        ] {
            let e = Resolve::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        for (bad, says) in [
            ("a:80:b", "HOST1:PORT1"),
            ("a:x:b:1", "not a port"),
            ("[::1]:80::", "IPv6"),
        ] {
            let e = ConnectTo::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
