//! The class in figures: the mean, the median, full marks, and the scores' histogram (inline SVG).

use std::fmt::Write as _;

use crate::report::{ClassReport, Submission};

/// Every submission's score, those without a program counted as zero and those socklab
/// failed on left out (as in the mean).
fn scores(class: &ClassReport) -> Vec<u32> {
    class.submissions.iter().filter_map(Submission::score).collect()
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
pub(super) fn overview(class: &ClassReport, html: &mut String) {
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
        not_run = summary.no_program + summary.harness_errors,
    );
    histogram(&scores, max, html);
    let mut not_graded = String::new();
    if summary.no_program > 0 {
        not_graded.push_str(&format!(", the {} not graded counted as 0", summary.no_program));
    }
    if summary.harness_errors > 0 {
        not_graded.push_str(&format!(
            ", the {} socklab could not grade left out",
            summary.harness_errors
        ));
    }
    let _ = write!(
        html,
        r#"</svg>
<figcaption id="histogram-caption">How many submissions got each score out of {max}{not_graded}.</figcaption>
</figure>
</section>
"#
    );
}

/// The histogram: a bar per score (or per ten), in an SVG left open for its caption.
fn histogram(scores: &[u32], max: u32, html: &mut String) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
