#!/usr/bin/env bash
# Seed corpora from our own outputs: the reference and stress covenants (JSON), their PDFs,
# and a PDF with two signatures. Run from the repository root after `cargo build`.
set -euo pipefail
bin=target/debug/giaouoc
mkdir -p fuzz/corpus/pdf_reader fuzz/corpus/covenant_input fuzz/corpus/template fuzz/corpus/verify
cp tests/fixtures/covenant-*.json fuzz/corpus/covenant_input/
cp templates/covenant.xml.j2 fuzz/corpus/template/
printf '%s' '<document><p>Xin chào {{ covenant.year }}</p></document>' > fuzz/corpus/template/small.j2
printf '%s' '{% for u in units %}{{ u.name }}{% endfor %}' > fuzz/corpus/template/loop.j2
tmp=$(mktemp -d)
for f in tests/fixtures/covenant-*.json; do
  $bin render --input "$f" --pdf "fuzz/corpus/pdf_reader/$(basename "$f" .json).pdf"
done
$bin ca init --dir "$tmp/ca" --name "Khối thi đua" >/dev/null
for u in U01 U02; do
  $bin keygen --out "$tmp/$u" >/dev/null
  $bin ca issue --dir "$tmp/ca" --pub "$tmp/$u.pub" --name "Người ký $u" --title "Giám đốc" \
    --unit "Đơn vị $u" --unit-id $u --out "$tmp/$u.crt" >/dev/null
done
$bin render --input tests/fixtures/covenant-2021-quang-ninh.json --pdf "$tmp/c0.pdf"
$bin sign --in "$tmp/c0.pdf" --field U01 --key "$tmp/U01.key" --cert "$tmp/U01.crt" --chain "$tmp/ca/ca.crt" --out "$tmp/c1.pdf" >/dev/null
$bin sign --in "$tmp/c1.pdf" --field U02 --key "$tmp/U02.key" --cert "$tmp/U02.crt" --chain "$tmp/ca/ca.crt" --out fuzz/corpus/pdf_reader/signed-2.pdf >/dev/null
cp "$tmp/c1.pdf" fuzz/corpus/pdf_reader/signed-1.pdf
cp fuzz/corpus/pdf_reader/*.pdf fuzz/corpus/verify/
rm -rf "$tmp"
ls fuzz/corpus/*
