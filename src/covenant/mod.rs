//! The covenant input format `giaouoc.covenant/1`: parsing, validation and NFC normalisation.
//!
//! [`parse`] reads the JSON, checks everything and returns either a [`Covenant`] or every
//! problem at once, each named by its JSON path (`units[6].signer.full_name: thiếu trường`).
//! Every string is normalised to Unicode NFC (TCVN 6909:2001) here, at the boundary, so later
//! stages never see decomposed Vietnamese.
//!
//! The format is documented in `docs/covenant-format.md`.

mod dates;
pub(crate) mod validate;

use std::fmt;

use serde::Serialize;
use time::Date;
use unicode_normalization::UnicodeNormalization;

pub use dates::{format_iso_date, parse_iso_date};
use dates::{iso_date, iso_date_opt};
pub use validate::{from_value, parse, registration_from_value, valid_unit_id};

/// The format identifier this version reads.
pub const FORMAT: &str = "giaouoc.covenant/1";

/// Upper bound on the input size accepted by [`parse`] (bytes).
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;

/// A validated covenant: the bloc, the year's covenant text and every unit's registration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Covenant {
    /// Always [`FORMAT`].
    pub format: String,
    /// The emulation bloc (khối thi đua).
    pub bloc: Bloc,
    /// The year's covenant text.
    pub covenant: CovenantText,
    /// The member units in signing order as given (leader and deputy are moved first when
    /// the signature grid is built).
    pub units: Vec<Unit>,
}

/// The emulation bloc.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bloc {
    /// Short identifier, e.g. "KTD-VHXH-QN".
    pub id: String,
    /// Name, e.g. "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội".
    pub name: String,
    /// Full name with the province.
    pub full_name: String,
    /// Governing body line of the header (cơ quan chủ quản), capitals; optional.
    pub governing_body: Option<String>,
    /// Issuer line of the header (cơ quan ban hành), capitals.
    pub issuer: String,
    /// Place name of the date line ("Quảng Ninh").
    pub place_name: String,
}

/// The covenant text of one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CovenantText {
    /// The year.
    pub year: i32,
    /// Number and symbol ("01/GƯTĐ-KTĐVHXH"), optional.
    pub number_symbol: Option<String>,
    /// Signing date.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Title ("BẢN GIAO ƯỚC THI ĐUA NĂM 2021").
    pub title: String,
    /// Subtitle (trích yếu).
    pub subtitle: String,
    /// Legal bases, one per line.
    pub legal_bases: Vec<String>,
    /// The sentence that opens the content.
    pub preamble: String,
    /// Sections I., II., ... with numbered items.
    pub sections: Vec<Section>,
    /// Periodic and joint activities of the year.
    pub activities: Activities,
    /// Heading of the signature grid.
    pub signature_heading: String,
    /// Recipients ("Nơi nhận").
    pub recipients: Vec<String>,
    /// Each unit's organisation signs after its leader, its seal drawn over the leader's
    /// signature (Decree 30/2020 Appendix I, ô 8): two fields per unit, `U05` and `U05-dau`.
    /// Off unless the input says `"seal_signatures": true`.
    pub seal_signatures: bool,
    /// The bloc's scoring table (khung tiêu chí chấm điểm), rendered as the covenant's
    /// appendix; the year-end scores are given against it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scoring: Option<Scoring>,
}

/// The scoring table: groups of criteria whose maximum points add up to the scale (100 or
/// 1000), then bonus and minus items (DOMAIN §5, "Scoring").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scoring {
    /// 100 or 1000.
    pub scale: u32,
    /// The groups (I., II., ...), each with its criteria.
    pub groups: Vec<ScoreGroup>,
    /// Bonus items (điểm thưởng), each up to its maximum.
    pub bonus: Vec<Criterion>,
    /// Minus items (điểm trừ), each up to its maximum.
    pub minus: Vec<Criterion>,
}

/// A group of criteria.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreGroup {
    /// Title ("Thực hiện nhiệm vụ chuyên môn").
    pub title: String,
    /// The criteria.
    pub criteria: Vec<Criterion>,
}

/// A criterion (or a bonus or minus item): its id, unique in the table ("1.2", "T1"), what is
/// scored and the most points it gives (or takes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub id: String,
    pub text: String,
    pub max_points: f64,
}

impl ScoreGroup {
    /// The group's maximum: its criteria's maxima added.
    pub fn max_points(&self) -> f64 {
        self.criteria.iter().map(|c| c.max_points).sum()
    }
}

