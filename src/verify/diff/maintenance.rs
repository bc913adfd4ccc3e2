//! The maintenance other signers write after a signature, allowed by name (as pyHanko's diff
//! policy does, and no more): XMP metadata (ISO 32000-2 §14.3.2), a plain-text document
//! information dictionary (§14.3.3, judged in `rules`), the document security store
//! with its validation data (§12.8.4.3, ETSI EN 319 142-1 §5.4.2), document time-stamps in a
//! new invisible signature field (§12.8.5), `/Perms` entries other than `/DocMDP`, additions to
//! the form's default resources and its appearance defaults. Everything else stays illegal.

use std::collections::BTreeMap;

use crate::pdf::walk::{deref, resolve};
use crate::pdf::{Dict, ObjRef, Object};

use super::super::finding::Finding;
use super::super::report::ChangeKind;
use super::super::util::{same, show_name};
use super::Transition;

/// Largest XMP packet parsed.
const MAX_XMP: usize = 1024 * 1024;

/// Keys a `/DSS` dictionary may hold (ISO 32000-2 Table 261).
const DSS_KEYS: [&[u8]; 5] = [b"Type", b"VRI", b"Certs", b"CRLs", b"OCSPs"];
/// Keys a VRI entry may hold (ISO 32000-2 Table 262).
const VRI_KEYS: [&[u8]; 6] = [b"Type", b"TU", b"TS", b"Cert", b"CRL", b"OCSP"];

