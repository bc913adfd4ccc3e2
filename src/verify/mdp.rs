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

use super::fields::{catalog, deref};
use super::report::Change;
use super::signature::Checked;
use super::util::Budget;

/// Most `/Reference` entries read from one signature dictionary.
const MAX_REFERENCES: usize = 16;

/// The DocMDP transform of a signature dictionary: `None` without one, else
/// its `/P` (2 when absent) or why it is unusable.
pub(crate) fn transform_of(file: &PdfFile, sig: &Dict, rev: usize) -> Option<Result<u8, String>> {
    let mut budget = Budget::new(1000);
    let refs = match deref(file, sig.get(b"Reference")?, rev, &mut budget)? {
        Object::Array(items) => items,
        _ => return Some(Err("/Reference is not an array".to_owned())),
    };
    let mut found: Option<Result<u8, String>> = None;
    for item in refs.iter().take(MAX_REFERENCES) {
        let Some(Object::Dictionary(d)) = deref(file, item, rev, &mut budget) else {
            continue;
        };
        if d.get(b"TransformMethod").and_then(Object::as_name) != Some(b"DocMDP") {
            continue;
        }
        if found.is_some() {
            return Some(Err(
                "/Reference holds more than one DocMDP transform".to_owned()
            ));
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
                    _ => Err("DocMDP /TransformParams /P is not 1, 2 or 3".to_owned()),
                },
            },
            Some(_) => Err("DocMDP /TransformParams is not a dictionary".to_owned()),
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
) -> Option<Result<u32, String>> {
    let cat = catalog(file, rev, budget)?;
    let perms = match deref(file, cat.get(b"Perms")?, rev, budget) {
        Some(Object::Dictionary(d)) => d,
        _ => return Some(Err("the catalog's /Perms is not a dictionary".to_owned())),
    };
    match perms.get(b"DocMDP")? {
        Object::Reference(r) => Some(Ok(r.num)),
        _ => Some(Err(
            "the catalog's /Perms /DocMDP is not a reference to a signature dictionary".to_owned(),
        )),
    }
}

fn fail(c: &mut Checked, msg: String) {
    c.report.valid = false;
    c.report.problems.push(msg);
}

/// Matches the signatures' DocMDP transforms with the catalog's `/Perms`:
/// sets [`crate::verify::SignatureReport::certification`], and makes a
/// certification that cannot be relied on invalid. `checked` is in revision order.
pub(crate) fn check_certification(
    checked: &mut [Checked],
    perms: Option<Result<u32, String>>,
    problems: &mut Vec<String>,
) {
    let named = match &perms {
        Some(Ok(n)) => Some(*n),
        Some(Err(e)) => {
            problems.push(e.clone());
            None
        }
        None => None,
    };
    if let Some(n) = named
        && !checked.iter().any(|c| c.report.signature_object == Some(n))
    {
        problems.push(format!(
            "the catalog's /Perms /DocMDP points at object {n}, which is not the value of a \
             signature field"
        ));
    }
    let first_from = checked.iter().map(|c| c.from).min();
    let mut seen_first = false;
    for c in checked.iter_mut() {
        let is_first = !seen_first && Some(c.from) == first_from;
        seen_first = true;
        let is_named = named.is_some() && c.report.signature_object == named;
        match (c.docmdp.clone(), is_named) {
            (None, false) => {}
            (None, true) => fail(
                c,
                "the catalog's /Perms /DocMDP names this signature, but its dictionary has no \
                 DocMDP transform (/Reference)"
                    .to_owned(),
            ),
            (Some(_), false) => fail(
                c,
                "the signature claims a DocMDP certification (/Reference) that the catalog's \
                 /Perms /DocMDP does not name"
                    .to_owned(),
            ),
            (Some(Err(e)), true) => fail(c, format!("certification signature: {e}")),
            (Some(Ok(p)), true) => {
                c.report.certification = Some(p);
                c.report.notes.push(format!(
                    "certification signature (DocMDP /P {p}): {}",
                    permission_text(p)
                ));
                if !is_first {
                    fail(
                        c,
                        "a certification signature (DocMDP) must be the first signature of \
                         the document"
                            .to_owned(),
                    );
                }
            }
        }
    }
}

fn permission_text(p: u8) -> &'static str {
    match p {
        1 => "no change is permitted after it",
        2 => "only filling in forms and signing are permitted after it",
        _ => {
            "filling in forms, signing and annotations are permitted after it; this verifier \
             still treats any annotation change as illegal"
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
        ch.allowed = false;
        ch.description = format!(
            "{}, which the certification (DocMDP /P 1) does not permit: it permits no change",
            ch.description
        );
        ch.description_vi = format!(
            "{}, điều mà chữ ký chứng nhận (DocMDP /P 1) không cho phép: không được thay đổi gì",
            ch.description_vi
        );
    }
}

/// The problem of a certification whose permissions were exceeded.
pub(crate) fn violation(p: u8) -> String {
    format!(
        "the certification (DocMDP /P {p}) is broken: the document was changed after it in a \
         way it does not permit ({})",
        permission_text(p)
    )
}
