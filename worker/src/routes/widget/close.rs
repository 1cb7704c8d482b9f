//! `POST /api/v1/chat/close` (seed 003, user-initiated close): the visitor ends the chat.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::contact::Saved;
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::visitor::VisitorQuery;

use super::{load_visitor, Caller, Limit};
use crate::db::conversations::{self, StateChange};
use crate::db::{self};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/chat/close` route (seed 003, user-initiated
/// close): `{"site_key","session_id"}`; closes the visitor's conversation,
/// announces it live, and the widget offers the rating. 404 before the
/// visitor's first message.
#[worker::send]
pub async fn post_close(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: VisitorQuery = json_object(&body)?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("close"), &request.site_key, &request.session_id).await?;
    let room = visitor.conversation()?;
    let conversation_id = room.conversation_id;
    let change = StateChange { status: Some(Status::Closed), ..Default::default() };
    conversations::change(&db::database(&state.env)?, conversation_id, Some(room.account_id), change).await?;
    room.signal(&state.env, &LiveEvent::Status { conversation_id, status: Status::Closed }).await?;
    Ok(Json(Saved { success: true, message: "Conversation closed".into() }))
}
