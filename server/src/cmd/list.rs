//! list commands (to be filled in).

use super::*;

pub static COMMANDS: &[CommandSpec] = &[];
