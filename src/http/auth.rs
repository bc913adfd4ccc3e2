//! Who is calling: `Authorization: Bearer <token>` → [`Caller`], and the rules of who may do
//! what.
//!
//! - the admin (a token from the first start, or `GIAOUOC_ADMIN_TOKEN`) may do everything;
//! - a unit token (officer or leader) acts for its own unit of its own bloc;
//! - the bloc's leader unit (role `leader`) also reviews registrations, freezes, archives;
//! - preparing a signature needs the unit's *leader* token; completing it needs nothing but
//!   the signature itself (the certificate must name the field's unit and chain to the bloc
//!   CA).
//!
//! Tokens are looked up in the store and kept in a small cache for [`CACHE_TTL`] so that hot
//! read paths (downloads) do not hit the database on every request; revoking a token through
//! the API clears the cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::store::{Principal, TokenRole, UnitKind, UnitRole};
use crate::workflow::Seat;

/// How long an authenticated token is trusted without asking the store again.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX: usize = 10_000;

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin {
        token_id: String,
    },
    Unit {
        token_id: String,
        bloc_id: String,
        unit_id: String,
        kind: UnitKind,
    },
}

impl Caller {
    /// An admin acting from inside the service (the demo setup).
    pub fn system(name: &str) -> Caller {
        Caller::Admin {
            token_id: name.to_owned(),
        }
    }

    pub(crate) fn from_principal(p: Principal) -> Caller {
        match p.role {
            TokenRole::Admin => Caller::Admin {
                token_id: p.token_id,
            },
            TokenRole::Unit {
                bloc_id,
                unit_id,
                kind,
            } => Caller::Unit {
                token_id: p.token_id,
                bloc_id,
                unit_id,
                kind,
            },
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin { .. })
    }

    /// The `actor` recorded in audit events: `admin:<token id>` or `U07/leader:<token id>`.
    pub fn actor(&self) -> String {
        match self {
            Caller::Admin { token_id } => format!("admin:{token_id}"),
            Caller::Unit {
                token_id,
                unit_id,
                kind,
                ..
            } => format!("{unit_id}/{kind}:{token_id}"),
        }
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "chỉ quản trị viên được thực hiện thao tác này",
            ))
        }
    }

    /// Admin, or any unit of `bloc_id`.
    pub fn require_bloc(&self, bloc_id: &str) -> ApiResult<()> {
        match self {
            Caller::Admin { .. } => Ok(()),
            Caller::Unit { bloc_id: b, .. } if b == bloc_id => Ok(()),
            Caller::Unit { .. } => Err(ApiError::forbidden(format!(
                "token không thuộc khối thi đua \"{bloc_id}\""
            ))),
        }
    }

    /// Admin, or a token (officer or leader) of exactly this unit. A clerk only applies the
    /// unit's seal ([`Caller::require_signer`]) and its seal image.
    pub fn require_unit(&self, bloc_id: &str, unit_id: &str) -> ApiResult<()> {
        self.require_unit_any(bloc_id, unit_id)?;
        if let Caller::Unit {
            kind: UnitKind::Clerk,
            ..
        } = self
        {
            return Err(ApiError::forbidden(
                "văn thư chỉ được ký số của cơ quan (đóng dấu) sau khi lãnh đạo đơn vị đã ký",
            ));
        }
        Ok(())
    }

    /// Admin, or any token of exactly this unit (officer, leader or clerk).
    pub fn require_unit_any(&self, bloc_id: &str, unit_id: &str) -> ApiResult<()> {
        match self {
            Caller::Admin { .. } => Ok(()),
            Caller::Unit {
                bloc_id: b,
                unit_id: u,
                ..
            } if b == bloc_id && u == unit_id => Ok(()),
            Caller::Unit { unit_id: u, .. } => Err(ApiError::forbidden(format!(
                "token của đơn vị \"{u}\" không được thao tác thay đơn vị \"{unit_id}\""
            ))),
        }
    }

    /// Admin, or the token of exactly this unit that takes the seat of `field`: its leader
    /// for `U05`, its clerk (văn thư) for the seal field `U05-dau`, its officer (or leader)
    /// for the minutes' secretary field `U02-thu-ky`.
    pub fn require_signer(&self, bloc_id: &str, field: &str) -> ApiResult<()> {
        let (unit_id, seat) = Seat::of_field(field);
        self.require_unit_any(bloc_id, unit_id)?;
        match (self, seat) {
            (Caller::Admin { .. }, _)
            | (
                Caller::Unit {
                    kind: UnitKind::Leader,
                    ..
                },
                Seat::Leader,
            )
            | (
                Caller::Unit {
                    kind: UnitKind::Clerk,
                    ..
                },
                Seat::Seal,
            )
            | (
                Caller::Unit {
                    kind: UnitKind::Officer | UnitKind::Leader,
                    ..
                },
                Seat::Secretary,
            ) => Ok(()),
            (_, Seat::Leader) => Err(ApiError::forbidden(
                "chỉ lãnh đạo đơn vị (token loại leader) được ký vào trường chữ ký của lãnh đạo",
            )),
            (_, Seat::Seal) => Err(ApiError::forbidden(
                "chỉ văn thư của đơn vị (token loại clerk) được ký số của cơ quan vào trường dấu",
            )),
            (_, Seat::Secretary) => Err(ApiError::forbidden(
                "chỉ cán bộ của đơn vị (token loại officer hoặc leader) được ký vào trường của thư ký hội nghị",
            )),
        }
    }

    /// Admin, or a token of the bloc's leader unit (role `leader`).
    /// The leader unit of `covenant` (its own roster: the head of the bloc that year, even
    /// once next year's covenant names another), or the admin; never a clerk.
    pub fn require_covenant_leader(
        &self,
        covenant: &crate::covenant::Covenant,
        bloc_id: &str,
    ) -> ApiResult<()> {
        self.require_bloc(bloc_id)?;
        match self {
            Caller::Admin { .. } => Ok(()),
            Caller::Unit {
                kind: UnitKind::Clerk,
                ..
            } => Err(ApiError::forbidden(
                "văn thư chỉ được ký số của cơ quan (đóng dấu); việc của đơn vị Trưởng khối do cán bộ thi đua hoặc lãnh đạo làm",
            )),
            Caller::Unit { unit_id, .. } => {
                let leads = covenant
                    .units
                    .iter()
                    .any(|u| &u.id == unit_id && u.role == crate::covenant::Role::Leader);
                if leads {
                    Ok(())
                } else {
                    Err(ApiError::forbidden(
                        "chỉ đơn vị Trưởng khối hoặc quản trị viên được thực hiện thao tác này",
                    ))
                }
            }
        }
    }

    pub async fn require_leader_unit(&self, state: &AppState, bloc_id: &str) -> ApiResult<()> {
        self.require_bloc(bloc_id)?;
        if let Caller::Unit {
            kind: UnitKind::Clerk,
            ..
        } = self
        {
            return Err(ApiError::forbidden(
                "văn thư chỉ được ký số của cơ quan (đóng dấu); việc của đơn vị Trưởng khối do cán bộ thi đua hoặc lãnh đạo làm",
            ));
        }
        let Caller::Unit { unit_id, .. } = self else {
            return Ok(());
        };
        let units = state.store.list_units(bloc_id).await?;
        let is_leader = units
            .iter()
            .any(|u| &u.id == unit_id && u.role == UnitRole::Leader);
        if is_leader {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "chỉ đơn vị Trưởng khối hoặc quản trị viên được thực hiện thao tác này",
            ))
        }
    }
}

