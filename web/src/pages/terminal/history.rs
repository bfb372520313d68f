//! The command lines run on this page, recalled with the arrow keys.

/// Recalled command lines: the programs run, not the lines typed into them (those may be
/// answers to password prompts).
#[derive(Debug, Default)]
pub(super) struct History {
    entries: Vec<String>,
    /// The entry shown, while browsing.
    at: Option<usize>,
    /// What was typed before browsing began.
    draft: String,
}

impl History {
    pub(super) fn push(&mut self, line: String) {
        if self.entries.last() != Some(&line) {
            self.entries.push(line);
        }
        self.at = None;
    }

    pub(super) fn older(&mut self, typed: &str) -> Option<String> {
        let at = match self.at {
            _ if self.entries.is_empty() => return None,
            None => {
                self.draft = typed.to_owned();
                self.entries.len() - 1
            }
            Some(at) => at.saturating_sub(1),
        };
        self.at = Some(at);
        Some(self.entries[at].clone())
    }

    pub(super) fn newer(&mut self) -> Option<String> {
        let at = self.at?;
        if at + 1 < self.entries.len() {
            self.at = Some(at + 1);
            Some(self.entries[at + 1].clone())
        } else {
            self.at = None;
            Some(std::mem::take(&mut self.draft))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_recalls_older_and_newer_lines_then_the_draft() {
        let mut h = History::default();
        assert_eq!(h.older("x"), None);
        h.push("git status".into());
        h.push("git log".into());
        h.push("git log".into());
        assert_eq!(h.older("draft").as_deref(), Some("git log"));
        assert_eq!(h.older("").as_deref(), Some("git status"));
        assert_eq!(h.older("").as_deref(), Some("git status"));
        assert_eq!(h.newer().as_deref(), Some("git log"));
        assert_eq!(h.newer().as_deref(), Some("draft"));
        assert_eq!(h.newer(), None);
    }
}
