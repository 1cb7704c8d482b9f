//! `/v1/sites/{id}/proactive`: a site's proactive rules (reads for every
//! operator, writes for owners and admins).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::proactive::{ProactiveInput, ProactiveList, ProactiveRule};
use edgechat_shared::error::{ErrorBody, FieldError};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use crate::auth::CurrentOperator;
use crate::db::{self, int, opt_text};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

#[derive(Debug, Deserialize)]
struct RuleRow {
    id: i64,
    message: String,
    url_match: String,
    delay_seconds: i64,
    once_per_visitor: i64,
    enabled: i64,
}

impl RuleRow {
    fn to_rule(&self) -> ProactiveRule {
        ProactiveRule {
            id: self.id,
            message: self.message.clone(),
            url_match: self.url_match.clone(),
            delay_seconds: self.delay_seconds,
            once_per_visitor: self.once_per_visitor != 0,
            enabled: self.enabled != 0,
        }
    }
}

const RULE_COLUMNS: &str = "id, message, url_match, delay_seconds, once_per_visitor, enabled";

/// The caller's site `id`, or 404.
async fn site_id(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<i64> {
    Ok(db::sites::site(db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("site"))?.id)
}

fn flag(value: Option<bool>) -> JsValue {
    value.map(|b| int(i64::from(b))).unwrap_or(JsValue::NULL)
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
    let rows: Vec<RuleRow> = db
        .prepare(format!("SELECT {RULE_COLUMNS} FROM proactive_rules WHERE site_id = ?1 ORDER BY id"))
        .bind(&[int(site)])?
        .all()
        .await?
        .results()?;
    Ok(Json(ProactiveList { rules: rows.iter().map(RuleRow::to_rule).collect() }))
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
        (status = 422, description = "`validation_error`: no message, or an invalid field", body = ErrorBody),
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
    let row: RuleRow = db
        .prepare(format!(
            "INSERT INTO proactive_rules (site_id, message, url_match, delay_seconds, once_per_visitor, enabled) \
             VALUES (?1, ?2, COALESCE(?3, ''), COALESCE(?4, 0), COALESCE(?5, 1), COALESCE(?6, 1)) RETURNING {RULE_COLUMNS}"
        ))
        .bind(&[
            int(site),
            opt_text(Some(message.trim())),
            opt_text(input.url_match.as_deref()),
            input.delay_seconds.map(int).unwrap_or(JsValue::NULL),
            flag(input.once_per_visitor),
            flag(input.enabled),
        ])?
        .first(None)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok((StatusCode::CREATED, Json(row.to_rule())))
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
    let row: RuleRow = db
        .prepare(format!(
            "UPDATE proactive_rules SET message = COALESCE(?1, message), url_match = COALESCE(?2, url_match), \
             delay_seconds = COALESCE(?3, delay_seconds), once_per_visitor = COALESCE(?4, once_per_visitor), \
             enabled = COALESCE(?5, enabled) WHERE id = ?6 AND site_id = ?7 RETURNING {RULE_COLUMNS}"
        ))
        .bind(&[
            opt_text(input.message.as_deref().map(str::trim)),
            opt_text(input.url_match.as_deref()),
            input.delay_seconds.map(int).unwrap_or(JsValue::NULL),
            flag(input.once_per_visitor),
            flag(input.enabled),
            int(rule_id),
            int(site),
        ])?
        .first(None)
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok(Json(row.to_rule()))
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
    db.prepare("DELETE FROM proactive_rules WHERE id = ?1 AND site_id = ?2 RETURNING id")
        .bind(&[int(rule_id), int(site)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| ApiError::not_found("rule"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The enabled rules of `site_id` (for the widget's poll).
pub async fn enabled_rules(db: &D1Database, site_id: i64) -> worker::Result<Vec<ProactiveRule>> {
    let rows: Vec<RuleRow> = db
        .prepare(format!("SELECT {RULE_COLUMNS} FROM proactive_rules WHERE site_id = ?1 AND enabled = 1 ORDER BY id"))
        .bind(&[int(site_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.iter().map(RuleRow::to_rule).collect())
}
