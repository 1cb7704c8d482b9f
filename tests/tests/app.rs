//! Signed-in users (seed 003, issue 14) against one real `wrangler dev`: app
//! sessions, a user's conversations, tickets, CSAT and complaints, devices
//! and push. One module per concern, each with its own `trials(server)`.

#[path = "app/conversations.rs"]
mod conversations;
#[path = "app/push.rs"]
mod push;
#[path = "app/session.rs"]
mod session;

use edgechat_tests::*;

fn main() {
    let push_vars = push::vars();
    let vars: Vec<(&str, &str)> = push_vars.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let server = Server::start_with("app", &vars);
    let mut trials = session::trials(server);
    trials.extend(conversations::trials(server));
    trials.extend(push::trials(server));
    run_trials(server, trials)
}
