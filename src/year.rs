//! The bloc's year after the signing (DOMAIN §5): each unit's results against its pledges at
//! mid-year (sơ kết 6 tháng) and year end (tổng kết), its scores against the covenant's
//! scoring table, the ranking, the year-end conference (attendance, the vote on the unit
//! proposed for the provincial emulation flag, the election of next year's head and deputy)
//! and next year's covenant made from this one.
//!
//! Pure functions over the covenant input: each `*_from_value` checks a JSON body and returns
//! every problem at its path, in Vietnamese, as [`crate::covenant::parse`] does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::covenant::validate::{Cx, join, kind};
use crate::covenant::{Covenant, InputErrors, InputProblem, ItemKind, Registration, Scoring, nfc};
use crate::template::format_number;

/// When results are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Sơ kết 6 tháng đầu năm.
    MidYear,
    /// Tổng kết năm.
    YearEnd,
}

impl Period {
    pub const ALL: [Period; 2] = [Period::MidYear, Period::YearEnd];

    pub const fn as_str(self) -> &'static str {
        match self {
            Period::MidYear => "mid_year",
            Period::YearEnd => "year_end",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub const fn label_vi(self) -> &'static str {
        match self {
            Period::MidYear => "sơ kết 6 tháng đầu năm",
            Period::YearEnd => "tổng kết năm",
        }
    }
}

/// One of the year's documents the bloc signs and archives like its covenant (DOMAIN §5):
/// rendered from the year's records, issued once for signing, signed by the head of the
/// bloc (the minutes: by the conference's chair and its secretary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum YearDocument {
    /// Báo cáo sơ kết 6 tháng đầu năm của khối.
    #[serde(rename = "so-ket-6-thang")]
    MidYearReport,
    /// Biên bản hội nghị tổng kết.
    #[serde(rename = "bien-ban-tong-ket")]
    Minutes,
    /// Bảng tổng hợp điểm.
    #[serde(rename = "bang-tong-hop-diem")]
    Scores,
}

impl YearDocument {
    pub const ALL: [YearDocument; 3] = [
        YearDocument::MidYearReport,
        YearDocument::Minutes,
        YearDocument::Scores,
    ];

    /// The name in URLs and in the store (`covenants.kind`).
    pub const fn slug(self) -> &'static str {
        match self {
            YearDocument::MidYearReport => "so-ket-6-thang",
            YearDocument::Minutes => "bien-ban-tong-ket",
            YearDocument::Scores => "bang-tong-hop-diem",
        }
    }

    /// The inverse of [`Self::slug`].
    pub fn parse(s: &str) -> Option<YearDocument> {
        Self::ALL.into_iter().find(|d| d.slug() == s)
    }

    /// The builtin template it is rendered from.
    pub const fn template(self) -> &'static str {
        match self {
            YearDocument::MidYearReport => "year/mid-year-report.xml.j2",
            YearDocument::Minutes => "year/minutes.xml.j2",
            YearDocument::Scores => "year/scores.xml.j2",
        }
    }

    /// The abbreviation of its kind in the document's symbol (Decree 30/2020 Appendix III).
    pub const fn symbol(self) -> &'static str {
        match self {
            YearDocument::MidYearReport => "BC",
            YearDocument::Minutes => "BB",
            YearDocument::Scores => "BTHĐ",
        }
    }

    pub const fn label_vi(self) -> &'static str {
        match self {
            YearDocument::MidYearReport => "Báo cáo sơ kết 6 tháng",
            YearDocument::Minutes => "Biên bản hội nghị tổng kết",
            YearDocument::Scores => "Bảng tổng hợp điểm",
        }
    }

    /// The issued document's id: its covenant's, then its slug.
    pub fn id_for(self, covenant_id: &str) -> String {
        format!("{covenant_id}-{}", self.slug())
    }

    /// The reason a signature gives (`/Reason`).
    pub fn reason_vi(self, year: i32) -> String {
        match self {
            YearDocument::MidYearReport => format!("Ký báo cáo sơ kết 6 tháng năm {year}"),
            YearDocument::Minutes => format!("Ký biên bản hội nghị tổng kết năm {year}"),
            YearDocument::Scores => format!("Ký bảng tổng hợp điểm thi đua năm {year}"),
        }
    }
}

