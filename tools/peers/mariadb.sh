#!/usr/bin/env bash
# Private MariaDB for Berth's tests: tools/peers/mariadb.sh {start|stop|status|env}
#
# Debian's mariadbd on 127.0.0.1:${BERTH_MYSQL_PORT:-13306}, files under
# ${BERTH_PEERS_DIR:-/tmp/berth-peers}/mariadb. User berth/berth has ALL
# PRIVILEGES ON *.* (tests create and drop their own databases).
# The system MariaDB (/etc/mysql, port 3306) is never read or used.

set -euo pipefail

# shellcheck source=tools/peers/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEER_NAME=mariadb

MYSQL_PORT=${BERTH_MYSQL_PORT:-13306}
MYSQL_USER=berth
MYSQL_PASSWORD=berth
DIR=$BERTH_PEERS_DIR/mariadb
DATA_DIR=$DIR/data
RUN_DIR=$DIR/run
LOG_DIR=$DIR/log
TMP_DIR=$DIR/tmp
CNF=$DIR/my.cnf
SOCKET=$RUN_DIR/mariadbd.sock
PIDFILE=$RUN_DIR/mariadbd.pid
ERROR_LOG=$LOG_DIR/mariadbd.err
STDOUT_LOG=$LOG_DIR/mariadbd.out
START_TIMEOUT=${BERTH_PEER_START_TIMEOUT:-60}

MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
PID_PATTERN=mariadbd

render_config() {
    mkdir -p "$DATA_DIR" "$RUN_DIR" "$LOG_DIR" "$TMP_DIR"
    cat > "$CNF" <<CNF
# Rendered by tools/peers/mariadb.sh; edits are overwritten on start.
[mysqld]
user = root
datadir = $DATA_DIR
socket = $SOCKET
pid-file = $RUN_DIR/mariadbd.self.pid
tmpdir = $TMP_DIR
log-error = $ERROR_LOG
port = $MYSQL_PORT
bind-address = 127.0.0.1
skip-name-resolve
skip-log-bin
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
max_connections = 500
# Test instance: favour speed over durability across power loss.
innodb_buffer_pool_size = 128M
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
sync_binlog = 0

[client]
socket = $SOCKET
CNF
}

admin_sql() {
    mariadb --defaults-file="$CNF" -uroot --batch -e "$1"
}

initialise() {
    [[ -d "$DATA_DIR/mysql" ]] && return 0
    peer_log "initialising $DATA_DIR (mariadb-install-db)"
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
    if ! mariadb-install-db --defaults-file="$CNF" --user=root \
        --skip-test-db --auth-root-authentication-method=socket \
        >"$LOG_DIR/install-db.log" 2>&1; then
        log_tail "$LOG_DIR/install-db.log"
        rm -rf "$DATA_DIR"
        peer_die "mariadb-install-db failed"
    fi
}

create_user() {
    local u
    for u in "'$MYSQL_USER'@'127.0.0.1'" "'$MYSQL_USER'@'localhost'"; do
        admin_sql "CREATE USER IF NOT EXISTS $u IDENTIFIED BY '$MYSQL_PASSWORD';
            ALTER USER $u IDENTIFIED BY '$MYSQL_PASSWORD';
            GRANT ALL PRIVILEGES ON *.* TO $u WITH GRANT OPTION;"
    done
}

tcp_login_ok() {
    mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$MYSQL_PORT" \
        -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" --batch -e 'SELECT 1' \
        >/dev/null 2>&1
}

do_start() {
    local pid t0 deadline
    t0=$(now_ms)
    command -v mariadb-install-db >/dev/null 2>&1 \
        || peer_die "mariadb-install-db not found; run tools/install-deps.sh"
    [[ -x "$MARIADBD" ]] \
        || peer_die "mariadbd not found; run tools/install-deps.sh"
    if pid=$(read_pid "$PIDFILE" "$PID_PATTERN"); then
        if tcp_login_ok; then
            peer_log "already running (pid $pid) on 127.0.0.1:$MYSQL_PORT"
            return 0
        fi
        peer_log "running (pid $pid) but not answering; restarting it"
        do_stop
    fi
    require_port_free "$MYSQL_PORT" "BERTH_MYSQL_PORT"
    render_config
    initialise
    rm -f "$SOCKET"
    spawn "$PIDFILE" "$STDOUT_LOG" "$MARIADBD" --defaults-file="$CNF"
    pid=$(cat "$PIDFILE")
    deadline=$(( t0 + START_TIMEOUT * 1000 ))
    until mariadb-admin --defaults-file="$CNF" -uroot ping \
        >/dev/null 2>&1; do
        if ! pid_alive "$pid"; then
            log_tail "$ERROR_LOG" "$STDOUT_LOG"
            rm -f "$PIDFILE"
            peer_die "mariadbd (pid $pid) exited during start-up"
        fi
        if (( $(now_ms) > deadline )); then
            log_tail "$ERROR_LOG" "$STDOUT_LOG"
            do_stop
            peer_die "mariadbd not ready after ${START_TIMEOUT}s"
        fi
        sleep 0.1
    done
    create_user
    if ! tcp_login_ok; then
        log_tail "$ERROR_LOG"
        peer_die "cannot log in as $MYSQL_USER over TCP 127.0.0.1:$MYSQL_PORT"
    fi
    peer_log "started (pid $pid) on 127.0.0.1:$MYSQL_PORT" \
        "in $(( $(now_ms) - t0 )) ms"
}

do_stop() {
    stop_pidfile "$PIDFILE" "$PID_PATTERN" mariadbd 60
    rm -f "$SOCKET"
}

do_status() {
    local pid
    if pid=$(read_pid "$PIDFILE" "$PID_PATTERN"); then
        if tcp_login_ok; then
            peer_log "running (pid $pid) on 127.0.0.1:$MYSQL_PORT"
            return 0
        fi
        peer_log "process $pid exists but 127.0.0.1:$MYSQL_PORT does not" \
            "accept $MYSQL_USER logins"
        return 1
    fi
    peer_log "not running"
    return 3
}

do_env() {
    echo "export BERTH_TEST_MYSQL_URL=mysql://$MYSQL_USER:$MYSQL_PASSWORD@127.0.0.1:$MYSQL_PORT"
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
