//! Browser sessions of the web interface (migration `0002_sessions.sql`).
//!
//! A person signs in once with their unit's token; the browser then holds a random session
//! secret in a cookie. A session lasts until it expires, is ended, or its token is revoked
//! (the token is checked on every use). Only the SHA-256 of the secret is stored.

use serde_json::json;
use sqlx::Row;
use time::OffsetDateTime;

use super::audit;
use super::model::{Principal, Stamp};
use super::org::{principal, secret_hash};
use super::{Result, Store, get_time, random_hex, timestamp};

/// A session just opened: `secret` goes into the cookie and is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// 64 lowercase hex characters (32 random bytes).
    pub secret: String,
    /// The anti-CSRF token of this session (32 random bytes, hex).
    pub csrf: String,
    pub principal: Principal,
    pub expires_at: OffsetDateTime,
}

/// A live session, looked up by its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub principal: Principal,
    pub csrf: String,
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Opens a session for the holder of `token_secret` until `stamp.at + ttl`; `None` if the
    /// token is unknown or revoked. Recorded in the audit trail (`session.open`, token id only).
    pub async fn open_session(
        &self,
        stamp: &Stamp<'_>,
        token_secret: &str,
        ttl: time::Duration,
    ) -> Result<Option<NewSession>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT id, role, bloc_id, unit_id FROM tokens
             WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash(token_secret))
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let principal = principal(&row)?;
        let session = NewSession {
            secret: random_hex(32)?,
            csrf: random_hex(32)?,
            principal,
            expires_at: stamp.at + ttl,
        };
        sqlx::query(
            "INSERT INTO sessions (secret_hash, token_id, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secret_hash(&session.secret))
        .bind(&session.principal.token_id)
        .bind(&session.csrf)
        .bind(timestamp(stamp.at)?)
        .bind(timestamp(session.expires_at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"token": session.principal.token_id});
        audit::append(tx.conn(), stamp, None, "session.open", details).await?;
        tx.commit().await?;
        Ok(Some(session))
    }

    /// The live session of `secret` at `now`: not expired, its token not revoked.
    pub async fn session(&self, secret: &str, now: OffsetDateTime) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT t.id, t.role, t.bloc_id, t.unit_id, s.csrf, s.expires_at
             FROM sessions s JOIN tokens t ON t.id = s.token_id
             WHERE s.secret_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(secret_hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at = get_time(&row, "expires_at")?;
        if expires_at <= now {
            return Ok(None);
        }
        Ok(Some(SessionRow {
            principal: principal(&row)?,
            csrf: row.try_get("csrf")?,
            expires_at,
        }))
    }

    /// Ends the session of `secret` (signing out); ending an unknown session is a no-op.
    pub async fn end_session(&self, secret: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(secret_hash(secret))
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    /// Forgets the sessions that expired before `now`; returns how many.
    pub async fn purge_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(timestamp(now)?)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
