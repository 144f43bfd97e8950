//! Expansion of a whole store: every `ASMEgressTrafficPolicy` replaced by the objects it compiles
//! to, user objects kept.
//!
//! Owns the order policies are compiled in (store order, so the result is deterministic) and the
//! rule that a generated object may not replace anything already there. Leaves out compiling one
//! policy (`compile_policy`).

use crate::error::{FieldError, Problem};
use crate::plan::PolicyRef;
use crate::provenance::{generated_from, source_path};
use crate::{compile_policy, CompileError, Expanded};
use egressbench_resources::{Kind, Resource, Store};
use std::collections::BTreeSet;

/// Compile every ASM policy in `store` against `store` and swap the policies for the results.
pub fn expand(store: &Store) -> Result<Expanded, CompileError> {
    let policies: Vec<&Resource> = store.of_kind(Kind::AsmEgressTrafficPolicy).collect();
    let mut out = store.clone();
    for p in &policies {
        out.delete(&p.id());
    }
    let mut generated = Vec::new();
    let mut by_us = BTreeSet::new();
    let mut warnings = Vec::new();
    for policy in policies {
        let compiled = compile_policy(store, policy)?;
        for r in compiled.resources {
            let id = r.id();
            if let Some(existing) = out.get(&id) {
                return Err(collision(
                    policy,
                    &r,
                    describe(existing, by_us.contains(&id)),
                ));
            }
            by_us.insert(id.clone());
            generated.push(id);
            out.apply(r);
        }
        warnings.extend(compiled.warnings);
    }
    Ok(Expanded {
        store: out,
        generated,
        warnings,
    })
}

/// The error for `generated` (from `policy`) landing on an object that already exists.
fn collision(policy: &Resource, generated: &Resource, existing: String) -> CompileError {
    FieldError::new(
        source_path(generated).unwrap_or("metadata.name"),
        Problem::Collision {
            id: generated.id().to_string(),
            existing,
        },
    )
    .in_policy(&PolicyRef::of(policy).display)
}

/// How a message names the object a generated one collides with.
fn describe(existing: &Resource, generated: bool) -> String {
    match (generated, generated_from(existing)) {
        (true, Some(from)) => format!("the same object generated from {from}"),
        _ => match &existing.origin {
            Some(o) => format!("user resource {} ({o})", existing.id()),
            None => format!("user resource {}", existing.id()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use egressbench_resources::{Body, ObjectMeta, Origin, ResourceId};

    #[test]
    fn policies_are_replaced_by_their_objects() {
        let mut store = fixtures::cluster();
        let policy = fixtures::policy(fixtures::V1, &fixtures::seed_http());
        let policy_id = policy.id();
        store.apply(policy);
        let user_objects = store.len() - 1;

        let ex = expand(&store).unwrap();
        assert!(ex.store.get(&policy_id).is_none());
        assert_eq!(ex.store.of_kind(Kind::AsmEgressTrafficPolicy).count(), 0);
        assert_eq!(ex.store.len(), user_objects + ex.generated.len());
        for id in &ex.generated {
            assert!(ex.store.get(id).is_some(), "{id}");
        }
        // User objects are kept unchanged.
        for r in fixtures::cluster().iter() {
            assert_eq!(ex.store.get(&r.id()), Some(r));
        }
        assert!(ex.generated.contains(&ResourceId::new(
            Kind::Gateway,
            fixtures::NS,
            fixtures::POLICY
        )));
        assert_eq!(ex.warnings.len(), 1, "{:?}", ex.warnings);
    }

    #[test]
    fn a_store_without_policies_is_unchanged() {
        let store = fixtures::cluster();
        let ex = expand(&store).unwrap();
        assert_eq!(ex.store, store);
        assert!(ex.generated.is_empty() && ex.warnings.is_empty());
    }

    #[test]
    fn generated_objects_may_not_replace_user_objects() {
        let mut store = fixtures::cluster();
        store.apply(fixtures::policy(
            fixtures::V1,
            &fixtures::seed_passthrough(),
        ));
        let mut user = Resource::new(
            "networking.istio.io/v1",
            ObjectMeta::named(
                "egress-by-egressgateway-httpbin-service-https",
                fixtures::NS,
            ),
            Body::ServiceEntry(Box::default()),
        );
        user.origin = Some(Origin {
            file: "mine.yaml".into(),
            line: 3,
            column: 1,
        });
        store.apply(user);
        let err = expand(&store).unwrap_err();
        assert_eq!(err.field, "spec.egressRules[0].to[0]");
        assert_eq!(
            *err.problem,
            Problem::Collision {
                id: "ServiceEntry/istio-egress/egress-by-egressgateway-httpbin-service-https"
                    .into(),
                existing: "user resource ServiceEntry/istio-egress/\
                           egress-by-egressgateway-httpbin-service-https (mine.yaml:3:1)"
                    .into(),
            }
        );
    }

    #[test]
    fn two_policies_may_not_generate_the_same_object() {
        // The same policy name in two namespaces: both generate Sidecar
        // `mytest/egress-by-egressgateway-mytest-0`.
        let mut store = fixtures::cluster();
        store.apply(fixtures::policy(fixtures::V1, &fixtures::seed_http()));
        store.apply(fixtures::named_policy(
            fixtures::V1,
            "other",
            fixtures::POLICY,
            &fixtures::seed_tcp().replace("name: egressgateway", "name: egressgateway-o"),
        ));
        store.apply(fixtures::gateway_deployment(
            "other",
            "egressgateway-o",
            &[("istio", "egressgateway-o")],
        ));
        store.apply(fixtures::service(
            "other",
            "egressgateway-o",
            &[("tls", 443)],
        ));
        let err = expand(&store).unwrap_err();
        assert_eq!(err.field, "spec.egressRules[0].from[0]");
        assert!(
            matches!(&*err.problem, Problem::Collision { id, existing }
                if id == "Sidecar/mytest/egress-by-egressgateway-mytest-0"
                && existing.starts_with("the same object generated from ASMEgressTrafficPolicy/istio-egress/")),
            "{err}"
        );
    }
}
