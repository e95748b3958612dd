//! Provision states, state machine events, THE transition table, and the
//! `target_provision_state` rules.
//!
//! The machine is Ironic 39's: same 30 states, same 18 events, same 93
//! `(from, event, to)` triples (checked by `tests/states_vs_ironic.rs`).
//! Ironic also defines `"deleted"` and `"deploy complete"` as constants, but
//! neither is a state of its machine (`"deleted"` is an API verb, see
//! [`Verb`](super::Verb)), so a node never has them and they are not here.

use super::StateError;

ironic_strings! {
    /// A node's `provision_state` (and `target_provision_state`).
    pub enum ProvisionState (unknown: UnknownProvisionState) {
        /// Known to Berth, not managed yet (no credentials checked).
        Enroll = "enroll",
        /// Power credentials are being checked (`manage` from `enroll`).
        Verifying = "verifying",
        /// Managed, not offered for deployment.
        Manageable = "manageable",
        Inspecting = "inspecting",
        /// Inspection waits for the agent's callback.
        InspectWait = "inspect wait",
        InspectFailed = "inspect failed",
        Cleaning = "cleaning",
        /// Cleaning waits for the agent (a clean step runs in the ramdisk).
        CleanWait = "clean wait",
        /// A `hold` clean step paused cleaning until `unhold`.
        CleanHold = "clean hold",
        CleanFailed = "clean failed",
        /// Clean and offered for deployment.
        Available = "available",
        Deploying = "deploying",
        /// Deployment waits for the agent (Ironic's `DEPLOYWAIT`).
        DeployWait = "wait call-back",
        DeployHold = "deploy hold",
        DeployFailed = "deploy failed",
        /// Deployed (or adopted) and owned by an instance.
        Active = "active",
        /// Being torn down; cleaning follows.
        Deleting = "deleting",
        /// Tear-down failed; needs `deleted` or `rebuild` again.
        Error = "error",
        /// An already running server is being taken over (`adopt`).
        Adopting = "adopting",
        AdoptFailed = "adopt failed",
        Rescuing = "rescuing",
        RescueWait = "rescue wait",
        RescueFailed = "rescue failed",
        /// Booted into the rescue ramdisk.
        Rescue = "rescue",
        Unrescuing = "unrescuing",
        UnrescueFailed = "unrescue failed",
        /// Service steps run on an active node.
        Servicing = "servicing",
        ServiceWait = "service wait",
        ServiceHold = "service hold",
        ServiceFailed = "service failed",
    }
}

ironic_strings! {
    /// An event of the provision state machine. The API's verbs map onto the
    /// first group (see [`Verb::event`](super::Verb::event)); the conductor
    /// fires the others as work progresses.
    pub enum Event (unknown: UnknownEvent) {
        Deploy = "deploy",
        Rebuild = "rebuild",
        Delete = "delete",
        Manage = "manage",
        Provide = "provide",
        Inspect = "inspect",
        Clean = "clean",
        Adopt = "adopt",
        Rescue = "rescue",
        Unrescue = "unrescue",
        Service = "service",
        Abort = "abort",
        Unhold = "unhold",
        /// The current step finished successfully.
        Done = "done",
        Fail = "fail",
        /// Work continues asynchronously (agent callback, reboot, …).
        Wait = "wait",
        /// The awaited callback arrived; continue.
        Resume = "resume",
        /// A `hold` step paused the flow.
        Hold = "hold",
    }
}

use Event as E;
use ProvisionState as S;

