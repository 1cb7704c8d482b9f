//! Malformed path and query parameters, walked from the served OpenAPI
//! document: every number or boolean parameter of every operation, given
//! `x1`, is a 4xx the operation documents, in the error envelope
//! `{"error", "message"}` (404 for a path id, 422 for a query parameter;
//! the extractors' own plain-text rejections never reach a client).

use edgechat_tests::http::{send, IpPool};
use edgechat_tests::tenant::signup;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::Value;

use super::served;

/// Client addresses of this module's sign-up.
static IPS: IpPool = IpPool::new("10.161");

/// The JSON types a parameter's schema allows (`["integer", "null"]` for an `Option<i64>`).
fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().flat_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Whether a parameter of `schema` can be malformed in a URL (a number or a boolean).
fn parsed(schema: &Value) -> bool {
    types(schema).iter().any(|t| matches!(t.as_str(), "integer" | "number" | "boolean"))
}

pub async fn every_malformed_number_in_a_path_or_query_is_an_enveloped_4xx(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let session = new_session_id();
    let document = served(server).await;
    let mut probed = 0;
    let mut plain = Vec::new();
    let mut undocumented = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let parameters: Vec<&Value> = operation["parameters"].as_array().into_iter().flatten().collect();
            for probe in parameters.iter().filter(|p| matches!(p["in"].as_str(), Some("path" | "query")) && parsed(&p["schema"])) {
                let value = |p: &Value| -> String {
                    let name = p["name"].as_str().unwrap_or_default();
                    if name == probe["name"].as_str().unwrap_or_default() && p["in"] == probe["in"] {
                        return "x1".into();
                    }
                    match name {
                        "site_key" => tenant.site_key().to_string(),
                        "session_id" => session.clone(),
                        "id" if path.starts_with("/v1/sites/{id}") => tenant.site.id.to_string(),
                        _ if types(&p["schema"]).iter().any(|t| t == "boolean") => "true".into(),
                        _ if parsed(&p["schema"]) => "1".into(),
                        _ => "a".into(),
                    }
                };
                let mut url = path.clone();
                for p in parameters.iter().filter(|p| p["in"] == "path") {
                    url = url.replace(&format!("{{{}}}", p["name"].as_str().unwrap_or_default()), &value(p));
                }
                let query: Vec<String> = parameters
                    .iter()
                    .filter(|p| p["in"] == "query" && (p["required"] == true || p["name"] == probe["name"]))
                    .map(|p| format!("{}={}", p["name"].as_str().unwrap_or_default(), value(p)))
                    .collect();
                if !query.is_empty() {
                    url = format!("{url}?{}", query.join("&"));
                }
                let name = format!("{} {url}", method.to_uppercase());
                let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("an HTTP method");
                let body = (http_method != Method::GET && http_method != Method::DELETE).then(|| serde_json::json!({}));
                let response = send(server, http_method, &url, tenant.token(), body).await;
                let status = response.status().as_u16();
                let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let text = response.text().await.unwrap_or_default();
                let envelope: Option<Value> = serde_json::from_str(&text).ok();
                let enveloped = envelope.as_ref().is_some_and(|e| e["error"].is_string() && e["message"].is_string());
                if !(400..500).contains(&status) || !content_type.starts_with("application/json") || !enveloped {
                    plain.push(format!("{name}: {status} {content_type} {text}"));
                } else if operation["responses"].get(status.to_string()).is_none() {
                    undocumented.push(format!("{name}: {status} {text}"));
                }
                probed += 1;
            }
        }
    }
    assert!(plain.is_empty(), "malformed parameters answered outside the envelope:\n{}", plain.join("\n"));
    assert!(
        undocumented.is_empty(),
        "malformed parameters answered a status the operation does not document:\n{}",
        undocumented.join("\n")
    );
    assert!(probed >= 40, "only {probed} parameters were probed");
}
