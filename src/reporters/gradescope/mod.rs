//! `--format gradescope`: the results.json of Gradescope's autograder specification
//! (gradescope/autograder_samples, `docs/specs.md`, "Output format"), written when the run
//! ends. [`results`] makes one results.json of several labs' reports.
//!
//! Top level: `score` (the sum of the tests' scores), `execution_time` (whole seconds,
//! rounded up), `output` (each lab's summary, for students), `output_format` (`text`),
//! `visibility` (the default for the tests), `stdout_visibility`, `tests`.
//!
//! One test per check: `name` (`lab: check`), `number` (`2.3`: the lab's place, then the
//! check's; only when several labs are merged, since Gradescope numbers tests in order
//! without it), `tags` (the lab), `score`, `max_score`, `status` (`passed` or `failed`; a
//! check not reached is `failed` with its reason), `output` (the check's description, and
//! for a failure expected, got, why and the transcript), `output_format` (`text`: shown as
//! is, no HTML), `visibility`.
//!
//! Visibility comes from the rubric ([`Visibilities`]). specs.md, "Controlling Test Case
//! Visibility": `hidden` is never shown to students, `after_due_date` after the (late) due
//! date, `after_published` once the instructor publishes grades, `visible` (the default)
//! always; a test's own setting overrides the top level's; and "if test cases are hidden,
//! students will not be able to see their total score". A hidden test still counts in the
//! score. "Controlling standard output visibility": run_autograder's stdout is shown to
//! instructors only unless `stdout_visibility` says otherwise, so its default here is
//! `hidden`, as Gradescope's. The top-level `output` is always shown to students.
//!
//! What each audience is told is in [`audiences`]. A check held back from students is
//! nowhere they look: not in a visible test (the rubric refuses a shown check that needs a
//! held-back one, whose reason would name it), not in `output` (whose totals count the
//! checks shown now), and not in the numbering: each lab's tests come in the order students
//! are shown them (visible first, then after the due date, after publishing, hidden), and
//! the labs in the order of their first shown test, so that at every stage the numbers
//! students see run without a gap.

mod audiences;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::report::{CheckResult, Outcome, Report};
use crate::reporters::{json, text};

/// When students may see a test (or run_autograder's stdout), in Gradescope's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    // In order of how long students wait: merging keeps the latest (see `merged`).
    #[default]
    Visible,
    AfterDueDate,
    AfterPublished,
    Hidden,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
            Visibility::Hidden => "hidden",
        }
    }
}

/// How one lab's results are shown on Gradescope, as a rubric sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibilities {
    /// Every test's unless `checks` says otherwise; the top-level `visibility`.
    pub default: Visibility,
    /// run_autograder's stdout.
    pub stdout: Visibility,
    /// By check id.
    pub checks: BTreeMap<String, Visibility>,
}

impl Default for Visibilities {
    fn default() -> Visibilities {
        Visibilities {
            default: Visibility::Visible,
            stdout: Visibility::Hidden,
            checks: BTreeMap::new(),
        }
    }
}

impl Visibilities {
    pub fn of(&self, check: &str) -> Visibility {
        self.checks.get(check).copied().unwrap_or(self.default)
    }
}

/// One lab's share of a results.json: its report, and how its tests are shown.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub report: &'a Report,
    pub visibility: &'a Visibilities,
}

impl Part<'_> {
    /// The checks students are shown now: those whose visibility is `visible`.
    fn shown_now(&self) -> impl Iterator<Item = &CheckResult> {
        self.report
            .checks
            .iter()
            .filter(|c| self.visibility.of(&c.id) == Visibility::Visible)
    }

    /// The lab's checks with their visibility, in the order students are shown them (see
    /// the module's doc), the lab's order within each visibility.
    fn in_showing_order(&self) -> Vec<(Visibility, &CheckResult)> {
        let mut checks: Vec<(Visibility, &CheckResult)> = self
            .report
            .checks
            .iter()
            .map(|c| (self.visibility.of(&c.id), c))
            .collect();
        checks.sort_by_key(|(shown, _)| *shown);
        checks
    }
}

