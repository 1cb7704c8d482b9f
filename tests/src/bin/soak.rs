//! `cargo xtask soak --minutes N [--visitors 200] [--operators 5]`: the load
//! and fault suite ([`edgechat_tests::soak`]) against its own `wrangler dev`
//! (state in `target/test-runs/soak`). Prints the report, whose last line is
//! `lost: N, duplicated: N`; exits 1 when a message was lost or stored
//! twice, a live channel missed one, or an unexpected error happened.

use std::time::Duration;

use edgechat_tests::soak::{self, Config, Stack};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}")))
            .unwrap_or(default)
    };
    let config = Config {
        visitors: flag("--visitors", 200.0) as usize,
        operators: flag("--operators", 5.0) as usize,
        duration: Duration::from_secs_f64(flag("--minutes", 3.0) * 60.0),
        rss_every: Duration::from_secs(10),
    };
    let stack = Stack::start("soak");
    let report = edgechat_tests::runtime().block_on(soak::run(&stack, config));
    report.print();
    stack.server.stop();
    if report.lost + report.duplicated + report.gaps > 0 || report.unexpected_total() > 0 {
        std::process::exit(1);
    }
}
