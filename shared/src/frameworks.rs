//! Framework presets for app deployments, as data (playbooks/frameworks/*.json), and the
//! detection of a repository's framework from its files and declared dependencies.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Which signals pick a framework: `file:<name>` (a top-level file), `node:<package>`,
/// `python:<distribution>`, `php:<composer package>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Detection {
    /// Among several matches the highest wins (Next.js over React, MERN over Express).
    pub priority: i32,
    /// Every one of these must be present.
    #[serde(default)]
    pub all: Vec<String>,
    /// At least one of these must be present (when any are listed).
    #[serde(default)]
    pub any: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Framework {
    pub slug: String,
    pub name: String,
    /// `python`, `node`, `php` or `static` (built files served by nginx).
    pub runtime: String,
    pub default_port: u16,
    pub health_path: String,
    /// Commands (argv vectors, run in the checkout) that install dependencies.
    pub install: Vec<Vec<String>>,
    /// Commands that build the app.
    pub build: Vec<Vec<String>>,
    /// The service's command line; `{port}` and `{module}` are filled per deployment. Empty for
    /// static sites.
    pub start: Vec<String>,
    /// What `{module}` is when the deployment names none (`app` for Flask's `app:app`,
    /// `server.js`); Django's is found in the checkout (the folder holding `wsgi.py`).
    #[serde(default)]
    pub default_module: Option<String>,
    /// For static sites: the folder nginx serves after the build.
    #[serde(default)]
    pub static_dir: Option<String>,
    /// Backing services installed beside the app (e.g. `mongodb`, `mariadb`).
    #[serde(default)]
    pub services: Vec<String>,
    pub detect: Detection,
}

/// What a repository declares: its top-level files and the dependencies its manifests name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoFacts {
    signals: BTreeSet<String>,
}

/// The distribution name at the start of a requirements line (`Django>=4.2` → `django`).
fn requirement_name(line: &str) -> Option<String> {
    let line = line.split('#').next()?.trim();
    if line.is_empty() || line.starts_with('-') {
        return None;
    }
    let name: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then(|| name.to_lowercase().replace('_', "-"))
}

fn json_keys(text: &str, sections: &[&str]) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return vec![];
    };
    sections
        .iter()
        .filter_map(|s| value.get(*s)?.as_object())
        .flat_map(|deps| deps.keys().cloned())
        .collect()
}

impl RepoFacts {
    /// Facts from the top-level file names and the contents of `package.json`,
    /// `requirements.txt` and `composer.json` when the repository has them.
    pub fn new(
        files: &[&str],
        package_json: Option<&str>,
        requirements_txt: Option<&str>,
        composer_json: Option<&str>,
    ) -> Self {
        let mut signals = BTreeSet::new();
        signals.extend(files.iter().map(|f| format!("file:{f}")));
        if let Some(text) = package_json {
            signals.extend(
                json_keys(text, &["dependencies", "devDependencies"])
                    .into_iter()
                    .map(|d| format!("node:{d}")),
            );
        }
        if let Some(text) = requirements_txt {
            signals.extend(
                text.lines()
                    .filter_map(requirement_name)
                    .map(|d| format!("python:{d}")),
            );
        }
        if let Some(text) = composer_json {
            signals.extend(
                json_keys(text, &["require"])
                    .into_iter()
                    .map(|d| format!("php:{d}")),
            );
        }
        RepoFacts { signals }
    }

    pub fn has(&self, signal: &str) -> bool {
        self.signals.contains(signal)
    }
}

impl Framework {
    /// Static sites are built, then served by nginx; everything else runs as a service.
    pub fn is_static(&self) -> bool {
        self.start.is_empty()
    }

    /// The service's argv with `{port}` and `{module}` filled in (inside arguments too, as in
    /// `127.0.0.1:{port}`).
    pub fn start_command(&self, module: &str, port: u16) -> Vec<String> {
        self.start
            .iter()
            .map(|arg| {
                arg.replace("{port}", &port.to_string())
                    .replace("{module}", module)
            })
            .collect()
    }

    pub fn needs_module(&self) -> bool {
        self.start.iter().any(|a| a.contains("{module}"))
    }

    pub fn matches(&self, facts: &RepoFacts) -> bool {
        let all = self.detect.all.iter().all(|s| facts.has(s));
        let any = self.detect.any.is_empty() || self.detect.any.iter().any(|s| facts.has(s));
        all && any && !(self.detect.all.is_empty() && self.detect.any.is_empty())
    }
}

