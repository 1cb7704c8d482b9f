//! The inlines of a paragraph or heading: emphasis, code spans, links,
//! autolinks, hard breaks and backslash escapes.
//!
//! Follows CommonMark 0.31 §6: code spans and autolinks bind first, left to
//! right; `*` and `_` runs are matched with the delimiter algorithm of the
//! spec's appendix (flanking rules, so `snake_case_names` stay text, and the
//! rule of three); `[`/`![` are matched with `](url "title")` after them and
//! links do not nest. Simplified:
//!
//! - no raw HTML: a tag is text, and markup inside it (`<a title="*">`) is
//!   still parsed;
//! - no entity or numeric character references: `&amp;` stays as typed;
//! - no reference links (`[text][ref]`, `[ref]`): text;
//! - Unicode punctuation, for the flanking rules, is ASCII punctuation and
//!   the common punctuation and symbol blocks (see [`punctuation`]).

use super::{is_safe_link, Inline};

/// The inlines of `text` (a paragraph's lines joined by `\n`, without the
/// lines' indentation), nested at most `depth` deep; deeper emphasis and
/// links are flattened into their parent.
pub(super) fn parse(text: &str, depth: usize) -> Vec<Inline> {
    let mut parser = Parser::default();
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let rest = &text[at..];
        at += match c {
            '\\' => parser.escape(rest),
            '`' => parser.code(text, at),
            '*' | '_' => parser.run(text, at),
            '[' => parser.bracket(false),
            '!' if rest.starts_with("![") => parser.bracket(true),
            ']' => parser.close_bracket(rest),
            '<' => parser.autolink(rest),
            '\n' => parser.line_end(),
            _ => {
                let len = rest.find(['\\', '`', '*', '_', '[', '!', ']', '<', '\n']).unwrap_or(rest.len()).max(c.len_utf8());
                parser.text.push_str(&rest[..len]);
                len
            }
        };
    }
    parser.push(Kind::Text(String::new()));
    parser.emphasis(0);
    let mut tree = Tree { stack: vec![(None, Vec::new())], depth, links: 0 };
    for token in parser.tokens {
        (0..token.closes).for_each(|_| tree.close());
        match token.kind {
            Kind::Text(text) => tree.text(&text),
            Kind::Inline(inline) => tree.push(inline),
            Kind::Run { source, count, .. } => tree.text(&source[..count]),
            Kind::Bracket { image } => tree.text(if image { "![" } else { "[" }),
        }
        token.opens.into_iter().rev().for_each(|wrap| tree.open(wrap));
    }
    tree.stack.pop().map(|(_, inlines)| inlines).unwrap_or_default()
}

/// What a matched delimiter opens.
enum Wrap {
    Strong,
    Emphasis,
    Link(String),
}

/// A piece of the paragraph; after matching, it closes `closes` wraps
/// before itself and opens `opens` (innermost first) after itself.
struct Token<'a> {
    kind: Kind<'a>,
    closes: usize,
    opens: Vec<Wrap>,
}

enum Kind<'a> {
    Text(String),
    /// A code span or a hard break.
    Inline(Inline),
    /// A run of `len` `*` or `_` (`source`), `count` of them not matched yet.
    Run {
        source: &'a str,
        ch: char,
        len: usize,
        count: usize,
        open: bool,
        close: bool,
    },
    /// A `[` or `![` not (yet) matched: text unless it opens a link.
    Bracket {
        image: bool,
    },
}

#[derive(Default)]
struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    /// Text not yet in a token.
    text: String,
    /// The delimiter stack: tokens of runs that may still open or close.
    runs: Vec<usize>,
    /// Tokens of the brackets that may still open a link.
    brackets: Vec<usize>,
    /// A `[` before this token cannot open a link: it would hold one.
    links_from: usize,
    /// Once a code span found no closer: by length, where the paragraph's
    /// last backtick run of that length starts (0: none after the scan).
    last_runs: Option<Vec<usize>>,
}

