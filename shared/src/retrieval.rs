//! Offline knowledge-base ranking: which articles answer a visitor question,
//! which answer passage of each to show, and how sure the ranking is.
//!
//! Ranking is BM25F (Robertson & Zaragoza, "The Probabilistic Relevance
//! Framework: BM25 and Beyond", 2009) over two fields, title and body, after
//! normalising words (lower case, diacritics, apostrophes, "e-mail" and
//! camelCase compounds), Snowball English stemming, dropping general stop
//! words, and widening each question word with a small general synonym list,
//! its compounds with a neighbour ("log in" → "login") and, for words the
//! knowledge base does not know, its nearest spellings there (typos). These are
//! the fair means the knowledge-base issue allows: "stemming, field weights,
//! stop words, normalisation, typo tolerance, synonyms, and picking the best
//! answer passage rather than streaming every answer of an article. No
//! per-question tuning." The parameters below are few and global; none is
//! about a particular question or article.
//!
//! Everything is in memory and single-threaded, so it runs inside a Worker
//! (`wasm32-unknown-unknown`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use rust_stemmers::{Algorithm, Stemmer};

use crate::kb::PASSAGE_SEPARATOR;

/// Least [`Hit::confidence`] at which the `kb` responder answers; below it
/// the responder says it is not sure and offers a person. Chosen on the
/// StackFAQ dev questions so that about 98.5% of the questions whose first hit
/// is right are still answered, while questions about other subjects are not.
pub const MIN_CONFIDENCE: f64 = 0.25;

/// BM25 term-frequency saturation. Larger than the usual 1.2 because the
/// title weight already multiplies a title occurrence's frequency.
const K1: f64 = 4.0;

/// BM25 length normalisation, the same for both fields.
const B: f64 = 0.75;

/// How much an occurrence in the title counts against one in the body
/// (BM25F field weight; the body's is 1). FAQ titles are the question itself.
const TITLE_WEIGHT: f64 = 5.0;

/// Weight of a synonym or a corrected spelling against the word itself.
const ALTERNATE_WEIGHT: f64 = 0.8;

/// Confidence credit for a question word found only in the article's body,
/// against 1 for one found in its title.
const BODY_CREDIT: f64 = 0.5;

/// Most topic words taken from one question.
const MAX_QUESTION_WORDS: usize = 32;

/// Shortest unknown question word (in letters) that is matched to a near
/// spelling; shorter words have too many neighbours to guess from.
const MIN_TYPO_LETTERS: usize = 5;

/// Question words of at least this many letters may be two edits away from
/// their spelling in the knowledge base; shorter ones only one.
const TWO_TYPO_LETTERS: usize = 8;

/// A single answer longer than this (bytes) is cut at paragraph breaks into
/// passages of about this size.
const LONG_PASSAGE_BYTES: usize = 1500;

// ---------------------------------------------------------------- word lists

/// General English function words beyond [`crate::kb::STOP_WORDS`]: the rest
/// of the Snowball English stop list, and contractions as the tokenizer sees
/// them (it drops apostrophes: "what's" → "whats").
const MORE_STOP_WORDS: &[&str] = &[
    "above",
    "again",
    "against",
    "aren",
    "arent",
    "because",
    "before",
    "below",
    "between",
    "both",
    "cannot",
    "couldnt",
    "didnt",
    "doesnt",
    "down",
    "during",
    "each",
    "few",
    "further",
    "hadnt",
    "hasnt",
    "havent",
    "hed",
    "hell",
    "hers",
    "herself",
    "hes",
    "himself",
    "hows",
    "id",
    "ill",
    "isnt",
    "itself",
    "lets",
    "more",
    "most",
    "mustnt",
    "no",
    "nor",
    "not",
    "now",
    "off",
    "once",
    "only",
    "other",
    "ought",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "shant",
    "shed",
    "shes",
    "shouldnt",
    "such",
    "thats",
    "theirs",
    "themselves",
    "theres",
    "theyd",
    "theyll",
    "theyre",
    "theyve",
    "through",
    "under",
    "until",
    "wasnt",
    "wed",
    "well",
    "werent",
    "weve",
    "whats",
    "whens",
    "wheres",
    "whos",
    "whys",
    "wont",
    "wouldnt",
    "youd",
    "youll",
    "youre",
    "yours",
    "yourself",
    "yourselves",
    "youve",
    "one",
    "another",
    "anyone",
    "anybody",
    "someone",
    "somebody",
    "something",
    "anything",
    "etc",
    "eg",
    "ie",
];

