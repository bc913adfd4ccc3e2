//! What changed after a signature: every incremental update is compared
//! object by object with the revision before it, deny by default
//! (after pyHanko's `diff_analysis`).
//!
//! A change is allowed only when a named rule clears it:
//! - **fill**: an existing, empty signature field (`/FT /Sig`, no `/V`) gains
//!   `/V` (a reference to a *new* signature dictionary) and may gain or
//!   replace `/AP`; every other entry of the field stays identical;
//! - **appearance**: new objects reachable from a filled field's `/AP` (form
//!   XObjects, fonts, images) and `/AP` of its widget kids;
//! - **catalog**: `/Version`, `/Extensions` (with new objects under it) and
//!   `/AcroForm /SigFlags`; `/AcroForm /Fields` must not change;
//! - **info**: the document information dictionary, as long as it stays a
//!   plain text dictionary (allowed, noted); trailer `/Info` may only point
//!   at a new one, so no existing object can borrow this lenient rule;
//! - **structure**: the update's own cross-reference stream and object
//!   streams, and trailer `/Size`, `/Prev`, `/ID`.
//!
//! Everything else is reported as an illegal [`Change`] naming what changed.
//! Each update must also fill at least one field, keep its objects inside its
//! own bytes, and hold nothing but objects, its cross-reference section,
//! white space and comments.

use std::collections::{BTreeMap, BTreeSet};

use crate::pdf::{Dict, ObjRef, Object, PdfFile, XrefEntry, XrefKind, parse_indirect_object_at};

use super::finding::{Finding, ObjectRole};
use super::report::{Change, ChangeKind};
use super::util::{
    Budget, key_index, same, same_opt, show_keys, show_name, text_string, type_hint,
};
use crate::pdf::walk::{FieldScan, PageIndex, deref, index_pages, resolve, root_ref, scan_fields};

/// Changes introduced by each revision after `from` (0-based indices), in order.
pub(crate) fn analyse(
    file: &PdfFile,
    from: usize,
    budget: &mut Budget,
) -> BTreeMap<usize, Vec<Change>> {
    let mut out = BTreeMap::new();
    for j in from.saturating_add(1)..file.revisions().len() {
        out.insert(j, Transition::run(file, j, budget));
    }
    out
}

/// What an existing object is, as of the revision before the update.
#[derive(Debug, Clone)]
enum Role {
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
}

/// Roles of the objects as of the revision before an update. Form, catalog
/// and `/Info` roles are always known; the page tree is only walked when a
/// changed object has none of those roles (a legitimate signature never
/// needs it).
struct OldState {
    rev: usize,
    roles: BTreeMap<u32, Role>,
    pages: Option<PageRoles>,
}

struct PageRoles {
    roles: BTreeMap<u32, Role>,
    annot_page: BTreeMap<u32, usize>,
}

impl OldState {
    fn build(file: &PdfFile, rev: usize, budget: &mut Budget) -> Self {
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
    fn role(&mut self, file: &PdfFile, num: u32, budget: &mut Budget) -> Option<Role> {
        if let Some(r) = self.roles.get(&num) {
            return Some(r.clone());
        }
        self.pages(file, budget).roles.get(&num).cloned()
    }

    fn page_of_annot(&mut self, file: &PdfFile, num: u32, budget: &mut Budget) -> Option<usize> {
        self.pages(file, budget).annot_page.get(&num).copied()
    }
}

/// Most changes listed per update; the rest are counted.
const MAX_CHANGES: usize = 1000;

/// Trailer keys that every update rewrites (7.5.5, 7.5.8.2).
const STRUCTURAL_TRAILER_KEYS: [&[u8]; 10] = [
    b"Size",
    b"Prev",
    b"ID",
    b"XRefStm",
    b"Type",
    b"W",
    b"Index",
    b"Length",
    b"Filter",
    b"DecodeParms",
];

struct Transition<'a> {
    file: &'a PdfFile,
    /// The update (0-based).
    j: usize,
    /// The revision before it.
    old: usize,
    budget: &'a mut Budget,
    changes: Vec<Change>,
    /// Object numbers the update defines that were not in use before.
    new_objs: BTreeSet<u32>,
    /// New objects cleared by a rule.
    allowed_new: BTreeSet<u32>,
    /// New objects already reported by a more specific change.
    explained: BTreeSet<u32>,
    /// Signature fields filled by this update.
    filled: BTreeSet<u32>,
    /// Illegal changes not listed because of [`MAX_CHANGES`].
    dropped: usize,
}

