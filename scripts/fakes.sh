#!/usr/bin/env bash
# Third-party provider fakes for the integration and end-to-end tests. Test-only tools: nothing of them
# is linked into or shipped with Provisio (fakepve is AGPL-3.0, cloudalone Apache-2.0, Prism Apache-2.0).
#
#   fakes.sh install      install what is missing: .venv-fakes/pve (fakepve), .venv-fakes/cloudalone
#                         (cloudalone, Python 3.12, apt libvirt-dev), tools/prism (@stoplight/prism-cli)
#   fakes.sh start DIR    install if needed, start everything, wait until each port answers, write
#                         DIR/fakes.env and DIR/fakes.pids; logs go to DIR/*.log. State is fresh each start.
#   fakes.sh stop DIR     stop what `start DIR` started (by the PIDs in DIR/fakes.pids)
#
# What runs (ports and hosts can be changed through the variables in the settings below):
#   fakepve      Proxmox VE fake, https://127.0.0.1:18006 (self-signed certificate, DIR/fakepve.crt),
#                launched by scripts/fakes/fakepve_launcher.py: API token, template VM 9000, LXC template,
#                a guest agent reporting FAKEPVE_GUEST_IPV4, and an admin API on http://127.0.0.1:18007
#                for fault injection (POST /fail, /scenario, /guests/{vmid}; GET /errors, /requests) -
#                see the launcher's docstring.
#   cloudalone   Hetzner Cloud fake, http://127.0.0.1:18700/v1, stub backend (no VMs). Servers get no IPv4
#                (public_net.ipv4 is null): public_net.ipv6.ip is the /96 network, the host address is
#                public_net.ipv6.dns_ptr[0].ip. Actions go running -> success after ~50 ms.
#   prism        `prism proxy` in front of each fake, validating against the vendor specs in
#                $PROVISIO_PROVIDER_SPECS (hcloud/hcloud.json, proxmox/pve-openapi.full.json):
#                http://127.0.0.1:14013/v1 (Hetzner) and http://127.0.0.1:14014/api2/json (Proxmox).
#                Without a spec the proxy is skipped and the *_URL variables point at the fake itself.
#
# Prism modes (PROVISIO_PRISM_MODE), from reading prism 5.14.2's source and trying each against the fakes:
#   - Without --errors, Prism forwards EVERYTHING, malformed requests and requests without credentials
#     included; it only logs the violations ("[VALIDATOR] ✖ error Violation: request.body ...") and
#     lists them in an `sl-violations` response header. Nothing is rejected.
#   - With --errors, Prism answers a malformed request itself (422 problem+json with `validation[]`,
#     401 without the Authorization header) and never forwards it - but it also turns every response
#     that disagrees with the vendor schema into 500 VIOLATIONS, and the fakes disagree in ordinary
#     flows: cloudalone GET /server_types (no `locations`), GET /images (`deleted`), POST /servers
#     (`server.location`, `image.deleted`, `server_type.locations`); fakepve GET /cluster/nextid
#     (a string, as real PVE sends it), status/current (`clipboard: null`).
#   requests (default): --errors with a copy of the spec whose response schemas are {} (written to DIR
#            by scripts/fakes/proxy_spec.py): malformed requests from our client are rejected with 422/401,
#            every response of the fake passes through unchanged in content. Response drift is not
#            checked in this mode; use `log` to see it.
#   log      no --errors, full spec: nothing rejected; request and response violations in DIR/prism-*.log
#            and in the `sl-violations` header of each response (a test can assert it has no "request").
#   strict   --errors, full spec: rejects bad requests and fails the known fake/spec deltas with 500.
#   off      no proxies.
# Other Prism behaviour worth knowing: it matches the request path against the spec's paths literally
# (the /v1 or /api2/json of servers[].url is not stripped), so the spec copy gets the base path in front
# of every path; it re-serialises JSON bodies (cloudalone's `"memory": 2.0` arrives as `2`); an upstream
# 501 makes it answer with a mocked example instead; unknown paths get 404 from Prism with --errors.
#
# fakes.env (shell lines `export NAME='value'`; `source DIR/fakes.env`):
#   PROVISIO_FAKEPVE_URL           base URL for our Proxmox client, ends in /api2/json (Prism proxy, plain
#                                  http, or the fake itself over https when the proxy is off)
#   PROVISIO_FAKEPVE_DIRECT_URL    https://127.0.0.1:18006/api2/json, the fake itself
#   PROVISIO_FAKEPVE_TOKEN         root@pam!ci=<secret>: send `Authorization: PVEAPIToken=<this>`
#   PROVISIO_FAKEPVE_TOKEN_ID, PROVISIO_FAKEPVE_TOKEN_SECRET   the same, split (root@pam!ci / <secret>)
#   PROVISIO_FAKEPVE_CA            the fake's self-signed certificate (PEM); trust it for the direct URL
#   PROVISIO_FAKEPVE_NODE          node name (pve1)
#   PROVISIO_FAKEPVE_TEMPLATE_VMID cloud-init template VM to clone (9000)
#   PROVISIO_FAKEPVE_CT_TEMPLATE   LXC ostemplate volume id (local:vztmpl/...)
#   PROVISIO_FAKEPVE_GUEST_IPV4    the address the guest agent / LXC interfaces report
#   PROVISIO_FAKEPVE_ADMIN_URL     the launcher's fault-injection API
#   PROVISIO_HCLOUD_URL            base URL for our Hetzner client, ends in /v1 (proxy or direct)
#   PROVISIO_HCLOUD_DIRECT_URL     http://127.0.0.1:18700/v1, the fake itself
#   PROVISIO_HCLOUD_TOKEN          bearer token
#   PROVISIO_FAKES_PRISM_MODE      the mode the proxies run in (off when no spec was found)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

