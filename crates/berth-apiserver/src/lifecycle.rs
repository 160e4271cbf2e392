//! The object lifecycle Kubernetes' generic registry implements: create, update, patch and
//! delete with system metadata (uid, creationTimestamp, generation, resourceVersion,
//! managedFields), defaulting, admission, validation, optimistic concurrency, finalizers and
//! `deletionTimestamp`, dry runs, and the status and scale subresources.
//!
//! Independent of HTTP: handlers parse requests into these calls and render the [`Outcome`].

use crate::admission::{AdmissionRequest, ObjectLookup, Operation};
use crate::auth::UserInfo;
use crate::keys::{collection_prefix, object_key};
use crate::negotiate::BodyType;
use crate::path::Target;
use crate::query::{FieldValidation, Query};
use crate::state::ApiState;
use berth_api::field::FieldError;
use berth_api::registry::ResourceType;
use berth_api::status::{ApiError, success_status};
use berth_api::{defaults, meta, patch, schema, validation};
use berth_store::{KeyValue, StoreError};
use bytes::Bytes;
use serde_json::{Map, Value, json};

/// The result of a write: HTTP status, body, and `Warning` headers.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub code: u16,
    pub body: Value,
    pub warnings: Vec<String>,
}

/// One API request's context.
pub(crate) struct Ctx<'a> {
    pub state: &'a ApiState,
    pub user: &'a UserInfo,
    pub target: &'a Target,
    pub query: &'a Query,
    pub user_agent: &'a str,
}

impl Ctx<'_> {
    fn rt(&self) -> &'static ResourceType {
        self.target.rt
    }

    fn namespace(&self) -> &str {
        self.target.namespace.as_deref().unwrap_or("")
    }

    fn name(&self) -> &str {
        self.target.name.as_deref().unwrap_or("")
    }

    fn key(&self) -> String {
        object_key(self.rt(), self.namespace(), self.name())
    }

    fn manager(&self) -> String {
        match &self.query.field_manager {
            Some(m) => m.clone(),
            None => self.user_agent.split('/').next().unwrap_or("unknown").to_string(),
        }
    }
}

/// The current time as Kubernetes writes `metav1.Time` (RFC 3339, seconds, `Z`).
pub(crate) fn now_rfc3339() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Decodes a stored value as the served type `rt` and stamps its `resourceVersion`.
pub(crate) fn decode(rt: &ResourceType, kv: &KeyValue) -> Result<Value, ApiError> {
    let stored: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object {} is corrupt: {e}", kv.key)))?;
    let mut obj = berth_api::convert::from_storage(rt, stored);
    if let Some(md) = meta::metadata_mut(&mut obj) {
        md.insert("resourceVersion".into(), json!(kv.mod_revision.to_string()));
    }
    Ok(obj)
}

fn encode(rt: &ResourceType, obj: &Value) -> Result<Bytes, ApiError> {
    let mut copy = berth_api::convert::to_storage(rt, obj.clone());
    if let Some(md) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("resourceVersion");
        // `omitempty` in ObjectMeta: Kubernetes never stores these empty.
        for field in [
            "labels",
            "annotations",
            "finalizers",
            "ownerReferences",
            "managedFields",
        ] {
            let empty = match md.get(field) {
                Some(Value::Null) => true,
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                _ => false,
            };
            if empty {
                md.remove(field);
            }
        }
    }
    let mut bytes = serde_json::to_vec(&copy).map_err(ApiError::internal)?;
    // The store and the watch cache hold this value as long as the object lives.
    bytes.shrink_to_fit();
    Ok(Bytes::from(bytes))
}

impl ObjectLookup for ApiState {
    fn get_object(&self, rt: &'static ResourceType, namespace: &str, name: &str) -> Option<Value> {
        let kv = self.store.get(&object_key(rt, namespace, name))?;
        decode(rt, &kv).ok()
    }

    fn list_objects(&self, rt: &'static ResourceType) -> Vec<Value> {
        self.store
            .list(&collection_prefix(rt, None), None, 0, None)
            .map(|p| p.items)
            .unwrap_or_default()
            .iter()
            .filter_map(|kv| decode(rt, kv).ok())
            .collect()
    }
}

/// Reads one object or answers 404.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let kv = ctx.state.store.get(&ctx.key()).ok_or_else(|| not_found(ctx))?;
    decode(ctx.rt(), &kv)
}

fn not_found(ctx: &Ctx<'_>) -> ApiError {
    ApiError::not_found(&ctx.rt().group_resource(), ctx.name())
}

