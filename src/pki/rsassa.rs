//! RSASSA signature verification (RFC 8017 §8.1.2 PSS, §8.2.2 PKCS#1 v1.5), fast enough for
//! a verifier that checks dozens of RSA signatures per file (a covenant from a licensed CA:
//! 16 signer infos, 16 leaf certificates, the intermediate, CRLs).
//!
//! What *ring* verifies (moduli of 2048 to 8192 bits, or 1024 with SHA-256/512, odd public
//! exponents below 2³³, PSS salts as long as the hash) goes to *ring*. The rest (SHA-384 on
//! keys under 2048 bits, PSS with another salt length, as pyHanko writes by default) is
//! checked here: `s^e mod n` by square-and-multiply over the exponent's at most 33 bits (the
//! `rsa` crate refuses larger exponents when the key is read; its own verification raises to
//! the exponent with a Montgomery ladder costing as much as a private-key operation), then
//! the RFC's padding checks step by step. Verification handles only public values, so
//! nothing needs to run in constant time. The tests compare every verdict of both paths with
//! the `rsa` crate's.

use ring::signature::{self as ring_sig, RsaParameters, RsaPublicKeyComponents};
use rsa::BigUint;
use rsa::traits::PublicKeyParts;

use super::alg::HashAlg;

/// The *ring* key when *ring* can judge it: bit length and an odd exponent in its range.
fn ring_key(key: &rsa::RsaPublicKey) -> Option<(RsaPublicKeyComponents<Vec<u8>>, usize)> {
    let e = key.e();
    let odd = e.to_bytes_le().first().is_some_and(|b| b & 1 == 1);
    if !odd || e.bits() > 33 || e < &BigUint::from(3u8) {
        return None;
    }
    Some((
        RsaPublicKeyComponents {
            n: key.n().to_bytes_be(),
            e: e.to_bytes_be(),
        },
        key.n().bits(),
    ))
}

fn ring_pkcs1(hash: HashAlg, bits: usize) -> Option<&'static RsaParameters> {
    match (hash, bits >= 2048) {
        (HashAlg::Sha256, true) => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA256),
        (HashAlg::Sha384, true) => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA384),
        (HashAlg::Sha512, true) => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA512),
        (HashAlg::Sha256, false) => Some(&ring_sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        (HashAlg::Sha512, false) => Some(&ring_sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
        (HashAlg::Sha384, false) => None,
    }
}

fn ring_pss(hash: HashAlg, bits: usize, salt_len: usize) -> Option<&'static RsaParameters> {
    if bits < 2048 || salt_len != hash.output_len() {
        return None;
    }
    Some(match hash {
        HashAlg::Sha256 => &ring_sig::RSA_PSS_2048_8192_SHA256,
        HashAlg::Sha384 => &ring_sig::RSA_PSS_2048_8192_SHA384,
        HashAlg::Sha512 => &ring_sig::RSA_PSS_2048_8192_SHA512,
    })
}

/// Why a signature does not verify. Only ever reported as "bad signature".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// RSAVP1 (§5.2.2) then I2OSP to `k` bytes: the encoded message, or [`Invalid`] when the
/// signature is not `k` bytes long or not below the modulus.
fn public_op(key: &rsa::RsaPublicKey, signature: &[u8]) -> Result<Vec<u8>, Invalid> {
    let k = key.size();
    if signature.len() != k {
        return Err(Invalid);
    }
    let n = key.n();
    if key.e() < &BigUint::from(2u8) {
        return Err(Invalid);
    }
    let s = BigUint::from_bytes_be(signature);
    if &s >= n {
        return Err(Invalid);
    }
    let m = Montgomery::new(n).ok_or(Invalid)?.pow(&s, key.e());
    let bytes = m.to_bytes_be();
    let pad = k.checked_sub(bytes.len()).ok_or(Invalid)?;
    let mut em = vec![0u8; pad];
    em.extend_from_slice(&bytes);
    Ok(em)
}

/// Arithmetic modulo an odd `n` in Montgomery form (R = 2^(64·limbs)), little-endian limbs.
struct Montgomery {
    n: Vec<u64>,
    /// −n⁻¹ mod 2⁶⁴.
    n0: u64,
    /// R² mod n.
    r2: Vec<u64>,
}

