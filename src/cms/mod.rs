//! CMS `SignedData` (RFC 5652 §5): building ours (`build`), reading anyone's (`parse`, no
//! DER ordering required of `SET OF`), and checking a signer info with any supported signature
//! algorithm (`check`, with [`crate::pki::alg`]). ESS signing-certificate v1 and v2 (RFC 2634
//! §5.4, RFC 5035 §3) are read; v2 is written.
//!
//! Signing is split so the private key stays with the caller: [`signed_attributes_der`] gives
//! the bytes to sign, [`build_signed_data`] wraps the signature.

mod build;
mod check;
pub mod parse;
mod splice;

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Header, Sequence, SliceReader};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::pki::PkiError;
use crate::pki::alg::HashAlg;

pub use build::{
    Content, build_signed_data, build_signed_data_with, scheme_for, signed_attributes_der,
    signed_attributes_der_for,
};
pub use check::{CmsNote, CmsProblem, Profile, SignatureCheck, verify_signer_info};
pub use parse::{RawAttribute, SignedDataView, SignerId, SignerInfoView, read_signed_data};
pub use splice::add_unsigned_attribute;

pub(crate) const ID_DATA: ObjectIdentifier = const_oid::db::rfc5911::ID_DATA;
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier = const_oid::db::rfc5911::ID_SIGNED_DATA;
pub(crate) const ID_CONTENT_TYPE: ObjectIdentifier = const_oid::db::rfc5911::ID_CONTENT_TYPE;
pub(crate) const ID_MESSAGE_DIGEST: ObjectIdentifier = const_oid::db::rfc5911::ID_MESSAGE_DIGEST;
pub(crate) const ID_SIGNING_TIME: ObjectIdentifier = const_oid::db::rfc5911::ID_SIGNING_TIME;
pub(crate) const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2;
pub(crate) const ID_SIGNING_CERTIFICATE: ObjectIdentifier =
    const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE;
pub(crate) const ID_SHA1: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_1;
pub(crate) const ID_SHA256: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_256;
pub(crate) const ID_SHA512: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_512;

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
    /// signedAttrs absent (RFC 5652 §5.3; mandatory for PDF signatures).
    #[error("SignerInfo has no signed attributes")]
    MissingSignedAttributes,
    /// A mandatory signed attribute is missing, repeated or malformed (RFC 5652 §11).
    #[error("signed attribute {0} is missing, repeated or not single-valued")]
    BadAttribute(&'static str),
    /// Given signed attributes are not the canonical DER SET OF Attribute (RFC 5652 §5.4).
    #[error("signed attributes are not a DER SET OF Attribute")]
    SignedAttributesNotDer,
    /// The signature does not verify with the signer certificate's key.
    #[error("signature does not verify with the signer certificate's key")]
    SignatureMismatch,
    /// Non-zero bytes follow the DER object.
    #[error("trailing data after the CMS object")]
    TrailingData,
    /// A part of the structure is missing or has the wrong type.
    #[error("malformed {0}")]
    Structure(&'static str),
    /// An element cannot be read.
    #[error("{0}")]
    Element(#[from] crate::pki::tlv::DerError),
    /// Signer certificate unusable.
    #[error("signer certificate: {0}")]
    Certificate(#[from] PkiError),
    /// The signer's key cannot sign here (unsupported type, RSA under 2048 bits).
    #[error("signer key: {0}")]
    Algorithm(String),
}

/// `SigningCertificateV2` (RFC 5035 §3).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub(crate) certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub(crate) policies: Option<Vec<Any>>,
}

/// `ESSCertIDv2` (RFC 5035 §4); hashAlgorithm DEFAULT id-sha256 is omitted when SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub(crate) hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub(crate) cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub(crate) issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct IssuerSerial {
    pub(crate) issuer: GeneralNames,
    pub(crate) serial_number: SerialNumber,
}

/// The first `ESSCertID(v2)` of a signing-certificate(-v2) attribute (RFC 2634 §5.4, RFC 5035 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EssCertId {
    /// 1 (signing-certificate, SHA-1) or 2 (signing-certificate-v2).
    pub version: u8,
    /// Hash algorithm (SHA-1 for v1; SHA-256 when v2's DEFAULT was omitted).
    pub hash_algorithm: ObjectIdentifier,
    /// certHash.
    pub cert_hash: Vec<u8>,
    /// issuerSerial: the first directoryName, if any.
    pub issuer: Option<Name>,
    /// issuerSerial: the serial number, if present.
    pub serial_number: Option<SerialNumber>,
}

