//! `POST /v1/chat/transcript/send` (seed 000, "Send a transcript by email").

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use edgechat_shared::api::transcripts::{QueuedEmail, TranscriptRequest};
use edgechat_shared::chat_id::ChatId;
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::D1Database;

use crate::auth::CurrentOperator;
use crate::db;
use crate::db::chat::{Chat, Create};
use crate::email::{self, RequestedBy, TranscriptOrder};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, public_origin, AppState};

/// The conversation of `chat_id` (seed 000 forms, [`ChatId`]) that
/// operator `user_id` of `account_id` may see, never starting one. Errors:
/// 422 malformed, 404 no such chat.
pub async fn resolve_chat(db: &D1Database, user_id: i64, account_id: i64, chat_id: &str) -> ApiResult<Chat> {
    let chat = ChatId::parse(chat_id)?;
    db::chat::resolve(db, user_id, account_id, &chat, Create::No).await?.ok_or_else(|| ApiError::not_found("chat"))
}

/// Handles the `POST /v1/chat/transcript/send` route (seed 000):
/// `{"chat_id","email"}` (the conversation's customer or a member of the
/// team: EdgeChat mails no arbitrary address); renders the conversation (its newest 1,000
/// messages, each with time and author; the email says when earlier ones
/// were left out) as plain text and escaped HTML and queues it by email.
/// 202 `{"id"}`.
#[utoipa::path(
    post,
    path = "/v1/chat/transcript/send",
    request_body = TranscriptRequest,
    responses(
        (status = 202, description = "The transcript email is queued", body = QueuedEmail),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token or API key", body = ErrorBody),
        (status = 404, description = "`not_found`: no such chat in the caller's account (or an internal one the caller is not in)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed `chat_id` or `email`; `email` is neither the conversation's customer nor a member of the team", body = ErrorBody),
        (status = 429, description = "`rate_limited`: 5 transcripts a day to this address, or 500 a day for the account", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "`not_ready`: email is not configured on this deployment (`RESEND_API_KEY`, `EMAIL_FROM`)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_transcript_send(
    State(state): State<AppState>,
    caller: CurrentOperator,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<QueuedEmail>)> {
    let request: TranscriptRequest = json_object(&body)?;
    request.validate()?;
    let db = db::database(&state.env)?;
    let chat = resolve_chat(&db, caller.id, caller.account_id, &request.chat_id).await?;
    if !email::store::operator_may_send_to(&db, chat.conversation_id, request.email.trim()).await? {
        return Err(FieldError::new("email", "A transcript goes to the conversation's customer or a member of your team").into());
    }
    let order = TranscriptOrder {
        conversation_id: chat.conversation_id,
        to: request.email.trim(),
        requested_by: RequestedBy::Operator,
        base_url: &public_origin(&uri, &headers),
    };
    let id = email::queue_transcript(&state.env, order).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedEmail { id })))
}
