//! `GET /api/v1/chat/config?site_key=` (seed 004, "Get Widget Config").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::sites::LauncherPosition;

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
/// `{"site_key":"sk_…","name":"Acme","greeting":"Hi there! How can we help?","theme_color":"#4f46e5","reasons":[{"main":"Payments","subs":["Refund"]}],
///   "title":"Acme support","avatar_url":null,"launcher_position":"right","launcher_offset_x":20,"launcher_offset_y":20,
///   "custom_css":"","greetings":{"fr":"Bonjour !"},"theme_text_color":"#ffffff","theme_ink_color":"#4f46e5","proactive":false}`
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
    /// The panel header's title: the site's `title`, or its `name` when it has none.
    pub title: String,
    /// An https URL of the image shown in the panel header; `null`: none.
    pub avatar_url: Option<String>,
    /// Which bottom corner holds the launcher: `right` (default) or `left`.
    pub launcher_position: LauncherPosition,
    /// The launcher's distance from the page's side, in px (0 to 200; default 20).
    pub launcher_offset_x: u16,
    /// The launcher's distance from the page's bottom, in px (0 to 200; default 20).
    pub launcher_offset_y: u16,
    /// The site's CSS, to apply inside the widget's shadow root after the
    /// widget's own; `""` when none. Checked to be CSS only when stored.
    pub custom_css: String,
    /// The greeting per language: lower-case language tag (`fr`, `pt-br`) →
    /// greeting; `greeting` is the default for any other language.
    pub greetings: BTreeMap<String, String>,
    /// Text colour to write on `theme_color`: `#ffffff` or `#111827`,
    /// whichever contrasts more with it (WCAG 2.2 contrast ratio, [`crate::theme::readable_text_on`]).
    pub theme_text_color: String,
    /// `theme_color` darkened until it contrasts at least 4.5:1 with white
    /// (WCAG 2.2 SC 1.4.3): for links, focus rings and accent text on white
    /// ([`crate::theme::ink_on_white`]).
    pub theme_ink_color: String,
    /// `true` when the site has at least one enabled proactive rule: only
    /// then does the loader ask for proactive messages before interaction.
    pub proactive: bool,
}
