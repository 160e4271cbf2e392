//! A container's environment and command line, built the way the kubelet
//! (`makeEnvironmentVariables`, `ExpandContainerCommandAndArgs`) and containerd build them.
//!
//! Pure: the caller fetches the ConfigMaps and Secrets the pod references (see
//! [`referenced_objects`]) and passes them in with the pod's and node's addresses.
//!
//! Order of the result (the kubelet hands the runtime a Go map, so its own order is random;
//! Berth fixes one): containerd's base variables `PATH` (default) and `HOSTNAME` first, then
//! `envFrom` sources in order (keys sorted within a source), then `env` in declared order,
//! then the `kubernetes` service-link variables. A later definition of a name replaces the
//! earlier value in place, as containerd's `WithEnv` does.
//!
//! Deliberate differences from Kubernetes 1.32:
//! - only the `default/kubernetes` service's link variables are added (no other services of
//!   the namespace under `enableServiceLinks`);
//! - `$(HOSTNAME)` and `$(PATH)` in `command`/`args` expand here, because the runtime's
//!   variables are part of the list [`container_argv`] receives;
//! - Secret values that are not UTF-8 are converted lossily.

use k8s_openapi::api::core::v1::{
    ConfigMap, Container, EnvFromSource, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector,
    ResourceRequirements, Secret, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `PATH` the runtime sets when neither the image nor the container sets one (containerd's
/// default spec).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Cluster IP of the `default/kubernetes` service.
pub const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";
/// Port of the `default/kubernetes` service (named `https`, TCP).
pub const KUBERNETES_SERVICE_PORT: u16 = 443;

/// What a container's environment is built from, besides the pod itself.
pub struct EnvSources<'a> {
    /// ConfigMaps of the pod's namespace, by name (absent = not found).
    pub config_maps: &'a BTreeMap<String, ConfigMap>,
    /// Secrets of the pod's namespace, by name (absent = not found).
    pub secrets: &'a BTreeMap<String, Secret>,
    /// The pod's IP (`status.podIP`, `status.podIPs`).
    pub pod_ip: &'a str,
    /// The node's IP (`status.hostIP`, `status.hostIPs`).
    pub host_ip: &'a str,
    /// The node's allocatable resources: the limit a container without one reads through
    /// `resourceFieldRef`.
    pub node_allocatable: &'a BTreeMap<String, Quantity>,
}

/// Names in insertion order; setting an existing name replaces its value in place.
#[derive(Default)]
struct OrderedEnv {
    vars: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl OrderedEnv {
    fn set(&mut self, name: &str, value: String) {
        match self.index.get(name) {
            Some(&i) => self.vars[i].1 = value,
            None => {
                self.index.insert(name.to_string(), self.vars.len());
                self.vars.push((name.to_string(), value));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.index.get(name).map(|&i| self.vars[i].1.as_str())
    }
}

/// The container's environment in kubelet order, or the kubelet's CreateContainerConfigError message.
///
/// The error is what the kubelet puts in the container's `waiting.message` (reason
/// `CreateContainerConfigError`) and, prefixed with `Error: `, in its `Failed` event.
pub fn container_env(
    pod: &Pod,
    container: &Container,
    src: &EnvSources,
) -> Result<Vec<(String, String)>, String> {
    let kubelet = kubelet_env(pod, container, src)?;
    let mut env = OrderedEnv::default();
    env.set("PATH", DEFAULT_PATH.to_string());
    env.set("HOSTNAME", pod_hostname(pod));
    for (name, value) in kubelet {
        env.set(&name, value);
    }
    Ok(env.vars)
}

/// `makeEnvironmentVariables`: envFrom, env, then the service variables not overridden.
fn kubelet_env(pod: &Pod, container: &Container, src: &EnvSources) -> Result<Vec<(String, String)>, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let service_env = kubernetes_service_env();
    let mut tmp = OrderedEnv::default();
    for from in container.env_from.iter().flatten() {
        env_from(&mut tmp, from, src)?;
    }
    for var in container.env.iter().flatten() {
        if let Some(value) = env_value(pod, container, var, src, namespace, &tmp, &service_env)? {
            tmp.set(&var.name, value);
        }
    }
    let mut out = tmp.vars.clone();
    for (name, value) in service_env {
        if tmp.get(&name).is_none() {
            out.push((name, value));
        }
    }
    Ok(out)
}

/// One `envFrom` source into `tmp`; a missing optional object adds nothing.
fn env_from(tmp: &mut OrderedEnv, from: &EnvFromSource, src: &EnvSources) -> Result<(), String> {
    let prefix = from.prefix.as_deref().unwrap_or_default();
    if let Some(r) = &from.config_map_ref {
        let Some(cm) = src.config_maps.get(&r.name) else {
            return if r.optional == Some(true) {
                Ok(())
            } else {
                Err(config_map_not_found(&r.name))
            };
        };
        for (key, value) in cm.data.iter().flatten() {
            let name = format!("{prefix}{key}");
            if is_env_var_name(&name) {
                tmp.set(&name, value.clone());
            }
        }
    } else if let Some(r) = &from.secret_ref {
        let Some(secret) = src.secrets.get(&r.name) else {
            return if r.optional == Some(true) {
                Ok(())
            } else {
                Err(secret_not_found(&r.name))
            };
        };
        for (key, value) in secret.data.iter().flatten() {
            let name = format!("{prefix}{key}");
            if is_env_var_name(&name) {
                tmp.set(&name, String::from_utf8_lossy(&value.0).into_owned());
            }
        }
    }
    Ok(())
}

/// The value of one `env` entry; `None` when an optional source is missing (the variable is
/// then not set at all).
fn env_value(
    pod: &Pod,
    container: &Container,
    var: &EnvVar,
    src: &EnvSources,
    namespace: &str,
    tmp: &OrderedEnv,
    service_env: &[(String, String)],
) -> Result<Option<String>, String> {
    if let Some(value) = var.value.as_deref().filter(|v| !v.is_empty()) {
        let lookup = |name: &str| {
            tmp.get(name)
                .or_else(|| {
                    service_env
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.as_str())
                })
                .map(str::to_string)
        };
        return Ok(Some(expand(value, &lookup)));
    }
    let Some(from) = &var.value_from else {
        return Ok(Some(String::new()));
    };
    if let Some(fs) = &from.field_ref {
        return env_field_value(pod, fs, src).map(Some);
    }
    if let Some(fs) = &from.resource_field_ref {
        return resource_field_value(pod, Some(container), fs, src.node_allocatable).map(Some);
    }
    if let Some(sel) = &from.config_map_key_ref {
        let optional = sel.optional == Some(true);
        let Some(cm) = src.config_maps.get(&sel.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(config_map_not_found(&sel.name))
            };
        };
        return match cm.data.as_ref().and_then(|d| d.get(&sel.key)) {
            Some(v) => Ok(Some(v.clone())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in ConfigMap {namespace}/{}",
                sel.key, sel.name
            )),
        };
    }
    if let Some(sel) = &from.secret_key_ref {
        let optional = sel.optional == Some(true);
        let Some(secret) = src.secrets.get(&sel.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(secret_not_found(&sel.name))
            };
        };
        return match secret.data.as_ref().and_then(|d| d.get(&sel.key)) {
            Some(v) => Ok(Some(String::from_utf8_lossy(&v.0).into_owned())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in Secret {namespace}/{}",
                sel.key, sel.name
            )),
        };
    }
    Ok(Some(String::new()))
}

