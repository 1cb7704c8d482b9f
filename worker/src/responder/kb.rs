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
//! revision, and a rebuild only after articles changed. The isolate keeps
//! at most [`KB_INDEX_CACHE_BYTES`] of them (by [`SiteIndex::heap_bytes`]),
//! evicting the least recently used site's first.

use std::cell::RefCell;
use std::rc::Rc;

use edgechat_shared::api::stream::Source;
use edgechat_shared::limits::KB_INDEX_CACHE_BYTES;
use edgechat_shared::retrieval::{Hit, Index};
use edgechat_shared::texts::Lang;
use lru::LruCache;
use worker::D1Database;

use super::prompt::Passage;
use super::Answer;
use crate::db::articles::{self, ArticleRow, Revision};

/// Most passages retrieved (cited as sources, offered to a model).
pub const MAX_PASSAGES: usize = 3;

/// A site's articles and their index.
pub struct SiteIndex {
    revision: Revision,
    articles: Vec<ArticleRow>,
    index: Index,
    /// [`SiteIndex::heap_bytes`], counted once when built.
    bytes: usize,
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
    /// Indexes `articles` of knowledge-base `revision`.
    pub fn build(revision: Revision, articles: Vec<ArticleRow>) -> SiteIndex {
        let index = Index::build(articles.iter().map(|a| (a.title.as_str(), a.body.as_str())));
        let text: usize = articles
            .iter()
            .map(|a| {
                a.external_id.capacity()
                    + a.title.capacity()
                    + a.body.capacity()
                    + a.url.as_ref().map_or(0, String::capacity)
                    + a.updated_at.capacity()
            })
            .sum();
        let bytes = size_of::<SiteIndex>()
            + revision.site_key.capacity()
            + articles.capacity() * size_of::<ArticleRow>()
            + text
            + index.heap_bytes();
        SiteIndex { revision, articles, index, bytes }
    }

    /// The memory it holds, in bytes (estimated: itself, its articles' text
    /// and [`Index::heap_bytes`]); what the isolate's cache counts.
    pub fn heap_bytes(&self) -> usize {
        self.bytes
    }

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

/// The site indexes one isolate keeps: at most `capacity` bytes of them
/// (by [`SiteIndex::heap_bytes`]), the least recently used evicted first.
/// An index larger than the whole capacity is used once and not kept.
struct IndexCache {
    sites: LruCache<i64, Rc<SiteIndex>>,
    bytes: usize,
    capacity: usize,
}

impl IndexCache {
    fn new(capacity: usize) -> IndexCache {
        IndexCache { sites: LruCache::unbounded(), bytes: 0, capacity }
    }

    /// The index of `site_id` at `revision`, now the most recently used;
    /// `None` when absent or of another revision (which is dropped).
    fn get(&mut self, site_id: i64, revision: &Revision) -> Option<Rc<SiteIndex>> {
        match self.sites.get(&site_id) {
            Some(cached) if cached.revision == *revision => Some(Rc::clone(cached)),
            Some(_) => {
                self.remove(site_id);
                None
            }
            None => None,
        }
    }

    /// Keeps `index` as site `site_id`'s, evicting the least recently used
    /// sites' until the total fits the capacity.
    fn insert(&mut self, site_id: i64, index: Rc<SiteIndex>) {
        self.remove(site_id);
        if index.heap_bytes() > self.capacity {
            return;
        }
        while self.bytes + index.heap_bytes() > self.capacity {
            let Some((_, evicted)) = self.sites.pop_lru() else { break };
            self.bytes -= evicted.heap_bytes();
        }
        self.bytes += index.heap_bytes();
        self.sites.put(site_id, index);
    }

