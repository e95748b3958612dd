#!/bin/sh
# stand-in-agent.sh -- ONLY FOR TESTING THE MICRO IMAGE'S PLUMBING (kernel,
# modules, /init, DHCP, the lab's PXE chain).  It is not berth-agent: it
# builds a rough IPA-style inventory from /sys and /proc with busybox, POSTs
# it to ipa-inspection-callback-url, then heartbeats to ipa-api-url.  The BMC
# address comes from the static test helper bmc-lan-query (in-band IPMI),
# when the image has it at /usr/bin/bmc-lan-query.
VERSION=stand-in-0.1
say() {
    read -r up _ < /proc/uptime
    echo "[${up}s] stand-in-agent: $*"
}
jstr() { # JSON string or null
    if [ -n "$1" ]; then
        printf '"%s"' "$(printf '%s' "$1" | tr -d '"\\\n')"
    else
        printf null
    fi
}
rd() { cat "$1" 2> /dev/null | head -1; }

CALLBACK=""
API=""
BOOTIF_MAC=""
for arg in $(cat /proc/cmdline); do
    case $arg in
        ipa-inspection-callback-url=*) CALLBACK=${arg#*=} ;;
        ipa-api-url=*) API=${arg#*=} ;;
        BOOTIF=*) BOOTIF_MAC=$(echo "${arg#BOOTIF=}" | sed 's/^01-//; s/-/:/g' | tr 'A-F' 'a-f') ;;
    esac
done
[ -n "$CALLBACK" ] || { say "no ipa-inspection-callback-url on the command line"; exec sleep 100000; }

interfaces() {
    sep=""
    for d in /sys/class/net/*; do
        [ -e "$d/device" ] || continue
        n=${d##*/}
        ip4=$(ip -4 -o addr show dev "$n" | awk '{ split($4, a, "/"); print a[1] }' | head -1)
        carrier=false
        [ "$(rd "$d/carrier")" = 1 ] && carrier=true
        speed=$(rd "$d/speed")
        case $speed in '' | -*) speed=null ;; esac
        printf '%s{"name": "%s", "mac_address": "%s", "ipv4_address": %s, "ipv6_address": null, "has_carrier": %s, "vendor": %s, "product": %s, "driver": %s, "speed_mbps": %s, "lldp": null, "client_id": null, "biosdevname": null}' \
            "$sep" "$n" "$(rd "$d/address")" "$(jstr "$ip4")" "$carrier" "$(jstr "$(rd "$d/device/vendor")")" \
            "$(jstr "$(rd "$d/device/device")")" "$(jstr "$(basename "$(readlink "$d/device/driver")")")" "$speed"
        sep=", "
    done
}

disks() {
    sep=""
    for d in /sys/block/*; do
        n=${d##*/}
        case $n in loop* | ram* | zram* | dm-* | md* | sr*) continue ;; esac
        sectors=$(rd "$d/size")
        [ -n "$sectors" ] && [ "$sectors" != 0 ] || continue
        rot=false
        [ "$(rd "$d/queue/rotational")" = 1 ] && rot=true
        printf '%s{"name": "/dev/%s", "model": %s, "size": %s, "rotational": %s, "serial": %s, "vendor": %s, "wwn": null, "hctl": null, "logical_sectors": %s, "physical_sectors": %s}' \
            "$sep" "$n" "$(jstr "$(rd "$d/device/model")")" "$((sectors * 512))" "$rot" \
            "$(jstr "$(rd "$d/device/serial")")" "$(jstr "$(rd "$d/device/vendor")")" \
            "$(rd "$d/queue/logical_block_size")" "$(rd "$d/queue/physical_block_size")"
        sep=", "
    done
}

BMC_IP=0.0.0.0
BMC_MAC=""
if [ -x /usr/bin/bmc-lan-query ]; then
    set -- $(/usr/bin/bmc-lan-query)
    BMC_IP=${1:-0.0.0.0}
    [ "${2:--}" = - ] || BMC_MAC=$2
fi
say "BMC address (in-band): $BMC_IP"
mode=bios
[ -d /sys/firmware/efi ] && mode=uefi
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1)
flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -1 | sed 's/ *$//; s/ \+/", "/g')
memkb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
read -r up _ < /proc/uptime

cat > /tmp/inventory.json << JSON
{"inventory": {"interfaces": [$(interfaces)],
 "cpu": {"model_name": $(jstr "$model"), "frequency": $(jstr "$mhz"), "count": $(nproc), "architecture": "$(uname -m)", "flags": ["$flags"], "socket_count": null},
 "memory": {"total": $((memkb * 1024)), "physical_mb": $(((memkb + 1023) / 1024))},
 "disks": [$(disks)],
 "bmc_address": "$BMC_IP", "bmc_v6address": "::/0", "bmc_mac": $(jstr "$BMC_MAC"),
 "system_vendor": {"product_name": $(jstr "$(rd /sys/class/dmi/id/product_name)"), "serial_number": $(jstr "$(rd /sys/class/dmi/id/product_serial)"), "manufacturer": $(jstr "$(rd /sys/class/dmi/id/sys_vendor)"),
   "firmware": {"vendor": $(jstr "$(rd /sys/class/dmi/id/bios_vendor)"), "version": $(jstr "$(rd /sys/class/dmi/id/bios_version)"), "build_date": $(jstr "$(rd /sys/class/dmi/id/bios_date)")}},
 "boot": {"current_boot_mode": "$mode", "pxe_interface": $(jstr "$BOOTIF_MAC")},
 "hostname": "$(hostname)"},
 "boot_interface": $(jstr "$BOOTIF_MAC"),
 "berth_agent": {"version": "$VERSION", "uptime_s": $up}}
JSON

post() { # post URL FILE -> response in /tmp/resp
    timeout 30 wget -q -O /tmp/resp --header 'Content-Type: application/json' \
        --header 'X-OpenStack-Ironic-API-Version: 1.84' --post-file "$2" "$1"
}
delay=1
until post "$CALLBACK" /tmp/inventory.json; do
    say "POST $CALLBACK failed; retrying in $delay s"
    sleep $delay
    delay=$((delay * 2))
    [ $delay -le 30 ] || delay=30
done
say "inventory posted to $CALLBACK"
uuid=$(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' /tmp/resp)
token=$(sed -n 's/.*"agent_token": *"\([^"]*\)".*/\1/p' /tmp/resp)
hb=$(sed -n 's/.*"heartbeat_timeout": *\([0-9]*\).*/\1/p' /tmp/resp)
hb=$((${hb:-300} / 3))
[ $hb -ge 5 ] || hb=5
say "node $uuid, heartbeat every $hb s"
[ -n "$uuid" ] && [ -n "$API" ] || exec sleep 100000
myip=$(ip -4 -o addr show | awk '$2 != "lo" { split($4, a, "/"); print a[1]; exit }')
printf '{"callback_url": "http://%s:9999", "agent_token": "%s", "agent_version": "%s"}' \
    "$myip" "$token" "$VERSION" > /tmp/heartbeat.json
while :; do
    post "$API/v1/heartbeat/$uuid" /tmp/heartbeat.json || say "heartbeat to $API failed"
    sleep $hb
done
