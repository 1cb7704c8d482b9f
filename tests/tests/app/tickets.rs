//! Tickets (seed 003, issue 14): operators make them from a conversation or
//! from scratch, list and filter them, and change their status, assignee or
//! add notes (`/v1/tickets…`), each change a timeline entry, a `ticket` live
//! event and a `ticket.*` bus event; a signed-in user lists, searches,
//! reads, replies to and asks about their own tickets (`/api/v1/app/tickets…`).
//!
//! Each trial signs up its own accounts (from `10.142.x.y`).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgechat_shared::api::conversations::ConversationList;

use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::stream::StreamRequest;
use edgechat_shared::api::tickets::{
    clarify_message, ActorKind, AppTicketDetail, AppTicketList, Ticket, TicketDetail, TicketList, TicketStatus, TimelineKind,
};
use edgechat_shared::api::{Mode, Role};
use edgechat_tests::app::{app_login, app_send};
use edgechat_tests::socket::Socket;
use edgechat_tests::webhook_receiver::WebhookReceiver;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

/// The vars this module needs at `wrangler dev` start (webhooks to the local receiver).
pub const VARS: [(&str, &str); 1] = [("WEBHOOKS_ALLOW_LOCAL", "true")];

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        operators_make_tickets_from_a_conversation_and_from_scratch,
        a_retried_create_makes_no_second_ticket,
        bad_ticket_input_is_refused_and_stores_nothing,
        another_accounts_tickets_are_404,
        every_change_is_a_timeline_entry_and_a_live_event,
        ticket_changes_are_bus_events_with_the_ticket,
        lists_filter_by_status_assignee_and_site_and_page_by_cursor,
        users_list_their_tickets_newest_first_and_search_by_reference,
        a_user_sees_only_their_own_tickets,
        a_reply_reopens_a_resolved_ticket_with_a_timeline_entry,
        clarify_creates_the_chat_when_the_ticket_has_none,
        asks_that_race_and_retried_replies_land_once,
    ]
}

// ---------------------------------------------------------------- helpers

static IPS: IpPool = IpPool::new("10.142");
static RECEIVER: OnceLock<WebhookReceiver> = OnceLock::new();

/// Starts the webhook receiver; call before the server starts.
pub fn start_receiver() {
    RECEIVER.get_or_init(WebhookReceiver::start);
}

const OTHER: Owner = Owner { tag: "other", name: "Otto Other", account: "Other", site: "Other shop" };

/// A visitor of `site_key` writes `message`, as the site's signed-in user
/// `user_id` when given (`user_hash` with `secret`); answers the conversation id.
async fn visit(server: &Server, site_key: &str, user: Option<(&str, &str)>, message: &str) -> i64 {
    let request: StreamRequest = visitor_request(site_key, &new_session_id(), message);
    let mut post = server.client().post(format!("{}/api/v1/chat/stream", server.base())).header("cf-connecting-ip", IPS.next());
    if let Some((user_id, secret)) = user {
        post = post.query(&[("user_id", user_id), ("user_hash", user_hash(secret, user_id).as_str())]);
    }
    let streamed = Streamed::read(post.json(&request).send().await.expect("the stream answers"), Instant::now()).await;
    assert_eq!(streamed.status, 200);
    streamed.done().conversation_id
}

async fn create(server: &Server, token: &str, body: Value) -> reqwest::Response {
    post(server, "/v1/tickets", token, body).await
}

/// A new ticket made with `body`; panics unless 201.
async fn new_ticket(server: &Server, token: &str, body: Value) -> TicketDetail {
    json_of(create(server, token, body).await, 201).await
}

async fn patch(server: &Server, token: &str, id: i64, body: Value) -> reqwest::Response {
    send(server, Method::PATCH, &format!("/v1/tickets/{id}"), token, Some(body)).await
}

async fn changed(server: &Server, token: &str, id: i64, body: Value) -> TicketDetail {
    json_of(patch(server, token, id, body).await, 200).await
}

async fn detail(server: &Server, token: &str, id: i64) -> TicketDetail {
    json_of(get(server, &format!("/v1/tickets/{id}"), token).await, 200).await
}

async fn list(server: &Server, token: &str, query: &str) -> TicketList {
    json_of(get(server, &format!("/v1/tickets{query}"), token).await, 200).await
}

fn references(list: &TicketList) -> Vec<&str> {
    list.tickets.iter().map(|t| t.reference.as_str()).collect()
}

