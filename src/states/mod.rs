//! Node states with Ironic's exact strings, and THE provision state machine.
//!
//! Only this module decides whether a provision-state change is legal:
//! [`next`] and [`advance`] read one `const` table, [`TRANSITIONS`], which
//! `tests/states_vs_ironic.rs` compares with the machine Ironic 39 builds in
//! `ironic/common/state_machine.py`. Everything here is pure data and pure
//! functions (no I/O, no clock), so the API, the conductor and the datastore
//! can all ask the same questions:
//!
//! - [`provision`]: [`ProvisionState`], [`Event`], the table, stable states
//!   and `target_provision_state`, and the state sets Ironic's API and
//!   conductor use ([`UPDATE_ALLOWED_STATES`], [`DELETE_ALLOWED_STATES`], …).
//! - [`verb`]: the `target` strings of `PUT /v1/nodes/{node}/states/provision`
//!   ([`Verb`]), the event each one fires and the microversion it needs.
//! - [`power`]: [`PowerState`] and the targets of
//!   `PUT /v1/nodes/{node}/states/power`.
//!
//! Every enum serializes (serde, `Display`, `FromStr`) to Ironic's string,
//! e.g. `ProvisionState::DeployWait` is `"wait call-back"`.

/// Declares a string enum whose serde names, `Display`, `FromStr` and
/// `as_str` all come from one list of `Variant = "ironic string"` pairs, plus
/// `ALL` in declaration order.
macro_rules! ironic_strings {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident (unknown: $unknown:ident) {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Ironic's string for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::states::StateError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::states::StateError::$unknown(other.to_owned())),
                }
            }
        }
    };
}

pub mod power;
pub mod provision;
pub mod verb;

pub use power::{PowerState, POWER_TARGETS};
pub use provision::{
    advance, events_from, is_stable, next, target_of, Event, ProvisionState, Transition,
    DELETE_ALLOWED_STATES, FAILURE_STATES, FASTTRACK_LOOKUP_ALLOWED_STATES, INSPECTION_STATES,
    LOOKUP_ALLOWED_STATES, SERVICING_STATES, STABLE_STATES, STUCK_STATES_TREATED_AS_FAIL,
    TRANSITIONS, UNSTABLE_STATES, UPDATE_ALLOWED_STATES,
};
pub use verb::Verb;

/// A string that names no known state, event or verb, or an event the
/// current provision state does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("unknown provision state \"{0}\"")]
    UnknownProvisionState(String),
    #[error("unknown provision state machine event \"{0}\"")]
    UnknownEvent(String),
    #[error("unknown provision target \"{0}\"")]
    UnknownVerb(String),
    #[error("unknown power state \"{0}\"")]
    UnknownPowerState(String),
    #[error("can not transition from provision state \"{state}\" on event \"{event}\"")]
    InvalidTransition { state: ProvisionState, event: Event },
}
