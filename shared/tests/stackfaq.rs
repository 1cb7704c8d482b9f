//! Offline evaluation of the knowledge-base ranker on the StackFAQ dev
//! questions (`shared/data/stackfaq/`, beside the repository): 125 articles,
//! 625 paraphrased visitor questions each labelled with its one answering
//! article. Plain BM25 scores precision@1 0.614 there (the data's README).

use edgechat_shared::retrieval::{rank_metrics, Index};
use serde::Deserialize;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/stackfaq/");

#[derive(Deserialize)]
struct Article {
    id: String,
    title: String,
    body: String,
}

#[derive(Deserialize)]
struct Query {
    query: String,
    relevant: Vec<String>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let path = format!("{DATA}{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn stackfaq_dev_precision_at_1() {
    let articles: Vec<Article> = read_jsonl("kb.jsonl");
    let queries: Vec<Query> = read_jsonl("queries-dev.jsonl");
    let started = std::time::Instant::now();
    let index = Index::build(articles.iter().map(|a| (a.title.as_str(), a.body.as_str())));
    let build_time = started.elapsed();

    let started = std::time::Instant::now();
    let mut ranks = Vec::new();
    let mut raw_ranks = Vec::new();
    let mut correct_top = 0;
    let mut correct_top_confident = 0;
    let mut correct_conf = Vec::new();
    for q in &queries {
        let hits = index.search(&q.query, 5);
        let rank = hits.iter().position(|h| q.relevant.contains(&articles[h.article].id)).map(|i| i + 1);
        raw_ranks.push(rank);
        let confident = hits.first().is_some_and(|h| h.is_confident());
        if rank == Some(1) {
            correct_top += 1;
            correct_top_confident += usize::from(confident);
            correct_conf.push(hits[0].confidence);
        }
        ranks.push(if rank == Some(1) && !confident { None } else { rank });
        if std::env::var("T_FEAT").is_ok() {
            let f = index.debug_features(&q.query);
            println!("FEAT\t{}\t{}", if rank == Some(1) { "good" } else { "bad" }, f.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join("\t"));
        }
        if std::env::var("T_DUMP").is_ok() && rank != Some(1) {
            let top = hits.first().map(|h| (articles[h.article].title.as_str(), h.confidence));
            println!("MISS {:?} want {:?} got {:?} rank {:?}", q.query, articles.iter().find(|a| q.relevant.contains(&a.id)).map(|a| &a.title), top, rank);
        }
    }
    let search_time = started.elapsed() / queries.len() as u32;

    let m = rank_metrics(&ranks);
    let raw = rank_metrics(&raw_ranks);
    println!(
        "precision@1 {:.3}, recall@5 {:.3}, MRR {:.3} (n={})",
        m.precision_at_1,
        raw.recall_at_5,
        raw.mrr,
        queries.len()
    );
    println!(
        "raw precision@1 {:.3} (ignoring confidence); correct top hits confident: {:.1}% ({correct_top_confident}/{correct_top})",
        raw.precision_at_1,
        100.0 * correct_top_confident as f64 / correct_top.max(1) as f64
    );
    println!("build {build_time:?}, search {search_time:?} per question");
    correct_conf.sort_by(f64::total_cmp);
    let q = |p: f64| correct_conf[(p * correct_conf.len() as f64) as usize];
    println!("quantiles 1% {:.3} 2% {:.3} 3% {:.3} 5% {:.3} 10% {:.3}", q(0.01), q(0.02), q(0.03), q(0.05), q(0.1));
    let mut off = Vec::new();
    let offs = std::fs::read_to_string("/tmp/offtopic.txt").unwrap();
    for question in offs.lines() {
        if std::env::var("T_FEAT").is_ok() {
            let f = index.debug_features(question);
            println!("FEAT\toff\t{}", f.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join("\t"));
        }
        let top = index.search(question, 1);
        off.push(format!("{:.2}", top.first().map_or(0.0, |h| h.confidence)));
    }
    println!("off-topic {}", off.join(" "));
    assert!(m.precision_at_1 >= 0.72, "precision@1 {:.3} below 0.72", m.precision_at_1);
}
