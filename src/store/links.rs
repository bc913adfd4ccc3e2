//! One-time links for desktop signing tools (migration `0007_desktop_links.sql`): kept in the
//! database so that any instance serves a link another one made.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

use super::{Result, Store, check_sha256, get_time, timestamp};

/// A link: the covenant, the field to sign, the revision it hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopLink {
    /// SHA-256 of the link's secret (lowercase hex).
    pub secret_sha256: String,
    pub covenant_id: String,
    /// `U05`, or `U05-dau` for the unit's seal.
    pub field: String,
    pub base_sha256: String,
    pub created_at: OffsetDateTime,
}

fn link_from_row(row: &AnyRow) -> Result<DesktopLink> {
    Ok(DesktopLink {
        secret_sha256: row.try_get("secret_sha256")?,
        covenant_id: row.try_get("covenant_id")?,
        field: row.try_get("field")?,
        base_sha256: row.try_get("base_sha256")?,
        created_at: get_time(row, "created_at")?,
    })
}

impl Store {
    /// Records `link`; links older than `ttl` at its creation are dropped, and of the field's
    /// links only the newest `keep` stay.
    pub async fn put_desktop_link(
        &self,
        link: &DesktopLink,
        ttl: Duration,
        keep: u32,
    ) -> Result<()> {
        check_sha256(&link.secret_sha256)?;
        check_sha256(&link.base_sha256)?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM desktop_links WHERE created_at <= $1")
            .bind(timestamp(link.created_at - ttl)?)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO desktop_links
                 (secret_sha256, covenant_id, field, base_sha256, created_at, seq)
             VALUES ($1, $2, $3, $4, $5,
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM desktop_links))",
        )
        .bind(&link.secret_sha256)
        .bind(&link.covenant_id)
        .bind(&link.field)
        .bind(&link.base_sha256)
        .bind(timestamp(link.created_at)?)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "DELETE FROM desktop_links WHERE covenant_id = $1 AND field = $2
                 AND secret_sha256 NOT IN (
                     SELECT secret_sha256 FROM desktop_links WHERE covenant_id = $1 AND field = $2
                     ORDER BY seq DESC LIMIT $3)",
        )
        .bind(&link.covenant_id)
        .bind(&link.field)
        .bind(i64::from(keep))
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The link whose secret hashes to `secret_sha256`, if made after `not_before`.
    pub async fn desktop_link(
        &self,
        secret_sha256: &str,
        not_before: OffsetDateTime,
    ) -> Result<Option<DesktopLink>> {
        let row = sqlx::query("SELECT * FROM desktop_links WHERE secret_sha256 = $1")
            .bind(secret_sha256)
            .fetch_optional(&self.pool)
            .await?;
        let link = row.as_ref().map(link_from_row).transpose()?;
        Ok(link.filter(|l| l.created_at > not_before))
    }

    /// Removes and returns the link (each is used once), if made after `not_before`.
    pub async fn take_desktop_link(
        &self,
        secret_sha256: &str,
        not_before: OffsetDateTime,
    ) -> Result<Option<DesktopLink>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("DELETE FROM desktop_links WHERE secret_sha256 = $1 RETURNING *")
            .bind(secret_sha256)
            .fetch_optional(tx.conn())
            .await?;
        let link = row.as_ref().map(link_from_row).transpose()?;
        tx.commit().await?;
        Ok(link.filter(|l| l.created_at > not_before))
    }
}
