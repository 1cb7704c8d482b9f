//! The block structure of a message: paragraphs, headings, lists, block
//! quotes and code blocks.
//!
//! Follows CommonMark 0.31 §4–5 and its appendix's line-by-line algorithm:
//! each line first continues the open containers it can (a quote's `>`, an
//! item's indentation), then may open new ones, then continues or starts a
//! leaf (paragraph or code). Lazy continuation lines, setext headings, the
//! rules for when a list item may interrupt a paragraph and tight versus
//! loose lists are as in the spec. Simplified:
//!
//! - no HTML blocks: a line starting with a tag is a paragraph, shown as text;
//! - no link reference definitions: `[x]: url` is a paragraph;
//! - a tab counts as four columns of indentation wherever it stands and is
//!   never split, and only `\n` and `\r\n` end lines.
//!
//! Quotes and lists nested deeper than [`MAX_DEPTH`] allows are not opened:
//! their markers are dropped and their content joins the enclosing block.

use super::{inline, Block, Inline, MAX_DEPTH};

/// The blocks of `text`.
pub(super) fn parse(text: &str) -> Vec<Block> {
    let mut doc = Doc { open: vec![Container::new(Kind::Root)], leaf: None };
    text.lines().for_each(|line| doc.line(line));
    doc.close_to(1);
    doc.open.pop().map(|root| root.blocks).unwrap_or_default()
}

/// The open containers (the root first) and the open leaf of the innermost.
struct Doc {
    open: Vec<Container>,
    leaf: Option<Leaf>,
}

struct Container {
    kind: Kind,
    blocks: Vec<Block>,
    /// Whether a block was read into it, shown or not (a thematic break).
    filled: bool,
    /// A blank line followed the last block: the next one makes a list loose.
    blank: bool,
}

enum Kind {
    Root,
    Quote,
    /// `marker` is `-`, `+` or `*`, or `.` or `)` after a number: a
    /// different one starts a new list.
    List {
        start: Option<u64>,
        marker: u8,
        loose: bool,
        items: Vec<Vec<Block>>,
    },
    /// Lines indented by `indent` columns (or blank) continue the item.
    Item {
        indent: usize,
    },
}

enum Leaf {
    /// The lines so far, joined by `\n`, without their indentation.
    Paragraph(String),
    /// A fenced code block: its fence and the fence's indentation.
    Fence { ch: u8, len: usize, indent: usize, text: String },
    /// An indented code block; `kept` is its length without trailing blank lines.
    Indented { text: String, kept: usize },
}

impl Container {
    fn new(kind: Kind) -> Self {
        Container { kind, blocks: Vec::new(), filled: false, blank: false }
    }
}

impl Doc {
    fn line(&mut self, mut rest: &str) {
        // How much of the line's end could be a thematic break: checking
        // the rest after each nested list marker would be quadratic (`- - - … x`).
        let breakable = rest.len() - rest.trim_end_matches([' ', '\t', '*', '-', '_']).len();
        // Which open containers the line continues.
        let mut matched = 1;
        while let Some(container) = self.open.get(matched) {
            let continues = match container.kind {
                Kind::Quote => quote_marker(rest).map(|after| rest = after).is_some(),
                // An item that is still empty ends at a blank line.
                Kind::Item { indent: n } if blank(rest) => {
                    rest = skip(rest, n);
                    container.filled || matched + 1 < self.open.len() || self.leaf.is_some()
                }
                Kind::Item { indent: n } => {
                    indent(rest) >= n && {
                        rest = skip(rest, n);
                        true
                    }
                }
                Kind::List { .. } | Kind::Root => true,
            };
            if !continues {
                break;
            }
            matched += 1;
        }
        let all = matched == self.open.len();
        match &mut self.leaf {
            Some(Leaf::Fence { ch, len, indent, text }) if all => {
                if closes_fence(rest, *ch, *len) {
                    self.close_leaf();
                } else {
                    text.push_str(skip(rest, *indent));
                    text.push('\n');
                }
                return;
            }
            Some(Leaf::Indented { text, kept }) if all && (blank(rest) || indent(rest) >= 4) => {
                text.push('\n');
                text.push_str(skip(rest, 4));
                if !blank(rest) {
                    *kept = text.len();
                }
                return;
            }
            _ => {}
        }
        if blank(rest) {
            self.close_to(matched);
            self.open.last_mut().expect("the root stays open").blank = true;
            return;
        }
        // New containers, then a leaf.
        let mut opened = false;
        while !blank(rest) {
            let columns = indent(rest);
            let in_paragraph = matches!(self.leaf, Some(Leaf::Paragraph(_)));
            if columns >= 4 {
                if in_paragraph {
                    break;
                }
                self.start(matched, None);
                let text = skip(rest, 4).to_string();
                self.leaf = Some(Leaf::Indented { kept: text.len(), text });
                return;
            }
            let line = skip(rest, columns);
            let interrupts = in_paragraph && matched == self.open.len();
            if let Some(after) = quote_marker(line) {
                self.start(matched, None);
                if self.depth() < MAX_DEPTH - 1 {
                    self.open.push(Container::new(Kind::Quote));
                }
                rest = after;
            } else if let Some(content) = atx_heading(line) {
                self.start(matched, None);
                return self.heading(content);
            } else if let Some((ch, len)) = opens_fence(line) {
                self.start(matched, None);
                self.leaf = Some(Leaf::Fence { ch, len, indent: columns, text: String::new() });
                return;
            } else if interrupts && setext_underline(line) {
                let Some(Leaf::Paragraph(text)) = self.leaf.take() else { unreachable!("in a paragraph") };
                return self.heading(&text);
            } else if line.len() <= breakable && thematic_break(line) {
                // Not shown, but a block for tight and loose lists.
                self.start(matched, None);
                return self.follow_blank();
            } else if let Some(item) = list_item(line, columns).filter(|i| !interrupts || (!i.empty && i.start.unwrap_or(1) == 1)) {
                self.start(matched, Some(item.marker));
                self.push_item(&item);
                rest = item.rest;
            } else {
                break;
            }
            matched = self.open.len();
            opened = true;
        }
        let text = rest.trim_start_matches([' ', '\t']);
        match &mut self.leaf {
            _ if text.is_empty() => {}
            // A paragraph continues, also lazily: without the markers of its containers.
            Some(Leaf::Paragraph(paragraph)) if !opened => {
                paragraph.push('\n');
                paragraph.push_str(text);
            }
            _ => {
                self.start(matched, None);
                self.leaf = Some(Leaf::Paragraph(text.to_string()));
            }
        }
    }

