//! Who may do what, and what bad requests get: 401/403/404/409/413/422 with the error body,
//! downloads (ETag, 304, Vietnamese file name), a certificate from another CA, a stale
//! completion, and the OpenAPI document covering every route.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use time::macros::datetime;

use giaouoc::http::{self, Options};
use giaouoc::pki;
use giaouoc::store::Stamp;

use crate::helpers::{reference_json, temp_dir};
use crate::http_support::*;

#[track_caller]
fn assert_error(reply: &Reply, status: StatusCode, code: &str) -> Value {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(body["error"], code, "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty(), "{body}");
    assert!(body["details"].is_array(), "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_units_and_roles_are_enforced() {
    let app = TestApp::new("http-auth").await;
    let tokens = create(&app).await;
    let base = format!("/covenants/{COVENANT}");

    // No token, a malformed header, an unknown token: 401 with WWW-Authenticate.
    let none = app.get(&base, None).await;
    assert_error(&none, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(none.header("www-authenticate").starts_with("Bearer"));
    let basic = app
        .send(
            Request::get(&base)
                .header(header::AUTHORIZATION, "Basic dTpw")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_error(&basic, StatusCode::UNAUTHORIZED, "unauthorized");
    let unknown = app.get(&base, Some(&"ab".repeat(32))).await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "unauthorized");

    // Only the admin creates covenants and tokens; only the leader unit opens registration.
    let by_unit = app
        .send(
            Request::post("/covenants")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", officer(&tokens, "U01")),
                )
                .body(Body::from(reference_json()))
                .unwrap(),
        )
        .await;
    assert_error(&by_unit, StatusCode::FORBIDDEN, "forbidden");
    let token_by_unit = app
        .post(
            &format!("/blocs/{BLOC}/tokens"),
            Some(officer(&tokens, "U01")),
            json!({"unit": "U02", "kind": "leader"}),
        )
        .await;
    assert_error(&token_by_unit, StatusCode::FORBIDDEN, "forbidden");
    let open_by_member = app
        .post(
            &format!("{base}/open-registration"),
            Some(officer(&tokens, "U05")),
            json!({}),
        )
        .await;
    assert_error(&open_by_member, StatusCode::FORBIDDEN, "forbidden");

    // Listing: the admin sees every bloc's covenants, a unit its own bloc's.
    for token in [app.admin.as_str(), officer(&tokens, "U12")] {
        let listed = app
            .get("/covenants", Some(token))
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(listed["covenants"][0]["id"], COVENANT);
        assert_eq!(listed["covenants"][0]["state"], "draft");
    }

    // Editing a registration before registration opens: 409 with the reason.
    let early = app
        .put(
            &format!("{base}/registrations/U03"),
            Some(officer(&tokens, "U03")),
            json!({"pledges": []}),
        )
        .await;
    assert_error(&early, StatusCode::CONFLICT, "wrong_state");
    app.post(
        &format!("{base}/open-registration"),
        Some(officer(&tokens, "U01")),
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    let again = app
        .post(
            &format!("{base}/open-registration"),
            Some(&app.admin),
            json!({}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "wrong_state");

    // A unit edits only its own registration; only the leader unit reviews.
    let other = app
        .put(
            &format!("{base}/registrations/U04"),
            Some(officer(&tokens, "U03")),
            json!({"pledges": [{"text": "Chỉ tiêu của đơn vị khác"}]}),
        )
        .await;
    let body = assert_error(&other, StatusCode::FORBIDDEN, "forbidden");
    assert!(body["message"].as_str().unwrap().contains("U04"), "{body}");
    let own = app
        .put(
            &format!("{base}/registrations/U03"),
            Some(leader(&tokens, "U03")),
            json!({"pledges": [{"text": "Hoàn thành 100% kế hoạch năm."}], "submit": true}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(own.json()["status"], "submitted");
    let review_by_member = app
        .post(
            &format!("{base}/registrations/U03/review"),
            Some(officer(&tokens, "U03")),
            json!({"accept": true}),
        )
        .await;
    assert_error(&review_by_member, StatusCode::FORBIDDEN, "forbidden");
    let return_without_comment = app
        .post(
            &format!("{base}/registrations/U03/review"),
            Some(officer(&tokens, "U01")),
            json!({"accept": false}),
        )
        .await;
    let body = assert_error(
        &return_without_comment,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_eq!(body["details"][0]["path"], "comment");

    // Freezing with registrations pending: 409 naming them.
    let early_freeze = app
        .post(&format!("{base}/freeze"), Some(&app.admin), json!({}))
        .await;
    let body = assert_error(&early_freeze, StatusCode::CONFLICT, "registrations_pending");
    assert!(body["message"].as_str().unwrap().contains("U16"), "{body}");

    // A revoked token no longer works.
    let spare = app
        .post(
            &format!("/blocs/{BLOC}/tokens"),
            Some(&app.admin),
            json!({"unit": "U09", "kind": "officer"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let secret = spare["secret"].as_str().unwrap();
    app.get(&base, Some(secret)).await.expect(StatusCode::OK);
    app.post(
        &format!("/tokens/{}/revoke", spare["id"].as_str().unwrap()),
        Some(&app.admin),
        json!({}),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    assert_error(
        &app.get(&base, Some(secret)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_422_with_paths_404_and_400() {
    let app = TestApp::new("http-input").await;

    // A covenant with a missing signer name and a duplicate unit id: every problem, by path.
    let mut v: Value = serde_json::from_slice(&reference_json()).unwrap();
    v["units"][6]["signer"]
        .as_object_mut()
        .unwrap()
        .remove("full_name");
    v["units"][3]["id"] = json!("U01");
    let bad = app.post("/covenants", Some(&app.admin), v).await;
    let body = assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_covenant");
    let paths: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"units[6].signer.full_name"), "{paths:?}");
    assert!(paths.contains(&"units[3].id"), "{paths:?}");

    // Malformed JSON: 422 with line and column.
    let broken = app
        .send(
            Request::post("/covenants")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .body(Body::from("{\"format\": "))
                .unwrap(),
        )
        .await;
    let body = assert_error(
        &broken,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_covenant",
    );
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dòng 1"),
        "{body}"
    );

    let tokens = create(&app).await;
    let base = format!("/covenants/{COVENANT}");
    app.post(
        &format!("{base}/open-registration"),
        Some(&app.admin),
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    // A registration with wrong shapes: the paths are relative to the body.
    let wrong = app
        .put(
            &format!("{base}/registrations/U05"),
            Some(officer(&tokens, "U05")),
            json!({"pledges": [{"text": ""}, {"text": "Được", "target": "nhiều"}],
                   "individual_titles": [{"title": "Lao động tiên tiến", "count": -3}],
                   "typo": 1}),
        )
        .await;
    let body = assert_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_registration",
    );
    let paths: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for want in [
        "pledges[0].text",
        "pledges[1].target",
        "individual_titles[0].count",
        "typo",
    ] {
        assert!(paths.contains(&want), "{want} in {paths:?}");
    }
    let not_json = app
        .send(
            Request::put(format!("{base}/registrations/U05"))
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", officer(&tokens, "U05")),
                )
                .body(Body::from("{pledges: []"))
                .unwrap(),
        )
        .await;
    assert_error(&not_json, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    let typed = app
        .post(
            &format!("{base}/registrations/U05/review"),
            Some(&app.admin),
            json!({"accept": "yes"}),
        )
        .await;
    let body = assert_error(&typed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(body["details"][0]["path"], "accept");
    let missing = app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(&app.admin),
            json!({"unit": "U05"}),
        )
        .await;
    let body = assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(body["details"][0]["path"], "full_name");

    // Unknown ids: 404; a malformed hash: 400.
    for uri in [
        "/covenants/KTD-KHONG-CO-2021".to_owned(),
        format!("{base}/registrations/U99"),
        format!("/blocs/{BLOC}/certificates/U05"),
        "/blocs/KHONG-CO".to_owned(),
        "/khong-co".to_owned(),
    ] {
        let r = app.get(&uri, Some(&app.admin)).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    let r = app
        .post("/enrolments/999/approve", Some(&app.admin), json!({}))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app.get(&format!("/archive/{}", "0".repeat(64)), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    for bad in ["..%2F..%2Fgiaouoc.db", "abc", &"g".repeat(64)] {
        let r = app.get(&format!("/archive/{bad}"), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_sha256");
        let r = app.get(&format!("/archive/{bad}/document.pdf"), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_sha256");
    }
    // No document before freeze.
    let r = app
        .get(&format!("{base}/document.pdf"), Some(&app.admin))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_rules_downloads_and_stale_completions() {
    let app = TestApp::new("http-sign").await;
    let tokens = ready_to_sign(&app).await;
    let sig = |unit: &str, step: &str| format!("/covenants/{COVENANT}/signatures/{unit}/{step}");

    // Another unit's field, or an officer token: 403.
    let r = app
        .post(
            &sig("U04", "prepare"),
            Some(leader(&tokens, "U03")),
            json!({}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = app
        .post(
            &sig("U03", "prepare"),
            Some(officer(&tokens, "U03")),
            json!({}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = app.post(&sig("U03", "prepare"), None, json!({})).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    let r = app
        .post(&sig("U99", "prepare"), Some(&app.admin), json!({}))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    // U03's certificate used for U04's field (by the admin): refused, the field is not its unit.
    let u03_cert = app
        .get(&format!("/blocs/{BLOC}/certificates/U03"), None)
        .await
        .expect(StatusCode::OK)
        .json()["certificate_pem"]
        .clone();
    let r = app
        .post(
            &sig("U04", "prepare"),
            Some(&app.admin),
            json!({"certificate_pem": u03_cert}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "wrong_unit");

    // A certificate from another CA (same names, same key): refused with a clear message.
    let units = units();
    let other_ca_key = ed25519_dalek::SigningKey::from_bytes(&[99; 32]);
    let other_ca = pki::create_ca_certificate(
        &other_ca_key,
        &pki::CaSubject {
            name: "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội".into(),
        },
        1,
        datetime!(2020-01-01 00:00 UTC),
        datetime!(2030-01-01 00:00 UTC),
    )
    .unwrap();
    let forged = pki::issue_leader_certificate(
        &other_ca_key,
        &other_ca,
        &leader_key(2).verifying_key(),
        &pki::LeaderSubject {
            full_name: units[2]["signer"]["full_name"].as_str().unwrap().into(),
            title: units[2]["signer"]["position"].as_str().unwrap().into(),
            unit_name: units[2]["name"].as_str().unwrap().into(),
            unit_id: "U03".into(),
        },
        7,
        datetime!(2020-06-01 00:00 UTC),
        datetime!(2029-01-01 00:00 UTC),
    )
    .unwrap();
    let r = app
        .post(
            &sig("U03", "prepare"),
            Some(leader(&tokens, "U03")),
            json!({"certificate_pem": pki::certificate_to_pem(&forged).unwrap()}),
        )
        .await;
    let body = assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "untrusted_certificate",
    );
    assert!(body["message"].as_str().unwrap().contains("CA"), "{body}");

    // A signature by the wrong key: 422, and the prepare is used up.
    let prepared = app
        .post(
            &sig("U03", "prepare"),
            Some(leader(&tokens, "U03")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let wrong = sign_b64(&leader_key(5), prepared["to_sign"].as_str().unwrap());
    let r = app
        .post(
            &sig("U03", "complete"),
            None,
            json!({"prepare_id": prepared["prepare_id"], "signature": wrong}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    let r = app
        .post(
            &sig("U03", "complete"),
            None,
            json!({"prepare_id": prepared["prepare_id"], "signature": wrong}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .post(
            &sig("U03", "complete"),
            None,
            json!({"prepare_id": "00", "signature": "AAAA"}),
        )
        .await;
    let body = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(body["details"][0]["path"], "signature");

    // Two leaders prepare on the same revision; the second to complete gets 409 stale.
    let p1 = app
        .post(
            &sig("U01", "prepare"),
            Some(leader(&tokens, "U01")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let p2 = app
        .post(
            &sig("U02", "prepare"),
            Some(leader(&tokens, "U02")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(p1["base_revision_sha256"], p2["base_revision_sha256"]);
    let s1 = sign_b64(&leader_key(0), p1["to_sign"].as_str().unwrap());
    let s2 = sign_b64(&leader_key(1), p2["to_sign"].as_str().unwrap());
    app.post(
        &sig("U01", "complete"),
        None,
        json!({"prepare_id": p1["prepare_id"], "signature": s1}),
    )
    .await
    .expect(StatusCode::OK);
    let r = app
        .post(
            &sig("U02", "complete"),
            None,
            json!({"prepare_id": p2["prepare_id"], "signature": s2}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "stale");
    sign_once(&app, &tokens, 1).await.expect(StatusCode::OK);
    // Signing twice: 409.
    let r = app
        .post(
            &sig("U01", "prepare"),
            Some(leader(&tokens, "U01")),
            json!({}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "already_signed");

    // Downloads: ETag, 304, the Vietnamese file name, the DOCX.
    let uri = format!("/covenants/{COVENANT}/document.pdf");
    let pdf = app
        .get(&uri, Some(officer(&tokens, "U09")))
        .await
        .expect(StatusCode::OK);
    let current = app.state.store.current_revision(COVENANT).await.unwrap();
    assert_eq!(pdf.header("etag"), format!("\"{}\"", current.pdf_sha256));
    assert_eq!(pdf.header("content-type"), "application/pdf");
    assert_eq!(pdf.header("x-revision"), "2");
    let cd = pdf.header("content-disposition");
    assert!(
        cd.starts_with("attachment; filename=\"ban-giao-uoc-2021.pdf\""),
        "{cd}"
    );
    assert!(
        cd.contains("filename*=UTF-8''B%E1%BA%A3n%20giao%20%C6%B0%E1%BB%9Bc%20thi%20%C4%91ua%20n%C4%83m%202021.pdf"),
        "{cd}"
    );
    assert!(pdf.body.starts_with(b"%PDF-"));
    let etag = pdf.header("etag").to_owned();
    let cached = app
        .send(
            Request::get(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .header(header::IF_NONE_MATCH, format!("W/\"x\", {etag}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), etag);
    let old = app
        .send(
            Request::get(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
                .header(header::IF_NONE_MATCH, "\"0000\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(old.status, StatusCode::OK);
    let docx = app
        .get(
            &format!("/covenants/{COVENANT}/document.docx"),
            Some(&app.admin),
        )
        .await
        .expect(StatusCode::OK);
    assert!(docx.header("content-type").contains("wordprocessingml"));
    assert!(
        docx.header("content-disposition")
            .contains("ban-giao-uoc-2021.docx")
    );
    assert!(docx.body.starts_with(b"PK"));
    // Another bloc's token would be refused; a token is needed.
    assert_error(
        &app.get(&uri, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );

    // A certificate the admin revoked (in the store) can no longer prepare.
    let u05 = app
        .state
        .store
        .certificate_for_unit(BLOC, "U05", giaouoc::pki::Holder::Person)
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .revoke_certificate(&Stamp::new("test", app.state.now()), BLOC, &u05.serial)
        .await
        .unwrap();
    let r = app
        .post(
            &format!("/covenants/{COVENANT}/signatures/U05/prepare"),
            Some(leader(&tokens, "U05")),
            json!({"certificate_pem": u05.cert_pem}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "revoked_certificate");

    // Archiving before everyone signed: 409.
    let r = app
        .post(
            &format!("/covenants/{COVENANT}/archive"),
            Some(&app.admin),
            json!({}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "wrong_state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_uploads_have_a_limit_and_accept_multipart() {
    let app = TestApp::new("http-verify").await;
    // 60 MB with and without Content-Length: 413 before and while reading.
    let big = vec![b'%'; 60 * 1024 * 1024];
    let with_length = app
        .send(
            Request::post("/verify")
                .header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    assert_error(
        &with_length,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let streamed = app
        .send(Request::post("/verify").body(Body::from(big)).unwrap())
        .await;
    assert_error(
        &streamed,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );

    // The limit is configurable.
    let small = TestApp::open(
        &temp_dir("http-verify-small"),
        Options {
            max_upload: 1000,
            ..Options::default()
        },
    )
    .await;
    let r = small
        .send(
            Request::post("/verify")
                .body(Body::from(vec![0_u8; 1001]))
                .unwrap(),
        )
        .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Not a PDF: 422; an unsigned PDF as multipart: the report.
    let r = app
        .send(
            Request::post("/verify")
                .body(Body::from("bonjour"))
                .unwrap(),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unreadable_pdf");
    let pdf = crate::sign::unsigned_pdf();
    let mut form = Vec::new();
    form.extend_from_slice(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
    );
    form.extend_from_slice(&pdf);
    form.extend_from_slice(b"\r\n--XyZ--\r\n");
    let report = app
        .send(
            Request::post("/verify")
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(report["format"], "giaouoc.verification/2");
    assert_eq!(report["verdict"], "no_signatures");
    assert_eq!(report["unsigned_fields"].as_array().unwrap().len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route_and_ops_endpoints_answer() {
    let app = TestApp::new("http-ops").await;
    let doc = app
        .get("/openapi.json", None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let table = http::route_table();
    for (method, path) in &table {
        let op = &paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from openapi.json"))[method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} missing from openapi.json");
        assert!(op["responses"].is_object(), "{method} {path}: no responses");
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        table.len(),
        "openapi.json documents routes the router lacks"
    );
    // Every route answers something else than the router's own 404/405.
    for (method, path) in &table {
        let uri = path
            .replace("{id}", COVENANT)
            .replace("{unit}", "U01")
            .replace("{bloc}", BLOC)
            .replace("{sha256}", &"0".repeat(64))
            .replace("{token}", "0")
            .replace("{enrolment}", "1")
            .replace("{period}", "mid_year")
            .replace("{file}", "so-ket-6-thang.pdf");
        let r = app
            .call(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &uri,
                None,
                None,
            )
            .await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        if r.status == StatusCode::NOT_FOUND {
            assert!(
                !String::from_utf8_lossy(&r.body).contains("/openapi.json"),
                "{method} {uri} is not routed"
            );
        }
    }

    let health = app
        .get("/healthz", None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(health["status"], "ok");
    let metrics = app.get("/metrics", None).await.expect(StatusCode::OK);
    assert!(metrics.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains(
            "giaouoc_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(text.contains("giaouoc_verifications_total 0"), "{text}");
    // Storage: the pool, and the blob store's operations with their time (the health checks'
    // probes are `exists`).
    assert!(text.contains("giaouoc_db_pool_connections "), "{text}");
    assert!(
        text.contains("giaouoc_blob_operations_total{op=\"exists\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("giaouoc_blob_seconds_total{op=\"get\"} "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_an_empty_store_once() {
    let dir = temp_dir("http-demo");
    let app = TestApp::open(&dir, Options::default()).await;
    let info = http::demo::seed(&app.state, Some("admin-secret"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.covenant_id, COVENANT);
    let tokens: Value = serde_json::from_slice(&std::fs::read(&info.tokens_file).unwrap()).unwrap();
    assert_eq!(tokens["admin"], "admin-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["U07.key", "tokens.json"] {
            let mode = std::fs::metadata(info.keys_dir.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let ca_key = dir.join("ca").join(BLOC).join("ca.key");
        let mode = std::fs::metadata(ca_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let shown = app
        .get(
            &format!("/covenants/{COVENANT}"),
            Some(tokens["U07"]["officer"].as_str().unwrap()),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(shown["state"], "frozen");
    // A visitor signs U07 with the demo key and the leader token.
    let done = demo_sign(&app, &tokens, &info.keys_dir, "U07")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(done["signed"], "1/16");
    // Not again on a store that has data.
    assert!(http::demo::seed(&app.state, None).await.unwrap().is_none());
}

/// Two instances on one store: the periodic purge runs on one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_store_purge_once() {
    let dir = crate::helpers::temp_dir("two-instances");
    let first = TestApp::open(&dir, giaouoc::http::Options::default()).await;
    let second = TestApp::open(&dir, giaouoc::http::Options::default()).await;
    assert_eq!(first.state.purge_once().await, Some((0, 0)));
    assert_eq!(second.state.purge_once().await, None);
    // The holder purges again at its next tick.
    assert!(first.state.purge_once().await.is_some());
    // A desktop tool's one-time link made through one instance works through the other, once.
    let tokens = ready_to_sign(&first).await;
    let links = first
        .post(
            &format!("/covenants/{COVENANT}/signatures/U02/desktop-links"),
            Some(leader(&tokens, "U02")),
            json!({}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let download = links["download_url"].as_str().unwrap();
    let pdf = second.get(download, None).await.expect(StatusCode::OK).body;
    assert!(pdf.starts_with(b"%PDF-"));
    let upload = links["upload_url"].as_str().unwrap();
    let used = post_pdf(&second, upload, None, b"not a form".to_vec()).await;
    assert_ne!(used.status, StatusCode::OK);
    first
        .get(download, None)
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// With a master key the service's private keys (bloc CA, TSA and its root) are sealed on disk;
/// without it they do not open, and plain keys of an earlier start are sealed when it is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_private_keys_are_sealed_under_the_master_key() {
    use giaouoc::secrets::{MasterKey, SEALED_HEADER};
    use std::sync::Arc;
    let dir = crate::helpers::temp_dir("master-key");
    let master = || Some(Arc::new(MasterKey::from_text(&"5a".repeat(32)).unwrap()));
    // Key files on disk are a SQLite deployment's (a shared database holds them sealed always).
    let with = |m| giaouoc::http::Options {
        master_key: m,
        database: giaouoc::store::DatabaseLocation::Sqlite(dir.join("giaouoc.db")),
        ..giaouoc::http::Options::default()
    };
    // A first start without a master key: plain PEM files, owner-only.
    {
        let app = TestApp::open(&dir, with(None)).await;
        create(&app).await;
    }
    let keys = [
        dir.join(format!("ca/{BLOC}/ca.key")),
        dir.join("tsa/tsa.key"),
        dir.join("tsa/root/ca.key"),
    ];
    for k in &keys {
        assert!(
            std::fs::read_to_string(k).unwrap().contains("PRIVATE KEY"),
            "{}",
            k.display()
        );
    }
    // Given the master key: sealed in place, and the service works on.
    {
        let app = TestApp::open(&dir, with(master())).await;
        let tokens = unit_tokens(&app).await;
        register_all(&app, &tokens).await;
        freeze(&app, &tokens).await;
        enrol_all(&app, &tokens).await;
        sign_once(&app, &tokens, 0).await.expect(StatusCode::OK);
    }
    for k in &keys {
        let text = std::fs::read_to_string(k).unwrap();
        assert!(text.starts_with(SEALED_HEADER), "{}", k.display());
        assert!(!text.contains("PRIVATE KEY"));
    }
    // Without it the service refuses to start, naming what it needs.
    let err = giaouoc::http::AppState::open(&dir, with(None))
        .await
        .err()
        .expect("sealed keys need the master key");
    assert!(err.to_string().contains("GIAOUOC_MASTER_KEY_FILE"), "{err}");
    // Another master key does not open them either.
    let wrong = Some(Arc::new(MasterKey::from_text(&"6b".repeat(32)).unwrap()));
    assert!(
        giaouoc::http::AppState::open(&dir, with(wrong))
            .await
            .is_err()
    );
    let app = TestApp::open(&dir, with(master())).await;
    let shown = app
        .get(&format!("/covenants/{COVENANT}"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(shown["state"], "signing");
}
