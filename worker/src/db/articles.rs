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

/// Creates or replaces `articles` of `site_id` in one D1 batch (a
/// transaction: all or nothing); the site's `kb_revision` follows by trigger.
pub async fn upsert_articles(db: &D1Database, site_id: i64, articles: &[ImportArticle]) -> worker::Result<()> {
    if articles.is_empty() {
        return Ok(());
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
    db.batch(statements).await?;
    Ok(())
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
