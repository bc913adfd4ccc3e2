//! Authorization: every route of the API and every page, tried as anonymous, as a unit of
//! another bloc, as another unit of the same bloc, as the unit itself (officer and leader),
//! as the bloc's leader unit and as the admin, each with its expected status; and path
//! traversal in document, archive and asset names.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use giaouoc::http;
use giaouoc::pki;

use crate::helpers::reference_json;
use crate::http_support::*;

/// The callers, in the order of the expectation columns.
const WHO: [&str; 7] = [
    "anonymous",
    "foreign bloc",
    "other unit",
    "unit officer",
    "unit leader",
    "leader unit",
    "admin",
];

struct Callers {
    tokens: [Option<String>; 7],
}

async fn setup(app: &TestApp) -> Callers {
    let tokens = ready_to_sign(app).await;
    let foreign_token = foreign_bloc_token(app, "U03", "leader").await;
    Callers {
        tokens: [
            None,
            Some(foreign_token),
            Some(officer(&tokens, "U04").to_owned()),
            Some(officer(&tokens, "U03").to_owned()),
            Some(leader(&tokens, "U03").to_owned()),
            Some(officer(&tokens, "U01").to_owned()),
            Some(app.admin.clone()),
        ],
    }
}

const S200: u16 = 200;
const S201: u16 = 201;
const S303: u16 = 303;
const S400: u16 = 400;
const S401: u16 = 401;
const S403: u16 = 403;
const S404: u16 = 404;
const S409: u16 = 409;
const S422: u16 = 422;

/// (method, route template, concrete path, body, expected status per caller in [`WHO`] order).
type Case = (&'static str, &'static str, String, Option<Value>, [u16; 7]);