FAKEPVE_VERSION=0.5.0
CLOUDALONE_VERSION=0.2.0
PRISM_VERSION=5.14.2
VENVS="$ROOT/.venv-fakes"
PRISM_DIR="$ROOT/tools/prism"
PRISM="$PRISM_DIR/node_modules/.bin/prism"

# The vendor specs are reference material kept outside the repository: beside a checkout in
# ../shared, or in the workstation's shared folder when the checkout lives elsewhere (CI clones).
SPECS="${PROVISIO_PROVIDER_SPECS:-}"
if [[ -z "$SPECS" ]]; then
  for candidate in "$ROOT/../shared/providers" /work/shared/providers; do
    if [[ -f "$candidate/hcloud/hcloud.json" ]]; then SPECS="$candidate"; break; fi
  done
  SPECS="${SPECS:-$ROOT/../shared/providers}"
fi
HCLOUD_SPEC="$SPECS/hcloud/hcloud.json"
PVE_SPEC="$SPECS/proxmox/${PROVISIO_PVE_SPEC:-pve-openapi.full.json}"
PRISM_MODE="${PROVISIO_PRISM_MODE:-requests}"
HOST="${PROVISIO_FAKES_HOST:-127.0.0.1}"
FAKEPVE_PORT="${PROVISIO_FAKEPVE_PORT:-18006}"
FAKEPVE_ADMIN_PORT="${PROVISIO_FAKEPVE_ADMIN_PORT:-18007}"
CLOUDALONE_PORT="${PROVISIO_CLOUDALONE_PORT:-18700}"
PRISM_HCLOUD_PORT="${PROVISIO_PRISM_HCLOUD_PORT:-14013}"
PRISM_PVE_PORT="${PROVISIO_PRISM_PVE_PORT:-14014}"
PVE_NODE="${FAKEPVE_NODE:-pve1}"
PVE_TOKEN_ID="${FAKEPVE_TOKEN_ID:-root@pam!ci}"
PVE_TOKEN_SECRET="${FAKEPVE_TOKEN_SECRET:-5e2c1d8a-0f4b-4c7e-9a61-3b7d2f9e8c10}"
PVE_TEMPLATE_VMID="${FAKEPVE_TEMPLATE_VMID:-9000}"
PVE_CT_TEMPLATE="${FAKEPVE_CT_TEMPLATE:-debian-12-standard_12.7-1_amd64.tar.zst}"
GUEST_IPV4="${FAKEPVE_GUEST_IPV4:-127.0.0.1}"
HCLOUD_TOKEN="${PROVISIO_HCLOUD_FAKE_TOKEN:-provisio-fake-hcloud-token}"
WAIT_SECS="${PROVISIO_FAKES_WAIT_SECS:-60}"

