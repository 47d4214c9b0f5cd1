//! The topic registry: topic name -> [`Topic`] (topic_id, partitions and their logs).
//!
//! Durable: every partition is a [`rill_storage::log::Partition`] in
//! `<dir>/topics/<topic>-<partition>/`, and each partition directory holds a
//! `partition.metadata` (Kafka's name) with the topic_id, so a restarted broker reports the
//! same ids. [`Registry::load`] rebuilds the registry from those directories.

use super::producer_state::ProducerStates;
use parking_lot::Mutex;
use rill_storage::log::{LogConfig, Partition};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// Kafka's `TopicNameValidation`: at most 249 characters.
pub const MAX_TOPIC_NAME: usize = 249;

/// Kafka's per-partition topic id file.
const PARTITION_METADATA: &str = "partition.metadata";

/// The log and the idempotent-producer state of one partition, under one lock so that the
/// sequence check and the append are atomic. `log` is None once closed (shutdown).
pub struct PartitionState {
    pub log: Option<Partition>,
    pub producers: ProducerStates,
}

/// One partition: its state behind a short-held Mutex (never across .await) and a Notify
/// signalled after every append, which wakes long-polling Fetches (trap T5).
pub struct PartitionLog {
    pub state: Mutex<PartitionState>,
    pub appended: Notify,
}

impl PartitionLog {
    fn new(log: Partition) -> Arc<PartitionLog> {
        let producers = ProducerStates::rebuild(&log);
        Arc::new(PartitionLog {
            state: Mutex::new(PartitionState {
                log: Some(log),
                producers,
            }),
            appended: Notify::new(),
        })
    }
}

/// One topic.
#[derive(Clone)]
pub struct Topic {
    /// Random, never nil (a nil id means "unknown" on the wire).
    pub topic_id: Uuid,
    pub partitions: i32,
    /// Indexed by partition number, `partitions` long.
    pub logs: Vec<Arc<PartitionLog>>,
}

/// Topics by name, in name order (Metadata lists them sorted, as Kafka does).
#[derive(Default)]
pub struct Registry {
    topics: BTreeMap<String, Topic>,
    /// `<dir>/topics`; None until [`Registry::load`], and then topics cannot be created.
    root: Option<PathBuf>,
    log_config: LogConfig,
}

impl Registry {
    /// Reopens every partition under `root` (`<dir>/topics`). Directories whose name is not
    /// `<topic>-<n>` are ignored; a topic's partition count is its highest n + 1.
    pub fn load(&mut self, root: &Path, log_config: LogConfig) -> std::io::Result<()> {
        self.root = Some(root.to_path_buf());
        self.log_config = log_config;
        let Ok(entries) = std::fs::read_dir(root) else {
            return Ok(());
        };
        let mut found: BTreeMap<String, Vec<(i32, PathBuf)>> = BTreeMap::new();
        for entry in entries {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            // rsplit: topic names may contain '-'.
            let Some((topic, p)) = name.rsplit_once('-') else {
                continue;
            };
            let Ok(p) = p.parse::<i32>() else { continue };
            if valid_topic_name(topic) && p >= 0 {
                found
                    .entry(topic.to_string())
                    .or_default()
                    .push((p, path.clone()));
            }
        }
        for (name, mut parts) in found {
            parts.sort();
            let partitions = parts.last().map_or(0, |(p, _)| p + 1);
            let topic_id = parts
                .iter()
                .find_map(|(_, dir)| read_topic_id(dir))
                .unwrap_or_else(new_topic_id);
            let mut logs = Vec::with_capacity(partitions as usize);
            for p in 0..partitions {
                // A missing partition directory (crash during create) is recreated empty.
                let dir = root.join(format!("{name}-{p}"));
                logs.push(open_partition(&dir, topic_id, &self.log_config)?);
            }
            tracing::info!("Kafka: loaded topic {name} ({partitions} partitions)");
            self.topics.insert(
                name,
                Topic {
                    topic_id,
                    partitions,
                    logs,
                },
            );
        }
        Ok(())
    }

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

    /// Creates `name` with `partitions`, their directories and logs; None when it already
    /// exists or the directories cannot be created (logged).
    pub fn create(&mut self, name: &str, partitions: i32) -> Option<&Topic> {
        if self.topics.contains_key(name) {
            return None;
        }
        let root = self.root.as_ref()?;
        let topic_id = new_topic_id();
        let mut logs = Vec::new();
        for p in 0..partitions {
            match open_partition(
                &root.join(format!("{name}-{p}")),
                topic_id,
                &self.log_config,
            ) {
                Ok(l) => logs.push(l),
                Err(e) => {
                    tracing::warn!("Kafka: cannot create topic {name}: {e}");
                    for p in 0..partitions {
                        let _ = std::fs::remove_dir_all(root.join(format!("{name}-{p}")));
                    }
                    return None;
                }
            }
        }
        let topic = Topic {
            topic_id,
            partitions,
            logs,
        };
        Some(self.topics.entry(name.to_string()).or_insert(topic))
    }

