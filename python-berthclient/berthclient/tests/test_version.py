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

from berthclient import client
from berthclient.osc.v1 import version


def _command(berth):
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(berth=berth))
    return version.ShowVersion(app, argparse.Namespace())


def test_version_show_columns_and_rows(fake_berth, session):
    fake_berth.serve_root(version='1.7')
    cmd = _command(client.Client(session, fake_berth.url))

    columns, rows = cmd.take_action(argparse.Namespace())

    assert columns == ('ID', 'Status', 'Min Version', 'Version')
    assert list(rows) == [('v1', 'CURRENT', '1.1', '1.7')]


def test_version_show_tolerates_missing_fields():
    berth = types.SimpleNamespace(list_versions=lambda: [{'id': 'v1'}])

    columns, rows = _command(berth).take_action(argparse.Namespace())

    assert list(rows) == [('v1', None, None, None)]
