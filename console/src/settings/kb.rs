//! Settings → Knowledge base (`/v1/sites/{id}/articles…`): a site's
//! articles, filtered by title or id in the browser (the list route has no
//! filter); owners and admins create, edit, delete and import them
//! ([`super::article_import`]); everyone may try a question against them
//! ([`super::answer_test`]).

use std::collections::HashSet;

use edgechat_shared::api::sites::{Article, ArticleInput, ArticleList};
use leptos::prelude::*;

use super::answer_test::AnswerTest;
use super::article_import::ArticleImport;
use super::site_picker::{SitePick, SitePicker};
use super::{confirm, focus_when_drawn, non_blank};
use crate::api::{self, ApiResult};
use crate::ui;

/// The picked site's articles.
#[derive(Clone, Copy)]
pub struct Articles {
    /// The site they belong to.
    pub site: Memo<Option<i64>>,
    list: RwSignal<Vec<Article>>,
    error: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    /// Typed in "Filter articles": matched against titles and ids.
    filter: RwSignal<String>,
    /// What the last action did ("Article created.").
    note: RwSignal<Option<String>>,
    creating: RwSignal<bool>,
}

impl Articles {
    /// The articles of `site`, loaded again whenever it changes.
    fn new(site: Memo<Option<i64>>) -> Articles {
        let articles = Articles {
            site,
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            filter: RwSignal::new(String::new()),
            note: RwSignal::new(None),
            creating: RwSignal::new(false),
        };
        Effect::new(move |_| {
            if site.get().is_some() {
                articles.list.set(Vec::new());
                articles.loaded.set(false);
                articles.note.set(None);
                articles.creating.set(false);
                leptos::task::spawn_local(async move {
                    let _ = articles.reload().await;
                });
            }
        });
        articles
    }

    /// `/v1/sites/{id}/articles` of the picked site; `None` once the page is gone.
    pub fn path(&self) -> Option<String> {
        self.site.try_get_untracked().flatten().map(|id| format!("/v1/sites/{id}/articles"))
    }

    /// Loads the list again (`GET /v1/sites/{id}/articles`); an answer for a
    /// site no longer picked (or a page no longer shown) is dropped.
    pub async fn reload(self) -> ApiResult<()> {
        let site = self.site.try_get_untracked();
        let Some(path) = self.path() else { return Ok(()) };
        let result = api::get::<ArticleList>(&path).await;
        if self.site.try_get_untracked() != site {
            return Ok(());
        }
        self.loaded.set(true);
        match result {
            Ok(list) => {
                self.list.set(list.articles);
                self.error.set(None);
                Ok(())
            }
            Err(err) => {
                self.error.set(Some(err.message.clone()));
                Err(err)
            }
        }
    }

    /// The ids listed now (none once the page is gone).
    pub fn ids(&self) -> HashSet<String> {
        self.list.try_with_untracked(|all| all.iter().map(|a| a.id.clone()).collect()).unwrap_or_default()
    }

    /// The articles whose title or id contains the filter (any case).
    fn shown(&self) -> Vec<Article> {
        let filter = self.filter.get().trim().to_lowercase();
        self.list.with(|all| {
            all.iter()
                .filter(|a| filter.is_empty() || a.title.to_lowercase().contains(&filter) || a.id.to_lowercase().contains(&filter))
                .cloned()
                .collect()
        })
    }

    fn put(self, article: Article) {
        self.list.update(|all| match all.iter_mut().find(|a| a.id == article.id) {
            Some(row) => *row = article,
            // The list is in creation order.
            None => all.push(article),
        });
    }
}

/// The knowledge-base page; `admin` is false for agents (read-only).
#[component]
pub fn KnowledgeBase(admin: bool) -> impl IntoView {
    let pick = SitePick::new();
    let articles = Articles::new(pick.site);
    let created = Callback::new(move |article: Option<Article>| {
        articles.creating.set(false);
        if let Some(article) = article {
            articles.note.set(Some(format!("Article “{}” created.", article.title)));
            articles.put(article);
        }
    });
    let count = move || {
        let (shown, all) = (articles.shown().len(), articles.list.with(Vec::len));
        let noun = if all == 1 { "article" } else { "articles" };
        if shown == all {
            format!("{all} {noun}")
        } else {
            format!("{shown} of {all} {noun}")
        }
    };
    view! {
        <div class="settings-page kb">
            <header class="settings-head">
                <h1>"Knowledge base"</h1>
                <SitePicker pick=pick />
            </header>
            <Show when=move || pick.site.get().is_some()>
                <AnswerTest site=pick.site />
                {admin.then(|| view! { <ArticleImport articles=articles /> })}
                <section class="articles" aria-label="Articles">
                    <div class="settings-head">
                        <h2>"Articles"</h2>
                        {admin.then(|| view! {
                            <button type="button" class="primary" disabled=move || articles.creating.get()
                                on:click=move |_| { articles.note.set(None); articles.creating.set(true); }>"New article"</button>
                        })}
                    </div>
                    {(!admin).then(|| view! { <p class="muted read-only">"Only owners and admins can change the knowledge base."</p> })}
                    <form class="inline" role="search" data-form="article-filter" on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                        <label>"Filter articles" <input type="search" name="filter" placeholder="Title or id" bind:value=articles.filter /></label>
                        <span class="muted" role="status">{count}</span>
                    </form>
                    <ui::ErrorNote error=articles.error />
                    <ui::OkNote note=articles.note />
                    <Show when=move || articles.creating.get()>
                        <ArticleForm articles=articles article=None on_done=created />
                    </Show>
                    <ul class="settings-list">
                        <For each=move || articles.shown() key=|a| (a.id.clone(), a.updated_at.clone()) let:article>
                            <ArticleRow articles=articles article=article admin=admin />
                        </For>
                    </ul>
                    {move || (articles.loaded.get() && articles.error.with(Option::is_none) && articles.list.with(Vec::is_empty))
                        .then(|| view! { <p class="empty">"No article yet."</p> })}
                </section>
            </Show>
        </div>
    }
}

