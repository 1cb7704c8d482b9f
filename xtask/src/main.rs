//! `cargo xtask <task>`: the project's two commands and their helpers.
//!
//! - `dev [--port N]`: bootstrap, build, migrate and seed the local D1, serve
//!   the demo page and the operator console on `wrangler dev`, print their
//!   URLs, the demo site key and the demo operator's login.
//! - `test`: `cargo fmt --check` and `cargo clippy -D warnings` first, then
//!   bootstrap (plus Chromium), build, the worker's upload size (a `wrangler
//!   deploy --dry-run`, at most the Free plan's 3 MiB gzip), every test (unit,
//!   integration against `wrangler dev`, browser), and last a check that the
//!   run left no file for `git status` to report.
//! - `bench [SECTION…]`: `sizes` (of `loader.js`, the widget, the console
//!   and the worker upload), then the latency sections (`live` beside the
//!   baseline room and its Rust twin, `kb`, …; `tests/src/bin/bench.rs`);
//!   all when none is named.
//! - `fuzz [--minutes N]`: the property tests of every parser of untrusted
//!   input, each for its share of N minutes (default 10; see `xtask::fuzz`).
//! - `soak --minutes N [--visitors 200 --operators 5]`: the load and fault
//!   suite against its own `wrangler dev` (see `xtask::soak`).
//! - `build`: bootstrap and build the worker, the widget and the console.
//! - `deploy`: the README's deploy steps for a logged-in `wrangler`, idempotent
//!   (see `xtask::deploy`).
//! - `kb-import --site-key KEY [--url URL] [--email E --password P] FILE`:
//!   import JSON Lines articles into a site's knowledge base through the
//!   operator API of a running EdgeChat.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use flate2::write::GzEncoder;
use xtask::{bootstrap, build, check, deploy, fuzz, root, run, seed, wrangler, Result, DEMO_SITE_KEY};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        Some("soak") => xtask::soak::soak(&args[1..]),
        Some("fuzz") => fuzz_minutes(&args[1..]).and_then(fuzz::fuzz),
        // `build worker`: only the worker (a change to worker/ or shared/).
        Some("build") if args.get(1).is_some_and(|a| a == "worker") => bootstrap::toolchain().and_then(|tools| build::worker(&tools)),
        Some("build") => bootstrap::toolchain().and_then(|tools| build::all(&tools)),
        Some("deploy") => deploy::deploy(),
        Some("kb-import") => kb_import(&args[1..]),
        _ => Err(
            "usage: cargo xtask <dev [--port N] | test | bench [SECTION…] | fuzz [--minutes N] | soak --minutes N [--visitors 200 --operators 5] | build [worker] | deploy | kb-import --site-key KEY [--url URL] FILE>"
                .into(),
        ),
    };
    if let Err(err) = result {
        eprintln!("xtask: {err}");
        std::process::exit(1);
    }
}

/// The value following `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// The local state of `cargo xtask dev`.
fn dev_state() -> PathBuf {
    root().join(".wrangler/state")
}

fn dev(args: &[String]) -> Result<()> {
    let port: u16 = flag(args, "--port").unwrap_or("8787").parse().map_err(|_| "--port takes a port number")?;
    let tools = bootstrap::toolchain()?;
    build::all(&tools)?;
    let state = dev_state();
    wrangler::migrate(&state)?;
    seed::demo_account(&state)?;
    dev_vars()?;
    // Local webhook receivers (http://127.0.0.1:PORT) are allowed in development only.
    let mut server = wrangler::WranglerDev::spawn(&state, port, &[("WEBHOOKS_ALLOW_LOCAL", "true")], true)?;
    let articles = seed::demo_kb(&server.url)?;
    println!();
    println!("  EdgeChat is running on wrangler dev.");
    println!("  Demo page:      {}/", server.url);
    println!("  Console:        {}/app/", server.url);
    println!("  Demo site key:  {DEMO_SITE_KEY} ({articles} knowledge-base articles)");
    println!("  Demo operator:  {} / {}", seed::DEMO_OPERATOR_EMAIL, seed::DEMO_OPERATOR_PASSWORD);
    println!("  Stop with Ctrl-C.");
    println!();
    server.wait()
}