/// `ESSCertID` (RFC 2634 §5.4.1): SHA-1 certHash and an optional issuerSerial.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV1 {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificate` (RFC 2634 §5.4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV1 {
    certs: Vec<EssCertIdV1>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// A SignedData with its one signer info read out, as [`parse_signed_data`] gives it; check
/// it with [`verify_signer_info`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignedData {
    /// All X.509 certificates carried (RFC 5652 §5.1) that decode, in the order received.
    pub certificates: Vec<Certificate>,
    /// CRLs carried (DER).
    pub crls: Vec<Vec<u8>>,
    /// The certificate matching the SignerInfo's sid (§5.3), if carried.
    pub signer_certificate: Option<Certificate>,
    /// SignerInfo digestAlgorithm OID.
    pub digest_algorithm: ObjectIdentifier,
    /// SignerInfo signatureAlgorithm OID.
    pub signature_algorithm: ObjectIdentifier,
    /// SignerInfo signatureAlgorithm with its parameters (RSASSA-PSS).
    pub signature_algorithm_id: AlgorithmIdentifierOwned,
    /// eContentType (§5.2).
    pub encap_content_type: ObjectIdentifier,
    /// eContent, if present (a time-stamp token's TSTInfo).
    pub econtent: Option<Vec<u8>>,
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
    /// signing-certificate-v2 or signing-certificate (v1), if present.
    pub ess_cert_id: Option<EssCertId>,
    /// The signing-time attribute (RFC 5652 §11.3), if present.
    pub signing_time: Option<time::OffsetDateTime>,
    /// The unsigned attributes (a signature time-stamp, RFC 3161 Appendix A).
    pub unsigned_attrs: Vec<RawAttribute>,
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

/// The single value of the signed attribute `oid`: `None` if absent, an error if repeated or
/// multi-valued (RFC 5652 §11).
fn single_value<'a>(
    si: &'a SignerInfoView,
    oid: ObjectIdentifier,
    label: &'static str,
) -> Result<Option<&'a [u8]>, CmsError> {
    let mut found = si.signed(oid);
    let Some(first) = found.next() else {
        return Ok(None);
    };
    match (found.next(), first.values.as_slice()) {
        (None, [one]) => Ok(Some(one.as_slice())),
        _ => Err(CmsError::BadAttribute(label)),
    }
}

/// The certificate a `sid` names (RFC 5652 §5.3).
fn find_signer(view: &SignedDataView, sid: &SignerId) -> Option<Certificate> {
    use der::Encode;
    use x509_cert::ext::pkix::SubjectKeyIdentifier;
    view.certificates
        .iter()
        .find(|c| match sid {
            SignerId::IssuerAndSerial { issuer_der, serial } => {
                let issuer_ok = c
                    .tbs_certificate
                    .issuer
                    .to_der()
                    .is_ok_and(|d| &d == issuer_der)
                    || parse::sid_issuer(issuer_der).is_some_and(|n| {
                        crate::pki::name::same_name(&n, &c.tbs_certificate.issuer)
                    });
                issuer_ok && c.tbs_certificate.serial_number == *serial
            }
            SignerId::SubjectKeyId(ski) => matches!(
                c.tbs_certificate.get::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own.0.as_bytes() == ski.as_slice()
            ),
        })
        .cloned()
}

