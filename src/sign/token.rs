//! Signing with a key on a PKCS#11 token (the USB tokens Vietnamese CAs hand out, through
//! their vendors' modules; SoftHSM2 in the tests). The key never leaves the token: giaouoc
//! hands it the value to sign and gets the signature back (PKCS#11 v2.40 §5.11 `C_Sign`).
//!
//! Mechanisms (PKCS#11 Current Mechanisms v2.40): RSA with `CKM_RSA_PKCS` over the DER
//! `DigestInfo` of the SHA-256 of the signed attributes (RFC 8017 §9.2: every RSA token has
//! it, unlike the hashing `CKM_SHA256_RSA_PKCS`); ECDSA with `CKM_ECDSA` over the hash (§2.3.6:
//! the token returns `r‖s`, which CMS carries as DER); Ed25519 with `CKM_EDDSA` over the
//! signed attributes themselves (PKCS#11 v3.0 §2.3.14).
//!
//! The PIN is held as a `SecretString` (zeroed on drop) only as long as the login takes; it is never
//! formatted into an error or a log line.

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::Decode;
use x509_cert::Certificate;

use crate::pki::alg::Scheme;

/// Why the token could not sign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The module could not be loaded or initialised.
    #[error("không nạp được thư viện PKCS#11 {module}: {reason}")]
    Module {
        /// The module's path.
        module: String,
        /// The library's answer.
        reason: String,
    },
    /// No token (with that label) is present.
    #[error("không thấy token{}", label.as_ref().map(|l| format!(" có nhãn \"{l}\"")).unwrap_or_default())]
    NoToken {
        /// The label asked for.
        label: Option<String>,
    },
    /// More than one token or key matches: the user must say which.
    #[error("có nhiều {what} phù hợp ({found}); hãy chỉ rõ bằng {option}")]
    Ambiguous {
        /// Tokens or keys.
        what: &'static str,
        /// Their labels.
        found: String,
        /// The option that picks one.
        option: &'static str,
    },
    /// No private key (with that label) on the token.
    #[error("token không có khóa bí mật{}", label.as_ref().map(|l| format!(" có nhãn \"{l}\"")).unwrap_or_default())]
    NoKey {
        /// The label asked for.
        label: Option<String>,
    },
    /// The PIN was refused (or the token is locked).
    #[error("token từ chối mã PIN ({0})")]
    Login(String),
    /// The token has no certificate for the key and none was given.
    #[error("token không chứa chứng thư số của khóa; hãy chỉ ra tệp chứng thư bằng --cert")]
    NoCertificate,
    /// The key cannot make this signature.
    #[error("khóa trên token không ký được theo {0}")]
    Unsupported(String),
    /// The token failed while signing.
    #[error("token không ký được: {0}")]
    Sign(String),
}

/// Which key to use: the token's label and the key's label (`CKA_LABEL`), each optional when
/// there is only one.
#[derive(Debug, Clone, Default)]
pub struct TokenKey {
    /// `CK_TOKEN_INFO.label`.
    pub token_label: Option<String>,
    /// The private key's `CKA_LABEL`.
    pub key_label: Option<String>,
}

/// A logged-in session on the token and the key to sign with.
pub struct TokenSigner {
    session: Session,
    key: ObjectHandle,
    certificate: Option<Certificate>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner").finish_non_exhaustive()
    }
}

fn module_error(module: &Path, e: impl std::fmt::Display) -> TokenError {
    TokenError::Module {
        module: module.display().to_string(),
        reason: e.to_string(),
    }
}

