//! Server data types <-> the RDB value model (rill_storage::rdb).
//! (Placeholder signatures; the implementation lands from the `dump` branch.)
use crate::config::Config;
use crate::db::{AccessClock, Entry, Value};
use rill_storage::rdb;

pub fn to_rdb(_v: &Value) -> rdb::Value<'_> {
    todo!()
}
pub fn from_rdb(_v: rdb::Value<'static>) -> Result<Value, String> {
    todo!()
}
pub fn key_meta(
    _entry: &Entry,
    _expire_ms: Option<i64>,
    _config: &Config,
    _clock: &AccessClock,
) -> rdb::KeyMeta {
    todo!()
}
pub fn write_options(_config: &Config) -> rdb::WriteOptions {
    todo!()
}