    /// Closes the leaf and the containers after the first `matched`.
    fn close_to(&mut self, matched: usize) {
        self.close_leaf();
        while self.open.len() > matched.max(1) {
            self.close_top();
        }
    }

    /// Makes room for a new block: [`Doc::close_to`], then a list on top
    /// stays open only for an item with its `marker`.
    fn start(&mut self, matched: usize, marker: Option<u8>) {
        self.close_to(matched);
        if let Some(Container { kind: Kind::List { marker: open, .. }, .. }) = self.open.last() {
            if marker != Some(*open) {
                self.close_top();
            }
        }
    }

    /// Opens an item, and its list unless it continues the one on top.
    fn push_item(&mut self, item: &ListItem) {
        if !matches!(self.open.last(), Some(Container { kind: Kind::List { .. }, .. })) {
            if self.depth() >= MAX_DEPTH - 1 {
                return;
            }
            let list = Kind::List { start: item.start, marker: item.marker, loose: false, items: Vec::new() };
            self.open.push(Container::new(list));
        }
        if let Some(Container { kind: Kind::List { loose, .. }, blank, .. }) = self.open.last_mut() {
            *loose |= std::mem::take(blank);
        }
        self.open.push(Container::new(Kind::Item { indent: item.indent }));
    }

    /// How many containers other than items are open: the block depth.
    fn depth(&self) -> usize {
        self.open.iter().filter(|c| !matches!(c.kind, Kind::Item { .. })).count()
    }

    /// How deep the inlines of a paragraph here may nest.
    fn inline_depth(&self) -> usize {
        MAX_DEPTH.saturating_sub(self.depth() + 1)
    }

    fn heading(&mut self, text: &str) {
        let inlines = inline::parse(text.trim_end_matches([' ', '\t']), self.inline_depth().saturating_sub(1));
        self.add(Block::Paragraph(vec![Inline::Strong(inlines)]));
    }

    fn close_leaf(&mut self) {
        let block = match self.leaf.take() {
            None => return,
            Some(Leaf::Paragraph(text)) => {
                let inlines = inline::parse(text.trim_end_matches([' ', '\t']), self.inline_depth());
                match self.open.last() {
                    // A tight list's paragraphs are plain; `close_top` makes them paragraphs when the list is loose.
                    Some(Container { kind: Kind::Item { .. }, .. }) => Block::Plain(inlines),
                    _ => Block::Paragraph(inlines),
                }
            }
            Some(Leaf::Fence { text, .. }) => Block::Pre(text.trim_end_matches('\n').to_string()),
            Some(Leaf::Indented { mut text, kept }) => {
                let trailing_blank = kept < text.len();
                text.truncate(kept);
                self.add(Block::Pre(text));
                // Its trailing blank lines are blank lines after it.
                self.open.last_mut().expect("the root stays open").blank = trailing_blank;
                return;
            }
        };
        self.add(block);
    }

    /// Adds `block` to the innermost container, which is not a list.
    fn add(&mut self, block: Block) {
        self.follow_blank();
        self.open.last_mut().expect("the root stays open").blocks.push(block);
    }

    /// A block comes next in the innermost container: after a blank line,
    /// in an item, that makes its list loose.
    fn follow_blank(&mut self) {
        let n = self.open.len();
        self.open[n - 1].filled = true;
        if let (true, Kind::Item { .. }) = (std::mem::take(&mut self.open[n - 1].blank), &self.open[n - 1].kind) {
            if let Kind::List { loose, .. } = &mut self.open[n - 2].kind {
                *loose = true;
            }
        }
    }

