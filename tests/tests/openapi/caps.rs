//! The request caps, walked from the served OpenAPI document (issue 16:
//! "every route has a body size cap and every list a length cap"): every
//! operation that takes a body documents `x-max-body-bytes` and a 413, and
//! refuses a body one byte over it (declared and chunked) with 413
//! `payload_too_large`; every list in a request schema documents
//! `maxItems`, and one item more is 422 `too_many_items` naming the field.

use edgechat_tests::http::{assert_error, get, post, send, IpPool};
use edgechat_tests::tenant::{signup, Tenant};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{concrete, served};

/// Client addresses of this module's sign-up.
static IPS: IpPool = IpPool::new("10.160");

/// `(method, path, operation)` of every operation of `document` with a request body.
fn with_bodies(document: &Value) -> Vec<(String, String, Value)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if operation.get("requestBody").is_some() {
                operations.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    assert!(operations.len() > 50, "only {} operations take a body: is the document whole?", operations.len());
    operations
}

/// The first content type of an operation's request body.
fn content_type(operation: &Value) -> String {
    operation["requestBody"]["content"].as_object().and_then(|c| c.keys().next().cloned()).expect("a request body has a content type")
}

/// Sends `len` bytes to `method path` with `content_type`, either with a
/// `Content-Length` or chunked (in 16 KiB chunks, declaring no length).
async fn send_bytes(server: &Server, method: &str, path: &str, content_type: &str, len: usize, chunked: bool) -> reqwest::Response {
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("an HTTP method");
    let request = server.http.request(method, format!("{}{path}", server.url)).header("content-type", content_type);
    let request = match chunked {
        false => request.body(vec![b' '; len]),
        true => {
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                (0..len).step_by(16 * 1024).map(|start| Ok(vec![b' '; (len - start).min(16 * 1024)])).collect();
            request.body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        }
    };
    request.send().await.unwrap_or_else(|e| panic!("{path} reaches the server: {e}"))
}

