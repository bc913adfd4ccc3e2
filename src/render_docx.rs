//! Rendering a [`Document`] to DOCX (Office Open XML), in the layout of Decree 30/2020.
//!
//! The body is built with `docx-rs`; the XML parts that `Docx::build` returns are then adjusted
//! for what `docx-rs` cannot express (`w:lang`, `w:tblHeader`, keywords in the core properties)
//! and packed into a deflated ZIP with fixed timestamps and a fixed entry order, so the same
//! `Document` always gives the same bytes.
//!
//! Mapping of the model:
//! - Units: millimetres and points become twips (1/20 pt), font sizes half-points.
//! - Every run carries Times New Roman on all four font slots and the language `vi-VN`; so do
//!   the document defaults, which paragraph marks inherit (they carry only their size).
//! - A paragraph's [`RuleWidth`] rule becomes a small extra paragraph under it, carrying a
//!   top border whose left and right indents centre it under the text's last line with the
//!   requested length; the text's last line is measured with Liberation Serif metrics
//!   (metric-compatible with Times New Roman) and broken greedily like Word and LibreOffice do.
//! - A table's `space_after_pt` becomes an empty paragraph of that exact height; DOCX needs a
//!   paragraph between two tables anyway, or they merge.
//! - The signature grid is a borderless fixed-layout table, one unit per cell.

mod measure;
mod package;
#[cfg(test)]
mod tests;

use docx_rs::{
    AlignmentType, BorderType, BreakType, Docx, FieldCharType, Header, InstrPAGE, InstrText,
    LineSpacing, LineSpacingType, PageMargin, PageOrientationType, ParagraphBorder,
    ParagraphBorderPosition, ParagraphBorders, Run as DocxRun, RunFonts, SpecialIndentType,
    TableBorder, TableBorderPosition, TableBorders, TableCell, TableCellMargins, TableLayoutType,
    TableRow, WidthType,
};

use crate::document::{
    Align, Block, Cell, Document, GridSlot, PageSetup, Paragraph, RuleWidth, Run, SignatureGrid,
    Table,
};

/// Options for [`render_docx`]. None yet; construct with `DocxOptions::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocxOptions {}

