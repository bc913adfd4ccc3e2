//! Leases of the periodic tasks (migration `0006_leases.sql`): a task runs on one instance at a
//! time, whichever takes its lease first; a lease runs out by itself, so a stopped instance
//! does not block the others for longer than its term.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::{Result, Store, parse_time, timestamp};

impl Store {
    /// Takes (or renews) the lease `name` for `holder` until `now + term`, if nobody else
    /// holds it at `now`; `true` when `holder` holds it afterwards.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        term: Duration,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let current = sqlx::query("SELECT holder, until FROM leases WHERE name = $1")
            .bind(name)
            .fetch_optional(tx.conn())
            .await?;
        if let Some(row) = current {
            let other: String = row.try_get("holder")?;
            let until: String = row.try_get("until")?;
            if other != holder && parse_time(&until)? > now {
                return Ok(false);
            }
        }
        sqlx::query(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until",
        )
        .bind(name)
        .bind(holder)
        .bind(timestamp(now + term)?)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