fn api_cases() -> Vec<Case> {
    let c = COVENANT;
    let b = BLOC;
    let zero = "0".repeat(64);
    let key = pki::verifying_key_to_pem(&leader_key(40).verifying_key()).unwrap();
    let enrol = json!({"unit": "U03", "public_key_pem": key, "full_name": "Mạc Đình Toàn", "title": "Giám đốc"});
    let bloc_read = [S401, S403, S200, S200, S200, S200, S200];
    let admin_only = |ok: u16| [S401, S403, S403, S403, S403, S403, ok];
    let leader_unit = |ok: u16| [S401, S403, S403, S403, S403, ok, ok];
    let public = |s: u16| [s; 7];
    let any_token = [S401, S200, S200, S200, S200, S200, S200];
    vec![
        ("GET", "/healthz", "/healthz".into(), None, public(S200)),
        ("GET", "/metrics", "/metrics".into(), None, public(S200)),
        (
            "GET",
            "/openapi.json",
            "/openapi.json".into(),
            None,
            public(S200),
        ),
        ("GET", "/covenants", "/covenants".into(), None, any_token),
        (
            "POST",
            "/covenants",
            "/covenants".into(),
            Some(serde_json::from_slice(&reference_json()).unwrap()),
            admin_only(S409),
        ),
        (
            "GET",
            "/covenants/{id}",
            format!("/covenants/{c}"),
            None,
            bloc_read,
        ),
        (
            "POST",
            "/covenants/{id}/open-registration",
            format!("/covenants/{c}/open-registration"),
            Some(json!({})),
            leader_unit(S409),
        ),
        (
            "POST",
            "/covenants/{id}/freeze",
            format!("/covenants/{c}/freeze"),
            Some(json!({})),
            leader_unit(S409),
        ),
        (
            "GET",
            "/covenants/{id}/registrations",
            format!("/covenants/{c}/registrations"),
            None,
            bloc_read,
        ),
        (
            "GET",
            "/covenants/{id}/registrations/{unit}",
            format!("/covenants/{c}/registrations/U03"),
            None,
            bloc_read,
        ),
        (
            "PUT",
            "/covenants/{id}/registrations/{unit}",
            format!("/covenants/{c}/registrations/U03"),
            Some(json!({"pledges": [{"text": "Hoàn thành kế hoạch."}]})),
            [S401, S403, S403, S409, S409, S403, S409],
        ),
        (
            "POST",
            "/covenants/{id}/registrations/{unit}/review",
            format!("/covenants/{c}/registrations/U03/review"),
            Some(json!({"accept": true})),
            leader_unit(S409),
        ),
        (
            "POST",
            "/covenants/{id}/evidence/{unit}",
            format!("/covenants/{c}/evidence/U03"),
            Some(json!({})),
            [S401, S403, S403, S409, S409, S403, S409],
        ),
        (
            "GET",
            "/covenants/{id}/evidence/{unit}/{sha256}",
            format!("/covenants/{c}/evidence/U03/{zero}"),
            None,
            [S401, S403, S404, S404, S404, S404, S404],
        ),
        (
            "DELETE",
            "/covenants/{id}/evidence/{unit}/{sha256}",
            format!("/covenants/{c}/evidence/U03/{zero}"),
            None,
            [S401, S403, S403, S409, S409, S403, S409],
        ),
        (
            "GET",
            "/covenants/{id}/results/{period}",
            format!("/covenants/{c}/results/mid_year"),
            None,
            [S401, S403, S409, S409, S409, S409, S409],
        ),
        (
            "GET",
            "/covenants/{id}/results/{period}/{unit}",
            format!("/covenants/{c}/results/year_end/U03"),
            None,
            bloc_read,
        ),
        (
            "PUT",
            "/covenants/{id}/results/{period}/{unit}",
            format!("/covenants/{c}/results/mid_year/U03"),
            Some(json!({"summary": "x"})),
            [S401, S403, S403, S409, S409, S403, S409],
        ),
        (
            "POST",
            "/covenants/{id}/results/{period}/{unit}/review",
            format!("/covenants/{c}/results/mid_year/U03/review"),
            Some(json!({"accept": true})),
            leader_unit(S409),
        ),
        (
            "GET",
            "/covenants/{id}/scores",
            format!("/covenants/{c}/scores"),
            None,
            [S401, S403, S409, S409, S409, S409, S409],
        ),
        (
            "PUT",
            "/covenants/{id}/scores/{unit}",
            format!("/covenants/{c}/scores/U03"),
            Some(json!({"points": {}})),
            [S401, S403, S403, S409, S409, S403, S409],
        ),
        (
            "PUT",
            "/covenants/{id}/scores/{unit}/agreed",
            format!("/covenants/{c}/scores/U03/agreed"),
            Some(json!({"points": {}})),
            leader_unit(S409),
        ),
        (
            "GET",
            "/covenants/{id}/conference",
            format!("/covenants/{c}/conference"),
            None,
            [S401, S403, S404, S404, S404, S404, S404],
        ),
        (
            "PUT",
            "/covenants/{id}/conference",
            format!("/covenants/{c}/conference"),
            Some(json!({})),
            leader_unit(S409),
        ),
        (
            "POST",
            "/covenants/{id}/next-year",
            format!("/covenants/{c}/next-year"),
            Some(json!({})),
            leader_unit(S409),
        ),
        (
            "GET",
            "/covenants/{id}/year-documents/{file}",
            format!("/covenants/{c}/year-documents/so-ket-6-thang.pdf"),
            None,
            [S401, S403, S409, S409, S409, S409, S409],
        ),
        (
            "GET",
            "/covenants/{id}/year-documents",
            format!("/covenants/{c}/year-documents"),
            None,
            bloc_read,
        ),
        (
            "POST",
            "/covenants/{id}/year-documents/{file}",
            format!("/covenants/{c}/year-documents/so-ket-6-thang"),
            Some(json!({})),
            leader_unit(S409),
        ),
        (
            "GET",
            "/covenants/{id}/document.pdf",
            format!("/covenants/{c}/document.pdf"),
            None,
            bloc_read,
        ),
        (
            "GET",
            "/covenants/{id}/document.docx",
            format!("/covenants/{c}/document.docx"),
            None,
            bloc_read,
        ),
        (
            "GET",
            "/covenants/{id}/revisions",
            format!("/covenants/{c}/revisions"),
            None,
            bloc_read,
        ),
        (
            "POST",
            "/covenants/{id}/signatures/{unit}/prepare",
            format!("/covenants/{c}/signatures/U03/prepare"),
            Some(json!({})),
            [S401, S403, S403, S403, S200, S403, S200],
        ),
        (
            "POST",
            "/covenants/{id}/signatures/{unit}/upload",
            format!("/covenants/{c}/signatures/U03/upload"),
            None,
            [S401, S403, S403, S403, S422, S403, S422],
        ),
        (
            "POST",
            "/covenants/{id}/signatures/{unit}/desktop-links",
            format!("/covenants/{c}/signatures/U03/desktop-links"),
            Some(json!({})),
            [S401, S403, S403, S403, S201, S403, S201],
        ),
        (
            "GET",
            "/desktop/{secret}/document.pdf",
            format!("/desktop/{}/document.pdf", "a".repeat(64)),
            None,
            public(S404),
        ),
        (
            "POST",
            "/desktop/{secret}/upload",
            format!("/desktop/{}/upload", "a".repeat(64)),
            None,
            public(S404),
        ),
        // Completing needs no token: the signature itself must verify with the unit's
        // certificate; an unknown preparation is a 404 for everyone.
        (
            "POST",
            "/covenants/{id}/signatures/{unit}/complete",
            format!("/covenants/{c}/signatures/U03/complete"),
            Some(json!({"prepare_id": "00", "signature": "A".repeat(86) + "=="})),
            public(S404),
        ),
        (
            "GET",
            "/blocs/{bloc}",
            format!("/blocs/{b}"),
            None,
            public(S200),
        ),
        (
            "GET",
            "/blocs/{bloc}/ca.pem",
            format!("/blocs/{b}/ca.pem"),
            None,
            public(S200),
        ),
        (
            "POST",
            "/blocs/{bloc}/tokens",
            format!("/blocs/{b}/tokens"),
            Some(json!({"unit": "U03", "kind": "officer"})),
            admin_only(S201),
        ),
        (
            "POST",
            "/tokens/{token}/revoke",
            "/tokens/ffffffffffffffff/revoke".into(),
            Some(json!({})),
            admin_only(S404),
        ),
        (
            "POST",
            "/blocs/{bloc}/enrolments",
            format!("/blocs/{b}/enrolments"),
            Some(enrol),
            [S401, S403, S403, S201, S201, S403, S201],
        ),
        (
            "GET",
            "/blocs/{bloc}/enrolments",
            format!("/blocs/{b}/enrolments"),
            None,
            admin_only(S200),
        ),
        (
            "POST",
            "/enrolments/{enrolment}/approve",
            "/enrolments/999999/approve".into(),
            Some(json!({})),
            // The leader unit approves certificates its units already hold: for an unknown id
            // it learns only that.
            [S401, S403, S403, S403, S403, S404, S404],
        ),
        (
            "GET",
            "/blocs/{bloc}/ca.crl",
            format!("/blocs/{b}/ca.crl"),
            None,
            public(S200),
        ),
        // The OCSP responder answers anyone; a JSON body is a malformedRequest answer.
        (
            "POST",
            "/blocs/{bloc}/ocsp",
            format!("/blocs/{b}/ocsp"),
            Some(json!({})),
            public(S200),
        ),
        (
            "POST",
            "/blocs/{bloc}/certificates/{serial}/revoke",
            format!("/blocs/{b}/certificates/ffffffffff/revoke"),
            Some(json!({})),
            [S401, S403, S403, S403, S403, S404, S404],
        ),
        (
            "GET",
            "/blocs/{bloc}/certificates/{unit}",
            format!("/blocs/{b}/certificates/U03"),
            None,
            public(S200),
        ),
        // A seal image: any token of the unit (a JSON body is not a PNG: 422), nobody else.
        (
            "PUT",
            "/blocs/{bloc}/units/{unit}/seal",
            format!("/blocs/{b}/units/U03/seal"),
            Some(json!({})),
            [S401, S403, S403, S422, S422, S403, S422],
        ),
        (
            "GET",
            "/blocs/{bloc}/units/{unit}/seal.png",
            format!("/blocs/{b}/units/U03/seal.png"),
            None,
            public(S404),
        ),
        ("POST", "/verify", "/verify".into(), None, public(S422)),
        // The built-in TSA answers anyone; a body that is not a time-stamp query is a 400.
        ("POST", "/tsa", "/tsa".into(), Some(json!({})), public(S400)),
        (
            "GET",
            "/tsa/ca.pem",
            "/tsa/ca.pem".into(),
            None,
            public(S200),
        ),
        (
            "GET",
            "/tsa/ca.crl",
            "/tsa/ca.crl".into(),
            None,
            public(S200),
        ),
        (
            "POST",
            "/covenants/{id}/archive",
            format!("/covenants/{c}/archive"),
            Some(json!({})),
            leader_unit(S409),
        ),
        ("GET", "/archive", "/archive".into(), None, any_token),
        (
            "GET",
            "/archive/{sha256}",
            format!("/archive/{zero}"),
            None,
            public(S404),
        ),
        (
            "GET",
            "/archive/{sha256}/document.pdf",
            format!("/archive/{zero}/document.pdf"),
            None,
            public(S404),
        ),
        (
            "GET",
            "/covenants/{id}/audit",
            format!("/covenants/{c}/audit"),
            None,
            bloc_read,
        ),
    ]
}

