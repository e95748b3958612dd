"""Idempotently create the projects, users and roles Berth's tests use.

Run by tools/peers/keystone.sh with the venv's Python:

    python keystone_seed.py AUTH_URL ADMIN_PASSWORD

Authenticates as the bootstrap admin with a system-scoped token (system
all) and uses plain REST calls through keystoneauth1, so a re-run only
issues GETs and PUTs (role assignment PUTs are idempotent). Passwords are
set only when a user is created.
"""

import sys

from keystoneauth1 import exceptions
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

DOMAIN = "default"

PROJECTS = ["service", "demo"]

# (user, password, [(role, project or "system")])
USERS = [
    ("berth", "berth-service", [("service", "service"),
                                ("admin", "service")]),
    ("demo-reader", "demo-reader", [("reader", "demo"),
                                    ("reader", "system")]),
    ("demo-member", "demo-member", [("member", "demo")]),
    ("demo-admin", "demo-admin", [("admin", "demo")]),
]


class Seeder(object):
    def __init__(self, auth_url, admin_password):
        auth = v3.Password(auth_url=auth_url, username="admin",
                           password=admin_password,
                           user_domain_id=DOMAIN, system_scope="all")
        self.sess = ks_session.Session(auth=auth, timeout=30)
        self.base = auth_url.rstrip("/")
        self.created = []

    def get(self, path, **params):
        return self.sess.get(self.base + path, params=params).json()

    def post(self, path, body):
        return self.sess.post(self.base + path, json=body).json()

    def put(self, path):
        self.sess.put(self.base + path)

    def find(self, collection, name, **extra):
        found = self.get("/%s" % collection, name=name, **extra)[collection]
        return found[0]["id"] if found else None

    def ensure_project(self, name):
        pid = self.find("projects", name, domain_id=DOMAIN)
        if pid is None:
            pid = self.post("/projects", {"project": {
                "name": name, "domain_id": DOMAIN, "enabled": True,
                "description": "Berth test project"}})["project"]["id"]
            self.created.append("project %s" % name)
        return pid

    def ensure_user(self, name, password):
        uid = self.find("users", name, domain_id=DOMAIN)
        if uid is None:
            uid = self.post("/users", {"user": {
                "name": name, "domain_id": DOMAIN, "enabled": True,
                "password": password}})["user"]["id"]
            self.created.append("user %s" % name)
        return uid

    def role_id(self, name):
        rid = self.find("roles", name)
        if rid is None:
            raise SystemExit("keystone_seed: role %r does not exist "
                             "(keystone-manage bootstrap creates it)" % name)
        return rid

    def run(self):
        projects = {name: self.ensure_project(name) for name in PROJECTS}
        roles = {}
        for user, password, grants in USERS:
            uid = self.ensure_user(user, password)
            for role, target in grants:
                if role not in roles:
                    roles[role] = self.role_id(role)
                if target == "system":
                    self.put("/system/users/%s/roles/%s" % (uid, roles[role]))
                else:
                    self.put("/projects/%s/users/%s/roles/%s"
                             % (projects[target], uid, roles[role]))
        return self.created


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        created = Seeder(argv[1], argv[2]).run()
    except exceptions.ClientException as exc:
        print("keystone_seed: %s" % exc, file=sys.stderr)
        return 1
    print("keystone_seed: created %s" % (", ".join(created) or "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
