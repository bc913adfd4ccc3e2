//! Shared helpers of the HTTP tests: an app on a temporary data dir with a fixed clock,
//! requests through `oneshot` or a real socket, and the covenant's year step by step.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::macros::datetime;
use tower::ServiceExt;

use giaouoc::http::{self, AppState, Options};
use giaouoc::pki;
use giaouoc::store::{Stamp, TokenRole};

use crate::helpers::{reference_json, temp_dir};

pub const COVENANT: &str = "KTD-VHXH-QN-2021";
pub const BLOC: &str = "KTD-VHXH-QN";

/// The test clock: 22 January 2021, 15:00 in Quảng Ninh.
pub fn test_clock() -> http::Clock {
    http::fixed_clock(datetime!(2021-01-22 08:00:00 UTC))
}

/// A leader's key, from a fixed seed (the same as the signing tests: unit i has seed i+1).
pub fn leader_key(index: usize) -> SigningKey {
    SigningKey::from_bytes(&[u8::try_from(index + 1).unwrap(); 32])
}

pub fn units() -> Vec<Value> {
    let v: Value = serde_json::from_slice(&reference_json()).unwrap();
    v["units"].as_array().unwrap().clone()
}

/// Whether the HTTP suites run on PostgreSQL + S3 (`GIAOUOC_TEST_STORE=postgres+s3`, as the
/// second pass of `.ci/run`) rather than SQLite + files.
pub fn shared_backends() -> bool {
    match std::env::var("GIAOUOC_TEST_STORE").as_deref() {
        Ok("postgres+s3") => true,
        Ok("" | "sqlite+files") | Err(_) => false,
        Ok(other) => panic!("GIAOUOC_TEST_STORE={other:?}: sqlite+files or postgres+s3"),
    }
}

/// `options` for the service on `dir`: unchanged on SQLite + files; on PostgreSQL + S3 (see
/// [`shared_backends`]) the database and bucket of `dir` (the same ones each time) and the
/// test master key, unless `options` name a store of their own.
pub fn on_test_backends(dir: &Path, mut options: Options) -> Options {
    if shared_backends()
        && options.database == giaouoc::store::DatabaseLocation::Default
        && options.blob_store == giaouoc::store::BlobLocation::Default
    {
        let key = dir.to_string_lossy();
        options.database = giaouoc::store::DatabaseLocation::parse(
            &giaouoc::test_support::TestPostgres::shared().database(&key),
        )
        .unwrap();
        options.blob_store = giaouoc::test_support::TestS3::shared_bucket(&key);
        if options.master_key.is_none() {
            options.master_key = Some(std::sync::Arc::new(test_master_key()));
        }
    }
    options
}

/// The environment a `giaouoc` command needs to reach the same store as
/// [`on_test_backends`] (empty on SQLite + files).
pub fn cli_env(dir: &Path) -> Vec<(String, String)> {
    let options = on_test_backends(dir, Options::default());
    let mut env = Vec::new();
    if let giaouoc::store::DatabaseLocation::Postgres(url) = &options.database {
        env.push(("GIAOUOC_DATABASE_URL".into(), url.clone()));
        env.push(("GIAOUOC_MASTER_KEY".into(), "07".repeat(32)));
    }
    if let giaouoc::store::BlobLocation::S3(s3) = &options.blob_store {
        env.push(("GIAOUOC_BLOB_STORE".into(), format!("s3://{}", s3.bucket)));
        env.push((
            "GIAOUOC_S3_ENDPOINT".into(),
            s3.endpoint.clone().unwrap_or_default(),
        ));
        env.push(("GIAOUOC_S3_ALLOW_HTTP".into(), "true".into()));
        env.push(("AWS_REGION".into(), "us-east-1".into()));
        env.push(("AWS_ACCESS_KEY_ID".into(), "giaouoc-test".into()));
        env.push(("AWS_SECRET_ACCESS_KEY".into(), "giaouoc-test-secret".into()));
    }
    env
}

/// A new PostgreSQL database of the test cluster and a new bucket of the test S3 server, and
/// the options of a service on them (the test master key, the system clock).
pub fn fresh_pg_s3(label: &str) -> Options {
    use giaouoc::store::DatabaseLocation;
    static FRESH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let cluster = giaouoc::test_support::TestPostgres::shared();
    Options {
        database: DatabaseLocation::parse(&cluster.fresh_database(label)).unwrap(),
        blob_store: giaouoc::test_support::TestS3::shared_bucket(&format!(
            "{label}-{}-{}",
            std::process::id(),
            FRESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )),
        master_key: Some(std::sync::Arc::new(test_master_key())),
        ..Options::default()
    }
}

