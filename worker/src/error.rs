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
}

impl ApiError {
    /// An error with `code` and a message for the caller.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }

    /// 404 `not_found` for an unknown site key (seed 004).
    pub fn unknown_site_key() -> Self {
        ApiError::new(ErrorCode::NotFound, "No site has this site_key")
    }

    /// 400 `bad_request`: the body is not the JSON the route takes.
    pub fn bad_json(err: impl std::fmt::Display) -> Self {
        ApiError::new(ErrorCode::BadRequest, format!("The body is not valid JSON for this route: {err}"))
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::new(ErrorCode::ValidationError, err.message)
    }
}

impl From<worker::Error> for ApiError {
    fn from(err: worker::Error) -> Self {
        worker::console_error!("internal error: {err}");
        ApiError::new(ErrorCode::InternalError, "Something went wrong on our side")
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        worker::console_error!("internal JSON error: {err}");
        ApiError::new(ErrorCode::InternalError, "Something went wrong on our side")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody { error: self.code.as_str().to_string(), message: self.message };
        (status, Json(body)).into_response()
    }
}

/// What every handler answers.
pub type ApiResult<T> = Result<T, ApiError>;
