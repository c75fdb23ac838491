//! socklab's command line: parse, dispatch to one function per mode, and turn errors into
//! one line on stderr and exit status 2 (see `error.rs` for the exit codes).

use std::io::{self, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use clap::{Args, CommandFactory, Parser, Subcommand};

use socklab::batch::{self, ClassProgram, ClassRun};
use socklab::check::{self, CheckTarget, Subject};
use socklab::error::{EXIT_CANNOT_GRADE, EXIT_FULL_MARKS, EXIT_LOST_MARKS, Error, Result};
use socklab::limits::{Limits, Rlimit};
use socklab::report::{ClassReport, Event, NotGraded, Verdict};
use socklab::reporters::class::progress::Progress;
use socklab::reporters::class::{self, ClassFormat, ClassReporter};
use socklab::reporters::gradescope::Visibilities;
use socklab::reporters::{self, Format};
use socklab::rubric::Rubric;
use socklab::runner::Config;
use socklab::sandbox::place::IsolationFloor;
use socklab::script::Lab;
use socklab::session::Timeouts;
use socklab::{autograder, init, labs, netcat, partner, reference, sandbox, usage, watch};

#[derive(Parser)]
#[command(
    name = "socklab",
    version,
    about = "Grades socket programs from the lesson \"Netcat and sockets\"",
    after_help = "Exit status: 0 full marks, 1 the program lost marks, 2 socklab could not grade."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the labs.
    Labs,
    /// Grade one program against a lab: socklab check serv_tcp serv_tcp.py
    Check(CheckArgs),
    /// Grade a whole class: socklab grade serv_simple submissions/ serv_simple.py
    Grade {
        /// The lab (see `socklab labs`).
        lab: String,
        /// The class folder: one folder per submission under it, named by the student's id.
        dir: PathBuf,
        /// The file each submission has (serv_simple.py, serv_simple.c), run as `socklab
        /// check` runs it.
        #[arg(value_name = "FILE")]
        file: Option<String>,
        /// How many submissions to grade at once [default: the number of cores].
        #[arg(long)]
        jobs: Option<NonZeroUsize>,
        #[arg(long, value_enum, default_value = "human")]
        format: ClassFormat,
        /// Write the report to FILE rather than to stdout (e.g. report.html).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        grading: GradingArgs,
        /// Or the program as a command and its arguments; `{dir}` becomes the submission's
        /// folder (absolute), `{port}` as in check.
        #[arg(last = true, value_name = "PROGRAM")]
        program: Vec<String>,
    },
    /// Grade one Gradescope submission, every lab of labs.conf, into one results.json:
    /// socklab gradescope source/labs.conf submission/ --output results/results.json
    Gradescope {
        /// A lab a line: the lab, its file in the submission, optionally a rubric (relative
        /// to labs.conf's folder).
        config: PathBuf,
        /// The student's submission folder.
        submission: PathBuf,
        /// Where to write results.json.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        grading: GradingArgs,
    },
    /// Run the Rust reference program of a lab: socklab ref serv_tcp 8000
    Ref {
        lab: String,
        /// The port (default: the lesson's port for the lab).
        port: Option<u16>,
    },
    /// Play the other terminal of Activity 1 or 2: socklab partner tcp --listen 9000
    Partner {
        #[arg(value_enum)]
        proto: PartnerProto,
        /// Listen on this port (you connect to it with nc).
        #[arg(long, value_name = "PORT", required_unless_present = "connect")]
        listen: Option<u16>,
        /// Connect to your listener (or your Activity 2 server).
        #[arg(long, num_args = 2, value_names = ["HOST", "PORT"], conflicts_with = "listen")]
        connect: Option<Vec<String>>,
        /// Seconds to wait for the other side to show up.
        #[arg(long, default_value = "60", value_parser = parse_seconds)]
        wait: Duration,
        /// Seconds of silence after which the chat ends.
        #[arg(long, default_value = "120", value_parser = parse_seconds)]
        idle: Duration,
    },
    /// A reference netcat: socklab nc -lnv 9000, socklab nc 127.0.0.1 9000 (-h for more)
    // Its arguments are netcat's, parsed by netcat's rules (src/netcat/args.rs, -h included),
    // so clap hands them over as they come, flags and all. It exits as netcat does (1 for any
    // error, bad usage included), not with socklab's grading codes (2 for bad usage).
    #[command(
        disable_help_flag = true,
        after_long_help = netcat::HELP
    )]
    Nc {
        #[arg(
            allow_hyphen_values = true,
            trailing_var_arg = true,
            value_name = "NC_ARGS"
        )]
        args: Vec<String>,
    },
    /// The program's init inside its namespace (internal).
    #[command(name = "__init", hide = true)]
    Init {
        #[arg(long)]
        subreaper: bool,
        #[arg(long, requires = "gid")]
        uid: Option<u32>,
        #[arg(long, requires = "uid")]
        gid: Option<u32>,
        #[arg(long, value_parser = parse_rlimit)]
        rlimit: Vec<Rlimit>,
        #[arg(long)]
        hide: Vec<PathBuf>,
        #[arg(long)]
        show: Vec<PathBuf>,
        #[arg(last = true, required = true)]
        program: Vec<String>,
    },
}

