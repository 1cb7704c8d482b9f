//! The `kb` responder (default, offline): ranks the site's knowledge-base
//! articles with D1 FTS5 `bm25()` (title weighted 5×, body 1×) and answers
//! with the best article's first passage. Articles holding less than
//! [`edgechat_shared::kb::MIN_COVERAGE`] of the question's topic words are
//! not cited; when none is left it says it does not know and offers a person.

use edgechat_shared::api::stream::Source;
use edgechat_shared::kb;
use serde::Deserialize;
use worker::D1Database;

use crate::db::{int, text};

/// Most articles cited as sources.
const MAX_SOURCES: usize = 3;

/// An answer of the responder.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The full answer text.
    pub text: String,
    /// Articles the answer came from, best first (empty when not confident).
    pub sources: Vec<Source>,
    /// `true` when no article was relevant enough and a person is offered.
    pub handoff_offered: bool,
}

#[derive(Debug, Deserialize)]
struct RankedArticle {
    external_id: String,
    title: String,
    body: String,
    url: Option<String>,
}

/// Answers `question` from the knowledge base of site `site_id`.
///
/// Errors: a D1 failure.
pub async fn answer(db: &D1Database, site_id: i64, question: &str) -> worker::Result<Answer> {
    let Some(query) = kb::fts_query(question) else {
        return Ok(not_sure());
    };
    let ranked = db
        .prepare(
            "SELECT a.external_id, a.title, a.body, a.url FROM kb_fts JOIN kb_articles a ON a.id = kb_fts.rowid \
             WHERE kb_fts MATCH ?1 AND a.site_id = ?2 ORDER BY bm25(kb_fts, 5.0, 1.0) LIMIT ?3",
        )
        .bind(&[text(&query), int(site_id), int(MAX_SOURCES as i64)])?
        .all()
        .await?
        .results::<RankedArticle>()?;
    let confident: Vec<&RankedArticle> =
        ranked.iter().filter(|a| kb::coverage(question, &a.title, &a.body) >= kb::MIN_COVERAGE).collect();
    let Some(best) = confident.first() else {
        return Ok(not_sure());
    };
    Ok(Answer {
        text: kb::answer_passage(&best.body).to_string(),
        sources: confident
            .iter()
            .map(|a| Source { id: a.external_id.clone(), title: a.title.clone(), url: a.url.clone() })
            .collect(),
        handoff_offered: false,
    })
}

fn not_sure() -> Answer {
    Answer { text: kb::NOT_SURE_ANSWER.to_string(), sources: Vec::new(), handoff_offered: true }
}
