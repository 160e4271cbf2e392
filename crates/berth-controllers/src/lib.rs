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

/// Runs every controller until the client's server goes away.
pub async fn run_all(client: kube::Client) {
    let gc = tokio::spawn(gc::run(client.clone()));
    let ns = tokio::spawn(namespace::run(client.clone()));
    let sa = tokio::spawn(serviceaccount::run(client.clone()));
    let protection = tokio::spawn(storage_protection::run(client.clone()));
    let volumes = tokio::spawn(volume::run(client.clone()));
    let quotas = tokio::spawn(quota::run(client.clone()));
    let endpoints = tokio::spawn(endpoints::run_endpoints(client.clone()));
    let slices = tokio::spawn(endpoints::run_endpoint_slices(client.clone()));
    let sts = tokio::spawn(statefulset_controller::run(
        client,
        statefulset::BerthExtensions::default(),
    ));
    let _ = tokio::join!(gc, ns, sa, protection, sts, volumes);
    let _ = tokio::join!(endpoints, slices);
    let _ = quotas.await;
}
