//! Idempotent seeding: the Global team and the resource-type catalog on every start,
//! demo accounts only with `--demo`. Running any of it twice changes nothing.

use crate::auth::RequestContext;
use crate::domain::teams::{GLOBAL_TEAM_NAME, GLOBAL_TEAM_SLUG};
use crate::domain::users;
use crate::entities::{resource_types, teams, users as user_rows};
use crate::error::ApiError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::dto::{CreateUser, ResourceCategory};
use shared::resources::Provisioning;
use shared::Role;
use uuid::Uuid;

pub const RESOURCE_TYPES: [(&str, &str, ResourceCategory, &str); 14] = [
    (
        "storage-iscsi",
        "iSCSI",
        ResourceCategory::Storage,
        "Block storage over iSCSI targets",
    ),
    (
        "storage-nfs",
        "NFS",
        ResourceCategory::Storage,
        "Network file system shares",
    ),
    (
        "storage-scsi",
        "SCSI",
        ResourceCategory::Storage,
        "Directly attached SCSI disks",
    ),
    (
        "storage-sas",
        "SAS",
        ResourceCategory::Storage,
        "Serial-attached SCSI disk shelves",
    ),
    (
        "storage-san",
        "SAN",
        ResourceCategory::Storage,
        "Fibre Channel storage area network",
    ),
    (
        "storage-ceph",
        "Ceph",
        ResourceCategory::Storage,
        "Distributed Ceph block and object storage",
    ),
    (
        "db-mariadb",
        "MariaDB",
        ResourceCategory::Database,
        "Single MariaDB server",
    ),
    (
        "db-galera",
        "Galera cluster",
        ResourceCategory::Database,
        "Multi-primary MariaDB Galera cluster",
    ),
    (
        "db-postgresql",
        "PostgreSQL",
        ResourceCategory::Database,
        "PostgreSQL server",
    ),
    (
        "db-redis",
        "Redis",
        ResourceCategory::Database,
        "Redis in-memory store",
    ),
    (
        "db-valkey",
        "Valkey",
        ResourceCategory::Database,
        "Valkey in-memory store",
    ),
    (
        "db-sqlite",
        "SQLite",
        ResourceCategory::Database,
        "Embedded SQLite database file",
    ),
    (
        "bigdata-hadoop",
        "Hadoop",
        ResourceCategory::Bigdata,
        "Hadoop HDFS and YARN cluster",
    ),
    (
        "bigdata-trino",
        "Trino",
        ResourceCategory::Bigdata,
        "Trino distributed SQL engine",
    ),
];

/// The recipe a shipped type is provided by on a fresh install (the migration that introduced
/// recipes set the same on existing ones); the rest are fulfilled by hand until a recipe for them
/// is verified.
pub fn shipped_recipe(slug: &str) -> Option<&'static str> {
    match slug {
        "db-postgresql" => Some("postgresql"),
        "db-mariadb" => Some("mariadb"),
        "db-redis" => Some("redis"),
        "db-sqlite" => Some("sqlite"),
        "storage-nfs" => Some("nfs"),
        _ => None,
    }
}

pub fn category_name(c: ResourceCategory) -> &'static str {
    match c {
        ResourceCategory::Storage => "storage",
        ResourceCategory::Database => "database",
        ResourceCategory::Bigdata => "bigdata",
    }
}

pub fn parse_category(s: &str) -> ResourceCategory {
    match s {
        "storage" => ResourceCategory::Storage,
        "database" => ResourceCategory::Database,
        _ => ResourceCategory::Bigdata,
    }
}

/// Runs on every start; concurrent starts on one PostgreSQL are safe through ON CONFLICT DO NOTHING.
pub async fn seed_baseline(db: &DatabaseConnection) -> Result<(), DbErr> {
    let global = teams::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(GLOBAL_TEAM_NAME.into()),
        slug: Set(GLOBAL_TEAM_SLUG.into()),
        description: Set("Default team every account belongs to unless placed elsewhere".into()),
        is_global: Set(true),
        default_provider_account_id: Set(None),
        created_at: Set(chrono::Utc::now()),
    };
    teams::Entity::insert(global)
        .on_conflict(
            OnConflict::column(teams::Column::Slug)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    let rows = RESOURCE_TYPES
        .iter()
        .map(
            |(slug, name, category, description)| resource_types::ActiveModel {
                id: Set(Uuid::new_v4()),
                slug: Set((*slug).into()),
                name: Set((*name).into()),
                category: Set(category_name(*category).into()),
                description: Set((*description).into()),
                provisioning: Set(match shipped_recipe(slug) {
                    Some(_) => Provisioning::Recipe.as_str().into(),
                    None => Provisioning::Manual.as_str().into(),
                }),
                recipe: Set(shipped_recipe(slug).map(str::to_owned)),
                retired_at: Set(None),
                built_in: Set(true),
            },
        );
    resource_types::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(resource_types::Column::Slug)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    crate::domain::scripts::seed_samples(db).await?;
    Ok(())
}

