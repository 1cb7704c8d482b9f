//! Release builds of the worker (`worker-build`), the widget and the operator
//! console (cargo → wasm-bindgen → wasm-opt), assembled with `index.html` and
//! `loader.js` into `public/`, the worker's static assets (`[assets]` in
//! `wrangler.toml`): the demo page at `/`, the console at `/app/`.

use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bootstrap::Tools;
use crate::{root, run, Result};

/// The static assets directory served by the worker.
pub fn public_dir() -> PathBuf {
    root().join("public")
}

/// `wasm-opt` features matching what rustc's wasm32 target emits.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

/// Builds everything into `worker/build/` and `public/`.
pub fn all(tools: &Tools) -> Result<()> {
    worker(tools)?;
    widget(tools)?;
    console(tools)?;
    openapi()
}

/// Where the worker reads libphonenumber's metadata, in `public/`: the
/// path `worker/js/phone.js` fetches from the `ASSETS` binding.
pub const PHONE_METADATA: &str = "data/phone-metadata.json";

/// Copies libphonenumber's complete metadata (`libphonenumber-js`'s
/// `metadata.max.json`, the npm package the worker bundles) into the static
/// assets, [`PHONE_METADATA`]: the worker reads it on its first phone check
/// instead of carrying it in its upload (issue 16: 39 KB of gzip).
pub fn phone_metadata() -> Result<()> {
    let to = public_dir().join(PHONE_METADATA);
    fs::create_dir_all(to.parent().expect("a file in a directory"))?;
    fs::copy(root().join("node_modules/libphonenumber-js/metadata.max.json"), &to)
        .map_err(|e| format!("node_modules/libphonenumber-js/metadata.max.json: {e} (npm ci)"))?;
    Ok(())
}

/// Copies the committed OpenAPI document (`worker/openapi.json`, generated
/// by the worker's tests) into the static assets, where Cloudflare serves it
/// at `/openapi.json` without running the worker (see `worker/src/openapi.rs`).
pub fn openapi() -> Result<()> {
    fs::create_dir_all(public_dir())?;
    fs::copy(root().join("worker/openapi.json"), public_dir().join("openapi.json"))?;
    Ok(())
}

