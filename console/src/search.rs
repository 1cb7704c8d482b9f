//! Message search in the inbox header (`GET /v1/chat/messages/search?q=`,
//! seed 002): results with the conversation, the time and a snippet whose
//! highlights are `<mark>` elements built from the API's markers — text
//! nodes only, never HTML, so a message containing `<b>x</b>` shows those
//! characters. A result opens its conversation at the message
//! (`/app/conversations/{id}?message={message_id}`).

use edgechat_shared::api::messages::{SearchHit, SearchResults, HIGHLIGHT_END, HIGHLIGHT_START};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::inbox::Inbox;
use crate::{api, ui};

/// `text` cut into `(piece, highlighted)` runs: by `ranges` (character
/// offsets) when there are any, else by the STX/ETX markers in `text`.
pub fn segments(text: &str, ranges: &[[usize; 2]]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut push = |c: char, on: bool| match out.last_mut() {
        Some((piece, last)) if *last == on => piece.push(c),
        _ => out.push((c.to_string(), on)),
    };
    if ranges.is_empty() {
        let mut on = false;
        for c in text.chars() {
            match c {
                HIGHLIGHT_START => on = true,
                HIGHLIGHT_END => on = false,
                c => push(c, on),
            }
        }
    } else {
        for (i, c) in text.chars().enumerate() {
            push(c, ranges.iter().any(|[start, end]| (*start..*end).contains(&i)));
        }
    }
    out
}

/// The search box and, while a query is active, its results in place of the list.
#[component]
pub fn SearchBox(active: RwSignal<bool>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(Vec::<SearchHit>::new());
    let error = RwSignal::new(None::<String>);
    let searched = RwSignal::new(false);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        if q.trim().is_empty() {
            active.set(false);
            return;
        }
        active.set(true);
        leptos::task::spawn_local(async move {
            let answer = api::get::<SearchResults>(&format!("/v1/chat/messages/search?q={}&limit=30", api::encode(&q))).await;
            if results.is_disposed() {
                return;
            }
            searched.set(true);
            match answer {
                Ok(r) => {
                    results.set(r.results);
                    error.set(None);
                }
                Err(err) => {
                    results.set(Vec::new());
                    error.set(Some(err.message));
                }
            }
        });
    };
    let clear = move || {
        query.set(String::new());
        results.set(Vec::new());
        error.set(None);
        searched.set(false);
        active.set(false);
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            clear();
        }
    };
    view! {
        <form class="search" role="search" on:submit=run>
            <label class="sr-only" for="message-search">"Search messages"</label>
            <input id="message-search" type="search" name="q" placeholder="Search messages" maxlength="200" bind:value=query on:keydown=keydown />
            <button type="submit">"Search"</button>
        </form>
        <Show when=move || active.get()>
            <div class="search-results" aria-label="Search results">
                <div class="search-head">
                    <span role="status">{move || if !searched.get() { "Searching…".to_string() } else { format!("{} results", results.with(Vec::len)) }}</span>
                    <button type="button" class="link" on:click=move |_| clear()>"Clear search"</button>
                </div>
                <ui::ErrorNote error=error />
                <ul class="results">
                    {move || results.get().into_iter().map(result_view).collect_view()}
                </ul>
            </div>
        </Show>
    }
}

fn result_view(hit: SearchHit) -> impl IntoView {
    let inbox = Inbox::get();
    let id = hit.conversation_id;
    let title = inbox
        .conversations
        .with_untracked(|all| all.iter().find(|c| c.id == id).map(|c| inbox.title(c)))
        .unwrap_or_else(|| format!("Conversation {id}"));
    let text = if hit.snippet.is_empty() { hit.message.content.clone() } else { hit.snippet.clone() };
    let pieces = segments(&text, &hit.highlights);
    let href = format!("/app/conversations/{id}?message={}", hit.message.id);
    view! {
        <li class="result" data-conversation=id.to_string() data-message=hit.message.id.to_string()>
            <A href=href>
                <span class="row-top">
                    <strong class="who">{title}</strong>
                    <time class="since" datetime=hit.message.created_at.clone()>{ui::clock(&hit.message.created_at)}</time>
                </span>
                <span class="snippet">
                    {pieces.into_iter().map(|(piece, on)| if on { view! { <mark>{piece}</mark> }.into_any() } else { piece.into_any() }).collect_view()}
                </span>
            </A>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_highlighted_runs_and_html_stays_text() {
        let s = segments("say \u{2}<b>refund</b>\u{3} now", &[]);
        assert_eq!(s, vec![("say ".into(), false), ("<b>refund</b>".into(), true), (" now".into(), false)]);
    }

    #[test]
    fn ranges_count_characters_not_bytes() {
        let s = segments("café au lait", &[[5, 7]]);
        assert_eq!(s, vec![("café ".into(), false), ("au".into(), true), (" lait".into(), false)]);
    }
}
