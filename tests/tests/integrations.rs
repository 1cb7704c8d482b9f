//! The integration layer (issue 13) against one real `wrangler dev`: one
//! module per concern, each with its own `trials(server)`. Stand-ins for
//! outside services start before the server, which gets their URLs as vars.

#[path = "integrations/email.rs"]
mod email;

use edgechat_tests::email_standin::{self, ResendStandIn};
use edgechat_tests::*;

fn main() {
    let resend = ResendStandIn::shared();
    let server = Server::start_with(
        "integrations",
        &[("RESEND_BASE_URL", &resend.url), ("RESEND_API_KEY", email_standin::API_KEY), ("EMAIL_FROM", email::FROM)],
    );
    let trials = email::trials(server);
    run_trials(server, trials)
}
