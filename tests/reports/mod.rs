//! Shared by the report format tests: the noisy program's report in a format, what it does
//! to each check, and reading JSON and XML reports back.

#![allow(dead_code)]

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{assert_no_raw_controls, noisy_program, run};

/// What `noisy_program` does to each check of serv_simple.
pub fn noisy_outcome(check: &str) -> &'static str {
    match check {
        "prints_message" | "exits_cleanly" => "failed",
        // It crashed before the conversation's end: the kernel closed the connection.
        "sends_typed_line" | "closes_connection" => "not_reached",
        _ => "passed",
    }
}

/// The bytes the noisy program printed, as every report must show them: escaped.
pub const NOISY_SHOWN: &str = r"\x1b[31mred\x00\xff]]><x>&\xef\xbf\xbf";

/// The entry for check `id` in a report's list (`checks` or `tests`), whose `name` is the
/// check's id, or `lab: id`.
pub fn named<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|t| {
            let name = t["name"].as_str().unwrap_or_default();
            name == id || name.ends_with(&format!(": {id}"))
        })
        .unwrap_or_else(|| panic!("no {id} in {list:#}"))
}

pub fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

pub fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// The noisy program's report in `format` (with `extra` arguments): exit 1, and no raw
/// control byte or invalid UTF-8 in it.
pub fn noisy_report(format: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "serv_simple", "--format", format, "--timeout", "1"];
    args.extend(extra);
    let (code, out, err) = run(&args, &noisy_program(dir.path()));
    assert_eq!(code, 1, "{err}");
    assert_no_raw_controls(&out, format);
    String::from_utf8(out).unwrap()
}

/// Checks a test's status and score against what the noisy program does to check `id`,
/// with pass and fail spelt as the format spells them; returns the outcome.
pub fn assert_status(t: &Value, id: &str, max: u32, [pass, fail]: [&str; 2]) -> &'static str {
    let outcome = noisy_outcome(id);
    let (status, score) = if outcome == "passed" {
        (pass, max)
    } else {
        (fail, 0)
    };
    assert_eq!(
        (&t["status"], &t["score"]),
        (&status.into(), &score.into()),
        "{id}: {t}"
    );
    outcome
}

pub fn write_rubric(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("rubric.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

pub fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    tag: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(move |n| n.has_tag_name(tag))
}

pub fn text_of(node: roxmltree::Node, tag: &'static str) -> String {
    children(node, tag)
        .next()
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_string()
}
