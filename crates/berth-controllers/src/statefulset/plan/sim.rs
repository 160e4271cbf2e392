//! A tiny in-memory cluster for the planner's tests (like Kubernetes' `fakeObjectManager`):
//! applies a [`Plan`], plays kubelet and garbage collector, and checks invariants after every
//! step.
#![allow(clippy::unwrap_used)]

use crate::statefulset::pods::{
    POD_INDEX_LABEL, REVISION_LABEL, claim_name, identity_matches, is_available, is_running_and_ready,
    is_terminating, ordinal, storage_matches,
};
use crate::statefulset::{
    Action, BerthExtensions, Event, Observed, Outcome, Plan, PodMemo, SetView, plan, plan_with,
};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The simulated cluster.
pub struct World {
    pub set: StatefulSet,
    pub pods: BTreeMap<String, Pod>,
    pub claims: BTreeMap<String, PersistentVolumeClaim>,
    pub revisions: BTreeMap<String, ControllerRevision>,
    pub foreign: Vec<ControllerRevision>,
    pub now: Timestamp,
    pub ext: BerthExtensions,
    uid: u64,
    /// Pods the kubelet keeps (or makes) unready.
    pub unready: BTreeSet<String>,
    /// Pods that stay Pending (never scheduled).
    pub pending: BTreeSet<String>,
    /// Pods whose termination does not complete (finalizer / lost node).
    pub stuck_terminating: BTreeSet<String>,
    /// Actions that fail when executed (matched against [`describe`]).
    pub fail: BTreeSet<String>,
    /// Every executed action, described.
    pub log: Vec<String>,
    /// Every event recorded.
    pub events: Vec<Event>,
    /// The last plan.
    pub last: Plan,
    /// The pods as an informer shares them: the same `Arc` until a pod changes.
    shared: BTreeMap<String, Arc<Pod>>,
    /// The memo kept between syncs, as the controller keeps it.
    memo: PodMemo,
}

/// A short description of an action, for logs and assertions.
pub fn describe(a: &Action) -> String {
    match a {
        Action::CreateRevision(r) => format!("create-rev {}", r.metadata.name.clone().unwrap()),
        Action::UpdateRevision { name, revision } => format!("bump-rev {name} {revision}"),
        Action::DeleteRevision(n) => format!("delete-rev {n}"),
        Action::CreateClaim { claim, .. } => format!("create-claim {}", claim.metadata.name.clone().unwrap()),
        Action::CreatePod(p) => format!("create {}", p.metadata.name.clone().unwrap()),
        Action::DeletePod { name, .. } => format!("delete {name}"),
        Action::UpdatePodIdentity(p) => format!("update {}", p.metadata.name.clone().unwrap()),
        Action::PatchClaimOwnerRefs { name, .. } => format!("patch-claim {name}"),
        Action::ExpandClaim { name, storage, .. } => format!("expand {name} {storage}"),
        Action::Fail { message, .. } => format!("fail {message}"),
    }
}

impl World {
    pub fn new(set: StatefulSet, ext: BerthExtensions) -> Self {
        World {
            set,
            pods: BTreeMap::new(),
            claims: BTreeMap::new(),
            revisions: BTreeMap::new(),
            foreign: vec![],
            now: Timestamp::from_second(1_700_000_000).unwrap(),
            ext,
            uid: 0,
            unready: BTreeSet::new(),
            pending: BTreeSet::new(),
            stuck_terminating: BTreeSet::new(),
            fail: BTreeSet::new(),
            log: vec![],
            events: vec![],
            last: Plan::default(),
            shared: BTreeMap::new(),
            memo: PodMemo::default(),
        }
    }

    fn next_uid(&mut self, kind: &str) -> String {
        self.uid += 1;
        format!("{kind}-uid-{}", self.uid)
    }

    pub fn view(&self) -> SetView {
        SetView::new(&self.set)
    }

    pub fn observed(&self) -> Observed {
        Observed {
            set: self.set.clone(),
            pods: self.pods.values().cloned().map(Arc::new).collect(),
            revisions: self.revisions.values().cloned().collect(),
            foreign_revisions: self.foreign.clone(),
            claims: self
                .claims
                .iter()
                .map(|(k, c)| (k.clone(), Arc::new(c.clone())))
                .collect(),
            now: self.now,
        }
    }