fn test(c: &CheckResult, lab: &str, number: Option<String>, shown: Visibility) -> Value {
    let status = match c.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed(_) | Outcome::NotReached { .. } => "failed",
    };
    let mut output = c.description.clone();
    if c.max == 0 {
        output.push_str(" (reported, not scored)");
    }
    for line in text::details(c) {
        output.push('\n');
        output.push_str(&line);
    }
    let test = json!({
        "name": format!("{lab}: {}", c.id),
        "tags": [lab],
        "score": c.points,
        "max_score": c.max,
        "status": status,
        "output": output,
        "output_format": "text",
        "visibility": shown.as_str(),
    });
    numbered(test, number)
}

/// The test that carries the staff's account where stdout is shown to students: hidden,
/// scoreless.
fn staff_test(account: String, number: Option<String>) -> Value {
    let test = json!({
        "name": STAFF_TEST,
        "tags": ["socklab"],
        "status": "passed",
        "output": account,
        "output_format": "text",
        "visibility": Visibility::Hidden.as_str(),
    });
    numbered(test, number)
}

/// `test` with its `number`, if it has one.
fn numbered(mut test: Value, number: Option<String>) -> Value {
    if let Some(number) = number {
        test.as_object_mut()
            .expect("object")
            .insert("number".into(), number.into());
    }
    test
}

/// The name of the hidden test that carries the staff's account.
pub const STAFF_TEST: &str = "socklab: for staff";

/// The latest of the labs' settings (visible, then after the due date, then after
/// publishing, then hidden), so that merging never shows students sooner what one lab's
/// rubric holds back.
fn latest<'a>(
    of: fn(&Visibilities) -> Visibility,
    labs: impl IntoIterator<Item = &'a Visibilities>,
) -> Visibility {
    labs.into_iter()
        .map(of)
        .max()
        .unwrap_or_else(|| of(&Visibilities::default()))
}

/// When Gradescope shows run_autograder's stdout to students, for labs shown as `labs`
/// say: `hidden` unless a rubric says otherwise for every lab.
pub fn stdout_visibility<'a>(labs: impl IntoIterator<Item = &'a Visibilities>) -> Visibility {
    latest(|v| v.stdout, labs)
}

/// A results.json, and the staff's account that is not in it.
pub struct Results {
    pub json: Value,
    /// Every lab's full points, what is held back from students, how socklab graded: for
    /// socklab's stdout or stderr, which run_autograder's stdout gathers for staff. `None`
    /// where a rubric shows that stdout to students: results.json then carries the account
    /// in a hidden test ([`STAFF_TEST`]).
    pub for_staff: Option<String>,
}

/// Several labs' reports as one results.json: their tests, numbered `lab.check` when there
/// is more than one lab, in the order students are shown them (see the module's doc); each
/// lab's summary for students in `output`; scores and times added up; the top-level
/// `visibility` and `stdout_visibility` the labs' latest. `stderr` is what socklab said
/// while grading, for the staff's account.
pub fn results(parts: &[Part], stderr: &str) -> Results {
    let numbered = parts.len() > 1;
    let mut labs: Vec<(&Part, Vec<(Visibility, &CheckResult)>)> =
        parts.iter().map(|p| (p, p.in_showing_order())).collect();
    labs.sort_by_key(|(_, checks)| checks.first().map(|(shown, _)| *shown));
    let mut tests = Vec::new();
    for (lab_index, (part, checks)) in labs.iter().enumerate() {
        for (check_index, (shown, c)) in checks.iter().enumerate() {
            let number = numbered.then(|| format!("{}.{}", lab_index + 1, check_index + 1));
            tests.push(test(c, &part.report.lab, number, *shown));
        }
    }
    let in_order: Vec<Part> = labs.iter().map(|(part, _)| **part).collect();
    let account = audiences::staff_account(&in_order, stderr);
    let stdout = stdout_visibility(parts.iter().map(|p| p.visibility));
    let for_staff = if stdout == Visibility::Hidden {
        Some(account)
    } else {
        let number = numbered.then(|| format!("{}.1", labs.len() + 1));
        tests.push(staff_test(account, number));
        None
    };
    let output: Vec<String> = in_order.iter().filter_map(audiences::for_students).collect();
    let took: Duration = parts.iter().map(|p| p.report.duration).sum();
    let json = json!({
        "score": parts.iter().map(|p| p.report.score()).sum::<u32>(),
        "execution_time": took.as_secs_f64().ceil() as u64,
        "output": output.join("\n\n"),
        "output_format": "text",
        "visibility": latest(|v| v.default, parts.iter().map(|p| p.visibility)).as_str(),
        "stdout_visibility": stdout.as_str(),
        "tests": tests,
    });
    Results { json, for_staff }
}