/// The signing-certificate(-v2) attribute's first certificate id.
fn ess_cert_id(si: &SignerInfoView) -> Result<Option<EssCertId>, CmsError> {
    let issuer_of = |is: Option<IssuerSerial>| match is {
        Some(is) => (
            is.issuer.into_iter().find_map(|g| match g {
                GeneralName::DirectoryName(n) => Some(n),
                _ => None,
            }),
            Some(is.serial_number),
        ),
        None => (None, None),
    };
    if let Some(value) = single_value(si, ID_SIGNING_CERTIFICATE_V2, "signing-certificate-v2")? {
        let ess = SigningCertificateV2::from_der(value)
            .map_err(|_| CmsError::BadAttribute("signing-certificate-v2"))?;
        let first = ess
            .certs
            .into_iter()
            .next()
            .ok_or(CmsError::BadAttribute("signing-certificate-v2"))?;
        let (issuer, serial_number) = issuer_of(first.issuer_serial);
        return Ok(Some(EssCertId {
            version: 2,
            hash_algorithm: first.hash_algorithm.map_or(ID_SHA256, |a| a.oid),
            cert_hash: first.cert_hash.into_bytes(),
            issuer,
            serial_number,
        }));
    }
    if let Some(value) = single_value(si, ID_SIGNING_CERTIFICATE, "signing-certificate")? {
        let ess = SigningCertificateV1::from_der(value)
            .map_err(|_| CmsError::BadAttribute("signing-certificate"))?;
        let first = ess
            .certs
            .into_iter()
            .next()
            .ok_or(CmsError::BadAttribute("signing-certificate"))?;
        let (issuer, serial_number) = issuer_of(first.issuer_serial);
        return Ok(Some(EssCertId {
            version: 1,
            hash_algorithm: ID_SHA1,
            cert_hash: first.cert_hash.into_bytes(),
            issuer,
            serial_number,
        }));
    }
    Ok(None)
}

/// The signing-time attribute (RFC 5652 §11.3): UTCTime or GeneralizedTime.
fn signing_time(si: &SignerInfoView) -> Result<Option<time::OffsetDateTime>, CmsError> {
    let Some(value) = single_value(si, ID_SIGNING_TIME, "signing-time")? else {
        return Ok(None);
    };
    let t = x509_cert::time::Time::from_der(value)
        .map_err(|_| CmsError::BadAttribute("signing-time"))?;
    Ok(crate::pki::util::from_x509_time(&t))
}

/// Whether the attributes' encodings are in ascending order, as DER requires of a SET OF
/// (X.690 §11.6).
fn sorted_set(set_der: &[u8]) -> bool {
    let Ok((set, _)) = parse::one(set_der) else {
        return false;
    };
    let Ok(items) = parse::elements(set.value) else {
        return false;
    };
    items.windows(2).all(|w| match w {
        [a, b] => a.raw <= b.raw,
        _ => true,
    })
}

