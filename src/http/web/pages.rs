//! The page handlers: each reads through the API's own functions and renders a template;
//! an [`ApiError`] becomes an error page ([`Web::fail`]).

use axum::Form;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::auth::{Caller, SESSION_COOKIE, same_secret};
use super::super::covenants::{Loaded, covenant_view, current_revision, load, progress, rfc3339};
use super::super::error::ApiError;
use super::super::registrations::registration_view;
use super::super::verification::{first_file, verify_bytes};
use super::super::{AppState, Routes, at};
use super::{SESSION_TTL, Web, cross_site, safe_next};
use crate::store::{
    Stamp, State as CState, StoreError, UnitKind, is_sha256, verify_exported_chain,
};
use crate::verify::VerificationReport;
use crate::workflow::Action;

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/", home)
        .get("/dang-nhap", login_form)
        .post("/dang-nhap", login)
        .post("/dang-xuat", logout)
        .get("/giao-uoc/{id}", covenant_page)
        .get("/giao-uoc/{id}/dang-ky/{unit}", registration_page)
        .get("/giao-uoc/{id}/ky/{unit}", sign_page)
        .get("/giao-uoc/{id}/ket-qua/{period}", results_page)
        .get("/giao-uoc/{id}/ket-qua/{period}/{unit}", results_unit_page)
        .get("/giao-uoc/{id}/cham-diem", scores_page)
        .get("/giao-uoc/{id}/hoi-nghi", conference_page)
        .get("/kiem-tra", verify_page)
        .post("/kiem-tra", verify_submit)
        .get("/luu-tru", archive_page)
        .get("/luu-tru/{sha256}", archive_entry_page)
        .get("/static/{file}", asset)
}

type PageResult = Result<Response, ApiError>;

/// The page, or the error as a page.
async fn finish(web: &Web, result: PageResult) -> Response {
    match result {
        Ok(response) => response,
        Err(e) => web.fail(e).await,
    }
}

// ---------------------------------------------------------------------------------------
// Home, sign in, sign out

async fn home(web: Web) -> Response {
    let result = home_body(&web).await;
    finish(&web, result).await
}

