//! Schema migrations, applied by `provisio serve` and `provisio migrate` on SQLite and PostgreSQL.
//! One migration per file: sea-orm names a migration after its file.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_accounts;
mod m20261125_000002_catalog;
mod m20261125_000003_requests;
mod m20261125_000004_servers;
mod m20261125_000005_ansible;
mod m20261125_000006_projects;
mod m20261126_000007_deployments;
mod m20261126_000008_billing;
mod m20261126_000009_live_changes;
mod m20261126_000010_list_indexes;
mod m20261126_000011_batched_live_changes;
mod m20261126_000012_job_lease_index;
mod m20261126_000013_queue_autovacuum;
mod m20261127_000014_cache_changes;
mod m20261206_000015_no_cache_changes;
mod m20261206_000016_listing_indexes;
mod m20261206_000017_deployment_counts;
mod m20261206_000018_log_stages;
mod m20261206_000019_team_default_account;
mod m20261206_000020_deployment_keys;
mod m20261206_000021_provider_last_test;
mod m20261207_000022_sign_in_guard;
mod m20261207_000023_managed_resources;
mod m20261207_000024_resource_new_server;
mod m20261207_000025_reused_provider_ids;
mod m20261207_000026_two_factor;
mod m20261207_000027_registration;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_catalog::Migration),
            Box::new(m20261125_000003_requests::Migration),
            Box::new(m20261125_000004_servers::Migration),
            Box::new(m20261125_000005_ansible::Migration),
            Box::new(m20261125_000006_projects::Migration),
            Box::new(m20261126_000007_deployments::Migration),
            Box::new(m20261126_000008_billing::Migration),
            Box::new(m20261126_000009_live_changes::Migration),
            Box::new(m20261126_000010_list_indexes::Migration),
            Box::new(m20261126_000011_batched_live_changes::Migration),
            Box::new(m20261126_000012_job_lease_index::Migration),
            Box::new(m20261126_000013_queue_autovacuum::Migration),
            Box::new(m20261127_000014_cache_changes::Migration),
            Box::new(m20261206_000015_no_cache_changes::Migration),
            Box::new(m20261206_000016_listing_indexes::Migration),
            Box::new(m20261206_000017_deployment_counts::Migration),
            Box::new(m20261206_000018_log_stages::Migration),
            Box::new(m20261206_000019_team_default_account::Migration),
            Box::new(m20261206_000020_deployment_keys::Migration),
            Box::new(m20261206_000021_provider_last_test::Migration),
            Box::new(m20261207_000022_sign_in_guard::Migration),
            Box::new(m20261207_000023_managed_resources::Migration),
            Box::new(m20261207_000024_resource_new_server::Migration),
            Box::new(m20261207_000025_reused_provider_ids::Migration),
            Box::new(m20261207_000026_two_factor::Migration),
            Box::new(m20261207_000027_registration::Migration),
        ]
    }
}
