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
    /// The panel header's title; `""` shows `name`.
    #[serde(default)]
    pub title: String,
    /// The header's avatar image (the worker's origin or `data:`); `null`
    /// shows the title's initial.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// The site's own CSS for the panel (sanitised to CSS only; `""` if
    /// none), adopted after the widget's stylesheet so that it overrides it.
    #[serde(default)]
    pub custom_css: String,
    /// The greeting per language tag (`{"fr": "Bonjour !"}`); a language
    /// without one shows `greeting`.
    #[serde(default)]
    pub greetings: std::collections::BTreeMap<String, String>,
    /// Readable text on `theme_color` (`#rrggbb`, ≥ 4.5:1 contrast); `""` until known.
    #[serde(default)]
    pub theme_text_color: String,
    /// `theme_color` darkened to ≥ 4.5:1 on white (`#rrggbb`), for accent
    /// text, borders and focus rings on white; `""` until known.
    #[serde(default)]
    pub theme_ink_color: String,
}
