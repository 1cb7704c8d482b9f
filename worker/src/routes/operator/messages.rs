//! `/v1/chat/messages/*` beyond sending (seed 002): edit (with its audit
//! trail), reactions, forward, full-text search and sync. A message is
//! visible to an operator when its conversation is (db::search): ids of
//! another account, or of an internal conversation they do not take part
//! in, answer 404 like ids that never existed.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::messages::{
    self as rules, sync_page, EditList, EditMessage as EditBody, ForwardRequest, ForwardedMessages, ReactionState, ReactionToggle,
    SearchHit, SearchQuery, SearchResults, SyncRequest, SyncResponse, SyncedConversation, DEFAULT_SEARCH_LIMIT, MAX_NEW_CONVERSATIONS,
    MAX_SEARCH_LIMIT,
};
use edgechat_shared::api::{ChatMessage, ForwardedFrom, Role};
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::D1Database;

use crate::auth::CurrentOperator;
use crate::db::edits::{self, Reactor};
use crate::db::messages::FileLinks;
use crate::db::search::{self, Located, LocatedRow};
use crate::db::{self, conversations as conv_db};
use crate::error::{ApiError, ApiResult};
use crate::room::{EditMessage, ForwardCopy, ForwardMessages, RoomContext, ToggleReaction};
use crate::routes::{json_object, AppState};

/// File links per site, made once per request.
struct Links {
    by_site: HashMap<i64, FileLinks>,
    /// How internal conversations' files are signed (a key derived from `JWT_SECRET`, see [`FileLinks::internal`]).
    internal: FileLinks,
}

impl Links {
    fn new(env: &worker::Env) -> ApiResult<Self> {
        Ok(Links { by_site: HashMap::new(), internal: FileLinks::internal(&crate::auth::jwt::secret(env)?) })
    }

    /// How the conversation of site `site_id` (internal ones: none) signs its file links.
    async fn of(&mut self, db: &D1Database, site_id: Option<i64>) -> ApiResult<FileLinks> {
        let Some(site_id) = site_id else { return Ok(self.internal.clone()) };
        if let Some(links) = self.by_site.get(&site_id) {
            return Ok(links.clone());
        }
        let links = db::sites::by_id(db, site_id).await?.map(|site| FileLinks::of(&site)).unwrap_or_else(FileLinks::none);
        self.by_site.insert(site_id, links.clone());
        Ok(links)
    }

    /// The wire form of rows read across conversations, reactions filled for `caller` (one query).
    async fn messages(&mut self, db: &D1Database, caller: &CurrentOperator, rows: &[&LocatedRow]) -> ApiResult<Vec<ChatMessage>> {
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            messages.push(row.row.to_chat_message(&self.of(db, row.site_id).await?));
        }
        edits::fill_reactions(db, &mut messages, Reactor::Operator(caller.id)).await?;
        Ok(messages)
    }
}

