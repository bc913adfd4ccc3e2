//! The Vietnamese web interface, served by the service itself: HTML rendered on the server
//! from MiniJinja templates (`templates/web/`, compiled in), one stylesheet and one script
//! (`templates/web/static/`), no front-end build.
//!
//! Pages are thin: they read through the same functions as the JSON API and the scripts call
//! that API (with the session cookie and its anti-CSRF token, see [`super::auth`]). Signing
//! happens in the browser with WebCrypto Ed25519: the key file is read locally and never sent.
//!
//! | page | path |
//! | --- | --- |
//! | home: covenants by year | `/` |
//! | sign in / out | `/dang-nhap`, `/dang-xuat` |
//! | a covenant | `/giao-uoc/{id}` |
//! | a unit's registration | `/giao-uoc/{id}/dang-ky/{unit}` |
//! | signing | `/giao-uoc/{id}/ky/{unit}` |
//! | the units' results of a period | `/giao-uoc/{id}/ket-qua/{so-ket,tong-ket}` |
//! | a unit's results | `/giao-uoc/{id}/ket-qua/{so-ket,tong-ket}/{unit}` |
//! | scores and ranking | `/giao-uoc/{id}/cham-diem` |
//! | the year-end conference, next year | `/giao-uoc/{id}/hoi-nghi` |
//! | verify a PDF (public) | `/kiem-tra` |
//! | archive | `/luu-tru`, `/luu-tru/{sha256}` |

mod pages;

use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::Environment;
use serde_json::{Value, json};

use super::auth::{Caller, Session};
use super::error::ApiError;
use super::{AppState, Routes};
use crate::store::UnitKind;

/// How long a browser session lasts.
pub const SESSION_TTL: time::Duration = time::Duration::hours(10);

pub(super) fn routes(r: Routes) -> Routes {
    pages::routes(r)
}

macro_rules! web_templates {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/web/", $name)))),+]
    };
}

/// The page templates, compiled in.
const TEMPLATES: &[(&str, &str)] = web_templates!(
    "base.html",
    "home.html",
    "login.html",
    "covenant.html",
    "registration.html",
    "results.html",
    "results_unit.html",
    "review_form.html",
    "scores.html",
    "conference.html",
    "sign.html",
    "verify.html",
    "report.html",
    "archive.html",
    "archive_entry.html",
    "error.html",
);

fn environment() -> Result<&'static Environment<'static>, String> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        env.add_filter("vn_time", vn_time);
        env.add_filter("state_vi", |s: String| pages::state_vi(&s));
        env.add_filter("status_vi", |s: String| status_vi(&s));
        env.add_filter("role_vi", |s: String| role_vi(&s));
        env.add_filter("year_document_vi", |s: String| {
            crate::year::YearDocument::parse(&s).map_or(s, |d| d.label_vi().to_owned())
        });
        env.add_filter("roman", |n: u32| crate::template::roman(n));
        Ok(env)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A registration's status in Vietnamese.
fn status_vi(status: &str) -> &'static str {
    match status {
        "not_started" => "Chưa đăng ký",
        "draft" => "Bản nháp",
        "submitted" => "Đã gửi, chờ duyệt",
        "accepted" => "Đã chấp nhận",
        "returned" => "Bị trả lại",
        _ => "Không rõ",
    }
}

/// A unit's role in its bloc, in Vietnamese.
fn role_vi(role: &str) -> &'static str {
    use crate::covenant::Role;
    [Role::Leader, Role::Deputy, Role::Member]
        .into_iter()
        .find(|r| r.as_str() == role)
        .unwrap_or(Role::Member)
        .label_vi()
}

/// An RFC 3339 time as Vietnamese readers write it, in Vietnam time: `15:30 ngày 22/01/2021`.
fn vn_time(value: String) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(&value, &Rfc3339) {
        Ok(t) => {
            let t = super::signatures::vietnam_time(t);
            format!(
                "{:02}:{:02} ngày {:02}/{:02}/{}",
                t.hour(),
                t.minute(),
                t.day(),
                u8::from(t.month()),
                t.year()
            )
        }
        Err(_) => value,
    }
}

/// Who is looking at a page: nobody, or a signed-in session.
pub(crate) struct Web {
    pub(crate) state: AppState,
    pub(crate) session: Option<Session>,
    /// The request path with its query (to come back after signing in).
    pub(crate) here: String,
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Web, Response> {
        let session = match state.session(&parts.headers).await {
            Ok(s) => s,
            Err(e) => {
                let web = Web {
                    state: state.clone(),
                    session: None,
                    here: "/".into(),
                };
                return Err(web.fail(e).await);
            }
        };
        let here = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        Ok(Web {
            state: state.clone(),
            session,
            here,
        })
    }
}

impl Web {
    pub(crate) fn caller(&self) -> Option<&Caller> {
        self.session.as_ref().map(|s| &s.caller)
    }

    /// A redirect to the sign-in page that comes back here.
    pub(crate) fn to_login(&self) -> Response {
        let next = percent_encode(&self.here);
        Redirect::to(&format!("/dang-nhap?tiep={next}&het_han=1")).into_response()
    }

