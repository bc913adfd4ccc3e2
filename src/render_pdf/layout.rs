//! Layout: measure, break lines, paginate. Produces a display list per page.
//!
//! Coordinates here are points measured from the top-left corner of the page, y downwards;
//! the writer flips them. Lines break greedily at Unicode line-break opportunities (UAX #14)
//! with advances from the font's `hmtx` — the same way LibreOffice breaks the DOCX, so both
//! outputs look alike. Justified lines stretch their spaces.

use unicode_linebreak::{BreakOpportunity, linebreaks};

use crate::document::{
    Align, Block, Document, GridSlot, PageSetup, Paragraph, RuleWidth, SignatureCell,
    SignatureGrid, Table,
};
use crate::fonts::{Fonts, Style};

/// Millimetres to points.
pub(crate) const MM: f32 = 72.0 / 25.4;

/// Horizontal padding inside bordered table cells (pt).
const CELL_PAD_X: f32 = 2.0 * MM;
/// Vertical padding inside bordered table cells (pt).
const CELL_PAD_Y: f32 = 2.0;
/// Border width (pt).
const BORDER: f32 = 0.5;
/// Gap between a paragraph's last line and its rule (pt), and the space the rule takes.
const RULE_GAP: f32 = 3.0;
const RULE_SPACE: f32 = 6.0;

/// A positioned run of text in one style.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextItem {
    /// Left edge (pt from the left of the page).
    pub x: f32,
    /// Baseline (pt from the top of the page).
    pub baseline: f32,
    pub size: f32,
    pub style: Style,
    pub text: String,
    /// Extra space added after each U+0020 (pt), for justification.
    pub space_extra: f32,
    /// Width including the extra spacing (pt).
    pub width: f32,
}

/// Something drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Text(TextItem),
    /// A straight line from (x1, y1) to (x2, y2), `width` pt thick.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
}

/// Where a signature field goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldBox {
    pub name: String,
    /// The signer's name printed under the field (written as the field's `/TU`).
    pub signer: String,
    /// 0-based page index.
    pub page: usize,
    /// Left, top, right, bottom in pt from the top-left.
    pub rect: [f32; 4],
}

/// The laid-out document.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub pages: Vec<Vec<Item>>,
    pub fields: Vec<FieldBox>,
}

/// A laid-out line of a paragraph, positioned relative to the paragraph's left edge and top.
#[derive(Debug, Clone)]
struct Line {
    items: Vec<TextItem>,
    /// Natural width of the line's text (pt), without trailing spaces or justification.
    width: f32,
    /// Left edge of the text relative to the paragraph box.
    x: f32,
    height: f32,
    ascent: f32,
}

/// A paragraph laid out in a given width.
#[derive(Debug, Clone)]
struct ParaBox {
    lines: Vec<Line>,
    before: f32,
    after: f32,
    /// Extra height below the last line for the rule, and the rule itself (x1, x2 relative).
    rule: Option<(f32, f32)>,
}

impl ParaBox {
    fn content_height(&self) -> f32 {
        self.lines.iter().map(|l| l.height).sum::<f32>()
            + if self.rule.is_some() { RULE_SPACE } else { 0.0 }
    }

    fn total_height(&self) -> f32 {
        self.before + self.content_height() + self.after
    }

    /// Draws the paragraph with its top-left corner at (x, y) (after `before`).
    fn draw(&self, x: f32, y: f32, out: &mut Vec<Item>) -> f32 {
        let mut y = y;
        for line in &self.lines {
            draw_line(line, x, y, out);
            y += line.height;
        }
        if let (Some((x1, x2)), Some(last)) = (self.rule, self.lines.last()) {
            let ry = y - last.height + last.ascent + last.height * 0.22 + RULE_GAP;
            out.push(Item::Line {
                x1: x + x1,
                y1: ry,
                x2: x + x2,
                y2: ry,
                width: 0.6,
            });
            y += RULE_SPACE;
        }
        y
    }
}

