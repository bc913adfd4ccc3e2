//! Golden hashes of the rendered outputs. A change in the bytes fails here on purpose: look
//! at the new output (written to target/golden-out/), then bless it with
//! `UPDATE_GOLDEN=1 cargo test --test it golden`.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use giaouoc::template::Template;

use crate::helpers::*;

const HASHES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/hashes.txt");

fn outputs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, json) in [
        ("reference", reference_json()),
        ("stress-30", stress_json()),
    ] {
        let (_, doc) = giaouoc::render::prepare(&json, &Template::builtin()).unwrap();
        let pdf = giaouoc::render::pdf(&doc, &Default::default()).unwrap();
        out.push((format!("{name}.pdf"), pdf.bytes));
        let docx = giaouoc::render::docx(&doc, &Default::default()).unwrap();
        out.push((format!("{name}.docx"), docx));
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn outputs_match_their_golden_hashes() {
    let live = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/golden-out");
    std::fs::create_dir_all(&live).unwrap();
    let mut actual = BTreeMap::new();
    for (name, bytes) in outputs() {
        std::fs::write(live.join(&name), &bytes).unwrap();
        actual.insert(name, hex(&Sha256::digest(&bytes)));
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text: String = actual.iter().map(|(n, h)| format!("{h}  {n}\n")).collect();
        std::fs::write(HASHES, text).unwrap();
        return;
    }
    let expected: BTreeMap<String, String> = std::fs::read_to_string(HASHES)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (h, n) = l.split_once("  ")?;
            Some((n.to_string(), h.to_string()))
        })
        .collect();
    for (name, hash) in &actual {
        assert_eq!(
            expected.get(name),
            Some(hash),
            "{name} changed: inspect target/golden-out/{name}, then bless with UPDATE_GOLDEN=1"
        );
    }
}
