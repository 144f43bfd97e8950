//! The closed sets of words the manifests use (protocols, TLS modes, actions), as types.
//!
//! Each enum reads its YAML spelling (case-insensitively where Istio does) and rejects anything
//! else with the list of accepted words and the closest one, so a typo is a clear error.
//!
//! Owns: the `word_enum!` macro and its enums (`Protocol`, `Location`, `Resolution`,
//! `ServerTlsMode`, `ClientTlsMode`, `Action`, `OutboundMode`, `CaptureMode`), the message for an
//! unknown word (`unknown_word`), and `Protocol`'s helpers (`is_http`, `is_tls`,
//! `from_port_name`). Leaves out: finding the closest word (`egressbench-text`'s `suggest`),
//! placing an error in its file (`egressbench-manifest`), and what the modes do to traffic
//! (`egressbench-model`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The error for a word outside an enum: what arrived, what is accepted, and the closest.
pub fn unknown_word(what: &str, got: &str, accepted: &[&str]) -> String {
    let mut msg = format!(
        "unknown {what} `{got}`, expected one of {}",
        accepted
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(best) = egressbench_text::suggest::closest(got, accepted.iter().copied()) {
        msg.push_str(&format!(" (did you mean `{best}`?)"));
    }
    msg
}

macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, case_insensitive = $ci:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every accepted spelling, in declaration order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The spelling Istio uses.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $word ),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $(
                    if s == $word || ($ci && s.eq_ignore_ascii_case($word)) {
                        return Ok($name::$variant);
                    }
                )+
                Err(unknown_word($what, s, Self::WORDS))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

word_enum! {
    /// Port protocol of a `ServiceEntry`, `Gateway` server or ASM rule (Istio parses it case-insensitively).
    Protocol, "protocol", case_insensitive = true {
        Http = "HTTP",
        Https = "HTTPS",
        Grpc = "GRPC",
        GrpcWeb = "GRPC-Web",
        Http2 = "HTTP2",
        Mongo = "MONGO",
        Mysql = "MYSQL",
        Redis = "REDIS",
        Tcp = "TCP",
        Tls = "TLS",
        Udp = "UDP",
    }
}

impl Protocol {
    /// HTTP-family protocols: the sidecar builds an HTTP listener for them.
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http | Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb
        )
    }

    /// Protocols sent upstream as HTTP/2 (istiod's `IsHTTP2`: HTTP2, gRPC, gRPC-Web).
    pub fn is_http2(self) -> bool {
        matches!(self, Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb)
    }

    /// Protocols routed by SNI (`tls:` routes) on a sidecar.
    pub fn is_tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::Tls)
    }

    /// Protocol of a Kubernetes Service port from its name prefix (`http-foo`) or `appProtocol`,
    /// as Istio's protocol selection does; `None` means Istio would sniff (treated as TCP here).
    pub fn from_port_name(name: &str) -> Option<Protocol> {
        let prefix = name.split('-').next().unwrap_or(name);
        prefix.parse().ok()
    }
}

word_enum! {
    /// `ServiceEntry.location`.
    Location, "location", case_insensitive = false {
        MeshExternal = "MESH_EXTERNAL",
        MeshInternal = "MESH_INTERNAL",
    }
}

word_enum! {
    /// `ServiceEntry.resolution`.
    Resolution, "resolution", case_insensitive = false {
        None = "NONE",
        Static = "STATIC",
        Dns = "DNS",
        DnsRoundRobin = "DNS_ROUND_ROBIN",
    }
}

word_enum! {
    /// `Gateway.servers[].tls.mode`.
    ServerTlsMode, "server TLS mode", case_insensitive = false {
        Passthrough = "PASSTHROUGH",
        Simple = "SIMPLE",
        Mutual = "MUTUAL",
        AutoPassthrough = "AUTO_PASSTHROUGH",
        IstioMutual = "ISTIO_MUTUAL",
        OptionalMutual = "OPTIONAL_MUTUAL",
    }
}

word_enum! {
    /// `DestinationRule...tls.mode`: how a proxy talks TLS to the upstream.
    ClientTlsMode, "client TLS mode", case_insensitive = false {
        Disable = "DISABLE",
        Simple = "SIMPLE",
        Mutual = "MUTUAL",
        IstioMutual = "ISTIO_MUTUAL",
    }
}

word_enum! {
    /// `AuthorizationPolicy.action`.
    Action, "action", case_insensitive = false {
        Allow = "ALLOW",
        Deny = "DENY",
        Audit = "AUDIT",
        Custom = "CUSTOM",
    }
}

word_enum! {
    /// Mesh config `outboundTrafficPolicy.mode`.
    OutboundMode, "outbound traffic policy mode", case_insensitive = false {
        RegistryOnly = "REGISTRY_ONLY",
        AllowAny = "ALLOW_ANY",
    }
}

word_enum! {
    /// `Sidecar.egress[].captureMode`.
    CaptureMode, "capture mode", case_insensitive = false {
        Default = "DEFAULT",
        Iptables = "IPTABLES",
        None = "NONE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_case_insensitively() {
        assert_eq!("http".parse::<Protocol>(), Ok(Protocol::Http));
        assert_eq!("TLS".parse::<Protocol>(), Ok(Protocol::Tls));
        assert_eq!(Protocol::from_port_name("http-web"), Some(Protocol::Http));
        assert_eq!(Protocol::from_port_name("web"), None);
    }

    #[test]
    fn unknown_words_name_the_closest() {
        let err = "REGISTRY_ONL".parse::<OutboundMode>().unwrap_err();
        assert!(err.contains("did you mean `REGISTRY_ONLY`"), "{err}");
        assert!(err.contains("`ALLOW_ANY`"), "{err}");
        let err = "ISTIO_MUTAL".parse::<ClientTlsMode>().unwrap_err();
        assert!(err.contains("did you mean `ISTIO_MUTUAL`"), "{err}");
    }
}
