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

    fn from_principal(p: Principal) -> Caller {
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

    /// Admin, or a token (officer or leader) of exactly this unit.
    pub fn require_unit(&self, bloc_id: &str, unit_id: &str) -> ApiResult<()> {
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

    /// Admin, or the *leader* token of exactly this unit (preparing its signature).
    pub fn require_unit_leader(&self, bloc_id: &str, unit_id: &str) -> ApiResult<()> {
        self.require_unit(bloc_id, unit_id)?;
        match self {
            Caller::Unit {
                kind: UnitKind::Officer,
                ..
            } => Err(ApiError::forbidden(
                "chỉ lãnh đạo đơn vị (token loại leader) được chuẩn bị chữ ký số",
            )),
            _ => Ok(()),
        }
    }

    /// Admin, or a token of the bloc's leader unit (role `leader`).
    pub async fn require_leader_unit(&self, state: &AppState, bloc_id: &str) -> ApiResult<()> {
        self.require_bloc(bloc_id)?;
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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("cần token: Authorization: Bearer …".into()))?;
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
