#!/usr/bin/env bash
# Private Keystone for Berth's tests: tools/peers/keystone.sh {start|stop|status|env}
#
# Real Keystone (the venv's keystone==30.0.0) under gunicorn on
# 127.0.0.1:${BERTH_KEYSTONE_PORT:-15000}: SQLite, fernet tokens, in-memory
# cache, every file under ${BERTH_PEERS_DIR:-/tmp/berth-peers}/keystone.
# First start: db_sync, fernet_setup, credential_setup, bootstrap (admin /
# berth-admin, RegionOne, endpoints http://127.0.0.1:PORT/v3/). Every start
# then runs keystone_seed.py, which idempotently ensures:
#   projects service, demo
#   berth/berth-service            service + admin on project service
#   demo-reader/demo-reader        reader on demo, reader on system all
#   demo-member/demo-member        member on demo
#   demo-admin/demo-admin          admin on demo
#
# gunicorn gets all its settings from a config file passed through
# GUNICORN_CMD_ARGS, because Keystone parses sys.argv when it is imported.

set -euo pipefail

# shellcheck source=tools/peers/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER_NAME=keystone
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

BERTH_VENV=${BERTH_VENV:-$HOME/.cache/berth/venv}
KEYSTONE_PORT=${BERTH_KEYSTONE_PORT:-15000}
ADMIN_PASSWORD=berth-admin
START_TIMEOUT=${BERTH_PEER_START_TIMEOUT:-60}
KEYSTONE_URL=http://127.0.0.1:$KEYSTONE_PORT/v3

DIR=$BERTH_PEERS_DIR/keystone
ETC_DIR=$DIR/etc
RUN_DIR=$DIR/run
LOG_DIR=$DIR/log
CONF=$ETC_DIR/keystone.conf
GUNICORN_CONF=$ETC_DIR/gunicorn.conf.py
PIDFILE=$RUN_DIR/gunicorn.pid
BOOTSTRAP_STAMP=$DIR/bootstrapped
GUNICORN_OUT=$LOG_DIR/gunicorn.out
PID_PATTERN=gunicorn

# Loopback only: never let a proxy setting route our requests elsewhere.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

curl_v3() {
    curl --noproxy '*' -m "${1:-3}" -s -o /dev/null -w '%{http_code}' \
        "$KEYSTONE_URL" 2>/dev/null || true
}

check_venv() {
    local tool
    for tool in gunicorn keystone-manage openstack python; do
        [[ -x "$BERTH_VENV/bin/$tool" ]] \
            || peer_die "$BERTH_VENV/bin/$tool missing; run" \
                "tools/install-deps.sh (or set BERTH_VENV)"
    done
    command -v curl >/dev/null 2>&1 \
        || peer_die "curl not found; run tools/install-deps.sh"
}

render_config() {
    mkdir -p "$ETC_DIR" "$RUN_DIR" "$LOG_DIR" "$DIR/lock"
    cat > "$CONF" <<CONF
# Rendered by tools/peers/keystone.sh; edits are overwritten on start.
[DEFAULT]
log_dir = $LOG_DIR
log_file = keystone.log
use_stderr = false

[database]
connection = sqlite:///$DIR/keystone.sqlite
sqlite_synchronous = false

[token]
provider = fernet
expiration = 14400

[fernet_tokens]
key_repository = $DIR/fernet-keys

[fernet_receipts]
key_repository = $DIR/fernet-keys

[credential]
key_repository = $DIR/credential-keys

[cache]
enabled = true
backend = dogpile.cache.memory

[identity]
# Test instance: cheapest bcrypt cost, so creating users and issuing
# password tokens is fast.
password_hash_rounds = 4

[oslo_concurrency]
lock_path = $DIR/lock
CONF
    cat > "$GUNICORN_CONF" <<CONF
# Rendered by tools/peers/keystone.sh; passed as GUNICORN_CMD_ARGS=--config.
wsgi_app = "keystone.wsgi.api:application"
bind = "127.0.0.1:$KEYSTONE_PORT"
# One process (the memory cache is per process), four threads.
workers = 1
worker_class = "gthread"
threads = 4
timeout = 120
graceful_timeout = 5
control_socket_disable = True
worker_tmp_dir = "$RUN_DIR"
raw_env = ["OS_KEYSTONE_CONFIG_FILES=$CONF"]
accesslog = "$LOG_DIR/access.log"
errorlog = "$LOG_DIR/gunicorn.log"
CONF
}

# manage SUBCOMMAND ARGS...: keystone-manage, logged to its own file.
manage() {
    local log=$LOG_DIR/keystone-manage-$1.log
    if ! "$BERTH_VENV/bin/keystone-manage" --config-file "$CONF" "$@" \
        >>"$log" 2>&1; then
        log_tail "$log"
        peer_die "keystone-manage $1 failed (log: $log)"
    fi
}

