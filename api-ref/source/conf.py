# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#    http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration for the Berth API reference.

Build with ``tox -e api-ref`` (warnings are errors), or directly::

    sphinx-build -W -b html api-ref/source api-ref/build/html
"""

extensions = [
    'os_api_ref',
    'openstackdocstheme',
]

# -- openstackdocstheme ------------------------------------------------------

html_theme = 'openstackdocs'
html_theme_options = {
    'sidebar_mode': 'toc',
}
openstackdocs_repo_name = 'berth/berth'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = 'berth'
openstackdocs_bug_tag = 'api-ref'

# -- General configuration ---------------------------------------------------

project = 'Berth API Reference'
copyright = 'The Berth developers'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
# The .inc files are pulled in by index.rst; they are not documents of their
# own.
exclude_patterns = ['build']
add_module_names = False
show_authors = False
pygments_style = 'native'

# -- HTML output -------------------------------------------------------------

htmlhelp_basename = 'berth-api-ref'
