//! CMS SignedData for PAdES B-B signatures with Ed25519 (RFC 5652 §5,
//! RFC 8419 §3, ESS signing-certificate-v2 per RFC 5035 §3).
//!
//! Signing is split so the private key stays with the caller:
//! [`signed_attributes_der`] gives the bytes to sign (PureEdDSA over the DER
//! SET, RFC 8419 §3.1), [`build_signed_data`] wraps the signature.

use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, AnyRef, Decode, Encode, Header, Reader, Sequence, SliceReader, Tag, Tagged};
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::pki::PkiError;
use crate::pki::name::same_name;
use crate::pki::util::{certificate_verifying_key, ed25519_algorithm, is_ed25519};

const ID_DATA: ObjectIdentifier = const_oid::db::rfc5911::ID_DATA;
const ID_SIGNED_DATA: ObjectIdentifier = const_oid::db::rfc5911::ID_SIGNED_DATA;
const ID_CONTENT_TYPE: ObjectIdentifier = const_oid::db::rfc5911::ID_CONTENT_TYPE;
const ID_MESSAGE_DIGEST: ObjectIdentifier = const_oid::db::rfc5911::ID_MESSAGE_DIGEST;
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2;
const ID_SHA256: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_256;
const ID_SHA512: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_512;

/// Errors of the CMS module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// DER encoding or decoding failed, including trailing data (X.690).
    #[error("DER error: {0}")]
    Der(#[from] der::Error),
    /// The ContentInfo does not hold SignedData (RFC 5652 §3, §5.1).
    #[error("not a CMS SignedData (content type {0})")]
    NotSignedData(String),
    /// Only one SignerInfo is supported (PAdES, ETSI EN 319 142-1 §6.3).
    #[error("expected exactly one SignerInfo, found {0}")]
    SignerInfoCount(usize),
    /// signedAttrs absent (RFC 5652 §5.3; mandatory for PAdES).
    #[error("SignerInfo has no signed attributes")]
    MissingSignedAttributes,
    /// A mandatory signed attribute is missing, repeated or malformed (RFC 5652 §11).
    #[error("signed attribute {0} is missing, repeated or not single-valued")]
    BadAttribute(&'static str),
    /// Given signed attributes are not the canonical DER SET OF Attribute (RFC 5652 §5.4).
    #[error("signed attributes are not a DER SET OF Attribute")]
    SignedAttributesNotDer,
    /// The signature does not verify with the signer certificate's key (RFC 8419 §3.1).
    #[error("signature does not verify with the signer certificate's key")]
    SignatureMismatch,
    /// Non-zero bytes follow the DER object.
    #[error("trailing data after the CMS object")]
    TrailingData,
    /// Signer certificate unusable.
    #[error("signer certificate: {0}")]
    Certificate(#[from] PkiError),
}

/// `SigningCertificateV2` (RFC 5035 §3).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// `ESSCertIDv2` (RFC 5035 §4); hashAlgorithm DEFAULT id-sha256 is omitted when SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: GeneralNames,
    serial_number: SerialNumber,
}

fn sha512_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA512,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// DER `SET OF Attribute` to be signed (RFC 5652 §5.4): content-type = id-data
/// (§11.1), message-digest = the SHA-512 digest (§11.2) and
/// signing-certificate-v2 with SHA-256 (default, omitted), certHash and
/// issuerSerial (RFC 5035 §3). No signing-time (PAdES uses /M). The SET is
/// sorted by encoding as DER requires.
pub fn signed_attributes_der(
    message_digest: &[u8; 64],
    signer_cert: &Certificate,
) -> Result<Vec<u8>, CmsError> {
    let cert_hash = Sha256::digest(signer_cert.to_der()?);
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(cert_hash.to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer_cert.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer_cert.tbs_certificate.serial_number.clone(),
            }),
        }],
        policies: None,
    };
    let attrs: SignedAttributes = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest.to_vec())?)?,
        )?,
        attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    Ok(attrs.to_der()?)
}

