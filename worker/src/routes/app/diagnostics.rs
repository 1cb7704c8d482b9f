//! `POST /api/v1/app/diagnostics` (seed 003, "Diagnostics"): device
//! telemetry, stored without personal data and kept 30 days.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use edgechat_shared::api::diagnostics::{self, MAX_DIAGNOSTICS_DEPTH};
use edgechat_shared::error::{ErrorBody, FieldError};

use super::AppUser;
use crate::db::{self, devices};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles `POST /api/v1/app/diagnostics`: stores one telemetry report,
/// any JSON object of at most 16 KiB and 16 levels, after dropping every
/// field that names personal data at any depth (email, phone, name, ip,
/// token, password, address, location, …: `diagnostics::is_pii_field`).
/// Reports are deleted after 30 days by the cron sweep; a user keeps the
/// newest 20 (`MAX_DIAGNOSTICS_PER_USER`), a new one deleting the oldest.
#[utoipa::path(
    post,
    path = "/api/v1/app/diagnostics",
    tag = "app",
    security(("app_session" = [])),
    request_body(content = Object, description = "Device telemetry: a JSON object (app version, OS, model, timings, errors, …)"),
    responses(
        (status = 204, description = "Stored (without personal data); the user's reports past the newest 20 are deleted"),
        (status = 400, description = "`bad_request`: the body is not a JSON object", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 16 KiB", body = ErrorBody),
        (status = 422, description = "`validation_error`: nested deeper than 16 levels", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_diagnostics(State(state): State<AppState>, user: AppUser, body: Bytes) -> ApiResult<StatusCode> {
    let mut report: serde_json::Value = json_object(&body)?;
    if diagnostics::depth(&report) > MAX_DIAGNOSTICS_DEPTH {
        return Err(FieldError::new("body", format!("diagnostics nest at most {MAX_DIAGNOSTICS_DEPTH} levels")).into());
    }
    diagnostics::scrub(&mut report);
    devices::store_diagnostics(&db::database(&state.env)?, user.visitor_id, &report.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}
