//! serv_simple: a TCP server socket (bind, listen, accept), as in the lesson's sample run:
//!
//! ```text
//! ~$ ./serv_simple.py                          ~$ nc 127.0.0.1 8000
//! connection from ('127.0.0.1', 54214)         Hello!
//! b'Hello!\n'                                  hello back
//! hello back
//! ```
//!
//! The harness plays `nc` as Alice (111.111.111.111), connecting to Bob (222.222.222.222); the program's keyboard types `hello back`.

use crate::script::Proto;
use crate::script::*;

pub fn lab() -> Lab {
    Lab {
        name: "serv_simple",
        aliases: &[],
        summary: "TCP server: accept, print the peer, print what it sent, reply a typed line, close",
        lesson_port: 8000,
        proto: Proto::Tcp,
        default_program: None,
        runs: vec![Run {
            setup: vec![],
            checks: [
                super::tcp_server_opening(2),
                vec![
                    check("prints_message", 2, "prints the message the client sent")
                        .needs(&["accepts"])
                        .step(send(ALICE, "Hello!\n"))
                        .step(prints("Hello!\n")),
                    check("sends_typed_line", 2, "sends the line typed on its keyboard, and nothing else")
                        .needs(&["accepts"])
                        .step(type_line("hello back"))
                        .step(receives_line(ALICE, "hello back"))
                        .hint("send exactly the typed line: input() gives it without its newline; send s.encode() and nothing else"),
                    check("closes_connection", 1, "closes the connection")
                        .needs(&["accepts"])
                        .step(sees_end_of_stream(ALICE))
                        .hint("close the connection once the reply is sent: newsock.close()"),
                    check("exits_cleanly", 1, "exits with status 0")
                        .step(exits_with(0)),
                ],
            ]
            .concat(),
            ..Run::default()
        }],
    }
}
