#!/usr/bin/env bash
# Benchmark: GET /v1/nodes/detail throughput of Berth against real Ironic 39,
# both all-in-one (in-process RPC), noauth, SQLite, fake-hardware, each
# holding the same N nodes, on 127.0.0.1 ports chosen at random.
#
#   tools/bench/nodes-detail.sh [options]
#
#   --profile release|debug  Berth build to compare (default release; the
#                            result says which)
#   --no-build               use the existing binary, do not run cargo
#   --nodes N                nodes in each server (default 1000)
#   --version X.Y            microversion of every request (default: the
#                            highest both servers advertise)
#   --concurrency C          client threads, one keep-alive connection each
#                            (default 4)
#   --warmup S               unmeasured seconds before each run (default 3)
#   --duration S             measured seconds of each run (default 15)
#   --rounds R               rounds; targets alternate within each (default 2)
#   --out FILE               JSON result (default
#                            ${CARGO_TARGET_DIR:-target}/bench/nodes-detail.json)
#   --keep                   keep the temporary state directory
#
# Steps: tools/install-deps.sh (venv with Ironic 39), cargo build, start
# both servers, populate both over HTTP, measure `?limit=1000` and the
# default page, write the JSON result and print one line per query:
#   nodes/detail 1000 nodes (limit=1000): berth X req/s ..., ironic Y req/s
#   ..., ratio berth/ironic X/Y
# Both servers are stopped by PID on any exit.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
BERTH_VENV=${BERTH_VENV:-$HOME/.cache/berth/venv}
PY=$BERTH_VENV/bin/python
BENCH=$ROOT/tools/bench/nodes_detail.py
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

PROFILE=release
BUILD=1
NODES=1000
VERSION=
CONCURRENCY=4
WARMUP=3
DURATION=15
ROUNDS=2
OUT=
KEEP=0

usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --profile) PROFILE=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --nodes) NODES=$2; shift 2 ;;
        --version) VERSION=$2; shift 2 ;;
        --concurrency) CONCURRENCY=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option $1" >&2; usage 2 ;;
    esac
done
case "$PROFILE" in
    release|debug) ;;
    *) echo "--profile must be release or debug" >&2; exit 2 ;;
esac
OUT=${OUT:-$TARGET_DIR/bench/nodes-detail.json}

log() {
    echo "bench: $*" >&2
}

tools/install-deps.sh >&2
"$PY" -c 'import ironic' 2>/dev/null \
    || { echo "bench: Ironic is missing from $BERTH_VENV" >&2; exit 1; }

BERTH_BIN=$TARGET_DIR/$PROFILE/berth
if [[ $BUILD -eq 1 ]]; then
    log "building berth ($PROFILE)"
    if [[ $PROFILE == release ]]; then
        cargo build --release --bin berth >&2
    else
        cargo build --bin berth >&2
    fi
fi
[[ -x "$BERTH_BIN" ]] || { echo "bench: no $BERTH_BIN" >&2; exit 1; }

WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
BERTH_PID=
IRONIC_PID=
CLIENT_PID=
# The target dir may be shared with other checkouts: run a private copy of
# the binary just built, so a concurrent build cannot swap it mid-run.
cp "$BERTH_BIN" "$WORK/berth-bin"

bench() {
    # The Python helper in the background, so that a signal to this script
    # is handled at once (bash defers traps while a foreground child runs).
    "$PY" "$BENCH" "$@" &
    CLIENT_PID=$!
    wait "$CLIENT_PID"
    CLIENT_PID=
}

stop_pid() {
    # Stops one server we started, by PID: SIGTERM, then SIGKILL after 10 s.
    # Ironic's master process forks a worker; SIGTERM to the master stops it
    # too, and the worker is killed by PID if it outlives the master.
    local pid=$1 kids i
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $kids; do
        kill -KILL "$i" 2>/dev/null || true
    done
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    if [[ -n "$CLIENT_PID" ]]; then
        kill -TERM "$CLIENT_PID" 2>/dev/null || true
        wait "$CLIENT_PID" 2>/dev/null || true
    fi
    stop_pid "$BERTH_PID"
    stop_pid "$IRONIC_PID"
    if [[ $KEEP -eq 1 || $rc -ne 0 ]]; then
        log "state and logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Ironic ------------------------------------------------------------------
IRONIC_PORT=$("$PY" "$BENCH" free-port)
mkdir -p "$WORK/ironic/locks"
sed -e "s|@STATE@|$WORK/ironic|g" -e "s|@PORT@|$IRONIC_PORT|g" \
    tools/bench/ironic.conf.in > "$WORK/ironic/ironic.conf"
log "creating Ironic's schema"
"$BERTH_VENV/bin/ironic-dbsync" --config-file "$WORK/ironic/ironic.conf" \
    create_schema > "$WORK/ironic/dbsync.log" 2>&1
log "starting Ironic on 127.0.0.1:$IRONIC_PORT"
"$BERTH_VENV/bin/ironic" --config-file "$WORK/ironic/ironic.conf" \
    > "$WORK/ironic/stdout.log" 2>&1 &
IRONIC_PID=$!

# --- Berth -------------------------------------------------------------------
BERTH_PORT=$("$PY" "$BENCH" free-port)
mkdir -p "$WORK/berth"
sed -e "s|@STATE@|$WORK/berth|g" -e "s|@PORT@|$BERTH_PORT|g" \
    tools/bench/berth.conf.in > "$WORK/berth/berth.conf"
log "starting berth ($PROFILE) on 127.0.0.1:$BERTH_PORT"
"$WORK/berth-bin" --config-file "$WORK/berth/berth.conf" \
    > "$WORK/berth/berth.log" 2>&1 &
BERTH_PID=$!

IRONIC_URL=http://127.0.0.1:$IRONIC_PORT
BERTH_URL=http://127.0.0.1:$BERTH_PORT
bench wait "$BERTH_URL" --timeout 60
bench wait "$IRONIC_URL" --timeout 120

if [[ -z "$VERSION" ]]; then
    VERSION=$("$PY" "$BENCH" max-version "$BERTH_URL" "$IRONIC_URL")
fi
log "microversion $VERSION"

bench populate "$BERTH_URL" --version "$VERSION" --nodes "$NODES" >&2
bench populate "$IRONIC_URL" --version "$VERSION" --nodes "$NODES" >&2

BERTH_DESC="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
BERTH_DESC+=" ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain -- src migrations Cargo.toml Cargo.lock \
        2>/dev/null)" ]]; then
    BERTH_DESC+="+dirty"
fi
BERTH_DESC+=")"
IRONIC_DESC=$("$PY" -c 'import importlib.metadata as m; print(m.version("ironic"))')

mkdir -p "$(dirname "$OUT")"
log "measuring: $CONCURRENCY clients, ${WARMUP}s warm-up + ${DURATION}s per run, $ROUNDS rounds"
bench measure \
    --target "berth=$BERTH_URL@$BERTH_PID" \
    --target "ironic=$IRONIC_URL@$IRONIC_PID" \
    --version "$VERSION" --nodes "$NODES" --concurrency "$CONCURRENCY" \
    --warmup "$WARMUP" --duration "$DURATION" --rounds "$ROUNDS" \
    --meta "berth.version=$BERTH_DESC" \
    --meta "berth.build_profile=$PROFILE" \
    --meta "berth.process=berth all-in-one, actix workers = CPUs" \
    --meta "ironic.version=$IRONIC_DESC" \
    --meta "ironic.process=ironic all-in-one (cheroot threads in one worker process)" \
    --out "$OUT"
log "result: $OUT"
