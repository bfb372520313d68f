#!/usr/bin/env bash
# The benchmarks in one command: builds the release server (web app embedded) and the bench tools,
# installs the Flask reference (bench/reference) into .venv-reference, then measures on SQLite and
# on PostgreSQL and writes bench/RESULTS.md. Takes about 40 minutes with the 10-minute soaks;
# arguments are passed on (`bench/run.sh --realistic --soak 0` for the realistic rows alone).
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
# The original system's stack, measured beside Provisio on the same rows.
if ! cmp -s "$ROOT/bench/reference/requirements.txt" "$ROOT/.venv-reference/requirements.txt" 2>/dev/null; then
  echo "installing the Flask reference into .venv-reference" >&2
  /usr/bin/python3 -m venv "$ROOT/.venv-reference"
  "$ROOT/.venv-reference/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/bench/reference/requirements.txt"
  cp "$ROOT/bench/reference/requirements.txt" "$ROOT/.venv-reference/requirements.txt"
fi
trunk build --release --offline
cargo build --release --locked -p api -p bench
"$ROOT/scripts/postgres.sh" start >/dev/null
exec "$ROOT/target/release/provisio-bench" --pg "$("$ROOT/scripts/postgres.sh" url)" --out "$ROOT/bench/RESULTS.md" "$@"
