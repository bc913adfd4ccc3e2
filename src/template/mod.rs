//! Covenant templates: MiniJinja text that produces the document markup, parsed into a
//! [`Document`].
//!
//! A template is a folder holding `covenant.xml.j2` (and anything it includes). The default
//! template is compiled into the binary; `Template::from_dir` loads an edited copy without
//! recompiling. Filling runs in two steps: MiniJinja renders the markup with the covenant as
//! context (auto-escaped as XML), then [`markup`] turns the markup into the format-neutral
//! document model. Errors name the file, the line and the problem.

mod format;
mod markup;

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

pub use format::{format_number, letter, roman, target_text, vn_date, vn_date_short};

use crate::covenant::{Authority, Covenant, Role, Unit};
use crate::document::Document;

/// The entry file of a template folder.
pub const MAIN_FILE: &str = "covenant.xml.j2";

const BUILTIN_MAIN: &str = include_str!("../../templates/covenant.xml.j2");

/// The year's documents after the signing ([`Template::fill_year`]), built in.
const BUILTIN_YEAR: [(&str, &str); 5] = [
    (
        "year/header.xml.j2",
        include_str!("../../templates/year/header.xml.j2"),
    ),
    (
        "year/mid-year-report.xml.j2",
        include_str!("../../templates/year/mid-year-report.xml.j2"),
    ),
    (
        "year/recipients.xml.j2",
        include_str!("../../templates/year/recipients.xml.j2"),
    ),
    (
        "year/minutes.xml.j2",
        include_str!("../../templates/year/minutes.xml.j2"),
    ),
    (
        "year/scores.xml.j2",
        include_str!("../../templates/year/scores.xml.j2"),
    ),
];

/// A loaded template.
pub struct Template {
    env: Environment<'static>,
    origin: String,
}

/// A template that could not be loaded or filled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template folder or its main file could not be read.
    #[error("không đọc được tệp mẫu {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// MiniJinja syntax or evaluation error.
    #[error("lỗi tệp mẫu {file}, dòng {line}: {message}")]
    Jinja {
        /// The template file.
        file: String,
        /// 1-based line in that file (0 when unknown).
        line: usize,
        /// What went wrong.
        message: String,
    },
    /// The rendered markup is not well-formed or not valid document markup.
    #[error("lỗi tệp mẫu {file}: kết quả dòng {line}: {message}")]
    Markup {
        /// The template file.
        file: String,
        /// 1-based line in the rendered markup.
        line: u32,
        /// What went wrong, with the offending line.
        message: String,
    },
}

impl Template {
    /// The default template compiled into the binary.
    pub fn builtin() -> Template {
        let mut env = base_env();
        // A syntax error in the builtin template (caught by the tests) would surface at fill
        // time as "template not found"; there is nothing better to do with it here.
        let _ = env.add_template_owned(MAIN_FILE.to_string(), BUILTIN_MAIN.to_string());
        add_year_templates(&mut env);
        Template {
            env,
            origin: format!("<builtin>/{MAIN_FILE}"),
        }
    }

    /// Loads the template folder `dir` (it must contain `covenant.xml.j2`).
    ///
    /// # Errors
    /// The folder or main file cannot be read, or the main file has a syntax error.
    pub fn from_dir(dir: &Path) -> Result<Template, TemplateError> {
        let main = dir.join(MAIN_FILE);
        let source = std::fs::read_to_string(&main).map_err(|source| TemplateError::Io {
            path: main.clone(),
            source,
        })?;
        let mut env = base_env();
        env.set_loader(minijinja::path_loader(dir));
        env.add_template_owned(MAIN_FILE.to_string(), source)
            .map_err(|e| jinja_error(&e, &main.display().to_string()))?;
        add_year_templates(&mut env);
        Ok(Template {
            env,
            origin: main.display().to_string(),
        })
    }

    /// A template from its main file's text alone (no includes); tests and fuzzing.
    ///
    /// # Errors
    /// The source has a syntax error.
    pub fn from_source(source: &str) -> Result<Template, TemplateError> {
        let mut env = base_env();
        env.add_template_owned(MAIN_FILE.to_string(), source.to_owned())
            .map_err(|e| jinja_error(&e, "<source>"))?;
        Ok(Template {
            env,
            origin: "<source>".to_owned(),
        })
    }

    /// Where the template came from (for messages).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Fills the template with a validated covenant and returns the document.
    ///
    /// # Errors
    /// Template evaluation errors, or markup the template produced that is not valid.
    pub fn fill(&self, covenant: &Covenant) -> Result<Document, TemplateError> {
        let markup = self.render_markup(covenant)?;
        markup::parse(&markup, covenant.covenant.date).map_err(|e| TemplateError::Markup {
            file: self.origin.clone(),
            line: e.line,
            message: e.message,
        })
    }

