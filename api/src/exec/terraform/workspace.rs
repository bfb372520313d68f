//! The per-server working copy of a module: its configuration, variables, CLI configuration and
//! state backend, written privately below the work root.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::error::{io_error, TerraformError};
use super::redaction::{connection_secrets, REDACTED};
use super::runner::TerraformRunner;

const CLI_CONFIG_FILE: &str = "terraformrc";
const VARS_FILE: &str = "terraform.tfvars.json";
const BACKEND_OVERRIDE_FILE: &str = "backend_override.tf.json";
const LOCK_FILE: &str = ".terraform.lock.hcl";

/// Where a workspace keeps its Terraform state.
#[derive(Clone, PartialEq, Eq)]
pub enum Backend {
    /// `terraform.tfstate` inside the workspace directory.
    Local,
    /// The `pg` backend: `conn_str` reaches the database, `schema` is this server's own schema.
    Postgres { conn_str: String, schema: String },
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Local => f.write_str("Local"),
            Backend::Postgres { schema, .. } => f
                .debug_struct("Postgres")
                .field("conn_str", &REDACTED)
                .field("schema", schema)
                .finish(),
        }
    }
}

/// A per-server working copy of a module, ready for `init`.
pub struct Workspace {
    pub(super) dir: PathBuf,
    pub(super) cli_config: PathBuf,
    pub(super) pg_conn_str: Option<String>,
    pub(super) secrets: Vec<String>,
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("dir", &self.dir)
            .field("postgres_backend", &self.pg_conn_str.is_some())
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Workspace {
    /// The directory Terraform runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds strings (API tokens, passwords) to replace with "[redacted]" in every log line and error.
    pub fn with_secrets<S: Into<String>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(secrets.into_iter().map(Into::into));
        self
    }
}

impl TerraformRunner {
    /// Copies the module's configuration into `work_root/workspace` and writes its variables and backend.
    pub async fn prepare(
        &self,
        module_dir: &Path,
        workspace: &Path,
        vars: &Value,
        backend: Backend,
    ) -> Result<Workspace, TerraformError> {
        let is_inside = workspace.components().next().is_some()
            && workspace
                .components()
                .all(|part| matches!(part, Component::Normal(_)));
        if !is_inside {
            return Err(TerraformError::InvalidWorkspace(workspace.to_path_buf()));
        }
        if !vars.is_object() {
            return Err(TerraformError::InvalidVars);
        }
        let root = std::path::absolute(&self.work_root)
            .map_err(io_error(format!("resolve {}", self.work_root.display())))?;
        let files = WorkspaceFiles {
            module_dir: module_dir.to_path_buf(),
            dir: root.join(workspace),
            cli_config: root.join(CLI_CONFIG_FILE),
            root,
            vars: serde_json::to_vec_pretty(vars).expect("a JSON value always serializes"),
            backend_override: match &backend {
                Backend::Local => None,
                Backend::Postgres { schema, .. } => Some(
                    serde_json::to_vec_pretty(&serde_json::json!({
                        "terraform": { "backend": { "pg": { "schema_name": schema } } }
                    }))
                    .expect("a JSON value always serializes"),
                ),
            },
        };
        let (dir, cli_config) = tokio::task::spawn_blocking(move || files.write())
            .await
            .map_err(|e| TerraformError::Io {
                action: "prepare the workspace".to_owned(),
                source: io::Error::other(e),
            })??;
        let (pg_conn_str, secrets) = match backend {
            Backend::Local => (None, Vec::new()),
            Backend::Postgres { conn_str, .. } => {
                let secrets = connection_secrets(&conn_str);
                (Some(conn_str), secrets)
            }
        };
        Ok(Workspace {
            dir,
            cli_config,
            pg_conn_str,
            secrets,
        })
    }
}

/// Everything `prepare` writes, gathered so the blocking file work runs off the async threads.
struct WorkspaceFiles {
    module_dir: PathBuf,
    root: PathBuf,
    dir: PathBuf,
    cli_config: PathBuf,
    vars: Vec<u8>,
    backend_override: Option<Vec<u8>>,
}

impl WorkspaceFiles {
    fn write(self) -> Result<(PathBuf, PathBuf), TerraformError> {
        create_private_dir(&self.root)?;
        create_private_dir(&self.dir)?;
        // Terraform fails on a CLI configuration file that does not exist, so it gets one of ours.
        write_private(&self.cli_config, b"disable_checkpoint = true\n")?;

        let module_files = configuration_files(&self.module_dir)?;
        if !module_files.iter().any(|name| is_configuration(name)) {
            // Without configuration, plan would propose destroying everything in the state.
            return Err(TerraformError::EmptyModule(self.module_dir));
        }
        // Files dropped from the module must not linger in the working copy; the lock file stays,
        // since init wrote it to pin the providers it chose.
        let existing = configuration_files(&self.dir)?;
        for stale in existing.iter().filter(|name| is_configuration(name)) {
            let path = self.dir.join(stale);
            fs::remove_file(&path).map_err(io_error(format!("remove {}", path.display())))?;
        }
        for name in &module_files {
            let (from, to) = (self.module_dir.join(name), self.dir.join(name));
            fs::copy(&from, &to).map_err(io_error(format!(
                "copy {} to {}",
                from.display(),
                to.display()
            )))?;
        }
        write_private(&self.dir.join(VARS_FILE), &self.vars)?;
        if let Some(backend_override) = &self.backend_override {
            write_private(&self.dir.join(BACKEND_OVERRIDE_FILE), backend_override)?;
        }
        Ok((self.dir, self.cli_config))
    }
}

