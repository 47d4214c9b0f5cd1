//! The topic registry: topic name -> [`Topic`] (topic_id, partition count).
//!
//! In memory for now; the partition log (storage/src/log/) will own persistence, and the
//! topic_id must then survive restarts (Kafka keeps it in `partition.metadata`).

use std::collections::BTreeMap;
use uuid::Uuid;

/// Kafka's `TopicNameValidation`: at most 249 characters.
pub const MAX_TOPIC_NAME: usize = 249;

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Random, never nil (a nil id means "unknown" on the wire).
    pub topic_id: Uuid,
    pub partitions: i32,
}

/// Topics by name, in name order (Metadata lists them sorted, as Kafka does).
#[derive(Debug, Default)]
pub struct Registry {
    topics: BTreeMap<String, Topic>,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<&Topic> {
        self.topics.get(name)
    }

    /// The topic named `name`, by topic_id.
    pub fn name_of(&self, topic_id: Uuid) -> Option<&str> {
        self.topics
            .iter()
            .find(|(_, t)| t.topic_id == topic_id)
            .map(|(n, _)| n.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Topic)> {
        self.topics.iter()
    }

    /// Creates `name` with `partitions`; None when it already exists.
    pub fn create(&mut self, name: &str, partitions: i32) -> Option<&Topic> {
        if self.topics.contains_key(name) {
            return None;
        }
        let topic = Topic {
            topic_id: new_topic_id(),
            partitions,
        };
        Some(self.topics.entry(name.to_string()).or_insert(topic))
    }

    pub fn delete(&mut self, name: &str) -> Option<Topic> {
        self.topics.remove(name)
    }
}

/// A random version-4 UUID (never nil).
fn new_topic_id() -> Uuid {
    let bytes: [u8; 16] = rand::random();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Kafka's topic name rule: 1..=249 of `[a-zA-Z0-9._-]`, and not `.` or `..`. Names become
/// directory names in the partition log, so this is checked before anything is created.
pub fn valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_delete_and_stable_id() {
        let mut r = Registry::default();
        let id = r.create("a", 3).expect("new").topic_id;
        assert!(!id.is_nil());
        assert!(r.create("a", 1).is_none());
        assert_eq!(
            r.get("a").map(|t| (t.topic_id, t.partitions)),
            Some((id, 3))
        );
        assert_eq!(r.name_of(id), Some("a"));
        assert!(r.delete("a").is_some());
        assert!(r.get("a").is_none());
    }

    #[test]
    fn topic_names() {
        assert!(valid_topic_name("orders.v1_x-2"));
        for bad in ["", ".", "..", "a/b", "a b", "ü"] {
            assert!(!valid_topic_name(bad), "{bad:?}");
        }
        assert!(valid_topic_name(&"x".repeat(249)));
        assert!(!valid_topic_name(&"x".repeat(250)));
    }
}
