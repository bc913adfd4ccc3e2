//! Long-term signatures with an independent PKI: certomancer serves a root and intermediate CA
//! (CRLs, OCSP), a TSA and signers with RSA, ECDSA and Ed25519 keys (`tests/fixtures/test-pki`).
//! pyHanko makes B-T and B-LTA files with them that giaouoc verifies with their level; the
//! service, using certomancer's TSA instead of its own, takes a covenant to B-LTA that pyHanko
//! validates, AdES-style too.

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;

use giaouoc::http::Options;
use giaouoc::test_support::{TestPki, pyhanko_adesverify, pyhanko_validate_with, require};
use giaouoc::verify::{PadesLevel, TimeSource, Verdict, VerifyOptions, verify_pdf};

use crate::helpers::temp_dir;
use crate::http_support::*;

fn unsigned_covenant() -> Vec<u8> {
    let input = include_bytes!("../fixtures/covenant-2021-quang-ninh.json");
    let (_, doc) =
        giaouoc::render::prepare(input, &giaouoc::template::Template::builtin()).unwrap();
    giaouoc::render::pdf(&doc, &Default::default())
        .unwrap()
        .bytes
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// pyHanko signs a new field `Sig1` of `input` with `signer` at B-T (or B-LTA).
fn pyhanko_sign(pki: &TestPki, signer: &str, input: &Path, out: &Path, lta: bool) {
    let mut cmd = Command::new(require("pyhanko"));
    cmd.args([
        "sign",
        "addsig",
        "--field",
        "1/40,40,240,90/Sig1",
        "--use-pades",
    ])
    .args(["--timestamp-url", &pki.tsa_url()]);
    if lta {
        cmd.args(["--with-validation-info", "--use-pades-lta", "--trust"])
            .arg(pki.root())
            .arg("--trust-replace");
    }
    let done = cmd
        .args(["pemder", "--key"])
        .arg(pki.key(signer))
        .arg("--cert")
        .arg(pki.cert(signer))
        .arg("--chain")
        .arg(pki.intermediate())
        .arg("--no-pass")
        .arg(input)
        .arg(out)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "pyHanko addsig {signer}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
}

#[test]
fn files_signed_by_pyhanko_at_b_t_and_b_lta_with_another_pki_verify_with_their_level() {
    let dir = temp_dir("long-term-pyhanko");
    let pki = TestPki::start(&dir);
    let input = dir.join("covenant.pdf");
    std::fs::write(&input, unsigned_covenant()).unwrap();
    let root =
        giaouoc::pki::certificates_from_pem_or_der(&std::fs::read(pki.root()).unwrap()).unwrap();
    let opts = VerifyOptions {
        trust_roots: root,
        ..VerifyOptions::default()
    };
    for signer in ["signer-rsa", "signer-ecdsa", "signer-ed25519"] {
        for lta in [false, true] {
            let out = dir.join(format!("{signer}-{lta}.pdf"));
            pyhanko_sign(&pki, signer, &input, &out, lta);
            let what = format!("{signer}, LTA {lta}");
            let pki_root = pki.root();
            let text = pyhanko_validate_with(&[&pki_root], &out);
            assert!(
                text.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
                "{what}: {text}"
            );
            let report = verify_pdf(&std::fs::read(&out).unwrap(), &opts).unwrap();
            assert_eq!(report.verdict, Verdict::Valid, "{what}: {report:#?}");
            let s = &report.signatures[0];
            let want = if lta {
                PadesLevel::BLTA
            } else {
                PadesLevel::BT
            };
            assert_eq!(s.level, Some(want), "{what}");
            let at = s.checked_at.as_ref().unwrap();
            assert_eq!(at.source, TimeSource::SignatureTimestamp, "{what}");
            assert_eq!(at.tsa.as_deref(), Some("TSA thử nghiệm"), "{what}");
            // certomancer's genTime carries microseconds: read, not refused.
            assert!(at.time.contains('.'), "{what}: {}", at.time);
            if lta {
                assert!(s.revocation.checked, "{what}");
                assert_eq!(s.revocation.sources, vec!["dss".to_owned()], "{what}");
                assert_eq!(report.document_timestamps.len(), 1, "{what}");
                assert!(report.document_timestamps[0].valid, "{what}");
                let ades = pyhanko_adesverify(&[&pki_root], &out, &now());
                assert!(ades.contains(":INTACT:TRUSTED"), "{what}: {ades}");
            }
        }
    }

    // The service's own fetch of another CA's revocation data (at completion): the signer's
    // status from its OCSP responder, the CA certificates' from the root's CRL.
    let der = |path: std::path::PathBuf| {
        let pem = std::fs::read(path).unwrap();
        giaouoc::pki::certificate_to_der(
            &giaouoc::pki::certificates_from_pem_or_der(&pem).unwrap()[0],
        )
        .unwrap()
    };
    let certs = [
        der(pki.cert("signer-rsa")),
        der(pki.intermediate()),
        der(pki.root()),
    ];
    let (crls, ocsps) = giaouoc::sign::ltv::fetch_revocation(&certs, &[]);
    assert_eq!(ocsps.len(), 1, "the signer's OCSP answer");
    assert_eq!(crls.len(), 1, "the root's CRL for the intermediate");
    let answer = giaouoc::pki::ocsp::parse_response(&ocsps[0]).unwrap();
    assert_eq!(
        answer.responses[0].status,
        giaouoc::pki::ocsp::OcspStatus::Good
    );

    // A signer whose certificate was revoked before it signed: time-stamped, but the CRL
    // says revoked before that time.
    let out = dir.join("revoked.pdf");
    pyhanko_sign(&pki, "revoked", &input, &out, false);
    let crl = ureq::get(&format!("{}/kt/crls/interm/latest.crl", pki.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    let report = verify_pdf(
        &std::fs::read(&out).unwrap(),
        &VerifyOptions {
            crls: vec![giaouoc::pki::parse_crl(&crl).unwrap()],
            ..opts.clone()
        },
    )
    .unwrap();
    let s = &report.signatures[0];
    assert!(!s.trusted);
    assert_ne!(report.verdict, Verdict::Valid);
    assert!(
        s.problems
            .iter()
            .any(|m| m.vi.contains("đã bị thu hồi lúc 2024-02-01")),
        "{:?}",
        s.problems
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_external_tsa_the_covenant_reaches_b_lta_for_pyhanko_too() {
    let dir = temp_dir("long-term-external-tsa");
    let pki = TestPki::start(&dir);
    let root =
        giaouoc::pki::certificates_from_pem_or_der(&std::fs::read(pki.root()).unwrap()).unwrap();
    let app = TestApp::open(
        &dir.join("data"),
        Options {
            tsa: Some(giaouoc::tsp::RemoteTsa::new(&pki.tsa_url())),
            trust_anchors: root.clone(),
            ..Options::default()
        },
    )
    .await;
    let tokens = ready_to_sign(&app).await;
    for i in 0..16 {
        sign_once(&app, &tokens, i).await.expect(StatusCode::OK);
    }
    let revisions = app.state.store.revisions(COVENANT).await.unwrap();
    assert_eq!(revisions.len(), 19);
    let pdf = app
        .get(
            &format!("/covenants/{COVENANT}/document.pdf"),
            Some(&app.admin),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let ca = app.state.bloc_ca(BLOC).unwrap().cert.clone();
    let mut roots = root;
    roots.push(ca.clone());
    let report = verify_pdf(
        &pdf,
        &VerifyOptions {
            trust_roots: roots,
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.problems);
    for s in &report.signatures {
        assert_eq!(s.level, Some(PadesLevel::BLTA), "{}", s.field);
        let at = s.checked_at.as_ref().unwrap();
        assert_eq!(at.tsa.as_deref(), Some("TSA thử nghiệm"), "{}", s.field);
    }
    let file = dir.join("signed.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let bloc = dir.join("bloc-ca.pem");
    std::fs::write(&bloc, giaouoc::pki::certificate_to_pem(&ca).unwrap()).unwrap();
    let pki_root = pki.root();
    let roots = [bloc.as_path(), pki_root.as_path()];
    let text = pyhanko_validate_with(&roots, &file);
    assert_eq!(
        text.matches("TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(),
        16,
        "{text}"
    );
    let ades = pyhanko_adesverify(&roots, &file, &now());
    assert_eq!(ades.matches(":INTACT:TRUSTED").count(), 16, "{ades}");
    // Archived as it is, at B-LTA.
    let archived = app
        .post(
            &format!("/covenants/{COVENANT}/archive"),
            Some(officer(&tokens, "U01")),
            serde_json::json!({}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(archived["level"], "B-LTA", "{archived}");
    assert_eq!(archived["pdf_sha256"], report.file_sha256.as_str());
}