/// Words that frame a help request rather than name its topic: "is it
/// possible to …", "I want to …", "what is the best way to …", "a good …".
const FRAMING_WORDS: &[&str] = &[
    "possible",
    "want",
    "wanted",
    "wants",
    "need",
    "needs",
    "like",
    "know",
    "way",
    "ways",
    "best",
    "better",
    "good",
    "great",
    "nice",
    "easiest",
    "easy",
    "simple",
    "simplest",
    "able",
    "help",
    "anyway",
    "somehow",
    "currently",
    "really",
    "actually",
    "still",
    "even",
    "already",
    "tell",
    "guys",
    "trying",
    "try",
    "tried",
];

/// Groups of general English words, and the everyday vocabulary of any help
/// centre, that visitors use for one another. Written from general knowledge,
/// not from any test question.
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

/// Whether a normalised word carries no topic.
fn is_stop_word(word: &str) -> bool {
    word.chars().count() < 2 || crate::kb::STOP_WORDS.contains(&word) || MORE_STOP_WORDS.contains(&word) || FRAMING_WORDS.contains(&word)
}

// ---------------------------------------------------------------- tokenizer

/// One word of a text: a run of letters and digits, apostrophes inside it
/// dropped ("don't" → "dont"), lower-cased with diacritics folded.
struct Word<'t> {
    /// Normalised form.
    norm: Cow<'t, str>,
    /// Normalised parts of a camelCase word ("getRange" → "get", "range");
    /// empty when the word has no inner capital.
    camel_parts: Vec<String>,
    /// Whether the word follows the previous one across a single "-", "."
    /// or "_" ("e-mail", "gmail.com"), so that the two also form a compound.
    glued: bool,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}')
}

/// Folds a Latin letter with a diacritic to its base letter ("é" → "e");
/// also used by [`crate::handoff`].
pub(crate) fn fold_diacritic(c: char) -> char {
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
        'ś' | 'š' | 'ş' | 'ß' => 's',
        'ť' | 'ţ' => 't',
        'ù'..='ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

fn normalise(raw: &str) -> Cow<'_, str> {
    if raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return Cow::Borrowed(raw);
    }
    if raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Cow::Owned(raw.to_ascii_lowercase());
    }
    Cow::Owned(raw.chars().filter(|c| !is_apostrophe(*c)).flat_map(char::to_lowercase).map(fold_diacritic).collect())
}

