//! Certification path validation (a strict subset of RFC 5280 §6.1) with any algorithm of
//! [`super::alg`], with revocation from CRLs (§6.3).
//!
//! Revocation semantics: a certificate listed in a verified CRL of its issuer
//! with revocationDate <= `at` is revoked (fatal). If revocationDate > `at`
//! the problem `RevokedLater` is noted but trust is not failed: a signature
//! made before revocation stays valid (the signing time must then come from a
//! trusted source, which is the caller's responsibility).

use der::Encode;
use serde::{Deserialize, Serialize};
use spki::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use super::alg::{self, AlgError};
use super::crl::Crl;
use super::name::{name_label, same_name};
use super::util::{from_x509_time, rfc3339, serial_hex};

/// Longest accepted path, signer and trust anchor included.
pub const MAX_PATH_LEN: usize = 8;

/// One finding of [`validate_chain`]. Most are fatal, see [`ChainProblem::is_fatal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainProblem {
    /// No candidate issuer with the issuer's Name (RFC 5280 §6.1.3 (a)(4)).
    UnknownIssuer {
        /// Certificate whose issuer is missing.
        subject: String,
        /// The issuer Name it names.
        issuer: String,
    },
    /// Issuer(s) with the right Name exist but none verifies the signature (§6.1.3 (a)(1)).
    BadSignature {
        /// Certificate whose signature fails.
        subject: String,
    },
    /// `at` is before notBefore (§6.1.3 (a)(2)).
    NotYetValid {
        /// Certificate.
        subject: String,
        /// notBefore, RFC 3339.
        not_before: String,
    },
    /// `at` is after notAfter (§6.1.3 (a)(2)).
    Expired {
        /// Certificate.
        subject: String,
        /// notAfter, RFC 3339.
        not_after: String,
    },
    /// An issuer lacks cA=TRUE or keyCertSign (§6.1.4 (k), (n)).
    NotACa {
        /// The issuing certificate.
        subject: String,
    },
    /// pathLenConstraint exceeded (§6.1.4 (m)).
    PathLenExceeded {
        /// The constraining CA certificate.
        subject: String,
    },
    /// More than [`MAX_PATH_LEN`] certificates without reaching a trust root.
    PathTooLong,
    /// Revoked at or before `at` (§6.3.3).
    Revoked {
        /// Serial, lowercase hex.
        serial_hex: String,
        /// revocationDate, RFC 3339.
        at: String,
    },
    /// Revoked, but after `at`: noted, not fatal.
    RevokedLater {
        /// Serial, lowercase hex.
        serial_hex: String,
        /// revocationDate, RFC 3339.
        at: String,
    },
    /// Signature algorithm or key not Ed25519 with absent parameters (RFC 8410 §3).
    UnsupportedAlgorithm {
        /// Certificate.
        subject: String,
        /// Offending OID.
        oid: String,
    },
    /// The signer lacks keyUsage digitalSignature or nonRepudiation (RFC 5280 §4.2.1.3).
    KeyUsageMissing {
        /// Signer certificate.
        subject: String,
    },
    /// A critical extension this validator does not process (§6.1.4 (o)).
    UnsupportedCriticalExtension {
        /// Certificate.
        subject: String,
        /// Extension OID.
        oid: String,
    },
    /// A CRL names the issuer but its signature does not verify: ignored, not fatal.
    CrlNotVerified {
        /// The CRL's issuer.
        issuer: String,
    },
}

impl ChainProblem {
    /// Whether this finding makes the chain untrusted.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ChainProblem::RevokedLater { .. } | ChainProblem::CrlNotVerified { .. }
        )
    }
}

/// Outcome of [`validate_chain`]: a report, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    /// A path to a trust root was found and no fatal problem was seen.
    pub trusted: bool,
    /// All findings, fatal or not.
    pub problems: Vec<ChainProblem>,
    /// Subject labels (CN) from the signer up to the last certificate reached.
    pub path: Vec<String>,
    /// A verified CRL or OCSP response of the signer's issuer was consulted.
    pub revocation_checked: bool,
    /// A verified OCSP response gave the signer's status.
    #[serde(default)]
    pub ocsp_checked: bool,
}

fn label(cert: &Certificate) -> String {
    name_label(&cert.tbs_certificate.subject)
}

