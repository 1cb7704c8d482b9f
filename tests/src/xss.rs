//! The XSS corpus (issue 16): hostile texts a visitor or an operator may
//! put in any field another person sees, and the page checks that show
//! none of them became markup.
//!
//! Every payload that could run script sets `window.__xss` (or `top.__xss`
//! from a frame) to its own number, so a browser test asserts that
//! `typeof window.__xss` stays `"undefined"` and, when it does not, names
//! the payload that ran. The others (RTL override, zero-width characters,
//! entities) must show as their exact characters and, for the RTL
//! override, must not reorder the text around them.
//!
//! The payloads follow the usual lists (OWASP's XSS Filter Evasion Cheat
//! Sheet, PortSwigger's XSS cheat sheet): event handlers on `<img>`,
//! `<svg>`, `<details>`; `<script>`; `javascript:`/`data:` URLs in raw HTML
//! and in Markdown links, images and autolinks; `<iframe srcdoc>`; CSS
//! `expression()` and `url(javascript:)`; HTML entities; attribute
//! breakouts; template-literal and `{{}}` injections; a mutation-XSS
//! nesting; Unicode bidi and zero-width characters. Each is at most 120
//! characters, the shortest cap of the fields they go in (display names).

use edgechat_shared::markdown::{self, Block, Inline};

/// One hostile text of the corpus.
#[derive(Debug, Clone, Copy)]
pub struct Payload {
    /// What it tries, e.g. `img onerror`.
    pub name: &'static str,
    /// The text put in a field, at most 120 characters.
    pub text: &'static str,
}

/// The RTL override payload: a file name that reads `Eve exe.jpg` when the
/// override (U+202E) is honoured and not isolated, and reverses whatever
/// text follows it in the same paragraph.
pub const RTL: Payload = Payload { name: "RTL override U+202E", text: "Eve \u{202E}gpj.exe" };

/// The corpus: the payloads every field gets (one each where a field holds
/// several values, the first ones where it holds one).
pub const CORPUS: &[Payload] = &[
    Payload { name: "img onerror", text: "<img src=x onerror=\"window.__xss=1\">" },
    Payload { name: "script", text: "<script>window.__xss=2</script>" },
    Payload { name: "Markdown javascript: link", text: "[click me](javascript:window.__xss=3)" },
    Payload { name: "raw javascript: link", text: "<a href=\"javascript:window.__xss=4\">click me</a>" },
    Payload { name: "svg onload", text: "<svg onload=\"window.__xss=5\"><circle r=\"9\"/></svg>" },
    Payload { name: "iframe srcdoc", text: "<iframe srcdoc=\"<script>top.__xss=6</script>\"></iframe>" },
    Payload { name: "CSS expression()", text: "<div style=\"width: expression(window.__xss=7)\">styled</div>" },
    Payload { name: "style url(javascript:)", text: "<p style=\"background:url('javascript:window.__xss=8')\">bg</p>" },
    Payload { name: "data:text/html link", text: "<a href=\"data:text/html,<script>top.__xss=9</script>\">open</a>" },
    Payload { name: "HTML entities", text: "&lt;img src=x onerror=window.__xss=10&gt; &#60;b&#62;bold&#60;/b&#62; &amp;" },
    Payload { name: "attribute breakout", text: "\"><img src=x onerror=window.__xss=11>" },
    Payload { name: "single-quote breakout", text: "'><svg/onload=window.__xss=12>" },
    Payload { name: "template literal and {{}}", text: "${window.__xss=13} {{constructor.constructor('window.__xss=13')()}} #{7*7}" },
    Payload { name: "Markdown image javascript:", text: "![pic](javascript:window.__xss=14)" },
    Payload { name: "Markdown image alt breakout", text: "![a\" onerror=\"window.__xss=15](https://example.invalid/x.png)" },
    Payload { name: "Markdown link URL breakout", text: "[docs](https://example.com/\"onmouseover=\"window.__xss=16)" },
    Payload { name: "Markdown autolink javascript:", text: "<javascript:window.__xss=17>" },
    Payload { name: "details ontoggle", text: "<details open ontoggle=\"window.__xss=18\"><summary>more</summary></details>" },
    Payload { name: "mutation XSS nesting", text: "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=19>" },
    Payload { name: "zero-width characters", text: "ad\u{200B}min\u{2060}\u{FEFF} <img\u{200B} src=x onerror=window.__xss=20>" },
    Payload { name: "mixed-case javascript: URL", text: "<IMG SRC=\"JaVaScRiPt:window.__xss=21\">" },
    RTL,
];

