use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use time::macros::datetime;

use super::*;
use crate::document::{
    Metadata, PageNumbers, Paragraph, Row, Run, SignatureCell, SignatureGrid, Table,
};

// ---------------------------------------------------------------------------------------------
// A realistic covenant, built by hand.

fn run(text: &str, bold: bool, italic: bool) -> Run {
    Run {
        text: text.to_owned(),
        bold,
        italic,
    }
}

fn para(runs: Vec<Run>, align: Align, size_pt: f32) -> Paragraph {
    Paragraph {
        runs,
        align,
        size_pt,
        first_line_indent_mm: 0.0,
        space_before_pt: 0.0,
        space_after_pt: 0.0,
        line_spacing: 1.0,
        keep_with_next: false,
        rule_below: None,
    }
}

fn centred(text: &str, bold: bool, size_pt: f32) -> Paragraph {
    para(vec![run(text, bold, false)], Align::Center, size_pt)
}

fn body(text: &str) -> Paragraph {
    Paragraph {
        first_line_indent_mm: 12.7,
        space_after_pt: 6.0,
        line_spacing: 1.15,
        ..para(vec![run(text, false, false)], Align::Justify, 14.0)
    }
}

fn heading(text: &str) -> Paragraph {
    Paragraph {
        keep_with_next: true,
        space_before_pt: 6.0,
        ..body(text)
    }
    .with_runs(vec![run(text, true, false)])
}

trait WithRuns {
    fn with_runs(self, runs: Vec<Run>) -> Self;
}

impl WithRuns for Paragraph {
    fn with_runs(mut self, runs: Vec<Run>) -> Self {
        self.runs = runs;
        self
    }
}

fn cell(paragraphs: Vec<Paragraph>) -> Cell {
    Cell {
        span: 1,
        paragraphs,
    }
}

fn table_cell(text: &str, bold: bool, align: Align) -> Cell {
    cell(vec![Paragraph {
        space_before_pt: 3.0,
        space_after_pt: 3.0,
        ..para(vec![run(text, bold, false)], align, 12.0)
    }])
}

const SPECIAL: &str =
    "Chỉ tiêu \"Cơ quan đạt chuẩn văn hóa\" & 'xanh - sạch - đẹp' đạt <100%> > 95%.";

const BODY: [&str; 6] = [
    "Các đơn vị thành viên Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội tỉnh Quảng Ninh thống nhất ký kết giao ước thi đua năm 2021 với các nội dung sau:",
    "Tổ chức quán triệt, thực hiện nghiêm túc các chủ trương, đường lối của Đảng, chính sách, pháp luật của Nhà nước; Nghị quyết Đại hội đại biểu toàn quốc lần thứ XIII của Đảng và Nghị quyết Đại hội Đảng bộ tỉnh lần thứ XV.",
    "Hoàn thành xuất sắc nhiệm vụ chính trị được giao năm 2021; thực hiện đạt và vượt các chỉ tiêu đã đăng ký; đẩy mạnh cải cách hành chính, chuyển đổi số, bảo đảm 100% văn bản đi được ký số (trừ văn bản mật).",
    "Thực hành tiết kiệm, chống lãng phí, phòng chống tham nhũng, tiêu cực; thực hiện tốt Quy chế dân chủ ở cơ sở; xây dựng cơ quan, đơn vị đạt chuẩn văn hóa, tổ chức Đảng và các đoàn thể trong sạch, vững mạnh.",
    "Quan tâm chăm lo đời sống vật chất, tinh thần của cán bộ, viên chức, người lao động; hưởng ứng các cuộc vận động, phong trào thi đua do các cấp phát động; không có cán bộ, viên chức bị xử lý kỷ luật hoặc vi phạm pháp luật.",
    "Phát hiện, bồi dưỡng, nhân rộng các điển hình tiên tiến, sáng kiến, mô hình mới; tham gia đầy đủ các hoạt động do Khối tổ chức; báo cáo đúng thời gian quy định.",
];

const LEGAL: [&str; 4] = [
    "Căn cứ Luật Thi đua, Khen thưởng ngày 26 tháng 11 năm 2003; Luật sửa đổi, bổ sung một số điều của Luật Thi đua, Khen thưởng ngày 14 tháng 6 năm 2005 và ngày 16 tháng 11 năm 2013;",
    "Căn cứ Nghị định số 91/2017/NĐ-CP ngày 31 tháng 7 năm 2017 của Chính phủ quy định chi tiết thi hành một số điều của Luật Thi đua, Khen thưởng;",
    "Căn cứ Quyết định số 12/2020/QĐ-UBND ngày 27 tháng 4 năm 2020 của Ủy ban nhân dân tỉnh ban hành Quy định về công tác thi đua, khen thưởng trên địa bàn tỉnh Quảng Ninh;",
    "Căn cứ Quyết định số 1912/QĐ-UBND ngày 10 tháng 6 năm 2020 của Ủy ban nhân dân tỉnh về việc kiện toàn các Cụm, Khối thi đua.",
];