fn store_error(ctx: &Ctx<'_>, e: StoreError) -> ApiError {
    let gr = ctx.rt().group_resource();
    match e {
        StoreError::NotFound(_) => not_found(ctx),
        StoreError::AlreadyExists(_) => ApiError::already_exists(&gr, ctx.name()),
        StoreError::Conflict { .. } => ApiError::stale(&gr, ctx.name()),
        other => ApiError::internal(other),
    }
}

/// Fills `apiVersion`/`kind` when absent (the Python client omits them) and rejects a body
/// of another kind.
fn check_type_meta(rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: the body is not a JSON object",
            rt.kind, rt.version, rt.kind
        )));
    };
    let api_version = rt.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), json!(api_version));
        }
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), json!(rt.kind));
        }
        Some(k) if k == rt.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )));
        }
    }
    Ok(())
}

/// Applies `fieldValidation` to a decoded body: strict rejects unknown fields, warn reports
/// them; unknown fields are dropped either way, as Kubernetes' decoder does.
fn check_fields(ctx: &Ctx<'_>, obj: &mut Value, in_patch: bool) -> Result<Vec<String>, ApiError> {
    let rt = ctx.rt();
    let report = schema::check_fields(rt.group, rt.kind, obj);
    if let Some(first) = report.type_errors.first() {
        return Err(ApiError::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: {first}",
            rt.kind, rt.version, rt.kind
        )));
    }
    if report.unknown.is_empty() {
        return Ok(Vec::new());
    }
    let messages: Vec<String> = report
        .unknown
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    match ctx.query.field_validation {
        FieldValidation::Ignore => Ok(Vec::new()),
        FieldValidation::Warn => Ok(messages),
        FieldValidation::Strict if in_patch => {
            let detail = format!("strict decoding error: {}", messages.join(", "));
            Err(ApiError::invalid(
                "",
                "",
                "",
                &[FieldError::invalid("patch", obj.to_string(), detail)],
            ))
        }
        FieldValidation::Strict => Err(ApiError::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: strict decoding error: {}",
            rt.kind,
            rt.version,
            rt.kind,
            messages.join(", ")
        ))),
    }
}

fn invalid(ctx: &Ctx<'_>, name: &str, errors: &[FieldError]) -> ApiError {
    ApiError::invalid(ctx.rt().kind, ctx.rt().group, name, errors)
}

fn managed_fields_entry(ctx: &Ctx<'_>, operation: &str, subresource: Option<&str>) -> Value {
    let mut e = json!({
        "manager": ctx.manager(),
        "operation": operation,
        "apiVersion": ctx.rt().api_version(),
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    });
    if let (Some(sub), Some(m)) = (subresource, e.as_object_mut()) {
        m.insert("subresource".into(), json!(sub));
    }
    e
}

/// Records the write in `managedFields`: one entry per manager, operation and subresource.
fn record_manager(ctx: &Ctx<'_>, obj: &mut Value, operation: &str, subresource: Option<&str>) {
    let entry = managed_fields_entry(ctx, operation, subresource);
    let Some(md) = meta::metadata_mut(obj) else { return };
    let list = md.entry("managedFields").or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(items) = list.as_array_mut() {
        items.retain(|e| {
            !(e["manager"] == entry["manager"]
                && e["operation"] == entry["operation"]
                && e.get("subresource") == entry.get("subresource"))
        });
        items.push(entry);
    }
}

const GENERATE_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generated_name(prefix: &str) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| GENERATE_NAME_ALPHABET[rng.random_range(0..GENERATE_NAME_ALPHABET.len())] as char)
        .collect();
    let max_prefix = 63 - 5;
    let prefix = if prefix.len() > max_prefix {
        &prefix[..max_prefix]
    } else {
        prefix
    };
    format!("{prefix}{suffix}")
}

async fn admit(
    ctx: &Ctx<'_>,
    operation: Operation,
    name: &str,
    namespace: &str,
    old: Option<&Value>,
    obj: &mut Value,
) -> Result<(), ApiError> {
    let req = AdmissionRequest {
        operation,
        rt: ctx.rt(),
        subresource: ctx.target.subresource.as_deref(),
        namespace,
        name,
        user: ctx.user,
        old,
        dry_run: ctx.query.dry_run,
    };
    for plugin in &ctx.state.admission {
        plugin.admit(&req, obj, ctx.state)?;
    }
    for plugin in &ctx.state.admission {
        plugin.commit(&req, obj).await?;
    }
    Ok(())
}

/// Kubernetes resets the status of most kinds on create (nodes keep theirs).
fn resets_status_on_create(rt: &ResourceType) -> bool {
    rt.has_status() && rt.kind != "Node"
}

