//! The document markup a template produces, and its parser into [`Document`].
//!
//! ```text
//! <document title subject author keywords page-numbers-from page-number-size
//!           width height top bottom left right>            (mm; defaults: A4, 20/20/30/15)
//!   <p align size indent before after spacing keep-with-next rule>text <b>..</b> <i>..</i> <br/></p>
//!   <table columns="8,62,30" borders header-rows after> <row> <cell span> <p>..</p> </cell> </row> </table>
//!   <signatures columns height size> <recipients> <p>..</p> </recipients>
//!     <sig field seal unit name> <authority>..</authority> </sig> </signatures>
//! </document>
//! ```
//! Whitespace inside a paragraph folds to single spaces, as in HTML.

use roxmltree::{Node, NodeType};

use crate::document::{
    Align, Block, Cell, Document, Metadata, PageNumbers, PageSetup, Paragraph, Row, RuleWidth, Run,
    SignatureCell, SignatureGrid, Table,
};

/// A markup error at a line of the rendered markup.
pub(crate) struct MarkupError {
    pub line: u32,
    pub message: String,
}

type Result<T> = std::result::Result<T, MarkupError>;

pub(crate) fn parse(text: &str, date: time::Date) -> Result<Document> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1_000_000,
    };
    let xml = roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let pos = e.pos();
        MarkupError {
            line: pos.row,
            message: format!("XML không hợp lệ: {e}{}", excerpt(text, pos.row)),
        }
    })?;
    let p = Parser { xml: &xml, text };
    p.document(xml.root_element(), date)
}

fn excerpt(text: &str, line: u32) -> String {
    match text.lines().nth(line.saturating_sub(1) as usize) {
        Some(l) => format!(" — «{}»", l.trim().chars().take(120).collect::<String>()),
        None => String::new(),
    }
}

struct Parser<'x, 'i> {
    xml: &'x roxmltree::Document<'i>,
    text: &'x str,
}

impl Parser<'_, '_> {
    fn err<T>(&self, node: Node, message: impl Into<String>) -> Result<T> {
        let line = self.xml.text_pos_at(node.range().start).row;
        Err(MarkupError {
            line,
            message: format!("{}{}", message.into(), excerpt(self.text, line)),
        })
    }

    fn check_attrs(&self, node: Node, known: &[&str]) -> Result<()> {
        for a in node.attributes() {
            if !known.contains(&a.name()) {
                return self.err(
                    node,
                    format!(
                        "thuộc tính \"{}\" không hợp lệ trong <{}>",
                        a.name(),
                        node.tag_name().name()
                    ),
                );
            }
        }
        Ok(())
    }

