//! `/v1/sites` and `/v1/sites/{id}/articles`: sites and their knowledge base
//! (operator API, JWT; writes need the owner or admin role).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validate;

/// Which responder answers a site's visitors in `ai` mode (ARCHITECTURE.md, "AI responders").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ResponderKind {
    /// The offline knowledge-base responder (default).
    #[default]
    Kb,
    /// An OpenAI-compatible chat completions endpoint.
    Openai,
    /// The Workers AI binding.
    WorkersAi,
}

/// A site's AI responder settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponderSettings {
    /// The responder.
    #[serde(default)]
    pub kind: ResponderKind,
    /// Model name for `openai` / `workers-ai` (empty: the deployment default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Instructions prepended to the prompt, at most 4,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// `openai` only: base URL of the OpenAI-compatible server (`https://…` or
    /// `http://…`, without `/v1/chat/completions`); empty: the deployment's
    /// `OPENAI_BASE_URL` var.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// `openai` only: the site's own API key, write-only. The operator API
    /// never answers it (see [`ResponderSettings::api_key_set`]); a PATCH
    /// without it keeps the stored key unless it changes `base_url`, `""`
    /// removes it. Without one, the deployment's `OPENAI_API_KEY` secret is
    /// used, and only when `base_url` is the deployment's own server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Output only: `true` when the site has its own API key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub api_key_set: bool,
}

impl ResponderSettings {
    /// Checks the settings: instructions at most 4,000 characters, model at
    /// most 200, `base_url` an absolute `http(s)` URL without query or
    /// fragment, `api_key` at most 500 characters (422 `responder`).
    pub fn validate(&self) -> Result<(), FieldError> {
        let too_long = |value: &Option<String>, max: usize| value.as_ref().is_some_and(|v| v.chars().count() > max);
        if too_long(&self.instructions, 4000) {
            return Err(FieldError::new("responder", "instructions must be at most 4000 characters"));
        }
        if too_long(&self.model, 200) {
            return Err(FieldError::new("responder", "model must be at most 200 characters"));
        }
        if too_long(&self.api_key, 500) {
            return Err(FieldError::new("responder", "api_key must be at most 500 characters"));
        }
        if let Some(base) = self.base_url.as_deref().filter(|b| !b.is_empty()) {
            let ok = url::Url::parse(base)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none());
            if !ok {
                return Err(FieldError::new("responder", "base_url must be an http(s) URL without query or fragment"));
            }
        }
        Ok(())
    }

    /// The form the operator API answers: the API key replaced by `api_key_set`.
    pub fn redacted(&self) -> ResponderSettings {
        ResponderSettings { api_key: None, api_key_set: self.api_key.as_deref().is_some_and(|k| !k.is_empty()), ..self.clone() }
    }

    /// The settings to store when `update` is PATCHed over `self`: the stored
    /// API key is kept unless `update` names one (`""` removes it).
    pub fn updated_with(&self, update: &ResponderSettings) -> ResponderSettings {
        let api_key = match update.api_key.as_deref().map(str::trim) {
            // A key kept across a PATCH keeps its server: moving `base_url`
            // elsewhere without a new key drops it.
            None if update.base_url == self.base_url => self.api_key.clone(),
            None | Some("") => None,
            Some(key) => Some(key.to_string()),
        };
        ResponderSettings { api_key, api_key_set: false, ..update.clone() }
    }
}

/// A site as the operator API answers it.
///
/// # Format
/// `{"id":1,"name":"Acme","site_key":"sk_…","allowed_origins":["https://acme.com"],"greeting":"…",
///   "theme_color":"#4f46e5","responder":{"kind":"kb"},"embed_snippet":"<script …>","identity_secret":"…"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    /// Site id.
    pub id: i64,
    /// Name shown in the widget header.
    pub name: String,
    /// Public key used by the widget (not a secret).
    pub site_key: String,
    /// Origins allowed to use the widget API (exact, or `https://*.example.com`); empty allows any.
    pub allowed_origins: Vec<String>,
    /// First message of the widget (seed 004).
    pub greeting: String,
    /// Accent colour, `#rrggbb`.
    pub theme_color: String,
    /// AI responder settings.
    pub responder: ResponderSettings,
    /// The ready-to-paste `<script>` tag for this site.
    pub embed_snippet: String,
    /// Secret for visitor identity verification (`user_hash = HMAC-SHA256(secret, user_id)`);
    /// shown to owners and admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    /// The topics a signed-in user picks from to start a request (seed 003's `reason`).
    #[serde(default)]
    pub request_reasons: Vec<RequestReason>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}

/// One topic a site offers when its user starts a request: a main topic and
/// its optional sub-topics (`{"main":"Payments","subs":["Refund","Card declined"]}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestReason {
    /// 1 to 100 characters.
    pub main: String,
    /// At most 10, each 1 to 100 characters.
    #[serde(default)]
    pub subs: Vec<String>,
}

impl RequestReason {
    /// Most topics per site.
    pub const MAX_TOPICS: usize = 20;
    /// Most sub-topics per topic.
    pub const MAX_SUBS: usize = 10;
    /// Most characters of a topic or sub-topic.
    pub const MAX_CHARS: usize = 100;