impl<'a> Parser<'a> {
    /// Adds `kind` after the pending text; its index.
    fn push(&mut self, kind: Kind<'a>) -> usize {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.tokens.push(Token { kind: Kind::Text(text), closes: 0, opens: Vec::new() });
        }
        self.tokens.push(Token { kind, closes: 0, opens: Vec::new() });
        self.tokens.len() - 1
    }

    /// `\` and ASCII punctuation is that character; `\` at a line's end is a
    /// hard break.
    fn escape(&mut self, rest: &str) -> usize {
        match rest.as_bytes().get(1) {
            Some(b'\n') => _ = self.push(Kind::Inline(Inline::Break)),
            Some(&b) if b.is_ascii_punctuation() => self.text.push(b as char),
            _ => {
                self.text.push('\\');
                return 1;
            }
        }
        2
    }

    /// A code span: a backtick run up to the next run of the same length;
    /// line ends become spaces and one space is stripped from both sides.
    ///
    /// Linear overall, as in cmark: the first opener that finds no closer
    /// has scanned to the end and notes where the last run of each length
    /// starts; later openers without a closer are known at once instead of
    /// each scanning to the end again (`` ` `` `` `` `` ``` `` … would be
    /// quadratic).
    fn code(&mut self, text: &str, at: usize) -> usize {
        let rest = &text[at..];
        let len = rest.bytes().take_while(|&b| b == b'`').count();
        let hopeless = self.last_runs.as_ref().is_some_and(|last| last.get(len).is_none_or(|&p| p <= at));
        let mut runs = Vec::new();
        let mut from = len;
        while let Some(found) = rest[from..].find('`').filter(|_| !hopeless) {
            let end = from + found;
            let run = rest[end..].bytes().take_while(|&b| b == b'`').count();
            if run == len {
                let code = rest[len..end].replace('\n', " ");
                let stripped = code.strip_prefix(' ').and_then(|c| c.strip_suffix(' '));
                let code = match stripped {
                    Some(inner) if code.bytes().any(|b| b != b' ') => inner.to_string(),
                    _ => code,
                };
                self.push(Kind::Inline(Inline::Code(code)));
                return end + run;
            }
            if self.last_runs.is_none() {
                runs.push((run, at + end));
            }
            from = end + run;
        }
        if self.last_runs.is_none() {
            let mut last = vec![0; runs.iter().map(|&(run, _)| run + 1).max().unwrap_or(0)];
            runs.into_iter().for_each(|(run, p)| last[run] = p);
            self.last_runs = Some(last);
        }
        self.text.push_str(&rest[..len]);
        len
    }

    /// A run of `*` or `_` at `at`, which may open or close emphasis by the
    /// characters around it.
    fn run(&mut self, text: &'a str, at: usize) -> usize {
        let ch = if text.as_bytes()[at] == b'*' { '*' } else { '_' };
        let len = text[at..].bytes().take_while(|&b| b == ch as u8).count();
        let before = text[..at].chars().next_back().unwrap_or('\n');
        let after = text[at + len..].chars().next().unwrap_or('\n');
        let left = !after.is_whitespace() && (!punctuation(after) || before.is_whitespace() || punctuation(before));
        let right = !before.is_whitespace() && (!punctuation(before) || after.is_whitespace() || punctuation(after));
        let (open, close) = match ch {
            '*' => (left, right),
            _ => (left && (!right || punctuation(before)), right && (!left || punctuation(after))),
        };
        let token = self.push(Kind::Run { source: &text[at..at + len], ch, len, count: len, open, close });
        if open || close {
            self.runs.push(token);
        }
        len
    }

    fn bracket(&mut self, image: bool) -> usize {
        let token = self.push(Kind::Bracket { image });
        self.brackets.push(token);
        1 + usize::from(image)
    }

    /// A `]`: a link (or image) when the last bracket may open one and
    /// `(url "title")` follows; else text.
    fn close_bracket(&mut self, rest: &str) -> usize {
        let link = self.brackets.pop().and_then(|opener| match self.tokens[opener].kind {
            Kind::Bracket { image } if image || opener >= self.links_from => Some((opener, image, link_tail(&rest[1..])?)),
            _ => None,
        });
        let Some((opener, image, (url, len))) = link else {
            self.text.push(']');
            return 1;
        };
        self.emphasis(opener);
        self.tokens[opener].kind = Kind::Text(String::new());
        self.link(opener, url);
        if !image {
            self.links_from = opener;
        }
        1 + len
    }

    /// Makes a link to `url` of the tokens after `opener`.
    fn link(&mut self, opener: usize, url: String) {
        self.tokens[opener].opens.push(Wrap::Link(url));
        let close = self.push(Kind::Text(String::new()));
        self.tokens[close].closes = 1;
    }

    /// `<scheme:...>` or `<name@domain>`; else the `<` is text.
    fn autolink(&mut self, rest: &str) -> usize {
        let end = rest[1..].find(|c: char| c == '<' || c == '>' || c.is_ascii_whitespace() || c.is_ascii_control());
        let inner = end.filter(|&end| rest[1 + end..].starts_with('>')).map(|end| &rest[1..1 + end]);
        let url = match inner {
            Some(inner) if uri(inner) => inner.to_string(),
            Some(inner) if email(inner) => format!("mailto:{inner}"),
            _ => {
                self.text.push('<');
                return 1;
            }
        };
        let inner = inner.unwrap_or_default();
        let opener = self.push(Kind::Text(String::new()));
        self.text.push_str(inner);
        self.link(opener, url);
        inner.len() + 2
    }

    /// A line end: a hard break after two or more spaces, else `\n`.
    fn line_end(&mut self) -> usize {
        let kept = self.text.trim_end_matches(' ').len();
        let spaces = self.text.len() - kept;
        self.text.truncate(kept);
        if spaces >= 2 {
            self.push(Kind::Inline(Inline::Break));
        } else {
            self.text.push('\n');
        }
        1
    }

    /// Matches the runs after token `bottom` (CommonMark's "process
    /// emphasis"), then drops them from the delimiter stack.
    ///
    /// The runs are taken left to right as closers; the openers before
    /// the current closer are a stack, so every removal is at its top
    /// (removing from the middle of a list made `a* a* a* …` and
    /// `_a_ _a_ …` quadratic). With the spec's per-kind bottoms of the
    /// search (`floor`), each run is looked at a bounded number of times.
    fn emphasis(&mut self, bottom: usize) {
        let first = self.runs.partition_point(|&token| token < bottom);
        let pending = self.runs.split_off(first);
        // Per closer kind, where the last failed search for an opener ended.
        let mut floor = [bottom; 12];
        let mut openers: Vec<usize> = Vec::new();
        for closer in pending {
            loop {
                let Kind::Run { ch, len, open, close: true, .. } = self.tokens[closer].kind else {
                    openers.push(closer);
                    break;
                };
                let kind = usize::from(ch == '_') * 6 + usize::from(open) * 3 + len % 3;
                let found = (0..openers.len()).rev().take_while(|&o| openers[o] >= floor[kind]).find(|&o| self.pairs(openers[o], closer));
                let Some(o) = found else {
                    floor[kind] = closer;
                    if open {
                        openers.push(closer);
                    }
                    break;
                };
                let opener = openers[o];
                let n = if self.count(opener) >= 2 && self.count(closer) >= 2 { 2 } else { 1 };
                for token in [opener, closer] {
                    if let Kind::Run { count, .. } = &mut self.tokens[token].kind {
                        *count -= n;
                    }
                }
                self.tokens[opener].opens.push(if n == 2 { Wrap::Strong } else { Wrap::Emphasis });
                self.tokens[closer].closes += 1;
                // The runs between are text now.
                openers.truncate(o + 1);
                if self.count(opener) == 0 {
                    openers.pop();
                }
                if self.count(closer) == 0 {
                    break;
                }
            }
        }
    }

    fn count(&self, token: usize) -> usize {
        match self.tokens[token].kind {
            Kind::Run { count, .. } => count,
            _ => 0,
        }
    }

    /// Whether run `opener` may open what run `closer` closes: the same
    /// character, and the rule of three when either could do both.
    fn pairs(&self, opener: usize, closer: usize) -> bool {
        match (&self.tokens[opener].kind, &self.tokens[closer].kind) {
            (Kind::Run { ch: a, len: m, open: true, close: both, .. }, Kind::Run { ch: b, len: n, open: either, .. }) => {
                a == b && !((*both || *either) && (m + n) % 3 == 0 && !(m % 3 == 0 && n % 3 == 0))
            }
            _ => false,
        }
    }
}

