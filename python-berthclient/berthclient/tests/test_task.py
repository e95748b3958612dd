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
import io
import types

import pytest

from berthclient import client
from berthclient import exceptions
from berthclient.osc.v1 import task as task_cmd
from berthclient.tests import fakes

TASK_UUID = '2b0e0c1c-6a52-4cc6-9f5d-0c1d2e3f4a5b'


def _task(state='succeeded', **extra):
    body = {
        'uuid': TASK_UUID, 'node_uuid': fakes.NODE_UUID, 'kind': 'deploy',
        'state': state, 'params': {'image_source': 'debian'},
        'result': 'deploy finished' if state == 'succeeded' else None,
        'error': None, 'conductor': 'conductor-1',
        'started_at': '2026-12-08T01:00:00+00:00',
        'finished_at': '2026-12-08T01:02:00+00:00',
        'created_at': '2026-12-08T01:00:00+00:00', 'updated_at': None,
    }
    body.update(extra)
    return body


def _line(seq, message, level='info'):
    return {'seq': seq, 'level': level, 'message': message,
            'created_at': '2026-12-08T01:00:0%d+00:00' % seq}


def _run(berth, cls, argv):
    stdout = io.StringIO()
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(berth=berth), stdout=stdout)
    cmd = cls(app, argparse.Namespace())
    parsed_args = cmd.get_parser('openstack berth task').parse_args(argv)
    return cmd.take_action(parsed_args), stdout.getvalue()


def _berth(fake_berth, session):
    return client.Client(session, fake_berth.url)


def test_list_shows_a_nodes_tasks(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/node-1/tasks?limit=5', fakes.Response(
        200, {'tasks': [_task(), _task(state='failed', error='boom')]}))

    (titles, rows), _ = _run(_berth(fake_berth, session), task_cmd.ListTask,
                             ['node-1', '--limit', '5', '--long'])

    assert titles == ('UUID', 'Kind', 'State', 'Started At', 'Finished At',
                      'Conductor', 'Error')
    assert rows[0][:3] == (TASK_UUID, 'deploy', 'succeeded')
    assert rows[1][2] == 'failed' and rows[1][6] == 'boom'


def test_list_refuses_a_malformed_answer(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/node-1/tasks', fakes.Response(
        200, {'tasks': 'nope'}))

    with pytest.raises(exceptions.InvalidResponse):
        _run(_berth(fake_berth, session), task_cmd.ListTask, ['node-1'])


def test_show_a_task(fake_berth, session):
    fake_berth.add('GET', '/v1/tasks/%s' % TASK_UUID, fakes.Response(
        200, _task()))

    (fields, values), _ = _run(_berth(fake_berth, session),
                               task_cmd.ShowTask, [TASK_UUID])

    shown = dict(zip(fields, values))
    assert shown['state'] == 'succeeded'
    assert shown['params'] == {'image_source': 'debian'}


def test_show_a_missing_task_is_an_error(fake_berth, session):
    fake_berth.add('GET', '/v1/tasks/nope', fakes.Response(
        404, fakes.ironic_error(404, 'Task nope could not be found.')))

    with pytest.raises(exceptions.HttpError) as err:
        _run(_berth(fake_berth, session), task_cmd.ShowTask, ['nope'])
    assert 'Task nope could not be found.' in str(err.value)


def test_log_pages_through_every_line(fake_berth, session):
    path = '/v1/tasks/%s/log' % TASK_UUID
    fake_berth.add('GET', path + '?after=1', fakes.Response(
        200, {'task_uuid': TASK_UUID, 'state': 'succeeded',
              'lines': [_line(2, 'step deploy.deploy started'),
                        _line(3, 'boom', 'error')]}))
    fake_berth.add('GET', path + '?after=3', fakes.Response(
        200, {'task_uuid': TASK_UUID, 'state': 'succeeded', 'lines': []}))

    _, out = _run(_berth(fake_berth, session), task_cmd.ShowTaskLog,
                  [TASK_UUID, '--after', '1'])

    assert out.splitlines() == [
        '2026-12-08T01:00:02+00:00 INFO  step deploy.deploy started',
        '2026-12-08T01:00:03+00:00 ERROR boom',
    ]


def test_follow_prints_the_stream_as_it_comes(fake_berth, session):
    text = b'2026-12-08T01:00:01.000Z INFO  deploy requested\n'
    fake_berth.add(
        'GET', '/v1/tasks/%s/log?follow=true&after=0' % TASK_UUID,
        fakes.Response(200, raw=text))

    _, out = _run(_berth(fake_berth, session), task_cmd.ShowTaskLog,
                  [TASK_UUID, '--follow'])

    assert out == text.decode()
    assert fake_berth.requests[-1]['path'].endswith('follow=true&after=0')
