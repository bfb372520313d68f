//! Managed resources provided by their shipped recipes, for real: the sshd test host is the
//! team's server, ansible-core runs the recipe on it, and the engine's own client connects with
//! the credentials the API reveals. A cluster of its own on a free port keeps each run apart from
//! the PostgreSQL the suite itself uses.

mod common;

use common::{spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::Role;
use std::process::Command;
use std::time::{Duration, Instant};

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// The sshd test host's port and key, when it and PostgreSQL's cluster tools are here.
fn host() -> Option<(u16, String)> {
    let tools = std::path::Path::new("/usr/bin/pg_createcluster").exists()
        && Command::new("psql")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !tools {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but PostgreSQL (postgresql-common, psql) is missing"
        );
        eprintln!("skipped: PostgreSQL is not installed (see scripts/setup.sh)");
        return None;
    }
    common::ssh_test_host()
}

/// All text the execution logged.
async fn log_of(app: &TestApp, execution: &str) -> String {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    api::entities::execution_logs::Entity::find()
        .filter(
            api::entities::execution_logs::Column::ExecutionId
                .eq(execution.parse::<uuid::Uuid>().unwrap()),
        )
        .order_by_asc(api::entities::execution_logs::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until the resource reaches `status` and returns it; fails with its recipe's log when it
/// fails instead.
async fn settle(app: &TestApp, id: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let r = json_of(
            app.get(&format!("/api/resources/{id}"), &app.admin.token)
                .await,
            StatusCode::OK,
        )
        .await;
        if r["status"] == status {
            return r;
        }
        let stuck = started.elapsed() > Duration::from_secs(180);
        if r["status"] == "failed" || stuck {
            let log = match r["execution_id"].as_str() {
                Some(e) => log_of(app, e).await,
                None => String::new(),
            };
            panic!("resource never {status}: {r:#}\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// psql with `url`: its exit status, standard output and error.
fn psql(url: &str, sql: &str) -> (bool, String, String) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    )
}

/// The newest PostgreSQL version installed, as pg_createcluster names it.
fn pg_version() -> String {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    versions.last().unwrap().to_string()
}

/// Drops the test's cluster whatever the test's outcome.
struct Cluster(String);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &pg_version(), &self.0])
            .output();
    }
}

struct World {
    app: TestApp,
    team: String,
    server: String,
    requester: common::Session,
}