/// Punctuation for the flanking rules. The spec's is Unicode's P and S
/// categories; their tables (or `char::is_alphanumeric`'s) would cost the
/// widget kilobytes, so: ASCII punctuation and the blocks of punctuation
/// and symbols messages use (Latin-1, general punctuation, currency, arrows
/// and mathematics, shapes and dingbats, CJK and fullwidth punctuation,
/// emoji). Anything else counts as a letter.
fn punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '\u{a1}'..='\u{bf}' | '×' | '÷' if !matches!(c, 'ª' | '\u{ad}' | '²' | '³' | 'µ' | '¹' | 'º' | '¼'..='¾'))
        || matches!(c, '\u{60c}' | '\u{61b}' | '\u{61f}' | '\u{964}' | '\u{965}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205e}')
        || matches!(c, '\u{20a0}'..='\u{20c0}' | '\u{2190}'..='\u{245f}' | '\u{2500}'..='\u{2775}' | '\u{2794}'..='\u{2bff}' | '\u{2e00}'..='\u{2e5d}')
        || matches!(c, '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301f}' | '\u{fe10}'..='\u{fe19}' | '\u{fe30}'..='\u{fe6b}')
        || matches!(c, '\u{ff01}'..='\u{ff0f}' | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}' | '\u{ff5b}'..='\u{ff65}' | '\u{1f000}'..='\u{1faff}')
}

/// An absolute URI as autolinks take it: a scheme of 2–32 characters, `:`.
fn uri(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else { return false };
    (2..=32).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
}

