use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::*;

/// A unique directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let path = std::env::temp_dir().join(format!(
            "giaouoc-store-{name}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The store of a test on `backend`: SQLite in `dir`, or a PostgreSQL database of the
/// process's test cluster named after `dir` (so reopening `dir` reopens it).
async fn open_store(backend: Backend, dir: &Path) -> Result<Store> {
    match backend {
        Backend::Sqlite => Store::open(dir).await,
        Backend::Postgres => {
            let url = crate::test_support::TestPostgres::shared().database(&dir.to_string_lossy());
            Store::connect(&DatabaseLocation::parse(&url)?, dir).await
        }
    }
}

/// Each test named here runs twice: `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        }
    )*};
}

on_both_backends!(
    blob_and_archive_reject_malformed_sha_including_path_traversal,
    state_graph_is_enforced_and_conflicts_name_the_actual_state,
    registration_rules_open_window_review_and_lock_after_acceptance,
    append_revision_is_compare_and_swap_and_drives_signing_to_archive,
    sixteen_concurrent_signers_each_retrying_on_conflict_make_sixteen_ordered_revisions,
    audit_chain_verifies_and_an_edited_event_is_detected_with_its_seq,
    reopening_the_data_dir_keeps_everything,
    a_failing_write_leaves_no_partial_rows_nor_audit_event,
    tokens_authenticate_until_revoked_and_only_their_hash_is_stored,
    enrolment_approval_and_certificate_revocation,
    prepares_are_taken_once_and_only_while_signing_is_open,
    sessions_expire_end_and_die_with_their_token_and_only_a_hash_is_stored,
    a_unit_keeps_at_most_four_preparations_and_the_oldest_blobs_are_handed_back,
    a_seal_is_recorded_only_after_its_leader_and_the_unit_is_complete_with_both,
    a_task_lease_has_one_holder_until_it_runs_out,
);

const BLOC: &str = "KTD-VHXH-QN";
const COV: &str = "KTD-VHXH-QN-2021";

fn at(minutes: i64) -> OffsetDateTime {
    datetime!(2021-03-01 08:00 +07:00) + Duration::minutes(minutes)
}

fn admin(minutes: i64) -> Stamp<'static> {
    Stamp::new("admin", at(minutes))
}

fn sha(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

fn unit_ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("U{i:02}")).collect()
}

fn units(n: usize) -> Vec<UnitRow> {
    unit_ids(n)
        .into_iter()
        .enumerate()
        .map(|(i, id)| UnitRow {
            name: format!("Đơn vị {id}"),
            id,
            role: match i {
                0 => UnitRole::Leader,
                1 => UnitRole::Deputy,
                _ => UnitRole::Member,
            },
        })
        .collect()
}

/// A bloc with `n` units and its covenant in `registration`.
async fn in_registration(store: &Store, n: usize) {
    store
        .create_bloc(
            &admin(0),
            BLOC,
            "Khối thi đua Văn hóa - Xã hội",
            "-----CA-----",
        )
        .await
        .unwrap();
    store
        .upsert_units(&admin(1), BLOC, &units(n))
        .await
        .unwrap();
    store
        .create_covenant(
            &admin(2),
            COV,
            BLOC,
            2021,
            &json!({"format": "giaouoc.covenant/1"}),
        )
        .await
        .unwrap();
    store
        .transition(&admin(3), COV, State::Draft, State::Registration)
        .await
        .unwrap();
}

/// As [`in_registration`], then frozen with every unit as a signer; returns revision 0's sha.
async fn frozen(store: &Store, n: usize) -> String {
    in_registration(store, n).await;
    let rev = store
        .freeze(&admin(4), COV, &sha("pdf r0"), &sha("docx"), &unit_ids(n))
        .await
        .unwrap();
    rev.pdf_sha256
}

/// The message of a refusal: a conflict, a stale base or a wrong state.
fn conflict(e: StoreError) -> String {
    match e {
        StoreError::Conflict(m) => m,
        e @ (StoreError::Stale { .. } | StoreError::WrongState { .. }) => e.to_string(),
        other => panic!("expected Conflict, got {other:?}"),
    }
}

async fn audit_count(store: &Store) -> usize {
    store.audit_events(None).await.unwrap().len()
}

#[tokio::test]
async fn blob_put_get_round_trip_and_put_is_idempotent() {
    let dir = TempDir::new("blob");
    let blobs = BlobStore::open(dir.path()).await.unwrap();
    let data = b"%PDF-1.7 giao uoc".to_vec();
    let key = blobs.put(&data).await.unwrap();
    assert_eq!(key, hex(&Sha256::digest(&data)));
    let file = dir.path().join("blobs").join(&key[..2]).join(&key[2..]);
    assert!(file.is_file());
    assert_eq!(blobs.put(&data).await.unwrap(), key);
    assert_eq!(blobs.get(&key).await.unwrap(), data);
    assert!(blobs.exists(&key).await.unwrap());
    let absent = sha("absent");
    assert!(!blobs.exists(&absent).await.unwrap());
    assert!(matches!(
        blobs.get(&absent).await,
        Err(StoreError::NotFound { what: "blob", .. })
    ));
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1);
}

#[tokio::test]
async fn blob_corrupted_on_disk_is_detected_and_put_repairs_it() {
    let dir = TempDir::new("corrupt");
    let blobs = BlobStore::open(dir.path()).await.unwrap();
    let key = blobs.put(b"original").await.unwrap();
    let file = dir.path().join("blobs").join(&key[..2]).join(&key[2..]);
    std::fs::write(&file, b"tampered").unwrap();
    assert!(matches!(blobs.get(&key).await, Err(StoreError::Corrupt(_))));
    blobs.put(b"original").await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), b"original");
}

async fn blob_and_archive_reject_malformed_sha_including_path_traversal(backend: Backend) {
    let dir = TempDir::new("badsha");
    let blobs = BlobStore::open(dir.path()).await.unwrap();
    let key = blobs.put(b"x").await.unwrap();
    for bad in [
        "../x".to_owned(),
        format!("../{}", &key[3..]),
        format!("{}/../{}", &key[..2], &key[5..]),
        key.to_uppercase(),
        key[..63].to_owned(),
        format!("{key}0"),
        String::new(),
    ] {
        assert!(
            matches!(blobs.get(&bad).await, Err(StoreError::Invalid(_))),
            "{bad}"
        );
        assert!(
            matches!(blobs.exists(&bad).await, Err(StoreError::Invalid(_))),
            "{bad}"
        );
    }
    let store = open_store(backend, dir.path()).await.unwrap();
    assert!(matches!(
        store.archived("../x").await,
        Err(StoreError::Invalid(_))
    ));
}

