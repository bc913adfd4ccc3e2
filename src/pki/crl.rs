//! Version 2 CRLs signed with Ed25519 (RFC 5280 §5, RFC 8410 §6).

use der::asn1::{BitString, Uint};
use der::pem::LineEnding;
use der::{Decode, Encode};
use ed25519_dalek::SigningKey;
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use super::PkiError;
use super::cert::{check_issuer, issuer_key_id};
use super::name::same_name;
use super::util::{
    extension, first_inner_tlv, from_x509_time, hex_lower, serial_from_u64, strip_leading_zeros,
    to_x509_time,
};

const CRL_LABEL: &str = "X509 CRL";

/// Create a DER v2 CRL (RFC 5280 §5.1) signed by the CA, with the
/// authorityKeyIdentifier (§5.2.1) and cRLNumber (§5.2.3) extensions. An
/// empty list omits `revokedCertificates` (§5.1.2.6).
pub fn create_crl(
    ca_key: &SigningKey,
    ca_cert: &Certificate,
    revoked: &[(u64, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    crl_number: u64,
) -> Result<Vec<u8>, PkiError> {
    create_crl_with(
        &super::IssuerKey::Ed25519(ca_key.clone()),
        ca_cert,
        revoked,
        this_update,
        next_update,
        crl_number,
    )
}

/// [`create_crl`] signed by a CA key of either kind.
pub fn create_crl_with(
    ca_key: &super::IssuerKey,
    ca_cert: &Certificate,
    revoked: &[(u64, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    crl_number: u64,
) -> Result<Vec<u8>, PkiError> {
    check_issuer(ca_key, ca_cert, KeyUsages::CRLSign)?;
    if next_update <= this_update {
        return Err(PkiError::Validity(
            "next_update must be later than this_update".into(),
        ));
    }
    let mut entries: Vec<RevokedCert> = Vec::with_capacity(revoked.len());
    for (serial, when) in revoked {
        let serial_number = serial_from_u64(*serial)?;
        if entries.iter().any(|e| e.serial_number == serial_number) {
            return Err(PkiError::Serial(format!("serial {serial:x} listed twice")));
        }
        entries.push(RevokedCert {
            serial_number,
            revocation_date: to_x509_time(*when)?,
            crl_entry_extensions: None,
        });
    }
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(der::asn1::OctetString::new(issuer_key_id(ca_cert)?)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let extensions: Extensions = vec![
        extension(
            const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &aki,
        )?,
        extension(
            const_oid::db::rfc5280::ID_CE_CRL_NUMBER,
            false,
            &CrlNumber(Uint::new(&crl_number.to_be_bytes())?),
        )?,
    ];
    let tbs = TbsCertList {
        version: Version::V2,
        signature: ca_key.algorithm(),
        issuer: ca_cert.tbs_certificate.subject.clone(),
        this_update: to_x509_time(this_update)?,
        next_update: Some(to_x509_time(next_update)?),
        revoked_certificates: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
        crl_extensions: Some(extensions),
    };
    let signature = der::asn1::BitString::from_bytes(&ca_key.sign(&tbs.to_der()?))?;
    Ok(CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: ca_key.algorithm(),
        signature,
    }
    .to_der()?)
}

/// PEM (`X509 CRL`) from DER (RFC 7468 §6).
pub fn crl_der_to_pem(der: &[u8]) -> Result<String, PkiError> {
    der::pem::encode_string(CRL_LABEL, LineEnding::LF, der)
        .map_err(|e| PkiError::Pem(e.to_string()))
}

/// One revoked certificate (RFC 5280 §5.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial magnitude, big-endian without leading zero octets.
    pub serial: Vec<u8>,
    /// Same, lowercase hex.
    pub serial_hex: String,
    /// revocationDate.
    pub revocation_time: OffsetDateTime,
}

/// A parsed CRL. Its signature is checked by [`Crl::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    /// Issuer Name (RFC 5280 §5.1.2.3).
    pub issuer: Name,
    /// thisUpdate (§5.1.2.4).
    pub this_update: OffsetDateTime,
    /// nextUpdate (§5.1.2.5).
    pub next_update: Option<OffsetDateTime>,
    /// cRLNumber (§5.2.3), if present and at most 8 octets.
    pub crl_number: Option<u64>,
    /// Revoked certificates (§5.1.2.6).
    pub revoked: Vec<RevokedEntry>,
    tbs_der: Vec<u8>,
    tbs_signature: AlgorithmIdentifierOwned,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    der: Vec<u8>,
    /// issuingDistributionPoint onlyContainsUserCerts / onlyContainsCACerts (§5.2.5).
    only_user_certs: bool,
    only_ca_certs: bool,
}

/// CRL extensions we understand; any other critical one makes the CRL
/// unusable (RFC 5280 §5.2).
fn known_crl_extension(oid: &spki::ObjectIdentifier) -> bool {
    *oid == const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER
        || *oid == const_oid::db::rfc5280::ID_CE_CRL_NUMBER
        || *oid == const_oid::db::rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT
}

/// Parse a DER or PEM (`X509 CRL`) v2 CRL (RFC 5280 §5.1). Unknown critical
/// CRL or entry extensions (e.g. delta CRLs) are rejected (§5.2, §5.3).
pub fn parse_crl(input: &[u8]) -> Result<Crl, PkiError> {
    let der = if input.first() == Some(&0x30) {
        input.to_vec()
    } else {
        let (label, der) = der::pem::decode_vec(input.trim_ascii())
            .map_err(|e| PkiError::Pem(format!("not a PEM CRL: {e}")))?;
        if label != CRL_LABEL {
            return Err(PkiError::PemLabel {
                expected: CRL_LABEL,
                found: label.to_owned(),
            });
        }
        der
    };
    let list = CertificateList::from_der(&der)?;
    let tbs = &list.tbs_cert_list;
    if tbs.version != Version::V2 {
        return Err(PkiError::Crl("only version 2 CRLs are supported"));
    }
    let mut crl_number = None;
    let (mut only_user_certs, mut only_ca_certs) = (false, false);
    for ext in tbs.crl_extensions.iter().flatten() {
        // A CRL for user or CA certificates only is used for those only; one for some
        // reasons or an indirect CRL is not complete, so not used (§5.2.5, §6.3.3).
        if ext.extn_id == const_oid::db::rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT {
            let idp = x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint::from_der(
                ext.extn_value.as_bytes(),
            )?;
            if idp.only_some_reasons.is_some()
                || idp.indirect_crl
                || idp.only_contains_attribute_certs
            {
                return Err(PkiError::Crl(
                    "a partial or indirect CRL (issuingDistributionPoint) is not supported",
                ));
            }
            only_user_certs = idp.only_contains_user_certs;
            only_ca_certs = idp.only_contains_ca_certs;
        }
        if ext.critical && !known_crl_extension(&ext.extn_id) {
            return Err(PkiError::Crl("unsupported critical CRL extension"));
        }
        if ext.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER {
            let n = CrlNumber::from_der(ext.extn_value.as_bytes())?;
            let bytes = strip_leading_zeros(n.0.as_bytes());
            if bytes.len() <= 8 {
                let mut buf = [0u8; 8];
                let start = 8usize.saturating_sub(bytes.len());
                if let Some(dst) = buf.get_mut(start..) {
                    dst.copy_from_slice(bytes);
                }
                crl_number = Some(u64::from_be_bytes(buf));
            }
        }
    }
    let mut revoked = Vec::new();
    for entry in tbs.revoked_certificates.iter().flatten() {
        if entry
            .crl_entry_extensions
            .iter()
            .flatten()
            .any(|e| e.critical)
        {
            return Err(PkiError::Crl("unsupported critical CRL entry extension"));
        }
        let serial = strip_leading_zeros(entry.serial_number.as_bytes()).to_vec();
        revoked.push(RevokedEntry {
            serial_hex: if serial.is_empty() {
                "0".into()
            } else {
                hex_lower(&serial)
            },
            serial,
            revocation_time: from_x509_time(&entry.revocation_date)
                .ok_or(PkiError::Crl("revocation date out of range"))?,
        });
    }
    Ok(Crl {
        issuer: tbs.issuer.clone(),
        this_update: from_x509_time(&tbs.this_update)
            .ok_or(PkiError::Crl("thisUpdate out of range"))?,
        next_update: match &tbs.next_update {
            Some(t) => Some(from_x509_time(t).ok_or(PkiError::Crl("nextUpdate out of range"))?),
            None => None,
        },
        crl_number,
        revoked,
        tbs_der: first_inner_tlv(&der)?.to_vec(),
        tbs_signature: tbs.signature.clone(),
        signature_algorithm: list.signature_algorithm.clone(),
        signature: list.signature.clone(),
        der,
        only_user_certs,
        only_ca_certs,
    })
}

impl Crl {
    /// Whether this CRL's scope (issuingDistributionPoint, RFC 5280 §5.2.5) includes `cert`:
    /// a CRL of user certificates says nothing of a CA certificate, and the other way round.
    pub fn covers(&self, cert: &x509_cert::Certificate) -> bool {
        let is_ca = matches!(
            cert.tbs_certificate.get::<x509_cert::ext::pkix::BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        );
        !(self.only_user_certs && is_ca || self.only_ca_certs && !is_ca)
    }

    /// True if `ca_cert` issued this CRL: issuer Name matches the CA subject,
    /// the CA may sign CRLs (keyUsage cRLSign, RFC 5280 §4.2.1.3), the
    /// algorithm is the same in both places (§5.1.1.2) and the signature over
    /// the original TBSCertList bytes verifies (any algorithm of [`super::alg`]).
    pub fn verify(&self, ca_cert: &Certificate) -> bool {
        self.verify_with(ca_cert, &super::chain::SignatureChecks::default())
    }

    /// [`Crl::verify`], remembered in `checks`.
    pub fn verify_with(
        &self,
        ca_cert: &Certificate,
        checks: &super::chain::SignatureChecks,
    ) -> bool {
        checks
            .memo(ca_cert, &self.der, || {
                if self.check(ca_cert) {
                    Ok(())
                } else {
                    Err(super::alg::AlgError::BadSignature)
                }
            })
            .is_ok()
    }

    fn check(&self, ca_cert: &Certificate) -> bool {
        if !same_name(&self.issuer, &ca_cert.tbs_certificate.subject) {
            return false;
        }
        if self.signature_algorithm != self.tbs_signature {
            return false;
        }
        match ca_cert.tbs_certificate.get::<KeyUsage>() {
            Ok(Some((_, ku))) if ku.crl_sign() => {}
            Ok(None) => {}
            _ => return false,
        }
        let Some(signature) = self.signature.as_bytes() else {
            return false;
        };
        super::alg::verify(
            &ca_cert.tbs_certificate.subject_public_key_info,
            &self.signature_algorithm,
            None,
            &self.tbs_der,
            signature,
        )
        .is_ok()
    }

    /// Revocation time of a serial (magnitude bytes, leading zeros ignored).
    pub fn revocation_time(&self, serial: &[u8]) -> Option<OffsetDateTime> {
        let serial = strip_leading_zeros(serial);
        self.revoked
            .iter()
            .find(|e| e.serial == serial)
            .map(|e| e.revocation_time)
    }

    /// The CRL as received, DER.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pki::cert::tests::{ca_cert, ca_key, leader_key};
    use crate::pki::{CaSubject, create_ca_certificate};
    use time::macros::datetime;

    #[test]
    fn crl_round_trips_and_verifies() {
        let der = create_crl(
            &ca_key(),
            &ca_cert(),
            &[
                (0x8000_0000_0000_0001, datetime!(2026-02-01 08:00:00 UTC)),
                (5, datetime!(2026-01-01 00:00:00 UTC)),
            ],
            datetime!(2026-03-01 00:00:00 UTC),
            datetime!(2026-04-01 00:00:00 UTC),
            42,
        )
        .unwrap();
        let pem = crl_der_to_pem(&der).unwrap();
        assert!(pem.starts_with("-----BEGIN X509 CRL-----"));
        let crl = parse_crl(pem.as_bytes()).unwrap();
        assert_eq!(crl.to_der(), der.as_slice());
        assert!(crl.verify(&ca_cert()));
        assert_eq!(crl.crl_number, Some(42));
        assert_eq!(crl.this_update, datetime!(2026-03-01 00:00:00 UTC));
        assert_eq!(crl.next_update, Some(datetime!(2026-04-01 00:00:00 UTC)));
        assert_eq!(crl.revoked.len(), 2);
        assert_eq!(crl.revoked[0].serial_hex, "8000000000000001");
        assert_eq!(
            crl.revocation_time(&[0, 0x80, 0, 0, 0, 0, 0, 0, 1]),
            Some(datetime!(2026-02-01 08:00:00 UTC))
        );
        assert_eq!(crl.revocation_time(&[7]), None);
        let list = CertificateList::from_der(&der).unwrap();
        assert_eq!(list.tbs_cert_list.version, Version::V2);
    }

    #[test]
    fn empty_crl_omits_revoked_certificates() {
        let der = create_crl(
            &ca_key(),
            &ca_cert(),
            &[],
            datetime!(2026-03-01 00:00:00 UTC),
            datetime!(2026-04-01 00:00:00 UTC),
            1,
        )
        .unwrap();
        let list = CertificateList::from_der(&der).unwrap();
        assert!(list.tbs_cert_list.revoked_certificates.is_none());
        assert!(parse_crl(&der).unwrap().verify(&ca_cert()));
    }

    #[test]
    fn crl_from_other_ca_with_same_name_does_not_verify() {
        let other_key = SigningKey::from_bytes(&[0x77; 32]);
        let other_ca = create_ca_certificate(
            &other_key,
            &CaSubject {
                name: crate::pki::cert::tests::BLOC.into(),
            },
            1,
            datetime!(2025-01-01 00:00:00 UTC),
            datetime!(2035-01-01 00:00:00 UTC),
        )
        .unwrap();
        let der = create_crl(
            &other_key,
            &other_ca,
            &[(9, datetime!(2026-01-01 00:00:00 UTC))],
            datetime!(2026-03-01 00:00:00 UTC),
            datetime!(2026-04-01 00:00:00 UTC),
            1,
        )
        .unwrap();
        let crl = parse_crl(&der).unwrap();
        assert!(crl.verify(&other_ca));
        assert!(!crl.verify(&ca_cert()));
    }

    #[test]
    fn crl_creation_rejects_bad_input() {
        let ca = ca_cert();
        let t = datetime!(2026-03-01 00:00:00 UTC);
        let n = datetime!(2026-04-01 00:00:00 UTC);
        assert!(matches!(
            create_crl(&leader_key(), &ca, &[], t, n, 1),
            Err(PkiError::KeyMismatch)
        ));
        assert!(create_crl(&ca_key(), &ca, &[], n, t, 1).is_err());
        assert!(create_crl(&ca_key(), &ca, &[(3, t), (3, t)], t, n, 1).is_err());
        assert!(create_crl(&ca_key(), &ca, &[(0, t)], t, n, 1).is_err());
    }

    #[test]
    fn tampered_or_hostile_crls_never_verify_or_panic() {
        let der = create_crl(
            &ca_key(),
            &ca_cert(),
            &[(5, datetime!(2026-01-01 00:00:00 UTC))],
            datetime!(2026-03-01 00:00:00 UTC),
            datetime!(2026-04-01 00:00:00 UTC),
            7,
        )
        .unwrap();
        for i in 0..der.len() {
            let mut m = der.clone();
            m[i] ^= 0x04;
            if let Ok(crl) = parse_crl(&m) {
                assert!(!crl.verify(&ca_cert()), "byte {i} flipped still verifies");
            }
            let _ = parse_crl(&der[..i]);
        }
    }
}
