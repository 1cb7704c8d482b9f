//! The site's knowledge base as the responders see it: [`retrieve`] finds
//! the passages that answer a question with the ranker of
//! [`edgechat_shared::retrieval`] (BM25F over stemmed title and body,
//! synonyms, typo tolerance, best answer passage, confidence), and
//! [`answer`] is the offline `kb` responder: the best passage, or "not sure"
//! and the offer of a person.
//!
//! The index of a site is built from its articles once per knowledge-base
//! revision and kept in the isolate (a Worker isolate serves many requests
//! and Durable Objects): a question costs one primary-key D1 read for the
//! revision, and a rebuild only after articles changed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use edgechat_shared::api::stream::Source;
use edgechat_shared::retrieval::{Hit, Index};
use edgechat_shared::texts::Lang;
use worker::D1Database;

use super::prompt::Passage;
use super::Answer;
use crate::db::articles::{self, ArticleRow, Revision};

/// Most passages retrieved (cited as sources, offered to a model).
pub const MAX_PASSAGES: usize = 3;

/// Most sites whose index one isolate keeps.
const CACHED_SITES: usize = 32;

/// A site's articles and their index.
pub struct SiteIndex {
    revision: Revision,
    articles: Vec<ArticleRow>,
    index: Index,
}

/// A ranked article with its best passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The article.
    pub source: Source,
    /// Its passage that best answers the question.
    pub passage: String,
    /// The ranking (score, confidence).
    pub hit: Hit,
}

impl SiteIndex {
    /// The `limit` best articles for `question`, confident or not.
    pub fn search(&self, question: &str, limit: usize) -> Vec<Ranked> {
        self.index
            .search(question, limit)
            .into_iter()
            .map(|hit| {
                let article = &self.articles[hit.article];
                Ranked {
                    source: Source { id: article.external_id.clone(), title: article.title.clone(), url: article.url.clone() },
                    passage: article.body.get(hit.passage.clone()).unwrap_or_default().to_string(),
                    hit,
                }
            })
            .collect()
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<i64, Rc<SiteIndex>>> = RefCell::new(HashMap::new());
}

/// The current index of site `site_id`'s knowledge base: the cached one
/// while the revision is unchanged, else built from D1.
///
/// Errors: a D1 failure.
pub async fn site_index(db: &D1Database, site_id: i64) -> worker::Result<Rc<SiteIndex>> {
    let revision = articles::revision(db, site_id).await?.ok_or_else(|| worker::Error::RustError(format!("no site {site_id}")))?;
    if let Some(cached) = CACHE.with(|c| c.borrow().get(&site_id).filter(|s| s.revision == revision).cloned()) {
        return Ok(cached);
    }
    let articles = articles::articles(db, site_id).await?;
    let index = Index::build(articles.iter().map(|a| (a.title.as_str(), a.body.as_str())));
    let built = Rc::new(SiteIndex { revision, articles, index });
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CACHED_SITES && !cache.contains_key(&site_id) {
            let evicted = *cache.keys().next().expect("a full cache has keys");
            cache.remove(&evicted);
        }
        cache.insert(site_id, built.clone());
    });
    Ok(built)
}

/// The confident passages answering `question` in site `site_id`'s
/// knowledge base, best first, at most [`MAX_PASSAGES`].
///
/// Errors: a D1 failure.
pub async fn retrieve(db: &D1Database, site_id: i64, question: &str) -> worker::Result<Vec<Passage>> {
    let index = site_index(db, site_id).await?;
    Ok(index
        .search(question, MAX_PASSAGES)
        .into_iter()
        .filter(|r| r.hit.is_confident())
        .map(|r| Passage { source: r.source, text: r.passage })
        .collect())
}

/// The `kb` responder's answer: the best passage with every retrieved
/// article as a source, or "not sure" and the offer of a person, in the
/// visitor's language, when none.
pub fn answer(passages: &[Passage], lang: Lang) -> Answer {
    match passages.first() {
        Some(best) => {
            Answer { text: best.text.clone(), sources: passages.iter().map(|p| p.source.clone()).collect(), handoff_offered: false }
        }
        None => Answer { text: lang.texts().not_sure.to_string(), sources: Vec::new(), handoff_offered: true },
    }
}