/// Evidence files a unit attaches: PDF or images, at most this many bytes each.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// The type of an evidence file, from its first bytes (never from what the client says).
pub fn evidence_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A unit's results for one period: one entry per registered pledge, in the registration's
/// order, and an optional summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    pub pledges: Vec<PledgeResult>,
    pub summary: Option<String>,
    /// Evidence for the results as a whole (SHA-256 of uploaded files).
    pub evidence: Vec<String>,
}

/// What was achieved on one pledge: a number for a numeric target, text otherwise (or both).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PledgeResult {
    pub achieved: Option<f64>,
    pub text: Option<String>,
    pub evidence: Vec<String>,
}

/// What the year's inputs check besides the covenant validator's own helpers.
impl Cx {
    fn opt_text(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        key: &str,
        max: usize,
    ) -> Option<String> {
        match m.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = nfc(s.trim());
                if s.is_empty() {
                    None
                } else if s.chars().count() > max {
                    self.err(join(path, key), format!("dài quá {max} ký tự"));
                    None
                } else if s.chars().any(|c| c.is_control() && c != '\n') {
                    self.err(join(path, key), "chứa ký tự điều khiển");
                    None
                } else {
                    Some(s)
                }
            }
            Some(other) => {
                self.err(
                    join(path, key),
                    format!("phải là chuỗi, không phải {}", kind(other)),
                );
                None
            }
        }
    }

    /// A number in `0 ..= max` with at most two decimals.
    fn points(&mut self, v: &Value, path: &str, max: f64) -> Option<f64> {
        match v.as_f64() {
            Some(x)
                if (0.0..=max).contains(&x) && ((x * 100.0).round() - x * 100.0).abs() < 1e-9 =>
            {
                Some(x)
            }
            _ => {
                self.err(
                    path,
                    format!(
                        "điểm phải là số từ 0 đến {}, tối đa 2 chữ số thập phân",
                        format_number(max)
                    ),
                );
                None
            }
        }
    }

    fn shas(&mut self, m: &Map<String, Value>, path: &str) -> Vec<String> {
        let Some(v) = m.get("evidence") else {
            return Vec::new();
        };
        let Some(arr) = v.as_array() else {
            self.err(
                join(path, "evidence"),
                "phải là mảng mã SHA-256 của tệp minh chứng",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, s) in arr.iter().enumerate() {
            match s.as_str() {
                Some(s) if crate::store::is_sha256(s) => out.push(s.to_owned()),
                _ => self.err(
                    format!("{}[{i}]", join(path, "evidence")),
                    "không phải mã SHA-256 của một tệp đã tải lên",
                ),
            }
        }
        out
    }

    fn finish<T>(self, value: T) -> Result<T, InputErrors> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(InputErrors {
                problems: self.problems,
            })
        }
    }
}