/// DER `ContentInfo` holding detached SignedData v1 (RFC 5652 §5.1): SHA-512
/// digest algorithm, params absent (RFC 8419 §3.1, RFC 5754 §2); certificates
/// = signer + chain (deduplicated, DER-sorted); one SignerInfo v1 with
/// issuerAndSerialNumber, signedAttrs `[0] IMPLICIT` (same content as the SET
/// that was signed), id-Ed25519 without parameters (RFC 8419 §2.3).
/// The signature is checked against the signer certificate before wrapping.
pub fn build_signed_data(
    signed_attrs_der: &[u8],
    signature: &[u8; 64],
    signer_cert: &Certificate,
    chain: &[Certificate],
) -> Result<Vec<u8>, CmsError> {
    let attrs = SignedAttributes::from_der(signed_attrs_der)
        .map_err(|_| CmsError::SignedAttributesNotDer)?;
    if attrs.to_der()? != signed_attrs_der {
        return Err(CmsError::SignedAttributesNotDer);
    }
    let key = certificate_verifying_key(signer_cert)?;
    if key
        .verify_strict(signed_attrs_der, &Signature::from_bytes(signature))
        .is_err()
    {
        return Err(CmsError::SignatureMismatch);
    }

    let mut certs: Vec<CertificateChoices> = Vec::with_capacity(chain.len().saturating_add(1));
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for cert in core::iter::once(signer_cert).chain(chain.iter()) {
        let der = cert.to_der()?;
        if !seen.contains(&der) {
            seen.push(der);
            certs.push(CertificateChoices::Certificate(cert.clone()));
        }
    }

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer_cert.tbs_certificate.issuer.clone(),
            serial_number: signer_cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha512_algorithm(),
        signed_attrs: Some(attrs),
        signature_algorithm: ed25519_algorithm(),
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha512_algorithm()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?)
}

/// The first `ESSCertIDv2` of a signing-certificate-v2 attribute (RFC 5035 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EssCertId {
    /// Hash algorithm (SHA-256 when the DEFAULT was omitted).
    pub hash_algorithm: ObjectIdentifier,
    /// certHash.
    pub cert_hash: Vec<u8>,
    /// issuerSerial: the first directoryName, if any.
    pub issuer: Option<Name>,
    /// issuerSerial: the serial number, if present.
    pub serial_number: Option<SerialNumber>,
}

/// A SignedData as parsed by [`parse_signed_data`]; check it with [`verify_signer_info`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignedData {
    /// All X.509 certificates carried (RFC 5652 §5.1), in DER order.
    pub certificates: Vec<Certificate>,
    /// The certificate matching the SignerInfo's sid (§5.3), if carried.
    pub signer_certificate: Option<Certificate>,
    /// SignerInfo digestAlgorithm OID.
    pub digest_algorithm: ObjectIdentifier,
    /// SignerInfo signatureAlgorithm OID.
    pub signature_algorithm: ObjectIdentifier,
    /// eContentType (§5.2).
    pub encap_content_type: ObjectIdentifier,
    /// True if eContent is absent (detached signature).
    pub detached: bool,
    /// content-type attribute equals eContentType (§11.1).
    pub content_type_matches: bool,
    /// message-digest attribute value (§11.2).
    pub message_digest: Vec<u8>,
    /// Signed attributes as received, with the tag changed to SET (0x31):
    /// the bytes the signature covers (§5.4).
    pub signed_attrs_der: Vec<u8>,
    /// The received signed attributes were already in DER SET OF order.
    pub signed_attrs_canonical: bool,
    /// Raw signature value.
    pub signature: Vec<u8>,
    /// signing-certificate-v2 (RFC 5035), if present.
    pub ess_cert_id: Option<EssCertId>,
    signature_algorithm_ok: bool,
}

/// Strip zero padding after a single DER object, as found in a PDF
/// `/Contents` hex string; any non-zero trailing byte is an error.
pub fn trim_der_padding(bytes: &[u8]) -> Result<&[u8], CmsError> {
    let mut reader = SliceReader::new(bytes)?;
    let header = Header::decode(&mut reader)?;
    let total = (header.encoded_len()? + header.length)?;
    let total = usize::try_from(total)?;
    let (object, rest) = bytes
        .split_at_checked(total)
        .ok_or(CmsError::TrailingData)?;
    if rest.iter().any(|&b| b != 0) {
        return Err(CmsError::TrailingData);
    }
    Ok(object)
}

