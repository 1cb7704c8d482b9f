//! Offline knowledge-base ranking: which articles answer a visitor question,
//! which answer passage of each to show, and how sure the ranking is.
//!
//! Ranking is BM25F (Robertson & Zaragoza, "The Probabilistic Relevance
//! Framework: BM25 and Beyond", 2009) over two fields, title and body, with
//! Snowball English stemming, general stop words, a small general synonym
//! list, typo tolerance against the index vocabulary, compound words
//! ("e-mail", "log in" → "email", "login"), and a bonus for question words that
//! stand together in the article. The passage shown is the community answer
//! (issue rule: "picking the best answer passage rather than streaming every
//! answer of an article") that best matches the question.
//!
//! Everything is in memory and single-threaded, so it runs inside a Worker
//! (`wasm32-unknown-unknown`).

use std::collections::HashMap;
use std::ops::Range;

use rust_stemmers::{Algorithm, Stemmer};

use crate::kb::PASSAGE_SEPARATOR;

/// Least [`Hit::confidence`] at which the `kb` responder answers; below it the
/// responder says it is not sure and offers a person.
pub const MIN_CONFIDENCE: f64 = 0.34;

// ---------------------------------------------------------------- tuning (dev)

#[derive(Clone, Debug)]
struct Tuning {
    k1: f64,
    b_title: f64,
    b_body: f64,
    w_title: f64,
    w_body: f64,
    syn_w: f64,
    typo_w: f64,
    pass_w: f64,
    prox_w: f64,
    prox_window: u32,
    rerank: usize,
    conf_k: f64,
    typo_min: usize,
    typo_first: bool,
    typo_long: usize,
    stem: bool,
    typos: bool,
    syns: bool,
    joins: bool,
    framing: bool,
}

impl Tuning {
    fn from_env() -> Tuning {
        fn f(name: &str, default: f64) -> f64 {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        }
        Tuning {
            k1: f("T_K1", 1.2),
            b_title: f("T_BT", 0.3),
            b_body: f("T_BB", 0.75),
            w_title: f("T_WT", 3.0),
            w_body: f("T_WB", 1.0),
            syn_w: f("T_SYN", 0.7),
            typo_w: f("T_TYPO", 0.8),
            pass_w: f("T_PASS", 0.0),
            prox_w: f("T_PROX", 0.0),
            prox_window: f("T_WIN", 3.0) as u32,
            rerank: f("T_RERANK", 30.0) as usize,
            conf_k: f("T_CK", 0.0),
            typo_min: f("T_TYPOMIN", 4.0) as usize,
            typo_first: f("T_TYPOFIRST", 0.0) > 0.0,
            typo_long: f("T_TYPOLONG", 8.0) as usize,
            stem: f("T_STEM", 1.0) > 0.0,
            typos: f("T_TYPOS", 1.0) > 0.0,
            syns: f("T_SYNS", 1.0) > 0.0,
            joins: f("T_JOINS", 1.0) > 0.0,
            framing: f("T_FRAMING", 1.0) > 0.0,
        }
    }
}

// ---------------------------------------------------------------- word lists

/// General English function words beyond [`crate::kb::STOP_WORDS`]: the
/// rest of the Snowball English stop list, contractions written without the
/// apostrophe (the tokenizer drops apostrophes: "what's" → "whats").
const MORE_STOP_WORDS: &[&str] = &[
    "above", "again", "against", "aren", "arent", "because", "before", "below", "between", "both",
    "cannot", "couldnt", "didnt", "doesnt", "down", "during", "each", "few", "further", "hadnt",
    "hasnt", "havent", "hed", "hell", "hers", "herself", "hes", "himself", "hows", "id", "ill",
    "isnt", "itself", "lets", "more", "most", "mustnt", "no", "nor", "not", "now", "off", "once",
    "only", "other", "ought", "ours", "ourselves", "out", "over", "own", "same", "shant", "shed",
    "shes", "shouldnt", "such", "thats", "theirs", "themselves", "theres", "theyd", "theyll",
    "theyre", "theyve", "through", "under", "until", "wasnt", "wed", "well", "werent", "weve",
    "whats", "whens", "wheres", "whos", "whys", "wont", "wouldnt", "youd", "youll", "youre",
    "yours", "yourself", "yourselves", "youve", "cant", "dont", "im", "ive", "one", "another",
    "anyone", "anybody", "someone", "somebody", "something", "anything", "etc", "eg", "ie",
];