impl TokenSigner {
    /// Loads `module`, finds the token and the key, and logs in with `pin`.
    ///
    /// # Errors
    /// See [`TokenError`].
    pub fn open(module: &Path, which: &TokenKey, pin: &str) -> Result<TokenSigner, TokenError> {
        let pkcs11 = Pkcs11::new(module).map_err(|e| module_error(module, e))?;
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| module_error(module, e))?;
        let mut found = Vec::new();
        for slot in pkcs11
            .get_slots_with_token()
            .map_err(|e| module_error(module, e))?
        {
            // A slot whose token is not initialised (SoftHSM2 always offers one) holds no key.
            let Ok(info) = pkcs11.get_token_info(slot) else {
                continue;
            };
            if !info.token_initialized() {
                continue;
            }
            let label = info.label().trim().to_owned();
            if which.token_label.as_ref().is_none_or(|l| *l == label) {
                found.push((slot, label));
            }
        }
        let slot = match found.as_slice() {
            [] => {
                return Err(TokenError::NoToken {
                    label: which.token_label.clone(),
                });
            }
            [(slot, _)] => *slot,
            more => {
                return Err(TokenError::Ambiguous {
                    what: "token",
                    found: labels(more.iter().map(|(_, l)| l.as_str())),
                    option: "--token-label",
                });
            }
        };
        let session = pkcs11
            .open_ro_session(slot)
            .map_err(|e| module_error(module, e))?;
        let secret = AuthPin::from(pin.to_owned());
        session
            .login(UserType::User, Some(&secret))
            .map_err(|e| TokenError::Login(e.to_string()))?;
        drop(secret);
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        if let Some(l) = &which.key_label {
            template.push(Attribute::Label(l.as_bytes().to_vec()));
        }
        let keys = session
            .find_objects(&template)
            .map_err(|e| TokenError::Sign(e.to_string()))?;
        let key = match keys.as_slice() {
            [] => {
                return Err(TokenError::NoKey {
                    label: which.key_label.clone(),
                });
            }
            [key] => *key,
            more => {
                let names: Vec<String> = more
                    .iter()
                    .map(|k| label_of(&session, *k).unwrap_or_else(|| "?".into()))
                    .collect();
                return Err(TokenError::Ambiguous {
                    what: "khóa",
                    found: labels(names.iter().map(String::as_str)),
                    option: "--key-label",
                });
            }
        };
        let certificate = certificate_for(&session, key);
        Ok(TokenSigner {
            session,
            key,
            certificate,
        })
    }

    /// The certificate stored on the token with the key's `CKA_ID`, if any.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// Signs `to_sign` (the DER signed attributes) under `scheme`; the value as the token
    /// returns it (RSA: the modulus length; ECDSA: `r‖s`; Ed25519: 64 bytes).
    ///
    /// # Errors
    /// [`TokenError::Unsupported`] for RSA-PSS or SHA-512 ECDSA, [`TokenError::Sign`] when the
    /// token refuses.
    pub fn sign(&self, scheme: Scheme, to_sign: &[u8]) -> Result<Vec<u8>, TokenError> {
        let (mechanism, data) = match scheme {
            Scheme::RsaPkcs1v15 { hash } => (Mechanism::RsaPkcs, hash.digest_info(to_sign)),
            Scheme::Ecdsa { hash } => (Mechanism::Ecdsa, hash.digest(to_sign)),
            Scheme::Ed25519 => (
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                to_sign.to_vec(),
            ),
            Scheme::RsaPss { .. } => return Err(TokenError::Unsupported("RSASSA-PSS".into())),
        };
        self.session
            .sign(&mechanism, self.key, &data)
            .map_err(|e| TokenError::Sign(e.to_string()))
    }
}

fn labels<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|l| format!("\"{l}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label_of(session: &Session, object: ObjectHandle) -> Option<String> {
    session
        .get_attributes(object, &[AttributeType::Label])
        .ok()?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Label(l) => Some(String::from_utf8_lossy(&l).into_owned()),
            _ => None,
        })
}

/// The X.509 certificate object with the key's `CKA_ID` (PKCS#11 §4.6.3).
fn certificate_for(session: &Session, key: ObjectHandle) -> Option<Certificate> {
    let id = session
        .get_attributes(key, &[AttributeType::Id])
        .ok()?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Id(id) => Some(id),
            _ => None,
        })?;
    let certs = session
        .find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::Id(id),
        ])
        .ok()?;
    certs.into_iter().find_map(|c| {
        session
            .get_attributes(c, &[AttributeType::Value])
            .ok()?
            .into_iter()
            .find_map(|a| match a {
                Attribute::Value(der) => Certificate::from_der(&der).ok(),
                _ => None,
            })
    })
}

#[cfg(test)]
mod tests {
    use crate::pki::alg::HashAlg;

    /// The DigestInfo prefixes are RFC 8017 §9.2 note 1's, byte for byte (checked against the
    /// `rsa` crate's PKCS#1 v1.5 encoding via verification of a hand-padded value is done in
    /// the SoftHSM2 integration test; here: structure).
    #[test]
    fn digest_info_is_a_der_sequence_of_the_right_length() {
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let di = hash.digest_info(b"x");
            assert_eq!(di.first(), Some(&0x30));
            assert_eq!(
                usize::from(di.get(1).copied().unwrap_or(0)) + 2,
                di.len(),
                "{hash:?}"
            );
            let oid_last = di.get(14).copied();
            let want = match hash {
                HashAlg::Sha256 => 1,
                HashAlg::Sha384 => 2,
                HashAlg::Sha512 => 3,
            };
            assert_eq!(oid_last, Some(want));
            assert_eq!(di.len(), 19 + hash.output_len());
        }
    }
}
