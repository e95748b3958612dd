#!/usr/bin/env bash
# selftest.sh -- boot the built micro image in the virtual lab (without
# Berth) and check the inventory the agent posts.  See README.md.
#
# usage: selftest.sh [--image DIR | --stand-in | --agent PATH [--add SRC=DEST]...
#                    [--strip]] [--append "ARGS"] [--nic virtio|e1000]
#                    [--firmware bios|uefi] [--name NAME] [--timeout S] [--keep]
#
# A one-node lab (tools/lab/berth-lab) is created; inside its namespace
# this script runs dnsmasq (DHCP only) and a small Python HTTP server on
# 198.18.0.1:6385 that serves boot.ipxe, vmlinuz and initramfs.gz and
# answers POST /v1/continue_inspection (202, lookup-style body) and
# POST /v1/heartbeat/<uuid> (202).  The node is powered on through IPMI
# with bootdev pxe; its NIC ROM (iPXE) boots the image over HTTP.  The
# inventory must name the node's MAC, cpu count >= 1, memory > 0, a disk
# of the lab disk's size and the node's BMC address (read in-band).
# Prints PASS or FAIL (exit 0 or 1).  Needs root.
# (--nic and --firmware are passed to "berth-lab up".)
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=$REPO/tools/lab/berth-lab

IMAGE=$REPO/target/micro-image
AGENT=""
ADDS=()
NAME=mi-selftest
TIMEOUT=120
KEEP=0
APPEND=""
STAND_IN=0
UP_OPTS=()
NODE_UUID=11111111-2222-3333-4444-555555555555
PORT=6385

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
    case $1 in
        --image) IMAGE=${2:?}; shift ;;
        --agent) AGENT=${2:?}; shift ;;
        --stand-in) STAND_IN=1 ;;
        --add) ADDS+=(--add "${2:?}"); shift ;;
        --strip) ADDS+=(--strip) ;;
        --append) APPEND=${2:?}; shift ;;
        --nic) UP_OPTS+=(--nic "${2:?}"); shift ;;
        --firmware) UP_OPTS+=(--firmware "${2:?}"); shift ;;
        --name) NAME=${2:?}; shift ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done

