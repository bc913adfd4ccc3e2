//! Crash safety: the server is killed (SIGKILL) in the middle of signing and of archiving,
//! restarted on the same data dir, and the store, the documents and the audit chain must be
//! consistent, with nothing that was acknowledged to a client lost.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::Signer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use giaouoc::pki;
use giaouoc::verify::{self, Verdict, VerifyOptions};

use crate::helpers::temp_dir;
use crate::webdriver::free_port;

const COVENANT: &str = "KTD-VHXH-QN-2021";
pub(crate) const ADMIN: &str = "crash-test-admin-token-0123456789abcdef";

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(data: &Path, log: &Path) -> Server {
        Server::start_logging(data, log, "warn")
    }

    /// Starts with `RUST_LOG=<level>`, the log appended to `log`.
    pub(crate) fn start_logging(data: &Path, log: &Path, level: &str) -> Server {
        Server::start_with(data, log, level, &[])
    }

    /// Starts with `RUST_LOG=<level>` and `extra` arguments after `serve --demo`.
    pub(crate) fn start_with(data: &Path, log: &Path, level: &str, extra: &[&str]) -> Server {
        let port = free_port();
        // `$GIAOUOC_BIN` runs another build (the soak uses the release binary).
        let bin = std::env::var_os("GIAOUOC_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_giaouoc")),
            PathBuf::from,
        );
        let child = Command::new(bin)
            .args(["serve", "--demo", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .env("GIAOUOC_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", level)
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            )
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while agent()
            .get(format!("{url}/healthz"))
            .call()
            .map_or(true, |r| r.status() != 200)
        {
            assert!(Instant::now() < deadline, "the server did not restart");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, url }
    }

    /// Loads the current document (as the first request after a start does), so that the
    /// completion window measured on a warm server holds.
    pub(crate) fn warm_up(&self) {
        let (status, _) = self.get(&format!("/covenants/{COVENANT}/document.pdf"));
        assert_eq!(status, 200);
    }

    /// SIGKILL: no graceful shutdown, no flush, nothing.
    pub(crate) fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub(crate) fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let mut r = agent()
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        let body = r
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap();
        (status, body)
    }

    pub(crate) fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a signing attempt came to, as the client saw it.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// 200 from complete: the service acknowledged the signature.
    Acknowledged,
    /// The field was already signed (an earlier attempt landed but its answer was lost).
    AlreadySigned,
    /// No answer (the server died) or an error answer.
    Lost(String),
}

/// Signs `unit` over HTTP; returns what the client saw and how long the completion took.
fn sign(
    url: &str,
    unit: &str,
    token: &str,
    key_pem: &str,
    tx: &mpsc::Sender<()>,
) -> (Outcome, Duration) {
    let key = pki::signing_key_from_pem(key_pem).unwrap();
    let a = agent();
    let base = format!("{url}/covenants/{COVENANT}/signatures/{unit}");
    let prepared: Value = match a
        .post(format!("{base}/prepare"))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(json!({}))
    {
        Ok(mut r) if r.status() == 200 => r.body_mut().read_json().unwrap(),
        Ok(mut r) => {
            let body = r.body_mut().read_to_string().unwrap_or_default();
            let _ = tx.send(());
            let outcome = if body.contains("already_signed") {
                Outcome::AlreadySigned
            } else {
                Outcome::Lost(format!("prepare {}: {body}", r.status()))
            };
            return (outcome, Duration::ZERO);
        }
        Err(e) => {
            let _ = tx.send(());
            return (Outcome::Lost(format!("prepare: {e}")), Duration::ZERO);
        }
    };
    let to_sign = B64.decode(prepared["to_sign"].as_str().unwrap()).unwrap();
    let signature = B64.encode(key.sign(&to_sign).to_bytes());
    // Tell the killer the completion is on its way.
    let _ = tx.send(());
    let sent = Instant::now();
    let outcome = match a
        .post(format!("{base}/complete"))
        .send_json(json!({"prepare_id": prepared["prepare_id"], "signature": signature}))
    {
        Ok(r) if r.status() == 200 => Outcome::Acknowledged,
        Ok(mut r) => Outcome::Lost(format!(
            "complete {}: {}",
            r.status(),
            r.body_mut().read_to_string().unwrap_or_default()
        )),
        Err(e) => Outcome::Lost(format!("complete: {e}")),
    };
    (outcome, sent.elapsed())
}

