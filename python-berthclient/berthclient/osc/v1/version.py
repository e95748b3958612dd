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

"""``openstack berth version show``: the API versions Berth offers."""

from osc_lib.command import command

# (column title, key in the version object)
VERSION_COLUMNS = (
    ('ID', 'id'),
    ('Status', 'status'),
    ('Min Version', 'min_version'),
    ('Version', 'version'),
)


class ShowVersion(command.Lister):
    """Show the API versions of the Berth service (GET /).

    "Version" is the newest microversion the server supports, to be sent
    in the X-OpenStack-Ironic-API-Version header.
    """

    def take_action(self, parsed_args):
        berth = self.app.client_manager.berth
        versions = berth.list_versions()
        titles = tuple(title for title, _key in VERSION_COLUMNS)
        rows = [
            tuple(version.get(key) for _title, key in VERSION_COLUMNS)
            for version in versions
        ]
        return titles, rows
