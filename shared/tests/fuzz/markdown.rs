//! `markdown::parse`: every AI and operator message the widget and the
//! console show goes through it.

use edgechat_shared::api::Source;
use edgechat_shared::markdown::{parse, Block, Inline, MAX_DEPTH};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

use crate::run;
use crate::timing::assert_linear;

/// Pieces messages are made of: markup, hostile HTML and URLs, and letters.
const PIECES: &[&str] = &[
    "*",
    "**",
    "_",
    "__",
    "`",
    "```",
    "~~~",
    "[",
    "]",
    "![",
    "(",
    ")",
    "<",
    ">",
    "\\",
    "\n",
    "\n\n",
    "  \n",
    "    ",
    "\t",
    "> ",
    "- ",
    "1. ",
    "+ ",
    "# ",
    "---",
    "\"",
    "'",
    "[1]",
    "[2]",
    "](",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "JaVaScRiPt:",
    "data:text/html,<b>",
    "vbscript:x",
    "https://example.com/a?b=<c>",
    "http://x",
    "mailto:a@b.c",
    "a@b.c",
    "<https://x.y>",
    "<javascript:x>",
    "&lt;",
    "&#60;",
    "\u{202e}",
    "\u{200b}",
    "é",
    "日本",
    "word",
    " ",
    "x",
];

fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|p| p.concat()),
        "\\PC{0,200}",
        prop::collection::vec(any::<char>(), 0..100).prop_map(String::from_iter),
    ]
}

fn sources() -> Vec<Source> {
    vec![
        Source { id: "a".into(), title: "<b>A</b>".into(), url: Some("https://example.com/a".into()) },
        Source { id: "b".into(), title: "B".into(), url: Some("javascript:alert(1)".into()) },
        Source { id: "c".into(), title: "C".into(), url: None },
    ]
}

/// The HTML a browser would serialise from the DOM `markdown::view` builds
/// for `blocks`: the same elements and attributes, text escaped as the DOM
/// escapes text nodes and attribute values.
fn html(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Paragraph(inlines) => wrap(out, "p", "", |out| inline_html(inlines, out)),
            Block::Plain(inlines) => inline_html(inlines, out),
            Block::List { start: None, items } => {
                wrap(out, "ul", "", |out| items.iter().for_each(|item| wrap(out, "li", "", |out| html(item, out))))
            }
            Block::List { start: Some(n), items } => {
                wrap(out, "ol", &format!(" start=\"{n}\""), |out| items.iter().for_each(|item| wrap(out, "li", "", |out| html(item, out))))
            }
            Block::Pre(text) => wrap(out, "pre", "", |out| wrap(out, "code", "", |out| escape(text, out))),
            Block::Quote(blocks) => wrap(out, "blockquote", "", |out| html(blocks, out)),
        }
    }
}

fn inline_html(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(text) => escape(text, out),
            Inline::Break => out.push_str("<br>"),
            Inline::Strong(children) => wrap(out, "strong", "", |out| inline_html(children, out)),
            Inline::Emphasis(children) => wrap(out, "em", "", |out| inline_html(children, out)),
            Inline::Code(text) => wrap(out, "code", "", |out| escape(text, out)),
            Inline::Link { url, children } => wrap(out, "a", &format!(" href=\"{}\"", attr(url)), |out| inline_html(children, out)),
            Inline::Citation { number, url, title } => {
                wrap(out, "a", &format!(" href=\"{}\" title=\"{}\"", attr(url), attr(title)), |out| out.push_str(&format!("[{number}]")))
            }
        }
    }
}

fn wrap(out: &mut String, tag: &str, attrs: &str, inner: impl FnOnce(&mut String)) {
    out.push_str(&format!("<{tag}{attrs}>"));
    inner(out);
    out.push_str(&format!("</{tag}>"));
}

