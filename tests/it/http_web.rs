//! The web interface over HTTP (no browser): sessions, the anti-CSRF token, cross-site forms,
//! redirects, security headers, error pages.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use giaouoc::http::Options;

use crate::helpers::{reference_json, temp_dir};
use crate::http_support::*;

/// A browser's session: the cookie and the page's anti-CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn form(uri: &str) -> axum::http::request::Builder {
    Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
}

async fn sign_in(app: &TestApp, token: &str) -> Session {
    let r = app
        .send(
            form("/dang-nhap")
                .body(Body::from(format!("ma={token}&tiep=/giao-uoc/{COVENANT}")))
                .unwrap(),
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), format!("/giao-uoc/{COVENANT}"));
    let set = r.header("set-cookie").to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = app
        .send(
            Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .expect(StatusCode::OK);
    let csrf = csrf_of(&String::from_utf8_lossy(&page.body))
        .expect("the page carries the anti-CSRF token");
    Session { cookie, csrf }
}

fn with_cookie(
    method: Method,
    uri: &str,
    session: &Session,
    csrf: Option<&str>,
    body: Option<serde_json::Value>,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, &session.cookie);
    if let Some(c) = csrf {
        b = b.header("x-csrf-token", c);
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

async fn open_registration(app: &TestApp) -> Tokens {
    let tokens = create(app).await;
    app.post(
        &format!("/covenants/{COVENANT}/open-registration"),
        Some(&app.admin),
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_a_covenant_send_strangers_to_sign_in_and_come_back() {
    let app = TestApp::new("web-login-redirect").await;
    open_registration(&app).await;
    let r = app
        .get(&format!("/giao-uoc/{COVENANT}/dang-ky/U03"), None)
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        format!("/dang-nhap?tiep=/giao-uoc/{COVENANT}/dang-ky/U03&het_han=1")
    );
    let page = app
        .get("/dang-nhap?tiep=/x&het_han=1", None)
        .await
        .expect(StatusCode::OK);
    assert!(String::from_utf8_lossy(&page.body).contains("Bạn cần đăng nhập"));
    // Public pages need nobody.
    app.get("/", None).await.expect(StatusCode::OK);
    app.get("/kiem-tra", None).await.expect(StatusCode::OK);
    app.get("/luu-tru", None).await.expect(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_opens_a_session_that_acts_for_the_unit_only() {
    let app = TestApp::new("web-session").await;
    let tokens = open_registration(&app).await;
    let s = sign_in(&app, officer(&tokens, "U03")).await;
    let page = app
        .send(with_cookie(
            Method::GET,
            &format!("/giao-uoc/{COVENANT}/dang-ky/U03"),
            &s,
            None,
            None,
        ))
        .await
        .expect(StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("Cán bộ thi đua · U03"), "{html}");
    assert!(html.contains("id=\"dang-ky\""), "the form is editable");
    // Another unit's registration: read-only for U03, and its API refuses the write.
    let other = app
        .send(with_cookie(
            Method::GET,
            &format!("/giao-uoc/{COVENANT}/dang-ky/U04"),
            &s,
            None,
            None,
        ))
        .await
        .expect(StatusCode::OK);
    assert!(!String::from_utf8_lossy(&other.body).contains("id=\"dang-ky\""));
    app.send(with_cookie(
        Method::PUT,
        &format!("/covenants/{COVENANT}/registrations/U04"),
        &s,
        Some(&s.csrf),
        Some(json!({"pledges": [{"text": "x"}]})),
    ))
    .await
    .expect(StatusCode::FORBIDDEN);
    // The admin pages of another bloc are not reachable either: a 404 page, in Vietnamese.
    let missing = app
        .send(with_cookie(
            Method::GET,
            "/giao-uoc/KHONG-CO-2030",
            &s,
            None,
            None,
        ))
        .await
        .expect(StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&missing.body).contains("Không tìm thấy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_requests_that_change_something_need_the_sessions_csrf_token() {
    let app = TestApp::new("web-csrf").await;
    let tokens = open_registration(&app).await;
    let s = sign_in(&app, officer(&tokens, "U03")).await;
    let uri = format!("/covenants/{COVENANT}/registrations/U03");
    let body = json!({"collective_title": "Tập thể lao động xuất sắc",
                      "individual_titles": [], "pledges": [{"text": "Hoàn thành 100% kế hoạch."}]});
    for csrf in [None, Some(""), Some("0000"), Some(&*"a".repeat(64))] {
        let r = app
            .send(with_cookie(Method::PUT, &uri, &s, csrf, Some(body.clone())))
            .await
            .expect(StatusCode::FORBIDDEN);
        assert!(r.json()["message"].as_str().unwrap().contains("CSRF"));
    }
    // Reading needs no token; writing with the right one works; nothing was saved before.
    let before = app
        .send(with_cookie(Method::GET, &uri, &s, None, None))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(before["status"], "not_started");
    let saved = app
        .send(with_cookie(
            Method::PUT,
            &uri,
            &s,
            Some(&s.csrf),
            Some(body),
        ))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(saved["status"], "draft");
    // A bearer token (scripts, the CLI) needs no CSRF token: no ambient credential.
    app.put(
        &uri,
        Some(officer(&tokens, "U03")),
        json!({"pledges": [{"text": "Hoàn thành 100% kế hoạch."}]}),
    )
    .await
    .expect(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_refuses_wrong_codes_other_sites_and_foreign_redirects() {
    let app = TestApp::new("web-login").await;
    let tokens = open_registration(&app).await;
    let wrong = app
        .send(
            form("/dang-nhap")
                .body(Body::from("ma=sai&tiep=/"))
                .unwrap(),
        )
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert!(wrong.header("set-cookie").is_empty());
    assert!(String::from_utf8_lossy(&wrong.body).contains("Mã truy cập không đúng"));
    let empty = app
        .send(form("/dang-nhap").body(Body::from("ma=")).unwrap())
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&empty.body).contains("Hãy nhập mã truy cập"));
    let cross = app
        .send(
            form("/dang-nhap")
                .header(header::HOST, "giaouoc.example")
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::from(format!("ma={}", officer(&tokens, "U03"))))
                .unwrap(),
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(cross.header("set-cookie").is_empty());
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = app
            .send(
                form("/dang-nhap")
                    .body(Body::from(format!(
                        "ma={}&tiep={}",
                        officer(&tokens, "U03"),
                        next.replace('/', "%2F")
                            .replace(':', "%3A")
                            .replace('\\', "%5C")
                    )))
                    .unwrap(),
            )
            .await
            .expect(StatusCode::SEE_OTHER);
        assert_eq!(r.header("location"), "/", "{next}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_needs_the_csrf_token_and_ends_the_session_as_does_revoking_the_token() {
    let app = TestApp::new("web-logout").await;
    let tokens = open_registration(&app).await;
    let uri = format!("/covenants/{COVENANT}/registrations/U03");
    let s = sign_in(&app, officer(&tokens, "U03")).await;
    let forged = app
        .send(
            form("/dang-xuat")
                .header(header::COOKIE, &s.cookie)
                .body(Body::from("_csrf=forged"))
                .unwrap(),
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(forged.header("set-cookie").is_empty());
    app.send(with_cookie(Method::GET, &uri, &s, None, None))
        .await
        .expect(StatusCode::OK);
    let out = app
        .send(
            form("/dang-xuat")
                .header(header::COOKIE, &s.cookie)
                .body(Body::from(format!("_csrf={}", s.csrf)))
                .unwrap(),
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let gone = app
        .send(with_cookie(Method::GET, &uri, &s, None, None))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert!(
        gone.json()["message"]
            .as_str()
            .unwrap()
            .contains("đăng nhập lại")
    );

    // Revoking the token ends every session opened with it.
    let s2 = sign_in(&app, officer(&tokens, "U03")).await;
    let token_id = app
        .state
        .store
        .authenticate(officer(&tokens, "U03"))
        .await
        .unwrap()
        .unwrap()
        .token_id;
    app.post(
        &format!("/tokens/{token_id}/revoke"),
        Some(&app.admin),
        json!({}),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    app.send(with_cookie(Method::GET, &uri, &s2, None, None))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let page = app
        .send(with_cookie(
            Method::GET,
            &format!("/giao-uoc/{COVENANT}"),
            &s2,
            None,
            None,
        ))
        .await
        .expect(StatusCode::SEE_OTHER);
    assert!(page.header("location").starts_with("/dang-nhap"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new("web-headers").await;
    open_registration(&app).await;
    for (uri, token, status) in [
        ("/", None, StatusCode::OK),
        ("/kiem-tra", None, StatusCode::OK),
        ("/static/app.js", None, StatusCode::OK),
        ("/static/app.css", None, StatusCode::OK),
        ("/static/../Cargo.toml", None, StatusCode::NOT_FOUND),
        ("/healthz", None, StatusCode::OK),
        (
            &*format!("/covenants/{COVENANT}"),
            Some(app.admin.as_str()),
            StatusCode::OK,
        ),
        (
            &*format!("/covenants/{COVENANT}"),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        ("/khong-co", None, StatusCode::NOT_FOUND),
    ] {
        let r = app.get(uri, token).await.expect(status);
        let csp = r.header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{uri}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{uri}: {csp}");
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{uri}");
        assert_eq!(r.header("x-frame-options"), "DENY", "{uri}");
        assert_eq!(r.header("referrer-policy"), "same-origin", "{uri}");
    }
    // A browser gets a page for an unknown path, an API client JSON.
    let page = app
        .send(
            Request::get("/khong-co")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(String::from_utf8_lossy(&page.body).contains("Không tìm thấy"));
    let api = app
        .get("/khong-co", None)
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"], "not_found");
}

fn multipart(name: &str, bytes: &[u8]) -> Request<Body> {
    let boundary = "giaouoc-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post("/kiem-tra")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verify_page_explains_unsigned_files_junk_and_files_too_large() {
    let options = Options {
        clock: test_clock(),
        max_upload: 1024 * 1024,
        ..Options::default()
    };
    let app = TestApp::open(&temp_dir("web-verify"), options).await;
    let rendered =
        giaouoc::render::prepare(&reference_json(), &giaouoc::template::Template::builtin())
            .and_then(|(_, doc)| {
                giaouoc::render::pdf(&doc, &giaouoc::render_pdf::PdfOptions::default())
            })
            .unwrap();
    let unsigned = app
        .send(multipart("chua-ky.pdf", &rendered.bytes))
        .await
        .expect(StatusCode::OK);
    let html = String::from_utf8_lossy(&unsigned.body);
    assert!(html.contains("CHƯA CÓ CHỮ KÝ"), "{html}");
    assert!(html.contains("Tệp này chưa có chữ ký số nào"), "{html}");

    let junk = app
        .send(multipart("ghi-chu.pdf", "không phải PDF".as_bytes()))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&junk.body).contains("không phải là tệp PDF đọc được"));

    let big = vec![b'%'; 2 * 1024 * 1024];
    let large = app
        .send(multipart("lon.pdf", &big))
        .await
        .expect(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(String::from_utf8_lossy(&large.body).contains("Tệp quá lớn"));

    let none = app
        .send(multipart("", b""))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&none.body).contains("Chưa chọn tệp"));
}