async fn state_graph_is_enforced_and_conflicts_name_the_actual_state(backend: Backend) {
    let dir = TempDir::new("graph");
    let store = open_store(backend, dir.path()).await.unwrap();
    store
        .create_bloc(&admin(0), BLOC, "Khối", "CA")
        .await
        .unwrap();
    let cov = store
        .create_covenant(&admin(1), COV, BLOC, 2021, &json!({}))
        .await
        .unwrap();
    assert_eq!(cov.state, State::Draft);

    let e = store
        .transition(&admin(2), COV, State::Draft, State::Frozen)
        .await;
    assert_eq!(
        conflict(e.unwrap_err()),
        format!("covenant {COV} cannot go from draft to frozen")
    );
    let e = store
        .transition(&admin(2), COV, State::Registration, State::Frozen)
        .await;
    assert_eq!(
        conflict(e.unwrap_err()),
        format!("covenant {COV} is draft, not registration")
    );

    store
        .transition(&admin(3), COV, State::Draft, State::Registration)
        .await
        .unwrap();
    let e = store
        .transition(&admin(4), COV, State::Draft, State::Registration)
        .await;
    assert!(conflict(e.unwrap_err()).contains("is registration, not draft"));
    // Frozen needs the documents: only freeze gets there.
    let e = store
        .transition(&admin(4), COV, State::Registration, State::Frozen)
        .await;
    assert!(conflict(e.unwrap_err()).contains("use freeze"));
    assert_eq!(
        store.get_covenant(COV).await.unwrap().state,
        State::Registration
    );

    assert!(matches!(
        store
            .transition(&admin(5), "nope", State::Draft, State::Registration)
            .await,
        Err(StoreError::NotFound {
            what: "covenant",
            ..
        })
    ));
    assert!(matches!(
        store
            .create_covenant(&admin(6), COV, BLOC, 2021, &json!({}))
            .await,
        Err(StoreError::Conflict(_))
    ));

    // The graph table is the one State::next describes, and the trigger holds even for raw SQL.
    let edges: Vec<(String, String)> =
        sqlx::query_as("SELECT from_state, to_state FROM covenant_transitions")
            .fetch_all(&store.pool)
            .await
            .unwrap();
    let mut expected = Vec::new();
    let mut s = State::Draft;
    while let Some(n) = s.next() {
        expected.push((s.as_str().to_owned(), n.as_str().to_owned()));
        s = n;
    }
    let mut edges_sorted = edges.clone();
    edges_sorted.sort();
    expected.sort();
    assert_eq!(edges_sorted, expected);
    let raw = sqlx::query("UPDATE covenants SET state = 'archived' WHERE id = $1")
        .bind(COV)
        .execute(&store.pool)
        .await;
    assert!(
        raw.unwrap_err()
            .to_string()
            .contains("transition not allowed")
    );
}

async fn registration_rules_open_window_review_and_lock_after_acceptance(backend: Backend) {
    let dir = TempDir::new("registration");
    let store = open_store(backend, dir.path()).await.unwrap();
    store
        .create_bloc(&admin(0), BLOC, "Khối", "CA")
        .await
        .unwrap();
    store
        .upsert_units(&admin(1), BLOC, &units(3))
        .await
        .unwrap();
    store
        .create_covenant(&admin(2), COV, BLOC, 2021, &json!({}))
        .await
        .unwrap();
    let officer = Stamp::new("U03/officer", at(10));
    let pledge = json!({"pledges": ["Hoàn thành xuất sắc nhiệm vụ"], "titles": {"b": 1, "a": 2}});

    // Not open yet.
    let e = store
        .save_registration(&officer, COV, "U03", &pledge, RegistrationStatus::Draft)
        .await;
    assert!(
        conflict(e.unwrap_err()).contains("is draft; editing a registration needs registration")
    );
    store
        .transition(&admin(3), COV, State::Draft, State::Registration)
        .await
        .unwrap();

    let r = store
        .save_registration(&officer, COV, "U03", &pledge, RegistrationStatus::Draft)
        .await
        .unwrap();
    assert_eq!((r.status, r.version), (RegistrationStatus::Draft, 1));
    assert_eq!(r.data, pledge);
    assert!(matches!(
        store
            .save_registration(&officer, COV, "U99", &pledge, RegistrationStatus::Draft)
            .await,
        Err(StoreError::NotFound { what: "unit", .. })
    ));
    assert!(matches!(
        store
            .save_registration(&officer, COV, "U03", &pledge, RegistrationStatus::Accepted)
            .await,
        Err(StoreError::Invalid(_))
    ));
    let leader = Stamp::new("U01/leader", at(20));
    // A draft cannot be reviewed.
    let e = store
        .review_registration(&leader, COV, "U03", true, None)
        .await;
    assert!(conflict(e.unwrap_err()).contains("is draft, not submitted"));

    let r = store
        .save_registration(&officer, COV, "U03", &pledge, RegistrationStatus::Submitted)
        .await
        .unwrap();
    assert_eq!((r.status, r.version), (RegistrationStatus::Submitted, 2));
    // Returning needs a comment.
    assert!(matches!(
        store
            .review_registration(&leader, COV, "U03", false, Some("  "))
            .await,
        Err(StoreError::Invalid(_))
    ));
    let r = store
        .review_registration(&leader, COV, "U03", false, Some("Bổ sung chỉ tiêu"))
        .await
        .unwrap();
    assert_eq!(r.status, RegistrationStatus::Returned);
    assert_eq!(r.comment.as_deref(), Some("Bổ sung chỉ tiêu"));

    let r = store
        .save_registration(&officer, COV, "U03", &pledge, RegistrationStatus::Submitted)
        .await
        .unwrap();
    assert_eq!((r.status, r.version), (RegistrationStatus::Submitted, 3));
    let r = store
        .review_registration(&leader, COV, "U03", true, None)
        .await
        .unwrap();
    assert_eq!(r.status, RegistrationStatus::Accepted);
    let e = store
        .save_registration(&officer, COV, "U03", &pledge, RegistrationStatus::Draft)
        .await;
    assert!(conflict(e.unwrap_err()).contains("accepted"));

    assert_eq!(store.get_registration(COV, "U03").await.unwrap(), r);
    assert_eq!(store.list_registrations(COV).await.unwrap(), vec![r]);
    let actions: Vec<String> = store
        .audit_events(Some(COV))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "covenant.create",
            "covenant.transition",
            "registration.save",
            "registration.save",
            "registration.review",
            "registration.save",
            "registration.review"
        ]
    );
}

