//! One function per mode of the command line: `labs`, `check`, `grade`, `gradescope`.

use std::io::{self, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anstream::ColorChoice;

use crate::autograder;
use crate::batch::{self, ClassProgram, ClassRun};
use crate::check::{self, CheckTarget, Subject};
use crate::error::{EXIT_CANNOT_GRADE, EXIT_FULL_MARKS, Error, Result, exit_for};
use crate::labs;
use crate::report::{ClassReport, Event, NotGraded, Verdict};
use crate::reporters;
use crate::reporters::class::progress::Progress;
use crate::reporters::class::{self, ClassFormat, ClassReporter};
use crate::reporters::gradescope::{Visibilities, Visibility};
use crate::sandbox;
use crate::script::Lab;
use crate::watch;

use super::output::{StderrKept, WriteError, create, report_output};
use super::{CheckArgs, GradingArgs};

/// What every grading mode sets up first, before any thread exists: a user namespace where
/// socklab is not root (see [`sandbox::prepare_process`]), and its way of ending on a signal.
fn ready_to_grade() -> Result<()> {
    sandbox::prepare_process();
    stop_cleanly_on_signals()
}

/// socklab never ends by a signal: told to stop (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT), it says
/// so in one line and exits 2. Programs it runs as sandbox users are killed first, and
/// paths hidden from them given back; its runs' inits then kill every other program: the
/// kernel asks them to (see [`crate::init::protocol::Request::KillAll`]) when the threads
/// that started them end.
fn stop_cleanly_on_signals() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .map_err(Error::io("setting up signal handling"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = nix::sys::signal::Signal::try_from(signal)
                    .map_or_else(|_| signal.to_string(), |s| s.as_str().to_string());
                // Not eprintln!, which panics where stderr is gone (a terminal hung up): this
                // thread would die and socklab live on, deaf to every later signal.
                let _ = writeln!(
                    io::stderr(),
                    "socklab: stopped by {name} before grading was done"
                );
                sandbox::stop_every_run();
                std::process::exit(EXIT_CANNOT_GRADE);
            }
        })
        .map_err(Error::io("starting the signal thread"))?;
    Ok(())
}


pub(super) fn list_labs() -> Result<i32> {
    for lab in labs::all() {
        let aliases = if lab.aliases.is_empty() {
            String::new()
        } else {
            format!(" (alias {})", lab.aliases.join(", "))
        };
        let from = match labs::source(&lab.name) {
            Some(labs::Source::File(path)) => format!(" [{}]", path.display()),
            _ => String::new(),
        };
        println!(
            "{:<12} {} {:<5} {} points  {}{aliases}{from}",
            lab.name,
            lab.proto,
            lab.lesson_port,
            lab.max_score(),
            lab.summary
        );
    }
    Ok(EXIT_FULL_MARKS)
}

/// `socklab labs --show NAME`: the lab's file as it is, a start for an instructor's own.
pub(super) fn show_lab(name: &str) -> Result<i32> {
    let lab = labs::find(name)?;
    let text = match labs::source(&lab.name) {
        Some(labs::Source::File(path)) => std::fs::read_to_string(&path)
            .map_err(Error::io(format!("reading {}", path.display())))?,
        _ => labs::built_in_text(&lab.name)
            .ok_or_else(|| Error::Internal(format!("no file for the built-in lab {}", lab.name)))?
            .to_string(),
    };
    print!("{text}");
    Ok(EXIT_FULL_MARKS)
}

/// `socklab check`: one program, once or (`--watch`) at each save of its file.
pub(super) fn check(args: &CheckArgs, lab_files: &[PathBuf]) -> Result<i32> {
    ready_to_grade()?;
    let (lab, file) = with_lab_file(args.lab.as_deref(), args.file.as_deref(), lab_files)?;
    let target = CheckTarget::from_args(lab.as_deref(), file.as_deref(), &args.program)?;
    let lab = || -> Result<(Lab, Visibilities)> {
        let (lab, visibility) = args.grading.lab(&target.lab)?;
        match &args.only {
            Some(check) => Ok((lab.only(check)?, visibility)),
            None => Ok((lab, visibility)),
        }
    };
    // A bad lab, rubric or --only is refused before anything runs.
    let (kept, _) = lab()?;
    let only_notice = args
        .only
        .as_ref()
        .map(|check| check::only_notice(check, &kept));
    let config = args.grading.config()?;
    let grade_once = || -> Result<i32> {
        let (lab, visibility) = lab()?;
        let (out, color) = report_output(args.output.clone())?;
        let mut reporters = vec![reporters::for_format(args.format, out, color, &visibility)];
        for (format, path) in &args.also {
            let out = create(path)?;
            reporters.push(reporters::for_format(
                *format,
                out,
                ColorChoice::Never,
                &visibility,
            ));
        }
        let mut write_error = WriteError::default();
        let mut on_event = |event: &Event| {
            for reporter in &mut reporters {
                write_error.note(reporter.event(event));
            }
        };
        let (name, max_score) = (lab.name.clone(), lab.max_score());
        let graded = check::grade(&target, lab, config.clone(), &mut |event| {
            check::with_notice(event, only_notice.as_ref(), &mut on_event)
        });
        let report = match graded {
            Ok(report) => report,
            Err(e) => {
                // Formats whose readers need a result for every lab still get one.
                on_event(&Event::NotGraded(NotGraded {
                    lab: name.to_string(),
                    max_score,
                    reason: e.to_string(),
                }));
                write_error.into_result()?;
                return Err(e);
            }
        };
        write_error.into_result()?;
        Ok(exit_for(report.full_marks()))
    };
    match (&target.subject, args.watch) {
        (_, false) => grade_once(),
        (Subject::File(file), true) => watch::run(file, grade_once),
        (_, true) => Err(Error::Usage(format!(
            "--watch watches the program's file: socklab check {} {}.py --watch",
            target.lab, target.lab
        ))),
    }
}

