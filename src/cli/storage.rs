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
    #[command(flatten)]
    pub(crate) s3: S3Args,
}

/// How to reach an S3-compatible server.
#[derive(clap::Args, Clone, Default)]
pub(crate) struct S3Args {
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
        blobs(
            self.blob_store.clone().or(fallback),
            "--blob-store",
            &self.s3,
        )
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
pub(crate) fn blobs(url: Option<String>, flag: &str, s3: &S3Args) -> Result<BlobLocation> {
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

#[derive(clap::Subcommand)]
pub(crate) enum StoreCommand {
    /// Copy a deployment into an empty one (e.g. SQLite + files → PostgreSQL + S3): every row,
    /// every document, the service's keys (sealed under the master key for a shared
    /// database); then re-check every document's SHA-256 and every audit chain on the target.
    Copy(CopyArgs),
}

#[derive(clap::Args)]
pub(crate) struct CopyArgs {
    /// The source database [default: <data-dir>/giaouoc.db].
    #[arg(long)]
    from: Option<String>,
    /// The source documents [default: <data-dir>/blobs].
    #[arg(long)]
    blobs: Option<String>,
    /// The source data folder (its bloc CA and TSA keys, for a SQLite source).
    #[arg(long, default_value = "./data")]
    data_dir: std::path::PathBuf,
    /// The target database (empty): postgres://… or sqlite://FILE.
    #[arg(long)]
    to: String,
    /// The target documents: s3://BUCKET[/PREFIX] or file://DIR [default: <to-data-dir>/blobs].
    #[arg(long)]
    to_blobs: Option<String>,
    /// The target data folder (for a SQLite target: its keys; also the default of --to-blobs).
    #[arg(long)]
    to_data_dir: Option<std::path::PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// The S3 settings of whichever side is in S3.
    #[command(flatten)]
    s3: S3Args,
}

pub(crate) fn run(cmd: StoreCommand) -> super::CliResult {
    use super::Failure as _;
    let StoreCommand::Copy(a) = cmd;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| super::CliError::from(anyhow::anyhow!("tokio: {e}")))?;
    let report = runtime.block_on(copy(&a)).or_failure()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).or_failure()?);
    } else {
        for (table, n) in &report.rows {
            println!("{table}: {n}");
        }
        println!(
            "tài liệu: {} ({} byte), mỗi tài liệu đã đọc lại và khớp SHA-256",
            report.blobs, report.blob_bytes
        );
        println!(
            "nhật ký kiểm toán: {} sự kiện, chuỗi băm nguyên vẹn",
            report.audit.events
        );
    }
    Ok(super::exit::OK)
}

async fn copy(a: &CopyArgs) -> Result<giaouoc::store::CopyReport> {
    use giaouoc::store::{Backend, BlobStore, Store};
    let from = database(a.from.clone(), "--from")?;
    if let Some(path) = from.sqlite_path(&a.data_dir)
        && !path.is_file()
    {
        anyhow::bail!("--from: không có cơ sở dữ liệu {}", path.display());
    }
    let to = database(Some(a.to.clone()), "--to")?;
    let to_dir = match (&a.to_data_dir, &a.to_blobs, to.backend()) {
        (Some(dir), _, _) => dir.clone(),
        (None, Some(_), Backend::Postgres) => std::env::temp_dir(),
        _ => anyhow::bail!("--to-data-dir is needed (a SQLite target, or no --to-blobs)"),
    };
    let master = master_key()?;
    if to.backend() == Backend::Postgres && master.is_none() {
        anyhow::bail!(
            "a PostgreSQL target keeps the service's keys sealed: set GIAOUOC_MASTER_KEY_FILE"
        );
    }
    let source = Store::connect(&from, &a.data_dir).await?;
    let source_blobs =
        BlobStore::from_location(&blobs(a.blobs.clone(), "--blobs", &a.s3)?, &a.data_dir).await?;
    let target = Store::connect(&to, &to_dir).await?;
    let target_blobs =
        BlobStore::from_location(&blobs(a.to_blobs.clone(), "--to-blobs", &a.s3)?, &to_dir).await?;
    if !target.is_empty().await? {
        anyhow::bail!("--to: the target database already holds data; copy into an empty one");
    }
    // The service's keys: rows of a shared source, else the files of the source's data folder.
    let mut keys = source.service_keys("").await?;
    if source.backend() == Backend::Sqlite {
        for folder in ["ca", "tsa"] {
            match giaouoc::secrets::read_key_files(&a.data_dir, folder) {
                Ok(files) => keys.extend(files),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => anyhow::bail!("{}/{folder}: {e}", a.data_dir.display()),
            }
        }
    }
    match (target.backend(), master.as_deref()) {
        (Backend::Postgres, Some(master)) => {
            let sealed = giaouoc::secrets::seal_plain_keys(keys, master);
            target
                .replace_service_keys(&sealed, time::OffsetDateTime::now_utc())
                .await?;
        }
        _ => giaouoc::secrets::write_key_files(&to_dir, &keys)?,
    }
    let report = giaouoc::store::copy_store(&source, &source_blobs, &target, &target_blobs).await?;
    source.close().await;
    target.close().await;
    Ok(report)
}
