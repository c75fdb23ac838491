//! `socklab gradescope LABS_CONF SUBMISSION --output results.json`: what Gradescope's
//! `run_autograder` calls for each submission. Every lab `labs.conf` names is graded
//! against the student's file as `socklab check LAB FILE` would (from the submission folder,
//! so reports name the file as the student did), and the labs' reports become one
//! results.json ([`crate::reporters::gradescope::results`]).
//!
//! `labs.conf` has one lab a line: the lab, the file (a path inside the submission), and
//! optionally a rubric (a path relative to `labs.conf`'s folder); `#` starts a comment.
//!
//! Whose mistake decides what happens. The instructor's (a line of `labs.conf` or a rubric
//! that is wrong) is found before anything is graded, and stops the autograder: no
//! results.json, so Gradescope says the autograder failed rather than giving every student
//! a zero. The student's (a file missing) is that lab's zero, said in their words. socklab's
//! own trouble with one lab still lists the lab's checks, every one lost, so the total can
//! never count without it; students read that it could not be graded, staff read why.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use crate::check::{self, CheckTarget, Subject};
use crate::error::{Error, Result};
use crate::labs;
use crate::report::{Notice, Outcome, Report};
use crate::reporters::gradescope::{self, Part, Results, Visibilities, Visibility};
use crate::rubric::Rubric;
use crate::runner::Config;
use crate::script::Lab;
use crate::submission::{LabInfo, RunBy};

/// One line of `labs.conf`, checked: the lab with its rubric's points, how Gradescope shows
/// it, and the file students submit it in.
#[derive(Debug, Clone)]
pub struct LabLine {
    pub lab: Lab,
    pub visibility: Visibilities,
    /// A path inside the submission.
    pub file: PathBuf,
}

/// Reads `labs.conf` and every rubric it names. Each of the instructor's mistakes is an
/// error naming the file, the line as written, what is wrong and what to write instead:
/// a line that is not `LAB FILE [RUBRIC]`, an unknown lab, a lab named twice, a file
/// outside the submission, a rubric that is not there or does not fit its lab.
pub fn read_config(path: &Path) -> Result<Vec<LabLine>> {
    let text = std::fs::read_to_string(path).map_err(Error::io(format!("reading {}", path.display())))?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut lines = Vec::new();
    // Each lab's name, and the line it is on.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let at = |what: String| {
            Error::Usage(format!(
                "{}:{number}: `{}`: {what}",
                path.display(),
                line.trim()
            ))
        };
        let words: Vec<&str> = line.split('#').next().unwrap_or("").split_whitespace().collect();
        let (name, file, rubric) = match words[..] {
            [] => continue,
            [lab, file] => (lab, file, None),
            [lab, file, rubric] => (lab, file, Some(rubric)),
            [lab] => {
                return Err(at(format!(
                    "a lab needs the file students submit its program in: LAB FILE [RUBRIC], e.g. {lab} {lab}.py"
                )));
            }
            _ => return Err(at("too many words: write LAB FILE [RUBRIC], one lab a line".into())),
        };
        let mut lab = labs::find(name).map_err(|_| at(unknown_lab(name)))?;
        if let Some(earlier) = seen.insert(lab.name.clone(), number) {
            return Err(at(format!(
                "{} is graded on line {earlier} already: one line a lab",
                lab.name
            )));
        }
        let file = PathBuf::from(file);
        if file.is_absolute() || file.components().any(|c| c == Component::ParentDir) {
            return Err(at(format!(
                "{} is not a path inside the submission: write the file as students name it, e.g. {}.py",
                file.display(),
                lab.name
            )));
        }
        if file.extension().is_some_and(|e| e == "toml") {
            return Err(at(format!(
                "{} is a rubric, where the file students submit goes: write LAB FILE RUBRIC, e.g. {} {}.py {}",
                file.display(),
                lab.name,
                lab.name,
                file.display()
            )));
        }
        let mut visibility = Visibilities::default();
        if let Some(rubric) = rubric {
            let at_rubric = folder.join(rubric);
            if !at_rubric.is_file() {
                return Err(at(format!(
                    "no rubric at {}: put it in the autograder's zip there (make_zip.sh packs grading/rubrics as rubrics/), or leave the rubric out",
                    at_rubric.display()
                )));
            }
            let loaded = Rubric::load(&at_rubric).map_err(|e| at(e.to_string()))?;
            loaded.apply(&mut lab).map_err(|e| at(e.to_string()))?;
            visibility = loaded.visibility().clone();
        }
        lines.push(LabLine {
            lab,
            visibility,
            file,
        });
    }
    if lines.is_empty() {
        return Err(Error::Usage(format!(
            "{} names no lab: write one a line, LAB FILE [RUBRIC], e.g. serv_simple serv_simple.py",
            path.display()
        )));
    }
    Ok(lines)
}

