//! Blocs and their people: the bloc with its CA certificate, unit tokens, the leaders'
//! certificate enrolments (a public key or a CSR; the admin approves and the bloc CA issues)
//! and the certificates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::covenants::rfc3339;
use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use super::{AppState, Routes, at};
use crate::covenant::nfc;
use crate::pki;
use crate::store::{
    Blobs, CertificateRow, EnrolmentKey, EnrolmentRow, EnrolmentStatus, NewToken, Stamp,
    StoreError, TokenRole, UnitKind,
};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/blocs/{bloc}", get_bloc)
        .get("/blocs/{bloc}/ca.pem", ca_pem)
        .get("/blocs/{bloc}/ca.crl", ca_crl)
        .post("/blocs/{bloc}/ocsp", ocsp)
        .post(
            "/blocs/{bloc}/certificates/{serial}/revoke",
            revoke_certificate,
        )
        .post("/blocs/{bloc}/tokens", create_token)
        .post("/tokens/{token}/revoke", revoke_token)
        .post("/blocs/{bloc}/enrolments", enrol)
        .get("/blocs/{bloc}/enrolments", list_enrolments)
        .post("/enrolments/{enrolment}/approve", approve)
        .get("/blocs/{bloc}/certificates/{unit}", certificate)
        .put("/blocs/{bloc}/units/{unit}/seal", put_seal)
        .get("/blocs/{bloc}/units/{unit}/seal.png", get_seal)
}

/// `?diameter_mm=` of a seal upload.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealQuery {
    /// The seal's size across, when the PNG does not give its resolution (`pHYs`).
    #[serde(default)]
    pub diameter_mm: Option<f32>,
}

async fn put_seal(
    State(state): State<AppState>,
    caller: Caller,
    Path((bloc, unit)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<SealQuery>,
    req: axum::extract::Request,
) -> ApiResult<Json<Value>> {
    let png = super::verification::uploaded_pdf(req, &state).await?;
    save_seal(&state, &caller, &bloc, &unit, &png, q.diameter_mm)
        .await
        .map(Json)
}

/// Records the unit's seal image after checking it (PNG with transparency, red, 20 to 42 mm
/// across): the admin or any token of the unit (its clerk keeps the seal).
pub(crate) async fn save_seal(
    state: &AppState,
    caller: &Caller,
    bloc: &str,
    unit: &str,
    png: &[u8],
    diameter_mm: Option<f32>,
) -> ApiResult<Value> {
    caller.require_unit_any(bloc, unit)?;
    if !state
        .store
        .list_units(bloc)
        .await?
        .iter()
        .any(|u| u.id == unit)
    {
        return Err(ApiError::not_found(format!(
            "khối \"{bloc}\" không có đơn vị \"{unit}\""
        )));
    }
    let bytes = png.to_vec();
    let seal = super::blocking(move || {
        crate::sign::SealImage::from_png(&bytes, diameter_mm)
            .map_err(|e| ApiError::invalid("invalid_seal", "file", e.to_string()))
    })
    .await?;
    let sha = state.blobs.put(png).await?;
    let row = crate::store::SealRow {
        bloc_id: bloc.to_owned(),
        unit_id: unit.to_owned(),
        png_sha256: sha.clone(),
        diameter_mm: f64::from((seal.diameter_mm() * 10.0).round() / 10.0),
        uploaded_at: state.now(),
    };
    let actor = caller.actor();
    state
        .store
        .put_seal(&Stamp::new(&actor, state.now()), &row)
        .await?;
    Ok(json!({
        "unit": unit, "sha256": sha, "diameter_mm": row.diameter_mm,
        "url": format!("/blocs/{bloc}/units/{unit}/seal.png"),
    }))
}

/// The unit's seal image (public, as it is drawn on every covenant it seals).
async fn get_seal(
    State(state): State<AppState>,
    Path((bloc, unit)): Path<(String, String)>,
) -> ApiResult<Response> {
    let row = state
        .store
        .seal_for_unit(&bloc, &unit)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("đơn vị \"{unit}\" chưa có ảnh dấu")))?;
    let png = state.blobs.get(&row.png_sha256).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))],
        png,
    )
        .into_response())
}

