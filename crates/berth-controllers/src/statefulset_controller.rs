//! The StatefulSet controller's kube-rs shell: watches StatefulSets (and the pods and
//! ControllerRevisions they own), claims pods, fills [`Observed`] from its caches, asks
//! [`statefulset::plan`] what to do, and carries the plan out through the API following the
//! contract documented in [`crate::statefulset`]. Events are recorded as
//! `statefulset-controller`.

use crate::statefulset::{self, Action, BerthExtensions, Observed, Outcome, Plan};
use berth_api::selector::LabelSelector;
use berth_informer::memo::IdentityMemo;
use berth_informer::{Informer, Informers};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The name Kubernetes' controller records events under.
pub const CONTROLLER_NAME: &str = "statefulset-controller";

/// Why a sync failed; it is retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// An API call failed.
    #[error("{action}: {source}")]
    Api {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// The planner refused the observed state.
    #[error(transparent)]
    Plan(#[from] statefulset::PlanError),
    /// A planned action failed without an API call, or a batch stopped early.
    #[error("{0}")]
    Incomplete(String),
}

struct Context {
    client: Client,
    /// The pods, with their index by controller.
    pod_index: Informer<Pod>,
    /// The revisions again, for the index by controller.
    revision_index: Informer<ControllerRevision>,
    revisions: Store<ControllerRevision>,
    claims: Store<PersistentVolumeClaim>,
    /// The claims again, to wait for their first list.
    claim_informer: Informer<PersistentVolumeClaim>,
    classes: Store<StorageClass>,
    extensions: BerthExtensions,
    /// The StatefulSets (the controller's own cache), to drop the memos of deleted ones.
    sets: Store<StatefulSet>,
    /// What each set's syncs keep of its pods between syncs, by set UID.
    memos: Mutex<Memos>,
}

/// The sets' memos, by set UID.
#[derive(Default)]
struct Memos {
    by_set: HashMap<String, SetMemo>,
    /// Deleted sets leave memos behind: past this many, the memos of sets no longer cached
    /// are dropped (and the bound doubles from what is left), so the sweep costs O(1) per
    /// sync amortized, not a walk over every set at every sync.
    sweep_above: usize,
}

/// Derived once per pod version for one set (see [`berth_informer::memo`]).
#[derive(Default)]
struct SetMemo {
    /// The planner's facts.
    plan: statefulset::PodMemo,
    /// How the set may claim each pod.
    claims: IdentityMemo<Pod, PodClaim>,
}

/// What [`claim_pods`] reads of a pod for its set.
#[derive(Clone, Copy)]
struct PodClaim {
    /// The set is the pod's controller.
    owned: bool,
    /// The pod has no controller.
    orphan: bool,
    /// The pod is named `<set>-<ordinal>`.
    member: bool,
    /// The set's selector matches the pod's labels.
    selected: bool,
    terminating: bool,
}

impl PodClaim {
    fn of(pod: &Pod, set_name: &str, uid: &str, selector: Option<&LabelSelector>) -> Self {
        PodClaim {
            owned: owned_by(&pod.metadata, uid),
            orphan: !has_controller(&pod.metadata),
            member: pod
                .metadata
                .name
                .as_deref()
                .and_then(statefulset::pods::parent_and_ordinal)
                .is_some_and(|(p, _)| p == set_name),
            selected: selector_matches(selector, pod.labels()),
            terminating: pod.metadata.deletion_timestamp.is_some(),
        }
    }
}

/// Runs the StatefulSet controller with Berth's improvements switched as given.
///
/// Pods and ControllerRevisions come from the shared informers: the informer updates the
/// cache the planner reads before it wakes the controller, so a sync never sees an older pod
/// than the event that triggered it.
pub async fn run(informers: Arc<Informers>, extensions: BerthExtensions) {
    let client = informers.client().clone();
    let pods = informers.get::<Pod>();
    let revisions = informers.get::<ControllerRevision>();
    let controller = Controller::new(
        Api::<StatefulSet>::all(client.clone()),
        watcher::Config::default(),
    );
    let ctx = Arc::new(Context {
        sets: controller.store(),
        memos: Mutex::new(Memos::default()),
        client: client.clone(),
        pod_index: pods.clone(),
        revision_index: revisions.clone(),
        revisions: revisions.store(),
        claims: informers.get::<PersistentVolumeClaim>().store(),
        claim_informer: informers.get::<PersistentVolumeClaim>(),
        classes: informers.get::<StorageClass>().store(),
        extensions,
    });
    controller
        .owns_shared_stream(pods.objects())
        .owns_shared_stream(revisions.objects())
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "statefulset reconcile failed");
            }
        })
        .await;
}