/// Words that frame a help request rather than name its topic ("is it
/// possible to …", "I want to …", "what is the best way to …").
const FRAMING_WORDS: &[&str] = &[
    "possible", "want", "wanted", "wants", "need", "needs", "like", "know", "way", "ways", "best",
    "easiest", "easy", "simple", "simplest", "able", "help", "anyway", "somehow", "currently",
    "really", "actually", "still", "even", "already", "tell", "guys", "trying", "try", "tried",
];

/// Groups of general English words (and help-centre vocabulary) that a
/// visitor may use for one another. Not derived from any test question.
const SYNONYMS: &[&[&str]] = &[
    &["delete", "remove", "erase"],
    &["email", "mail"],
    &["picture", "photo", "image", "pic", "photograph"],
    &["video", "clip", "movie"],
    &["document", "doc"],
    &["change", "modify", "alter", "edit"],
    &["create", "make"],
    &["find", "locate", "search"],
    &["show", "display"],
    &["see", "view"],
    &["hide", "conceal"],
    &["disable", "deactivate"],
    &["enable", "activate"],
    &["stop", "prevent", "block"],
    &["link", "url", "hyperlink"],
    &["website", "site", "webpage"],
    &["phone", "mobile", "cellphone", "smartphone"],
    &["password", "passcode"],
    &["login", "signin", "logon"],
    &["logout", "signout", "logoff"],
    &["signup", "register"],
    &["big", "large", "huge"],
    &["small", "little", "tiny"],
    &["fast", "quick"],
    &["begin", "start"],
    &["end", "finish"],
    &["buy", "purchase"],
    &["cost", "price"],
    &["error", "problem", "issue", "bug"],
    &["fix", "repair", "solve"],
    &["copy", "duplicate"],
    &["move", "transfer"],
    &["recover", "restore", "undelete", "retrieve"],
    &["folder", "directory"],
    &["attachment", "attach"],
    &["computer", "pc", "desktop", "laptop"],
    &["reply", "respond", "answer"],
    &["notification", "alert"],
    &["chart", "graph"],
    &["mute", "silence"],
    &["calendar", "schedule"],
    &["song", "music", "track"],
    &["font", "typeface"],
    &["choose", "select", "pick"],
    &["old", "previous", "earlier"],
];

fn is_stop_word(word: &str, tuning: &Tuning) -> bool {
    crate::kb::STOP_WORDS.contains(&word)
        || MORE_STOP_WORDS.contains(&word)
        || (tuning.framing && FRAMING_WORDS.contains(&word))
}

// ---------------------------------------------------------------- tokenizer

/// One word of a text: a run of letters and digits (apostrophes inside it
/// dropped), lower-cased with diacritics folded.
struct Word {
    /// Normalised form.
    norm: String,
    /// Lower-cased parts of a camelCase word ("getRange" → "get", "range"),
    /// empty when the word has no inner capital.
    camel_parts: Vec<String>,
    /// Whether the word follows the previous one across a single "-", "." or
    /// "_" ("e-mail", "gmail.com"), so the two may form one compound.
    glued: bool,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}')
}

