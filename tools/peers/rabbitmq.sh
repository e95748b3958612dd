#!/usr/bin/env bash
# Private RabbitMQ for Berth's tests:
#   tools/peers/rabbitmq.sh {start|stop|restart|status|env|ctl ARGS...}
#
# Debian's RabbitMQ run directly from /usr/lib/rabbitmq/bin (not through the
# /usr/sbin wrapper, which switches to the rabbitmq user and the system
# cookie) as node berth-test@localhost, with:
#   AMQP          127.0.0.1:${BERTH_AMQP_PORT:-16672}
#   epmd          127.0.0.1:${BERTH_EPMD_PORT:-14369} (our own epmd)
#   distribution  127.0.0.1:${BERTH_RABBITMQ_DIST_PORT:-14370}
#   CLI dist      ports ${BERTH_RABBITMQ_CTL_PORT_MIN:-14371} .. +9
# All files (config, cookie, mnesia, logs) live under
# ${BERTH_PEERS_DIR:-/tmp/berth-peers}/rabbitmq; no plugins are enabled.
# User berth/berth on vhost / with full permissions (created on first boot
# as the default user; guest is not created).
#
# restart stops the broker process (SIGTERM: clean shutdown) and starts it
# again on the same data directory, so durable queues and persistent
# messages survive; epmd keeps running across a restart.
# ctl runs rabbitmqctl against this node, e.g. `rabbitmq.sh ctl list_queues`.

set -euo pipefail

# shellcheck source=tools/peers/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER_NAME=rabbitmq
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

AMQP_PORT=${BERTH_AMQP_PORT:-16672}
EPMD_PORT=${BERTH_EPMD_PORT:-14369}
DIST_PORT=${BERTH_RABBITMQ_DIST_PORT:-14370}
CTL_PORT_MIN=${BERTH_RABBITMQ_CTL_PORT_MIN:-14371}
NODENAME=${BERTH_RABBITMQ_NODENAME:-berth-test@localhost}
AMQP_USER=berth
AMQP_PASSWORD=berth
START_TIMEOUT=${BERTH_PEER_START_TIMEOUT:-60}

DIR=$BERTH_PEERS_DIR/rabbitmq
ETC_DIR=$DIR/etc
RUN_DIR=$DIR/run
LOG_DIR=$DIR/log
HOME_DIR=$DIR/home
MNESIA_BASE=$DIR/mnesia
# broker.pid: the beam.smp process (copied from rabbit's own PID file once
# the broker is up); wrapper.pid: the rabbitmq-server sh script that
# started it (it forwards SIGTERM to beam and exits when beam does).
BROKER_PIDFILE=$RUN_DIR/broker.pid
WRAPPER_PIDFILE=$RUN_DIR/wrapper.pid
SELF_PIDFILE=$RUN_DIR/rabbit.self.pid
EPMD_PIDFILE=$RUN_DIR/epmd.pid
BROKER_OUT=$LOG_DIR/broker.out
EPMD_LOG=$LOG_DIR/epmd.log
RABBIT_LOG=$LOG_DIR/rabbit.log

