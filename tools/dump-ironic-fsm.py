#!/usr/bin/env python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Print Ironic's provision state machine and API state rules as JSON.

Run it with a Python that has Ironic installed (the test venv pins
ironic==39.0.0). tests/states_vs_ironic.rs compares the output with
Berth's ``src/states`` table. Nothing here needs a config file, a database
or a running service: the machine is built when
``ironic.common.state_machine`` is imported, and the API rules are module
constants.
"""

import importlib
from importlib import metadata
import json
import sys
import warnings


def _load(name):
    # Importing the API package pulls in oslo.service, whose eventlet
    # backend warns on import; the warning is noise for this tool.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return importlib.import_module(name)


def _machine_dump(machine):
    """States (stable flag, default target) and transitions of a machine.

    For each transition, also record the target the FSM holds after the
    event when no explicit target is passed (what a conductor gets from
    ``task.process_event(event)``), starting from the source state's own
    default target (what ``TaskManager`` initialises the FSM with).
    """
    states = {}
    for name in machine.states:
        probe = machine.copy()
        probe.initialize(start_state=name)
        states[name] = {
            'stable': machine.is_stable(name),
            'target': probe.target_state,
        }

    transitions = []
    for source, event, dest in machine:
        probe = machine.copy()
        probe.initialize(start_state=source)
        probe.process_event(event)
        transitions.append({
            'from': source,
            'event': event,
            'to': dest,
            'fsm_target': probe.target_state,
        })
    transitions.sort(key=lambda t: (t['from'], t['event']))
    return states, transitions


def _state_sets(st):
    names = (
        'STABLE_STATES', 'UNSTABLE_STATES', 'UPDATE_ALLOWED_STATES',
        'DELETE_ALLOWED_STATES', 'FAILURE_STATES',
        'STUCK_STATES_TREATED_AS_FAIL', 'LOOKUP_ALLOWED_STATES',
        'FASTTRACK_LOOKUP_ALLOWED_STATES', 'SERVICING_STATES',
        'INSPECTION_STATES', 'ALL_STATES',
    )
    return {name: sorted(getattr(st, name)) for name in names}


def _api_rules(st):
    """Verb versions and power targets, read from Ironic's API modules."""
    api_utils = _load('ironic.api.controllers.v1.utils')
    node = _load('ironic.api.controllers.v1.node')
    versions = _load('ironic.api.controllers.v1.versions')

    # The provision handler accepts every VERBS key plus "rebuild" (it
    # looks the target up with VERBS.get(target, target)), and it gates
    # the raw target string through MIN_VERB_VERSIONS before any state
    # check; a missing key means "any version".
    targets = sorted(set(st.VERBS) | {st.REBUILD})
    return {
        'verbs': dict(st.VERBS),
        'api_targets': targets,
        'min_verb_minor': {
            t: api_utils.MIN_VERB_VERSIONS.get(t) for t in targets},
        # Checked only after the state check, in the provision handler.
        'late_min_minor': {
            'unhold': versions.MINOR_85_UNHOLD_VERB,
            'service': versions.MINOR_87_SERVICE,
            'abort_from_inspect_wait': versions.MINOR_41_INSPECTION_ABORT,
            'abort_from_deploy_wait': versions.MINOR_110_DEPLOYWAIT_ABORT,
        },
        'power_states': sorted([
            st.POWER_ON, st.POWER_OFF, st.REBOOT, st.SOFT_REBOOT,
            st.SOFT_POWER_OFF, st.ERROR]),
        'power_targets': sorted(node.ALLOWED_TARGET_POWER_STATES),
        'soft_power_min_minor': versions.MINOR_27_SOFT_POWER_OFF,
    }


def main():
    st = _load('ironic.common.states')
    state_machine = _load('ironic.common.state_machine')
    try:
        version = metadata.version('ironic')
    except metadata.PackageNotFoundError:
        version = None

    states, transitions = _machine_dump(state_machine.machine)
    dump = {
        'ironic_version': version,
        'states': states,
        'events': sorted({t['event'] for t in transitions}),
        'transitions': transitions,
        'sets': _state_sets(st),
    }
    dump.update(_api_rules(st))
    json.dump(dump, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
