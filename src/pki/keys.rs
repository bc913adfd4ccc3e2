//! Ed25519 key generation and PEM encodings (RFC 8410 §4, §7; RFC 5958; RFC 7468).

use der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use spki::SubjectPublicKeyInfoOwned;
use zeroize::Zeroizing;

use super::PkiError;
use super::util::{ID_ED25519, ed25519_spki, key_from_spki};

const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// Generate a new Ed25519 signing key from the caller's RNG (RFC 8032 §5.1.5).
pub fn generate_signing_key(rng: &mut impl CryptoRngCore) -> SigningKey {
    SigningKey::generate(rng)
}

/// PKCS#8 v1 PEM (`PRIVATE KEY`) of an Ed25519 key, without the optional
/// public key (RFC 8410 §7): the form OpenSSL 3.0 and most tools read.
pub fn signing_key_to_pem(key: &SigningKey) -> Result<Zeroizing<String>, PkiError> {
    let bytes = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    bytes
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| PkiError::NotEd25519PrivateKey(e.to_string()))
}

/// Decode a PKCS#8 PEM Ed25519 private key (RFC 8410 §7). Encrypted keys
/// and other algorithms are rejected with a clear message.
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, PkiError> {
    let (label, der) = der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|e| PkiError::Pem(format!("not a PEM private key: {e}")))?;
    let der = Zeroizing::new(der);
    if label == "ENCRYPTED PRIVATE KEY" {
        return Err(PkiError::NotEd25519PrivateKey(
            "encrypted PKCS#8 keys are not supported; decrypt it first".into(),
        ));
    }
    if label != PRIVATE_KEY_LABEL {
        return Err(PkiError::PemLabel {
            expected: PRIVATE_KEY_LABEL,
            found: label.to_owned(),
        });
    }
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice())
        .map_err(|e| PkiError::NotEd25519PrivateKey(format!("malformed PKCS#8: {e}")))?;
    if info.algorithm.oid != ID_ED25519 {
        return Err(PkiError::NotEd25519PrivateKey(format!(
            "algorithm is {}, expected id-Ed25519 1.3.101.112",
            info.algorithm.oid
        )));
    }
    if info.algorithm.parameters.is_some() {
        return Err(PkiError::NotEd25519PrivateKey(
            "id-Ed25519 parameters must be absent".into(),
        ));
    }
    SigningKey::from_pkcs8_der(der.as_slice())
        .map_err(|e| PkiError::NotEd25519PrivateKey(e.to_string()))
}

/// SubjectPublicKeyInfo PEM (`PUBLIC KEY`) of an Ed25519 key (RFC 8410 §4).
pub fn verifying_key_to_pem(key: &VerifyingKey) -> Result<String, PkiError> {
    use der::EncodePem;
    let spki = ed25519_spki(key)?;
    Ok(spki.to_pem(LineEnding::LF)?)
}

/// Decode a SubjectPublicKeyInfo PEM holding an Ed25519 key (RFC 8410 §4).
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, PkiError> {
    let (label, der) = der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|e| PkiError::Pem(format!("not a PEM public key: {e}")))?;
    if label != PUBLIC_KEY_LABEL {
        return Err(PkiError::PemLabel {
            expected: PUBLIC_KEY_LABEL,
            found: label.to_owned(),
        });
    }
    verifying_key_from_spki(&der)
}

/// Decode a DER SubjectPublicKeyInfo holding an Ed25519 key (RFC 8410 §4).
pub fn verifying_key_from_spki(der: &[u8]) -> Result<VerifyingKey, PkiError> {
    use der::Decode;
    let spki = SubjectPublicKeyInfoOwned::from_der(der).map_err(|e| {
        PkiError::NotEd25519PublicKey(format!("malformed SubjectPublicKeyInfo: {e}"))
    })?;
    key_from_spki(&spki)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn seeded_generation_is_deterministic() {
        let a = generate_signing_key(&mut ChaCha20Rng::seed_from_u64(7));
        let b = generate_signing_key(&mut ChaCha20Rng::seed_from_u64(7));
        assert_eq!(a.to_bytes(), b.to_bytes());
    }

    #[test]
    fn private_key_pem_round_trips() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let pem = signing_key_to_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = signing_key_from_pem(&pem).unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
        // v1 (48 bytes DER, version 0), as in RFC 8410 §10.3.
        let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
        assert_eq!(der.len(), 48);
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
        // v2 with the public key (as written by other tools) is read too.
        let v2 = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert_eq!(
            signing_key_from_pem(&v2).unwrap().to_bytes(),
            key.to_bytes()
        );
    }

    #[test]
    fn public_key_pem_round_trips() {
        let key = SigningKey::from_bytes(&[4u8; 32]).verifying_key();
        let pem = verifying_key_to_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(verifying_key_from_pem(&pem).unwrap(), key);
    }

    #[test]
    fn wrong_pem_kinds_are_rejected_clearly() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let pub_pem = verifying_key_to_pem(&key.verifying_key()).unwrap();
        let err = signing_key_from_pem(&pub_pem).unwrap_err();
        assert!(matches!(err, PkiError::PemLabel { .. }), "{err}");
        let priv_pem = signing_key_to_pem(&key).unwrap();
        assert!(matches!(
            verifying_key_from_pem(&priv_pem),
            Err(PkiError::PemLabel { .. })
        ));
        assert!(matches!(
            signing_key_from_pem("hello"),
            Err(PkiError::Pem(_))
        ));
        // An X25519 PKCS#8 key (RFC 8410 §10.3 example) is not an Ed25519 key.
        let x25519 = "-----BEGIN PRIVATE KEY-----\n\
            MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
            -----END PRIVATE KEY-----\n";
        let err = signing_key_from_pem(x25519).unwrap_err();
        assert!(matches!(err, PkiError::NotEd25519PrivateKey(_)), "{err}");
        assert!(err.to_string().contains("not a PKCS#8 Ed25519 private key"));
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(
            signing_key_from_pem(enc)
                .unwrap_err()
                .to_string()
                .contains("encrypted")
        );
    }
}