/// The kubelet's configmap manager's NotFound message.
pub(crate) fn config_map_not_found(name: &str) -> String {
    format!("configmap {} not found", go_quote(name))
}

/// The kubelet's secret manager's NotFound message.
pub(crate) fn secret_not_found(name: &str) -> String {
    format!("secret {} not found", go_quote(name))
}

/// Kubernetes' relaxed environment variable name rule (`IsRelaxedEnvVarName`): printable
/// ASCII except `=`. ConfigMap and Secret keys always pass; the check keeps a key that would
/// corrupt the environment block out of it.
fn is_env_var_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'=')
}

/// The variables the kubelet derives from the `default/kubernetes` service (`envvars.FromServices`),
/// added to every pod whatever its `enableServiceLinks`.
pub fn kubernetes_service_env() -> Vec<(String, String)> {
    let (ip, port) = (KUBERNETES_SERVICE_IP, KUBERNETES_SERVICE_PORT);
    let url = format!("tcp://{ip}:{port}");
    [
        ("KUBERNETES_SERVICE_HOST".to_string(), ip.to_string()),
        ("KUBERNETES_SERVICE_PORT".to_string(), port.to_string()),
        ("KUBERNETES_SERVICE_PORT_HTTPS".to_string(), port.to_string()),
        ("KUBERNETES_PORT".to_string(), url.clone()),
        (format!("KUBERNETES_PORT_{port}_TCP"), url),
        (format!("KUBERNETES_PORT_{port}_TCP_PROTO"), "tcp".to_string()),
        (format!("KUBERNETES_PORT_{port}_TCP_PORT"), port.to_string()),
        (format!("KUBERNETES_PORT_{port}_TCP_ADDR"), ip.to_string()),
    ]
    .into()
}

/// The pod's hostname as the kubelet gives it to the sandbox: `spec.hostname` or the pod's
/// name, cut to 63 characters without a trailing `-` or `.`; a `hostNetwork` pod has the
/// node's (taken to be `spec.nodeName`).
pub fn pod_hostname(pod: &Pod) -> String {
    let spec = pod.spec.as_ref();
    if spec.and_then(|s| s.host_network) == Some(true)
        && let Some(node) = spec
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty())
    {
        return node.to_string();
    }
    let name = spec
        .and_then(|s| s.hostname.as_deref())
        .filter(|h| !h.is_empty())
        .or(pod.metadata.name.as_deref())
        .unwrap_or_default();
    if name.len() <= 63 {
        return name.to_string();
    }
    let cut: String = name.chars().take(63).collect();
    cut.trim_end_matches(['-', '.']).to_string()
}

/// `command` + `args` with `$(VAR)` references expanded (Kubernetes' expansion rules, `$$` escapes).
///
/// An empty result means the container sets neither, and the image's entrypoint applies.
/// When only `args` is set, the result holds only the args (the caller prepends the image's
/// entrypoint).
pub fn container_argv(container: &Container, env: &[(String, String)]) -> Vec<String> {
    let map: HashMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let lookup = |name: &str| map.get(name).map(|v| v.to_string());
    container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .map(|s| expand(s, &lookup))
        .collect()
}

/// Kubernetes' `third_party/forked/golang/expansion.Expand`: `$(NAME)` is replaced by its
/// value when `lookup` knows it and kept verbatim otherwise; `$$` is a literal `$`; any other
/// `$` is kept.
pub(crate) fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.extend_from_slice(&bytes[checkpoint..cursor]);
            let advance = match bytes[cursor + 1] {
                b'$' => {
                    out.push(b'$');
                    1
                }
                b'(' => match bytes[cursor + 2..].iter().position(|&b| b == b')') {
                    Some(len) => {
                        let name = &input[cursor + 2..cursor + 2 + len];
                        match lookup(name) {
                            Some(value) => out.extend_from_slice(value.as_bytes()),
                            None => out.extend_from_slice(format!("$({name})").as_bytes()),
                        }
                        len + 2
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        1
                    }
                },
                other => {
                    out.extend_from_slice(&[b'$', other]);
                    1
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(&bytes[checkpoint.min(bytes.len())..]);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The names (configmaps, secrets) a pod's env/envFrom and volumes reference, so the caller knows what to fetch.
///
/// Covers init, regular and ephemeral containers, and configMap, secret and projected volumes.
pub fn referenced_objects(pod: &Pod) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut config_maps, mut secrets) = (BTreeSet::new(), BTreeSet::new());
    let Some(spec) = &pod.spec else {
        return (config_maps, secrets);
    };
    let containers = spec.init_containers.iter().flatten().chain(&spec.containers);
    let ephemeral = spec.ephemeral_containers.iter().flatten();
    let sources = containers
        .map(|c| (&c.env, &c.env_from))
        .chain(ephemeral.map(|c| (&c.env, &c.env_from)));
    for (env, env_from) in sources {
        for from in env_from.iter().flatten() {
            config_maps.extend(from.config_map_ref.as_ref().map(|r| r.name.clone()));
            secrets.extend(from.secret_ref.as_ref().map(|r| r.name.clone()));
        }
        for from in env.iter().flatten().filter_map(|v| v.value_from.as_ref()) {
            config_maps.extend(from.config_map_key_ref.as_ref().map(|r| r.name.clone()));
            secrets.extend(from.secret_key_ref.as_ref().map(|r| r.name.clone()));
        }
    }
    for volume in spec.volumes.iter().flatten() {
        volume_references(volume, &mut config_maps, &mut secrets);
    }
    (config_maps, secrets)
}

