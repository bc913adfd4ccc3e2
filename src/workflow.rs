//! The covenant's life: its states, the one step each state may take, which action each state
//! allows and who may take it. The store enforces the states inside its transactions, the API
//! and the web pages ask the same rules before they offer or attempt anything.
//!
//! ```text
//! draft ──open──► registration ──freeze──► frozen ──1st signature──► signing
//!                 (units register,          (PDF and DOCX       (each unit signs once) │
//!                  leader unit reviews)      rendered once)            last signature ─┘
//!                                                                         ▼
//!                                               archived ◄──archive── completed
//! ```

use serde::{Deserialize, Serialize};

/// A covenant's state; each has exactly one successor ([`State::next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Created, not yet open to the units.
    Draft,
    /// Units submit their registrations; the leader unit reviews them.
    Registration,
    /// Content fixed, PDF and DOCX rendered (revision 0).
    Frozen,
    /// At least one leader has signed.
    Signing,
    /// Every expected unit has signed.
    Completed,
    /// The final PDF and its verification report are archived.
    Archived,
}

impl State {
    /// Every state, in order.
    pub const ALL: [State; 6] = [
        State::Draft,
        State::Registration,
        State::Frozen,
        State::Signing,
        State::Completed,
        State::Archived,
    ];

    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Registration => "registration",
            State::Frozen => "frozen",
            State::Signing => "signing",
            State::Completed => "completed",
            State::Archived => "archived",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The only allowed next state (mirrors the `covenant_transitions` table).
    pub const fn next(self) -> Option<State> {
        match self {
            State::Draft => Some(State::Registration),
            State::Registration => Some(State::Frozen),
            State::Frozen => Some(State::Signing),
            State::Signing => Some(State::Completed),
            State::Completed => Some(State::Archived),
            State::Archived => None,
        }
    }

    /// The state as shown to people.
    pub const fn label_vi(self) -> &'static str {
        match self {
            State::Draft => "Đang soạn",
            State::Registration => "Đang đăng ký",
            State::Frozen => "Đã chốt, chờ ký",
            State::Signing => "Đang ký",
            State::Completed => "Đã ký đủ",
            State::Archived => "Đã lưu trữ",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts on a covenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The operator of the service.
    Admin,
    /// The bloc's leader unit (trưởng khối), through any of its tokens.
    LeaderUnit,
    /// A unit's emulation officer, for that unit.
    UnitOfficer,
    /// A unit's leader, for that unit.
    UnitLeader,
    /// A unit's clerk (văn thư), who applies the unit's seal, for that unit.
    UnitClerk,
}

/// A unit's place among the signers of a covenant: its leader signs, then, when the covenant
/// asks for seals, its organisation (Decree 30/2020 Appendix I, ô 8: the clerk applies the
/// seal with the organisation's certificate after the competent person signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    /// The unit's leader; the field is the unit id (`U05`).
    Leader,
    /// The unit's organisation (its seal); the field is the unit id + [`SEAL_SUFFIX`].
    Seal,
    /// A person of the unit who took the minutes of a meeting (thư ký hội nghị), signing
    /// beside its chair; the field is the unit id + [`SECRETARY_SUFFIX`].
    Secretary,
}

/// What turns a unit id into its seal field's name (`U05` → `U05-dau`). A PDF field's partial
/// name cannot contain a period (ISO 32000-2 §12.7.4.2), hence not `U05.dau`.
pub const SEAL_SUFFIX: &str = "-dau";

/// What turns a unit id into the field of its person who took a meeting's minutes
/// (`U02` → `U02-thu-ky`).
pub const SECRETARY_SUFFIX: &str = "-thu-ky";

impl Seat {
    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Seat::Leader => "leader",
            Seat::Seal => "seal",
            Seat::Secretary => "secretary",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Seat::Leader, Seat::Seal, Seat::Secretary]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The signature field of `unit`'s seat.
    pub fn field(self, unit: &str) -> String {
        match self {
            Seat::Leader => unit.to_owned(),
            Seat::Seal => format!("{unit}{SEAL_SUFFIX}"),
            Seat::Secretary => format!("{unit}{SECRETARY_SUFFIX}"),
        }
    }

    /// A field name read back: the unit and the seat (`U05-dau` → `("U05", Seal)`,
    /// `U02-thu-ky` → `("U02", Secretary)`).
    pub fn of_field(field: &str) -> (&str, Seat) {
        if let Some(unit) = field.strip_suffix(SEAL_SUFFIX).filter(|u| !u.is_empty()) {
            return (unit, Seat::Seal);
        }
        if let Some(unit) = field
            .strip_suffix(SECRETARY_SUFFIX)
            .filter(|u| !u.is_empty())
        {
            return (unit, Seat::Secretary);
        }
        (field, Seat::Leader)
    }

    /// Who takes this seat's signature.
    pub const fn who(self) -> Who {
        match self {
            Seat::Leader => Who::UnitLeader,
            Seat::Seal => Who::UnitClerk,
            Seat::Secretary => Who::UnitOfficer,
        }
    }

    /// The seat as shown to people.
    pub const fn label_vi(self) -> &'static str {
        match self {
            Seat::Leader => "chữ ký của lãnh đạo",
            Seat::Seal => "chữ ký số của cơ quan (dấu)",
            Seat::Secretary => "chữ ký của thư ký hội nghị",
        }
    }
}

