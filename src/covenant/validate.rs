//! Validation of `giaouoc.covenant/1` input: every problem at once, each at its JSON path,
//! every string normalised to NFC. The only way from JSON to the typed [`Covenant`].

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use time::Date;

use super::dates::{parse_iso_date, parse_month};
use super::*;

/// Parses and validates a covenant from JSON bytes.
///
/// # Errors
/// All problems at once: JSON syntax, missing or mistyped fields, unknown fields, duplicate
/// unit ids, role counts, authority rules, dates, empty names.
pub fn parse(json: &[u8]) -> Result<Covenant, InputErrors> {
    if json.len() > MAX_INPUT_BYTES {
        return Err(single(
            "",
            format!(
                "tệp quá lớn ({} byte, tối đa {MAX_INPUT_BYTES})",
                json.len()
            ),
        ));
    }
    let value: Value = serde_json::from_slice(json).map_err(|e| {
        single(
            "",
            format!(
                "JSON không hợp lệ tại dòng {}, cột {}: {}",
                e.line(),
                e.column(),
                e
            ),
        )
    })?;
    from_value(&value)
}

/// Validates an already parsed JSON value (see [`parse`]).
///
/// # Errors
/// As [`parse`].
pub fn from_value(value: &Value) -> Result<Covenant, InputErrors> {
    let mut cx = Cx::default();
    let covenant = cx.covenant(value);
    match covenant {
        Some(c) if cx.problems.is_empty() => Ok(c),
        _ => Err(InputErrors {
            problems: if cx.problems.is_empty() {
                vec![InputProblem {
                    path: String::new(),
                    message: "dữ liệu không hợp lệ".into(),
                }]
            } else {
                cx.problems
            },
        }),
    }
}

/// Validates one unit's registration on its own (the body a unit sends); paths are relative
/// to it (`pledges[0].text`), strings are NFC.
///
/// # Errors
/// Every problem of the registration at once.
pub fn registration_from_value(value: &Value) -> Result<Registration, InputErrors> {
    let mut cx = Cx::default();
    let registration = cx.registration(value, "");
    for p in &mut cx.problems {
        if let Some(rest) = p.path.strip_prefix('.') {
            p.path = rest.to_owned();
        }
    }
    match registration {
        Some(r) if cx.problems.is_empty() => Ok(r),
        _ => Err(InputErrors {
            problems: if cx.problems.is_empty() {
                vec![InputProblem {
                    path: String::new(),
                    message: "dữ liệu không hợp lệ".into(),
                }]
            } else {
                cx.problems
            },
        }),
    }
}

fn single(path: &str, message: String) -> InputErrors {
    InputErrors {
        problems: vec![InputProblem {
            path: path.into(),
            message,
        }],
    }
}

/// The validation context: every problem found, each at its JSON path. Shared by the other
/// inputs checked against the covenant ([`crate::year`]).
#[derive(Default)]
pub(crate) struct Cx {
    pub(crate) problems: Vec<InputProblem>,
    /// Id and role of every unit that has them, valid or not, for the cross checks.
    unit_keys: Vec<(usize, Option<String>, Option<Role>)>,
}

