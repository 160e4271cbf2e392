//! The files of configMap, secret, downwardAPI and projected volumes, as the kubelet's
//! volume plugins compute them (`configmap.MakePayload`, `secret.MakePayload`,
//! `downwardapi.CollectData`, `projected.collectData`) and its atomic writer checks them.
//!
//! Pure: the caller fetches the objects (see [`super::env::referenced_objects`]), writes the
//! files and reports a failure as the kubelet does, through [`mount_failed_message`] in a
//! `FailedMount` event while the pod waits.
//!
//! Deliberate differences from Kubernetes 1.32: `serviceAccountToken` sources produce no
//! file (Berth does not issue projected tokens yet) and `clusterTrustBundle` sources fail as
//! not implemented; `fsGroup` ownership and mode bits are the writer's business.

use super::env::{
    config_map_not_found, go_quote, pod_metadata_field, resource_field_value, secret_not_found,
};
use k8s_openapi::api::core::v1::{ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// `defaultMode` when the volume sets none (the API server defaults it to this).
pub const DEFAULT_MODE: i32 = 0o644;
/// Longest path the kubelet's atomic writer accepts.
const MAX_PATH_LENGTH: usize = 4096;
/// Longest path element the kubelet's atomic writer accepts.
const MAX_FILE_NAME_LENGTH: usize = 255;

/// One file of a projected volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedFile {
    /// Path relative to the volume's root, cleaned; may contain `/`.
    pub path: String,
    /// Contents.
    pub data: Vec<u8>,
    /// Permission bits (`items[].mode`, else the volume's `defaultMode`).
    pub mode: u32,
}

/// Path → (data, mode), the kubelet's `map[string]FileProjection`.
type Payload = BTreeMap<String, (Vec<u8>, i32)>;

/// Files of the volume, or the kubelet's error message (missing non-optional object/key) — the pod then waits with that event.
///
/// `Ok(None)`: not a projection-type volume. Files come sorted by path. `resourceFieldRef`
/// items read limits the container does not set as 0 here; use [`volume_files_on_node`] to
/// fall back to the node's allocatable as the kubelet does.
pub fn volume_files(
    pod: &Pod,
    volume: &Volume,
    config_maps: &BTreeMap<String, ConfigMap>,
    secrets: &BTreeMap<String, Secret>,
) -> Result<Option<Vec<ProjectedFile>>, String> {
    volume_files_on_node(pod, volume, config_maps, secrets, &BTreeMap::new())
}

/// [`volume_files`] on a node with the given allocatable resources, which stand in for the
/// limits a container does not set when a downward API item reads them.
pub fn volume_files_on_node(
    pod: &Pod,
    volume: &Volume,
    config_maps: &BTreeMap<String, ConfigMap>,
    secrets: &BTreeMap<String, Secret>,
    node_allocatable: &BTreeMap<String, Quantity>,
) -> Result<Option<Vec<ProjectedFile>>, String> {
    let payload = if let Some(src) = &volume.config_map {
        let mode = src.default_mode.unwrap_or(DEFAULT_MODE);
        config_map_payload(&src.name, src.items.as_deref(), src.optional, mode, config_maps)?
    } else if let Some(src) = &volume.secret {
        let mode = src.default_mode.unwrap_or(DEFAULT_MODE);
        let name = src.secret_name.as_deref().unwrap_or_default();
        secret_payload(name, src.items.as_deref(), src.optional, mode, secrets)?
    } else if let Some(src) = &volume.downward_api {
        let mode = src.default_mode.unwrap_or(DEFAULT_MODE);
        let mut errors = Vec::new();
        let payload = downward_payload(
            pod,
            src.items.as_deref().unwrap_or_default(),
            mode,
            node_allocatable,
            &mut errors,
        );
        aggregate(errors)?;
        payload
    } else if let Some(src) = &volume.projected {
        let mode = src.default_mode.unwrap_or(DEFAULT_MODE);
        let mut payload = Payload::new();
        let mut errors = Vec::new();
        for source in src.sources.iter().flatten() {
            let part = if let Some(s) = &source.secret {
                secret_payload(&s.name, s.items.as_deref(), s.optional, mode, secrets)
            } else if let Some(c) = &source.config_map {
                config_map_payload(&c.name, c.items.as_deref(), c.optional, mode, config_maps)
            } else if let Some(d) = &source.downward_api {
                let items = d.items.as_deref().unwrap_or_default();
                Ok(downward_payload(pod, items, mode, node_allocatable, &mut errors))
            } else if source.cluster_trust_bundle.is_some() {
                Err("clusterTrustBundle projections are not implemented by Berth".to_string())
            } else {
                // serviceAccountToken: no file until Berth issues projected tokens.
                Ok(Payload::new())
            };
            match part {
                Ok(files) => payload.extend(files),
                Err(e) => errors.push(e),
            }
        }
        aggregate(errors)?;
        payload
    } else {
        return Ok(None);
    };
    files(payload).map(Some)
}

