//! Integrations (issue 13) against one real `wrangler dev`: account API
//! keys, the event bus and its webhooks, and email. Each concern is a
//! module with its own `trials(server)`.

#[path = "integrations/keys.rs"]
mod keys;

use edgechat_tests::*;

fn main() {
    let server = Server::start("integrations");
    let trials = keys::trials(server);
    run_trials(server, trials)
}
