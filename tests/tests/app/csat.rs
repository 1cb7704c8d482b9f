//! CSAT (seed 003, issue 14): a signed-in user rates one of their
//! conversations (`ratings`, shared with the widget's rating) or tickets
//! (`ticket_ratings`) with `POST /api/v1/app/csat`, once per (user, thing);
//! operators read the report with `GET /v1/ratings`.
//!
//! Each trial signs up its own accounts (from `10.149.x.y`).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgechat_shared::api::rating::{CsatResponse, RateResponse, RatingsReport};
use edgechat_shared::api::sites::Site;
use edgechat_shared::api::tickets::TicketDetail;
use edgechat_tests::app::{app_login, app_send};
use edgechat_tests::webhook_receiver::WebhookReceiver;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        rating_a_conversation_is_201_once_and_a_duplicate_is_200_with_a_null_id,
        a_conversation_rating_is_one_rating_created_bus_event,
        a_conversation_rated_in_the_widget_counts_as_rated_and_the_other_way_round,
        rating_a_ticket_is_idempotent_per_user_and_ticket,
        bad_csat_bodies_are_400_or_422_and_store_nothing,
        another_users_or_sites_conversation_or_ticket_is_404,
        csat_needs_an_app_session,
        the_ratings_report_filters_by_site_and_period,
        bad_report_queries_are_422_and_another_accounts_site_reports_nothing,
    ]
}

// ---------------------------------------------------------------- helpers

/// Client addresses of this module's sign-ups, sign-ins and widget visits (`10.149.x.y`).
pub static IPS: IpPool = IpPool::new("10.149");

static RECEIVER: OnceLock<WebhookReceiver> = OnceLock::new();

/// Starts the webhook receiver of the bus trial; call before the server
/// starts (it needs `WEBHOOKS_ALLOW_LOCAL`, which the tickets module sets).
pub fn start_receiver() {
    RECEIVER.get_or_init(WebhookReceiver::start);
}

/// A tenant's site identity secret.
pub fn secret_of(site: &Site) -> String {
    site.identity_secret.clone().expect("the owner sees the identity secret")
}

/// A conversation of the site's signed-in user `user_id`, started in the
/// widget with `user_hash` (the same user an app session of `user_id` is); answers its id.
pub async fn user_conversation(server: &Server, site: &Site, user_id: &str) -> i64 {
    let request = visitor_request(&site.site_key, &new_session_id(), "Hello, I have a question about my order");
    let response = server
        .client()
        .post(format!("{}/api/v1/chat/stream", server.base()))
        .header("cf-connecting-ip", IPS.next())
        .query(&[("user_id", user_id), ("user_hash", user_hash(&secret_of(site), user_id).as_str())])
        .json(&request)
        .send()
        .await
        .expect("the stream answers");
    let streamed = Streamed::read(response, Instant::now()).await;
    assert_eq!(streamed.status, 200);
    streamed.done().conversation_id
}

/// A ticket an operator of `token` made from `conversation_id`; answers its id and reference.
pub async fn ticket_of(server: &Server, token: &str, conversation_id: i64) -> (i64, String) {
    let body = json!({"subject": "Refund for order 1042", "conversation_id": conversation_id});
    let made: TicketDetail = json_of(post(server, "/v1/tickets", token, body).await, 201).await;
    (made.ticket.id, made.ticket.reference)
}

/// The session of user `user_id` of `site`.
pub async fn login(server: &Server, site: &Site, user_id: &str) -> String {
    app_login(server, &IPS, &site.site_key, &secret_of(site), user_id).await
}

async fn rate(server: &Server, session: &str, body: Value) -> reqwest::Response {
    app_send(server, Method::POST, "/api/v1/app/csat", session, Some(body)).await
}

/// `GET /v1/ratings{query}` as `token`; panics unless 200.
async fn report(server: &Server, token: &str, query: &str) -> RatingsReport {
    json_of(get(server, &format!("/v1/ratings{query}"), token).await, 200).await
}

// ---------------------------------------------------------------- trials

