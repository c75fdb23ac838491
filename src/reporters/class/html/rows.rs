//! A row per submission, sortable, opening onto its checks, how its program ended and its
//! stderr.

use std::fmt::Write as _;

use crate::report::{CheckResult, ClassReport, Outcome, Submission, Verdict};
use crate::reporters::class::shown_id;
use crate::reporters::text;

use super::escape_html;

/// A row per submission, sortable, each opening onto its checks.
pub(super) fn submissions(class: &ClassReport, html: &mut String) {
    html.push_str(
        r#"<section aria-labelledby="subs-title">
<h2 id="subs-title">Submissions</h2>
<p class="muted">Click a row for its checks and transcript; click a heading to sort.</p>
<div class="head">
<button type="button" data-sort="id" data-dir="asc">id</button>
<button type="button" data-sort="score">score</button>
<button type="button" data-sort="lost" class="lost-head">checks not passed</button>
</div>
<div id="rows">
"#,
    );
    for s in &class.submissions {
        submission(s, html);
    }
    html.push_str("</div>\n</section>\n");
}

/// A submission's row and, under it, how it ran and its checks.
fn submission(s: &Submission, html: &mut String) {
    row(s, html);
    how_it_ran(s, html);
    html.push_str(
        "<table class=\"checks\">\n<thead><tr><th>check</th><th class=\"pts\">points</th><th class=\"result\">result</th></tr></thead>\n<tbody>\n",
    );
    for c in &s.report.checks {
        check(c, html);
    }
    html.push_str("</tbody>\n</table>\n");
    its_end(s, html);
    html.push_str("</div>\n</details>\n");
}

/// The row itself: id, score, the checks not passed; it opens the submission's details.
fn row(s: &Submission, html: &mut String) {
    let r = &s.report;
    let max = r.max_score();
    // Not graded sorts below every score.
    let (score, sort_key) = match s.score() {
        Some(n) => (n.to_string(), i64::from(n)),
        None => ("--".to_string(), -1),
    };
    let class = match s.verdict {
        Verdict::Graded if r.full_marks() => "full",
        Verdict::Graded if r.score() == 0 => "zero",
        Verdict::Graded => "part",
        Verdict::NoProgram { .. } | Verdict::HarnessError { .. } => "none",
    };
    let lost: Vec<&CheckResult> = r.checks.iter().filter(|c| !c.passed()).collect();
    let lost_cell = match &s.verdict {
        Verdict::Graded if lost.is_empty() => "<span class=\"muted\">none</span>".to_string(),
        Verdict::Graded => lost
            .iter()
            .map(|c| format!("<code>{}</code>", escape_html(&c.id)))
            .collect::<Vec<_>>()
            .join(" "),
        Verdict::NoProgram { reason } => format!("not graded: {}", escape_html(reason)),
        Verdict::HarnessError { reason } => {
            format!("not graded, socklab could not grade it: {}", escape_html(reason))
        }
    };
    let id = escape_html(&shown_id(&s.id));
    let _ = write!(
        html,
        r#"<details class="sub" data-id="{id}" data-score="{sort_key}" data-lost="{n_lost}">
<summary class="row"><span class="id">{id}</span><span class="score {class}">{score}/{max}</span><span class="lost">{lost_cell}</span></summary>
<div class="detail">
"#,
        n_lost = lost.len(),
    );
}

/// The program, how it ended, notices, and each run when there were several.
fn how_it_ran(s: &Submission, html: &mut String) {
    let r = &s.report;
    let ended = match s.verdict {
        Verdict::Graded => format!("{}; {:.2} s", text::ending(r), r.duration.as_secs_f64()),
        Verdict::NoProgram { .. } | Verdict::HarnessError { .. } => "not run".to_string(),
    };
    if !r.program.is_empty() {
        let _ = writeln!(
            html,
            "<p><span class=\"muted\">program</span> <code>{}</code></p>",
            escape_html(&r.program.join(" "))
        );
    }
    let _ = writeln!(
        html,
        "<p><span class=\"muted\">how it ended</span> {}</p>",
        escape_html(&ended)
    );
    for notice in &r.notices {
        let _ = writeln!(html, "<p class=\"muted\">note: {}</p>", escape_html(notice.text()));
    }
    if r.runs.len() > 1 {
        for run in &r.runs {
            let how = match (run.exit, run.stopped_by_harness) {
                (_, true) => "stopped by the harness".to_string(),
                (Some(exit), false) => format!("exited with {exit}"),
                (None, false) => "exit status unknown".to_string(),
            };
            let _ = writeln!(
                html,
                "<p><span class=\"muted\">run {}</span> <code>{}</code> {}</p>",
                escape_html(&run.name),
                escape_html(&run.program.join(" ")),
                escape_html(&how)
            );
        }
    }
}

/// The end of its stderr and the whole run's transcript, each folded away.
fn its_end(s: &Submission, html: &mut String) {
    let r = &s.report;
    if !r.stderr_tail().is_empty() {
        let _ = writeln!(
            html,
            "<details class=\"more\"><summary>the end of its stderr</summary><pre>{}</pre></details>",
            escape_html(r.stderr_tail())
        );
    }
    if !r.transcript.is_empty() {
        let lines: Vec<String> = r.transcript.iter().map(text::entry).collect();
        let omitted = if r.transcript_omitted > 0 {
            format!("\n… {} bytes of output not kept …", r.transcript_omitted)
        } else {
            String::new()
        };
        let _ = writeln!(
            html,
            "<details class=\"more\"><summary>the whole run's transcript ({} entries)</summary><pre>{}{}</pre></details>",
            lines.len(),
            escape_html(&lines.join("\n")),
            omitted
        );
    }
}

/// A check's row, and for one not passed the evidence under it.
fn check(c: &CheckResult, html: &mut String) {
    let result = match &c.outcome {
        Outcome::Passed => "<span class=\"passed\">✓ passed</span>",
        Outcome::Failed(_) => "<span class=\"failed\">✗ failed</span>",
        Outcome::NotReached { .. } => "<span class=\"not-reached\">– not reached</span>",
    };
    let _ = writeln!(
        html,
        r#"<tr data-check="{id}"><td><code>{id}</code><div class="desc">{desc}</div></td><td class="pts">{points}/{max}</td><td>{result}</td></tr>"#,
        id = escape_html(&c.id),
        desc = escape_html(&c.description),
        points = c.points,
        max = c.max,
    );
    let evidence = match &c.outcome {
        Outcome::Passed => return,
        Outcome::NotReached { reason } => format!(
            "<dl class=\"evidence\"><dt>why</dt><dd>{}</dd></dl>",
            escape_html(reason)
        ),
        Outcome::Failed(f) => {
            let transcript = if c.transcript.is_empty() {
                String::new()
            } else {
                let lines: Vec<String> = text::transcript(&c.transcript).collect();
                format!(
                    "<dt>transcript</dt><dd><pre>{}</pre></dd>",
                    escape_html(&lines.join("\n"))
                )
            };
            format!(
                "<dl class=\"evidence\"><dt>expected</dt><dd class=\"mono\">{}</dd><dt>got</dt><dd class=\"mono\">{}</dd><dt>why</dt><dd>{}</dd>{transcript}</dl>",
                escape_html(&f.expected),
                escape_html(&f.got),
                escape_html(&f.message())
            )
        }
    };
    let _ = writeln!(
        html,
        "<tr class=\"evidence\"><td colspan=\"3\">{evidence}</td></tr>"
    );
}
