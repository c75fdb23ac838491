//! `--format junit`: JUnit XML through quick-junit, written when the run ends. A testsuite
//! per lab, a testcase per check: `classname` the lab, `name` the check and its points
//! (`prints_client (0/2)`: GitLab, dorny/test-reporter and action-junit-report show names
//! but not properties), `file` the program graded. A check that lost points is a
//! `<failure>` whatever the reason, a check not reached included (its message says which
//! check it needed, or that the program had ended): those readers count `<skipped>` as not
//! failed, where Gradescope and GitHub Classroom count it lost. The failure's message is the
//! why, its body expected, got, why and that check's transcript, shown once (a testcase has
//! no system-out of its own). The testsuite's system-out is the whole run's transcript, its
//! system-err the end of the program's stderr; points are also properties (`points`, `max`).
//!
//! The program's bytes arrive escaped, so escape sequences, NUL and invalid UTF-8 are text
//! such as `\x1b`; quick-junit escapes `<`, `&` and `]]>` and drops what XML 1.0 cannot
//! hold, and [`xml_text`] shows the two noncharacters it lets through.
//!
//! A lab socklab could not grade is a testsuite of one `<error>` testcase ([`write_not_graded`]).

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::report::{CheckResult, Entry, Failure, NotGraded, Outcome, Report};
use crate::reporters::text;

/// Text XML 1.0 can hold: U+FFFE and U+FFFF (valid UTF-8, not XML characters) shown as
/// escapes. Control characters are dropped by quick-junit; ours are escaped long before.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{fffe}' | '\u{ffff}' => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// A message attribute is one line: the explanation's lines (why, then the hint), joined.
fn one_line(failure: &Failure) -> String {
    failure
        .explanation()
        .map(|line| line.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn transcript(entries: &[Entry]) -> String {
    xml_text(
        &entries
            .iter()
            .map(|e| format!("+{:.3}s  {}  {}", e.at.as_secs_f64(), e.who, e.text))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn testcase(lab: &str, file: &str, c: &CheckResult) -> TestCase {
    let status = match &c.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed(f) => failure(&one_line(f), "socklab check failed", c),
        Outcome::NotReached { reason } => failure(
            &format!("not reached: {reason}"),
            "socklab check not reached",
            c,
        ),
    };
    let name = format!("{} ({}/{})", c.id, c.points, c.max);
    let mut case = TestCase::new(name, status);
    case.set_classname(lab)
        .set_time(c.duration)
        .add_properties([
            Property::new("points", c.points.to_string()),
            Property::new("max", c.max.to_string()),
            Property::new("description", xml_text(&c.description)),
        ]);
    case.extra.insert("file".into(), xml_text(file).into());
    case
}

fn failure(message: &str, kind: &str, c: &CheckResult) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_message(xml_text(message))
        .set_type(kind)
        .set_description(xml_text(&text::details_text(c)));
    status
}

/// The report as JUnit XML.
pub fn report_xml(r: &Report) -> quick_junit::Report {
    let mut suite = TestSuite::new(r.lab.as_str());
    suite
        .set_time(r.duration)
        .add_properties([
            Property::new("score", r.score().to_string()),
            Property::new("max_score", r.max_score().to_string()),
            Property::new("program", xml_text(&r.program.join(" "))),
            Property::new("ending", text::ending(r)),
            Property::new(
                "isolation",
                r.isolation.map_or("not run".to_string(), |l| l.to_string()),
            ),
        ])
        .add_test_cases(
            r.checks
                .iter()
                .map(|c| testcase(&r.lab, text::program_file(&r.program), c)),
        )
        .set_system_out(transcript(&r.transcript));
    if !r.stderr_tail().is_empty() {
        suite.set_system_err(xml_text(r.stderr_tail()));
    }
    let mut report = quick_junit::Report::new("socklab");
    report.set_time(r.duration).add_test_suite(suite);
    report
}

/// A lab socklab could not grade: one testcase in `<error>` (JUnit's "could not run", apart
/// from a failure of the program), its message socklab's reason.
pub fn write_not_graded(lab: &NotGraded, out: &mut dyn Write) -> io::Result<()> {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_message(xml_text(&lab.reason))
        .set_type("socklab could not grade");
    let mut case = TestCase::new(format!("not graded ({} points)", lab.max_score), status);
    case.set_classname(lab.lab.as_str());
    let mut suite = TestSuite::new(lab.lab.as_str());
    suite
        .add_properties([
            Property::new("max_score", lab.max_score.to_string()),
            Property::new("graded", "false"),
        ])
        .add_test_case(case);
    let mut report = quick_junit::Report::new("socklab");
    report.add_test_suite(suite);
    report.serialize(out).map_err(io::Error::other)
}

/// Writes the report as JUnit XML.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    report_xml(report).serialize(out).map_err(io::Error::other)
}
