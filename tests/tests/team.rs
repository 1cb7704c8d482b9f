//! Team messaging (issue 12, seed 002) against one real `wrangler dev`:
//! membership and per-operator state, message edits, reactions, forwards,
//! search and sync, and operator media. Each concern is a module with its
//! own `trials(server)`.

#[path = "team/media.rs"]
mod media;
#[path = "team/membership.rs"]
mod membership;
#[path = "team/messages.rs"]
mod messages;

use edgechat_tests::*;

fn main() {
    let server = Server::start("team");
    let mut trials = membership::trials(server);
    trials.extend(messages::trials(server));
    trials.extend(media::trials(server));
    run_trials(server, trials)
}