/// The signerInfos[0].signedAttrs TLV as received, retagged as SET.
fn raw_signed_attrs(der: &[u8]) -> Result<Vec<u8>, CmsError> {
    let content_info = AnyRef::from_der(der)?;
    let mut r = SliceReader::new(content_info.value())?;
    AnyRef::decode(&mut r)?; // contentType
    let explicit = AnyRef::decode(&mut r)?; // [0] EXPLICIT
    let signed_data = AnyRef::from_der(explicit.value())?;
    let mut r = SliceReader::new(signed_data.value())?;
    let signer_infos = loop {
        let item = AnyRef::decode(&mut r)?;
        if item.tag() == Tag::Set && r.is_finished() {
            break item;
        }
    };
    let mut r = SliceReader::new(signer_infos.value())?;
    let signer_info = AnyRef::decode(&mut r)?;
    let mut r = SliceReader::new(signer_info.value())?;
    for _ in 0..3 {
        AnyRef::decode(&mut r)?; // version, sid, digestAlgorithm
    }
    let mut tlv = r.tlv_bytes()?.to_vec();
    match tlv.first_mut() {
        Some(tag) if *tag == 0xA0 => *tag = 0x31,
        _ => return Err(CmsError::MissingSignedAttributes),
    }
    Ok(tlv)
}

fn single_value<'a>(
    attrs: &'a SignedAttributes,
    oid: ObjectIdentifier,
    label: &'static str,
) -> Result<Option<&'a Any>, CmsError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(first) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || first.values.len() != 1 {
        return Err(CmsError::BadAttribute(label));
    }
    Ok(first.values.get(0))
}

fn find_signer(certs: &[Certificate], sid: &SignerIdentifier) -> Option<Certificate> {
    certs
        .iter()
        .find(|c| match sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                same_name(&c.tbs_certificate.issuer, &isn.issuer)
                    && c.tbs_certificate.serial_number == isn.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
                c.tbs_certificate.get::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own == *ski
            ),
        })
        .cloned()
}

/// Parse a DER CMS ContentInfo with SignedData (RFC 5652 §3, §5). Strict
/// DER, no trailing bytes (use [`trim_der_padding`] first for PDF
/// `/Contents`), exactly one SignerInfo, signed attributes with exactly one
/// content-type and message-digest (§11). Hostile input gives an error,
/// never a panic.
pub fn parse_signed_data(der: &[u8]) -> Result<ParsedSignedData, CmsError> {
    let content_info = ContentInfo::from_der(der)?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(CmsError::NotSignedData(
            content_info.content_type.to_string(),
        ));
    }
    let sd: SignedData = content_info.content.decode_as()?;
    let signer_info = match sd.signer_infos.0.as_slice() {
        [one] => one,
        other => return Err(CmsError::SignerInfoCount(other.len())),
    };
    let certificates: Vec<Certificate> = sd
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let signer_certificate = find_signer(&certificates, &signer_info.sid);

    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(CmsError::MissingSignedAttributes)?;
    let signed_attrs_der = raw_signed_attrs(der)?;
    let signed_attrs_canonical = attrs.to_der()? == signed_attrs_der;

    let message_digest = single_value(attrs, ID_MESSAGE_DIGEST, "message-digest")?
        .ok_or(CmsError::BadAttribute("message-digest"))?
        .decode_as::<OctetString>()
        .map_err(|_| CmsError::BadAttribute("message-digest"))?
        .into_bytes();
    let content_type = single_value(attrs, ID_CONTENT_TYPE, "content-type")?
        .ok_or(CmsError::BadAttribute("content-type"))?
        .decode_as::<ObjectIdentifier>()
        .map_err(|_| CmsError::BadAttribute("content-type"))?;

    let ess_cert_id =
        match single_value(attrs, ID_SIGNING_CERTIFICATE_V2, "signing-certificate-v2")? {
            None => None,
            Some(value) => {
                let ess: SigningCertificateV2 = value
                    .decode_as()
                    .map_err(|_| CmsError::BadAttribute("signing-certificate-v2"))?;
                let first = ess
                    .certs
                    .into_iter()
                    .next()
                    .ok_or(CmsError::BadAttribute("signing-certificate-v2"))?;
                let (issuer, serial_number) = match first.issuer_serial {
                    Some(is) => (
                        is.issuer.into_iter().find_map(|g| match g {
                            GeneralName::DirectoryName(n) => Some(n),
                            _ => None,
                        }),
                        Some(is.serial_number),
                    ),
                    None => (None, None),
                };
                Some(EssCertId {
                    hash_algorithm: first.hash_algorithm.map_or(ID_SHA256, |a| a.oid),
                    cert_hash: first.cert_hash.into_bytes(),
                    issuer,
                    serial_number,
                })
            }
        };

    Ok(ParsedSignedData {
        certificates,
        signer_certificate,
        digest_algorithm: signer_info.digest_alg.oid,
        signature_algorithm: signer_info.signature_algorithm.oid,
        encap_content_type: sd.encap_content_info.econtent_type,
        detached: sd.encap_content_info.econtent.is_none(),
        content_type_matches: content_type == sd.encap_content_info.econtent_type,
        message_digest,
        signed_attrs_der,
        signed_attrs_canonical,
        signature: signer_info.signature.as_bytes().to_vec(),
        ess_cert_id,
        signature_algorithm_ok: is_ed25519(&signer_info.signature_algorithm),
    })
}

