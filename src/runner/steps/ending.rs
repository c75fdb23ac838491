//! How the program ends: `exits_with` a status, and `stops_at_end_of_input` (^D, then
//! Ctrl-C).

use crate::escape;
use crate::report::{Failure, ProgramExit};
use crate::session::{Probe, Session, Unmet};

use super::{program_gone, seconds, unmet};

/// The program exits with `status`. Judged right after the check's own action (a hang-up),
/// it is that action's doing; otherwise it ends the conversation before it, and counts only
/// if that conversation took place.
pub fn exits_with(s: &mut Session, status: i32) -> Result<(), Failure> {
    let expected = format!("the program to exit with status {status}");
    let screen_before = s.program.screen.total();
    let result = s.wait_for(|s, _| match s.program.exit {
        Some(exit) if exit == ProgramExit::Exited(status) => match s.conversation.unfinished() {
            Some(gap) => Probe::Failed(Failure {
                expected: format!("{expected}, once its conversation is over"),
                got: format!("exited with {exit}"),
                message: format!(
                    "the program exited, but the conversation it ends did not take place ({gap})"
                ),
                ..Failure::default()
            }),
            None => Probe::Ready(()),
        },
        Some(exit) => Probe::Failed(Failure {
            expected: expected.clone(),
            got: format!("exited with {exit}"),
            message: s.program.how_ended(),
            ..Failure::default()
        }),
        None => Probe::Pending,
    });
    result.map_err(|end| {
        let printed_bytes = s.program.screen.total() - screen_before;
        let mut meanwhile = String::new();
        if printed_bytes > 0 {
            let tail = s.program.screen.tail();
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

/// End of input on the keyboard (^D); if the program goes on, Ctrl-C. It passes if either
/// ends the program.
pub fn stops_at_end_of_input(s: &mut Session) -> Result<(), Failure> {
    let expected = "the program to end on end of input (^D) or Ctrl-C".to_string();
    if s.program.ended() {
        return Err(program_gone(s, expected, "it had ended already".into()));
    }
    let mut last_end = None;
    for (key, name) in [(b"\x04", "^D (end of input)"), (b"\x03", "Ctrl-C")] {
        if s.program.ended() {
            break;
        }
        s.note("harness", format!("presses {name}"));
        let _ = s.type_bytes(key);
        let ended = s.wait_for(|s, _| {
            if s.program.exit.is_some() {
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
    if s.program.ended() {
        return Ok(());
    }
    let how = match last_end {
        Some(Unmet::Stuck { waiting, .. }) => format!("it was {waiting} after each"),
        _ => format!("{} each", seconds(s.timeouts().step)),
    };
    Err(Failure {
        expected,
        got: "still running".into(),
        message: format!("the program went on after ^D and Ctrl-C ({how})"),
        waited: Some(s.timeouts().step * 2),
        program_gone: false,
    })
}
