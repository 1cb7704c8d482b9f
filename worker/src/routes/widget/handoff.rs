//! `POST /api/v1/chat/handoff` (issue 6): the visitor accepts the offer of a person.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::handoff::{HandoffRequest, HandoffResponse};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::api::Mode;
use edgechat_shared::error::ErrorBody;
use edgechat_shared::texts::Lang;

use super::{load_visitor, Caller, Limit};
use crate::db::{self, conversations};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/chat/handoff` route (issue 6): the visitor
/// accepts the offer of a person. Body `{"site_key","session_id","lang"?}`; the
/// conversation switches to `operator` mode (the AI stops answering), the
/// visitor's streams get a `mode` event, and the account's operators get
/// `mode` and `handoff` events live, all under the Room's write lock (an
/// answer being written then is not stored). Accepting twice changes and
/// notifies nothing more. Answers [`HandoffResponse`], its notice in `lang`,
/// else in the conversation's language (its last visitor message's `lang`),
/// else English; 404 before the visitor's first
/// message, 403 `blocked`, 429 past 20 a minute.
#[utoipa::path(
    post,
    path = "/api/v1/chat/handoff",
    params(IdentityQuery),
    request_body = HandoffRequest,
    responses(
        (status = 200, description = "The conversation is in `operator` mode; accepting again changes nothing", body = HandoffResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key`, `session_id` or `lang`, or `user_id` over 128 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_handoff(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<HandoffResponse>> {
    let request: HandoffRequest = json_object(&body)?;
    request.validate()?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("handoff"), &request.site_key, &request.session_id).await?;
    let conversation = visitor.conversation()?;
    // The language is read before the hand-over, so an answer is never a 500
    // after the hand-over took effect.
    let lang = match request.lang {
        Some(tag) => Some(tag),
        None => conversations::lang(&db::database(&state.env)?, conversation.conversation_id).await?,
    };
    conversation.handoff(&state.env).await?;
    let message = Lang::from_tag(lang.as_deref()).texts().handoff_accepted.to_string();
    Ok(Json(HandoffResponse { success: true, mode: Mode::Operator, message }))
}
