//! Integrations (issue 13) against one real `wrangler dev`: seed 000's
//! `/v1/chat/*` routes, account API keys, the event bus and its webhooks,
//! and email. One module per concern, each with its own `trials(server)`.
//! Stand-ins for outside services (the webhook receiver, Resend) start
//! before the server, which gets their URLs and the vars the modules need.

#[path = "integrations/bus.rs"]
mod bus;
#[path = "integrations/chat.rs"]
mod chat;
#[path = "integrations/email.rs"]
mod email;
#[path = "integrations/keys.rs"]
mod keys;

use edgechat_tests::email_standin::{self, ResendStandIn};
use edgechat_tests::*;

fn main() {
    bus::start_receiver();
    let resend = ResendStandIn::shared();
    let mut vars = vec![("RESEND_BASE_URL", resend.url.as_str()), ("RESEND_API_KEY", email_standin::API_KEY), ("EMAIL_FROM", email::FROM)];
    vars.extend(bus::VARS);
    let server = Server::start_with("integrations", &vars);
    let mut trials = chat::trials(server);
    trials.extend(keys::trials(server));
    trials.extend(email::trials(server));
    trials.extend(bus::trials(server));
    run_trials(server, trials)
}
