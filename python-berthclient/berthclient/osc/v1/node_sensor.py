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

"""``openstack berth node sensor list``: a node's BMC sensor readings."""

from osc_lib.command import command

from berthclient import client

# (column title, key in the sensor object)
SENSOR_COLUMNS = (
    ('Sensor Type', 'sensor_type'),
    ('Name', 'name'),
    ('Reading', 'reading'),
    ('Unit', 'unit'),
    ('Health', 'health'),
)

# (column title, key in the sensor's "thresholds" object), added by --long
THRESHOLD_COLUMNS = (
    ('Lower Critical', 'lower_critical'),
    ('Lower Non-Critical', 'lower_non_critical'),
    ('Upper Non-Critical', 'upper_non_critical'),
    ('Upper Critical', 'upper_critical'),
)

# (column title, key in the sensor object), added by --long after the
# thresholds
LONG_COLUMNS = (
    ('Collected At', 'collected_at'),
)


def _row(sensor, long_listing):
    row = [sensor.get(key) for _title, key in SENSOR_COLUMNS]
    if long_listing:
        thresholds = sensor.get('thresholds')
        if not isinstance(thresholds, dict):
            thresholds = {}
        row.extend(thresholds.get(key) for _title, key in THRESHOLD_COLUMNS)
        row.extend(sensor.get(key) for _title, key in LONG_COLUMNS)
    return tuple(row)


class ListNodeSensor(command.Lister):
    """List the BMC sensor readings of a node.

    Shows the temperature, fan, voltage, current and power sensors that
    the conductor read from the node's BMC. The conductor collects them
    periodically, and only when [sensor_data]send_sensor_data is enabled
    in its configuration; before the first collection the list is empty.
    Without --since only the newest collection is shown; with it, every
    retained sample collected at or after that time, oldest first.
    (GET /v1/nodes/{node}/sensors, a Berth extension of Ironic's API.)
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'node',
            metavar='<node>',
            help='Name or UUID of the node',
        )
        parser.add_argument(
            '--sensor-type',
            choices=client.SENSOR_TYPES,
            help='Only show sensors of this type',
        )
        parser.add_argument(
            '--since',
            metavar='<time>',
            help='Show every retained sample collected at or after this '
                 'ISO 8601 time (e.g. 2026-12-07T22:00:00Z), oldest first, '
                 'instead of only the newest collection',
        )
        parser.add_argument(
            '--long',
            action='store_true',
            default=False,
            help='Also show the thresholds and the collection time of each '
                 'reading',
        )
        return parser

    def take_action(self, parsed_args):
        berth = self.app.client_manager.berth
        body = berth.list_node_sensors(
            parsed_args.node,
            sensor_type=parsed_args.sensor_type,
            since=parsed_args.since,
        )
        columns = SENSOR_COLUMNS
        if parsed_args.long:
            columns = columns + THRESHOLD_COLUMNS + LONG_COLUMNS
        titles = tuple(title for title, _key in columns)
        rows = [_row(sensor, parsed_args.long) for sensor in body['sensors']]
        return titles, rows
