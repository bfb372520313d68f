#!/usr/bin/env bash
# Schemathesis against a dedicated live server, once per role and once without credentials.
#
#   scripts/schemathesis.sh [RUNTIME_DIR]       (default: .test-runtime/schemathesis)
#
# Starts `provisio serve` on its own port with its own SQLite file and key file, no job workers
# (PROVISIO_WORKERS=0: nothing a fuzzed request enqueues ever runs) and every outbound HTTP request
# sent to a closed loopback port through HTTP(S)_PROXY, so provider URLs or webhook addresses that
# schemathesis invents are never fetched. It seeds one user per role with an API token and a row of
# each kind (scripts/schemathesis_seed.py), then:
#   1. runs schemathesis with each role's token (checks below; ids in paths are drawn half of the
#      time from the seeded rows, the rest generated), one worker: with two, CPython 3.11's ast
#      module, which hypothesis calls from both threads, now and then fails a whole phase with
#      "AST constructor recursion depth mismatch" (cpython#106905);
#   2. runs the stateful phase as the administrator (sequences along the inferred links);
#   3. calls every operation the spec marks as secured without credentials and requires 401.
# Reports (JUnit per role, the server log) stay in RUNTIME_DIR; a summary is printed at the end.
# Needs the binary built (`cargo build -p api`; PROVISIO_BIN overrides the path) and the venv that
# `scripts/setup.sh --test` creates (.venv-schemathesis).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=env.sh
source "$ROOT/scripts/env.sh"
RUNTIME="${1:-$ROOT/.test-runtime/schemathesis}"
ST="$ROOT/.venv-schemathesis/bin/schemathesis"
PYTHON="$ROOT/.venv-schemathesis/bin/python"
BIN="${PROVISIO_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/provisio}"
# Examples per operation and role: 25 keeps the four runs, the stateful one and the 401 sweep near
# 3 minutes on 2 cores (40 took 264 s); every operation still gets its examples, coverage and
# fuzzing phases.
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
STATEFUL_EXAMPLES="${SCHEMATHESIS_STATEFUL_EXAMPLES:-300}"
# 5xx are caught from the server log instead of not_a_server_error: the provider inventory calls
# (hetzner/proxmox/provider-accounts sync and resources) answer 502 by design here, their upstream
# being a closed port, and per-operation check settings in the config file did not take effect
# over --checks in 4.32.5. Every 500, 501, 503, 504, 505 and panic still fails the step, and a
# panic also closes the connection, which schemathesis reports as an error.
CHECKS=status_code_conformance,negative_data_rejection,unsupported_method,content_type_conformance,response_headers_conformance,response_schema_conformance

log() { printf '\033[1;34m[schemathesis]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[schemathesis]\033[0m %s\n' "$*" >&2; exit 1; }
[[ -x "$ST" ]] || die "no $ST: run scripts/setup.sh --test"
[[ -x "$BIN" ]] || die "no $BIN: run cargo build -p api"

# Operations left out of the per-role runs, and why:
EXCLUDED=(
  # Server-sent event streams never end: a request would only stop at the timeout.
  --exclude-path-regex '/events$'
  # A WebSocket upgrade; plain HTTP requests cannot speak the protocol (the 401 sweep covers it).
  --exclude-path '/api/projects/{id}/terminal'
  # Opens an SSH connection to the address in the body: fuzzed addresses would reach other hosts.
  --exclude-path '/api/servers/register'
  # Ends the session under test: a refresh cookie is the only thing logout acts on, and a
  # successful password change would bump the user's session version.
  --exclude-path '/api/auth/logout'
  --exclude-path '/api/auth/password'
  # Schemathesis reuses ids seen in earlier responses, and the only token id a caller can see is
  # the one it is using: revoking it turns the rest of the run into 401s.
  --exclude-path '/api/me/tokens/{id}'
)

t_start=$(date +%s)
rm -rf "$RUNTIME" && mkdir -p "$RUNTIME/reports" "$RUNTIME/dictionaries"
PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
ADMIN_PASSWORD="schemathesis-admin-password-1"

server_env=(
  PROVISIO_BIND="127.0.0.1:$PORT"
  DATABASE_URL="sqlite://$RUNTIME/provisio.db?mode=rwc"
  PROVISIO_KEY_FILE="$RUNTIME/provisio.key"
  PROVISIO_WORKERS=0
  PROVISIO_LOG_FORMAT=json
  # Webhook deliveries: the first round runs at start (nothing is due), the next one after the run.
  PROVISIO_DELIVERY_INTERVAL_SECS=86400
  PROVISIO_SMTP_URL=
  PROVISIO_TERRAFORM_DIR="$RUNTIME/terraform"
  PROVISIO_PROJECTS_DIR="$RUNTIME/projects"
  # Fuzzed logins would otherwise lock the seeded accounts out; the limiter has tests of its own.
  PROVISIO_LOGIN_MAX_FAILURES=1000000
  PROVISIO_LOGIN_FREE_FAILURES=1000000
  PROVISIO_LOGIN_MAX_PER_IP=1000000
  # Every provider call goes to the closed proxy port: retrying it with back-off only waits (the
  # admin run spent 7 of its 8 minutes there). The retry loop has tests of its own (faults.rs).
  PROVISIO_PROVIDER_RETRIES=0
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
  http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9
  NO_PROXY= no_proxy=
  DB_HOST=
)

env "${server_env[@]}" PROVISIO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  "$BIN" create-admin --username st-root --email st-root@example.com >/dev/null
env "${server_env[@]}" "$BIN" serve >"$RUNTIME/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$URL/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$URL/readyz" >/dev/null || { tail -30 "$RUNTIME/server.log"; die "the server did not start"; }

