//! Runs the Terraform CLI on a per-server working copy of a static module from
//! `terraform-templates/`, streaming its `-json` UI events into the execution log.
//!
//! - `workspace`: the per-server working copy (`TerraformRunner::prepare`) and its state backend;
//! - `runner`: the `init`/`plan`/`apply`/`destroy`/`output` commands and the process they run;
//! - `events`: the lines and `-json` UI events streamed to the execution log;
//! - `redaction`: the secrets kept out of those lines and of errors;
//! - `error`: why preparing or running failed.

mod error;
mod events;
mod redaction;
mod runner;
mod workspace;

pub use error::TerraformError;
pub use events::{Level, LogLine, LogStream, TfEvent};
pub use runner::{PlanOutcome, TerraformRunner};
pub use workspace::{Backend, Workspace};

/// The static module the unit tests prepare and run.
#[cfg(test)]
fn builtin_module() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../terraform-templates/testing/builtin-server")
}
