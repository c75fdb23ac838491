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

mod figures;
mod rows;
mod struggles;

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::report::ClassReport;

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

/// The page's style, light and dark, phone and print.
const STYLE: &str = include_str!("style.css");

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
    figures::overview(class, &mut html);
    struggles::struggles(class, &mut html);
    rows::submissions(class, &mut html);
    let _ = write!(
        html,
        "<footer>socklab {}</footer>\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    html
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