    fn num(&self, node: Node, attr: &str, default: f32, min: f32, max: f32) -> Result<f32> {
        match node.attribute(attr) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<f32>() {
                Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(x),
                _ => self.err(
                    node,
                    format!("{attr}=\"{v}\" phải là số trong khoảng {min}..{max}"),
                ),
            },
        }
    }

    fn count(
        &self,
        node: Node,
        attr: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize> {
        match node.attribute(attr) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(x) if (min..=max).contains(&x) => Ok(x),
                _ => self.err(
                    node,
                    format!("{attr}=\"{v}\" phải là số nguyên trong khoảng {min}..{max}"),
                ),
            },
        }
    }

    fn flag(&self, node: Node, attr: &str, default: bool) -> Result<bool> {
        match node.attribute(attr) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => self.err(node, format!("{attr}=\"{v}\" phải là true hoặc false")),
        }
    }

    fn elements<'a, 'b>(&self, node: Node<'a, 'b>) -> Result<Vec<Node<'a, 'b>>> {
        let mut out = Vec::new();
        for c in node.children() {
            match c.node_type() {
                NodeType::Element => out.push(c),
                NodeType::Text if !c.text().unwrap_or("").trim().is_empty() => {
                    return self.err(
                        c,
                        format!(
                            "văn bản nằm ngoài đoạn <p> trong <{}>",
                            node.tag_name().name()
                        ),
                    );
                }
                _ => {}
            }
        }
        Ok(out)
    }

    fn document(&self, root: Node, date: time::Date) -> Result<Document> {
        if root.tag_name().name() != "document" {
            return self.err(root, "phần tử gốc phải là <document>");
        }
        self.check_attrs(
            root,
            &[
                "title",
                "subject",
                "author",
                "keywords",
                "page-numbers-from",
                "page-number-size",
                "width",
                "height",
                "top",
                "bottom",
                "left",
                "right",
            ],
        )?;
        let page_numbers_from = self.count(root, "page-numbers-from", 2, 0, 10_000)?;
        let page = PageSetup {
            width_mm: self.num(root, "width", 210.0, 50.0, 1000.0)?,
            height_mm: self.num(root, "height", 297.0, 50.0, 1000.0)?,
            margin_top_mm: self.num(root, "top", 20.0, 5.0, 100.0)?,
            margin_bottom_mm: self.num(root, "bottom", 20.0, 5.0, 100.0)?,
            margin_left_mm: self.num(root, "left", 30.0, 5.0, 100.0)?,
            margin_right_mm: self.num(root, "right", 15.0, 5.0, 100.0)?,
            page_numbers: if page_numbers_from == 0 {
                None
            } else {
                Some(PageNumbers {
                    first_shown: u32::try_from(page_numbers_from).unwrap_or(2),
                    size_pt: self.num(root, "page-number-size", 13.0, 6.0, 30.0)?,
                })
            },
        };
        if page.text_width_mm() < 40.0 {
            return self.err(root, "lề trái và phải quá lớn so với khổ giấy");
        }
        let date = date
            .with_hms(0, 0, 0)
            .map(|dt| dt.assume_offset(vietnam_offset()))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let attr = |k: &str| root.attribute(k).map(fold_ws).unwrap_or_default();
        let meta = Metadata {
            title: attr("title"),
            subject: attr("subject"),
            author: attr("author"),
            keywords: attr("keywords"),
            date,
            lang: "vi-VN".into(),
        };
        let mut blocks = Vec::new();
        for child in self.elements(root)? {
            blocks.push(self.block(child)?);
        }
        Ok(Document { meta, page, blocks })
    }

    fn block(&self, node: Node) -> Result<Block> {
        match node.tag_name().name() {
            "p" => Ok(Block::Paragraph(self.paragraph(node)?)),
            "table" => Ok(Block::Table(self.table(node)?)),
            "signatures" => Ok(Block::SignatureGrid(self.signatures(node)?)),
            other => self.err(
                node,
                format!(
                    "phần tử <{other}> không hợp lệ ở đây (cần <p>, <table> hoặc <signatures>)"
                ),
            ),
        }
    }

    fn paragraph(&self, node: Node) -> Result<Paragraph> {
        self.check_attrs(
            node,
            &[
                "align",
                "size",
                "indent",
                "before",
                "after",
                "spacing",
                "keep-with-next",
                "rule",
            ],
        )?;
        let align = match node.attribute("align").unwrap_or("left") {
            "left" => Align::Left,
            "center" => Align::Center,
            "right" => Align::Right,
            "justify" => Align::Justify,
            other => {
                return self.err(
                    node,
                    format!("align=\"{other}\" phải là left, center, right hoặc justify"),
                );
            }
        };
        let rule_below = match node.attribute("rule") {
            None => None,
            Some(r) => Some(self.rule(node, r)?),
        };
        let mut runs = Vec::new();
        self.runs(node, false, false, &mut runs)?;
        let runs = fold_runs(runs);
        Ok(Paragraph {
            runs,
            align,
            size_pt: self.num(node, "size", 14.0, 4.0, 72.0)?,
            first_line_indent_mm: self.num(node, "indent", 0.0, 0.0, 100.0)?,
            space_before_pt: self.num(node, "before", 0.0, 0.0, 200.0)?,
            space_after_pt: self.num(node, "after", 0.0, 0.0, 200.0)?,
            line_spacing: self.num(node, "spacing", 1.0, 0.5, 4.0)?,
            keep_with_next: self.flag(node, "keep-with-next", false)?,
            rule_below,
        })
    }

    fn rule(&self, node: Node, r: &str) -> Result<RuleWidth> {
        let r = r.trim();
        if r == "text" {
            return Ok(RuleWidth::MatchText);
        }
        if let Some(mm) = r.strip_suffix("mm")
            && let Ok(v) = mm.trim().parse::<f32>()
            && v > 0.0
            && v < 1000.0
        {
            return Ok(RuleWidth::Mm(v));
        }
        if let Some((a, b)) = r.split_once('/')
            && let (Ok(a), Ok(b)) = (a.trim().parse::<f32>(), b.trim().parse::<f32>())
            && a > 0.0
            && b > 0.0
            && a <= b
        {
            return Ok(RuleWidth::FractionOfText(a / b));
        }
        self.err(
            node,
            format!(
                "rule=\"{r}\" phải là \"text\", một phân số như \"1/3\" hoặc độ dài như \"20mm\""
            ),
        )
    }

    fn runs(&self, node: Node, bold: bool, italic: bool, out: &mut Vec<Run>) -> Result<()> {
        for c in node.children() {
            match c.node_type() {
                NodeType::Text => out.push(Run {
                    text: c.text().unwrap_or("").to_string(),
                    bold,
                    italic,
                }),
                NodeType::Element => match c.tag_name().name() {
                    "b" => {
                        self.check_attrs(c, &[])?;
                        self.runs(c, true, italic, out)?
                    }
                    "i" => {
                        self.check_attrs(c, &[])?;
                        self.runs(c, bold, true, out)?
                    }
                    "br" => {
                        self.check_attrs(c, &[])?;
                        out.push(Run {
                            text: "\n".into(),
                            bold,
                            italic,
                        })
                    }
                    other => return self.err(
                        c,
                        format!(
                            "phần tử <{other}> không hợp lệ trong đoạn (cần <b>, <i> hoặc <br/>)"
                        ),
                    ),
                },
                _ => {}
            }
        }
        Ok(())
    }

    fn table(&self, node: Node) -> Result<Table> {
        self.check_attrs(node, &["columns", "borders", "header-rows", "after"])?;
        let Some(cols) = node.attribute("columns") else {
            return self.err(
                node,
                "<table> cần thuộc tính columns, ví dụ columns=\"1,3\"",
            );
        };
        let mut columns = Vec::new();
        for c in cols.split(',') {
            match c.trim().parse::<f32>() {
                Ok(w) if w > 0.0 && w.is_finite() => columns.push(w),
                _ => {
                    return self.err(
                        node,
                        format!("columns=\"{cols}\": độ rộng cột phải là số dương"),
                    );
                }
            }
        }
        if columns.is_empty() || columns.len() > 20 {
            return self.err(node, "bảng phải có từ 1 đến 20 cột");
        }
        let mut rows = Vec::new();
        for r in self.elements(node)? {
            if r.tag_name().name() != "row" {
                return self.err(r, "trong <table> chỉ có <row>");
            }
            self.check_attrs(r, &[])?;
            let mut cells = Vec::new();
            let mut spanned = 0;
            for c in self.elements(r)? {
                if c.tag_name().name() != "cell" {
                    return self.err(c, "trong <row> chỉ có <cell>");
                }
                self.check_attrs(c, &["span"])?;
                let span = self.count(c, "span", 1, 1, columns.len())?;
                spanned += span;
                let mut paragraphs = Vec::new();
                for p in self.elements(c)? {
                    if p.tag_name().name() != "p" {
                        return self.err(p, "trong <cell> chỉ có <p>");
                    }
                    paragraphs.push(self.paragraph(p)?);
                }
                cells.push(Cell { span, paragraphs });
            }
            if spanned != columns.len() {
                return self.err(
                    r,
                    format!("hàng có {spanned} cột nhưng bảng có {} cột", columns.len()),
                );
            }
            rows.push(Row { cells });
        }
        let header_rows = self.count(node, "header-rows", 0, 0, rows.len())?;
        Ok(Table {
            columns,
            borders: self.flag(node, "borders", false)?,
            header_rows,
            rows,
            space_after_pt: self.num(node, "after", 0.0, 0.0, 200.0)?,
        })
    }

    fn signatures(&self, node: Node) -> Result<SignatureGrid> {
        self.check_attrs(node, &["columns", "height", "size"])?;
        let mut cells = Vec::new();
        let mut recipients = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for s in self.elements(node)? {
            if s.tag_name().name() == "recipients" {
                // Decree 30/2020 Appendix I ô 9a/9b: the first place of the grid.
                if !cells.is_empty() || !recipients.is_empty() {
                    return self.err(s, "<recipients> chỉ có một, đặt trước các <sig>");
                }
                self.check_attrs(s, &[])?;
                for p in self.elements(s)? {
                    if p.tag_name().name() != "p" {
                        return self.err(p, "trong <recipients> chỉ có <p>");
                    }
                    recipients.push(self.paragraph(p)?);
                }
                if recipients.is_empty() {
                    return self.err(s, "<recipients> cần ít nhất một <p>");
                }
                continue;
            }
            if s.tag_name().name() != "sig" {
                return self.err(s, "trong <signatures> chỉ có <recipients> và <sig>");
            }
            self.check_attrs(s, &["field", "seal", "unit", "name"])?;
            let field = s.attribute("field").unwrap_or("").trim().to_string();
            if !crate::covenant::valid_unit_id(&field) {
                return self.err(s, format!("field=\"{field}\" không phải mã đơn vị hợp lệ"));
            }
            if !names.insert(field.clone()) {
                return self.err(s, format!("trường chữ ký \"{field}\" bị lặp"));
            }
            let seal_field = match s.attribute("seal").map(str::trim) {
                None => None,
                Some(seal) => {
                    if seal != crate::workflow::Seat::Seal.field(&field) {
                        return self.err(
                            s,
                            format!(
                                "seal=\"{seal}\" phải là \"{}\"",
                                crate::workflow::Seat::Seal.field(&field)
                            ),
                        );
                    }
                    if !names.insert(seal.to_owned()) {
                        return self.err(s, format!("trường chữ ký \"{seal}\" bị lặp"));
                    }
                    Some(seal.to_owned())
                }
            };
            let mut authority_lines = Vec::new();
            for a in self.elements(s)? {
                if a.tag_name().name() != "authority" {
                    return self.err(a, "trong <sig> chỉ có <authority>");
                }
                self.check_attrs(a, &[])?;
                authority_lines.push(fold_ws(a.text().unwrap_or("")));
            }
            cells.push(SignatureCell {
                field_name: field,
                unit: fold_ws(s.attribute("unit").unwrap_or("")),
                authority_lines,
                signer_name: fold_ws(s.attribute("name").unwrap_or("")),
                seal_field,
            });
        }
        Ok(SignatureGrid {
            columns: self.count(node, "columns", 2, 1, 4)?,
            signature_height_mm: self.num(node, "height", 28.0, 10.0, 100.0)?,
            size_pt: self.num(node, "size", 13.0, 6.0, 30.0)?,
            cells,
            recipients,
        })
    }
}

