//! The key a leader signs with on this machine, for `giaouoc sign` and `giaouoc client sign`:
//! a key file from `giaouoc keygen` (Ed25519), or a key on a PKCS#11 token (`--pkcs11`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use x509_cert::Certificate;

use giaouoc::pki;
use giaouoc::sign::token::{TokenKey, TokenSigner};

/// The environment variable the token's PIN is read from (else it is asked on the terminal).
const PIN_ENV: &str = "GIAOUOC_PKCS11_PIN";

#[derive(clap::Args, Debug)]
pub(crate) struct SignerArgs {
    /// The leader's private key file (PKCS#8 PEM from `giaouoc keygen`: Ed25519 or ECDSA P-256).
    #[arg(long, required_unless_present = "pkcs11", conflicts_with = "pkcs11")]
    key: Option<PathBuf>,
    /// Sign with a key on a PKCS#11 token: the vendor's module (e.g. the CA's token driver, or
    /// /usr/lib/softhsm/libsofthsm2.so). The PIN comes from GIAOUOC_PKCS11_PIN or is asked.
    #[arg(long)]
    pkcs11: Option<PathBuf>,
    /// The token's label, when several tokens are plugged in.
    #[arg(long, requires = "pkcs11")]
    token_label: Option<String>,
    /// The key's label on the token, when it holds several keys.
    #[arg(long, requires = "pkcs11")]
    key_label: Option<String>,
}

/// A key ready to sign.
pub(crate) enum LocalSigner {
    File(Box<pki::IssuerKey>),
    Token(Box<TokenSigner>),
}

impl LocalSigner {
    /// Reads the key file, or opens the token and logs in.
    pub(crate) fn open(a: &SignerArgs) -> Result<LocalSigner> {
        if let Some(module) = &a.pkcs11 {
            let pin = match std::env::var(PIN_ENV) {
                Ok(p) if !p.is_empty() => zeroize::Zeroizing::new(p),
                _ => zeroize::Zeroizing::new(
                    rpassword::prompt_password("Mã PIN của token: ")
                        .context("không đọc được mã PIN (đặt GIAOUOC_PKCS11_PIN hoặc chạy trong một terminal)")?,
                ),
            };
            let which = TokenKey {
                token_label: a.token_label.clone(),
                key_label: a.key_label.clone(),
            };
            return Ok(LocalSigner::Token(Box::new(TokenSigner::open(
                module, &which, &pin,
            )?)));
        }
        let path = a.key.as_ref().context("cần --key hoặc --pkcs11")?;
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("không đọc được {}", path.display()))?,
        );
        Ok(LocalSigner::File(Box::new(pki::IssuerKey::from_pem(
            &text,
        )?)))
    }

    /// The certificate the token holds for its key.
    pub(crate) fn token_certificate(&self) -> Option<&Certificate> {
        match self {
            LocalSigner::Token(t) => t.certificate(),
            LocalSigner::File(_) => None,
        }
    }

    /// Fails when this key is not `cert`'s (a key file is compared directly; a token's key is
    /// proven by the signature, which is checked against the certificate before embedding).
    pub(crate) fn check_matches(&self, cert: &Certificate) -> Result<()> {
        if let LocalSigner::File(key) = self
            && cert.tbs_certificate.subject_public_key_info != key.spki()?
        {
            anyhow::bail!("khóa bí mật không khớp với chứng thư số");
        }
        Ok(())
    }

    /// Signs the DER signed attributes `to_sign` the way `cert`'s key signs.
    pub(crate) fn sign(&self, cert: &Certificate, to_sign: &[u8]) -> Result<Vec<u8>> {
        // What we sign must be a DER SET of signed attributes (RFC 5652 §5.4), nothing else.
        if to_sign.first() != Some(&0x31) || to_sign.len() > 8192 {
            anyhow::bail!("dữ liệu cần ký không phải thuộc tính ký CMS; từ chối ký");
        }
        let scheme = giaouoc::cms::scheme_for(cert)?;
        match self {
            LocalSigner::File(key) => Ok(key.sign(to_sign)),
            LocalSigner::Token(t) => Ok(t.sign(scheme, to_sign)?),
        }
    }
}
