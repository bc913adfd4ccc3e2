//! `giaouoc store copy`: the demo's SQLite + files deployment moved to PostgreSQL + S3 serves
//! the same documents, keeps its audit chains and its CA, and a second copy is refused.

use axum::http::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use giaouoc::http::{self, Options};
use giaouoc::store::{BlobLocation, DatabaseLocation, uncovered_tables};

use crate::helpers::temp_dir;
use crate::http_support::*;

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_copied_to_postgres_and_s3_serves_the_same_documents_and_audit() {
    // The demo, with one signature so that revisions, prepares and certificates exist.
    let source_dir = temp_dir("copy-source");
    let source = TestApp::open(
        &source_dir,
        Options {
            database: DatabaseLocation::Sqlite(source_dir.join("giaouoc.db")),
            ..Options::default()
        },
    )
    .await;
    let info = http::demo::seed(&source.state, Some("admin-secret"))
        .await
        .unwrap()
        .unwrap();
    let tokens: Value = serde_json::from_slice(&std::fs::read(&info.tokens_file).unwrap()).unwrap();
    demo_sign(&source, &tokens, &info.keys_dir, "U07")
        .await
        .expect(StatusCode::OK);
    assert!(
        uncovered_tables(&source.state.store)
            .await
            .unwrap()
            .is_empty()
    );

    let target_options = fresh_pg_s3("store-copy");
    let (DatabaseLocation::Postgres(url), BlobLocation::S3(s3)) =
        (&target_options.database, &target_options.blob_store)
    else {
        unreachable!()
    };
    let copy = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_giaouoc"))
            .args(["store", "copy", "--json", "--data-dir"])
            .arg(&source_dir)
            .args(["--to", url, "--to-blobs", &format!("s3://{}", s3.bucket)])
            .args([
                "--s3-endpoint",
                s3.endpoint.as_deref().unwrap(),
                "--s3-allow-http",
            ])
            .env("GIAOUOC_MASTER_KEY", "07".repeat(32))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "giaouoc-test")
            .env("AWS_SECRET_ACCESS_KEY", "giaouoc-test-secret")
            .output()
            .unwrap()
    };
    let out = copy();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["audit"]["ok"], true, "{report}");
    assert!(report["blobs"].as_u64().unwrap() >= 4, "{report}");

    // The same service on the copy: PostgreSQL + S3, another (empty) data folder.
    let target_dir = temp_dir("copy-target");
    let target = TestApp::open(&target_dir, target_options.clone()).await;
    assert!(
        uncovered_tables(&target.state.store)
            .await
            .unwrap()
            .is_empty()
    );
    let admin = source.admin.as_str();
    let covenants = source
        .get("/covenants", Some(admin))
        .await
        .expect(StatusCode::OK)
        .json();
    let ids: Vec<&str> = covenants["covenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() >= 2, "{covenants}");
    let mut documents = 0;
    for id in &ids {
        for doc in ["document.pdf", "document.docx"] {
            let uri = format!("/covenants/{id}/{doc}");
            let before = source.get(&uri, Some(admin)).await;
            let after = target.get(&uri, Some(admin)).await;
            assert_eq!(after.status, before.status, "{uri}");
            if before.status == StatusCode::OK {
                documents += 1;
            }
            assert_eq!(sha(&after.body), sha(&before.body), "{uri}");
        }
        let uri = format!("/covenants/{id}/audit");
        let before = source
            .get(&uri, Some(admin))
            .await
            .expect(StatusCode::OK)
            .body;
        let after = target
            .get(&uri, Some(admin))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(after, before, "{uri}");
    }
    assert!(
        documents >= 2,
        "the frozen covenant's PDF and DOCX compared"
    );
    let check = target.state.store.verify_audit_chain().await.unwrap();
    assert!(check.ok, "{check:?}");
    // Every source event was copied (the target has one more: this test's admin token).
    let source_events = source
        .state
        .store
        .verify_audit_chain()
        .await
        .unwrap()
        .events;
    assert_eq!(
        report["audit"]["events"].as_u64(),
        Some(source_events as u64)
    );
    assert_eq!(check.events, source_events + 1);
    // The bloc CA came along sealed: the copy issues and verifies with the same CA, and the
    // signed document verifies there.
    assert_eq!(
        target.state.bloc_ca(BLOC).unwrap().cert_pem,
        source.state.bloc_ca(BLOC).unwrap().cert_pem
    );
    let keys = target.state.store.service_keys("ca/").await.unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|(p, c)| !p.ends_with(".key")
            || c.starts_with(giaouoc::secrets::SEALED_HEADER.as_bytes()))
    );
    // U08 signs on the copy: the enrolments, certificates and tokens work there.
    let done = demo_sign(&target, &tokens, &info.keys_dir, "U08")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(done["signed"], "2/16");

    // The target is no longer empty: a second copy is refused and changes nothing.
    let again = copy();
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds data"), "{stderr}");
}
