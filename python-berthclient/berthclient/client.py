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

"""A small HTTP client for the Berth REST API.

It rides on a keystoneauth1 session, so authentication, TLS options, the
user agent and request logging are whatever the caller (usually
OpenStackClient) configured. The session is told nothing about the
endpoint: the caller resolves it (catalog, override or ``--os-endpoint``)
and this class only joins paths to it.
"""

import logging
from urllib import parse

import berthclient
from berthclient import exceptions

LOG = logging.getLogger(__name__)

# Berth registers in the Keystone catalog as the bare metal service, since it
# speaks Ironic's API.
SERVICE_TYPE = 'baremetal'

# Ironic's microversion headers, which Berth uses unchanged.
API_VERSION_HEADER = 'X-OpenStack-Ironic-API-Version'
MIN_VERSION_HEADER = 'X-OpenStack-Ironic-API-Minimum-Version'
MAX_VERSION_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version'
REQUEST_ID_HEADERS = ('X-OpenStack-Request-Id', 'OpenStack-Request-Id')

MIN_API_VERSION = (1, 1)
# The newest microversion this client understands. Raise it when a command
# needs a newer one; the server's own maximum is learned at run time.
LAST_KNOWN_API_VERSION = (1, 1)

# The sensor types a node's BMC readings are grouped by (the values of the
# ``sensor_type`` filter of GET /v1/nodes/{node}/sensors).
SENSOR_TYPES = ('Temperature', 'Fan', 'Voltage', 'Current', 'Power')

# The formats an image may be uploaded in (Berth stores them as raw).
DISK_FORMATS = ('raw', 'qcow2')

# Values of --os-berth-api-version that mean "the newest both sides know".
LATEST_ALIASES = ('1', 'latest')


def parse_version(text):
    """Turn ``"1.17"`` into ``(1, 17)``; raise ValueError on anything else."""
    major, sep, minor = str(text).strip().partition('.')
    if not sep or not major.isdigit() or not minor.isdigit():
        raise ValueError('Invalid API version %r: expected '
                         '"<major>.<minor>"' % (text,))
    return int(major), int(minor)


def format_version(version):
    return '%d.%d' % version


def root_endpoint(endpoint):
    """Strip a trailing ``/`` and ``/v1`` so that paths join the root.

    Catalog entries for the bare metal service are usually the service root
    (``http://host:6385``), but some deployments register ``.../v1``; both
    must work, as they do for python-ironicclient.
    """
    url = endpoint.rstrip('/')
    if url.endswith('/v1'):
        url = url[:-len('/v1')]
    return url


def _request_id(response):
    for header in REQUEST_ID_HEADERS:
        value = response.headers.get(header)
        if value:
            return value
    return None


