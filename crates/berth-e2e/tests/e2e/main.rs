//! System-tier end-to-end tests: the real `berth` binary, driven by the real `kubectl`
//! (through its version dispatcher), `curl` and the official Python client.
//!
//! Build the server first: `cargo build -p berth && cargo test -p berth-e2e`. Each test starts
//! its own server on a fresh data directory and a free port (see [`harness`]); the Python
//! test needs `pip install kubernetes`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod apply;
mod capacity;
mod crash_points;
mod delete;
mod discovery;
mod durability;
mod endpoints;
mod errors;
mod examples;
mod get;
mod host;
mod metrics;
mod mutate;
mod namespaces;
mod python;
mod quota;
mod scale;
mod scheduling;
mod statefulset;
mod storage;
mod streams;
mod volumes;
mod watch;
