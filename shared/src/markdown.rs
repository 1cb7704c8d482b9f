//! The safe Markdown subset of AI and operator messages.
//!
//! [`parse`] turns a message into a small tree ([`Block`], [`Inline`]) of
//! what the widget shows: paragraphs, line breaks, lists, strong, emphasis,
//! inline code, code blocks, block quotes, links and citations. Everything
//! else degrades to text: raw HTML shows as its characters, headings as bold
//! paragraphs, images as a link to the image or their alt text. `view`
//! (feature `view`, used by the widget and the operator console: one
//! renderer for both) builds DOM nodes from that tree with Leptos; no HTML
//! string is ever made, so nothing a message says can become markup.
//!
//! Soft line breaks stay `\n` in the text: the bubble keeps
//! `white-space: pre-wrap`, so a message shows its lines as typed, the way
//! chat users expect.
//!
//! The parser is our own ([`block`], [`inline`]): a full CommonMark parser
//! would be most of the widget's wasm. pulldown-cmark stays as a test
//! oracle (`oracle`); `differential` checks that both make the same tree
//! of the subset and lists where ours deliberately differs.

use crate::api::stream::Source;
#[cfg(feature = "view")]
use leptos::prelude::*;

mod block;
#[cfg(test)]
mod differential;
mod inline;
#[cfg(test)]
mod oracle;

/// A block of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph (`<p>`); headings become one too.
    Paragraph(Vec<Inline>),
    /// Text of a tight list item, not wrapped in a paragraph.
    Plain(Vec<Inline>),
    /// A list: `start` is the first number of an ordered list, `None` for a
    /// bullet list; each item is a list of blocks.
    List { start: Option<u64>, items: Vec<Vec<Block>> },
    /// A fenced or indented code block (`<pre><code>`), as text.
    Pre(String),
    /// A block quote.
    Quote(Vec<Block>),
}

/// Inline content of a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Text, shown as characters (soft line breaks are `\n`).
    Text(String),
    /// A hard line break (`<br>`).
    Break,
    /// Strong emphasis (`<strong>`).
    Strong(Vec<Inline>),
    /// Emphasis (`<em>`).
    Emphasis(Vec<Inline>),
    /// Inline code (`<code>`).
    Code(String),
    /// A link to an `http:`, `https:` or `mailto:` URL; it opens in a new tab.
    Link { url: String, children: Vec<Inline> },
    /// A citation marker `[n]` of the answer's `n`-th source (1-based), which
    /// has an `http(s)` URL.
    Citation { number: usize, url: String, title: String },
}

/// How deep blocks and inlines may nest; deeper containers are flattened
/// into their parent, so a hostile message cannot exhaust the stack when
/// the tree is built into views.
pub const MAX_DEPTH: usize = 12;

/// The `rel` of every link in a message: no `window.opener`, no referrer,
/// no endorsement.
pub const LINK_REL: &str = "noopener noreferrer nofollow";

/// True for an absolute `http://` or `https://` URL (ASCII case-insensitive).
pub fn is_web_url(url: &str) -> bool {
    has_scheme(url, "https://") || has_scheme(url, "http://")
}

/// True for a URL a message may link to: `http:`, `https:` or `mailto:`.
/// Anything else (`javascript:`, `data:`, relative URLs) stays text.
fn is_safe_link(url: &str) -> bool {
    is_web_url(url) || has_scheme(url, "mailto:")
}

/// True when `url` starts with `scheme`, ignoring ASCII case.
fn has_scheme(url: &str, scheme: &str) -> bool {
    url.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme))
}

/// Parses `text` as Markdown into the safe tree; `[n]` markers become
/// citations of `sources[n - 1]` when that source has an `http(s)` URL.
///
/// The subset of CommonMark 0.31 a chat needs: [`block`] reads the block
/// structure, [`inline`] the inlines of each paragraph; their docs list
/// what they simplify. No tables, footnotes, strikethrough, task lists or
/// math. Never fails: what is not markup is text.
pub fn parse(text: &str, sources: &[Source]) -> Vec<Block> {
    let mut blocks = block::parse(text);
    cite_blocks(&mut blocks, sources);
    blocks
}

fn cite_blocks(blocks: &mut [Block], sources: &[Source]) {
    for block in blocks {
        match block {
            Block::Paragraph(inlines) | Block::Plain(inlines) => cite_inlines(inlines, sources),
            Block::Quote(blocks) => cite_blocks(blocks, sources),
            Block::List { items, .. } => items.iter_mut().for_each(|item| cite_blocks(item, sources)),
            Block::Pre(_) => {}
        }
    }
}

/// Splits citation markers out of the text of `inlines` (not inside links:
/// a link cannot hold another).
fn cite_inlines(inlines: &mut Vec<Inline>, sources: &[Source]) {
    if sources.is_empty() {
        return;
    }
    for inline in std::mem::take(inlines) {
        match inline {
            Inline::Text(text) => split_citations(&text, sources, inlines),
            Inline::Strong(mut children) => {
                cite_inlines(&mut children, sources);
                inlines.push(Inline::Strong(children));
            }
            Inline::Emphasis(mut children) => {
                cite_inlines(&mut children, sources);
                inlines.push(Inline::Emphasis(children));
            }
            other => inlines.push(other),
        }
    }
}

