//! The hosts every `Internet::builtin()` starts with (the table is in the `external` module doc),
//! and the generic web site a public name nobody declared gets.
//!
//! Owns: the built-in hosts' names, fixed addresses in 203.0.113.0/24, listeners and pages;
//! `is_public_name` and `web_site` (at an address derived from its name). Leaves out: lookup and
//! serving (`internet`).

#[cfg(test)]
use super::host::ExternalPort;
use super::host::{App, ExternalHost};
use std::net::Ipv4Addr;

/// A small, stable HTML page naming the site.
fn page(title: &str, host: &str) -> App {
    App::html_page(format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body><h1>{title}</h1><p>{host}</p></body>\n</html>\n"
    ))
}

fn at(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(203, 0, 113, last)
}

/// Plain HTTP on 80 and TLS on 443.
fn web(name: &str, title: &str, last: u8) -> ExternalHost {
    ExternalHost::new(name, page(title, name))
        .listen(80, false)
        .listen(443, true)
        .at(at(last))
}

/// Top-level names that never resolve on the Internet (RFC 2606, RFC 6761, RFC 6762) or that
/// name something inside a cluster.
const NOT_PUBLIC: [&str; 8] = [
    "example",
    "test",
    "invalid",
    "localhost",
    "local",
    "internal",
    "svc",
    "cluster",
];

/// Whether `name` is a public DNS name: at least two labels, a top-level label of letters that is
/// not reserved, and not an address. (A Kubernetes `name.namespace` can look the same; callers
/// that know the namespaces rule those out.)
pub fn is_public_name(name: &str) -> bool {
    let name = super::host::normalize_name(name);
    let labels: Vec<&str> = name.split('.').collect();
    let valid = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    match labels.last() {
        Some(tld) if labels.len() >= 2 && labels.iter().all(valid) => {
            tld.len() >= 2
                && tld.bytes().all(|b| b.is_ascii_alphabetic())
                && !NOT_PUBLIC.contains(tld)
        }
        _ => false,
    }
}

/// A generic web site for a public name nobody declared: a page naming the host, 200 on port 80
/// and on 443 over TLS, at an address derived from the name.
pub fn web_site(name: &str) -> ExternalHost {
    ExternalHost::new(name, page("Welcome", name))
        .listen(80, false)
        .listen(443, true)
}

/// The built-in hosts, in table order.
pub(super) fn hosts() -> Vec<ExternalHost> {
    vec![
        ExternalHost::new("httpbin.org", App::Httpbin)
            .alias("www.httpbin.org")
            .listen(80, false)
            .listen(443, true)
            .at(at(10)),
        ExternalHost::new(
            "www.alibabacloud.com",
            page("Alibaba Cloud", "www.alibabacloud.com"),
        )
        .listen(443, true)
        .at(at(20)),
        web("www.aliyun.com", "Aliyun", 21),
        web("www.baidu.com", "Baidu", 30),
        // Plain HTTP is moved to HTTPS, as the real site does: Istio's TLS origination task
        // shows origination working by that 301 disappearing.
        ExternalHost::new(
            "edition.cnn.com",
            page("CNN International", "edition.cnn.com").https_only(),
        )
        .listen(80, false)
        .listen(443, true)
        .at(at(40)),
        web("www.google.com", "Google", 50),
        web("istio.io", "Istio", 60),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_addresses_are_distinct_and_documented() {
        let hosts = hosts();
        let mut addresses: Vec<Ipv4Addr> = hosts.iter().map(ExternalHost::address).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), hosts.len());
        assert!(addresses.iter().all(|a| a.octets()[..3] == [203, 0, 113]));
    }

    #[test]
    fn public_names_and_the_rest() {
        for public in [
            "api.mycompany.com",
            "WWW.Example.ORG",
            "a.b.co",
            "xn--bcher-kva.de",
        ] {
            assert!(is_public_name(public), "{public}");
        }
        for not in [
            "unknown.example",
            "host.test",
            "localhost",
            "httpbin",
            "httpbin.default.svc.cluster.local",
            "reviews.default.svc",
            "10.0.0.1",
            "a..com",
            "a.c",
            "-a.com",
            "printer.local",
        ] {
            assert!(!is_public_name(not), "{not}");
        }
        let site = web_site("api.mycompany.com");
        assert_eq!(
            site.ports(),
            [ExternalPort::plain(80), ExternalPort::tls(443)]
        );
    }

    #[test]
    fn pages_name_their_site() {
        let hosts = hosts();
        let Some(App::Site(site)) = hosts.get(3).map(ExternalHost::app) else {
            panic!("www.baidu.com is a fixed page");
        };
        assert_eq!(site.answer.status, 200);
        let body = &site.answer.body;
        assert!(body.contains("<title>Baidu</title>") && body.contains("www.baidu.com"));
    }
}