async fn append_revision_is_compare_and_swap_and_drives_signing_to_archive(backend: Backend) {
    let dir = TempDir::new("cas");
    let store = open_store(backend, dir.path()).await.unwrap();
    let r0 = frozen(&store, 2).await;
    assert_eq!(store.get_covenant(COV).await.unwrap().state, State::Frozen);
    let cur = store.current_revision(COV).await.unwrap();
    assert_eq!((cur.index, cur.unsigned_units.clone()), (0, unit_ids(2)));

    let u1 = Stamp::new("U01/leader", at(30));
    let r1 = store
        .append_revision(&u1, COV, &r0, &sha("r1"), "U01")
        .await
        .unwrap();
    assert_eq!(r1.index, 1);
    assert_eq!(store.get_covenant(COV).await.unwrap().state, State::Signing);
    // Same base again: the other signer loses and is told the base is stale.
    let u2 = Stamp::new("U02/leader", at(30));
    let e = store
        .append_revision(&u2, COV, &r0, &sha("r1'"), "U02")
        .await;
    assert!(conflict(e.unwrap_err()).starts_with("stale base"));
    let e = store
        .append_revision(&u1, COV, &r1.pdf_sha256, &sha("again"), "U01")
        .await;
    assert!(conflict(e.unwrap_err()).contains("already signed"));
    assert!(matches!(
        store
            .append_revision(&u1, COV, &r1.pdf_sha256, &sha("x"), "U09")
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.current_revision(COV).await.unwrap(), r1);

    let r2 = store
        .append_revision(&u2, COV, &r1.pdf_sha256, &sha("r2"), "U02")
        .await
        .unwrap();
    assert_eq!(r2.signed_units, ["U01", "U02"]);
    assert!(r2.unsigned_units.is_empty());
    assert_eq!(
        store.get_covenant(COV).await.unwrap().state,
        State::Completed
    );

    // Archive: only the current revision, only once.
    let report = json!({"valid": true, "signatures": 2});
    let e = store
        .archive(&admin(40), COV, &r1.pdf_sha256, &report)
        .await;
    assert!(conflict(e.unwrap_err()).contains("not the current revision"));
    let entry = store
        .archive(&admin(41), COV, &r2.pdf_sha256, &report)
        .await
        .unwrap();
    assert_eq!(entry.report, report);
    assert_eq!(
        store.get_covenant(COV).await.unwrap().state,
        State::Archived
    );
    assert_eq!(
        store.archived(&r2.pdf_sha256).await.unwrap(),
        Some(entry.clone())
    );
    assert_eq!(store.archived(&r1.pdf_sha256).await.unwrap(), None);
    assert_eq!(store.list_archive().await.unwrap(), vec![entry]);
    let e = store
        .archive(&admin(42), COV, &r2.pdf_sha256, &report)
        .await;
    assert!(conflict(e.unwrap_err()).contains("is archived"));
    assert!(store.verify_audit_chain().await.unwrap().ok);
}

async fn sixteen_concurrent_signers_each_retrying_on_conflict_make_sixteen_ordered_revisions(
    backend: Backend,
) {
    let dir = TempDir::new("sixteen");
    let store = open_store(backend, dir.path()).await.unwrap();
    frozen(&store, 16).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for unit in unit_ids(16) {
        let store = store.clone();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            let actor = format!("{unit}/leader");
            let mut attempts = 0_u32;
            let mut first_round = true;
            loop {
                attempts += 1;
                let base = store.current_revision(COV).await.unwrap();
                if first_round {
                    // Everyone prepares against revision 0: exactly one can win this round.
                    barrier.wait().await;
                    first_round = false;
                }
                let signed = sha(&format!("{}+{unit}", base.pdf_sha256));
                let stamp = Stamp::new(&actor, at(60));
                match store
                    .append_revision(&stamp, COV, &base.pdf_sha256, &signed, &unit)
                    .await
                {
                    Ok(rev) => return (attempts, rev),
                    Err(e @ StoreError::Stale { .. }) => {
                        assert!(e.to_string().starts_with("stale"), "{e}")
                    }
                    Err(e) => panic!("{unit}: {e}"),
                }
            }
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let first_try = results
        .iter()
        .filter(|(attempts, _)| *attempts == 1)
        .count();
    assert_eq!(first_try, 1, "exactly one signer wins the first base");

    let revisions = store.revisions(COV).await.unwrap();
    assert_eq!(revisions.len(), 17);
    for (i, pair) in revisions.windows(2).enumerate() {
        let (prev, rev) = (&pair[0], &pair[1]);
        assert_eq!(rev.index, i64::try_from(i).unwrap() + 1);
        let unit = rev.unit_id.clone().unwrap();
        assert_eq!(rev.pdf_sha256, sha(&format!("{}+{unit}", prev.pdf_sha256)));
    }
    let last = revisions.last().unwrap();
    let mut signed = last.signed_units.clone();
    signed.sort();
    assert_eq!(signed, unit_ids(16));
    assert_eq!(
        store.get_covenant(COV).await.unwrap().state,
        State::Completed
    );
    let check = store.verify_audit_chain().await.unwrap();
    assert!(check.ok, "{check:?}");
}

async fn audit_chain_verifies_and_an_edited_event_is_detected_with_its_seq(backend: Backend) {
    let dir = TempDir::new("audit");
    let store = open_store(backend, dir.path()).await.unwrap();
    let r0 = frozen(&store, 2).await;
    let token = store
        .create_token(&admin(5), &TokenRole::Admin)
        .await
        .unwrap();
    store
        .append_revision(
            &Stamp::new("U02/leader", at(6)),
            COV,
            &r0,
            &sha("r1"),
            "U02",
        )
        .await
        .unwrap();
    store.revoke_token(&admin(7), &token.id).await.unwrap();

    let all = store.audit_events(None).await.unwrap();
    assert!(all.iter().zip(1..).all(|(e, seq)| e.seq == seq));
    assert_eq!(all[0].prev_hash, GENESIS_HASH);
    assert_eq!(all[0].at, "2021-03-01T01:00:00Z", "stored in UTC");
    let check = store.verify_audit_chain().await.unwrap();
    assert_eq!(
        (check.events, check.ok, check.first_bad_seq),
        (all.len(), true, None)
    );

    // A covenant's export verifies on its own, also after a JSON round trip.
    let cov_events = store.audit_events(Some(COV)).await.unwrap();
    assert!(cov_events.len() < all.len());
    assert_eq!(cov_events[0].prev_hash, GENESIS_HASH);
    let exported = serde_json::to_string_pretty(&cov_events).unwrap();
    let imported: Vec<AuditEvent> = serde_json::from_str(&exported).unwrap();
    assert!(verify_exported_chain(&imported).ok);
    // Dropping or swapping exported events is detected.
    let mut dropped = imported.clone();
    let removed = dropped.remove(2);
    let check = verify_exported_chain(&dropped);
    assert_eq!(
        check.first_bad_seq,
        Some(imported[3].seq),
        "{check:?} after removing {}",
        removed.seq
    );
    let mut swapped = imported.clone();
    swapped.swap(1, 2);
    assert!(!verify_exported_chain(&swapped).ok);

    // The canonical form is documented and stable.
    let e = &all[0];
    assert_eq!(
        e.canonical(),
        format!(
            "[1,null,\"2021-03-01T01:00:00Z\",\"admin\",\"bloc.create\",{},\"{GENESIS_HASH}\"]",
            canonical_json(&e.details)
        )
    );
    assert_eq!(e.hash, hex(&Sha256::digest(e.canonical().as_bytes())));
    assert_eq!(
        canonical_json(&json!({"b": [1, "ệ"], "a": null})),
        r#"{"a":null,"b":[1,"ệ"]}"#
    );

    // The table refuses edits...
    let victim = cov_events[2].seq;
    let refused = sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = $1")
        .bind(victim)
        .execute(&store.pool)
        .await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    // ...but someone with the file can drop the trigger: the chain shows it.
    let drop_trigger = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_no_update",
        Backend::Postgres => "DROP TRIGGER audit_no_update ON audit_events",
    };
    sqlx::query(drop_trigger)
        .execute(&store.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = $1")
        .bind(victim)
        .execute(&store.pool)
        .await
        .unwrap();
    let check = store.verify_audit_chain().await.unwrap();
    assert!(!check.ok);
    assert_eq!(check.first_bad_seq, Some(victim));
    // Recomputing the edited event's own hash moves the break to the next link of its chain.
    let mut edited = store.audit_events(None).await.unwrap();
    let i = usize::try_from(victim - 1).unwrap();
    edited[i].hash = edited[i].compute_hash();
    sqlx::query("UPDATE audit_events SET hash = $2 WHERE seq = $1")
        .bind(victim)
        .bind(&edited[i].hash)
        .execute(&store.pool)
        .await
        .unwrap();
    let check = store.verify_audit_chain().await.unwrap();
    assert_eq!(check.first_bad_seq, Some(cov_events[3].seq), "{check:?}");
}

async fn reopening_the_data_dir_keeps_everything(backend: Backend) {
    let dir = TempDir::new("reopen");
    let (token, blob, r0) = {
        let store = open_store(backend, dir.path()).await.unwrap();
        let blobs = BlobStore::open(dir.path()).await.unwrap();
        let r0 = frozen(&store, 3).await;
        let blob = blobs.put(b"%PDF signed").await.unwrap();
        store
            .append_revision(&Stamp::new("U01/leader", at(9)), COV, &r0, &blob, "U01")
            .await
            .unwrap();
        let token = store
            .create_token(
                &admin(10),
                &TokenRole::Unit {
                    bloc_id: BLOC.into(),
                    unit_id: "U02".into(),
                    kind: UnitKind::Leader,
                },
            )
            .await
            .unwrap();
        let id = store
            .enrol(
                &admin(11),
                BLOC,
                "U02",
                &EnrolmentKey::Csr("CSR".into()),
                &json!({"cn": "Âu"}),
            )
            .await
            .unwrap();
        store
            .approve_enrolment(&admin(12), id, "CERT", "0A")
            .await
            .unwrap();
        store.close().await;
        (token, blob, r0)
    };
    let store = open_store(backend, dir.path()).await.unwrap();
    let blobs = BlobStore::open(dir.path()).await.unwrap();
    assert_eq!(
        store.get_bloc(BLOC).await.unwrap().name,
        "Khối thi đua Văn hóa - Xã hội"
    );
    assert_eq!(store.list_units(BLOC).await.unwrap(), units(3));
    let cov = store.get_covenant(COV).await.unwrap();
    assert_eq!(
        (cov.state, cov.docx_sha256),
        (State::Signing, Some(sha("docx")))
    );
    let revisions = store.revisions(COV).await.unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        (
            revisions[0].pdf_sha256.as_str(),
            revisions[1].pdf_sha256.as_str()
        ),
        (r0.as_str(), blob.as_str())
    );
    assert_eq!(blobs.get(&blob).await.unwrap(), b"%PDF signed");
    let principal = store.authenticate(&token.secret).await.unwrap().unwrap();
    assert_eq!(principal.token_id, token.id);
    let cert = store
        .certificate_for_unit(BLOC, "U02", crate::pki::Holder::Person)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cert.serial.as_str(), cert.cert_pem.as_str()),
        ("a", "CERT")
    );
    assert!(store.verify_audit_chain().await.unwrap().ok);
    // The chain continues where it stopped.
    store.revoke_token(&admin(20), &token.id).await.unwrap();
    assert!(store.verify_audit_chain().await.unwrap().ok);
}

