#!/usr/bin/env bash
# Shared helpers for tools/peers/*.sh (sourced, not executed).
#
# Every peer keeps its files under $BERTH_PEERS_DIR/<peer>/ and its PID in
# $BERTH_PEERS_DIR/<peer>/run/<name>.pid. Processes are started in their own
# session with stdin/stdout/stderr redirected to log files, so a caller that
# captures the script's output (e.g. Rust's Command::output()) never waits
# on the daemon.

BERTH_PEERS_DIR=${BERTH_PEERS_DIR:-/tmp/berth-peers}

peer_log() {
    echo "${PEER_NAME:-peers}: $*"
}

peer_die() {
    echo "${PEER_NAME:-peers}: ERROR: $*" >&2
    exit 1
}

# Monotonic-enough wall clock in milliseconds (bash 5 EPOCHREALTIME).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# pid_alive PID: true when PID exists and is not a zombie. (PID 1 in some
# sandboxes reaps orphans late, so a dead daemon can linger as state Z.)
pid_alive() {
    local pid=$1 stat state
    [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    state=${stat##*) }
    state=${state%% *}
    [[ "$state" != "Z" && "$state" != "X" ]]
}

# pid_matches PID PATTERN: PID is alive and its command line contains
# PATTERN (guards against a recycled PID).
pid_matches() {
    local pid=$1 pattern=$2 cmdline
    pid_alive "$pid" || return 1
    cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *"$pattern"* ]]
}

# read_pid PIDFILE PATTERN: print the PID recorded in PIDFILE if that
# process still runs (and matches PATTERN); fail otherwise.
read_pid() {
    local pidfile=$1 pattern=$2 pid
    [[ -f "$pidfile" ]] || return 1
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if pid_matches "$pid" "$pattern"; then
        echo "$pid"
        return 0
    fi
    return 1
}

# wait_gone TIMEOUT_S PID...: wait until none of the PIDs is alive.
wait_gone() {
    local timeout=$1 deadline pid busy
    shift
    deadline=$(( $(now_ms) + timeout * 1000 ))
    while :; do
        busy=0
        for pid in "$@"; do
            if pid_alive "$pid"; then
                busy=1
                break
            fi
        done
        if [[ $busy -eq 0 ]]; then
            return 0
        fi
        if (( $(now_ms) > deadline )); then
            return 1
        fi
        sleep 0.05
    done
}

# terminate WHAT TIMEOUT_S TARGET [PID...]: SIGTERM TARGET, wait up to
# TIMEOUT_S for TARGET and the other PIDs to exit, then SIGKILL whatever
# is left.
terminate() {
    local what=$1 timeout=$2 target=$3 pid
    shift 2
    kill -TERM "$target" 2>/dev/null || true
    if wait_gone "$timeout" "$@"; then
        return 0
    fi
    peer_log "$what ignored SIGTERM for ${timeout}s; sending SIGKILL"
    for pid in "$@"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait_gone 10 "$@" || peer_die "$what (pids $*) survived SIGKILL"
}

# stop_pidfile PIDFILE PATTERN DESCRIPTION [TIMEOUT_S]: SIGTERM, wait up to
# TIMEOUT_S (default 30), then SIGKILL. Safe when nothing runs.
stop_pidfile() {
    local pidfile=$1 pattern=$2 what=$3 timeout=${4:-30} pid
    if ! pid=$(read_pid "$pidfile" "$pattern"); then
        rm -f "$pidfile"
        peer_log "$what not running"
        return 0
    fi
    terminate "$what" "$timeout" "$pid"
    rm -f "$pidfile"
    peer_log "$what (pid $pid) stopped"
}

# tcp_port_states PORT: the states (hex, as in /proc/net/tcp) of every TCP
# socket whose local port is PORT. Reads /proc and opens no connection.
tcp_port_states() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p {print $4}' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null || true
}

# tcp_listening PORT: some socket listens on PORT (state 0A). Poll this,
# not a connect(), while waiting for a server: connecting to a port in the
# ephemeral range (32768-60999; the AMQP default 16672 stays below it) while nothing
# listens can make the kernel pick that same port as the source port; the
# socket then connects to itself and blocks the real server's bind (seen
# here: the broker died with eaddrinuse).
tcp_listening() {
    local states
    states=$'\n'$(tcp_port_states "$1")$'\n'
    [[ "$states" == *$'\n0A\n'* ]]
}

# port_busy PORT: a socket other than TIME_WAIT (06) / CLOSE (07) uses PORT
# as its local port, so a server could not bind it now.
port_busy() {
    local state
    for state in $(tcp_port_states "$1"); do
        if [[ "$state" != 06 && "$state" != 07 ]]; then
            return 0
        fi
    done
    return 1
}

# wait_port_clear PORT DEADLINE_MS: wait until no TCP socket at all (not
# even TIME_WAIT) uses PORT locally, or until the deadline. Under gVisor
# (this sandbox) SO_REUSEADDR does not allow binding over a TIME_WAIT
# socket, which lingers for about 60 s.
wait_port_clear() {
    local port=$1 deadline=$2 said=0
    while [[ -n "$(tcp_port_states "$port")" ]]; do
        if [[ $said -eq 0 ]]; then
            peer_log "waiting for a lingering socket on port $port to go" \
                "(TIME_WAIT, e.g. from a client that connected to itself)"
            said=1
        fi
        if (( $(now_ms) > deadline )); then
            return 1
        fi
        sleep 0.2
    done
}

# require_port_free PORT DESCRIPTION
require_port_free() {
    if port_busy "$1"; then
        peer_die "port $1 ($2) is already in use by another process;" \
            "stop it or choose another port"
    fi
}

# spawn PIDFILE LOGFILE CMD...: run CMD in a new session, detached from
# our stdio and from the peer_lock descriptor, and record its PID (setsid
# execs, so $! is CMD's PID).
spawn() {
    local pidfile=$1 logfile=$2
    shift 2
    setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
    echo $! > "$pidfile"
}

# log_tail FILE...: show the end of log files after a failure.
log_tail() {
    local f
    for f in "$@"; do
        [[ -f "$f" ]] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 40 "$f" >&2
    done
}

# python3 for the small stdlib helpers: prefer Debian's, which has no
# shim overhead.
peer_python() {
    if [[ -x /usr/bin/python3 ]]; then
        echo /usr/bin/python3
    else
        command -v python3 || peer_die "python3 not found"
    fi
}

# peer_lock DIR: serialise start/stop/restart of one peer (e.g. a test
# calling `rabbitmq.sh restart` while someone runs `all.sh stop`). The lock
# is held until the script exits.
peer_lock() {
    mkdir -p "$1"
    exec 9>"$1/.lock"
    if ! flock -w 120 9; then
        peer_die "another start/stop of this peer has held $1/.lock for 120s"
    fi
}