/// Folds Latin letters with diacritics to their base letter ("é" → "e").
fn fold_diacritic(c: char) -> char {
    match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ğ' => 'g',
        'ì'..='ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ş' => 's',
        'ß' => 's',
        'ť' | 'ţ' => 't',
        'ù'..='ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

fn normalise(raw: &str) -> String {
    raw.chars().filter(|c| !is_apostrophe(*c)).flat_map(char::to_lowercase).map(fold_diacritic).collect()
}

fn camel_parts(raw: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prev_lower = false;
    for (i, c) in raw.char_indices() {
        if c.is_uppercase() && prev_lower {
            parts.push(normalise(&raw[start..i]));
            start = i;
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if start == 0 {
        return Vec::new();
    }
    parts.push(normalise(&raw[start..]));
    parts
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut prev_end: Option<usize> = None;
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() {
                end = i + c.len_utf8();
                chars.next();
            } else if is_apostrophe(c) {
                let mut ahead = chars.clone();
                ahead.next();
                match ahead.peek() {
                    Some(&(_, next)) if next.is_alphanumeric() => {
                        chars.next();
                    }
                    _ => break,
                }
            } else {
                break;
            }
        }
        let raw = &text[start..end];
        let glued = prev_end.is_some_and(|p| matches!(&text[p..start], "-" | "." | "_"));
        out.push(Word { norm: normalise(raw), camel_parts: camel_parts(raw), glued });
        prev_end = Some(end);
    }
    out
}

// ---------------------------------------------------------------- index

/// A field's tokens: (position, stem id), positions increasing; compound
/// and camelCase parts share the position of their word.
type Tokens = Vec<(u32, u32)>;

struct Passage {
    /// Byte range of the trimmed passage in the article body.
    range: Range<usize>,
    tokens: Tokens,
    /// Number of words.
    len: u32,
}

struct Article {
    title: Tokens,
    title_len: u32,
    body_len: u32,
    passages: Vec<Passage>,
}

/// (article, tf in title, tf in body)
type Posting = (u32, u32, u32);

/// Passages of a single-answer body longer than this (bytes) are cut at
/// paragraph breaks into pieces of about this size.
const LONG_PASSAGE_BYTES: usize = 1500;

/// An index over a site's articles; built once per knowledge-base version,
/// then searched many times.
pub struct Index {
    tuning: Tuning,
    stemmer: Stemmer,
    /// Stem → stem id.
    stems: HashMap<String, u32>,
    /// Per stem id: the articles holding it, in article order.
    postings: Vec<Vec<Posting>>,
    /// Distinct alphabetic surface words of 3+ letters, for typo matching.
    surfaces: Vec<Surface>,
    articles: Vec<Article>,
    avg_title_len: f64,
    avg_body_len: f64,
    avg_passage_len: f64,
}

struct Surface {
    word: String,
    chars: usize,
    letters: u32,
    stem: u32,
}

fn letter_mask(word: &str) -> u32 {
    word.chars().fold(0, |m, c| if c.is_ascii_lowercase() { m | 1 << (c as u8 - b'a') } else { m | 1 << 26 })
}

struct Builder<'s> {
    stemmer: &'s Stemmer,
    use_stemmer: bool,
    stems: HashMap<String, u32>,
    surfaces: HashMap<String, u32>,
}

impl Builder<'_> {
    fn stem_id(&mut self, word: &str) -> u32 {
        let stem = stem_word(self.stemmer, self.use_stemmer, word);
        let next = self.stems.len() as u32;
        let id = *self.stems.entry(stem).or_insert(next);
        if word.len() >= 3 && word.chars().all(char::is_alphabetic) && !self.surfaces.contains_key(word) {
            self.surfaces.insert(word.to_owned(), id);
        }
        id
    }

    fn tokens(&mut self, text: &str) -> (Tokens, u32) {
        let mut tokens = Vec::new();
        let words = words(text);
        for (i, word) in words.iter().enumerate() {
            let pos = i as u32;
            tokens.push((pos, self.stem_id(&word.norm)));
            for part in &word.camel_parts {
                if part.len() >= 2 {
                    tokens.push((pos, self.stem_id(part)));
                }
            }
            if word.glued {
                let joined = format!("{}{}", words[i - 1].norm, word.norm);
                tokens.push((pos, self.stem_id(&joined)));
            }
        }
        (tokens, words.len() as u32)
    }
}

