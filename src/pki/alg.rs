//! Signature algorithms: verifying a signature value with the key of a certificate, for CMS
//! signer infos (RFC 5652 §5.6), certificates and CRLs (RFC 5280 §4.1.1.2) alike.
//!
//! Supported: RSA PKCS#1 v1.5 (RFC 8017 §8.2, spelled `sha256WithRSAEncryption` & co. or bare
//! `rsaEncryption` with the hash from the CMS digest algorithm), RSASSA-PSS (RFC 8017 §8.1,
//! RFC 4056; MGF1 with the same hash), ECDSA on P-256 and P-384 (RFC 5758, DER signature
//! values; bare `id-ecPublicKey` is accepted as CMS signers write it), Ed25519 (RFC 8410,
//! RFC 8419). Hashes SHA-256/384/512 (FIPS 180-4). Anything else is [`AlgError::Unsupported`]:
//! recognised as "cannot judge", never as a bad signature.
//!
//! RSA keys are used for verification only (the `rsa` crate's signing is exposed to
//! RUSTSEC-2023-0071); keys from 1024 to 8192 bits are checked.

use std::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc8410};
use der::{Decode, Encode, Tagged};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::ecdsa::{self, Curve};
use super::rsassa;

/// Smallest and largest RSA modulus checked, in bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 1024..=8192;

/// A hash function (FIPS 180-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The hash named by `oid`, if supported.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<HashAlg> {
        match *oid {
            rfc5912::ID_SHA_256 => Some(HashAlg::Sha256),
            rfc5912::ID_SHA_384 => Some(HashAlg::Sha384),
            rfc5912::ID_SHA_512 => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// Its OID.
    pub const fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlg::Sha256 => rfc5912::ID_SHA_256,
            HashAlg::Sha384 => rfc5912::ID_SHA_384,
            HashAlg::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// The DER `DigestInfo` prefix before the hash value (RFC 8017 §9.2 note 1).
    pub const fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            HashAlg::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            HashAlg::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// The DER `DigestInfo` of `message` hashed with this hash (RFC 8017 §9.2 steps 1–2): what
    /// RSASSA-PKCS1-v1_5 pads and signs, e.g. with PKCS#11 `CKM_RSA_PKCS`.
    pub fn digest_info(self, message: &[u8]) -> Vec<u8> {
        let mut out = self.digest_info_prefix().to_vec();
        out.extend(self.digest(message));
        out
    }

    /// "SHA-256".
    pub const fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
        }
    }
}

/// A public key kind and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KeyKind {
    /// RSA with this many modulus bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// ECDSA on NIST P-256 (secp256r1).
    P256,
    /// ECDSA on NIST P-384 (secp384r1).
    P384,
    /// Ed25519.
    Ed25519,
}

/// A signature scheme as used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1v15 {
        /// The hash.
        hash: HashAlg,
    },
    /// RSASSA-PSS with MGF1.
    RsaPss {
        /// The hash (also MGF1's).
        hash: HashAlg,
        /// Salt length in bytes.
        salt_len: u16,
    },
    /// ECDSA.
    Ecdsa {
        /// The hash.
        hash: HashAlg,
    },
    /// PureEdDSA Ed25519.
    Ed25519,
}

/// What verified: the scheme and the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Algorithm {
    /// The scheme and its hash.
    #[serde(flatten)]
    pub scheme: Scheme,
    /// The key.
    pub key: KeyKind,
}

