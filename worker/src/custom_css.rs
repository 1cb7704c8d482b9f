//! A site's custom CSS (issue 15): applied inside the widget's shadow root,
//! so it must be CSS that styles and does nothing else: no request to
//! another server, no script, no markup.
//!
//! The text is read with the `cssparser` tokenizer (Servo's, CSS Syntax
//! Level 3, <https://www.w3.org/TR/css-syntax-3/>) down every block and
//! function. It is refused when it holds
//! - an at-rule other than `@media`, `@supports`, `@keyframes` (and its
//!   `-webkit-` form) and `@container` (`@import`, `@font-face`, `@namespace`…);
//! - `url(…)`, `src(…)`, `image-set(…)` whose target is not a `data:image/` URL
//!   (a string or an unquoted URL; a `var()` there is refused, as its value
//!   cannot be checked);
//! - `expression(…)`, `-moz-binding`, `behavior` (script in old browsers);
//! - any token the CSS syntax calls a parse error (bad string, bad URL,
//!   an unmatched `)`, `]` or `}`), a block left open, `<` (`</style>`)
//!   or the HTML comment markers `<!--` and `-->`;
//! - blocks or functions nested deeper than [`MAX_DEPTH`] (the walk recurses
//!   once per level: 16 KiB of `(` would exhaust the worker's stack).

use cssparser::{ParseError, Parser, ParserInput, Token};
use edgechat_shared::error::FieldError;

/// At-rules a site's CSS may hold (lower case).
const ALLOWED_AT_RULES: &[&str] = &["media", "supports", "keyframes", "-webkit-keyframes", "container"];

/// Functions whose arguments name an image or font to load.
const URL_FUNCTIONS: &[&str] = &["url", "src", "image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade"];

/// Properties and functions that run script in some browser.
const SCRIPT_NAMES: &[&str] = &["expression", "-moz-binding", "behavior", "-ms-behavior"];

/// How deep blocks and functions may nest (real style sheets use < 10).
pub const MAX_DEPTH: usize = 32;

/// Checks a site's custom CSS; answers 422 `custom_css` naming the first
/// refused construct (see the module's rules).
pub fn check(css: &str) -> Result<(), FieldError> {
    let mut input = ParserInput::new(css);
    let mut parser = Parser::new(&mut input);
    walk(&mut parser, false, 0).map_err(|refusal| FieldError::new("custom_css", format!("custom_css: {refusal}")))
}

/// Why a text is refused.
type Refusal = String;

/// Reads every token of `parser`'s level and of the blocks inside it;
/// `in_url` is set inside a function that loads a resource; `depth` counts
/// the blocks around this level.
fn walk<'i>(parser: &mut Parser<'i, '_>, in_url: bool, depth: usize) -> Result<(), Refusal> {
    loop {
        let token = match parser.next_including_whitespace_and_comments() {
            Ok(token) => token.clone(),
            Err(_) => return Ok(()),
        };
        match &token {
            Token::AtKeyword(name) if !ALLOWED_AT_RULES.iter().any(|a| name.eq_ignore_ascii_case(a)) => {
                return Err(format!("@{name} is not allowed (only @media, @supports, @keyframes and @container)"));
            }
            Token::Ident(name) | Token::Function(name) if SCRIPT_NAMES.iter().any(|s| name.eq_ignore_ascii_case(s)) => {
                return Err(format!("{name} is not allowed"));
            }
            Token::UnquotedUrl(target) => data_image(target)?,
            Token::QuotedString(target) if in_url => data_image(target)?,
            Token::Function(name) if in_url && name.eq_ignore_ascii_case("var") => {
                return Err("var() inside url(), src() or image-set() is not allowed".into());
            }
            Token::BadUrl(_) => return Err("a malformed url(…)".into()),
            Token::BadString(_) => return Err("a string broken by a new line".into()),
            Token::CloseParenthesis | Token::CloseSquareBracket | Token::CloseCurlyBracket => {
                return Err(format!("an unmatched '{}'", closer(&token)));
            }
            Token::Delim('<') | Token::CDO | Token::CDC => return Err("markup ('<', '<!--' or '-->') is not CSS".into()),
            _ => {}
        }
        if let Token::Function(_) | Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock = token {
            let loads = in_url || matches!(&token, Token::Function(name) if URL_FUNCTIONS.iter().any(|f| name.eq_ignore_ascii_case(f)));
            if depth >= MAX_DEPTH {
                return Err(format!("blocks nested deeper than {MAX_DEPTH} levels"));
            }
            nested(parser, &token, loads, depth + 1)?;
        }
    }
}

/// Walks the block or function `opened` just opened; refuses it when the
/// text ends before its closing token.
fn nested<'i>(parser: &mut Parser<'i, '_>, opened: &Token<'i>, in_url: bool, depth: usize) -> Result<(), Refusal> {
    let mut inner_end = 0;
    parser
        .parse_nested_block(|inner| {
            let walked = walk(inner, in_url, depth);
            inner_end = inner.position().byte_index();
            walked.map_err(|refusal| inner.new_custom_error::<Refusal, Refusal>(refusal))
        })
        .map_err(|err: ParseError<'i, Refusal>| match err.kind {
            cssparser::ParseErrorKind::Custom(refusal) => refusal,
            cssparser::ParseErrorKind::Basic(_) => "unreadable CSS".into(),
        })?;
    // A closed block ends past its closing token; one cut off by the end of the text does not.
    if parser.position().byte_index() == inner_end {
        return Err(format!("a '{}' is never closed", opener(opened)));
    }
    Ok(())
}

