//! The HTTP service (`giaouoc serve`): the covenant's year as a JSON API over the store.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests call it with
//! `tower::ServiceExt::oneshot` and no socket; [`serve`] runs it on a listener with graceful
//! shutdown. Each resource has its module with its `routes`; handlers are thin: they check
//! who is calling ([`auth`]), translate the request, call the library and the store, and
//! return JSON or an [`ApiError`] (the only place errors become statuses is
//! [`ApiError::status_code`]).
//!
//! | module | routes |
//! | --- | --- |
//! | `ops` | `/healthz`, `/metrics`, `/openapi.json` |
//! | `covenants` | create, list, get, open registration, freeze |
//! | `registrations` | a unit's registration, its review |
//! | `documents` | the current PDF and DOCX (ETag, Vietnamese file name), revisions |
//! | `signatures` | prepare / complete (two-step signing, the key stays with the leader) |
//! | `blocs` | blocs, tokens, certificate enrolments, certificates |
//! | `verification` | `POST /verify` |
//! | `archive` | archive a completed covenant, look a file up by hash |
//! | `audit` | a covenant's hash-chained audit trail |
//! | `web` | the Vietnamese web pages (see [`web`]) |

pub(crate) mod archive;
mod audit;
pub mod auth;
mod blocs;
pub mod ca;
mod covenants;
pub mod demo;
mod desktop;
mod documents;
pub mod error;
pub mod extract;
mod ops;
mod registrations;
mod signatures;
mod tsa;
pub(crate) mod year;

pub use tsa::Renewal;
mod uploads;
mod verification;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::store::{BlobStore, Blobs as _, NewToken, Stamp, Store, StoreError, TokenRole};
use crate::template::Template;

pub use auth::Caller;
pub use error::{ApiError, ApiResult, Detail};

/// Where the time comes from: the system clock in production, a fixed one in tests.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Default upload limit of `/verify`: 50 MB.
pub const DEFAULT_MAX_UPLOAD: usize = 50 * 1024 * 1024;

/// Settings of the service besides the data folder.
#[derive(Clone)]
pub struct Options {
    /// Largest `/verify` upload, bytes.
    pub max_upload: usize,
    /// The clock.
    pub clock: Clock,
    /// An admin token given by the operator (`GIAOUOC_ADMIN_TOKEN`), accepted besides the
    /// tokens in the store.
    pub admin_token: Option<String>,
    /// Trust anchors besides the bloc CAs (the national root CA, the government CA's roots):
    /// see [`crate::pki::trust_anchors_from`].
    pub trust_anchors: Vec<x509_cert::Certificate>,
    /// How long a prepared signature can be completed: long enough for a leader to confirm a
    /// remote signature in a phone app.
    pub prepare_ttl: time::Duration,
    /// The key a new bloc's CA gets (existing CAs keep theirs).
    pub ca_key: crate::ca::CaKeyKind,
    /// An external TSA for the signatures' time-stamps; the built-in one if `None`.
    pub tsa: Option<crate::tsp::RemoteTsa>,
    /// The built-in TSA's policy OID.
    pub tsa_policy: der::asn1::ObjectIdentifier,
    /// The address users and verifiers reach the service at (`http(s)://host[:port]`): new
    /// certificates name the bloc's CRL and OCSP responder under it.
    pub public_url: Option<String>,
    /// Where the documents are kept: `<data_dir>/blobs`, another directory or an S3 bucket.
    pub blob_store: crate::store::BlobLocation,
    /// The database: `<data_dir>/giaouoc.db`, another SQLite file, or PostgreSQL (shared by
    /// several instances; needs `master_key`).
    pub database: crate::store::DatabaseLocation,
    /// Seals the private keys the service holds (bloc CAs, TSA) at rest
    /// (`GIAOUOC_MASTER_KEY_FILE`); plain key files if `None`.
    pub master_key: Option<Arc<crate::secrets::MasterKey>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_upload: DEFAULT_MAX_UPLOAD,
            clock: system_clock(),
            admin_token: None,
            trust_anchors: Vec::new(),
            prepare_ttl: PREPARE_TTL,
            ca_key: crate::ca::CaKeyKind::Ed25519,
            tsa: None,
            tsa_policy: crate::tsp::DEFAULT_POLICY,
            public_url: None,
            blob_store: crate::store::BlobLocation::Default,
            database: crate::store::DatabaseLocation::Default,
            master_key: None,
        }
    }
}

/// The system clock (UTC).
pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// A clock that always says `at`.
pub fn fixed_clock(at: OffsetDateTime) -> Clock {
    Arc::new(move || at)
}

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub blobs: BlobStore,
    pub clock: Clock,
    pub max_upload: usize,
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) data_dir: PathBuf,
    pub(crate) template: Template,
    pub(crate) cas: ca::CaRing,
    pub(crate) docs: documents::DocCache,
    pub(crate) metrics: ops::Metrics,
    pub(crate) auth: auth::AuthCache,
    pub(crate) reports: verification::ReportCache,
    pub(crate) admin_secret_sha256: Option<[u8; 32]>,
    /// The operator's trust anchors besides the bloc CAs.
    pub(crate) trust_anchors: Vec<x509_cert::Certificate>,
    /// See [`Options::prepare_ttl`].
    pub(crate) prepare_ttl: time::Duration,
    /// The built-in TSA and where time-stamps come from.
    pub(crate) tsa: tsa::TimeStamping,
    /// This instance's name in the task leases (random, per start).
    pub(crate) instance: String,
}

