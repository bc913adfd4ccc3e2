//! Shared helpers: times, serials, Ed25519 algorithm identifiers, key ids.

use core::time::Duration;

use der::asn1::{BitString, GeneralizedTime, OctetString, UtcTime};
use der::{Decode, Encode, Header, Reader, SliceReader, Tag};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use super::PkiError;

/// `id-Ed25519` (RFC 8410 §3).
pub(crate) const ID_ED25519: ObjectIdentifier = const_oid::db::rfc8410::ID_ED_25519;

/// Lowercase hex.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&d) = DIGITS.get(usize::from(nibble)) {
                out.push(char::from(d));
            }
        }
    }
    out
}

/// Serial number as lowercase hex without leading zero octets (RFC 5280 §4.1.2.2).
pub fn serial_hex(serial: &SerialNumber) -> String {
    let stripped = strip_leading_zeros(serial.as_bytes());
    if stripped.is_empty() {
        "0".to_owned()
    } else {
        hex_lower(stripped)
    }
}

pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or(&[])
}

/// Positive serial number from a `u64` (RFC 5280 §4.1.2.2: positive INTEGER;
/// a high bit gets a leading 0x00 octet in DER).
pub(crate) fn serial_from_u64(serial: u64) -> Result<SerialNumber, PkiError> {
    if serial == 0 {
        return Err(PkiError::Serial("serial number must be positive".into()));
    }
    Ok(SerialNumber::new(&serial.to_be_bytes())?)
}

/// `AlgorithmIdentifier` for Ed25519 with parameters absent (RFC 8410 §3).
pub(crate) fn ed25519_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_ED25519,
        parameters: None,
    }
}

/// True if the identifier is exactly `id-Ed25519` with absent parameters (RFC 8410 §3).
pub(crate) fn is_ed25519(alg: &AlgorithmIdentifierOwned) -> bool {
    alg.oid == ID_ED25519 && alg.parameters.is_none()
}

/// SubjectPublicKeyInfo for an Ed25519 key (RFC 8410 §4).
pub(crate) fn ed25519_spki(key: &VerifyingKey) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: ed25519_algorithm(),
        subject_public_key: BitString::from_bytes(key.as_bytes())?,
    })
}

/// Ed25519 key from a SubjectPublicKeyInfo (RFC 8410 §4).
pub(crate) fn key_from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<VerifyingKey, PkiError> {
    if spki.algorithm.oid != ID_ED25519 {
        return Err(PkiError::NotEd25519PublicKey(format!(
            "algorithm is {}, expected id-Ed25519 1.3.101.112",
            spki.algorithm.oid
        )));
    }
    if spki.algorithm.parameters.is_some() {
        return Err(PkiError::NotEd25519PublicKey(
            "id-Ed25519 parameters must be absent".into(),
        ));
    }
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::NotEd25519PublicKey("bit string has unused bits".into()))?;
    let arr: &[u8; 32] = bytes
        .try_into()
        .map_err(|_| PkiError::NotEd25519PublicKey("key is not 32 bytes".into()))?;
    VerifyingKey::from_bytes(arr)
        .map_err(|_| PkiError::NotEd25519PublicKey("not a valid Edwards point".into()))
}

/// The Ed25519 public key of a certificate (RFC 8410 §4).
pub fn certificate_verifying_key(cert: &Certificate) -> Result<VerifyingKey, PkiError> {
    key_from_spki(&cert.tbs_certificate.subject_public_key_info)
}

/// Verify an Ed25519 signature carried in a BIT STRING (RFC 8410 §6).
pub(crate) fn verify_ed25519(key: &VerifyingKey, message: &[u8], signature: &BitString) -> bool {
    let Some(bytes) = signature.as_bytes() else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(bytes) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}

/// Sign with Ed25519 and wrap the 64 bytes in a BIT STRING (RFC 8410 §6).
pub(crate) fn sign_to_bitstring(key: &SigningKey, message: &[u8]) -> Result<BitString, PkiError> {
    use ed25519_dalek::Signer;
    let sig = key.sign(message);
    Ok(BitString::from_bytes(&sig.to_bytes())?)
}

/// Build an extension from a DER-encodable value (RFC 5280 §4.1).
pub(crate) fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// Convert to X.509 `Time`: UTCTime through 2049, GeneralizedTime from 2050
/// (RFC 5280 §4.1.2.5). Sub-second precision is truncated.
pub(crate) fn to_x509_time(t: OffsetDateTime) -> Result<Time, PkiError> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| PkiError::Validity(format!("{t} is before 1970")))?;
    let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|_| PkiError::Validity(format!("{t} is out of range")))?;
    if dt.year() < 2050 {
        Ok(Time::UtcTime(UtcTime::from_date_time(dt)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(dt)))
    }
}

/// Convert an X.509 `Time` to `OffsetDateTime` (RFC 5280 §4.1.2.5).
pub(crate) fn from_x509_time(t: &Time) -> Option<OffsetDateTime> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// RFC 3339 text for reports; falls back to the ASN.1 time text.
pub(crate) fn time_text(t: &Time) -> String {
    from_x509_time(t)
        .and_then(|dt| rfc3339(dt).ok())
        .unwrap_or_else(|| t.to_string())
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> Result<String, time::error::Format> {
    t.format(&time::format_description::well_known::Rfc3339)
}

/// The first element (TLV) inside an outer SEQUENCE, as the original bytes:
/// the to-be-signed part of a certificate, CRL or CSR (RFC 5280 §4.1, §5.1).
pub(crate) fn first_inner_tlv(der_bytes: &[u8]) -> Result<&[u8], der::Error> {
    let mut outer = SliceReader::new(der_bytes)?;
    let header = Header::decode(&mut outer)?;
    header.tag.assert_eq(Tag::Sequence)?;
    let body = outer.read_slice(header.length)?;
    outer.finish(())?;
    let mut inner = SliceReader::new(body)?;
    inner.tlv_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_before_2050_are_utctime_and_later_generalizedtime() {
        let t = to_x509_time(datetime!(2049-12-31 23:59:59 UTC)).unwrap();
        assert!(matches!(t, Time::UtcTime(_)));
        let t = to_x509_time(datetime!(2050-01-01 00:00:00 UTC)).unwrap();
        assert!(matches!(t, Time::GeneralTime(_)));
        assert_eq!(
            from_x509_time(&t).unwrap(),
            datetime!(2050-01-01 00:00:00 UTC)
        );
    }

    #[test]
    fn times_before_1970_are_rejected() {
        assert!(to_x509_time(datetime!(1969-12-31 23:59:59 UTC)).is_err());
    }

    #[test]
    fn serial_with_high_bit_is_encoded_positive_and_zero_is_rejected() {
        let s = serial_from_u64(u64::MAX).unwrap();
        let der = s.to_der().unwrap();
        assert_eq!(der.first(), Some(&0x02));
        assert_eq!(der.get(1), Some(&9));
        assert_eq!(der.get(2), Some(&0x00));
        assert_eq!(serial_hex(&s), "ffffffffffffffff");
        assert_eq!(serial_hex(&serial_from_u64(0x0102).unwrap()), "0102");
        assert!(serial_from_u64(0).is_err());
    }
}