/// POST: creates an object.
pub(crate) async fn create(ctx: &Ctx<'_>, mut obj: Value) -> Result<Outcome, ApiError> {
    let rt = ctx.rt();
    check_type_meta(rt, &mut obj)?;
    let warnings = check_fields(ctx, &mut obj, false)?;
    create_checked(ctx, obj, warnings, "Update").await
}

async fn create_checked(
    ctx: &Ctx<'_>,
    mut obj: Value,
    warnings: Vec<String>,
    operation: &str,
) -> Result<Outcome, ApiError> {
    let rt = ctx.rt();
    let url_ns = ctx.namespace().to_string();
    let md =
        meta::metadata_mut(&mut obj).ok_or_else(|| ApiError::bad_request("the body is not an object"))?;
    if rt.namespaced {
        match md.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                md.insert("namespace".into(), json!(url_ns));
            }
            Some(ns) if ns == url_ns => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
    } else {
        md.remove("namespace");
    }
    let generate = md.get("generateName").and_then(Value::as_str).map(str::to_string);
    let explicit_name = md
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !explicit_name && generate.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            rt.kind,
            rt.group,
            "",
            &[FieldError::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    md.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    md.insert("creationTimestamp".into(), json!(now_rfc3339()));
    for system in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        md.remove(system);
    }
    if rt.generation {
        md.insert("generation".into(), json!(1));
    } else {
        md.remove("generation");
    }
    md.remove("managedFields");
    if resets_status_on_create(rt)
        && let Some(map) = obj.as_object_mut()
    {
        map.remove("status");
    }
    defaults::apply(rt, &mut obj);
    prepare_kind_on_create(ctx, &mut obj)?;
    record_manager(ctx, &mut obj, operation, None);

    let attempts = if explicit_name { 1 } else { 8 };
    for _ in 0..attempts {
        if !explicit_name
            && let (Some(prefix), Some(md)) = (generate.as_deref(), meta::metadata_mut(&mut obj))
        {
            md.insert("name".into(), json!(generated_name(prefix)));
        }
        let name = meta::name(&obj).to_string();
        let namespace = meta::namespace(&obj).to_string();
        let mut errors = validation::validate_create(rt, &obj);
        if rt.namespaced && namespace.is_empty() {
            errors.push(FieldError::required("metadata.namespace", ""));
        }
        if !errors.is_empty() {
            return Err(invalid(ctx, &name, &errors));
        }
        admit(ctx, Operation::Create, &name, &namespace, None, &mut obj).await?;
        if ctx.query.dry_run {
            if ctx.state.store.get(&object_key(rt, &namespace, &name)).is_some() {
                return Err(ApiError::already_exists(&rt.group_resource(), &name));
            }
            return Ok(Outcome {
                code: 201,
                body: obj,
                warnings,
            });
        }
        match ctx
            .state
            .store
            .create(&object_key(rt, &namespace, &name), encode(rt, &obj)?)
            .await
        {
            Ok(kv) => {
                return Ok(Outcome {
                    code: 201,
                    body: decode(rt, &kv)?,
                    warnings,
                });
            }
            Err(StoreError::AlreadyExists(_)) if !explicit_name => continue,
            Err(StoreError::AlreadyExists(_)) => {
                return Err(ApiError::already_exists(&rt.group_resource(), &name));
            }
            Err(e) => return Err(ApiError::internal(e)),
        }
    }
    Err(ApiError::already_exists(&rt.group_resource(), meta::name(&obj)))
}

/// Kind-specific registry behaviour on create (Kubernetes' `PrepareForCreate`).
fn prepare_kind_on_create(ctx: &Ctx<'_>, obj: &mut Value) -> Result<(), ApiError> {
    let rt = ctx.rt();
    if rt.group.is_empty() && rt.kind == "Service" {
        let prefix = collection_prefix(rt, None);
        let existing: Vec<Value> = ctx
            .state
            .store
            .list(&prefix, None, 0, None)
            .map(|p| p.items)
            .unwrap_or_default()
            .iter()
            .filter_map(|kv| decode(rt, kv).ok())
            .collect();
        crate::service_alloc::allocate(obj, &existing)?;
    }
    Ok(())
}

/// Which part of the object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The main resource: everything but status (for kinds with a status subresource).
    Main,
    /// The status subresource: only status.
    Status,
    /// The namespace finalize subresource: only spec.finalizers.
    Finalize,
}

fn part(ctx: &Ctx<'_>) -> Part {
    match ctx.target.subresource.as_deref() {
        Some("status") => Part::Status,
        Some("finalize") => Part::Finalize,
        _ => Part::Main,
    }
}

