//! Strategic merge patch (`application/strategic-merge-patch+json`), the patch format
//! `kubectl apply`, `kubectl patch` (by default), `kubectl rollout undo/restart` and the
//! Python client send.
//!
//! This is a port of the server-side half of Kubernetes'
//! `k8s.io/apimachinery/pkg/util/strategicpatch` (`StrategicMergeMapPatch`, with
//! `MergeParallelList` and `IgnoreUnmatchedNulls` set, as the API server calls it), driven
//! by the hand-transcribed struct-tag tables of [`super::merge_keys`]:
//!
//! * maps merge recursively; a `null` value deletes the key;
//! * lists of a `merge` field merge: objects by merge key (a patch element updates the live
//!   element with the same key, new keys are appended), scalars as a set union;
//!   other lists are replaced;
//! * directives: `$patch: replace` (on a map: the map becomes the patch's; as an element of
//!   a merge list: the list becomes the patch's other elements), `$patch: delete` (on a map:
//!   the map becomes `{}`, as in Kubernetes; as an element: deletes the elements with its
//!   merge key), `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`;
//!   `$patch: merge` is rejected like any other value, as Kubernetes does;
//! * the order of merged lists follows Kubernetes' `normalizeElementOrder` exactly
//!   (precedence: `$setElementOrder`, then patch order, then live order), including Go's
//!   `sort.SliceStable` swap sequence.
//!
//! Deliberate differences, all about values that Kubernetes only gets rid of when it decodes
//! the patched map into its typed struct (Berth stores JSON as is):
//!
//! * every value copied from the patch (a new key, a replaced list, an appended list element,
//!   a `$patch: replace` map) is cleaned the way Kubernetes cleans new keys: `null`-valued
//!   properties are dropped, maps holding `$patch` are dropped, and directive keys are
//!   removed; so directive keys never reach the result;
//! * a field missing from the tables has no strategy (Kubernetes errors with "unable to find
//!   api field" when both sides are maps or lists for a field its Go type lacks, e.g. below
//!   `ControllerRevision.data`);
//! * of Go's slice aliasing, only the capacity-independent effect on merged lists of objects
//!   is reproduced (see `live_list_after_in_place_merge`); the capacity-dependent one on
//!   scalar lists with duplicate live elements is not.
//!
//! Errors use Kubernetes' wording. Everything caused by the patch document is
//! [`PatchError::Malformed`], except "lists of lists are not supported", which Kubernetes
//! answers with 422 and which is [`PatchError::Failed`].

mod go_compat;
#[cfg(test)]
mod tests;

use super::PatchError;
use super::merge_keys::{self, PatchField, PatchSchema, Strategy};
use go_compat::{GoType, fmt_map, fmt_s, fmt_slice, go_type, type_name};
use serde_json::{Map, Value};

type JsonMap = Map<String, Value>;
type Schema = Option<&'static PatchSchema>;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

/// Kubernetes' message for a strategic merge patch on a kind without patch metadata.
pub const UNSUPPORTED_MESSAGE: &str = "strategic merge patch format is not supported";

/// Applies a strategic merge patch to `target`, an object of the given kind (`group`, `kind`;
/// `group` is `""` for the core group). On error `target` is left unchanged.
///
/// A kind without patch metadata (see [`supports`]) is refused with
/// [`PatchError::Malformed`]`(`[`UNSUPPORTED_MESSAGE`]`)`.
pub fn apply(group: &str, kind: &str, target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let schema = merge_keys::schema_for(group, kind).ok_or_else(|| malformed(UNSUPPORTED_MESSAGE))?;
    apply_with_schema(schema, target, patch)
}

/// Whether strategic merge patch is supported for the kind (`group` is `""` for core).
pub fn supports(group: &str, kind: &str) -> bool {
    merge_keys::schema_for(group, kind).is_some()
}