fn stem_word(stemmer: &Stemmer, use_stemmer: bool, word: &str) -> String {
    if use_stemmer {
        stemmer.stem(word).into_owned()
    } else {
        word.to_owned()
    }
}

/// Trimmed, non-empty pieces of `text[range]` between occurrences of `sep`.
fn pieces(text: &str, range: Range<usize>, sep: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = range.start;
    let slice = &text[range.clone()];
    let ends = slice.match_indices(sep).map(|(i, _)| (range.start + i, range.start + i + sep.len()));
    for (end, next) in ends.chain(std::iter::once((range.end, range.end))) {
        let piece = &text[start..end];
        let lead = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            out.push(start + lead..start + lead + trimmed.len());
        }
        start = next;
    }
    out
}

/// The answer passages of a body: its community answers, or, for a single
/// long answer, runs of its paragraphs of about [`LONG_PASSAGE_BYTES`].
fn passage_ranges(body: &str) -> Vec<Range<usize>> {
    let answers = pieces(body, 0..body.len(), PASSAGE_SEPARATOR);
    if answers.len() != 1 || answers[0].len() <= LONG_PASSAGE_BYTES {
        return answers;
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for paragraph in pieces(body, answers[0].clone(), "\n\n") {
        match out.last_mut() {
            Some(last) if paragraph.end - last.start <= LONG_PASSAGE_BYTES => last.end = paragraph.end,
            _ => out.push(paragraph),
        }
    }
    out
}

impl Index {
    /// `articles`: (title, body) in order; hits refer to them by position.
    pub fn build<'a>(articles: impl IntoIterator<Item = (&'a str, &'a str)>) -> Index {
        let tuning = Tuning::from_env();
        let stemmer = Stemmer::create(Algorithm::English);
        let mut builder =
            Builder { stemmer: &stemmer, use_stemmer: tuning.stem, stems: HashMap::new(), surfaces: HashMap::new() };
        let mut built = Vec::new();
        let mut passage_count = 0usize;
        let mut passage_words = 0u64;
        for (title, body) in articles {
            let (title_tokens, title_len) = builder.tokens(title);
            let mut passages = Vec::new();
            let mut body_len = 0;
            for range in passage_ranges(body) {
                let (tokens, len) = builder.tokens(&body[range.clone()]);
                body_len += len;
                passage_count += 1;
                passage_words += u64::from(len);
                passages.push(Passage { range, tokens, len });
            }
            built.push(Article { title: title_tokens, title_len, body_len, passages });
        }
        let mut postings: Vec<Vec<Posting>> = vec![Vec::new(); builder.stems.len()];
        for (a, article) in built.iter().enumerate() {
            let mut tf: HashMap<u32, (u32, u32)> = HashMap::new();
            for &(_, stem) in &article.title {
                tf.entry(stem).or_default().0 += 1;
            }
            for passage in &article.passages {
                for &(_, stem) in &passage.tokens {
                    tf.entry(stem).or_default().1 += 1;
                }
            }
            for (stem, (t, b)) in tf {
                postings[stem as usize].push((a as u32, t, b));
            }
        }
        for list in &mut postings {
            list.sort_unstable_by_key(|p| p.0);
        }
        let n = built.len().max(1) as f64;
        let avg_title_len = built.iter().map(|a| f64::from(a.title_len)).sum::<f64>() / n;
        let avg_body_len = built.iter().map(|a| f64::from(a.body_len)).sum::<f64>() / n;
        let avg_passage_len = passage_words as f64 / passage_count.max(1) as f64;
        let mut surfaces: Vec<Surface> = builder
            .surfaces
            .into_iter()
            .map(|(word, stem)| Surface { chars: word.chars().count(), letters: letter_mask(&word), word, stem })
            .collect();
        surfaces.sort_unstable_by(|a, b| a.word.cmp(&b.word));
        Index {
            tuning,
            stems: builder.stems,
            stemmer,
            postings,
            surfaces,
            articles: built,
            avg_title_len: avg_title_len.max(1.0),
            avg_body_len: avg_body_len.max(1.0),
            avg_passage_len: avg_passage_len.max(1.0),
        }
    }

    /// Number of articles.
    pub fn len(&self) -> usize {
        self.articles.len()
    }

    /// Whether the index has no article.
    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    fn stem(&self, word: &str) -> String {
        stem_word(&self.stemmer, self.tuning.stem, word)
    }

    fn stem_id(&self, word: &str) -> Option<u32> {
        self.stems.get(&self.stem(word)).copied()
    }

    /// BM25 inverse document frequency of a stem, always positive (the
    /// Lucene form `ln(1 + (N - df + 0.5) / (df + 0.5))`).
    fn idf(&self, stem: u32) -> f64 {
        let n = self.articles.len() as f64;
        let df = self.postings[stem as usize].len() as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Index words within a small edit distance of an unknown question word:
    /// the nearest ones, at most one edit for words of 4 to 7 letters and two
    /// for longer words.
    fn near_words(&self, word: &str) -> Vec<u32> {
        let chars = word.chars().count();
        if chars < self.tuning.typo_min || !word.chars().all(|c| c.is_ascii_lowercase()) {
            return Vec::new();
        }
        let max = if chars >= self.tuning.typo_long { 2 } else { 1 };
        let letters = letter_mask(word);
        let mut best = max + 1;
        let mut found: Vec<u32> = Vec::new();
        for s in &self.surfaces {
            if self.tuning.typo_first && s.word.chars().next() != word.chars().next() {
                continue;
            }
            if s.chars.abs_diff(chars) > max || (s.letters ^ letters).count_ones() as usize > 2 * max {
                continue;
            }
            let d = strsim::osa_distance(word, &s.word);
            if d < best {
                best = d;
                found.clear();
            }
            if d == best && !found.contains(&s.stem) {
                found.push(s.stem);
            }
        }
        found
    }

    /// The topic concepts of a question, in question order.
    fn concepts(&self, question: &str) -> Vec<Concept> {
        let words = words(question);
        let t = &self.tuning;
        let mut concepts: Vec<Concept> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let norm = word.norm.as_str();
            if norm.chars().count() < 2 || is_stop_word(norm, t) {
                continue;
            }
            let stem = self.stem(norm);
            if concepts.iter().any(|c| c.stem == stem) {
                continue;
            }
            let mut alts: Vec<(u32, f64)> = Vec::new();
            let own = self.stems.get(&stem).copied();
            if let Some(id) = own {
                add_alt(&mut alts, id, 1.0);
            }
            if t.joins {
                if i > 0 {
                    if let Some(id) = self.stem_id(&format!("{}{}", words[i - 1].norm, norm)) {
                        add_alt(&mut alts, id, 1.0);
                    }
                }
                if let Some(next) = words.get(i + 1) {
                    if let Some(id) = self.stem_id(&format!("{}{}", norm, next.norm)) {
                        add_alt(&mut alts, id, 1.0);
                    }
                }
            }
            if t.syns {
                for group in SYNONYMS.iter().filter(|g| g.iter().any(|w| self.stem(w) == stem)) {
                    for other in group.iter() {
                        if let Some(id) = self.stem_id(other) {
                            add_alt(&mut alts, id, t.syn_w);
                        }
                    }
                }
            }
            if t.typos && own.is_none() {
                for id in self.near_words(norm) {
                    add_alt(&mut alts, id, t.typo_w);
                }
            }
            concepts.push(Concept { stem, alts });
        }
        concepts
    }

    /// BM25F term weight of a stem in an article, before IDF.
    fn bm25f_tf(&self, article: usize, title_tf: u32, body_tf: u32) -> (f64, f64) {
        let t = &self.tuning;
        let a = &self.articles[article];
        let title = f64::from(title_tf) / (1.0 - t.b_title + t.b_title * f64::from(a.title_len) / self.avg_title_len);
        let body = f64::from(body_tf) / (1.0 - t.b_body + t.b_body * f64::from(a.body_len) / self.avg_body_len);
        let tf = t.w_title * title + t.w_body * body;
        (tf * (t.k1 + 1.0) / (tf + t.k1), tf)
    }

    /// Best articles first, at most `limit`; empty when the question has no
    /// topic words or nothing matches.
    pub fn search(&self, question: &str, limit: usize) -> Vec<Hit> {
        let concepts = self.concepts(question);
        if concepts.is_empty() || limit == 0 || self.articles.is_empty() {
            return Vec::new();
        }
        let n = self.articles.len();
        let mut score = vec![0.0; n];
        let mut covered = vec![0.0; n];
        let mut concept_score = vec![0.0f64; n];
        let mut concept_cover = vec![0.0f64; n];
        let mut touched: Vec<usize> = Vec::new();
        for concept in &concepts {
            for &(stem, weight) in &concept.alts {
                let idf = self.idf(stem);
                for &(a, title_tf, body_tf) in &self.postings[stem as usize] {
                    let a = a as usize;
                    let (s, pseudo) = self.bm25f_tf(a, title_tf, body_tf);
                    let s = weight * idf * s;
                    let credit = if self.tuning.conf_k > 0.0 { weight * pseudo / (pseudo + self.tuning.conf_k) } else { weight };
                    if concept_cover[a] == 0.0 {
                        touched.push(a);
                    }
                    concept_score[a] = f64::max(concept_score[a], s);
                    concept_cover[a] = f64::max(concept_cover[a], credit);
                }
            }
            for a in touched.drain(..) {
                score[a] += concept_score[a];
                covered[a] += concept_cover[a];
                concept_score[a] = 0.0;
                concept_cover[a] = 0.0;
            }
        }
        let mut ranked: Vec<usize> = (0..n).filter(|&a| score[a] > 0.0).collect();
        ranked.sort_by(|&x, &y| score[y].total_cmp(&score[x]).then(x.cmp(&y)));
        ranked.truncate(self.tuning.rerank.max(limit));
        let idfs: Vec<f64> = concepts
            .iter()
            .map(|c| c.alts.iter().map(|&(s, w)| w * self.idf(s)).fold(0.0, f64::max))
            .collect();
        let mut hits: Vec<Hit> = ranked
            .into_iter()
            .map(|a| {
                let (passage, passage_score) = self.best_passage(a, &concepts, &idfs);
                let proximity = self.proximity(a, &concepts, &idfs);
                let total =
                    score[a] + self.tuning.pass_w * passage_score + self.tuning.prox_w * proximity;
                Hit {
                    article: a,
                    score: total,
                    confidence: covered[a] / concepts.len() as f64,
                    passage,
                }
            })
            .collect();
        hits.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.article.cmp(&y.article)));
        hits.truncate(limit);
        hits
    }

    /// The passage of an article that best matches the concepts (BM25 over
    /// passages; ties go to the earliest) and its score.
    fn best_passage(&self, article: usize, concepts: &[Concept], idfs: &[f64]) -> (Range<usize>, f64) {
        let t = &self.tuning;
        let a = &self.articles[article];
        let mut best: Option<(Range<usize>, f64)> = None;
        for passage in &a.passages {
            let norm = 1.0 - t.b_body + t.b_body * f64::from(passage.len) / self.avg_passage_len;
            let mut total = 0.0;
            for (concept, idf) in concepts.iter().zip(idfs) {
                let mut best_tf = 0.0f64;
                for &(stem, weight) in &concept.alts {
                    let tf = passage.tokens.iter().filter(|&&(_, s)| s == stem).count() as f64;
                    best_tf = best_tf.max(weight * tf);
                }
                if best_tf > 0.0 {
                    let tf = best_tf / norm;
                    total += idf * tf * (t.k1 + 1.0) / (tf + t.k1);
                }
            }
            total += t.prox_w * pair_bonus(&passage.tokens, concepts, idfs, t.prox_window);
            if best.as_ref().is_none_or(|(_, s)| total > *s) {
                best = Some((passage.range.clone(), total));
            }
        }
        best.unwrap_or((0..0, 0.0))
    }

    fn proximity(&self, article: usize, concepts: &[Concept], idfs: &[f64]) -> f64 {
        let a = &self.articles[article];
        let w = self.tuning.prox_window;
        let title = pair_bonus(&a.title, concepts, idfs, w);
        a.passages.iter().map(|p| pair_bonus(&p.tokens, concepts, idfs, w)).fold(title, f64::max)
    }
}

