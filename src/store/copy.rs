//! Moving a deployment: every row of one store into another (SQLite → PostgreSQL, or back)
//! and every blob a row refers to into another blob store, then the target checked on its own:
//! each blob re-read against its SHA-256, each audit chain recomputed, each table counted.

use std::collections::BTreeSet;

use sqlx::{AnyConnection, Row};

use super::{AuditCheck, Backend, BlobStore, Blobs, Result, Store, StoreError};

/// A column's type in [`TABLES`].
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Real,
}

/// A table's columns and their types.
type Columns = &'static [(&'static str, Kind)];

/// Every table the store keeps, in an order that satisfies the foreign keys, with its columns
/// and the order its rows are copied in (insertion order where the store reads it back).
/// Not copied: `covenant_transitions` (fixed, written by the migrations), `leases` (who runs
/// the next maintenance pass) and `service_keys` (copied as key files, sealed on the way).
const TABLES: &[(&str, Columns, &str)] = {
    use Kind::{Int as I, Real as R, Text as T};
    &[
        (
            "blocs",
            &[
                ("id", T),
                ("name", T),
                ("ca_cert_pem", T),
                ("created_at", T),
            ],
            "id",
        ),
        (
            "units",
            &[("bloc_id", T), ("id", T), ("name", T), ("role", T)],
            "bloc_id, id",
        ),
        (
            "tokens",
            &[
                ("id", T),
                ("secret_hash", T),
                ("role", T),
                ("bloc_id", T),
                ("unit_id", T),
                ("created_at", T),
                ("revoked_at", T),
            ],
            "created_at, id",
        ),
        (
            "sessions",
            &[
                ("secret_hash", T),
                ("token_id", T),
                ("csrf", T),
                ("created_at", T),
                ("expires_at", T),
            ],
            "created_at, secret_hash",
        ),
        (
            "covenants",
            &[
                ("id", T),
                ("bloc_id", T),
                ("year", I),
                ("state", T),
                ("input_json", T),
                ("docx_sha256", T),
                ("created_at", T),
                ("updated_at", T),
                ("kind", T),
                ("parent_id", T),
            ],
            "rowid",
        ),
        (
            "registrations",
            &[
                ("covenant_id", T),
                ("unit_id", T),
                ("status", T),
                ("data_json", T),
                ("comment", T),
                ("version", I),
                ("updated_at", T),
            ],
            "covenant_id, unit_id",
        ),
        (
            "signers",
            &[("covenant_id", T), ("unit_id", T), ("seat", T)],
            "covenant_id, unit_id, seat",
        ),
        (
            "revisions",
            &[
                ("covenant_id", T),
                ("idx", I),
                ("pdf_sha256", T),
                ("unit_id", T),
                ("seat", T),
                ("created_at", T),
                ("kind", T),
            ],
            "covenant_id, idx",
        ),
        (
            "prepares",
            &[
                ("id", T),
                ("covenant_id", T),
                ("unit_id", T),
                ("base_sha256", T),
                ("prepared_sha256", T),
                ("created_at", T),
            ],
            "rowid",
        ),
        (
            "enrolments",
            &[
                ("id", I),
                ("bloc_id", T),
                ("unit_id", T),
                ("key_kind", T),
                ("key_pem", T),
                ("subject_json", T),
                ("status", T),
                ("created_at", T),
                ("decided_at", T),
            ],
            "id",
        ),
        (
            "certificates",
            &[
                ("bloc_id", T),
                ("serial", T),
                ("unit_id", T),
                ("cert_pem", T),
                ("enrolment_id", I),
                ("issued_at", T),
                ("revoked_at", T),
            ],
            "rowid",
        ),
        (
            "unit_seals",
            &[
                ("bloc_id", T),
                ("unit_id", T),
                ("png_sha256", T),
                ("diameter_mm", R),
                ("uploaded_at", T),
            ],
            "bloc_id, unit_id",
        ),
        (
            "archive",
            &[
                ("pdf_sha256", T),
                ("covenant_id", T),
                ("report_json", T),
                ("archived_at", T),
            ],
            "rowid",
        ),
        (
            "audit_events",
            &[
                ("seq", I),
                ("covenant_id", T),
                ("at", T),
                ("actor", T),
                ("action", T),
                ("details_json", T),
                ("prev_hash", T),
                ("hash", T),
            ],
            "seq",
        ),
        (
            "evidence",
            &[
                ("covenant_id", T),
                ("unit_id", T),
                ("sha256", T),
                ("content_type", T),
                ("size", I),
                ("file_name", T),
                ("uploaded_at", T),
            ],
            "covenant_id, unit_id, sha256",
        ),
        (
            "results",
            &[
                ("covenant_id", T),
                ("period", T),
                ("unit_id", T),
                ("status", T),
                ("data_json", T),
                ("comment", T),
                ("version", I),
                ("updated_at", T),
            ],
            "covenant_id, period, unit_id",
        ),
        (
            "scores",
            &[
                ("covenant_id", T),
                ("unit_id", T),
                ("kind", T),
                ("data_json", T),
                ("total", R),
                ("updated_at", T),
            ],
            "covenant_id, unit_id, kind",
        ),
        (
            "conferences",
            &[("covenant_id", T), ("data_json", T), ("updated_at", T)],
            "covenant_id",
        ),
        (
            "successors",
            &[
                ("covenant_id", T),
                ("next_covenant_id", T),
                ("created_at", T),
            ],
            "covenant_id",
        ),
        (
            "desktop_links",
            &[
                ("secret_sha256", T),
                ("covenant_id", T),
                ("field", T),
                ("base_sha256", T),
                ("created_at", T),
                ("seq", I),
            ],
            "seq",
        ),
    ]
};