/// The demo's leader of `unit` signs with its demo key (`keys_dir/<unit>.key`) and the leader
/// token of the demo's `tokens.json`: the completion's reply.
pub async fn demo_sign(app: &TestApp, tokens: &Value, keys_dir: &Path, unit: &str) -> Reply {
    let key = pki::signing_key_from_pem(
        &std::fs::read_to_string(keys_dir.join(format!("{unit}.key"))).unwrap(),
    )
    .unwrap();
    let base = format!("/covenants/{COVENANT}/signatures/{unit}");
    let prepared = app
        .post(
            &format!("{base}/prepare"),
            Some(tokens[unit]["leader"].as_str().unwrap()),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let signature = sign_b64(&key, prepared["to_sign"].as_str().unwrap());
    app.post(
        &format!("{base}/complete"),
        None,
        json!({"prepare_id": prepared["prepare_id"], "signature": signature}),
    )
    .await
}

/// A fixed master key for the tests.
pub fn test_master_key() -> giaouoc::secrets::MasterKey {
    giaouoc::secrets::MasterKey::from_text(&"07".repeat(32)).unwrap()
}

/// The service on a data dir, called through `oneshot` (or served on a socket).
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub admin: String,
    pub dir: PathBuf,
}

/// A response: status, headers and the body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

impl TestApp {
    /// A fresh data dir, the fixed test clock.
    pub async fn new(name: &str) -> TestApp {
        let options = Options {
            clock: test_clock(),
            ..Options::default()
        };
        Self::open(&temp_dir(name), options).await
    }

    /// Opens the service on `dir` with a fresh admin token (on PostgreSQL and S3 when
    /// [`shared_backends`] says so and `options` name no other store).
    pub async fn open(dir: &Path, options: Options) -> TestApp {
        let state = AppState::open(dir, on_test_backends(dir, options))
            .await
            .unwrap();
        let admin = state
            .store
            .create_token(&Stamp::new("test", state.now()), &TokenRole::Admin)
            .await
            .unwrap()
            .secret;
        TestApp {
            router: http::app(state.clone()),
            state,
            admin,
            dir: dir.to_path_buf(),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(request(method, uri, token, body)).await
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, uri, token, None).await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, uri, token, Some(body)).await
    }

    pub async fn put(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, uri, token, Some(body)).await
    }
}

pub fn request(
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&v).unwrap()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// POSTs `pdf` as a raw `application/pdf` body to `uri`, with `token` if given.
pub async fn post_pdf(app: &TestApp, uri: &str, token: Option<&str>, pdf: Vec<u8>) -> Reply {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/pdf");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(b.body(Body::from(pdf)).unwrap()).await
}

/// Unit tokens: unit id → (officer, leader).
pub type Tokens = BTreeMap<String, (String, String)>;

/// Creates the covenant from the fixture and the units' tokens.
pub async fn create(app: &TestApp) -> Tokens {
    create_from(app, reference_json()).await
}

/// Creates the covenant from `input` (the reference bloc's id and year), as the admin.
pub async fn create_from(app: &TestApp, input: Vec<u8>) -> Tokens {
    let created = app
        .send(
            Request::post("/covenants")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .body(Body::from(input))
                .unwrap(),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created.json()["id"], COVENANT);
    assert_eq!(created.json()["state"], "draft");
    unit_tokens(app).await
}

/// An officer's and a leader's token for each unit of the reference bloc.
pub async fn unit_tokens(app: &TestApp) -> Tokens {
    let mut tokens = Tokens::new();
    for u in units() {
        let unit = u["id"].as_str().unwrap().to_owned();
        let officer = unit_token(app, &unit, "officer").await;
        let leader = unit_token(app, &unit, "leader").await;
        tokens.insert(unit, (officer, leader));
    }
    tokens
}

