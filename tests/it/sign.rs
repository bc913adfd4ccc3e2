//! The whole chain on the reference covenant: CA, 16 leaders, 16 sequential signatures,
//! checked by pyHanko (the third-party judge), qpdf and pdftotext.

use time::macros::datetime;

use giaouoc::pki;
use giaouoc::sign::{self, SignError, SignOptions};
use giaouoc::template::Template;

use crate::helpers::*;

pub use giaouoc::test_support::TestBloc as Bloc;

/// The reference covenant's test bloc (a CA and its 16 leaders).
pub fn bloc() -> Bloc {
    let covenant = giaouoc::covenant::parse(&reference_json()).unwrap();
    giaouoc::test_support::test_bloc(&covenant)
}

pub fn unsigned_pdf() -> Vec<u8> {
    let (_, doc) = giaouoc::render::prepare(&reference_json(), &Template::builtin()).unwrap();
    giaouoc::render::pdf(&doc, &Default::default())
        .unwrap()
        .bytes
}

pub fn opts(field: &str, minute: u8) -> SignOptions {
    SignOptions {
        field: field.into(),
        time: datetime!(2021-01-22 15:00:00 +07:00) + time::Duration::minutes(minute.into()),
        reason: Some("Ký giao ước thi đua năm 2021".into()),
        location: Some("Quảng Ninh".into()),
        image: None,
        seal: None,
    }
}

/// The covenant signed by the first `n` leaders, in grid order.
pub fn signed_by(bloc: &Bloc, n: usize) -> Vec<u8> {
    let mut pdf = unsigned_pdf();
    for (i, (unit, k, cert)) in bloc.leaders.iter().take(n).enumerate() {
        pdf = sign::sign_with_key(
            &pdf,
            k,
            cert,
            std::slice::from_ref(&bloc.ca),
            &opts(unit, i as u8),
        )
        .unwrap();
    }
    pdf
}

