//! Content-addressed document storage (rendered and signed PDFs, DOCX): files under the data
//! directory by default, or an S3-compatible bucket through `object_store` (Apache Arrow) when
//! several instances share the documents. Blobs are immutable and named by their SHA-256; every
//! read checks it; every compare-and-swap stays in the database.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Result, StoreError, hex, random_hex};

/// Immutable blobs keyed by the lowercase hex SHA-256 of their content.
///
/// Implementations must write atomically, make `put` idempotent and verify the hash in `get`.
pub trait Blobs: Send + Sync {
    /// Stores `bytes`, returns their SHA-256.
    fn put(&self, bytes: &[u8]) -> impl Future<Output = Result<String>> + Send;
    /// The blob's bytes; `NotFound` if absent, `Corrupt` if they no longer hash to `sha256`.
    fn get(&self, sha256: &str) -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// Whether the blob is stored (without reading it).
    fn exists(&self, sha256: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Deletes a scratch blob (a prepared signature) nothing refers to any more; absent is fine.
    /// Documents, once referenced by a revision or the archive, are never removed.
    fn remove(&self, sha256: &str) -> impl Future<Output = Result<()>> + Send;
}

/// The configured blob store: files (the default) or an S3-compatible bucket, with the count
/// and total time of each kind of operation (for `/metrics`).
#[derive(Debug, Clone)]
pub struct BlobStore {
    backend: Backend,
    stats: std::sync::Arc<[OpStat; 4]>,
}

#[derive(Debug, Clone)]
enum Backend {
    Files(FileBlobs),
    Objects(super::objects::ObjectBlobs),
}

/// Operations counted by [`BlobStore::stats`].
pub const BLOB_OPERATIONS: [&str; 4] = ["put", "get", "exists", "remove"];

#[derive(Debug, Default)]
struct OpStat {
    count: std::sync::atomic::AtomicU64,
    micros: std::sync::atomic::AtomicU64,
}

impl BlobStore {
    fn with(backend: Backend) -> Self {
        BlobStore {
            backend,
            stats: std::sync::Arc::default(),
        }
    }

    /// Files under `<data_dir>/blobs` (created).
    pub async fn open(data_dir: &Path) -> Result<Self> {
        Ok(Self::with(Backend::Files(
            FileBlobs::at(&data_dir.join("blobs")).await?,
        )))
    }

    /// The store `location` names; [`BlobLocation::Default`] is [`BlobStore::open`].
    ///
    /// # Errors
    /// A directory that cannot be created, an S3 configuration `object_store` refuses.
    pub async fn from_location(location: &BlobLocation, data_dir: &Path) -> Result<Self> {
        match location {
            BlobLocation::Default => Self::open(data_dir).await,
            BlobLocation::Files(dir) => Ok(Self::with(Backend::Files(FileBlobs::at(dir).await?))),
            BlobLocation::S3(s3) => Ok(Self::with(Backend::Objects(
                super::objects::ObjectBlobs::s3(s3)?,
            ))),
        }
    }

    /// Where the blobs are, for logs and `/healthz` (no credentials).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Files(f) => format!("file://{}", f.root.display()),
            Backend::Objects(o) => o.describe(),
        }
    }

    /// Per operation of [`BLOB_OPERATIONS`]: how many, and their total time in seconds.
    pub fn stats(&self) -> Vec<(&'static str, u64, f64)> {
        use std::sync::atomic::Ordering;
        BLOB_OPERATIONS
            .iter()
            .zip(self.stats.iter())
            .map(|(name, s)| {
                let micros = s.micros.load(Ordering::Relaxed);
                (*name, s.count.load(Ordering::Relaxed), micros as f64 / 1e6)
            })
            .collect()
    }

    async fn timed<T>(&self, op: usize, work: impl Future<Output = Result<T>>) -> Result<T> {
        use std::sync::atomic::Ordering;
        let start = std::time::Instant::now();
        let out = work.await;
        if let Some(s) = self.stats.get(op) {
            s.count.fetch_add(1, Ordering::Relaxed);
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            s.micros.fetch_add(micros, Ordering::Relaxed);
        }
        out
    }
}

impl Blobs for BlobStore {
    async fn put(&self, bytes: &[u8]) -> Result<String> {
        match &self.backend {
            Backend::Files(f) => self.timed(0, f.put(bytes)).await,
            Backend::Objects(o) => self.timed(0, o.put(bytes)).await,
        }
    }

    async fn get(&self, sha256: &str) -> Result<Vec<u8>> {
        match &self.backend {
            Backend::Files(f) => self.timed(1, f.get(sha256)).await,
            Backend::Objects(o) => self.timed(1, o.get(sha256)).await,
        }
    }

    async fn exists(&self, sha256: &str) -> Result<bool> {
        match &self.backend {
            Backend::Files(f) => self.timed(2, f.exists(sha256)).await,
            Backend::Objects(o) => self.timed(2, o.exists(sha256)).await,
        }
    }

