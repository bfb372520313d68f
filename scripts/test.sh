#!/usr/bin/env bash
# The whole test suite: formatting and lints, unit and integration tests on SQLite and on a real
# PostgreSQL, then the browser end-to-end tests in headless Chromium against the built app, and the
# Python and TypeScript clients generated from openapi/openapi.json against the same server, and
# schemathesis against a server of its own with a user of each role.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" --test
# shellcheck source=env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"

# Each step says when it starts (seconds since the suite began), so a slow one shows in the log.
step() { printf '\n\033[1;32m==> %s\033[0m (at %ds)\n' "$*" "$SECONDS"; }
RUNTIME="$ROOT/.test-runtime"
rm -rf "$RUNTIME" && mkdir -p "$RUNTIME"
# Every temporary file of this run (test scratch directories, Git clones, Ansible run directories,
# the browser's profile) goes into one directory removed at the end, so repeated runs do not fill
# the disk. Under /tmp, not the checkout: SSH control sockets need a short path.
TMPDIR="$(mktemp -d /tmp/provisio-suite.XXXXXX)"
export TMPDIR
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMPDIR" || true
}
trap cleanup EXIT

# Trunk builds offline: the crates are fetched first.
cargo fetch --locked

step "web app (Trunk, release) in the background, beside the lints and the fakes"
# The wasm build's long single-threaded phases (fat LTO, wasm-opt) overlap the lints. Trunk writes
# to a directory of its own: the api crate's build script embeds web/dist, and the lints must not
# read a bundle half written. The bundle moves into web/dist once both are done.
WEB_DIST="$RUNTIME/web-dist"
trunk build --release --offline --dist "$WEB_DIST" >"$RUNTIME/trunk.log" 2>&1 &
TRUNK_PID=$!
PIDS+=("$TRUNK_PID")

step "formatting and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "terraform modules formatted"
terraform fmt -check -recursive terraform-templates

step "provider fakes (fakepve, cloudalone, Prism) and a test sshd"
"$ROOT/scripts/fakes.sh" install
"$ROOT/scripts/fakes.sh" start "$RUNTIME/fakes"
"$ROOT/scripts/sshd.sh" start "$RUNTIME/fakes"
cleanup_fakes() { "$ROOT/scripts/fakes.sh" stop "$RUNTIME/fakes" >/dev/null 2>&1 || true; "$ROOT/scripts/sshd.sh" stop "$RUNTIME/fakes" >/dev/null 2>&1 || true; }
trap 'cleanup; cleanup_fakes' EXIT
set -a
# shellcheck disable=SC1091
source "$RUNTIME/fakes/fakes.env"
# shellcheck disable=SC1091
source "$RUNTIME/fakes/sshd.env"
set +a
export PROVISIO_REQUIRE_FAKES=1

step "web app (Trunk, release): waiting for the build started with the lints"
wait "$TRUNK_PID" || { cat "$RUNTIME/trunk.log"; exit 1; }
tail -n 3 "$RUNTIME/trunk.log"
rm -rf web/dist && mv "$WEB_DIST" web/dist

step "unit and integration tests on SQLite"
# The whole workspace, so the web app's unit tests (progress trackers, form conversions) run too.
# The scale-out and database-outage tests need PostgreSQL; they run in the next pass (and fail,
# not skip, when PROVISIO_REQUIRE_FAKES is set without it).
cargo nextest run --workspace --locked --no-fail-fast \
  -E 'not (binary(scale_out) | test(the_database_out_of_reach_answers_503_and_the_server_recovers_by_itself))'

step "integration tests on PostgreSQL"
"$ROOT/scripts/postgres.sh" start
# The fakes keep state between runs: restart them so the PostgreSQL pass starts clean too.
"$ROOT/scripts/fakes.sh" stop "$RUNTIME/fakes" >/dev/null
"$ROOT/scripts/fakes.sh" start "$RUNTIME/fakes" >/dev/null
# Each test creates a database of its own: drop them whether the pass succeeded or not.
pg_status=0
# The Ansible, app-deployment and resource-recipe scenarios spend their time in ansible-playbook,
# git, nginx and the engines on the test hosts, which no database changes: they run once, in the
# SQLite pass (so does the playbook-variables scenario of hostile_inputs). The queue, leases, crash take-over and everything
# else that talks to the database runs on both.
# The same package selection as the SQLite pass, so its build is reused as it is (`-p api` alone
# unifies features differently and rebuilt the api crate and every test binary).
PROVISIO_TEST_PG_URL="$("$ROOT/scripts/postgres.sh" url)" cargo nextest run --workspace --locked --no-fail-fast \
  -E 'package(api) & not (binary(ansible) | binary(deployments) | binary(resource_recipes) | test(shell_and_template_syntax_in_playbook_variables_arrive_verbatim_as_data))' || pg_status=$?
