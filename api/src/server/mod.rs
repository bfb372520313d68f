//! Server plumbing: what turns the domain into a running service and is the same for every
//! resource. Startup (database, migrations, the HTTP server and its middleware), the embedded web
//! app, browser security headers, logs and request spans, metrics, and the OpenAPI document.

pub mod metrics;
pub mod openapi;
pub mod spa;
pub mod startup;
pub mod telemetry;
pub mod unreadable;
pub mod web_security;