/// Applies a strategic merge patch to `target` using an explicit patch schema (the type of
/// the whole object). `patch` must be a JSON object (`null` is an empty patch); a `null`
/// target is treated as an empty object. On error `target` is left unchanged.
pub fn apply_with_schema(
    schema: &'static PatchSchema,
    target: &mut Value,
    patch: &Value,
) -> Result<(), PatchError> {
    let patch = match patch {
        Value::Object(p) => p.clone(),
        Value::Null => JsonMap::new(),
        other => {
            return Err(malformed(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    let original = match target {
        Value::Object(o) => o.clone(),
        Value::Null => JsonMap::new(),
        other => {
            return Err(PatchError::Failed(format!(
                "expected a map[string]interface {{}}, but received a {}",
                type_name(other)
            )));
        }
    };
    *target = Value::Object(merge_map(original, patch, Some(schema))?);
    Ok(())
}

fn malformed(message: impl Into<String>) -> PatchError {
    PatchError::Malformed(message.into())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

// ----- errors, worded as in k8s.io/apimachinery/pkg/util/mergepatch -----

fn err_no_merge_key(m: &JsonMap, key: &str) -> PatchError {
    malformed(format!(
        "map: {} does not contain declared merge key: {key}",
        fmt_map(m)
    ))
}

fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    malformed(format!(
        "expected a {expected}, but received a {}",
        type_name(actual)
    ))
}

fn err_bad_patch_type(directive: &Value, m: &JsonMap) -> PatchError {
    malformed(format!(
        "unknown patch type: {} in map: {}",
        fmt_s(directive),
        fmt_map(m)
    ))
}

fn err_no_list_of_lists() -> PatchError {
    PatchError::Failed("lists of lists are not supported".into())
}

const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str = "invalid patch format of setElementOrder list";

const MAP_TYPE: &str = "map[string]interface {}";
const SLICE_TYPE: &str = "[]interface {}";

// ----- schema lookups -----

fn lookup(schema: Schema, key: &str) -> Option<&'static PatchField> {
    schema.and_then(|s| s.field(key))
}

fn strategy_of(field: Option<&PatchField>) -> Strategy {
    field.map_or(Strategy::Default, |f| f.strategy)
}

fn merge_key_of(field: Option<&'static PatchField>) -> &'static str {
    field.and_then(|f| f.merge_key).unwrap_or("")
}

fn schema_of(field: Option<&'static PatchField>) -> Schema {
    field.and_then(|f| f.schema)
}

// ----- cleaning values copied from the patch -----

fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE_MARKER
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

/// Kubernetes' `discardNullValuesFromPatch` + `removeDirectives` for a value taken from the
/// patch: `None` when the value is a map holding `$patch` (it is dropped), otherwise the
/// value without `null` properties and directive keys, at any depth (`null` list elements
/// stay).
fn clean(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) if m.contains_key(DIRECTIVE_MARKER) => None,
        Value::Object(m) => Some(Value::Object(clean_map(m, None))),
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(clean).collect())),
        other => Some(other),
    }
}

/// [`clean`] for the properties of a map; `keep` names a property kept even when `null`
/// (the merge key of a list element, which later ordering steps rely on).
fn clean_map(m: JsonMap, keep: Option<&str>) -> JsonMap {
    m.into_iter()
        .filter_map(|(k, v)| {
            if v.is_null() {
                return (keep == Some(k.as_str())).then_some((k, v));
            }
            if is_directive_key(&k) {
                return None;
            }
            clean(v).map(|v| (k, v))
        })
        .collect()
}

/// [`clean`] for a list element taken from the patch as a whole (appended, or part of a
/// replaced list), keeping its merge key.
fn clean_element(v: Value, merge_key: &str) -> Option<Value> {
    match v {
        Value::Object(m) if m.contains_key(DIRECTIVE_MARKER) => None,
        Value::Object(m) => Some(Value::Object(clean_map(
            m,
            (!merge_key.is_empty()).then_some(merge_key),
        ))),
        other => clean(other),
    }
}

fn clean_elements(items: Vec<Value>, merge_key: &str) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|v| clean_element(v, merge_key))
        .collect()
}