async fn a_failing_write_leaves_no_partial_rows_nor_audit_event(backend: Backend) {
    let dir = TempDir::new("atomic");
    let store = open_store(backend, dir.path()).await.unwrap();
    store
        .create_bloc(&admin(0), BLOC, "Khối", "CA")
        .await
        .unwrap();
    let before = audit_count(&store).await;
    // The second leader is found after U01..U03 are written: everything is rolled back.
    let mut two_leaders = units(3);
    two_leaders.push(UnitRow {
        id: "U04".into(),
        name: "Khác".into(),
        role: UnitRole::Leader,
    });
    assert!(matches!(
        store.upsert_units(&admin(1), BLOC, &two_leaders).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.list_units(BLOC).await.unwrap().is_empty());
    assert_eq!(audit_count(&store).await, before);

    // Freeze fails on the last signer, after writing the first ones.
    store
        .upsert_units(&admin(2), BLOC, &units(3))
        .await
        .unwrap();
    store
        .create_covenant(&admin(3), COV, BLOC, 2021, &json!({}))
        .await
        .unwrap();
    store
        .transition(&admin(4), COV, State::Draft, State::Registration)
        .await
        .unwrap();
    let before = audit_count(&store).await;
    let mut signers = unit_ids(3);
    signers.push("U99".into());
    assert!(matches!(
        store
            .freeze(&admin(5), COV, &sha("pdf"), &sha("docx"), &signers)
            .await,
        Err(StoreError::NotFound { what: "unit", .. })
    ));
    let signer_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signers")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(signer_rows, 0);
    assert!(matches!(
        store.current_revision(COV).await,
        Err(StoreError::NotFound { .. })
    ));
    let cov = store.get_covenant(COV).await.unwrap();
    assert_eq!((cov.state, cov.docx_sha256), (State::Registration, None));
    assert_eq!(audit_count(&store).await, before);
    // And the same call with valid signers then works.
    store
        .freeze(&admin(6), COV, &sha("pdf"), &sha("docx"), &unit_ids(3))
        .await
        .unwrap();
    assert!(store.verify_audit_chain().await.unwrap().ok);
}

async fn tokens_authenticate_until_revoked_and_only_their_hash_is_stored(backend: Backend) {
    let dir = TempDir::new("tokens");
    let store = open_store(backend, dir.path()).await.unwrap();
    store
        .create_bloc(&admin(0), BLOC, "Khối", "CA")
        .await
        .unwrap();
    store
        .upsert_units(&admin(1), BLOC, &units(2))
        .await
        .unwrap();
    let root = store
        .create_token(&admin(2), &TokenRole::Admin)
        .await
        .unwrap();
    let role = TokenRole::Unit {
        bloc_id: BLOC.into(),
        unit_id: "U02".into(),
        kind: UnitKind::Officer,
    };
    let officer = store.create_token(&admin(3), &role).await.unwrap();
    assert_eq!(officer.secret.len(), 64);
    assert_ne!(root.secret, officer.secret);

    assert_eq!(
        store.authenticate(&root.secret).await.unwrap(),
        Some(Principal {
            token_id: root.id.clone(),
            role: TokenRole::Admin
        })
    );
    assert_eq!(
        store
            .authenticate(&officer.secret)
            .await
            .unwrap()
            .unwrap()
            .role,
        role
    );
    assert_eq!(store.authenticate("wrong").await.unwrap(), None);
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE secret_hash = $1 OR id = $1")
            .bind(&officer.secret)
            .fetch_one(&store.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0);
    let audit = serde_json::to_string(&store.audit_events(None).await.unwrap()).unwrap();
    assert!(!audit.contains(&officer.secret));

    store.revoke_token(&admin(4), &officer.id).await.unwrap();
    store.revoke_token(&admin(5), &officer.id).await.unwrap();
    assert_eq!(store.authenticate(&officer.secret).await.unwrap(), None);
    assert!(store.authenticate(&root.secret).await.unwrap().is_some());
    assert!(matches!(
        store.revoke_token(&admin(6), "nope").await,
        Err(StoreError::NotFound { .. })
    ));
    let ghost = TokenRole::Unit {
        bloc_id: BLOC.into(),
        unit_id: "U99".into(),
        kind: UnitKind::Leader,
    };
    assert!(matches!(
        store.create_token(&admin(7), &ghost).await,
        Err(StoreError::NotFound { what: "unit", .. })
    ));
}

async fn enrolment_approval_and_certificate_revocation(backend: Backend) {
    let dir = TempDir::new("certs");
    let store = open_store(backend, dir.path()).await.unwrap();
    store
        .create_bloc(&admin(0), BLOC, "Khối", "CA")
        .await
        .unwrap();
    store
        .upsert_units(&admin(1), BLOC, &units(2))
        .await
        .unwrap();
    let subject = json!({"name": "Âu Thị Hải Yến", "title": "Phó Giám đốc"});
    let key = EnrolmentKey::PublicKey("-----BEGIN PUBLIC KEY-----".into());
    let id = store
        .enrol(&admin(2), BLOC, "U02", &key, &subject)
        .await
        .unwrap();
    let pending = store.list_enrolments(BLOC).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].status, &pending[0].key, &pending[0].subject),
        (EnrolmentStatus::Pending, &key, &subject)
    );
    assert_eq!(
        store
            .certificate_for_unit(BLOC, "U02", crate::pki::Holder::Person)
            .await
            .unwrap(),
        None
    );

    let cert = store
        .approve_enrolment(&admin(3), id, "CERT-1", "02")
        .await
        .unwrap();
    assert_eq!(cert.serial, "2");
    let e = store.approve_enrolment(&admin(4), id, "CERT-1", "03").await;
    assert!(conflict(e.unwrap_err()).contains("approved, not pending"));
    assert_eq!(
        store.list_enrolments(BLOC).await.unwrap()[0].status,
        EnrolmentStatus::Approved
    );
    assert_eq!(
        store
            .certificate_for_unit(BLOC, "U02", crate::pki::Holder::Person)
            .await
            .unwrap(),
        Some(cert)
    );
    let second = store
        .enrol(&admin(5), BLOC, "U02", &key, &subject)
        .await
        .unwrap();
    assert!(matches!(
        store
            .approve_enrolment(&admin(6), second, "CERT-dup", "0x02")
            .await,
        Err(StoreError::Invalid(_))
    ));
    let e = store
        .approve_enrolment(&admin(6), second, "CERT-dup", "2")
        .await;
    assert!(conflict(e.unwrap_err()).contains("already exists"));
    store
        .approve_enrolment(&admin(7), second, "CERT-2", "3")
        .await
        .unwrap();
    assert_eq!(
        store
            .certificate_for_unit(BLOC, "U02", crate::pki::Holder::Person)
            .await
            .unwrap()
            .unwrap()
            .serial,
        "3"
    );

    store
        .revoke_certificate(&admin(8), BLOC, "03")
        .await
        .unwrap();
    assert_eq!(
        store
            .certificate_for_unit(BLOC, "U02", crate::pki::Holder::Person)
            .await
            .unwrap()
            .unwrap()
            .serial,
        "2"
    );
    let all = store.list_certificates(BLOC).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].revoked_at, Some(at(8)));
    assert!(matches!(
        store.enrol(&admin(9), BLOC, "U99", &key, &subject).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.verify_audit_chain().await.unwrap().ok);
}

