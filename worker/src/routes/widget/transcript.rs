//! `POST /api/v1/chat/transcript`: the widget's "email me a copy" (seed 000,
//! "Used by widget 'email me a copy' buttons").

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;
use edgechat_shared::api::transcripts::{QueuedEmail, VisitorTranscriptRequest, VISITOR_TRANSCRIPTS_PER_DAY};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::{ErrorBody, FieldError};

use super::{load_visitor, Caller, Limit};
use crate::db;
use crate::email::{self, store, RequestedBy, TranscriptOrder};
use crate::error::ApiResult;
use crate::routes::{json_object, public_origin, AppState};

/// Handles the `POST /api/v1/chat/transcript` route: `{"site_key",
/// "session_id","email"?}`; queues the visitor's conversation by email to
/// the contact email they left (`email`, when given, must be that address:
/// a stranger cannot make EdgeChat mail arbitrary addresses), at most 3 a
/// day per conversation and 5 a day to one address whatever the session
/// (the contact email is unverified). 202 `{"id"}`.
#[utoipa::path(
    post,
    path = "/api/v1/chat/transcript",
    params(IdentityQuery),
    request_body = VisitorTranscriptRequest,
    responses(
        (status = 202, description = "The transcript email is queued", body = QueuedEmail),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`; the visitor left no contact email, or `email` is not it", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP; 3 transcripts a day for this conversation, 5 to this address or 500 for the account", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "`not_ready`: email is not configured on this deployment", body = ErrorBody),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_transcript(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<QueuedEmail>)> {
    let request: VisitorTranscriptRequest = json_object(&body)?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("transcript"), &request.site_key, &request.session_id).await?;
    let room = visitor.conversation()?;
    let contact = match visitor.visitor_id {
        Some(id) => store::visitor_email(&db::database(&state.env)?, id).await?,
        None => None,
    };
    let to = contact.ok_or_else(|| FieldError::new("email", "Leave your email first (POST /api/v1/chat/email)"))?;
    if request.email.as_deref().is_some_and(|e| !e.trim().eq_ignore_ascii_case(&to)) {
        return Err(FieldError::new("email", "A transcript goes only to the contact email you left").into());
    }
    let order = TranscriptOrder {
        conversation_id: room.conversation_id,
        to: &to,
        requested_by: RequestedBy::Visitor { per_day: VISITOR_TRANSCRIPTS_PER_DAY },
        base_url: &public_origin(&uri, &caller.headers),
    };
    let id = email::queue_transcript(&state.env, order).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedEmail { id })))
}
