//! The HTTP side of the resource API: turns a parsed request into a lifecycle call, a list
//! or a watch, checks authorization, and renders the answer as JSON, YAML or a Table.

use crate::auth::{Attributes, UserInfo};
use crate::body;
use crate::error::{ApiResult, Failure, status_response, store_failure};
use crate::keys::collection_prefix;
use crate::lifecycle::{self, Ctx, DeleteOptions, Outcome, PATCH_TYPES, PatchType};
use crate::negotiate::{self, BodyType, Output};
use crate::path::Target;
use crate::query::Query;
use crate::state::ApiState;
use crate::watch_cache::CachedObject;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use berth_api::selector::{FieldSelector, LabelSelector};
use berth_api::status::ApiError;
use berth_api::table::{self, IncludeObject};
use berth_api::{meta, registry};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;

/// Everything about one resource request.
pub(crate) struct ResourceRequest<'a> {
    pub state: &'a ApiState,
    pub user: &'a UserInfo,
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub target: Target,
    pub query: Query,
}

fn verb(method: &Method, target: &Target, query: &Query) -> &'static str {
    let named = target.name.is_some();
    match *method {
        Method::GET | Method::HEAD if query.watch => "watch",
        Method::GET | Method::HEAD if named => "get",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

/// Renders a JSON value in the negotiated representation.
pub(crate) fn render(code: u16, body: &Value, output: Output, warnings: &[String]) -> Response {
    let (bytes, content_type) = match output {
        Output::Metadata => {
            let list = body.get("items").is_some();
            let ct = if list {
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
            } else {
                "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
            };
            (serde_json::to_vec(body).unwrap_or_default(), ct)
        }
        Output::Yaml => (
            serde_yaml::to_string(body)
                .map(String::into_bytes)
                .unwrap_or_default(),
            "application/yaml",
        ),
        Output::Table => (
            serde_json::to_vec(body).unwrap_or_default(),
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        ),
        Output::Json => (serde_json::to_vec(body).unwrap_or_default(), "application/json"),
    };
    let mut resp = (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for w in warnings {
        let text = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

pub(crate) fn include_object(query: &Query) -> IncludeObject {
    match query.include_object.as_deref() {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
}

/// Serves one request for a collection, an object or a subresource.
pub(crate) async fn serve(req: ResourceRequest<'_>, raw_body: Body) -> Response {
    match serve_inner(req, raw_body).await {
        Ok(r) => r,
        Err(Failure(e)) => status_response(&e),
    }
}

async fn serve_inner(req: ResourceRequest<'_>, raw_body: Body) -> ApiResult {
    let rt = req.target.rt;
    let verb = verb(req.method, &req.target, &req.query);
    if verb == "unknown" {
        return Err(ApiError::method_not_supported(&rt.group_resource(), req.method.as_str()).into());
    }
    if rt.create_only && verb != "create" {
        return Err(ApiError::method_not_supported(&rt.group_resource(), verb).into());
    }
    let attrs = Attributes {
        verb: verb.to_string(),
        group: rt.group.to_string(),
        resource: rt.plural.to_string(),
        subresource: req.target.subresource.clone().unwrap_or_default(),
        namespace: req.target.namespace.clone().unwrap_or_default(),
        name: req.target.name.clone().unwrap_or_default(),
    };
    if let Err(reason) = req.state.authorizer.authorize(req.user, &attrs) {
        let who = format!(
            "User {:?} cannot {verb} resource {:?} in API group {:?}",
            req.user.username, rt.plural, rt.group
        );
        let scope = match &req.target.namespace {
            Some(ns) => format!(" in the namespace {ns:?}"),
            None => " at the cluster scope".to_string(),
        };
        let why = if reason.is_empty() {
            format!("{who}{scope}")
        } else {
            format!("{who}{scope}: {reason}")
        };
        return Err(ApiError::forbidden(&rt.group_resource(), attrs.name.as_str(), &why).into());
    }
    let output = negotiate::output(req.headers).ok_or_else(|| {
        ApiError::not_acceptable("application/json, application/yaml, application/vnd.kubernetes.protobuf")
    })?;
    let ua = user_agent(req.headers).to_string();
    let ctx = Ctx {
        state: req.state,
        user: req.user,
        target: &req.target,
        query: &req.query,
        user_agent: &ua,
    };
    let sub = req.target.subresource.as_deref();
    match (verb, sub) {
        ("watch", None) => Ok(crate::watch::serve(req.state, &req.target, &req.query, output).await?),
        ("list", None) => list(&ctx, output),
        ("get", None | Some("status")) => {
            let obj = lifecycle::get(&ctx)?;
            Ok(render_objects(&ctx, vec![obj], output, None))
        }
        ("get", Some("scale")) => {
            let obj = lifecycle::get(&ctx)?;
            Ok(render(200, &lifecycle::scale_of(&obj), json_or_yaml(output), &[]))
        }
        ("create", None) => {
            let obj = read_object(&req, raw_body).await?;
            if rt.create_only {
                return Ok(render(
                    201,
                    &crate::reviews::review(rt, obj, req.user, req.state)?,
                    json_or_yaml(output),
                    &[],
                ));
            }
            finish(lifecycle::create(&ctx, obj).await?, output)
        }
        ("create", Some("binding")) if rt.kind == "Pod" && rt.group.is_empty() => {
            let binding = read_object(&req, raw_body).await?;
            finish(lifecycle::bind(&ctx, &binding).await?, output)
        }
        ("update", None | Some("status") | Some("finalize")) => {
            let obj = read_object(&req, raw_body).await?;
            finish(lifecycle::update(&ctx, obj).await?, output)
        }
        ("update", Some("scale")) => {
            let raw = body::read(raw_body, req.state.options.max_body_bytes).await?;
            finish(lifecycle::update_scale(&ctx, None, &raw).await?, output)
        }
        ("patch", None | Some("status") | Some("scale")) => {
            let ty = negotiate::body_type(req.headers);
            let Some(patch_type) = PatchType::from_body_type(&ty) else {
                let shown = match &ty {
                    BodyType::Other(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                return Err(ApiError::unsupported_media_type(&shown, &PATCH_TYPES).into());
            };
            let raw = body::read(raw_body, req.state.options.max_body_bytes).await?;
            let outcome = if sub == Some("scale") {
                lifecycle::update_scale(&ctx, Some(patch_type), &raw).await?
            } else {
                lifecycle::patch(&ctx, patch_type, &raw).await?
            };
            finish(outcome, output)
        }
        ("delete", None) => {
            let opts = delete_options(&req, raw_body).await?;
            finish(lifecycle::delete(&ctx, &opts).await?, output)
        }
        ("deletecollection", None) => {
            let opts = delete_options(&req, raw_body).await?;
            delete_collection(&ctx, &opts, output).await
        }
        (_, Some(other)) => Err(ApiError::method_not_supported(
            &berth_api::status::GroupResource::new(rt.group, &format!("{}/{other}", rt.plural)),
            verb,
        )
        .into()),
        _ => Err(ApiError::method_not_supported(&rt.group_resource(), verb).into()),
    }
}

/// The `PartialObjectMetadata` view of an object.
pub(crate) fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn json_or_yaml(output: Output) -> Output {
    if output == Output::Yaml {
        Output::Yaml
    } else {
        Output::Json
    }
}

fn finish(outcome: Outcome, output: Output) -> ApiResult {
    Ok(render(
        outcome.code,
        &outcome.body,
        json_or_yaml(output),
        &outcome.warnings,
    ))
}

async fn read_object(req: &ResourceRequest<'_>, raw_body: Body) -> Result<Value, ApiError> {
    let raw = body::read(raw_body, req.state.options.max_body_bytes).await?;
    let ty = negotiate::body_type(req.headers);
    if raw.is_empty() {
        return Err(ApiError::bad_request("the body of the request was empty"));
    }
    body::decode_object(&ty, &raw)
}

async fn delete_options(req: &ResourceRequest<'_>, raw_body: Body) -> Result<DeleteOptions, ApiError> {
    let raw = body::read(raw_body, req.state.options.max_body_bytes).await?;
    let parsed = if raw.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let ty = negotiate::body_type(req.headers);
        Some(match ty {
            BodyType::Yaml => body::parse_yaml(&raw)?,
            _ => body::parse_json(&raw)?,
        })
    };
    DeleteOptions::from_request(&req.query, parsed.as_ref())
}

fn render_objects(ctx: &Ctx<'_>, objects: Vec<Value>, output: Output, list_meta: Option<Value>) -> Response {
    let rt = ctx.target.rt;
    match output {
        Output::Table => {
            let mut t = table::render(
                rt,
                &objects,
                jiff::Timestamp::now(),
                include_object(ctx.query),
                true,
            );
            let md = list_meta.unwrap_or_else(
                || json!({"resourceVersion": objects.first().map(meta::resource_version).unwrap_or("")}),
            );
            t["metadata"] = md;
            render(200, &t, Output::Table, &[])
        }
        Output::Metadata => {
            let items: Vec<Value> = objects.iter().map(partial_metadata).collect();
            let body = match list_meta {
                Some(md) => json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": md,
                    "items": items,
                }),
                None => items.into_iter().next().unwrap_or(Value::Null),
            };
            render(200, &body, Output::Metadata, &[])
        }
        other => {
            let body = match list_meta {
                Some(md) => json!({
                    "kind": rt.list_kind(),
                    "apiVersion": rt.api_version(),
                    "metadata": md,
                    "items": objects,
                }),
                None => objects.into_iter().next().unwrap_or(Value::Null),
            };
            render(200, &body, other, &[])
        }
    }
}

/// Parses the selectors of a list or watch.
pub(crate) fn selectors(
    rt: &registry::ResourceType,
    query: &Query,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = match &query.label_selector {
        Some(s) => LabelSelector::parse(s).map_err(ApiError::bad_request)?,
        None => LabelSelector::default(),
    };
    let fields = match &query.field_selector {
        Some(s) => FieldSelector::parse(rt, s).map_err(ApiError::bad_request)?,
        None => FieldSelector::default(),
    };
    Ok((labels, fields))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: u64,
    start: String,
}

fn encode_continue(rv: u64, start: &str) -> String {
    let t = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.to_string(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default())
}

fn decode_continue(token: &str) -> Result<ContinueToken, ApiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| ApiError::bad_request("continue key is not valid: illegal base64 data"))?;
    serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion")
    })
}