impl Scoring {
    /// Every criterion, bonus and minus item with its kind.
    pub fn items(&self) -> impl Iterator<Item = (ItemKind, &Criterion)> {
        self.groups
            .iter()
            .flat_map(|g| g.criteria.iter().map(|c| (ItemKind::Criterion, c)))
            .chain(self.bonus.iter().map(|c| (ItemKind::Bonus, c)))
            .chain(self.minus.iter().map(|c| (ItemKind::Minus, c)))
    }
}

/// What an item of the scoring table does to the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Criterion,
    Bonus,
    Minus,
}

/// A section of the covenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Title in capitals, without the Roman numeral.
    pub title: String,
    /// Numbered items.
    pub items: Vec<String>,
}

/// The year's activities.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Activities {
    /// Conferences held every year.
    pub periodic: Vec<PeriodicActivity>,
    /// Joint activities.
    pub joint: Vec<JointActivity>,
}

/// A periodic activity (conference).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodicActivity {
    /// Name.
    pub name: String,
    /// Exact date, if fixed.
    #[serde(with = "iso_date_opt")]
    pub date: Option<Date>,
    /// Planned month (year, month), if no exact date.
    pub planned_month: Option<(i32, u8)>,
    /// Host unit id.
    pub host_unit: Option<String>,
}

/// A joint activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JointActivity {
    /// Name.
    pub name: String,
    /// Form it takes.
    pub form: Option<String>,
}

/// A unit's role in the bloc this year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Trưởng khối.
    Leader,
    /// Phó trưởng khối.
    Deputy,
    /// Thành viên.
    Member,
}

/// A member unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// Unit id, unique in the bloc ("U07"); names the PDF signature field.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Short name, optional.
    pub short_name: Option<String>,
    /// Parent department (Sở chủ quản), optional.
    pub parent_department: Option<String>,
    /// Role in the bloc.
    pub role: Role,
    /// Who signs for the unit.
    pub signer: Signer,
    /// The unit's registration.
    pub registration: Registration,
}

impl Role {
    /// The role as written in the covenant and on the pages.
    pub const fn label_vi(self) -> &'static str {
        match self {
            Role::Leader => "Trưởng khối",
            Role::Deputy => "Phó trưởng khối",
            Role::Member => "Thành viên",
        }
    }

    /// The role's JSON spelling (`leader`, `deputy`, `member`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Deputy => "deputy",
            Role::Member => "member",
        }
    }
}

/// Authority prefix of a signature (Decree 30, Phụ lục I, ô 7a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Authority {
    /// "KT." (ký thay): a deputy signs for the head.
    #[serde(rename = "KT.")]
    Kt,
    /// "Q." (quyền): an acting head.
    #[serde(rename = "Q.")]
    Q,
}

impl Authority {
    /// The prefix as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Authority::Kt => "KT.",
            Authority::Q => "Q.",
        }
    }
}

/// The person who signs for a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signer {
    /// Full name.
    pub full_name: String,
    /// Own position ("Phó Giám đốc").
    pub position: String,
    /// Authority prefix, if not the head signing in person.
    pub authority: Option<Authority>,
    /// The head's position signed for ("Giám đốc"); present exactly when `authority` is.
    pub principal_position: Option<String>,
}

/// A unit's registration of titles and pledges.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Registration {
    /// Collective title registered.
    pub collective_title: Option<String>,
    /// Individual titles with counts.
    pub individual_titles: Vec<IndividualTitle>,
    /// Pledges (chỉ tiêu).
    pub pledges: Vec<Pledge>,
}

/// An individual title and how many people register for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndividualTitle {
    /// Title.
    pub title: String,
    /// Number of people.
    pub count: u32,
}

/// A pledge, optionally with a numeric target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pledge {
    /// The pledge text.
    pub text: String,
    /// What is measured.
    pub indicator: Option<String>,
    /// Target value.
    pub target: Option<f64>,
    /// Unit of measure ("%", "lượt").
    pub unit: Option<String>,
}

/// One problem in the input, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    /// JSON path, e.g. `units[6].signer.full_name`; empty for the whole document.
    pub path: String,
    /// What is wrong, in Vietnamese.
    pub message: String,
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in an input; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct InputErrors {
    /// The problems, in document order.
    pub problems: Vec<InputProblem>,
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "dữ liệu giao ước không hợp lệ ({} lỗi):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl Covenant {
    /// The unit with id `id`.
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }

    /// The units' ids, in roster order: the covenant's signers.
    pub fn unit_ids(&self) -> Vec<String> {
        self.units.iter().map(|u| u.id.clone()).collect()
    }

    /// The same covenant with `unit`'s registration replaced; `None` if there is no such unit.
    pub fn with_registration(&self, unit: &str, registration: Registration) -> Option<Covenant> {
        let mut out = self.clone();
        out.units.iter_mut().find(|u| u.id == unit)?.registration = registration;
        Some(out)
    }
}

