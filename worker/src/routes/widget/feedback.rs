//! The visitor's details and feedback (seed 001): `POST /api/v1/chat/email`,
//! `/contact`, `/rate`, `/rate/comment`, `GET /api/v1/chat/block-status`,
//! the visitor's own `POST /api/v1/chat/close` (seed 003), and
//! `POST /api/v1/chat/handoff`: accepting the offer of a person (issue 6).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::visitor::{
    BlockStatus, ContactRequest, EmailRequest, HandoffResponse, RateCommentRequest, RateRequest, RateResponse, Saved, VisitorQuery,
    MAX_RATING_COMMENT_CHARS,
};
use edgechat_shared::api::Mode;
use edgechat_shared::error::FieldError;
use edgechat_shared::validate;

use super::{load_visitor, load_visitor_any, Caller, Limit};
use crate::db::{self, int, opt_text};
use crate::error::{ApiError, ApiResult};
use crate::room::RoomContext;
use crate::routes::{json_object, AppState};

/// Stores contact details on the visitor (created if the session has not
/// written yet); absent fields stay as they are.
async fn save_contact(state: &AppState, caller: &Caller, route: &'static str, request: &ContactRequest) -> ApiResult<()> {
    let visitor = load_visitor(&state.env, caller, Limit::Write(route), &request.site_key, &request.session_id).await?;
    let db = db::database(&state.env)?;
    let visitor_id = match visitor.visitor_id {
        Some(id) => id,
        None => db::ensure_visitor(&db, visitor.site.id, &request.session_id).await?,
    };
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    db.prepare("UPDATE visitors SET email = COALESCE(?1, email), phone = COALESCE(?2, phone), name = COALESCE(?3, name) WHERE id = ?4")
        .bind(&[
            opt_text(present(&request.email).as_deref()),
            opt_text(present(&request.phone).as_deref()),
            opt_text(present(&request.name).as_deref()),
            int(visitor_id),
        ])?
        .run()
        .await?;
    Ok(())
}

/// Handles the `POST /api/v1/chat/email` route (seed 001): saves the
/// visitor's email, shown to operators. 422 for an invalid email.
#[worker::send]
pub async fn post_email(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: EmailRequest = json_object(&body)?;
    validate::email(&request.email)?;
    let contact =
        ContactRequest { site_key: request.site_key, session_id: request.session_id, email: Some(request.email), ..Default::default() };
    save_contact(&state, &caller, "email", &contact).await?;
    Ok(Json(Saved { success: true, message: "Email saved".into() }))
}

/// Handles the `POST /api/v1/chat/contact` route (seed 001): email and/or
/// phone (E.164), optional name. 422 when both are missing or one is invalid.
#[worker::send]
pub async fn post_contact(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: ContactRequest = json_object(&body)?;
    request.validate()?;
    save_contact(&state, &caller, "contact", &request).await?;
    Ok(Json(Saved { success: true, message: "Contact saved".into() }))
}

/// Handles the `POST /api/v1/chat/rate` route (seed 001): a CSAT score 1–5
/// of the visitor's conversation. One rating per conversation: a second
/// answers `{"id": null, "duplicate": true}` and keeps the first (seed 003).
/// 422 score out of range; 404 before the visitor's first message.
#[worker::send]
pub async fn post_rate(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<RateResponse>> {
    let request: RateRequest = json_object(&body)?;
    if !(1..=5).contains(&request.score) {
        return Err(FieldError::new("score", "score must be 1 to 5").into());
    }
    let visitor = load_visitor(&state.env, &caller, Limit::Write("rate"), &request.site_key, &request.session_id).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("conversation to rate"))?;
    let id = db::database(&state.env)?
        .prepare("INSERT INTO ratings (conversation_id, score) VALUES (?1, ?2) ON CONFLICT (conversation_id) DO NOTHING RETURNING id")
        .bind(&[int(conversation_id), int(request.score)])?
        .first::<i64>(Some("id"))
        .await?;
    Ok(Json(RateResponse { success: true, id, duplicate: id.is_none() }))
}

/// Handles the `POST /api/v1/chat/rate/comment` route (seed 001): a comment
/// of 1 to 2,000 characters on the conversation's rating (replacing an
/// earlier comment). 404 before a rating.
#[worker::send]
pub async fn post_rate_comment(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: RateCommentRequest = json_object(&body)?;
    let chars = request.comment.trim().chars().count();
    if chars == 0 || chars > MAX_RATING_COMMENT_CHARS {
        return Err(FieldError::new("comment", format!("comment must be 1 to {MAX_RATING_COMMENT_CHARS} characters")).into());
    }
    let visitor = load_visitor(&state.env, &caller, Limit::Write("rate"), &request.site_key, &request.session_id).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("rating"))?;
    db::database(&state.env)?
        .prepare("UPDATE ratings SET comment = ?1 WHERE conversation_id = ?2 RETURNING id")
        .bind(&[opt_text(Some(request.comment.trim())), int(conversation_id)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| ApiError::not_found("rating; rate the conversation first"))?;
    Ok(Json(Saved { success: true, message: "Comment saved".into() }))
}

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

/// Handles the `POST /api/v1/chat/close` route (seed 003, user-initiated
/// close): `{"site_key","session_id"}`; closes the visitor's conversation,
/// announces it live, and the widget offers the rating. 404 before the
/// visitor's first message.
#[worker::send]
pub async fn post_close(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: VisitorQuery = json_object(&body)?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("close"), &request.site_key, &request.session_id).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("conversation"))?;
    db::database(&state.env)?
        .prepare("UPDATE conversations SET status = 'closed' WHERE id = ?1")
        .bind(&[int(conversation_id)])?
        .run()
        .await?;
    let room = RoomContext { conversation_id, site_id: visitor.site.id, account_id: visitor.site.account_id };
    room.signal(&state.env, &LiveEvent::Status { conversation_id, status: Status::Closed }).await?;
    Ok(Json(Saved { success: true, message: "Conversation closed".into() }))
}

/// Handles the `POST /api/v1/chat/handoff` route (issue 6): the visitor
/// accepts the offer of a person. Body `{"site_key","session_id"}`; the
/// conversation switches to `operator` mode (the AI stops answering), the
/// visitor's streams get a `mode` event, and the account's operators get
/// `mode` and `handoff` events live, all under the Room's write lock (an
/// answer being written then is not stored). Accepting twice changes and
/// notifies nothing more. Answers [`HandoffResponse`]; 404 before the visitor's first
/// message, 403 `blocked`, 429 past 20 a minute.
#[worker::send]
pub async fn post_handoff(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<HandoffResponse>> {
    let request: VisitorQuery = json_object(&body)?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("handoff"), &request.site_key, &request.session_id).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("conversation"))?;
    let room = RoomContext { conversation_id, site_id: visitor.site.id, account_id: visitor.site.account_id };
    room.handoff(&state.env).await?;
    Ok(Json(HandoffResponse {
        success: true,
        mode: Mode::Operator,
        message: "A person from our team will reply here as soon as possible.".into(),
    }))
}
