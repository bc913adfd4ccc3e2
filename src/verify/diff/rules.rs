//! The named rules that clear a change: filling an empty signature field, its appearance, the
//! catalog's `/Version`, `/Extensions` and `/AcroForm /SigFlags`, `/Info`; and how every other
//! change to a role is named.

use crate::pdf::walk::{deref, resolve};
use crate::pdf::{Dict, ObjRef, Object};

use super::super::finding::Finding;
use super::super::report::ChangeKind;
use super::super::util::{same, show_keys, show_name, text_string, type_hint};
use super::roles::{OldState, Role};
use super::{STRUCTURAL_TRAILER_KEYS, Transition, changed_keys, list_diff};

impl Transition<'_> {
    /// The fill rule for an empty signature field.
    pub(super) fn fill(&mut self, r: ObjRef, name: &str, old: &Object, new: &Object) {
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
            // /V and /AP by the signer; /AS, the appearance state, is dropped or set with /AP.
            .filter(|k| !matches!(k.as_slice(), b"V" | b"AP" | b"AS"))
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
    pub(super) fn allow_reachable(&mut self, root: &Object) {
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
    pub(super) fn changed(&mut self, r: ObjRef, state: &mut OldState) {
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
            Some(Role::Info) if is_plain_info(&old) && is_plain_info(&new) => self.maintained(
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
            Some(Role::Metadata) => self.metadata_stream(r),
            Some(Role::Dss) => self.dss_part_changed(n, &old, &new),
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
                b"Metadata" => self.metadata_repointed(n, nd.get(b"Metadata")),
                b"DSS" => self.dss_repointed(n, od.get(b"DSS"), nd.get(b"DSS")),
                b"Perms" => self.perms(n, od.get(b"Perms"), nd.get(b"Perms")),
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
                b"DR" => self.form_resources(n, od.get(b"DR"), nd.get(b"DR")),
                b"NeedAppearances" | b"DA" | b"Q" => self.maintained(
                    Some(n),
                    ChangeKind::CatalogUpdated,
                    Finding::FormDefaultsChanged { key: k },
                ),
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
        let mut stamps = 0usize;
        for item in &added {
            let r = item.as_reference();
            if r.is_some_and(|r| self.timestamp_field(r)) {
                stamps += 1;
                continue;
            }
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
        if added.is_empty() && removed.is_empty() && stamps == 0 {
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
        let before = added.len();
        let added: Vec<Object> = added
            .into_iter()
            .filter(|i| !i.as_reference().is_some_and(|r| self.timestamp_field(r)))
            .collect();
        let stamps = before - added.len();
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
        if added.is_empty() && removed.is_empty() && stamps == 0 {
            self.illegal(
                None,
                ChangeKind::PageChanged,
                Finding::AnnotationsReordered { page: p },
            );
        }
    }

    /// The trailer (7.5.5): `/Root` must stay, `/Info` may change (noted).
    pub(super) fn trailer(&mut self) {
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
                        self.maintained(
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
}

/// A document information dictionary (ISO 32000-2 14.3.3): no `/Type`,
/// only text strings, dates and names (`/Trapped`).
pub(super) fn is_plain_info(obj: &Object) -> bool {
    matches!(obj, Object::Dictionary(d) if d.get(b"Type").is_none()
        && d.entries.iter().all(|(_, v)| matches!(v, Object::String(_) | Object::Name(_))))
}