fn volume_references(volume: &Volume, config_maps: &mut BTreeSet<String>, secrets: &mut BTreeSet<String>) {
    config_maps.extend(volume.config_map.as_ref().map(|c| c.name.clone()));
    secrets.extend(volume.secret.as_ref().and_then(|s| s.secret_name.clone()));
    for source in volume.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
        config_maps.extend(source.config_map.as_ref().map(|c| c.name.clone()));
        secrets.extend(source.secret.as_ref().map(|s| s.name.clone()));
    }
}

/// `podFieldSelectorRuntimeValue`: a `fieldRef` of an environment variable.
fn env_field_value(pod: &Pod, fs: &ObjectFieldSelector, src: &EnvSources) -> Result<String, String> {
    let version = fs
        .api_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or("v1");
    if version != "v1" {
        return Err(format!("unsupported pod version: {version}"));
    }
    let path = convert_field_label(&fs.field_path)?;
    let spec = pod.spec.as_ref();
    Ok(match path {
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => src.host_ip.to_string(),
        "status.podIP" | "status.podIPs" => src.pod_ip.to_string(),
        other => return pod_metadata_field(pod, other),
    })
}

/// `ConvertDownwardAPIFieldLabel` for pods: the supported field paths (`spec.host` is the
/// old name of `spec.nodeName`).
fn convert_field_label(label: &str) -> Result<&str, String> {
    if let Some((path, _)) = split_subscript(label) {
        return match path {
            "metadata.annotations" | "metadata.labels" => Ok(label),
            _ => Err(format!("field label does not support subscript: {label}")),
        };
    }
    match label {
        "metadata.annotations"
        | "metadata.labels"
        | "metadata.name"
        | "metadata.namespace"
        | "metadata.uid"
        | "spec.nodeName"
        | "spec.restartPolicy"
        | "spec.serviceAccountName"
        | "spec.schedulerName"
        | "status.phase"
        | "status.hostIP"
        | "status.hostIPs"
        | "status.podIP"
        | "status.podIPs" => Ok(label),
        "spec.host" => Ok("spec.nodeName"),
        _ => Err(format!("field label not supported: {label}")),
    }
}

/// `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['k']` → (`metadata.labels`, `k`).
fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (head, key) = inner.split_once("['")?;
    (!head.is_empty()).then_some((head, key))
}

/// `fieldpath.ExtractFieldPathAsString` on a pod: the metadata fields a downward API file
/// or variable may name. A missing label or annotation reads as empty.
pub(crate) fn pod_metadata_field(pod: &Pod, path: &str) -> Result<String, String> {
    let meta = &pod.metadata;
    if let Some((head, key)) = split_subscript(path) {
        let map = match head {
            "metadata.annotations" => &meta.annotations,
            "metadata.labels" => &meta.labels,
            _ => return Err(format!("fieldPath {} does not support subscript", go_quote(path))),
        };
        return Ok(map.as_ref().and_then(|m| m.get(key)).cloned().unwrap_or_default());
    }
    Ok(match path {
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        _ => return Err(format!("unsupported fieldPath: {path}")),
    })
}

/// `fieldpath.FormatMap`: `key="value"` lines sorted by key, values quoted as Go's `%q`,
/// no trailing newline.
pub(crate) fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Go's `strconv.Quote` (`%q`): printable characters verbatim, `"` and `\` escaped, the
/// rest as `\n`-style, `\xNN`, `\uNNNN` or `\UNNNNNNNN` escapes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, approximated without Unicode category tables: space and every
/// character that is not a control, other whitespace, a common format character or private
/// use.
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    let format_or_private = matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xFFFE | 0xFFFF
        | 0xE0001 | 0xE0020..=0xE007F | 0xE000..=0xF8FF | 0xF0000..);
    !c.is_control() && !c.is_whitespace() && !format_or_private
}

/// `resourceFieldRef`: the named (or `own`) container's request or limit, limits it does
/// not set taken from the node's allocatable (`MergeContainerResourceLimits`), divided by
/// the divisor and rounded up.
pub(crate) fn resource_field_value(
    pod: &Pod,
    own: Option<&Container>,
    fs: &ResourceFieldSelector,
    node_allocatable: &BTreeMap<String, Quantity>,
) -> Result<String, String> {
    let named = fs.container_name.as_deref().filter(|n| !n.is_empty());
    // For a variable (`own` is set) the kubelet defaults the limits of the pod's regular
    // containers only (`defaultPodLimitsForDownwardAPI`); for a volume, of whichever it finds.
    let (container, merge) = match (named, own) {
        (None, Some(c)) => (c, true),
        (name, _) => {
            let name = name.unwrap_or_default();
            let c = find_container(pod, name).ok_or_else(|| format!("container {name} not found"))?;
            let regular = pod
                .spec
                .as_ref()
                .is_some_and(|s| s.containers.iter().any(|r| r.name == name));
            (c, own.is_none() || regular)
        }
    };
    let resources = container.resources.clone().unwrap_or_default();
    let limits = if merge {
        merged_limits(&resources, node_allocatable)?
    } else {
        resources.limits.clone().unwrap_or_default()
    };
    let requests = resources.requests.unwrap_or_default();
    container_resource_value(fs, &limits, &requests)
}

/// Containers first, then init containers (`findContainerInPod`).
fn find_container<'p>(pod: &'p Pod, name: &str) -> Option<&'p Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

/// The container's limits with cpu, memory and ephemeral-storage that are unset or zero
/// taken from the node's allocatable.
fn merged_limits(
    resources: &ResourceRequirements,
    allocatable: &BTreeMap<String, Quantity>,
) -> Result<BTreeMap<String, Quantity>, String> {
    let mut limits = resources.limits.clone().unwrap_or_default();
    for name in ["cpu", "memory", "ephemeral-storage"] {
        let unset = match limits.get(name) {
            None => true,
            Some(q) => parse_quantity(&q.0)?.mantissa == 0,
        };
        if unset && let Some(cap) = allocatable.get(name) {
            limits.insert(name.to_string(), cap.clone());
        }
    }
    Ok(limits)
}

