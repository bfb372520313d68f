#!/usr/bin/env bash
# Builds Provisio (web app embedded) and starts it on the embedded default:
# SQLite file ./provisio.db, key file ./provisio.key, http://127.0.0.1:8080, demo accounts seeded.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
# shellcheck source=env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
cargo fetch --locked
trunk build --release --offline
cargo build --release --locked -p api
exec ./target/release/provisio serve --demo "$@"