say() { echo "selftest: $*"; }
die() {
    echo "selftest: ERROR: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, taps)"
for t in dnsmasq python3 ip; do
    command -v "$t" > /dev/null || die "missing $t"
done
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

LABCMD=("$LAB" --name "$NAME")
# A lab of this name left over by an earlier run is removed first.
"${LABCMD[@]}" down > /dev/null 2>&1 || true
"${LABCMD[@]}" up --nodes 1 "${UP_OPTS[@]}" > /dev/null || die "berth-lab up failed"
eval "$("${LABCMD[@]}" env)"
W=$BERTH_LAB_DIR/micro-image-selftest
rm -rf "$W"
mkdir -p "$W"
PIDS=()

cleanup() {
    local rc=$? p
    set +e
    "${LABCMD[@]}" ipmitool 1 power off > /dev/null 2>&1
    for p in "${PIDS[@]}"; do
        kill "$p" 2> /dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2> /dev/null || break
            sleep 0.2
        done
        kill -9 "$p" 2> /dev/null
    done
    if [ "$KEEP" = 1 ]; then
        say "--keep: the lab $NAME stays up; logs in $W"
    else
        "${LABCMD[@]}" down > /dev/null 2>&1 || echo "selftest: berth-lab down failed" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ------------------------------------------------------------ the image
if [ "$STAND_IN" = 1 ]; then
    # the test-only stand-in agent and its in-band IPMI helper
    AGENT=$HERE/testing/stand-in-agent.sh
    command -v gcc > /dev/null || die "--stand-in needs gcc (and libc6-dev) for testing/bmc-lan-query.c"
    gcc -static -Os -s -o "$W/bmc-lan-query" "$HERE/testing/bmc-lan-query.c" ||
        die "cannot build testing/bmc-lan-query.c (static glibc: libc6-dev)"
    ADDS+=(--add "$W/bmc-lan-query=/usr/bin/bmc-lan-query")
fi
if [ -n "$AGENT" ]; then
    IMAGE=$W/image
    "$HERE/build.sh" --agent "$AGENT" "${ADDS[@]}" --out "$IMAGE" ||
        die "build.sh failed"
fi
for f in vmlinuz initramfs.gz; do
    [ -s "$IMAGE/$f" ] || die "$IMAGE/$f missing: run tools/micro-image/build.sh first"
done
mkdir -p "$W/www"
ln -s "$IMAGE/vmlinuz" "$IMAGE/initramfs.gz" "$W/www/"
SRV=$BERTH_LAB_SERVER_IP
cat > "$W/www/boot.ipxe" << EOF
#!ipxe
kernel http://$SRV:$PORT/vmlinuz initrd=initramfs.gz console=ttyS0 ipa-inspection-callback-url=http://$SRV:$PORT/v1/continue_inspection ipa-api-url=http://$SRV:$PORT BOOTIF=01-\${mac:hexhyp}${APPEND:+ $APPEND}
initrd --name initramfs.gz http://$SRV:$PORT/initramfs.gz
boot
EOF

# ------------------------------------------------------------ HTTP server
cat > "$W/server.py" << 'EOF'
"""Stand-in for Berth's API in the micro image selftest (stdlib only)."""
import json
import os
import sys
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

ADDR, PORT, WWW, OUT, UUID = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
LOOKUP = {"node": {"uuid": UUID}, "config": {"agent_token": "t", "heartbeat_timeout": 30}}


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=WWW, **kwargs)

    def log_message(self, fmt, *args):
        sys.stderr.write("%.3f %s %s\n" % (time.time(), self.client_address[0], fmt % args))
        sys.stderr.flush()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/v1/continue_inspection":
            kind, answer = "inventory", LOOKUP
        elif self.path.startswith("/v1/heartbeat/"):
            kind, answer = "heartbeat", None
        else:
            self.send_error(404)
            return
        rec = {"t": time.time(), "kind": kind, "path": self.path,
               "headers": dict(self.headers), "body": body.decode("utf-8", "replace")}
        with open(os.path.join(OUT, kind + ".jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        data = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer((ADDR, PORT), Handler).serve_forever()
EOF

# spawn LOGFILE CMD... : start in the background, record the PID
spawn() {
    local log=$1
    shift
    setsid "$@" > "$log" 2>&1 < /dev/null &
    PIDS+=($!)
}
spawn "$W/http.log" ip netns exec "$BERTH_LAB_NETNS" \
    python3 "$W/server.py" "$SRV" "$PORT" "$W/www" "$W" "$NODE_UUID"

cat > "$W/dnsmasq.conf" << EOF
port=0
interface=$BERTH_LAB_BRIDGE
except-interface=lo
bind-interfaces
dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,1h
dhcp-leasefile=$W/dnsmasq.leases
pid-file=$W/dnsmasq.pid
dhcp-match=set:ipxe,175
dhcp-boot=tag:ipxe,http://$SRV:$PORT/boot.ipxe
EOF
spawn "$W/dnsmasq.out" ip netns exec "$BERTH_LAB_NETNS" dnsmasq --keep-in-foreground \
    --conf-file="$W/dnsmasq.conf" --user=root --log-facility="$W/dnsmasq.log" --log-dhcp

# both listening?
for _ in $(seq 50); do
    ip netns exec "$BERTH_LAB_NETNS" python3 -c "import socket; socket.create_connection(('$SRV', $PORT), 1)" \
        2> /dev/null && break
    sleep 0.2
done
ip netns exec "$BERTH_LAB_NETNS" python3 -c "import socket; socket.create_connection(('$SRV', $PORT), 1)" ||
    die "the HTTP server did not start (see $W/http.log)"
for p in "${PIDS[@]}"; do
    kill -0 "$p" 2> /dev/null || die "a helper died at start (see $W/http.log, $W/dnsmasq.out)"
done

# ------------------------------------------------------------ boot
out=$("${LABCMD[@]}" ipmitool 1 chassis bootdev pxe 2>&1) || die "bootdev pxe: $out"
case $out in *"Set Boot Device to pxe"*) ;; *) die "bootdev pxe refused: $out" ;; esac
CONSOLE=$BERTH_LAB_NODE1_CONSOLE
con_start=$(stat -c %s "$CONSOLE" 2> /dev/null || echo 0)
t0=$(now)
out=$("${LABCMD[@]}" ipmitool 1 power on 2>&1) || die "power on: $out"
say "power on ($out)"

deadline=$(($(date +%s) + TIMEOUT))
while [ ! -s "$W/inventory.jsonl" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 0.5
done
t_post=$(now)
[ -s "$W/inventory.jsonl" ] || {
    say "no inventory within $TIMEOUT s; console tail:"
    tail -c +$((con_start + 1)) "$CONSOLE" | tail -n 30 | sed 's/^/  | /'
    say "FAIL"
    exit 1
}
# a heartbeat is welcome but not required
for _ in $(seq 40); do
    [ -s "$W/heartbeat.jsonl" ] && break
    sleep 0.5
done
sleep 0.5
tail -c +$((con_start + 1)) "$CONSOLE" | tr -d '\r' > "$W/console.log"

# ------------------------------------------------------------ checks
disk_bytes=$(($(sed -n 's/^LAB_DISK_GB=//p' "$BERTH_LAB_DIR/lab.env") * 1024 * 1024 * 1024))
set +e
python3 - "$W" "$BERTH_LAB_NODE1_MAC" "$disk_bytes" "$BERTH_LAB_NODE1_BMC_ADDRESS" "$t0" << 'EOF'
import json, sys
w, mac, disk_bytes, bmc, t0 = sys.argv[1], sys.argv[2].lower(), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
rec = json.loads(open(w + "/inventory.jsonl").readline())
fails = []
def check(ok, what):
    print("  %s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        fails.append(what)
try:
    body = json.loads(rec["body"])
except ValueError as e:
    print("  FAIL the inventory POST is not JSON: %s" % e)
    sys.exit(1)
inv = body.get("inventory") or {}
hdr = {k.lower(): v for k, v in rec["headers"].items()}
print("  info POST after %.1f s (server clock, from power on); Content-Type %s, X-OpenStack-Ironic-API-Version %s"
      % (rec["t"] - t0, hdr.get("content-type"), hdr.get("x-openstack-ironic-api-version")))
macs = [str(i.get("mac_address", "")).lower() for i in inv.get("interfaces") or []]
check(mac in macs, "interface with MAC %s (got %s)" % (mac, macs))
cpu = inv.get("cpu") or {}
check(isinstance(cpu.get("count"), int) and cpu["count"] >= 1, "cpu count >= 1 (got %r)" % cpu.get("count"))
mem = inv.get("memory") or {}
check(isinstance(mem.get("total"), int) and mem["total"] > 0, "memory total > 0 (got %r)" % mem.get("total"))
sizes = [d.get("size") for d in inv.get("disks") or []]
check(disk_bytes in sizes, "a disk of %d bytes (got %s)" % (disk_bytes, sizes))
check(inv.get("bmc_address") == bmc, "bmc_address %s (got %r)" % (bmc, inv.get("bmc_address")))
print("  info boot_interface %r, agent %r" % (body.get("boot_interface"), body.get("berth_agent")))
sys.exit(1 if fails else 0)
EOF
rc=$?
set -e

say "power on -> inventory POST: $(elapsed "$t0" "$(awk 'NR == 1' "$W/inventory.jsonl" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["t"])')") s"
if [ -s "$W/heartbeat.jsonl" ]; then
    say "heartbeat: $(wc -l < "$W/heartbeat.jsonl") received"
else
    say "heartbeat: none within 20 s of the inventory"
fi
# Guest uptime at the POST: the stand-in agent sends it; for an agent that
# logs wall-clock timestamps, estimate it from init's "starting" uptime plus
# the time from the agent's first log line to the one naming the node.
python3 - "$W" "$NODE_UUID" << 'EOF' || true
import datetime, json, re, sys
w, uuid = sys.argv[1], sys.argv[2]
body = json.loads(json.loads(open(w + "/inventory.jsonl").readline())["body"])
up = (body.get("berth_agent") or {}).get("uptime_s")
if up is not None:
    print("selftest: guest uptime at the POST: %.2f s (sent by the agent)" % up)
    sys.exit(0)
start = t0 = None
for line in open(w + "/console.log", errors="replace"):
    m = re.match(r"\[([0-9.]+)s\] berth-init: starting ", line)
    if m and start is None:
        start = float(m.group(1))
        continue
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?)\d*Z? ", line)
    if start is None or not m:
        continue
    t = datetime.datetime.fromisoformat(m.group(1))
    if t0 is None:
        t0 = t
    if uuid in line:
        d = (t - t0).total_seconds()
        print("selftest: guest uptime at the POST: about %.2f s (agent started at %.2f s,"
              " told the node UUID %.2f s later)" % (start + d, start, d))
        break
else:
    print("selftest: guest uptime at the POST: unknown (agent started at %s s)" % start)
EOF
say "guest console (init and agent lines):"
grep -a -E '^berth micro image|^\[ *[0-9.]+s\] |^[0-9]{4}-[0-9]{2}-[0-9]{2}T.* berth' "$W/console.log" | sed 's/^/  | /' | head -n 80 || true
say "logs (console.log, http.log, dnsmasq.log) kept in $W"
if [ "$rc" = 0 ]; then
    say "PASS"
else
    say "FAIL"
fi
exit "$rc"
