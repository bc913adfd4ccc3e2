//! OCSP (RFC 6960): the bloc CA's responder ([`respond`], with the `x509-ocsp` types) and
//! reading anyone's responses as revocation evidence ([`parse_response`]).
//!
//! Responses are read element by element: `producedAt`, `thisUpdate` and `revocationTime` are
//! GeneralizedTimes that real responders send with fractional seconds, which der's
//! `GeneralizedTime` refuses (see [`crate::tsp::parse_generalized_time`]). A response counts
//! only when its signature verifies with the certificate's issuer, or with a responder
//! certificate the issuer certified for OCSP signing (§4.2.2.2).

use der::asn1::{BitString, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use sha1::{Digest as _, Sha1};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, ResponderId,
    ResponseData, RevokedInfo, SingleResponse, Version,
};

use super::alg::{self, HashAlg};
use super::cert::ServicePurpose;
use super::keys::IssuerKey;
use super::name::same_name;
use super::tlv::{Tlv, elements, one};

/// `id-pkix-ocsp-basic` (RFC 6960 §4.2.1).
const ID_PKIX_OCSP_BASIC: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
/// `id-pkix-ocsp-nonce` (RFC 6960 §4.4.1).
const ID_PKIX_OCSP_NONCE: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE;

/// What a responder says of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspStatus {
    /// `good`.
    Good,
    /// `revoked` at this time.
    Revoked(OffsetDateTime),
    /// `unknown`.
    Unknown,
}

/// One `SingleResponse` (RFC 6960 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspSingle {
    /// CertID hash algorithm.
    pub hash: ObjectIdentifier,
    /// Hash of the issuer's DER name.
    pub issuer_name_hash: Vec<u8>,
    /// Hash of the issuer's public key (the BIT STRING's value).
    pub issuer_key_hash: Vec<u8>,
    /// The certificate's serial, as its DER INTEGER contents.
    pub serial: Vec<u8>,
    /// The status.
    pub status: OcspStatus,
    /// `thisUpdate`.
    pub this_update: OffsetDateTime,
}

/// A successful OCSP response, read but not yet trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspEvidence {
    /// The DER of `tbsResponseData`: what the signature covers.
    tbs: Vec<u8>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    /// Certificates in the response (a delegated responder's).
    pub certificates: Vec<Certificate>,
    /// `producedAt`.
    pub produced_at: OffsetDateTime,
    /// The single responses.
    pub responses: Vec<OcspSingle>,
    /// The response as received.
    pub der: Vec<u8>,
}