#[test]
fn sixteen_sequential_signatures_pass_pyhanko_qpdf_and_pdftotext() {
    let bloc = bloc();
    let dir = temp_dir("sign16");
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, pki::certificate_to_pem(&bloc.ca).unwrap()).unwrap();
    let mut pdf = unsigned_pdf();
    for (i, (unit, k, cert)) in bloc.leaders.iter().enumerate() {
        pdf = sign::sign_with_key(
            &pdf,
            k,
            cert,
            std::slice::from_ref(&bloc.ca),
            &opts(unit, i as u8),
        )
        .unwrap();
        let path = dir.join(format!("rev{i:02}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let out = tool("qpdf", &["--check", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "qpdf after signature {}: {}",
            i + 1,
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let path = dir.join("signed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = pdf_text(&path);
    let want = expected_strings(&reference_json());
    let miss = missing(&want, &text);
    assert!(miss.is_empty(), "missing after signing: {miss:#?}");
    assert!(text.contains("Ký bởi: Âu Thị Hải Yến"), "appearance text");

    let out = std::process::Command::new(crate::http_support::pyhanko())
        .args(["sign", "validate", "--trust"])
        .arg(&ca_pem)
        .arg("--trust-replace")
        .arg(&path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "pyHanko: {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report.matches("INTACT:TRUSTED").count(), 16, "{report}");
    assert!(!report.contains("ILLEGAL"), "{report}");
    let last = report.lines().rfind(|l| l.contains("INTACT")).unwrap_or("");
    assert!(
        last.starts_with("U16:") && last.ends_with("UNTOUCHED"),
        "{report}"
    );
    assert_eq!(
        report.matches("ACCEPTABLE_MODIFICATIONS").count(),
        15,
        "{report}"
    );
}

#[test]
fn signing_twice_or_for_another_unit_is_refused() {
    let bloc = bloc();
    let pdf = signed_by(&bloc, 1);
    let (unit, k, cert) = &bloc.leaders[0];
    let again = sign::sign_with_key(
        &pdf,
        k,
        cert,
        std::slice::from_ref(&bloc.ca),
        &opts(unit, 5),
    );
    assert!(
        matches!(again, Err(SignError::AlreadySigned(_))),
        "{again:?}"
    );
    let (_, k2, cert2) = &bloc.leaders[1];
    let other = sign::sign_with_key(
        &pdf,
        k2,
        cert2,
        std::slice::from_ref(&bloc.ca),
        &opts("U03", 5),
    );
    assert!(
        matches!(other, Err(SignError::WrongUnit { .. })),
        "{other:?}"
    );
    let missing = sign::sign_with_key(&pdf, k2, cert2, &[], &opts("U99", 5));
    assert!(matches!(
        missing,
        Err(SignError::WrongUnit { .. }) | Err(SignError::NoSuchField(_))
    ));
    let wrong_key = sign::sign_with_key(&pdf, k, cert2, &[], &opts("U02", 5));
    assert!(
        matches!(wrong_key, Err(SignError::KeyMismatch)),
        "{wrong_key:?}"
    );
}

#[test]
fn a_preparation_against_an_older_revision_is_refused() {
    use ed25519_dalek::Signer;
    let bloc = bloc();
    let base = signed_by(&bloc, 1);
    let (u2, k2, c2) = &bloc.leaders[1];
    let (u3, k3, c3) = &bloc.leaders[2];
    let p2 = sign::prepare(&base, c2, &opts(u2, 1)).unwrap();
    let p3 = sign::prepare(&base, c3, &opts(u3, 1)).unwrap();
    let s2 = k2.sign(&p2.signed_attributes).to_bytes();
    let after2 = p2
        .embed(&base, &s2, c2, std::slice::from_ref(&bloc.ca))
        .unwrap();
    // U03 prepared against the file before U02 signed: refused on the new file.
    let s3 = k3.sign(&p3.signed_attributes).to_bytes();
    let stale = p3
        .clone()
        .embed(&after2, &s3, c3, std::slice::from_ref(&bloc.ca));
    assert!(matches!(stale, Err(SignError::StaleBase)), "{stale:?}");
    // A signature by the wrong key is refused at embed time.
    let bad = p3.embed(&base, &s2, c3, &[]);
    assert!(matches!(bad, Err(SignError::KeyMismatch)), "{bad:?}");
}

#[test]
fn cli_makes_a_ca_issues_from_a_csr_and_signs() {
    let dir = temp_dir("cli-sign");
    let d = |p: &str| dir.join(p).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let out = giaouoc(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        "ca",
        "init",
        "--dir",
        &d("ca"),
        "--name",
        "Khối thi đua thử nghiệm",
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ca/ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    ok(&[
        "keygen",
        "--out",
        &d("u07"),
        "--name",
        "Âu Thị Hải Yến",
        "--title",
        "Phó Giám đốc",
        "--unit",
        "Trung tâm Văn hóa tỉnh Quảng Ninh",
        "--unit-id",
        "U07",
    ]);
    ok(&[
        "ca",
        "issue",
        "--dir",
        &d("ca"),
        "--csr",
        &d("u07.csr"),
        "--name",
        "Âu Thị Hải Yến",
        "--title",
        "Phó Giám đốc",
        "--unit",
        "Trung tâm Văn hóa tỉnh Quảng Ninh",
        "--unit-id",
        "U07",
        "--out",
        &d("u07.crt"),
    ]);
    let input = fixture("covenant-2021-quang-ninh.json");
    ok(&[
        "render",
        "--input",
        input.to_str().unwrap(),
        "--pdf",
        &d("c.pdf"),
    ]);
    ok(&[
        "sign",
        "--in",
        &d("c.pdf"),
        "--field",
        "U07",
        "--key",
        &d("u07.key"),
        "--cert",
        &d("u07.crt"),
        "--chain",
        &d("ca/ca.crt"),
        "--out",
        &d("s.pdf"),
        "--time",
        "2021-01-22T15:30:45+07:00",
    ]);
    let text = pdf_text(&dir.join("s.pdf"));
    assert!(
        text.contains("Thời gian ký: 22.01.2021 15:30:45 +07:00"),
        "{text}"
    );
    // The same field again, and another unit's field: refused, exit 2, nothing written.
    for field in ["U07", "U08"] {
        let out = giaouoc(&[
            "sign",
            "--in",
            &d("s.pdf"),
            "--field",
            field,
            "--key",
            &d("u07.key"),
            "--cert",
            &d("u07.crt"),
            "--out",
            &d("x.pdf"),
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(!dir.join("x.pdf").exists());
    }
}

#[test]
fn a_handwritten_signature_image_is_shown_with_its_transparency() {
    let bloc = bloc();
    let png = std::fs::read(fixture("signature-blue.png")).unwrap();
    let mut o = opts("U01", 0);
    o.image = Some(sign::SignatureImage::from_png(&png).unwrap());
    let (_, k, cert) = &bloc.leaders[0];
    let pdf =
        sign::sign_with_key(&unsigned_pdf(), k, cert, std::slice::from_ref(&bloc.ca), &o).unwrap();
    let dir = temp_dir("sig-image");
    let path = dir.join("s.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = tool("pdfimages", &["-list", path.to_str().unwrap()]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains(" image ") && list.contains(" smask "),
        "{list}"
    );
    assert!(list.contains("360") && list.contains("150"), "{list}");
    // Not a PNG: a clear error.
    let err = sign::SignatureImage::from_png(b"GIF89a....").unwrap_err();
    assert!(err.to_string().contains("ảnh chữ ký PNG"), "{err}");
}

/// The bloc may use ECDSA P-256 (what Acrobat lists) instead of Ed25519: `ca init --alg p256`,
/// `keygen --alg p256`, `ca issue` from the CSR, `sign` with the P-256 key file. pyHanko (the
/// CA as trust root) and poppler's pdfsig accept the whole chain; our verifier too, with no
/// Circular 15/2025 note.
#[test]
fn a_p256_bloc_ca_and_leader_make_signatures_pyhanko_and_pdfsig_accept() {
    let dir = temp_dir("cli-p256");
    let d = |p: &str| dir.join(p).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let out = giaouoc(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let who = [
        "--name",
        "Âu Thị Hải Yến",
        "--title",
        "Phó Giám đốc",
        "--unit",
        "Trung tâm Văn hóa tỉnh Quảng Ninh",
        "--unit-id",
        "U07",
    ];
    ok(&[
        "ca",
        "init",
        "--alg",
        "p256",
        "--dir",
        &d("ca"),
        "--name",
        "Khối thi đua P-256",
    ]);
    ok(&[
        &["keygen", "--alg", "p256", "--out", &d("u07")][..],
        &who[..],
    ]
    .concat());
    ok(&[
        &[
            "ca",
            "issue",
            "--dir",
            &d("ca"),
            "--csr",
            &d("u07.csr"),
            "--out",
            &d("u07.crt"),
        ][..],
        &who[..],
    ]
    .concat());
    let input = fixture("covenant-2021-quang-ninh.json");
    ok(&[
        "render",
        "--input",
        input.to_str().unwrap(),
        "--pdf",
        &d("c.pdf"),
    ]);
    ok(&[
        "sign",
        "--in",
        &d("c.pdf"),
        "--field",
        "U07",
        "--key",
        &d("u07.key"),
        "--cert",
        &d("u07.crt"),
        "--chain",
        &d("ca/ca.crt"),
        "--out",
        &d("s.pdf"),
    ]);
    let py = std::process::Command::new(giaouoc::test_support::require("pyhanko"))
        .args([
            "sign",
            "validate",
            "--trust",
            &d("ca/ca.crt"),
            "--trust-replace",
            &d("s.pdf"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&py.stdout);
    assert!(
        py.status.success() && text.contains("INTACT:TRUSTED"),
        "{text}"
    );
    let sig = std::process::Command::new(giaouoc::test_support::require("pdfsig"))
        .arg(d("s.pdf"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&sig.stdout);
    assert!(text.contains("Signature is Valid."), "{text}");
    let out = ok(&["verify", &d("s.pdf"), "--trust", &d("ca/ca.crt"), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "valid", "{report}");
    let s = &report["signatures"][0];
    assert_eq!(s["field"], "U07");
    assert_eq!(s["binding"]["rule"], "unit_id_in_certificate");
    assert_eq!(s["algorithm"]["key"]["type"], "p256", "{s}");
    assert!(
        !s["notes"].to_string().contains("15/2025"),
        "P-256 is listed: {}",
        s["notes"]
    );
}
