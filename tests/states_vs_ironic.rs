#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Berth's provision state machine against the one real Ironic 39 builds.
//!
//! `tools/dump-ironic-fsm.py`, run by the Python in
//! `BERTH_TEST_IRONIC_PYTHON` (the test venv, which pins `ironic==39.0.0`),
//! prints Ironic's states, transitions, state sets, verbs and their
//! microversions as JSON; every one must equal `berth::states`. Without that
//! variable the test prints SKIP and passes, unless `BERTH_REQUIRE_PEERS=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use berth::states::{
    advance, is_stable, target_of, Event, PowerState, ProvisionState, Verb, DELETE_ALLOWED_STATES,
    FAILURE_STATES, FASTTRACK_LOOKUP_ALLOWED_STATES, INSPECTION_STATES, LOOKUP_ALLOWED_STATES,
    POWER_TARGETS, SERVICING_STATES, STABLE_STATES, STUCK_STATES_TREATED_AS_FAIL, TRANSITIONS,
    UNSTABLE_STATES, UPDATE_ALLOWED_STATES,
};
use serde::Deserialize;

const IRONIC_VERSION: &str = "39.0.0";
const PYTHON_VAR: &str = "BERTH_TEST_IRONIC_PYTHON";

#[derive(Deserialize)]
struct Dump {
    ironic_version: Option<String>,
    states: BTreeMap<String, StateInfo>,
    events: Vec<String>,
    transitions: Vec<Row>,
    sets: BTreeMap<String, Vec<String>>,
    verbs: BTreeMap<String, String>,
    api_targets: Vec<String>,
    min_verb_minor: BTreeMap<String, Option<u32>>,
    late_min_minor: BTreeMap<String, u32>,
    power_states: Vec<String>,
    power_targets: Vec<String>,
    soft_power_min_minor: u32,
}

#[derive(Deserialize)]
struct StateInfo {
    stable: bool,
    target: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    from: String,
    event: String,
    to: String,
    /// The FSM's target after the event, before the task manager clears it
    /// for a stable destination.
    fsm_target: Option<String>,
}

/// Mismatches, collected so one run shows all of them.
#[derive(Default)]
struct Diff(Vec<String>);