const UNITS: [(&str, &[&str], &str); 5] = [
    (
        "CƠ SỞ CAI NGHIỆN MA TÚY TỈNH",
        &["GIÁM ĐỐC"],
        "Nguyễn Văn Hùng",
    ),
    (
        "TRUNG TÂM BẢO TRỢ XÃ HỘI TỈNH",
        &["GIÁM ĐỐC"],
        "Lưu Thị Thanh Huyền",
    ),
    (
        "TRUNG TÂM DỊCH VỤ VIỆC LÀM",
        &["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"],
        "Trần Quốc Đạt",
    ),
    ("TRUNG TÂM VĂN HÓA TỈNH", &["Q. GIÁM ĐỐC"], "Âu Thị Hải Yến"),
    ("THƯ VIỆN TỈNH", &["GIÁM ĐỐC"], "Phạm Đức Thắng"),
];

const RECIPIENTS: [&str; 4] = [
    "- Ban Thi đua - Khen thưởng tỉnh (b/c);",
    "- Các Sở chủ quản;",
    "- Các đơn vị trong Khối;",
    "- Lưu: Khối.",
];

fn sample_document() -> Document {
    let mut blocks = Vec::new();

    // Header: issuer on the left, national motto on the right, then number and date.
    let issuer = Paragraph {
        rule_below: Some(RuleWidth::FractionOfText(0.4)),
        space_after_pt: 6.0,
        ..centred(
            "KHỐI THI ĐUA CÁC ĐƠN VỊ\nTHUỘC SỞ, NGÀNH\nVĂN HÓA - XÃ HỘI",
            true,
            12.0,
        )
    };
    let motto = Paragraph {
        rule_below: Some(RuleWidth::MatchText),
        space_after_pt: 6.0,
        ..centred("Độc lập - Tự do - Hạnh phúc", true, 13.0)
    };
    let date = Paragraph {
        space_before_pt: 6.0,
        ..para(
            vec![run("Quảng Ninh, ngày 22 tháng 01 năm 2021", false, true)],
            Align::Center,
            13.0,
        )
    };
    blocks.push(Block::Table(Table {
        columns: vec![70.0, 95.0],
        borders: false,
        header_rows: 0,
        rows: vec![
            Row {
                cells: vec![
                    cell(vec![centred("UBND TỈNH QUẢNG NINH", false, 12.0), issuer]),
                    cell(vec![
                        centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", true, 12.0),
                        motto,
                    ]),
                ],
            },
            Row {
                cells: vec![
                    cell(vec![Paragraph {
                        space_before_pt: 6.0,
                        ..centred("Số: 01/GƯTĐ-KVHXH", false, 13.0)
                    }]),
                    cell(vec![date]),
                ],
            },
        ],
        space_after_pt: 18.0,
    }));

    blocks.push(Block::Paragraph(centred(
        "BẢN GIAO ƯỚC THI ĐUA NĂM 2021",
        true,
        14.0,
    )));
    blocks.push(Block::Paragraph(Paragraph {
        rule_below: Some(RuleWidth::FractionOfText(1.0 / 3.0)),
        space_after_pt: 12.0,
        ..centred(
            "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội tỉnh Quảng Ninh",
            true,
            14.0,
        )
    }));
    for basis in LEGAL {
        blocks.push(Block::Paragraph(
            body(basis).with_runs(vec![run(basis, false, true)]),
        ));
    }
    blocks.push(Block::Paragraph(body(BODY[0])));
    blocks.push(Block::Paragraph(heading("I. MỤC ĐÍCH, YÊU CẦU")));
    blocks.push(Block::Paragraph(body(SPECIAL)));
    blocks.push(Block::Paragraph(heading("II. NỘI DUNG GIAO ƯỚC THI ĐUA")));
    for (i, text) in BODY.iter().skip(1).enumerate() {
        blocks.push(Block::Paragraph(body(text).with_runs(vec![
            run(&format!("{}. ", i + 1), true, false),
            run(text, false, false),
        ])));
    }
    blocks.push(Block::Paragraph(heading(
        "III. ĐĂNG KÝ DANH HIỆU VÀ CHỈ TIÊU THI ĐUA CỦA CÁC ĐƠN VỊ",
    )));

    let mut rows = vec![Row {
        cells: vec![
            table_cell("STT", true, Align::Center),
            table_cell("Đơn vị", true, Align::Center),
            table_cell("Danh hiệu đăng ký", true, Align::Center),
            table_cell("Chỉ tiêu chính", true, Align::Center),
        ],
    }];
    for i in 1..=40 {
        rows.push(Row {
            cells: vec![
                table_cell(&format!("{i:02}"), false, Align::Center),
                table_cell(&format!("Đơn vị thành viên số {i}"), false, Align::Left),
                table_cell(
                    if i % 3 == 0 {
                        "Tập thể lao động xuất sắc"
                    } else {
                        "Tập thể lao động tiên tiến"
                    },
                    false,
                    Align::Left,
                ),
                table_cell(
                    &format!(
                        "Hoàn thành {}% kế hoạch; 100% hồ sơ xử lý đúng hạn & đúng quy trình",
                        90 + i % 10
                    ),
                    false,
                    Align::Left,
                ),
            ],
        });
    }
    rows.push(Row {
        cells: vec![
            Cell {
                span: 2,
                ..table_cell("Tổng cộng", true, Align::Center)
            },
            Cell {
                span: 2,
                ..table_cell("40 đơn vị", true, Align::Left)
            },
        ],
    });
    blocks.push(Block::Table(Table {
        columns: vec![1.0, 4.0, 3.5, 5.0],
        borders: true,
        header_rows: 1,
        rows,
        space_after_pt: 6.0,
    }));

    blocks.push(Block::Paragraph(heading("IV. TỔ CHỨC THỰC HIỆN")));
    blocks.push(Block::Paragraph(body(
        "Bản giao ước này được lập thành 07 bản, mỗi đơn vị giữ 01 bản, gửi Ban Thi đua - Khen thưởng tỉnh 01 bản để theo dõi.",
    )));
    blocks.push(Block::Paragraph(Paragraph {
        keep_with_next: true,
        space_before_pt: 12.0,
        space_after_pt: 6.0,
        ..centred("ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC", true, 13.0)
    }));
    blocks.push(Block::SignatureGrid(SignatureGrid {
        columns: 2,
        signature_height_mm: 25.0,
        size_pt: 13.0,
        cells: UNITS
            .iter()
            .enumerate()
            .map(|(i, (unit, authority, name))| SignatureCell {
                field_name: format!("U{:02}", i + 1),
                unit: (*unit).to_owned(),
                authority_lines: authority.iter().map(|s| (*s).to_owned()).collect(),
                signer_name: (*name).to_owned(),
                seal_field: None,
            })
            .collect(),
        recipients: vec![],
    }));
    blocks.push(Block::Paragraph(Paragraph {
        space_before_pt: 12.0,
        ..para(vec![run("Nơi nhận:", true, true)], Align::Left, 12.0)
    }));
    for r in RECIPIENTS {
        blocks.push(Block::Paragraph(para(
            vec![run(r, false, false)],
            Align::Left,
            11.0,
        )));
    }

    Document {
        meta: Metadata {
            title: "BẢN GIAO ƯỚC THI ĐUA NĂM 2021".into(),
            subject: "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội".into(),
            author: "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội".into(),
            keywords: "giao ước thi đua, 2021, Quảng Ninh, <test> & 'x'".into(),
            date: datetime!(2021-01-22 00:00 +07:00),
            lang: "vi-VN".into(),
        },
        page: PageSetup {
            width_mm: 210.0,
            height_mm: 297.0,
            margin_top_mm: 20.0,
            margin_bottom_mm: 20.0,
            margin_left_mm: 30.0,
            margin_right_mm: 15.0,
            page_numbers: Some(PageNumbers {
                first_shown: 2,
                size_pt: 13.0,
            }),
        },
        blocks,
    }
}

