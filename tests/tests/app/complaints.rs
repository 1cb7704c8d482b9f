//! Complaints (seed 003, issue 14): a signed-in user files one with
//! `POST /api/v1/app/complaints` (seed 003's five categories, a description
//! of at least 10 characters, optionally their conversation `chat_id` and
//! ticket `dialog_id`); operators list and filter them with
//! `GET /v1/complaints` and mark them handled with `PATCH /v1/complaints/{id}`.
//!
//! Each trial signs up its own accounts (from `10.149.x.y`, shared with `csat`).

use edgechat_shared::api::complaints::{Complaint, ComplaintCategory, ComplaintCreated, ComplaintList, ComplaintStatus};
use edgechat_tests::app::app_send;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::csat::{login, ticket_of, user_conversation, IPS};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        a_complaint_about_a_chat_and_a_ticket_is_stored_once_and_shown_to_operators,
        each_seed_category_is_accepted_and_any_other_is_422,
        a_description_needs_ten_characters_after_trimming,
        another_users_chat_or_ticket_is_404_and_stores_nothing,
        operators_filter_page_and_mark_complaints_handled,
        bad_filters_and_changes_are_refused_and_another_accounts_complaint_is_404,
    ]
}

const TEXT: &str = "The refund never arrived on my card";

async fn file(server: &Server, session: &str, body: Value) -> reqwest::Response {
    app_send(server, Method::POST, "/api/v1/app/complaints", session, Some(body)).await
}

/// Files a complaint; panics unless 201.
async fn filed(server: &Server, session: &str, body: Value) -> i64 {
    let created: ComplaintCreated = json_of(file(server, session, body).await, 201).await;
    assert!(!created.duplicate);
    created.id
}

/// `GET /v1/complaints{query}` as `token`; panics unless 200.
async fn list(server: &Server, token: &str, query: &str) -> ComplaintList {
    json_of(get(server, &format!("/v1/complaints{query}"), token).await, 200).await
}

async fn change(server: &Server, token: &str, id: i64, body: Value) -> reqwest::Response {
    send(server, Method::PATCH, &format!("/v1/complaints/{id}"), token, Some(body)).await
}

async fn a_complaint_about_a_chat_and_a_ticket_is_stored_once_and_shown_to_operators(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "ann").await;
    let (ticket, reference) = ticket_of(server, tenant.token(), conversation).await;
    let session = login(server, &tenant.site, "ann").await;
    // Seed 003's camelCase names.
    let body = json!({"category": "funds", "description": format!("  {TEXT}  "), "chatId": conversation, "dialogId": ticket});
    let id = filed(server, &session, body.clone()).await;
    // A retry of the same request is the same complaint.
    let again: ComplaintCreated = json_of(file(server, &session, body).await, 200).await;
    assert_eq!(again, ComplaintCreated { id, duplicate: true });
    let listed = list(server, tenant.token(), "").await;
    assert_eq!(listed.complaints.len(), 1);
    let complaint = &listed.complaints[0];
    assert_eq!((complaint.id, complaint.category, complaint.status), (id, ComplaintCategory::Funds, ComplaintStatus::Open));
    assert_eq!(complaint.description, TEXT, "trimmed");
    assert_eq!((complaint.conversation_id, complaint.ticket_id), (Some(conversation), Some(ticket)));
    assert_eq!(complaint.ticket_reference.as_deref(), Some(reference.as_str()));
    assert_eq!((complaint.site_id, complaint.user.as_ref().and_then(|u| u.user_id.as_deref())), (tenant.site.id, Some("ann")));
    assert_eq!((complaint.handled_by, complaint.handled_at.as_deref()), (None, None));
    // Neither id is needed.
    filed(server, &session, json!({"category": "other", "description": "The app logs me out every hour"})).await;
}