    fn close_top(&mut self) {
        self.close_leaf();
        let container = self.open.pop().expect("an open container");
        match container.kind {
            Kind::Quote => self.add(Block::Quote(container.blocks)),
            Kind::Item { .. } => {
                if let Some(Container { kind: Kind::List { items, .. }, blank, .. }) = self.open.last_mut() {
                    items.push(container.blocks);
                    *blank = container.blank;
                }
            }
            Kind::List { start, loose, mut items, .. } => {
                for item in &mut items {
                    match loose {
                        true => item.iter_mut().for_each(|block| {
                            if let Block::Plain(inlines) = block {
                                *block = Block::Paragraph(std::mem::take(inlines));
                            }
                        }),
                        // Nothing to show (`- ![](x)`): no block.
                        false => item.retain(|block| !matches!(block, Block::Plain(inlines) if inlines.is_empty())),
                    }
                }
                self.add(Block::List { start, items });
                if let Some(parent) = self.open.last_mut() {
                    parent.blank = container.blank;
                }
            }
            Kind::Root => unreachable!("the root closes at the end of `parse`"),
        }
    }
}

/// The columns of indentation of `line`.
fn indent(line: &str) -> usize {
    line.bytes().take_while(|b| matches!(b, b' ' | b'\t')).map(|b| if b == b'\t' { 4 } else { 1 }).sum()
}

/// `line` without up to `columns` columns of indentation.
fn skip(line: &str, columns: usize) -> &str {
    let mut seen = 0;
    let start = line.bytes().take_while(|&b| {
        let more = seen < columns && matches!(b, b' ' | b'\t');
        seen += if b == b'\t' { 4 } else { 1 };
        more
    });
    &line[start.count()..]
}

fn blank(line: &str) -> bool {
    line.bytes().all(|b| matches!(b, b' ' | b'\t'))
}

/// The rest of `line` after a block quote marker: `>` and one optional space.
fn quote_marker(line: &str) -> Option<&str> {
    let after = (indent(line) < 4).then(|| line.trim_start_matches([' ', '\t']))?.strip_prefix('>')?;
    Some(after.strip_prefix([' ', '\t']).unwrap_or(after))
}

/// The text of an ATX heading (`#` to `######`), without a closing `#` run.
fn atx_heading(line: &str) -> Option<&str> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    let after = &line[level..];
    if !(1..=6).contains(&level) || !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let text = after.trim_matches([' ', '\t']);
    let open = text.trim_end_matches('#');
    Some(if open.is_empty() {
        open
    } else if open.ends_with([' ', '\t']) {
        open.trim_end_matches([' ', '\t'])
    } else {
        text
    })
}

/// The character and length of an opening code fence: three or more `` ` ``
/// (with no `` ` `` in the info string after them) or `~`.
fn opens_fence(line: &str) -> Option<(u8, usize)> {
    let ch = *line.as_bytes().first().filter(|&&b| b == b'`' || b == b'~')?;
    let len = line.bytes().take_while(|&b| b == ch).count();
    (len >= 3 && !(ch == b'`' && line[len..].contains('`'))).then_some((ch, len))
}

fn closes_fence(line: &str, ch: u8, len: usize) -> bool {
    let columns = indent(line);
    let line = skip(line, columns);
    let run = line.bytes().take_while(|&b| b == ch).count();
    columns < 4 && run >= len && blank(&line[run..])
}

fn setext_underline(line: &str) -> bool {
    let line = line.trim_end_matches([' ', '\t']);
    !line.is_empty() && (line.bytes().all(|b| b == b'=') || line.bytes().all(|b| b == b'-'))
}

/// Three or more `*`, `-` or `_`, alone on the line but for spaces.
fn thematic_break(line: &str) -> bool {
    let Some(ch) = line.chars().next().filter(|c| matches!(c, '*' | '-' | '_')) else { return false };
    line.chars().all(|c| c == ch || c == ' ' || c == '\t') && line.matches(ch).count() >= 3
}

/// A list item's marker, as read by [`list_item`].
struct ListItem<'a> {
    marker: u8,
    start: Option<u64>,
    /// The columns of the item's content, from the line's start.
    indent: usize,
    empty: bool,
    rest: &'a str,
}

/// A list item marker at the start of `line` (itself indented by `columns`):
/// `-`, `+`, `*`, or 1–9 digits and `.` or `)`, then a space or the line's end.
fn list_item(line: &str, columns: usize) -> Option<ListItem<'_>> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let (marker, start, width) = match *line.as_bytes().get(digits)? {
        b @ (b'-' | b'+' | b'*') if digits == 0 => (b, None, 1),
        b @ (b'.' | b')') if (1..=9).contains(&digits) => {
            (b, Some(line.bytes().take(digits).fold(0, |n, d| n * 10 + u64::from(d - b'0'))), digits + 1)
        }
        _ => return None,
    };
    let after = &line[width..];
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let empty = blank(after);
    // Five or more spaces: the content is indented code one space after the marker.
    let spaces = if empty || indent(after) >= 5 { 1 } else { indent(after) };
    let rest = if empty { "" } else { skip(after, spaces) };
    Some(ListItem { marker, start, indent: columns + width + spaces, empty, rest })
}
