//! The bytes of an update: its own objects, its cross-reference section, white space and
//! comments, nothing else; objects stay inside their update.

use std::collections::BTreeSet;

use crate::pdf::{ObjRef, Object, XrefEntry, XrefKind, parse_indirect_object_at};

use super::super::finding::Finding;
use super::super::report::ChangeKind;
use super::Transition;

impl Transition<'_> {
    /// The update's bytes: its own objects, its section, white space and
    /// comments. Returns the entries that cannot be analysed further
    /// (pointing outside the update, or unreadable); they are reported here.
    pub(super) fn structure(&mut self) -> BTreeSet<u32> {
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
            // The reader's parse (shared with every other pass) when it ends before the
            // next object; else a parse that cannot see past it.
            let span = file
                .object_span(*r, self.j)
                .filter(|(s, e)| *s >= *offset && *e <= limit)
                .or_else(|| {
                    file.bytes()
                        .get(..limit)
                        .and_then(|upto| {
                            parse_indirect_object_at(upto, *offset, file.limits()).ok()
                        })
                        .filter(|o| o.id == *r)
                        .map(|o| o.span)
                });
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

pub(super) fn is_white(b: u8) -> bool {
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