/// The event message of a volume that could not be set up, as the kubelet's operation
/// executor words it: `MountVolume.SetUp failed for volume "config" : configmap "app" not found`.
pub fn mount_failed_message(volume_name: &str, error: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume {} : {error}",
        go_quote(volume_name)
    )
}

fn config_map_payload(
    name: &str,
    items: Option<&[KeyToPath]>,
    optional: Option<bool>,
    default_mode: i32,
    config_maps: &BTreeMap<String, ConfigMap>,
) -> Result<Payload, String> {
    let optional = optional == Some(true);
    let empty = ConfigMap::default();
    let cm = match config_maps.get(name) {
        Some(cm) => cm,
        None if optional => &empty,
        None => return Err(config_map_not_found(name)),
    };
    let lookup = |key: &str| -> Option<Vec<u8>> {
        cm.data
            .as_ref()
            .and_then(|d| d.get(key))
            .map(|s| s.as_bytes().to_vec())
            .or_else(|| {
                cm.binary_data
                    .as_ref()
                    .and_then(|d| d.get(key))
                    .map(|b| b.0.clone())
            })
    };
    let Some(items) = items.filter(|i| !i.is_empty()) else {
        let text = cm
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), (v.as_bytes().to_vec(), default_mode)));
        let binary = cm
            .binary_data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), (v.0.clone(), default_mode)));
        return Ok(text.chain(binary).collect());
    };
    map_items(items, default_mode, optional, lookup, |key| {
        format!("configmap references non-existent config key: {key}")
    })
}

fn secret_payload(
    name: &str,
    items: Option<&[KeyToPath]>,
    optional: Option<bool>,
    default_mode: i32,
    secrets: &BTreeMap<String, Secret>,
) -> Result<Payload, String> {
    let optional = optional == Some(true);
    let empty = Secret::default();
    let secret = match secrets.get(name) {
        Some(s) => s,
        None if optional => &empty,
        None => return Err(secret_not_found(name)),
    };
    let data = secret.data.clone().unwrap_or_default();
    let Some(items) = items.filter(|i| !i.is_empty()) else {
        return Ok(data.into_iter().map(|(k, v)| (k, (v.0, default_mode))).collect());
    };
    let lookup = |key: &str| data.get(key).map(|v| v.0.clone());
    map_items(items, default_mode, optional, lookup, |key| {
        format!("references non-existent secret key: {key}")
    })
}

/// `items`: each key to its path with its mode; a missing key is skipped when the source
/// is optional and fails it otherwise.
fn map_items(
    items: &[KeyToPath],
    default_mode: i32,
    optional: bool,
    lookup: impl Fn(&str) -> Option<Vec<u8>>,
    missing: impl Fn(&str) -> String,
) -> Result<Payload, String> {
    let mut payload = Payload::new();
    for item in items {
        match lookup(&item.key) {
            Some(data) => {
                payload.insert(item.path.clone(), (data, item.mode.unwrap_or(default_mode)));
            }
            None if optional => {}
            None => return Err(missing(&item.key)),
        }
    }
    Ok(payload)
}

/// `downwardapi.CollectData`: every item's file, errors collected into `errors` (the
/// failing item still gets an empty file, as in the kubelet, though the volume then fails).
fn downward_payload(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: i32,
    node_allocatable: &BTreeMap<String, Quantity>,
    errors: &mut Vec<String>,
) -> Payload {
    let mut payload = Payload::new();
    for item in items {
        let value = if let Some(fs) = &item.field_ref {
            pod_metadata_field(pod, &fs.field_path)
        } else if let Some(fs) = &item.resource_field_ref {
            resource_field_value(pod, None, fs, node_allocatable)
        } else {
            Ok(String::new())
        };
        let data = value.unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });
        payload.insert(
            clean(&item.path),
            (data.into_bytes(), item.mode.unwrap_or(default_mode)),
        );
    }
    payload
}

/// `utilerrors.NewAggregate(...).Error()`: one message as is, several (deduplicated) as
/// `[a, b]`.
fn aggregate(errors: Vec<String>) -> Result<(), String> {
    let mut seen: Vec<String> = Vec::new();
    for e in errors {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => Ok(()),
        1 => Err(seen.concat()),
        _ => Err(format!("[{}]", seen.join(", "))),
    }
}

