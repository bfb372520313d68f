//! `provisio rotate-master-key`: every kind of sealed value re-sealed with a new key, an
//! interrupted rotation leaves everything readable, re-running changes nothing, `--finish` drops
//! the old key only when nothing needs it, and a server started afterwards uses the new key.

mod common;

use api::entities::{
    deployments, executions, projects, provider_accounts, schedules, ssh_keys, webhooks,
};
use api::keys::Keys;
use common::{spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SECRET_SCRIPT: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: Use the token
      ansible.builtin.debug:
        msg: "the token has {{ token | length }} characters"
"#;

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

fn unique(label: &str) -> String {
    format!("{label}-{}", uuid::Uuid::new_v4().simple())
}

/// Every sealed value in the database, by where it lives.
async fn sealed_values(db: &DatabaseConnection) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for row in provider_accounts::Entity::find().all(db).await.unwrap() {
        if let Some(v) = row.credentials {
            found.insert(format!("provider account {}", row.name), v);
        }
    }
    for row in webhooks::Entity::find().all(db).await.unwrap() {
        found.insert(format!("webhook {}", row.name), row.secret);
    }
    for row in projects::Entity::find().all(db).await.unwrap() {
        if let Some(v) = row.deploy_key {
            found.insert(format!("project {}", row.name), v);
        }
    }
    for row in ssh_keys::Entity::find().all(db).await.unwrap() {
        if let Some(v) = row.private_key {
            found.insert(format!("ssh key {}", row.name), v);
        }
    }
    for row in deployments::Entity::find().all(db).await.unwrap() {
        let env: BTreeMap<String, String> =
            serde_json::from_str(row.env.as_deref().unwrap_or("{}")).unwrap();
        for (name, v) in env {
            found.insert(format!("deployment {} {name}", row.name), v);
        }
    }
    for row in schedules::Entity::find().all(db).await.unwrap() {
        for (name, v) in row.variables.as_object().unwrap() {
            if let Some(sealed) = v.get("$sealed") {
                let label = format!("schedule {} {name}", row.id);
                found.insert(label, sealed.as_str().unwrap().to_owned());
            }
        }
    }
    for row in executions::Entity::find().all(db).await.unwrap() {
        for (name, v) in row.variables.iter().flat_map(|v| v.as_object().unwrap()) {
            if let Some(sealed) = v.get("$sealed") {
                let label = format!("execution {} {name}", row.id);
                found.insert(label, sealed.as_str().unwrap().to_owned());
            }
        }
    }
    found
}

fn open_all(keys: &Keys, sealed: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    sealed
        .iter()
        .map(|(what, v)| {
            let plain = keys
                .open(v)
                .unwrap_or_else(|e| panic!("{what} does not open: {e}"));
            (what.clone(), plain)
        })
        .collect()
}

fn only(master_key: &[u8]) -> Keys {
    Keys {
        jwt_secret: vec![0; 32],
        master_key: master_key.to_vec(),
        previous_master_keys: vec![],
    }
}