impl Algorithm {
    /// Listed for signing by Circular 15/2025/TT-BKHCN (as transcribed): RSA of at least 2048
    /// bits or ECDSA of at least 256 bits, with SHA-256 or stronger. Ed25519 is not listed.
    pub fn listed_for_vietnam(&self) -> bool {
        match (self.scheme, self.key) {
            (Scheme::RsaPkcs1v15 { .. } | Scheme::RsaPss { .. }, KeyKind::Rsa { bits }) => {
                bits >= 2048
            }
            (Scheme::Ecdsa { .. }, KeyKind::P256 | KeyKind::P384) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.key {
            KeyKind::Rsa { bits } => format!("RSA-{bits}"),
            KeyKind::P256 => "ECDSA P-256".to_owned(),
            KeyKind::P384 => "ECDSA P-384".to_owned(),
            KeyKind::Ed25519 => "Ed25519".to_owned(),
        };
        match self.scheme {
            Scheme::RsaPkcs1v15 { hash } => write!(f, "{key} PKCS#1 v1.5 {}", hash.name()),
            Scheme::RsaPss { hash, .. } => write!(f, "{key} PSS {}", hash.name()),
            Scheme::Ecdsa { hash } => write!(f, "{key} {}", hash.name()),
            Scheme::Ed25519 => f.write_str(&key),
        }
    }
}

/// Why a signature was not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgError {
    /// An algorithm, hash, curve or key size this verifier does not judge.
    #[error("unsupported algorithm {0}")]
    Unsupported(String),
    /// The key in the certificate cannot be read.
    #[error("the public key cannot be read: {0}")]
    BadKey(String),
    /// The signature does not verify (or is malformed).
    #[error("the signature does not verify")]
    BadSignature,
}

fn unsupported(what: impl fmt::Display) -> AlgError {
    AlgError::Unsupported(what.to_string())
}

/// How giaouoc has a key sign (PAdES B-B, ETSI EN 319 142-1 §6.3; hashes as ETSI TS 119 312
/// recommends): RSA PKCS#1 v1.5 with SHA-256 (what tokens and remote signing services in
/// Vietnam offer), ECDSA P-256 with SHA-256, P-384 with SHA-384, Ed25519 (RFC 8419: the
/// message digest is SHA-512). RSA keys under 2048 bits are refused.
///
/// # Errors
/// [`AlgError::Unsupported`] for an RSA key under 2048 bits.
pub fn signing_scheme(key: KeyKind) -> Result<Scheme, AlgError> {
    match key {
        KeyKind::Rsa { bits } if bits < 2048 => Err(unsupported(format_args!(
            "signing with an RSA key of {bits} bits (at least 2048)"
        ))),
        KeyKind::Rsa { .. } => Ok(Scheme::RsaPkcs1v15 {
            hash: HashAlg::Sha256,
        }),
        KeyKind::P256 => Ok(Scheme::Ecdsa {
            hash: HashAlg::Sha256,
        }),
        KeyKind::P384 => Ok(Scheme::Ecdsa {
            hash: HashAlg::Sha384,
        }),
        KeyKind::Ed25519 => Ok(Scheme::Ed25519),
    }
}

impl Scheme {
    /// The hash of the signed content (the CMS digest algorithm): the scheme's own, SHA-512
    /// for Ed25519 (RFC 8419 §3.1).
    pub const fn digest(self) -> HashAlg {
        match self {
            Scheme::RsaPkcs1v15 { hash } | Scheme::RsaPss { hash, .. } | Scheme::Ecdsa { hash } => {
                hash
            }
            Scheme::Ed25519 => HashAlg::Sha512,
        }
    }

    /// The hash a hash-signing service applies to the signed attributes before signing, or
    /// `None` for Ed25519 (PureEdDSA signs the message itself).
    pub const fn prehash(self) -> Option<HashAlg> {
        match self {
            Scheme::Ed25519 => None,
            other => Some(other.digest()),
        }
    }