/// Builds the object to store from the old one and the submitted one, keeping what the
/// client may not change (system metadata; status on the main resource; everything but
/// status on `/status`).
fn merge_for_update(rt: &ResourceType, part: Part, old: &Value, mut new: Value) -> Value {
    match part {
        Part::Status => {
            let mut out = old.clone();
            if let (Some(o), Some(status)) = (out.as_object_mut(), new.get("status")) {
                o.insert("status".into(), status.clone());
            }
            // The client's resourceVersion is still the precondition.
            if let (Some(md), Some(rv)) = (
                meta::metadata_mut(&mut out),
                new.pointer("/metadata/resourceVersion"),
            ) {
                md.insert("resourceVersion".into(), rv.clone());
            }
            out
        }
        Part::Finalize => {
            let mut out = old.clone();
            let fin = new.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
            if let Some(spec) = out
                .as_object_mut()
                .map(|o| o.entry("spec").or_insert_with(|| json!({})))
                && let Some(s) = spec.as_object_mut()
            {
                s.insert("finalizers".into(), fin);
            }
            if let (Some(md), Some(rv)) = (
                meta::metadata_mut(&mut out),
                new.pointer("/metadata/resourceVersion"),
            ) {
                md.insert("resourceVersion".into(), rv.clone());
            }
            out
        }
        Part::Main => {
            if rt.has_status()
                && let Some(o) = new.as_object_mut()
            {
                match old.get("status") {
                    Some(s) => {
                        o.insert("status".into(), s.clone());
                    }
                    None => {
                        o.remove("status");
                    }
                }
            }
            let old_md = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
            if let Some(md) = meta::metadata_mut(&mut new) {
                for keep in [
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                ] {
                    match old_md.get(keep) {
                        Some(v) => {
                            md.insert(keep.into(), v.clone());
                        }
                        None => {
                            md.remove(keep);
                        }
                    }
                }
                if md.get("uid").and_then(Value::as_str).is_none_or(str::is_empty)
                    && let Some(uid) = old_md.get("uid")
                {
                    md.insert("uid".into(), uid.clone());
                }
                if md.get("managedFields").is_none()
                    && let Some(mf) = old_md.get("managedFields")
                {
                    md.insert("managedFields".into(), mf.clone());
                }
                md.remove("selfLink");
            }
            new
        }
    }
}

/// Objects equal but for resourceVersion and managedFields: the write is a no-op.
fn same_object(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            md.remove("resourceVersion");
            md.remove("managedFields");
        }
        v
    };
    strip(a) == strip(b)
}

fn has_finalizers(rt: &ResourceType, obj: &Value) -> bool {
    !meta::finalizers(obj).is_empty()
        || (rt.kind == "Namespace"
            && rt.group.is_empty()
            && obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty()))
}