/// Why an OCSP message could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    /// DER.
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    /// An element cannot be read.
    #[error("{0}")]
    Element(#[from] super::tlv::DerError),
    /// A part is missing or wrong.
    #[error("malformed {0}")]
    Structure(&'static str),
    /// The responder did not answer `successful`.
    #[error("OCSP response status {0}")]
    NotSuccessful(u8),
}

fn time_of(t: &Tlv<'_>, what: &'static str) -> Result<OffsetDateTime, OcspError> {
    if t.tag != 0x18 {
        return Err(OcspError::Structure(what));
    }
    crate::tsp::parse_generalized_time(t.value).ok_or(OcspError::Structure(what))
}

/// Reads a DER `OCSPResponse` (RFC 6960 §4.2.1) holding a basic response.
///
/// # Errors
/// Not a successful basic OCSP response.
pub fn parse_response(der: &[u8]) -> Result<OcspEvidence, OcspError> {
    let (resp, rest) = one(der)?;
    if resp.tag != 0x30 || !rest.is_empty() {
        return Err(OcspError::Structure("OCSPResponse"));
    }
    let items = elements(resp.value)?;
    let status = match items.first() {
        Some(t) if t.tag == 0x0A => *t.value.first().unwrap_or(&255),
        _ => return Err(OcspError::Structure("responseStatus")),
    };
    if status != 0 {
        return Err(OcspError::NotSuccessful(status));
    }
    let bytes = match items.get(1) {
        Some(t) if t.tag == 0xA0 => one(t.value)?.0,
        _ => return Err(OcspError::Structure("responseBytes")),
    };
    let parts = elements(bytes.value)?;
    let (Some(kind), Some(octets)) = (parts.first(), parts.get(1)) else {
        return Err(OcspError::Structure("responseBytes"));
    };
    if ObjectIdentifier::from_der(kind.raw)? != ID_PKIX_OCSP_BASIC || octets.tag != 0x04 {
        return Err(OcspError::Structure("responseType"));
    }
    let (basic, _) = one(octets.value)?;
    let basic = elements(basic.value)?;
    let (Some(tbs), Some(alg), Some(sig)) = (basic.first(), basic.get(1), basic.get(2)) else {
        return Err(OcspError::Structure("BasicOCSPResponse"));
    };
    let signature = BitString::from_der(sig.raw)?
        .as_bytes()
        .ok_or(OcspError::Structure("signature"))?
        .to_vec();
    let mut certificates = Vec::new();
    if let Some(c) = basic.get(3).filter(|c| c.tag == 0xA0) {
        let (seq, _) = one(c.value)?;
        for cert in elements(seq.value)? {
            if let Ok(cert) = Certificate::from_der(cert.raw) {
                certificates.push(cert);
            }
        }
    }
    let data = elements(tbs.value)?;
    let mut i = usize::from(data.first().is_some_and(|t| t.tag == 0xA0));
    i += 1; // responderID
    let produced_at = time_of(
        data.get(i).ok_or(OcspError::Structure("producedAt"))?,
        "producedAt",
    )?;
    let list = data.get(i + 1).ok_or(OcspError::Structure("responses"))?;
    let mut responses = Vec::new();
    for single in elements(list.value)? {
        responses.push(single_response(&single)?);
    }
    Ok(OcspEvidence {
        tbs: tbs.raw.to_vec(),
        signature_algorithm: AlgorithmIdentifierOwned::from_der(alg.raw)?,
        signature,
        certificates,
        produced_at,
        responses,
        der: der.to_vec(),
    })
}

fn single_response(t: &Tlv<'_>) -> Result<OcspSingle, OcspError> {
    let parts = elements(t.value)?;
    let (Some(id), Some(status), Some(this_update)) = (parts.first(), parts.get(1), parts.get(2))
    else {
        return Err(OcspError::Structure("SingleResponse"));
    };
    let id = elements(id.value)?;
    let (Some(alg), Some(name), Some(key), Some(serial)) =
        (id.first(), id.get(1), id.get(2), id.get(3))
    else {
        return Err(OcspError::Structure("CertID"));
    };
    let status = match status.tag {
        0x80 => OcspStatus::Good,
        0xA1 => {
            let inner = elements(status.value)?;
            OcspStatus::Revoked(time_of(
                inner
                    .first()
                    .ok_or(OcspError::Structure("revocationTime"))?,
                "revocationTime",
            )?)
        }
        0x82 => OcspStatus::Unknown,
        _ => return Err(OcspError::Structure("certStatus")),
    };
    Ok(OcspSingle {
        hash: AlgorithmIdentifierOwned::from_der(alg.raw)?.oid,
        issuer_name_hash: name.value.to_vec(),
        issuer_key_hash: key.value.to_vec(),
        serial: serial.value.to_vec(),
        status,
        this_update: time_of(this_update, "thisUpdate")?,
    })
}

/// The hash of `data` with the CertID algorithm `oid` (SHA-1 or SHA-2), if supported.
fn cert_id_hash(oid: &ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    if *oid == const_oid::db::rfc5912::ID_SHA_1 {
        return Some(Sha1::digest(data).to_vec());
    }
    HashAlg::from_oid(oid).map(|h| h.digest(data))
}

impl OcspEvidence {
    /// The status this response gives `cert` (issued by `issuer`), if it covers it and its
    /// signature verifies with the issuer or a responder the issuer certified for OCSP.
    pub fn status_of(&self, cert: &Certificate, issuer: &Certificate) -> Option<&OcspSingle> {
        let name = issuer.tbs_certificate.subject.to_der().ok()?;
        let key = issuer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        let single = self.responses.iter().find(|s| {
            s.serial == serial
                && cert_id_hash(&s.hash, &name).as_deref() == Some(s.issuer_name_hash.as_slice())
                && cert_id_hash(&s.hash, key).as_deref() == Some(s.issuer_key_hash.as_slice())
        })?;
        self.signed_for(issuer).then_some(single)
    }

    /// Whether the response is signed by `issuer` or by a delegated responder it certified.
    fn signed_for(&self, issuer: &Certificate) -> bool {
        let verifies = |c: &Certificate| {
            alg::verify(
                &c.tbs_certificate.subject_public_key_info,
                &self.signature_algorithm,
                None,
                &self.tbs,
                &self.signature,
            )
            .is_ok()
        };
        if verifies(issuer) {
            return true;
        }
        self.certificates.iter().any(|responder| {
            let for_issuer = same_name(
                &responder.tbs_certificate.issuer,
                &issuer.tbs_certificate.subject,
            );
            let ocsp_signing = matches!(
                responder.tbs_certificate.get::<x509_cert::ext::pkix::ExtendedKeyUsage>(),
                Ok(Some((_, eku))) if eku.0.contains(&ServicePurpose::OcspSigning.oid())
            );
            for_issuer
                && ocsp_signing
                && super::chain::signed_by(responder, issuer).is_ok()
                && verifies(responder)
        })
    }
}

/// Answers a DER `OCSPRequest` for certificates of `ca_cert` (RFC 6960 §2.2): the CA signs
/// (§4.2.2.2), one `SingleResponse` per request with `status_of(serial)`, thisUpdate `now`,
/// nextUpdate `next_update`, the nonce echoed. A request that cannot be read gets
/// `malformedRequest`; one about another issuer `unknown`.
pub fn respond(
    request: &[u8],
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    status_of: impl Fn(&[u8]) -> OcspStatus,
    now: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Vec<u8> {
    let malformed = || {
        OcspResponse::malformed_request()
            .to_der()
            .unwrap_or_default()
    };
    let Ok(req) = OcspRequest::from_der(request) else {
        return malformed();
    };
    let Ok(name) = ca_cert.tbs_certificate.subject.to_der() else {
        return malformed();
    };
    let key = ca_cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let (Ok(now_g), Ok(next_g)) = (generalized(now), generalized(next_update)) else {
        return OcspResponse::internal_error().to_der().unwrap_or_default();
    };
    let mut responses = Vec::new();
    for r in &req.tbs_request.request_list {
        let id = &r.req_cert;
        let ours = cert_id_hash(&id.hash_algorithm.oid, &name).as_deref()
            == Some(id.issuer_name_hash.as_bytes())
            && cert_id_hash(&id.hash_algorithm.oid, key).as_deref()
                == Some(id.issuer_key_hash.as_bytes());
        let status = if ours {
            status_of(id.serial_number.as_bytes())
        } else {
            OcspStatus::Unknown
        };
        let cert_status = match status {
            OcspStatus::Good => CertStatus::good(),
            OcspStatus::Unknown => CertStatus::unknown(),
            OcspStatus::Revoked(at) => match generalized(at) {
                Ok(t) => CertStatus::revoked(RevokedInfo {
                    revocation_time: t,
                    revocation_reason: None,
                }),
                Err(_) => CertStatus::unknown(),
            },
        };
        responses.push(SingleResponse {
            cert_id: id.clone(),
            cert_status,
            this_update: now_g,
            next_update: Some(next_g),
            single_extensions: None,
        });
    }
    let nonce = req
        .tbs_request
        .request_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
        .cloned();
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(match OctetString::new(Sha1::digest(key).to_vec()) {
            Ok(k) => k,
            Err(_) => return malformed(),
        }),
        produced_at: now_g,
        responses,
        response_extensions: nonce.map(|n| vec![n]),
    };
    let Ok(tbs) = data.to_der() else {
        return malformed();
    };
    let signature = ca_key.sign(&tbs);
    let Ok(signature) = BitString::from_bytes(&signature) else {
        return malformed();
    };
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: ca_key.algorithm(),
        signature,
        certs: None,
    };
    OcspResponse::successful(basic)
        .and_then(|r| r.to_der())
        .unwrap_or_else(|_| malformed())
}