impl<'a> Transition<'a> {
    fn run(file: &'a PdfFile, j: usize, budget: &'a mut Budget) -> Vec<Change> {
        let mut t = Transition {
            file,
            j,
            old: j.saturating_sub(1),
            budget,
            changes: Vec::new(),
            new_objs: BTreeSet::new(),
            allowed_new: BTreeSet::new(),
            explained: BTreeSet::new(),
            filled: BTreeSet::new(),
            dropped: 0,
        };
        t.analyse();
        t.changes
    }

    /// 1-based number of the update, for reports.
    fn label(&self) -> usize {
        self.j.saturating_add(1)
    }

    fn illegal(&mut self, object: Option<u32>, kind: ChangeKind, finding: Finding) {
        self.push(Change::illegal(Some(self.label()), object, kind, finding));
    }

    fn allowed(&mut self, object: Option<u32>, kind: ChangeKind, finding: Finding) {
        self.push(Change::allowed(Some(self.label()), object, kind, finding));
    }

    /// Records a change; past [`MAX_CHANGES`] only the illegal ones are counted.
    fn push(&mut self, change: Change) {
        if self.changes.len() < MAX_CHANGES {
            self.changes.push(change);
        } else if !change.allowed {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn analyse(&mut self) {
        let file = self.file;
        let Some(rev) = file.revisions().get(self.j) else {
            return;
        };
        let unusable = self.structure();

        let mut existing: Vec<ObjRef> = Vec::new();
        let mut freed: Vec<u32> = Vec::new();
        for (&num, &entry) in &rev.xref {
            if unusable.contains(&num) {
                continue;
            }
            let old_gen = match file.xref_entry(num, self.old).map(|(_, e)| e) {
                Some(XrefEntry::InUse { generation, .. }) => Some(generation),
                Some(XrefEntry::Compressed { .. }) => Some(0),
                _ => None,
            };
            let generation = match entry {
                XrefEntry::Free { .. } => {
                    if num != 0 && old_gen.is_some() {
                        freed.push(num);
                    }
                    continue;
                }
                XrefEntry::InUse { generation, .. } => generation,
                XrefEntry::Compressed { .. } => 0,
            };
            match old_gen {
                None => {
                    self.new_objs.insert(num);
                }
                Some(g) if g == generation => existing.push(ObjRef::new(num, generation)),
                Some(_) => self.illegal(
                    Some(num),
                    ChangeKind::ObjectChanged,
                    Finding::GenerationChanged { object: num },
                ),
            }
        }

        let mut state = OldState::build(file, self.old, self.budget);
        self.trailer();

        // Fills first: they clear the new signature dictionaries and appearances.
        let mut handled = BTreeSet::new();
        for r in &existing {
            if let Some(Role::SigFieldEmpty(name)) = state.roles.get(&r.num).cloned() {
                if let Some((old, new)) = self.versions(*r) {
                    self.fill(*r, &name, &old, &new);
                }
                handled.insert(r.num);
            }
        }
        for r in &existing {
            if !handled.contains(&r.num) {
                self.changed(*r, &mut state);
            }
        }
        for num in freed {
            let was = object_role(state.role(file, num, self.budget).as_ref());
            self.illegal(
                Some(num),
                ChangeKind::ObjectFreed,
                Finding::ObjectFreed { object: num, was },
            );
        }
        let new_objs: Vec<u32> = self.new_objs.iter().copied().collect();
        for num in new_objs {
            if self.allowed_new.contains(&num) || self.explained.contains(&num) {
                continue;
            }
            let obj = resolve(
                file,
                ObjRef::new(num, new_generation(rev, num)),
                self.j,
                self.budget,
            );
            match obj {
                Some(o) if is_structural(file, rev, num, &o) => {}
                Some(o) => {
                    let hint = type_hint(&o);
                    self.illegal(
                        Some(num),
                        ChangeKind::ObjectAdded,
                        Finding::ObjectAdded { object: num, hint },
                    );
                }
                None => self.unreadable(num),
            }
        }
        if self.filled.is_empty() {
            let l = self.label();
            self.illegal(
                None,
                ChangeKind::RevisionWithoutSignature,
                Finding::RevisionWithoutSignature { revision: l },
            );
        }
        if self.dropped > 0 {
            let n = self.dropped;
            self.changes.push(Change::illegal(
                Some(self.label()),
                None,
                ChangeKind::ObjectChanged,
                Finding::MoreChangesNotListed { count: n },
            ));
        }
        if self.budget.exhausted() {
            self.illegal(
                None,
                ChangeKind::AnalysisIncomplete,
                Finding::ChangesNotFullyAnalysed,
            );
        }
    }

    fn unreadable(&mut self, num: u32) {
        let l = self.label();
        self.illegal(
            Some(num),
            ChangeKind::AnalysisIncomplete,
            Finding::ObjectUnreadable {
                object: num,
                revision: l,
            },
        );
    }

    /// The object before and after the update.
    fn versions(&mut self, r: ObjRef) -> Option<(Object, Object)> {
        let old = resolve(self.file, r, self.old, self.budget);
        let new = resolve(self.file, r, self.j, self.budget);
        match (old, new) {
            (Some(o), Some(n)) => Some((o, n)),
            _ => {
                self.unreadable(r.num);
                None
            }
        }
    }

    /// The fill rule for an empty signature field.
    fn fill(&mut self, r: ObjRef, name: &str, old: &Object, new: &Object) {
        let (Some(od), Some(nd)) = (old.as_dict(), new.as_dict()) else {
            self.illegal(
                Some(r.num),
                ChangeKind::FormFieldChanged,
                Finding::SignatureFieldReplaced {
                    field: name.to_owned(),
                },
            );
            return;
        };
        if same(self.file, old, new) {
            return;
        }
        let bad: Vec<Vec<u8>> = changed_keys(self.file, od, nd)
            .into_iter()
            .filter(|k| k.as_slice() != b"V" && k.as_slice() != b"AP")
            .collect();
        if !bad.is_empty() {
            let keys = show_keys(&bad);
            self.illegal(
                Some(r.num),
                ChangeKind::FormFieldChanged,
                Finding::SignatureFieldChanged {
                    field: name.to_owned(),
                    keys,
                },
            );
            return;
        }
        let Some(v) = nd.get(b"V") else {
            self.illegal(
                Some(r.num),
                ChangeKind::FormFieldChanged,
                Finding::AppearanceWithoutSignature {
                    field: name.to_owned(),
                },
            );
            return;
        };
        let sig = match v {
            Object::Reference(s) if self.new_objs.contains(&s.num) => Some(*s),
            _ => None,
        };
        let sig_ok = sig.is_some_and(|s| {
            resolve(self.file, s, self.j, self.budget)
                .as_ref()
                .and_then(Object::as_dict)
                .is_some_and(|d| {
                    d.get(b"Type").is_none_or(|t| t.as_name() == Some(b"Sig"))
                        && d.get(b"ByteRange").is_some()
                        && d.get(b"Contents").is_some()
                })
        });
        match sig {
            Some(s) if sig_ok => {
                self.allowed_new.insert(s.num);
                self.filled.insert(r.num);
                if let Some(ap) = nd.get(b"AP") {
                    self.allow_reachable(ap);
                }
                self.allowed(
                    Some(r.num),
                    ChangeKind::SignatureAdded,
                    Finding::SignatureAdded {
                        field: name.to_owned(),
                        signature_object: s.num,
                    },
                );
            }
            _ => self.illegal(
                Some(r.num),
                ChangeKind::FormFieldChanged,
                Finding::ValueNotNewSignature {
                    field: name.to_owned(),
                },
            ),
        }
    }

    /// Clears the new objects reachable from `root` (an appearance or `/Extensions`).
    fn allow_reachable(&mut self, root: &Object) {
        let mut stack = vec![root.clone()];
        while let Some(o) = stack.pop() {
            match o {
                Object::Reference(r)
                    if self.new_objs.contains(&r.num) && self.allowed_new.insert(r.num) =>
                {
                    if let Some(x) = resolve(self.file, r, self.j, self.budget) {
                        stack.push(x);
                    }
                }
                Object::Array(items) => stack.extend(items),
                Object::Dictionary(d) => stack.extend(d.entries.into_iter().map(|(_, v)| v)),
                Object::Stream(s) => stack.extend(s.dict.entries.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    /// An existing object that the update redefines.
    fn changed(&mut self, r: ObjRef, state: &mut OldState) {
        let Some((old, new)) = self.versions(r) else {
            return;
        };
        if same(self.file, &old, &new) {
            return;
        }
        let n = r.num;
        let empty = Dict::new();
        let od = old.as_dict().unwrap_or(&empty);
        let nd = new.as_dict().unwrap_or(&empty);
        let keys = show_keys(&changed_keys(self.file, od, nd));
        match state.role(self.file, n, self.budget) {
            Some(Role::Catalog) => self.catalog(n, od, nd),
            Some(Role::AcroForm) => self.acroform(n, od, nd),
            Some(Role::FieldsArray) => self.fields_list(Some(&old), Some(&new)),
            Some(Role::Info) if is_plain_info(&old) && is_plain_info(&new) => self.allowed(
                Some(n),
                ChangeKind::InfoUpdated,
                Finding::InfoChanged { keys },
            ),
            Some(Role::Info) => self.illegal(
                Some(n),
                ChangeKind::ObjectChanged,
                Finding::InfoNotText { object: n, keys },
            ),
            Some(Role::PagesNode) => self.illegal(
                Some(n),
                ChangeKind::PageTreeChanged,
                Finding::PageTreeChanged { object: n, keys },
            ),
            Some(Role::Page(p)) => self.page(n, p, od, nd),
            Some(Role::Contents(p)) => self.illegal(
                Some(n),
                ChangeKind::PageContentChanged,
                Finding::ContentStreamChanged { page: p, object: n },
            ),
            Some(Role::AnnotsArray(p)) => self.annots(p, Some(&old), Some(&new)),
            Some(Role::Annotation(p)) => self.illegal(
                Some(n),
                ChangeKind::AnnotationChanged,
                Finding::AnnotationChanged {
                    object: n,
                    page: p,
                    keys,
                },
            ),
            Some(Role::SigFieldEmpty(name) | Role::SigFieldSigned(name)) => self.illegal(
                Some(n),
                ChangeKind::FormFieldChanged,
                Finding::SignedFieldChanged { field: name, keys },
            ),
            Some(Role::Field(name)) => self.illegal(
                Some(n),
                ChangeKind::FormFieldChanged,
                Finding::FormFieldChanged { field: name, keys },
            ),
            Some(Role::Widget { field, field_obj }) => {
                let only_ap = changed_keys(self.file, od, nd)
                    .iter()
                    .all(|k| k.as_slice() == b"AP");
                if only_ap && field_obj.is_some_and(|f| self.filled.contains(&f)) {
                    if let Some(ap) = nd.get(b"AP") {
                        self.allow_reachable(ap);
                    }
                } else {
                    let page = state.page_of_annot(self.file, n, self.budget);
                    self.illegal(
                        Some(n),
                        ChangeKind::AnnotationChanged,
                        Finding::WidgetChanged {
                            object: n,
                            page,
                            field,
                            keys,
                        },
                    );
                }
            }
            Some(Role::SigDict(name)) => self.illegal(
                Some(n),
                ChangeKind::SignatureChanged,
                Finding::SignatureDictionaryChanged { field: name, keys },
            ),
            None => {
                let hint = type_hint(&new);
                self.illegal(
                    Some(n),
                    ChangeKind::ObjectChanged,
                    Finding::ObjectChanged { object: n, hint },
                );
            }
        }
    }

    /// The catalog (7.7.2): only `/Version`, `/Extensions` and `/AcroForm /SigFlags` may change.
    fn catalog(&mut self, n: u32, od: &Dict, nd: &Dict) {
        for key in changed_keys(self.file, od, nd) {
            let k = show_name(&key);
            match key.as_slice() {
                b"Version" | b"Extensions" => {
                    if let Some(v) = nd.get(&key) {
                        self.allow_reachable(v);
                    }
                    self.allowed(
                        Some(n),
                        ChangeKind::CatalogUpdated,
                        Finding::CatalogUpdated { key: k },
                    );
                }
                b"AcroForm" => match (od.get(b"AcroForm"), nd.get(b"AcroForm")) {
                    (Some(Object::Dictionary(o)), Some(Object::Dictionary(w))) => {
                        self.acroform(n, o, w);
                    }
                    (None, Some(new)) => {
                        let fields = new.as_dict().and_then(|d| d.get(b"Fields")).cloned();
                        self.fields_list(None, fields.as_ref());
                        self.illegal(Some(n), ChangeKind::CatalogChanged, Finding::AcroFormAdded);
                    }
                    _ => self.illegal(
                        Some(n),
                        ChangeKind::CatalogChanged,
                        Finding::AcroFormReplaced,
                    ),
                },
                _ => self.illegal(
                    Some(n),
                    ChangeKind::CatalogChanged,
                    Finding::CatalogChanged { key: k },
                ),
            }
        }
    }

    /// The interactive form dictionary (12.7.3): only `/SigFlags` may change.
    fn acroform(&mut self, n: u32, od: &Dict, nd: &Dict) {
        for key in changed_keys(self.file, od, nd) {
            let k = show_name(&key);
            match key.as_slice() {
                b"SigFlags" => self.allowed(
                    Some(n),
                    ChangeKind::CatalogUpdated,
                    Finding::SigFlagsUpdated,
                ),
                b"Fields" => self.fields_list(od.get(b"Fields"), nd.get(b"Fields")),
                _ => self.illegal(
                    Some(n),
                    ChangeKind::CatalogChanged,
                    Finding::AcroFormChanged { key: k },
                ),
            }
        }
    }

    fn array_as_of(&mut self, obj: Option<&Object>, rev: usize) -> Vec<Object> {
        match obj.and_then(|o| deref(self.file, o, rev, self.budget)) {
            Some(Object::Array(items)) => items,
            _ => Vec::new(),
        }
    }

    /// `/AcroForm /Fields` changed: name the fields added or removed.
    fn fields_list(&mut self, old: Option<&Object>, new: Option<&Object>) {
        let old_items = self.array_as_of(old, self.old);
        let new_items = self.array_as_of(new, self.j);
        let (added, removed) = list_diff(self.file, &old_items, &new_items);
        for item in &added {
            let r = item.as_reference();
            let name = r
                .and_then(|r| resolve(self.file, r, self.j, self.budget))
                .as_ref()
                .and_then(Object::as_dict)
                .and_then(|d| d.get(b"T"))
                .and_then(Object::as_string)
                .map(|s| text_string(&s.bytes))
                .unwrap_or_default();
            if let Some(r) = r {
                self.explained.insert(r.num);
            }
            self.illegal(
                r.map(|r| r.num),
                ChangeKind::FormFieldAdded,
                Finding::FieldAdded {
                    name,
                    object: r.map(|r| r.num),
                },
            );
        }
        for item in &removed {
            let r = item.as_reference();
            self.illegal(
                r.map(|r| r.num),
                ChangeKind::FormFieldChanged,
                Finding::FieldRemoved {
                    object: r.map(|r| r.num),
                },
            );
        }
        if added.is_empty() && removed.is_empty() {
            self.illegal(None, ChangeKind::FormFieldChanged, Finding::FieldsReordered);
        }
    }

    /// A page dictionary (7.7.3.3) changed.
    fn page(&mut self, n: u32, p: usize, od: &Dict, nd: &Dict) {
        for key in changed_keys(self.file, od, nd) {
            let k = show_name(&key);
            match key.as_slice() {
                b"Contents" => {
                    let new = self.new_content_streams(nd.get(b"Contents"));
                    self.illegal(
                        Some(n),
                        ChangeKind::PageContentChanged,
                        Finding::PageContentReplaced {
                            page: p,
                            new_streams: new,
                        },
                    );
                }
                b"Annots" => self.annots(p, od.get(b"Annots"), nd.get(b"Annots")),
                b"Resources" => self.illegal(
                    Some(n),
                    ChangeKind::PageResourcesChanged,
                    Finding::PageResourcesChanged { page: p },
                ),
                _ => self.illegal(
                    Some(n),
                    ChangeKind::PageChanged,
                    Finding::PageChanged { page: p, key: k },
                ),
            }
        }
    }

    /// New objects among a page's new `/Contents` (e.g. `81, 82`), marked as explained.
    fn new_content_streams(&mut self, contents: Option<&Object>) -> String {
        let refs: Vec<ObjRef> = match contents {
            Some(Object::Reference(r)) => vec![*r],
            Some(Object::Array(items)) => items.iter().filter_map(Object::as_reference).collect(),
            _ => Vec::new(),
        };
        let mut nums = Vec::new();
        for r in refs {
            if self.new_objs.contains(&r.num) {
                self.explained.insert(r.num);
                nums.push(r.num.to_string());
            }
        }
        nums.join(", ")
    }

    /// A page's `/Annots` changed: name the annotations added or removed.
    fn annots(&mut self, p: usize, old: Option<&Object>, new: Option<&Object>) {
        let old_items = self.array_as_of(old, self.old);
        let new_items = self.array_as_of(new, self.j);
        let (added, removed) = list_diff(self.file, &old_items, &new_items);
        for item in &added {
            let r = item.as_reference();
            let obj = match r {
                Some(r) => resolve(self.file, r, self.j, self.budget),
                None => Some(item.clone()),
            };
            let dict = obj.as_ref().and_then(Object::as_dict);
            let subtype = dict
                .and_then(|d| d.get(b"Subtype"))
                .and_then(Object::as_name)
                .map(show_name)
                .unwrap_or_else(|| "?".to_owned());
            let field = dict
                .filter(|d| d.get(b"FT").is_some() || d.get(b"Parent").is_some())
                .map(|d| {
                    d.get(b"T")
                        .and_then(Object::as_string)
                        .map(|s| text_string(&s.bytes))
                        .unwrap_or_default()
                });
            if let Some(r) = r {
                self.explained.insert(r.num);
            }
            let num = r.map(|r| r.num);
            match field {
                Some(name) => self.illegal(
                    num,
                    ChangeKind::FormFieldAdded,
                    Finding::FieldWidgetAdded {
                        name,
                        page: p,
                        object: num,
                        subtype,
                    },
                ),
                None => self.illegal(
                    num,
                    ChangeKind::AnnotationAdded,
                    Finding::AnnotationAdded {
                        page: p,
                        object: num,
                        subtype,
                    },
                ),
            }
        }
        for item in &removed {
            let num = item.as_reference().map(|r| r.num);
            self.illegal(
                num,
                ChangeKind::AnnotationRemoved,
                Finding::AnnotationRemoved {
                    page: p,
                    object: num,
                },
            );
        }
        if added.is_empty() && removed.is_empty() {
            self.illegal(
                None,
                ChangeKind::PageChanged,
                Finding::AnnotationsReordered { page: p },
            );
        }
    }

    /// The trailer (7.5.5): `/Root` must stay, `/Info` may change (noted).
    fn trailer(&mut self) {
        let revs = self.file.revisions();
        let (Some(old), Some(new)) = (revs.get(self.old), revs.get(self.j)) else {
            return;
        };
        for key in changed_keys(self.file, &old.trailer, &new.trailer) {
            if STRUCTURAL_TRAILER_KEYS.contains(&key.as_slice()) {
                continue;
            }
            let k = show_name(&key);
            let value = new.trailer.get(&key).and_then(Object::as_reference);
            match key.as_slice() {
                b"Root" => {
                    if let Some(r) = value {
                        self.explained.insert(r.num);
                    }
                    self.illegal(
                        value.map(|r| r.num),
                        ChangeKind::CatalogChanged,
                        Finding::CatalogReplaced,
                    );
                }
                b"Info" => {
                    // Only a new, text-only dictionary (or none): pointing /Info
                    // at an existing object would give it the lenient /Info rule.
                    let plain_new = match value {
                        Some(r) if self.new_objs.contains(&r.num) => {
                            resolve(self.file, r, self.j, self.budget)
                                .is_some_and(|o| is_plain_info(&o))
                        }
                        Some(_) => false,
                        None => new.trailer.get(b"Info").is_none(),
                    };
                    if plain_new {
                        if let Some(r) = value {
                            self.allowed_new.insert(r.num);
                        }
                        self.allowed(
                            value.map(|r| r.num),
                            ChangeKind::InfoUpdated,
                            Finding::InfoReplaced,
                        );
                    } else {
                        self.illegal(
                            value.map(|r| r.num),
                            ChangeKind::TrailerChanged,
                            Finding::InfoPointsAtExisting,
                        );
                    }
                }
                _ => self.illegal(
                    None,
                    ChangeKind::TrailerChanged,
                    Finding::TrailerChanged { key: k },
                ),
            }
        }
    }

    /// The update's bytes: its own objects, its section, white space and
    /// comments. Returns the entries that cannot be analysed further
    /// (pointing outside the update, or unreadable); they are reported here.
    fn structure(&mut self) -> BTreeSet<u32> {
        let mut unusable = BTreeSet::new();
        let file = self.file;
        let revs = file.revisions();
        let (Some(prev), Some(rev)) = (revs.get(self.old), revs.get(self.j)) else {
            return unusable;
        };
        let l = self.label();
        let start = prev.end_offset.unwrap_or(prev.section_span.1);
        let section = rev.section_span;
        let end = rev.end_offset.unwrap_or(section.1);
        if rev.end_offset.is_none() {
            self.illegal(
                None,
                ChangeKind::MalformedRevision,
                Finding::UpdateWithoutEof { revision: l },
            );
        }
        if section.0 < start {
            self.illegal(
                None,
                ChangeKind::MalformedRevision,
                Finding::UpdateOverlaps { revision: l },
            );
            unusable.extend(rev.xref.keys().copied());
            return unusable;
        }
        if rev.xref.is_empty() {
            self.illegal(
                None,
                ChangeKind::MalformedRevision,
                Finding::UpdateEmptyXref { revision: l },
            );
        }
        let mut spans = vec![section];
        if let Some(x) = rev
            .trailer
            .get(b"XRefStm")
            .and_then(Object::as_i64)
            .and_then(|v| usize::try_from(v).ok())
            && let Some(upto) = file.bytes().get(..section.1.max(x))
            && let Ok(o) = parse_indirect_object_at(upto, x, file.limits())
        {
            spans.push(o.span);
        }
        // Plain objects, by offset; each must parse before the next one starts,
        // which also keeps the work linear in the size of the update.
        let mut located: Vec<(usize, ObjRef)> = Vec::new();
        for (&num, &entry) in &rev.xref {
            match entry {
                XrefEntry::InUse { offset, generation } => {
                    if rev.kind == XrefKind::Stream && offset == section.0 {
                        // The update's own cross-reference stream: the section itself.
                        continue;
                    }
                    if offset < start || offset >= section.0 {
                        unusable.insert(num);
                        self.illegal(
                            Some(num),
                            ChangeKind::ObjectRedirected,
                            Finding::ObjectOutsideRevision {
                                object: num,
                                offset,
                                revision: l,
                            },
                        );
                    } else {
                        located.push((offset, ObjRef::new(num, generation)));
                    }
                }
                XrefEntry::Compressed { stream, .. } => {
                    let own = matches!(rev.xref.get(&stream), Some(XrefEntry::InUse { .. }));
                    if !own {
                        unusable.insert(num);
                        self.illegal(
                            Some(num),
                            ChangeKind::ObjectRedirected,
                            Finding::ObjectInForeignStream {
                                object: num,
                                stream,
                                revision: l,
                            },
                        );
                    }
                }
                XrefEntry::Free { .. } => {}
            }
        }
        located.sort_unstable();
        let limits: Vec<usize> = located
            .iter()
            .skip(1)
            .map(|(o, _)| *o)
            .chain(std::iter::once(section.0))
            .collect();
        for ((offset, r), limit) in located.iter().zip(limits) {
            let span = file
                .bytes()
                .get(..limit)
                .and_then(|upto| parse_indirect_object_at(upto, *offset, file.limits()).ok())
                .filter(|o| o.id == *r)
                .map(|o| o.span)
                // A stream with an indirect /Length needs the cross-reference table.
                .or_else(|| file.object_span(*r, self.j).filter(|(_, e)| *e <= limit));
            match span {
                Some(span) if self.budget.take(1) => spans.push(span),
                _ => {
                    unusable.insert(r.num);
                    self.unreadable(r.num);
                }
            }
        }
        spans.sort_unstable();
        spans.dedup();
        let mut pos = start;
        for (s, e) in spans {
            if s < pos {
                self.illegal(
                    None,
                    ChangeKind::MalformedRevision,
                    Finding::ObjectsOverlap { revision: l, at: s },
                );
            } else {
                self.gap(pos, s);
            }
            pos = pos.max(e);
        }
        self.gap(pos, end);
        unusable
    }

    /// Bytes between objects must be white space, comments or `startxref N`.
    fn gap(&mut self, from: usize, to: usize) {
        let Some(bytes) = self.file.bytes().get(from..to) else {
            return;
        };
        if let Some(bad) = first_foreign_byte(bytes) {
            let l = self.label();
            let at = from.saturating_add(bad);
            let n = to.saturating_sub(at);
            self.illegal(
                None,
                ChangeKind::UnaccountedBytes,
                Finding::UnaccountedBytes {
                    revision: l,
                    at,
                    count: n,
                },
            );
        }
    }
}

/// Generation of `num` in the revision's own section.
fn new_generation(rev: &crate::pdf::Revision, num: u32) -> u16 {
    match rev.xref.get(&num) {
        Some(XrefEntry::InUse { generation, .. }) => *generation,
        _ => 0,
    }
}

/// The update's own cross-reference stream, or an object stream container
/// (whose objects are judged one by one through their own entries).
fn is_structural(file: &PdfFile, rev: &crate::pdf::Revision, num: u32, obj: &Object) -> bool {
    let Object::Stream(s) = obj else {
        return false;
    };
    if s.dict.is_type(b"ObjStm") {
        return true;
    }
    s.dict.is_type(b"XRef")
        && matches!(rev.xref.get(&num), Some(XrefEntry::InUse { offset, .. })
            if file.bytes().get(*offset..rev.section_span.0.max(*offset))
                .is_some_and(|w| w.iter().all(|b| is_white(*b))))
}

/// A document information dictionary (ISO 32000-2 14.3.3): no `/Type`,
/// only text strings, dates and names (`/Trapped`).
fn is_plain_info(obj: &Object) -> bool {
    matches!(obj, Object::Dictionary(d) if d.get(b"Type").is_none()
        && d.entries.iter().all(|(_, v)| matches!(v, Object::String(_) | Object::Name(_))))
}

/// Keys whose values differ (added, removed or changed).
fn changed_keys(file: &PdfFile, old: &Dict, new: &Dict) -> Vec<Vec<u8>> {
    let (o, n) = (key_index(old), key_index(new));
    let mut keys: BTreeSet<&[u8]> = BTreeSet::new();
    for k in o.keys().chain(n.keys()) {
        if !same_opt(file, o.get(k).copied(), n.get(k).copied()) {
            keys.insert(k);
        }
    }
    keys.into_iter().map(<[u8]>::to_vec).collect()
}

/// Most direct (non-reference) items compared pairwise by [`list_diff`].
const MAX_DIRECT_ITEMS: usize = 64;

/// Items of `new` not in `old`, and items of `old` not in `new`. References
/// compare by identity; past [`MAX_DIRECT_ITEMS`] direct items all count as changed.
fn list_diff(file: &PdfFile, old: &[Object], new: &[Object]) -> (Vec<Object>, Vec<Object>) {
    let refs = |items: &[Object]| -> BTreeSet<ObjRef> {
        items.iter().filter_map(Object::as_reference).collect()
    };
    let (old_refs, new_refs) = (refs(old), refs(new));
    let direct = |items: &[Object]| -> Vec<Object> {
        items
            .iter()
            .filter(|o| o.as_reference().is_none())
            .cloned()
            .collect()
    };
    let (old_direct, new_direct) = (direct(old), direct(new));
    let small = old_direct.len() <= MAX_DIRECT_ITEMS && new_direct.len() <= MAX_DIRECT_ITEMS;
    let missing = |from: &[Object], other_refs: &BTreeSet<ObjRef>, other: &[Object]| {
        from.iter()
            .filter(|x| match x.as_reference() {
                Some(r) => !other_refs.contains(&r),
                None => !small || !other.iter().any(|y| same(file, x, y)),
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    (
        missing(new, &old_refs, &old_direct),
        missing(old, &new_refs, &new_direct),
    )
}

fn object_role(role: Option<&Role>) -> Option<ObjectRole> {
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

fn is_white(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// Offset of the first byte that is not white space, a comment, or the
/// `startxref` keyword with its number.
fn first_foreign_byte(bytes: &[u8]) -> Option<usize> {
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if is_white(b) {
            i = i.saturating_add(1);
        } else if b == b'%' {
            while let Some(&c) = bytes.get(i) {
                if c == b'\n' || c == b'\r' {
                    break;
                }
                i = i.saturating_add(1);
            }
        } else if bytes.get(i..).is_some_and(|r| r.starts_with(b"startxref")) {
            i = i.saturating_add(b"startxref".len());
            while bytes.get(i).is_some_and(|c| is_white(*c)) {
                i = i.saturating_add(1);
            }
            let digits_from = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i = i.saturating_add(1);
            }
            if i == digits_from {
                return Some(digits_from);
            }
        } else {
            return Some(i);
        }
    }
    None
}
