//! `giaouoc verify` and the verifier on real signed covenants: verdicts and exit codes.

use giaouoc::pki;
use giaouoc::verify::{ModificationLevel, Verdict, VerifyOptions, verify_pdf};

use crate::helpers::*;
use crate::sign::{bloc, signed_by};

fn files(n: usize) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let b = bloc();
    let dir = temp_dir("verify");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki::certificate_to_pem(&b.ca).unwrap()).unwrap();
    let pdf = signed_by(&b, n);
    let path = dir.join("signed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    (ca, path, pdf)
}

#[test]
fn the_sixteen_signature_covenant_verifies_in_our_verifier_too() {
    let b = bloc();
    let pdf = signed_by(&b, 16);
    let opts = VerifyOptions {
        trust_roots: vec![b.ca.clone()],
        ..Default::default()
    };
    let r = verify_pdf(&pdf, &opts).unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.signatures.len(), 16);
    assert!(r.unsigned_fields.is_empty());
    for (i, s) in r.signatures.iter().enumerate() {
        assert!(
            s.intact && s.valid && s.trusted && s.field_matches_certificate,
            "{s:#?}"
        );
        assert_eq!(s.revision, Some(i + 2));
        let want = if i == 15 {
            ModificationLevel::None
        } else {
            ModificationLevel::LaterSignaturesOnly
        };
        assert_eq!(s.modifications, want);
    }
    assert!(r.signatures[15].covers_whole_file);
    assert_eq!(
        r.signatures[6]
            .signer
            .as_ref()
            .unwrap()
            .subject_cn
            .as_deref(),
        Some("Âu Thị Hải Yến")
    );
}

#[test]
fn verify_exit_codes_and_reports() {
    let (ca, path, pdf) = files(2);
    let ca = ca.to_str().unwrap();
    // Valid: exit 0, Vietnamese text by default, JSON on request.
    let out = giaouoc(&["verify", path.to_str().unwrap(), "--trust", ca]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Chữ ký hợp lệ của Đào Quang Vinh"), "{text}");
    assert!(text.contains("KẾT LUẬN: Tất cả chữ ký hợp lệ"), "{text}");
    let out = giaouoc(&["verify", path.to_str().unwrap(), "--trust", ca, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "giaouoc.verification/2");
    assert_eq!(json["verdict"], "valid");
    assert_eq!(json["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(json["unsigned_fields"].as_array().unwrap().len(), 14);
    let out = giaouoc(&[
        "verify",
        path.to_str().unwrap(),
        "--trust",
        ca,
        "--lang",
        "en",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("VERDICT: All signatures are valid"));

    // Without the trust root: readable, not valid → 1.
    let out = giaouoc(&["verify", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Chứng thư không được tin cậy"));

    // A byte changed inside the first signed revision → 1, and said so.
    let mut tampered = pdf.clone();
    let at = tampered
        .windows(7)
        .position(|w| w == b"/Author")
        .expect("info dictionary");
    tampered[at + 1] = b'a';
    let t = path.with_file_name("tampered.pdf");
    std::fs::write(&t, &tampered).unwrap();
    let out = giaouoc(&["verify", t.to_str().unwrap(), "--trust", ca, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "invalid");
    assert_eq!(json["signatures"][0]["intact"], false);
    // Each problem carries its code and both texts.
    let problem = &json["signatures"][0]["problems"][0];
    assert_eq!(problem["code"], "digest_mismatch");
    assert!(
        problem["vi"]
            .as_str()
            .unwrap()
            .contains("tài liệu đã bị sửa")
    );
    // The Vietnamese text report names every problem of every signature, in Vietnamese.
    let out = giaouoc(&["verify", t.to_str().unwrap(), "--trust", ca]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("! Dữ liệu được ký không khớp với giá trị băm trong chữ ký"),
        "{text}"
    );
    assert!(!text.contains("the document was altered"), "{text}");

    // Not a PDF → 2.
    let junk = path.with_file_name("junk.pdf");
    std::fs::write(&junk, b"not a pdf at all").unwrap();
    let out = giaouoc(&["verify", junk.to_str().unwrap(), "--trust", ca]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn signing_a_file_whose_signatures_do_not_hold_is_refused() {
    let b = bloc();
    let dir = temp_dir("sign-broken");
    let mut pdf = signed_by(&b, 1);
    // Append an unsigned revision that changes nothing but is not a signature: an update
    // the verifier must flag.
    let file = giaouoc::pdf::PdfFile::parse(&pdf, &Default::default()).unwrap();
    let mut up = giaouoc::pdf::IncrementalUpdate::new(&file).unwrap();
    let r = up.allocate();
    up.put(r, giaouoc::pdf::Object::Integer(42)).unwrap();
    pdf = up.finish(&pdf).unwrap().bytes;
    std::fs::write(dir.join("in.pdf"), &pdf).unwrap();
    std::fs::write(dir.join("ca.pem"), pki::certificate_to_pem(&b.ca).unwrap()).unwrap();
    let (_, k, cert) = &b.leaders[1];
    std::fs::write(dir.join("u02.key"), &*pki::signing_key_to_pem(k).unwrap()).unwrap();
    std::fs::write(dir.join("u02.crt"), pki::certificate_to_pem(cert).unwrap()).unwrap();
    let d = |p: &str| dir.join(p).to_str().unwrap().to_string();
    let out = giaouoc(&[
        "sign",
        "--in",
        &d("in.pdf"),
        "--field",
        "U02",
        "--key",
        &d("u02.key"),
        "--cert",
        &d("u02.crt"),
        "--chain",
        &d("ca.pem"),
        "--out",
        &d("out.pdf"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("không ký thêm"), "{stderr}");
    assert!(!dir.join("out.pdf").exists());
}
