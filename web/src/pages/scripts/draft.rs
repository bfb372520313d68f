//! What the script editor holds, and the script it would save.

use crate::pages::script_schema::{rows_of, VariableRow};
use shared::scripts::{SaveScript, Script};

/// Whether `draft` differs from what is stored.
pub(super) fn differs(saved: &Script, draft: &SaveScript) -> bool {
    saved.name != draft.name
        || saved.description != draft.description
        || saved.current.content != draft.content
        || saved.current.variables != draft.variables
}

/// What a new script starts from: a play that runs everywhere it is sent.
const STARTER_PLAYBOOK: &str = "- name: Describe what this play does
  hosts: all
  become: true
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: \"Hello from {{ inventory_hostname }}\"
";

/// What the script editor holds: the variables as typed rows.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ScriptDraft {
    pub name: String,
    pub description: String,
    pub content: String,
    pub rows: Vec<VariableRow>,
    pub team: String,
}

impl ScriptDraft {
    /// The editor for `script`, or a new script starting from the starter playbook.
    pub fn from_dto(script: Option<&Script>) -> Self {
        Self {
            name: script.map(|s| s.name.clone()).unwrap_or_default(),
            description: script.map(|s| s.description.clone()).unwrap_or_default(),
            content: script
                .map(|s| s.current.content.clone())
                .unwrap_or_else(|| STARTER_PLAYBOOK.to_owned()),
            rows: script
                .map(|s| rows_of(&s.current.variables))
                .unwrap_or_default(),
            team: String::new(),
        }
    }

    /// The script as it would be saved, valid or not: the editor compares it with what is
    /// stored and with what last passed the check. The team is only chosen for a new script.
    pub fn to_request(&self, is_new: bool) -> SaveScript {
        SaveScript {
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
            content: self.content.clone(),
            variables: self
                .rows
                .iter()
                .filter(|r| !r.is_blank())
                .map(VariableRow::to_spec)
                .collect(),
            team_id: if is_new { self.team.parse().ok() } else { None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::dto::TeamRef;
    use shared::scripts::{ScriptVersion, VariableKind, VariableSpec};
    use uuid::Uuid;

    fn script() -> Script {
        let now = chrono::Utc::now();
        Script {
            id: Uuid::new_v4(),
            team: TeamRef {
                id: Uuid::new_v4(),
                name: "Ops".into(),
                slug: "ops".into(),
            },
            name: "nginx".into(),
            description: "Installs nginx".into(),
            builtin: false,
            current: ScriptVersion {
                version: 3,
                content: "- hosts: all\n".into(),
                variables: vec![
                    VariableSpec {
                        name: "port".into(),
                        kind: VariableKind::Int,
                        required: true,
                        default: Some(80.into()),
                        options: Vec::new(),
                        description: "Listen port".into(),
                    },
                    VariableSpec {
                        name: "flavour".into(),
                        kind: VariableKind::Choice,
                        required: false,
                        default: None,
                        options: vec!["light".into(), "full".into()],
                        description: String::new(),
                    },
                ],
                created_by: None,
                created_at: now,
            },
            versions: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn an_opened_script_converts_back_to_what_is_stored() {
        let script = script();
        let draft = ScriptDraft::from_dto(Some(&script));
        assert_eq!(draft.rows.len(), 2);
        assert_eq!(draft.rows[0].default, "80");
        assert_eq!(draft.rows[1].options, "light, full");
        let body = draft.to_request(false);
        assert_eq!(body.variables, script.current.variables);
        assert!(!differs(&script, &body));
    }

    #[test]
    fn a_new_script_starts_from_the_starter_playbook_and_only_it_names_a_team() {
        let mut draft = ScriptDraft::from_dto(None);
        assert_eq!(draft.content, STARTER_PLAYBOOK);
        assert!(draft.rows.is_empty());
        let team = Uuid::new_v4();
        draft.team = team.to_string();
        assert_eq!(draft.to_request(true).team_id, Some(team));
        assert_eq!(draft.to_request(false).team_id, None);
    }

    #[test]
    fn names_are_trimmed_blank_rows_dropped_and_edits_count_as_unsaved() {
        let script = script();
        let mut draft = ScriptDraft::from_dto(Some(&script));
        draft.name = "  nginx  ".into();
        draft.rows.push(VariableRow::blank());
        let body = draft.to_request(false);
        assert_eq!(body.name, "nginx");
        assert_eq!(body.variables.len(), 2);
        assert!(!differs(&script, &body));
        draft.description = "Installs and configures nginx".into();
        assert!(differs(&script, &draft.to_request(false)));
    }
}
