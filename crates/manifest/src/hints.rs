//! Extra help for unknown fields that are not typos but features a kind does not have, or fields
//! written one level off.
//!
//! Owns: the table (kind, where, field) → hint. Leaves out: typo suggestions (`suggest`) and the
//! error itself (`diagnose`).

use super::field_path::FieldPath;
use egressbench_resources::Kind;

/// Where in a resource an entry applies: anywhere, or directly under a mapping reached by a key.
#[derive(Debug, Clone, Copy)]
enum Under {
    Anywhere,
    /// The field sits in a mapping whose path (indices left out) ends with this key.
    Key(&'static str),
}

#[derive(Debug)]
struct Entry {
    kind: Kind,
    under: Under,
    fields: &'static [&'static str],
    hint: &'static str,
}

const NO_WEIGHTS: &str = "ASMEgressTrafficPolicy does not support weighted routing; \
configure a native VirtualService for the egress gateway instead";
const NO_MTLS_ORIGINATION: &str = "ASMEgressTrafficPolicy cannot originate mTLS to an external \
host; only `httpsUpgrade` (TLS origination) is supported";
const ALWAYS_MTLS: &str = "sidecar→egress gateway traffic is always mTLS in \
ASMEgressTrafficPolicy; plaintext is not supported";

const TABLE: &[Entry] = &[
    Entry {
        kind: Kind::AsmEgressTrafficPolicy,
        under: Under::Anywhere,
        fields: &["weight", "weights", "subset", "subsets"],
        hint: NO_WEIGHTS,
    },
    Entry {
        kind: Kind::AsmEgressTrafficPolicy,
        under: Under::Key("to"),
        fields: &[
            "tls",
            "mtls",
            "mTLS",
            "clientCertificate",
            "privateKey",
            "caCertificates",
        ],
        hint: NO_MTLS_ORIGINATION,
    },
    Entry {
        kind: Kind::AsmEgressTrafficPolicy,
        under: Under::Key("byEgressGateway"),
        fields: &["plaintext", "tlsMode", "mode", "tls"],
        hint: ALWAYS_MTLS,
    },
    Entry {
        kind: Kind::VirtualService,
        under: Under::Key("destination"),
        fields: &["weight"],
        hint: "`weight` belongs to the route entry, next to `destination:`, not inside it",
    },
    Entry {
        kind: Kind::DestinationRule,
        under: Under::Key("spec"),
        fields: &["tls", "portLevelSettings", "loadBalancer", "connectionPool"],
        hint: "this setting goes under `spec.trafficPolicy`",
    },
    Entry {
        kind: Kind::Sidecar,
        under: Under::Key("spec"),
        fields: &["hosts"],
        hint: "a Sidecar lists hosts per listener: `spec.egress[].hosts`",
    },
];

/// The hint for unknown field `field` in the mapping at `parent` of a `kind` resource.
pub(crate) fn unsupported_field(
    kind: Kind,
    parent: &FieldPath,
    field: &str,
) -> Option<&'static str> {
    let last = parent.keys().last();
    TABLE
        .iter()
        .find(|e| {
            e.kind == kind
                && e.fields.contains(&field)
                && match e.under {
                    Under::Anywhere => true,
                    Under::Key(k) => last == Some(k),
                }
        })
        .map(|e| e.hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(i: usize) -> FieldPath {
        FieldPath::root().key("spec").key("egressRules").index(i)
    }

    #[test]
    fn asm_features_that_do_not_exist() {
        let asm = Kind::AsmEgressTrafficPolicy;
        let to = rule(0).key("to").index(1);
        assert_eq!(unsupported_field(asm, &to, "weight"), Some(NO_WEIGHTS));
        assert_eq!(unsupported_field(asm, &rule(0), "subset"), Some(NO_WEIGHTS));
        assert_eq!(
            unsupported_field(asm, &to, "tls"),
            Some(NO_MTLS_ORIGINATION)
        );
        assert_eq!(
            unsupported_field(asm, &to, "clientCertificate"),
            Some(NO_MTLS_ORIGINATION)
        );
        let gw = FieldPath::root().key("spec").key("byEgressGateway");
        assert_eq!(unsupported_field(asm, &gw, "plaintext"), Some(ALWAYS_MTLS));
        assert_eq!(
            unsupported_field(asm, &to.key("byEgressGateway"), "tlsMode"),
            Some(ALWAYS_MTLS)
        );
    }

    #[test]
    fn only_in_place() {
        let asm = Kind::AsmEgressTrafficPolicy;
        assert_eq!(unsupported_field(asm, &rule(0), "tls"), None);
        assert_eq!(unsupported_field(asm, &rule(0), "namspace"), None);
        let to = rule(0).key("to").index(0);
        assert_eq!(unsupported_field(Kind::ServiceEntry, &to, "tls"), None);
    }

    #[test]
    fn placement_mistakes_in_istio_kinds() {
        let dest = FieldPath::root()
            .key("spec")
            .key("http")
            .index(0)
            .key("route")
            .index(0)
            .key("destination");
        assert!(unsupported_field(Kind::VirtualService, &dest, "weight").is_some());
        let spec = FieldPath::root().key("spec");
        assert!(unsupported_field(Kind::DestinationRule, &spec, "tls").is_some());
    }
}