/// The update pipeline shared by PUT, PATCH and subresources. `submit` computes the new
/// object from the current one; it runs again when a concurrent write wins, unless the
/// client set a resourceVersion precondition.
async fn update_with<F>(ctx: &Ctx<'_>, mut submit: F, mut warnings: Vec<String>) -> Result<Outcome, ApiError>
where
    F: FnMut(&Value) -> Result<Option<Value>, ApiError>,
{
    let rt = ctx.rt();
    let key = ctx.key();
    for _attempt in 0..16 {
        let Some(kv) = ctx.state.store.get(&key) else {
            return Err(not_found(ctx));
        };
        let old = decode(rt, &kv)?;
        let Some(submitted) = submit(&old)? else {
            // The patch or body asked for nothing new.
            return Ok(Outcome {
                code: 200,
                body: old,
                warnings,
            });
        };
        let precondition = submitted
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(rv) = &precondition
            && rv.parse::<u64>().ok() != Some(kv.mod_revision)
        {
            if rv.parse::<u64>().is_err() {
                return Err(ApiError::bad_request(format!("invalid resourceVersion {rv:?}")));
            }
            return Err(ApiError::stale(&rt.group_resource(), ctx.name()));
        }
        let p = part(ctx);
        let mut new = merge_for_update(rt, p, &old, submitted);
        if let Some(md) = meta::metadata_mut(&mut new) {
            md.insert("resourceVersion".into(), json!(kv.mod_revision.to_string()));
        }
        if rt.generation && p == Part::Main && new.get("spec") != old.get("spec") {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if let Some(md) = meta::metadata_mut(&mut new) {
                md.insert("generation".into(), json!(g + 1));
            }
        }
        defaults::apply(rt, &mut new);
        let name = ctx.name().to_string();
        let errors = validation::validate_update(rt, &new, &old);
        if !errors.is_empty() {
            return Err(invalid(ctx, &name, &errors));
        }
        admit(
            ctx,
            Operation::Update,
            &name,
            ctx.namespace(),
            Some(&old),
            &mut new,
        )
        .await?;
        if same_object(&new, &old) {
            return Ok(Outcome {
                code: 200,
                body: old,
                warnings: std::mem::take(&mut warnings),
            });
        }
        record_manager(ctx, &mut new, "Update", ctx.target.subresource.as_deref());
        if ctx.query.dry_run {
            return Ok(Outcome {
                code: 200,
                body: new,
                warnings,
            });
        }
        if meta::is_deleting(&new) && !has_finalizers(rt, &new) {
            // The last finalizer is gone: the deletion completes now.
            return match ctx.state.store.delete(&key, Some(kv.mod_revision)).await {
                Ok(_) => Ok(Outcome {
                    code: 200,
                    body: new,
                    warnings,
                }),
                Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
                Err(e) => Err(store_error(ctx, e)),
            };
        }
        match ctx
            .state
            .store
            .update(&key, encode(rt, &new)?, Some(kv.mod_revision))
            .await
        {
            Ok(kv) => {
                return Ok(Outcome {
                    code: 200,
                    body: decode(rt, &kv)?,
                    warnings,
                });
            }
            Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
            Err(e) => return Err(store_error(ctx, e)),
        }
    }
    Err(ApiError::stale(&rt.group_resource(), ctx.name()))
}

fn check_body_identity(ctx: &Ctx<'_>, obj: &mut Value) -> Result<(), ApiError> {
    let url_name = ctx.name().to_string();
    let url_ns = ctx.namespace().to_string();
    let namespaced = ctx.rt().namespaced;
    let md = meta::metadata_mut(obj).ok_or_else(|| ApiError::bad_request("the body is not an object"))?;
    match md.get("name").and_then(Value::as_str) {
        None | Some("") => {
            md.insert("name".into(), json!(url_name));
        }
        Some(n) if n == url_name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({url_name})"
            )));
        }
    }
    if namespaced {
        match md.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                md.insert("namespace".into(), json!(url_ns));
            }
            Some(ns) if ns == url_ns => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
    }
    Ok(())
}

/// PUT: replaces an object (or its status).
pub(crate) async fn update(ctx: &Ctx<'_>, mut obj: Value) -> Result<Outcome, ApiError> {
    check_type_meta(ctx.rt(), &mut obj)?;
    let warnings = check_fields(ctx, &mut obj, false)?;
    check_body_identity(ctx, &mut obj)?;
    update_with(ctx, |_old| Ok(Some(obj.clone())), warnings).await
}

/// The patch formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub(crate) fn from_body_type(t: &BodyType) -> Option<Self> {
        match t {
            BodyType::JsonPatch => Some(PatchType::Json),
            BodyType::MergePatch => Some(PatchType::Merge),
            BodyType::StrategicMergePatch => Some(PatchType::Strategic),
            BodyType::ApplyPatch => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// The media types PATCH accepts, for 415 answers.
pub(crate) const PATCH_TYPES: [&str; 4] = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

fn apply_patch(
    rt: &ResourceType,
    ty: PatchType,
    current: &Value,
    patch_doc: &Value,
) -> Result<Value, ApiError> {
    let mut out = current.clone();
    match ty {
        PatchType::Json => {
            patch::json(&mut out, patch_doc).map_err(|e| ApiError::invalid_patch(e.to_string()))?
        }
        PatchType::Merge => {
            if !patch_doc.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                ));
            }
            patch::merge(&mut out, patch_doc)
        }
        PatchType::Strategic | PatchType::Apply => {
            if !patch_doc.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                ));
            }
            patch::strategic::apply(rt.group, rt.kind, &mut out, patch_doc).map_err(|e| match e {
                patch::PatchError::Malformed(m) => ApiError::bad_request(m),
                patch::PatchError::Failed(m) => ApiError::invalid_patch(m),
            })?
        }
    }
    Ok(out)
}