fn draw_line(line: &Line, x: f32, y: f32, out: &mut Vec<Item>) {
    for it in &line.items {
        let mut it = it.clone();
        it.x += x;
        it.baseline += y;
        out.push(Item::Text(it));
    }
}

/// Lays out one paragraph in `width` points.
fn layout_paragraph(fonts: &Fonts, p: &Paragraph, width: f32) -> ParaBox {
    let size = p.size_pt;
    let regular = fonts.face(Style::Regular);
    let line_height = regular.line_height() * size * p.line_spacing.max(0.5);
    let ascent = regular.ascender * size + (p.line_spacing - 1.0).max(0.0) * size * 0.5;

    // Characters with their style and advance.
    let mut chars: Vec<(char, Style, f32)> = Vec::new();
    let mut text = String::new();
    for run in &p.runs {
        let style = Style::of(run.bold, run.italic);
        let face = fonts.face(style);
        for c in run.text.chars() {
            let adv = if c == '\n' {
                0.0
            } else {
                face.glyph(c).1 * size
            };
            chars.push((c, style, adv));
            text.push(c);
        }
    }
    // Byte offset -> char index.
    let mut byte_to_char = vec![0usize; text.len() + 1];
    for (ci, (bi, c)) in text.char_indices().enumerate() {
        for b in bi..bi + c.len_utf8() {
            if let Some(slot) = byte_to_char.get_mut(b) {
                *slot = ci;
            }
        }
    }
    if let Some(last) = byte_to_char.last_mut() {
        *last = chars.len();
    }
    // Break at spaces (and forced breaks) only, so that text extraction joins lines back with
    // a space exactly where the input had one. Other UAX #14 opportunities (after '/', '-')
    // are kept for words longer than a line.
    let mut breaks: Vec<(usize, bool)> = Vec::new();
    let mut secondary: Vec<usize> = Vec::new();
    for (b, o) in linebreaks(&text) {
        let ci = byte_to_char.get(b).copied().unwrap_or(chars.len());
        let mandatory = o == BreakOpportunity::Mandatory;
        let after_space = ci > 0 && chars.get(ci - 1).is_some_and(|c| c.0.is_whitespace());
        if mandatory || after_space || ci >= chars.len() {
            breaks.push((ci, mandatory || ci >= chars.len()));
        } else {
            secondary.push(ci);
        }
    }

    let indent = p.first_line_indent_mm * MM;
    let mut lines: Vec<(usize, usize, bool)> = Vec::new(); // start, end, ends paragraph/forced
    let mut start = 0usize;
    let mut last_fit: Option<usize> = None;
    let avail_for = |lines: &Vec<(usize, usize, bool)>| {
        if lines.is_empty() {
            (width - indent).max(1.0)
        } else {
            width.max(1.0)
        }
    };
    let mut bi = 0usize;
    while bi < breaks.len() {
        let Some(&(end, mandatory)) = breaks.get(bi) else {
            break;
        };
        let avail = avail_for(&lines);
        let w = measure(&chars, start, end);
        if w <= avail + 0.01 {
            if mandatory {
                lines.push((start, end, true));
                start = end;
                last_fit = None;
            } else {
                last_fit = Some(end);
            }
            bi += 1;
            continue;
        }
        // Overflow.
        match last_fit {
            Some(lf) if lf > start => {
                lines.push((start, lf, false));
                start = lf;
                last_fit = None;
                // Re-examine the same opportunity on the new line.
            }
            _ => {
                // One word longer than the line: at a secondary opportunity if one fits,
                // else between characters.
                if let Some(&cut) = secondary
                    .iter()
                    .rev()
                    .find(|&&c| c > start && c < end && measure(&chars, start, c) <= avail)
                {
                    lines.push((start, cut, false));
                    start = cut;
                    last_fit = None;
                    continue;
                }
                let mut cut = start;
                let mut acc = 0.0;
                while cut < end {
                    let adv = chars.get(cut).map(|c| c.2).unwrap_or(0.0);
                    if acc + adv > avail && cut > start {
                        break;
                    }
                    acc += adv;
                    cut += 1;
                }
                if cut >= end {
                    // Fits after all (rounding): take it.
                    lines.push((start, end, mandatory));
                    start = end;
                    bi += 1;
                } else {
                    lines.push((start, cut, false));
                    start = cut;
                }
                last_fit = None;
            }
        }
    }
    if start < chars.len() {
        lines.push((start, chars.len(), true));
    }
    if lines.is_empty() {
        lines.push((0, 0, true));
    }

    let mut out_lines = Vec::with_capacity(lines.len());
    let line_count = lines.len();
    for (li, (s, e, hard_end)) in lines.into_iter().enumerate() {
        let first = li == 0;
        let avail = if first { width - indent } else { width };
        let lead = if first { indent } else { 0.0 };
        // Trim trailing whitespace (and the forced-break char).
        let mut e2 = e;
        while e2 > s && chars.get(e2 - 1).is_some_and(|c| c.0.is_whitespace()) {
            e2 -= 1;
        }
        let natural = measure(&chars, s, e2);
        let spaces = chars
            .get(s..e2)
            .map(|cs| cs.iter().filter(|c| c.0 == ' ').count())
            .unwrap_or(0);
        let is_last = hard_end || li + 1 == line_count;
        let (x0, extra) = match p.align {
            Align::Left => (lead, 0.0),
            Align::Center => (lead + (avail - natural) / 2.0, 0.0),
            Align::Right => (lead + avail - natural, 0.0),
            Align::Justify => {
                if is_last || spaces == 0 || natural >= avail {
                    (lead, 0.0)
                } else {
                    (lead, (avail - natural) / spaces as f32)
                }
            }
        };
        // Group by style into items.
        let mut items: Vec<TextItem> = Vec::new();
        let mut x = x0;
        if let Some(slice) = chars.get(s..e2) {
            for &(c, style, adv) in slice {
                let add = adv + if c == ' ' { extra } else { 0.0 };
                match items.last_mut() {
                    Some(it) if it.style == style => {
                        it.text.push(c);
                        it.width += add;
                    }
                    _ => items.push(TextItem {
                        x,
                        baseline: ascent,
                        size,
                        style,
                        text: c.to_string(),
                        space_extra: extra,
                        width: add,
                    }),
                }
                x += add;
            }
        }
        out_lines.push(Line {
            items,
            width: natural,
            x: x0,
            height: line_height,
            ascent,
        });
    }

    let rule = p.rule_below.and_then(|r| {
        // Measured on the widest line, centred under the text.
        let widest = out_lines
            .iter()
            .max_by(|a, b| a.width.total_cmp(&b.width))?;
        let len = match r {
            RuleWidth::MatchText => widest.width,
            RuleWidth::FractionOfText(f) => widest.width * f,
            RuleWidth::Mm(mm) => mm * MM,
        }
        .min(width);
        let centre = widest.x + widest.width / 2.0;
        Some((centre - len / 2.0, centre + len / 2.0))
    });

    ParaBox {
        lines: out_lines,
        before: p.space_before_pt,
        after: p.space_after_pt,
        rule,
    }
}

