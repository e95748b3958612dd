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

"""Errors raised by the Berth client."""

import json


class ClientError(Exception):
    """Base class of every error raised by berthclient."""


class EndpointNotFound(ClientError):
    """No Berth endpoint was given and none is in the service catalog."""


class InvalidResponse(ClientError):
    """The service answered with something that is not the expected JSON."""


class VersionNotSupported(ClientError):
    """The server and the client share no usable API microversion."""


class HttpError(ClientError):
    """The service answered with a 4xx or 5xx status.

    The message is built the way python-ironicclient builds it, so that the
    same scripts can grep both: ``<fault> (HTTP <code>) (Request-ID: <id>)``.
    """

    def __init__(self, status_code, fault, request_id=None, method=None,
                 url=None):
        self.status_code = status_code
        self.fault = fault
        self.request_id = request_id
        self.method = method
        self.url = url
        message = '%s (HTTP %s)' % (fault, status_code)
        if request_id:
            message += ' (Request-ID: %s)' % request_id
        super().__init__(message)


def fault_from_body(body, default):
    """Extract the human readable fault from an Ironic-style error body.

    Ironic (and so Berth) answers errors with
    ``{"error_message": "<JSON string>"}`` where the inner document holds
    either ``faultstring`` (API errors) or ``title``/``description``
    (routing errors such as 404 on an unknown URL or 406 on a bad version).
    Anything else is returned unchanged or replaced by ``default``.
    """
    if not body:
        return default
    try:
        outer = json.loads(body)
    except ValueError:
        return body.strip() or default
    if not isinstance(outer, dict) or 'error_message' not in outer:
        return default
    inner = outer['error_message']
    if isinstance(inner, str):
        try:
            inner = json.loads(inner)
        except ValueError:
            return inner or default
    if not isinstance(inner, dict):
        return default
    for key in ('faultstring', 'description', 'title'):
        if inner.get(key):
            return inner[key]
    return default
