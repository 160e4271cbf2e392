//! What Kubernetes' request metrics call a request: the labels of `apiserver_request_total`
//! and `apiserver_request_duration_seconds` (verb, dry_run, group, version, resource,
//! subresource, scope), computed from the method, path, query and Content-Type alone, without
//! allocating: every label is a `&'static str` from the registry or from the fixed
//! vocabularies below.
//!
//! Kubernetes' rules (`k8s.io/apiserver/pkg/endpoints/metrics` and the installer's scope):
//! - scope is `resource` for a named object or a POST, `namespace` for a namespaced
//!   collection, `cluster` for cluster-wide collections (all namespaces included);
//! - verb is the upper-case method, with GET/HEAD reported as `LIST` outside the `resource`
//!   scope, `WATCH` when `watch` is set, `APPLY` for an apply patch, `CONNECT` for the
//!   `log`, `exec`, `portforward`, `attach` and `proxy` subresources, and `other` for
//!   unknown methods; create is `POST`, update `PUT`, delete and deletecollection `DELETE`;
//! - only resource requests (a served group, version and resource) are labelled; anything
//!   else is left out of these metrics, as Kubernetes leaves out non-resource paths and 404s
//!   of its router.

use berth_api::registry;
use http::Method;

/// The labels of one resource request, plus how the in-flight gauge counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestInfo {
    /// `GET`, `LIST`, `WATCH`, `POST`, `PUT`, `PATCH`, `APPLY`, `DELETE`, `CONNECT` or `other`.
    pub verb: &'static str,
    /// `""`, `All` or `invalid`.
    pub dry_run: &'static str,
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource.
    pub resource: &'static str,
    /// Subresource, or `""`.
    pub subresource: &'static str,
    /// `resource`, `namespace` or `cluster`.
    pub scope: &'static str,
    /// Watches and streaming subresources: excluded from the in-flight gauge and measured
    /// until their response body ends, as Kubernetes measures them until the handler returns.
    pub long_running: bool,
}

/// Subresources Kubernetes reports as `CONNECT`.
const CONNECT_SUBRESOURCES: [&str; 5] = ["log", "exec", "portforward", "attach", "proxy"];
/// Subresources Kubernetes treats as long-running (`LongRunningRequestCheck`).
const LONG_RUNNING_SUBRESOURCES: [&str; 5] = ["attach", "exec", "proxy", "log", "portforward"];
const MAX_SEGMENTS: usize = 9;