/// The atomic writer's `validatePayload`: every path checked, then cleaned.
fn files(payload: Payload) -> Result<Vec<ProjectedFile>, String> {
    let mut out: BTreeMap<String, ProjectedFile> = BTreeMap::new();
    for (path, (data, mode)) in payload {
        validate_path(&path)?;
        let path = clean(&path);
        let mode = u32::try_from(mode).unwrap_or(DEFAULT_MODE.unsigned_abs());
        out.insert(path.clone(), ProjectedFile { path, data, mode });
    }
    Ok(out.into_values().collect())
}

/// The atomic writer's `validatePath`, with its messages.
fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err(format!("invalid path: must not be empty: {}", go_quote(path)));
    }
    if path.starts_with('/') {
        return Err(format!("invalid path: must be relative path: {path}"));
    }
    if path.len() > MAX_PATH_LENGTH {
        return Err(format!(
            "invalid path: must be less than or equal to {MAX_PATH_LENGTH} characters"
        ));
    }
    for item in path.split('/') {
        if item == ".." {
            return Err(format!("invalid path: must not contain '..': {path}"));
        }
        if item.len() > MAX_FILE_NAME_LENGTH {
            return Err(format!(
                "invalid path: filenames must be less than or equal to {MAX_FILE_NAME_LENGTH} characters"
            ));
        }
    }
    let first = path.split('/').next().unwrap_or_default();
    if first.starts_with("..") && first.len() > 2 {
        return Err(format!("invalid path: must not start with '..': {path}"));
    }
    Ok(())
}

