//! Blocs, units, API tokens and the leaders' certificates.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::audit::{self, json_sha256};
use super::model::*;
use super::{
    Result, Store, StoreError, canonical_json, check_id, check_sha256, get_enum, get_json,
    get_opt_time, get_time, hex, random_hex, rows_of, timestamp, unique_conflict,
};

impl Store {
    /// Creates a bloc with its CA certificate. `Conflict` if the id exists.
    pub async fn create_bloc(
        &self,
        stamp: &Stamp<'_>,
        id: &str,
        name: &str,
        ca_cert_pem: &str,
    ) -> Result<BlocRow> {
        self.create_bloc_with_keys(stamp, id, name, ca_cert_pem, &[])
            .await
    }

    /// [`Store::create_bloc`], also storing the CA's files (`path`, sealed content) as service
    /// keys in the same transaction, replacing leftovers of an earlier failed creation.
    pub async fn create_bloc_with_keys(
        &self,
        stamp: &Stamp<'_>,
        id: &str,
        name: &str,
        ca_cert_pem: &str,
        keys: &[(String, Vec<u8>)],
    ) -> Result<BlocRow> {
        check_id("bloc", id)?;
        let at = timestamp(stamp.at)?;
        let mut tx = self.begin_write().await?;
        super::keys::replace(tx.conn(), keys, &at).await?;
        sqlx::query(
            "INSERT INTO blocs (id, name, ca_cert_pem, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(name)
        .bind(ca_cert_pem)
        .bind(&at)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_conflict(e, || format!("bloc {id:?} already exists")))?;
        let details =
            json!({"bloc": id, "name": name, "ca_cert_sha256": hex(&Sha256::digest(ca_cert_pem))});
        audit::append(tx.conn(), stamp, None, "bloc.create", details).await?;
        tx.commit().await?;
        self.get_bloc(id).await
    }

    /// Every bloc's id, sorted.
    pub async fn bloc_ids(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM blocs ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn get_bloc(&self, id: &str) -> Result<BlocRow> {
        let row = sqlx::query("SELECT * FROM blocs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("bloc", id))?;
        Ok(BlocRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            ca_cert_pem: row.try_get("ca_cert_pem")?,
            created_at: get_time(&row, "created_at")?,
        })
    }

    /// Inserts or updates units by id (units are never deleted). A bloc has at most one
    /// leader unit after the change, else `Invalid` and nothing is written.
    pub async fn upsert_units(
        &self,
        stamp: &Stamp<'_>,
        bloc_id: &str,
        units: &[UnitRow],
    ) -> Result<()> {
        for unit in units {
            check_id("unit", &unit.id)?;
        }
        let mut tx = self.begin_write().await?;
        bloc_exists(tx.conn(), bloc_id).await?;
        for unit in units {
            sqlx::query(
                "INSERT INTO units (bloc_id, id, name, role) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (bloc_id, id) DO UPDATE SET name = excluded.name, role = excluded.role",
            )
            .bind(bloc_id)
            .bind(&unit.id)
            .bind(&unit.name)
            .bind(unit.role.as_str())
            .execute(tx.conn())
            .await?;
        }
        let leaders: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM units WHERE bloc_id = $1 AND role = 'leader' ORDER BY id",
        )
        .bind(bloc_id)
        .fetch_all(tx.conn())
        .await?;
        if leaders.len() > 1 {
            return Err(StoreError::Invalid(format!(
                "bloc {bloc_id:?} would have {} leader units: {}",
                leaders.len(),
                leaders.join(", ")
            )));
        }
        let details = json!({"bloc": bloc_id, "units": units});
        audit::append(tx.conn(), stamp, None, "units.upsert", details).await?;
        tx.commit().await
    }

