//! App sessions (seed 003, issue 14): `POST /api/v1/app/session` verifies
//! the identity JWT a site's backend minted with the site's identity token
//! key (derived from its identity secret) and answers a session token; `GET /api/v1/app/me` and `DELETE
//! /api/v1/app/session` take it. Refused tokens store nothing.
//!
//! Each trial signs up its own accounts (from `10.141.x.y`).

use base64::Engine;
use edgechat_shared::api::app::{AppSession, AppUserInfo};
use edgechat_shared::api::sites::Site;
use edgechat_tests::app::{app_login, app_send, identity_token, identity_token_key, post_session, sign_claims, sign_claims_with_key};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::json;

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        a_backend_jwt_signs_the_user_in_and_me_names_them,
        refused_identity_tokens_are_401_and_store_nothing,
        another_sites_secret_does_not_sign_in_here,
        bad_sign_in_bodies_are_400_422_or_404,
        app_routes_refuse_missing_forged_and_operator_tokens,
        signing_out_and_rotating_the_identity_secret_end_sessions,
        a_jwt_shaped_user_id_is_refused_as_a_widget_identity,
        app_routes_answer_cors_preflights_with_authorization,
        writes_past_the_per_user_limit_are_429_and_reads_go_on,
    ]
}

/// Client addresses of this module's sign-ups and sign-ins (`10.141.x.y`).
pub static IPS: IpPool = IpPool::new("10.141");

/// The identity secret of a tenant's site.
pub fn secret_of(tenant: &Tenant) -> String {
    tenant.site.identity_secret.clone().expect("the owner sees the identity secret")
}

async fn me(server: &Server, session: &str) -> reqwest::Response {
    app_send(server, Method::GET, "/api/v1/app/me", session, None).await
}

async fn a_backend_jwt_signs_the_user_in_and_me_names_them(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    // The owner sees the key the README derives, beside the secret.
    assert_eq!(tenant.site.identity_token_key.as_deref(), Some(identity_token_key(&secret).as_str()));
    let token = identity_token(&secret, "user-1", Some("ada@example.com"), Some("Ada Lovelace"));
    let session: AppSession = json_of(post_session(server, &IPS, tenant.site_key(), &token).await, 201).await;
    assert!(session.token.starts_with("ecs_"), "{}", session.token);
    assert_eq!(
        session.user,
        AppUserInfo { user_id: "user-1".into(), name: Some("Ada Lovelace".into()), email: Some("ada@example.com".into()) }
    );
    let who: AppUserInfo = json_of(me(server, &session.token).await, 200).await;
    assert_eq!(who, session.user);
    // Signing in again (another device) is the same user, with another token.
    let again = app_login(server, &IPS, tenant.site_key(), &secret, "user-1").await;
    assert_ne!(again, session.token);
    let who: AppUserInfo = json_of(me(server, &again).await, 200).await;
    assert_eq!(who.name.as_deref(), Some("Ada Lovelace"), "the name stays");
    // An invalid email in the JWT is not stored; the sign-in still works.
    let token = identity_token(&secret, "user-2", Some("not an email"), None);
    let session: AppSession = json_of(post_session(server, &IPS, tenant.site_key(), &token).await, 201).await;
    assert_eq!(session.user.email, None);
}