/// A finding of [`verify_signer_info`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CmsProblem {
    /// No certificate matches the SignerInfo's sid (RFC 5652 §5.3).
    SignerCertificateMissing,
    /// Signature algorithm is not id-Ed25519 without parameters (RFC 8419 §2.3).
    UnsupportedSignatureAlgorithm {
        /// OID found.
        oid: String,
    },
    /// Digest algorithm is not SHA-512 (RFC 8419 §3.1 requires it with Ed25519).
    UnsupportedDigestAlgorithm {
        /// OID found.
        oid: String,
    },
    /// message-digest is not 64 bytes long (SHA-512).
    MessageDigestLength,
    /// Signer certificate key is not Ed25519 (RFC 8410 §4).
    SignerKeyNotEd25519,
    /// The Ed25519 signature over the signed attributes does not verify.
    BadSignature,
    /// content-type attribute differs from eContentType (RFC 5652 §11.1).
    ContentTypeMismatch,
    /// eContentType is not id-data or eContent is present (PAdES needs detached id-data).
    NotDetachedData,
    /// Signed attributes were not in DER order (RFC 5652 §5.4).
    SignedAttributesNotDer,
    /// signing-certificate-v2 absent (required by PAdES B-B).
    SigningCertificateAttributeMissing,
    /// ESSCertIDv2 uses a hash other than SHA-256/SHA-512.
    UnsupportedEssHashAlgorithm {
        /// OID found.
        oid: String,
    },
    /// ESSCertIDv2 does not identify the signer certificate (RFC 5035 §5.4).
    SigningCertificateMismatch,
}

/// Outcome of [`verify_signer_info`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureCheck {
    /// The Ed25519 signature over the signed attributes verifies with the signer certificate.
    pub signature_valid: bool,
    /// ESS signing-certificate-v2 matches the signer certificate; `None` if absent or not checkable.
    pub signing_cert_attr_matches: Option<bool>,
    /// All findings.
    pub problems: Vec<CmsProblem>,
}

impl SignatureCheck {
    /// Signature valid and no problem at all.
    pub fn is_ok(&self) -> bool {
        self.signature_valid && self.problems.is_empty()
    }
}

