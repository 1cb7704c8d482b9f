//! Import a JSON Lines file into a site's knowledge base
//! (`POST /v1/sites/{id}/articles/import`, `data-form="article-import"`).
//!
//! The worker checks every line before it writes any, and writes them in one
//! D1 batch: a bad line imports nothing, and its 422 message names the line.
//! [`ImportResult`] counts the articles imported; how many of them were new
//! and how many replaced an article is told by comparing the list's ids
//! before and after.

use edgechat_shared::api::sites::ImportResult;
use leptos::html::Input;
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::kb::Articles;
use crate::api::{self, ApiError, ApiResult};
use crate::ui;

/// The counts of a finished import.
#[derive(Clone, Copy, PartialEq)]
struct Imported {
    imported: usize,
    /// `(created, replaced)`, when the list could be reloaded to tell them apart.
    split: Option<(usize, usize)>,
}

impl Imported {
    fn sentence(&self) -> String {
        let n = self.imported;
        let articles = if n == 1 { "article" } else { "articles" };
        match self.split {
            Some((created, replaced)) => format!("Imported {n} {articles}: {created} created, {replaced} replaced."),
            None => format!("Imported {n} {articles}."),
        }
    }
}

/// The import form: a file, "Import", and what came of it.
#[component]
pub fn ArticleImport(articles: Articles) -> impl IntoView {
    let file = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<Imported>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(input) = file.get_untracked() else { return };
        busy.set(true);
        error.set(None);
        done.set(None);
        leptos::task::spawn_local(async move {
            match import(articles, &input).await {
                Ok(counts) => {
                    done.set(Some(counts));
                    input.set_value("");
                }
                // The file stays picked, to try again once it is fixed.
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card import-form" data-form="article-import" on:submit=submit>
            <h2>"Import articles"</h2>
            <p class="hint">
                "A JSON Lines file, one article a line: "
                <code>{r#"{"id": "returns", "title": "Returns", "body": "…", "url": "https://…"}"#}</code>
                ". The url is optional; an id the knowledge base has already is replaced. One bad line imports nothing."
            </p>
            <label>"JSON Lines file"
                <input type="file" name="file" node_ref=file required accept=".jsonl,.ndjson,.json,.txt,application/x-ndjson,application/json,text/plain" />
            </label>
            <ui::ErrorNote error=error />
            {move || done.get().map(|d| view! {
                <p class="ok import-result" role="status" data-imported=d.imported
                    data-created=d.split.map(|s| s.0) data-replaced=d.split.map(|s| s.1)>{d.sentence()}</p>
            })}
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Import"</button>
            </div>
        </form>
    }
}

/// Reads the picked file, posts it as `application/x-ndjson`, and reloads the list.
async fn import(articles: Articles, input: &web_sys::HtmlInputElement) -> ApiResult<Imported> {
    let local = |message: &str| ApiError { status: 0, code: "client".into(), message: message.into() };
    let file = input.files().and_then(|files| files.get(0)).ok_or_else(|| local("Choose a JSON Lines file first."))?;
    let text = JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string()).ok_or_else(|| local("The file could not be read."))?;
    let path = articles.path().ok_or_else(|| local("Pick a site first."))?;
    let before = articles.ids();
    let result: ImportResult = api::post_text(&format!("{path}/import"), &text, "application/x-ndjson").await?;
    // The import is done even when the list cannot be reloaded (its error shows there).
    let split = articles.reload().await.ok().map(|()| {
        let created = articles.ids().difference(&before).count().min(result.imported);
        (created, result.imported - created)
    });
    Ok(Imported { imported: result.imported, split })
}