bootstrap() {
    local pids=() pid rc=0
    if [[ -f "$BOOTSTRAP_STAMP" && -f "$DIR/keystone.sqlite" ]]; then
        return 0
    fi
    rm -f "$BOOTSTRAP_STAMP"
    peer_log "first start: db_sync, fernet/credential keys, bootstrap"
    # The three set-up steps are independent; run them side by side.
    manage db_sync &
    pids+=($!)
    if [[ -z "$(ls -A "$DIR/fernet-keys" 2>/dev/null)" ]]; then
        manage fernet_setup --keystone-user root --keystone-group root &
        pids+=($!)
    fi
    if [[ -z "$(ls -A "$DIR/credential-keys" 2>/dev/null)" ]]; then
        manage credential_setup --keystone-user root --keystone-group root &
        pids+=($!)
    fi
    for pid in "${pids[@]}"; do
        wait "$pid" || rc=1
    done
    [[ $rc -eq 0 ]] || peer_die "Keystone set-up failed (see above)"
    manage bootstrap \
        --bootstrap-password "$ADMIN_PASSWORD" \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$KEYSTONE_URL/" \
        --bootstrap-internal-url "$KEYSTONE_URL/" \
        --bootstrap-public-url "$KEYSTONE_URL/"
    date -u +%FT%TZ > "$BOOTSTRAP_STAMP"
}

seed() {
    if ! "$BERTH_VENV/bin/python" "$SELF_DIR/keystone_seed.py" \
        "$KEYSTONE_URL" "$ADMIN_PASSWORD" >>"$LOG_DIR/seed.log" 2>&1; then
        log_tail "$LOG_DIR/seed.log" "$LOG_DIR/keystone.log"
        peer_die "creating the test projects/users failed"
    fi
    tail -n 1 "$LOG_DIR/seed.log"
}

do_start() {
    local pid t0 deadline
    t0=$(now_ms)
    check_venv
    if pid=$(read_pid "$PIDFILE" "$PID_PATTERN"); then
        if [[ "$(curl_v3)" == 200 ]]; then
            peer_log "already running (pid $pid) on 127.0.0.1:$KEYSTONE_PORT"
            return 0
        fi
        peer_log "gunicorn pid $pid exists but $KEYSTONE_URL does not" \
            "answer; restarting it"
        do_stop
    fi
    require_port_free "$KEYSTONE_PORT" "BERTH_KEYSTONE_PORT"
    render_config
    bootstrap
    GUNICORN_CMD_ARGS="--config $GUNICORN_CONF" \
        OS_KEYSTONE_CONFIG_FILES="$CONF" \
        spawn "$PIDFILE" "$GUNICORN_OUT" "$BERTH_VENV/bin/gunicorn"
    pid=$(cat "$PIDFILE")
    deadline=$(( t0 + START_TIMEOUT * 1000 ))
    until [[ "$(curl_v3 2)" == 200 ]]; do
        if ! pid_alive "$pid"; then
            log_tail "$GUNICORN_OUT" "$LOG_DIR/gunicorn.log" \
                "$LOG_DIR/keystone.log"
            rm -f "$PIDFILE"
            peer_die "gunicorn (pid $pid) exited during start-up"
        fi
        if (( $(now_ms) > deadline )); then
            log_tail "$GUNICORN_OUT" "$LOG_DIR/gunicorn.log" \
                "$LOG_DIR/keystone.log"
            do_stop
            peer_die "GET $KEYSTONE_URL not 200 after ${START_TIMEOUT}s"
        fi
        sleep 0.2
    done
    seed
    peer_log "started (pid $pid) on 127.0.0.1:$KEYSTONE_PORT" \
        "in $(( $(now_ms) - t0 )) ms"
}

do_stop() {
    stop_pidfile "$PIDFILE" "$PID_PATTERN" gunicorn 30
}

do_status() {
    local pid
    if pid=$(read_pid "$PIDFILE" "$PID_PATTERN"); then
        if [[ "$(curl_v3)" == 200 ]]; then
            peer_log "running (pid $pid) on 127.0.0.1:$KEYSTONE_PORT"
            return 0
        fi
        peer_log "gunicorn pid $pid exists but GET $KEYSTONE_URL is not 200"
        return 1
    fi
    peer_log "not running"
    return 3
}

do_env() {
    echo "export BERTH_TEST_KEYSTONE_URL=$KEYSTONE_URL"
    echo "export BERTH_TEST_KEYSTONE_ADMIN_PASSWORD=$ADMIN_PASSWORD"
    echo "export BERTH_TEST_OPENSTACK_BIN=$BERTH_VENV/bin/openstack"
}

case "${1:-}" in
    start)
        peer_lock "$DIR"
        do_start
        ;;
    stop)
        peer_lock "$DIR"
        do_stop
        ;;
    status) do_status ;;
    env) do_env ;;
    *)
        echo "usage: $0 {start|stop|status|env}" >&2
        exit 2
        ;;
esac