async fn prepares_are_taken_once_and_only_while_signing_is_open(backend: Backend) {
    let dir = TempDir::new("prepares");
    let store = open_store(backend, dir.path()).await.unwrap();
    in_registration(&store, 2).await;
    let prepare = PrepareRow {
        id: "p1".into(),
        covenant_id: COV.into(),
        unit_id: "U01".into(),
        base_sha256: sha("pdf r0"),
        prepared_sha256: sha("prepared"),
        created_at: at(10),
    };
    let e = store.save_prepare(&prepare).await;
    assert!(conflict(e.unwrap_err()).contains("is registration"));
    store
        .freeze(&admin(4), COV, &sha("pdf r0"), &sha("docx"), &unit_ids(2))
        .await
        .unwrap();
    store.save_prepare(&prepare).await.unwrap();
    assert!(matches!(
        store.save_prepare(&prepare).await,
        Err(StoreError::Conflict(_))
    ));
    let stranger = PrepareRow {
        id: "p2".into(),
        unit_id: "U09".into(),
        ..prepare.clone()
    };
    assert!(matches!(
        store.save_prepare(&stranger).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.take_prepare("p1").await.unwrap(),
        Some(prepare.clone())
    );
    assert_eq!(store.take_prepare("p1").await.unwrap(), None);

    let old = PrepareRow {
        id: "old".into(),
        ..prepare.clone()
    };
    let new = PrepareRow {
        id: "new".into(),
        created_at: at(30),
        ..prepare
    };
    store.save_prepare(&old).await.unwrap();
    store.save_prepare(&new).await.unwrap();
    assert_eq!(
        store.purge_prepares(at(20)).await.unwrap(),
        vec![old.prepared_sha256.clone()]
    );
    assert_eq!(store.take_prepare("old").await.unwrap(), None);
    assert!(store.take_prepare("new").await.unwrap().is_some());
}

async fn sessions_expire_end_and_die_with_their_token_and_only_a_hash_is_stored(backend: Backend) {
    let dir = TempDir::new("sessions");
    let store = open_store(backend, dir.path()).await.unwrap();
    let token = store
        .create_token(&admin(0), &TokenRole::Admin)
        .await
        .unwrap();
    assert!(
        store
            .open_session(&admin(1), "not-a-token", Duration::hours(10))
            .await
            .unwrap()
            .is_none()
    );
    let s = store
        .open_session(&admin(1), &token.secret, Duration::hours(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.secret.len(), 64);
    assert_ne!(s.secret, s.csrf);
    let live = store.session(&s.secret, at(60)).await.unwrap().unwrap();
    assert_eq!(live.principal.token_id, token.id);
    assert_eq!(live.csrf, s.csrf);
    // Expired at exactly ten hours.
    assert!(store.session(&s.secret, at(601)).await.unwrap().is_none());
    assert_eq!(store.purge_sessions(at(602)).await.unwrap(), 1);
    // The secret itself is nowhere in the database.
    let stored: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM sessions")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    assert!(stored.iter().all(|h| h != &s.secret));

    let s2 = store
        .open_session(&admin(2), &token.secret, Duration::hours(10))
        .await
        .unwrap()
        .unwrap();
    store.end_session(&s2.secret).await.unwrap();
    assert!(store.session(&s2.secret, at(3)).await.unwrap().is_none());

    let s3 = store
        .open_session(&admin(3), &token.secret, Duration::hours(10))
        .await
        .unwrap()
        .unwrap();
    store.revoke_token(&admin(4), &token.id).await.unwrap();
    assert!(store.session(&s3.secret, at(5)).await.unwrap().is_none());
    let actions: Vec<String> = store
        .audit_events(None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "session.open").count(), 3);
}

async fn a_unit_keeps_at_most_four_preparations_and_the_oldest_blobs_are_handed_back(
    backend: Backend,
) {
    let dir = TempDir::new("prepares-cap");
    let store = open_store(backend, dir.path()).await.unwrap();
    in_registration(&store, 2).await;
    store
        .freeze(&admin(4), COV, &sha("pdf r0"), &sha("docx"), &unit_ids(2))
        .await
        .unwrap();
    let row = |i: u32, unit: &str| PrepareRow {
        id: format!("{unit}-{i}"),
        covenant_id: COV.into(),
        unit_id: unit.into(),
        base_sha256: sha("pdf r0"),
        prepared_sha256: sha(&format!("prepared {unit} {i}")),
        created_at: at(10 + i64::from(i)),
    };
    for i in 0..MAX_PENDING_PREPARES {
        assert!(store.save_prepare(&row(i, "U01")).await.unwrap().is_empty());
    }
    // Another unit's preparations do not count against U01's.
    assert!(store.save_prepare(&row(0, "U02")).await.unwrap().is_empty());
    for i in MAX_PENDING_PREPARES..MAX_PENDING_PREPARES + 3 {
        let evicted = store.save_prepare(&row(i, "U01")).await.unwrap();
        let oldest = i - MAX_PENDING_PREPARES;
        assert_eq!(evicted, vec![row(oldest, "U01").prepared_sha256]);
        assert_eq!(
            store.take_prepare(&row(oldest, "U01").id).await.unwrap(),
            None
        );
    }
    let newest = MAX_PENDING_PREPARES + 2;
    assert!(
        store
            .take_prepare(&row(newest, "U01").id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.take_prepare("U02-0").await.unwrap().is_some());
}

/// Migration 0003 rebuilds `enrolments` and `certificates`: a database written by the two
/// earlier migrations keeps every enrolment and certificate, and its references.
#[tokio::test]
async fn upgrading_to_certificate_enrolments_keeps_enrolments_and_certificates() {
    let dir = TempDir::new("migrate-0003");
    let pool = migrated_below(dir.path(), 3).await;
    for sql in [
        "INSERT INTO blocs VALUES ('B', 'Khối', 'pem', '2021-01-01T00:00:00Z')",
        "INSERT INTO units VALUES ('B', 'U01', 'Đơn vị 1', 'leader')",
        "INSERT INTO enrolments (bloc_id, unit_id, key_kind, key_pem, subject_json, status, created_at)
         VALUES ('B', 'U01', 'csr', 'CSR', '{}', 'approved', '2021-01-01T00:00:00Z')",
        "INSERT INTO enrolments (bloc_id, unit_id, key_kind, key_pem, subject_json, status, created_at)
         VALUES ('B', 'U01', 'public_key', 'KEY', '{}', 'pending', '2021-01-02T00:00:00Z')",
        "INSERT INTO certificates (bloc_id, serial, unit_id, cert_pem, enrolment_id, issued_at)
         VALUES ('B', '0a', 'U01', 'CERT', 1, '2021-01-01T00:00:00Z')",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = Store::open(dir.path()).await.unwrap();
    let enrolments = store.list_enrolments("B").await.unwrap();
    assert_eq!(enrolments.len(), 2);
    assert_eq!(enrolments[0].key, EnrolmentKey::Csr("CSR".into()));
    assert_eq!(enrolments[1].status, EnrolmentStatus::Pending);
    let certs = store.list_certificates("B").await.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].enrolment_id, Some(1));
    // The new kind is accepted, and certificates still refer to enrolments.
    let stamp = Stamp::new("test", datetime!(2021-01-03 00:00 UTC));
    let id = store
        .enrol(
            &stamp,
            "B",
            "U01",
            &EnrolmentKey::Certificate("LEAF".into()),
            &json!({}),
        )
        .await
        .unwrap();
    store
        .approve_enrolment(&stamp, id, "LEAF", "0b")
        .await
        .unwrap();
    let broken = sqlx::query(
        "INSERT INTO certificates (bloc_id, serial, unit_id, cert_pem, enrolment_id, issued_at)
         VALUES ('B', '0c', 'U01', 'X', 99, '2021-01-01T00:00:00Z')",
    )
    .execute(&store.pool)
    .await;
    assert!(broken.is_err(), "the reference to enrolments is enforced");
}

async fn a_seal_is_recorded_only_after_its_leader_and_the_unit_is_complete_with_both(
    backend: Backend,
) {
    let dir = TempDir::new("seals");
    let store = open_store(backend, dir.path()).await.unwrap();
    in_registration(&store, 2).await;
    let fields: Vec<String> = ["U01", "U01-dau", "U02", "U02-dau"]
        .into_iter()
        .map(String::from)
        .collect();
    // A seal needs its leader among the signers.
    let lonely = store
        .freeze(&admin(4), COV, &sha("pdf r0"), &sha("docx"), &fields[1..2])
        .await
        .unwrap_err();
    assert!(matches!(lonely, StoreError::Invalid(_)), "{lonely:?}");
    let r0 = store
        .freeze(&admin(4), COV, &sha("pdf r0"), &sha("docx"), &fields)
        .await
        .unwrap();
    assert_eq!(r0.unsigned_fields, fields);
    assert_eq!(r0.unsigned_units, ["U01", "U02"]);
    let events = audit_count(&store).await;
    // The seal before its leader: refused, nothing written.
    let early = store
        .append_revision(&admin(5), COV, &r0.pdf_sha256, &sha("r1"), "U01-dau")
        .await
        .unwrap_err();
    assert!(conflict(early).contains("follows its leader"));
    assert_eq!(audit_count(&store).await, events);
    assert_eq!(store.current_revision(COV).await.unwrap().index, 0);
    // Leader, then seal: the unit is complete only then.
    let r1 = store
        .append_revision(&admin(5), COV, &r0.pdf_sha256, &sha("r1"), "U01")
        .await
        .unwrap();
    assert_eq!(r1.seat, Some(Seat::Leader));
    assert!(r1.signed_units.is_empty());
    assert_eq!(r1.signed_fields, ["U01"]);
    let r2 = store
        .append_revision(&admin(6), COV, &r1.pdf_sha256, &sha("r2"), "U01-dau")
        .await
        .unwrap();
    assert_eq!(
        (r2.unit_id.as_deref(), r2.seat),
        (Some("U01"), Some(Seat::Seal))
    );
    assert_eq!(r2.signed_units, ["U01"]);
    assert_eq!(r2.unsigned_fields, ["U02", "U02-dau"]);
    // Twice the same seal: a conflict.
    let again = store
        .append_revision(&admin(7), COV, &r2.pdf_sha256, &sha("r3"), "U01-dau")
        .await
        .unwrap_err();
    assert!(conflict(again).contains("already signed"));
    let r3 = store
        .append_revision(&admin(7), COV, &r2.pdf_sha256, &sha("r3"), "U02")
        .await
        .unwrap();
    assert_eq!(store.get_covenant(COV).await.unwrap().state, State::Signing);
    store
        .append_revision(&admin(8), COV, &r3.pdf_sha256, &sha("r4"), "U02-dau")
        .await
        .unwrap();
    assert_eq!(
        store.get_covenant(COV).await.unwrap().state,
        State::Completed
    );
    let seal_event = store
        .audit_events(Some(COV))
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "revision.append")
        .unwrap();
    assert_eq!(seal_event.details["seat"], "seal");
}

