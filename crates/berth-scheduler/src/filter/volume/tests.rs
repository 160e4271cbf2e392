use super::*;
use crate::testutil::{World, from, pod, zoned};
use crate::volume_topology::BoundClaim;
use serde_json::json;

fn zone(z: &str) -> k8s_openapi::api::core::v1::NodeSelector {
    from(json!({"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [z]}]}]}))
}

fn results(t: &VolumeTopology) -> Vec<Option<Vec<String>>> {
    let w = World::new(vec![zoned("n1", "a"), zoned("n2", "b")]);
    let p = pod("p", json!({}), json!({}));
    w.snapshot(&p, |s| {
        s.nodes
            .iter()
            .map(|n| filter(t, n).map(|st| st.reasons))
            .collect()
    })
}

#[test]
fn bound_volumes_pin_the_pod_to_their_topology() {
    let t = VolumeTopology {
        bound: vec![BoundClaim {
            claim: "d".into(),
            volume_affinity: Some(Some(zone("b"))),
        }],
        ..VolumeTopology::default()
    };
    assert_eq!(
        results(&t),
        vec![Some(vec![REASON_NODE_CONFLICT.to_string()]), None]
    );
    let anywhere = VolumeTopology {
        bound: vec![BoundClaim {
            claim: "d".into(),
            volume_affinity: Some(None),
        }],
        ..VolumeTopology::default()
    };
    assert_eq!(results(&anywhere), vec![None, None]);
    let missing = VolumeTopology {
        bound: vec![BoundClaim {
            claim: "d".into(),
            volume_affinity: None,
        }],
        ..VolumeTopology::default()
    };
    assert_eq!(
        results(&missing),
        vec![Some(vec![REASON_PV_NOT_EXIST.to_string()]); 2]
    );
}

#[test]
fn delayed_claims_need_a_reachable_volume_or_provisioning_there() {
    let claim = |candidates, provisionable, allowed| DelayedClaim {
        claim: "d".into(),
        candidates,
        provisionable,
        allowed_topologies: allowed,
    };
    let bind = Some(vec![REASON_BIND_CONFLICT.to_string()]);
    let only_a: Vec<k8s_openapi::api::core::v1::TopologySelectorTerm> =
        from(json!([{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a"]}]}]));
    let t = |d| VolumeTopology {
        delayed: vec![d],
        ..VolumeTopology::default()
    };
    assert_eq!(results(&t(claim(vec![], true, vec![]))), vec![None, None]);
    assert_eq!(
        results(&t(claim(vec![], true, only_a.clone()))),
        vec![None, bind.clone()]
    );
    assert_eq!(
        results(&t(claim(vec![], false, vec![]))),
        vec![bind.clone(), bind.clone()]
    );
    assert_eq!(
        results(&t(claim(vec![Some(zone("b"))], false, vec![]))),
        vec![bind.clone(), None]
    );
    // A static volume in b or provisioning in a: both nodes work.
    assert_eq!(
        results(&t(claim(vec![Some(zone("b"))], true, only_a))),
        vec![None, None]
    );
}

#[test]
fn both_reasons_are_reported_together() {
    let t = VolumeTopology {
        bound: vec![BoundClaim {
            claim: "d".into(),
            volume_affinity: Some(Some(zone("b"))),
        }],
        delayed: vec![DelayedClaim {
            claim: "e".into(),
            candidates: vec![],
            provisionable: false,
            allowed_topologies: vec![],
        }],
        ..VolumeTopology::default()
    };
    assert_eq!(
        results(&t)[0],
        Some(vec![
            REASON_NODE_CONFLICT.to_string(),
            REASON_BIND_CONFLICT.to_string()
        ])
    );
}
