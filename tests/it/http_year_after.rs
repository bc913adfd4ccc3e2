//! The bloc's year after the signing, over HTTP on the reference bloc with its scoring table:
//! mid-year results by the units (one returned and corrected, one unit without pledges, one
//! that does not report), evidence files, year-end results, own and agreed scores, the
//! ranking with a tie, the year-end conference and next year's covenant.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use ed25519_dalek::SigningKey;

use crate::helpers::{fixture, reference_json};
use crate::http_support::*;

fn scoring() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("scoring-100.json")).unwrap()).unwrap()
}

/// Results for a unit: 60 % of each numeric target (U06's first pledge: 493.827,2 of
/// 400.000), a sentence for the others.
fn results_for(unit: &Value) -> Value {
    let id = unit["id"].as_str().unwrap();
    let pledges: Vec<Value> = unit["registration"]["pledges"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, p)| match p["target"].as_f64() {
            Some(_) if id == "U06" && i == 0 => json!({"achieved": 493_827.2}),
            Some(t) => json!({"achieved": t * 0.6}),
            None => json!({"text": "Đã triển khai, đang thực hiện theo kế hoạch."}),
        })
        .collect();
    json!({"pledges": pledges, "submit": true})
}

async fn upload(app: &TestApp, token: &str, unit: &str, bytes: Vec<u8>) -> Reply {
    app.send(
        Request::post(format!(
            "/covenants/{COVENANT}/evidence/{unit}?name=bien-ban.pdf"
        ))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(bytes))
        .unwrap(),
    )
    .await
}

/// Issues the year's document `name` of the covenant (its leader unit), checks its signer
/// fields, and returns its id.
async fn issue(app: &TestApp, token: &str, name: &str, fields: &[&str]) -> String {
    let doc = issue_year_document(app, token, name).await;
    assert_eq!(doc["state"], "frozen", "{doc}");
    assert_eq!(doc["kind"], name);
    assert_eq!(doc["parent_id"], COVENANT);
    let id = doc["id"].as_str().unwrap().to_owned();
    let unsigned = app.state.store.current_revision(&id).await.unwrap();
    assert_eq!(unsigned.unsigned_fields, fields, "{id}");
    id
}

