//! maxmemory enforcement: sampled eviction per maxmemory-policy, as Redis's evict.c.
//! PLACEHOLDER until the memory work lands: only refuses under noeviction.

use crate::cmd::{CmdError, Ctx};

/// Evicts keys until used memory is under maxmemory, or returns `-OOM`.
pub fn perform_evictions(ctx: &mut Ctx) -> Result<(), CmdError> {
    let used = crate::alloc::used_memory() as u64;
    if used <= ctx.config.maxmemory {
        return Ok(());
    }
    Err(CmdError::Oom)
}