/// The bloc, its units and its CA certificate (public: anyone may check signatures).
async fn get_bloc(
    State(state): State<AppState>,
    Path(bloc): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = state.store.get_bloc(&bloc).await?;
    let units = state.store.list_units(&bloc).await?;
    Ok(Json(json!({
        "id": row.id, "name": row.name, "ca_cert_pem": row.ca_cert_pem,
        "created_at": rfc3339(row.created_at), "units": units,
    })))
}

async fn ca_pem(State(state): State<AppState>, Path(bloc): Path<String>) -> ApiResult<Response> {
    let row = state.store.get_bloc(&bloc).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-pem-file"),
        )],
        row.ca_cert_pem,
    )
        .into_response())
}

/// `GET /blocs/{bloc}/ca.crl` (public, a stable URL): the bloc CA's current CRL, DER (RFC 5280
/// §5), listing every certificate it issued that was revoked; issued at the current minute,
/// valid seven days, numbered by that minute so numbers only grow (§5.2.3).
async fn ca_crl(State(state): State<AppState>, Path(bloc): Path<String>) -> ApiResult<Response> {
    let der = bloc_crl(&state, &bloc).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pkix-crl"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("max-age=60"),
            ),
        ],
        der,
    )
        .into_response())
}

/// `POST /blocs/{bloc}/ocsp`: the bloc CA's OCSP responder (RFC 6960 §2.1, Appendix A.1:
/// `application/ocsp-request` in, `application/ocsp-response` out), signed by the CA, valid
/// for a day; a certificate it issued is `good` or `revoked` at its revocation time, any
/// other serial `unknown`.
async fn ocsp(
    State(state): State<AppState>,
    Path(bloc): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    let ca = state
        .shared
        .cas
        .get(&bloc)
        .ok_or_else(|| ApiError::not_found(format!("không có khối thi đua \"{bloc}\"")))?;
    if body.len() > 64 * 1024 {
        return Err(ApiError::PayloadTooLarge { limit: 64 * 1024 });
    }
    let certificates = state.store.list_certificates(&bloc).await?;
    let issued: Vec<(Vec<u8>, Option<time::OffsetDateTime>)> = certificates
        .iter()
        .filter_map(|c| {
            let (leaf, _) = pki::leaf_and_chain(c.cert_pem.as_bytes()).ok()?;
            (leaf.tbs_certificate.issuer == ca.cert.tbs_certificate.subject).then(|| {
                (
                    leaf.tbs_certificate.serial_number.as_bytes().to_vec(),
                    c.revoked_at,
                )
            })
        })
        .collect();
    let now = state.now();
    let der = ca.ocsp(
        &body,
        |serial| match issued.iter().find(|(s, _)| s.as_slice() == serial) {
            Some((_, Some(at))) => pki::ocsp::OcspStatus::Revoked(*at),
            Some((_, None)) => pki::ocsp::OcspStatus::Good,
            None => pki::ocsp::OcspStatus::Unknown,
        },
        now,
        now + time::Duration::days(1),
    );
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/ocsp-response",
        )],
        der,
    )
        .into_response())
}

/// The bloc CA's CRL now (see [`ca_crl`]).
pub(crate) async fn bloc_crl(state: &AppState, bloc: &str) -> ApiResult<Vec<u8>> {
    let ca = state.shared.cas.require(bloc).await?;
    let certificates = state.store.list_certificates(bloc).await?;
    crl_of(state, &ca, &certificates)
}