/// `socklab check`'s arguments.
#[derive(Args)]
struct CheckArgs {
    /// The lab (see `socklab labs`); or the program's file alone when its name says the
    /// lab (serv_tcp.py, udp_serv.c).
    #[arg(value_name = "LAB|FILE")]
    lab: Option<String>,
    /// The program's file: a .py runs with python3 (or its #! line, when executable), a
    /// .c is compiled with cc first, anything else runs as it is.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report to FILE rather than to stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the report in FORMAT to FILE, from the same run (may be given more than
    /// once), e.g. --also classroom=result.json --also markdown=summary.md
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also)]
    also: Vec<(Format, PathBuf)>,
    /// Run only CHECK and what it builds on (the checks it needs, and those before it
    /// in its run); the score counts only the checks run.
    #[arg(long, value_name = "CHECK")]
    only: Option<String>,
    /// Grade again each time FILE is saved (Ctrl-C to stop).
    #[arg(long)]
    watch: bool,
    #[command(flatten)]
    grading: GradingArgs,
    /// Or the program as a command and its arguments; `{port}` becomes the port socklab
    /// chose, otherwise the program uses the lesson's port (8000 for TCP, 9000 for UDP).
    /// (The netcat lab grades the `nc` on PATH when none is given.)
    #[arg(last = true, value_name = "PROGRAM")]
    program: Vec<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PartnerProto {
    Tcp,
    Udp,
}

/// How a lab is graded, for `check` and `grade` alike.
#[derive(Args)]
struct GradingArgs {
    /// Seconds each step may wait (the program's start gets at least 10).
    #[arg(long, default_value = "3", value_parser = parse_seconds)]
    timeout: Duration,
    /// Points, and Gradescope visibility, from a TOML file rather than the lab's own (see
    /// grading/README.md).
    #[arg(long, value_name = "FILE")]
    rubric: Option<PathBuf>,
    /// Hide this folder (or file's folder) from the program, e.g. other submissions or
    /// where results are written; may be given more than once. The program always sees a
    /// read-only filesystem.
    #[arg(long, value_name = "PATH")]
    hide: Vec<PathBuf>,
    /// The least isolation to grade with; below it socklab refuses (exit 2). `namespaces`:
    /// the run's own network, PID and mount namespaces; `uid`: at least a user of its own.
    #[arg(long, value_enum, default_value = "any")]
    isolation: IsolationArg,
    /// The most processes the program may run at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().processes, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_processes: u32,
    /// The most memory the program may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().memory >> 20, value_parser = clap::value_parser!(u64).range(16..=1 << 20))]
    max_memory: u64,
    /// The most CPU time each of the program's processes may use, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().cpu.as_secs(), value_parser = clap::value_parser!(u64).range(1..=86_400))]
    max_cpu: u64,
    /// The largest file the program may write, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().file_size >> 20, value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    max_file_size: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum IsolationArg {
    Namespaces,
    Uid,
    Any,
}

impl GradingArgs {
    fn rubric(&self) -> Result<Option<Rubric>> {
        self.rubric.as_deref().map(Rubric::load).transpose()
    }

    /// The lab called `name` with the rubric's points, and how Gradescope shows it.
    fn lab(&self, name: &str) -> Result<(Lab, Visibilities)> {
        let mut lab = labs::find(name)?;
        let mut visibility = Visibilities::default();
        if let Some(rubric) = self.rubric()? {
            rubric.apply(&mut lab)?;
            visibility = rubric.visibility().clone();
        }
        Ok((lab, visibility))
    }

    fn config(&self) -> Result<Config> {
        let mut config = Config {
            timeouts: Timeouts {
                step: self.timeout,
                startup: self.timeout.max(Timeouts::default().startup),
            },
            isolation_floor: match self.isolation {
                IsolationArg::Namespaces => IsolationFloor::Namespaces,
                IsolationArg::Uid => IsolationFloor::Uid,
                IsolationArg::Any => IsolationFloor::Any,
            },
            limits: Limits {
                processes: self.max_processes,
                memory: self.max_memory << 20,
                cpu: Duration::from_secs(self.max_cpu),
                file_size: self.max_file_size << 20,
            },
            ..Config::default()
        };
        // Absolute, since the program's init may start elsewhere in the tree.
        for path in &self.hide {
            let path = std::path::absolute(path)
                .map_err(Error::io(format!("finding {}", path.display())))?;
            config.confinement.hide.push(path);
        }
        Ok(config)
    }
}

