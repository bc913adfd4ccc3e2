//! The hash-chained audit trail.
//!
//! There is one chain per covenant and one for the events without a covenant (blocs, units,
//! tokens, certificates), so a covenant's export verifies on its own. `seq` numbers all events
//! 1, 2, 3, ... in the order they were written.
//!
//! `hash` is the lowercase hex SHA-256 of the UTF-8 bytes of the canonical JSON array
//!
//! ```text
//! [seq, covenant_id, at, actor, action, details, prev_hash]
//! ```
//!
//! where `covenant_id` is a string or `null`, `at` the stored RFC 3339 text (UTC), `details` a
//! JSON value, and `prev_hash` the `hash` of the previous event of the same chain (64 zeros for
//! the first). Canonical JSON: no whitespace, object keys sorted by their UTF-8 bytes, strings
//! escaped as `serde_json` does (only `"`, `\` and control characters; no `\u` for non-ASCII),
//! integers in decimal. Example: `[1,null,"2021-03-01T08:00:00Z","admin","bloc.create",
//! {"id":"KTD","name":"Khối"},"000…000"]`.
//!
//! The chain shows an edited, removed, inserted or reordered event; it cannot show the
//! removal of the last events of a chain (publish or archive the head hash for that).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Result, Stamp, StoreError, hex, timestamp};

/// `prev_hash` of the first event of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event, as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub covenant_id: Option<String>,
    /// RFC 3339, UTC, exactly as hashed.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub details: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The canonical encoding the hash covers (see the module documentation).
    pub fn canonical(&self) -> String {
        let fields = Value::Array(vec![
            Value::from(self.seq),
            self.covenant_id.clone().map_or(Value::Null, Value::String),
            Value::String(self.at.clone()),
            Value::String(self.actor.clone()),
            Value::String(self.action.clone()),
            self.details.clone(),
            Value::String(self.prev_hash.clone()),
        ]);
        canonical_json(&fields)
    }

    /// The hash this event should carry.
    pub fn compute_hash(&self) -> String {
        hex(&Sha256::digest(self.canonical().as_bytes()))
    }
}

/// The result of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheck {
    /// Events examined.
    pub events: usize,
    pub ok: bool,
    /// The first event whose hash or link is wrong.
    pub first_bad_seq: Option<i64>,
    /// What is wrong with it.
    pub reason: Option<String>,
}

/// Checks events in export order (ascending `seq`; one covenant's chain or all chains):
/// every hash is recomputed and every `prev_hash` must be the previous hash of its chain.
pub fn verify_exported_chain(events: &[AuditEvent]) -> AuditCheck {
    let mut heads: HashMap<Option<&str>, &str> = HashMap::new();
    let mut last_seq = 0_i64;
    for event in events {
        let chain = event.covenant_id.as_deref();
        let expected_prev = heads.get(&chain).copied().unwrap_or(GENESIS_HASH);
        let problem = if event.seq <= last_seq {
            Some(format!("seq {} does not follow {last_seq}", event.seq))
        } else if event.prev_hash != expected_prev {
            Some(format!(
                "prev_hash {} is not the previous event's hash {expected_prev}",
                event.prev_hash
            ))
        } else if event.compute_hash() != event.hash {
            Some(format!("hash {} does not match the content", event.hash))
        } else {
            None
        };
        if let Some(reason) = problem {
            return AuditCheck {
                events: events.len(),
                ok: false,
                first_bad_seq: Some(event.seq),
                reason: Some(reason),
            };
        }
        heads.insert(chain, &event.hash);
        last_seq = event.seq;
    }
    AuditCheck {
        events: events.len(),
        ok: true,
        first_bad_seq: None,
        reason: None,
    }
}

/// Compact JSON with object keys sorted, whatever `serde_json`'s map order is.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// SHA-256 of a JSON value's canonical form (for details that refer to a document).
pub(super) fn json_sha256(value: &Value) -> String {
    hex(&Sha256::digest(canonical_json(value).as_bytes()))
}

/// Appends an event to `covenant`'s chain inside the caller's transaction.
pub(super) async fn append(
    conn: &mut AnyConnection,
    stamp: &Stamp<'_>,
    covenant: Option<&str>,
    action: &str,
    details: Value,
) -> Result<i64> {
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events")
        .fetch_one(&mut *conn)
        .await?;
    let prev_hash: Option<String> = sqlx::query_scalar(
        "SELECT hash FROM audit_events WHERE covenant_id IS NOT DISTINCT FROM $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(covenant)
    .fetch_optional(&mut *conn)
    .await?;
    let mut event = AuditEvent {
        seq,
        covenant_id: covenant.map(str::to_owned),
        at: timestamp(stamp.at)?,
        actor: stamp.actor.to_owned(),
        action: action.to_owned(),
        details,
        prev_hash: prev_hash.unwrap_or_else(|| GENESIS_HASH.to_owned()),
        hash: String::new(),
    };
    event.hash = event.compute_hash();
    sqlx::query(
        "INSERT INTO audit_events (seq, covenant_id, at, actor, action, details_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.seq)
    .bind(&event.covenant_id)
    .bind(&event.at)
    .bind(&event.actor)
    .bind(&event.action)
    .bind(canonical_json(&event.details))
    .bind(&event.prev_hash)
    .bind(&event.hash)
    .execute(&mut *conn)
    .await?;
    tracing::debug!(seq, action, covenant, "audit event");
    Ok(seq)
}

/// Reads a stored event. `lenient`: details that are not JSON are kept as a string (so the
/// chain check reports the event instead of failing).
pub(super) fn event_from_row(row: &AnyRow, lenient: bool) -> Result<AuditEvent> {
    let text: String = row.try_get("details_json")?;
    let details = match serde_json::from_str(&text) {
        Ok(details) => details,
        Err(_) if lenient => Value::String(text),
        Err(e) => {
            return Err(StoreError::Corrupt(format!(
                "audit details are not JSON: {e}"
            )));
        }
    };
    Ok(AuditEvent {
        seq: row.try_get("seq")?,
        covenant_id: row.try_get("covenant_id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        details,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}
