//! A site's request topics (`request_reasons`, issue 14): set with
//! `PATCH /v1/sites/{id}` by the owner, answered in the site and in the
//! widget's `GET /api/v1/chat/config` (`reasons`); bad lists are 422 and
//! store nothing; agents and other accounts cannot set them.
//!
//! Each trial signs up its own accounts (from `10.151.x.y`).

use edgechat_shared::api::auth::TokenResponse;
use edgechat_shared::api::config::WidgetConfig;
use edgechat_shared::api::sites::{RequestReason, Site};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        an_owner_sets_topics_the_widget_config_answers,
        bad_topic_lists_are_422_and_store_nothing,
        agents_and_other_accounts_cannot_set_topics,
    ]
}

static IPS: IpPool = IpPool::new("10.151");

fn site_path(tenant: &Tenant) -> String {
    format!("/v1/sites/{}", tenant.site.id)
}

async fn set_reasons(server: &Server, token: &str, path: &str, reasons: Value) -> reqwest::Response {
    send(server, Method::PATCH, path, token, Some(json!({ "request_reasons": reasons }))).await
}

async fn config(server: &Server, site_key: &str) -> WidgetConfig {
    json_of(server.get(&format!("/api/v1/chat/config?site_key={site_key}")).await, 200).await
}

fn topics() -> Value {
    json!([{"main": "Payments", "subs": ["Refund", "Card declined"]}, {"main": "Delivery"}])
}

fn expected() -> Vec<RequestReason> {
    vec![
        RequestReason { main: "Payments".into(), subs: vec!["Refund".into(), "Card declined".into()] },
        RequestReason { main: "Delivery".into(), subs: vec![] },
    ]
}

async fn an_owner_sets_topics_the_widget_config_answers(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    assert!(tenant.site.request_reasons.is_empty(), "a new site has no topics");
    assert!(config(server, tenant.site_key()).await.reasons.is_empty());
    let site: Site = json_of(set_reasons(server, tenant.token(), &site_path(&tenant), topics()).await, 200).await;
    assert_eq!(site.request_reasons, expected());
    let again: Site = json_of(get(server, &site_path(&tenant), tenant.token()).await, 200).await;
    assert_eq!(again.request_reasons, expected());
    assert_eq!(config(server, tenant.site_key()).await.reasons, expected());
    // Other fields leave the topics alone; an empty list removes them.
    let renamed: Site =
        json_of(send(server, Method::PATCH, &site_path(&tenant), tenant.token(), Some(json!({"name": "Renamed"}))).await, 200).await;
    assert_eq!(renamed.request_reasons, expected());
    let cleared: Site = json_of(set_reasons(server, tenant.token(), &site_path(&tenant), json!([])).await, 200).await;
    assert!(cleared.request_reasons.is_empty());
    assert!(config(server, tenant.site_key()).await.reasons.is_empty());
}

async fn bad_topic_lists_are_422_and_store_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let path = site_path(&tenant);
    json_of::<Site>(set_reasons(server, tenant.token(), &path, topics()).await, 200).await;
    let long = "x".repeat(101);
    let many: Vec<Value> = (0..21).map(|i| json!({"main": format!("Topic {i}")})).collect();
    let subs: Vec<String> = (0..11).map(|i| format!("Sub {i}")).collect();
    for (what, reasons) in [("21 topics", json!(many)), ("11 sub-topics", json!([{"main": "Payments", "subs": subs}]))] {
        let body = assert_error(set_reasons(server, tenant.token(), &path, reasons).await, 422, "too_many_items", what).await;
        assert!(body.message.contains("request_reasons"), "{what}: {}", body.message);
    }
    let bad = [
        ("an empty topic", json!([{"main": ""}])),
        ("a blank topic", json!([{"main": "   "}])),
        ("a 101-character topic", json!([{"main": long}])),
        ("an empty sub-topic", json!([{"main": "Payments", "subs": [""]}])),
        ("a 101-character sub-topic", json!([{"main": "Payments", "subs": [long]}])),
    ];
    for (what, reasons) in bad {
        let body = assert_error(set_reasons(server, tenant.token(), &path, reasons).await, 422, "validation_error", what).await;
        assert!(body.message.contains("request_reasons"), "{what}: {}", body.message);
    }
    for (what, reasons) in [("a string", json!("Payments")), ("a topic without main", json!([{"subs": []}]))] {
        let (status, _) = error_of(set_reasons(server, tenant.token(), &path, reasons).await).await;
        assert!(matches!(status, 400 | 422), "{what}: {status}");
    }
    // The limits themselves pass.
    let twenty: Vec<Value> =
        (0..20).map(|i| json!({"main": format!("{i:0>100}"), "subs": (0..10).map(|j| format!("{j:0>100}")).collect::<Vec<_>>()})).collect();
    let site: Site = json_of(set_reasons(server, tenant.token(), &path, json!(twenty)).await, 200).await;
    assert_eq!(site.request_reasons.len(), 20);
    json_of::<Site>(set_reasons(server, tenant.token(), &path, topics()).await, 200).await;
    // A bad list beside a good name changes nothing.
    let both = json!({"name": "Never", "request_reasons": [{"main": ""}]});
    assert_error(send(server, Method::PATCH, &path, tenant.token(), Some(both)).await, 422, "validation_error", "bad topics with a name")
        .await;
    let stored: Site = json_of(get(server, &path, tenant.token()).await, 200).await;
    assert_eq!((stored.name.as_str(), stored.request_reasons), (tenant.site.name.as_str(), expected()));
    assert_eq!(config(server, tenant.site_key()).await.reasons, expected());
}

async fn agents_and_other_accounts_cannot_set_topics(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let path = site_path(&tenant);
    assert_error(set_reasons(server, other.token(), &path, topics()).await, 404, "not_found", "another account's site").await;
    let email = format!("{}@example.com", unique("agent"));
    let body = json!({"email": email, "display_name": "Sam Agent", "role": "agent", "password": PASSWORD});
    assert_eq!(post(server, "/v1/users", tenant.token(), body).await.status().as_u16(), 201);
    let agent: TokenResponse = server.login(&email, PASSWORD).await;
    let (status, _) = error_of(set_reasons(server, &agent.access_token, &path, topics()).await).await;
    assert_eq!(status, 403, "an agent may not change the site");
    let stored: Site = json_of(get(server, &path, tenant.token()).await, 200).await;
    assert!(stored.request_reasons.is_empty(), "nothing stored");
}
