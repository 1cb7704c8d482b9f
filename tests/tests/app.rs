//! Signed-in users (seed 003, issue 14) against one real `wrangler dev`: app
//! sessions, a user's conversations, tickets, CSAT and complaints, devices
//! and push. One module per concern, each with its own `trials(server)`.

#[path = "app/conversations.rs"]
mod conversations;
#[path = "app/reasons.rs"]
mod reasons;
#[path = "app/session.rs"]
mod session;

use edgechat_tests::*;

fn main() {
    let server = Server::start_with("app", &[]);
    let mut trials = session::trials(server);
    trials.extend(conversations::trials(server));
    trials.extend(reasons::trials(server));
    run_trials(server, trials)
}
