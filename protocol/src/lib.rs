//! # Layout
//! - [`resp`]: request decoding (multibulk and inline) with Redis's exact protocol errors.
//! - [`reply`]: the [`Reply`] value every command returns and its RESP2/RESP3 encoding.
//! - [`client`]: reply decoding for clients, wrapping the `redis-protocol` crate.
//! - [`kafka`]: Kafka framing, request header parsing and response frames (bodies come
//!   from the `kafka-protocol` crate).
//! - [`fmt`]: number formatting that must match Redis byte for byte (`%.17g`, `ld2string`).
//!
//! Sans-io: nothing here touches sockets or tokio.

pub mod client;
pub mod fmt;
pub mod kafka;
pub mod reply;
pub mod resp;

pub use reply::{encode, Reply, RespVersion};
pub use resp::{ProtocolError, RequestDecoder, RequestLimits};
