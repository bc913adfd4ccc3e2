//! RFC 3161 time-stamping: requests, responses and tokens (`TSTInfo` in a CMS SignedData).
//!
//! - [`TimeStampRequest`] and [`TstInfo`] encode and decode (RFC 3161 §2.4.1, §2.4.2). The
//!   `genTime` of a token is read leniently (fractional seconds of any length, as real TSAs
//!   send: Microsoft's carries milliseconds, certomancer's microseconds), which der's
//!   `GeneralizedTime` refuses.
//! - [`authority::Authority`] is the built-in time-stamping unit (ECDSA P-256, critical EKU
//!   timeStamping, whole-second `genTime`, nonce echoed).
//! - [`check_token`] validates any token: content type, CMS signature and ESS
//!   signing-certificate(-v2), the message imprint over the expected data, the TSA
//!   certificate's EKU and its chain at `genTime`.
//! - [`client::RemoteTsa`] asks an external TSA over HTTP (RFC 3161 §3.4) and checks the
//!   token before anyone uses it.

pub mod authority;
mod check;
pub mod client;
mod stamper;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;

use crate::pki::alg::HashAlg;
use crate::pki::tlv::{self, DerError, Tlv, elements, encode, one, unsigned_integer};

pub use authority::Authority;
pub use check::{TokenCheck, TokenProblem, TokenTrust, check_token};
pub use client::RemoteTsa;
pub use stamper::Stamper;

/// `id-ct-TSTInfo` (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-aa-signatureTimeStampToken`, the unsigned attribute of a signature time-stamp (RFC 3161
/// Appendix A; ETSI EN 319 122-1 §5.3).
pub const ID_AA_SIGNATURE_TIME_STAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// The built-in TSA's default policy (an OID under the UUID arc `2.25`, ITU-T X.667): it names
/// no published policy. A bloc with a policy of its own sets it (`serve --tsa-policy`).
pub const DEFAULT_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.25.3161.1");

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const GENERALIZED_TIME: u8 = 0x18;
const CTX0: u8 = 0xA0;
const CTX1: u8 = 0xA1;
const CTX0_PRIMITIVE: u8 = 0x80;
const CTX1_PRIMITIVE: u8 = 0x81;

/// Why a time-stamp request, response or token could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TspError {
    /// DER encoding or decoding failed.
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    /// An element cannot be read.
    #[error("{0}")]
    Element(#[from] DerError),
    /// A part is missing or has the wrong type.
    #[error("malformed {0}")]
    Structure(&'static str),
    /// `genTime` is not a GeneralizedTime in UTC.
    #[error("genTime is not a UTC GeneralizedTime")]
    Time,
    /// The TSA refused (PKIStatus 2-5, RFC 3161 §2.4.2).
    #[error("the TSA refused: status {status}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Refused {
        /// PKIStatus.
        status: u8,
        /// statusString, if any.
        text: Option<String>,
    },
    /// The token failed its checks.
    #[error("time-stamp token rejected: {0}")]
    Rejected(String),
    /// The TSA could not be reached or answered badly.
    #[error("TSA {url}: {error}")]
    Transport {
        /// Where.
        url: String,
        /// What happened.
        error: String,
    },
    /// The TSA's key or certificate is unusable.
    #[error("TSA key or certificate: {0}")]
    Setup(String),
    /// Building the CMS failed.
    #[error("CMS: {0}")]
    Cms(#[from] crate::cms::CmsError),
}

/// `MessageImprint` (RFC 3161 §2.4.1): a hash algorithm and the hash of the time-stamped data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageImprint {
    /// `hashAlgorithm`.
    pub hash_oid: ObjectIdentifier,
    /// `hashedMessage`.
    pub digest: Vec<u8>,
}

impl MessageImprint {
    /// The imprint of `data` with `hash`.
    pub fn of(hash: HashAlg, data: &[u8]) -> MessageImprint {
        MessageImprint {
            hash_oid: hash.oid(),
            digest: hash.digest(data),
        }
    }

    /// The hash algorithm, if giaouoc computes it.
    pub fn hash(&self) -> Option<HashAlg> {
        HashAlg::from_oid(&self.hash_oid)
    }

    fn to_der(&self) -> Result<Vec<u8>, TspError> {
        let alg = AlgorithmIdentifierOwned {
            oid: self.hash_oid,
            parameters: None,
        }
        .to_der()?;
        Ok(encode(
            SEQUENCE,
            &[alg, encode(OCTET_STRING, &self.digest)].concat(),
        ))
    }