fn measure(chars: &[(char, Style, f32)], start: usize, end: usize) -> f32 {
    let Some(slice) = chars.get(start..end) else {
        return 0.0;
    };
    let mut e = slice.len();
    while e > 0 && slice.get(e - 1).is_some_and(|c| c.0.is_whitespace()) {
        e -= 1;
    }
    slice.iter().take(e).map(|c| c.2).sum()
}

/// The flow of blocks over pages.
struct Flow<'a> {
    fonts: &'a Fonts,
    out: Layout,
    /// Items of the current page (finished pages are in `out.pages`).
    cur: Vec<Item>,
    /// Current y (pt from the top).
    y: f32,
    top: f32,
    bottom: f32,
    left: f32,
    width: f32,
}

impl<'a> Flow<'a> {
    fn new(fonts: &'a Fonts, page: PageSetup) -> Self {
        let top = page.margin_top_mm * MM;
        Flow {
            fonts,
            out: Layout::default(),
            cur: Vec::new(),
            y: top,
            top,
            bottom: (page.height_mm - page.margin_bottom_mm) * MM,
            left: page.margin_left_mm * MM,
            width: page.text_width_mm() * MM,
        }
    }

    fn at_page_top(&self) -> bool {
        self.y <= self.top + 0.01
    }

    fn remaining(&self) -> f32 {
        self.bottom - self.y
    }