    /// Its algorithm identifier for a CMS signer info: `sha256WithRSAEncryption` & co. with
    /// NULL parameters (RFC 4055 §5), `ecdsa-with-SHA256` & co. without (RFC 5758 §3.2),
    /// `id-Ed25519` without (RFC 8410 §3).
    ///
    /// # Errors
    /// [`AlgError::Unsupported`] for RSA-PSS (giaouoc does not sign with it).
    pub fn identifier(self) -> Result<AlgorithmIdentifierOwned, AlgError> {
        let null = || der::Any::new(der::Tag::Null, Vec::new()).ok();
        let (oid, parameters) = match self {
            Scheme::RsaPkcs1v15 { hash } => (
                match hash {
                    HashAlg::Sha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                    HashAlg::Sha384 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
                    HashAlg::Sha512 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
                },
                null(),
            ),
            Scheme::Ecdsa { hash } => (
                match hash {
                    HashAlg::Sha256 => rfc5912::ECDSA_WITH_SHA_256,
                    HashAlg::Sha384 => rfc5912::ECDSA_WITH_SHA_384,
                    HashAlg::Sha512 => rfc5912::ECDSA_WITH_SHA_512,
                },
                None,
            ),
            Scheme::Ed25519 => (rfc8410::ID_ED_25519, None),
            Scheme::RsaPss { .. } => return Err(unsupported("signing with RSASSA-PSS")),
        };
        Ok(AlgorithmIdentifierOwned { oid, parameters })
    }
}

/// A signature value as a signer produced it, in the form CMS carries (RFC 5652 §5.3): an
/// ECDSA signature given as `r‖s` (PKCS#11 `CKM_ECDSA`, WebCrypto) becomes a DER
/// `Ecdsa-Sig-Value`; a DER one, an RSA signature of the modulus length and a 64-byte Ed25519
/// signature are kept.
///
/// # Errors
/// [`AlgError::BadSignature`] when the value cannot be a signature of this key.
pub fn signature_for_cms(key: KeyKind, value: &[u8]) -> Result<Vec<u8>, AlgError> {
    match key {
        KeyKind::Rsa { bits } => {
            if value.len().saturating_mul(8) == bits.div_ceil(8).saturating_mul(8) {
                Ok(value.to_vec())
            } else {
                Err(AlgError::BadSignature)
            }
        }
        KeyKind::P256 => ecdsa::to_der(Curve::P256, value),
        KeyKind::P384 => ecdsa::to_der(Curve::P384, value),
        KeyKind::Ed25519 if value.len() == 64 => Ok(value.to_vec()),
        KeyKind::Ed25519 => Err(AlgError::BadSignature),
    }
}

/// The kind and size of the key in `spki`.
///
/// # Errors
/// [`AlgError::Unsupported`] for other key types or curves, [`AlgError::BadKey`] for a key
/// that does not read.
pub fn key_kind(spki: &SubjectPublicKeyInfoOwned) -> Result<KeyKind, AlgError> {
    match spki.algorithm.oid {
        rfc5912::RSA_ENCRYPTION => {
            let key = rsa_key(spki)?;
            Ok(KeyKind::Rsa {
                bits: rsa::traits::PublicKeyParts::size(&key).saturating_mul(8),
            })
        }
        rfc5912::ID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(rfc5912::SECP_256_R_1) => Ok(KeyKind::P256),
                Some(rfc5912::SECP_384_R_1) => Ok(KeyKind::P384),
                Some(other) => Err(unsupported(format_args!("elliptic curve {other}"))),
                None => Err(AlgError::BadKey("EC key without a named curve".into())),
            }
        }
        rfc8410::ID_ED_25519 => Ok(KeyKind::Ed25519),
        other => Err(unsupported(format_args!("public key {other}"))),
    }
}

fn rsa_key(spki: &SubjectPublicKeyInfoOwned) -> Result<rsa::RsaPublicKey, AlgError> {
    use rsa::pkcs8::DecodePublicKey;
    let der = spki.to_der().map_err(|e| AlgError::BadKey(e.to_string()))?;
    let key = rsa::RsaPublicKey::from_public_key_der(&der)
        .map_err(|e| AlgError::BadKey(e.to_string()))?;
    let bits = rsa::traits::PublicKeyParts::size(&key).saturating_mul(8);
    if !RSA_BITS.contains(&bits) {
        return Err(unsupported(format_args!("RSA key of {bits} bits")));
    }
    Ok(key)
}

