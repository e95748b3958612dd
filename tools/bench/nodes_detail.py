#!/usr/bin/env python3
"""Load generator for the GET /v1/nodes/detail benchmark (Berth vs Ironic).

tools/bench/nodes-detail.sh drives it; every subcommand also runs alone:

  nodes_detail.py free-port
  nodes_detail.py wait URL [--timeout S]
  nodes_detail.py max-version URL...   (the lowest of their maxima)
  nodes_detail.py populate URL --version V [--nodes N] [--concurrency C]
  nodes_detail.py measure --target NAME=URL[@PID] ... --version V
        [--nodes N] [--concurrency C] [--warmup S] [--duration S]
        [--rounds R] [--query Q ...] [--meta KEY=VALUE ...] [--out FILE]

Only the standard library is used, so any Python 3.9+ runs it. The client
is identical for every target: C threads, each with its own keep-alive
http.client connection, issuing GET requests back to back. Bodies are read
in full but not parsed in the timed loop (one untimed request per target
and query is parsed to check it holds the expected number of nodes).
Targets alternate within each round so drift in machine load (the build
machine is shared) hits both alike.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

UUID_NAMESPACE = uuid.UUID("6b7a0c4e-2f0e-4a55-9b1e-4c3b6f1d0b7a")
VERSION_HEADER = "X-OpenStack-Ironic-API-Version"
MAX_VERSION_HEADER = "X-OpenStack-Ironic-API-Maximum-Version"
# Timestamps and links legitimately differ between the two servers.
VOLATILE_FIELDS = {"created_at", "updated_at", "provision_updated_at",
                   "links", "ports", "portgroups", "states", "volume",
                   "inspection_started_at", "inspection_finished_at"}


def parse_version(text):
    major, minor = text.strip().split(".")
    return int(major), int(minor)


def format_version(version):
    return "%d.%d" % version


class Server:
    """One HTTP endpoint with a keep-alive connection per thread."""

    def __init__(self, url, version=None, timeout=120):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http":
            raise SystemExit("only http:// URLs are supported: %s" % url)
        self.url = url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.version = version
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=self.timeout)
            self._local.conn = conn
        return conn

    def reset(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def request(self, method, path, body=None):
        """Returns (status, headers, raw body).

        Reconnects once if the server closed an idle keep-alive connection.
        """
        headers = {"Accept": "application/json"}
        if self.version:
            headers[VERSION_HEADER] = self.version
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.reset()
                if attempt == 2:
                    raise
                continue
            if resp.getheader("Connection", "").lower() == "close":
                self.reset()
            return resp.status, resp.headers, raw
        raise AssertionError("unreachable")

    def json(self, method, path, body=None, expect=(200,)):
        status, _, raw = self.request(method, path, body)
        if status not in expect:
            raise RuntimeError("%s %s%s -> %d: %s" % (
                method, self.url, path, status, raw[:500]))
        return json.loads(raw) if raw else None


# --- small subcommands -------------------------------------------------------

def cmd_free_port(_args):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_wait(args):
    server = Server(args.url, timeout=5)
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            status, _, _ = server.request("GET", "/v1")
            if status == 200:
                return
        except OSError:
            server.reset()
        if time.monotonic() > deadline:
            raise SystemExit("%s/v1 did not answer within %ss"
                             % (args.url, args.timeout))
        time.sleep(0.3)


def max_version(url):
    status, headers, _ = Server(url).request("GET", "/v1")
    if status != 200 or not headers.get(MAX_VERSION_HEADER):
        raise SystemExit("%s/v1: no %s (status %d)"
                         % (url, MAX_VERSION_HEADER, status))
    return headers[MAX_VERSION_HEADER]


def cmd_max_version(args):
    """The highest microversion every given server advertises."""
    print(format_version(min(parse_version(max_version(u))
                             for u in args.url)))


# --- populate ----------------------------------------------------------------

def node_body(i, version):
    """A realistic fake-hardware node, the same for every server."""
    rack, slot = divmod(i, 40)
    body = {
        "uuid": str(uuid.uuid5(UUID_NAMESPACE, "node-%d" % i)),
        "driver": "fake-hardware",
        "driver_info": {
            "ipmi_address": "10.%d.%d.%d" % (10 + rack // 250, rack % 250,
                                             10 + slot),
            "ipmi_username": "admin",
            "ipmi_password": "s3cret-%04d" % i,
            "deploy_kernel": "http://images.example.org/ipa.kernel",
            "deploy_ramdisk": "http://images.example.org/ipa.initramfs",
        },
        "properties": {
            "cpus": 32 if i % 3 else 64,
            "memory_mb": 262144 if i % 3 else 524288,
            "local_gb": 894,
            "cpu_arch": "x86_64",
            "capabilities": "boot_mode:uefi,secure_boot:true",
            "root_device": {"serial": "S4EVNX0R%06d" % i},
        },
        "extra": {
            "rack": "r%03d" % rack,
            "slot": slot,
            "serial": "SN-%08d" % (7_000_000 + i),
            "asset_tag": "AT%06d" % i,
            "owner_team": ["compute", "storage", "vdi"][i % 3],
        },
    }
    if parse_version(version) >= (1, 5):
        body["name"] = "node-%04d" % i
    return body


def list_nodes(server, detail=True, limit=1000):
    """Every node, page by page with our own marker.

    The server's `next` link is not followed: Ironic 39 puts
    `fields=...,name` in it for /v1/nodes, which it then refuses with 406
    below 1.5.
    """
    base = "/v1/nodes/detail" if detail else "/v1/nodes"
    nodes, marker = [], None
    while True:
        path = "%s?limit=%d" % (base, limit)
        if marker:
            path += "&marker=" + marker
        page = server.json("GET", path)["nodes"]
        nodes.extend(page)
        if len(page) < limit:
            return nodes
        marker = page[-1]["uuid"]


def cmd_populate(args):
    server = Server(args.url, version=args.version)
    have = len(list_nodes(server, detail=False))
    if have == args.nodes:
        print("populate: %s already holds %d nodes" % (args.url, have))
        return
    if have:
        raise SystemExit("populate: %s holds %d nodes, expected 0 or %d"
                         % (args.url, have, args.nodes))

    def create(i):
        body = node_body(i, args.version)
        for attempt in range(6):
            status, _, raw = server.request("POST", "/v1/nodes", body)
            if status == 201:
                return
            if status in (409, 500, 503) and attempt < 5:
                # SQLite "database is locked" under concurrent writers.
                time.sleep(0.2 * (attempt + 1))
                continue
            raise RuntimeError("POST %s/v1/nodes (node %d) -> %d: %s"
                               % (args.url, i, status, raw[:300]))

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        for f in [pool.submit(create, i) for i in range(args.nodes)]:
            f.result()
    elapsed = time.monotonic() - start
    have = len(list_nodes(server, detail=False))
    if have != args.nodes:
        raise SystemExit("populate: %s holds %d nodes after creating %d"
                         % (args.url, have, args.nodes))
    print("populate: %s: %d nodes in %.1fs (%.0f nodes/s)"
          % (args.url, have, elapsed, have / elapsed))


# --- measure -----------------------------------------------------------------

def clock_ticks():
    return os.sysconf("SC_CLK_TCK")


def process_tree_cpu(pid):
    """CPU seconds (user+system) of pid and its descendants, or None."""
    if pid is None:
        return None
    children = {}
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        ppid = int(fields[1])
        stats[int(entry)] = int(fields[11]) + int(fields[12])
        children.setdefault(ppid, []).append(int(entry))
    if pid not in stats:
        return None
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, 0)
        todo.extend(children.get(p, []))
    return total / clock_ticks()


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (
        k - lo)


def hammer(server, path, concurrency, seconds):
    """Back-to-back GETs from `concurrency` threads for `seconds`.

    Returns (latencies in s, errors, bytes, elapsed s): requests started
    before the deadline all complete and count; elapsed runs until the last
    one finished.
    """
    latencies, errors, sizes = [], [], []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def worker():
        mine, bad, nbytes = [], 0, 0
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    status, _, raw = server.request("GET", path)
                except OSError:
                    server.reset()
                    bad += 1
                    continue
                t1 = time.perf_counter()
                if status != 200:
                    bad += 1
                    continue
                mine.append(t1 - t0)
                nbytes += len(raw)
        finally:
            server.reset()
            with lock:
                latencies.extend(mine)
                errors.append(bad)
                sizes.append(nbytes)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return latencies, sum(errors), sum(sizes), elapsed


def check_page(server, path, nodes):
    page = server.json("GET", path)
    count = len(page["nodes"])
    if count != nodes:
        raise SystemExit("%s%s returned %d nodes, expected %d"
                         % (server.url, path, count, nodes))
    status, _, raw = server.request("GET", path)
    return len(raw)


def compare_data(targets):
    """How many nodes the servers return identically, volatile fields aside.

    Also which fields differ, with one example each: a sanity check that
    both hold the same rows, not a pass/fail.
    """
    if len(targets) < 2:
        return None
    views = {}
    for name, server in targets.items():
        views[name] = {n["uuid"]: {k: v for k, v in n.items()
                                   if k not in VOLATILE_FIELDS}
                       for n in list_nodes(server)}
    names = list(views)
    first, rest = views[names[0]], names[1:]
    same, fields, examples = 0, {}, {}
    for node_uuid, node in first.items():
        identical = True
        for other in rest:
            theirs = views[other].get(node_uuid)
            if theirs is None:
                identical = False
                fields["<missing node>"] = fields.get("<missing node>", 0) + 1
                continue
            for key in set(node) | set(theirs):
                mine, other_value = (node.get(key, "<absent>"),
                                     theirs.get(key, "<absent>"))
                if mine != other_value:
                    identical = False
                    fields[key] = fields.get(key, 0) + 1
                    examples.setdefault(key, {names[0]: mine,
                                              other: other_value})
        same += identical
    return {"identical_nodes": same, "nodes": len(first),
            "differing_fields": fields, "examples": examples}


def summarise(runs):
    latencies = sorted(x for r in runs for x in r["latencies"])
    requests = len(latencies)
    elapsed = sum(r["elapsed"] for r in runs)
    cpu = [r["server_cpu_s"] for r in runs]
    out = {
        "requests": requests,
        "errors": sum(r["errors"] for r in runs),
        "elapsed_s": round(elapsed, 3),
        "req_per_s": round(requests / elapsed, 2) if elapsed else 0.0,
        "per_round_req_per_s": [round(len(r["latencies"]) / r["elapsed"], 2)
                                for r in runs],
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p95": round(percentile(latencies, 0.95) * 1000, 2),
            "mean": round(statistics.fmean(latencies) * 1000, 2),
            "max": round(latencies[-1] * 1000, 2),
        } if latencies else None,
        "response_bytes": runs[0]["response_bytes"],
        "mb_per_s": round(sum(r["bytes"] for r in runs) / elapsed / 1e6, 2)
        if elapsed else 0.0,
    }
    if all(c is not None for c in cpu) and requests:
        out["server_cpu_s"] = round(sum(cpu), 2)
        out["server_cpu_ms_per_request"] = round(sum(cpu) / requests * 1000,
                                                 2)
    return out


def query_label(query):
    return query if query else "default page"


def cmd_measure(args):
    targets, pids = {}, {}
    for spec in args.target:
        name, _, rest = spec.partition("=")
        url, _, pid = rest.partition("@")
        targets[name] = Server(url, version=args.version)
        pids[name] = int(pid) if pid else None
    queries = args.query or ["limit=1000", ""]
    result = {
        "benchmark": "GET /v1/nodes/detail",
        "nodes": args.nodes,
        "api_version": args.version,
        "client": {"concurrency": args.concurrency, "warmup_s": args.warmup,
                   "duration_s": args.duration, "rounds": args.rounds,
                   "keep_alive": True, "python": sys.version.split()[0]},
        "machine": {"cpus": os.cpu_count(),
                    "loadavg_before": os.getloadavg()},
        "servers": {name: {"url": s.url, "max_version": max_version(s.url)}
                    for name, s in targets.items()},
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for item in args.meta or []:
        key, _, value = item.partition("=")
        name, _, field = key.partition(".")
        if field and name in result["servers"]:
            result["servers"][name][field] = value
        else:
            result.setdefault("meta", {})[key] = value
    result["same_data"] = compare_data(targets)

    runs = {q: {name: [] for name in targets} for q in queries}
    for rnd in range(args.rounds):
        order = list(targets)
        if rnd % 2:
            order.reverse()
        for query in queries:
            path = "/v1/nodes/detail" + ("?" + query if query else "")
            for name in order:
                server = targets[name]
                size = check_page(server, path, args.nodes)
                hammer(server, path, args.concurrency, args.warmup)
                cpu0 = process_tree_cpu(pids[name])
                lat, errors, nbytes, elapsed = hammer(
                    server, path, args.concurrency, args.duration)
                cpu1 = process_tree_cpu(pids[name])
                runs[query][name].append({
                    "latencies": lat, "errors": errors, "bytes": nbytes,
                    "elapsed": elapsed, "response_bytes": size,
                    "server_cpu_s": None if cpu0 is None or cpu1 is None
                    else cpu1 - cpu0})
                print("  round %d %-14s %-7s %7.1f req/s  (%d requests, "
                      "%d errors)" % (rnd + 1, query_label(query), name,
                                      len(lat) / elapsed, len(lat), errors),
                      file=sys.stderr, flush=True)

    result["machine"]["loadavg_after"] = os.getloadavg()
    result["results"] = {}
    names = list(targets)
    lines = []
    for query in queries:
        entry = {"path": "/v1/nodes/detail" + ("?" + query if query else "")}
        for name in names:
            entry[name] = summarise(runs[query][name])
        if len(names) == 2:
            a, b = names
            rb = entry[b]["req_per_s"]
            entry["ratio"] = round(entry[a]["req_per_s"] / rb, 2) if rb \
                else None
            entry["ratio_of"] = "%s/%s" % (a, b)
            lines.append(
                "nodes/detail %d nodes (%s): %s %.1f req/s (p50 %.1f ms, "
                "p95 %.1f ms), %s %.1f req/s (p50 %.1f ms, p95 %.1f ms), "
                "ratio %s/%s %.2f" % (
                    args.nodes, query_label(query),
                    a, entry[a]["req_per_s"], entry[a]["latency_ms"]["p50"],
                    entry[a]["latency_ms"]["p95"],
                    b, entry[b]["req_per_s"], entry[b]["latency_ms"]["p50"],
                    entry[b]["latency_ms"]["p95"],
                    a, b, entry["ratio"] or float("nan")))
        result["results"][query_label(query)] = entry
    result["summary"] = lines
    text = json.dumps(result, indent=2, sort_keys=False) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    for line in lines:
        print(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    sub.add_parser("free-port").set_defaults(func=cmd_free_port)

    p = sub.add_parser("wait")
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser("max-version")
    p.add_argument("url", nargs="+")
    p.set_defaults(func=cmd_max_version)

    p = sub.add_parser("populate")
    p.add_argument("url")
    p.add_argument("--version", required=True)
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=4)
    p.set_defaults(func=cmd_populate)

    p = sub.add_parser("measure")
    p.add_argument("--target", action="append", required=True,
                   help="NAME=URL[@PID]; the PID (whose process tree's CPU "
                        "time is sampled) is optional. With two targets the "
                        "ratio is first/second.")
    p.add_argument("--version", required=True)
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--duration", type=float, default=15)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--query", action="append",
                   help="query string after /v1/nodes/detail? (repeatable; "
                        "'' is the default page); default: limit=1000 and ''")
    p.add_argument("--meta", action="append",
                   help="NAME.FIELD=VALUE recorded under servers.NAME, or "
                        "KEY=VALUE under meta")
    p.add_argument("--out")
    p.set_defaults(func=cmd_measure)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
