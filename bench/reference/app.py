"""Provisio's deployments list and statistics the way the original Flask stack served them.

Reads the database Provisio writes (REFERENCE_DATABASE_URL, a SQLAlchemy URL: sqlite:////abs/path.db
or postgresql://user:pass@host:port/db) and answers the same JSON as Provisio's
`GET /api/deployments` and `GET /api/statistics`. Run it under gunicorn: see README.md.
"""

import base64
import binascii
import json
import math
import os
import re
import uuid
from datetime import datetime, timezone

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, LargeBinary, String
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import selectinload
from sqlalchemy.types import TypeDecorator

STATUSES = ["PENDING", "PROVISIONING", "DEPLOYING", "RUNNING", "STOPPED", "FAILED", "DELETING", "DELETED"]
PER_PAGE_DEFAULT, PER_PAGE_MAX, PAGE_MAX = 50, 200, 1_000_000


class UUIDType(TypeDecorator):
    """sea-orm's Uuid columns: native uuid on PostgreSQL, 16-byte blobs on SQLite (sqlx binds them so)."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(PG_UUID(as_uuid=True))
        return dialect.type_descriptor(LargeBinary(16))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        return value if dialect.name == "postgresql" else value.bytes

    def process_result_value(self, value, dialect):
        if value is None or isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            return uuid.UUID(value)
        return uuid.UUID(bytes=bytes(value))


class Timestamp(TypeDecorator):
    """timestamptz on PostgreSQL; RFC 3339 text on SQLite (up to nanoseconds, which Python cuts to µs)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        return value.isoformat() if value is not None and dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if isinstance(value, str):
            value = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00"))
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def database_url():
    """postgres:// (Provisio's spelling) and postgresql:// go to psycopg2 (SQLAlchemy 2.1's default is psycopg 3)."""
    url = os.environ["REFERENCE_DATABASE_URL"]
    scheme, sep, rest = url.partition("://")
    return "postgresql+psycopg2://" + rest if scheme in ("postgres", "postgresql") else url


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
app.json.sort_keys = False  # keep the fields in Provisio's order
db = SQLAlchemy(app)


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(UUIDType, primary_key=True)
    roles = db.Column(db.String(128), nullable=False)
    active = db.Column(db.Boolean, nullable=False)
    session_version = db.Column(db.Integer, nullable=False)


class Team(db.Model):
    __tablename__ = "teams"
    id = db.Column(UUIDType, primary_key=True)
    name = db.Column(db.String(64), nullable=False)
    slug = db.Column(db.String(64), nullable=False)


class TeamMembership(db.Model):
    __tablename__ = "team_memberships"
    team_id = db.Column(UUIDType, db.ForeignKey("teams.id"), primary_key=True)
    user_id = db.Column(UUIDType, db.ForeignKey("users.id"), primary_key=True)


