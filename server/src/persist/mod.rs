//! Durability: RDB snapshots (SAVE, BGSAVE, save rules, load on start), the AOF writer
//! and its rewrite, DUMP/RESTORE conversion.

pub mod convert;
