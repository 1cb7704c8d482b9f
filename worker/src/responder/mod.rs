//! Responders turn a visitor question into an answer: text streamed in
//! chunks plus the sources it came from (ARCHITECTURE.md, "AI responders";
//! issue 6).
//!
//! - `kb` (default, offline): the best knowledge-base passage, or "not sure"
//!   and the offer of a person.
//! - `openai` / `workers-ai`: a language model grounded on the top
//!   knowledge-base passages ([`prompt`]), streamed as it writes ([`llm`]).
//!
//! Whatever the responder, a visitor who asks for a person
//! ([`edgechat_shared::handoff::asks_for_person`]) is offered one instead of
//! an answer.

pub mod breaker;
pub mod kb;
pub mod llm;
pub mod openai;
pub mod prompt;
pub mod workers_ai;

use edgechat_shared::api::sites::{ResponderKind, ResponderSettings};
use edgechat_shared::api::stream::Source;
use edgechat_shared::texts::Lang;
use worker::Env;

use llm::{Failure, Watch};
use prompt::{ChatTurn, Passage, Question, Turn};

/// A complete answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The full answer text.
    pub text: String,
    /// Articles the answer came from, best first (empty when not confident).
    pub sources: Vec<Source>,
    /// `true` when a person is offered (asked for, or no confident passage).
    pub handoff_offered: bool,
}

impl Answer {
    /// The offer of a person, to a visitor who asked for one, in their language.
    pub fn handoff_offer(lang: Lang) -> Answer {
        Answer { text: lang.texts().handoff_offer.to_string(), sources: Vec::new(), handoff_offered: true }
    }
}

/// Deployment-wide settings of the language-model responders, from vars
/// and secrets (see `wrangler.toml` and the README).
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// `AI_TIMEOUT_MS`: wait for the model's response and each next event, in ms.
    pub timeout_ms: u64,
    /// `AI_MAX_TOKENS`: most tokens of one answer.
    pub max_tokens: u32,
    /// `AI_PROMPT_TOKENS`: most (estimated) tokens of the prompt.
    pub prompt_tokens: usize,
    /// `OPENAI_BASE_URL`, `OPENAI_MODEL`, `OPENAI_API_KEY` (secret).
    pub openai: openai::Upstream,
    /// `WORKERS_AI_MODEL`.
    pub workers_ai_model: String,
    /// `AI_BREAKER_COOLDOWN_SECONDS` (default 30) in ms: how long an open
    /// circuit breaker skips the model ([`breaker`]).
    pub breaker_cooldown_ms: i64,
}

impl Deployment {
    /// Reads the settings; absent or unparsable values take their defaults.
    pub fn from_env(env: &Env) -> Deployment {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty());
        let secret = |name: &str| env.secret(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty()).or_else(|| var(name));
        Deployment {
            timeout_ms: var("AI_TIMEOUT_MS").and_then(|v| v.parse().ok()).unwrap_or(llm::DEFAULT_TIMEOUT_MS),
            max_tokens: var("AI_MAX_TOKENS").and_then(|v| v.parse().ok()).unwrap_or(llm::DEFAULT_MAX_TOKENS),
            prompt_tokens: var("AI_PROMPT_TOKENS").and_then(|v| v.parse().ok()).unwrap_or(prompt::DEFAULT_PROMPT_TOKENS),
            openai: openai::Upstream {
                base_url: var("OPENAI_BASE_URL").unwrap_or_else(|| openai::DEFAULT_BASE_URL.to_string()),
                model: var("OPENAI_MODEL").unwrap_or_else(|| openai::DEFAULT_MODEL.to_string()),
                api_key: secret("OPENAI_API_KEY"),
            },
            workers_ai_model: var("WORKERS_AI_MODEL").unwrap_or_else(|| workers_ai::DEFAULT_MODEL.to_string()),
            breaker_cooldown_ms: var("AI_BREAKER_COOLDOWN_SECONDS")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(breaker::DEFAULT_COOLDOWN_SECONDS)
                .saturating_mul(1_000)
                .min(i64::MAX as u64) as i64,
        }
    }

    /// The OpenAI-compatible upstream of a site: its own base URL, model and
    /// API key where set, the deployment's otherwise. The deployment's key
    /// only ever goes to the deployment's server: a site that names another
    /// `base_url` sends its own key or none, so a site admin cannot have the
    /// operator's secret sent to a host of their choosing.
    pub fn openai_for(&self, site: &ResponderSettings) -> openai::Upstream {
        let own = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let base_url = own(&site.base_url).unwrap_or_else(|| self.openai.base_url.clone());
        let deployment_server = openai::same_server(&base_url, &self.openai.base_url);
        openai::Upstream {
            model: own(&site.model).unwrap_or_else(|| self.openai.model.clone()),
            api_key: own(&site.api_key).or_else(|| self.openai.api_key.clone().filter(|_| deployment_server)),
            base_url,
        }
    }
}