/// The next `ticket` live event of the socket, skipping conversations' events.
async fn ticket_event(socket: &mut Socket) -> Ticket {
    loop {
        if let LiveEvent::Ticket { ticket } = socket.event().await {
            return ticket;
        }
    }
}

// ---------------------------------------------------------------- operators

async fn operators_make_tickets_from_a_conversation_and_from_scratch(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let mut socket = Socket::open(server, tenant.token()).await;
    let conversation = visit(server, tenant.site_key(), None, "My refund never arrived").await;
    let made = new_ticket(server, tenant.token(), json!({"subject": "  Refund not received  ", "conversation_id": conversation})).await;
    let ticket = &made.ticket;
    assert_eq!((ticket.reference.as_str(), ticket.subject.as_str()), ("EC-1001", "Refund not received"));
    assert_eq!((ticket.status, ticket.site_id, ticket.conversation_id), (TicketStatus::Submitted, tenant.site.id, Some(conversation)));
    assert_eq!((ticket.created_by, ticket.assignee_id), (Some(tenant.id()), None));
    let visitors: ConversationList = json_of(get(server, "/v1/chat/conversations", tenant.token()).await, 200).await;
    let visitor = visitors.conversations[0].visitor.as_ref().expect("a visitor conversation").id;
    assert_eq!(ticket.visitor_id, Some(visitor), "the conversation's visitor");
    assert_eq!(made.timeline.len(), 1);
    let created = &made.timeline[0];
    assert_eq!((created.kind, created.from_status, created.to_status), (TimelineKind::Created, None, TicketStatus::Submitted));
    assert_eq!(
        (created.actor.kind, created.actor.id, created.actor.name.as_deref()),
        (ActorKind::Operator, Some(tenant.id()), Some(tenant.name()))
    );
    assert!(made.messages.iter().any(|m| m.role == Role::Visitor && m.content == "My refund never arrived"), "{:?}", made.messages);
    assert_eq!(ticket_event(&mut socket).await, made.ticket, "operators see the new ticket live");
    // From scratch: the account's next number, no conversation, no visitor.
    let scratch = new_ticket(server, tenant.token(), json!({"subject": "Call back about the invoice", "site_id": tenant.site.id})).await;
    assert_eq!(scratch.ticket.reference, "EC-1002");
    assert_eq!((scratch.ticket.conversation_id, scratch.ticket.visitor_id), (None, None));
    assert!(scratch.messages.is_empty());
    // For one of the site's visitors.
    let theirs =
        new_ticket(server, tenant.token(), json!({"subject": "Follow up", "site_id": tenant.site.id, "visitor_id": visitor})).await;
    assert_eq!((theirs.ticket.reference.as_str(), theirs.ticket.visitor_id), ("EC-1003", Some(visitor)));
    // Read back.
    assert_eq!(detail(server, tenant.token(), made.ticket.id).await, made);
    // Another account counts from 1001 too.
    let other = signup_as(server, &IPS, &OTHER).await;
    let first = new_ticket(server, other.token(), json!({"subject": "Hello", "site_id": other.site.id})).await;
    assert_eq!(first.ticket.reference, "EC-1001");
}

async fn a_retried_create_makes_no_second_ticket(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = visit(server, tenant.site_key(), None, "Where is my parcel?").await;
    let body = json!({"subject": "Lost parcel", "conversation_id": conversation});
    let made = new_ticket(server, tenant.token(), body.clone()).await;
    let again: TicketDetail = json_of(create(server, tenant.token(), body.clone()).await, 200).await;
    assert_eq!(again.ticket, made.ticket);
    // Once closed, the same subject is a new ticket.
    changed(server, tenant.token(), made.ticket.id, json!({"status": "closed"})).await;
    let next = new_ticket(server, tenant.token(), body).await;
    assert_eq!(next.ticket.reference, "EC-1002");
    assert_eq!(list(server, tenant.token(), "").await.tickets.len(), 2);
}