fn page_cases() -> Vec<Case> {
    let c = COVENANT;
    let zero = "0".repeat(64);
    let bloc_page = [S303, S403, S200, S200, S200, S200, S200];
    let public = |s: u16| [s; 7];
    vec![
        ("GET", "/", "/".into(), None, public(S200)),
        ("GET", "/dang-nhap", "/dang-nhap".into(), None, public(S200)),
        (
            "GET",
            "/giao-uoc/{id}",
            format!("/giao-uoc/{c}"),
            None,
            bloc_page,
        ),
        (
            "GET",
            "/giao-uoc/{id}/dang-ky/{unit}",
            format!("/giao-uoc/{c}/dang-ky/U03"),
            None,
            bloc_page,
        ),
        (
            "GET",
            "/giao-uoc/{id}/ky/{unit}",
            format!("/giao-uoc/{c}/ky/U03"),
            None,
            [S303, S403, S403, S403, S200, S403, S200],
        ),
        // Results come after the signing: the frozen covenant answers 409 to its bloc.
        (
            "GET",
            "/giao-uoc/{id}/ket-qua/{period}",
            format!("/giao-uoc/{c}/ket-qua/so-ket"),
            None,
            [S303, S403, S409, S409, S409, S409, S409],
        ),
        (
            "GET",
            "/giao-uoc/{id}/ket-qua/{period}/{unit}",
            format!("/giao-uoc/{c}/ket-qua/tong-ket/U03"),
            None,
            [S303, S403, S409, S409, S409, S409, S409],
        ),
        (
            "GET",
            "/giao-uoc/{id}/cham-diem",
            format!("/giao-uoc/{c}/cham-diem"),
            None,
            [S303, S403, S409, S409, S409, S409, S409],
        ),
        (
            "GET",
            "/giao-uoc/{id}/hoi-nghi",
            format!("/giao-uoc/{c}/hoi-nghi"),
            None,
            [S303, S403, S409, S409, S409, S409, S409],
        ),
        ("GET", "/kiem-tra", "/kiem-tra".into(), None, public(S200)),
        ("GET", "/luu-tru", "/luu-tru".into(), None, public(S200)),
        (
            "GET",
            "/luu-tru/{sha256}",
            format!("/luu-tru/{zero}"),
            None,
            public(S404),
        ),
        (
            "GET",
            "/static/{file}",
            "/static/app.js".into(),
            None,
            public(S200),
        ),
    ]
}

