//! `socklab grade`: a whole class against one lab. Every folder directly under the class
//! folder is one submission, its id the folder's name (hidden folders and plain files are
//! not submissions). The program is the file each folder has (`serv_tcp.py`), run by
//! [`crate::submission`]'s rules as `socklab check` runs it, or a command in which `{dir}`
//! becomes the folder's absolute path.
//! Up to `jobs` submissions are graded at once, each through [`crate::runner::grade`] in a network
//! and PID namespace of its own, so programs with the lesson's port written in them never
//! meet.
//!
//! A submission with nothing to run gets a zero with the reason, never an error for the
//! class: its program cannot be found or run, its `.c` file does not compile, or an argument
//! beginning with `{dir}` names a file the folder lacks. Its report has every check not
//! reached, with that reason.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::program::Program;
use crate::report::{ClassEvent, ClassReport, Outcome, Submission, Verdict};
use crate::check;
use crate::runner::Config;
use crate::script::Lab;
use crate::not_run::LabInfo;
use crate::submission::{self, CompileError, Prepared};
use crate::unsubmitted::Why;

/// The placeholder in a program's arguments for the submission's folder.
pub const DIR_PLACEHOLDER: &str = "{dir}";

/// What to grade and how.
pub struct ClassRun {
    /// The lab, with the rubric's points (and the port) already in it.
    pub lab: Lab,
    /// The class folder: one folder per submission under it.
    pub dir: PathBuf,
    pub program: ClassProgram,
    pub jobs: usize,
    pub config: Config,
}

/// What each submission's program is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassProgram {
    /// The file each folder has (a path inside it), run as `socklab check LAB FILE` runs it.
    File(PathBuf),
    /// A command line with `{dir}` (and maybe `{port}`) in it.
    Command(Vec<String>),
}

impl ClassProgram {
    /// From `socklab grade LAB DIR FILE` or `socklab grade LAB DIR -- CMD {dir}`; a FILE
    /// may begin with `{dir}/`, as in the command form.
    pub fn from_args(file: Option<&str>, command: &[String]) -> Result<ClassProgram> {
        match (file, command.is_empty()) {
            (Some(file), true) => {
                let inside = file
                    .strip_prefix(DIR_PLACEHOLDER)
                    .map_or(file, |rest| rest.trim_start_matches('/'));
                let path = PathBuf::from(inside);
                if inside.is_empty()
                    || path.is_absolute()
                    || path.components().any(|c| c == std::path::Component::ParentDir)
                {
                    return Err(Error::Usage(format!(
                        "'{file}' should be the file's path inside each submission folder, e.g. serv_tcp.py"
                    )));
                }
                Ok(ClassProgram::File(path))
            }
            (None, false) => {
                if !command.iter().any(|a| a.contains(DIR_PLACEHOLDER)) {
                    return Err(Error::Usage(format!(
                        "the program's arguments should name the submission's folder as {DIR_PLACEHOLDER}, e.g. -- python3 {DIR_PLACEHOLDER}/serv_simple.py"
                    )));
                }
                Ok(ClassProgram::Command(command.to_vec()))
            }
            (Some(file), false) => Err(Error::Usage(format!(
                "give the program as the file each submission has or as a command after --, not both: e.g. socklab grade serv_tcp submissions/ {file}"
            ))),
            (None, true) => Err(Error::Usage(
                "name the file each submission has: socklab grade serv_tcp submissions/ serv_tcp.py (or a command after --: -- python3 {dir}/serv_tcp.py)".into(),
            )),
        }
    }
}

impl ClassRun {
    /// The lab, for one submission's run.
    fn lab(&self) -> Result<Lab> {
        Ok(self.lab.clone())
    }
}

/// The submission folders under `dir`, in order of id.
pub fn submissions(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let read = |e| Error::io(format!("reading the class folder {}", dir.display()))(e);
    let dir = dir.canonicalize().map_err(read)?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let id = entry.file_name().to_string_lossy().into_owned();
        if id.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        found.push((id, entry.path()));
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no submission folders: put each student's files in a folder of their own under it",
            dir.display()
        )));
    }
    Ok(found)
}