    fn new_page(&mut self) {
        let done = std::mem::take(&mut self.cur);
        self.out.pages.push(done);
        self.y = self.top;
    }

    fn items(&mut self) -> &mut Vec<Item> {
        &mut self.cur
    }

    /// 0-based index of the current page.
    fn page_index(&self) -> usize {
        self.out.pages.len()
    }

    fn finish(mut self) -> Layout {
        let done = std::mem::take(&mut self.cur);
        self.out.pages.push(done);
        self.out
    }

    /// Height needed to start `block` without an immediate break: its first "chunk".
    fn first_chunk(&self, block: &Block) -> f32 {
        match block {
            Block::Paragraph(p) => {
                let b = layout_paragraph(self.fonts, p, self.width);
                let lines: f32 = b.lines.iter().take(2).map(|l| l.height).sum();
                b.before + lines
            }
            Block::Table(t) => {
                let rows = self.table_rows(t);
                rows.iter()
                    .take(t.header_rows + 1)
                    .map(|r| r.height)
                    .sum::<f32>()
            }
            Block::SignatureGrid(g) => self.grid_rows(g).first().map(|r| r.height).unwrap_or(0.0),
        }
    }

    fn block_height_if_small(&self, block: &Block) -> f32 {
        match block {
            Block::Paragraph(p) => layout_paragraph(self.fonts, p, self.width).total_height(),
            other => self.first_chunk(other),
        }
    }

    fn paragraph(&mut self, p: &Paragraph, keep_need: f32) {
        let b = layout_paragraph(self.fonts, p, self.width);
        let before = if self.at_page_top() { 0.0 } else { b.before };
        // Keep with next: move the whole paragraph if it and what follows do not fit.
        if keep_need > 0.0 && !self.at_page_top() && before + keep_need > self.remaining() {
            self.new_page();
            return self.paragraph(p, 0.0);
        }
        let content = b.content_height();
        if before + content <= self.remaining() + 0.01 {
            self.y += before;
            let left = self.left;
            let y = self.y;
            let mut items = Vec::new();
            let end = b.draw(left, y, &mut items);
            self.items().extend(items);
            self.y = end + b.after;
            return;
        }
        // Split over pages by lines, at least two lines on each side when possible.
        let n = b.lines.len();
        let fit = {
            let mut h = before;
            let mut k = 0;
            for l in &b.lines {
                if h + l.height > self.remaining() + 0.01 {
                    break;
                }
                h += l.height;
                k += 1;
            }
            k
        };
        let mut first = fit;
        if n >= 4 {
            first = first.min(n - 2);
        }
        if first < 2.min(n) || (first == 0) {
            if self.at_page_top() {
                // Cannot happen for sane sizes; place line by line anyway.
                first = fit.max(1).min(n);
            } else {
                self.new_page();
                return self.paragraph(p, 0.0);
            }
        }
        self.y += before;
        let mut idx = 0;
        let mut take = first;
        loop {
            let left = self.left;
            let mut items = Vec::new();
            for l in b.lines.iter().skip(idx).take(take) {
                draw_line(l, left, self.y, &mut items);
                self.y += l.height;
            }
            self.items().extend(items);
            idx += take;
            if idx >= n {
                break;
            }
            self.new_page();
            // How many of the remaining lines fit on a fresh page.
            let mut h = 0.0;
            take = 0;
            for l in b.lines.iter().skip(idx) {
                if h + l.height > self.remaining() + 0.01 && take > 0 {
                    break;
                }
                h += l.height;
                take += 1;
            }
        }
        if let (Some((x1, x2)), Some(last)) = (b.rule, b.lines.last()) {
            let ry = self.y - last.height + last.ascent + last.height * 0.22 + RULE_GAP;
            let left = self.left;
            self.items().push(Item::Line {
                x1: left + x1,
                y1: ry,
                x2: left + x2,
                y2: ry,
                width: 0.6,
            });
            self.y += RULE_SPACE;
        }
        self.y += b.after;
    }