/// The preset a client names: its slug (`nextjs`) or its name (`Next.js`, `MERN (MongoDB, …)`),
/// in any case, punctuation ignored, and a `.js` ending optional (`Express.js`, `Vue.js`).
pub fn find<'a>(frameworks: &'a [Framework], given: &str) -> Option<&'a Framework> {
    let key = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = key(given);
    if wanted.is_empty() {
        return None;
    }
    let short = wanted.strip_suffix("js").unwrap_or(&wanted);
    frameworks.iter().find(|f| {
        let (slug, name) = (key(&f.slug), key(&f.name));
        // The short name of "MERN (MongoDB, Express, React, Node)" is "mern".
        let first_word = key(f.name.split(" (").next().unwrap_or_default());
        [slug, name, first_word]
            .iter()
            .any(|k| *k == wanted || *k == short)
    })
}

/// The best-matching framework for a repository, if any.
pub fn detect<'a>(frameworks: &'a [Framework], facts: &RepoFacts) -> Option<&'a Framework> {
    frameworks
        .iter()
        .filter(|f| f.matches(facts))
        .max_by_key(|f| f.detect.priority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework(slug: &str, priority: i32, all: &[&str], any: &[&str]) -> Framework {
        Framework {
            slug: slug.into(),
            name: slug.into(),
            runtime: "node".into(),
            default_port: 3000,
            health_path: "/".into(),
            install: vec![],
            build: vec![],
            start: vec![],
            default_module: None,
            static_dir: None,
            services: vec![],
            detect: Detection {
                priority,
                all: all.iter().map(|s| s.to_string()).collect(),
                any: any.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    #[test]
    fn start_commands_are_filled_per_deployment() {
        let mut flask = framework("flask", 1, &[], &[]);
        flask.start = vec![
            ".venv/bin/gunicorn".into(),
            "--bind".into(),
            "127.0.0.1:{port}".into(),
            "{module}:app".into(),
        ];
        assert!(flask.needs_module() && !flask.is_static());
        assert_eq!(
            flask.start_command("shop", 18001),
            [
                ".venv/bin/gunicorn",
                "--bind",
                "127.0.0.1:18001",
                "shop:app"
            ]
        );
    }

    #[test]
    fn requirement_lines_are_read_like_pip() {
        assert_eq!(
            requirement_name("Django>=4.2  # web"),
            Some("django".into())
        );
        assert_eq!(requirement_name("flask_cors==4"), Some("flask-cors".into()));
        assert_eq!(requirement_name("-r base.txt"), None);
        assert_eq!(requirement_name("   # only a comment"), None);
    }

    #[test]
    fn the_most_specific_framework_wins() {
        let all = vec![
            framework("express", 10, &["node:express"], &[]),
            framework("react", 15, &["node:react"], &[]),
            framework("next", 60, &["node:next"], &[]),
            framework(
                "mern",
                55,
                &["node:express", "node:react"],
                &["node:mongoose", "node:mongodb"],
            ),
            framework("django", 40, &["file:manage.py"], &["python:django"]),
            framework("lamp", 5, &[], &["file:index.php"]),
        ];
        let pkg = |deps: &str| format!(r#"{{"dependencies": {{{deps}}}}}"#);
        let cases = [
            (
                RepoFacts::new(
                    &["package.json"],
                    Some(&pkg(r#""next": "14", "react": "18""#)),
                    None,
                    None,
                ),
                Some("next"),
            ),
            (
                RepoFacts::new(&[], Some(&pkg(r#""react": "18""#)), None, None),
                Some("react"),
            ),
            (
                RepoFacts::new(
                    &[],
                    Some(&pkg(r#""express": "4", "react": "18", "mongoose": "8""#)),
                    None,
                    None,
                ),
                Some("mern"),
            ),
            (
                RepoFacts::new(
                    &[],
                    Some(&pkg(r#""express": "4", "react": "18""#)),
                    None,
                    None,
                ),
                Some("react"),
            ),
            (
                RepoFacts::new(&["manage.py"], None, Some("Django==5.0\n"), None),
                Some("django"),
            ),
            (
                RepoFacts::new(&["index.php"], None, None, None),
                Some("lamp"),
            ),
            (
                RepoFacts::new(&["README.md"], Some("not json"), None, None),
                None,
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(
                detect(&all, &facts).map(|f| f.slug.as_str()),
                expected,
                "{facts:?}"
            );
        }
    }

    #[test]
    fn presets_are_found_by_slug_or_by_the_names_people_write() {
        let all = [
            framework("nextjs", 1, &[], &[]),
            framework("express", 1, &[], &[]),
            framework("vue", 1, &[], &[]),
            framework("flask", 1, &[], &[]),
        ];
        let named = |given: &str| find(&all, given).map(|f| f.slug.as_str());
        assert_eq!(named("Next.js"), Some("nextjs"));
        assert_eq!(named("nextjs"), Some("nextjs"));
        assert_eq!(named("Express.js"), Some("express"));
        assert_eq!(named("EXPRESS"), Some("express"));
        assert_eq!(named("Vue.js"), Some("vue"));
        assert_eq!(named("Flask"), Some("flask"));
        assert_eq!(named("Rails"), None);
        assert_eq!(named(".js"), None);
        assert_eq!(named(""), None);
    }
}