/// PATCH: applies a patch to the current object (server-side apply creates when missing).
pub(crate) async fn patch(ctx: &Ctx<'_>, ty: PatchType, raw: &[u8]) -> Result<Outcome, ApiError> {
    let rt = ctx.rt();
    let patch_doc = match ty {
        PatchType::Apply => crate::body::parse_yaml(raw)?,
        _ => serde_json::from_slice::<Value>(raw)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?,
    };
    if ty == PatchType::Apply {
        let mut applied = patch_doc.clone();
        check_type_meta(rt, &mut applied)?;
        if ctx.state.store.get(&ctx.key()).is_none() {
            let warnings = check_fields(ctx, &mut applied, false)?;
            check_body_identity(ctx, &mut applied)?;
            return create_checked(ctx, applied, warnings, "Apply").await;
        }
    }
    let mut warnings = Vec::new();
    let subresource = ctx.target.subresource.clone();
    let result = update_with(
        ctx,
        |old| {
            let mut patched = apply_patch(rt, ty, old, &patch_doc)?;
            // The stored version is the base: only a version the patch changed is a precondition.
            if patched.pointer("/metadata/resourceVersion") == old.pointer("/metadata/resourceVersion")
                && let Some(md) = meta::metadata_mut(&mut patched)
            {
                md.remove("resourceVersion");
            }
            check_type_meta(rt, &mut patched)?;
            warnings = check_fields(ctx, &mut patched, true)?;
            if subresource.is_none() {
                check_body_identity(ctx, &mut patched)?;
            }
            Ok(Some(patched))
        },
        Vec::new(),
    )
    .await;
    result.map(|mut o| {
        o.warnings.extend(warnings);
        o
    })
}

/// DeleteOptions, from the body or the query.
#[derive(Debug, Default, Clone)]
pub(crate) struct DeleteOptions {
    pub propagation: Option<String>,
    pub grace_period_seconds: Option<i64>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub orphan_dependents: Option<bool>,
}

impl DeleteOptions {
    pub(crate) fn from_request(query: &Query, body: Option<&Value>) -> Result<Self, ApiError> {
        let mut o = DeleteOptions {
            propagation: query.propagation_policy.clone(),
            grace_period_seconds: query.grace_period_seconds,
            orphan_dependents: query.orphan_dependents,
            ..Default::default()
        };
        if let Some(b) = body {
            if !b.is_object() {
                return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
            }
            if let Some(p) = b.get("propagationPolicy").and_then(Value::as_str) {
                o.propagation = Some(p.to_string());
            }
            if let Some(g) = b.get("gracePeriodSeconds").and_then(Value::as_i64) {
                o.grace_period_seconds = Some(g);
            }
            if let Some(od) = b.get("orphanDependents").and_then(Value::as_bool) {
                o.orphan_dependents = Some(od);
            }
            o.precondition_uid = b
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(str::to_string);
            o.precondition_rv = b
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if let Some(p) = &o.propagation
            && !matches!(p.as_str(), "Orphan" | "Background" | "Foreground")
        {
            return Err(ApiError::invalid(
                "DeleteOptions",
                "",
                "",
                &[FieldError::not_supported(
                    "propagationPolicy",
                    p.as_str(),
                    &["Foreground", "Background", "Orphan"],
                )],
            ));
        }
        if o.orphan_dependents.is_some() && o.propagation.is_some() {
            return Err(ApiError::invalid(
                "DeleteOptions",
                "",
                "",
                &[FieldError::invalid(
                    "propagationPolicy",
                    o.propagation.clone().unwrap_or_default(),
                    "orphanDependents and deletionPropagation cannot be both set",
                )],
            ));
        }
        Ok(o)
    }

    /// The finalizer this deletion adds: `orphan` or `foregroundDeletion`.
    fn finalizer(&self) -> Option<&'static str> {
        match (self.propagation.as_deref(), self.orphan_dependents) {
            (Some("Orphan"), _) | (None, Some(true)) => Some("orphan"),
            (Some("Foreground"), _) => Some("foregroundDeletion"),
            _ => None,
        }
    }
}