    /// Removes `name` and its partition directories.
    pub fn delete(&mut self, name: &str) -> Option<Topic> {
        let topic = self.topics.remove(name)?;
        for log in &topic.logs {
            // Dropped, not closed: the files go anyway.
            log.state.lock().log = None;
            // Waiters (a long-polling Fetch, a TFETCH BLOCK) re-read and see it gone.
            log.appended.notify_waiters();
        }
        if let Some(root) = &self.root {
            for p in 0..topic.partitions {
                let dir = root.join(format!("{name}-{p}"));
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    tracing::warn!("Kafka: cannot remove {}: {e}", dir.display());
                }
            }
        }
        Some(topic)
    }

    /// Every partition log (for the cron and shutdown).
    pub fn all_logs(&self) -> Vec<Arc<PartitionLog>> {
        self.topics
            .values()
            .flat_map(|t| t.logs.iter().cloned())
            .collect()
    }
}

/// Opens (or creates) a partition directory and makes sure its `partition.metadata` names
/// `topic_id`.
fn open_partition(
    dir: &Path,
    topic_id: Uuid,
    config: &LogConfig,
) -> std::io::Result<Arc<PartitionLog>> {
    let (mut log, report) = Partition::open(dir, config.clone()).map_err(std::io::Error::other)?;
    // A single node is its own ISR: everything in the local log is committed, however old
    // the hw checkpoint is (it lags the log after a crash).
    let leo = log.leo();
    log.set_hw(leo);
    log_recovery(&report);
    if read_topic_id(dir) != Some(topic_id) {
        write_topic_id(dir, topic_id)?;
    }
    Ok(PartitionLog::new(log))
}

/// Logs what opening a partition repaired: a torn write (expected after a crash) as a
/// warning, a corrupt batch as an error naming the file, byte position and reason.
pub fn log_recovery(report: &rill_storage::log::RecoveryReport) {
    let Some(c) = &report.cut else {
        return;
    };
    if c.torn {
        tracing::warn!(
            "Kafka: {}: cut a torn write at byte {} ({} bytes, {})",
            c.segment.display(),
            c.position,
            c.bytes,
            c.reason
        );
    } else {
        tracing::error!(
            "Kafka: {} is corrupt at byte {}: {}; cut there ({} bytes dropped, {} later \
             segments deleted)",
            c.segment.display(),
            c.position,
            c.reason,
            c.bytes,
            report.deleted_segments
        );
    }
}

/// `partition.metadata`: `version: 0\ntopic_id: <uuid>\n` (Kafka writes the id in base64;
/// the UUID text keeps this file readable and needs no extra crate).
fn read_topic_id(dir: &Path) -> Option<Uuid> {
    let text = std::fs::read_to_string(dir.join(PARTITION_METADATA)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("topic_id:"))
        .and_then(|id| Uuid::parse_str(id.trim()).ok())
        .filter(|id| !id.is_nil())
}

fn write_topic_id(dir: &Path, topic_id: Uuid) -> std::io::Result<()> {
    let tmp = dir.join(format!("{PARTITION_METADATA}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    write!(f, "version: 0\ntopic_id: {topic_id}\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(PARTITION_METADATA))
}

/// A random version-4 UUID (never nil).
fn new_topic_id() -> Uuid {
    let bytes: [u8; 16] = rand::random();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Internal topics, kept by the broker itself (not in the registry): clients cannot create,
/// list, produce to or delete them.
pub fn is_internal_topic(name: &str) -> bool {
    name == super::offsets_log::OFFSETS_TOPIC
}

/// Kafka's topic name rule: 1..=249 of `[a-zA-Z0-9._-]`, and not `.` or `..`. Names become
/// directory names in the partition log, so this is checked before anything is created.
/// Internal topics are not valid client topic names here, so Metadata and CreateTopics
/// answer INVALID_TOPIC_EXCEPTION and [`Registry::load`] leaves their directories alone.
pub fn valid_topic_name(name: &str) -> bool {
    !is_internal_topic(name)
        && !name.is_empty()
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
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("topics");
        let mut r = Registry::default();
        r.load(&root, LogConfig::default()).expect("load");
        let id = r.create("a-b", 3).expect("new").topic_id;
        assert!(!id.is_nil());
        assert!(r.create("a-b", 1).is_none());
        assert_eq!(
            r.get("a-b").map(|t| (t.topic_id, t.partitions)),
            Some((id, 3))
        );
        assert_eq!(r.name_of(id), Some("a-b"));
        assert!(r.create("c", 1).is_some());

        // Reloaded from disk: same ids and partition counts.
        let mut again = Registry::default();
        again.load(&root, LogConfig::default()).expect("reload");
        assert_eq!(
            again.get("a-b").map(|t| (t.topic_id, t.partitions)),
            Some((id, 3))
        );
        assert!(again.get("c").is_some());
        drop(again);

        assert!(r.delete("a-b").is_some());
        assert!(r.get("a-b").is_none());
        assert!(!root.join("a-b-0").exists());
    }

    #[test]
    fn topic_names() {
        assert!(valid_topic_name("orders.v1_x-2"));
        for bad in ["", ".", "..", "a/b", "a b", "ü", "__consumer_offsets"] {
            assert!(!valid_topic_name(bad), "{bad:?}");
        }
        assert!(valid_topic_name(&"x".repeat(249)));
        assert!(!valid_topic_name(&"x".repeat(250)));
    }
}
