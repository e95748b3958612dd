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

import json

import pytest

from berthclient import client
from berthclient import exceptions
from berthclient.tests import fakes


@pytest.mark.parametrize('endpoint', [
    'http://berth:6385', 'http://berth:6385/', 'http://berth:6385/v1',
    'http://berth:6385/v1/',
])
def test_root_endpoint_strips_slash_and_v1(endpoint):
    assert client.root_endpoint(endpoint) == 'http://berth:6385'


def test_root_endpoint_keeps_a_path_prefix():
    assert (client.root_endpoint('https://cloud/baremetal/v1')
            == 'https://cloud/baremetal')


def test_parse_and_format_version():
    assert client.parse_version('1.17') == (1, 17)
    assert client.format_version((1, 17)) == '1.17'
    for bad in ('1', 'latest', '1.x', '', '1.2.3'):
        with pytest.raises(ValueError):
            client.parse_version(bad)


def test_latest_aliases_select_last_known_version():
    for alias in (None, '1', 'latest'):
        berth = client.Client(object(), 'http://berth:6385', alias)
        assert berth.api_version == client.LAST_KNOWN_API_VERSION
        assert berth.allow_downgrade
    pinned = client.Client(object(), 'http://berth:6385', '1.1')
    assert pinned.api_version == (1, 1)
    assert not pinned.allow_downgrade


def test_missing_endpoint_is_an_error():
    with pytest.raises(exceptions.EndpointNotFound):
        client.Client(object(), None)


def test_list_versions_over_http(fake_berth, session):
    fake_berth.serve_root()
    berth = client.Client(session, fake_berth.url + '/v1/')

    versions = berth.list_versions()

    assert versions == [fakes.version_object(fake_berth.host)]
    [request] = fake_berth.requests
    assert request['path'] == '/'
    assert request['headers']['Accept'] == 'application/json'
    # The root document is unversioned: no microversion header is sent.
    assert client.API_VERSION_HEADER not in request['headers']


def test_root_without_versions_falls_back_to_default(fake_berth, session):
    doc = fakes.root_document('h')
    del doc['versions']
    fake_berth.add('GET', '/', fakes.Response(200, doc))

    versions = client.Client(session, fake_berth.url).list_versions()

    assert versions == [doc['default_version']]


def test_root_that_is_not_a_version_document(fake_berth, session):
    fake_berth.add('GET', '/', fakes.Response(200, {'versions': 'v1'}))
    with pytest.raises(exceptions.InvalidResponse):
        client.Client(session, fake_berth.url).list_versions()


def test_non_json_answer(fake_berth, session):
    fake_berth.add('GET', '/', fakes.Response(200, raw=b'hello'))
    with pytest.raises(exceptions.InvalidResponse) as err:
        client.Client(session, fake_berth.url).get_root()
    assert 'did not return JSON' in str(err.value)


def test_versioned_request_sends_the_header(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes', fakes.Response(200, {'nodes': []}))
    berth = client.Client(session, fake_berth.url, '1.1')

    assert berth.get_json('/v1/nodes') == {'nodes': []}
    assert fake_berth.requests[0]['headers'][client.API_VERSION_HEADER] == (
        '1.1')


def test_api_error_uses_faultstring_and_request_id(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/nope', fakes.Response(
        404, fakes.ironic_error(404, 'Node nope could not be found.'),
        {'X-OpenStack-Request-Id': 'req-1234'}))
    berth = client.Client(session, fake_berth.url)

    with pytest.raises(exceptions.HttpError) as err:
        berth.get_json('/v1/nodes/nope')

    assert err.value.status_code == 404
    assert err.value.request_id == 'req-1234'
    assert str(err.value) == (
        'Node nope could not be found. (HTTP 404) (Request-ID: req-1234)')


def test_routing_error_uses_title_or_description(fake_berth, session):
    berth = client.Client(session, fake_berth.url)
    with pytest.raises(exceptions.HttpError) as err:
        berth.get_json('/unknown')
    assert str(err.value) == 'Not Found (HTTP 404)'


@pytest.mark.parametrize('body,expected', [
    ('', 'default'),
    ('plain text', 'plain text'),
    ('{"other": 1}', 'default'),
    ('{"error_message": "not json"}', 'not json'),
    (json.dumps({'error_message': {'faultstring': 'inline'}}), 'inline'),
    (json.dumps({'error_message': json.dumps(
        {'code': 406, 'title': 'Not Acceptable',
         'description': 'Version 1.9 was requested'})}),
     'Version 1.9 was requested'),
])
def test_fault_from_body(body, expected):
    assert exceptions.fault_from_body(body, 'default') == expected


def _versioned_route(supported_max):
    """A /v1/nodes route that answers 406 above ``supported_max``."""
    def answer(request):
        version = client.parse_version(
            request['headers'][client.API_VERSION_HEADER])
        if version > supported_max:
            return fakes.Response(406, {'error_message': json.dumps(
                {'code': 406, 'title': 'Not Acceptable',
                 'description': 'unsupported'})})
        return fakes.Response(200, {'nodes': []}, {
            client.API_VERSION_HEADER: client.format_version(version)})
    return answer