fn generalized(t: OffsetDateTime) -> Result<OcspGeneralizedTime, der::Error> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| der::ErrorKind::DateTime)?;
    Ok(OcspGeneralizedTime(
        der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))?,
    ))
}

/// A DER `OCSPRequest` for `cert` issued by `issuer` (RFC 6960 §4.1.1; CertID with SHA-1, as
/// every responder accepts).
///
/// # Errors
/// Encoding failures only.
pub fn request_for(cert: &Certificate, issuer: &Certificate) -> Result<Vec<u8>, OcspError> {
    let sha1 = AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ID_SHA_1,
        parameters: Some(der::asn1::Null.into()),
    };
    let name = issuer.tbs_certificate.subject.to_der()?;
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let req = OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            request_list: vec![x509_ocsp::Request {
                req_cert: x509_ocsp::CertId {
                    hash_algorithm: sha1,
                    issuer_name_hash: OctetString::new(Sha1::digest(&name).to_vec())?,
                    issuer_key_hash: OctetString::new(Sha1::digest(key).to_vec())?,
                    serial_number: cert.tbs_certificate.serial_number.clone(),
                },
                single_request_extensions: None,
            }],
            ..Default::default()
        },
        optional_signature: None,
    };
    Ok(req.to_der()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pki::{
        CaSubject, LeaderSubject, create_ca_certificate_with, issue_leader_certificate_with,
    };
    use time::macros::datetime;

    fn make_ca(seed: u64) -> (IssuerKey, Certificate) {
        use rand_core::SeedableRng;
        let key = IssuerKey::generate_p256(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
        let cert = create_ca_certificate_with(
            &key,
            &CaSubject {
                name: "CA thử OCSP".into(),
            },
            1,
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2036-01-01 00:00 UTC),
        )
        .unwrap();
        (key, cert)
    }

    fn leader(key: &IssuerKey, ca: &Certificate, serial: u64) -> Certificate {
        issue_leader_certificate_with(
            key,
            ca,
            &key.spki().unwrap(),
            &LeaderSubject {
                full_name: "Nguyễn Thị Lan".into(),
                title: "Giám đốc".into(),
                unit_name: "Sở thử".into(),
                unit_id: "U02".into(),
            },
            serial,
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2028-01-01 00:00 UTC),
        )
        .unwrap()
    }

    #[test]
    fn the_responder_answers_good_revoked_and_unknown_and_its_answers_read_back() {
        let (key, ca) = make_ca(1);
        let good = leader(&key, &ca, 0x10);
        let revoked = leader(&key, &ca, 0x11);
        let at = datetime!(2026-05-01 00:00 UTC);
        let status = |serial: &[u8]| match serial {
            [0x10] => OcspStatus::Good,
            [0x11] => OcspStatus::Revoked(datetime!(2026-04-01 00:00 UTC)),
            _ => OcspStatus::Unknown,
        };
        let answer = |cert: &Certificate| {
            let der = respond(
                &request_for(cert, &ca).unwrap(),
                &key,
                &ca,
                status,
                at,
                at + time::Duration::days(1),
            );
            parse_response(&der).unwrap()
        };
        let r = answer(&good);
        assert_eq!(r.produced_at, at);
        assert_eq!(r.status_of(&good, &ca).unwrap().status, OcspStatus::Good);
        let r = answer(&revoked);
        assert_eq!(
            r.status_of(&revoked, &ca).unwrap().status,
            OcspStatus::Revoked(datetime!(2026-04-01 00:00 UTC))
        );
        // Another CA's answer about a certificate of the same name and serial counts for nothing.
        let (other_key, other_ca) = make_ca(2);
        let forged = respond(
            &request_for(&good, &ca).unwrap(),
            &other_key,
            &other_ca,
            |_| OcspStatus::Good,
            at,
            at,
        );
        let forged = parse_response(&forged).unwrap();
        assert!(forged.status_of(&good, &ca).is_none());
        // Garbage is a malformedRequest, not a crash.
        let bad = respond(b"\x30\x00", &key, &ca, status, at, at);
        assert!(matches!(
            parse_response(&bad),
            Err(OcspError::NotSuccessful(1))
        ));
    }
}