/// Checks a unit's results against its registration: `{"pledges": [{"achieved": 95,
/// "text": "...", "evidence": [sha…]}], "summary": "...", "evidence": [sha…]}`, one entry per
/// pledge; a pledge with a numeric target needs `achieved`, any other needs `text`.
///
/// # Errors
/// Every problem, at its path.
pub fn results_from_value(v: &Value, registration: &Registration) -> Result<Results, InputErrors> {
    let mut cx = Cx::default();
    let Some(m) = cx.object(v, "", &["pledges", "summary", "evidence"]) else {
        return cx.finish(Results {
            pledges: Vec::new(),
            summary: None,
            evidence: Vec::new(),
        });
    };
    let empty = Vec::new();
    let entries = match m.get("pledges") {
        None | Some(Value::Null) => &empty,
        Some(Value::Array(a)) => a,
        Some(_) => {
            cx.err(
                "pledges",
                "phải là mảng, mỗi chỉ tiêu đã đăng ký một phần tử",
            );
            &empty
        }
    };
    if entries.len() != registration.pledges.len() {
        cx.err(
            "pledges",
            format!(
                "đơn vị đã đăng ký {} chỉ tiêu nhưng báo cáo {} kết quả",
                registration.pledges.len(),
                entries.len()
            ),
        );
    }
    let mut pledges = Vec::new();
    for (i, (e, pledge)) in entries.iter().zip(&registration.pledges).enumerate() {
        let p = format!("pledges[{i}]");
        let Some(em) = cx.object(e, &p, &["achieved", "text", "evidence"]) else {
            continue;
        };
        let achieved = match em.get("achieved") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if (0.0..1e15).contains(&x) => Some(x),
                _ => {
                    cx.err(join(&p, "achieved"), "kết quả phải là số không âm");
                    None
                }
            },
            Some(other) => {
                cx.err(
                    join(&p, "achieved"),
                    format!("kết quả phải là số, không phải {}", kind(other)),
                );
                None
            }
        };
        let text = cx.opt_text(em, &p, "text", 2000);
        if pledge.target.is_some() && achieved.is_none() {
            cx.err(
                join(&p, "achieved"),
                format!(
                    "chỉ tiêu \"{}\" có chỉ tiêu số: cần kết quả bằng số",
                    pledge.text
                ),
            );
        }
        if pledge.target.is_none() && text.is_none() && achieved.is_none() {
            cx.err(
                join(&p, "text"),
                format!("cần nêu kết quả thực hiện chỉ tiêu \"{}\"", pledge.text),
            );
        }
        let evidence = cx.shas(em, &p);
        pledges.push(PledgeResult {
            achieved,
            text,
            evidence,
        });
    }
    let summary = cx.opt_text(m, "", "summary", 20_000);
    if registration.pledges.is_empty() && summary.is_none() {
        cx.err(
            "summary",
            "đơn vị không đăng ký chỉ tiêu: cần nêu kết quả chung",
        );
    }
    let evidence = cx.shas(m, "");
    cx.finish(Results {
        pledges,
        summary,
        evidence,
    })
}

impl Results {
    /// Every evidence hash that is not one of `known` (the unit's uploaded files), at its path.
    ///
    /// # Errors
    /// The unknown ones.
    pub fn check_evidence(&self, known: &BTreeSet<&str>) -> Result<(), InputErrors> {
        let mut cx = Cx::default();
        let named = self
            .evidence
            .iter()
            .enumerate()
            .map(|(i, sha)| (format!("evidence[{i}]"), sha))
            .chain(self.pledges.iter().enumerate().flat_map(|(i, p)| {
                p.evidence
                    .iter()
                    .enumerate()
                    .map(move |(j, sha)| (format!("pledges[{i}].evidence[{j}]"), sha))
            }));
        for (path, sha) in named {
            if !known.contains(sha.as_str()) {
                cx.err(
                    path,
                    "không phải tệp minh chứng của đơn vị: hãy tải tệp lên trước",
                );
            }
        }
        cx.finish(())
    }

    /// Every evidence hash the results name.
    pub fn evidence_shas(&self) -> BTreeSet<&str> {
        self.evidence
            .iter()
            .chain(self.pledges.iter().flat_map(|p| &p.evidence))
            .map(String::as_str)
            .collect()
    }
}

/// Achieved as a share of the target, in percent (`None` without a positive target).
pub fn percent_of_target(achieved: f64, target: Option<f64>) -> Option<f64> {
    target.filter(|t| *t > 0.0).map(|t| achieved / t * 100.0)
}

/// A percentage the Vietnamese way: `"104,5%"`, `"1.234,5%"`.
pub fn format_percent(p: f64) -> String {
    format!("{}%", format_number((p * 10.0).round() / 10.0))
}

/// A unit's scores: points per criterion (every criterion of the table), per bonus and per
/// minus item given (others count 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSheet {
    pub points: BTreeMap<String, f64>,
    pub note: Option<String>,
}

