//! The year after the signing: evidence files, each unit's results per period and their
//! review, scores, the year-end conference and the link to next year's covenant. Every write
//! checks the covenant's state ([`Action::ReportResults`], [`Action::ReviewResults`],
//! [`Action::CreateNextYear`]) and appends its audit event in its transaction.

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::audit::{self, json_sha256};
use super::covenants::{covenant_from_row, current_in, require_state};
use super::model::*;
use super::org::{not_found, unit_exists};
use super::{
    Result, Store, StoreError, canonical_json, check_sha256, get_enum, get_json, get_time, rows_of,
    timestamp,
};
use crate::workflow::Action;
use crate::year::{Period, YearDocument};

impl Store {
    /// Records an uploaded evidence file (its blob already stored) for a unit; recording the
    /// same file twice is a no-op.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_evidence(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        unit_id: &str,
        sha256: &str,
        content_type: &str,
        size: i64,
        file_name: Option<&str>,
    ) -> Result<EvidenceRow> {
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) = covenant_in_state(tx.conn(), covenant_id, Action::ReportResults).await?;
        unit_exists(tx.conn(), &bloc_id, unit_id).await?;
        let added = sqlx::query(
            "INSERT INTO evidence (covenant_id, unit_id, sha256, content_type, size, file_name, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(covenant_id)
        .bind(unit_id)
        .bind(sha256)
        .bind(content_type)
        .bind(size)
        .bind(file_name)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if added > 0 {
            let details = json!({"unit": unit_id, "sha256": sha256, "content_type": content_type, "size": size});
            audit::append(tx.conn(), stamp, Some(covenant_id), "evidence.add", details).await?;
        }
        let row = evidence_in(tx.conn(), covenant_id, Some(unit_id))
            .await?
            .into_iter()
            .find(|e| e.sha256 == sha256)
            .ok_or_else(|| not_found("evidence", sha256))?;
        tx.commit().await?;
        Ok(row)
    }

    /// Removes a unit's evidence file uploaded by mistake: `NotFound` if the unit has no such
    /// file, `Conflict` while any of its results (draft or not) names it. Audited as
    /// `evidence.remove`; the blob stays (content-addressed, possibly shared, named in the
    /// audit trail).
    pub async fn remove_evidence(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        unit_id: &str,
        sha256: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        covenant_in_state(tx.conn(), covenant_id, Action::ReportResults).await?;
        let mut naming = Vec::new();
        for period in Period::ALL {
            if results_in(tx.conn(), covenant_id, period, unit_id)
                .await?
                .is_some_and(|r| names_evidence(&r.data, sha256))
            {
                naming.push(period.as_str());
            }
        }
        if !naming.is_empty() {
            return Err(StoreError::Conflict(format!(
                "evidence {sha256} is attached to the {} results of unit {unit_id}",
                naming.join(" and ")
            )));
        }
        let removed = sqlx::query(
            "DELETE FROM evidence WHERE covenant_id = $1 AND unit_id = $2 AND sha256 = $3",
        )
        .bind(covenant_id)
        .bind(unit_id)
        .bind(sha256)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(not_found("evidence", sha256));
        }
        let details = json!({"unit": unit_id, "sha256": sha256});
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "evidence.remove",
            details,
        )
        .await?;
        tx.commit().await
    }

    /// The evidence files of a covenant, or of one unit.
    pub async fn evidence(
        &self,
        covenant_id: &str,
        unit_id: Option<&str>,
    ) -> Result<Vec<EvidenceRow>> {
        let mut conn = self.pool.acquire().await?;
        evidence_in(&mut conn, covenant_id, unit_id).await
    }

    /// Saves a unit's results for `period` as `Draft` or `Submitted` (version + 1); not once
    /// accepted. Every evidence hash must be one of the unit's files.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_results(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        period: Period,
        unit_id: &str,
        data: &Value,
        evidence: &[&str],
        status: RegistrationStatus,
    ) -> Result<ResultsRow> {
        if !matches!(
            status,
            RegistrationStatus::Draft | RegistrationStatus::Submitted
        ) {
            return Err(StoreError::Invalid(format!(
                "a unit saves results as draft or submitted, not {status}"
            )));
        }
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) = covenant_in_state(tx.conn(), covenant_id, Action::ReportResults).await?;
        unit_exists(tx.conn(), &bloc_id, unit_id).await?;
        let files = evidence_in(tx.conn(), covenant_id, Some(unit_id)).await?;
        if let Some(missing) = evidence
            .iter()
            .find(|s| !files.iter().any(|f| &f.sha256 == *s))
        {
            return Err(StoreError::Invalid(format!(
                "evidence {missing} is not a file {unit_id} uploaded"
            )));
        }
        if let Some(current) = results_in(tx.conn(), covenant_id, period, unit_id).await?
            && current.status == RegistrationStatus::Accepted
        {
            return Err(StoreError::Conflict(format!(
                "the {} results of {unit_id} are accepted and can no longer be edited",
                period.as_str()
            )));
        }
        sqlx::query(
            "INSERT INTO results (covenant_id, period, unit_id, status, data_json, version, updated_at)
             VALUES ($1, $2, $3, $4, $5, 1, $6)
             ON CONFLICT (covenant_id, period, unit_id) DO UPDATE SET status = excluded.status,
                 data_json = excluded.data_json, version = results.version + 1,
                 updated_at = excluded.updated_at",
        )
        .bind(covenant_id)
        .bind(period.as_str())
        .bind(unit_id)
        .bind(status.as_str())
        .bind(canonical_json(data))
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let saved = results_in(tx.conn(), covenant_id, period, unit_id)
            .await?
            .ok_or_else(|| not_found("results", unit_id))?;
        let details = json!({
            "unit": unit_id, "period": period, "status": status, "version": saved.version,
            "data_sha256": json_sha256(data),
        });
        audit::append(tx.conn(), stamp, Some(covenant_id), "results.save", details).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Accepts submitted results, or returns them with a (required) comment.
    pub async fn review_results(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        period: Period,
        unit_id: &str,
        accept: bool,
        comment: Option<&str>,
    ) -> Result<ResultsRow> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if !accept && comment.is_none() {
            return Err(StoreError::Invalid(
                "returning results needs a comment".to_owned(),
            ));
        }
        let mut tx = self.begin_write().await?;
        covenant_in_state(tx.conn(), covenant_id, Action::ReviewResults).await?;
        let current = results_in(tx.conn(), covenant_id, period, unit_id)
            .await?
            .ok_or_else(|| {
                not_found(
                    "results",
                    &format!("{covenant_id}/{}/{unit_id}", period.as_str()),
                )
            })?;
        if current.status != RegistrationStatus::Submitted {
            return Err(StoreError::Conflict(format!(
                "the {} results of {unit_id} are {}, not submitted",
                period.as_str(),
                current.status
            )));
        }
        let status = if accept {
            RegistrationStatus::Accepted
        } else {
            RegistrationStatus::Returned
        };
        sqlx::query(
            "UPDATE results SET status = $4, comment = $5, updated_at = $6
             WHERE covenant_id = $1 AND period = $2 AND unit_id = $3",
        )
        .bind(covenant_id)
        .bind(period.as_str())
        .bind(unit_id)
        .bind(status.as_str())
        .bind(comment)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"unit": unit_id, "period": period, "status": status,
                             "version": current.version, "comment": comment});
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "results.review",
            details,
        )
        .await?;
        let saved = results_in(tx.conn(), covenant_id, period, unit_id)
            .await?
            .ok_or_else(|| not_found("results", unit_id))?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn get_results(
        &self,
        covenant_id: &str,
        period: Period,
        unit_id: &str,
    ) -> Result<ResultsRow> {
        let mut conn = self.pool.acquire().await?;
        results_in(&mut conn, covenant_id, period, unit_id)
            .await?
            .ok_or_else(|| {
                not_found(
                    "results",
                    &format!("{covenant_id}/{}/{unit_id}", period.as_str()),
                )
            })
    }

    /// Every unit's results for `period`, by unit id.
    pub async fn list_results(&self, covenant_id: &str, period: Period) -> Result<Vec<ResultsRow>> {
        let rows = sqlx::query(
            "SELECT * FROM results WHERE covenant_id = $1 AND period = $2 ORDER BY unit_id",
        )
        .bind(covenant_id)
        .bind(period.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(results_from_row).collect()
    }

    /// Records a unit's own scores (`Self_`) or the bloc's agreed scores for it (`Agreed`),
    /// replacing earlier ones of that kind.
    pub async fn save_score(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        unit_id: &str,
        kind: ScoreKind,
        data: &Value,
        total: f64,
    ) -> Result<ScoreRow> {
        let action = match kind {
            ScoreKind::Own => Action::ReportResults,
            ScoreKind::Agreed => Action::ReviewResults,
        };
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) = covenant_in_state(tx.conn(), covenant_id, action).await?;
        unit_exists(tx.conn(), &bloc_id, unit_id).await?;
        sqlx::query(
            "INSERT INTO scores (covenant_id, unit_id, kind, data_json, total, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (covenant_id, unit_id, kind) DO UPDATE SET data_json = excluded.data_json,
                 total = excluded.total, updated_at = excluded.updated_at",
        )
        .bind(covenant_id)
        .bind(unit_id)
        .bind(kind.as_str())
        .bind(canonical_json(data))
        .bind(total)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"unit": unit_id, "kind": kind, "total": total, "data_sha256": json_sha256(data)});
        audit::append(tx.conn(), stamp, Some(covenant_id), "score.save", details).await?;
        tx.commit().await?;
        Ok(ScoreRow {
            covenant_id: covenant_id.to_owned(),
            unit_id: unit_id.to_owned(),
            kind,
            data: data.clone(),
            total,
            updated_at: stamp.at.to_offset(time::UtcOffset::UTC),
        })
    }

    /// Every score of the covenant, by unit then kind.
    pub async fn list_scores(&self, covenant_id: &str) -> Result<Vec<ScoreRow>> {
        rows_of(
            &self.pool,
            "SELECT * FROM scores WHERE covenant_id = $1 ORDER BY unit_id, kind",
            Some(covenant_id),
            score_from_row,
        )
        .await
    }

    /// Records (or corrects) the year-end conference.
    pub async fn save_conference(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        data: &Value,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        covenant_in_state(tx.conn(), covenant_id, Action::ReviewResults).await?;
        sqlx::query(
            "INSERT INTO conferences (covenant_id, data_json, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (covenant_id) DO UPDATE SET data_json = excluded.data_json,
                 updated_at = excluded.updated_at",
        )
        .bind(covenant_id)
        .bind(canonical_json(data))
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"data_sha256": json_sha256(data)});
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "conference.save",
            details,
        )
        .await?;
        tx.commit().await
    }

    /// The year-end conference, if recorded.
    pub async fn conference(&self, covenant_id: &str) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT data_json FROM conferences WHERE covenant_id = $1")
            .bind(covenant_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| get_json(r, "data_json")).transpose()
    }

    /// Links a covenant to next year's (once).
    pub async fn link_successor(
        &self,
        stamp: &Stamp<'_>,
        covenant_id: &str,
        next_id: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        covenant_in_state(tx.conn(), covenant_id, Action::CreateNextYear).await?;
        sqlx::query("INSERT INTO successors (covenant_id, next_covenant_id, created_at) VALUES ($1, $2, $3)")
            .bind(covenant_id)
            .bind(next_id)
            .bind(timestamp(stamp.at)?)
            .execute(tx.conn())
            .await
            .map_err(|e| super::unique_conflict(e, || format!("{covenant_id} already has next year's covenant")))?;
        audit::append(
            tx.conn(),
            stamp,
            Some(covenant_id),
            "covenant.next_year",
            json!({"next": next_id}),
        )
        .await?;
        tx.commit().await
    }

    /// Next year's covenant made from this one, if any.
    pub async fn successor(&self, covenant_id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT next_covenant_id FROM successors WHERE covenant_id = $1")
                .bind(covenant_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Issues one of the year's documents of covenant `parent_id` (completed or archived)
    /// for signing, as [`Store::freeze`] does for a covenant: a row `doc_id` of that kind in
    /// state `frozen` with the parent's bloc, year and input, the rendered PDF (revision 0),
    /// the DOCX and the fields to sign. Once per kind (`Conflict` after). Audited on both:
    /// `year_document.issue` on the covenant, `covenant.freeze` on the document.
    pub async fn issue_year_document(
        &self,
        stamp: &Stamp<'_>,
        parent_id: &str,
        kind: YearDocument,
        (pdf_sha256, docx_sha256): (&str, &str),
        signers: &[String],
    ) -> Result<RevisionRow> {
        check_sha256(pdf_sha256)?;
        check_sha256(docx_sha256)?;
        let doc_id = kind.id_for(parent_id);
        super::check_id("document", &doc_id)?;
        let at = timestamp(stamp.at)?;
        let mut tx = self.begin_write().await?;
        let (bloc_id, _) =
            covenant_in_state(tx.conn(), parent_id, Action::IssueYearDocument).await?;
        let parent = sqlx::query("SELECT year, input_json FROM covenants WHERE id = $1")
            .bind(parent_id)
            .fetch_one(tx.conn())
            .await?;
        let year: i64 = parent.try_get("year")?;
        let input: String = parent.try_get("input_json")?;
        sqlx::query(
            "INSERT INTO covenants
               (id, bloc_id, year, state, input_json, docx_sha256, created_at, updated_at, kind, parent_id)
             VALUES ($1, $2, $3, 'frozen', $4, $5, $6, $6, $7, $8)",
        )
        .bind(&doc_id)
        .bind(&bloc_id)
        .bind(year)
        .bind(&input)
        .bind(docx_sha256)
        .bind(&at)
        .bind(kind.slug())
        .bind(parent_id)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            super::unique_conflict(e, || {
                format!("{} of {parent_id} was already issued", kind.slug())
            })
        })?;
        super::signing::record_rendered(tx.conn(), &bloc_id, &doc_id, pdf_sha256, signers, &at)
            .await?;
        let details =
            json!({"pdf_sha256": pdf_sha256, "docx_sha256": docx_sha256, "signers": signers});
        audit::append(
            tx.conn(),
            stamp,
            Some(parent_id),
            "year_document.issue",
            json!({"kind": kind.slug(), "document": doc_id, "pdf_sha256": pdf_sha256}),
        )
        .await?;
        audit::append(tx.conn(), stamp, Some(&doc_id), "covenant.freeze", details).await?;
        let current = current_in(tx.conn(), &doc_id).await?;
        tx.commit().await?;
        Ok(current)
    }

    /// The year's documents issued from covenant `parent_id`, in the order issued.
    pub async fn year_documents(&self, parent_id: &str) -> Result<Vec<CovenantRow>> {
        super::rows_of(
            &self.pool,
            "SELECT * FROM covenants WHERE parent_id = $1 ORDER BY rowid",
            Some(parent_id),
            covenant_from_row,
        )
        .await
    }
}

