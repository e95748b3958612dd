#!/usr/bin/env bash
# All test peers at once: tools/peers/all.sh {start|stop|status|env}
#
# start and stop run mariadb.sh, rabbitmq.sh and keystone.sh side by side
# (they share nothing but the machine) and fail if any of them fails.
# env prints every export the Rust tests read:
#   eval "$(tools/peers/all.sh env)"

set -euo pipefail

# shellcheck source=tools/peers/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER_NAME=all
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=(mariadb rabbitmq keystone)

# parallel ACTION: run "<peer>.sh ACTION" for every peer concurrently.
parallel() {
    local action=$1 peer failed=() t0
    local -A pids=()
    t0=$(now_ms)
    for peer in "${PEERS[@]}"; do
        "$HERE/$peer.sh" "$action" &
        pids[$peer]=$!
    done
    for peer in "${PEERS[@]}"; do
        if ! wait "${pids[$peer]}"; then
            failed+=("$peer")
        fi
    done
    if [[ ${#failed[@]} -gt 0 ]]; then
        peer_die "$action failed for: ${failed[*]}" \
            "(logs under $BERTH_PEERS_DIR/<peer>/log)"
    fi
    peer_log "$action: all peers done in $(( $(now_ms) - t0 )) ms"
}

do_status() {
    local peer rc=0
    for peer in "${PEERS[@]}"; do
        "$HERE/$peer.sh" status || rc=1
    done
    return $rc
}

do_env() {
    local peer
    for peer in "${PEERS[@]}"; do
        "$HERE/$peer.sh" env
    done
}

case "${1:-}" in
    start | stop) parallel "$1" ;;
    status) do_status ;;
    env) do_env ;;
    *)
        echo "usage: $0 {start|stop|status|env}" >&2
        exit 2
        ;;
esac