/// Checks `{"points": {"1.1": 28.5, ..., "T1": 2, "M1": 1}, "note": "..."}` against the table.
///
/// # Errors
/// Every problem, at its path (`points.1.1`).
pub fn score_sheet_from_value(v: &Value, scoring: &Scoring) -> Result<ScoreSheet, InputErrors> {
    let mut cx = Cx::default();
    let mut points = BTreeMap::new();
    let Some(m) = cx.object(v, "", &["points", "note"]) else {
        return cx.finish(ScoreSheet { points, note: None });
    };
    let given = match m.get("points") {
        Some(Value::Object(p)) => p.clone(),
        _ => {
            cx.err("points", "cần điểm của từng tiêu chí: {\"1.1\": 28.5, ...}");
            Map::new()
        }
    };
    for k in given.keys() {
        if !scoring.items().any(|(_, c)| &c.id == k) {
            cx.err(
                format!("points.{k}"),
                "không có tiêu chí này trong khung chấm điểm",
            );
        }
    }
    for (kind, c) in scoring.items() {
        let path = format!("points.{}", c.id);
        match given.get(&c.id) {
            Some(v) => {
                if let Some(x) = cx.points(v, &path, c.max_points) {
                    points.insert(c.id.clone(), x);
                }
            }
            None if kind == ItemKind::Criterion => {
                cx.err(path, format!("thiếu điểm tiêu chí \"{}\"", c.text))
            }
            None => {}
        }
    }
    let note = cx.opt_text(m, "", "note", 5000);
    cx.finish(ScoreSheet { points, note })
}

impl ScoreSheet {
    /// The total: criteria and bonus added, minus items taken away.
    pub fn total(&self, scoring: &Scoring) -> f64 {
        let sum: f64 = scoring
            .items()
            .map(|(kind, c)| {
                let x = self.points.get(&c.id).copied().unwrap_or(0.0);
                if kind == ItemKind::Minus { -x } else { x }
            })
            .sum();
        (sum * 100.0).round() / 100.0
    }
}

/// A unit's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    pub unit_id: String,
    pub total: f64,
    /// 1-based; units with the same total share it and the next place skips (1, 1, 3).
    pub rank: usize,
    /// Shares its rank with another unit (đồng hạng).
    pub tied: bool,
}

/// Ranks units by total, highest first; equal totals (to the hundredth) share a rank and are
/// marked, never broken silently. Units without a total are left to the caller to state.
pub fn rank(totals: &[(String, f64)]) -> Vec<Place> {
    let mut sorted: Vec<&(String, f64)> = totals.iter().collect();
    let key = |t: f64| (t * 100.0).round() as i64;
    sorted.sort_by(|a, b| key(b.1).cmp(&key(a.1)).then_with(|| a.0.cmp(&b.0)));
    let mut out: Vec<Place> = Vec::with_capacity(sorted.len());
    for (i, (unit, total)) in sorted.iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if key(prev.total) == key(*total) => prev.rank,
            _ => i + 1,
        };
        out.push(Place {
            unit_id: unit.clone(),
            total: *total,
            rank,
            tied: false,
        });
    }
    let ranks: Vec<usize> = out.iter().map(|p| p.rank).collect();
    for p in &mut out {
        p.tied = ranks.iter().filter(|r| **r == p.rank).count() > 1;
    }
    out
}

/// The year-end conference (hội nghị tổng kết) as the minutes record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conference {
    /// ISO date.
    pub date: String,
    pub place: String,
    /// Who chaired (the head of the bloc) and who took the minutes.
    pub chair: Person,
    pub secretary: Person,
    /// Units present.
    pub attending: Vec<String>,
    /// Secret ballot on the unit proposed for the provincial emulation flag: votes per unit.
    pub flag_votes: BTreeMap<String, u32>,
    /// The election of next year's head and deputy (votes for each).
    pub election: Election,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub position: String,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Election {
    pub head: String,
    pub head_votes: u32,
    pub deputy: String,
    pub deputy_votes: u32,
}

impl Conference {
    /// The unit with the most flag votes, if one has strictly more than every other.
    pub fn flag_unit(&self) -> Option<&str> {
        let max = self.flag_votes.values().max()?;
        let mut top = self.flag_votes.iter().filter(|(_, v)| *v == max);
        let first = top.next()?;
        top.next().is_none().then_some(first.0.as_str())
    }
}

