//! ControllerRevisions (items 55–62): the revision data (`getPatch`), its hash and name
//! (`HashControllerRevision`, `ControllerRevisionName`), equality, choosing the current and update
//! revisions with rollback reuse and collision handling (`getStatefulSetRevisions`,
//! `CreateControllerRevision`), and history truncation (`truncateHistory`).
//!
//! Encoding: Kubernetes encodes the set with its typed JSON codec, decodes it into
//! `map[string]interface{}` and re-encodes `{"spec":{"template":{…,"$patch":"replace"}}}` with
//! `json.Marshal`, so keys are sorted at every level, output is compact, and `<`, `>`, `&`,
//! U+2028, U+2029 are `\u`-escaped. [`go_json`] reproduces that. The template is serialized by
//! k8s-openapi, which omits unset fields; Go additionally always writes a few non-pointer
//! structs, which [`template_value`] adds (`metadata: {}`, each container's `resources: {}`,
//! ephemeral volume claim templates' `metadata`/`spec.resources`). Known remaining differences:
//! quantities are kept as written rather than canonicalized (`1024Mi` is not turned into `1Gi`),
//! integers above 2^53 are not rounded through float64, and other Go zero-valued fields without
//! `omitempty` that are absent from the stored object are not synthesized. The Kubernetes 1.33
//! and 1.34 compatibility vectors (`test-c77f6d978`, `test-776999688b`) hash identically (see
//! the tests).
//!
//! Equality is semantic (`StatefulSetSemanticRevisionComparison`, item 62): two revisions are
//! equal when their templates are equal after dropping `null`s and empty objects/arrays, so a
//! serialisation change such as dropping `creationTimestamp: null` does not roll pods.

use super::spec::SetView;
use super::types::PlanError;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Label carrying a revision's hash.
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// Writes `v` as Go's `json.Marshal` of the decoded `interface{}` would.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go(v, &mut out);
    out
}

fn write_go(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_go_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_str(k, out);
                out.push(':');
                if let Some(x) = m.get(k) {
                    write_go(x, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_go_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// FNV-1 32-bit (Go's `fnv.New32`, not `New32a`).
pub fn fnv1_32(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in *p {
            h = h.wrapping_mul(0x0100_0193);
            h ^= u32::from(*b);
        }
    }
    h
}

/// `rand.SafeEncodeString`: each byte mapped into an alphabet without vowels.
pub fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// `HashControllerRevision(data, &collisionCount)`.
pub fn hash(data: &str, collision_count: i32) -> String {
    let probe = collision_count.to_string();
    safe_encode(&fnv1_32(&[data.as_bytes(), probe.as_bytes()]).to_string())
}

/// `ControllerRevisionName`: the prefix truncated to 223 bytes, then `-<hash>`.
pub fn revision_name(prefix: &str, hash: &str) -> String {
    let mut end = prefix.len().min(223);
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}-{hash}", &prefix[..end])
}

/// The template as Go's typed encoder writes it (see the module docs).
pub fn template_value(template: &PodTemplateSpec) -> Result<Value, PlanError> {
    let mut v = serde_json::to_value(template).map_err(|e| PlanError::Template(e.to_string()))?;
    let Value::Object(t) = &mut v else {
        return Err(PlanError::Template("not an object".into()));
    };
    t.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if let Some(Value::Object(spec)) = t.get_mut("spec") {
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            if let Some(Value::Array(cs)) = spec.get_mut(key) {
                for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                    c.entry("resources").or_insert_with(|| Value::Object(Map::new()));
                }
            }
        }
        if let Some(Value::Array(vols)) = spec.get_mut("volumes") {
            for vct in vols
                .iter_mut()
                .filter_map(|v| v.pointer_mut("/ephemeral/volumeClaimTemplate"))
            {
                if let Value::Object(vct) = vct {
                    vct.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
                    if let Some(Value::Object(s)) = vct.get_mut("spec") {
                        s.entry("resources").or_insert_with(|| Value::Object(Map::new()));
                    }
                }
            }
        }
    }
    Ok(v)
}

/// `getPatch`: `{"spec":{"template":{…,"$patch":"replace"}}}` as a JSON value.
pub fn patch_data(template: &PodTemplateSpec) -> Result<Value, PlanError> {
    let mut t = template_value(template)?;
    if let Value::Object(m) = &mut t {
        m.insert("$patch".into(), Value::String("replace".into()));
    }
    Ok(serde_json::json!({ "spec": { "template": t } }))
}

/// `newRevision`: the candidate revision for `template` (labels = template labels + hash,
/// annotations = the set's, controller reference to the set).
pub fn new_revision(
    set: &SetView,
    template: &PodTemplateSpec,
    revision: i64,
    collision_count: i32,
) -> Result<ControllerRevision, PlanError> {
    let data = patch_data(template)?;
    let h = hash(&go_json(&data), collision_count);
    let mut labels: BTreeMap<String, String> = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), h.clone());
    Ok(ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision_name(&set.name, &h)),
            namespace: Some(set.namespace.clone()),
            labels: Some(labels),
            annotations: Some(set.annotations.clone()),
            owner_references: Some(vec![super::pods::controller_ref(set)]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    })
}

