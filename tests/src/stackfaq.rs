//! Retrieval quality on the StackFAQ help-centre data
//! (`../shared/data/stackfaq`: 125 articles, 625 labelled visitor
//! questions), measured through a running worker: the knowledge base is
//! imported into a new site with the import route, every question is asked
//! as a visitor through `POST /api/v1/chat/stream` (precision@1 of the
//! answer's first source: an answer that is "not sure" counts as a miss), and
//! ranked through `GET /v1/sites/{id}/articles/search` (recall@5, MRR).
//! Used by `tests/retrieval.rs` (asserted in CI) and the bench (printed).

use std::path::PathBuf;

use edgechat_shared::api::sites::{ArticleSearch, Site};
use edgechat_shared::api::stream::StreamRequest;
use edgechat_shared::retrieval::{rank_metrics, Metrics};
use futures::StreamExt;
use serde::Deserialize;

use crate::{new_session_id, Server};

/// One labelled question of `queries-dev.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledQuery {
    /// The visitor's question.
    pub query: String,
    /// Ids of the articles that answer it.
    pub relevant: Vec<String>,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation {
    /// Questions asked.
    pub questions: usize,
    /// Share of visitor answers (`POST /stream`) whose first source is a labelled article.
    pub answered_precision_at_1: f64,
    /// Share of visitor answers that were "not sure" (no source).
    pub not_sure: f64,
    /// The ranking through the search route, confidence ignored.
    pub ranking: Metrics,
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} StackFAQ questions: precision@1 {:.3} (visitor answers; {:.1}% not sure), ranking precision@1 {:.3}, recall@5 {:.3}, MRR {:.3}",
            self.questions,
            self.answered_precision_at_1,
            self.not_sure * 100.0,
            self.ranking.precision_at_1,
            self.ranking.recall_at_5,
            self.ranking.mrr
        )
    }
}

/// The StackFAQ folder beside the repository.
pub fn data_dir() -> PathBuf {
    xtask::root().join("../shared/data/stackfaq")
}

/// The labelled dev questions.
pub fn dev_queries() -> Vec<LabelledQuery> {
    let text = std::fs::read_to_string(data_dir().join("queries-dev.jsonl")).expect("queries-dev.jsonl beside the repository");
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("a labelled query")).collect()
}

/// Creates a site with `POST /v1/sites` and imports the StackFAQ knowledge
/// base into it with the import route; answers the site.
pub async fn stackfaq_site(server: &Server, token: &str) -> Site {
    let response = server
        .authed(reqwest::Method::POST, "/v1/sites", token)
        .json(&serde_json::json!({"name": "StackFAQ"}))
        .send()
        .await
        .expect("POST /v1/sites");
    assert_eq!(response.status(), 201);
    let site: Site = response.json().await.expect("site JSON");
    let (url, token, key) = (server.url.clone(), token.to_string(), site.site_key.clone());
    let imported = tokio::task::spawn_blocking(move || xtask::seed::import_kb(&url, &token, &key, &data_dir().join("kb.jsonl")))
        .await
        .expect("the import task")
        .unwrap_or_else(|e| panic!("importing the StackFAQ knowledge base failed: {e}"));
    assert_eq!(imported, 125);
    site
}

/// Asks every question of `queries` (4 at a time) as a visitor and through
/// the search route of `site`.
pub async fn evaluate(server: &Server, token: &str, site: &Site, queries: &[LabelledQuery]) -> Evaluation {
    let outcomes: Vec<(Option<bool>, Option<usize>)> = futures::stream::iter(queries)
        .map(|q| async move {
            let request = StreamRequest {
                site_key: site.site_key.clone(),
                session_id: new_session_id(),
                message: q.query.clone(),
                lang: Some("en".into()),
                message_id: None,
                attachments: Vec::new(),
                page_url: None,
            };
            let streamed = server.stream(&request).await;
            assert_eq!(streamed.status, 200, "{}", q.query);
            let answered = streamed.done().sources.first().map(|s| q.relevant.contains(&s.id));
            let response = server
                .authed(reqwest::Method::GET, &format!("/v1/sites/{}/articles/search", site.id), token)
                .query(&[("q", q.query.as_str()), ("limit", "5")])
                .send()
                .await
                .expect("GET search");
            assert_eq!(response.status(), 200, "{}", q.query);
            let search: ArticleSearch = response.json().await.expect("search JSON");
            let rank = search.hits.iter().position(|h| q.relevant.contains(&h.id)).map(|i| i + 1);
            (answered, rank)
        })
        .buffered(4)
        .collect()
        .await;
    let n = outcomes.len().max(1) as f64;
    let ranks: Vec<Option<usize>> = outcomes.iter().map(|(_, rank)| *rank).collect();
    Evaluation {
        questions: outcomes.len(),
        answered_precision_at_1: outcomes.iter().filter(|(a, _)| *a == Some(true)).count() as f64 / n,
        not_sure: outcomes.iter().filter(|(a, _)| a.is_none()).count() as f64 / n,
        ranking: rank_metrics(&ranks),
    }
}
