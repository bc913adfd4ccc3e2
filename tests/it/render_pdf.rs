//! The PDF a civil servant gets: text, fonts, structure, determinism, stress layout.

use giaouoc::render_pdf::{PdfOptions, render_pdf};
use giaouoc::template::Template;

use crate::helpers::*;

fn render(json: &[u8]) -> giaouoc::render_pdf::RenderedPdf {
    let (_, doc) = giaouoc::render::prepare(json, &Template::builtin()).unwrap();
    render_pdf(&doc, &PdfOptions::default()).unwrap()
}

#[test]
fn reference_pdf_text_contains_every_input_string() {
    let dir = temp_dir("ref-text");
    let pdf = dir.join("c.pdf");
    std::fs::write(&pdf, render(&reference_json()).bytes).unwrap();
    let text = pdf_text(&pdf);
    let want = expected_strings(&reference_json());
    assert!(want.len() > 90);
    let miss = missing(&want, &text);
    assert!(miss.is_empty(), "missing from the PDF text: {miss:#?}");
    assert!(text.contains("Quảng Ninh, ngày 22 tháng 01 năm 2021"));
    assert!(text.contains("Số: 01/GƯTĐ-KTĐVHXH"));
    assert!(text.contains("KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC") || text.contains("KT. GIÁM ĐỐC"));
}

#[test]
fn decomposed_input_gives_the_same_pdf() {
    let nfc = reference_json();
    let nfd: String = {
        use unicode_normalization::UnicodeNormalization;
        String::from_utf8(nfc.clone()).unwrap().nfd().collect()
    };
    assert_ne!(nfd.as_bytes(), &nfc[..]);
    assert_eq!(render(nfd.as_bytes()).bytes, render(&nfc).bytes);
}

#[test]
fn fonts_are_embedded_subset_and_never_type3() {
    let dir = temp_dir("fonts");
    let pdf = dir.join("c.pdf");
    std::fs::write(&pdf, render(&reference_json()).bytes).unwrap();
    let out = tool("pdffonts", &[pdf.to_str().unwrap()]);
    let listing = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = listing.lines().skip(2).collect();
    assert_eq!(rows.len(), 4, "{listing}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type... encoding emb sub uni id gen
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{row}");
        assert!(
            cols[0].contains('+') && cols[0].contains("LiberationSerif"),
            "{row}"
        );
        assert!(!row.contains("Type 3"), "{row}");
    }
}

#[test]
fn qpdf_finds_no_structural_problem() {
    for json in [reference_json(), stress_json()] {
        let dir = temp_dir("qpdf");
        let pdf = dir.join("c.pdf");
        std::fs::write(&pdf, render(&json).bytes).unwrap();
        let out = tool("qpdf", &["--check", pdf.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "qpdf --check: {stdout}");
        assert!(
            stdout.contains("No syntax or stream encoding errors"),
            "{stdout}"
        );
    }
}

#[test]
fn same_input_gives_the_same_bytes() {
    let a = render(&reference_json());
    let b = render(&reference_json());
    assert_eq!(a.bytes, b.bytes);
}

#[test]
fn every_unit_gets_an_empty_signature_field_in_its_cell() {
    let r = render(&reference_json());
    let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 16);
    assert_eq!(&names[..2], ["U01", "U02"]);
    for f in &r.fields {
        let [x1, y1, x2, y2] = f.rect;
        assert!(x2 - x1 > 150.0 && y2 - y1 > 60.0, "{f:?}");
        assert!(x1 >= 30.0 * 72.0 / 25.4 - 0.5 && x2 <= 595.3 - 15.0 * 72.0 / 25.4 + 0.5);
        assert!(f.page >= 1 && f.page <= r.pages);
    }
    // The document carries them as /FT /Sig fields with no value.
    let lo = lopdf::Document::load_mem(&r.bytes).unwrap();
    let sig_fields: Vec<&lopdf::Dictionary> = lo
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"FT").ok().and_then(|o| o.as_name().ok()) == Some(&b"Sig"[..]))
        .collect();
    assert_eq!(sig_fields.len(), 16);
    assert!(sig_fields.iter().all(|d| !d.has(b"V")));
}