/// Go's `filepath.Clean` for relative paths: empty and `.` elements dropped, `..` applied.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if path.starts_with('/') => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (path.starts_with('/'), joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1",
                          "labels": {"tier": "front", "app": "web"},
                          "annotations": {"note": "a\tb \"q\""}},
            "spec": {"containers": [
                {"name": "app", "resources": {"limits": {"memory": "64Mi"}, "requests": {"cpu": "250m"}}}
            ]}
        }))
        .unwrap()
    }

    fn objects() -> (BTreeMap<String, ConfigMap>, BTreeMap<String, Secret>) {
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "cfg"},
            "data": {"app.conf": "port=80\n", "mode": "prod"},
            "binaryData": {"blob.bin": "AAEC"}}))
        .unwrap();
        // "s3cret" base64-encoded.
        let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "creds"},
            "data": {"password": "czNjcmV0", "user": "YWRtaW4="}}))
        .unwrap();
        (
            BTreeMap::from([("cfg".to_string(), cm)]),
            BTreeMap::from([("creds".to_string(), secret)]),
        )
    }

    fn volume(v: serde_json::Value) -> Volume {
        serde_json::from_value(v).unwrap()
    }

    fn run(v: serde_json::Value) -> Result<Option<Vec<ProjectedFile>>, String> {
        let (cms, secrets) = objects();
        volume_files(&pod(), &volume(v), &cms, &secrets)
    }

    fn listing(files: &[ProjectedFile]) -> Vec<(String, String, u32)> {
        files
            .iter()
            .map(|f| {
                (
                    f.path.clone(),
                    String::from_utf8_lossy(&f.data).into_owned(),
                    f.mode,
                )
            })
            .collect()
    }

    fn entry(path: &str, data: &str, mode: u32) -> (String, String, u32) {
        (path.to_string(), data.to_string(), mode)
    }

    #[test]
    fn non_projection_volumes_are_none() {
        assert_eq!(run(json!({"name": "d", "emptyDir": {}})), Ok(None));
        assert_eq!(run(json!({"name": "h", "hostPath": {"path": "/tmp"}})), Ok(None));
    }

    #[test]
    fn config_map_without_items_projects_every_key_with_default_mode() {
        let files = run(json!({"name": "v", "configMap": {"name": "cfg"}}))
            .unwrap()
            .unwrap();
        assert_eq!(
            listing(&files),
            [
                entry("app.conf", "port=80\n", 0o644),
                entry("blob.bin", "\0\u{1}\u{2}", 0o644),
                entry("mode", "prod", 0o644)
            ]
        );
        let files = run(json!({"name": "v", "configMap": {"name": "cfg", "defaultMode": 0o400}}))
            .unwrap()
            .unwrap();
        assert!(files.iter().all(|f| f.mode == 0o400));
    }

    #[test]
    fn config_map_items_map_keys_to_paths_and_modes() {
        let files = run(
            json!({"name": "v", "configMap": {"name": "cfg", "defaultMode": 0o440, "items": [
                {"key": "app.conf", "path": "etc/app/app.conf", "mode": 0o600},
                {"key": "blob.bin", "path": "bin/blob"},
            ]}}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            listing(&files),
            [
                entry("bin/blob", "\0\u{1}\u{2}", 0o440),
                entry("etc/app/app.conf", "port=80\n", 0o600)
            ]
        );
    }

    #[test]
    fn config_map_missing_object_or_key_fails_unless_optional() {
        assert_eq!(
            run(json!({"name": "v", "configMap": {"name": "nope"}})),
            Err("configmap \"nope\" not found".into())
        );
        assert_eq!(
            run(json!({"name": "v", "configMap": {"name": "nope", "optional": true}})),
            Ok(Some(vec![]))
        );
        let items = json!([{"key": "missing", "path": "m"}, {"key": "mode", "path": "mode"}]);
        assert_eq!(
            run(json!({"name": "v", "configMap": {"name": "cfg", "items": items}})),
            Err("configmap references non-existent config key: missing".into())
        );
        let files = run(json!({"name": "v", "configMap": {"name": "cfg", "items": items, "optional": true}}))
            .unwrap()
            .unwrap();
        assert_eq!(listing(&files), [entry("mode", "prod", 0o644)]);
        let files =
            run(json!({"name": "v", "configMap": {"name": "nope", "items": items, "optional": true}}));
        assert_eq!(files, Ok(Some(vec![])));
    }

    #[test]
    fn secret_volume_projects_decoded_data() {
        let files = run(json!({"name": "v", "secret": {"secretName": "creds", "defaultMode": 0o400}}))
            .unwrap()
            .unwrap();
        assert_eq!(
            listing(&files),
            [entry("password", "s3cret", 0o400), entry("user", "admin", 0o400)]
        );
        let files = run(json!({"name": "v", "secret": {"secretName": "creds",
            "items": [{"key": "password", "path": "db/pw", "mode": 0o600}]}}))
        .unwrap()
        .unwrap();
        assert_eq!(listing(&files), [entry("db/pw", "s3cret", 0o600)]);
    }

    #[test]
    fn secret_missing_object_or_key_fails_unless_optional() {
        assert_eq!(
            run(json!({"name": "v", "secret": {"secretName": "nope"}})),
            Err("secret \"nope\" not found".into())
        );
        assert_eq!(
            run(json!({"name": "v", "secret": {"secretName": "nope", "optional": true}})),
            Ok(Some(vec![]))
        );
        let items = json!([{"key": "token", "path": "t"}]);
        assert_eq!(
            run(json!({"name": "v", "secret": {"secretName": "creds", "items": items}})),
            Err("references non-existent secret key: token".into())
        );
        assert_eq!(
            run(json!({"name": "v", "secret": {"secretName": "creds", "items": items, "optional": true}})),
            Ok(Some(vec![]))
        );
    }

    #[test]
    fn downward_api_formats_metadata_like_the_kubelet() {
        let files = run(json!({"name": "v", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}, "mode": 0o600},
            {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
            {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}},
            {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}},
            {"path": "tier", "fieldRef": {"fieldPath": "metadata.labels['tier']"}},
            {"path": "./sub//dir/none", "fieldRef": {"fieldPath": "metadata.annotations['none']"}},
        ]}}))
        .unwrap()
        .unwrap();
        assert_eq!(
            listing(&files),
            [
                entry("annotations", "note=\"a\\tb \\\"q\\\"\"", 0o600),
                entry("labels", "app=\"web\"\ntier=\"front\"", 0o644),
                entry("name", "web-0", 0o644),
                entry("ns", "shop", 0o644),
                entry("sub/dir/none", "", 0o644),
                entry("tier", "front", 0o644),
                entry("uid", "u-1", 0o644),
            ]
        );
    }

    #[test]
    fn downward_api_resources_use_the_named_container_and_node_allocatable() {
        let (cms, secrets) = objects();
        let v = volume(json!({"name": "v", "downwardAPI": {"items": [
            {"path": "mem", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}},
            {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}},
            {"path": "req", "resourceFieldRef": {"containerName": "app", "resource": "requests.cpu", "divisor": "1m"}},
        ]}}));
        let alloc = BTreeMap::from([("cpu".to_string(), Quantity("2".into()))]);
        let files = volume_files_on_node(&pod(), &v, &cms, &secrets, &alloc)
            .unwrap()
            .unwrap();
        assert_eq!(
            listing(&files),
            [
                entry("cpu", "2000", 0o644),
                entry("mem", "64", 0o644),
                entry("req", "250", 0o644)
            ]
        );
        let files = volume_files(&pod(), &v, &cms, &secrets).unwrap().unwrap();
        assert_eq!(listing(&files)[0], entry("cpu", "0", 0o644));
    }

    #[test]
    fn downward_api_errors_are_aggregated() {
        let one = run(json!({"name": "v", "downwardAPI": {"items": [
            {"path": "node", "fieldRef": {"fieldPath": "spec.nodeName"}},
        ]}}));
        assert_eq!(one, Err("unsupported fieldPath: spec.nodeName".into()));
        let two = run(json!({"name": "v", "downwardAPI": {"items": [
            {"path": "node", "fieldRef": {"fieldPath": "spec.nodeName"}},
            {"path": "x", "resourceFieldRef": {"containerName": "ghost", "resource": "limits.cpu"}},
            {"path": "again", "fieldRef": {"fieldPath": "spec.nodeName"}},
        ]}}));
        assert_eq!(
            two,
            Err("[unsupported fieldPath: spec.nodeName, container ghost not found]".into())
        );
    }

    #[test]
    fn projected_merges_sources_in_order_with_the_volume_default_mode() {
        let files = run(json!({"name": "v", "projected": {"defaultMode": 0o440, "sources": [
            {"configMap": {"name": "cfg", "items": [{"key": "mode", "path": "conf/mode"}]}},
            {"secret": {"name": "creds", "items": [{"key": "user", "path": "conf/mode", "mode": 0o400}]}},
            {"secret": {"name": "creds", "items": [{"key": "password", "path": "pw"}]}},
            {"downwardAPI": {"items": [{"path": "pod/name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
            {"configMap": {"name": "absent", "optional": true}},
        ]}}))
        .unwrap()
        .unwrap();
        assert_eq!(
            listing(&files),
            [
                entry("conf/mode", "admin", 0o400),
                entry("pod/name", "web-0", 0o440),
                entry("pw", "s3cret", 0o440)
            ]
        );
    }

    #[test]
    fn projected_errors_from_every_source_are_aggregated() {
        let err = run(json!({"name": "v", "projected": {"sources": [
            {"configMap": {"name": "gone"}},
            {"secret": {"name": "creds", "items": [{"key": "nokey", "path": "x"}]}},
            {"clusterTrustBundle": {"name": "ctb", "path": "ca.pem"}},
        ]}}));
        assert_eq!(
            err,
            Err(
                "[configmap \"gone\" not found, references non-existent secret key: nokey, \
                 clusterTrustBundle projections are not implemented by Berth]"
                    .into()
            )
        );
        let one = run(json!({"name": "v", "projected": {"sources": [{"secret": {"name": "gone"}}]}}));
        assert_eq!(one, Err("secret \"gone\" not found".into()));
    }

    #[test]
    fn unsafe_paths_are_rejected_with_atomic_writer_messages() {
        let cases = [
            ("/etc/passwd", "invalid path: must be relative path: /etc/passwd"),
            ("../escape", "invalid path: must not contain '..': ../escape"),
            ("a/../../b", "invalid path: must not contain '..': a/../../b"),
            ("..data/x", "invalid path: must not start with '..': ..data/x"),
            ("", "invalid path: must not be empty: \"\""),
        ];
        for (path, want) in cases {
            let v =
                json!({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": path}]}});
            assert_eq!(run(v), Err(want.to_string()), "{path:?}");
        }
        let long = "a".repeat(256);
        let v = json!({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": long}]}});
        assert_eq!(
            run(v),
            Err("invalid path: filenames must be less than or equal to 255 characters".into())
        );
        let v =
            json!({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": "..ok"}]}});
        assert_eq!(run(v), Err("invalid path: must not start with '..': ..ok".into()));
        let v =
            json!({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": "x..y/.z"}]}});
        assert_eq!(
            listing(&run(v).unwrap().unwrap()),
            [entry("x..y/.z", "prod", 0o644)]
        );
    }

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(clean("a//b/./c/"), "a/b/c");
        assert_eq!(clean("./x"), "x");
        assert_eq!(clean("a/../b"), "b");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("/a/../.."), "/");
    }

    #[test]
    fn mount_failure_message_matches_the_kubelet_event() {
        assert_eq!(
            mount_failed_message("config", "configmap \"app\" not found"),
            "MountVolume.SetUp failed for volume \"config\" : configmap \"app\" not found"
        );
    }
}