/// THE provision state machine: every legal `(from, event, to)`.
///
/// At most one row per `(from, event)`; [`next`] looks rows up.
pub const TRANSITIONS: &[(ProvisionState, Event, ProvisionState)] = &[
    // Enrolment: power credentials are verified before a node is managed.
    (S::Enroll, E::Manage, S::Verifying),
    (S::Verifying, E::Done, S::Manageable),
    (S::Verifying, E::Fail, S::Enroll),
    // Leaving and entering manageable.
    (S::Manageable, E::Provide, S::Cleaning),
    (S::Manageable, E::Clean, S::Cleaning),
    (S::Manageable, E::Inspect, S::Inspecting),
    (S::Manageable, E::Adopt, S::Adopting),
    (S::Available, E::Manage, S::Manageable),
    (S::Available, E::Deploy, S::Deploying),
    // Inspection.
    (S::Inspecting, E::Done, S::Manageable),
    (S::Inspecting, E::Wait, S::InspectWait),
    (S::Inspecting, E::Fail, S::InspectFailed),
    (S::InspectWait, E::Done, S::Manageable),
    (S::InspectWait, E::Resume, S::Inspecting),
    (S::InspectWait, E::Fail, S::InspectFailed),
    (S::InspectWait, E::Abort, S::InspectFailed),
    (S::InspectFailed, E::Inspect, S::Inspecting),
    (S::InspectFailed, E::Manage, S::Manageable),
    // Cleaning, automated (to available) or manual (back to manageable).
    (S::Cleaning, E::Done, S::Available),
    (S::Cleaning, E::Manage, S::Manageable),
    (S::Cleaning, E::Wait, S::CleanWait),
    (S::Cleaning, E::Hold, S::CleanHold),
    (S::Cleaning, E::Fail, S::CleanFailed),
    (S::CleanWait, E::Resume, S::Cleaning),
    (S::CleanWait, E::Hold, S::CleanHold),
    (S::CleanWait, E::Fail, S::CleanFailed),
    (S::CleanWait, E::Abort, S::CleanFailed),
    (S::CleanHold, E::Unhold, S::CleanWait),
    (S::CleanHold, E::Abort, S::CleanFailed),
    (S::CleanFailed, E::Manage, S::Manageable),
    // Deployment.
    (S::Deploying, E::Done, S::Active),
    (S::Deploying, E::Wait, S::DeployWait),
    (S::Deploying, E::Hold, S::DeployHold),
    (S::Deploying, E::Fail, S::DeployFailed),
    (S::DeployWait, E::Resume, S::Deploying),
    (S::DeployWait, E::Hold, S::DeployHold),
    (S::DeployWait, E::Fail, S::DeployFailed),
    (S::DeployWait, E::Abort, S::DeployFailed),
    (S::DeployWait, E::Delete, S::Deleting),
    (S::DeployHold, E::Unhold, S::DeployWait),
    (S::DeployHold, E::Abort, S::DeployFailed),
    (S::DeployFailed, E::Deploy, S::Deploying),
    (S::DeployFailed, E::Rebuild, S::Deploying),
    (S::DeployFailed, E::Delete, S::Deleting),
    // An active node.
    (S::Active, E::Rebuild, S::Deploying),
    (S::Active, E::Delete, S::Deleting),
    (S::Active, E::Rescue, S::Rescuing),
    (S::Active, E::Service, S::Servicing),
    // Tear-down: deleting is followed by (automated) cleaning.
    (S::Deleting, E::Clean, S::Cleaning),
    (S::Deleting, E::Fail, S::Error),
    (S::Error, E::Rebuild, S::Deploying),
    (S::Error, E::Delete, S::Deleting),
    // Adoption.
    (S::Adopting, E::Done, S::Active),
    (S::Adopting, E::Fail, S::AdoptFailed),
    (S::AdoptFailed, E::Adopt, S::Adopting),
    (S::AdoptFailed, E::Manage, S::Manageable),
    // Rescue.
    (S::Rescuing, E::Done, S::Rescue),
    (S::Rescuing, E::Wait, S::RescueWait),
    (S::Rescuing, E::Fail, S::RescueFailed),
    (S::RescueWait, E::Resume, S::Rescuing),
    (S::RescueWait, E::Fail, S::RescueFailed),
    (S::RescueWait, E::Abort, S::RescueFailed),
    (S::RescueWait, E::Delete, S::Deleting),
    (S::RescueFailed, E::Rescue, S::Rescuing),
    (S::RescueFailed, E::Unrescue, S::Unrescuing),
    (S::RescueFailed, E::Delete, S::Deleting),
    (S::Rescue, E::Rescue, S::Rescuing),
    (S::Rescue, E::Unrescue, S::Unrescuing),
    (S::Rescue, E::Delete, S::Deleting),
    (S::Unrescuing, E::Done, S::Active),
    (S::Unrescuing, E::Fail, S::UnrescueFailed),
    (S::UnrescueFailed, E::Rescue, S::Rescuing),
    (S::UnrescueFailed, E::Unrescue, S::Unrescuing),
    (S::UnrescueFailed, E::Delete, S::Deleting),
    // Servicing an active node.
    (S::Servicing, E::Done, S::Active),
    (S::Servicing, E::Wait, S::ServiceWait),
    (S::Servicing, E::Hold, S::ServiceHold),
    (S::Servicing, E::Fail, S::ServiceFailed),
    (S::ServiceWait, E::Resume, S::Servicing),
    (S::ServiceWait, E::Hold, S::ServiceHold),
    (S::ServiceWait, E::Fail, S::ServiceFailed),
    (S::ServiceWait, E::Abort, S::ServiceFailed),
    (S::ServiceWait, E::Delete, S::Deleting),
    (S::ServiceHold, E::Service, S::Servicing),
    (S::ServiceHold, E::Unhold, S::ServiceWait),
    (S::ServiceHold, E::Fail, S::ServiceFailed),
    (S::ServiceHold, E::Abort, S::ServiceFailed),
    (S::ServiceFailed, E::Service, S::Servicing),
    (S::ServiceFailed, E::Wait, S::ServiceWait),
    (S::ServiceFailed, E::Hold, S::ServiceHold),
    // Aborting a failed service returns the node to active.
    (S::ServiceFailed, E::Abort, S::Active),
    (S::ServiceFailed, E::Rescue, S::Rescuing),
    (S::ServiceFailed, E::Delete, S::Deleting),
];