/// `ExtractContainerResourceValue`.
fn container_resource_value(
    fs: &ResourceFieldSelector,
    limits: &BTreeMap<String, Quantity>,
    requests: &BTreeMap<String, Quantity>,
) -> Result<String, String> {
    let divisor = match &fs.divisor {
        Some(d) if parse_quantity(&d.0)?.mantissa != 0 => parse_quantity(&d.0)?,
        _ => parse_quantity("1")?,
    };
    let (list, resource) = if let Some(r) = fs.resource.strip_prefix("limits.") {
        (limits, r)
    } else if let Some(r) = fs.resource.strip_prefix("requests.") {
        (requests, r)
    } else {
        return Err(format!("Unsupported container resource : {}", fs.resource));
    };
    let scale = match resource {
        "cpu" => 3,
        "memory" | "ephemeral-storage" => 0,
        r if r.starts_with("hugepages-") => 0,
        _ => return Err(format!("Unsupported container resource : {}", fs.resource)),
    };
    let value = match list.get(resource) {
        Some(q) => parse_quantity(&q.0)?.scaled_ceil(scale),
        None => 0,
    };
    let divisor = divisor.scaled_ceil(scale);
    if divisor == 0 {
        return Err("divisor must not be zero".to_string());
    }
    let quotient = -((-value).div_euclid(divisor));
    Ok(i64::try_from(quotient)
        .unwrap_or(if quotient > 0 { i64::MAX } else { i64::MIN })
        .to_string())
}

/// A parsed resource quantity: `±mantissa × 10^exp10 × 2^exp2`.
struct ParsedQuantity {
    negative: bool,
    mantissa: u128,
    exp10: i32,
    exp2: u32,
}

impl ParsedQuantity {
    /// `ceil(q × 10^scale)`, as `Quantity.ScaledValue` rounds, saturating far beyond `i64`.
    fn scaled_ceil(&self, scale: i32) -> i128 {
        let magnitude = self.mantissa.checked_mul(1u128 << self.exp2);
        let e = self.exp10 + scale;
        let (floor, exact) = match magnitude {
            None => (u128::MAX >> 1, true),
            Some(m) if e >= 0 => {
                let p = 10u128.checked_pow(e.unsigned_abs());
                (p.and_then(|p| m.checked_mul(p)).unwrap_or(u128::MAX >> 1), true)
            }
            Some(m) => match 10u128.checked_pow(e.unsigned_abs()) {
                Some(d) => (m / d, m % d == 0),
                None => (0, m == 0),
            },
        };
        let floor = i128::try_from(floor.min(u128::MAX >> 1)).unwrap_or(i128::MAX);
        match (self.negative, exact) {
            (false, true) => floor,
            (false, false) => floor + 1,
            (true, _) => -floor,
        }
    }
}

