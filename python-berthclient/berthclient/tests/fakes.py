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

"""A stand-in Berth API: a real HTTP server on 127.0.0.1 with canned answers.

Requests really go over a socket through keystoneauth and requests, so the
tests cover URL joining, headers and body parsing, not just a mocked call.
"""

from http import server
import json
import threading


def version_object(host, version='1.1'):
    return {
        'id': 'v1',
        'links': [{'href': 'http://%s/v1/' % host, 'rel': 'self'}],
        'status': 'CURRENT',
        'min_version': '1.1',
        'version': version,
    }


def root_document(host, version='1.1'):
    """The shape of Berth's ``GET /`` (see api-ref samples/api-root)."""
    return {
        'name': 'Berth Bare Metal API',
        'description': 'Berth provisions and manages bare metal servers '
                       'through an Ironic-compatible API.',
        'default_version': version_object(host, version),
        'versions': [version_object(host, version)],
    }


NODE_UUID = '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'
COLLECTED_AT = '2026-12-07T22:00:00+00:00'


def sensor(sensor_type='Temperature', name='CPU Temp', reading=43.0,
           unit='celsius', health='ok', lower_critical=None,
           lower_non_critical=None, upper_non_critical=80.0,
           upper_critical=90.0, collected_at=COLLECTED_AT):
    """One reading as Berth lists it in GET /v1/nodes/{node}/sensors."""
    return {
        'sensor_type': sensor_type,
        'name': name,
        'reading': reading,
        'unit': unit,
        'health': health,
        'thresholds': {
            'lower_critical': lower_critical,
            'lower_non_critical': lower_non_critical,
            'upper_non_critical': upper_non_critical,
            'upper_critical': upper_critical,
        },
        'collected_at': collected_at,
    }


def sensors_document(sensors=None, node_uuid=NODE_UUID,
                     collected_at=COLLECTED_AT):
    """The body of ``GET /v1/nodes/{node}/sensors``."""
    if sensors is None:
        sensors = [
            sensor(),
            sensor('Fan', 'Fan 1', 5400.0, 'rpm', 'ok', lower_critical=500.0,
                   upper_non_critical=None, upper_critical=None),
            sensor('Power', 'PSU1 Input', None, 'watts', None,
                   upper_non_critical=None, upper_critical=None),
        ]
    return {'node_uuid': node_uuid, 'collected_at': collected_at,
            'sensors': sensors}


IMAGE_UUID = '5f0c6d7e-2a8b-4c1d-9e3f-0a1b2c3d4e5f'
IMAGE_SHA256 = ('9f86d081884c7d659a2feaa0c55ad015'
                'a3bf4f1b2b0b822cd15d6c15b0f00a08')


def image(uuid=IMAGE_UUID, name='debian-12', status='active',
          disk_format='qcow2', size=4096, sha256=IMAGE_SHA256, **extra):
    """An image as Berth shows it in GET /v1/images/{image}."""
    body = {
        'uuid': uuid,
        'name': name,
        'disk_format': disk_format,
        'status': status,
        'size': size if status == 'active' else None,
        'virtual_size': size if status == 'active' else None,
        'os_hash_algo': 'sha256' if status == 'active' else None,
        'os_hash_value': sha256 if status == 'active' else None,
        'uploaded_checksum': 'ab' * 32 if status == 'active' else None,
        'uploaded_size': 1234 if status == 'active' else None,
        'last_error': None,
        'extra': {},
        'created_at': COLLECTED_AT,
        'updated_at': None,
        'links': [],
    }
    body.update(extra)
    return body


def ironic_error(status, faultstring):
    """An Ironic-style error body: a JSON string inside ``error_message``."""
    inner = {'faultcode': 'Client' if status < 500 else 'Server',
             'faultstring': faultstring, 'debuginfo': None}
    return {'error_message': json.dumps(inner)}


class Response:
    def __init__(self, status=200, body=None, headers=None, raw=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.raw = raw


class FakeBerth:
    """HTTP server answering from a table of ``(method, path)`` routes.

    A route's answer is a :class:`Response` or a callable taking the
    recorded request and returning one. Every request is recorded in
    ``self.requests`` as a dict (method, path, headers).
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        self._server = None
        self._thread = None

    @property
    def host(self):
        return '127.0.0.1:%d' % self._server.server_address[1]

    @property
    def url(self):
        return 'http://%s' % self.host

    def add(self, method, path, answer):
        self.routes[(method, path)] = answer

    def serve_root(self, version='1.1'):
        self.add('GET', '/', lambda req: Response(
            200, root_document(self.host, version)))

    def start(self):
        fake = self

        class Handler(server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def _answer(self):
                length = int(self.headers.get('Content-Length') or 0)
                request = {
                    'method': self.command,
                    'path': self.path,
                    'headers': dict(self.headers.items()),
                    'body': self.rfile.read(length) if length else b'',
                }
                fake.requests.append(request)
                answer = fake.routes.get((self.command, self.path))
                if answer is None:
                    answer = Response(404, {'error_message': json.dumps(
                        {'code': 404, 'title': 'Not Found',
                         'description': ''})})
                elif callable(answer):
                    answer = answer(request)
                if answer.raw is not None:
                    payload = answer.raw
                    content_type = 'text/plain'
                elif answer.status in (204, 304):
                    # No body at all: bytes after a 204 would be read as
                    # the start of the next response on this connection.
                    payload = b''
                    content_type = 'application/json'
                else:
                    payload = json.dumps(answer.body).encode()
                    content_type = 'application/json'
                self.send_response(answer.status)
                self.send_header('Content-Type', content_type)
                self.send_header('Content-Length', str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self._server = server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
            daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