/// Reads a DER CMS ContentInfo with SignedData (RFC 5652 §3, §5) with exactly one SignerInfo
/// and its signed attributes (one content-type, one message-digest, §11). No trailing bytes
/// (use [`trim_der_padding`] first for PDF `/Contents`). Hostile input gives an error, never a
/// panic.
///
/// # Errors
/// See [`CmsError`].
pub fn parse_signed_data(der: &[u8]) -> Result<ParsedSignedData, CmsError> {
    let view = read_signed_data(der)?;
    let si = match view.signer_infos.as_slice() {
        [one] => one,
        other => return Err(CmsError::SignerInfoCount(other.len())),
    };
    let signed_attrs_der = si
        .signed_attrs_der
        .clone()
        .ok_or(CmsError::MissingSignedAttributes)?;
    let message_digest = single_value(si, ID_MESSAGE_DIGEST, "message-digest")?
        .ok_or(CmsError::BadAttribute("message-digest"))?;
    let message_digest = OctetString::from_der(message_digest)
        .map_err(|_| CmsError::BadAttribute("message-digest"))?
        .into_bytes();
    let content_type = single_value(si, ID_CONTENT_TYPE, "content-type")?
        .ok_or(CmsError::BadAttribute("content-type"))?;
    let content_type = ObjectIdentifier::from_der(content_type)
        .map_err(|_| CmsError::BadAttribute("content-type"))?;
    Ok(ParsedSignedData {
        signer_certificate: find_signer(&view, &si.sid),
        digest_algorithm: si.digest_algorithm.oid,
        signature_algorithm: si.signature_algorithm.oid,
        signature_algorithm_id: si.signature_algorithm.clone(),
        encap_content_type: view.econtent_type,
        detached: view.econtent.is_none(),
        content_type_matches: content_type == view.econtent_type,
        message_digest,
        signed_attrs_canonical: sorted_set(&signed_attrs_der),
        signed_attrs_der,
        signature: si.signature.clone(),
        ess_cert_id: ess_cert_id(si)?,
        signing_time: signing_time(si)?,
        unsigned_attrs: si.unsigned_attrs.clone(),
        econtent: view.econtent.clone(),
        certificates: view.certificates,
        crls: view.crls,
    })
}

impl ParsedSignedData {
    /// The digest algorithm, if supported.
    pub fn digest(&self) -> Option<HashAlg> {
        HashAlg::from_oid(&self.digest_algorithm)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::pki::util::ed25519_algorithm;
    use crate::pki::{CaSubject, LeaderSubject, create_ca_certificate, issue_leader_certificate};
    use ::cms::cert::CertificateChoices;
    use ::cms::content_info::{CmsVersion, ContentInfo};
    use ::cms::signed_data::{CertificateSet, SignedAttributes, SignedData, SignerIdentifier};
    use der::AnyRef;
    use der::asn1::SetOfVec;
    use sha2::{Digest, Sha256, Sha512};

    const PADES: Profile = Profile {
        pades: true,
        encapsulated: None,
    };
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
        let check = verify_signer_info(&parsed, PADES);
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
        let sha512 = spki::AlgorithmIdentifierOwned {
            oid: ID_SHA512,
            parameters: None,
        };
        assert_eq!(
            sd.digest_algorithms.as_slice(),
            std::slice::from_ref(&sha512)
        );
        assert!(sd.encap_content_info.econtent.is_none());
        assert!(sd.crls.is_none());
        let si = &sd.signer_infos.0.as_slice()[0];
        assert_eq!(si.version, CmsVersion::V1);
        assert!(matches!(si.sid, SignerIdentifier::IssuerAndSerialNumber(_)));
        assert_eq!(si.signature_algorithm, ed25519_algorithm());
        assert_eq!(si.digest_alg, sha512);
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
        let check = verify_signer_info(&bad, PADES);
        assert!(!check.signature_valid);
        assert!(check.problems.contains(&CmsProblem::BadSignature));
        // Flip a byte of the message digest inside the encoded CMS.
        let md = digest(b"x");
        let pos = der.windows(64).position(|w| w == md).unwrap();
        let mut tampered = der.clone();
        tampered[pos] ^= 0xff;
        let check = verify_signer_info(&parse_signed_data(&tampered).unwrap(), PADES);
        assert!(!check.signature_valid);
    }

    #[test]
    fn signing_certificate_attribute_for_another_cert_is_a_mismatch() {
        let leader = leader_cert();
        // Attributes name the CA certificate, but the leader signs.
        let attrs = signed_attributes_der(&digest(b"x"), &ca_cert()).unwrap();
        let sig = leader_key().sign(&attrs).to_bytes();
        let der = build_signed_data(&attrs, &sig, &leader, &[]).unwrap();
        let check = verify_signer_info(&parse_signed_data(&der).unwrap(), PADES);
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
        let check = verify_signer_info(&parsed, PADES);
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
                    let _ = verify_signer_info(&p, PADES);
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
