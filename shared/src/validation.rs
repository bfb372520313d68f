//! Validation rules shared by the API (authoritative) and the web forms (for early feedback).

use std::collections::BTreeMap;

/// Field name → messages, serialized as the `errors` member of a 422 problem.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, field: &str, result: Result<(), String>) -> &mut Self {
        if let Err(message) = result {
            self.errors
                .entry(field.to_owned())
                .or_default()
                .push(message);
        }
        self
    }

    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

pub fn username(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len == 0 {
        return Err("is required: 3 to 32 lower-case letters, digits, '.', '_' or '-'".into());
    }
    if !(3..=32).contains(&len) {
        return Err("use 3 to 32 characters".into());
    }
    if value.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "use lower-case letters only, e.g. {}",
            value.to_ascii_lowercase()
        ));
    }
    let mut chars = value.chars();
    let first = chars.next().unwrap_or(' ');
    if !first.is_ascii_lowercase() && !first.is_ascii_digit() {
        return Err("must start with a letter or a digit".into());
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err("may contain only lowercase letters, digits, '.', '_' and '-'".into());
    }
    Ok(())
}

pub fn email(value: &str) -> Result<(), String> {
    let invalid = || Err("must be an e-mail address like name@example.com".to_string());
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid();
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return invalid();
    };
    if local.is_empty()
        || local.contains('@')
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return invalid();
    }
    Ok(())
}

pub fn password(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!("must be at least {PASSWORD_MIN} characters"));
    }
    if len > PASSWORD_MAX {
        return Err(format!("must be at most {PASSWORD_MAX} characters"));
    }
    Ok(())
}

/// A human-facing name: trimmed, printable, between `min` and `max` characters.
pub fn display_text(value: &str, min: usize, max: usize) -> Result<(), String> {
    let len = value.trim().chars().count();
    if len < min || len > max {
        return Err(if min <= 1 {
            format!("must be 1 to {max} characters")
        } else {
            format!("must be {min} to {max} characters")
        });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Lowercase URL-safe identifier derived from a display name (team slugs).
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// For a field that may be absent (leave as it is), `null` (clear) or a value (set): absent
/// comes from `#[serde(default)]`, anything present, `null` included, through here.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ada", "ada.lovelace", "a_b-c", "007"] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Ada",
            "-ada",
            "ada lovelace",
            "ada;rm",
            &"a".repeat(33),
        ] {
            assert!(username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.org"] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.co.", "a b@c.de", "a@b..co",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(password("short").is_err());
        assert!(password("correct horse battery").is_ok());
        assert!(password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("  Platform Team #2 "), "platform-team-2");
        assert_eq!(slugify("Global"), "global");
        assert_eq!(slugify("***"), "");
    }

    #[test]
    fn validator_collects_every_field() {
        let mut v = Validator::new();
        v.check("username", username("A"))
            .check("email", email("x"))
            .check("password", password("correct horse battery"));
        let errors = v.finish().unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), vec!["email", "username"]);
    }
}
