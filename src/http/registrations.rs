//! A unit's registration (titles and pledges): read, save or submit (the unit itself), and
//! review (the bloc's leader unit accepts it or returns it with a comment).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::covenants::{Loaded, load, rfc3339};
use super::error::{ApiError, ApiResult, Detail};
use super::extract::{ApiJson, RawJson, parse_json};
use super::{AppState, Routes};
use crate::covenant;
use crate::store::{RegistrationRow, RegistrationStatus, Stamp, StoreError};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/covenants/{id}/registrations", list)
        .get("/covenants/{id}/registrations/{unit}", get)
        .put("/covenants/{id}/registrations/{unit}", put)
        .post("/covenants/{id}/registrations/{unit}/review", review)
}

fn view(r: &RegistrationRow) -> Value {
    json!({
        "covenant_id": r.covenant_id, "unit_id": r.unit_id, "status": r.status,
        "version": r.version, "comment": r.comment, "data": r.data,
        "updated_at": rfc3339(r.updated_at),
    })
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    super::covenants::visible(&state, &caller, &id).await?;
    let regs = state.store.list_registrations(&id).await?;
    Ok(Json(
        json!({"registrations": regs.iter().map(view).collect::<Vec<_>>()}),
    ))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    registration_view(&state, &caller, &id, &unit)
        .await
        .map(Json)
}

/// The unit's registration; before its first save, `status` is `not_started` and `data` is
/// what the covenant input proposed.
pub(crate) async fn registration_view(
    state: &AppState,
    caller: &Caller,
    id: &str,
    unit: &str,
) -> ApiResult<Value> {
    let row = Loaded::from_row(super::covenants::visible(state, caller, id).await?)?;
    let proposed = &row.unit(unit)?.registration;
    match state.store.get_registration(id, unit).await {
        Ok(r) => Ok(view(&r)),
        Err(StoreError::NotFound { .. }) => Ok(json!({
            "covenant_id": id, "unit_id": unit, "status": "not_started", "version": 0,
            "comment": null, "data": proposed,
        })),
        Err(e) => Err(e.into()),
    }
}

async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    RawJson(body): RawJson,
) -> ApiResult<Json<Value>> {
    let body: Value = parse_json(&body)?;
    let saved = save_registration(&state, &caller, &id, &unit, body).await?;
    Ok(Json(view(&saved)))
}

/// Saves (`submit: false`) or submits (`submit: true`) a unit's registration, after checking
/// it with the covenant validator in its place in the covenant; problems are reported at
/// their path in the body (`pledges[0].text`).
pub(crate) async fn save_registration(
    state: &AppState,
    caller: &Caller,
    id: &str,
    unit: &str,
    body: Value,
) -> ApiResult<RegistrationRow> {
    let row = load(state, id).await?;
    caller.require_unit(&row.bloc_id, unit)?;
    let (data, submit) = submission(body, "bản đăng ký")?;
    row.unit(unit)?;
    if let Err(errors) = covenant::registration_from_value(&data) {
        let details: Vec<Detail> = errors
            .problems
            .into_iter()
            .map(|p| Detail::new(p.path, p.message))
            .collect();
        return Err(ApiError::Invalid {
            code: "invalid_registration",
            message: format!("bản đăng ký không hợp lệ ({} lỗi)", details.len()),
            details,
        });
    }
    let status = if submit {
        RegistrationStatus::Submitted
    } else {
        RegistrationStatus::Draft
    };
    let actor = caller.actor();
    Ok(state
        .store
        .save_registration(&Stamp::new(&actor, state.now()), id, unit, &data, status)
        .await?)
}

/// A unit's submission (a registration, its results): the body without its `submit` flag,
/// and the flag (save as a draft when absent).
pub(crate) fn submission(body: Value, what: &str) -> ApiResult<(Value, bool)> {
    let Value::Object(mut data) = body else {
        return Err(ApiError::invalid(
            "invalid_field",
            "",
            format!("{what} phải là một đối tượng JSON"),
        ));
    };
    let submit = match data.remove("submit") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_field",
                "submit",
                "\"submit\" phải là true hoặc false",
            ));
        }
    };
    Ok((Value::Object(data), submit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Review {
    pub accept: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

impl Review {
    /// The comment (NFC); returning `what` without one is refused at `comment`.
    pub(crate) fn comment(&self, what: &str) -> ApiResult<Option<String>> {
        let comment = self.comment.as_deref().map(covenant::nfc);
        if !self.accept && comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(ApiError::invalid(
                "invalid_field",
                "comment",
                format!("trả lại {what} cần có nhận xét"),
            ));
        }
        Ok(comment)
    }
}

async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    ApiJson(body): ApiJson<Review>,
) -> ApiResult<Json<Value>> {
    let saved = review_registration(&state, &caller, &id, &unit, &body).await?;
    Ok(Json(view(&saved)))
}

pub(crate) async fn review_registration(
    state: &AppState,
    caller: &Caller,
    id: &str,
    unit: &str,
    review: &Review,
) -> ApiResult<RegistrationRow> {
    let row = load(state, id).await?;
    caller.require_covenant_leader(&row.covenant, &row.bloc_id)?;
    let comment = review.comment("bản đăng ký")?;
    let actor = caller.actor();
    Ok(state
        .store
        .review_registration(
            &Stamp::new(&actor, state.now()),
            id,
            unit,
            review.accept,
            comment.as_deref(),
        )
        .await?)
}