    /// The bloc's units by id.
    pub async fn list_units(&self, bloc_id: &str) -> Result<Vec<UnitRow>> {
        let mut conn = self.pool.acquire().await?;
        bloc_exists(&mut conn, bloc_id).await?;
        sqlx::query("SELECT id, name, role FROM units WHERE bloc_id = $1 ORDER BY id")
            .bind(bloc_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(UnitRow {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    role: get_enum(row, "role", UnitRole::parse)?,
                })
            })
            .collect()
    }

    /// Creates a token: 32 random bytes as hex; only their SHA-256 is stored.
    pub async fn create_token(&self, stamp: &Stamp<'_>, role: &TokenRole) -> Result<NewToken> {
        let token = NewToken {
            id: random_hex(8)?,
            secret: random_hex(32)?,
        };
        let (role_text, bloc, unit) = match role {
            TokenRole::Admin => ("admin", None, None),
            TokenRole::Unit {
                bloc_id,
                unit_id,
                kind,
            } => (kind.as_str(), Some(bloc_id), Some(unit_id)),
        };
        let mut tx = self.begin_write().await?;
        if let (Some(bloc), Some(unit)) = (bloc, unit) {
            unit_exists(tx.conn(), bloc, unit).await?;
        }
        sqlx::query(
            "INSERT INTO tokens (id, secret_hash, role, bloc_id, unit_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.id)
        .bind(secret_hash(&token.secret))
        .bind(role_text)
        .bind(bloc)
        .bind(unit)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"token": token.id, "grant": role});
        audit::append(tx.conn(), stamp, None, "token.create", details).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The principal of an unrevoked token, `None` for an unknown or revoked one.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT id, role, bloc_id, unit_id FROM tokens
             WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(principal).transpose()
    }

    /// Revokes a token by its id (revoking twice is a no-op).
    pub async fn revoke_token(&self, stamp: &Stamp<'_>, token_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let revoked: Option<Option<String>> =
            sqlx::query_scalar("SELECT revoked_at FROM tokens WHERE id = $1")
                .bind(token_id)
                .fetch_optional(tx.conn())
                .await?;
        match revoked {
            None => return Err(not_found("token", token_id)),
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1")
            .bind(token_id)
            .bind(timestamp(stamp.at)?)
            .execute(tx.conn())
            .await?;
        audit::append(
            tx.conn(),
            stamp,
            None,
            "token.revoke",
            json!({"token": token_id}),
        )
        .await?;
        tx.commit().await
    }

    /// Records a leader's request for a certificate (status pending); returns its id.
    pub async fn enrol(
        &self,
        stamp: &Stamp<'_>,
        bloc_id: &str,
        unit_id: &str,
        key: &EnrolmentKey,
        subject: &Value,
    ) -> Result<i64> {
        let (kind, pem) = match key {
            EnrolmentKey::PublicKey(pem) => ("public_key", pem),
            EnrolmentKey::Csr(pem) => ("csr", pem),
            EnrolmentKey::Certificate(pem) => ("certificate", pem),
        };
        let mut tx = self.begin_write().await?;
        unit_exists(tx.conn(), bloc_id, unit_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO enrolments (bloc_id, unit_id, key_kind, key_pem, subject_json, status, created_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
        )
        .bind(bloc_id)
        .bind(unit_id)
        .bind(kind)
        .bind(pem)
        .bind(canonical_json(subject))
        .bind(timestamp(stamp.at)?)
        .fetch_one(tx.conn())
        .await?;
        let details = json!({
            "enrolment": id, "bloc": bloc_id, "unit": unit_id, "key_kind": kind,
            "key_sha256": hex(&Sha256::digest(pem)), "subject_sha256": json_sha256(subject),
        });
        audit::append(tx.conn(), stamp, None, "enrolment.create", details).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Approves a pending enrolment with the certificate the bloc CA issued for it.
    pub async fn approve_enrolment(
        &self,
        stamp: &Stamp<'_>,
        enrolment_id: i64,
        cert_pem: &str,
        serial: &str,
    ) -> Result<CertificateRow> {
        let serial = normalize_serial(serial)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT bloc_id, unit_id, status, subject_json FROM enrolments WHERE id = $1",
        )
        .bind(enrolment_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| not_found("enrolment", &enrolment_id.to_string()))?;
        let status = get_enum(&row, "status", EnrolmentStatus::parse)?;
        if status != EnrolmentStatus::Pending {
            return Err(StoreError::Conflict(format!(
                "enrolment {enrolment_id} is {status}, not pending"
            )));
        }
        let bloc_id: String = row.try_get("bloc_id")?;
        let unit_id: String = row.try_get("unit_id")?;
        let subject: Value = get_json(&row, "subject_json")?;
        let holder = holder_in(&subject)?;
        let at = timestamp(stamp.at)?;
        sqlx::query("UPDATE enrolments SET status = 'approved', decided_at = $2 WHERE id = $1")
            .bind(enrolment_id)
            .bind(&at)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO certificates (bloc_id, serial, unit_id, cert_pem, enrolment_id, issued_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&bloc_id)
        .bind(&serial)
        .bind(&unit_id)
        .bind(cert_pem)
        .bind(enrolment_id)
        .bind(&at)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            unique_conflict(e, || format!("certificate serial {serial} already exists"))
        })?;
        let details = json!({
            "enrolment": enrolment_id, "bloc": bloc_id, "unit": unit_id, "serial": serial,
            "cert_sha256": hex(&Sha256::digest(cert_pem)),
        });
        audit::append(tx.conn(), stamp, None, "enrolment.approve", details).await?;
        tx.commit().await?;
        Ok(CertificateRow {
            bloc_id,
            serial,
            unit_id,
            cert_pem: cert_pem.to_owned(),
            enrolment_id: Some(enrolment_id),
            issued_at: super::parse_time(&at)?,
            revoked_at: None,
            holder,
        })
    }

    /// The bloc's enrolments, oldest first.
    pub async fn list_enrolments(&self, bloc_id: &str) -> Result<Vec<EnrolmentRow>> {
        rows_of(
            &self.pool,
            "SELECT * FROM enrolments WHERE bloc_id = $1 ORDER BY id",
            Some(bloc_id),
            enrolment_from_row,
        )
        .await
    }

    /// The unit's newest unrevoked certificate held by `holder` (its leader, or the unit
    /// itself for its seal).
    pub async fn certificate_for_unit(
        &self,
        bloc_id: &str,
        unit_id: &str,
        holder: Holder,
    ) -> Result<Option<CertificateRow>> {
        sqlx::query(&format!(
            "{CERTIFICATES} WHERE c.bloc_id = $1 AND c.unit_id = $2 AND c.revoked_at IS NULL
             AND {HOLDER} = $3 ORDER BY c.rowid DESC LIMIT 1"
        ))
        .bind(bloc_id)
        .bind(unit_id)
        .bind(holder.as_str())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(certificate_from_row)
        .transpose()
    }

    /// Records `seal` as its unit's seal image (the PNG already in the blob store), replacing
    /// an earlier one; audited as `unit.seal`.
    pub async fn put_seal(&self, stamp: &Stamp<'_>, seal: &SealRow) -> Result<()> {
        check_sha256(&seal.png_sha256)?;
        let mut tx = self.begin_write().await?;
        unit_exists(tx.conn(), &seal.bloc_id, &seal.unit_id).await?;
        sqlx::query(
            "INSERT INTO unit_seals (bloc_id, unit_id, png_sha256, diameter_mm, uploaded_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (bloc_id, unit_id) DO UPDATE SET png_sha256 = excluded.png_sha256,
                 diameter_mm = excluded.diameter_mm, uploaded_at = excluded.uploaded_at",
        )
        .bind(&seal.bloc_id)
        .bind(&seal.unit_id)
        .bind(&seal.png_sha256)
        .bind(seal.diameter_mm)
        .bind(timestamp(stamp.at)?)
        .execute(tx.conn())
        .await?;
        let details = json!({"bloc": seal.bloc_id, "unit": seal.unit_id,
                             "png_sha256": seal.png_sha256, "diameter_mm": seal.diameter_mm});
        audit::append(tx.conn(), stamp, None, "unit.seal", details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unit's seal image, if it uploaded one.
    pub async fn seal_for_unit(&self, bloc_id: &str, unit_id: &str) -> Result<Option<SealRow>> {
        let row = sqlx::query("SELECT * FROM unit_seals WHERE bloc_id = $1 AND unit_id = $2")
            .bind(bloc_id)
            .bind(unit_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(SealRow {
                bloc_id: r.try_get("bloc_id")?,
                unit_id: r.try_get("unit_id")?,
                png_sha256: r.try_get("png_sha256")?,
                diameter_mm: r.try_get("diameter_mm")?,
                uploaded_at: get_time(&r, "uploaded_at")?,
            })
        })
        .transpose()
    }

    /// Every certificate of the bloc, revoked ones included (for the CRL), oldest first.
    pub async fn list_certificates(&self, bloc_id: &str) -> Result<Vec<CertificateRow>> {
        rows_of(
            &self.pool,
            &format!("{CERTIFICATES} WHERE c.bloc_id = $1 ORDER BY c.rowid"),
            Some(bloc_id),
            certificate_from_row,
        )
        .await
    }

    /// Marks a certificate revoked (revoking twice is a no-op).
    pub async fn revoke_certificate(
        &self,
        stamp: &Stamp<'_>,
        bloc_id: &str,
        serial: &str,
    ) -> Result<()> {
        let serial = normalize_serial(serial)?;
        let mut tx = self.begin_write().await?;
        let revoked: Option<Option<String>> = sqlx::query_scalar(
            "SELECT revoked_at FROM certificates WHERE bloc_id = $1 AND serial = $2",
        )
        .bind(bloc_id)
        .bind(&serial)
        .fetch_optional(tx.conn())
        .await?;
        match revoked {
            None => return Err(not_found("certificate", &serial)),
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        sqlx::query("UPDATE certificates SET revoked_at = $3 WHERE bloc_id = $1 AND serial = $2")
            .bind(bloc_id)
            .bind(&serial)
            .bind(timestamp(stamp.at)?)
            .execute(tx.conn())
            .await?;
        let details = json!({"bloc": bloc_id, "serial": serial});
        audit::append(tx.conn(), stamp, None, "certificate.revoke", details).await?;
        tx.commit().await
    }
}

pub(super) fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_owned(),
    }
}

