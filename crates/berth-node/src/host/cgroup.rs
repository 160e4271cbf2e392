//! Resource limits through cgroups, where the machine has them: one cgroup per container
//! run under `berth/<pod uid>/<container>-<run>`, with the memory limit, the CPU quota
//! (`limits.cpu`) and CPU weight (`requests.cpu`) as the kubelet's cgroup driver sets them.
//! Both the v1 hierarchy (one directory per controller) and the unified v2 one are handled;
//! without either (or without permission), containers run unlimited.

use k8s_openapi::api::core::v1::ResourceRequirements;
use std::path::{Path, PathBuf};

/// The cgroup filesystem root.
const ROOT: &str = "/sys/fs/cgroup";
/// The CFS period the kubelet uses (100 ms).
const CPU_PERIOD_US: u64 = 100_000;

/// Parses a Kubernetes quantity into its base unit scaled by `scale` (1000 for millicores),
/// rounding up.
pub fn parse_quantity(q: &str, scale: u128) -> Option<u128> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{whole}{frac}");
    let mantissa: u128 = if digits.is_empty() {
        return None;
    } else {
        digits.parse().ok()?
    };
    let (num, den): (u128, u128) = match suffix {
        "" => (1, 1),
        "m" => (1, 1000),
        "k" => (1000, 1),
        "M" => (1_000_000, 1),
        "G" => (1_000_000_000, 1),
        "T" => (1_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        _ => return None,
    };
    let den = den * 10u128.checked_pow(frac.len() as u32)?;
    let value = mantissa.checked_mul(num)?.checked_mul(scale)?;
    Some(value.div_ceil(den))
}

/// The limits of one container run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// `limits.memory` in bytes.
    pub memory: Option<u128>,
    /// `limits.cpu` in millicores.
    pub cpu_limit: Option<u128>,
    /// `requests.cpu` in millicores.
    pub cpu_request: Option<u128>,
}

impl Limits {
    /// The limits a container's resources ask for.
    pub fn of(resources: Option<&ResourceRequirements>) -> Self {
        let get = |map: Option<
            &std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
        >,
                   key: &str,
                   scale: u128| {
            map.and_then(|m| m.get(key))
                .and_then(|q| parse_quantity(&q.0, scale))
        };
        let limits = resources.and_then(|r| r.limits.as_ref());
        let requests = resources.and_then(|r| r.requests.as_ref());
        Limits {
            memory: get(limits, "memory", 1),
            cpu_limit: get(limits, "cpu", 1000),
            cpu_request: get(requests, "cpu", 1000).or(get(limits, "cpu", 1000)),
        }
    }

    fn is_empty(&self) -> bool {
        *self == Limits::default()
    }
}

fn unified() -> bool {
    Path::new(ROOT).join("cgroup.controllers").exists()
}

/// Creates the cgroup(s) of one container run and writes its limits; returns the
/// directories the container joins (empty when there is nothing to limit or no cgroups).
pub fn create(name: &str, limits: Limits) -> Vec<PathBuf> {
    if limits.is_empty() {
        return Vec::new();
    }
    let mut dirs = Vec::new();
    if unified() {
        let dir = Path::new(ROOT).join("berth").join(name);
        // Controllers must be enabled for children at every level.
        let _ = std::fs::create_dir_all(&dir);
        for level in [Path::new(ROOT).to_path_buf(), Path::new(ROOT).join("berth")] {
            let _ = std::fs::write(level.join("cgroup.subtree_control"), "+memory +cpu");
        }
        if let Some(m) = limits.memory {
            let _ = std::fs::write(dir.join("memory.max"), m.to_string());
            let _ = std::fs::write(dir.join("memory.swap.max"), "0");
        }
        if let Some(c) = limits.cpu_limit {
            let _ = std::fs::write(
                dir.join("cpu.max"),
                format!("{} {CPU_PERIOD_US}", (c * 100).max(1000)),
            );
        }
        if dir.exists() {
            dirs.push(dir);
        }
        return dirs;
    }
    if let Some(m) = limits.memory {
        let dir = Path::new(ROOT).join("memory/berth").join(name);
        if std::fs::create_dir_all(&dir).is_ok()
            && std::fs::write(dir.join("memory.limit_in_bytes"), m.to_string()).is_ok()
        {
            dirs.push(dir);
        }
    }
    if limits.cpu_limit.is_some() || limits.cpu_request.is_some() {
        let dir = Path::new(ROOT).join("cpu/berth").join(name);
        if std::fs::create_dir_all(&dir).is_ok() {
            if let Some(c) = limits.cpu_limit {
                let _ = std::fs::write(dir.join("cpu.cfs_period_us"), CPU_PERIOD_US.to_string());
                let _ = std::fs::write(dir.join("cpu.cfs_quota_us"), (c * 100).max(1000).to_string());
            }
            if let Some(r) = limits.cpu_request {
                let _ = std::fs::write(dir.join("cpu.shares"), (r * 1024 / 1000).max(2).to_string());
            }
            dirs.push(dir);
        }
    }
    dirs
}

/// Whether the kernel's OOM killer ended a process of the cgroups in `dirs`.
pub fn oom_killed(dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| {
        let text = std::fs::read_to_string(d.join("memory.oom_control"))
            .or_else(|_| std::fs::read_to_string(d.join("memory.events")))
            .unwrap_or_default();
        text.lines().any(|l| {
            l.strip_prefix("oom_kill ")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        })
    })
}

/// Removes the cgroups of a finished run (they must be empty).
pub fn remove(dirs: &[PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_like_kubernetes() {
        assert_eq!(parse_quantity("128Mi", 1), Some(128 << 20));
        assert_eq!(parse_quantity("1G", 1), Some(1_000_000_000));
        assert_eq!(parse_quantity("500m", 1000), Some(500));
        assert_eq!(parse_quantity("1.5", 1000), Some(1500));
        assert_eq!(parse_quantity("2", 1000), Some(2000));
        assert_eq!(parse_quantity("0.1", 1000), Some(100));
        assert_eq!(parse_quantity("1m", 1), Some(1));
        assert_eq!(parse_quantity("x", 1), None);
        assert_eq!(parse_quantity("", 1), None);
    }

    #[test]
    fn limits_come_from_the_container_resources() {
        let r: ResourceRequirements = serde_json::from_value(serde_json::json!({
            "limits": {"memory": "64Mi", "cpu": "250m"}, "requests": {"cpu": "100m"}}))
        .expect("resources");
        assert_eq!(
            Limits::of(Some(&r)),
            Limits {
                memory: Some(64 << 20),
                cpu_limit: Some(250),
                cpu_request: Some(100)
            }
        );
        assert!(Limits::of(None).is_empty());
    }
}
