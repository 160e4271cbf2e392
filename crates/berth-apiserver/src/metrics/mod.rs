//! `GET /metrics`: the API server's request metrics with Kubernetes 1.32's names, labels,
//! help texts and buckets (`apiserver_request_total`, `apiserver_request_duration_seconds`,
//! `apiserver_current_inflight_requests`, `apiserver_storage_objects`), followed by the text
//! of every registered [`MetricsSource`] (the in-process nodes' kubelet metrics), in the
//! Prometheus text format 0.0.4, as Kubernetes serves it.
//!
//! [`track`] is the router-level middleware that counts every authenticated request once.
//! It sits inside authentication, where Kubernetes records these metrics, so a 401 is not
//! counted (kubernetes/kubernetes#86063). Labels are `&'static str`s from [`classify`]; the
//! hot path allocates only when a label combination is seen for the first time.
//! Long-running requests (watches, exec, attach, port-forward, logs) are recorded when their
//! response body ends and stay out of the in-flight gauge, as in Kubernetes.
//!
//! `apiserver_current_inflight_requests` reports, per request kind, the most requests in
//! flight since the previous scrape (Kubernetes: in the last second).

mod classify;

use crate::state::ApiState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_api::registry;
use berth_store::Store;
use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

pub(crate) use classify::{RequestInfo, classify, is_mutating};

/// Extra text appended to `/metrics` on each scrape, in the Prometheus text format (the
/// kubelet metrics of in-process nodes); see [`ApiState::with_metrics_source`].
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

/// The `Content-Type` of the Prometheus text format, as Kubernetes' `/metrics` answers.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `apiserver_request_duration_seconds` buckets (Kubernetes 1.32, `requestLatencies`).
pub const DURATION_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0,
    20.0, 30.0, 45.0, 60.0,
];

const COMPONENT: &str = "apiserver";

/// Labels of `apiserver_request_total`, in Go's (sorted) order.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    code: u16,
    component: &'static str,
    dry_run: &'static str,
    group: &'static str,
    resource: &'static str,
    scope: &'static str,
    subresource: &'static str,
    verb: &'static str,
    version: &'static str,
}

/// Labels of `apiserver_request_duration_seconds`, in Go's (sorted) order.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    component: &'static str,
    dry_run: &'static str,
    group: &'static str,
    resource: &'static str,
    scope: &'static str,
    subresource: &'static str,
    verb: &'static str,
    version: &'static str,
}

impl DurationLabels {
    fn of(i: &RequestInfo) -> Self {
        Self {
            component: COMPONENT,
            dry_run: i.dry_run,
            group: i.group,
            resource: i.resource,
            scope: i.scope,
            subresource: i.subresource,
            verb: i.verb,
            version: i.version,
        }
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// A metric with Kubernetes' exact help text (the registry would append a period).
#[derive(Debug)]
struct Described<M> {
    name: &'static str,
    help: &'static str,
    metric: M,
}

impl<M: EncodeMetric + std::fmt::Debug + Send + Sync + 'static> Collector for Described<M> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let e = encoder.encode_descriptor(self.name, self.help, None, self.metric.metric_type())?;
        self.metric.encode(e)
    }
}

/// Requests in flight per kind (`readOnly`, `mutating`), with the peak since the last scrape.
#[derive(Debug, Default)]
struct Inflight {
    current: [AtomicI64; 2],
    peak: [AtomicI64; 2],
}

const KINDS: [&str; 2] = ["readOnly", "mutating"];

struct InflightGuard<'a>(&'a Inflight, usize);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.current[self.1].fetch_sub(1, Ordering::Relaxed);
    }
}

impl Inflight {
    fn enter(&self, mutating: bool) -> InflightGuard<'_> {
        let k = usize::from(mutating);
        let now = self.current[k].fetch_add(1, Ordering::Relaxed) + 1;
        self.peak[k].fetch_max(now, Ordering::Relaxed);
        InflightGuard(self, k)
    }
}

impl Collector for Inflight {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut e = encoder.encode_descriptor(
            "apiserver_current_inflight_requests",
            "[STABLE] Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
            None,
            MetricType::Gauge,
        )?;
        for (k, kind) in KINDS.iter().enumerate() {
            let now = self.current[k].load(Ordering::Relaxed);
            let peak = self.peak[k].swap(now, Ordering::Relaxed).max(now);
            e.encode_family(&[("request_kind", *kind)])?.encode_gauge(&peak)?;
        }
        Ok(())
    }
}

/// `apiserver_storage_objects`, counted in the store on each scrape.
struct StorageObjects(Arc<dyn Store>);

impl std::fmt::Debug for StorageObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageObjects")
    }
}

impl Collector for StorageObjects {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut e = encoder.encode_descriptor(
            "apiserver_storage_objects",
            "[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.",
            None,
            MetricType::Gauge,
        )?;
        for (resource, prefix) in storage_resources() {
            let count = i64::try_from(self.0.count(&prefix)).unwrap_or(i64::MAX);
            e.encode_family(&[("resource", resource.as_str())])?
                .encode_gauge(&count)?;
        }
        Ok(())
    }
}

/// Every stored type once (`<plural>.<group>`, or `<plural>` for core) with its key prefix.
fn storage_resources() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for rt in registry::RESOURCES {
        if rt.create_only || rt.stored_as.is_some() {
            continue;
        }
        let name = if rt.group.is_empty() {
            rt.plural.to_string()
        } else {
            format!("{}.{}", rt.plural, rt.group)
        };
        if out.iter().all(|(n, _)| *n != name) {
            out.push((name, crate::keys::collection_prefix(rt, None)));
        }
    }
    out.sort();
    out
}

