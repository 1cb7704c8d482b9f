//! `/v1/sites` and `/v1/sites/{id}/articles`: sites and their knowledge base
//! (operator API, JWT; writes need the owner or admin role).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::list_cap;
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
    /// fragment, `api_key` at most 500 characters (422 `responder`). The
    /// worker also requires `base_url` to name a public https server
    /// (`responder::base_url_problem`).
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
                let hint = crate::validate::ascii_host_hint(base);
                return Err(FieldError::new("responder", format!("base_url must be an http(s) URL without query or fragment{hint}")));
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

/// Which bottom corner of the page holds the widget's launcher (issue 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LauncherPosition {
    /// Bottom right (default).
    #[default]
    Right,
    /// Bottom left.
    Left,
}

impl LauncherPosition {
    /// `right` or `left`.
    pub fn as_str(self) -> &'static str {
        match self {
            LauncherPosition::Right => "right",
            LauncherPosition::Left => "left",
        }
    }

    /// Reads `right` or `left` (422 `launcher_position` for anything else).
    pub fn parse(value: &str) -> Result<LauncherPosition, FieldError> {
        match value {
            "right" => Ok(LauncherPosition::Right),
            "left" => Ok(LauncherPosition::Left),
            _ => Err(FieldError::new("launcher_position", "launcher_position must be \"right\" or \"left\"")),
        }
    }
}

/// Limits of a site's widget settings (issue 15).
pub mod theme_limits {
    /// Most characters of `title`.
    pub const MAX_TITLE_CHARS: usize = 80;
    /// Most bytes of `avatar_url`.
    pub const MAX_AVATAR_URL_BYTES: usize = 2048;
    /// The launcher's offsets from the page's side and bottom, in px.
    pub const OFFSET_PX: std::ops::RangeInclusive<i64> = 0..=200;
    /// The launcher's offsets when none is set, in px.
    pub const DEFAULT_OFFSET_PX: u16 = 20;
    /// Most bytes of `custom_css` (16 KiB).
    pub const MAX_CUSTOM_CSS_BYTES: usize = 16 * 1024;
    /// Most entries of `greetings`.
    pub const MAX_GREETINGS: usize = 20;
    /// Most characters of a greeting (`greeting` or one of `greetings`).
    pub const MAX_GREETING_CHARS: usize = 500;
}