log "seeding $URL"
seeded="$("$PYTHON" "$ROOT/scripts/schemathesis_seed.py" "$URL" st-root "$ADMIN_PASSWORD" "$RUNTIME/dictionaries" "$RUNTIME/provisio.db")"
eval "$seeded"

# Ids in paths: half of the examples name a seeded row, the others whatever schemathesis makes.
bind() { # path-template parameter dictionary
  printf '\n[[operations]]\ninclude-path-regex = "%s"\nparameters = { "path.%s" = { dictionary = "%s", probability = 0.5 } }\n' "$1" "$2" "$3"
}
{
  printf '[dictionaries]\n'
  for f in "$RUNTIME"/dictionaries/*.txt; do
    printf '%s = { from-file = "%s" }\n' "$(basename "$f" .txt)" "$f"
  done
  bind '^/api/teams/\\{id\\}' id team_ids
  bind '^/api/teams/\\{id\\}/members/\\{user_id\\}$' user_id user_ids
  bind '^/api/users/\\{id\\}' id user_ids
  bind '^/api/provider-accounts/\\{id\\}' id provider_ids
  bind '^/api/requests/\\{id\\}' id request_ids
  bind '^/api/clients/\\{id\\}' id client_ids
  bind '^/api/subscriptions/\\{id\\}' id subscription_ids
  bind '^/api/projects/\\{id\\}' id project_ids
  bind '^/api/scripts/\\{id\\}' id script_ids
  bind '^/api/webhooks/\\{id\\}' id webhook_ids
  bind '^/api/ssh-keys/\\{id\\}' id ssh_key_ids
} >"$RUNTIME/schemathesis.toml"

failed=0
summary=()
# Stateful first: its scenarios start from the seeded rows and stop short once they are changed.
# Admin last: its run may delete the seeded rows the other roles' runs name.
for role in stateful requester sales_agent technical_agent admin; do
  token_var="TOKEN_${role^^}"
  phases=examples,coverage,fuzzing examples="$MAX_EXAMPLES"
  if [[ $role == stateful ]]; then
    # Sequences of calls along the links schemathesis infers from the document (an id a
    # creation returns, then read, change, delete it), as the administrator, who may call them
    # all: 300 scenarios cover 20 of the links in ~12 s.
    phases=stateful examples="$STATEFUL_EXAMPLES" token_var=TOKEN_ADMIN
  fi
  log "role $role ($examples examples per operation)"
  t0=$(date +%s)
  set +e
  # From the runtime dir: schemathesis keeps a cache folder in its working directory.
  (cd "$RUNTIME" && "$ST" --config-file "$RUNTIME/schemathesis.toml" run "$URL/api/openapi.json" \
    --url "$URL" -H "Authorization: Bearer ${!token_var}" \
    --checks "$CHECKS" --max-examples "$examples" --phases "$phases" \
    --generation-database none --generation-with-security-parameters false --seed 1 --workers 1 --request-timeout 10 --no-color \
    "${EXCLUDED[@]}" --report junit --report-junit-path "$RUNTIME/reports/$role.xml" \
    >"$RUNTIME/reports/$role.txt" 2>&1)
  rc=$?
  set -e
  report="$RUNTIME/reports/$role.txt"
  tested="$(grep -m1 -E '^  Tested: ' "$report" | awk '{print $2}')"
  cases="$(grep -m1 -E '^  [0-9]+ generated' "$report" | sed 's/^ *//')"
  summary+=("$role: ${tested:-?} operations, ${cases:-no test cases}, $(($(date +%s) - t0))s")
  if [[ $rc -ne 0 ]]; then
    failed=1
    log "role $role: failures (full output $RUNTIME/reports/$role.txt)"
    sed -n '/FAILURES/,$p' "$RUNTIME/reports/$role.txt" | head -120 || true
  fi
done

log "every secured operation without credentials"
if ! "$PYTHON" - "$URL" >"$RUNTIME/reports/unauthenticated.txt" 2>&1 <<'EOF'; then
import json, re, sys, urllib.error, urllib.request
base = sys.argv[1]
spec = json.load(urllib.request.urlopen(base + "/api/openapi.json"))
checked, wrong = 0, []
for path, operations in spec["paths"].items():
    for method, operation in operations.items():
        if not operation.get("security"):
            continue
        url = base + re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
        body = b"{}" if method in ("post", "put", "patch") else None
        request = urllib.request.Request(url, data=body, method=method.upper())
        request.add_header("Content-Type", "application/json")
        try:
            status = urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as error:
            status = error.code
        checked += 1
        if status != 401:
            wrong.append(f"{method.upper()} {path}: {status}")
print(f"{checked} secured operations called without credentials, {len(wrong)} did not answer 401")
print("\n".join(wrong))
sys.exit(1 if wrong else 0)
EOF
  failed=1
fi
summary+=("unauthenticated: $(head -1 "$RUNTIME/reports/unauthenticated.txt")")
tail -n +2 "$RUNTIME/reports/unauthenticated.txt" | head -40 || true

# Every answer is in the server log, the 401 sweep's and the seeding's too.
server_errors="$(grep -cE 'panicked|"status":50[01345]' "$RUNTIME/server.log" || true)"
summary+=("server log: $server_errors panics or 5xx answers other than 502")
if [[ $server_errors -ne 0 ]]; then
  failed=1
  grep -E 'panicked|"status":50[01345]' "$RUNTIME/server.log" | head -20 || true
fi

log "summary (reports in $RUNTIME/reports)"
printf '  %s\n' "${summary[@]}"
log "took $(($(date +%s) - t_start))s"
[[ $failed -eq 0 ]] || die "schemathesis found failures"