    fn remove(&mut self, site_id: i64) {
        if let Some(removed) = self.sites.pop(&site_id) {
            self.bytes -= removed.heap_bytes();
        }
    }
}

thread_local! {
    static CACHE: RefCell<IndexCache> = RefCell::new(IndexCache::new(KB_INDEX_CACHE_BYTES));
}

/// The current index of site `site_id`'s knowledge base: the cached one
/// while the revision is unchanged, else built from D1 (and cached).
///
/// Errors: a D1 failure.
pub async fn site_index(db: &D1Database, site_id: i64) -> worker::Result<Rc<SiteIndex>> {
    let revision = articles::revision(db, site_id).await?.ok_or_else(|| worker::Error::RustError(format!("no site {site_id}")))?;
    if let Some(cached) = CACHE.with(|c| c.borrow_mut().get(site_id, &revision)) {
        return Ok(cached);
    }
    let built = Rc::new(SiteIndex::build(revision, articles::articles(db, site_id).await?));
    CACHE.with(|c| c.borrow_mut().insert(site_id, Rc::clone(&built)));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A site index of `n` articles of revision `kb_revision`.
    fn site(n: usize, kb_revision: i64) -> Rc<SiteIndex> {
        let articles = (0..n)
            .map(|i| ArticleRow {
                external_id: format!("a{i}"),
                title: format!("How do I reset password number {i}"),
                body: format!("Open settings, choose security and press reset {i}. A link arrives by email within minutes."),
                url: None,
                updated_at: "2026-12-01T00:00:00Z".into(),
            })
            .collect();
        Rc::new(SiteIndex::build(Revision { kb_revision, site_key: "sk_test".into() }, articles))
    }

    #[test]
    fn heap_bytes_counts_the_articles_text_and_grows_with_the_knowledge_base() {
        let text = |site: &SiteIndex| site.articles.iter().map(|a| a.title.len() + a.body.len()).sum::<usize>();
        let (small, large) = (site(2, 1), site(40, 1));
        assert!(large.heap_bytes() > text(&large) + large.index.heap_bytes(), "the text and the index are both counted");
        assert!(
            large.heap_bytes() - small.heap_bytes() >= text(&large) - text(&small),
            "38 more articles cost at least their text: {} vs {}",
            large.heap_bytes(),
            small.heap_bytes()
        );
    }

    #[test]
    fn the_cache_keeps_its_bytes_under_the_capacity_and_evicts_the_least_recently_used_site() {
        let one = site(10, 1).heap_bytes();
        // Room for three sites of this size, not four.
        let mut cache = IndexCache::new(3 * one + one / 2);
        for id in 1..=3 {
            cache.insert(id, site(10, 1));
        }
        assert_eq!(cache.bytes, 3 * one);
        let revision = Revision { kb_revision: 1, site_key: "sk_test".into() };
        assert!(cache.get(1, &revision).is_some(), "site 1 is now the most recently used");
        cache.insert(4, site(10, 1));
        assert!(cache.get(2, &revision).is_none(), "site 2, the least recently used, was evicted");
        for id in [1, 3, 4] {
            assert!(cache.get(id, &revision).is_some(), "site {id} is kept");
        }
        assert_eq!(cache.bytes, 3 * one, "the count follows evictions");
        assert!(cache.bytes <= cache.capacity);
    }

    #[test]
    fn a_new_revision_replaces_the_old_index_and_its_bytes() {
        let mut cache = IndexCache::new(usize::MAX);
        cache.insert(1, site(10, 1));
        let newer = Revision { kb_revision: 2, site_key: "sk_test".into() };
        assert!(cache.get(1, &newer).is_none(), "a stale revision is not served");
        assert_eq!(cache.bytes, 0, "and no longer counted");
        cache.insert(1, site(3, 2));
        cache.insert(1, site(3, 2));
        assert_eq!(cache.bytes, site(3, 2).heap_bytes(), "one index per site");
    }

    #[test]
    fn an_index_larger_than_the_capacity_is_not_kept_and_evicts_nothing() {
        let mut cache = IndexCache::new(site(5, 1).heap_bytes());
        cache.insert(1, site(5, 1));
        cache.insert(2, site(50, 1));
        let revision = Revision { kb_revision: 1, site_key: "sk_test".into() };
        assert!(cache.get(2, &revision).is_none());
        assert!(cache.get(1, &revision).is_some());
    }
}