async fn rating_a_conversation_is_201_once_and_a_duplicate_is_200_with_a_null_id(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "ada").await;
    let session = login(server, &tenant.site, "ada").await;
    // Seed 003's camelCase name.
    let first: CsatResponse =
        json_of(rate(server, &session, json!({"stars": 4, "comment": "Quick and kind", "conversationId": conversation})).await, 201).await;
    assert!(first.id.is_some() && !first.duplicate, "{first:?}");
    let again: CsatResponse = json_of(rate(server, &session, json!({"stars": 1, "conversation_id": conversation})).await, 200).await;
    assert_eq!(again, CsatResponse { id: None, duplicate: true });
    let report = report(server, tenant.token(), "").await;
    assert_eq!((report.count, report.average, report.distribution.as_slice()), (1, Some(4.0), &[0, 0, 0, 1, 0][..]), "the first stays");
    assert_eq!(report.comments.len(), 1);
    assert_eq!((report.comments[0].comment.as_str(), report.comments[0].conversation_id), ("Quick and kind", Some(conversation)));
    assert_eq!(report.comments[0].ticket_id, None);
    // The operators' conversation view shows it.
    let detail: Value = json_of(get(server, &format!("/v1/chat/conversations/{conversation}"), tenant.token()).await, 200).await;
    assert_eq!((detail["rating"]["stars"].as_i64(), detail["rating"]["comment"].as_str()), (Some(4), Some("Quick and kind")), "{detail}");
}

async fn a_conversation_rating_is_one_rating_created_bus_event(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let receiver = RECEIVER.get().expect("the receiver started in main");
    let hook = unique("ratings");
    let body = json!({"url": receiver.hook_url(&hook), "events": ["rating.created"]});
    let _: Value = json_of(post(server, "/v1/webhooks", tenant.token(), body).await, 201).await;
    let first = user_conversation(server, &tenant.site, "jo").await;
    let second = user_conversation(server, &tenant.site, "kim").await;
    let jo = login(server, &tenant.site, "jo").await;
    let _: CsatResponse = json_of(rate(server, &jo, json!({"stars": 5, "conversation_id": first})).await, 201).await;
    let _: CsatResponse = json_of(rate(server, &jo, json!({"stars": 1, "conversation_id": first})).await, 200).await;
    let kim = login(server, &tenant.site, "kim").await;
    let _: CsatResponse = json_of(rate(server, &kim, json!({"stars": 2, "conversation_id": second})).await, 201).await;
    let got = receiver.wait_for(&hook, Duration::from_secs(30), |r| r.len() >= 2).await;
    let mut rated: Vec<i64> = got.iter().filter_map(|r| r.json()["data"]["conversation_id"].as_i64()).collect();
    rated.sort_unstable();
    assert_eq!(rated, [first.min(second), first.max(second)], "one event per first rating, none for the duplicate");
    assert!(got.iter().all(|r| r.json()["type"] == "rating.created"));
}

async fn a_conversation_rated_in_the_widget_counts_as_rated_and_the_other_way_round(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant.site);
    let widget_rate = |user: &'static str, score: i64| {
        server
            .client()
            .post(format!("{}/api/v1/chat/rate", server.base()))
            .header("cf-connecting-ip", IPS.next())
            .query(&[("user_id", user.to_string()), ("user_hash", user_hash(&secret, user))])
            .json(&json!({"site_key": tenant.site_key(), "session_id": new_session_id(), "score": score}))
            .send()
    };
    // Rated in the widget (as the verified user) first: the app's rating is a duplicate.
    let conversation = user_conversation(server, &tenant.site, "bo").await;
    let rated: RateResponse = json_of(widget_rate("bo", 5).await.expect("rate"), 200).await;
    assert!(!rated.duplicate);
    let session = login(server, &tenant.site, "bo").await;
    let app: CsatResponse = json_of(rate(server, &session, json!({"stars": 2, "conversation_id": conversation})).await, 200).await;
    assert_eq!(app, CsatResponse { id: None, duplicate: true });
    // Rated in the app first: the widget's rating is the duplicate.
    let conversation = user_conversation(server, &tenant.site, "cat").await;
    let session = login(server, &tenant.site, "cat").await;
    let _: CsatResponse = json_of(rate(server, &session, json!({"stars": 3, "conversation_id": conversation})).await, 201).await;
    let rated: RateResponse = json_of(widget_rate("cat", 1).await.expect("rate"), 200).await;
    assert!(rated.duplicate, "the app's rating counts in the widget");
    let report = report(server, tenant.token(), "").await;
    assert_eq!((report.count, report.distribution.as_slice()), (2, &[0, 0, 1, 0, 1][..]));
}

