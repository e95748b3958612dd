#!/usr/bin/env bash
# deploy.sh -- measure Berth's image write in the virtual lab against dd.
#
# Brings up a one-node lab (tools/lab/berth-lab), runs the berth
# all-in-one binary inside its namespace, enrolls the node by hand (ipmi,
# direct deploy), uploads an image to Berth's image store and deploys it.
# The ramdisk's kernel command line carries berth.bench_dd=URL, so before
# its agent starts, the micro image's init writes the same image with
# busybox `wget | dd of=<disk> bs=1M conv=fsync` in the very same VM and
# logs the time on the console: that is the baseline. Reports:
#   - dd: bytes, seconds, MB/s (baseline);
#   - Berth's agent: bytes written, zero bytes skipped, seconds, MB/s, and
#     the ratio to dd (goal >= 90 %), and the agent's peak memory;
#   - the deploy's task log (every phase with its time).
# The default image is 1 GiB of random data (no zero blocks to skip, so
# the comparison is byte for byte); --image FILE uses a raw image instead.
# A benchmark: it prints figures and asserts nothing. Run as root.
#
# usage: tools/bench/deploy.sh [--image FILE.raw] [--size-mib N]
#                              [--profile debug|release] [--timeout SECONDS]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

IMAGE=
SIZE_MIB=1024
PROFILE=debug
TIMEOUT=900
while [[ $# -gt 0 ]]; do
    case "$1" in
        --image) IMAGE=$2; shift ;;
        --size-mib) SIZE_MIB=$2; shift ;;
        --profile) PROFILE=$2; shift ;;
        --timeout) TIMEOUT=$2; shift ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

NAME=berth-bench-$$
WORK=$(mktemp -d /var/tmp/berth-bench-deploy.XXXXXX)
LAB=(tools/lab/berth-lab --name "$NAME" --dir "$WORK/lab")
BERTH_PID=
HTTP_PID=

cleanup() {
    for pid in "$BERTH_PID" "$HTTP_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2> /dev/null; then
            kill "$pid" 2> /dev/null || true
            wait "$pid" 2> /dev/null || true
        fi
    done
    "${LAB[@]}" down > /dev/null 2>&1 || true
    rm -f "$WORK/serve/bench.raw"
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

mkdir -p "$WORK/serve"
if [[ -n "$IMAGE" ]]; then
    cp --sparse=always "$IMAGE" "$WORK/serve/bench.raw"
else
    echo "==> $SIZE_MIB MiB of random data as the image"
    head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/serve/bench.raw"
    # A whole-disk image must carry a partition table (the agent checks).
    echo 'start=2048, type=83' | sfdisk -q "$WORK/serve/bench.raw" > /dev/null
fi
size=$(stat -c %s "$WORK/serve/bench.raw")

echo "==> lab with 1 node"
"${LAB[@]}" up --nodes 1 > "$WORK/lab-up.log"
eval "$("${LAB[@]}" env)"
# The baseline's image server: a plain HTTP server on the lab's network.
ip netns exec "$NAME" python3 -m http.server --bind 198.18.0.1 --directory "$WORK/serve" 8080 \
    > "$WORK/http.log" 2>&1 &
HTTP_PID=$!
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
[conductor]
sync_power_state_interval = 0
[inspector]
extra_kernel_params = berth.bench_dd=http://198.18.0.1:8080/bench.raw
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
    local method=$1 path=$2
    shift 2
    ip netns exec "$NAME" curl -sf -X "$method" -H 'X-OpenStack-Ironic-API-Version: 1.115' \
        "$@" "http://198.18.0.1:6385$path"
}
json() { python3 -c "import json, sys; v = json.load(sys.stdin); print($1)"; }
for _ in $(seq 1 120); do
    api GET /v1 > /dev/null && break
    sleep 0.5
done
api GET /v1 > /dev/null || { echo "berth did not start: $WORK/berth.log" >&2; exit 1; }