/// Tables [`TABLES`] leaves out on purpose.
const NOT_COPIED: &[&str] = &["covenant_transitions", "leases", "service_keys"];

/// Every blob hash the rows refer to.
const BLOB_REFERENCES: &str = "SELECT pdf_sha256 AS sha FROM revisions
     UNION SELECT docx_sha256 FROM covenants WHERE docx_sha256 IS NOT NULL
     UNION SELECT prepared_sha256 FROM prepares
     UNION SELECT png_sha256 FROM unit_seals
     UNION SELECT pdf_sha256 FROM archive
     UNION SELECT sha256 FROM evidence";

/// What [`copy_store`] copied and checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    /// Rows per table, as counted on the target afterwards.
    pub rows: Vec<(String, i64)>,
    /// Blobs copied, and their total size.
    pub blobs: usize,
    pub blob_bytes: u64,
    /// The target's audit chains, recomputed.
    pub audit: AuditCheck,
}

impl Store {
    /// Whether nothing was ever stored (only what the migrations write).
    pub async fn is_empty(&self) -> Result<bool> {
        for (table, _, _) in TABLES {
            if self.count(table).await? > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn count(&self, table: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await?)
    }
}

/// Copies every row of `from` into the empty store `to` and every referenced blob of
/// `from_blobs` into `to_blobs` (blobs first: a row never names a missing blob), then checks
/// the target. Rows go in one transaction: an interrupted copy leaves the target empty.
///
/// # Errors
/// `Conflict` when `to` is not empty; `Corrupt` when a source blob fails its hash, a copied
/// one reads back wrong, a count differs or the target's audit chain does not verify.
pub async fn copy_store(
    from: &Store,
    from_blobs: &BlobStore,
    to: &Store,
    to_blobs: &BlobStore,
) -> Result<CopyReport> {
    if !to.is_empty().await? {
        return Err(StoreError::Conflict(
            "the target database already holds data; copy into an empty one".into(),
        ));
    }
    let shas: BTreeSet<String> = sqlx::query_scalar(BLOB_REFERENCES)
        .fetch_all(&from.pool)
        .await?
        .into_iter()
        .collect();
    let mut blob_bytes = 0_u64;
    for sha in &shas {
        let bytes = from_blobs.get(sha).await?;
        blob_bytes += bytes.len() as u64;
        let put = to_blobs.put(&bytes).await?;
        if &put != sha {
            return Err(StoreError::Corrupt(format!("blob {sha} stored as {put}")));
        }
    }

    let mut tx = to.begin_write().await?;
    for (table, columns, order) in TABLES {
        copy_table(from, tx.conn(), table, columns, order).await?;
    }
    if to.backend == Backend::Postgres {
        // Identity columns given explicit values: the next generated id follows them.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('enrolments', 'id'), \
             COALESCE((SELECT MAX(id) FROM enrolments), 0) + 1, false)",
        )
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;

    // The target on its own: every blob by its hash, every chain, every count.
    let target_shas: Vec<String> = sqlx::query_scalar(BLOB_REFERENCES)
        .fetch_all(&to.pool)
        .await?;
    for sha in &target_shas {
        to_blobs.get(sha).await?;
    }
    let mut rows = Vec::with_capacity(TABLES.len());
    for (table, _, _) in TABLES {
        let (source, target) = (from.count(table).await?, to.count(table).await?);
        if source != target {
            return Err(StoreError::Corrupt(format!(
                "{table}: {source} rows in the source, {target} in the target"
            )));
        }
        rows.push(((*table).to_owned(), target));
    }
    let audit = to.verify_audit_chain().await?;
    if !audit.ok {
        return Err(StoreError::Corrupt(format!(
            "the copied audit trail does not verify: {audit:?}"
        )));
    }
    Ok(CopyReport {
        rows,
        blobs: target_shas.len(),
        blob_bytes,
        audit,
    })
}

async fn copy_table(
    from: &Store,
    to: &mut AnyConnection,
    table: &str,
    columns: &[(&str, Kind)],
    order: &str,
) -> Result<()> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let select = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        placeholders.join(", ")
    );
    let rows = sqlx::query(&select).fetch_all(&from.pool).await?;
    for row in &rows {
        let mut q = sqlx::query(&insert);
        for (name, kind) in columns {
            q = match kind {
                Kind::Text => q.bind(row.try_get::<Option<String>, _>(*name)?),
                Kind::Int => q.bind(row.try_get::<Option<i64>, _>(*name)?),
                Kind::Real => q.bind(row.try_get::<Option<f64>, _>(*name)?),
            };
        }
        q.execute(&mut *to).await?;
    }
    Ok(())
}

/// The tables of `store` that [`copy_store`] neither copies nor leaves out on purpose (a new
/// migration's table that the copy would lose).
pub async fn uncovered_tables(store: &Store) -> Result<Vec<String>> {
    let sql = match store.backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%' ORDER BY 1"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(sql).fetch_all(&store.pool).await?;
    Ok(names
        .into_iter()
        .filter(|n| !TABLES.iter().any(|(t, _, _)| t == n) && !NOT_COPIED.contains(&n.as_str()))
        .collect())
}