// ----- maps -----

/// `mergeMap`: merges `patch` into `original` and returns the result.
fn merge_map(mut original: JsonMap, mut patch: JsonMap, schema: Schema) -> Result<JsonMap, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return match directive.as_str() {
            Some(REPLACE_DIRECTIVE) => {
                patch.shift_remove(DIRECTIVE_MARKER);
                Ok(clean_map(patch, None))
            }
            Some(DELETE_DIRECTIVE) => Ok(JsonMap::new()),
            _ => Err(err_bad_patch_type(directive, &patch)),
        };
    }

    apply_retain_keys_directive(&mut original, &mut patch)?;
    merge_set_element_order_lists(&mut original, &mut patch, schema)?;

    for (key, patch_value) in patch {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?, true)
        } else {
            (key, false)
        };

        if patch_value.is_null() {
            original.shift_remove(&key);
            continue;
        }

        let Some(original_value) = original.get_mut(&key) else {
            if !is_delete_list && let Some(v) = clean(patch_value) {
                original.insert(key, v);
            }
            continue;
        };

        let mut remove = false;
        match (original_value, patch_value) {
            (Value::Object(o), Value::Object(p)) => {
                let field = lookup(schema, &key);
                *o = if strategy_of(field) == Strategy::Replace {
                    clean_map(p, None)
                } else {
                    merge_map(std::mem::take(o), p, schema_of(field))?
                };
            }
            (Value::Array(o), Value::Array(p)) => {
                let field = lookup(schema, &key);
                *o = merge_slice_handler(std::mem::take(o), p, field, is_delete_list)?;
            }
            (o, p) => {
                // A primitive of the same Go type is replaced even by a deletion list, as in
                // Kubernetes; a value of another type only by a regular key.
                if go_type(o) == go_type(&p) || !is_delete_list {
                    match clean(p) {
                        Some(v) => *o = v,
                        None => remove = true,
                    }
                }
            }
        }
        if remove {
            original.shift_remove(&key);
        }
    }
    Ok(original)
}