echo "==> enroll the node and upload the image"
node=$(api POST /v1/nodes -H 'Content-Type: application/json' -d "{
    \"driver\": \"ipmi\", \"name\": \"bench-1\", \"deploy_interface\": \"direct\",
    \"driver_info\": {\"ipmi_address\": \"$BERTH_LAB_NODE1_BMC_ADDRESS\",
        \"ipmi_port\": \"$BERTH_LAB_NODE1_BMC_PORT\",
        \"ipmi_username\": \"$BERTH_LAB_IPMI_USERNAME\",
        \"ipmi_password\": \"$BERTH_LAB_IPMI_PASSWORD\"}}" | json 'v["uuid"]')
api POST /v1/ports -H 'Content-Type: application/json' \
    -d "{\"node_uuid\": \"$node\", \"address\": \"$BERTH_LAB_NODE1_MAC\"}" > /dev/null
wait_state() {
    local want=$1 deadline state
    deadline=$(($(date +%s) + TIMEOUT))
    while (($(date +%s) < deadline)); do
        state=$(api GET "/v1/nodes/$node" | json 'v["provision_state"]')
        [[ "$state" == "$want" ]] && return 0
        [[ "$state" == *failed ]] && { echo "node is $state" >&2; return 1; }
        sleep 1
    done
    echo "node never reached $want" >&2
    return 1
}
provision() {
    api PUT "/v1/nodes/$node/states/provision" -H 'Content-Type: application/json' \
        -d "{\"target\": \"$1\"}" > /dev/null
}
provision manage && wait_state manageable
provision provide && wait_state available
image=$(api POST /v1/images -H 'Content-Type: application/json' \
    -d '{"name": "bench", "disk_format": "raw"}' | json 'v["uuid"]')
api PUT "/v1/images/$image/file" -H 'Content-Type: application/octet-stream' \
    -T "$WORK/serve/bench.raw" > /dev/null
api PATCH "/v1/nodes/$node" -H 'Content-Type: application/json' \
    -d "[{\"op\": \"add\", \"path\": \"/instance_info/image_source\", \"value\": \"$image\"}]" > /dev/null

echo "==> deploy"
start=$(date +%s.%N)
provision active
wait_state active
deployed=$(echo "$(date +%s.%N) - $start" | bc)

echo "==> results"
dd_line=$(grep -a 'bench dd:' "$BERTH_LAB_NODE1_CONSOLE" | tail -n 1)
read -r t0 t1 < <(echo "$dd_line" | sed -n 's/.* from \([0-9.]*\)s to \([0-9.]*\)s.*/\1 \2/p')
dd_s=$(echo "$t1 - $t0" | bc)
dd_rate=$(echo "scale=1; $size / $dd_s / 1000000" | bc)
report=$(api GET "/v1/nodes/$node" | json 'json.dumps(v["driver_internal_info"]["deploy_image_write"])')
written=$(echo "$report" | json 'v.get("bytes_written")')
skipped=$(echo "$report" | json 'v.get("bytes_zero_skipped")')
secs=$(echo "$report" | json 'v.get("seconds")')
rss=$(echo "$report" | json 'v.get("peak_rss_kb")')
berth_rate=$(echo "scale=1; $size / $secs / 1000000" | bc)
echo "image: $size bytes"
echo "dd (busybox wget | dd bs=1M conv=fsync, same VM): $dd_s s, $dd_rate MB/s"
echo "berth-agent: $secs s, $berth_rate MB/s ($written bytes written, $skipped zero bytes skipped), peak memory $rss KiB"
echo "berth / dd: $(echo "scale=0; 100 * $dd_s / $secs" | bc) % (goal >= 90 %)"
echo "deploy request -> active: $deployed s"
echo "task log:"
task=$(api GET "/v1/nodes/$node/tasks" | json 'v["tasks"][0]["uuid"]')
api GET "/v1/tasks/$task/log?follow=true"