/// The CRL of `ca` listing the revoked ones among the bloc's `certificates` that it issued.
pub(crate) fn crl_of(
    state: &AppState,
    ca: &crate::ca::BlocCa,
    certificates: &[CertificateRow],
) -> ApiResult<Vec<u8>> {
    let mut revoked = Vec::new();
    for c in certificates {
        let Some(at) = c.revoked_at else { continue };
        let ours = pki::leaf_and_chain(c.cert_pem.as_bytes())
            .is_ok_and(|(leaf, _)| leaf.tbs_certificate.issuer == ca.cert.tbs_certificate.subject);
        if let (true, Ok(serial)) = (ours, u64::from_str_radix(&c.serial, 16)) {
            revoked.push((serial, at));
        }
    }
    let now = state.now();
    let minute = now.unix_timestamp().div_euclid(60);
    let this_update = time::OffsetDateTime::from_unix_timestamp(minute.saturating_mul(60))
        .map_err(ApiError::internal)?;
    let number = u64::try_from(minute).unwrap_or(0);
    ca.crl(
        &revoked,
        this_update,
        this_update + time::Duration::days(7),
        number,
    )
    .map_err(ApiError::internal)
}

/// `POST /blocs/{bloc}/certificates/{serial}/revoke` (the leader unit or the admin): the
/// certificate may no longer sign for its unit. A bloc certificate also goes on the CRL; an
/// enrolled certificate of another CA is only withdrawn from the unit (its CA revokes it).
async fn revoke_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path((bloc, serial)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require_leader_unit(&state, &bloc).await?;
    let actor = caller.actor();
    let serial = serial.trim().to_ascii_lowercase();
    if serial.is_empty() || serial.len() > 40 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid(
            "invalid_field",
            "serial",
            "số sê-ri phải là số thập lục phân",
        ));
    }
    state
        .store
        .revoke_certificate(&Stamp::new(&actor, state.now()), &bloc, &serial)
        .await?;
    let cert = state
        .store
        .list_certificates(&bloc)
        .await?
        .into_iter()
        .find(|c| c.serial.trim_start_matches('0') == serial.trim_start_matches('0'))
        .ok_or_else(|| ApiError::internal("revoked certificate vanished"))?;
    let mut view = certificate_view(&cert);
    if let Some(v) = view.as_object_mut() {
        v.insert("crl_url".into(), json!(format!("/blocs/{bloc}/ca.crl")));
    }
    Ok(Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub unit: String,
    pub kind: UnitKind,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(bloc): Path<String>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<impl IntoResponse> {
    let token = issue_unit_token(&state, &caller, &bloc, &body.unit, body.kind).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": token.id, "secret": token.secret, "bloc_id": bloc, "unit_id": body.unit,
            "kind": body.kind,
        })),
    ))
}

/// A token for a unit's officer or leader (admin only); the secret is shown once.
pub(crate) async fn issue_unit_token(
    state: &AppState,
    caller: &Caller,
    bloc: &str,
    unit: &str,
    kind: UnitKind,
) -> ApiResult<NewToken> {
    caller.require_admin()?;
    let actor = caller.actor();
    let role = TokenRole::Unit {
        bloc_id: bloc.to_owned(),
        unit_id: unit.to_owned(),
        kind,
    };
    Ok(state
        .store
        .create_token(&Stamp::new(&actor, state.now()), &role)
        .await?)
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let actor = caller.actor();
    state
        .store
        .revoke_token(&Stamp::new(&actor, state.now()), &token)
        .await?;
    state.shared.auth.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub unit: String,
    /// An Ed25519 public key for the bloc CA to certify.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// A certificate request for the bloc CA.
    #[serde(default)]
    pub csr_pem: Option<String>,
    /// A certificate the leader already holds (a licensed CA's, on a token or in a remote
    /// signing service): the leaf, then its intermediates. It must chain to a trust anchor.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// The leader's name; for a certificate, its subject CN if absent.
    #[serde(default)]
    pub full_name: String,
    /// The leader's title.
    #[serde(default)]
    pub title: String,
    /// Whose certificate: `person` (the leader's, the default) or `organisation` (the unit's
    /// own, for its seal: no name and no title; the bloc CA issues it with O = CN = the unit).
    #[serde(default)]
    pub holder: Option<pki::Holder>,
}

async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
    Path(bloc): Path<String>,
    ApiJson(body): ApiJson<EnrolRequest>,
) -> ApiResult<impl IntoResponse> {
    let row = enrol_leader(&state, &caller, &bloc, body).await?;
    Ok((StatusCode::CREATED, Json(enrolment_view(&row))))
}

