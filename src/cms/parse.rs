//! Reading a CMS `SignedData` (RFC 5652 §5) as other signers write it.
//!
//! The structure is read element by element with DER headers (definite, minimal lengths; BER is
//! refused) but without requiring `SET OF` elements to be in DER order: other signers do not
//! always sort the certificates or the attribute values, and the signature covers the signed
//! attributes exactly as received. Certificates are decoded one by one; a certificate that does
//! not decode is skipped (the signer's certificate then counts as missing). Every size is bounded
//! by the input; nothing recurses without a limit.

use der::Decode;
use der::asn1::ObjectIdentifier;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use super::{CmsError, ID_SIGNED_DATA};

pub(crate) use crate::pki::tlv::{Tlv, elements, one};

fn expect<'a>(
    items: &[Tlv<'a>],
    i: usize,
    tag: u8,
    what: &'static str,
) -> Result<Tlv<'a>, CmsError> {
    match items.get(i) {
        Some(t) if t.tag == tag => Ok(*t),
        _ => Err(CmsError::Structure(what)),
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
/// `[0]` constructed (EXPLICIT, or IMPLICIT over a constructed type).
const CTX0: u8 = 0xA0;
/// `[1]` constructed.
const CTX1: u8 = 0xA1;
/// `[0]` primitive (IMPLICIT OCTET STRING: a subject key identifier).
const CTX0_PRIMITIVE: u8 = 0x80;

/// How a signer info names its certificate (RFC 5652 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerId {
    /// `issuerAndSerialNumber`: the issuer's name as encoded, and the serial.
    IssuerAndSerial {
        /// The issuer Name, DER as received.
        issuer_der: Vec<u8>,
        /// The serial number.
        serial: SerialNumber,
    },
    /// `subjectKeyIdentifier`.
    SubjectKeyId(Vec<u8>),
}

/// An attribute: its type and each value's DER, as received (RFC 5652 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAttribute {
    /// `attrType`.
    pub oid: ObjectIdentifier,
    /// Each of `attrValues`, DER.
    pub values: Vec<Vec<u8>>,
}

/// One `SignerInfo` (RFC 5652 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfoView {
    /// `version`.
    pub version: u8,
    /// `sid`.
    pub sid: SignerId,
    /// `digestAlgorithm`.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// `signedAttrs` retagged as a SET (0x31): the bytes the signature covers (§5.4).
    pub signed_attrs_der: Option<Vec<u8>>,
    /// The signed attributes.
    pub signed_attrs: Vec<RawAttribute>,
    /// `signatureAlgorithm`.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// `signature`.
    pub signature: Vec<u8>,
    /// The unsigned attributes (e.g. a signature time-stamp).
    pub unsigned_attrs: Vec<RawAttribute>,
}

impl SignerInfoView {
    /// The values of the signed attribute `oid`.
    pub fn signed(&self, oid: ObjectIdentifier) -> impl Iterator<Item = &RawAttribute> {
        self.signed_attrs.iter().filter(move |a| a.oid == oid)
    }
}

/// A `SignedData` as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDataView {
    /// `digestAlgorithms`.
    pub digest_algorithms: Vec<AlgorithmIdentifierOwned>,
    /// `eContentType`.
    pub econtent_type: ObjectIdentifier,
    /// `eContent`, if present (a time-stamp token's TSTInfo; absent for detached signatures).
    pub econtent: Option<Vec<u8>>,
    /// The certificates that decode, in the order received.
    pub certificates: Vec<Certificate>,
    /// Each certificate's DER, parallel to `certificates`.
    pub certificate_ders: Vec<Vec<u8>>,
    /// `crls`: each `CertificateList` DER (other revocation formats are skipped).
    pub crls: Vec<Vec<u8>>,
    /// `signerInfos`.
    pub signer_infos: Vec<SignerInfoView>,
}

