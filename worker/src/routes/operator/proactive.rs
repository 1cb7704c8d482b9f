//! `/v1/sites/{id}/proactive`: a site's proactive rules (reads for every
//! operator, writes for owners and admins).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::proactive::{ProactiveInput, ProactiveList, ProactiveRule};
use edgechat_shared::error::{ErrorBody, FieldError};
use edgechat_shared::limits::MAX_PROACTIVE_RULES_PER_SITE;
use worker::D1Database;

use crate::auth::CurrentOperator;
use crate::db::{self, proactive};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

/// The caller's site `id`, or 404.
async fn site_id(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<i64> {
    Ok(db::sites::site(db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("site"))?.id)
}

/// Handles the `GET /v1/sites/{id}/proactive` route.
#[utoipa::path(
    get,
    path = "/v1/sites/{id}/proactive",
    params(("id" = i64, Path, description = "Site id")),
    responses(
        (status = 200, description = "The site's proactive rules, oldest first", body = ProactiveList),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_rules(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<Json<ProactiveList>> {
    let db = db::database(&state.env)?;
    let site = site_id(&db, &caller, id).await?;
    Ok(Json(ProactiveList { rules: proactive::rules(&db, site).await? }))
}

/// Handles the `POST /v1/sites/{id}/proactive` route (owner/admin): 201
/// [`ProactiveRule`]; 422 without a message or with a bad field.
#[utoipa::path(
    post,
    path = "/v1/sites/{id}/proactive",
    params(("id" = i64, Path, description = "Site id")),
    request_body = ProactiveInput,
    responses(
        (status = 201, description = "The new rule", body = ProactiveRule),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: no message, or an invalid field; the site has 50 rules already (`MAX_PROACTIVE_RULES_PER_SITE`), nothing added", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_rule(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ProactiveRule>)> {
    caller.require(OperatorRole::Admin)?;
    let input: ProactiveInput = json_object(&body)?;
    input.validate()?;
    let message = input.message.clone().ok_or_else(|| FieldError::new("message", "message is required"))?;
    let db = db::database(&state.env)?;
    let site = site_id(&db, &caller, id).await?;
    let rule = proactive::insert(&db, site, &message, &input).await?.ok_or_else(|| {
        FieldError::new("message", format!("A site has at most {MAX_PROACTIVE_RULES_PER_SITE} proactive rules: delete or edit one"))
    })?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Handles the `PATCH /v1/sites/{id}/proactive/{rule_id}` route (owner/admin).
#[utoipa::path(
    patch,
    path = "/v1/sites/{id}/proactive/{rule_id}",
    params(("id" = i64, Path, description = "Site id"), ("rule_id" = i64, Path, description = "Rule id")),
    request_body = ProactiveInput,
    responses(
        (status = 200, description = "The rule with the fields given changed", body = ProactiveRule),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account, or no such rule", body = ErrorBody),
        (status = 422, description = "`validation_error`: an invalid field", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_rule(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, rule_id)): Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult<Json<ProactiveRule>> {
    caller.require(OperatorRole::Admin)?;
    let input: ProactiveInput = json_object(&body)?;
    input.validate()?;
    let db = db::database(&state.env)?;
    let site = site_id(&db, &caller, id).await?;
    let rule = proactive::update(&db, site, rule_id, &input).await?.ok_or_else(|| ApiError::not_found("rule"))?;
    Ok(Json(rule))
}

/// Handles the `DELETE /v1/sites/{id}/proactive/{rule_id}` route (owner/admin). 204.
#[utoipa::path(
    delete,
    path = "/v1/sites/{id}/proactive/{rule_id}",
    params(("id" = i64, Path, description = "Site id"), ("rule_id" = i64, Path, description = "Rule id")),
    responses(
        (status = 204, description = "The rule is deleted"),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account, or no such rule", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_rule(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, rule_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let site = site_id(&db, &caller, id).await?;
    if !proactive::delete(&db, site, rule_id).await? {
        return Err(ApiError::not_found("rule"));
    }
    Ok(StatusCode::NO_CONTENT)
}
