#!/usr/bin/env bash
# Run Berth's whole test suite (README command 2; .ci/run calls it).
#
#   tools/run-tests.sh          everything: installs what is missing, starts
#                               private MariaDB, RabbitMQ and Keystone on
#                               127.0.0.1, runs Rust lint + tests against
#                               them, then the Python/docs tox envs, and
#                               stops the peers again.
#   tools/run-tests.sh --quick  Rust tests only, no peers (tests that need a
#                               peer print SKIP), no lint, no tox.
#
# Extra arguments after -- go to cargo nextest (a test filter, say).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BERTH_VENV=${BERTH_VENV:-$HOME/.cache/berth/venv}
export PATH="$HOME/.cargo/bin:$PATH"
LOG_DIR=${BERTH_TEST_LOGS:-$ROOT/target/test-logs}
mkdir -p "$LOG_DIR"

quick=0
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "usage: $0 [--quick] [-- nextest args]" >&2; exit 2 ;;
    esac
    shift
done

step() {
    echo
    echo "==> $*"
}

passed=0
failed=0
# count LOG: add the pass/fail numbers a runner printed at its end.
count() {
    local p f
    p=$(grep -Eo '[0-9]+ passed' "$1" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
    f=$(grep -Eo '[0-9]+ failed' "$1" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
    passed=$((passed + p))
    failed=$((failed + f))
}

step "install dependencies"
tools/install-deps.sh

if [[ $quick -eq 0 ]]; then
    step "start test peers (MariaDB, RabbitMQ, Keystone)"
    trap 'tools/peers/all.sh stop || true' EXIT
    tools/peers/all.sh start
    eval "$(tools/peers/all.sh env)"
    # Real Ironic 39 in the venv, for the state machine comparison.
    export BERTH_TEST_IRONIC_PYTHON=$BERTH_VENV/bin/python
    export BERTH_REQUIRE_PEERS=1

    step "install the OSC plugin into $BERTH_VENV"
    "$BERTH_VENV/bin/pip" install -q --disable-pip-version-check \
        --no-build-isolation --no-deps --force-reinstall ./python-berthclient

    step "rustfmt and clippy"
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

    step "the agent feature stays free of server crates"
    leaks=$(cargo tree -q -e normal --no-default-features --features agent \
        | grep -E '^[^ ]* ?(actix-web|diesel|lapin|bollard|openssh) ' || true)
    if [[ -n "$leaks" ]]; then
        echo "server crates in the agent build: $leaks" >&2
        exit 1
    fi
fi

step "Rust tests"
cargo build --all-targets

if [[ $quick -eq 0 ]]; then
    step "build the micro image (discovery kernel + initramfs with berth-agent)"
    # A release agent: a debug build hashes and scans the image at a few
    # MB/s under TCG, which would make the lab's deploys take many minutes.
    cargo build --release --no-default-features --features agent --bin berth-agent
    image_args=(--agent target/release/berth-agent --strip --out target/micro-image)
    # The kernel comes from the Debian archive; stale package lists are
    # refreshed once.
    tools/micro-image/build.sh "${image_args[@]}" \
        || { apt-get update -q && tools/micro-image/build.sh "${image_args[@]}"; }
    export BERTH_TEST_MICRO_IMAGE=$ROOT/target/micro-image
    step "build the lab's Debian OS image (cached by its recipe)"
    tools/lab/build-os-image --apt-install --out target/os-image > /dev/null
    export BERTH_TEST_OS_IMAGE=$ROOT/target/os-image
fi

if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --no-fail-fast "${extra[@]}" 2>&1 | tee "$LOG_DIR/rust.log"
    rc=${PIPESTATUS[0]}
else
    cargo test --no-fail-fast "${extra[@]}" 2>&1 | tee "$LOG_DIR/rust.log"
    rc=${PIPESTATUS[0]}
fi
count "$LOG_DIR/rust.log"
[[ $rc -eq 0 ]] || { echo "Rust tests failed" >&2; exit "$rc"; }

if [[ $quick -eq 0 ]]; then
    step "Python and docs (tox -e pep8,py3,api-ref)"
    "$BERTH_VENV/bin/tox" -e pep8,py3,api-ref 2>&1 | tee "$LOG_DIR/tox.log"
    rc=${PIPESTATUS[0]}
    count "$LOG_DIR/tox.log"
    [[ $rc -eq 0 ]] || { echo "tox failed" >&2; exit "$rc"; }
fi

echo
echo "tests: $passed passed, $failed failed"
