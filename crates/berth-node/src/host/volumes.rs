//! A pod's volumes on the node, made ready before its containers start: `emptyDir`
//! directories in the pod's directory, the files of `configMap`, `secret`, `downwardAPI` and
//! `projected` volumes (rewritten at every sync, so updates reach running pods), claims
//! resolved through their bound PersistentVolume to its local path, and `hostPath`.
//! The result maps each volume name to a host path the shim bind-mounts.

use super::projection;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume};
use kube::{Api, Client};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Volume name → host path.
pub type VolumePaths = BTreeMap<String, PathBuf>;

fn io_message(what: &str, e: std::io::Error) -> String {
    format!("{what}: {e}")
}

/// Writes a projected volume's files under `dir`, replacing what was there.
fn write_projection(dir: &Path, files: &[projection::ProjectedFile]) -> Result<(), String> {
    let staging = dir.with_extension("new");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| io_message("creating a projected volume", e))?;
    for f in files {
        let path = staging.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_message("creating a projected volume", e))?;
        }
        std::fs::write(&path, &f.data).map_err(|e| io_message("writing a projected file", e))?;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode));
    }
    // Replace the files in place: the directory itself is what containers have mounted.
    std::fs::create_dir_all(dir).map_err(|e| io_message("creating a projected volume", e))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
    if let Ok(entries) = std::fs::read_dir(&staging) {
        for e in entries.flatten() {
            let _ = std::fs::rename(e.path(), dir.join(e.file_name()));
        }
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(())
}

async fn claim_path(client: &Client, namespace: &str, claim: &str) -> Result<PathBuf, String> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let pvc = claims
        .get_opt(claim)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("persistentvolumeclaim \"{claim}\" not found"))?;
    let bound = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    let volume = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .filter(|v| bound && !v.is_empty())
        .ok_or_else(|| format!("persistentvolumeclaim \"{claim}\" is not bound"))?;
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    let pv = pvs
        .get_opt(&volume)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("persistentvolume \"{volume}\" not found"))?;
    if !crate::provisioner::volumes::is_ready(&pv) {
        return Err(format!(
            "persistentvolume \"{volume}\" is not mounted on this node yet"
        ));
    }
    let spec = pv.spec.unwrap_or_default();
    let path = spec
        .local
        .map(|l| l.path)
        .or(spec.host_path.map(|h| h.path))
        .ok_or_else(|| {
            format!("persistentvolume \"{volume}\" has no local or hostPath source this node can mount")
        })?;
    let path = PathBuf::from(path);
    if !path.is_dir() {
        return Err(format!(
            "path \"{}\" of persistentvolume \"{volume}\" does not exist",
            path.display()
        ));
    }
    Ok(path)
}

fn host_path(volume: &Volume) -> Option<Result<PathBuf, String>> {
    let hp = volume.host_path.as_ref()?;
    let path = PathBuf::from(&hp.path);
    Some(match hp.type_.as_deref().unwrap_or("") {
        "DirectoryOrCreate" => std::fs::create_dir_all(&path)
            .map(|()| path)
            .map_err(|e| io_message("creating the hostPath directory", e)),
        "Directory" if !path.is_dir() => Err(format!(
            "hostPath type check failed: {} is not a directory",
            hp.path
        )),
        _ => Ok(path),
    })
}

fn set_fs_group(path: &Path, gid: Option<u32>) {
    if let Some(gid) = gid {
        let _ = std::os::unix::fs::chown(path, None, Some(gid));
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o2775));
    }
}

/// Makes every volume of `pod` ready under `pod_dir`; the error is the kubelet-style
/// message of the first volume that is not ready yet.
pub async fn prepare(
    client: &Client,
    pod: &Pod,
    pod_dir: &Path,
    config_maps: &BTreeMap<String, ConfigMap>,
    secrets: &BTreeMap<String, Secret>,
) -> Result<VolumePaths, String> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let fs_group = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.as_ref())
        .and_then(|s| s.fs_group)
        .and_then(|g| u32::try_from(g).ok());
    let mut paths = VolumePaths::new();
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.clone())
        .unwrap_or_default();
    for v in &volumes {
        let path = if v.empty_dir.is_some() {
            let dir = pod_dir.join("volumes/empty-dir").join(&v.name);
            std::fs::create_dir_all(&dir).map_err(|e| io_message("creating an emptyDir", e))?;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777));
            set_fs_group(&dir, fs_group);
            dir
        } else if let Some(claim) = &v.persistent_volume_claim {
            let dir = claim_path(client, &namespace, &claim.claim_name)
                .await
                .map_err(|e| format!("unbound or unmountable volume \"{}\": {e}", v.name))?;
            set_fs_group(&dir, fs_group);
            dir
        } else if let Some(hp) = host_path(v) {
            hp?
        } else {
            match projection::volume_files(pod, v, config_maps, secrets) {
                Ok(Some(files)) => {
                    let dir = pod_dir.join("volumes/projected").join(&v.name);
                    write_projection(&dir, &files)?;
                    if let Some(gid) = fs_group {
                        let _ = std::os::unix::fs::chown(&dir, None, Some(gid));
                    }
                    dir
                }
                Ok(None) => {
                    return Err(format!(
                        "volume \"{}\": this volume type is not supported by Berth's host runtime",
                        v.name
                    ));
                }
                Err(message) => {
                    return Err(format!(
                        "MountVolume.SetUp failed for volume \"{}\" : {message}",
                        v.name
                    ));
                }
            }
        };
        paths.insert(v.name.clone(), path);
    }
    Ok(paths)
}