/// Certificate and CRL signatures already checked in one verification run: the 16 signatures
/// of a covenant share their CA (and, from a licensed CA, its intermediate and CRLs), whose
/// signatures are then checked once. A result is keyed by SHA-256 of the issuer's whole
/// certificate and the signed object's whole DER, so a hit is exactly the check it replaces.
#[derive(Debug, Default)]
pub struct SignatureChecks {
    done: std::sync::Mutex<std::collections::HashMap<[u8; 32], Result<(), AlgError>>>,
}

impl SignatureChecks {
    /// `check()`'s result for `signed` under `issuer`, computed at most once.
    pub(crate) fn memo(
        &self,
        issuer: &Certificate,
        signed: &[u8],
        check: impl FnOnce() -> Result<(), AlgError>,
    ) -> Result<(), AlgError> {
        use sha2::{Digest, Sha256};
        let issuer_der = der_of(issuer);
        let mut h = Sha256::new();
        h.update((issuer_der.len() as u64).to_be_bytes());
        h.update(&issuer_der);
        h.update(signed);
        let key: [u8; 32] = h.finalize().into();
        if let Some(hit) = self.done.lock().ok().and_then(|d| d.get(&key).cloned()) {
            return hit;
        }
        // Not held while checking: two threads may check the same pair once each.
        let result = check();
        if let Ok(mut done) = self.done.lock() {
            done.insert(key, result.clone());
        }
        result
    }
}

fn der_of(cert: &Certificate) -> Vec<u8> {
    cert.to_der().unwrap_or_default()
}

/// Whether `issuer`'s key made the signature of `cert` (RFC 5280 §4.1.1.2: both algorithm
/// fields identical), with any algorithm [`super::alg`] supports.
pub(crate) fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), AlgError> {
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err(AlgError::BadSignature);
    }
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|_| AlgError::BadSignature)?;
    let signature = cert.signature.as_bytes().ok_or(AlgError::BadSignature)?;
    alg::verify(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        signature,
    )
    .map(|_| ())
}

fn valid_at(cert: &Certificate, at: OffsetDateTime) -> bool {
    let v = &cert.tbs_certificate.validity;
    matches!(
        (from_x509_time(&v.not_before), from_x509_time(&v.not_after)),
        (Some(nb), Some(na)) if nb <= at && at <= na
    )
}

fn time_string(t: OffsetDateTime) -> String {
    rfc3339(t).unwrap_or_else(|_| t.to_string())
}

const KNOWN_CRITICAL: [ObjectIdentifier; 6] = [
    const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS,
    const_oid::db::rfc5280::ID_CE_KEY_USAGE,
    const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE,
    const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME,
    const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
    const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
];

/// Validate `signer` up to one of `trust_roots` at time `at`.
///
/// Trust requires: each issuer's subject Name equals the child's issuer Name
/// and its Ed25519 key verifies the child's signature (so a different CA
/// reusing the trusted CA's name fails); every certificate, trust root
/// included, is valid at `at`; issuers have cA=TRUE and keyCertSign (if
/// keyUsage present); the signer has digitalSignature or nonRepudiation;
/// no unknown critical extension; at most [`MAX_PATH_LEN`] certificates; and
/// no revocation at or before `at` in a verified CRL (see module docs).
pub fn validate_chain(
    signer: &Certificate,
    intermediates: &[Certificate],
    trust_roots: &[Certificate],
    at: OffsetDateTime,
    crls: &[Crl],
) -> ChainStatus {
    validate_chain_with(
        signer,
        intermediates,
        trust_roots,
        at,
        &RevocationInfo { crls, ocsps: &[] },
        &SignatureChecks::default(),
    )
}

/// Revocation evidence for [`validate_chain_with`]: CRLs and OCSP responses (RFC 6960), each
/// used only when its signature verifies with the certificate's issuer.
#[derive(Debug, Clone, Copy, Default)]
pub struct RevocationInfo<'a> {
    /// CRLs.
    pub crls: &'a [Crl],
    /// OCSP responses.
    pub ocsps: &'a [super::ocsp::OcspEvidence],
}