    /// Checks a site's topic list: at most 20 topics, each (and each of its at
    /// most 10 sub-topics) 1 to 100 characters, no blank ones (422 `request_reasons`).
    pub fn validate_list(reasons: &[RequestReason]) -> Result<(), FieldError> {
        let bad = |s: &str| s.trim().is_empty() || s.chars().count() > Self::MAX_CHARS;
        if reasons.len() > Self::MAX_TOPICS {
            return Err(FieldError::new("request_reasons", "request_reasons must have at most 20 topics"));
        }
        for reason in reasons {
            if bad(&reason.main) || reason.subs.iter().any(|s| bad(s)) {
                return Err(FieldError::new("request_reasons", "request_reasons: each topic and sub-topic must be 1 to 100 characters"));
            }
            if reason.subs.len() > Self::MAX_SUBS {
                return Err(FieldError::new("request_reasons", "request_reasons: at most 10 sub-topics per topic"));
            }
        }
        Ok(())
    }
}

/// Body of `POST /v1/sites` (all of `name` required) and `PATCH /v1/sites/{id}`
/// (absent fields stay as they are).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteInput {
    /// 1 to 120 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Each an `http(s)://host[:port]` origin, or with a `*.` wildcard host; at most 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// 1 to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_color: Option<String>,
    /// AI responder settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responder: Option<ResponderSettings>,
    /// The request topics, replacing the stored list ([`RequestReason::validate_list`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_reasons: Option<Vec<RequestReason>>,
}

impl SiteInput {
    /// Checks every present field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(name) = &self.name {
            validate::display_name("name", name)?;
        }
        if let Some(origins) = &self.allowed_origins {
            if origins.len() > 50 {
                return Err(FieldError::new("allowed_origins", "at most 50 allowed origins"));
            }
            for origin in origins {
                validate::origin_pattern(origin)?;
            }
        }
        if let Some(greeting) = &self.greeting {
            if greeting.trim().is_empty() || greeting.chars().count() > 500 {
                return Err(FieldError::new("greeting", "greeting must be 1 to 500 characters"));
            }
        }
        if let Some(color) = &self.theme_color {
            validate::hex_color(color)?;
        }
        if let Some(responder) = &self.responder {
            responder.validate()?;
        }
        if let Some(reasons) = &self.request_reasons {
            RequestReason::validate_list(reasons)?;
        }
        Ok(())
    }
}

/// List answer of `GET /v1/sites`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteList {
    /// The caller's account's sites, oldest first.
    pub sites: Vec<Site>,
}

/// A knowledge-base article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Article {
    /// External id, exactly as given at creation or import.
    pub id: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Public URL, when it has one.
    #[serde(default)]
    pub url: Option<String>,
    /// Last change, RFC 3339 UTC.
    pub updated_at: String,
}

/// Body of `POST /v1/sites/{id}/articles` (title and body required; `id`
/// generated when absent) and `PATCH …/articles/{article_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleInput {
    /// External id, 1 to 128 characters; only on creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 1 to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 1 to 100,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// https URL, or `""` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// List answer of `GET /v1/sites/{id}/articles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleList {
    /// Articles ordered by id.
    pub articles: Vec<Article>,
}

/// Answer of `POST /v1/sites/{id}/articles/import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportResult {
    /// Articles imported (created or replaced).
    pub imported: usize,
}

/// Query of `GET /v1/sites/{id}/articles/search`: try the knowledge base as
/// the responders see it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ArticleSearchQuery {
    /// The question, 1 to 10,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub q: String,
    /// Most hits, 1 to 50 (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl ArticleSearchQuery {
    /// Most hits when `limit` is absent.
    pub const DEFAULT_LIMIT: usize = 10;

    /// Checks the query (422 `q` or `limit`); answers the limit to use.
    pub fn validate(&self) -> Result<usize, FieldError> {
        if self.q.trim().is_empty() || self.q.chars().count() > crate::limits::MAX_MESSAGE_CHARS {
            return Err(FieldError::new("q", "q must be 1 to 10000 characters"));
        }
        match self.limit.unwrap_or(Self::DEFAULT_LIMIT) {
            limit @ 1..=50 => Ok(limit),
            _ => Err(FieldError::new("limit", "limit must be 1 to 50")),
        }
    }
}

/// One ranked article of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleHit {
    /// External id of the article.
    pub id: String,
    /// Title.
    pub title: String,
    /// Public URL, when it has one.
    #[serde(default)]
    pub url: Option<String>,
    /// Ranking score (BM25F), comparable only within one search.
    pub score: f64,
    /// 0.0 to 1.0: how sure the ranking is that the article answers the question.
    pub confidence: f64,
    /// `true` when the responders would use it (`confidence` at least
    /// [`crate::retrieval::MIN_CONFIDENCE`]).
    pub confident: bool,
    /// The passage of the article that best answers the question.
    pub passage: String,
}

/// Answer of `GET /v1/sites/{id}/articles/search`.
///
/// # Format
/// `{"hits":[{"id":"install-widget","title":"…","url":null,"score":12.3,"confidence":0.8,"confident":true,"passage":"…"}]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleSearch {
    /// Best first.
    pub hits: Vec<ArticleHit>,
}
