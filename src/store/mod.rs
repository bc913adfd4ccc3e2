//! Persistent state of the service: a database (sqlx; SQLite by default, PostgreSQL for
//! several instances; migrations per backend compiled in) for the workflow and the audit
//! trail, content-addressed blobs (files or S3) for the documents.
//!
//! - [`Store`]: blocs, units, tokens, covenants and their state, registrations, PDF revisions,
//!   signatures in progress, certificate enrolments, the archive and the audit trail. Every
//!   write is one transaction; each state change appends its audit event in that same
//!   transaction (signatures in progress are not audited), so a failure leaves nothing.
//! - [`BlobStore`] (behind the [`Blobs`] trait): the documents, keyed by SHA-256. Put a blob
//!   before recording its hash; a crash in between leaves an unreferenced blob, never a
//!   dangling hash.
//!
//! Times come from the caller ([`Stamp`], `OffsetDateTime` parameters); the store never reads
//! the clock.

mod archive;
mod audit;
mod blob;
mod copy;
mod covenants;
mod database;
mod keys;
mod leases;
mod links;
mod model;
mod objects;
mod org;
mod registrations;
mod sessions;
mod signing;
#[cfg(test)]
mod tests;
mod year;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand_core::{OsRng, RngCore};
use serde_json::Value;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use audit::{AuditCheck, AuditEvent, GENESIS_HASH, canonical_json, verify_exported_chain};
pub use blob::{BlobLocation, BlobStore, Blobs, FileBlobs, S3Location, check_sha256, is_sha256};
pub use copy::{CopyReport, copy_store, uncovered_tables};
pub use database::{Backend, DatabaseLocation};
pub use links::DesktopLink;
pub use model::*;
pub use objects::ObjectBlobs;
pub use sessions::{NewSession, SessionRow};
pub use signing::MAX_PENDING_PREPARES;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    /// The covenant's state does not allow the operation.
    #[error(
        "covenant {covenant} is {}; {} needs {}",
        wrong.state,
        wrong.action.label_en(),
        wrong.action.states().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
    )]
    WrongState {
        /// The covenant.
        covenant: String,
        /// The action and the state.
        wrong: crate::workflow::WrongState,
    },
    /// The revision a signature was prepared against is no longer the current one.
    #[error(
        "stale base: the current revision of {covenant} is {current_index} ({current_sha256}), \
         not {expected}"
    )]
    Stale {
        /// The covenant.
        covenant: String,
        /// The current revision's index.
        current_index: i64,
        /// The current revision's SHA-256.
        current_sha256: String,
        /// The revision the caller expected.
        expected: String,
    },
    /// A duplicate, or another conflict with what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Stored data that fails its own check (blob hash, audit details).
    #[error("corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The key of the PostgreSQL advisory lock every write transaction takes first: writers queue
/// on it, as they do on SQLite's single writer, so the revision compare-and-swap and the audit
/// chain's `seq` stay strict with several instances (READ COMMITTED: each statement after the
/// lock sees every earlier commit).
const WRITE_LOCK_KEY: i64 = 0x6769_616f_756f_6301; // "giaouoc" 01

/// The database: SQLite (`<data_dir>/giaouoc.db` by default) or PostgreSQL. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// In-process writers queue here rather than in the database (SQLite's busy handler
    /// sleeps); `BEGIN IMMEDIATE` or the advisory lock still serializes other processes.
    write_lock: Arc<Mutex<()>>,
    /// Committed write transactions and their time (queueing for the lock included), in µs.
    writes: Arc<(std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64)>,
}

/// A write transaction holding the in-process write lock; dropped without `commit` = rolled back.
struct WriteTx {
    tx: Transaction<'static, Any>,
    _lock: OwnedMutexGuard<()>,
    started: std::time::Instant,
    writes: Arc<(std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64)>,
}

impl WriteTx {
    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    async fn commit(self) -> Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        self.tx.commit().await?;
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.writes.0.fetch_add(1, Relaxed);
        self.writes.1.fetch_add(micros, Relaxed);
        Ok(())
    }
}

