//! `POST /api/v1/chat/close` (seed 003, user-initiated close): the visitor ends the chat.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::contact::Saved;
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::visitor::{IdentityQuery, VisitorQuery};
use edgechat_shared::error::ErrorBody;

use super::{load_visitor, Caller, Limit};
use crate::db::conversations::{self, StateChange};
use crate::db::{self};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/chat/close` route (seed 003, user-initiated
/// close): `{"site_key","session_id"}`; closes the visitor's conversation,
/// announces it live, and the widget offers the rating. 404 before the
/// visitor's first message.
#[utoipa::path(
    post,
    path = "/api/v1/chat/close",
    params(IdentityQuery),
    request_body = VisitorQuery,
    responses(
        (status = 200, description = "The conversation is closed and a `status` event announces it", body = Saved),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`, or `user_id` over 128 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_close(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: VisitorQuery = json_object(&body)?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("close"), &request.site_key, &request.session_id).await?;
    let room = visitor.conversation()?;
    let conversation_id = room.conversation_id;
    let change = StateChange { status: Some(Status::Closed), ..Default::default() };
    conversations::change(&db::database(&state.env)?, conversation_id, Some(room.account_id), change).await?;
    crate::events::publish_conversation(&state.env, conversation_id).await;
    room.signal(&state.env, &LiveEvent::Status { conversation_id, status: Status::Closed }).await?;
    Ok(Json(Saved { success: true, message: "Conversation closed".into() }))
}