pub(super) async fn bloc_exists(conn: &mut AnyConnection, bloc_id: &str) -> Result<()> {
    sqlx::query("SELECT 1 FROM blocs WHERE id = $1")
        .bind(bloc_id)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| not_found("bloc", bloc_id))
}

pub(super) async fn unit_exists(
    conn: &mut AnyConnection,
    bloc_id: &str,
    unit_id: &str,
) -> Result<()> {
    sqlx::query("SELECT 1 FROM units WHERE bloc_id = $1 AND id = $2")
        .bind(bloc_id)
        .bind(unit_id)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| not_found("unit", &format!("{bloc_id}/{unit_id}")))
}

pub(super) fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Serials are kept as lowercase hex without leading zeros (but at least one digit).
fn normalize_serial(serial: &str) -> Result<String> {
    let lower = serial.trim().to_ascii_lowercase();
    if lower.is_empty() || lower.len() > 40 || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "certificate serial {serial:?} is not hex"
        )));
    }
    let trimmed = lower.trim_start_matches('0');
    Ok(if trimmed.is_empty() { "0" } else { trimmed }.to_owned())
}

fn enrolment_from_row(row: &AnyRow) -> Result<EnrolmentRow> {
    let pem: String = row.try_get("key_pem")?;
    let kind: String = row.try_get("key_kind")?;
    let key = match kind.as_str() {
        "public_key" => EnrolmentKey::PublicKey(pem),
        "csr" => EnrolmentKey::Csr(pem),
        "certificate" => EnrolmentKey::Certificate(pem),
        other => return Err(StoreError::Corrupt(format!("key_kind {other:?}"))),
    };
    Ok(EnrolmentRow {
        id: row.try_get("id")?,
        bloc_id: row.try_get("bloc_id")?,
        unit_id: row.try_get("unit_id")?,
        key,
        subject: get_json(row, "subject_json")?,
        status: get_enum(row, "status", EnrolmentStatus::parse)?,
        created_at: get_time(row, "created_at")?,
        decided_at: get_opt_time(row, "decided_at")?,
    })
}

