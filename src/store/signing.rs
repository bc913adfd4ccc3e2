//! Signing: the frozen documents, PDF revisions (compare-and-swap on the base), signatures
//! in progress.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::audit;
use super::covenants::{
    covenant_state, current_in, require_state, revisions_in, step_in, transition_in,
};
use super::model::*;
use super::org::unit_exists;
use super::{
    Result, Store, StoreError, check_id, check_sha256, get_time, parse_time, timestamp,
    unique_conflict,
};
use crate::workflow::Action;

/// Signatures in progress a unit may have at once (see [`Store::save_prepare`]).
pub const MAX_PENDING_PREPARES: u32 = 4;

impl Store {
    /// Freezes a covenant in `registration`: records the rendered PDF (revision 0) and DOCX
    /// and the fields expected to be signed (`signers`: units of the bloc for their leaders,
    /// `U05-dau` for a unit's seal), and moves it to `frozen`.
    pub async fn freeze(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        pdf_sha256: &str,
        docx_sha256: &str,
        signers: &[String],
    ) -> Result<RevisionRow> {
        check_sha256(pdf_sha256)?;
        check_sha256(docx_sha256)?;
        let at = timestamp(stamp.at)?;
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) = require_state(tx.conn(), covenant_id, Action::Freeze).await?;
        record_rendered(tx.conn(), &bloc_id, covenant_id, pdf_sha256, signers, &at).await?;
        sqlx::query("UPDATE covenants SET docx_sha256 = $2 WHERE id = $1")
            .bind(covenant_id)
            .bind(docx_sha256)
            .execute(tx.conn())
            .await?;
        let details =
            json!({"pdf_sha256": pdf_sha256, "docx_sha256": docx_sha256, "signers": signers});
        step_in(
            tx.conn(),
            stamp,
            covenant_id,
            ("covenant.freeze", details),
            State::Registration,
            State::Frozen,
        )
        .await?;
        let current = current_in(tx.conn(), covenant_id).await?;
        tx.commit().await?;
        Ok(current)
    }

    /// The newest PDF revision. `NotFound` before freeze.
    pub async fn current_revision(&self, covenant_id: &str) -> Result<RevisionRow> {
        let mut conn = self.pool.acquire().await?;
        current_in(&mut conn, covenant_id).await
    }

    /// Every PDF revision, 0 first.
    pub async fn revisions(&self, covenant_id: &str) -> Result<Vec<RevisionRow>> {
        let mut conn = self.pool.acquire().await?;
        covenant_state(&mut conn, covenant_id).await?;
        revisions_in(&mut conn, covenant_id).await
    }

    /// Records the signature of field `unit_id` (a unit's leader, `U05`, or its seal,
    /// `U05-dau`) as the next revision, if and only if the current revision is still
    /// `expected_base_sha256` (compare-and-swap): otherwise `Conflict("stale …")` and the
    /// caller prepares again on the new revision. A seal needs its unit's leader signed before
    /// it. The first signature moves the covenant to `signing`, the last one to `completed`.
    pub async fn append_revision(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        expected_base_sha256: &str,
        new_pdf_sha256: &str,
        unit_id: &str,
    ) -> Result<RevisionRow> {
        self.append_revision_noted(
            stamp,
            covenant_id,
            expected_base_sha256,
            new_pdf_sha256,
            unit_id,
            &Value::Null,
        )
        .await
    }

    /// [`Store::append_revision`], with `note` (an object: how the signature was made, the
    /// signing tool) added to the audit event's details.
    pub async fn append_revision_noted(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        expected_base_sha256: &str,
        new_pdf_sha256: &str,
        unit_id: &str,
        note: &Value,
    ) -> Result<RevisionRow> {
        check_sha256(expected_base_sha256)?;
        check_sha256(new_pdf_sha256)?;
        let mut tx = self.begin_write().await?;
        let (_, state) = require_state(tx.conn(), covenant_id, Action::Sign).await?;
        let current = current_in(tx.conn(), covenant_id).await?;
        let field = unit_id;
        let (unit, seat) = Seat::of_field(field);
        if current.signed_fields.iter().any(|u| u == field) {
            return Err(StoreError::Conflict(format!(
                "field {field} of covenant {covenant_id} is already signed"
            )));
        }
        if !current.unsigned_fields.iter().any(|u| u == field) {
            return Err(StoreError::Invalid(format!(
                "field {field} is not a signer of covenant {covenant_id}"
            )));
        }
        if seat == Seat::Seal && !current.signed_fields.iter().any(|u| u == unit) {
            return Err(StoreError::Conflict(format!(
                "the seal of unit {unit} follows its leader's signature, which is not there yet"
            )));
        }
        append_on(
            tx.conn(),
            stamp,
            &current,
            (expected_base_sha256, new_pdf_sha256),
            (Some((unit, seat)), RevisionKind::Signature),
            note,
        )
        .await?;
        if state == State::Frozen {
            transition_in(tx.conn(), stamp, covenant_id, State::Frozen, State::Signing).await?;
        }
        let new = current_in(tx.conn(), covenant_id).await?;
        if new.unsigned_units.is_empty() {
            transition_in(
                tx.conn(),
                stamp,
                covenant_id,
                State::Signing,
                State::Completed,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Appends a revision that is not a signature (validation data, a document time-stamp) on
    /// top of `expected_base_sha256`, with a compare-and-swap like [`Store::append_revision`];
    /// the audit event `revision.maintain` carries `note`. Allowed while signing, once
    /// completed, and after archiving (renewal).
    pub async fn append_maintenance(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        expected_base_sha256: &str,
        new_pdf_sha256: &str,
        kind: RevisionKind,
        note: &Value,
    ) -> Result<RevisionRow> {
        check_sha256(expected_base_sha256)?;
        check_sha256(new_pdf_sha256)?;
        if matches!(kind, RevisionKind::Rendered | RevisionKind::Signature) {
            return Err(StoreError::Invalid(format!(
                "{} is not a maintenance revision",
                kind.as_str()
            )));
        }
        let mut tx = self.begin_write().await?;
        require_state(tx.conn(), covenant_id, Action::Maintain).await?;
        let current = current_in(tx.conn(), covenant_id).await?;
        append_on(
            tx.conn(),
            stamp,
            &current,
            (expected_base_sha256, new_pdf_sha256),
            (None, kind),
            note,
        )
        .await?;
        let new = current_in(tx.conn(), covenant_id).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Keeps a signature in progress until [`Store::take_prepare`]. Only while the covenant
    /// is `frozen` or `signing` and for one of its signers. Not audited.
    ///
    /// A unit keeps at most [`MAX_PENDING_PREPARES`] of them: the oldest beyond that are
    /// forgotten, and their prepared blobs are returned for the caller to remove (preparing
    /// again and again must not fill the disk).
    pub async fn save_prepare(&self, prepare: &PrepareRow) -> Result<Vec<String>> {
        check_id("prepare", &prepare.id)?;
        check_sha256(&prepare.base_sha256)?;
        check_sha256(&prepare.prepared_sha256)?;
        let mut tx = self.begin_write().await?;
        require_state(tx.conn(), &prepare.covenant_id, Action::Sign).await?;
        let (unit, seat) = Seat::of_field(&prepare.unit_id);
        let signer = sqlx::query(
            "SELECT 1 FROM signers WHERE covenant_id = $1 AND unit_id = $2 AND seat = $3",
        )
        .bind(&prepare.covenant_id)
        .bind(unit)
        .bind(seat.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if signer.is_none() {
            return Err(StoreError::Invalid(format!(
                "field {} is not a signer of covenant {}",
                prepare.unit_id, prepare.covenant_id
            )));
        }
        sqlx::query(
            "INSERT INTO prepares (id, covenant_id, unit_id, base_sha256, prepared_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&prepare.id)
        .bind(&prepare.covenant_id)
        .bind(&prepare.unit_id)
        .bind(&prepare.base_sha256)
        .bind(&prepare.prepared_sha256)
        .bind(timestamp(prepare.created_at)?)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_conflict(e, || format!("prepare {:?} already exists", prepare.id)))?;
        let evicted = sqlx::query(
            "DELETE FROM prepares WHERE covenant_id = $1 AND unit_id = $2 AND id NOT IN (
                 SELECT id FROM prepares WHERE covenant_id = $1 AND unit_id = $2
                 ORDER BY rowid DESC LIMIT $3)
             RETURNING prepared_sha256",
        )
        .bind(&prepare.covenant_id)
        .bind(&prepare.unit_id)
        .bind(i64::from(MAX_PENDING_PREPARES))
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|row| row.try_get("prepared_sha256"))
        .collect::<std::result::Result<Vec<String>, _>>()?;
        tx.commit().await?;
        Ok(evicted)
    }

    /// Removes and returns a signature in progress (each can be completed once).
    pub async fn take_prepare(&self, prepare_id: &str) -> Result<Option<PrepareRow>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("DELETE FROM prepares WHERE id = $1 RETURNING *")
            .bind(prepare_id)
            .fetch_optional(tx.conn())
            .await?;
        let prepare = row.as_ref().map(prepare_from_row).transpose()?;
        tx.commit().await?;
        Ok(prepare)
    }

    /// Deletes the signatures in progress created before `before`; returns their prepared
    /// blobs, which the caller removes from the blob store.
    pub async fn purge_prepares(&self, before: OffsetDateTime) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query("SELECT id, created_at, prepared_sha256 FROM prepares")
            .fetch_all(tx.conn())
            .await?;
        let mut purged = Vec::new();
        for row in &rows {
            if get_time(row, "created_at")? < before {
                let id: String = row.try_get("id")?;
                let blob: String = row.try_get("prepared_sha256")?;
                let n = sqlx::query("DELETE FROM prepares WHERE id = $1")
                    .bind(id)
                    .execute(tx.conn())
                    .await?
                    .rows_affected();
                if n > 0 {
                    purged.push(blob);
                }
            }
        }
        tx.commit().await?;
        Ok(purged)
    }
}

