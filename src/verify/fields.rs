//! Finding things in one revision: the interactive form's fields
//! (ISO 32000-2 12.7.4, /Kids with inherited /FT), the page tree (7.7.3) with
//! each page's content streams and annotations, and signature dictionaries
//! hidden in annotations that the form does not list. Every walk is bounded
//! by [`MAX_WALK_NODES`], [`MAX_WALK_DEPTH`] and the shared [`Budget`].

use std::collections::{BTreeMap, BTreeSet};

use crate::pdf::{Dict, ObjRef, Object, PdfFile};

use super::util::{
    Budget, FAILED_READ_COST, MAX_WALK_DEPTH, MAX_WALK_NODES, MAX_WORK, text_string, weight,
};

/// A terminal form field (one that has no child fields).
#[derive(Debug, Clone)]
pub(crate) struct FieldNode {
    /// Fully qualified name: the parents' `/T` joined with `.` (12.7.4.2).
    pub name: String,
    /// The field's object, if it is indirect.
    pub obj: Option<ObjRef>,
    /// `/FT /Sig`, own or inherited.
    pub is_signature: bool,
    /// `/V` as written (a reference for signed signature fields).
    pub value: Option<Object>,
    /// Widget annotations that are kids of this field (not merged with it).
    pub widgets: Vec<ObjRef>,
}

/// Every field of a revision's form.
#[derive(Debug, Default)]
pub(crate) struct FieldScan {
    /// Terminal fields in document order.
    pub fields: Vec<FieldNode>,
    /// Object numbers of every field node and widget reached.
    pub nodes: BTreeSet<u32>,
    /// Object numbers of non-terminal field nodes, with their names.
    pub parents: BTreeMap<u32, String>,
    /// `/AcroForm` when indirect.
    pub acroform: Option<ObjRef>,
    /// `/AcroForm /Fields` when indirect.
    pub fields_array: Option<ObjRef>,
    /// The walk hit a bound or met a loop.
    pub problems: Vec<String>,
}

impl FieldScan {
    /// Signature fields with a value.
    pub(crate) fn signed(&self) -> impl Iterator<Item = &FieldNode> {
        self.fields
            .iter()
            .filter(|f| f.is_signature && f.value.is_some())
    }
}

/// The page tree of a revision.
#[derive(Debug, Default)]
pub(crate) struct PageIndex {
    /// 1-based page number of each page object.
    pub page_no: BTreeMap<u32, usize>,
    /// Intermediate `/Pages` nodes.
    pub tree_nodes: BTreeSet<u32>,
    /// Content streams (and indirect `/Contents` arrays), with their page.
    pub contents: BTreeMap<u32, usize>,
    /// Annotations, with their page, in page order.
    pub annots: Vec<(ObjRef, usize)>,
    /// Indirect `/Annots` arrays, with their page.
    pub annots_arrays: BTreeMap<u32, usize>,
    /// The walk hit a bound or met a loop.
    pub problems: Vec<String>,
}

/// `obj`, with one level of indirection resolved as of `rev`.
pub(crate) fn deref(
    file: &PdfFile,
    obj: &Object,
    rev: usize,
    budget: &mut Budget,
) -> Option<Object> {
    match obj {
        Object::Reference(r) => resolve(file, *r, rev, budget),
        other => Some(other.clone()),
    }
}

/// The object `r` as of `rev`, charged to the budget by its size.
pub(crate) fn resolve(
    file: &PdfFile,
    r: ObjRef,
    rev: usize,
    budget: &mut Budget,
) -> Option<Object> {
    if !budget.take(1) {
        return None;
    }
    match file.resolve(r, rev) {
        Ok(o) => budget.take(weight(&o, MAX_WORK)).then_some(o),
        Err(_) => {
            budget.take(FAILED_READ_COST);
            None
        }
    }
}

/// The trailer's `/Root` as of `rev`.
pub(crate) fn root_ref(file: &PdfFile, rev: usize) -> Option<ObjRef> {
    file.revisions()
        .get(rev)?
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
}

