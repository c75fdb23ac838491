//! `keyboard types`: a line typed on the program's keyboard, and Enter.

use crate::report::{Failure, Proto};
use crate::session::Session;

use super::failures::program_gone;
use super::{Does, Fits, Kind, Role, Said, SoFar, Step, StepKind};

/// The longest line a terminal takes in canonical mode, without its newline (Linux's
/// N_TTY_BUF_SIZE is 4096, the newline included).
const TYPED_LINE_MAX: usize = 4095;

pub const KIND: Kind = Kind {
    phrases: &["keyboard types"],
    fits: Fits::Any,
    parse,
};

#[derive(Debug)]
struct Types {
    line: String,
}

/// Text the terminal passes on as it is, one line, since the step presses Enter itself.
fn parse(said: &Said) -> Result<Step, String> {
    let line = said.text()?;
    if line.contains(['\n', '\r']) {
        return Err(format!(
            "{line:?}: `keyboard types` types one line and presses Enter itself, so a newline in it would type two lines as one step: write a step for each line"
        ));
    }
    if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(format!(
            "{line:?}: `keyboard types` types text, and the terminal acts on control characters such as {c:?} (^C interrupts, ^D ends input): for end of input, use `program stops at end of input`"
        ));
    }
    if line.len() > TYPED_LINE_MAX {
        return Err(format!(
            "`keyboard types` takes a line of at most {TYPED_LINE_MAX} bytes (a terminal's limit), not {}",
            line.len()
        ));
    }
    Ok(Step::new(Types { line }))
}

impl StepKind for Types {
    fn phrase(&self) -> String {
        "keyboard types".into()
    }

    fn role(&self) -> Role {
        Role::of(&[Does::GivesInput])
    }

    fn take(&self, _: &mut SoFar, _: Proto) -> Result<(), String> {
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let line = &self.line;
        let expected = format!("to type {line:?} on the program's keyboard");
        if s.program().screen_closed() {
            return Err(program_gone(s, expected, "the terminal is closed"));
        }
        let typed = s.give().type_bytes(format!("{line}\n").as_bytes());
        typed.map_err(|why| Failure::new(expected, "the keyboard was not read", why))
    }
}