/// What the Markdown renderer of messages (`edgechat_shared::markdown`,
/// the one both the widget and the console use) shows of `text`: the text
/// content of the blocks it makes, whitespace collapsed, so a browser's
/// `textContent` can be compared with it after [`collapse`].
pub fn markdown_text(text: &str) -> String {
    fn inlines(out: &mut String, all: &[Inline]) {
        for inline in all {
            match inline {
                Inline::Text(text) | Inline::Code(text) => out.push_str(text),
                Inline::Break => out.push(' '),
                Inline::Strong(children) | Inline::Emphasis(children) | Inline::Link { children, .. } => inlines(out, children),
                Inline::Citation { number, .. } => out.push_str(&format!("[{number}]")),
            }
        }
    }
    fn blocks(out: &mut String, all: &[Block]) {
        for block in all {
            match block {
                Block::Paragraph(children) | Block::Plain(children) => inlines(out, children),
                Block::Pre(text) => out.push_str(text),
                Block::Quote(children) => blocks(out, children),
                Block::List { items, .. } => items.iter().for_each(|item| blocks(out, item)),
            }
            out.push(' ');
        }
    }
    let mut out = String::new();
    blocks(&mut out, &markdown::parse(text, &[]));
    collapse(&out)
}

/// `text` with every run of white space (ASCII and Unicode) made one space
/// and trimmed; zero-width and bidi characters are kept.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The JavaScript string literal of `text` (a JSON string is one).
pub fn js_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// A WebDriver script body (the caller's `return` included) answering what
/// a payload made of the page as a list of `tag[attribute=value]` strings,
/// empty when nothing: any element, in the document or any open shadow
/// root, with an `on…` attribute, a `style` attribute or a `script`/`style`
/// text mentioning `__xss` (or `expression(`), a `javascript:`, `vbscript:` or `data:text/html` URL in
/// `href`/`src`/`srcdoc`/`action`/`formaction`/`xlink:href`, or a tag no
/// EdgeChat page makes in a message (`iframe`, `object`, `embed`, `math`,
/// `details`, `mglyph`); and `window.__xss` when it is set.
pub const HOSTILE_JS: &str = r#"
const found = [];
if (typeof window.__xss !== 'undefined') found.push('window.__xss=' + window.__xss);
const urlAttrs = ['href', 'src', 'srcdoc', 'action', 'formaction', 'xlink:href'];
const banned = ['iframe', 'object', 'embed', 'math', 'details', 'mglyph'];
const visit = (root) => {
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (banned.includes(tag)) found.push(tag);
    if ((tag === 'script' || tag === 'style') && el.textContent.includes('__xss')) found.push(tag + ' text');
    for (const a of el.attributes) {
      const name = a.name.toLowerCase(), value = a.value.replace(/[\s\u0000-\u001f]+/g, '').toLowerCase();
      if (name.startsWith('on') || (name === 'style' && (value.includes('__xss') || value.includes('expression(')))
          || (urlAttrs.includes(name) && /^(javascript:|vbscript:|data:text\/html)/.test(value))) {
        found.push(tag + '[' + a.name + '=' + a.value + ']');
      }
    }
    if (el.shadowRoot) visit(el.shadowRoot);
  }
};
visit(document);
return found;
"#;