fn camel_parts(raw: &str) -> Vec<String> {
    if !raw.bytes().skip(1).any(|b| b.is_ascii_uppercase()) && raw.is_ascii() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut start = 0;
    let mut after_lower = false;
    for (i, c) in raw.char_indices() {
        if c.is_uppercase() && after_lower {
            parts.push(normalise(&raw[start..i]).into_owned());
            start = i;
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if start == 0 {
        return Vec::new();
    }
    parts.push(normalise(&raw[start..]).into_owned());
    parts
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut previous_end: Option<usize> = None;
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            let inner_apostrophe = is_apostrophe(c) && {
                let mut ahead = chars.clone();
                ahead.next();
                ahead.peek().is_some_and(|&(_, next)| next.is_alphanumeric())
            };
            if !c.is_alphanumeric() && !inner_apostrophe {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let raw = &text[start..end];
        let glued = previous_end.is_some_and(|p| matches!(&text[p..start], "-" | "." | "_"));
        out.push(Word { norm: normalise(raw), camel_parts: camel_parts(raw), glued });
        previous_end = Some(end);
    }
    out
}

// ---------------------------------------------------------------- index

/// One answer passage of an article.
struct Passage {
    /// Byte range of the trimmed passage in the article body.
    range: Range<usize>,
    /// Stem ids of its words, compounds and camelCase parts, in text order.
    stems: Vec<u32>,
    /// Number of words.
    words: u32,
}

struct Article {
    /// Stem ids of the title's words, compounds and camelCase parts.
    title: Vec<u32>,
    title_words: u32,
    /// Distinct stem ids of the title's topic words (stop words left out).
    title_topics: Vec<u32>,
    body_words: u32,
    passages: Vec<Passage>,
}

/// Where a stem occurs: (article, occurrences in its title, in its body).
type Posting = (u32, u32, u32);

/// A word of the index vocabulary, for typo matching.
struct Spelling {
    word: String,
    letters: usize,
    /// Bit per letter a–z present (bit 26: anything else), for a quick
    /// lower bound on the edit distance.
    letter_set: u32,
    stem: u32,
}

fn letter_set(word: &str) -> u32 {
    word.chars().fold(0, |set, c| set | if c.is_ascii_lowercase() { 1 << (c as u8 - b'a') } else { 1 << 26 })
}

/// An index over a site's articles; built once per knowledge-base version,
/// then searched many times.
pub struct Index {
    stemmer: Stemmer,
    /// Stem → stem id.
    stems: HashMap<String, u32>,
    /// Per stem id: the articles holding it, in article order.
    postings: Vec<Vec<Posting>>,
    /// Stem of a word of a [`SYNONYMS`] group → ids of the other words' stems.
    synonyms: HashMap<String, Vec<u32>>,
    /// Distinct alphabetic words of 3+ letters in the articles.
    spellings: Vec<Spelling>,
    articles: Vec<Article>,
    avg_title_words: f64,
    avg_body_words: f64,
    avg_passage_words: f64,
}

/// Builds the vocabulary while the articles are read.
struct Vocabulary<'s> {
    stemmer: &'s Stemmer,
    stems: HashMap<String, u32>,
    /// Normalised word → stem id, so each distinct word is stemmed once.
    words: HashMap<String, u32>,
}

impl Vocabulary<'_> {
    fn id(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.words.get(word) {
            return id;
        }
        let next = self.stems.len() as u32;
        let id = *self.stems.entry(self.stemmer.stem(word).into_owned()).or_insert(next);
        self.words.insert(word.to_owned(), id);
        id
    }

    /// The stem ids of a text, and its number of words.
    fn stems(&mut self, text: &str) -> (Vec<u32>, u32) {
        let words = words(text);
        let mut stems = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            stems.push(self.id(&word.norm));
            for part in word.camel_parts.iter().filter(|p| p.len() >= 2) {
                stems.push(self.id(part));
            }
            if word.glued {
                stems.push(self.id(&format!("{}{}", words[i - 1].norm, word.norm)));
            }
        }
        (stems, words.len() as u32)
    }

    fn topics(&mut self, text: &str) -> Vec<u32> {
        let mut topics: Vec<u32> = words(text).iter().filter(|w| !is_stop_word(&w.norm)).map(|w| self.id(&w.norm)).collect();
        topics.sort_unstable();
        topics.dedup();
        topics
    }
}

/// Trimmed, non-empty pieces of `text[range]` between occurrences of `sep`.
fn pieces(text: &str, range: Range<usize>, sep: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = range.start;
    let cuts = text[range.clone()].match_indices(sep).map(|(i, _)| (range.start + i, range.start + i + sep.len()));
    for (end, next) in cuts.chain(std::iter::once((range.end, range.end))) {
        let piece = &text[start..end];
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            let lead = piece.len() - piece.trim_start().len();
            out.push(start + lead..start + lead + trimmed.len());
        }
        start = next;
    }
    out
}

/// The answer passages of a body: its community answers (split on
/// [`PASSAGE_SEPARATOR`]), or, for a single answer longer than
/// [`LONG_PASSAGE_BYTES`], runs of its paragraphs of about that size.
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

/// One topic word of a question and the index stems that stand for it, each
/// with a weight in 0.0..=1.0: 1 for the word itself and its compounds,
/// [`ALTERNATE_WEIGHT`] for a synonym or a corrected spelling.
struct Concept {
    stem: String,
    alternatives: Vec<(u32, f64)>,
}

impl Concept {
    fn add(&mut self, stem: u32, weight: f64) {
        match self.alternatives.iter_mut().find(|(s, _)| *s == stem) {
            Some(alternative) => alternative.1 = alternative.1.max(weight),
            None => self.alternatives.push((stem, weight)),
        }
    }
}

