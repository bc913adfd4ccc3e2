//! The bloc's certificate authority: its key and certificate, kept in a folder, issuing the
//! leaders' certificates and the CRL. One implementation for the command line (`giaouoc ca`)
//! and the service (one CA per bloc under the data folder).
//!
//! A CA folder holds `ca.key` (PKCS#8 PEM, mode 0600, written once) and `ca.crt` (PEM). The
//! profiles are those of [`crate::pki`] (RFC 5280, RFC 8410). Times, serial numbers and keys
//! are passed in: this module never reads the clock.

use std::path::Path;

use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::pki::{self, PkiError};

/// File name of the CA's private key in its folder.
/// The kind of key a new bloc CA gets (and signs with).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaKeyKind {
    /// Ed25519.
    #[default]
    Ed25519,
    /// ECDSA P-256 with SHA-256: the certificates Acrobat and Circular 15/2025 accept.
    P256,
}

impl CaKeyKind {
    /// A new key of this kind from the caller's RNG.
    pub fn generate(self, rng: &mut impl rand_core::CryptoRngCore) -> pki::IssuerKey {
        match self {
            CaKeyKind::Ed25519 => pki::IssuerKey::Ed25519(pki::generate_signing_key(rng)),
            CaKeyKind::P256 => pki::IssuerKey::generate_p256(rng),
        }
    }
}

pub const KEY_FILE: &str = "ca.key";
/// File name of the CA's certificate in its folder.
pub const CERT_FILE: &str = "ca.crt";

/// Why a CA could not be created, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The folder already holds a CA.
    #[error("{0} đã có CA (ca.key)")]
    Exists(String),
    /// A key, certificate, name or time was refused by the PKI profile.
    #[error("{0}")]
    Pki(#[from] PkiError),
    /// `ca.crt` holds no certificate.
    #[error("ca.crt không có chứng thư")]
    NoCertificate,
    /// `ca.key` is not the key of `ca.crt`.
    #[error("ca.key không khớp với ca.crt")]
    KeyMismatch,
    /// The CA's validity does not cover the requested period.
    #[error("thời hạn yêu cầu nằm ngoài thời hạn của CA")]
    OutsideValidity,
    /// The key file is sealed and cannot be opened (see [`crate::secrets`]).
    #[error("{0}")]
    Secret(#[from] crate::secrets::SecretError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A bloc CA: its signing key and self-signed certificate.
pub struct BlocCa {
    /// The CA certificate.
    pub cert: Certificate,
    /// The same, PEM.
    pub cert_pem: String,
    key: pki::IssuerKey,
    /// Where the certificates it issues say its CRL and OCSP responder are.
    urls: Option<pki::RevocationUrls>,
}

impl std::fmt::Debug for BlocCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlocCa")
            .field("subject", &pki::cert_info(&self.cert).subject_cn)
            .finish_non_exhaustive()
    }
}