async fn home_body(web: &Web) -> PageResult {
    let Some(caller) = web.caller() else {
        return Ok(web.render(StatusCode::OK, "home.html", json!({})).await);
    };
    let state = &web.state;
    let blocs = match caller {
        Caller::Unit { bloc_id, .. } => vec![bloc_id.clone()],
        Caller::Admin { .. } => state.shared.cas.bloc_ids().await?,
    };
    let mut covenants = Vec::new();
    for bloc in blocs {
        let bloc_name = match state.store.get_bloc(&bloc).await {
            Ok(b) => b.name,
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        for row in state.store.list_covenants(&bloc).await? {
            let row = Loaded::from_row(row)?;
            let current = current_revision(state, &row.id).await?;
            let signers = row.covenant.units.len();
            let signed = current.as_ref().map_or(0, |c| c.signed_units.len());
            covenants.push(json!({
                "id": row.id, "year": row.year, "state": row.state, "bloc_name": bloc_name,
                "title": row.covenant.covenant.title,
                "progress": progress(current.as_ref(), signers),
                "signed": signed, "signers": signers,
                "updated_at": rfc3339(row.updated_at),
            }));
        }
    }
    covenants.sort_by(|a, b| {
        let year = |v: &Value| at(v, "/year").as_i64().unwrap_or_default();
        year(b).cmp(&year(a))
    });
    Ok(web
        .render(StatusCode::OK, "home.html", json!({"covenants": covenants}))
        .await)
}

#[derive(Deserialize)]
struct LoginQuery {
    tiep: Option<String>,
    het_han: Option<String>,
}

async fn login_form(web: Web, Query(q): Query<LoginQuery>) -> Response {
    let expired = q.het_han.is_some();
    web.render(
        StatusCode::OK,
        "login.html",
        json!({"next": safe_next(q.tiep.as_deref()), "expired": expired && web.session.is_none()}),
    )
    .await
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    ma: String,
    tiep: Option<String>,
}

/// Signs in with a unit's (or the admin's) token: opens a session and sets its cookie
/// (HttpOnly, SameSite=Strict; Secure behind an HTTPS proxy).
async fn login(web: Web, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.tiep.as_deref());
    if cross_site(&headers) {
        return web
            .fail(ApiError::forbidden(
                "biểu mẫu đăng nhập được gửi từ một trang web khác",
            ))
            .await;
    }
    let code = form.ma.trim();
    let invalid = |message: &str| json!({"next": next, "error": message, "expired": false});
    if code.is_empty() {
        return web
            .render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "login.html",
                invalid("Hãy nhập mã truy cập mà quản trị viên đã cấp cho đơn vị."),
            )
            .await;
    }
    let stamp = Stamp::new("web", web.state.now());
    let opened = if code.len() > 512 {
        Ok(None)
    } else {
        web.state
            .store
            .open_session(&stamp, code, SESSION_TTL)
            .await
    };
    match opened {
        Ok(Some(session)) => {
            let secure = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"));
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                session.secret,
                SESSION_TTL.whole_seconds(),
                if secure { "; Secure" } else { "" }
            );
            tracing::info!(token = session.principal.token_id, "web session opened");
            let mut response = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Ok(None) => {
            web.render(
                StatusCode::UNAUTHORIZED,
                "login.html",
                invalid("Mã truy cập không đúng hoặc đã bị thu hồi. Hãy kiểm tra lại (phân biệt chữ hoa, chữ thường) hoặc liên hệ quản trị viên để được cấp mã mới."),
            )
            .await
        }
        Err(e) => web.fail(e.into()).await,
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn logout(web: Web, headers: HeaderMap, Form(form): Form<LogoutForm>) -> Response {
    if let Some(session) = &web.session {
        if cross_site(&headers) || !same_secret(&form.csrf, &session.csrf) {
            return web
                .fail(ApiError::forbidden(
                    "yêu cầu đăng xuất không hợp lệ (thiếu mã chống giả mạo); hãy tải lại trang rồi thử lại",
                ))
                .await;
        }
        if let Some(secret) = super::super::auth::session_secret(&headers)
            && let Err(e) = web.state.store.end_session(&secret).await
        {
            return web.fail(e.into()).await;
        }
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("giaouoc_phien=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

// ---------------------------------------------------------------------------------------
// A covenant, a registration, signing

async fn covenant_page(web: Web, Path(id): Path<String>) -> Response {
    let result = covenant_body(&web, &id).await;
    finish(&web, result).await
}

/// What the caller may do on a covenant's pages.
struct Rights {
    is_admin: bool,
    leader_unit: bool,
    unit: Option<String>,
    kind: Option<UnitKind>,
}

/// The caller's rights on a covenant's pages; the leader unit is the covenant's own.
fn rights(caller: &Caller, row: &Loaded) -> Result<Rights, ApiError> {
    caller.require_bloc(&row.bloc_id)?;
    let leader_unit = caller
        .require_covenant_leader(&row.covenant, &row.bloc_id)
        .is_ok();
    Ok(match caller {
        Caller::Admin { .. } => Rights {
            is_admin: true,
            leader_unit,
            unit: None,
            kind: None,
        },
        Caller::Unit { unit_id, kind, .. } => Rights {
            is_admin: false,
            leader_unit,
            unit: Some(unit_id.clone()),
            kind: Some(*kind),
        },
    })
}

impl Rights {
    fn json(&self) -> Value {
        json!({
            "is_admin": self.is_admin,
            "leader_unit": self.leader_unit,
            "unit": self.unit,
            "is_leader": self.kind == Some(UnitKind::Leader),
            "is_clerk": self.kind == Some(UnitKind::Clerk),
            "is_officer": self.kind == Some(UnitKind::Officer),
        })
    }

    fn acts_for(&self, unit: &str) -> bool {
        self.is_admin || self.unit.as_deref() == Some(unit)
    }
}

async fn covenant_body(web: &Web, id: &str) -> PageResult {
    let Some(caller) = web.caller() else {
        return Ok(web.to_login());
    };
    let state = &web.state;
    let row = load(state, id).await?;
    let rights = rights(caller, &row)?;
    let view = covenant_view(state, &row).await?;
    let events = state.store.audit_events(Some(id)).await?;
    let check = verify_exported_chain(&events);
    let audit: Vec<Value> = events
        .iter()
        .rev()
        .map(|e| {
            json!({
                "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                "action_vi": action_vi(&e.action, &e.details),
            })
        })
        .collect();
    // Which certificate each unit signs with: the newest unrevoked one.
    let mut certs = serde_json::Map::new();
    for c in state.store.list_certificates(&row.bloc_id).await? {
        if c.revoked_at.is_some() {
            continue;
        }
        let Ok((leaf, _)) = crate::pki::leaf_and_chain(c.cert_pem.as_bytes()) else {
            continue;
        };
        let info = crate::pki::cert_info(&leaf);
        let algorithm = crate::pki::alg::key_kind(&leaf.tbs_certificate.subject_public_key_info)
            .map(|k| match k {
                crate::pki::alg::KeyKind::Rsa { bits } => format!("RSA-{bits}"),
                crate::pki::alg::KeyKind::P256 => "ECDSA P-256".to_owned(),
                crate::pki::alg::KeyKind::P384 => "ECDSA P-384".to_owned(),
                crate::pki::alg::KeyKind::Ed25519 => "Ed25519".to_owned(),
            })
            .unwrap_or_default();
        certs.insert(
            c.unit_id.clone(),
            json!({
                "issuer": if info.unit_id.is_some() { "CA của khối".to_owned() } else { info.issuer_cn.unwrap_or_default() },
                "algorithm": algorithm, "serial": c.serial, "not_after": info.not_after,
            }),
        );
    }
    let archived = if row.state == CState::Archived {
        match current_revision(state, id).await? {
            Some(rev) => Some(rev.pdf_sha256),
            None => None,
        }
    } else {
        None
    };
    Ok(web
        .render(
            StatusCode::OK,
            "covenant.html",
            json!({
                "c": view,
                "sections": row.covenant.covenant.sections,
                "preamble": row.covenant.covenant.preamble,
                "bloc": row.covenant.bloc,
                "rights": rights.json(),
                "audit": audit,
                "audit_ok": check.ok,
                "audit_count": events.len(),
                "archived_sha256": archived,
                "certs": certs,
            }),
        )
        .await)
}

/// An audit action in Vietnamese.
fn action_vi(action: &str, details: &Value) -> String {
    let unit = at(details, "/unit").as_str().unwrap_or_default();
    match action {
        "covenant.create" => "Tạo giao ước".into(),
        "covenant.transition" => match at(details, "/to").as_str() {
            Some("registration") => "Mở đăng ký thi đua".into(),
            Some(to) => format!("Chuyển trạng thái sang {}", state_vi(to)),
            None => "Chuyển trạng thái".into(),
        },
        "registration.save" => match at(details, "/status").as_str() {
            Some("submitted") => format!("Đơn vị {unit} gửi bản đăng ký"),
            _ => format!("Đơn vị {unit} lưu nháp bản đăng ký"),
        },
        "registration.review" => match at(details, "/status").as_str() {
            Some("accepted") => format!("Chấp nhận bản đăng ký của đơn vị {unit}"),
            _ => format!("Trả lại bản đăng ký của đơn vị {unit}"),
        },
        "covenant.freeze" => "Chốt nội dung, tạo bản PDF và DOCX".into(),
        "revision.append" => match at(details, "/seat").as_str() {
            Some("seal") => format!("Đơn vị {unit} đóng dấu (ký số của cơ quan)"),
            Some("secretary") => format!("Thư ký hội nghị (đơn vị {unit}) ký số"),
            _ => format!("Đơn vị {unit} ký số"),
        },
        "covenant.archive" => "Lưu trữ bản đã ký đủ".into(),
        "evidence.add" => format!("Đơn vị {unit} tải lên tệp minh chứng"),
        "evidence.remove" => format!("Đơn vị {unit} xóa tệp minh chứng tải lên nhầm"),
        "results.save" => {
            let period = period_label(at(details, "/period").as_str());
            match at(details, "/status").as_str() {
                Some("submitted") => format!("Đơn vị {unit} gửi báo cáo kết quả {period}"),
                _ => format!("Đơn vị {unit} lưu nháp báo cáo kết quả {period}"),
            }
        }
        "results.review" => {
            let period = period_label(at(details, "/period").as_str());
            match at(details, "/status").as_str() {
                Some("accepted") => format!("Chấp nhận báo cáo kết quả {period} của đơn vị {unit}"),
                _ => format!("Trả lại báo cáo kết quả {period} của đơn vị {unit}"),
            }
        }
        "score.save" => match at(details, "/kind").as_str() {
            Some("agreed") => format!("Khối thống nhất điểm của đơn vị {unit}"),
            _ => format!("Đơn vị {unit} tự chấm điểm"),
        },
        "conference.save" => "Ghi kết quả hội nghị tổng kết".into(),
        "year_document.issue" => format!(
            "Phát hành {} để ký",
            at(details, "/kind")
                .as_str()
                .and_then(crate::year::YearDocument::parse)
                .map_or("văn bản", |d| d.label_vi())
                .to_lowercase()
        ),
        "covenant.next_year" => format!(
            "Tạo giao ước năm sau ({})",
            at(details, "/next").as_str().unwrap_or_default()
        ),
        other => other.to_owned(),
    }
}

fn period_label(period: Option<&str>) -> &'static str {
    period
        .and_then(crate::year::Period::parse)
        .map_or("", crate::year::Period::label_vi)
}

pub(super) fn state_vi(state: &str) -> &'static str {
    CState::parse(state).map_or("Không rõ", CState::label_vi)
}

async fn registration_page(web: Web, Path((id, unit)): Path<(String, String)>) -> Response {
    let result = registration_body(&web, &id, &unit).await;
    finish(&web, result).await
}

async fn registration_body(web: &Web, id: &str, unit: &str) -> PageResult {
    let Some(caller) = web.caller() else {
        return Ok(web.to_login());
    };
    let state = &web.state;
    let row = load(state, id).await?;
    let rights = rights(caller, &row)?;
    let registration = registration_view(state, caller, id, unit).await?;
    let status = at(&registration, "/status").as_str().unwrap_or_default();
    let can_edit = Action::EditRegistration.allowed_in(row.state)
        && rights.acts_for(unit)
        && rights.kind != Some(UnitKind::Clerk)
        && status != "accepted";
    let can_review = Action::ReviewRegistration.allowed_in(row.state)
        && rights.leader_unit
        && status == "submitted";
    let unit_json = row.unit(unit)?;
    Ok(web
        .render(
            StatusCode::OK,
            "registration.html",
            json!({
                "covenant": {"id": row.id, "year": row.year, "state": row.state,
                             "title": row.covenant.covenant.title},
                "unit": unit_json,
                "r": registration,
                "can_edit": can_edit,
                "can_review": can_review,
                "rights": rights.json(),
            }),
        )
        .await)
}

/// The covenant of a page of the year after the signing and the caller's rights, once the
/// covenant is signed; `Err` is the way to the sign-in page for a visitor.
async fn signed_page(web: &Web, id: &str) -> Result<Result<(Loaded, Rights), Response>, ApiError> {
    let Some(caller) = web.caller() else {
        return Ok(Err(web.to_login()));
    };
    let row = load(&web.state, id).await?;
    let rights = rights(caller, &row)?;
    crate::http::require_action(Action::ReportResults, &row)?;
    Ok(Ok((row, rights)))
}

/// The covenant's units as the year's pages list them.
fn roster(row: &Loaded) -> Vec<Value> {
    row.covenant
        .units
        .iter()
        .map(|u| json!({"id": u.id, "name": u.name}))
        .collect()
}

/// A period as the pages name it (`so-ket`, `tong-ket`).
fn period_slug(slug: &str) -> Result<crate::year::Period, ApiError> {
    match slug {
        "so-ket" => Ok(crate::year::Period::MidYear),
        "tong-ket" => Ok(crate::year::Period::YearEnd),
        _ => Err(ApiError::not_found(format!(
            "không có kỳ báo cáo \"{slug}\""
        ))),
    }
}

fn slug_of(period: crate::year::Period) -> &'static str {
    match period {
        crate::year::Period::MidYear => "so-ket",
        crate::year::Period::YearEnd => "tong-ket",
    }
}

async fn results_page(web: Web, Path((id, period)): Path<(String, String)>) -> Response {
    let result = results_body(&web, &id, &period).await;
    finish(&web, result).await
}

/// Every unit's results of the period, with the year's documents to download.
async fn results_body(web: &Web, id: &str, slug: &str) -> PageResult {
    let period = period_slug(slug)?;
    let (row, rights) = match signed_page(web, id).await? {
        Ok(page) => page,
        Err(to_login) => return Ok(to_login),
    };
    let state = &web.state;
    let view = crate::http::year::consolidated_view(state, &row, period).await?;
    let other = match period {
        crate::year::Period::MidYear => crate::year::Period::YearEnd,
        crate::year::Period::YearEnd => crate::year::Period::MidYear,
    };
    use crate::year::YearDocument;
    let kinds: &[YearDocument] = match period {
        crate::year::Period::MidYear => &[YearDocument::MidYearReport],
        crate::year::Period::YearEnd => &[YearDocument::Scores, YearDocument::Minutes],
    };
    // Each document: a draft from the records as they are, until the leader unit issues it
    // for signing; then the issued one, signed and archived like the covenant.
    let issued = state.store.year_documents(id).await?;
    let documents: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let doc = issued.iter().find(|d| d.kind == Some(*k));
            json!({"name": k.slug(), "label": k.label_vi(),
                   "issued": doc.map(|d| json!({"id": d.id, "state": d.state}))})
        })
        .collect();
    Ok(web
        .render(
            StatusCode::OK,
            "results.html",
            json!({
                "covenant": {"id": row.id, "year": row.year, "state": row.state},
                "period": period, "slug": slug, "period_label": period.label_vi(),
                "other_slug": slug_of(other), "other_label": other.label_vi(),
                "v": view, "documents": documents, "rights": rights.json(),
            }),
        )
        .await)
}