/// Writes the report as Gradescope's results.json to `out`, and the staff's account, where
/// it is not in results.json, to `staff`.
pub fn write(
    report: &Report,
    visibility: &Visibilities,
    out: &mut dyn Write,
    staff: &mut dyn Write,
) -> io::Result<()> {
    let results = results(&[Part { report, visibility }], "");
    json::document(&results.json, out)?;
    if let Some(account) = results.for_staff {
        staff.write_all(account.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Notice;
    use crate::reporters::sample::{Went, report};

    /// [number, name, visibility, tag] of each test.
    fn tests_of(r: &Value) -> Vec<[String; 4]> {
        r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let tags = t["tags"].as_array().unwrap();
                assert_eq!(tags.len(), 1, "{t}");
                let field = |v: &Value| v.as_str().unwrap_or_default().to_string();
                [
                    field(&t["number"]),
                    field(&t["name"]),
                    field(&t["visibility"]),
                    field(&tags[0]),
                ]
            })
            .collect()
    }

    fn strings<const N: usize>(rows: &[[&str; N]]) -> Vec<[String; N]> {
        rows.iter().map(|row| row.map(String::from)).collect()
    }

    /// Two labs merged: numbered `lab.check` and tagged with their lab, each test with its
    /// lab's visibility, in the order students are shown them (a lab shown only after
    /// publishing comes after a visible one; its hidden check after its others); a hidden
    /// test still counts; scores and times added up; the top level the later of the labs'
    /// settings. `output` names only what students are shown now, and the staff's account
    /// (stdout, hidden by default) has the whole.
    #[test]
    fn merges_labs_numbered_in_showing_order() {
        let conn = report(
            "conn_simple",
            &[
                ("connects", 2, Went::Passed),
                ("sends_hello", 3, Went::NotReached),
            ],
        );
        let tcp = report(
            "serv_tcp",
            &[
                ("accepts", 1, Went::Passed),
                ("prints_client", 2, Went::Failed),
            ],
        );
        let held_back = Visibilities {
            default: Visibility::AfterPublished,
            stdout: Visibility::Visible,
            checks: BTreeMap::from([("connects".to_string(), Visibility::Hidden)]),
        };
        let r = results(
            &[
                Part {
                    report: &conn,
                    visibility: &held_back,
                },
                Part {
                    report: &tcp,
                    visibility: &Visibilities::default(),
                },
            ],
            "",
        );
        assert_eq!(
            tests_of(&r.json),
            strings(&[
                ["1.1", "serv_tcp: accepts", "visible", "serv_tcp"],
                ["1.2", "serv_tcp: prints_client", "visible", "serv_tcp"],
                ["2.1", "conn_simple: sends_hello", "after_published", "conn_simple"],
                ["2.2", "conn_simple: connects", "hidden", "conn_simple"],
            ])
        );
        let json = &r.json;
        assert_eq!((&json["score"], &json["execution_time"]), (&3.into(), &2.into()));
        // serv_tcp's stdout is hidden (the default), so the one stdout is.
        assert_eq!(
            (&json["visibility"], &json["stdout_visibility"]),
            (&"after_published".into(), &"hidden".into())
        );
        assert_eq!(json["output"], "serv_tcp: 1/3 (the program's exit status is unknown; 1.00 s)");
        let staff = r.for_staff.unwrap();
        assert!(staff.starts_with("socklab: 3/8 in all; the tests students are shown now add up to 1/3\n"), "{staff}");
        assert!(staff.contains("\nconn_simple: 2/5 ("), "{staff}");
        assert!(
            staff.contains("\nnot shown to students now: connects 2/2 (hidden), sends_hello 0/3 (after_published)"),
            "{staff}"
        );
    }

    /// A check held back from students is nowhere they look: the lab's total in `output`
    /// counts the others, the numbers they see have no gap, and notices about how socklab
    /// graded go to staff only. Where the rubric shows stdout to students, the staff's
    /// account is a hidden, scoreless test instead, with what socklab said on stderr.
    #[test]
    fn held_back_checks_and_socklabs_words_stay_with_staff() {
        let mut simple = report(
            "serv_simple",
            &[
                ("accepts", 1, Went::Passed),
                ("sends_typed_line", 2, Went::Failed),
                ("closes_connection", 1, Went::Passed),
            ],
        );
        simple.notices = vec![
            Notice::Grading("cannot create a network namespace (EPERM)".into()),
            Notice::Program("`nc` ended at once".into()),
        ];
        let mut hidden = Visibilities {
            checks: BTreeMap::from([("sends_typed_line".to_string(), Visibility::Hidden)]),
            ..Visibilities::default()
        };
        let part = Part {
            report: &simple,
            visibility: &hidden,
        };
        let r = results(&[part], "");
        assert_eq!(
            tests_of(&r.json),
            strings(&[
                ["", "serv_simple: accepts", "visible", "serv_simple"],
                ["", "serv_simple: closes_connection", "visible", "serv_simple"],
                ["", "serv_simple: sends_typed_line", "hidden", "serv_simple"],
            ])
        );
        let output = r.json["output"].as_str().unwrap();
        assert_eq!(
            output,
            "serv_simple: 2/2 (the program's exit status is unknown; 1.00 s)\nnote: `nc` ended at once"
        );
        let staff = r.for_staff.unwrap();
        for says in ["2/4", "isolation: namespaces", "EPERM", "sends_typed_line 0/2 (hidden)"] {
            assert!(staff.contains(says), "{says}: {staff}");
        }

        hidden.stdout = Visibility::AfterDueDate;
        let r = results(
            &[Part {
                report: &simple,
                visibility: &hidden,
            }],
            "socklab: namespaces refused\n",
        );
        assert!(r.for_staff.is_none());
        let tests = r.json["tests"].as_array().unwrap();
        let staff = tests.last().unwrap();
        assert_eq!(
            (&staff["name"], &staff["visibility"], staff.get("score")),
            (&STAFF_TEST.into(), &"hidden".into(), None)
        );
        let account = staff["output"].as_str().unwrap();
        assert!(account.contains("EPERM") && account.contains("socklab: namespaces refused"), "{account}");
        assert_eq!(r.json["stdout_visibility"], "after_due_date");
    }

    /// A lab alone is not numbered (Gradescope numbers tests in order); without a rubric,
    /// Gradescope's own defaults: tests visible, stdout hidden.
    #[test]
    fn one_lab_keeps_gradescopes_defaults() {
        let simple = report("serv_simple", &[("accepts", 1, Went::Passed)]);
        let r = results(
            &[Part {
                report: &simple,
                visibility: &Visibilities::default(),
            }],
            "",
        )
        .json;
        assert!(r["tests"][0].get("number").is_none(), "{r}");
        assert_eq!(
            (&r["visibility"], &r["stdout_visibility"]),
            (&"visible".into(), &"hidden".into())
        );
    }
}