log() { printf '\033[1;34m[fakes]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[fakes]\033[0m %s\n' "$*" >&2; exit 1; }
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
has() { compgen -G "$1" >/dev/null; }

python312() {
  local p="$HOME/.pyenv/versions/3.12.1/bin/python3.12"
  if [[ -x $p ]]; then echo "$p"; return; fi
  command -v python3.12 || die "cloudalone needs Python 3.12: ~/.pyenv/versions/3.12.1 or python3.12 on PATH"
}

# ------------------------------------------------------------------------------------------- install
install_fakes() {
  local pve="$VENVS/pve" ca="$VENVS/cloudalone"
  if ! has "$pve/lib/python3*/site-packages/fakepve-$FAKEPVE_VERSION.dist-info" \
     || ! has "$pve/lib/python3*/site-packages/cryptography-*.dist-info"; then
    log "installing fakepve[crypto]==$FAKEPVE_VERSION into .venv-fakes/pve"
    [[ -x $pve/bin/python ]] || python3 -m venv "$pve"
    "$pve/bin/pip" install -q "fakepve[crypto]==$FAKEPVE_VERSION"
  fi
  if ! has "$ca/lib/python3.12/site-packages/cloudalone-$CLOUDALONE_VERSION.dist-info" \
     || ! has "$ca/lib/python3.12/site-packages/[sS][qQ][lL][aA]lchemy-2.0.*.dist-info"; then
    # libvirt-python is a hard dependency of cloudalone, even for the stub backend it runs with here.
    local missing=() p
    for p in libvirt-dev pkg-config; do
      dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
      log "apt-get install ${missing[*]}"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    log "installing cloudalone==$CLOUDALONE_VERSION into .venv-fakes/cloudalone"
    [[ -x $ca/bin/python ]] || "$(python312)" -m venv "$ca"
    "$ca/bin/pip" install -q "cloudalone==$CLOUDALONE_VERSION"
    # SQLAlchemy 2.1 breaks the advanced-alchemy release cloudalone 0.2.0 pulls in.
    "$ca/bin/pip" install -q 'sqlalchemy<2.1'
  fi
  if ! grep -qs "\"version\": \"$PRISM_VERSION\"" "$PRISM_DIR/node_modules/@stoplight/prism-cli/package.json"; then
    log "installing @stoplight/prism-cli@$PRISM_VERSION into tools/prism"
    mkdir -p "$PRISM_DIR"
    [[ -f $PRISM_DIR/package.json ]] || (cd "$PRISM_DIR" && npm init -y >/dev/null)
    (cd "$PRISM_DIR" && npm install --no-audit --no-fund --silent --save-exact "@stoplight/prism-cli@$PRISM_VERSION")
  fi
}

