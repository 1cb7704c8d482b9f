//! Integration tests of `GET /openapi.json` against a real `wrangler dev`:
//! the document is served as JSON, validates as OpenAPI 3.1 with a real
//! validator (the official OpenAPI 3.1 schema and the specification's rules,
//! `openapi-spec-validator-rs`), and every operation it lists is routed by
//! the worker with exactly the documented methods.
//!
//! The request caps it documents (`x-max-body-bytes`, `maxItems`) are
//! probed in `openapi/caps.rs`, malformed path and query parameters in
//! `openapi/params.rs`.
//!
//! The other half, that the router serves nothing the document leaves out,
//! is the worker's native test `the_router_serves_exactly_the_documented_operations`.

#[path = "openapi/caps.rs"]
mod caps;
#[path = "openapi/params.rs"]
mod params;

use edgechat_tests::*;
use openapi_spec_validator_rs::{validate, ErrorMode, Options, Outcome, SpecVersion};
use reqwest::Method;
use serde_json::Value;

fn main() {
    let server = Server::start("openapi");
    run_trials(
        server,
        vec![
            trial(
                "the_document_is_served_as_json_and_is_the_committed_one",
                server,
                the_document_is_served_as_json_and_is_the_committed_one,
            ),
            trial("the_document_validates_as_openapi_3_1", server, the_document_validates_as_openapi_3_1),
            trial("the_validator_refuses_a_broken_document", server, the_validator_refuses_a_broken_document),
            trial(
                "every_documented_path_runs_the_worker_before_the_assets_and_no_asset_is_shadowed",
                server,
                every_documented_path_runs_the_worker_first,
            ),
            trial(
                "every_documented_operation_is_routed_with_exactly_its_methods",
                server,
                every_documented_operation_is_routed_with_exactly_its_methods,
            ),
            trial("every_operation_documents_its_answers_and_errors_use_the_envelope", server, every_operation_documents_its_answers),
            trial("every_body_is_capped_as_documented", server, caps::every_body_is_capped_as_documented),
            trial("an_article_over_the_cap_is_not_stored", server, caps::an_article_over_the_cap_is_not_stored),
            trial("every_list_is_capped_as_documented", server, caps::every_list_is_capped_as_documented),
            trial("a_list_at_its_cap_is_read", server, caps::a_list_at_its_cap_is_read),
            trial(
                "every_malformed_number_in_a_path_or_query_is_an_enveloped_4xx",
                server,
                params::every_malformed_number_in_a_path_or_query_is_an_enveloped_4xx,
            ),
        ],
    )
}

/// `[assets] run_worker_first` of `wrangler.toml`: the paths the worker
/// answers without the static-asset lookup first (`/x/*` a prefix, else
/// the exact path; Cloudflare's "Static Assets: run_worker_first").
fn run_worker_first() -> Vec<String> {
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../wrangler.toml")).expect("wrangler.toml");
    let config: toml_edit::DocumentMut = config.parse().expect("wrangler.toml is TOML");
    let patterns = config["assets"]["run_worker_first"].as_array().expect("[assets] run_worker_first is a list of patterns");
    patterns.iter().map(|p| p.as_str().expect("a pattern is a string").to_string()).collect()
}

fn covers(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == pattern,
    }
}

/// Every route of the document that is not a file of `public/` skips the
/// asset lookup (one hop less per API request), and no pattern takes a
/// path `public/` serves as a file.
async fn every_documented_path_runs_the_worker_first(server: &Server) {
    let patterns = run_worker_first();
    assert!(patterns.iter().all(|p| p.starts_with('/') && !p.starts_with('!')), "{patterns:?}");
    let document = served(server).await;
    let paths: Vec<&String> = document["paths"].as_object().expect("paths").keys().collect();
    assert!(paths.len() > 100, "the document lists the routes");
    let public = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../public"));
    let mut found = Vec::new();
    xtask::deploy::collect_files(public, &mut found).expect("public/");
    let files: Vec<String> = found.iter().map(|path| format!("/{}", path.strip_prefix(public).unwrap().to_string_lossy())).collect();
    assert!(files.iter().any(|f| f == "/loader.js"), "public/ was read: {files:?}");
    // A documented path is the worker's or a file (`/openapi.json` is both: the file answers).
    let missed: Vec<&&String> =
        paths.iter().filter(|path| !patterns.iter().any(|p| covers(p, path)) && !files.iter().any(|f| f == **path)).collect();
    assert!(missed.is_empty(), "routes behind the asset lookup: {missed:?}");
    let shadowed: Vec<&String> = files.iter().filter(|f| patterns.iter().any(|p| covers(p, f))).collect();
    assert!(shadowed.is_empty(), "assets the worker would answer instead: {shadowed:?}");
    // The worker, not the asset router, answers a path of its own that no file has.
    let response = server.get("/api/v1/no-such-route").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("the worker's JSON envelope");
    assert_eq!(body["error"], "not_found", "{body}");
}

/// The methods probed on every documented path (`HEAD` follows `GET` in
/// axum, and `OPTIONS` is the widget API's CORS preflight).
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `GET /openapi.json` as served.
async fn served(server: &Server) -> Value {
    let response = server.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type").as_deref(), Some("application/json"));
    response.json().await.expect("the document is JSON")
}

fn options() -> Options {
    Options { version: Some(SpecVersion::V3_1), errors: ErrorMode::All, ..Options::default() }
}

