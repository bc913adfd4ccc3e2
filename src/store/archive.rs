//! The archive: a completed covenant's final PDF with its verification report.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::json_sha256;
use super::covenants::{current_in, require_state, step_in};
use super::model::*;
use super::org::not_found;
use super::{
    Result, Store, StoreError, canonical_json, check_sha256, get_json, get_time, rows_of,
    timestamp, unique_conflict,
};
use crate::workflow::Action;

impl Store {
    /// Archives a `completed` covenant's final PDF (it must be the current revision) with its
    /// verification report, and moves the covenant to `archived`.
    pub async fn archive(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        pdf_sha256: &str,
        report: &Value,
    ) -> Result<ArchiveRow> {
        check_sha256(pdf_sha256)?;
        let mut tx = self.begin_write().await?;
        require_state(tx.conn(), covenant_id, Action::Archive).await?;
        let current = current_in(tx.conn(), covenant_id).await?;
        if current.pdf_sha256 != pdf_sha256 {
            return Err(StoreError::Conflict(format!(
                "{pdf_sha256} is not the current revision of {covenant_id} ({})",
                current.pdf_sha256
            )));
        }
        sqlx::query(
            "INSERT INTO archive (pdf_sha256, covenant_id, report_json, archived_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(pdf_sha256)
        .bind(covenant_id)
        .bind(canonical_json(report))
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_conflict(e, || format!("{pdf_sha256} is already archived")))?;
        let details = json!({"pdf_sha256": pdf_sha256, "report_sha256": json_sha256(report)});
        step_in(
            tx.conn(),
            stamp,
            covenant_id,
            ("covenant.archive", details),
            State::Completed,
            State::Archived,
        )
        .await?;
        tx.commit().await?;
        self.archived(pdf_sha256)
            .await?
            .ok_or_else(|| not_found("archive entry", pdf_sha256))
    }

    /// The archive entry of exactly this file, if any.
    pub async fn archived(&self, pdf_sha256: &str) -> Result<Option<ArchiveRow>> {
        check_sha256(pdf_sha256)?;
        sqlx::query("SELECT * FROM archive WHERE pdf_sha256 = $1")
            .bind(pdf_sha256)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(archive_from_row)
            .transpose()
    }

    /// Every archive entry, oldest first.
    pub async fn list_archive(&self) -> Result<Vec<ArchiveRow>> {
        rows_of(
            &self.pool,
            "SELECT * FROM archive ORDER BY rowid",
            None,
            archive_from_row,
        )
        .await
    }
}

fn archive_from_row(row: &AnyRow) -> Result<ArchiveRow> {
    Ok(ArchiveRow {
        pdf_sha256: row.try_get("pdf_sha256")?,
        covenant_id: row.try_get("covenant_id")?,
        report: get_json(row, "report_json")?,
        archived_at: get_time(row, "archived_at")?,
    })
}