    /// Edits the spec and bumps the generation.
    pub fn edit(&mut self, f: impl FnOnce(&mut k8s_openapi::api::apps::v1::StatefulSetSpec)) {
        f(self.set.spec.as_mut().unwrap());
        let g = self.set.metadata.generation.unwrap_or(1);
        self.set.metadata.generation = Some(g + 1);
    }

    /// [`World::observed`] with the pods shared like an informer's: an unchanged pod is the
    /// same allocation as at the last sync.
    fn observed_shared(&mut self) -> Observed {
        let mut observed = self.observed();
        let shared: BTreeMap<String, Arc<Pod>> = self
            .pods
            .iter()
            .map(|(name, pod)| {
                let arc = match self.shared.get(name) {
                    Some(old) if **old == *pod => old.clone(),
                    _ => Arc::new(pod.clone()),
                };
                (name.clone(), arc)
            })
            .collect();
        observed.pods = shared.values().cloned().collect();
        self.shared = shared;
        observed
    }

    /// Plans and applies one sync, checking invariants; returns the plan. The plan is made
    /// twice, from scratch and with the memo kept between syncs, and must be the same.
    pub fn sync(&mut self) -> Plan {
        let observed = self.observed_shared();
        let p = plan(&observed, self.ext).unwrap();
        let memoized = plan_with(&observed, self.ext, &mut self.memo).unwrap();
        assert_eq!(memoized, p, "the memo changed the plan");
        self.apply(&p);
        self.check_invariants();
        self.last = p.clone();
        p
    }

