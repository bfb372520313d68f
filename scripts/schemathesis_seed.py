"""Seeds the dedicated schemathesis server through its API and prints shell assignments.

One user per role with a personal API token, plus a row of each kind that paths with ids can
name: a team, a provider account (its endpoint a closed loopback port), a server request, a
client, a subscription, a project, a script, a webhook, an SSH key and a victim user. Ids go
to dictionary files that scripts/schemathesis.sh binds to the path parameters.

    python3 schemathesis_seed.py BASE_URL ADMIN_LOGIN ADMIN_PASSWORD OUT_DIR DATABASE_FILE
"""

import json
import sqlite3
import sys
import uuid
from datetime import datetime, timezone
import urllib.error
import urllib.request
from pathlib import Path

BASE, ADMIN, ADMIN_PASSWORD, OUT = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
DATABASE = sys.argv[5]
ROLES = ["admin", "technical_agent", "sales_agent", "requester"]
PASSWORD = "schemathesis-role-password-1"


def call(method, path, token=None, body=None, expect=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expect:
        sys.exit(f"seed: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


def login(username, password):
    return call("POST", "/api/auth/login", body={"login": username, "password": password})["access_token"]


admin = login(ADMIN, ADMIN_PASSWORD)
team = call("POST", "/api/teams", admin, {"name": "Schemathesis", "description": "seeded"})["id"]
global_team = next(t["id"] for t in call("GET", "/api/teams", admin)["items"] if t["name"] == "Global")

tokens = {}
for role in ROLES:
    username = f"st-{role.replace('_', '-')}"
    call(
        "POST",
        "/api/users",
        admin,
        {
            "username": username,
            "email": f"{username}@example.com",
            "full_name": f"Schemathesis {role}",
            "password": PASSWORD,
            "roles": [role],
            "team_ids": [global_team, team],
        },
    )
    session = login(username, PASSWORD)
    tokens[role] = call("POST", "/api/me/tokens", session, {"name": "schemathesis"})["secret"]

victim = call(
    "POST",
    "/api/users",
    admin,
    {
        "username": "st-victim",
        "email": "st-victim@example.com",
        "password": PASSWORD,
        "roles": ["requester"],
        "team_ids": [team],
    },
)["id"]

provider = call(
    "POST",
    "/api/provider-accounts",
    admin,
    {
        "name": "Schemathesis Hetzner",
        "kind": "hetzner",
        # Port 9 (discard) is closed here: a sync or test answers 502 at once, nothing leaves the host.
        "endpoint": "http://127.0.0.1:9/v1",
        "credentials": {"api_token": "schemathesis-not-a-token"},
        "catalog": {
            "currency": "EUR",
            "locations": ["fsn1"],
            "images": ["debian-12"],
            "server_types": [
                {"name": "cx22", "cpu": 2, "ram_mb": 4096, "disk_gb": 40, "monthly_price_cents": 459}
            ],
        },
    },
)["id"]

# The server reaches no provider (its outbound HTTP goes to a closed proxy port), so saving could
# not pass the account's connection test, and requests are only filed against accounts whose test
# passed. The passed test is written straight into the server's database, as an account that
# worked before its provider went away would have it; approving its request then meets the live
# check's refusal (409).
with sqlite3.connect(DATABASE) as db:
    db.execute(
        "UPDATE provider_accounts SET last_test_ok = 1, last_tested_at = ? WHERE id = ?",
        (datetime.now(timezone.utc).isoformat(), uuid.UUID(provider).bytes),
    )

request = call(
    "POST",
    "/api/requests",
    tokens["requester"],
    {
        "hostname": "schemathesis-1",
        "team_id": team,
        "provider_account_id": provider,
        "location": "fsn1",
        "image": "debian-12",
        "server_type": "cx22",
        "purpose": "seeded for schemathesis",
    },
)["request"]["id"]

client = call(
    "POST",
    "/api/clients",
    admin,
    {"team_id": team, "company": "Schemathesis GmbH", "billing_email": "billing@example.com"},
)["id"]
subscription = call(
    "POST",
    "/api/subscriptions",
    admin,
    {
        "client_id": client,
        "plan_name": "Seeded",
        "period_months": 1,
        "monthly_price_cents": 1000,
        "currency": "EUR",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
    },
)["subscription"]["id"]
project = call(
    "POST",
    "/api/projects",
    admin,
    {"name": "schemathesis", "url": "https://127.0.0.1:9/seeded.git", "team_id": team},
)["project"]["id"]
script = call(
    "POST",
    "/api/scripts",
    admin,
    {
        "name": "schemathesis",
        "team_id": team,
        "content": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n",
    },
)["id"]
webhook = call(
    "POST",
    "/api/webhooks",
    admin,
    {"name": "schemathesis", "url": "http://127.0.0.1:9/hook", "secret": "schemathesis-secret"},
)["id"]
ssh_key = call(
    "POST",
    "/api/ssh-keys",
    tokens["requester"],
    {
        "name": "schemathesis",
        "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxZ0NHeTIwCQx6A0Ft8mTqZ0IhvOUe5iNWkHDvGMCsT st@example",
    },
)["id"]

OUT.mkdir(parents=True, exist_ok=True)
dictionaries = {
    "team_ids": [team],
    "user_ids": [victim],
    "provider_ids": [provider],
    "request_ids": [request],
    "client_ids": [client],
    "subscription_ids": [subscription],
    "project_ids": [project],
    "script_ids": [script],
    "webhook_ids": [webhook],
    "ssh_key_ids": [ssh_key],
}
for name, values in dictionaries.items():
    (OUT / f"{name}.txt").write_text("".join(f"\"{value}\"\n" for value in values))
for role, secret in tokens.items():
    print(f"TOKEN_{role.upper()}={secret}")