fn error_policy(_set: Arc<StatefulSet>, err: &SyncError, _ctx: Arc<Context>) -> Requeue {
    tracing::debug!(error = %err, "statefulset sync will be retried");
    Requeue::requeue(Duration::from_millis(500))
}

fn owned_by(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, uid: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

fn has_controller(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true))
}

/// The set's selector as the API server evaluates label selectors (`berth_api::selector`);
/// an invalid or missing selector is `None` and matches nothing.
fn set_selector(set: &StatefulSet) -> Option<LabelSelector> {
    let selector = serde_json::to_value(&set.spec.as_ref()?.selector).ok()?;
    LabelSelector::from_label_selector_json(&selector).ok()
}

/// Whether `labels` match the (parsed) selector.
fn selector_matches(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    selector.is_some_and(|s| s.matches_label_map(labels))
}

fn controller_ref(set: &StatefulSet) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        name: set.name_any(),
        uid: set.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Adopts matching orphans and releases owned pods that stopped matching (items 103–105).
async fn claim_pods(
    ctx: &Context,
    set: &StatefulSet,
    memo: &mut IdentityMemo<Pod, PodClaim>,
) -> Result<Vec<Arc<Pod>>, SyncError> {
    let ns = set.namespace().unwrap_or_default();
    let uid = set.uid().unwrap_or_default();
    let name = set.name_any();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let selector = set_selector(set);
    let mut owned = Vec::new();
    // Only the set's own pods and the namespace's orphans can be claimed or released.
    let candidates = if uid.is_empty() {
        Vec::new()
    } else {
        ctx.pod_index.controlled_by(&ns, &uid)
    };
    for pod in candidates.into_iter().chain(ctx.pod_index.controlled_by(&ns, "")) {
        let claim = *memo.get_or_derive(&pod, |pod| PodClaim::of(pod, &name, &uid, selector.as_ref()));
        if claim.owned {
            if claim.selected {
                owned.push(pod);
            } else if set.metadata.deletion_timestamp.is_none() {
                let refs: Vec<serde_json::Value> = vec![json!({"$patch": "delete", "uid": uid})];
                let patch = json!({"metadata": {"ownerReferences": refs, "uid": pod.uid()}});
                api.patch(&pod.name_any(), &PatchParams::default(), &Patch::Strategic(patch))
                    .await
                    .map_err(|source| SyncError::Api {
                        action: format!("release pod {}", pod.name_any()),
                        source,
                    })?;
            }
        } else if claim.orphan
            && claim.member
            && claim.selected
            && set.metadata.deletion_timestamp.is_none()
            && !claim.terminating
        {
            let patch = json!({"metadata": {"ownerReferences": [controller_ref(set)], "uid": pod.uid()}});
            match api
                .patch(&pod.name_any(), &PatchParams::default(), &Patch::Strategic(patch))
                .await
            {
                Ok(adopted) => owned.push(Arc::new(adopted)),
                Err(source) => {
                    return Err(SyncError::Api {
                        action: format!("adopt pod {}", pod.name_any()),
                        source,
                    });
                }
            }
        }
    }
    memo.sweep();
    Ok(owned)
}

