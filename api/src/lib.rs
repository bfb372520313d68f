//! Provisio's API server: actix-web handlers over sea-orm, with the SPA embedded.

pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod exec;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod providers;
pub mod server;
pub mod state;
