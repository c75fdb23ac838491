//! `socklab grade --format html`: one self-contained page for an instructor. A histogram of
//! the scores (inline SVG) with the mean, the median and how many got full marks; the checks
//! ranked by how many graded submissions did not pass them, each with the reason most of
//! their failures gave; and a row per submission (id, score, checks lost) that sorts by a
//! click on a column's heading and opens, as a native `<details>`, onto that submission's
//! checks (expected, got, why, transcript), how its program ended and its stderr.
//!
//! Self-contained: inline CSS, inline SVG and a few lines of inline script (sorting only;
//! rows open without it). The page's Content-Security-Policy forbids fetching anything and
//! runs no script but that one, by its hash, so it opens offline from disk and a student's
//! bytes could never run as code even if they reached the markup. They do not: every text
//! from a report goes through [`escape_html`], and the program's bytes arrive already shown
//! as Python prints them (`b'<x>\x1b'`).
//!
//! Light and dark follow the reader's setting (`prefers-color-scheme`); print is light.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::report::{CheckResult, ClassReport, Outcome, Submission, Verdict};
use crate::reporters::class::shown_id;
use crate::reporters::text;

/// Writes the class as one HTML page.
pub fn write(class: &ClassReport, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(class).as_bytes())
}

/// `text` safe as HTML text and inside a quoted attribute: the five markup characters as
/// entities, and any control character other than a newline or a tab shown as `\xNN`, so
/// that nothing raw reaches the page even from a text the report did not escape (a folder
/// name, say). Our own few lines rather than a crate: this is all the page needs, and the
/// report's texts arrive already printable.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The only script the page runs: sorting the rows by a column. Its SHA-256 is in
/// [`SCRIPT_HASH`]; a unit test says the new hash when this changes.
const SCRIPT: &str = r#"
var rows = document.getElementById('rows');
var heads = document.querySelectorAll('button[data-sort]');
heads.forEach(function (head) {
  head.addEventListener('click', function () {
    var key = head.dataset.sort;
    var dir = head.dataset.dir === 'asc' ? 'desc' : 'asc';
    heads.forEach(function (h) { delete h.dataset.dir; });
    head.dataset.dir = dir;
    var sorted = Array.prototype.slice.call(rows.children).sort(function (x, y) {
      var a = x.dataset[key], b = y.dataset[key];
      var d = key === 'id' ? (a < b ? -1 : a > b ? 1 : 0) : a - b;
      return (dir === 'asc' ? d : -d) || (x.dataset.id < y.dataset.id ? -1 : 1);
    });
    sorted.forEach(function (row) { rows.appendChild(row); });
  });
});
"#;

/// `sha256-` and the base64 of [`SCRIPT`]'s SHA-256, for the Content-Security-Policy.
const SCRIPT_HASH: &str = "sha256-J1wJNCA73IJ/cPKhYnLLtg+MT87rsIPVv+0wpV8D8Lo=";

const STYLE: &str = r#"
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1b1d21; --muted: #5d636c; --card: #ffffff; --line: #dcdfe4;
  --accent: #2b64b0; --bar: #6e9bd6; --bar-full: #2f8f5b; --code: #eef1f5;
  --pass: #1d7a45; --fail: #b42318; --part: #a15c00; --skip: #69707a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14161a; --fg: #e4e6ea; --muted: #a2a8b1; --card: #1d2026; --line: #343841;
    --accent: #8cb4f5; --bar: #5d87c2; --bar-full: #4fbf83; --code: #262a31;
    --pass: #6fd19b; --fail: #ff8d83; --part: #f0b45c; --skip: #9aa1ab;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
