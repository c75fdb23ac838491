//! socklab's command line: parse (clap, and [`crate::usage`] for a mistake), dispatch to one
//! function per mode ([`modes`]), and turn errors into one line on stderr and exit status 2
//! (see `error.rs` for the exit codes). `src/main.rs` only calls [`main`].

mod modes;
mod output;

use modes::{check, grade, gradescope, list_labs, show_lab};

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::error::{EXIT_CANNOT_GRADE, Error, Result};
use crate::limits::Limits;
use crate::reporters::class::ClassFormat;
use crate::reporters::gradescope::Visibilities;
use crate::reporters::Format;
use crate::rubric::Rubric;
use crate::runner::Config;
use crate::sandbox::place::IsolationFloor;
use crate::script::Lab;
use crate::session::Timeouts;
use crate::error::EXIT_FULL_MARKS;
use crate::labs::Labs;
use crate::{export, init, netcat, partner, reference, usage};

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
    /// Labs from this folder of lab files too (a lab of a built-in lab's name replaces it).
    #[arg(long, global = true, env = "SOCKLAB_LABS", value_name = "DIR")]
    labs_dir: Option<PathBuf>,
    /// A lab from this lab file too; `socklab check` grades against it when no lab is named.
    #[arg(long, global = true, value_name = "FILE")]
    lab_file: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// List the labs; --show NAME prints a lab's file (a start for one of your own).
    Labs {
        /// Print this lab's lab file.
        #[arg(long, value_name = "LAB")]
        show: Option<String>,
    },
    /// Grade one program against a lab: socklab check serv_tcp serv_tcp.py
    Check(CheckArgs),
    /// Grade a whole class: socklab grade serv_simple submissions/ serv_simple.py
    Grade(GradeArgs),
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
    /// Write a file that follows from the labs: socklab export classroom > classroom.yml
    Export {
        #[command(subcommand)]
        what: Export,
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
    /// The program's init inside its namespace (internal; see crate::init::InitCommand).
    #[command(name = "__init", hide = true)]
    Init(init::InitCommand),
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

/// What `socklab export` writes (to stdout).
#[derive(Subcommand)]
enum Export {
    /// GitHub Classroom's workflow: a step per lab (grading/github-classroom/classroom.yml).
    Classroom,
    /// Gradescope's labs.conf: every lab graded from a student's file.
    LabsConf,
    /// A lab's example rubric: every check with its points (grading/rubrics/LAB.toml).
    Rubric { lab: String },
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
    /// The port the program uses as written, when it is not the lesson's (a class whose
    /// handout says 12345).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
}

/// `socklab grade`'s arguments.
#[derive(Args)]
struct GradeArgs {
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
    fn lab(&self, labs: &Labs, name: &str) -> Result<(Lab, Visibilities)> {
        let mut lab = labs.find(name)?;
        if let Some(port) = self.port {
            lab.lesson_port = port;
        }
        let mut visibility = Visibilities::default();
        if let Some(rubric) = self.rubric()? {
            rubric.apply(&mut lab)?;
            visibility = rubric.visibility().clone();
        }
        Ok((lab, visibility))
    }

    fn config(&self, labs: &Labs) -> Result<Config> {
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
            lab_ports: labs.lesson_ports(),
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

/// socklab's whole command line: parses the arguments, runs the mode, gives the exit code.
pub fn main() -> ExitCode {
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
        Command::Init(command) => init::run(command.decode()),
        command => match run_with_labs(command, &cli.labs_dir, &cli.lab_file) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("socklab: {e}");
                EXIT_CANNOT_GRADE
            }
        },
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Runs `command` with the labs read first. `socklab nc`, which needs none and starts in
/// every run that grades a netcat, skips reading them unless lab files were named (one that
/// does not load is an error, whatever the command).
fn run_with_labs(command: Command, dir: &Option<PathBuf>, files: &[PathBuf]) -> Result<i32> {
    match command {
        Command::Nc { args } if dir.is_none() && files.is_empty() => Ok(netcat::main(&args)),
        command => run(command, &Labs::with(dir.as_slice(), files)?, files),
    }
}

/// Runs `command` with the labs it may grade.
fn run(command: Command, labs: &Labs, lab_files: &[PathBuf]) -> Result<i32> {
    match command {
        Command::Labs { show: None } => list_labs(labs),
        Command::Labs { show: Some(name) } => show_lab(labs, &name),
        Command::Check(args) => check(&args, labs, lab_files),
        Command::Grade(args) => grade(labs, &args),
        Command::Gradescope {
            config,
            submission,
            output,
            grading,
        } => gradescope(labs, &config, &submission, &output, &grading),
        Command::Export { what } => {
            let text = match what {
                Export::Classroom => export::classroom(&labs.all()),
                Export::LabsConf => export::labs_conf(&labs.all()),
                Export::Rubric { lab } => export::rubric(&labs.find(&lab)?),
            };
            output::print_out(&text)?;
            Ok(EXIT_FULL_MARKS)
        }
        Command::Ref { lab, port } => {
            let lab = labs.find(&lab)?;
            reference::run(&lab, port.unwrap_or(lab.lesson_port))
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
                PartnerProto::Tcp => crate::script::Proto::Tcp,
                PartnerProto::Udp => crate::script::Proto::Udp,
            };
            partner::run(&partner::Partner {
                proto,
                role,
                wait,
                idle,
            })
        }
        Command::Nc { args } => Ok(netcat::main(&args)),
        Command::Init(_) => unreachable!("handled in main"),
    }
}

