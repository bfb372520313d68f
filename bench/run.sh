#!/usr/bin/env bash
# The benchmarks in one command: builds the release server (web app embedded) and the bench tools,
# then measures on SQLite and on PostgreSQL and writes bench/RESULTS.md. Takes about 10 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" --test
# shellcheck source=../scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  SUDO=""; [[ $EUID -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get install -y -qq wrk >/dev/null
fi
trunk build --release --offline
cargo build --release --locked -p api -p bench
"$ROOT/scripts/postgres.sh" start >/dev/null
exec "$ROOT/target/release/provisio-bench" --pg "$("$ROOT/scripts/postgres.sh" url)" --out "$ROOT/bench/RESULTS.md"
