//! The API server's shared state: the store, the authentication, authorization and admission
//! chains, and the serving options.

use crate::admission::{AdmissionPlugin, NamespaceLifecycle};
use crate::auth::{AllowAll, Authenticator, Authorizer};
use berth_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Serving options.
#[derive(Debug, Clone)]
pub struct ApiStateOptions {
    /// `gitVersion` reported by `/version`; the minor must be 32 for the kubectl dispatcher.
    pub git_version: String,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Lower bound of the timeout of watches that set none (Kubernetes: 30 min, randomised up to 2x).
    pub min_request_timeout: Duration,
    /// Interval of watch bookmarks for clients that allow them.
    pub bookmark_interval: Duration,
    /// Bearer token sent to the node agents' streaming servers (`pods/exec`, `attach`,
    /// `portforward`, `log`); in-process agents are given the same token.
    pub node_stream_token: String,
}

impl Default for ApiStateOptions {
    fn default() -> Self {
        Self {
            git_version: "v1.32.4+berth".into(),
            max_body_bytes: crate::body::MAX_BODY_BYTES,
            min_request_timeout: Duration::from_secs(1800),
            bookmark_interval: Duration::from_secs(60),
            node_stream_token: String::new(),
        }
    }
}

/// Everything a request handler needs.
pub struct ApiState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) authenticator: Arc<dyn Authenticator>,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) admission: Vec<Arc<dyn AdmissionPlugin>>,
    pub(crate) options: ApiStateOptions,
    pub(crate) metrics: crate::metrics::ApiMetrics,
    pub(crate) metrics_sources: Vec<crate::metrics::MetricsSource>,
    /// Decoded objects and event fan-out per type, for LIST and WATCH.
    pub(crate) watch_cache: crate::watch_cache::WatchCache,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// State over a store with the given authenticator, allow-all authorization and the
    /// default admission chain (NamespaceLifecycle, LimitRanger, DefaultStorageClass,
    /// StorageObjectInUseProtection, ResourceQuota).
    pub fn new(
        store: Arc<dyn Store>,
        authenticator: Arc<dyn Authenticator>,
        options: ApiStateOptions,
    ) -> Self {
        let quota = crate::admission_quota::ResourceQuotaAdmission::new(store.clone());
        Self {
            metrics: crate::metrics::ApiMetrics::new(store.clone()),
            metrics_sources: Vec::new(),
            watch_cache: crate::watch_cache::WatchCache::new(
                store.clone(),
                options.bookmark_interval.min(Duration::from_secs(1)),
            ),
            store,
            authenticator,
            authorizer: Arc::new(AllowAll),
            admission: vec![
                Arc::new(NamespaceLifecycle),
                Arc::new(crate::admission_limits::LimitRanger),
                Arc::new(crate::admission_storage::DefaultStorageClass),
                Arc::new(crate::admission_storage::StorageObjectInUseProtection),
                Arc::new(quota),
            ],
            options,
        }
    }

    /// Replaces the authorizer.
    pub fn with_authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = authorizer;
        self
    }

    /// Appends an admission plugin.
    pub fn with_admission(mut self, plugin: Arc<dyn AdmissionPlugin>) -> Self {
        self.admission.push(plugin);
        self
    }

    /// Appends text to every `/metrics` answer (e.g. the kubelet metrics of in-process nodes).
    pub fn with_metrics_source(mut self, source: crate::metrics::MetricsSource) -> Self {
        self.metrics_sources.push(source);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