/// Why a site's own `base_url` is refused (the 422 message, as
/// [`crate::webhooks::url_problem`] words it for webhooks), or `None` when
/// it has none or it names a public https server. Every visitor question is
/// posted there from the worker: a private, loopback or metadata address
/// would make the worker a proxy into wherever it runs (self-hosted workerd,
/// `wrangler dev`). `AI_ALLOW_LOCAL = "true"` allows `127.0.0.1` and
/// `localhost` (the tests' stand-in). Checked when the settings are written
/// and again before each request (settings stored before the check).
pub fn base_url_problem(env: &Env, site: &ResponderSettings) -> Option<String> {
    if site.kind != ResponderKind::Openai {
        return None;
    }
    let base = site.base_url.as_deref().map(str::trim).filter(|b| !b.is_empty())?;
    let allow_local = env.var("AI_ALLOW_LOCAL").is_ok_and(|v| v.to_string() == "true");
    crate::webhooks::url_problem(base, allow_local).map(|problem| format!("base_url: {}", problem.trim_start_matches("url ")))
}

/// Asks the site's language model (`openai` or `workers-ai`) to answer
/// `question` (in the visitor's language when it names one), grounded on
/// `passages` and the earlier `history`; each piece
/// of text goes to `on_text` as it arrives. The upstream's circuit breaker
/// ([`breaker`]) is asked first and told how it went.
///
/// Errors: every [`Failure`]; an empty answer is [`Failure::Truncated`];
/// [`Failure::BreakerOpen`] without asking the model while its breaker is open.
pub async fn complete(
    env: &Env,
    site: &ResponderSettings,
    passages: &[Passage],
    history: &[Turn],
    question: &Question<'_>,
    visitor_gone: &dyn Fn() -> bool,
    on_text: impl FnMut(&str),
) -> Result<Answer, Failure> {
    let deployment = Deployment::from_env(env);
    let (turns, included): (Vec<ChatTurn>, usize) =
        prompt::build(site.instructions.as_deref(), passages, history, question, deployment.prompt_tokens);
    let watch = Watch { timeout_ms: deployment.timeout_ms, visitor_gone };
    let db = crate::db::database(env).map_err(|e| Failure::Transport(format!("no D1 binding: {e}")))?;
    let workers_ai_model = site.model.as_deref().filter(|m| !m.trim().is_empty()).unwrap_or(&deployment.workers_ai_model);
    if let Some(problem) = base_url_problem(env, site) {
        return Err(Failure::Transport(problem));
    }
    let upstream = deployment.openai_for(site);
    let key = match site.kind {
        ResponderKind::WorkersAi => breaker::workers_ai_key(workers_ai_model),
        _ => breaker::openai_key(&upstream),
    };
    let passage = breaker::Passage::admit(&db, key, deployment.breaker_cooldown_ms).await?;
    let text = match site.kind {
        ResponderKind::WorkersAi => workers_ai::complete(env, workers_ai_model, &turns, deployment.max_tokens, &watch, on_text).await,
        _ => upstream.complete(&turns, deployment.max_tokens, &watch, on_text).await,
    }
    .and_then(|text| if text.trim().is_empty() { Err(Failure::Truncated) } else { Ok(text) });
    passage.record(&db, text.as_ref().map(|_| ())).await;
    let text = text?;
    Ok(Answer { text, sources: passages.iter().take(included).map(|p| p.source.clone()).collect(), handoff_offered: included == 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Deployment {
        Deployment {
            timeout_ms: 1_000,
            max_tokens: 100,
            prompt_tokens: 1_000,
            openai: openai::Upstream {
                base_url: "https://api.openai.com".into(),
                model: "gpt-4o-mini".into(),
                api_key: Some("sk-deploy".into()),
            },
            workers_ai_model: workers_ai::DEFAULT_MODEL.into(),
            breaker_cooldown_ms: 30_000,
        }
    }

    #[test]
    fn a_site_overrides_base_url_model_and_key_one_by_one() {
        let site = ResponderSettings { kind: ResponderKind::Openai, model: Some("llama3".into()), ..Default::default() };
        let upstream = deployment().openai_for(&site);
        assert_eq!((upstream.base_url.as_str(), upstream.model.as_str()), ("https://api.openai.com", "llama3"));
        assert_eq!(upstream.api_key.as_deref(), Some("sk-deploy"));
        let site = ResponderSettings {
            base_url: Some("http://127.0.0.1:11434".into()),
            api_key: Some("sk-site".into()),
            model: Some(" ".into()),
            ..site
        };
        let upstream = deployment().openai_for(&site);
        assert_eq!(upstream.base_url, "http://127.0.0.1:11434");
        assert_eq!(upstream.model, "gpt-4o-mini", "a blank model is the deployment's");
        assert_eq!(upstream.api_key.as_deref(), Some("sk-site"));
    }

    #[test]
    fn the_deployment_key_never_goes_to_a_site_chosen_server() {
        let elsewhere =
            ResponderSettings { kind: ResponderKind::Openai, base_url: Some("https://attacker.example".into()), ..Default::default() };
        assert_eq!(deployment().openai_for(&elsewhere).api_key, None);
        let same = ResponderSettings { base_url: Some("https://api.openai.com/v1/".into()), ..elsewhere };
        assert_eq!(deployment().openai_for(&same).api_key.as_deref(), Some("sk-deploy"), "the deployment's own server, spelt differently");
    }
}