RABBITMQ_BIN=${BERTH_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
DIST_DIR=$DIR/dist
# The Erlang applications the broker needs (rabbit's dependency closure in
# RabbitMQ 3.10). Booting with only these on the code path instead of all
# ~70 bundled plugins roughly halves start-up CPU: the prelaunch phase
# loads every application it can see to look for config schemas, feature
# flags and upgrade steps. BERTH_RABBITMQ_ALL_APPS=1 turns this off.
CORE_APPS=(
    amqp10_common aten credentials_obfuscation cuttlefish enough
    gen_batch_server jsx observer_cli osiris ra rabbit rabbit_common
    rabbitmq_prelaunch ranch recon seshat stdout_formatter syslog
    sysmon_handler systemd
)
# Both the wrapper (/bin/sh .../rabbitmq-server) and beam.smp (-s rabbit
# boot) have "rabbit" in their command lines.
BROKER_PATTERN=rabbit
EPMD_PATTERN=epmd

PY=$(peer_python)

rabbit_env() {
    export HOME=$HOME_DIR
    export RABBITMQ_NODENAME=$NODENAME
    export RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT=$AMQP_PORT
    export RABBITMQ_DIST_PORT=$DIST_PORT
    export RABBITMQ_CTL_DIST_PORT_MIN=$CTL_PORT_MIN
    export RABBITMQ_CTL_DIST_PORT_MAX=$((CTL_PORT_MIN + 9))
    export ERL_EPMD_PORT=$EPMD_PORT
    export ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_CONF_ENV_FILE=$ETC_DIR/rabbitmq-env.conf
    export RABBITMQ_CONFIG_FILE=$ETC_DIR/rabbitmq.conf
    export RABBITMQ_ADVANCED_CONFIG_FILE=$ETC_DIR/advanced.config
    export RABBITMQ_ENABLED_PLUGINS_FILE=$ETC_DIR/enabled_plugins
    export RABBITMQ_MNESIA_BASE=$MNESIA_BASE
    export RABBITMQ_LOG_BASE=$LOG_DIR
    export RABBITMQ_LOGS=$RABBIT_LOG
    export RABBITMQ_PID_FILE=$SELF_PIDFILE
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

render_config() {
    mkdir -p "$ETC_DIR" "$RUN_DIR" "$LOG_DIR" "$HOME_DIR" "$MNESIA_BASE"
    : > "$ETC_DIR/rabbitmq-env.conf"
    echo '[].' > "$ETC_DIR/enabled_plugins"
    echo '[].' > "$ETC_DIR/advanced.config"
    cat > "$ETC_DIR/rabbitmq.conf" <<CONF
# Rendered by tools/peers/rabbitmq.sh; edits are overwritten on start.
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
default_vhost = /
default_user = $AMQP_USER
default_pass = $AMQP_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file.level = info
log.console = false
disk_free_limit.absolute = 50MB
CONF
    if [[ ! -s "$HOME_DIR/.erlang.cookie" ]]; then
        (
            umask 077
            head -c 30 /dev/urandom | sha256sum | cut -c1-32 \
                > "$HOME_DIR/.erlang.cookie"
        )
    fi
    chmod 400 "$HOME_DIR/.erlang.cookie"
}

amqp_check() {
    "$PY" "$SELF_DIR/amqp_check.py" 127.0.0.1 "$AMQP_PORT" \
        "$AMQP_USER" "$AMQP_PASSWORD" / "${1:-5}"
}

# prepare_dist: a RABBITMQ_HOME look-alike under $DIST_DIR whose plugins
# directory links only CORE_APPS. Prints the sbin directory to use.
prepare_dist() {
    local real_sbin real_home app src
    if [[ "${BERTH_RABBITMQ_ALL_APPS:-0}" == 1 ]]; then
        echo "$RABBITMQ_BIN"
        return 0
    fi
    real_sbin=$(dirname "$(readlink -f "$RABBITMQ_BIN/rabbitmq-server")")
    real_home=$(dirname "$real_sbin")
    rm -rf "$DIST_DIR"
    mkdir -p "$DIST_DIR/plugins"
    ln -s "$real_sbin" "$DIST_DIR/sbin"
    ln -s "$real_home/escript" "$DIST_DIR/escript"
    for app in "${CORE_APPS[@]}"; do
        src=$(compgen -G "$real_home/plugins/$app-[0-9]*" | head -n 1 || true)
        if [[ -z "$src" || ! -d "$src" ]]; then
            peer_log "application $app not found in $real_home/plugins;" \
                "booting with all bundled applications" >&2
            rm -rf "$DIST_DIR"
            echo "$RABBITMQ_BIN"
            return 0
        fi
        ln -s "$src" "$DIST_DIR/plugins/$(basename "$src")"
    done
    echo "$DIST_DIR/sbin"
}

ctl() {
    # Without our epmd, erl would start a stray `epmd -daemon` of its own.
    read_pid "$EPMD_PIDFILE" "$EPMD_PATTERN" >/dev/null \
        || peer_die "not running (start it first: $SELF start)"
    rabbit_env
    "$RABBITMQ_BIN/rabbitmqctl" -n "$NODENAME" "$@"
}

start_epmd() {
    local pid deadline
    if pid=$(read_pid "$EPMD_PIDFILE" "$EPMD_PATTERN"); then
        return 0
    fi
    command -v epmd >/dev/null 2>&1 \
        || peer_die "epmd not found; run tools/install-deps.sh"
    require_port_free "$EPMD_PORT" "BERTH_EPMD_PORT"
    spawn "$EPMD_PIDFILE" "$EPMD_LOG" \
        epmd -address 127.0.0.1 -port "$EPMD_PORT"
    pid=$(cat "$EPMD_PIDFILE")
    deadline=$(( $(now_ms) + 10000 ))
    until tcp_listening "$EPMD_PORT"; do
        if ! pid_alive "$pid" || (( $(now_ms) > deadline )); then
            log_tail "$EPMD_LOG"
            peer_die "epmd did not start on 127.0.0.1:$EPMD_PORT"
        fi
        sleep 0.05
    done
}

# ensure_user: only needed when the data dir predates the default_user
# settings; the normal path never gets here.
ensure_user() {
    peer_log "user $AMQP_USER missing; creating it with rabbitmqctl"
    ctl add_user "$AMQP_USER" "$AMQP_PASSWORD" >/dev/null 2>&1 \
        || ctl change_password "$AMQP_USER" "$AMQP_PASSWORD" >/dev/null
    ctl set_user_tags "$AMQP_USER" administrator >/dev/null
    ctl set_permissions -p / "$AMQP_USER" '.*' '.*' '.*' >/dev/null
}

# launch_broker: spawn the wrapper; sets pid and out_size.
launch_broker() {
    # Only the AMQP port lies in the ephemeral range (32768-60999), so only
    # it can be held by some client's own socket while the broker is down.
    if ! wait_port_clear "$AMQP_PORT" "$deadline"; then
        peer_die "port $AMQP_PORT is still held by a lingering (TIME_WAIT)" \
            "socket, probably a client that connected to itself while the" \
            "broker was down; it clears about 60 s after it was made. Use" \
            "a BERTH_AMQP_PORT below 32768 to rule this out."
    fi
    rm -f "$SELF_PIDFILE" "$BROKER_PIDFILE"
    out_size=$(stat -c %s "$BROKER_OUT" 2>/dev/null || echo 0)
    spawn "$WRAPPER_PIDFILE" "$BROKER_OUT" "$sbin/rabbitmq-server"
    pid=$(cat "$WRAPPER_PIDFILE")
}

start_broker() {
    local pid t0 deadline rc sbin out_size result new_out attempt=1
    local fixed_user=0
    t0=$(now_ms)
    [[ -x "$RABBITMQ_BIN/rabbitmq-server" ]] \
        || peer_die "$RABBITMQ_BIN/rabbitmq-server not found;" \
            "run tools/install-deps.sh"
    if pid=$(read_pid "$BROKER_PIDFILE" "$BROKER_PATTERN" \
        || read_pid "$WRAPPER_PIDFILE" "$BROKER_PATTERN"); then
        if tcp_listening "$AMQP_PORT" && amqp_check 2 2>/dev/null; then
            peer_log "already running (pid $pid) on 127.0.0.1:$AMQP_PORT"
            return 0
        fi
        peer_log "broker pid $pid exists but AMQP does not answer; restarting"
        stop_broker
    fi
    require_port_free "$AMQP_PORT" "BERTH_AMQP_PORT"
    require_port_free "$DIST_PORT" "BERTH_RABBITMQ_DIST_PORT"
    render_config
    start_epmd
    sbin=$(prepare_dist)
    rabbit_env
    if [[ "$sbin" != "$RABBITMQ_BIN" ]]; then
        export RABBITMQ_SCRIPTS_DIR=$sbin
        export RABBITMQ_PLUGINS_DIR=$DIST_DIR/plugins
    fi
    deadline=$(( t0 + START_TIMEOUT * 1000 ))
    launch_broker
    while :; do
        result=""
        # Connect only once our listener exists (see tcp_listening).
        if tcp_listening "$AMQP_PORT"; then
            rc=0
            amqp_check 2 2>"$RUN_DIR/amqp_check.err" || rc=$?
            case $rc in
                0) result=ready ;;
                2) ;;
                3)
                    if [[ $fixed_user -eq 0 ]]; then
                        fixed_user=1
                        ensure_user
                        continue
                    fi
                    result=refused
                    ;;
                *) result=refused ;;
            esac
        fi
        if [[ -z "$result" ]] && ! pid_alive "$pid"; then
            result=died
        fi
        if [[ -z "$result" ]] && (( $(now_ms) > deadline )); then
            result=timeout
        fi
        case $result in
            "")
                sleep 0.1
                continue
                ;;
            ready) break ;;
            refused)
                cat "$RUN_DIR/amqp_check.err" >&2
                log_tail "$RABBIT_LOG"
                peer_die "AMQP login as $AMQP_USER failed"
                ;;
            died)
                new_out=$(tail -c +$((out_size + 1)) "$BROKER_OUT" || true)
                stop_broker >/dev/null
                if [[ "$new_out" == *eaddrinuse* && $attempt -lt 3 ]] \
                    && (( $(now_ms) < deadline )); then
                    # Another socket held a port for a moment (e.g. a
                    # client's self-connection to the AMQP port); retry.
                    attempt=$((attempt + 1))
                    peer_log "a port was in use while the broker started" \
                        "(eaddrinuse); retrying (attempt $attempt)"
                    launch_broker
                    continue
                fi
                log_tail "$BROKER_OUT" "$RABBIT_LOG"
                peer_die "rabbitmq-server (pid $pid) exited during start-up"
                ;;
            timeout)
                log_tail "$BROKER_OUT" "$RABBIT_LOG"
                stop_broker
                peer_die "RabbitMQ not ready after ${START_TIMEOUT}s"
                ;;
        esac
    done
    if pid=$(read_pid "$SELF_PIDFILE" beam); then
        echo "$pid" > "$BROKER_PIDFILE"
    else
        peer_log "warning: no beam PID in $SELF_PIDFILE; tracking the wrapper"
        pid=$(cat "$WRAPPER_PIDFILE")
        echo "$pid" > "$BROKER_PIDFILE"
    fi
    peer_log "started (pid $pid) on 127.0.0.1:$AMQP_PORT" \
        "in $(( $(now_ms) - t0 )) ms"
}

