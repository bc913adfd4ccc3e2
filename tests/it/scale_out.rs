//! Several stateless instances: three `giaouoc serve` processes on one PostgreSQL database and
//! one S3 bucket. 16 leaders sign at the same moment, each completing through another instance
//! than the one that prepared; one instance is killed (SIGKILL) in the middle; sessions and
//! the purge lease span the instances.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use giaouoc::store::{BlobLocation, DatabaseLocation, RevisionKind};
use giaouoc::test_support::free_port;
use giaouoc::verify::{self, Verdict, VerifyOptions};

use crate::helpers::temp_dir;
use crate::http_support::*;

/// One `giaouoc serve` process.
struct Instance {
    child: std::process::Child,
    addr: SocketAddr,
    alive: AtomicBool,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment that points a `giaouoc` process at the database and the bucket.
fn store_env(database: &DatabaseLocation, blobs: &BlobLocation) -> Vec<(String, String)> {
    let (DatabaseLocation::Postgres(url), BlobLocation::S3(s3)) = (database, blobs) else {
        panic!("PostgreSQL and S3 expected");
    };
    vec![
        ("GIAOUOC_DATABASE_URL".into(), url.clone()),
        ("GIAOUOC_MASTER_KEY".into(), "07".repeat(32)),
        ("GIAOUOC_BLOB_STORE".into(), format!("s3://{}", s3.bucket)),
        (
            "GIAOUOC_S3_ENDPOINT".into(),
            s3.endpoint.clone().unwrap_or_default(),
        ),
        ("GIAOUOC_S3_ALLOW_HTTP".into(), "true".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "giaouoc-test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "giaouoc-test-secret".into()),
    ]
}

async fn start_instance(n: usize, root: &Path, env: &[(String, String)], admin: &str) -> Instance {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let dir: PathBuf = root.join(format!("instance-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_giaouoc"))
        .args(["serve", "--addr", &addr.to_string(), "--data-dir"])
        .arg(&dir)
        .args(["--admin-token", admin])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let instance = Instance {
        child,
        addr,
        alive: AtomicBool::new(true),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let health = tcp_send(addr, request(Method::GET, "/healthz", None, None)).await;
        if health.is_ok_and(|r| r.status == StatusCode::OK) {
            return instance;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "instance {n} did not start: {}",
            std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// How one leader's signature went.
#[derive(Debug)]
enum Outcome {
    /// 200 from `complete`: the revision index the service acknowledged.
    Acknowledged(i64),
    /// A completion whose answer was lost (its instance died) turned out to have landed.
    LandedUnacknowledged,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_one_database_and_bucket_lose_no_signature_when_one_is_killed() {
    let root = temp_dir("scale-out");
    // The covenant is set up in this process, on the same database and bucket, with the
    // system clock the processes use.
    let options = fresh_pg_s3("scale-out");
    let env = store_env(&options.database, &options.blob_store);
    let setup = TestApp::open(&root.join("setup"), options).await;
    let tokens = Arc::new(ready_to_sign(&setup).await);
    let mut instances = Vec::new();
    for n in 0..3 {
        instances.push(start_instance(n, &root, &env, &setup.admin).await);
    }
    let instances = Arc::new(instances);

    // The purge ran once, on one instance (each tried at its start).
    let mut purges = 0;
    for i in instances.iter() {
        let metrics = tcp_call(i.addr, Method::GET, "/metrics", None, None).await;
        let text = String::from_utf8_lossy(&metrics.body).into_owned();
        purges += text
            .lines()
            .find_map(|l| l.strip_prefix("giaouoc_purges_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no purge counter: {text}"));
    }
    assert_eq!(purges, 1, "one instance holds the purge lease");

    // A web session opened on instance 0 works on instances 1 and 2.
    let signed_in = tcp_send(
        instances[0].addr,
        Request::post("/dang-nhap")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "ma={}&tiep=/giao-uoc/{COVENANT}",
                leader(&tokens, "U03")
            )))
            .unwrap(),
    )
    .await
    .unwrap()
    .expect(StatusCode::SEE_OTHER);
    let cookie = signed_in
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for i in &instances[1..] {
        let page = tcp_send(
            i.addr,
            Request::get(format!("/giao-uoc/{COVENANT}"))
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
        .expect(StatusCode::OK);
        assert!(
            String::from_utf8_lossy(&page.body).contains("U03"),
            "the session acts for U03 on {}",
            i.addr
        );
    }

    // 16 leaders at the same moment; leader i prepares on instance i % 3 and completes on the
    // next one; instance 2 is killed once five signatures are acknowledged.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(17));
    let mut tasks = Vec::new();
    for i in 0..16_usize {
        let (tokens, instances, acknowledged, start) = (
            Arc::clone(&tokens),
            Arc::clone(&instances),
            Arc::clone(&acknowledged),
            Arc::clone(&start),
        );
        tasks.push(tokio::spawn(async move {
            let unit = format!("U{:02}", i + 1);
            let base = format!("/covenants/{COVENANT}/signatures/{unit}");
            start.wait().await;
            let live = |k: usize| {
                (0..3)
                    .map(|d| (k + d) % 3)
                    .find(|&n| instances[n].alive.load(Ordering::SeqCst))
                    .unwrap()
            };
            let mut lost_answer = false;
            for attempt in 0..200 {
                let on = live(i + attempt);
                let then = live(on + 1);
                let prepared = match tcp_send(
                    instances[on].addr,
                    request(
                        Method::POST,
                        &format!("{base}/prepare"),
                        Some(leader(&tokens, &unit)),
                        Some(json!({})),
                    ),
                )
                .await
                {
                    Ok(r) if r.status == StatusCode::OK => r.json(),
                    // A completion whose answer was lost had landed: the unit has signed.
                    Ok(r) if lost_answer && r.status == StatusCode::CONFLICT => {
                        return (unit, Outcome::LandedUnacknowledged);
                    }
                    Ok(r) => panic!("{unit} prepare: {} {}", r.status, r.json()),
                    Err(_) => continue,
                };
                let signature = sign_b64(&leader_key(i), prepared["to_sign"].as_str().unwrap());
                let done = tcp_send(
                    instances[then].addr,
                    request(
                        Method::POST,
                        &format!("{base}/complete"),
                        None,
                        Some(json!({"prepare_id": prepared["prepare_id"], "signature": signature})),
                    ),
                )
                .await;
                match done {
                    Ok(r) if r.status == StatusCode::OK => {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                        return (
                            unit,
                            Outcome::Acknowledged(r.json()["index"].as_i64().unwrap()),
                        );
                    }
                    Ok(r) if r.status == StatusCode::CONFLICT && r.json()["error"] == "stale" => {}
                    Ok(r) => panic!("{unit} complete: {} {}", r.status, r.json()),
                    Err(_) => lost_answer = true,
                }
            }
            panic!("{unit} never signed");
        }));
    }
    start.wait().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acknowledged.load(Ordering::SeqCst) < 5 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // SIGKILL, no shutdown: requests in flight on it are cut.
    instances[2].alive.store(false, Ordering::SeqCst);
    let killed_at = acknowledged.load(Ordering::SeqCst);
    {
        let pid = instances[2].child.id();
        let status = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert!(
        killed_at < 16,
        "the kill came in the middle ({killed_at} signed before)"
    );
    eprintln!(
        "scale-out: instance 2 killed after {killed_at} acknowledged signatures; outcomes {outcomes:?}"
    );

    // Every acknowledged signature is in the store at the index it was acknowledged with;
    // exactly one signature revision per unit.
    let revisions = setup.state.store.revisions(COVENANT).await.unwrap();
    let signatures: Vec<_> = revisions
        .iter()
        .filter(|r| r.kind == RevisionKind::Signature)
        .collect();
    assert_eq!(signatures.len(), 16, "{revisions:#?}");
    assert_eq!(
        revisions
            .iter()
            .filter(|r| r.kind == RevisionKind::Rendered)
            .count(),
        1
    );
    for (unit, outcome) in &outcomes {
        let stored = signatures
            .iter()
            .find(|r| r.unit_id.as_deref() == Some(unit.as_str()))
            .unwrap_or_else(|| panic!("{unit}'s signature is lost"));
        if let Outcome::Acknowledged(index) = outcome {
            assert_eq!(stored.index, *index, "{unit}");
        }
    }
    let mut indexes: Vec<i64> = signatures.iter().map(|r| r.index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (1..=16).collect::<Vec<_>>());
    let covenant = setup.state.store.get_covenant(COVENANT).await.unwrap();
    assert_eq!(covenant.state.as_str(), "completed");

    // The final PDF, fetched through a surviving instance, is valid; the audit chain holds.
    let pdf = tcp_call(
        instances[1].addr,
        Method::GET,
        &format!("/covenants/{COVENANT}/document.pdf"),
        Some(&setup.admin),
        None,
    )
    .await
    .expect(StatusCode::OK)
    .body;
    let report = verify::verify_pdf(
        &pdf,
        &VerifyOptions {
            trust_roots: setup.state.trust_roots().await.unwrap(),
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.problems);
    assert_eq!(report.signatures.len(), 16);
    let audit = setup.state.store.verify_audit_chain().await.unwrap();
    assert!(audit.ok, "{audit:?}");
    let events = setup
        .state
        .store
        .audit_events(Some(COVENANT))
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "revision.append")
            .count(),
        16,
        "{:?}",
        events.iter().map(|e| &e.action).collect::<Vec<_>>()
    );
}