/// An email address as autolinks take it (the spec's HTML5 pattern).
fn email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    let label = |l: &str| {
        (1..=63).contains(&l.len()) && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    !local.is_empty()
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b))
        && domain.split('.').all(label)
}

/// The URL of `(url "title")` at the start of `text` and the length of it
/// all; the URL's backslash escapes are resolved.
fn link_tail(text: &str) -> Option<(String, usize)> {
    let mut at = spaces(text, text.strip_prefix('(').map(|_| 1)?);
    let (url, len) = if text[at..].starts_with(')') { (String::new(), 0) } else { destination(&text[at..])? };
    at += len;
    let before_title = spaces(text, at);
    if before_title > at {
        at = match title(&text[before_title..]) {
            Some(len) => spaces(text, before_title + len),
            None => before_title,
        };
    }
    text[at..].starts_with(')').then_some((url, at + 1))
}

/// Spaces and tabs, and at most one line end, from `at`: where they end.
fn spaces(text: &str, at: usize) -> usize {
    let blank = |at: usize| at + text[at..].len() - text[at..].trim_start_matches([' ', '\t']).len();
    let at = blank(at);
    if text[at..].starts_with('\n') {
        blank(at + 1)
    } else {
        at
    }
}

/// A link destination: `<...>` on one line, or text without spaces or
/// control characters whose parentheses balance (at most 32 deep, as in
/// pulldown-cmark: a bound on the work per `]`).
fn destination(text: &str) -> Option<(String, usize)> {
    let mut url = String::new();
    let pointy = text.starts_with('<');
    let mut depth = 0usize;
    let mut chars = text.char_indices().skip(usize::from(pointy));
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' if text[at + 1..].starts_with(|n: char| n.is_ascii_punctuation()) => url.extend(chars.next().map(|(_, n)| n)),
            '>' if pointy => return Some((url, at + 1)),
            '<' | '\n' if pointy => return None,
            ')' if !pointy && depth == 0 => return Some((url, at)),
            c if !pointy && c <= ' ' => return (depth == 0).then_some((url, at)),
            '(' if !pointy && depth > 32 => return None,
            '(' | ')' if !pointy => {
                depth = if c == '(' { depth + 1 } else { depth - 1 };
                url.push(c);
            }
            _ => url.push(c),
        }
    }
    (!pointy && depth == 0).then_some((url, text.len()))
}

/// The length of a link title in `"..."`, `'...'` or `(...)`.
fn title(text: &str) -> Option<usize> {
    let close = match text.chars().next()? {
        '"' => '"',
        '\'' => '\'',
        '(' => ')',
        _ => return None,
    };
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => _ = chars.next(),
            _ if c == close => return Some(at + 1),
            '(' if close == ')' => return None,
            _ => {}
        }
    }
    None
}

/// Builds the inline tree from the matched tokens.
struct Tree {
    /// The open wraps, the paragraph first; `None` for one not shown (too
    /// deep, a link in a link), whose content goes to its parent.
    stack: Vec<(Option<Wrap>, Vec<Inline>)>,
    depth: usize,
    /// How many shown links are open.
    links: usize,
}

impl Tree {
    fn open(&mut self, wrap: Wrap) {
        let link = matches!(wrap, Wrap::Link(_));
        let shown = self.stack.len() <= self.depth && !(link && self.links > 0);
        self.links += usize::from(shown && link);
        self.stack.push((shown.then_some(wrap), Vec::new()));
    }

    fn close(&mut self) {
        // Matching keeps opens and closes balanced; the paragraph never closes.
        if self.stack.len() < 2 {
            return;
        }
        let Some((wrap, children)) = self.stack.pop() else { return };
        match wrap {
            Some(Wrap::Strong) => self.push(Inline::Strong(children)),
            Some(Wrap::Emphasis) => self.push(Inline::Emphasis(children)),
            Some(Wrap::Link(url)) => {
                self.links -= 1;
                match is_safe_link(&url) {
                    // A link without text (an image without alt text) shows its URL.
                    true if children.is_empty() => self.push(Inline::Link { children: vec![Inline::Text(url.clone())], url }),
                    true => self.push(Inline::Link { url, children }),
                    false => children.into_iter().for_each(|child| self.push(child)),
                }
            }
            None => children.into_iter().for_each(|child| self.push(child)),
        }
    }

    fn text(&mut self, text: &str) {
        if !text.is_empty() {
            self.push(Inline::Text(text.to_string()));
        }
    }

    /// Adds `inline` to the innermost wrap; adjacent text is merged.
    fn push(&mut self, inline: Inline) {
        let Some((_, inlines)) = self.stack.last_mut() else { return };
        match (inlines.last_mut(), inline) {
            (Some(Inline::Text(last)), Inline::Text(text)) => last.push_str(&text),
            (_, inline) => inlines.push(inline),
        }
    }
}