/// Sum over pairs of question-adjacent concepts that occur within `window`
/// words of each other in `tokens`, of the smaller IDF of the two.
fn pair_bonus(tokens: &Tokens, concepts: &[Concept], idfs: &[f64], window: u32) -> f64 {
    if concepts.len() < 2 {
        return 0.0;
    }
    let mut last: Vec<Option<u32>> = vec![None; concepts.len()];
    let mut paired = vec![false; concepts.len() - 1];
    for &(pos, stem) in tokens {
        for (c, concept) in concepts.iter().enumerate() {
            if !concept.alts.iter().any(|&(s, _)| s == stem) {
                continue;
            }
            if c > 0 && last[c - 1].is_some_and(|p| pos - p <= window) {
                paired[c - 1] = true;
            }
            if c + 1 < concepts.len() && last[c + 1].is_some_and(|p| pos - p <= window) {
                paired[c] = true;
            }
            last[c] = Some(pos);
        }
    }
    paired.iter().enumerate().filter(|(_, &p)| p).map(|(i, _)| idfs[i].min(idfs[i + 1])).sum()
}

fn add_alt(alts: &mut Vec<(u32, f64)>, stem: u32, weight: f64) {
    match alts.iter_mut().find(|(s, _)| *s == stem) {
        Some(alt) => alt.1 = alt.1.max(weight),
        None => alts.push((stem, weight)),
    }
}