/// Records a leader's certificate request (pending) after checking the key (and the CSR's
/// proof of possession).
pub(crate) async fn enrol_leader(
    state: &AppState,
    caller: &Caller,
    bloc: &str,
    body: EnrolRequest,
) -> ApiResult<EnrolmentRow> {
    let holder = body.holder.unwrap_or(pki::Holder::Person);
    if holder == pki::Holder::Organisation {
        caller.require_unit_any(bloc, &body.unit)?;
    } else {
        caller.require_unit(bloc, &body.unit)?;
    }
    let mut full_name = nfc(body.full_name.trim());
    if full_name.is_empty() && body.certificate_pem.is_none() && holder == pki::Holder::Person {
        return Err(ApiError::invalid(
            "invalid_field",
            "full_name",
            "thiếu trường bắt buộc",
        ));
    }
    let key = match (body.public_key_pem, body.csr_pem, body.certificate_pem) {
        (None, None, Some(pem)) => {
            let leaf = existing_certificate(state, bloc, &body.unit, &pem).await?;
            if pki::holder_of(&leaf) != holder && holder == pki::Holder::Organisation {
                return Err(ApiError::invalid(
                    "personal_certificate",
                    "certificate_pem",
                    "đây là chứng thư số cá nhân; dấu của đơn vị cần chứng thư số của cơ quan, tổ chức",
                ));
            }
            if full_name.is_empty() {
                full_name = nfc(pki::cert_info(&leaf).subject_cn.unwrap_or_default().trim());
            }
            EnrolmentKey::Certificate(pem)
        }
        (Some(pem), None, None) => {
            enrolment_public_key(&pem)?;
            EnrolmentKey::PublicKey(pem)
        }
        (None, Some(pem), None) => {
            let der = pki::csr_pem_to_der(&pem).map_err(|e| {
                ApiError::invalid("invalid_csr", "csr_pem", format!("CSR không hợp lệ: {e}"))
            })?;
            pki::verify_csr_any(&der).map_err(|e| {
                ApiError::invalid("invalid_csr", "csr_pem", format!("CSR không hợp lệ: {e}"))
            })?;
            EnrolmentKey::Csr(pem)
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_field",
                "public_key_pem",
                "cần đúng một trong ba: public_key_pem, csr_pem hoặc certificate_pem",
            ));
        }
    };
    let title = nfc(body.title.trim());
    let subject = if holder == pki::Holder::Organisation {
        json!({"holder": "organisation"})
    } else {
        for (path, value) in [("full_name", &full_name), ("title", &title)] {
            if value.is_empty() {
                return Err(ApiError::invalid(
                    "invalid_field",
                    path,
                    "thiếu trường bắt buộc",
                ));
            }
        }
        json!({"full_name": full_name, "title": title})
    };
    let actor = caller.actor();
    let id = state
        .store
        .enrol(
            &Stamp::new(&actor, state.now()),
            bloc,
            &body.unit,
            &key,
            &subject,
        )
        .await?;
    find_enrolment(state, id).await
}

async fn list_enrolments(
    State(state): State<AppState>,
    caller: Caller,
    Path(bloc): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let rows = state.store.list_enrolments(&bloc).await?;
    Ok(Json(
        json!({"enrolments": rows.iter().map(enrolment_view).collect::<Vec<_>>()}),
    ))
}

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(enrolment): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = enrolment.parse::<i64>().map_err(|_| {
        ApiError::not_found(format!(
            "không tìm thấy yêu cầu cấp chứng thư \"{enrolment}\""
        ))
    })?;
    let cert = approve_enrolment(&state, &caller, id).await?;
    Ok(Json(certificate_view(&cert)))
}

