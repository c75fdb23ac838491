//! GitHub Classroom's grading reporter (classroom-resources/autograding-grading-reporter, the
//! action the workflow uses), re-done in Rust rule for rule so that tests read socklab's
//! results as it does; the real one is JavaScript and not at hand in CI. Each rule cites
//! its source, `src/` at 43c2d9f (the same as tag v1's, d13b591, whose bundle the action
//! runs). JavaScript's loose values are kept: a missing field is `undefined`, `x || 0` is 0
//! for any falsy `x`, and a number prints as JavaScript prints it.

use serde_json::Value;

/// What the reporter does with the runners' results: the log it prints, and what it tells
/// Classroom.
pub struct Reported {
    pub log: String,
    /// `Points X/Y` as it is noticed to Classroom, or None when it notices nothing (every
    /// `max_score` 0).
    pub points: Option<String>,
    /// The run is marked failed.
    pub failed: bool,
}

/// A JSON value as JavaScript's template literal prints it (`${v}`).
fn js(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Number(n) => js_number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn js_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// JavaScript truthiness of a field that may be missing.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// `helpers/test-helpers.js` 1: `runnerResult.max_score || 0`.
fn max_score(results: &Value) -> f64 {
    if truthy(results.get("max_score")) {
        results["max_score"].as_f64().unwrap_or(f64::NAN)
    } else {
        0.0
    }
}

/// `helpers/test-helpers.js` 11-18: passed tests / tests × max score (NaN without tests).
fn runner_score(results: &Value) -> f64 {
    let tests = results["tests"].as_array().map_or(&[][..], Vec::as_slice);
    let passed = tests
        .iter()
        .filter(|t| t.get("status") == Some(&"pass".into()))
        .count();
    (passed as f64 / tests.len() as f64) * max_score(results)
}

/// Runs the reporter on `(runner, decoded result)` pairs, in the `runners` input's order.
pub fn report(runners: &[(String, Value)]) -> Reported {
    let mut log = String::new();
    let mut line = |text: String| {
        log.push_str(&text);
        log.push('\n');
    };
    // console-results.js 5-53.
    let (mut passed_all, mut tests_all) = (0, 0);
    for (index, (runner, results)) in runners.iter().enumerate() {
        if index > 0 {
            line("🚀🚀🚀\n".into());
        }
        line(format!("🔄 Processing: {runner}"));
        let tests = results["tests"].as_array().map_or(&[][..], Vec::as_slice);
        for test in tests {
            let name = test.get("name").map_or("undefined".into(), js);
            let status = test.get("status").and_then(Value::as_str);
            // 26, 34: `test.line_no !== 0`.
            let at_line = match test.get("line_no") {
                Some(n) if n.as_f64() == Some(0.0) => String::new(),
                other => format!(" - line {}", other.map_or("undefined".into(), js)),
            };
            match status {
                Some("pass") => {
                    passed_all += 1;
                    line(format!("✅ {name}{at_line}"));
                }
                // 31-32: the message, only for an error.
                Some("error") => {
                    let message = if truthy(test.get("message")) {
                        js(&test["message"])
                    } else {
                        format!("Failed to run test '{name}'")
                    };
                    line(format!("Error: {message}\n"));
                }
                _ => line(format!("❌ {name}{at_line}")),
            }
            // 40-42.
            if truthy(test.get("test_code")) {
                line(format!("Test code:\n{}\n", js(&test["test_code"])));
            }
        }
        tests_all += tests.len();
        // 50-52.
        let max = max_score(results);
        if max != 0.0 {
            let score = runner_score(results);
            let score = if score.is_nan() {
                "NaN".into()
            } else {
                format!("{score:.2}")
            };
            line(format!(
                "Total points for {runner}: {score}/{}\n",
                js_number(max)
            ));
        }
    }
    // aggregate-results.js 5-38: a row per runner, then the totals.
    line("Test runner summary".into());
    let (mut table_score, mut table_max) = (0.0, 0.0);
    for (runner, results) in runners {
        let (score, max) = (runner_score(results), max_score(results));
        line(format!(
            "│ {runner} │ {} │ {} │",
            js_number(score),
            js_number(max)
        ));
        table_score += score;
        table_max += max;
    }
    line(format!(
        "│ Total: │ {} │ {} │",
        js_number(table_score),
        js_number(table_max)
    ));
    line(format!(
        "🏆 Grand total tests passed: {passed_all}/{tests_all}\n"
    ));

    // notify-classroom.js 6-21: runners with a falsy max_score are left out; every test's
    // `score` is added as it is (a missing one makes NaN).
    let (mut total, mut max) = (0.0, 0.0);
    for (_, results) in runners {
        if !truthy(results.get("max_score")) {
            continue;
        }
        max += results["max_score"].as_f64().unwrap_or(f64::NAN);
        for test in results["tests"].as_array().map_or(&[][..], Vec::as_slice) {
            total += test
                .get("score")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN);
        }
    }
    let points = (max != 0.0).then(|| format!("Points {}/{}", js_number(total), js_number(max)));

    // main.js 19-23.
    let failed = runners.iter().any(|(_, r)| {
        matches!(
            r.get("status").and_then(Value::as_str),
            Some("fail" | "error")
        )
    });
    Reported {
        log,
        points,
        failed,
    }
}

/// The same from the real reporter's bundle (its `dist/main.js`), when `path` names one and
/// `node` runs it: `encoded` are the `<RUNNER>_RESULTS` values, base64 as the workflow
/// hands them over. For checking this file by hand against the real thing.
pub fn report_with_node(path: &str, runners: &[(String, String)]) -> Reported {
    let mut cmd = std::process::Command::new("node");
    cmd.arg(path).env(
        "INPUT_RUNNERS",
        runners
            .iter()
            .map(|(r, _)| r.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    for (runner, encoded) in runners {
        cmd.env(format!("{}_RESULTS", runner.to_uppercase()), encoded);
    }
    let output = cmd.output().expect("run node");
    let log = String::from_utf8_lossy(&output.stdout).into_owned();
    let points = log
        .lines()
        .find_map(|l| l.strip_prefix("::notice title=Autograding complete::"))
        .map(str::to_string);
    Reported {
        failed: log.contains("::error::"),
        log,
        points,
    }
}