async fn results_unit_page(
    web: Web,
    Path((id, period, unit)): Path<(String, String, String)>,
) -> Response {
    let result = results_unit_body(&web, &id, &period, &unit).await;
    finish(&web, result).await
}

/// A unit's results of the period: its form (the unit), or the report and the review (the
/// leader unit).
async fn results_unit_body(web: &Web, id: &str, slug: &str, unit: &str) -> PageResult {
    let period = period_slug(slug)?;
    let (row, rights) = match signed_page(web, id).await? {
        Ok(page) => page,
        Err(to_login) => return Ok(to_login),
    };
    let state = &web.state;
    let signed = crate::http::covenants::signed_covenant(state, &row).await?;
    let unit_row = signed
        .unit(unit)
        .ok_or_else(|| ApiError::not_found(format!("không có đơn vị \"{unit}\"")))?;
    let r = match state.store.get_results(id, period, unit).await {
        Ok(r) => json!({"status": r.status, "comment": r.comment, "data": r.data,
                        "version": r.version, "updated_at": crate::http::covenants::rfc3339(r.updated_at)}),
        Err(StoreError::NotFound { .. }) => {
            json!({"status": "not_started", "data": null, "version": 0})
        }
        Err(e) => return Err(e.into()),
    };
    let status = at(&r, "/status").as_str().unwrap_or_default().to_owned();
    let pledges: Vec<Value> = unit_row
        .registration
        .pledges
        .iter()
        .map(|p| {
            json!({"text": p.text, "target": p.target, "unit": p.unit, "indicator": p.indicator,
                   "target_text": p.target.map(|t| crate::template::target_text(t, p.unit.as_deref()))})
        })
        .collect();
    let evidence: Vec<Value> = state
        .store
        .evidence(id, Some(unit))
        .await?
        .into_iter()
        .map(|e| {
            json!({"sha256": e.sha256, "file_name": e.file_name, "content_type": e.content_type,
                   "size": e.size, "url": format!("/covenants/{id}/evidence/{unit}/{}", e.sha256)})
        })
        .collect();
    let can_edit =
        rights.acts_for(unit) && rights.kind != Some(UnitKind::Clerk) && status != "accepted";
    let can_review = rights.leader_unit && status == "submitted";
    Ok(web
        .render(
            StatusCode::OK,
            "results_unit.html",
            json!({
                "covenant": {"id": row.id, "year": row.year, "state": row.state},
                "unit": {"id": unit_row.id, "name": unit_row.name},
                "period": period, "slug": slug, "period_label": period.label_vi(),
                "r": r, "pledges": pledges, "evidence": evidence,
                "can_edit": can_edit, "can_review": can_review, "rights": rights.json(),
            }),
        )
        .await)
}