/// Normalises a string to NFC.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn reference() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/covenant-2021-quang-ninh.json"
        ))
        .unwrap()
    }

    #[test]
    fn reference_input_is_accepted() {
        let c = parse(&reference()).unwrap();
        assert_eq!(c.units.len(), 16);
        assert_eq!(c.units[6].signer.authority, Some(Authority::Kt));
        assert_eq!(c.units[10].signer.authority, Some(Authority::Q));
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut v: Value = serde_json::from_slice(&reference()).unwrap();
        v["units"][6]["signer"]
            .as_object_mut()
            .unwrap()
            .remove("full_name");
        v["units"][3]["id"] = Value::String("U01".into());
        v["units"][4]["role"] = Value::String("leader".into());
        v["units"][5]["role"] = Value::String("deputy".into());
        v["units"][8]["signer"]["authority"] = Value::String("TL.".into());
        v["units"][9]["signer"]["authority"] = Value::String("KT.".into());
        v["covenant"]["date"] = Value::String("2021-02-30".into());
        v["bloc"]["name"] = Value::String("   ".into());
        let errs = from_value(&v).unwrap_err();
        let paths: Vec<&str> = errs.problems.iter().map(|p| p.path.as_str()).collect();
        for want in [
            "units[6].signer.full_name",
            "units[3].id",
            "units[4].role",
            "units[5].role",
            "units[8].signer.authority",
            "units[9].signer.principal_position",
            "covenant.date",
            "bloc.name",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
        assert_eq!(errs.problems.len(), 8, "{errs}");
    }

    #[test]
    fn decomposed_input_is_normalised_to_nfc() {
        let text = String::from_utf8(reference()).unwrap();
        let nfd: String = text.nfd().collect();
        assert_ne!(nfd, text);
        assert_eq!(
            parse(nfd.as_bytes()).unwrap(),
            parse(text.as_bytes()).unwrap()
        );
    }

    fn with_scoring(scoring: Value) -> Value {
        let mut v: Value = serde_json::from_slice(&reference()).unwrap();
        v["covenant"]["scoring"] = scoring;
        v
    }

    fn scoring_fixture() -> Value {
        serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/scoring-100.json"
            ))
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_scoring_table_whose_criteria_add_up_to_the_scale_is_accepted() {
        let c = from_value(&with_scoring(scoring_fixture())).unwrap();
        let s = c.covenant.scoring.unwrap();
        assert_eq!(s.scale, 100);
        assert_eq!(s.groups.len(), 4);
        assert_eq!(s.groups[0].max_points(), 50.0);
        assert_eq!(s.items().count(), 11);
        assert!(
            from_value(&serde_json::from_slice(&reference()).unwrap())
                .unwrap()
                .covenant
                .scoring
                .is_none()
        );
    }

    #[test]
    fn scoring_table_problems_are_reported_with_their_paths() {
        let mut s = scoring_fixture();
        s["groups"][0]["criteria"][0]["max_points"] = 31.into();
        s["groups"][1]["criteria"][1]["id"] = "1.1".into();
        s["bonus"][0]["max_points"] = 0.into();
        s["minus"][1]["text"] = "  ".into();
        let errs = from_value(&with_scoring(s)).unwrap_err();
        let paths: Vec<&str> = errs.problems.iter().map(|p| p.path.as_str()).collect();
        for want in [
            "covenant.scoring.groups[1].criteria[1].id",
            "covenant.scoring.bonus[0].max_points",
            "covenant.scoring.minus[1].text",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
        let mut s = scoring_fixture();
        s["groups"][0]["criteria"][0]["max_points"] = 31.into();
        let errs = from_value(&with_scoring(s)).unwrap_err();
        assert_eq!(errs.problems.len(), 1, "{errs}");
        assert_eq!(errs.problems[0].path, "covenant.scoring.groups");
        assert!(errs.problems[0].message.contains("101"), "{errs}");
        let mut s = scoring_fixture();
        s["scale"] = 10.into();
        let errs = from_value(&with_scoring(s)).unwrap_err();
        assert_eq!(errs.problems[0].path, "covenant.scoring.scale");
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let errs = parse(b"{\n  \"format\": }").unwrap_err();
        assert!(errs.problems[0].message.contains("dòng 2"), "{errs}");
    }
}
