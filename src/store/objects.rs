//! Blobs in an S3-compatible bucket through `object_store` (Apache Arrow): keys
//! `<prefix>/ab/cdef…`, written if absent (content-addressed, so a concurrent writer writes the
//! same bytes), read back with their SHA-256 checked.

use std::sync::Arc;

use object_store::aws::{AmazonS3Builder, Checksum};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

use super::blob::{Blobs, S3Location, check_sha256};
use super::{Result, StoreError, hex};

/// An S3-compatible bucket (or any `object_store` backend) holding the blobs.
#[derive(Clone)]
pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    label: String,
}

impl std::fmt::Debug for ObjectBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBlobs")
            .field("at", &self.label)
            .finish()
    }
}

fn backend(e: object_store::Error) -> StoreError {
    StoreError::Io(std::io::Error::other(format!("blob store: {e}")))
}

impl ObjectBlobs {
    /// The bucket `s3` names, with the `AWS_*` environment for what it leaves unset.
    ///
    /// # Errors
    /// A configuration `object_store` refuses (no bucket, a bad endpoint URL).
    pub fn s3(s3: &S3Location) -> Result<Self> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_virtual_hosted_style_request(s3.virtual_hosted);
        if let Some(endpoint) = s3.endpoint.clone().or_else(|| env("AWS_ENDPOINT_URL")) {
            b = b.with_endpoint(endpoint);
        }
        if let Some(region) = s3.region.clone().or_else(|| env("AWS_REGION")) {
            b = b.with_region(region);
        }
        if let Some(allow) = s3.allow_http {
            b = b.with_allow_http(allow);
        }
        if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        if s3.checksum {
            b = b.with_checksum_algorithm(Checksum::SHA256);
        }
        let store = b.build().map_err(|e| {
            StoreError::Invalid(format!("the S3 blob store s3://{}: {e}", s3.bucket))
        })?;
        let label = if s3.prefix.is_empty() {
            format!("s3://{}", s3.bucket)
        } else {
            format!("s3://{}/{}", s3.bucket, s3.prefix)
        };
        Ok(Self::with_store(Arc::new(store), &s3.prefix, label))
    }

    /// Blobs in `store` under `prefix` (for any `object_store` backend).
    pub fn with_store(store: Arc<dyn ObjectStore>, prefix: &str, label: String) -> Self {
        ObjectBlobs {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
            label,
        }
    }

    /// `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        self.label.clone()
    }

    fn key(&self, sha256: &str) -> Result<ObjectPath> {
        check_sha256(sha256)?;
        let (dir, file) = sha256.split_at(2);
        let key = if self.prefix.is_empty() {
            format!("{dir}/{file}")
        } else {
            format!("{}/{dir}/{file}", self.prefix)
        };
        ObjectPath::parse(key).map_err(|e| StoreError::Invalid(e.to_string()))
    }
}

impl Blobs for ObjectBlobs {
    async fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha256 = hex(&Sha256::digest(bytes));
        let key = self.key(&sha256)?;
        // Written if absent or damaged: the same name always holds the same bytes.
        match self.store.get(&key).await {
            Ok(found) => {
                let existing = found.bytes().await.map_err(backend)?;
                if existing.as_ref() == bytes {
                    return Ok(sha256);
                }
                tracing::warn!(sha256, "replacing a corrupt blob");
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(backend(e)),
        }
        self.store
            .put(&key, PutPayload::from(bytes.to_vec()))
            .await
            .map_err(backend)?;
        Ok(sha256)
    }

    async fn get(&self, sha256: &str) -> Result<Vec<u8>> {
        let key = self.key(sha256)?;
        let data = match self.store.get(&key).await {
            Ok(found) => found.bytes().await.map_err(backend)?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound {
                    what: "blob",
                    id: sha256.to_owned(),
                });
            }
            Err(e) => return Err(backend(e)),
        };
        let actual = hex(&Sha256::digest(&data));
        if actual != sha256 {
            return Err(StoreError::Corrupt(format!(
                "blob {sha256} now hashes to {actual}"
            )));
        }
        Ok(data.to_vec())
    }

    async fn exists(&self, sha256: &str) -> Result<bool> {
        let key = self.key(sha256)?;
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn remove(&self, sha256: &str) -> Result<()> {
        let key = self.key(sha256)?;
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}