/// The pod template a revision stores (`ApplyRevision` of a `$patch: replace` template).
pub fn template_of(rev: &ControllerRevision) -> Result<PodTemplateSpec, PlanError> {
    let name = rev.metadata.name.clone().unwrap_or_default();
    let err = |e: String| PlanError::RevisionData(name.clone(), e);
    let mut t = rev
        .data
        .as_ref()
        .and_then(|d| d.0.pointer("/spec/template"))
        .cloned()
        .ok_or_else(|| err("no spec.template".into()))?;
    if let Value::Object(m) = &mut t {
        m.remove("$patch");
    }
    serde_json::from_value(t).map_err(|e| err(e.to_string()))
}

fn prune(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Array(a) => {
            let a: Vec<Value> = a.iter().map(|x| prune(x).unwrap_or(Value::Null)).collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(m) => {
            let m: Map<String, Value> = m
                .iter()
                .filter(|(k, _)| *k != "$patch")
                .filter_map(|(k, x)| Some((k.clone(), prune(x)?)))
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        x => Some(x.clone()),
    }
}

/// Semantic equality of two revisions' data (see the module docs).
pub fn equal_data(a: Option<&RawExtension>, b: Option<&RawExtension>) -> bool {
    let norm = |d: Option<&RawExtension>| d.and_then(|d| prune(&d.0));
    norm(a) == norm(b)
}

/// `SortControllerRevisions`: by `.revision`, then creation time, then name.
pub fn sort(revisions: &mut [ControllerRevision]) {
    revisions.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| {
                let t = |r: &ControllerRevision| r.metadata.creation_timestamp.as_ref().map(|t| t.0);
                t(a).cmp(&t(b))
            })
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// The outcome of `getStatefulSetRevisions`.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// The current revision (status.currentRevision if it exists, else the update revision).
    pub current: ControllerRevision,
    /// The update revision (the set's template), with its `.revision` possibly bumped.
    pub update: ControllerRevision,
    /// The collision count to record in status.
    pub collision_count: i32,
    /// Create this revision first (no equal revision existed).
    pub create: Option<ControllerRevision>,
    /// Bump this existing revision's number first (rollback to an equal older revision).
    pub bump: Option<(String, i64)>,
}

/// `getStatefulSetRevisions` (items 56–59) over `sorted` (see [`sort`]); `foreign` are other
/// revisions whose names may collide.
pub fn choose(
    set: &SetView,
    template: &PodTemplateSpec,
    sorted: &[ControllerRevision],
    foreign: &[ControllerRevision],
    status_collision_count: i32,
    status_current: &str,
) -> Result<Chosen, PlanError> {
    let mut collision_count = status_collision_count;
    let next = sorted.last().map_or(1, |r| r.revision + 1);
    let candidate = new_revision(set, template, next, collision_count)?;
    let equal: Vec<&ControllerRevision> = sorted
        .iter()
        .filter(|r| equal_data(r.data.as_ref(), candidate.data.as_ref()))
        .collect();
    let (update, create, bump) = match (equal.last(), sorted.last()) {
        (Some(eq), Some(last)) if eq.metadata.name == last.metadata.name => ((*last).clone(), None, None),
        (Some(eq), _) => {
            let mut r = (*eq).clone();
            r.revision = next;
            let name = r.metadata.name.clone().unwrap_or_default();
            (r, None, Some((name, next)))
        }
        (None, _) => {
            // CreateControllerRevision: on a name taken by different data, bump collisionCount.
            let mut cand = candidate;
            loop {
                let name = cand.metadata.name.clone();
                let existing = sorted.iter().chain(foreign).find(|r| r.metadata.name == name);
                match existing {
                    Some(e) if equal_data(e.data.as_ref(), cand.data.as_ref()) => {
                        break (e.clone(), None, None);
                    }
                    Some(_) => {
                        collision_count = collision_count.saturating_add(1);
                        cand = new_revision(set, template, next, collision_count)?;
                    }
                    None => break (cand.clone(), Some(cand), None),
                }
            }
        }
    };
    let current = sorted
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(status_current))
        .cloned()
        .unwrap_or_else(|| update.clone());
    Ok(Chosen {
        current,
        update,
        collision_count,
        create,
        bump,
    })
}

/// `truncateHistory` (item 60): names of revisions to delete, oldest first, so that at most
/// `limit` non-live revisions remain. Live: current, update, and any pod's revision label.
pub fn truncate(sorted: &[ControllerRevision], limit: i64, live: &[&str], pods: &[&Pod]) -> Vec<String> {
    // The history is a part of `sorted`: within the limit, no pod needs looking at.
    if limit < 0 || i64::try_from(sorted.len()).unwrap_or(i64::MAX) <= limit {
        return vec![];
    }
    let mut live: BTreeSet<&str> = live.iter().copied().collect();
    live.extend(pods.iter().map(|p| super::pods::pod_revision(p)));
    let history: Vec<&str> = sorted
        .iter()
        .filter_map(|r| r.metadata.name.as_deref())
        .filter(|n| !live.contains(n))
        .collect();
    let len = i64::try_from(history.len()).unwrap_or(i64::MAX);
    if limit < 0 || len <= limit {
        return vec![];
    }
    let n = usize::try_from(len - limit).unwrap_or(0);
    history[..n].iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests;