/// Accepts a `data:image/…` URL only.
fn data_image(target: &str) -> Result<(), Refusal> {
    // The URL parser strips only C0 controls and spaces (WHATWG URL), not
    // every Unicode space `str::trim` does: `\a0 data:…` is a relative URL.
    let scheme_and_type = target.trim_matches(|c: char| c <= ' ').get(..11).unwrap_or_default();
    if scheme_and_type.eq_ignore_ascii_case("data:image/") {
        Ok(())
    } else {
        Err(format!("url({}) is not allowed: only data:image/ URLs", target.chars().take(80).collect::<String>()))
    }
}

/// The text of a closing token.
fn closer(token: &Token) -> char {
    match token {
        Token::CloseParenthesis => ')',
        Token::CloseSquareBracket => ']',
        _ => '}',
    }
}

/// The text that opened a block or function.
fn opener(token: &Token) -> String {
    match token {
        Token::Function(name) => format!("{name}("),
        Token::ParenthesisBlock => "(".into(),
        Token::SquareBracketBlock => "[".into(),
        _ => "{".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(css: &str) -> String {
        check(css).expect_err(css).message
    }

    #[test]
    fn plain_css_with_media_supports_keyframes_container_and_data_images_is_accepted() {
        let css = r#"
            /* brand */
            .ec-launcher { background: #0a7; border-radius: 12px; }
            .ec-panel > header::after { content: "}{ <not markup> in a string"; }
            @media (max-width: 480px) { .ec-panel { inset: 0; } }
            @supports (display: grid) and (not (display: inline-grid)) { .ec-list { display: grid; } }
            @keyframes pop { from { opacity: 0 } to { opacity: 1 } }
            @container (min-width: 400px) { .ec-msg { max-width: 60ch; } }
            .ec-avatar { background-image: url(data:image/png;base64,iVBORw0KGgo=); }
            .ec-logo { background: URL("data:image/svg+xml;utf8,<svg/>") no-repeat; }
            .ec-hero { background-image: image-set("data:image/png;base64,AAAA" 1x, url(data:image/png;base64,BBBB) 2x); }
            [data-state="open"] .ec-x { color: var(--ec-ink, #111827); }
        "#;
        assert_eq!(check(css), Ok(()));
        assert_eq!(check(""), Ok(()));
    }

    #[test]
    fn nesting_past_the_depth_cap_is_refused_not_a_stack_overflow() {
        let deep = |n: usize| format!("a{{{}{}}}", "(".repeat(n), ")".repeat(n));
        assert_eq!(check(&deep(MAX_DEPTH - 1)), Ok(()));
        assert!(refused(&deep(MAX_DEPTH)).contains("nested deeper"));
        // 16 KiB of openers (the size cap) is refused at once.
        assert!(refused(&deep(8_000)).contains("nested deeper"));
        assert!(refused(&"[".repeat(16_000)).contains("nested deeper"));
    }

    #[test]
    fn a_data_url_behind_a_unicode_space_is_a_relative_url_and_refused() {
        assert!(refused("a { background: url(\"\u{a0}data:image/png,x\") }").contains("only data:image/"));
        assert!(refused("a { background: image(\"https://evil.example/x.png\") }").contains("only data:image/"));
        assert_eq!(check("a { background: url(\" data:image/png,x\") }"), Ok(()));
    }

    #[test]
    fn at_rules_other_than_the_four_are_refused() {
        assert!(refused("@import url(data:image/png;base64,AA);").contains("@import"));
        assert!(refused("@font-face { font-family: x; }").contains("@font-face"));
        assert!(refused("@namespace svg url(http://www.w3.org/2000/svg);").contains("@namespace"));
        assert!(refused("@media screen { @page { margin: 0 } }").contains("@page"), "nested too");
        assert!(refused("@IMPORT 'x.css';").contains("@IMPORT"), "in any case");
    }

    #[test]
    fn urls_load_only_data_images() {
        assert!(refused("a { background: url(https://evil.example/x.png) }").contains("https://evil.example/x.png"));
        assert!(refused("a { background: url('https://evil.example/x.png') }").contains("https://"));
        assert!(refused("a { background: url(data:text/html,<b>) }").contains("data:text/html"));
        assert!(refused("a { background: image-set('https://evil.example/a.png' 1x) }").contains("https://"));
        assert!(refused("a { background: -webkit-image-set(url(//evil.example/a.png) 1x) }").contains("//evil"));
        assert!(refused("a { background: src('https://evil.example/a.png') }").contains("https://"));
        assert!(
            refused("a { background: u\\72 l(https://evil.example/x.png) }").contains("https://"),
            "escapes are read as the browser reads them"
        );
        assert!(refused("a { --u: 'https://evil.example'; background: src(var(--u)) }").contains("var()"));
        assert!(refused("a { background: url(javascript:alert(1)) }").contains("url("));
    }

    #[test]
    fn script_constructs_are_refused() {
        assert!(refused("a { width: expression(alert(1)) }").contains("expression"));
        assert!(refused("a { -moz-binding: url(data:image/png;base64,AA) }").contains("-moz-binding"));
        assert!(refused("a { behavior: url(data:image/png;base64,AA) }").contains("behavior"));
        assert!(refused("a { BEHAVIOR: x }").contains("BEHAVIOR"));
    }

    #[test]
    fn what_is_not_css_is_refused() {
        assert!(refused("</style><script>alert(1)</script>").contains("markup"));
        assert!(refused("<!-- a { color: red } -->").contains("markup"));
        assert!(refused("a { content: \"broken\n string\" }").contains("string"));
        assert!(refused("a { color: red } }").contains("unmatched '}'"));
        assert!(refused("a { color: red ").contains("never closed"));
        assert!(refused("a { background: url(x y) }").contains("malformed url"));
    }
}