async fn scores_page(web: Web, Path(id): Path<String>) -> Response {
    let result = scores_body(&web, &id).await;
    finish(&web, result).await
}

/// The ranking, and the score sheet: the unit's own, or the leader unit's agreed ones.
async fn scores_body(web: &Web, id: &str) -> PageResult {
    let (row, rights) = match signed_page(web, id).await? {
        Ok(page) => page,
        Err(to_login) => return Ok(to_login),
    };
    let state = &web.state;
    let scoring = row.covenant.covenant.scoring.as_ref();
    let view = match scoring {
        Some(_) => crate::http::year::scores_view(state, &row).await?,
        None => Value::Null,
    };
    let items: Vec<Value> = scoring
        .map(|s| {
            s.items()
                .map(|(kind, c)| {
                    json!({"id": c.id, "text": c.text, "kind": kind, "max": c.max_points,
                           "max_text": crate::template::format_number(c.max_points)})
                })
                .collect()
        })
        .unwrap_or_default();
    // Saved sheets the form starts from: the unit's own; for the leader unit, every unit's
    // agreed one (else its own).
    let sheets: serde_json::Map<String, Value> = state
        .store
        .list_scores(id)
        .await?
        .into_iter()
        .filter(|s| {
            if rights.leader_unit {
                true
            } else {
                rights.unit.as_deref() == Some(s.unit_id.as_str())
                    && s.kind == crate::store::ScoreKind::Own
            }
        })
        .map(|s| (format!("{}:{}", s.unit_id, s.kind), s.data))
        .collect();
    let own_unit = (!rights.leader_unit && rights.kind != Some(UnitKind::Clerk))
        .then(|| rights.unit.clone())
        .flatten();
    let units = roster(&row);
    Ok(web
        .render(
            StatusCode::OK,
            "scores.html",
            json!({
                "covenant": {"id": row.id, "year": row.year, "state": row.state},
                "scoring": scoring.map(|s| json!({"scale": s.scale})),
                "v": view, "items": items, "sheets": sheets, "own_unit": own_unit,
                "units": units, "rights": rights.json(),
            }),
        )
        .await)
}