/// Writes `.dev.vars` (git-ignored) with a random `JWT_SECRET` when it has none.
fn dev_vars() -> Result<()> {
    let path = root().join(".dev.vars");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if !current.lines().any(|l| l.starts_with("JWT_SECRET=")) {
        std::fs::write(&path, format!("{current}JWT_SECRET={}\n", seed::random_hex(32)?))?;
    }
    Ok(())
}

fn test() -> Result<()> {
    let started = Instant::now();
    let status_before = check::git_status();
    bootstrap::rust_components()?;
    check::fmt()?;
    check::clippy()?;
    let tools = bootstrap::toolchain()?;
    bootstrap::chromium()?;
    build::all(&tools)?;
    let upload = deploy::dry_run()?;
    eprint!("xtask: worker upload (wrangler deploy --dry-run)\n{}", upload.report());
    upload.check_free_plan()?;
    run(Command::new("cargo")
        .args([
            "test",
            "-p",
            "edgechat-shared",
            "-p",
            "edgechat-worker",
            "-p",
            "edgechat-widget",
            "-p",
            "edgechat-console",
            "-p",
            "xtask",
            "-p",
            "edgechat-tests",
        ])
        .current_dir(root()))?;
    match (status_before, check::git_status()) {
        (Some(before), Some(after)) => check::left_clean(&before, &after)?,
        _ => eprintln!("xtask: not a git checkout; the clean-tree check is skipped"),
    }
    eprintln!("xtask: all checks and tests passed in {:.0?}", started.elapsed());
    Ok(())
}

/// `--minutes N` of `cargo xtask fuzz` (a positive number; default 10).
fn fuzz_minutes(args: &[String]) -> Result<f64> {
    match args {
        [] => Ok(10.0),
        [flag, n] if flag == "--minutes" => {
            n.parse::<f64>().ok().filter(|n| *n > 0.0).ok_or_else(|| format!("--minutes {n}: not a positive number").into())
        }
        _ => Err("usage: cargo xtask fuzz [--minutes N]".into()),
    }
}

/// `cargo xtask bench [SECTION…]`: `sizes` here, the latency sections
/// (`live`, `kb`, `stream`, `fanout`, … see `tests/src/bin/bench.rs`) in the
/// bench binary; every section when none is named.
fn bench(sections: &[String]) -> Result<()> {
    let all = sections.is_empty();
    let tools = bootstrap::toolchain()?;
    if all || sections.iter().any(|s| s == "console") {
        // The console latency bench drives headless Chromium.
        bootstrap::chromium()?;
    }
    build::all(&tools)?;
    if all || sections.iter().any(|s| s == "live") {
        build::rust_room(&tools)?;
    }
    if all || sections.iter().any(|s| s == "sizes") {
        print_sizes()?;
        println!("\n== worker upload (wrangler deploy --dry-run; limits: developers.cloudflare.com/workers/platform/limits) ==");
        print!("{}", deploy::dry_run()?.report());
    }
    let latency: Vec<&str> = sections.iter().map(String::as_str).filter(|s| *s != "sizes").collect();
    if !all && latency.is_empty() {
        return Ok(());
    }
    // A debug build: the release profile is tuned for wasm size, and the
    // client's own cost is microseconds against millisecond latencies.
    run(Command::new("cargo").args(["run", "-p", "edgechat-tests", "--bin", "bench", "--"]).args(latency).current_dir(root()))
}