fn to_limbs(x: &BigUint, len: usize) -> Vec<u64> {
    let bytes = x.to_bytes_le();
    let mut out = vec![0u64; len];
    for (limb, chunk) in out.iter_mut().zip(bytes.chunks(8)) {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(chunk) {
            *d = *s;
        }
        *limb = u64::from_le_bytes(b);
    }
    out
}

fn from_limbs(limbs: &[u64]) -> BigUint {
    let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

impl Montgomery {
    /// `None` for an even (or zero) modulus: no RSA key has one.
    fn new(n: &BigUint) -> Option<Montgomery> {
        let len = n.bits().div_ceil(64);
        let limbs = to_limbs(n, len);
        let low = *limbs.first()?;
        if low & 1 == 0 {
            return None;
        }
        // Newton's iteration doubles the correct low bits of n⁻¹ mod 2⁶⁴: 3, 6, … 96.
        let mut inv = low;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(low.wrapping_mul(inv)));
        }
        let r2 = (BigUint::from(1u8) << (128 * len)) % n;
        Some(Montgomery {
            n: limbs,
            n0: inv.wrapping_neg(),
            r2: to_limbs(&r2, len),
        })
    }

    /// a·b·R⁻¹ mod n for a, b < n (CIOS: Koç, Acar, Kaliski, "Analyzing and comparing
    /// Montgomery multiplication algorithms", 1996).
    #[allow(clippy::indexing_slicing)] // every index is below `s + 2` by construction
    fn mul(&self, a: &[u64], b: &[u64]) -> Vec<u64> {
        let s = self.n.len();
        debug_assert!(a.len() == s && b.len() == s);
        let mut t = vec![0u64; s + 2];
        for &bi in b {
            let mut c = 0u64;
            for j in 0..s {
                let v = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + u128::from(c);
                t[j] = v as u64;
                c = (v >> 64) as u64;
            }
            let v = u128::from(t[s]) + u128::from(c);
            t[s] = v as u64;
            t[s + 1] = (v >> 64) as u64;
            let m = t[0].wrapping_mul(self.n0);
            let v = u128::from(t[0]) + u128::from(m) * u128::from(self.n[0]);
            let mut c = (v >> 64) as u64;
            for j in 1..s {
                let v = u128::from(t[j]) + u128::from(m) * u128::from(self.n[j]) + u128::from(c);
                t[j - 1] = v as u64;
                c = (v >> 64) as u64;
            }
            let v = u128::from(t[s]) + u128::from(c);
            t[s - 1] = v as u64;
            t[s] = t[s + 1] + (v >> 64) as u64;
        }
        // t < 2n: subtract n once if t ≥ n.
        let ge = t[s] != 0 || {
            let mut ge = true;
            for j in (0..s).rev() {
                if t[j] != self.n[j] {
                    ge = t[j] > self.n[j];
                    break;
                }
            }
            ge
        };
        if ge {
            let mut borrow = 0u64;
            for (tj, nj) in t.iter_mut().zip(&self.n) {
                let (d, b1) = tj.overflowing_sub(*nj);
                let (d, b2) = d.overflowing_sub(borrow);
                *tj = d;
                borrow = u64::from(b1 || b2);
            }
        }
        t.truncate(s);
        t
    }

    /// base^e mod n for base < n, left to right over the exponent's bits.
    fn pow(&self, base: &BigUint, e: &BigUint) -> BigUint {
        let len = self.n.len();
        let x = self.mul(&to_limbs(base, len), &self.r2);
        let mut one = vec![0u64; len];
        if let Some(l) = one.first_mut() {
            *l = 1;
        }
        let mut acc = self.mul(&one, &self.r2);
        let bytes = e.to_bytes_be();
        let bits = bytes
            .iter()
            .flat_map(|byte| (0..8).rev().map(move |i| (byte >> i) & 1 == 1))
            .skip_while(|bit| !bit);
        for bit in bits {
            acc = self.mul(&acc, &acc);
            if bit {
                acc = self.mul(&acc, &x);
            }
        }
        from_limbs(&self.mul(&acc, &one))
    }
}

