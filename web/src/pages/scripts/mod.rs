//! Deployment scripts: the list, and the editor of one script (playbook, variable schema, the
//! server-side check, versions) from which it is run.

mod detail;
mod draft;
mod form;
mod list;
mod versions;

pub use detail::{NewScriptPage, ScriptPage};
pub use list::ScriptsPage;
