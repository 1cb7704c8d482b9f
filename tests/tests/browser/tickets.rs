//! Browser test of the console's Tickets view (issue 14): "Make a ticket"
//! in a conversation opens the new ticket; its status changes with a note,
//! both on its timeline; the list filters by status. Screenshots land in
//! `target/test-runs/browser/tickets/`.
//!
//! Hooks the console offers: `[data-action=make-ticket]`, the forms
//! `[data-form=make-ticket]` and `[data-form=ticket-status]`, list rows
//! `li[data-ticket][data-status]`, the timeline `ol.timeline li[data-kind]`.

use std::time::Duration;

use edgechat_shared::api::tickets::{TicketDetail, TicketStatus, TimelineKind};
use edgechat_tests::browser::Browser;
use edgechat_tests::*;

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.95");

pub async fn tickets_made_from_a_conversation_in_the_console_change_status_with_a_note(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let streamed = server.stream(&visitor_request(tenant.site_key(), &new_session_id(), "My refund never arrived")).await;
    let conversation = streamed.done().conversation_id;
    let shots = run_dir("browser").join("tickets");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let browser = Browser::start(&run_dir("browser").join("chromium-tickets")).await;
    browser.resize(1280, 900).await;
    browser.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    browser.client.goto(&format!("{}/app/conversations/{conversation}", server.url)).await.unwrap();
    browser.element("[data-action=make-ticket]", WAIT).await.click().await.unwrap();
    browser.element("[data-form=make-ticket] input[name=subject]", WAIT).await.send_keys("Refund not received").await.unwrap();
    browser.button("Make ticket", WAIT).await.click().await.unwrap();
    browser.wait_until("return location.pathname.startsWith('/app/tickets/');", WAIT).await;
    browser.wait_until("return document.querySelector('section.ticket')?.innerText.includes('EC-1001') === true;", WAIT).await;
    let path = browser.eval("return location.pathname;").await;
    let id: i64 = path.as_str().and_then(|p| p.rsplit('/').next()).and_then(|s| s.parse().ok()).expect("a ticket id in the path");
    let made: TicketDetail = json_of(get(server, &format!("/v1/tickets/{id}"), tenant.token()).await, 200).await;
    assert_eq!((made.ticket.conversation_id, made.ticket.subject.as_str()), (Some(conversation), "Refund not received"));
    browser.wait_until("return document.body.innerText.includes('My refund never arrived');", WAIT).await;
    browser.screenshot(&shots.join("made.png")).await;

    // Resolve it with a note.
    browser.element("[data-form=ticket-status] select[name=status]", WAIT).await.select_by_value("resolved").await.unwrap();
    browser.element("[data-form=ticket-status] textarea[name=note]", WAIT).await.send_keys("Refund sent today").await.unwrap();
    browser.button("Save", WAIT).await.click().await.unwrap();
    browser
        .wait_until(
            "const t = document.querySelector('ol.timeline')?.innerText || ''; return t.includes('Submitted → Resolved') && t.includes('Refund sent today');",
            WAIT,
        )
        .await;
    let after: TicketDetail = json_of(get(server, &format!("/v1/tickets/{id}"), tenant.token()).await, 200).await;
    let last = after.timeline.last().expect("an entry");
    assert_eq!(
        (after.ticket.status, last.kind, last.note.as_deref()),
        (TicketStatus::Resolved, TimelineKind::Status, Some("Refund sent today"))
    );
    browser.wait_until(&format!("return document.querySelector(\"li[data-ticket='{id}']\")?.dataset.status === 'resolved';"), WAIT).await;
    browser.screenshot(&shots.join("resolved.png")).await;

    // The status filter.
    browser.element("select[aria-label='Status filter']", WAIT).await.select_by_value("closed").await.unwrap();
    browser.wait_until("return document.body.innerText.includes('No tickets here.');", WAIT).await;
    browser.element("select[aria-label='Status filter']", WAIT).await.select_by_value("resolved").await.unwrap();
    browser.wait_until(&format!("return document.querySelector(\"li[data-ticket='{id}']\") !== null;"), WAIT).await;
    browser.close().await;
}
