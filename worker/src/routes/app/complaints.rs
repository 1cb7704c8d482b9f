//! `POST /api/v1/app/complaints` (seed 003, "CSAT & complaints"): a
//! signed-in user files a complaint.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::complaints::{ComplaintCreated, ComplaintRequest};
use edgechat_shared::error::ErrorBody;

use super::AppUser;
use crate::db::complaints::{self, Filed, NewComplaint};
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/app/complaints` route: a `category` of seed
/// 003's five, a description of 10 to 5,000 characters, and optionally the
/// user's conversation (`chat_id`) and ticket (`dialog_id`) it is about.
/// 201 `{"id": n, "duplicate": false}`; the same open complaint again (a
/// retry) answers 200 with its id and `duplicate: true`. Another user's
/// conversation or ticket is 404; nothing is stored then.
#[utoipa::path(
    post,
    path = "/api/v1/app/complaints",
    request_body = ComplaintRequest,
    responses(
        (status = 201, description = "Stored", body = ComplaintCreated),
        (status = 200, description = "The same user's same open complaint was stored already: its id, `duplicate: true`", body = ComplaintCreated),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: a missing, invalid or expired app session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user", body = ErrorBody),
        (status = 404, description = "`not_found`: `chat_id` or `dialog_id` is not a conversation or ticket of this user", body = ErrorBody),
        (status = 422, description = "`validation_error`: a category other than `funds`, `security`, `operator`, `technical`, `other`; a description under 10 or over 5,000 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's rate limit", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("app_session" = [])),
)]
#[worker::send]
pub async fn post_complaint(State(state): State<AppState>, user: AppUser, body: Bytes) -> ApiResult<(StatusCode, Json<ComplaintCreated>)> {
    let request: ComplaintRequest = json_object(&body)?;
    let (category, description) = request.validate()?;
    let complaint = NewComplaint {
        site_id: user.site.id,
        visitor_id: user.visitor_id,
        category,
        description: &description,
        conversation_id: request.chat_id,
        ticket_id: request.dialog_id,
    };
    match complaints::insert(&db::database(&state.env)?, &complaint).await? {
        Filed::Created(id) => Ok((StatusCode::CREATED, Json(ComplaintCreated { id, duplicate: false }))),
        Filed::Duplicate(id) => Ok((StatusCode::OK, Json(ComplaintCreated { id, duplicate: true }))),
        Filed::NotFound => Err(ApiError::not_found("conversation or ticket of this user")),
    }
}
