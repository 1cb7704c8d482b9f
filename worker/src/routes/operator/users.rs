//! `/v1/users` and `/v1/chat/users`, `/v1/chat/agents` (seed 002, "Users"):
//! the operators of the caller's account.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::auth::{Operator, OperatorRole, SessionEnd};
use edgechat_shared::api::users::{InviteOperator, OperatorList, RoleChange};
use edgechat_shared::error::ErrorBody;

use crate::auth::{password, CurrentOperator};
use crate::db;
use crate::db::users::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::inbox::EndSessions;
use crate::routes::{json_object, AppState};

fn last_owner() -> ApiError {
    ApiError::conflict("An account needs at least one owner")
}

/// Refuses an admin's change to an owner, or any grant of `owner` by a non-owner.
fn check_authority(caller: &CurrentOperator, target_role: OperatorRole, new_role: Option<OperatorRole>) -> ApiResult<()> {
    caller.require(OperatorRole::Admin)?;
    let touches_owner = target_role == OperatorRole::Owner || new_role == Some(OperatorRole::Owner);
    if touches_owner && caller.role() != OperatorRole::Owner {
        return Err(ApiError::forbidden("Only an owner may manage owners"));
    }
    Ok(())
}

/// Handles the `POST /v1/users` route (owner/admin): adds an operator with
/// an initial password. 201 [`Operator`]; 409 email taken; 403 for an admin
/// adding an owner; 429 past 30 invitations a minute for the account (each
/// costs a password hash, and a 409 tells whether an email is taken anywhere).
#[utoipa::path(
    post,
    path = "/v1/users",
    request_body = InviteOperator,
    responses(
        (status = 201, description = "The new operator", body = Operator),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role; only an owner adds owners", body = ErrorBody),
        (status = 409, description = "`conflict`: an operator with this email exists", body = ErrorBody),
        (status = 422, description = "`validation_error`: an invalid email, display name or password", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 invitations a minute for this account; nothing is created", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_user(State(state): State<AppState>, caller: CurrentOperator, body: Bytes) -> ApiResult<(StatusCode, Json<Operator>)> {
    let invite: InviteOperator = json_object(&body)?;
    check_authority(&caller, OperatorRole::Agent, Some(invite.role))?;
    invite.validate()?;
    crate::routes::auth::limit_invites(&state, caller.account_id).await?;
    let db = db::database(&state.env)?;
    let taken = || ApiError::conflict("An operator with this email already exists");
    if users::user_by_email(&db, &invite.email).await?.is_some() {
        return Err(taken());
    }
    let hash = password::hash(&invite.password).await?;
    let user =
        users::insert_user(&db, caller.account_id, &invite.email, &invite.display_name, invite.role, &hash).await?.ok_or_else(taken)?;
    Ok((StatusCode::CREATED, Json(user.to_operator())))
}

async fn list(state: &AppState, caller: &CurrentOperator) -> ApiResult<Json<OperatorList>> {
    let rows = users::users(&db::database(&state.env)?, caller.account_id).await?;
    Ok(Json(OperatorList { users: rows.iter().map(UserRow::to_operator).collect() }))
}

/// Handles the `GET /v1/chat/users` route: the account's operators.
#[utoipa::path(
    get,
    path = "/v1/chat/users",
    responses(
        (status = 200, description = "The account's operators, oldest first", body = OperatorList),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_users(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<OperatorList>> {
    list(&state, &caller).await
}

/// Handles the `GET /v1/chat/agents` route: the operators who can answer
/// conversations (every role answers).
#[utoipa::path(
    get,
    path = "/v1/chat/agents",
    responses(
        (status = 200, description = "The operators who can answer conversations (every role)", body = OperatorList),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_agents(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<OperatorList>> {
    list(&state, &caller).await
}

/// Handles the `PATCH /v1/users/{id}` route (owner/admin): changes a role.
/// 409 when it would leave the account without an owner (checked and
/// written in one statement, so concurrent demotions cannot both pass). A
/// real change refuses the operator's earlier access tokens and closes their
/// live sockets (4003, issue 10).
#[utoipa::path(
    patch,
    path = "/v1/users/{id}",
    params(("id" = i64, Path, description = "Operator (user) id")),
    request_body = RoleChange,
    responses(
        (status = 200, description = "The operator with the new role", body = Operator),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role; only an owner changes owners or grants `owner`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such operator in the caller's account", body = ErrorBody),
        (status = 409, description = "`conflict`: the account would have no owner left", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_user(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<Operator>> {
    let change: RoleChange = json_object(&body)?;
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let target = users::user(&db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    check_authority(&caller, target.role, Some(change.role))?;
    let may_manage_owners = caller.role() == OperatorRole::Owner;
    let Some(user) = users::change_role(&db, caller.account_id, id, change.role, may_manage_owners).await? else {
        // Refused: the last owner, or an operator changed or removed since it was read.
        let current = users::user(&db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
        check_authority(&caller, current.role, Some(change.role))?;
        return Err(last_owner());
    };
    if user.token_version != target.token_version {
        EndSessions { user_id: user.id, version_floor: Some(user.token_version), why: SessionEnd::RoleChanged }
            .send(&state.env, caller.account_id)
            .await?;
    }
    Ok(Json(user.to_operator()))
}

/// Handles the `DELETE /v1/users/{id}` route (owner/admin): removes an
/// operator and their sessions: their access tokens are refused and their
/// live sockets closed (4003, issue 10). 204; 409 for oneself or the last
/// owner (checked and written in one statement).
#[utoipa::path(
    delete,
    path = "/v1/users/{id}",
    params(("id" = i64, Path, description = "Operator (user) id")),
    responses(
        (status = 204, description = "The operator and their sessions are removed"),
        (status = 403, description = "`forbidden`: this needs the owner or admin role; only an owner removes owners", body = ErrorBody),
        (status = 404, description = "`not_found`: no such operator in the caller's account", body = ErrorBody),
        (status = 409, description = "`conflict`: operators cannot remove themselves", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_user(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let target = users::user(&db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    check_authority(&caller, target.role, None)?;
    if target.id == caller.id {
        return Err(ApiError::conflict("Operators cannot remove themselves"));
    }
    if !users::delete_user(&db, caller.account_id, id, caller.role() == OperatorRole::Owner).await? {
        // Refused: the last owner, or an operator changed or removed since it was read.
        let current = users::user(&db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
        check_authority(&caller, current.role, None)?;
        return Err(last_owner());
    }
    EndSessions { user_id: id, version_floor: None, why: SessionEnd::Removed }.send(&state.env, caller.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
