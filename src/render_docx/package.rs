//! Finishing the XML parts from `docx-rs` and packing them into a deterministic ZIP.
//!
//! `docx-rs` has no `w:lang`, no `w:tblHeader` and no keywords in the core properties, gives each
//! paragraph a `w14:paraId` from a thread-local counter (so ids depend on what the thread did
//! before) and writes the archive uncompressed. Its XML parts are adjusted here with plain string
//! edits on markup it is known to produce: text never contains `<`, which it escapes, so the
//! patterns below cannot match inside text.

use std::io::{Cursor, Write};

use docx_rs::XMLDocx;
use time::UtcOffset;
use time::macros::format_description;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::DocxError;
use crate::document::Metadata;

/// The properties `docx-rs` writes for a row that cannot split.
const ROW_CANT_SPLIT: &str = "<w:trPr><w:cantSplit />";
/// The repeat-as-header-row flag.
const TBL_HEADER: &str = "<w:tblHeader />";

/// Adjusts the parts and packs them. `header_rows` has one entry per table in document order.
pub(super) fn pack(
    mut parts: XMLDocx,
    meta: &Metadata,
    header_rows: &[usize],
) -> Result<Vec<u8>, DocxError> {
    // The language of every run and of the document defaults (the model says "vi-VN").
    let lang = format!(
        r#"<w:lang w:val="{}" />"#,
        crate::document::xml_text(if meta.lang.is_empty() {
            "vi-VN"
        } else {
            &meta.lang
        })
    );
    let document = text(std::mem::take(&mut parts.document))?;
    parts.document =
        mark_header_rows(&add_lang(&drop_para_ids(&document)?, &lang), header_rows)?.into_bytes();
    let styles = text(std::mem::take(&mut parts.styles))?;
    parts.styles = default_lang(&styles, &lang)?.into_bytes();
    for header in &mut parts.headers {
        let xml = text(std::mem::take(header))?;
        *header = add_lang(&drop_para_ids(&xml)?, &lang).into_bytes();
    }
    parts.doc_props.core = core_properties(meta)?.into_bytes();
    zip(parts)
}

fn text(bytes: Vec<u8>) -> Result<String, DocxError> {
    String::from_utf8(bytes).map_err(|_| DocxError::PostProcess("UTF-8 parts"))
}