/// The API server's metrics.
pub struct ApiMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<DurationLabels, Histogram, fn() -> Histogram>,
    inflight: Arc<Inflight>,
    registry: Registry,
}

impl std::fmt::Debug for ApiMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiMetrics").finish_non_exhaustive()
    }
}

impl ApiMetrics {
    /// Fresh metrics over `store` (for `apiserver_storage_objects`).
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: Family<DurationLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        let inflight = Arc::new(Inflight::default());
        let mut registry = Registry::default();
        registry.register_collector(Box::new(inflight.clone()));
        registry.register_collector(Box::new(Described {
            name: "apiserver_request_duration_seconds",
            help: "[STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
            metric: durations.clone(),
        }));
        registry.register_collector(Box::new(Described {
            name: "apiserver_request",
            help: "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
            metric: requests.clone(),
        }));
        registry.register_collector(Box::new(StorageObjects(store)));
        Self {
            requests,
            durations,
            inflight,
            registry,
        }
    }

    /// Records one finished request.
    pub(crate) fn observe(&self, info: &RequestInfo, code: u16, seconds: f64) {
        let labels = RequestLabels {
            code,
            component: COMPONENT,
            dry_run: info.dry_run,
            group: info.group,
            resource: info.resource,
            scope: info.scope,
            subresource: info.subresource,
            verb: info.verb,
            version: info.version,
        };
        self.requests.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&DurationLabels::of(info))
            .observe(seconds);
    }

    /// The metrics in the Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "encoding the API server metrics failed");
        }
        out
    }
}

/// Records a long-running request when its response body is dropped (the stream ended).
struct RecordOnDrop {
    state: Arc<ApiState>,
    info: RequestInfo,
    code: u16,
    start: Instant,
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        let seconds = self.start.elapsed().as_secs_f64();
        self.state.metrics.observe(&self.info, self.code, seconds);
    }
}

/// The middleware counting each request in the request metrics and the in-flight gauge.
pub(crate) async fn track(State(state): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let info = classify(
        req.method(),
        req.uri().path(),
        req.uri().query(),
        req.headers().get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
    );
    let long_running = info.is_some_and(|i| i.long_running);
    let guard = (!long_running).then(|| state.metrics.inflight.enter(is_mutating(req.method())));
    let resp = next.run(req).await;
    drop(guard);
    let Some(info) = info else { return resp };
    let code = resp.status().as_u16();
    if !long_running {
        state.metrics.observe(&info, code, start.elapsed().as_secs_f64());
        return resp;
    }
    let recorder = RecordOnDrop {
        state: state.clone(),
        info,
        code,
        start,
    };
    let (parts, body) = resp.into_parts();
    let body = body.map_frame(move |frame| {
        let _ = &recorder;
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

/// `GET /metrics`.
pub(crate) async fn serve(State(state): State<Arc<ApiState>>) -> Response {
    let mut text = state.metrics.render();
    for source in &state.metrics_sources {
        text.push_str(&source());
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::Method;

    fn metrics() -> ApiMetrics {
        let dir = tempfile::tempdir().unwrap();
        let store = berth_store::SqliteStore::open(
            &dir.path().join("s.db"),
            berth_store::SqliteStoreOptions::default(),
        )
        .unwrap();
        ApiMetrics::new(Arc::new(store))
    }

    #[test]
    fn requests_render_with_kubernetes_names_labels_and_buckets() {
        let m = metrics();
        let get = classify(&Method::GET, "/api/v1/namespaces/default/pods/a", None, None).unwrap();
        m.observe(&get, 200, 0.003);
        m.observe(&get, 200, 0.03);
        m.observe(&get, 404, 0.001);
        let text = m.render();
        let pods_get = r#"component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="GET",version="v1""#;
        assert!(
            text.contains("# TYPE apiserver_request_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!("apiserver_request_total{{code=\"200\",{pods_get}}} 2\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("apiserver_request_total{{code=\"404\",{pods_get}}} 1\n")),
            "{text}"
        );
        assert!(text.contains("# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.\n"));
        assert!(text.contains("# TYPE apiserver_request_duration_seconds histogram\n"));
        for (le, n) in [("0.005", 2), ("0.025", 2), ("0.05", 3), ("60", 3), ("+Inf", 3)] {
            let line = format!("apiserver_request_duration_seconds_bucket{{{pods_get},le=\"{le}\"}} {n}\n");
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert_eq!(
            text.matches("apiserver_request_duration_seconds_bucket{").count(),
            24
        );
        assert!(text.contains(&format!(
            "apiserver_request_duration_seconds_count{{{pods_get}}} 3\n"
        )));
    }

    #[test]
    fn inflight_reports_the_peak_since_the_last_scrape() {
        let m = metrics();
        {
            let _a = m.inflight.enter(false);
            let _b = m.inflight.enter(false);
            let _c = m.inflight.enter(true);
        }
        let text = m.render();
        assert!(
            text.contains("apiserver_current_inflight_requests{request_kind=\"readOnly\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("apiserver_current_inflight_requests{request_kind=\"mutating\"} 1\n"));
        let text = m.render();
        assert!(
            text.contains("apiserver_current_inflight_requests{request_kind=\"readOnly\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn storage_objects_name_each_stored_type_once() {
        let names: Vec<String> = storage_resources().into_iter().map(|(n, _)| n).collect();
        for want in [
            "pods",
            "namespaces",
            "statefulsets.apps",
            "events",
            "storageclasses.storage.k8s.io",
        ] {
            assert_eq!(
                names.iter().filter(|n| *n == want).count(),
                1,
                "{want} in {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n.starts_with("events.events")), "{names:?}");
        let text = metrics().render();
        assert!(
            text.contains("apiserver_storage_objects{resource=\"pods\"} 0\n"),
            "{text}"
        );
    }
}
