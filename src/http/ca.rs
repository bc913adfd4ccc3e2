//! The blocs' certificate authorities, kept under `<data_dir>/ca/<bloc id>/`: `ca.key`
//! (PKCS#8 PEM, mode 0600) and `ca.crt`. The certificate is also recorded in the store's
//! bloc row; a folder whose certificate does not match its bloc (a creation that failed
//! half-way) is ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;

use super::error::{ApiError, ApiResult};
use crate::pki;
use crate::store::{Stamp, Store, StoreError};

/// CA certificates are valid this long from their creation.
const CA_YEARS: i64 = 10;
/// Leaders' certificates are valid this long from their approval (within the CA's validity).
const LEADER_DAYS: i64 = 2 * 366;

/// One bloc's CA.
pub struct BlocCa {
    pub bloc_id: String,
    pub cert: Certificate,
    pub cert_pem: String,
    key: SigningKey,
}

impl BlocCa {
    /// Issues a leader certificate for `public_key`; returns it with its serial (hex).
    pub fn issue(
        &self,
        public_key: &pki::VerifyingKey,
        subject: &pki::LeaderSubject,
        now: OffsetDateTime,
    ) -> ApiResult<(Certificate, String)> {
        let validity = &self.cert.tbs_certificate.validity;
        let ca_from = pki_time(&validity.not_before)?;
        let ca_until = pki_time(&validity.not_after)?;
        // An hour of slack before now (clocks differ), never outside the CA's validity.
        let not_before = (now - Duration::hours(1)).max(ca_from);
        let not_after = (now + Duration::days(LEADER_DAYS)).min(ca_until);
        let serial = random_serial();
        let cert = pki::issue_leader_certificate(
            &self.key, &self.cert, public_key, subject, serial, not_before, not_after,
        )
        .map_err(|e| match e {
            pki::PkiError::Name { .. } => {
                ApiError::invalid("invalid_subject", "", format!("tên trong chứng thư: {e}"))
            }
            other => ApiError::internal(format!("issuing a certificate: {other}")),
        })?;
        Ok((cert, format!("{serial:x}")))
    }
}

/// Every bloc CA this service holds the key of.
pub(crate) struct CaRing {
    dir: PathBuf,
    cas: RwLock<BTreeMap<String, Arc<BlocCa>>>,
    create: tokio::sync::Mutex<()>,
}

