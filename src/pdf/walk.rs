//! Walking one revision of an untrusted file: the interactive form's fields (ISO 32000-2
//! §12.7.4, `/Kids` with inherited `/FT`) and the page tree (§7.7.3) with each page's content
//! streams and annotations. Every walk is bounded by [`MAX_WALK_NODES`], [`MAX_WALK_DEPTH`] and
//! a shared [`Budget`]; what stops a walk is a [`WalkProblem`]. The signer finds its field and
//! the verifier its signatures with the same walk.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Dict, ObjRef, Object, PdfFile, decode_text_string as text_string};

/// Work allowed for one verification, in units of objects read: each
/// object resolved costs one plus the number of values it holds, a failed
/// read costs [`FAILED_READ_COST`]. Shared by all walks and the modification
/// analysis, so hostile files stay bounded in time.
pub const MAX_WORK: usize = 5_000_000;

/// Cost of an object that fails to parse (the parser may have scanned far).
pub const FAILED_READ_COST: usize = 5_000;

/// Most nodes in one tree walk (fields, pages).
pub const MAX_WALK_NODES: usize = 10_000;

/// Deepest tree walk (fields, pages).
pub const MAX_WALK_DEPTH: usize = 32;

/// Work left for one verification; once spent, the analysis stops and says so.
#[derive(Debug)]
pub struct Budget {
    left: usize,
    exhausted: bool,
}

impl Budget {
    pub fn new(units: usize) -> Self {
        Self {
            left: units,
            exhausted: false,
        }
    }

    /// Takes `n` units of work; false (and exhausted from then on) if they are not left.
    pub fn take(&mut self, n: usize) -> bool {
        if self.exhausted || n > self.left {
            self.left = 0;
            self.exhausted = true;
            return false;
        }
        self.left = self.left.saturating_sub(n);
        true
    }

    /// Whether some work was refused.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

/// Number of values in an object, nested ones included (counting stops at `cap`).
pub fn weight(obj: &Object, cap: usize) -> usize {
    let mut n = 0usize;
    let mut stack = vec![obj];
    while let Some(o) = stack.pop() {
        n = n.saturating_add(1);
        if n > cap {
            break;
        }
        match o {
            Object::Array(items) => stack.extend(items.iter()),
            Object::Dictionary(d) => stack.extend(d.entries.iter().map(|(_, v)| v)),
            Object::Stream(s) => stack.extend(s.dict.entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    n
}

/// What stopped or disturbed a walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WalkProblem {
    /// More field nodes than [`MAX_WALK_NODES`]; the rest was not read.
    TooManyFieldNodes,
    /// A field nested deeper than [`MAX_WALK_DEPTH`].
    FieldTooDeep {
        /// The field.
        field: String,
    },
    /// A field object reached twice (a loop).
    FieldReachedTwice {
        /// The object.
        object: u32,
    },
    /// The budget ran out while reading the form.
    FieldsWorkLimit,
    /// The page tree is larger or deeper than the bounds.
    PageTreeTooLarge,
    /// A page tree object reached twice (a loop).
    PageTreeLoop {
        /// The object.
        object: u32,
    },
    /// The budget ran out while reading the page tree.
    PagesWorkLimit,
}

/// A terminal form field (one that has no child fields).
#[derive(Debug, Clone)]
pub struct FieldNode {
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
    /// `/TU`, the field's name for people (12.7.4.1): giaouoc writes the leader's name printed
    /// under a unit's signature field there.
    pub tooltip: Option<String>,
}

/// Every field of a revision's form.
#[derive(Debug, Default)]
pub struct FieldScan {
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
    pub problems: Vec<WalkProblem>,
}

impl FieldScan {
    /// Signature fields with a value.
    pub fn signed(&self) -> impl Iterator<Item = &FieldNode> {
        self.fields
            .iter()
            .filter(|f| f.is_signature && f.value.is_some())
    }
}

/// The page tree of a revision.
#[derive(Debug, Default)]
pub struct PageIndex {
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
    pub problems: Vec<WalkProblem>,
}

/// `obj`, with one level of indirection resolved as of `rev`.
pub fn deref(file: &PdfFile, obj: &Object, rev: usize, budget: &mut Budget) -> Option<Object> {
    match obj {
        Object::Reference(r) => resolve(file, *r, rev, budget),
        other => Some(other.clone()),
    }
}

/// The object `r` as of `rev`, charged to the budget by its size.
pub fn resolve(file: &PdfFile, r: ObjRef, rev: usize, budget: &mut Budget) -> Option<Object> {
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
pub fn root_ref(file: &PdfFile, rev: usize) -> Option<ObjRef> {
    file.revisions()
        .get(rev)?
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
}

/// The catalog dictionary as of `rev`.
pub fn catalog(file: &PdfFile, rev: usize, budget: &mut Budget) -> Option<Dict> {
    let r = root_ref(file, rev)?;
    match resolve(file, r, rev, budget)? {
        Object::Dictionary(d) => Some(d),
        _ => None,
    }
}

pub fn as_dict(obj: Object) -> Option<Dict> {
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
pub fn scan_fields(file: &PdfFile, rev: usize, budget: &mut Budget) -> FieldScan {
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
            scan.problems.push(WalkProblem::TooManyFieldNodes);
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
                scan.problems
                    .push(WalkProblem::FieldTooDeep { field: name });
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
                tooltip: node
                    .dict
                    .get(b"TU")
                    .and_then(Object::as_string)
                    .map(|s| text_string(&s.bytes)),
            });
        } else {
            if let Some(r) = node.obj {
                scan.parents.insert(r.num, name);
            }
            stack.extend(field_kids.into_iter().rev());
        }
    }
    if budget.exhausted() {
        scan.problems.push(WalkProblem::FieldsWorkLimit);
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
                    .push(WalkProblem::FieldReachedTwice { object: r.num });
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
pub fn index_pages(file: &PdfFile, rev: usize, budget: &mut Budget) -> PageIndex {
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
            idx.problems.push(WalkProblem::PageTreeTooLarge);
            break;
        }
        if !visited.insert(r) {
            idx.problems
                .push(WalkProblem::PageTreeLoop { object: r.num });
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
        idx.problems.push(WalkProblem::PagesWorkLimit);
    }
    idx
}