/// Grades every submission, calling `on_event` on this thread as each one ends.
pub fn grade_class(run: &ClassRun, on_event: &mut dyn FnMut(&ClassEvent)) -> Result<ClassReport> {
    let started = Instant::now();
    // Refuses a bad lab or rubric before anything runs.
    let lab = LabInfo::of(&run.lab()?);
    let folders = submissions(&run.dir)?;
    let total = folders.len();
    let jobs = run.jobs.clamp(1, total);
    on_event(&ClassEvent::Started {
        lab: lab.name.clone(),
        dir: run.dir.display().to_string(),
        total,
        jobs,
    });

    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut graded = Vec::with_capacity(total);
    std::thread::scope(|scope| {
        for worker in 0..jobs {
            let tx = tx.clone();
            let (next, folders, lab) = (&next, &folders, &lab);
            std::thread::Builder::new()
                .name(format!("grade worker {worker}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((id, folder)) = folders.get(i) else {
                            break;
                        };
                        if tx.send(grade_one(run, lab, id, folder)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(Error::io("starting a grading worker"))?;
        }
        drop(tx);
        for submission in rx {
            graded.push(submission);
            on_event(&ClassEvent::SubmissionFinished {
                submission: graded[graded.len() - 1].clone(),
                done: graded.len(),
                total,
            });
        }
        Ok::<(), Error>(())
    })?;
    graded.sort_by(|a, b| a.id.cmp(&b.id));
    let class = ClassReport {
        checks: lab
            .checks
            .iter()
            .map(|c| (c.id.clone(), c.points))
            .collect(),
        lab: lab.name,
        submissions: graded,
        jobs,
        duration: started.elapsed(),
    };
    on_event(&ClassEvent::Finished(class.clone()));
    Ok(class)
}

/// Grades one folder. Whatever happens becomes this submission's verdict.
fn grade_one(run: &ClassRun, lab: &LabInfo, id: &str, folder: &Path) -> Submission {
    let started = Instant::now();
    let not_run = |verdict: Verdict, reason: &str| Submission {
        id: id.to_string(),
        verdict,
        report: lab.not_run(Vec::new(), started.elapsed(), |_| Outcome::NotReached {
            reason: reason.to_string(),
        }),
    };
    let program = match program_in(run, id, folder) {
        Ok(program) => program,
        Err(reason) => {
            return not_run(
                Verdict::NoProgram {
                    reason: reason.clone(),
                },
                &reason,
            );
        }
    };
    // Each program sees its own folder of the class, and no other.
    let mut config = run.config.clone();
    config
        .confinement
        .hide
        .extend(folder.parent().map(Path::to_path_buf));
    config.confinement.show.push(folder.to_path_buf());
    let graded = run
        .lab()
        .and_then(|lab| check::grade_prepared(program, lab, config, &mut |_| {}));
    match graded {
        Ok(report) => Submission {
            id: id.to_string(),
            verdict: Verdict::Graded,
            report,
        },
        // A file the compiler refused is the student's: a zero with its first error.
        Err(e) => match CompileError::of(&e) {
            Some(error) => {
                let reason = error.summary();
                not_run(
                    Verdict::NoProgram {
                        reason: reason.clone(),
                    },
                    &reason,
                )
            }
            None => {
                let reason = e.to_string();
                not_run(
                    Verdict::HarnessError {
                        reason: reason.clone(),
                    },
                    &reason,
                )
            }
        },
    }
}

/// The submission's program (or commands), ready to run, or why there is none to run.
fn program_in(run: &ClassRun, id: &str, folder: &Path) -> Result<Prepared, String> {
    match &run.program {
        ClassProgram::File(file) => {
            let path = folder.join(file);
            match submission::prepare(&path, &run.lab) {
                Ok(Prepared::NotHandedIn(absent)) => Err(match absent.why {
                    Why::Missing { .. } => format!("{id} has no {}", file.display()),
                    Why::Empty => format!("{id}'s {} is empty", file.display()),
                }),
                Ok(prepared) => Ok(prepared),
                Err(e) => Err(e.to_string()),
            }
        }
        ClassProgram::Command(argv) => command_in(argv, id, folder).map(Prepared::Ready),
    }
}

/// The command with `{dir}` filled in, once the files it names under `{dir}` are there.
fn command_in(argv: &[String], id: &str, folder: &Path) -> Result<Program, String> {
    let dir = folder.display().to_string();
    for arg in argv.iter().filter(|a| a.starts_with(DIR_PLACEHOLDER)) {
        let path = arg.replacen(DIR_PLACEHOLDER, &dir, 1);
        if !Path::new(&path).exists() {
            let name = arg[DIR_PLACEHOLDER.len()..].trim_start_matches('/');
            return Err(format!("{id} has no {name}"));
        }
    }
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.replace(DIR_PLACEHOLDER, &dir))
        .collect();
    Program::resolve(&argv).map_err(|e| e.to_string())
}