/// Kubernetes' quantity syntax: a decimal number and a binary-SI, decimal-SI or exponent suffix.
fn parse_quantity(s: &str) -> Result<ParsedQuantity, String> {
    let wrong = || {
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            .to_string()
    };
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return Err(wrong());
    }
    let mut mantissa: u128 = 0;
    let mut exp10 = 0i32;
    for (i, d) in int.bytes().chain(frac.bytes()).enumerate() {
        let in_frac = i >= int.len();
        match mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(d - b'0')))
        {
            Some(m) => {
                mantissa = m;
                if in_frac {
                    exp10 -= 1;
                }
            }
            // Digits beyond u128's precision: drop fractional ones, count integral ones.
            None if !in_frac => exp10 += 1,
            None => {}
        }
    }
    let mut exp2 = 0;
    match suffix {
        "" => {}
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        "Ki" => exp2 = 10,
        "Mi" => exp2 = 20,
        "Gi" => exp2 = 30,
        "Ti" => exp2 = 40,
        "Pi" => exp2 = 50,
        "Ei" => exp2 = 60,
        s if s.starts_with(['e', 'E']) => {
            let digits = s[1..].trim_start_matches(['+', '-']);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(wrong());
            }
            let e: i32 = s[1..].parse().map_err(|_| wrong())?;
            exp10 = exp10.saturating_add(e);
        }
        _ => return Err(wrong()),
    }
    Ok(ParsedQuantity {
        negative: negative && mantissa != 0,
        mantissa,
        exp10,
        exp2,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    fn base_pod(containers: serde_json::Value) -> Pod {
        pod(json!({
            "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1",
                          "labels": {"app": "web", "tier": "front"},
                          "annotations": {"note": "say \"hi\"\n"}},
            "spec": {"nodeName": "node-a", "serviceAccountName": "builder", "containers": containers}
        }))
    }

    fn cm(data: serde_json::Value) -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": "x"}, "data": data})).unwrap()
    }

    fn secret(data: serde_json::Value) -> Secret {
        serde_json::from_value(json!({"metadata": {"name": "x"}, "data": data})).unwrap()
    }

    struct World {
        cms: BTreeMap<String, ConfigMap>,
        secrets: BTreeMap<String, Secret>,
        alloc: BTreeMap<String, Quantity>,
    }

    impl World {
        fn new() -> Self {
            let mut cms = BTreeMap::new();
            cms.insert(
                "cfg".into(),
                cm(json!({"MODE": "prod", "LEVEL": "3", "1st": "one"})),
            );
            cms.insert("other".into(), cm(json!({"MODE": "dev"})));
            let mut secrets = BTreeMap::new();
            // "s3cret" and "pw" base64-encoded.
            secrets.insert(
                "creds".into(),
                secret(json!({"PASSWORD": "czNjcmV0", "USER": "cHc="})),
            );
            let mut alloc = BTreeMap::new();
            alloc.insert("cpu".into(), Quantity("4".into()));
            alloc.insert("memory".into(), Quantity("8Gi".into()));
            alloc.insert("ephemeral-storage".into(), Quantity("100G".into()));
            World { cms, secrets, alloc }
        }

        fn env(&self, pod: &Pod) -> Result<Vec<(String, String)>, String> {
            let src = EnvSources {
                config_maps: &self.cms,
                secrets: &self.secrets,
                pod_ip: "10.244.0.7",
                host_ip: "192.168.1.10",
                node_allocatable: &self.alloc,
            };
            container_env(pod, &pod.spec.as_ref().unwrap().containers[0], &src)
        }
    }

    fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn names(env: &[(String, String)]) -> Vec<&str> {
        env.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn one_env(env: serde_json::Value) -> Pod {
        base_pod(json!([{"name": "app", "env": env}]))
    }

    #[test]
    fn plain_container_gets_path_hostname_and_kubernetes_service_vars_in_order() {
        let env = World::new().env(&base_pod(json!([{"name": "app"}]))).unwrap();
        assert_eq!(
            names(&env),
            [
                "PATH",
                "HOSTNAME",
                "KUBERNETES_SERVICE_HOST",
                "KUBERNETES_SERVICE_PORT",
                "KUBERNETES_SERVICE_PORT_HTTPS",
                "KUBERNETES_PORT",
                "KUBERNETES_PORT_443_TCP",
                "KUBERNETES_PORT_443_TCP_PROTO",
                "KUBERNETES_PORT_443_TCP_PORT",
                "KUBERNETES_PORT_443_TCP_ADDR",
            ]
        );
        assert_eq!(get(&env, "PATH"), Some(DEFAULT_PATH));
        assert_eq!(get(&env, "HOSTNAME"), Some("web-0"));
        assert_eq!(get(&env, "KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
        assert_eq!(get(&env, "KUBERNETES_SERVICE_PORT"), Some("443"));
        assert_eq!(get(&env, "KUBERNETES_SERVICE_PORT_HTTPS"), Some("443"));
        assert_eq!(get(&env, "KUBERNETES_PORT"), Some("tcp://10.96.0.1:443"));
        assert_eq!(get(&env, "KUBERNETES_PORT_443_TCP"), Some("tcp://10.96.0.1:443"));
        assert_eq!(get(&env, "KUBERNETES_PORT_443_TCP_PROTO"), Some("tcp"));
        assert_eq!(get(&env, "KUBERNETES_PORT_443_TCP_PORT"), Some("443"));
        assert_eq!(get(&env, "KUBERNETES_PORT_443_TCP_ADDR"), Some("10.96.0.1"));
    }

    #[test]
    fn container_path_and_hostname_replace_the_defaults_in_place() {
        let p = one_env(json!([{"name": "PATH", "value": "/opt/bin"}, {"name": "HOSTNAME", "value": "h"}]));
        let env = World::new().env(&p).unwrap();
        assert_eq!(&env[0], &("PATH".to_string(), "/opt/bin".to_string()));
        assert_eq!(&env[1], &("HOSTNAME".to_string(), "h".to_string()));
        assert_eq!(env.iter().filter(|(n, _)| n == "PATH").count(), 1);
    }

    #[test]
    fn container_overrides_a_kubernetes_service_var_once() {
        let p = one_env(json!([{"name": "KUBERNETES_SERVICE_HOST", "value": "api.local"}]));
        let env = World::new().env(&p).unwrap();
        assert_eq!(get(&env, "KUBERNETES_SERVICE_HOST"), Some("api.local"));
        assert_eq!(
            env.iter().filter(|(n, _)| n == "KUBERNETES_SERVICE_HOST").count(),
            1
        );
        assert_eq!(names(&env)[2], "KUBERNETES_SERVICE_HOST");
    }

    #[test]
    fn env_from_comes_first_with_prefix_and_env_overrides_in_place() {
        let p = base_pod(json!([{
            "name": "app",
            "envFrom": [{"configMapRef": {"name": "cfg"}}, {"prefix": "S_", "secretRef": {"name": "creds"}}],
            "env": [{"name": "EXTRA", "value": "e"}, {"name": "MODE", "value": "override"}]
        }]));
        let env = World::new().env(&p).unwrap();
        assert_eq!(
            &names(&env)[..8],
            [
                "PATH",
                "HOSTNAME",
                "1st",
                "LEVEL",
                "MODE",
                "S_PASSWORD",
                "S_USER",
                "EXTRA"
            ]
        );
        assert_eq!(get(&env, "MODE"), Some("override"));
        assert_eq!(get(&env, "1st"), Some("one"));
        assert_eq!(get(&env, "S_PASSWORD"), Some("s3cret"));
        assert_eq!(get(&env, "S_USER"), Some("pw"));
    }

    #[test]
    fn later_env_from_source_overrides_earlier_one() {
        let p = base_pod(json!([{"name": "app",
            "envFrom": [{"configMapRef": {"name": "cfg"}}, {"configMapRef": {"name": "other"}}]}]));
        assert_eq!(get(&World::new().env(&p).unwrap(), "MODE"), Some("dev"));
    }

    #[test]
    fn env_from_keys_that_are_not_env_names_are_skipped() {
        let mut w = World::new();
        w.cms
            .insert("odd".into(), cm(json!({"A=B": "x", "ok.key-1": "y"})));
        let p = base_pod(json!([{"name": "app", "envFrom": [{"configMapRef": {"name": "odd"}}]}]));
        let env = w.env(&p).unwrap();
        assert_eq!(get(&env, "A=B"), None);
        assert_eq!(get(&env, "ok.key-1"), Some("y"));
    }

    #[test]
    fn missing_env_from_objects_fail_unless_optional() {
        let w = World::new();
        let p = base_pod(json!([{"name": "app", "envFrom": [{"configMapRef": {"name": "nope"}}]}]));
        assert_eq!(w.env(&p), Err("configmap \"nope\" not found".to_string()));
        let p = base_pod(json!([{"name": "app", "envFrom": [{"secretRef": {"name": "nope"}}]}]));
        assert_eq!(w.env(&p), Err("secret \"nope\" not found".to_string()));
        let p = base_pod(json!([{"name": "app", "envFrom": [
            {"configMapRef": {"name": "nope", "optional": true}},
            {"secretRef": {"name": "nope", "optional": true}}]}]));
        assert_eq!(w.env(&p).unwrap().len(), 10);
    }

    #[test]
    fn values_expand_references_to_earlier_variables_only() {
        let p = one_env(json!([
            {"name": "A", "value": "a"},
            {"name": "B", "value": "$(A)-b-$(C)"},
            {"name": "C", "value": "c"},
            {"name": "D", "value": "$$(A) $(KUBERNETES_SERVICE_HOST) $(B)"},
            {"name": "E", "value": "$(E)"}
        ]));
        let env = World::new().env(&p).unwrap();
        assert_eq!(get(&env, "B"), Some("a-b-$(C)"));
        assert_eq!(get(&env, "D"), Some("$(A) 10.96.0.1 a-b-$(C)"));
        assert_eq!(get(&env, "E"), Some("$(E)"));
    }

    #[test]
    fn values_expand_env_from_variables_and_self_references() {
        let p = base_pod(
            json!([{"name": "app", "envFrom": [{"configMapRef": {"name": "cfg"}}],
            "env": [{"name": "MODE", "value": "$(MODE)-x"}]}]),
        );
        assert_eq!(get(&World::new().env(&p).unwrap(), "MODE"), Some("prod-x"));
    }

    #[test]
    fn empty_value_without_source_is_set_empty() {
        let p = one_env(json!([{"name": "EMPTY"}, {"name": "ALSO", "value": ""}]));
        let env = World::new().env(&p).unwrap();
        assert_eq!(get(&env, "EMPTY"), Some(""));
        assert_eq!(get(&env, "ALSO"), Some(""));
    }

    #[test]
    fn field_refs_resolve_every_supported_path() {
        let fields = [
            ("metadata.name", "web-0"),
            ("metadata.namespace", "shop"),
            ("metadata.uid", "u-1"),
            ("metadata.labels['app']", "web"),
            ("metadata.labels['missing']", ""),
            ("metadata.annotations['note']", "say \"hi\"\n"),
            ("spec.nodeName", "node-a"),
            ("spec.host", "node-a"),
            ("spec.serviceAccountName", "builder"),
            ("status.hostIP", "192.168.1.10"),
            ("status.hostIPs", "192.168.1.10"),
            ("status.podIP", "10.244.0.7"),
            ("status.podIPs", "10.244.0.7"),
        ];
        let env: Vec<_> = fields
            .iter()
            .enumerate()
            .map(|(i, (path, _))| json!({"name": format!("V{i}"), "valueFrom": {"fieldRef": {"fieldPath": path}}}))
            .collect();
        let out = World::new().env(&one_env(json!(env))).unwrap();
        for (i, (path, want)) in fields.iter().enumerate() {
            assert_eq!(get(&out, &format!("V{i}")), Some(*want), "{path}");
        }
    }

    #[test]
    fn field_ref_errors_are_worded_as_kubernetes() {
        let w = World::new();
        let with = |fs: serde_json::Value| one_env(json!([{"name": "V", "valueFrom": {"fieldRef": fs}}]));
        assert_eq!(
            w.env(&with(json!({"fieldPath": "spec.bogus"}))),
            Err("field label not supported: spec.bogus".into())
        );
        assert_eq!(
            w.env(&with(json!({"fieldPath": "metadata.name['x']"}))),
            Err("field label does not support subscript: metadata.name['x']".into())
        );
        assert_eq!(
            w.env(&with(json!({"fieldPath": "status.phase"}))),
            Err("unsupported fieldPath: status.phase".into())
        );
        assert_eq!(
            w.env(&with(json!({"apiVersion": "v2", "fieldPath": "metadata.name"}))),
            Err("unsupported pod version: v2".into())
        );
        assert!(
            w.env(&with(json!({"apiVersion": "v1", "fieldPath": "metadata.name"})))
                .is_ok()
        );
    }

    #[test]
    fn config_map_and_secret_key_refs_with_optional() {
        let w = World::new();
        let p = one_env(json!([
            {"name": "M", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "MODE"}}},
            {"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "PASSWORD"}}},
            {"name": "OK1", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "nokey", "optional": true}}},
            {"name": "OK2", "valueFrom": {"configMapKeyRef": {"name": "none", "key": "k", "optional": true}}},
            {"name": "OK3", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nokey", "optional": true}}},
            {"name": "OK4", "valueFrom": {"secretKeyRef": {"name": "none", "key": "k", "optional": true}}}
        ]));
        let env = w.env(&p).unwrap();
        assert_eq!(get(&env, "M"), Some("prod"));
        assert_eq!(get(&env, "P"), Some("s3cret"));
        for name in ["OK1", "OK2", "OK3", "OK4"] {
            assert_eq!(get(&env, name), None, "{name} must not be set");
        }
    }

    #[test]
    fn missing_key_refs_fail_with_kubelet_messages() {
        let w = World::new();
        let cases = [
            (
                json!({"configMapKeyRef": {"name": "cfg", "key": "k"}}),
                "couldn't find key k in ConfigMap shop/cfg",
            ),
            (
                json!({"configMapKeyRef": {"name": "gone", "key": "k"}}),
                "configmap \"gone\" not found",
            ),
            (
                json!({"secretKeyRef": {"name": "creds", "key": "k"}}),
                "couldn't find key k in Secret shop/creds",
            ),
            (
                json!({"secretKeyRef": {"name": "gone", "key": "k"}}),
                "secret \"gone\" not found",
            ),
        ];
        for (from, want) in cases {
            assert_eq!(
                w.env(&one_env(json!([{"name": "V", "valueFrom": from}]))),
                Err(want.to_string())
            );
        }
    }

    fn resource_pod(resources: serde_json::Value, refs: &[(&str, Option<&str>)]) -> Pod {
        let env: Vec<_> = refs
            .iter()
            .enumerate()
            .map(|(i, (res, div))| {
                let mut sel = json!({"resource": res});
                if let Some(d) = div {
                    sel["divisor"] = json!(d);
                }
                json!({"name": format!("R{i}"), "valueFrom": {"resourceFieldRef": sel}})
            })
            .collect();
        base_pod(json!([{"name": "app", "resources": resources, "env": env},
                        {"name": "side", "resources": {"limits": {"cpu": "2"}}}]))
    }

    fn resource_values(resources: serde_json::Value, refs: &[(&str, Option<&str>)]) -> Vec<String> {
        let env = World::new().env(&resource_pod(resources, refs)).unwrap();
        (0..refs.len())
            .map(|i| get(&env, &format!("R{i}")).unwrap().to_string())
            .collect()
    }

    #[test]
    fn resource_field_refs_divide_and_round_up() {
        let resources = json!({
            "limits": {"cpu": "1500m", "memory": "1Gi", "ephemeral-storage": "2G", "hugepages-2Mi": "4Mi"},
            "requests": {"cpu": "250m", "memory": "100M", "ephemeral-storage": "1Gi", "hugepages-2Mi": "2Mi"}
        });
        let refs = [
            ("limits.cpu", None),
            ("limits.cpu", Some("1m")),
            ("requests.cpu", None),
            ("requests.cpu", Some("1m")),
            ("requests.cpu", Some("100m")),
            ("limits.memory", None),
            ("limits.memory", Some("1Mi")),
            ("limits.memory", Some("1M")),
            ("requests.memory", Some("1Mi")),
            ("limits.ephemeral-storage", Some("1Gi")),
            ("requests.ephemeral-storage", Some("1G")),
            ("limits.hugepages-2Mi", Some("1Mi")),
            ("requests.hugepages-2Mi", None),
            ("limits.cpu", Some("0")),
        ];
        let want = [
            "2",
            "1500",
            "1",
            "250",
            "3",
            "1073741824",
            "1024",
            "1074",
            "96",
            "2",
            "2",
            "4",
            "2097152",
            "2",
        ];
        assert_eq!(resource_values(resources, &refs), want);
    }

    #[test]
    fn unset_limits_fall_back_to_node_allocatable_and_unset_requests_read_zero() {
        let refs = [
            ("limits.cpu", None),
            ("limits.memory", Some("1Gi")),
            ("limits.ephemeral-storage", Some("1G")),
            ("requests.cpu", None),
            ("requests.memory", None),
        ];
        assert_eq!(resource_values(json!({}), &refs), ["4", "8", "100", "0", "0"]);
        let zero = json!({"limits": {"cpu": "0", "memory": "0"}});
        assert_eq!(resource_values(zero, &refs[..2]), ["4", "8"]);
    }

    #[test]
    fn resource_field_ref_names_another_container() {
        let mut p = resource_pod(json!({}), &[]);
        let env = json!([{"name": "SIDE_CPU", "valueFrom": {"resourceFieldRef":
            {"containerName": "side", "resource": "limits.cpu", "divisor": "1m"}}}]);
        p.spec.as_mut().unwrap().containers[0].env = Some(serde_json::from_value(env).unwrap());
        assert_eq!(get(&World::new().env(&p).unwrap(), "SIDE_CPU"), Some("2000"));
        let env = json!([{"name": "X", "valueFrom": {"resourceFieldRef":
            {"containerName": "ghost", "resource": "limits.cpu"}}}]);
        p.spec.as_mut().unwrap().containers[0].env = Some(serde_json::from_value(env).unwrap());
        assert_eq!(World::new().env(&p), Err("container ghost not found".into()));
    }

    #[test]
    fn init_container_limits_are_not_defaulted_for_variables() {
        let p = pod(json!({
            "metadata": {"name": "p", "namespace": "shop"},
            "spec": {
                "initContainers": [{"name": "init", "resources": {"limits": {"memory": "1Gi"}}}],
                "containers": [{"name": "app", "env": [
                    {"name": "INIT_CPU", "valueFrom": {"resourceFieldRef":
                        {"containerName": "init", "resource": "limits.cpu"}}},
                    {"name": "INIT_MEM", "valueFrom": {"resourceFieldRef":
                        {"containerName": "init", "resource": "limits.memory", "divisor": "1Mi"}}}]}]
            }
        }));
        let env = World::new().env(&p).unwrap();
        assert_eq!(get(&env, "INIT_CPU"), Some("0"));
        assert_eq!(get(&env, "INIT_MEM"), Some("1024"));
    }

    #[test]
    fn unsupported_resource_is_an_error() {
        let p = resource_pod(json!({}), &[("limits.gpu", None)]);
        assert_eq!(
            World::new().env(&p),
            Err("Unsupported container resource : limits.gpu".into())
        );
        let p = resource_pod(json!({}), &[("cpu", None)]);
        assert_eq!(
            World::new().env(&p),
            Err("Unsupported container resource : cpu".into())
        );
    }

    #[test]
    fn quantities_scale_and_round_up_like_kubernetes() {
        let cases: &[(&str, i32, i128)] = &[
            ("1", 0, 1),
            ("1", 3, 1000),
            ("100m", 0, 1),
            ("100m", 3, 100),
            ("0.1", 3, 100),
            ("1.5", 0, 2),
            (".5", 3, 500),
            ("1n", 3, 1),
            ("1500u", 3, 2),
            ("1k", 0, 1000),
            ("1Ki", 0, 1024),
            ("1.5Gi", 0, 1610612736),
            ("1e3", 0, 1000),
            ("1E-3", 3, 1),
            ("12e+2", 0, 1200),
            ("+2", 0, 2),
            ("-1.5", 0, -1),
            ("0", 0, 0),
            ("2E", 0, 2_000_000_000_000_000_000),
            ("1Ei", 0, 1 << 60),
        ];
        for (s, scale, want) in cases {
            assert_eq!(
                parse_quantity(s).unwrap().scaled_ceil(*scale),
                *want,
                "{s} at {scale}"
            );
        }
        for bad in ["", "abc", "1.2.3", "1x", "1e", "1e+", "1Kii", "-", "."] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} must not parse");
        }
    }

    #[test]
    fn hostname_is_spec_hostname_or_name_truncated_and_host_network_uses_node() {
        let mut p = base_pod(json!([{"name": "app"}]));
        assert_eq!(pod_hostname(&p), "web-0");
        p.spec.as_mut().unwrap().hostname = Some("custom".into());
        assert_eq!(pod_hostname(&p), "custom");
        p.spec.as_mut().unwrap().hostname = None;
        p.metadata.name = Some(format!("{}-.x", "a".repeat(61)));
        assert_eq!(pod_hostname(&p), "a".repeat(61));
        p.spec.as_mut().unwrap().host_network = Some(true);
        assert_eq!(pod_hostname(&p), "node-a");
    }

    fn expand_with(input: &str, vars: &[(&str, &str)]) -> String {
        let lookup = |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string());
        expand(input, &lookup)
    }

    #[test]
    fn expansion_matches_kubernetes_test_table() {
        let vars = [
            ("VAR_A", "A"),
            ("VAR_B", "B"),
            ("VAR_C", "C"),
            ("VAR_REF", "$(VAR_A)"),
            ("VAR_EMPTY", ""),
        ];
        let cases = [
            ("$(VAR_A)", "A"),
            ("$(VAR_A)-$(VAR_A)", "A-A"),
            ("$(VAR_A)-1", "A-1"),
            ("___$(VAR_B)___", "___B___"),
            ("___$(VAR_C)", "___C"),
            ("$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"),
            ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),
            ("$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"),
            ("f000-$$VAR_A", "f000-$VAR_A"),
            ("foo\\$(VAR_C)bar", "foo\\Cbar"),
            ("foo\\\\$(VAR_C)bar", "foo\\\\Cbar"),
            ("foo\\\\\\\\$(VAR_A)bar", "foo\\\\\\\\Abar"),
            ("$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"),
            ("$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"),
            ("$(VAR_REF)", "$(VAR_A)"),
            ("%%$(VAR_REF)--$(VAR_REF)%%", "%%$(VAR_A)--$(VAR_A)%%"),
            ("foo$(VAR_EMPTY)bar", "foobar"),
            ("foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"),
            ("f00__(VAR_A)__", "f00__(VAR_A)__"),
            ("$?_boo_$!", "$?_boo_$!"),
            ("$VAR_A", "$VAR_A"),
            ("$(VAR_DNE)", "$(VAR_DNE)"),
            ("$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"),
            ("$$$$$$(VAR_A)", "$$$(VAR_A)"),
            ("$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"),
            ("$$$$$$$(VAR_A)", "$$$A"),
            ("$VAR_A)", "$VAR_A)"),
            ("${VAR_A}", "${VAR_A}"),
            ("$(VAR_B)_______$(A", "B_______$(A"),
            ("$(VAR_C)_______$(", "C_______$("),
            ("$(VAR_A)foobarzab$", "Afoobarzab$"),
            ("foo-\\$(VAR_A", "foo-\\$(VAR_A"),
            ("--$($($($($--", "--$($($($($--"),
            ("$($($($($--foo$(", "$($($($($--foo$("),
            ("foo0--$($($($(", "foo0--$($($($("),
            ("$(foo$$var)", "$(foo$$var)"),
            ("\n", "\n"),
            ("", ""),
            ("$", "$"),
            ("é$é$(VAR_A)ü", "é$éAü"),
        ];
        for (input, want) in cases {
            assert_eq!(expand_with(input, &vars), want, "{input:?}");
        }
    }

    #[test]
    fn argv_is_command_then_args_expanded_against_the_environment() {
        let c: Container = serde_json::from_value(json!({"name": "app",
            "command": ["/bin/sh", "-c"], "args": ["echo $(GREETING) $$(GREETING) $(NOPE) $HOME"]}))
        .unwrap();
        let env = vec![("GREETING".to_string(), "hi".to_string())];
        assert_eq!(
            container_argv(&c, &env),
            ["/bin/sh", "-c", "echo hi $(GREETING) $(NOPE) $HOME"]
        );
        let only_args: Container =
            serde_json::from_value(json!({"name": "a", "args": ["$(GREETING)"]})).unwrap();
        assert_eq!(container_argv(&only_args, &env), ["hi"]);
        let neither: Container = serde_json::from_value(json!({"name": "a"})).unwrap();
        assert!(container_argv(&neither, &env).is_empty());
    }

    #[test]
    fn referenced_objects_cover_containers_init_ephemeral_and_volumes() {
        let p = pod(json!({
            "metadata": {"name": "p"},
            "spec": {
                "initContainers": [{"name": "i", "envFrom": [{"configMapRef": {"name": "cm-init"}}]}],
                "containers": [{"name": "c",
                    "envFrom": [{"secretRef": {"name": "s-from"}}],
                    "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm-key", "key": "k"}}},
                            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s-key", "key": "k"}}},
                            {"name": "C", "value": "plain"}]}],
                "ephemeralContainers": [{"name": "e", "env": [
                    {"name": "D", "valueFrom": {"secretKeyRef": {"name": "s-eph", "key": "k"}}}]}],
                "volumes": [
                    {"name": "v1", "configMap": {"name": "cm-vol"}},
                    {"name": "v2", "secret": {"secretName": "s-vol"}},
                    {"name": "v3", "projected": {"sources": [
                        {"configMap": {"name": "cm-proj"}}, {"secret": {"name": "s-proj"}},
                        {"serviceAccountToken": {"path": "token"}}]}},
                    {"name": "v4", "emptyDir": {}}
                ]
            }
        }));
        let (cms, secrets) = referenced_objects(&p);
        assert_eq!(
            cms.into_iter().collect::<Vec<_>>(),
            ["cm-init", "cm-key", "cm-proj", "cm-vol"]
        );
        assert_eq!(
            secrets.into_iter().collect::<Vec<_>>(),
            ["s-eph", "s-from", "s-key", "s-proj", "s-vol"]
        );
        assert_eq!(
            referenced_objects(&Pod::default()),
            (BTreeSet::new(), BTreeSet::new())
        );
    }

    #[test]
    fn format_map_sorts_and_quotes_like_go() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), "two".to_string());
        m.insert("a".to_string(), "say \"hi\"\\\n\ttab".to_string());
        assert_eq!(
            format_map(Some(&m)),
            "a=\"say \\\"hi\\\"\\\\\\n\\ttab\"\nb=\"two\""
        );
        assert_eq!(format_map(None), "");
    }

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        let cases = [
            ("plain", "\"plain\""),
            ("héllo 世界", "\"héllo 世界\""),
            ("\u{7}\u{8}\u{c}\u{b}\r", "\"\\a\\b\\f\\v\\r\""),
            ("\u{1}\u{7f}", "\"\\x01\\x7f\""),
            ("\u{a0}\u{200b}\u{feff}", "\"\\u00a0\\u200b\\ufeff\""),
            ("\u{f0000}", "\"\\U000f0000\""),
            ("😀", "\"😀\""),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "{input:?}");
        }
    }

    #[test]
    fn pod_metadata_field_formats_whole_maps_and_rejects_others() {
        let p = base_pod(json!([]));
        assert_eq!(
            pod_metadata_field(&p, "metadata.labels").unwrap(),
            "app=\"web\"\ntier=\"front\""
        );
        assert_eq!(
            pod_metadata_field(&p, "metadata.annotations").unwrap(),
            "note=\"say \\\"hi\\\"\\n\""
        );
        assert_eq!(
            pod_metadata_field(&p, "spec.nodeName"),
            Err("unsupported fieldPath: spec.nodeName".into())
        );
        assert_eq!(
            pod_metadata_field(&p, "metadata.name['x']"),
            Err("fieldPath \"metadata.name['x']\" does not support subscript".into())
        );
    }
}
