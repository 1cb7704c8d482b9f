//! `GET /api/v1/chat/pending-proactive` (seed 001): the nudges due on this
//! page now. The loader polls it while the page is open, before any
//! interaction, so it needs no session (and writes no storage).

use axum::extract::{Query, State};
use axum::Json;
use edgechat_shared::api::proactive::{url_matches, Nudge, PendingProactive, PendingQuery};
use edgechat_shared::error::ErrorBody;
use edgechat_shared::validate;

use super::{load_site, Caller, Limit};
use crate::db::{self};
use crate::error::ApiResult;
use crate::routes::AppState;

/// Handles the `GET /api/v1/chat/pending-proactive` route: rules of this
/// site whose pattern matches `url` and whose delay has passed by
/// `seconds_on_page`; a once-per-visitor rule already shown to `session_id`
/// is left out (and is recorded as shown when answered). `next_in` tells
/// when the next rule comes due. 422 `validation_error` for a `url` over
/// `MAX_PAGE_URL_CHARS` (2,048) characters.
#[utoipa::path(
    get,
    path = "/api/v1/chat/pending-proactive",
    params(PendingQuery),
    responses(
        (status = 200, description = "Nudges due now on this page, and `next_in`", body = PendingProactive),
        (status = 403, description = "`origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn get_pending(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PendingQuery>,
) -> ApiResult<Json<PendingProactive>> {
    query.validate()?;
    let site = load_site(&state.env, &caller, Limit::Read("pending-proactive"), &query.site_key).await?;
    let session = query.session_id.as_deref().filter(|s| validate::session_id(s).is_ok());
    let db = db::database(&state.env)?;
    let shown: Vec<i64> = match session {
        Some(session) => db::proactive::shown(&db, site.id, session).await?,
        None => Vec::new(),
    };
    let rules: Vec<_> = db::proactive::enabled_rules(&db, site.id)
        .await?
        .into_iter()
        .filter(|r| url_matches(&r.url_match, &query.url) && !(r.once_per_visitor && shown.contains(&r.id)))
        .collect();
    let (due, later): (Vec<_>, Vec<_>) = rules.into_iter().partition(|r| r.delay_seconds <= query.seconds_on_page.max(0));
    if let Some(session) = session {
        let once: Vec<i64> = due.iter().filter(|r| r.once_per_visitor).map(|r| r.id).collect();
        db::proactive::mark_shown(&db, &once, session).await?;
    }
    let next_in = later.iter().map(|r| r.delay_seconds - query.seconds_on_page.max(0)).min();
    Ok(Json(PendingProactive {
        success: true,
        messages: due.into_iter().map(|r| Nudge { id: r.id, message: r.message }).collect(),
        next_in,
    }))
}