    fn read(t: &Tlv<'_>) -> Result<MessageImprint, TspError> {
        if t.tag != SEQUENCE {
            return Err(TspError::Structure("messageImprint"));
        }
        match elements(t.value)?.as_slice() {
            [alg, hashed] if alg.tag == SEQUENCE && hashed.tag == OCTET_STRING => {
                Ok(MessageImprint {
                    hash_oid: AlgorithmIdentifierOwned::from_der(alg.raw)?.oid,
                    digest: hashed.value.to_vec(),
                })
            }
            _ => Err(TspError::Structure("messageImprint")),
        }
    }
}

/// `TimeStampReq` (RFC 3161 §2.4.1), version 1, without extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    /// What to time-stamp.
    pub imprint: MessageImprint,
    /// `reqPolicy`.
    pub policy: Option<ObjectIdentifier>,
    /// `nonce`: the unsigned big-endian value, minimal.
    pub nonce: Option<Vec<u8>>,
    /// `certReq`: the TSA's certificate must be in the token.
    pub cert_req: bool,
}

impl TimeStampRequest {
    /// A request for `imprint` with `nonce` (RFC 3161 §2.4.1: a large random number), asking
    /// for the TSA's certificate.
    pub fn new(imprint: MessageImprint, nonce: &[u8]) -> TimeStampRequest {
        TimeStampRequest {
            imprint,
            policy: None,
            nonce: Some(crate::pki::util::strip_leading_zeros(nonce).to_vec()),
            cert_req: true,
        }
    }

    /// DER.
    ///
    /// # Errors
    /// Encoding failures only.
    pub fn to_der(&self) -> Result<Vec<u8>, TspError> {
        let mut content = encode(INTEGER, &[1]);
        content.extend(self.imprint.to_der()?);
        if let Some(p) = &self.policy {
            content.extend(p.to_der()?);
        }
        if let Some(n) = &self.nonce {
            content.extend(encode(INTEGER, &unsigned_integer(n)));
        }
        if self.cert_req {
            content.extend(encode(BOOLEAN, &[0xFF]));
        }
        Ok(encode(SEQUENCE, &content))
    }

    /// Reads a DER request (extensions are refused: none is defined that giaouoc honours).
    ///
    /// # Errors
    /// Anything that is not a version 1 `TimeStampReq`.
    pub fn from_der(bytes: &[u8]) -> Result<TimeStampRequest, TspError> {
        let (req, rest) = one(bytes)?;
        if req.tag != SEQUENCE || !rest.is_empty() {
            return Err(TspError::Structure("TimeStampReq"));
        }
        let items = elements(req.value)?;
        let mut it = items.iter().peekable();
        match it.next() {
            Some(v) if v.tag == INTEGER && v.value == [1] => {}
            _ => return Err(TspError::Structure("TimeStampReq version")),
        }
        let imprint =
            MessageImprint::read(it.next().ok_or(TspError::Structure("messageImprint"))?)?;
        let mut out = TimeStampRequest {
            imprint,
            policy: None,
            nonce: None,
            cert_req: false,
        };
        if let Some(t) = it.next_if(|t| t.tag == OID) {
            out.policy = Some(ObjectIdentifier::from_der(t.raw)?);
        }
        if let Some(t) = it.next_if(|t| t.tag == INTEGER) {
            out.nonce = Some(read_unsigned(t, "nonce")?);
        }
        if let Some(t) = it.next_if(|t| t.tag == BOOLEAN) {
            out.cert_req = match t.value {
                [0xFF] => true,
                [0x00] => false,
                _ => return Err(TspError::Structure("certReq")),
            };
        }
        if it.next().is_some() {
            return Err(TspError::Structure("TimeStampReq extensions"));
        }
        Ok(out)
    }
}

/// A non-negative INTEGER's value, minimal big-endian.
fn read_unsigned(t: &Tlv<'_>, what: &'static str) -> Result<Vec<u8>, TspError> {
    match t.value.first() {
        None => Err(TspError::Structure(what)),
        Some(b) if b & 0x80 != 0 => Err(TspError::Structure(what)),
        Some(_) => Ok(crate::pki::util::strip_leading_zeros(t.value).to_vec()),
    }
}

