//! `socklab gradescope LABS_CONF SUBMISSION --output results.json`: what Gradescope's
//! `run_autograder` calls for each submission. Every lab `labs.conf` names is graded
//! against the student's file as `socklab check LAB FILE` would (from the submission folder,
//! so reports name the file as the student did), and the labs' reports become one
//! results.json ([`crate::reporters::gradescope::merged`]). A lab that cannot be graded
//! (its file missing, or socklab's own trouble) still lists its checks, every one lost with
//! the reason, so the total can never count without it.
//!
//! `labs.conf` has one lab a line: the lab, the file (a path inside the submission), and
//! optionally a rubric (a path relative to `labs.conf`'s folder); `#` starts a comment.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::check::{self, CheckTarget, Subject};
use crate::error::{Error, Result};
use crate::labs;
use crate::report::Outcome;
use crate::reporters::gradescope::{self, Part, Visibilities};
use crate::rubric::Rubric;
use crate::runner::Config;
use crate::script::Lab;
use crate::submission::LabInfo;

/// One line of `labs.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabLine {
    pub lab: String,
    pub file: PathBuf,
    pub rubric: Option<PathBuf>,
}

/// Reads `labs.conf`: an unknown lab, a line without a file, a file outside the
/// submission, a rubric that is not there are errors naming the line.
pub fn read_config(path: &Path) -> Result<Vec<LabLine>> {
    let text = std::fs::read_to_string(path).map_err(Error::io(format!("reading {}", path.display())))?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut lines = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let at = |what: String| Error::Usage(format!("{}:{}: {what}", path.display(), number + 1));
        let words: Vec<&str> = line.split('#').next().unwrap_or("").split_whitespace().collect();
        let (lab, file, rubric) = match words[..] {
            [] => continue,
            [lab, file] => (lab, file, None),
            [lab, file, rubric] => (lab, file, Some(rubric)),
            [_] => return Err(at("a lab needs the file its program is in: LAB FILE [RUBRIC]".into())),
            _ => return Err(at(format!("too many words: LAB FILE [RUBRIC], got {}", words.join(" ")))),
        };
        labs::find(lab).map_err(|e| at(e.to_string()))?;
        let file = PathBuf::from(file);
        if file.is_absolute() || file.components().any(|c| c == std::path::Component::ParentDir) {
            return Err(at(format!(
                "{} is not a path inside the submission",
                file.display()
            )));
        }
        let rubric = rubric.map(|r| folder.join(r));
        if let Some(rubric) = &rubric
            && !rubric.is_file()
        {
            return Err(at(format!("no rubric at {}", rubric.display())));
        }
        lines.push(LabLine {
            lab: lab.to_string(),
            file,
            rubric,
        });
    }
    if lines.is_empty() {
        return Err(Error::Usage(format!("{} names no lab", path.display())));
    }
    Ok(lines)
}

/// What grading a submission came to: the results.json and how it went.
pub struct Graded {
    pub results: serde_json::Value,
    /// Every lab at full marks.
    pub full_marks: bool,
    /// Labs socklab could not grade, with why (each counted as lost in the results).
    pub not_graded: Vec<String>,
}

/// Grades every lab of `lines` against the files in `submission`.
pub fn grade(lines: &[LabLine], submission: &Path, config: &Config) -> Result<Graded> {
    let mut reports = Vec::new();
    let mut notes = Vec::new();
    let mut not_graded = Vec::new();
    for line in lines {
        let (lab, visibility) = lab_with_rubric(line)?;
        let started = Instant::now();
        let info = LabInfo::of(&lab);
        let lost = |reason: String| {
            info.not_run(vec![line.file.display().to_string()], started.elapsed(), |_| {
                Outcome::NotReached {
                    reason: reason.clone(),
                }
            })
        };
        let report = if !submission.join(&line.file).is_file() {
            let note = format!(
                "{}: {} was not found in your submission, so every check of {} failed.",
                line.lab,
                line.file.display(),
                line.lab
            );
            notes.push(note.clone());
            lost(note)
        } else {
            runnable(&submission.join(&line.file));
            let target = CheckTarget {
                lab: line.lab.clone(),
                subject: Subject::File(line.file.clone()),
            };
            let name = lab.name.clone();
            match in_folder(submission, || check::grade(&target, lab, config.clone(), &mut |_| {})) {
                Ok(report) => report,
                Err(e) => {
                    let note = format!("{name}: socklab could not grade it: {e}");
                    not_graded.push(note.clone());
                    notes.push(note.clone());
                    lost(note)
                }
            }
        };
        reports.push((report, visibility));
    }
    let parts: Vec<Part> = reports
        .iter()
        .map(|(report, visibility)| Part { report, visibility })
        .collect();
    Ok(Graded {
        results: gradescope::merged(&parts, &notes),
        full_marks: reports.iter().all(|(r, _)| r.full_marks()),
        not_graded,
    })
}

/// Gradescope's uploads lose the run bit: a file that is neither `.py` nor `.c` (run as it
/// is) gets it back.
fn runnable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let by_interpreter = matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("py" | "c")
    );
    if let Ok(meta) = std::fs::metadata(file)
        && !by_interpreter
        && meta.permissions().mode() & 0o111 == 0
    {
        let mode = meta.permissions().mode() | 0o111;
        let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode));
    }
}

/// The lab of `line` with its rubric's points, and how its results are shown.
fn lab_with_rubric(line: &LabLine) -> Result<(Lab, Visibilities)> {
    let mut lab = labs::find(&line.lab)?;
    let mut visibility = Visibilities::default();
    if let Some(path) = &line.rubric {
        let rubric = Rubric::load(path)?;
        rubric.apply(&mut lab)?;
        visibility = rubric.visibility().clone();
    }
    Ok((lab, visibility))
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
