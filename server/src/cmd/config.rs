//! CONFIG command (to be filled in).

use super::*;

pub static COMMANDS: &[CommandSpec] = &[];