/// `method path` on a raw connection declaring `Content-Length: len` and
/// sending no body: the status and body of the answer.
async fn declare_only(server: &Server, method: &str, path: &str, content_type: &str, len: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.url.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(address).await.expect("the server accepts a connection");
    let head = format!(
        "{} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n",
        method.to_uppercase()
    );
    connection.write_all(head.as_bytes()).await.expect("the head is sent");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    let read = async {
        loop {
            let n = connection.read(&mut chunk).await.unwrap_or(0);
            answer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&answer).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length =
                    head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()));
                let whole = length.and_then(|l| l.parse::<usize>().ok()).map_or(body.ends_with("0\r\n\r\n"), |l| body.len() >= l);
                if n == 0 || whole {
                    return text;
                }
            }
            assert!(n > 0, "{path}: the connection closed before an answer: {text}");
        }
    };
    let text = tokio::time::timeout(std::time::Duration::from_secs(30), read).await.unwrap_or_else(|_| panic!("{path}: no answer in 30 s"));
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// Every operation that takes a body documents its cap as
/// `x-max-body-bytes` with a 413 answer, and a body of cap + 1 bytes is
/// 413 `payload_too_large` in the envelope, naming the cap: with a
/// `Content-Length`, and chunked (upload routes: declared only; `uploads`
/// tests their chunked reads). The requests carry no credentials: the cap
/// is checked before anything else.
pub async fn every_body_is_capped_as_documented(server: &Server) {
    let document = served(server).await;
    let mut caps = std::collections::BTreeSet::new();
    for (method, path, operation) in with_bodies(&document) {
        let name = format!("{} {path}", method.to_uppercase());
        let cap = operation["x-max-body-bytes"].as_u64().unwrap_or_else(|| panic!("{name} documents x-max-body-bytes"));
        caps.insert(cap);
        let documented = &operation["responses"]["413"];
        assert_eq!(documented["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody", "{name} documents 413");
        let content_type = content_type(&operation);
        let upload = content_type != "application/json" && content_type != "application/x-ndjson";
        let len = usize::try_from(cap).expect("a cap fits in memory") + 1;
        if upload {
            // The answer comes before the body is read, and the server then
            // closes the connection: declare the length and send no body.
            let (status, body) = declare_only(server, &method, &concrete(&path), &content_type, len).await;
            // A chunked answer: the JSON between its chunk sizes.
            let json = body.find('{').zip(body.rfind('}')).map(|(start, end)| &body[start..=end]).unwrap_or_default();
            let body: Value = serde_json::from_str(json).unwrap_or_else(|_| panic!("{name}: an envelope, not {body}"));
            assert_eq!((status, body["error"].as_str()), (413, Some("payload_too_large")), "{name} declaring {len} bytes");
            assert!(body["message"].as_str().is_some_and(|m| m.contains(&cap.to_string())), "{name}: the message names the cap: {body}");
            continue;
        }
        for chunked in [false, true] {
            let what = format!("{name} with {len} bytes{}", if chunked { ", chunked" } else { "" });
            let response = send_bytes(server, &method, &concrete(&path), &content_type, len, chunked).await;
            let body = assert_error(response, 413, "payload_too_large", &what).await;
            assert!(body.message.contains(&cap.to_string()), "{what}: the message names the cap: {}", body.message);
        }
    }
    let expected = [16_384, 65_536, 131_072, 1_048_576, 2_097_152, 10 * 1_048_576 + 65_536];
    assert_eq!(caps.into_iter().collect::<Vec<_>>(), expected, "the named caps of README's \"Request caps\"");
}

/// A body just over the article cap, valid JSON of a real article with the
/// owner's token, is 413 and stores nothing; one just under it is not
/// refused for its size.
pub async fn an_article_over_the_cap_is_not_stored(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let document = served(server).await;
    let path = "/v1/sites/{id}/articles";
    let cap = document["paths"][path]["post"]["x-max-body-bytes"].as_u64().expect("the article route documents its cap") as usize;
    let url = path.replace("{id}", &tenant.site.id.to_string());
    let title = format!("cap probe {}", new_session_id());
    let article = |len: usize| {
        let skeleton = json!({"title": title, "body": ""}).to_string();
        json!({"title": title, "body": "a".repeat(len - skeleton.len())})
    };
    let over = article(cap + 1);
    assert_eq!(over.to_string().len(), cap + 1);
    let response = server
        .authed(Method::POST, &url, tenant.token())
        .header("content-type", "application/json")
        .body(over.to_string())
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large", "an article one byte over the cap").await;
    let listed: Value = get(server, &url, tenant.token()).await.json().await.expect("the article list is JSON");
    let titles: Vec<&str> = listed["articles"].as_array().expect("articles").iter().flat_map(|a| a["title"].as_str()).collect();
    assert!(!titles.contains(&title.as_str()), "the refused article is not stored: {titles:?}");
    let at_cap = server
        .authed(Method::POST, &url, tenant.token())
        .header("content-type", "application/json")
        .body(article(cap).to_string())
        .send()
        .await
        .unwrap();
    assert_ne!(at_cap.status().as_u16(), 413, "a body of exactly the cap is not refused for its size");
}

/// `schema` with its `$ref` resolved in `document`.
fn resolved<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().expect("a schema name");
            resolved(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The non-null alternatives of `schema` (itself, or the members of its `oneOf`/`anyOf`).
fn alternatives<'a>(document: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let schema = resolved(document, schema);
    let members = schema["oneOf"].as_array().or(schema["anyOf"].as_array());
    match members {
        Some(members) => members.iter().flat_map(|m| alternatives(document, m)).filter(|m| m["type"] != "null").collect(),
        None => vec![schema],
    }
}

fn is_array(schema: &Value) -> bool {
    schema["type"] == "array" || schema["type"].as_array().is_some_and(|types| types.contains(&json!("array")))
}

/// A value of `schema` that deserializes: its first enum value, a
/// number, a string, or an object of its required properties.
fn sample(document: &Value, schema: &Value) -> Value {
    let schema = alternatives(document, schema)[0];
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().flat_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => vec!["object"],
    };
    match types.first().copied().unwrap_or("object") {
        "integer" | "number" => json!(1),
        "string" => json!("a"),
        "boolean" => json!(true),
        "array" => json!([]),
        _ => {
            let mut object = Map::new();
            for required in schema["required"].as_array().into_iter().flatten().flat_map(Value::as_str) {
                object.insert(required.to_string(), sample(document, &schema["properties"][required]));
            }
            Value::Object(object)
        }
    }
}

/// One list of a request schema: its JSON path (`request_reasons[0].subs`),
/// its `maxItems`, and a body holding that list with `maxItems + 1` items.
struct List {
    path: String,
    max: Option<u64>,
    body: Value,
}