/// Pushes `text` onto `out` as text and citations: `[n]` (1 to 3 digits)
/// is a citation when `sources[n - 1]` exists and has an `http(s)` URL.
fn split_citations(text: &str, sources: &[Source], out: &mut Vec<Inline>) {
    let mut rest = text;
    let mut pending = String::new();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let marker = (1..=3).contains(&digits) && after[digits..].starts_with(']');
        match marker.then(|| citation(&after[..digits], sources)).flatten() {
            Some(cited) => {
                pending.push_str(&rest[..open]);
                if !pending.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut pending)));
                }
                out.push(cited);
                rest = &after[digits + 1..];
            }
            None => {
                pending.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    pending.push_str(rest);
    if !pending.is_empty() {
        out.push(Inline::Text(pending));
    }
}

/// The citation of source number `digits` (1-based), if it has a web URL.
fn citation(digits: &str, sources: &[Source]) -> Option<Inline> {
    let number: usize = digits.parse().ok()?;
    let source = sources.get(number.checked_sub(1)?)?;
    let url = source.url.as_deref().filter(|url| is_web_url(url))?;
    Some(Inline::Citation { number, url: url.to_string(), title: source.title.clone() })
}

/// The DOM of `blocks`: elements and text nodes only, never HTML.
#[cfg(feature = "view")]
pub fn view(blocks: Vec<Block>) -> AnyView {
    blocks.into_iter().map(block_view).collect_view().into_any()
}

#[cfg(feature = "view")]
fn block_view(block: Block) -> AnyView {
    match block {
        Block::Paragraph(inlines) => view! { <p>{inlines_view(inlines)}</p> }.into_any(),
        Block::Plain(inlines) => inlines_view(inlines),
        Block::List { start: None, items } => view! { <ul>{items_view(items)}</ul> }.into_any(),
        Block::List { start: Some(start), items } => view! { <ol start=start.to_string()>{items_view(items)}</ol> }.into_any(),
        Block::Pre(text) => view! { <pre><code>{text}</code></pre> }.into_any(),
        Block::Quote(blocks) => view! { <blockquote>{view(blocks)}</blockquote> }.into_any(),
    }
}

#[cfg(feature = "view")]
fn items_view(items: Vec<Vec<Block>>) -> AnyView {
    items.into_iter().map(|item| view! { <li>{view(item)}</li> }).collect_view().into_any()
}

#[cfg(feature = "view")]
fn inlines_view(inlines: Vec<Inline>) -> AnyView {
    inlines.into_iter().map(inline_view).collect_view().into_any()
}

