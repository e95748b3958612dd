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

"""``openstack berth task …``: a node's long operations and their logs."""

from osc_lib.command import command

# (column title, key in the task object)
LIST_COLUMNS = (
    ('UUID', 'uuid'),
    ('Kind', 'kind'),
    ('State', 'state'),
    ('Started At', 'started_at'),
    ('Finished At', 'finished_at'),
)

# Added by --long.
LONG_COLUMNS = (
    ('Conductor', 'conductor'),
    ('Error', 'error'),
)

SHOW_FIELDS = (
    'uuid', 'node_uuid', 'kind', 'state', 'params', 'result', 'error',
    'conductor', 'started_at', 'finished_at', 'created_at', 'updated_at',
)


def format_line(line):
    """A log line as the server's follow stream writes it."""
    return '%s %-5s %s' % (line.get('created_at'),
                           str(line.get('level', '')).upper(),
                           line.get('message'))


class ListTask(command.Lister):
    """List the tasks of a node, newest first.

    A task is a long operation on the node (a deploy), with a log.
    (GET /v1/nodes/{node}/tasks, a Berth extension of Ironic's API.)
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('node', metavar='<node>',
                            help='Name or UUID of the node')
        parser.add_argument('--limit', metavar='<limit>', type=int,
                            help='Show at most this many tasks')
        parser.add_argument('--long', action='store_true', default=False,
                            help='Also show the conductor and the error')
        return parser

    def take_action(self, parsed_args):
        berth = self.app.client_manager.berth
        tasks = berth.list_node_tasks(parsed_args.node,
                                      limit=parsed_args.limit)
        columns = LIST_COLUMNS
        if parsed_args.long:
            columns = columns + LONG_COLUMNS
        titles = tuple(title for title, _key in columns)
        rows = [tuple(t.get(key) for _title, key in columns) for t in tasks]
        return titles, rows


class ShowTask(command.ShowOne):
    """Show a task (GET /v1/tasks/{task})."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('task', metavar='<task>', help='UUID of the task')
        return parser

    def take_action(self, parsed_args):
        task = self.app.client_manager.berth.get_task(parsed_args.task)
        return SHOW_FIELDS, tuple(task.get(key) for key in SHOW_FIELDS)


class ShowTaskLog(command.Command):
    """Print a task's log; with --follow, as it is written, until it ends.

    (GET /v1/tasks/{task}/log, a Berth extension of Ironic's API.)
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('task', metavar='<task>', help='UUID of the task')
        parser.add_argument('--follow', action='store_true', default=False,
                            help='Keep printing new lines until the task '
                                 'has ended')
        parser.add_argument('--after', metavar='<line>', type=int, default=0,
                            help='Only lines after this line number')
        return parser

    def take_action(self, parsed_args):
        berth = self.app.client_manager.berth
        out = self.app.stdout
        if parsed_args.follow:
            for text in berth.follow_task_log(parsed_args.task,
                                              after=parsed_args.after):
                out.write(text)
                out.flush()
            return
        after = parsed_args.after
        while True:
            body = berth.get_task_log(parsed_args.task, after=after)
            lines = body['lines']
            for line in lines:
                out.write(format_line(line) + '\n')
            if not lines:
                break
            after = lines[-1].get('seq', after)
