//! The one error type of preparing a workspace and running Terraform in it.

use std::io;
use std::path::PathBuf;

/// Why preparing or running Terraform failed.
#[derive(Debug, thiserror::Error)]
pub enum TerraformError {
    #[error("the workspace path {0:?} must be relative and stay inside the work root")]
    InvalidWorkspace(PathBuf),
    #[error("terraform variables must be a JSON object")]
    InvalidVars,
    #[error("the module directory {0:?} holds no Terraform configuration")]
    EmptyModule(PathBuf),
    #[error("could not {action}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error("could not start {binary:?}")]
    Spawn {
        binary: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Terraform exited unsuccessfully; `summary`/`detail` come from its first error diagnostic.
    #[error("terraform {command} failed ({}): {summary}", describe_exit(.code))]
    Failed {
        command: &'static str,
        code: Option<i32>,
        summary: String,
        detail: String,
    },
    #[error("terraform output -json printed unreadable JSON")]
    Output(#[source] serde_json::Error),
}

fn describe_exit(code: &Option<i32>) -> String {
    match code {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_owned(),
    }
}

pub(super) fn io_error(action: impl Into<String>) -> impl FnOnce(io::Error) -> TerraformError {
    let action = action.into();
    move |source| TerraformError::Io { action, source }
}
