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

"""Write the driver_info properties each Ironic interface documents.

Run it with a Python that has Ironic installed (the test venv pins
ironic==39.0.0):

    ~/.cache/berth/venv/bin/python tools/dump-ironic-driver-properties.py \
        > src/drivers/interface_properties.json

The result maps interface kind -> implementation -> {property: description}
for the implementations the fake-hardware, ipmi and redfish hardware types
support. Ironic serves these texts at GET /v1/drivers/{name}/properties;
Berth serves the same from this file (src/drivers/properties.rs).
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import warnings

warnings.simplefilter('ignore')


def main():
    from ironic.conf import CONF
    CONF([], project='ironic')
    # The iPXE boot interfaces look for their script when constructed.
    root = tempfile.mkdtemp()
    open(os.path.join(root, 'boot.ipxe'), 'w').close()
    CONF.set_override('http_root', root, group='deploy')

    from stevedore import ExtensionManager

    from ironic.drivers import base
    from ironic.drivers import fake_hardware
    from ironic.drivers import ipmi
    from ironic.drivers import redfish

    hardware = [fake_hardware.FakeHardware(), ipmi.IPMIHardware(),
                redfish.RedfishHardware()]
    result = {}
    for kind in sorted(base.ALL_INTERFACES):
        supported = set()
        for hw in hardware:
            supported.update(getattr(hw, 'supported_%s_interfaces' % kind))
        manager = ExtensionManager('ironic.hardware.interfaces.%s' % kind,
                                   invoke_on_load=False)
        for ext in manager:
            if ext.plugin in supported:
                # Some constructors print configuration advice; keep it out.
                with contextlib.redirect_stdout(io.StringIO()):
                    props = ext.plugin().get_properties()
                result.setdefault(kind, {})[ext.name] = props
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
