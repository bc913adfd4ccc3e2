//! The bloc's small Ed25519 PKI: keys, CA and leader certificates, CSRs,
//! CRLs and chain validation.
//!
//! Profiles follow RFC 5280 (certificates and CRLs), RFC 8410 (Ed25519 in
//! X.509: `id-Ed25519`, parameters absent) and RFC 2986 (PKCS#10). The library
//! never reads the clock nor draws randomness: times, serial numbers and keys
//! are passed in by the caller.

pub mod alg;
mod cert;
mod chain;
mod crl;
mod csr;
mod ecdsa;
mod keys;
pub(crate) mod name;
pub mod ocsp;
mod rsassa;
pub(crate) mod tlv;
pub(crate) mod util;

pub use cert::{
    CaSubject, CertInfo, Holder, LeaderSubject, ORGANISATION_POLICY, OrganisationSubject,
    RevocationUrls, ServicePurpose, cert_info, certificate_to_der, certificate_to_pem,
    certificates_from_pem_or_der, create_ca_certificate, create_ca_certificate_with, crl_urls,
    has_sole_critical_purpose, holder_of, issue_leader_certificate,
    issue_leader_certificate_pointing, issue_leader_certificate_with,
    issue_organisation_certificate, issue_service_certificate, leaf_and_chain, ocsp_urls,
    trust_anchors_from,
};
pub use chain::{
    ChainProblem, ChainStatus, MAX_PATH_LEN, RevocationInfo, SignatureChecks, validate_chain,
    validate_chain_with,
};
pub use crl::{Crl, RevokedEntry, create_crl, create_crl_with, crl_der_to_pem, parse_crl};
pub use csr::{
    VerifiedCsr, create_csr, create_csr_with, csr_der_to_pem, csr_pem_to_der, verify_csr,
    verify_csr_any,
};
pub use keys::{
    IssuerKey, generate_signing_key, signing_key_from_pem, signing_key_to_pem,
    verifying_key_from_pem, verifying_key_from_spki, verifying_key_to_pem, verifying_key_to_spki,
};
pub use name::NameFields;
pub use util::{certificate_verifying_key, serial_hex};

pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use x509_cert::Certificate;

/// Errors of the PKI module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// Input is not PEM, or the PEM is malformed (RFC 7468).
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// PEM block has an unexpected label (RFC 7468 §2).
    #[error("unexpected PEM label {found:?} (expected {expected:?})")]
    PemLabel {
        /// Label that was required.
        expected: &'static str,
        /// Label that was found.
        found: String,
    },
    /// Not a PKCS#8 Ed25519 private key (RFC 8410 §7).
    #[error("not a PKCS#8 Ed25519 private key: {0}")]
    NotEd25519PrivateKey(String),
    /// Not an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4).
    #[error("not an Ed25519 public key: {0}")]
    NotEd25519PublicKey(String),
    /// DER encoding or decoding failed (X.690).
    #[error("DER error: {0}")]
    Der(#[from] der::Error),
    /// Validity period or time value out of range (RFC 5280 §4.1.2.5).
    #[error("invalid time or validity period: {0}")]
    Validity(String),
    /// Serial number not a positive integer (RFC 5280 §4.1.2.2).
    #[error("invalid serial number: {0}")]
    Serial(String),
    /// A distinguished-name value is empty, too long or has control characters.
    #[error("invalid name attribute {field}: {reason}")]
    Name {
        /// Which field was rejected.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// CSR self-signature does not verify: no proof of possession (RFC 2986 §3).
    #[error("CSR signature does not verify (no proof of possession of the private key)")]
    CsrSignature,
    /// Algorithm other than Ed25519 (RFC 8410 §3).
    #[error("unsupported algorithm {0} (only id-Ed25519 1.3.101.112 without parameters)")]
    UnsupportedAlgorithm(String),
    /// The issuing certificate may not issue certificates or CRLs (RFC 5280 §4.2.1.9, §4.2.1.3).
    #[error("certificate cannot act as CA: {0}")]
    NotACa(&'static str),
    /// The private key does not belong to the given CA certificate.
    #[error("CA private key does not match the CA certificate's public key")]
    KeyMismatch,
    /// No certificate found in the input.
    #[error("no certificate found in input")]
    NoCertificate,
    /// CRL is malformed or uses unsupported features (RFC 5280 §5).
    #[error("invalid CRL: {0}")]
    Crl(&'static str),
}
