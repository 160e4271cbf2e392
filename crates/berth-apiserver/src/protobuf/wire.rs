//! The building blocks of the generated converters in `types.rs`: an object builder that
//! applies Go's `encoding/json` rules (zero values, `omitempty`, nil slices and maps as
//! `null`), and the hand-written converters for the apimachinery types with custom JSON
//! forms (`Time`, `MicroTime`, `Quantity`, `IntOrString`, `RawExtension`, `FieldsV1`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use berth_api::status::ApiError;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{FieldsV1, MicroTime, Time};
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What every converter returns.
pub(super) type R = Result<Value, ApiError>;

/// Decodes an object's protobuf bytes and converts it to JSON.
pub(super) type Decoder = fn(&[u8]) -> R;

/// Decodes `raw` as the prost message `T` and converts it with `f`.
pub(super) fn decode_with<T: prost::Message + Default>(raw: &[u8], f: fn(&T) -> R) -> R {
    let msg = T::decode(raw)
        .map_err(|e| ApiError::bad_request(format!("unable to decode the protobuf object: {e}")))?;
    f(&msg)
}

/// A protobuf scalar as Go holds it: its zero value is what an absent field decodes to.
pub(super) trait Scalar: Clone + Default + PartialEq {
    /// The JSON form.
    fn to_json(&self) -> Value;
}

impl Scalar for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Scalar for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Scalar for i32 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl Scalar for i64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl Scalar for f64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

/// A JSON object under construction, fields in Go's struct order.
#[derive(Default)]
pub(super) struct Obj(Map<String, Value>);

impl Obj {
    /// The finished object.
    pub(super) fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    fn set(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_string(), value);
    }

    /// A non-pointer scalar: an unset field is Go's zero value, which `omitempty` drops.
    pub(super) fn scalar<T: Scalar>(&mut self, key: &str, v: &Option<T>, omitempty: bool) {
        let zero = T::default();
        let v = v.as_ref().unwrap_or(&zero);
        if !(omitempty && *v == zero) {
            self.set(key, v.to_json());
        }
    }

    /// A pointer scalar: written when set, even to its zero value; nil is `null` unless
    /// `omitempty`.
    pub(super) fn ptr<T: Scalar>(&mut self, key: &str, v: &Option<T>, omitempty: bool) {
        match v {
            Some(v) => self.set(key, v.to_json()),
            None if !omitempty => self.set(key, Value::Null),
            None => {}
        }
    }

    /// A `[]byte`, base64-encoded; nil is `null` unless `omitempty`.
    #[allow(dead_code)] // none of the current root kinds has a plain []byte field
    pub(super) fn bytes(&mut self, key: &str, v: &Option<Vec<u8>>, omitempty: bool) {
        match v {
            Some(b) if !(omitempty && b.is_empty()) => self.set(key, Value::String(BASE64.encode(b))),
            None if !omitempty => self.set(key, Value::Null),
            _ => {}
        }
    }

    /// A slice of scalars; an empty one decodes to nil, `null` unless `omitempty`.
    pub(super) fn list<T: Scalar>(&mut self, key: &str, v: &[T], omitempty: bool) {
        if !(omitempty && v.is_empty()) {
            self.set(key, list_or_null(v));
        }
    }

    /// A slice of messages.
    pub(super) fn list_with<T>(
        &mut self,
        key: &str,
        v: &[T],
        f: fn(&T) -> R,
        omitempty: bool,
    ) -> Result<(), ApiError> {
        if v.is_empty() {
            if !omitempty {
                self.set(key, Value::Null);
            }
            return Ok(());
        }
        let items = v.iter().map(f).collect::<Result<Vec<_>, _>>()?;
        self.set(key, Value::Array(items));
        Ok(())
    }

    /// A `map[string]string`.
    pub(super) fn str_map(&mut self, key: &str, v: &BTreeMap<String, String>, omitempty: bool) {
        self.map_of(key, v, omitempty, |s| Value::String(s.clone()));
    }

    /// A `map[string][]byte`, values base64-encoded.
    pub(super) fn bytes_map(&mut self, key: &str, v: &BTreeMap<String, Vec<u8>>, omitempty: bool) {
        self.map_of(key, v, omitempty, |b| Value::String(BASE64.encode(b)));
    }

    fn map_of<T>(&mut self, key: &str, v: &BTreeMap<String, T>, omitempty: bool, f: impl Fn(&T) -> Value) {
        if v.is_empty() {
            if !omitempty {
                self.set(key, Value::Null);
            }
            return;
        }
        self.set(
            key,
            Value::Object(v.iter().map(|(k, x)| (k.clone(), f(x))).collect()),
        );
    }

    /// A map of messages.
    pub(super) fn map_with<T>(
        &mut self,
        key: &str,
        v: &BTreeMap<String, T>,
        f: fn(&T) -> R,
        omitempty: bool,
    ) -> Result<(), ApiError> {
        if v.is_empty() {
            if !omitempty {
                self.set(key, Value::Null);
            }
            return Ok(());
        }
        let mut out = Map::new();
        for (k, x) in v {
            out.insert(k.clone(), f(x)?);
        }
        self.set(key, Value::Object(out));
        Ok(())
    }

    /// A non-pointer struct: always written (`omitempty` never drops structs), zero if unset.
    pub(super) fn msg<T: Default>(
        &mut self,
        key: &str,
        v: Option<&T>,
        f: fn(&T) -> R,
    ) -> Result<(), ApiError> {
        let value = with_default(v, f)?;
        self.set(key, value);
        Ok(())
    }

    /// A non-pointer `Time` tagged `omitzero`: dropped when zero (which converts to `null`).
    pub(super) fn msg_omitzero<T: Default>(
        &mut self,
        key: &str,
        v: Option<&T>,
        f: fn(&T) -> R,
    ) -> Result<(), ApiError> {
        let value = with_default(v, f)?;
        if !value.is_null() {
            self.set(key, value);
        }
        Ok(())
    }

    /// A pointer struct: written when set; nil is `null` unless `omitempty`.
    pub(super) fn opt_msg<T>(
        &mut self,
        key: &str,
        v: Option<&T>,
        f: fn(&T) -> R,
        omitempty: bool,
    ) -> Result<(), ApiError> {
        match v {
            Some(v) => {
                let value = f(v)?;
                self.set(key, value);
            }
            None if !omitempty => self.set(key, Value::Null),
            None => {}
        }
        Ok(())
    }

    /// An embedded struct without a JSON name: its fields are written in place.
    pub(super) fn inline<T: Default>(&mut self, v: Option<&T>, f: fn(&T) -> R) -> Result<(), ApiError> {
        if let Value::Object(fields) = with_default(v, f)? {
            self.0.extend(fields);
        }
        Ok(())
    }
}