/// A site as the operator API answers it.
///
/// # Format
/// `{"id":1,"name":"Acme","site_key":"sk_…","allowed_origins":["https://acme.com"],"greeting":"…",
///   "greetings":{"fr":"Bonjour !"},"theme_color":"#4f46e5","title":"","avatar_url":null,
///   "launcher_position":"right","launcher_offset_x":20,"launcher_offset_y":20,"custom_css":"",
///   "responder":{"kind":"kb"},"embed_snippet":"<script …>","identity_secret":"…",
///   "identity_token_key":"…"}`
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
    /// First message of the widget (seed 004), the default of `greetings`.
    pub greeting: String,
    /// The greeting per language: lower-cased language tag (`fr`, `pt-br`) →
    /// greeting; the widget shows the one of its language, else `greeting`.
    #[serde(default)]
    pub greetings: BTreeMap<String, String>,
    /// Accent colour, `#rrggbb`.
    pub theme_color: String,
    /// The panel header's title; empty: the site's `name`.
    #[serde(default)]
    pub title: String,
    /// An https URL of the image shown in the panel header; `null`: none.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Which bottom corner holds the launcher.
    #[serde(default)]
    pub launcher_position: LauncherPosition,
    /// The launcher's distance from the page's side (`launcher_position`), in px, 0 to 200.
    #[serde(default)]
    pub launcher_offset_x: u16,
    /// The launcher's distance from the page's bottom, in px, 0 to 200.
    #[serde(default)]
    pub launcher_offset_y: u16,
    /// CSS applied inside the widget's shadow root; empty: none.
    #[serde(default)]
    pub custom_css: String,
    /// AI responder settings.
    pub responder: ResponderSettings,
    /// The ready-to-paste `<script>` tag for this site.
    pub embed_snippet: String,
    /// Secret for visitor identity verification (`user_hash = HMAC-SHA256(secret, user_id)`);
    /// shown to owners and admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    /// Key of the identity JWTs (HS256) a site's backend mints for the app's
    /// sign-in (`POST /api/v1/app/session`, seed 003): 64 hex characters
    /// whose UTF-8 bytes are the HMAC key, derived from `identity_secret`
    /// with HKDF-SHA256 (RFC 5869; salt `edgechat site-secret v1`, info
    /// `edgechat identity-token v1`, 32 bytes) so that no `user_hash` is ever
    /// a JWT signature; changes when the secret is rotated. Shown to owners
    /// and admins only, with the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_token_key: Option<String>,
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
    #[serde(default, deserialize_with = "list_cap::at_most::<10, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
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
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "list_cap::at_most_or_none::<50, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub allowed_origins: Option<Vec<String>>,
    /// 1 to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// The greeting per language, replacing the stored map: at most 20
    /// entries, each key a lower-case language tag (`fr`, `pt-br`: BCP 47
    /// shape, [`validate::lang`]), each greeting 1 to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greetings: Option<BTreeMap<String, String>>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_color: Option<String>,
    /// The panel header's title, at most 80 characters; `""`: the site's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// An `https://` URL of at most 2,048 characters; `""` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// `right` or `left` (422 for anything else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<LauncherPosition>))]
    pub launcher_position: Option<String>,
    /// Distance from the page's side, 0 to 200 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 200))]
    pub launcher_offset_x: Option<i64>,
    /// Distance from the page's bottom, 0 to 200 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 200))]
    pub launcher_offset_y: Option<i64>,
    /// CSS applied inside the widget's shadow root, at most 16 KiB; `""`
    /// removes it. The worker accepts CSS only: no at-rule but `@media`,
    /// `@supports`, `@keyframes` and `@container`; no `url(`, `src(` or
    /// `image-set(` but of a `data:image/` URL; no `expression(`,
    /// `-moz-binding` or `behavior`; nothing the CSS tokenizer calls an
    /// error (422 naming the construct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_css: Option<String>,
    /// AI responder settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responder: Option<ResponderSettings>,
    /// The request topics, replacing the stored list ([`RequestReason::validate_list`]).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "list_cap::at_most_or_none::<20, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
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
            check_greeting("greeting", greeting)?;
        }
        if let Some(greetings) = &self.greetings {
            check_greetings(greetings)?;
        }
        if let Some(color) = &self.theme_color {
            validate::hex_color(color)?;
        }
        if let Some(title) = &self.title {
            if title.chars().count() > theme_limits::MAX_TITLE_CHARS {
                return Err(FieldError::new("title", "title must be at most 80 characters"));
            }
        }
        if let Some(url) = self.avatar_url.as_deref().filter(|u| !u.is_empty()) {
            validate::https_url("avatar_url", url)?;
        }
        if let Some(position) = &self.launcher_position {
            LauncherPosition::parse(position)?;
        }
        for (field, offset) in [("launcher_offset_x", self.launcher_offset_x), ("launcher_offset_y", self.launcher_offset_y)] {
            if offset.is_some_and(|px| !theme_limits::OFFSET_PX.contains(&px)) {
                return Err(FieldError::new(field, format!("{field} must be 0 to 200 (px)")));
            }
        }
        if self.custom_css.as_ref().is_some_and(|css| css.len() > theme_limits::MAX_CUSTOM_CSS_BYTES) {
            return Err(FieldError::new("custom_css", "custom_css must be at most 16 KiB"));
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

/// A greeting: 1 to 500 characters, not only white space (422 `field`).
fn check_greeting(field: &'static str, greeting: &str) -> Result<(), FieldError> {
    if greeting.trim().is_empty() || greeting.chars().count() > theme_limits::MAX_GREETING_CHARS {
        return Err(FieldError::new(field, format!("{field} must be 1 to 500 characters")));
    }
    Ok(())
}

/// The greeting per language: at most 20, each key a lower-case language
/// tag, each greeting as [`check_greeting`] (422 `greetings`).
fn check_greetings(greetings: &BTreeMap<String, String>) -> Result<(), FieldError> {
    if greetings.len() > theme_limits::MAX_GREETINGS {
        return Err(FieldError::new("greetings", "greetings must have at most 20 languages"));
    }
    for (tag, greeting) in greetings {
        if validate::lang(tag).is_err() || tag.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "greetings",
                format!("greetings: '{tag}' is not a lower-case language tag such as 'fr' or 'pt-br'"),
            ));
        }
        check_greeting("greetings", greeting)?;
    }
    Ok(())
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
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 50))]
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