/// What can be done to a covenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open the registration to the units.
    OpenRegistration,
    /// Save or submit a unit's registration.
    EditRegistration,
    /// Accept or return a submitted registration.
    ReviewRegistration,
    /// Fix the content and render the documents.
    Freeze,
    /// Prepare or complete a unit's signature: its leader's, its organisation's seal, or its
    /// person's who took a meeting's minutes (each by the holder of that [`Seat`]).
    Sign,
    /// Archive the completed covenant with its report.
    Archive,
    /// Add validation data or a document time-stamp (the service itself: long-term
    /// validation at completion, renewal of an archived covenant).
    Maintain,
    /// Report a unit's results against its pledges (mid-year or year end), with evidence;
    /// give the unit's own scores.
    ReportResults,
    /// Accept or return a unit's results; record the bloc's agreed scores and the year-end
    /// conference (attendance, votes, election).
    ReviewResults,
    /// Create next year's covenant from this one.
    CreateNextYear,
    /// Issue one of the year's documents (mid-year report, year-end minutes, score table)
    /// for signing: rendered once, like a covenant at freeze.
    IssueYearDocument,
}

impl Action {
    /// The states the action is allowed in.
    pub const fn states(self) -> &'static [State] {
        match self {
            Action::OpenRegistration => &[State::Draft],
            Action::EditRegistration | Action::ReviewRegistration | Action::Freeze => {
                &[State::Registration]
            }
            Action::Sign => &[State::Frozen, State::Signing],
            Action::Archive => &[State::Completed],
            Action::Maintain => &[State::Signing, State::Completed, State::Archived],
            Action::ReportResults
            | Action::ReviewResults
            | Action::CreateNextYear
            | Action::IssueYearDocument => &[State::Completed, State::Archived],
        }
    }

    /// Who may take it (besides the state, a unit acts only for itself).
    pub const fn who(self) -> &'static [Who] {
        match self {
            Action::OpenRegistration | Action::Freeze | Action::Archive => {
                &[Who::Admin, Who::LeaderUnit]
            }
            Action::EditRegistration => &[Who::UnitOfficer, Who::UnitLeader],
            Action::ReviewRegistration => &[Who::LeaderUnit],
            Action::Sign => &[Who::UnitLeader, Who::UnitClerk, Who::UnitOfficer],
            Action::Maintain => &[Who::Admin],
            Action::ReportResults => &[Who::UnitOfficer, Who::UnitLeader],
            Action::ReviewResults => &[Who::LeaderUnit],
            Action::CreateNextYear | Action::IssueYearDocument => &[Who::Admin, Who::LeaderUnit],
        }
    }

    /// Whether the action is allowed in `state`.
    pub fn allowed_in(self, state: State) -> bool {
        self.states().contains(&state)
    }

    /// Whether `who` may take the action.
    pub fn allows(self, who: Who) -> bool {
        self.who().contains(&who)
    }

    /// The action as a Vietnamese verb phrase ("ký", "khóa giao ước").
    pub const fn label_vi(self) -> &'static str {
        match self {
            Action::OpenRegistration => "mở đăng ký",
            Action::EditRegistration => "sửa bản đăng ký",
            Action::ReviewRegistration => "duyệt bản đăng ký",
            Action::Freeze => "khóa giao ước",
            Action::Sign => "ký",
            Action::Archive => "lưu trữ",
            Action::Maintain => "bổ sung dữ liệu xác minh dài hạn",
            Action::ReportResults => "báo cáo kết quả, tự chấm điểm",
            Action::ReviewResults => "duyệt kết quả, chấm điểm, ghi kết quả hội nghị",
            Action::CreateNextYear => "tạo giao ước năm sau",
            Action::IssueYearDocument => "phát hành văn bản để ký",
        }
    }

    /// The action in English, for logs and internal messages.
    pub const fn label_en(self) -> &'static str {
        match self {
            Action::OpenRegistration => "opening the registration",
            Action::EditRegistration => "editing a registration",
            Action::ReviewRegistration => "reviewing a registration",
            Action::Freeze => "freezing",
            Action::Sign => "signing",
            Action::Archive => "archiving",
            Action::Maintain => "adding long-term validation data",
            Action::ReportResults => "reporting results or self-scoring",
            Action::ReviewResults => "reviewing results, scoring or recording the conference",
            Action::CreateNextYear => "creating next year's covenant",
            Action::IssueYearDocument => "issuing a year's document for signing",
        }
    }

    /// `Ok` when allowed in `state`, else why not.
    ///
    /// # Errors
    /// [`WrongState`] naming the state and the states the action needs.
    pub fn check(self, state: State) -> Result<(), WrongState> {
        if self.allowed_in(state) {
            Ok(())
        } else {
            Err(WrongState {
                action: self,
                state,
            })
        }
    }
}