    fn table_rows(&self, t: &Table) -> Vec<RowBox> {
        let total: f32 = t.columns.iter().sum();
        let widths: Vec<f32> = t
            .columns
            .iter()
            .map(|c| c / total.max(f32::EPSILON) * self.width)
            .collect();
        let pad_x = if t.borders { CELL_PAD_X } else { 0.0 };
        let pad_y = if t.borders { CELL_PAD_Y } else { 0.0 };
        let mut rows = Vec::with_capacity(t.rows.len());
        for row in &t.rows {
            let mut cells = Vec::new();
            let mut col = 0usize;
            let mut x = 0.0;
            let mut height: f32 = 0.0;
            for cell in &row.cells {
                let span = cell.span.max(1);
                let w: f32 = widths.iter().skip(col).take(span).sum();
                col += span;
                let inner = (w - 2.0 * pad_x).max(1.0);
                let paras: Vec<ParaBox> = cell
                    .paragraphs
                    .iter()
                    .map(|p| layout_paragraph(self.fonts, p, inner))
                    .collect();
                let h: f32 = paras.iter().map(|b| b.total_height()).sum::<f32>() + 2.0 * pad_y;
                height = height.max(h);
                cells.push(CellBox {
                    x,
                    width: w,
                    pad_x,
                    pad_y,
                    paras,
                });
                x += w;
            }
            rows.push(RowBox {
                cells,
                height,
                borders: t.borders,
            });
        }
        rows
    }

    fn table(&mut self, t: &Table) {
        let rows = self.table_rows(t);
        let header: Vec<&RowBox> = rows.iter().take(t.header_rows).collect();
        let header_height: f32 = header.iter().map(|r| r.height).sum();
        let mut first_on_page = true;
        for (i, row) in rows.iter().enumerate() {
            let is_header = i < t.header_rows;
            let need = if is_header && i == 0 {
                // The header goes with the first body row.
                header_height + rows.get(t.header_rows).map(|r| r.height).unwrap_or(0.0)
            } else {
                row.height
            };
            if !is_header && row.height > (self.bottom - self.top) - header_height {
                // A row taller than a whole page: split it by lines.
                self.split_row(row, &header);
                first_on_page = false;
                continue;
            }
            if need > self.remaining() + 0.01 && !(self.at_page_top() && first_on_page) {
                self.new_page();
                if !is_header {
                    for h in &header {
                        self.draw_row(h);
                    }
                }
            }
            self.draw_row(row);
            first_on_page = false;
        }
        self.y += t.space_after_pt;
    }

    fn draw_row(&mut self, row: &RowBox) {
        let (left, top) = (self.left, self.y);
        let mut items = Vec::new();
        for cell in &row.cells {
            let mut y = top + cell.pad_y;
            for (pi, p) in cell.paras.iter().enumerate() {
                let before = if pi == 0 { 0.0 } else { p.before };
                y = p.draw(left + cell.x + cell.pad_x, y + before, &mut items) + p.after;
            }
            if row.borders {
                cell_borders(left + cell.x, top, cell.width, row.height, &mut items);
            }
        }
        self.items().extend(items);
        self.y += row.height;
    }

