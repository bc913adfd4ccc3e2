//! Signatures that count in Vietnam come from other CAs and other tools: the reference covenant
//! signed with pyHanko by certificates of a second CA (made here with OpenSSL: a root and an
//! intermediate), with RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256 and P-384 and Ed25519 keys, one
//! signature after another. pyHanko and poppler's pdfsig judge them; giaouoc must agree, bind
//! each field to the leader printed under it, and say "indeterminate" (never "altered") for an
//! algorithm it does not support.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use giaouoc::test_support::foreign::{Key, Leaf, Pki, pyhanko_sign};
use serde_json::Value;

use crate::helpers::*;
use crate::http_support::pyhanko_validate;

/// The covenant signed five times, and what made it.
struct Signed {
    dir: PathBuf,
    pki: Pki,
    unsigned: PathBuf,
    /// (field, key, extra pyHanko options)
    plan: Vec<(&'static str, Key, &'static [&'static str])>,
    leaves: Vec<Leaf>,
    /// After each signature.
    revisions: Vec<PathBuf>,
}

/// The leader printed under `field` and their unit, from the reference input.
fn leader(field: &str) -> (String, String) {
    let v: Value = serde_json::from_slice(&reference_json()).unwrap();
    let u = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == field)
        .unwrap();
    (
        u["signer"]["full_name"].as_str().unwrap().to_owned(),
        u["name"].as_str().unwrap().to_owned(),
    )
}

fn signed() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let dir = temp_dir("foreign-ca");
        let pki = Pki::create(&dir.join("pki"));
        let (_, doc) =
            giaouoc::render::prepare(&reference_json(), &giaouoc::template::Template::builtin())
                .unwrap();
        let unsigned = dir.join("unsigned.pdf");
        std::fs::write(
            &unsigned,
            giaouoc::render::pdf(&doc, &Default::default())
                .unwrap()
                .bytes,
        )
        .unwrap();
        let plan: Vec<(&'static str, Key, &'static [&'static str])> = vec![
            ("U03", Key::Rsa(2048), &[]),
            ("U04", Key::Rsa(3072), &["--prefer-pss", "--use-pades"]),
            ("U05", Key::P256, &["--use-pades"]),
            ("U06", Key::P384, &[]),
            ("U07", Key::Ed25519, &["--use-pades"]),
        ];
        let mut cur = unsigned.clone();
        let mut leaves = Vec::new();
        let mut revisions = Vec::new();
        for (i, (field, key, extra)) in plan.iter().enumerate() {
            let (name, unit) = leader(field);
            let leaf = pki.leaf(&field.to_lowercase(), &name, &unit, *key, 100 + i as u32);
            let out = dir.join(format!("signed-{}.pdf", i + 1));
            pyhanko_sign(&cur, &out, field, &leaf, &pki.intermediate, extra);
            leaves.push(leaf);
            revisions.push(out.clone());
            cur = out;
        }
        Signed {
            dir,
            pki,
            unsigned,
            plan,
            leaves,
            revisions,
        }
    })
}

