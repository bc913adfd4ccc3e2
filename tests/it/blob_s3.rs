//! Documents in an S3-compatible bucket (`--blob-store s3://BUCKET/PREFIX`, through
//! `object_store`), against moto_server on 127.0.0.1: the blob contract (content-addressed,
//! idempotent, hash checked on every read, scratch blobs removable) and the covenant's year
//! over HTTP with every document in the bucket and none on the instance's disk.

use axum::http::StatusCode;
use serde_json::json;

use giaouoc::http::Options;
use giaouoc::store::{BlobStore, Blobs, StoreError};
use giaouoc::test_support::TestS3;

use crate::helpers::temp_dir;
use crate::http_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_blobs_are_content_addressed_idempotent_and_checked_on_every_read() {
    let s3 = TestS3::start("giaouoc-blobs");
    let dir = temp_dir("blob-s3");
    let blobs = BlobStore::from_location(&s3.location("pdf"), &dir)
        .await
        .unwrap();
    assert_eq!(blobs.describe(), "s3://giaouoc-blobs/pdf");
    let sha = blobs.put(b"%PDF-1.7 covenant").await.unwrap();
    assert_eq!(blobs.put(b"%PDF-1.7 covenant").await.unwrap(), sha);
    assert_eq!(blobs.get(&sha).await.unwrap(), b"%PDF-1.7 covenant");
    assert!(blobs.exists(&sha).await.unwrap());
    let key = format!("pdf/{}/{}", &sha[..2], &sha[2..]);
    assert_eq!(s3.keys("pdf/"), std::slice::from_ref(&key));

    // Damage made outside the service is seen on the next read, and a put repairs it.
    s3.overwrite(&key, b"%PDF-1.7 forged").await;
    assert!(matches!(blobs.get(&sha).await, Err(StoreError::Corrupt(_))));
    blobs.put(b"%PDF-1.7 covenant").await.unwrap();
    assert_eq!(blobs.get(&sha).await.unwrap(), b"%PDF-1.7 covenant");

    // Absent, malformed, removed.
    let absent = "ab".repeat(32);
    assert!(matches!(
        blobs.get(&absent).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(!blobs.exists(&absent).await.unwrap());
    assert!(matches!(
        blobs.get("../../etc/passwd").await,
        Err(StoreError::Invalid(_))
    ));
    blobs.remove(&sha).await.unwrap();
    blobs.remove(&sha).await.unwrap();
    assert!(!blobs.exists(&sha).await.unwrap());
    assert!(s3.keys("pdf/").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_covenant_year_keeps_every_document_in_the_bucket() {
    let s3 = TestS3::start("giaouoc-year");
    let dir = temp_dir("blob-s3-year");
    let app = TestApp::open(
        &dir,
        Options {
            blob_store: s3.location("khoi/vhxh"),
            ..Options::default()
        },
    )
    .await;
    let health = app
        .get("/healthz", None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(health["blobs"]["at"], "s3://giaouoc-year/khoi/vhxh");
    let tokens = ready_to_sign(&app).await;
    for i in 0..16 {
        sign_once(&app, &tokens, i).await.expect(StatusCode::OK);
    }
    let base = format!("/covenants/{COVENANT}");
    let archived = app
        .post(
            &format!("{base}/archive"),
            Some(officer(&tokens, "U01")),
            json!({}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(archived["verdict"], "valid");
    let sha = archived["pdf_sha256"].as_str().unwrap();
    let pdf = app
        .get(&format!("/archive/{sha}/document.pdf"), None)
        .await
        .expect(StatusCode::OK)
        .body;
    let digest: String = <sha2::Sha256 as sha2::Digest>::digest(&pdf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, sha);
    // Every revision (rendered, 16 signatures, validation data, time-stamp) and the DOCX are
    // objects; prepared signatures were removed once used; nothing is on the disk.
    let keys = s3.keys("khoi/vhxh/");
    let revisions = app
        .get(&format!("{base}/revisions"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    for r in revisions["revisions"].as_array().unwrap() {
        let sha = r["sha256"].as_str().unwrap();
        let key = format!("khoi/vhxh/{}/{}", &sha[..2], &sha[2..]);
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(
        keys.len(),
        revisions["revisions"].as_array().unwrap().len() + 1
    );
    assert!(
        !dir.join("blobs").exists(),
        "no blob on the instance's disk"
    );
    // The bucket's server stops: the health check says which part is down, with a 503.
    drop(s3);
    let down = app
        .get("/healthz", None)
        .await
        .expect(StatusCode::SERVICE_UNAVAILABLE)
        .json();
    assert_eq!(down["status"], "unavailable");
    assert_eq!(down["database"]["status"], "ok");
    assert!(
        down["blobs"]["status"]
            .as_str()
            .unwrap()
            .starts_with("error"),
        "{down}"
    );
}
