//! The service's own key files (bloc CAs, the TSA) in the database, for deployments where
//! several instances share it: each file by its path under the data directory, its content
//! as written there (private keys sealed under the master key, see [`crate::secrets`]).

use sqlx::{AnyConnection, Row};

use super::{Result, Store, StoreError, timestamp};

impl Store {
    /// The stored files whose path starts with `prefix`, by path.
    pub async fn service_keys(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT path, content FROM service_keys WHERE substr(path, 1, CAST($2 AS INTEGER)) = $1 ORDER BY path",
        )
        .bind(prefix)
        .bind(i64::try_from(prefix.len()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("path")?, r.try_get("content")?)))
            .collect()
    }

    /// Stores the files not stored yet and returns what is stored for each given path after
    /// that: the first instance to publish a file wins, the others take its content.
    pub async fn put_service_keys_if_absent(
        &self,
        files: &[(String, Vec<u8>)],
        at: time::OffsetDateTime,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let at = timestamp(at)?;
        let mut tx = self.begin_write().await?;
        let mut stored = Vec::with_capacity(files.len());
        for (path, content) in files {
            check_path(path)?;
            sqlx::query(
                "INSERT INTO service_keys (path, content, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (path) DO NOTHING",
            )
            .bind(path)
            .bind(content)
            .bind(&at)
            .execute(tx.conn())
            .await?;
            let content: Vec<u8> =
                sqlx::query_scalar("SELECT content FROM service_keys WHERE path = $1")
                    .bind(path)
                    .fetch_one(tx.conn())
                    .await?;
            stored.push((path.clone(), content));
        }
        tx.commit().await?;
        Ok(stored)
    }
}

impl Store {
    /// Stores `files` (relative paths), replacing what is stored at those paths.
    pub async fn replace_service_keys(
        &self,
        files: &[(String, Vec<u8>)],
        at: time::OffsetDateTime,
    ) -> Result<()> {
        let at = timestamp(at)?;
        let mut tx = self.begin_write().await?;
        replace(tx.conn(), files, &at).await?;
        tx.commit().await
    }
}

/// Replaces (inside the caller's transaction) the stored files under the folders of `files`.
pub(super) async fn replace(
    conn: &mut AnyConnection,
    files: &[(String, Vec<u8>)],
    at: &str,
) -> Result<()> {
    for (path, content) in files {
        check_path(path)?;
        sqlx::query(
            "INSERT INTO service_keys (path, content, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (path) DO UPDATE SET content = excluded.content,
                 created_at = excluded.created_at",
        )
        .bind(path)
        .bind(content)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A relative path of plain components (`ca/BLOC/key.pem`), so that writing it back under the
/// data directory cannot escape it.
fn check_path(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains(['\\', '\0']));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("service key path {path:?}")))
    }
}
