//! `/v1/api-keys` (issue 13): the account's API keys, managed by signed-in
//! owners and admins (a key never creates, lists or revokes keys). How a key
//! authenticates is in [`crate::auth::CurrentOperator`].

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::integrations::{ApiKey, ApiKeyScope, NewApiKey};
use edgechat_shared::api::list_cap;
use edgechat_shared::error::{ErrorBody, FieldError};
use serde::Deserialize;

use crate::auth::{api_key, CurrentOperator};
use crate::db::{self, api_keys};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

/// The longest key name, in characters (issue 13).
const MAX_NAME_CHARS: usize = 100;

/// Refuses anyone but a signed-in owner or admin (403).
fn check_manager(caller: &CurrentOperator) -> ApiResult<()> {
    caller.require_session()?;
    caller.require(OperatorRole::Admin)
}

/// The body of `POST /v1/api-keys` as sent: absent fields and unknown
/// scopes are 422 (not 400) so a client learns which field is wrong.
#[derive(Deserialize)]
struct KeyInput {
    name: Option<String>,
    #[serde(default, deserialize_with = "list_cap::at_most_or_none::<8, _, _>")]
    scopes: Option<Vec<String>>,
}

impl KeyInput {
    /// A [`NewApiKey`] with a trimmed name of 1 to 100 characters and at
    /// least one known scope (sorted, without repeats); 422 otherwise.
    fn parse(self) -> Result<NewApiKey, FieldError> {
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(FieldError::new("name", "name is required"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(FieldError::new("name", format!("name must be at most {MAX_NAME_CHARS} characters")));
        }
        let mut scopes = Vec::new();
        for scope in self.scopes.unwrap_or_default() {
            let scope = match scope.as_str() {
                "read" => ApiKeyScope::Read,
                "write" => ApiKeyScope::Write,
                _ => return Err(FieldError::new("scopes", format!("unknown scope {scope:?}; scopes are \"read\" and \"write\""))),
            };
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(FieldError::new("scopes", "scopes needs at least one of \"read\" and \"write\""));
        }
        Ok(NewApiKey { name: name.to_string(), scopes })
    }
}

/// Handles the `POST /v1/api-keys` route (signed-in owner/admin): a new key
/// acting as the caller. 201 [`ApiKey`] with `key`, the secret, shown this
/// once (only its SHA-256 hash is stored); 422 for a bad name or scopes or
/// when the account already has 25 keys not revoked.
#[utoipa::path(
    post,
    path = "/v1/api-keys",
    request_body = NewApiKey,
    responses(
        (status = 201, description = "The new key with its secret `key` (`eck_` + 40 hex digits), shown only in this answer", body = ApiKey),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs a signed-in owner or admin (never an API key)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a missing, blank or over-long (100 characters) `name`, missing, empty or unknown `scopes`, or 25 keys already active", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_api_key(State(state): State<AppState>, caller: CurrentOperator, body: Bytes) -> ApiResult<(StatusCode, Json<ApiKey>)> {
    check_manager(&caller)?;
    let input = json_object::<KeyInput>(&body)?.parse()?;
    let secret = api_key::generate();
    let db = db::database(&state.env)?;
    let hash = api_key::key_hash(&secret.key);
    let row = api_keys::insert(&db, caller.account_id, caller.id, &input.name, &input.scopes, &secret.prefix, &hash)
        .await?
        .ok_or_else(|| FieldError::new("scopes", format!("an account has at most {} active API keys", api_keys::MAX_ACTIVE_KEYS)))?;
    Ok((StatusCode::CREATED, Json(row.to_api_key(Some(secret.key)))))
}

/// Handles the `GET /v1/api-keys` route (signed-in owner/admin): the
/// account's keys not revoked, newest first, without their secrets.
#[utoipa::path(
    get,
    path = "/v1/api-keys",
    responses(
        (status = 200, description = "The account's active keys (at most 25), newest first; never a secret", body = [ApiKey]),
        (status = 403, description = "`forbidden`: this needs a signed-in owner or admin (never an API key)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_api_keys(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<Vec<ApiKey>>> {
    check_manager(&caller)?;
    let rows = api_keys::keys(&db::database(&state.env)?, caller.account_id).await?;
    Ok(Json(rows.iter().map(|row| row.to_api_key(None)).collect()))
}

/// Handles the `DELETE /v1/api-keys/{id}` route (signed-in owner/admin):
/// revokes the key; every request with it is refused from then on (401).
/// 204; 404 for another account's key or one already revoked.
#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    params(("id" = i64, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "`forbidden`: this needs a signed-in owner or admin (never an API key)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such active key in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_api_key(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    check_manager(&caller)?;
    if !api_keys::revoke(&db::database(&state.env)?, caller.account_id, id).await? {
        return Err(ApiError::not_found("API key"));
    }
    Ok(StatusCode::NO_CONTENT)
}
