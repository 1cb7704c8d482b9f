//! The hand-written parser against pulldown-cmark ([`super::oracle`]): the
//! same tree for the subset, and the deliberate simplifications spelled out.

use crate::api::stream::Source;

use super::{oracle, parse, Block, Inline, MAX_DEPTH};

/// Messages of the subset, alone and combined, and answers the way LLMs
/// and operators write them.
const CORPUS: &[&str] = &[
    // Paragraphs and line breaks.
    "Hello! How can I help you today?",
    "First paragraph.\n\nSecond paragraph.",
    "one\ntwo\n  three with indent\nfour",
    "trailing spaces  \nmake a break\\\nand so does a backslash",
    "  indented by two\n\n\n\nafter many blank lines   ",
    // Emphasis.
    "**Bold** and *italic* and __strong__ and _em_ and ***both***",
    "snake_case_names and __init__ and file_name_here.txt stay text",
    "2*3*4 = 24, a * b, and ** alone",
    "*emphasis with **strong** inside* and **strong with *em* inside**",
    "**unclosed bold and *unclosed em",
    "_*mixed*_ and *_mixed_* and **a**b and a**b**",
    "**Note:** the price is $5*2",
    "intra*word*emphasis and intra_word_underscore",
    "*a **b* c**",
    "***strong em*** then **bold***em*",
    "punctuation: \"*quoted*\" and (*parens*) and *end*.",
    // Code.
    "Run `npm install` then `npm start`.",
    "``code with ` backtick`` and ` spaced ` and `` ` ``",
    "an `unclosed code span and *emphasis*",
    "`**not bold**` and `[not](https://a.link)`",
    "```\nplain fence\n```",
    "```rust\nfn main() {\n    println!(\"hi\");\n}\n```",
    "~~~python\nprint('*not em*')\n~~~\n\nafter",
    "````\n```\nnested fence\n```\n````",
    "```js\nunclosed fence\n\nto the end",
    "text before\n```\ncode right after\n```\ntext after",
    "  ```\n  indented fence\n    more\n  ```",
    // Links and images.
    "[docs](https://example.com/docs) and [mail](mailto:help@example.com)",
    "[titled](https://example.com \"The title\") and [single](https://example.com 'x') and [paren](https://example.com (y))",
    "[bad](javascript:alert(1)) [rel](/relative) [data](data:text/html,x)",
    "[parens](https://en.wikipedia.org/wiki/Rust_(programming_language)) next",
    "[pointy](<https://example.com/a b>) and [empty]()",
    "[**bold link**](https://example.com) and **[link in bold](https://example.com)**",
    "[not a link] and [also not](missing paren and ]",
    "![screenshot](https://example.com/a.png) and ![](https://example.com/b.png)",
    "[![badge](https://example.com/b.svg)](https://example.com)",
    "[outer [inner](https://a.example) text](https://b.example)",
    "<https://example.com/auto> and <help@example.com> and <javascript:alert(1)>",
    "a <b>tag</b> and <not an autolink> and 1 < 2 > 0",
    "[escaped \\] bracket](https://example.com/\\_x)",
    "https://example.com/bare stays text",
    // Citations.
    "Paste the tag [1]. See also [2] and [3].",
    "**Install it** [1], then restart [1][1].",
    "[the docs](https://example.com) [1]",
    // Escapes.
    "\\*not em\\* and \\_not em\\_ and \\`not code\\` and \\[not link\\]",
    "a backslash \\ alone and \\a letter and C:\\Users\\me",
    "\\# not a heading\n\n\\- not a list\n\n1\\. not ordered",
    // Headings and rules.
    "# Title\n\nSome text",
    "## Heading with **bold** and `code` ##\n###### six\n####### seven",
    "#no space is text\n\n#\n\n# closing #s #####",
    "Setext heading\n===\n\nAnother\n---\n\ntext",
    "Above\n\n---\n\nBelow\n\n***\n___",
    // Block quotes.
    "> quoted text\n> on two lines",
    "> quote\nlazy continuation\n\nafter",
    "> outer\n>> inner\n> back",
    "> - list in quote\n> - second\n>\n> paragraph",
    "> ```\n> code in quote\n> ```",
    // Lists.
    "- one\n- two\n- three",
    "* star\n* list\n\n+ plus\n+ list",
    "1. first\n2. second\n3. third",
    "3) three\n4) four",
    "1. one\n1. one again\n1. and again",
    "- a\n- b\n\n- c loose",
    "- a\n\n  continued paragraph\n- b",
    "- parent\n  - child\n    - grandchild\n  - child two\n- parent two",
    "1. step\n   - detail\n   - detail\n2. step",
    "- item\nlazy line\n- item",
    "paragraph\n- list interrupts\n- it",
    "paragraph\n2. ordered does not interrupt",
    "- a\n+ b\n* c",
    "1. a\n2) b",
    "-\n  empty first line\n- \n- x",
    "-not a list\n1.not a list either",
    "10. ten\n11. eleven\n\n123456789. nine digits",
    "- a\n  - b\n\n  c",
    "- a\n  - b\n\n- c",
    "- one\n\n\n- two",
    "* * *\n- - -\n- item",
    "- # heading in item\n- > quote in item",
    "- ```\n  code in item\n  ```\n- next",
    "  - indented two\n  - spaces",
    // Realistic answers.
    "To install the widget:\n\n1. **Copy** the snippet from *Settings → Install*.\n2. Paste it before `</body>`:\n\n   ```html\n   <script src=\"https://cdn.example.com/loader.js\" data-site-key=\"sk_123\"></script>\n   ```\n\n3. Reload the page. You should see the chat bubble [1].",
    "Here are the options:\n\n- **Basic**: $9/month, 1 operator\n- **Pro**: $29/month\n  - unlimited operators\n  - CSAT reports\n- **Enterprise**: [contact sales](mailto:sales@example.com)",
    "You can change the colour in **Settings → Appearance** [1]. If it doesn't apply:\n\n* clear the cache,\n* check that `data-color` is a hex value like `#0a84ff`,\n* and reload.\n\nSee [the guide](https://example.com/guide \"Appearance guide\") for details [2].",
    "Sure! Here's an example config:\n\n```json\n{\n  \"color\": \"#0a84ff\",\n  \"position\": \"bottom-right\"\n}\n```\n\nThen call `EdgeChat.init(config)`.",
    "The error `ERR_BLOCKED_BY_CLIENT` usually means an ad blocker.\n\n> **Tip:** whitelist `cdn.example.com`.\n\nIf the problem persists, contact support@example.com.",
    "1. Open the dashboard\n2. Go to *Operators* → *Invite*\n3. Enter the email address\n   and click **Send**\n\nThe invite expires after 7 days.",
    "**Short answer:** yes.\n\n**Longer answer:** the widget works on any site that can include a `<script>` tag; for SPAs, call `EdgeChat.mount()` after each route change [1].",
    "Steps:\n1. Install\n2. Configure\n\nDone!",
    "Thanks for waiting — I've checked your account.\n\nYour plan renews on **March 3**. Would you like to:\n\n- upgrade now, or\n- keep the current plan?",
    "## Troubleshooting\n\n### The bubble does not appear\n\n- Check the console for errors.\n- Make sure the site key (`sk_…`) matches.\n\n### Messages are not delivered\n\nRestart the worker: `wrangler deploy`.",
];

