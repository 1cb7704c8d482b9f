//! `GET /api/v1/chat/config?site_key=` (seed 004, "Get Widget Config"; issue 15).

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::Json;
use edgechat_shared::api::config::{ConfigQuery, WidgetConfig};
use edgechat_shared::error::ErrorBody;
use edgechat_shared::theme;

use super::{load_site, Caller, Limit};
use crate::db::{self, proactive};
use crate::error::ApiResult;
use crate::routes::AppState;

/// How long browsers and caches may keep a site's widget config, in seconds.
pub const CONFIG_MAX_AGE_SECONDS: u32 = 300;

/// Handles the `GET /api/v1/chat/config` route: the site's widget settings
/// (header, launcher, theme colours with their readable text and ink
/// colours, custom CSS, greetings, whether it has proactive rules), 404
/// `not_found` for an unknown key; 60 a minute per site key and IP (seed 004).
///
/// The loader fetches it before any interaction (to place the launcher and
/// to know whether to ask for proactive messages), so it is cacheable:
/// `Cache-Control: public, max-age=300` lets the browser's cache answer the
/// site's later pages, and `Vary: Origin` keeps one origin's answer (with
/// its `Access-Control-Allow-Origin`) from serving another. A change of
/// settings reaches visitors within 5 minutes.
#[utoipa::path(
    get,
    path = "/api/v1/chat/config",
    params(ConfigQuery),
    responses(
        (status = 200, description = "The site's widget settings; cacheable for 5 minutes", body = WidgetConfig, headers(
            ("Cache-Control" = String, description = "`public, max-age=300`"),
            ("Vary" = String, description = "`Origin`"),
        )),
        (status = 403, description = "`origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn get_config(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ConfigQuery>,
) -> ApiResult<([(axum::http::HeaderName, String); 2], Json<WidgetConfig>)> {
    let site = load_site(&state.env, &caller, Limit::Config, &query.site_key).await?;
    let proactive = proactive::any_enabled(&db::database(&state.env)?, site.id).await?;
    let (launcher_offset_x, launcher_offset_y) = site.launcher_offsets();
    let config = WidgetConfig {
        title: site.header_title(),
        avatar_url: site.avatar_url(),
        greetings: site.greetings(),
        reasons: site.request_reasons(),
        launcher_position: site.launcher_position,
        launcher_offset_x,
        launcher_offset_y,
        theme_text_color: theme::readable_text_on(&site.theme_color).to_string(),
        theme_ink_color: theme::ink_on_white(&site.theme_color),
        proactive,
        site_key: site.site_key,
        name: site.name,
        greeting: site.greeting,
        theme_color: site.theme_color,
        custom_css: site.custom_css,
    };
    let cache = [(CACHE_CONTROL, format!("public, max-age={CONFIG_MAX_AGE_SECONDS}")), (VARY, "Origin".to_string())];
    Ok((cache, Json(config)))
}