/// Text nodes: `&`, `<`, `>` escaped (the HTML serialisation algorithm).
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Attribute values: `&`, `"`, `<` and `>` escaped (as browsers
/// serialise them since 2025).
fn attr(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The elements `markdown::view` may make.
const TAGS: &[&str] = &["p", "ul", "ol", "li", "pre", "code", "blockquote", "br", "strong", "em", "a"];

fn links(blocks: &[Block], out: &mut Vec<String>) {
    fn inlines(list: &[Inline], out: &mut Vec<String>) {
        for inline in list {
            match inline {
                Inline::Link { url, children } => {
                    out.push(url.clone());
                    inlines(children, out);
                }
                Inline::Citation { url, .. } => out.push(url.clone()),
                Inline::Strong(children) | Inline::Emphasis(children) => inlines(children, out),
                Inline::Text(_) | Inline::Code(_) | Inline::Break => {}
            }
        }
    }
    for block in blocks {
        match block {
            Block::Paragraph(list) | Block::Plain(list) => inlines(list, out),
            Block::List { items, .. } => items.iter().for_each(|item| links(item, out)),
            Block::Quote(blocks) => links(blocks, out),
            Block::Pre(_) => {}
        }
    }
}

fn depth(blocks: &[Block]) -> usize {
    fn inlines(list: &[Inline]) -> usize {
        let nested = |inline: &Inline| match inline {
            Inline::Strong(children) | Inline::Emphasis(children) | Inline::Link { children, .. } => 1 + inlines(children),
            _ => 0,
        };
        list.iter().map(nested).max().unwrap_or(0)
    }
    let nested = |block: &Block| match block {
        Block::Paragraph(list) | Block::Plain(list) => 1 + inlines(list),
        Block::Pre(_) => 1,
        Block::Quote(blocks) => 1 + depth(blocks),
        Block::List { items, .. } => 1 + items.iter().map(|item| depth(item)).max().unwrap_or(0),
    };
    blocks.iter().map(nested).max().unwrap_or(0)
}

/// Checks the rendering of `message`: only the renderer's own tags, no
/// `<` of the message raw, links only `http:`, `https:` or `mailto:`, and
/// nesting no deeper than `MAX_DEPTH`.
fn check(message: &str) -> TestCaseResult {
    let blocks = parse(message, &sources());
    let mut out = String::new();
    html(&blocks, &mut out);
    // Every `<` of the output opens or closes one of the renderer's tags.
    for (at, _) in out.match_indices('<') {
        let name: String = out[at + 1..].trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
        prop_assert!(TAGS.contains(&name.as_str()), "raw <{} in {:?} from {:?}", name, out, message);
    }
    let mut urls = Vec::new();
    links(&blocks, &mut urls);
    for url in urls {
        let lower = url.to_ascii_lowercase();
        prop_assert!(
            lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:"),
            "link to {:?} from {:?}",
            url,
            message
        );
    }
    prop_assert!(depth(&blocks) <= MAX_DEPTH + 1, "{} deep from {:?}", depth(&blocks), message);
    Ok(())
}

#[test]
fn rendering_has_only_the_renderers_tags_and_safe_links() {
    run("markdown_safe_rendering", message(), |message| check(&message));
}

/// Deep nesting of every container and inline kind at once.
#[test]
fn nesting_is_capped_whatever_is_nested() {
    let opener = prop::sample::select(&["> ", "- ", "1. ", "* ", "**", "_", "[", "![", "  - ", "    > "][..]);
    let input = (prop::collection::vec(opener, 1..200), prop::sample::select(&["x", "x](https://a.b)", "**", "_"][..]));
    run("markdown_nesting_capped", input, |(openers, inner)| {
        let message = format!("{}{inner}{}", openers.concat(), openers.iter().rev().map(|o| o.trim()).collect::<String>());
        check(&message)
    });
}

/// Time O(n) on the inputs that make naive Markdown parsers quadratic:
/// long runs of one delimiter, unmatched openers, nested containers.
/// Regressions: `a* a* …` and `_a_ _a_ …` (delimiters removed from the
/// middle of a list) and code-span openers of growing length (each scanned
/// to the end) were quadratic before issue 16.
#[test]
fn parsing_is_linear_on_hostile_runs() {
    // 10,000 of one character, and of the units that were quadratic.
    let cases = ["[", "*", "_", "`", "![", "<a", "> ", "- ", "a* ", "_a_ ", "[a](", "`a``", "1. ", "- a\n  "];
    for unit in cases {
        assert_linear(
            &format!("{unit:?} repeated"),
            40_000,
            |n| unit.repeat(n / unit.len()),
            |text| {
                std::hint::black_box(parse(text, &[]));
            },
        );
    }
    // Code-span openers of ever longer runs, none closed.
    let ladder = |n: usize| {
        (1..).map(|len| "`".repeat(len) + "a").scan(0, move |size, run| {
            *size += run.len();
            (*size <= n).then_some(run)
        })
    };
    assert_linear(
        "unclosed code spans of growing length",
        40_000,
        |n| ladder(n).collect(),
        |text| {
            std::hint::black_box(parse(text, &[]));
        },
    );
}