/// A new token of `unit` (`officer` or `leader`), issued by the admin.
pub async fn unit_token(app: &TestApp, unit: &str, kind: &str) -> String {
    app.post(
        &format!("/blocs/{BLOC}/tokens"),
        Some(&app.admin),
        json!({"unit": unit, "kind": kind}),
    )
    .await
    .expect(StatusCode::CREATED)
    .json()["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn officer<'a>(tokens: &'a Tokens, unit: &str) -> &'a str {
    &tokens[unit].0
}

pub fn leader<'a>(tokens: &'a Tokens, unit: &str) -> &'a str {
    &tokens[unit].1
}

/// Opens registration (by the leader unit U01), every unit submits the fixture's
/// registration, U01 accepts them all except U07's, which it returns with a comment; U07
/// edits and resubmits, and U01 accepts it.
pub async fn register_all(app: &TestApp, tokens: &Tokens) {
    let base = format!("/covenants/{COVENANT}");
    let opened = app
        .post(
            &format!("{base}/open-registration"),
            Some(officer(tokens, "U01")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(opened.json()["state"], "registration");
    for u in units() {
        let unit = u["id"].as_str().unwrap();
        let mut data = u["registration"].clone();
        data["submit"] = json!(true);
        let saved = app
            .put(
                &format!("{base}/registrations/{unit}"),
                Some(officer(tokens, unit)),
                data,
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(saved.json()["status"], "submitted");
        let review = if unit == "U07" {
            json!({"accept": false, "comment": "Đề nghị bổ sung chỉ tiêu về thư viện số."})
        } else {
            json!({"accept": true})
        };
        let reviewed = app
            .post(
                &format!("{base}/registrations/{unit}/review"),
                Some(officer(tokens, "U01")),
                review,
            )
            .await
            .expect(StatusCode::OK);
        let want = if unit == "U07" {
            "returned"
        } else {
            "accepted"
        };
        assert_eq!(reviewed.json()["status"], want);
    }
    // U07 sees the comment, edits and resubmits.
    let returned = app
        .get(
            &format!("{base}/registrations/U07"),
            Some(officer(tokens, "U07")),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(returned["status"], "returned");
    assert!(
        returned["comment"]
            .as_str()
            .unwrap()
            .contains("thư viện số")
    );
    let mut data = returned["data"].clone();
    data["pledges"].as_array_mut().unwrap().push(json!({
        "text": "Số hóa 2.000 tài liệu của thư viện tỉnh.",
        "indicator": "Số tài liệu được số hóa", "target": 2000, "unit": "tài liệu"
    }));
    data["submit"] = json!(true);
    let resubmitted = app
        .put(
            &format!("{base}/registrations/U07"),
            Some(officer(tokens, "U07")),
            data,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(resubmitted["status"], "submitted");
    assert_eq!(resubmitted["version"], 2);
    app.post(
        &format!("{base}/registrations/U07/review"),
        Some(officer(tokens, "U01")),
        json!({"accept": true}),
    )
    .await
    .expect(StatusCode::OK);
}

pub async fn freeze(app: &TestApp, tokens: &Tokens) -> Value {
    let frozen = app
        .post(
            &format!("/covenants/{COVENANT}/freeze"),
            Some(officer(tokens, "U01")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(frozen["state"], "frozen");
    assert_eq!(frozen["progress"], "0/16");
    frozen
}

/// Every leader enrols its public key (with its leader token); the admin approves.
pub async fn enrol_all(app: &TestApp, tokens: &Tokens) {
    for (i, u) in units().iter().enumerate() {
        let unit = u["id"].as_str().unwrap();
        let key = leader_key(i);
        let pem = pki::verifying_key_to_pem(&key.verifying_key()).unwrap();
        let enrolment = app
            .post(
                &format!("/blocs/{BLOC}/enrolments"),
                Some(leader(tokens, unit)),
                json!({
                    "unit": unit, "public_key_pem": pem,
                    "full_name": u["signer"]["full_name"], "title": u["signer"]["position"],
                }),
            )
            .await
            .expect(StatusCode::CREATED)
            .json();
        assert_eq!(enrolment["status"], "pending");
        let id = enrolment["id"].as_i64().unwrap();
        let cert = app
            .post(
                &format!("/enrolments/{id}/approve"),
                Some(&app.admin),
                json!({}),
            )
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(cert["info"]["unit_id"], unit);
    }
}

/// Create, register, freeze, enrol: ready to sign.
pub async fn ready_to_sign(app: &TestApp) -> Tokens {
    let tokens = create(app).await;
    register_all(app, &tokens).await;
    freeze(app, &tokens).await;
    enrol_all(app, &tokens).await;
    tokens
}

/// Signs `to_sign` (base64) with `key`; the signature in base64.
pub fn sign_b64(key: &SigningKey, to_sign: &str) -> String {
    let attrs = B64.decode(to_sign).unwrap();
    B64.encode(key.sign(&attrs).to_bytes())
}

/// Prepare, sign locally, complete: the completion's reply.
pub async fn sign_once(app: &TestApp, tokens: &Tokens, index: usize) -> Reply {
    let unit = format!("U{:02}", index + 1);
    let base = format!("/covenants/{COVENANT}/signatures/{unit}");
    let prepared = app
        .post(
            &format!("{base}/prepare"),
            Some(leader(tokens, &unit)),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let signature = sign_b64(&leader_key(index), prepared["to_sign"].as_str().unwrap());
    app.post(
        &format!("{base}/complete"),
        None,
        json!({"prepare_id": prepared["prepare_id"], "signature": signature}),
    )
    .await
}

/// The reference covenant's leader unit (`token`) issues its year's document `name` for
/// signing: 201 and the document as shown.
pub async fn issue_year_document(app: &TestApp, token: &str, name: &str) -> Value {
    app.post(
        &format!("/covenants/{COVENANT}/year-documents/{name}"),
        Some(token),
        json!({}),
    )
    .await
    .expect(StatusCode::CREATED)
    .json()
}

/// The pyHanko CLI: `$PYHANKO` or `<repo>/.venv-pyhanko/bin/pyhanko`.
pub fn pyhanko() -> PathBuf {
    giaouoc::test_support::require("pyhanko")
}

/// A second bloc ("KTD-KHAC", the reference covenant under another id) and a token of one of
/// its units: a caller from another bloc.
pub async fn foreign_bloc_token(app: &TestApp, unit: &str, kind: &str) -> String {
    let mut other: Value = serde_json::from_slice(&reference_json()).unwrap();
    other["bloc"]["id"] = json!("KTD-KHAC");
    other["bloc"]["name"] = json!("Khối thi đua khác");
    app.send(
        Request::post("/covenants")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
            .body(Body::from(other.to_string()))
            .unwrap(),
    )
    .await
    .expect(StatusCode::CREATED);
    app.post(
        "/blocs/KTD-KHAC/tokens",
        Some(&app.admin),
        json!({"unit": unit, "kind": kind}),
    )
    .await
    .expect(StatusCode::CREATED)
    .json()["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The anti-CSRF token a page carries for its session (`<meta name="csrf-token">`).
pub fn csrf_of(html: &str) -> Option<String> {
    html.split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// `pyhanko sign validate --trust CA --trust-replace PDF`: asserts it exits 0 and returns its
/// report (also saved next to the PDF as `pyhanko.txt`).
pub fn pyhanko_validate(ca_pem: &Path, pdf: &Path) -> String {
    let out = std::process::Command::new(pyhanko())
        .args(["sign", "validate", "--trust"])
        .arg(ca_pem)
        .arg("--trust-replace")
        .arg(pdf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "pyHanko: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(pdf.with_file_name("pyhanko.txt"), &text).unwrap();
    text
}

/// A minimal HTTP/1.1 client over a real socket (one connection per request).
pub async fn tcp_call(
    addr: std::net::SocketAddr,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    tcp_send(addr, request(method, uri, token, body))
        .await
        .unwrap_or_else(|e| panic!("{uri}: {e}"))
}

/// Sends `req` over a new connection to `addr`; an error when the connection fails or drops
/// (a killed server) rather than a panic.
pub async fn tcp_send(addr: std::net::SocketAddr, mut req: Request<Body>) -> Result<Reply, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake {addr}: {e}"))?;
    tokio::spawn(conn);
    req.headers_mut()
        .insert(header::HOST, addr.to_string().parse().unwrap());
    let response = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request to {addr}: {e}"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("response from {addr}: {e}"))?
        .to_bytes();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// The service on 127.0.0.1:0; stop it by sending on the returned channel, then await the
/// handle (in-flight requests finish first).
pub async fn spawn_server(
    state: AppState,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        http::serve_on(state, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, tx, handle)
}
