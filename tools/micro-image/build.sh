#!/usr/bin/env bash
# build.sh -- build Berth's discovery "micro image": a Debian kernel (vmlinuz)
# plus a small initramfs (busybox-static, a few kernel modules, /init and the
# berth-agent binary with the shared libraries it needs).  See README.md.
#
# usage: build.sh --agent PATH [--out DIR] [--kernel generic|cloud]
#                 [--cache DIR] [options]   (build.sh --help for all)
#
# The output is reproducible: the same inputs give a byte-identical
# initramfs.gz (fixed mtimes, sorted file list, uid/gid 0, gzip -n).
set -euo pipefail
umask 022
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

BUDGET_BYTES=$((30 * 1024 * 1024))

# Modules, by name; each pulls in its dependencies (load order kept).
# Required: virtual hardware, common Intel NICs, SATA/SAS/NVMe disks, IPMI.
REQUIRED_MODULES="virtio_pci virtio_net virtio_blk virtio_scsi"
REQUIRED_MODULES+=" e1000 e1000e igb ixgbe"
REQUIRED_MODULES+=" libata libahci ahci sd_mod nvme"
REQUIRED_MODULES+=" ipmi_msghandler ipmi_devintf ipmi_si af_packet"
# Optional: bigger server NIC/HBA drivers, dropped first if over budget.
OPTIONAL_MODULES="tg3 i40e bnxt_en mlx5_core megaraid_sas mpt3sas"

msg() { echo "build.sh: $*" >&2; }
die() {
    msg "ERROR: $*"
    exit 1
}

usage() {
    cat << EOF
usage: build.sh --agent PATH [--out DIR] [--kernel generic|cloud] [--cache DIR]
                [--version V] [--add SRC=DEST]... [--strip] [--no-optional]
                [--check-reproducible]

  --agent PATH     the berth-agent binary (installed as /usr/bin/berth-agent)
  --out DIR        output directory (default target/micro-image, relative
                   to the repository root)
  --kernel K       generic (default: linux-image-amd64, has e1000, AHCI and
                   in-band IPMI) or cloud (linux-image-cloud-amd64: virtio
                   and NVMe only)
  --cache DIR      download cache (default ~/.cache/berth/micro-image)
  --version V      image version printed by /init (default: the version in
                   Cargo.toml + the git commit)
  --add SRC=DEST   also install file SRC at DEST in the image (mode kept);
                   e.g. a test helper.  May be repeated.
  --strip          strip the agent (and --add'ed ELF files) with strip(1)
  --no-optional    leave out the optional modules ($OPTIONAL_MODULES)
  --check-reproducible
                   build the initramfs twice from scratch and fail unless
                   the two initramfs.gz are byte-identical

Outputs in DIR: vmlinuz, initramfs.gz, manifest.txt.  Fails if
vmlinuz + initramfs.gz exceed $BUDGET_BYTES bytes (30 MiB).
Environment: SOURCE_DATE_EPOCH (default 0) sets every file's mtime.
EOF
}

AGENT=""
OUT=""
KFLAVOUR=generic
CACHE=${HOME:-/root}/.cache/berth/micro-image
VERSION=""
ADDS=()
STRIP=0
WITH_OPTIONAL=1
CHECK_REPRO=0
REPRO="reproducibility not checked (--check-reproducible)"
while [ $# -gt 0 ]; do
    case $1 in
        --agent) AGENT=${2:?--agent needs a value}; shift ;;
        --out) OUT=${2:?--out needs a value}; shift ;;
        --kernel) KFLAVOUR=${2:?--kernel needs a value}; shift ;;
        --cache) CACHE=${2:?--cache needs a value}; shift ;;
        --version) VERSION=${2:?--version needs a value}; shift ;;
        --add) ADDS+=("${2:?--add needs SRC=DEST}"); shift ;;
        --strip) STRIP=1 ;;
        --no-optional) WITH_OPTIONAL=0 ;;
        --check-reproducible) CHECK_REPRO=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
