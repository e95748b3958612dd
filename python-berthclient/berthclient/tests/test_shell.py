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

"""The real ``openstack`` command with the installed plugin, end to end.

These run ``python -m openstackclient.shell`` in a subprocess, so they prove
the entry points are registered and that OSC loads the plugin, builds the
client on its session and prints the result. They need python-openstackclient
and an installed python-berthclient; without them they are skipped, unless
BERTHCLIENT_REQUIRE_OSC=1 (set by tox) turns the skip into a failure.
"""

from importlib import metadata
import json
import os
import subprocess
import sys

import pytest

from berthclient import client
from berthclient.tests import fakes


def _osc_available():
    try:
        import openstackclient.shell  # noqa: F401
    except ImportError:
        return 'python-openstackclient is not installed'
    names = [ep.name for ep in metadata.entry_points(
        group='openstack.cli.extension')]
    if 'berth' not in names:
        return 'python-berthclient is not installed (no entry point)'
    return None


@pytest.fixture(scope='module', autouse=True)
def _need_osc():
    reason = _osc_available()
    if reason:
        if os.environ.get('BERTHCLIENT_REQUIRE_OSC') == '1':
            pytest.fail(reason)
        pytest.skip(reason)


def openstack(tmp_path, *argv, env=None):
    """Run ``openstack ARGV`` with a clean OS_* environment and HOME."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    clean['HOME'] = str(tmp_path)
    clean['XDG_CONFIG_HOME'] = str(tmp_path / 'config')
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, '-m', 'openstackclient.shell'] + list(argv),
        env=clean, capture_output=True, text=True, timeout=120)


def test_version_show_json_with_noauth_endpoint(fake_berth, tmp_path):
    fake_berth.serve_root()

    result = openstack(tmp_path, '--os-auth-type', 'none',
                       '--os-endpoint', fake_berth.url,
                       'berth', 'version', 'show', '-f', 'json')

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{
        'ID': 'v1', 'Status': 'CURRENT', 'Min Version': '1.1',
        'Version': '1.1'}]
    assert [r['path'] for r in fake_berth.requests] == ['/']


def test_version_show_with_berth_endpoint_override(fake_berth, tmp_path):
    fake_berth.serve_root()

    result = openstack(tmp_path, '--os-auth-type', 'none',
                       'berth', 'version', 'show', '-f', 'value',
                       env={'OS_BERTH_ENDPOINT_OVERRIDE':
                            fake_berth.url + '/v1'})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['v1', 'CURRENT', '1.1', '1.1']


def test_version_show_reports_http_errors(fake_berth, tmp_path):
    # No route for "/": the fake answers Ironic's routing 404.
    result = openstack(tmp_path, '--os-auth-type', 'none',
                       '--os-endpoint', fake_berth.url,
                       'berth', 'version', 'show')

    assert result.returncode == 1
    assert 'Not Found (HTTP 404)' in result.stderr


@pytest.mark.parametrize('argv', [('berth', '--help'), ('help', 'berth')])
def test_berth_help_lists_the_commands(tmp_path, argv):
    result = openstack(tmp_path, *argv)

    assert result.returncode == 0, result.stderr
    assert 'berth version show' in result.stdout
    assert 'berth node sensor list' in result.stdout
    for verb in ('create', 'list', 'show', 'delete'):
        assert 'berth image %s' % verb in result.stdout
    for verb in ('list', 'show', 'log'):
        assert 'berth task %s' % verb in result.stdout


def test_node_sensor_list_json(fake_berth, tmp_path):
    path = ('/v1/nodes/%s/sensors?sensor_type=Temperature'
            '&since=2026-12-07T21%%3A00%%3A00Z' % fakes.NODE_UUID)
    fake_berth.add('GET', path, fakes.Response(
        200, fakes.sensors_document(sensors=[fakes.sensor()])))

    result = openstack(tmp_path, '--os-auth-type', 'none',
                       '--os-endpoint', fake_berth.url,
                       'berth', 'node', 'sensor', 'list', fakes.NODE_UUID,
                       '--sensor-type', 'Temperature',
                       '--since', '2026-12-07T21:00:00Z',
                       '--long', '-f', 'json')

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{
        'Sensor Type': 'Temperature', 'Name': 'CPU Temp', 'Reading': 43.0,
        'Unit': 'celsius', 'Health': 'ok', 'Lower Critical': None,
        'Lower Non-Critical': None, 'Upper Non-Critical': 80.0,
        'Upper Critical': 90.0, 'Collected At': fakes.COLLECTED_AT}]
    [request] = fake_berth.requests
    assert request['path'] == path
    assert request['headers'][client.API_VERSION_HEADER] == (
        client.format_version(client.LAST_KNOWN_API_VERSION))


def test_node_sensor_list_default_columns(fake_berth, tmp_path):
    fake_berth.add('GET', '/v1/nodes/node-1/sensors', fakes.Response(
        200, fakes.sensors_document()))

    result = openstack(tmp_path, '--os-auth-type', 'none',
                       '--os-endpoint', fake_berth.url,
                       'berth', 'node', 'sensor', 'list', 'node-1',
                       '-f', 'json')

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {'Sensor Type': 'Temperature', 'Name': 'CPU Temp', 'Reading': 43.0,
         'Unit': 'celsius', 'Health': 'ok'},
        {'Sensor Type': 'Fan', 'Name': 'Fan 1', 'Reading': 5400.0,
         'Unit': 'rpm', 'Health': 'ok'},
        {'Sensor Type': 'Power', 'Name': 'PSU1 Input', 'Reading': None,
         'Unit': 'watts', 'Health': None},
    ]


def test_node_sensor_list_unknown_node(fake_berth, tmp_path):
    fake_berth.add('GET', '/v1/nodes/nope/sensors', fakes.Response(
        404, fakes.ironic_error(404, 'Node nope could not be found.')))

    result = openstack(tmp_path, '--os-auth-type', 'none',
                       '--os-endpoint', fake_berth.url,
                       'berth', 'node', 'sensor', 'list', 'nope')

    assert result.returncode == 1
    assert 'Node nope could not be found. (HTTP 404)' in result.stderr


def test_node_sensor_list_rejects_an_unknown_type(tmp_path):
    result = openstack(tmp_path, '--os-auth-type', 'none',
                       '--os-endpoint', 'http://127.0.0.1:9',
                       'berth', 'node', 'sensor', 'list', 'node-1',
                       '--sensor-type', 'Humidity')

    assert result.returncode == 2
    assert 'invalid choice' in result.stderr


def test_node_sensor_list_help(tmp_path):
    result = openstack(tmp_path, 'help', 'berth', 'node', 'sensor', 'list')

    assert result.returncode == 0, result.stderr
    assert 'berth node sensor list' in result.stdout
    assert '<node>' in result.stdout
    assert ('--sensor-type {Temperature,Fan,Voltage,Current,Power}'
            in result.stdout)
    assert '--since <time>' in result.stdout
    assert '--long' in result.stdout
    assert 'send_sensor_data' in result.stdout