impl BlocCa {
    /// A new CA named `name` (NFC), serial 1, valid from `not_before` to `not_after`.
    ///
    /// # Errors
    /// A name or period the profile refuses.
    pub fn create(
        key: impl Into<pki::IssuerKey>,
        name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<BlocCa, CaError> {
        let key = key.into();
        let cert = pki::create_ca_certificate_with(
            &key,
            &pki::CaSubject {
                name: crate::covenant::nfc(name),
            },
            1,
            not_before,
            not_after,
        )?;
        let cert_pem = pki::certificate_to_pem(&cert)?;
        Ok(BlocCa {
            cert,
            cert_pem,
            key,
            urls: None,
        })
    }

    /// The same CA, naming `urls` in the certificates it issues from now on.
    pub fn with_revocation_urls(mut self, urls: pki::RevocationUrls) -> BlocCa {
        self.urls = Some(urls);
        self
    }

    /// Answers a DER OCSP request about its certificates (RFC 6960), signing itself:
    /// `status_of` gives each serial's status (DER INTEGER contents).
    pub fn ocsp(
        &self,
        request: &[u8],
        status_of: impl Fn(&[u8]) -> pki::ocsp::OcspStatus,
        now: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Vec<u8> {
        pki::ocsp::respond(request, &self.key, &self.cert, status_of, now, next_update)
    }

    /// The CA kept in `dir` (`ca.key`, `ca.crt`); the key must be the certificate's.
    ///
    /// # Errors
    /// Unreadable files, no certificate, or a key of another certificate.
    pub fn open(dir: &Path) -> Result<BlocCa, CaError> {
        Self::open_with(dir, None)
    }

    /// [`BlocCa::open`] with the key sealed under `master` (a plain key is sealed on this read).
    ///
    /// # Errors
    /// As [`BlocCa::open`]; a sealed key without its master key.
    pub fn open_with(
        dir: &Path,
        master: Option<&crate::secrets::MasterKey>,
    ) -> Result<BlocCa, CaError> {
        let key_path = dir.join(KEY_FILE);
        let key_pem = crate::secrets::read_key(&key_path, master)?;
        let key = pki::IssuerKey::from_pem(&key_pem)?;
        let cert_path = dir.join(CERT_FILE);
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        let cert = pki::certificates_from_pem_or_der(cert_pem.as_bytes())?
            .into_iter()
            .next()
            .ok_or(CaError::NoCertificate)?;
        if cert.tbs_certificate.subject_public_key_info != key.spki()? {
            return Err(CaError::KeyMismatch);
        }
        Ok(BlocCa {
            cert,
            cert_pem,
            key,
            urls: None,
        })
    }

    /// Writes `ca.key` (0600, never overwritten) and `ca.crt` into `dir` (created, 0700).
    ///
    /// # Errors
    /// The folder already has a key, or a write fails.
    pub fn write_new(&self, dir: &Path) -> Result<(), CaError> {
        self.write_new_with(dir, None)
    }

    /// [`BlocCa::write_new`], the key sealed under `master` when given.
    ///
    /// # Errors
    /// As [`BlocCa::write_new`].
    pub fn write_new_with(
        &self,
        dir: &Path,
        master: Option<&crate::secrets::MasterKey>,
    ) -> Result<(), CaError> {
        let key_path = dir.join(KEY_FILE);
        if key_path.exists() {
            return Err(CaError::Exists(dir.display().to_string()));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(dir))?;
        }
        let key_pem = self.key.to_pem()?;
        crate::secrets::write_key(&key_path, key_pem.as_bytes(), master)?;
        let cert_path = dir.join(CERT_FILE);
        write_secret(&cert_path, self.cert_pem.as_bytes()).map_err(io(&cert_path))?;
        Ok(())
    }

    /// Issues a leader's certificate for `public_key`, valid from `not_before` to
    /// `not_after`, both clamped to the CA's own validity.
    ///
    /// # Errors
    /// A subject the profile refuses, or a period outside the CA's validity.
    pub fn issue(
        &self,
        public_key: &pki::VerifyingKey,
        subject: &pki::LeaderSubject,
        serial: u64,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Certificate, CaError> {
        self.issue_spki(
            &pki::verifying_key_to_spki(public_key)?,
            subject,
            serial,
            not_before,
            not_after,
        )
    }

    /// [`BlocCa::issue`] for a subject key of either kind (Ed25519, ECDSA P-256), given as its
    /// SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Another key kind, or a validity outside the CA's.
    pub fn issue_spki(
        &self,
        public_key: &spki::SubjectPublicKeyInfoOwned,
        subject: &pki::LeaderSubject,
        serial: u64,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Certificate, CaError> {
        let (not_before, not_after) = self.clamped(not_before, not_after)?;
        Ok(pki::issue_leader_certificate_pointing(
            &self.key,
            &self.cert,
            public_key,
            subject,
            serial,
            (not_before, not_after),
            self.urls.as_ref(),
        )?)
    }

    /// Issues a unit's organisation certificate (its seal, see [`pki::OrganisationSubject`]);
    /// the period is clamped to the CA's validity.
    ///
    /// # Errors
    /// Another key kind, a name the profile refuses, or a period outside the CA's validity.
    pub fn issue_organisation(
        &self,
        public_key: &spki::SubjectPublicKeyInfoOwned,
        subject: &pki::OrganisationSubject,
        serial: u64,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Certificate, CaError> {
        let period = self.clamped(not_before, not_after)?;
        Ok(pki::issue_organisation_certificate(
            &self.key,
            &self.cert,
            public_key,
            subject,
            serial,
            period,
            self.urls.as_ref(),
        )?)
    }

    /// Issues a certificate for one of the service's units (a time-stamping unit, an OCSP
    /// responder) named `name`, with `purpose` as its sole, critical extended key usage; the
    /// period is clamped to the CA's validity.
    ///
    /// # Errors
    /// A name the profile refuses, or a period outside the CA's validity.
    pub fn issue_service(
        &self,
        public_key: &spki::SubjectPublicKeyInfoOwned,
        name: &str,
        purpose: pki::ServicePurpose,
        serial: u64,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Certificate, CaError> {
        let (not_before, not_after) = self.clamped(not_before, not_after)?;
        let organisation = pki::cert_info(&self.cert)
            .subject_cn
            .unwrap_or_else(|| "giaouoc".to_owned());
        Ok(pki::issue_service_certificate(
            &self.key,
            &self.cert,
            public_key,
            &crate::covenant::nfc(name),
            &organisation,
            purpose,
            serial,
            not_before,
            not_after,
        )?)
    }

    /// A CRL (DER) listing `revoked` (serial, revocation time), issued at `at`, valid until
    /// `next_update`, with CRL number `number` (RFC 5280 §5).
    ///
    /// # Errors
    /// A time or number the profile refuses.
    pub fn crl(
        &self,
        revoked: &[(u64, OffsetDateTime)],
        at: OffsetDateTime,
        next_update: OffsetDateTime,
        number: u64,
    ) -> Result<Vec<u8>, CaError> {
        Ok(pki::create_crl_with(
            &self.key,
            &self.cert,
            revoked,
            at,
            next_update,
            number,
        )?)
    }

    /// `not_before`..`not_after` clamped to the CA's own validity; empty is an error.
    fn clamped(
        &self,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<(OffsetDateTime, OffsetDateTime), CaError> {
        let (ca_from, ca_until) = self.validity()?;
        let not_before = not_before.max(ca_from);
        let not_after = not_after.min(ca_until);
        if not_after <= not_before {
            return Err(CaError::OutsideValidity);
        }
        Ok((not_before, not_after))
    }

    /// The CA certificate's notBefore and notAfter.
    ///
    /// # Errors
    /// A validity out of range (a broken certificate).
    pub fn validity(&self) -> Result<(OffsetDateTime, OffsetDateTime), CaError> {
        let v = &self.cert.tbs_certificate.validity;
        let t = |t: &x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs())
                .ok()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .ok_or(CaError::OutsideValidity)
        };
        Ok((t(&v.not_before)?, t(&v.not_after)?))
    }
}

/// Creates `path` (it must not exist) readable by the owner only, writes `bytes` and syncs.
///
/// # Errors
/// The file exists or cannot be written.
pub fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut file = opts.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key(seed: u8) -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
    }

    /// A test CA valid from the start of 2026 for `years` years.
    fn test_ca(years: i32) -> BlocCa {
        let from = datetime!(2026-01-01 0:00 UTC);
        let until = from.replace_year(2026 + years).unwrap();
        BlocCa::create(key(1), "Khối thi đua thử", from, until).unwrap()
    }

    #[test]
    fn a_ca_written_to_a_folder_opens_again_and_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("giaouoc-ca-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = test_ca(10);
        ca.write_new(&dir).unwrap();
        let again = BlocCa::open(&dir).unwrap();
        assert_eq!(again.cert, ca.cert);
        assert!(matches!(ca.write_new(&dir), Err(CaError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Another CA's key under this certificate is refused.
        std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
        let other = pki::signing_key_to_pem(&key(2)).unwrap();
        write_secret(&dir.join(KEY_FILE), other.as_bytes()).unwrap();
        assert!(matches!(BlocCa::open(&dir), Err(CaError::KeyMismatch)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn issued_certificates_stay_inside_the_ca_validity() {
        let ca = test_ca(1);
        let subject = pki::LeaderSubject {
            full_name: "Âu Thị Hải Yến".into(),
            title: "Phó Giám đốc".into(),
            unit_name: "Trung tâm Văn hóa".into(),
            unit_id: "U07".into(),
        };
        let cert = ca
            .issue(
                &key(3).verifying_key(),
                &subject,
                7,
                datetime!(2025-06-01 0:00 UTC),
                datetime!(2028-06-01 0:00 UTC),
            )
            .unwrap();
        let info = pki::cert_info(&cert);
        assert_eq!(info.not_before, "2026-01-01T00:00:00Z");
        assert_eq!(info.not_after, "2027-01-01T00:00:00Z");
        assert!(matches!(
            ca.issue(
                &key(3).verifying_key(),
                &subject,
                8,
                datetime!(2030-01-01 0:00 UTC),
                datetime!(2031-01-01 0:00 UTC),
            ),
            Err(CaError::OutsideValidity)
        ));
    }
}
