//! Covenants: create from the `giaouoc.covenant/1` JSON, list, get (state, units,
//! progress), open registration, freeze (render the final PDF and DOCX once).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::extract::RawJson;
use super::{AppState, Routes, blocking};
use crate::covenant::{self, Covenant};
use crate::render::{self, PipelineError};
use crate::render_docx::DocxOptions;
use crate::render_pdf::PdfOptions;
use crate::store::{
    Blobs, CovenantRow, RegistrationRow, RegistrationStatus, RevisionRow, Stamp, State as CState,
    StoreError, UnitRole, UnitRow,
};
use crate::workflow::Seat;
use crate::workflow::{Action, Who};

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/covenants", create)
        .get("/covenants", list)
        .get("/covenants/{id}", get)
        .post("/covenants/{id}/open-registration", |s, c, p| {
            step(Step::OpenRegistration, s, c, p)
        })
        .post("/covenants/{id}/freeze", |s, c, p| {
            step(Step::Freeze, s, c, p)
        })
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    RawJson(body): RawJson,
) -> ApiResult<impl IntoResponse> {
    let row = Loaded::from_row(create_covenant(&state, &caller, body).await?)?;
    let view = covenant_view(&state, &row).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/covenants/{}", row.id))],
        Json(view),
    ))
}

/// Validates the covenant (the whole pipeline up to the document, so a covenant that cannot
/// be rendered is refused now), creates its bloc (with a new CA) and units if needed, and
/// records it in `draft`. Its id is `<bloc id>-<year>`.
pub(crate) async fn create_covenant(
    state: &AppState,
    caller: &Caller,
    body: Bytes,
) -> ApiResult<CovenantRow> {
    caller.require_admin()?;
    record_covenant(state, caller, body).await
}

