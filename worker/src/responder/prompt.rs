//! The prompt of the language-model responders (`openai`, `workers-ai`):
//! the site's instructions, the top knowledge-base passages numbered for
//! citation, and the recent conversation, within a token budget.
//!
//! Tokens are estimated as one per 4 characters (OpenAI's rule of thumb for
//! English); the estimate only decides what is left out, so it errs on the
//! side of a shorter prompt.

use edgechat_shared::api::stream::Source;
use edgechat_shared::api::Role;
use edgechat_shared::texts::Lang;
use serde::{Deserialize, Serialize};

/// Prompt tokens by default (`AI_PROMPT_TOKENS`): room for a few passages
/// and turns while leaving most of an 8k-context model for the answer.
pub const DEFAULT_PROMPT_TOKENS: usize = 3_000;

/// Most characters of one passage in the prompt.
const MAX_PASSAGE_CHARS: usize = 2_400;

/// Most earlier messages considered for the conversation part.
pub const MAX_HISTORY_MESSAGES: usize = 20;

/// The instructions used when the site has none.
pub const DEFAULT_INSTRUCTIONS: &str = "You are the support assistant of this website. Be friendly, brief and precise.";

/// The grounding rules appended to every site's instructions.
const GROUNDING_RULES: &str = "Answer the visitor's question using only the knowledge-base passages below. \
Cite each passage you use by its number in square brackets, like [1]. \
If the passages do not answer the question, say that you are not sure and offer to connect the visitor with a person from the team; never invent facts, prices or links. \
Answer in the visitor's language. You may use Markdown: short paragraphs, lists, bold, italics, inline code and links.";

/// One message of an OpenAI-style chat (`{"role":"system"|"user"|"assistant","content":"…"}`),
/// the shape both OpenAI-compatible servers and Workers AI take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatTurn {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatTurn {
    fn new(role: &str, content: impl Into<String>) -> ChatTurn {
        ChatTurn { role: role.to_string(), content: content.into() }
    }
}

/// A knowledge-base passage offered to the model, cited as `[n]` by its
/// 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// The article it comes from.
    pub source: Source,
    /// The passage text.
    pub text: String,
}

/// The visitor's question and the language they write in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Question<'a> {
    /// The question's text.
    pub text: &'a str,
    /// The visitor's language (BCP 47, e.g. `fr-CA`), when the widget named one.
    pub lang: Option<&'a str>,
}

/// The system prompt's line naming the visitor's language: by name for the
/// server's languages ([`Lang`]), by tag for any other.
fn language_rule(tag: &str) -> String {
    let lang = Lang::from_tag(Some(tag));
    if lang.code().eq_ignore_ascii_case(tag.split('-').next().unwrap_or_default()) {
        format!("The visitor's language is {} ({tag}): always answer in {}.", lang.english_name(), lang.english_name())
    } else {
        format!("The visitor's language is the BCP 47 language tag \"{tag}\": always answer in that language.")
    }
}

/// An earlier message of the conversation: `visitor`, `ai` or `operator`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Turn {
    /// Who wrote it (the `role` column).
    pub role: Role,
    /// The text.
    pub content: String,
}