/// One topic word of a question and the index stems that stand for it, each
/// with a weight in 0.0..=1.0 (1.0 for the word itself and its compounds).
struct Concept {
    stem: String,
    alts: Vec<(u32, f64)>,
}

/// One ranked article.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Position of the article in build order.
    pub article: usize,
    /// Ranking score, higher is better; only comparable within one search.
    pub score: f64,
    /// How sure the ranking is that this article answers the question, 0.0 to
    /// 1.0, comparable across knowledge bases of any size.
    pub confidence: f64,
    /// Byte range, in the article's body, of the trimmed answer passage that
    /// best answers the question.
    pub passage: Range<usize>,
}

impl Hit {
    /// Whether the confidence reaches [`MIN_CONFIDENCE`].
    pub fn is_confident(&self) -> bool {
        self.confidence >= MIN_CONFIDENCE
    }
}

/// Ranking quality over a set of questions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Share of questions whose first hit is relevant, 0.0 to 1.0.
    pub precision_at_1: f64,
    /// Share of questions with a relevant hit in the first five.
    pub recall_at_5: f64,
    /// Mean of 1/rank of the first relevant hit, 0 when not in the first five.
    pub mrr: f64,
}

/// Metrics from the 1-based rank of the first relevant hit of each question
/// (`None` when no relevant hit was returned). Zeros for no questions.
pub fn rank_metrics(ranks: &[Option<usize>]) -> Metrics {
    let n = ranks.len().max(1) as f64;
    let within = |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r >= 1 && r <= k)).count() as f64 / n;
    let mrr = ranks.iter().filter_map(|r| r.filter(|&r| (1..=5).contains(&r))).map(|r| 1.0 / r as f64).sum::<f64>() / n;
    Metrics { precision_at_1: within(1), recall_at_5: within(5), mrr }
}

