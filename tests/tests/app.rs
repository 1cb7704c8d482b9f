//! Signed-in users (seed 003, issue 14) against one real `wrangler dev`: app
//! sessions, a user's conversations, tickets, CSAT and complaints, devices
//! and push. One module per concern, each with its own `trials(server)`.

#[path = "app/complaints.rs"]
mod complaints;
#[path = "app/conversations.rs"]
mod conversations;
#[path = "app/csat.rs"]
mod csat;
#[path = "app/push.rs"]
mod push;
#[path = "app/reasons.rs"]
mod reasons;
#[path = "app/session.rs"]
mod session;
#[path = "app/tickets.rs"]
mod tickets;

use edgechat_tests::*;

fn main() {
    tickets::start_receiver();
    csat::start_receiver();
    let push_vars = push::vars();
    let mut vars: Vec<(&str, &str)> = push_vars.iter().map(|(name, value)| (*name, value.as_str())).collect();
    vars.extend(tickets::VARS);
    let server = Server::start_with("app", &vars);
    let mut trials = session::trials(server);
    trials.extend(conversations::trials(server));
    trials.extend(tickets::trials(server));
    trials.extend(csat::trials(server));
    trials.extend(complaints::trials(server));
    trials.extend(push::trials(server));
    trials.extend(reasons::trials(server));
    run_trials(server, trials)
}