/// DELETE: removes an object, or marks it for deletion when finalizers or a grace period hold it.
pub(crate) async fn delete(ctx: &Ctx<'_>, opts: &DeleteOptions) -> Result<Outcome, ApiError> {
    let rt = ctx.rt();
    let key = ctx.key();
    let gr = rt.group_resource();
    for _attempt in 0..16 {
        let Some(kv) = ctx.state.store.get(&key) else {
            return Err(not_found(ctx));
        };
        let old = decode(rt, &kv)?;
        if let Some(uid) = &opts.precondition_uid
            && uid != meta::uid(&old)
        {
            return Err(ApiError::conflict(
                &gr,
                ctx.name(),
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta::uid(&old)
                ),
            ));
        }
        if let Some(rv) = &opts.precondition_rv
            && rv != meta::resource_version(&old)
        {
            return Err(ApiError::conflict(
                &gr,
                ctx.name(),
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta::resource_version(&old)
                ),
            ));
        }
        let mut marked = old.clone();
        admit(
            ctx,
            Operation::Delete,
            ctx.name(),
            ctx.namespace(),
            Some(&old),
            &mut marked,
        )
        .await?;
        let mut changed = false;
        if let Some(f) = opts.finalizer()
            && !meta::finalizers(&old).iter().any(|x| x == f)
            && (f != "orphan" || !meta::is_deleting(&old))
        {
            let md = meta::metadata_mut(&mut marked)
                .ok_or_else(|| ApiError::internal("object without metadata"))?;
            let list = md.entry("finalizers").or_insert_with(|| json!([]));
            if let Some(a) = list.as_array_mut() {
                // Switching policy replaces the other GC finalizer, as Kubernetes does.
                a.retain(|x| x != "orphan" && x != "foregroundDeletion");
                a.push(json!(f));
            }
            changed = true;
        }
        let graceful = graceful_period(rt, &old, opts);
        let hold = has_finalizers(rt, &marked) || graceful.is_some();
        if !hold {
            if ctx.query.dry_run {
                return Ok(deleted_outcome(rt, &old));
            }
            match ctx.state.store.delete(&key, Some(kv.mod_revision)).await {
                Ok(_) => return Ok(deleted_outcome(rt, &old)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(store_error(ctx, e)),
            }
        }
        if !meta::is_deleting(&old) {
            let md = meta::metadata_mut(&mut marked)
                .ok_or_else(|| ApiError::internal("object without metadata"))?;
            let grace = graceful.unwrap_or(0);
            md.insert("deletionTimestamp".into(), json!(deletion_deadline(grace)));
            md.insert("deletionGracePeriodSeconds".into(), json!(grace));
            if rt.generation {
                let g = md.get("generation").and_then(Value::as_i64).unwrap_or(0);
                md.insert("generation".into(), json!(g + 1));
            }
            if rt.kind == "Namespace"
                && rt.group.is_empty()
                && let Some(o) = marked.as_object_mut()
            {
                let status = o.entry("status").or_insert_with(|| json!({}));
                if let Some(s) = status.as_object_mut() {
                    s.insert("phase".into(), json!("Terminating"));
                }
            }
            changed = true;
        } else if let Some(g) = graceful {
            // A shorter grace period on a second delete shortens the wait.
            let current = old
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if g < current {
                let md = meta::metadata_mut(&mut marked)
                    .ok_or_else(|| ApiError::internal("object without metadata"))?;
                md.insert("deletionTimestamp".into(), json!(deletion_deadline(g)));
                md.insert("deletionGracePeriodSeconds".into(), json!(g));
                changed = true;
            }
        }
        if !changed || ctx.query.dry_run {
            return Ok(Outcome {
                code: 200,
                body: marked,
                warnings: Vec::new(),
            });
        }
        match ctx
            .state
            .store
            .update(&key, encode(rt, &marked)?, Some(kv.mod_revision))
            .await
        {
            Ok(kv) => {
                return Ok(Outcome {
                    code: 200,
                    body: decode(rt, &kv)?,
                    warnings: Vec::new(),
                });
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(store_error(ctx, e)),
        }
    }
    Err(ApiError::stale(&gr, ctx.name()))
}

