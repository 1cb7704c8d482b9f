//! The circuit breaker around the AI upstreams (issue 14; seed 003's
//! `/ready` and "502 service_unavailable — circuit open").
//!
//! **Closed**: every question goes to the model. After
//! [`FAILURES_TO_OPEN`] consecutive failures that say the upstream is
//! unwell ([`Failure::counts_against_upstream`]) it is **open**: for
//! `AI_BREAKER_COOLDOWN_SECONDS` (default 30) answers skip the model
//! ([`Failure::BreakerOpen`]: the widget's stream offers a person at once,
//! non-streaming routes answer 502 `service_unavailable`). Then it is
//! **half-open**: the first question after the cool-down is let through as
//! a probe (the others keep skipping); a success closes the breaker, a
//! counted failure opens it for another cool-down.
//!
//! **Where the state lives: D1** (`ai_breakers`), not isolate memory and
//! not a Durable Object. Answers are written by each conversation's `Room`,
//! Durable Objects spread over many isolates and machines, and `GET /ready`
//! runs in yet another isolate: a per-isolate count would see a fraction of
//! the failures (never opening while the upstream is down for everyone),
//! would start closed in every fresh isolate, and could not be reported by
//! `/ready`. A single breaker Durable Object would be consistent, but one
//! object in one place adds a cross-region round trip to every answer and
//! is one more thing to be down. D1 is already on the answer path (the Room
//! stores every message there), is shared by every isolate, survives
//! restarts, and its conditional statements make the counting and the
//! single half-open probe atomic. The cost is one small read before each
//! model call, and a write only on a failure or when a failure streak ends.
//! If D1 cannot be read the model is asked anyway: the breaker never turns
//! a database hiccup into refused answers.
//!
//! **What one breaker covers**: one upstream as called — server, model and
//! credential ([`openai_key`], [`workers_ai_key`]). A site that points the
//! responder at its own server, model or API key trips only its own
//! breaker, so a site admin cannot open the breaker of the deployment's
//! upstream, which `/ready` reports ([`deployment_state`]).

use sha2::{Digest, Sha256};
use worker::{D1Database, Date, Env};

use super::llm::Failure;
use super::{openai, Deployment};
use crate::db::breakers::{self, BreakerRow};

/// Consecutive counted failures that open a breaker (issue 14: "three upstream failures open it").
pub const FAILURES_TO_OPEN: i64 = 3;

/// Cool-down of an open breaker when `AI_BREAKER_COOLDOWN_SECONDS` is unset, in seconds.
pub const DEFAULT_COOLDOWN_SECONDS: u64 = 30;

/// A breaker's state as `/ready` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Closed,
    HalfOpen,
    Open,
}

impl State {
    /// The wire name (`closed`, `half_open`, `open`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfOpen => "half_open",
            State::Open => "open",
        }
    }

    /// The state of a stored breaker at `now` (ms) with a cool-down of `cooldown_ms`.
    pub fn of(row: Option<BreakerRow>, now: i64, cooldown_ms: i64) -> State {
        match row.and_then(|r| r.opened_at) {
            None => State::Closed,
            Some(opened_at) if now < opened_at + cooldown_ms => State::Open,
            Some(_) => State::HalfOpen,
        }
    }
}

/// What to do with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Ask the model.
    Call,
    /// Ask the model as the half-open probe, once claimed from `opened_at`.
    Probe { opened_at: i64 },
    /// Do not ask: the breaker is open.
    Skip,
}

/// The admission of a question at `now` (ms).
pub fn admit(row: Option<BreakerRow>, now: i64, cooldown_ms: i64) -> Admission {
    match (State::of(row, now, cooldown_ms), row.and_then(|r| r.opened_at)) {
        (State::HalfOpen, Some(opened_at)) => Admission::Probe { opened_at },
        (State::Open, _) => Admission::Skip,
        _ => Admission::Call,
    }
}

/// The breaker key of an OpenAI-compatible upstream: its server (one
/// spelling per server), its model, and a fingerprint of its API key (the
/// first 8 bytes of its SHA-256, so the key itself is never stored).
pub fn openai_key(upstream: &openai::Upstream) -> String {
    let credential = match &upstream.api_key {
        Some(key) => hex::encode(&Sha256::digest(key.as_bytes())[..8]),
        None => "none".into(),
    };
    format!("openai {} {} {credential}", openai::server_of(&upstream.base_url), upstream.model)
}

