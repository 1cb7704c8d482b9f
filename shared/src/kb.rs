//! Knowledge-base rules shared by the importer and the responders: the JSON
//! Lines import format, the passage separator and stop words the ranker
//! ([`crate::retrieval`]) uses, and cutting an answer into stream chunks.

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_ARTICLE_BODY_CHARS, MAX_ARTICLE_TITLE_CHARS};

/// One article of a JSON Lines import: `{"id","title","body"}` per line
/// (issue 2; extra fields such as `lang` are ignored). The `id` is kept
/// exactly as given, and re-importing an id replaces that article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportArticle {
    /// External id, 1 to 128 characters, unique per site.
    pub id: String,
    /// Title (usually the question), 1 to 500 characters.
    pub title: String,
    /// Answer text, 1 to 100,000 characters.
    pub body: String,
    /// Public URL of the article, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Why a JSON Lines import was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a JSON Lines import. Blank lines are skipped; the first bad line
/// refuses the whole import, so nothing is half-imported.
pub fn parse_jsonl(text: &str) -> Result<Vec<ImportArticle>, ImportError> {
    let mut articles = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let article: ImportArticle =
            serde_json::from_str(raw).map_err(|e| ImportError { line, message: format!("not an article object: {e}") })?;
        check_article(&article).map_err(|message| ImportError { line, message: message.into() })?;
        articles.push(article);
    }
    Ok(articles)
}

/// Checks one article's fields: id 1 to 128 characters, title 1 to 500,
/// body 1 to 100,000, none blank, and no control character but tab and
/// line breaks (a NUL would end the text for SQLite's `length()`, which
/// migration 0029's caps count with).
pub fn check_article(article: &ImportArticle) -> Result<(), &'static str> {
    let control = |s: &str| s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    if control(&article.id) || control(&article.title) || control(&article.body) {
        return Err("id, title and body must hold no control characters (tab and line breaks aside)");
    }
    if article.id.trim().is_empty() || article.id.chars().count() > 128 {
        return Err("id must be 1 to 128 characters");
    }
    if article.title.trim().is_empty() || article.title.chars().count() > MAX_ARTICLE_TITLE_CHARS {
        return Err("title must be 1 to 500 characters");
    }
    if article.body.trim().is_empty() || article.body.chars().count() > MAX_ARTICLE_BODY_CHARS {
        return Err("body must be 1 to 100000 characters");
    }
    Ok(())
}

/// English function words that carry no topic: dropped from questions so that
/// "how do I …" does not match every article.
pub(crate) const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could",
    "did", "do", "does", "doing", "for", "from", "get", "got", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "just", "me", "might", "my", "myself", "of", "on", "or", "our", "please", "she", "should",
    "so", "some", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up", "us",
    "very", "was", "way", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
    "your", "im", "ive", "dont", "cant", "there's", "hi", "hello", "hey", "thanks", "thank",
];

/// Separator between the community answers joined in one article body
/// (the StackFAQ format, `\n\n---\n\n`).
pub const PASSAGE_SEPARATOR: &str = "\n\n---\n\n";

/// Words per streamed chunk.
pub const WORDS_PER_CHUNK: usize = 4;

/// Cuts an answer into stream chunks of a few words each. Concatenating the
/// chunks gives back `text` exactly, white space included.
pub fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    let mut in_word = false;
    for c in text.chars() {
        let space = c.is_whitespace();
        if !space && !in_word {
            if words == WORDS_PER_CHUNK {
                out.push(std::mem::take(&mut current));
                words = 0;
            }
            words += 1;
        }
        in_word = !space;
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_import_keeps_ids_and_skips_blank_lines() {
        let text = "{\"id\":\"faq-1\",\"title\":\"T\",\"body\":\"B\",\"lang\":\"en\"}\n\n{\"id\":\"faq-2\",\"title\":\"T2\",\"body\":\"B2\",\"url\":\"https://x.test/2\"}\n";
        let got = parse_jsonl(text).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].id, "faq-1");
        assert_eq!(got[1].url.as_deref(), Some("https://x.test/2"));
    }

    #[test]
    fn jsonl_import_refuses_bad_lines_with_their_number() {
        let err = parse_jsonl("{\"id\":\"a\",\"title\":\"t\",\"body\":\"b\"}\nnot json\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse_jsonl("{\"id\":\"\",\"title\":\"t\",\"body\":\"b\"}").unwrap_err();
        assert!(err.message.contains("id"));
        let err = parse_jsonl("{\"id\":\"a\",\"title\":\"t\",\"body\":\"  \"}").unwrap_err();
        assert!(err.message.contains("body"));
        // A NUL would end the body for SQLite's length(), which the caps count.
        let err = parse_jsonl("{\"id\":\"a\",\"title\":\"t\",\"body\":\"a\\u0000bbbb\"}").unwrap_err();
        assert!(err.message.contains("control"), "{}", err.message);
        assert!(parse_jsonl("{\"id\":\"a\",\"title\":\"t\",\"body\":\"line\\n\\tnext\\r\\n\"}").is_ok(), "tabs and line breaks are text");
    }

    #[test]
    fn chunks_rebuild_the_answer_exactly() {
        let text = "Use ~~tildes around the words~~.\n\nThen  save the\tcomment and reload the page.";
        let parts = chunks(text);
        assert!(parts.len() > 2, "several chunks, got {parts:?}");
        assert_eq!(parts.concat(), text);
        assert_eq!(chunks(""), Vec::<String>::new());
    }
}