async fn conference_page(web: Web, Path(id): Path<String>) -> Response {
    let result = conference_body(&web, &id).await;
    finish(&web, result).await
}

/// The year-end conference: what was recorded, the leader unit's form, next year's covenant.
async fn conference_body(web: &Web, id: &str) -> PageResult {
    let (row, rights) = match signed_page(web, id).await? {
        Ok(page) => page,
        Err(to_login) => return Ok(to_login),
    };
    let state = &web.state;
    let conference = state.store.conference(id).await?;
    let flag_name = conference
        .as_ref()
        .and_then(|c| serde_json::from_value::<crate::year::Conference>(c.clone()).ok())
        .and_then(|c| c.flag_unit().map(str::to_owned))
        .and_then(|u| row.covenant.unit(&u).map(|x| x.name.clone()));
    let units = roster(&row);
    Ok(web
        .render(
            StatusCode::OK,
            "conference.html",
            json!({
                "covenant": {"id": row.id, "year": row.year, "state": row.state},
                "conference": conference, "flag_name": flag_name, "units": units,
                "date_vi": conference.as_ref()
                    .and_then(|c| c.get("date")).and_then(Value::as_str)
                    .and_then(crate::covenant::parse_iso_date)
                    .map(crate::template::vn_date_short),
                "successor": state.store.successor(id).await?,
                "can_edit": rights.leader_unit, "rights": rights.json(),
            }),
        )
        .await)
}

