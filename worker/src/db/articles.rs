//! The knowledge base: a site's articles (imported by `external_id`), and
//! its revision, which triggers bump on every article write (migration 0007).

use edgechat_shared::api::sites::Article;
use edgechat_shared::kb::ImportArticle;
use serde::Deserialize;
use worker::D1Database;

use super::{int, opt_text, text};

/// The revision of a site's knowledge base, and the site key it belongs to
/// (a cached index is keyed by both, so a reused key never meets stale articles).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Revision {
    pub kb_revision: i64,
    pub site_key: String,
}

/// The knowledge-base revision of site `site_id`; `None` for no such site.
pub async fn revision(db: &D1Database, site_id: i64) -> worker::Result<Option<Revision>> {
    db.prepare("SELECT kb_revision, site_key FROM sites WHERE id = ?1").bind(&[int(site_id)])?.first::<Revision>(None).await
}

/// A knowledge-base article row.
#[derive(Debug, Clone, Deserialize)]
pub struct ArticleRow {
    pub external_id: String,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub updated_at: String,
}

const ARTICLE_COLUMNS: &str = "external_id, title, body, url, updated_at";

impl ArticleRow {
    /// The wire form.
    pub fn to_article(&self) -> Article {
        Article {
            id: self.external_id.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            url: self.url.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

/// Every article of `site_id`, in creation order.
pub async fn articles(db: &D1Database, site_id: i64) -> worker::Result<Vec<ArticleRow>> {
    db.prepare(format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE site_id = ?1 ORDER BY id"))
        .bind(&[int(site_id)])?
        .all()
        .await?
        .results()
}

/// One article of `site_id` by external id.
pub async fn article(db: &D1Database, site_id: i64, external_id: &str) -> worker::Result<Option<ArticleRow>> {
    db.prepare(format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE site_id = ?1 AND external_id = ?2"))
        .bind(&[int(site_id), text(external_id)])?
        .first(None)
        .await
}

/// The error of migration 0029's triggers, which keep a site's knowledge
/// base within [`edgechat_shared::limits::MAX_ARTICLES_PER_SITE`] and
/// [`edgechat_shared::limits::MAX_KB_CHARS_PER_SITE`].
const OVER_CAP: &str = "kb_articles: over the site cap";

/// Creates or replaces `articles` of `site_id` in one D1 batch (a
/// transaction: all or nothing); the site's `kb_revision` follows by
/// trigger. Answers `false`, having written nothing, when the batch would
/// take the site's knowledge base past its caps.
pub async fn upsert_articles(db: &D1Database, site_id: i64, articles: &[ImportArticle]) -> worker::Result<bool> {
    if articles.is_empty() {
        return Ok(true);
    }
    let statements = articles
        .iter()
        .map(|a| {
            db.prepare(
                "INSERT INTO kb_articles (site_id, external_id, title, body, url) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (site_id, external_id) DO UPDATE SET title = excluded.title, body = excluded.body, \
                 url = excluded.url, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            )
            .bind(&[int(site_id), text(&a.id), text(&a.title), text(&a.body), opt_text(a.url.as_deref())])
        })
        .collect::<worker::Result<Vec<_>>>()?;
    match db.batch(statements).await {
        Ok(_) => Ok(true),
        Err(e) if e.to_string().contains(OVER_CAP) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes one article; answers whether it existed.
pub async fn delete_article(db: &D1Database, site_id: i64, external_id: &str) -> worker::Result<bool> {
    Ok(db
        .prepare("DELETE FROM kb_articles WHERE site_id = ?1 AND external_id = ?2 RETURNING id")
        .bind(&[int(site_id), text(external_id)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use edgechat_shared::limits::{MAX_ARTICLES_PER_SITE, MAX_KB_CHARS_PER_SITE};

    /// The caps are enforced by migration 0029's triggers, which spell the
    /// shared limits out: they must be the same numbers.
    #[test]
    fn the_cap_triggers_hold_the_shared_limits() {
        let sql = include_str!("../../../migrations/0029_kb_caps.sql");
        assert!(sql.contains(&format!("s.kb_article_count >= {MAX_ARTICLES_PER_SITE}\n")), "the article cap");
        assert_eq!(sql.matches(&format!("> {MAX_KB_CHARS_PER_SITE}")).count(), 2, "the character cap, on insert and update");
        assert_eq!(sql.matches(&format!("RAISE(ABORT, '{}')", super::OVER_CAP)).count(), 2);
    }
}
