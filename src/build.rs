//! Compiling a C submission, as part of its run: `cc -O1` runs under init in the run's own
//! place, as the program will (the run's user, its hidden paths, its limits on time, memory,
//! processes and file size, a clean start), in the source's own folder. In namespaces it
//! sees that folder and the system's files only: every other folder at the top of the
//! filesystem is hidden from it. The binary goes into the run's work folder, where only
//! that run can reach it. A file the compiler refuses is the student's mistake
//! ([`Error::DidNotCompile`]), reported as every check failed.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::launch::Enclosure;
use crate::limits::{Limits, RunLimits};
use crate::program::Program;
use crate::sandbox::place::Place;
use crate::session::{Output, Session, Timeouts};

/// How long `cc` may take on one file before the compile counts as failed (a compile that
/// reads without end is stopped sooner, by its memory limit).
pub const COMPILE_DEADLINE: Duration = Duration::from_secs(60);
/// How much of the compiler's message a report keeps.
const COMPILER_MESSAGE_LINES: usize = 40;
/// The folder of the run's work folder the binary is built in.
const BUILD_FOLDER: &str = ".build";

/// `program` ready to run in `place`: built first if it is a C file.
pub fn build(program: &Program, place: &Place, limits: Limits) -> Result<Program> {
    let Some(source) = &program.source else {
        return Ok(program.clone());
    };
    let folder = source.file.parent().unwrap_or(Path::new("/"));
    let build = place.workdir.join(BUILD_FOLDER);
    std::fs::create_dir(&build).map_err(Error::io("making the folder to build in"))?;
    if let Some((uid, gid)) = place.user {
        std::os::unix::fs::chown(&build, Some(uid), Some(gid))
            .map_err(Error::io("making the folder to build in"))?;
    }
    let stem = source.file.file_stem().unwrap_or("program".as_ref());
    let binary = build.join(stem);
    let file_name = source.file.file_name().unwrap_or(source.file.as_os_str());
    let cc = Program {
        argv: vec![
            source.compiler.display().to_string(),
            "-O1".into(),
            "-o".into(),
            binary.display().to_string(),
            file_name.to_string_lossy().into_owned(),
        ],
        path: source.compiler.clone(),
        source: None,
    };

    let run_limits = place.limits(limits);
    let mut enclosure = Enclosure::in_place(place, &run_limits);
    enclosure.cwd = folder.to_path_buf();
    enclosure.env.push(("TMPDIR".into(), build.display().to_string()));
    if let Some(confinement) = &mut enclosure.confinement {
        let compiler = std::fs::canonicalize(&source.compiler).unwrap_or(source.compiler.clone());
        *confinement = confinement.for_compiler(&[&compiler]);
        confinement.open_way(folder, place.user);
    }
    // Its init runs as a subreaper, in the PID namespace the run's thread has so far: the
    // program's init is PID 1 of one of its own, made when it starts.
    enclosure.pid_namespace = false;
    let compiled = compile(&cc, &enclosure, place, run_limits)?;
    if compiled.succeeded && binary.is_file() {
        return Ok(program.built(&binary));
    }
    Err(Error::DidNotCompile {
        file: source.named.clone(),
        message: compiled.message,
    })
}

/// How a compile went.
struct Compiled {
    succeeded: bool,
    /// What the compiler said, and the limit it ran into or the deadline it missed.
    message: String,
}

/// Runs the compiler `cc` under init, enclosed as the program will be.
fn compile(
    cc: &Program,
    enclosure: &Enclosure,
    place: &Place,
    limits: RunLimits,
) -> Result<Compiled> {
    let mut session = Session::new(place.isolation.clone(), 0, Timeouts::default(), limits);
    session.launch(cc, enclosure)?;
    session.watch_for(COMPILE_DEADLINE, |s| s.program().init_gone());
    let finished = session.program().exit().is_some();
    session.finish();
    let succeeded = finished && session.program().exit().is_some_and(|e| e.is_success());
    let mut message = compiler_message(session.program().output(Output::Stderr).all());
    if let Some(limit) = session.limit_hit() {
        message = format!("{}\n{message}", limit.replace("the program", "the compiler"));
    } else if !finished {
        message = format!(
            "cc did not finish within {} s\n{message}",
            COMPILE_DEADLINE.as_secs()
        );
    }
    Ok(Compiled { succeeded, message })
}

/// The compiler's output as report text: control characters escaped, a few dozen lines.
fn compiler_message(said: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(said)
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect();
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let mut kept = lines[..lines.len().min(COMPILER_MESSAGE_LINES)].join("\n");
    if lines.len() > COMPILER_MESSAGE_LINES {
        let more = lines.len() - COMPILER_MESSAGE_LINES;
        kept.push_str(&format!("\n… {more} more lines"));
    }
    if kept.is_empty() {
        "cc failed without a message".into()
    } else {
        kept
    }
}
