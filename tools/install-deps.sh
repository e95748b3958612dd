#!/usr/bin/env bash
# Install what Berth's test harness needs on a Debian 12 machine (run as root).
#
#   * Debian packages: MariaDB, RabbitMQ, ipmitool, curl, build deps for the
#     MySQL client crate. apt-get runs only when something is missing.
#     Package post-install scripts may start the system services (or be
#     blocked by policy-rc.d); the harness never uses them, it runs private
#     instances on other ports (tools/peers/*.sh).
#   * A Python venv at ${BERTH_VENV:-$HOME/.cache/berth/venv} with the pins
#     in tools/requirements-test.txt. A stamp file holding the hash of that
#     list (and of the venv's Python version) lets re-runs skip pip.
#   * A check that cargo exists (the Rust toolchain must be preinstalled).
#
# --build-only installs just what compiling Berth needs (README command 1).
#
# Idempotent: a second run on a ready machine takes well under a second.

set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REQUIREMENTS=$TOOLS_DIR/requirements-test.txt
BERTH_VENV=${BERTH_VENV:-$HOME/.cache/berth/venv}
BERTH_PYTHON=${BERTH_PYTHON:-python3}
STAMP=$BERTH_VENV/.berth-requirements.sha256

# What building Berth needs (tools/run-berth.sh --build-only stops here).
BUILD_PACKAGES=(
    default-libmysqlclient-dev
    pkg-config
    libssl-dev
)

DEBIAN_PACKAGES=(
    rabbitmq-server
    mariadb-server
    mariadb-client
    default-libmysqlclient-dev
    pkg-config
    libssl-dev
    ipmitool
    # The BMC the IPMI tests talk to (ipmi_sim, sdrcomp) and the VM it powers.
    openipmi
    qemu-system-x86
    # The virtual lab (tools/lab): disks, NIC boot ROMs, UEFI firmware,
    # iPXE binaries, DHCP/TFTP, and the micro image's parts.
    qemu-utils
    ipxe-qemu
    ipxe
    ovmf
    dnsmasq
    busybox-static
    cpio
    # The Debian image the lab deploys (tools/lab/build-os-image) and the
    # tools that read config drives back in tests.
    mmdebstrap
    extlinux
    syslinux-common
    fdisk
    e2fsprogs
    genisoimage
    kmod
    binutils
    iproute2
    curl
    openssl
    python3
    python3-venv
)

log() {
    echo "install-deps: $*"
}

die() {
    echo "install-deps: ERROR: $*" >&2
    exit 1
}

is_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]]
}

install_debian_packages() {
    local missing=() pkg wanted=("$@")
    if ! command -v dpkg-query >/dev/null 2>&1; then
        die "dpkg-query not found: this script expects Debian 12"
    fi
    for pkg in "${wanted[@]}"; do
        if ! is_installed "$pkg"; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "Debian packages: all present"
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        die "missing Debian packages (${missing[*]}); run as root"
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${missing[@]}"
}

requirements_hash() {
    local pyver
    pyver=$("$BERTH_VENV/bin/python" -c \
        'import sys; print(sys.version.split()[0])')
    {
        echo "python=$pyver"
        cat "$REQUIREMENTS"
    } | sha256sum | cut -d' ' -f1
}

install_venv() {
    local want
    [[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"
    if [[ ! -x "$BERTH_VENV/bin/python" ]]; then
        command -v "$BERTH_PYTHON" >/dev/null 2>&1 \
            || die "$BERTH_PYTHON not found (set BERTH_PYTHON)"
        log "creating venv $BERTH_VENV with $BERTH_PYTHON"
        mkdir -p "$(dirname "$BERTH_VENV")"
        "$BERTH_PYTHON" -m venv "$BERTH_VENV" \
            || die "python3 -m venv failed (is python3-venv installed?)"
    fi
    want=$(requirements_hash)
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        log "venv $BERTH_VENV: pinned packages present (stamp matches)"
        return 0
    fi
    log "venv $BERTH_VENV: installing $REQUIREMENTS"
    rm -f "$STAMP"
    "$BERTH_VENV/bin/python" -m pip install --disable-pip-version-check \
        -q -r "$REQUIREMENTS"
    "$BERTH_VENV/bin/python" -m pip check \
        || die "pip check reports broken requirements in $BERTH_VENV"
    echo "$want" > "$STAMP"
    log "venv $BERTH_VENV: done"
}

check_cargo() {
    local cargo
    cargo=$(command -v cargo || true)
    if [[ -z "$cargo" && -x "$HOME/.cargo/bin/cargo" ]]; then
        cargo=$HOME/.cargo/bin/cargo
        log "cargo found at $cargo but not in PATH;" \
            "add \$HOME/.cargo/bin to PATH"
    fi
    if [[ -z "$cargo" ]]; then
        die "cargo not found: install the Rust toolchain (rustup) first"
    fi
    log "cargo: $("$cargo" --version)"
}

case "${1:-}" in
    --build-only)
        install_debian_packages "${BUILD_PACKAGES[@]}"
        check_cargo
        ;;
    "")
        install_debian_packages "${DEBIAN_PACKAGES[@]}"
        install_venv
        check_cargo
        ;;
    *)
        die "usage: $0 [--build-only]"
        ;;
esac
log "ok"