/// One article: title, id, link, start of the body; edit and delete for admins.
#[component]
fn ArticleRow(articles: Articles, article: Article, admin: bool) -> impl IntoView {
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = article.id.clone();
    let title = article.title.clone();
    let preview: String = article.body.chars().take(200).collect();
    let more = article.body.chars().count() > 200;
    let saved = Callback::new(move |saved: Option<Article>| {
        editing.set(false);
        if let Some(saved) = saved {
            articles.note.set(Some(format!("Article “{}” saved.", saved.title)));
            articles.put(saved);
        }
    });
    let delete = {
        let (id, title) = (id.clone(), title.clone());
        move |_| {
            if !confirm(&format!("Delete the article “{title}”? The AI stops answering from it at once.")) {
                return;
            }
            let Some(path) = articles.path() else { return };
            let (id, title) = (id.clone(), title.clone());
            leptos::task::spawn_local(async move {
                match api::delete(&format!("{path}/{}", api::encode(&id))).await {
                    Ok(()) => {
                        articles.note.set(Some(format!("Article “{title}” deleted.")));
                        articles.list.update(|all| all.retain(|a| a.id != id));
                    }
                    Err(err) => error.set(Some(err.message)),
                }
            });
        }
    };
    view! {
        <li class="item article" data-id=id.clone()>
            <div class="item-head">
                <strong class="title">{title.clone()}</strong>
                <code class="muted">{id.clone()}</code>
                {article.url.clone().map(|url| view! { <a href=url.clone() target="_blank" rel="noopener noreferrer">{url.clone()}</a> })}
                <span class="muted">{format!("updated {}", ui::clock(&article.updated_at))}</span>
            </div>
            <p class="preview-text">{preview}{more.then_some("…")}</p>
            <ui::ErrorNote error=error />
            {admin.then(|| view! {
                <div class="row-actions">
                    <button type="button" disabled=move || editing.get() on:click=move |_| editing.set(true)>
                        "Edit" <span class="sr-only">{format!(" article {title}")}</span>
                    </button>
                    <button type="button" class="danger" on:click=delete.clone()>
                        "Delete" <span class="sr-only">{format!(" article {}", article.title)}</span>
                    </button>
                </div>
            })}
            <Show when=move || editing.get()>
                <ArticleForm articles=articles article=Some(article.clone()) on_done=saved />
            </Show>
        </li>
    }
}

/// Creates an article (`article` `None`: `data-form="article-create"`) or
/// edits one (`"article-edit"`); keeps what was typed after an error.
#[component]
fn ArticleForm(articles: Articles, article: Option<Article>, on_done: Callback<Option<Article>>) -> impl IntoView {
    let editing = article.as_ref().map(|a| a.id.clone());
    let field = |f: fn(&Article) -> String| RwSignal::new(article.as_ref().map(f).unwrap_or_default());
    let (id, title, body, url) =
        (RwSignal::new(String::new()), field(|a| a.title.clone()), field(|a| a.body.clone()), field(|a| a.url.clone().unwrap_or_default()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let is_edit = editing.is_some();
    let first = NodeRef::<leptos::html::Input>::new();
    focus_when_drawn(first);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(path) = articles.path() else { return };
        let mut input = ArticleInput { id: None, title: Some(title.get_untracked()), body: Some(body.get_untracked()), url: None };
        let editing = editing.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let saved = match editing {
                Some(existing) => {
                    // `""` removes the URL.
                    input.url = Some(url.get_untracked().trim().to_string());
                    api::patch::<Article>(&format!("{path}/{}", api::encode(&existing)), &input).await
                }
                None => {
                    input.id = non_blank(&id.get_untracked());
                    input.url = non_blank(&url.get_untracked());
                    api::post::<Article>(&path, &input).await
                }
            };
            busy.set(false);
            match saved {
                // `try_run`: the page may have been left meanwhile.
                Ok(article) => {
                    on_done.try_run(Some(article));
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <form class="card article-form" data-form=if is_edit { "article-edit" } else { "article-create" } on:submit=submit>
            <h3>{if is_edit { "Edit article" } else { "New article" }}</h3>
            <label>"Title" <input type="text" name="title" required maxlength="500" node_ref=first bind:value=title /></label>
            {(!is_edit).then(|| view! {
                <label>"Id (optional)" <input type="text" name="id" maxlength="128" placeholder="Made up when empty" bind:value=id /></label>
            })}
            <label>"Public URL (optional)" <input type="url" name="url" placeholder="https://" bind:value=url /></label>
            <label>"Body" <textarea name="body" rows="8" required bind:value=body></textarea></label>
            <ui::ErrorNote error=error />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>{if is_edit { "Save article" } else { "Create article" }}</button>
                <button type="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}