async fn evidence_in(
    conn: &mut AnyConnection,
    covenant_id: &str,
    unit_id: Option<&str>,
) -> Result<Vec<EvidenceRow>> {
    let rows = sqlx::query(
        "SELECT * FROM evidence WHERE covenant_id = $1 AND ($2 IS NULL OR unit_id = $2)
         ORDER BY unit_id, uploaded_at, sha256",
    )
    .bind(covenant_id)
    .bind(unit_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EvidenceRow {
                covenant_id: r.try_get("covenant_id")?,
                unit_id: r.try_get("unit_id")?,
                sha256: r.try_get("sha256")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
                file_name: r.try_get("file_name")?,
                uploaded_at: get_time(r, "uploaded_at")?,
            })
        })
        .collect()
}

async fn results_in(
    conn: &mut AnyConnection,
    covenant_id: &str,
    period: Period,
    unit_id: &str,
) -> Result<Option<ResultsRow>> {
    sqlx::query("SELECT * FROM results WHERE covenant_id = $1 AND period = $2 AND unit_id = $3")
        .bind(covenant_id)
        .bind(period.as_str())
        .bind(unit_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(results_from_row)
        .transpose()
}

fn results_from_row(row: &AnyRow) -> Result<ResultsRow> {
    Ok(ResultsRow {
        covenant_id: row.try_get("covenant_id")?,
        period: get_enum(row, "period", Period::parse)?,
        unit_id: row.try_get("unit_id")?,
        status: get_enum(row, "status", RegistrationStatus::parse)?,
        data: get_json(row, "data_json")?,
        comment: row.try_get("comment")?,
        version: row.try_get("version")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn score_from_row(row: &AnyRow) -> Result<ScoreRow> {
    Ok(ScoreRow {
        covenant_id: row.try_get("covenant_id")?,
        unit_id: row.try_get("unit_id")?,
        kind: get_enum(row, "kind", ScoreKind::parse)?,
        data: get_json(row, "data_json")?,
        total: row.try_get("total")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

/// [`require_state`] for a covenant proper: the year's records and documents belong to a
/// covenant, never to one of its documents (`Invalid` for those).
async fn covenant_in_state(
    conn: &mut AnyConnection,
    id: &str,
    action: Action,
) -> Result<(String, crate::workflow::State)> {
    let found = require_state(&mut *conn, id, action).await?;
    let kind: String = sqlx::query_scalar("SELECT kind FROM covenants WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if kind != "covenant" {
        return Err(StoreError::Invalid(format!(
            "{id} is one of a covenant's year documents ({kind}), not a covenant"
        )));
    }
    Ok(found)
}

/// Whether a results record names evidence file `sha256` (for the whole report or a pledge).
fn names_evidence(data: &Value, sha256: &str) -> bool {
    let listed = |v: &Value| {
        v.get("evidence")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|e| e.as_str() == Some(sha256)))
    };
    listed(data)
        || data
            .get("pledges")
            .and_then(Value::as_array)
            .is_some_and(|ps| ps.iter().any(listed))
}
