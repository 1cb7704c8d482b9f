//! The visitor's contact details (seed 001): `POST /api/v1/chat/email` and
//! `POST /api/v1/chat/contact`, shown to operators.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::contact::{ContactRequest, EmailRequest, Saved};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::ErrorBody;
use edgechat_shared::validate;

use super::{load_visitor, Caller, Limit};
use crate::db::{self};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Stores contact details on the visitor (created if the session has not
/// written yet); absent fields stay as they are.
async fn save_contact(state: &AppState, caller: &Caller, route: &'static str, request: &ContactRequest) -> ApiResult<()> {
    let visitor = load_visitor(&state.env, caller, Limit::Write(route), &request.site_key, &request.session_id).await?;
    let db = db::database(&state.env)?;
    let visitor_id = match visitor.visitor_id {
        Some(id) => id,
        None => db::visitors::ensure_visitor(&db, visitor.site.id, &request.session_id).await?,
    };
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let (email, phone, name) = (present(&request.email), present(&request.phone), present(&request.name));
    if let Some(conversation) = db::visitors::set_contact(&db, visitor_id, email.as_deref(), phone.as_deref(), name.as_deref()).await? {
        crate::events::publish_conversation(&state.env, conversation).await;
    }
    Ok(())
}

/// Handles the `POST /api/v1/chat/email` route (seed 001): saves the
/// visitor's email, shown to operators. 422 for an invalid email.
#[utoipa::path(
    post,
    path = "/api/v1/chat/email",
    params(IdentityQuery),
    request_body = EmailRequest,
    responses(
        (status = 200, description = "Saved on the visitor", body = Saved),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: invalid email, malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/chat/contact",
    params(IdentityQuery),
    request_body = ContactRequest,
    responses(
        (status = 200, description = "Saved on the visitor; absent fields stay as they are", body = Saved),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: neither email nor phone, an invalid one, or a malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_contact(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: ContactRequest = json_object(&body)?;
    request.validate()?;
    if let Some(phone) = request.phone.as_deref().filter(|p| !p.is_empty()) {
        crate::phone::check(&state.env, phone).await?;
    }
    save_contact(&state, &caller, "contact", &request).await?;
    Ok(Json(Saved { success: true, message: "Contact saved".into() }))
}