async fn each_seed_category_is_accepted_and_any_other_is_422(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = login(server, &tenant.site, "bea").await;
    for category in ["funds", "security", "operator", "technical", "other"] {
        filed(server, &session, json!({"category": category, "description": format!("{TEXT} ({category})")})).await;
    }
    for category in ["billing", "FUNDS", "", " "] {
        let response = file(server, &session, json!({"category": category, "description": TEXT})).await;
        assert_error(response, 422, "validation_error", &format!("category {category}")).await;
    }
    let response = file(server, &session, json!({"description": TEXT})).await;
    assert_error(response, 422, "validation_error", "no category").await;
    assert_error(file(server, &session, json!({"category": 3, "description": TEXT})).await, 400, "bad_request", "a number").await;
    let categories: Vec<ComplaintCategory> = list(server, tenant.token(), "").await.complaints.iter().map(|c| c.category).collect();
    assert_eq!(categories.len(), 5, "only the five were stored: {categories:?}");
    for category in ComplaintCategory::ALL {
        assert!(categories.contains(&category), "{category:?}");
    }
}

async fn a_description_needs_ten_characters_after_trimming(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = login(server, &tenant.site, "cid").await;
    for (description, what) in [
        ("Too short".to_string(), "9 characters"),
        ("    123456789     ".to_string(), "9 characters between spaces"),
        (String::new(), "empty"),
        ("x".repeat(5_001), "over 5,000 characters"),
    ] {
        let response = file(server, &session, json!({"category": "technical", "description": description})).await;
        assert_error(response, 422, "validation_error", what).await;
    }
    assert!(list(server, tenant.token(), "").await.complaints.is_empty(), "nothing stored");
    filed(server, &session, json!({"category": "technical", "description": "1234567890"})).await;
    filed(server, &session, json!({"category": "technical", "description": "éèêëēėęěĕə"})).await;
    filed(server, &session, json!({"category": "technical", "description": "x".repeat(5_000)})).await;
}

async fn another_users_chat_or_ticket_is_404_and_stores_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "dora").await;
    let (ticket, _) = ticket_of(server, tenant.token(), conversation).await;
    let own_conversation = user_conversation(server, &tenant.site, "mallory").await;
    let mallory = login(server, &tenant.site, "mallory").await;
    let stranger_tenant = signup(server, &IPS).await;
    let stranger = login(server, &stranger_tenant.site, "dora").await;
    for (session, body, what) in [
        (&mallory, json!({"chat_id": conversation}), "another user's conversation"),
        (&mallory, json!({"dialog_id": ticket}), "another user's ticket"),
        (&mallory, json!({"chat_id": own_conversation, "dialog_id": ticket}), "their own conversation with another's ticket"),
        (&mallory, json!({"chat_id": i64::from(i32::MAX)}), "an unknown conversation"),
        (&stranger, json!({"chat_id": conversation}), "the same user id on another site"),
        (&stranger, json!({"dialog_id": ticket}), "a ticket of another site"),
    ] {
        let mut body = body;
        body["category"] = json!("security");
        body["description"] = json!(TEXT);
        assert_error(file(server, session, body).await, 404, "not_found", what).await;
    }
    assert!(list(server, tenant.token(), "").await.complaints.is_empty(), "nothing stored");
    assert!(list(server, stranger_tenant.token(), "").await.complaints.is_empty(), "nothing stored");
    assert_error(
        server.client().post(format!("{}/api/v1/app/complaints", server.base())).json(&json!({})).send().await.unwrap(),
        401,
        "unauthorized",
        "no session",
    )
    .await;
}

