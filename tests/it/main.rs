//! One integration-test binary: every file here starts the real `rill-server` binary on
//! an ephemeral port and talks to it through real clients.

mod common;

mod basics;
mod blocking;
mod clients;
mod command;
mod compat;
mod config;
mod connection;
mod dump;
mod embed;
mod functions;
mod geo;
mod hash;
mod hyperloglog;
mod kafka;
mod kafka_groups;
mod keys;
mod list;
mod memory;
mod multi;
mod persistence;
mod pubsub;
mod repl_interop;
mod replication;
mod scripting;
mod security;
mod sentinel;
mod server;
mod set;
mod stream;
mod string;
mod topic;
mod topic_tx;
mod zset;