async fn bad_ticket_input_is_refused_and_stores_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup_as(server, &IPS, &OTHER).await;
    let theirs = visit(server, other.site_key(), None, "Their chat").await;
    let site = tenant.site.id;
    let raw = server
        .client()
        .post(format!("{}/v1/tickets", server.base()))
        .bearer_auth(tenant.token())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answers");
    assert_error(raw, 400, "bad_request", "not JSON").await;
    assert_error(create(server, tenant.token(), json!(["a list"])).await, 400, "bad_request", "not an object").await;
    assert_error(create(server, tenant.token(), json!({"subject": 7, "site_id": site})).await, 400, "bad_request", "subject a number")
        .await;
    let refused = [
        (json!({"subject": "   ", "site_id": site}), "blank subject"),
        (json!({"subject": "x".repeat(201), "site_id": site}), "subject over 200 characters"),
        (json!({"subject": "Neither"}), "neither conversation nor site"),
    ];
    for (body, what) in refused {
        assert_error(create(server, tenant.token(), body).await, 422, "validation_error", what).await;
    }
    let missing = [
        (json!({"subject": "Theirs", "conversation_id": theirs}), "another account's conversation"),
        (json!({"subject": "Theirs", "site_id": other.site.id}), "another account's site"),
        (json!({"subject": "Nobody", "conversation_id": 9_999_999}), "no such conversation"),
        (json!({"subject": "Stranger", "site_id": site, "visitor_id": 9_999_999}), "no such visitor"),
    ];
    for (body, what) in missing {
        assert_error(create(server, tenant.token(), body).await, 404, "not_found", what).await;
    }
    // Their visitor is not a visitor of this site.
    let their_visitor = {
        let list: ConversationList = json_of(get(server, "/v1/chat/conversations", other.token()).await, 200).await;
        list.conversations[0].visitor.as_ref().expect("a visitor").id
    };
    let body = json!({"subject": "Theirs", "site_id": site, "visitor_id": their_visitor});
    assert_error(create(server, tenant.token(), body).await, 404, "not_found", "another site's visitor").await;
    assert!(list(server, tenant.token(), "").await.tickets.is_empty(), "nothing stored");
    // The first ticket made after all that is still EC-1001 or later, and unique.
    let made = new_ticket(server, tenant.token(), json!({"subject": "Fine", "site_id": site})).await;
    let bad_changes = [
        (json!({}), 422, "validation_error", "nothing to change"),
        (json!({"note": "  "}), 422, "validation_error", "blank note"),
        (json!({"note": "n".repeat(2001)}), 422, "validation_error", "note over 2,000 characters"),
        (json!({"status": "open"}), 400, "bad_request", "unknown status"),
        (json!({"assignee_id": 9_999_999}), 404, "not_found", "no such operator"),
        (json!({"assignee_id": other.id()}), 404, "not_found", "another account's operator"),
    ];
    for (body, status, code, what) in bad_changes {
        assert_error(patch(server, tenant.token(), made.ticket.id, body).await, status, code, what).await;
    }
    let after = detail(server, tenant.token(), made.ticket.id).await;
    assert_eq!((after.ticket.status, after.ticket.assignee_id, after.timeline.len()), (TicketStatus::Submitted, None, 1), "unchanged");
    let bad_lists = ["?status=open", "?assignee=someone", "?cursor=abc", "?limit=0", "?limit=101", "?site_id=x"];
    for query in bad_lists {
        assert_error(get(server, &format!("/v1/tickets{query}"), tenant.token()).await, 422, "validation_error", query).await;
    }
}

async fn another_accounts_tickets_are_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup_as(server, &IPS, &OTHER).await;
    let theirs = new_ticket(server, other.token(), json!({"subject": "Private", "site_id": other.site.id})).await;
    let path = format!("/v1/tickets/{}", theirs.ticket.id);
    assert_error(get(server, &path, tenant.token()).await, 404, "not_found", "another account's ticket").await;
    assert_error(patch(server, tenant.token(), theirs.ticket.id, json!({"status": "closed"})).await, 404, "not_found", "patch").await;
    assert!(list(server, tenant.token(), "").await.tickets.is_empty());
    let unchanged = detail(server, other.token(), theirs.ticket.id).await;
    assert_eq!((unchanged.ticket.status, unchanged.timeline.len()), (TicketStatus::Submitted, 1));
    assert_error(get(server, "/v1/tickets", "not-a-token").await, 401, "unauthorized", "no operator").await;
}

