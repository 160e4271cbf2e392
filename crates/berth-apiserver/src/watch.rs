//! Watch: a chunked stream of `{"type":…,"object":…}` lines, one per event, with Kubernetes'
//! resourceVersion rules (synthetic `ADDED` from "0" or unset, 410 `Expired` before the
//! retained history), selector transitions (`ADDED`/`DELETED` when an object starts or stops
//! matching), bookmarks, `sendInitialEvents`, timeouts and Table rows for `kubectl get -w`.

use crate::error::Failure;
use crate::handlers::selectors;
use crate::keys::collection_prefix;
use crate::negotiate::Output;
use crate::path::Target;
use crate::query::Query;
use crate::state::ApiState;
use crate::watch_cache::{CachedEvent, CachedObject, Item};
use axum::body::Body;
use axum::response::Response;
use berth_api::registry::ResourceType;
use berth_api::selector::{FieldSelector, LabelSelector};
use berth_api::status::ApiError;
use berth_api::table::{self, IncludeObject};
use berth_store::{EventKind, StoreError};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;

/// Frames events for one watcher.
struct Encoder {
    rt: &'static ResourceType,
    table: bool,
    metadata_only: bool,
    include: IncludeObject,
    headers_sent: bool,
}

impl Encoder {
    /// One event line. Plain JSON watches copy the cached object's JSON; Table and
    /// metadata-only watches decode it for their own rendering.
    fn line(&mut self, kind: &str, object: &CachedObject) -> Result<Bytes, ApiError> {
        if !self.table && !self.metadata_only {
            let mut bytes = Vec::with_capacity(object.json.len() + 32);
            bytes.extend_from_slice(b"{\"type\":\"");
            bytes.extend_from_slice(kind.as_bytes());
            bytes.extend_from_slice(b"\",\"object\":");
            object.json.write_to(&mut bytes);
            bytes.extend_from_slice(b"}\n");
            return Ok(Bytes::from(bytes));
        }
        let object = object.value()?;
        let object = if self.table {
            let mut t = table::render(
                self.rt,
                std::slice::from_ref(&object),
                jiff::Timestamp::now(),
                self.include,
                !self.headers_sent,
            );
            self.headers_sent = true;
            t["metadata"] = json!({"resourceVersion": berth_api::meta::resource_version(&object)});
            t
        } else {
            crate::handlers::partial_metadata(&object)
        };
        let mut bytes = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        bytes.push(b'\n');
        Ok(Bytes::from(bytes))
    }

    fn bookmark(&mut self, revision: u64, initial_events_end: bool) -> Bytes {
        let mut md = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            md["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = if self.metadata_only {
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md})
        } else {
            json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": md})
        };
        let mut bytes = serde_json::to_vec(&json!({"type": "BOOKMARK", "object": obj})).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }

    fn error(&mut self, e: &ApiError) -> Bytes {
        let mut bytes =
            serde_json::to_vec(&json!({"type": "ERROR", "object": e.to_status()})).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }
}

/// What one event means to a watcher with selectors: the watch event type and the object
/// to send, or nothing.
fn translate<'e>(
    ev: &'e CachedEvent,
    namespace_prefix: Option<&str>,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> Option<(&'static str, &'e CachedObject)> {
    if namespace_prefix.is_some_and(|p| !ev.object.key.starts_with(p)) {
        return None;
    }
    let matches = |o: &CachedObject| labels.matches_attrs(&o.attrs) && fields.matches_attrs(&o.attrs);
    let obj = &*ev.object;
    match ev.kind {
        EventKind::Created => matches(obj).then_some(("ADDED", obj)),
        EventKind::Modified => {
            let before = ev.prev.as_deref().is_some_and(matches);
            match (before, matches(obj)) {
                (true, true) => Some(("MODIFIED", obj)),
                (false, true) => Some(("ADDED", obj)),
                (true, false) => Some(("DELETED", obj)),
                (false, false) => None,
            }
        }
        EventKind::Deleted => matches(obj).then_some(("DELETED", obj)),
    }
}

fn watch_timeout(state: &ApiState, query: &Query) -> Duration {
    match query.timeout {
        Some(t) => t,
        None => {
            use rand::Rng;
            let min = state.options.min_request_timeout;
            min + min.mul_f64(rand::rng().random_range(0.0..1.0))
        }
    }
}

