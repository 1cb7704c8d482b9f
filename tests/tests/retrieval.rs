//! Retrieval quality of the `kb` responder, measured the way visitors reach
//! it: the StackFAQ knowledge base (`../shared/data/stackfaq`) is imported
//! into a test site and every labelled question goes through
//! `POST /api/v1/chat/stream`. The top source must be the labelled entry for
//! at least 61% of the questions (the Okapi BM25 reference in that folder's
//! README is 61.4%).

use edgechat_shared::api::sites::Site;
use edgechat_shared::api::stream::StreamRequest;
use edgechat_tests::*;
use futures::StreamExt;
use serde::Deserialize;

const REQUIRED_PRECISION_AT_1: f64 = 0.61;

#[derive(Deserialize)]
struct LabelledQuery {
    query: String,
    relevant: Vec<String>,
}

/// Creates a site through `POST /v1/sites` and imports the StackFAQ
/// knowledge base into it through the import route; answers its site key.
fn stackfaq_site(server: &Server, kb: &std::path::Path) -> String {
    let token = runtime().block_on(server.demo_token());
    let site: Site = runtime().block_on(async {
        let response = server
            .authed(reqwest::Method::POST, "/v1/sites", &token)
            .json(&serde_json::json!({"name": "StackFAQ"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    });
    let imported = xtask::seed::import_kb(&server.url, &token, &site.site_key, kb)
        .unwrap_or_else(|e| panic!("importing the StackFAQ knowledge base failed: {e}"));
    assert_eq!(imported, 125);
    site.site_key
}

fn main() {
    let server = Server::start("retrieval");
    let data = xtask::root().join("../shared/data/stackfaq");
    let site_key = stackfaq_site(server, &data.join("kb.jsonl"));
    run_trials(
        server,
        vec![trial("kb_top_source_is_the_labelled_entry_for_61_percent_of_questions", server, move |server| async move {
            let site_key = &site_key;
            let text = std::fs::read_to_string(data.join("queries-dev.jsonl")).expect("queries-dev.jsonl");
            let queries: Vec<LabelledQuery> = text.lines().map(|l| serde_json::from_str(l).expect("labelled query")).collect();
            let ranks: Vec<Option<usize>> = futures::stream::iter(queries.iter())
                .map(|q| async move {
                    let request = StreamRequest {
                        site_key: site_key.clone(),
                        session_id: new_session_id(),
                        message: q.query.clone(),
                        lang: Some("en".into()),
                        message_id: None,
                        attachments: Vec::new(),
                    };
                    let streamed = server.stream(&request).await;
                    assert_eq!(streamed.status, 200, "{}", q.query);
                    streamed.done().sources.iter().position(|s| q.relevant.contains(&s.id))
                })
                .buffered(4)
                .collect()
                .await;
            let n = ranks.len() as f64;
            let p1 = ranks.iter().filter(|r| **r == Some(0)).count() as f64 / n;
            let recall3 = ranks.iter().filter(|r| r.is_some()).count() as f64 / n;
            let mrr = ranks.iter().map(|r| r.map_or(0.0, |i| 1.0 / (i as f64 + 1.0))).sum::<f64>() / n;
            println!("retrieval on {} StackFAQ questions: precision@1 {p1:.3}, recall@3 {recall3:.3}, MRR@3 {mrr:.3}", ranks.len());
            assert!(p1 >= REQUIRED_PRECISION_AT_1, "precision@1 {p1:.3} < {REQUIRED_PRECISION_AT_1}");
        })],
    )
}
