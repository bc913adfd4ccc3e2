//! The DOCX: same content as the PDF, Times New Roman and vi-VN, opens in LibreOffice.

use std::io::Read;

use giaouoc::template::Template;

use crate::helpers::*;

fn render(json: &[u8]) -> Vec<u8> {
    let (_, doc) = giaouoc::render::prepare(json, &Template::builtin()).unwrap();
    giaouoc::render::docx(&doc, &Default::default()).unwrap()
}

fn part(docx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// The text of document.xml: paragraphs joined by spaces, XML unescaped.
pub fn docx_text(docx: &[u8]) -> String {
    let xml = part(docx, "word/document.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let mut out = String::new();
    for node in doc.descendants() {
        match node.tag_name().name() {
            "t" => out.push_str(node.text().unwrap_or("")),
            "p" | "br" | "tab" => out.push(' '),
            _ => {}
        }
    }
    fold(&out)
}

#[test]
fn reference_docx_text_contains_every_input_string() {
    let docx = render(&reference_json());
    let text = docx_text(&docx);
    let want = expected_strings(&reference_json());
    let miss = missing(&want, &text);
    assert!(miss.is_empty(), "missing from the DOCX: {miss:#?}");
    assert!(text.contains("Quảng Ninh, ngày 22 tháng 01 năm 2021"));
}

#[test]
fn stress_docx_keeps_escaped_characters() {
    let json = stress_json();
    let text = docx_text(&render(&json));
    let want = expected_strings(&json);
    let miss = missing(&want, &text);
    assert!(miss.is_empty(), "missing: {miss:#?}");
    assert!(text.contains("<không có nội dung ẩn> & không có thẻ HTML"));
}

#[test]
fn docx_declares_times_new_roman_and_vietnamese_everywhere() {
    let docx = render(&reference_json());
    let xml = part(&docx, "word/document.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let runs: Vec<_> = doc
        .descendants()
        .filter(|n| {
            n.tag_name().name() == "r" && n.descendants().any(|c| c.tag_name().name() == "t")
        })
        .collect();
    assert!(runs.len() > 200);
    for r in runs {
        let rpr = r
            .children()
            .find(|c| c.tag_name().name() == "rPr")
            .expect("rPr");
        let fonts = rpr
            .children()
            .find(|c| c.tag_name().name() == "rFonts")
            .expect("rFonts");
        for a in ["ascii", "hAnsi", "cs", "eastAsia"] {
            let v = fonts
                .attributes()
                .find(|x| x.name() == a)
                .map(|x| x.value());
            assert_eq!(v, Some("Times New Roman"), "{a}");
        }
        let lang = rpr
            .children()
            .find(|c| c.tag_name().name() == "lang")
            .expect("lang");
        assert!(lang.attributes().any(|x| x.value() == "vi-VN"));
    }
    assert!(xml.contains("w:tblHeader"));
    assert!(xml.contains("w:cantSplit"));
    // A4 and the margins of Decree 30, in twips.
    assert!(
        xml.contains(r#"w:w="11906""#) && xml.contains(r#"w:h="16838""#),
        "page size"
    );
    assert!(
        xml.contains(r#"w:left="1701""#) && xml.contains(r#"w:right="850""#),
        "margins"
    );
    let styles = part(&docx, "word/styles.xml");
    assert!(styles.contains("vi-VN") && styles.contains("Times New Roman"));
}

#[test]
fn same_input_gives_the_same_docx_bytes() {
    assert_eq!(render(&reference_json()), render(&reference_json()));
}

#[test]
fn libreoffice_opens_the_docx_and_shows_the_same_text() {
    let dir = temp_dir("lo");
    let docx = dir.join("c.docx");
    std::fs::write(&docx, render(&reference_json())).unwrap();
    let profile = format!("-env:UserInstallation=file://{}/profile", dir.display());
    let out = tool(
        "soffice",
        &[
            &profile,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            dir.to_str().unwrap(),
            docx.to_str().unwrap(),
        ],
    );
    let pdf = dir.join("c.pdf");
    assert!(
        pdf.exists(),
        "LibreOffice did not convert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = pdf_text_without_page_numbers(&pdf);
    let want = expected_strings(&reference_json());
    let miss = missing(&want, &text);
    assert!(miss.is_empty(), "missing after LibreOffice: {miss:#?}");
}

#[test]
fn a_one_signer_document_has_its_recipients_left_and_its_signer_right() {
    // Decree 30/2020 Appendix I: "Nơi nhận" (ô 9a/9b) in the left cell, the signer in the right.
    let docx = giaouoc::render::docx(&mid_year_report(), &Default::default()).unwrap();
    let xml = part(&docx, "word/document.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let grid = doc
        .descendants()
        .rfind(|n| n.tag_name().name() == "tbl")
        .unwrap();
    let cells: Vec<String> = grid
        .descendants()
        .filter(|n| n.tag_name().name() == "tc")
        .map(|tc| {
            tc.descendants()
                .filter(|n| n.tag_name().name() == "t")
                .filter_map(|n| n.text())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(cells.len(), 2, "{cells:?}");
    assert!(cells[0].starts_with("Nơi nhận:"), "{cells:?}");
    assert!(cells[0].contains("Lưu: Khối thi đua."), "{cells:?}");
    assert!(cells[1].contains("TRƯỞNG KHỐI") && cells[1].contains("Nguyễn Văn Hùng"));
}
