//! Deployment scripts: versioned playbooks with a typed variable schema, validated on save
//! (YAML, then `ansible-playbook --syntax-check`), and their runs on servers: one execution,
//! one target row per server (which later holds its recap), one `playbook` job.
//!
//! - `samples`: the playbooks shipped with Provisio, seeded into the Global team;
//! - `views`: what a caller sees of scripts and their versions;
//! - `editing`: the checks on save, and creating, versioning and deleting scripts;
//! - `variables`: run variables as stored (secrets sealed), opened for a run, masked for answers;
//! - `runs`: planning and starting a run (and running one again);
//! - `run_history`: the runs a caller may see, and a server's maintenance history.

mod editing;
mod run_history;
mod runs;
mod samples;
mod variables;
mod views;

use crate::auth::AuthUser;
use crate::error::ApiResult;
use shared::Permission;

pub use editing::{check, create, remove, update};
pub use run_history::{list_runs, run_dtos, runs_on_server, visible_run, RunFilter};
pub use runs::{
    enqueue_run, plan_run, rerun, start_planned, start_run, RunPlan, DEFAULT_TIMEOUT_SECS,
};
pub use samples::{builtin, seed_samples};
pub use variables::{masked, open_variables, seal_secrets, secret_values};
pub use views::{current_variables, detail, list, version_dto, version_of, visible};

/// Sealed secret values are stored as `{"$sealed": "v1:…"}`.
pub const SEALED: &str = "$sealed";

/// Execution kinds that are playbook runs.
pub const RUN_KINDS: [&str; 3] = ["playbook", "backup", "system_update"];

pub fn require_scripts(auth: &AuthUser) -> ApiResult<()> {
    auth.require(Permission::ScriptsManage)
}
