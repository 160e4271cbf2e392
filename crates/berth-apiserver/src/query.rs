//! The query parameters of API requests.

use berth_api::status::ApiError;
use std::time::Duration;

/// Parsed query parameters; unknown parameters are ignored, as Kubernetes does.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Query {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub field_validation: FieldValidation,
    pub force: bool,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: usize,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub watch: bool,
    pub allow_bookmarks: bool,
    pub timeout: Option<Duration>,
    pub send_initial_events: Option<bool>,
    pub include_object: Option<String>,
    pub propagation_policy: Option<String>,
    pub grace_period_seconds: Option<i64>,
    pub orphan_dependents: Option<bool>,
}

/// `fieldValidation`: what to do with unknown fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

fn truthy(v: &str) -> bool {
    matches!(v, "true" | "1" | "True" | "TRUE")
}

impl Query {
    /// Parses a raw query string.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut q = Query::default();
        let Some(raw) = raw else { return Ok(q) };
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.into_owned();
            match &*k {
                "dryRun" => {
                    if v != "All" {
                        return Err(ApiError::bad_request(format!(
                            "Invalid dry run value: {v}: supported values: \"All\""
                        )));
                    }
                    q.dry_run = true;
                }
                "fieldManager" => q.field_manager = Some(v),
                "fieldValidation" => {
                    q.field_validation = match v.as_str() {
                        "Ignore" => FieldValidation::Ignore,
                        "Warn" | "" => FieldValidation::Warn,
                        "Strict" => FieldValidation::Strict,
                        other => {
                            return Err(ApiError::bad_request(format!(
                                "fieldValidation {other} is invalid, valid values are: [Ignore Warn Strict]"
                            )));
                        }
                    }
                }
                "force" => q.force = truthy(&v),
                "labelSelector" if !v.is_empty() => q.label_selector = Some(v),
                "fieldSelector" if !v.is_empty() => q.field_selector = Some(v),
                "limit" => {
                    q.limit = v
                        .parse::<i64>()
                        .map(|n| n.max(0) as usize)
                        .map_err(|_| ApiError::bad_request(format!("invalid value for limit: {v:?}")))?
                }
                "continue" if !v.is_empty() => q.continue_token = Some(v),
                "resourceVersion" if !v.is_empty() => q.resource_version = Some(v),
                "resourceVersionMatch" if !v.is_empty() => q.resource_version_match = Some(v),
                "watch" => q.watch = truthy(&v),
                "allowWatchBookmarks" => q.allow_bookmarks = truthy(&v),
                "timeoutSeconds" => {
                    let secs = v.parse::<u64>().map_err(|_| {
                        ApiError::bad_request(format!("invalid value for timeoutSeconds: {v:?}"))
                    })?;
                    q.timeout = Some(Duration::from_secs(secs));
                }
                "sendInitialEvents" => q.send_initial_events = Some(truthy(&v)),
                "includeObject" => q.include_object = Some(v),
                "propagationPolicy" => q.propagation_policy = Some(v),
                "gracePeriodSeconds" => {
                    q.grace_period_seconds = Some(v.parse::<i64>().map_err(|_| {
                        ApiError::bad_request(format!("invalid value for gracePeriodSeconds: {v:?}"))
                    })?)
                }
                "orphanDependents" => q.orphan_dependents = Some(truthy(&v)),
                _ => {}
            }
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_apply_query() {
        let q = Query::parse(Some(
            "fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
        ))
        .expect("ok");
        assert_eq!(q.field_manager.as_deref(), Some("kubectl-client-side-apply"));
        assert_eq!(q.field_validation, FieldValidation::Strict);
    }

    #[test]
    fn watch_query() {
        let q = Query::parse(Some(
            "allowWatchBookmarks=true&fieldSelector=metadata.name%3Ddatabase&resourceVersion=12&timeoutSeconds=300&watch=true",
        ))
        .expect("ok");
        assert!(q.watch && q.allow_bookmarks);
        assert_eq!(q.field_selector.as_deref(), Some("metadata.name=database"));
        assert_eq!(q.timeout, Some(Duration::from_secs(300)));
    }

    #[test]
    fn bad_values_are_400() {
        assert_eq!(Query::parse(Some("dryRun=Some")).map_err(|e| e.code), Err(400));
        assert_eq!(
            Query::parse(Some("fieldValidation=Loud")).map_err(|e| e.code),
            Err(400)
        );
        assert_eq!(Query::parse(Some("limit=x")).map_err(|e| e.code), Err(400));
    }
}
