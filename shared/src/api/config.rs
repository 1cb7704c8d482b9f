//! `GET /api/v1/chat/config?site_key=` (seed 004, "Get Widget Config").

use serde::{Deserialize, Serialize};

/// Query of `GET /api/v1/chat/config`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ConfigQuery {
    /// The site's public key, e.g. `sk_demo_edgechat`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub site_key: String,
}

/// The widget settings of one site. Unknown keys answer 404 `not_found`.
///
/// # Format
/// `{"site_key":"sk_…","name":"Acme","greeting":"Hi there! How can we help?","theme_color":"#4f46e5","reasons":[{"main":"Payments","subs":["Refund"]}]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetConfig {
    /// The site's public key.
    pub site_key: String,
    /// The site's name, shown in the panel header.
    pub name: String,
    /// The first message the widget shows (seed 004).
    pub greeting: String,
    /// Accent colour of the launcher and header, CSS hex (`#rrggbb`).
    pub theme_color: String,
    /// The topics a signed-in user picks from to start a request (the site's
    /// `request_reasons`; empty when it has none).
    #[serde(default)]
    pub reasons: Vec<crate::api::sites::RequestReason>,
}
