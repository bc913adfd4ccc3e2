//! Soak: mixed traffic (downloads, verifications, signings, abandoned preparations, pages)
//! against the demo service on loopback for several minutes: no errors, no memory growth.
//! Ignored by default (it runs for minutes); run it with the release server:
//!
//! ```sh
//! cargo build --release
//! GIAOUOC_BIN=target/release/giaouoc GIAOUOC_SOAK_SECS=300 \
//!     cargo test --release --test it soak -- --ignored --nocapture
//! ```

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::Signer;
use serde_json::{Value, json};

use giaouoc::pki;

use crate::crash::{ADMIN, Server, agent};
use crate::helpers::temp_dir;

const COVENANT: &str = "KTD-VHXH-QN-2021";

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Stats {
    latencies: Mutex<Vec<(&'static str, Duration)>>,
    errors: Mutex<Vec<String>>,
    stale: AtomicUsize,
}

impl Stats {
    fn record(&self, kind: &'static str, took: Duration) {
        self.latencies.lock().unwrap().push((kind, took));
    }
    fn error(&self, what: String) {
        self.errors.lock().unwrap().push(what);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
#[ignore = "runs for minutes; see the module documentation"]
fn soak_mixed_traffic_without_errors_or_memory_growth() {
    let secs: u64 = std::env::var("GIAOUOC_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let dir = temp_dir("soak");
    let data = dir.join("data");
    let server = Server::start(&data, &dir.join("server.log"));
    let pid = server.child.id();
    server.warm_up();
    let keys = data.join("demo-keys");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(keys.join("tokens.json")).unwrap()).unwrap();
    let pdf0 = server.get(&format!("/covenants/{COVENANT}/document.pdf")).1;

    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let next_unit = Arc::new(AtomicUsize::new(1));
    let mut workers = Vec::new();
    for w in 0..4_usize {
        let (url, stats, stop, next_unit, tokens, keys, pdf0) = (
            server.url.clone(),
            Arc::clone(&stats),
            Arc::clone(&stop),
            Arc::clone(&next_unit),
            tokens.clone(),
            keys.clone(),
            pdf0.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let a = agent();
            let mut n = 0_usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let start = Instant::now();
                let (kind, result): (&'static str, Result<(), String>) = match (n + w) % 10 {
                    0..=4 => ("download", {
                        let r = a
                            .get(format!("{url}/covenants/{COVENANT}/document.pdf"))
                            .header("Authorization", format!("Bearer {ADMIN}"))
                            .call();
                        match r {
                            Ok(mut r) if r.status() == 200 => r
                                .body_mut()
                                .with_config()
                                .limit(64 << 20)
                                .read_to_vec()
                                .map(|_| ())
                                .map_err(|e| e.to_string()),
                            Ok(r) => Err(format!("download {}", r.status())),
                            Err(e) => Err(e.to_string()),
                        }
                    }),
                    5..=6 => ("verify", {
                        // Alternate the first revision (cached report) and the current one.
                        let body = if n.is_multiple_of(2) {
                            pdf0.clone()
                        } else {
                            a.get(format!("{url}/covenants/{COVENANT}/document.pdf"))
                                .header("Authorization", format!("Bearer {ADMIN}"))
                                .call()
                                .ok()
                                .and_then(|mut r| {
                                    r.body_mut()
                                        .with_config()
                                        .limit(64 << 20)
                                        .read_to_vec()
                                        .ok()
                                })
                                .unwrap_or_default()
                        };
                        match a
                            .post(format!("{url}/verify"))
                            .header("Content-Type", "application/pdf")
                            .send(&body[..])
                        {
                            Ok(mut r) if r.status() == 200 => {
                                let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
                                if v["verdict"] == "valid" || v["verdict"] == "no_signatures" {
                                    Ok(())
                                } else {
                                    Err(format!("verdict {}", v["verdict"]))
                                }
                            }
                            Ok(r) => Err(format!("verify {}", r.status())),
                            Err(e) => Err(e.to_string()),
                        }
                    }),
                    7 => ("page", {
                        match a.get(format!("{url}/kiem-tra")).call() {
                            Ok(r) if r.status() == 200 => Ok(()),
                            Ok(r) => Err(format!("page {}", r.status())),
                            Err(e) => Err(e.to_string()),
                        }
                    }),
                    _ => {
                        // Sign the next unit (U01..U15), or prepare U16 and walk away.
                        let i = next_unit.fetch_add(1, Ordering::Relaxed);
                        let (unit, complete) = if i <= 15 {
                            (format!("U{i:02}"), true)
                        } else {
                            ("U16".to_owned(), false)
                        };
                        let kind = if complete { "sign" } else { "prepare" };
                        (
                            kind,
                            sign(&a, &url, &unit, &tokens, &keys, complete, &stats),
                        )
                    }
                };
                let took = start.elapsed();
                match result {
                    Ok(()) => stats.record(kind, took),
                    Err(e) => stats.error(format!("{kind}: {e}")),
                }
            }
        }));
    }
    let mut samples = Vec::new();
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(5));
        samples.push(rss_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let covenant = server.json(&format!("/covenants/{COVENANT}"));

    let lat = stats.latencies.lock().unwrap();
    let errors = stats.errors.lock().unwrap();
    let total = lat.len();
    eprintln!(
        "soak: {secs} s, {total} requests ({:.0}/s), {} errors, {} stale retries",
        total as f64 / secs as f64,
        errors.len(),
        stats.stale.load(Ordering::Relaxed)
    );
    for kind in ["download", "verify", "page", "sign", "prepare"] {
        let mut v: Vec<Duration> = lat
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, d)| *d)
            .collect();
        v.sort();
        eprintln!(
            "  {kind:<8} n={:<6} p50={:?} p99={:?} max={:?}",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.99),
            v.last().copied().unwrap_or_default()
        );
    }
    eprintln!("  server RSS (KiB) every 5 s: {samples:?}");
    let blobs = dir_size(&data.join("blobs"));
    eprintln!("  blob store: {} MiB", blobs >> 20);
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    // Abandoned preparations are capped per unit: the disk does not fill up.
    assert!(
        blobs < 256 << 20,
        "the blob store grew to {} MiB",
        blobs >> 20
    );
    assert_eq!(covenant["signed_count"], 15, "{covenant}");
    // No growth: the last quarter's peak stays within 25 % (+16 MiB) of the first quarter's.
    let q = (samples.len() / 4).max(1);
    let early = samples.iter().take(q).copied().max().unwrap_or(0);
    let late = samples.iter().rev().take(q).copied().max().unwrap_or(0);
    assert!(
        late <= early + early / 4 + 16 * 1024,
        "memory grew: first quarter peak {early} KiB, last quarter peak {late} KiB"
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn sign(
    a: &ureq::Agent,
    url: &str,
    unit: &str,
    tokens: &Value,
    keys: &std::path::Path,
    complete: bool,
    stats: &Stats,
) -> Result<(), String> {
    let token = tokens[unit]["leader"].as_str().unwrap_or_default();
    let key = pki::signing_key_from_pem(
        &std::fs::read_to_string(keys.join(format!("{unit}.key"))).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let base = format!("{url}/covenants/{COVENANT}/signatures/{unit}");
    for _ in 0..50 {
        let mut r = a
            .post(format!("{base}/prepare"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(json!({}))
            .map_err(|e| e.to_string())?;
        if r.status() != 200 {
            return Err(format!("prepare {}", r.status()));
        }
        let prepared: Value = r.body_mut().read_json().map_err(|e| e.to_string())?;
        if !complete {
            return Ok(());
        }
        let to_sign = B64
            .decode(prepared["to_sign"].as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let signature = B64.encode(key.sign(&to_sign).to_bytes());
        let r = a
            .post(format!("{base}/complete"))
            .send_json(json!({"prepare_id": prepared["prepare_id"], "signature": signature}))
            .map_err(|e| e.to_string())?;
        match r.status().as_u16() {
            200 => return Ok(()),
            409 => {
                stats.stale.fetch_add(1, Ordering::Relaxed);
            }
            s => return Err(format!("complete {s}")),
        }
    }
    Err("kept losing the race".into())
}
