//! Certification signatures (ISO 32000-2 12.8.2.2, DocMDP): the catalog's
//! `/Perms /DocMDP` names the signature dictionary of the document's first
//! signature, whose `/Reference` holds a `/TransformMethod /DocMDP` with
//! `/TransformParams /P`: 1 permits no change at all, 2 filling in forms and
//! signing, 3 also annotations.
//!
//! The modification analysis (`diff`) already allows nothing but later
//! signatures filling their own empty fields (and `/Info`), which is at least
//! as strict as `/P` 2 and 3 (deny by default: annotations stay illegal under
//! `/P` 3); `/P` 1 also turns those allowed changes into violations. A
//! certification that is not the first signature, a `/Perms` that names no
//! signature, or a DocMDP transform the catalog does not name, is invalid.

use crate::pdf::{Dict, Object, PdfFile};

use super::finding::{Finding, Message};
use super::report::Change;
use super::signature::Checked;
use crate::pdf::walk::Budget;
use crate::pdf::walk::{catalog, deref};

/// Most `/Reference` entries read from one signature dictionary.
const MAX_REFERENCES: usize = 16;

/// The DocMDP transform of a signature dictionary: `None` without one, else
/// its `/P` (2 when absent) or why it is unusable.
pub(crate) fn transform_of(file: &PdfFile, sig: &Dict, rev: usize) -> Option<Result<u8, Finding>> {
    let mut budget = Budget::new(1000);
    let refs = match deref(file, sig.get(b"Reference")?, rev, &mut budget)? {
        Object::Array(items) => items,
        _ => return Some(Err(Finding::ReferenceNotArray)),
    };
    let mut found: Option<Result<u8, Finding>> = None;
    for item in refs.iter().take(MAX_REFERENCES) {
        let Some(Object::Dictionary(d)) = deref(file, item, rev, &mut budget) else {
            continue;
        };
        if d.get(b"TransformMethod").and_then(Object::as_name) != Some(b"DocMDP") {
            continue;
        }
        if found.is_some() {
            return Some(Err(Finding::ReferenceTwoDocMdp));
        }
        let params = d
            .get(b"TransformParams")
            .and_then(|p| deref(file, p, rev, &mut budget));
        let p = match params {
            None => Ok(2),
            Some(Object::Dictionary(params)) => match params.get(b"P") {
                None => Ok(2),
                Some(v) => match v.as_i64() {
                    Some(1) => Ok(1),
                    Some(2) => Ok(2),
                    Some(3) => Ok(3),
                    _ => Err(Finding::DocMdpPermissionBad),
                },
            },
            Some(_) => Err(Finding::DocMdpParamsNotDictionary),
        };
        found = Some(p);
    }
    found
}

/// The catalog's `/Perms /DocMDP` as of `rev`: the object number it names,
/// or why it is unusable; `None` when the document is not certified.
pub(crate) fn perms_docmdp(
    file: &PdfFile,
    rev: usize,
    budget: &mut Budget,
) -> Option<Result<u32, Finding>> {
    let cat = catalog(file, rev, budget)?;
    let perms = match deref(file, cat.get(b"Perms")?, rev, budget) {
        Some(Object::Dictionary(d)) => d,
        _ => return Some(Err(Finding::PermsNotDictionary)),
    };
    match perms.get(b"DocMDP")? {
        Object::Reference(r) => Some(Ok(r.num)),
        _ => Some(Err(Finding::PermsDocMdpNotReference)),
    }
}

fn fail(c: &mut Checked, finding: Finding) {
    c.report.valid = false;
    c.report.problems.push(finding.into());
}

/// Matches the signatures' DocMDP transforms with the catalog's `/Perms`:
/// sets [`crate::verify::SignatureReport::certification`], and makes a
/// certification that cannot be relied on invalid. `checked` is in revision order.
pub(crate) fn check_certification(
    checked: &mut [Checked],
    perms: Option<Result<u32, Finding>>,
    problems: &mut Vec<Message>,
) {
    let named = match &perms {
        Some(Ok(n)) => Some(*n),
        Some(Err(e)) => {
            problems.push(e.clone().into());
            None
        }
        None => None,
    };
    if let Some(n) = named
        && !checked.iter().any(|c| c.report.signature_object == Some(n))
    {
        problems.push(Finding::PermsNamesNoSignature { object: n }.into());
    }
    let first_from = checked.iter().map(|c| c.from).min();
    let mut seen_first = false;
    for c in checked.iter_mut() {
        let is_first = !seen_first && Some(c.from) == first_from;
        seen_first = true;
        let is_named = named.is_some() && c.report.signature_object == named;
        match (c.docmdp.clone(), is_named) {
            (None, false) => {}
            (None, true) => fail(c, Finding::DocMdpWithoutTransform),
            (Some(_), false) => fail(c, Finding::DocMdpNotNamed),
            (Some(Err(e)), true) => fail(c, e),
            (Some(Ok(p)), true) => {
                c.report.certification = Some(p);
                c.report.notes.push(Finding::Certification { p }.into());
                if !is_first {
                    fail(c, Finding::CertificationNotFirst);
                }
            }
        }
    }
}

/// Under `/P` 1 every change after the certification violates it, even one
/// that the general rules allow (a later signature, an `/Info` update).
pub(crate) fn restrict(p: u8, changes: &mut [Change]) {
    if p != 1 {
        return;
    }
    for ch in changes.iter_mut().filter(|ch| ch.allowed) {
        ch.forbid_by_certification();
    }
}
