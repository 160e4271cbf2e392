//! Watch: a chunked stream of `{"type":…,"object":…}` lines, one per event, with Kubernetes'
//! resourceVersion rules (synthetic `ADDED` from "0" or unset, 410 `Expired` before the
//! retained history), selector transitions (`ADDED`/`DELETED` when an object starts or stops
//! matching), bookmarks, `sendInitialEvents`, timeouts and Table rows for `kubectl get -w`.

use crate::error::Failure;
use crate::handlers::selectors;
use crate::keys::collection_prefix;
use crate::lifecycle;
use crate::negotiate::Output;
use crate::path::Target;
use crate::query::Query;
use crate::state::ApiState;
use axum::body::Body;
use axum::response::Response;
use berth_api::registry::ResourceType;
use berth_api::selector::{FieldSelector, LabelSelector};
use berth_api::status::ApiError;
use berth_api::table::{self, IncludeObject};
use berth_store::{EventKind, StoreError, WatchEvent};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
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
    fn line(&mut self, kind: &str, object: &Value) -> Bytes {
        let object = if self.table && (kind == "ADDED" || kind == "MODIFIED" || kind == "DELETED") {
            let mut t = table::render(
                self.rt,
                std::slice::from_ref(object),
                jiff::Timestamp::now(),
                self.include,
                !self.headers_sent,
            );
            self.headers_sent = true;
            t["metadata"] = json!({"resourceVersion": berth_api::meta::resource_version(object)});
            t
        } else if self.metadata_only && kind != "ERROR" {
            crate::handlers::partial_metadata(object)
        } else {
            object.clone()
        };
        let mut bytes = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
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

/// What one store event means to a watcher with selectors.
fn translate(
    rt: &ResourceType,
    ev: &WatchEvent,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> Result<Option<(&'static str, Value)>, ApiError> {
    let matches = |v: &Value| labels.matches(v) && fields.matches(v);
    match ev.kind {
        EventKind::Created => {
            let obj = lifecycle::decode(rt, &ev.kv)?;
            Ok(matches(&obj).then_some(("ADDED", obj)))
        }
        EventKind::Modified => {
            let obj = lifecycle::decode(rt, &ev.kv)?;
            let before = match &ev.prev {
                Some(p) => matches(&lifecycle::decode(rt, p)?),
                None => false,
            };
            Ok(match (before, matches(&obj)) {
                (true, true) => Some(("MODIFIED", obj)),
                (false, true) => Some(("ADDED", obj)),
                (true, false) => Some(("DELETED", obj)),
                (false, false) => None,
            })
        }
        EventKind::Deleted => {
            let obj = lifecycle::decode(rt, &ev.kv)?;
            Ok(matches(&obj).then_some(("DELETED", obj)))
        }
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
    let store = state.store.clone();
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
        for kv in &page.items {
            let obj = lifecycle::decode(rt, kv)?;
            if labels.matches(&obj) && fields.matches(&obj) {
                initial.push(enc.line("ADDED", &obj));
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
    let stream = store.watch(&prefix, start);
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
        let mut stream = match stream {
            Ok(s) => s,
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
        let deadline = tokio::time::Instant::now() + timeout;
        let mut ticker = tokio::time::interval(bookmark_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {
                    if bookmarks {
                        let _ = tx.send(Ok(enc.bookmark(stream.last_revision(), false))).await;
                    }
                    return;
                }
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(Ok(enc.bookmark(stream.last_revision(), false))).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
                ev = stream.next() => {
                    let line = match ev {
                        None => return,
                        Some(Err(StoreError::Compacted { requested, oldest })) => {
                            let e = ApiError::expired(format!("too old resource version: {requested} ({oldest})"));
                            let _ = tx.send(Ok(enc.error(&e))).await;
                            return;
                        }
                        Some(Err(e)) => {
                            let _ = tx.send(Ok(enc.error(&ApiError::internal(e)))).await;
                            return;
                        }
                        Some(Ok(ev)) => match translate(rt, &ev, &labels, &fields) {
                            Ok(Some((kind, obj))) => enc.line(kind, &obj),
                            Ok(None) => continue,
                            Err(e) => enc.error(&e),
                        },
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