/// The catalog dictionary as of `rev`.
pub(crate) fn catalog(file: &PdfFile, rev: usize, budget: &mut Budget) -> Option<Dict> {
    let r = root_ref(file, rev)?;
    match resolve(file, r, rev, budget)? {
        Object::Dictionary(d) => Some(d),
        _ => None,
    }
}

fn as_dict(obj: Object) -> Option<Dict> {
    match obj {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(s.dict),
        _ => None,
    }
}

struct Pending {
    obj: Option<ObjRef>,
    dict: Dict,
    parent: Option<String>,
    sig: Option<bool>,
    depth: usize,
}

/// Walks `/AcroForm /Fields` and `/Kids` as of `rev`.
pub(crate) fn scan_fields(file: &PdfFile, rev: usize, budget: &mut Budget) -> FieldScan {
    let mut scan = FieldScan::default();
    let Some(cat) = catalog(file, rev, budget) else {
        return scan;
    };
    let Some(acro_obj) = cat.get(b"AcroForm") else {
        return scan;
    };
    scan.acroform = acro_obj.as_reference();
    let Some(acro) = deref(file, acro_obj, rev, budget).and_then(as_dict) else {
        return scan;
    };
    let Some(fields_obj) = acro.get(b"Fields") else {
        return scan;
    };
    scan.fields_array = fields_obj.as_reference();
    let Some(Object::Array(top)) = deref(file, fields_obj, rev, budget) else {
        return scan;
    };

    let mut visited: BTreeSet<ObjRef> = BTreeSet::new();
    let mut count = 0usize;
    let mut stack: Vec<Pending> = Vec::new();
    for item in top.iter().rev() {
        if let Some(p) = load(
            file,
            item,
            rev,
            budget,
            &mut visited,
            &mut scan,
            None,
            None,
            0,
        ) {
            stack.push(p);
        }
    }
    while let Some(node) = stack.pop() {
        count = count.saturating_add(1);
        if count > MAX_WALK_NODES {
            scan.problems.push(format!(
                "form has more than {MAX_WALK_NODES} field nodes; the rest was not read"
            ));
            break;
        }
        let partial = node
            .dict
            .get(b"T")
            .and_then(Object::as_string)
            .map(|s| text_string(&s.bytes));
        let name = match (&node.parent, partial) {
            (Some(p), Some(t)) => format!("{p}.{t}"),
            (None, Some(t)) => t,
            (Some(p), None) => p.clone(),
            (None, None) => match node.obj {
                Some(r) => format!("(unnamed field {})", r.num),
                None => "(unnamed field)".to_owned(),
            },
        };
        let sig = match node.dict.get(b"FT").and_then(Object::as_name) {
            Some(ft) => Some(ft == b"Sig"),
            None => node.sig,
        };
        let kids = node
            .dict
            .get(b"Kids")
            .and_then(|k| deref(file, k, rev, budget));
        let mut field_kids = Vec::new();
        let mut widgets = Vec::new();
        if let Some(Object::Array(kids)) = kids {
            if node.depth >= MAX_WALK_DEPTH {
                scan.problems.push(format!(
                    "form field {name} is nested deeper than {MAX_WALK_DEPTH} levels"
                ));
                continue;
            }
            for kid in &kids {
                let Some(p) = load(
                    file,
                    kid,
                    rev,
                    budget,
                    &mut visited,
                    &mut scan,
                    Some(name.clone()),
                    sig,
                    node.depth.saturating_add(1),
                ) else {
                    continue;
                };
                if p.dict.get(b"T").is_some() {
                    field_kids.push(p);
                } else if let Some(r) = p.obj {
                    widgets.push(r);
                }
            }
        }
        if field_kids.is_empty() {
            scan.fields.push(FieldNode {
                name,
                obj: node.obj,
                is_signature: sig == Some(true),
                value: node.dict.get(b"V").cloned(),
                widgets,
            });
        } else {
            if let Some(r) = node.obj {
                scan.parents.insert(r.num, name);
            }
            stack.extend(field_kids.into_iter().rev());
        }
    }
    if budget.exhausted() {
        scan.problems
            .push("work limit reached while reading the form fields".to_owned());
    }
    scan
}

