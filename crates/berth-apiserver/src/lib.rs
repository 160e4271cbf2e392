//! Berth's Kubernetes API front.
//!
//! [`router`] returns the `axum::Router` that serves the whole API: health, `/version`,
//! discovery, OpenAPI, and the REST verbs (get, list, watch, create, update, patch, delete)
//! with their subresources for every type in `berth_api::registry`. The same router is
//! served over HTTPS by [`serve`] and handed to in-process `kube::Client`s.
//!
//! Seams for later work: [`auth::Authenticator`] (who is asking), [`auth::Authorizer`] (may
//! they), and [`admission`] (what the cluster's policies say about a write).

pub mod admission;
pub mod admission_limits;
pub mod admission_quota;
pub mod admission_storage;
pub mod auth;
mod body;
mod discovery;
mod error;
mod handlers;
mod keys;
mod lifecycle;
pub mod metrics;
mod negotiate;
mod node_proxy;
mod openapi;
mod path;
pub mod pki;
mod pod_streams;
mod protobuf;
mod query;
mod reviews;
mod router;
pub mod serve;
mod service_alloc;
mod state;
mod watch;
mod watch_cache;

pub use router::{in_process, router};
pub use state::{ApiState, ApiStateOptions};