async fn rating_a_ticket_is_idempotent_per_user_and_ticket(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "cy").await;
    let (ticket, reference) = ticket_of(server, tenant.token(), conversation).await;
    let session = login(server, &tenant.site, "cy").await;
    let first: CsatResponse =
        json_of(rate(server, &session, json!({"stars": 2, "comment": "Slow refund", "ticketId": ticket})).await, 201).await;
    assert!(first.id.is_some());
    let again: CsatResponse = json_of(rate(server, &session, json!({"stars": 5, "ticket_id": ticket})).await, 200).await;
    assert_eq!(again, CsatResponse { id: None, duplicate: true });
    // The chat the ticket came from is another thing to rate.
    let _: CsatResponse = json_of(rate(server, &session, json!({"stars": 5, "conversation_id": conversation})).await, 201).await;
    let report = report(server, tenant.token(), "").await;
    assert_eq!((report.count, report.average, report.distribution.as_slice()), (2, Some(3.5), &[0, 1, 0, 0, 1][..]));
    let comment = report.comments.iter().find(|c| c.ticket_id == Some(ticket)).expect("the ticket's comment");
    assert_eq!((comment.stars, comment.comment.as_str()), (2, "Slow refund"));
    assert_eq!((comment.ticket_reference.as_deref(), comment.conversation_id), (Some(reference.as_str()), Some(conversation)));
}

async fn bad_csat_bodies_are_400_or_422_and_store_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "di").await;
    let (ticket, _) = ticket_of(server, tenant.token(), conversation).await;
    let session = login(server, &tenant.site, "di").await;
    for (body, what) in [
        (json!({"stars": 0, "conversation_id": conversation}), "0 stars"),
        (json!({"stars": 6, "conversation_id": conversation}), "6 stars"),
        (json!({"stars": -1, "ticket_id": ticket}), "negative stars"),
        (json!({"conversation_id": conversation}), "no stars"),
        (json!({"stars": 3}), "neither id"),
        (json!({"stars": 3, "conversation_id": conversation, "ticket_id": ticket}), "both ids"),
        (json!({"stars": 3, "ticket_id": ticket, "comment": "x".repeat(2_001)}), "a comment over 2,000 characters"),
    ] {
        assert_error(rate(server, &session, body).await, 422, "validation_error", what).await;
    }
    for (body, what) in [
        (json!({"stars": "five", "conversation_id": conversation}), "stars as text"),
        (json!({"stars": 5, "conversation_id": "one"}), "an id as text"),
        (json!([5]), "an array"),
    ] {
        assert_error(rate(server, &session, body).await, 400, "bad_request", what).await;
    }
    let report = report(server, tenant.token(), "").await;
    assert_eq!(report.count, 0, "nothing stored");
}

async fn another_users_or_sites_conversation_or_ticket_is_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "eve-victim").await;
    let (ticket, _) = ticket_of(server, tenant.token(), conversation).await;
    let neighbour = login(server, &tenant.site, "mallory").await;
    let stranger_tenant = signup(server, &IPS).await;
    let stranger = login(server, &stranger_tenant.site, "eve-victim").await;
    for (session, who) in [(&neighbour, "another user of the site"), (&stranger, "the same user id on another site")] {
        for body in [json!({"stars": 1, "conversation_id": conversation}), json!({"stars": 1, "ticket_id": ticket})] {
            assert_error(rate(server, session, body.clone()).await, 404, "not_found", &format!("{who}: {body}")).await;
        }
    }
    let nobody = json!({"stars": 1, "conversation_id": i64::from(i32::MAX)});
    assert_error(rate(server, &neighbour, nobody).await, 404, "not_found", "an unknown conversation").await;
    assert_eq!(report(server, tenant.token(), "").await.count, 0, "nothing stored");
    // The owner still rates both the first time.
    let owner = login(server, &tenant.site, "eve-victim").await;
    let _: CsatResponse = json_of(rate(server, &owner, json!({"stars": 5, "conversation_id": conversation})).await, 201).await;
    let _: CsatResponse = json_of(rate(server, &owner, json!({"stars": 5, "ticket_id": ticket})).await, 201).await;
}