fn is_configuration(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// Names of the regular files in `dir` that belong to a module: configuration and the lock file.
fn configuration_files(dir: &Path) -> Result<Vec<String>, TerraformError> {
    let read_error = || io_error(format!("read the directory {}", dir.display()));
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error())? {
        let entry = entry.map_err(read_error())?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !(is_configuration(&name) || name == LOCK_FILE) {
            continue;
        }
        let metadata = fs::metadata(entry.path()).map_err(read_error())?;
        if metadata.is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn create_private_dir(dir: &Path) -> Result<(), TerraformError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_error(format!("create {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_error(format!("restrict {}", dir.display())))
}

/// Writes a 0600 file through a rename, so readers and concurrent writers never see half of it.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), TerraformError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| file.write_all(contents))
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(io_error(format!("write {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::super::builtin_module;
    use super::super::redaction::Redactor;
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn prepare_writes_a_private_working_copy() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());
        let vars = serde_json::json!({ "name": "web-5" });
        let backend = Backend::Postgres {
            conn_str: "postgres://tf:pw-secret@db/provisio".to_owned(),
            schema: "provisio_tf_5".to_owned(),
        };

        let ws = runner
            .prepare(&builtin_module(), Path::new("servers/5"), &vars, backend)
            .await
            .unwrap();

        let dir = ws.dir();
        assert_eq!(dir, root.path().join("servers/5"));
        assert_eq!(mode(dir), 0o700);
        assert_eq!(mode(&dir.join(VARS_FILE)), 0o600);
        let written: Value =
            serde_json::from_slice(&fs::read(dir.join(VARS_FILE)).unwrap()).unwrap();
        assert_eq!(written, vars);
        let backend_override: Value =
            serde_json::from_slice(&fs::read(dir.join(BACKEND_OVERRIDE_FILE)).unwrap()).unwrap();
        assert_eq!(
            backend_override["terraform"]["backend"]["pg"]["schema_name"],
            "provisio_tf_5"
        );
        for name in ["main.tf", "outputs.tf", "variables.tf", "versions.tf"] {
            assert!(dir.join(name).is_file(), "{name} was not copied");
        }
        let redactor = Redactor::new(&ws.secrets);
        assert_eq!(
            redactor.apply("auth pw-secret failed"),
            "auth [redacted] failed"
        );
    }

    #[tokio::test]
    async fn preparing_again_for_local_state_drops_the_backend_override() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());
        let vars = serde_json::json!({ "name": "web-6" });
        let postgres = Backend::Postgres {
            conn_str: "postgres://db/provisio".to_owned(),
            schema: "provisio_tf_6".to_owned(),
        };
        let workspace = Path::new("server-6");
        runner
            .prepare(&builtin_module(), workspace, &vars, postgres)
            .await
            .unwrap();

        let ws = runner
            .prepare(&builtin_module(), workspace, &vars, Backend::Local)
            .await
            .unwrap();

        assert!(!ws.dir().join(BACKEND_OVERRIDE_FILE).exists());
        assert!(ws.dir().join("main.tf").is_file());
    }

    #[tokio::test]
    async fn prepare_rejects_workspaces_outside_the_work_root() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());
        let vars = serde_json::json!({});
        for workspace in ["", "/tmp/elsewhere", "../escape", "a/../../b", "./here"] {
            let result = runner
                .prepare(
                    &builtin_module(),
                    Path::new(workspace),
                    &vars,
                    Backend::Local,
                )
                .await;
            assert!(
                matches!(result, Err(TerraformError::InvalidWorkspace(_))),
                "{workspace:?} was accepted"
            );
        }
    }

    #[tokio::test]
    async fn prepare_refuses_a_module_without_configuration() {
        let root = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());

        let result = runner
            .prepare(
                empty.path(),
                Path::new("server-7"),
                &serde_json::json!({}),
                Backend::Local,
            )
            .await;

        assert!(matches!(result, Err(TerraformError::EmptyModule(_))));
    }

    #[tokio::test]
    async fn prepare_refuses_variables_that_are_not_an_object() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());

        let result = runner
            .prepare(
                &builtin_module(),
                Path::new("server-8"),
                &serde_json::json!(["web"]),
                Backend::Local,
            )
            .await;

        assert!(matches!(result, Err(TerraformError::InvalidVars)));
    }

    #[test]
    fn backend_debug_hides_the_connection_string() {
        let backend = Backend::Postgres {
            conn_str: "postgres://tf:pw@db/provisio".to_owned(),
            schema: "s".to_owned(),
        };

        assert!(!format!("{backend:?}").contains("pw"));
    }
}