/// The caller's message `id`, or 404.
async fn locate(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<Located> {
    search::locate(db, caller.id, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("message"))
}

fn room(caller: &CurrentOperator, located: &Located) -> RoomContext {
    RoomContext { conversation_id: located.conversation_id, site_id: located.site_id, account_id: caller.account_id }
}

/// Handles the `PATCH /v1/chat/messages/{id}` route (seed 002): the caller
/// edits the text of a message they wrote. The previous text joins the
/// audit trail (`GET /v1/chat/messages/{id}/edits`), `edited_at` is set,
/// and `message_updated` reaches the visitor's streams and the operators,
/// ordered by the conversation's Room. The same text again changes nothing.
#[utoipa::path(
    patch,
    path = "/v1/chat/messages/{id}",
    params(("id" = i64, Path, description = "Message id")),
    request_body = EditBody,
    responses(
        (status = 200, description = "The message after the edit (with `edited_at`; unchanged when the text was the same)", body = ChatMessage),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller did not write this message (operators edit only their own)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such message in a conversation the caller may see", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank or over-long `content`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_message(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ChatMessage>> {
    let edit: EditBody = json_object(&body)?;
    edit.validate()?;
    let db = db::database(&state.env)?;
    let located = locate(&db, &caller, id).await?;
    let row = edits::by_id(&db, id).await?.ok_or_else(|| ApiError::not_found("message"))?;
    if row.role != Role::Operator || row.author_id != Some(caller.id) {
        return Err(ApiError::forbidden("Only the operator who wrote a message may edit it"));
    }
    let links = Links::new(&state.env)?.of(&db, located.site_id).await?;
    let edited = EditMessage { context: room(&caller, &located), message_id: id, editor_id: caller.id, content: edit.content, links }
        .call(&state.env)
        .await?;
    let mut message = edited.message.ok_or_else(|| ApiError::not_found("message"))?;
    edits::fill_reactions(&db, std::slice::from_mut(&mut message), Reactor::Operator(caller.id)).await?;
    Ok(Json(message))
}

/// Handles the `GET /v1/chat/messages/{id}/edits` route: the earlier
/// versions of a message (the audit trail of its edits), oldest first.
#[utoipa::path(
    get,
    path = "/v1/chat/messages/{id}/edits",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The texts the message had before each edit, oldest first", body = EditList),
        (status = 404, description = "`not_found`: no such message in a conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_edits(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<Json<EditList>> {
    let db = db::database(&state.env)?;
    locate(&db, &caller, id).await?;
    Ok(Json(EditList { edits: edits::edits(&db, id).await? }))
}

/// Handles the `POST /v1/chat/messages/{id}/reactions` route (seed 002):
/// toggles the caller's reaction `emoji` (one emoji grapheme) on the
/// message; a `reaction` event with the emoji's new count reaches the
/// visitor's streams and the operators.
#[utoipa::path(
    post,
    path = "/v1/chat/messages/{id}/reactions",
    params(("id" = i64, Path, description = "Message id")),
    request_body = ReactionToggle,
    responses(
        (status = 200, description = "The message's reactions after the toggle (`mine` for the caller); an emoji with or without its trailing U+FE0F is one reaction, kept in its RGI form (`❤` toggles `❤️`)", body = ReactionState),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such message in a conversation the caller may see", body = ErrorBody),
        (status = 422, description = "`validation_error`: `emoji` is not exactly one emoji (at most 64 bytes)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_reaction(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ReactionState>> {
    let toggle: ReactionToggle = json_object(&body)?;
    let emoji = crate::emoji::check(&toggle.emoji)?;
    let db = db::database(&state.env)?;
    let located = locate(&db, &caller, id).await?;
    let reactions = ToggleReaction { context: room(&caller, &located), message_id: id, user_id: caller.id, emoji }.call(&state.env).await?;
    Ok(Json(reactions))
}

/// Handles the `POST /v1/chat/messages/forward` route (seed 002): copies
/// messages into conversations as operator messages of the caller, marked
/// `forwarded_from` their origin, each target's copies written in order by
/// its Room. Every id must be visible to the caller, or nothing is copied.
/// A retry does not copy twice: each copy's `message_id` is
/// `fwd-<origin id>`, deduped per author like a send (so one message is
/// forwarded to one conversation once by one operator).
#[utoipa::path(
    post,
    path = "/v1/chat/messages/forward",
    request_body = ForwardRequest,
    responses(
        (status = 201, description = "The copies: target by target in the order given, each with the messages in the order given", body = ForwardedMessages),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: a message or conversation the caller may not see (nothing copied)", body = ErrorBody),
        (status = 422, description = "`validation_error`: 1 to 20 `message_ids` and 1 to 10 `conversation_ids`, none twice", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_forward(
    State(state): State<AppState>,
    caller: CurrentOperator,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ForwardedMessages>)> {
    let request: ForwardRequest = json_object(&body)?;
    request.validate()?;
    let db = db::database(&state.env)?;
    let origins = search::visible_messages(&db, caller.id, caller.account_id, &request.message_ids).await?;
    if origins.len() != request.message_ids.len() {
        return Err(ApiError::not_found("message"));
    }
    let targets = conv_db::summaries(&db, caller.id, caller.account_id, &request.conversation_ids).await?;
    if targets.len() != request.conversation_ids.len() {
        return Err(ApiError::not_found("conversation"));
    }
    let copies: Vec<ForwardCopy> = request
        .message_ids
        .iter()
        .filter_map(|id| origins.iter().find(|o| o.row.id == *id))
        .map(|origin| ForwardCopy {
            content: origin.row.content.clone(),
            client_message_id: format!("fwd-{}", origin.row.id),
            forwarded_from: ForwardedFrom { conversation_id: origin.conversation_id, message_id: origin.row.id },
        })
        .collect();
    let mut links = Links::new(&state.env)?;
    let mut messages = Vec::new();
    for id in &request.conversation_ids {
        let target = targets.iter().find(|t| t.id == *id).ok_or_else(|| ApiError::not_found("conversation"))?;
        let written = ForwardMessages {
            context: RoomContext { conversation_id: target.id, site_id: target.site_id, account_id: caller.account_id },
            author_id: caller.id,
            author_name: caller.display_name.clone(),
            copies: copies.clone(),
            links: links.of(&db, target.site_id).await?,
        }
        .call(&state.env)
        .await?;
        messages.extend(written);
    }
    edits::fill_reactions(&db, &mut messages, Reactor::Operator(caller.id)).await?;
    Ok((StatusCode::CREATED, Json(ForwardedMessages { messages })))
}

/// Handles the `GET /v1/chat/messages/search` route (seed 002): full-text
/// search (D1 FTS5) over the messages of every conversation the caller may
/// see, newest first. `q` follows [`rules::search_terms`]: letters, digits,
/// spaces and a little punctuation, every word required; FTS syntax is a
/// 422, never a 500. Each hit carries a plain-text `snippet` and the char
/// ranges to highlight (never HTML).
#[utoipa::path(
    get,
    path = "/v1/chat/messages/search",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching messages, newest first, with their conversation and a highlighted snippet", body = SearchResults),
        (status = 422, description = "`validation_error`: `q` empty, over 200 characters or with FTS syntax (`\"*():^{}-+`, AND/OR/NOT/NEAR); `limit` not 1 to 50; a bad `before`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_search(
    State(state): State<AppState>,
    caller: CurrentOperator,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<SearchResults>> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let expression = rules::search_terms(&query.q)?;
    let limit = match query.limit {
        None => DEFAULT_SEARCH_LIMIT,
        Some(n) if (1..=MAX_SEARCH_LIMIT).contains(&n) => n,
        Some(_) => return Err(FieldError::new("limit", format!("limit must be 1 to {MAX_SEARCH_LIMIT}")).into()),
    };
    let before_id = match query.before.as_deref() {
        None => None,
        Some(cursor) => Some(
            cursor
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| FieldError::new("before", "before is not a cursor this API gave"))?,
        ),
    };
    let db = db::database(&state.env)?;
    let (hits, more) = search::search(
        &db,
        &search::Search {
            user_id: caller.id,
            account_id: caller.account_id,
            expression: &expression,
            conversation_id: query.conversation_id,
            site_id: query.site_id,
            before_id,
            limit,
        },
    )
    .await?;
    let rows: Vec<&LocatedRow> = hits.iter().map(|h| &h.located).collect();
    let messages = Links::new(&state.env)?.messages(&db, &caller, &rows).await?;
    let next_cursor = if more { hits.last().map(|h| h.located.row.id.to_string()) } else { None };
    let results = hits
        .iter()
        .zip(messages)
        .map(|(hit, message)| {
            let (snippet, highlights) = rules::split_highlights(&hit.snippet);
            SearchHit { conversation_id: hit.located.conversation_id, message, snippet, highlights }
        })
        .collect();
    Ok(Json(SearchResults { results, next_cursor }))
}

/// Handles the `POST /v1/chat/messages/sync` route (seed 002): for a client
/// coming back online, per conversation named the messages after its
/// `last_seq` (at most 100, then `has_more`), the ids it may no longer see
/// in `gone`, and, with `since`, the conversations it did not name that
/// had activity since (at most 50).
#[utoipa::path(
    post,
    path = "/v1/chat/messages/sync",
    request_body = SyncRequest,
    responses(
        (status = 200, description = "The missed messages per conversation, the gone ids and the new conversations", body = SyncResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 422, description = "`validation_error`: 1 to 100 `conversations`, none twice, no negative `last_seq`; `since` RFC 3339", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_sync(State(state): State<AppState>, caller: CurrentOperator, body: Bytes) -> ApiResult<Json<SyncResponse>> {
    let request: SyncRequest = json_object(&body)?;
    request.validate()?;
    let db = db::database(&state.env)?;
    let named: Vec<i64> = request.conversations.iter().map(|c| c.id).collect();
    let visible = search::visible_conversations(&db, caller.id, caller.account_id, &named).await?;
    let cursors: Vec<(i64, i64)> = request.conversations.iter().filter(|c| visible.contains(&c.id)).map(|c| (c.id, c.last_seq)).collect();
    let page_size = sync_page(cursors.len());
    let rows = if cursors.is_empty() { Vec::new() } else { search::after_each(&db, &cursors, page_size).await? };
    let mut conversations = Vec::with_capacity(cursors.len());
    let mut links = Links::new(&state.env)?;
    for (id, _) in &cursors {
        let mine: Vec<&LocatedRow> = rows.iter().filter(|r| r.conversation_id == *id).collect();
        let has_more = mine.len() > page_size as usize;
        let page = &mine[..mine.len().min(page_size as usize)];
        let mut messages = Vec::with_capacity(page.len());
        for row in page {
            messages.push(row.row.to_chat_message(&links.of(&db, row.site_id).await?));
        }
        conversations.push(SyncedConversation { id: *id, messages, has_more });
    }
    let mut all: Vec<ChatMessage> = conversations.iter_mut().flat_map(|c| std::mem::take(&mut c.messages)).collect();
    edits::fill_reactions(&db, &mut all, Reactor::Operator(caller.id)).await?;
    let mut all = all.into_iter();
    for conversation in &mut conversations {
        let count = rows.iter().filter(|r| r.conversation_id == conversation.id).count().min(page_size as usize);
        conversation.messages = all.by_ref().take(count).collect();
    }
    let gone = named.iter().copied().filter(|id| !visible.contains(id)).collect();
    let new_conversations = match request.since_utc() {
        None => Vec::new(),
        Some(since) => {
            let ids = search::active_since(&db, caller.id, caller.account_id, &named, &since, MAX_NEW_CONVERSATIONS).await?;
            if ids.is_empty() {
                Vec::new()
            } else {
                conv_db::summaries(&db, caller.id, caller.account_id, &ids).await?
            }
        }
    };
    Ok(Json(SyncResponse { conversations, gone, new_conversations }))
}
