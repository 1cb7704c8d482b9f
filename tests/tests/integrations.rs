//! Issue 13 (integrations) against one real `wrangler dev`: one module per
//! part, each with its own `trials(server)`; stand-ins for outside services
//! start before the server, which gets their URLs (and the vars the parts
//! need) at start.

#[path = "integrations/bus.rs"]
mod bus;

use edgechat_tests::*;

fn main() {
    bus::start_receiver();
    let server = Server::start_with("integrations", &bus::VARS);
    let trials = bus::trials(server);
    run_trials(server, trials)
}
