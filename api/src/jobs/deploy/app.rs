//! The app playbook of a deployment: its variables, health probes and the ansible run.

use super::*;

pub(super) fn app_name(row: &rows::Model) -> String {
    format!(
        "provisio-{}-{}",
        row.name,
        &row.id.simple().to_string()[..8]
    )
}

/// What must be on the host for the runtime: a probe argv and the Debian package that provides it.
pub(super) fn probes(framework: &Framework) -> Vec<Value> {
    let mut found = vec![json!({"argv": ["nginx", "-v"], "package": "nginx"})];
    match framework.runtime.as_str() {
        "python" => found.push(
            json!({"argv": ["python3", "-c", "import venv, ensurepip"], "package": "python3-venv"}),
        ),
        "php" => found.push(json!({"argv": ["php", "--version"], "package": "php-cli"})),
        _ => {}
    }
    let argv0s: Vec<&str> = framework
        .install
        .iter()
        .chain(&framework.build)
        .filter_map(|argv| argv.first().map(String::as_str))
        .chain(framework.start.first().map(String::as_str))
        .collect();
    if argv0s.iter().any(|a| matches!(*a, "npm" | "npx" | "node")) {
        found.push(json!({"argv": ["node", "--version"], "package": "nodejs"}));
        found.push(json!({"argv": ["npm", "--version"], "package": "npm"}));
    }
    if argv0s.contains(&"composer") {
        found.push(json!({"argv": ["composer", "--version"], "package": "composer"}));
    }
    found
}

/// The playbook's variables for one action.
pub(super) fn variables(
    state: &AppState,
    row: &rows::Model,
    framework: &Framework,
    action: &str,
    archive: Option<&Path>,
    module: &str,
    env: BTreeMap<String, String>,
) -> BTreeMap<String, Value> {
    let app_port = row.app_port.unwrap_or(0);
    let mut env = env;
    if !framework.is_static() {
        env.entry("PORT".into()).or_insert(app_port.to_string());
        env.entry("HOST".into()).or_insert("127.0.0.1".into());
    }
    let name = app_name(row);
    let mut vars = BTreeMap::new();
    vars.insert("app_action".into(), json!(action));
    vars.insert(
        "app_dir".into(),
        json!(format!(
            "{}/{name}",
            state.config.deploy.apps_root.trim_end_matches('/')
        )),
    );
    vars.insert("app_name".into(), json!(name));
    // System user names stop at 32 characters.
    vars.insert(
        "app_user".into(),
        json!(format!("pv-{}", &row.id.simple().to_string()[..12])),
    );
    vars.insert(
        "release".into(),
        json!(row.commit_sha.clone().unwrap_or_default()),
    );
    vars.insert(
        "archive".into(),
        json!(archive.map(|a| a.display().to_string()).unwrap_or_default()),
    );
    vars.insert("install".into(), json!(framework.install));
    vars.insert("build".into(), json!(framework.build));
    vars.insert(
        "start".into(),
        json!(framework.start_command(module, u16::try_from(app_port).unwrap_or(0))),
    );
    vars.insert(
        "static_dir".into(),
        json!(framework.static_dir.clone().unwrap_or_else(|| ".".into())),
    );
    vars.insert("public_port".into(), json!(row.port.unwrap_or(0)));
    vars.insert("app_port".into(), json!(app_port));
    vars.insert("env".into(), json!(env));
    vars.insert("probes".into(), json!(probes(framework)));
    vars
}

pub(super) fn framework_of(row: &rows::Model) -> Result<&'static Framework, JobError> {
    frameworks::all()
        .iter()
        .find(|f| f.slug == row.framework)
        .ok_or_else(|| JobError::permanent(format!("unknown framework `{}`", row.framework)))
}

/// Django names its settings package after the project: the folder that holds `wsgi.py`.
pub(super) fn detect_module(framework: &Framework, dir: &Path) -> Option<String> {
    if framework.slug == "django" {
        let entries = std::fs::read_dir(dir).ok()?;
        for entry in entries.flatten() {
            if entry.path().join("wsgi.py").is_file() {
                return entry.file_name().to_str().map(str::to_owned);
            }
        }
    }
    None
}

/// Runs the app playbook; `archive`, the release it ships (when it ships one), is the one file of
/// this host the sandboxed playbook reads.
pub(super) async fn run_playbook(
    ctx: &JobContext,
    log: &crate::exec::log::LogSink,
    target: &Target,
    variables: &BTreeMap<String, Value>,
    archive: Option<&Path>,
) -> Result<(), JobError> {
    run_on_server(
        ctx,
        log,
        target,
        "the app playbook",
        APP_PLAYBOOK,
        variables,
        archive.as_slice(),
    )
    .await
}