/// The state `event` leads to from `state`, or `None` if the machine does
/// not accept `event` there (Ironic's `is_actionable_event` is
/// `next(..).is_some()`).
pub fn next(state: ProvisionState, event: Event) -> Option<ProvisionState> {
    TRANSITIONS
        .iter()
        .find(|(from, on, _)| *from == state && *on == event)
        .map(|(_, _, to)| *to)
}

/// The events `state` accepts and where each leads, in table order.
pub fn events_from(state: ProvisionState) -> impl Iterator<Item = (Event, ProvisionState)> {
    TRANSITIONS
        .iter()
        .filter(move |(from, _, _)| *from == state)
        .map(|(_, event, to)| (*event, *to))
}

/// Stable states only change on a request; a node in one has no
/// `target_provision_state`. Same set as [`STABLE_STATES`].
pub const fn is_stable(state: ProvisionState) -> bool {
    matches!(
        state,
        S::Enroll | S::Manageable | S::Available | S::Active | S::Error | S::Rescue
    )
}

/// The default `target_provision_state` of a node in `state`: `None` for
/// stable states, otherwise the stable state the flow is heading to.
///
/// The cleaning states default to `available`; a manual clean heads back to
/// `manageable` instead, which only [`advance`] can know (it depends on how
/// cleaning was entered).
pub const fn target_of(state: ProvisionState) -> Option<ProvisionState> {
    match state {
        S::Enroll | S::Manageable | S::Available | S::Active | S::Error | S::Rescue => None,
        S::Verifying | S::Inspecting | S::InspectWait | S::InspectFailed => Some(S::Manageable),
        S::Cleaning | S::CleanWait | S::CleanHold | S::CleanFailed | S::Deleting => {
            Some(S::Available)
        }
        S::Deploying
        | S::DeployWait
        | S::DeployHold
        | S::DeployFailed
        | S::Adopting
        | S::AdoptFailed
        | S::Unrescuing
        | S::UnrescueFailed
        | S::Servicing
        | S::ServiceWait
        | S::ServiceHold
        | S::ServiceFailed => Some(S::Active),
        S::Rescuing | S::RescueWait | S::RescueFailed => Some(S::Rescue),
    }
}

/// A node's provision state and target after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub state: ProvisionState,
    pub target: Option<ProvisionState>,
}

/// Apply `event` to a node in `state` whose `target_provision_state` is
/// `target`; this is what gets written back to the node.
///
/// The target follows Ironic's rules: cleared when the node lands in a
/// stable state, otherwise the new state's [`target_of`], except during a
/// manual clean. A manual clean is `clean` from `manageable`; it targets
/// `manageable`, and every later step inside cleaning (`cleaning`,
/// `clean wait`, `clean hold`, `clean failed`) keeps that target, so the
/// conductor knows to finish with `manage` instead of `done`. (Ironic's
/// conductor passes the target explicitly on `wait`, `resume`, `fail` and
/// `abort` but not on `hold`/`unhold`, which in Ironic 39 silently turns a
/// held manual clean into an automated one; Berth keeps `manageable`.)
pub fn advance(
    state: ProvisionState,
    target: Option<ProvisionState>,
    event: Event,
) -> Result<Transition, StateError> {
    let to = next(state, event).ok_or(StateError::InvalidTransition { state, event })?;
    let manual_clean = is_cleaning(to)
        && ((state == S::Manageable && event == E::Clean)
            || (is_cleaning(state) && target == Some(S::Manageable)));
    let target = if is_stable(to) {
        None
    } else if manual_clean {
        Some(S::Manageable)
    } else {
        target_of(to)
    };
    Ok(Transition { state: to, target })
}

const fn is_cleaning(state: ProvisionState) -> bool {
    matches!(
        state,
        S::Cleaning | S::CleanWait | S::CleanHold | S::CleanFailed
    )
}

