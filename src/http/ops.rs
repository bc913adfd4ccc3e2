//! Operations: health, Prometheus metrics, the OpenAPI document, and the request counter.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use super::{AppState, Routes};
use axum::http::StatusCode;

/// The hand-written OpenAPI 3.1 document (a test checks it lists every route).
pub const OPENAPI: &str = include_str!("openapi.json");

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/healthz", healthz)
        .get("/metrics", metrics)
        .get("/openapi.json", openapi)
}

/// Counters exported at `/metrics`.
#[derive(Default)]
pub(crate) struct Metrics {
    /// (method, route, status) → count.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    pub(crate) signatures_completed: AtomicU64,
    pub(crate) signatures_prepared: AtomicU64,
    pub(crate) stale_completions: AtomicU64,
    pub(crate) verifications: AtomicU64,
    /// Maintenance passes this instance ran (it held the lease).
    pub(crate) purges: AtomicU64,
}

impl Metrics {
    fn count(&self, method: &str, route: &str, status: u16) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method.to_owned(), route.to_owned(), status))
                .or_insert(0) += 1;
        }
    }
}

pub(crate) fn incr(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Middleware: counts every response by route template and status.
pub(super) async fn count_requests(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    state
        .shared
        .metrics
        .count(&method, &route, response.status().as_u16());
    response
}

/// The database and the blob store both answer (the blob store: whether a blob that is never
/// written exists); 500 with the failing part's error otherwise.
/// Each part of the storage, checked: 200 when both answer, else 503 naming the one that
/// does not (a load balancer takes the instance out).
async fn healthz(State(state): State<AppState>) -> Response {
    use crate::store::Blobs as _;
    let started = std::time::Instant::now();
    let database = state.store.ping().await;
    let database_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = std::time::Instant::now();
    let blobs = state.blobs.exists(&"0".repeat(64)).await.map(|_| ());
    let blobs_ms = started.elapsed().as_secs_f64() * 1e3;
    let part = |r: &Result<_, crate::store::StoreError>| match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("error: {e}"),
    };
    let ok = database.is_ok() && blobs.is_ok();
    if !ok {
        tracing::warn!(database = %part(&database), blobs = %part(&blobs), "health check failed");
    }
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "instance": state.shared.instance,
        "database": {"status": part(&database), "backend": state.store.backend().as_str(),
                     "ms": (database_ms * 1000.0).round() / 1000.0},
        "blobs": {"status": part(&blobs), "at": state.blobs.describe(),
                  "ms": (blobs_ms * 1000.0).round() / 1000.0},
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.shared.metrics;
    let mut out = String::new();
    out.push_str("# HELP giaouoc_http_requests_total HTTP requests by route and status.\n");
    out.push_str("# TYPE giaouoc_http_requests_total counter\n");
    if let Ok(map) = m.requests.lock() {
        for ((method, route, status), n) in map.iter() {
            let _ = writeln!(
                out,
                "giaouoc_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
    }
    let counters = [
        (
            "giaouoc_signatures_completed_total",
            "Signatures completed (new revisions).",
            &m.signatures_completed,
        ),
        (
            "giaouoc_signatures_prepared_total",
            "Signatures prepared.",
            &m.signatures_prepared,
        ),
        (
            "giaouoc_signatures_stale_total",
            "Completions refused because someone signed first (409 stale).",
            &m.stale_completions,
        ),
        (
            "giaouoc_verifications_total",
            "PDF verifications (POST /verify).",
            &m.verifications,
        ),
        (
            "giaouoc_purges_total",
            "Purges of expired preparations and sessions this instance ran (one instance at a time holds the lease).",
            &m.purges,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Ordering::Relaxed)
        );
    }
    // Storage: the database pool, and the blob store's operations and their time.
    let (size, idle) = state.store.pool_stats();
    let _ = writeln!(
        out,
        "# HELP giaouoc_db_pool_connections Open database connections.\n\
         # TYPE giaouoc_db_pool_connections gauge\ngiaouoc_db_pool_connections {size}\n\
         # HELP giaouoc_db_pool_idle Idle database connections.\n\
         # TYPE giaouoc_db_pool_idle gauge\ngiaouoc_db_pool_idle {idle}"
    );
    let (writes, write_secs) = state.store.write_stats();
    let _ = writeln!(
        out,
        "# HELP giaouoc_db_writes_total Committed write transactions.\n\
         # TYPE giaouoc_db_writes_total counter\ngiaouoc_db_writes_total {writes}\n\
         # HELP giaouoc_db_write_seconds_total Time of the committed write transactions, waiting \
         for the write lock included.\n\
         # TYPE giaouoc_db_write_seconds_total counter\ngiaouoc_db_write_seconds_total {write_secs:.6}"
    );
    let stats = state.blobs.stats();
    out.push_str(
        "# HELP giaouoc_blob_operations_total Blob store operations.\n\
         # TYPE giaouoc_blob_operations_total counter\n",
    );
    for (op, n, _) in &stats {
        let _ = writeln!(out, "giaouoc_blob_operations_total{{op=\"{op}\"}} {n}");
    }
    out.push_str(
        "# HELP giaouoc_blob_seconds_total Time spent in blob store operations.\n\
         # TYPE giaouoc_blob_seconds_total counter\n",
    );
    for (op, _, secs) in &stats {
        let _ = writeln!(out, "giaouoc_blob_seconds_total{{op=\"{op}\"}} {secs:.6}");
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

/// Escapes a Prometheus label value.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// The fallback: a JSON 404 for any path the router does not know.
pub(crate) async fn no_route() -> ApiError {
    ApiError::not_found("không có địa chỉ này trong API (xem /openapi.json)")
}
