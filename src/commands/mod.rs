//! A file of commands: what a student hands in for a lab whose program is a tool run with
//! the lesson's command lines, one line for each of the lab's runs (Activity 1's
//! `activity1.sh`: `nc -lnv 9000`, `nc 222.222.222.222 9000`, `nc -ulnv 9000`,
//! `nc -u 222.222.222.222 9000`). A lab says so with `commands` in its lab file. The rules:
//!
//! - One command a line, as typed at a terminal, in any order; blank lines and `#` comments
//!   are ignored.
//! - A line is for the run whose `args` have the same of the lab's telling options (`-l` and
//!   `-u` for the netcat lab): `nc -lnv 9000` has `-l` and not `-u`, so it is the TCP
//!   listener's. The first line for a run is graded; a later one is said in a notice.
//! - A run without a line loses its own checks and no others.
//! - Bob's address as the lesson writes it (222.222.222.222), or as a student with both
//!   terminals on one machine does (127.0.0.1, localhost), becomes Bob's address wherever the
//!   run happens. Any other IP address loses the run: in the run's own network it might
//!   reach the harness, on the host's loopback never, and a verdict must not depend on where
//!   it was graded.
//! - No shell: a line with `|`, `;`, `&`, `<`, `>`, `$` or a backquote loses its run.
//! - The line's program is found on PATH (the grading machine's `nc`, as the student's own
//!   terminal would). One that is not there loses its run, unless it is the lab's own
//!   program (`nc`), whose absence is the machine's: socklab cannot grade (exit 2).
//!
//! [`grade`] runs each line against the harness as the lab's run would run its program.

mod grade;

pub use grade::grade;

use std::net::IpAddr;
use std::path::Path;

use crate::error::{Error, Result};
use crate::placeholders::{self, IN_ARGS, Placeholder};
use crate::sandbox::netns::BOB_IP;
use crate::script::{CommandFile, Lab, Run};


/// What a student may call Bob's host: the lesson's address, or this machine.
fn names_bob(word: &str) -> bool {
    word == BOB_IP.to_string() || word == "127.0.0.1" || word == "localhost"
}

/// A file of commands, read against a lab.
#[derive(Debug, Clone)]
pub struct Handed {
    /// The file as the user named it.
    pub file: String,
    /// The line for each run that has one.
    pub lines: Vec<RunLine>,
    /// What the report should say about the file (a second line for a run).
    pub notices: Vec<String>,
}

/// The line a run is graded by.
#[derive(Debug, Clone)]
pub struct RunLine {
    /// The run's name.
    pub run: String,
    /// Its number in the file, from 1.
    pub number: usize,
    /// As written.
    pub text: String,
    /// The program and its arguments, Bob's address as `{bob}`; or why the line cannot run.
    pub words: std::result::Result<Vec<String>, String>,
}

impl RunLine {
    /// `line 3 (nc -ulnv 9000)`.
    pub fn shown(&self) -> String {
        format!("line {} (`{}`)", self.number, self.text)
    }
}

/// The lab's commands file, if `file` is one (it has the same extension as `activity1.sh`).
pub fn commands_file<'a>(file: &Path, lab: &'a Lab) -> Option<&'a CommandFile> {
    let commands = lab.commands.as_ref()?;
    let extension = Path::new(&commands.file).extension();
    (file.extension() == extension).then_some(commands)
}

impl Handed {
    /// Reads `file` as the lines for `lab`'s runs.
    pub fn read(file: &Path, lab: &Lab, commands: &CommandFile) -> Result<Handed> {
        let bytes = std::fs::read(file).map_err(Error::io(format!("reading {}", file.display())))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut handed = Handed {
            file: file.display().to_string(),
            lines: Vec::new(),
            notices: Vec::new(),
        };
        for (index, line) in text.lines().enumerate() {
            let text = line.trim();
            let split = shlex::split(text);
            let words: Vec<String> = match &split {
                Some(words) => words.clone(),
                None => text.split_whitespace().map(String::from).collect(),
            };
            let Some((_, args)) = words.split_first() else {
                continue;
            };
            let options = commands.options_in(args);
            let Some(run) = lab.runs.iter().find(|r| commands.options_in(&r.args) == options)
            else {
                continue;
            };
            let line = RunLine {
                run: run.name.clone(),
                number: index + 1,
                text: text.to_string(),
                words: match split {
                    Some(_) => runnable(words),
                    None => Err("it has a quote that is not closed".into()),
                },
            };
            match handed.line_for(&run.name) {
                Some(first) => handed.notices.push(format!(
                    "{} is a second command for '{}': {} is the one graded",
                    line.shown(),
                    run.name,
                    first.shown()
                )),
                None => handed.lines.push(line),
            }
        }
        Ok(handed)
    }

    /// The line for the run called `run`.
    pub fn line_for(&self, run: &str) -> Option<&RunLine> {
        self.lines.iter().find(|l| l.run == run)
    }
}