/// [`validate_chain`] sharing signature checks with the other chains of one run.
pub fn validate_chain_with(
    signer: &Certificate,
    intermediates: &[Certificate],
    trust_roots: &[Certificate],
    at: OffsetDateTime,
    revocation: &RevocationInfo<'_>,
    checks: &SignatureChecks,
) -> ChainStatus {
    let crls = revocation.crls;
    let mut problems = Vec::new();
    let root_ders: Vec<Vec<u8>> = trust_roots.iter().map(der_of).collect();
    // Each distinct certificate once (signers repeat their CA in every signature and in
    // /DSS); a trust root is never also an intermediate.
    let mut candidates: Vec<(&Certificate, Vec<u8>, bool)> = Vec::new();
    for (c, d, is_root) in trust_roots
        .iter()
        .zip(root_ders.iter().cloned())
        .map(|(c, d)| (c, d, true))
        .chain(intermediates.iter().map(|c| (c, der_of(c), false)))
    {
        if !candidates.iter().any(|(_, seen, _)| *seen == d) {
            candidates.push((c, d, is_root));
        }
    }

    let signer_der = der_of(signer);
    let mut path: Vec<&Certificate> = vec![signer];
    let mut path_ders: Vec<Vec<u8>> = vec![signer_der.clone()];
    let mut anchored = root_ders.iter().any(|d| !d.is_empty() && *d == signer_der);

    while !anchored {
        let Some(current) = path.last().copied() else {
            break;
        };
        if path.len() >= MAX_PATH_LEN {
            problems.push(ChainProblem::PathTooLong);
            break;
        }
        let named: Vec<&(&Certificate, Vec<u8>, bool)> = candidates
            .iter()
            .filter(|(c, d, _)| {
                same_name(&c.tbs_certificate.subject, &current.tbs_certificate.issuer)
                    && !path_ders.contains(d)
            })
            .collect();
        if named.is_empty() {
            problems.push(ChainProblem::UnknownIssuer {
                subject: label(current),
                issuer: name_label(&current.tbs_certificate.issuer),
            });
            break;
        }
        // Among issuers whose signature verifies, prefer trust roots, then
        // certificates valid at `at`.
        let mut unsupported = None;
        let current_der = path_ders.last().map(Vec::as_slice).unwrap_or_default();
        let best = named
            .iter()
            .filter(
                |(c, _, _)| match checks.memo(c, current_der, || signed_by(current, c)) {
                    Ok(()) => true,
                    Err(AlgError::Unsupported(what)) => {
                        unsupported = Some(what);
                        false
                    }
                    Err(_) => false,
                },
            )
            .max_by_key(|(c, _, is_root)| (*is_root, valid_at(c, at)));
        match best {
            Some((c, d, is_root)) => {
                path.push(c);
                path_ders.push(d.clone());
                anchored = *is_root;
            }
            None => {
                match unsupported {
                    Some(what) => problems.push(ChainProblem::UnsupportedAlgorithm {
                        subject: label(current),
                        oid: what,
                    }),
                    None => problems.push(ChainProblem::BadSignature {
                        subject: label(current),
                    }),
                }
                break;
            }
        }
    }

    // Per-certificate checks along the path that was built.
    for (i, cert) in path.iter().enumerate() {
        let tbs = &cert.tbs_certificate;
        let v = &tbs.validity;
        match (from_x509_time(&v.not_before), from_x509_time(&v.not_after)) {
            (Some(nb), Some(na)) => {
                if at < nb {
                    problems.push(ChainProblem::NotYetValid {
                        subject: label(cert),
                        not_before: time_string(nb),
                    });
                }
                if at > na {
                    problems.push(ChainProblem::Expired {
                        subject: label(cert),
                        not_after: time_string(na),
                    });
                }
            }
            _ => problems.push(ChainProblem::Expired {
                subject: label(cert),
                not_after: v.not_after.to_string(),
            }),
        }
        if let Err(e) = alg::key_kind(&tbs.subject_public_key_info) {
            problems.push(ChainProblem::UnsupportedAlgorithm {
                subject: label(cert),
                oid: match e {
                    AlgError::Unsupported(what) => what,
                    other => other.to_string(),
                },
            });
        }
        for ext in tbs.extensions.iter().flatten() {
            if ext.critical && !KNOWN_CRITICAL.contains(&ext.extn_id) {
                problems.push(ChainProblem::UnsupportedCriticalExtension {
                    subject: label(cert),
                    oid: ext.extn_id.to_string(),
                });
            }
        }
        let key_usage = tbs.get::<KeyUsage>();
        if i == 0 {
            let ok = matches!(&key_usage, Ok(Some((_, ku))) if ku.digital_signature() || ku.non_repudiation());
            if !ok {
                problems.push(ChainProblem::KeyUsageMissing {
                    subject: label(cert),
                });
            }
        } else {
            let bc = tbs.get::<BasicConstraints>();
            let is_ca = matches!(&bc, Ok(Some((_, b))) if b.ca);
            let cert_sign = matches!(&key_usage, Ok(None))
                || matches!(&key_usage, Ok(Some((_, ku))) if ku.key_cert_sign());
            if !is_ca || !cert_sign {
                problems.push(ChainProblem::NotACa {
                    subject: label(cert),
                });
            }
            // Intermediate CA certificates below this one (§6.1.4 (l), (m)).
            let below = i.saturating_sub(1);
            if let Ok(Some((_, b))) = &bc
                && let Some(max) = b.path_len_constraint
                && below > usize::from(max)
            {
                problems.push(ChainProblem::PathLenExceeded {
                    subject: label(cert),
                });
            }
        }
    }

    // Revocation of every certificate below the anchor, by its issuer's CRLs and OCSP
    // responses.
    let mut revocation_checked = false;
    let mut ocsp_checked = false;
    for (i, pair) in path.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        for single in revocation
            .ocsps
            .iter()
            .filter_map(|o| o.status_of(cert, issuer))
        {
            let when = match single.status {
                super::ocsp::OcspStatus::Good => {
                    if i == 0 {
                        revocation_checked = true;
                        ocsp_checked = true;
                    }
                    continue;
                }
                super::ocsp::OcspStatus::Unknown => continue,
                super::ocsp::OcspStatus::Revoked(when) => when,
            };
            if i == 0 {
                revocation_checked = true;
                ocsp_checked = true;
            }
            note_revocation(&mut problems, cert, when, at);
        }
        for crl in crls
            .iter()
            .filter(|c| same_name(&c.issuer, &cert.tbs_certificate.issuer) && c.covers(cert))
        {
            if !crl.verify_with(issuer, checks) {
                let p = ChainProblem::CrlNotVerified {
                    issuer: name_label(&crl.issuer),
                };
                if !problems.contains(&p) {
                    problems.push(p);
                }
                continue;
            }
            if i == 0 {
                revocation_checked = true;
            }
            if let Some(when) = crl.revocation_time(cert.tbs_certificate.serial_number.as_bytes()) {
                note_revocation(&mut problems, cert, when, at);
            }
        }
    }

    let trusted = anchored && !problems.iter().any(ChainProblem::is_fatal);
    ChainStatus {
        trusted,
        problems,
        path: path.iter().map(|c| label(c)).collect(),
        revocation_checked,
        ocsp_checked,
    }
}