/// `deletionTimestamp` for a grace period starting now, as Kubernetes writes `metav1.Time`.
fn deletion_deadline(grace_seconds: i64) -> String {
    let now = jiff::Timestamp::now();
    now.checked_add(jiff::SignedDuration::from_secs(grace_seconds))
        .unwrap_or(now)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Pods bound to a node terminate gracefully: the node agent finishes the deletion.
fn graceful_period(rt: &ResourceType, obj: &Value, opts: &DeleteOptions) -> Option<i64> {
    if !(rt.group.is_empty() && rt.kind == "Pod") {
        return None;
    }
    let bound = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = obj.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    if !bound || matches!(phase, "Succeeded" | "Failed") {
        return None;
    }
    let grace = opts
        .grace_period_seconds
        .or_else(|| {
            obj.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30);
    if grace <= 0 { None } else { Some(grace) }
}

fn deleted_outcome(rt: &ResourceType, old: &Value) -> Outcome {
    let body = if rt.delete_returns_object {
        old.clone()
    } else {
        success_status(&rt.group_resource(), meta::name(old), meta::uid(old))
    };
    Outcome {
        code: 200,
        body,
        warnings: Vec::new(),
    }
}

/// The `autoscaling/v1 Scale` view of a StatefulSet.
pub(crate) fn scale_of(sts: &Value) -> Value {
    let selector = sts
        .pointer("/spec/selector")
        .and_then(|s| berth_api::selector::LabelSelector::from_label_selector_json(s).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let md = sts.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let mut meta_out = Map::new();
    for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(v) = md.get(k) {
            meta_out.insert(k.into(), v.clone());
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta_out,
        "spec": {"replicas": sts.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": sts.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        }
    })
}

/// PUT or PATCH of `/scale`: changes `spec.replicas` of the StatefulSet.
pub(crate) async fn update_scale(
    ctx: &Ctx<'_>,
    patch_type: Option<PatchType>,
    raw: &[u8],
) -> Result<Outcome, ApiError> {
    let body: Value = match patch_type {
        Some(PatchType::Apply) => crate::body::parse_yaml(raw)?,
        _ => serde_json::from_slice(raw)
            .map_err(|e| ApiError::bad_request(format!("error decoding body: {e}")))?,
    };
    let main = Target {
        subresource: None,
        ..ctx.target.clone()
    };
    let main_ctx = Ctx {
        target: &main,
        ..*ctx
    };
    let outcome = update_with(
        &main_ctx,
        |old| {
            let current = scale_of(old);
            let scale = match patch_type {
                None => body.clone(),
                Some(ty) => {
                    let mut base = current.clone();
                    if let Some(md) = meta::metadata_mut(&mut base) {
                        md.remove("resourceVersion");
                    }
                    let mut patched = apply_patch(ctx.rt(), ty, &base, &body)?;
                    if ty == PatchType::Json
                        && let Some(md) = meta::metadata_mut(&mut patched)
                    {
                        md.remove("resourceVersion");
                    }
                    patched
                }
            };
            let replicas = match scale.pointer("/spec/replicas") {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_i64().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal {v} into Go struct field ScaleSpec.spec.replicas of type int32"
                    ))
                })?,
            };
            if replicas < 0 {
                return Err(ApiError::invalid(
                    "Scale",
                    "autoscaling",
                    ctx.name(),
                    &[FieldError::invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
                ));
            }
            let mut next = old.clone();
            if let Some(spec) = next.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert("replicas".into(), json!(replicas));
            }
            if let Some(md) = meta::metadata_mut(&mut next) {
                match scale.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                    Some(rv) => {
                        md.insert("resourceVersion".into(), json!(rv));
                    }
                    None => {
                        md.remove("resourceVersion");
                    }
                }
            }
            Ok(Some(next))
        },
        Vec::new(),
    )
    .await?;
    Ok(Outcome {
        code: 200,
        body: scale_of(&outcome.body),
        warnings: outcome.warnings,
    })
}

/// POST `pods/<name>/binding`: assigns a pending pod to a node (what a scheduler does).
pub(crate) async fn bind(ctx: &Ctx<'_>, binding: &Value) -> Result<Outcome, ApiError> {
    let rt = ctx.rt();
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "Binding",
            "",
            ctx.name(),
            &[FieldError::required("target.name", "")],
        ));
    }
    let gr = berth_api::status::GroupResource::new("", "pods/binding");
    let key = ctx.key();
    for _attempt in 0..16 {
        let Some(kv) = ctx.state.store.get(&key) else {
            return Err(not_found(ctx));
        };
        let mut pod = decode(rt, &kv)?;
        if meta::is_deleting(&pod) {
            return Err(ApiError::conflict(
                &gr,
                ctx.name(),
                &format!(
                    "pod {} is being deleted, cannot be assigned to a host",
                    ctx.name()
                ),
            ));
        }
        let current = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !current.is_empty() {
            return Err(ApiError::conflict(
                &gr,
                ctx.name(),
                &format!("pod {} is already assigned to node {current:?}", ctx.name()),
            ));
        }
        if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("nodeName".into(), json!(node));
        }
        let scheduled = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
                               "lastTransitionTime": now_rfc3339()});
        if let Some(map) = pod.as_object_mut() {
            let status = map.entry("status").or_insert_with(|| json!({}));
            if let Some(s) = status.as_object_mut() {
                let conds = s.entry("conditions").or_insert_with(|| json!([]));
                if let Some(list) = conds.as_array_mut() {
                    list.retain(|c| c["type"] != "PodScheduled");
                    list.push(scheduled);
                }
            }
        }
        if ctx.query.dry_run {
            break;
        }
        match ctx
            .state
            .store
            .update(&key, encode(rt, &pod)?, Some(kv.mod_revision))
            .await
        {
            Ok(_) => break,
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(store_error(ctx, e)),
        }
    }
    Ok(Outcome {
        code: 201,
        body: json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        warnings: Vec::new(),
    })
}