/// The public key of a certificate as the JWK members the signing page compares with the key
/// file it reads (RFC 7517/7518): `x` for Ed25519, `x` and `y` for P-256, `n` for RSA; and the
/// kind (`ed25519`, `p256`, `rsa`, or `other`: the browser cannot sign with it).
fn key_for_browser(spki: &spki::SubjectPublicKeyInfoOwned) -> (&'static str, Value) {
    use crate::pki::alg::KeyKind;
    let raw = spki.subject_public_key.raw_bytes();
    match crate::pki::alg::key_kind(spki) {
        Ok(KeyKind::Ed25519) => ("ed25519", json!({"x": B64URL.encode(raw)})),
        Ok(KeyKind::P256) if raw.len() == 65 => (
            "p256",
            json!({
                "x": B64URL.encode(raw.get(1..33).unwrap_or_default()),
                "y": B64URL.encode(raw.get(33..65).unwrap_or_default()),
            }),
        ),
        Ok(KeyKind::Rsa { .. }) => {
            use rsa::pkcs8::DecodePublicKey;
            use rsa::traits::PublicKeyParts;
            let n = der::Encode::to_der(spki)
                .ok()
                .and_then(|d| rsa::RsaPublicKey::from_public_key_der(&d).ok())
                .map(|k| B64URL.encode(k.n().to_bytes_be()));
            match n {
                Some(n) => ("rsa", json!({ "n": n })),
                None => ("other", json!({})),
            }
        }
        _ => ("other", json!({})),
    }
}

async fn sign_page(web: Web, Path((id, unit)): Path<(String, String)>) -> Response {
    let result = sign_body(&web, &id, &unit).await;
    finish(&web, result).await
}