#[tokio::test]
async fn upgrading_to_seals_keeps_tokens_sessions_signers_and_revisions() {
    let dir = TempDir::new("migrate-0005");
    let pool = migrated_below(dir.path(), 5).await;
    let secret = "a".repeat(64);
    let secret_hash = {
        use sha2::Digest;
        sha2::Sha256::digest(secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for sql in [
        "INSERT INTO blocs VALUES ('B', 'Khối', 'pem', '2021-01-01T00:00:00Z')".to_owned(),
        "INSERT INTO units VALUES ('B', 'U01', 'Đơn vị 1', 'leader')".to_owned(),
        format!(
            "INSERT INTO tokens (id, secret_hash, role, bloc_id, unit_id, created_at)
             VALUES ('t1', '{secret_hash}', 'leader', 'B', 'U01', '2021-01-01T00:00:00Z')"
        ),
        "INSERT INTO sessions VALUES ('s', 't1', 'c', '2021-01-01T00:00:00Z', '2099-01-01T00:00:00Z')"
            .to_owned(),
        "INSERT INTO covenants VALUES ('C', 'B', 2021, 'signing', '{}', NULL,
             '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z')"
            .to_owned(),
        "INSERT INTO signers VALUES ('C', 'U01')".to_owned(),
        format!(
            "INSERT INTO revisions (covenant_id, idx, pdf_sha256, unit_id, created_at, kind)
             VALUES ('C', 0, '{}', NULL, '2021-01-01T00:00:00Z', 'rendered'),
                    ('C', 1, '{}', 'U01', '2021-01-02T00:00:00Z', 'signature')",
            sha("r0"),
            sha("r1")
        ),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = Store::open(dir.path()).await.unwrap();
    let who = store.authenticate(&secret).await.unwrap().unwrap();
    assert_eq!(who.token_id, "t1");
    let current = store.current_revision("C").await.unwrap();
    assert_eq!(current.index, 1);
    assert_eq!(current.seat, Some(Seat::Leader));
    assert_eq!(current.signed_units, ["U01"]);
    assert!(current.unsigned_fields.is_empty());
    // Clerks' tokens are accepted now.
    store
        .create_token(
            &admin(1),
            &TokenRole::Unit {
                bloc_id: "B".into(),
                unit_id: "U01".into(),
                kind: UnitKind::Clerk,
            },
        )
        .await
        .unwrap();
}

/// A database in `dir` with the migrations before `version` only, as an older release left it.
async fn migrated_below(dir: &Path, version: i64) -> sqlx::SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(dir.join("giaouoc.db"))
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/sqlite"
    )))
    .await
    .unwrap();
    let old: Vec<_> = before
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    assert_eq!(old.len(), usize::try_from(version - 1).unwrap());
    before.migrations = std::borrow::Cow::Owned(old);
    before.run(&pool).await.unwrap();
    pool
}

