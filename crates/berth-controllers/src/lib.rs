//! Berth's controllers. Each one talks to the cluster only through a `kube::Client`, so the
//! same code runs in-process (a client over the API router) or against a remote server.
//!
//! - [`endpoints`]: the Endpoints and EndpointSlice controllers (pure planners + shells);
//! - [`gc`]: the garbage collector for owner references (background, foreground, orphan);
//! - [`namespace`]: empties terminating namespaces and then finalizes them;
//! - [`quota`]: ResourceQuota status (`hard` from the spec, `used` recalculated from the namespace);
//! - [`serviceaccount`]: a `default` ServiceAccount in every namespace;
//! - [`statefulset`] (pure planner) and [`statefulset_controller`] (its kube-rs shell);
//! - [`storage_protection`]: claims in use and bound volumes are not deleted under their users;
//! - [`volume`]: the PersistentVolume controller (binding, phases, provisioning hand-off, reclaim).

pub mod endpoints;
pub mod gc;
pub mod namespace;
pub mod quota;
pub mod recorder;
mod resources;
pub mod serviceaccount;
pub mod statefulset;
pub mod statefulset_controller;
pub mod storage_protection;
pub mod volume;

/// Runs every controller until the client's server goes away. The controllers share
/// `informers` (one watch and cache per type), which the scheduler may share too.
pub async fn run_all(informers: std::sync::Arc<berth_informer::Informers>) {
    let client = informers.client().clone();
    let gc = tokio::spawn(gc::run(client.clone()));
    let ns = tokio::spawn(namespace::run(client.clone()));
    let sa = tokio::spawn(serviceaccount::run(client));
    let protection = tokio::spawn(storage_protection::run(informers.clone()));
    let volumes = tokio::spawn(volume::run(informers.clone()));
    let quotas = tokio::spawn(quota::run(informers.clone()));
    let endpoints = tokio::spawn(endpoints::run_endpoints(informers.clone()));
    let slices = tokio::spawn(endpoints::run_endpoint_slices(informers.clone()));
    let sts = tokio::spawn(statefulset_controller::run(
        informers,
        statefulset::BerthExtensions::default(),
    ));
    let _ = tokio::join!(gc, ns, sa, protection, sts, volumes);
    let _ = tokio::join!(endpoints, slices);
    let _ = quotas.await;
}
