//! The pod's own `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`, written as the kubelet
//! writes them (`pkg/kubelet/kubelet_pods.go` managedHostsFileContent, and the DNS
//! configurer's `ClusterFirst` policy).

use k8s_openapi::api::core::v1::Pod;

/// The cluster's DNS domain.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The pod's hostname and, with a subdomain, its fully qualified name.
pub fn hostname(pod: &Pod) -> (String, Option<String>) {
    let spec = pod.spec.as_ref();
    let name = spec
        .and_then(|s| s.hostname.clone())
        .filter(|h| !h.is_empty())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    // Kubernetes truncates hostnames to 63 characters.
    let name: String = name.chars().take(63).collect();
    let name = name.trim_end_matches(['-', '.']).to_string();
    let fqdn = spec
        .and_then(|s| s.subdomain.as_deref())
        .filter(|s| !s.is_empty())
        .map(|sub| {
            format!(
                "{name}.{sub}.{}.svc.{CLUSTER_DOMAIN}",
                pod.metadata.namespace.as_deref().unwrap_or("default")
            )
        });
    (name, fqdn)
}

/// `/etc/hosts`.
pub fn hosts(pod: &Pod, pod_ip: &str) -> String {
    let (name, fqdn) = hostname(pod);
    let mut out = String::from(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n",
    );
    match fqdn {
        Some(fqdn) => out.push_str(&format!("{pod_ip}\t{fqdn}\t{name}\n")),
        None => out.push_str(&format!("{pod_ip}\t{name}\n")),
    }
    let aliases = pod.spec.as_ref().and_then(|s| s.host_aliases.as_ref());
    if let Some(aliases) = aliases.filter(|a| !a.is_empty()) {
        out.push_str("\n# Entries added by HostAliases.\n");
        for a in aliases {
            let names = a.hostnames.clone().unwrap_or_default().join("\t");
            out.push_str(&format!("{}\t{names}\n", a.ip));
        }
    }
    out
}

/// `/etc/resolv.conf` for the `ClusterFirst` DNS policy (and `dnsConfig`).
pub fn resolv_conf(pod: &Pod, nameserver: &str) -> String {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let spec = pod.spec.as_ref();
    let policy = spec
        .and_then(|s| s.dns_policy.as_deref())
        .unwrap_or("ClusterFirst");
    let config = spec.and_then(|s| s.dns_config.as_ref());
    let mut servers: Vec<String> = Vec::new();
    let mut searches: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    if policy != "None" {
        servers.push(nameserver.to_string());
        searches = vec![
            format!("{ns}.svc.{CLUSTER_DOMAIN}"),
            format!("svc.{CLUSTER_DOMAIN}"),
            CLUSTER_DOMAIN.to_string(),
        ];
        options.push("ndots:5".into());
    }
    if let Some(c) = config {
        servers.extend(c.nameservers.clone().unwrap_or_default());
        searches.extend(c.searches.clone().unwrap_or_default());
        for o in c.options.clone().unwrap_or_default() {
            let rendered = match o.value {
                Some(v) => format!("{}:{v}", o.name.unwrap_or_default()),
                None => o.name.unwrap_or_default(),
            };
            let key = rendered.split(':').next().unwrap_or("").to_string();
            options.retain(|existing| existing.split(':').next() != Some(key.as_str()));
            options.push(rendered);
        }
    }
    let mut out = String::new();
    if !searches.is_empty() {
        out.push_str(&format!("search {}\n", searches.join(" ")));
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "web-0", "namespace": "prod"}, "spec": spec}))
            .expect("pod")
    }

    #[test]
    fn a_statefulset_pod_gets_its_fqdn_in_etc_hosts() {
        let p = pod(json!({"containers": [], "hostname": "web-0", "subdomain": "web"}));
        let hosts = hosts(&p, "10.244.1.5");
        assert!(hosts.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
        assert!(hosts.ends_with("10.244.1.5\tweb-0.web.prod.svc.cluster.local\tweb-0\n"));
    }

    #[test]
    fn a_plain_pod_is_known_by_its_name() {
        let p = pod(json!({"containers": []}));
        assert!(hosts(&p, "10.244.1.6").ends_with("10.244.1.6\tweb-0\n"));
        assert_eq!(hostname(&p), ("web-0".to_string(), None));
    }

    #[test]
    fn cluster_first_searches_the_namespace_first() {
        let p = pod(json!({"containers": []}));
        assert_eq!(
            resolv_conf(&p, "10.96.0.10"),
            "search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
        );
    }

    #[test]
    fn dns_config_adds_servers_and_overrides_options() {
        let p = pod(json!({"containers": [], "dnsConfig": {
            "nameservers": ["1.2.3.4"], "searches": ["example.com"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}}));
        assert_eq!(
            resolv_conf(&p, "10.96.0.10"),
            "search prod.svc.cluster.local svc.cluster.local cluster.local example.com\nnameserver 10.96.0.10\nnameserver 1.2.3.4\noptions ndots:2 edns0\n"
        );
    }

    #[test]
    fn dns_policy_none_uses_only_dns_config() {
        let p =
            pod(json!({"containers": [], "dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"]}}));
        assert_eq!(resolv_conf(&p, "10.96.0.10"), "nameserver 1.1.1.1\n");
    }
}
