//! `GET /api/v1/chat/config?site_key=` (seed 004, "Get Widget Config").

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::config::{ConfigQuery, WidgetConfig};
use edgechat_shared::error::ErrorBody;

use super::{load_site, Caller, Limit};
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/config` route: the site's widget settings,
/// 404 `not_found` for an unknown key; 60 a minute per site key and IP (seed 004).
#[utoipa::path(
    get,
    path = "/api/v1/chat/config",
    params(ConfigQuery),
    responses(
        (status = 200, description = "The site's widget settings", body = WidgetConfig),
        (status = 403, description = "`origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn get_config(State(state): State<AppState>, caller: Caller, Query(query): Query<ConfigQuery>) -> ApiResult<Json<WidgetConfig>> {
    let site = load_site(&state.env, &caller, Limit::Config, &query.site_key).await?;
    let reasons = site.request_reasons();
    Ok(Json(WidgetConfig {
        site_key: site.site_key,
        name: site.name,
        greeting: site.greeting,
        theme_color: site.theme_color,
        reasons,
        title: String::new(),
        avatar_url: None,
        custom_css: String::new(),
        greetings: Default::default(),
        theme_text_color: String::new(),
        theme_ink_color: String::new(),
    }))
}