/// States that only change on a request (Ironic's `STABLE_STATES`).
pub const STABLE_STATES: &[ProvisionState] = &[
    S::Enroll,
    S::Manageable,
    S::Available,
    S::Active,
    S::Error,
    S::Rescue,
];

/// States where work is in flight and changes without a request (Ironic's
/// `UNSTABLE_STATES`). Not the complement of [`STABLE_STATES`]: the
/// `* failed` and `* hold` states are in neither. The API refuses boot-mode
/// and secure-boot changes in these.
pub const UNSTABLE_STATES: &[ProvisionState] = &[
    S::Deploying,
    S::DeployWait,
    S::Cleaning,
    S::CleanWait,
    S::Verifying,
    S::Deleting,
    S::Inspecting,
    S::InspectWait,
    S::Adopting,
    S::Rescuing,
    S::RescueWait,
    S::Unrescuing,
    S::Servicing,
    S::ServiceWait,
];

/// States in which `PATCH /v1/nodes/{node}` is accepted even though a
/// transition is in progress (non-null target); elsewhere it is a 409.
///
/// From microversion 1.39 `inspecting` is refused anyway (the API checks
/// that separately). Ironic's tuple also holds `"service"`, which is a verb
/// and no state, so it matches nothing and `servicing` stays locked; it is
/// left out here.
pub const UPDATE_ALLOWED_STATES: &[ProvisionState] = &[
    S::DeployFailed,
    S::Inspecting,
    S::InspectFailed,
    S::InspectWait,
    S::CleanFailed,
    S::Error,
    S::Verifying,
    S::AdoptFailed,
    S::RescueFailed,
    S::UnrescueFailed,
    S::ServiceHold,
    S::ServiceFailed,
];

/// States in which `DELETE /v1/nodes/{node}` is allowed without maintenance
/// mode (Ironic adds `available` when
/// `[conductor]allow_deleting_available_nodes` is set).
pub const DELETE_ALLOWED_STATES: &[ProvisionState] = &[S::Manageable, S::Enroll, S::AdoptFailed];

/// The `* failed` states: a power action in one keeps `last_error`.
pub const FAILURE_STATES: &[ProvisionState] = &[
    S::DeployFailed,
    S::CleanFailed,
    S::InspectFailed,
    S::RescueFailed,
    S::UnrescueFailed,
    S::AdoptFailed,
    S::ServiceFailed,
];

/// States whose work cannot resume after its conductor died; a node found
/// in one with a stale reservation gets the `fail` event.
pub const STUCK_STATES_TREATED_AS_FAIL: &[ProvisionState] = &[
    S::Deploying,
    S::Cleaning,
    S::Verifying,
    S::Inspecting,
    S::Adopting,
    S::Rescuing,
    S::Unrescuing,
    S::Deleting,
    S::Servicing,
];

/// States in which the agent's `GET /v1/lookup` finds the node.
pub const LOOKUP_ALLOWED_STATES: &[ProvisionState] = &[
    S::Deploying,
    S::DeployWait,
    S::Cleaning,
    S::CleanWait,
    S::Inspecting,
    S::InspectWait,
    S::Rescuing,
    S::RescueWait,
    S::ServiceWait,
];

/// States in which lookup works when fast-track is enabled.
pub const FASTTRACK_LOOKUP_ALLOWED_STATES: &[ProvisionState] = &[
    S::Enroll,
    S::Manageable,
    S::Available,
    S::Deploying,
    S::DeployWait,
    S::Cleaning,
    S::CleanWait,
    S::Inspecting,
    S::InspectWait,
    S::Rescuing,
    S::RescueWait,
    S::Servicing,
    S::ServiceWait,
    S::ServiceHold,
];

/// The servicing flow's states.
pub const SERVICING_STATES: &[ProvisionState] = &[
    S::Servicing,
    S::ServiceWait,
    S::ServiceFailed,
    S::ServiceHold,
];