class Project(db.Model):
    __tablename__ = "projects"
    id = db.Column(UUIDType, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    url = db.Column(db.String(1024), nullable=False)


class Server(db.Model):
    __tablename__ = "servers"
    id = db.Column(UUIDType, primary_key=True)
    name = db.Column(db.String(253), nullable=False)


class Deployment(db.Model):
    __tablename__ = "deployments"
    id = db.Column(UUIDType, primary_key=True)
    team_id = db.Column(UUIDType, db.ForeignKey("teams.id"), nullable=False)
    name = db.Column(db.String(40), nullable=False)
    project_id = db.Column(UUIDType, db.ForeignKey("projects.id"), nullable=False)
    branch = db.Column(db.String(200), nullable=False)
    commit_sha = db.Column(db.String(40))
    framework = db.Column(db.String(32), nullable=False)
    deployment_type = db.Column(db.String(8), nullable=False)
    cpu = db.Column(db.Integer)
    ram_mb = db.Column(db.Integer)
    disk_gb = db.Column(db.Integer)
    status = db.Column(db.String(16), nullable=False)
    failed_step = db.Column(db.String(32))
    error = db.Column(db.Text)
    server_id = db.Column(UUIDType, db.ForeignKey("servers.id"))
    request_id = db.Column(UUIDType)
    port = db.Column(db.Integer)
    app_port = db.Column(db.Integer)
    url = db.Column(db.String(300))
    env = db.Column(db.Text)
    execution_id = db.Column(UUIDType)
    created_by = db.Column(UUIDType)
    created_at = db.Column(Timestamp, nullable=False)
    updated_at = db.Column(Timestamp, nullable=False)
    deployed_at = db.Column(Timestamp)

    team = db.relationship(Team)
    project = db.relationship(Project)
    server = db.relationship(Server)

    def to_dict(self):
        status = self.status.upper() if self.status.upper() in STATUSES else "FAILED"
        kind = self.deployment_type.lower()
        return {
            "id": str(self.id),
            "name": self.name,
            "team": {"id": str(self.team.id), "name": self.team.name, "slug": self.team.slug},
            "project_id": str(self.project_id),
            "project_name": self.project.name if self.project else "",
            "git_url": self.project.url if self.project else "",
            "branch": self.branch,
            "commit": self.commit_sha,
            "framework": self.framework,
            "deployment_type": kind if kind in ("vm", "lxc") else "vm",
            "cpu": self.cpu,
            "ram_mb": self.ram_mb,
            "disk_gb": self.disk_gb,
            "status": status,
            "failed_step": self.failed_step,
            "error": self.error,
            "server_id": optional_str(self.server_id),
            "server_name": self.server.name if self.server else None,
            "request_id": optional_str(self.request_id),
            "port": self.port,
            "app_port": self.app_port,
            "url": self.url,
            "env": sorted(json.loads(self.env)) if self.env else [],  # names only
            "execution_id": optional_str(self.execution_id),
            "created_by": optional_str(self.created_by),
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "deployed_at": rfc3339(self.deployed_at),
        }


def optional_str(value):
    return None if value is None else str(value)


def rfc3339(value):
    """As chrono writes a DateTime<Utc>: Z, and 0, 3 or 6 fraction digits."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    us = value.microsecond
    fraction = "" if us == 0 else f".{us // 1000:03d}" if us % 1000 == 0 else f".{us:06d}"
    return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


class Problem(Exception):
    def __init__(self, status, detail=None, errors=None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors


@app.errorhandler(Problem)
def problem(e):
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 422: "Unprocessable Entity"}
    body = {"type": "about:blank", "title": titles.get(e.status, "Error"), "status": e.status}
    if e.detail:
        body["detail"] = e.detail
    if e.errors:
        body["errors"] = e.errors
    response = jsonify(body)
    response.status_code = e.status
    response.content_type = "application/problem+json"
    return response


def visible_team_ids():
    """The caller's teams (None: every team), from the bearer token's `sub`, signature unchecked."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "a bearer token is required")
    try:
        payload = token.strip().split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        user_id = uuid.UUID(claims["sub"])
    except (IndexError, KeyError, ValueError, TypeError, binascii.Error):
        raise Problem(401, "the access token is invalid or expired")
    user = db.session.get(User, user_id)
    if user is None or not user.active or claims.get("sv") != user.session_version:
        raise Problem(401, "the account is inactive or the session has ended")
    roles = {r.strip() for r in user.roles.split(",")}
    if not roles & {"admin", "technical_agent"}:  # the roles holding deployments_manage
        raise Problem(403)
    if "admin" in roles:  # all_teams
        return None
    return db.session.scalars(db.select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)).all()


def int_arg(name, default, low, high):
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        raise Problem(400, f"{name} must be a number")
    if not low <= value <= high:
        raise Problem(422, errors={name: [f"must be between {low} and {high}"]})
    return value


@app.get("/api/deployments")
def list_deployments():
    team_ids = visible_team_ids()
    page = int_arg("page", 1, 1, PAGE_MAX)
    per_page = int_arg("per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
    query = db.select(Deployment)
    if team_ids is not None:
        query = query.where(Deployment.team_id.in_(team_ids))
    status = request.args.get("status")
    if status is not None:
        if status.upper() not in STATUSES:
            raise Problem(422, errors={"status": ["one of " + ", ".join(STATUSES)]})
        query = query.where(Deployment.status == status.upper())
    else:
        query = query.where(Deployment.status != "DELETED")
    if request.args.get("framework") is not None:
        query = query.where(Deployment.framework == request.args["framework"])
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(Deployment.name.contains(q.lower()))
    query = query.order_by(Deployment.created_at.desc(), Deployment.id.desc()).options(
        selectinload(Deployment.team), selectinload(Deployment.project), selectinload(Deployment.server)
    )
    found = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify(
        items=[d.to_dict() for d in found.items if d.team is not None],
        total=found.total,
        page=page,
        per_page=per_page,
    )


@app.get("/api/statistics")
def statistics():
    team_ids = visible_team_ids()
    query = db.select(Deployment.status, Deployment.framework, db.func.count()).group_by(
        Deployment.status, Deployment.framework
    )
    if team_ids is not None:
        query = query.where(Deployment.team_id.in_(team_ids))
    by_status, by_framework = {}, {}
    total = active = running = failed = ended = 0
    for status, framework, count in db.session.execute(query):
        status = status.upper() if status.upper() in STATUSES else "FAILED"
        total += count
        by_status[status] = by_status.get(status, 0) + count
        entry = by_framework.setdefault(framework, {"framework": framework, "total": 0, "running": 0})
        entry["total"] += count
        if status not in ("FAILED", "DELETED", "DELETING"):
            active += count
        if status == "RUNNING":
            running += count
            entry["running"] += count
        if status == "FAILED":
            failed += count
        if status in ("RUNNING", "STOPPED", "FAILED"):
            ended += count
    return jsonify(
        total=total,
        active=active,
        running=running,
        failed=failed,
        success_rate=math.floor((ended - failed) * 1000 / ended + 0.5) / 10 if ended else None,
        by_framework=sorted(by_framework.values(), key=lambda f: (-f["total"], f["framework"])),
        by_status=dict(sorted(by_status.items())),
    )