/// `cert` revoked at `when`: fatal when at or before `at`, else only noted (§6.3.3); once.
fn note_revocation(
    problems: &mut Vec<ChainProblem>,
    cert: &Certificate,
    when: OffsetDateTime,
    at: OffsetDateTime,
) {
    let serial_hex = serial_hex(&cert.tbs_certificate.serial_number);
    let p = if when <= at {
        ChainProblem::Revoked {
            serial_hex,
            at: time_string(when),
        }
    } else {
        ChainProblem::RevokedLater {
            serial_hex,
            at: time_string(when),
        }
    };
    if !problems.contains(&p) {
        problems.push(p);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pki::cert::tests::{BLOC, ca_cert, ca_key, leader_cert, leader_key, leader_subject};
    use crate::pki::{
        CaSubject, create_ca_certificate, create_crl, issue_leader_certificate, parse_crl,
    };
    use ed25519_dalek::SigningKey;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-15 10:00:00 UTC);

    fn other_ca(key: &SigningKey) -> Certificate {
        create_ca_certificate(
            key,
            &CaSubject { name: BLOC.into() },
            1,
            datetime!(2025-01-01 00:00:00 UTC),
            datetime!(2035-01-01 00:00:00 UTC),
        )
        .unwrap()
    }

    fn crl(revoked: &[(u64, OffsetDateTime)]) -> Crl {
        parse_crl(
            &create_crl(
                &ca_key(),
                &ca_cert(),
                revoked,
                datetime!(2026-05-01 00:00:00 UTC),
                datetime!(2026-06-01 00:00:00 UTC),
                3,
            )
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn leader_chain_to_ca_is_trusted() {
        let s = validate_chain(&leader_cert(), &[], &[ca_cert()], AT, &[crl(&[])]);
        assert!(s.trusted, "{:?}", s.problems);
        assert!(s.problems.is_empty());
        assert!(s.revocation_checked);
        assert_eq!(
            s.path,
            vec!["Nguyễn Thị Hồng Nhung".to_string(), BLOC.to_string()]
        );
    }

    #[test]
    fn certificate_from_other_ca_with_same_name_is_untrusted() {
        let evil_key = SigningKey::from_bytes(&[0x66; 32]);
        let evil_ca = other_ca(&evil_key);
        assert_eq!(
            evil_ca.tbs_certificate.subject,
            ca_cert().tbs_certificate.subject
        );
        let forged = issue_leader_certificate(
            &evil_key,
            &evil_ca,
            &leader_key().verifying_key(),
            &leader_subject(),
            0x8000_0000_0000_0001,
            datetime!(2025-06-01 00:00:00 UTC),
            datetime!(2027-06-01 00:00:00 UTC),
        )
        .unwrap();
        let s = validate_chain(&forged, &[], &[ca_cert()], AT, &[]);
        assert!(!s.trusted);
        assert!(s.problems.contains(&ChainProblem::BadSignature {
            subject: "Nguyễn Thị Hồng Nhung".into()
        }));
        // Supplying the impostor CA as an "intermediate" does not help.
        let s = validate_chain(
            &forged,
            std::slice::from_ref(&evil_ca),
            &[ca_cert()],
            AT,
            &[],
        );
        assert!(!s.trusted, "{s:?}");
        assert!(s.problems.contains(&ChainProblem::BadSignature {
            subject: BLOC.into()
        }));
        // And the impostor CA itself as signer is not trusted either.
        let s = validate_chain(&evil_ca, &[], &[ca_cert()], AT, &[]);
        assert!(!s.trusted);
    }

    #[test]
    fn revoked_certificate_is_reported() {
        let c = crl(&[(0x8000_0000_0000_0001, datetime!(2026-03-01 00:00:00 UTC))]);
        let s = validate_chain(&leader_cert(), &[], &[ca_cert()], AT, &[c]);
        assert!(!s.trusted);
        assert_eq!(
            s.problems,
            vec![ChainProblem::Revoked {
                serial_hex: "8000000000000001".into(),
                at: "2026-03-01T00:00:00Z".into()
            }]
        );
    }

    #[test]
    fn revocation_after_signing_time_is_noted_but_trusted() {
        let c = crl(&[(0x8000_0000_0000_0001, datetime!(2026-04-01 00:00:00 UTC))]);
        let s = validate_chain(&leader_cert(), &[], &[ca_cert()], AT, &[c]);
        assert!(s.trusted, "{:?}", s.problems);
        assert!(matches!(
            s.problems.as_slice(),
            [ChainProblem::RevokedLater { .. }]
        ));
    }

    #[test]
    fn crl_from_impostor_ca_is_not_used() {
        let evil_key = SigningKey::from_bytes(&[0x66; 32]);
        let evil_crl = parse_crl(
            &create_crl(
                &evil_key,
                &other_ca(&evil_key),
                &[(0x8000_0000_0000_0001, datetime!(2026-01-01 00:00:00 UTC))],
                datetime!(2026-05-01 00:00:00 UTC),
                datetime!(2026-06-01 00:00:00 UTC),
                1,
            )
            .unwrap(),
        )
        .unwrap();
        let s = validate_chain(&leader_cert(), &[], &[ca_cert()], AT, &[evil_crl]);
        assert!(s.trusted);
        assert!(!s.revocation_checked);
        assert_eq!(
            s.problems,
            vec![ChainProblem::CrlNotVerified {
                issuer: BLOC.into()
            }]
        );
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_are_untrusted() {
        let s = validate_chain(
            &leader_cert(),
            &[],
            &[ca_cert()],
            datetime!(2028-01-01 00:00:00 UTC),
            &[],
        );
        assert!(!s.trusted);
        assert!(matches!(
            s.problems.as_slice(),
            [ChainProblem::Expired { .. }]
        ));
        let s = validate_chain(
            &leader_cert(),
            &[],
            &[ca_cert()],
            datetime!(2025-05-01 00:00:00 UTC),
            &[],
        );
        assert!(matches!(
            s.problems.as_slice(),
            [ChainProblem::NotYetValid { .. }]
        ));
        let s = validate_chain(
            &leader_cert(),
            &[],
            &[ca_cert()],
            datetime!(2040-01-01 00:00:00 UTC),
            &[],
        );
        assert_eq!(s.problems.len(), 2, "leader and root both expired");
    }

    #[test]
    fn unknown_issuer_and_non_ca_issuer_are_reported() {
        let s = validate_chain(&leader_cert(), &[], &[], AT, &[]);
        assert!(!s.trusted);
        assert!(matches!(
            s.problems.as_slice(),
            [ChainProblem::UnknownIssuer { .. }]
        ));

        // A leader certificate used as an issuer: built by hand since the
        // issuing API refuses non-CA issuers.
        let leader = leader_cert();
        let mut tbs = leader.tbs_certificate.clone();
        tbs.issuer = leader.tbs_certificate.subject.clone();
        tbs.subject = crate::pki::cert::tests::leader_subject_other()
            .to_name()
            .unwrap();
        let sig =
            crate::pki::util::sign_to_bitstring(&leader_key(), &tbs.to_der().unwrap()).unwrap();
        let child = Certificate {
            tbs_certificate: tbs,
            signature_algorithm: leader.signature_algorithm.clone(),
            signature: sig,
        };
        let s = validate_chain(&child, &[leader], &[ca_cert()], AT, &[]);
        assert!(!s.trusted);
        assert!(s.problems.contains(&ChainProblem::NotACa {
            subject: "Nguyễn Thị Hồng Nhung".into()
        }));
    }

    #[test]
    fn signer_without_signing_key_usage_is_untrusted() {
        // The CA certificate itself as "signer": anchored but lacks digitalSignature.
        let s = validate_chain(&ca_cert(), &[], &[ca_cert()], AT, &[]);
        assert!(!s.trusted);
        assert_eq!(
            s.problems,
            vec![ChainProblem::KeyUsageMissing {
                subject: BLOC.into()
            }]
        );
    }

    #[test]
    fn intermediate_path_is_followed_and_cycles_terminate() {
        // Root -> sub-CA -> leader.
        let sub_key = SigningKey::from_bytes(&[0x21; 32]);
        let mut sub = create_ca_certificate(
            &sub_key,
            &CaSubject {
                name: "Tiểu ban".into(),
            },
            9,
            datetime!(2025-02-01 00:00:00 UTC),
            datetime!(2030-01-01 00:00:00 UTC),
        )
        .unwrap();
        sub.tbs_certificate.issuer = ca_cert().tbs_certificate.subject.clone();
        sub.signature =
            crate::pki::util::sign_to_bitstring(&ca_key(), &sub.tbs_certificate.to_der().unwrap())
                .unwrap();
        let leader = issue_leader_certificate(
            &sub_key,
            &sub,
            &leader_key().verifying_key(),
            &leader_subject(),
            77,
            datetime!(2025-06-01 00:00:00 UTC),
            datetime!(2027-06-01 00:00:00 UTC),
        )
        .unwrap();
        let s = validate_chain(&leader, &[sub.clone()], &[ca_cert()], AT, &[]);
        assert!(s.trusted, "{:?}", s.problems);
        assert_eq!(s.path.len(), 3);

        // Two CAs certifying each other, neither trusted: must stop.
        let a_key = SigningKey::from_bytes(&[0x31; 32]);
        let b_key = SigningKey::from_bytes(&[0x32; 32]);
        let mk = |key: &SigningKey, name: &str, issuer_name: &str, issuer_key: &SigningKey| {
            let mut c = create_ca_certificate(
                key,
                &CaSubject { name: name.into() },
                5,
                datetime!(2025-02-01 00:00:00 UTC),
                datetime!(2030-01-01 00:00:00 UTC),
            )
            .unwrap();
            c.tbs_certificate.issuer =
                crate::pki::name::build_name(&[(crate::pki::name::OID_CN, issuer_name)]).unwrap();
            c.signature = crate::pki::util::sign_to_bitstring(
                issuer_key,
                &c.tbs_certificate.to_der().unwrap(),
            )
            .unwrap();
            c
        };
        let a = mk(&a_key, "A", "B", &b_key);
        let b = mk(&b_key, "B", "A", &a_key);
        let s = validate_chain(&a, &[a.clone(), b.clone()], &[ca_cert()], AT, &[]);
        assert!(!s.trusted);
        assert!(s.path.len() <= MAX_PATH_LEN);
    }

    #[test]
    fn problems_serialise_with_a_kind_tag() {
        let p = ChainProblem::Revoked {
            serial_hex: "0a".into(),
            at: "2026-01-01T00:00:00Z".into(),
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"revoked","serial_hex":"0a","at":"2026-01-01T00:00:00Z"}"#
        );
    }
}
