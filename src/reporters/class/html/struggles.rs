//! Where the class struggled: the checks ranked by how many graded submissions did not pass
//! them, each with the reason typical of its failures.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::report::{ClassReport, Outcome, Verdict};

use super::escape_html;

/// Why graded submissions did not pass one check.
#[derive(Debug, PartialEq)]
struct Struggle {
    check: String,
    /// How many graded submissions did not pass it.
    not_passed: usize,
    /// Of those, how many were never reached (an earlier check failed, or the program had
    /// ended).
    not_reached: usize,
    reason: Option<Typical>,
}

/// The reason typical of a check's failures, found in their messages: what happened (a
/// message's first line) and what it usually means (its last line: a lab's hint, or the
/// error a traceback ends with).
#[derive(Debug, PartialEq)]
struct Typical {
    /// The first line most messages begin with.
    line: String,
    /// The last line most of those messages end with, if they have more than one.
    then: Option<String>,
    /// How many messages begin with `line`, of how many.
    count: usize,
    of: usize,
}

/// The checks graded submissions did not pass, most often first (as the summary ranks
/// them), each with its typical reason: from the messages of the submissions that failed
/// it outright, or from the not-reached reasons when none did.
fn struggles_of(class: &ClassReport) -> Vec<Struggle> {
    class
        .summary()
        .most_failed
        .into_iter()
        .map(|(check, not_passed)| {
            let mut failed = Vec::new();
            let mut skipped = Vec::new();
            for s in &class.submissions {
                let found = s.report.checks.iter().find(|c| c.id == check);
                match (&s.verdict, found.map(|c| &c.outcome)) {
                    (Verdict::Graded, Some(Outcome::Failed(f))) => failed.push(f.message()),
                    (Verdict::Graded, Some(Outcome::NotReached { reason })) => {
                        skipped.push(reason.clone())
                    }
                    (Verdict::Graded, Some(Outcome::Passed) | None)
                    | (Verdict::NoProgram { .. } | Verdict::HarnessError { .. }, _) => {}
                }
            }
            let reasons: Vec<&str> = if failed.is_empty() { &skipped } else { &failed }
                .iter()
                .map(String::as_str)
                .collect();
            Struggle {
                check,
                not_passed,
                not_reached: skipped.len(),
                reason: typical(&reasons),
            }
        })
        .collect()
}

/// The most common first line of `messages` (without a trailing colon), and the most
/// common last line of the messages that begin with it.
fn typical(messages: &[&str]) -> Option<Typical> {
    let first = |m: &str| {
        m.lines()
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(':')
            .to_string()
    };
    let (line, count) = most_common(messages.iter().map(|m| first(m)))?;
    let then = most_common(
        messages
            .iter()
            .filter(|m| first(m) == line && m.trim().lines().count() > 1)
            .filter_map(|m| m.trim().lines().last().map(|l| l.trim().to_string())),
    )
    .map(|(then, _)| then);
    Some(Typical {
        line,
        then,
        count,
        of: messages.len(),
    })
}

/// The most common non-empty item and how many times it comes; a tie goes to the one met
/// first.
fn most_common(items: impl Iterator<Item = String>) -> Option<(String, usize)> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, item) in items.enumerate().filter(|(_, item)| !item.is_empty()) {
        counts.entry(item).or_insert((0, i)).0 += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(_, (n, first))| (n, std::cmp::Reverse(first)))
        .map(|(item, (n, _))| (item, n))
}

/// The checks ranked by how many graded submissions did not pass them.
pub(super) fn struggles(class: &ClassReport, html: &mut String) {
    let summary = class.summary();
    let graded = summary.count - summary.no_program - summary.harness_errors;
    html.push_str("<section aria-labelledby=\"struggles\">\n<h2 id=\"struggles\">Where the class struggled</h2>\n");
    let ranked = struggles_of(class);
    if ranked.is_empty() {
        html.push_str(
            "<p class=\"muted\">Every graded submission passed every check.</p>\n</section>\n",
        );
        return;
    }
    html.push_str("<ol class=\"ranking\">\n");
    for s in &ranked {
        let description = class
            .submissions
            .iter()
            .flat_map(|sub| &sub.report.checks)
            .find(|c| c.id == s.check)
            .map_or("", |c| c.description.as_str());
        let share = 100.0 * s.not_passed as f64 / graded.max(1) as f64;
        let not_reached = if s.not_reached > 0 {
            format!(" ({} not reached)", s.not_reached)
        } else {
            String::new()
        };
        let reason = s.reason.as_ref().map_or(String::new(), |t| {
            // The reason comes from the failures, or from the not-reached when none failed.
            let among = if s.not_passed > s.not_reached {
                "failures"
            } else {
                "not reached"
            };
            let then = t.then.as_deref().map_or(String::new(), |then| {
                format!("<p class=\"then\">{}</p>", escape_html(then))
            });
            format!(
                "<p class=\"reason\">{} <span class=\"muted\">({} of {} {among})</span></p>{then}",
                escape_html(&t.line),
                t.count,
                t.of,
            )
        });
        let _ = writeln!(
            html,
            r#"<li data-check="{check}" data-not-passed="{n}"><div class="rank-head"><code>{check}</code> <span class="desc">{description}</span> <span class="count">{n} of {graded} did not pass{not_reached}</span></div>
<div class="meter"><span style="width:{share:.1}%"></span></div>
{reason}</li>"#,
            check = escape_html(&s.check),
            n = s.not_passed,
            description = escape_html(description),
        );
    }
    html.push_str("</ol>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What happened is the most common first line; what it means, the most common last
    /// line of those messages; a tie goes to the one met first.
    #[test]
    fn typical_reason_from_the_messages() {
        let messages = [
            "the program exited with status 1; the end of its stderr:\nTraceback\nTypeError: x",
            "nothing reached alice within 3.0 s\nis sys.stdin in select()'s list?",
            "nothing reached alice within 3.0 s\nselect() lets either side come first",
            "the program exited with status 1; the end of its stderr:\nTraceback\nTypeError: x",
            "nothing reached alice within 3.0 s\nselect() lets either side come first",
        ];
        assert_eq!(
            typical(&messages),
            Some(Typical {
                line: "nothing reached alice within 3.0 s".into(),
                then: Some("select() lets either side come first".into()),
                count: 3,
                of: 5,
            })
        );
        let crashed = typical(&messages[..1]).unwrap();
        assert_eq!(
            (crashed.line.as_str(), crashed.then.as_deref()),
            (
                "the program exited with status 1; the end of its stderr",
                Some("TypeError: x")
            )
        );
        let tie = typical(&["a", "b", "b", "a"]).unwrap();
        assert_eq!((tie.line.as_str(), tie.then, tie.count), ("a", None, 2));
        assert_eq!(typical(&[]), None);
        assert_eq!(typical(&[""]), None);
    }
}
