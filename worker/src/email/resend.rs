//! The email provider: Resend's HTTP API (resend.com/docs/api-reference,
//! "Send Email"): `POST {RESEND_BASE_URL}/emails` with `Authorization:
//! Bearer {RESEND_API_KEY}` and `Idempotency-Key`, JSON `{from, to:[…],
//! subject, text, html}`; 200 `{"id"}`; errors 4xx/5xx with
//! `{"statusCode","message","name"}`.

use serde::{Deserialize, Serialize};
use worker::{Env, Fetch, Headers};

use super::render::Rendered;

/// The provider's settings: `RESEND_BASE_URL` and `EMAIL_FROM` (vars),
/// `RESEND_API_KEY` (secret, or a var in local tests).
#[derive(Debug, Clone)]
pub struct Resend {
    base_url: String,
    api_key: String,
    from: String,
}

/// Request body of `POST /emails`.
#[derive(Debug, Serialize)]
struct SendEmail<'a> {
    from: &'a str,
    to: [&'a str; 1],
    subject: &'a str,
    text: &'a str,
    html: &'a str,
}

/// 200 answer of `POST /emails`.
#[derive(Debug, Deserialize)]
struct Sent {
    id: String,
}

/// Error answer of the API.
#[derive(Debug, Default, Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

/// Why a send failed.
#[derive(Debug)]
pub enum Failure {
    /// Worth another try: the network, 429, 5xx, or a concurrent request
    /// with the same idempotency key (409 `concurrent_idempotent_requests`).
    Transient(String),
    /// Another try gets the same answer (400, 401, 403, 422, …).
    Permanent(String),
}

impl Failure {
    /// The failure for the record (`emails.last_error`).
    pub fn describe(&self) -> &str {
        match self {
            Failure::Transient(why) | Failure::Permanent(why) => why,
        }
    }
}

impl Resend {
    /// The configured provider; `None` without an API key or a sender
    /// address (the routes that would queue email answer 503 `not_ready`).
    pub fn from_env(env: &Env) -> Option<Resend> {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty());
        let api_key =
            env.secret("RESEND_API_KEY").ok().map(|v| v.to_string()).filter(|v| !v.is_empty()).or_else(|| var("RESEND_API_KEY"))?;
        Some(Resend {
            base_url: var("RESEND_BASE_URL").unwrap_or_else(|| "https://api.resend.com".into()),
            api_key,
            from: var("EMAIL_FROM")?,
        })
    }

    /// Sends `email` to `to`; `idempotency_key` (the email's id) makes a
    /// repeated request send nothing new. Answers the provider's email id.
    pub async fn send(&self, idempotency_key: &str, to: &str, email: &Rendered) -> Result<String, Failure> {
        let transport = |e: worker::Error| Failure::Transient(format!("request failed: {e}"));
        let headers = Headers::new();
        headers.set("Content-Type", "application/json").map_err(transport)?;
        headers.set("Authorization", &format!("Bearer {}", self.api_key)).map_err(transport)?;
        headers.set("Idempotency-Key", idempotency_key).map_err(transport)?;
        let body = SendEmail { from: &self.from, to: [to], subject: &email.subject, text: &email.text, html: &email.html };
        let body = serde_json::to_string(&body).map_err(|e| Failure::Permanent(e.to_string()))?;
        let url = format!("{}/emails", self.base_url.trim_end_matches('/'));
        let request = crate::runtime_stream::post_request(&url, &headers, &body.into(), true)
            .map_err(|e| Failure::Permanent(format!("bad RESEND_BASE_URL: {e}")))?;
        let mut response = Fetch::Request(request).send().await.map_err(transport)?;
        let status = response.status_code();
        let text = response.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return serde_json::from_str::<Sent>(&text).map(|s| s.id).map_err(|e| Failure::Transient(format!("unreadable answer: {e}")));
        }
        let error: ErrorAnswer = serde_json::from_str(&text).unwrap_or_default();
        let why = format!("HTTP {status} {}: {}", error.name, error.message.chars().take(200).collect::<String>());
        if status == 429 || status >= 500 || error.name == "concurrent_idempotent_requests" {
            Err(Failure::Transient(why))
        } else {
            Err(Failure::Permanent(why))
        }
    }
}
