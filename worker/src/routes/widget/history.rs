//! `GET /api/v1/chat/history?site_key=&session_id=` (seed 001).

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::history::{HistoryQuery, HistoryResponse};

use super::{load_visitor, Caller, Limit};
use crate::db;
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/history` route: the visitor's conversation
/// in `seq` order; an empty list for a session that has not written yet.
#[worker::send]
pub async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<HistoryResponse>> {
    let visitor = load_visitor(&state.env, &caller, Limit::Read("history"), &query.site_key, &query.session_id).await?;
    let database = db::database(&state.env)?;
    let Some(conversation_id) = visitor.conversation_id else {
        return Ok(Json(HistoryResponse { success: true, conversation_id: None, messages: Vec::new() }));
    };
    let messages = db::messages::after(&database, conversation_id, 0).await?;
    Ok(Json(HistoryResponse {
        success: true,
        conversation_id: Some(conversation_id),
        messages: messages.iter().map(|m| m.to_chat_message(&visitor.file_links())).collect(),
    }))
}