    async fn remove(&self, sha256: &str) -> Result<()> {
        match &self.backend {
            Backend::Files(f) => self.timed(3, f.remove(sha256)).await,
            Backend::Objects(o) => self.timed(3, o.remove(sha256)).await,
        }
    }
}

/// Where the blobs live: `--blob-store` (`GIAOUOC_BLOB_STORE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BlobLocation {
    /// `<data_dir>/blobs`.
    #[default]
    Default,
    /// `file://DIR`.
    Files(PathBuf),
    /// `s3://BUCKET[/PREFIX]`.
    S3(S3Location),
}

/// An S3-compatible bucket. Unset fields come from the standard `AWS_*` environment variables
/// (`AWS_ENDPOINT_URL`/`AWS_ENDPOINT`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ALLOW_HTTP`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix (no leading or trailing `/`), may be empty.
    pub prefix: String,
    /// The server's URL (MinIO, Ceph, another provider); AWS if unset.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Virtual-hosted-style requests (`BUCKET.host`); path style (`host/BUCKET`) if false, as
    /// most S3-compatible servers want.
    pub virtual_hosted: bool,
    /// Allow `http://` endpoints.
    pub allow_http: Option<bool>,
    /// Send a SHA-256 checksum with each upload for the server to check.
    pub checksum: bool,
    /// Credentials given here rather than in the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl BlobLocation {
    /// Parses `file://DIR` or `s3://BUCKET[/PREFIX]`.
    ///
    /// # Errors
    /// `Invalid` naming what is wrong.
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(StoreError::Invalid("file:// needs a directory".into()));
            }
            return Ok(BlobLocation::Files(PathBuf::from(dir)));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !valid_bucket {
                return Err(StoreError::Invalid(format!(
                    "not an S3 bucket name: {bucket:?} (3 to 63 lowercase letters, digits, '-', '.')"
                )));
            }
            return Ok(BlobLocation::S3(S3Location {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                ..S3Location::default()
            }));
        }
        Err(StoreError::Invalid(format!(
            "a blob store is file://DIR or s3://BUCKET[/PREFIX], not {url:?}"
        )))
    }
}

/// Blobs as files `<root>/ab/cdef…` (the first two hex digits name the directory).
#[derive(Debug, Clone)]
pub struct FileBlobs {
    root: PathBuf,
}

impl FileBlobs {
    /// Opens (and creates) `root`.
    pub async fn at(root: &Path) -> Result<Self> {
        tokio::fs::create_dir_all(root).await?;
        Ok(FileBlobs {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, sha256: &str) -> Result<(PathBuf, PathBuf)> {
        check_sha256(sha256)?;
        let (dir, file) = sha256.split_at(2);
        let dir = self.root.join(dir);
        let path = dir.join(file);
        Ok((dir, path))
    }
}

impl Blobs for FileBlobs {
    async fn put(&self, bytes: &[u8]) -> Result<String> {
        let data = bytes.to_vec();
        let store = self.clone();
        blocking(move || store.put_sync(&data)).await
    }

    async fn get(&self, sha256: &str) -> Result<Vec<u8>> {
        let (_, path) = self.path(sha256)?;
        let sha256 = sha256.to_owned();
        blocking(move || {
            let data = std::fs::read(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::NotFound {
                    what: "blob",
                    id: sha256.clone(),
                },
                _ => StoreError::Io(e),
            })?;
            let actual = hex(&Sha256::digest(&data));
            if actual != sha256 {
                return Err(StoreError::Corrupt(format!(
                    "blob {sha256} now hashes to {actual}"
                )));
            }
            Ok(data)
        })
        .await
    }

    async fn exists(&self, sha256: &str) -> Result<bool> {
        let (_, path) = self.path(sha256)?;
        Ok(tokio::fs::try_exists(path).await?)
    }

    async fn remove(&self, sha256: &str) -> Result<()> {
        let (_, path) = self.path(sha256)?;
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl FileBlobs {
    fn put_sync(&self, data: &[u8]) -> Result<String> {
        let sha256 = hex(&Sha256::digest(data));
        let (dir, path) = self.path(&sha256)?;
        match std::fs::read(&path) {
            // Already there and intact; a damaged copy is replaced below.
            Ok(existing) if existing == data => return Ok(sha256),
            Ok(_) => tracing::warn!(sha256, "replacing a corrupt blob"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        let new_dir = !dir.is_dir();
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".tmp-{}", random_hex(8)?));
        let written = (|| -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            file.write_all(data)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&tmp, &path)?;
            sync_dir(&dir)?;
            if new_dir {
                sync_dir(&self.root)?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        Ok(sha256)
    }
}

/// Exactly 64 lowercase hex digits; anything else (`../x`, uppercase, …) is `Invalid`.
pub fn check_sha256(s: &str) -> Result<()> {
    if is_sha256(s) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "not a lowercase hex SHA-256: {:?}",
            s.chars().take(80).collect::<String>()
        )))
    }
}

/// Whether `s` is 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
}