main { max-width: 68rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
p { margin: .25rem 0; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; }
code { background: var(--code); padding: 0 .25em; border-radius: 3px; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.overview { display: grid; grid-template-columns: minmax(0, 16rem) minmax(0, 1fr); gap: 1.5rem; align-items: center; }
.stats { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; margin: 0; }
.stats div { border-left: 3px solid var(--accent); padding-left: .6rem; }
.stats dt { color: var(--muted); font-size: .85rem; }
.stats dd { margin: 0; font-size: 1.6rem; font-weight: 600; line-height: 1.2; }
.stats dd small { font-size: .9rem; font-weight: 400; color: var(--muted); }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .25rem; }
svg.histogram { width: 100%; max-width: 40rem; height: auto; display: block; margin: 0 auto; }
svg.histogram .bar { fill: var(--bar); }
svg.histogram .bar.full { fill: var(--bar-full); }
svg.histogram .axis { stroke: var(--line); }
svg.histogram text { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
svg.histogram text.count { fill: var(--fg); font-weight: 600; }
ol.ranking { list-style: none; margin: 0; padding: 0; }
ol.ranking li { padding: .6rem 0; border-top: 1px solid var(--line); }
ol.ranking li:first-child { border-top: 0; padding-top: 0; }
.rank-head { display: flex; flex-wrap: wrap; gap: .25rem .75rem; align-items: baseline; }
.rank-head .count { margin-left: auto; color: var(--fail); font-weight: 600; white-space: nowrap; }
.meter { height: 6px; background: var(--code); border-radius: 3px; margin: .3rem 0; overflow: hidden; }
.meter span { display: block; height: 100%; background: var(--fail); }
.reason { margin: 0; }
.then { margin: 0; color: var(--muted); font-size: .9rem; }
.head, .row { display: grid; grid-template-columns: minmax(0, 17rem) 5.5rem minmax(0, 1fr); gap: .75rem; align-items: baseline; }
.head { padding: 0 .5rem .4rem 1.6rem; border-bottom: 2px solid var(--line); }
.head button {
  font: inherit; font-weight: 600; color: var(--accent); background: none; border: 0;
  padding: 0; cursor: pointer; text-align: left;
}
.head button[data-dir="asc"]::after { content: " \25B2"; font-size: .75em; }
.head button[data-dir="desc"]::after { content: " \25BC"; font-size: .75em; }
details.sub { border-bottom: 1px solid var(--line); }
details.sub > summary { list-style: none; cursor: pointer; padding: .45rem .5rem .45rem 1.6rem; position: relative; }
details.sub > summary::-webkit-details-marker { display: none; }
details.sub > summary::before {
  content: "\25B8"; position: absolute; left: .5rem; top: .45rem; color: var(--muted);
  transition: transform .1s;
}
details.sub[open] > summary::before { transform: rotate(90deg); }
details.sub > summary:hover, details.sub[open] > summary { background: var(--code); }
.id { font-weight: 600; overflow-wrap: anywhere; }
.score { font-variant-numeric: tabular-nums; font-weight: 600; white-space: nowrap; }
.score.full { color: var(--pass); }
.score.part { color: var(--part); }
.score.zero, .score.none { color: var(--fail); }
.lost code { margin-right: .2rem; }
.detail { padding: .5rem .5rem 1rem 1.6rem; }
table.checks { width: 100%; border-collapse: collapse; margin: .5rem 0; table-layout: fixed; }
table.checks th.pts { width: 4.5rem; }
table.checks th.result { width: 7.5rem; }
table.checks th, table.checks td { text-align: left; vertical-align: top; padding: .3rem .5rem .3rem 0; border-top: 1px solid var(--line); }
table.checks td.pts { white-space: nowrap; font-variant-numeric: tabular-nums; }
.passed { color: var(--pass); }
.failed { color: var(--fail); font-weight: 600; }
.not-reached { color: var(--skip); }
.desc { color: var(--muted); font-size: .85rem; }
dl.evidence { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .15rem .75rem; margin: .25rem 0; }
dl.evidence dt { color: var(--muted); }
dl.evidence dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.evidence pre { margin: 0; }
pre { background: var(--code); padding: .5rem .6rem; border-radius: 4px; overflow-x: auto; margin: .35rem 0; white-space: pre; }
details.more > summary { cursor: pointer; color: var(--accent); }
footer { color: var(--muted); font-size: .8rem; text-align: center; }
@media (max-width: 40rem) {
  main { padding: .75rem .5rem 2rem; }
  section { padding: .75rem; }
  .overview { grid-template-columns: minmax(0, 1fr); gap: 1rem; }
  .head, .row { grid-template-columns: minmax(0, 1fr) 4.5rem; }
  .head .lost-head, .row .lost { grid-column: 1 / -1; }
  .head .lost-head { display: none; }
  .detail { padding-left: .5rem; }
  table.checks th.pts { width: 3rem; }
  table.checks th.result { width: 6.5rem; }
  dl.evidence { grid-template-columns: minmax(0, 1fr); }
}
@media print {
  :root {
    --bg: #fff; --fg: #000; --muted: #444; --card: #fff; --line: #bbb; --code: #f2f2f2;
    --accent: #000; --bar: #777; --bar-full: #333; --pass: #000; --fail: #000; --part: #000; --skip: #444;
  }
  section { border: 0; padding: 0; }
  details.sub { break-inside: avoid; }
  .head button::after { content: none !important; }
}
"#;

/// The whole page.
fn page(class: &ClassReport) -> String {
    let summary = class.summary();
    let lab = escape_html(&class.lab);
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'">
<title>{lab}: class report ({count} submissions)</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<header>
<h1>{lab}: how the class did</h1>
<p class="muted">{count} submissions graded by socklab, {jobs} at a time, in {secs:.1} s; isolation: {isolation}.</p>
</header>
"#,
        count = summary.count,
        jobs = class.jobs,
        secs = class.duration.as_secs_f64(),
        isolation = class.isolation_words(),
    );
    overview(class, &mut html);
    struggles(class, &mut html);
    submissions(class, &mut html);
    let _ = write!(
        html,
        "<footer>socklab {}</footer>\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    html
}

/// Every submission's score, those not graded counted as zero (as in the mean).
fn scores(class: &ClassReport) -> Vec<u32> {
    class.submissions.iter().map(|s| s.report.score()).collect()
}

fn median(scores: &[u32]) -> f64 {
    let mut sorted = scores.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => f64::from(sorted[n / 2]),
        n => (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0,
    }
}

/// `8` or `8.5`: a figure without a needless `.0`.
fn figure(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The histogram's bins, each an inclusive range of scores: one per score up to 20 points,
/// else ten of (nearly) equal width.
fn bins(max_score: u32) -> Vec<(u32, u32)> {
    if max_score <= 20 {
        return (0..=max_score).map(|s| (s, s)).collect();
    }
    let edge = |i: u32| i * (max_score + 1) / 10;
    (0..10).map(|i| (edge(i), edge(i + 1) - 1)).collect()
}

/// The figures and the histogram.
fn overview(class: &ClassReport, html: &mut String) {
    let summary = class.summary();
    let scores = scores(class);
    let max = summary.max_score;
    let _ = write!(
        html,
        r#"<section class="overview" aria-label="scores">
<dl class="stats">
<div><dt>mean</dt><dd id="mean">{mean} <small>/ {max}</small></dd></div>
<div><dt>median</dt><dd id="median">{median} <small>/ {max}</small></dd></div>
<div><dt>full marks</dt><dd id="full-marks">{full} <small>of {count}</small></dd></div>
<div><dt>not graded</dt><dd id="not-graded">{not_run} <small>of {count}</small></dd></div>
</dl>
"#,
        mean = figure(summary.mean, 2),
        median = figure(median(&scores), 1),
        full = summary.full_marks,
        count = summary.count,
        not_run = summary.not_run,
    );
    let bins = bins(max);
    let counts: Vec<usize> = bins
        .iter()
        .map(|&(lo, hi)| scores.iter().filter(|&&s| lo <= s && s <= hi).count())
        .collect();
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1);
    let slot = if bins.iter().all(|(lo, hi)| lo == hi) {
        32
    } else {
        56
    };
    let (top, plot, bottom) = (18, 120, 20);
    let width = slot * bins.len();
    let height = top + plot + bottom;
    let _ = write!(
        html,
        r#"<figure>
<svg class="histogram" viewBox="0 0 {width} {height}" role="img" aria-labelledby="histogram-caption">
<line class="axis" x1="0" y1="{base}" x2="{width}" y2="{base}"/>
"#,
        base = top + plot
    );
    for (i, (&(lo, hi), &count)) in bins.iter().zip(&counts).enumerate() {
        let bar_height = count * plot / tallest;
        let x = i * slot + slot / 8;
        let label = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}–{hi}")
        };
        let full = if hi == max { " full" } else { "" };
        let _ = write!(
            html,
            r#"<rect class="bar{full}" data-scores="{label}" data-count="{count}" x="{x}" y="{y}" width="{w}" height="{bar_height}"><title>{count} scored {label}</title></rect>
<text x="{mid}" y="{label_y}" text-anchor="middle">{label}</text>
"#,
            y = top + plot - bar_height,
            w = slot - slot / 4,
            mid = i * slot + slot / 2,
            label_y = top + plot + 14,
        );
        if count > 0 {
            let _ = writeln!(
                html,
                r#"<text class="count" x="{mid}" y="{y}" text-anchor="middle">{count}</text>"#,
                mid = i * slot + slot / 2,
                y = top + plot - bar_height - 4,
            );
        }
    }
    let not_graded = if summary.not_run > 0 {
        format!(", the {} not graded counted as 0", summary.not_run)
    } else {
        String::new()
    };
    let _ = write!(
        html,
        r#"</svg>
<figcaption id="histogram-caption">How many submissions got each score out of {max}{not_graded}.</figcaption>
</figure>
</section>
"#
    );
}

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
                    (Verdict::Graded, Some(Outcome::Failed(f))) => failed.push(f.message.as_str()),
                    (Verdict::Graded, Some(Outcome::NotReached { reason })) => {
                        skipped.push(reason.as_str())
                    }
                    (Verdict::Graded, Some(Outcome::Passed) | None)
                    | (Verdict::NoProgram { .. } | Verdict::HarnessError { .. }, _) => {}
                }
            }
            let reasons = if failed.is_empty() { &skipped } else { &failed };
            Struggle {
                check,
                not_passed,
                not_reached: skipped.len(),
                reason: typical(reasons),
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
fn struggles(class: &ClassReport, html: &mut String) {
    let summary = class.summary();
    let graded = summary.count - summary.not_run;
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

/// A row per submission, sortable, each opening onto its checks.
fn submissions(class: &ClassReport, html: &mut String) {
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

fn submission(s: &Submission, html: &mut String) {
    let r = &s.report;
    let (score, max) = (r.score(), r.max_score());
    let class = match s.verdict {
        Verdict::Graded if r.full_marks() => "full",
        Verdict::Graded if score == 0 => "zero",
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
            format!("socklab could not grade it: {}", escape_html(reason))
        }
    };
    let id = escape_html(&shown_id(&s.id));
    let _ = write!(
        html,
        r#"<details class="sub" data-id="{id}" data-score="{score}" data-lost="{n_lost}">
<summary class="row"><span class="id">{id}</span><span class="score {class}">{score}/{max}</span><span class="lost">{lost_cell}</span></summary>
<div class="detail">
"#,
        n_lost = lost.len(),
    );
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
        let _ = writeln!(html, "<p class=\"muted\">note: {}</p>", escape_html(notice));
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
    html.push_str(
        "<table class=\"checks\">\n<thead><tr><th>check</th><th class=\"pts\">points</th><th class=\"result\">result</th></tr></thead>\n<tbody>\n",
    );
    for c in &r.checks {
        check(c, html);
    }
    html.push_str("</tbody>\n</table>\n");
    if !r.stderr_tail.is_empty() {
        let _ = writeln!(
            html,
            "<details class=\"more\"><summary>the end of its stderr</summary><pre>{}</pre></details>",
            escape_html(&r.stderr_tail)
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
    html.push_str("</div>\n</details>\n");
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
                escape_html(&f.message)
            )
        }
    };
    let _ = writeln!(
        html,
        "<tr class=\"evidence\"><td colspan=\"3\">{evidence}</td></tr>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup characters become entities; control characters never pass raw; text the
    /// reports already escaped (`b'\x1b'`) is left as it reads.
    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape_html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            escape_html("a\x1b[31m\x00\r\u{85}b"),
            r"a\x1b[31m\x00\x0d\x85b"
        );
        assert_eq!(
            escape_html("b'\\x1b'\n\té"),
            "b'\\x1b'\n\té".replace('\'', "&#39;")
        );
    }

    #[test]
    fn a_bin_per_score_up_to_20_points_then_ten() {
        assert_eq!(bins(0), [(0, 0)]);
        assert_eq!(bins(10).len(), 11);
        assert_eq!(bins(20).last(), Some(&(20, 20)));
        let wide = bins(100);
        assert_eq!(wide.len(), 10);
        assert_eq!((wide[0], wide[9]), ((0, 9), (90, 100)));
        for pair in bins(37).windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0, "bins meet: {pair:?}");
        }
        assert_eq!(bins(37).last().unwrap().1, 37);
    }

    #[test]
    fn median_and_figures() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3, 1, 2]), 2.0);
        assert_eq!(median(&[10, 0, 8, 9]), 8.5);
        assert_eq!(figure(7.0, 2), "7");
        assert_eq!(figure(7.25, 2), "7.25");
        assert_eq!(figure(8.5, 1), "8.5");
    }

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

    /// The Content-Security-Policy names the script by its hash: the browser runs no other
    /// script, and none at all if the two disagree. python3 is what the tests run anyway.
    #[test]
    fn script_hash_matches_the_script() {
        let mut python = std::process::Command::new("python3")
            .args([
                "-c",
                "import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode())",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run python3");
        python
            .stdin
            .take()
            .unwrap()
            .write_all(SCRIPT.as_bytes())
            .unwrap();
        let out = python.wait_with_output().unwrap();
        let hash = format!("sha256-{}", String::from_utf8(out.stdout).unwrap().trim());
        assert_eq!(
            SCRIPT_HASH, hash,
            "SCRIPT changed: set SCRIPT_HASH to \"{hash}\""
        );
    }
}