/// Every list in the properties of `schema`, nested lists included (the
/// body puts each one inside one sample of its parents).
fn lists(document: &Value, schema: &Value, prefix: &str, wrap: &dyn Fn(Value) -> Value, depth: usize) -> Vec<List> {
    let mut found = Vec::new();
    if depth > 4 {
        return found;
    }
    for object in alternatives(document, schema) {
        for (name, property) in object["properties"].as_object().into_iter().flatten() {
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            for alternative in alternatives(document, property) {
                let field = name.clone();
                if is_array(alternative) {
                    let max = alternative["maxItems"].as_u64();
                    let item = sample(document, &alternative["items"]);
                    let items = vec![item.clone(); max.unwrap_or(0) as usize + 1];
                    found.push(List { path: path.clone(), max, body: wrap(json!({ field.clone(): items })) });
                    let inner = move |value: Value| json!({ field.clone(): [value] });
                    let nested = |value: Value| wrap(inner(value));
                    found.extend(lists(document, &alternative["items"], &format!("{path}[0]"), &nested, depth + 1));
                } else if alternative["properties"].is_object() {
                    let inner = move |value: Value| json!({ field.clone(): value });
                    let nested = |value: Value| wrap(inner(value));
                    found.extend(lists(document, alternative, &path, &nested, depth + 1));
                }
            }
        }
    }
    found
}

/// `path` with `{id}` of `/v1/sites/{id}…` the tenant's site, every other parameter `1`.
fn url_for(path: &str, tenant: &Tenant) -> String {
    let path = if path.starts_with("/v1/sites/{id}") { path.replacen("{id}", &tenant.site.id.to_string(), 1) } else { path.to_string() };
    concrete(&path)
}

/// Every list in every request schema documents `maxItems`; for each JSON
/// body this test's credentials reach (the operator API with an owner's
/// token, the public widget routes), `maxItems + 1` items are 422
/// `too_many_items` naming the field. (The app API's lists need an app
/// session of a site's own backend; the multipart `files[]` is capped by
/// `MAX_FILES_PER_MSG`, which `uploads` tests.)
pub async fn every_list_is_capped_as_documented(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let document = served(server).await;
    let mut probed = 0;
    for (method, path, operation) in with_bodies(&document) {
        let name = format!("{} {path}", method.to_uppercase());
        let security: Vec<String> =
            operation["security"].as_array().into_iter().flatten().flat_map(|r| r.as_object()).flat_map(|r| r.keys().cloned()).collect();
        for (content_type, content) in operation["requestBody"]["content"].as_object().expect("content") {
            for list in lists(&document, &content["schema"], "", &|value| value, 0) {
                let max = list.max.unwrap_or_else(|| panic!("{name}: the list {} documents maxItems", list.path));
                let reachable = content_type == "application/json"
                    && (security.iter().any(|s| s == "operator_jwt") || security.iter().any(|s| s == "site_key"));
                if !reachable {
                    continue;
                }
                let what = format!("{name} with {} items in {}", max + 1, list.path);
                let response = send(
                    server,
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &url_for(&path, &tenant),
                    tenant.token(),
                    Some(list.body),
                )
                .await;
                let body = assert_error(response, 422, "too_many_items", &what).await;
                assert!(body.message.contains(&list.path) && body.message.contains(&max.to_string()), "{what}: {}", body.message);
                probed += 1;
            }
        }
    }
    assert!(probed >= 12, "only {probed} lists were probed");
}

/// A list at its cap is read: forwarding takes 1 to 20 message ids, and 20
/// ids of no message are refused for what they name (not found), not for
/// their count, while 21 are `too_many_items`.
pub async fn a_list_at_its_cap_is_read(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let forward = |count: i64| json!({"message_ids": (1..=count).map(|n| 9_000_000 + n).collect::<Vec<_>>(), "conversation_ids": [1]});
    let response = post(server, "/v1/chat/messages/forward", tenant.token(), forward(20)).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert!((400..500).contains(&status) && !text.contains("too_many_items"), "20 ids are within the cap: {status} {text}");
    let response = post(server, "/v1/chat/messages/forward", tenant.token(), forward(21)).await;
    assert_error(response, 422, "too_many_items", "21 message ids").await;
}
