#   Licensed under the Apache License, Version 2.0 (the "License"); you may
#   not use this file except in compliance with the License. You may obtain
#   a copy of the License at
#
#        http://www.apache.org/licenses/LICENSE-2.0
#
#   Unless required by applicable law or agreed to in writing, software
#   distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#   WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#   License for the specific language governing permissions and limitations
#   under the License.

import argparse

from osc_lib import exceptions as osc_exc
import pytest

from berthclient import client
from berthclient.osc import plugin


class FakeClientManager:
    """The parts of osc_lib's ClientManager that make_client uses."""

    def __init__(self, catalog_endpoint=None, config=None,
                 api_version='1', interface='internal',
                 region_name='RegionTwo'):
        self._api_version = {plugin.API_NAME: api_version}
        self._catalog_endpoint = catalog_endpoint
        self._config = config or {}
        self.interface = interface
        self.region_name = region_name
        self.session = object()
        self.lookups = []

    def get_configuration(self):
        return dict(self._config)

    def get_endpoint_for_service_type(self, service_type, region_name=None,
                                      interface='public'):
        self.lookups.append((service_type, region_name, interface))
        return self._catalog_endpoint


def _parse(argv=()):
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    return parser.parse_args(list(argv))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ('OS_BERTH_API_VERSION', 'OS_BERTH_ENDPOINT_OVERRIDE'):
        monkeypatch.delenv(name, raising=False)


def test_module_contract():
    assert plugin.API_NAME == 'berth'
    assert plugin.API_VERSION_OPTION == 'os_berth_api_version'
    assert '1' in plugin.API_VERSIONS
    assert client.format_version(
        client.LAST_KNOWN_API_VERSION) in plugin.API_VERSIONS
    assert callable(plugin.make_client)


def test_options_default_to_latest():
    args = _parse()
    assert args.os_berth_api_version == '1'
    assert args.os_berth_endpoint_override is None


def test_latest_maps_to_major_version():
    # OSC builds the command group "openstack.berth.v<major>" from this.
    assert _parse(['--os-berth-api-version', 'latest']
                  ).os_berth_api_version == '1'


def test_version_from_environment(monkeypatch):
    monkeypatch.setenv('OS_BERTH_API_VERSION', '1.1')
    assert _parse().os_berth_api_version == '1.1'


def test_unknown_version_is_rejected():
    with pytest.raises(SystemExit):
        _parse(['--os-berth-api-version', '1.999'])


def test_endpoint_override_from_environment(monkeypatch):
    monkeypatch.setenv('OS_BERTH_ENDPOINT_OVERRIDE', 'http://b:6385')
    assert _parse().os_berth_endpoint_override == 'http://b:6385'


def test_make_client_uses_the_baremetal_catalog_entry():
    manager = FakeClientManager(catalog_endpoint='http://cloud:6385/v1')

    berth = plugin.make_client(manager)

    assert manager.lookups == [('baremetal', 'RegionTwo', 'internal')]
    assert berth.endpoint == 'http://cloud:6385'
    assert berth.session is manager.session
    assert berth.api_version == client.LAST_KNOWN_API_VERSION
    assert berth.allow_downgrade


def test_make_client_pins_an_explicit_version():
    manager = FakeClientManager(catalog_endpoint='http://cloud:6385',
                                api_version='1.1')
    berth = plugin.make_client(manager)
    assert berth.api_version == (1, 1)
    assert not berth.allow_downgrade


def test_berth_override_beats_the_catalog():
    manager = FakeClientManager(
        catalog_endpoint='http://ironic:6385',
        config={plugin.ENDPOINT_OVERRIDE_KEY: 'http://berth:6385/'})

    berth = plugin.make_client(manager)

    assert berth.endpoint == 'http://berth:6385'
    assert manager.lookups == []


def test_make_client_without_endpoint():
    manager = FakeClientManager(catalog_endpoint=None)
    with pytest.raises(osc_exc.CommandError) as err:
        plugin.make_client(manager)
    assert '"baremetal"' in str(err.value)