/// Adopts ControllerRevisions without a controller whose labels match the selector (item 61),
/// e.g. those left behind by `kubectl delete sts --cascade=orphan`.
async fn adopt_revisions(ctx: &Context, set: &StatefulSet) -> Result<bool, SyncError> {
    if set.metadata.deletion_timestamp.is_some() {
        return Ok(false);
    }
    let mut adopted = false;
    let selector = set_selector(set);
    let ns = set.namespace().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &ns);
    // Only the namespace's revisions without a controller can be adopted.
    for rev in ctx.revision_index.controlled_by(&ns, "") {
        if has_controller(&rev.metadata)
            || rev.metadata.deletion_timestamp.is_some()
            || !selector_matches(selector.as_ref(), rev.labels())
        {
            continue;
        }
        let patch = json!({"metadata": {"ownerReferences": [controller_ref(set)], "uid": rev.uid()}});
        match api
            .patch(&rev.name_any(), &PatchParams::default(), &Patch::Strategic(patch))
            .await
        {
            Ok(_) => {
                tracing::debug!(revision = %rev.name_any(), set = %set.name_any(), "adopted controller revision");
                adopted = true;
            }
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 || s.code == 422 => {}
            Err(source) => {
                return Err(SyncError::Api {
                    action: format!("adopt revision {}", rev.name_any()),
                    source,
                });
            }
        }
    }
    Ok(adopted)
}

async fn reconcile(set: Arc<StatefulSet>, ctx: Arc<Context>) -> Result<Requeue, SyncError> {
    // Plan only on complete caches, as Kubernetes waits for its informers to sync.
    ctx.pod_index.synced().await;
    ctx.revision_index.synced().await;
    ctx.claim_informer.synced().await;
    let uid = set.uid().unwrap_or_default();
    // The set's memo is taken out for the sync (a set is never synced twice at once) and put
    // back whatever the outcome.
    let mut memo = take_memo(&ctx, &uid);
    let result = sync(&ctx, &set, &mut memo).await;
    put_memo(&ctx, uid, memo);
    result
}

fn take_memo(ctx: &Context, uid: &str) -> SetMemo {
    let mut memos = ctx
        .memos
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    memos.by_set.remove(uid).unwrap_or_default()
}

fn put_memo(ctx: &Context, uid: String, memo: SetMemo) {
    let mut memos = ctx
        .memos
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    memos.by_set.insert(uid, memo);
    if memos.by_set.len() > memos.sweep_above {
        let live: std::collections::HashSet<String> =
            ctx.sets.state().iter().filter_map(|s| s.uid()).collect();
        memos.by_set.retain(|uid, _| live.contains(uid));
        memos.sweep_above = (2 * memos.by_set.len()).max(16);
    }
}

