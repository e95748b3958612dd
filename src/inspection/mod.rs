//! Inspection processing shared by the API and the conductor: the rules
//! engine and its Python-compatible interpolation, and the hooks that turn
//! an inventory into properties, ports and BMC addresses.

pub mod hooks;
pub mod pyformat;
pub mod rules;