class Client:
    """Talks to one Berth API endpoint.

    :param session: a keystoneauth1 session (its auth plugin may be ``none``).
    :param endpoint: the service root, with or without ``/v1``.
    :param api_version: ``"1.x"``, or ``None``/``"1"``/``"latest"`` for the
        newest version known to both sides (negotiated on the first 406).
    :param timeout: seconds for each request, or ``None`` for the session's.
    """

    def __init__(self, session, endpoint, api_version=None, timeout=None):
        if not endpoint:
            raise exceptions.EndpointNotFound('No Berth endpoint given')
        self.session = session
        self.endpoint = root_endpoint(endpoint)
        self.timeout = timeout
        if api_version is None or str(api_version) in LATEST_ALIASES:
            self.api_version = LAST_KNOWN_API_VERSION
            self.allow_downgrade = True
        else:
            self.api_version = parse_version(api_version)
            self.allow_downgrade = False
        self._negotiated = False

    # -- low level ---------------------------------------------------------

    def _send(self, method, path, versioned, json_body=None, data=None,
              content_type=None, stream=False):
        url = self.endpoint + path
        headers = {'Accept': 'application/json'}
        if versioned:
            headers[API_VERSION_HEADER] = format_version(self.api_version)
        if content_type is not None:
            headers['Content-Type'] = content_type
        kwargs = {
            'headers': headers,
            'raise_exc': False,
            # Appended to the session's User-Agent, for the server's logs.
            'client_name': 'python-berthclient',
            'client_version': berthclient.__version__,
        }
        if json_body is not None:
            kwargs['json'] = json_body
        if data is not None:
            kwargs['data'] = data
        if stream:
            kwargs['stream'] = True
        if self.timeout is not None:
            kwargs['timeout'] = self.timeout
        return self.session.request(url, method, **kwargs)

    def _negotiate(self):
        """Pick the newest version both sides support, after a 406.

        Like python-ironicclient: ask ``GET /v1`` without a version header
        and read the range from its headers.
        """
        self._negotiated = True
        response = self._send('GET', '/v1/', versioned=False)
        server_min = response.headers.get(MIN_VERSION_HEADER)
        server_max = response.headers.get(MAX_VERSION_HEADER)
        if not server_min or not server_max:
            return False
        try:
            server_min = parse_version(server_min)
            server_max = parse_version(server_max)
        except ValueError:
            return False
        chosen = min(self.api_version, server_max)
        if chosen < server_min or chosen < MIN_API_VERSION:
            raise exceptions.VersionNotSupported(
                'The server supports API versions %s to %s; this client '
                'supports %s to %s.' % (
                    format_version(server_min), format_version(server_max),
                    format_version(MIN_API_VERSION),
                    format_version(LAST_KNOWN_API_VERSION)))
        if chosen == self.api_version:
            return False
        LOG.debug('Negotiated Berth API version %s (server maximum %s)',
                  format_version(chosen), format_version(server_max))
        self.api_version = chosen
        return True

    def request(self, method, path, json_body=None, versioned=True,
                data=None, content_type=None, stream=False):
        """Send one request and return the ``requests.Response``.

        ``data`` (bytes or a file object, streamed) is sent as is with
        ``content_type``. Raises :class:`~berthclient.exceptions.HttpError`
        for 4xx/5xx.
        """
        response = self._send(method, path, versioned, json_body, data,
                              content_type, stream)
        if (response.status_code == 406 and versioned
                and self.allow_downgrade and not self._negotiated
                and data is None):
            # A streamed body cannot be sent twice; uploads are unversioned
            # in practice (every microversion accepts them).
            if self._negotiate():
                response = self._send(method, path, versioned, json_body,
                                      stream=stream)
        if response.status_code >= 400:
            raise exceptions.HttpError(
                response.status_code,
                exceptions.fault_from_body(
                    response.text, response.reason or 'Request failed'),
                request_id=_request_id(response),
                method=method, url=self.endpoint + path)
        return response

    def get_json(self, path, versioned=True):
        response = self.request('GET', path, versioned=versioned)
        return self._object(response, 'GET', path)

    def _object(self, response, method, path):
        """The JSON object of ``response``, or InvalidResponse."""
        try:
            body = response.json()
        except ValueError:
            raise exceptions.InvalidResponse(
                '%s %s%s did not return JSON (HTTP %s, Content-Type %s)' % (
                    method, self.endpoint, path, response.status_code,
                    response.headers.get('Content-Type')))
        if not isinstance(body, dict):
            raise exceptions.InvalidResponse(
                '%s %s%s returned JSON that is not an object' % (
                    method, self.endpoint, path))
        return body

    # -- resources ---------------------------------------------------------

    def get_root(self):
        """The version document at ``GET /`` (needs no version header)."""
        return self.get_json('/', versioned=False)

    def list_versions(self):
        """The major versions listed in the root document.

        Each item is a dict with ``id``, ``status``, ``min_version``,
        ``version`` and ``links`` as the server sent them.
        """
        root = self.get_root()
        versions = root.get('versions')
        if versions is None and 'default_version' in root:
            versions = [root['default_version']]
        if (not isinstance(versions, list)
                or not all(isinstance(v, dict) for v in versions)):
            raise exceptions.InvalidResponse(
                'The root document of %s has no "versions" list of objects'
                % self.endpoint)
        return versions

    def list_node_sensors(self, node, sensor_type=None, since=None):
        """The BMC sensor readings collected for a node.

        ``GET /v1/nodes/{node}/sensors``, a Berth extension of Ironic's
        API. The readings are those the conductor collects periodically
        when ``[sensor_data]send_sensor_data`` is enabled.

        :param node: the node's UUID or name.
        :param sensor_type: only readings of this type (one of
            :data:`SENSOR_TYPES`; the server validates it).
        :param since: an ISO 8601 time: every retained sample collected at
            or after it, oldest first. Without it, only the newest
            collection.
        :returns: the response body, a dict with ``node_uuid``,
            ``collected_at`` (``None`` before the first collection) and
            ``sensors``, a list of dicts each with ``sensor_type``,
            ``name``, ``reading``, ``unit``, ``health``, ``thresholds``
            and ``collected_at``.
        """
        path = '/v1/nodes/%s/sensors' % parse.quote(str(node), safe='')
        query = []
        if sensor_type is not None:
            query.append(('sensor_type', sensor_type))
        if since is not None:
            query.append(('since', since))
        if query:
            path += '?' + parse.urlencode(query)
        body = self.get_json(path)
        sensors = body.get('sensors')
        if (not isinstance(sensors, list)
                or not all(isinstance(s, dict) for s in sensors)):
            raise exceptions.InvalidResponse(
                'GET %s%s returned no "sensors" list of objects' % (
                    self.endpoint, path))
        return body

    # -- images (a Berth extension) -----------------------------------------

    @staticmethod
    def _image_path(image, suffix=''):
        return '/v1/images/%s%s' % (parse.quote(str(image), safe=''), suffix)

    def create_image(self, disk_format, name=None, extra=None):
        """``POST /v1/images``: a new image, ``queued`` until its upload."""
        body = {'disk_format': disk_format}
        if name is not None:
            body['name'] = name
        if extra:
            body['extra'] = extra
        response = self.request('POST', '/v1/images', json_body=body)
        return self._object(response, 'POST', '/v1/images')

    def upload_image(self, image, data):
        """``PUT /v1/images/{image}/file``: the image's data, streamed.

        :param data: a file object opened in binary mode (read in chunks,
            never whole) or bytes.
        :returns: the image after the upload (``active`` on success).
        """
        path = self._image_path(image, '/file')
        response = self.request('PUT', path, data=data,
                                content_type='application/octet-stream')
        return self._object(response, 'PUT', path)

    def list_images(self):
        """Every image, following the ``next`` links of the collection."""
        path = '/v1/images'
        images = []
        while path:
            body = self.get_json(path)
            page = body.get('images')
            if (not isinstance(page, list)
                    or not all(isinstance(i, dict) for i in page)):
                raise exceptions.InvalidResponse(
                    'GET %s%s returned no "images" list of objects' % (
                        self.endpoint, path))
            images.extend(page)
            path = None
            if page and body.get('next'):
                nxt = parse.urlsplit(body['next'])
                path = nxt.path + ('?' + nxt.query if nxt.query else '')
        return images

    def get_image(self, image):
        """``GET /v1/images/{image}`` (UUID or name)."""
        return self.get_json(self._image_path(image))

    def delete_image(self, image):
        """``DELETE /v1/images/{image}``: the record and its data."""
        self.request('DELETE', self._image_path(image))

    # -- tasks (a Berth extension) ------------------------------------------

    @staticmethod
    def _task_path(task, suffix=''):
        return '/v1/tasks/%s%s' % (parse.quote(str(task), safe=''), suffix)

    def list_node_tasks(self, node, limit=None):
        """``GET /v1/nodes/{node}/tasks``: the node's tasks, newest first."""
        path = '/v1/nodes/%s/tasks' % parse.quote(str(node), safe='')
        if limit is not None:
            path += '?' + parse.urlencode([('limit', limit)])
        body = self.get_json(path)
        tasks = body.get('tasks')
        if (not isinstance(tasks, list)
                or not all(isinstance(t, dict) for t in tasks)):
            raise exceptions.InvalidResponse(
                'GET %s%s returned no "tasks" list of objects' % (
                    self.endpoint, path))
        return tasks

    def get_task(self, task):
        """``GET /v1/tasks/{task}``."""
        return self.get_json(self._task_path(task))

    def get_task_log(self, task, after=0):
        """The task's log lines after line ``after``, oldest first.

        :returns: the response body: ``task_uuid``, ``state`` and
            ``lines``, each with ``seq``, ``level``, ``message`` and
            ``created_at``.
        """
        path = self._task_path(task, '/log')
        if after:
            path += '?' + parse.urlencode([('after', after)])
        body = self.get_json(path)
        if not isinstance(body.get('lines'), list):
            raise exceptions.InvalidResponse(
                'GET %s%s returned no "lines" list' % (self.endpoint, path))
        return body

    def follow_task_log(self, task, after=0):
        """Yields the task's log as text, as the conductor writes it.

        ``GET /v1/tasks/{task}/log?follow=true``: the server streams one
        text line per log line and ends the answer once the task has
        ended and every line is out.
        """
        path = self._task_path(task, '/log') + '?' + parse.urlencode(
            [('follow', 'true'), ('after', after)])
        response = self.request('GET', path, stream=True)
        try:
            for chunk in response.iter_content(chunk_size=None):
                if chunk:
                    yield chunk.decode('utf-8', errors='replace')
        finally:
            response.close()