/// [`create_covenant`] once the caller's right to create it is checked (the admin, or the
/// leader unit making next year's covenant from this one).
pub(crate) async fn record_covenant(
    state: &AppState,
    caller: &Caller,
    body: Bytes,
) -> ApiResult<CovenantRow> {
    let st = state.clone();
    let input = body.clone();
    let parsed = blocking(move || {
        render::prepare(&input, &st.shared.template)
            .map(|(c, _)| c)
            .map_err(pipeline_error)
    })
    .await?;
    if !covenant::valid_unit_id(&parsed.bloc.id) {
        return Err(ApiError::invalid(
            "invalid_covenant",
            "bloc.id",
            "mã khối chỉ gồm chữ cái ASCII, chữ số, '-' và '_' (tối đa 32 ký tự)",
        ));
    }
    let input: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("invalid_json", "", e.to_string()))?;
    let bloc_id = parsed.bloc.id.clone();
    let year = parsed.covenant.year;
    let id = format!("{bloc_id}-{year}");
    match state.store.get_covenant(&id).await {
        Ok(_) => {
            return Err(ApiError::conflict(
                "exists",
                format!("giao ước \"{id}\" đã tồn tại"),
            ));
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let actor = caller.actor();
    let stamp = Stamp::new(&actor, state.now());
    state
        .shared
        .cas
        .ensure_bloc(&state.store, &stamp, &bloc_id, &parsed.bloc.name)
        .await?;
    let units: Vec<UnitRow> = parsed
        .units
        .iter()
        .map(|u| UnitRow {
            id: u.id.clone(),
            name: u.name.clone(),
            role: match u.role {
                covenant::Role::Leader => UnitRole::Leader,
                covenant::Role::Deputy => UnitRole::Deputy,
                covenant::Role::Member => UnitRole::Member,
            },
        })
        .collect();
    state.store.upsert_units(&stamp, &bloc_id, &units).await?;
    let row = state
        .store
        .create_covenant(&stamp, &id, &bloc_id, year, &input)
        .await?;
    tracing::info!(covenant = id, "covenant created");
    Ok(row)
}

pub(crate) fn pipeline_error(e: PipelineError) -> ApiError {
    match e {
        PipelineError::Input(errors) => errors.into(),
        other => ApiError::internal(format!("rendering: {other}")),
    }
}

#[derive(serde::Deserialize)]
struct ListQuery {
    bloc: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let blocs = match (&caller, q.bloc) {
        (Caller::Unit { bloc_id, .. }, _) => vec![bloc_id.clone()],
        (Caller::Admin { .. }, Some(bloc)) => vec![bloc],
        (Caller::Admin { .. }, None) => state.shared.cas.bloc_ids().await?,
    };
    let mut out = Vec::new();
    for bloc in blocs {
        let rows = match state.store.list_covenants(&bloc).await {
            Ok(rows) => rows,
            Err(StoreError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        for row in rows {
            let row = Loaded::from_row(row)?;
            let current = current_revision(&state, &row.id).await?;
            let signers = row.covenant.units.len();
            out.push(json!({
                "id": row.id, "bloc_id": row.bloc_id, "year": row.year, "state": row.state,
                "title": row.covenant.covenant.title,
                "progress": progress(current.as_ref(), signers),
                "updated_at": rfc3339(row.updated_at),
            }));
        }
    }
    Ok(Json(json!({ "covenants": out })))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = Loaded::from_row(visible(&state, &caller, &id).await?)?;
    Ok(Json(covenant_view(&state, &row).await?))
}

/// A step of the leader unit on the covenant: open the registration, or freeze.
#[derive(Clone, Copy)]
enum Step {
    OpenRegistration,
    Freeze,
}

/// `POST /covenants/{id}/open-registration` and `…/freeze`: the step, then the covenant.
async fn step(
    which: Step,
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = match which {
        Step::OpenRegistration => open_registration_for(&state, &caller, &id).await?,
        Step::Freeze => freeze_covenant(&state, &caller, &id).await?,
    };
    Ok(Json(covenant_view(&state, &row).await?))
}

pub(crate) async fn open_registration_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<Loaded> {
    load_for(state, caller, id, Action::OpenRegistration).await?;
    let actor = caller.actor();
    state
        .store
        .transition(
            &Stamp::new(&actor, state.now()),
            id,
            CState::Draft,
            CState::Registration,
        )
        .await?;
    load(state, id).await
}

/// Builds the final covenant from the input and the accepted registrations, renders the PDF
/// and the DOCX once, stores them and freezes the covenant (revision 0).
pub(crate) async fn freeze_covenant(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<Loaded> {
    let row = load_for(state, caller, id, Action::Freeze).await?;
    let registrations = state.store.list_registrations(id).await?;
    let final_covenant = final_covenant(&row.covenant, &registrations)?;
    let st = state.clone();
    let (pdf, docx) = blocking(move || {
        let doc = render::document(&final_covenant, &st.shared.template).map_err(pipeline_error)?;
        let pdf = render::pdf(&doc, &PdfOptions::default()).map_err(pipeline_error)?;
        let docx = render::docx(&doc, &DocxOptions::default()).map_err(pipeline_error)?;
        Ok((pdf.bytes, docx))
    })
    .await?;
    let pdf_sha = state.blobs.put(&pdf).await?;
    let docx_sha = state.blobs.put(&docx).await?;
    let signers = row.signer_fields();
    let actor = caller.actor();
    let revision = state
        .store
        .freeze(
            &Stamp::new(&actor, state.now()),
            id,
            &pdf_sha,
            &docx_sha,
            &signers,
        )
        .await?;
    state
        .shared
        .docs
        .offer(&row, &revision, pdf.into(), Some((docx_sha, docx.into())));
    tracing::info!(
        covenant = id,
        pdf_sha256 = revision.pdf_sha256,
        "covenant frozen"
    );
    load(state, id).await
}

/// The covenant as frozen and signed: the input with every unit's accepted registration
/// (what the units report their results against).
pub(crate) async fn signed_covenant(state: &AppState, row: &Loaded) -> ApiResult<Covenant> {
    let registrations = state.store.list_registrations(&row.id).await?;
    final_covenant(&row.covenant, &registrations)
}

/// The covenant with every unit's registration replaced by its accepted one; 409 naming the
/// units whose registration is missing or not accepted.
fn final_covenant(covenant: &Covenant, registrations: &[RegistrationRow]) -> ApiResult<Covenant> {
    let mut out = covenant.clone();
    let mut pending = Vec::new();
    for unit in &mut out.units {
        match registrations.iter().find(|r| r.unit_id == unit.id) {
            Some(r) if r.status == RegistrationStatus::Accepted => {
                // Accepted registrations were validated when they were saved.
                unit.registration = covenant::registration_from_value(&r.data).map_err(|e| {
                    ApiError::internal(format!("stored registration of {}: {e}", unit.id))
                })?;
            }
            Some(r) => pending.push(format!("{} ({})", unit.id, r.status)),
            None => pending.push(format!("{} (chưa đăng ký)", unit.id)),
        }
    }
    if !pending.is_empty() {
        return Err(ApiError::conflict(
            "registrations_pending",
            format!(
                "chưa thể khóa giao ước: bản đăng ký của {} đơn vị chưa được chấp nhận: {}",
                pending.len(),
                pending.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// A stored covenant with its input parsed into the validated [`Covenant`] once, where it
/// comes out of the store; handlers work on the typed value.
pub(crate) struct Loaded {
    /// The stored row (state, dates, the input as created).
    pub row: CovenantRow,
    /// The validated covenant.
    pub covenant: Covenant,
}

impl std::ops::Deref for Loaded {
    type Target = CovenantRow;

    fn deref(&self) -> &CovenantRow {
        &self.row
    }
}

impl Loaded {
    /// Parses a stored row; its input was validated when it was created, so a failure here
    /// is ours (a 500).
    pub(crate) fn from_row(row: CovenantRow) -> ApiResult<Loaded> {
        let covenant = covenant::from_value(&row.input).map_err(|e| {
            ApiError::internal(format!("stored covenant {} does not validate: {e}", row.id))
        })?;
        Ok(Loaded { row, covenant })
    }

    /// The unit `unit` of this covenant, or 404.
    pub(crate) fn unit(&self, unit: &str) -> ApiResult<&covenant::Unit> {
        self.covenant.unit(unit).ok_or_else(|| {
            ApiError::not_found(format!(
                "giao ước \"{}\" không có đơn vị \"{unit}\"",
                self.row.id
            ))
        })
    }

    /// The unit and seat a signature field names (`U05`: its leader; `U05-dau`: its seal,
    /// only in a covenant with seals).
    pub(crate) fn seat(&self, field: &str) -> ApiResult<(&covenant::Unit, Seat)> {
        let (unit, seat) = Seat::of_field(field);
        let found = self.unit(unit)?;
        let missing = match (self.kind, seat) {
            (None, Seat::Seal) => !self.covenant.covenant.seal_signatures,
            (None, Seat::Secretary) => true,
            // A year's document has the fields it was issued with (the store checks which).
            (Some(doc), Seat::Secretary) => doc != crate::year::YearDocument::Minutes,
            (Some(_), Seat::Seal) => true,
            (_, Seat::Leader) => false,
        };
        if missing {
            return Err(ApiError::not_found(format!(
                "tài liệu \"{}\" không có trường {} \"{field}\"",
                self.row.id,
                seat.label_vi()
            )));
        }
        Ok((found, seat))
    }

    /// What the document is, as people call it: the covenant's title, or a year's document's
    /// kind and year.
    pub(crate) fn title(&self) -> String {
        match self.kind {
            None => self.covenant.covenant.title.clone(),
            Some(doc) => format!("{} năm {}", doc.label_vi(), self.year),
        }
    }

    /// The fields expected to be signed: each unit's leader's, then, with seals, its seal's.
    pub(crate) fn signer_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        for u in &self.covenant.units {
            out.push(Seat::Leader.field(&u.id));
            if self.covenant.covenant.seal_signatures {
                out.push(Seat::Seal.field(&u.id));
            }
        }
        out
    }
}

/// The covenant `id` from the store, typed.
pub(crate) async fn load(state: &AppState, id: &str) -> ApiResult<Loaded> {
    Loaded::from_row(state.store.get_covenant(id).await?)
}

/// The covenant `id` as stored, if the caller belongs to its bloc (or is the admin).
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<CovenantRow> {
    let row = state.store.get_covenant(id).await?;
    caller.require_bloc(&row.bloc_id)?;
    Ok(row)
}

/// The covenant `id`, once the caller may take a bloc-wide `action` (the leader unit or the
/// admin, [`Action::who`]) and its state allows it ([`Action::states`]).
pub(crate) async fn load_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<Loaded> {
    let row = load(state, id).await?;
    if action.allows(Who::LeaderUnit) {
        caller.require_covenant_leader(&row.covenant, &row.bloc_id)?;
    } else {
        caller.require_bloc(&row.bloc_id)?;
    }
    super::require_action(action, &row)?;
    Ok(row)
}

/// The current revision, `None` before freeze.
pub(crate) async fn current_revision(state: &AppState, id: &str) -> ApiResult<Option<RevisionRow>> {
    match state.store.current_revision(id).await {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// "11/16": units signed over signers.
pub(crate) fn progress(current: Option<&RevisionRow>, signers: usize) -> String {
    let signed = current.map_or(0, |r| r.signed_units.len());
    format!("{signed}/{signers}")
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The covenant as the API shows it.
pub(crate) async fn covenant_view(state: &AppState, row: &Loaded) -> ApiResult<Value> {
    let registrations = state.store.list_registrations(&row.id).await?;
    let current = current_revision(state, &row.id).await?;
    let seals = row.covenant.covenant.seal_signatures;
    let units: Vec<Value> = row
        .covenant
        .units
        .iter()
        .map(|u| {
            let uid = u.id.as_str();
            let registration = registrations.iter().find(|r| r.unit_id == uid).map(|r| {
                json!({"status": r.status, "version": r.version, "comment": r.comment,
                       "updated_at": rfc3339(r.updated_at)})
            });
            let signed = current
                .as_ref()
                .is_some_and(|c| c.signed_units.iter().any(|s| s == uid));
            let field_signed = |field: &str| {
                current
                    .as_ref()
                    .is_some_and(|c| c.signed_fields.iter().any(|s| s == field))
            };
            let seal_field = seals.then(|| Seat::Seal.field(uid));
            let secretary_field = Seat::Secretary.field(uid);
            let secretary = current
                .as_ref()
                .is_some_and(|c| {
                    c.signed_fields
                        .iter()
                        .chain(&c.unsigned_fields)
                        .any(|f| *f == secretary_field)
                })
                .then(
                    || json!({"field": secretary_field, "signed": field_signed(&secretary_field)}),
                );
            json!({
                "id": uid, "name": u.name, "role": u.role,
                "signer": u.signer.full_name,
                "registration": registration,
                "signed": signed,
                "leader_signed": field_signed(uid),
                "seal_field": seal_field,
                "seal_signed": seal_field.as_deref().map(field_signed),
                "leader_field": current.as_ref().is_none_or(|c| {
                    c.signed_fields.iter().chain(&c.unsigned_fields).any(|f| f == uid)
                }),
                "secretary": secretary,
            })
        })
        .filter(|u| {
            // A year's document shows the units that sign it.
            row.kind.is_none()
                || current.as_ref().is_some_and(|c| {
                    c.signed_units
                        .iter()
                        .chain(&c.unsigned_units)
                        .any(|x| Some(x.as_str()) == u["id"].as_str())
                })
        })
        .collect();
    let signers = units.len();
    let frozen = current.is_some();
    let year_documents: Vec<Value> = match row.kind {
        None => state
            .store
            .year_documents(&row.id)
            .await?
            .iter()
            .map(|d| {
                json!({"id": d.id, "kind": d.kind, "state": d.state,
                       "url": format!("/covenants/{}", d.id)})
            })
            .collect(),
        Some(_) => Vec::new(),
    };
    Ok(json!({
        "id": row.id,
        "kind": row.kind.map_or("covenant", |k| k.slug()),
        "parent_id": row.parent_id,
        "year_documents": year_documents,
        "bloc_id": row.bloc_id,
        "year": row.year,
        "state": row.state,
        "title": row.title(),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
        "progress": progress(current.as_ref(), signers),
        "seal_signatures": seals,
        "signed_count": current.as_ref().map_or(0, |c| c.signed_units.len()),
        "signer_count": signers,
        "revision": current.as_ref().map(|c| json!({
            "index": c.index, "sha256": c.pdf_sha256, "created_at": rfc3339(c.created_at),
        })),
        "docx_sha256": row.docx_sha256,
        "documents": frozen.then(|| json!({
            "pdf": format!("/covenants/{}/document.pdf", row.id),
            "docx": format!("/covenants/{}/document.docx", row.id),
        })),
        "units": units,
    }))
}