/// The inspection flow's states.
pub const INSPECTION_STATES: &[ProvisionState] = &[S::Inspecting, S::InspectWait, S::InspectFailed];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn representative_transitions() {
        assert_eq!(next(S::Enroll, E::Manage), Some(S::Verifying));
        assert_eq!(next(S::Verifying, E::Fail), Some(S::Enroll));
        assert_eq!(next(S::Manageable, E::Adopt), Some(S::Adopting));
        assert_eq!(next(S::Adopting, E::Done), Some(S::Active));
        assert_eq!(next(S::Active, E::Delete), Some(S::Deleting));
        assert_eq!(next(S::Deleting, E::Clean), Some(S::Cleaning));
        assert_eq!(next(S::Cleaning, E::Done), Some(S::Available));
        assert_eq!(next(S::ServiceFailed, E::Abort), Some(S::Active));
        assert_eq!(next(S::Enroll, E::Provide), None);
        assert_eq!(next(S::Available, E::Delete), None);
        assert_eq!(next(S::Deploying, E::Abort), None);
    }

    #[test]
    fn table_is_deterministic_and_covers_every_state_and_event() {
        let mut seen = BTreeSet::new();
        for (from, event, _) in TRANSITIONS {
            assert!(
                seen.insert((*from, *event)),
                "two rows for {from} / {event}"
            );
        }
        let states: BTreeSet<_> = TRANSITIONS.iter().flat_map(|(f, _, t)| [*f, *t]).collect();
        assert_eq!(states, ProvisionState::ALL.iter().copied().collect());
        let events: BTreeSet<_> = TRANSITIONS.iter().map(|(_, e, _)| *e).collect();
        assert_eq!(events, Event::ALL.iter().copied().collect());
    }

    #[test]
    fn stable_states_and_targets_agree() {
        for state in ProvisionState::ALL {
            assert_eq!(is_stable(*state), STABLE_STATES.contains(state), "{state}");
            assert_eq!(is_stable(*state), target_of(*state).is_none(), "{state}");
            if let Some(target) = target_of(*state) {
                assert!(is_stable(target), "{state} targets unstable {target}");
            }
        }
        for state in UNSTABLE_STATES {
            assert!(!is_stable(*state), "{state}");
        }
    }

    #[test]
    fn advance_sets_targets_like_ironic() {
        let step = |state, target, event| advance(state, target, event).unwrap();
        assert_eq!(
            step(S::Enroll, None, E::Manage),
            Transition {
                state: S::Verifying,
                target: Some(S::Manageable)
            }
        );
        assert_eq!(
            step(S::Verifying, Some(S::Manageable), E::Fail),
            Transition {
                state: S::Enroll,
                target: None
            }
        );
        // Failure states keep a target; that is why clients look at the name.
        assert_eq!(
            step(S::Adopting, Some(S::Active), E::Fail).target,
            Some(S::Active)
        );
        assert_eq!(step(S::Active, None, E::Delete).target, Some(S::Available));
        assert_eq!(
            advance(S::Available, None, E::Delete),
            Err(StateError::InvalidTransition {
                state: S::Available,
                event: E::Delete
            })
        );
    }

    #[test]
    fn manual_clean_heads_back_to_manageable() {
        let mut node = Transition {
            state: S::Manageable,
            target: None,
        };
        for event in [E::Clean, E::Wait, E::Hold, E::Unhold, E::Resume] {
            node = advance(node.state, node.target, event).unwrap();
            assert_eq!(node.target, Some(S::Manageable), "after {event}");
        }
        assert_eq!(node.state, S::Cleaning);
        let failed = advance(node.state, node.target, E::Fail).unwrap();
        assert_eq!(failed.target, Some(S::Manageable));
        let done = advance(node.state, node.target, E::Manage).unwrap();
        assert_eq!(
            done,
            Transition {
                state: S::Manageable,
                target: None
            }
        );
    }

    #[test]
    fn automated_clean_heads_to_available() {
        let provide = advance(S::Manageable, None, E::Provide).unwrap();
        assert_eq!(provide.target, Some(S::Available));
        let teardown = advance(S::Deleting, Some(S::Available), E::Clean).unwrap();
        assert_eq!(teardown.target, Some(S::Available));
        let waiting = advance(S::Cleaning, Some(S::Available), E::Wait).unwrap();
        assert_eq!(waiting.target, Some(S::Available));
    }

    #[test]
    fn every_string_round_trips() {
        for state in ProvisionState::ALL {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(
                serde_json::from_str::<ProvisionState>(&json).unwrap(),
                *state
            );
            assert_eq!(state.to_string().parse::<ProvisionState>().unwrap(), *state);
        }
        for event in Event::ALL {
            assert_eq!(event.to_string().parse::<Event>().unwrap(), *event);
            let json = serde_json::to_string(event).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), *event);
        }
        assert_eq!(S::DeployWait.to_string(), "wait call-back");
        assert_eq!(
            "deleted".parse::<ProvisionState>(),
            Err(StateError::UnknownProvisionState("deleted".into()))
        );
        assert!(serde_json::from_str::<ProvisionState>("\"Active\"").is_err());
    }
}
