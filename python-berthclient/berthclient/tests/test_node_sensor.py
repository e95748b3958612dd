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
import types

import pytest

from berthclient import client
from berthclient import exceptions
from berthclient.osc.v1 import node_sensor
from berthclient.tests import fakes

PROG = 'openstack berth node sensor list'

DEFAULT_COLUMNS = ('Sensor Type', 'Name', 'Reading', 'Unit', 'Health')
LONG_COLUMNS = DEFAULT_COLUMNS + (
    'Lower Critical', 'Lower Non-Critical', 'Upper Non-Critical',
    'Upper Critical', 'Collected At')


class RecordingBerth:
    """A stand-in client that returns ``body`` and records the call."""

    def __init__(self, body):
        self.body = body
        self.calls = []

    def list_node_sensors(self, node, sensor_type=None, since=None):
        self.calls.append((node, sensor_type, since))
        return self.body


def _command(berth):
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(berth=berth))
    return node_sensor.ListNodeSensor(app, argparse.Namespace())


def _run(berth, argv):
    cmd = _command(berth)
    parsed_args = cmd.get_parser(PROG).parse_args(argv)
    return cmd.take_action(parsed_args)


def test_sensor_list_columns_and_rows(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/node-1/sensors', fakes.Response(
        200, fakes.sensors_document()))

    columns, rows = _run(client.Client(session, fake_berth.url),
                         ['node-1'])

    assert columns == DEFAULT_COLUMNS
    assert list(rows) == [
        ('Temperature', 'CPU Temp', 43.0, 'celsius', 'ok'),
        ('Fan', 'Fan 1', 5400.0, 'rpm', 'ok'),
        ('Power', 'PSU1 Input', None, 'watts', None),
    ]
    assert [r['path'] for r in fake_berth.requests] == [
        '/v1/nodes/node-1/sensors']


def test_sensor_list_long(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/node-1/sensors', fakes.Response(
        200, fakes.sensors_document()))

    columns, rows = _run(client.Client(session, fake_berth.url),
                         ['node-1', '--long'])

    at = fakes.COLLECTED_AT
    assert columns == LONG_COLUMNS
    assert list(rows) == [
        ('Temperature', 'CPU Temp', 43.0, 'celsius', 'ok',
         None, None, 80.0, 90.0, at),
        ('Fan', 'Fan 1', 5400.0, 'rpm', 'ok',
         500.0, None, None, None, at),
        ('Power', 'PSU1 Input', None, 'watts', None,
         None, None, None, None, at),
    ]


def test_sensor_list_passes_the_filters():
    berth = RecordingBerth(fakes.sensors_document(sensors=[]))

    columns, rows = _run(berth, ['node-1', '--sensor-type', 'Voltage',
                                 '--since', '2026-12-07T21:00:00Z'])

    assert berth.calls == [('node-1', 'Voltage', '2026-12-07T21:00:00Z')]
    assert columns == DEFAULT_COLUMNS
    assert list(rows) == []


def test_sensor_list_without_filters_sends_none():
    berth = RecordingBerth(fakes.sensors_document(sensors=[]))

    _run(berth, ['node-1'])

    assert berth.calls == [('node-1', None, None)]


def test_sensor_list_keeps_the_server_order():
    at = ['2026-12-07T21:00:00+00:00', '2026-12-07T21:30:00+00:00',
          '2026-12-07T22:00:00+00:00']
    sensors = [fakes.sensor(reading=40.0 + i, collected_at=when)
               for i, when in enumerate(at)]
    berth = RecordingBerth(fakes.sensors_document(sensors=sensors))

    _columns, rows = _run(berth, ['node-1', '--since', at[0], '--long'])

    assert [(row[2], row[-1]) for row in rows] == [
        (40.0, at[0]), (41.0, at[1]), (42.0, at[2])]


def test_sensor_list_tolerates_missing_fields():
    berth = RecordingBerth({'sensors': [
        {'name': 'Inlet Temp'},
        {'name': 'Vcore', 'thresholds': None},
        {'name': 'Fan 2', 'thresholds': {'upper_critical': 9000.0}},
    ]})

    _columns, rows = _run(berth, ['node-1', '--long'])

    assert list(rows) == [
        (None, 'Inlet Temp', None, None, None,
         None, None, None, None, None),
        (None, 'Vcore', None, None, None,
         None, None, None, None, None),
        (None, 'Fan 2', None, None, None,
         None, None, None, 9000.0, None),
    ]


@pytest.mark.parametrize('sensor_type', client.SENSOR_TYPES)
def test_sensor_type_choices(sensor_type):
    parser = _command(None).get_parser(PROG)

    parsed_args = parser.parse_args(['n', '--sensor-type', sensor_type])

    assert parsed_args.sensor_type == sensor_type


@pytest.mark.parametrize('sensor_type', ['temperature', 'Humidity', ''])
def test_sensor_type_is_validated(sensor_type, capsys):
    parser = _command(None).get_parser(PROG)

    with pytest.raises(SystemExit):
        parser.parse_args(['n', '--sensor-type', sensor_type])

    assert 'invalid choice' in capsys.readouterr().err


def test_node_is_required():
    parser = _command(None).get_parser(PROG)

    with pytest.raises(SystemExit):
        parser.parse_args([])


def test_sensor_list_http_error_passes_through(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/n/sensors?sensor_type=Fan',
                   fakes.Response(403, fakes.ironic_error(
                       403, 'Access was denied to this resource.')))

    with pytest.raises(exceptions.HttpError) as err:
        _run(client.Client(session, fake_berth.url),
             ['n', '--sensor-type', 'Fan'])

    assert err.value.status_code == 403
