//! The blocs' certificate authorities held by the service, one [`crate::ca::BlocCa`] per bloc
//! in `<data_dir>/ca/<bloc id>/`. The certificate is also recorded in the store's bloc row; a
//! folder whose certificate does not match its bloc (a creation that failed half-way) is
//! ignored. When several instances share a PostgreSQL database, each CA's files (the key
//! sealed under the master key) are also stored in it ([`Store::create_bloc_with_keys`]) and
//! an instance loads the CAs the others created from there: its folder is only a cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rand_core::{OsRng, RngCore};
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;

use super::error::{ApiError, ApiResult};
use crate::ca::{BlocCa, CaError};
use crate::pki;
use crate::store::{Backend, Stamp, Store, StoreError};

pub use crate::ca::write_secret;

/// CA certificates are valid this long from their creation.
const CA_YEARS: i64 = 10;
/// Leaders' certificates are valid this long from their approval (within the CA's validity).
const LEADER_DAYS: i64 = 2 * 366;

/// Whose certificate the bloc CA issues on an approved enrolment.
pub(crate) enum Subject {
    /// A unit's leader.
    Leader(pki::LeaderSubject),
    /// The unit itself (its seal).
    Organisation(pki::OrganisationSubject),
}

/// Issues a certificate for `public_key` with a random serial, valid from an hour before
/// `now` (clocks differ) for [`LEADER_DAYS`]; returns it with its serial (hex).
pub(crate) fn issue_for(
    ca: &BlocCa,
    public_key: &spki::SubjectPublicKeyInfoOwned,
    subject: &Subject,
    now: OffsetDateTime,
) -> ApiResult<(Certificate, String)> {
    let serial = random_serial();
    let (from, to) = (now - Duration::hours(1), now + Duration::days(LEADER_DAYS));
    let cert = match subject {
        Subject::Leader(s) => ca.issue_spki(public_key, s, serial, from, to),
        Subject::Organisation(s) => ca.issue_organisation(public_key, s, serial, from, to),
    }
    .map_err(|e| match e {
        CaError::Pki(pki::PkiError::Name { .. }) => {
            ApiError::invalid("invalid_subject", "", format!("tên trong chứng thư: {e}"))
        }
        other => ApiError::internal(format!("issuing a certificate: {other}")),
    })?;
    Ok((cert, format!("{serial:x}")))
}

/// Every bloc CA this service holds the key of.
pub(crate) struct CaRing {
    dir: PathBuf,
    /// The service's public URL: new certificates name the bloc's CRL and OCSP responder
    /// under it.
    public_url: Option<String>,
    /// The kind of key a new bloc's CA gets.
    new_key: crate::ca::CaKeyKind,
    /// Seals the CAs' keys at rest (see [`crate::secrets`]).
    master: Option<Arc<crate::secrets::MasterKey>>,
    cas: RwLock<BTreeMap<String, Arc<BlocCa>>>,
    create: tokio::sync::Mutex<()>,
    /// The database, when instances share it (the CAs' files are kept there too).
    shared: Option<Store>,
}