    /// Renders the markup text only (for debugging a template).
    ///
    /// # Errors
    /// Template evaluation errors.
    pub fn render_markup(&self, covenant: &Covenant) -> Result<String, TemplateError> {
        let tmpl = self
            .env
            .get_template(MAIN_FILE)
            .map_err(|e| jinja_error(&e, &self.origin))?;
        tmpl.render(Context::new(covenant))
            .map_err(|e| jinja_error(&e, &self.origin))
    }
}

impl Template {
    /// Fills one of the year's documents (`year/mid-year-report.xml.j2`, `year/minutes.xml.j2`,
    /// `year/scores.xml.j2`) with its context (see each file's head) and returns the document
    /// dated `date`.
    ///
    /// # Errors
    /// Template evaluation errors, or markup the template produced that is not valid.
    pub fn fill_year(
        &self,
        name: &str,
        context: &serde_json::Value,
        date: time::Date,
    ) -> Result<Document, TemplateError> {
        let origin = format!("<builtin>/{name}");
        let markup = self
            .env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|e| jinja_error(&e, &origin))?;
        markup::parse(&markup, date).map_err(|e| TemplateError::Markup {
            file: origin,
            line: e.line,
            message: e.message,
        })
    }
}

fn add_year_templates(env: &mut Environment<'static>) {
    for (name, source) in BUILTIN_YEAR {
        // Checked by the tests, as the builtin covenant template.
        let _ = env.add_template_owned(name.to_string(), source.to_string());
    }
}

fn jinja_error(e: &minijinja::Error, origin: &str) -> TemplateError {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    let file = match e.name() {
        Some(n) if n != MAIN_FILE => n.to_string(),
        _ => origin.to_string(),
    };
    TemplateError::Jinja {
        file,
        line: e.line().unwrap_or(0),
        message,
    }
}

/// The instruction budget of one fill (MiniJinja fuel).
pub const TEMPLATE_FUEL: u64 = 2_000_000;

fn base_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    // A template (an operator's folder) runs at most this many instructions: a runaway loop
    // is an error, not a hung service. The builtin template uses under a tenth of it for
    // the 30-unit stress covenant.
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_filter("vn_date", filter_vn_date);
    env.add_filter("vn_month", filter_vn_month);
    env.add_filter("vn_number", filter_vn_number);
    env.add_filter("target", filter_target);
    env.add_filter("roman", |n: u32| roman(n));
    env.add_filter("letter", |n: u32| letter(n));
    env
}

fn filter_vn_date(
    value: String,
    kwargs: minijinja::value::Kwargs,
) -> Result<String, minijinja::Error> {
    let short: Option<bool> = kwargs.get("short")?;
    kwargs.assert_all_used()?;
    let d = crate::covenant::parse_iso_date(&value).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("vn_date: \"{value}\" không phải ngày YYYY-MM-DD"),
        )
    })?;
    Ok(if short.unwrap_or(false) {
        vn_date_short(d)
    } else {
        vn_date(d)
    })
}

fn filter_vn_month(value: minijinja::Value) -> Result<String, minijinja::Error> {
    let parts: Vec<i64> = value
        .try_iter()?
        .map(|v| i64::try_from(v).unwrap_or(0))
        .collect();
    match parts.as_slice() {
        [y, m] => Ok(format!("tháng {} năm {y}", format::pad_month(*m))),
        _ => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "vn_month: cần [năm, tháng]",
        )),
    }
}

fn filter_vn_number(value: f64) -> String {
    format_number(value)
}

fn filter_target(value: f64, unit: Option<String>) -> String {
    target_text(value, unit.as_deref())
}

/// The template context: the covenant plus values derived for layout.
#[derive(Serialize)]
struct Context<'a> {
    bloc: &'a crate::covenant::Bloc,
    covenant: CovenantView<'a>,
    units: Vec<UnitView<'a>>,
    signing_units: Vec<UnitView<'a>>,
}

#[derive(Serialize)]
struct CovenantView<'a> {
    #[serde(flatten)]
    text: &'a crate::covenant::CovenantText,
    activities: ActivitiesView<'a>,
}

#[derive(Serialize)]
struct ActivitiesView<'a> {
    periodic: Vec<PeriodicView<'a>>,
    joint: &'a [crate::covenant::JointActivity],
}

#[derive(Serialize)]
struct PeriodicView<'a> {
    #[serde(flatten)]
    activity: &'a crate::covenant::PeriodicActivity,
    host_name: Option<&'a str>,
}

#[derive(Serialize)]
struct UnitView<'a> {
    #[serde(flatten)]
    unit: &'a Unit,
    signature_lines: Vec<String>,
    role_label: Option<&'static str>,
}