/// `applyRetainKeysDirective`: clears the keys of `original` that `$retainKeys` omits, after
/// checking that every non-null key of the patch is listed.
fn apply_retain_keys_directive(original: &mut JsonMap, patch: &mut JsonMap) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(malformed(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
    };
    let retained = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(k) {
            return Err(malformed(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// `extractKey`: the list name after `<prefix>/`.
fn extract_key(key: &str, prefix: &str) -> Result<String, PatchError> {
    match key.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
            Err(malformed(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST))
        }
        _ => Err(malformed(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)),
    }
}

/// `mergePatchIntoOriginal`: merges each list that has a `$setElementOrder/<list>` directive
/// and orders it by the directive (then patch order, then live order).
fn merge_set_element_order_lists(
    original: &mut JsonMap,
    patch: &mut JsonMap,
    schema: Schema,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for key in keys {
        let Some(set_order) = patch.shift_remove(&key) else {
            continue;
        };
        let Value::Array(set_order) = set_order else {
            return Err(err_bad_arg_type(SLICE_TYPE, &set_order));
        };
        let original_key = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
        let original_list = match original.get(&original_key) {
            None => None,
            Some(Value::Array(list)) => Some(list.clone()),
            Some(other) => return Err(err_bad_arg_type(SLICE_TYPE, other)),
        };
        let patch_list = match patch.get(&original_key) {
            None => None,
            Some(Value::Array(list)) => Some(list.clone()),
            Some(other) => return Err(err_bad_arg_type(SLICE_TYPE, other)),
        };
        let field = lookup(schema, &original_key);
        let merge_key = merge_key_of(field);
        validate_patch_with_set_order_list(patch_list.as_deref().unwrap_or_default(), &set_order, merge_key)?;

        let merged = match (&original_list, &patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => clean_elements(p.clone(), merge_key),
            (Some(o), Some(p)) => merge_slice_handler(o.clone(), p.clone(), field, false)?,
            (None, None) => continue,
        };

        let (patch_items, server_only) = partition(merged, &set_order, merge_key)?;
        let original_list = original_list.unwrap_or_default();
        let patch_list = patch_list.unwrap_or_default();
        let kind = slice_element_type(&[&original_list, &patch_list])?;
        let server_order = if kind == GoType::Map
            && !merge_key.is_empty()
            && strategy_of(field) == Strategy::Merge
            && !original_list.is_empty()
        {
            live_list_after_in_place_merge(&original_list, &patch_list, merge_key)
        } else {
            original_list
        };
        let both = normalize_element_order(
            patch_items,
            server_only,
            &set_order,
            &server_order,
            merge_key,
            kind,
        )?;
        original.insert(original_key.clone(), Value::Array(both));
        patch.shift_remove(&original_key);
    }
    Ok(())
}

/// What Kubernetes' `mergePatchIntoOriginal` sees as the live list once `mergeSlice` has run.
///
/// `mergeSlice` deletes (`append(l[:i], l[i+1:]...)`) and appends in place on the Go backing
/// array of the live list, and the final ordering step then reads the live list's original
/// length over that array: the surviving elements shifted left, then the first appended
/// elements (or stale copies where fewer were appended than deleted). The result does not
/// depend on the array's capacity. Kubernetes' own tests rely on it: with live `[1, 4]` and
/// a patch deleting 1 and adding 2 and 3, server-only 4 stays first (`[4, 2, 3]`).
fn live_list_after_in_place_merge(live: &[Value], patch: &[Value], merge_key: &str) -> Vec<Value> {
    let n = live.len();
    let mut array: Vec<Value> = live.to_vec();
    let mut len = n;
    let matches = |e: &Value, key: &Value| e.as_object().and_then(|m| m.get(merge_key)) == Some(key);
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else { continue };
        match m.get(DIRECTIVE_MARKER).and_then(Value::as_str) {
            Some(DELETE_DIRECTIVE) => {
                let Some(key) = m.get(merge_key) else { continue };
                while let Some(i) = array[..len].iter().position(|e| matches(e, key)) {
                    for j in i..len - 1 {
                        array[j] = array[j + 1].clone();
                    }
                    len -= 1;
                }
            }
            Some(_) => replace = true,
            None => {}
        }
    }
    if !replace {
        for v in patch {
            let Some(m) = v.as_object() else { continue };
            if m.contains_key(DIRECTIVE_MARKER) {
                continue;
            }
            let Some(key) = m.get(merge_key) else { continue };
            if array[..len].iter().any(|e| matches(e, key)) {
                continue;
            }
            if len < array.len() {
                array[len] = v.clone();
            } else {
                array.push(v.clone());
            }
            len += 1;
        }
    }
    array.truncate(n);
    array
}

/// `validatePatchWithSetOrderList`: the patch list's elements (deletions aside) must appear
/// in the `$setElementOrder` list, in the same relative order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    set_order: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if set_order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let mut kept = Vec::with_capacity(patch_list.len());
        for v in patch_list {
            let Value::Object(m) = v else {
                return Err(err_bad_arg_type(MAP_TYPE, v));
            };
            if !is_delete_element(m) {
                kept.push(v);
            }
        }
        kept
    };
    let (mut patch_index, mut set_order_index) = (0, 0);
    while patch_index < non_delete.len() && set_order_index < set_order.len() {
        if non_delete[patch_index]
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            patch_index += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[patch_index], &set_order[set_order_index], merge_key)? {
            patch_index += 1;
        }
        set_order_index += 1;
    }
    if patch_index < non_delete.len() && set_order_index >= set_order.len() {
        return Err(malformed(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            fmt_slice(patch_list),
            fmt_slice(set_order)
        )));
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let Value::Object(l) = left else {
        return Err(err_bad_arg_type(MAP_TYPE, left));
    };
    let Value::Object(r) = right else {
        return Err(err_bad_arg_type(MAP_TYPE, right));
    };
    let lk = l.get(merge_key).ok_or_else(|| err_no_merge_key(l, merge_key))?;
    let rk = r.get(merge_key).ok_or_else(|| err_no_merge_key(r, merge_key))?;
    Ok(lk == rk)
}