/// A session cookie and its anti-CSRF token for a token.
async fn session(app: &TestApp, token: &str) -> (String, String) {
    let r = app
        .send(
            Request::post("/dang-nhap")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("ma={token}")))
                .unwrap(),
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let cookie = r.header("set-cookie").split(';').next().unwrap().to_owned();
    let home = app
        .send(
            Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let csrf = csrf_of(&String::from_utf8_lossy(&home.body)).unwrap();
    (cookie, csrf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_page_answers_each_kind_of_caller_as_expected() {
    let app = TestApp::new("http-authz").await;
    let callers = setup(&app).await;

    // The tables cover every route and every page.
    let covered: BTreeSet<(String, String)> = api_cases()
        .iter()
        .map(|(m, t, ..)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    let routes: BTreeSet<(String, String)> = http::route_table().into_iter().collect();
    assert_eq!(covered, routes, "the API matrix must list every route");
    let covered_pages: BTreeSet<(String, String)> = page_cases()
        .iter()
        .map(|(m, t, ..)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    let pages: BTreeSet<(String, String)> = http::page_table()
        .into_iter()
        .filter(|(m, _)| m == "GET")
        .collect();
    assert_eq!(covered_pages, pages, "the page matrix must list every page");

    let mut wrong = Vec::new();
    for (method, template, path, body, expected) in api_cases() {
        for (i, who) in WHO.iter().enumerate() {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let r = app
                .call(m, &path, callers.tokens[i].as_deref(), body.clone())
                .await;
            if r.status.as_u16() != expected[i] {
                wrong.push(format!(
                    "{method} {template} as {who}: {} (expected {}) {}",
                    r.status,
                    expected[i],
                    String::from_utf8_lossy(&r.body)
                        .chars()
                        .take(160)
                        .collect::<String>()
                ));
            }
        }
    }
    // Pages, with each caller's browser session.
    let mut sessions = Vec::new();
    for t in &callers.tokens {
        sessions.push(match t {
            Some(t) => Some(session(&app, t).await),
            None => None,
        });
    }
    for (method, template, path, _, expected) in page_cases() {
        for (i, who) in WHO.iter().enumerate() {
            let mut req = Request::builder().method(method).uri(&path);
            if let Some((cookie, _)) = &sessions[i] {
                req = req.header(header::COOKIE, cookie);
            }
            let r = app.send(req.body(Body::empty()).unwrap()).await;
            if r.status.as_u16() != expected[i] {
                wrong.push(format!(
                    "page {template} as {who}: {} (expected {})",
                    r.status, expected[i]
                ));
            }
        }
    }
    // The same API routes through a browser session (cookie + CSRF token) answer like the
    // token itself.
    for (method, template, path, body, expected) in api_cases() {
        for (i, who) in WHO.iter().enumerate().skip(1) {
            let Some((cookie, csrf)) = &sessions[i] else {
                continue;
            };
            let mut req = Request::builder()
                .method(method)
                .uri(&path)
                .header(header::COOKIE, cookie)
                .header("x-csrf-token", csrf);
            let req = match &body {
                Some(v) => req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(v.to_string())),
                None => {
                    req = req.header(header::CONTENT_LENGTH, "0");
                    req.body(Body::empty())
                }
            }
            .unwrap();
            let r = app.send(req).await;
            // Creating things twice gives another answer the second time round.
            let expect = match (template, expected[i]) {
                ("/blocs/{bloc}/enrolments", S201) | ("/blocs/{bloc}/tokens", S201) => S201,
                (_, e) => e,
            };
            if r.status.as_u16() != expect {
                wrong.push(format!(
                    "{method} {template} as {who} (session): {} (expected {expect})",
                    r.status
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_in_document_archive_and_asset_names_finds_nothing() {
    let app = TestApp::new("http-traversal").await;
    let tokens = ready_to_sign(&app).await;
    let t = Some(officer(&tokens, "U03"));
    for (uri, allowed) in [
        ("/archive/..%2F..%2Fgiaouoc.db", &[400, 404][..]),
        (
            "/archive/..%2F..%2F..%2Fetc%2Fpasswd/document.pdf",
            &[400, 404],
        ),
        ("/archive/%2e%2e%2f%2e%2e%2fgiaouoc.db", &[400, 404]),
        (&*format!("/archive/{}..%2F", "a".repeat(62)), &[400, 404]),
        ("/covenants/..%2F..%2Fgiaouoc.db", &[404]),
        ("/covenants/..%2Fblobs/document.pdf", &[404]),
        ("/covenants/%2e%2e/document.pdf", &[404]),
        ("/static/..%2F..%2FCargo.toml", &[404]),
        ("/static/%2e%2e%2fapp.js", &[404]),
        ("/luu-tru/..%2F..%2Fgiaouoc.db", &[404]),
        ("/giao-uoc/..%2F..%2Fgiaouoc.db", &[303, 404]),
        ("/blocs/..%2F..%2Fca/ca.pem", &[404]),
        ("/blocs/KTD-VHXH-QN/certificates/..%2F..%2Fca", &[404]),
    ] {
        let r = app.get(uri, t).await;
        assert!(
            allowed.contains(&r.status.as_u16()),
            "{uri}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains("SQLite format"), "{uri} leaked the database");
        assert!(!body.contains("[package]"), "{uri} leaked a file");
        assert!(!body.contains("root:"), "{uri} leaked a file");
        assert!(!body.contains("PRIVATE KEY"), "{uri} leaked a key");
    }
    // The download's file name is built from the year, never from the request.
    let r = app
        .get(&format!("/covenants/{COVENANT}/document.pdf"), t)
        .await
        .expect(StatusCode::OK);
    let disposition = r.header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        !disposition.contains('/') || disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    assert!(!disposition.contains(".."), "{disposition}");
}
