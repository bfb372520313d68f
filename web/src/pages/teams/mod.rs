//! Teams: everyone sees their teams and members; holders of TeamsManage edit them.

mod form;
mod list;
mod members;
mod policy;
mod policy_form;

pub use list::TeamsPage;
pub use policy::PolicyPanel;