impl Index {
    /// `articles`: (title, body) in order; hits refer to them by position.
    pub fn build<'a>(articles: impl IntoIterator<Item = (&'a str, &'a str)>) -> Index {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut vocabulary = Vocabulary { stemmer: &stemmer, stems: HashMap::new(), words: HashMap::new() };
        let mut built = Vec::new();
        let mut passage_count = 0usize;
        let mut passage_words = 0u64;
        for (title, body) in articles {
            let (title_stems, title_words) = vocabulary.stems(title);
            let title_topics = vocabulary.topics(title);
            let mut passages = Vec::new();
            for range in passage_ranges(body) {
                let (stems, words) = vocabulary.stems(&body[range.clone()]);
                passage_words += u64::from(words);
                passages.push(Passage { range, stems, words });
            }
            passage_count += passages.len();
            let body_words = passages.iter().map(|p| p.words).sum();
            built.push(Article { title: title_stems, title_words, title_topics, body_words, passages });
        }

        let mut postings: Vec<Vec<Posting>> = vec![Vec::new(); vocabulary.stems.len()];
        // Per stem: occurrences in the current article's title and body.
        let mut counts = vec![(0u32, 0u32); vocabulary.stems.len()];
        let mut seen: Vec<u32> = Vec::new();
        for (a, article) in built.iter().enumerate() {
            let body = article.passages.iter().flat_map(|p| &p.stems);
            for (&stem, in_title) in article.title.iter().map(|s| (s, true)).chain(body.map(|s| (s, false))) {
                let count = &mut counts[stem as usize];
                if *count == (0, 0) {
                    seen.push(stem);
                }
                if in_title {
                    count.0 += 1;
                } else {
                    count.1 += 1;
                }
            }
            for stem in seen.drain(..) {
                let (title, body) = std::mem::take(&mut counts[stem as usize]);
                postings[stem as usize].push((a as u32, title, body));
            }
        }

        let mut synonyms: HashMap<String, Vec<u32>> = HashMap::new();
        for group in SYNONYMS {
            let stems: Vec<String> = group.iter().map(|w| stemmer.stem(w).into_owned()).collect();
            for stem in &stems {
                let others = stems.iter().filter(|s| *s != stem).filter_map(|s| vocabulary.stems.get(s).copied());
                synonyms.entry(stem.clone()).or_default().extend(others);
            }
        }

        let mut spellings: Vec<Spelling> = vocabulary
            .words
            .into_iter()
            .filter(|(word, _)| word.len() >= 3 && word.chars().all(|c| c.is_ascii_lowercase()))
            .map(|(word, stem)| Spelling { letters: word.len(), letter_set: letter_set(&word), word, stem })
            .collect();
        // A fixed order, so that ties between respellings resolve the same way every build.
        spellings.sort_unstable_by(|a, b| a.word.cmp(&b.word));

