//! `--format gradescope`: the results.json of Gradescope's autograder specification
//! (gradescope/autograder_samples, `docs/specs.md`, "Output format"), written when the run
//! ends. [`merged`] makes one results.json of several labs' reports.
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
//! `hidden`, as Gradescope's.

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
    let mut test = json!({
        "name": format!("{lab}: {}", c.id),
        "tags": [lab],
        "score": c.points,
        "max_score": c.max,
        "status": status,
        "output": output,
        "output_format": "text",
        "visibility": shown.as_str(),
    });
    if let Some(number) = number {
        test.as_object_mut()
            .expect("object")
            .insert("number".into(), number.into());
    }
    test
}

/// Several labs' reports as one results.json: their tests in order, numbered `lab.check`
/// when there is more than one lab; `notes` (what kept a lab from running, say) above the
/// labs' summaries in `output`; scores and times added up. The top-level `visibility` and
/// `stdout_visibility` are the labs' latest (visible, then after the due date, then after
/// publishing, then hidden), so that merging never shows students sooner what one lab's
/// rubric holds back; every test carries its own visibility anyway.
pub fn merged(parts: &[Part], notes: &[String]) -> Value {
    let numbered = parts.len() > 1;
    let mut tests = Vec::new();
    for (lab_index, part) in parts.iter().enumerate() {
        let lab = &part.report.lab;
        for (check_index, c) in part.report.checks.iter().enumerate() {
            let number = numbered.then(|| format!("{}.{}", lab_index + 1, check_index + 1));
            tests.push(test(c, lab, number, part.visibility.of(&c.id)));
        }
    }
    let latest = |of: fn(&Visibilities) -> Visibility| {
        parts
            .iter()
            .map(|p| of(p.visibility))
            .max()
            .unwrap_or_else(|| of(&Visibilities::default()))
    };
    let output: Vec<String> = notes
        .iter()
        .cloned()
        .chain(parts.iter().map(|p| text::run_summary(p.report)))
        .collect();
    let took: Duration = parts.iter().map(|p| p.report.duration).sum();
    json!({
        "score": parts.iter().map(|p| p.report.score()).sum::<u32>(),
        "execution_time": took.as_secs_f64().ceil() as u64,
        "output": output.join("\n\n"),
        "output_format": "text",
        "visibility": latest(|v| v.default).as_str(),
        "stdout_visibility": latest(|v| v.stdout).as_str(),
        "tests": tests,
    })
}

/// The report of one lab as Gradescope's results.json.
pub fn results_json(report: &Report, visibility: &Visibilities) -> Value {
    merged(&[Part { report, visibility }], &[])
}

/// Writes the report as Gradescope's results.json.
pub fn write(report: &Report, visibility: &Visibilities, out: &mut dyn Write) -> io::Result<()> {
    json::document(&results_json(report, visibility), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporters::sample::{Went, report};

    /// Two labs merged: their tests in order, numbered `lab.check` and tagged with their
    /// lab, each with its lab's visibility; a hidden test still counts; scores and times
    /// added up; the notes above the labs' summaries; the top level the later of the labs'
    /// settings.
    #[test]
    fn merges_labs_numbered_and_tagged() {
        let tcp = report(
            "serv_tcp",
            &[
                ("accepts", 1, Went::Passed),
                ("prints_client", 2, Went::Failed),
            ],
        );
        let conn = report(
            "conn_simple",
            &[
                ("connects", 2, Went::Passed),
                ("sends_hello", 3, Went::NotReached),
            ],
        );
        let held_back = Visibilities {
            default: Visibility::AfterPublished,
            stdout: Visibility::Visible,
            checks: BTreeMap::from([("connects".to_string(), Visibility::Hidden)]),
        };
        let r = merged(
            &[
                Part {
                    report: &tcp,
                    visibility: &Visibilities::default(),
                },
                Part {
                    report: &conn,
                    visibility: &held_back,
                },
            ],
            &["serv_tcp: serv_tcp.py came late".to_string()],
        );
        let tests: Vec<[&str; 4]> = r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let tags = t["tags"].as_array().unwrap();
                assert_eq!(tags.len(), 1, "{t}");
                ["number", "name", "visibility"]
                    .map(|k| t[k].as_str().unwrap())
                    .into_iter()
                    .chain([tags[0].as_str().unwrap()])
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            tests,
            [
                ["1.1", "serv_tcp: accepts", "visible", "serv_tcp"],
                ["1.2", "serv_tcp: prints_client", "visible", "serv_tcp"],
                ["2.1", "conn_simple: connects", "hidden", "conn_simple"],
                [
                    "2.2",
                    "conn_simple: sends_hello",
                    "after_published",
                    "conn_simple"
                ],
            ]
        );
        assert_eq!((&r["score"], &r["execution_time"]), (&3.into(), &2.into()));
        // serv_tcp's stdout is hidden (the default), so the one stdout is.
        assert_eq!(
            (&r["visibility"], &r["stdout_visibility"]),
            (&"after_published".into(), &"hidden".into())
        );
        let output = r["output"].as_str().unwrap();
        assert!(
            output.starts_with("serv_tcp: serv_tcp.py came late\n\nserv_tcp: 1/3 ("),
            "{output}"
        );
        assert!(output.contains("\n\nconn_simple: 2/5 ("), "{output}");
    }

    /// A lab alone is not numbered (Gradescope numbers tests in order); without a rubric,
    /// Gradescope's own defaults: tests visible, stdout hidden.
    #[test]
    fn one_lab_keeps_gradescopes_defaults() {
        let r = results_json(
            &report("serv_simple", &[("accepts", 1, Went::Passed)]),
            &Visibilities::default(),
        );
        assert!(r["tests"][0].get("number").is_none(), "{r}");
        assert_eq!(
            (&r["visibility"], &r["stdout_visibility"]),
            (&"visible".into(), &"hidden".into())
        );
    }
}