/// Word boxes from `pdftotext -bbox`: (page, xmin, ymin, xmax, ymax, word).
fn word_boxes(pdf: &std::path::Path) -> Vec<(usize, f32, f32, f32, f32, String)> {
    let out = tool(
        "pdftotext",
        &["-bbox", "-enc", "UTF-8", pdf.to_str().unwrap(), "-"],
    );
    let html = String::from_utf8(out.stdout).unwrap();
    let mut page = 0;
    let mut words = Vec::new();
    for line in html.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page += 1;
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let attr = |k: &str| -> f32 {
                let start = rest.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
                let end = rest[start..].find('"').unwrap() + start;
                rest[start..end].parse().unwrap()
            };
            let text =
                rest[rest.find('>').unwrap() + 1..rest.rfind("</word>").unwrap()].to_string();
            words.push((
                page,
                attr("xMin"),
                attr("yMin"),
                attr("xMax"),
                attr("yMax"),
                text,
            ));
        }
    }
    words
}

#[test]
fn stress_covenant_has_no_overlapping_text_and_no_split_signature_cell() {
    let json = stress_json();
    let r = render(&json);
    let dir = temp_dir("stress");
    let pdf = dir.join("s.pdf");
    std::fs::write(&pdf, &r.bytes).unwrap();

    // 1. Text round-trips, escaping characters included.
    let text = pdf_text(&pdf);
    let want = expected_strings(&json);
    let miss = missing(&want, &text);
    assert!(miss.is_empty(), "missing: {miss:#?}");
    assert!(text.contains("03/GƯTĐ-KTĐ&VHXH"));

    // 2. No two words overlap (glyph boxes shrunk a little: ascenders/descenders of
    //    adjacent lines may touch).
    let words = word_boxes(&pdf);
    assert!(words.len() > 3000);
    let mut by_page: std::collections::BTreeMap<usize, Vec<_>> = Default::default();
    for w in &words {
        by_page.entry(w.0).or_default().push(w);
    }
    for (page, ws) in by_page {
        for (i, a) in ws.iter().enumerate() {
            for b in &ws[i + 1..] {
                let ix = a.3.min(b.3) - a.1.max(b.1);
                let iy = (a.4 - 2.0).min(b.4 - 2.0) - (a.2 + 2.0).max(b.2 + 2.0);
                assert!(
                    !(ix > 0.5 && iy > 0.5),
                    "page {page}: '{}' overlaps '{}'",
                    a.5,
                    b.5
                );
            }
        }
        // Everything inside the page's margins (top margin: only the page number).
        for w in ws {
            assert!(w.1 >= 30.0 * 72.0 / 25.4 - 1.0, "left margin: {w:?}");
            assert!(
                w.3 <= 595.3 - 15.0 * 72.0 / 25.4 + 1.0,
                "right margin: {w:?}"
            );
            assert!(
                w.4 <= 841.9 - 20.0 * 72.0 / 25.4 + 1.0,
                "bottom margin: {w:?}"
            );
        }
    }

    // 3. Each signature cell is whole: its signer's name sits on the field's page,
    //    just below the field.
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(r.fields.len(), 30);
    for f in &r.fields {
        let unit = v["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == f.name.as_str())
            .unwrap();
        let name = unit["signer"]["full_name"].as_str().unwrap();
        let first = name.split_whitespace().next().unwrap();
        let page_h = 841.89;
        let field_bottom = page_h - f.rect[1];
        let found = words.iter().any(|w| {
            w.0 == f.page
                && w.5 == first
                && w.2 >= field_bottom - 1.0
                && w.2 <= field_bottom + 30.0
                && w.1 >= f.rect[0] - 1.0
                && w.3 <= f.rect[2] + 1.0
        });
        assert!(
            found,
            "signer {name} of {} not under its field {f:?}",
            f.name
        );
    }
}

#[test]
fn tables_repeat_their_header_row_on_each_page() {
    let r = render(&stress_json());
    let dir = temp_dir("hdr");
    let pdf = dir.join("s.pdf");
    std::fs::write(&pdf, &r.bytes).unwrap();
    let words = word_boxes(&pdf);
    // A pledge table continues from one page to the next in the stress covenant: every
    // page that has a table row at its top starts with the header "TT".
    let mut pages_with_header = std::collections::BTreeSet::new();
    for w in &words {
        if w.5 == "TT" {
            pages_with_header.insert(w.0);
        }
    }
    let out = tool(
        "pdftotext",
        &["-layout", "-enc", "UTF-8", pdf.to_str().unwrap(), "-"],
    );
    let layout = String::from_utf8(out.stdout).unwrap();
    for (i, page) in layout.split('\u{c}').enumerate() {
        let body: Vec<&str> = page
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .skip(1) // the page number
            .collect();
        if let Some(first) = body.first() {
            // A table row starts with its number alone ("4   Kiểm nghiệm ..."); a numbered
            // paragraph has "4." instead.
            let token = first.split_whitespace().next().unwrap_or("");
            if !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) && first.len() > 5 {
                panic!(
                    "page {} starts with a table row without header: {first}",
                    i + 1
                );
            }
        }
    }
    assert!(pages_with_header.len() > 10);
}

