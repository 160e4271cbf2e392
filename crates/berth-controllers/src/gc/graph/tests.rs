//! Tests of the garbage collector's planning.

use super::*;

fn obj(kind: &str, name: &str, uid: &str) -> ObjectRef {
    ObjectRef {
        group: String::new(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: "default".into(),
        name: name.into(),
        uid: uid.into(),
    }
}

fn owned_by(owner: &ObjectRef, block: bool) -> OwnerRef {
    OwnerRef {
        api_version: "v1".into(),
        kind: owner.kind.clone(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
        block_owner_deletion: block,
    }
}

fn node(o: &ObjectRef, owners: Vec<OwnerRef>) -> Node {
    Node {
        obj: o.clone(),
        owners,
        deleting: false,
        finalizers: vec![],
    }
}

fn deleting(mut n: Node, finalizer: &str) -> Node {
    n.deleting = true;
    n.finalizers = vec![finalizer.to_string()];
    n
}

#[test]
fn dependent_of_a_missing_owner_is_deleted_after_a_live_check() {
    let owner = obj("ConfigMap", "owner", "u-owner");
    let dep = obj("ConfigMap", "dep", "u-dep");
    let mut g = Graph::default();
    g.upsert(node(&dep, vec![owned_by(&owner, false)]));
    assert_eq!(
        g.plan("u-dep"),
        vec![Action::DeleteIfOwnersAbsent {
            target: dep.clone(),
            owners: vec![owned_by(&owner, false)]
        }]
    );
}

#[test]
fn dependent_with_a_present_owner_is_kept() {
    let owner = obj("ConfigMap", "owner", "u-owner");
    let dep = obj("ConfigMap", "dep", "u-dep");
    let mut g = Graph::default();
    g.upsert(node(&owner, vec![]));
    g.upsert(node(&dep, vec![owned_by(&owner, false)]));
    assert!(g.plan("u-dep").is_empty());
}

#[test]
fn owner_removal_marks_dependents_dirty() {
    let owner = obj("ConfigMap", "owner", "u-owner");
    let dep = obj("ConfigMap", "dep", "u-dep");
    let mut g = Graph::default();
    g.upsert(node(&owner, vec![]));
    g.upsert(node(&dep, vec![owned_by(&owner, false)]));
    let dirty = g.remove("u-owner");
    assert!(dirty.contains(&"u-dep".to_string()));
    assert!(matches!(
        g.plan("u-dep").as_slice(),
        [Action::DeleteIfOwnersAbsent { .. }]
    ));
}

#[test]
fn dangling_references_are_removed_when_another_owner_remains() {
    let a = obj("ConfigMap", "a", "u-a");
    let b = obj("ConfigMap", "b", "u-b");
    let dep = obj("ConfigMap", "dep", "u-dep");
    let mut g = Graph::default();
    g.upsert(node(&a, vec![]));
    g.upsert(node(&dep, vec![owned_by(&a, false), owned_by(&b, false)]));
    assert_eq!(
        g.plan("u-dep"),
        vec![Action::RemoveOwnerRefs {
            target: dep.clone(),
            owner_uids: vec!["u-b".into()]
        }]
    );
}

#[test]
fn orphaning_strips_references_then_the_finalizer() {
    let owner = obj("ConfigMap", "owner", "u-owner");
    let dep = obj("ConfigMap", "dep", "u-dep");
    let mut g = Graph::default();
    g.upsert(deleting(node(&owner, vec![]), ORPHAN));
    g.upsert(node(&dep, vec![owned_by(&owner, true)]));
    assert_eq!(
        g.plan("u-owner"),
        vec![Action::RemoveOwnerRefs {
            target: dep.clone(),
            owner_uids: vec!["u-owner".into()]
        }]
    );
    // The dependent was updated without the reference.
    g.upsert(node(&dep, vec![]));
    assert_eq!(
        g.plan("u-owner"),
        vec![Action::RemoveFinalizer {
            target: owner.clone(),
            finalizer: ORPHAN
        }]
    );
}

#[test]
fn foreground_deletes_dependents_and_waits_for_blocking_ones() {
    let owner = obj("StatefulSet", "web", "u-owner");
    let blocking = obj("Pod", "web-0", "u-pod");
    let loose = obj("ConfigMap", "extra", "u-cm");
    let mut g = Graph::default();
    g.upsert(deleting(node(&owner, vec![]), FOREGROUND));
    g.upsert(node(&blocking, vec![owned_by(&owner, true)]));
    g.upsert(node(&loose, vec![owned_by(&owner, false)]));
    assert_eq!(
        g.plan("u-owner"),
        vec![
            Action::Delete {
                target: loose.clone(),
                propagation: Propagation::Foreground
            },
            Action::Delete {
                target: blocking.clone(),
                propagation: Propagation::Foreground
            },
        ]
    );
    g.remove("u-cm");
    // The blocking pod is terminating: nothing new to delete, still waiting.
    g.upsert(deleting(node(&blocking, vec![owned_by(&owner, true)]), "x"));
    assert!(g.plan("u-owner").is_empty());
    g.remove("u-pod");
    assert_eq!(
        g.plan("u-owner"),
        vec![Action::RemoveFinalizer {
            target: owner,
            finalizer: FOREGROUND
        }]
    );
}

#[test]
fn foreground_without_blocking_dependents_finishes_at_once() {
    let owner = obj("ConfigMap", "owner", "u-owner");
    let dep = obj("ConfigMap", "dep", "u-dep");
    let mut g = Graph::default();
    g.upsert(deleting(node(&owner, vec![]), FOREGROUND));
    g.upsert(node(&dep, vec![owned_by(&owner, false)]));
    assert_eq!(
        g.plan("u-owner"),
        vec![
            Action::Delete {
                target: dep,
                propagation: Propagation::Foreground
            },
            Action::RemoveFinalizer {
                target: owner,
                finalizer: FOREGROUND
            },
        ]
    );
}

#[test]
fn objects_without_owners_need_nothing() {
    let mut g = Graph::default();
    let o = obj("ConfigMap", "free", "u-free");
    g.upsert(node(&o, vec![]));
    assert!(g.plan("u-free").is_empty());
    assert!(g.plan("unknown").is_empty());
}