[ -n "$AGENT" ] || { usage >&2; exit 2; }
[ -f "$AGENT" ] || die "agent binary not found: $AGENT"
[ -x "$AGENT" ] || die "agent is not executable: $AGENT"
case $KFLAVOUR in
    generic) KMETA=linux-image-amd64 ;;
    cloud) KMETA=linux-image-cloud-amd64 ;;
    *) die "--kernel must be generic or cloud" ;;
esac
OUT=${OUT:-$REPO/target/micro-image}
EPOCH=${SOURCE_DATE_EPOCH:-0}
[[ $EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number"
for a in "${ADDS[@]}"; do
    [[ $a == ?*=/?* ]] || die "--add wants SRC=/abs/dest, got: $a"
    [ -f "${a%%=*}" ] || die "--add: file not found: ${a%%=*}"
done

# ------------------------------------------------------------ host tools

need_tool() { # need_tool PROGRAM DEBIAN-PACKAGE
    command -v "$1" > /dev/null 2>&1 && return 0
    MISSING+=("$1 (Debian package: $2)")
}
MISSING=()
need_tool apt-get apt
need_tool apt-cache apt
need_tool dpkg-deb dpkg
need_tool cpio cpio
need_tool gzip gzip
need_tool modprobe kmod
need_tool depmod kmod
need_tool ldd libc-bin
need_tool sha256sum coreutils
[ "$STRIP" = 0 ] || need_tool strip binutils
if [ ${#MISSING[@]} -gt 0 ]; then
    for m in "${MISSING[@]}"; do
        msg "missing: $m"
    done
    die "install the packages above (e.g. apt-get install -y cpio kmod)"
fi
cpio --help 2>&1 | grep -q -- '--reproducible' && CPIO_REPRO=(--reproducible) || CPIO_REPRO=()

if [ -z "$VERSION" ]; then
    VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml" 2> /dev/null | head -1)
    VERSION=${VERSION:-0.0.0}
    rev=$(git -C "$REPO" rev-parse --short=12 HEAD 2> /dev/null || true)
    [ -z "$rev" ] || VERSION="$VERSION+g$rev"
fi

mkdir -p "$CACHE/debs" "$CACHE/trees" "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-micro-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ------------------------------------------------------------ downloads

# fetch_deb PACKAGE -> prints the path of the cached .deb (by version).
fetch_deb() {
    local pkg=$1 ver deb
    ver=$(apt-cache show --no-all-versions "$pkg" 2> /dev/null | sed -n 's/^Version: //p' | head -1)
    if [ -z "$ver" ]; then
        deb=$(find "$CACHE/debs" -name "${pkg}_*.deb" | sort | tail -1)
        [ -n "$deb" ] || die "apt does not know $pkg and it is not cached; run apt-get update"
        msg "apt does not know $pkg; using cached $(basename "$deb")"
        echo "$deb"
        return
    fi
    deb=$CACHE/debs/${pkg}_${ver//:/%3a}_amd64.deb
    if [ ! -s "$deb" ]; then
        msg "downloading $pkg $ver"
        (cd "$TMP" && apt-get download -q "$pkg=$ver" > "$TMP/apt.log" 2>&1) || {
            cat "$TMP/apt.log" >&2
            die "apt-get download $pkg=$ver failed (apt-get update may help)"
        }
        mv "$TMP"/"${pkg}"_*.deb "$deb"
    fi
    echo "$deb"
}

# unpack_deb DEB -> prints a cached directory with the package's files.
unpack_deb() {
    local deb=$1 dir
    dir=$CACHE/trees/$(basename "$deb" .deb)
    if [ ! -e "$dir/.unpacked" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir"
        touch "$dir/.unpacked"
    fi
    echo "$dir"
}

KPKG=$(apt-cache depends "$KMETA" 2> /dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
if [ -z "$KPKG" ]; then
    # offline: newest cached kernel of this flavour
    suffix=-amd64
    [ "$KFLAVOUR" = cloud ] && suffix=-cloud-amd64
    KPKG=$(find "$CACHE/debs" -name "linux-image-[0-9]*${suffix}_*.deb" -printf '%f\n' |
        { if [ "$KFLAVOUR" = generic ]; then grep -v -- -cloud-; else cat; fi; } |
        sort -V | tail -1 | cut -d_ -f1)
    [ -n "$KPKG" ] || die "cannot resolve $KMETA (run apt-get update)"
fi
KDEB=$(fetch_deb "$KPKG")
KTREE=$(unpack_deb "$KDEB")
KVER=$(find "$KTREE/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -1)
[ -n "$KVER" ] || die "no lib/modules in $KDEB"
VMLINUZ=$KTREE/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "no boot/vmlinuz-$KVER in $KDEB"
[ -f "$KTREE/lib/modules/$KVER/modules.dep" ] || depmod -b "$KTREE" "$KVER"
KDEBVER=$(dpkg-deb -f "$KDEB" Version)

# busybox: the installed busybox-static if any, else the downloaded package.
if dpkg-query -W -f '${Status}' busybox-static 2> /dev/null | grep -q 'ok installed' &&
    [ -x /bin/busybox ]; then
    BUSYBOX=/bin/busybox
    BBSRC="installed busybox-static $(dpkg-query -W -f '${Version}' busybox-static)"
else
    BBDEB=$(fetch_deb busybox-static)
    BUSYBOX=$(unpack_deb "$BBDEB")/bin/busybox
    BBSRC="downloaded $(basename "$BBDEB")"
fi
[ -x "$BUSYBOX" ] || die "no busybox binary at $BUSYBOX"
if ldd "$BUSYBOX" > /dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked; the image needs busybox-static"
fi
BBVER=$({ "$BUSYBOX" 2>&1 || true; } | head -1 | sed 's/ multi-call binary.*//')

# ------------------------------------------------------------ modules

# resolve_modules NAMES... -> "path-of-.ko" lines (dependencies first);
# unknown modules are reported on fd 3, built-in ones as "builtin NAME".
resolve_modules() {
    local m out
    for m in "$@"; do
        if ! out=$(modprobe -d "$KTREE" -S "$KVER" --show-depends "$m" 2>&1); then
            echo "$m" >&3
            continue
        fi
        printf '%s\n' "$out" | awk '$1 == "insmod" { print $2 } $1 == "builtin" { print "builtin " $2 }'
    done
}

# ------------------------------------------------------------ staging

is_elf() { [ "$(od -An -c -N4 "$1" | tr -d ' ')" = '177ELF' ]; }

# stage ROOT MODULE-NAMES -> fills ROOT with the whole image tree
stage() {
    local root=$1 names=$2 kdir=$KTREE/lib/modules/$KVER ko rel dst lib a src dest
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,var/log}
    mkdir -p "$root/lib/modules/$KVER"
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"

    install -m 0755 "$BUSYBOX" "$root/bin/busybox"
    # applet links; "busybox" itself is in the list and must be skipped
    "$BUSYBOX" --list-full | while read -r a; do
        [ "${a##*/}" = busybox ] && continue
        [ -e "$root/$a" ] || [ -L "$root/$a" ] && continue
        mkdir -p "$root/$(dirname "$a")"
        ln -s /bin/busybox "$root/$a"
    done

    # kernel modules, decompressed (busybox insmod reads plain .ko only)
    : > "$root/etc/modules.list"
    : > "$TMP/builtin.list"
    : > "$TMP/unknown.list"
    # shellcheck disable=SC2086
    resolve_modules $names 3>> "$TMP/unknown.list" | awk '!seen[$0]++' | while read -r ko; do
        case $ko in
            builtin\ *)
                echo "${ko#builtin }" >> "$TMP/builtin.list"
                continue
                ;;
        esac
        rel=${ko#"$kdir"/}
        dst=$root/lib/modules/$KVER/${rel%.xz}
        dst=${dst%.zst}
        dst=${dst%.gz}
        mkdir -p "$(dirname "$dst")"
        case $ko in
            *.ko.xz) xz -dc "$ko" > "$dst" ;;
            *.ko.zst) zstd -q -dc "$ko" > "$dst" ;;
            *.ko.gz) gzip -dc "$ko" > "$dst" ;;
            *) cp "$ko" "$dst" ;;
        esac
        chmod 0644 "$dst"
        echo "${dst#"$root"/lib/modules/"$KVER"/}" >> "$root/etc/modules.list"
    done

    # the agent and its shared libraries (same paths as on the build host)
    install -m 0755 "$AGENT" "$root/usr/bin/berth-agent"
    [ "$STRIP" = 0 ] || strip "$root/usr/bin/berth-agent"
    for a in "${ADDS[@]}"; do
        src=${a%%=*}
        dest=$root/${a#*=}
        mkdir -p "$(dirname "$dest")"
        cp "$src" "$dest"
        chmod "$(stat -c %a "$src")" "$dest"
        if [ "$STRIP" = 1 ] && is_elf "$dest"; then
            strip "$dest"
        fi
    done
    for f in "$root/usr/bin/berth-agent" "${ADDS[@]/#*=/$root}"; do
        [ -f "$f" ] || continue
        is_elf "$f" || continue
        # a static binary makes ldd fail: no libraries then
        { ldd "$f" 2> /dev/null || true; } | awk '
            $2 == "=>" && $3 ~ /^\// { print $3 }
            $1 ~ /^\// { print $1 }'
    done | sort -u | while read -r lib; do
        mkdir -p "$root/$(dirname "$lib")"
        cp -L "$lib" "$root/$lib"
        chmod 0755 "$root/$lib"
    done

    install -m 0755 "$HERE/init" "$root/init"
    install -m 0755 "$HERE/udhcpc.script" "$root/etc/udhcpc.script"
    printf '%s\n' "root:x:0:0:root:/root:/bin/sh" "nobody:x:65534:65534:nobody:/:/bin/false" > "$root/etc/passwd"
    printf '%s\n' "root:x:0:" "nogroup:x:65534:" > "$root/etc/group"
    echo "berth-micro" > "$root/etc/hostname"
    printf '%s\n' "127.0.0.1 localhost" "::1 localhost" > "$root/etc/hosts"
    : > "$root/etc/resolv.conf"
    {
        echo "BERTH_IMAGE_VERSION='$VERSION'"
        echo "BERTH_KERNEL_RELEASE='$KVER'"
    } > "$root/etc/berth-micro-image"
}

# pack ROOT OUTFILE -> reproducible gzip'ed newc cpio of ROOT
pack() {
    local root=$1 out=$2
    find "$root" -exec touch -h -d "@$EPOCH" {} +
    (cd "$root" && find . -mindepth 1 -print0 | sort -z |
        cpio --null -o -H newc -R 0:0 --quiet "${CPIO_REPRO[@]}") | gzip -9 -n > "$out"
}

# build_once WORKDIR NAMES -> WORKDIR/root, WORKDIR/initramfs.gz
build_once() {
    rm -rf "$1"
    mkdir -p "$1"
    stage "$1/root" "$2"
    pack "$1/root" "$1/initramfs.gz"
}

MODNAMES=$REQUIRED_MODULES
[ "$WITH_OPTIONAL" = 0 ] || MODNAMES="$MODNAMES $OPTIONAL_MODULES"
build_once "$TMP/a" "$MODNAMES"
KBYTES=$(stat -c %s "$VMLINUZ")
total=$((KBYTES + $(stat -c %s "$TMP/a/initramfs.gz")))
if [ "$total" -gt "$BUDGET_BYTES" ] && [ "$WITH_OPTIONAL" = 1 ]; then
    msg "over budget ($total bytes): dropping the optional modules ($OPTIONAL_MODULES)"
    MODNAMES=$REQUIRED_MODULES
    WITH_OPTIONAL=0
    build_once "$TMP/a" "$MODNAMES"
fi
if [ "$CHECK_REPRO" = 1 ]; then
    sleep 1 # a different wall clock for the second build
    build_once "$TMP/b" "$MODNAMES"
    if cmp -s "$TMP/a/initramfs.gz" "$TMP/b/initramfs.gz"; then
        REPRO="reproducible: a second build gave a byte-identical initramfs.gz"
    else
        die "NOT reproducible: two builds from the same inputs differ"
    fi
fi

# ------------------------------------------------------------ outputs

cp "$VMLINUZ" "$OUT/vmlinuz.new"
mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
cp "$TMP/a/initramfs.gz" "$OUT/initramfs.gz.new"
mv "$OUT/initramfs.gz.new" "$OUT/initramfs.gz"
IBYTES=$(stat -c %s "$OUT/initramfs.gz")
TOTAL=$((KBYTES + IBYTES))
ROOT=$TMP/a/root
{
    echo "berth micro image $VERSION"
    echo "kernel package: $KPKG $KDEBVER ($KFLAVOUR)"
    echo "kernel release: $KVER"
    echo "vmlinuz: $KBYTES bytes sha256 $(sha256sum < "$OUT/vmlinuz" | cut -d' ' -f1)"
    echo "initramfs.gz: $IBYTES bytes sha256 $(sha256sum < "$OUT/initramfs.gz" | cut -d' ' -f1)"
    echo "total: $TOTAL bytes (budget $BUDGET_BYTES)"
    echo "busybox: $BBVER ($BBSRC)"
    echo "agent: $(sha256sum < "$AGENT" | cut -d' ' -f1) $(stat -c %s "$AGENT") bytes$([ "$STRIP" = 0 ] || echo ", stripped in the image")"
    for a in "${ADDS[@]}"; do
        echo "added: ${a#*=} sha256 $(sha256sum < "${a%%=*}" | cut -d' ' -f1)"
    done
    echo "optional modules: $([ "$WITH_OPTIONAL" = 1 ] && echo included || echo left out)"
    echo "modules requested but not in this kernel: $(sort -u "$TMP/unknown.list" | tr '\n' ' ')"
    echo "modules built into the kernel: $(sort -u "$TMP/builtin.list" | tr '\n' ' ')"
    echo "SOURCE_DATE_EPOCH: $EPOCH"
    echo "$REPRO"
    echo
    echo "modules (load order, /etc/modules.list):"
    sed 's/^/  /' "$ROOT/etc/modules.list"
    echo
    echo "files (type size path):"
    (cd "$ROOT" && find . -mindepth 1 -printf '%y %s %p\n' | sort -k3 | sed 's/^/  /')
} > "$OUT/manifest.txt"

nmods=$(wc -l < "$ROOT/etc/modules.list")
printf 'berth micro image %s (%s kernel %s, %s modules)\n' "$VERSION" "$KFLAVOUR" "$KVER" "$nmods"
printf '  %-14s %10s bytes\n' vmlinuz "$KBYTES" initramfs.gz "$IBYTES" total "$TOTAL" budget "$BUDGET_BYTES"
printf '  output: %s/{vmlinuz,initramfs.gz,manifest.txt}\n' "$OUT"
echo "  $REPRO"
if [ "$TOTAL" -gt "$BUDGET_BYTES" ]; then
    msg "FAIL: the image is $TOTAL bytes, over the $BUDGET_BYTES-byte budget (try --strip or a release agent)"
    exit 1
fi
