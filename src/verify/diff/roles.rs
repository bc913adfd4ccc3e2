//! What each existing object was before an update: the role the rules judge it by.

use std::collections::BTreeMap;

use crate::pdf::walk::{FieldScan, PageIndex, deref, index_pages, resolve, root_ref, scan_fields};
use crate::pdf::{Object, PdfFile};

use super::super::finding::ObjectRole;
use super::Budget;

/// What an existing object is, as of the revision before the update.
#[derive(Debug, Clone)]
pub(super) enum Role {
    Catalog,
    AcroForm,
    FieldsArray,
    Info,
    PagesNode,
    Page(usize),
    Contents(usize),
    AnnotsArray(usize),
    Annotation(usize),
    SigFieldEmpty(String),
    SigFieldSigned(String),
    Field(String),
    Widget {
        field: String,
        field_obj: Option<u32>,
    },
    SigDict(String),
    /// The catalog's `/Metadata` stream (XMP, ISO 32000-2 §14.3.2).
    Metadata,
    /// The document security store (`/DSS`) or one of its arrays and VRI dictionaries.
    Dss,
}

/// Roles of the objects as of the revision before an update. Form, catalog
/// and `/Info` roles are always known; the page tree is only walked when a
/// changed object has none of those roles (a legitimate signature never
/// needs it).
pub(super) struct OldState {
    rev: usize,
    pub(super) roles: BTreeMap<u32, Role>,
    pages: Option<PageRoles>,
}

struct PageRoles {
    pub(super) roles: BTreeMap<u32, Role>,
    annot_page: BTreeMap<u32, usize>,
}

impl OldState {
    pub(super) fn build(file: &PdfFile, rev: usize, budget: &mut Budget) -> Self {
        let scan: FieldScan = scan_fields(file, rev, budget);
        let mut roles = BTreeMap::new();
        // Least specific first; later inserts win.
        for (&n, name) in &scan.parents {
            roles.insert(n, Role::Field(name.clone()));
        }
        for f in &scan.fields {
            for w in &f.widgets {
                roles.insert(
                    w.num,
                    Role::Widget {
                        field: f.name.clone(),
                        field_obj: f.obj.map(|o| o.num),
                    },
                );
            }
            if let Some(o) = f.obj {
                let role = match (f.is_signature, &f.value) {
                    (true, None) => Role::SigFieldEmpty(f.name.clone()),
                    (true, Some(_)) => Role::SigFieldSigned(f.name.clone()),
                    (false, _) => Role::Field(f.name.clone()),
                };
                roles.insert(o.num, role);
            }
            if f.is_signature
                && let Some(Object::Reference(v)) = &f.value
            {
                roles.insert(v.num, Role::SigDict(f.name.clone()));
            }
        }
        if let Some(a) = scan.acroform {
            roles.insert(a.num, Role::AcroForm);
        }
        if let Some(a) = scan.fields_array {
            roles.insert(a.num, Role::FieldsArray);
        }
        if let Some(i) = file
            .revisions()
            .get(rev)
            .and_then(|r| r.trailer.get(b"Info"))
            .and_then(Object::as_reference)
        {
            roles.insert(i.num, Role::Info);
        }
        if let Some(r) = root_ref(file, rev) {
            roles.insert(r.num, Role::Catalog);
            if let Some(Object::Dictionary(cat)) = resolve(file, r, rev, budget) {
                if let Some(m) = cat.get(b"Metadata").and_then(Object::as_reference) {
                    roles.insert(m.num, Role::Metadata);
                }
                for n in dss_objects(file, rev, cat.get(b"DSS"), budget) {
                    roles.insert(n, Role::Dss);
                }
            }
        }
        Self {
            rev,
            roles,
            pages: None,
        }
    }

    fn pages(&mut self, file: &PdfFile, budget: &mut Budget) -> &PageRoles {
        self.pages.get_or_insert_with(|| {
            let idx: PageIndex = index_pages(file, self.rev, budget);
            let mut roles = BTreeMap::new();
            let mut annot_page = BTreeMap::new();
            for (&n, &p) in &idx.contents {
                roles.insert(n, Role::Contents(p));
            }
            for &(a, p) in &idx.annots {
                roles.insert(a.num, Role::Annotation(p));
                annot_page.entry(a.num).or_insert(p);
            }
            for (&n, &p) in &idx.annots_arrays {
                roles.insert(n, Role::AnnotsArray(p));
            }
            for &n in &idx.tree_nodes {
                roles.insert(n, Role::PagesNode);
            }
            for (&n, &p) in &idx.page_no {
                roles.insert(n, Role::Page(p));
            }
            PageRoles { roles, annot_page }
        })
    }

    /// The role of object `num`: form and catalog roles first, then pages.
    pub(super) fn role(&mut self, file: &PdfFile, num: u32, budget: &mut Budget) -> Option<Role> {
        if let Some(r) = self.roles.get(&num) {
            return Some(r.clone());
        }
        self.pages(file, budget).roles.get(&num).cloned()
    }

    pub(super) fn page_of_annot(
        &mut self,
        file: &PdfFile,
        num: u32,
        budget: &mut Budget,
    ) -> Option<usize> {
        self.pages(file, budget).annot_page.get(&num).copied()
    }
}

pub(super) fn object_role(role: Option<&Role>) -> Option<ObjectRole> {
    Some(match role? {
        Role::Catalog => ObjectRole::Catalog,
        Role::Page(p) => ObjectRole::Page { page: *p },
        Role::Contents(p) => ObjectRole::PageContent { page: *p },
        Role::Annotation(p) => ObjectRole::Annotation { page: *p },
        Role::SigFieldEmpty(name) | Role::SigFieldSigned(name) | Role::Field(name) => {
            ObjectRole::Field { name: name.clone() }
        }
        Role::SigDict(name) => ObjectRole::Signature {
            field: name.clone(),
        },
        _ => return None,
    })
}

/// Most objects of a `/DSS` given the DSS role.
const MAX_DSS_OBJECTS: usize = 4096;

/// The indirect dictionaries and arrays of a document security store (not its streams:
/// certificates, CRLs and OCSP responses are never rewritten), as of `rev`.
fn dss_objects(file: &PdfFile, rev: usize, dss: Option<&Object>, budget: &mut Budget) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack: Vec<(Object, usize)> = dss.cloned().into_iter().map(|o| (o, 0)).collect();
    while let Some((o, depth)) = stack.pop() {
        if out.len() >= MAX_DSS_OBJECTS || depth > 3 {
            break;
        }
        let value = match &o {
            Object::Reference(r) => {
                let Some(v) = deref(file, &o, rev, budget) else {
                    continue;
                };
                if matches!(v, Object::Stream(_)) {
                    continue;
                }
                out.push(r.num);
                v
            }
            other => other.clone(),
        };
        match value {
            Object::Dictionary(d) => {
                stack.extend(d.entries.into_iter().map(|(_, v)| (v, depth + 1)));
            }
            Object::Array(items) => stack.extend(items.into_iter().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    out
}
