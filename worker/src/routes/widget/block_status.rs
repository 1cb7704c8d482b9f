//! `GET /api/v1/chat/block-status` (seed 001): whether operators blocked the visitor.

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::visitor::{BlockStatus, VisitorQuery};

use super::{load_visitor_any, Caller, Limit};
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/block-status` route (seed 001):
/// `{"success":true,"blocked":…}` (200 also for a blocked visitor).
#[worker::send]
pub async fn get_block_status(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<VisitorQuery>,
) -> ApiResult<Json<BlockStatus>> {
    let visitor = load_visitor_any(&state.env, &caller, Limit::Read("block-status"), &query.site_key, &query.session_id).await?;
    Ok(Json(BlockStatus { success: true, blocked: visitor.blocked }))
}
