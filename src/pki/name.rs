//! Distinguished names: building UTF8String RDNs and reading them back
//! robustly (RFC 5280 §4.1.2.4, Appendix A.1).

use der::asn1::SetOfVec;
use der::{Any, Encode, Tag, Tagged};
use serde::{Deserialize, Serialize};
use spki::ObjectIdentifier;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RelativeDistinguishedName};

use super::PkiError;

pub(crate) const OID_CN: ObjectIdentifier = const_oid::db::rfc4519::CN;
pub(crate) const OID_TITLE: ObjectIdentifier = const_oid::db::rfc4519::TITLE;
pub(crate) const OID_O: ObjectIdentifier = const_oid::db::rfc4519::O;
pub(crate) const OID_OU: ObjectIdentifier = const_oid::db::rfc4519::OU;

/// Longest accepted attribute value, in characters. RFC 5280 Appendix A.1
/// suggests 64 for CN/O/OU/title; Vietnamese unit names can be longer, so we
/// are more lenient but still bounded.
pub(crate) const MAX_ATTR_CHARS: usize = 256;

/// Check a value before it goes into a DN.
pub(crate) fn check_value(field: &'static str, value: &str) -> Result<(), PkiError> {
    if value.trim().is_empty() {
        return Err(PkiError::Name {
            field,
            reason: "must not be empty",
        });
    }
    if value.chars().count() > MAX_ATTR_CHARS {
        return Err(PkiError::Name {
            field,
            reason: "longer than 256 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(PkiError::Name {
            field,
            reason: "contains control characters",
        });
    }
    Ok(())
}

/// Build a Name with one single-valued RDN per part, values as UTF8String
/// (RFC 5280 §4.1.2.6: UTF8String for DirectoryString).
pub(crate) fn build_name(parts: &[(ObjectIdentifier, &str)]) -> Result<Name, PkiError> {
    let mut rdns = Vec::with_capacity(parts.len());
    for (oid, value) in parts {
        let atv = AttributeTypeAndValue {
            oid: *oid,
            value: Any::new(Tag::Utf8String, value.as_bytes())?,
        };
        rdns.push(RelativeDistinguishedName(SetOfVec::try_from(vec![atv])?));
    }
    Ok(x509_cert::name::RdnSequence(rdns))
}

/// Decode a DirectoryString-like value: UTF8String, PrintableString,
/// IA5String, BMPString (UCS-2), TeletexString (read as Latin-1)
/// (RFC 5280 §4.1.2.4). Never panics; unknown encodings give `None`.
pub(crate) fn directory_string(value: &Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String => core::str::from_utf8(bytes).ok().map(str::to_owned),
        Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            if bytes.is_ascii() {
                core::str::from_utf8(bytes).ok().map(str::to_owned)
            } else {
                None
            }
        }
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| match c {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => 0,
                })
                .collect::<Vec<u16>>();
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// First value of an attribute type in a Name, decoded as text.
pub(crate) fn name_attr(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| directory_string(&atv.value))
}

/// Human label for a Name: its CN, else the RFC 4514 string.
pub(crate) fn name_label(name: &Name) -> String {
    name_attr(name, OID_CN).unwrap_or_else(|| name.to_string())
}

/// Byte-wise Name comparison of the DER encodings (stricter than RFC 5280
/// §7.1; our issuers copy the CA subject byte for byte).
pub(crate) fn same_name(a: &Name, b: &Name) -> bool {
    match (a.to_der(), b.to_der()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The DN fields this project uses, read from any Name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameFields {
    /// commonName (2.5.4.3).
    pub common_name: Option<String>,
    /// title (2.5.4.12).
    pub title: Option<String>,
    /// organizationName (2.5.4.10): the unit name.
    pub organization: Option<String>,
    /// organizationalUnitName (2.5.4.11): the unit id, e.g. "U07".
    pub organizational_unit: Option<String>,
}

impl NameFields {
    /// Read CN, title, O and OU from a Name (RFC 5280 §4.1.2.6).
    pub fn from_name(name: &Name) -> Self {
        Self {
            common_name: name_attr(name, OID_CN),
            title: name_attr(name, OID_TITLE),
            organization: name_attr(name, OID_O),
            organizational_unit: name_attr(name, OID_OU),
        }
    }
}
