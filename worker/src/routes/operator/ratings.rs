//! `GET /v1/ratings` (seed 003, operators' side of CSAT): the account's
//! ratings report per site and period.

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::rating::{RatingsQuery, RatingsReport};
use edgechat_shared::error::{ErrorBody, FieldError};

use crate::auth::CurrentOperator;
use crate::db::{self, ratings};
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /v1/ratings` route: count, average, distribution of 1
/// to 5 stars and the newest 50 comments of the account's CSAT ratings
/// (widget and app conversation ratings, and ticket ratings), optionally of
/// one site (`site_id`) and period (`from`, `to`: whole UTC days, both
/// included). A site of another account reports nothing. 422 for a bad
/// date or `from` after `to`.
#[utoipa::path(
    get,
    path = "/v1/ratings",
    params(RatingsQuery),
    responses(
        (status = 200, description = "The report; `average` is `null` without ratings", body = RatingsReport),
        (status = 422, description = "`validation_error`: `from` or `to` not a `YYYY-MM-DD` date, `from` after `to`, a `site_id` that is not a number", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_ratings(
    State(state): State<AppState>,
    caller: CurrentOperator,
    query: Result<Query<RatingsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<RatingsReport>> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let period = query.period()?;
    let db = db::database(&state.env)?;
    Ok(Json(ratings::report(&db, caller.account_id, query.site_id, &period).await?))
}