#[allow(clippy::too_many_arguments)]
fn load(
    file: &PdfFile,
    item: &Object,
    rev: usize,
    budget: &mut Budget,
    visited: &mut BTreeSet<ObjRef>,
    scan: &mut FieldScan,
    parent: Option<String>,
    sig: Option<bool>,
    depth: usize,
) -> Option<Pending> {
    let (obj, dict) = match item {
        Object::Reference(r) => {
            if !visited.insert(*r) {
                scan.problems
                    .push(format!("form field object {} is reached twice", r.num));
                return None;
            }
            scan.nodes.insert(r.num);
            (Some(*r), as_dict(resolve(file, *r, rev, budget)?)?)
        }
        Object::Dictionary(d) => (None, d.clone()),
        _ => return None,
    };
    Some(Pending {
        obj,
        dict,
        parent,
        sig,
        depth,
    })
}

/// Walks the page tree as of `rev`, in page order.
pub(crate) fn index_pages(file: &PdfFile, rev: usize, budget: &mut Budget) -> PageIndex {
    let mut idx = PageIndex::default();
    let Some(cat) = catalog(file, rev, budget) else {
        return idx;
    };
    let Some(Object::Reference(pages)) = cat.get(b"Pages") else {
        return idx;
    };
    let mut visited: BTreeSet<ObjRef> = BTreeSet::new();
    let mut stack: Vec<(ObjRef, usize)> = vec![(*pages, 0)];
    let mut count = 0usize;
    let mut page = 0usize;
    while let Some((r, depth)) = stack.pop() {
        count = count.saturating_add(1);
        if count > MAX_WALK_NODES || depth > MAX_WALK_DEPTH {
            idx.problems.push(format!(
                "page tree larger than {MAX_WALK_NODES} nodes or deeper than {MAX_WALK_DEPTH}"
            ));
            break;
        }
        if !visited.insert(r) {
            idx.problems
                .push(format!("page tree object {} is reached twice", r.num));
            continue;
        }
        let Some(dict) = resolve(file, r, rev, budget).and_then(as_dict) else {
            continue;
        };
        if let Some(kids) = dict.get(b"Kids") {
            idx.tree_nodes.insert(r.num);
            if let Some(Object::Array(kids)) = deref(file, kids, rev, budget) {
                for kid in kids.iter().rev() {
                    if let Some(k) = kid.as_reference() {
                        stack.push((k, depth.saturating_add(1)));
                    }
                }
            }
            continue;
        }
        page = page.saturating_add(1);
        idx.page_no.insert(r.num, page);
        match dict.get(b"Contents") {
            Some(Object::Reference(c)) => {
                idx.contents.insert(c.num, page);
                if let Some(Object::Array(items)) = resolve(file, *c, rev, budget) {
                    for c in items.iter().filter_map(Object::as_reference) {
                        idx.contents.insert(c.num, page);
                    }
                }
            }
            Some(Object::Array(items)) => {
                for c in items.iter().filter_map(Object::as_reference) {
                    idx.contents.insert(c.num, page);
                }
            }
            _ => {}
        }
        let annots = match dict.get(b"Annots") {
            Some(Object::Reference(a)) => {
                idx.annots_arrays.insert(a.num, page);
                resolve(file, *a, rev, budget)
            }
            Some(other) => Some(other.clone()),
            None => None,
        };
        if let Some(Object::Array(items)) = annots {
            for a in items.iter().filter_map(Object::as_reference) {
                idx.annots.push((a, page));
            }
        }
    }
    if budget.exhausted() {
        idx.problems
            .push("work limit reached while reading the page tree".to_owned());
    }
    idx
}

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
