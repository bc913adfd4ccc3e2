//! The service on a real socket: 16 leaders signing at the same moment, and a stop and
//! restart on the same data dir.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::json;

use giaouoc::http::{AppState, Options};
use giaouoc::pki;
use giaouoc::verify::{self, Verdict, VerifyOptions};

use crate::http_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_leaders_signing_at_the_same_moment_all_succeed() {
    let app = TestApp::new("http-concurrent").await;
    let tokens = Arc::new(ready_to_sign(&app).await);
    let (addr, stop, server) = spawn_server(app.state.clone()).await;

    let start = Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let tokens = Arc::clone(&tokens);
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            let unit = format!("U{:02}", i + 1);
            let base = format!("/covenants/{COVENANT}/signatures/{unit}");
            start.wait().await;
            let mut stale = 0;
            loop {
                let prepared = tcp_call(
                    addr,
                    Method::POST,
                    &format!("{base}/prepare"),
                    Some(leader(&tokens, &unit)),
                    Some(json!({})),
                )
                .await
                .expect(StatusCode::OK)
                .json();
                let signature = sign_b64(&leader_key(i), prepared["to_sign"].as_str().unwrap());
                let done = tcp_call(
                    addr,
                    Method::POST,
                    &format!("{base}/complete"),
                    None,
                    Some(json!({"prepare_id": prepared["prepare_id"], "signature": signature})),
                )
                .await;
                match done.status {
                    StatusCode::OK => return (unit, stale, done.json()),
                    StatusCode::CONFLICT => {
                        assert_eq!(done.json()["error"], "stale", "{}", done.json());
                        stale += 1;
                        assert!(stale < 64, "{unit} kept losing the race");
                    }
                    other => panic!("{unit}: {other} {}", String::from_utf8_lossy(&done.body)),
                }
            }
        }));
    }
    let mut indexes = Vec::new();
    let mut retries = 0;
    for t in tasks {
        let (_unit, stale, done) = t.await.unwrap();
        retries += stale;
        indexes.push(done["index"].as_i64().unwrap());
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (1..=16).collect::<Vec<i64>>());
    assert!(retries > 0, "the signers did race");

    // 16 signatures, then the long-term validation data and a document time-stamp.
    let revisions = app.state.store.revisions(COVENANT).await.unwrap();
    assert_eq!(revisions.len(), 19);
    let covenant = app.state.store.get_covenant(COVENANT).await.unwrap();
    assert_eq!(covenant.state.as_str(), "completed");

    let pdf = tcp_call(
        addr,
        Method::GET,
        &format!("/covenants/{COVENANT}/document.pdf"),
        Some(&app.admin),
        None,
    )
    .await
    .expect(StatusCode::OK)
    .body;
    let report = verify::verify_pdf(
        &pdf,
        &VerifyOptions {
            trust_roots: app.state.trust_roots().await.unwrap(),
            at: Some(app.state.now()),
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.problems);
    assert_eq!(report.signatures.len(), 16);
    assert!(report.unsigned_fields.is_empty());

    let metrics = tcp_call(addr, Method::GET, "/metrics", None, None)
        .await
        .expect(StatusCode::OK);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("giaouoc_signatures_completed_total 16"),
        "{text}"
    );
    assert!(
        text.contains("route=\"/covenants/{id}/signatures/{unit}/complete\",status=\"409\""),
        "{text}"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_restart_on_the_same_data_dir_keeps_everything() {
    let app = TestApp::new("http-restart").await;
    let tokens = ready_to_sign(&app).await;
    let dir = app.dir.clone();
    let admin = app.admin.clone();
    let (addr, stop, server) = spawn_server(app.state.clone()).await;
    for i in 0..3 {
        let unit = format!("U{:02}", i + 1);
        let base = format!("/covenants/{COVENANT}/signatures/{unit}");
        let prepared = tcp_call(
            addr,
            Method::POST,
            &format!("{base}/prepare"),
            Some(leader(&tokens, &unit)),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .json();
        let signature = sign_b64(&leader_key(i), prepared["to_sign"].as_str().unwrap());
        tcp_call(
            addr,
            Method::POST,
            &format!("{base}/complete"),
            None,
            Some(json!({"prepare_id": prepared["prepare_id"], "signature": signature})),
        )
        .await
        .expect(StatusCode::OK);
    }
    let before = tcp_call(
        addr,
        Method::GET,
        &format!("/covenants/{COVENANT}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK)
    .json();
    let audit_before = tcp_call(
        addr,
        Method::GET,
        &format!("/covenants/{COVENANT}/audit"),
        Some(&admin),
        None,
    )
    .await
    .json();
    let ca_before = app.state.bloc_ca(BLOC).unwrap().cert_pem.clone();
    stop.send(()).unwrap();
    server.await.unwrap();
    drop(app);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped"
    );

    // A new process on the same folder: state, revisions, audit chain, CA and tokens.
    let state = AppState::open(
        &dir,
        crate::http_support::on_test_backends(
            &dir,
            Options {
                clock: test_clock(),
                ..Options::default()
            },
        ),
    )
    .await
    .unwrap();
    assert_eq!(state.bloc_ca(BLOC).unwrap().cert_pem, ca_before);
    let (addr, stop, server) = spawn_server(state.clone()).await;
    let after = tcp_call(
        addr,
        Method::GET,
        &format!("/covenants/{COVENANT}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(after, before);
    assert_eq!(after["state"], "signing");
    assert_eq!(after["progress"], "3/16");
    assert_eq!(state.store.revisions(COVENANT).await.unwrap().len(), 4);
    let audit_after = tcp_call(
        addr,
        Method::GET,
        &format!("/covenants/{COVENANT}/audit"),
        Some(&admin),
        None,
    )
    .await
    .json();
    assert_eq!(audit_after, audit_before);
    assert_eq!(audit_after["check"]["ok"], true);
    let pdf = tcp_call(
        addr,
        Method::GET,
        &format!("/covenants/{COVENANT}/document.pdf"),
        Some(leader(&tokens, "U04")),
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        pdf.header("etag"),
        format!("\"{}\"", after["revision"]["sha256"].as_str().unwrap())
    );

    // And the year goes on: the fourth leader signs with the CA loaded from disk.
    let unit = "U04";
    let base = format!("/covenants/{COVENANT}/signatures/{unit}");
    let prepared = tcp_call(
        addr,
        Method::POST,
        &format!("{base}/prepare"),
        Some(leader(&tokens, unit)),
        None,
    )
    .await
    .expect(StatusCode::OK)
    .json();
    let signature = sign_b64(&leader_key(3), prepared["to_sign"].as_str().unwrap());
    let done = tcp_call(
        addr,
        Method::POST,
        &format!("{base}/complete"),
        None,
        Some(json!({"prepare_id": prepared["prepare_id"], "signature": signature})),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(done["signed"], "4/16");
    let cert = tcp_call(
        addr,
        Method::GET,
        &format!("/blocs/{BLOC}/certificates/U04"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK)
    .json();
    let cert =
        pki::certificates_from_pem_or_der(cert["certificate_pem"].as_str().unwrap().as_bytes())
            .unwrap();
    assert_eq!(pki::cert_info(&cert[0]).unit_id.as_deref(), Some("U04"));
    stop.send(()).unwrap();
    server.await.unwrap();
}