impl Store {
    /// Opens (creating it if needed) `<data_dir>/giaouoc.db`: see [`Store::connect`].
    pub async fn open(data_dir: &Path) -> Result<Store> {
        Store::connect(&DatabaseLocation::Default, data_dir).await
    }

    /// Opens the database `location` names and applies its backend's pending migrations.
    /// SQLite: created if missing, WAL, synchronous FULL, foreign keys on, 5 s busy timeout.
    /// PostgreSQL: the database must exist; up to 16 connections.
    pub async fn connect(location: &DatabaseLocation, data_dir: &Path) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let url = location.url(data_dir)?;
        let backend = location.backend();
        if let Some(parent) = location
            .sqlite_path(data_dir)
            .as_deref()
            .and_then(Path::parent)
        {
            tokio::fs::create_dir_all(parent).await?;
        }
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreError::Invalid(format!("database URL: {e}")))?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&pool).await.map_err(sqlx::Error::from)?;
        Ok(Store {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            writes: Arc::default(),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the connections (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The database pool: open connections, idle ones.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// A trivial query, for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Committed write transactions, and the seconds they took from asking for the write
    /// lock to the commit.
    pub fn write_stats(&self) -> (u64, f64) {
        use std::sync::atomic::Ordering::Relaxed;
        let micros = self.writes.1.load(Relaxed);
        (self.writes.0.load(Relaxed), micros as f64 / 1e6)
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        let started = std::time::Instant::now();
        let lock = Arc::clone(&self.write_lock).lock_owned().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self
                    .pool
                    .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                    .await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(WriteTx {
            tx,
            _lock: lock,
            started,
            writes: Arc::clone(&self.writes),
        })
    }

    /// Audit events in `seq` order: one covenant's chain, or every event (`None`).
    pub async fn audit_events(&self, covenant_id: Option<&str>) -> Result<Vec<AuditEvent>> {
        let rows = match covenant_id {
            Some(id) => {
                sqlx::query("SELECT * FROM audit_events WHERE covenant_id = $1 ORDER BY seq")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM audit_events ORDER BY seq")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| audit::event_from_row(r, false))
            .collect()
    }

    /// Recomputes every hash and link of every chain.
    pub async fn verify_audit_chain(&self) -> Result<AuditCheck> {
        let rows = sqlx::query("SELECT * FROM audit_events ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        let events = rows
            .iter()
            .map(|r| audit::event_from_row(r, true))
            .collect::<Result<Vec<_>>>()?;
        Ok(verify_exported_chain(&events))
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `n` random bytes from the OS, as hex.
fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0_u8; n];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
    Ok(hex(&bytes))
}

/// The stored form of a time: RFC 3339 in UTC.
fn timestamp(at: OffsetDateTime) -> Result<String> {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| StoreError::Invalid(format!("time {at} cannot be stored: {e}")))
}

fn parse_time(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| StoreError::Corrupt(format!("stored time {s:?}: {e}")))
}

fn get_time(row: &AnyRow, column: &str) -> Result<OffsetDateTime> {
    parse_time(&row.try_get::<String, _>(column)?)
}

fn get_opt_time(row: &AnyRow, column: &str) -> Result<Option<OffsetDateTime>> {
    row.try_get::<Option<String>, _>(column)?
        .as_deref()
        .map(parse_time)
        .transpose()
}

fn get_json(row: &AnyRow, column: &str) -> Result<Value> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// Parses a stored enum value.
fn get_enum<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?}")))
}

/// A non-empty identifier of at most 64 printable characters.
fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("{what} id {id:?}")));
    }
    Ok(())
}

/// Every row of `sql` (one `$1` parameter, `key`), each read with `from_row`.
async fn rows_of<'c, T, E>(
    conn: E,
    sql: &str,
    key: Option<&str>,
    from_row: impl Fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let mut q = sqlx::query(sql);
    if let Some(k) = key {
        q = q.bind(k);
    }
    q.fetch_all(conn).await?.iter().map(from_row).collect()
}

/// Maps a unique-constraint violation to `Conflict(message)`.
fn unique_conflict(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => StoreError::Db(e),
    }
}
