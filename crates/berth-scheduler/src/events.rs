//! The scheduler's `events.k8s.io/v1` recorder, deduplicating as client-go's events recorder
//! does: the same (regarding object, reason, action, type, note) within [`SERIES_WINDOW`]
//! becomes a series on the first Event instead of a new Event, while a new note is a new
//! Event. (kube-rs' `Recorder` leaves the note out of its key, so a changed
//! `FailedScheduling` message would only bump the count of the old one.)

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an Event can still grow a series.
pub const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uid: String,
    namespace: String,
    name: String,
    type_: &'static str,
    reason: String,
    action: String,
    note: String,
}

#[derive(Debug, Clone)]
struct Seen {
    event: String,
    count: i32,
    last: Instant,
}

impl Seen {
    /// Whether the Event can still grow its series at `now`.
    fn open(&self, now: Instant) -> bool {
        now.duration_since(self.last) < SERIES_WINDOW
    }
}

/// Records Events for one reporting controller.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    controller: String,
    seen: HashMap<Key, Seen>,
    /// When `seen` was last cleared of expired entries.
    pruned: Instant,
}

/// How often `seen` is cleared of expired entries: a sweep costs one pass over every
/// recent Event, so it runs at most this often, not at every publish.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl Recorder {
    /// A recorder reporting as `controller` (also its instance).
    pub fn new(client: Client, controller: &str) -> Recorder {
        Recorder {
            client,
            controller: controller.to_string(),
            seen: HashMap::new(),
            pruned: Instant::now(),
        }
    }

    /// Records one occurrence of an event about `regarding`.
    pub async fn publish(
        &mut self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), kube::Error> {
        let now = Instant::now();
        if now.duration_since(self.pruned) >= PRUNE_EVERY {
            self.seen.retain(|_, s| s.open(now));
            self.pruned = now;
        }
        let namespace = regarding.namespace.clone().unwrap_or_else(|| "default".into());
        let key = Key {
            uid: regarding.uid.clone().unwrap_or_default(),
            namespace: namespace.clone(),
            name: regarding.name.clone().unwrap_or_default(),
            type_: match type_ {
                EventType::Normal => "Normal",
                EventType::Warning => "Warning",
            },
            reason: reason.to_string(),
            action: action.to_string(),
            note: note.to_string(),
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let stamp = Timestamp::now();
        if let Some(seen) = self.seen.get_mut(&key).filter(|s| s.open(now)) {
            let count = seen.count + 1;
            let patch = json!({"series": EventSeries { count, last_observed_time: MicroTime(stamp) }});
            api.patch(&seen.event, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            seen.count = count;
            seen.last = now;
            return Ok(());
        }
        let name = format!("{}.{:x}", key.name, stamp.as_nanosecond());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(stamp)),
            type_: Some(key.type_.into()),
            reason: Some(reason.into()),
            action: Some(action.into()),
            note: Some(note.into()),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.controller.clone()),
            ..Event::default()
        };
        api.create(&PostParams::default(), &event).await?;
        self.seen.insert(
            key,
            Seen {
                event: name,
                count: 1,
                last: now,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{SERIES_WINDOW, Seen};
    use std::time::{Duration, Instant};

    #[test]
    fn a_series_stays_open_for_the_window_and_closes_after_it() {
        let last = Instant::now();
        let seen = Seen {
            event: "e".into(),
            count: 1,
            last,
        };
        assert!(seen.open(last));
        assert!(seen.open(last + SERIES_WINDOW - Duration::from_millis(1)));
        assert!(!seen.open(last + SERIES_WINDOW));
    }
}
