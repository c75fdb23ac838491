//! socklab grades students' socket programs from the lesson "Netcat and sockets".
//!
//! Module map (read this first):
//! - [`labs`]: the labs: the built-in lab files (`src/labs/*.toml`, compiled in) and an
//!   instructor's own, known to a command as one value ([`labs::Labs`]). A new lab is one
//!   new lab file.
//! - [`labfile`]: lab files: a lab in TOML, in the lesson's words, checked when loaded.
//! - [`script`]: what a lab is once loaded: runs, checks, and their steps.
//! - [`steps`]: the kinds of step, one file each: its phrases in lab files, how its value is
//!   read and checked, what it needs of the steps before it, and how it is carried out. A
//!   new kind is a new file and one line in [`steps::KINDS`].
//! - [`placeholders`]: `{port}`, `{bob}`, `{alice.port}`...: checked at load and filled in
//!   at run time from one list.
//! - [`runner`]: runs one lab against one program: each run an attempt (its place, its
//!   checks, its end) whose events wait in an outbox until it is kept; a check answers for
//!   what its input caused.
//! - [`session`]: one run as the engine holds it: a few methods of its own (start, end,
//!   waits, epochs) and small accessors to its parts, each with what steps need: where the
//!   run happens, the program's I/O, the harness's peer sockets, what the harness gives,
//!   the conversation and what the program did attributed to what caused it (settling,
//!   epochs, what it left unread), the transcript; inside, the deadlines, whether the
//!   program can still act, and the event loop where every wait ends on an event, on the
//!   program blocked for good, or on its deadline.
//! - [`poll`]: the one wait on descriptors (poll(2)), for the session and the tools.
//! - [`sandbox`]: where and as whom a run happens: its own namespaces, or the host's
//!   loopback; as root, a sandbox user of its own and the way to what it needs; the
//!   program's sockets, the lesson's fixed ports.
//! - [`limits`]: processes, memory, CPU time and file size a program may use.
//! - [`stuck`]: whether a program can still act, or every thread of it waits for socklab.
//! - [`terminal`]: the pty that stands in for the student's keyboard and screen.
//! - [`program`]: the program as the user gave it, found and checked before any run.
//! - [`launch`]: starts the program under [`init`] on that pty, with its fixed environment.
//! - [`build`]: compiling a C submission as part of its run, in the run's own place.
//! - [`confine`]: what keeps a program in its run: a read-only view of the filesystem with
//!   hidden paths, its own /proc, /tmp, devices and IPC, its own user, no capabilities.
//! - [`init`]: the tiny init that runs inside the namespace, reports the exit, leaves no
//!   process behind, and looks at the program's threads where socklab may not; its
//!   protocol with the harness, both ways, typed in one module ([`init::protocol`]).
//! - [`reasons`]: the reason a student can act on, from plain data: how other bytes differ,
//!   which part of a near-miss line is wrong, what had just happened when the program ended,
//!   its own last words; hints fit for its language.
//! - [`report`]: plain data: outcomes, reports, and the events reporters consume; a
//!   failure's parts as fields; a class's submissions and summary.
//! - [`reporters`]: output apart from grading: human, JSON, Gradescope, JUnit, GitHub
//!   Classroom and Markdown for one run; human, JSON and CSV, and a progress bar, for a class.
//! - [`check`]: `socklab check`: what it was asked to grade (a file, a lab and a file, a
//!   command), and grading it.
//! - [`submission`]: a student's file: the lab its name says, and how to run it (`python3`,
//!   or `cc` first), for `check`, `grade` and Gradescope alike.
//! - [`not_run`]: the report of a program that never ran, every check lost for its reason.
//! - [`unsubmitted`]: a lab's file missing or empty: not graded, every check lost, in the
//!   student's words.
//! - [`commands`]: a file of the lesson's command lines, one for each run of a lab
//!   (Activity 1's `activity1.sh`), and grading it run by run.
//! - [`watch`]: `socklab check --watch`, grading again at each save.
//! - [`usage`]: a mistake on the command line as one line that shows the command meant.
//! - [`cli`]: the command line: its arguments, one function per mode, where reports go.
//! - [`autograder`]: `socklab gradescope`: every lab of an assignment against one
//!   submission, one results.json (what Gradescope's run_autograder calls).
//! - [`batch`]: `socklab grade`: every submission folder of a class, several at once.
//! - [`rubric`]: points from a TOML file, without a rebuild.
//! - [`partner`]: `socklab partner`, the other terminal for a student practising alone.
//! - [`reference`]: Rust programs that behave as the lesson's Python ones (`socklab ref`).
//! - [`netcat`]: `socklab nc`, a reference netcat that talks byte-exact with OpenBSD nc.
//! - [`export`]: `socklab export`: the workflow, labs.conf and rubrics that follow from the
//!   labs.
//! - [`escape`]: showing bytes the way Python prints them (`b'Hello!\n'`).
//! - [`error`]: the harness's own errors, and the exit codes.
//!
//! socklab runs on Linux only: elsewhere the build stops at one clear error.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "socklab runs on Linux only (it needs network namespaces and ptys): on macOS or Windows, build and run it in WSL or a Linux VM"
);

/// The modules, compiled on Linux only, so that elsewhere the error above stands alone.
macro_rules! linux_modules {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(target_os = "linux")]
            pub mod $module;
        )*
    };
}

// One a line, for merges.
#[rustfmt::skip]
linux_modules!(
    autograder,
    batch,
    build,
    check,
    cli,
    commands,
    confine,
    error,
    escape,
    export,
    init,
    labfile,
    labs,
    launch,
    limits,
    netcat,
    not_run,
    partner,
    placeholders,
    poll,
    program,
    reasons,
    reference,
    report,
    reporters,
    rubric,
    runner,
    sandbox,
    script,
    session,
    steps,
    stuck,
    submission,
    terminal,
    unsubmitted,
    usage,
    watch,
);