/// `Ok` when the covenant's state allows `action`, else 409 `wrong_state` saying why in
/// Vietnamese (the rules are [`crate::workflow`]'s). A year's document is only signed,
/// archived and maintained (409 `not_a_covenant` for the rest).
pub(crate) fn require_action(
    action: crate::workflow::Action,
    covenant: &crate::store::CovenantRow,
) -> ApiResult<()> {
    use crate::workflow::Action;
    if let Some(doc) = covenant.kind
        && !matches!(action, Action::Sign | Action::Archive | Action::Maintain)
    {
        return Err(ApiError::conflict(
            "not_a_covenant",
            format!(
                "\"{}\" là {} của giao ước \"{}\", không phải một giao ước: không thể {}",
                covenant.id,
                doc.label_vi().to_lowercase(),
                covenant.parent_id.as_deref().unwrap_or_default(),
                action.label_vi()
            ),
        ));
    }
    action
        .check(covenant.state)
        .map_err(|wrong| ApiError::conflict("wrong_state", wrong.message_vi(&covenant.id)))
}

/// The service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error("kho dữ liệu: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("không mở được địa chỉ {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("máy chủ dừng vì lỗi: {0}")]
    Serve(std::io::Error),
    /// Several instances share the keys through the database: they must be sealed.
    #[error(
        "cơ sở dữ liệu dùng chung (PostgreSQL) cần khóa chủ để niêm phong khóa bí mật của dịch vụ: \
         đặt GIAOUOC_MASTER_KEY_FILE (tệp chứa 32 byte ngẫu nhiên dạng hex; xem README, mục \"Running several instances\")"
    )]
    SharedWithoutMasterKey,
}

impl AppState {
    /// Opens (or creates) the store, the blobs and the bloc CAs under `data_dir`.
    pub async fn open(data_dir: &Path, options: Options) -> Result<AppState, SetupError> {
        let shared = options.database.backend() == crate::store::Backend::Postgres;
        if shared && options.master_key.is_none() {
            return Err(SetupError::SharedWithoutMasterKey);
        }
        let store = Store::connect(&options.database, data_dir).await?;
        tracing::info!(at = %options.database.describe(), "database");
        let blobs = BlobStore::from_location(&options.blob_store, data_dir).await?;
        tracing::info!(at = %blobs.describe(), "blob store");
        let cas = ca::CaRing::open(
            data_dir,
            &store,
            options.ca_key,
            options.public_url.clone(),
            options.master_key.clone(),
        )
        .await?;
        let tsa = tsa::TimeStamping::open_shared(
            data_dir,
            shared.then_some(&store),
            options.tsa_policy,
            options.tsa.clone(),
            (options.clock)(),
            options.master_key.as_deref(),
        )
        .await?;
        let admin_secret_sha256 = options
            .admin_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| Sha256::digest(t.as_bytes()).into());
        Ok(AppState {
            store,
            blobs,
            clock: options.clock,
            max_upload: options.max_upload,
            shared: Arc::new(Shared {
                data_dir: data_dir.to_path_buf(),
                template: Template::builtin(),
                cas,
                docs: documents::DocCache::default(),
                metrics: ops::Metrics::default(),
                auth: auth::AuthCache::default(),
                reports: verification::ReportCache::default(),
                admin_secret_sha256,
                trust_anchors: options.trust_anchors,
                prepare_ttl: options.prepare_ttl,
                tsa,
                instance: {
                    let mut id = [0_u8; 8];
                    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
                    hex(&id)
                },
            }),
        })
    }

    /// The current time, from the injected clock.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    pub fn data_dir(&self) -> &Path {
        &self.shared.data_dir
    }

    /// Creates the first admin token if the store has never had one; returns it (to print
    /// once) or `None`.
    pub async fn bootstrap_admin(&self) -> Result<Option<NewToken>, StoreError> {
        let events = self.store.audit_events(None).await?;
        let has_admin = events.iter().any(|e| {
            e.action == "token.create" && at(&e.details, "/grant/role").as_str() == Some("admin")
        });
        if has_admin {
            return Ok(None);
        }
        let stamp = Stamp::new("bootstrap", self.now());
        self.store
            .create_token(&stamp, &TokenRole::Admin)
            .await
            .map(Some)
    }

    /// The trust roots for verification: every bloc CA, and the operator's anchors.
    pub async fn trust_roots(&self) -> ApiResult<Vec<x509_cert::Certificate>> {
        let mut roots = self.shared.cas.trust_roots().await?;
        roots.push(self.shared.tsa.root().clone());
        roots.extend(self.shared.trust_anchors.iter().cloned());
        Ok(roots)
    }

    /// The CA of a bloc, if this service holds it.
    pub fn bloc_ca(&self, bloc_id: &str) -> Option<Arc<crate::ca::BlocCa>> {
        self.shared.cas.get(bloc_id)
    }
}

