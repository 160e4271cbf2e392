//! The kube-rs shell: reflectors over Namespaces, Services and EndpointSlices; after every
//! change (coalesced for a few milliseconds) the [`Snapshot`] is rebuilt and swapped in.

use crate::server::SharedSnapshot;
use crate::snapshot::Snapshot;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// How long changes are coalesced before a rebuild.
const COALESCE: Duration = Duration::from_millis(20);

fn reflect<K>(api: Api<K>, changed: Arc<Notify>) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store::<K>();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    tokio::spawn(drive(stream, changed));
    store
}

async fn drive<K>(
    stream: impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send,
    changed: Arc<Notify>,
) {
    let mut stream = std::pin::pin!(stream);
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(_) => changed.notify_one(),
            Err(e) => tracing::debug!(error = %e, "dns watch error"),
        }
    }
}

fn unix_now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// Keeps `shared` up to date with the cluster until the client's server goes away. The
/// first snapshot is published only once all three caches have synced.
pub async fn maintain(client: Client, shared: SharedSnapshot) {
    let changed = Arc::new(Notify::new());
    let namespaces = reflect(Api::<Namespace>::all(client.clone()), changed.clone());
    let services = reflect(Api::<Service>::all(client.clone()), changed.clone());
    let slices = reflect(Api::<EndpointSlice>::all(client), changed.clone());
    if namespaces.wait_until_ready().await.is_err()
        || services.wait_until_ready().await.is_err()
        || slices.wait_until_ready().await.is_err()
    {
        return;
    }
    loop {
        let (ns, svcs, sls) = (namespaces.state(), services.state(), slices.state());
        let snap = Snapshot::build(
            ns.iter().map(|n| &**n),
            svcs.iter().map(|s| &**s),
            sls.iter().map(|s| &**s),
            unix_now(),
        );
        if let Ok(mut guard) = shared.write() {
            *guard = Some(Arc::new(snap));
        }
        changed.notified().await;
        tokio::time::sleep(COALESCE).await;
    }
}
