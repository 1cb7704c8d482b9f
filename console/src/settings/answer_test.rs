//! "Test the answer" (`data-form="answer-test"`): what
//! `GET /v1/sites/{id}/articles/search?q=` ranks for a question, exactly as
//! the responders rank it: each hit's title, confidence, score and best
//! passage, and whether the AI would use it (`confident`).

use edgechat_shared::api::sites::{ArticleHit, ArticleSearch};
use leptos::prelude::*;

use crate::{api, ui};

/// The question box and the ranked articles.
#[component]
pub fn AnswerTest(site: Memo<Option<i64>>) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Vec<ArticleHit>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Another site: the answer shown is no longer its.
    Effect::new(move |_| {
        site.track();
        hits.set(None);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = site.get_untracked() else { return };
        let path = format!("/v1/sites/{id}/articles/search?q={}", api::encode(&question.get_untracked()));
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::get::<ArticleSearch>(&path).await {
                Ok(search) => hits.set(Some(search.hits)),
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card answer-test" data-form="answer-test" on:submit=submit>
            <h2>"Test the answer"</h2>
            <p class="hint">"Ask what a visitor would ask: the articles the AI would answer from, best first."</p>
            <div class="inline-fields">
                <label class="grow">"Question" <input type="text" name="q" required maxlength="10000" bind:value=question /></label>
                <button type="submit" class="primary" disabled=move || busy.get()>"Test the answer"</button>
            </div>
            <ui::ErrorNote error=error />
            {move || hits.get().map(|hits| view! { <Hits hits=hits /> })}
        </form>
    }
}

/// The ranked articles, with a sentence saying what the AI would do.
#[component]
fn Hits(hits: Vec<ArticleHit>) -> impl IntoView {
    let verdict = match hits.first() {
        None => "No article matches: the AI would say it does not know and offer a person.".to_string(),
        Some(best) if best.confident => format!("The AI would answer from “{}”.", best.title),
        Some(_) => "No article is confident enough: the AI would say it is not sure and offer a person.".to_string(),
    };
    view! {
        <div class="hits" aria-live="polite">
            <p class="verdict" role="status">{verdict}</p>
            <ol class="settings-list">
                {hits.into_iter().map(|hit| {
                    let confidence = format!("Confidence {} %", ui::decimal(hit.confidence * 100.0, 0));
                    let title = match hit.url.clone() {
                        Some(url) => view! { <a href=url target="_blank" rel="noopener noreferrer">{hit.title.clone()}</a> }.into_any(),
                        None => hit.title.clone().into_any(),
                    };
                    view! {
                        <li class="item hit" data-id=hit.id.clone() data-confident=hit.confident.to_string()>
                            <div class="item-head">
                                <strong class="title">{title}</strong>
                                <span class="confidence" data-confidence=ui::decimal(hit.confidence, 3)>{confidence}</span>
                                <span class="score muted">{format!("score {}", ui::decimal(hit.score, 2))}</span>
                                <span class="tag" class:confident=hit.confident>{if hit.confident { "Would answer" } else { "Below the threshold" }}</span>
                            </div>
                            <blockquote class="passage">{hit.passage}</blockquote>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </div>
    }
}