/// The SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4).
///
/// # Errors
/// Encoding failures only.
pub fn verifying_key_to_spki(key: &VerifyingKey) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    ed25519_spki(key)
}

/// A key that signs certificates, CRLs and certificate requests: Ed25519 (RFC 8410 §6) or
/// ECDSA P-256 with SHA-256 (RFC 5758 §3.2, the curve Acrobat and Circular 15/2025 list).
#[derive(Clone)]
pub enum IssuerKey {
    /// Ed25519.
    Ed25519(SigningKey),
    /// ECDSA on P-256.
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IssuerKey::Ed25519(_) => "IssuerKey::Ed25519(..)",
            IssuerKey::P256(_) => "IssuerKey::P256(..)",
        })
    }
}

impl From<SigningKey> for IssuerKey {
    fn from(key: SigningKey) -> Self {
        IssuerKey::Ed25519(key)
    }
}

impl IssuerKey {
    /// A new ECDSA P-256 key from the caller's RNG.
    pub fn generate_p256(rng: &mut impl CryptoRngCore) -> IssuerKey {
        IssuerKey::P256(p256::ecdsa::SigningKey::random(rng))
    }

    /// Its SubjectPublicKeyInfo (RFC 8410 §4; RFC 5480 §2: id-ecPublicKey, named curve
    /// secp256r1, uncompressed point).
    ///
    /// # Errors
    /// Encoding failures only.
    pub fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        match self {
            IssuerKey::Ed25519(k) => ed25519_spki(&k.verifying_key()),
            IssuerKey::P256(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                Ok(SubjectPublicKeyInfoOwned {
                    algorithm: spki::AlgorithmIdentifierOwned {
                        oid: const_oid::db::rfc5912::ID_EC_PUBLIC_KEY,
                        parameters: Some(der::Any::encode_from(
                            &const_oid::db::rfc5912::SECP_256_R_1,
                        )?),
                    },
                    subject_public_key: der::asn1::BitString::from_bytes(point.as_bytes())?,
                })
            }
        }
    }

    /// The signature algorithm it signs with: `id-Ed25519` or `ecdsa-with-SHA256`, both
    /// without parameters.
    pub fn algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        spki::AlgorithmIdentifierOwned {
            oid: match self {
                IssuerKey::Ed25519(_) => ID_ED25519,
                IssuerKey::P256(_) => const_oid::db::rfc5912::ECDSA_WITH_SHA_256,
            },
            parameters: None,
        }
    }

    /// The signature over `message` as X.509 and CMS carry it: Ed25519's 64 bytes, ECDSA's DER
    /// `Ecdsa-Sig-Value`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            IssuerKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                k.sign(message).to_bytes().to_vec()
            }
            IssuerKey::P256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }

    /// PKCS#8 PEM (`PRIVATE KEY`).
    ///
    /// # Errors
    /// Encoding failures only.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, PkiError> {
        match self {
            IssuerKey::Ed25519(k) => signing_key_to_pem(k),
            IssuerKey::P256(k) => {
                use p256::pkcs8::EncodePrivateKey as _;
                k.to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| PkiError::Pem(e.to_string()))
            }
        }
    }

    /// Reads a PKCS#8 PEM private key of either kind.
    ///
    /// # Errors
    /// Not PEM, encrypted, or another algorithm.
    pub fn from_pem(pem: &str) -> Result<IssuerKey, PkiError> {
        match signing_key_from_pem(pem) {
            Ok(k) => Ok(IssuerKey::Ed25519(k)),
            Err(ed_err) => {
                use p256::pkcs8::DecodePrivateKey as _;
                p256::ecdsa::SigningKey::from_pkcs8_pem(pem.trim())
                    .map(IssuerKey::P256)
                    .map_err(|_| ed_err)
            }
        }
    }
}