/// Everything that must hold after a restart: the audit chain, the current PDF (hash, every
/// signature intact and valid, one per signed unit), and every acknowledged unit signed.
fn check_consistent(s: &Server, ca: &x509_cert::Certificate, acknowledged: &[String]) -> Value {
    let covenant = s.json(&format!("/covenants/{COVENANT}"));
    let audit = s.json(&format!("/covenants/{COVENANT}/audit"));
    assert_eq!(
        audit["check"]["ok"], true,
        "audit chain broken: {}",
        audit["check"]
    );
    let signed: Vec<String> = covenant["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["signed"] == true)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    for unit in acknowledged {
        assert!(signed.contains(unit), "{unit} was acknowledged and is lost");
    }
    let (status, pdf) = s.get(&format!("/covenants/{COVENANT}/document.pdf"));
    assert_eq!(status, 200);
    let sha = format!("{:x}", Sha256::digest(&pdf));
    assert_eq!(
        covenant["revision"]["sha256"],
        sha.as_str(),
        "document differs from its record"
    );
    let report = verify::verify_pdf(
        &pdf,
        &VerifyOptions {
            trust_roots: vec![ca.clone()],
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.signatures.len(), signed.len(), "{report:#?}");
    if !signed.is_empty() {
        assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    }
    // The revisions chain: one per signature, in order, then (once all signed) the long-term
    // validation revisions; each recorded in the audit trail.
    let revisions = s.json(&format!("/covenants/{COVENANT}/revisions"));
    let kinds: Vec<&str> = revisions["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    let signatures = kinds.iter().filter(|k| **k == "signature").count();
    let maintenance = kinds.len() - signatures - 1;
    assert_eq!(signatures, signed.len(), "{revisions}");
    assert_eq!(kinds.first(), Some(&"rendered"), "{revisions}");
    let count = |action: &str| {
        audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .count()
    };
    assert_eq!(count("revision.append"), signed.len());
    assert_eq!(count("revision.maintain"), maintenance);
    covenant
}

#[test]
fn sigkill_while_signing_and_archiving_loses_nothing_acknowledged() {
    let dir = temp_dir("crash");
    let data = dir.join("data");
    let log = dir.join("server.log");
    let mut server = Server::start(&data, &log);
    let keys = data.join("demo-keys");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(keys.join("tokens.json")).unwrap()).unwrap();
    let ca = pki::certificates_from_pem_or_der(&std::fs::read(keys.join("ca.pem")).unwrap())
        .unwrap()
        .remove(0);

    let mut acknowledged: Vec<String> = Vec::new();
    let mut kills = 0;
    let mut lost_answers = 0;
    // How long a completion takes here (debug or release build): the kills are spread over
    // that window, from "just sent" to "just answered".
    let mut window = {
        let (tx, rx) = mpsc::channel();
        let token = tokens["U16"]["leader"].as_str().unwrap().to_owned();
        let key_pem = std::fs::read_to_string(keys.join("U16.key")).unwrap();
        server.warm_up();
        let url = server.url.clone();
        let worker = std::thread::spawn(move || sign(&url, "U16", &token, &key_pem, &tx));
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
        let (outcome, took) = worker.join().unwrap();
        assert_eq!(outcome, Outcome::Acknowledged);
        acknowledged.push("U16".to_owned());
        took
    };
    let mut step = 0_u64;
    for i in 1..=15 {
        let unit = format!("U{i:02}");
        let token = tokens[&unit]["leader"].as_str().unwrap().to_owned();
        let key_pem = std::fs::read_to_string(keys.join(format!("{unit}.key"))).unwrap();
        for attempt in 0.. {
            // Sign in a thread; kill the server a little after the completion was sent
            // (0 to ~12 ms, varying: before, during and after the write).
            let (tx, rx) = mpsc::channel();
            let url = server.url.clone();
            let (t, k) = (token.clone(), key_pem.clone());
            let u = unit.clone();
            let worker = std::thread::spawn(move || sign(&url, &u, &t, &k, &tx));
            rx.recv_timeout(Duration::from_secs(30)).unwrap();
            // Every fourth unit signs without a crash, and so does a unit whose completion the
            // kills keep cutting short (so that the test always finishes).
            let kill_now = i % 4 != 0 && attempt < 5;
            if kill_now {
                // 0, 1/4, 2/4, … 6/4 of the last completion's time, round and round (it
                // grows with each signature: every completion verifies all of them).
                let step_of_7 = u32::try_from(step % 7).unwrap();
                std::thread::sleep(window * step_of_7 / 4);
                step += 1;
                server.kill();
                kills += 1;
            }
            let (outcome, took) = worker.join().unwrap();
            if outcome == Outcome::Acknowledged && !took.is_zero() {
                window = took;
            }
            if kill_now {
                server = Server::start(&data, &log);
                server.warm_up();
            }
            match outcome {
                Outcome::Acknowledged => {
                    acknowledged.push(unit.clone());
                    check_consistent(&server, &ca, &acknowledged);
                    break;
                }
                Outcome::AlreadySigned => {
                    // Landed before the crash, answer lost: it must be there now.
                    lost_answers += 1;
                    acknowledged.push(unit.clone());
                    check_consistent(&server, &ca, &acknowledged);
                    break;
                }
                Outcome::Lost(why) => {
                    assert!(kill_now, "{unit} failed without a crash: {why}");
                    assert!(
                        !why.starts_with("complete 4") && !why.starts_with("prepare 4"),
                        "{unit}: the service refused the signature: {why}"
                    );
                    let c = check_consistent(&server, &ca, &acknowledged);
                    let landed = c["units"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x["id"] == unit.as_str() && x["signed"] == true);
                    if landed {
                        lost_answers += 1;
                        acknowledged.push(unit.clone());
                        break;
                    }
                    // Not signed: try again on the restarted server.
                }
            }
        }
    }
    let covenant = check_consistent(&server, &ca, &acknowledged);
    assert_eq!(covenant["state"], "completed");
    assert_eq!(covenant["signed_count"], 16);

    // Archiving, killed at different moments; after each restart it is either archived
    // (entry, report and file all there) or still completed and archivable.
    let leader_unit = tokens["U01"]["officer"].as_str().unwrap().to_owned();
    let mut archived_sha = None;
    for delay_ms in [0_u64, 2, 5, 9, 14, 20, 30, 45, 70, 100] {
        let url = server.url.clone();
        let t = leader_unit.clone();
        let worker = std::thread::spawn(move || {
            agent()
                .post(format!("{url}/covenants/{COVENANT}/archive"))
                .header("Authorization", format!("Bearer {t}"))
                .send_json(json!({}))
                .ok()
                .map(|mut r| {
                    (
                        r.status().as_u16(),
                        r.body_mut().read_to_string().unwrap_or_default(),
                    )
                })
        });
        std::thread::sleep(Duration::from_millis(delay_ms));
        server.kill();
        kills += 1;
        let answer = worker.join().unwrap();
        server = Server::start(&data, &log);
        server.warm_up();
        let covenant = check_consistent(&server, &ca, &acknowledged);
        eprintln!(
            "archive killed after {delay_ms} ms: answer {:?}, state {}",
            answer.as_ref().map(|a| a.0),
            covenant["state"]
        );
        match covenant["state"].as_str().unwrap() {
            "archived" => {
                let sha = covenant["revision"]["sha256"].as_str().unwrap().to_owned();
                let entry = server.json(&format!("/archive/{sha}"));
                assert_eq!(entry["verdict"], "valid");
                let (status, pdf) = server.get(&format!("/archive/{sha}/document.pdf"));
                assert_eq!(status, 200);
                assert_eq!(format!("{:x}", Sha256::digest(&pdf)), sha);
                archived_sha = Some(sha);
                break;
            }
            "completed" => {
                assert!(
                    !matches!(answer, Some((201, _))),
                    "archiving was acknowledged and is lost: {answer:?}"
                );
            }
            other => panic!("state {other} after a crash while archiving"),
        }
    }
    if archived_sha.is_none() {
        // Never got that far before the kill: archive now, without a crash.
        let (status, _) = {
            let mut r = agent()
                .post(format!("{}/covenants/{COVENANT}/archive", server.url))
                .header("Authorization", format!("Bearer {leader_unit}"))
                .send_json(json!({}))
                .unwrap();
            (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
        };
        assert_eq!(status, 201);
    }
    let final_state = server.json(&format!("/covenants/{COVENANT}"));
    assert_eq!(final_state["state"], "archived");
    // Leftovers of interrupted work are only unreferenced blobs or expired preparations,
    // never a record pointing at a missing file: every revision's file is there.
    let revisions = server.json(&format!("/covenants/{COVENANT}/revisions"));
    for r in revisions["revisions"].as_array().unwrap() {
        let sha = r["sha256"].as_str().unwrap();
        assert!(blob_path(&data, sha).exists(), "revision {sha} has no file");
    }
    server.kill();
    eprintln!(
        "crash test: last completion {window:?}, {kills} kills, {lost_answers} answers lost in flight, 16 signatures kept"
    );
}

/// Where the blob store keeps a file: `blobs/<first two hex digits>/<the other 62>`.
fn blob_path(data: &Path, sha: &str) -> PathBuf {
    let (dir, file) = sha.split_at(2);
    data.join("blobs").join(dir).join(file)
}