    fn run(&mut self, a: &Action) -> Result<(), String> {
        let d = describe(a);
        if self.fail.contains(&d) {
            return Err("injected".into());
        }
        let set_name = self.view().name;
        let monotonic = self.view().monotonic;
        match a {
            Action::CreateRevision(r) => {
                let name = r.metadata.name.clone().unwrap();
                if self.revisions.contains_key(&name) {
                    return Err("already exists".into());
                }
                let mut r = r.clone();
                r.metadata.uid = Some(self.next_uid("rev"));
                r.metadata.creation_timestamp = Some(Time(self.now));
                self.revisions.insert(name, r);
            }
            Action::UpdateRevision { name, revision } => {
                self.revisions.get_mut(name).ok_or("not found")?.revision = *revision;
            }
            Action::DeleteRevision(n) => {
                self.revisions.remove(n).ok_or("not found")?;
            }
            Action::CreateClaim { claim, .. } => {
                let name = claim.metadata.name.clone().unwrap();
                if self.claims.contains_key(&name) {
                    return Err("already exists".into());
                }
                let mut c = claim.clone();
                c.metadata.uid = Some(self.next_uid("pvc"));
                self.claims.insert(name, c);
            }
            Action::CreatePod(p) => {
                let name = p.metadata.name.clone().unwrap();
                if self.pods.contains_key(&name) {
                    return Err("already exists".into());
                }
                let ord = ordinal(p).unwrap();
                // Claims exist before the pod (items 39, 44).
                for v in p.spec.as_ref().unwrap().volumes.iter().flatten() {
                    if let Some(pvc) = &v.persistent_volume_claim {
                        assert!(
                            self.claims.contains_key(&pvc.claim_name),
                            "{name} created before claim {}",
                            pvc.claim_name
                        );
                    }
                }
                // OrderedReady: every lower in-range ordinal is Running, Ready and Available (item 44).
                if monotonic {
                    let view = self.view();
                    for lower in view.start..ord {
                        let lp = self.pods.get(&format!("{set_name}-{lower}"));
                        assert!(
                            lp.is_some_and(|lp| is_running_and_ready(lp)
                                && !is_terminating(lp)
                                && is_available(lp, view.min_ready_seconds, self.now)),
                            "{name} created while {set_name}-{lower} is not running, ready and available"
                        );
                    }
                }
                let mut p = p.clone();
                p.metadata.uid = Some(self.next_uid("pod"));
                p.metadata.creation_timestamp = Some(Time(self.now));
                p.status = Some(PodStatus {
                    phase: Some("Pending".into()),
                    ..Default::default()
                });
                self.pods.insert(name, p);
            }
            Action::DeletePod { name, uid, .. } => {
                let view = self.view();
                let ord = self.pods.get(name).and_then(ordinal).ok_or("not found")?;
                if monotonic && !view.in_range(ord) {
                    // Condemned pods go from the highest ordinal down, one at a time (item 46).
                    assert!(
                        !self.pods.values().any(|p| {
                            let o = ordinal(p).unwrap();
                            o > ord && !view.in_range(o)
                        }),
                        "{name} deleted while a higher ordinal still exists"
                    );
                }
                let p = self.pods.get_mut(name).unwrap();
                if uid.is_some() {
                    assert_eq!(&p.metadata.uid, uid);
                }
                if p.metadata.deletion_timestamp.is_none() {
                    p.metadata.deletion_timestamp = Some(Time(self.now));
                }
            }
            Action::UpdatePodIdentity(p) => {
                let name = p.metadata.name.clone().unwrap();
                self.pods.insert(name, p.clone());
            }
            Action::PatchClaimOwnerRefs {
                name,
                owner_references,
                ..
            } => {
                let c = self.claims.get_mut(name).ok_or("not found")?;
                c.metadata.owner_references = Some(owner_references.clone()).filter(|r| !r.is_empty());
            }
            Action::ExpandClaim { name, storage, .. } => {
                let c = self.claims.get_mut(name).ok_or("not found")?;
                let req = c
                    .spec
                    .as_mut()
                    .unwrap()
                    .resources
                    .as_mut()
                    .unwrap()
                    .requests
                    .as_mut()
                    .unwrap();
                req.insert(
                    "storage".into(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity(storage.clone()),
                );
            }
            Action::Fail { message, .. } => return Err(message.clone()),
        }
        Ok(())
    }

    fn exec(&mut self, a: &Action) -> bool {
        let set_name = self.view().name;
        let r = self.run(a);
        self.log.push(describe(a));
        let outcome = match &r {
            Ok(()) => Outcome::Succeeded,
            Err(e) if e == "already exists" => Outcome::AlreadyExists,
            Err(e) => Outcome::Failed(e),
        };
        self.events.extend(a.events(&set_name, outcome));
        r.is_ok()
    }

    /// Runs a plan as the shell does.
    pub fn apply(&mut self, p: &Plan) {
        for a in &p.revisions {
            if !self.exec(a) {
                return;
            }
        }
        for batch in &p.batches {
            let mut ok = true;
            for task in batch {
                for a in task {
                    if !self.exec(a) {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                break;
            }
        }
        if let Some(s) = &p.status {
            self.set.status = Some(s.clone());
        }
        for a in &p.history {
            self.exec(a);
        }
        self.events.extend(p.events.iter().cloned());
    }

    /// One second passes: terminations complete (and the GC removes claims owned by gone pods),
    /// pending pods start, and readiness follows [`World::unready`].
    pub fn kubelet(&mut self) {
        self.now = self.now.checked_add(SignedDuration::from_secs(1)).unwrap();
        let gone: Vec<Pod> = self
            .pods
            .values()
            .filter(|p| {
                is_terminating(p) && !self.stuck_terminating.contains(p.metadata.name.as_ref().unwrap())
            })
            .cloned()
            .collect();
        for p in gone {
            self.pods.remove(p.metadata.name.as_ref().unwrap());
            let uid = p.metadata.uid.clone().unwrap();
            self.claims
                .retain(|_, c| !c.metadata.owner_references.iter().flatten().any(|r| r.uid == uid));
        }
        let now = self.now;
        for (name, p) in self.pods.iter_mut() {
            let st = p.status.get_or_insert_with(Default::default);
            let phase = st.phase.clone().unwrap_or_default();
            if phase == "Pending" && !self.pending.contains(name) {
                st.phase = Some("Running".into());
            }
            if st.phase.as_deref() != Some("Running") {
                continue;
            }
            let want = if self.unready.contains(name) {
                "False"
            } else {
                "True"
            };
            let conds = st.conditions.get_or_insert_with(Vec::new);
            match conds.iter_mut().find(|c| c.type_ == "Ready") {
                Some(c) if c.status == want => {}
                Some(c) => {
                    c.status = want.into();
                    c.last_transition_time = Some(Time(now));
                }
                None => conds.push(PodCondition {
                    type_: "Ready".into(),
                    status: want.into(),
                    last_transition_time: Some(Time(now)),
                    ..Default::default()
                }),
            }
        }
    }

    /// `sync` then `kubelet`.
    pub fn step(&mut self) -> Plan {
        let p = self.sync();
        self.kubelet();
        p
    }

    /// Whether the kubelet and GC have nothing left to do.
    fn quiet(&self) -> bool {
        self.pods.iter().all(|(name, p)| {
            let st = p.status.as_ref();
            let phase = st.and_then(|s| s.phase.as_deref()).unwrap_or("");
            let held = self.stuck_terminating.contains(name);
            if is_terminating(p) {
                return held;
            }
            if phase == "Pending" {
                return self.pending.contains(name);
            }
            if phase != "Running" {
                return true;
            }
            let want = if self.unready.contains(name) {
                "False"
            } else {
                "True"
            };
            st.and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                .is_some_and(|c| c.status == want)
        })
    }

    /// Steps until a sync does nothing and the world is quiet; panics after `max` steps.
    pub fn settle(&mut self, max: usize) {
        for _ in 0..max {
            let quiet = self.quiet();
            let p = self.step();
            if p.is_idle() && p.status.is_none() && p.requeue_after.is_none() && quiet {
                return;
            }
        }
        panic!("not settled after {max} steps; log: {:?}", self.log);
    }

    /// Names of live (non-terminating) pods, ascending by ordinal.
    pub fn live(&self) -> Vec<String> {
        let mut v: Vec<&Pod> = self.pods.values().filter(|p| !is_terminating(p)).collect();
        v.sort_by_key(|p| ordinal(p));
        v.iter().map(|p| p.metadata.name.clone().unwrap()).collect()
    }

    /// The revision label of a pod.
    pub fn rev(&self, pod: &str) -> String {
        self.pods[pod].metadata.labels.as_ref().unwrap()[REVISION_LABEL].clone()
    }

    /// Log entries starting with `prefix`.
    pub fn logged(&self, prefix: &str) -> Vec<String> {
        self.log
            .iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Invariants that hold after every step (Kubernetes' `assertMonotonicInvariants` and more).
    pub fn check_invariants(&self) {
        let view = self.view();
        for (name, p) in &self.pods {
            let ord = ordinal(p).unwrap();
            let labels = p.metadata.labels.as_ref().unwrap();
            assert!(identity_matches(&view, p), "{name}: identity");
            assert!(storage_matches(&view, p), "{name}: storage");
            assert_eq!(labels[POD_INDEX_LABEL], ord.to_string(), "{name}: pod-index");
            assert!(labels.contains_key(REVISION_LABEL), "{name}: revision label");
            let spec = p.spec.as_ref().unwrap();
            assert_eq!(spec.hostname.as_deref(), Some(name.as_str()), "{name}: hostname");
            assert_eq!(
                spec.subdomain.clone().unwrap_or_default(),
                view.service_name,
                "{name}: subdomain"
            );
            let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
            assert_eq!(
                (owner.kind.as_str(), owner.controller),
                ("StatefulSet", Some(true))
            );
            if !is_terminating(p) {
                for t in &view.claim_templates {
                    let c = claim_name(t.metadata.name.as_deref().unwrap(), &view.name, ord);
                    assert!(self.claims.contains_key(&c), "{name}: claim {c} missing");
                }
            }
        }
        if let Some(s) = &self.set.status {
            let n = |v: Option<i32>| v.unwrap_or(0);
            assert!(n(s.ready_replicas) <= s.replicas, "ready <= replicas");
            assert!(
                n(s.available_replicas) <= n(s.ready_replicas),
                "available <= ready"
            );
            assert!(n(s.updated_replicas) <= s.replicas, "updated <= replicas");
            assert!(n(s.current_replicas) <= s.replicas, "current <= replicas");
        }
    }
}