/// Whether a request counts as mutating in the in-flight gauge (`request_kind`).
pub(crate) fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Labels a request, or `None` when it is not a request for a served resource.
pub(crate) fn classify(
    method: &Method,
    path: &str,
    query: Option<&str>,
    content_type: Option<&[u8]>,
) -> Option<RequestInfo> {
    let mut segs = [""; MAX_SEGMENTS];
    let mut n = 0;
    for s in path.trim_end_matches('/').split('/').skip(1) {
        if n == MAX_SEGMENTS {
            return None;
        }
        segs[n] = s;
        n += 1;
    }
    let (group, version, rest) = match &segs[..n] {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    // (plural, namespace given, named, subresource)
    let (plural, namespaced_path, named, sub) = match rest {
        [plural] => (*plural, false, false, None),
        ["namespaces", _, x] if group.is_empty() && matches!(*x, "status" | "finalize") => {
            ("namespaces", false, true, Some(*x))
        }
        ["namespaces", _, plural] => (*plural, true, false, None),
        ["namespaces", _, plural, _] => (*plural, true, true, None),
        ["namespaces", _, plural, _, sub] => (*plural, true, true, Some(*sub)),
        [plural, _] => (*plural, false, true, None),
        [plural, _, sub] => (*plural, false, true, Some(*sub)),
        _ => return None,
    };
    let rt = registry::lookup(group, version, plural)?;
    if namespaced_path && !rt.namespaced || !namespaced_path && named && rt.namespaced {
        return None;
    }
    let subresource = match sub {
        None => "",
        Some(s) => rt.subresources.iter().copied().find(|x| *x == s)?,
    };
    let scope = if named || *method == Method::POST {
        "resource"
    } else if namespaced_path {
        "namespace"
    } else {
        "cluster"
    };
    let watch = matches!(*method, Method::GET | Method::HEAD) && query.is_some_and(wants_watch);
    let mut verb = match *method {
        Method::GET | Method::HEAD if watch => "WATCH",
        Method::GET | Method::HEAD if scope == "resource" => "GET",
        Method::GET | Method::HEAD => "LIST",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH if content_type == Some(b"application/apply-patch+yaml") => "APPLY",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    };
    if CONNECT_SUBRESOURCES.contains(&subresource) {
        verb = "CONNECT";
    }
    Some(RequestInfo {
        verb,
        dry_run: query.map_or("", dry_run),
        group: rt.group,
        version: rt.version,
        resource: rt.plural,
        subresource,
        scope,
        long_running: watch || LONG_RUNNING_SUBRESOURCES.contains(&subresource),
    })
}

/// Kubernetes' `getVerbIfWatch`: the first `watch` value, unless `0` or `false`.
fn wants_watch(query: &str) -> bool {
    if !query.contains("watch") {
        return false;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "watch")
        .is_some_and(|(_, v)| !v.eq_ignore_ascii_case("0") && !v.eq_ignore_ascii_case("false"))
}

/// Kubernetes' `cleanDryRun`: `""` without the parameter, `All` when every value is `All`
/// (the only valid value), `invalid` otherwise.
fn dry_run(query: &str) -> &'static str {
    if !query.contains("dryRun") {
        return "";
    }
    let mut any = false;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k == "dryRun" {
            if v != "All" {
                return "invalid";
            }
            any = true;
        }
    }
    if any { "All" } else { "" }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn info(method: &str, uri: &str) -> Option<RequestInfo> {
        let (path, query) = uri.split_once('?').map_or((uri, None), |(p, q)| (p, Some(q)));
        classify(&Method::from_bytes(method.as_bytes()).unwrap(), path, query, None)
    }

    fn labels(method: &str, uri: &str) -> (&'static str, &'static str, &'static str, &'static str) {
        let i = info(method, uri).unwrap_or_else(|| panic!("{method} {uri} unlabelled"));
        (i.verb, i.resource, i.subresource, i.scope)
    }

    #[test]
    fn verbs_and_scopes_follow_kubernetes() {
        let pods = "/api/v1/namespaces/default/pods";
        assert_eq!(labels("GET", pods), ("LIST", "pods", "", "namespace"));
        assert_eq!(labels("GET", "/api/v1/pods"), ("LIST", "pods", "", "cluster"));
        assert_eq!(
            labels("GET", &format!("{pods}/web-0")),
            ("GET", "pods", "", "resource")
        );
        assert_eq!(
            labels("HEAD", &format!("{pods}/web-0")),
            ("GET", "pods", "", "resource")
        );
        assert_eq!(labels("POST", pods), ("POST", "pods", "", "resource"));
        assert_eq!(
            labels("PUT", &format!("{pods}/a")),
            ("PUT", "pods", "", "resource")
        );
        assert_eq!(
            labels("PATCH", &format!("{pods}/a")),
            ("PATCH", "pods", "", "resource")
        );
        assert_eq!(
            labels("DELETE", &format!("{pods}/a")),
            ("DELETE", "pods", "", "resource")
        );
        assert_eq!(labels("DELETE", pods), ("DELETE", "pods", "", "namespace"));
        assert_eq!(labels("OPTIONS", pods), ("other", "pods", "", "namespace"));
        assert_eq!(labels("GET", "/api/v1/nodes"), ("LIST", "nodes", "", "cluster"));
        assert_eq!(
            labels("GET", "/api/v1/nodes/n1"),
            ("GET", "nodes", "", "resource")
        );
        assert_eq!(labels("POST", "/api/v1/nodes"), ("POST", "nodes", "", "resource"));
    }

    #[test]
    fn watches_applies_and_connects() {
        let pods = "/api/v1/namespaces/default/pods";
        let w = info("GET", &format!("{pods}?watch=true&resourceVersion=1")).unwrap();
        assert_eq!((w.verb, w.scope, w.long_running), ("WATCH", "namespace", true));
        assert_eq!(labels("GET", &format!("{pods}?watch=1")).0, "WATCH");
        assert_eq!(labels("GET", &format!("{pods}?watch=false")).0, "LIST");
        assert_eq!(labels("GET", &format!("{pods}?watch=0")).0, "LIST");
        assert!(!info("GET", pods).unwrap().long_running);
        let apply = classify(
            &Method::PATCH,
            &format!("{pods}/a"),
            None,
            Some(b"application/apply-patch+yaml"),
        );
        assert_eq!(apply.map(|i| i.verb), Some("APPLY"));
        for sub in ["exec", "attach", "portforward", "log"] {
            let i = info("GET", &format!("{pods}/a/{sub}")).unwrap();
            assert_eq!((i.verb, i.subresource, i.long_running), ("CONNECT", sub, true));
        }
        assert_eq!(
            labels("PUT", &format!("{pods}/a/status")),
            ("PUT", "pods", "status", "resource")
        );
    }

    #[test]
    fn groups_versions_and_namespace_subresources() {
        let i = info("GET", "/apis/apps/v1/namespaces/default/statefulsets/web/scale").unwrap();
        assert_eq!(
            (i.group, i.version, i.resource, i.subresource, i.scope),
            ("apps", "v1", "statefulsets", "scale", "resource")
        );
        let i = info("PUT", "/api/v1/namespaces/foo/finalize").unwrap();
        assert_eq!(
            (i.resource, i.subresource, i.scope),
            ("namespaces", "finalize", "resource")
        );
        assert_eq!(
            labels("GET", "/api/v1/namespaces/foo"),
            ("GET", "namespaces", "", "resource")
        );
        assert_eq!(
            labels("GET", "/api/v1/namespaces"),
            ("LIST", "namespaces", "", "cluster")
        );
    }

    #[test]
    fn dry_run_values() {
        let pods = "/api/v1/namespaces/default/pods";
        assert_eq!(info("POST", pods).unwrap().dry_run, "");
        assert_eq!(
            info("POST", &format!("{pods}?dryRun=All")).unwrap().dry_run,
            "All"
        );
        assert_eq!(
            info("POST", &format!("{pods}?dryRun=All&dryRun=All"))
                .unwrap()
                .dry_run,
            "All"
        );
        assert_eq!(
            info("POST", &format!("{pods}?dryRun=Some")).unwrap().dry_run,
            "invalid"
        );
    }

    #[test]
    fn non_resource_and_unknown_paths_are_not_labelled() {
        for p in [
            "/api",
            "/apis",
            "/api/v1",
            "/apis/apps/v1",
            "/apis/apps",
            "/version",
            "/healthz",
            "/metrics",
            "/api/v1/nothings",
            "/api/v2/pods",
            "/api/v1/namespaces/default/nodes",
            "/api/v1/pods/x",
            "/api/v1/namespaces/default/pods/x/nope",
            "/api/v1/namespaces/default/pods/x/exec/extra",
            "/a/b/c/d/e/f/g/h/i/j/k",
        ] {
            assert_eq!(info("GET", p), None, "{p}");
        }
    }

    #[test]
    fn mutating_kinds() {
        assert!(!is_mutating(&Method::GET));
        assert!(!is_mutating(&Method::HEAD));
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_mutating(&m), "{m}");
        }
    }
}
