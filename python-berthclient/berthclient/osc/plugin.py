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

"""OpenStackClient plugin for Berth: ``openstack berth ...``.

OSC finds this module through the ``openstack.cli.extension`` entry point
and uses its module-level names: ``API_NAME`` becomes the attribute
``client_manager.berth`` and the command group ``openstack.berth.v1``;
``API_VERSION_OPTION`` names the parsed option holding the requested
version; ``make_client`` builds the client on first use.

Endpoint, in order of precedence:

1. ``--os-berth-endpoint-override`` / ``OS_BERTH_ENDPOINT_OVERRIDE`` /
   ``berth_endpoint_override`` in clouds.yaml -- for a Berth that is not
   the catalog's bare metal service (e.g. next to a real Ironic);
2. whatever OSC resolves for service type ``baremetal``: the
   ``baremetal_endpoint_override`` setting, ``--os-endpoint`` with
   ``--os-auth-type none``, or the Keystone catalog for the chosen
   ``--os-interface`` and ``--os-region-name``.
"""

import argparse
import logging

from osc_lib import exceptions as osc_exc
from osc_lib import utils

from berthclient import client as berth_client

LOG = logging.getLogger(__name__)

API_NAME = 'berth'
API_VERSION_OPTION = 'os_berth_api_version'
CLIENT_CLASS = 'berthclient.client.Client'
DEFAULT_API_VERSION = '1'

# OSC warns about a requested version missing from this table. "1" means
# "the newest 1.x known to both sides"; explicit microversions pin the
# X-OpenStack-Ironic-API-Version header.
API_VERSIONS = {'1': CLIENT_CLASS}
API_VERSIONS.update(
    ('1.%d' % minor, CLIENT_CLASS)
    for minor in range(berth_client.MIN_API_VERSION[1],
                       berth_client.LAST_KNOWN_API_VERSION[1] + 1))

ENDPOINT_OVERRIDE_KEY = 'berth_endpoint_override'


def _api_version(value):
    """argparse type: accept "latest", "1" or a known "1.x"."""
    value = str(value).strip()
    if value == 'latest':
        # OSC derives the command group from this value ("openstack.berth.v"
        # + major), so "latest" must become a number before OSC sees it.
        return DEFAULT_API_VERSION
    if value not in API_VERSIONS:
        raise argparse.ArgumentTypeError(
            'unsupported Berth API version %r (choose from %s or latest)'
            % (value, ', '.join(_sorted_versions())))
    return value


def _sorted_versions():
    return sorted(API_VERSIONS, key=lambda v: [int(x) for x in v.split('.')])


def build_option_parser(parser):
    """Add Berth's global options to the ``openstack`` parser."""
    parser.add_argument(
        '--os-berth-api-version',
        metavar='<berth-api-version>',
        type=_api_version,
        default=utils.env('OS_BERTH_API_VERSION',
                          default=DEFAULT_API_VERSION),
        help='Berth API microversion: "latest" or "1" (the newest known to '
             'both client and server, the default), or one of %s. '
             '(Env: OS_BERTH_API_VERSION)' % ', '.join(
                 v for v in _sorted_versions() if v != '1'),
    )
    parser.add_argument(
        '--os-berth-endpoint-override',
        metavar='<url>',
        default=utils.env('OS_BERTH_ENDPOINT_OVERRIDE'),
        help='Berth API endpoint to use instead of the "baremetal" entry '
             'of the service catalog. (Env: OS_BERTH_ENDPOINT_OVERRIDE)',
    )
    return parser


def _endpoint(instance):
    override = instance.get_configuration().get(ENDPOINT_OVERRIDE_KEY)
    if override:
        return override
    return instance.get_endpoint_for_service_type(
        berth_client.SERVICE_TYPE,
        region_name=instance.region_name,
        interface=instance.interface,
    )


def make_client(instance):
    """Return a :class:`berthclient.client.Client` for OSC's session."""
    versions = getattr(instance, '_api_version', None) or {}
    requested = versions.get(API_NAME, DEFAULT_API_VERSION)
    endpoint = _endpoint(instance)
    if not endpoint:
        raise osc_exc.CommandError(
            'The Berth API endpoint cannot be found: there is no "%s" '
            'service in the catalog for interface %s and region %s. Use '
            '--os-endpoint with --os-auth-type none, or '
            '--os-berth-endpoint-override.' % (
                berth_client.SERVICE_TYPE, instance.interface or 'public',
                instance.region_name or '(any)'))
    LOG.debug('Berth endpoint %s, API version %s', endpoint, requested)
    return berth_client.Client(
        session=instance.session,
        endpoint=endpoint,
        api_version=requested,
    )
