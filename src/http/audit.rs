//! A covenant's audit trail: every state change, registration edit and signature, each event
//! holding the hash of the one before. The export verifies on its own with
//! [`verify_exported_chain`] (`giaouoc audit verify FILE.json`).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiResult;
use super::{AppState, Routes};
use crate::store::verify_exported_chain;

/// The `format` of an audit export.
pub const AUDIT_FORMAT: &str = "giaouoc.audit/1";

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/covenants/{id}/audit", export)
}

async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    super::covenants::visible(&state, &caller, &id).await?;
    let events = state.store.audit_events(Some(&id)).await?;
    let check = verify_exported_chain(&events);
    Ok(Json(json!({
        "format": AUDIT_FORMAT,
        "covenant_id": id,
        "head_hash": events.last().map(|e| e.hash.clone()),
        "check": check,
        "events": events,
    })))
}