async fn every_change_is_a_timeline_entry_and_a_live_event(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let made = new_ticket(server, tenant.token(), json!({"subject": "Card declined", "site_id": tenant.site.id})).await;
    let id = made.ticket.id;
    let mut socket = Socket::open(server, tenant.token()).await;
    // A status change with a note.
    let after = changed(server, tenant.token(), id, json!({"status": "in_progress", "note": "Checking with the bank"})).await;
    assert_eq!(after.ticket.status, TicketStatus::InProgress);
    let entry = after.timeline.last().expect("an entry");
    assert_eq!(
        (entry.kind, entry.from_status, entry.to_status),
        (TimelineKind::Status, Some(TicketStatus::Submitted), TicketStatus::InProgress)
    );
    assert_eq!((entry.note.as_deref(), entry.actor.id), (Some("Checking with the bank"), Some(tenant.id())));
    assert_eq!(ticket_event(&mut socket).await.status, TicketStatus::InProgress);
    // A note alone.
    let after = changed(server, tenant.token(), id, json!({"note": "Bank answers tomorrow"})).await;
    let entry = after.timeline.last().expect("an entry");
    assert_eq!((entry.kind, entry.from_status, entry.to_status), (TimelineKind::Note, None, TicketStatus::InProgress));
    assert_eq!(entry.note.as_deref(), Some("Bank answers tomorrow"));
    ticket_event(&mut socket).await;
    // An assignment, then unassigning.
    let after = changed(server, tenant.token(), id, json!({"assignee_id": tenant.id()})).await;
    assert_eq!(after.ticket.assignee_id, Some(tenant.id()));
    let entry = after.timeline.last().expect("an entry");
    assert_eq!((entry.kind, entry.assignee_id), (TimelineKind::Assigned, Some(tenant.id())));
    assert_eq!(ticket_event(&mut socket).await.assignee_id, Some(tenant.id()));
    let after = changed(server, tenant.token(), id, json!({"assignee_id": null})).await;
    assert_eq!(
        (after.ticket.assignee_id, after.timeline.last().map(|e| (e.kind, e.assignee_id))),
        (None, Some((TimelineKind::Assigned, None)))
    );
    ticket_event(&mut socket).await;
    // Status and assignee at once: two entries.
    let after = changed(server, tenant.token(), id, json!({"status": "waiting_on_customer", "assignee_id": tenant.id()})).await;
    let kinds: Vec<TimelineKind> = after.timeline.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            TimelineKind::Created,
            TimelineKind::Status,
            TimelineKind::Note,
            TimelineKind::Assigned,
            TimelineKind::Assigned,
            TimelineKind::Status,
            TimelineKind::Assigned
        ]
    );
    ticket_event(&mut socket).await;
    // The same values again change nothing: no entry, no event.
    let same = changed(server, tenant.token(), id, json!({"status": "waiting_on_customer", "assignee_id": tenant.id()})).await;
    assert_eq!(same.timeline.len(), after.timeline.len());
    assert_eq!(same.ticket.updated_at, after.ticket.updated_at);
    let resolved = changed(server, tenant.token(), id, json!({"status": "resolved"})).await;
    assert_eq!(ticket_event(&mut socket).await.status, TicketStatus::Resolved, "the next event is the resolution, not the no-op");
    assert_eq!(resolved.timeline.len(), after.timeline.len() + 1);
    assert!(resolved.timeline.windows(2).all(|w| w[0].id < w[1].id && w[0].at <= w[1].at), "oldest first");
}

async fn ticket_changes_are_bus_events_with_the_ticket(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let receiver = RECEIVER.get().expect("the receiver started in main");
    let hook = unique("tickets");
    let body = json!({"url": receiver.hook_url(&hook), "events": ["ticket.created", "ticket.updated"]});
    let _: Value = json_of(post(server, "/v1/webhooks", tenant.token(), body).await, 201).await;
    let conversation = visit(server, tenant.site_key(), None, "Please close my account").await;
    let made = new_ticket(server, tenant.token(), json!({"subject": "Close account", "conversation_id": conversation})).await;
    changed(server, tenant.token(), made.ticket.id, json!({"status": "resolved", "note": "Done"})).await;
    let got = receiver.wait_for(&hook, Duration::from_secs(30), |r| r.len() >= 2).await;
    let events: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let of = |t: &str| events.iter().find(|e| e["type"] == t).unwrap_or_else(|| panic!("a {t} event among {events:?}")).clone();
    let created = of("ticket.created");
    assert!(created["account_id"].is_i64(), "{created}");
    assert_eq!(created["data"]["conversation_id"], conversation);
    let ticket: Ticket = serde_json::from_value(created["data"]["ticket"].clone()).expect("a ticket");
    assert_eq!(ticket, made.ticket);
    let updated = of("ticket.updated");
    let ticket: Ticket = serde_json::from_value(updated["data"]["ticket"].clone()).expect("a ticket");
    assert_eq!((ticket.status, ticket.visitor_id), (TicketStatus::Resolved, made.ticket.visitor_id));
    assert!(ticket.visitor_id.is_some(), "push needs the user");
    assert_eq!(updated["data"]["changed"], json!(["status", "note"]));
    assert_eq!(events.len(), 2, "one event per change: {events:?}");
}