/// `TSTInfo` (RFC 3161 §2.4.2), as read from a token or written by the built-in TSA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// `policy`.
    pub policy: ObjectIdentifier,
    /// `messageImprint`.
    pub imprint: MessageImprint,
    /// `serialNumber`, minimal big-endian.
    pub serial: Vec<u8>,
    /// `genTime`.
    pub gen_time: OffsetDateTime,
    /// `accuracy`, in microseconds, if given.
    pub accuracy_micros: Option<u64>,
    /// `nonce`, minimal big-endian, if given.
    pub nonce: Option<Vec<u8>>,
}

impl TstInfo {
    /// DER, `genTime` in whole seconds (RFC 3161 §2.4.2; the fraction is dropped).
    ///
    /// # Errors
    /// A time outside GeneralizedTime's range.
    pub fn to_der(&self) -> Result<Vec<u8>, TspError> {
        let t = self.gen_time.to_offset(time::UtcOffset::UTC);
        let text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        if text.len() != 15 {
            return Err(TspError::Time);
        }
        let mut content = encode(INTEGER, &[1]);
        content.extend(self.policy.to_der()?);
        content.extend(self.imprint.to_der()?);
        content.extend(encode(INTEGER, &unsigned_integer(&self.serial)));
        content.extend(encode(GENERALIZED_TIME, text.as_bytes()));
        if let Some(n) = &self.nonce {
            content.extend(encode(INTEGER, &unsigned_integer(n)));
        }
        Ok(encode(SEQUENCE, &content))
    }

    /// Reads a DER `TSTInfo`; `genTime` leniently (see the module documentation).
    ///
    /// # Errors
    /// A structure that is not a version 1 `TSTInfo`.
    pub fn from_der(bytes: &[u8]) -> Result<TstInfo, TspError> {
        let (info, rest) = one(bytes)?;
        if info.tag != SEQUENCE || !rest.is_empty() {
            return Err(TspError::Structure("TSTInfo"));
        }
        let items = elements(info.value)?;
        let mut it = items.iter().peekable();
        match it.next() {
            Some(v) if v.tag == INTEGER && v.value == [1] => {}
            _ => return Err(TspError::Structure("TSTInfo version")),
        }
        let policy = match it.next() {
            Some(t) if t.tag == OID => ObjectIdentifier::from_der(t.raw)?,
            _ => return Err(TspError::Structure("policy")),
        };
        let imprint =
            MessageImprint::read(it.next().ok_or(TspError::Structure("messageImprint"))?)?;
        let serial = match it.next() {
            Some(t) if t.tag == INTEGER => read_unsigned(t, "serialNumber")?,
            _ => return Err(TspError::Structure("serialNumber")),
        };
        let gen_time = match it.next() {
            Some(t) if t.tag == GENERALIZED_TIME => {
                parse_generalized_time(t.value).ok_or(TspError::Time)?
            }
            _ => return Err(TspError::Time),
        };
        let mut out = TstInfo {
            policy,
            imprint,
            serial,
            gen_time,
            accuracy_micros: None,
            nonce: None,
        };
        if let Some(t) = it.next_if(|t| t.tag == SEQUENCE) {
            out.accuracy_micros = Some(accuracy(t)?);
        }
        if let Some(t) = it.next_if(|t| t.tag == BOOLEAN)
            && t.value.len() != 1
        {
            return Err(TspError::Structure("ordering"));
        }
        if let Some(t) = it.next_if(|t| t.tag == INTEGER) {
            out.nonce = Some(read_unsigned(t, "nonce")?);
        }
        let _tsa = it.next_if(|t| t.tag == CTX0);
        let _extensions = it.next_if(|t| t.tag == CTX1);
        if it.next().is_some() {
            return Err(TspError::Structure("TSTInfo"));
        }
        Ok(out)
    }
}

/// `Accuracy` (RFC 3161 §2.4.2) in microseconds.
fn accuracy(t: &Tlv<'_>) -> Result<u64, TspError> {
    let mut micros: u64 = 0;
    for part in elements(t.value)? {
        let value = part
            .value
            .iter()
            .try_fold(0u64, |acc, b| {
                acc.checked_mul(256)?.checked_add(u64::from(*b))
            })
            .ok_or(TspError::Structure("accuracy"))?;
        let scale = match part.tag {
            INTEGER => 1_000_000,
            CTX0_PRIMITIVE => 1_000,
            CTX1_PRIMITIVE => 1,
            _ => return Err(TspError::Structure("accuracy")),
        };
        micros = value
            .checked_mul(scale)
            .and_then(|v| micros.checked_add(v))
            .ok_or(TspError::Structure("accuracy"))?;
    }
    Ok(micros)
}