async fn sync(ctx: &Context, set: &StatefulSet, memo: &mut SetMemo) -> Result<Requeue, SyncError> {
    let ns = set.namespace().unwrap_or_default();
    let uid = set.uid().unwrap_or_default();
    let pods = claim_pods(ctx, set, &mut memo.claims).await?;
    if adopt_revisions(ctx, set).await? {
        // Plan once the cache shows the adopted revisions as ours, so none is mistaken for a
        // foreign name collision.
        return Ok(Requeue::requeue(Duration::from_millis(100)));
    }
    let revisions: Vec<ControllerRevision> = if uid.is_empty() {
        Vec::new()
    } else {
        ctx.revision_index
            .controlled_by(&ns, &uid)
            .iter()
            .filter(|r| owned_by(&r.metadata, &uid))
            .map(|r| (**r).clone())
            .collect()
    };
    // Another owner's revision matters only when its name could collide with one of ours:
    // `<set name, truncated to 223 bytes>-<hash>` (`ControllerRevisionName`).
    let our_prefix = statefulset::revision::revision_name(&set.name_any(), "");
    let foreign_revisions: Vec<ControllerRevision> = ctx
        .revisions
        .state()
        .iter()
        .filter(|r| {
            r.namespace().as_deref() == Some(ns.as_str())
                && !owned_by(&r.metadata, &uid)
                && r.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(&our_prefix))
        })
        .map(|r| (**r).clone())
        .collect();
    // Only claims named `<template>-<set>-…` can be the set's.
    let set_name = set.name_any();
    let claim_prefixes: Vec<String> = set
        .spec
        .iter()
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .map(|t| format!("{}-{set_name}-", t.metadata.name.as_deref().unwrap_or_default()))
        .collect();
    let claims: BTreeMap<String, Arc<PersistentVolumeClaim>> = if claim_prefixes.is_empty() {
        BTreeMap::new()
    } else {
        ctx.claims
            .state()
            .into_iter()
            .filter(|c| c.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter_map(|c| {
                let name = c.metadata.name.clone()?;
                claim_prefixes
                    .iter()
                    .any(|p| name.starts_with(p.as_str()))
                    .then_some((name, c))
            })
            .collect()
    };
    let observed = Observed {
        set: set.clone(),
        pods,
        revisions,
        foreign_revisions,
        claims,
        now: k8s_openapi::jiff::Timestamp::now(),
    };
    let plan = statefulset::plan_with(&observed, ctx.extensions, &mut memo.plan)?;
    tracing::debug!(set = %set.name_any(), namespace = %ns, actions = plan.actions().count(), "statefulset sync");
    let result = execute(ctx, set, &plan).await;
    tracing::debug!(set = %set.name_any(), ok = result.is_ok(), "statefulset sync done");
    result
}

async fn execute(ctx: &Context, set: &StatefulSet, plan: &Plan) -> Result<Requeue, SyncError> {
    let name = set.name_any();
    for action in &plan.revisions {
        perform(ctx, set, action).await?;
    }
    let mut failure: Option<String> = None;
    let name = name.as_str();
    for batch in &plan.batches {
        let results = futures::future::join_all(batch.iter().map(|task| async move {
            for action in task {
                let result = perform(ctx, set, action).await;
                let (outcome_text, failed) = match &result {
                    Ok(()) => (None, false),
                    Err(e) => (Some(e.to_string()), true),
                };
                let outcome = match (&result, &outcome_text) {
                    (Ok(()), _) => Outcome::Succeeded,
                    (
                        Err(SyncError::Api {
                            source: kube::Error::Api(s),
                            ..
                        }),
                        _,
                    ) if s.code == 409 && s.reason == "AlreadyExists" => Outcome::AlreadyExists,
                    (_, Some(text)) => Outcome::Failed(text),
                    _ => Outcome::Failed("unknown error"),
                };
                for ev in action.events(name, outcome) {
                    record(ctx, set, &ev).await;
                }
                if failed {
                    return Err(outcome_text.unwrap_or_default());
                }
            }
            Ok(())
        }))
        .await;
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            failure = Some(e);
            break;
        }
    }
    if let Some(status) = &plan.status {
        let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &set.namespace().unwrap_or_default());
        let patch = json!({"status": status});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| SyncError::Api {
                action: format!("update status of {name}"),
                source,
            })?;
    }
    for action in &plan.history {
        if let Err(e) = perform(ctx, set, action).await {
            tracing::debug!(error = %e, "revision history truncation failed");
        }
    }
    for ev in &plan.events {
        record(ctx, set, ev).await;
    }
    if let Some(f) = failure {
        return Err(SyncError::Incomplete(f));
    }
    Ok(match plan.requeue_after {
        Some(d) => Requeue::requeue(d),
        None => Requeue::requeue(Duration::from_secs(300)),
    })
}