async fn lists_filter_by_status_assignee_and_site_and_page_by_cursor(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let second: Value = json_of(post(server, "/v1/sites", tenant.token(), json!({"name": "Second shop"})).await, 201).await;
    let second_site = second["id"].as_i64().expect("a site id");
    let site = tenant.site.id;
    let mut ids = Vec::new();
    for (subject, site_id) in [("One", site), ("Two", site), ("Three", second_site), ("Four", site)] {
        ids.push(new_ticket(server, tenant.token(), json!({"subject": subject, "site_id": site_id})).await.ticket.id);
    }
    changed(server, tenant.token(), ids[1], json!({"status": "in_progress", "assignee_id": tenant.id()})).await;
    let all = list(server, tenant.token(), "").await;
    assert_eq!(references(&all), ["EC-1004", "EC-1003", "EC-1002", "EC-1001"], "newest first");
    assert_eq!(all.next_cursor, None);
    assert_eq!(references(&list(server, tenant.token(), "?status=in_progress").await), ["EC-1002"]);
    assert_eq!(references(&list(server, tenant.token(), "?status=submitted").await), ["EC-1004", "EC-1003", "EC-1001"]);
    assert_eq!(references(&list(server, tenant.token(), "?assignee=me").await), ["EC-1002"]);
    assert_eq!(references(&list(server, tenant.token(), &format!("?assignee={}", tenant.id())).await), ["EC-1002"]);
    assert_eq!(references(&list(server, tenant.token(), "?assignee=none").await), ["EC-1004", "EC-1003", "EC-1001"]);
    assert_eq!(references(&list(server, tenant.token(), &format!("?site_id={second_site}")).await), ["EC-1003"]);
    let page = list(server, tenant.token(), "?limit=3").await;
    assert_eq!(references(&page), ["EC-1004", "EC-1003", "EC-1002"]);
    let cursor = page.next_cursor.expect("more follow");
    let rest = list(server, tenant.token(), &format!("?limit=3&cursor={cursor}")).await;
    assert_eq!((references(&rest), rest.next_cursor.as_deref()), (vec!["EC-1001"], None));
}

// ---------------------------------------------------------------- users

/// A tenant's signed-in user `user_id`: their session token and visitor id
/// (their widget conversation, as the operators list it, names it).
struct User {
    session: String,
    visitor_id: i64,
    conversation_id: i64,
}

/// Signs `user_id` in to `tenant`'s app and has them write once through the
/// widget (`user_hash`: the same user), so operators know their visitor id.
async fn user(server: &Server, tenant: &Tenant, user_id: &str) -> User {
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let session = app_login(server, &IPS, tenant.site_key(), &secret, user_id).await;
    let conversation_id = visit(server, tenant.site_key(), Some((user_id, &secret)), &format!("Hello, I am {user_id}")).await;
    let summary: Value = json_of(get(server, &format!("/v1/chat/conversations/{conversation_id}"), tenant.token()).await, 200).await;
    let visitor_id = summary["visitor"]["id"].as_i64().expect("a visitor");
    User { session, visitor_id, conversation_id }
}

async fn app_get(server: &Server, user: &User, path: &str) -> reqwest::Response {
    app_send(server, Method::GET, path, &user.session, None).await
}

async fn app_detail(server: &Server, user: &User, id: i64) -> AppTicketDetail {
    json_of(app_get(server, user, &format!("/api/v1/app/tickets/{id}")).await, 200).await
}

async fn reply(server: &Server, user: &User, id: i64, body: Value) -> reqwest::Response {
    app_send(server, Method::POST, &format!("/api/v1/app/tickets/{id}/reply"), &user.session, Some(body)).await
}

async fn clarify(server: &Server, user: &User, id: i64) -> reqwest::Response {
    app_send(server, Method::POST, &format!("/api/v1/app/tickets/{id}/clarify"), &user.session, None).await
}