fn with_node_path(cmd: &mut Command) -> &mut Command {
    let bin = root().join("node_modules/.bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(paths).expect("PATH entries are joinable"))
}

/// `worker-build --release` with the pinned wasm-bindgen, then `wasm-opt
/// -Oz --strip-debug` on its wasm (worker-build's own wasm-opt step is off in
/// `worker/Cargo.toml`: it keeps the name sections, 0.9 MB of the upload).
///
/// The standard library is compiled with the worker, for size
/// ([`with_small_std`], [`WORKER_RUSTFLAGS`]; issue 16: −41.6 KB of the
/// wasm's gzip); a toolchain that refuses it gets the plain build and a
/// warning, as for the apps.
pub fn worker(tools: &Tools) -> Result<()> {
    eprintln!("xtask: building the worker (release)");
    worker_build(tools, &root().join("worker"), None)?;
    phone_metadata()?;
    let symbols = root().join(SYMBOLS);
    optimize_worker_wasm(tools, &root().join("worker/build/index_bg.wasm"), Some(&symbols))?;
    match fs::metadata(&symbols) {
        Ok(file) if file.len() > 0 => Ok(()),
        _ => Err(format!("wasm-opt wrote no function names to {SYMBOLS}").into()),
    }
}

/// Builds the bench's reference room in Rust (`bench/rust-room`, see
/// `bench/README.md`) into `bench/rust-room/build/` as [`worker`] builds
/// the worker (the small std, [`WORKER_RUSTFLAGS`], `wasm-opt -Oz`), in
/// its own target directory so that the worker's artifacts stay.
pub fn rust_room(tools: &Tools) -> Result<()> {
    eprintln!("xtask: building the bench's Rust room (release)");
    let dir = root().join("bench/rust-room");
    worker_build(tools, &dir, Some(&root().join("target/bench-rust-room")))?;
    optimize_worker_wasm(tools, &dir.join("build/index_bg.wasm"), None)
}

/// `worker-build --release` of the crate in `dir` with the pinned
/// wasm-bindgen and the small std ([`with_small_std`],
/// [`WORKER_RUSTFLAGS`]), or with the prebuilt std and a warning when the
/// toolchain refuses it; in `target_dir` when given.
fn worker_build(tools: &Tools, dir: &Path, target_dir: Option<&Path>) -> Result<()> {
    let build = |small: bool| {
        let mut cmd = Command::new(&tools.worker_build);
        cmd.arg("--release").current_dir(dir).env("WASM_BINDGEN_BIN", &tools.wasm_bindgen).env("WASM_OPT_BIN", &tools.wasm_opt);
        if let Some(target_dir) = target_dir {
            cmd.env("CARGO_TARGET_DIR", target_dir);
        }
        if small {
            with_small_std(&mut cmd, WORKER_RUSTFLAGS);
        }
        run(with_node_path(&mut cmd))
    };
    if let Err(e) = build(true) {
        eprintln!("xtask: WARNING: the size-optimised build of {} failed ({e}); building it with the prebuilt std (larger)", dir.display());
        build(false)?;
    }
    Ok(())
}

/// `wasm-opt -Oz --converge` of a worker's `wasm` in place, without debug or producer
/// sections; the function names first written to `symbols` when given.
fn optimize_worker_wasm(tools: &Tools, wasm: &Path, symbols: Option<&Path>) -> Result<()> {
    let mut cmd = Command::new(&tools.wasm_opt);
    // `--converge`: the passes again while they shrink the module (1.4 KB
    // of the worker's gzip; issue 16).
    cmd.arg(wasm).args(["-Oz", "--converge"]);
    if let Some(symbols) = symbols {
        // The function names, written before they are stripped (stripping renumbers no function).
        cmd.arg("--symbolmap").arg(format!("--pass-arg=symbolmap@{}", symbols.display()));
    }
    run(cmd
        .args(["--strip-debug", "--strip-producers"])
        .args(WASM_FEATURES)
        // workers-rs unwinds panics with wasm exception handling.
        .arg("--enable-exception-handling")
        .arg("-o")
        .arg(wasm))
}

/// The names of the deployed worker's wasm functions, one `N:name` line
/// each (binaryen's `--symbolmap`), `N` as a trap's stack prints it
/// (`wasm-function[N]`): the upload carries no name section (0.9 MB), so a
/// panic's stack is read with this file of the same build
/// (`grep '^N:' worker/build/index_bg.symbols.txt`).
pub const SYMBOLS: &str = "worker/build/index_bg.symbols.txt";

/// The file names of the widget's two builds, named by one content hash
/// of both for immutable caching: `widget/edgechat-<hash>.{js,wasm}` (the
/// anonymous visitors' build) and `widget/edgechat-app-<hash>.{js,wasm}`
/// (with the signed-in users' requests, feature `app`, imported on
/// `EdgeChat('login', …)`).
#[derive(Debug, Clone)]
pub struct WidgetFiles {
    /// The hash in every file name (12 hex digits).
    pub hash: String,
}

/// The minified stylesheet that [`widget`] compiles into the widget.
pub fn widget_css() -> PathBuf {
    root().join("target/widget-style.min.css")
}

/// Builds the widget and writes `public/` (index.html, loader.js naming the
/// hashed widget files, the widget, `_headers`).
pub fn widget(tools: &Tools) -> Result<WidgetFiles> {
    eprintln!("xtask: building the widget (release)");
    let root = root();
    let public = public_dir();
    let _ = fs::remove_dir_all(public.join("widget"));
    fs::create_dir_all(public.join("widget"))?;
    // The stylesheet compiled into the widget (`include_str!` of
    // $EDGECHAT_WIDGET_CSS, `.cargo/config.toml`), minified: 0.7 KB gzip less.
    let css = widget_css();
    let minified = minify(&fs::read_to_string(root.join("widget/style.css"))?, "css", "widget/style.css")?;
    // Written only when it changed: cargo rebuilds the widget on its mtime.
    if fs::read_to_string(&css).ok().as_deref() != Some(minified.as_str()) {
        fs::create_dir_all(css.parent().ok_or("the CSS path has a directory")?)?;
        fs::write(&css, minified)?;
    }
    let env = [("EDGECHAT_WIDGET_CSS", css.as_os_str())];
    let builds = [
        (wasm_app(tools, "edgechat-widget", &[], &env)?, "edgechat"),
        (wasm_app(tools, "edgechat-widget", &["--features", "app"], &env)?, "edgechat-app"),
    ];
    // The glue's default wasm URL (beside it) will name the hashed file, and
    // the module initialises itself (top-level await), so the loader only
    // imports it and calls `mount`. The hash is of the files as served
    // (minified glue with a placeholder for the name).
    let default_wasm = "'edgechat_widget_bg.wasm'";
    let placeholder = "__EDGECHAT_WIDGET_WASM__";
    let mut files = Vec::new();
    for ((wasm, js), stem) in builds {
        if !js.contains(default_wasm) {
            return Err(format!("the widget's wasm-bindgen glue no longer names {default_wasm}").into());
        }
        let js = format!("{}\nawait __wbg_init();\n", js.replace(default_wasm, &format!("'{placeholder}'")));
        files.push((wasm, minify(&js, "js", "the widget's wasm-bindgen glue")?, stem));
    }
    let hash = content_hash(&files.iter().flat_map(|(wasm, js, _)| [wasm.as_slice(), js.as_bytes()]).collect::<Vec<_>>());
    for (wasm, js, stem) in files {
        if !js.contains(placeholder) {
            return Err("esbuild dropped the widget glue's wasm file name".into());
        }
        fs::write(public.join(format!("widget/{stem}-{hash}.wasm")), &wasm)?;
        fs::write(public.join(format!("widget/{stem}-{hash}.js")), js.replace(placeholder, &format!("{stem}-{hash}.wasm")))?;
    }
    let files = WidgetFiles { hash };
    fs::write(public.join("loader.js"), loader_js(&files)?)?;
    fs::copy(root.join("index.html"), public.join("index.html"))?;
    fs::write(
        public.join("_headers"),
        // The widget is imported from the site owner's pages, another
        // origin: a module import and the wasm fetch need CORS (public files, no credentials).
        "/widget/*\n  Cache-Control: public, max-age=31536000, immutable\n  Access-Control-Allow-Origin: *\n/loader.js\n  Cache-Control: public, max-age=300\n\
         /app/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n/app/\n  Cache-Control: no-cache\n\
         /openapi.json\n  Cache-Control: no-cache\n  Access-Control-Allow-Origin: *\n",
    )?;
    Ok(files)
}

/// Builds crate `package` for wasm32 (release, with `cargo_args` such as
/// `--features app`), runs wasm-bindgen (`--target web`) and `wasm-opt
/// -Oz`: the optimised wasm and its JS glue.
///
/// The standard library is compiled with the app ([`with_small_std`],
/// [`APP_RUSTFLAGS`]) so that a
/// panic is a bare trap: no panic messages, formatting machinery or source
/// locations in the download (issue 15: −22 KB gzip of the widget). That
/// needs `-Z` flags, which the stable compiler accepts only with
/// `RUSTC_BOOTSTRAP=1`, scoped to this one build; a toolchain that refuses
/// them (too old for `-Cpanic=immediate-abort`) gets the plain build and a
/// warning, so the files still work, only larger.
///
/// Leptos erases each component's view type (`--cfg erase_components`, an
/// `AnyView` per component; `.cargo/config.toml` sets it for every other
/// build): measured, it cuts the console by a tenth and the widget's `app`
/// build by 3.6 KB gzip. The anonymous widget has no Leptos views (its DOM
/// is written by hand, widget/src/dom.rs), so it is not affected.
fn wasm_app(tools: &Tools, package: &str, cargo_args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<(Vec<u8>, String)> {
    let root = root();
    let name = package.replace('-', "_");
    let small = root.join("target/wasm-small");
    // Replaces `.cargo/config.toml`'s rustflags (and keeps `erase_components`).
    let rustflags = format!("--cfg erase_components {APP_RUSTFLAGS}");
    let mut small_build = Command::new("cargo");
    small_build
        .args(["build", "--release", "--target", "wasm32-unknown-unknown", "-p", package])
        .args(cargo_args)
        .arg("--target-dir")
        .arg(&small)
        .envs(env.iter().copied())
        .current_dir(&root);
    let built = match run(with_small_std(&mut small_build, &rustflags)) {
        Ok(()) => small.join(format!("wasm32-unknown-unknown/release/{name}.wasm")),
        Err(e) => {
            eprintln!("xtask: WARNING: the size-optimised build of {package} failed ({e}); building it with the prebuilt std (larger)");
            run(Command::new("cargo")
                .args(["build", "--release", "--target", "wasm32-unknown-unknown", "-p", package])
                .args(cargo_args)
                .envs(env.iter().copied())
                .current_dir(&root))?;
            root.join(format!("target/wasm32-unknown-unknown/release/{name}.wasm"))
        }
    };
    let out = root.join("target").join(package);
    let _ = fs::remove_dir_all(&out);
    run(Command::new(&tools.wasm_bindgen)
        .arg(built)
        .args(["--target", "web", "--no-typescript", "--out-name", &name, "--out-dir"])
        .arg(&out))?;
    let optimized = out.join(format!("{name}.opt.wasm"));
    run(Command::new(&tools.node)
        .arg(&tools.wasm_opt)
        .arg(out.join(format!("{name}_bg.wasm")))
        .args(["-Oz", "--strip-debug", "--strip-producers"])
        .args(WASM_FEATURES)
        .arg("-o")
        .arg(&optimized))?;
    Ok((fs::read(&optimized)?, fs::read_to_string(out.join(format!("{name}.js")))?))
}

/// Makes `cmd` (a cargo build, or worker-build, which runs cargo itself)
/// compile std with the crate for size: `-Zbuild-std=std,panic_abort` with
/// std's `optimize_for_size`, given through cargo's `[unstable]`
/// configuration in the environment, the `-Z` flags allowed by
/// `RUSTC_BOOTSTRAP=1` for this command only, and `rustflags` in place of
/// the configured ones (an outside `CARGO_ENCODED_RUSTFLAGS`, which cargo
/// would prefer, is dropped so it cannot hide them).
fn with_small_std<'a>(cmd: &'a mut Command, rustflags: &str) -> &'a mut Command {
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", rustflags)
}

