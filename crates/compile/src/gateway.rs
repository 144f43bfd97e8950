//! The egress gateway a policy names: found in the cluster, with its pod selector, Service host and
//! Service ports.
//!
//! Owns looking up the gateway `Deployment` and `Service` (both named `spec.byEgressGateway.name`,
//! in the policy's namespace) and the "no such gateway, did you mean …" error. Leaves out choosing
//! gateway ports (`gateway_ports`) and the `Gateway` resource itself (`generate`).

use crate::error::{FieldError, Problem};
use egressbench_resources::{Body, Kind, Resource, ResourceId, Store};
use egressbench_text::suggest::closest;
use std::collections::BTreeMap;

/// The pod label Istio's gateway charts set (`istio: egressgateway`), which selectors use.
const ISTIO_LABEL: &str = "istio";

const FIELD: &str = "spec.byEgressGateway.name";

/// The egress gateway as the generated resources refer to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EgressGateway {
    pub name: String,
    pub namespace: String,
    /// `<name>.<namespace>.svc.cluster.local`: the host sidecars send to.
    pub host: String,
    /// The generated `Gateway`'s selector.
    pub selector: BTreeMap<String, String>,
    /// Ports of the gateway's Service in declared order; `None` when there is no such Service.
    pub service_ports: Option<Vec<u16>>,
}

/// Find gateway `name` in `namespace`: its Deployment is required, its Service is read when present.
pub(crate) fn find(
    store: &Store,
    namespace: &str,
    name: &str,
) -> Result<EgressGateway, FieldError> {
    let deployment = store
        .get(&ResourceId::new(Kind::Deployment, namespace, name))
        .and_then(|r| match &r.body {
            Body::Deployment(d) => Some(d),
            _ => None,
        })
        .ok_or_else(|| missing(store, namespace, name))?;
    let pod_labels = &deployment.template.metadata.labels;
    let selector = selector_for(pod_labels).ok_or_else(|| {
        FieldError::new(
            FIELD,
            Problem::GatewayWithoutLabels {
                name: name.to_string(),
            },
        )
    })?;
    let service_ports = store
        .get(&ResourceId::new(Kind::Service, namespace, name))
        .and_then(|r| match &r.body {
            Body::Service(s) => Some(s.ports.iter().map(|p| p.port).collect()),
            _ => None,
        });
    Ok(EgressGateway {
        name: name.to_string(),
        namespace: namespace.to_string(),
        host: format!("{name}.{namespace}.svc.cluster.local"),
        selector,
        service_ports,
    })
}

/// `{istio: <value>}` when the pods carry the `istio` label, else every pod label; `None` when the
/// pods carry no labels (a `Gateway` with an empty selector would bind every gateway).
fn selector_for(pod_labels: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    if let Some(v) = pod_labels.get(ISTIO_LABEL) {
        return Some([(ISTIO_LABEL.to_string(), v.clone())].into_iter().collect());
    }
    (!pod_labels.is_empty()).then(|| pod_labels.clone())
}

/// The error for a missing gateway: the gateway-looking Deployments that exist, and the closest.
fn missing(store: &Store, namespace: &str, name: &str) -> FieldError {
    let gateways: Vec<&Resource> = store
        .of_kind(Kind::Deployment)
        .filter(|r| match &r.body {
            Body::Deployment(d) => d.template.metadata.labels.contains_key(ISTIO_LABEL),
            _ => false,
        })
        .collect();
    let suggestion = closest(name, gateways.iter().map(|r| r.name())).map(str::to_string);
    FieldError::new(
        FIELD,
        Problem::NoGateway {
            name: name.to_string(),
            namespace: namespace.to_string(),
            found: gateways
                .iter()
                .map(|r| format!("{}/{}", r.namespace(), r.name()))
                .collect(),
            suggestion,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn finds_gateway_selector_host_and_ports() {
        let store = fixtures::cluster();
        let gw = find(&store, "istio-egress", "egressgateway").unwrap();
        assert_eq!(gw.host, "egressgateway.istio-egress.svc.cluster.local");
        assert_eq!(gw.selector, fixtures::labels(&[("istio", "egressgateway")]));
        assert_eq!(gw.service_ports, Some(vec![80, 443, 444]));
    }

    #[test]
    fn selector_falls_back_to_all_pod_labels() {
        let labels = fixtures::labels(&[("app", "gw"), ("tier", "egress")]);
        assert_eq!(selector_for(&labels), Some(labels.clone()));
        assert_eq!(selector_for(&BTreeMap::new()), None);
    }

    #[test]
    fn gateway_without_service_has_no_ports() {
        let store = Store::from_resources([fixtures::gateway_deployment(
            "istio-egress",
            "egressgateway",
            &[("app", "egressgateway")],
        )]);
        let gw = find(&store, "istio-egress", "egressgateway").unwrap();
        assert_eq!(gw.service_ports, None);
        assert_eq!(gw.selector, fixtures::labels(&[("app", "egressgateway")]));
    }

    #[test]
    fn missing_gateway_lists_gateways_and_suggests_the_closest() {
        let store = Store::from_resources([
            fixtures::gateway_deployment(
                "istio-egress",
                "egressgateway-a",
                &[("istio", "egressgateway-a")],
            ),
            fixtures::gateway_deployment("default", "nginx", &[("app", "nginx")]),
        ]);
        let err = find(&store, "istio-egress", "egressgateway").unwrap_err();
        assert_eq!(err.field, "spec.byEgressGateway.name");
        assert_eq!(
            err.problem,
            Problem::NoGateway {
                name: "egressgateway".into(),
                namespace: "istio-egress".into(),
                found: vec!["istio-egress/egressgateway-a".into()],
                suggestion: Some("egressgateway-a".into()),
            }
        );
    }

    #[test]
    fn gateway_pods_without_labels_are_an_error() {
        let store =
            Store::from_resources([fixtures::gateway_deployment("istio-egress", "gw", &[])]);
        let err = find(&store, "istio-egress", "gw").unwrap_err();
        assert_eq!(
            err.problem,
            Problem::GatewayWithoutLabels { name: "gw".into() }
        );
    }
}