pub struct DemoAccount {
    pub username: &'static str,
    pub role: Role,
    /// Present only when this run created the account.
    pub password: Option<String>,
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Demo provider accounts with catalogs, so requests can be filed right away.
pub async fn seed_demo_providers(db: &DatabaseConnection) -> Result<(), DbErr> {
    use crate::entities::provider_accounts;
    let now = chrono::Utc::now();
    let rows = [
        (
            "Hetzner Cloud (demo)",
            "hetzner",
            "https://api.hetzner.cloud/v1",
            demo_hetzner_catalog(),
        ),
        (
            "Proxmox lab (demo)",
            "proxmox",
            "https://pve.lab.internal:8006/api2/json",
            demo_proxmox_catalog(),
        ),
    ]
    .into_iter()
    .map(
        |(name, kind, endpoint, catalog)| provider_accounts::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set(name.into()),
            kind: Set(kind.into()),
            endpoint: Set(endpoint.into()),
            catalog: Set(serde_json::to_value(catalog).unwrap_or_default()),
            settings: Set(None),
            credentials: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            last_tested_at: Set(None),
            last_test_ok: Set(None),
        },
    );
    provider_accounts::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(provider_accounts::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    Ok(())
}

/// A sample client of the Global team with a monthly subscription (once: the company name is
/// unique per team).
pub async fn seed_demo_client(db: &DatabaseConnection) -> Result<(), DbErr> {
    use crate::entities::{clients, subscriptions};
    let Some(global) = crate::domain::teams::global_team(db).await? else {
        return Ok(());
    };
    let now = chrono::Utc::now();
    let client_id = Uuid::new_v4();
    let inserted = clients::Entity::insert(clients::ActiveModel {
        id: Set(client_id),
        team_id: Set(global.id),
        company: Set("Acme Demo GmbH".into()),
        contacts: Set(
            serde_json::json!([{"name": "Ada Example", "email": "ada@acme.example", "phone": ""}]),
        ),
        billing_email: Set("billing@acme.example".into()),
        notes: Set("Sample client seeded by --demo.".into()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([clients::Column::TeamId, clients::Column::Company])
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
        return Ok(());
    }
    let today = now.date_naive();
    subscriptions::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(global.id),
        client_id: Set(client_id),
        plan_name: Set("Managed VM".into()),
        period_months: Set(1),
        monthly_price_cents: Set(4900),
        currency: Set("EUR".into()),
        start_date: Set(today - chrono::Duration::days(60)),
        end_date: Set(shared::billing::add_months(today, 1)),
        auto_renew: Set(true),
        status: Set("active".into()),
        notice_days: Set(14),
        power_off_after_days: Set(None),
        owner_id: Set(None),
        notified_for: Set(None),
        powered_off_at: Set(None),
        stopped_on: Set(None),
        server_ids: Set(serde_json::json!([])),
        deployment_ids: Set(serde_json::json!([])),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Demo accounts, one per role, each with a fresh random password returned once.
pub async fn seed_demo(db: &DatabaseConnection) -> Result<Vec<DemoAccount>, ApiError> {
    let context = RequestContext {
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        request_id: None,
    };
    seed_demo_providers(db).await?;
    seed_demo_client(db).await?;
    // Demo people work in the Global team, where the sample client and playbooks live.
    let global: Vec<Uuid> = crate::domain::teams::global_team(db)
        .await?
        .map(|t| t.id)
        .into_iter()
        .collect();
    let mut accounts = Vec::new();
    for (username, role, full_name) in [
        ("admin", Role::Admin, "Demo Administrator"),
        ("technical", Role::TechnicalAgent, "Demo Technical Agent"),
        ("sales", Role::SalesAgent, "Demo Sales Agent"),
        ("requester", Role::Requester, "Demo Requester"),
    ] {
        let exists = user_rows::Entity::find()
            .filter(user_rows::Column::Username.eq(username))
            .one(db)
            .await?
            .is_some();
        let password = if exists {
            None
        } else {
            let password = random_password();
            users::create(
                db,
                &context,
                None,
                CreateUser {
                    username: username.into(),
                    email: format!("{username}@demo.provisio.local"),
                    full_name: full_name.into(),
                    password: password.clone(),
                    roles: vec![role],
                    team_ids: global.clone(),
                },
                users::Admission::READY,
            )
            .await?;
            Some(password)
        };
        accounts.push(DemoAccount {
            username,
            role,
            password,
        });
    }
    Ok(accounts)
}

/// The catalog of the demo Hetzner account: public list prices of a few shared-vCPU types.
fn demo_hetzner_catalog() -> shared::providers::Catalog {
    use shared::providers::ServerTypeOffer;
    let offer = |name: &str, cpu, ram_mb, disk_gb, cents| ServerTypeOffer {
        name: name.into(),
        cpu,
        ram_mb,
        disk_gb,
        monthly_price_cents: Some(cents),
    };
    shared::providers::Catalog {
        currency: "EUR".into(),
        locations: vec!["fsn1".into(), "nbg1".into(), "hel1".into()],
        images: vec!["debian-12".into(), "ubuntu-24.04".into()],
        server_types: vec![
            offer("cx22", 2, 4096, 40, 459),
            offer("cx32", 4, 8192, 80, 799),
            offer("cx42", 8, 16384, 160, 1899),
        ],
        custom_limits: None,
        unit_prices: None,
    }
}

/// The catalog of the demo Proxmox account: custom sizes within limits, internal unit prices.
fn demo_proxmox_catalog() -> shared::providers::Catalog {
    use shared::providers::{SizeLimits, UnitPrices};
    shared::providers::Catalog {
        currency: "EUR".into(),
        locations: vec!["pve1".into()],
        images: vec![
            "debian-12-cloudinit".into(),
            "ubuntu-24.04-cloudinit".into(),
        ],
        server_types: vec![],
        custom_limits: Some(SizeLimits {
            max_cpu: 16,
            max_ram_mb: 65536,
            max_disk_gb: 1000,
        }),
        unit_prices: Some(UnitPrices {
            cpu_cents: 300,
            ram_gb_cents: 150,
            disk_gb_cents: 5,
        }),
    }
}
