//! `cargo xtask <task>`: the project's two commands and their helpers.
//!
//! - `dev [--port N]`: bootstrap, build, migrate and seed the local D1, serve
//!   the demo page on `wrangler dev`, print its URL and the demo site key.
//! - `test`: bootstrap (plus Chromium), build, then every test: unit,
//!   integration against `wrangler dev`, browser.
//! - `bench`: sizes of `loader.js` and the widget, then latency benches.
//! - `build`: bootstrap and build the worker and the widget.
//! - `kb-import --site-key KEY [--persist-to DIR] FILE`: import JSON Lines
//!   articles into a site's knowledge base in the local D1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::write::GzEncoder;
use xtask::{bootstrap, build, root, run, seed, wrangler, Result, DEMO_SITE_KEY};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(),
        Some("build") => bootstrap::toolchain().and_then(|tools| build::all(&tools)),
        Some("kb-import") => kb_import(&args[1..]),
        _ => Err("usage: cargo xtask <dev [--port N] | test | bench | build | kb-import --site-key KEY [--persist-to DIR] FILE>".into()),
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
    let articles = seed::demo(&state)?;
    let mut server = wrangler::WranglerDev::spawn(&state, port, true)?;
    println!();
    println!("  EdgeChat is running on wrangler dev.");
    println!("  Demo page:      {}/", server.url);
    println!("  Demo site key:  {DEMO_SITE_KEY} ({articles} knowledge-base articles)");
    println!("  Stop with Ctrl-C.");
    println!();
    server.wait()
}

fn test() -> Result<()> {
    let tools = bootstrap::toolchain()?;
    bootstrap::chromium()?;
    build::all(&tools)?;
    run(Command::new("cargo")
        .args(["test", "-p", "edgechat-shared", "-p", "xtask", "-p", "edgechat-tests"])
        .current_dir(root()))
}

fn bench() -> Result<()> {
    let tools = bootstrap::toolchain()?;
    build::all(&tools)?;
    print_sizes()?;
    // A debug build: the release profile is tuned for wasm size, and the
    // client's own cost is microseconds against millisecond latencies.
    run(Command::new("cargo").args(["run", "-p", "edgechat-tests", "--bin", "bench"]).current_dir(root()))
}

fn kb_import(args: &[String]) -> Result<()> {
    let site_key = flag(args, "--site-key").ok_or("kb-import needs --site-key KEY")?;
    let persist = flag(args, "--persist-to").map(PathBuf::from).unwrap_or_else(dev_state);
    let file = args.last().filter(|a| !a.starts_with("--") && Some(a.as_str()) != Some(site_key)).ok_or("kb-import needs a FILE")?;
    edgechat_shared::validate::site_key(site_key).map_err(|e| e.message)?;
    wrangler::migrate(&persist)?;
    let count = seed::site_with_kb(&persist, site_key, site_key, Path::new(file))?;
    println!("imported {count} articles into {site_key} ({})", persist.display());
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
    let (wasm, js) = build::built_widget_files()?;
    let css = root().join("widget/style.css");
    println!("\n== sizes (bytes; budgets from ARCHITECTURE.md) ==");
    println!("{:<28} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let mut widget = (0, 0, 0);
    for (name, path) in [("loader.js", public.join("loader.js")), ("widget wasm", wasm), ("widget JS glue", js), ("widget CSS", css)] {
        let (raw, gzip, br) = sizes(&std::fs::read(&path)?)?;
        println!("{name:<28} {raw:>9} {gzip:>9} {br:>9}");
        if name != "loader.js" {
            widget = (widget.0 + raw, widget.1 + gzip, widget.2 + br);
        } else {
            println!("{:<28} {:>29}", "  budget", format!("gzip ≤ 2048 → {}", if gzip <= 2048 { "ok" } else { "OVER" }));
        }
    }
    println!("{:<28} {:>9} {:>9} {:>9}", "widget total", widget.0, widget.1, widget.2);
    println!(
        "{:<28} {:>29}",
        "  budget",
        format!("gzip ≤ 102400 (aim 61440) → {}", if widget.1 <= 102_400 { "ok" } else { "OVER" })
    );
    Ok(())
}