    /// Draws a row too tall for any page, continuing its cells' lines on following pages.
    fn split_row(&mut self, row: &RowBox, header: &[&RowBox]) {
        // Flatten each cell's lines with their heights.
        let mut queues: Vec<Vec<(&Line, f32)>> = row
            .cells
            .iter()
            .map(|c| {
                c.paras
                    .iter()
                    .flat_map(|p| p.lines.iter().map(|l| (l, l.height)))
                    .collect()
            })
            .collect();
        if self.remaining() < 3.0 * 20.0 {
            self.new_page();
            for h in header {
                self.draw_row(h);
            }
        }
        loop {
            let avail = self.remaining() - 2.0 * CELL_PAD_Y;
            let (left, top) = (self.left, self.y);
            let mut used: f32 = 0.0;
            let mut items = Vec::new();
            for (cell, q) in row.cells.iter().zip(queues.iter_mut()) {
                let mut y = top + cell.pad_y;
                let mut k = 0;
                for (l, h) in q.iter() {
                    if y + h - top - cell.pad_y > avail && k > 0 {
                        break;
                    }
                    draw_line(l, left + cell.x + cell.pad_x, y, &mut items);
                    y += h;
                    k += 1;
                }
                q.drain(..k);
                used = used.max(y - top + cell.pad_y);
            }
            for cell in &row.cells {
                if row.borders {
                    cell_borders(left + cell.x, top, cell.width, used, &mut items);
                }
            }
            self.items().extend(items);
            self.y += used;
            if queues.iter().all(|q| q.is_empty()) {
                break;
            }
            self.new_page();
            for h in header {
                self.draw_row(h);
            }
        }
    }

    fn grid_rows(&self, g: &SignatureGrid) -> Vec<GridRow> {
        let cols = g.columns.max(1);
        let w = self.width / cols as f32;
        let pad = 1.5 * MM;
        let inner = w - 2.0 * pad;
        let mut rows = Vec::new();
        for chunk in g.slots().chunks(cols) {
            let cells: Vec<GridCell> = chunk
                .iter()
                .enumerate()
                .map(|(i, slot)| {
                    let x = i as f32 * w;
                    match slot {
                        GridSlot::Signature(c) => self.grid_cell(c, g, x, w, pad, inner),
                        GridSlot::Recipients(paragraphs) => {
                            self.recipients_cell(paragraphs, x, w, pad, inner)
                        }
                    }
                })
                .collect();
            let height = cells.iter().map(|c| c.height).fold(0.0, f32::max);
            rows.push(GridRow { cells, height });
        }
        rows
    }

    /// The "Nơi nhận" block in its grid place: its paragraphs from the row's top, no field.
    fn recipients_cell(
        &self,
        paragraphs: &[Paragraph],
        x: f32,
        w: f32,
        pad: f32,
        inner: f32,
    ) -> GridCell {
        let top_part: Vec<ParaBox> = paragraphs
            .iter()
            .map(|p| layout_paragraph(self.fonts, p, inner))
            .collect();
        let top_h: f32 = top_part.iter().map(|b| b.total_height()).sum();
        GridCell {
            top_h,
            x,
            width: w,
            pad,
            top_part,
            height: 6.0 + top_h + 6.0,
            signer: None,
        }
    }