fn parse_rlimit(text: &str) -> std::result::Result<Rlimit, String> {
    Rlimit::parse(text).ok_or_else(|| format!("'{text}' is not a limit"))
}

/// `classroom=result.json`: a format and the file to write it to.
fn parse_also(text: &str) -> std::result::Result<(Format, PathBuf), String> {
    use clap::ValueEnum;
    let (name, file) = text
        .split_once('=')
        .filter(|(_, file)| !file.is_empty())
        .ok_or_else(|| format!("'{text}' is not FORMAT=FILE, e.g. classroom=result.json"))?;
    let format = Format::from_str(name, true).map_err(|_| {
        let known: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        format!(
            "unknown format '{name}'; the formats are: {}",
            known.join(", ")
        )
    })?;
    Ok((format, PathBuf::from(file)))
}

fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err(format!("'{text}' must be between 0 and 3600 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
            }
            let args: Vec<String> = std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprintln!("{}", usage::one_line(&e, &Cli::command(), &args));
            return ExitCode::from(EXIT_CANNOT_GRADE as u8);
        }
    };
    let code = match cli.command {
        Command::Init {
            subreaper,
            uid,
            gid,
            rlimit,
            hide,
            show,
            program,
        } => init::run(init::InitArgs {
            subreaper,
            user: uid.zip(gid),
            rlimits: rlimit,
            confinement: Some(socklab::confine::Confinement { hide, show }),
            program: program[0].clone().into(),
            args: program[1..].to_vec(),
        }),
        command => match run(command) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("socklab: {e}");
                EXIT_CANNOT_GRADE
            }
        },
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn run(command: Command) -> Result<i32> {
    match command {
        Command::Labs => list_labs(),
        Command::Check(args) => check(&args),
        Command::Grade {
            lab,
            dir,
            file,
            jobs,
            format,
            output,
            grading,
            program,
        } => {
            let program = ClassProgram::from_args(file.as_deref(), &program)?;
            grade(lab, dir, jobs, format, output, &grading, program)
        }
        Command::Gradescope {
            config,
            submission,
            output,
            grading,
        } => gradescope(&config, &submission, &output, &grading),
        Command::Ref { lab, port } => {
            let port = match port {
                Some(port) => port,
                None => labs::find(&lab)?.lesson_port,
            };
            reference::run(&lab, port)
        }
        Command::Partner {
            proto,
            listen,
            connect,
            wait,
            idle,
        } => {
            let role = match (listen, connect) {
                (Some(port), _) => partner::Role::Listen(port),
                (None, Some(target)) => {
                    let port = target[1].parse().map_err(|_| {
                        Error::Usage(format!("'{}' is not a port number", target[1]))
                    })?;
                    partner::Role::Connect(target[0].clone(), port)
                }
                (None, None) => unreachable!("clap requires one of them"),
            };
            let proto = match proto {
                PartnerProto::Tcp => socklab::script::Proto::Tcp,
                PartnerProto::Udp => socklab::script::Proto::Udp,
            };
            partner::run(&partner::Partner {
                proto,
                role,
                wait,
                idle,
            })
        }
        Command::Nc { args } => Ok(netcat::main(&args)),
        Command::Init { .. } => unreachable!("handled in main"),
    }
}

/// socklab never ends by a signal: told to stop (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT), it says
/// so in one line and exits 2. Its runs' inits then kill every program: the kernel sends
/// them SIGUSR1 when the threads that started them end.
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
                eprintln!("socklab: stopped by {name} before grading was done");
                std::process::exit(EXIT_CANNOT_GRADE);
            }
        })
        .map_err(Error::io("starting the signal thread"))?;
    Ok(())
}

/// Colour for a person reading stdout, by anstream's rule (`NO_COLOR` never; `CLICOLOR_FORCE`
/// always; else a terminal whose `TERM` has colour), and with `FORCE_COLOR`, which anstream
/// does not read but CI services and GitHub Classroom's own graders set, to get colour in a
/// log that is not a terminal.
fn stdout_color() -> ColorChoice {
    let value = |name| std::env::var(name).unwrap_or_default();
    let forced = !["", "0", "false"].contains(&value("FORCE_COLOR").as_str());
    if forced && value("NO_COLOR").is_empty() {
        ColorChoice::Always
    } else {
        AutoStream::choice(&io::stdout())
    }
}

