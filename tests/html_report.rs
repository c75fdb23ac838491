//! `socklab grade --format html`, checked in a real browser (headless Chromium through
//! chromedriver, see `browser/mod.rs`). Two classes built from the fixtures, serv_simple and
//! serv_tcp (every Python pass and fail program one student), are graded once; the tests
//! read the rendered rows, histogram and ranking against what the fixtures say, click a row
//! open and the headings to sort, show the page dark, in print and on a phone, and save
//! screenshots under target/ for people to look at. A program printing markup and control
//! bytes shows them as text.

mod browser;
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use browser::Browser;
use common::{assert_no_raw_controls, expected_failures, lab_checks, socklab};
use rstest::rstest;
use serde::Deserialize;
use serde_json::json;

/// One lab's class, graded once for every test.
struct Class {
    /// Each submission's id and the checks it must not pass (none for a pass fixture), in
    /// order of id.
    expected: Vec<(String, BTreeSet<String>)>,
    max_score: u32,
    page: PathBuf,
}

const LABS: [&str; 2] = ["serv_simple", "serv_tcp"];

/// Where the classes and their pages are kept (target/tmp): open them after a run.
fn work_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("html_report")
}

/// Screenshots go to target/ itself, for people to look at.
fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/")
        .join(name)
}

static CLASSES: LazyLock<Vec<Class>> = LazyLock::new(|| {
    let work = work_dir();
    let _ = std::fs::remove_dir_all(&work);
    LABS.iter().map(|lab| graded_class(lab, &work)).collect()
});

fn class(lab: &str) -> &'static Class {
    &CLASSES[LABS.iter().position(|l| *l == lab).expect("a lab of LABS")]
}

/// fixtures/LAB/{pass,fail}/NAME.py becomes the submission NAME/LAB.py, graded with
/// `--format html --output`.
fn graded_class(lab: &str, work: &Path) -> Class {
    let dir = work.join(lab);
    let mut expected = Vec::new();
    for kind in ["pass", "fail"] {
        for entry in std::fs::read_dir(format!("fixtures/{lab}/{kind}")).unwrap() {
            let fixture = entry.unwrap().path();
            if fixture.extension().is_none_or(|e| e != "py") {
                continue;
            }
            let id = fixture.file_stem().unwrap().to_string_lossy().into_owned();
            let must_fail = match kind {
                "pass" => BTreeSet::new(),
                _ => expected_failures(&fixture).into_iter().collect(),
            };
            std::fs::create_dir_all(dir.join(&id)).unwrap();
            std::fs::copy(&fixture, dir.join(&id).join(format!("{lab}.py"))).unwrap();
            expected.push((id, must_fail));
        }
    }
    expected.sort();
    let ids: BTreeSet<&String> = expected.iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids.len(),
        expected.len(),
        "two fixtures of {lab} share a name"
    );
    let page = work.join(format!("{lab}.html"));
    let output = socklab()
        .args(["grade", lab])
        .arg(&dir)
        .args(["--format", "html", "--output"])
        .arg(&page)
        .args(["--", "python3", &format!("{{dir}}/{lab}.py")])
        .output()
        .expect("run socklab");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(common::exit_code(&output), 1, "{stderr}");
    assert!(output.stdout.is_empty(), "--output: nothing on stdout");
    Class {
        expected,
        max_score: lab_checks(lab).iter().map(|(_, points)| points).sum(),
        page,
    }
}

/// A submission's row as the browser renders it.
#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    score: String,
    lost: BTreeSet<String>,
}

/// The rows in the order shown.
fn rows(browser: &Browser) -> Vec<Row> {
    let rows = browser.execute(
        "return Array.from(document.querySelectorAll('#rows > details')).map(d => ({
           id: d.querySelector('.id').innerText,
           score: d.querySelector('.score').innerText,
           lost: Array.from(d.querySelectorAll('.lost code')).map(c => c.innerText),
         }));",
        json!([]),
    );
    serde_json::from_value(rows).expect("rows")
}

/// `8/10` → 8.
fn points(score: &str) -> u32 {
    score.split('/').next().unwrap().parse().unwrap()
}

/// A bar of the histogram as rendered.
#[derive(Debug, Deserialize)]
struct Bar {
    scores: String,
    count: usize,
    height: f64,
}

/// A check of the ranking as rendered.
#[derive(Debug, Deserialize)]
struct Ranked {
    check: String,
    not_passed: usize,
    reason: String,
}

