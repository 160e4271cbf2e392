//! Writing the admin kubeconfig.

use anyhow::Context;
use base64::Engine;
use std::path::Path;

/// Writes a kubeconfig for `server` with the CA and the admin token (and client certificate).
pub fn write(path: &Path, server: &str, pki: &berth_apiserver::pki::Pki) -> anyhow::Result<()> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let content = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: berth
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: berth-admin
  user:
    token: {token}
contexts:
- name: berth
  context:
    cluster: berth
    user: berth-admin
    namespace: default
current-context: berth
",
        ca = b64(&pki.ca_cert),
        token = pki.admin_token,
    );
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
