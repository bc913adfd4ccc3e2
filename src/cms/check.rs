//! Checking one signer info (RFC 5652 §5.6): the signature over the signed attributes with the
//! signer certificate's key and any algorithm [`crate::pki::alg`] supports, the attributes of
//! the profile, and the ESS signing-certificate attribute against the signer certificate
//! (RFC 5035 §5.4). Comparing the message digest with the document and validating the chain
//! are the caller's job.

use der::Encode;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{ID_DATA, ID_SHA1, ID_SHA256, ID_SHA512, ParsedSignedData};
use crate::pki::alg::{self, AlgError, Algorithm, HashAlg};
use crate::pki::name::same_name;

/// What a signer info must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profile {
    /// PAdES (`/ETSI.CAdES.detached`, ETSI EN 319 142-1 §6.3): signing-certificate(-v2) is
    /// required. Without it (`/adbe.pkcs7.detached`) it is checked when present.
    pub pades: bool,
    /// `Some(type)`: the content is encapsulated (eContent present) and of this type, as in
    /// a time-stamp token (`id-ct-TSTInfo`, RFC 3161 §2.4.2); `None`: detached `id-data`.
    pub encapsulated: Option<der::asn1::ObjectIdentifier>,
}

/// A finding of [`verify_signer_info`] that makes the signature unacceptable, or (for the
/// unsupported ones, [`CmsProblem::is_unsupported`]) undecidable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CmsProblem {
    /// No certificate matches the SignerInfo's sid (RFC 5652 §5.3).
    SignerCertificateMissing,
    /// The signature algorithm, key or curve is not supported: the signature cannot be judged.
    UnsupportedAlgorithm {
        /// What, e.g. an OID or "RSA key of 16384 bits".
        what: String,
    },
    /// The digest algorithm is not supported (SHA-256/384/512 are).
    UnsupportedDigestAlgorithm {
        /// OID found.
        oid: String,
    },
    /// message-digest does not have the digest algorithm's length.
    MessageDigestLength,
    /// The signer certificate's key cannot be read or does not fit the algorithm.
    BadKey {
        /// Why.
        reason: String,
    },
    /// The signature over the signed attributes does not verify.
    BadSignature,
    /// Ed25519 signer infos must use SHA-512 (RFC 8419 §3.1).
    Ed25519NeedsSha512,
    /// content-type attribute differs from eContentType (RFC 5652 §11.1).
    ContentTypeMismatch,
    /// eContentType is not id-data or eContent is present (a PDF signature is detached).
    NotDetachedData,
    /// Signed attributes were not in DER order (RFC 5652 §5.4).
    SignedAttributesNotDer,
    /// signing-certificate(-v2) absent (required by PAdES).
    SigningCertificateAttributeMissing,
    /// ESSCertID(v2) uses a hash this verifier does not compute.
    UnsupportedEssHashAlgorithm {
        /// OID found.
        oid: String,
    },
    /// ESSCertID(v2) does not identify the signer certificate (RFC 5035 §5.4).
    SigningCertificateMismatch,
}

impl CmsProblem {
    /// The signature cannot be judged (as opposed to judged bad).
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            CmsProblem::UnsupportedAlgorithm { .. }
                | CmsProblem::UnsupportedDigestAlgorithm { .. }
                | CmsProblem::UnsupportedEssHashAlgorithm { .. }
        )
    }
}

/// An observation about a signer info that does not make it unacceptable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CmsNote {
    /// The older signing-certificate attribute (SHA-1, RFC 2634) identifies the signer.
    SigningCertificateV1,
    /// A signing-time attribute is present (PAdES puts the time in `/M` instead).
    SigningTimeAttribute {
        /// The time it claims, RFC 3339.
        time: String,
    },
}

/// Outcome of [`verify_signer_info`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureCheck {
    /// The signature over the signed attributes verifies with the signer certificate.
    pub signature_valid: bool,
    /// The algorithm that verified.
    pub algorithm: Option<Algorithm>,
    /// ESS signing-certificate(-v2) matches the signer certificate; `None` if absent or not
    /// checkable.
    pub signing_cert_attr_matches: Option<bool>,
    /// All findings.
    pub problems: Vec<CmsProblem>,
    /// Observations.
    pub notes: Vec<CmsNote>,
}

impl SignatureCheck {
    /// Signature valid and no problem at all.
    pub fn is_ok(&self) -> bool {
        self.signature_valid && self.problems.is_empty()
    }

