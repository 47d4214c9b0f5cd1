//! The stream of effects (Redis's propagate()): what the AOF appends and, later, replicas
//! receive. Commands propagate as their effects, in execution order, while the keyspace
//! lock is held; a `SELECT` is inserted whenever the database changes.
//!
//! By default a command that changed the dataset (its `dirty` count grew) propagates its
//! own argv. Handlers whose argv would replay differently (relative expiries, random
//! choices, generated IDs, float formatting) call [`crate::cmd::Ctx::propagate_as`] with
//! the commands that reproduce the effect, or [`crate::cmd::Ctx::propagate_none`].

use bytes::Bytes;
use rill_storage::aof::encode_command;

#[derive(Default)]
pub struct Propagation {
    /// True while something consumes the stream (appendonly yes). Off during loading.
    pub enabled: bool,
    /// Encoded commands not yet taken by the AOF writer.
    pub buf: Vec<u8>,
    /// Commands emitted (SELECT excluded), for MULTI wrapping.
    pub ops: u64,
    /// Bytes ever emitted (Redis's aof_current_size grows with it).
    pub total_bytes: u64,
    /// Database of the last command emitted; `None` forces a SELECT.
    db: Option<usize>,
    /// Set by a handler: what the current call propagates instead of its argv.
    pub(crate) call_override: Option<Vec<Vec<Bytes>>>,
    /// The replication target: created with the first replica (as Redis's backlog) and
    /// kept until REPLICAOF makes this server a replica of another master.
    pub backlog: Option<crate::replication::backlog::Backlog>,
    /// Database of the last command fed to replicas (Redis's slaveseldb); `None` forces
    /// a SELECT (a new full sync starts).
    pub repl_db: Option<usize>,
    /// Targets a script turned off with redis.set_repl ([`SUPPRESS_AOF`],
    /// [`SUPPRESS_REPLICAS`]); 0 outside scripts.
    pub suppress: u8,
}

pub const SUPPRESS_AOF: u8 = 1;
pub const SUPPRESS_REPLICAS: u8 = 2;

impl Propagation {
    /// Emits one command run against database `db`.
    pub fn command<A: AsRef<[u8]>>(&mut self, db: usize, argv: &[A]) {
        if self.suppress != 0 {
            return self.command_to_some(db, argv);
        }
        if let Some(bl) = self.backlog.as_mut() {
            let buf = bl.buf_mut();
            if self.repl_db != Some(db) {
                let n = itoa::Buffer::new().format(db).to_owned();
                encode_command(buf, &[b"SELECT".as_slice(), n.as_bytes()]);
                self.repl_db = Some(db);
            }
            encode_command(buf, argv);
            if !self.enabled {
                self.ops += 1;
                return;
            }
        }
        if !self.enabled {
            return;
        }
        if self.db != Some(db) {
            let n = itoa::Buffer::new().format(db).to_owned();
            self.encode(&[b"SELECT".as_slice(), n.as_bytes()]);
            self.db = Some(db);
        }
        self.encode(argv);
        self.ops += 1;
    }

    /// `command` with some targets off (redis.set_repl in a script).
    fn command_to_some<A: AsRef<[u8]>>(&mut self, db: usize, argv: &[A]) {
        let suppress = std::mem::take(&mut self.suppress);
        let enabled = self.enabled;
        let backlog = if suppress & SUPPRESS_REPLICAS != 0 {
            self.backlog.take()
        } else {
            None
        };
        if suppress & SUPPRESS_AOF != 0 {
            self.enabled = false;
        }
        self.command(db, argv);
        if backlog.is_some() {
            self.backlog = backlog;
        }
        self.enabled = enabled;
        self.suppress = suppress;
    }

    /// True while the AOF or replicas consume the stream.
    #[inline]
    pub fn active(&self) -> bool {
        self.enabled || self.backlog.is_some()
    }

    /// The next command emitted is preceded by a SELECT (a new AOF file starts).
    pub fn reset_db(&mut self) {
        self.db = None;
    }

    fn encode<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        let start = self.buf.len();
        encode_command(&mut self.buf, argv);
        self.total_bytes += (self.buf.len() - start) as u64;
    }

    /// Wraps the commands emitted since `mark` (a `(buf.len(), ops)` pair taken before)
    /// in MULTI ... EXEC when there is more than one, as Redis 7.0 does for EXEC.
    pub fn wrap_multi(&mut self, mark: Mark) {
        if self.ops - mark.ops < 2 {
            return;
        }
        let mut multi = Vec::new();
        encode_command(&mut multi, &[b"MULTI"]);
        if let Some(bl) = self.backlog.as_mut() {
            if mark.repl <= bl.len() {
                bl.buf_mut()
                    .splice(mark.repl..mark.repl, multi.iter().copied());
                encode_command(bl.buf_mut(), &[b"EXEC"]);
            }
        }
        if !self.enabled || mark.aof > self.buf.len() {
            return;
        }
        self.total_bytes += multi.len() as u64;
        self.buf.splice(mark.aof..mark.aof, multi);
        self.encode(&[b"EXEC"]);
    }

    pub fn mark(&self) -> Mark {
        Mark {
            aof: self.buf.len(),
            repl: self.backlog.as_ref().map_or(0, |b| b.len()),
            ops: self.ops,
        }
    }
}

/// Where the targets stood before a call, for [`Propagation::wrap_multi`].
#[derive(Clone, Copy)]
pub struct Mark {
    aof: usize,
    repl: usize,
    ops: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_is_emitted_when_the_database_changes() {
        let mut p = Propagation {
            enabled: true,
            ..Default::default()
        };
        p.command(0, &[b"SET".as_slice(), b"k", b"v"]);
        p.command(0, &[b"DEL".as_slice(), b"k"]);
        p.command(2, &[b"DEL".as_slice(), b"k"]);
        assert_eq!(
            String::from_utf8(p.buf.clone()).unwrap(),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n\
             *2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"
        );
        assert_eq!(p.ops, 3);
        assert_eq!(p.total_bytes, p.buf.len() as u64);
    }

    #[test]
    fn multi_wraps_only_more_than_one_command() {
        let mut p = Propagation {
            enabled: true,
            ..Default::default()
        };
        let m = p.mark();
        p.command(0, &[b"INCR".as_slice(), b"a"]);
        p.wrap_multi(m);
        assert!(!String::from_utf8_lossy(&p.buf).contains("MULTI"));
        let m = p.mark();
        p.command(0, &[b"INCR".as_slice(), b"a"]);
        p.command(0, &[b"INCR".as_slice(), b"b"]);
        p.wrap_multi(m);
        let s = String::from_utf8(p.buf.clone()).unwrap();
        let multi = s.find("MULTI").unwrap();
        assert!(multi > s.find("$1\r\na").unwrap());
        assert!(s.ends_with("*1\r\n$4\r\nEXEC\r\n"));
    }

    #[test]
    fn disabled_stream_stays_empty() {
        let mut p = Propagation::default();
        p.command(0, &[b"SET".as_slice(), b"k", b"v"]);
        assert!(p.buf.is_empty());
        assert_eq!(p.ops, 0);
    }
}