/// Approves a pending enrolment: the bloc CA issues the certificate of a key or CSR (admin
/// only); a certificate the leader already holds is checked again (it must still chain to a
/// trust anchor) and recorded as the unit's (admin or the bloc's leader unit).
pub(crate) async fn approve_enrolment(
    state: &AppState,
    caller: &Caller,
    enrolment_id: i64,
) -> ApiResult<CertificateRow> {
    // Units are checked before the enrolment is looked up, so an id says nothing to them.
    let unit_bloc = match caller {
        Caller::Unit { bloc_id, .. } => {
            caller.require_leader_unit(state, bloc_id).await?;
            Some(bloc_id.clone())
        }
        _ => {
            caller.require_admin()?;
            None
        }
    };
    let row = find_enrolment(state, enrolment_id).await?;
    if let Some(bloc) = unit_bloc
        && (bloc != row.bloc_id || !matches!(row.key, EnrolmentKey::Certificate(_)))
    {
        return Err(ApiError::forbidden(
            "đơn vị Trưởng khối chỉ duyệt chứng thư số sẵn có của các đơn vị trong khối; cấp chứng thư mới do quản trị viên duyệt",
        ));
    }
    if row.status != EnrolmentStatus::Pending {
        return Err(ApiError::conflict(
            "conflict",
            format!("yêu cầu {enrolment_id} đã được xử lý ({})", row.status),
        ));
    }
    let public_key = match &row.key {
        EnrolmentKey::PublicKey(pem) => enrolment_public_key(pem),
        EnrolmentKey::Csr(pem) => pki::csr_pem_to_der(pem)
            .and_then(|der| pki::verify_csr_any(&der))
            .map(|(spki, _)| spki)
            .map_err(|e| ApiError::internal(format!("stored enrolment key: {e}"))),
        EnrolmentKey::Certificate(pem) => {
            let leaf = existing_certificate(state, &row.bloc_id, &row.unit_id, pem).await?;
            let actor = caller.actor();
            return Ok(state
                .store
                .approve_enrolment(
                    &Stamp::new(&actor, state.now()),
                    enrolment_id,
                    pem,
                    &pki::cert_info(&leaf).serial_hex,
                )
                .await?);
        }
    }
    .map_err(|e| ApiError::internal(format!("stored enrolment key: {e}")))?;
    let unit = state
        .store
        .list_units(&row.bloc_id)
        .await?
        .into_iter()
        .find(|u| u.id == row.unit_id)
        .ok_or_else(|| ApiError::not_found(format!("không tìm thấy đơn vị \"{}\"", row.unit_id)))?;
    let ca = state.shared.cas.require(&row.bloc_id).await?;
    let now = state.now();
    let subject = if at(&row.subject, "/holder").as_str() == Some("organisation") {
        super::ca::Subject::Organisation(pki::OrganisationSubject {
            unit_name: unit.name,
            unit_id: row.unit_id.clone(),
        })
    } else {
        super::ca::Subject::Leader(pki::LeaderSubject {
            full_name: at(&row.subject, "/full_name")
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            title: at(&row.subject, "/title")
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            unit_name: unit.name,
            unit_id: row.unit_id.clone(),
        })
    };
    let (cert, serial) = super::ca::issue_for(&ca, &public_key, &subject, now)?;
    let pem = pki::certificate_to_pem(&cert).map_err(ApiError::internal)?;
    let actor = caller.actor();
    Ok(state
        .store
        .approve_enrolment(&Stamp::new(&actor, now), enrolment_id, &pem, &serial)
        .await?)
}

/// An enrolment by id, whatever its bloc.
async fn find_enrolment(state: &AppState, id: i64) -> ApiResult<EnrolmentRow> {
    for bloc in state.shared.cas.bloc_ids().await? {
        let found = state
            .store
            .list_enrolments(&bloc)
            .await?
            .into_iter()
            .find(|e| e.id == id);
        if let Some(row) = found {
            return Ok(row);
        }
    }
    Err(StoreError::NotFound {
        what: "enrolment",
        id: id.to_string(),
    }
    .into())
}

/// A unit's current certificate (public): its leader's for `U05`, the unit's own (its seal)
/// for `U05-dau`.
async fn certificate(
    State(state): State<AppState>,
    Path((bloc, field)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (unit, seat) = crate::workflow::Seat::of_field(&field);
    let cert = state
        .store
        .certificate_for_unit(&bloc, unit, super::signatures::holder_of_seat(seat))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "đơn vị \"{unit}\" của khối \"{bloc}\" chưa có chứng thư số"
            ))
        })?;
    Ok(Json(certificate_view(&cert)))
}