/// The sshd test host as the server of a team with a requester; None when it is not here.
async fn world() -> Option<World> {
    let (port, client_key) = host()?;
    let mut options = Options {
        workers: 2,
        ..Options::default()
    };
    options.jobs.lease = Duration::from_secs(5);
    let app = spawn_app_with(options).await;
    let account = json_of(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "Database hosts", "kind": "ssh", "endpoint": "",
                   "catalog": {"currency": "EUR", "locations": [], "images": []},
                   "credentials": {"private_key": client_key}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let team = app.create_team("Shop").await;
    let server = json_of(
        app.post(
            "/api/servers/register",
            &app.admin.token,
            json!({"name": "shop-db", "team_id": team, "provider_account_id": account["id"],
                   "address": "127.0.0.1", "port": port, "user": "root"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["server"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requester = app
        .user_with("asker", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    Some(World {
        app,
        team,
        server,
        requester,
    })
}

impl World {
    /// Asks for a resource of `kind` named `name`, has an administrator approve it and waits
    /// until the recipe made it ready; the resource then.
    async fn provision(&self, kind: &str, name: &str, parameters: Value) -> Value {
        let made = json_of(
            self.app
                .post(
                    "/api/resources",
                    &self.requester.token,
                    json!({"team_id": self.team, "resource_type": kind, "name": name,
                           "server_id": self.server, "purpose": "the shop's data",
                           "parameters": parameters}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let id = made["id"].as_str().unwrap().to_owned();
        let approved = json_of(
            self.app
                .post(
                    &format!("/api/resources/{id}/approve"),
                    &self.app.admin.token,
                    json!({}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(approved["status"], "provisioning");
        settle(&self.app, &id, "ready").await
    }

    async fn act(&self, resource: &Value, action: &str, body: Value, status: StatusCode) -> Value {
        let id = resource["id"].as_str().unwrap();
        json_of(
            self.app
                .post(
                    &format!("/api/resources/{id}/{action}"),
                    &self.requester.token,
                    body,
                )
                .await,
            status,
        )
        .await
    }

    /// Sets a new password and waits for the recipe to apply it.
    async fn rotate(&self, resource: &Value) -> Value {
        let rotating = self
            .act(resource, "rotate", json!({}), StatusCode::ACCEPTED)
            .await;
        assert_eq!(rotating["status"], "updating");
        let id = resource["id"].as_str().unwrap();
        let rotated = settle(&self.app, id, "ready").await;
        assert_ne!(rotated["execution_id"], resource["execution_id"]);
        rotated
    }

    /// Writes a backup, waits for it, and returns the newest backup's id.
    async fn backup(&self, resource: &Value) -> String {
        let id = resource["id"].as_str().unwrap();
        let started = self
            .act(resource, "backup", json!({}), StatusCode::ACCEPTED)
            .await;
        assert_eq!(started["status"], "updating");
        let done = settle(&self.app, id, "ready").await;
        assert_eq!(done["error"], Value::Null, "{done:#}");
        let backups = json_of(
            self.app
                .get(
                    &format!("/api/resources/{id}/backups"),
                    &self.requester.token,
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(backups[0]["kind"], "manual", "{backups}");
        backups[0]["id"].as_str().unwrap().to_owned()
    }

    /// Loads `backup` back and waits for it.
    async fn restore(&self, resource: &Value, backup: &str) {
        self.act(
            resource,
            "restore",
            json!({"backup_id": backup}),
            StatusCode::ACCEPTED,
        )
        .await;
        let done = settle(&self.app, resource["id"].as_str().unwrap(), "ready").await;
        assert_eq!(done["error"], Value::Null, "{done:#}");
    }

    /// Deletes it (a final backup first, as by default) and returns the final dump's path.
    async fn delete(&self, resource: &Value) -> String {
        let id = resource["id"].as_str().unwrap();
        let name = resource["name"].as_str().unwrap();
        self.act(resource, "delete", json!({"confirm": name}), StatusCode::OK)
            .await;
        let gone = settle(&self.app, id, "deleted").await;
        assert_eq!(gone["has_secret"], false);
        let backups = json_of(
            self.app
                .get(
                    &format!("/api/resources/{id}/backups"),
                    &self.app.admin.token,
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(backups[0]["kind"], "final", "{backups}");
        backups[0]["file"].as_str().unwrap().to_owned()
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    )
}

/// The port a service of the test host was given by an earlier run (the recipe keeps one port
/// per server's MariaDB or Redis), else a free one.
fn service_port(remembered: &str, pattern: &str) -> u16 {
    std::fs::read_to_string(remembered)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(pattern).map(|p| p.trim().to_owned()))
        })
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(common::free_port)
}

/// A requester asks for a PostgreSQL database on the team's server; an administrator approves;
/// the recipe creates a cluster, the role and the database; psql connects with the revealed
/// connection and writes a row. A new password locks the old one out; deleting drops the
/// database. Neither the password nor its verifier is in the recipe's log.
#[tokio::test]
async fn a_postgresql_database_is_requested_approved_used_rotated_and_deleted() {
    let Some(w) = world().await else {
        return;
    };
    let app = &w.app;
    let cluster = Cluster(format!(
        "pv{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    ));
    let db_port = common::free_port();
    let ready = w
        .provision(
            "db-postgresql",
            "shop",
            json!({"port": db_port, "cluster": cluster.0}),
        )
        .await;
    assert_eq!(ready["host"], "127.0.0.1");
    assert_eq!(ready["port"], db_port);
    assert_eq!(ready["database"], "shop");
    assert_eq!(
        ready["connection"],
        format!("postgres://shop@127.0.0.1:{db_port}/shop")
    );
    let created_log = log_of(app, ready["execution_id"].as_str().unwrap()).await;

    let secret = w.act(&ready, "reveal", json!({}), StatusCode::OK).await;
    let password = secret["secret"].as_str().unwrap().to_owned();
    let url = secret["connection"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("postgres://shop:{password}@127.0.0.1:{db_port}/shop")
    );
    assert_eq!(secret["env_var"], "DATABASE_URL");
    let (ok, out, err) = psql(
        &url,
        "CREATE TABLE orders (id int); INSERT INTO orders VALUES (42); SELECT id FROM orders",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "42");
    assert!(!created_log.contains(&password), "{created_log}");
    assert!(!created_log.contains("SCRAM-SHA-256$"), "{created_log}");

    let rotated = w.rotate(&ready).await;
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok, "the old password still works");
    assert!(err.contains("password authentication failed"), "{err}");
    let fresh = w.act(&ready, "reveal", json!({}), StatusCode::OK).await;
    assert_ne!(fresh["secret"], password.as_str());
    let (ok, out, err) = psql(
        fresh["connection"].as_str().unwrap(),
        "SELECT id FROM orders",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "42");
    let rotated_log = log_of(app, rotated["execution_id"].as_str().unwrap()).await;
    assert!(!rotated_log.contains(fresh["secret"].as_str().unwrap()));

    // The connection limit changes in place; the port stays as created.
    let moved = w
        .act(
            &ready,
            "resize",
            json!({"parameters": {"port": db_port + 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(
        moved["errors"]["parameters.port"][0],
        "stays as the resource was created"
    );
    w.act(
        &ready,
        "resize",
        json!({"parameters": {"connection_limit": 7}}),
        StatusCode::ACCEPTED,
    )
    .await;
    let resized = settle(app, ready["id"].as_str().unwrap(), "ready").await;
    assert_eq!(resized["error"], Value::Null, "{resized:#}");
    assert_eq!(resized["parameters"]["connection_limit"], 7);
    let limit = Command::new("runuser")
        .args([
            "-u",
            "postgres",
            "--",
            "psql",
            "-X",
            "-At",
            "-p",
            &db_port.to_string(),
            "-c",
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'shop'",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&limit.stdout).trim(), "7");
    let (ok, out, err) = psql(
        fresh["connection"].as_str().unwrap(),
        "SELECT id FROM orders",
    );
    assert!(ok, "the password survives a resize: {err}");
    assert_eq!(out, "42");

    // A backup, a row lost, the backup restored: the row is back.
    let fresh_url = fresh["connection"].as_str().unwrap();
    let backup = w.backup(&ready).await;
    let (ok, _, err) = psql(fresh_url, "DELETE FROM orders");
    assert!(ok, "{err}");
    w.restore(&ready, &backup).await;
    let (ok, out, err) = psql(fresh_url, "SELECT id FROM orders");
    assert!(ok, "{err}");
    assert_eq!(out, "42");

    let last = w.delete(&ready).await;
    assert!(
        std::path::Path::new(&last).is_file(),
        "no final dump at {last}"
    );
    let left = Command::new("runuser")
        .args([
            "-u",
            "postgres",
            "--",
            "psql",
            "-X",
            "-At",
            "-p",
            &db_port.to_string(),
            "-c",
            "SELECT count(*) FROM pg_database WHERE datname = 'shop'",
            "-c",
            "SELECT count(*) FROM pg_roles WHERE rolname = 'shop'",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0\n0");
}

/// The mariadb client as `user` with `password` on `port`: its exit status, output and error.
fn mariadb(
    port: u16,
    user: &str,
    password: &str,
    database: &str,
    sql: &str,
) -> (bool, String, String) {
    let out = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "-u",
            user,
            &format!("-p{password}"),
            "-N",
            "-B",
            database,
            "-e",
            sql,
        ])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    )
}

/// MariaDB the same way, with its own client: a row written with the revealed password, the old
/// password refused after a rotation, the database and user gone after deletion.
#[tokio::test]
async fn a_mariadb_database_is_provisioned_used_rotated_and_deleted() {
    if !std::path::Path::new("/usr/sbin/mariadbd").exists() {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but mariadb-server is missing (scripts/setup.sh)"
        );
        return;
    }
    let Some(w) = world().await else {
        return;
    };
    let port = service_port("/etc/mysql/mariadb.conf.d/90-provisio.cnf", "port =");
    let name = unique("orders");
    let ready = w
        .provision("db-mariadb", &name, json!({"port": port}))
        .await;
    assert_eq!(ready["database"], name.as_str());
    let secret = w.act(&ready, "reveal", json!({}), StatusCode::OK).await;
    let password = secret["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        secret["connection"],
        format!("mysql://{name}:{password}@127.0.0.1:{port}/{name}")
    );
    let (ok, out, err) = mariadb(
        port,
        &name,
        &password,
        &name,
        "CREATE TABLE items (id INT); INSERT INTO items VALUES (7); SELECT id FROM items",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "7");

    w.rotate(&ready).await;
    let (ok, _, err) = mariadb(port, &name, &password, &name, "SELECT 1");
    assert!(!ok && err.contains("Access denied"), "{err}");
    let fresh = w.act(&ready, "reveal", json!({}), StatusCode::OK).await;
    let (ok, out, err) = mariadb(
        port,
        &name,
        fresh["secret"].as_str().unwrap(),
        &name,
        "SELECT id FROM items",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "7");

    let fresh_password = fresh["secret"].as_str().unwrap();
    let backup = w.backup(&ready).await;
    let (ok, _, err) = mariadb(port, &name, fresh_password, &name, "DELETE FROM items");
    assert!(ok, "{err}");
    w.restore(&ready, &backup).await;
    let (ok, out, err) = mariadb(port, &name, fresh_password, &name, "SELECT id FROM items");
    assert!(ok, "{err}");
    assert_eq!(out, "7");

    let last = w.delete(&ready).await;
    assert!(
        std::path::Path::new(&last).is_file(),
        "no final dump at {last}"
    );
    let left = Command::new("mariadb")
        .args([
            "-N",
            "-B",
            "-e",
            &format!(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'; SELECT COUNT(*) FROM mysql.user WHERE user = '{name}'"
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0\n0");
}

/// redis-cli with `url` and `args`: its output.
fn redis(url: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["--no-auth-warning", "-u", url])
        .args(args)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// Redis with its own client: the revealed URL writes under the resource's prefix and nowhere
/// else; the old password is refused after a rotation; a backup brings a deleted key back and
/// drops one written since; deletion removes the user and its keys.
#[tokio::test]
async fn a_redis_user_is_provisioned_kept_to_its_prefix_rotated_and_deleted() {
    if !std::path::Path::new("/usr/bin/redis-server").exists() {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but redis-server is missing (scripts/setup.sh)"
        );
        return;
    }
    let Some(w) = world().await else {
        return;
    };
    let port = service_port("/etc/redis/provisio-owners/port", "");
    let name = unique("cache");
    let ready = w.provision("db-redis", &name, json!({"port": port})).await;
    assert_eq!(ready["database"], Value::Null);
    let secret = w.act(&ready, "reveal", json!({}), StatusCode::OK).await;
    let url = secret["connection"].as_str().unwrap().to_owned();
    assert_eq!(secret["env_var"], "REDIS_URL");
    assert_eq!(
        url,
        format!(
            "redis://{name}:{}@127.0.0.1:{port}/0",
            secret["secret"].as_str().unwrap()
        )
    );
    let key = format!("{name}:greeting");
    assert_eq!(redis(&url, &["SET", &key, "hello"]), "OK");
    assert!(redis(&url, &["SET", "elsewhere", "x"]).contains("NOPERM"));

    w.rotate(&ready).await;
    assert!(redis(&url, &["GET", &key]).contains("WRONGPASS"));
    let fresh = w.act(&ready, "reveal", json!({}), StatusCode::OK).await;
    assert_eq!(
        redis(fresh["connection"].as_str().unwrap(), &["GET", &key]),
        "hello"
    );

    // A backup, the key lost and another written, the backup restored: the keys are as they were.
    let fresh_url = fresh["connection"].as_str().unwrap();
    let backup = w.backup(&ready).await;
    let later = format!("{name}:later");
    assert_eq!(redis(fresh_url, &["DEL", &key]), "1");
    assert_eq!(redis(fresh_url, &["SET", &later, "x"]), "OK");
    w.restore(&ready, &backup).await;
    assert_eq!(redis(fresh_url, &["GET", &key]), "hello");
    assert_eq!(redis(fresh_url, &["EXISTS", &later]), "0");

    let last = w.delete(&ready).await;
    assert!(
        std::path::Path::new(&last).is_file(),
        "no final dump at {last}"
    );
    let admin = format!("redis://127.0.0.1:{port}/0");
    assert_eq!(redis(&admin, &["EXISTS", &key]), "0");
    assert!(!redis(&admin, &["ACL", "USERS"]).contains(&name));
}

/// Python's sqlite3 on `file` as `nobody`, in `group` when given: its exit status and output.
fn sqlite_as_nobody(group: Option<&str>, file: &str, sql: &str) -> (bool, String) {
    let mut args = vec!["-u", "nobody"];
    if let Some(g) = group {
        args.extend(["-g", g]);
    }
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nrows = c.execute(sys.argv[2]).fetchall()\nc.commit()\nprint(','.join(str(r[0]) for r in rows))";
    let out = Command::new("runuser")
        .args(&args)
        .args(["--", "python3", "-c", script, file, sql])
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    )
}

/// A SQLite file in a folder only its group may enter: a member writes a row, anyone else is
/// refused; a backup brings a deleted row back; deleting removes the folder, its group too, and
/// leaves the final copy.
#[tokio::test]
async fn a_sqlite_file_is_kept_to_its_group_backed_up_restored_and_deleted() {
    let Some(w) = world().await else {
        return;
    };
    let name = unique("notes");
    let ready = w.provision("db-sqlite", &name, json!({})).await;
    let file = format!("/var/lib/provisio-resources/{name}/{name}.sqlite3");
    assert_eq!(ready["database"], file.as_str());
    assert_eq!(ready["connection"], format!("sqlite://{file}"));
    assert_eq!(ready["has_secret"], false);
    w.act(&ready, "reveal", json!({}), StatusCode::CONFLICT)
        .await;
    w.act(&ready, "rotate", json!({}), StatusCode::CONFLICT)
        .await;
    let group = format!("pvr-{name}");
    let (ok, out) = sqlite_as_nobody(Some(&group), &file, "CREATE TABLE notes (body TEXT)");
    assert!(ok, "{out}");
    let (ok, out) = sqlite_as_nobody(Some(&group), &file, "INSERT INTO notes VALUES ('kept')");
    assert!(ok, "{out}");
    let (ok, out) = sqlite_as_nobody(None, &file, "SELECT body FROM notes");
    assert!(!ok && out.contains("unable to open"), "{out}");

    let backup = w.backup(&ready).await;
    let (ok, out) = sqlite_as_nobody(Some(&group), &file, "DELETE FROM notes");
    assert!(ok, "{out}");
    w.restore(&ready, &backup).await;
    let (ok, out) = sqlite_as_nobody(Some(&group), &file, "SELECT body FROM notes");
    assert!(ok, "{out}");
    assert_eq!(out, "kept");

    let last = w.delete(&ready).await;
    assert!(
        std::path::Path::new(&last).is_file(),
        "no final copy at {last}"
    );
    assert!(!std::path::Path::new(&file).exists());
    let groups = std::fs::read_to_string("/etc/group").unwrap();
    assert!(!groups.contains(&group), "the group stays");
}

/// What `exportfs -v` lists on the test host.
fn exports() -> String {
    let out = Command::new("exportfs").arg("-v").output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An NFS export: the clients are checked, the export and its /etc/fstab line are there, a backup
/// brings a removed file back, and deleting ends the export and removes the folder.
#[tokio::test]
async fn an_nfs_export_is_made_backed_up_restored_and_removed() {
    if !std::path::Path::new("/usr/sbin/exportfs").exists() {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but nfs-kernel-server is missing (scripts/setup.sh)"
        );
        return;
    }
    let Some(w) = world().await else {
        return;
    };
    let name = unique("media");
    let refused = json_of(
        w.app
            .post(
                "/api/resources",
                &w.requester.token,
                json!({"team_id": w.team, "resource_type": "storage-nfs", "name": name,
                       "server_id": w.server, "purpose": "images",
                       "parameters": {"clients": "everyone"}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        refused["errors"]["parameters.clients"][0],
        "must be *, an IP address or a network such as 10.0.0.0/8"
    );
    let ready = w
        .provision("storage-nfs", &name, json!({"clients": "127.0.0.0/8"}))
        .await;
    let folder = format!("/srv/nfs/{name}");
    assert_eq!(
        ready["connection"],
        format!("127.0.0.1:{folder} /mnt/{name} nfs defaults,_netdev 0 0")
    );
    let listed = exports();
    assert!(
        listed.contains(&folder) && listed.contains("127.0.0.0/8"),
        "{listed}"
    );
    std::fs::write(format!("{folder}/cover.txt"), "a picture").unwrap();
    let backup = w.backup(&ready).await;
    std::fs::remove_file(format!("{folder}/cover.txt")).unwrap();
    w.restore(&ready, &backup).await;
    assert_eq!(
        std::fs::read_to_string(format!("{folder}/cover.txt")).unwrap(),
        "a picture"
    );
    let last = w.delete(&ready).await;
    assert!(
        std::path::Path::new(&last).is_file(),
        "no final archive at {last}"
    );
    assert!(!exports().contains(&folder));
    assert!(!std::path::Path::new(&folder).exists());
}

/// A resource asked for with a new server: the request names no server but a new one, and is
/// refused with a field message when it names both or the team has no account for new servers.
/// Rejecting the server request rejects a resource waiting for it, with the reason; cancelling a
/// resource withdraws its server request. Approved, one approval covers both: the Proxmox fake
/// builds the server (the sshd test host), the recipe waits for it and then makes a SQLite file
/// there, and the resource names the new server.
#[tokio::test]
async fn a_resource_on_a_new_server_waits_for_it_and_follows_its_request() {
    let Some(w) = world().await else {
        return;
    };
    let Some(f) = common::guests::pve() else {
        return;
    };
    let (port, _) = host().unwrap();
    common::guests::authorize_service_key(&w.app).await;
    let ask = |name: &str, new_server: Value| {
        json!({"team_id": w.team, "resource_type": "db-sqlite", "name": name,
               "new_server": new_server, "purpose": "the shop's notes"})
    };
    let problem = json_of(
        w.app
            .post(
                "/api/resources",
                &w.requester.token,
                ask("notes", json!({})),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["new_server.provider_account_id"][0]
            .as_str()
            .unwrap()
            .contains("no default account"),
        "{problem:#}"
    );
    let mut both = ask("notes", json!({}));
    both["server_id"] = json!(w.server);
    let problem = json_of(
        w.app.post("/api/resources", &w.requester.token, both).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["new_server"].is_array(), "{problem:#}");

    let account =
        common::guests::pve_account(&w.app, port, &f, "Resource hosts", &["debian-12"]).await;
    json_of(
        w.app
            .patch(
                &format!("/api/teams/{}", w.team),
                &w.app.admin.token,
                json!({"default_provider_account_id": account}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let asked = |name: String| {
        let body = ask(&name, json!({"cpu": 1, "ram_mb": 1024, "disk_gb": 10}));
        let w = &w;
        async move {
            let made = json_of(
                w.app.post("/api/resources", &w.requester.token, body).await,
                StatusCode::CREATED,
            )
            .await;
            assert_eq!(made["server"], Value::Null, "{made:#}");
            assert_eq!(made["server_request"]["status"], "pending", "{made:#}");
            assert_eq!(
                made["server_request"]["hostname"],
                name.replace('_', "-"),
                "{made:#}"
            );
            made
        }
    };

    // The server request refused: the resource waiting for approval is refused with it.
    let refused = asked(unique("refused")).await;
    let request = refused["server_request"]["id"].as_str().unwrap();
    json_of(
        w.app
            .post(
                &format!("/api/requests/{request}/reject"),
                &w.app.admin.token,
                json!({"reason": "no room on the cluster"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let id = refused["id"].as_str().unwrap();
    let after = settle(&w.app, id, "rejected").await;
    assert!(
        after["rejection_reason"]
            .as_str()
            .unwrap()
            .contains("no room on the cluster"),
        "{after:#}"
    );

    // The resource withdrawn: its server request is withdrawn with it.
    let withdrawn = asked(unique("withdrawn")).await;
    let id = withdrawn["id"].as_str().unwrap();
    json_of(
        w.app
            .post(
                &format!("/api/resources/{id}/cancel"),
                &w.requester.token,
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let request = withdrawn["server_request"]["id"].as_str().unwrap();
    let server_request = json_of(
        w.app
            .get(&format!("/api/requests/{request}"), &w.requester.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        server_request["request"]["status"], "cancelled",
        "{server_request:#}"
    );

    // Approved: the same approval approves the server, which is built, then the recipe runs.
    let name = unique("notes");
    let made = asked(name.clone()).await;
    let id = made["id"].as_str().unwrap();
    json_of(
        w.app
            .post(
                &format!("/api/resources/{id}/approve"),
                &w.app.admin.token,
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let ready = settle(&w.app, id, "ready").await;
    assert_eq!(ready["server"]["name"], name.replace('_', "-"), "{ready:#}");
    assert_eq!(ready["server_request"], Value::Null);
    let file = format!("/var/lib/provisio-resources/{name}/{name}.sqlite3");
    assert_eq!(ready["database"], file.as_str());
    assert!(std::path::Path::new(&file).is_file(), "no {file}");
    let log = log_of(&w.app, ready["execution_id"].as_str().unwrap()).await;
    assert!(log.contains("waiting for"), "{log}");
    w.delete(&ready).await;
    assert!(!std::path::Path::new(&file).exists());
}