async fn record(ctx: &Context, set: &StatefulSet, ev: &statefulset::Event) {
    let reference: ObjectReference = set.object_ref(&());
    if let Err(e) = crate::recorder::record(
        &ctx.client,
        CONTROLLER_NAME,
        &reference,
        ev.type_.as_str(),
        &ev.reason,
        &ev.message,
    )
    .await
    {
        tracing::debug!(error = %e, "recording an event failed");
    }
}

fn api_err(action: String) -> impl FnOnce(kube::Error) -> SyncError {
    move |source| SyncError::Api { action, source }
}

async fn perform(ctx: &Context, set: &StatefulSet, action: &Action) -> Result<(), SyncError> {
    let ns = set.namespace().unwrap_or_default();
    tracing::debug!(set = %set.name_any(), ?action, "statefulset action");
    let client = ctx.client.clone();
    let pp = PostParams::default();
    match action {
        Action::CreateRevision(rev) => {
            let api: Api<ControllerRevision> = Api::namespaced(client, &ns);
            api.create(&pp, rev)
                .await
                .map(|_| ())
                .map_err(api_err(format!("create revision {}", rev.name_any())))
        }
        Action::UpdateRevision { name, revision } => {
            let api: Api<ControllerRevision> = Api::namespaced(client, &ns);
            let patch = json!({"revision": revision});
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
                .map_err(api_err(format!("update revision {name}")))
        }
        Action::DeleteRevision(name) => {
            let api: Api<ControllerRevision> = Api::namespaced(client, &ns);
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                Err(e) => Err(SyncError::Api {
                    action: format!("delete revision {name}"),
                    source: e,
                }),
            }
        }
        Action::CreateClaim { claim, .. } => {
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client, &ns);
            api.create(&pp, claim)
                .await
                .map(|_| ())
                .map_err(api_err(format!("create claim {}", claim.name_any())))
        }
        Action::CreatePod(pod) => {
            let api: Api<Pod> = Api::namespaced(client, &ns);
            api.create(&pp, pod)
                .await
                .map(|_| ())
                .map_err(api_err(format!("create Pod {}", pod.name_any())))
        }
        Action::DeletePod { name, uid, .. } => {
            let api: Api<Pod> = Api::namespaced(client, &ns);
            let dp = DeleteParams {
                preconditions: uid.clone().map(|u| Preconditions {
                    uid: Some(u),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            api.delete(name, &dp)
                .await
                .map(|_| ())
                .map_err(api_err(format!("delete Pod {name}")))
        }
        Action::UpdatePodIdentity(pod) => {
            let api: Api<Pod> = Api::namespaced(client, &ns);
            api.replace(&pod.name_any(), &pp, pod)
                .await
                .map(|_| ())
                .map_err(api_err(format!("update Pod {}", pod.name_any())))
        }
        Action::PatchClaimOwnerRefs {
            name,
            owner_references,
            ..
        } => {
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client, &ns);
            let patch = json!({"metadata": {"ownerReferences": owner_references}});
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
                .map_err(api_err(format!("update claim {name}")))
        }
        Action::ExpandClaim { name, storage, .. } => {
            let Some(claim) = ctx
                .claims
                .state()
                .into_iter()
                .find(|c| c.namespace().as_deref() == Some(ns.as_str()) && c.name_any() == *name)
            else {
                return Ok(());
            };
            let class_name = claim
                .spec
                .as_ref()
                .and_then(|s| s.storage_class_name.clone())
                .unwrap_or_default();
            let expandable = ctx
                .classes
                .state()
                .iter()
                .any(|c| c.name_any() == class_name && c.allow_volume_expansion == Some(true));
            // Kubernetes accepts a larger request only on a bound claim; an unbound one is
            // provisioned from the template later anyway.
            let bound = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
            if !expandable || !bound {
                return Ok(());
            }
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client, &ns);
            let patch = json!({"spec": {"resources": {"requests": {"storage": storage}}}});
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
                .map_err(api_err(format!("expand claim {name}")))
        }
        Action::Fail { message, .. } => Err(SyncError::Incomplete(message.clone())),
    }
}
