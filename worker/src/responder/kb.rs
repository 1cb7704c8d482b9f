//! The site's knowledge base as the responders see it: [`retrieve`] finds
//! the passages that answer a question (D1 FTS5 `bm25()`, title weighted
//! 5×, body 1×; articles holding less than
//! [`edgechat_shared::kb::MIN_COVERAGE`] of the question's topic words are
//! left out), and [`answer`] is the offline `kb` responder: the best passage,
//! or "not sure" and the offer of a person.

use edgechat_shared::api::stream::Source;
use edgechat_shared::kb;
use serde::Deserialize;
use worker::D1Database;

use super::prompt::Passage;
use super::Answer;
use crate::db::{int, text};

/// Most passages retrieved (cited as sources, offered to a model).
pub const MAX_PASSAGES: usize = 3;

#[derive(Debug, Deserialize)]
struct RankedArticle {
    external_id: String,
    title: String,
    body: String,
    url: Option<String>,
}

/// The confident passages answering `question` in site `site_id`'s
/// knowledge base, best first, at most [`MAX_PASSAGES`].
///
/// Errors: a D1 failure.
pub async fn retrieve(db: &D1Database, site_id: i64, question: &str) -> worker::Result<Vec<Passage>> {
    let Some(query) = kb::fts_query(question) else {
        return Ok(Vec::new());
    };
    let ranked = db
        .prepare(
            "SELECT a.external_id, a.title, a.body, a.url FROM kb_fts JOIN kb_articles a ON a.id = kb_fts.rowid \
             WHERE kb_fts MATCH ?1 AND a.site_id = ?2 ORDER BY bm25(kb_fts, 5.0, 1.0) LIMIT ?3",
        )
        .bind(&[text(&query), int(site_id), int(MAX_PASSAGES as i64)])?
        .all()
        .await?
        .results::<RankedArticle>()?;
    Ok(ranked
        .into_iter()
        .filter(|a| kb::coverage(question, &a.title, &a.body) >= kb::MIN_COVERAGE)
        .map(|a| Passage {
            text: kb::answer_passage(&a.body).to_string(),
            source: Source { id: a.external_id, title: a.title, url: a.url },
        })
        .collect())
}

/// The `kb` responder's answer: the best passage with every retrieved
/// article as a source, or "not sure" and the offer of a person when none.
pub fn answer(passages: &[Passage]) -> Answer {
    match passages.first() {
        Some(best) => Answer {
            text: best.text.clone(),
            sources: passages.iter().map(|p| p.source.clone()).collect(),
            handoff_offered: false,
        },
        None => Answer { text: kb::NOT_SURE_ANSWER.to_string(), sources: Vec::new(), handoff_offered: true },
    }
}
