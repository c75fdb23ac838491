//! `program exits with`: the program exits with this status. Judged right after the
//! check's own action (a hang-up), it is that action's doing; otherwise it ends the
//! conversation before it, and counts only if that conversation took place.

use crate::escape;
use crate::reasons::{Printed, moment};
use crate::report::{Failure, ProgramExit, Proto};
use crate::session::{Output, Probe, Session};

use super::failures::{program_ended, reasoned, unmet};
use super::{Does, Fits, Kind, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["program exits with"],
    fits: Fits::Any,
    parse,
};

#[derive(Debug)]
struct ExitsWith {
    status: i32,
}

/// An exit status, a whole number from 0 to 255.
fn parse(said: &Said) -> Result<Step, String> {
    let status = said
        .value
        .as_integer()
        .filter(|n| (0..=255).contains(n))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "`{}` takes an exit status, a whole number from 0 to 255, not {}",
                said.phrase, said.value
            )
        })?;
    Ok(Step::new(ExitsWith { status }))
}

impl StepKind for ExitsWith {
    fn phrase(&self) -> String {
        "program exits with".into()
    }

    fn role(&self) -> Role {
        Role::of(&[Does::WaitsForProgram])
    }

    fn take(&self, _: &mut SoFar, _: Proto) -> Result<(), String> {
        Ok(())
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let status = self.status;
        let expected = format!("the program to exit with status {status}");
        let screen_before = s.program().output(Output::Screen).total();
        let result = s.wait_for(|s, _| match s.program().exit() {
            Some(exit) if exit == ProgramExit::Exited(status) => {
                match s.conversation().unfinished() {
                    Some(gap) => Probe::Failed(Failure::new(
                        format!("{expected}, once its conversation is over"),
                        format!("exited with {exit}"),
                        format!(
                            "the program exited, but the conversation it ends did not take place ({gap})"
                        ),
                    )),
                    None => Probe::Ready(()),
                }
            }
            Some(exit) => Probe::Failed(program_ended(
                s,
                expected.clone(),
                format!("exited with {exit}"),
            )),
            None => Probe::Pending,
        });
        result.map_err(|end| {
            let screen = s.program().output(Output::Screen);
            let printed_bytes = screen.total() - screen_before;
            if let Some(waited) = end.waited() {
                let printed = Printed {
                    bytes: printed_bytes,
                    tail: screen.tail(),
                    waited,
                };
                let language = s.evidence().language();
                if let Some(flood) = moment::flood(&printed, "exited", language) {
                    return reasoned(&expected, "still running", flood).after(waited);
                }
            }
            let mut meanwhile = String::new();
            if printed_bytes > 0 {
                let tail = screen.tail();
                let tail = &tail[tail.len().saturating_sub((printed_bytes as usize).min(40))..];
                meanwhile = format!(
                    ", printing {printed_bytes} bytes meanwhile, ending {}",
                    escape::python_bytes(tail)
                );
            }
            let missing = "the program did not exit";
            unmet(end, &expected, "still running".into(), missing, &meanwhile)
        })
    }
}
