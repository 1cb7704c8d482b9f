//! `POST /api/v1/app/csat` (seed 003, "CSAT & complaints"): a signed-in
//! user rates one of their conversations or tickets.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::rating::{CsatRequest, CsatResponse, CsatTarget};
use edgechat_shared::error::ErrorBody;

use super::AppUser;
use crate::db::ratings::{self, TicketRated};
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/app/csat` route: `stars` 1–5 and an optional
/// comment on exactly one of the user's conversations (`conversation_id`:
/// the `ratings` row the widget's rating uses too, one per conversation,
/// with its `rating.created` event) or tickets (`ticket_id`: one rating per
/// ticket and user). 201 `{"id": n, "duplicate": false}` the first time;
/// 200 `{"id": null, "duplicate": true}` for a second rating, which
/// changes nothing (seed 003). Another user's conversation or ticket is 404.
#[utoipa::path(
    post,
    path = "/api/v1/app/csat",
    request_body = CsatRequest,
    responses(
        (status = 201, description = "Stored: `{\"id\": 7, \"duplicate\": false}`", body = CsatResponse),
        (status = 200, description = "Rated already: `{\"id\": null, \"duplicate\": true}`; the first rating stays", body = CsatResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: a missing, invalid or expired app session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation or ticket of this user", body = ErrorBody),
        (status = 422, description = "`validation_error`: `stars` outside 1 to 5, neither or both of `ticket_id` and `conversation_id`, a comment over 2,000 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's rate limit", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("app_session" = [])),
)]
#[worker::send]
pub async fn post_csat(State(state): State<AppState>, user: AppUser, body: Bytes) -> ApiResult<(StatusCode, Json<CsatResponse>)> {
    let request: CsatRequest = json_object(&body)?;
    let (target, comment) = request.validate()?;
    let db = db::database(&state.env)?;
    let id = match target {
        CsatTarget::Conversation(id) => {
            let conversation = user.conversation(&db, id).await?;
            let rated = ratings::insert(&db, conversation.conversation_id, request.stars, comment.as_deref()).await?;
            if rated.is_some() {
                crate::events::publish_conversation(&state.env, conversation.conversation_id).await;
            }
            rated
        }
        CsatTarget::Ticket(id) => {
            match ratings::insert_ticket(&db, user.site.id, user.visitor_id, id, request.stars, comment.as_deref()).await? {
                TicketRated::Created(id) => Some(id),
                TicketRated::Duplicate => None,
                TicketRated::NotFound => return Err(ApiError::not_found("ticket")),
            }
        }
    };
    let status = if id.is_some() { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(CsatResponse { id, duplicate: id.is_none() })))
}