// ----- lists -----

/// `mergeSliceHandler`: merges the lists of a `merge` field (or a deletion list), replaces
/// any other list.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    field: Option<&'static PatchField>,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    let merge_key = merge_key_of(field);
    if strategy_of(field) == Strategy::Merge || is_delete_list {
        merge_slice(original, patch, field, is_delete_list)
    } else {
        Ok(clean_elements(patch, merge_key))
    }
}

/// `sliceElementType`: the common Go type of the elements of all `slices`.
fn slice_element_type(slices: &[&[Value]]) -> Result<GoType, PatchError> {
    let mut prev: Option<GoType> = None;
    for v in slices.iter().flat_map(|s| s.iter()) {
        let t = go_type(v);
        match prev {
            None if t == GoType::Slice => return Err(err_no_list_of_lists()),
            None => prev = Some(t),
            Some(p) if p != t => {
                let rendered: Vec<String> = slices.iter().map(|s| fmt_slice(s)).collect();
                return Err(malformed(format!(
                    "list element types are not identical: [{}]",
                    rendered.join(" ")
                )));
            }
            Some(_) => {}
        }
    }
    prev.ok_or_else(|| malformed("no elements in any of the given slices"))
}

/// `mergeSlice`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    field: Option<&'static PatchField>,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let merge_key = merge_key_of(field);
    let kind = slice_element_type(&[&original, &patch])?;

    let (original, patch, merged) = if kind != GoType::Map {
        if is_delete_list {
            return Ok(original.into_iter().filter(|v| !patch.contains(v)).collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (original, patch, go_compat::deduplicate_scalars(both))
    } else {
        if merge_key.is_empty() {
            // Kubernetes names the Go kind of the element type here.
            let of = if field.is_some_and(|f| f.strategy == Strategy::Merge) {
                "string"
            } else {
                "struct"
            };
            return Err(malformed(format!(
                "cannot merge lists without merge key for {of}"
            )));
        }
        let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
        let merged =
            merge_slice_without_special_elements(original.clone(), &patch, merge_key, schema_of(field))?;
        (original, patch, merged)
    };

    let (patch_items, server_only) = partition(merged, &patch, merge_key)?;
    normalize_element_order(patch_items, server_only, &patch, &original, merge_key, kind)
}

fn is_delete_element(m: &JsonMap) -> bool {
    m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE)
}

/// `mergeSliceWithSpecialElements`: applies `$patch: delete` elements to `original` and
/// `$patch: replace` (the list becomes the patch's other elements); returns the updated
/// original and the patch without special elements.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut without_special = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        let Value::Object(m) = &v else {
            return Err(err_bad_arg_type(MAP_TYPE, &v));
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            without_special.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let merge_value = m.get(merge_key).ok_or_else(|| err_no_merge_key(m, merge_key))?;
                original = delete_matching_entries(original, merge_key, merge_value)?;
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(malformed("merging lists cannot yet be specified in the patch"));
            }
            _ => return Err(err_bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((clean_elements(without_special, merge_key), Vec::new()))
    } else {
        Ok((original, without_special))
    }
}