#[cfg(feature = "view")]
fn inline_view(inline: Inline) -> AnyView {
    match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Break => view! { <br /> }.into_any(),
        Inline::Strong(children) => view! { <strong>{inlines_view(children)}</strong> }.into_any(),
        Inline::Emphasis(children) => view! { <em>{inlines_view(children)}</em> }.into_any(),
        Inline::Code(text) => view! { <code>{text}</code> }.into_any(),
        Inline::Link { url, children } => view! { <a href=url target="_blank" rel=LINK_REL>{inlines_view(children)}</a> }.into_any(),
        Inline::Citation { number, url, title } => view! {
            <sup class="ec-cite"><a href=url title=title target="_blank" rel=LINK_REL>{format!("[{number}]")}</a></sup>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::oracle::flatten;
    use super::*;
    use Block::*;
    use Inline::*;

    fn text(s: &str) -> Inline {
        Text(s.to_string())
    }

    fn source(title: &str, url: Option<&str>) -> Source {
        Source { id: title.to_lowercase(), title: title.to_string(), url: url.map(str::to_string) }
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        assert_eq!(parse("Hi <img src=x onerror=alert(1)> there", &[]), [Paragraph(vec![text("Hi <img src=x onerror=alert(1)> there")])]);
        assert_eq!(
            parse("<script>alert(1)</script>\n\nafter", &[]),
            [Paragraph(vec![text("<script>alert(1)</script>")]), Paragraph(vec![text("after")])]
        );
    }

    #[test]
    fn links_other_than_http_https_and_mailto_are_text() {
        for url in [
            "http:example.com",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "/relative",
            "vbscript:x",
        ] {
            assert_eq!(parse(&format!("[bad]({url})"), &[]), [Paragraph(vec![text("bad")])], "{url}");
        }
    }

    #[test]
    fn http_https_and_mailto_links_are_kept() {
        assert_eq!(
            parse("[docs](https://example.com/docs) <mailto:help@example.com> <help@example.com> [x](HTTP://a.b)", &[]),
            [Paragraph(vec![
                Link { url: "https://example.com/docs".into(), children: vec![text("docs")] },
                text(" "),
                Link { url: "mailto:help@example.com".into(), children: vec![text("mailto:help@example.com")] },
                text(" "),
                Link { url: "mailto:help@example.com".into(), children: vec![text("help@example.com")] },
                text(" "),
                Link { url: "HTTP://a.b".into(), children: vec![text("x")] },
            ])]
        );
    }

    #[test]
    fn images_become_links_or_their_alt_text() {
        assert_eq!(
            parse("![shot](https://example.com/a.png) ![](https://example.com/b.png) ![evil](javascript:x)", &[]),
            [Paragraph(vec![
                Link { url: "https://example.com/a.png".into(), children: vec![text("shot")] },
                text(" "),
                Link { url: "https://example.com/b.png".into(), children: vec![text("https://example.com/b.png")] },
                text(" evil"),
            ])]
        );
        // An image inside a link would nest links: its alt text stays inside the one link.
        assert_eq!(
            parse("[![alt](https://example.com/a.png)](https://example.com)", &[]),
            [Paragraph(vec![Link { url: "https://example.com".into(), children: vec![text("alt")] }])]
        );
    }

    #[test]
    fn bullet_ordered_and_nested_lists() {
        assert_eq!(
            parse("- one\n- two\n  1. a\n  2. b\n\n3. three", &[]),
            [
                List {
                    start: None,
                    items: vec![
                        vec![Plain(vec![text("one")])],
                        vec![
                            Plain(vec![text("two")]),
                            List { start: Some(1), items: vec![vec![Plain(vec![text("a")])], vec![Plain(vec![text("b")])]] },
                        ],
                    ],
                },
                List { start: Some(3), items: vec![vec![Plain(vec![text("three")])]] },
            ]
        );
    }

    #[test]
    fn bold_italics_and_code() {
        assert_eq!(
            parse("**Bold** and _italic_ and `a <b>` and *__both__*", &[]),
            [Paragraph(vec![
                Strong(vec![text("Bold")]),
                text(" and "),
                Emphasis(vec![text("italic")]),
                text(" and "),
                Code("a <b>".into()),
                text(" and "),
                Emphasis(vec![Strong(vec![text("both")])]),
            ])]
        );
        assert_eq!(parse("```\nfn main() {}\n```", &[]), [Pre("fn main() {}".into())]);
        assert_eq!(parse("    <b>indented</b>\n", &[]), [Pre("<b>indented</b>".into())]);
    }

    #[test]
    fn soft_breaks_stay_newlines_and_hard_breaks_are_breaks() {
        assert_eq!(parse("one\ntwo  \nthree", &[]), [Paragraph(vec![text("one\ntwo"), Break, text("three")])]);
    }

    #[test]
    fn citations_link_to_sources_with_a_web_url() {
        let sources =
            [source("Install", Some("https://example.com/install")), source("Offline", None), source("Bad", Some("javascript:x"))];
        assert_eq!(
            parse("Paste the tag [1]. See [2], [3], [4] and [x]; **also [1]**", &sources),
            [Paragraph(vec![
                text("Paste the tag "),
                Citation { number: 1, url: "https://example.com/install".into(), title: "Install".into() },
                text(". See [2], [3], [4] and [x]; "),
                Strong(vec![text("also "), Citation { number: 1, url: "https://example.com/install".into(), title: "Install".into() }]),
            ])]
        );
        assert_eq!(parse("[1] without sources", &[]), [Paragraph(vec![text("[1] without sources")])]);
        assert_eq!(parse("`[1]`", &sources), [Paragraph(vec![Code("[1]".into())])]);
    }

    #[test]
    fn headings_degrade_to_bold_paragraphs() {
        assert_eq!(
            parse("# Title\n\nSub\n---\ntext", &[]),
            [Paragraph(vec![Strong(vec![text("Title")])]), Paragraph(vec![Strong(vec![text("Sub")])]), Paragraph(vec![text("text")])]
        );
    }

    #[test]
    fn tables_and_strikethrough_are_not_parsed() {
        assert_eq!(parse("~~old~~", &[]), [Paragraph(vec![text("~~old~~")])]);
        assert_eq!(parse("| a | b |\n|---|---|", &[]), [Paragraph(vec![text("| a | b |\n|---|---|")])]);
    }

    #[test]
    fn block_quotes_are_kept() {
        assert_eq!(parse("> quoted", &[]), [Quote(vec![Paragraph(vec![text("quoted")])])]);
    }

    #[test]
    fn deep_nesting_is_flattened() {
        let blocks = parse(&format!("{}deep", "> ".repeat(5000)), &[]);
        fn depth(blocks: &[Block]) -> usize {
            blocks.iter().map(|b| if let Quote(inner) = b { 1 + depth(inner) } else { 1 }).max().unwrap_or(0)
        }
        assert!(depth(&blocks) <= MAX_DEPTH, "{}", depth(&blocks));
        assert_eq!(flatten(Quote(blocks)), [text("deep")]);
    }
}
