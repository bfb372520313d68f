//! The framework presets shipped in playbooks/frameworks/ (data, embedded in the binary).

use shared::frameworks::Framework;
use std::sync::OnceLock;

#[derive(rust_embed::RustEmbed)]
#[folder = "../playbooks/frameworks/"]
#[include = "*.json"]
struct Presets;

/// Every preset, by name. A preset that does not parse is a build defect: the test below fails.
pub fn all() -> &'static [Framework] {
    static ALL: OnceLock<Vec<Framework>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut found: Vec<Framework> = Presets::iter()
            .filter_map(|name| Presets::get(&name))
            .filter_map(|file| serde_json::from_slice(&file.data).ok())
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    })
}

/// The preset a client names, by slug (`nextjs`) or name (`Next.js`), in any case and with or
/// without a `.js` ending (`Express.js`, `Vue.js`, `React.js`).
pub fn find(given: &str) -> Option<&'static Framework> {
    shared::frameworks::find(all(), given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_preset_parses_and_is_complete() {
        let files = Presets::iter().count();
        assert_eq!(all().len(), files, "a preset file does not parse");
        let slugs: Vec<&str> = all().iter().map(|f| f.slug.as_str()).collect();
        for wanted in [
            "django", "flask", "fastapi", "laravel", "express", "react", "vue", "nextjs", "mern",
            "mean", "lamp",
        ] {
            assert!(slugs.contains(&wanted), "{wanted} missing from {slugs:?}");
        }
        for f in all() {
            assert!(
                f.default_port > 0 && f.health_path.starts_with('/'),
                "{}",
                f.slug
            );
            let serves = !f.start.is_empty() || f.static_dir.is_some();
            assert!(
                serves,
                "{} neither starts a service nor serves files",
                f.slug
            );
        }
    }
}