/// The breaker key of a Workers AI model (the binding is the deployment's).
pub fn workers_ai_key(model: &str) -> String {
    format!("workers-ai {model}")
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

/// One question's passage through the breaker of `key`.
pub struct Passage {
    key: String,
    /// The breaker had failures before the call (a success then closes it).
    had_failures: bool,
    /// This call is the half-open breaker's probe: `(opened_at seen, claimed at)`.
    probe: Option<(i64, i64)>,
}

impl Passage {
    /// Admits a question to upstream `key`, or refuses it with
    /// [`Failure::BreakerOpen`] while the breaker is open (or half-open
    /// with its probe already out).
    pub async fn admit(db: &D1Database, key: String, cooldown_ms: i64) -> Result<Passage, Failure> {
        let row = match breakers::get(db, &key).await {
            Ok(row) => row,
            Err(e) => {
                worker::console_error!("reading the AI breaker failed (the model is asked anyway): {e}");
                return Ok(Passage { key, had_failures: false, probe: None });
            }
        };
        let mut passage = Passage { had_failures: row.is_some_and(|r| r.failures > 0), key, probe: None };
        let claimed = now_ms();
        match admit(row, claimed, cooldown_ms) {
            Admission::Call => Ok(passage),
            Admission::Skip => Err(Failure::BreakerOpen),
            Admission::Probe { opened_at } => match breakers::claim_probe(db, &passage.key, opened_at, claimed).await {
                Ok(true) => {
                    passage.probe = Some((opened_at, claimed));
                    Ok(passage)
                }
                Ok(false) => Err(Failure::BreakerOpen),
                Err(e) => {
                    worker::console_error!("claiming the AI breaker's probe failed: {e}");
                    Err(Failure::BreakerOpen)
                }
            },
        }
    }

    /// Records how the call went: a success closes the breaker, a counted
    /// failure counts (and opens it at the [`FAILURES_TO_OPEN`]th), others
    /// change nothing. Errors are logged.
    pub async fn record(self, db: &D1Database, outcome: Result<(), &Failure>) {
        let written = match outcome {
            Ok(()) if self.had_failures => breakers::record_success(db, &self.key).await,
            Err(failure) if failure.counts_against_upstream() => {
                worker::console_warn!("AI upstream failure counted against its breaker: {failure}");
                breakers::record_failure(db, &self.key, FAILURES_TO_OPEN, now_ms()).await
            }
            // An outcome that says nothing about the upstream (the visitor
            // left, a refused request) gives a probe back, so that nobody can
            // hold the breaker open by abandoning probes.
            _ => match self.probe {
                Some((seen, claimed)) => breakers::release_probe(db, &self.key, claimed, seen).await,
                None => Ok(()),
            },
        };
        if let Err(e) = written {
            worker::console_error!("recording the AI breaker's outcome failed: {e}");
        }
    }
}

/// The state of the deployment's own upstreams (the `OPENAI_*` settings
/// and the `WORKERS_AI_MODEL`), the worst of the two, for `GET /ready`.
pub async fn deployment_state(env: &Env, db: &D1Database) -> worker::Result<State> {
    let deployment = Deployment::from_env(env);
    let keys = [openai_key(&deployment.openai), workers_ai_key(&deployment.workers_ai_model)];
    let now = now_ms();
    let rows = breakers::get_many(db, &keys).await?;
    Ok(rows.into_iter().map(|row| State::of(Some(row), now, deployment.breaker_cooldown_ms)).max().unwrap_or(State::Closed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: i64 = 30_000;

    fn row(failures: i64, opened_at: Option<i64>) -> Option<BreakerRow> {
        Some(BreakerRow { failures, opened_at })
    }

    #[test]
    fn closed_until_opened_then_open_for_the_cool_down_then_half_open() {
        assert_eq!(State::of(None, 1_000, COOL), State::Closed);
        assert_eq!(State::of(row(2, None), 1_000, COOL), State::Closed, "two failures do not open it");
        assert_eq!(State::of(row(3, Some(1_000)), 1_000, COOL), State::Open);
        assert_eq!(State::of(row(3, Some(1_000)), 1_000 + COOL - 1, COOL), State::Open);
        assert_eq!(State::of(row(3, Some(1_000)), 1_000 + COOL, COOL), State::HalfOpen);
    }

    #[test]
    fn an_open_breaker_skips_and_a_half_open_one_lets_a_probe_through() {
        assert_eq!(admit(None, 5, COOL), Admission::Call);
        assert_eq!(admit(row(2, None), 5, COOL), Admission::Call);
        assert_eq!(admit(row(3, Some(5)), 6, COOL), Admission::Skip);
        assert_eq!(admit(row(4, Some(5)), 5 + COOL, COOL), Admission::Probe { opened_at: 5 });
    }

    #[test]
    fn only_failures_of_the_upstream_count() {
        for failure in [
            Failure::Timeout(1),
            Failure::Transport("refused".into()),
            Failure::Status(500, String::new()),
            Failure::Status(503, String::new()),
            Failure::Status(429, String::new()),
            Failure::Malformed("x".into()),
            Failure::Truncated,
        ] {
            assert!(failure.counts_against_upstream(), "{failure}");
        }
        for failure in [
            Failure::Status(400, String::new()),
            Failure::Status(401, String::new()),
            Failure::Status(404, String::new()),
            Failure::VisitorGone,
            Failure::NotConfigured("x"),
            Failure::BreakerOpen,
        ] {
            assert!(!failure.counts_against_upstream(), "{failure}");
        }
    }

    #[test]
    fn a_site_with_its_own_server_model_or_key_has_its_own_breaker() {
        let deployment =
            openai::Upstream { base_url: "https://api.openai.com".into(), model: "gpt-4o-mini".into(), api_key: Some("sk-d".into()) };
        let key = openai_key(&deployment);
        assert_eq!(key, openai_key(&openai::Upstream { base_url: "https://API.openai.com/v1/".into(), ..deployment.clone() }));
        assert_ne!(key, openai_key(&openai::Upstream { model: "gpt-4o".into(), ..deployment.clone() }));
        assert_ne!(key, openai_key(&openai::Upstream { api_key: Some("sk-site".into()), ..deployment.clone() }));
        assert_ne!(key, openai_key(&openai::Upstream { base_url: "http://127.0.0.1:11434".into(), ..deployment.clone() }));
        assert!(!key.contains("sk-d"), "the key itself is not stored: {key}");
    }
}