impl<'a> Context<'a> {
    fn new(c: &'a Covenant) -> Self {
        let view = |u: &'a Unit| UnitView {
            unit: u,
            signature_lines: signature_lines(u),
            role_label: (u.role != Role::Member).then(|| u.role.label_vi()),
        };
        let periodic = c
            .covenant
            .activities
            .periodic
            .iter()
            .map(|a| PeriodicView {
                activity: a,
                host_name: a.host_unit.as_ref().and_then(|h| {
                    c.units
                        .iter()
                        .find(|u| &u.id == h)
                        .map(|u| u.short_name.as_deref().unwrap_or(&u.name))
                }),
            })
            .collect();
        Context {
            bloc: &c.bloc,
            covenant: CovenantView {
                text: &c.covenant,
                activities: ActivitiesView {
                    periodic,
                    joint: &c.covenant.activities.joint,
                },
            },
            units: c.units.iter().map(view).collect(),
            signing_units: signing_order(c).into_iter().map(view).collect(),
        }
    }
}

/// Units in signing order: the leader unit, then the deputy, then the rest as given.
pub fn signing_order(c: &Covenant) -> Vec<&Unit> {
    let mut out: Vec<&Unit> = c.units.iter().filter(|u| u.role == Role::Leader).collect();
    out.extend(c.units.iter().filter(|u| u.role == Role::Deputy));
    out.extend(c.units.iter().filter(|u| u.role == Role::Member));
    out
}

/// The authority lines of a signature cell (Decree 30, ô 7a/7b), in capitals:
/// `GIÁM ĐỐC`; `KT. GIÁM ĐỐC` + `PHÓ GIÁM ĐỐC`; `Q. GIÁM ĐỐC`.
pub fn signature_lines(u: &Unit) -> Vec<String> {
    let s = &u.signer;
    match (s.authority, &s.principal_position) {
        (Some(Authority::Kt), Some(principal)) => vec![
            format!("KT. {}", principal.to_uppercase()),
            s.position.to_uppercase(),
        ],
        (Some(Authority::Q), Some(principal)) => {
            vec![format!("Q. {}", principal.to_uppercase())]
        }
        _ => vec![s.position.to_uppercase()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Covenant {
        crate::covenant::parse(include_bytes!(
            "../../tests/fixtures/covenant-2021-quang-ninh.json"
        ))
        .unwrap()
    }

    #[test]
    fn the_builtin_template_fills_the_stress_covenant_within_a_tenth_of_its_fuel() {
        let stress = crate::covenant::parse(include_bytes!(
            "../../tests/fixtures/covenant-stress-30.json"
        ))
        .unwrap();
        let mut t = Template::builtin();
        t.env.set_fuel(Some(TEMPLATE_FUEL / 10));
        t.fill(&stress).unwrap();
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel_instead_of_hanging() {
        let t = Template::from_source(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        )
        .unwrap();
        let err = t.fill(&reference()).unwrap_err();
        assert!(err.to_string().contains("fuel"), "{err}");
        assert!(Template::from_source("{% if %}").is_err());
    }

    #[test]
    fn builtin_template_fills_the_reference_covenant() {
        let doc = Template::builtin().fill(&reference()).unwrap();
        let grid = doc
            .blocks
            .iter()
            .find_map(|b| match b {
                crate::document::Block::SignatureGrid(g) => Some(g),
                _ => None,
            })
            .unwrap();
        assert_eq!(grid.cells.len(), 16);
        assert_eq!(grid.cells[0].field_name, "U01");
        assert_eq!(grid.cells[1].field_name, "U02");
        let u07 = grid.cells.iter().find(|c| c.field_name == "U07").unwrap();
        assert_eq!(u07.authority_lines, ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]);
        let u11 = grid.cells.iter().find(|c| c.field_name == "U11").unwrap();
        assert_eq!(u11.authority_lines, ["Q. GIÁM ĐỐC"]);
    }

    #[test]
    fn template_syntax_error_names_file_and_line() {
        let dir = std::env::temp_dir().join(format!("giaouoc-tmpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(MAIN_FILE), "<document>\n\n{% if %}\n</document>").unwrap();
        let err = Template::from_dir(&dir).err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("covenant.xml.j2") && msg.contains("dòng 3"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn markup_error_names_the_rendered_line() {
        let dir = std::env::temp_dir().join(format!("giaouoc-tmpl2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(MAIN_FILE),
            "<document>\n<p>ok</p>\n<bogus/>\n</document>",
        )
        .unwrap();
        let err = Template::from_dir(&dir)
            .unwrap()
            .fill(&reference())
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("dòng 3") && msg.contains("bogus"), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
