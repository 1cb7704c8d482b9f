//! `/v1/sites` and `/v1/sites/{id}/articles`: sites, their settings and
//! their knowledge base. Reads for every operator; writes for owners and admins.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::sites::{
    Article, ArticleHit, ArticleInput, ArticleList, ArticleSearch, ArticleSearchQuery, ImportResult, Site, SiteInput, SiteList,
};
use edgechat_shared::error::{ErrorBody, FieldError};
use edgechat_shared::kb::{check_article, parse_jsonl, ImportArticle};
use edgechat_shared::limits::{MAX_ARTICLES_PER_SITE, MAX_KB_CHARS_PER_SITE};
use edgechat_shared::validate;
use worker::D1Database;

use crate::auth::{random_hex, CurrentOperator};
use crate::custom_css;
use crate::db;
use crate::db::articles;
use crate::db::sites::{self as site_db, SiteRow};
use crate::error::{ApiError, ApiResult};
use crate::responder::kb;
use crate::room;
use crate::routes::widget::uploads;
use crate::routes::{json_object, public_origin, AppState};

/// The caller's site `id`, or 404.
async fn load(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<SiteRow> {
    site_db::site(db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("site"))
}

/// Article `external_id` of site `site_id`, or 404.
async fn load_article(db: &D1Database, site_id: i64, external_id: &str) -> ApiResult<articles::ArticleRow> {
    articles::article(db, site_id, external_id).await?.ok_or_else(|| ApiError::not_found("article"))
}

/// Checks a site's settings: [`SiteInput::validate`], the responder's
/// `base_url` as a public https server ([`crate::responder::base_url_problem`]:
/// every visitor question is posted there, from the worker), then the custom
/// CSS ([`custom_css::check`]). 422 on the first failure.
fn validated(env: &worker::Env, body: &[u8]) -> ApiResult<SiteInput> {
    let input: SiteInput = json_object(body)?;
    input.validate()?;
    if let Some(problem) = input.responder.as_ref().and_then(|r| crate::responder::base_url_problem(env, r)) {
        return Err(FieldError::new("responder", problem).into());
    }
    if let Some(css) = &input.custom_css {
        custom_css::check(css)?;
    }
    Ok(input)
}

fn answer(row: &SiteRow, caller: &CurrentOperator, uri: &Uri, headers: &HeaderMap) -> Site {
    row.to_site(&public_origin(uri, headers), caller.role() >= OperatorRole::Admin)
}

/// Handles the `GET /v1/sites` route: the caller's account's sites.
#[utoipa::path(
    get,
    path = "/v1/sites",
    responses(
        (status = 200, description = "The account's sites, oldest first (`identity_secret` for owners and admins only)", body = SiteList),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_sites(State(state): State<AppState>, caller: CurrentOperator, uri: Uri, headers: HeaderMap) -> ApiResult<Json<SiteList>> {
    let rows = site_db::sites(&db::database(&state.env)?, caller.account_id).await?;
    Ok(Json(SiteList { sites: rows.iter().map(|r| answer(r, &caller, &uri, &headers)).collect() }))
}

/// Handles the `POST /v1/sites` route (owner/admin): 201 [`Site`] with a new
/// site key and identity secret; 422 invalid or missing `name`.
#[utoipa::path(
    post,
    path = "/v1/sites",
    request_body = SiteInput,
    responses(
        (status = 201, description = "The new site, with its site key and identity secret", body = Site),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 422, description = "`validation_error`: a missing or invalid `name`, or another invalid field (a `custom_css` that is not plain CSS names the construct); nothing is stored", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_site(
    State(state): State<AppState>,
    caller: CurrentOperator,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Site>)> {
    caller.require(OperatorRole::Admin)?;
    let input = validated(&state.env, &body)?;
    let name = input.name.clone().ok_or_else(|| FieldError::new("name", "name is required"))?;
    let row = site_db::insert_site(&db::database(&state.env)?, caller.account_id, &name, &input).await?;
    Ok((StatusCode::CREATED, Json(answer(&row, &caller, &uri, &headers))))
}

/// Handles the `GET /v1/sites/{id}` route.
#[utoipa::path(
    get,
    path = "/v1/sites/{id}",
    params(("id" = i64, Path, description = "Site id")),
    responses(
        (status = 200, description = "The site", body = Site),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_site(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Site>> {
    let row = load(&db::database(&state.env)?, &caller, id).await?;
    Ok(Json(answer(&row, &caller, &uri, &headers)))
}

/// Handles the `PATCH /v1/sites/{id}` route (owner/admin): changes the
/// fields given. 422 invalid fields.
#[utoipa::path(
    patch,
    path = "/v1/sites/{id}",
    params(("id" = i64, Path, description = "Site id")),
    request_body = SiteInput,
    responses(
        (status = 200, description = "The site with the fields given changed", body = Site),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: an invalid field (a `custom_css` that is not plain CSS names the construct); nothing is stored", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_site(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Site>> {
    caller.require(OperatorRole::Admin)?;
    let input = validated(&state.env, &body)?;
    let db = db::database(&state.env)?;
    let row = load(&db, &caller, id).await?;
    let row = site_db::update_site(&db, &row, &input).await?.ok_or_else(|| ApiError::not_found("site"))?;
    Ok(Json(answer(&row, &caller, &uri, &headers)))
}

/// Handles the `DELETE /v1/sites/{id}` route (owner/admin): the site, its
/// conversations, its knowledge base and its uploaded files (R2). The
/// conversations' live streams end, and their Rooms refuse anything more
/// (their ids are never reused). 204.
#[utoipa::path(
    delete,
    path = "/v1/sites/{id}",
    params(("id" = i64, Path, description = "Site id")),
    responses(
        (status = 204, description = "The site, its conversations and its knowledge base are deleted"),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_site(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let row = load(&db, &caller, id).await?;
    let conversations = site_db::delete_site(&db, row.id).await?;
    room::close_all(&state.env, row.id, row.account_id, &conversations).await;
    if let Err(err) = uploads::delete_site_files(&state.env, row.account_id, row.id).await {
        worker::console_error!("deleting the files of deleted site {} failed: {err}", row.id);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `POST /v1/sites/{id}/rotate-secret` route (owner/admin): a
/// new identity-verification secret; the old one stops working at once.
#[utoipa::path(
    post,
    path = "/v1/sites/{id}/rotate-secret",
    params(("id" = i64, Path, description = "Site id")),
    responses(
        (status = 200, description = "The site with a new identity secret; the old one stops working at once", body = Site),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_rotate_secret(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Site>> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let row = load(&db, &caller, id).await?;
    let row = site_db::rotate_secret(&db, row.id).await?.ok_or_else(|| ApiError::not_found("site"))?;
    Ok(Json(answer(&row, &caller, &uri, &headers)))
}

/// Handles the `GET /v1/sites/{id}/articles` route.
#[utoipa::path(
    get,
    path = "/v1/sites/{id}/articles",
    params(("id" = i64, Path, description = "Site id")),
    responses(
        (status = 200, description = "The site's knowledge base, by id", body = ArticleList),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_articles(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<Json<ArticleList>> {
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    let rows = articles::articles(&db, site.id).await?;
    Ok(Json(ArticleList { articles: rows.iter().map(articles::ArticleRow::to_article).collect() }))
}

/// Handles the `GET /v1/sites/{id}/articles/search?q=&limit=` route: the
/// site's articles ranked for question `q` exactly as the responders rank
/// them, with confidence and best passage (any operator role). 422 for a
/// blank or over-long `q` or a `limit` outside 1 to 50.
#[utoipa::path(
    get,
    path = "/v1/sites/{id}/articles/search",
    params(("id" = i64, Path, description = "Site id"), ArticleSearchQuery),
    responses(
        (status = 200, description = "The site's articles ranked for `q` as the responders rank them, best first", body = ArticleSearch),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank or over-long `q`, a `limit` outside 1 to 50", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_article_search(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    query: Result<Query<ArticleSearchQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ArticleSearch>> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let limit = query.validate()?;
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    let index = kb::site_index(&db, site.id).await?;
    let hits = index
        .search(&query.q, limit)
        .into_iter()
        .map(|r| ArticleHit {
            id: r.source.id,
            title: r.source.title,
            url: r.source.url,
            score: r.hit.score,
            confidence: r.hit.confidence,
            confident: r.hit.is_confident(),
            passage: r.passage,
        })
        .collect();
    Ok(Json(ArticleSearch { hits }))
}

/// Checks an article's fields; `url` `""` stands for no URL.
fn checked_article(id: String, title: String, body: String, url: Option<String>) -> ApiResult<ImportArticle> {
    let url = url.filter(|u| !u.is_empty());
    if let Some(url) = &url {
        validate::https_url("url", url)?;
    }
    let article = ImportArticle { id, title, body, url };
    check_article(&article).map_err(|message| FieldError::new("article", message))?;
    Ok(article)
}

/// The articles of a JSON Lines import, each checked as the single-article
/// routes check one ([`checked_article`]: an `https://` `url` or none); 422
/// naming the first bad line.
fn checked_import(text: &str) -> ApiResult<Vec<ImportArticle>> {
    let articles = parse_jsonl(text).map_err(|e| FieldError::new("body", e.to_string()))?;
    // `parse_jsonl` skips blank lines: the n-th article is on the n-th line that is not blank.
    let lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()).map(|(i, _)| i + 1);
    lines
        .zip(articles)
        .map(|(line, a)| {
            checked_article(a.id, a.title, a.body, a.url).map_err(|e| FieldError::new("body", format!("line {line}: {}", e.message)).into())
        })
        .collect()
}

/// 422 on `articles` unless `written` (the knowledge base's caps held).
fn within_caps(written: bool) -> ApiResult<()> {
    if written {
        return Ok(());
    }
    let message = format!(
        "A site's knowledge base holds at most {MAX_ARTICLES_PER_SITE} articles and {MAX_KB_CHARS_PER_SITE} characters of titles and bodies; nothing was written"
    );
    Err(FieldError::new("articles", message).into())
}

/// Handles the `POST /v1/sites/{id}/articles` route (owner/admin): 201
/// [`Article`]; 409 when the id exists; 422 missing title or body.
#[utoipa::path(
    post,
    path = "/v1/sites/{id}/articles",
    params(("id" = i64, Path, description = "Site id")),
    request_body = ArticleInput,
    responses(
        (status = 201, description = "The new article (`id` generated when absent)", body = Article),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
        (status = 409, description = "`conflict`: an article with this id exists", body = ErrorBody),
        (status = 422, description = "`validation_error`: a missing title or body, a field too long, a URL that is not https; past the site's knowledge-base caps (1,000 articles, 4,194,304 characters of titles and bodies), nothing is written", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_article(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Article>)> {
    caller.require(OperatorRole::Admin)?;
    let input: ArticleInput = json_object(&body)?;
    let external_id = input.id.unwrap_or_else(|| format!("article-{}", random_hex(6)));
    let article = checked_article(external_id, input.title.unwrap_or_default(), input.body.unwrap_or_default(), input.url)?;
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    if articles::article(&db, site.id, &article.id).await?.is_some() {
        return Err(ApiError::conflict("An article with this id exists; PATCH it instead"));
    }
    within_caps(articles::upsert_articles(&db, site.id, std::slice::from_ref(&article)).await?)?;
    let row = load_article(&db, site.id, &article.id).await?;
    Ok((StatusCode::CREATED, Json(row.to_article())))
}

/// Handles the `GET /v1/sites/{id}/articles/{article_id}` route.
#[utoipa::path(
    get,
    path = "/v1/sites/{id}/articles/{article_id}",
    params(("id" = i64, Path, description = "Site id"), ("article_id" = String, Path, description = "The article's id, as created or imported")),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 404, description = "`not_found`: no such site in the caller's account, or no such article", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_article(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, article_id)): Path<(i64, String)>,
) -> ApiResult<Json<Article>> {
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    let row = load_article(&db, site.id, &article_id).await?;
    Ok(Json(row.to_article()))
}

/// Handles the `PATCH /v1/sites/{id}/articles/{article_id}` route
/// (owner/admin): changes title, body or URL.
#[utoipa::path(
    patch,
    path = "/v1/sites/{id}/articles/{article_id}",
    params(("id" = i64, Path, description = "Site id"), ("article_id" = String, Path, description = "The article's id, as created or imported")),
    request_body = ArticleInput,
    responses(
        (status = 200, description = "The article with the fields given changed (`id` cannot change)", body = Article),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account, or no such article", body = ErrorBody),
        (status = 422, description = "`validation_error`: a field too long or blank, a URL that is not https; past the site's knowledge-base caps (1,000 articles, 4,194,304 characters of titles and bodies), nothing is written", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_article(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, article_id)): Path<(i64, String)>,
    body: Bytes,
) -> ApiResult<Json<Article>> {
    caller.require(OperatorRole::Admin)?;
    let input: ArticleInput = json_object(&body)?;
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    let row = load_article(&db, site.id, &article_id).await?;
    let article =
        checked_article(row.external_id.clone(), input.title.unwrap_or(row.title), input.body.unwrap_or(row.body), input.url.or(row.url))?;
    within_caps(articles::upsert_articles(&db, site.id, std::slice::from_ref(&article)).await?)?;
    let row = load_article(&db, site.id, &article.id).await?;
    Ok(Json(row.to_article()))
}

/// Handles the `DELETE /v1/sites/{id}/articles/{article_id}` route (owner/admin). 204.
#[utoipa::path(
    delete,
    path = "/v1/sites/{id}/articles/{article_id}",
    params(("id" = i64, Path, description = "Site id"), ("article_id" = String, Path, description = "The article's id, as created or imported")),
    responses(
        (status = 204, description = "The article is deleted"),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account, or no such article", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_article(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, article_id)): Path<(i64, String)>,
) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    if articles::delete_article(&db, site.id, &article_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("article"))
    }
}

/// Handles the `POST /v1/sites/{id}/articles/import` route (owner/admin):
/// a JSON Lines body, `{"id","title","body"}` per line. Each id is kept as
/// the article's id; re-importing an id replaces that article. A bad line
/// (an article the single-article routes would refuse, such as a `url` that
/// is not `https://`) refuses the whole body (422 naming the line) and
/// nothing is imported.
#[utoipa::path(
    post,
    path = "/v1/sites/{id}/articles/import",
    params(("id" = i64, Path, description = "Site id")),
    request_body(content = String, content_type = "application/x-ndjson", description = "JSON Lines: one `{\"id\",\"title\",\"body\",\"url\"}` object per line (`url` optional); any `Content-Type` is read as such"),
    responses(
        (status = 200, description = "Every line imported; an id imported again replaces that article", body = ImportResult),
        (status = 400, description = "`bad_request`: the body is not UTF-8 text", body = ErrorBody),
        (status = 403, description = "`forbidden`: this needs the owner or admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad line (named in the message); past the site's knowledge-base caps (1,000 articles, 4,194,304 characters of titles and bodies); nothing is imported", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_import(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ImportResult>> {
    caller.require(OperatorRole::Admin)?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("The body is not UTF-8 text"))?;
    let articles = checked_import(text)?;
    let db = db::database(&state.env)?;
    let site = load(&db, &caller, id).await?;
    within_caps(articles::upsert_articles(&db, site.id, &articles).await?)?;
    Ok(Json(ImportResult { imported: articles.len() }))
}
