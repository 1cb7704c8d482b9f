//! Integrations (issue 13) against one real `wrangler dev`: seed 000's
//! `/v1/chat/*` routes, account API keys, the event bus and its webhooks,
//! and email. Each concern is a module with its own `trials(server)`.

#[path = "integrations/chat.rs"]
mod chat;
#[path = "integrations/keys.rs"]
mod keys;

use edgechat_tests::*;

fn main() {
    let server = Server::start("integrations");
    let mut trials = chat::trials(server);
    trials.extend(keys::trials(server));
    run_trials(server, trials)
}