async fn csat_needs_an_app_session(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let response =
        server.client().post(format!("{}/api/v1/app/csat", server.base())).json(&json!({"stars": 5, "ticket_id": 1})).send().await.unwrap();
    assert_error(response, 401, "unauthorized", "no token").await;
    assert_error(rate(server, tenant.token(), json!({"stars": 5, "ticket_id": 1})).await, 401, "unauthorized", "an operator token").await;
}

async fn the_ratings_report_filters_by_site_and_period(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let second: Site = json_of(post(server, "/v1/sites", tenant.token(), json!({"name": unique("Second shop")})).await, 201).await;
    for (site, user, stars) in [(&tenant.site, "fi", 5), (&tenant.site, "gu", 4), (&second, "ha", 1)] {
        let conversation = user_conversation(server, site, user).await;
        let session = login(server, site, user).await;
        let body = json!({"stars": stars, "conversation_id": conversation, "comment": format!("{stars} from {user}")});
        let _: CsatResponse = json_of(rate(server, &session, body).await, 201).await;
    }
    let all = report(server, tenant.token(), "").await;
    assert_eq!((all.count, all.distribution.as_slice()), (3, &[1, 0, 0, 1, 1][..]));
    assert!(all.average.is_some_and(|a| (a - 10.0 / 3.0).abs() < 1e-9), "{all:?}");
    let comments: Vec<&str> = all.comments.iter().map(|c| c.comment.as_str()).collect();
    assert_eq!(comments, ["1 from ha", "4 from gu", "5 from fi"], "newest first");
    let first = report(server, tenant.token(), &format!("?site_id={}", tenant.site.id)).await;
    assert_eq!((first.count, first.average), (2, Some(4.5)));
    let other = report(server, tenant.token(), &format!("?site_id={}", second.id)).await;
    assert_eq!((other.count, other.average, other.comments.len()), (1, Some(1.0), 1));
    // One day, both ends included: the ratings stamped that day (UTC).
    let today = &all.comments[0].created_at[..10];
    let that_day = all.comments.iter().filter(|c| c.created_at.starts_with(today)).count() as u32;
    assert_eq!(report(server, tenant.token(), &format!("?from={today}&to={today}")).await.count, that_day);
    assert_eq!(report(server, tenant.token(), "?from=2999-01-01").await.count, 0, "a period to come");
    let empty = report(server, tenant.token(), "?from=2000-01-01&to=2000-12-31").await;
    assert_eq!((empty.count, empty.average, empty.distribution.as_slice()), (0, None, &[0, 0, 0, 0, 0][..]));
    assert!(empty.comments.is_empty());
}

async fn bad_report_queries_are_422_and_another_accounts_site_reports_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = user_conversation(server, &tenant.site, "ivy").await;
    let session = login(server, &tenant.site, "ivy").await;
    let _: CsatResponse = json_of(rate(server, &session, json!({"stars": 3, "conversation_id": conversation})).await, 201).await;
    for query in ["?from=2026-13-01", "?to=yesterday", "?from=2026-02-30", "?from=2026-03-02&to=2026-03-01", "?site_id=abc"] {
        assert_error(get(server, &format!("/v1/ratings{query}"), tenant.token()).await, 422, "validation_error", query).await;
    }
    let stranger = signup(server, &IPS).await;
    assert_eq!(report(server, stranger.token(), "").await.count, 0, "another account sees none of them");
    let theirs = report(server, stranger.token(), &format!("?site_id={}", tenant.site.id)).await;
    assert_eq!(theirs.count, 0, "naming another account's site reports nothing");
    assert_error(server.get("/v1/ratings").await, 401, "unauthorized", "no token").await;
}
