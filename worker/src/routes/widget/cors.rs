//! CORS for the widget API: the widget runs on the site owner's pages, so
//! every route answers cross-origin requests, but only from the site's
//! allowed origins (exact or `https://*.example.com`; an empty list allows
//! any). Preflights name the site with `?site_key=` (the widget adds it to
//! every POST URL); the requests themselves are checked by
//! [`super::check_origin`].

use axum::extract::{Query, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use edgechat_shared::api::visitor::VisitorQuery;

use super::check_origin;
use crate::db::{self, sites};
use crate::error::ApiResult;
use crate::routes::AppState;

/// How long browsers may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: u32 = 600;

/// Answers preflights (204 for allowed origins, 403 `origin_not_allowed`
/// otherwise) and adds `Access-Control-Allow-Origin` to every answer.
#[worker::send]
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(ORIGIN).cloned();
    if request.method() == Method::OPTIONS {
        return match preflight(&state, &request).await {
            Ok(()) => {
                let mut response = StatusCode::NO_CONTENT.into_response();
                let headers = response.headers_mut();
                headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"));
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type, last-event-id"));
                headers.insert(ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE.into());
                allow(response, origin)
            }
            Err(refused) => refused.into_response(),
        };
    }
    allow(next.run(request).await, origin)
}

/// Echoes `origin` in `Access-Control-Allow-Origin`, unless it is not
/// ASCII (no browser sends such an `Origin`; see [`super::check_origin`]).
fn allow(mut response: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(origin) = origin.filter(|o| o.to_str().is_ok()) {
        response.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        // A route whose answer is cached publicly says `Vary: Origin` itself.
        if !response.headers().get_all(VARY).iter().any(|v| v == "Origin") {
            response.headers_mut().append(VARY, HeaderValue::from_static("Origin"));
        }
    }
    response
}

/// Refuses a preflight from an origin the named site does not allow.
async fn preflight(state: &AppState, request: &Request) -> ApiResult<()> {
    let Ok(Query(query)) = Query::<VisitorQuery>::try_from_uri(request.uri()) else { return Ok(()) };
    if query.site_key.is_empty() {
        return Ok(());
    }
    match sites::by_key(&db::database(&state.env)?, &query.site_key).await? {
        Some(site) => check_origin(&site, request.headers()),
        None => Ok(()),
    }
}