async fn operators_filter_page_and_mark_complaints_handled(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = login(server, &tenant.site, "eli").await;
    let mut ids = Vec::new();
    for (category, n) in [("funds", 1), ("security", 2), ("funds", 3), ("operator", 4), ("funds", 5)] {
        ids.push(filed(server, &session, json!({"category": category, "description": format!("{TEXT}, number {n}")})).await);
    }
    let funds = list(server, tenant.token(), "?category=funds").await;
    assert_eq!(funds.complaints.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[4], ids[2], ids[0]], "newest first");
    // Pages of two follow the cursor to the end.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    loop {
        let page = list(server, tenant.token(), &query).await;
        assert!(page.complaints.len() <= 2);
        seen.extend(page.complaints.iter().map(|c| c.id));
        match page.next_cursor {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids.iter().rev().copied().collect::<Vec<_>>());
    // Marked handled: who and when.
    let handled: Complaint =
        json_of(change(server, tenant.token(), ids[1], json!({"status": "handled", "note": "Reset the 2FA"})).await, 200).await;
    assert_eq!((handled.status, handled.note.as_deref()), (ComplaintStatus::Handled, Some("Reset the 2FA")));
    assert_eq!((handled.handled_by, handled.handled_by_name.as_deref()), (Some(tenant.id()), Some(tenant.name())));
    assert!(handled.handled_at.as_deref().is_some_and(|at| at >= handled.created_at.as_str()), "{handled:?}");
    let done = list(server, tenant.token(), "?status=handled").await;
    assert_eq!(done.complaints.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[1]]);
    let open = list(server, tenant.token(), &format!("?status=open&site_id={}", tenant.site.id)).await;
    assert_eq!(open.complaints.len(), 4);
    assert!(list(server, tenant.token(), "?site_id=999999999").await.complaints.is_empty());
    // Reopened: the handler is cleared, the note stays unless replaced.
    let reopened: Complaint = json_of(change(server, tenant.token(), ids[1], json!({"status": "open"})).await, 200).await;
    assert_eq!((reopened.status, reopened.handled_by, reopened.handled_at), (ComplaintStatus::Open, None, None));
    assert_eq!(reopened.note.as_deref(), Some("Reset the 2FA"));
    // A handled complaint filed again is a new one; reopening the old one then clashes.
    let first = filed(server, &session, json!({"category": "other", "description": "Notifications arrive twice"})).await;
    let _: Complaint = json_of(change(server, tenant.token(), first, json!({"status": "handled"})).await, 200).await;
    let second = filed(server, &session, json!({"category": "other", "description": "Notifications arrive twice"})).await;
    assert_ne!(first, second);
    assert_error(change(server, tenant.token(), first, json!({"status": "open"})).await, 409, "conflict", "the same complaint is open")
        .await;
}

async fn bad_filters_and_changes_are_refused_and_another_accounts_complaint_is_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = login(server, &tenant.site, "fay").await;
    let id = filed(server, &session, json!({"category": "operator", "description": TEXT})).await;
    for query in ["?category=billing", "?status=closed", "?cursor=abc", "?limit=0", "?limit=101", "?site_id=x"] {
        assert_error(get(server, &format!("/v1/complaints{query}"), tenant.token()).await, 422, "validation_error", query).await;
    }
    for (body, what) in [
        (json!({"status": "closed"}), "an unknown status"),
        (json!({}), "no status"),
        (json!({"status": "handled", "note": "n".repeat(2_001)}), "a note over 2,000 characters"),
    ] {
        assert_error(change(server, tenant.token(), id, body).await, 422, "validation_error", what).await;
    }
    assert_error(change(server, tenant.token(), id, json!(["handled"])).await, 400, "bad_request", "an array").await;
    let stranger = signup(server, &IPS).await;
    assert!(list(server, stranger.token(), "").await.complaints.is_empty(), "another account lists none");
    let response = change(server, stranger.token(), id, json!({"status": "handled"})).await;
    assert_error(response, 404, "not_found", "another account's complaint").await;
    assert_error(change(server, tenant.token(), i64::from(i32::MAX), json!({"status": "handled"})).await, 404, "not_found", "unknown")
        .await;
    let unchanged = list(server, tenant.token(), "").await;
    assert_eq!((unchanged.complaints[0].status, unchanged.complaints[0].handled_by), (ComplaintStatus::Open, None), "nothing changed");
    assert_error(server.get("/v1/complaints").await, 401, "unauthorized", "no token").await;
}
