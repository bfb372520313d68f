//! Keeps secrets (API tokens, passwords, the state backend's connection string) out of every log
//! line and error.

pub(super) const REDACTED: &str = "[redacted]";

/// Replaces secrets with "[redacted]", longest first so a secret containing another goes whole.
pub(super) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub(super) fn new(secrets: &[String]) -> Self {
        let mut secrets: Vec<String> = secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    pub(super) fn apply(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }
}

/// The connection string and, for a URL, its password on its own.
pub(super) fn connection_secrets(conn_str: &str) -> Vec<String> {
    let mut secrets = vec![conn_str.to_owned()];
    if let Some(password) = reqwest::Url::parse(conn_str)
        .ok()
        .and_then(|url| url.password().map(str::to_owned))
    {
        secrets.push(password);
    }
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_secrets_are_redacted_before_the_secrets_they_contain() {
        let redactor = Redactor::new(&["abc".to_owned(), "abcdef".to_owned(), String::new()]);

        assert_eq!(
            redactor.apply("x abcdef y abc z"),
            "x [redacted] y [redacted] z"
        );
        assert_eq!(redactor.apply("nothing here"), "nothing here");
    }
}