fn sources() -> Vec<Source> {
    let source = |title: &str, url: Option<&str>| Source { id: title.to_lowercase(), title: title.into(), url: url.map(Into::into) };
    vec![source("Install", Some("https://example.com/install")), source("Offline", None), source("Bad", Some("javascript:x"))]
}

#[test]
fn subset_parses_like_commonmark() {
    assert!(CORPUS.len() >= 60, "{} messages", CORPUS.len());
    let sources = sources();
    let failures: Vec<String> = CORPUS
        .iter()
        .filter_map(|message| {
            let (ours, oracle) = (parse(message, &sources), oracle::parse(message, &sources));
            (ours != oracle).then(|| format!("{message:?}\n  ours:   {ours:?}\n  oracle: {oracle:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), CORPUS.len(), failures.join("\n"));
}
/// Where the hand-written parser deliberately differs from pulldown-cmark:
/// CommonMark rules it simplifies, and three pulldown-cmark quirks where it
/// follows the spec instead. Each message, what we make of it, and a check
/// that pulldown-cmark does differ.
#[test]
fn deliberate_simplifications_of_commonmark() {
    use Block::*;
    use Inline::*;
    let text = |s: &str| Text(s.to_string());
    let cases: Vec<(&str, Vec<Block>)> = vec![
        // No HTML blocks: a tag starting a line starts a paragraph.
        ("<div>\n*hi*\n</div>", vec![Paragraph(vec![text("<div>\n"), Emphasis(vec![text("hi")]), text("\n</div>")])]),
        // No inline HTML: markup inside a tag is parsed.
        ("<span title=\"*x*\">", vec![Paragraph(vec![text("<span title=\""), Emphasis(vec![text("x")]), text("\">")])]),
        // No link reference definitions or reference links.
        (
            "[docs]\n\n[docs]: https://example.com",
            vec![Paragraph(vec![text("[docs]")]), Paragraph(vec![text("[docs]: https://example.com")])],
        ),
        // No entity or numeric character references.
        ("AT&amp;T &copy; &#169;", vec![Paragraph(vec![text("AT&amp;T &copy; &#169;")])]),
        // A tab is four columns wherever it stands: here, indented code in the item.
        ("- \tcode", vec![List { start: None, items: vec![vec![Pre("code".into())]] }]),
        // A lone `\r` does not end a line.
        ("one\rtwo", vec![Paragraph(vec![text("one\rtwo")])]),
        // Punctuation for emphasis is ASCII's and the common blocks': `™` (letterlike symbols) is a letter.
        ("x*™y*z", vec![Paragraph(vec![text("x"), Emphasis(vec![text("™y")]), text("z")])]),
        // Two paragraphs of a tight item around a thematic break stay two
        // (pulldown-cmark's events merge them; the DOM is the same).
        ("- a\n  ***\n  b", vec![List { start: None, items: vec![vec![Plain(vec![text("a")]), Plain(vec![text("b")])]] }]),
        // pulldown-cmark keeps a continuation line's indentation in a code span; the spec strips it.
        ("`a\n  b`", vec![Paragraph(vec![Code("a b".into())])]),
        // pulldown-cmark drops a last line of spaces from an unclosed fence.
        ("```\ncode\n  ", vec![Pre("code\n  ".into())]),
        // pulldown-cmark shows the `\\` of a hard break that ends a link's text after emphasis.
        (
            "[a *b*\\\n](https://example.com)",
            vec![Paragraph(vec![Link { url: "https://example.com".into(), children: vec![text("a "), Emphasis(vec![text("b")]), Break] }])],
        ),
    ];
    for (message, simplified) in cases {
        assert_eq!(parse(message, &[]), simplified, "{message:?}");
        assert_ne!(oracle::parse(message, &[]), simplified, "{message:?} is no simplification");
    }
}

/// `count` pseudo-random messages over the characters of the subset's
/// markup and a few letters (xorshift; the same every run).
fn random_messages(count: usize) -> impl Iterator<Item = String> {
    let alphabet: Vec<char> = "*_`[]()!#>-+ 1.\n\\`~<>ahttps:/".chars().collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    (0..count).map(move |_| {
        let len = next(64);
        (0..len).map(|_| alphabet[next(alphabet.len())]).collect()
    })
}

/// The letters a reader sees: text, code, link text (not link URLs).
fn shown_letters(blocks: &[Block]) -> String {
    fn inlines(list: &[Inline], out: &mut String) {
        for inline in list {
            match inline {
                Inline::Text(s) | Inline::Code(s) => out.extend(s.chars().filter(char::is_ascii_alphabetic)),
                Inline::Strong(children) | Inline::Emphasis(children) | Inline::Link { children, .. } => inlines(children, out),
                Inline::Break | Inline::Citation { .. } => {}
            }
        }
    }
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Paragraph(i) | Block::Plain(i) => inlines(i, &mut out),
            Block::Pre(s) => out.extend(s.chars().filter(char::is_ascii_alphabetic)),
            Block::Quote(blocks) => out.push_str(&shown_letters(blocks)),
            Block::List { items, .. } => items.iter().for_each(|item| out.push_str(&shown_letters(item))),
        }
    }
    out
}

/// How many letters of `message` may be markup: those from a `](` to the
/// end of the next line (link destinations and titles) and those on a
/// line with a code fence (info strings).
fn markup_letters(message: &str) -> usize {
    let lines: Vec<&str> = message.split('\n').collect();
    let mut markup = vec![false; lines.len()];
    for (n, line) in lines.iter().enumerate() {
        if line.contains("```") || line.contains("~~~") {
            markup[n] = true;
        }
        if line.contains("](") {
            markup[n] = true;
            if let Some(next) = markup.get_mut(n + 1) {
                *next = true;
            }
        }
    }
    lines.iter().zip(markup).filter(|(_, markup)| *markup).map(|(line, _)| line.chars().filter(char::is_ascii_alphabetic).count()).sum()
}

fn is_subsequence(part: &str, whole: &str) -> bool {
    let mut whole = whole.chars();
    part.chars().all(|c| whole.any(|w| w == c))
}

#[test]
fn any_message_parses_and_keeps_its_letters() {
    let sources = sources();
    for message in random_messages(5000) {
        let letters: String = message.chars().filter(char::is_ascii_alphabetic).collect();
        let shown = shown_letters(&parse(&message, &sources));
        assert!(is_subsequence(&shown, &letters), "{message:?}: {shown:?} is not from {letters:?}");
        assert!(shown.len() + markup_letters(&message) >= letters.len(), "{message:?}: only {shown:?} of {letters:?} shown");
    }
}

/// How deep blocks and inlines nest in `blocks`.
fn depth(blocks: &[Block]) -> usize {
    fn inlines(list: &[Inline]) -> usize {
        list.iter()
            .map(|inline| match inline {
                Inline::Strong(children) | Inline::Emphasis(children) | Inline::Link { children, .. } => 1 + inlines(children),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
    blocks
        .iter()
        .map(|block| match block {
            Block::Paragraph(i) | Block::Plain(i) => 1 + inlines(i),
            Block::Pre(_) => 1,
            Block::Quote(blocks) => 1 + depth(blocks),
            Block::List { items, .. } => 1 + items.iter().map(|item| depth(item)).max().unwrap_or(0),
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn hostile_messages_parse_shallow_and_keep_their_letters() {
    let messages = [
        format!("{}deep", "> ".repeat(5000)),
        format!("{}deep", "- ".repeat(5000)),
        format!("{}deep", "1. ".repeat(5000)),
        (0..300).map(|n| format!("{}- deep\n", " ".repeat(n * 2))).collect(),
        format!("{}deep{}", "*".repeat(5000), "*".repeat(5000)),
        format!("{}deep{}", "_*".repeat(3000), "*_".repeat(3000)),
        format!("{}deep{}", "[".repeat(5000), "](https://example.com)".repeat(5000)),
        format!("{}deep", "![".repeat(5000)),
        format!("[deep]({}", "(".repeat(5000)),
        "`a``".repeat(2500),
        "<a".repeat(5000),
    ];
    for message in messages {
        let blocks = parse(&message, &[]);
        assert!(depth(&blocks) <= MAX_DEPTH, "{:?}…: {} deep", &message[..20], depth(&blocks));
        let letters: String = message.chars().filter(char::is_ascii_alphabetic).collect();
        let shown = shown_letters(&blocks);
        assert!(shown.len() + markup_letters(&message) >= letters.len(), "{:?}…: lost letters", &message[..20]);
    }
}
