//! `GET /api/v1/chat/config?site_key=` (seed 004, "Get Widget Config").

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::config::{ConfigQuery, WidgetConfig};

use super::{load_site, Caller, Limit};
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/config` route: the site's widget settings,
/// 404 `not_found` for an unknown key; 60 a minute per site key and IP (seed 004).
#[worker::send]
pub async fn get_config(State(state): State<AppState>, caller: Caller, Query(query): Query<ConfigQuery>) -> ApiResult<Json<WidgetConfig>> {
    let site = load_site(&state.env, &caller, Limit::Config, &query.site_key).await?;
    Ok(Json(WidgetConfig { site_key: site.site_key, name: site.name, greeting: site.greeting, theme_color: site.theme_color }))
}