        let n = built.len().max(1) as f64;
        let avg_title_words = built.iter().map(|a| f64::from(a.title_words)).sum::<f64>() / n;
        let avg_body_words = built.iter().map(|a| f64::from(a.body_words)).sum::<f64>() / n;
        Index {
            stems: vocabulary.stems,
            stemmer,
            postings,
            synonyms,
            spellings,
            articles: built,
            avg_title_words: avg_title_words.max(1.0),
            avg_body_words: avg_body_words.max(1.0),
            avg_passage_words: (passage_words as f64 / passage_count.max(1) as f64).max(1.0),
        }
    }

    /// Number of articles.
    pub fn len(&self) -> usize {
        self.articles.len()
    }

    /// Whether the index holds no article.
    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    /// An estimate of the heap memory the index holds, in bytes: the
    /// capacity of every vector and string it owns, and of its hash maps
    /// (a slot of key and value plus one control byte per bucket, as
    /// hashbrown lays them out). An estimate, not an allocator's count: it
    /// leaves out allocator overhead and the stemmer (static tables), and
    /// is what the worker's knowledge-base cache bounds
    /// ([`crate::limits::KB_INDEX_CACHE_BYTES`]).
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        fn map<V>(m: &HashMap<String, V>, value: impl Fn(&V) -> usize) -> usize {
            m.capacity() * (size_of::<(String, V)>() + 1) + m.iter().map(|(k, v)| k.capacity() + value(v)).sum::<usize>()
        }
        let articles: usize = self
            .articles
            .iter()
            .map(|a| vec(&a.title) + vec(&a.title_topics) + vec(&a.passages) + a.passages.iter().map(|p| vec(&p.stems)).sum::<usize>())
            .sum();
        map(&self.stems, |_| 0)
            + vec(&self.postings)
            + self.postings.iter().map(vec).sum::<usize>()
            + map(&self.synonyms, vec)
            + vec(&self.spellings)
            + self.spellings.iter().map(|s| s.word.capacity()).sum::<usize>()
            + vec(&self.articles)
            + articles
    }

    fn stem_id(&self, word: &str) -> Option<u32> {
        self.stems.get(self.stemmer.stem(word).as_ref()).copied()
    }

    /// BM25 inverse document frequency of a stem, always positive (the form
    /// `ln(1 + (N - df + 0.5) / (df + 0.5))`, as in Lucene).
    fn idf(&self, stem: u32) -> f64 {
        let n = self.articles.len() as f64;
        let df = self.postings[stem as usize].len() as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Stems of the index words nearest in spelling to a word the index does
    /// not know: same first letter (typos rarely hit it), at most one edit
    /// (two from [`TWO_TYPO_LETTERS`] letters on), optimal string alignment
    /// distance. Empty for words shorter than [`MIN_TYPO_LETTERS`].
    fn respellings(&self, word: &str) -> Vec<u32> {
        let letters = word.len();
        let Some(first) = word.chars().next() else { return Vec::new() };
        if letters < MIN_TYPO_LETTERS || !word.chars().all(|c| c.is_ascii_lowercase()) {
            return Vec::new();
        }
        let max_edits = if letters >= TWO_TYPO_LETTERS { 2 } else { 1 };
        let set = letter_set(word);
        let mut nearest = max_edits + 1;
        let mut found: Vec<u32> = Vec::new();
        for spelling in &self.spellings {
            // An edit changes at most two letters of the set.
            if !spelling.word.starts_with(first)
                || spelling.letters.abs_diff(letters) > max_edits
                || (spelling.letter_set ^ set).count_ones() as usize > 2 * max_edits
            {
                continue;
            }
            let edits = strsim::osa_distance(word, &spelling.word);
            if edits < nearest {
                nearest = edits;
                found.clear();
            }
            if edits == nearest && !found.contains(&spelling.stem) {
                found.push(spelling.stem);
            }
        }
        found
    }

    /// The topic words of a question, in question order, one per stem.
    fn concepts(&self, question: &str) -> Vec<Concept> {
        let words = words(question);
        let mut concepts: Vec<Concept> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let norm = word.norm.as_ref();
            if is_stop_word(norm) {
                continue;
            }
            let stem = self.stemmer.stem(norm).into_owned();
            if concepts.iter().any(|c| c.stem == stem) {
                continue;
            }
            let own = self.stems.get(&stem).copied();
            let mut concept = Concept { stem, alternatives: Vec::new() };
            if let Some(id) = own {
                concept.add(id, 1.0);
            }
            let before = i.checked_sub(1).map(|j| format!("{}{norm}", words[j].norm));
            let after = words.get(i + 1).map(|next| format!("{norm}{}", next.norm));
            for compound in before.iter().chain(&after) {
                if let Some(id) = self.stem_id(compound) {
                    concept.add(id, 1.0);
                }
            }
            for &id in self.synonyms.get(&concept.stem).into_iter().flatten() {
                concept.add(id, ALTERNATE_WEIGHT);
            }
            if own.is_none() {
                for id in self.respellings(norm) {
                    concept.add(id, ALTERNATE_WEIGHT);
                }
            }
            concepts.push(concept);
            if concepts.len() == MAX_QUESTION_WORDS {
                break;
            }
        }
        concepts
    }

    /// BM25F weight of a stem in an article, before IDF: the field-weighted,
    /// length-normalised frequency, saturated by [`K1`].
    fn term_weight(&self, article: usize, title_count: u32, body_count: u32) -> f64 {
        let a = &self.articles[article];
        let title = f64::from(title_count) / (1.0 - B + B * f64::from(a.title_words) / self.avg_title_words);
        let body = f64::from(body_count) / (1.0 - B + B * f64::from(a.body_words) / self.avg_body_words);
        let tf = TITLE_WEIGHT * title + body;
        tf * (K1 + 1.0) / (tf + K1)
    }

    /// Best articles first, at most `limit`; empty when the question has no
    /// topic words or nothing matches.
    pub fn search(&self, question: &str, limit: usize) -> Vec<Hit> {
        if limit == 0 || self.articles.is_empty() {
            return Vec::new();
        }
        let concepts = self.concepts(question);
        if concepts.is_empty() {
            return Vec::new();
        }
        let n = self.articles.len();
        // Per article: BM25F score, and question-word credit (see `confidence`).
        let mut score = vec![0.0; n];
        let mut credit = vec![0.0; n];
        // Per article, for the current question word: its best alternative.
        let mut word_score = vec![0.0f64; n];
        let mut word_credit = vec![0.0f64; n];
        let mut touched: Vec<usize> = Vec::new();
        for concept in &concepts {
            for &(stem, weight) in &concept.alternatives {
                let idf = self.idf(stem);
                for &(a, title_count, body_count) in &self.postings[stem as usize] {
                    let a = a as usize;
                    if word_credit[a] == 0.0 {
                        touched.push(a);
                    }
                    let field_credit = if title_count > 0 { 1.0 } else { BODY_CREDIT };
                    word_score[a] = word_score[a].max(weight * idf * self.term_weight(a, title_count, body_count));
                    word_credit[a] = word_credit[a].max(weight * field_credit);
                }
            }
            for a in touched.drain(..) {
                score[a] += word_score[a];
                credit[a] += word_credit[a];
                word_score[a] = 0.0;
                word_credit[a] = 0.0;
            }
        }
        let mut ranked: Vec<usize> = (0..n).filter(|&a| score[a] > 0.0).collect();
        ranked.sort_by(|&x, &y| score[y].total_cmp(&score[x]).then(x.cmp(&y)));
        ranked.truncate(limit);

        let idfs: Vec<f64> = concepts.iter().map(|c| c.alternatives.iter().map(|&(s, w)| w * self.idf(s)).fold(0.0, f64::max)).collect();
        ranked
            .into_iter()
            .map(|a| Hit {
                article: a,
                score: score[a],
                confidence: self.confidence(a, &concepts, credit[a]),
                passage: self.best_passage(a, &concepts, &idfs),
            })
            .collect()
    }

    /// How well a question and an article match each other, 0.0 to 1.0,
    /// whatever the size of the knowledge base (no IDF in it): the mean of
    /// (a) the share of the question's topic words the article holds, one in
    /// its title counting 1 and one only in its body [`BODY_CREDIT`], synonyms
    /// and corrected spellings [`ALTERNATE_WEIGHT`] of that; and (b) the share
    /// of the title's topic words the question holds. An article titled with
    /// the visitor's question scores 1; an unrelated question that happens to
    /// share a word or two with a long article stays low. A title without
    /// topic words leaves (a) alone.
    fn confidence(&self, article: usize, concepts: &[Concept], credit: f64) -> f64 {
        let question_share = credit / concepts.len() as f64;
        let topics = &self.articles[article].title_topics;
        if topics.is_empty() {
            return question_share;
        }
        let held: f64 = topics
            .iter()
            .map(|topic| {
                concepts
                    .iter()
                    .flat_map(|c| &c.alternatives)
                    .filter(|(stem, _)| stem == topic)
                    .map(|&(_, weight)| weight)
                    .fold(0.0, f64::max)
            })
            .sum();
        (question_share + held / topics.len() as f64) / 2.0
    }

    /// The passage of an article that best matches the question (BM25 over
    /// the article's passages); ties, including no match at all, go to the
    /// earliest, which is usually the accepted answer.
    fn best_passage(&self, article: usize, concepts: &[Concept], idfs: &[f64]) -> Range<usize> {
        let mut best: Option<(&Passage, f64)> = None;
        for passage in &self.articles[article].passages {
            let norm = 1.0 - B + B * f64::from(passage.words) / self.avg_passage_words;
            let mut total = 0.0;
            for (concept, idf) in concepts.iter().zip(idfs) {
                let count = concept
                    .alternatives
                    .iter()
                    .map(|&(stem, weight)| weight * passage.stems.iter().filter(|&&s| s == stem).count() as f64)
                    .fold(0.0, f64::max);
                let tf = count / norm;
                total += idf * tf * (K1 + 1.0) / (tf + K1);
            }
            if best.is_none_or(|(_, s)| total > s) {
                best = Some((passage, total));
            }
        }
        best.map_or(0..0, |(passage, _)| passage.range.clone())
    }
}

