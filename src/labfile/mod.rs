//! Lab files: a lab written in TOML, in the words of the lesson, checked when loaded. The
//! five built-in labs are such files (`src/labs/*.toml`, in the binary); an instructor's
//! own are read from `--lab-file FILE` or a folder (`--labs-dir`, `SOCKLAB_LABS`).
//!
//! ```toml
//! # The lesson's sample run, quoted as a comment.
//! name = "serv_simple"
//! aliases = []                  # other names for it (activity1)
//! summary = "TCP server: ..."   # one line for `socklab labs`
//! protocol = "tcp"              # or "udp"
//! port = 8000                   # the port the lesson's program has written in it
//! order = 1                     # where `socklab labs` lists it (optional)
//! default_program = "nc"        # graded when no program is given (optional)
//! commands = { file = "activity1.sh", options = "lu" }   # see below (optional)
//! env = { PYTHONIOENCODING = "utf-8" }  # the program's environment besides its own (optional)
//! setup = [{ "bob listens" = true }]   # what the harness does before the program starts
//!
//! [[check]]
//! name = "prints_message"
//! points = 2
//! description = "prints the message the client sent"
//! needs = ["accepts"]           # earlier checks that must have passed
//! steps = [
//!     { "alice sends" = "Hello!\n" },
//!     { "program prints" = "Hello!\n", hint = "what a failure here usually means" },
//! ]
//! ```
//!
//! A lab that runs the program several times (the netcat lab), or adds arguments to its
//! command, has `[[run]]` tables, each with `name`, optional `protocol`, `args` (`{port}`
//! and `{bob}` filled in), `fallbacks` (`{ args = [...], why = "..." }`, other forms tried
//! when the first check fails) and `setup`, and its checks as `[[run.check]]`. Such a lab may
//! say that a student hands in a file of command lines, one for each run, rather than a
//! program: `commands`, with the file's name and the options that tell the runs' lines
//! apart, which must differ from run to run. The steps are in [`crate::steps`], a kind a file. Every mistake is an error naming the file
//! and the line: unknown fields, a `needs` that names no earlier check (with the checks it
//! could mean), a check name used twice, an unknown placeholder, a step that does not fit
//! its run's protocol or whose value makes no sense (a typed line holding a newline, an
//! empty expectation), points that are not whole numbers; and steps that make no sense
//! together ([`sense`]: a peer holding a server program's port, a client's peer that does
//! not listen, talk before a connection, a check that cannot fail).

pub mod sense;

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::placeholders;
use crate::script::{Check, CommandFile, Fallback, Lab, Proto, Run, Scripted};
use crate::steps::{self, Fits};

use sense::{Placed, PlacedCheck};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    summary: String,
    protocol: Spanned<String>,
    port: Spanned<toml::Value>,
    #[serde(default)]
    order: Option<u32>,
    default_program: Option<String>,
    /// What a student hands in when it is a command line for each run (activity1.sh).
    commands: Option<RawCommands>,
    /// What the program's environment has besides PATH, HOME, LANG and TERM.
    env: Option<Spanned<BTreeMap<String, String>>>,
    /// A lab of one run: its setup and checks at the top.
    #[serde(default)]
    setup: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    check: Vec<RawCheck>,
    /// A lab of several runs, or of one with arguments of its own.
    #[serde(default)]
    run: Vec<RawRun>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommands {
    file: Spanned<String>,
    options: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    name: Spanned<String>,
    protocol: Option<Spanned<String>>,
    #[serde(default)]
    args: Vec<Spanned<String>>,
    #[serde(default)]
    fallbacks: Vec<RawFallback>,
    #[serde(default)]
    setup: Vec<Spanned<toml::Table>>,
    check: Vec<RawCheck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFallback {
    args: Vec<Spanned<String>>,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Spanned<String>,
    points: Spanned<toml::Value>,
    description: String,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    steps: Vec<Spanned<toml::Table>>,
}

/// Loads the lab file `file` (named so in errors), whose text is `text`.
pub fn load(file: &str, text: &str) -> Result<Lab> {
    let at = Place { file, text };
    let raw: RawLab =
        toml::from_str(text).map_err(|e| at.error(e.span(), e.message().trim().to_string()))?;
    at.lab(raw)
}

/// Where a mistake is: the file, and the line of a span of its text.
struct Place<'a> {
    file: &'a str,
    text: &'a str,
}