/// An action attempted in a state that does not allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} needs the covenant to be {}, not {state}", action.label_en(), join_states(action.states(), " or "))]
pub struct WrongState {
    /// What was attempted.
    pub action: Action,
    /// The covenant's state.
    pub state: State,
}

impl WrongState {
    /// The refusal in Vietnamese, for people.
    pub fn message_vi(&self, covenant_id: &str) -> String {
        let needed: Vec<String> = self
            .action
            .states()
            .iter()
            .map(|s| format!("{} ({s})", s.label_vi().to_lowercase()))
            .collect();
        format!(
            "giao ước \"{covenant_id}\" đang ở trạng thái {} ({}); chỉ {} được khi {}",
            self.state.label_vi().to_lowercase(),
            self.state,
            self.action.label_vi(),
            needed.join(" hoặc ")
        )
    }
}

fn join_states(states: &[State], sep: &str) -> String {
    states
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_allowed_in_exactly_its_states() {
        let sign: Vec<State> = State::ALL
            .into_iter()
            .filter(|s| Action::Sign.allowed_in(*s))
            .collect();
        assert_eq!(sign, [State::Frozen, State::Signing]);
        assert!(Action::Freeze.allowed_in(State::Registration));
        assert!(!Action::Freeze.allowed_in(State::Frozen));
        assert!(Action::Archive.check(State::Signing).is_err());
        // Every state but the last has one successor, and the states parse back.
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::Archived.next(), None);
    }

    #[test]
    fn a_refusal_names_the_state_and_what_is_needed() {
        let e = Action::Sign.check(State::Registration).unwrap_err();
        assert_eq!(
            e.to_string(),
            "signing needs the covenant to be frozen or signing, not registration"
        );
        assert_eq!(
            e.message_vi("KTD-2021"),
            "giao ước \"KTD-2021\" đang ở trạng thái đang đăng ký (registration); chỉ ký được \
             khi đã chốt, chờ ký (frozen) hoặc đang ký (signing)"
        );
    }

    #[test]
    fn seal_fields_name_their_unit_and_seat() {
        assert_eq!(Seat::Seal.field("U05"), "U05-dau");
        assert_eq!(Seat::of_field("U05-dau"), ("U05", Seat::Seal));
        assert_eq!(Seat::of_field("U05"), ("U05", Seat::Leader));
        assert_eq!(Seat::of_field("-dau"), ("-dau", Seat::Leader));
        assert_eq!(Seat::Seal.who(), Who::UnitClerk);
        assert_eq!(Seat::parse("seal"), Some(Seat::Seal));
        assert_eq!(Seat::Secretary.field("U02"), "U02-thu-ky");
        assert_eq!(Seat::of_field("U02-thu-ky"), ("U02", Seat::Secretary));
        assert_eq!(Seat::of_field("-thu-ky"), ("-thu-ky", Seat::Leader));
        assert_eq!(Seat::Secretary.who(), Who::UnitOfficer);
    }

    #[test]
    fn only_seat_holders_sign_and_only_the_leader_unit_reviews() {
        assert!(Action::Sign.allows(Who::UnitLeader));
        assert!(Action::Sign.allows(Who::UnitClerk));
        // An officer signs only a secretary's seat (the seats are checked per field).
        assert!(Action::Sign.allows(Who::UnitOfficer));
        assert!(!Action::Sign.allows(Who::Admin));
        assert!(Action::IssueYearDocument.allows(Who::LeaderUnit));
        assert!(!Action::IssueYearDocument.allows(Who::UnitLeader));
        assert!(Action::ReviewRegistration.allows(Who::LeaderUnit));
        assert!(!Action::ReviewRegistration.allows(Who::UnitOfficer));
    }
}