impl Index {
    #[doc(hidden)]
    pub fn debug_features(&self, question: &str) -> Vec<f64> {
        let concepts = self.concepts(question);
        let hits = self.search(question, 1);
        let Some(hit) = hits.first() else { return vec![] };
        let a = &self.articles[hit.article];
        let n = concepts.len() as f64;
        let nn = self.articles.len() as f64;
        let mut cov_art = 0.0;
        let mut cov_title = 0.0;
        let mut w_all = 0.0;
        let mut w_art = 0.0;
        let mut best_tp: f64 = 0.0;
        let mut best_tp_w: f64 = 0.0;
        let in_tokens = |tokens: &Tokens, c: &Concept| -> f64 {
            c.alts.iter().filter(|(s, _)| tokens.iter().any(|(_, t)| t == s)).map(|(_, w)| *w).fold(0.0, f64::max)
        };
        let mut weights = Vec::new();
        for c in &concepts {
            // weight: idf of best alt, or df=0 idf
            let df = c.alts.iter().map(|(s, _)| self.postings[*s as usize].len()).max().unwrap_or(0) as f64;
            let w = (1.0 + (nn - df + 0.5) / (df + 0.5)).ln();
            weights.push(w);
            w_all += w;
            let t = in_tokens(&a.title, c);
            let b = a.passages.iter().map(|p| in_tokens(&p.tokens, c)).fold(0.0, f64::max);
            cov_title += t;
            cov_art += t.max(b);
            w_art += w * t.max(b);
        }
        for p in &a.passages {
            let mut s = 0.0;
            let mut sw = 0.0;
            for (c, w) in concepts.iter().zip(&weights) {
                let x = in_tokens(&a.title, c).max(in_tokens(&p.tokens, c));
                s += x;
                sw += w * x;
            }
            best_tp = best_tp.max(s);
            best_tp_w = best_tp_w.max(sw);
        }
        let mut out = vec![cov_art / n, best_tp / n, cov_title / n, w_art / w_all, best_tp_w / w_all, n];
        for beta in [0.3, 0.4, 0.5, 0.6, 0.7] {
            let mut best: f64 = 0.0;
            let mut best_art = 0.0;
            for p in &a.passages {
                let mut s = 0.0;
                for c in &concepts {
                    s += in_tokens(&a.title, c).max(beta * in_tokens(&p.tokens, c));
                }
                best = best.max(s);
            }
            for c in &concepts {
                let b = a.passages.iter().map(|p| in_tokens(&p.tokens, c)).fold(0.0, f64::max);
                best_art += in_tokens(&a.title, c).max(beta * b);
            }
            out.push(best / n);
            out.push(best_art / n);
        }
        for k in [0.5, 1.0, 2.0, 3.0] {
            let mut tot = 0.0;
            for c in &concepts {
                let mut best: f64 = 0.0;
                for &(stem, w) in &c.alts {
                    let tb = a.passages.iter().map(|p| p.tokens.iter().filter(|(_, t)| *t == stem).count()).sum::<usize>() as f64;
                    let norm = 1.0 - self.tuning.b_body + self.tuning.b_body * f64::from(a.body_len) / self.avg_body_len;
                    let x = tb / norm;
                    let tt = if a.title.iter().any(|(_, t)| *t == stem) { 1.0 } else { 0.0 };
                    best = best.max(w * f64::max(tt, x / (x + k)));
                }
                tot += best;
            }
            out.push(tot / n);
        }
        out
    }
}