fn prepare_from_row(row: &AnyRow) -> Result<PrepareRow> {
    Ok(PrepareRow {
        id: row.try_get("id")?,
        covenant_id: row.try_get("covenant_id")?,
        unit_id: row.try_get("unit_id")?,
        base_sha256: row.try_get("base_sha256")?,
        prepared_sha256: row.try_get("prepared_sha256")?,
        created_at: parse_time(&row.try_get::<String, _>("created_at")?)?,
    })
}

/// Appends the revision after `current` in the caller's transaction: a compare-and-swap on
/// the base (`Stale` when `current` is not `expected_base`), the row, and its audit event
/// (`revision.append` for a signature, `revision.maintain` otherwise) with `note` merged into
/// its details.
async fn append_on(
    conn: &mut sqlx::AnyConnection,
    stamp: &Stamp<'_>,
    current: &RevisionRow,
    (expected_base, new_sha): (&str, &str),
    (signer, kind): (Option<(&str, Seat)>, RevisionKind),
    note: &Value,
) -> Result<i64> {
    let covenant_id = current.covenant_id.as_str();
    if current.pdf_sha256 != expected_base {
        return Err(StoreError::Stale {
            covenant: covenant_id.to_owned(),
            current_index: current.index,
            current_sha256: current.pdf_sha256.clone(),
            expected: expected_base.to_owned(),
        });
    }
    let index = current.index + 1;
    sqlx::query(
        "INSERT INTO revisions (covenant_id, idx, pdf_sha256, unit_id, seat, created_at, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(covenant_id)
    .bind(index)
    .bind(new_sha)
    .bind(signer.map(|s| s.0))
    .bind(signer.map(|s| s.1.as_str()))
    .bind(timestamp(stamp.at)?)
    .bind(kind.as_str())
    .execute(&mut *conn)
    .await?;
    let (action, mut details) = match signer {
        Some((unit, Seat::Leader)) => (
            "revision.append",
            json!({"index": index, "unit": unit, "base_sha256": expected_base,
                   "pdf_sha256": new_sha}),
        ),
        Some((unit, seat @ (Seat::Seal | Seat::Secretary))) => (
            "revision.append",
            json!({"index": index, "unit": unit, "seat": seat.as_str(),
                   "base_sha256": expected_base, "pdf_sha256": new_sha}),
        ),
        None => (
            "revision.maintain",
            json!({"index": index, "kind": kind.as_str(), "base_sha256": expected_base,
                   "pdf_sha256": new_sha}),
        ),
    };
    if let (Some(d), Some(n)) = (details.as_object_mut(), note.as_object()) {
        for (k, v) in n {
            d.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    audit::append(conn, stamp, Some(covenant_id), action, details).await?;
    Ok(index)
}

/// Records the fields expected to be signed (each a unit of the bloc: its leader, `U05-dau`
/// its seal after its leader, `U02-thu-ky` its secretary) and the rendered PDF as revision 0.
pub(super) async fn record_rendered(
    conn: &mut sqlx::AnyConnection,
    bloc_id: &str,
    covenant_id: &str,
    pdf_sha256: &str,
    signers: &[String],
    at: &str,
) -> Result<()> {
    if signers.is_empty() {
        return Err(StoreError::Invalid("a document needs signers".to_owned()));
    }
    for field in signers {
        let (unit, seat) = Seat::of_field(field);
        unit_exists(&mut *conn, bloc_id, unit).await?;
        sqlx::query("INSERT INTO signers (covenant_id, unit_id, seat) VALUES ($1, $2, $3)")
            .bind(covenant_id)
            .bind(unit)
            .bind(seat.as_str())
            .execute(&mut *conn)
            .await
            .map_err(|e| unique_conflict(e, || format!("signer {field:?} listed twice")))?;
    }
    if let Some(field) = signers.iter().find(|f| {
        let (unit, seat) = Seat::of_field(f);
        seat == Seat::Seal && !signers.iter().any(|l| l.as_str() == unit)
    }) {
        return Err(StoreError::Invalid(format!(
            "the seal {field} needs its unit's leader among the signers"
        )));
    }
    sqlx::query(
        "INSERT INTO revisions (covenant_id, idx, pdf_sha256, unit_id, created_at, kind)
         VALUES ($1, 0, $2, NULL, $3, 'rendered')",
    )
    .bind(covenant_id)
    .bind(pdf_sha256)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