/// A leader's public key for the bloc CA to certify: `PUBLIC KEY` PEM (RFC 7468 §13) of an
/// Ed25519 or ECDSA P-256 key.
fn enrolment_public_key(pem: &str) -> ApiResult<spki::SubjectPublicKeyInfoOwned> {
    use der::DecodePem;
    let bad = |why: String| {
        ApiError::invalid(
            "invalid_key",
            "public_key_pem",
            format!("khóa công khai không hợp lệ (cần Ed25519 hoặc ECDSA P-256, PEM): {why}"),
        )
    };
    let spki =
        spki::SubjectPublicKeyInfoOwned::from_pem(pem.trim()).map_err(|e| bad(e.to_string()))?;
    match pki::alg::key_kind(&spki) {
        Ok(pki::alg::KeyKind::Ed25519 | pki::alg::KeyKind::P256) => Ok(spki),
        Ok(other) => Err(bad(format!("{other:?}"))),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// A certificate a leader already holds, as enrolled: the leaf (first) must chain through the
/// given intermediates to one of the service's trust anchors now, be fit for signing (RFC 5280
/// path checks, keyUsage), have a key giaouoc can sign with, and not be a bloc certificate
/// (those name their unit and need no enrolment).
async fn existing_certificate(
    state: &AppState,
    bloc: &str,
    unit: &str,
    pem: &str,
) -> ApiResult<x509_cert::Certificate> {
    let field = "certificate_pem";
    let (leaf, intermediates) = pki::leaf_and_chain(pem.as_bytes()).map_err(|e| {
        ApiError::invalid(
            "invalid_certificate",
            field,
            format!("không đọc được chứng thư số (PEM): {e}"),
        )
    })?;
    if let Some(other) = pki::cert_info(&leaf).unit_id {
        return Err(ApiError::invalid(
            "invalid_certificate",
            field,
            format!(
                "đây là chứng thư số do CA của khối cấp cho đơn vị \"{other}\"; chứng thư của khối không cần đăng ký"
            ),
        ));
    }
    crate::cms::scheme_for(&leaf).map_err(|e| {
        ApiError::invalid(
            "unsupported_algorithm",
            field,
            format!("không ký được bằng khóa của chứng thư này: {e}"),
        )
    })?;
    super::signatures::require_anchored(
        state,
        &leaf,
        &intermediates,
        state.now(),
        format!(
            "chứng thư số của đơn vị \"{unit}\" (khối \"{bloc}\") không dẫn tới một CA gốc được tin cậy, hoặc không còn hiệu lực; hãy gửi kèm các CA trung gian"
        ),
    ).await?;
    Ok(leaf)
}

fn enrolment_view(e: &EnrolmentRow) -> Value {
    let (kind, pem) = match &e.key {
        EnrolmentKey::PublicKey(p) => ("public_key", p),
        EnrolmentKey::Csr(p) => ("csr", p),
        EnrolmentKey::Certificate(p) => ("certificate", p),
    };
    json!({
        "id": e.id, "bloc_id": e.bloc_id, "unit_id": e.unit_id, "status": e.status,
        "key_kind": kind, "key_pem": pem, "subject": e.subject,
        "created_at": rfc3339(e.created_at), "decided_at": e.decided_at.map(rfc3339),
    })
}

fn certificate_view(c: &CertificateRow) -> Value {
    let info = pki::leaf_and_chain(c.cert_pem.as_bytes())
        .ok()
        .map(|(cert, _)| pki::cert_info(&cert));
    json!({
        "bloc_id": c.bloc_id, "unit_id": c.unit_id, "serial": c.serial,
        "certificate_pem": c.cert_pem, "enrolment_id": c.enrolment_id,
        "issued_at": rfc3339(c.issued_at), "revoked_at": c.revoked_at.map(rfc3339),
        "holder": c.holder, "info": info,
    })
}