/// `path` created now, so that a path that cannot be written stops socklab before any
/// grading.
fn create(path: &Path) -> Result<Box<dyn Write>> {
    let file =
        std::fs::File::create(path).map_err(Error::io(format!("creating {}", path.display())))?;
    Ok(Box::new(io::BufWriter::new(file)))
}

/// Where a report goes, and whether it may be coloured: FILE for `--output FILE` (never in
/// colour), else stdout.
fn report_output(output: Option<PathBuf>) -> Result<(Box<dyn Write>, ColorChoice)> {
    Ok(match output {
        Some(path) => (create(&path)?, ColorChoice::Never),
        None => (Box::new(io::stdout()), stdout_color()),
    })
}

/// The first error writing a report; a reader that went away (`| head`) is no error.
#[derive(Default)]
struct WriteError(Option<io::Error>);

impl WriteError {
    fn note(&mut self, result: io::Result<()>) {
        if let Err(e) = result
            && self.0.is_none()
        {
            self.0 = Some(e);
        }
    }

    fn into_result(self) -> Result<()> {
        match self.0 {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                Err(Error::io("writing the report")(e))
            }
            _ => Ok(()),
        }
    }
}

fn list_labs() -> Result<i32> {
    for lab in labs::all() {
        let aliases = if lab.aliases.is_empty() {
            String::new()
        } else {
            format!(" (alias {})", lab.aliases.join(", "))
        };
        println!(
            "{:<12} {} {:<5} {} points  {}{aliases}",
            lab.name,
            lab.proto,
            lab.lesson_port,
            lab.max_score(),
            lab.summary
        );
    }
    Ok(EXIT_FULL_MARKS)
}

/// `socklab check`: one program, once or (`--watch`) at each save of its file.
fn check(args: &CheckArgs) -> Result<i32> {
    // Before any thread exists: a user namespace where we are not root.
    sandbox::prepare_process();
    stop_cleanly_on_signals()?;
    let target = CheckTarget::from_args(args.lab.as_deref(), args.file.as_deref(), &args.program)?;
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
        let (name, max_score) = (lab.name, lab.max_score());
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
        Ok(if report.full_marks() {
            EXIT_FULL_MARKS
        } else {
            EXIT_LOST_MARKS
        })
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

/// `socklab gradescope`: results.json written, and 0 at full marks, 1 for lost marks, 2 if
/// any lab could not be graded (it counts as lost in the results all the same).
fn gradescope(
    config: &Path,
    submission: &Path,
    output: &Path,
    grading: &GradingArgs,
) -> Result<i32> {
    // Before any thread exists: a user namespace where we are not root.
    sandbox::prepare_process();
    stop_cleanly_on_signals()?;
    if grading.rubric.is_some() {
        return Err(Error::Usage(
            "socklab gradescope takes each lab's rubric from labs.conf (LAB FILE RUBRIC), not --rubric".into(),
        ));
    }
    let lines = autograder::read_config(config)?;
    let submission = std::path::absolute(submission)
        .map_err(Error::io(format!("finding {}", submission.display())))?;
    // Created now: a results path that cannot be written stops socklab before any grading.
    let mut out = create(output)?;
    let graded = autograder::grade(&lines, &submission, &grading.config()?)?;
    let mut write_error = WriteError::default();
    write_error
        .note(reporters::json::document(&graded.results, &mut out).and_then(|()| out.flush()));
    write_error.into_result()?;
    if let Some(first) = graded.not_graded.first() {
        return Err(Error::Internal(format!(
            "could not grade {} of {} labs (first, {first}); results.json counts them as lost",
            graded.not_graded.len(),
            lines.len()
        )));
    }
    Ok(if graded.full_marks {
        EXIT_FULL_MARKS
    } else {
        EXIT_LOST_MARKS
    })
}

/// `socklab grade`: the class in `dir`, the report in `format` to `output` (or stdout).
fn grade(
    lab: String,
    dir: PathBuf,
    jobs: Option<NonZeroUsize>,
    format: ClassFormat,
    output: Option<PathBuf>,
    grading: &GradingArgs,
    program: ClassProgram,
) -> Result<i32> {
    // Before any thread exists: a user namespace where we are not root.
    sandbox::prepare_process();
    stop_cleanly_on_signals()?;
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let run = ClassRun {
        lab,
        rubric: grading.rubric()?,
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
        return Err(Error::Internal(format!(
            "could not grade {} of {} submissions (first, {first})",
            failed.len(),
            class.submissions.len()
        )));
    }
    let all_full = class
        .submissions
        .iter()
        .all(|s| matches!(s.verdict, Verdict::Graded) && s.report.full_marks());
    Ok(if all_full {
        EXIT_FULL_MARKS
    } else {
        EXIT_LOST_MARKS
    })
}