/// Reads a DER `ContentInfo` holding `SignedData` (RFC 5652 §3, §5.1); nothing may follow it.
///
/// # Errors
/// Not DER, not SignedData, a missing part, trailing bytes, too many elements.
pub fn read_signed_data(der: &[u8]) -> Result<SignedDataView, CmsError> {
    let (content_info, rest) = one(der)?;
    if !rest.is_empty() {
        return Err(CmsError::TrailingData);
    }
    if content_info.tag != SEQUENCE {
        return Err(CmsError::Structure("ContentInfo"));
    }
    let ci = elements(content_info.value)?;
    let content_type = oid(&expect(&ci, 0, OID, "contentType")?)?;
    if content_type != ID_SIGNED_DATA {
        return Err(CmsError::NotSignedData(content_type.to_string()));
    }
    let explicit = expect(&ci, 1, CTX0, "content")?;
    let (sd, rest) = one(explicit.value)?;
    if sd.tag != SEQUENCE || !rest.is_empty() || ci.len() != 2 {
        return Err(CmsError::Structure("SignedData"));
    }
    let items = elements(sd.value)?;
    expect(&items, 0, INTEGER, "SignedData version")?;
    let digest_algorithms = elements(expect(&items, 1, SET, "digestAlgorithms")?.value)?
        .iter()
        .map(algorithm)
        .collect::<Result<Vec<_>, _>>()?;
    let encap = elements(expect(&items, 2, SEQUENCE, "encapContentInfo")?.value)?;
    let econtent_type = oid(&expect(&encap, 0, OID, "eContentType")?)?;
    let econtent = match encap.get(1) {
        None => None,
        Some(t) if t.tag == CTX0 => {
            let (octets, rest) = one(t.value)?;
            if octets.tag != OCTET_STRING || !rest.is_empty() {
                return Err(CmsError::Structure("eContent"));
            }
            Some(octets.value.to_vec())
        }
        Some(_) => return Err(CmsError::Structure("eContent")),
    };
    let mut next = 3;
    let mut certificates = Vec::new();
    let mut certificate_ders = Vec::new();
    if let Some(t) = items.get(next).filter(|t| t.tag == CTX0) {
        for c in elements(t.value)?.iter().filter(|c| c.tag == SEQUENCE) {
            if let Ok(cert) = Certificate::from_der(c.raw) {
                certificates.push(cert);
                certificate_ders.push(c.raw.to_vec());
            }
        }
        next += 1;
    }
    let mut crls = Vec::new();
    if let Some(t) = items.get(next).filter(|t| t.tag == CTX1) {
        crls = elements(t.value)?
            .iter()
            .filter(|c| c.tag == SEQUENCE)
            .map(|c| c.raw.to_vec())
            .collect();
        next += 1;
    }
    let infos = expect(&items, next, SET, "signerInfos")?;
    if items.len() != next + 1 {
        return Err(CmsError::Structure("SignedData"));
    }
    let signer_infos = elements(infos.value)?
        .iter()
        .map(signer_info)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SignedDataView {
        digest_algorithms,
        econtent_type,
        econtent,
        certificates,
        certificate_ders,
        crls,
        signer_infos,
    })
}

fn oid(t: &Tlv<'_>) -> Result<ObjectIdentifier, CmsError> {
    Ok(ObjectIdentifier::from_der(t.raw)?)
}

fn algorithm(t: &Tlv<'_>) -> Result<AlgorithmIdentifierOwned, CmsError> {
    Ok(AlgorithmIdentifierOwned::from_der(t.raw)?)
}

fn attributes(value: &[u8]) -> Result<Vec<RawAttribute>, CmsError> {
    elements(value)?
        .iter()
        .map(|a| {
            if a.tag != SEQUENCE {
                return Err(CmsError::Structure("Attribute"));
            }
            let parts = elements(a.value)?;
            let oid = oid(&expect(&parts, 0, OID, "attrType")?)?;
            let values = elements(expect(&parts, 1, SET, "attrValues")?.value)?
                .iter()
                .map(|v| v.raw.to_vec())
                .collect();
            if parts.len() != 2 {
                return Err(CmsError::Structure("Attribute"));
            }
            Ok(RawAttribute { oid, values })
        })
        .collect()
}

fn signer_info(t: &Tlv<'_>) -> Result<SignerInfoView, CmsError> {
    if t.tag != SEQUENCE {
        return Err(CmsError::Structure("SignerInfo"));
    }
    let items = elements(t.value)?;
    let version = expect(&items, 0, INTEGER, "SignerInfo version")?;
    let version = match version.value {
        [v] => *v,
        _ => return Err(CmsError::Structure("SignerInfo version")),
    };
    let sid = match items.get(1) {
        Some(s) if s.tag == SEQUENCE => {
            let parts = elements(s.value)?;
            let issuer = expect(&parts, 0, SEQUENCE, "issuer")?;
            let serial = expect(&parts, 1, INTEGER, "serialNumber")?;
            SignerId::IssuerAndSerial {
                issuer_der: issuer.raw.to_vec(),
                serial: SerialNumber::from_der(serial.raw)?,
            }
        }
        Some(s) if s.tag == CTX0_PRIMITIVE => SignerId::SubjectKeyId(s.value.to_vec()),
        _ => return Err(CmsError::Structure("sid")),
    };
    let digest_algorithm = algorithm(&expect(&items, 2, SEQUENCE, "digestAlgorithm")?)?;
    let mut next = 3;
    let mut signed_attrs_der = None;
    let mut signed_attrs = Vec::new();
    if let Some(s) = items.get(next).filter(|s| s.tag == CTX0) {
        let mut der = s.raw.to_vec();
        if let Some(first) = der.first_mut() {
            *first = SET;
        }
        signed_attrs = attributes(s.value)?;
        signed_attrs_der = Some(der);
        next += 1;
    }
    let signature_algorithm = algorithm(&expect(&items, next, SEQUENCE, "signatureAlgorithm")?)?;
    let signature = expect(&items, next + 1, OCTET_STRING, "signature")?
        .value
        .to_vec();
    let mut unsigned_attrs = Vec::new();
    if let Some(u) = items.get(next + 2) {
        if u.tag != CTX1 {
            return Err(CmsError::Structure("unsignedAttrs"));
        }
        unsigned_attrs = attributes(u.value)?;
    }
    if items.len() > next + 3 {
        return Err(CmsError::Structure("SignerInfo"));
    }
    Ok(SignerInfoView {
        version,
        sid,
        digest_algorithm,
        signed_attrs_der,
        signed_attrs,
        signature_algorithm,
        signature,
        unsigned_attrs,
    })
}

/// The issuer Name of a `sid`, decoded, if it decodes.
pub(crate) fn sid_issuer(issuer_der: &[u8]) -> Option<Name> {
    Name::from_der(issuer_der).ok()
}