async fn sign_body(web: &Web, id: &str, unit: &str) -> PageResult {
    let Some(caller) = web.caller() else {
        return Ok(web.to_login());
    };
    let state = &web.state;
    let row = load(state, id).await?;
    caller.require_signer(&row.bloc_id, unit)?;
    let view = covenant_view(state, &row).await?;
    let (unit_json, seat) = row.seat(unit)?;
    let unit_view = at(&view, "/units")
        .as_array()
        .and_then(|us| {
            us.iter()
                .find(|u| at(u, "/id").as_str() == Some(&unit_json.id))
        })
        .cloned()
        .unwrap_or_default();
    let leader_signed = at(&unit_view, "/leader_signed") == &json!(true);
    let signed = match seat {
        crate::workflow::Seat::Leader => leader_signed,
        crate::workflow::Seat::Seal => at(&unit_view, "/seal_signed") == &json!(true),
        crate::workflow::Seat::Secretary => state
            .store
            .current_revision(&row.id)
            .await?
            .signed_fields
            .iter()
            .any(|f| f == unit),
    };
    let seal_image = match seat {
        crate::workflow::Seat::Seal => state
            .store
            .seal_for_unit(&row.bloc_id, &unit_json.id)
            .await?
            .map(|s| {
                json!({"url": format!("/blocs/{}/units/{}/seal.png", row.bloc_id, unit_json.id),
                       "diameter_mm": s.diameter_mm})
            }),
        crate::workflow::Seat::Leader | crate::workflow::Seat::Secretary => None,
    };
    let (unit_id, seat) = crate::workflow::Seat::of_field(unit);
    let cert = super::super::signatures::seat_certificate(state, &row, unit_id, seat).await?;
    let cert = match cert {
        Some(c) => {
            let (parsed, _) = crate::pki::leaf_and_chain(c.cert_pem.as_bytes())
                .map_err(|_| ApiError::internal("stored certificate unreadable"))?;
            let info = crate::pki::cert_info(&parsed);
            let (kind, jwk) = key_for_browser(&parsed.tbs_certificate.subject_public_key_info);
            Some(json!({
                "key_kind": kind, "key_jwk": jwk.to_string(),
                "name": info.subject_cn, "title": info.title, "unit_name": info.unit_name,
                "serial": info.serial_hex, "not_after": info.not_after,
                "issuer": info.issuer_cn, "bloc_issued": info.unit_id.is_some(),
            }))
        }
        None => None,
    };
    let signable = Action::Sign.allowed_in(row.state);
    // What the unit commits to, shown before the button (a covenant's; a year's document
    // speaks for itself).
    let r = &unit_json.registration;
    let mut pledges: Vec<String> = Vec::new();
    let r = if row.kind.is_some() {
        &crate::covenant::Registration::default()
    } else {
        r
    };
    if let Some(t) = &r.collective_title {
        pledges.push(format!("Danh hiệu tập thể: {t}"));
    }
    pledges.extend(
        r.individual_titles
            .iter()
            .map(|t| format!("{}: {} người", t.title, t.count)),
    );
    pledges.extend(r.pledges.iter().map(|p| match (p.target, &p.unit) {
        (Some(v), Some(u)) => format!(
            "{} (chỉ tiêu: {} {u})",
            p.text,
            crate::template::format_number(v)
        ),
        (Some(v), None) => format!(
            "{} (chỉ tiêu: {})",
            p.text,
            crate::template::format_number(v)
        ),
        _ => p.text.clone(),
    }));
    Ok(web
        .render(
            StatusCode::OK,
            "sign.html",
            json!({
                "c": view, "unit": unit_json, "cert": cert, "signed": signed,
                "signable": signable, "pledges": pledges, "field": unit,
                "seal": seat == crate::workflow::Seat::Seal, "leader_signed": leader_signed,
                "seal_image": seal_image, "year_doc": row.kind.is_some(),
                "secretary": seat == crate::workflow::Seat::Secretary,
            }),
        )
        .await)
}

// ---------------------------------------------------------------------------------------
// Verify, archive

async fn verify_page(web: Web) -> Response {
    let max_mb = web.state.max_upload / (1024 * 1024);
    web.render(
        StatusCode::OK,
        "verify.html",
        json!({"max_mb": max_mb, "max_bytes": web.state.max_upload}),
    )
    .await
}

/// `POST /kiem-tra`: the uploaded PDF's verification report as a page (works without script).
async fn verify_submit(web: Web, request: Request) -> Response {
    let max_mb = web.state.max_upload / (1024 * 1024);
    let base = json!({"max_mb": max_mb, "max_bytes": web.state.max_upload});
    let file = read_upload(&web.state, request).await;
    let (status, ctx) = match file {
        Err(Upload::TooLarge) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": format!("Tệp quá lớn: hệ thống nhận tệp tối đa {max_mb} MB. Hãy kiểm tra xem đã chọn đúng tệp PDF giao ước chưa.")}),
        ),
        Err(Upload::Missing) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Chưa chọn tệp. Hãy chọn hoặc kéo thả tệp PDF giao ước cần kiểm tra."}),
        ),
        Err(Upload::Broken(message)) => (
            StatusCode::BAD_REQUEST,
            json!({"error": format!("Không nhận được tệp ({message}). Hãy thử tải lên lại.")}),
        ),
        Ok((name, bytes)) => match verify_bytes(&web.state, bytes).await {
            Ok(report) => {
                let archived = web.state.store.archived(&report.file_sha256).await;
                let archived = match archived {
                    Ok(a) => a.map(|a| json!({"covenant_id": a.covenant_id, "archived_at": rfc3339(a.archived_at)})),
                    Err(e) => return web.fail(e.into()).await,
                };
                (
                    StatusCode::OK,
                    json!({"report": report_view(&report), "file_name": name, "archived": archived}),
                )
            }
            Err(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": format!("Tệp \"{name}\" không phải là tệp PDF đọc được ({e}). Hãy chọn đúng tệp PDF giao ước đã ký."), "not_pdf": true}),
            ),
        },
    };
    let mut full = base;
    if let (Some(full), Value::Object(ctx)) = (full.as_object_mut(), ctx) {
        full.extend(ctx);
    }
    web.render(status, "verify.html", full).await
}

