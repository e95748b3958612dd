# shellcheck shell=bash
# lib.sh -- shared by berth-lab and bmc-hook (source it, do not run it).
#
# Process records: every long-running process the lab starts is recorded in
# a file DIR/run/<what>.pid holding "PID STARTTIME", where STARTTIME is field
# 22 of /proc/PID/stat (clock ticks since boot, fixed at fork).  A record
# only matches while that PID still has that start time, so a recycled PID
# that now belongs to somebody else is never signalled.
#
# Address plan (all inside the lab's own network namespace):
#   198.18.0.1/24       bridge br-prov: where Berth (the server side) binds
#   198.18.1.(10+i)/32  node i's BMC (ipmi_sim), on lo
#   52:54:00:b0:00:ii   node i's NIC (ii = i in hex), on tap<i> in br-prov
#   127.0.0.1:9000+10i+2  ipmi_sim <-> QEMU in-band KCS link (VM codec)
#   127.0.0.1:9000+10i+3  node i's serial console (telnet, SOL source)

LAB_BRIDGE=br-prov
LAB_SERVER_IP=198.18.0.1
LAB_PREFIX_LEN=24
LAB_IPMI_USER=admin
LAB_IPMI_PASSWORD=password

lab_node_mac() { printf '52:54:00:b0:00:%02x' "$1"; }
lab_bmc_mac() { printf '52:54:00:b1:00:%02x' "$1"; }
lab_bmc_ip() { echo "198.18.1.$((10 + $1))"; }
lab_tap() { echo "tap$1"; }
lab_kcs_port() { echo $((9000 + 10 * $1 + 2)); }
lab_sol_port() { echo $((9000 + 10 * $1 + 3)); }

# lab_starttime PID: the process's start time, empty if it does not exist.
lab_starttime() {
    local stat
    stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 0
    # The command name (field 2) may contain spaces: cut after its ')'.
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${20}"
}

# lab_record_pid RECORD: the PID in RECORD if that process is still the one
# recorded (same start time) and not a zombie; else fails.
lab_record_pid() {
    local pid start stat state
    [ -f "$1" ] || return 1
    read -r pid start < "$1" || true
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2> /dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    state=$1
    [ "$state" != Z ] || return 1
    [ "${20}" = "$start" ] || return 1
    echo "$pid"
}

lab_alive() { lab_record_pid "$1" > /dev/null; }

# lab_spawn RECORD LOGFILE CMD...: start CMD in the background in its own
# session and process group (setsid), stdin from /dev/null, output appended
# to LOGFILE, and write its record.  The shell does not wait for it.
lab_spawn() {
    local record=$1 logfile=$2 pid start
    shift 2
    # Without job control a background job is not a process group leader,
    # so setsid calls setsid(2) directly (no fork): $! is CMD's own PID.
    setsid "$@" < /dev/null >> "$logfile" 2>&1 &
    pid=$!
    start=$(lab_starttime "$pid")
    echo "$pid $start" > "$record"
}

# lab_stop RECORD [WAIT_TENTHS]: SIGTERM the recorded process (and its
# process group, which it leads), wait up to WAIT_TENTHS/10 s (default 5 s),
# then SIGKILL.  Removes RECORD.  Succeeds if nothing is left running.
lab_stop() {
    local record=$1 wait=${2:-50} pid i
    if pid=$(lab_record_pid "$record"); then
        kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
        for ((i = 0; i < wait; i++)); do
            lab_alive "$record" || break
            sleep 0.1
        done
        if lab_alive "$record"; then
            kill -KILL -- "-$pid" 2> /dev/null || kill -KILL "$pid" 2> /dev/null || true
            for ((i = 0; i < 30; i++)); do
                lab_alive "$record" || break
                sleep 0.1
            done
        fi
    fi
    if lab_alive "$record"; then
        return 1
    fi
    rm -f "$record"
}

# lab_load_config DIR: read DIR/lab.env (written by "berth-lab up").
lab_load_config() {
    local key value
    [ -f "$1/lab.env" ] || return 1
    while IFS='=' read -r key value; do
        case $key in
            LAB_NAME | LAB_NODES | LAB_RAM_MB | LAB_DISK_GB | LAB_FIRMWARE | LAB_NIC | LAB_BMC_PORT)
                printf -v "$key" '%s' "$value"
                ;;
        esac
    done < "$1/lab.env"
}