/// The reference covenant with the bloc's 100-point scoring table: the appendix lists every
/// group (with its total), criterion, bonus and minus item, in the PDF and in the DOCX.
#[test]
fn the_scoring_table_is_rendered_as_the_covenants_appendix() {
    let mut v: serde_json::Value = serde_json::from_slice(&reference_json()).unwrap();
    let scoring: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("scoring-100.json")).unwrap()).unwrap();
    v["covenant"]["scoring"] = scoring.clone();
    let json = serde_json::to_vec(&v).unwrap();
    let dir = temp_dir("scoring-appendix");
    let pdf = dir.join("c.pdf");
    std::fs::write(&pdf, render(&json).bytes).unwrap();
    let text = fold(&pdf_text_without_page_numbers(&pdf));
    let (_, doc) = giaouoc::render::prepare(&json, &Template::builtin()).unwrap();
    let docx =
        giaouoc::render_docx::render_docx(&doc, &giaouoc::render_docx::DocxOptions::default())
            .unwrap();
    let docx_text = crate::render_docx::docx_text(&docx);
    let mut want = vec![
        "PHỤ LỤC".to_owned(),
        "KHUNG TIÊU CHÍ CHẤM ĐIỂM THI ĐUA NĂM 2021".to_owned(),
        "Điểm thưởng".to_owned(),
        "Điểm trừ".to_owned(),
        "tối đa trừ 5".to_owned(),
    ];
    for g in scoring["groups"].as_array().unwrap() {
        want.push(g["title"].as_str().unwrap().to_owned());
        for c in g["criteria"].as_array().unwrap() {
            want.push(c["text"].as_str().unwrap().to_owned());
        }
    }
    for part in ["bonus", "minus"] {
        for c in scoring[part].as_array().unwrap() {
            want.push(c["text"].as_str().unwrap().to_owned());
        }
    }
    for w in &want {
        assert!(text.contains(&fold(w)), "PDF lacks {w:?}");
        assert!(docx_text.contains(&fold(w)), "DOCX lacks {w:?}");
    }
    // Group totals: 50, 20, 10, 20; the scale on the "Cộng" line.
    assert!(
        text.contains("Cộng 100") || text.contains("Cộng\n100"),
        "{text}"
    );
    // Without a scoring table nothing changes (the golden hashes cover the bytes).
    assert!(
        !fold(&pdf_text_without_page_numbers(&{
            let p = dir.join("plain.pdf");
            std::fs::write(&p, render(&reference_json()).bytes).unwrap();
            p
        }))
        .contains("PHỤ LỤC")
    );
}

#[test]
fn a_one_signer_document_has_its_recipients_left_and_its_signer_right() {
    // Decree 30/2020 Appendix I: "Nơi nhận" (ô 9a/9b) on the left, the signer (ô 7) on the right,
    // level with each other.
    let r = render_pdf(&mid_year_report(), &PdfOptions::default()).unwrap();
    assert_eq!(r.fields.len(), 1);
    let field = &r.fields[0];
    assert_eq!(field.name, "U01");
    let page_width = 595.3;
    assert!(field.rect[0] > page_width / 2.0 - 1.0, "{field:?}");

    let dir = temp_dir("recipients-left");
    let pdf = dir.join("r.pdf");
    std::fs::write(&pdf, &r.bytes).unwrap();
    let words = word_boxes(&pdf);
    let find = |w: &str| {
        words
            .iter()
            .find(|b| b.5 == w)
            .unwrap_or_else(|| panic!("{w} not in {words:?}"))
    };
    let (nhan, truong, luu) = (find("nhận:"), find("TRƯỞNG"), find("Lưu:"));
    assert_eq!(nhan.0, field.page);
    assert!(nhan.3 < page_width / 2.0 && luu.3 < page_width / 2.0);
    assert!(truong.1 > page_width / 2.0);
    // Recipients begin on the signer's first line (ô 9a beside ô 7a), not below the signature.
    let signer_unit = find("THAO");
    assert!(
        (nhan.2 - signer_unit.2).abs() < 12.0,
        "{nhan:?} {signer_unit:?}"
    );
    let text = pdf_text(&pdf);
    assert!(
        text.contains("Ban Thi đua - Khen thưởng tỉnh (b/c);"),
        "{text}"
    );
}
