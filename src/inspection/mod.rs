//! Inspection processing shared by the API and the conductor: the rules
//! engine and its Python-compatible interpolation.

pub mod pyformat;
pub mod rules;
