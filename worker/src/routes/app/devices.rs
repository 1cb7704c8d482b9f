//! `POST /api/v1/app/devices/register`, `DELETE /api/v1/app/devices/{id}`
//! and `GET /api/v1/app/devices/web-push-key` (seed 003, "Devices &
//! settings"): where a signed-in user's push notifications go.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::devices::{DeviceRegistered, Platform, RegisterDeviceRequest, WebPushKey};
use edgechat_shared::error::{ErrorBody, FieldError};

use super::AppUser;
use crate::db::{self, devices};
use crate::error::{ApiError, ApiResult};
use crate::push;
use crate::routes::{json_object, AppState};

/// Handles `POST /api/v1/app/devices/register`: registers the device's
/// push address for the user (an upsert: the same platform and token
/// answer the same id). A `tma` device's token is the Mini App's
/// `Telegram.WebApp.initData`: the user id it proves
/// ([`push::telegram::user_of`]) is the chat their notifications go to. A user keeps at most 10 devices; one more forgets
/// the least recently registered.
#[utoipa::path(
    post,
    path = "/api/v1/app/devices/register",
    tag = "app",
    security(("app_session" = [])),
    request_body = RegisterDeviceRequest,
    responses(
        (status = 200, description = "Registered (or registered again): the device id", body = DeviceRegistered),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 422, description = "`validation_error`: an unknown `platform`; an empty or oversized `token`; a `mobile` token that is not an FCM registration token; a `tma` token that is not the Mini App's `initData` signed for this deployment's bot within a day (or no `TELEGRAM_BOT_TOKEN`); a `web` subscription without an https endpoint on a public host, a 65-byte `keys.p256dh` P-256 point or a 16-byte `keys.auth`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_register(State(state): State<AppState>, user: AppUser, body: Bytes) -> ApiResult<Json<DeviceRegistered>> {
    let request: RegisterDeviceRequest = json_object(&body)?;
    let (platform, mut token) = request.validate()?;
    match platform {
        Platform::Web => {
            token = push::web::Subscription::canonical(&token, push::allow_local(&state.env))
                .await
                .map_err(|why| FieldError::new("token", why))?;
        }
        Platform::Tma => {
            let bot = push::secret(&state.env, "TELEGRAM_BOT_TOKEN")
                .ok_or_else(|| FieldError::new("platform", "tma needs this deployment's Telegram bot (TELEGRAM_BOT_TOKEN)"))?;
            token =
                push::telegram::user_of(&token, &bot, crate::auth::now_secs()).map_err(|why| FieldError::new("token", why))?.to_string();
        }
        Platform::Mobile => {}
    }
    let id = devices::register(&db::database(&state.env)?, user.visitor_id, platform, &token).await?;
    Ok(Json(DeviceRegistered { id, platform }))
}

/// Handles `DELETE /api/v1/app/devices/{id}`: unregisters one of the
/// user's devices (on logout); it gets no more pushes.
#[utoipa::path(
    delete,
    path = "/api/v1/app/devices/{id}",
    tag = "app",
    security(("app_session" = [])),
    params(("id" = i64, Path, description = "Device id, from the registration")),
    responses(
        (status = 204, description = "Unregistered"),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: the user has no such device (another user's is not theirs)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn delete_device(State(state): State<AppState>, user: AppUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("device"))?;
    if devices::delete(&db::database(&state.env)?, user.visitor_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("device"))
    }
}

/// Handles `GET /api/v1/app/devices/web-push-key`: the server's VAPID
/// public key, which a browser passes to `pushManager.subscribe` as
/// `applicationServerKey` before registering a `web` device.
#[utoipa::path(
    get,
    path = "/api/v1/app/devices/web-push-key",
    tag = "app",
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The VAPID public key (`null` when Web Push is not configured)", body = WebPushKey),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_web_push_key(State(state): State<AppState>, _user: AppUser) -> ApiResult<Json<WebPushKey>> {
    Ok(Json(WebPushKey { vapid_public_key: push::vapid_public_key(&state.env).await }))
}