/// Starts a watch and returns the streaming response.
pub(crate) async fn serve(
    state: &ApiState,
    target: &Target,
    query: &Query,
    output: Output,
) -> Result<Response, Failure> {
    let rt = target.rt;
    let (labels, fields) = selectors(rt, query)?;
    let prefix = collection_prefix(rt, target.namespace.as_deref());
    let namespace_prefix = target
        .namespace
        .is_some()
        .then(|| prefix.clone())
        .filter(|_| rt.namespaced);
    let store = state.store.clone();
    let hub = state.watch_cache.hub(rt)?;
    let table = output == Output::Table;
    let include = crate::handlers::include_object(query);
    let mut enc = Encoder {
        rt,
        table,
        metadata_only: output == Output::Metadata,
        include,
        headers_sent: false,
    };
    let rv = query.resource_version.clone();
    let initial_events = match (&query.send_initial_events, rv.as_deref()) {
        (Some(b), _) => *b,
        (None, None | Some("0")) => true,
        (None, Some(_)) => false,
    };
    let mut initial: Vec<Bytes> = Vec::new();
    let mut start = match rv.as_deref() {
        None | Some("0") => store.current_revision(),
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s:?}")))?,
    };
    if initial_events {
        let page = store
            .list(&prefix, None, 0, None)
            .map_err(crate::error::store_failure)?;
        for obj in hub.objects(&page.items)? {
            if labels.matches_attrs(&obj.attrs) && fields.matches_attrs(&obj.attrs) {
                initial.push(enc.line("ADDED", &obj)?);
            }
        }
        start = page.revision;
        if query.send_initial_events == Some(true) && query.allow_bookmarks {
            initial.push(enc.bookmark(start, true));
        }
    }
    // A watch from a future revision waits briefly for the store to get there.
    let mut waited = Duration::ZERO;
    while start > store.current_revision() && waited < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    // Register first, then replay from the store's history what the hub had dispatched
    // before we registered: together they cover every event after `start` (duplicates are
    // skipped by revision).
    let mut subscription = hub.subscribe(namespace_prefix.clone(), &fields);
    let replay: Result<Vec<CachedEvent>, StoreError> = if start > store.current_revision() {
        Err(StoreError::FutureRevision {
            requested: start,
            current: store.current_revision(),
        })
    } else if start < subscription.registered_at {
        store
            .events_since(&prefix, start)
            .map(|events| events.iter().filter_map(|ev| hub.event(ev).ok()).collect())
    } else {
        Ok(Vec::new())
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(256);
    let timeout = watch_timeout(state, query);
    let bookmarks = query.allow_bookmarks;
    let bookmark_interval = state.options.bookmark_interval;
    tokio::spawn(async move {
        for line in initial {
            if tx.send(Ok(line)).await.is_err() {
                return;
            }
        }
        let replay = match replay {
            Ok(r) => r,
            Err(StoreError::Compacted { requested, oldest }) => {
                let e = ApiError::expired(format!("too old resource version: {requested} ({oldest})"));
                let _ = tx.send(Ok(enc.error(&e))).await;
                return;
            }
            Err(StoreError::FutureRevision { .. }) => {
                let _ = tx
                    .send(Ok(enc.error(&ApiError::timeout("Too large resource version"))))
                    .await;
                return;
            }
            Err(e) => {
                let _ = tx.send(Ok(enc.error(&ApiError::internal(e)))).await;
                return;
            }
        };
        // Every event up to `seen` has been sent (or did not concern this watcher).
        let mut seen = start;
        let ns = namespace_prefix.as_deref();
        for ev in &replay {
            seen = seen.max(ev.revision);
            let line = match translate(ev, ns, &labels, &fields) {
                Some((kind, obj)) => match enc.line(kind, obj) {
                    Ok(l) => l,
                    Err(e) => enc.error(&e),
                },
                None => continue,
            };
            if tx.send(Ok(line)).await.is_err() {
                return;
            }
        }
        drop(replay);
        seen = seen.max(subscription.registered_at);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut ticker = tokio::time::interval(bookmark_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {
                    if bookmarks {
                        let _ = tx.send(Ok(enc.bookmark(seen, false))).await;
                    }
                    return;
                }
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(Ok(enc.bookmark(seen, false))).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
                item = subscription.rx.recv() => {
                    let line = match item {
                        // The hub dropped us (we fell too far behind) or is gone: the
                        // client watches again from the last revision it saw.
                        None => return,
                        Some(Item::Expired) => {
                            let e = ApiError::expired(format!("too old resource version: {seen} ({})", seen + 1));
                            let _ = tx.send(Ok(enc.error(&e))).await;
                            return;
                        }
                        Some(Item::Progress(r)) => {
                            seen = seen.max(r);
                            continue;
                        }
                        Some(Item::Event(ev)) => {
                            if ev.revision <= seen {
                                continue;
                            }
                            seen = ev.revision;
                            match translate(&ev, ns, &labels, &fields) {
                                Some((kind, obj)) => match enc.line(kind, obj) {
                                    Ok(l) => l,
                                    Err(e) => enc.error(&e),
                                },
                                None => continue,
                            }
                        }
                    };
                    if tx.send(Ok(line)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}
