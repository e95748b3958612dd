#!/usr/bin/env bash
# Run Berth all-in-one on the embedded default (README command 1): API and
# conductor in one process, in-process RPC, SQLite under
# ~/.local/share/berth, noauth on http://127.0.0.1:6385. Ctrl-C stops it.
#
#   tools/run-berth.sh [--config-file FILE]...   (extra args go to `berth`)
#
# Then, for example:
#   curl http://127.0.0.1:6385/v1
#   openstack --os-auth-type none --os-endpoint http://127.0.0.1:6385 \
#       baremetal node list

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

tools/install-deps.sh --build-only
cargo build --release --bin berth
exec target/release/berth "$@"
