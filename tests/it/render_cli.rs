//! `giaouoc render`: outputs, errors, exit codes, nothing half-written.

use crate::helpers::*;

#[test]
fn render_writes_pdf_and_reports_fields() {
    let dir = temp_dir("cli-ok");
    let pdf = dir.join("out.pdf");
    let out = giaouoc(&[
        "render",
        "--input",
        fixture("covenant-2021-quang-ninh.json").to_str().unwrap(),
        "--pdf",
        pdf.to_str().unwrap(),
        "--fields",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let fields: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fields.as_array().unwrap().len(), 16);
    assert_eq!(fields[6]["name"], "U07");
}

/// Each broken input: (what is broken, a mutation, a fragment of the expected message).
#[allow(clippy::type_complexity)]
fn broken_inputs() -> Vec<(
    &'static str,
    Box<dyn Fn(&mut serde_json::Value)>,
    &'static str,
)> {
    vec![
        (
            "missing signer name",
            Box::new(|v| {
                v["units"][6]["signer"]
                    .as_object_mut()
                    .unwrap()
                    .remove("full_name");
            }),
            "units[6].signer.full_name: thiếu trường bắt buộc",
        ),
        (
            "duplicate unit id",
            Box::new(|v| v["units"][3]["id"] = "U01".into()),
            "units[3].id: mã đơn vị \"U01\" bị trùng",
        ),
        (
            "two leaders",
            Box::new(|v| v["units"][4]["role"] = "leader".into()),
            "units[4].role: chỉ được có một đơn vị Trưởng khối",
        ),
        (
            "no leader",
            Box::new(|v| v["units"][0]["role"] = "member".into()),
            "units: cần đúng một đơn vị Trưởng khối",
        ),
        (
            "two deputies",
            Box::new(|v| v["units"][5]["role"] = "deputy".into()),
            "units[5].role: chỉ được có tối đa một đơn vị Phó trưởng khối",
        ),
        (
            "unknown authority",
            Box::new(|v| v["units"][8]["signer"]["authority"] = "TL.".into()),
            "units[8].signer.authority: thẩm quyền ký \"TL.\" không hợp lệ",
        ),
        (
            "authority without principal position",
            Box::new(|v| v["units"][9]["signer"]["authority"] = "Q.".into()),
            "units[9].signer.principal_position: bắt buộc khi ký \"Q.\"",
        ),
        (
            "invalid date",
            Box::new(|v| v["covenant"]["date"] = "2021-02-30".into()),
            "covenant.date: ngày không hợp lệ \"2021-02-30\"",
        ),
        (
            "empty name",
            Box::new(|v| v["units"][2]["name"] = "  ".into()),
            "units[2].name: không được để trống",
        ),
        (
            "wrong type",
            Box::new(|v| v["units"][1]["registration"]["pledges"][0]["target"] = "cao".into()),
            "units[1].registration.pledges[0].target: phải là số, không phải chuỗi",
        ),
        (
            "unknown field",
            Box::new(|v| v["units"][0]["signer"]["fullname"] = "x".into()),
            "units[0].signer.fullname: trường không được hỗ trợ",
        ),
        (
            "wrong format",
            Box::new(|v| v["format"] = "giaouoc.covenant/2".into()),
            "format: định dạng \"giaouoc.covenant/2\" không được hỗ trợ",
        ),
        (
            "bad unit id",
            Box::new(|v| v["units"][7]["id"] = "U 08/x".into()),
            "units[7].id: mã đơn vị \"U 08/x\" chỉ được gồm",
        ),
        (
            "bad number symbol",
            Box::new(|v| v["covenant"]["number_symbol"] = "01 / GƯTĐ".into()),
            "covenant.number_symbol: số, ký hiệu",
        ),
        (
            "character the font lacks",
            Box::new(|v| v["units"][0]["name"] = "Cơ sở 😀".into()),
            "ký tự không in được",
        ),
    ]
}

#[test]
fn each_invalid_input_gets_its_message_exit_2_and_no_file() {
    let dir = temp_dir("cli-bad");
    for (what, mutate, expected) in broken_inputs() {
        let mut v: serde_json::Value = serde_json::from_slice(&reference_json()).unwrap();
        mutate(&mut v);
        let input = dir.join("in.json");
        std::fs::write(&input, serde_json::to_vec(&v).unwrap()).unwrap();
        let pdf = dir.join("out.pdf");
        let docx = dir.join("out.docx");
        let out = giaouoc(&[
            "render",
            "--input",
            input.to_str().unwrap(),
            "--pdf",
            pdf.to_str().unwrap(),
            "--docx",
            docx.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{what}: expected «{expected}» in {stderr}"
        );
        assert!(!pdf.exists() && !docx.exists(), "{what}: output written");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "in.json")
            .collect();
        assert!(leftovers.is_empty(), "{what}: left behind {leftovers:?}");
    }
}

#[test]
fn malformed_json_and_missing_file_exit_2() {
    let dir = temp_dir("cli-json");
    let input = dir.join("in.json");
    std::fs::write(&input, b"{ \"format\": ").unwrap();
    let out = giaouoc(&[
        "render",
        "--input",
        input.to_str().unwrap(),
        "--pdf",
        "x.pdf",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON không hợp lệ tại dòng 1"));
    let out = giaouoc(&["render", "--input", "/nonexistent.json", "--pdf", "x.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!std::path::Path::new("x.pdf").exists());
}

#[test]
fn an_existing_output_survives_a_failed_render() {
    let dir = temp_dir("cli-keep");
    let pdf = dir.join("out.pdf");
    std::fs::write(&pdf, b"previous").unwrap();
    let input = dir.join("in.json");
    std::fs::write(&input, b"{}").unwrap();
    let out = giaouoc(&[
        "render",
        "--input",
        input.to_str().unwrap(),
        "--pdf",
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&pdf).unwrap(), b"previous");
}

#[test]
fn exit_codes_tell_bad_input_from_a_failing_environment() {
    // Bad input: exit 2.
    let out = giaouoc(&["verify", "/no/such/file.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    // The address is taken: the environment failed, exit 3 (not 2, the input code).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = temp_dir("serve-bind");
    let out = giaouoc(&[
        "serve",
        "--addr",
        &addr,
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("không mở được địa chỉ"), "{stderr}");
}
