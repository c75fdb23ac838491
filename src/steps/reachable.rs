//! `program is reachable at bob`: the program can be reached at Bob's address, as from
//! another host: it did not bind 127.0.0.1 only. Judged where [`super::connect`] or
//! [`super::binds_udp`] reached it.

use crate::report::{Failure, Proto};
use crate::session::{Reached, Session};

use super::{Does, Fits, Kind, Role, Said, SoFar, Step, StepKind};

pub const KIND: Kind = Kind {
    phrases: &["program is reachable at bob"],
    fits: Fits::Any,
    parse,
};

#[derive(Debug)]
struct Reachable;

fn parse(said: &Said) -> Result<Step, String> {
    said.flag()?;
    Ok(Step::new(Reachable))
}

impl StepKind for Reachable {
    fn phrase(&self) -> String {
        "program is reachable at bob".into()
    }

    fn role(&self) -> Role {
        Role::of(&[Does::WaitsForProgram, Does::Serves])
    }

    fn take(&self, so_far: &mut SoFar, proto: Proto) -> Result<(), String> {
        let reached = match proto {
            Proto::Tcp => !so_far.connected.is_empty(),
            Proto::Udp => so_far.program_bound,
        };
        if reached {
            Ok(())
        } else {
            Err(format!(
                "`program is reachable at bob` judges where the program was reached: put {} before it",
                match proto {
                    Proto::Tcp => "`alice connects`",
                    Proto::Udp => "`program binds udp`",
                }
            ))
        }
    }

    fn run(&self, s: &mut Session) -> Result<(), Failure> {
        let bob = s.place().hosts().bob;
        let port = s.place().port();
        match s.place().reached() {
            Some(Reached {
                from_other_hosts: true,
                ..
            }) => Ok(()),
            Some(Reached { at, .. }) => Err(Failure::new(
                format!("the program reachable at bob's address {bob}, port {port}"),
                format!("it listens on {at} only"),
                format!(
                    "bound to {at}: only this host can connect; bind 0.0.0.0 as in the lesson (the other checks went on over {at})"
                ),
            )),
            None => Err(Failure::new(
                format!("the program reachable at bob's address {bob}"),
                "it was never reached",
                "the harness never reached the program",
            )),
        }
    }
}