    fn grid_cell(
        &self,
        c: &SignatureCell,
        g: &SignatureGrid,
        x: f32,
        w: f32,
        pad: f32,
        inner: f32,
    ) -> GridCell {
        let centred = |text: &str, after: f32| {
            let mut p = Paragraph::plain(text, g.size_pt);
            p.runs = vec![crate::document::Run {
                text: text.to_string(),
                bold: true,
                italic: false,
            }];
            p.align = Align::Center;
            p.space_after_pt = after;
            layout_paragraph(self.fonts, &p, inner)
        };
        let mut top_part = vec![centred(&c.unit, 0.0)];
        for a in &c.authority_lines {
            top_part.push(centred(a, 0.0));
        }
        let name = centred(&c.signer_name, 0.0);
        let sig_h = g.signature_height_mm * MM;
        let top_h: f32 = top_part.iter().map(|b| b.total_height()).sum();
        let height = 6.0 + top_h + sig_h + name.total_height() + 12.0;
        GridCell {
            top_h,
            x,
            width: w,
            pad,
            top_part,
            height,
            signer: Some(GridSigner {
                seal: c.seal_field.clone(),
                unit_name: c.unit.clone(),
                field: c.field_name.clone(),
                signer: c.signer_name.clone(),
                sig_h,
                name,
            }),
        }
    }

    fn grid(&mut self, g: &SignatureGrid) {
        let rows = self.grid_rows(g);
        for row in rows {
            if row.height > self.remaining() + 0.01 && !self.at_page_top() {
                self.new_page();
            }
            let (left, top) = (self.left, self.y);
            let page = self.page_index();
            let mut items = Vec::new();
            let mut fields = Vec::new();
            // Signature areas and names line up across the row (a recipients block does not
            // push them down).
            let top_h = row
                .cells
                .iter()
                .filter(|c| c.signer.is_some())
                .map(|c| c.top_h)
                .fold(0.0, f32::max);
            for cell in &row.cells {
                let x = left + cell.x + cell.pad;
                let mut y = top + 6.0;
                for b in &cell.top_part {
                    y = b.draw(x, y + b.before, &mut items) + b.after;
                }
                let Some(s) = &cell.signer else {
                    continue;
                };
                y = top + 6.0 + top_h;
                let rect = [x, y, x + cell.width - 2.0 * cell.pad, y + s.sig_h];
                fields.push(FieldBox {
                    name: s.field.clone(),
                    signer: s.signer.clone(),
                    page,
                    rect,
                });
                if let Some(seal) = &s.seal {
                    fields.push(FieldBox {
                        name: seal.clone(),
                        signer: s.unit_name.clone(),
                        page,
                        rect: crate::document::seal_layout::seal_box(rect, MM),
                    });
                }
                y += s.sig_h;
                s.name.draw(x, y, &mut items);
            }
            self.items().extend(items);
            self.out.fields.extend(fields);
            self.y += row.height;
        }
    }
}

fn cell_borders(x: f32, y: f32, w: f32, h: f32, out: &mut Vec<Item>) {
    let lines = [
        (x, y, x + w, y),
        (x, y + h, x + w, y + h),
        (x, y, x, y + h),
        (x + w, y, x + w, y + h),
    ];
    for (x1, y1, x2, y2) in lines {
        out.push(Item::Line {
            x1,
            y1,
            x2,
            y2,
            width: BORDER,
        });
    }
}

struct CellBox {
    x: f32,
    width: f32,
    pad_x: f32,
    pad_y: f32,
    paras: Vec<ParaBox>,
}

struct RowBox {
    cells: Vec<CellBox>,
    height: f32,
    borders: bool,
}

struct GridCell {
    top_h: f32,
    x: f32,
    width: f32,
    pad: f32,
    /// The lines above the signature area (unit, authority), or the recipients block.
    top_part: Vec<ParaBox>,
    height: f32,
    /// The signer's part; `None` for the recipients block.
    signer: Option<GridSigner>,
}

/// The signature area and name of a signer's grid cell.
struct GridSigner {
    /// The organisation's seal field, if the unit's seal follows its leader's signature.
    seal: Option<String>,
    /// The unit's name as printed (the seal field's `/TU`).
    unit_name: String,
    field: String,
    signer: String,
    sig_h: f32,
    name: ParaBox,
}

struct GridRow {
    cells: Vec<GridCell>,
    height: f32,
}

