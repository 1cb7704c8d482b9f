//! `GET /api/v1/chat/history?site_key=&session_id=` (seed 001).

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::history::{HistoryQuery, HistoryResponse, HISTORY_PAGE};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::ErrorBody;

use super::{load_visitor, Caller, Limit};
use crate::db;
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/history` route: the visitor's conversation
/// in `seq` order, its newest [`HISTORY_PAGE`] messages (before
/// `before_seq` when given, `has_more` when older ones remain); an empty
/// list for a session that has not written yet.
#[utoipa::path(
    get,
    path = "/api/v1/chat/history",
    params(HistoryQuery, IdentityQuery),
    responses(
        (status = 200, description = "The visitor's conversation in `seq` order: the newest 100 messages (before `before_seq` when given; `has_more` when older ones remain); an empty list before the first message", body = HistoryResponse),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`, `before_seq` not an integer of 1 or more, or `user_id` over 128 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<HistoryResponse>> {
    query.validate()?;
    let visitor = load_visitor(&state.env, &caller, Limit::Read("history"), &query.site_key, &query.session_id).await?;
    let database = db::database(&state.env)?;
    let Some(conversation_id) = visitor.conversation_id else {
        return Ok(Json(HistoryResponse { success: true, conversation_id: None, messages: Vec::new(), has_more: false }));
    };
    let (rows, has_more) = db::messages::page(&database, conversation_id, query.before_seq, None, HISTORY_PAGE).await?;
    let mut messages: Vec<_> = rows.iter().map(|m| m.to_chat_message(&visitor.file_links())).collect();
    let viewer = db::edits::Reactor::Visitor(visitor.visitor_id.unwrap_or_default());
    db::edits::fill_reactions(&database, &mut messages, viewer).await?;
    Ok(Json(HistoryResponse { success: true, conversation_id: Some(conversation_id), messages, has_more }))
}
