//! The signed-out landing page at `/`: what Provisio does, the framework presets, and — only when
//! an administrator turns it on — the platform's deployment statistics.

use crate::deployments::Statistics;
use crate::frameworks::Framework;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What an administrator decides about the public landing page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LandingSettings {
    /// Show the totals of all teams' deployments (how many, how many run, by framework) to
    /// anyone who opens the page, signed in or not. Off by default.
    pub show_statistics: bool,
}

/// `GET /api/landing`, answered without signing in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Landing {
    pub frameworks: Vec<Framework>,
    /// Present only when an administrator shows the statistics on the landing page.
    pub statistics: Option<Statistics>,
}