/// The cookie that carries a browser session's secret (see [`crate::store::Store::open_session`]).
pub const SESSION_COOKIE: &str = "giaouoc_phien";

/// The header in which the web pages' scripts echo the session's anti-CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in browser: the caller and the session's anti-CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
}

/// The session cookie's value, if the request has one.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

impl AppState {
    /// The live session of the request's cookie, if any.
    pub async fn session(&self, headers: &axum::http::HeaderMap) -> ApiResult<Option<Session>> {
        let Some(secret) = session_secret(headers) else {
            return Ok(None);
        };
        let Some(row) = self.store.session(&secret, self.now()).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            caller: Caller::from_principal(row.principal),
            csrf: row.csrf,
        }))
    }
}

/// Whether a request with this method changes state (and so needs the anti-CSRF token when
/// it is authenticated by the session cookie).
fn is_unsafe(method: &axum::http::Method) -> bool {
    !matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    )
}

/// Compares two tokens in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let a: [u8; 32] = Sha256::digest(a.as_bytes()).into();
    let b: [u8; 32] = Sha256::digest(b.as_bytes()).into();
    constant_time_eq(&a, &b)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// `Authorization: Bearer <token>` (scripts, the CLI), else the session cookie of the web
    /// interface; with the cookie, a state-changing request must carry the session's
    /// anti-CSRF token in `X-CSRF-Token` (a page of another site can make the browser send
    /// the cookie, never read the token).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            if session_secret(&parts.headers).is_none() {
                return Err(ApiError::Unauthorized(
                    "cần đăng nhập hoặc token: Authorization: Bearer …".into(),
                ));
            }
            let session = state.session(&parts.headers).await?.ok_or_else(|| {
                ApiError::Unauthorized(
                    "phiên đăng nhập đã hết hạn hoặc mã truy cập đã bị thu hồi; hãy đăng nhập lại"
                        .into(),
                )
            })?;
            if is_unsafe(&parts.method) {
                let echoed = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !same_secret(echoed, &session.csrf) {
                    return Err(ApiError::forbidden(
                        "thiếu hoặc sai mã chống giả mạo yêu cầu (CSRF); hãy tải lại trang",
                    ));
                }
            }
            return Ok(session.caller);
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized("tiêu đề Authorization không hợp lệ".into()))?;
        let secret = match text.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => {
                return Err(ApiError::Unauthorized(
                    "tiêu đề Authorization phải có dạng \"Bearer <token>\"".into(),
                ));
            }
        };
        state
            .authenticate(secret)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("token không hợp lệ hoặc đã bị thu hồi".into()))
    }
}

/// Recently authenticated tokens by the SHA-256 of their secret.
#[derive(Default)]
pub(crate) struct AuthCache {
    entries: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

impl AuthCache {
    fn get(&self, key: &[u8; 32]) -> Option<Caller> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(c, _)| c.clone())
    }

    fn put(&self, key: [u8; 32], caller: Caller) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
            entries.insert(key, (caller, Instant::now()));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

impl AppState {
    /// The caller a bearer secret stands for; `None` if it is unknown or revoked.
    pub async fn authenticate(&self, secret: &str) -> ApiResult<Option<Caller>> {
        if secret.is_empty() || secret.len() > 512 {
            return Ok(None);
        }
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if let Some(admin) = &self.shared.admin_secret_sha256
            && constant_time_eq(admin, &key)
        {
            return Ok(Some(Caller::Admin {
                token_id: "env".to_owned(),
            }));
        }
        if let Some(caller) = self.shared.auth.get(&key) {
            return Ok(Some(caller));
        }
        let Some(principal) = self.store.authenticate(secret).await? else {
            return Ok(None);
        };
        let caller = Caller::from_principal(principal);
        self.shared.auth.put(key, caller.clone());
        Ok(Some(caller))
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
