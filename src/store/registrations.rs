//! Units' registrations and their review.

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::audit::{self, json_sha256};
use super::covenants::{covenant_state, require_state};
use super::model::*;
use super::org::{not_found, unit_exists};
use super::{
    Result, Store, StoreError, canonical_json, get_enum, get_json, get_time, rows_of, timestamp,
};
use crate::workflow::Action;

impl Store {
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
             VALUES ($1, $2, $3, $4, 1, $5)
             ON CONFLICT (covenant_id, unit_id) DO UPDATE SET status = excluded.status,
                 data_json = excluded.data_json, version = registrations.version + 1, updated_at = excluded.updated_at",
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
            "UPDATE registrations SET status = $3, comment = $4, updated_at = $5
             WHERE covenant_id = $1 AND unit_id = $2",
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
        rows_of(
            &mut *conn,
            "SELECT * FROM registrations WHERE covenant_id = $1 ORDER BY unit_id",
            Some(covenant_id),
            registration_from_row,
        )
        .await
    }
}

async fn registration_in(
    conn: &mut AnyConnection,
    covenant_id: &str,
    unit_id: &str,
) -> Result<Option<RegistrationRow>> {
    sqlx::query("SELECT * FROM registrations WHERE covenant_id = $1 AND unit_id = $2")
        .bind(covenant_id)
        .bind(unit_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(registration_from_row)
        .transpose()
}

fn registration_from_row(row: &AnyRow) -> Result<RegistrationRow> {
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
