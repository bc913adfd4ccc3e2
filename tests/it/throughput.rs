//! `POST /verify` throughput for a stream of distinct 16-signature covenants (every file
//! different, so the service's report cache never answers). Ignored by default (it runs for
//! a while and measures rather than asserts); run it with the release server:
//!
//! ```sh
//! cargo build --release
//! GIAOUOC_BIN=target/release/giaouoc GIAOUOC_LOAD_SECS=20 \
//!     cargo test --release --test it throughput -- --ignored --nocapture
//! ```
//!
//! Two streams: our all-Ed25519 covenant (the test bloc's CA) and the mixed-algorithm one
//! pyHanko signed (`benches/fixtures/mixed-16.pdf`: RSA, RSA-PSS, ECDSA P-256/P-384,
//! Ed25519 from a second CA). Each file gets its own `/Info /ModDate` update after the last
//! signature (allowed maintenance), so every request verifies all 16 signatures anew.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::macros::datetime;

use giaouoc::pdf::{IncrementalUpdate, Limits, PdfFile};
use giaouoc::sign::{self, SignOptions};
use giaouoc::template::Template;

use crate::crash::{Server, agent};
use crate::helpers::{reference_json, temp_dir};

const MIXED: &[u8] = include_bytes!("../../benches/fixtures/mixed-16.pdf");
const MIXED_ROOT: &[u8] = include_bytes!("../../benches/fixtures/mixed-16-root.pem");

/// Our covenant signed in all 16 fields with the test bloc's Ed25519 keys, and its CA (PEM).
fn ed25519_covenant() -> (Vec<u8>, String) {
    let (cov, doc) = giaouoc::render::prepare(&reference_json(), &Template::builtin()).unwrap();
    let mut pdf = giaouoc::render::pdf(&doc, &Default::default())
        .unwrap()
        .bytes;
    let giaouoc::test_support::TestBloc { ca, leaders, .. } =
        giaouoc::test_support::test_bloc(&cov);
    for (unit, key, cert) in &leaders {
        let opts = SignOptions {
            field: unit.clone(),
            time: datetime!(2021-01-22 15:30:45 +07:00),
            reason: None,
            location: None,
            image: None,
            seal: None,
        };
        pdf = sign::sign_with_key(&pdf, key, cert, std::slice::from_ref(&ca), &opts).unwrap();
    }
    (pdf, giaouoc::pki::certificate_to_pem(&ca).unwrap())
}

/// `pdf` with one more revision that sets `/Info /ModDate` from `n`: a distinct file that
/// verifies as the original does (a metadata update is allowed maintenance).
fn variant(pdf: &[u8], n: usize) -> Vec<u8> {
    let file = PdfFile::parse(pdf, &Limits::default()).unwrap();
    let (hour, min, sec) = ((n / 3600) % 24, (n / 60) % 60, n % 60);
    let date = format!("D:20210201{hour:02}{min:02}{sec:02}+07'00'");
    let mut update = IncrementalUpdate::new(&file).unwrap();
    giaouoc::test_support::set_info_mod_date(&file, &mut update, &date);
    update.finish(pdf).unwrap().bytes
}

/// Posts `files` round-robin from `clients` threads for `secs` seconds; every answer must be
/// a valid verdict. Returns (requests, p50, p99).
fn hammer(url: &str, files: &[Vec<u8>], clients: usize, secs: u64) -> (usize, Duration, Duration) {
    let files = Arc::new(files.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (files, next, url) = (Arc::clone(&files), Arc::clone(&next), url.to_owned());
            std::thread::spawn(move || {
                let a = agent();
                let mut took = Vec::new();
                while Instant::now() < deadline {
                    let body = &files[next.fetch_add(1, Ordering::Relaxed) % files.len()];
                    let start = Instant::now();
                    let mut r = a
                        .post(format!("{url}/verify"))
                        .header("Content-Type", "application/pdf")
                        .send(&body[..])
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let v: Value = r.body_mut().read_json().unwrap();
                    assert_eq!(v["verdict"], "valid", "{v}");
                    took.push(start.elapsed());
                }
                took
            })
        })
        .collect();
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    let at = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    (all.len(), at(0.5), at(0.99))
}

#[test]
#[ignore = "measures for a while; see the module documentation"]
fn verify_throughput_for_distinct_sixteen_signature_files() {
    let secs: u64 = std::env::var("GIAOUOC_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = temp_dir("throughput");
    let trust = dir.join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    let (ours, ca_pem) = ed25519_covenant();
    std::fs::write(trust.join("test-bloc.pem"), ca_pem).unwrap();
    std::fs::write(trust.join("mixed-root.pem"), MIXED_ROOT).unwrap();
    let server = Server::start_with(
        &dir.join("data"),
        &dir.join("server.log"),
        "warn",
        &["--trust-dir", trust.to_str().unwrap()],
    );
    // More distinct files than the report cache holds (64), so no request is answered from it.
    for (name, base) in [("Ed25519", ours.as_slice()), ("mixed", MIXED)] {
        let files: Vec<Vec<u8>> = (0..256).map(|n| variant(base, n)).collect();
        for clients in [1, 2, 4] {
            let (n, p50, p99) = hammer(&server.url, &files, clients, secs);
            eprintln!(
                "verify {name:<8} {clients} clients: {n} files in {secs} s = {:.0}/s, p50 {p50:?}, p99 {p99:?}",
                n as f64 / secs as f64
            );
        }
    }
}