fn app_references(list: &AppTicketList) -> Vec<&str> {
    list.tickets.iter().map(|t| t.reference.as_str()).collect()
}

async fn users_list_their_tickets_newest_first_and_search_by_reference(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let ada = user(server, &tenant, "ada").await;
    let bob = user(server, &tenant, "bob").await;
    let token = tenant.token();
    new_ticket(server, token, json!({"subject": "Refund", "conversation_id": ada.conversation_id})).await;
    new_ticket(server, token, json!({"subject": "Invoice", "site_id": tenant.site.id, "visitor_id": ada.visitor_id})).await;
    new_ticket(server, token, json!({"subject": "Bob's", "conversation_id": bob.conversation_id})).await;
    new_ticket(server, token, json!({"subject": "Nobody's", "site_id": tenant.site.id})).await;
    let mine: AppTicketList = json_of(app_get(server, &ada, "/api/v1/app/tickets").await, 200).await;
    assert_eq!(app_references(&mine), ["EC-1002", "EC-1001"], "newest first, only Ada's");
    assert_eq!((mine.tickets[1].subject.as_str(), mine.tickets[1].conversation_id), ("Refund", Some(ada.conversation_id)));
    assert!(mine.tickets.iter().all(|t| !t.rated && t.status == TicketStatus::Submitted));
    let search = |q: &str| format!("/api/v1/app/tickets/search?q={q}");
    for (q, expected) in
        [("EC-1001", vec!["EC-1001"]), ("ec-1002", vec!["EC-1002"]), ("ec-100", vec!["EC-1002", "EC-1001"]), ("1001", vec!["EC-1001"])]
    {
        let found: AppTicketList = json_of(app_get(server, &ada, &search(q)).await, 200).await;
        assert_eq!(app_references(&found), expected, "q={q}");
    }
    let found: AppTicketList = json_of(app_get(server, &ada, &search("EC-1003")).await, 200).await;
    assert!(found.tickets.is_empty(), "Bob's reference finds nothing for Ada");
    let bad =
        ["/api/v1/app/tickets/search", &search(""), &search("%20%20"), &search("EC%25"), &search(&"1".repeat(33)), &search("EC-1001'--")];
    for path in bad {
        assert_error(app_get(server, &ada, path).await, 422, "validation_error", path).await;
    }
}

async fn a_user_sees_only_their_own_tickets(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup_as(server, &IPS, &OTHER).await;
    let ada = user(server, &tenant, "ada").await;
    let bob = user(server, &tenant, "bob").await;
    // The other site's "ada" is another person.
    let other_ada = user(server, &other, "ada").await;
    let bobs = new_ticket(server, tenant.token(), json!({"subject": "Bob's", "conversation_id": bob.conversation_id})).await.ticket;
    let adas = new_ticket(server, tenant.token(), json!({"subject": "Ada's", "conversation_id": ada.conversation_id})).await.ticket;
    for (who, id) in [(&ada, bobs.id), (&other_ada, adas.id), (&ada, 9_999_999)] {
        assert_error(app_get(server, who, &format!("/api/v1/app/tickets/{id}")).await, 404, "not_found", "another user's ticket").await;
        assert_error(reply(server, who, id, json!({"body": "Mine now"})).await, 404, "not_found", "reply").await;
        assert_error(clarify(server, who, id).await, 404, "not_found", "clarify").await;
    }
    let listed: AppTicketList = json_of(app_get(server, &other_ada, "/api/v1/app/tickets").await, 200).await;
    assert!(listed.tickets.is_empty());
    let untouched = detail(server, tenant.token(), bobs.id).await;
    assert_eq!(untouched.timeline.len(), 1);
    assert!(untouched.messages.iter().all(|m| m.content != "Mine now"), "nothing written");
    let anonymous = server.client().get(format!("{}/api/v1/app/tickets", server.base())).send().await.expect("answers");
    assert_error(anonymous, 401, "unauthorized", "no session").await;
    let operator = app_send(server, Method::GET, "/api/v1/app/tickets", tenant.token(), None).await;
    assert_error(operator, 401, "unauthorized", "an operator token").await;
}