impl CaRing {
    /// Loads `<data_dir>/ca/*/` for the blocs of the store.
    pub(crate) async fn open(
        data_dir: &Path,
        store: &Store,
        new_key: crate::ca::CaKeyKind,
        public_url: Option<String>,
        master: Option<Arc<crate::secrets::MasterKey>>,
    ) -> Result<CaRing, StoreError> {
        let public_url = public_url.map(|u| u.trim_end_matches('/').to_owned());
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
            match BlocCa::open_with(&entry.path(), master.as_deref()) {
                Ok(ca) if same_cert(&ca.cert, &bloc.ca_cert_pem) => {
                    let ca = pointing(ca, public_url.as_deref(), &bloc_id);
                    cas.insert(bloc_id, Arc::new(ca));
                }
                Ok(_) => {
                    tracing::warn!(bloc = bloc_id, "CA folder does not match the bloc; ignored")
                }
                // A sealed key the service cannot open stops it: the bloc would lose its CA.
                Err(CaError::Secret(e)) => return Err(StoreError::Invalid(e.to_string())),
                Err(e) => {
                    tracing::warn!(bloc = bloc_id, error = %e, "unreadable CA folder; ignored")
                }
            }
        }
        let ring = CaRing {
            dir,
            public_url,
            new_key,
            master,
            cas: RwLock::new(cas),
            create: tokio::sync::Mutex::new(()),
            shared: (store.backend() == Backend::Postgres).then(|| store.clone()),
        };
        ring.refresh().await?;
        Ok(ring)
    }

    /// The CA of `bloc_id` if loaded (no database access).
    pub(crate) fn get(&self, bloc_id: &str) -> Option<Arc<BlocCa>> {
        self.cas.read().ok()?.get(bloc_id).cloned()
    }

    /// The CA of `bloc_id` (loaded from the shared database if another instance created it)
    /// or a 500 (the bloc exists but we lost its key).
    pub(crate) async fn require(&self, bloc_id: &str) -> ApiResult<Arc<BlocCa>> {
        if let Some(ca) = self.get(bloc_id) {
            return Ok(ca);
        }
        if let Some(store) = &self.shared
            && let Some(ca) = self.load_from_store(store, bloc_id).await?
        {
            return Ok(ca);
        }
        Err(ApiError::internal(format!("no CA key for bloc {bloc_id}")))
    }

    /// The blocs whose CA this service holds.
    pub(crate) async fn bloc_ids(&self) -> ApiResult<Vec<String>> {
        self.refresh().await?;
        Ok(self
            .cas
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Every CA certificate, the trust roots of `/verify`.
    pub(crate) async fn trust_roots(&self) -> ApiResult<Vec<Certificate>> {
        self.refresh().await?;
        Ok(self
            .cas
            .read()
            .map(|m| m.values().map(|c| c.cert.clone()).collect())
            .unwrap_or_default())
    }

    /// Loads the CAs of the blocs other instances created (shared database only).
    async fn refresh(&self) -> Result<(), StoreError> {
        let Some(store) = &self.shared else {
            return Ok(());
        };
        for bloc_id in store.bloc_ids().await? {
            if self.get(&bloc_id).is_none() {
                self.load_from_store(store, &bloc_id).await?;
            }
        }
        Ok(())
    }

    /// Writes the bloc's CA files from the database into its folder and opens them.
    async fn load_from_store(
        &self,
        store: &Store,
        bloc_id: &str,
    ) -> Result<Option<Arc<BlocCa>>, StoreError> {
        let files = store.service_keys(&format!("ca/{bloc_id}/")).await?;
        if files.is_empty() {
            return Ok(None);
        }
        let bloc = match store.get_bloc(bloc_id).await {
            Ok(bloc) => bloc,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let data_dir = self.dir.parent().unwrap_or(&self.dir);
        crate::secrets::write_key_files(data_dir, &files)?;
        match BlocCa::open_with(&self.dir.join(bloc_id), self.master.as_deref()) {
            Ok(ca) if same_cert(&ca.cert, &bloc.ca_cert_pem) => {
                let ca = Arc::new(pointing(ca, self.public_url.as_deref(), bloc_id));
                if let Ok(mut cas) = self.cas.write() {
                    cas.insert(bloc_id.to_owned(), Arc::clone(&ca));
                }
                tracing::info!(bloc = bloc_id, "bloc CA loaded from the database");
                Ok(Some(ca))
            }
            Ok(_) => {
                tracing::warn!(bloc = bloc_id, "stored CA does not match the bloc; ignored");
                Ok(None)
            }
            Err(CaError::Secret(e)) => Err(StoreError::Invalid(e.to_string())),
            Err(e) => {
                tracing::warn!(bloc = bloc_id, error = %e, "unreadable stored CA; ignored");
                Ok(None)
            }
        }
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
                if let Some(shared) = &self.shared
                    && let Some(ca) = self.load_from_store(shared, bloc_id).await?
                {
                    return Ok(ca);
                }
                return Err(ApiError::internal(format!(
                    "bloc {bloc_id} exists but its CA key is not under the data dir"
                )));
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let key = self.new_key.generate(&mut OsRng);
        let now = stamp.at;
        let ca = BlocCa::create(
            key,
            name,
            now - Duration::days(1),
            now + Duration::days(365 * CA_YEARS),
        )
        .map_err(|e| ApiError::invalid("invalid_bloc", "bloc.name", e.to_string()))?;
        let folder = self.dir.join(bloc_id);
        let written = write_ca(&folder, &ca, self.master.as_deref()).await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_dir_all(&folder).await;
            return Err(ApiError::internal(format!(
                "writing the CA of {bloc_id}: {e}"
            )));
        }
        let created = match &self.shared {
            Some(_) => match crate::secrets::read_key_files(
                self.dir.parent().unwrap_or(&self.dir),
                &format!("ca/{bloc_id}"),
            ) {
                Ok(files) => {
                    store
                        .create_bloc_with_keys(stamp, bloc_id, name, &ca.cert_pem, &files)
                        .await
                }
                Err(e) => Err(StoreError::Io(e)),
            },
            None => store.create_bloc(stamp, bloc_id, name, &ca.cert_pem).await,
        };
        if let Err(e) = created {
            let _ = tokio::fs::remove_dir_all(&folder).await;
            return Err(e.into());
        }
        let ca = Arc::new(pointing(ca, self.public_url.as_deref(), bloc_id));
        if let Ok(mut cas) = self.cas.write() {
            cas.insert(bloc_id.to_owned(), Arc::clone(&ca));
        }
        tracing::info!(bloc = bloc_id, "bloc CA created");
        Ok(ca)
    }
}

/// The CA naming, in the certificates it issues, the bloc's CRL and OCSP URLs under the
/// service's public URL (RFC 5280 §4.2.1.13, §4.2.2.1).
fn pointing(ca: BlocCa, public_url: Option<&str>, bloc_id: &str) -> BlocCa {
    match public_url {
        Some(url) => ca.with_revocation_urls(pki::RevocationUrls {
            crl: format!("{url}/blocs/{bloc_id}/ca.crl"),
            ocsp: format!("{url}/blocs/{bloc_id}/ocsp"),
        }),
        None => ca,
    }
}

async fn write_ca(
    folder: &Path,
    ca: &BlocCa,
    master: Option<&crate::secrets::MasterKey>,
) -> Result<(), CaError> {
    // A leftover of an earlier failed creation (its bloc is not in the store) is replaced.
    if folder.exists() {
        std::fs::remove_dir_all(folder).map_err(|source| CaError::Io {
            path: folder.display().to_string(),
            source,
        })?;
    }
    ca.write_new_with(folder, master)
}

fn same_cert(cert: &Certificate, pem: &str) -> bool {
    pki::certificates_from_pem_or_der(pem.as_bytes())
        .ok()
        .and_then(|v| v.into_iter().next())
        .is_some_and(|c| &c == cert)
}

/// A positive 63-bit serial number.
fn random_serial() -> u64 {
    (OsRng.next_u64() >> 1).max(2)
}
