//! `program stops at end of input`: end of input on the keyboard (^D); if the program goes
//! on, Ctrl-C. It passes if either ends the program.

use crate::report::{Failure, Proto};
use crate::session::{Probe, Session, Unmet};

use super::failures::{program_gone, seconds};
use super::{Does, Fits, Kind, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["program stops at end of input"],
    fits: Fits::Any,
    parse,
};

#[derive(Debug)]
struct StopsAtEndOfInput;

fn parse(said: &Said) -> Result<Step, String> {
    said.flag()?;
    Ok(Step::new(StopsAtEndOfInput))
}

impl StepKind for StopsAtEndOfInput {
    fn phrase(&self) -> String {
        "program stops at end of input".into()
    }

    fn role(&self) -> Role {
        Role::of(&[Does::GivesInput, Does::WaitsForProgram])
    }

    fn take(&self, _: &mut SoFar, _: Proto) -> Result<(), String> {
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let expected = "the program to end on end of input (^D) or Ctrl-C";
        if s.program().ended() {
            return Err(program_gone(s, expected, "it had ended already"));
        }
        let mut last_end = None;
        for (key, name) in [(b"\x04", "^D (end of input)"), (b"\x03", "Ctrl-C")] {
            if s.program().ended() {
                break;
            }
            s.note("harness", format!("presses {name}"));
            let _ = s.give().type_bytes(key);
            let ended = s.wait_for(|s, _| {
                if s.program().exit().is_some() {
                    Probe::Ready(())
                } else {
                    Probe::Pending
                }
            });
            match ended {
                Ok(()) => return Ok(()),
                Err(end) => last_end = Some(end),
            }
        }
        s.settle_exit();
        if s.program().ended() {
            return Ok(());
        }
        let how = match last_end {
            Some(Unmet::Stuck { waiting, .. }) => format!("it was {waiting} after each"),
            _ => format!("{} each", seconds(s.timeouts().step)),
        };
        Err(Failure::new(
            expected,
            "still running",
            format!("the program went on after ^D and Ctrl-C ({how})"),
        )
        .after(s.timeouts().step * 2))
    }
}
