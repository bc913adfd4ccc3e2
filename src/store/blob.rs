//! Content-addressed document storage (rendered and signed PDFs, DOCX).

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

/// Blobs as files `<data_dir>/blobs/ab/cdef…` (the first two hex digits name the directory).
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (and creates) `<data_dir>/blobs`.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        let root = data_dir.join("blobs");
        tokio::fs::create_dir_all(&root).await?;
        Ok(BlobStore { root })
    }

    fn path(&self, sha256: &str) -> Result<(PathBuf, PathBuf)> {
        check_sha256(sha256)?;
        let (dir, file) = sha256.split_at(2);
        let dir = self.root.join(dir);
        let path = dir.join(file);
        Ok((dir, path))
    }
}

impl Blobs for BlobStore {
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

impl BlobStore {
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