fn provisio(app: &TestApp, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_provisio"))
        .args(args)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("PROVISIO_KEY_FILE", &app.state.config.key_file)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "provisio {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// One value of every kind, through the API where the API makes them. Answers the Hetzner account
/// (its token is the fake's) and the plaintexts the test chose.
async fn seal_one_of_each(app: &TestApp) -> (String, Vec<String>) {
    let hcloud_url = std::env::var("PROVISIO_HCLOUD_URL").expect("source /tmp/rt/fakes.env");
    let hcloud_token = std::env::var("PROVISIO_HCLOUD_TOKEN").unwrap();
    let admin = &app.admin.token;
    let hetzner = json_of(
        app.post(
            "/api/provider-accounts",
            admin,
            json!({"name": "hetzner", "kind": "hetzner", "endpoint": hcloud_url,
                   "catalog": {"currency": "EUR", "locations": ["abilian"], "images": ["debian-13"],
                               "server_types": [{"name": "small", "cpu": 1, "ram_mb": 2048, "disk_gb": 20, "monthly_price_cents": 400}]},
                   "credentials": {"api_token": hcloud_token}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let private_key_body = unique("uploaded-key");
    let private_key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{private_key_body}\n-----END OPENSSH PRIVATE KEY-----\n"
    );
    let hosts = ssh_hosts_account(app, &private_key).await;
    let hook_secret = unique("hook-secret");
    json_of(
        app.post(
            "/api/webhooks",
            admin,
            json!({"name": "hook", "url": "http://127.0.0.1:9/hook", "secret": hook_secret}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let team = app.create_team("Rotators").await;
    let deploy_key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        unique("deploy-key")
    );
    let project = json_of(
        app.post(
            "/api/projects",
            admin,
            json!({"name": "shop", "url": "https://git.example.com/shop.git", "team_id": team,
                   "deploy_key": deploy_key}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = common::insert_server(app, &team, &hosts, "web-1", "web-1").await;
    let env_value = unique("env-value");
    json_of(
        app.post(
            "/api/deploy",
            admin,
            json!({"name": "shop", "project_id": project, "server_id": server,
                   "framework": "flask", "env": {"GREETING": env_value}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let script = json_of(
        app.post(
            "/api/scripts",
            admin,
            json!({"name": "token user", "content": SECRET_SCRIPT,
                   "variables": [{"name": "token", "kind": "secret", "required": true}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let token = unique("script-token");
    json_of(
        app.post(
            &format!("/api/scripts/{}/run", script["id"].as_str().unwrap()),
            admin,
            json!({"server_ids": [server], "variables": {"token": token}}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    add_backup_passphrase(app).await;
    let passphrase = unique("backup-passphrase");
    json_of(
        app.post(
            &format!("/api/servers/{server}/schedules"),
            admin,
            json!({"operation": "backup", "cron": "0 3 * * *",
                   "variables": {"archive_passphrase": passphrase}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    api::domain::ssh_keys::service_key(&app.state)
        .await
        .unwrap();
    (
        hetzner,
        vec![
            private_key_body,
            hook_secret,
            deploy_key,
            env_value,
            token,
            passphrase,
        ],
    )
}

/// An SSH-hosts provider account named "hosts" holding `private_key`; answers its id.
async fn ssh_hosts_account(app: &TestApp, private_key: &str) -> String {
    json_of(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "hosts", "kind": "ssh", "endpoint": "",
                   "catalog": {"currency": "EUR", "locations": [], "images": []},
                   "credentials": {"private_key": private_key}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A new version of the shipped Backup script that also takes a secret `archive_passphrase`.
async fn add_backup_passphrase(app: &TestApp) {
    let admin = &app.admin.token;
    let list = json_of(
        app.get("/api/scripts?per_page=100", admin).await,
        StatusCode::OK,
    )
    .await;
    let backup = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Backup")
        .expect("the shipped Backup script")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = json_of(
        app.get(&format!("/api/scripts/{backup}"), admin).await,
        StatusCode::OK,
    )
    .await;
    let mut variables = detail["current"]["variables"].as_array().unwrap().clone();
    variables.push(json!({"name": "archive_passphrase", "kind": "secret", "required": false}));
    json_of(
        app.put(
            &format!("/api/scripts/{backup}"),
            admin,
            json!({"name": "Backup", "content": detail["current"]["content"], "variables": variables}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// The plain value of a schedule's stored secret variable.
async fn schedule_secret(app: &TestApp, id: &str, name: &str) -> String {
    let row = schedules::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.variables[name]["$sealed"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not sealed: {}", row.variables));
    app.keys.open(sealed).unwrap()
}

#[tokio::test]
async fn schedule_secrets_are_sealed_masked_kept_when_sent_back_masked_and_opened_when_fired() {
    // No workers: the test fires the schedule itself and looks at the run it enqueued.
    let app = spawn_app_with(Options::default()).await;
    let admin = &app.admin.token;
    let hosts = ssh_hosts_account(
        &app,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .await;
    let team = app.create_team("Keepers").await;
    let server = common::insert_server(&app, &team, &hosts, "db-1", "db-1").await;
    add_backup_passphrase(&app).await;

    let first = unique("first-passphrase");
    let created = json_of(
        app.post(
            &format!("/api/servers/{server}/schedules"),
            admin,
            json!({"operation": "backup", "cron": "0 3 * * *",
                   "variables": {"paths": "/etc", "archive_passphrase": first}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["variables"]["archive_passphrase"], "********");
    assert_eq!(created["variables"]["paths"], "/etc");
    let listed = json_of(
        app.get(&format!("/api/servers/{server}/schedules"), admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed[0]["variables"]["archive_passphrase"], "********");
    assert!(!listed.to_string().contains(&first));
    let rows = schedules::Entity::find().all(&app.db).await.unwrap();
    assert!(
        !rows[0].variables.to_string().contains(&first),
        "the passphrase is stored in clear: {}",
        rows[0].variables
    );
    assert_eq!(
        schedule_secret(&app, &id, "archive_passphrase").await,
        first
    );

    // An edit form sends the mask back: the stored passphrase stays, the other change lands.
    let edited = json_of(
        app.put(
            &format!("/api/schedules/{id}"),
            admin,
            json!({"operation": "backup", "cron": "0 4 * * *",
                   "variables": {"paths": "/srv", "archive_passphrase": "********"}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["variables"]["paths"], "/srv");
    assert_eq!(edited["variables"]["archive_passphrase"], "********");
    assert_eq!(
        schedule_secret(&app, &id, "archive_passphrase").await,
        first
    );

    let second = unique("second-passphrase");
    json_of(
        app.put(
            &format!("/api/schedules/{id}"),
            admin,
            json!({"operation": "backup", "cron": "0 4 * * *",
                   "variables": {"paths": "/srv", "archive_passphrase": second}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        schedule_secret(&app, &id, "archive_passphrase").await,
        second
    );

    // Fired, the run gets the passphrase itself (sealed again in the execution), not the mask.
    {
        use sea_orm::{sea_query::Expr, ColumnTrait, QueryFilter};
        schedules::Entity::update_many()
            .col_expr(
                schedules::Column::NextRunAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
            )
            .filter(schedules::Column::Id.eq(id.parse::<uuid::Uuid>().unwrap()))
            .exec(&app.db)
            .await
            .unwrap();
    }
    assert_eq!(api::domain::maintenance::tick(&app.state).await.unwrap(), 1);
    let runs = executions::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(runs.len(), 1);
    let variables = runs[0].variables.clone().unwrap();
    assert_eq!(variables["paths"], "/srv");
    let sealed = variables["archive_passphrase"]["$sealed"].as_str().unwrap();
    assert_eq!(app.keys.open(sealed).unwrap(), second);
}

#[tokio::test]
async fn rotation_reseals_every_value_survives_interruption_and_the_restarted_server_uses_the_new_key(
) {
    // No workers: the queued jobs stay queued and nothing but the test writes sealed values.
    let app = spawn_app_with(Options::default()).await;
    let key_file = app.state.config.key_file.clone();
    let (hetzner, chosen) = seal_one_of_each(&app).await;

    let before = sealed_values(&app.db).await;
    assert_eq!(
        before.len(),
        8,
        "one value of each kind: {:?}",
        before.keys()
    );
    let old_key = Keys::load(&key_file).unwrap().master_key;
    let plaintexts = open_all(&only(&old_key), &before);
    for secret in &chosen {
        assert!(
            plaintexts.values().any(|p| p.contains(secret.as_str())),
            "{secret} is not among the sealed values"
        );
    }

    // A value no key opens, in the table rotated last: the rotation fails after re-sealing the
    // others inside its transaction, so nothing of it may stay.
    let stranger = api::crypto::seal(&[9u8; 32], "sealed elsewhere").unwrap();
    let poisoned = uuid::Uuid::new_v4();
    let mut copy = executions::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model()
        .reset_all();
    copy.id = Set(poisoned);
    copy.variables = Set(Some(json!({"token": {"$sealed": stranger}})));
    copy.insert(&app.db).await.unwrap();
    let failed = api::domain::key_rotation::rotate(&app.db, &key_file)
        .await
        .unwrap_err();
    assert!(
        format!("{failed:#}").contains(&format!("execution {poisoned}")),
        "{failed:#}"
    );
    let pending = Keys::load(&key_file).unwrap();
    assert_eq!(pending.previous_master_keys, vec![old_key.clone()]);
    assert_ne!(pending.master_key, old_key);
    assert_eq!(mode_of(&key_file), 0o600);
    let mut after_failure = sealed_values(&app.db).await;
    after_failure.retain(|what, _| !what.contains(&poisoned.to_string()));
    assert_eq!(after_failure, before, "the failed rotation changed no row");
    assert_eq!(open_all(&pending, &after_failure), plaintexts);
    assert!(
        api::domain::key_rotation::finish(&app.db, &key_file)
            .await
            .is_err(),
        "the old key cannot go while values need it"
    );

    // Fixed, the rotation resumes with the key it already wrote.
    executions::Entity::delete_by_id(poisoned)
        .exec(&app.db)
        .await
        .unwrap();
    let out = provisio(&app, &["rotate-master-key"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("resumed the pending rotation"), "{stdout}");
    assert!(
        stdout.contains("provider credentials: 2 re-sealed, 0 already current"),
        "{stdout}"
    );
    assert!(
        stdout.contains("secret script variables: 1 re-sealed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("secret schedule variables: 1 re-sealed"),
        "{stdout}"
    );
    let rotated = Keys::load(&key_file).unwrap();
    assert_eq!(rotated.master_key, pending.master_key);
    let resealed = sealed_values(&app.db).await;
    assert_eq!(
        resealed.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert_eq!(open_all(&only(&rotated.master_key), &resealed), plaintexts);
    for (what, sealed) in &resealed {
        assert!(
            api::crypto::open(&old_key, sealed).is_err(),
            "{what} still opens with the old key"
        );
    }

    // Again: nothing to do, nothing changes.
    let report = api::domain::key_rotation::rotate(&app.db, &key_file)
        .await
        .unwrap();
    assert!(!report.generated_key);
    assert!(report.tallies.iter().all(|t| t.resealed == 0), "{report:?}");
    assert_eq!(
        report.tallies.iter().map(|t| t.current).sum::<u64>(),
        before.len() as u64
    );
    assert_eq!(sealed_values(&app.db).await, resealed);

    let out = provisio(&app, &["rotate-master-key", "--finish"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("dropped 1 previous master key"));
    let finished = Keys::load(&key_file).unwrap();
    assert!(finished.previous_master_keys.is_empty());
    assert_eq!(finished.master_key, rotated.master_key);
    assert_eq!(finished.jwt_secret, app.keys.jwt_secret, "sessions survive");
    assert_eq!(mode_of(&key_file), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(key_file.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The running server still holds the old key alone: it can no longer open the credentials.
    let stale = app
        .post(
            &format!("/api/provider-accounts/{hetzner}/test"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_ne!(stale.status(), StatusCode::OK);
    // Restarted with the key file, it can.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let restarted = api::server::startup::Application::with_listener(
        (*app.state.config).clone(),
        Keys::load(&key_file).unwrap(),
        app.db.clone(),
        listener,
    )
    .unwrap();
    let address = format!("http://127.0.0.1:{}", restarted.port());
    tokio::spawn(restarted.run_until_stopped());
    let report = json_of(
        app.client
            .post(format!("{address}/api/provider-accounts/{hetzner}/test"))
            .bearer_auth(&app.admin.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["ok"], true, "{report:#}");
}