impl Place<'_> {
    fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> Error {
        let start = span.map_or(0, |s| s.start.min(self.text.len()));
        let line = 1 + self.text[..start].matches('\n').count();
        Error::LabFile(format!("{}:{line}: {}", self.file, message.into()))
    }

    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> Error {
        self.error(Some(spanned.span()), message)
    }

    fn lab(&self, raw: RawLab) -> Result<Lab> {
        let name = raw.name.get_ref();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.at(&raw.name, format!("a lab's name is letters, digits and _, not {name:?}")));
        }
        let proto = self.proto(&raw.protocol)?;
        let port = raw
            .port
            .get_ref()
            .as_integer()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| self.at(&raw.port, "port is a whole number from 1 to 65535"))?;
        let env = raw.env.as_ref().map(|env| self.env(env)).transpose()?.unwrap_or_default();
        let single = !raw.check.is_empty() || !raw.setup.is_empty();
        let runs = match (single, raw.run.is_empty()) {
            (true, false) => {
                return Err(self.at(
                    &raw.name,
                    "a lab has either [[check]] (one run) or [[run]] tables with [[run.check]], not both",
                ));
            }
            (_, true) => vec![RawRun {
                name: Spanned::new(0..0, String::new()),
                protocol: None,
                args: Vec::new(),
                fallbacks: Vec::new(),
                setup: raw.setup,
                check: raw.check,
            }],
            (false, false) => raw.run,
        };
        let mut seen = Vec::new();
        let runs = runs
            .into_iter()
            .map(|run| self.run(run, proto, &mut seen))
            .collect::<Result<Vec<Run>>>()?;
        if seen.is_empty() {
            return Err(self.at(&raw.name, "the lab has no check: add [[check]] tables"));
        }
        let commands = raw
            .commands
            .map(|commands| self.commands(commands, &runs))
            .transpose()?;
        Ok(Lab {
            name: name.clone(),
            aliases: raw.aliases,
            summary: raw.summary,
            lesson_port: port,
            proto,
            order: raw.order,
            default_program: raw.default_program,
            commands,
            env,
            runs,
        })
    }

    /// The variables a lab adds to the program's environment: names as a shell takes
    /// them; HOME is the run's own folder, always.
    fn env(&self, env: &Spanned<BTreeMap<String, String>>) -> Result<Vec<(String, String)>> {
        for (name, value) in env.get_ref() {
            let shell_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !shell_name || name == "HOME" || value.contains('\0') {
                return Err(self.at(
                    env,
                    format!("env: {name:?} cannot be set for the program (a variable's name is letters, digits and _, and HOME is its own folder)"),
                ));
            }
        }
        Ok(env.get_ref().clone().into_iter().collect())
    }

    /// `[commands]`: a file name, and options that give each run a line of its own.
    fn commands(&self, raw: RawCommands, runs: &[Run]) -> Result<CommandFile> {
        let file = raw.file.get_ref();
        if file.is_empty() || file.contains('/') || !file.contains('.') {
            return Err(self.at(&raw.file, format!("commands' file is a file name with an extension (activity1.sh), not {file:?}")));
        }
        let options = raw.options.get_ref();
        if options.is_empty() || !options.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(self.at(&raw.options, format!("commands' options are the letters of the options that tell the runs' lines apart (\"lu\" for -l and -u), not {options:?}")));
        }
        let commands = CommandFile {
            file: file.clone(),
            options: options.clone(),
        };
        for (index, run) in runs.iter().enumerate() {
            let own = commands.options_in(&run.args);
            if let Some(other) = runs[..index]
                .iter()
                .find(|other| commands.options_in(&other.args) == own)
            {
                return Err(self.at(
                    &raw.options,
                    format!(
                        "runs '{}' and '{}' have the same of the options {options:?} in their args, so a line could not say which of them it is for",
                        other.name, run.name
                    ),
                ));
            }
        }
        Ok(commands)
    }

    fn proto(&self, protocol: &Spanned<String>) -> Result<Proto> {
        match protocol.get_ref().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            other => Err(self.at(protocol, format!("protocol is \"tcp\" or \"udp\", not {other:?}"))),
        }
    }

    /// One run; `seen` holds the names of the checks before it, in order.
    fn run(&self, raw: RawRun, lab_proto: Proto, seen: &mut Vec<String>) -> Result<Run> {
        let proto = match &raw.protocol {
            Some(protocol) => self.proto(protocol)?,
            None => lab_proto,
        };
        if raw.check.is_empty() {
            return Err(self.at(&raw.name, "this run has no check: add [[run.check]] tables"));
        }
        // Where each step is written, for the checks of the run as a whole below.
        let setup_spans: Vec<Range<usize>> = raw.setup.iter().map(Spanned::span).collect();
        let check_spans: Vec<(Range<usize>, Vec<Range<usize>>)> = raw
            .check
            .iter()
            .map(|c| (c.name.span(), c.steps.iter().map(Spanned::span).collect()))
            .collect();
        let args = self.args(&raw.args)?;
        let fallbacks = raw
            .fallbacks
            .into_iter()
            .map(|f| {
                Ok(Fallback {
                    args: self.args(&f.args)?,
                    why: f.why,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let setup = raw
            .setup
            .iter()
            .map(|step| {
                let scripted = self.step(step, proto)?;
                match scripted.step.role().takes_port {
                    Some(_) => Ok(scripted.step),
                    None => Err(self.at(
                        step,
                        "setup is what the harness does before the program starts: `PEER listens` or `PEER binds udp`",
                    )),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let checks = raw
            .check
            .into_iter()
            .map(|check| self.check(check, proto, seen))
            .collect::<Result<Vec<_>>>()?;
        let placed_setup: Vec<Placed> = setup
            .iter()
            .zip(&setup_spans)
            .map(|(step, span)| Placed {
                span: span.clone(),
                step,
            })
            .collect();
        let placed_checks: Vec<PlacedCheck> = checks
            .iter()
            .zip(&check_spans)
            .map(|(check, (name, steps))| PlacedCheck {
                id: &check.id,
                span: name.clone(),
                steps: check
                    .steps
                    .iter()
                    .zip(steps)
                    .map(|(scripted, span)| Placed {
                        span: span.clone(),
                        step: &scripted.step,
                    })
                    .collect(),
            })
            .collect();
        sense::check_run(&placed_setup, &placed_checks, proto)
            .map_err(|(span, why)| self.error(Some(span), why))?;
        Ok(Run {
            name: raw.name.into_inner(),
            proto,
            args,
            fallbacks,
            setup,
            checks,
        })
    }

    fn args(&self, args: &[Spanned<String>]) -> Result<Vec<String>> {
        args.iter()
            .map(|arg| {
                placeholders::check(arg.get_ref(), placeholders::IN_ARGS)
                    .map_err(|e| self.at(arg, e))?;
                if arg.get_ref().contains("{{") || arg.get_ref().contains("}}") {
                    return Err(self.at(arg, "an argument holds no braces but its placeholders"));
                }
                Ok(arg.get_ref().clone())
            })
            .collect()
    }

    fn check(&self, raw: RawCheck, proto: Proto, seen: &mut Vec<String>) -> Result<Check> {
        let id = raw.name.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.at(&raw.name, format!("a check's name is letters, digits and _, not {id:?}")));
        }
        if seen.contains(&id) {
            return Err(self.at(&raw.name, format!("there is already a check called {id}")));
        }
        let points = match raw.points.get_ref() {
            toml::Value::Integer(n) => u32::try_from(*n).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            self.at(
                &raw.points,
                format!("points are a whole number, 0 or more, not {}", raw.points.get_ref()),
            )
        })?;
        let mut needs = Vec::new();
        for need in &raw.needs {
            let need_id = need.get_ref();
            if !seen.contains(need_id) {
                return Err(self.at(need, unknown_need(&id, need_id, seen)));
            }
            needs.push(need_id.clone());
        }
        if raw.steps.is_empty() {
            return Err(self.at(&raw.name, format!("check {id} has no step")));
        }
        let steps = raw
            .steps
            .iter()
            .map(|step| self.step(step, proto))
            .collect::<Result<Vec<_>>>()?;
        seen.push(id.clone());
        Ok(Check {
            id,
            description: raw.description,
            points,
            needs,
            steps,
        })
    }

    /// One step: a table of one phrase, and maybe a hint.
    fn step(&self, table: &Spanned<toml::Table>, proto: Proto) -> Result<Scripted> {
        let mut phrase = None;
        let mut hint = None;
        for (key, value) in table.get_ref() {
            match key.as_str() {
                "hint" => {
                    hint = Some(
                        value
                            .as_str()
                            .ok_or_else(|| self.at(table, "a hint is a string"))?
                            .to_string(),
                    );
                }
                _ if phrase.is_some() => {
                    return Err(self.at(table, "one step a table: { \"alice sends\" = \"...\" }, with a hint at most"));
                }
                _ => phrase = Some((key, value)),
            }
        }
        let (key, value) = phrase.ok_or_else(|| self.at(table, "a step table needs its step: { \"alice sends\" = \"...\" }"))?;
        let (step, fits) = steps::parse(key, value).map_err(|e| self.at(table, e))?;
        if let Fits::Only(only) = fits
            && only != proto
        {
            return Err(self.at(
                table,
                format!("`{key}` is a {only} step, and this run is {proto}"),
            ));
        }
        Ok(Scripted { step, hint })
    }
}

/// Why `need` is refused, with the earlier checks it could mean.
fn unknown_need(check: &str, need: &str, earlier: &[String]) -> String {
    let mut near: Vec<&String> = earlier
        .iter()
        .filter(|e| strsim::levenshtein(e, need) <= 3)
        .collect();
    near.sort_by_key(|e| strsim::levenshtein(e, need));
    let earlier_list = if earlier.is_empty() {
        "there is no check before it".to_string()
    } else {
        format!("the checks before it are: {}", earlier.join(", "))
    };
    match near.first() {
        Some(meant) => format!(
            "check {check} needs '{need}', which is no earlier check; did you mean '{meant}'? ({earlier_list})"
        ),
        None => format!("check {check} needs '{need}', which is no earlier check ({earlier_list})"),
    }
}
