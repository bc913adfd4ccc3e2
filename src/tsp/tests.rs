use der::Encode;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;

use super::*;
use crate::ca::{BlocCa, CaKeyKind};
use crate::pki::{IssuerKey, SignatureChecks};

const AT: OffsetDateTime = datetime!(2026-03-15 02:30:00.750 UTC);

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(3161)
}

/// A built-in TSA in a temporary folder, and its root.
fn authority() -> (Authority, Certificate) {
    authority_from(&mut rng())
}

fn authority_from(rng: &mut ChaCha20Rng) -> (Authority, Certificate) {
    let dir = tempdir();
    let tsa = Authority::open_or_create(
        &dir,
        "CA dấu thời gian thử",
        DEFAULT_POLICY,
        datetime!(2026-01-01 00:00 UTC),
        rng,
    )
    .unwrap();
    let root = tsa.root().clone();
    (tsa, root)
}

fn tempdir() -> std::path::PathBuf {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let dir = std::env::temp_dir().join(format!(
        "giaouoc-tsp-{}-{nanos}-{}",
        std::process::id(),
        rand_core::RngCore::next_u32(&mut rand_core::OsRng)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use x509_cert::Certificate;

fn check(token: &[u8], data: &[u8], root: &Certificate) -> TokenCheck {
    let checks = SignatureChecks::default();
    check_token(
        token,
        |h| Some(h.digest(data)),
        &TokenTrust {
            roots: std::slice::from_ref(root),
            certificates: &[],
            crls: &[],
            ocsps: &[],
            checks: &checks,
        },
    )
}

fn request(data: &[u8]) -> TimeStampRequest {
    TimeStampRequest::new(MessageImprint::of(HashAlg::Sha256, data), &[0x81, 2, 3, 4])
}

#[test]
fn the_built_in_tsa_answers_with_a_token_that_proves_its_whole_second_time() {
    let (tsa, root) = authority();
    let data = b"signature value";
    let resp = tsa.respond(&request(data).to_der().unwrap(), &[0x42; 16], AT);
    let token = token_from_response(&resp).unwrap();
    let c = check(&token, data, &root);
    assert_eq!(c.problems, vec![]);
    let info = c.info.as_ref().unwrap();
    assert_eq!(c.proven_time(), Some(datetime!(2026-03-15 02:30:00 UTC)));
    assert_eq!(info.nonce.as_deref(), Some(&[0x81, 2, 3, 4][..]));
    assert_eq!(info.policy, DEFAULT_POLICY);
    assert_eq!(info.serial, vec![0x42; 16]);
    assert_eq!(
        c.tsa_name().as_deref(),
        Some("Đơn vị cấp dấu thời gian giaouoc")
    );
    // The folder is reopened with the same key and certificate.
    assert!(pki::has_sole_critical_purpose(
        tsa.certificate(),
        pki::ServicePurpose::TimeStamping
    ));
}

use crate::pki;

#[test]
fn a_token_over_other_data_is_an_imprint_mismatch() {
    let (tsa, root) = authority();
    let token = tsa.stamp(&request(b"one"), &[1], AT).unwrap();
    let c = check(&token, b"another", &root);
    assert_eq!(c.problems, vec![TokenProblem::ImprintMismatch]);
    assert_eq!(c.proven_time(), None);
}

#[test]
fn a_tampered_token_is_refused() {
    let (tsa, root) = authority();
    let token = tsa.stamp(&request(b"x"), &[7; 8], AT).unwrap();
    // The serial number (eight 0x07 bytes) inside the TSTInfo becomes eight 0x08 bytes.
    let at = token
        .windows(8)
        .position(|w| w == [7; 8])
        .expect("serial in the token");
    let mut bad = token.clone();
    bad[at..at + 8].copy_from_slice(&[8; 8]);
    let c = check(&bad, b"x", &root);
    assert!(
        c.problems.contains(&TokenProblem::ContentDigestMismatch),
        "{:?}",
        c.problems
    );
    // A token under a root nobody trusts.
    let (_, other_root) = authority_from(&mut ChaCha20Rng::seed_from_u64(1));
    let c = check(&token, b"x", &other_root);
    assert!(
        matches!(c.problems.as_slice(), [TokenProblem::Untrusted { .. }]),
        "{:?}",
        c.problems
    );
}

#[test]
fn a_token_signed_by_a_certificate_without_the_time_stamping_eku_is_refused() {
    let mut rng = rng();
    let ca = BlocCa::create(
        CaKeyKind::P256.generate(&mut rng),
        "Khối thử",
        datetime!(2026-01-01 00:00 UTC),
        datetime!(2030-01-01 00:00 UTC),
    )
    .unwrap();
    let key = IssuerKey::generate_p256(&mut rng);
    let cert = ca
        .issue_spki(
            &key.spki().unwrap(),
            &pki::LeaderSubject {
                full_name: "Nguyễn Văn A".into(),
                title: "Giám đốc".into(),
                unit_name: "Sở thử".into(),
                unit_id: "U01".into(),
            },
            9,
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2028-01-01 00:00 UTC),
        )
        .unwrap();
    let info = TstInfo {
        policy: DEFAULT_POLICY,
        imprint: MessageImprint::of(HashAlg::Sha256, b"x"),
        serial: vec![1],
        gen_time: datetime!(2026-03-15 02:30:00 UTC),
        accuracy_micros: None,
        nonce: None,
    }
    .to_der()
    .unwrap();
    let attrs = crate::cms::signed_attributes_der_for(
        ID_CT_TST_INFO,
        &HashAlg::Sha256.digest(&info),
        &cert,
    )
    .unwrap();
    let token = crate::cms::build_signed_data_with(
        crate::cms::Content::Encapsulated(ID_CT_TST_INFO, &info),
        &attrs,
        &key.sign(&attrs),
        &cert,
        &[],
    )
    .unwrap();
    let c = check(&token, b"x", &ca.cert);
    assert_eq!(
        c.problems,
        vec![TokenProblem::NotTimeStampingCertificate {
            subject: "Nguyễn Văn A".into()
        }]
    );
}

#[test]
fn the_tsa_refuses_another_policy_and_a_short_imprint_with_their_reasons() {
    let (tsa, _) = authority();
    let mut req = request(b"x");
    req.policy = Some(ObjectIdentifier::new_unwrap("1.2.3.4"));
    let resp = tsa.respond(&req.to_der().unwrap(), &[1], AT);
    assert!(
        matches!(token_from_response(&resp), Err(TspError::Refused { status: 2, text: Some(t) }) if t == "policy not supported")
    );
    let mut req = request(b"x");
    req.imprint.digest.pop();
    let resp = tsa.respond(&req.to_der().unwrap(), &[1], AT);
    assert!(matches!(
        token_from_response(&resp),
        Err(TspError::Refused { status: 2, .. })
    ));
    let resp = tsa.respond(b"\x30\x03\x02\x01\x02", &[1], AT);
    assert!(matches!(
        token_from_response(&resp),
        Err(TspError::Refused { status: 2, .. })
    ));
}

#[test]
fn a_request_reads_back_as_written() {
    let mut req = request(b"data");
    req.policy = Some(DEFAULT_POLICY);
    let der = req.to_der().unwrap();
    assert_eq!(TimeStampRequest::from_der(&der).unwrap(), req);
    // The nonce's high bit gets a leading zero octet (a positive INTEGER).
    assert!(
        der.windows(7)
            .any(|w| w == [0x02, 0x05, 0x00, 0x81, 2, 3, 4])
    );
}

#[test]
fn gen_time_is_read_with_fractional_seconds_of_any_length() {
    let t = |s: &str| parse_generalized_time(s.as_bytes());
    assert_eq!(
        t("20261204093000Z"),
        Some(datetime!(2026-12-04 09:30:00 UTC))
    );
    assert_eq!(
        t("20261204093000.123Z"),
        Some(datetime!(2026-12-04 09:30:00.123 UTC))
    );
    assert_eq!(
        t("20261204093000.123456Z"),
        Some(datetime!(2026-12-04 09:30:00.123456 UTC))
    );
    assert_eq!(
        t("20261204093000.5000000000001Z"),
        Some(datetime!(2026-12-04 09:30:00.5 UTC))
    );
    for bad in [
        "20261204093000",
        "2026120409300Z",
        "20261304093000Z",
        "20261204093000.Z",
        "20261204093000+0700",
        "2026120409300aZ",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
    // The der crate's GeneralizedTime refuses what real TSAs send.
    let ms = [&[0x18u8, 19][..], b"20261204093000.123Z"].concat();
    assert!(<der::asn1::GeneralizedTime as der::Decode>::from_der(&ms).is_err());
    let _ = ms.to_der();
}

#[test]
fn hostile_tokens_responses_and_ocsp_answers_never_panic() {
    let (tsa, root) = authority();
    let token = tsa.stamp(&request(b"x"), &[7; 8], AT).unwrap();
    let response = response_granted(&token);
    let samples = [token.clone(), response, request(b"x").to_der().unwrap()];
    let checks = SignatureChecks::default();
    let trust = TokenTrust {
        roots: std::slice::from_ref(&root),
        certificates: &[],
        crls: &[],
        ocsps: &[],
        checks: &checks,
    };
    for sample in &samples {
        for i in 0..sample.len() {
            let mut flipped = sample.clone();
            flipped[i] ^= 0xA5;
            for bytes in [&flipped[..], &sample[..i]] {
                // A damaged token may still prove a time (a flip in a certificate it carries but
                // nobody uses), but never another time.
                let c = check_token(bytes, |h| Some(h.digest(b"x")), &trust);
                if let Some(t) = c.proven_time() {
                    assert_eq!(t, datetime!(2026-03-15 02:30:00 UTC), "byte {i}");
                }
                let _ = TstInfo::from_der(bytes);
                let _ = TimeStampRequest::from_der(bytes);
                let _ = token_from_response(bytes);
                let _ = crate::pki::ocsp::parse_response(bytes);
                let _ =
                    crate::cms::add_unsigned_attribute(bytes, ID_AA_SIGNATURE_TIME_STAMP, &token);
            }
        }
    }
}
