//! The pulldown-cmark parser the widget used before [`super::block`] and
//! [`super::inline`]: a test oracle, so that the hand-written parser is
//! checked against a complete CommonMark implementation
//! (`super::differential`).

use crate::api::stream::Source;
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};

use super::{cite_blocks, is_safe_link, Block, Inline, MAX_DEPTH};

/// Parses `text` as Markdown into the safe tree; `[n]` markers become
/// citations of `sources[n - 1]` when that source has an `http(s)` URL.
///
/// Only CommonMark's core is parsed: no tables, footnotes, strikethrough,
/// task lists or math.
pub(super) fn parse(text: &str, sources: &[Source]) -> Vec<Block> {
    let mut builder = Builder { frames: vec![Frame::Blocks(Vec::new())], depth: 1, links: 0 };
    for event in Parser::new_ext(text, Options::empty()) {
        builder.event(event);
    }
    let mut blocks = match builder.frames.swap_remove(0) {
        Frame::Blocks(blocks) => blocks,
        _ => unreachable!("the root frame is a list of blocks"),
    };
    cite_blocks(&mut blocks, sources);
    blocks
}

/// An open container while the events are read.
enum Frame {
    /// The message or a block quote.
    Blocks(Vec<Block>),
    /// A list; an item's content goes into the last item.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    /// A paragraph or heading (`strong`: shown bold).
    Paragraph {
        inlines: Vec<Inline>,
        strong: bool,
    },
    /// A code block or a raw HTML block: its text, verbatim.
    Verbatim {
        text: String,
        code: bool,
    },
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    /// A link, or an image, with its URL if it is safe to follow.
    Link {
        url: Option<String>,
        children: Vec<Inline>,
    },
    /// A container not shown as such (a list item, or anything nested too
    /// deep, or unsupported): its content goes to the container below.
    Transparent,
}