/// The rustc flags of the Leptos apps (widget, console) beside
/// [`with_small_std`], in [`wasm_app`]. Each was measured on the widget's
/// anonymous build (wasm gzip -9, after `wasm-opt -Oz`): 193.2 KB plain;
/// std compiled with `-Cpanic=immediate-abort` 175.5 KB; `-Zfmt-debug=none`
/// and `-Zlocation-detail=none` 173.3 KB; std's `optimize_for_size` 171.1 KB.
/// (`opt-level = "s"` was worse: 181.1 KB.)
const APP_RUSTFLAGS: &str = "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none";

/// The worker's rustc flags beside [`with_small_std`]: no source locations
/// in panic messages (`-Zlocation-detail=none`), and a panic is a trap at
/// once (`-Cpanic=immediate-abort`: no panic message is formatted or kept).
/// Measured on the worker's wasm (gzip -9, after `wasm-opt -Oz`): 1,189.3
/// KB with the prebuilt std, 1,147.7 KB with the small std (−41.6 KB); the
/// immediate abort took 28.1 KiB more off the upload. A panic then logs
/// `RuntimeError: unreachable` with the stack of `wasm-function[N]` frames,
/// and [`SYMBOLS`], written by every build, names each `N` (the messages
/// it replaces carried no location and rarely named the failing call).
/// `-Zfmt-debug=shallow` took 2.04 KiB more off (1023.96 → 1021.92 KiB of
/// upload, gzip): a derived `Debug` prints only its type's or variant's
/// name, which no response and no stored value uses (the worker's few `{:?}`
/// format strings, `str`s and `JsValue`s, whose `Debug` is written by hand
/// and stays whole; logs name ids explicitly). `none` is left out: it
/// empties every `{:?}` (the unstable book's `fmt-debug`), and serde's
/// error messages quote the offending value with one.
const WORKER_RUSTFLAGS: &str = "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=shallow";