/// The words with Bob's address as `{bob}`, or why they cannot run as they are.
fn runnable(words: Vec<String>) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(words.len());
    for (index, word) in words.into_iter().enumerate() {
        if word.contains(['|', ';', '&', '<', '>', '$', '`']) {
            return Err(format!(
                "`{word}` is shell syntax, and each line is run as one command, without a shell"
            ));
        }
        if index > 0 && names_bob(&word) {
            // Filled in by the run, with Bob's address there.
            out.push(Placeholder::Bob.written());
            continue;
        }
        if index > 0
            && let Ok(ip) = word.parse::<IpAddr>()
            && !ip.is_unspecified()
        {
            return Err(format!(
                "{word} is not Bob's address: write {BOB_IP} as the lesson does (or 127.0.0.1, both terminals on one machine)"
            ));
        }
        out.push(word);
    }
    Ok(out)
}

/// The lesson's command for `run` (`nc -ulnv 9000`), for a report.
pub fn lesson_command(lab: &Lab, run: &Run) -> String {
    lab.default_program
        .iter()
        .chain(&run.args)
        .map(|a| {
            placeholders::replace(a, IN_ARGS, |p| match p {
                Placeholder::Port => Some(lab.lesson_port.to_string()),
                Placeholder::Bob => Some(BOB_IP.to_string()),
                Placeholder::PeerIp(_) | Placeholder::PeerPort(_) => None,
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Handed {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("activity1.sh");
        std::fs::write(&file, text).unwrap();
        let lab = crate::labs::find("netcat").unwrap();
        Handed::read(&file, &lab, lab.commands.as_ref().unwrap()).unwrap()
    }

    fn words(handed: &Handed, run: &str) -> std::result::Result<Vec<String>, String> {
        handed.line_for(run).map(|l| l.words.clone()).unwrap_or(Err("none".into()))
    }

    /// Each line goes to the run of its -l and -u, whatever the order; Bob's names become
    /// `{bob}`; comments and blank lines are no commands.
    #[test]
    fn lines_go_to_their_runs_by_their_options() {
        let handed = read(
            "#!/bin/sh\n# Activity 1\n\nnc -u localhost 9000   # Alice, UDP\nnc -vnl 9000\nnc 127.0.0.1 9000\nnc -ulnv 9000\n",
        );
        let w = |run| words(&handed, run).unwrap().join(" ");
        assert_eq!(w("TCP, listening as Bob"), "nc -vnl 9000");
        assert_eq!(w("TCP, connecting as Alice"), "nc {bob} 9000");
        assert_eq!(w("UDP, listening as Bob"), "nc -ulnv 9000");
        assert_eq!(w("UDP, sending as Alice"), "nc -u {bob} 9000");
        assert_eq!(handed.line_for("UDP, sending as Alice").unwrap().number, 4);
        assert!(handed.notices.is_empty(), "{:?}", handed.notices);
    }

    /// A UDP listener written without -u is a second TCP listener: the first is graded, the
    /// notice says so, and the UDP listener has no line.
    #[test]
    fn a_second_line_for_a_run_is_said_and_not_graded() {
        let handed = read("nc -lnv 9000\nnc -lnv 9000\n");
        assert_eq!(handed.line_for("TCP, listening as Bob").unwrap().number, 1);
        assert!(handed.line_for("UDP, listening as Bob").is_none());
        assert_eq!(
            handed.notices,
            ["line 2 (`nc -lnv 9000`) is a second command for 'TCP, listening as Bob': line 1 (`nc -lnv 9000`) is the one graded"]
        );
    }

    /// Another address than Bob's, shell syntax and an open quote cannot run.
    #[test]
    fn lines_that_cannot_run_say_why() {
        let handed = read("nc 111.111.111.111 9000\nnc -lnv 9000 | tee log\nnc -u 'localhost 9000\nnc -l 0.0.0.0 9000 -u\n");
        let why = |run| words(&handed, run).unwrap_err();
        assert!(why("TCP, connecting as Alice").starts_with("111.111.111.111 is not Bob's address"));
        assert!(why("TCP, listening as Bob").contains("`|` is shell syntax"));
        assert_eq!(why("UDP, sending as Alice"), "it has a quote that is not closed");
        assert_eq!(
            words(&handed, "UDP, listening as Bob").unwrap().join(" "),
            "nc -l 0.0.0.0 9000 -u"
        );
    }

    /// A lab file whose commands' options would leave two runs with the same line, or
    /// whose file has no extension to know it by, is refused with the line.
    #[test]
    fn commands_that_cannot_tell_runs_apart_are_refused() {
        let text = crate::labs::built_in_text("netcat").unwrap();
        let load = |from: &str, to: &str| {
            assert!(text.contains(from));
            crate::labfile::load("netcat.toml", &text.replacen(from, to, 1)).unwrap_err().to_string()
        };
        let line = 1 + text.lines().position(|l| l.starts_with("commands")).unwrap();
        assert_eq!(
            load("options = \"lu\"", "options = \"l\""),
            format!("lab file netcat.toml:{line}: runs 'TCP, listening as Bob' and 'UDP, listening as Bob' have the same of the options \"l\" in their args, so a line could not say which of them it is for")
        );
        assert!(load("\"activity1.sh\"", "\"activity1\"").contains("a file name with an extension"));
    }

    #[test]
    fn the_lessons_command_for_a_run() {
        let lab = crate::labs::find("netcat").unwrap();
        let shown: Vec<String> = lab.runs.iter().map(|r| lesson_command(&lab, r)).collect();
        assert_eq!(
            shown,
            [
                "nc -lnv 9000",
                "nc 222.222.222.222 9000",
                "nc -ulnv 9000",
                "nc -u 222.222.222.222 9000"
            ]
        );
    }
}
