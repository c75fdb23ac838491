//! Failing fast: `cargo bench --bench fail_fast`.
//!
//! Grades every failing fixture of every lab once with `--timeout 3` and once with
//! `--timeout 30`, and prints each one's time at both and the totals. A program that blocks
//! for good fails as soon as socklab sees that it is blocked, so the deadline should not
//! matter: the goal is the same totals within noise, and every failing fixture of the TCP
//! labs under 2 s. Programs that may still act (they spin, or a timer wakes them) are not
//! provably stuck and keep their deadline by design: they are marked, and counted apart. A
//! verdict that differs between the two deadlines is a failure of the bench.

mod common;

use common::{FailingRun, grade_failing};

const TCP_GOAL_S: f64 = 2.0;

fn main() {
    let build = tempfile::tempdir().expect("a temporary folder");
    println!("socklab bench fail_fast: every failing fixture at --timeout 3 and --timeout 30");
    println!();
    println!("{:<12} {:<36} {:>8} {:>8}", "lab", "fixture", "t=3", "t=30");
    println!("{}", "-".repeat(68));
    let mut totals = Totals::default();
    let mut differing = Vec::new();
    for lab in &common::labs(false) {
        let lab = lab.as_str();
        let at_3 = grade_failing(lab, "3", build.path());
        let at_30 = grade_failing(lab, "30", build.path());
        for (a, b) in at_3.iter().zip(&at_30) {
            let same = a.not_passed == b.not_passed;
            let mut mark = String::new();
            if b.kept_a_deadline {
                mark.push_str("  may still act: kept its deadline");
            }
            if !same {
                mark.push_str("  VERDICT DIFFERS");
                differing.push(format!("{lab}/{}", a.name));
            }
            println!(
                "{lab:<12} {:<36} {:>7.2}s {:>7.2}s{mark}",
                a.name, a.seconds, b.seconds
            );
            totals.add(lab, a, b);
        }
    }
    println!("{}", "-".repeat(68));
    let Totals {
        blocked,
        may_act,
        tcp_slowest,
    } = totals;
    println!(
        "{:<49} {:>7.2}s {:>7.2}s",
        format!("total, {} that block or end", blocked.0),
        blocked.1,
        blocked.2
    );
    println!(
        "{:<49} {:>7.2}s {:>7.2}s",
        format!("total, {} that may still act", may_act.0),
        may_act.1,
        may_act.2
    );
    println!();
    println!(
        "those that block or end: t=3 and t=30 differ by {:.2} s (goal: within noise)",
        (blocked.2 - blocked.1).abs()
    );
    println!(
        "slowest of them in a TCP lab at t=30: {} ({:.2} s); goal < {TCP_GOAL_S:.0} s: {}",
        tcp_slowest.1,
        tcp_slowest.0,
        if tcp_slowest.0 < TCP_GOAL_S {
            "met"
        } else {
            "MISSED"
        }
    );
    if !differing.is_empty() {
        eprintln!("bench fail_fast: verdicts differ between the deadlines: {differing:?}");
        std::process::exit(1);
    }
}

/// (count, seconds at t=3, seconds at t=30) of the programs that block or end, and of
/// those that may still act; the slowest TCP one that blocks or ends.
#[derive(Default)]
struct Totals {
    blocked: (usize, f64, f64),
    may_act: (usize, f64, f64),
    tcp_slowest: (f64, String),
}

impl Totals {
    fn add(&mut self, lab: &str, at_3: &FailingRun, at_30: &FailingRun) {
        let bucket = if at_30.kept_a_deadline {
            &mut self.may_act
        } else {
            &mut self.blocked
        };
        bucket.0 += 1;
        bucket.1 += at_3.seconds;
        bucket.2 += at_30.seconds;
        if lab != "udp_serv" && !at_30.kept_a_deadline && at_30.seconds > self.tcp_slowest.0 {
            self.tcp_slowest = (at_30.seconds, format!("{lab}/{}", at_30.name));
        }
    }
}
