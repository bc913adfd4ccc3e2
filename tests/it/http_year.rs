//! The whole year of the reference covenant over HTTP: create, 16 registrations (one
//! returned and resubmitted), freeze, 16 enrolments, 16 signatures through prepare/complete,
//! completed, archived; the archived PDF passes pyHanko and our verifier, and the audit
//! trail verifies (and shows an edited event).

use axum::http::StatusCode;
use serde_json::{Value, json};

use giaouoc::http::Options;
use giaouoc::pki;
use giaouoc::store::{AuditEvent, verify_exported_chain};
use giaouoc::verify::{self, Verdict, VerifyOptions};

use crate::helpers::{giaouoc, temp_dir};
use crate::http_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_year_over_http() {
    // The system clock: pyHanko checks the certificates at the present time (PAdES B-B has
    // no time-stamp), so they must be valid now.
    let app = TestApp::open(&temp_dir("http-year"), Options::default()).await;
    let tokens = ready_to_sign(&app).await;
    let base = format!("/covenants/{COVENANT}");

    // The covenant shows each unit's registration and signature status.
    let shown = app
        .get(&base, Some(officer(&tokens, "U05")))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(shown["units"].as_array().unwrap().len(), 16);
    assert_eq!(shown["units"][6]["registration"]["status"], "accepted");
    assert_eq!(shown["units"][6]["registration"]["version"], 2);
    assert_eq!(shown["units"][0]["signed"], false);

    // 16 leaders sign, each on the revision the previous one made.
    for i in 0..16 {
        let done = sign_once(&app, &tokens, i)
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(done["index"], i as i64 + 1);
        assert_eq!(done["signed"], format!("{}/16", i + 1));
        let want = if i == 15 { "completed" } else { "signing" };
        assert_eq!(done["state"], want);
    }
    let shown = app
        .get(&base, Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(shown["state"], "completed");
    assert_eq!(shown["progress"], "16/16");
    assert!(
        shown["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["signed"] == true)
    );
    let revisions = app
        .get(&format!("{base}/revisions"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    // The rendering, 16 signatures, then PAdES B-LT (/DSS) and B-LTA (a document time-stamp).
    let kinds: Vec<&str> = revisions["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    let mut want = vec!["rendered"];
    want.extend(["signature"; 16]);
    want.extend(["validation_data", "document_timestamp"]);
    assert_eq!(kinds, want);

    // Archive (by the leader unit), then look the file up by its hash, publicly.
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
    assert_eq!(archived["level"], "B-LTA", "{archived}");
    let sha = archived["pdf_sha256"].as_str().unwrap().to_owned();
    let lookup = app
        .get(&format!("/archive/{sha}"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(lookup["covenant_id"], COVENANT);
    assert_eq!(lookup["report"]["signatures"].as_array().unwrap().len(), 16);
    let state = app.get(&base, Some(&app.admin)).await.json()["state"].clone();
    assert_eq!(state, "archived");
    let listed = app
        .get("/archive", Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(listed["archive"][0]["pdf_sha256"], sha.as_str());
    // A unit of the bloc lists it too; a unit of another bloc does not see it.
    let own = app
        .get("/archive", Some(officer(&tokens, "U09")))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(own["archive"].as_array().unwrap().len(), 1);
    let stranger = foreign_bloc_token(&app, "U09", "officer").await;
    let theirs = app
        .get("/archive", Some(&stranger))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(theirs["archive"].as_array().unwrap().len(), 0);
    let pdf = app
        .get(&format!("/archive/{sha}/document.pdf"), None)
        .await
        .expect(StatusCode::OK)
        .body;

    // Our verifier, with the bloc CA as the only trust root.
    let ca_pem = app
        .get(&format!("/blocs/{BLOC}/ca.pem"), None)
        .await
        .expect(StatusCode::OK)
        .body;
    let ca = pki::certificates_from_pem_or_der(&ca_pem)
        .unwrap()
        .remove(0);
    let tsa_pem = app
        .get("/tsa/ca.pem", None)
        .await
        .expect(StatusCode::OK)
        .body;
    let tsa = pki::certificates_from_pem_or_der(&tsa_pem)
        .unwrap()
        .remove(0);
    let report = verify::verify_pdf(
        &pdf,
        &VerifyOptions {
            trust_roots: vec![ca, tsa],
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.problems);
    assert_eq!(report.signatures.len(), 16);
    for s in &report.signatures {
        assert_eq!(s.level, Some(verify::PadesLevel::BLTA), "{}", s.field);
        let at = s.checked_at.as_ref().unwrap();
        assert_eq!(at.source, verify::TimeSource::SignatureTimestamp);
    }
    assert_eq!(report.document_timestamps.len(), 1);
    assert!(report.document_timestamps[0].valid);
    assert!(report.unsigned_fields.is_empty());
    assert_eq!(report.file_sha256, sha);

    // The same file through POST /verify.
    let verified = post_pdf(&app, "/verify", None, pdf.to_vec())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(verified["verdict"], "valid");

    // pyHanko, the third-party judge.
    let dir = temp_dir("http-year-pyhanko");
    std::fs::write(dir.join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(dir.join("tsa.pem"), &tsa_pem).unwrap();
    std::fs::write(dir.join("archived.pdf"), &pdf).unwrap();
    let roots = [dir.join("ca.pem"), dir.join("tsa.pem")];
    let roots: Vec<&std::path::Path> = roots.iter().map(|p| p.as_path()).collect();
    let text = giaouoc::test_support::pyhanko_validate_with(&roots, &dir.join("archived.pdf"));
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 16, "{text}");
    assert_eq!(
        text.matches("TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(),
        16,
        "{text}"
    );
    assert!(!text.contains("ILLEGAL"), "{text}");
    // The long-term levels, AdES-style, at the present time.
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let text = giaouoc::test_support::pyhanko_adesverify(&roots, &dir.join("archived.pdf"), &now);
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 16, "{text}");

    // Renewal: nothing is due within a year (the TSA's certificate runs six years); with a
    // margin longer than that, `giaouoc archive renew` adds fresh validation data and a new
    // document time-stamp, keeps every earlier version, and audits it.
    let renewed = app
        .state
        .renew_archive(time::Duration::days(365))
        .await
        .unwrap();
    assert_eq!(renewed.len(), 1);
    assert_eq!(renewed[0].renewed_to, None);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_giaouoc"))
        .args([
            "archive",
            "renew",
            "--margin-days",
            "3000",
            "--json",
            "--data-dir",
        ])
        .arg(&app.dir)
        .envs(crate::http_support::cli_env(&app.dir))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let renewed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(renewed[0]["covenant_id"], COVENANT);
    assert_eq!(renewed[0]["renewed_to"], 20, "{renewed}");
    let revisions = app.state.store.revisions(COVENANT).await.unwrap();
    assert_eq!(revisions.len(), 21);
    use giaouoc::store::RevisionKind;
    assert_eq!(revisions[19].kind, RevisionKind::ValidationData);
    assert_eq!(revisions[20].kind, RevisionKind::DocumentTimestamp);
    // Read from the store: the CLI wrote it from another process.
    let renewed_pdf = giaouoc::store::Blobs::get(&app.state.blobs, &revisions[20].pdf_sha256)
        .await
        .unwrap()
        .to_vec();
    assert!(
        renewed_pdf.starts_with(&pdf),
        "every earlier version is kept"
    );
    // The running service serves the renewed version at once.
    let served = app
        .get(&format!("{base}/document.pdf"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(served.as_ref(), renewed_pdf.as_slice());
    std::fs::write(dir.join("renewed.pdf"), &renewed_pdf).unwrap();
    let text = giaouoc::test_support::pyhanko_adesverify(&roots, &dir.join("renewed.pdf"), &now);
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 16, "{text}");
    let report = post_pdf(&app, "/verify", None, renewed_pdf.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(report["verdict"], "valid");
    assert_eq!(report["document_timestamps"].as_array().unwrap().len(), 2);

    // The audit trail verifies; an edited event does not.
    let export = app
        .get(&format!("{base}/audit"), Some(officer(&tokens, "U09")))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(export["check"]["ok"], true);
    let events: Vec<AuditEvent> = serde_json::from_value(export["events"].clone()).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "revision.append").count(),
        16
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "registration.review")
            .count(),
        17
    );
    assert!(actions.contains(&"covenant.freeze") && actions.contains(&"covenant.archive"));
    assert!(verify_exported_chain(&events).ok);
    let path = dir.join("audit.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&export).unwrap()).unwrap();
    let ok = giaouoc(&["audit", "verify", path.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    let mut edited = events.clone();
    let returned = edited
        .iter_mut()
        .find(|e| e.action == "registration.review" && e.details["status"] == "returned")
        .unwrap();
    returned.details["status"] = Value::from("accepted");
    let seq = returned.seq;
    let check = verify_exported_chain(&edited);
    assert!(!check.ok);
    assert_eq!(check.first_bad_seq, Some(seq));
    let mut tampered = export.clone();
    tampered["events"] = serde_json::to_value(&edited).unwrap();
    std::fs::write(&path, serde_json::to_vec_pretty(&tampered).unwrap()).unwrap();
    let bad = giaouoc(&["audit", "verify", path.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains(&format!("seq {seq}")));
}
