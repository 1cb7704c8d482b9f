//! `GET /v1/complaints` and `PATCH /v1/complaints/{id}` (seed 003,
//! operators' side of complaints): list, filter and mark handled.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use edgechat_shared::api::complaints::{Complaint, ComplaintChange, ComplaintFilter, ComplaintList};
use edgechat_shared::error::{ErrorBody, FieldError};

use super::page_size;
use crate::auth::CurrentOperator;
use crate::db::{self, complaints};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

/// Handles the `GET /v1/complaints` route: the account's complaints,
/// newest first, filtered by `category`, `status` and `site_id`; cursor
/// pagination (`limit` 1 to 100, default 25). 422 for a bad filter or cursor.
#[utoipa::path(
    get,
    path = "/v1/complaints",
    params(ComplaintFilter),
    responses(
        (status = 200, description = "A page of complaints, newest first", body = ComplaintList),
        (status = 422, description = "`validation_error`: an unknown `category` or `status`, a `cursor` this API did not give, a `limit` outside 1 to 100", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_complaints(
    State(state): State<AppState>,
    caller: CurrentOperator,
    filter: Result<Query<ComplaintFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ComplaintList>> {
    let Query(filter) = filter.map_err(|e| FieldError::new("query", e.body_text()))?;
    let limit = page_size(filter.limit)?;
    let before = match filter.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| FieldError::new("cursor", "cursor is not one this API gave"))?),
    };
    let db = db::database(&state.env)?;
    let (complaints, more) = complaints::list(&db, caller.account_id, &filter, before, limit).await?;
    let next_cursor = if more { complaints.last().map(|c| c.id.to_string()) } else { None };
    Ok(Json(ComplaintList { complaints, next_cursor }))
}

/// Handles the `PATCH /v1/complaints/{id}` route: `{"status": "handled",
/// "note": "…"}` records the caller and the time; `open` clears them (409
/// when the same user has filed the same complaint again meanwhile).
#[utoipa::path(
    patch,
    path = "/v1/complaints/{id}",
    params(("id" = i64, Path, description = "Complaint id")),
    request_body = ComplaintChange,
    responses(
        (status = 200, description = "The complaint after the change", body = Complaint),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such complaint in the caller's account", body = ErrorBody),
        (status = 409, description = "`conflict`: reopening it while the same user has the same complaint open", body = ErrorBody),
        (status = 422, description = "`validation_error`: a status other than `open` or `handled`, a note over 2,000 characters", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_complaint(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<Complaint>> {
    let change: ComplaintChange = json_object(&body)?;
    let (status, note) = change.validate()?;
    let db = db::database(&state.env)?;
    let complaint = complaints::change(&db, caller.account_id, id, status, note.as_deref(), caller.id, &caller.display_name)
        .await?
        .ok_or_else(|| ApiError::not_found("complaint"))?;
    if complaint.status != status {
        return Err(ApiError::conflict("The same user has filed this complaint again; handle the open one"));
    }
    Ok(Json(complaint))
}
