#!/usr/bin/env bash
# Installs what building (and, with `--test`, testing) Provisio needs on Debian 12.
# Every step checks first and skips what is already there, so a warm machine spends seconds here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
WASM_SPLIT_CLI_VERSION=0.2.4
BINARYEN_VERSION=132.0.0
PLAYWRIGHT_CORE_VERSION=1.65.1
ANSIBLE_CORE_VERSION=2.19.14
SCHEMATHESIS_VERSION=4.32.5

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_packages=(build-essential pkg-config libssl-dev curl ca-certificates git nodejs npm python3-venv openssh-client bubblewrap)
if [[ $WANT_TEST -eq 1 ]]; then
  # The engines the managed-resource recipes install on the test hosts, with their clients
  # (the tests connect with them): present beforehand, so a test run never waits on apt;
  # oathtool generates the two-factor tests' codes independently of the server; aiosmtpd is the
  # SMTP server the e-mail tests send to (it writes what it receives into a Maildir).
  apt_packages+=(chromium chromium-driver postgresql openssh-server openssh-client libvirt-dev nginx
    mariadb-server mariadb-client redis-server redis-tools nfs-kernel-server
    oathtool python3-aiosmtpd)
fi
missing=()
for p in "${apt_packages[@]}"; do
  # A machine may already provide node and npm outside Debian's packages.
  if [[ $p == nodejs || $p == npm ]] && command -v node >/dev/null && command -v npm >/dev/null; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  log "installing Rust with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if [[ $WANT_TEST -eq 1 ]]; then
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  if ! command -v cargo-nextest >/dev/null; then
    log "installing cargo-nextest"
    cargo install cargo-nextest --locked
  fi
fi

if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  log "installing trunk $TRUNK_VERSION (a few minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # No --locked: its lock file names a webpki-roots release the registry mirror lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Splits the web app into a main module and per-route chunks (scripts/build-wasm.sh).
# (the binary has no --version; cargo's install list says which release is there)
if ! cargo install --list | grep -q "^wasm_split_cli_support v$WASM_SPLIT_CLI_VERSION:"; then
  log "installing wasm_split_cli $WASM_SPLIT_CLI_VERSION"
  cargo install wasm_split_cli_support --version "$WASM_SPLIT_CLI_VERSION" --features build-binary --locked
fi

# wasm-opt from npm binaryen: Debian's binaryen 108 produces a bundle that fails to start.
if ! "$ROOT/tools/binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version_${BINARYEN_VERSION%%.*}"; then
  log "installing binaryen $BINARYEN_VERSION (wasm-opt) into tools/"
  mkdir -p "$ROOT/tools/binaryen"
  (cd "$ROOT/tools/binaryen" && [[ -f package.json ]] || npm init -y >/dev/null)
  (cd "$ROOT/tools/binaryen" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
fi

if [[ $WANT_TEST -eq 1 ]]; then
  if [[ ! -d "$ROOT/e2e/node_modules/playwright-core" ]]; then
    log "installing playwright-core (no browser download: Debian's chromium is used)"
    (cd "$ROOT/e2e" && npm ci --no-audit --no-fund --silent)
  fi
  # openapi-python-client in .venv-clients and openapi-typescript/openapi-fetch/typescript in
  # clients/typescript (pinned there); skipped when already installed from the same pins.
  "$ROOT/scripts/clients.sh" install
  # schemathesis fuzzes the live API from its OpenAPI document (scripts/schemathesis.sh).
  if ! "$ROOT/.venv-schemathesis/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into .venv-schemathesis"
    /usr/bin/python3 -m venv "$ROOT/.venv-schemathesis"
    "$ROOT/.venv-schemathesis/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
fi
# ansible-core runs the deployment scripts; Provisio finds it through scripts/env.sh.
if ! "$ROOT/.venv-ansible/bin/ansible-playbook" --version 2>/dev/null | grep -q "core $ANSIBLE_CORE_VERSION"; then
  log "installing ansible-core $ANSIBLE_CORE_VERSION into .venv-ansible"
  /usr/bin/python3 -m venv "$ROOT/.venv-ansible"
  "$ROOT/.venv-ansible/bin/pip" install --quiet --disable-pip-version-check "ansible-core==$ANSIBLE_CORE_VERSION"
fi

log "tools ready"