    /// Some part could not be judged (and nothing was judged bad).
    pub fn is_unsupported(&self) -> bool {
        self.problems.iter().any(CmsProblem::is_unsupported)
            && self.problems.iter().all(CmsProblem::is_unsupported)
    }
}

/// Verifies the SignerInfo (RFC 5652 §5.6) of a detached PDF signature: the signature over the
/// signed-attributes SET with the signer certificate's key, the profile's attributes, and the
/// ESS certHash/issuerSerial against the signer certificate (RFC 5035 §5.4).
pub fn verify_signer_info(parsed: &ParsedSignedData, profile: Profile) -> SignatureCheck {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let digest = parsed.digest();
    match digest {
        None => problems.push(CmsProblem::UnsupportedDigestAlgorithm {
            oid: parsed.digest_algorithm.to_string(),
        }),
        Some(d) if parsed.message_digest.len() != d.output_len() => {
            problems.push(CmsProblem::MessageDigestLength);
        }
        Some(_) => {}
    }
    if !parsed.content_type_matches {
        problems.push(CmsProblem::ContentTypeMismatch);
    }
    match profile.encapsulated {
        None if parsed.encap_content_type != ID_DATA || !parsed.detached => {
            problems.push(CmsProblem::NotDetachedData);
        }
        Some(t) if parsed.encap_content_type != t || parsed.detached => {
            problems.push(CmsProblem::NotDetachedData);
        }
        _ => {}
    }
    if !parsed.signed_attrs_canonical {
        problems.push(CmsProblem::SignedAttributesNotDer);
    }
    if let Some(t) = parsed.signing_time {
        notes.push(CmsNote::SigningTimeAttribute {
            time: crate::pki::util::rfc3339(t).unwrap_or_default(),
        });
    }

    let mut signature_valid = false;
    let mut algorithm = None;
    let mut signing_cert_attr_matches = None;
    match &parsed.signer_certificate {
        None => problems.push(CmsProblem::SignerCertificateMissing),
        Some(cert) => {
            let verified = alg::verify(
                &cert.tbs_certificate.subject_public_key_info,
                &parsed.signature_algorithm_id,
                digest,
                &parsed.signed_attrs_der,
                &parsed.signature,
            );
            match verified {
                Ok(a) => {
                    signature_valid = true;
                    if a.scheme == alg::Scheme::Ed25519 && digest != Some(HashAlg::Sha512) {
                        problems.push(CmsProblem::Ed25519NeedsSha512);
                    }
                    algorithm = Some(a);
                }
                Err(AlgError::Unsupported(what)) => {
                    problems.push(CmsProblem::UnsupportedAlgorithm { what });
                }
                Err(AlgError::BadKey(reason)) => problems.push(CmsProblem::BadKey { reason }),
                Err(AlgError::BadSignature) => problems.push(CmsProblem::BadSignature),
            }
            match &parsed.ess_cert_id {
                None if profile.pades => {
                    problems.push(CmsProblem::SigningCertificateAttributeMissing);
                }
                None => {}
                Some(ess) => {
                    if ess.version == 1 {
                        notes.push(CmsNote::SigningCertificateV1);
                    }
                    let cert_der = cert.to_der().unwrap_or_default();
                    let hash = match ess.hash_algorithm {
                        h if h == ID_SHA256 => Some(Sha256::digest(&cert_der).to_vec()),
                        h if h == ID_SHA512 => Some(Sha512::digest(&cert_der).to_vec()),
                        h if h == ID_SHA1 => Some(Sha1::digest(&cert_der).to_vec()),
                        h => HashAlg::from_oid(&h).map(|a| a.digest(&cert_der)),
                    };
                    match hash {
                        None => problems.push(CmsProblem::UnsupportedEssHashAlgorithm {
                            oid: ess.hash_algorithm.to_string(),
                        }),
                        Some(h) => {
                            let issuer_ok = ess
                                .issuer
                                .as_ref()
                                .is_none_or(|n| same_name(n, &cert.tbs_certificate.issuer));
                            let serial_ok = ess
                                .serial_number
                                .as_ref()
                                .is_none_or(|s| *s == cert.tbs_certificate.serial_number);
                            let ok = !cert_der.is_empty()
                                && h == ess.cert_hash
                                && issuer_ok
                                && serial_ok;
                            if !ok {
                                problems.push(CmsProblem::SigningCertificateMismatch);
                            }
                            signing_cert_attr_matches = Some(ok);
                        }
                    }
                }
            }
        }
    }
    SignatureCheck {
        signature_valid,
        algorithm,
        signing_cert_attr_matches,
        problems,
        notes,
    }
}
