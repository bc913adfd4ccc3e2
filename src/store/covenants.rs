//! Covenants through their life cycle: state, registrations, PDF revisions, signatures in
//! progress and the archive.

use serde_json::{Value, json};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use super::audit::{self, json_sha256};
use super::model::*;
use super::org::{bloc_exists, not_found, unit_exists};
use super::{
    Result, Store, StoreError, canonical_json, check_id, check_sha256, get_enum, get_json,
    get_time, parse_time, timestamp, unique_conflict,
};
use crate::workflow::Action;

/// Signatures in progress a unit may have at once (see [`Store::save_prepare`]).
pub const MAX_PENDING_PREPARES: u32 = 4;

impl Store {
    /// Creates a covenant in state `draft`; `id` is chosen by the caller (e.g.
    /// `KTD-VHXH-QN-2021`). `Conflict` if the id exists.
    pub async fn create_covenant(
        &self,
        stamp: &Stamp<'_>,
        id: &str,
        bloc_id: &str,
        year: i32,
        input: &Value,
    ) -> Result<CovenantRow> {
        check_id("covenant", id)?;
        let at = timestamp(stamp.at)?;
        let mut tx = self.begin_write().await?;
        bloc_exists(tx.conn(), bloc_id).await?;
        sqlx::query(
            "INSERT INTO covenants (id, bloc_id, year, state, input_json, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?5)",
        )
        .bind(id)
        .bind(bloc_id)
        .bind(year)
        .bind(canonical_json(input))
        .bind(&at)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_conflict(e, || format!("covenant {id:?} already exists")))?;
        let details = json!({"bloc": bloc_id, "year": year, "input_sha256": json_sha256(input)});
        audit::append(tx.conn(), stamp, Some(id), "covenant.create", details).await?;
        tx.commit().await?;
        self.get_covenant(id).await
    }

    pub async fn get_covenant(&self, id: &str) -> Result<CovenantRow> {
        sqlx::query("SELECT * FROM covenants WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(covenant_from_row)
            .transpose()?
            .ok_or_else(|| not_found("covenant", id))
    }

    /// The bloc's covenants, newest year first.
    pub async fn list_covenants(&self, bloc_id: &str) -> Result<Vec<CovenantRow>> {
        let mut conn = self.pool.acquire().await?;
        bloc_exists(&mut conn, bloc_id).await?;
        sqlx::query("SELECT * FROM covenants WHERE bloc_id = ?1 ORDER BY year DESC, rowid DESC")
            .bind(bloc_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(covenant_from_row)
            .collect()
    }

    /// Moves a covenant from `from` to `to`. `Conflict` if it is not in `from` (the message
    /// names its actual state), if `to` does not follow `from`
    /// (draft → registration → frozen → signing → completed → archived), or if the target's
    /// condition does not hold: `frozen` needs [`Store::freeze`]'s documents, `completed`
    /// every signature, `archived` an [`Store::archive`] entry (those methods move the state
    /// themselves).
    pub async fn transition(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        from: State,
        to: State,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        transition_in(tx.conn(), stamp, covenant_id, from, to).await?;
        tx.commit().await
    }

    /// Saves a unit's registration as `Draft` or `Submitted` (version + 1). Only while the
    /// covenant is in `registration` and the registration is not yet accepted.
    pub async fn save_registration(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        unit_id: &str,
        data: &Value,
        status: RegistrationStatus,
    ) -> Result<RegistrationRow> {
        if !matches!(
            status,
            RegistrationStatus::Draft | RegistrationStatus::Submitted
        ) {
            return Err(StoreError::Invalid(format!(
                "a unit saves a registration as draft or submitted, not {status}"
            )));
        }
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) = require_state(tx.conn(), covenant_id, Action::EditRegistration).await?;
        unit_exists(tx.conn(), &bloc_id, unit_id).await?;
        if let Some(current) = registration_in(tx.conn(), covenant_id, unit_id).await?
            && current.status == RegistrationStatus::Accepted
        {
            return Err(StoreError::Conflict(format!(
                "the registration of {unit_id} is accepted and can no longer be edited"
            )));
        }
        sqlx::query(
            "INSERT INTO registrations (covenant_id, unit_id, status, data_json, version, updated_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5)
             ON CONFLICT (covenant_id, unit_id) DO UPDATE SET status = excluded.status,
                 data_json = excluded.data_json, version = version + 1, updated_at = excluded.updated_at",
        )
        .bind(covenant_id)
        .bind(unit_id)
        .bind(status.as_str())
        .bind(canonical_json(data))
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let saved = registration_in(tx.conn(), covenant_id, unit_id)
            .await?
            .ok_or_else(|| not_found("registration", unit_id))?;
        let details = json!({
            "unit": unit_id, "status": status, "version": saved.version,
            "data_sha256": json_sha256(data),
        });
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "registration.save",
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Accepts a submitted registration, or returns it to the unit with a (required) comment.
    pub async fn review_registration(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        unit_id: &str,
        accept: bool,
        comment: Option<&str>,
    ) -> Result<RegistrationRow> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if !accept && comment.is_none() {
            return Err(StoreError::Invalid(
                "returning a registration needs a comment".to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        require_state(tx.conn(), covenant_id, Action::ReviewRegistration).await?;
        let current = registration_in(tx.conn(), covenant_id, unit_id)
            .await?
            .ok_or_else(|| not_found("registration", &format!("{covenant_id}/{unit_id}")))?;
        if current.status != RegistrationStatus::Submitted {
            return Err(StoreError::Conflict(format!(
                "the registration of {unit_id} is {}, not submitted",
                current.status
            )));
        }
        let status = if accept {
            RegistrationStatus::Accepted
        } else {
            RegistrationStatus::Returned
        };
        sqlx::query(
            "UPDATE registrations SET status = ?3, comment = ?4, updated_at = ?5
             WHERE covenant_id = ?1 AND unit_id = ?2",
        )
        .bind(covenant_id)
        .bind(unit_id)
        .bind(status.as_str())
        .bind(comment)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"unit": unit_id, "status": status, "version": current.version, "comment": comment});
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "registration.review",
            details,
        )
        .await?;
        let saved = registration_in(tx.conn(), covenant_id, unit_id)
            .await?
            .ok_or_else(|| not_found("registration", unit_id))?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn get_registration(
        &self,
        covenant_id: &str,
        unit_id: &str,
    ) -> Result<RegistrationRow> {
        let mut conn = self.pool.acquire().await?;
        registration_in(&mut conn, covenant_id, unit_id)
            .await?
            .ok_or_else(|| not_found("registration", &format!("{covenant_id}/{unit_id}")))
    }

    /// The covenant's registrations by unit id.
    pub async fn list_registrations(&self, covenant_id: &str) -> Result<Vec<RegistrationRow>> {
        let mut conn = self.pool.acquire().await?;
        covenant_state(&mut conn, covenant_id).await?;
        sqlx::query("SELECT * FROM registrations WHERE covenant_id = ?1 ORDER BY unit_id")
            .bind(covenant_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(registration_from_row)
            .collect()
    }

    /// Freezes a covenant in `registration`: records the rendered PDF (revision 0) and DOCX
    /// and the units expected to sign (`signers`, units of the bloc), and moves it to `frozen`.
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
        if signers.is_empty() {
            return Err(StoreError::Invalid("a covenant needs signers".to_owned()));
        }
        let at = timestamp(stamp.at)?;
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) = require_state(tx.conn(), covenant_id, Action::Freeze).await?;
        for unit in signers {
            unit_exists(tx.conn(), &bloc_id, unit).await?;
            sqlx::query("INSERT INTO signers (covenant_id, unit_id) VALUES (?1, ?2)")
                .bind(covenant_id)
                .bind(unit)
                .execute(tx.conn())
                .await
                .map_err(|e| unique_conflict(e, || format!("signer {unit:?} listed twice")))?;
        }
        sqlx::query(
            "INSERT INTO revisions (covenant_id, idx, pdf_sha256, unit_id, created_at)
             VALUES (?1, 0, ?2, NULL, ?3)",
        )
        .bind(covenant_id)
        .bind(pdf_sha256)
        .bind(&at)
        .execute(tx.conn())
        .await?;
        sqlx::query("UPDATE covenants SET docx_sha256 = ?2 WHERE id = ?1")
            .bind(covenant_id)
            .bind(docx_sha256)
            .execute(tx.conn())
            .await?;
        let details =
            json!({"pdf_sha256": pdf_sha256, "docx_sha256": docx_sha256, "signers": signers});
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "covenant.freeze",
            details,
        )
        .await?;
        transition_in(
            tx.conn(),
            stamp,
            covenant_id,
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

    /// Records `unit_id`'s signature as the next revision, if and only if the current
    /// revision is still `expected_base_sha256` (compare-and-swap): otherwise
    /// `Conflict("stale …")` and the caller prepares again on the new revision. The first
    /// signature moves the covenant to `signing`, the last one to `completed`.
    pub async fn append_revision(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        expected_base_sha256: &str,
        new_pdf_sha256: &str,
        unit_id: &str,
    ) -> Result<RevisionRow> {
        check_sha256(expected_base_sha256)?;
        check_sha256(new_pdf_sha256)?;
        let mut tx = self.begin_write().await?;
        let (_, state) = require_state(tx.conn(), covenant_id, Action::Sign).await?;
        let current = current_in(tx.conn(), covenant_id).await?;
        if current.signed_units.iter().any(|u| u == unit_id) {
            return Err(StoreError::Conflict(format!(
                "unit {unit_id} has already signed covenant {covenant_id}"
            )));
        }
        if !current.unsigned_units.iter().any(|u| u == unit_id) {
            return Err(StoreError::Invalid(format!(
                "unit {unit_id} is not a signer of covenant {covenant_id}"
            )));
        }
        if current.pdf_sha256 != expected_base_sha256 {
            return Err(StoreError::Stale {
                covenant: covenant_id.to_owned(),
                current_index: current.index,
                current_sha256: current.pdf_sha256,
                expected: expected_base_sha256.to_owned(),
            });
        }
        let index = current.index + 1;
        sqlx::query(
            "INSERT INTO revisions (covenant_id, idx, pdf_sha256, unit_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(covenant_id)
        .bind(index)
        .bind(new_pdf_sha256)
        .bind(unit_id)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({
            "index": index, "unit": unit_id, "base_sha256": expected_base_sha256,
            "pdf_sha256": new_pdf_sha256,
        });
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "revision.append",
            details,
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
        let signer = sqlx::query("SELECT 1 FROM signers WHERE covenant_id = ?1 AND unit_id = ?2")
            .bind(&prepare.covenant_id)
            .bind(&prepare.unit_id)
            .fetch_optional(tx.conn())
            .await?;
        if signer.is_none() {
            return Err(StoreError::Invalid(format!(
                "unit {} is not a signer of covenant {}",
                prepare.unit_id, prepare.covenant_id
            )));
        }
        sqlx::query(
            "INSERT INTO prepares (id, covenant_id, unit_id, base_sha256, prepared_sha256, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
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
            "DELETE FROM prepares WHERE id IN (
                 SELECT id FROM prepares WHERE covenant_id = ?1 AND unit_id = ?2
                 ORDER BY rowid DESC LIMIT -1 OFFSET ?3)
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
        let row = sqlx::query("DELETE FROM prepares WHERE id = ?1 RETURNING *")
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
                let n = sqlx::query("DELETE FROM prepares WHERE id = ?1")
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
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(pdf_sha256)
        .bind(covenant_id)
        .bind(canonical_json(report))
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_conflict(e, || format!("{pdf_sha256} is already archived")))?;
        let details = json!({"pdf_sha256": pdf_sha256, "report_sha256": json_sha256(report)});
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "covenant.archive",
            details,
        )
        .await?;
        transition_in(
            tx.conn(),
            stamp,
            covenant_id,
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
        sqlx::query("SELECT * FROM archive WHERE pdf_sha256 = ?1")
            .bind(pdf_sha256)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(archive_from_row)
            .transpose()
    }

    /// Every archive entry, oldest first.
    pub async fn list_archive(&self) -> Result<Vec<ArchiveRow>> {
        sqlx::query("SELECT * FROM archive ORDER BY rowid")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(archive_from_row)
            .collect()
    }
}

/// The covenant's state; `NotFound` if there is no such covenant.
async fn covenant_state(conn: &mut SqliteConnection, id: &str) -> Result<(String, State)> {
    let row = sqlx::query("SELECT bloc_id, state FROM covenants WHERE id = ?1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| not_found("covenant", id))?;
    Ok((
        row.try_get("bloc_id")?,
        get_enum(&row, "state", State::parse)?,
    ))
}

/// The covenant's bloc and state if the state is one of `allowed`, else `Conflict`.
async fn require_state(
    conn: &mut SqliteConnection,
    id: &str,
    action: Action,
) -> Result<(String, State)> {
    let (bloc_id, state) = covenant_state(conn, id).await?;
    action
        .check(state)
        .map_err(|wrong| StoreError::WrongState {
            covenant: id.to_owned(),
            wrong,
        })?;
    Ok((bloc_id, state))
}

/// One step of the state graph inside the caller's transaction; the UPDATE matches only if
/// the covenant is in `from` and (`from`, `to`) is in `covenant_transitions`.
async fn transition_in(
    conn: &mut SqliteConnection,
    stamp: &Stamp<'_>,
    id: &str,
    from: State,
    to: State,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE covenants SET state = ?3, updated_at = ?4
         WHERE id = ?1 AND state = ?2 AND EXISTS (
             SELECT 1 FROM covenant_transitions WHERE from_state = ?2 AND to_state = ?3)",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(timestamp(stamp.at)?)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        let (_, actual) = covenant_state(conn, id).await?;
        return Err(StoreError::Conflict(if actual == from {
            format!("covenant {id} cannot go from {from} to {to}")
        } else {
            format!("covenant {id} is {actual}, not {from}")
        }));
    }
    let unmet = match to {
        State::Frozen => {
            let rendered =
                sqlx::query("SELECT 1 FROM revisions WHERE covenant_id = ?1 AND idx = 0")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            rendered
                .is_none()
                .then_some("no documents are recorded (use freeze)")
        }
        State::Completed => {
            let current = current_in(conn, id).await?;
            (!current.unsigned_units.is_empty()).then_some("not every unit has signed")
        }
        State::Archived => {
            let entry = sqlx::query("SELECT 1 FROM archive WHERE covenant_id = ?1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            entry
                .is_none()
                .then_some("nothing is archived (use archive)")
        }
        _ => None,
    };
    if let Some(reason) = unmet {
        return Err(StoreError::Conflict(format!(
            "covenant {id} cannot go to {to}: {reason}"
        )));
    }
    audit::append(
        conn,
        stamp,
        Some(id),
        "covenant.transition",
        json!({"from": from, "to": to}),
    )
    .await?;
    Ok(())
}

async fn registration_in(
    conn: &mut SqliteConnection,
    covenant_id: &str,
    unit_id: &str,
) -> Result<Option<RegistrationRow>> {
    sqlx::query("SELECT * FROM registrations WHERE covenant_id = ?1 AND unit_id = ?2")
        .bind(covenant_id)
        .bind(unit_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(registration_from_row)
        .transpose()
}

/// All revisions with the signed/unsigned units at each.
async fn revisions_in(conn: &mut SqliteConnection, covenant_id: &str) -> Result<Vec<RevisionRow>> {
    let signers: Vec<String> =
        sqlx::query_scalar("SELECT unit_id FROM signers WHERE covenant_id = ?1 ORDER BY unit_id")
            .bind(covenant_id)
            .fetch_all(&mut *conn)
            .await?;
    let rows = sqlx::query("SELECT * FROM revisions WHERE covenant_id = ?1 ORDER BY idx")
        .bind(covenant_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut signed: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let unit_id: Option<String> = row.try_get("unit_id")?;
        if let Some(unit) = &unit_id {
            signed.push(unit.clone());
        }
        out.push(RevisionRow {
            covenant_id: row.try_get("covenant_id")?,
            index: row.try_get("idx")?,
            pdf_sha256: row.try_get("pdf_sha256")?,
            unit_id,
            created_at: get_time(row, "created_at")?,
            signed_units: signed.clone(),
            unsigned_units: signers
                .iter()
                .filter(|s| !signed.contains(s))
                .cloned()
                .collect(),
        });
    }
    Ok(out)
}

async fn current_in(conn: &mut SqliteConnection, covenant_id: &str) -> Result<RevisionRow> {
    revisions_in(conn, covenant_id)
        .await?
        .pop()
        .ok_or_else(|| not_found("revision of covenant", covenant_id))
}

fn covenant_from_row(row: &SqliteRow) -> Result<CovenantRow> {
    Ok(CovenantRow {
        id: row.try_get("id")?,
        bloc_id: row.try_get("bloc_id")?,
        year: row.try_get("year")?,
        state: get_enum(row, "state", State::parse)?,
        input: get_json(row, "input_json")?,
        docx_sha256: row.try_get("docx_sha256")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn registration_from_row(row: &SqliteRow) -> Result<RegistrationRow> {
    Ok(RegistrationRow {
        covenant_id: row.try_get("covenant_id")?,
        unit_id: row.try_get("unit_id")?,
        status: get_enum(row, "status", RegistrationStatus::parse)?,
        data: get_json(row, "data_json")?,
        comment: row.try_get("comment")?,
        version: row.try_get("version")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn prepare_from_row(row: &SqliteRow) -> Result<PrepareRow> {
    Ok(PrepareRow {
        id: row.try_get("id")?,
        covenant_id: row.try_get("covenant_id")?,
        unit_id: row.try_get("unit_id")?,
        base_sha256: row.try_get("base_sha256")?,
        prepared_sha256: row.try_get("prepared_sha256")?,
        created_at: parse_time(&row.try_get::<String, _>("created_at")?)?,
    })
}

fn archive_from_row(row: &SqliteRow) -> Result<ArchiveRow> {
    Ok(ArchiveRow {
        pdf_sha256: row.try_get("pdf_sha256")?,
        covenant_id: row.try_get("covenant_id")?,
        report: get_json(row, "report_json")?,
        archived_at: get_time(row, "archived_at")?,
    })
}