/// The router and the list of its routes, built together so they cannot drift apart.
pub(crate) struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, route);
        self.table.push((method, path));
        self
    }

    pub(crate) fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, axum::routing::get(handler))
    }

    pub(crate) fn post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, axum::routing::post(handler))
    }

    pub(crate) fn put<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::PUT, path, axum::routing::put(handler))
    }

    pub(crate) fn delete<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::DELETE, path, axum::routing::delete(handler))
    }
}

fn routes() -> Routes {
    let r = Routes {
        router: Router::new(),
        table: Vec::new(),
    };
    let r = ops::routes(r);
    let r = covenants::routes(r);
    let r = registrations::routes(r);
    let r = year::routes(r);
    let r = documents::routes(r);
    let r = signatures::routes(r);
    let r = uploads::routes(r);
    let r = desktop::routes(r);
    let r = blocs::routes(r);
    let r = verification::routes(r);
    let r = archive::routes(r);
    let r = tsa::routes(r);
    audit::routes(r)
}

/// The web interface's pages (not part of the JSON API's table).
fn page_routes() -> Routes {
    web::routes(Routes {
        router: Router::new(),
        table: Vec::new(),
    })
}

/// Every page of the web interface as (method, path template).
pub fn page_table() -> Vec<(String, String)> {
    page_routes()
        .table
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_owned()))
        .collect()
}

/// Every route of [`app`] as (method, path template), e.g. `("GET", "/covenants/{id}")`.
pub fn route_table() -> Vec<(String, String)> {
    routes()
        .table
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_owned()))
        .collect()
}

/// The whole service as a router: call it from tests with `oneshot`.
pub fn app(state: AppState) -> Router {
    let max_body = state.max_upload.max(extract::JSON_LIMIT);
    routes()
        .router
        .merge(page_routes().router)
        .fallback(web::not_found)
        .layer(axum::middleware::map_response(web::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::count_requests,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown` resolves (see [`serve_on`]).
///
/// # Errors
/// The address cannot be bound, or the server fails.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SetupError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SetupError::Bind { addr, source })?;
    serve_on(state, listener, shutdown).await
}

/// Serves on an already bound listener (tests bind port 0) until `shutdown` resolves; the
/// requests in flight then finish before this returns, and the store is closed.
///
/// # Errors
/// The server fails.
pub async fn serve_on(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SetupError> {
    let store = state.store.clone();
    let purge = tokio::spawn(purge_prepares(state.clone()));
    let result = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(SetupError::Serve);
    purge.abort();
    store.close().await;
    result
}

/// Signatures prepared and never completed are forgotten after this long, unless the operator
/// says otherwise ([`Options::prepare_ttl`]).
pub const PREPARE_TTL: time::Duration = time::Duration::hours(1);

/// Every few minutes, forgets the signatures in progress older than their lifetime and the
/// expired web sessions (on one instance at a time: [`AppState::purge_once`]).
async fn purge_prepares(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        state.purge_once().await;
    }
}

impl AppState {
    /// Takes the lease of the periodic task `name` for `term` (see [`Store::take_lease`]):
    /// `false` when another instance holds it, or the store cannot say.
    pub async fn lease(&self, name: &str, term: time::Duration) -> bool {
        match self
            .store
            .take_lease(name, &self.shared.instance, self.now(), term)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, task = name, "taking a task lease");
                false
            }
        }
    }

    /// One purge of expired preparations (and their blobs) and web sessions, if this instance
    /// holds the purge's lease; what was removed, or `None` when another instance purges.
    pub async fn purge_once(&self) -> Option<(usize, u64)> {
        if !self.lease("purge", time::Duration::minutes(4)).await {
            return None;
        }
        self.shared
            .metrics
            .purges
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut removed = (0, 0);
        match self
            .store
            .purge_prepares(self.now() - self.shared.prepare_ttl)
            .await
        {
            Ok(blobs) => {
                for sha in &blobs {
                    if let Err(e) = self.blobs.remove(sha).await {
                        tracing::warn!(error = %e, sha, "removing a prepared blob");
                    }
                }
                if !blobs.is_empty() {
                    tracing::info!(
                        purged = blobs.len(),
                        "expired signature preparations removed"
                    );
                }
                removed.0 = blobs.len();
            }
            Err(e) => tracing::warn!(error = %e, "purging signature preparations"),
        }
        match self.store.purge_sessions(self.now()).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(purged = n, "expired web sessions removed");
                }
                removed.1 = n;
            }
            Err(e) => tracing::warn!(error = %e, "purging web sessions"),
        }
        Some(removed)
    }
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The value at a JSON pointer (`/covenant/title`), `null` if absent.
pub(crate) fn at<'a>(value: &'a serde_json::Value, pointer: &str) -> &'a serde_json::Value {
    value.pointer(pointer).unwrap_or(&serde_json::Value::Null)
}

/// Runs CPU-heavy library work (render, sign, verify) off the async threads.
pub(crate) async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    F: FnOnce() -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}