/// The console's directory in `public/`, served at `/app/`.
pub fn console_dir() -> PathBuf {
    public_dir().join("app")
}

/// Builds the operator console into `public/app/`: `index.html` (served for
/// every `/app/…` deep link by the worker) naming the content-hashed wasm,
/// JS glue and stylesheet under `public/app/assets/` (cached for a year).
pub fn console(tools: &Tools) -> Result<()> {
    eprintln!("xtask: building the console (release)");
    let root = root();
    let (wasm, js) = wasm_app(tools, "edgechat-console", &[], &[])?;
    // The glue starts the app itself, with the wasm beside it, so the page
    // needs no inline script (its Content-Security-Policy allows none).
    let js = format!("{js}\n__wbg_init({{ module_or_path: new URL(import.meta.url.replace(/\\.js$/, '.wasm')) }});\n");
    let js = minify(&js, "js", "the console's wasm-bindgen glue")?;
    let css = fs::read_to_string(root.join("console/style.css"))?;
    let hash = content_hash(&[&wasm, js.as_bytes(), css.as_bytes()]);
    let dir = console_dir();
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("assets"))?;
    let (js_name, wasm_name, css_name) =
        (format!("assets/console-{hash}.js"), format!("assets/console-{hash}.wasm"), format!("assets/console-{hash}.css"));
    fs::write(dir.join(&wasm_name), &wasm)?;
    fs::write(dir.join(&js_name), &js)?;
    fs::write(dir.join(&css_name), &css)?;
    let index = fs::read_to_string(root.join("console/index.html"))?
        .replace("__CONSOLE_JS__", &js_name)
        .replace("__CONSOLE_WASM__", &wasm_name)
        .replace("__CONSOLE_CSS__", &css_name);
    fs::write(dir.join("index.html"), index)?;
    Ok(())
}

