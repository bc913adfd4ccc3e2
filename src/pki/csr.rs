//! PKCS#10 certification requests with Ed25519 (RFC 2986, RFC 8410).

use der::asn1::SetOfVec;
use der::pem::LineEnding;
use der::{Decode, Encode};
use ed25519_dalek::{SigningKey, VerifyingKey};
use x509_cert::request::{CertReq, CertReqInfo, Version};

use super::PkiError;
use super::cert::LeaderSubject;
use super::name::NameFields;
use super::util::{
    ed25519_algorithm, ed25519_spki, first_inner_tlv, is_ed25519, key_from_spki, sign_to_bitstring,
    verify_ed25519,
};

const CSR_LABEL: &str = "CERTIFICATE REQUEST";

/// Create a DER CertificationRequest for a leader, self-signed with the
/// leader's key as proof of possession (RFC 2986 §4).
pub fn create_csr(key: &SigningKey, subject: &LeaderSubject) -> Result<Vec<u8>, PkiError> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: subject.to_name()?,
        public_key: ed25519_spki(&key.verifying_key())?,
        attributes: SetOfVec::new(),
    };
    let signature = sign_to_bitstring(key, &info.to_der()?)?;
    let req = CertReq {
        info,
        algorithm: ed25519_algorithm(),
        signature,
    };
    Ok(req.to_der()?)
}

/// PEM (`CERTIFICATE REQUEST`) from DER (RFC 7468 §7).
pub fn csr_der_to_pem(der: &[u8]) -> Result<String, PkiError> {
    der::pem::encode_string(CSR_LABEL, LineEnding::LF, der)
        .map_err(|e| PkiError::Pem(e.to_string()))
}

/// DER from PEM (`CERTIFICATE REQUEST`, RFC 7468 §7).
pub fn csr_pem_to_der(pem: &str) -> Result<Vec<u8>, PkiError> {
    let (label, der) = der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|e| PkiError::Pem(format!("not a PEM certificate request: {e}")))?;
    if label != CSR_LABEL {
        return Err(PkiError::PemLabel {
            expected: CSR_LABEL,
            found: label.to_owned(),
        });
    }
    Ok(der)
}

/// A CSR whose self-signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCsr {
    /// The requested Ed25519 public key.
    pub public_key: VerifyingKey,
    /// Subject DN fields as requested.
    pub subject: NameFields,
}

impl VerifiedCsr {
    /// The subject as a `LeaderSubject`, if CN, title, O and OU are all present.
    pub fn leader_subject(&self) -> Option<LeaderSubject> {
        LeaderSubject::from_fields(&self.subject)
    }
}

/// Parse a DER CSR, require Ed25519 key and signature algorithm (RFC 8410
/// §3-4) and verify the self-signature over the original
/// CertificationRequestInfo bytes (RFC 2986 §3, proof of possession).
pub fn verify_csr(der: &[u8]) -> Result<VerifiedCsr, PkiError> {
    let req = CertReq::from_der(der)?;
    if !is_ed25519(&req.algorithm) {
        return Err(PkiError::UnsupportedAlgorithm(
            req.algorithm.oid.to_string(),
        ));
    }
    let public_key = key_from_spki(&req.info.public_key)?;
    let info_der = first_inner_tlv(der)?;
    if !verify_ed25519(&public_key, info_der, &req.signature) {
        return Err(PkiError::CsrSignature);
    }
    Ok(VerifiedCsr {
        public_key,
        subject: NameFields::from_name(&req.info.subject),
    })
}

/// [`create_csr`] for a key of either kind (Ed25519, ECDSA P-256 with SHA-256).
pub fn create_csr_with(
    key: &super::IssuerKey,
    subject: &LeaderSubject,
) -> Result<Vec<u8>, PkiError> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: subject.to_name()?,
        public_key: key.spki()?,
        attributes: SetOfVec::new(),
    };
    let signature = der::asn1::BitString::from_bytes(&key.sign(&info.to_der()?))?;
    Ok(CertReq {
        info,
        algorithm: key.algorithm(),
        signature,
    }
    .to_der()?)
}

/// A certificate request of either key kind with its proof of possession checked (RFC 2986
/// §4.2): the subject's SubjectPublicKeyInfo (Ed25519 or ECDSA P-256) and name.
///
/// # Errors
/// Not DER, another algorithm, or a signature that does not verify.
pub fn verify_csr_any(
    der: &[u8],
) -> Result<(spki::SubjectPublicKeyInfoOwned, NameFields), PkiError> {
    let req = CertReq::from_der(der)?;
    let info_der = first_inner_tlv(der)?;
    let signature = req.signature.as_bytes().ok_or(PkiError::CsrSignature)?;
    let kind = super::alg::key_kind(&req.info.public_key)
        .map_err(|e| PkiError::UnsupportedAlgorithm(e.to_string()))?;
    if !matches!(
        kind,
        super::alg::KeyKind::Ed25519 | super::alg::KeyKind::P256
    ) {
        return Err(PkiError::UnsupportedAlgorithm(format!("{kind:?}")));
    }
    super::alg::verify(
        &req.info.public_key,
        &req.algorithm,
        None,
        info_der,
        signature,
    )
    .map_err(|e| match e {
        super::alg::AlgError::Unsupported(what) => PkiError::UnsupportedAlgorithm(what),
        _ => PkiError::CsrSignature,
    })?;
    Ok((
        req.info.public_key,
        NameFields::from_name(&req.info.subject),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pki::cert::tests::{leader_key, leader_subject};

    #[test]
    fn csr_round_trip_verifies_and_returns_subject() {
        let der = create_csr(&leader_key(), &leader_subject()).unwrap();
        let pem = csr_der_to_pem(&der).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let back = csr_pem_to_der(&pem).unwrap();
        assert_eq!(back, der);
        let v = verify_csr(&back).unwrap();
        assert_eq!(v.public_key, leader_key().verifying_key());
        assert_eq!(v.leader_subject(), Some(leader_subject()));
    }

    #[test]
    fn csr_with_wrong_signature_is_rejected() {
        let mut der = create_csr(&leader_key(), &leader_subject()).unwrap();
        let last = der.len() - 1;
        der[last] ^= 1;
        assert!(matches!(verify_csr(&der), Err(PkiError::CsrSignature)));
    }

    #[test]
    fn csr_signed_by_another_key_is_rejected() {
        // Key in the request is the leader's, signature by someone else.
        let other = SigningKey::from_bytes(&[9u8; 32]);
        let info = CertReqInfo {
            version: Version::V1,
            subject: leader_subject().to_name().unwrap(),
            public_key: ed25519_spki(&leader_key().verifying_key()).unwrap(),
            attributes: SetOfVec::new(),
        };
        let signature = sign_to_bitstring(&other, &info.to_der().unwrap()).unwrap();
        let der = CertReq {
            info,
            algorithm: ed25519_algorithm(),
            signature,
        }
        .to_der()
        .unwrap();
        assert!(matches!(verify_csr(&der), Err(PkiError::CsrSignature)));
    }

    #[test]
    fn csr_hostile_bytes_never_panic() {
        let der = create_csr(&leader_key(), &leader_subject()).unwrap();
        for i in 0..der.len() {
            let mut m = der.clone();
            m[i] ^= 0x41;
            let _ = verify_csr(&m);
            let _ = verify_csr(&der[..i]);
        }
        assert!(
            csr_pem_to_der("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n").is_err()
        );
    }
}
