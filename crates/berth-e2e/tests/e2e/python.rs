//! The official Kubernetes Python client (`pip install kubernetes`) against berth: the
//! acceptance script's flow in `python/client.py`.

use crate::harness::{Berth, run_process};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn python_client_flow() {
    let k = Berth::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/python/client.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(k.kubeconfig())
        .arg("pyclient")
        .env("HOME", k.home());
    let out = run_process(cmd, None, Duration::from_secs(90));
    assert!(
        !out.stderr.contains("No module named 'kubernetes'"),
        "the Python client is not installed: run `pip install kubernetes` (the suite requires it)"
    );
    assert!(
        out.success(),
        "python client failed (exit {}):\nstdout: {}\nstderr: {}",
        out.code,
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stdout.trim(), "python client ok");
}
