//! Signing with keys leaders already hold: certificates of another CA enrolled by their units
//! (approved by the leader unit), and the hash-signing path of remote signing services
//! (SHA-256 in, raw PKCS#1 v1.5 out) and tokens (ECDSA `r‖s`), next to our Ed25519 leaders.
//! The result is judged by pyHanko (both roots), poppler's pdfsig and our verifier.

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use giaouoc::http::{Options, system_clock};
use giaouoc::pki;
use giaouoc::test_support::foreign::{Key, Leaf, Pki};
use giaouoc::verify::{self, Verdict, VerifyOptions};

use crate::helpers::temp_dir;
use crate::http_support::*;

/// `openssl pkeyutl -sign` over a SHA-256 value: what a remote signing service or a token
/// returns for a hash (RSA: PKCS#1 v1.5 with the DigestInfo; ECDSA: a DER signature).
pub(crate) fn sign_hash(key: &Path, hash: &[u8], dir: &Path) -> Vec<u8> {
    let input = dir.join("hash.bin");
    std::fs::write(&input, hash).unwrap();
    let out = Command::new(giaouoc::test_support::require("openssl"))
        .args(["pkeyutl", "-sign", "-pkeyopt", "digest:sha256", "-inkey"])
        .arg(key)
        .arg("-in")
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn bundle(pki: &Pki, leaf: &Leaf) -> String {
    std::fs::read_to_string(&leaf.cert).unwrap()
        + &std::fs::read_to_string(&pki.intermediate).unwrap()
}

/// The unit enrols `leaf` (with its intermediate); the leader unit approves.
async fn enrol_existing(app: &TestApp, tokens: &Tokens, unit: &str, pem: &str) -> Value {
    let enrolment = app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(leader(tokens, unit)),
            json!({"unit": unit, "certificate_pem": pem, "title": "Giám đốc"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(enrolment["key_kind"], "certificate");
    let id = enrolment["id"].as_i64().unwrap();
    // Another member unit may not approve it.
    app.post(
        &format!("/enrolments/{id}/approve"),
        Some(leader(tokens, "U09")),
        json!({}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    app.post(
        &format!("/enrolments/{id}/approve"),
        Some(leader(tokens, "U01")),
        json!({}),
    )
    .await
    .expect(StatusCode::OK)
    .json()
}

async fn prepare(app: &TestApp, tokens: &Tokens, unit: &str, body: Value) -> Value {
    app.post(
        &format!("/covenants/{COVENANT}/signatures/{unit}/prepare"),
        Some(leader(tokens, unit)),
        body,
    )
    .await
    .expect(StatusCode::OK)
    .json()
}

async fn complete(app: &TestApp, unit: &str, prepare_id: &Value, signature: &[u8]) -> Value {
    complete_on(app, COVENANT, unit, prepare_id, signature).await
}

/// Completes the prepared signature of `field` of document `id` with `signature`: 200.
async fn complete_on(
    app: &TestApp,
    id: &str,
    field: &str,
    prepare_id: &Value,
    signature: &[u8],
) -> Value {
    app.post(
        &format!("/covenants/{id}/signatures/{field}/complete"),
        None,
        json!({"prepare_id": prepare_id, "signature": B64.encode(signature)}),
    )
    .await
    .expect(StatusCode::OK)
    .json()
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolled_rsa_and_ecdsa_certificates_sign_by_hash_beside_ed25519_leaders() {
    let dir = temp_dir("signing-paths");
    let ca = Pki::create(&dir.join("pki"));
    let printed = |i: usize| {
        units()[i]["signer"]["full_name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let rsa = ca.leaf("u03", &printed(2), "Đơn vị U03", Key::Rsa(2048), 301);
    let p256 = ca.leaf("u05", &printed(4), "Đơn vị U05", Key::P256, 305);
    let stranger = ca.leaf("u06", &printed(5), "Đơn vị U06", Key::Rsa(2048), 306);
    let root_pem = std::fs::read(&ca.root).unwrap();
    let options = Options {
        clock: system_clock(),
        trust_anchors: pki::certificates_from_pem_or_der(&root_pem).unwrap(),
        ..Options::default()
    };
    let app = TestApp::open(&dir.join("data"), options).await;
    let tokens = ready_to_sign(&app).await;

    // Enrolment: an untrusted certificate (a self-signed one) is refused with the field path.
    let self_signed = dir.join("pki/root.pem");
    let refused = app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(leader(&tokens, "U06")),
            json!({"unit": "U06", "certificate_pem": std::fs::read_to_string(&self_signed).unwrap()}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert!(refused.to_string().contains("certificate_pem"), "{refused}");
    let cert = enrol_existing(&app, &tokens, "U03", &bundle(&ca, &rsa)).await;
    assert_eq!(cert["unit_id"], "U03");
    enrol_existing(&app, &tokens, "U05", &bundle(&ca, &p256)).await;

    // A certificate of a trusted CA that the unit did not enrol cannot sign for it.
    let unenrolled = app
        .post(
            &format!("/covenants/{COVENANT}/signatures/U06/prepare"),
            Some(leader(&tokens, "U06")),
            json!({"certificate_pem": bundle(&ca, &stranger)}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(
        unenrolled["error"], "unenrolled_certificate",
        "{unenrolled}"
    );

    for i in 0..16 {
        let unit = format!("U{:02}", i + 1);
        match unit.as_str() {
            "U03" => {
                // A remote signing service: SHA-256 in, raw PKCS#1 v1.5 out.
                let p = prepare(&app, &tokens, "U03", json!({})).await;
                assert_eq!(p["signature_algorithm"], "rsa-pkcs1v15-sha256", "{p}");
                assert_eq!(p["hash_algorithm"], "SHA-256");
                let to_sign = B64.decode(p["to_sign"].as_str().unwrap()).unwrap();
                let hash = B64.decode(p["hash_to_sign"].as_str().unwrap()).unwrap();
                assert_eq!(hash, Sha256::digest(&to_sign).to_vec());
                let raw = sign_hash(&rsa.key, &hash, &dir);
                assert_eq!(raw.len(), 256);
                let done = complete(&app, "U03", &p["prepare_id"], &raw).await;
                assert_eq!(done["unit_id"], "U03");
            }
            "U05" => {
                // A token's ECDSA: r‖s, as PKCS#11 CKM_ECDSA returns it.
                let p = prepare(&app, &tokens, "U05", json!({})).await;
                assert_eq!(p["signature_algorithm"], "ecdsa-p256-sha256", "{p}");
                let hash = B64.decode(p["hash_to_sign"].as_str().unwrap()).unwrap();
                let der = sign_hash(&p256.key, &hash, &dir);
                let rs = p256::ecdsa::Signature::from_der(&der).unwrap().to_bytes();
                // A signature by another key is refused and the preparation is used up.
                let wrong = sign_hash(&stranger.key, &hash, &dir);
                let refused = app
                    .post(
                        &format!("/covenants/{COVENANT}/signatures/U05/complete"),
                        None,
                        json!({"prepare_id": p["prepare_id"], "signature": B64.encode(&wrong)}),
                    )
                    .await;
                assert!(refused.status.is_client_error(), "{}", refused.status);
                let p = prepare(&app, &tokens, "U05", json!({})).await;
                let hash = B64.decode(p["hash_to_sign"].as_str().unwrap()).unwrap();
                let der = sign_hash(&p256.key, &hash, &dir);
                let rs2 = p256::ecdsa::Signature::from_der(&der).unwrap().to_bytes();
                assert_ne!(rs, rs2);
                complete(&app, "U05", &p["prepare_id"], &rs2).await;
            }
            _ => {
                let p = prepare(&app, &tokens, &unit, json!({})).await;
                assert_eq!(p["signature_algorithm"], "ed25519");
                assert!(p["hash_to_sign"].is_null());
                let sig = sign_b64(&leader_key(i), p["to_sign"].as_str().unwrap());
                let done = app
                    .post(
                        &format!("/covenants/{COVENANT}/signatures/{unit}/complete"),
                        None,
                        json!({"prepare_id": p["prepare_id"], "signature": sig}),
                    )
                    .await
                    .expect(StatusCode::OK)
                    .json();
                assert_eq!(done["unit_id"], unit.as_str());
            }
        }
    }

    let pdf = app
        .get(
            &format!("/covenants/{COVENANT}/document.pdf"),
            Some(&app.admin),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let out = dir.join("signed.pdf");
    std::fs::write(&out, &pdf).unwrap();

    // Our verifier, as the service configures it: valid, U03 and U05 bound by enrolment.
    let bloc_ca = app.state.bloc_ca(BLOC).unwrap();
    let mut roots = vec![bloc_ca.cert.clone()];
    roots.extend(pki::certificates_from_pem_or_der(&root_pem).unwrap());
    let report = verify::verify_pdf(
        &pdf,
        &VerifyOptions {
            trust_roots: roots,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", report.problems);
    assert_eq!(report.signatures.len(), 16);
    for s in &report.signatures {
        assert!(
            s.intact && s.valid && s.trusted,
            "{}: {:?}",
            s.field,
            s.problems
        );
    }
    let public = post_pdf(&app, "/verify", None, pdf.to_vec())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(public["verdict"], "valid", "{public}");

    // pyHanko with both roots: every signature INTACT:TRUSTED.
    let bloc_pem = dir.join("bloc-ca.pem");
    std::fs::write(&bloc_pem, pki::certificate_to_pem(&bloc_ca.cert).unwrap()).unwrap();
    let tsa_pem = app.dir.join("tsa/root/ca.crt");
    let text = giaouoc::test_support::pyhanko_validate_with(&[&bloc_pem, &ca.root, &tsa_pem], &out);
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 16, "{text}");

    // poppler checks RSA and ECDSA (not Ed25519): signatures 3 and 5 are valid.
    let sig = Command::new(giaouoc::test_support::require("pdfsig"))
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&sig.stdout);
    // 16 signatures, then the document time-stamp the service added once all had signed.
    let blocks: Vec<&str> = text.split("Signature #").skip(1).collect();
    assert_eq!(blocks.len(), 17, "{text}");
    assert!(
        blocks[16].contains("Signature Field Name: DocTS1"),
        "{}",
        blocks[16]
    );
    for n in [2, 4] {
        assert!(
            blocks[n].contains("Signature Validation: Signature is Valid."),
            "signature {}: {}",
            n + 1,
            blocks[n]
        );
    }
    let _ = std::fs::remove_file(dir.join("hash.bin"));
}

#[test]
fn a_prepared_hash_is_what_openssl_signs() {
    // The helper signs the SHA-256 value it is given (DigestInfo added by pkeyutl), which is
    // what a remote service returns: checked here once against the pyHanko-independent path.
    let dir = temp_dir("sign-hash");
    let ca = Pki::create(&dir.join("pki"));
    let leaf = ca.leaf("k", "Người ký", "Đơn vị", Key::Rsa(2048), 9);
    let message = b"to be signed";
    let sig = sign_hash(&leaf.key, &Sha256::digest(message), &dir);
    let cert = pki::certificates_from_pem_or_der(&std::fs::read(&leaf.cert).unwrap()).unwrap();
    let spki = &cert[0].tbs_certificate.subject_public_key_info;
    let alg = pki::alg::signing_scheme(pki::alg::key_kind(spki).unwrap())
        .unwrap()
        .identifier()
        .unwrap();
    pki::alg::verify(spki, &alg, None, message, &sig).unwrap();
}

/// Posts `pdf` as U-`unit`'s file signed elsewhere.
async fn upload(app: &TestApp, tokens: &Tokens, unit: &str, pdf: Vec<u8>) -> Reply {
    let uri = format!("/covenants/{COVENANT}/signatures/{unit}/upload");
    post_pdf(app, &uri, Some(leader(tokens, unit)), pdf).await
}

async fn current_pdf(app: &TestApp) -> Vec<u8> {
    app.get(
        &format!("/covenants/{COVENANT}/document.pdf"),
        Some(&app.admin),
    )
    .await
    .expect(StatusCode::OK)
    .body
    .to_vec()
}

async fn revision_index(app: &TestApp) -> i64 {
    let c = app
        .get(&format!("/covenants/{COVENANT}"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    c["current_revision"]["index"]
        .as_i64()
        .or_else(|| c["revision"]["index"].as_i64())
        .unwrap_or_else(|| panic!("no revision index in {c}"))
}

/// pyHanko signs `field` of `base` with `leaf`; the signed bytes.
fn pyhanko_signed(dir: &Path, base: &[u8], field: &str, leaf: &Leaf, chain: &Path) -> Vec<u8> {
    let input = dir.join("upload-in.pdf");
    let output = dir.join("upload-out.pdf");
    std::fs::write(&input, base).unwrap();
    giaouoc::test_support::foreign::pyhanko_sign(&input, &output, field, leaf, chain, &[]);
    std::fs::read(&output).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_signed_elsewhere_is_accepted_only_as_one_valid_signature_of_the_unit() {
    let dir = temp_dir("upload-signed");
    let ca = Pki::create(&dir.join("pki"));
    let other_ca = Pki::create(&dir.join("other-pki"));
    let printed = |i: usize| {
        units()[i]["signer"]["full_name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let u07 = ca.leaf("u07", &printed(6), "Đơn vị U07", Key::Rsa(2048), 307);
    let u08 = ca.leaf("u08", &printed(7), "Đơn vị U08", Key::P256, 308);
    let stranger = ca.leaf("x07", &printed(6), "Đơn vị U07", Key::Rsa(2048), 317);
    let untrusted = other_ca.leaf("y07", &printed(6), "Đơn vị U07", Key::Rsa(2048), 327);
    let options = Options {
        clock: system_clock(),
        trust_anchors: pki::certificates_from_pem_or_der(&std::fs::read(&ca.root).unwrap())
            .unwrap(),
        ..Options::default()
    };
    let app = TestApp::open(&dir.join("data"), options).await;
    let tokens = ready_to_sign(&app).await;
    enrol_existing(&app, &tokens, "U07", &bundle(&ca, &u07)).await;
    enrol_existing(&app, &tokens, "U08", &bundle(&ca, &u08)).await;
    for i in 0..3 {
        sign_once(&app, &tokens, i).await.expect(StatusCode::OK);
    }
    let before = current_pdf(&app).await;
    let chain = &ca.intermediate;

    // Each refusal: its status, its code, a Vietnamese reason, and nothing stored.
    let mut refusals: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "not a PDF",
            b"hello".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_pdf",
        ),
        (
            "wrong field",
            pyhanko_signed(&dir, &before, "U09", &u07, chain),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_field",
        ),
        (
            "another unit's certificate",
            pyhanko_signed(&dir, &before, "U07", &u08, chain),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unenrolled_certificate",
        ),
        (
            "an unenrolled certificate",
            pyhanko_signed(&dir, &before, "U07", &stranger, chain),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unenrolled_certificate",
        ),
        (
            "an untrusted root",
            pyhanko_signed(&dir, &before, "U07", &untrusted, &other_ca.intermediate),
            StatusCode::UNPROCESSABLE_ENTITY,
            "untrusted_certificate",
        ),
    ];
    let first = pyhanko_signed(&dir, &before, "U07", &u07, chain);
    refusals.push((
        "two new signatures",
        pyhanko_signed(&dir, &first, "U08", &u08, chain),
        StatusCode::UNPROCESSABLE_ENTITY,
        "several_new_signatures",
    ));
    // The page rotated in an update, then signed: the earlier signatures see the change.
    let rotated = {
        let file = giaouoc::pdf::PdfFile::parse(&before, &Default::default()).unwrap();
        let mut up = giaouoc::pdf::IncrementalUpdate::new(&file).unwrap();
        let mut budget = giaouoc::pdf::walk::Budget::new(giaouoc::pdf::walk::MAX_WORK);
        let pages = giaouoc::pdf::walk::index_pages(&file, file.last_revision(), &mut budget);
        let (&num, _) = pages.page_no.iter().find(|(_, p)| **p == 1).unwrap();
        let page = giaouoc::pdf::ObjRef::new(num, 0);
        let mut d = file
            .resolve_current(page)
            .unwrap()
            .as_dict()
            .unwrap()
            .clone();
        d.set("Rotate", giaouoc::pdf::Object::Integer(90));
        up.put(page, giaouoc::pdf::Object::Dictionary(d)).unwrap();
        up.finish(&before).unwrap().bytes
    };
    refusals.push((
        "content changed before signing",
        pyhanko_signed(&dir, &rotated, "U07", &u07, chain),
        StatusCode::UNPROCESSABLE_ENTITY,
        "document_changed",
    ));
    let mut flipped = first.clone();
    let at = flipped
        .windows(7)
        .position(|w| w == b"/Rotate" || w == b"/MediaB")
        .unwrap();
    flipped[at + 1] ^= 0x20;
    refusals.push((
        "a byte of the current revision changed",
        flipped,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_this_revision",
    ));
    for (what, pdf, status, code) in refusals {
        let r = upload(&app, &tokens, "U07", pdf).await;
        assert_eq!(
            r.status,
            status,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert_eq!(v["error"], code, "{what}: {v}");
        let text = v.to_string();
        assert!(
            text.chars()
                .any(|c| "ăâđêôơưạảấầẩậắằẳặẹẻẽếềểệỉịọỏốồổộớờởợụủứừửựỳỷỹ".contains(c)),
            "{what}: no Vietnamese reason in {v}"
        );
        assert_eq!(
            revision_index(&app).await,
            3,
            "{what}: something was stored"
        );
        assert_eq!(current_pdf(&app).await, before, "{what}");
    }

    // Accepted: one signature in U07's field by its enrolled certificate, tool recorded.
    let accepted = upload(&app, &tokens, "U07", first.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(accepted["unit_id"], "U07");
    assert!(
        accepted["tool"].as_str().unwrap_or("").contains("pyHanko"),
        "{accepted}"
    );
    // The upload had no signature time-stamp: the service added a document time-stamp (B-T).
    assert_eq!(accepted["index"], 4, "{accepted}");
    assert_eq!(accepted["document_timestamp_index"], 5, "{accepted}");
    let current = current_pdf(&app).await;
    assert!(current.starts_with(&first) && current.len() > first.len());
    let report = post_pdf(&app, "/verify", None, current.to_vec())
        .await
        .expect(StatusCode::OK)
        .json();
    let u07 = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["field"] == "U07")
        .unwrap();
    assert_eq!(u07["level"], "B-T", "{u07}");
    assert_eq!(u07["checked_at"]["source"], "document_timestamp", "{u07}");
    let audit = app
        .get(&format!("/covenants/{COVENANT}/audit"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(
        audit.to_string().contains("\"path\":\"upload\""),
        "the audit records the path: {audit}"
    );

    // A file built on the revision before: 409 stale, naming the current one.
    sign_once(&app, &tokens, 3).await.expect(StatusCode::OK);
    let late = pyhanko_signed(&dir, &first, "U08", &u08, chain);
    let r = upload(&app, &tokens, "U08", late).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    assert_eq!(v["error"], "stale");
    assert!(v["message"].as_str().unwrap().contains("(6,"), "{v}");
    // Built on the current revision, it is accepted.
    let now = current_pdf(&app).await;
    upload(
        &app,
        &tokens,
        "U08",
        pyhanko_signed(&dir, &now, "U08", &u08, chain),
    )
    .await
    .expect(StatusCode::OK);
}

/// A multipart form with the file as field `uploadfile`, as the VGCA Sign Service sends it.
fn uploadfile_form(pdf: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----vgcaBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"uploadfile\"; \
         filename=\"signed.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desktop_tool_signs_through_one_time_links_that_cannot_be_reused_or_outlived() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    let dir = temp_dir("desktop-links");
    let ca = Pki::create(&dir.join("pki"));
    let printed = |i: usize| {
        units()[i]["signer"]["full_name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let u07 = ca.leaf("u07", &printed(6), "Đơn vị U07", Key::Rsa(2048), 507);
    let skew = Arc::new(AtomicI64::new(0));
    let clock_skew = Arc::clone(&skew);
    let options = Options {
        clock: Arc::new(move || {
            time::OffsetDateTime::now_utc()
                + time::Duration::seconds(clock_skew.load(Ordering::Relaxed))
        }),
        trust_anchors: pki::certificates_from_pem_or_der(&std::fs::read(&ca.root).unwrap())
            .unwrap(),
        ..Options::default()
    };
    let app = TestApp::open(&dir.join("data"), options).await;
    let tokens = ready_to_sign(&app).await;
    enrol_existing(&app, &tokens, "U07", &bundle(&ca, &u07)).await;
    let links_uri = |unit: &str| format!("/covenants/{COVENANT}/signatures/{unit}/desktop-links");
    // Only the unit's leader asks for its links.
    app.post(&links_uri("U07"), Some(leader(&tokens, "U08")), json!({}))
        .await
        .expect(StatusCode::FORBIDDEN);
    let links = app
        .post(&links_uri("U07"), Some(leader(&tokens, "U07")), json!({}))
        .await
        .expect(StatusCode::CREATED)
        .json();
    let download = links["download_url"].as_str().unwrap();
    let upload_url = links["upload_url"].as_str().unwrap();
    assert_eq!(links["upload_field"], "uploadfile");

    // The tool: GET the file (no cookie, no token), sign it, POST it back.
    let pdf = app.get(download, None).await.expect(StatusCode::OK).body;
    assert_eq!(pdf.to_vec(), current_pdf(&app).await);
    let signed = pyhanko_signed(&dir, &pdf, "U07", &u07, &ca.intermediate);
    let (ctype, body) = uploadfile_form(&signed);
    let send = |ctype: String, body: Vec<u8>| {
        axum::http::Request::post(upload_url)
            .header("content-type", ctype)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let answer = app
        .send(send(ctype.clone(), body.clone()))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(answer["Status"], true, "{answer}");
    assert_eq!(answer["FileName"], "signed.pdf");
    assert!(
        answer["FileServer"]
            .as_str()
            .unwrap()
            .contains("/revisions/"),
        "{answer}"
    );
    // The signed file, then the document time-stamp its signature lacked.
    let current = current_pdf(&app).await;
    assert!(current.starts_with(&signed) && current.len() > signed.len());

    // Used up: the same upload and the download are refused, in the tool's format.
    let again = app.send(send(ctype, body)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.json()["Status"], false);
    app.get(download, None).await.expect(StatusCode::NOT_FOUND);

    // Outlived: a link older than its lifetime is refused.
    let links = app
        .post(&links_uri("U09"), Some(leader(&tokens, "U09")), json!({}))
        .await
        .expect(StatusCode::CREATED)
        .json();
    skew.store(16 * 60, Ordering::Relaxed);
    app.get(links["download_url"].as_str().unwrap(), None)
        .await
        .expect(StatusCode::NOT_FOUND);
    let (ctype, body) = uploadfile_form(&signed);
    let late = app
        .send(
            axum::http::Request::post(links["upload_url"].as_str().unwrap())
                .header("content-type", ctype)
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(late.status, StatusCode::NOT_FOUND);
    let v = late.json();
    assert_eq!(v["Status"], false);
    assert!(v["Message"].as_str().unwrap().contains("hết hạn"), "{v}");
    // The upload (1) and its document time-stamp (2), nothing else.
    assert_eq!(revision_index(&app).await, 2, "nothing else was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_leader_unit_revokes_a_certificate_over_http_and_the_crl_lists_it() {
    let app = TestApp::new("revoke-http").await;
    let tokens = ready_to_sign(&app).await;
    let cert = app
        .get(&format!("/blocs/{BLOC}/certificates/U05"), None)
        .await
        .expect(StatusCode::OK)
        .json();
    let serial = cert["serial"].as_str().unwrap().to_owned();
    let uri = format!("/blocs/{BLOC}/certificates/{serial}/revoke");
    // A member unit may not; the leader unit may.
    app.post(&uri, Some(leader(&tokens, "U05")), json!({}))
        .await
        .expect(StatusCode::FORBIDDEN);
    let revoked = app
        .post(&uri, Some(leader(&tokens, "U01")), json!({}))
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_eq!(revoked["crl_url"], format!("/blocs/{BLOC}/ca.crl"));

    // The CRL at its stable URL: signed by the bloc CA, listing the serial.
    let reply = app
        .get(&format!("/blocs/{BLOC}/ca.crl"), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/pkix-crl");
    let crl = pki::parse_crl(&reply.body).unwrap();
    let ca = app.state.bloc_ca(BLOC).unwrap();
    assert!(crl.verify(&ca.cert), "the CRL is signed by the bloc CA");
    let listed: Vec<String> = crl.revoked.iter().map(|r| r.serial_hex.clone()).collect();
    assert!(
        listed
            .iter()
            .any(|s| s.trim_start_matches('0') == serial.trim_start_matches('0')),
        "{listed:?} lacks {serial}"
    );

    // The revoked certificate can no longer sign.
    let r = app
        .post(
            &format!("/covenants/{COVENANT}/signatures/U05/prepare"),
            Some(leader(&tokens, "U05")),
            json!({"certificate_pem": cert["certificate_pem"]}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(r["error"], "revoked_certificate", "{r}");
    // A malformed serial gets its field path.
    let bad = app
        .post(
            &format!("/blocs/{BLOC}/certificates/xyz/revoke"),
            Some(&app.admin),
            json!({}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    assert_eq!(bad["details"][0]["path"], "serial");
}

/// A bloc whose CA is ECDSA P-256 (`serve --ca-alg p256`): a leader enrols a P-256 public key,
/// the admin approves, the leader signs with it; pyHanko and pdfsig accept the whole chain.
#[tokio::test(flavor = "multi_thread")]
async fn a_bloc_with_a_p256_ca_certifies_p256_leaders_whose_signatures_others_check() {
    use p256::pkcs8::EncodePublicKey;
    let dir = temp_dir("p256-bloc");
    let options = Options {
        clock: system_clock(),
        ca_key: giaouoc::ca::CaKeyKind::P256,
        ..Options::default()
    };
    let app = TestApp::open(&dir.join("data"), options).await;
    let tokens = create(&app).await;
    register_all(&app, &tokens).await;
    freeze(&app, &tokens).await;
    let ca = app.state.bloc_ca(BLOC).unwrap();
    assert_eq!(
        ca.cert.signature_algorithm.oid.to_string(),
        "1.2.840.10045.4.3.2",
        "ecdsa-with-SHA256"
    );
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let public = key
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    let e = app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(leader(&tokens, "U05")),
            json!({"unit": "U05", "public_key_pem": public, "full_name": "Cao Văn Lực", "title": "Giám đốc"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let cert = app
        .post(
            &format!("/enrolments/{}/approve", e["id"]),
            Some(&app.admin),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(cert["info"]["unit_id"], "U05");
    let p = prepare(&app, &tokens, "U05", json!({})).await;
    assert_eq!(p["signature_algorithm"], "ecdsa-p256-sha256");
    let to_sign = B64.decode(p["to_sign"].as_str().unwrap()).unwrap();
    let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&key, &to_sign);
    complete(&app, "U05", &p["prepare_id"], &sig.to_bytes()).await;

    let out = dir.join("signed.pdf");
    std::fs::write(&out, current_pdf(&app).await).unwrap();
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, &ca.cert_pem).unwrap();
    let text = giaouoc::test_support::pyhanko_validate_with(
        &[&ca_pem, &app.dir.join("tsa/root/ca.crt")],
        &out,
    );
    assert!(text.contains(":INTACT:TRUSTED"), "{text}");
    let sig = Command::new(giaouoc::test_support::require("pdfsig"))
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&sig.stdout);
    assert!(text.contains("Signature is Valid."), "{text}");
}

/// The year's documents take the covenant's signing paths: the mid-year report signed in a
/// desktop tool (pyHanko, an enrolled RSA certificate of a licensed CA) and uploaded; the
/// minutes signed by hash, the chair through a remote signing service (RSA PKCS#1 v1.5) and
/// the secretary on a token (ECDSA P-256, `r‖s`) with her own enrolled certificate. pyHanko
/// and poppler accept both, our verifier too, and both are archived.
#[tokio::test(flavor = "multi_thread")]
async fn the_years_documents_are_signed_from_desktop_tools_remote_services_and_tokens() {
    let dir = temp_dir("year-signing-paths");
    let ca = Pki::create(&dir.join("pki"));
    let head = units()[0]["signer"]["full_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let chair = ca.leaf("u01", &head, "Đơn vị U01", Key::Rsa(2048), 401);
    let secretary = ca.leaf("u02-tk", "Trần Thị Hoa", "Đơn vị U02", Key::P256, 402);
    let root_pem = std::fs::read(&ca.root).unwrap();
    let options = Options {
        clock: system_clock(),
        trust_anchors: pki::certificates_from_pem_or_der(&root_pem).unwrap(),
        ..Options::default()
    };
    let app = TestApp::open(&dir.join("data"), options).await;
    let tokens = ready_to_sign(&app).await;
    for i in 0..16 {
        sign_once(&app, &tokens, i).await.expect(StatusCode::OK);
    }
    enrol_existing(&app, &tokens, "U01", &bundle(&ca, &chair)).await;
    enrol_existing(&app, &tokens, "U02", &bundle(&ca, &secretary)).await;
    let u01 = officer(&tokens, "U01").to_owned();

    // The mid-year report, no unit having reported yet (said in the report), signed in a
    // desktop tool and uploaded.
    let report = issue_year_document(&app, &u01, "so-ket-6-thang").await;
    let report_id = report["id"].as_str().unwrap().to_owned();
    let base = app
        .get(&format!("/covenants/{report_id}/document.pdf"), Some(&u01))
        .await
        .expect(StatusCode::OK)
        .body;
    let signed = pyhanko_signed(&dir, &base, "U01", &chair, &ca.intermediate);
    let uploaded = post_pdf(
        &app,
        &format!("/covenants/{report_id}/signatures/U01/upload"),
        Some(leader(&tokens, "U01")),
        signed,
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(uploaded["state"], "completed", "{uploaded}");

    // The minutes: chair and secretary sign by hash.
    app.put(
        &format!("/covenants/{COVENANT}/conference"),
        Some(&u01),
        json!({
            "date": "2021-12-20", "place": "Thành phố Hạ Long",
            "chair": {"name": head, "position": "Giám đốc", "unit": "U01"},
            "secretary": {"name": "Trần Thị Hoa", "position": "Chuyên viên", "unit": "U02"},
            "attending": (1..=16).map(|i| format!("U{i:02}")).collect::<Vec<_>>(),
            "flag_votes": {"U02": 12, "U03": 4},
            "election": {"head": "U02", "head_votes": 15, "deputy": "U05", "deputy_votes": 14},
        }),
    )
    .await
    .expect(StatusCode::OK);
    let minutes = issue_year_document(&app, &u01, "bien-ban-tong-ket").await;
    let minutes_id = minutes["id"].as_str().unwrap().to_owned();
    let by_hash = |field: &str, token: &str, body: Value| {
        let (app, minutes_id) = (&app, &minutes_id);
        let (field, token) = (field.to_owned(), token.to_owned());
        async move {
            app.post(
                &format!("/covenants/{minutes_id}/signatures/{field}/prepare"),
                Some(&token),
                body,
            )
            .await
            .expect(StatusCode::OK)
            .json()
        }
    };
    let p = by_hash(
        "U01",
        leader(&tokens, "U01"),
        json!({"certificate_pem": bundle(&ca, &chair)}),
    )
    .await;
    assert_eq!(p["signature_algorithm"], "rsa-pkcs1v15-sha256", "{p}");
    let hash = B64.decode(p["hash_to_sign"].as_str().unwrap()).unwrap();
    let raw = sign_hash(&chair.key, &hash, &dir);
    let done = complete_on(&app, &minutes_id, "U01", &p["prepare_id"], &raw).await;
    assert_eq!(done["signed"], "1/2");
    // The secretary's field takes her certificate by default (the one naming her), with her
    // unit's officer token.
    let p = by_hash("U02-thu-ky", officer(&tokens, "U02"), json!({})).await;
    assert_eq!(p["signature_algorithm"], "ecdsa-p256-sha256", "{p}");
    let hash = B64.decode(p["hash_to_sign"].as_str().unwrap()).unwrap();
    let der = sign_hash(&secretary.key, &hash, &dir);
    let rs = p256::ecdsa::Signature::from_der(&der).unwrap().to_bytes();
    let done = complete_on(&app, &minutes_id, "U02-thu-ky", &p["prepare_id"], &rs).await;
    assert_eq!(done["signed"], "2/2");
    assert_eq!(done["state"], "completed");

    // The outside judges, then the archive.
    let bloc_ca = app
        .get(&format!("/blocs/{BLOC}/ca.pem"), None)
        .await
        .expect(StatusCode::OK)
        .body;
    let tsa = app
        .get("/tsa/ca.pem", None)
        .await
        .expect(StatusCode::OK)
        .body;
    std::fs::write(dir.join("bloc-ca.pem"), &bloc_ca).unwrap();
    std::fs::write(dir.join("tsa.pem"), &tsa).unwrap();
    for (id, signatures) in [(&report_id, 1), (&minutes_id, 2)] {
        let pdf = app
            .get(&format!("/covenants/{id}/document.pdf"), Some(&u01))
            .await
            .expect(StatusCode::OK)
            .body;
        let path = dir.join(format!("{id}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let text = giaouoc::test_support::pyhanko_validate_with(
            &[&ca.root, &dir.join("bloc-ca.pem"), &dir.join("tsa.pem")],
            &path,
        );
        assert_eq!(
            text.matches(":INTACT:TRUSTED").count(),
            signatures,
            "{id}: {text}"
        );
        let pdfsig = Command::new(giaouoc::test_support::require("pdfsig"))
            .arg(&path)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&pdfsig.stdout);
        assert_eq!(
            out.matches("Signature Validation: Signature is Valid.")
                .count(),
            signatures,
            "{id}: {out}"
        );
        let report = verify::verify_pdf(
            &pdf,
            &VerifyOptions {
                trust_roots: pki::certificates_from_pem_or_der(&root_pem).unwrap(),
                ..VerifyOptions::default()
            },
        )
        .unwrap();
        assert_eq!(report.signatures.len(), signatures);
        assert!(
            report.signatures.iter().all(|s| s.intact && s.valid),
            "{id}"
        );
        let archived = app
            .post(&format!("/covenants/{id}/archive"), Some(&u01), json!({}))
            .await
            .expect(StatusCode::CREATED)
            .json();
        assert_eq!(archived["verdict"], "valid", "{id}: {archived}");
    }
}