async fn the_document_is_served_as_json_and_is_the_committed_one(server: &Server) {
    let document = served(server).await;
    assert_eq!(document["openapi"], "3.1.0");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../worker/openapi.json")).expect("worker/openapi.json");
    assert_eq!(document, serde_json::from_str::<Value>(&committed).expect("worker/openapi.json is JSON"));
}

async fn the_document_validates_as_openapi_3_1(server: &Server) {
    let document = served(server).await;
    match validate(&document, &options()) {
        Outcome::Valid => {}
        Outcome::Invalid(errors) => {
            panic!("/openapi.json is not valid OpenAPI 3.1:\n{}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n\n"))
        }
        Outcome::Error(message) => panic!("the validator failed: {message}"),
    }
}

/// The validator really validates: the served document with a path
/// parameter left undeclared, or without `info`, is refused.
async fn the_validator_refuses_a_broken_document(server: &Server) {
    let mut document = served(server).await;
    document["paths"]["/v1/sites/{id}"]["get"]["parameters"] = Value::Array(Vec::new());
    assert!(!validate(&document, &options()).is_valid(), "an undeclared path parameter must be refused");
    let mut document = served(server).await;
    document.as_object_mut().expect("an object").remove("info");
    assert!(!validate(&document, &options()).is_valid(), "a document without info must be refused");
}

/// `path` with every `{parameter}` replaced by `1`.
fn concrete(path: &str) -> String {
    path.split('/').map(|segment| if segment.starts_with('{') { "1" } else { segment }).collect::<Vec<_>>().join("/")
}

/// Status and body of `method path` with no credentials and no body.
async fn answer(server: &Server, method: &str, path: &str) -> (u16, String) {
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("an HTTP method");
    let response = server.http.request(method, format!("{}{path}", server.url)).send().await.expect("the request reaches the server");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

/// Every documented operation answers something else than the router's
/// fallback (404 "No such route") or 405, and every other method of a
/// documented path answers 405: the router and the document agree on
/// every path and method the document names; each 405 is the envelope's
/// `method_not_allowed`. No request carries
/// credentials or a body, so each one stops at its first check.
async fn every_documented_operation_is_routed_with_exactly_its_methods(server: &Server) {
    let document = served(server).await;
    let fallback = answer(server, "get", "/openapi-probe/no-such-route").await;
    assert_eq!(fallback.0, 404, "the router's fallback");
    let mut unrouted = Vec::new();
    let mut extra = Vec::new();
    let mut unenveloped = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let url = concrete(path);
        for method in METHODS {
            let (status, body) = answer(server, method, &url).await;
            if item.get(method).is_some() {
                if status == 405 || (status, &body) == (fallback.0, &fallback.1) {
                    unrouted.push(format!("{} {path}: {status} {body}", method.to_uppercase()));
                }
            } else if status != 405 {
                extra.push(format!("{} {path}: {status} {body}", method.to_uppercase()));
            } else if path != "/openapi.json" && !body.contains(r#""error":"method_not_allowed""#) {
                // (`/openapi.json` is a static asset: the asset server
                // answers its other methods before the worker runs.)
                unenveloped.push(format!("{} {path}: {body:?}", method.to_uppercase()));
            }
        }
    }
    assert!(unrouted.is_empty(), "documented but not routed:\n{}", unrouted.join("\n"));
    assert!(extra.is_empty(), "routed but not documented (expected 405):\n{}", extra.join("\n"));
    assert!(unenveloped.is_empty(), "405 outside the envelope (expected method_not_allowed):\n{}", unenveloped.join("\n"));
}

/// Every operation has a success answer and a tag; every error answer
/// (4xx, 5xx) is the `ErrorBody` envelope; the operator API is behind the
/// access JWT, the live WebSocket behind its single-use token, the
/// presigned upload behind its single-use upload token and seed 000's
/// public upload behind the widget's site key and session.
async fn every_operation_documents_its_answers(server: &Server) {
    let document = served(server).await;
    let schemes = document["components"]["securitySchemes"].as_object().expect("security schemes");
    for scheme in ["operator_jwt", "site_key", "session_id", "ws_token", "upload_token"] {
        assert!(schemes.contains_key(scheme), "security scheme {scheme}");
    }
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let name = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|s| s.starts_with('2') || s == "101"), "{name} documents its success");
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{name} has a tag");
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{name} answers {status} in the error envelope"
                );
            }
            let security: Vec<&str> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r.as_object())
                .flat_map(|r| r.keys())
                .map(String::as_str)
                .collect();
            if path == "/v1/chat/media/{id}/upload" {
                assert_eq!(security, ["upload_token"], "{name} needs its single-use upload token");
            } else if path == "/v1/chat/upload/{chat_id}/{user_id}" {
                // Seed 000's public upload: the widget's own credentials.
                let mut widget = security.clone();
                widget.sort_unstable();
                assert_eq!(widget, ["session_id", "site_key"], "{name} takes the widget's credentials");
            } else if path.starts_with("/v1/") && path != "/v1/chat/live" {
                assert_eq!(security, ["operator_jwt"], "{name} needs the access JWT");
                assert!(responses.contains_key("401"), "{name} documents 401");
            }
            if path == "/v1/chat/live" {
                assert_eq!(security, ["ws_token"], "{name} needs the WebSocket token");
            }
        }
    }
}