/// `giaouoc verify FILE --trust ROOT --json`: the exit code and the report.
fn verify_json(pdf: &Path, root: &Path) -> (i32, Value) {
    let out = giaouoc(&[
        "verify",
        pdf.to_str().unwrap(),
        "--trust",
        root.to_str().unwrap(),
        "--json",
    ]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn five_signatures_of_another_ca_by_another_tool_are_valid_for_pyhanko_pdfsig_and_giaouoc() {
    let s = signed();
    let last = s.revisions.last().unwrap();

    // pyHanko: every signature intact and trusted under the second CA's root.
    let text = pyhanko_validate(&s.pki.root, last);
    assert_eq!(text.matches("INTACT:TRUSTED").count(), 5, "{text}");
    assert!(!text.contains("ILLEGAL"), "{text}");

    // poppler: every RSA and ECDSA signature valid (it cannot check Ed25519).
    let out = tool("pdfsig", &[last.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("Signature Validation: Signature is Valid.")
            .count(),
        4,
        "{text}"
    );

    // giaouoc: valid, each signature with its algorithm and its binding rule.
    let (code, r) = verify_json(last, &s.pki.root);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["verdict"], "valid", "{r:#}");
    let sigs = r["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 5);
    let expected = [
        ("U03", "rsa_pkcs1v15", "sha256", "rsa"),
        ("U04", "rsa_pss", "sha384", "rsa"),
        ("U05", "ecdsa", "sha256", "p256"),
        ("U06", "ecdsa", "sha384", "p384"),
        ("U07", "ed25519", "", "ed25519"),
    ];
    for (sig, (field, scheme, hash, key)) in sigs.iter().zip(expected) {
        assert_eq!(sig["field"], field);
        assert_eq!(sig["algorithm"]["scheme"], scheme, "{sig:#}");
        if !hash.is_empty() {
            assert_eq!(sig["algorithm"]["hash"], hash, "{sig:#}");
        }
        assert_eq!(sig["algorithm"]["key"]["type"], key, "{sig:#}");
        assert_eq!(sig["binding"]["rule"], "printed_name", "{sig:#}");
        assert_eq!(sig["binding"]["printed_name"], leader(field).0.as_str());
        assert_eq!(sig["trusted"], true);
        assert!(codes(&sig["problems"]).is_empty(), "{sig:#}");
    }
    // Ed25519 is not among the algorithms Circular 15/2025 lists: a note, not a failure.
    assert!(codes(&sigs[4]["notes"]).contains(&"algorithm_not_listed_in_vietnam".to_owned()));
    assert!(!codes(&sigs[0]["notes"]).contains(&"algorithm_not_listed_in_vietnam".to_owned()));
    // pyHanko rewrote the XMP metadata after each earlier signature: allowed, and said.
    let changes = sigs[0]["changes_after"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "metadata_updated" && c["allowed"] == true),
        "{changes:#?}"
    );
    assert_eq!(sigs[0]["modifications"], "allowed_updates");
    assert!(changes.iter().all(|c| c["allowed"] == true));

    // The Vietnamese report names the algorithm's note and says valid; exit 0.
    let out = giaouoc(&[
        "verify",
        last.to_str().unwrap(),
        "--trust",
        s.pki.root.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Chữ ký hợp lệ của Âu Thị Hải Yến"), "{text}");
    assert!(text.contains("Thông tư 15/2025"), "{text}");
    // Each earlier revision is valid too (a signature added to a signed file stays valid).
    for (i, rev) in s.revisions.iter().enumerate() {
        let (code, r) = verify_json(rev, &s.pki.root);
        assert_eq!(
            (code, r["verdict"].as_str()),
            (0, Some("valid")),
            "{i}: {r:#}"
        );
    }
    // Without the second CA's root: untrusted, not invalid.
    let out = giaouoc(&["verify", last.to_str().unwrap(), "--json"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["verdict"], "untrusted");
    let _ = (&s.plan, &s.leaves);
}

#[test]
fn a_certificate_not_of_the_printed_leader_is_flagged() {
    let s = signed();
    // U08's field, signed with U03's leader's certificate.
    let out = s.dir.join("wrong-signer.pdf");
    pyhanko_sign(
        &s.unsigned,
        &out,
        "U08",
        &s.leaves[0],
        &s.pki.intermediate,
        &[],
    );
    // pyHanko does not know who is printed under the field: it accepts the signature.
    assert!(pyhanko_validate(&s.pki.root, &out).contains("INTACT:TRUSTED"));
    let (code, r) = verify_json(&out, &s.pki.root);
    assert_eq!(code, 1);
    assert_eq!(r["verdict"], "invalid", "{r:#}");
    let sig = &r["signatures"][0];
    assert_eq!(sig["binding"]["rule"], "unbound");
    assert_eq!(sig["field_matches_certificate"], false);
    assert!(codes(&sig["problems"]).contains(&"not_the_printed_leader".to_owned()));
    let text = giaouoc(&[
        "verify",
        out.to_str().unwrap(),
        "--trust",
        s.pki.root.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("người không phải lãnh đạo ghi dưới ô ký"),
        "{text}"
    );
}

/// A one-page PDF with no form (the kind of file anyone signs).
fn blank_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[test]
fn a_pdf_that_is_not_a_covenant_is_valid_without_binding() {
    let s = signed();
    let blank = s.dir.join("blank.pdf");
    std::fs::write(&blank, blank_pdf()).unwrap();
    let fields = s.dir.join("fields.pdf");
    let out = Command::new(giaouoc::test_support::require("pyhanko"))
        .args([
            "sign",
            "addfields",
            "--field",
            "1/50,650,250,750/Sig1",
            "--field",
            "1/300,650,500,750/Sig2",
        ])
        .arg(&blank)
        .arg(&fields)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one = s.dir.join("plain-1.pdf");
    let two = s.dir.join("plain-2.pdf");
    pyhanko_sign(
        &fields,
        &one,
        "Sig1",
        &s.leaves[2],
        &s.pki.intermediate,
        &[],
    );
    pyhanko_sign(
        &one,
        &two,
        "Sig2",
        &s.leaves[1],
        &s.pki.intermediate,
        &["--prefer-pss"],
    );
    let (code, r) = verify_json(&two, &s.pki.root);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["verdict"], "valid", "{r:#}");
    for sig in r["signatures"].as_array().unwrap() {
        assert_eq!(sig["binding"]["rule"], "not_applicable", "{sig:#}");
        assert_eq!(sig["field_matches_certificate"], true);
    }
}

#[test]
fn an_unsupported_algorithm_is_indeterminate_not_altered() {
    let s = signed();
    // U03's SignerInfo names RSASSA-PKCS1-v1_5 with SHA3-256 instead of SHA-256 (the same
    // length; the signature value and everything signed are untouched).
    let mut bytes = std::fs::read(&s.revisions[0]).unwrap();
    let from = b"06092a864886f70d01010b"; // sha256WithRSAEncryption
    let to = b"060960864801650304030e"; // id-rsassa-pkcs1-v1_5-with-sha3-256
    let at = bytes
        .windows(from.len())
        .rposition(|w| w.eq_ignore_ascii_case(from))
        .expect("the signer info's algorithm");
    bytes[at..at + to.len()].copy_from_slice(to);
    let path = s.dir.join("sha3.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let (code, r) = verify_json(&path, &s.pki.root);
    assert_eq!(code, 1);
    assert_eq!(r["verdict"], "indeterminate", "{r:#}");
    let sig = &r["signatures"][0];
    assert_eq!(sig["indeterminate"], true);
    assert_eq!(sig["intact"], true, "the document was not altered");
    let problems = sig["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["kind"] == "unsupported_algorithm"
            && p["en"].as_str().unwrap().contains("unsupported algorithm")),
        "{problems:#?}"
    );
    assert!(!problems.iter().any(|p| p["code"] == "digest_mismatch"));
    let text = giaouoc(&[
        "verify",
        path.to_str().unwrap(),
        "--trust",
        s.pki.root.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("chưa được hỗ trợ"), "{text}");
    assert!(!text.contains("bị sửa"), "{text}");
}

#[test]
fn national_roots_come_from_a_folder_for_the_cli_and_the_service() {
    let s = signed();
    let last = s.revisions.last().unwrap();
    // A folder of roots (what an operator fills with the national and government roots).
    let roots = s.dir.join("roots");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::copy(&s.pki.root, roots.join("test-vn-root-g2.crt")).unwrap();
    std::fs::write(roots.join("README.txt"), "not a certificate, not read").unwrap();
    let (code, r) = verify_json(last, &roots);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("valid")), "{r:#}");

    // The service: POST /verify trusts the bloc CAs and the operator's anchors.
    let anchors = giaouoc::pki::trust_anchors_from(&roots).unwrap();
    assert_eq!(anchors.len(), 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use axum::body::Body;
        use axum::http::{Request, StatusCode, header};
        let options = giaouoc::http::Options {
            trust_anchors: anchors,
            ..giaouoc::http::Options::default()
        };
        let app = crate::http_support::TestApp::open(&s.dir.join("service"), options).await;
        let report = app
            .send(
                Request::post("/verify")
                    .header(header::CONTENT_TYPE, "application/pdf")
                    .body(Body::from(std::fs::read(last).unwrap()))
                    .unwrap(),
            )
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(report["verdict"], "valid", "{report:#}");
        // The public verify page says the same, in Vietnamese, with each algorithm and how
        // each field is bound.
        let boundary = "b0undary";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gu.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        form.extend_from_slice(&std::fs::read(last).unwrap());
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let page = app
            .send(
                Request::post("/kiem-tra")
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(Body::from(form))
                    .unwrap(),
            )
            .await
            .expect(StatusCode::OK);
        let html = String::from_utf8_lossy(&page.body);
        for want in [
            "✓ HỢP LỆ",
            "RSA-2048 PKCS#1 v1.5 SHA-256",
            "RSA-3072 PSS SHA-384",
            "ECDSA P-384 SHA-384",
            "đúng tên lãnh đạo ghi dưới ô ký",
            "Cập nhật được phép sau chữ ký này",
            "Siêu dữ liệu XMP",
        ] {
            assert!(html.contains(want), "{want}: {html}");
        }
    });
}

/// Writes `benches/fixtures/mixed-16.pdf` (the covenant signed in all 16 fields by pyHanko with
/// the second CA's RSA, RSA-PSS, ECDSA P-256/P-384 and Ed25519 keys in turn) and its root, for
/// the verification benchmark: `cargo test --test it write_mixed_fixture -- --ignored`.
#[test]
#[ignore]
fn write_mixed_fixture() {
    let dir = temp_dir("mixed-16");
    let pki = Pki::create(&dir.join("pki"));
    let (_, doc) =
        giaouoc::render::prepare(&reference_json(), &giaouoc::template::Template::builtin())
            .unwrap();
    let mut cur = dir.join("unsigned.pdf");
    std::fs::write(
        &cur,
        giaouoc::render::pdf(&doc, &Default::default())
            .unwrap()
            .bytes,
    )
    .unwrap();
    let kinds: [(Key, &[&str]); 5] = [
        (Key::Rsa(2048), &["--use-pades"]),
        (Key::Rsa(3072), &["--prefer-pss", "--use-pades"]),
        (Key::P256, &["--use-pades"]),
        (Key::P384, &["--use-pades"]),
        (Key::Ed25519, &["--use-pades"]),
    ];
    for i in 0..16 {
        let field = format!("U{:02}", i + 1);
        let (name, unit) = leader(&field);
        let (key, extra) = kinds[i % kinds.len()];
        let leaf = pki.leaf(&field.to_lowercase(), &name, &unit, key, 500 + i as u32);
        let out = dir.join(format!("{field}.pdf"));
        pyhanko_sign(&cur, &out, &field, &leaf, &pki.intermediate, extra);
        cur = out;
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::copy(&cur, target.join("mixed-16.pdf")).unwrap();
    std::fs::copy(&pki.root, target.join("mixed-16-root.pem")).unwrap();
    let (code, r) = verify_json(&cur, &pki.root);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("valid")), "{r:#}");
}