"$ROOT/scripts/postgres.sh" drop-test-databases
[[ $pg_status -eq 0 ]] || exit "$pg_status"

step "end-to-end in headless Chromium"
# The same package selection as the test passes, so the binary they built is reused as it is
# (`-p api` alone unifies features differently and rebuilt everything: 2m23s).
cargo build --workspace --locked --bin provisio
export PROVISIO_BIND=127.0.0.1:18080
export PROVISIO_KEY_FILE="$RUNTIME/provisio.key"
export DATABASE_URL="sqlite://$RUNTIME/e2e.db?mode=rwc"
export PROVISIO_ADMIN_PASSWORD="e2e-admin-password-1"
export PROVISIO_PROVIDER_POLL_MS=200 PROVISIO_JOB_POLL_MS=200 PROVISIO_TERRAFORM_DIR="$RUNTIME/terraform"
export PROVISIO_PROJECTS_DIR="$RUNTIME/projects" PROVISIO_APPS_ROOT="$RUNTIME/apps" PROVISIO_DEPLOY_FIRST_PORT=22400
# The e2e Git hosts and provider fakes listen on loopback, which the default policy refuses for Git.
export PROVISIO_NETWORK_ALLOWLIST=127.0.0.0/8,::1
# Schemathesis needs no provider, fake or test host (its server's outbound calls go to a closed
# port): it runs beside the browser tests and the clients, against a server of its own, and is
# waited for at the end. Started here, with the environment above (its seed registers a Git URL
# on loopback, which the allowlist lets through).
"$ROOT/scripts/schemathesis.sh" "$RUNTIME/schemathesis" >"$RUNTIME/schemathesis.log" 2>&1 &
SCHEMATHESIS_PID=$!
PIDS+=("$SCHEMATHESIS_PID")
# E-mail goes to a real SMTP server, aiosmtpd, which writes each message into a Maildir the
# browser tests read (the registration walk follows the link it was sent).
aiosmtpd -n -l 127.0.0.1:18025 -c aiosmtpd.handlers.Mailbox "$RUNTIME/maildir" >"$RUNTIME/smtpd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/18025) 2>/dev/null && break
  sleep 0.1
done
export PROVISIO_SMTP_URL=smtp://127.0.0.1:18025 E2E_MAILDIR="$RUNTIME/maildir"
./target/debug/provisio create-admin --username e2eadmin --email e2eadmin@example.com --full-name "E2E Admin" >/dev/null
./target/debug/provisio serve >"$RUNTIME/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://$PROVISIO_BIND/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$PROVISIO_BIND/readyz" >/dev/null || { cat "$RUNTIME/server.log"; exit 1; }
E2E_BASE_URL="http://$PROVISIO_BIND" E2E_ADMIN_USER=e2eadmin E2E_ADMIN_PASSWORD="$PROVISIO_ADMIN_PASSWORD" \
  E2E_ARTIFACTS="$ROOT/e2e/artifacts" node e2e/run.mjs || { echo "--- server log"; tail -50 "$RUNTIME/server.log"; exit 1; }

step "generated clients (Python, TypeScript)"
# Same server, after the browser tests: the scenarios use names of their own.
PROVISIO_URL="http://$PROVISIO_BIND" PROVISIO_ADMIN_USER=e2eadmin "$ROOT/scripts/clients.sh" ||
  { echo "--- server log"; tail -50 "$RUNTIME/server.log"; exit 1; }

step "schemathesis against a dedicated server, per role and without credentials (started with the browser tests)"
st_status=0
wait "$SCHEMATHESIS_PID" || st_status=$?
cat "$RUNTIME/schemathesis.log"
[[ $st_status -eq 0 ]] || exit "$st_status"

step "all tests passed"