    /// The signed-in person as the header shows them.
    async fn who(&self) -> Value {
        let Some(session) = &self.session else {
            return Value::Null;
        };
        let (label, unit_name) = match &session.caller {
            Caller::Admin { .. } => ("Quản trị viên".to_owned(), None),
            Caller::Unit {
                bloc_id,
                unit_id,
                kind,
                ..
            } => {
                let name = self
                    .state
                    .store
                    .list_units(bloc_id)
                    .await
                    .ok()
                    .and_then(|units| units.into_iter().find(|u| &u.id == unit_id))
                    .map(|u| u.name);
                let role = match kind {
                    UnitKind::Officer => "Cán bộ thi đua",
                    UnitKind::Leader => "Lãnh đạo đơn vị",
                    UnitKind::Clerk => "Văn thư",
                };
                (format!("{role} · {unit_id}"), name)
            }
        };
        json!({"label": label, "unit_name": unit_name, "csrf": session.csrf})
    }

    /// Renders `template` with `ctx` plus what every page has (the session, the page name).
    pub(crate) async fn render(&self, status: StatusCode, template: &str, ctx: Value) -> Response {
        let mut full = json!({
            "who": self.who().await,
            "page": template.trim_end_matches(".html"),
            "asset_version": ASSET_VERSION,
        });
        if let (Some(full), Value::Object(ctx)) = (full.as_object_mut(), ctx) {
            full.extend(ctx);
        }
        let rendered = environment().and_then(|env| {
            env.get_template(template)
                .and_then(|t| t.render(&full))
                .map_err(|e| format!("{e:#}"))
        });
        match rendered {
            Ok(html) => {
                let mut response = (status, Html(html)).into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(e) => {
                tracing::error!(error = e, template, "rendering a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>Lỗi máy chủ</title><p>Lỗi máy chủ khi hiển thị trang; vui lòng thử lại sau.</p></html>"),
                )
                    .into_response()
            }
        }
    }

    /// An error as a page: a sentence saying what happened and what to do. A missing or
    /// expired session goes to the sign-in page instead.
    pub(crate) async fn fail(&self, e: ApiError) -> Response {
        let status = e.status_code();
        if status == StatusCode::UNAUTHORIZED {
            return self.to_login();
        }
        if status.is_server_error() {
            tracing::error!(error = %e, "page failed");
        }
        let (title, advice) = match status {
            StatusCode::NOT_FOUND => (
                "Không tìm thấy",
                "Hãy kiểm tra lại đường dẫn, hoặc quay về trang chủ để chọn giao ước.",
            ),
            StatusCode::FORBIDDEN => (
                "Không có quyền",
                "Tài khoản đang đăng nhập không được xem hoặc làm việc này. Nếu cần, hãy đăng xuất rồi đăng nhập bằng mã truy cập của đúng đơn vị.",
            ),
            StatusCode::CONFLICT => (
                "Chưa thực hiện được",
                "Giao ước đang ở trạng thái không cho phép việc này. Hãy tải lại trang để xem trạng thái mới nhất.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "Tệp quá lớn",
                "Hãy chọn đúng tệp PDF giao ước (thường chỉ vài trăm KB).",
            ),
            s if s.is_server_error() => (
                "Lỗi máy chủ",
                "Hệ thống gặp sự cố. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, hãy báo quản trị viên.",
            ),
            _ => (
                "Yêu cầu không hợp lệ",
                "Hãy kiểm tra lại thông tin đã nhập.",
            ),
        };
        let message = if status.is_server_error() {
            String::new()
        } else {
            e.to_string()
        };
        self.render(
            status,
            "error.html",
            json!({"status": status.as_u16(), "title": title, "message": message, "advice": advice}),
        )
        .await
    }
}

/// `Content-Security-Policy` of every response: scripts, styles and forms only from this
/// site, no inline script, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response (pages and API alike).
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
    ];
    for (name, value) in set {
        headers.entry(name).or_insert(value);
    }
    response
}

/// Unknown paths: a page for browsers, the API's JSON 404 for everyone else.
pub(crate) async fn not_found(web: Web, headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        web.fail(ApiError::not_found("không có trang này")).await
    } else {
        super::ops::no_route().await.into_response()
    }
}

/// Changes whenever the assets change, so browsers never run a stale script.
const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Percent-encodes everything but unreserved characters and `/` (for a `?tiep=` value).
fn percent_encode(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A place inside this site to go back to after signing in: a path starting with one `/`
/// (never `//host` or `/\host`, which browsers treat as another site), else `/`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A form posted from another site (its `Origin` names another host) is refused: the sign-in
/// and sign-out forms, which the anti-CSRF token cannot protect before a session exists.
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return true;
    }
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    !origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_template_compiles() {
        assert!(environment().is_ok(), "{:?}", environment().err());
    }

    #[test]
    fn next_page_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/giao-uoc/X")), "/giao-uoc/X");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/a\nb")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn vietnamese_time_is_in_vietnam() {
        assert_eq!(
            vn_time("2021-01-22T08:30:00Z".into()),
            "15:30 ngày 22/01/2021"
        );
        assert_eq!(vn_time("garbage".into()), "garbage");
    }

    #[test]
    fn cross_site_forms_are_recognised() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_site(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(cross_site(&h));
    }
}
