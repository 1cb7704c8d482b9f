//! Integrations (issue 13) against one real `wrangler dev`: seed 000's
//! `/v1/chat/*` routes. Each concern is a module with its own `trials(server)`.

#[path = "integrations/chat.rs"]
mod chat;

use edgechat_tests::*;

fn main() {
    let server = Server::start("integrations");
    let trials = chat::trials(server);
    run_trials(server, trials)
}