async fn a_task_lease_has_one_holder_until_it_runs_out(backend: Backend) {
    let dir = TempDir::new("leases");
    let store = open_store(backend, dir.path()).await.unwrap();
    let term = Duration::minutes(4);
    assert!(store.take_lease("purge", "a", at(0), term).await.unwrap());
    assert!(!store.take_lease("purge", "b", at(1), term).await.unwrap());
    // The holder renews; another task's lease is its own.
    assert!(store.take_lease("purge", "a", at(3), term).await.unwrap());
    assert!(store.take_lease("renewal", "b", at(3), term).await.unwrap());
    assert!(!store.take_lease("purge", "b", at(6), term).await.unwrap());
    // Run out (a stopped instance): the next one takes it.
    assert!(store.take_lease("purge", "b", at(7), term).await.unwrap());
    assert!(!store.take_lease("purge", "a", at(8), term).await.unwrap());
}

/// A store moved from SQLite to PostgreSQL holds the same rows and chains; a referenced
/// document missing from the source stops the copy before any row lands; a non-empty target
/// is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copying_a_store_moves_every_row_and_blob_or_nothing() {
    let dir = TempDir::new("copy");
    let source = open_store(Backend::Sqlite, dir.path()).await.unwrap();
    let source_blobs = BlobStore::open(dir.path()).await.unwrap();
    in_registration(&source, 3).await;
    let r0 = source_blobs.put(b"%PDF r0").await.unwrap();
    let docx = source_blobs.put(b"PK docx").await.unwrap();
    source
        .freeze(&admin(4), COV, &r0, &docx, &unit_ids(3))
        .await
        .unwrap();
    let r1 = source_blobs.put(b"%PDF r1").await.unwrap();
    source
        .append_revision(&Stamp::new("U01", at(5)), COV, &r0, &r1, "U01")
        .await
        .unwrap();
    assert!(uncovered_tables(&source).await.unwrap().is_empty());

    // A missing document: refused before any row is written.
    let target_dir = TempDir::new("copy-target");
    let target = open_store(Backend::Postgres, target_dir.path())
        .await
        .unwrap();
    let target_blobs = BlobStore::open(target_dir.path()).await.unwrap();
    assert!(uncovered_tables(&target).await.unwrap().is_empty());
    let empty_blobs = BlobStore::open(&dir.path().join("elsewhere"))
        .await
        .unwrap();
    let err = copy_store(&source, &empty_blobs, &target, &target_blobs)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(target.is_empty().await.unwrap());

    let report = copy_store(&source, &source_blobs, &target, &target_blobs)
        .await
        .unwrap();
    assert!(report.audit.ok);
    assert_eq!(report.blobs, 3);
    assert_eq!(
        target.revisions(COV).await.unwrap(),
        source.revisions(COV).await.unwrap()
    );
    assert_eq!(
        target.audit_events(None).await.unwrap(),
        source.audit_events(None).await.unwrap()
    );
    assert_eq!(target_blobs.get(&r1).await.unwrap(), b"%PDF r1");
    // Appending on the copy continues the chain.
    let r2 = target_blobs.put(b"%PDF r2").await.unwrap();
    target
        .append_revision(&Stamp::new("U02", at(6)), COV, &r1, &r2, "U02")
        .await
        .unwrap();
    assert!(target.verify_audit_chain().await.unwrap().ok);

    let again = copy_store(&source, &source_blobs, &target, &target_blobs).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}
