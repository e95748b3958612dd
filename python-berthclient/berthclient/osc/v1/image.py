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

"""``openstack berth image ...``: Berth's image store.

Images are what ``instance_info/image_source`` may name for a deploy. An
upload is raw or qcow2; Berth converts qcow2 to raw with qemu-img and
keeps the sha256 of the stored raw file, which the deploy agent verifies.
(``/v1/images``, a Berth extension of Ironic's API.)
"""

import logging

from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions as osc_exc

from berthclient import client

LOG = logging.getLogger(__name__)

# (column title, key in the image object)
LIST_COLUMNS = (
    ('UUID', 'uuid'),
    ('Name', 'name'),
    ('Status', 'status'),
    ('Disk Format', 'disk_format'),
    ('Size', 'size'),
)

# Added by --long.
LONG_COLUMNS = (
    ('Virtual Size', 'virtual_size'),
    ('Hash Algorithm', 'os_hash_algo'),
    ('Hash Value', 'os_hash_value'),
    ('Last Error', 'last_error'),
    ('Created At', 'created_at'),
    ('Updated At', 'updated_at'),
)

# What ``image show`` and ``image create`` print, in this order.
SHOW_FIELDS = (
    'uuid', 'name', 'status', 'disk_format', 'size', 'virtual_size',
    'os_hash_algo', 'os_hash_value', 'uploaded_size', 'uploaded_checksum',
    'last_error', 'extra', 'created_at', 'updated_at',
)


def _show(image):
    return SHOW_FIELDS, tuple(image.get(key) for key in SHOW_FIELDS)


class CreateImage(command.ShowOne):
    """Create an image and upload its data.

    The file is streamed to Berth (never read whole into memory). A qcow2
    file is converted to raw by Berth; the image becomes "active" once it
    is stored, or "error" (with last_error) if Berth refuses the data.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'name',
            metavar='<name>',
            help='Unique name of the new image',
        )
        parser.add_argument(
            '--disk-format',
            required=True,
            choices=client.DISK_FORMATS,
            help='Format of the file to upload',
        )
        parser.add_argument(
            '--file',
            required=True,
            metavar='<path>',
            help='The image data to upload',
        )
        parser.add_argument(
            '--extra',
            metavar='<key=value>',
            action=parseractions.KeyValueAction,
            help='Extra property of the image (repeat for several)',
        )
        return parser

    def take_action(self, parsed_args):
        berth = self.app.client_manager.berth
        try:
            data = open(parsed_args.file, 'rb')
        except OSError as e:
            raise osc_exc.CommandError(
                'Cannot read %s: %s' % (parsed_args.file, e.strerror))
        with data:
            image = berth.create_image(parsed_args.disk_format,
                                       name=parsed_args.name,
                                       extra=parsed_args.extra)
            LOG.debug('Created image %s; uploading %s', image.get('uuid'),
                      parsed_args.file)
            image = berth.upload_image(image['uuid'], data)
        return _show(image)


class ListImage(command.Lister):
    """List images."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--long',
            action='store_true',
            default=False,
            help='Also show virtual sizes, checksums, errors and times',
        )
        return parser

    def take_action(self, parsed_args):
        columns = LIST_COLUMNS
        if parsed_args.long:
            columns = columns + LONG_COLUMNS
        images = self.app.client_manager.berth.list_images()
        return (tuple(title for title, _key in columns),
                [tuple(i.get(key) for _title, key in columns)
                 for i in images])


class ShowImage(command.ShowOne):
    """Show an image."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'image',
            metavar='<image>',
            help='Name or UUID of the image',
        )
        return parser

    def take_action(self, parsed_args):
        return _show(self.app.client_manager.berth.get_image(
            parsed_args.image))


class DeleteImage(command.Command):
    """Delete images and their data."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'images',
            metavar='<image>',
            nargs='+',
            help='Name or UUID of an image to delete',
        )
        return parser

    def take_action(self, parsed_args):
        berth = self.app.client_manager.berth
        failures = []
        for image in parsed_args.images:
            try:
                berth.delete_image(image)
            except Exception as e:
                failures.append('%s: %s' % (image, e))
        if failures:
            raise osc_exc.CommandError(
                'Failed to delete %d of %d images:\n%s' % (
                    len(failures), len(parsed_args.images),
                    '\n'.join(failures)))