/// Checks a conference record against the covenant's units: attending units exist; votes go
/// to units; no unit gets more votes than units attend; head and deputy are two units.
///
/// # Errors
/// Every problem, at its path.
pub fn conference_from_value(v: &Value, covenant: &Covenant) -> Result<Conference, InputErrors> {
    let mut problems = Vec::new();
    let conference: Conference = match serde_path_to_error::deserialize(v.clone()) {
        Ok(c) => c,
        Err(e) => {
            return Err(InputErrors {
                problems: vec![InputProblem {
                    path: e.path().to_string(),
                    message: format!("không hợp lệ: {}", e.inner()),
                }],
            });
        }
    };
    let mut cx = Cx::default();
    let known = |u: &str| covenant.unit(u).is_some();
    if crate::covenant::parse_iso_date(&conference.date).is_none() {
        cx.err("date", "ngày không hợp lệ (YYYY-MM-DD)");
    }
    for (path, text) in [
        ("place", &conference.place),
        ("chair.name", &conference.chair.name),
        ("secretary.name", &conference.secretary.name),
    ] {
        if text.trim().is_empty() {
            cx.err(path, "không được để trống");
        }
    }
    for (path, u) in [
        ("chair.unit", &conference.chair.unit),
        ("secretary.unit", &conference.secretary.unit),
        ("election.head", &conference.election.head),
        ("election.deputy", &conference.election.deputy),
    ] {
        if !known(u) {
            cx.err(path, format!("không có đơn vị \"{u}\" trong khối"));
        }
    }
    let mut seen = BTreeSet::new();
    for (i, u) in conference.attending.iter().enumerate() {
        if !known(u) || !seen.insert(u) {
            cx.err(
                format!("attending[{i}]"),
                format!("đơn vị \"{u}\" không có trong khối hoặc bị lặp"),
            );
        }
    }
    let present = u32::try_from(conference.attending.len()).unwrap_or(u32::MAX);
    let cast: u32 = conference.flag_votes.values().sum();
    for u in conference.flag_votes.keys() {
        if !known(u) {
            cx.err(
                format!("flag_votes.{u}"),
                format!("không có đơn vị \"{u}\" trong khối"),
            );
        }
    }
    if cast > present {
        cx.err(
            "flag_votes",
            format!("{cast} phiếu nhưng chỉ {present} đơn vị dự hội nghị"),
        );
    }
    if conference.election.head == conference.election.deputy {
        cx.err(
            "election.deputy",
            "trưởng khối và phó trưởng khối phải là hai đơn vị khác nhau",
        );
    }
    for (path, votes) in [
        ("election.head_votes", conference.election.head_votes),
        ("election.deputy_votes", conference.election.deputy_votes),
    ] {
        if votes > present {
            cx.err(
                path,
                format!("{votes} phiếu nhưng chỉ {present} đơn vị dự hội nghị"),
            );
        }
    }
    problems.append(&mut cx.problems);
    if problems.is_empty() {
        Ok(Conference {
            place: nfc(conference.place.trim()),
            ..conference
        })
    } else {
        Err(InputErrors { problems })
    }
}

