//! `GET` and `PUT /api/v1/app/settings/notifications` (seed 003, "Devices
//! & settings"): which pushes a signed-in user wants (defaults all on).

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::devices::{NotificationSettings, UpdateNotificationSettings};
use edgechat_shared::error::ErrorBody;

use super::AppUser;
use crate::db::{self, devices};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles `GET /api/v1/app/settings/notifications`: the user's notification settings.
#[utoipa::path(
    get,
    path = "/api/v1/app/settings/notifications",
    tag = "app",
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The settings (all `true` until changed)", body = NotificationSettings),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_notification_settings(State(state): State<AppState>, user: AppUser) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(devices::settings(&db::database(&state.env)?, user.visitor_id).await?))
}

/// Handles `PUT /api/v1/app/settings/notifications`: changes the settings
/// named in the body (`chat_messages`, `ticket_updates`, `system_notices`,
/// or seed 003's `chatMessages`, `ticketUpdates`, `systemNotices`); the
/// others stay. Answers them all.
#[utoipa::path(
    put,
    path = "/api/v1/app/settings/notifications",
    tag = "app",
    security(("app_session" = [])),
    request_body = UpdateNotificationSettings,
    responses(
        (status = 200, description = "The settings after the change", body = NotificationSettings),
        (status = 400, description = "`bad_request`: the body is not a JSON object, or a setting is not a boolean", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn put_notification_settings(State(state): State<AppState>, user: AppUser, body: Bytes) -> ApiResult<Json<NotificationSettings>> {
    let update: UpdateNotificationSettings = json_object(&body)?;
    let db = db::database(&state.env)?;
    let settings = update.apply(devices::settings(&db, user.visitor_id).await?);
    devices::save_settings(&db, user.visitor_id, settings).await?;
    Ok(Json(settings))
}