/// Why `name` is no lab, with the lab it may mean.
fn unknown_lab(name: &str) -> String {
    let all = labs::all();
    let near = all
        .iter()
        .flat_map(|lab| std::iter::once(&lab.name).chain(&lab.aliases))
        .map(|known| (strsim::levenshtein(known, name), known))
        .filter(|(distance, _)| *distance <= 3)
        .min();
    let meant = near.map_or(String::new(), |(_, known)| format!("; did you mean {known}?"));
    format!("there is no lab {name}{meant} (the labs: {})", labs::names())
}

/// When Gradescope shows run_autograder's stdout to students, as the labs' rubrics say.
pub fn stdout_visibility(lines: &[LabLine]) -> Visibility {
    gradescope::stdout_visibility(lines.iter().map(|l| &l.visibility))
}

/// What grading a submission came to.
pub struct Graded {
    labs: Vec<(Report, Visibilities)>,
    /// Labs socklab could not grade, with why: nobody's grade, so no results are written.
    pub not_graded: Vec<String>,
}

impl Graded {
    /// Every lab at full marks.
    pub fn full_marks(&self) -> bool {
        self.labs.iter().all(|(r, _)| r.full_marks())
    }

    /// The results.json, and the staff's account; `stderr` is what socklab said meanwhile,
    /// where it was kept from students.
    pub fn results(&self, stderr: &str) -> Results {
        let parts: Vec<Part> = self
            .labs
            .iter()
            .map(|(report, visibility)| Part { report, visibility })
            .collect();
        gradescope::results(&parts, stderr)
    }
}

/// Grades every lab of `lines` against the files in `submission`.
pub fn grade(lines: &[LabLine], submission: &Path, config: &Config) -> Graded {
    let mut labs = Vec::new();
    let mut not_graded = Vec::new();
    for line in lines {
        let started = Instant::now();
        let lab = &line.lab;
        let lost = |reason: &str, notices: Vec<Notice>| {
            let mut report = LabInfo::of(lab).not_run(
                vec![line.file.display().to_string()],
                started.elapsed(),
                |_| Outcome::NotReached {
                    reason: reason.to_string(),
                },
            );
            report.notices = notices;
            report
        };
        let report = if !submission.join(&line.file).is_file() {
            let missing = format!(
                "{} was not found in your submission{}",
                line.file.display(),
                submitted(submission)
            );
            lost(&missing, vec![Notice::Program(missing.clone())])
        } else {
            runnable(&submission.join(&line.file));
            let target = CheckTarget {
                lab: lab.name.clone(),
                subject: Subject::File(line.file.clone()),
            };
            let graded = in_folder(submission, || {
                check::grade(&target, lab.clone(), config.clone(), &mut |_| {})
            });
            match graded {
                Ok(report) => report,
                Err(e) => {
                    // No results will be written: see `Graded::not_graded`.
                    not_graded.push(format!("{}: {e}", lab.name));
                    continue;
                }
            }
        };
        labs.push((report, line.visibility.clone()));
    }
    Graded { labs, not_graded }
}

/// What the submission holds, for a student whose file was not found: `(it has: a.py,
/// src/)`, or that it is empty.
fn submitted(submission: &Path) -> String {
    const SHOWN: usize = 10;
    let mut names: Vec<String> = std::fs::read_dir(submission)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if e.path().is_dir() { format!("{name}/") } else { name }
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    match names.len() {
        0 => " (it is empty)".to_string(),
        n if n > SHOWN => format!(" (it has: {}, and {} more)", names[..SHOWN].join(", "), n - SHOWN),
        _ => format!(" (it has: {})", names.join(", ")),
    }
}

/// Gradescope's uploads lose the run bit: a file that runs as it is (neither `.py` nor
/// `.c`: see [`RunBy`]) gets it back.
fn runnable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(file)
        && RunBy::of(file) == RunBy::Itself
        && meta.permissions().mode() & 0o111 == 0
    {
        let mode = meta.permissions().mode() | 0o111;
        let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode));
    }
}

/// Runs `work` with `folder` as the working folder, then goes back.
fn in_folder<T>(folder: &Path, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let back = std::env::current_dir().map_err(Error::io("finding the working folder"))?;
    std::env::set_current_dir(folder)
        .map_err(Error::io(format!("entering {}", folder.display())))?;
    let result = work();
    std::env::set_current_dir(&back)
        .map_err(Error::io(format!("going back to {}", back.display())))?;
    result
}
