//! `socklab export`: the files that follow from the labs, written from the one list of
//! labs, so that a new lab is one lab file and `socklab export` (a test fails while a
//! committed copy is out of date):
//!
//! - `classroom`: GitHub Classroom's workflow, a step per lab
//!   (`grading/github-classroom/classroom.yml`);
//! - `labs-conf`: Gradescope's `labs.conf`, every lab graded from a student's file
//!   (`grading/gradescope/labs.conf`);
//! - `rubric LAB`: a lab's example rubric, every check with its points and what it checks
//!   (`grading/rubrics/LAB.toml`).

use std::fmt::Write;

use crate::script::Lab;

/// The file a student hands in for `lab`: its file of commands (the netcat lab's
/// `activity1.sh`), else `LAB.py`; none for a lab that only grades a program of its own.
pub fn student_file(lab: &Lab) -> Option<String> {
    match (&lab.commands, &lab.default_program) {
        (Some(commands), _) => Some(commands.file.clone()),
        (None, None) => Some(format!("{}.py", lab.name)),
        (None, Some(_)) => None,
    }
}

const CLASSROOM_HEAD: &str = r#"# GitHub Classroom autograding with socklab. Copy this file into the assignment's template
# repository as .github/workflows/classroom.yml, and set SOCKLAB_GIT below to where your
# copy of socklab lives. Each lab step grades one of the student's files: it prints
# socklab's report in the step's log (expected, got, why and the transcript of every lost
# check), adds it to the run's summary page, and hands the result, base64-encoded, to
# GitHub Classroom's reporter, which adds up the points. A file missing or left empty (as
# the template hands it out) is not graded: 0 of its lab's points, and the log says why.
# activity1.sh holds Activity 1's four nc commands, one a line. See grading/README.md.
# Written by `socklab export classroom` from the labs; delete the steps you do not want.
name: Autograding Tests
"on":
  - push
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
env:
  SOCKLAB_GIT: https://github.com/your-org/socklab.git
  SOCKLAB_REF: main
  # The Actions log is no terminal but shows ANSI colour: socklab's report in colour.
  CLICOLOR_FORCE: "1"
jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 20
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Cache socklab
        uses: actions/cache@v4
        with:
          path: |
            ~/.cargo/bin/socklab
            ~/.cargo/.crates.toml
            ~/.cargo/.crates2.json
          key: socklab-${{ runner.os }}-${{ env.SOCKLAB_REF }}
      - name: Build socklab
        run: |
          cargo install --locked --git "$SOCKLAB_GIT" --branch "$SOCKLAB_REF" socklab
          # Ubuntu's AppArmor keeps unprivileged programs out of user namespaces; socklab
          # needs one to give each run its own network, so that port 8000 is always free.
          sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 || true
      # One step per lab, its id the lab. socklab prints its report in the step's log and
      # writes two files from the same run: the result the reporter reads, and a Markdown
      # summary for the run's page. When socklab itself cannot grade a lab (exit 2: its own
      # trouble, or the runner's, never the student's), the step fails with the reason and
      # the reporter never runs: Classroom is given no points at all rather than a zero the
      # student did not earn, or a smaller total. To change points or Gradescope
      # visibility, add `--rubric FILE` after `check LAB`.
"#;

/// GitHub Classroom's workflow: a step per lab, then the reporter over them all.
pub fn classroom(labs: &[Lab]) -> String {
    let mut out = String::from(CLASSROOM_HEAD);
    for lab in labs {
        let name = &lab.name;
        let program = match student_file(lab) {
            Some(file) => format!(" {file}"),
            None => String::new(),
        };
        let _ = write!(
            out,
            r#"      # {name}: {summary}
      - name: {name}
        id: {name}
        run: |
          out="${{RUNNER_TEMP:-/tmp}}/{name}"
          graded=0
          socklab check {name}{program} --also classroom="$out.json" --also markdown="$out.md" || graded=$?
          [ "$graded" -lt 2 ] || {{ echo "::error title={name}::socklab could not grade {name} (see above), so no points are given: this is not the student's mark"; exit 1; }}
          [ -s "$out.json" ] || {{ echo "::error title={name}::socklab wrote no result for {name} (see above)"; exit 1; }}
          cat "$out.md" >>"$GITHUB_STEP_SUMMARY"
          echo "result=$(base64 -w0 "$out.json")" >>"$GITHUB_OUTPUT"
"#,
            summary = lab.summary
        );
    }
    out.push_str(
        "      - name: Autograding Reporter\n        uses: classroom-resources/autograding-grading-reporter@v1\n        env:\n",
    );
    for lab in labs {
        let _ = writeln!(
            out,
            "          {}_RESULTS: \"${{{{ steps.{}.outputs.result }}}}\"",
            lab.name.to_uppercase(),
            lab.name
        );
    }
    let names: Vec<&str> = labs.iter().map(|l| l.name.as_str()).collect();
    let _ = writeln!(out, "        with:\n          runners: {}", names.join(","));
    out
}

/// Gradescope's `labs.conf`: every lab graded from a student's file, with its example rubric.
pub fn labs_conf(labs: &[Lab]) -> String {
    let mut out = String::from(
        "# The labs run_autograder grades, one a line: the lab, the file its program is in (in the\n\
         # student's submission), and optionally a rubric (a path inside the autograder zip).\n\
         # A .py file runs with python3, a .c file is compiled with cc, anything else runs as is;\n\
         # activity1.sh holds Activity 1's four nc commands, one a line. A missing or empty\n\
         # file is that lab's 0.\n\
         # Labs may come in any order (socklab leaves no port in TIME_WAIT between them).\n\
         # Written by `socklab export labs-conf`; delete the lines you do not want.\n\
         #\n\
         # lab          file             rubric\n",
    );
    for lab in labs {
        if let Some(file) = student_file(lab) {
            let _ = writeln!(
                out,
                "{:<14} {:<16} rubrics/{}.toml",
                lab.name, file, lab.name
            );
        }
    }
    out
}

/// An example rubric for `lab`: every check with its points and what it checks, the
/// visibility settings commented out.
pub fn rubric(lab: &Lab) -> String {
    let name = &lab.name;
    let mut out = format!(
        "# Points for {name} (socklab check/grade --rubric FILE). Each line sets one check's\n\
         # points; a check left out keeps the lab's own. 0 = run and reported, but not scored.\n\
         # A name that is not a check of the lab is refused, with the list of its checks.\n\
         lab = \"{name}\"\n\
         # When Gradescope shows each check to students: \"visible\" (the default), \"after_due_date\",\n\
         # \"after_published\" or \"hidden\" (never; a hidden check still counts, though not in the\n\
         # totals students read). A check shown may not need one shown later. Uncomment to change\n\
         # the default, run_autograder's stdout (socklab's account for staff: keep it hidden), or a\n\
         # check's own under [visibility].\n\
         # default_visibility = \"visible\"\n\
         # stdout_visibility = \"hidden\"\n\
         \n\
         [points]\n"
    );
    let lines: Vec<String> = lab
        .checks()
        .map(|c| format!("{} = {}", c.id, c.points))
        .collect();
    let width = lines.iter().map(String::len).max().unwrap_or(0);
    for (line, check) in lines.iter().zip(lab.checks()) {
        let _ = writeln!(out, "{line:<width$} # {}", check.description);
    }
    if let Some(last) = lab.checks().last() {
        let _ = write!(
            out,
            "\n# [visibility]\n# {} = \"after_published\"\n",
            last.id
        );
    }
    out
}