/// `socklab gradescope`: results.json written, and 0 at full marks, 1 for lost marks; 2 and
/// no results.json if socklab could not grade any lab (its own failure, not a zero). An
/// instructor's mistake in labs.conf or a rubric is found before anything is graded, and
/// leaves no results.json behind. The staff's account goes to stdout where Gradescope keeps
/// it from students; where a rubric shows stdout to students, it goes into results.json's
/// hidden staff test instead, with what socklab says on stderr meanwhile.
pub(super) fn gradescope(
    config: &Path,
    submission: &Path,
    output: &Path,
    grading: &GradingArgs,
) -> Result<i32> {
    ready_to_grade()?;
    if grading.rubric.is_some() || grading.port.is_some() {
        return Err(Error::Usage(
            "socklab gradescope takes each lab's rubric from labs.conf (LAB FILE RUBRIC), and its port from its lab file (--labs-dir), not --rubric or --port".into(),
        ));
    }
    let lines = autograder::read_config(config)?;
    let submission = std::path::absolute(submission)
        .map_err(Error::io(format!("finding {}", submission.display())))?;
    let grading_config = grading.config()?;
    let staff_stdout = autograder::stdout_visibility(&lines) == Visibility::Hidden;
    // Created now: a results path that cannot be written stops socklab before any grading.
    let mut out = create(output)?;
    let written = (|| -> Result<autograder::Graded> {
        let kept_from_students = (!staff_stdout).then(StderrKept::start).transpose()?;
        let graded = autograder::grade(&lines, &submission, &grading_config);
        let stderr = kept_from_students.map(StderrKept::finish).transpose()?;
        let results = graded.results(stderr.as_deref().unwrap_or_default());
        if let Some(account) = &results.for_staff {
            print!("{account}");
        }
        // socklab's own failure is nobody's grade: no results.json, so that Gradescope says
        // the autograder failed (staff see why in its output) rather than give a zero.
        if let Some(first) = graded.not_graded.first() {
            return Err(Error::NotGraded {
                what: "labs",
                failed: graded.not_graded.len(),
                total: lines.len(),
                first: first.clone(),
            });
        }
        let mut write_error = WriteError::default();
        let document = reporters::json::document(&results.json, &mut out);
        write_error.note(document.and_then(|()| out.flush()));
        write_error.into_result()?;
        Ok(graded)
    })();
    let graded = written.inspect_err(|_| {
        // Never a results.json that is not whole.
        let _ = std::fs::remove_file(output);
    })?;
    Ok(exit_for(graded.full_marks()))
}

/// `socklab grade`: the class in `dir`, the report in `format` to `output` (or stdout).
pub(super) fn grade(
    lab: String,
    dir: PathBuf,
    jobs: Option<NonZeroUsize>,
    format: ClassFormat,
    output: Option<PathBuf>,
    grading: &GradingArgs,
    program: ClassProgram,
) -> Result<i32> {
    ready_to_grade()?;
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let (lab, _) = grading.lab(&lab)?;
    let run = ClassRun {
        lab,
        dir,
        program,
        jobs: jobs.map_or(cores, NonZeroUsize::get),
        config: grading.config()?,
    };
    let (out, color) = report_output(output)?;
    let mut output = class::for_format(format, out, color);
    let mut progress = Progress::new(io::stderr().is_terminal(), Box::new(io::stderr()));
    let mut write_error = WriteError::default();
    let class = batch::grade_class(&run, &mut |event| {
        // Progress on stderr is a courtesy; only the report's own writing counts.
        let _ = progress.event(event);
        write_error.note(output.event(event));
    })?;
    write_error.into_result()?;
    class_exit_code(&class)
}

/// 0 when every submission has full marks, 1 when any lost marks (a submission without a
/// program included), 2 when socklab itself failed on any.
fn class_exit_code(class: &ClassReport) -> Result<i32> {
    let failed: Vec<String> = class
        .submissions
        .iter()
        .filter_map(|s| match &s.verdict {
            Verdict::HarnessError { reason } => Some(format!("{}: {reason}", s.id)),
            Verdict::Graded | Verdict::NoProgram { .. } => None,
        })
        .collect();
    if let Some(first) = failed.first() {
        return Err(Error::NotGraded {
            what: "submissions",
            failed: failed.len(),
            total: class.submissions.len(),
            first: first.clone(),
        });
    }
    let all_full = class
        .submissions
        .iter()
        .all(|s| matches!(s.verdict, Verdict::Graded) && s.report.full_marks());
    Ok(exit_for(all_full))
}

/// With one `--lab-file` and no lab named, `socklab check` grades against that file's lab:
/// its first word is then the program's file (`socklab check --lab-file conn_udp.toml
/// client.py`).
fn with_lab_file(
    first: Option<&str>,
    file: Option<&Path>,
    lab_files: &[PathBuf],
) -> Result<(Option<String>, Option<PathBuf>)> {
    let named = first.is_some_and(|f| labs::find(f).is_ok());
    match (lab_files, first, file) {
        ([only], first, None) if !named => {
            let lab = labs::load_file(only)?;
            Ok((Some(lab.name), first.map(PathBuf::from)))
        }
        _ => Ok((first.map(String::from), file.map(Path::to_path_buf))),
    }
}