# ------------------------------------------------------------------------------------- start / stop
alive() { kill -0 "$1" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# launch NAME COMMAND...: in its own session (so stop can end the whole process group), log to DIR/NAME.log
launch() {
  local name=$1; shift
  setsid "$@" >"$DIR/$name.log" 2>&1 </dev/null &
  echo "$name $!" >>"$DIR/fakes.pids"
}

pid_of() { awk -v n="$1" '$1 == n {print $2}' "$DIR/fakes.pids"; }

wait_port() {  # wait_port NAME PORT
  local name=$1 port=$2 pid deadline=$((SECONDS + WAIT_SECS))
  pid=$(pid_of "$name")
  until port_open "$port"; do
    if ! alive "$pid" || ((SECONDS >= deadline)); then
      echo "--- $DIR/$name.log" >&2; tail -30 "$DIR/$name.log" >&2 || true
      stop_fakes >/dev/null
      die "$name did not come up on $HOST:$port"
    fi
    sleep 0.1
  done
}

start_fakes() {
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  if [[ -f $DIR/fakes.pids ]]; then
    local name pid
    while read -r name pid; do
      alive "$pid" && die "$name (pid $pid) from an earlier start is still running: run '$0 stop $DIR' first"
    done <"$DIR/fakes.pids"
    rm -f "$DIR/fakes.pids"
  fi
  local port
  for port in "$FAKEPVE_PORT" "$FAKEPVE_ADMIN_PORT" "$CLOUDALONE_PORT" "$PRISM_HCLOUD_PORT" "$PRISM_PVE_PORT"; do
    port_open "$port" && die "port $HOST:$port is already in use"
  done
  install_fakes
  case "$PRISM_MODE" in requests|log|strict|off) ;; *) die "PROVISIO_PRISM_MODE must be requests, log, strict or off" ;; esac
  local hcloud_proxy=1 pve_proxy=1
  if [[ $PRISM_MODE == off ]]; then
    hcloud_proxy=0 pve_proxy=0
  else
    [[ -f $HCLOUD_SPEC ]] || { hcloud_proxy=0; log "no Hetzner spec at $HCLOUD_SPEC: no Prism proxy, PROVISIO_HCLOUD_URL is the fake itself"; }
    [[ -f $PVE_SPEC ]] || { pve_proxy=0; log "no Proxmox spec at $PVE_SPEC: no Prism proxy, PROVISIO_FAKEPVE_URL is the fake itself"; }
  fi
  local t0
  t0=$(date +%s%N)
  rm -f "$DIR"/fakepve.crt "$DIR"/fakepve.key "$DIR"/cloudalone.sqlite* "$DIR"/*.proxy.json
  : >"$DIR/fakes.pids"

  FAKEPVE_HOST="$HOST" FAKEPVE_PORT="$FAKEPVE_PORT" FAKEPVE_ADMIN_PORT="$FAKEPVE_ADMIN_PORT" FAKEPVE_NODE="$PVE_NODE" \
    FAKEPVE_TOKEN_ID="$PVE_TOKEN_ID" FAKEPVE_TOKEN_SECRET="$PVE_TOKEN_SECRET" FAKEPVE_TEMPLATE_VMID="$PVE_TEMPLATE_VMID" \
    FAKEPVE_CT_TEMPLATE="$PVE_CT_TEMPLATE" FAKEPVE_GUEST_IPV4="$GUEST_IPV4" PYTHONUNBUFFERED=1 \
    launch fakepve "$VENVS/pve/bin/python" "$ROOT/scripts/fakes/fakepve_launcher.py" "$DIR"

  mkdir -p "$DIR/cloudalone-home"
  (cd "$DIR" && CLOUDALONE_BACKEND=stub CLOUDALONE_TOKEN="$HCLOUD_TOKEN" CLOUDALONE_DB="$DIR/cloudalone.sqlite" \
    CLOUDALONE_HOME="$DIR/cloudalone-home" CLOUDALONE_CONFIG="$DIR/cloudalone-home/none.toml" PYTHONUNBUFFERED=1 \
    launch cloudalone "$VENVS/cloudalone/bin/cloudalone" serve --host "$HOST" --port "$CLOUDALONE_PORT")

  local errors=() lenient=()
  [[ $PRISM_MODE == log ]] || errors=(--errors)
  if [[ $PRISM_MODE == requests ]]; then lenient=(--lenient-responses); fi
  if [[ $hcloud_proxy == 1 ]]; then
    "$VENVS/pve/bin/python" "$ROOT/scripts/fakes/proxy_spec.py" "$HCLOUD_SPEC" "$DIR/hcloud.proxy.json" /v1 "${lenient[@]}"
    launch prism-hcloud "$PRISM" proxy -h "$HOST" -p "$PRISM_HCLOUD_PORT" "${errors[@]}" \
      "$DIR/hcloud.proxy.json" "http://$HOST:$CLOUDALONE_PORT"
  fi
  if [[ $pve_proxy == 1 ]]; then
    "$VENVS/pve/bin/python" "$ROOT/scripts/fakes/proxy_spec.py" "$PVE_SPEC" "$DIR/pve.proxy.json" /api2/json "${lenient[@]}"
  fi
  wait_port fakepve "$FAKEPVE_PORT"
  wait_port fakepve "$FAKEPVE_ADMIN_PORT"
  if [[ $pve_proxy == 1 ]]; then
    # The fake's certificate exists now; Node must trust it to reach https://…:18006.
    NODE_EXTRA_CA_CERTS="$DIR/fakepve.crt" launch prism-pve "$PRISM" proxy -h "$HOST" -p "$PRISM_PVE_PORT" \
      "${errors[@]}" "$DIR/pve.proxy.json" "https://$HOST:$FAKEPVE_PORT"
  fi
  wait_port cloudalone "$CLOUDALONE_PORT"
  if [[ $hcloud_proxy == 1 ]]; then wait_port prism-hcloud "$PRISM_HCLOUD_PORT"; fi
  if [[ $pve_proxy == 1 ]]; then wait_port prism-pve "$PRISM_PVE_PORT"; fi

  local pve_direct="https://$HOST:$FAKEPVE_PORT/api2/json" hcloud_direct="http://$HOST:$CLOUDALONE_PORT/v1"
  local pve_url="$pve_direct" hcloud_url="$hcloud_direct" mode="$PRISM_MODE"
  if [[ $pve_proxy == 1 ]]; then pve_url="http://$HOST:$PRISM_PVE_PORT/api2/json"; fi
  if [[ $hcloud_proxy == 1 ]]; then hcloud_url="http://$HOST:$PRISM_HCLOUD_PORT/v1"; fi
  if [[ $pve_proxy == 0 && $hcloud_proxy == 0 ]]; then mode=off; fi
  {
    echo "# written by scripts/fakes.sh start $DIR on $(date -u +%FT%TZ)"
    echo "export PROVISIO_FAKEPVE_URL='$pve_url'"
    echo "export PROVISIO_FAKEPVE_DIRECT_URL='$pve_direct'"
    echo "export PROVISIO_FAKEPVE_TOKEN='$PVE_TOKEN_ID=$PVE_TOKEN_SECRET'"
    echo "export PROVISIO_FAKEPVE_TOKEN_ID='$PVE_TOKEN_ID'"
    echo "export PROVISIO_FAKEPVE_TOKEN_SECRET='$PVE_TOKEN_SECRET'"
    echo "export PROVISIO_FAKEPVE_CA='$DIR/fakepve.crt'"
    echo "export PROVISIO_FAKEPVE_NODE='$PVE_NODE'"
    echo "export PROVISIO_FAKEPVE_TEMPLATE_VMID='$PVE_TEMPLATE_VMID'"
    echo "export PROVISIO_FAKEPVE_CT_TEMPLATE='local:vztmpl/$PVE_CT_TEMPLATE'"
    echo "export PROVISIO_FAKEPVE_GUEST_IPV4='${GUEST_IPV4%%/*}'"
    echo "export PROVISIO_FAKEPVE_ADMIN_URL='http://$HOST:$FAKEPVE_ADMIN_PORT'"
    echo "export PROVISIO_HCLOUD_URL='$hcloud_url'"
    echo "export PROVISIO_HCLOUD_DIRECT_URL='$hcloud_direct'"
    echo "export PROVISIO_HCLOUD_TOKEN='$HCLOUD_TOKEN'"
    echo "export PROVISIO_FAKES_PRISM_MODE='$mode'"
  } >"$DIR/fakes.env"
  log "fakes up in $(( ($(date +%s%N) - t0) / 1000000 )) ms (prism mode: $mode): source $DIR/fakes.env"
}

stop_fakes() {
  [[ -f $DIR/fakes.pids ]] || { log "nothing to stop in $DIR"; return 0; }
  local name pid left
  while read -r name pid; do
    if alive "$pid"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
  done <"$DIR/fakes.pids"
  for _ in $(seq 1 50); do
    left=0
    while read -r name pid; do alive "$pid" && left=1; done <"$DIR/fakes.pids"
    [[ $left == 0 ]] && break
    sleep 0.1
  done
  while read -r name pid; do
    if alive "$pid"; then
      log "$name (pid $pid) ignored SIGTERM: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done <"$DIR/fakes.pids"
  rm -f "$DIR/fakes.pids"
  log "stopped the fakes of $DIR"
}

case "${1:-}" in
  install) install_fakes ;;
  start)
    [[ -n ${2:-} ]] || die "usage: $0 start RUNTIME_DIR"
    DIR=$2; start_fakes ;;
  stop)
    [[ -n ${2:-} ]] || die "usage: $0 stop RUNTIME_DIR"
    DIR=$2; stop_fakes ;;
  *) echo "usage: $0 install | start RUNTIME_DIR | stop RUNTIME_DIR" >&2; exit 2 ;;
esac