const EXPIRED_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn list(ctx: &Ctx<'_>, output: Output) -> ApiResult {
    let rt = ctx.target.rt;
    let (labels, fields) = selectors(rt, ctx.query)?;
    let prefix = collection_prefix(rt, ctx.target.namespace.as_deref());
    let store = &ctx.state.store;
    let (mut at, mut start) = (None, None);
    if let Some(token) = &ctx.query.continue_token {
        let t = decode_continue(token)?;
        if !t.start.starts_with(&prefix) && !prefix.starts_with(&t.start) {
            return Err(ApiError::bad_request(
                "continue key is not valid: the key does not belong to this list",
            )
            .into());
        }
        at = Some(t.rv);
        start = Some(t.start);
    } else if let Some(rv) = &ctx.query.resource_version {
        let n: u64 = rv
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?;
        match ctx.query.resource_version_match.as_deref() {
            Some("Exact") => at = Some(n),
            Some("NotOlderThan") | None => {
                if n > store.current_revision() {
                    return Err(ApiError::timeout("Too large resource version").into());
                }
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
                ))
                .into());
            }
        }
    }
    let hub = ctx.state.watch_cache.hub(rt)?;
    let limit = ctx.query.limit;
    let filtered = labels != LabelSelector::default() || fields != FieldSelector::default();
    let mut items = Vec::new();
    let mut last_key: Option<String> = None;
    let mut revision;
    let mut more;
    let mut remaining;
    let mut cursor = start.clone();
    loop {
        let want = if limit == 0 {
            0
        } else {
            (limit - items.len()).max(if filtered { 64 } else { 1 })
        };
        let page = match store.list(&prefix, cursor.as_deref(), want, at) {
            Ok(p) => p,
            Err(berth_store::StoreError::Compacted { .. }) if ctx.query.continue_token.is_some() => {
                return Err(ApiError::expired(EXPIRED_CONTINUE).into());
            }
            Err(e) => return Err(store_failure(e)),
        };
        revision = page.revision;
        at = Some(revision);
        more = page.more;
        remaining = page.remaining;
        let mut consumed_all = true;
        for obj in hub.objects(&page.items)? {
            if limit > 0 && items.len() == limit {
                consumed_all = false;
                break;
            }
            last_key = Some(obj.key.to_string());
            if labels.matches_attrs(&obj.attrs) && fields.matches_attrs(&obj.attrs) {
                items.push(obj);
            }
        }
        if !consumed_all {
            more = true;
            break;
        }
        if !more || (limit > 0 && items.len() == limit) {
            break;
        }
        cursor = last_key.clone();
    }
    let mut md = json!({"resourceVersion": revision.to_string()});
    if more && let Some(k) = &last_key {
        md["continue"] = json!(encode_continue(revision, k));
        if !filtered {
            md["remainingItemCount"] = json!(remaining);
        }
    }
    if output == Output::Json {
        return Ok(render_cached_list(rt, &items, &md));
    }
    let values = items.iter().map(|o| o.value()).collect::<Result<Vec<_>, _>>()?;
    Ok(render_objects(ctx, values, output, Some(md)))
}

