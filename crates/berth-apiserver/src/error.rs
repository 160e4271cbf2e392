//! Rendering of `berth_api::status::ApiError` as an HTTP response carrying a `metav1.Status`.

use axum::response::{IntoResponse, Response};
use berth_api::status::ApiError;
use berth_store::StoreError;
use http::{HeaderValue, StatusCode, header};

/// A handler failure: an `ApiError` that renders as `Status` JSON.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) ApiError);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        status_response(&self.0)
    }
}

/// The response for an error.
pub(crate) fn status_response(e: &ApiError) -> Response {
    let body = serde_json::to_vec(&e.to_status()).unwrap_or_default();
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (code, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Handler result.
pub(crate) type ApiResult<T = Response> = Result<T, Failure>;

/// Maps a store failure that the caller did not handle specifically.
pub(crate) fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::Compacted { requested, oldest } => Failure(ApiError::expired(format!(
            "too old resource version: {requested} ({oldest})"
        ))),
        StoreError::FutureRevision { .. } => Failure(ApiError::timeout("Too large resource version")),
        other => Failure(ApiError::internal(other)),
    }
}