const MISSING: &str = "thiếu trường bắt buộc";

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Cx {
    pub(crate) fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(InputProblem {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(crate) fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => {
                for k in m.keys() {
                    if !known.contains(&k.as_str()) {
                        self.err(join(path, k), "trường không được hỗ trợ");
                    }
                }
                Some(m)
            }
            _ => {
                self.err(
                    path,
                    format!("phải là một đối tượng, không phải {}", kind(v)),
                );
                None
            }
        }
    }

    /// A required non-empty string.
    fn string(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        let p = join(path, key);
        match m.get(key) {
            None | Some(Value::Null) => {
                self.err(p, MISSING);
                None
            }
            Some(v) => self.string_value(v, &p),
        }
    }

    fn string_value(&mut self, v: &Value, p: &str) -> Option<String> {
        match v {
            Value::String(s) => {
                let s = nfc(s.trim());
                if s.is_empty() {
                    self.err(p, "không được để trống");
                    None
                } else if s.chars().any(|c| c.is_control() && c != '\n') {
                    self.err(p, "chứa ký tự điều khiển");
                    None
                } else {
                    Some(s)
                }
            }
            other => {
                self.err(p, format!("phải là chuỗi, không phải {}", kind(other)));
                None
            }
        }
    }

    /// An optional string; present means non-empty.
    fn opt_string(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<Option<String>, ()> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.string_value(v, &join(path, key)).map(Some).ok_or(()),
        }
    }

    fn array<'v>(
        &mut self,
        m: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Vec<Value>> {
        let p = join(path, key);
        match m.get(key) {
            None | Some(Value::Null) if !required => None,
            None | Some(Value::Null) => {
                self.err(p, MISSING);
                None
            }
            Some(Value::Array(a)) => Some(a),
            Some(other) => {
                self.err(p, format!("phải là mảng, không phải {}", kind(other)));
                None
            }
        }
    }

    fn strings(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<Vec<String>> {
        let arr = self.array(m, path, key, true)?;
        let p = join(path, key);
        let mut out = Vec::with_capacity(arr.len());
        let mut ok = true;
        for (i, v) in arr.iter().enumerate() {
            match self.string_value(v, &format!("{p}[{i}]")) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn date(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<Date> {
        let p = join(path, key);
        let s = self.string(m, path, key)?;
        match parse_iso_date(&s) {
            Some(d) => Some(d),
            None => {
                self.err(
                    p,
                    format!("ngày không hợp lệ \"{s}\" (định dạng YYYY-MM-DD, ví dụ 2021-01-22)"),
                );
                None
            }
        }
    }

    fn covenant(&mut self, v: &Value) -> Option<Covenant> {
        let m = self.object(v, "", &["format", "bloc", "covenant", "units"])?;
        match m.get("format") {
            Some(Value::String(f)) if f == FORMAT => {}
            Some(Value::String(f)) => self.err(
                "format",
                format!("định dạng \"{f}\" không được hỗ trợ (cần \"{FORMAT}\")"),
            ),
            Some(other) => self.err(
                "format",
                format!("phải là chuỗi, không phải {}", kind(other)),
            ),
            None => self.err("format", MISSING),
        }
        let bloc = match m.get("bloc") {
            Some(b) => self.bloc(b),
            None => {
                self.err("bloc", MISSING);
                None
            }
        };
        let text = match m.get("covenant") {
            Some(c) => self.text(c),
            None => {
                self.err("covenant", MISSING);
                None
            }
        };
        let units = self.units(m);
        self.cross_checks(text.as_ref());
        Some(Covenant {
            format: FORMAT.into(),
            bloc: bloc?,
            covenant: text?,
            units: units?,
        })
    }

    fn bloc(&mut self, v: &Value) -> Option<Bloc> {
        let p = "bloc";
        let m = self.object(
            v,
            p,
            &[
                "id",
                "name",
                "full_name",
                "governing_body",
                "issuer",
                "place_name",
            ],
        )?;
        let id = self.string(m, p, "id");
        let name = self.string(m, p, "name");
        let full_name = self.string(m, p, "full_name");
        let governing_body = self.opt_string(m, p, "governing_body");
        let issuer = self.string(m, p, "issuer");
        let place_name = self.string(m, p, "place_name");
        Some(Bloc {
            id: id?,
            name: name?,
            full_name: full_name?,
            governing_body: governing_body.ok()?,
            issuer: issuer?,
            place_name: place_name?,
        })
    }

    fn text(&mut self, v: &Value) -> Option<CovenantText> {
        let p = "covenant";
        let m = self.object(
            v,
            p,
            &[
                "year",
                "number_symbol",
                "date",
                "title",
                "subtitle",
                "legal_bases",
                "preamble",
                "sections",
                "activities",
                "signature_heading",
                "recipients",
                "seal_signatures",
                "scoring",
            ],
        )?;
        let year = match m.get("year") {
            Some(Value::Number(n)) => match n.as_i64() {
                Some(y) if (1945..=2200).contains(&y) => i32::try_from(y).ok(),
                _ => {
                    self.err("covenant.year", format!("năm không hợp lệ: {n}"));
                    None
                }
            },
            Some(other) => {
                self.err(
                    "covenant.year",
                    format!("phải là số nguyên, không phải {}", kind(other)),
                );
                None
            }
            None => {
                self.err("covenant.year", MISSING);
                None
            }
        };
        let number_symbol = self.opt_string(m, p, "number_symbol");
        if let Ok(Some(ns)) = &number_symbol
            && !valid_number_symbol(ns)
        {
            self.err(
                    "covenant.number_symbol",
                    format!(
                        "số, ký hiệu \"{ns}\" không đúng dạng <số>/<KÝ-HIỆU> (ví dụ 01/GƯTĐ-KTĐVHXH, không có dấu cách)"
                    ),
                );
        }
        let date = self.date(m, p, "date");
        if let (Some(y), Some(d)) = (year, date)
            && d.year() != y
            && d.year() != y - 1
        {
            self.err(
                "covenant.date",
                format!(
                    "ngày ký {} không thuộc năm {y} (hoặc cuối năm {})",
                    d.year(),
                    y - 1
                ),
            );
        }
        let title = self.string(m, p, "title");
        let subtitle = self.string(m, p, "subtitle");
        let legal_bases = self.strings(m, p, "legal_bases");
        let preamble = self.string(m, p, "preamble");
        let sections = self.sections(m);
        let activities = match m.get("activities") {
            None | Some(Value::Null) => Some(Activities::default()),
            Some(a) => self.activities(a),
        };
        let signature_heading = self.string(m, p, "signature_heading");
        let recipients = self.strings(m, p, "recipients");
        let seal_signatures = match m.get("seal_signatures") {
            None | Some(Value::Null) => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.err(
                    "covenant.seal_signatures",
                    format!("phải là true hoặc false, không phải {}", kind(other)),
                );
                None
            }
        };
        let scoring = match m.get("scoring") {
            None | Some(Value::Null) => Some(None),
            Some(v) => self.scoring(v).map(Some),
        };
        Some(CovenantText {
            scoring: scoring?,
            year: year?,
            number_symbol: number_symbol.ok()?,
            date: date?,
            title: title?,
            subtitle: subtitle?,
            legal_bases: legal_bases?,
            preamble: preamble?,
            sections: sections?,
            activities: activities?,
            signature_heading: signature_heading?,
            recipients: recipients?,
            seal_signatures: seal_signatures?,
        })
    }

    /// `covenant.scoring`: the scale, groups whose criteria add up to it, bonus and minus
    /// items; ids unique in the table.
    fn scoring(&mut self, v: &Value) -> Option<Scoring> {
        let p = "covenant.scoring";
        let m = self.object(v, p, &["scale", "groups", "bonus", "minus"])?;
        let scale = match m.get("scale") {
            Some(Value::Number(n)) if n.as_u64() == Some(100) || n.as_u64() == Some(1000) => {
                n.as_u64().and_then(|s| u32::try_from(s).ok())
            }
            None | Some(Value::Null) => {
                self.err("covenant.scoring.scale", MISSING);
                None
            }
            Some(other) => {
                self.err(
                    "covenant.scoring.scale",
                    format!("thang điểm phải là 100 hoặc 1000, không phải {other}"),
                );
                None
            }
        };
        let mut ids = BTreeSet::new();
        let mut ok = true;
        let mut groups = Vec::new();
        if let Some(arr) = self.array(m, p, "groups", true) {
            if arr.is_empty() {
                self.err("covenant.scoring.groups", "cần ít nhất một nhóm tiêu chí");
                ok = false;
            }
            for (i, g) in arr.iter().enumerate() {
                let gp = format!("{p}.groups[{i}]");
                let Some(gm) = self.object(g, &gp, &["title", "criteria"]) else {
                    ok = false;
                    continue;
                };
                let title = self.string(gm, &gp, "title");
                let criteria = self.criteria(gm, &gp, "criteria", true, &mut ids);
                match (title, criteria) {
                    (Some(title), Some(criteria)) if !criteria.is_empty() => {
                        groups.push(ScoreGroup { title, criteria })
                    }
                    (_, Some(c)) if c.is_empty() => {
                        self.err(format!("{gp}.criteria"), "cần ít nhất một tiêu chí");
                        ok = false;
                    }
                    _ => ok = false,
                }
            }
        } else {
            ok = false;
        }
        let bonus = self.criteria(m, p, "bonus", false, &mut ids);
        let minus = self.criteria(m, p, "minus", false, &mut ids);
        if let Some(scale) = scale
            && ok
        {
            let total: f64 = groups.iter().map(ScoreGroup::max_points).sum();
            if (total - f64::from(scale)).abs() > 1e-6 {
                self.err(
                    "covenant.scoring.groups",
                    format!(
                        "tổng điểm tối đa của các tiêu chí là {} nhưng thang điểm là {scale}",
                        total.to_string().replace(".", ",")
                    ),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(Scoring {
            scale: scale?,
            groups,
            bonus: bonus?,
            minus: minus?,
        })
    }

    /// An array of criteria at `path.key` (absent = empty unless `required`).
    fn criteria(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
        ids: &mut BTreeSet<String>,
    ) -> Option<Vec<Criterion>> {
        let Some(arr) = self.array(m, path, key, required) else {
            return (!required).then(Vec::new);
        };
        let mut out = Vec::with_capacity(arr.len());
        let mut ok = true;
        for (i, v) in arr.iter().enumerate() {
            let p = format!("{path}.{key}[{i}]");
            let Some(cm) = self.object(v, &p, &["id", "text", "max_points"]) else {
                ok = false;
                continue;
            };
            let id = self.string(cm, &p, "id");
            if let Some(id) = &id
                && (id.chars().count() > 16 || !ids.insert(id.clone()))
            {
                self.err(
                    join(&p, "id"),
                    format!(
                        "mã tiêu chí \"{id}\" trùng với một tiêu chí khác hoặc dài quá 16 ký tự"
                    ),
                );
                ok = false;
            }
            let text = self.string(cm, &p, "text");
            let max_points = match cm.get("max_points") {
                Some(Value::Number(n)) => match n.as_f64() {
                    Some(x) if x > 0.0 && x <= 1000.0 && (x * 100.0).fract() == 0.0 => Some(x),
                    _ => {
                        self.err(
                            join(&p, "max_points"),
                            format!("điểm tối đa phải lớn hơn 0, không quá 1000, tối đa 2 chữ số thập phân, không phải {n}"),
                        );
                        None
                    }
                },
                None | Some(Value::Null) => {
                    self.err(join(&p, "max_points"), MISSING);
                    None
                }
                Some(other) => {
                    self.err(
                        join(&p, "max_points"),
                        format!("phải là số, không phải {}", kind(other)),
                    );
                    None
                }
            };
            match (id, text, max_points) {
                (Some(id), Some(text), Some(max_points)) if ok => out.push(Criterion {
                    id,
                    text,
                    max_points,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn sections(&mut self, m: &Map<String, Value>) -> Option<Vec<Section>> {
        let arr = self.array(m, "covenant", "sections", true)?;
        if arr.is_empty() {
            self.err("covenant.sections", "cần ít nhất một mục");
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, v) in arr.iter().enumerate() {
            let p = format!("covenant.sections[{i}]");
            let Some(s) = self.object(v, &p, &["title", "items"]) else {
                ok = false;
                continue;
            };
            let title = self.string(s, &p, "title");
            let items = self.strings(s, &p, "items");
            match (title, items) {
                (Some(title), Some(items)) => out.push(Section { title, items }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn activities(&mut self, v: &Value) -> Option<Activities> {
        let p = "covenant.activities";
        let m = self.object(v, p, &["periodic", "joint"])?;
        let mut ok = true;
        let mut periodic = Vec::new();
        for (i, v) in self
            .array(m, p, "periodic", false)
            .map(|a| a.iter().enumerate().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let pp = format!("{p}.periodic[{i}]");
            let Some(a) = self.object(v, &pp, &["name", "date", "planned_month", "host_unit"])
            else {
                ok = false;
                continue;
            };
            let name = self.string(a, &pp, "name");
            let date = match a.get("date") {
                None | Some(Value::Null) => Some(None),
                Some(_) => self.date(a, &pp, "date").map(Some),
            };
            let planned = match self.opt_string(a, &pp, "planned_month") {
                Ok(None) => Some(None),
                Ok(Some(s)) => match parse_month(&s) {
                    Some(ym) => Some(Some(ym)),
                    None => {
                        self.err(
                            join(&pp, "planned_month"),
                            format!("tháng không hợp lệ \"{s}\" (định dạng YYYY-MM)"),
                        );
                        None
                    }
                },
                Err(()) => None,
            };
            let host = self.opt_string(a, &pp, "host_unit");
            match (name, date, planned, host) {
                (Some(name), Some(date), Some(planned_month), Ok(host_unit)) => {
                    periodic.push(PeriodicActivity {
                        name,
                        date,
                        planned_month,
                        host_unit,
                    })
                }
                _ => ok = false,
            }
        }
        let mut joint = Vec::new();
        for (i, v) in self
            .array(m, p, "joint", false)
            .map(|a| a.iter().enumerate().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let pp = format!("{p}.joint[{i}]");
            let Some(a) = self.object(v, &pp, &["name", "form"]) else {
                ok = false;
                continue;
            };
            let name = self.string(a, &pp, "name");
            let form = self.opt_string(a, &pp, "form");
            match (name, form) {
                (Some(name), Ok(form)) => joint.push(JointActivity { name, form }),
                _ => ok = false,
            }
        }
        ok.then_some(Activities { periodic, joint })
    }

    fn units(&mut self, m: &Map<String, Value>) -> Option<Vec<Unit>> {
        let arr = self.array(m, "", "units", true)?;
        if arr.is_empty() {
            self.err("units", "cần ít nhất một đơn vị");
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, v) in arr.iter().enumerate() {
            match self.unit(v, i) {
                Some(u) => out.push(u),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn unit(&mut self, v: &Value, index: usize) -> Option<Unit> {
        let p = &format!("units[{index}]");
        let m = self.object(
            v,
            p,
            &[
                "id",
                "name",
                "short_name",
                "parent_department",
                "role",
                "signer",
                "registration",
            ],
        )?;
        let id = self.string(m, p, "id");
        if let Some(id) = &id
            && !valid_unit_id(id)
        {
            self.err(
                    join(p, "id"),
                    format!("mã đơn vị \"{id}\" chỉ được gồm chữ cái Latin, chữ số, '-' và '_' (tối đa 32 ký tự)"),
                );
        } else if let Some(id) = &id
            && id.ends_with(crate::workflow::SEAL_SUFFIX)
        {
            self.err(
                join(p, "id"),
                format!(
                    "mã đơn vị \"{id}\" không được kết thúc bằng \"{}\" (dành cho trường dấu của đơn vị)",
                    crate::workflow::SEAL_SUFFIX
                ),
            );
        }
        let name = self.string(m, p, "name");
        let short_name = self.opt_string(m, p, "short_name");
        let parent = self.opt_string(m, p, "parent_department");
        let role = match m.get("role") {
            Some(Value::String(r)) => match r.as_str() {
                "leader" => Some(Role::Leader),
                "deputy" => Some(Role::Deputy),
                "member" => Some(Role::Member),
                other => {
                    self.err(
                        join(p, "role"),
                        format!("vai trò \"{other}\" không hợp lệ (leader, deputy hoặc member)"),
                    );
                    None
                }
            },
            None | Some(Value::Null) => Some(Role::Member),
            Some(other) => {
                self.err(
                    join(p, "role"),
                    format!("phải là chuỗi, không phải {}", kind(other)),
                );
                None
            }
        };
        self.unit_keys.push((index, id.clone(), role));
        let signer = match m.get("signer") {
            Some(s) => self.signer(s, &join(p, "signer")),
            None => {
                self.err(join(p, "signer"), MISSING);
                None
            }
        };
        let registration = match m.get("registration") {
            None | Some(Value::Null) => Some(Registration::default()),
            Some(r) => self.registration(r, &join(p, "registration")),
        };
        Some(Unit {
            id: id?,
            name: name?,
            short_name: short_name.ok()?,
            parent_department: parent.ok()?,
            role: role?,
            signer: signer?,
            registration: registration?,
        })
    }

    fn signer(&mut self, v: &Value, p: &str) -> Option<Signer> {
        let m = self.object(
            v,
            p,
            &["full_name", "position", "authority", "principal_position"],
        )?;
        let full_name = self.string(m, p, "full_name");
        let position = self.string(m, p, "position");
        let authority = match m.get("authority") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(a)) => match a.trim() {
                "KT." => Some(Some(Authority::Kt)),
                "Q." => Some(Some(Authority::Q)),
                other => {
                    self.err(
                        join(p, "authority"),
                        format!("thẩm quyền ký \"{other}\" không hợp lệ (chỉ \"KT.\" hoặc \"Q.\")"),
                    );
                    None
                }
            },
            Some(other) => {
                self.err(
                    join(p, "authority"),
                    format!("phải là chuỗi, không phải {}", kind(other)),
                );
                None
            }
        };
        let principal = self.opt_string(m, p, "principal_position");
        if let (Some(Some(a)), Ok(None)) = (&authority, &principal) {
            self.err(
                join(p, "principal_position"),
                format!(
                    "bắt buộc khi ký \"{}\": chức vụ của người đứng đầu (ví dụ \"Giám đốc\")",
                    a.as_str()
                ),
            );
            return None;
        }
        if let (Some(None), Ok(Some(_))) = (&authority, &principal) {
            self.err(
                join(p, "principal_position"),
                "chỉ dùng khi có thẩm quyền ký \"KT.\" hoặc \"Q.\"",
            );
            return None;
        }
        Some(Signer {
            full_name: full_name?,
            position: position?,
            authority: authority?,
            principal_position: principal.ok()?,
        })
    }

    fn registration(&mut self, v: &Value, p: &str) -> Option<Registration> {
        let m = self.object(v, p, &["collective_title", "individual_titles", "pledges"])?;
        let collective_title = self.opt_string(m, p, "collective_title");
        let mut ok = true;
        let mut individual_titles = Vec::new();
        if let Some(arr) = self.array(m, p, "individual_titles", false) {
            for (i, v) in arr.iter().enumerate() {
                let pp = format!("{p}.individual_titles[{i}]");
                let Some(t) = self.object(v, &pp, &["title", "count"]) else {
                    ok = false;
                    continue;
                };
                let title = self.string(t, &pp, "title");
                let count = match t.get("count") {
                    Some(Value::Number(n)) => {
                        match n.as_u64().and_then(|c| u32::try_from(c).ok()) {
                            Some(c) => Some(c),
                            None => {
                                self.err(
                                    join(&pp, "count"),
                                    format!("phải là số nguyên không âm, không phải {n}"),
                                );
                                None
                            }
                        }
                    }
                    Some(other) => {
                        self.err(
                            join(&pp, "count"),
                            format!("phải là số nguyên không âm, không phải {}", kind(other)),
                        );
                        None
                    }
                    None => {
                        self.err(join(&pp, "count"), MISSING);
                        None
                    }
                };
                match (title, count) {
                    (Some(title), Some(count)) => {
                        individual_titles.push(IndividualTitle { title, count })
                    }
                    _ => ok = false,
                }
            }
        }
        let mut pledges = Vec::new();
        if let Some(arr) = self.array(m, p, "pledges", false) {
            for (i, v) in arr.iter().enumerate() {
                match self.pledge(v, &format!("{p}.pledges[{i}]")) {
                    Some(pl) => pledges.push(pl),
                    None => ok = false,
                }
            }
        }
        if !ok {
            return None;
        }
        Some(Registration {
            collective_title: collective_title.ok()?,
            individual_titles,
            pledges,
        })
    }

    fn pledge(&mut self, v: &Value, p: &str) -> Option<Pledge> {
        let m = self.object(v, p, &["text", "indicator", "target", "unit"])?;
        let text = self.string(m, p, "text");
        let indicator = self.opt_string(m, p, "indicator");
        let target = match m.get("target") {
            None | Some(Value::Null) => Some(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(t) if (0.0..1e15).contains(&t) => Some(Some(t)),
                _ => {
                    self.err(
                        join(p, "target"),
                        format!("chỉ tiêu phải là số không âm, không phải {n}"),
                    );
                    None
                }
            },
            Some(other) => {
                self.err(
                    join(p, "target"),
                    format!("phải là số, không phải {}", kind(other)),
                );
                None
            }
        };
        let unit = self.opt_string(m, p, "unit");
        if let (Some(None), Ok(Some(_))) = (&target, &unit) {
            self.err(join(p, "unit"), "có đơn vị tính nhưng thiếu \"target\"");
            return None;
        }
        Some(Pledge {
            text: text?,
            indicator: indicator.ok()?,
            target: target?,
            unit: unit.ok()?,
        })
    }

    fn cross_checks(&mut self, text: Option<&CovenantText>) {
        let keys = std::mem::take(&mut self.unit_keys);
        let mut seen = BTreeSet::new();
        for (i, id, _) in &keys {
            if let Some(id) = id
                && !seen.insert(id.to_uppercase())
            {
                self.err(
                    format!("units[{i}].id"),
                    format!("mã đơn vị \"{id}\" bị trùng"),
                );
            }
        }
        let leaders: Vec<usize> = role_indices(&keys, Role::Leader);
        match leaders.as_slice() {
            [] => self.err(
                "units",
                "cần đúng một đơn vị Trưởng khối (role \"leader\"), hiện không có",
            ),
            [_] => {}
            [_, rest @ ..] => {
                for i in rest {
                    self.err(
                        format!("units[{i}].role"),
                        "chỉ được có một đơn vị Trưởng khối (role \"leader\")",
                    );
                }
            }
        }
        let deputies = role_indices(&keys, Role::Deputy);
        for i in deputies.iter().skip(1) {
            self.err(
                format!("units[{i}].role"),
                "chỉ được có tối đa một đơn vị Phó trưởng khối (role \"deputy\")",
            );
        }
        let periodic = text
            .map(|t| t.activities.periodic.as_slice())
            .unwrap_or(&[]);
        for (i, a) in periodic.iter().enumerate() {
            if let Some(h) = &a.host_unit
                && !keys.iter().any(|(_, id, _)| id.as_ref() == Some(h))
            {
                self.err(
                    format!("covenant.activities.periodic[{i}].host_unit"),
                    format!("không có đơn vị mã \"{h}\""),
                );
            }
        }
    }
}

fn role_indices(keys: &[(usize, Option<String>, Option<Role>)], role: Role) -> Vec<usize> {
    keys.iter()
        .filter(|(_, _, r)| *r == Some(role))
        .map(|(i, _, _)| *i)
        .collect()
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "giá trị đúng/sai",
        Value::Number(_) => "số",
        Value::String(_) => "chuỗi",
        Value::Array(_) => "mảng",
        Value::Object(_) => "đối tượng",
    }
}

/// Unit ids name PDF fields and URLs: ASCII letters, digits, '-' and '_', 1-32 chars.
pub fn valid_unit_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Decree 30 number/symbol: digits, '/', then groups joined by '-', no spaces.
pub(super) fn valid_number_symbol(s: &str) -> bool {
    let Some((num, sym)) = s.split_once('/') else {
        return false;
    };
    !num.is_empty()
        && num.bytes().all(|b| b.is_ascii_digit())
        && !sym.is_empty()
        && !sym.contains(char::is_whitespace)
        && sym.split('-').all(|g| !g.is_empty())
}