stop_broker() {
    local beam wrapper pids=()
    beam=$(read_pid "$BROKER_PIDFILE" "$BROKER_PATTERN" \
        || read_pid "$SELF_PIDFILE" beam || true)
    wrapper=$(read_pid "$WRAPPER_PIDFILE" "$BROKER_PATTERN" || true)
    [[ -n "$beam" ]] && pids+=("$beam")
    [[ -n "$wrapper" && "$wrapper" != "$beam" ]] && pids+=("$wrapper")
    if [[ ${#pids[@]} -eq 0 ]]; then
        peer_log "broker not running"
    else
        # SIGTERM to beam is a clean shutdown (queues and message stores
        # are flushed); the wrapper forwards SIGTERM the same way.
        terminate broker 60 "${pids[0]}" "${pids[@]}"
        peer_log "broker (pids ${pids[*]}) stopped"
    fi
    rm -f "$BROKER_PIDFILE" "$WRAPPER_PIDFILE" "$SELF_PIDFILE"
}

do_start() {
    start_broker
}

do_stop() {
    stop_broker
    stop_pidfile "$EPMD_PIDFILE" "$EPMD_PATTERN" "epmd" 10
}

do_restart() {
    local t0
    t0=$(now_ms)
    stop_broker
    start_broker
    peer_log "restart took $(( $(now_ms) - t0 )) ms"
}

do_status() {
    local pid
    if pid=$(read_pid "$BROKER_PIDFILE" "$BROKER_PATTERN"); then
        if tcp_listening "$AMQP_PORT" && amqp_check 2; then
            peer_log "running (pid $pid) on 127.0.0.1:$AMQP_PORT"
            return 0
        fi
        peer_log "broker pid $pid exists but AMQP login fails"
        return 1
    fi
    peer_log "not running"
    return 3
}

do_env() {
    echo "export BERTH_TEST_AMQP_URL=amqp://$AMQP_USER:$AMQP_PASSWORD@127.0.0.1:$AMQP_PORT/%2f"
    echo "export BERTH_TEST_RABBITMQ_CTL=$SELF"
}

SELF_DIR=$(dirname "$SELF")

case "${1:-}" in
    start)
        peer_lock "$DIR"
        do_start
        ;;
    stop)
        peer_lock "$DIR"
        do_stop
        ;;
    restart)
        peer_lock "$DIR"
        do_restart
        ;;
    status) do_status ;;
    env) do_env ;;
    ctl)
        shift
        ctl "$@"
        ;;
    *)
        echo "usage: $0 {start|stop|restart|status|env|ctl ARGS...}" >&2
        exit 2
        ;;
esac
