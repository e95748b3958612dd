//! The `target` values of `PUT /v1/nodes/{node}/states/provision`: which
//! state machine event each fires and which microversion it needs.
//!
//! Ironic's provision handler, in order: (1) [`Verb::min_version`] → 406;
//! (2) `active`/`rebuild` on a node in maintenance → 400
//! ([`Verb::refused_in_maintenance`]); (3) the verb's event not accepted in
//! the current state → 409 if the node is reserved, else 400; (4) the late
//! version checks of [`Verb::min_version_after_state_check`] → 406. Ironic
//! treats an unknown target string as an event name, so a string that is no
//! verb fails at step (3), not with a parse error.

use super::provision::{Event, ProvisionState};

ironic_strings! {
    /// A provision target as the API receives it.
    pub enum Verb (unknown: UnknownVerb) {
        /// Deploy (the pre-1.73 spelling of `deploy`).
        Active = "active",
        Deploy = "deploy",
        /// Redeploy an active, failed or errored node.
        Rebuild = "rebuild",
        /// Tear down (the pre-1.73 spelling of `undeploy`).
        Deleted = "deleted",
        Undeploy = "undeploy",
        Manage = "manage",
        Provide = "provide",
        Inspect = "inspect",
        Abort = "abort",
        /// Manual cleaning (needs `clean_steps`).
        Clean = "clean",
        Adopt = "adopt",
        /// Needs `rescue_password`.
        Rescue = "rescue",
        Unrescue = "unrescue",
        Unhold = "unhold",
        /// Service steps on an active node (needs `service_steps`).
        Service = "service",
    }
}

impl Verb {
    /// The state machine event this verb fires (Ironic's `VERBS`, plus
    /// `rebuild`, which the API passes through as the event of that name).
    pub const fn event(self) -> Event {
        match self {
            Verb::Active | Verb::Deploy => Event::Deploy,
            Verb::Rebuild => Event::Rebuild,
            Verb::Deleted | Verb::Undeploy => Event::Delete,
            Verb::Manage => Event::Manage,
            Verb::Provide => Event::Provide,
            Verb::Inspect => Event::Inspect,
            Verb::Abort => Event::Abort,
            Verb::Clean => Event::Clean,
            Verb::Adopt => Event::Adopt,
            Verb::Rescue => Event::Rescue,
            Verb::Unrescue => Event::Unrescue,
            Verb::Unhold => Event::Unhold,
            Verb::Service => Event::Service,
        }
    }

    /// The oldest microversion that accepts this target string, checked
    /// before anything else (Ironic's `MIN_VERB_VERSIONS`); older → 406.
    ///
    /// `undeploy` is (1, 1) on purpose: Ironic 39 keys that table by event
    /// (`VERBS["undeploy"]` is `"delete"`) but looks the raw target up, so
    /// `undeploy` is never version-checked there; Berth answers the same.
    pub const fn min_version(self) -> (u32, u32) {
        match self {
            Verb::Manage | Verb::Provide => (1, 4),
            Verb::Inspect => (1, 6),
            Verb::Abort => (1, 13),
            Verb::Clean => (1, 15),
            Verb::Adopt => (1, 17),
            Verb::Rescue | Verb::Unrescue => (1, 38),
            Verb::Deploy => (1, 73),
            Verb::Active
            | Verb::Rebuild
            | Verb::Deleted
            | Verb::Undeploy
            | Verb::Unhold
            | Verb::Service => (1, 1),
        }
    }

    /// A further minimum the provision handler checks only after the state
    /// check passed (so an old client gets 400/409 for a wrong state before
    /// 406): `unhold` 1.85, `service` 1.87, `abort` from `inspect wait` 1.41
    /// and from `wait call-back` 1.110.
    pub const fn min_version_after_state_check(self, state: ProvisionState) -> Option<(u32, u32)> {
        match (self, state) {
            (Verb::Unhold, _) => Some((1, 85)),
            (Verb::Service, _) => Some((1, 87)),
            (Verb::Abort, ProvisionState::InspectWait) => Some((1, 41)),
            (Verb::Abort, ProvisionState::DeployWait) => Some((1, 110)),
            _ => None,
        }
    }

    /// Whether a node in maintenance refuses this verb (400). Only the two
    /// strings Ironic checks: `deploy` is not refused, `active` is.
    pub const fn refused_in_maintenance(self) -> bool {
        matches!(self, Verb::Active | Verb::Rebuild)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_parse_and_map_to_events() {
        assert_eq!("active".parse::<Verb>().unwrap().event(), Event::Deploy);
        assert_eq!("deploy".parse::<Verb>().unwrap().event(), Event::Deploy);
        assert_eq!("deleted".parse::<Verb>().unwrap().event(), Event::Delete);
        assert_eq!("undeploy".parse::<Verb>().unwrap().event(), Event::Delete);
        assert_eq!("rebuild".parse::<Verb>().unwrap().event(), Event::Rebuild);
        assert_eq!("adopt".parse::<Verb>().unwrap(), Verb::Adopt);
        assert!("delete".parse::<Verb>().is_err());
        assert!("done".parse::<Verb>().is_err());
        for verb in Verb::ALL {
            assert_eq!(verb.to_string().parse::<Verb>().unwrap(), *verb);
            let json = serde_json::to_string(verb).unwrap();
            assert_eq!(serde_json::from_str::<Verb>(&json).unwrap(), *verb);
        }
    }

    #[test]
    fn min_versions_follow_ironic() {
        assert_eq!(Verb::Manage.min_version(), (1, 4));
        assert_eq!(Verb::Provide.min_version(), (1, 4));
        assert_eq!(Verb::Inspect.min_version(), (1, 6));
        assert_eq!(Verb::Abort.min_version(), (1, 13));
        assert_eq!(Verb::Clean.min_version(), (1, 15));
        assert_eq!(Verb::Adopt.min_version(), (1, 17));
        assert_eq!(Verb::Rescue.min_version(), (1, 38));
        assert_eq!(Verb::Unrescue.min_version(), (1, 38));
        assert_eq!(Verb::Deploy.min_version(), (1, 73));
        assert_eq!(Verb::Active.min_version(), (1, 1));
        assert_eq!(Verb::Deleted.min_version(), (1, 1));
        assert_eq!(Verb::Undeploy.min_version(), (1, 1));
        assert_eq!(
            Verb::Unhold.min_version_after_state_check(ProvisionState::CleanHold),
            Some((1, 85))
        );
        assert_eq!(
            Verb::Abort.min_version_after_state_check(ProvisionState::DeployWait),
            Some((1, 110))
        );
        assert_eq!(
            Verb::Abort.min_version_after_state_check(ProvisionState::CleanWait),
            None
        );
    }

    #[test]
    fn maintenance_blocks_active_and_rebuild_only() {
        let blocked: Vec<_> = Verb::ALL
            .iter()
            .filter(|v| v.refused_in_maintenance())
            .collect();
        assert_eq!(blocked, [&Verb::Active, &Verb::Rebuild]);
    }
}
