//! The garbage collector's pure core: the graph of owners and dependents, and what to do
//! next for one object ([`Graph::plan`]).
//!
//! Semantics follow Kubernetes' garbage collector (`pkg/controller/garbagecollector`):
//! - a dependent whose owners are all gone is deleted (background propagation, or
//!   foreground when one of its owners is being deleted in the foreground);
//! - a dependent with some owners gone loses the dangling references;
//! - an owner being deleted with the `orphan` finalizer first has its reference removed
//!   from every dependent, then loses the finalizer;
//! - an owner being deleted with the `foregroundDeletion` finalizer first has its
//!   dependents deleted, and loses the finalizer once no dependent that blocks owner
//!   deletion (`blockOwnerDeletion: true`) remains.

use std::collections::{BTreeSet, HashMap, HashSet};

/// The finalizer that orphans dependents.
pub const ORPHAN: &str = "orphan";
/// The finalizer that deletes dependents first.
pub const FOREGROUND: &str = "foregroundDeletion";

/// Identifies an object for API calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// API group ("" for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

/// One `ownerReferences` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    /// Owner's apiVersion.
    pub api_version: String,
    /// Owner's kind.
    pub kind: String,
    /// Owner's name.
    pub name: String,
    /// Owner's UID.
    pub uid: String,
    /// Whether this dependent blocks the owner's foreground deletion.
    pub block_owner_deletion: bool,
}

/// What the graph knows of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The object.
    pub obj: ObjectRef,
    /// Its owner references.
    pub owners: Vec<OwnerRef>,
    /// Whether `deletionTimestamp` is set.
    pub deleting: bool,
    /// Its finalizers.
    pub finalizers: Vec<String>,
}

/// How a dependent is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete now; its own dependents are collected afterwards.
    Background,
    /// Delete its dependents first.
    Foreground,
}

/// One write the collector wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Delete `target` if its UID is still the same.
    Delete {
        /// The object.
        target: ObjectRef,
        /// How.
        propagation: Propagation,
    },
    /// Delete `target` if, on a live read, none of `owners` exists (owners absent from the
    /// graph may just not have been seen yet).
    DeleteIfOwnersAbsent {
        /// The object.
        target: ObjectRef,
        /// Its owners.
        owners: Vec<OwnerRef>,
    },
    /// Remove references to `owner_uids` from `target`.
    RemoveOwnerRefs {
        /// The dependent.
        target: ObjectRef,
        /// The owners to forget.
        owner_uids: Vec<String>,
    },
    /// Remove `finalizer` from `target`.
    RemoveFinalizer {
        /// The owner.
        target: ObjectRef,
        /// The finalizer.
        finalizer: &'static str,
    },
}

/// The owner/dependent graph of every object.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    dependents: HashMap<String, HashSet<String>>,
}

impl Graph {
    /// Adds or replaces a node; returns the UIDs whose plan may have changed.
    pub fn upsert(&mut self, node: Node) -> Vec<String> {
        let uid = node.obj.uid.clone();
        let mut dirty = vec![uid.clone()];
        if let Some(old) = self.nodes.get(&uid) {
            for o in &old.owners {
                if let Some(set) = self.dependents.get_mut(&o.uid) {
                    set.remove(&uid);
                }
                dirty.push(o.uid.clone());
            }
            if old.deleting != node.deleting || old.finalizers != node.finalizers {
                dirty.extend(self.dependents.get(&uid).into_iter().flatten().cloned());
            }
        } else {
            // A new object may be the owner its dependents were waiting for.
            dirty.extend(self.dependents.get(&uid).into_iter().flatten().cloned());
        }
        for o in &node.owners {
            self.dependents
                .entry(o.uid.clone())
                .or_default()
                .insert(uid.clone());
            dirty.push(o.uid.clone());
        }
        self.nodes.insert(uid, node);
        dirty
    }

    /// Removes a node; returns the UIDs whose plan may have changed.
    pub fn remove(&mut self, uid: &str) -> Vec<String> {
        let mut dirty = Vec::new();
        if let Some(old) = self.nodes.remove(uid) {
            for o in &old.owners {
                if let Some(set) = self.dependents.get_mut(&o.uid) {
                    set.remove(uid);
                    if set.is_empty() && !self.nodes.contains_key(&o.uid) {
                        self.dependents.remove(&o.uid);
                    }
                }
                dirty.push(o.uid.clone());
            }
        }
        dirty.extend(self.dependents.get(uid).into_iter().flatten().cloned());
        dirty
    }

    /// A node by UID.
    pub fn get(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    /// Every UID that has owners (for periodic re-checks).
    pub fn with_owners(&self) -> Vec<String> {
        self.nodes
            .values()
            .filter(|n| !n.owners.is_empty() || n.deleting)
            .map(|n| n.obj.uid.clone())
            .collect()
    }

    fn dependents_of(&self, uid: &str) -> Vec<&Node> {
        let mut out: Vec<&Node> = self
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|d| self.nodes.get(d))
            .collect();
        out.sort_by(|a, b| a.obj.name.cmp(&b.obj.name));
        out
    }

    /// What to do next for the object `uid`.
    pub fn plan(&self, uid: &str) -> Vec<Action> {
        let Some(node) = self.nodes.get(uid) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        if node.deleting && node.finalizers.iter().any(|f| f == ORPHAN) {
            let deps = self.dependents_of(uid);
            for d in &deps {
                actions.push(Action::RemoveOwnerRefs {
                    target: d.obj.clone(),
                    owner_uids: vec![uid.to_string()],
                });
            }
            if deps.is_empty() {
                actions.push(Action::RemoveFinalizer {
                    target: node.obj.clone(),
                    finalizer: ORPHAN,
                });
            }
            return actions;
        }
        if node.deleting && node.finalizers.iter().any(|f| f == FOREGROUND) {
            let deps = self.dependents_of(uid);
            let mut blocking = false;
            for d in &deps {
                let blocks = d.owners.iter().any(|o| o.uid == uid && o.block_owner_deletion);
                blocking |= blocks;
                if !d.deleting {
                    actions.push(Action::Delete {
                        target: d.obj.clone(),
                        propagation: Propagation::Foreground,
                    });
                }
            }
            if !blocking {
                actions.push(Action::RemoveFinalizer {
                    target: node.obj.clone(),
                    finalizer: FOREGROUND,
                });
            }
            return actions;
        }
        if node.owners.is_empty() || node.deleting {
            return actions;
        }
        let (present, absent): (Vec<&OwnerRef>, Vec<&OwnerRef>) =
            node.owners.iter().partition(|o| self.nodes.contains_key(&o.uid));
        if absent.is_empty() {
            // Every owner exists. If all of them wait for dependents in the foreground, help.
            let all_foreground = present.iter().all(|o| {
                self.nodes
                    .get(&o.uid)
                    .is_some_and(|n| n.deleting && n.finalizers.iter().any(|f| f == FOREGROUND))
            });
            if all_foreground {
                actions.push(Action::Delete {
                    target: node.obj.clone(),
                    propagation: Propagation::Foreground,
                });
            }
            return actions;
        }
        if present.is_empty() {
            actions.push(Action::DeleteIfOwnersAbsent {
                target: node.obj.clone(),
                owners: node.owners.clone(),
            });
        } else {
            let gone: BTreeSet<String> = absent.iter().map(|o| o.uid.clone()).collect();
            actions.push(Action::RemoveOwnerRefs {
                target: node.obj.clone(),
                owner_uids: gone.into_iter().collect(),
            });
        }
        actions
    }
}

#[cfg(test)]
mod tests;