/// Builds the tree from pulldown-cmark's events, which are balanced: a
/// stack of the open containers, innermost last.
struct Builder {
    frames: Vec<Frame>,
    /// How many frames are not [`Frame::Transparent`].
    depth: usize,
    /// How many link frames are open.
    links: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(_) => self.end(),
            Event::Text(text) => match self.frames.last_mut() {
                Some(Frame::Verbatim { text: verbatim, .. }) => verbatim.push_str(&text),
                _ => self.text(&text),
            },
            // Raw HTML is shown as the characters it is made of.
            Event::Html(html) => match self.frames.last_mut() {
                Some(Frame::Verbatim { text, .. }) => text.push_str(&html),
                _ => self.text(&html),
            },
            Event::InlineHtml(html) => self.text(&html),
            Event::Code(code) => self.inline(Inline::Code(code.into_string())),
            Event::SoftBreak => self.text("\n"),
            Event::HardBreak => self.inline(Inline::Break),
            // Not enabled by the options; text if they ever appear.
            Event::InlineMath(text) | Event::DisplayMath(text) | Event::FootnoteReference(text) => self.text(&text),
            Event::Rule | Event::TaskListMarker(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        if let Tag::Item = tag {
            if let Some(Frame::List { items, .. }) = self.frames.last_mut() {
                items.push(Vec::new());
            }
            self.frames.push(Frame::Transparent);
            return;
        }
        let frame = match tag {
            _ if self.depth >= MAX_DEPTH => Frame::Transparent,
            Tag::Paragraph => Frame::Paragraph { inlines: Vec::new(), strong: false },
            Tag::Heading { .. } => Frame::Paragraph { inlines: Vec::new(), strong: true },
            Tag::BlockQuote(_) => Frame::Blocks(Vec::new()),
            Tag::CodeBlock(_) => Frame::Verbatim { text: String::new(), code: true },
            Tag::HtmlBlock => Frame::Verbatim { text: String::new(), code: false },
            Tag::List(start) => Frame::List { start, items: Vec::new() },
            Tag::Emphasis => Frame::Emphasis(Vec::new()),
            Tag::Strong => Frame::Strong(Vec::new()),
            // A link inside a link (an image in a link) would nest `<a>`s: text.
            Tag::Link { link_type, dest_url, .. } | Tag::Image { link_type, dest_url, .. } if self.links == 0 => {
                let url = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.into_string(),
                };
                let url = is_safe_link(&url).then_some(url);
                Frame::Link { url, children: Vec::new() }
            }
            _ => Frame::Transparent,
        };
        match frame {
            Frame::Transparent => {}
            Frame::Link { .. } => (self.depth, self.links) = (self.depth + 1, self.links + 1),
            _ => self.depth += 1,
        }
        self.frames.push(frame);
    }

    fn end(&mut self) {
        let Some(frame) = self.frames.pop() else { return };
        match frame {
            Frame::Transparent => {}
            Frame::Link { .. } => (self.depth, self.links) = (self.depth - 1, self.links - 1),
            _ => self.depth -= 1,
        }
        match frame {
            Frame::Transparent => {}
            Frame::Blocks(blocks) => self.block(Block::Quote(blocks)),
            Frame::List { start, items } => self.block(Block::List { start, items }),
            Frame::Paragraph { inlines, strong: false } => self.block(Block::Paragraph(inlines)),
            Frame::Paragraph { inlines, strong: true } => self.block(Block::Paragraph(vec![Inline::Strong(inlines)])),
            Frame::Verbatim { mut text, code } => {
                text.truncate(text.trim_end_matches('\n').len());
                self.block(if code { Block::Pre(text) } else { Block::Paragraph(vec![Inline::Text(text)]) });
            }
            Frame::Strong(children) => self.inline(Inline::Strong(children)),
            Frame::Emphasis(children) => self.inline(Inline::Emphasis(children)),
            // A link without text (an image without alt text) shows its URL.
            Frame::Link { url: Some(url), children } if children.is_empty() => {
                self.inline(Inline::Link { children: vec![Inline::Text(url.clone())], url })
            }
            Frame::Link { url: Some(url), children } => self.inline(Inline::Link { url, children }),
            Frame::Link { url: None, children } => children.into_iter().for_each(|c| self.inline(c)),
        }
    }

    /// The innermost frame that holds content.
    fn open_mut(&mut self) -> Option<&mut Frame> {
        self.frames.iter_mut().rev().find(|f| !matches!(f, Frame::Transparent))
    }

    fn text(&mut self, text: &str) {
        self.inline(Inline::Text(text.to_string()));
    }

    /// Adds `inline` to the open frame; adjacent text is merged, so a
    /// citation marker split over several events is found.
    fn inline(&mut self, inline: Inline) {
        let inlines = match self.open_mut() {
            Some(Frame::Paragraph { inlines, .. } | Frame::Strong(inlines) | Frame::Emphasis(inlines)) => inlines,
            Some(Frame::Link { children, .. }) => children,
            Some(Frame::Verbatim { text, .. }) => {
                if let Inline::Text(t) = inline {
                    text.push_str(&t);
                }
                return;
            }
            Some(Frame::Blocks(blocks)) => plain(blocks),
            Some(Frame::List { items, .. }) => {
                if items.is_empty() {
                    items.push(Vec::new());
                }
                plain(items.last_mut().expect("an item was just ensured"))
            }
            Some(Frame::Transparent) | None => return,
        };
        match (inlines.last_mut(), inline) {
            (Some(Inline::Text(last)), Inline::Text(text)) => last.push_str(&text),
            (_, inline) => inlines.push(inline),
        }
    }

    /// Adds `block` to the open frame; inside a paragraph or an inline
    /// (only when flattened), its text is kept inline.
    fn block(&mut self, block: Block) {
        match self.open_mut() {
            Some(Frame::Blocks(blocks)) => blocks.push(block),
            Some(Frame::List { items, .. }) => {
                if items.is_empty() {
                    items.push(Vec::new());
                }
                items.last_mut().expect("an item was just ensured").push(block);
            }
            Some(_) => flatten(block).into_iter().for_each(|inline| self.inline(inline)),
            None => {}
        }
    }
}

/// The trailing [`Block::Plain`] of `blocks`, added if the last block is another kind.
fn plain(blocks: &mut Vec<Block>) -> &mut Vec<Inline> {
    if !matches!(blocks.last(), Some(Block::Plain(_))) {
        blocks.push(Block::Plain(Vec::new()));
    }
    match blocks.last_mut() {
        Some(Block::Plain(inlines)) => inlines,
        _ => unreachable!("a plain block was just ensured"),
    }
}

/// The inline content of `block`, for a block that ends up inside an inline.
pub(super) fn flatten(block: Block) -> Vec<Inline> {
    match block {
        Block::Paragraph(inlines) | Block::Plain(inlines) => inlines,
        Block::Pre(text) => vec![Inline::Code(text)],
        Block::Quote(blocks) => blocks.into_iter().flat_map(flatten).collect(),
        Block::List { items, .. } => items.into_iter().flatten().flat_map(flatten).collect(),
    }
}