/// The built console files (wasm, JS glue, CSS), for size reports.
pub fn built_console_files() -> Result<Vec<PathBuf>> {
    let dir = console_dir().join("assets");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e} (run `cargo xtask build`)", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    Ok(files)
}

/// `widget/loader.js` with the hashed widget glue's name filled in,
/// minified ([`minify`]); its budget is 2 KB gzip (ARCHITECTURE.md).
///
/// Errors: the source cannot be read, or esbuild fails (its message).
pub fn loader_js(files: &WidgetFiles) -> Result<String> {
    let source = fs::read_to_string(root().join("widget/loader.js"))?.replace("__WIDGET_HASH__", &files.hash);
    minify(&source, "js", "widget/loader.js")
}

/// `source` minified by esbuild (the npm package pinned in `package.json`)
/// for browsers of 2022 on (ES2022: `?.`, `??`, `||=`). `loader` is
/// esbuild's: `js` (a script or an ES module; exported names are kept) or
/// `css`; `what` names the source in errors. The widget's wasm-bindgen glue
/// shrinks from 8.1 to 6.0 KB gzip, its stylesheet from 2.9 to 2.2 KB.
///
/// Errors: esbuild cannot run or fails (its message).
fn minify(source: &str, loader: &str, what: &str) -> Result<String> {
    let mut esbuild = Command::new(root().join("node_modules/.bin/esbuild"))
        .args(["--minify", "--target=es2022", &format!("--loader={loader}"), "--log-level=warning"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("esbuild (npm package, `cargo xtask bootstrap`): {e}"))?;
    std::io::Write::write_all(&mut esbuild.stdin.take().ok_or("esbuild's stdin")?, source.as_bytes())?;
    let out = esbuild.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("esbuild failed on {what} ({})", out.status).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The built widget files in `public/` (wasm, JS glue), for size reports:
/// the anonymous build's with `app == false`, the signed-in users' `app`
/// build's with `app == true`.
pub fn built_widget_files(app: bool) -> Result<(PathBuf, PathBuf)> {
    let dir = public_dir().join("widget");
    let mut js = None;
    let mut wasm = None;
    for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e} (run `cargo xtask build`)", dir.display()))? {
        let path = entry?.path();
        if path.to_string_lossy().contains("edgechat-app-") != app {
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("js") => js = Some(path),
            Some("wasm") => wasm = Some(path),
            _ => {}
        }
    }
    Ok((wasm.ok_or("no widget wasm built")?, js.ok_or("no widget JS built")?))
}

fn content_hash(parts: &[&[u8]]) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    for part in parts {
        hasher.write(part);
    }
    format!("{:016x}", hasher.finish())[..12].to_string()
}

/// True when `path` exists; a helpful error otherwise.
pub fn require(path: &Path, hint: &str) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(format!("{} is missing: {hint}", path.display()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worker fetches the phone metadata at the path the build copies it to.
    #[test]
    fn the_worker_reads_the_phone_metadata_where_the_build_puts_it() {
        let js = fs::read_to_string(root().join("worker/js/phone.js")).unwrap();
        assert!(
            js.contains(&format!("METADATA_PATH = '/{PHONE_METADATA}'")),
            "worker/js/phone.js names another path than {PHONE_METADATA}"
        );
    }
}