/// The scheme an algorithm identifier names. `digest` gives the hash where the identifier is a
/// bare key algorithm (`rsaEncryption`, `id-ecPublicKey`), as CMS signer infos may say.
///
/// # Errors
/// [`AlgError::Unsupported`] for anything else (including SHA-1 and MD5 based schemes).
pub fn scheme_of(
    alg: &AlgorithmIdentifierOwned,
    digest: Option<HashAlg>,
) -> Result<Scheme, AlgError> {
    let need_digest = || digest.ok_or_else(|| unsupported(alg.oid));
    let params_absent_or_null = alg
        .parameters
        .as_ref()
        .is_none_or(|p| p.tag() == der::Tag::Null);
    match alg.oid {
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Ok(Scheme::RsaPkcs1v15 {
            hash: HashAlg::Sha256,
        }),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Ok(Scheme::RsaPkcs1v15 {
            hash: HashAlg::Sha384,
        }),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Ok(Scheme::RsaPkcs1v15 {
            hash: HashAlg::Sha512,
        }),
        rfc5912::RSA_ENCRYPTION if params_absent_or_null => Ok(Scheme::RsaPkcs1v15 {
            hash: need_digest()?,
        }),
        rfc5912::ID_RSASSA_PSS => pss_scheme(alg),
        rfc5912::ECDSA_WITH_SHA_256 => Ok(Scheme::Ecdsa {
            hash: HashAlg::Sha256,
        }),
        rfc5912::ECDSA_WITH_SHA_384 => Ok(Scheme::Ecdsa {
            hash: HashAlg::Sha384,
        }),
        rfc5912::ECDSA_WITH_SHA_512 => Ok(Scheme::Ecdsa {
            hash: HashAlg::Sha512,
        }),
        rfc5912::ID_EC_PUBLIC_KEY => Ok(Scheme::Ecdsa {
            hash: need_digest()?,
        }),
        rfc8410::ID_ED_25519 if alg.parameters.is_none() => Ok(Scheme::Ed25519),
        other => Err(unsupported(other)),
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1): a supported hash, MGF1 with the same hash, trailer 1.
/// Read by hand: signers use salts longer than 255 bytes (pyHanko uses the largest).
fn pss_scheme(alg: &AlgorithmIdentifierOwned) -> Result<Scheme, AlgError> {
    let bad = |why: &str| unsupported(format_args!("RSASSA-PSS parameters ({why})"));
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| unsupported("RSASSA-PSS without parameters (SHA-1)"))?;
    let der = params.to_der().map_err(|_| bad("not DER"))?;
    let (seq, rest) = super::tlv::one(&der).map_err(|_| bad("not DER"))?;
    if seq.tag != 0x30 || !rest.is_empty() {
        return Err(bad("not a SEQUENCE"));
    }
    let mut hash = None;
    let mut mgf = None;
    let mut salt_len: u16 = 20;
    let mut trailer: u64 = 1;
    for item in super::tlv::elements(seq.value).map_err(|_| bad("not DER"))? {
        let (inner, _) = super::tlv::one(item.value).map_err(|_| bad("not DER"))?;
        match item.tag {
            0xA0 => hash = AlgorithmIdentifierOwned::from_der(inner.raw).ok(),
            0xA1 => mgf = AlgorithmIdentifierOwned::from_der(inner.raw).ok(),
            0xA2 => {
                salt_len = small_uint(inner.value)
                    .and_then(|v| u16::try_from(v).ok())
                    .ok_or_else(|| bad("salt length"))?
            }
            0xA3 => trailer = small_uint(inner.value).ok_or_else(|| bad("trailer field"))?,
            _ => return Err(bad("unknown field")),
        }
    }
    let hash = hash
        .as_ref()
        .map_or(Err(unsupported("RSASSA-PSS with SHA-1")), |h| {
            HashAlg::from_oid(&h.oid)
                .ok_or_else(|| unsupported(format_args!("RSASSA-PSS with hash {}", h.oid)))
        })?;
    let mgf_hash = mgf
        .as_ref()
        .filter(|m| m.oid == rfc5912::ID_MGF_1)
        .and_then(|m| {
            m.parameters
                .as_ref()
                .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                .and_then(|h| HashAlg::from_oid(&h.oid))
        });
    if mgf_hash != Some(hash) {
        return Err(unsupported(
            "RSASSA-PSS with another mask generation function",
        ));
    }
    if trailer != 1 {
        return Err(unsupported("RSASSA-PSS with another trailer field"));
    }
    Ok(Scheme::RsaPss { hash, salt_len })
}