/// Next year's covenant input from this year's (`input`, the stored JSON): the year moved on
/// (the year in the title, subtitle, number, preamble and activities' names; the signing date
/// and activities' dates a year later), the clauses, legal bases and scoring table copied for
/// editing, the roster changed (`remove` units out, `add` units in), the elected head and
/// deputy as leader and deputy (everyone else a member), and each unit's registration emptied
/// for the new year, or kept as a proposal (`keep_registrations`).
///
/// # Errors
/// The result fails the covenant's validation (a removed head, an added unit that clashes),
/// every problem at its path in the new input.
pub fn next_year_input(
    input: &Value,
    head: &str,
    deputy: &str,
    remove: &[String],
    add: &[Value],
    keep_registrations: bool,
) -> Result<(Value, Covenant), InputErrors> {
    let mut next = input.clone();
    let year = input
        .pointer("/covenant/year")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let (old, new) = (year.to_string(), (year + 1).to_string());
    let later = |d: &str| {
        crate::covenant::parse_iso_date(d)
            .and_then(|date| {
                date.replace_year(date.year() + 1)
                    .or_else(|_| {
                        date.replace_day(28)
                            .and_then(|d| d.replace_year(d.year() + 1))
                    })
                    .ok()
            })
            .map(crate::covenant::format_iso_date)
    };
    if let Some(c) = next.get_mut("covenant").and_then(Value::as_object_mut) {
        c.insert("year".into(), json!(year + 1));
        for key in ["title", "subtitle", "number_symbol", "preamble"] {
            if let Some(Value::String(s)) = c.get_mut(key) {
                *s = s.replace(&old, &new);
            }
        }
        if let Some(Value::String(d)) = c.get_mut("date")
            && let Some(moved) = later(d)
        {
            *d = moved;
        }
        if let Some(Value::Array(periodic)) =
            c.get_mut("activities").and_then(|a| a.get_mut("periodic"))
        {
            for a in periodic.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(Value::String(name)) = a.get_mut("name") {
                    *name = name.replace(&old, &new);
                }
                if let Some(Value::String(d)) = a.get_mut("date")
                    && let Some(moved) = later(d)
                {
                    *d = moved;
                }
                if let Some(Value::String(m)) = a.get_mut("planned_month")
                    && let Some((y, month)) = m.split_once('-')
                    && let Ok(y) = y.parse::<i32>()
                {
                    *m = format!("{}-{month}", y + 1);
                }
            }
        }
    }
    if let Some(Value::Array(units)) = next.get_mut("units") {
        units.retain(|u| {
            !remove
                .iter()
                .any(|r| Some(r.as_str()) == u.get("id").and_then(Value::as_str))
        });
        units.extend(add.iter().cloned());
        for u in units.iter_mut() {
            let role = match u.get("id").and_then(Value::as_str) {
                Some(id) if id == head => "leader",
                Some(id) if id == deputy => "deputy",
                _ => "member",
            };
            if let Some(o) = u.as_object_mut() {
                o.insert("role".into(), json!(role));
                if !keep_registrations {
                    o.insert("registration".into(), json!({"pledges": []}));
                }
            }
        }
    }
    let covenant = crate::covenant::from_value(&next)?;
    Ok((next, covenant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Covenant {
        crate::covenant::parse(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/covenant-2021-quang-ninh.json"
            ))
            .unwrap(),
        )
        .unwrap()
    }

    fn scoring() -> Scoring {
        let mut v: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/covenant-2021-quang-ninh.json"
            ))
            .unwrap(),
        )
        .unwrap();
        v["covenant"]["scoring"] = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/scoring-100.json"
            ))
            .unwrap(),
        )
        .unwrap();
        crate::covenant::from_value(&v)
            .unwrap()
            .covenant
            .scoring
            .unwrap()
    }

    #[test]
    fn results_follow_the_registration_numbers_for_targets_text_otherwise() {
        let c = reference();
        let reg = &c.units[0].registration;
        let entries: Vec<Value> = reg
            .pledges
            .iter()
            .map(|p| {
                if p.target.is_some() {
                    json!({"achieved": 12.5})
                } else {
                    json!({"text": "Đã hoàn thành"})
                }
            })
            .collect();
        let ok = results_from_value(&json!({"pledges": entries}), reg).unwrap();
        assert_eq!(ok.pledges.len(), reg.pledges.len());
        let errs =
            results_from_value(&json!({"pledges": [{"text": "x"}], "extra": 1}), reg).unwrap_err();
        let paths: Vec<&str> = errs.problems.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"pledges"), "{errs}");
        assert!(paths.contains(&"extra"), "{errs}");
        // A unit without pledges states its results in the summary.
        let none = Registration::default();
        assert_eq!(
            results_from_value(&json!({}), &none).unwrap_err().problems[0].path,
            "summary"
        );
        assert!(results_from_value(&json!({"summary": "Hoàn thành nhiệm vụ"}), &none).is_ok());
    }

    #[test]
    fn percentages_are_written_the_vietnamese_way() {
        assert_eq!(
            format_percent(percent_of_target(1234.5, Some(100.0)).unwrap()),
            "1.234,5%"
        );
        assert_eq!(
            format_percent(percent_of_target(95.0, Some(100.0)).unwrap()),
            "95%"
        );
        assert_eq!(percent_of_target(5.0, None), None);
        assert_eq!(percent_of_target(5.0, Some(0.0)), None);
    }

    #[test]
    fn a_score_sheet_needs_every_criterion_within_its_maximum_and_totals_with_bonus_and_minus() {
        let s = scoring();
        let mut points: Map<String, Value> = s
            .groups
            .iter()
            .flat_map(|g| &g.criteria)
            .map(|c| (c.id.clone(), json!(c.max_points)))
            .collect();
        points.insert("T1".into(), json!(2));
        points.insert("M2".into(), json!(1.5));
        let sheet = score_sheet_from_value(&json!({"points": points}), &s).unwrap();
        assert_eq!(sheet.total(&s), 100.5);
        points.insert("1.1".into(), json!(31));
        points.remove("4.2");
        points.insert("9.9".into(), json!(1));
        let errs = score_sheet_from_value(&json!({"points": points}), &s).unwrap_err();
        let paths: Vec<&str> = errs.problems.iter().map(|p| p.path.as_str()).collect();
        for want in ["points.1.1", "points.4.2", "points.9.9"] {
            assert!(paths.contains(&want), "{want} missing: {errs}");
        }
    }

    #[test]
    fn equal_totals_share_a_rank_and_say_so() {
        let totals = vec![
            ("U01".into(), 95.5),
            ("U02".into(), 97.0),
            ("U03".into(), 95.5),
            ("U04".into(), 90.0),
        ];
        let places = rank(&totals);
        let view: Vec<(&str, usize, bool)> = places
            .iter()
            .map(|p| (p.unit_id.as_str(), p.rank, p.tied))
            .collect();
        assert_eq!(
            view,
            vec![
                ("U02", 1, false),
                ("U01", 2, true),
                ("U03", 2, true),
                ("U04", 4, false)
            ]
        );
    }

    #[test]
    fn next_years_covenant_takes_the_elected_head_and_deputy_and_empty_registrations() {
        let input: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/covenant-2021-quang-ninh.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let (json, next) =
            next_year_input(&input, "U02", "U05", &["U16".into()], &[], false).unwrap();
        assert_eq!(next.covenant.year, 2022);
        assert!(
            next.covenant.title.contains("2022"),
            "{}",
            next.covenant.title
        );
        assert_eq!(next.units.len(), 15);
        assert_eq!(
            next.unit("U02").unwrap().role,
            crate::covenant::Role::Leader
        );
        assert_eq!(
            next.unit("U05").unwrap().role,
            crate::covenant::Role::Deputy
        );
        assert_eq!(
            next.unit("U01").unwrap().role,
            crate::covenant::Role::Member
        );
        assert!(next.units.iter().all(|u| u.registration.pledges.is_empty()));
        assert_eq!(json["covenant"]["date"], "2022-01-22");
        let periodic = &json["covenant"]["activities"]["periodic"];
        assert_eq!(periodic[0]["date"], "2022-01-22");
        assert_eq!(periodic[1]["planned_month"], "2022-07");
        assert!(periodic[2]["name"].as_str().unwrap().contains("năm 2022"));
        // Kept as proposals when asked (the demo's next year).
        let (_, kept) = next_year_input(&input, "U01", "U02", &[], &[], true).unwrap();
        assert_eq!(kept.units[0].registration.pledges.len(), 5);
        // The head removed: the covenant has no leader, said at its path.
        let errs = next_year_input(&input, "U16", "U05", &["U16".into()], &[], false).unwrap_err();
        assert!(!errs.problems.is_empty());
    }

    #[test]
    fn the_flag_goes_to_a_unit_with_strictly_most_votes() {
        let c = reference();
        let body = json!({
            "date": "2021-12-20", "place": "Hạ Long",
            "chair": {"name": "A", "position": "Giám đốc", "unit": "U01"},
            "secretary": {"name": "B", "position": "Chuyên viên", "unit": "U02"},
            "attending": c.unit_ids(),
            "flag_votes": {"U03": 9, "U04": 7},
            "election": {"head": "U02", "head_votes": 15, "deputy": "U05", "deputy_votes": 14},
        });
        let conf = conference_from_value(&body, &c).unwrap();
        assert_eq!(conf.flag_unit(), Some("U03"));
        let mut tie = body.clone();
        tie["flag_votes"] = json!({"U03": 8, "U04": 8});
        assert_eq!(conference_from_value(&tie, &c).unwrap().flag_unit(), None);
        let mut bad = body;
        bad["flag_votes"] = json!({"U03": 17});
        bad["election"]["deputy"] = json!("U02");
        let errs = conference_from_value(&bad, &c).unwrap_err();
        let paths: Vec<&str> = errs.problems.iter().map(|p| p.path.as_str()).collect();
        assert!(
            paths.contains(&"flag_votes") && paths.contains(&"election.deputy"),
            "{errs}"
        );
    }
}
