//! Covenants through their life cycle: creating, reading, the state graph. Registrations,
//! signing and the archive have their own files.

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::audit::{self, json_sha256};
use super::model::*;
use super::org::{bloc_exists, not_found};
use super::{
    Result, Store, StoreError, canonical_json, check_id, get_enum, get_json, get_time, rows_of,
    timestamp, unique_conflict,
};
use crate::workflow::Action;

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
             VALUES ($1, $2, $3, 'draft', $4, $5, $5)",
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
        sqlx::query("SELECT * FROM covenants WHERE id = $1")
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
        rows_of(
            &mut *conn,
            "SELECT * FROM covenants WHERE bloc_id = $1 AND kind = 'covenant'
             ORDER BY year DESC, rowid DESC",
            Some(bloc_id),
            covenant_from_row,
        )
        .await
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
}

/// The covenant's state; `NotFound` if there is no such covenant.
pub(super) async fn covenant_state(conn: &mut AnyConnection, id: &str) -> Result<(String, State)> {
    let row = sqlx::query("SELECT bloc_id, state FROM covenants WHERE id = $1")
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
pub(super) async fn require_state(
    conn: &mut AnyConnection,
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
/// Records a step's audit event, then moves the covenant from `from` to `to` (see
/// [`transition_in`]), in the caller's transaction.
pub(super) async fn step_in(
    conn: &mut AnyConnection,
    stamp: &Stamp<'_>,
    id: &str,
    (action, details): (&str, Value),
    from: State,
    to: State,
) -> Result<()> {
    audit::append(conn, stamp, Some(id), action, details).await?;
    transition_in(conn, stamp, id, from, to).await
}

pub(super) async fn transition_in(
    conn: &mut AnyConnection,
    stamp: &Stamp<'_>,
    id: &str,
    from: State,
    to: State,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE covenants SET state = $3, updated_at = $4
         WHERE id = $1 AND state = $2 AND EXISTS (
             SELECT 1 FROM covenant_transitions WHERE from_state = $2 AND to_state = $3)",
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
            let sql = "SELECT 1 FROM revisions WHERE covenant_id = $1 AND idx = 0";
            let rendered = rows_of(&mut *conn, sql, Some(id), |_| Ok(())).await?;
            rendered
                .is_empty()
                .then_some("no documents are recorded (use freeze)")
        }
        State::Completed => {
            let current = current_in(conn, id).await?;
            (!current.unsigned_units.is_empty()).then_some("not every unit has signed")
        }
        State::Archived => {
            let sql = "SELECT 1 FROM archive WHERE covenant_id = $1";
            let entry = rows_of(&mut *conn, sql, Some(id), |_| Ok(())).await?;
            entry
                .is_empty()
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

/// All revisions with the signed/unsigned seats and units at each.
pub(super) async fn revisions_in(
    conn: &mut AnyConnection,
    covenant_id: &str,
) -> Result<Vec<RevisionRow>> {
    let seats: Vec<(String, String)> = sqlx::query_as(
        "SELECT unit_id, seat FROM signers WHERE covenant_id = $1 ORDER BY unit_id, seat",
    )
    .bind(covenant_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut fields = Vec::with_capacity(seats.len());
    for (unit, seat) in &seats {
        let seat =
            Seat::parse(seat).ok_or_else(|| StoreError::Corrupt(format!("seat {seat:?}")))?;
        fields.push((unit.clone(), seat.field(unit)));
    }
    let rows = sqlx::query("SELECT * FROM revisions WHERE covenant_id = $1 ORDER BY idx")
        .bind(covenant_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut signed_fields: Vec<String> = Vec::new();
    let mut signed_units: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let unit_id: Option<String> = row.try_get("unit_id")?;
        let seat: Option<String> = row.try_get("seat")?;
        let seat = match seat {
            Some(s) => {
                Some(Seat::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("seat {s:?}")))?)
            }
            None => None,
        };
        if let (Some(unit), Some(seat)) = (&unit_id, seat) {
            signed_fields.push(seat.field(unit));
            let done = fields
                .iter()
                .filter(|(u, _)| u == unit)
                .all(|(_, f)| signed_fields.contains(f));
            if done && !signed_units.contains(unit) {
                signed_units.push(unit.clone());
            }
        }
        let mut unsigned_units: Vec<String> = Vec::new();
        for (unit, field) in &fields {
            if !signed_fields.contains(field) && !unsigned_units.contains(unit) {
                unsigned_units.push(unit.clone());
            }
        }
        out.push(RevisionRow {
            covenant_id: row.try_get("covenant_id")?,
            index: row.try_get("idx")?,
            pdf_sha256: row.try_get("pdf_sha256")?,
            unit_id,
            seat,
            kind: get_enum(row, "kind", RevisionKind::parse)?,
            created_at: get_time(row, "created_at")?,
            signed_units: signed_units.clone(),
            unsigned_units,
            signed_fields: signed_fields.clone(),
            unsigned_fields: fields
                .iter()
                .filter(|(_, f)| !signed_fields.contains(f))
                .map(|(_, f)| f.clone())
                .collect(),
        });
    }
    Ok(out)
}

pub(super) async fn current_in(conn: &mut AnyConnection, covenant_id: &str) -> Result<RevisionRow> {
    revisions_in(conn, covenant_id)
        .await?
        .pop()
        .ok_or_else(|| not_found("revision of covenant", covenant_id))
}

pub(super) fn covenant_from_row(row: &AnyRow) -> Result<CovenantRow> {
    Ok(CovenantRow {
        id: row.try_get("id")?,
        bloc_id: row.try_get("bloc_id")?,
        year: row.try_get("year")?,
        state: get_enum(row, "state", State::parse)?,
        input: get_json(row, "input_json")?,
        docx_sha256: row.try_get("docx_sha256")?,
        kind: match row.try_get::<String, _>("kind")?.as_str() {
            "covenant" => None,
            other => Some(
                crate::year::YearDocument::parse(other)
                    .ok_or_else(|| StoreError::Corrupt(format!("covenants.kind {other:?}")))?,
            ),
        },
        parent_id: row.try_get("parent_id")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}
