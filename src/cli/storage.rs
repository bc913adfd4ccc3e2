//! Where a command finds the service's state: the database and the blob store, as `serve`
//! takes them (flags or `GIAOUOC_DATABASE_URL`, `GIAOUOC_BLOB_STORE`, `GIAOUOC_S3_*`, and the
//! standard `AWS_*` variables), and the master key (`GIAOUOC_MASTER_KEY_FILE`).

use std::sync::Arc;

use anyhow::Result;

use giaouoc::store::{BlobLocation, DatabaseLocation};

#[derive(clap::Args, Clone, Default)]
pub(crate) struct StorageArgs {
    /// The database: sqlite://FILE, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE shared
    /// by several instances (then GIAOUOC_MASTER_KEY_FILE is required) [default:
    /// <data-dir>/giaouoc.db].
    #[arg(long, env = "GIAOUOC_DATABASE_URL", hide_env_values = true)]
    pub(crate) database_url: Option<String>,
    /// Where the documents go: file://DIR or s3://BUCKET[/PREFIX] (an S3-compatible server:
    /// MinIO, Ceph, a cloud bucket; credentials and the rest from the AWS_* environment or
    /// the --s3-* flags) [default: <data-dir>/blobs].
    #[arg(long, env = "GIAOUOC_BLOB_STORE")]
    pub(crate) blob_store: Option<String>,
    /// The S3 server's URL (else AWS_ENDPOINT_URL / AWS_ENDPOINT, else AWS).
    #[arg(long, env = "GIAOUOC_S3_ENDPOINT")]
    pub(crate) s3_endpoint: Option<String>,
    /// The S3 region (else AWS_REGION / AWS_DEFAULT_REGION).
    #[arg(long, env = "GIAOUOC_S3_REGION")]
    pub(crate) s3_region: Option<String>,
    /// Virtual-hosted-style S3 requests (BUCKET.host) instead of path style (host/BUCKET).
    #[arg(long, env = "GIAOUOC_S3_VIRTUAL_HOSTED")]
    pub(crate) s3_virtual_hosted: bool,
    /// Allow an http:// S3 endpoint (else AWS_ALLOW_HTTP).
    #[arg(long, env = "GIAOUOC_S3_ALLOW_HTTP")]
    pub(crate) s3_allow_http: bool,
    /// Send a SHA-256 checksum with every upload for the S3 server to check.
    #[arg(long, env = "GIAOUOC_S3_CHECKSUM")]
    pub(crate) s3_checksum: bool,
}

impl StorageArgs {
    /// The database named by the flag (or `fallback`, from a settings file).
    pub(crate) fn database(&self, fallback: Option<String>) -> Result<DatabaseLocation> {
        database(self.database_url.clone().or(fallback), "--database-url")
    }

    /// The blob store named by the flag (or `fallback`), with the S3 flags applied.
    pub(crate) fn blobs(&self, fallback: Option<String>) -> Result<BlobLocation> {
        blobs(self.blob_store.clone().or(fallback), "--blob-store", self)
    }
}

/// Parses a database URL given as `flag` (none: the data dir's SQLite file).
pub(crate) fn database(url: Option<String>, flag: &str) -> Result<DatabaseLocation> {
    match url.filter(|u| !u.trim().is_empty()) {
        None => Ok(DatabaseLocation::Default),
        Some(url) => {
            DatabaseLocation::parse(url.trim()).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
        }
    }
}

/// Parses a blob store URL given as `flag`, with the S3 settings of `s3`.
pub(crate) fn blobs(url: Option<String>, flag: &str, s3: &StorageArgs) -> Result<BlobLocation> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return Ok(BlobLocation::Default);
    };
    match BlobLocation::parse(url.trim()).map_err(|e| anyhow::anyhow!("{flag}: {e}"))? {
        BlobLocation::S3(mut loc) => {
            loc.endpoint = s3.s3_endpoint.clone();
            loc.region = s3.s3_region.clone();
            loc.virtual_hosted = s3.s3_virtual_hosted;
            loc.allow_http = s3.s3_allow_http.then_some(true);
            loc.checksum = s3.s3_checksum;
            Ok(BlobLocation::S3(loc))
        }
        other => Ok(other),
    }
}

/// The master key from `GIAOUOC_MASTER_KEY_FILE` / `GIAOUOC_MASTER_KEY`, if set.
pub(crate) fn master_key() -> Result<Option<Arc<giaouoc::secrets::MasterKey>>> {
    Ok(giaouoc::secrets::MasterKey::from_env()
        .map_err(|e| anyhow::anyhow!("GIAOUOC_MASTER_KEY_FILE: {e}"))?
        .map(Arc::new))
}
