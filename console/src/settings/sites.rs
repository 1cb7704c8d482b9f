//! Settings → Sites (`/v1/sites`): each site's widget settings, its embed
//! snippet and its identity secret. Owners and admins create, edit, delete
//! and rotate; agents read.
//!
//! The identity secret is never kept in the list: it is fetched when asked
//! for (`GET /v1/sites/{id}`) or shown after a rotation, and forgotten when
//! hidden or when the page is left.

use edgechat_shared::api::sites::{ResponderKind, Site, SiteList};
use leptos::prelude::*;

use super::site_form::SiteForm;
use super::{confirm, CopyButton};
use crate::inbox::Inbox;
use crate::{api, ui};

/// The account's sites as the page shows them (without identity secrets).
#[derive(Clone, Copy)]
struct AccountSites {
    list: RwSignal<Vec<Site>>,
    error: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    /// What the last page-wide action did ("Site created.").
    note: RwSignal<Option<String>>,
    /// `true` while the new-site form is open.
    creating: RwSignal<bool>,
    /// The inbox's copy of the sites (filter and names), kept in step.
    inbox: Option<Inbox>,
}

impl AccountSites {
    /// Loads `GET /v1/sites`.
    fn new() -> AccountSites {
        let sites = AccountSites {
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            note: RwSignal::new(None),
            creating: RwSignal::new(false),
            inbox: use_context::<Inbox>(),
        };
        leptos::task::spawn_local(async move {
            match api::get::<SiteList>("/v1/sites").await {
                Ok(list) => sites.list.set(list.sites.into_iter().map(without_secret).collect()),
                Err(err) => sites.error.set(Some(err.message)),
            }
            sites.loaded.set(true);
        });
        sites
    }

    /// Site `id` as listed (tracked).
    fn site(&self, id: i64) -> Option<Site> {
        self.list.with(|all| all.iter().find(|s| s.id == id).cloned())
    }

    /// Replaces site `site.id`, or adds it at the end.
    fn put(self, site: Site) {
        let site = without_secret(site);
        self.list.update(|all| match all.iter_mut().find(|s| s.id == site.id) {
            Some(row) => *row = site,
            None => all.push(site),
        });
        self.sync_inbox();
    }

    /// Forgets site `id`.
    fn remove(self, id: i64) {
        self.list.update(|all| all.retain(|s| s.id != id));
        self.sync_inbox();
    }

    fn sync_inbox(self) {
        // The page (and its list) may be gone by the time an answer arrives.
        if let (Some(inbox), Some(list)) = (self.inbox, self.list.try_get_untracked()) {
            inbox.sites.set(list);
        }
    }
}

fn without_secret(site: Site) -> Site {
    Site { identity_secret: None, identity_token_key: None, ..site }
}

/// The sites page; `admin` is false for agents (read-only).
#[component]
pub fn Sites(admin: bool) -> impl IntoView {
    let sites = AccountSites::new();
    let created = Callback::new(move |site: Option<Site>| {
        sites.creating.set(false);
        if let Some(site) = site {
            sites.note.set(Some(format!("Site “{}” created. Paste its embed snippet into your pages.", site.name)));
            sites.put(site);
        }
    });
    view! {
        <div class="settings-page">
            <header class="settings-head">
                <h1>"Sites"</h1>
                {admin.then(|| view! {
                    <button type="button" class="primary" disabled=move || sites.creating.get()
                        on:click=move |_| { sites.note.set(None); sites.creating.set(true); }>"New site"</button>
                })}
            </header>
            <p class="muted">"Each site has its own widget settings, knowledge base and proactive messages."</p>
            {(!admin).then(|| view! { <p class="muted read-only">"Only owners and admins can change sites."</p> })}
            <ui::ErrorNote error=sites.error />
            <ui::OkNote note=sites.note />
            <Show when=move || sites.creating.get()>
                <SiteForm site=None on_done=created />
            </Show>
            <ul class="settings-list sites">
                <For each=move || sites.list.get() key=|s| s.id let:site>
                    <SiteCard id=site.id sites=sites admin=admin />
                </For>
            </ul>
            {move || (sites.loaded.get() && sites.error.with(Option::is_none) && sites.list.with(Vec::is_empty))
                .then(|| view! { <p class="empty">"No site yet."</p> })}
        </div>
    }
}

