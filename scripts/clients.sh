#!/usr/bin/env bash
# Generates a Python client (openapi-python-client) and a TypeScript client (openapi-typescript +
# openapi-fetch) from openapi/openapi.json and runs the same small scenario with each against a
# live server: log in, create a server request, approve it, list deployments; the Python one then
# deploys a repository onto a new VM at the Proxmox fake with the six fields of the PaaS form.
#
#   scripts/clients.sh [all|install|generate|scenario]      (default: all)
#     install   .venv-clients (clients/python/requirements.txt) and clients/typescript/node_modules
#               (npm ci), each skipped when already installed from the same pinned files
#     generate  install, then generate both clients into git-ignored folders and type-check the
#               TypeScript scenario against the generated types (tsc, strict): needs no server
#     scenario  run both scenarios against the clients generated last
#     all       generate, then scenario
#
# The scenarios need PROVISIO_URL (default http://$PROVISIO_BIND), PROVISIO_ADMIN_USER and
# PROVISIO_ADMIN_PASSWORD (an administrator). Generated code is never committed: it lives in
# .clients-build/ (the Python package) and clients/typescript/{generated,dist}/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/.clients-build"
VENV="$ROOT/.venv-clients"
TS="$ROOT/clients/typescript"
PY="$ROOT/clients/python"
PYTHON="${PROVISIO_CLIENTS_PYTHON:-/usr/bin/python3}"

log() { printf '\033[1;34m[clients]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[clients]\033[0m %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

install() {
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (scripts/setup.sh installs python3-venv)"
  # The generated client uses typing.Self and enum.StrEnum: Python 3.11 or newer.
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$PYTHON is older than 3.11; set PROVISIO_CLIENTS_PYTHON"
  if ! cmp -s "$PY/requirements.txt" "$VENV/.installed-requirements.txt" 2>/dev/null; then
    log "installing openapi-python-client into .venv-clients"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PY/requirements.txt"
    cp "$PY/requirements.txt" "$VENV/.installed-requirements.txt"
  fi
  command -v npm >/dev/null || die "npm not found (scripts/setup.sh installs nodejs and npm)"
  if ! cmp -s "$TS/package-lock.json" "$TS/node_modules/.installed-package-lock.json" 2>/dev/null; then
    log "installing openapi-typescript, openapi-fetch and typescript (npm ci)"
    (cd "$TS" && npm ci --no-audit --no-fund --silent)
    cp "$TS/package-lock.json" "$TS/node_modules/.installed-package-lock.json"
  fi
}

generate() {
  local t0 out
  t0="$(now)"
  mkdir -p "$BUILD"

  rm -rf "$BUILD/python"
  mkdir -p "$BUILD/python"
  if ! out="$("$VENV/bin/openapi-python-client" generate --path "$ROOT/openapi/openapi.json" --meta none \
    --config "$PY/generator.yaml" --output-path "$BUILD/python/provisio_client" --fail-on-warning 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "openapi-python-client could not generate the client from openapi/openapi.json"
  fi
  # A generated but unimportable package is a failure too.
  PYTHONPATH="$BUILD/python" "$VENV/bin/python" -c 'import provisio_client.api, provisio_client.models' ||
    die "the generated Python client does not import"
  log "python client generated ($(find "$BUILD/python/provisio_client/api" -name '*.py' ! -name '__init__.py' | wc -l) operations)"

  rm -rf "$TS/generated" "$TS/dist"
  (cd "$TS" && ./node_modules/.bin/openapi-typescript "$ROOT/openapi/openapi.json" --output generated/schema.ts) ||
    die "openapi-typescript could not generate types from openapi/openapi.json"
  # Type-checks the scenario against the generated types (strict) and emits JavaScript only if clean.
  (cd "$TS" && ./node_modules/.bin/tsc -p tsconfig.json) ||
    die "clients/typescript/scenario.ts does not type-check against the generated client"
  log "typescript client generated and the scenario type-checks (tsc --strict)"
  log "generation took $(since "$t0")s"
}

scenario() {
  local url="${PROVISIO_URL:-}" t0 failed=0
  if [[ -z "$url" && -n "${PROVISIO_BIND:-}" ]]; then url="http://$PROVISIO_BIND"; fi
  [[ -n "$url" ]] || die "set PROVISIO_URL (or PROVISIO_BIND) to the server to test"
  [[ -n "${PROVISIO_ADMIN_USER:-}" && -n "${PROVISIO_ADMIN_PASSWORD:-}" ]] ||
    die "set PROVISIO_ADMIN_USER and PROVISIO_ADMIN_PASSWORD (an administrator)"
  [[ -d "$BUILD/python/provisio_client" && -f "$TS/dist/scenario.js" ]] ||
    die "no generated clients: run scripts/clients.sh generate first"
  export PROVISIO_URL="$url"

  t0="$(now)"
  log "python client scenario against $url"
  PYTHONPATH="$BUILD/python" "$VENV/bin/python" "$PY/scenario.py" || failed=1
  log "typescript client scenario against $url"
  node "$TS/dist/scenario.js" || failed=1
  log "scenarios took $(since "$t0")s"
  [[ $failed -eq 0 ]] || die "a generated-client scenario failed"
}

case "${1:-all}" in
  install) install ;;
  generate)
    install
    generate
    ;;
  scenario) scenario ;;
  all)
    install
    generate
    scenario
    ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command ${1}; try --help" ;;
esac