/// One ranked article.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Position of the article in build order.
    pub article: usize,
    /// BM25F ranking score, higher is better; comparable only within one
    /// search.
    pub score: f64,
    /// How sure the ranking is that this article answers the question, 0.0
    /// to 1.0, comparable across knowledge bases of any size (1 article or
    /// 10,000): how much of the question the article holds and how much of
    /// the article's title the question holds.
    pub confidence: f64,
    /// Byte range, in the article's body, of the trimmed answer passage that
    /// best answers the question (empty only for an empty body).
    pub passage: Range<usize>,
}

impl Hit {
    /// Whether the confidence reaches [`MIN_CONFIDENCE`].
    pub fn is_confident(&self) -> bool {
        self.confidence >= MIN_CONFIDENCE
    }
}

/// Ranking quality over a set of questions, each share 0.0 to 1.0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Share of questions whose first hit is relevant.
    pub precision_at_1: f64,
    /// Share of questions with a relevant hit among the first five.
    pub recall_at_5: f64,
    /// Mean reciprocal rank of the first relevant hit, counting 0 when it is
    /// not among the first five.
    pub mrr: f64,
}

/// Metrics from the 1-based rank of the first relevant hit of each question
/// (`None` when none was returned). All zero for no questions.
pub fn rank_metrics(ranks: &[Option<usize>]) -> Metrics {
    let n = ranks.len().max(1) as f64;
    let top5 = || ranks.iter().filter_map(|r| r.filter(|r| (1..=5).contains(r)));
    Metrics {
        precision_at_1: top5().filter(|&r| r == 1).count() as f64 / n,
        recall_at_5: top5().count() as f64 / n,
        mrr: top5().map(|r| 1.0 / r as f64).sum::<f64>() / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo knowledge base: 12 articles about EdgeChat itself.
    fn demo() -> (Vec<crate::kb::ImportArticle>, Index) {
        let articles = crate::kb::parse_jsonl(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../xtask/demo/kb.jsonl"))).unwrap();
        let index = Index::build(articles.iter().map(|a| (a.title.as_str(), a.body.as_str())));
        (articles, index)
    }

    #[test]
    fn demo_questions_find_their_article_confidently() {
        let (articles, index) = demo();
        assert_eq!(index.len(), 12);
        for (question, id) in [
            ("How do I install the widget on my website?", "install-widget"),
            ("How do I deploy to Cloudflare Workers?", "deploy-cloudflare"),
            ("Where do I find my site key?", "find-site-key"),
        ] {
            let hits = index.search(question, 5);
            assert_eq!(articles[hits[0].article].id, id, "{question}");
            assert!(hits[0].is_confident(), "{question}: {:?}", hits[0]);
            assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
        }
    }

    #[test]
    fn off_topic_questions_are_not_confident() {
        let (_, index) = demo();
        for question in ["Quantum chromodynamics lattice gauge simulations?", "what's the weather in Paris tomorrow"] {
            assert!(index.search(question, 5).iter().all(|h| !h.is_confident()), "{question}");
        }
        assert_eq!(index.search("how do I?", 5), Vec::new(), "no topic words, no hits");
    }

    #[test]
    fn stemming_matches_word_forms() {
        let index = Index::build([("Installation guide", "Copy the files."), ("Billing", "Invoices are sent monthly.")]);
        let hits = index.search("installing", 5);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].article, 0);
        assert!(hits[0].is_confident());
        assert_eq!(index.search("invoice", 5)[0].article, 1);
    }

    #[test]
    fn misspelled_words_still_find_their_article() {
        let index = Index::build([
            ("Strikethrough in Markdown", "Wrap the words in two tildes."),
            ("Bold text in Markdown", "Wrap the words in two asterisks."),
        ]);
        let hits = index.search("stikethrough markdown", 5);
        assert_eq!(hits[0].article, 0);
        assert!(hits[0].is_confident());
        let hits = index.search("how to make text bould", 5);
        assert_eq!(hits[0].article, 1, "one typo in a five-letter word");
    }

    #[test]
    fn synonyms_match_other_words_for_the_same_thing() {
        let index =
            Index::build([("Delete a photo", "Open the album and choose the bin."), ("Upload a video", "Drag the file onto the page.")]);
        let hits = index.search("how can I erase a picture", 5);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].article, 0);
        assert!(hits[0].is_confident());
    }

    #[test]
    fn normalisation_handles_case_accents_apostrophes_and_compounds() {
        let index = Index::build([
            ("Café opening hours", "We open at nine."),
            ("Change your e-mail address", "Settings, then Account."),
            ("Sign-in problems", "Reset your password."),
            ("Login page is blank", "Clear the cache."),
            ("Using getRange in scripts", "Call sheet.getRange('A1')."),
        ]);
        assert_eq!(index.search("CAFE hours", 5)[0].article, 0);
        assert_eq!(index.search("update my email", 5)[0].article, 1);
        assert_eq!(index.search("can't signin", 5)[0].article, 2);
        assert_eq!(index.search("can't log in", 5)[0].article, 3);
        assert_eq!(index.search("range", 5)[0].article, 4);
    }

    #[test]
    fn best_passage_is_the_answer_that_matches_the_question() {
        let body =
            "Open the menu and pick Settings.\n\n---\n\n  Click Export, then choose CSV as the format.  \n\n---\n\nIt is not possible.";
        let index = Index::build([("How do I get my data out?", body)]);
        let hit = &index.search("export as csv", 1)[0];
        assert_eq!(&body[hit.passage.clone()], "Click Export, then choose CSV as the format.");
        let hit = &index.search("get my data out", 1)[0];
        assert_eq!(&body[hit.passage.clone()], "Open the menu and pick Settings.", "no passage matches: the first");
    }

    #[test]
    fn a_single_long_answer_is_cut_at_paragraphs() {
        let filler = "Some general words about the product and what it does for you. ".repeat(12);
        let body = format!("{filler}\n\n{filler}\n\nTo reset the router, hold the button for ten seconds.\n\n{filler}");
        let index = Index::build([("Router help", body.as_str())]);
        let hit = &index.search("reset router button", 1)[0];
        let passage = &body[hit.passage.clone()];
        assert!(passage.contains("hold the button") && passage.len() <= LONG_PASSAGE_BYTES, "{passage:?}");
        assert_eq!(passage, passage.trim());
    }

    #[test]
    fn empty_index_finds_nothing() {
        let index = Index::build([]);
        assert!(index.is_empty());
        assert_eq!(index.len(), 0);
        assert_eq!(index.search("install the widget", 5), Vec::new());
    }

    #[test]
    fn one_article_index_is_confident_only_on_topic() {
        let index = Index::build([("How do I install the widget?", "Paste one script tag into your page.")]);
        assert_eq!(index.len(), 1);
        let hits = index.search("installing the widget", 5);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].article, 0);
        assert!(hits[0].is_confident() && hits[0].confidence <= 1.0, "{:?}", hits[0]);
        assert!(index.search("paste recipes for a birthday cake", 5).iter().all(|h| !h.is_confident()));
        assert_eq!(index.search("quantum chromodynamics", 5), Vec::new());
        assert_eq!(index.search("installing the widget", 0), Vec::new());
    }

    #[test]
    fn rank_metrics_count_first_relevant_ranks() {
        let m = rank_metrics(&[Some(1), Some(2), None, Some(6)]);
        assert_eq!(m.precision_at_1, 0.25);
        assert_eq!(m.recall_at_5, 0.5);
        assert_eq!(m.mrr, (1.0 + 0.5) / 4.0);
        assert_eq!(rank_metrics(&[]), Metrics { precision_at_1: 0.0, recall_at_5: 0.0, mrr: 0.0 });
    }
}
