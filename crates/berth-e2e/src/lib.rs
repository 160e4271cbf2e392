//! System-tier end-to-end tests for Berth.
//!
//! The tests live in `tests/e2e/` (one module per area, the harness in
//! `tests/e2e/harness.rs`) and drive the real `berth` binary with the real `kubectl`, `curl`
//! and the official Python client. This library is intentionally empty.
