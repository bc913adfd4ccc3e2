//! Signature dictionaries hidden in annotations that the form does not list.

use crate::pdf::walk::{Budget, FieldScan, PageIndex, as_dict, deref, resolve};
use crate::pdf::{ObjRef, Object, PdfFile};

pub(crate) use crate::pdf::walk::{FieldNode, catalog, index_pages, scan_fields};

/// Annotations on pages that carry a signature (`/FT /Sig`, or a `/V`
/// pointing at a `/Type /Sig` dictionary) but that the form does not list.
pub(crate) fn hidden_signatures(
    file: &PdfFile,
    rev: usize,
    pages: &PageIndex,
    scan: &FieldScan,
    budget: &mut Budget,
) -> Vec<(ObjRef, usize)> {
    let mut found = Vec::new();
    for &(a, page) in &pages.annots {
        if scan.nodes.contains(&a.num) {
            continue;
        }
        let Some(dict) = resolve(file, a, rev, budget).and_then(as_dict) else {
            continue;
        };
        let ft_sig = dict.get(b"FT").and_then(Object::as_name) == Some(b"Sig");
        let v_sig = dict
            .get(b"V")
            .and_then(|v| deref(file, v, rev, budget))
            .and_then(as_dict)
            .is_some_and(|d| d.is_type(b"Sig"));
        if ft_sig || v_sig {
            found.push((a, page));
        }
    }
    found
}

/// Whether a filled signature field holds a document time-stamp (`/Type /DocTimeStamp`,
/// ISO 32000-2 §12.8.5) rather than a signature.
pub(crate) fn is_document_timestamp(
    file: &PdfFile,
    field: &FieldNode,
    rev: usize,
    budget: &mut Budget,
) -> bool {
    field
        .value
        .as_ref()
        .and_then(|v| deref(file, v, rev, budget))
        .and_then(as_dict)
        .is_some_and(|d| d.is_type(b"DocTimeStamp"))
}
