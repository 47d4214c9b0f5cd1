//! Family tests without sockets: `TestDb::new().run(&["HSET","h","a","1"])`.

use super::{dispatch, Ctx};
use crate::client::ClientState;
use crate::config::Config;
use crate::shared::Shared;
use bytes::{Bytes, BytesMut};
use rill_protocol::{encode, Reply, RespVersion};
use std::sync::Arc;

pub struct TestDb {
    pub shared: Arc<Shared>,
    pub client: ClientState,
    pub now_ms: i64,
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDb {
    pub fn new() -> TestDb {
        TestDb::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> TestDb {
        let shared = Shared::new(config);
        let client = ClientState::new(
            &shared,
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:6379".parse().unwrap(),
        );
        TestDb {
            shared,
            client,
            now_ms: crate::util::now_ms(),
        }
    }

    /// Runs one command and returns its reply.
    pub fn run(&mut self, args: &[&str]) -> Reply {
        let argv: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        self.run_argv(&argv)
    }

    pub fn run_argv(&mut self, argv: &[Bytes]) -> Reply {
        let config = self.shared.config();
        let mut state = self.shared.state.lock();
        state.begin(self.now_ms, &config);
        let mut ctx = Ctx {
            shared: &self.shared,
            state: &mut state,
            client: &mut self.client,
            config,
            now_ms: self.now_ms,
            tick: std::time::Instant::now(),
        };
        dispatch(&mut ctx, argv)
    }

    /// Turns on the propagation stream (as appendonly yes does).
    pub fn propagating(mut self) -> TestDb {
        self.shared.state.lock().prop.enabled = true;
        self.take_propagated();
        self
    }

    /// Commands propagated since the last call, SELECTs left out, as space-joined text
    /// (`"SET k v PXAT 1700000000000"`).
    pub fn take_propagated(&mut self) -> Vec<String> {
        let buf = std::mem::take(&mut self.shared.state.lock().prop.buf);
        let mut out = Vec::new();
        let mut r = rill_storage::aof::CommandReader::new(&buf, 0);
        while let Some(argv) = r.next().expect("propagated stream parses") {
            if argv[0].eq_ignore_ascii_case(b"select") {
                continue;
            }
            let words: Vec<String> = argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            out.push(words.join(" "));
        }
        out
    }

    /// Runs a command and renders the reply as RESP2 text, for compact assertions.
    pub fn resp(&mut self, args: &[&str]) -> String {
        let r = self.run(args);
        let mut b = BytesMut::new();
        encode(&r, RespVersion::Resp2, &mut b);
        String::from_utf8_lossy(&b).into_owned()
    }
}

/// Shorthands for expected replies.
pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}
pub fn int(i: i64) -> Reply {
    Reply::Int(i)
}
pub fn err(s: &str) -> Reply {
    Reply::Error(Bytes::copy_from_slice(s.as_bytes()))
}
pub fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}
