//! Which database the store uses: `--database-url` (`GIAOUOC_DATABASE_URL`).

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Result, StoreError};

/// The two database engines the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, one machine: the default.
    Sqlite,
    /// Shared by several instances.
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where the database is.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// `<data_dir>/giaouoc.db`.
    #[default]
    Default,
    /// `sqlite://PATH` (a relative path is relative to the working directory).
    Sqlite(PathBuf),
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?…]` (or `postgresql://`), as libpq.
    Postgres(String),
}

impl fmt::Debug for DatabaseLocation {
    /// Never prints a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl DatabaseLocation {
    /// Parses `sqlite://PATH`, `postgres://…` or `postgresql://…`.
    ///
    /// # Errors
    /// `Invalid` naming what is wrong.
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(StoreError::Invalid("sqlite:// needs a file path".into()));
            }
            return Ok(DatabaseLocation::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(url)
                .map_err(|e| StoreError::Invalid(format!("PostgreSQL URL: {e}")))?;
            if parsed.path().trim_start_matches('/').is_empty() {
                return Err(StoreError::Invalid(
                    "the PostgreSQL URL names no database (postgres://USER@HOST:PORT/DATABASE)"
                        .into(),
                ));
            }
            return Ok(DatabaseLocation::Postgres(url.to_owned()));
        }
        Err(StoreError::Invalid(format!(
            "not a database URL: {:?} (sqlite://FILE or postgres://USER@HOST:PORT/DATABASE)",
            redact(url)
        )))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseLocation::Default | DatabaseLocation::Sqlite(_) => Backend::Sqlite,
            DatabaseLocation::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_path(&self, data_dir: &Path) -> Option<PathBuf> {
        match self {
            DatabaseLocation::Default => Some(data_dir.join("giaouoc.db")),
            DatabaseLocation::Sqlite(path) => Some(path.clone()),
            DatabaseLocation::Postgres(_) => None,
        }
    }

    /// The URL sqlx connects to (SQLite: percent-encoded path, created if missing).
    pub(super) fn url(&self, data_dir: &Path) -> Result<String> {
        match self {
            DatabaseLocation::Postgres(url) => Ok(url.clone()),
            _ => {
                let path = self.sqlite_path(data_dir).unwrap_or_default();
                let path = path.to_str().ok_or_else(|| {
                    StoreError::Invalid(format!("the database path {path:?} is not UTF-8"))
                })?;
                // sqlx percent-decodes the path: encode all but unreserved bytes and '/'.
                let mut encoded = String::with_capacity(path.len());
                for b in path.bytes() {
                    if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
                        encoded.push(char::from(b));
                    } else {
                        encoded.push_str(&format!("%{b:02X}"));
                    }
                }
                Ok(format!("sqlite://{encoded}?mode=rwc"))
            }
        }
    }

    /// For logs and `/healthz`: the engine and where, without credentials.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::Default => "sqlite (data dir)".into(),
            DatabaseLocation::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseLocation::Postgres(url) => redact(url),
        }
    }
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(unparsable URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse_and_never_show_a_password() {
        assert_eq!(
            DatabaseLocation::parse("sqlite:///var/lib/giaouoc/g.db").unwrap(),
            DatabaseLocation::Sqlite("/var/lib/giaouoc/g.db".into())
        );
        let pg =
            DatabaseLocation::parse("postgres://giaouoc:s3cret@127.0.0.1:5432/giaouoc").unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert!(pg.describe().contains("***"));
        for bad in [
            "mysql://x/y",
            "sqlite://",
            "postgres://127.0.0.1",
            "/tmp/x.db",
        ] {
            assert!(DatabaseLocation::parse(bad).is_err(), "{bad}");
        }
        let err = DatabaseLocation::parse("mysql://u:hunter2@h/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn a_sqlite_path_with_spaces_and_question_marks_survives_the_url() {
        let loc = DatabaseLocation::Sqlite("/tmp/a b?c#d/g.db".into());
        let url = loc.url(Path::new("/unused")).unwrap();
        assert!(
            url.starts_with("sqlite://") && url.ends_with("?mode=rwc"),
            "{url}"
        );
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        assert_eq!(opts.get_filename(), Path::new("/tmp/a b?c#d/g.db"));
    }
}