enum Upload {
    TooLarge,
    Missing,
    Broken(String),
}

/// The uploaded file (the API's multipart reader), its failures sorted for the page.
async fn read_upload(state: &AppState, request: Request) -> Result<(String, bytes::Bytes), Upload> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.max_upload.saturating_add(64 * 1024)) {
        return Err(Upload::TooLarge);
    }
    first_file(request, state).await.map_err(|e| match e {
        ApiError::PayloadTooLarge { .. } => Upload::TooLarge,
        ApiError::Invalid { .. } => Upload::Missing,
        other => Upload::Broken(other.to_string()),
    })
}

/// The report with the sentences the page shows.
fn report_view(report: &VerificationReport) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("summary_vi".into(), json!(report.summary_vi()));
        obj.insert("verdict_vi".into(), json!(report.verdict.message_vi()));
        obj.insert(
            "acceptable_count".into(),
            json!(
                report
                    .signatures
                    .iter()
                    .filter(|s| s.is_acceptable())
                    .count()
            ),
        );
    }
    if let Some(sigs) = v.get_mut("signatures").and_then(Value::as_array_mut) {
        for (sig, s) in sigs.iter_mut().zip(&report.signatures) {
            if let Some(obj) = sig.as_object_mut() {
                obj.insert("message_vi".into(), json!(s.message_vi()));
                obj.insert(
                    "algorithm_text".into(),
                    json!(s.algorithm.map(|a| a.to_string())),
                );
                obj.insert("acceptable".into(), json!(s.is_acceptable()));
                obj.insert(
                    "level_vi".into(),
                    json!(s.level.map(|l| l.text(crate::verify::Lang::Vi))),
                );
                obj.insert(
                    "checked_at_vi".into(),
                    json!(
                        s.checked_at
                            .as_ref()
                            .map(|c| c.text(crate::verify::Lang::Vi))
                    ),
                );
            }
        }
    }
    v
}

#[derive(Deserialize)]
struct ArchiveQuery {
    sha256: Option<String>,
}

async fn archive_page(web: Web, Query(q): Query<ArchiveQuery>) -> Response {
    if let Some(sha) = q.sha256.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let sha = sha.to_ascii_lowercase();
        if is_sha256(&sha) {
            return Redirect::to(&format!("/luu-tru/{sha}")).into_response();
        }
        return web
            .render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "archive.html",
                json!({"error": "Mã SHA-256 phải gồm đúng 64 chữ số thập lục phân (0-9, a-f).", "query": sha}),
            )
            .await;
    }
    let entries = if let Some(caller) = web.caller() {
        match super::super::archive::archive_of(&web.state, caller).await {
            Ok(rows) => Some(
                rows.iter()
                    .map(|r| {
                        json!({"pdf_sha256": r.pdf_sha256, "covenant_id": r.covenant_id,
                               "archived_at": rfc3339(r.archived_at),
                               "verdict": at(&r.report, "/verdict"),
                               "signatures": at(&r.report, "/signatures").as_array().map_or(0, Vec::len)})
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(e) => return web.fail(e).await,
        }
    } else {
        None
    };
    web.render(StatusCode::OK, "archive.html", json!({"entries": entries}))
        .await
}

async fn archive_entry_page(web: Web, Path(sha): Path<String>) -> Response {
    let sha = sha.to_ascii_lowercase();
    if !is_sha256(&sha) {
        return web
            .fail(ApiError::not_found("mã SHA-256 không hợp lệ"))
            .await;
    }
    match web.state.store.archived(&sha).await {
        Ok(Some(row)) => {
            let report: Option<VerificationReport> =
                serde_json::from_value(row.report.clone()).ok();
            let report = report
                .as_ref()
                .map(report_view)
                .unwrap_or(row.report.clone());
            web.render(
                StatusCode::OK,
                "archive_entry.html",
                json!({"entry": {"pdf_sha256": row.pdf_sha256, "covenant_id": row.covenant_id,
                                  "archived_at": rfc3339(row.archived_at)},
                       "report": report}),
            )
            .await
        }
        Ok(None) => {
            web.fail(ApiError::not_found(format!(
                "không có tệp nào có mã SHA-256 {sha} trong kho lưu trữ"
            )))
            .await
        }
        Err(e) => web.fail(e.into()).await,
    }
}

// ---------------------------------------------------------------------------------------
// Assets

const APP_CSS: &str = include_str!("../../../templates/web/static/app.css");
const APP_JS: &str = include_str!("../../../templates/web/static/app.js");

async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        _ => {
            return ApiError::not_found("không có tệp tĩnh này").into_response();
        }
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