/// A JSON list of cached objects: the envelope encoded, the items' JSON copied as cached.
fn render_cached_list(rt: &registry::ResourceType, items: &[Arc<CachedObject>], md: &Value) -> Response {
    let head = json!({"kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": md});
    let mut bytes = serde_json::to_vec(&head).unwrap_or_default();
    // Reopen the envelope object to append `"items":[…]`.
    bytes.pop();
    let size: usize = items.iter().map(|o| o.json.len() + 1).sum();
    bytes.reserve(size + 12);
    bytes.extend_from_slice(b",\"items\":[");
    for (i, obj) in items.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        obj.json.write_to(&mut bytes);
    }
    bytes.extend_from_slice(b"]}");
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

async fn delete_collection(ctx: &Ctx<'_>, opts: &DeleteOptions, output: Output) -> ApiResult {
    let rt = ctx.target.rt;
    let (labels, fields) = selectors(rt, ctx.query)?;
    let prefix = collection_prefix(rt, ctx.target.namespace.as_deref());
    let page = ctx
        .state
        .store
        .list(&prefix, None, 0, None)
        .map_err(store_failure)?;
    let mut deleted = Vec::new();
    for kv in &page.items {
        let obj = lifecycle::decode(rt, kv)?;
        if !(labels.matches(&obj) && fields.matches(&obj)) {
            continue;
        }
        let target = Target {
            rt,
            namespace: Some(meta::namespace(&obj).to_string()).filter(|s| !s.is_empty()),
            name: Some(meta::name(&obj).to_string()),
            subresource: None,
        };
        let one = Ctx {
            target: &target,
            ..*ctx
        };
        match lifecycle::delete(&one, opts).await {
            Ok(o) => deleted.push(if o.body.get("kind") == Some(&json!("Status")) {
                obj
            } else {
                o.body
            }),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let md = json!({"resourceVersion": ctx.state.store.current_revision().to_string()});
    let body =
        json!({"kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": md, "items": deleted});
    Ok(render(200, &body, json_or_yaml(output), &[]))
}