async fn a_reply_reopens_a_resolved_ticket_with_a_timeline_entry(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let ada = user(server, &tenant, "ada").await;
    let made = new_ticket(server, tenant.token(), json!({"subject": "Refund", "conversation_id": ada.conversation_id})).await.ticket;
    changed(server, tenant.token(), made.id, json!({"status": "resolved", "note": "Refund sent (internal ref 77)"})).await;
    changed(server, tenant.token(), made.id, json!({"assignee_id": tenant.id()})).await;
    let seen = app_detail(server, &ada, made.id).await;
    assert_eq!(seen.ticket.status, TicketStatus::Resolved);
    let kinds: Vec<(TimelineKind, Option<TicketStatus>, TicketStatus)> =
        seen.timeline.iter().map(|e| (e.kind, e.from_status, e.to_status)).collect();
    assert_eq!(
        kinds,
        [
            (TimelineKind::Created, None, TicketStatus::Submitted),
            (TimelineKind::Status, Some(TicketStatus::Submitted), TicketStatus::Resolved)
        ]
    );
    assert!(seen.timeline.iter().all(|e| e.note.is_none() && e.actor.id.is_none()), "no notes, assignments or ids for users");
    // Bad replies store nothing.
    let before = seen.messages.len();
    let bad = [
        (json!({}), 422, "validation_error", "no body field"),
        (json!({"body": "  "}), 422, "validation_error", "blank body"),
        (json!({"body": "x".repeat(10_001)}), 422, "validation_error", "body over 10,000 characters"),
        (json!({"body": 5}), 400, "bad_request", "body a number"),
    ];
    for (body, status, code, what) in bad {
        assert_error(reply(server, &ada, made.id, body).await, status, code, what).await;
    }
    let unchanged = app_detail(server, &ada, made.id).await;
    assert_eq!((unchanged.messages.len(), unchanged.ticket.status), (before, TicketStatus::Resolved));
    // The reply reopens it.
    let mut socket = Socket::open(server, tenant.token()).await;
    let after: AppTicketDetail = json_of(reply(server, &ada, made.id, json!({"body": "It still has not arrived"})).await, 200).await;
    assert_eq!(after.ticket.status, TicketStatus::InProgress);
    let last = after.timeline.last().expect("an entry");
    assert_eq!(
        (last.kind, last.actor.kind, last.from_status, last.to_status),
        (TimelineKind::Status, ActorKind::User, Some(TicketStatus::Resolved), TicketStatus::InProgress)
    );
    let written = after.messages.last().expect("the reply");
    assert_eq!((written.role, written.content.as_str()), (Role::Visitor, "It still has not arrived"));
    assert_eq!(after.ticket.conversation_id, Some(ada.conversation_id), "into the linked chat");
    assert_eq!(ticket_event(&mut socket).await.status, TicketStatus::InProgress, "operators see the reopening live");
    let operators = detail(server, tenant.token(), made.id).await;
    let last = operators.timeline.last().expect("an entry");
    assert_eq!((last.actor.kind, last.actor.id), (ActorKind::User, Some(ada.visitor_id)));
    let conversation: Value =
        json_of(get(server, &format!("/v1/chat/conversations/{}", ada.conversation_id), tenant.token()).await, 200).await;
    assert_eq!(conversation["mode"], "operator", "a ticket's chat goes to the team");
    // An in-progress ticket stays so; a closed one takes no reply.
    let again: AppTicketDetail = json_of(reply(server, &ada, made.id, json!({"body": "Any news?"})).await, 200).await;
    assert_eq!((again.ticket.status, again.timeline.len()), (TicketStatus::InProgress, after.timeline.len()));
    changed(server, tenant.token(), made.id, json!({"status": "closed"})).await;
    assert_error(reply(server, &ada, made.id, json!({"body": "Hello?"})).await, 409, "conflict", "a closed ticket").await;
}

