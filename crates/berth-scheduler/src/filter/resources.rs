//! `NodeResourcesFit`: the pod's requests (cpu, memory, ephemeral-storage, extended resources
//! and one pod slot) against the node's allocatable minus what its pods already request.
//!
//! Requests aggregate as `resourcehelper.PodRequests` does: containers add up, a sidecar
//! (an init container with `restartPolicy: Always`) adds to them, every other init container
//! counts as the maximum of itself plus the sidecars started before it, and `overhead` adds.

use super::Status;
use crate::snapshot::NodeInfo;
use berth_api::validation::quantity;
use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// The CPU request counted for a container that sets none when scoring (`DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The memory request counted for a container that sets none when scoring (`DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of resources: CPU in millicores, everything else in base units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU, in millicores.
    pub milli_cpu: i64,
    /// Memory, in bytes.
    pub memory: i64,
    /// Ephemeral storage, in bytes.
    pub ephemeral_storage: i64,
    /// Other resources (extended resources, hugepages), by name.
    pub scalar: BTreeMap<String, i64>,
}

fn nanos(q: &Quantity) -> i128 {
    quantity::parse(&q.0).map_or(0, |q| q.0)
}

fn ceil_div(n: i128, d: i128) -> i64 {
    let v = if n >= 0 { (n + d - 1) / d } else { n / d };
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Resources {
    /// Reads a resource list (`requests`, `allocatable`, `overhead`).
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Resources {
        let mut r = Resources::default();
        for (name, q) in list {
            let n = nanos(q);
            match name.as_str() {
                "cpu" => r.milli_cpu = ceil_div(n, 1_000_000),
                "memory" => r.memory = ceil_div(n, 1_000_000_000),
                "ephemeral-storage" => r.ephemeral_storage = ceil_div(n, 1_000_000_000),
                "pods" => {}
                other => {
                    r.scalar.insert(other.to_string(), ceil_div(n, 1_000_000_000));
                }
            }
        }
        r
    }

    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    /// Raises each amount of `self` to at least that of `other`.
    pub fn set_max(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    fn is_zero(&self) -> bool {
        self.milli_cpu == 0 && self.memory == 0 && self.ephemeral_storage == 0 && self.scalar.is_empty()
    }
}

fn container_requests(c: &Container, non_zero: bool) -> Resources {
    let list = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let mut r = list.map(Resources::from_list).unwrap_or_default();
    if non_zero {
        if !list.is_some_and(|l| l.contains_key("cpu")) {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !list.is_some_and(|l| l.contains_key("memory")) {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

/// The pod's effective requests. With `non_zero`, containers without a cpu or memory request
/// count the scheduler's defaults (100m, 200Mi), as the scoring plugins do.
pub fn pod_requests(pod: &Pod, non_zero: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let mut total = Resources::default();
    for c in &spec.containers {
        total.add(&container_requests(c, non_zero));
    }
    let mut sidecars = Resources::default();
    let mut init_max = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let own = container_requests(c, non_zero);
        let during = if c.restart_policy.as_deref() == Some("Always") {
            total.add(&own);
            sidecars.add(&own);
            sidecars.clone()
        } else {
            let mut during = own;
            during.add(&sidecars);
            during
        };
        init_max.set_max(&during);
    }
    total.set_max(&init_max);
    if let Some(overhead) = &spec.overhead {
        total.add(&Resources::from_list(overhead));
    }
    total
}

/// The node's allocatable resources and pod slots.
pub fn allocatable(node: &Node) -> (Resources, i64) {
    let list = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let resources = list.map(Resources::from_list).unwrap_or_default();
    let pods = list
        .and_then(|l| l.get("pods"))
        .map_or(0, |q| ceil_div(nanos(q), 1_000_000_000));
    (resources, pods)
}

/// What the node's pods request together.
pub fn requested_on<'n>(node: &'n NodeInfo<'_>, non_zero: bool) -> &'n Resources {
    if non_zero {
        &node.requested_non_zero
    } else {
        &node.requested
    }
}

/// The `NodeResourcesFit` filter: every insufficient resource is one reason ("Too many pods",
/// "Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage", then the other
/// resources by name); the status is `Unschedulable` (preemption could free room).
pub fn filter(request: &Resources, node: &NodeInfo<'_>) -> Option<Status> {
    let (alloc, pod_slots) = &node.allocatable;
    let pod_slots = *pod_slots;
    let mut reasons = Vec::new();
    if i64::try_from(node.pods.len()).unwrap_or(i64::MAX) + 1 > pod_slots {
        reasons.push("Too many pods".to_string());
    }
    if !request.is_zero() {
        let used = requested_on(node, false);
        if alloc.milli_cpu < request.milli_cpu + used.milli_cpu {
            reasons.push("Insufficient cpu".to_string());
        }
        if alloc.memory < request.memory + used.memory {
            reasons.push("Insufficient memory".to_string());
        }
        if alloc.ephemeral_storage < request.ephemeral_storage + used.ephemeral_storage {
            reasons.push("Insufficient ephemeral-storage".to_string());
        }
        for (name, amount) in &request.scalar {
            let have = alloc.scalar.get(name).copied().unwrap_or(0);
            let used = used.scalar.get(name).copied().unwrap_or(0);
            if have < amount + used {
                reasons.push(format!("Insufficient {name}"));
            }
        }
    }
    (!reasons.is_empty()).then_some(Status {
        code: super::Code::Unschedulable,
        reasons,
    })
}

#[cfg(test)]
mod tests;
