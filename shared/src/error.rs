//! The one error envelope of every EdgeChat route:
//! `{"error": "<code>", "message": "<human text>"}` (seed 003, "Error codes").

use serde::{Deserialize, Serialize};

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable code, one of [`ErrorCode::as_str`].
    #[cfg_attr(feature = "openapi", schema(value_type = ErrorCode))]
    pub error: String,
    /// Human-readable explanation, safe to show to the caller.
    pub message: String,
}

/// Every error code EdgeChat answers with, and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(rename_all = "snake_case"))]
pub enum ErrorCode {
    /// 400: the body is not the JSON the route takes.
    BadRequest,
    /// 401: missing, invalid or expired credentials.
    Unauthorized,
    /// 403: the caller may not do this.
    Forbidden,
    /// 403: the visitor is blocked by the site's operators.
    Blocked,
    /// 403: the request's `Origin` is not among the site's allowed origins.
    OriginNotAllowed,
    /// 404: no such resource (or not the caller's).
    NotFound,
    /// 405: the path exists but not with this method (RFC 9110 §15.5.6;
    /// answered with `Allow`).
    MethodNotAllowed,
    /// 409: conflicts with what is stored.
    Conflict,
    /// 413: the upload is over the size cap.
    PayloadTooLarge,
    /// 415: the upload's type is not allowed.
    UnsupportedMediaType,
    /// 422: well-formed but invalid input.
    ValidationError,
    /// 422: a list in the body is longer than its documented `maxItems`
    /// (`api::list_cap`); the message names the field.
    TooManyItems,
    /// 429: rate limited; answered with `Retry-After`.
    RateLimited,
    /// 500: an unexpected failure.
    InternalError,
    /// 502: an upstream service failed.
    ServiceUnavailable,
    /// 503: a dependency (D1) is not ready.
    NotReady,
}

impl ErrorCode {
    /// The `error` field's value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Blocked => "blocked",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ValidationError => "validation_error",
            ErrorCode::TooManyItems => "too_many_items",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::NotReady => "not_ready",
        }
    }

    /// The HTTP status answered with this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden | ErrorCode::Blocked | ErrorCode::OriginNotAllowed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ValidationError | ErrorCode::TooManyItems => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::ServiceUnavailable => 502,
            ErrorCode::NotReady => 503,
        }
    }
}

/// A validation failure: which field, and why, in words a visitor can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field at fault, e.g. `"message"`.
    pub field: &'static str,
    /// Why it was refused.
    pub message: String,
}

impl FieldError {
    /// A refusal of `field` with a human-readable reason.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError { field, message: message.into() }
    }

    /// The envelope answered for this failure (422 `validation_error`).
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody { error: ErrorCode::ValidationError.as_str().into(), message: self.message.clone() }
    }
}