/// A non-negative DER INTEGER's contents of at most 8 bytes.
fn small_uint(bytes: &[u8]) -> Option<u64> {
    let bytes = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        [b, ..] if b & 0x80 != 0 => return None,
        other => other,
    };
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Verifies `signature` over `message` with the key in `spki` under `alg` (`digest`: see
/// [`scheme_of`]).
///
/// # Errors
/// [`AlgError::Unsupported`] when the algorithm, hash, curve or key size is not judged,
/// [`AlgError::BadKey`] when the key does not read or does not fit the scheme,
/// [`AlgError::BadSignature`] when the signature does not verify.
pub fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<HashAlg>,
    message: &[u8],
    signature: &[u8],
) -> Result<Algorithm, AlgError> {
    let scheme = scheme_of(alg, digest)?;
    let key = key_kind(spki)?;
    match (scheme, key) {
        (Scheme::RsaPkcs1v15 { hash }, KeyKind::Rsa { .. }) => {
            verify_rsa_pkcs1(&rsa_key(spki)?, hash, message, signature)?;
        }
        (Scheme::RsaPss { hash, salt_len }, KeyKind::Rsa { .. }) => {
            verify_rsa_pss(&rsa_key(spki)?, hash, salt_len, message, signature)?;
        }
        (Scheme::Ecdsa { hash }, KeyKind::P256) => {
            ecdsa::verify(Curve::P256, point(spki)?, hash, message, signature)?;
        }
        (Scheme::Ecdsa { hash }, KeyKind::P384) => {
            ecdsa::verify(Curve::P384, point(spki)?, hash, message, signature)?;
        }
        (Scheme::Ed25519, KeyKind::Ed25519) => {
            let bytes: [u8; 32] = point(spki)?
                .try_into()
                .map_err(|_| AlgError::BadKey("an Ed25519 key is 32 bytes".into()))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|e| AlgError::BadKey(e.to_string()))?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| AlgError::BadSignature)?;
            key.verify_strict(message, &sig)
                .map_err(|_| AlgError::BadSignature)?;
        }
        (scheme, key) => {
            return Err(AlgError::BadKey(format!(
                "a {key:?} key cannot make a {scheme:?} signature"
            )));
        }
    }
    Ok(Algorithm { scheme, key })
}

/// The raw public key bits of an SPKI (an EC point, an Ed25519 key).
fn point(spki: &SubjectPublicKeyInfoOwned) -> Result<&[u8], AlgError> {
    spki.subject_public_key
        .as_bytes()
        .ok_or_else(|| AlgError::BadKey("the key is not a whole number of bytes".into()))
}

fn verify_rsa_pkcs1(
    key: &rsa::RsaPublicKey,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), AlgError> {
    rsassa::verify_pkcs1v15(key, hash, message, signature).map_err(|_| AlgError::BadSignature)
}

fn verify_rsa_pss(
    key: &rsa::RsaPublicKey,
    hash: HashAlg,
    salt_len: u16,
    message: &[u8],
    signature: &[u8],
) -> Result<(), AlgError> {
    rsassa::verify_pss(key, hash, usize::from(salt_len), message, signature)
        .map_err(|_| AlgError::BadSignature)
}