/// Imports a JSON Lines file into a site's knowledge base through the
/// operator API of a running EdgeChat (`cargo xtask dev` by default).
fn kb_import(args: &[String]) -> Result<()> {
    let site_key = flag(args, "--site-key").ok_or("kb-import needs --site-key KEY")?;
    let url = flag(args, "--url").unwrap_or("http://127.0.0.1:8787");
    let email = flag(args, "--email").unwrap_or(seed::DEMO_OPERATOR_EMAIL);
    let password = flag(args, "--password").unwrap_or(seed::DEMO_OPERATOR_PASSWORD);
    let file = args
        .last()
        .filter(|a| !a.starts_with("--") && args.len() % 2 == 1)
        .ok_or("usage: cargo xtask kb-import --site-key KEY [--url URL] [--email E --password P] FILE")?;
    let tokens = seed::login(url, email, password)?;
    let count = seed::import_kb(url, &tokens.access_token, site_key, Path::new(file))?;
    println!("imported {count} articles into {site_key} at {url}");
    Ok(())
}

/// Raw, gzip (level 9) and brotli (quality 11) sizes of `bytes`.
fn sizes(bytes: &[u8]) -> Result<(usize, usize, usize)> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gzip = gz.finish()?.len();
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &brotli::enc::BrotliEncoderParams { quality: 11, ..Default::default() })?;
    Ok((bytes.len(), gzip, br.len()))
}

fn print_sizes() -> Result<()> {
    let public = build::public_dir();
    let (wasm, js) = build::built_widget_files(false)?;
    let css = build::widget_css();
    println!("\n== sizes (bytes; budgets from ARCHITECTURE.md) ==");
    println!("{:<28} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let mut widget = (0, 0, 0);
    for (name, path) in [("loader.js", public.join("loader.js")), ("widget wasm", wasm), ("widget JS glue", js)] {
        let (raw, gzip, br) = sizes(&std::fs::read(&path)?)?;
        println!("{name:<28} {raw:>9} {gzip:>9} {br:>9}");
        if name != "loader.js" {
            widget = (widget.0 + raw, widget.1 + gzip, widget.2 + br);
        } else {
            println!("{:<28} {:>29}", "  budget", format!("gzip ≤ 2048 → {}", if gzip <= 2048 { "ok" } else { "OVER" }));
        }
    }
    // The stylesheet is compiled into the wasm (`include_str!`, adopted as a
    // constructed stylesheet): counted there, shown here for reference only.
    let (raw, gzip, br) = sizes(&std::fs::read(&css)?)?;
    println!("{:<28} {raw:>9} {gzip:>9} {br:>9}", "  (widget CSS, in the wasm)");
    println!("{:<28} {:>9} {:>9} {:>9}", "widget total", widget.0, widget.1, widget.2);
    println!("{:<28} {:>29}", "  budget", format!("gzip ≤ 102400 (aim 61440) → {}", if widget.1 <= 102_400 { "ok" } else { "OVER" }));
    // Signed-in users (`EdgeChat('login', …)`) import the `app` build instead.
    let (app_wasm, app_js) = build::built_widget_files(true)?;
    let mut app = (0, 0, 0);
    for path in [app_wasm, app_js] {
        let (raw, gzip, br) = sizes(&std::fs::read(&path)?)?;
        app = (app.0 + raw, app.1 + gzip, app.2 + br);
    }
    println!("{:<28} {:>9} {:>9} {:>9}", "widget app build (login)", app.0, app.1, app.2);
    let mut console = (0, 0, 0);
    for path in build::built_console_files()? {
        let (raw, gzip, br) = sizes(&std::fs::read(&path)?)?;
        let kind = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        println!("{:<28} {raw:>9} {gzip:>9} {br:>9}", format!("console {kind}"));
        console = (console.0 + raw, console.1 + gzip, console.2 + br);
    }
    println!("{:<28} {:>9} {:>9} {:>9}", "console total", console.0, console.1, console.2);
    println!("{:<28} {:>29}", "  budget", format!("gzip ≤ 409600 → {}", if console.1 <= 409_600 { "ok" } else { "OVER" }));
    Ok(())
}