impl Transition<'_> {
    /// The catalog's `/Metadata` now points at `new` (another object, or none).
    pub(super) fn metadata_repointed(&mut self, n: u32, new: Option<&Object>) {
        match new {
            None => self.maintained(
                Some(n),
                ChangeKind::MetadataUpdated,
                Finding::MetadataRemoved,
            ),
            Some(Object::Reference(r)) if self.new_objs.contains(&r.num) => {
                self.metadata_stream(*r);
            }
            Some(_) => self.illegal(
                Some(n),
                ChangeKind::CatalogChanged,
                Finding::CatalogChanged {
                    key: "/Metadata".into(),
                },
            ),
        }
    }

    /// `r` is (now) the XMP metadata stream: it must be one.
    pub(super) fn metadata_stream(&mut self, r: ObjRef) {
        match self.xmp_problem(r) {
            None => {
                if self.new_objs.contains(&r.num) {
                    self.allowed_new.insert(r.num);
                }
                self.maintained(
                    Some(r.num),
                    ChangeKind::MetadataUpdated,
                    Finding::MetadataUpdated { object: r.num },
                );
            }
            Some(reason) => self.illegal(
                Some(r.num),
                ChangeKind::ObjectChanged,
                Finding::MetadataNotXmp {
                    object: r.num,
                    reason,
                },
            ),
        }
    }

    /// Why object `r` is not an XMP metadata stream, if it is not.
    fn xmp_problem(&mut self, r: ObjRef) -> Option<String> {
        let Some(Object::Stream(s)) = resolve(self.file, r, self.j, self.budget) else {
            return Some("not a stream".into());
        };
        if s.dict
            .get(b"Type")
            .is_some_and(|t| t.as_name() != Some(b"Metadata"))
        {
            return Some("its /Type is not /Metadata".into());
        }
        let data = match self.file.decoded_stream(&s) {
            Ok(d) if d.len() <= MAX_XMP => d,
            Ok(_) => return Some("larger than 1 MB".into()),
            Err(e) => return Some(e.to_string()),
        };
        let text = match std::str::from_utf8(&data) {
            Ok(t) => t.trim_start_matches('\u{feff}'),
            Err(_) => return Some("not UTF-8".into()),
        };
        // No DTD (roxmltree's default), so no entities can hide anything.
        match roxmltree::Document::parse(text) {
            Ok(doc) if doc.root_element().tag_name().name() == "xmpmeta" => None,
            Ok(_) => Some("its root element is not x:xmpmeta".into()),
            Err(e) => Some(format!("not well-formed XML ({e})")),
        }
    }

    /// The catalog's `/DSS` changed from `old` to `new`.
    pub(super) fn dss_repointed(&mut self, n: u32, old: Option<&Object>, new: Option<&Object>) {
        match new {
            None => self.illegal(
                Some(n),
                ChangeKind::CatalogChanged,
                Finding::CatalogChanged { key: "/DSS".into() },
            ),
            Some(new) => {
                let fresh = match new {
                    Object::Reference(r) => self.new_objs.contains(&r.num),
                    _ => true,
                };
                if !fresh {
                    self.illegal(
                        Some(n),
                        ChangeKind::CatalogChanged,
                        Finding::CatalogChanged { key: "/DSS".into() },
                    );
                    return;
                }
                let old = old.and_then(|o| deref(self.file, o, self.old, self.budget));
                self.dss_value(n, old.as_ref(), new);
            }
        }
    }

    /// An object of the DSS (the dictionary, one of its arrays, `/VRI` or a VRI entry)
    /// rewritten in place.
    pub(super) fn dss_part_changed(&mut self, n: u32, old: &Object, new: &Object) {
        let shape = match (old, new) {
            (Object::Dictionary(o), Object::Dictionary(w)) if is_dss(o) || is_dss(w) => {
                self.dss_dict(w, Some(o))
            }
            (Object::Array(_), Object::Array(items)) => self.stream_refs(items),
            (Object::Dictionary(o), Object::Dictionary(w)) => self.vri(o, w),
            _ => Err("replaced by another kind of object".to_owned()),
        };
        self.dss_verdict(n, shape, new);
    }

    /// The DSS dictionary's new value, against its old one.
    fn dss_value(&mut self, n: u32, old: Option<&Object>, new: &Object) {
        let value = deref(self.file, new, self.j, self.budget);
        let shape = match (&value, old.and_then(Object::as_dict)) {
            (Some(Object::Dictionary(d)), old) => self.dss_dict(d, old),
            _ => Err("/DSS is not a dictionary".to_owned()),
        };
        self.dss_verdict(n, shape, new);
    }

    fn dss_verdict(&mut self, n: u32, shape: Result<(), String>, new: &Object) {
        match shape {
            Ok(()) => {
                self.allow_reachable(new);
                self.maintained(
                    Some(n),
                    ChangeKind::ValidationDataAdded,
                    Finding::DssUpdated,
                );
            }
            Err(reason) => self.illegal(
                Some(n),
                ChangeKind::CatalogChanged,
                Finding::DssMalformed { reason },
            ),
        }
    }

    /// A DSS dictionary: its keys, arrays of certificates, CRLs and OCSP responses, and a VRI
    /// that keeps every entry it had.
    fn dss_dict(&mut self, d: &Dict, old: Option<&Dict>) -> Result<(), String> {
        if let Some((k, _)) = d
            .entries
            .iter()
            .find(|(k, _)| !DSS_KEYS.contains(&k.as_slice()))
        {
            return Err(format!("/DSS holds {}", show_name(k)));
        }
        for key in [&b"Certs"[..], b"CRLs", b"OCSPs"] {
            if let Some(v) = d.get(key) {
                match deref(self.file, v, self.j, self.budget) {
                    Some(Object::Array(items)) => self.stream_refs(&items)?,
                    _ => return Err(format!("/DSS {} is not an array", show_name(key))),
                }
            }
        }
        let old_vri = old
            .and_then(|o| o.get(b"VRI"))
            .and_then(|v| deref(self.file, v, self.old, self.budget));
        match (d.get(b"VRI"), old_vri) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err("the /VRI dictionary was removed".into()),
            (Some(v), old) => match deref(self.file, v, self.j, self.budget) {
                Some(Object::Dictionary(w)) => {
                    let empty = Dict::new();
                    let o = old.as_ref().and_then(Object::as_dict).unwrap_or(&empty);
                    self.vri(o, &w)
                }
                _ => Err("/VRI is not a dictionary".into()),
            },
        }
    }

    /// A `/VRI` dictionary: keys are upper-case hex SHA-1 values (40 characters), entries have
    /// the VRI keys only, and every old entry is kept as it was.
    fn vri(&mut self, old: &Dict, new: &Dict) -> Result<(), String> {
        let file = self.file;
        for (k, v) in &old.entries {
            if !new.get(k).is_some_and(|w| same(file, v, w)) {
                return Err(format!(
                    "the VRI entry {} was changed or removed",
                    show_name(k)
                ));
            }
        }
        for (k, v) in &new.entries {
            if old.get(k).is_some() {
                continue;
            }
            let hex = k.len() == 40
                && k.iter()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b));
            if !hex {
                return Err(format!(
                    "the VRI key {} is not a SHA-1 in hex",
                    show_name(k)
                ));
            }
            match deref(file, v, self.j, self.budget) {
                Some(Object::Dictionary(e)) => {
                    if let Some((bad, _)) = e
                        .entries
                        .iter()
                        .find(|(key, _)| !VRI_KEYS.contains(&key.as_slice()))
                    {
                        return Err(format!("a VRI entry holds {}", show_name(bad)));
                    }
                }
                _ => return Err("a VRI entry is not a dictionary".into()),
            }
        }
        Ok(())
    }

    /// Items that are references to streams (certificates, CRLs, OCSP responses).
    fn stream_refs(&mut self, items: &[Object]) -> Result<(), String> {
        for item in items {
            let Object::Reference(r) = item else {
                return Err("a validation data entry is not a reference".into());
            };
            if !matches!(
                resolve(self.file, *r, self.j, self.budget),
                Some(Object::Stream(_))
            ) {
                return Err(format!(
                    "object {} is not a stream of validation data",
                    r.num
                ));
            }
        }
        Ok(())
    }

    /// `/Perms` changed: allowed when `/DocMDP` stays as it was (a certification cannot be
    /// added, removed or moved after signing).
    pub(super) fn perms(&mut self, n: u32, old: Option<&Object>, new: Option<&Object>) {
        let docmdp = |t: &mut Self, o: Option<&Object>, rev: usize| {
            o.and_then(|o| deref(t.file, o, rev, t.budget))
                .as_ref()
                .and_then(Object::as_dict)
                .and_then(|d| d.get(b"DocMDP").cloned())
        };
        let (was, is) = (docmdp(self, old, self.old), docmdp(self, new, self.j));
        let kept = match (&was, &is) {
            (None, None) => true,
            (Some(a), Some(b)) => same(self.file, a, b),
            _ => false,
        };
        if kept {
            if let Some(v) = new {
                self.allow_reachable(v);
            }
            self.maintained(Some(n), ChangeKind::CatalogUpdated, Finding::PermsUpdated);
        } else {
            self.illegal(
                Some(n),
                ChangeKind::CatalogChanged,
                Finding::CertificationChangedAfterSigning,
            );
        }
    }

    /// `/AcroForm /DR` changed: new resources may be added, none changed or removed.
    pub(super) fn form_resources(&mut self, n: u32, old: Option<&Object>, new: Option<&Object>) {
        let dict_of = |t: &mut Self, o: Option<&Object>, rev: usize| -> Option<Dict> {
            match o.and_then(|o| deref(t.file, o, rev, t.budget)) {
                Some(Object::Dictionary(d)) => Some(d),
                _ => None,
            }
        };
        let old_dr = dict_of(self, old, self.old).unwrap_or_default();
        let Some(new_dr) = dict_of(self, new, self.j) else {
            self.illegal(
                Some(n),
                ChangeKind::CatalogChanged,
                Finding::AcroFormChanged { key: "/DR".into() },
            );
            return;
        };
        let mut kept = true;
        for (k, v) in &old_dr.entries {
            let Some(w) = new_dr.get(k) else {
                kept = false;
                break;
            };
            if same(self.file, v, w) {
                continue;
            }
            // A resource category (/Font, /XObject, …) may gain entries.
            let (o, w) = (
                dict_of(self, Some(v), self.old),
                dict_of(self, Some(w), self.j),
            );
            let grows = match (o, w) {
                (Some(o), Some(w)) => {
                    let file = self.file;
                    let index: BTreeMap<&[u8], &Object> =
                        w.entries.iter().map(|(k, v)| (k.as_slice(), v)).collect();
                    o.entries
                        .iter()
                        .all(|(k, v)| index.get(k.as_slice()).is_some_and(|x| same(file, v, x)))
                }
                _ => false,
            };
            if !grows {
                kept = false;
                break;
            }
        }
        if kept {
            if let Some(v) = new {
                self.allow_reachable(v);
            }
            self.maintained(
                Some(n),
                ChangeKind::CatalogUpdated,
                Finding::FormResourcesAdded,
            );
        } else {
            self.illegal(
                Some(n),
                ChangeKind::CatalogChanged,
                Finding::AcroFormChanged { key: "/DR".into() },
            );
        }
    }

    /// Whether the new object `r`, added to the form, is a document time-stamp's field
    /// (ISO 32000-2 §12.8.5): a top-level invisible `/Sig` field whose value is a new
    /// `/DocTimeStamp` dictionary. Clears the field, its value and its appearance.
    pub(super) fn timestamp_field(&mut self, r: ObjRef) -> bool {
        if self.timestamp_fields.contains(&r.num) {
            return true;
        }
        if !self.new_objs.contains(&r.num) {
            return false;
        }
        let Some(Object::Dictionary(f)) = resolve(self.file, r, self.j, self.budget) else {
            return false;
        };
        let invisible = match f.get(b"Rect").and_then(Object::as_array) {
            None => true,
            Some([a, b, c, d]) => {
                let n = |o: &Object| match o {
                    Object::Integer(i) => *i as f64,
                    Object::Real(x) => *x,
                    _ => f64::NAN,
                };
                (n(a) - n(c)).abs() < 1e-9 || (n(b) - n(d)).abs() < 1e-9
            }
            Some(_) => false,
        };
        let value = match f.get(b"V") {
            Some(Object::Reference(v)) if self.new_objs.contains(&v.num) => Some(*v),
            _ => None,
        };
        let stamp = value.is_some_and(|v| {
            matches!(resolve(self.file, v, self.j, self.budget), Some(Object::Dictionary(d))
                if d.is_type(b"DocTimeStamp")
                    && d.get(b"SubFilter").and_then(Object::as_name) == Some(b"ETSI.RFC3161")
                    && d.get(b"ByteRange").is_some()
                    && d.get(b"Contents").is_some())
        });
        let ok = f.get(b"FT").and_then(Object::as_name) == Some(b"Sig")
            && f.get(b"Parent").is_none()
            && f.get(b"Kids").is_none()
            && invisible
            && stamp;
        if !ok {
            return false;
        }
        self.timestamp_fields.insert(r.num);
        self.allowed_new.insert(r.num);
        if let Some(v) = value {
            self.allowed_new.insert(v.num);
        }
        if let Some(ap) = f.get(b"AP") {
            self.allow_reachable(ap);
        }
        let name = f
            .get(b"T")
            .and_then(Object::as_string)
            .map(|s| crate::pdf::decode_text_string(&s.bytes))
            .unwrap_or_default();
        self.maintained(
            Some(r.num),
            ChangeKind::TimestampAdded,
            Finding::DocumentTimestampAdded { field: name },
        );
        true
    }

    /// An allowed change that is not a signature: the update has a purpose.
    pub(super) fn maintained(&mut self, object: Option<u32>, kind: ChangeKind, finding: Finding) {
        self.maintenance = true;
        self.allowed(object, kind, finding);
    }
}

/// A dictionary with a key only a DSS has (VRI keys are 40 hexadecimal digits).
fn is_dss(d: &Dict) -> bool {
    [&b"Certs"[..], b"CRLs", b"OCSPs", b"VRI"]
        .iter()
        .any(|k| d.get(k).is_some())
}