/// Why a document could not be rendered to DOCX.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocxError {
    /// A table's columns or cell spans do not fit together.
    #[error("table {table} (counting from 0, signature grids included): {reason}")]
    InvalidTable {
        /// Index of the table among the document's tables and signature grids.
        table: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// DOCX can hide the page number on the first page only (`titlePg`).
    #[error("page numbers starting from page {0} cannot be expressed in DOCX (only page 1 or 2)")]
    UnsupportedPageNumbering(u32),
    /// The document date cannot be written as a W3CDTF date (year outside 0000-9999).
    #[error("the document date cannot be written to the core properties: {0}")]
    Date(#[from] time::error::Format),
    /// The XML produced by docx-rs did not have the expected shape. A bug: please report it.
    #[error("unexpected XML from docx-rs while adding {0}; please report this as a bug")]
    PostProcess(&'static str),
    /// Writing the ZIP archive failed.
    #[error("writing the DOCX archive failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing into the in-memory archive failed.
    #[error("writing the DOCX archive failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Renders `doc` to the bytes of a DOCX file.
///
/// The output depends only on `doc` (and `opts`): rendering the same document twice gives
/// byte-identical files.
///
/// # Errors
///
/// [`DocxError::InvalidTable`] when a table's cell spans do not add up to its column count (or
/// it has no columns, or a signature grid has none); [`DocxError::UnsupportedPageNumbering`]
/// when page numbers should start after page 2; [`DocxError::Date`] when the date is out of
/// range. The other variants are internal failures.
pub fn render_docx(doc: &Document, opts: &DocxOptions) -> Result<Vec<u8>, DocxError> {
    let DocxOptions {} = opts;
    let mut body = Body::new(&doc.page);
    let mut docx = page_setup(Docx::new(), &doc.page)?;
    docx = docx
        .default_fonts(fonts())
        .default_size(26)
        .default_line_spacing(
            LineSpacing::new()
                .before(0)
                .after(0)
                .line(240)
                .line_rule(LineSpacingType::Auto),
        );

    for (index, block) in doc.blocks.iter().enumerate() {
        let next_is_paragraph = matches!(doc.blocks.get(index + 1), Some(Block::Paragraph(_)));
        match block {
            Block::Paragraph(p) => {
                for para in body.paragraph(p, body.text_width) {
                    push_paragraph(&mut docx, para);
                }
            }
            // A table without rows is left out: DOCX has no empty tables. The paragraph after a
            // table also keeps it from merging with a following table.
            Block::Table(t) => {
                let table = body.table(t)?;
                let present = table.is_some();
                if let Some(table) = table {
                    push_table(&mut docx, table);
                }
                if t.space_after_pt > 0.0 || (present && !next_is_paragraph) {
                    push_paragraph(&mut docx, spacer(t.space_after_pt));
                }
            }
            Block::SignatureGrid(g) => {
                if let Some(table) = body.signature_grid(g)? {
                    push_table(&mut docx, table);
                    if !next_is_paragraph {
                        push_paragraph(&mut docx, spacer(0.0));
                    }
                }
            }
        }
    }

    let parts = docx.build();
    package::pack(parts, &doc.meta, &body.header_rows)
}

/// The font of every run: Times New Roman in all four slots.
/// Appends in place: `Docx::add_paragraph` takes and returns the whole (large) `Docx` by value,
/// and those moves were a third of the render time.
fn push_paragraph(docx: &mut Docx, p: docx_rs::Paragraph) {
    docx.document
        .children
        .push(docx_rs::DocumentChild::Paragraph(Box::new(p)));
}

fn push_table(docx: &mut Docx, t: docx_rs::Table) {
    docx.document
        .children
        .push(docx_rs::DocumentChild::Table(Box::new(t)));
}

fn fonts() -> RunFonts {
    const TNR: &str = "Times New Roman";
    RunFonts::new()
        .ascii(TNR)
        .hi_ansi(TNR)
        .cs(TNR)
        .east_asia(TNR)
}

/// Twips (1/20 pt) per millimetre.
const TWIPS_PER_MM: f32 = 1440.0 / 25.4;

/// A finite, non-negative value, or 0.
fn non_negative(x: f32) -> f32 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// Millimetres to twips (negative and non-finite values become 0).
fn mm_to_twips(mm: f32) -> i32 {
    (non_negative(mm) * TWIPS_PER_MM).round() as i32
}

/// Points to twips (negative and non-finite values become 0).
fn pt_to_twips(pt: f32) -> u32 {
    (non_negative(pt) * 20.0).round() as u32
}

/// Points to half-points, the unit of `w:sz`; at least 1.
fn half_points(pt: f32) -> usize {
    ((non_negative(pt) * 2.0).round() as usize).max(1)
}

/// Page size, margins and the page-number header.
fn page_setup(docx: Docx, page: &PageSetup) -> Result<Docx, DocxError> {
    let width = mm_to_twips(page.width_mm);
    let height = mm_to_twips(page.height_mm);
    let orient = if width > height {
        PageOrientationType::Landscape
    } else {
        PageOrientationType::Portrait
    };
    // The page number sits in the middle of the top margin.
    let number_height_mm = page
        .page_numbers
        .map_or(0.0, |n| non_negative(n.size_pt) * 1.15 * 25.4 / 72.0);
    let header_mm = ((non_negative(page.margin_top_mm) - number_height_mm) / 2.0).max(2.0);
    let margin = PageMargin::new()
        .top(mm_to_twips(page.margin_top_mm))
        .bottom(mm_to_twips(page.margin_bottom_mm))
        .left(mm_to_twips(page.margin_left_mm))
        .right(mm_to_twips(page.margin_right_mm))
        .header(mm_to_twips(header_mm))
        .footer(mm_to_twips(page.margin_bottom_mm / 2.0))
        .gutter(0);
    let docx = docx
        .page_size(width.unsigned_abs(), height.unsigned_abs())
        .page_orient(orient)
        .page_margin(margin);

    let Some(numbers) = page.page_numbers else {
        return Ok(docx);
    };
    let size = half_points(numbers.size_pt);
    let run = || DocxRun::new().fonts(fonts()).size(size);
    let number = docx_rs::Paragraph::new()
        .align(AlignmentType::Center)
        .size(size)
        .add_run(run().add_field_char(FieldCharType::Begin, false))
        .add_run(run().add_instr_text(InstrText::PAGE(InstrPAGE::new())))
        .add_run(run().add_field_char(FieldCharType::Separate, false))
        // The field's cached result; Word and LibreOffice recompute it on every page.
        .add_run(run().add_text("2"))
        .add_run(run().add_field_char(FieldCharType::End, false));
    let header = Header::new().add_paragraph(number);
    match numbers.first_shown {
        0 | 1 => Ok(docx.header(header)),
        2 => {
            let empty = docx_rs::Paragraph::new().size(size);
            Ok(docx
                .header(header)
                .first_header(Header::new().add_paragraph(empty))
                .title_pg())
        }
        n => Err(DocxError::UnsupportedPageNumbering(n)),
    }
}

/// An empty paragraph `pt` points high (at least 1 pt): space after a table, and the separator
/// that keeps two tables from merging.
fn spacer(pt: f32) -> docx_rs::Paragraph {
    exact_line(docx_rs::Paragraph::new(), pt_to_twips(pt).max(20))
}

/// Makes `p` an empty-looking paragraph of exactly `twips` height with a tiny paragraph mark.
fn exact_line(p: docx_rs::Paragraph, twips: u32) -> docx_rs::Paragraph {
    p.size(2).line_spacing(
        LineSpacing::new()
            .before(0)
            .after(0)
            .line(i32::try_from(twips).unwrap_or(i32::MAX))
            .line_rule(LineSpacingType::Exact),
    )
}

/// An empty paragraph one line high at `size` half-points, single spacing.
fn empty_line(size: usize) -> docx_rs::Paragraph {
    docx_rs::Paragraph::new().size(size).line_spacing(
        LineSpacing::new()
            .before(0)
            .after(0)
            .line(240)
            .line_rule(LineSpacingType::Auto),
    )
}

/// Builds the body, remembering what the XML post-processing needs.
struct Body {
    /// Width of the text area, in twips.
    text_width: i32,
    /// For each table written, in document order: how many leading rows repeat.
    header_rows: Vec<usize>,
}

/// Left and right margin of the cells of a bordered table, in twips (1.5 mm).
const CELL_MARGIN_BORDERED: i32 = 85;
/// Left and right margin of the cells of a borderless table, in twips (1 mm).
const CELL_MARGIN_BORDERLESS: i32 = 57;
/// Gap between a paragraph's last line (its descenders) and the rule under it, in twips (2 pt).
const RULE_GAP_TWIPS: u32 = 40;
/// Thickness of table borders and rules, in eighths of a point (0.5 pt).
const LINE_EIGHTHS: usize = 4;

impl Body {
    fn new(page: &PageSetup) -> Self {
        Body {
            text_width: mm_to_twips(page.text_width_mm()).max(1),
            header_rows: Vec::new(),
        }
    }

    /// The DOCX paragraphs of `p` set in a box `width` twips wide: the paragraph, then its rule.
    fn paragraph(&self, p: &Paragraph, width: i32) -> Vec<docx_rs::Paragraph> {
        let size = half_points(p.size_pt);
        let indent = mm_to_twips(p.first_line_indent_mm);
        let line = if p.line_spacing.is_finite() && p.line_spacing > 0.0 {
            ((240.0 * p.line_spacing).round() as i32).max(1)
        } else {
            240
        };
        let rule = p.rule_below.and_then(|r| rule_indents(p, r, width, indent));

        let mut para = docx_rs::Paragraph::new()
            .align(match p.align {
                Align::Left => AlignmentType::Left,
                Align::Center => AlignmentType::Center,
                Align::Right => AlignmentType::Right,
                Align::Justify => AlignmentType::Both,
            })
            .size(size)
            .line_spacing(
                LineSpacing::new()
                    .before(pt_to_twips(p.space_before_pt))
                    .after(if rule.is_some() {
                        0
                    } else {
                        pt_to_twips(p.space_after_pt)
                    })
                    .line(line)
                    .line_rule(LineSpacingType::Auto),
            )
            .keep_next(p.keep_with_next || rule.is_some());
        if indent > 0 {
            para = para.indent(None, Some(SpecialIndentType::FirstLine(indent)), None, None);
        }
        for run in &p.runs {
            if let Some(r) = run_of(run, size) {
                para = para.add_run(r);
            }
        }

        let Some((left, right)) = rule else {
            return vec![para];
        };
        // The rule: the top border of an empty 1 pt paragraph, which takes over the space after.
        let mut rule_para = docx_rs::Paragraph::new()
            .size(2)
            .indent(Some(left), None, Some(right), None)
            .line_spacing(
                LineSpacing::new()
                    .before(RULE_GAP_TWIPS)
                    .after(pt_to_twips(p.space_after_pt))
                    .line(20)
                    .line_rule(LineSpacingType::Exact),
            )
            .keep_next(p.keep_with_next);
        rule_para.property = rule_para.property.set_borders(
            ParagraphBorders::with_empty().set(
                ParagraphBorder::new(ParagraphBorderPosition::Top)
                    .val(BorderType::Single)
                    .size(LINE_EIGHTHS)
                    .space(0)
                    .color("000000"),
            ),
        );
        vec![para, rule_para]
    }

    /// A model table: fixed layout over the text width, rows that do not split; `None` when it
    /// has no rows.
    fn table(&mut self, t: &Table) -> Result<Option<docx_rs::Table>, DocxError> {
        let index = self.header_rows.len();
        let invalid = |reason| DocxError::InvalidTable {
            table: index,
            reason,
        };
        if t.columns.is_empty() {
            return Err(invalid("no columns"));
        }
        if t.columns.iter().any(|w| !w.is_finite() || *w <= 0.0) {
            return Err(invalid("column widths must be positive"));
        }
        if t.rows.is_empty() {
            return Ok(None);
        }
        let grid = distribute(self.text_width, &t.columns);
        let margin = if t.borders {
            CELL_MARGIN_BORDERED
        } else {
            CELL_MARGIN_BORDERLESS
        };
        let mut rows = Vec::with_capacity(t.rows.len());
        for row in &t.rows {
            let mut cells = Vec::with_capacity(row.cells.len());
            let mut column = 0;
            for cell in &row.cells {
                let span = cell.span.max(1);
                let width: i32 = grid
                    .get(column..column + span)
                    .ok_or_else(|| invalid("cell spans exceed the column count"))?
                    .iter()
                    .sum();
                column += span;
                cells.push(self.cell(cell, span, width, margin));
            }
            if column != grid.len() {
                return Err(invalid("cell spans do not add up to the column count"));
            }
            rows.push(TableRow::new(cells).cant_split());
        }
        self.header_rows.push(t.header_rows.min(t.rows.len()));
        Ok(Some(table_of(rows, grid, t.borders, margin)))
    }

    /// One table cell with its paragraphs.
    fn cell(&self, cell: &Cell, span: usize, width: i32, margin: i32) -> TableCell {
        let mut tc = TableCell::new().width(width.unsigned_abs() as usize, WidthType::Dxa);
        if span > 1 {
            tc = tc.grid_span(span);
        }
        let inner = (width - 2 * margin).max(1);
        for p in &cell.paragraphs {
            for para in self.paragraph(p, inner) {
                tc = tc.add_paragraph(para);
            }
        }
        if cell.paragraphs.is_empty() {
            tc = tc.add_paragraph(empty_line(26));
        }
        tc
    }

    /// The signature grid: a borderless table, one signing unit per cell, filled row by row;
    /// `None` when it has no cells.
    fn signature_grid(&mut self, g: &SignatureGrid) -> Result<Option<docx_rs::Table>, DocxError> {
        if g.columns == 0 {
            return Err(DocxError::InvalidTable {
                table: self.header_rows.len(),
                reason: "a signature grid needs at least one column",
            });
        }
        if g.cells.is_empty() {
            return Ok(None);
        }
        let grid = distribute(self.text_width, &vec![1.0; g.columns]);
        let margin = CELL_MARGIN_BORDERLESS;
        let size = half_points(g.size_pt);
        let line = |text: &str, space_after_pt: f32| Paragraph {
            runs: vec![Run {
                text: text.to_owned(),
                bold: true,
                italic: false,
            }],
            align: Align::Center,
            size_pt: g.size_pt,
            first_line_indent_mm: 0.0,
            space_before_pt: 0.0,
            space_after_pt,
            line_spacing: 1.0,
            keep_with_next: true,
            rule_below: None,
        };
        let signature_space = mm_to_twips(g.signature_height_mm).unsigned_abs().max(20);

        let mut rows = Vec::new();
        for chunk in g.slots().chunks(g.columns) {
            // The lines above the signature: unit, then authority and position; a recipients
            // block is its own paragraphs and does not count in lining up the signers.
            let heads: Vec<Vec<Paragraph>> = chunk
                .iter()
                .map(|slot| match slot {
                    GridSlot::Signature(sc) => std::iter::once(&sc.unit)
                        .chain(&sc.authority_lines)
                        .map(|text| line(text, 0.0))
                        .collect(),
                    GridSlot::Recipients(_) => Vec::new(),
                })
                .collect();
            // Where a unit's name wraps, pad the other cells of the row with empty lines so the
            // signature areas and the names line up across the row.
            let inner_pt = |column: usize| {
                grid.get(column)
                    .map_or(1.0, |w| (w - 2 * margin).max(1) as f32 / 20.0)
            };
            let counts: Vec<usize> = heads
                .iter()
                .enumerate()
                .map(|(column, paragraphs)| {
                    paragraphs
                        .iter()
                        .map(|p| {
                            measure::last_line(&p.runs, p.size_pt, inner_pt(column), 0.0).count
                        })
                        .sum()
                })
                .collect();
            let tallest = counts.iter().copied().max().unwrap_or(0);

            let mut cells = Vec::with_capacity(g.columns);
            for (i, width) in grid.iter().enumerate() {
                let inner = (width - 2 * margin).max(1);
                let mut tc = TableCell::new().width(width.unsigned_abs() as usize, WidthType::Dxa);
                match (chunk.get(i), heads.get(i)) {
                    (Some(GridSlot::Recipients(paragraphs)), _) => {
                        for p in paragraphs.iter() {
                            for para in self.paragraph(p, inner) {
                                tc = tc.add_paragraph(para);
                            }
                        }
                    }
                    (Some(GridSlot::Signature(sc)), Some(head)) => {
                        for p in head {
                            for para in self.paragraph(p, inner) {
                                tc = tc.add_paragraph(para);
                            }
                        }
                        let missing = tallest.saturating_sub(counts.get(i).copied().unwrap_or(0));
                        for _ in 0..missing {
                            tc = tc.add_paragraph(empty_line(size).keep_next(true));
                        }
                        tc = tc.add_paragraph(
                            exact_line(docx_rs::Paragraph::new(), signature_space).keep_next(true),
                        );
                        // One blank line of the cell's size separates the grid's rows.
                        for para in self.paragraph(&line(&sc.signer_name, g.size_pt), inner) {
                            tc = tc.add_paragraph(para.keep_next(false));
                        }
                    }
                    _ => tc = tc.add_paragraph(empty_line(size)),
                }
                cells.push(tc);
            }
            rows.push(TableRow::new(cells).cant_split());
        }
        self.header_rows.push(0);
        Ok(Some(table_of(rows, grid, false, margin)))
    }
}

/// A fixed-layout table spanning the grid, with 0.5 pt borders or none.
fn table_of(rows: Vec<TableRow>, grid: Vec<i32>, borders: bool, margin: i32) -> docx_rs::Table {
    let total: i32 = grid.iter().sum();
    let border = |position| {
        if borders {
            TableBorder::new(position)
                .border_type(BorderType::Single)
                .size(LINE_EIGHTHS)
                .color("000000")
        } else {
            TableBorder::new(position)
                .border_type(BorderType::None)
                .size(0)
                .color("auto")
        }
    };
    let all = [
        TableBorderPosition::Top,
        TableBorderPosition::Left,
        TableBorderPosition::Bottom,
        TableBorderPosition::Right,
        TableBorderPosition::InsideH,
        TableBorderPosition::InsideV,
    ]
    .into_iter()
    .fold(TableBorders::with_empty(), |b, p| b.set(border(p)));
    let m = margin.unsigned_abs() as usize;
    docx_rs::Table::new(rows)
        .set_grid(grid.iter().map(|w| w.unsigned_abs() as usize).collect())
        .layout(TableLayoutType::Fixed)
        .width(total.unsigned_abs() as usize, WidthType::Dxa)
        .indent(0)
        .margins(TableCellMargins::new().margin(0, m, 0, m))
        .set_borders(all)
}

/// Splits `total` twips in proportion to `weights`, rounding so the parts add up to `total`.
fn distribute(total: i32, weights: &[f32]) -> Vec<i32> {
    let sum: f32 = weights.iter().sum();
    let mut acc = 0.0_f32;
    let mut previous = 0_i32;
    weights
        .iter()
        .map(|w| {
            acc += w;
            let edge = (total as f32 * acc / sum).round() as i32;
            let width = edge - previous;
            previous = edge;
            width
        })
        .collect()
}

/// A DOCX run for a model run: `'\n'` becomes a line break, `'\t'` a tab; characters that XML
/// cannot carry are dropped. `None` for an empty run.
fn run_of(run: &Run, size: usize) -> Option<DocxRun> {
    if run.text.is_empty() {
        return None;
    }
    let mut r = DocxRun::new().fonts(fonts()).size(size);
    if run.bold {
        r = r.bold();
    }
    if run.italic {
        r = r.italic();
    }
    for (i, line) in run.text.split('\n').enumerate() {
        if i > 0 {
            r = r.add_break(BreakType::TextWrapping);
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                r = r.add_tab();
            }
            if !piece.is_empty() {
                r = r.add_text(xml_safe(piece));
            }
        }
    }
    Some(r)
}

/// `s` without the characters XML 1.0 cannot carry (C0 controls, U+FFFE, U+FFFF).
fn xml_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c < ' ' && c != '\t' && c != '\n') || c == '\u{FFFE}' || c == '\u{FFFF}';
    if s.contains(bad) {
        std::borrow::Cow::Owned(s.chars().filter(|c| !bad(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Left and right indents (twips) of the rule paragraph under `p`, set in a box `width` twips
/// wide whose first line is indented by `indent`; `None` when the rule has no length.
fn rule_indents(p: &Paragraph, rule: RuleWidth, width: i32, indent: i32) -> Option<(i32, i32)> {
    let last = measure::last_line(
        &p.runs,
        p.size_pt,
        width as f32 / 20.0,
        indent as f32 / 20.0,
    );
    let text = last.width_pt * 20.0;
    let length = match rule {
        RuleWidth::MatchText => text,
        RuleWidth::FractionOfText(f) => text * non_negative(f),
        RuleWidth::Mm(mm) => mm_to_twips(mm) as f32,
    }
    .min(width as f32);
    if length < 1.0 {
        return None;
    }
    let start = if last.is_first_line() {
        indent.max(0) as f32
    } else {
        0.0
    };
    let centre = match p.align {
        Align::Center => (start + width as f32) / 2.0,
        Align::Left | Align::Justify => start + text / 2.0,
        Align::Right => width as f32 - text / 2.0,
    };
    let left = (centre - length / 2.0).round().max(0.0) as i32;
    let right = (width as f32 - centre - length / 2.0).round().max(0.0) as i32;
    Some((left, right))
}