fn with_default<T: Default>(v: Option<&T>, f: fn(&T) -> R) -> R {
    match v {
        Some(v) => f(v),
        None => f(&T::default()),
    }
}

/// A Go slice of scalars: an empty (nil) one is `null`.
pub(super) fn list_or_null<T: Scalar>(v: &[T]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Array(v.iter().map(Scalar::to_json).collect())
    }
}

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch: Go's zero `time.Time`.
const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// `metav1.Time`: RFC 3339 in UTC, whole seconds (the decoder drops nanos); zero is `null`.
pub(super) fn time(t: &Time) -> R {
    if t.seconds.is_none() && t.nanos.is_none() {
        return Ok(Value::Null);
    }
    let secs = t.seconds.unwrap_or(0);
    if secs == GO_ZERO_TIME_UNIX {
        return Ok(Value::Null);
    }
    Ok(Value::String(format!("{}Z", civil(secs)?)))
}

/// `metav1.MicroTime`: RFC 3339 in UTC with six fractional digits; zero is `null`.
pub(super) fn micro_time(t: &MicroTime) -> R {
    if t.seconds.is_none() && t.nanos.is_none() {
        return Ok(Value::Null);
    }
    let nanos = t.nanos.unwrap_or(0);
    let nanos = i64::from(nanos - nanos % 1000);
    let secs = t
        .seconds
        .unwrap_or(0)
        .checked_add(nanos.div_euclid(1_000_000_000))
        .ok_or_else(|| out_of_range(t.seconds.unwrap_or(0)))?;
    let frac = nanos.rem_euclid(1_000_000_000);
    if secs == GO_ZERO_TIME_UNIX && frac == 0 {
        return Ok(Value::Null);
    }
    Ok(Value::String(format!("{}.{:06}Z", civil(secs)?, frac / 1000)))
}

fn out_of_range(secs: i64) -> ApiError {
    ApiError::bad_request(format!(
        "unable to decode the protobuf object: the time {secs}s after the Unix epoch is outside years 0-9999"
    ))
}

/// `YYYY-MM-DDTHH:MM:SS` for Unix seconds, years 0 to 9999.
fn civil(secs: i64) -> Result<String, ApiError> {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return Err(out_of_range(secs));
    }
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    ))
}

/// `resource.Quantity`: its canonical string, as the client wrote it; unset is `"0"`.
pub(super) fn quantity(q: &Quantity) -> R {
    match q.string.as_deref() {
        None => Ok(Value::String("0".to_string())),
        Some("") => Err(ApiError::bad_request(
            "unable to decode the protobuf object: quantities must match the regular expression \
             '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        )),
        Some(s) => Ok(Value::String(s.to_string())),
    }
}

/// `intstr.IntOrString`: the int or the string, per `type` (0 int, 1 string).
pub(super) fn int_or_string(v: &IntOrString) -> R {
    match v.r#type.unwrap_or(0) {
        0 => Ok(Value::from(v.int_val.unwrap_or(0))),
        1 => Ok(Value::String(v.str_val.clone().unwrap_or_default())),
        other => Err(ApiError::bad_request(format!(
            "unable to decode the protobuf object: impossible IntOrString.Type {other}"
        ))),
    }
}

/// `runtime.RawExtension`: the embedded JSON document; unset is `null`.
pub(super) fn raw_extension(v: &RawExtension) -> R {
    embedded_json(v.raw.as_deref(), "RawExtension")
}

/// `metav1.FieldsV1`: the embedded JSON document; unset is `null`.
pub(super) fn fields_v1(v: &FieldsV1) -> R {
    embedded_json(v.raw.as_deref(), "FieldsV1")
}

fn embedded_json(raw: Option<&[u8]>, what: &str) -> R {
    match raw {
        None => Ok(Value::Null),
        Some(raw) => serde_json::from_slice(raw).map_err(|e| {
            ApiError::bad_request(format!(
                "unable to decode the protobuf object: {what} does not hold a JSON document: {e}"
            ))
        }),
    }
}
