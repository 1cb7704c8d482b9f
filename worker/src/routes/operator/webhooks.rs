//! `/v1/webhooks`: the account's outgoing webhook endpoints and their
//! delivery logs (issue 13; seed 003 webhooks). Owners and admins only
//! (an API key, at most an agent, is refused with 403).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::integrations::{
    DeliveryPage, EventType, NewWebhookEndpoint, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointChange, WebhookEndpointList,
    MAX_WEBHOOK_DESCRIPTION, MAX_WEBHOOK_ENDPOINTS, MAX_WEBHOOK_URL,
};
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::{D1Database, Env};

use super::page_size;
use crate::auth::CurrentOperator;
use crate::db::{self, webhooks as store};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};
use crate::webhooks;

/// Checks a URL: length (≤ [`MAX_WEBHOOK_URL`]) and [`webhooks::url_problem`].
fn check_url(env: &Env, url: &str) -> ApiResult<String> {
    let url = url.trim();
    if url.chars().count() > MAX_WEBHOOK_URL {
        return Err(FieldError::new("url", format!("url must be at most {MAX_WEBHOOK_URL} characters")).into());
    }
    if let Some(problem) = webhooks::url_problem(url, webhooks::allow_local(env)) {
        return Err(FieldError::new("url", problem).into());
    }
    Ok(url.to_string())
}

/// Checks a description: at most [`MAX_WEBHOOK_DESCRIPTION`] characters.
fn check_description(description: Option<&str>) -> ApiResult<Option<String>> {
    let description = description.map(str::trim);
    if description.is_some_and(|d| d.chars().count() > MAX_WEBHOOK_DESCRIPTION) {
        return Err(FieldError::new("description", format!("description must be at most {MAX_WEBHOOK_DESCRIPTION} characters")).into());
    }
    Ok(description.map(str::to_string))
}

/// The caller's endpoint `id`, or 404.
async fn endpoint(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<WebhookEndpoint> {
    store::get(db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

/// Handles the `POST /v1/webhooks` route (owner/admin): 201 with the
/// signing secret, shown this once.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    request_body = NewWebhookEndpoint,
    responses(
        (status = 201, description = "The new endpoint with its `secret` (`whsec_` + base64 of 32 bytes), shown only here", body = WebhookEndpoint),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 422, description = "`validation_error`: a URL that is not https, reaches a private, loopback or link-local address, has a user name, or is over 2000 characters; a description over 200 characters; or 10 endpoints already", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_webhook(
    State(state): State<AppState>,
    caller: CurrentOperator,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<WebhookEndpoint>)> {
    caller.require(OperatorRole::Admin)?;
    let input: NewWebhookEndpoint = json_object(&body)?;
    let url = check_url(&state.env, &input.url)?;
    let description = check_description(input.description.as_deref())?;
    let db = db::database(&state.env)?;
    let secret = webhooks::new_secret();
    let mut created = store::insert(&db, caller.account_id, &url, &input.events, description.as_deref(), &secret)
        .await?
        .ok_or_else(|| FieldError::new("url", format!("an account has at most {MAX_WEBHOOK_ENDPOINTS} webhook endpoints")))?;
    created.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(created)))
}

/// Handles the `GET /v1/webhooks` route (owner/admin).
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    responses(
        (status = 200, description = "The account's endpoints, oldest first, without secrets", body = WebhookEndpointList),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_webhooks(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<WebhookEndpointList>> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    Ok(Json(WebhookEndpointList { endpoints: store::list(&db, caller.account_id).await? }))
}

/// Handles the `GET /v1/webhooks/{id}` route (owner/admin).
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint, without its secret", body = WebhookEndpoint),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such endpoint in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_webhook(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<Json<WebhookEndpoint>> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    Ok(Json(endpoint(&db, &caller, id).await?))
}

/// Handles the `PATCH /v1/webhooks/{id}` route (owner/admin): changes the
/// fields given; `disabled: true` pauses deliveries.
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{id}",
    params(("id" = i64, Path, description = "Endpoint id")),
    request_body = WebhookEndpointChange,
    responses(
        (status = 200, description = "The endpoint with the fields given changed", body = WebhookEndpoint),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such endpoint in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a refused URL or a description over 200 characters", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_webhook(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<WebhookEndpoint>> {
    caller.require(OperatorRole::Admin)?;
    let input: WebhookEndpointChange = json_object(&body)?;
    let url = input.url.as_deref().map(|u| check_url(&state.env, u)).transpose()?;
    let description = check_description(input.description.as_deref())?;
    let db = db::database(&state.env)?;
    let events: Option<&[EventType]> = input.events.as_deref();
    let changed = store::update(&db, caller.account_id, id, url.as_deref(), events, description.as_deref(), input.disabled)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(Json(changed))
}

/// Handles the `DELETE /v1/webhooks/{id}` route (owner/admin): 204; the
/// endpoint's pending deliveries are dropped with its log.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "The endpoint is deleted; nothing more is delivered to it"),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such endpoint in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_webhook(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    if !store::delete(&db, caller.account_id, id).await? {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `GET /v1/webhooks/{id}/deliveries` route (owner/admin): the
/// delivery log, one line per attempt, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries",
    params(("id" = i64, Path, description = "Endpoint id"), DeliveryPage),
    responses(
        (status = 200, description = "A page of the log, newest first", body = WebhookDeliveryList),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such endpoint in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad `before` or `limit` (1 to 100)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_deliveries(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    page: Result<Query<DeliveryPage>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<WebhookDeliveryList>> {
    caller.require(OperatorRole::Admin)?;
    let Query(page) = page.map_err(|e| FieldError::new("query", e.body_text()))?;
    let limit = page_size(page.limit)?;
    let db = db::database(&state.env)?;
    let endpoint = endpoint(&db, &caller, id).await?;
    let (deliveries, has_more) = store::attempts(&db, endpoint.id, page.before, limit).await?;
    Ok(Json(WebhookDeliveryList { deliveries, has_more }))
}

/// Handles the `POST /v1/webhooks/{id}/deliveries/{delivery_id}/resend`
/// route (owner/admin): 202; one more attempt of that line's event (same
/// body, same `webhook-id`), logged like any other. 409 while the endpoint
/// is disabled: nothing is queued (it would wait, unseen, and go out on
/// re-enabling).
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
    params(("id" = i64, Path, description = "Endpoint id"), ("delivery_id" = i64, Path, description = "A line of the endpoint's delivery log")),
    responses(
        (status = 202, description = "The event is queued for one more attempt"),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such endpoint in the caller's account, or no such line in its log", body = ErrorBody),
        (status = 409, description = "`conflict`: the endpoint is disabled; nothing is queued", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_resend(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, delivery_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let endpoint = endpoint(&db, &caller, id).await?;
    if endpoint.disabled {
        return Err(ApiError::conflict("This endpoint is disabled; enable it before resending"));
    }
    let (delivery, attempt) = store::resend(&db, endpoint.id, delivery_id).await?.ok_or_else(|| ApiError::not_found("delivery"))?;
    webhooks::enqueue(&state.env, &[store::Due { delivery, attempt }]).await?;
    Ok(StatusCode::ACCEPTED)
}
