//! ECDSA verification on P-256 and P-384 (FIPS 186-5 §6.4.2; DER `Ecdsa-Sig-Value` of
//! RFC 5480 §2.2.3 / RFC 5758 §3.2).
//!
//! *ring* verifies the combinations it knows (either curve with SHA-256 or SHA-384, an
//! uncompressed point) several times faster than the RustCrypto curves, which check the rest
//! (SHA-512, compressed points). The tests compare both paths' verdicts.

use ring::signature::{self as ring_sig, EcdsaVerificationAlgorithm, UnparsedPublicKey};

use super::alg::{AlgError, HashAlg};

/// A NIST curve supported for ECDSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
}

fn ring_alg(curve: Curve, hash: HashAlg) -> Option<&'static EcdsaVerificationAlgorithm> {
    match (curve, hash) {
        (Curve::P256, HashAlg::Sha256) => Some(&ring_sig::ECDSA_P256_SHA256_ASN1),
        (Curve::P256, HashAlg::Sha384) => Some(&ring_sig::ECDSA_P256_SHA384_ASN1),
        (Curve::P384, HashAlg::Sha256) => Some(&ring_sig::ECDSA_P384_SHA256_ASN1),
        (Curve::P384, HashAlg::Sha384) => Some(&ring_sig::ECDSA_P384_SHA384_ASN1),
        (_, HashAlg::Sha512) => None,
    }
}

/// `value` as a DER `Ecdsa-Sig-Value` (RFC 5480 §2.2.3): `r‖s` of twice the field size is
/// encoded, a DER value is re-encoded canonically.
///
/// # Errors
/// [`AlgError::BadSignature`] when it is neither.
pub(crate) fn to_der(curve: Curve, value: &[u8]) -> Result<Vec<u8>, AlgError> {
    let bad = |_| AlgError::BadSignature;
    match curve {
        Curve::P256 => {
            let sig = if value.len() == 64 {
                p256::ecdsa::Signature::from_slice(value).map_err(bad)?
            } else {
                p256::ecdsa::Signature::from_der(value).map_err(bad)?
            };
            Ok(sig.to_der().as_bytes().to_vec())
        }
        Curve::P384 => {
            let sig = if value.len() == 96 {
                p384::ecdsa::Signature::from_slice(value).map_err(bad)?
            } else {
                p384::ecdsa::Signature::from_der(value).map_err(bad)?
            };
            Ok(sig.to_der().as_bytes().to_vec())
        }
    }
}

/// Verifies the DER `signature` over `message` hashed with `hash`, by the SEC1-encoded `point`.
///
/// # Errors
/// [`AlgError::BadKey`] when the point is not on the curve, [`AlgError::BadSignature`] when
/// the signature does not verify.
pub(crate) fn verify(
    curve: Curve,
    point: &[u8],
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), AlgError> {
    // The key is read by the RustCrypto curve either way, so a point off the curve is
    // reported as a bad key on both paths.
    match curve {
        Curve::P256 => {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_key)?;
        }
        Curve::P384 => {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_key)?;
        }
    }
    if point.first() == Some(&0x04)
        && let Some(alg) = ring_alg(curve, hash)
    {
        return UnparsedPublicKey::new(alg, point)
            .verify(message, signature)
            .map_err(|_| AlgError::BadSignature);
    }
    by_rustcrypto(curve, point, hash, message, signature)
}

fn bad_key(e: impl std::fmt::Display) -> AlgError {
    AlgError::BadKey(e.to_string())
}

fn by_rustcrypto(
    curve: Curve,
    point: &[u8],
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), AlgError> {
    let digest = hash.digest(message);
    match curve {
        Curve::P256 => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_key)?;
            let sig =
                p256::ecdsa::Signature::from_der(signature).map_err(|_| AlgError::BadSignature)?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| AlgError::BadSignature)
        }
        Curve::P384 => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_key)?;
            let sig =
                p384::ecdsa::Signature::from_der(signature).map_err(|_| AlgError::BadSignature)?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| AlgError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    fn signed(curve: Curve, hash: HashAlg, message: &[u8], seed: u64) -> (Vec<u8>, Vec<u8>) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let digest = hash.digest(message);
        match curve {
            Curve::P256 => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                let key = p256::ecdsa::SigningKey::random(&mut rng);
                let sig: p256::ecdsa::Signature = key.sign_prehash(&digest).unwrap();
                let point = key.verifying_key().to_encoded_point(false);
                (point.as_bytes().to_vec(), sig.to_der().as_bytes().to_vec())
            }
            Curve::P384 => {
                use p384::ecdsa::signature::hazmat::PrehashSigner;
                let key = p384::ecdsa::SigningKey::random(&mut rng);
                let sig: p384::ecdsa::Signature = key.sign_prehash(&digest).unwrap();
                let point = key.verifying_key().to_encoded_point(false);
                (point.as_bytes().to_vec(), sig.to_der().as_bytes().to_vec())
            }
        }
    }

    fn compressed(curve: Curve, point: &[u8]) -> Vec<u8> {
        match curve {
            Curve::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .unwrap()
                .to_encoded_point(true)
                .as_bytes()
                .to_vec(),
            Curve::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .unwrap()
                .to_encoded_point(true)
                .as_bytes()
                .to_vec(),
        }
    }

    #[test]
    fn ring_and_rustcrypto_agree_on_every_curve_and_hash_including_mutated_signatures() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(42);
        for (i, curve) in [Curve::P256, Curve::P384].into_iter().enumerate() {
            for (j, hash) in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512]
                .into_iter()
                .enumerate()
            {
                let message = b"giao uoc thi dua 2021";
                let (point, sig) = signed(curve, hash, message, (i * 3 + j) as u64);
                let short = compressed(curve, &point);
                for key in [&point, &short] {
                    assert_eq!(verify(curve, key, hash, message, &sig), Ok(()));
                    assert_eq!(by_rustcrypto(curve, key, hash, message, &sig), Ok(()));
                    assert_eq!(
                        verify(curve, key, hash, b"another", &sig),
                        Err(AlgError::BadSignature)
                    );
                }
                let mut bad: Vec<Vec<u8>> = (0..8)
                    .map(|_| {
                        let mut s = sig.clone();
                        let k = (rng.next_u32() as usize) % s.len();
                        s[k] ^= 1 << (rng.next_u32() % 8);
                        s
                    })
                    .collect();
                let mut padded = sig.clone();
                padded.push(0);
                bad.push(padded);
                bad.push(sig[..sig.len() - 1].to_vec());
                for s in &bad {
                    let fast = verify(curve, &point, hash, message, s);
                    let slow = by_rustcrypto(curve, &point, hash, message, s);
                    assert_eq!(fast, slow, "{curve:?} {hash:?} {s:02x?}");
                    assert_eq!(fast, Err(AlgError::BadSignature));
                }
            }
        }
    }

    #[test]
    fn a_point_off_the_curve_is_a_bad_key_on_both_paths() {
        let (mut point, sig) = signed(Curve::P256, HashAlg::Sha256, b"m", 1);
        let last = point.len() - 1;
        point[last] ^= 1;
        assert!(matches!(
            verify(Curve::P256, &point, HashAlg::Sha256, b"m", &sig),
            Err(AlgError::BadKey(_))
        ));
    }
}
