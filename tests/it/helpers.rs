//! Shared helpers: fixtures, the CLI, external tools.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use giaouoc::test_support::{require, text_without_page_numbers};
use unicode_normalization::UnicodeNormalization;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn reference_json() -> Vec<u8> {
    std::fs::read(fixture("covenant-2021-quang-ninh.json")).unwrap()
}

pub fn stress_json() -> Vec<u8> {
    std::fs::read(fixture("covenant-stress-30.json")).unwrap()
}

/// A fresh temporary directory under target/ (removed by the caller or left for inspection).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn giaouoc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_giaouoc"))
        .args(args)
        .output()
        .expect("run giaouoc")
}

/// Runs an external tool that `.ci/setup` installs; a missing tool fails the test with the
/// install hint (`giaouoc::test_support::require`).
pub fn tool(name: &str, args: &[&str]) -> Output {
    let path = require(name);
    Command::new(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", path.display()))
}

/// `pdftotext` of a PDF, both raw and layout order, whitespace folded, NFC.
pub fn pdf_text(pdf: &Path) -> String {
    let mut all = String::new();
    for mode in [&["-raw"][..], &[][..]] {
        let mut args: Vec<&str> = mode.to_vec();
        let p = pdf.to_str().unwrap();
        args.extend(["-enc", "UTF-8", p, "-"]);
        let out = tool("pdftotext", &args);
        assert!(out.status.success(), "pdftotext failed");
        all.push_str(&String::from_utf8(out.stdout).unwrap());
        all.push_str(" | ");
    }
    fold(&all)
}

/// `pdftotext -raw` page by page, without the page-number line that starts each page from
/// page 2 (so a paragraph split by a page break reads as one), whitespace folded, NFC.
pub fn pdf_text_without_page_numbers(pdf: &Path) -> String {
    let out = tool(
        "pdftotext",
        &["-raw", "-enc", "UTF-8", pdf.to_str().unwrap(), "-"],
    );
    assert!(out.status.success(), "pdftotext failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let all = text_without_page_numbers(&text);
    fold(&all)
}

pub fn fold(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every string of the covenant a reader must find in the document.
pub fn expected_strings(json: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let mut want = Vec::new();
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    for key in ["governing_body", "issuer", "place_name"] {
        if let Some(x) = v["bloc"].get(key) {
            want.push(s(x));
        }
    }
    let c = &v["covenant"];
    for key in ["title", "subtitle", "preamble", "signature_heading"] {
        want.push(s(&c[key]));
    }
    if let Some(n) = c.get("number_symbol") {
        want.push(s(n));
    }
    for x in c["legal_bases"].as_array().unwrap() {
        want.push(s(x));
    }
    for x in c["recipients"].as_array().unwrap() {
        want.push(s(x));
    }
    for sec in c["sections"].as_array().unwrap() {
        want.push(s(&sec["title"]));
        for it in sec["items"].as_array().unwrap() {
            want.push(s(it));
        }
    }
    for u in v["units"].as_array().unwrap() {
        want.push(s(&u["name"]));
        want.push(s(&u["signer"]["full_name"]));
        for p in u["registration"]["pledges"].as_array().unwrap() {
            want.push(s(&p["text"]));
            if let Some(i) = p.get("indicator") {
                want.push(s(i));
            }
        }
    }
    want.push("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into());
    want.push("Độc lập - Tự do - Hạnh phúc".into());
    want.iter().map(|w| fold(w)).collect()
}

/// The strings of `want` missing from `text` (case-insensitive for text set in capitals).
pub fn missing<'a>(want: &'a [String], text: &str) -> Vec<&'a String> {
    let upper = text.to_uppercase();
    want.iter()
        .filter(|w| !text.contains(w.as_str()) && !upper.contains(&w.to_uppercase()))
        .collect()
}

/// The bloc's mid-year report (a one-signer year document) filled from a small context: two
/// units, one reported; the reference bloc's recipients.
pub fn mid_year_report() -> giaouoc::document::Document {
    let context = serde_json::json!({
        "bloc": {"id": "KTD-VHXH-QN", "name": "Khối thi đua Văn hóa - Xã hội",
                 "full_name": "Khối thi đua các sở, ban, ngành Văn hóa - Xã hội tỉnh Quảng Ninh",
                 "governing_body": "UBND tỉnh Quảng Ninh", "issuer": "Khối thi đua Văn hóa - Xã hội",
                 "place_name": "Quảng Ninh"},
        "doc": {"number": "    /BC-KTĐ", "date": "2021-07-05"},
        "year": 2021,
        "units": [
            {"name": "Sở Văn hóa và Thể thao", "note": null,
             "summary": "Hoàn thành các chỉ tiêu 6 tháng.",
             "pledges": [{"text": "Tổ chức lễ hội", "target_text": "12", "achieved_text": "7",
                          "percent_text": "58,3%"}]},
            {"name": "Trường Cao đẳng Y tế", "note": "Chưa báo cáo", "summary": null,
             "pledges": []}
        ],
        "reported": 1, "units_total": 2,
        "head": {"id": "U01", "unit": "Sở Văn hóa và Thể thao", "name": "Nguyễn Văn Hùng"},
        "recipients": ["Ban Thi đua - Khen thưởng tỉnh (b/c);", "Lưu: Khối thi đua."]
    });
    let date = time::macros::date!(2021 - 07 - 05);
    giaouoc::template::Template::builtin()
        .fill_year("year/mid-year-report.xml.j2", &context, date)
        .unwrap()
}
