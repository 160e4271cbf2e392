//! The JSON a cached object is served as, held without a copy of its own where it can be.
//!
//! A stored object differs from its served form only by `metadata.resourceVersion` (storage
//! drops it; serving sets it to the revision) whenever its type's storage conversion is the
//! identity, which it is for almost every type. For those, [`ServedJson`] keeps the store's
//! own value (the same reference-counted bytes the store holds) and the few bytes to splice
//! in, so an object is held once for the store and its watch cache instead of twice. Any
//! other object keeps its whole served JSON. The split is taken only when splicing gives
//! back exactly the served bytes, so what is served never changes.

use bytes::Bytes;

/// Served JSON: `stored[..at]`, then `insert`, then `stored[at..]`.
#[derive(Debug)]
pub(crate) struct ServedJson {
    stored: Bytes,
    at: usize,
    insert: Box<[u8]>,
}

impl ServedJson {
    /// The served form `served` of the stored value `stored`, sharing `stored` when `served`
    /// is `stored` with `"resourceVersion":"<revision>"` (and its comma) added.
    pub(crate) fn new(stored: &Bytes, mut served: Vec<u8>, revision: u64) -> Self {
        let needle = format!("\"resourceVersion\":\"{revision}\"");
        if let Some(shared) = memchr::memmem::find(&served, needle.as_bytes())
            .and_then(|i| Self::split(stored, &served, i, needle.len()))
        {
            return shared;
        }
        served.shrink_to_fit();
        Self {
            at: served.len(),
            stored: Bytes::from(served),
            insert: Box::default(),
        }
    }

    /// The split at the needle found at `i` (with the comma before or after it) that gives
    /// back `stored`, if any.
    fn split(stored: &Bytes, served: &[u8], i: usize, len: usize) -> Option<Self> {
        let end = i + len;
        let candidates = [
            (i.checked_sub(1).filter(|&s| served[s] == b','), Some(end)),
            (Some(i), (served.get(end) == Some(&b',')).then_some(end + 1)),
            (Some(i), Some(end)),
        ];
        candidates.into_iter().find_map(|(start, stop)| {
            let (start, stop) = (start?, stop?);
            let (head, tail) = (&served[..start], &served[stop..]);
            let same =
                head.len() + tail.len() == stored.len() && stored.starts_with(head) && stored.ends_with(tail);
            same.then(|| Self {
                stored: stored.clone(),
                at: start,
                insert: served[start..stop].into(),
            })
        })
    }

    /// The length of the served JSON.
    pub(crate) fn len(&self) -> usize {
        self.stored.len() + self.insert.len()
    }

    /// Appends the served JSON to `out`.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.stored[..self.at]);
        out.extend_from_slice(&self.insert);
        out.extend_from_slice(&self.stored[self.at..]);
    }

    /// The served JSON as one contiguous buffer.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.write_to(&mut out);
        out
    }

    /// Whether the store's value is shared rather than copied.
    #[cfg(test)]
    pub(crate) fn shares(&self, stored: &Bytes) -> bool {
        self.stored.as_ptr() == stored.as_ptr()
    }
}

#[cfg(test)]
mod tests;