/// Signs field `field` of document `id` with `key` (prepare with `token`, sign, complete).
async fn sign_field(app: &TestApp, id: &str, field: &str, token: &str, key: &SigningKey) -> Value {
    let prepared = app
        .post(
            &format!("/covenants/{id}/signatures/{field}/prepare"),
            Some(token),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let signature = sign_b64(key, prepared["to_sign"].as_str().unwrap());
    app.post(
        &format!("/covenants/{id}/signatures/{field}/complete"),
        None,
        json!({"prepare_id": prepared["prepare_id"], "signature": signature}),
    )
    .await
    .expect(StatusCode::OK)
    .json()
}

/// pyHanko's AdES validation (the bloc CA and the TSA as roots) of the current PDF of document `id`, saved as
/// `dir/{id}.pdf`: every signature intact and trusted, `signatures` of them.
async fn judged_by_pyhanko(app: &TestApp, dir: &std::path::Path, id: &str, signatures: usize) {
    let pdf = app
        .get(&format!("/covenants/{id}/document.pdf"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .body;
    let path = dir.join(format!("{id}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    for (name, uri) in [
        ("ca.pem", format!("/blocs/{BLOC}/ca.pem")),
        ("tsa.pem", "/tsa/ca.pem".to_owned()),
    ] {
        let pem = app.get(&uri, None).await.expect(StatusCode::OK).body;
        std::fs::write(dir.join(name), &pem).unwrap();
    }
    let roots = [dir.join("ca.pem"), dir.join("tsa.pem")];
    let roots: Vec<&std::path::Path> = roots.iter().map(|p| p.as_path()).collect();
    // The test clock signs in January 2021, so the leaders' certificates have expired since:
    // pyHanko judges at an hour after the signing, from the file's validation data.
    let text = giaouoc::test_support::pyhanko_adesverify(&roots, &path, "2021-01-22T09:00:00Z");
    assert_eq!(
        text.matches(":INTACT:TRUSTED").count(),
        signatures,
        "{id}: {text}"
    );
    assert!(!text.contains("ILLEGAL"), "{id}: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_year_after_the_signing_over_http() {
    let app = TestApp::new("year-after").await;
    let base = format!("/covenants/{COVENANT}");
    // The reference covenant with the scoring table; U16 registers no pledges.
    let mut input: Value = serde_json::from_slice(&reference_json()).unwrap();
    input["covenant"]["scoring"] = scoring();
    let tokens = create_from(&app, serde_json::to_vec(&input).unwrap()).await;
    let u01 = officer(&tokens, "U01").to_owned();
    app.post(&format!("{base}/open-registration"), Some(&u01), json!({}))
        .await
        .expect(StatusCode::OK);
    let mut roster = units();
    roster[15]["registration"]["pledges"] = json!([]);
    for u in &roster {
        let unit = u["id"].as_str().unwrap();
        let mut data = u["registration"].clone();
        data["submit"] = json!(true);
        app.put(
            &format!("{base}/registrations/{unit}"),
            Some(officer(&tokens, unit)),
            data,
        )
        .await
        .expect(StatusCode::OK);
        app.post(
            &format!("{base}/registrations/{unit}/review"),
            Some(&u01),
            json!({"accept": true}),
        )
        .await
        .expect(StatusCode::OK);
    }
    // Nothing of the year before the signing.
    app.put(
        &format!("{base}/results/mid_year/U03"),
        Some(officer(&tokens, "U03")),
        results_for(&roster[2]),
    )
    .await
    .expect(StatusCode::CONFLICT);
    freeze(&app, &tokens).await;
    enrol_all(&app, &tokens).await;
    for i in 0..16 {
        sign_once(&app, &tokens, i).await.expect(StatusCode::OK);
    }
    let shown = app
        .get(&base, Some(&u01))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(shown["state"], "completed");

    // Evidence: a PDF is kept by its hash; junk and oversized files are refused.
    let pdf = b"%PDF-1.7\n% bien ban kiem tra cheo\n%%EOF\n".to_vec();
    let u03 = officer(&tokens, "U03").to_owned();
    let file = upload(&app, &u03, "U03", pdf.clone())
        .await
        .expect(StatusCode::CREATED)
        .json();
    let sha = file["sha256"].as_str().unwrap().to_owned();
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["file_name"], "bien-ban.pdf");
    let junk = upload(&app, &u03, "U03", b"MZ not a pdf".to_vec())
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&junk.body).contains("PDF, PNG hoặc JPEG"));
    let mut big = b"%PDF-".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    upload(&app, &u03, "U03", big)
        .await
        .expect(StatusCode::PAYLOAD_TOO_LARGE);
    upload(&app, officer(&tokens, "U04"), "U03", pdf.clone())
        .await
        .expect(StatusCode::FORBIDDEN);
    let back = app
        .get(
            &format!("{base}/evidence/U03/{sha}"),
            Some(officer(&tokens, "U09")),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(back.body.as_ref(), pdf.as_slice());

    // Mid-year: every unit but U15 reports; U03 attaches its evidence; U16 (no pledges) a
    // summary; a unit's numbers are checked against its pledges at their paths.
    let wrong = app
        .put(
            &format!("{base}/results/mid_year/U02"),
            Some(officer(&tokens, "U02")),
            json!({"pledges": [{"text": "x"}], "submit": true}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    let paths: Vec<&str> = wrong["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"pledges") && paths.contains(&"pledges[0].achieved"),
        "{wrong}"
    );
    // Another unit's file cannot be named as evidence.
    let mut borrowed = results_for(&roster[3]);
    borrowed["evidence"] = json!([sha]);
    app.put(
        &format!("{base}/results/mid_year/U04"),
        Some(officer(&tokens, "U04")),
        borrowed,
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    for u in &roster {
        let unit = u["id"].as_str().unwrap();
        if unit == "U15" {
            continue;
        }
        let mut body = if unit == "U16" {
            json!({"summary": "Hoàn thành các nhiệm vụ được giao trong 6 tháng đầu năm.", "submit": true})
        } else {
            results_for(u)
        };
        if unit == "U03" {
            body["evidence"] = json!([sha]);
        }
        let saved = app
            .put(
                &format!("{base}/results/mid_year/{unit}"),
                Some(officer(&tokens, unit)),
                body,
            )
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(saved["status"], "submitted", "{unit}");
        let review = if unit == "U05" {
            json!({"accept": false, "comment": "Đề nghị bổ sung số liệu chỉ tiêu thứ hai."})
        } else {
            json!({"accept": true})
        };
        app.post(
            &format!("{base}/results/mid_year/{unit}/review"),
            Some(&u01),
            review,
        )
        .await
        .expect(StatusCode::OK);
    }
    // A file uploaded by mistake is removed by its unit (not by another); one attached to a
    // report stays until the report lets it go.
    let mistake = upload(&app, &u03, "U03", b"%PDF-1.7\n% nham tep\n%%EOF\n".to_vec())
        .await
        .expect(StatusCode::CREATED)
        .json();
    let mistake_uri = format!(
        "{base}/evidence/U03/{}",
        mistake["sha256"].as_str().unwrap()
    );
    let delete = |uri: &str, token: &str| {
        app.send(
            Request::delete(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
    };
    delete(&mistake_uri, officer(&tokens, "U04"))
        .await
        .expect(StatusCode::FORBIDDEN);
    delete(&mistake_uri, &u03)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get(&mistake_uri, Some(&u03))
        .await
        .expect(StatusCode::NOT_FOUND);
    delete(&mistake_uri, &u03)
        .await
        .expect(StatusCode::NOT_FOUND);
    let in_use = delete(&format!("{base}/evidence/U03/{sha}"), &u03)
        .await
        .expect(StatusCode::CONFLICT)
        .json();
    assert_eq!(in_use["error"], "evidence_in_use");

    // U05 corrects and submits again; accepted results cannot be edited.
    let returned = app
        .get(
            &format!("{base}/results/mid_year/U05"),
            Some(officer(&tokens, "U05")),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(returned["status"], "returned");
    assert_eq!(
        returned["comment"],
        "Đề nghị bổ sung số liệu chỉ tiêu thứ hai."
    );
    let again = app
        .put(
            &format!("{base}/results/mid_year/U05"),
            Some(officer(&tokens, "U05")),
            results_for(&roster[4]),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(again["version"], 2);
    app.post(
        &format!("{base}/results/mid_year/U05/review"),
        Some(&u01),
        json!({"accept": true}),
    )
    .await
    .expect(StatusCode::OK);
    app.put(
        &format!("{base}/results/mid_year/U05"),
        Some(officer(&tokens, "U05")),
        results_for(&roster[4]),
    )
    .await
    .expect(StatusCode::CONFLICT);

    let mid = app
        .get(&format!("{base}/results/mid_year"), Some(&u01))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(mid["reported"], 15);
    let unit_of = |v: &Value, id: &str| {
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_id"] == id)
            .unwrap()
            .clone()
    };
    let u06 = unit_of(&mid, "U06");
    assert_eq!(u06["pledges"][0]["achieved_text"], "493.827,2 lượt");
    assert_eq!(u06["pledges"][0]["percent_text"], "123,5%");
    assert_eq!(unit_of(&mid, "U03")["pledges"][0]["percent_text"], "60%");
    let u15 = unit_of(&mid, "U15");
    assert_eq!(
        (u15["reported"].clone(), u15["status"].clone()),
        (json!(false), json!("not_started"))
    );
    assert_eq!(u15["note"], "Chưa báo cáo kết quả");
    let u16 = unit_of(&mid, "U16");
    assert_eq!(u16["no_pledges"], true);
    assert!(
        u16["note"]
            .as_str()
            .unwrap()
            .contains("không đăng ký chỉ tiêu")
    );
    assert!(u16["summary"].as_str().unwrap().contains("6 tháng đầu năm"));
    // U11's zero target has no percentage (nothing to divide by), said as null.
    assert!(unit_of(&mid, "U11")["pledges"][1]["percent"].is_null());

    // The mid-year report: issued once by the leader unit, signed by the head of the bloc
    // (U01's leader) like the covenant; a member unit cannot issue it, nor issue it twice.
    app.post(
        &format!("{base}/year-documents/so-ket-6-thang"),
        Some(&u03),
        json!({}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let report_id = issue(&app, &u01, "so-ket-6-thang", &["U01"]).await;
    assert_eq!(report_id, format!("{COVENANT}-so-ket-6-thang"));
    let again = app
        .post(
            &format!("{base}/year-documents/so-ket-6-thang"),
            Some(&u01),
            json!({}),
        )
        .await
        .expect(StatusCode::CONFLICT)
        .json();
    assert_eq!(again["error"], "already_issued");
    // Only U01's leader signs it: another unit's field is not there.
    app.post(
        &format!("/covenants/{report_id}/signatures/U02/prepare"),
        Some(leader(&tokens, "U02")),
        json!({}),
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    let signed = sign_field(
        &app,
        &report_id,
        "U01",
        leader(&tokens, "U01"),
        &leader_key(0),
    )
    .await;
    assert_eq!(signed["signed"], "1/1");
    assert_eq!(signed["state"], "completed");
    // A year's document is not a covenant: no results, registrations or next year on it.
    let refused = app
        .put(
            &format!("/covenants/{report_id}/results/mid_year/U03"),
            Some(&u03),
            results_for(&roster[2]),
        )
        .await
        .expect(StatusCode::CONFLICT)
        .json();
    assert_eq!(refused["error"], "not_a_covenant");

    // Year end: every unit reports and is accepted.
    for u in &roster {
        let unit = u["id"].as_str().unwrap();
        let body = if unit == "U16" {
            json!({"summary": "Hoàn thành xuất sắc nhiệm vụ năm.", "submit": true})
        } else {
            results_for(u)
        };
        app.put(
            &format!("{base}/results/year_end/{unit}"),
            Some(officer(&tokens, unit)),
            body,
        )
        .await
        .expect(StatusCode::OK);
        app.post(
            &format!("{base}/results/year_end/{unit}/review"),
            Some(&u01),
            json!({"accept": true}),
        )
        .await
        .expect(StatusCode::OK);
    }
    let end = app
        .get(&format!("{base}/results/year_end"), Some(&u01))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(end["reported"], 16);

    // Scores: each unit its own, the bloc its agreed ones; U02 and U03 tie; U16 has no agreed
    // score yet.
    let full: serde_json::Map<String, Value> = scoring()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["criteria"].as_array().unwrap().clone())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["max_points"].clone(),
            )
        })
        .collect();
    let sheet = |first: f64, bonus: f64| {
        let mut points = full.clone();
        points.insert("1.1".into(), json!(first));
        points.insert("T1".into(), json!(bonus));
        json!({"points": points})
    };
    let bad = app
        .put(
            &format!("{base}/scores/U03"),
            Some(&u03),
            json!({"points": {"1.1": 31}}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .json();
    let paths: Vec<&str> = bad["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"points.1.1") && paths.contains(&"points.4.2"),
        "{bad}"
    );
    for (i, u) in roster.iter().enumerate() {
        let unit = u["id"].as_str().unwrap();
        let own = app
            .put(
                &format!("{base}/scores/{unit}"),
                Some(officer(&tokens, unit)),
                sheet(30.0, 1.0),
            )
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(own["total"], 101.0);
        if unit == "U16" {
            continue;
        }
        let first = match unit {
            "U02" | "U03" => 29.5,
            _ => 29.0 - i as f64 * 0.25,
        };
        app.put(
            &format!("{base}/scores/{unit}/agreed"),
            Some(&u01),
            sheet(first, 0.5),
        )
        .await
        .expect(StatusCode::OK);
    }
    app.put(
        &format!("{base}/scores/U04/agreed"),
        Some(&u03),
        sheet(30.0, 0.0),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let scores = app
        .get(&format!("{base}/scores"), Some(&u03))
        .await
        .expect(StatusCode::OK)
        .json();
    let ranking = scores["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 15);
    let top: Vec<(String, i64, bool, String)> = ranking[..3]
        .iter()
        .map(|r| {
            (
                r["unit_id"].as_str().unwrap().to_owned(),
                r["rank"].as_i64().unwrap(),
                r["tied"].as_bool().unwrap(),
                r["total_text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        top,
        vec![
            ("U02".to_owned(), 1, true, "100".to_owned()),
            ("U03".to_owned(), 1, true, "100".to_owned()),
            ("U01".to_owned(), 3, false, "99,5".to_owned()),
        ]
    );
    assert_eq!(ranking[0]["rank_text"], "Đồng hạng 1");
    assert_eq!(scores["unscored"][0]["unit_id"], "U16");
    assert!(scores["note"].as_str().unwrap().contains("đồng hạng"));

    // The year-end conference: U02 gets the flag vote and is elected head, U05 deputy.
    let conference = json!({
        "date": "2021-12-20", "place": "Thành phố Hạ Long",
        "chair": {"name": "Đào Quang Vinh", "position": "Giám đốc", "unit": "U01"},
        "secretary": {"name": "Trần Thị Hoa", "position": "Chuyên viên", "unit": "U02"},
        "attending": roster.iter().filter(|u| u["id"] != "U15").map(|u| u["id"].clone()).collect::<Vec<_>>(),
        "flag_votes": {"U02": 10, "U03": 5},
        "election": {"head": "U02", "head_votes": 14, "deputy": "U05", "deputy_votes": 13},
    });
    let mut too_many = conference.clone();
    too_many["flag_votes"]["U02"] = json!(16);
    app.put(&format!("{base}/conference"), Some(&u01), too_many)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    app.put(&format!("{base}/conference"), Some(&u01), conference)
        .await
        .expect(StatusCode::OK);
    let recorded = app
        .get(&format!("{base}/conference"), Some(officer(&tokens, "U09")))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(recorded["flag_unit"], "U02");

    // A draft of the minutes can be read before they are issued.
    let draft = app
        .get(
            &format!("{base}/year-documents/bien-ban-tong-ket.pdf"),
            Some(&u03),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(draft.header("content-type"), "application/pdf");

    // The minutes: the chair (U01's leader) and the secretary (Trần Thị Hoa of U02, her own
    // certificate from the bloc CA, signing with U02's officer token); the score table: the
    // head of the bloc.
    let minutes_id = issue(&app, &u01, "bien-ban-tong-ket", &["U01", "U02-thu-ky"]).await;
    let scores_id = issue(&app, &u01, "bang-tong-hop-diem", &["U01"]).await;
    let secretary_key = SigningKey::from_bytes(&[42; 32]);
    let enrolment = app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(leader(&tokens, "U02")),
            json!({
                "unit": "U02",
                "public_key_pem": giaouoc::pki::verifying_key_to_pem(&secretary_key.verifying_key()).unwrap(),
                "full_name": "Trần Thị Hoa", "title": "Chuyên viên",
            }),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    app.post(
        &format!("/enrolments/{}/approve", enrolment["id"]),
        Some(&app.admin),
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    // The secretary's field is taken by her unit's officer, not by another unit's.
    app.post(
        &format!("/covenants/{minutes_id}/signatures/U02-thu-ky/prepare"),
        Some(&u03),
        json!({}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let chair = sign_field(
        &app,
        &minutes_id,
        "U01",
        leader(&tokens, "U01"),
        &leader_key(0),
    )
    .await;
    assert_eq!(chair["signed"], "1/2");
    let secretary = sign_field(
        &app,
        &minutes_id,
        "U02-thu-ky",
        officer(&tokens, "U02"),
        &secretary_key,
    )
    .await;
    assert_eq!(secretary["signed"], "2/2");
    assert_eq!(secretary["state"], "completed");
    sign_field(
        &app,
        &scores_id,
        "U01",
        leader(&tokens, "U01"),
        &leader_key(0),
    )
    .await;

    // Each signed document: pyHanko accepts every signature; archived with its report.
    let dir = crate::helpers::temp_dir("year-documents");
    for (id, signatures) in [(&report_id, 1), (&minutes_id, 2), (&scores_id, 1)] {
        judged_by_pyhanko(&app, &dir, id, signatures).await;
        let archived = app
            .post(&format!("/covenants/{id}/archive"), Some(&u01), json!({}))
            .await
            .expect(StatusCode::CREATED)
            .json();
        assert_eq!(archived["verdict"], "valid", "{id}: {archived}");
        assert_eq!(archived["level"], "B-LTA", "{id}: {archived}");
    }
    let listed = app
        .get(&format!("{base}/year-documents"), Some(&u03))
        .await
        .expect(StatusCode::OK)
        .json();
    let states: Vec<&str> = listed["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["archived"; 3]);
    // The signer printed under the secretary's field is hers, as the verifier reads it.
    let verified = post_pdf(
        &app,
        "/verify",
        None,
        std::fs::read(dir.join(format!("{minutes_id}.pdf"))).unwrap(),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    let names: Vec<&str> = verified["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["signer"]["subject_cn"].as_str())
        .collect();
    assert!(names.contains(&"Trần Thị Hoa"), "{verified}");

    // The signed PDFs and their DOCX carry what was recorded.
    let mut texts = std::collections::BTreeMap::new();
    for (name, id) in [
        ("so-ket-6-thang", &report_id),
        ("bien-ban-tong-ket", &minutes_id),
        ("bang-tong-hop-diem", &scores_id),
    ] {
        let docx = app
            .get(&format!("/covenants/{id}/document.docx"), Some(&u03))
            .await
            .expect(StatusCode::OK);
        let docx_text = crate::render_docx::docx_text(&docx.body);
        let pdf_text = crate::helpers::fold(&crate::helpers::pdf_text_without_page_numbers(
            &dir.join(format!("{id}.pdf")),
        ));
        texts.insert(name, (pdf_text, docx_text));
    }
    let has = |name: &str, want: &str| {
        let (pdf, docx) = &texts[name];
        let want = crate::helpers::fold(want);
        assert!(pdf.contains(&want), "{name}.pdf lacks {want:?}");
        assert!(docx.contains(&want), "{name}.docx lacks {want:?}");
    };
    for u in &roster {
        let unit_name = u["name"].as_str().unwrap();
        has("so-ket-6-thang", unit_name);
        has("bang-tong-hop-diem", unit_name);
        for p in u["registration"]["pledges"].as_array().unwrap() {
            has("so-ket-6-thang", p["text"].as_str().unwrap());
        }
    }
    for want in [
        "BÁO CÁO",
        "Chưa báo cáo kết quả",
        "493.827,2 lượt",
        "123,5%",
        "6 tháng đầu năm",
    ] {
        has("so-ket-6-thang", want);
    }
    for want in [
        "BIÊN BẢN",
        "Đào Quang Vinh",
        "Trần Thị Hoa",
        "Thành phố Hạ Long",
        "ngày 20 tháng 12 năm 2021",
        "Có mặt 15/16 đơn vị",
        "Vắng mặt",
        "10/15",
        "BẦU TRƯỞNG KHỐI, PHÓ TRƯỞNG KHỐI NĂM 2022",
        "14/15 phiếu",
        "13/15 phiếu",
        "THƯ KÝ",
        "CHỦ TRÌ HỘI NGHỊ",
    ] {
        has("bien-ban-tong-ket", want);
    }
    for want in [
        "BẢNG TỔNG HỢP ĐIỂM",
        "Đồng hạng 1",
        "Hạng 3",
        "99,5",
        "Chưa chấm",
        "thang điểm 100",
    ] {
        has("bang-tong-hop-diem", want);
    }
    app.get(&format!("{base}/year-documents/khac.pdf"), Some(&u03))
        .await
        .expect(StatusCode::NOT_FOUND);

    // Next year's covenant in one action: the elected head leads it, registration is open,
    // every registration starts empty; only once.
    let next = app
        .post(
            &format!("{base}/next-year"),
            Some(&u01),
            json!({"remove_units": ["U15"]}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(next["id"], "KTD-VHXH-QN-2022");
    assert_eq!(next["state"], "registration");
    let stored = app
        .state
        .store
        .get_covenant("KTD-VHXH-QN-2022")
        .await
        .unwrap();
    let roles: Vec<(String, String)> = stored.input["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_owned(),
                u["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(roles.len(), 15);
    assert!(roles.contains(&("U02".into(), "leader".into())));
    assert!(roles.contains(&("U05".into(), "deputy".into())));
    assert!(roles.contains(&("U01".into(), "member".into())));
    assert_eq!(stored.input["covenant"]["scoring"], scoring());
    assert!(
        stored.input["covenant"]["title"]
            .as_str()
            .unwrap()
            .contains("2022")
    );
    // The new head's officer opens the registration of its units.
    let reg = app
        .get("/covenants/KTD-VHXH-QN-2022/registrations/U03", Some(&u03))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(reg["status"], "not_started");
    assert_eq!(reg["data"]["pledges"], json!([]));
    // U01 still leads the 2021 covenant (its own roster) while U02 leads 2022: the 2021
    // covenant is made into next year's once; 2022's registrations are U02's to review.
    app.post(&format!("{base}/next-year"), Some(&u01), json!({}))
        .await
        .expect(StatusCode::CONFLICT);
    app.post(
        "/covenants/KTD-VHXH-QN-2022/registrations/U03/review",
        Some(&u01),
        json!({"accept": true}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    let u03_2022 = app
        .put(
            "/covenants/KTD-VHXH-QN-2022/registrations/U03",
            Some(&u03),
            json!({"pledges": [{"text": "Tư vấn việc làm cho 62.000 lượt người.", "target": 62000, "unit": "lượt người"}], "submit": true}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(u03_2022["status"], "submitted");
    app.post(
        "/covenants/KTD-VHXH-QN-2022/registrations/U03/review",
        Some(officer(&tokens, "U02")),
        json!({"accept": true}),
    )
    .await
    .expect(StatusCode::OK);
    // And the old head still closes its year: its year-end results stay reviewable by U01.
    app.put(
        &format!("{base}/scores/U16/agreed"),
        Some(&u01),
        sheet(28.0, 0.0),
    )
    .await
    .expect(StatusCode::OK);
    let chain = app.state.store.verify_audit_chain().await.unwrap();
    assert!(chain.ok, "{chain:?}");
    let actions: Vec<String> = app
        .state
        .store
        .audit_events(Some(COVENANT))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "evidence.add",
        "evidence.remove",
        "results.save",
        "results.review",
        "score.save",
        "conference.save",
        "year_document.issue",
        "covenant.next_year",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} not audited");
    }
}
