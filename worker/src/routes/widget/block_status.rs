//! `GET /api/v1/chat/block-status` (seed 001): whether operators blocked the visitor.

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::visitor::{BlockStatus, IdentityQuery, VisitorQuery};
use edgechat_shared::error::ErrorBody;

use super::{load_visitor_any, Caller, Limit};
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/block-status` route (seed 001):
/// `{"success":true,"blocked":…}` (200 also for a blocked visitor).
#[utoipa::path(
    get,
    path = "/api/v1/chat/block-status",
    params(VisitorQuery, IdentityQuery),
    responses(
        (status = 200, description = "Whether the site's operators blocked the visitor (200 also for a blocked visitor)", body = BlockStatus),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`, or `user_id` over 128 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn get_block_status(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<VisitorQuery>,
) -> ApiResult<Json<BlockStatus>> {
    let visitor = load_visitor_any(&state.env, &caller, Limit::Read("block-status"), &query.site_key, &query.session_id).await?;
    Ok(Json(BlockStatus { success: true, blocked: visitor.blocked }))
}