/// Verify the SignerInfo cryptographically (RFC 5652 §5.6, RFC 8419 §3.1):
/// Ed25519 over the signed-attributes SET with the signer certificate's key,
/// and the ESS certHash/issuerSerial against the signer certificate
/// (RFC 5035 §5.4). Comparing `message_digest` with the document hash and
/// validating the certificate chain are the caller's job.
pub fn verify_signer_info(parsed: &ParsedSignedData) -> SignatureCheck {
    let mut problems = Vec::new();
    if !parsed.signature_algorithm_ok {
        problems.push(CmsProblem::UnsupportedSignatureAlgorithm {
            oid: parsed.signature_algorithm.to_string(),
        });
    }
    if parsed.digest_algorithm != ID_SHA512 {
        problems.push(CmsProblem::UnsupportedDigestAlgorithm {
            oid: parsed.digest_algorithm.to_string(),
        });
    }
    if parsed.message_digest.len() != 64 {
        problems.push(CmsProblem::MessageDigestLength);
    }
    if !parsed.content_type_matches {
        problems.push(CmsProblem::ContentTypeMismatch);
    }
    if parsed.encap_content_type != ID_DATA || !parsed.detached {
        problems.push(CmsProblem::NotDetachedData);
    }
    if !parsed.signed_attrs_canonical {
        problems.push(CmsProblem::SignedAttributesNotDer);
    }

    let mut signature_valid = false;
    let mut signing_cert_attr_matches = None;
    match &parsed.signer_certificate {
        None => problems.push(CmsProblem::SignerCertificateMissing),
        Some(cert) => {
            match certificate_verifying_key(cert) {
                Err(_) => problems.push(CmsProblem::SignerKeyNotEd25519),
                Ok(key) => {
                    signature_valid = parsed.signature_algorithm_ok
                        && Signature::from_slice(&parsed.signature)
                            .map(|sig| key.verify_strict(&parsed.signed_attrs_der, &sig).is_ok())
                            .unwrap_or(false);
                    if !signature_valid {
                        problems.push(CmsProblem::BadSignature);
                    }
                }
            }
            match &parsed.ess_cert_id {
                None => problems.push(CmsProblem::SigningCertificateAttributeMissing),
                Some(ess) => {
                    let cert_der = cert.to_der().unwrap_or_default();
                    let hash = if ess.hash_algorithm == ID_SHA256 {
                        Some(Sha256::digest(&cert_der).to_vec())
                    } else if ess.hash_algorithm == ID_SHA512 {
                        Some(Sha512::digest(&cert_der).to_vec())
                    } else {
                        None
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
        signing_cert_attr_matches,
        problems,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pki::{CaSubject, LeaderSubject, create_ca_certificate, issue_leader_certificate};
    use ed25519_dalek::{Signer, SigningKey};
    use time::macros::datetime;

    const BLOC: &str = "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội";

    fn ca_key() -> SigningKey {
        SigningKey::from_bytes(&[1u8; 32])
    }
    fn leader_key() -> SigningKey {
        SigningKey::from_bytes(&[2u8; 32])
    }
    fn ca_cert() -> Certificate {
        create_ca_certificate(
            &ca_key(),
            &CaSubject { name: BLOC.into() },
            1,
            datetime!(2025-01-01 00:00:00 UTC),
            datetime!(2035-01-01 00:00:00 UTC),
        )
        .unwrap()
    }
    fn leader_cert() -> Certificate {
        issue_leader_certificate(
            &ca_key(),
            &ca_cert(),
            &leader_key().verifying_key(),
            &LeaderSubject {
                full_name: "Nguyễn Thị Hồng Nhung".into(),
                title: "Giám đốc".into(),
                unit_name: "Sở Văn hóa, Thể thao và Du lịch".into(),
                unit_id: "U07".into(),
            },
            0x8000_0000_0000_0001,
            datetime!(2025-06-01 00:00:00 UTC),
            datetime!(2027-06-01 00:00:00 UTC),
        )
        .unwrap()
    }
    fn digest(content: &[u8]) -> [u8; 64] {
        Sha512::digest(content).into()
    }
    fn signed_cms(content: &[u8]) -> Vec<u8> {
        let cert = leader_cert();
        let attrs = signed_attributes_der(&digest(content), &cert).unwrap();
        let sig = leader_key().sign(&attrs).to_bytes();
        build_signed_data(&attrs, &sig, &cert, &[ca_cert()]).unwrap()
    }

    #[test]
    fn signed_attributes_are_a_der_set() {
        let cert = leader_cert();
        let der = signed_attributes_der(&digest(b"pdf"), &cert).unwrap();
        assert_eq!(der.first(), Some(&0x31));
        let set = SignedAttributes::from_der(&der).unwrap();
        assert_eq!(set.to_der().unwrap(), der);
        // Elements in ascending order of their encodings (X.690 §11.6).
        let encodings: Vec<Vec<u8>> = set.iter().map(|a| a.to_der().unwrap()).collect();
        let mut sorted = encodings.clone();
        sorted.sort();
        assert_eq!(encodings, sorted);
        let mut oids: Vec<String> = set.iter().map(|a| a.oid.to_string()).collect();
        oids.sort();
        assert_eq!(
            oids,
            [
                "1.2.840.113549.1.9.16.2.47",
                "1.2.840.113549.1.9.3",
                "1.2.840.113549.1.9.4"
            ]
        );
        // ESSCertIDv2: hashAlgorithm (SHA-256 default) omitted, hash of the cert DER.
        let ess_attr = set
            .iter()
            .find(|a| a.oid == ID_SIGNING_CERTIFICATE_V2)
            .unwrap();
        let ess: SigningCertificateV2 = ess_attr.values.get(0).unwrap().decode_as().unwrap();
        let id = &ess.certs[0];
        assert!(id.hash_algorithm.is_none());
        assert_eq!(
            id.cert_hash.as_bytes(),
            Sha256::digest(cert.to_der().unwrap()).as_slice()
        );
        let ess_der = ess_attr.values.get(0).unwrap().to_der().unwrap();
        // SEQUENCE { SEQUENCE { SEQUENCE { OCTET STRING ...: first field is the hash.
        assert_eq!(&ess_der[..1], &[0x30]);
        let inner = AnyRef::from_der(&ess_der).unwrap();
        let certs = AnyRef::from_der(inner.value()).unwrap();
        let first = AnyRef::from_der(certs.value()).unwrap();
        assert_eq!(first.value()[0], 0x04);
        // Digest survives as the message-digest value.
        let md = set.iter().find(|a| a.oid == ID_MESSAGE_DIGEST).unwrap();
        let md: OctetString = md.values.get(0).unwrap().decode_as().unwrap();
        assert_eq!(md.as_bytes(), digest(b"pdf").as_slice());
    }

    #[test]
    fn cms_round_trip_verifies() {
        let der = signed_cms(b"covenant pdf bytes");
        let parsed = parse_signed_data(&der).unwrap();
        assert_eq!(parsed.signer_certificate, Some(leader_cert()));
        assert_eq!(parsed.certificates.len(), 2);
        assert_eq!(parsed.digest_algorithm, ID_SHA512);
        assert_eq!(parsed.signature_algorithm.to_string(), "1.3.101.112");
        assert_eq!(parsed.encap_content_type, ID_DATA);
        assert!(parsed.detached && parsed.content_type_matches && parsed.signed_attrs_canonical);
        assert_eq!(parsed.message_digest, digest(b"covenant pdf bytes"));
        assert_eq!(parsed.signature.len(), 64);
        assert_eq!(
            parsed.ess_cert_id.as_ref().map(|e| e.hash_algorithm),
            Some(ID_SHA256)
        );
        let check = verify_signer_info(&parsed);
        assert!(check.is_ok(), "{check:?}");
        assert_eq!(check.signing_cert_attr_matches, Some(true));
        // The signed attributes in the SignerInfo are the signed SET, retagged [0].
        let attrs = signed_attributes_der(&digest(b"covenant pdf bytes"), &leader_cert()).unwrap();
        assert_eq!(parsed.signed_attrs_der, attrs);
        let mut implicit = attrs.clone();
        implicit[0] = 0xA0;
        assert!(
            der.windows(implicit.len())
                .any(|w| w == implicit.as_slice())
        );
    }

    #[test]
    fn signed_data_structure_matches_the_profile() {
        let der = signed_cms(b"x");
        let ci = ContentInfo::from_der(&der).unwrap();
        assert_eq!(ci.content_type, ID_SIGNED_DATA);
        let sd: SignedData = ci.content.decode_as().unwrap();
        assert_eq!(sd.version, CmsVersion::V1);
        assert_eq!(sd.digest_algorithms.as_slice(), &[sha512_algorithm()]);
        assert!(sd.encap_content_info.econtent.is_none());
        assert!(sd.crls.is_none());
        let si = &sd.signer_infos.0.as_slice()[0];
        assert_eq!(si.version, CmsVersion::V1);
        assert!(matches!(si.sid, SignerIdentifier::IssuerAndSerialNumber(_)));
        assert_eq!(si.signature_algorithm, ed25519_algorithm());
        assert_eq!(si.digest_alg, sha512_algorithm());
        assert!(si.unsigned_attrs.is_none());
        // SHA-512 AlgorithmIdentifier without NULL parameters.
        let sha512_der = [
            0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        ];
        assert!(der.windows(13).any(|w| w == sha512_der));
    }

    #[test]
    fn cms_with_trailing_bytes_is_rejected() {
        let mut der = signed_cms(b"x");
        der.push(0);
        assert!(parse_signed_data(&der).is_err());
        // PDF /Contents padding: zeros are trimmed, anything else is refused.
        let trimmed = trim_der_padding(&der).unwrap();
        assert!(parse_signed_data(trimmed).is_ok());
        der.push(7);
        assert!(matches!(
            trim_der_padding(&der),
            Err(CmsError::TrailingData)
        ));
        assert!(trim_der_padding(&der[..10]).is_err());
    }

    #[test]
    fn tampered_signature_or_attributes_fail_verification() {
        let der = signed_cms(b"x");
        let parsed = parse_signed_data(&der).unwrap();
        let mut bad = parsed.clone();
        bad.signature[0] ^= 1;
        let check = verify_signer_info(&bad);
        assert!(!check.signature_valid);
        assert!(check.problems.contains(&CmsProblem::BadSignature));
        // Flip a byte of the message digest inside the encoded CMS.
        let md = digest(b"x");
        let pos = der.windows(64).position(|w| w == md).unwrap();
        let mut tampered = der.clone();
        tampered[pos] ^= 0xff;
        let check = verify_signer_info(&parse_signed_data(&tampered).unwrap());
        assert!(!check.signature_valid);
    }

    #[test]
    fn signing_certificate_attribute_for_another_cert_is_a_mismatch() {
        let leader = leader_cert();
        // Attributes name the CA certificate, but the leader signs.
        let attrs = signed_attributes_der(&digest(b"x"), &ca_cert()).unwrap();
        let sig = leader_key().sign(&attrs).to_bytes();
        let der = build_signed_data(&attrs, &sig, &leader, &[]).unwrap();
        let check = verify_signer_info(&parse_signed_data(&der).unwrap());
        assert!(check.signature_valid);
        assert_eq!(check.signing_cert_attr_matches, Some(false));
        assert!(!check.is_ok());
    }

    #[test]
    fn build_rejects_wrong_signature_and_non_der_attributes() {
        let cert = leader_cert();
        let attrs = signed_attributes_der(&digest(b"x"), &cert).unwrap();
        let wrong = ca_key().sign(&attrs).to_bytes();
        assert!(matches!(
            build_signed_data(&attrs, &wrong, &cert, &[]),
            Err(CmsError::SignatureMismatch)
        ));
        let mut implicit = attrs.clone();
        implicit[0] = 0xA0;
        let sig = leader_key().sign(&implicit).to_bytes();
        assert!(matches!(
            build_signed_data(&implicit, &sig, &cert, &[]),
            Err(CmsError::SignedAttributesNotDer)
        ));
    }

    #[test]
    fn missing_signer_certificate_is_reported() {
        let der = signed_cms(b"x");
        let ci = ContentInfo::from_der(&der).unwrap();
        let mut sd: SignedData = ci.content.decode_as().unwrap();
        sd.certificates = Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(ca_cert())]).unwrap(),
        ));
        let der = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap();
        let parsed = parse_signed_data(&der).unwrap();
        assert!(parsed.signer_certificate.is_none());
        let check = verify_signer_info(&parsed);
        assert!(!check.signature_valid);
        assert_eq!(check.problems, vec![CmsProblem::SignerCertificateMissing]);
    }

    #[test]
    fn two_signer_infos_are_rejected() {
        let der = signed_cms(b"x");
        let ci = ContentInfo::from_der(&der).unwrap();
        let mut sd: SignedData = ci.content.decode_as().unwrap();
        let mut si = sd.signer_infos.0.as_slice()[0].clone();
        si.signature = OctetString::new(vec![0u8; 64]).unwrap();
        sd.signer_infos.0.insert(si).unwrap();
        let der = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap();
        assert!(matches!(
            parse_signed_data(&der),
            Err(CmsError::SignerInfoCount(2))
        ));
    }

    #[test]
    fn hostile_cms_bytes_never_panic() {
        let der = signed_cms(b"x");
        // One flip per byte (mask rotating through low bit, high bit, all
        // bits) plus truncations: keeps the debug-build run short.
        for i in 0..der.len() {
            let mut m = der.clone();
            m[i] ^= [0x01u8, 0x80, 0xff][i % 3];
            if let Ok(p) = parse_signed_data(&m) {
                // Ed25519 is slow unoptimised: verify a sample only.
                if i % 4 == 0 {
                    let _ = verify_signer_info(&p);
                }
            }
            let _ = trim_der_padding(&m);
            if i % 5 == 0 {
                let _ = parse_signed_data(&der[..i]);
            }
        }
        assert!(parse_signed_data(&[]).is_err());
        assert!(parse_signed_data(&[0x30, 0x80, 0, 0]).is_err());
    }

    /// Writes artefacts for external tools (openssl, Python). Run with
    /// `PKI_ARTIFACTS=/dir cargo test -- --ignored write_artifacts`.
    #[test]
    #[ignore]
    fn write_artifacts_for_external_tools() {
        use crate::pki::*;
        let dir = std::env::var("PKI_ARTIFACTS").unwrap_or_else(|_| "/tmp/pki-artifacts".into());
        std::fs::create_dir_all(&dir).unwrap();
        let w = |name: &str, data: &[u8]| std::fs::write(format!("{dir}/{name}"), data).unwrap();
        let ca = ca_cert();
        let leader = leader_cert();
        w("ca.pem", certificate_to_pem(&ca).unwrap().as_bytes());
        w(
            "leader.pem",
            certificate_to_pem(&leader).unwrap().as_bytes(),
        );
        w(
            "ca.key.pem",
            signing_key_to_pem(&ca_key()).unwrap().as_bytes(),
        );
        w(
            "leader.key.pem",
            signing_key_to_pem(&leader_key()).unwrap().as_bytes(),
        );
        w(
            "leader.pub.pem",
            verifying_key_to_pem(&leader_key().verifying_key())
                .unwrap()
                .as_bytes(),
        );
        let subject = LeaderSubject {
            full_name: "Nguyễn Thị Hồng Nhung".into(),
            title: "Giám đốc".into(),
            unit_name: "Sở Văn hóa, Thể thao và Du lịch".into(),
            unit_id: "U07".into(),
        };
        w(
            "leader.csr.pem",
            csr_der_to_pem(&create_csr(&leader_key(), &subject).unwrap())
                .unwrap()
                .as_bytes(),
        );
        let crl = create_crl(
            &ca_key(),
            &ca,
            &[(5, datetime!(2026-01-01 00:00:00 UTC))],
            datetime!(2026-03-01 00:00:00 UTC),
            datetime!(2026-04-01 00:00:00 UTC),
            2,
        )
        .unwrap();
        w("ca.crl.pem", crl_der_to_pem(&crl).unwrap().as_bytes());
        let content = b"Giao uoc thi dua 2026 - noi dung PDF gia lap\n";
        w("content.bin", content);
        w("signature.cms.der", &signed_cms(content));
    }
}