/// Every non-empty paragraph text of the model, in reading order.
fn model_texts(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    for block in &doc.blocks {
        match block {
            Block::Paragraph(p) => out.push(p.text()),
            Block::Table(t) => {
                for row in &t.rows {
                    for cell in &row.cells {
                        out.extend(cell.paragraphs.iter().map(Paragraph::text));
                    }
                }
            }
            Block::SignatureGrid(g) => {
                for c in &g.cells {
                    out.push(c.unit.clone());
                    out.extend(c.authority_lines.iter().cloned());
                    out.push(c.signer_name.clone());
                }
            }
        }
    }
    out.retain(|t| !t.is_empty());
    out
}

// ---------------------------------------------------------------------------------------------
// Reading the output back.

fn unzip(bytes: &[u8]) -> (Vec<String>, BTreeMap<String, Vec<u8>>) {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names = Vec::new();
    let mut parts = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        // Large parts deflated; parts of a few KB stored (cheaper than a deflate stream).
        match file.compression() {
            zip::CompressionMethod::Deflated => {}
            zip::CompressionMethod::Stored => assert!(file.size() <= 4096, "{}", file.name()),
            other => panic!("{}: {other:?}", file.name()),
        }
        let modified = file.last_modified().unwrap();
        assert_eq!(
            (
                modified.year(),
                modified.month(),
                modified.day(),
                modified.hour()
            ),
            (1980, 1, 1, 0),
            "{}",
            file.name()
        );
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        names.push(file.name().to_owned());
        parts.insert(file.name().to_owned(), data);
    }
    (names, parts)
}

