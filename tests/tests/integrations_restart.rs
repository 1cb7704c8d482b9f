//! The event bus across a `wrangler dev` restart (issue 13): local queues
//! live in memory, so a delivery whose queue message a restart lost must be
//! finished from D1 (the sweep re-enqueues deliveries overdue for
//! `BUS_SWEEP_AFTER_SECONDS`). Its own binary and server, because it stops
//! the server in the middle.

use std::time::{Duration, Instant};

use edgechat_shared::api::integrations::{DeliveryOutcome, WebhookDeliveryList, WebhookEndpoint};
use edgechat_tests::http::{json_of, unique};
use edgechat_tests::webhook_receiver::{wait_for_log, WebhookReceiver};
use edgechat_tests::*;
use serde_json::{json, Value};

static IPS: IpPool = IpPool::new("10.114");
static RECEIVER: std::sync::OnceLock<WebhookReceiver> = std::sync::OnceLock::new();

fn main() {
    RECEIVER.get_or_init(WebhookReceiver::start);
    let server = Server::start_with(
        "integrations_restart",
        &[
            ("WEBHOOKS_ALLOW_LOCAL", "true"),
            // The retry after the first failure waits 15 s: the restart
            // happens first, even when the old server takes its 5 s to stop.
            ("WEBHOOK_RETRY_BASE_SECONDS", "15"),
            ("WEBHOOK_MAX_ATTEMPTS", "8"),
            ("BUS_SWEEP_AFTER_SECONDS", "2"),
        ],
    );
    run_trials(server, trials![server; a_restart_between_the_write_and_the_delivery_loses_nothing])
}

async fn a_restart_between_the_write_and_the_delivery_loses_nothing(server: &'static Server) {
    let receiver = RECEIVER.get().unwrap();
    let tenant = signup(server, &IPS).await;
    let hook = unique("restart");
    receiver.fail(&hook, u32::MAX);
    let body = json!({"url": receiver.hook_url(&hook), "events": ["rating.created"]});
    let endpoint: WebhookEndpoint = json_of(post(server, "/v1/webhooks", tenant.token(), body).await, 201).await;
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(tenant.site_key(), &session, "Hello, anyone there?")).await;
    assert_eq!(streamed.status, 200);
    let rate = json!({"site_key": tenant.site_key(), "session_id": session, "score": 5});
    let _: Value = json_of(post_public(server, &IPS, "/api/v1/chat/rate", &rate).await, 200).await;
    // The first attempt fails; its retry waits in the queue when the server stops.
    let first = receiver.wait_for(&hook, Duration::from_secs(30), |r| !r.is_empty()).await;
    assert_eq!(first.len(), 1, "the first attempt reached the receiver");
    // The worker logs the attempt (and schedules its retry) after the
    // receiver answered: restart only once that is stored, or the claim's
    // 60 s lease, not the retry, decides when the sweep sends it again.
    let logged = wait_for_log(server, tenant.token(), endpoint.id, Duration::from_secs(30), |l| !l.deliveries.is_empty()).await;
    assert_eq!(logged.deliveries.len(), 1, "the first attempt was logged");
    server.restart();
    receiver.fail(&hook, 0);
    // Later events (contact changes nobody subscribed to) drive the consumers,
    // whose sweep finds the overdue delivery in D1.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    while receiver.received(&hook).iter().all(|r| r.status != 204) && Instant::now() < deadline {
        n += 1;
        let contact = json!({"site_key": tenant.site_key(), "session_id": session, "email": format!("visitor{n}@example.com")});
        let _: Value = json_of(post_public(server, &IPS, "/api/v1/chat/contact", &contact).await, 200).await;
        receiver.wait_for(&hook, Duration::from_secs(2), |r| r.iter().any(|r| r.status == 204)).await;
    }
    let got = receiver.received(&hook);
    let delivered: Vec<_> = got.iter().filter(|r| r.status == 204).collect();
    assert_eq!(delivered.len(), 1, "delivered once after the restart: {:?}", got.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(delivered[0].header("webhook-id"), first[0].header("webhook-id"), "the same event");
    assert_eq!(delivered[0].body, first[0].body, "the same bytes");
    standardwebhooks::Webhook::new(endpoint.secret.as_deref().unwrap()).unwrap().verify(&delivered[0].body, &delivered[0].headers).unwrap();
    let log: WebhookDeliveryList =
        json_of(get(server, &format!("/v1/webhooks/{}/deliveries", endpoint.id), tenant.token()).await, 200).await;
    let lines: Vec<(u32, DeliveryOutcome)> = log.deliveries.iter().map(|d| (d.attempt, d.outcome)).collect();
    assert_eq!(lines, [(2, DeliveryOutcome::Succeeded), (1, DeliveryOutcome::Failed)]);
}
