//! socklab's command line: parse, dispatch to one function per mode, and turn errors into
//! one line on stderr and exit status 2 (see `error.rs` for the exit codes).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use socklab::error::{EXIT_CANNOT_GRADE, EXIT_FULL_MARKS, EXIT_LOST_MARKS, Error, Result};
use socklab::launch::Program;
use socklab::reporters::{self, Format};
use socklab::runner::{self, Config};
use socklab::session::Timeouts;
use socklab::{init, labs, netcat, reference, sandbox};

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
    /// Grade one program against a lab: socklab check serv_simple -- python3 serv_simple.py
    Check {
        /// The lab (see `socklab labs`).
        lab: String,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Seconds each step may wait (the program's start gets at least 10).
        #[arg(long, default_value = "3", value_parser = parse_seconds)]
        timeout: Duration,
        /// The program and its arguments; `{port}` becomes the port socklab chose, otherwise
        /// the program uses the lesson's port (8000 for TCP, 9000 for UDP).
        #[arg(last = true, required = true, value_name = "PROGRAM")]
        program: Vec<String>,
    },
    /// Run the Rust reference program of a lab: socklab ref serv_tcp 8000
    Ref { lab: String, port: u16 },
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
        #[arg(last = true, required = true)]
        program: Vec<String>,
    },
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
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Init { subreaper, program } => init::run(init::InitArgs {
            subreaper,
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
        Command::Check {
            lab,
            format,
            timeout,
            program,
        } => check(&lab, format, timeout, &program),
        Command::Ref { lab, port } => reference::run(&lab, port),
        Command::Nc { args } => Ok(netcat::main(&args)),
        Command::Init { .. } => unreachable!("handled in main"),
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

fn check(lab: &str, format: Format, timeout: Duration, argv: &[String]) -> Result<i32> {
    // Before any thread exists: a user namespace where we are not root.
    sandbox::prepare_process();
    let lab = labs::find(lab)?;
    let program = Program::resolve(argv)?;
    let timeouts = Timeouts {
        step: timeout,
        startup: timeout.max(Timeouts::default().startup),
    };
    let config = Config::new(timeouts)?;
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut reporter = reporters::for_format(format, Box::new(stdout), color);
    let mut write_error = None;
    let report = runner::grade(lab, program, config, &mut |event| {
        if let Err(e) = reporter.event(event)
            && write_error.is_none()
        {
            write_error = Some(e);
        }
    })?;
    if let Some(e) = write_error
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Error::io("writing the report")(e));
    }
    Ok(if report.full_marks() {
        EXIT_FULL_MARKS
    } else {
        EXIT_LOST_MARKS
    })
}