/// One site: its settings, embed snippet and, for admins, secret and actions.
#[component]
fn SiteCard(id: i64, sites: AccountSites, admin: bool) -> impl IntoView {
    let site = Memo::new(move |_| sites.site(id));
    let editing = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let name = move || site.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let snippet = Signal::derive(move || site.with(|s| s.as_ref().map(|s| s.embed_snippet.clone()).unwrap_or_default()));
    let saved = Callback::new(move |saved: Option<Site>| {
        editing.set(false);
        if let Some(saved) = saved {
            note.set(Some("Site saved.".into()));
            sites.put(saved);
        }
    });
    let delete = move |_| {
        let name = name();
        if !confirm(&format!(
            "Delete the site “{name}”? Its conversations, knowledge base, proactive messages and uploaded files are deleted for good."
        )) {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::delete(&format!("/v1/sites/{id}")).await {
                Ok(()) => {
                    sites.note.set(Some(format!("Site “{name}” deleted.")));
                    sites.remove(id);
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <li class="card site-card" data-id=id.to_string() data-site-key=move || site.with(|s| s.as_ref().map(|s| s.site_key.clone()))>
            <h2>{name}</h2>
            {move || site.get().map(|site| view! { <SiteDetails site=site /> })}
            <div class="snippet-box">
                <p class="field-name" id=format!("snippet-{id}")>"Embed snippet"</p>
                <pre class="snippet" aria-labelledby=format!("snippet-{id}")><code>{snippet}</code></pre>
                <CopyButton text=snippet label="Copy snippet" />
            </div>
            {admin.then(|| view! { <IdentitySecret id=id name=Signal::derive(name) note=note error=error /> })}
            <ui::ErrorNote error=error />
            <ui::OkNote note=note />
            {admin.then(|| view! {
                <div class="row-actions">
                    <button type="button" disabled=move || editing.get() on:click=move |_| { note.set(None); editing.set(true); }>
                        "Edit" <span class="sr-only">{move || format!(" site {}", name())}</span>
                    </button>
                    <button type="button" class="danger" on:click=delete>
                        "Delete" <span class="sr-only">{move || format!(" site {}", name())}</span>
                    </button>
                </div>
            })}
            <Show when=move || editing.get()>
                <SiteForm site=site.get_untracked() on_done=saved />
            </Show>
        </li>
    }
}

/// A site's settings, read-only.
#[component]
fn SiteDetails(site: Site) -> impl IntoView {
    let responder = &site.responder;
    let mut kind = match responder.kind {
        ResponderKind::Kb => "Knowledge base (offline)".to_string(),
        ResponderKind::Openai => "OpenAI-compatible API".to_string(),
        ResponderKind::WorkersAi => "Workers AI".to_string(),
    };
    if let Some(model) = responder.model.as_deref().filter(|m| !m.is_empty()) {
        kind.push_str(&format!(" · model {model}"));
    }
    let openai = (responder.kind == ResponderKind::Openai).then(|| {
        let base = responder.base_url.clone().filter(|b| !b.is_empty()).unwrap_or_else(|| "the deployment's default server".into());
        let key = if responder.api_key_set { "set" } else { "not set" };
        view! {
            <dt>"Server"</dt><dd>{base}</dd>
            <dt>"API key"</dt><dd class="api-key-state" data-api-key=key>{key}</dd>
        }
    });
    let origins = if site.allowed_origins.is_empty() { "Any origin".to_string() } else { site.allowed_origins.join(", ") };
    view! {
        <dl class="details">
            <dt>"Site key"</dt><dd><code>{site.site_key.clone()}</code></dd>
            <dt>"Greeting"</dt><dd class="greeting">{site.greeting.clone()}</dd>
            <dt>"Theme colour"</dt>
            <dd><span class="swatch" style:background=site.theme_color.clone() aria-hidden="true"></span>{site.theme_color.clone()}</dd>
            <dt>"Allowed origins"</dt><dd>{origins}</dd>
            <dt>"Responder"</dt><dd class="responder-kind">{kind}</dd>
            {openai}
        </dl>
    }
}

/// The identity secret and the identity token key derived from it (owners
/// and admins): show them, hide them, rotate them.
#[component]
fn IdentitySecret(id: i64, name: Signal<String>, note: RwSignal<Option<String>>, error: RwSignal<Option<String>>) -> impl IntoView {
    // The secret (for `user_hash`) and the key of identity JWTs.
    let secret = RwSignal::new(None::<(String, String)>);
    let shown = |site: Site| site.identity_secret.zip(site.identity_token_key);
    let busy = RwSignal::new(false);
    let show = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::get::<Site>(&format!("/v1/sites/{id}")).await {
                Ok(site) => secret.set(shown(site)),
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let rotate = move |_| {
        if !confirm(&format!(
            "Rotate the identity secret of “{}”? The current secret stops working at once: your backend must sign visitors with the new one.",
            name.get_untracked()
        )) {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::post::<Site>(&format!("/v1/sites/{id}/rotate-secret"), &api::EMPTY).await {
                Ok(site) => {
                    secret.set(shown(site));
                    error.set(None);
                    note.set(Some(
                        "New identity secret made; the old one no longer works. Copy it now: it is hidden when you leave.".into(),
                    ));
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let value = Signal::derive(move || secret.get().map(|(secret, _)| secret).unwrap_or_default());
    let key = Signal::derive(move || secret.get().map(|(_, key)| key).unwrap_or_default());
    view! {
        <div class="secret-box">
            <p class="field-name">"Identity secret"</p>
            <p class="hint">"Your backend proves who a logged-in visitor is with user_hash = HMAC-SHA256(secret, user id)."</p>
            {move || match secret.get() {
                Some(_) => view! {
                    <code class="secret" data-secret="">{value}</code>
                    <CopyButton text=value label="Copy secret" />
                    <p class="field-name">"Identity token key"</p>
                    <p class="hint">"Your backend signs the identity JWT (HS256) that signs a user in to your app with this key, never with the secret."</p>
                    <code class="secret" data-token-key="">{key}</code>
                    <CopyButton text=key label="Copy token key" />
                    <button type="button" on:click=move |_| secret.set(None)>"Hide secret"</button>
                }.into_any(),
                None => view! { <button type="button" disabled=move || busy.get() on:click=show>"Show identity secret"</button> }.into_any(),
            }}
            <button type="button" class="danger" disabled=move || busy.get() on:click=rotate>"Rotate identity secret"</button>
        </div>
    }
}
