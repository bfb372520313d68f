//! Account administration: search, filter, create, edit, (de)activate, reset passwords.

mod form;
mod list;

pub use list::UsersPage;