/// Estimated tokens of `text`: one per 4 characters, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// Builds the chat messages: one `system` message (instructions, grounding
/// rules, the visitor's language when known, passages), then the newest earlier turns that fit the budget
/// (oldest first; visitor turns as `user`, AI and operator turns as
/// `assistant`; empty ones skipped), then the question as `user`. Passages
/// that do not fit are left out from the last; the question is always
/// included. Answers the messages and how many passages they hold (the
/// first ones of `passages`).
pub fn build(
    instructions: Option<&str>,
    passages: &[Passage],
    history: &[Turn],
    question: &Question<'_>,
    budget: usize,
) -> (Vec<ChatTurn>, usize) {
    let instructions = instructions.map(str::trim).filter(|i| !i.is_empty()).unwrap_or(DEFAULT_INSTRUCTIONS);
    let language = question.lang.map(|tag| format!(" {}", language_rule(tag))).unwrap_or_default();
    let mut system = format!("{instructions}\n\n{GROUNDING_RULES}{language}\n\nKnowledge-base passages:");
    let question = question.text;
    let mut left = budget.saturating_sub(estimate_tokens(&system) + estimate_tokens(question));
    let mut included = 0;
    for (i, passage) in passages.iter().enumerate() {
        let text: String = passage.text.chars().take(MAX_PASSAGE_CHARS).collect();
        let block = format!("\n\n[{}] {}\n{}", i + 1, passage.source.title, text.trim());
        let cost = estimate_tokens(&block);
        if cost > left {
            break;
        }
        left -= cost;
        system.push_str(&block);
        included += 1;
    }
    if included == 0 {
        system.push_str("\n\n(none found: say you are not sure and offer a person)");
    }
    let mut earlier = Vec::new();
    for turn in history.iter().rev().take(MAX_HISTORY_MESSAGES) {
        if turn.content.trim().is_empty() {
            continue; // an attachment alone: nothing to say
        }
        let cost = estimate_tokens(&turn.content);
        if cost > left {
            break;
        }
        left -= cost;
        let role = if turn.role == Role::Visitor { "user" } else { "assistant" };
        earlier.push(ChatTurn::new(role, turn.content.clone()));
    }
    earlier.reverse();
    let mut turns = vec![ChatTurn::new("system", system)];
    turns.extend(earlier);
    turns.push(ChatTurn::new("user", question));
    (turns, included)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str, text: &str) -> Passage {
        Passage { source: Source { id: id.into(), title: format!("Title of {id}"), url: None }, text: text.into() }
    }

    fn ask(text: &str) -> Question<'_> {
        Question { text, lang: None }
    }

    fn turn(role: &str, content: &str) -> Turn {
        Turn { role: Role::parse(role).expect("a stored role"), content: content.into() }
    }

    #[test]
    fn the_prompt_holds_instructions_numbered_passages_history_and_the_question() {
        let passages = [passage("a", "Paste the script tag."), passage("b", "Open settings.")];
        let history = [turn("visitor", "hi"), turn("ai", "Hello!"), turn("operator", "Ann here")];
        let (turns, included) = build(Some("Be a pirate."), &passages, &history, &ask("How do I install it?"), 3_000);
        assert_eq!(included, 2);
        let roles: Vec<&str> = turns.iter().map(|t| t.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "assistant", "user"]);
        let system = &turns[0].content;
        assert!(system.starts_with("Be a pirate."), "{system}");
        assert!(system.contains("[1] Title of a\nPaste the script tag."), "{system}");
        assert!(system.contains("[2] Title of b\nOpen settings."), "{system}");
        assert!(system.contains("square brackets"), "the model is asked to cite: {system}");
        assert_eq!(turns.last().unwrap().content, "How do I install it?");
    }

    #[test]
    fn without_site_instructions_the_default_ones_are_used() {
        let (turns, _) = build(None, &[], &[], &ask("q"), 3_000);
        assert!(turns[0].content.starts_with(DEFAULT_INSTRUCTIONS));
        assert!(turns[0].content.contains("none found"));
        let (turns, _) = build(Some("  "), &[], &[], &ask("q"), 3_000);
        assert!(turns[0].content.starts_with(DEFAULT_INSTRUCTIONS));
    }

    #[test]
    fn a_small_budget_drops_old_turns_and_late_passages_but_keeps_the_question() {
        let long = "word ".repeat(400); // 500 tokens
        let passages = [passage("a", "short"), passage("b", &long)];
        let history = [turn("visitor", &long), turn("ai", "recent answer")];
        let (turns, included) = build(None, &passages, &history, &ask("the question"), 300);
        let system = &turns[0].content;
        assert_eq!(included, 1);
        assert!(system.contains("[1] Title of a"));
        assert!(!system.contains("[2]"), "the long passage does not fit");
        assert_eq!(turns.len(), 3, "only the recent turn fits: {turns:?}");
        assert_eq!(turns[1].content, "recent answer");
        assert_eq!(turns[2].content, "the question");
        let total: usize = turns.iter().map(|t| estimate_tokens(&t.content)).sum();
        assert!(total <= 300, "{total} tokens");
    }

    #[test]
    fn an_empty_turn_does_not_hide_older_ones() {
        let history = [turn("visitor", "first question"), turn("ai", "first answer"), turn("visitor", "  ")];
        let (turns, _) = build(None, &[], &history, &ask("next"), 3_000);
        let contents: Vec<&str> = turns.iter().skip(1).map(|t| t.content.as_str()).collect();
        assert_eq!(contents, ["first question", "first answer", "next"]);
    }

    #[test]
    fn the_model_is_told_the_visitors_language_when_the_widget_names_it() {
        let (turns, _) = build(None, &[], &[], &Question { text: "Livrez-vous au Canada ?", lang: Some("fr-CA") }, 3_000);
        assert!(turns[0].content.contains("The visitor's language is French (fr-CA): always answer in French."), "{}", turns[0].content);
        let (turns, _) = build(None, &[], &[], &Question { text: "Vocês entregam?", lang: Some("pt-BR") }, 3_000);
        assert!(turns[0].content.contains("language tag \"pt-BR\": always answer in that language"), "{}", turns[0].content);
        let (turns, _) = build(None, &[], &[], &ask("q"), 3_000);
        assert!(!turns[0].content.contains("The visitor's language"), "no language named: the model follows the visitor");
    }

    #[test]
    fn tokens_are_estimated_at_four_characters_each() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
    }
}