/// Vietnam time, UTC+07:00.
pub(crate) fn vietnam_offset() -> time::UtcOffset {
    time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC)
}

/// Folds every whitespace run to one space and trims.
pub(crate) fn fold_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Folds whitespace across run boundaries (HTML-like): runs of spaces, tabs and newlines
/// become one space; none at the start or end of a line; forced breaks (`"\n"` runs) kept.
fn fold_runs(runs: Vec<Run>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    // Whether the output so far ends in a space or a line start (so the next space is dropped).
    let mut at_space = true;
    for run in runs {
        if run.text == "\n" {
            if let Some(last) = out.last_mut() {
                let trimmed = last.text.trim_end_matches(' ').len();
                last.text.truncate(trimmed);
            }
            out.push(run);
            at_space = true;
            continue;
        }
        let mut text = String::with_capacity(run.text.len());
        for ch in run.text.chars() {
            if ch.is_whitespace() {
                if !at_space {
                    text.push(' ');
                    at_space = true;
                }
            } else {
                text.push(ch);
                at_space = false;
            }
        }
        if text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last)
                if last.bold == run.bold && last.italic == run.italic && last.text != "\n" =>
            {
                last.text.push_str(&text)
            }
            _ => out.push(Run {
                text,
                bold: run.bold,
                italic: run.italic,
            }),
        }
    }
    if let Some(last) = out.last_mut() {
        let trimmed = last.text.trim_end_matches(' ').len();
        last.text.truncate(trimmed);
    }
    out.retain(|r| !r.text.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::GridSlot;

    #[test]
    fn whitespace_folds_across_runs() {
        let runs = fold_runs(vec![
            Run::plain("  Danh hiệu:\n   "),
            Run {
                text: " Cờ thi đua ".into(),
                bold: true,
                italic: false,
            },
            Run::plain(" . "),
        ]);
        let text: String = runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "Danh hiệu: Cờ thi đua .");
        assert!(runs[1].bold);
    }

    fn grid_of(markup: &str) -> std::result::Result<SignatureGrid, String> {
        let date = time::macros::date!(2021 - 06 - 25);
        let doc = parse(&format!("<document>{markup}</document>"), date)
            .map_err(|e| format!("{}: {}", e.line, e.message))?;
        match doc.blocks.into_iter().next() {
            Some(Block::SignatureGrid(g)) => Ok(g),
            other => Err(format!("not a grid: {other:?}")),
        }
    }

    #[test]
    fn recipients_take_the_first_place_of_the_signature_grid() {
        let g = grid_of(
            r#"<signatures columns="2"><recipients><p size="12"><b><i>Nơi nhận:</i></b></p>
               <p size="11">- Lưu: Khối thi đua.</p></recipients>
               <sig field="U01" unit="SỞ VĂN HÓA" name="Nguyễn Văn A"><authority>TRƯỞNG KHỐI</authority></sig>
               </signatures>"#,
        )
        .unwrap();
        assert_eq!(g.recipients.len(), 2);
        assert_eq!(g.recipients[0].runs[0].text, "Nơi nhận:");
        assert!(g.recipients[0].runs[0].bold && g.recipients[0].runs[0].italic);
        let slots = g.slots();
        assert!(matches!(slots[0], GridSlot::Recipients(r) if r.len() == 2));
        assert!(matches!(slots[1], GridSlot::Signature(c) if c.field_name == "U01"));
        // A grid without recipients serialises as before (covenant identifiers depend on it).
        let plain = grid_of(r#"<signatures><sig field="U01" unit="A" name="B"/></signatures>"#);
        let json = serde_json::to_string(&plain.unwrap()).unwrap();
        assert!(!json.contains("recipients"), "{json}");
    }

    #[test]
    fn recipients_after_a_signer_or_empty_are_refused() {
        let after = grid_of(
            r#"<signatures><sig field="U01" unit="A" name="B"/><recipients><p>x</p></recipients></signatures>"#,
        );
        assert!(after.unwrap_err().contains("đặt trước các <sig>"));
        let empty = grid_of(r#"<signatures><recipients/></signatures>"#);
        assert!(empty.unwrap_err().contains("ít nhất một <p>"));
        let other = grid_of(r#"<signatures><recipients><table/></recipients></signatures>"#);
        assert!(other.unwrap_err().contains("chỉ có <p>"));
    }
}