/// `findMapInSliceBasedOnKeyValue`: index of the first map whose `key` equals `value`.
fn find_map_in_slice(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>, PatchError> {
    for (i, v) in list.iter().enumerate() {
        let Value::Object(m) = v else {
            return Err(malformed(format!("value for key {i} is not a map")));
        };
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `deleteMatchingEntries`: removes every element whose merge key equals `value`.
fn delete_matching_entries(
    mut original: Vec<Value>,
    key: &str,
    value: &Value,
) -> Result<Vec<Value>, PatchError> {
    while let Some(i) = find_map_in_slice(&original, key, value)? {
        original.remove(i);
    }
    Ok(original)
}

/// `mergeSliceWithoutSpecialElements`: merges each patch element into the live element with
/// the same merge key, or appends it.
fn merge_slice_without_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    schema: Schema,
) -> Result<Vec<Value>, PatchError> {
    for v in patch {
        let Value::Object(pm) = v else {
            return Err(err_bad_arg_type(MAP_TYPE, v));
        };
        let merge_value = pm.get(merge_key).ok_or_else(|| err_no_merge_key(pm, merge_key))?;
        match find_map_in_slice(&original, merge_key, merge_value)? {
            Some(i) => {
                let Value::Object(om) = std::mem::take(&mut original[i]) else {
                    return Err(malformed(format!("value for key {i} is not a map")));
                };
                original[i] = Value::Object(merge_map(om, pm.clone(), schema)?);
            }
            None => {
                if let Some(element) = clean_element(v.clone(), merge_key) {
                    original.push(element);
                }
            }
        }
    }
    Ok(original)
}

// ----- ordering -----

/// `partitionPrimitivesByPresentInList` / `partitionMapsByPresentInList`: splits `merged`
/// into the elements present in `partition_by` and the others, keeping order.
fn partition(
    merged: Vec<Value>,
    partition_by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let (mut present, mut absent) = (Vec::new(), Vec::new());
    for v in merged {
        let found = if merge_key.is_empty() {
            partition_by.contains(&v)
        } else {
            let Value::Object(m) = &v else {
                return Err(err_bad_arg_type(MAP_TYPE, &v));
            };
            let key_value = m.get(merge_key).ok_or_else(|| err_no_merge_key(m, merge_key))?;
            find_map_in_slice(partition_by, merge_key, key_value)?.is_some()
        };
        if found { present.push(v) } else { absent.push(v) }
    }
    Ok((present, absent))
}

/// `normalizeElementOrder`: sorts the patch items by `patch_order` and the server-only items
/// by `server_order`, then interleaves them.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>, PatchError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch_items,
        server_order,
        merge_key,
        kind,
    ))
}

/// `normalizeSliceOrder`: stable-sorts `to_sort` by position in `order` (Kubernetes'
/// comparator, including its treatment of elements missing from `order`), deletion
/// elements last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>, PatchError> {
    let (mut to_sort, to_delete) = if kind == GoType::Map {
        for v in to_sort.iter().chain(order) {
            let Value::Object(m) = v else {
                return Err(err_bad_arg_type(MAP_TYPE, v));
            };
            if !m.contains_key(merge_key) {
                return Err(err_no_merge_key(m, merge_key));
            }
        }
        to_sort
            .into_iter()
            .partition(|v| !v.as_object().is_some_and(is_delete_element))
    } else {
        (to_sort, Vec::new())
    };
    go_compat::slice_stable(&mut to_sort, |a, b| {
        match (index(order, a, merge_key, kind), index(order, b, merge_key, kind)) {
            (Some(ia), Some(ib)) => ia < ib,
            _ => true,
        }
    });
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// `mergeSortedSlice`: interleaves server-only items (`left`) into patch items (`right`),
/// a server-only item going first only when both are in `server_order` and it comes first.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index(server_order, l, merge_key, kind), index(server_order, r, merge_key, kind)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// `index`: position of `value` in `list`, comparing merge-key values for maps (a missing key
/// compares as `null`, as Go's `nil`) and whole values otherwise.
fn index(list: &[Value], value: &Value, merge_key: &str, kind: GoType) -> Option<usize> {
    if kind == GoType::Map {
        let wanted = merge_key_value(value, merge_key);
        list.iter().position(|v| merge_key_value(v, merge_key) == wanted)
    } else {
        list.iter().position(|v| v == value)
    }
}

/// The merge-key value of a list element, `null` when absent or not a map (Go's `nil`).
fn merge_key_value<'a>(v: &'a Value, merge_key: &str) -> &'a Value {
    static NIL: Value = Value::Null;
    v.as_object().and_then(|m| m.get(merge_key)).unwrap_or(&NIL)
}
