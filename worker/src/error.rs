//! The one error type of every route, answered as the envelope
//! `{"error": "<code>", "message": "..."}` (seed 003) with its status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use edgechat_shared::error::{ErrorBody, ErrorCode, FieldError};

/// A refused or failed request.
#[derive(Debug)]
pub struct ApiError {
    /// Code and status.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
    /// `Retry-After` seconds, for 429 `rate_limited`.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with `code` and a message for the caller. Private: handlers
    /// use the named constructors below, one per situation.
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), retry_after: None }
    }

    /// The envelope of an axum extractor's plain-text rejection with
    /// `status` and `text` (`routes::enveloped_rejections`): a path
    /// parameter that does not parse ("Invalid URL: …") is 404 `not_found`;
    /// a query parameter that does not parse ("Failed to deserialize query
    /// string: since: …") is 422 `validation_error` naming it; any other
    /// keeps its status as `bad_request` (400), `payload_too_large` (413),
    /// `unsupported_media_type` (415) or `validation_error` (422).
    pub fn from_rejection(status: u16, text: &str) -> Self {
        if let Some(detail) = text.strip_prefix("Invalid URL: ") {
            return ApiError::new(ErrorCode::NotFound, format!("No such resource: {detail}"));
        }
        if let Some(detail) = text.strip_prefix("Failed to deserialize query string: ") {
            return ApiError::new(ErrorCode::ValidationError, format!("Malformed query parameter {detail}"));
        }
        let code = match status {
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            422 => ErrorCode::ValidationError,
            _ => ErrorCode::BadRequest,
        };
        ApiError::new(code, text)
    }

    /// 429 `rate_limited` with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u32) -> Self {
        ApiError { retry_after: Some(seconds), ..ApiError::new(ErrorCode::RateLimited, "Too many requests; try again later") }
    }

    /// 405 `method_not_allowed`: the path does not take the request's method.
    pub fn method_not_allowed() -> Self {
        ApiError::new(ErrorCode::MethodNotAllowed, "This path does not take this method")
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    /// 404 `not_found` for `what` (e.g. "conversation") that does not exist
    /// or belongs to another account: both look the same to the caller.
    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("No such {what}"))
    }

    /// 404 `not_found` for an unknown site key (seed 004).
    pub fn unknown_site_key() -> Self {
        ApiError::new(ErrorCode::NotFound, "No site has this site_key")
    }

    /// 400 `bad_request`: the body is not the JSON the route takes.
    pub fn bad_json(err: impl std::fmt::Display) -> Self {
        ApiError::new(ErrorCode::BadRequest, format!("The body is not valid JSON for this route: {err}"))
    }

    /// 403 `forbidden`: the caller is known but may not do this (`message` says what it needs).
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Forbidden, message)
    }

    /// 409 `conflict`: the request clashes with the current state (`message` says how).
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Conflict, message)
    }

    /// 413 `payload_too_large`: a body or file over its cap; `message` names the cap.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::PayloadTooLarge, message)
    }

    /// 422 `too_many_items`: the list at `field` (a JSON path such as
    /// `request_reasons[0].subs`) holds more than its `max` items
    /// (`maxItems` in the OpenAPI document, `api::list_cap`).
    pub fn too_many_items(field: &str, max: usize) -> Self {
        ApiError::new(ErrorCode::TooManyItems, format!("{field} has more than {max} items; at most {max} are allowed"))
    }

    /// 400 `bad_request`: the body is not what the route reads (`message` says how).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    /// 403 `origin_not_allowed`: the site does not allow the widget on `origin`.
    pub fn origin_not_allowed(origin: &str) -> Self {
        ApiError::new(ErrorCode::OriginNotAllowed, format!("This site does not allow the widget on {origin}"))
    }

    /// 403 `blocked`: the site's operators blocked this visitor (seed 002).
    pub fn blocked() -> Self {
        ApiError::new(ErrorCode::Blocked, "This visitor has been blocked by the site's team")
    }

    /// 404 `not_found` for a path no route serves.
    pub fn no_route() -> Self {
        ApiError::new(ErrorCode::NotFound, "No such route")
    }

    /// 415 `unsupported_media_type`: a file type the route does not take.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::UnsupportedMediaType, message)
    }

    /// 502 `service_unavailable`: an outside service (the AI responder) failed.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ServiceUnavailable, message)
    }

    /// 503 `not_ready`: a binding or secret the route needs is missing.
    pub fn not_ready(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::NotReady, message)
    }

    /// 500 `internal_error`: logs `cause` and never shows it to the caller.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        worker::console_error!("internal error: {cause}");
        ApiError::new(ErrorCode::InternalError, "Something went wrong on our side")
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::new(ErrorCode::ValidationError, err.message)
    }
}

impl From<worker::Error> for ApiError {
    fn from(err: worker::Error) -> Self {
        ApiError::internal(err)
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        ApiError::internal(format!("JSON: {err}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody { error: self.code.as_str().to_string(), message: self.message };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// What every handler answers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_is_enveloped_by_what_did_not_parse() {
        let path = ApiError::from_rejection(400, "Invalid URL: Cannot parse `x1` to a `i64`");
        assert_eq!((path.code, path.message.as_str()), (ErrorCode::NotFound, "No such resource: Cannot parse `x1` to a `i64`"));
        let query = ApiError::from_rejection(400, "Failed to deserialize query string: since: invalid digit found in string");
        assert_eq!(query.code, ErrorCode::ValidationError);
        assert!(query.message.contains("since: invalid digit"), "{}", query.message);
        assert_eq!(
            ApiError::from_rejection(413, "Failed to buffer the request body: length limit exceeded").code,
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            ApiError::from_rejection(415, "Expected request with `Content-Type: application/json`").code,
            ErrorCode::UnsupportedMediaType
        );
        assert_eq!(ApiError::from_rejection(400, "anything else").code, ErrorCode::BadRequest);
    }
}
