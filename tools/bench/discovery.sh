#!/usr/bin/env bash
# discovery.sh -- measure zero-touch discovery in the virtual lab.
#
# Builds the micro image with a release berth-agent, brings up a lab with N
# nodes (tools/lab/berth-lab), runs the berth all-in-one binary inside the
# lab's namespace (dnsmasq, iPXE scripts, auto-discovery), powers every
# node on through its BMC at once and reports:
#   - the image's size (kernel, initramfs, total; budget 30 MiB);
#   - per node: seconds from IPMI power on to the node enrolled with its
#     inventory (Berth's view), and the guest's uptime when Berth accepted
#     the inventory (kernel start -> report; goal 10 s).
# A benchmark: it prints figures and asserts nothing. Run as root.
#
# usage: tools/bench/discovery.sh [--nodes N] [--profile debug|release]
#                                 [--timeout SECONDS]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

NODES=1
PROFILE=debug
TIMEOUT=240
while [[ $# -gt 0 ]]; do
    case "$1" in
        --nodes) NODES=$2; shift ;;
        --profile) PROFILE=$2; shift ;;
        --timeout) TIMEOUT=$2; shift ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

NAME=berth-bench-$$
WORK=$(mktemp -d /var/tmp/berth-bench-discovery.XXXXXX)
LAB=(tools/lab/berth-lab --name "$NAME" --dir "$WORK/lab")
BERTH_PID=

cleanup() {
    if [[ -n "$BERTH_PID" ]] && kill -0 "$BERTH_PID" 2> /dev/null; then
        kill "$BERTH_PID" 2> /dev/null || true
        wait "$BERTH_PID" 2> /dev/null || true
    fi
    "${LAB[@]}" down > /dev/null 2>&1 || true
    echo "logs kept in $WORK"
}
trap cleanup EXIT

echo "==> build (berth: $PROFILE, berth-agent: release)"
if [[ "$PROFILE" == release ]]; then
    cargo build -q --release --bin berth
else
    cargo build -q --bin berth
fi
cargo build -q --release --no-default-features --features agent --bin berth-agent
tools/micro-image/build.sh --agent target/release/berth-agent --strip \
    --out "$WORK/image" > "$WORK/image-build.log" 2>&1 || {
    cat "$WORK/image-build.log" >&2
    exit 1
}
kernel=$(stat -c %s "$WORK/image/vmlinuz")
initrd=$(stat -c %s "$WORK/image/initramfs.gz")
total=$((kernel + initrd))
echo "micro image: vmlinuz $kernel bytes, initramfs.gz $initrd bytes," \
    "total $total bytes ($((total * 100 / 31457280))% of the 30 MiB budget)"

echo "==> lab with $NODES node(s)"
"${LAB[@]}" up --nodes "$NODES" > "$WORK/lab-up.log"
mkdir -p "$WORK/state"
cat > "$WORK/berth.conf" << CONF
[DEFAULT]
host = berth-bench
state_path = $WORK/state
auth_strategy = noauth
[api]
host_ip = 198.18.0.1
port = 6385
[agent]
require_tls = false
[auto_discovery]
enabled = true
driver = ipmi
[pxe]
dnsmasq_enabled = true
interface = br-prov
dhcp_range = 198.18.0.100,198.18.0.199
http_url = http://198.18.0.1:6385
kernel = $WORK/image/vmlinuz
ramdisk = $WORK/image/initramfs.gz
CONF
ip netns exec "$NAME" "target/$PROFILE/berth" --config-file "$WORK/berth.conf" \
    > "$WORK/berth.log" 2>&1 &
BERTH_PID=$!
api() {
    ip netns exec "$NAME" curl -sf -H 'X-OpenStack-Ironic-API-Version: 1.115' \
        "http://198.18.0.1:6385$1"
}
# The MACs of the ports Berth has: one per discovered node.
port_macs() {
    api '/v1/ports/detail' \
        | python3 -c 'import json, sys; [print(p["address"]) for p in json.load(sys.stdin)["ports"]]'
}
for _ in $(seq 1 120); do
    api /v1 > /dev/null && break
    sleep 0.5
done
api /v1 > /dev/null || { echo "berth did not start: $WORK/berth.log" >&2; exit 1; }

echo "==> power on through the BMCs"
for i in $(seq 1 "$NODES"); do
    "${LAB[@]}" ipmitool "$i" chassis bootdev pxe > /dev/null
done
start=$(date +%s.%N)
for i in $(seq 1 "$NODES"); do
    "${LAB[@]}" ipmitool "$i" power on > /dev/null
done

declare -A enrolled=()
deadline=$(($(date +%s) + TIMEOUT))
while [[ ${#enrolled[@]} -lt $NODES && $(date +%s) -lt $deadline ]]; do
    now=$(date +%s.%N)
    while read -r mac; do
        [[ -n "$mac" && -z "${enrolled[$mac]:-}" ]] || continue
        enrolled[$mac]=$(echo "$now - $start" | bc)
    done < <(port_macs)
    sleep 0.5
done

# Then each discovered machine is powered off by its agent.
declare -A stopped=()
while [[ ${#stopped[@]} -lt ${#enrolled[@]} && $(date +%s) -lt $deadline ]]; do
    now=$(date +%s.%N)
    while read -r node state; do
        [[ "$state" == vm=off && -z "${stopped[$node]:-}" ]] || continue
        stopped[$node]=$(echo "$now - $start" | bc)
    done < <("${LAB[@]}" status 2> /dev/null | awk '/^node/ {print $1, $4}')
    sleep 0.5
done

echo "==> results"
for i in $(seq 1 "$NODES"); do
    eval "$("${LAB[@]}" env | grep "NODE${i}_\(MAC\|CONSOLE\)=")"
    mac_var=BERTH_LAB_NODE${i}_MAC
    console_var=BERTH_LAB_NODE${i}_CONSOLE
    mac=${!mac_var}
    uptime=$(grep -o 'uptime_s=[0-9.]*' "${!console_var}" | head -n 1 | cut -d= -f2 || true)
    printf 'node%d %s: power on -> enrolled %.1f s, -> powered off by its agent %.1f s;' \
        "$i" "$mac" "${enrolled[$mac]:-0}" "${stopped[node$i]:-0}"
    printf ' kernel start -> report %s s\n' "${uptime:-unknown}"
done
[[ ${#enrolled[@]} -eq $NODES ]] || { echo "not every node was discovered" >&2; exit 1; }
[[ ${#stopped[@]} -eq $NODES ]] || { echo "not every node was powered off" >&2; exit 1; }