impl Diff {
    fn sets(&mut self, what: &str, berth: BTreeSet<String>, ironic: BTreeSet<String>) {
        let only_berth: Vec<_> = berth.difference(&ironic).collect();
        let only_ironic: Vec<_> = ironic.difference(&berth).collect();
        if !only_berth.is_empty() || !only_ironic.is_empty() {
            self.0.push(format!(
                "{what}:\n    only in Berth:  {only_berth:?}\n    only in Ironic: {only_ironic:?}"
            ));
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, berth: T, ironic: T) {
        if berth != ironic {
            self.0
                .push(format!("{what}: Berth {berth:?}, Ironic {ironic:?}"));
        }
    }
}

fn names<T: ToString>(items: impl IntoIterator<Item = T>) -> BTreeSet<String> {
    items.into_iter().map(|i| i.to_string()).collect()
}

fn opt_name(state: Option<ProvisionState>) -> Option<String> {
    state.map(|s| s.to_string())
}

fn dump_ironic(python: &str) -> Dump {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tools/dump-ironic-fsm.py");
    let started = Instant::now();
    let out = Command::new(python)
        .arg(&script)
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "dumped Ironic's state machine in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    serde_json::from_slice(&out.stdout).expect("the dump script prints JSON")
}

#[test]
fn provision_state_machine_equals_ironic() {
    let python = match std::env::var(PYTHON_VAR) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let hint = "point it at the test venv's python, e.g. ~/.cache/berth/venv/bin/python";
            if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{PYTHON_VAR} is not set but BERTH_REQUIRE_PEERS=1; {hint}");
            }
            eprintln!(
                "SKIP provision_state_machine_equals_ironic: {PYTHON_VAR} is not set ({hint})"
            );
            return;
        }
    };
    let ironic = dump_ironic(&python);
    let mut diff = Diff::default();

    diff.eq(
        "Ironic version",
        Some(IRONIC_VERSION.to_owned()),
        ironic.ironic_version.clone(),
    );

    // States, events and THE table.
    let ironic_states: BTreeSet<String> = ironic.states.keys().cloned().collect();
    diff.sets("states", names(ProvisionState::ALL), ironic_states.clone());
    diff.sets(
        "events",
        names(Event::ALL),
        ironic.events.iter().cloned().collect(),
    );
    diff.sets(
        "transitions (from | event -> to)",
        TRANSITIONS
            .iter()
            .map(|(f, e, t)| format!("{f} | {e} -> {t}"))
            .collect(),
        ironic
            .transitions
            .iter()
            .map(|r| format!("{} | {} -> {}", r.from, r.event, r.to))
            .collect(),
    );

    // Stable flags and default targets.
    for state in ProvisionState::ALL {
        if let Some(info) = ironic.states.get(state.as_str()) {
            diff.eq(&format!("stable({state})"), is_stable(*state), info.stable);
            diff.eq(
                &format!("target_of({state})"),
                opt_name(target_of(*state)),
                info.target.clone(),
            );
        }
    }

    // The target each transition leaves behind: the FSM's, cleared by the
    // task manager when the destination is stable. The one place where
    // Ironic's conductor overrides the FSM from a node's default target is
    // a manual clean (`do_node_clean` passes `target_state=MANAGEABLE`).
    for row in &ironic.transitions {
        let (Ok(from), Ok(event), Ok(to)) = (
            row.from.parse::<ProvisionState>(),
            row.event.parse::<Event>(),
            row.to.parse::<ProvisionState>(),
        ) else {
            continue; // already reported as a state or event difference
        };
        let expected = if is_stable(to) {
            None
        } else if (from, event) == (ProvisionState::Manageable, Event::Clean) {
            Some(ProvisionState::Manageable.to_string())
        } else {
            row.fsm_target.clone()
        };
        let got = advance(from, target_of(from), event).map(|t| opt_name(t.target));
        diff.eq(&format!("target after {from} | {event}"), got, Ok(expected));
    }

    // State sets. Entries of Ironic's sets that are no state of its machine
    // cannot be expressed in Berth's; the known one is listed here so that
    // a change in Ironic shows up.
    let berth_sets: [(&str, &[ProvisionState]); 10] = [
        ("STABLE_STATES", STABLE_STATES),
        ("UNSTABLE_STATES", UNSTABLE_STATES),
        ("UPDATE_ALLOWED_STATES", UPDATE_ALLOWED_STATES),
        ("DELETE_ALLOWED_STATES", DELETE_ALLOWED_STATES),
        ("FAILURE_STATES", FAILURE_STATES),
        ("STUCK_STATES_TREATED_AS_FAIL", STUCK_STATES_TREATED_AS_FAIL),
        ("LOOKUP_ALLOWED_STATES", LOOKUP_ALLOWED_STATES),
        (
            "FASTTRACK_LOOKUP_ALLOWED_STATES",
            FASTTRACK_LOOKUP_ALLOWED_STATES,
        ),
        ("SERVICING_STATES", SERVICING_STATES),
        ("INSPECTION_STATES", INSPECTION_STATES),
    ];
    let known_non_states: BTreeMap<&str, BTreeSet<String>> = [
        ("UPDATE_ALLOWED_STATES", names(["service"])),
        ("ALL_STATES", names(["deleted", "deploy complete"])),
    ]
    .into_iter()
    .collect();
    for (name, berth) in berth_sets {
        let Some(theirs) = ironic.sets.get(name) else {
            diff.0.push(format!("Ironic has no {name}"));
            continue;
        };
        let theirs: BTreeSet<String> = theirs.iter().cloned().collect();
        let (states, others): (BTreeSet<String>, BTreeSet<String>) =
            theirs.into_iter().partition(|s| ironic_states.contains(s));
        diff.sets(name, names(berth), states);
        diff.sets(
            &format!("{name}: entries that are no state"),
            known_non_states.get(name).cloned().unwrap_or_default(),
            others,
        );
    }
    let all: BTreeSet<String> = ironic.sets["ALL_STATES"].iter().cloned().collect();
    diff.sets(
        "ALL_STATES minus the machine's states",
        known_non_states["ALL_STATES"].clone(),
        all.difference(&ironic_states).cloned().collect(),
    );

    // Verbs: Ironic's VERBS, plus "rebuild", which the API passes through.
    diff.sets(
        "API provision targets",
        names(Verb::ALL),
        ironic.api_targets.iter().cloned().collect(),
    );
    diff.sets(
        "VERBS (target -> event)",
        Verb::ALL
            .iter()
            .filter(|v| **v != Verb::Rebuild)
            .map(|v| format!("{v} -> {}", v.event()))
            .collect(),
        ironic
            .verbs
            .iter()
            .map(|(verb, event)| format!("{verb} -> {event}"))
            .collect(),
    );
    diff.eq("rebuild's event", Verb::Rebuild.event(), Event::Rebuild);
    for verb in Verb::ALL {
        if let Some(minor) = ironic.min_verb_minor.get(verb.as_str()) {
            diff.eq(
                &format!("min_version({verb})"),
                verb.min_version(),
                (1, minor.unwrap_or(1)),
            );
        }
    }
    let late = |key: &str| ironic.late_min_minor.get(key).map(|m| (1, *m));
    for state in ProvisionState::ALL {
        let expect = |verb: Verb| match (verb, state) {
            (Verb::Unhold, _) => late("unhold"),
            (Verb::Service, _) => late("service"),
            (Verb::Abort, ProvisionState::InspectWait) => late("abort_from_inspect_wait"),
            (Verb::Abort, ProvisionState::DeployWait) => late("abort_from_deploy_wait"),
            _ => None,
        };
        for verb in Verb::ALL {
            diff.eq(
                &format!("min_version_after_state_check({verb}, {state})"),
                verb.min_version_after_state_check(*state),
                expect(*verb),
            );
        }
    }

    // Power.
    diff.sets(
        "power states",
        names(PowerState::ALL),
        ironic.power_states.iter().cloned().collect(),
    );
    diff.sets(
        "power targets",
        names(POWER_TARGETS),
        ironic.power_targets.iter().cloned().collect(),
    );
    for soft in [PowerState::SoftRebooting, PowerState::SoftPowerOff] {
        diff.eq(
            &format!("min_version_as_target({soft})"),
            soft.min_version_as_target(),
            Some((1, ironic.soft_power_min_minor)),
        );
    }

    assert!(
        diff.0.is_empty(),
        "berth::states differs from Ironic {}:\n  {}",
        ironic.ironic_version.as_deref().unwrap_or("?"),
        diff.0.join("\n  ")
    );
    eprintln!(
        "Berth's state machine equals Ironic {}: {} states, {} events, {} transitions",
        IRONIC_VERSION,
        ProvisionState::ALL.len(),
        Event::ALL.len(),
        TRANSITIONS.len()
    );
}
