//! The `openai` responder's upstream: any OpenAI-compatible
//! `POST {base}/v1/chat/completions` with `"stream": true` (OpenAI, Groq,
//! Together, Ollama, vLLM, llama.cpp server, Cloudflare AI Gateway).
//!
//! Settings: `OPENAI_BASE_URL` (var, default `https://api.openai.com`),
//! `OPENAI_MODEL` (var, default [`DEFAULT_MODEL`]) and `OPENAI_API_KEY`
//! (secret: `wrangler secret put OPENAI_API_KEY`), each overridable per site
//! in `responder` (`base_url`, `model`, `api_key`).

use serde::Serialize;
use worker::{AbortController, Fetch, Headers};

use super::llm::{self, Failure, Watch};
use super::prompt::ChatTurn;

/// The model when neither the site nor `OPENAI_MODEL` names one.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// The base URL when neither the site nor `OPENAI_BASE_URL` names one.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com";

/// Where and how to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    /// Base URL without `/v1/chat/completions`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Bearer token; servers such as a local Ollama need none.
    pub api_key: Option<String>,
}

/// `true` when two base URLs name the same server and path, ignoring case
/// of scheme and host, trailing slashes and a trailing `/v1`.
pub fn same_server(a: &str, b: &str) -> bool {
    server_of(a) == server_of(b)
}

/// A base URL in one spelling per server and path (see [`same_server`]).
pub fn server_of(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    url::Url::parse(base).map(|u| u.to_string().trim_end_matches('/').to_string()).unwrap_or_else(|_| base.to_lowercase())
}

/// Body of `POST /v1/chat/completions` (OpenAI API reference, "Create chat completion").
#[derive(Debug, Serialize)]
pub struct CompletionRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatTurn],
    pub stream: bool,
    pub max_tokens: u32,
    pub temperature: f64,
}

impl Upstream {
    /// The chat completions URL: `{base}/v1/chat/completions` (issue 6),
    /// or `{base}/chat/completions` when the base already ends in `/v1` (as
    /// OpenAI SDK base URLs do) or is a Cloudflare AI Gateway endpoint
    /// (`https://gateway.ai.cloudflare.com/v1/{account}/{gateway}/openai` or
    /// `…/compat`, whose paths carry no `/v1`: AI Gateway docs).
    pub fn completions_url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let gateway = url::Url::parse(base).is_ok_and(|u| u.host_str() == Some("gateway.ai.cloudflare.com"));
        if base.ends_with("/v1") || gateway {
            format!("{base}/chat/completions")
        } else {
            format!("{base}/v1/chat/completions")
        }
    }

    /// The streaming request body for `turns`.
    pub fn body<'a>(&'a self, turns: &'a [ChatTurn], max_tokens: u32) -> CompletionRequest<'a> {
        CompletionRequest { model: &self.model, messages: turns, stream: true, max_tokens, temperature: 0.2 }
    }

    /// Streams the completion of `turns`, handing each piece of text to
    /// `on_text`; answers the whole text.
    ///
    /// Errors: [`Failure::Status`] for a non-2xx answer, and those of
    /// [`llm::read_stream`].
    pub async fn complete(
        &self,
        turns: &[ChatTurn],
        max_tokens: u32,
        watch: &Watch<'_>,
        on_text: impl FnMut(&str),
    ) -> Result<String, Failure> {
        let headers = Headers::new();
        let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| Failure::Transport(e.to_string()));
        set("Content-Type", "application/json")?;
        set("Accept", "text/event-stream")?;
        if let Some(key) = self.api_key.as_deref().filter(|k| !k.is_empty()) {
            set("Authorization", &format!("Bearer {key}"))?;
        }
        let body = serde_json::to_string(&self.body(turns, max_tokens)).map_err(|e| Failure::Transport(e.to_string()))?;
        // No redirect is followed: a 3xx (which could lead anywhere) is an
        // HTTP error, as for webhooks.
        let request = crate::runtime_stream::post_request(&self.completions_url(), &headers, &body.into(), false)
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let controller = llm::Abort::new(controller);
        let fetch = Fetch::Request(request);
        let mut response = llm::started(fetch.send_with_signal(&signal), watch, Some(&controller)).await?;
        let status = response.status_code();
        if !(200..300).contains(&status) {
            // The error body is read under the same watch: a server that
            // stalls after its headers cannot hold the answer.
            let text = llm::started(llm::error_body(&mut response), watch, Some(&controller)).await.unwrap_or_default();
            controller.abort("HTTP error");
            return Err(Failure::Status(status, llm::preview(&text)));
        }
        let body = response.stream().map_err(|e| Failure::Transport(e.to_string()))?;
        let answer = llm::read_stream(body, watch, Some(&controller), on_text).await;
        if let Err(failure) = &answer {
            controller.abort(&failure.to_string());
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(base: &str) -> Upstream {
        Upstream { base_url: base.into(), model: "llama3".into(), api_key: None }
    }

    #[test]
    fn the_completions_url_is_under_v1_whatever_the_base_ends_with() {
        for base in ["http://127.0.0.1:11434", "http://127.0.0.1:11434/", "http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1/"] {
            assert_eq!(upstream(base).completions_url(), "http://127.0.0.1:11434/v1/chat/completions", "{base}");
        }
        let groq = upstream("https://api.groq.com/openai/v1");
        assert_eq!(groq.completions_url(), "https://api.groq.com/openai/v1/chat/completions");
        let gateway = upstream("https://gateway.ai.cloudflare.com/v1/acct/gw/openai");
        assert_eq!(gateway.completions_url(), "https://gateway.ai.cloudflare.com/v1/acct/gw/openai/chat/completions");
        let compat = upstream("https://gateway.ai.cloudflare.com/v1/acct/gw/compat/");
        assert_eq!(compat.completions_url(), "https://gateway.ai.cloudflare.com/v1/acct/gw/compat/chat/completions");
    }

    #[test]
    fn same_server_ignores_spelling_but_not_host_or_path() {
        assert!(same_server("https://api.openai.com", "HTTPS://API.OPENAI.COM/v1/"));
        assert!(!same_server("https://api.openai.com", "https://api.openai.com.attacker.example"));
        assert!(!same_server("https://api.openai.com", "https://attacker.example/api.openai.com"));
    }

    #[test]
    fn the_body_asks_for_a_stream_of_the_model() {
        let turns = [ChatTurn { role: "user".into(), content: "hi".into() }];
        let body = serde_json::to_value(upstream("http://x").body(&turns, 300)).unwrap();
        assert_eq!(body["model"], "llama3");
        assert_eq!(body["stream"], true);
        assert_eq!(body["max_tokens"], 300);
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["messages"][0]["content"], "hi");
    }
}
