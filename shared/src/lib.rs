//! Types shared by the API server and the web app: roles, the permission matrix,
//! DTOs and the validation rules applied on both sides of the wire.
//! Everything here is pure and compiles to wasm32.

pub mod audit;
pub mod billing;
pub mod dashboard;
pub mod deployments;
pub mod dto;
pub mod frameworks;
pub mod landing;
pub mod nav;
pub mod notifications;
pub mod policies;
pub mod projects;
pub mod providers;
pub mod registration;
pub mod requests;
pub mod resources;
pub mod roles;
pub mod scripts;
pub mod servers;
pub mod settings;
pub mod stages;
pub mod terminal;
pub mod two_factor;
pub mod validation;
pub mod workflow;

pub use roles::{Permission, Role};
