//! The short CI version of the load and fault suite (`cargo xtask soak`):
//! 20 visitors and 2 operators for 30 s against a real `wrangler dev`, with
//! the AI stand-in failing and stalling, the webhook receiver failing,
//! visitors dropping their streams, and one kill and restart of `wrangler
//! dev` on the same state. Nothing acknowledged may be lost or stored twice,
//! every stored message must reach its visitor's live channel, and no error
//! may happen that is neither documented nor caused by a fault.

use std::time::Duration;

use edgechat_tests::soak::{self, Config, Stack};
use edgechat_tests::{run_trials, Trial};

fn main() {
    let stack: &'static Stack = Box::leak(Box::new(Stack::start("soak_ci")));
    let trial = Trial::test("twenty_visitors_and_two_operators_through_faults_lose_nothing", move || {
        let config = Config { visitors: 20, operators: 2, duration: Duration::from_secs(30), rss_every: Duration::from_secs(5) };
        let report = edgechat_tests::runtime().block_on(soak::run(stack, config));
        report.print();
        assert_eq!((report.lost, report.duplicated), (0, 0), "every acknowledged message stored exactly once");
        assert_eq!(report.gaps, 0, "every stored message reached its visitor's live channel");
        assert_eq!(report.unexpected_total(), 0, "no unexpected error: {:?}", report.unexpected);
        let (visitor, ai, operator) = report.acknowledged;
        assert!(visitor >= 40 && ai >= 20 && operator >= 4, "the load ran: {:?}", report.acknowledged);
        assert!(report.resumes > 0, "live channels resumed with Last-Event-ID");
        Ok(())
    });
    run_trials(stack.server, vec![trial])
}