fn part(parts: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(parts[name].clone()).unwrap()
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// The text of every non-empty `w:p`, XML-unescaped, `w:br` as `'\n'`.
fn docx_texts(document_xml: &str) -> Vec<String> {
    let xml = roxmltree::Document::parse(document_xml).unwrap();
    let mut out = Vec::new();
    for p in xml.descendants().filter(|n| n.has_tag_name((W, "p"))) {
        let mut text = String::new();
        for n in p.descendants() {
            if n.has_tag_name((W, "t")) {
                text.push_str(n.text().unwrap_or(""));
            } else if n.has_tag_name((W, "br")) {
                text.push('\n');
            } else if n.has_tag_name((W, "tab")) {
                text.push('\t');
            }
        }
        if !text.is_empty() {
            out.push(text);
        }
    }
    out
}

fn render(doc: &Document) -> Vec<u8> {
    render_docx(doc, &DocxOptions::default()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn same_document_gives_same_bytes() {
    let doc = sample_document();
    let first = render(&doc);
    // A paragraph built on this thread moves docx-rs's thread-local paragraph id counter.
    let _ = docx_rs::Paragraph::new();
    assert_eq!(first, render(&doc));
    let other_thread = std::thread::spawn(move || render(&doc)).join().unwrap();
    assert_eq!(first, other_thread);
    // Deflated: well below docx-rs's stored archive.
    assert!(first.len() < 40_000, "{} bytes", first.len());
}

#[test]
fn parts_come_in_a_fixed_order() {
    let (names, _) = unzip(&render(&sample_document()));
    assert_eq!(
        names.first().map(String::as_str),
        Some("[Content_Types].xml")
    );
    for needed in [
        "_rels/.rels",
        "docProps/core.xml",
        "docProps/app.xml",
        "word/document.xml",
        "word/styles.xml",
        "word/header1.xml",
        "word/header2.xml",
        "word/_rels/document.xml.rels",
    ] {
        assert!(names.iter().any(|n| n == needed), "{needed} in {names:?}");
    }
}

#[test]
fn every_text_is_there_in_order() {
    let doc = sample_document();
    let (_, parts) = unzip(&render(&doc));
    let xml = part(&parts, "word/document.xml");
    assert_eq!(docx_texts(&xml), model_texts(&doc));
    assert!(docx_texts(&xml).iter().any(|t| t == SPECIAL));
}

#[test]
fn runs_carry_style_size_font_and_language() {
    let doc = sample_document();
    let (_, parts) = unzip(&render(&doc));
    let xml = part(&parts, "word/document.xml");
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let attr = |n: roxmltree::Node, name: &str| n.attribute((W, name)).map(str::to_owned);
    let mut runs = 0;
    for r in tree.descendants().filter(|n| n.has_tag_name((W, "r"))) {
        runs += 1;
        let rpr = r.children().find(|n| n.has_tag_name((W, "rPr"))).unwrap();
        let child = |name: &str| rpr.children().find(|n| n.has_tag_name((W, name)));
        let fonts = child("rFonts").expect("rFonts");
        for slot in ["ascii", "hAnsi", "cs", "eastAsia"] {
            assert_eq!(attr(fonts, slot).as_deref(), Some("Times New Roman"));
        }
        assert_eq!(
            attr(child("lang").expect("lang"), "val").as_deref(),
            Some("vi-VN")
        );
        assert!(child("sz").is_some());
    }
    assert!(runs > 150);

    // The date line: italic, 13 pt.
    let date = tree
        .descendants()
        .find(|n| {
            n.has_tag_name((W, "t")) && n.text() == Some("Quảng Ninh, ngày 22 tháng 01 năm 2021")
        })
        .unwrap();
    let rpr = date.parent().unwrap().first_child().unwrap();
    assert!(rpr.children().any(|n| n.has_tag_name((W, "i"))));
    assert!(!rpr.children().any(|n| n.has_tag_name((W, "b"))));
    let sz = rpr.children().find(|n| n.has_tag_name((W, "sz"))).unwrap();
    assert_eq!(attr(sz, "val").as_deref(), Some("26"));

    // Body paragraphs: justified, 12.7 mm = 720 twips indent, 6 pt after, 1.15 lines.
    assert!(xml.contains(r#"<w:jc w:val="both" /><w:ind w:left="0" w:right="0" w:firstLine="720" /><w:spacing w:before="0" w:after="120" w:line="276" w:lineRule="auto" />"#));
    // A forced line break inside the issuer's name.
    assert!(xml.contains(r#"KHỐI THI ĐUA CÁC ĐƠN VỊ</w:t><w:br w:type="textWrapping" /><w:t xml:space="preserve">THUỘC SỞ"#));

    let styles = part(&parts, "word/styles.xml");
    assert!(styles.contains(r#"<w:lang w:val="vi-VN" /></w:rPr></w:rPrDefault>"#));
    assert!(styles.contains(r#"w:ascii="Times New Roman""#));
    for header in ["word/header1.xml", "word/header2.xml"] {
        let h = part(&parts, header);
        roxmltree::Document::parse(&h).unwrap();
        assert!(h.contains("vi-VN"), "{h}");
    }
    assert!(part(&parts, "word/header1.xml").contains(r#"w:ascii="Times New Roman""#));
}

#[test]
fn tables_repeat_headers_and_never_split_rows() {
    let (_, parts) = unzip(&render(&sample_document()));
    let xml = part(&parts, "word/document.xml");
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let tables: Vec<_> = tree
        .descendants()
        .filter(|n| n.has_tag_name((W, "tbl")))
        .collect();
    assert_eq!(tables.len(), 3);
    let rows = |t: roxmltree::Node<'_, '_>| -> Vec<(bool, bool)> {
        t.children()
            .filter(|n| n.has_tag_name((W, "tr")))
            .map(|tr| {
                let has = |name| tr.descendants().any(|n| n.has_tag_name((W, name)));
                (has("cantSplit"), has("tblHeader"))
            })
            .collect()
    };
    // Header grid: no header rows.
    assert!(rows(tables[0]).iter().all(|&(cant, head)| cant && !head));
    // The data table: the first of its 42 rows repeats.
    let data = rows(tables[1]);
    assert_eq!(data.len(), 42);
    assert_eq!(data[0], (true, true));
    assert!(data[1..].iter().all(|&(cant, head)| cant && !head));
    // Signature grid: 5 cells in 2 columns = 3 rows, the last one with an empty cell.
    let grid = rows(tables[2]);
    assert_eq!(grid.len(), 3);
    let last_row = tables[2]
        .children()
        .rfind(|n| n.has_tag_name((W, "tr")))
        .unwrap();
    let cells: Vec<_> = last_row
        .children()
        .filter(|n| n.has_tag_name((W, "tc")))
        .collect();
    assert_eq!(cells.len(), 2);
    assert!(!cells[1].descendants().any(|n| n.has_tag_name((W, "t"))));

    // Fixed layout; grid = text width 165 mm = 9354 twips.
    let grid_sum = |t: roxmltree::Node<'_, '_>| -> i64 {
        t.descendants()
            .filter(|n| n.has_tag_name((W, "gridCol")))
            .map(|n| n.attribute((W, "w")).unwrap().parse::<i64>().unwrap())
            .sum()
    };
    for t in &tables {
        assert_eq!(grid_sum(*t), 9354);
        assert!(
            t.descendants()
                .any(|n| n.has_tag_name((W, "tblLayout"))
                    && n.attribute((W, "type")) == Some("fixed"))
        );
    }
    assert!(xml.contains(r#"<w:gridSpan w:val="2" />"#));
    // Borders: single 0.5 pt on the data table only.
    let single = |t: roxmltree::Node<'_, '_>| {
        let borders = t
            .descendants()
            .find(|n| n.has_tag_name((W, "tblBorders")))
            .unwrap();
        borders
            .children()
            .filter(|n| {
                n.attribute((W, "val")) == Some("single") && n.attribute((W, "sz")) == Some("4")
            })
            .count()
    };
    assert_eq!(single(tables[0]), 0);
    assert_eq!(single(tables[1]), 6);
    assert_eq!(single(tables[2]), 0);
}

#[test]
fn page_setup_and_page_numbers() {
    let (_, parts) = unzip(&render(&sample_document()));
    let xml = part(&parts, "word/document.xml");
    assert!(
        xml.contains(r#"<w:pgSz w:w="11906" w:h="16838" w:orient="portrait" />"#),
        "{}",
        &xml[xml.len() - 600..]
    );
    assert!(xml.contains(r#"w:top="1134" w:right="850" w:bottom="1134" w:left="1701""#));
    assert!(xml.contains("<w:titlePg />"));
    let numbered = part(&parts, "word/header1.xml");
    assert!(numbered.contains("<w:instrText>PAGE</w:instrText>"));
    assert!(numbered.contains(r#"<w:sz w:val="26" />"#));
    assert!(numbered.contains(r#"<w:jc w:val="center" />"#));
    let first = part(&parts, "word/header2.xml");
    assert!(!first.contains("PAGE"));
    let rels = part(&parts, "word/_rels/document.xml.rels");
    assert!(rels.contains("header1.xml") && rels.contains("header2.xml"));

    // From page 1: no first-page header.
    let mut doc = sample_document();
    doc.page.page_numbers = Some(PageNumbers {
        first_shown: 1,
        size_pt: 13.0,
    });
    let (_, parts) = unzip(&render(&doc));
    assert!(!part(&parts, "word/document.xml").contains("titlePg"));
    // None: no header at all.
    doc.page.page_numbers = None;
    let (names, _) = unzip(&render(&doc));
    assert!(!names.iter().any(|n| n.starts_with("word/header")));
    // From page 3: not expressible.
    doc.page.page_numbers = Some(PageNumbers {
        first_shown: 3,
        size_pt: 13.0,
    });
    assert!(matches!(
        render_docx(&doc, &DocxOptions::default()),
        Err(DocxError::UnsupportedPageNumbering(3))
    ));
}

#[test]
fn core_properties_are_fixed() {
    let (_, parts) = unzip(&render(&sample_document()));
    let core = part(&parts, "docProps/core.xml");
    let tree = roxmltree::Document::parse(&core).unwrap();
    let text = |ns: &str, name: &str| {
        tree.descendants()
            .find(|n| n.has_tag_name((ns, name)))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    const DC: &str = "http://purl.org/dc/elements/1.1/";
    const CP: &str = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties";
    const DCTERMS: &str = "http://purl.org/dc/terms/";
    assert_eq!(
        text(DC, "title").as_deref(),
        Some("BẢN GIAO ƯỚC THI ĐUA NĂM 2021")
    );
    assert_eq!(
        text(DC, "creator").as_deref(),
        Some("Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội")
    );
    assert_eq!(
        text(CP, "keywords").as_deref(),
        Some("giao ước thi đua, 2021, Quảng Ninh, <test> & 'x'")
    );
    assert_eq!(text(DC, "language").as_deref(), Some("vi-VN"));
    assert_eq!(
        text(DCTERMS, "created").as_deref(),
        Some("2021-01-21T17:00:00Z")
    );
    assert_eq!(
        text(DCTERMS, "modified").as_deref(),
        Some("2021-01-21T17:00:00Z")
    );
    assert!(text(DC, "subject").is_some());
}

#[test]
fn rules_are_centred_and_as_long_as_asked() {
    let doc = sample_document();
    let (_, parts) = unzip(&render(&doc));
    let xml = part(&parts, "word/document.xml");
    let tree = roxmltree::Document::parse(&xml).unwrap();
    // (left indent, right indent) of every paragraph with a top border.
    let rules: Vec<(i32, i32)> = tree
        .descendants()
        .filter(|n| n.has_tag_name((W, "pBdr")))
        .map(|b| {
            // A single top border: a rule, not a box.
            let sides: Vec<_> = b.children().filter(|n| n.is_element()).collect();
            assert_eq!(sides.len(), 1);
            assert!(sides[0].has_tag_name((W, "top")));
            assert_eq!(sides[0].attribute((W, "val")), Some("single"));
            let ind = b
                .parent()
                .unwrap()
                .children()
                .find(|n| n.has_tag_name((W, "ind")))
                .unwrap();
            let get = |a| ind.attribute((W, a)).unwrap().parse::<i32>().unwrap();
            (get("left"), get("right"))
        })
        .collect();
    assert_eq!(rules.len(), 3, "{rules:?}");
    let text_width = 9354;
    // Issuer: cell of 70/165 of the text width, minus 1 mm margins on each side.
    let left_column = (text_width as f32 * 70.0 / 165.0).round() as i32;
    let cell_inner = left_column - 2 * 57;
    let (l, r) = rules[0];
    assert!((l - r).abs() <= 1, "{rules:?}");
    let issuer_line =
        measure::last_line(&[run("VĂN HÓA - XÃ HỘI", true, false)], 12.0, 1000.0, 0.0);
    let expected = (issuer_line.width_pt * 20.0 * 0.4).round() as i32;
    assert!(
        (cell_inner - l - r - expected).abs() <= 2,
        "{rules:?} {expected}"
    );
    // Motto: as long as the text.
    let (l, r) = rules[1];
    let motto = measure::last_line(
        &[run("Độc lập - Tự do - Hạnh phúc", true, false)],
        13.0,
        1000.0,
        0.0,
    );
    let cell_inner = text_width - left_column - 2 * 57;
    assert!((cell_inner - l - r - (motto.width_pt * 20.0).round() as i32).abs() <= 2);
    // Under the subtitle: a third of the text, on the full text width.
    let (l, r) = rules[2];
    assert!((l - r).abs() <= 1);
    assert!(l > 3000 && r > 3000, "{rules:?}");
}

#[test]
fn line_breaking_finds_the_last_line() {
    let runs = [run("aaaa bbbb cccc", false, false)];
    let one = measure::last_line(&runs, 10.0, 1000.0, 0.0);
    assert!(one.is_first_line());
    assert_eq!(one.count, 1);
    let word = measure::last_line(&[run("cccc", false, false)], 10.0, 1000.0, 0.0);
    // Just too narrow for the whole line: "cccc" goes to the second line.
    let two = measure::last_line(&runs, 10.0, one.width_pt - 0.1, 0.0);
    assert!(!two.is_first_line());
    assert_eq!(two.count, 2);
    assert!((two.width_pt - word.width_pt).abs() < 0.01);
    let forced = measure::last_line(&[run("aaaa\ncccc ", false, false)], 10.0, 1000.0, 0.0);
    assert_eq!(forced.count, 2);
    assert!((forced.width_pt - word.width_pt).abs() < 0.01);
    // Times New Roman metrics: "Độc lập - Tự do - Hạnh phúc" in 13 pt bold is about 60 mm.
    let motto = measure::last_line(
        &[run("Độc lập - Tự do - Hạnh phúc", true, false)],
        13.0,
        1000.0,
        0.0,
    );
    assert!(
        (150.0..190.0).contains(&motto.width_pt),
        "{}",
        motto.width_pt
    );
}

#[test]
fn invalid_tables_are_errors() {
    let mut doc = sample_document();
    if let Some(Block::Table(t)) = doc.blocks.first_mut() {
        t.rows[0].cells[0].span = 2;
    }
    assert!(matches!(
        render_docx(&doc, &DocxOptions::default()),
        Err(DocxError::InvalidTable { table: 0, .. })
    ));
    let mut doc = sample_document();
    if let Some(Block::Table(t)) = doc.blocks.first_mut() {
        t.columns.clear();
    }
    assert!(render_docx(&doc, &DocxOptions::default()).is_err());
}

#[test]
fn odd_inputs_still_give_valid_xml() {
    let mut doc = sample_document();
    doc.blocks.insert(
        0,
        Block::Paragraph(para(
            vec![
                run("a\u{1}b\tc\u{FFFF}d\n", true, true),
                run("", false, false),
            ],
            Align::Right,
            f32::NAN,
        )),
    );
    // Two tables in a row, a table at the very end, and an empty grid.
    let table = doc
        .blocks
        .iter()
        .find(|b| matches!(b, Block::Table(_)))
        .unwrap()
        .clone();
    doc.blocks.push(table.clone());
    doc.blocks.push(table);
    doc.blocks.push(Block::Table(Table {
        columns: vec![1.0],
        borders: true,
        header_rows: 1,
        rows: vec![],
        space_after_pt: 0.0,
    }));
    doc.blocks.push(Block::SignatureGrid(SignatureGrid {
        columns: 3,
        signature_height_mm: 20.0,
        size_pt: 13.0,
        cells: vec![],
        recipients: vec![],
    }));
    let (_, parts) = unzip(&render(&doc));
    let xml = part(&parts, "word/document.xml");
    let texts = docx_texts(&xml);
    assert_eq!(texts[0], "ab\tcd\n");
    // Every table is followed by a paragraph.
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let body = tree
        .descendants()
        .find(|n| n.has_tag_name((W, "body")))
        .unwrap();
    let kids: Vec<_> = body.children().filter(|n| n.is_element()).collect();
    for pair in kids.windows(2) {
        if pair[0].has_tag_name((W, "tbl")) {
            assert!(pair[1].has_tag_name((W, "p")));
        }
    }
}

#[test]
fn renders_a_long_covenant_quickly() {
    // About 10 pages: the sample's body three times over.
    let mut doc = sample_document();
    let blocks = doc.blocks.clone();
    for _ in 0..2 {
        doc.blocks.extend(blocks.iter().skip(1).cloned());
    }
    std::fs::write(out_dir().join("long.docx"), render(&doc)).unwrap();
    let start = Instant::now();
    let n = 5;
    for _ in 0..n {
        let _ = render(&doc);
    }
    let per = start.elapsed() / n;
    eprintln!(
        "render_docx: {per:?} per ~10-page document ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}

// ---------------------------------------------------------------------------------------------
// LibreOffice: convert to PDF and read it back.

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/docx-lo-test");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The text of each page of a PDF (`pdftotext -raw`), in order, and all of it without the
/// page-number lines.
fn pdf_pages(pdf: &Path) -> (Vec<String>, String) {
    let out = Command::new(crate::test_support::require("pdftotext"))
        .arg("-raw")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext {}", pdf.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let pages = text.split('\u{c}').map(str::to_owned).collect();
    (pages, crate::test_support::text_without_page_numbers(&text))
}

#[test]
fn libreoffice_renders_it() {
    let soffice = crate::test_support::require("soffice");
    let doc = sample_document();
    let dir = out_dir();
    let docx = dir.join("covenant.docx");
    std::fs::write(&docx, render(&doc)).unwrap();
    let profile = format!("-env:UserInstallation=file://{}/lo-profile", dir.display());
    let status = Command::new(soffice)
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(&dir)
        .arg(&docx)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let pdf = dir.join("covenant.pdf");
    let (pages, text) = pdf_pages(&pdf);
    let all = squash(&text);
    for text in model_texts(&doc) {
        assert!(
            all.contains(&squash(&text)),
            "missing from the PDF: {text:?}"
        );
    }
    assert!(!all.is_empty());
    // Page 1 has no number; page 2 starts with "2".
    let page = |n: usize| pages.get(n - 1).cloned().unwrap_or_default();
    let first = page(1);
    assert!(first.trim_start().starts_with("UBND"), "{}", &first[..80]);
    let second = page(2);
    assert_eq!(
        second.lines().next().map(str::trim),
        Some("2"),
        "{}",
        &second[..80]
    );
    let third = page(3);
    assert_eq!(third.lines().next().map(str::trim), Some("3"));
    // The repeated header row on page 2 (the data table spans pages 1-3).
    assert!(second.contains("Danh hiệu đăng ký"));
    eprintln!("LibreOffice PDF: {}", pdf.display());
}

#[test]
fn rules_follow_the_alignment_of_the_last_line() {
    let text = "Độc lập - Tự do - Hạnh phúc";
    let width = measure::last_line(&[run(text, false, false)], 13.0, 1000.0, 0.0).width_pt;
    let tw = (width * 20.0).round() as i32;
    let p = |align| Paragraph {
        first_line_indent_mm: 12.7,
        ..para(vec![run(text, false, false)], align, 13.0)
    };
    let box_width = 9000;
    // One line, flush left after a 720-twip indent: the rule starts where the text starts.
    let (l, r) = rule_indents(&p(Align::Left), RuleWidth::MatchText, box_width, 720).unwrap();
    assert!((l - 720).abs() <= 1 && (box_width - r - 720 - tw).abs() <= 1);
    let (l, _) = rule_indents(&p(Align::Justify), RuleWidth::Mm(10.0), box_width, 720).unwrap();
    assert_eq!(l, 720 + (tw - 567) / 2);
    // Flush right: ends at the right edge.
    let (l, r) = rule_indents(&p(Align::Right), RuleWidth::MatchText, box_width, 720).unwrap();
    assert!(r <= 1 && (box_width - l - tw).abs() <= 1);
    // Two lines: the last one has no indent.
    let long = Paragraph {
        runs: vec![run(&format!("{text} {text} {text}"), false, false)],
        ..p(Align::Left)
    };
    let (l, _) = rule_indents(&long, RuleWidth::MatchText, 4000, 720).unwrap();
    assert_eq!(l, 0);
    // Nothing to underline: no rule.
    assert_eq!(
        rule_indents(
            &para(vec![], Align::Center, 13.0),
            RuleWidth::MatchText,
            9000,
            0
        ),
        None
    );
    // Never longer than the box.
    assert_eq!(
        rule_indents(&p(Align::Center), RuleWidth::Mm(500.0), 9000, 0),
        Some((0, 0))
    );
}