/// Certificates with their holder, from the enrolment's subject (`"holder"`; a person's if it
/// does not say).
const CERTIFICATES: &str = "SELECT c.*, COALESCE(json_extract(e.subject_json, '$.holder'), \
     'person') AS holder FROM certificates c LEFT JOIN enrolments e ON e.id = c.enrolment_id";

/// The `holder` column of [`CERTIFICATES`], for a `WHERE` (PostgreSQL has no aliases there).
const HOLDER: &str = "COALESCE(json_extract(e.subject_json, '$.holder'), 'person')";

/// The holder an enrolment's subject names.
fn holder_in(subject: &Value) -> Result<Holder> {
    match subject.get("holder").and_then(Value::as_str) {
        None | Some("person") => Ok(Holder::Person),
        Some("organisation") => Ok(Holder::Organisation),
        Some(other) => Err(StoreError::Corrupt(format!("holder {other:?}"))),
    }
}

fn certificate_from_row(row: &AnyRow) -> Result<CertificateRow> {
    let holder: String = row.try_get("holder")?;
    Ok(CertificateRow {
        bloc_id: row.try_get("bloc_id")?,
        serial: row.try_get("serial")?,
        unit_id: row.try_get("unit_id")?,
        cert_pem: row.try_get("cert_pem")?,
        enrolment_id: row.try_get("enrolment_id")?,
        issued_at: get_time(row, "issued_at")?,
        revoked_at: get_opt_time(row, "revoked_at")?,
        holder: match holder.as_str() {
            "organisation" => Holder::Organisation,
            "person" => Holder::Person,
            other => return Err(StoreError::Corrupt(format!("holder {other:?}"))),
        },
    })
}

/// A principal from a `tokens` row (columns `id`, `role`, `bloc_id`, `unit_id`).
pub(super) fn principal(row: &AnyRow) -> Result<Principal> {
    let role_text: String = row.try_get("role")?;
    let role = match (
        role_text.as_str(),
        row.try_get::<Option<String>, _>("bloc_id")?,
        row.try_get::<Option<String>, _>("unit_id")?,
    ) {
        ("admin", None, None) => TokenRole::Admin,
        (kind, Some(bloc_id), Some(unit_id)) => TokenRole::Unit {
            bloc_id,
            unit_id,
            kind: UnitKind::parse(kind)
                .ok_or_else(|| StoreError::Corrupt(format!("token role {kind:?}")))?,
        },
        _ => return Err(StoreError::Corrupt(format!("token role {role_text:?}"))),
    };
    Ok(Principal {
        token_id: row.try_get("id")?,
        role,
    })
}
