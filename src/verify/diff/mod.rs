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
//!   plain text dictionary (maintenance, noted: an update may do only this, as
//!   pyHanko's `DocInfoRule` allows); trailer `/Info` may only point at a new
//!   one, so no existing object can borrow this lenient rule;
//! - **structure**: the update's own cross-reference stream and object
//!   streams, and trailer `/Size`, `/Prev`, `/ID`.
//!
//! Everything else is reported as an illegal [`Change`] naming what changed.
//! Each update must also fill at least one field, keep its objects inside its
//! own bytes, and hold nothing but objects, its cross-reference section,
//! white space and comments.

mod bytes;
mod maintenance;
mod roles;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use crate::pdf::walk::resolve;
use crate::pdf::{Dict, ObjRef, Object, PdfFile, XrefEntry};

use super::finding::Finding;
use super::report::{Change, ChangeKind};
use super::util::{Budget, key_index, same, same_opt, type_hint};
use bytes::is_white;
use roles::{OldState, Role, object_role};

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
    /// An allowed change other than a signature was made (metadata, validation data, a
    /// time-stamp): the update has a purpose even if it fills no field.
    maintenance: bool,
    /// New document time-stamp fields cleared by the rule (see `maintenance`).
    timestamp_fields: BTreeSet<u32>,
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
            maintenance: false,
            timestamp_fields: BTreeSet::new(),
        };
        t.analyse();
        t.changes
    }

    /// 1-based number of the update, for reports.
    fn label(&self) -> usize {
        self.j.saturating_add(1)
    }

    fn illegal(&mut self, object: Option<u32>, kind: ChangeKind, finding: Finding) {
        self.push(Change::new(
            false,
            (Some(self.label()), object),
            kind,
            finding,
        ));
    }

    fn allowed(&mut self, object: Option<u32>, kind: ChangeKind, finding: Finding) {
        self.push(Change::new(
            true,
            (Some(self.label()), object),
            kind,
            finding,
        ));
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
        if self.filled.is_empty() && !self.maintenance {
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