def _v1_range(server_min, server_max):
    return fakes.Response(200, {'id': 'v1'}, {
        client.MIN_VERSION_HEADER: server_min,
        client.MAX_VERSION_HEADER: server_max,
    })


def test_latest_downgrades_after_406(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes', _versioned_route((1, 3)))
    fake_berth.add('GET', '/v1/', _v1_range('1.1', '1.3'))
    berth = client.Client(session, fake_berth.url)
    berth.api_version = (1, 9)  # as if this client knew a newer version

    assert berth.get_json('/v1/nodes') == {'nodes': []}

    sent = [(r['path'], r['headers'].get(client.API_VERSION_HEADER))
            for r in fake_berth.requests]
    assert sent == [('/v1/nodes', '1.9'), ('/v1/', None),
                    ('/v1/nodes', '1.3')]
    assert berth.api_version == (1, 3)


def test_pinned_version_is_never_downgraded(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes', _versioned_route((1, 0)))
    berth = client.Client(session, fake_berth.url, '1.1')

    with pytest.raises(exceptions.HttpError) as err:
        berth.get_json('/v1/nodes')

    assert err.value.status_code == 406
    assert len(fake_berth.requests) == 1


def test_no_common_version(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes', _versioned_route((1, 0)))
    fake_berth.add('GET', '/v1/', _v1_range('2.1', '2.5'))
    berth = client.Client(session, fake_berth.url)

    with pytest.raises(exceptions.VersionNotSupported):
        berth.get_json('/v1/nodes')


def test_list_node_sensors(fake_berth, session):
    doc = fakes.sensors_document()
    fake_berth.add('GET', '/v1/nodes/node-1/sensors',
                   fakes.Response(200, doc))
    berth = client.Client(session, fake_berth.url + '/v1', '1.1')

    assert berth.list_node_sensors('node-1') == doc

    [request] = fake_berth.requests
    assert request['path'] == '/v1/nodes/node-1/sensors'
    assert request['headers'][client.API_VERSION_HEADER] == '1.1'
    assert request['headers']['Accept'] == 'application/json'


def test_list_node_sensors_before_the_first_collection(fake_berth, session):
    doc = fakes.sensors_document(sensors=[], collected_at=None)
    fake_berth.add('GET', '/v1/nodes/%s/sensors' % fakes.NODE_UUID,
                   fakes.Response(200, doc))

    body = client.Client(session, fake_berth.url).list_node_sensors(
        fakes.NODE_UUID)

    assert body == {'node_uuid': fakes.NODE_UUID, 'collected_at': None,
                    'sensors': []}


def test_list_node_sensors_encodes_node_and_query(fake_berth, session):
    path = ('/v1/nodes/rack%201%2Fnode%232%3F/sensors'
            '?sensor_type=Fan&since=2026-12-07T22%3A00%3A00%2B00%3A00')
    fake_berth.add('GET', path, fakes.Response(
        200, fakes.sensors_document(sensors=[])))
    berth = client.Client(session, fake_berth.url)

    berth.list_node_sensors('rack 1/node#2?', sensor_type='Fan',
                            since='2026-12-07T22:00:00+00:00')

    assert [r['path'] for r in fake_berth.requests] == [path]


@pytest.mark.parametrize('kwargs,query', [
    ({'sensor_type': 'Power'}, '?sensor_type=Power'),
    ({'since': '2026-12-07T22:00:00Z'}, '?since=2026-12-07T22%3A00%3A00Z'),
    ({'sensor_type': None, 'since': None}, ''),
])
def test_list_node_sensors_sends_only_given_params(fake_berth, session,
                                                   kwargs, query):
    path = '/v1/nodes/n/sensors' + query
    fake_berth.add('GET', path, fakes.Response(
        200, fakes.sensors_document(sensors=[])))

    client.Client(session, fake_berth.url).list_node_sensors('n', **kwargs)

    assert [r['path'] for r in fake_berth.requests] == [path]


@pytest.mark.parametrize('body', [
    {'node_uuid': fakes.NODE_UUID, 'collected_at': None},
    {'sensors': None},
    {'sensors': {'CPU Temp': 43.0}},
    {'sensors': [fakes.sensor(), 'Fan 1']},
])
def test_list_node_sensors_invalid_response(fake_berth, session, body):
    fake_berth.add('GET', '/v1/nodes/n/sensors', fakes.Response(200, body))
    berth = client.Client(session, fake_berth.url)

    with pytest.raises(exceptions.InvalidResponse) as err:
        berth.list_node_sensors('n')

    assert str(err.value) == (
        'GET %s/v1/nodes/n/sensors returned no "sensors" list of objects'
        % fake_berth.url)


def test_list_node_sensors_unknown_node(fake_berth, session):
    fake_berth.add('GET', '/v1/nodes/nope/sensors', fakes.Response(
        404, fakes.ironic_error(404, 'Node nope could not be found.'),
        {'X-OpenStack-Request-Id': 'req-5678'}))
    berth = client.Client(session, fake_berth.url)

    with pytest.raises(exceptions.HttpError) as err:
        berth.list_node_sensors('nope')

    assert err.value.status_code == 404
    assert str(err.value) == (
        'Node nope could not be found. (HTTP 404) (Request-ID: req-5678)')