/// RSASSA-PKCS1-v1_5-VERIFY (§8.2.2) of `message` hashed with `hash`.
pub(crate) fn verify_pkcs1v15(
    key: &rsa::RsaPublicKey,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Invalid> {
    if let Some((components, bits)) = ring_key(key)
        && let Some(params) = ring_pkcs1(hash, bits)
    {
        return components
            .verify(params, message, signature)
            .map_err(|_| Invalid);
    }
    pkcs1v15_by_hand(key, hash, &hash.digest(message), signature)
}

/// §8.2.2 by hand: the expected encoding (EMSA-PKCS1-v1_5, §9.2) is built and compared whole.
fn pkcs1v15_by_hand(
    key: &rsa::RsaPublicKey,
    hash: HashAlg,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), Invalid> {
    let em = public_op(key, signature)?;
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + digest.len();
    let k = em.len();
    if digest.len() != hash.output_len() || k < t_len + 11 {
        return Err(Invalid);
    }
    let mut expected = Vec::with_capacity(k);
    expected.extend_from_slice(&[0x00, 0x01]);
    expected.resize(k - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(prefix);
    expected.extend_from_slice(digest);
    if expected == em { Ok(()) } else { Err(Invalid) }
}

/// MGF1 (§B.2.1) with `hash`: `len` bytes of mask from `seed`.
fn mgf1(hash: HashAlg, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.output_len());
    let mut counter: u32 = 0;
    let mut block = Vec::with_capacity(seed.len() + 4);
    while out.len() < len {
        block.clear();
        block.extend_from_slice(seed);
        block.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&hash.digest(&block));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// RSASSA-PSS-VERIFY (§8.1.2) of `message` hashed with `hash`, with MGF1 on the same hash and
/// a salt of exactly `salt_len` bytes.
pub(crate) fn verify_pss(
    key: &rsa::RsaPublicKey,
    hash: HashAlg,
    salt_len: usize,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Invalid> {
    if let Some((components, bits)) = ring_key(key)
        && let Some(params) = ring_pss(hash, bits, salt_len)
    {
        return components
            .verify(params, message, signature)
            .map_err(|_| Invalid);
    }
    pss_by_hand(key, hash, salt_len, &hash.digest(message), signature)
}

/// §8.1.2 by hand, on the message's digest (EMSA-PSS-VERIFY, §9.1.2).
fn pss_by_hand(
    key: &rsa::RsaPublicKey,
    hash: HashAlg,
    salt_len: usize,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), Invalid> {
    let h_len = hash.output_len();
    if digest.len() != h_len {
        return Err(Invalid);
    }
    let k_em = public_op(key, signature)?;
    // emBits = modBits - 1; EM is the last emLen bytes of the k-byte value (§8.1.2 step 2c).
    let mod_bits = key.n().bits();
    let em_bits = mod_bits.checked_sub(1).ok_or(Invalid)?;
    let em_len = em_bits.div_ceil(8);
    let lead = k_em.len().checked_sub(em_len).ok_or(Invalid)?;
    let (zeros, em) = k_em.split_at(lead);
    if zeros.iter().any(|&b| b != 0) {
        return Err(Invalid);
    }
    // §9.1.2 steps 3-4.
    if em_len < h_len + salt_len + 2 || em.last() != Some(&0xbc) {
        return Err(Invalid);
    }
    // Step 5.
    let db_len = em_len - h_len - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = rest.get(..h_len).ok_or(Invalid)?;
    // Step 6: the leftmost 8·emLen − emBits bits must be zero.
    let unused_bits = 8 * em_len - em_bits;
    let top_mask: u8 = 0xffu8.checked_shr(unused_bits as u32).unwrap_or(0);
    if masked_db.first().is_some_and(|&b| b & !top_mask != 0) {
        return Err(Invalid);
    }
    // Steps 7-9.
    let mut db: Vec<u8> = masked_db
        .iter()
        .zip(mgf1(hash, h, db_len))
        .map(|(a, b)| a ^ b)
        .collect();
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    // Step 10: PS of zeros then 0x01.
    let ps_len = db_len - salt_len - 1;
    if db.iter().take(ps_len).any(|&b| b != 0) || db.get(ps_len) != Some(&0x01) {
        return Err(Invalid);
    }
    // Steps 11-14.
    let salt = db.get(ps_len + 1..).ok_or(Invalid)?;
    let mut m_prime = Vec::with_capacity(8 + h_len + salt_len);
    m_prime.extend_from_slice(&[0u8; 8]);
    m_prime.extend_from_slice(digest);
    m_prime.extend_from_slice(salt);
    if hash.digest(&m_prime) == h {
        Ok(())
    } else {
        Err(Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::rand_core::{RngCore, SeedableRng};
    use sha2::{Sha256, Sha384, Sha512};

    fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(seed)
    }

    /// The `rsa` crate's own verdict, as the oracle.
    fn crate_pkcs1(key: &rsa::RsaPublicKey, hash: HashAlg, d: &[u8], sig: &[u8]) -> bool {
        let scheme = match hash {
            HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
            HashAlg::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
            HashAlg::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
        };
        key.verify(scheme, d, sig).is_ok()
    }

    fn crate_pss(key: &rsa::RsaPublicKey, hash: HashAlg, salt: usize, d: &[u8], s: &[u8]) -> bool {
        let scheme = match hash {
            HashAlg::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
            HashAlg::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
            HashAlg::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
        };
        key.verify(scheme, d, s).is_ok()
    }

    fn pss_sign(key: &RsaPrivateKey, hash: HashAlg, salt: usize, d: &[u8], seed: u64) -> Vec<u8> {
        let mut r = rng(seed);
        match hash {
            HashAlg::Sha256 => {
                key.sign_with_rng(&mut r, rsa::Pss::new_with_salt::<Sha256>(salt), d)
            }
            HashAlg::Sha384 => {
                key.sign_with_rng(&mut r, rsa::Pss::new_with_salt::<Sha384>(salt), d)
            }
            HashAlg::Sha512 => {
                key.sign_with_rng(&mut r, rsa::Pss::new_with_salt::<Sha512>(salt), d)
            }
        }
        .unwrap_or_else(|e| panic!("{hash:?} salt {salt}: {e}"))
    }

    fn pkcs1_sign(key: &RsaPrivateKey, hash: HashAlg, d: &[u8]) -> Vec<u8> {
        let scheme = match hash {
            HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
            HashAlg::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
            HashAlg::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
        };
        key.sign(scheme, d).unwrap()
    }

    /// Mutations a forger or a broken signer would produce.
    fn mutations(sig: &[u8], seed: u64) -> Vec<Vec<u8>> {
        let mut r = rng(seed);
        let mut out = Vec::new();
        for _ in 0..6 {
            let mut s = sig.to_vec();
            let i = (r.next_u32() as usize) % s.len();
            s[i] ^= 1 << (r.next_u32() % 8);
            out.push(s);
        }
        out.push(sig[1..].to_vec());
        let mut longer = vec![0u8];
        longer.extend_from_slice(sig);
        out.push(longer);
        out.push(vec![0xff; sig.len()]);
        out.push(vec![0x00; sig.len()]);
        out
    }

    /// Both paths (*ring* where it applies, by hand always) against the `rsa` crate: valid
    /// signatures pass, other messages, salt lengths, paddings and mutated values fail.
    fn check_key(private: &RsaPrivateKey, seed: u64) {
        let public = private.to_public_key();
        let bits = public.n().bits();
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let message = format!("covenant {bits} {hash:?}").into_bytes();
            let digest = hash.digest(&message);
            let other = b"another document";
            let other_digest = hash.digest(other);

            let sig = pkcs1_sign(private, hash, &digest);
            assert_eq!(verify_pkcs1v15(&public, hash, &message, &sig), Ok(()));
            assert_eq!(pkcs1v15_by_hand(&public, hash, &digest, &sig), Ok(()));
            assert!(verify_pkcs1v15(&public, hash, other, &sig).is_err());
            assert!(pkcs1v15_by_hand(&public, hash, &other_digest, &sig).is_err());
            for bad in mutations(&sig, seed) {
                assert!(!crate_pkcs1(&public, hash, &digest, &bad));
                assert!(verify_pkcs1v15(&public, hash, &message, &bad).is_err());
                assert!(pkcs1v15_by_hand(&public, hash, &digest, &bad).is_err());
            }

            let max_salt = (bits - 1).div_ceil(8) - hash.output_len() - 2;
            let salts = [0, hash.output_len(), max_salt];
            for salt in salts.into_iter().filter(|s| *s <= max_salt) {
                let sig = pss_sign(private, hash, salt, &digest, seed);
                assert!(crate_pss(&public, hash, salt, &digest, &sig));
                assert_eq!(verify_pss(&public, hash, salt, &message, &sig), Ok(()));
                assert_eq!(pss_by_hand(&public, hash, salt, &digest, &sig), Ok(()));
                assert!(verify_pss(&public, hash, salt, other, &sig).is_err());
                assert!(pss_by_hand(&public, hash, salt, &other_digest, &sig).is_err());
                assert!(verify_pss(&public, hash, salt + 1, &message, &sig).is_err());
                assert!(pss_by_hand(&public, hash, salt + 1, &digest, &sig).is_err());
                assert!(verify_pkcs1v15(&public, hash, &message, &sig).is_err());
                for bad in mutations(&sig, seed ^ 7) {
                    assert!(!crate_pss(&public, hash, salt, &digest, &bad));
                    assert!(verify_pss(&public, hash, salt, &message, &bad).is_err());
                    assert!(pss_by_hand(&public, hash, salt, &digest, &bad).is_err());
                }
            }
        }
    }

    #[test]
    fn both_paths_agree_with_the_rsa_crate_on_small_and_odd_sized_keys() {
        // 1025 bits puts emBits on a byte boundary (PSS encodes one byte shorter).
        for (bits, seed) in [(1024usize, 1u64), (1025, 2)] {
            check_key(&RsaPrivateKey::new(&mut rng(seed), bits).unwrap(), seed);
        }
    }

    #[test]
    fn both_paths_agree_with_the_rsa_crate_on_2048_and_2049_bit_keys() {
        use rsa::pkcs8::DecodePrivateKey;
        let keys: [&[u8]; 2] = [
            include_bytes!("../../tests/fixtures/rsa-2048.pk8"),
            include_bytes!("../../tests/fixtures/rsa-2049.pk8"),
        ];
        for (seed, der) in keys.into_iter().enumerate() {
            check_key(&RsaPrivateKey::from_pkcs8_der(der).unwrap(), seed as u64);
        }
    }

    #[test]
    fn montgomery_powers_equal_num_bigint_modpow_for_odd_moduli_and_rsa_exponents() {
        let mut r = rng(5);
        for bits in [64usize, 65, 1024, 1025, 2049, 3072] {
            for _ in 0..4 {
                let mut n_bytes = vec![0u8; bits.div_ceil(8)];
                r.fill_bytes(&mut n_bytes);
                let mut n = BigUint::from_bytes_be(&n_bytes) >> (n_bytes.len() * 8 - bits);
                n |= BigUint::from(1u8) | (BigUint::from(1u8) << (bits - 1));
                let mont = Montgomery::new(&n).unwrap();
                let mut b = vec![0u8; n_bytes.len()];
                r.fill_bytes(&mut b);
                let base = BigUint::from_bytes_be(&b) % &n;
                for e in [1u64, 2, 3, 17, 65537, (1 << 33) - 1] {
                    let e = BigUint::from(e);
                    assert_eq!(mont.pow(&base, &e), base.modpow(&e, &n), "{bits} bits");
                }
                assert_eq!(mont.pow(&(&n - 1u8), &BigUint::from(3u8)), (&n - 1u8));
                assert_eq!(
                    mont.pow(&BigUint::from(0u8), &BigUint::from(3u8)),
                    BigUint::from(0u8)
                );
            }
        }
        assert!(Montgomery::new(&BigUint::from(1024u32)).is_none());
    }

    #[test]
    fn a_signature_not_below_the_modulus_is_rejected() {
        let private = RsaPrivateKey::new(&mut rng(9), 1024).unwrap();
        let public = private.to_public_key();
        let n = public.n().to_bytes_be();
        let m = b"x";
        let digest = HashAlg::Sha256.digest(m);
        assert!(verify_pkcs1v15(&public, HashAlg::Sha256, m, &n).is_err());
        assert!(pkcs1v15_by_hand(&public, HashAlg::Sha256, &digest, &n).is_err());
        assert!(verify_pss(&public, HashAlg::Sha256, 32, m, &n).is_err());
        assert!(pss_by_hand(&public, HashAlg::Sha256, 32, &digest, &n).is_err());
    }
}