impl CaRing {
    /// Loads `<data_dir>/ca/*/` for the blocs of the store.
    pub(crate) async fn open(data_dir: &Path, store: &Store) -> Result<CaRing, StoreError> {
        let dir = data_dir.join("ca");
        tokio::fs::create_dir_all(&dir).await?;
        let mut cas = BTreeMap::new();
        let mut entries = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let Ok(bloc_id) = entry.file_name().into_string() else {
                continue;
            };
            if bloc_id.starts_with('.') {
                continue;
            }
            let bloc = match store.get_bloc(&bloc_id).await {
                Ok(bloc) => bloc,
                Err(StoreError::NotFound { .. }) => {
                    tracing::warn!(bloc = bloc_id, "CA folder without a bloc; ignored");
                    continue;
                }
                Err(e) => return Err(e),
            };
            match load(&entry.path(), &bloc_id) {
                Ok(ca) if same_cert(&ca.cert, &bloc.ca_cert_pem) => {
                    cas.insert(bloc_id, Arc::new(ca));
                }
                Ok(_) => {
                    tracing::warn!(bloc = bloc_id, "CA folder does not match the bloc; ignored")
                }
                Err(e) => {
                    tracing::warn!(bloc = bloc_id, error = %e, "unreadable CA folder; ignored")
                }
            }
        }
        Ok(CaRing {
            dir,
            cas: RwLock::new(cas),
            create: tokio::sync::Mutex::new(()),
        })
    }

    pub(crate) fn get(&self, bloc_id: &str) -> Option<Arc<BlocCa>> {
        self.cas.read().ok()?.get(bloc_id).cloned()
    }

    /// The CA of `bloc_id` or a 500 (the bloc exists but we lost its key).
    pub(crate) fn require(&self, bloc_id: &str) -> ApiResult<Arc<BlocCa>> {
        self.get(bloc_id)
            .ok_or_else(|| ApiError::internal(format!("no CA key for bloc {bloc_id}")))
    }

    pub(crate) fn bloc_ids(&self) -> Vec<String> {
        self.cas
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every CA certificate, the trust roots of `/verify`.
    pub(crate) fn trust_roots(&self) -> Vec<Certificate> {
        self.cas
            .read()
            .map(|m| m.values().map(|c| c.cert.clone()).collect())
            .unwrap_or_default()
    }

    /// The bloc's CA; creates the bloc with a new CA if the store does not have it.
    pub(crate) async fn ensure_bloc(
        &self,
        store: &Store,
        stamp: &Stamp<'_>,
        bloc_id: &str,
        name: &str,
    ) -> ApiResult<Arc<BlocCa>> {
        let _guard = self.create.lock().await;
        if let Some(ca) = self.get(bloc_id) {
            return Ok(ca);
        }
        match store.get_bloc(bloc_id).await {
            Ok(_) => {
                return Err(ApiError::internal(format!(
                    "bloc {bloc_id} exists but its CA key is not under the data dir"
                )));
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let key = pki::generate_signing_key(&mut OsRng);
        let now = stamp.at;
        let cert = pki::create_ca_certificate(
            &key,
            &pki::CaSubject {
                name: crate::covenant::nfc(name),
            },
            1,
            now - Duration::days(1),
            now + Duration::days(365 * CA_YEARS),
        )
        .map_err(|e| ApiError::invalid("invalid_bloc", "bloc.name", e.to_string()))?;
        let cert_pem = pki::certificate_to_pem(&cert).map_err(ApiError::internal)?;
        let key_pem = pki::signing_key_to_pem(&key).map_err(ApiError::internal)?;
        let folder = self.dir.join(bloc_id);
        let written = write_ca(&folder, &key_pem, &cert_pem).await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_dir_all(&folder).await;
            return Err(ApiError::internal(format!(
                "writing the CA of {bloc_id}: {e}"
            )));
        }
        if let Err(e) = store.create_bloc(stamp, bloc_id, name, &cert_pem).await {
            let _ = tokio::fs::remove_dir_all(&folder).await;
            return Err(e.into());
        }
        let ca = Arc::new(BlocCa {
            bloc_id: bloc_id.to_owned(),
            cert,
            cert_pem,
            key,
        });
        if let Ok(mut cas) = self.cas.write() {
            cas.insert(bloc_id.to_owned(), Arc::clone(&ca));
        }
        tracing::info!(bloc = bloc_id, "bloc CA created");
        Ok(ca)
    }
}

async fn write_ca(folder: &Path, key_pem: &str, cert_pem: &str) -> std::io::Result<()> {
    // A leftover of an earlier failed creation (its bloc is not in the store) is replaced.
    if tokio::fs::try_exists(folder).await? {
        tokio::fs::remove_dir_all(folder).await?;
    }
    tokio::fs::create_dir_all(folder).await?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).await?;
    }
    write_secret(&folder.join("ca.key"), key_pem.as_bytes())?;
    write_secret(&folder.join("ca.crt"), cert_pem.as_bytes())?;
    Ok(())
}

/// Creates `path` (it must not exist) readable by the owner only, and syncs it.
pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

fn load(folder: &Path, bloc_id: &str) -> Result<BlocCa, String> {
    let key_pem = std::fs::read_to_string(folder.join("ca.key")).map_err(|e| e.to_string())?;
    let key = pki::signing_key_from_pem(&key_pem).map_err(|e| e.to_string())?;
    let cert_pem = std::fs::read_to_string(folder.join("ca.crt")).map_err(|e| e.to_string())?;
    let cert = pki::certificates_from_pem_or_der(cert_pem.as_bytes())
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("ca.crt holds no certificate")?;
    let cert_key = pki::certificate_verifying_key(&cert).map_err(|e| e.to_string())?;
    if cert_key != key.verifying_key() {
        return Err("ca.key does not match ca.crt".into());
    }
    Ok(BlocCa {
        bloc_id: bloc_id.to_owned(),
        cert,
        cert_pem,
        key,
    })
}

fn same_cert(cert: &Certificate, pem: &str) -> bool {
    pki::certificates_from_pem_or_der(pem.as_bytes())
        .ok()
        .and_then(|v| v.into_iter().next())
        .is_some_and(|c| &c == cert)
}

fn pki_time(t: &x509_cert::time::Time) -> ApiResult<OffsetDateTime> {
    i64::try_from(t.to_unix_duration().as_secs())
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| ApiError::internal("CA validity out of range"))
}

/// A positive 63-bit serial number.
fn random_serial() -> u64 {
    (OsRng.next_u64() >> 1).max(2)
}
