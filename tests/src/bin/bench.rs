//! `cargo xtask bench`, latency part: against its own `wrangler dev`, the
//! time to the first streamed chunk and to `done` of
//! `POST /api/v1/chat/stream` (kb responder) over 200+ requests, as
//! p50/p90/p99 in ms (budget: first chunk p50 ≤ 20 ms, ARCHITECTURE.md).

use std::time::Duration;

use edgechat_tests::*;

const REQUESTS: usize = 240;
const WARM_UP: usize = 20;

const QUESTIONS: &[&str] = &[
    "How do I install the widget on my website?",
    "Where do I find my site key?",
    "How do I deploy to Cloudflare?",
    "Can I talk to a human?",
    "How much does it cost?",
    "Where is my data stored?",
    "Which browsers are supported?",
    "What happens when nobody is online?",
];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<34} n={:<4} p50 {:>7.2} ms   p90 {:>7.2} ms   p99 {:>7.2} ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99)
    );
}

fn main() {
    let server = Server::start("bench");
    runtime().block_on(async {
        let mut first_chunk = Vec::new();
        let mut done = Vec::new();
        for i in 0..WARM_UP + REQUESTS {
            // A new visitor every 8 questions, so conversations grow as in real use.
            let session = format!("sess_bench_{:024}", i / 8);
            let streamed = server.stream(&demo_request(&session, QUESTIONS[i % QUESTIONS.len()])).await;
            assert_eq!(streamed.status, 200);
            if i >= WARM_UP {
                first_chunk.push(streamed.first_chunk_after().expect("a chunk arrived"));
                done.push(streamed.done_after().expect("done arrived"));
            }
        }
        println!("\n== POST /api/v1/chat/stream, kb responder, local wrangler dev (sequential) ==");
        report("time to first chunk", first_chunk.clone());
        report("time to done", done);
        let p50 = {
            first_chunk.sort();
            percentile(&first_chunk, 0.5)
        };
        println!("{:<34} p50 ≤ 20 ms → {}", "  budget", if p50 <= 20.0 { "ok" } else { "OVER" });
    });
    server.stop();
}
