//! [`IdentityMemo`]: values derived from shared objects, kept while the object stays the same
//! allocation.
//!
//! The informers hand out one `Arc` per object version: until an object changes, every sync
//! sees the same allocation. A controller that looks at all of a parent's children at every
//! sync (the StatefulSet controller visits every replica) can then derive what it reads of
//! each child once per version instead of once per sync. The memo keys on the allocation and
//! holds the `Arc`, so an address cannot be reused while its entry lives; entries a pass did
//! not look at are dropped by [`IdentityMemo::sweep`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Hashes an address (already unique) with one multiplication.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        // Fibonacci hashing: the high bits of the product spread nearby addresses.
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(32);
    }
}

struct Entry<T, V> {
    /// Keeps the allocation (and so the key) alive.
    _object: Arc<T>,
    value: V,
    seen: bool,
}

/// Values of type `V` derived from `Arc<T>` objects, by allocation.
pub struct IdentityMemo<T, V> {
    entries: HashMap<usize, Entry<T, V>, BuildHasherDefault<AddressHasher>>,
}

impl<T, V> Default for IdentityMemo<T, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::default(),
        }
    }
}

impl<T, V> IdentityMemo<T, V> {
    /// The value for `object`, derived with `derive` unless this allocation has one already.
    pub fn get_or_derive(&mut self, object: &Arc<T>, derive: impl FnOnce(&T) -> V) -> &V {
        let key = Arc::as_ptr(object) as usize;
        let entry = self.entries.entry(key).or_insert_with(|| Entry {
            _object: object.clone(),
            value: derive(object),
            seen: false,
        });
        entry.seen = true;
        &entry.value
    }

    /// The value already derived for `object`, if any (does not count as a look).
    pub fn get(&self, object: &Arc<T>) -> Option<&V> {
        self.entries
            .get(&(Arc::as_ptr(object) as usize))
            .map(|e| &e.value)
    }

    /// Drops the entries not looked at since the last sweep.
    pub fn sweep(&mut self) {
        self.entries.retain(|_, e| std::mem::take(&mut e.seen));
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many objects have a value.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no object has a value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_value_is_derived_once_per_allocation_and_swept_when_unused() {
        let derived = Cell::new(0);
        let derive = |s: &String| {
            derived.set(derived.get() + 1);
            s.len()
        };
        let mut memo = IdentityMemo::default();
        let a = Arc::new("web-0".to_string());
        let b = Arc::new("web-10".to_string());
        assert_eq!(*memo.get_or_derive(&a, derive), 5);
        assert_eq!(*memo.get_or_derive(&a.clone(), derive), 5);
        assert_eq!(*memo.get_or_derive(&b, derive), 6);
        assert_eq!(derived.get(), 2, "same allocation, same value");
        assert_eq!(memo.get(&b), Some(&6));
        assert_eq!(memo.get(&Arc::new("web-0".to_string())), None);
        // An equal object in a new allocation (a new version) is derived again.
        let a2 = Arc::new("web-0".to_string());
        memo.get_or_derive(&a2, derive);
        assert_eq!(derived.get(), 3);
        memo.sweep();
        assert_eq!(memo.len(), 3, "everything was looked at");
        memo.get_or_derive(&a2, derive);
        memo.sweep();
        assert_eq!(memo.len(), 1, "a and b were not looked at in the last pass");
        drop(a);
        memo.get_or_derive(&a2, derive);
        assert_eq!(derived.get(), 3);
        memo.clear();
        assert!(memo.is_empty());
    }
}