/// A GeneralizedTime in UTC, `YYYYMMDDHHMMSS[.f…]Z` (X.680 §46), with a fraction of any length
/// (its digits beyond nanoseconds ignored). The strict DER form (ITU-T X.690 §11.7) forbids
/// trailing zeros in the fraction; TSAs send them anyway, so they are accepted.
pub fn parse_generalized_time(text: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(text).ok()?;
    let body = text.strip_suffix('Z')?;
    let (whole, fraction) = match body.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |from: usize, to: usize| whole.get(from..to)?.parse::<u32>().ok();
    let year = i32::try_from(num(0, 4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4, 6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(num(6, 8)?).ok()?).ok()?;
    let mut nanos: u32 = 0;
    if let Some(f) = fraction {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut digits: String = f.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().ok()?;
    }
    let t = time::Time::from_hms_nano(
        u8::try_from(num(8, 10)?).ok()?,
        u8::try_from(num(10, 12)?).ok()?,
        u8::try_from(num(12, 14)?).ok()?,
        nanos,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

/// `PKIStatus` values (RFC 3161 §2.4.2).
pub mod status {
    /// `granted`.
    pub const GRANTED: u8 = 0;
    /// `grantedWithMods`.
    pub const GRANTED_WITH_MODS: u8 = 1;
    /// `rejection`.
    pub const REJECTION: u8 = 2;
}

/// `PKIFailureInfo` bits (RFC 3161 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    /// `badAlg` (0): unrecognized or unsupported algorithm.
    BadAlg = 0,
    /// `badRequest` (2): transaction not permitted or supported.
    BadRequest = 2,
    /// `badDataFormat` (5): the data submitted has the wrong format.
    BadDataFormat = 5,
    /// `unacceptedPolicy` (15): the requested policy is not supported.
    UnacceptedPolicy = 15,
    /// `systemFailure` (25): the request cannot be handled due to system failure.
    SystemFailure = 25,
}

/// `TimeStampResp` granting `token` (RFC 3161 §2.4.2).
pub fn response_granted(token: &[u8]) -> Vec<u8> {
    let status = encode(SEQUENCE, &encode(INTEGER, &[status::GRANTED]));
    encode(SEQUENCE, &[status, token.to_vec()].concat())
}

/// `TimeStampResp` rejecting a request with `fail` and a text (RFC 3161 §2.4.2).
pub fn response_rejected(fail: FailInfo, text: &str) -> Vec<u8> {
    let bit = fail as usize;
    let mut bits = vec![0u8; bit / 8 + 1];
    if let Some(b) = bits.get_mut(bit / 8) {
        *b |= 0x80 >> (bit % 8);
    }
    let unused = u8::try_from(7 - bit % 8).unwrap_or(0);
    let status = [
        encode(INTEGER, &[status::REJECTION]),
        encode(SEQUENCE, &encode(0x0C, text.as_bytes())),
        encode(0x03, &[&[unused][..], &bits].concat()),
    ]
    .concat();
    encode(SEQUENCE, &encode(SEQUENCE, &status))
}

/// The token of a `TimeStampResp` (status granted or grantedWithMods), as received.
///
/// # Errors
/// [`TspError::Refused`] for any other status; a structure error otherwise.
pub fn token_from_response(bytes: &[u8]) -> Result<Vec<u8>, TspError> {
    let (resp, rest) = one(bytes)?;
    if resp.tag != SEQUENCE || !rest.is_empty() {
        return Err(TspError::Structure("TimeStampResp"));
    }
    let items = elements(resp.value)?;
    let status_info = match items.first() {
        Some(t) if t.tag == SEQUENCE => elements(t.value)?,
        _ => return Err(TspError::Structure("PKIStatusInfo")),
    };
    let status = match status_info.first() {
        Some(t) if t.tag == INTEGER => match t.value {
            [s] => *s,
            _ => return Err(TspError::Structure("PKIStatus")),
        },
        _ => return Err(TspError::Structure("PKIStatus")),
    };
    if status != status::GRANTED && status != status::GRANTED_WITH_MODS {
        let text = status_info
            .get(1)
            .filter(|t| t.tag == SEQUENCE)
            .and_then(|t| tlv::elements(t.value).ok())
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| String::from_utf8_lossy(p.value).into_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            });
        return Err(TspError::Refused { status, text });
    }
    match items.as_slice() {
        [_, token] if token.tag == SEQUENCE => Ok(token.raw.to_vec()),
        _ => Err(TspError::Structure("timeStampToken")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