/// Every submission is a row with its id, its score and exactly the checks its fixture
/// fails; the histogram has a bar per score whose counts are the rows'; mean, median and
/// full marks are the rows'; the checks are ranked by how many rows lost them, each with a
/// reason.
#[rstest]
#[case::serv_simple("serv_simple")]
#[case::serv_tcp("serv_tcp")]
fn page_shows_every_submission_and_how_the_class_did(#[case] lab: &str) {
    let class = class(lab);
    let browser = Browser::start();
    browser.open(&class.page);
    let rows = rows(&browser);
    let max = class.max_score;

    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let want: Vec<&str> = class.expected.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, want);
    for (row, (id, must_fail)) in rows.iter().zip(&class.expected) {
        assert_eq!(&row.lost, must_fail, "{id}: {row:?}");
        if must_fail.is_empty() {
            assert_eq!(row.score, format!("{max}/{max}"), "{id}");
        } else {
            assert!(points(&row.score) < max, "{id}: {row:?}");
        }
    }

    let bars: Vec<Bar> = serde_json::from_value(browser.execute(
        "return Array.from(document.querySelectorAll('svg.histogram rect.bar')).map(b => ({
           scores: b.dataset.scores, count: Number(b.dataset.count),
           height: b.getBoundingClientRect().height }));",
        json!([]),
    ))
    .unwrap();
    assert_eq!(bars.len() as u32, max + 1, "a bar per score: {bars:?}");
    for (score, bar) in bars.iter().enumerate() {
        let scored = rows
            .iter()
            .filter(|r| points(&r.score) == score as u32)
            .count();
        assert_eq!(
            (bar.scores.as_str(), bar.count),
            (score.to_string().as_str(), scored),
            "{bars:?}"
        );
        assert_eq!(bar.height > 0.0, scored > 0, "{bar:?}");
    }

    let mut scores: Vec<f64> = rows.iter().map(|r| f64::from(points(&r.score))).collect();
    scores.sort_by(f64::total_cmp);
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let n = scores.len();
    let median = (scores[(n - 1) / 2] + scores[n / 2]) / 2.0;
    let full = class.expected.iter().filter(|(_, f)| f.is_empty()).count();
    let figure = |id: &str| browser.text(&browser.find(id));
    let shown_mean: f64 = figure("#mean").split(' ').next().unwrap().parse().unwrap();
    assert!(
        (shown_mean - mean).abs() < 0.006,
        "mean {shown_mean} {mean}"
    );
    assert_eq!(figure("#median"), format!("{median} / {max}"));
    assert_eq!(figure("#full-marks"), format!("{full} of {n}"));

    let ranking: Vec<Ranked> = serde_json::from_value(browser.execute(
        "return Array.from(document.querySelectorAll('ol.ranking > li')).map(li => ({
           check: li.dataset.check, not_passed: Number(li.dataset.notPassed),
           reason: li.querySelector('.reason').innerText }));",
        json!([]),
    ))
    .unwrap();
    let mut lost_most: Vec<(usize, String)> = lab_checks(lab)
        .into_iter()
        .map(|(check, _)| {
            (
                rows.iter().filter(|r| r.lost.contains(&check)).count(),
                check,
            )
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    // Most first; ties in the lab's order.
    lost_most.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let shown: Vec<(usize, String)> = ranking
        .iter()
        .map(|r| (r.not_passed, r.check.clone()))
        .collect();
    assert_eq!(shown, lost_most);
    for r in &ranking {
        assert!(r.reason.trim().len() > 10, "{r:?}");
    }
}

/// Clicking a row opens it onto that submission's checks: what was hidden is now shown,
/// with every check of the lab and, for a failed one, expected, got, why and a transcript.
#[rstest]
#[case::serv_simple("serv_simple", "crash_after_accept")]
#[case::serv_tcp("serv_tcp", "lockstep_recv_first")]
fn a_row_opens_onto_its_checks(#[case] lab: &str, #[case] id: &str) {
    let class = class(lab);
    let browser = Browser::start();
    browser.open(&class.page);
    let row = browser.find(&format!("details.sub[data-id='{id}']"));
    let detail = &browser.find_in(&row, ".detail")[0];
    assert!(!browser.displayed(detail), "{id} is open before a click");
    browser.click(&browser.find_in(&row, "summary")[0]);
    assert!(browser.displayed(detail), "{id} did not open");
    assert!(browser.height(detail) > 100.0, "{id} opened empty");
    let checks = browser.find_in(detail, "table.checks tr[data-check]");
    assert_eq!(checks.len(), lab_checks(lab).len());
    let shown = browser.text(detail);
    for word in ["expected", "got", "why", "failed", "passed", "+ 0."] {
        assert!(shown.contains(word), "{id}: no {word:?} in {shown}");
    }
    let (_, must_fail) = class.expected.iter().find(|(i, _)| i == id).unwrap();
    for check in checks {
        let name = browser.attribute(&check, "data-check").unwrap();
        let passed = !browser.find_in(&check, ".passed").is_empty();
        assert_eq!(passed, !must_fail.contains(&name), "{id} {name}");
    }
}

/// Clicking a heading sorts the rows by it, and again the other way.
#[test]
fn headings_sort_the_rows() {
    let browser = Browser::start();
    browser.open(&class("serv_tcp").page);
    let order = |key: &str| -> Vec<String> {
        serde_json::from_value(browser.execute(
            "return Array.from(document.querySelectorAll('#rows > details')).map(d => d.dataset[arguments[0]]);",
            json!([key]),
        ))
        .unwrap()
    };
    let numbers =
        |key: &str| -> Vec<u32> { order(key).iter().map(|v| v.parse().unwrap()).collect() };
    let sorted = |mut v: Vec<u32>| {
        v.sort();
        v
    };
    let scores = numbers("score");
    assert_ne!(
        scores,
        sorted(scores.clone()),
        "in order of id, scores are not sorted"
    );

    browser.click(&browser.find("button[data-sort='score']"));
    let ascending = numbers("score");
    assert_eq!(ascending, sorted(scores.clone()));
    browser.click(&browser.find("button[data-sort='score']"));
    let descending = numbers("score");
    assert_eq!(
        descending,
        sorted(scores).into_iter().rev().collect::<Vec<_>>()
    );

    browser.click(&browser.find("button[data-sort='lost']"));
    let lost = numbers("lost");
    assert_eq!(lost, sorted(lost.clone()));

    browser.click(&browser.find("button[data-sort='id']"));
    let ids = order("id");
    let mut want = ids.clone();
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(
        browser.attribute(&browser.find("button[data-sort='id']"), "data-dir"),
        Some("asc".into())
    );
}

/// The page is one file: its style imports nothing, no element of it points anywhere, and
/// the browser fetched nothing loading it.
#[test]
fn page_fetches_nothing() {
    for lab in LABS {
        let html = std::fs::read_to_string(&class(lab).page).unwrap();
        let style = html
            .split("<style>")
            .nth(1)
            .unwrap()
            .split("</style>")
            .next()
            .unwrap();
        assert!(
            !style.contains("url(") && !style.contains("@import"),
            "{lab}"
        );
        assert!(
            html.contains("default-src 'none'"),
            "{lab}: no policy against fetching"
        );
        let browser = Browser::start();
        browser.open(&class(lab).page);
        let pointing = browser.execute(
            "return Array.from(document.querySelectorAll('[src], [href], link, iframe, object, embed, img')).map(e => e.outerHTML);",
            json!([]),
        );
        assert_eq!(pointing, json!([]), "{lab}");
        let fetched = browser.execute(
            "return performance.getEntriesByType('resource').map(r => r.name);",
            json!([]),
        );
        assert_eq!(fetched, json!([]), "{lab}");
    }
}

/// The background and text colours of the page as rendered: ((r, g, b), (r, g, b)).
fn colours(browser: &Browser) -> ((f64, f64, f64), (f64, f64, f64)) {
    let found = browser.execute(
        "const s = getComputedStyle(document.body);
         return [s.backgroundColor, s.color].map(c => c.match(/[\\d.]+/g).slice(0, 3).map(Number));",
        json!([]),
    );
    let rgb = |v: &serde_json::Value| {
        let c: Vec<f64> = serde_json::from_value(v.clone()).unwrap();
        (c[0], c[1], c[2])
    };
    (rgb(&found[0]), rgb(&found[1]))
}

/// 0 for black, 1 for white.
fn lightness((r, g, b): (f64, f64, f64)) -> f64 {
    (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0
}

/// Nothing shown on the page reaches past the screen, `width` pixels wide (a row open
/// included): no sideways scrolling. (The page's own width would not do: it grows with
/// what overflows.)
fn assert_fits(browser: &Browser, width: u32) {
    let wider: Vec<String> = serde_json::from_value(browser.execute(
        "return Array.from(document.querySelectorAll('body *'))
           .filter(e => e.checkVisibility() && e.getBoundingClientRect().right > arguments[0] + 0.5)
           .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right);",
        json!([width]),
    ))
    .unwrap();
    assert!(wider.is_empty(), "wider than {width} px: {wider:?}");
}

/// Light by default, dark for a reader who prefers it, light on paper whatever the screen,
/// and on a phone nothing wider than the screen; a screenshot of each (a row open) goes to
/// target/ for people to look at.
#[test]
fn light_dark_print_and_phone() {
    let class = class("serv_tcp");
    let browser = Browser::start();
    browser.open(&class.page);
    browser.click(&browser.find("details.sub[data-id='lockstep_input_first'] > summary"));
    let full_page = |width: u32| {
        browser.viewport(width, 900, false);
        let height = browser
            .execute("return document.documentElement.scrollHeight;", json!([]))
            .as_u64()
            .unwrap();
        browser.viewport(width, height.min(4000) as u32, false);
    };

    for (scheme, file) in [
        ("light", "socklab-class-report.png"),
        ("dark", "socklab-class-report-dark.png"),
    ] {
        browser.emulate(scheme, "screen");
        let (background, text) = colours(&browser);
        let (bg, fg) = (lightness(background), lightness(text));
        match scheme {
            "light" => assert!(bg > 0.9 && fg < 0.2, "{scheme}: {background:?} {text:?}"),
            _ => assert!(bg < 0.15 && fg > 0.8, "{scheme}: {background:?} {text:?}"),
        }
        full_page(1200);
        assert_fits(&browser, 1200);
        browser.screenshot(&screenshot_path(file));
    }

    browser.emulate("dark", "print");
    let (background, text) = colours(&browser);
    assert!(
        lightness(background) > 0.99 && lightness(text) < 0.05,
        "print: {background:?} {text:?}"
    );

    browser.emulate("light", "screen");
    browser.viewport(390, 844, true);
    assert_fits(&browser, 390);
    browser.execute(
        "document.querySelector('details.sub[open]').scrollIntoView();",
        json!([]),
    );
    browser.screenshot(&screenshot_path("socklab-class-report-phone.png"));
}

/// A serv_simple program that, once the client's message has come, prints `<script>`, an
/// escape sequence and NUL on its screen, sends them to the client and writes them on
/// stderr, then exits 3: `prints_message` fails with them. (It waits for the message so
/// that it is still running when that check begins.)
const NOISY: &str = r#"import socket, sys
s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen()
c, a = s.accept()
print('connection from', a, flush=True)
c.recv(1024)
junk = b'<script>alert(1)</script>\x1b[31mred\x00\n'
sys.stdout.buffer.write(junk); sys.stdout.flush()
c.sendall(junk)
sys.stderr.buffer.write(b'oops ' + junk); sys.stderr.flush()
sys.exit(3)
"#;

/// What a student's program printed, and a folder name with markup and an escape in it,
/// appear on the page as text (beside them, a folder without the program is a row saying
/// so): no raw control byte and no markup of theirs in the file
/// (written to stdout without --output), no script but the page's own in the browser, no
/// alert, and the bytes readable in the opened row.
#[test]
fn student_bytes_show_as_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("noisy")).unwrap();
    std::fs::write(dir.path().join("noisy/serv_simple.py"), NOISY).unwrap();
    std::fs::create_dir(dir.path().join("nothing")).unwrap();
    let odd_id = "<b onmouseover=alert(1)>\x1b[1m";
    std::fs::create_dir(dir.path().join(odd_id)).unwrap();
    std::fs::copy(
        "fixtures/serv_simple/pass/lesson_serv_simple.py",
        dir.path().join(odd_id).join("serv_simple.py"),
    )
    .unwrap();
    let output = socklab()
        .args(["grade", "serv_simple"])
        .arg(dir.path())
        .args(["--format", "html", "--", "python3", "{dir}/serv_simple.py"])
        .output()
        .expect("run socklab");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(common::exit_code(&output), 1, "{stderr}");
    let html = output.stdout;
    assert_no_raw_controls(&html, "the HTML report");
    let text = String::from_utf8(html.clone()).unwrap();
    assert_eq!(
        text.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(
        !text.contains("<b "),
        "the folder's markup reached the page"
    );
    assert!(
        text.contains(r"&lt;script&gt;alert(1)&lt;/script&gt;\x1b[31mred\x00"),
        "the program's bytes are not on the page"
    );
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();

    let browser = Browser::start();
    browser.open(&page);
    let scripts = browser.execute("return document.scripts.length;", json!([]));
    assert_eq!(scripts, 1);
    let handlers = browser.execute(
        "return document.querySelectorAll('[onmouseover], b').length;",
        json!([]),
    );
    assert_eq!(handlers, 0);
    let ids: Vec<String> = rows(&browser).into_iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [r"<b onmouseover=alert(1)>\x1b[1m", "noisy", "nothing"]
    );
    let nothing = browser.text(&browser.find("details.sub[data-id='nothing'] .lost"));
    assert_eq!(nothing, "not graded: nothing has no serv_simple.py");
    browser.click(&browser.find("details.sub[data-id='noisy'] > summary"));
    let shown = browser.text(&browser.find("details.sub[data-id='noisy'] .detail"));
    assert!(
        shown.contains(r"b'<script>alert(1)</script>\x1b[31mred\x00\n'"),
        "{shown}"
    );
    assert_eq!(browser.alert(), None, "a student's script ran");
    browser.viewport(1000, 1400, false);
    browser.execute(
        "document.querySelector('details.sub[open]').scrollIntoView();",
        json!([]),
    );
    browser.screenshot(&screenshot_path("socklab-class-report-escaped.png"));
}