async fn refused_identity_tokens_are_401_and_store_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    let now = now();
    let claims = |exp: i64, iat: i64| json!({"sub": "victim", "name": "Mallory", "email": "m@example.com", "exp": exp, "iat": iat});
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let valid = sign_claims(&secret, &claims(now + 600, now));
    let (head, rest) = valid.split_once('.').expect("a JWT");
    let body = rest.split('.').next().expect("claims");
    // A user whose site lets them choose their user id picks `header.payload`
    // of a JWT for the victim; the site's server hands them its user_hash.
    // Keyed by the secret itself, that hash would be the JWT's signature.
    let forged_id = format!("{}.{}", b64(r#"{"typ":"JWT","alg":"HS256"}"#), b64(&claims(now + 600, now).to_string()));
    let forged_hash = hex::decode(user_hash(&secret, &forged_id)).expect("hex");
    let forged = format!("{forged_id}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged_hash));
    assert_eq!(forged, sign_claims_with_key(&secret, &claims(now + 600, now)), "the forgery is a JWT keyed by the secret");
    let refused = [
        ("the user_hash of a JWT-shaped user id (keyed by the identity secret itself)", forged),
        ("wrong signature", sign_claims("not-the-site-secret-0123456789abcdef", &claims(now + 600, now))),
        ("tampered claims", format!("{head}.{}.{}", b64(r#"{"sub":"admin","exp":9999999999,"iat":1}"#), valid.rsplit('.').next().unwrap())),
        ("expired", sign_claims(&secret, &claims(now - 120, now - 700))),
        ("exp more than an hour ahead", sign_claims(&secret, &claims(now + 7200, now))),
        ("iat in the future", sign_claims(&secret, &claims(now + 900, now + 600))),
        ("no iat", sign_claims(&secret, &json!({"sub": "victim", "exp": now + 600}))),
        ("no exp", sign_claims(&secret, &json!({"sub": "victim", "iat": now}))),
        ("empty sub", sign_claims(&secret, &json!({"sub": "", "exp": now + 600, "iat": now}))),
        ("alg none", format!("{}.{body}.", b64(r#"{"alg":"none","typ":"JWT"}"#))),
        ("alg none, signature kept", format!("{}.{body}.{}", b64(r#"{"alg":"none","typ":"JWT"}"#), valid.rsplit('.').next().unwrap())),
        ("not a JWT", "hello".to_string()),
    ];
    for (what, token) in refused {
        assert_error(post_session(server, &IPS, tenant.site_key(), &token).await, 401, "unauthorized", what).await;
    }
    // Nothing was stored: the user's first real sign-in knows no name or email.
    let session: AppSession =
        json_of(post_session(server, &IPS, tenant.site_key(), &identity_token(&secret, "victim", None, None)).await, 201).await;
    assert_eq!((session.user.name, session.user.email), (None, None), "a refused token stored nothing");
}

async fn another_sites_secret_does_not_sign_in_here(server: &'static Server) {
    let a = signup(server, &IPS).await;
    let b = signup(server, &IPS).await;
    let token = identity_token(&secret_of(&a), "user-1", None, None);
    assert_error(post_session(server, &IPS, b.site_key(), &token).await, 401, "unauthorized", "A's JWT at B").await;
    // The same user id on two sites is two users.
    let at_a = app_login(server, &IPS, a.site_key(), &secret_of(&a), "shared-id").await;
    let at_b = app_login(server, &IPS, b.site_key(), &secret_of(&b), "shared-id").await;
    assert_ne!(at_a, at_b);
}

async fn bad_sign_in_bodies_are_400_422_or_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let token = identity_token(&secret_of(&tenant), "u", None, None);
    let raw = |body: &'static str| {
        server
            .client()
            .post(format!("{}/api/v1/app/session", server.base()))
            .header("CF-Connecting-IP", IPS.next())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_error(raw("not json").await.unwrap(), 400, "bad_request", "not JSON").await;
    assert_error(raw("[1]").await.unwrap(), 400, "bad_request", "an array").await;
    assert_error(post_session(server, &IPS, "bad key!", &token).await, 422, "validation_error", "malformed site key").await;
    assert_error(post_session(server, &IPS, tenant.site_key(), "").await, 422, "validation_error", "empty token").await;
    let huge = "a".repeat(9000);
    assert_error(post_session(server, &IPS, tenant.site_key(), &huge).await, 422, "validation_error", "oversized token").await;
    let unknown = format!("sk_{}", "0".repeat(32));
    let (status, _) = error_of(post_session(server, &IPS, &unknown, &token).await).await;
    assert!(status == 404 || status == 422, "unknown site key: {status}");
}

async fn app_routes_refuse_missing_forged_and_operator_tokens(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let no_bearer = server.client().get(format!("{}/api/v1/app/me", server.base())).send().await.unwrap();
    assert_error(no_bearer, 401, "unauthorized", "no token").await;
    let forged = format!("ecs_{}", "0".repeat(40));
    assert_error(me(server, &forged).await, 401, "unauthorized", "unknown token").await;
    assert_error(me(server, tenant.token()).await, 401, "unauthorized", "an operator's access JWT").await;
    let identity = identity_token(&secret_of(&tenant), "u", None, None);
    assert_error(me(server, &identity).await, 401, "unauthorized", "the identity JWT itself").await;
}

async fn signing_out_and_rotating_the_identity_secret_end_sessions(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    let first = app_login(server, &IPS, tenant.site_key(), &secret, "leaver").await;
    let second = app_login(server, &IPS, tenant.site_key(), &secret, "leaver").await;
    let out = app_send(server, Method::DELETE, "/api/v1/app/session", &first, None).await;
    assert_eq!(out.status().as_u16(), 204);
    assert_error(me(server, &first).await, 401, "unauthorized", "signed out").await;
    assert_eq!(me(server, &second).await.status().as_u16(), 200, "the other device stays signed in");
    // Rotating the secret ends every session it signed and refuses JWTs of the old one.
    let rotated: Site =
        json_of(post(server, &format!("/v1/sites/{}/rotate-secret", tenant.site.id), tenant.token(), json!({})).await, 200).await;
    assert_error(me(server, &second).await, 401, "unauthorized", "after rotation").await;
    let old = identity_token(&secret, "leaver", None, None);
    assert_error(post_session(server, &IPS, tenant.site_key(), &old).await, 401, "unauthorized", "old secret").await;
    let new_secret = rotated.identity_secret.expect("the rotated secret");
    let fresh = app_login(server, &IPS, tenant.site_key(), &new_secret, "leaver").await;
    assert_eq!(me(server, &fresh).await.status().as_u16(), 200);
}

async fn a_jwt_shaped_user_id_is_refused_as_a_widget_identity(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    let user_id = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2aWN0aW0ifQ";
    let url = format!(
        "{}/api/v1/chat/history?site_key={}&session_id={}&user_id={user_id}&user_hash={}",
        server.base(),
        tenant.site_key(),
        new_session_id(),
        user_hash(&secret, user_id)
    );
    let response = server.client().get(url).header("CF-Connecting-IP", IPS.next()).send().await.unwrap();
    assert_error(response, 422, "validation_error", "a JWT-shaped user_id").await;
}

async fn app_routes_answer_cors_preflights_with_authorization(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let response = server
        .client()
        .request(Method::OPTIONS, format!("{}/api/v1/app/me?site_key={}", server.base(), tenant.site_key()))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let allowed = header(&response, "access-control-allow-headers").unwrap_or_default();
    assert!(allowed.contains("authorization"), "{allowed}");
}

async fn writes_past_the_per_user_limit_are_429_and_reads_go_on(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    let busy = app_login(server, &IPS, tenant.site_key(), &secret, "busy").await;
    let calm = app_login(server, &IPS, tenant.site_key(), &secret, "calm").await;
    let write = |session: String| async move { app_send(server, Method::POST, "/api/v1/app/conversations/1/read", &session, None).await };
    let mut limited = None;
    for _ in 0..40 {
        let response = write(busy.clone()).await;
        if response.status().as_u16() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status().as_u16(), 404, "under the limit: not this user's conversation");
    }
    let limited = limited.expect("past 30 writes a minute the user is limited");
    assert!(header(&limited, "retry-after").is_some(), "Retry-After");
    assert_error(limited, 429, "rate_limited", "the 31st write").await;
    assert_eq!(me(server, &busy).await.status().as_u16(), 200, "reads count apart");
    assert_eq!(write(calm).await.status().as_u16(), 404, "another user of the site is not limited");
}