async fn clarify_creates_the_chat_when_the_ticket_has_none(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let ada = user(server, &tenant, "ada").await;
    let made =
        new_ticket(server, tenant.token(), json!({"subject": "Address change", "site_id": tenant.site.id, "visitor_id": ada.visitor_id}))
            .await
            .ticket;
    assert_eq!(made.conversation_id, None);
    let asked: AppTicketDetail = json_of(clarify(server, &ada, made.id).await, 200).await;
    let chat = asked.ticket.conversation_id.expect("a chat was made");
    assert_ne!(chat, ada.conversation_id, "a new conversation for the ticket");
    assert_eq!(asked.messages.len(), 1);
    assert_eq!((asked.messages[0].role, asked.messages[0].content.clone()), (Role::Visitor, clarify_message(&made.reference)));
    let last = asked.timeline.last().expect("an entry");
    assert_eq!((last.kind, last.actor.kind, last.to_status), (TimelineKind::Clarify, ActorKind::User, TicketStatus::Submitted));
    // Operators see the chat, with the team answering, and the ticket linked.
    let conversation: Value = json_of(get(server, &format!("/v1/chat/conversations/{chat}"), tenant.token()).await, 200).await;
    assert_eq!((conversation["mode"].clone(), conversation["visitor"]["id"].clone()), (json!(Mode::Operator), json!(ada.visitor_id)));
    assert_eq!(detail(server, tenant.token(), made.id).await.ticket.conversation_id, Some(chat));
    // Asking again within 10 minutes is 429 (each ask is a message, a
    // timeline entry, a webhook and a live event) and sends nothing.
    let again = clarify(server, &ada, made.id).await;
    let retry_after: u64 = again.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok()).expect("a Retry-After");
    assert!((540..=601).contains(&retry_after), "Retry-After {retry_after}: the rest of the 10 minutes");
    assert_error(again, 429, "rate_limited", "a second ask within 10 minutes").await;
    let after: AppTicketDetail =
        json_of(app_send(server, Method::GET, &format!("/api/v1/app/tickets/{}", made.id), &ada.session, None).await, 200).await;
    assert_eq!((after.messages.len(), after.timeline.iter().filter(|e| e.kind == TimelineKind::Clarify).count()), (1, 1), "nothing sent");
    // A closed ticket takes no question.
    changed(server, tenant.token(), made.id, json!({"status": "closed"})).await;
    assert_error(clarify(server, &ada, made.id).await, 409, "conflict", "a closed ticket").await;
    // A ticket without a user has no chat to make: 404 for everyone but operators.
    let nobodys = new_ticket(server, tenant.token(), json!({"subject": "Internal", "site_id": tenant.site.id})).await.ticket;
    assert_error(clarify(server, &ada, nobodys.id).await, 404, "not_found", "not Ada's").await;
}

/// Issue 16, "a retry that lands twice": clarify asks sent at once (all past
/// the 10-minute check before any is recorded) are one message and one
/// timeline entry; a reply retried with its `message_id` is one message and
/// moves a ticket resolved meanwhile nowhere.
async fn asks_that_race_and_retried_replies_land_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let ada = user(server, &tenant, "ada").await;
    let made =
        new_ticket(server, tenant.token(), json!({"subject": "Racing asks", "site_id": tenant.site.id, "visitor_id": ada.visitor_id}))
            .await
            .ticket;
    let asks = futures::future::join_all((0..4).map(|_| clarify(server, &ada, made.id))).await;
    let statuses: Vec<u16> = asks.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| [200, 429].contains(s)) && statuses.contains(&200), "{statuses:?}");
    let after = app_detail(server, &ada, made.id).await;
    let clarified = |d: &AppTicketDetail| d.messages.iter().filter(|m| m.content == clarify_message(&made.reference)).count();
    assert_eq!(clarified(&after), 1, "one message: {:?}", after.messages);
    assert_eq!(after.timeline.iter().filter(|e| e.kind == TimelineKind::Clarify).count(), 1, "one entry: {:?}", after.timeline);

    let body = json!({"body": "Here is my new address", "message_id": "t-reply-1"});
    for _ in 0..2 {
        assert_eq!(reply(server, &ada, made.id, body.clone()).await.status().as_u16(), 200);
    }
    changed(server, tenant.token(), made.id, json!({"status": "resolved"})).await;
    assert_eq!(reply(server, &ada, made.id, body).await.status().as_u16(), 200, "a late retry");
    let after = app_detail(server, &ada, made.id).await;
    assert_eq!(after.messages.iter().filter(|m| m.content == "Here is my new address").count(), 1, "one reply: {:?}", after.messages);
    assert_eq!(after.ticket.status, TicketStatus::Resolved, "a retry reopens nothing");
    let bad = json!({"body": "Bad id", "message_id": "has space"});
    assert_error(reply(server, &ada, made.id, bad).await, 422, "validation_error", "a malformed message_id").await;
    assert!(app_detail(server, &ada, made.id).await.messages.iter().all(|m| m.content != "Bad id"), "nothing stored");
}
