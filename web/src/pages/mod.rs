pub mod dashboard;
pub mod login;
pub mod profile;
pub mod resource_types;
pub mod teams;
pub mod tokens;
pub mod users;
