#!/bin/bash
# ipmi_sim_chassis.sh -- the chassis_control and lan_config_program helper
# that OpenIPMI's ipmi_sim runs for tests/common/ipmi_sim.rs.
#
#   lan.conf:  chassis_control    "ipmi_sim_chassis.sh chassis DIR"
#              lan_config_program "ipmi_sim_chassis.sh lan DIR"
# ipmi_sim appends "get <parm>..." or "set <parm> <val>...", and runs this
# synchronously (popen): QEMU is started in the background with its output
# redirected, so this returns at once.
#
# chassis parms: power 0|1 (QEMU started / SIGKILL'd), reset 1 (stop+start),
# boot none|pxe|default|cdrom|bios (stored in DIR/boot; decides -boot at the
# next power on), shutdown 1 (ACPI power button over QMP), identify (ignored).
# Every call is logged to DIR/chassis.log for the tests.
set -u
kind=$1
d=$2
op=$3
shift 3
echo "$kind $op $*" >> "$d/chassis.log"

if [ "$kind" = lan ]; then
    [ "$op" = get ] || exit 0
    for p in "$@"; do
        case $p in
            ip_addr) echo "ip_addr:127.0.0.1" ;;
            ip_addr_src) echo "ip_addr_src:static" ;;
            mac_addr) echo "mac_addr:52:54:00:12:34:56" ;;
            subnet_mask) echo "subnet_mask:255.0.0.0" ;;
            default_gw_ip_addr | backup_gw_ip_addr) echo "$p:127.0.0.254" ;;
            default_gw_mac_addr | backup_gw_mac_addr) echo "$p:00:00:00:00:00:00" ;;
            *) echo "$p:0" ;;
        esac
    done
    exit 0
fi

alive() {
    # Running and not a zombie waiting for its reaper.
    local pid state
    pid=$(cat "$d/qemu.pid" 2>/dev/null) || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

vm_start() {
    alive && return 0
    local boot=c
    case $(cat "$d/boot" 2>/dev/null) in
        pxe) boot=n ;;
        cdrom) boot=d ;;
    esac
    rm -f "$d/qemu.pid"
    setsid qemu-system-x86_64 -accel tcg -m 64 -nodefaults -display none \
        -nic none -boot "$boot" -pidfile "$d/qemu.pid" \
        -qmp "unix:$d/qmp.sock,server=on,wait=off" \
        < /dev/null >> "$d/qemu.log" 2>&1 &
    for _ in $(seq 50); do
        [ -s "$d/qemu.pid" ] && return 0
        sleep 0.1
    done
}

vm_stop() {
    # A hard power off: SIGKILL, like pulling the plug (and immediate, so
    # ipmi_sim answers the Chassis Control within the client's timeout).
    if alive; then
        local pid
        pid=$(cat "$d/qemu.pid")
        kill -9 "$pid"
        for _ in $(seq 20); do
            alive || break
            sleep 0.05
        done
    fi
    rm -f "$d/qemu.pid"
}

vm_powerdown() {
    alive || return 0
    python3 - "$d/qmp.sock" << 'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.recv(4096)
s.sendall(b'{"execute":"qmp_capabilities"}\n')
s.recv(4096)
s.sendall(b'{"execute":"system_powerdown"}\n')
s.recv(4096)
EOF
}

case $op in
    get)
        for p in "$@"; do
            case $p in
                power) if alive; then echo "power:1"; else echo "power:0"; fi ;;
                boot) echo "boot:$(cat "$d/boot" 2>/dev/null || echo none)" ;;
                *)
                    echo "Invalid parameter: $p"
                    exit 1
                    ;;
            esac
        done
        ;;
    set)
        while [ $# -ge 2 ]; do
            p=$1
            v=$2
            shift 2
            case $p in
                power) if [ "$v" = 1 ]; then vm_start; else vm_stop; fi ;;
                reset)
                    vm_stop
                    vm_start
                    ;;
                boot)
                    case $v in
                        pxe | default | cdrom | bios) echo "$v" > "$d/boot" ;;
                        none) rm -f "$d/boot" ;;
                        *)
                            echo "Invalid boot value: $v"
                            exit 1
                            ;;
                    esac
                    ;;
                shutdown) vm_powerdown >> "$d/chassis.log" 2>&1 ;;
                identify) ;;
                *)
                    echo "Invalid parameter: $p"
                    exit 1
                    ;;
            esac
        done
        ;;
    check) exit 1 ;;
esac
exit 0
