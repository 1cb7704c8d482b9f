//! `GET /ready` (seed 003, "Health": "Checks DB + … breaker. 200 / 503").

use serde::{Deserialize, Serialize};

/// How one dependency of `GET /ready` is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadyChecks {
    /// `ok` when D1 answers a query, `down` otherwise.
    pub database: String,
    /// The circuit breaker of the deployment's AI upstreams (the
    /// `OPENAI_*` settings and the Workers AI model): `closed`, `half_open`
    /// (the cool-down passed; the next question tries the model), `open`
    /// (answers skip the model), or `unknown` while D1 is down (the breaker
    /// lives there).
    pub ai_breaker: String,
}

impl ReadyChecks {
    /// `true` when the worker can serve: D1 answers and no breaker is open.
    pub fn ready(&self) -> bool {
        self.database == "ok" && matches!(self.ai_breaker.as_str(), "closed" | "half_open")
    }
}

/// Answer of `GET /ready`: 200 `{"status":"ready","checks":{…}}`, or 503
/// in the error envelope with the checks beside it:
/// `{"error":"not_ready","message":"…","checks":{"database":"ok","ai_breaker":"open"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// `ready` (200 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `not_ready` (503 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Which part is down (503 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Each dependency's state.
    pub checks: ReadyChecks,
}