/// Lays out the whole document.
pub(crate) fn layout(fonts: &Fonts, doc: &Document) -> Layout {
    let mut flow = Flow::new(fonts, doc.page);
    let blocks = &doc.blocks;
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Paragraph(p) => {
                // Keep-with-next chains: this paragraph, the following keep paragraphs, and
                // the first chunk of the block after them.
                let keep_need = if p.keep_with_next {
                    let mut need = 0.0;
                    let mut j = i;
                    while let Some(Block::Paragraph(q)) = blocks.get(j) {
                        if !q.keep_with_next {
                            break;
                        }
                        need += flow.block_height_if_small(&Block::Paragraph(q.clone()));
                        j += 1;
                    }
                    need + blocks.get(j).map(|b| flow.first_chunk(b)).unwrap_or(0.0)
                } else {
                    0.0
                };
                let keep_need = if keep_need > flow.bottom - flow.top {
                    0.0
                } else {
                    keep_need
                };
                flow.paragraph(p, keep_need);
            }
            Block::Table(t) => flow.table(t),
            Block::SignatureGrid(g) => flow.grid(g),
        }
    }
    let mut out = flow.finish();
    // Page numbers in the top margin, centred (Decree 30: from page 2).
    if let Some(pn) = doc.page.page_numbers {
        let regular = fonts.face(Style::Regular);
        let baseline = doc.page.margin_top_mm * MM / 2.0 + regular.ascender * pn.size_pt / 2.0;
        let centre = (doc.page.margin_left_mm * MM) + doc.page.text_width_mm() * MM / 2.0;
        for (i, page) in out.pages.iter_mut().enumerate() {
            let n = i as u32 + 1;
            if n < pn.first_shown {
                continue;
            }
            let text = n.to_string();
            let w: f32 = text.chars().map(|c| regular.glyph(c).1 * pn.size_pt).sum();
            page.push(Item::Text(TextItem {
                x: centre - w / 2.0,
                baseline,
                size: pn.size_pt,
                style: Style::Regular,
                text,
                space_extra: 0.0,
                width: w,
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Run;

    fn para(text: &str, align: Align) -> Paragraph {
        let mut p = Paragraph::plain(text, 14.0);
        p.align = align;
        p
    }

    #[test]
    fn justified_lines_fill_the_width_except_the_last() {
        let fonts = Fonts::get().unwrap();
        let text = "Quán triệt, thực hiện nghiêm túc chủ trương, đường lối của Đảng, chính sách, pháp luật của Nhà nước; tổ chức học tập, quán triệt và triển khai thực hiện Nghị quyết.";
        let b = layout_paragraph(fonts, &para(text, Align::Justify), 300.0);
        assert!(b.lines.len() >= 3);
        for l in &b.lines[..b.lines.len() - 1] {
            let end = l.items.last().map(|i| i.x + i.width).unwrap();
            // Trailing space is excluded from the items, so the end is at the width.
            assert!((end - 300.0).abs() < 0.5, "line ends at {end}");
        }
        let text_back: String = b
            .lines
            .iter()
            .map(|l| l.items.iter().map(|i| i.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(text_back, text);
    }

    #[test]
    fn a_word_longer_than_the_line_is_broken() {
        let fonts = Fonts::get().unwrap();
        let b = layout_paragraph(fonts, &para(&"x".repeat(200), Align::Left), 100.0);
        assert!(b.lines.len() > 5);
        for l in &b.lines {
            assert!(l.width <= 100.5);
        }
    }

    #[test]
    fn forced_breaks_start_new_lines() {
        let fonts = Fonts::get().unwrap();
        let mut p = para("", Align::Center);
        p.runs = vec![Run::plain("100%"), Run::plain("\n"), Run::plain("Tỷ lệ")];
        let b = layout_paragraph(fonts, &p, 300.0);
        assert_eq!(b.lines.len(), 2);
    }
}
