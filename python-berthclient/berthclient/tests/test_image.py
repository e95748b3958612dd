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
import json
import types

from osc_lib import exceptions as osc_exc
import pytest

from berthclient import client
from berthclient import exceptions
from berthclient.osc.v1 import image
from berthclient.tests import fakes

UUID = fakes.IMAGE_UUID


def _run(berth, cls, argv):
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(berth=berth))
    cmd = cls(app, argparse.Namespace())
    parsed_args = cmd.get_parser('openstack berth image').parse_args(argv)
    return cmd.take_action(parsed_args)


def _berth(fake_berth, session):
    return client.Client(session, fake_berth.url)


def test_create_posts_then_streams_the_file(fake_berth, session, tmp_path):
    data = bytes(range(256)) * 64
    path = tmp_path / 'disk.qcow2'
    path.write_bytes(data)
    fake_berth.add('POST', '/v1/images', fakes.Response(
        201, fakes.image(status='queued')))
    fake_berth.add('PUT', '/v1/images/%s/file' % UUID, fakes.Response(
        200, fakes.image()))

    columns, values = _run(_berth(fake_berth, session), image.CreateImage,
                           ['debian-12', '--disk-format', 'qcow2',
                            '--file', str(path), '--extra', 'os=debian'])

    post, put = fake_berth.requests
    assert json.loads(post['body']) == {
        'disk_format': 'qcow2', 'name': 'debian-12',
        'extra': {'os': 'debian'}}
    assert put['body'] == data
    assert put['headers']['Content-Type'] == 'application/octet-stream'
    assert put['headers']['Content-Length'] == str(len(data))
    shown = dict(zip(columns, values))
    assert columns == image.SHOW_FIELDS
    assert shown['status'] == 'active'
    assert shown['os_hash_value'] == fakes.IMAGE_SHA256


def test_create_without_a_readable_file_sends_nothing(fake_berth, session,
                                                      tmp_path):
    with pytest.raises(osc_exc.CommandError) as err:
        _run(_berth(fake_berth, session), image.CreateImage,
             ['x', '--disk-format', 'raw', '--file',
              str(tmp_path / 'missing')])

    assert 'Cannot read' in str(err.value)
    assert fake_berth.requests == []


@pytest.mark.parametrize('argv', [
    ['x', '--file', 'f'],
    ['x', '--disk-format', 'raw'],
    ['x', '--disk-format', 'vmdk', '--file', 'f'],
])
def test_create_arguments_are_required_and_checked(argv, capsys):
    with pytest.raises(SystemExit):
        _run(None, image.CreateImage, argv)


def test_create_upload_refused_passes_the_fault(fake_berth, session,
                                                tmp_path):
    path = tmp_path / 'disk.raw'
    path.write_bytes(b'x' * 10)
    fake_berth.add('POST', '/v1/images', fakes.Response(
        201, fakes.image(status='queued')))
    fake_berth.add('PUT', '/v1/images/%s/file' % UUID, fakes.Response(
        413, fakes.ironic_error(413, 'The image is larger than allowed.')))

    with pytest.raises(exceptions.HttpError) as err:
        _run(_berth(fake_berth, session), image.CreateImage,
             ['x', '--disk-format', 'raw', '--file', str(path)])

    assert err.value.status_code == 413
    assert 'larger than allowed' in str(err.value)


def test_list_follows_next_links(fake_berth, session):
    second = fakes.image(uuid='0f0c6d7e-2a8b-4c1d-9e3f-0a1b2c3d4e50',
                         name='ramdisk', status='queued', disk_format='raw')
    fake_berth.add('GET', '/v1/images', fakes.Response(200, {
        'images': [fakes.image()],
        'next': 'http://elsewhere:6385/v1/images?limit=1&marker=%s' % UUID}))
    fake_berth.add('GET', '/v1/images?limit=1&marker=%s' % UUID,
                   fakes.Response(200, {'images': [second]}))

    columns, rows = _run(_berth(fake_berth, session), image.ListImage, [])

    assert columns == ('UUID', 'Name', 'Status', 'Disk Format', 'Size')
    assert rows == [(UUID, 'debian-12', 'active', 'qcow2', 4096),
                    (second['uuid'], 'ramdisk', 'queued', 'raw', None)]


def test_list_long(fake_berth, session):
    fake_berth.add('GET', '/v1/images', fakes.Response(
        200, {'images': [fakes.image()]}))

    columns, rows = _run(_berth(fake_berth, session), image.ListImage,
                         ['--long'])

    assert columns[5:] == ('Virtual Size', 'Hash Algorithm', 'Hash Value',
                           'Last Error', 'Created At', 'Updated At')
    assert rows[0][5:8] == (4096, 'sha256', fakes.IMAGE_SHA256)


def test_list_invalid_response(fake_berth, session):
    fake_berth.add('GET', '/v1/images', fakes.Response(200, {'nodes': []}))

    with pytest.raises(exceptions.InvalidResponse):
        _run(_berth(fake_berth, session), image.ListImage, [])


def test_show_by_name_is_quoted(fake_berth, session):
    fake_berth.add('GET', '/v1/images/debian~12', fakes.Response(
        200, fakes.image(name='debian~12')))

    columns, values = _run(_berth(fake_berth, session), image.ShowImage,
                           ['debian~12'])

    assert dict(zip(columns, values))['name'] == 'debian~12'


def test_delete_reports_each_failure(fake_berth, session):
    fake_berth.add('DELETE', '/v1/images/a', fakes.Response(204, None))
    fake_berth.add('DELETE', '/v1/images/b', fakes.Response(
        404, fakes.ironic_error(404, 'Image b could not be found.')))

    with pytest.raises(osc_exc.CommandError) as err:
        _run(_berth(fake_berth, session), image.DeleteImage, ['a', 'b'])

    assert 'Failed to delete 1 of 2 images' in str(err.value)
    assert 'Image b could not be found.' in str(err.value)
    assert [r['path'] for r in fake_berth.requests] == [
        '/v1/images/a', '/v1/images/b']