/// Removes the `w14:paraId` attributes (optional, and not deterministic across calls).
fn drop_para_ids(xml: &str) -> Result<String, DocxError> {
    const START: &str = "<w:p w14:paraId=\"";
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some((before, after)) = rest.split_once(START) {
        out.push_str(before);
        out.push_str("<w:p");
        let (_, tail) = after
            .split_once('"')
            .ok_or(DocxError::PostProcess("paragraph ids"))?;
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// Adds the `w:lang` element `lang` to every run's (and paragraph mark's) properties.
fn add_lang(xml: &str, lang: &str) -> String {
    const CLOSE: &str = "</w:rPr>";
    const EMPTY: &str = "<w:rPr />";
    let mut out = String::with_capacity(xml.len() + xml.len() / 8);
    let mut rest = xml;
    // One pass over the part: every run property list, closed or empty, gets the language.
    while let Some(pos) = rest.find("<w:rPr") {
        let (before, tail) = rest.split_at(pos);
        out.push_str(before);
        if let Some(after) = tail.strip_prefix(EMPTY) {
            out.push_str("<w:rPr>");
            out.push_str(lang);
            out.push_str(CLOSE);
            rest = after;
        } else if let Some(end) = tail.find(CLOSE) {
            let (props, after) = tail.split_at(end);
            out.push_str(props);
            out.push_str(lang);
            out.push_str(CLOSE);
            rest = after.get(CLOSE.len()..).unwrap_or("");
        } else {
            out.push_str(tail);
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

/// Adds the `w:lang` element `lang` to the document defaults in styles.xml.
fn default_lang(styles: &str, lang: &str) -> Result<String, DocxError> {
    const END: &str = "</w:rPr></w:rPrDefault>";
    let (before, after) = styles
        .split_once(END)
        .ok_or(DocxError::PostProcess("the default language"))?;
    Ok(format!("{before}{lang}{END}{after}"))
}

/// Marks the first `header_rows[k]` rows of the k-th table as header rows. Tables are not nested.
fn mark_header_rows(xml: &str, header_rows: &[usize]) -> Result<String, DocxError> {
    let error = || DocxError::PostProcess("table header rows");
    if xml.matches("<w:tbl>").count() != header_rows.len() {
        return Err(error());
    }
    let mut out = String::with_capacity(xml.len() + 16 * header_rows.iter().sum::<usize>());
    let mut rest = xml;
    for &rows in header_rows {
        let (before, after) = rest.split_once("<w:tbl>").ok_or_else(error)?;
        out.push_str(before);
        out.push_str("<w:tbl>");
        rest = after;
        for _ in 0..rows {
            let (before, after) = rest.split_once(ROW_CANT_SPLIT).ok_or_else(error)?;
            out.push_str(before);
            out.push_str(ROW_CANT_SPLIT);
            out.push_str(TBL_HEADER);
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// docProps/core.xml: title, subject, creator, keywords, language, and the document's date as
/// both creation and modification time.
fn core_properties(meta: &Metadata) -> Result<String, DocxError> {
    let date = meta
        .date
        .to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))?;
    Ok(format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" "#,
            r#"xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" "#,
            r#"xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<dc:title>{title}</dc:title>",
            "<dc:subject>{subject}</dc:subject>",
            "<dc:creator>{author}</dc:creator>",
            "<cp:keywords>{keywords}</cp:keywords>",
            "<dc:language>{lang}</dc:language>",
            "<cp:lastModifiedBy>{author}</cp:lastModifiedBy>",
            "<cp:revision>1</cp:revision>",
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">{date}</dcterms:created>"#,
            r#"<dcterms:modified xsi:type="dcterms:W3CDTF">{date}</dcterms:modified>"#,
            "</cp:coreProperties>"
        ),
        title = crate::document::xml_text(&meta.title),
        subject = crate::document::xml_text(&meta.subject),
        author = crate::document::xml_text(&meta.author),
        keywords = crate::document::xml_text(&meta.keywords),
        lang = crate::document::xml_text(&meta.lang),
        date = date,
    ))
}

/// Packs the parts with Deflate, in a fixed order, all dated 1980-01-01 00:00.
fn zip(parts: XMLDocx) -> Result<Vec<u8>, DocxError> {
    // Small parts are stored: a deflate stream costs more to set up than it saves on them.
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(2))
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    let stored = deflated
        .compression_method(CompressionMethod::Stored)
        .compression_level(None);
    let mut entries: Vec<(String, &[u8])> = vec![
        ("[Content_Types].xml".into(), &parts.content_type),
        ("_rels/.rels".into(), &parts.rels),
        ("docProps/app.xml".into(), &parts.doc_props.app),
        ("docProps/core.xml".into(), &parts.doc_props.core),
        ("docProps/custom.xml".into(), &parts.doc_props.custom),
        ("word/_rels/document.xml.rels".into(), &parts.document_rels),
        ("word/document.xml".into(), &parts.document),
        ("word/styles.xml".into(), &parts.styles),
        ("word/settings.xml".into(), &parts.settings),
        ("word/fontTable.xml".into(), &parts.font_table),
        ("word/comments.xml".into(), &parts.comments),
        ("word/numbering.xml".into(), &parts.numberings),
        ("word/commentsExtended.xml".into(), &parts.comments_extended),
        ("word/footnotes.xml".into(), &parts.footnotes),
    ];
    for (i, header) in parts.headers.iter().enumerate() {
        entries.push((format!("word/header{}.xml", i + 1), header));
        if let Some(rels) = parts.header_rels.get(i) {
            entries.push((format!("word/_rels/header{}.xml.rels", i + 1), rels));
        }
    }
    for (i, footer) in parts.footers.iter().enumerate() {
        entries.push((format!("word/footer{}.xml", i + 1), footer));
        if let Some(rels) = parts.footer_rels.get(i) {
            entries.push((format!("word/_rels/footer{}.xml.rels", i + 1), rels));
        }
    }
    for (id, bytes) in &parts.media {
        entries.push((format!("word/media/{id}.png"), bytes));
    }

    let capacity = entries.iter().map(|(_, b)| b.len()).sum::<usize>() / 4 + 4096;
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
    for (name, bytes) in entries {
        let options = if bytes.len() > 4096 { deflated } else { stored };
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}
