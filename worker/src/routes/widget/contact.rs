//! The visitor's contact details (seed 001): `POST /api/v1/chat/email` and
//! `POST /api/v1/chat/contact`, shown to operators.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::contact::{ContactRequest, EmailRequest, Saved};
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
    db::visitors::set_contact(&db, visitor_id, email.as_deref(), phone.as_deref(), name.as_deref()).await?;
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
