//! serv_tcp: a 1:1 chat server that uses select() over the socket and the keyboard, so that
//! either side may speak first and any number of times in a row. The lesson's program:
//!
//! ```text
//! while True:
//!   (r_sockets, w_sockets, e_sockets) = select.select([newsock, sys.stdin], [], [])
//!   if newsock in r_sockets:  data = newsock.recv(1024); if not data: break; print(data)
//!   if sys.stdin in r_sockets: s = input(); s += "\n"; newsock.send(s.encode())
//! ```
//!
//! A program that waits for the keyboard and the socket in turn (lockstep) fails the checks
//! where one side speaks twice in a row.

use crate::script::Proto;
use crate::script::*;

pub fn lab() -> Lab {
    Lab {
        name: "serv_tcp",
        aliases: &[],
        summary: "1:1 TCP chat server with select(): either side speaks any time; ends when the peer hangs up",
        lesson_port: 8000,
        proto: Proto::Tcp,
        default_program: None,
        runs: vec![Run {
            setup: vec![],
            checks: [
                super::tcp_server_opening(1),
                vec![
                    check("prints_messages", 2, "prints each message as it arrives, with nothing typed")
                        .needs(&["accepts"])
                        .step(send(ALICE, "hi, it's alice\n"))
                        .step(prints("hi, it's alice\n"))
                        .hint("nothing was typed yet: a program waiting in input() before recv() cannot show it; wait on both with select(), as the lesson does")
                        .step(send(ALICE, "are you there?\n"))
                        .step(prints("are you there?\n"))
                        .hint("the first message showed but not the second: a program that waits for the keyboard between two recv() calls cannot show it; select() lets either side come first"),
                    check("sends_typed_lines", 2, "sends each typed line with its newline, while the client is silent")
                        .needs(&["accepts"])
                        .step(type_line("hello alice"))
                        .step(receives(ALICE, "hello alice\n"))
                        .hint("a typed line must go out as soon as Enter is pressed, with its \"\\n\" added back (input() strips it); is sys.stdin in select()'s list?")
                        .step(type_line("this is bob"))
                        .step(receives(ALICE, "this is bob\n"))
                        .hint("the first line went out but not the second: a program waiting in recv() between two input() calls cannot send it; select() lets either side come first"),
                    check("chats_interleaved", 1, "keeps chatting both ways in turn")
                        .needs(&["accepts"])
                        .step(send(ALICE, "how are you?\n"))
                        .step(prints("how are you?\n"))
                        .step(type_line("fine, thanks"))
                        .step(receives(ALICE, "fine, thanks\n"))
                        .step(type_line("and you?"))
                        .step(receives(ALICE, "and you?\n"))
                        .hint("two lines typed in a row: a program that waits for the socket between two input() calls cannot send the second")
                        .step(send(ALICE, "good, bye\n"))
                        .step(prints("good, bye\n")),
                    check("exits_on_hangup", 2, "exits with status 0 when the client hangs up")
                        .needs(&["accepts"])
                        .step(hang_up(ALICE))
                        .step(exits_with(0))
                        .hint("when the client hangs up, recv() returns b'' (no bytes): leave the loop then (if not data: break), close the socket and exit"),
                ],
            ]
            .concat(),
            ..Run::default()
        }],
    }
}
