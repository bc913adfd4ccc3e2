//! Adding an unsigned attribute to a signed CMS (RFC 5652 §5.3 `unsignedAttrs`), such as the
//! signature time-stamp of RFC 3161 Appendix A, without touching a byte the signature covers:
//! the structure is re-wrapped element by element, everything else copied as received.

use der::Encode;
use der::asn1::ObjectIdentifier;

use super::CmsError;
use crate::pki::tlv::{elements, encode as tlv, one};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const CTX0: u8 = 0xA0;
const CTX1: u8 = 0xA1;

/// `cms` (a DER ContentInfo with SignedData and one SignerInfo) with the unsigned attribute
/// `oid` = `value` (DER) added after those it already has.
///
/// # Errors
/// Not a ContentInfo with exactly one SignerInfo.
pub fn add_unsigned_attribute(
    cms: &[u8],
    oid: ObjectIdentifier,
    value: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let (ci, rest) = one(cms)?;
    if ci.tag != SEQUENCE || !rest.is_empty() {
        return Err(CmsError::Structure("ContentInfo"));
    }
    let ci_items = elements(ci.value)?;
    let (Some(content_type), Some(explicit), 2) =
        (ci_items.first(), ci_items.get(1), ci_items.len())
    else {
        return Err(CmsError::Structure("ContentInfo"));
    };
    if explicit.tag != CTX0 {
        return Err(CmsError::Structure("content"));
    }
    let (sd, rest) = one(explicit.value)?;
    if sd.tag != SEQUENCE || !rest.is_empty() {
        return Err(CmsError::Structure("SignedData"));
    }
    let sd_items = elements(sd.value)?;
    let Some((infos, before_infos)) = sd_items.split_last() else {
        return Err(CmsError::Structure("SignedData"));
    };
    if infos.tag != SET {
        return Err(CmsError::Structure("signerInfos"));
    }
    let si = match elements(infos.value)?.as_slice() {
        [si] if si.tag == SEQUENCE => *si,
        other => return Err(CmsError::SignerInfoCount(other.len())),
    };
    let si_items = elements(si.value)?;

    let attribute = tlv(SEQUENCE, &[oid.to_der()?, tlv(SET, value)].concat());
    let mut si_content: Vec<u8> = Vec::with_capacity(si.value.len() + attribute.len() + 8);
    match si_items.split_last() {
        Some((last, before)) if last.tag == CTX1 => {
            for item in before {
                si_content.extend_from_slice(item.raw);
            }
            si_content.extend(tlv(CTX1, &[last.value, &attribute].concat()));
        }
        _ => {
            si_content.extend_from_slice(si.value);
            si_content.extend(tlv(CTX1, &attribute));
        }
    }
    let mut sd_content = Vec::with_capacity(sd.value.len() + attribute.len() + 16);
    for item in before_infos {
        sd_content.extend_from_slice(item.raw);
    }
    sd_content.extend(tlv(SET, &tlv(SEQUENCE, &si_content)));
    let ci_content = [
        content_type.raw.to_vec(),
        tlv(CTX0, &tlv(SEQUENCE, &sd_content)),
    ]
    .concat();
    Ok(tlv(SEQUENCE, &ci_content))
}
